/* tl_dtas.c - the tests' DTAS product client: register, upload a sample,
 * wait for the verdict (see tl_dtas.h). */
#include <check.h>
#include "testlib.h"
#include "tl_dtas.h"

#define DTAS_DONE 4 /* get_brief_report STATUS of an analysed sample */

void tl_dtas_client(dtas_client *c, const char *url, const char *key)
{
	dtas_client_spec spec = {.base_url = url, .api_key = key,
				 .client_uuid = "5A5A5A5A-0000-4000-8000-000000000001",
				 .product_name = "IMSVA", .hostname = "imsva.lab", .source_id = "103",
				 .source_name = "IMSVA"};
	dtas_client_init(c, &spec);
	ctd_err err = {0};
	ck_assert_msg(dtas_register(c, &err) == 0, "register at %s: %s", url, err.msg);
}

void tl_ddan_upload(const dtas_client *c, const void *data, size_t len, const char *name,
		    char sha1[41])
{
	ctd_err err = {0};
	ck_assert_msg(dtas_upload_sample(c, data, len, name, 0, sha1, &err) == 0, "upload %s: %s",
		      name, err.msg);
}

int tl_ddan_wait_verdict(const dtas_client *c, const char *sha1)
{
	const char *one[] = {sha1};
	dtas_brief b = {0};
	for (int i = 0; i < 300 && b.status != DTAS_DONE; i++) {
		ctd_err err = {0};
		ck_assert_msg(dtas_brief_report(c, one, 1, &b, &err) == 0, "get_brief_report: %s",
			      err.msg);
		if (b.status != DTAS_DONE)
			tl_sleep_ms(100);
	}
	ck_assert_msg(b.status == DTAS_DONE, "sample %s never analysed (status %d)", sha1, b.status);
	return b.risk_level;
}
