/* seed_samples.c - the walkthrough's seed samples, harmless by construction:
 * two fake "executables" (an MZ signature and text, no code) carrying the
 * lab's high-risk marker, and an HTML page linking the lab's malicious URL. */
#include "seed_samples.h"

#include <string.h>

#define MZ_HEAD "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"

static const char sample_so[] =
	MZ_HEAD "This program cannot be run in DOS mode.\r\n"
	"ctdlab Sample SO - a harmless lab file, not a program.\r\n"
	"CTDLAB-RISK-HIGH\r\n";

static const char sample_so2[] =
	MZ_HEAD "This program cannot be run in DOS mode.\r\n"
	"ctdlab Sample SO2 - a harmless lab file, not a program (STEP 3, DDI).\r\n"
	"CTDLAB-RISK-HIGH\r\n";

static const char url_test[] =
	"<!DOCTYPE html>\n<html><head><title>ctdlab URL test file</title></head>\n"
	"<body><p>ctdlab URL test file (STEP 4): harmless; the lab's rules rate its link "
	"High.</p>\n<p><a href=\"" SEED_URL "\">" SEED_URL "</a></p></body></html>\n";

/* sizeof - 1: the MZ header holds NUL bytes, so strlen would stop early */
static const seed_sample samples[] = {
	{"sample_so", "Sample SO", "sample_so.exe", sample_so, sizeof sample_so - 1},
	{"sample_so2", "Sample SO2", "sample_so2.exe", sample_so2, sizeof sample_so2 - 1},
	{"url_test", "URL test file", "url_test.html", url_test, sizeof url_test - 1},
};

const seed_sample *seed_samples_all(size_t *n)
{
	*n = sizeof samples / sizeof samples[0];
	return samples;
}

const seed_sample *seed_sample_get(const char *id)
{
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		if (strcmp(samples[i].id, id) == 0)
			return &samples[i];
	return NULL;
}
