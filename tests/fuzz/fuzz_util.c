/* fuzz_util.c - fuzz.h's field reader, linked into every harness. */
#include <string.h>

#include "fuzz.h"
#include "util.h"

char *fuzz_field(fuzz_in *in)
{
	if (!in->left)
		return xstrdup("");
	const uint8_t *end = memchr(in->p, 0, in->left);
	size_t n = end ? (size_t)(end - in->p) : in->left;
	char *s = xstrndup((const char *)in->p, n);
	size_t used = end ? n + 1 : n;
	in->p += used;
	in->left -= used;
	return s;
}
