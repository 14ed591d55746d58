/* ddan_samples.h - the harmless seed samples of the walkthrough ("Sample SO",
 * "Sample SO2", the URL test file). They are "malicious" only by the lab's
 * rules; dtascli --make-samples writes them and tests of every appliance can
 * use them (all test programs link libddan). */
#ifndef DDAN_SAMPLES_H
#define DDAN_SAMPLES_H

#include <stddef.h>

/* The URL the URL test file carries; DDAN makes it a High URL SO. */
#define DDAN_SEED_URL "http://malicious.ctdlab.test/payload"

typedef struct ddan_seed_sample {
	const char *id;        /* "sample_so", "sample_so2", "url_test" */
	const char *title;     /* as the walkthrough names it */
	const char *file_name; /* suggested file name */
	const char *data;
	size_t len;
} ddan_seed_sample;

const ddan_seed_sample *ddan_seed_samples(size_t *n);
/* By id; NULL if unknown. */
const ddan_seed_sample *ddan_seed_sample_get(const char *id);

#endif
