/* test_tmcm_jwt.c - Automation API authentication: the request checksum
 * (reference §4.3, vector computed with Python hashlib), the JWT checks in
 * their documented failure classes, the request-target spellings public
 * clients hash, and the expiry formats clients send. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <jwt.h>
#include "hash.h"
#include "util.h"
#include "../../mocks/tmcm/tmcm.h"
#include "testlib.h"

#define APP_ID "150848F9-A4AA-4F6F-913D-0F261DE95B58"
#define API_KEY "5E1C1E8C-9B43-4F4E-8F2B-1D2C3B4A5968"
#define NOW_MS 1700000000000LL
#define PATH "/WebApp/api/SuspiciousObjects/UserDefinedSO/"
#define BODY "{\"param\": {\"type\": \"ip\", \"content\": \"1.2.3.4\", \"scan_action\": \"block\"}}"

/* A token like the clients build: claims JSON as given, signed with key. */
static char *make_token(jwt_alg_t alg, const char *key, const char *claims)
{
	jwt_t *j = NULL;
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims), 0);
	ck_assert_int_eq(jwt_set_alg(j, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0),
			 0);
	char *t = jwt_encode_str(j);
	jwt_free(j);
	ck_assert_ptr_nonnull(t);
	return t;
}

static char *claims_for(const char *method, const char *raw_url, const char *body,
			const char *iat, const char *version, const char *appid)
{
	char *sum = tmcm_request_checksum(method, raw_url, "", body, body ? strlen(body) : 0);
	char *c = xasprintf("{\"appid\":\"%s\",\"iat\":%s,\"version\":\"%s\",\"checksum\":\"%s\"}",
			    appid, iat, version, sum);
	free(sum);
	return c;
}

/* Verify a request with the given token against method/url/body, with
 * this key, app id and clock. */
static tmcm_auth_result verify_as(const char *token, const char *method, const char *raw_url,
				  const char *body, const char *key, const char *app_id,
				  int64_t now_ms)
{
	char *auth = token ? xasprintf("Bearer %s", token) : NULL;
	tmcm_auth_request rq = {
		.authorization = auth,
		.method = method,
		.raw_urls = {raw_url},
		.nraw_urls = 1,
		.api_headers = "",
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.app_id = app_id,
		.api_key = key,
		.now_ms = now_ms,
		.timeout_ms = 300000,
	};
	tmcm_auth_result r = tmcm_jwt_verify(&rq);
	free(auth);
	return r;
}

static tmcm_auth_result verify(const char *token, const char *method, const char *raw_url,
			       const char *body)
{
	return verify_as(token, method, raw_url, body, API_KEY, APP_ID, NOW_MS);
}

/* Sign a request for (method, url, body) and verify (vmethod, vurl, vbody). */
static tmcm_auth_result round_trip(jwt_alg_t alg, const char *key, const char *iat,
				   const char *version, const char *appid, const char *method,
				   const char *url, const char *body, const char *vmethod,
				   const char *vurl, const char *vbody)
{
	char *claims = claims_for(method, url, body, iat, version, appid);
	char *token = make_token(alg, key, claims);
	tmcm_auth_result r = verify(token, vmethod, vurl, vbody);
	free(token);
	free(claims);
	return r;
}

#define SAME(url, body) "PUT", url, body, "PUT", url, body

TEST(test_checksum_vector)
{
	char *sum = tmcm_request_checksum("put", PATH, "", BODY, strlen(BODY));
	ck_assert_str_eq(sum, "tesUyLPh3TI5NclDIFoQVFl3H7jmzY+REKdAlzLjt9M=");
	free(sum);
}

TEST(test_good_tokens)
{
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_OK);
	/* float iat (Python time.time()), HS384 and HS512, lower-case appid */
	ck_assert_int_eq(round_trip(JWT_ALG_HS384, API_KEY, "1699999990.123456", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_OK);
	ck_assert_int_eq(round_trip(JWT_ALG_HS512, API_KEY, "1700000001.5", "V1",
				    "150848f9-a4aa-4f6f-913d-0f261de95b58", SAME(PATH, BODY)),
			 TMCM_AUTH_OK);
	/* GET without a body: the last field is empty */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID, "GET",
				    "/WebApp/api/SuspiciousObjects/UserDefinedSO?type=&contentFilter=",
				    NULL, "GET",
				    "/WebApp/api/SuspiciousObjects/UserDefinedSO?type=&contentFilter=",
				    ""), TMCM_AUTH_OK);
}

TEST(test_bad_signature)
{
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, "not-the-key", "1700000000", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_SIGNATURE);
}

/* A token that verified is remembered, but only with its key: each later
 * use is checked against its own request, the clock and the application as
 * if it were new. */
TEST(test_token_reused)
{
	char *claims = claims_for("PUT", PATH, BODY, "1700000000", "V1", APP_ID);
	char *token = make_token(JWT_ALG_HS256, API_KEY, claims);
	ck_assert_int_eq(verify(token, "PUT", PATH, BODY), TMCM_AUTH_OK);
	ck_assert_int_eq(verify(token, "PUT", PATH, BODY), TMCM_AUTH_OK);
	ck_assert_int_eq(verify(token, "PUT", PATH, "{}"), TMCM_AUTH_CHECKSUM);
	ck_assert_int_eq(verify_as(token, "PUT", PATH, BODY, API_KEY, APP_ID, NOW_MS + 600000),
			 TMCM_AUTH_EXPIRED);
	ck_assert_int_eq(verify_as(token, "PUT", PATH, BODY, API_KEY, "another-app", NOW_MS),
			 TMCM_AUTH_APPID);
	/* the key was regenerated: the remembered verification does not hold */
	ck_assert_int_eq(verify_as(token, "PUT", PATH, BODY, "new-key", APP_ID, NOW_MS),
			 TMCM_AUTH_SIGNATURE);
	ck_assert_int_eq(verify_as(token, "PUT", PATH, BODY, "", APP_ID, NOW_MS),
			 TMCM_AUTH_SIGNATURE);
	ck_assert_int_eq(verify(token, "PUT", PATH, BODY), TMCM_AUTH_OK);
	free(token);
	free(claims);
}

/* base64url(header).base64url(claims).sig for algorithms libjwt would not sign. */
static char *forged(const char *alg, const char *claims)
{
	char *hdr = xasprintf("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	char *h = base64url_encode(hdr, strlen(hdr)), *p = base64url_encode(claims, strlen(claims));
	char *t = xasprintf("%s.%s.c2lnbmF0dXJl", h, p);
	free(hdr);
	free(h);
	free(p);
	return t;
}

TEST(test_wrong_algorithm)
{
	char *claims = claims_for("PUT", PATH, BODY, "1700000000", "V1", APP_ID);
	char *none = make_token(JWT_ALG_NONE, NULL, claims);
	ck_assert_int_eq(verify(none, "PUT", PATH, BODY), TMCM_AUTH_ALG);
	const char *algs[] = {"RS256", "ES256", "PS256"};
	for (size_t i = 0; i < 3; i++) {
		char *t = forged(algs[i], claims);
		ck_assert_msg(verify(t, "PUT", PATH, BODY) == TMCM_AUTH_ALG, "alg %s", algs[i]);
		free(t);
	}
	free(none);
	free(claims);
}

TEST(test_stale_and_future_iat)
{
	/* 10 minutes old with a 5 minute time-out: the frozen-iat client case */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1699999400", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_EXPIRED);
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1699999400.25", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_EXPIRED);
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000600", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_EXPIRED);
	/* just inside the window */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1699999701", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_OK);
}

TEST(test_checksum_mismatch)
{
	/* path */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID, "PUT",
				    PATH, BODY, "PUT", "/WebApp/api/v1/SuspiciousObjects/UserDefinedSO/",
				    BODY), TMCM_AUTH_CHECKSUM);
	/* query */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID, "DELETE",
				    PATH "?type=ip&content=1.2.3.4", NULL, "DELETE",
				    PATH "?type=ip&content=1.2.3.5", NULL), TMCM_AUTH_CHECKSUM);
	/* body: one byte of whitespace differs */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID, "PUT",
				    PATH, BODY, "PUT", PATH,
				    "{\"param\":{\"type\": \"ip\", \"content\": \"1.2.3.4\", "
				    "\"scan_action\": \"block\"}}"), TMCM_AUTH_CHECKSUM);
	/* method */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID, "PUT",
				    PATH, BODY, "POST", PATH, BODY), TMCM_AUTH_CHECKSUM);
	/* the URL is compared lower-cased on both sides */
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", APP_ID, "PUT",
				    "/webapp/api/suspiciousobjects/userdefinedso/", BODY, "PUT",
				    PATH, BODY), TMCM_AUTH_OK);
}

TEST(test_other_claims)
{
	ck_assert_int_eq(verify(NULL, "GET", PATH, NULL), TMCM_AUTH_NO_TOKEN);
	ck_assert_int_eq(verify("", "GET", PATH, NULL), TMCM_AUTH_NO_TOKEN);
	ck_assert_int_eq(verify("not.a.jwt", "GET", PATH, NULL), TMCM_AUTH_MALFORMED);
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V2", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_VERSION);
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "1700000000", "V1", "someone-else",
				    SAME(PATH, BODY)), TMCM_AUTH_APPID);
	ck_assert_int_eq(round_trip(JWT_ALG_HS256, API_KEY, "\"1700000000\"", "V1", APP_ID,
				    SAME(PATH, BODY)), TMCM_AUTH_MALFORMED);
	ck_assert_str_eq(tmcm_auth_message(TMCM_AUTH_EXPIRED), "Token expired");
}

/* Candidates for ?type=url&content=http://evil.example/a as MHD decodes it. */
TEST(test_raw_url_candidates)
{
	const char *names[] = {"type", "content"}, *values[] = {"url", "http://evil.example/a b"};
	char *out[TMCM_MAX_RAW_URLS] = {0};
	int n = tmcm_raw_url_candidates("/p", names, values, 2, out, 0);
	ck_assert_int_ge(n, 3);
	int raw = 0, form = 0, pct = 0;
	for (int i = 0; i < n; i++) {
		raw |= strcmp(out[i], "/p?type=url&content=http://evil.example/a b") == 0;
		form |= strcmp(out[i], "/p?type=url&content=http%3A%2F%2Fevil.example%2Fa+b") == 0;
		pct |= strcmp(out[i], "/p?type=url&content=http%3A%2F%2Fevil.example%2Fa%20b") == 0;
		free(out[i]);
	}
	ck_assert(raw && form && pct);
	/* no query: no "?" */
	n = tmcm_raw_url_candidates("/p/", NULL, NULL, 0, out, 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(out[0], "/p/");
	free(out[0]);
	/* an argument without "=" stays bare */
	const char *bare[] = {"flag"}, *nov[] = {NULL};
	n = tmcm_raw_url_candidates("/p", bare, nov, 1, out, 0);
	ck_assert_str_eq(out[0], "/p?flag");
	for (int i = 0; i < n; i++)
		free(out[i]);
}

/* Chronicle hashes urlencode(params).lower(); XSOAR hashes the raw query. */
TEST(test_clients_query_styles_verify)
{
	const char *names[] = {"type", "content"}, *values[] = {"url", "http://evil.example/x"};
	char *cands[TMCM_MAX_RAW_URLS] = {0};
	int n = tmcm_raw_url_candidates("/WebApp/api/SuspiciousObjects/UserDefinedSO", names,
					values, 2, cands, 0);
	const char *hashed[] = {
		"/webapp/api/suspiciousobjects/userdefinedso?type=url&content=http%3a%2f%2fevil.example%2fx",
		"/WebApp/api/SuspiciousObjects/UserDefinedSO?type=url&content=http://evil.example/x",
	};
	for (int k = 0; k < 2; k++) {
		char *claims = claims_for("DELETE", hashed[k], NULL, "1700000000.5", "V1", APP_ID);
		char *token = make_token(JWT_ALG_HS256, API_KEY, claims);
		char *auth = xasprintf("Bearer %s", token);
		tmcm_auth_request rq = {.authorization = auth, .method = "DELETE", .nraw_urls = n,
					.api_headers = "", .body = "", .app_id = APP_ID,
					.api_key = API_KEY, .now_ms = NOW_MS, .timeout_ms = 300000};
		for (int i = 0; i < n; i++)
			rq.raw_urls[i] = cands[i];
		ck_assert_msg(tmcm_jwt_verify(&rq) == TMCM_AUTH_OK, "style %d", k);
		free(auth);
		free(token);
		free(claims);
	}
	for (int i = 0; i < n; i++)
		free(cands[i]);
}

TEST(test_expiry_formats)
{
	int64_t ms;
	ck_assert_int_eq(tmcm_parse_utc("2020-01-25T09:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 1579942800000LL);
	ck_assert_int_eq(tmcm_parse_utc("2020-01-25T09:00Z", &ms), 0);
	ck_assert_int_eq(ms, 1579942800000LL);
	ck_assert_int_eq(tmcm_parse_utc("2020-01-25T09:00:00", &ms), 0);
	ck_assert_int_eq(ms, 1579942800000LL);
	ck_assert_int_eq(tmcm_parse_utc("2020-01-25T10:00:00.123456+01:00", &ms), 0);
	ck_assert_int_eq(ms, 1579942800123LL);
	ck_assert_int_eq(tmcm_parse_utc("2021-03-26T12:26:49.753", &ms), 0);
	ck_assert_int_eq(ms, 1616761609753LL);
	ck_assert_int_eq(tmcm_parse_utc("", &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(tmcm_parse_utc(NULL, &ms), 0);
	ck_assert_int_eq(tmcm_parse_utc("tomorrow", &ms), -1);
	ck_assert_int_eq(tmcm_parse_utc("2020-01-25T09:00:00Zjunk", &ms), -1);
	char buf[32];
	tmcm_format_utc(1616761609753LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2021-03-26T12:26:49");
}
