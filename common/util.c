/* util.c - checked allocation, string buffers, time, UUIDs, wildcards and
 * whole-file helpers shared by every module. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "log.h"
#include "util.h"

/* Nothing that may allocate: not the logger's formatting, not stdio. */
void oom_abort(void)
{
	static const char line[] = "level=error event=oom msg=\"out of memory\"\n";
	if (write(STDERR_FILENO, line, sizeof line - 1) < 0) {
		/* nowhere left to report it */
	}
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom_abort();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom_abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom_abort();
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	sbuf b = {0};
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	b.data = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.data;
}

void sbuf_put_int(sbuf *b, int64_t n)
{
	char num[24], *p = num + sizeof num;
	/* digits from the end; unsigned, so INT64_MIN negates */
	uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		*--p = '-';
	sbuf_append(b, p, (size_t)(num + sizeof num - p));
}

uint64_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void sbuf_reserve(sbuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void sbuf_append(sbuf *b, const void *data, size_t len)
{
	sbuf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void sbuf_puts(sbuf *b, const char *s)
{
	sbuf_append(b, s, strlen(s));
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *sbuf_detach(sbuf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void sbuf_free(sbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t time_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static char *two_digits(char *p, int v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* Written digit by digit: a log page formats one per row, and strftime is
 * most of a row's cost there. Years outside 0-9999 keep strftime's form. */
void time_iso8601(int64_t ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999 || outlen < 21) {
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	char *p = two_digits(two_digits(out, year / 100), year % 100);
	*p++ = '-';
	p = two_digits(p, tm.tm_mon + 1);
	*p++ = '-';
	p = two_digits(p, tm.tm_mday);
	*p++ = 'T';
	p = two_digits(p, tm.tm_hour);
	*p++ = ':';
	p = two_digits(p, tm.tm_min);
	*p++ = ':';
	p = two_digits(p, tm.tm_sec);
	*p++ = 'Z';
	*p = '\0';
}

/* Parse "+hh:mm", "+hhmm", "Z" or "" into seconds east of UTC. */
static int parse_offset(const char *s, long *secs)
{
	int hh, mm = 0;
	*secs = 0;
	if (*s == '\0' || strcmp(s, "Z") == 0 || strcmp(s, "z") == 0)
		return 0;
	if ((*s != '+' && *s != '-') || strlen(s) < 3)
		return -1;
	if (sscanf(s + 1, "%2d:%2d", &hh, &mm) < 1 && sscanf(s + 1, "%2d%2d", &hh, &mm) < 1)
		return -1;
	*secs = (hh * 3600L + mm * 60L) * (*s == '-' ? -1 : 1);
	return 0;
}

static int bad_time(const char *s, ctd_err *err)
{
	return ctd_fail(err, CTD_EINVAL, "not a time: %s (ISO 8601 or epoch seconds)", s);
}

int time_parse(const char *s, int64_t *ms_out, ctd_err *err)
{
	struct tm tm = {0};
	const char *rest;
	char *end;
	long off;

	if (!s || !*s)
		return ctd_fail(err, CTD_EINVAL, "empty time");
	long long num = strtoll(s, &end, 10);
	if (*end == '\0') {
		*ms_out = num > 100000000000LL ? num : num * 1000; /* ms or s */
		return 0;
	}
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!rest) {
		memset(&tm, 0, sizeof tm);
		rest = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!rest)
		return bad_time(s, err);
	int frac_ms = 0;
	if (*rest == '.') {
		frac_ms = (int)(strtod(rest, &end) * 1000);
		rest = end;
	}
	if (parse_offset(rest, &off) < 0)
		return bad_time(s, err);
	*ms_out = ((int64_t)timegm(&tm) - off) * 1000 + frac_ms;
	return 0;
}

static int bad_duration(const char *s, ctd_err *err)
{
	return ctd_fail(err, CTD_EINVAL, "not a duration: %s (like 250ms, 5s, 2m, 1h, 30d)", s);
}

int duration_parse(const char *s, int64_t *ms_out, ctd_err *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
		     {"", 1000}};
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return bad_duration(s, err);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*ms_out = (int64_t)(v * units[i].ms + 0.5);
			return 0;
		}
	}
	return bad_duration(s, err);
}

void uuid_v4(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		fatal("uuid.random", "reason=%s", "RAND_bytes failed");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

void str_upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int wildcard_match(const char *p, const char *t)
{
	const char *star = NULL, *resume = NULL;
	while (*t) {
		if (*p == '*') {
			star = p++;
			resume = t;
		} else if (*p == '?' || tolower((unsigned char)*p) == tolower((unsigned char)*t)) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* The errno of a failed file operation as the error vocabulary. */
static int file_fail(ctd_err *err, const char *what, const char *path)
{
	int e = errno;
	return ctd_fail(err, e == ENOENT ? CTD_ENOTFOUND : CTD_EIO, "%s %s: %s", what, path,
			strerror(e));
}

int file_read(const char *path, char **data, size_t *len, ctd_err *err)
{
	FILE *f = fopen(path, "rb");
	sbuf b = {0};
	char chunk[65536];
	size_t n;
	if (!f)
		return file_fail(err, "cannot open", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_append(&b, chunk, n);
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		sbuf_free(&b);
		return ctd_fail(err, CTD_EIO, "cannot read %s", path);
	}
	if (len)
		*len = b.len;
	*data = sbuf_detach(&b);
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, int mode, ctd_err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int rc = fd < 0 ? file_fail(err, "cannot create", tmp) : 0;
	if (fd >= 0) {
		if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
			rc = file_fail(err, "cannot write", tmp);
		if (close(fd) != 0 && rc == 0)
			rc = file_fail(err, "cannot write", tmp);
		if (rc == 0 && rename(tmp, path) != 0)
			rc = file_fail(err, "cannot rename to", path);
		if (rc != 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

int mkdir_p(const char *path, int mode, ctd_err *err)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; *s && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
			rc = file_fail(err, "cannot create directory", p);
		*s = '/';
	}
	if (rc == 0 && mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
		rc = file_fail(err, "cannot create directory", p);
	free(p);
	return rc;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf5 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	uint32_t cp = s[0] & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *utf8_sanitize(const char *s)
{
	if (!s)
		return xstrdup("");
	size_t n = strlen(s);
	sbuf out = {0};
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, n - i);
		if (len)
			sbuf_append(&out, s + i, len);
		else
			sbuf_puts(&out, "\xef\xbf\xbd"); /* U+FFFD */
		i += len ? len : 1;
	}
	return sbuf_detach(&out);
}

int pid_alive(int pid)
{
	char path[64], state = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	/* The state follows the parenthesised command name, which may hold spaces. */
	char line[512];
	if (fgets(line, sizeof line, f)) {
		char *close_paren = strrchr(line, ')');
		if (close_paren && close_paren[1] == ' ')
			state = close_paren[2];
	}
	fclose(f);
	return state != 0 && state != 'Z' && state != 'X';
}
