/* tmcm_jwt.c - Automation API authentication (reference
 * tmcm-automation-api.md §4): an HS256/384/512 JWT carrying appid, iat,
 * version "V1" and checksum = Base64(SHA-256(METHOD|lower(raw URL)|API
 * headers|body)), signed with the application's API key. libjwt parses and
 * verifies the signature; the claims and the checksum are checked here. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jwt.h>
#include "hash.h"
#include "util.h"
#include "tmcm.h"

const char *tmcm_auth_message(tmcm_auth_result r)
{
	switch (r) {
	case TMCM_AUTH_OK: return "Successful";
	case TMCM_AUTH_NO_TOKEN: return "Authentication failure: token not provided";
	case TMCM_AUTH_MALFORMED: return "Malformed token";
	case TMCM_AUTH_VERSION: return "Unsupported token version";
	case TMCM_AUTH_APPID: return "Invalid Application ID";
	case TMCM_AUTH_EXPIRED: return "Token expired";
	case TMCM_AUTH_SIGNATURE: return "Invalid token signature";
	case TMCM_AUTH_CHECKSUM: return "Invalid request checksum";
	case TMCM_AUTH_ALG: return "Unsupported token hash function";
	}
	return "Authentication failure";
}

char *tmcm_request_checksum(const char *method, const char *raw_url, const char *headers,
			    const void *body, size_t body_len)
{
	sbuf s = {0};
	char *m = xstrdup(method), *u = xstrdup(raw_url);
	str_upper(m);
	str_lower(u);
	sbuf_printf(&s, "%s|%s|%s|", m, u, headers ? headers : "");
	if (body_len)
		sbuf_append(&s, body, body_len);
	unsigned char digest[32];
	hash_raw(HASH_SHA256, s.data ? s.data : "", s.len, digest);
	sbuf_free(&s);
	free(m);
	free(u);
	return base64_encode(digest, sizeof(digest));
}

/* ---- request-target spellings -------------------------------------------- */

typedef enum {
	ENC_RAW,        /* values as decoded: clients that send them unencoded */
	ENC_FORM,       /* Python urlencode / Go Values.Encode: space '+', '+' -> %2B */
	ENC_FORM_PLUS,  /* the same, but a '+' that arrived raw stays '+' */
	ENC_PERCENT     /* RFC 3986 percent-encoding, space %20 */
} url_encoding;

static void append_encoded(sbuf *b, const char *s, url_encoding enc)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (enc == ENC_RAW || isalnum(c) || strchr("_.-~", c))
			sbuf_append(b, s, 1);
		else if (c == ' ' && enc != ENC_PERCENT)
			sbuf_puts(b, "+");
		else if (c == '+' && enc == ENC_FORM_PLUS)
			sbuf_puts(b, "+");
		else
			sbuf_printf(b, "%%%02X", c);
	}
}

int tmcm_raw_url_candidates(const char *path, const char *const *names,
			    const char *const *values, int nargs, char **out, int n)
{
	for (int enc = ENC_RAW; enc <= ENC_PERCENT; enc++) {
		sbuf b = {0};
		sbuf_puts(&b, path);
		for (int i = 0; i < nargs; i++) {
			sbuf_puts(&b, i ? "&" : "?");
			append_encoded(&b, names[i], (url_encoding)enc);
			if (values[i]) {
				sbuf_puts(&b, "=");
				append_encoded(&b, values[i], (url_encoding)enc);
			}
		}
		char *cand = sbuf_detach(&b);
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= strcasecmp(out[j], cand) == 0;
		if (dup)
			free(cand);
		else
			out[n++] = cand;
	}
	return n;
}

/* ---- token ----------------------------------------------------------------- */

/* The "alg" of a token's header, or NULL. */
static char *header_alg(const char *token)
{
	const char *dot = strchr(token, '.');
	if (!dot)
		return NULL;
	size_t n = (size_t)(dot - token);
	char *b64 = xmalloc(n + 4);
	for (size_t i = 0; i < n; i++)
		b64[i] = token[i] == '-' ? '+' : token[i] == '_' ? '/' : token[i];
	while (n % 4)
		b64[n++] = '=';
	b64[n] = '\0';
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char *alg = NULL;
	if (base64_decode(b64, &raw, &rawlen, NULL) == 0) {
		json_t *h = json_loadb((const char *)raw, rawlen, 0, NULL);
		if (json_is_string(json_object_get(h, "alg")))
			alg = xstrdup(json_string_value(json_object_get(h, "alg")));
		json_decref(h);
	}
	free(raw);
	free(b64);
	return alg;
}

static int alg_supported(const char *alg)
{
	jwt_alg_t a = alg ? jwt_str_alg(alg) : JWT_ALG_INVAL;
	return a == JWT_ALG_HS256 || a == JWT_ALG_HS384 || a == JWT_ALG_HS512;
}

/* Claims: version, appid, iat (integer or float seconds), checksum. */
static tmcm_auth_result check_claims(const tmcm_auth_request *rq, json_t *claims,
				     const char **checksum)
{
	json_t *version = json_object_get(claims, "version");
	json_t *appid = json_object_get(claims, "appid");
	json_t *iat = json_object_get(claims, "iat");
	json_t *sum = json_object_get(claims, "checksum");
	if (!json_is_string(version) || strcmp(json_string_value(version), "V1") != 0)
		return TMCM_AUTH_VERSION;
	if (!json_is_string(appid) || !rq->app_id ||
	    strcasecmp(json_string_value(appid), rq->app_id) != 0)
		return TMCM_AUTH_APPID;
	if (!json_is_number(iat) || !json_is_string(sum))
		return TMCM_AUTH_MALFORMED;
	double age_ms = (double)rq->now_ms - json_number_value(iat) * 1000.0;
	if (!isfinite(age_ms) || fabs(age_ms) > (double)rq->timeout_ms)
		return TMCM_AUTH_EXPIRED;
	*checksum = json_string_value(sum);
	return TMCM_AUTH_OK;
}

static tmcm_auth_result check_checksum(const tmcm_auth_request *rq, const char *claimed)
{
	for (int i = 0; i < rq->nraw_urls; i++) {
		char *sum = tmcm_request_checksum(rq->method, rq->raw_urls[i], rq->api_headers,
						  rq->body, rq->body_len);
		int ok = strcmp(sum, claimed) == 0;
		free(sum);
		if (ok)
			return TMCM_AUTH_OK;
	}
	return TMCM_AUTH_CHECKSUM;
}

static const char *bearer_token(const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer", 6) != 0)
		return NULL;
	const char *t = authorization + 6;
	while (*t == ' ' || *t == '\t')
		t++;
	return *t ? t : NULL;
}

tmcm_auth_result tmcm_jwt_verify(const tmcm_auth_request *rq)
{
	const char *token = bearer_token(rq->authorization);
	if (!token)
		return TMCM_AUTH_NO_TOKEN;
	/* libjwt reports alg "none" for a token decoded without a key: read the
	 * header ourselves */
	char *alg = header_alg(token);
	jwt_t *jwt = NULL;
	if (jwt_decode(&jwt, token, NULL, 0) != 0) {
		tmcm_auth_result r = alg && !alg_supported(alg) ? TMCM_AUTH_ALG : TMCM_AUTH_MALFORMED;
		free(alg);
		return r;
	}
	tmcm_auth_result r = TMCM_AUTH_OK;
	char *grants = NULL;
	json_t *claims = NULL;
	const char *claimed = NULL;
	if (!alg_supported(alg))
		r = TMCM_AUTH_ALG;
	free(alg);
	if (r == TMCM_AUTH_OK) {
		grants = jwt_get_grants_json(jwt, NULL);
		claims = grants ? json_loads(grants, 0, NULL) : NULL;
		r = json_is_object(claims) ? check_claims(rq, claims, &claimed)
					   : TMCM_AUTH_MALFORMED;
	}
	if (r == TMCM_AUTH_OK) {
		/* libjwt skips verification without a key: never let that happen */
		jwt_t *verified = NULL;
		const char *key = rq->api_key;
		if (!key || !key[0] ||
		    jwt_decode(&verified, token, (const unsigned char *)key, (int)strlen(key)) != 0)
			r = TMCM_AUTH_SIGNATURE;
		jwt_free(verified);
	}
	if (r == TMCM_AUTH_OK && !rq->headers_only)
		r = check_checksum(rq, claimed);
	json_decref(claims);
	free(grants);
	jwt_free(jwt);
	return r;
}
