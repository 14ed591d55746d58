/* fuzz_sofeed.c - the SO feed reader (common/sofeed.c) every consumer runs
 * over DDAN's, DDI's and TMCM's get_black_lists pages; each record's fields
 * are read as a consumer reads them. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sofeed.h"

static int use_record(const so_record *r, void *cls)
{
	size_t *total = cls;
	*total += strlen(r->type) + strlen(r->value ? r->value : "") + strlen(r->risk) +
		  strlen(r->source ? r->source : "") + strlen(r->related_sha1) +
		  strlen(r->action) + (size_t)r->removed;
	return *total > (1u << 30) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t last = 0;
	int more = 0;
	size_t total = 0;
	sofeed_parse((const char *)data, size, use_record, &total, &last, &more, NULL);
	return 0;
}
