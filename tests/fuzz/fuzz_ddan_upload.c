/* fuzz_ddan_upload.c - DDAN's upload_sample archive reader (ddan_upload.c):
 * the tgz/zip of <SHA1>.meta/.log/.dat members and the meta line's fields. */
#include <stdlib.h>

#include "fuzz.h"
#include "ddan/ddan.h"

static const char *const keys[] = {"SampleType", "OrigFileName", "Archpassword", "ClientUUID",
				   "SourceID", "SampleFileSHA1", "SampleFileExist"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddan_upload u;
	if (ddan_upload_parse(data, size, 1 << 16, &u, NULL) != 0)
		return 0;
	for (size_t i = 0; i < u.n; i++)
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			free(ddan_meta_get(u.items[i].meta, keys[k]));
	ddan_upload_free(&u);
	return 0;
}
