/* fuzz_imsva_mime.c - IMSVA's MIME and archive scan (imsva_mime*.c,
 * imsva_scan.c): one message parsed with GMime, its parts typed, archives
 * opened, URLs pulled out, then both scan engines over it. */
#include <stdlib.h>

#include "fuzz.h"
#include "imsva/imsva_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	imsva_msg *m = NULL;
	if (imsva_msg_parse((const char *)data, size, &m, NULL) != 0)
		abort(); /* only a resource error may fail it */
	imsva_scan_opts o = {.atse_enabled = 1};
	imsva_scan(m, &o);
	imsva_msg_attachment_count(m);
	imsva_msg_free(m);
	return 0;
}
