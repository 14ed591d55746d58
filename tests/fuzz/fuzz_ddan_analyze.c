/* fuzz_ddan_analyze.c - DDAN's analyser (ddan_rules.c): the archive, URL and
 * file paths of ddan_analyze with the built-in rules. The first byte picks
 * a file or a URL sample and whether the sample's name is given; then the
 * name (up to a NUL), then the sample. */
#include <stdlib.h>

#include "fuzz.h"
#include "ddan/ddan_rules.h"

static ddan_rules *rules;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules && !(rules = ddan_rules_load(NULL, NULL)))
		abort();
	fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	char *name = fuzz_field(&in);
	char *password = mode & 4 ? fuzz_field(&in) : NULL;
	json_t *r = ddan_analyze(rules, mode & 1, in.p, in.left, mode & 2 ? name : NULL, password);
	if (!r || !json_is_integer(json_object_get(r, "status")) ||
	    !json_is_array(json_object_get(r, "objects")))
		abort(); /* an analysis always has a result in its documented shape */
	json_decref(r);
	free(password);
	free(name);
	return 0;
}
