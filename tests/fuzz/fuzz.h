/* fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share: the entry point
 * libFuzzer calls, and a reader that cuts one input into fields and chunks,
 * so a harness can drive a parser with several strings or with the same
 * bytes delivered in pieces of fuzzer-chosen sizes. */
#ifndef CTD_FUZZ_H
#define CTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_in {
	const uint8_t *p;
	size_t left;
} fuzz_in;

/* One byte (0 when the input is used up). */
static inline unsigned fuzz_byte(fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* The next piece of at most `max` bytes (its length from one input byte, 0
 * meaning "the rest up to max"); *len gets its length. */
static inline const uint8_t *fuzz_chunk(fuzz_in *in, size_t max, size_t *len)
{
	size_t want = fuzz_byte(in);
	if (want == 0 || want > max)
		want = max;
	if (want > in->left)
		want = in->left;
	const uint8_t *p = in->p;
	in->p += want;
	in->left -= want;
	*len = want;
	return p;
}

/* The next field: the bytes up to a NUL (or the end), as a C string valid
 * while the input is; copies into a malloc'd string. */
char *fuzz_field(fuzz_in *in);

#endif
