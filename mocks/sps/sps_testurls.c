/* sps_testurls.c - the built-in ratings: Trend Micro's public WRS test pages
 * (wrsNN.winshipway.com, NN being the page's WRS score) and the score bands
 * Trend publishes (KA-0002026: 0-50 Dangerous, 51-65 Highly Suspicious,
 * 66-80 Suspicious, 81-100 Safe, 71 = untested). The category names are ours. */
#include <string.h>
#include <strings.h>
#include "sps.h"

static const sps_testurl testurls[] = {
	{"wrs21.winshipway.com", 21, "WRS Test Page"},
	{"wrs49.winshipway.com", 49, "WRS Test Page"},
	{"wrs65.winshipway.com", 65, "WRS Test Page"},
	{"wrs70.winshipway.com", 70, "WRS Test Page"},
	{"wrs71.winshipway.com", 71, "WRS Test Page"},
	{"wrs81.winshipway.com", 81, "WRS Test Page"},
};

const sps_testurl *sps_testurl_find(const char *host)
{
	for (size_t i = 0; i < sizeof testurls / sizeof testurls[0]; i++)
		if (strcasecmp(testurls[i].host, host) == 0)
			return &testurls[i];
	return NULL;
}

const char *sps_rating_for_score(int score)
{
	if (score == 71)
		return "Unrated";
	if (score <= 50)
		return "Dangerous";
	if (score <= 65)
		return "Highly Suspicious";
	if (score <= 80)
		return "Suspicious";
	return "Safe";
}
