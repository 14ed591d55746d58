/* fuzz_dtas.c - DTAS checksum and header parsing (common/dtas.c): the
 * X-DTAS-ChecksumCalculatingOrder list against fuzzed headers (the
 * checksum and the server's missing-header check), and the brief report
 * parser. Input: order, then name/value fields of up to 8 headers, then a
 * brief report document. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dtas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	char *order = fuzz_field(&in), *key = fuzz_field(&in);
	char *fields[16];
	dtas_header h[8];
	size_t nh = fuzz_byte(&in) % 9;
	for (size_t i = 0; i < nh; i++) {
		fields[2 * i] = fuzz_field(&in);
		fields[2 * i + 1] = fuzz_field(&in);
		h[i] = (dtas_header){fields[2 * i], fields[2 * i + 1]};
	}
	char sum[41], missing[64];
	size_t body_len;
	const uint8_t *body = fuzz_chunk(&in, 256, &body_len);
	dtas_checksum(key, h, nh, *order ? order : NULL, body, body_len, sum);
	if (strlen(sum) != 40)
		abort();
	dtas_order_missing(h, nh, order, missing, sizeof missing);

	const char *sha1s[2] = {"0123456789ABCDEF0123456789ABCDEF01234567",
				"89ABCDEF0123456789ABCDEF0123456789ABCDEF"};
	dtas_brief out[2];
	dtas_brief_parse((const char *)in.p, in.left, sha1s, 2, out, NULL);
	for (size_t i = 0; i < 2 * nh; i++)
		free(fields[i]);
	free(key);
	free(order);
	return 0;
}
