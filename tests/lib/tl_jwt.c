/* tl_jwt.c - Automation API tokens signed the way public clients sign them
 * (see tl_jwt.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hash.h"
#include "tl_jwt.h"
#include "util.h"

const tl_jwt_style TL_JWT_XSOAR = {6, JWT_ALG_HS256, NULL, 0};
const tl_jwt_style TL_JWT_CHRONICLE = {0, JWT_ALG_HS256, NULL, 0};

/* Base64(SHA-256(METHOD|lower(target)||body)). */
static char *checksum(const char *method, const char *target, const char *body)
{
	char *lower = xstrdup(target);
	str_lower(lower);
	char *s = xasprintf("%s|%s||%s", method, lower, body ? body : "");
	unsigned char d[32];
	hash_raw(HASH_SHA256, s, strlen(s), d);
	free(s);
	free(lower);
	return base64_encode(d, sizeof d);
}

char *tl_jwt_bearer(const tl_jwt_style *cs, const char *app_id, const char *api_key,
		    const char *method, const char *hashed_target, const char *body)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char iat[64];
	snprintf(iat, sizeof iat, "%.*f", cs->iat_decimals,
		 (double)ts.tv_sec + ts.tv_nsec / 1e9 + cs->iat_offset);
	char *sum = checksum(method, hashed_target, body);
	char *claims = xasprintf("{\"appid\":\"%s\",\"iat\":%s,\"version\":\"V1\",\"checksum\":\"%s\"}",
				 app_id, iat, sum);
	jwt_t *j = NULL;
	const char *key = cs->key ? cs->key : api_key;
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims), 0);
	ck_assert_int_eq(jwt_set_alg(j, cs->alg, (const unsigned char *)key, (int)strlen(key)), 0);
	char *tok = jwt_encode_str(j);
	char *h = xasprintf("Authorization: Bearer %s", tok);
	free(tok);
	jwt_free(j);
	free(claims);
	free(sum);
	return h;
}
