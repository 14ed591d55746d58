/* tmcm_time.c - times as Automation API clients send them
 * (expiration_utc_date: "2020-01-25T09:00:00Z", "...T12:26:49.753",
 * "...T12:00:00.123456+00:00", "YYYY-MM-DDTHH:MMZ", zone-less) and as the
 * UDSO list shows them (zone-less UTC, reference §2.1). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tmcm.h"

/* "2020-01-25T09:00:00Z", "2021-03-26T12:26:49.753", "2025-01-01T12:00:00.123456+00:00",
 * "2024-05-01T10:00Z", "2024-05-01 10:00:00", "2024-05-01". */
int tmcm_parse_utc(const char *s, int64_t *ms)
{
	*ms = 0;
	if (!s || !*s)
		return 0;
	struct tm tm = {0};
	int n = 0, y, mo, d, h = 0, mi = 0, sec = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	const char *p = s + n;
	double frac = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
			return -1;
		p += 1 + n;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &sec, &n) != 1)
				return -1;
			p += 1 + n;
			if (*p == '.') {
				char *end;
				frac = strtod(p, &end);
				p = end;
			}
		}
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om = 0, sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 ||
		    sscanf(p + 1, "%2d%2d%n", &oh, &om, &n) == 2 ||
		    (om = 0, sscanf(p + 1, "%2d%n", &oh, &n) == 1))
			p += 1 + n;
		else
			return -1;
		offset_min = sign * (oh * 60 + om);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + (int64_t)(frac * 1000.0 + 0.5);
	return 0;
}

void tmcm_format_utc(int64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
}
