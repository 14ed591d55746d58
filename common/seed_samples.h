/* seed_samples.h - the harmless seed samples of the walkthrough ("Sample SO",
 * "Sample SO2", the URL test file). They are "malicious" only by the lab's
 * rules; dtascli --make-samples writes them, DDI's download site serves them
 * and tests of every appliance use them. They live in libctd because more
 * than one appliance hands them out. */
#ifndef CTD_SEED_SAMPLES_H
#define CTD_SEED_SAMPLES_H

#include <stddef.h>

/* The URL the URL test file carries; DDAN makes it a High URL SO. */
#define SEED_URL "http://malicious.ctdlab.test/payload"

typedef struct seed_sample {
	const char *id;        /* "sample_so", "sample_so2", "url_test" */
	const char *title;     /* as the walkthrough names it */
	const char *file_name; /* suggested file name */
	const char *data;
	size_t len;
} seed_sample;

const seed_sample *seed_samples_all(size_t *n);
/* By id; NULL if unknown. */
const seed_sample *seed_sample_get(const char *id);

#endif
