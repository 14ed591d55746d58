/* fuzz_tmcm_jwt.c - the Automation API's authentication (tmcm_jwt.c): the
 * Authorization header as sent (odd bit of the first byte clear), or fuzzed
 * claims signed with the right key (set), so the claim checks past the
 * signature are reached too; method, query arguments and body fuzzed. */
#include <stdlib.h>
#include <string.h>
#include <jwt.h>

#include "fuzz.h"
#include "tmcm/tmcm.h"
#include "util.h"

#define APP_ID "150848F9-A4AA-4F6F-913D-0F261DE95B58"
#define API_KEY "5E1C1E8C-9B43-4F4E-8F2B-1D2C3B4A5968"

/* "Bearer " + the claims signed HS256 with API_KEY, or NULL. */
static char *signed_header(const char *claims)
{
	jwt_t *j = NULL;
	char *out = NULL;
	if (jwt_new(&j) == 0 && jwt_add_grants_json(j, claims) == 0 &&
	    jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)API_KEY, strlen(API_KEY)) == 0) {
		char *t = jwt_encode_str(j);
		if (t)
			out = xasprintf("Bearer %s", t);
		free(t);
	}
	jwt_free(j);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	char *auth = fuzz_field(&in), *method = fuzz_field(&in), *path = fuzz_field(&in);
	char *names[2] = {fuzz_field(&in), fuzz_field(&in)};
	char *values[2] = {fuzz_field(&in), fuzz_field(&in)};
	char *header = mode & 1 ? signed_header(auth) : xstrdup(auth);
	char *urls[TMCM_MAX_RAW_URLS];
	int n = tmcm_raw_url_candidates(path, (const char *const *)names,
					(const char *const *)values, (int)(mode >> 1) % 3, urls, 0);
	tmcm_auth_request rq = {.authorization = header, .method = method, .nraw_urls = n,
				.api_headers = "", .body = in.p, .body_len = in.left,
				.app_id = APP_ID, .api_key = API_KEY,
				.now_ms = 1700000000000LL, .timeout_ms = 300000};
	for (int i = 0; i < n; i++)
		rq.raw_urls[i] = urls[i];
	tmcm_auth_message(tmcm_jwt_verify(&rq));
	for (int i = 0; i < n; i++)
		free(urls[i]);
	free(header);
	for (int i = 0; i < 2; i++) {
		free(names[i]);
		free(values[i]);
	}
	free(path);
	free(method);
	free(auth);
	return 0;
}
