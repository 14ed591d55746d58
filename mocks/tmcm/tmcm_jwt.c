/* tmcm_jwt.c - Automation API authentication (reference
 * tmcm-automation-api.md §4): an HS256/384/512 JWT carrying appid, iat,
 * version "V1" and checksum = Base64(SHA-256(METHOD|lower(raw URL)|API
 * headers|body)), signed with the application's API key. libjwt parses and
 * verifies the signature; the claims and the checksum are checked here. A
 * token that verified is remembered (with the key), so a client reusing it
 * for its lifetime pays for the HMAC and the parsing once. */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
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

/* What the signed part of a token says, once its signature verified. */
typedef struct token_claims {
	char *appid, *checksum;
	double iat;
} token_claims;

static void claims_free(token_claims *c)
{
	free(c->appid);
	free(c->checksum);
	*c = (token_claims){0};
}

static int appid_matches(const tmcm_auth_request *rq, const char *appid)
{
	return rq->app_id && strcasecmp(appid, rq->app_id) == 0;
}

/* Claims: version, appid (a string), iat (integer or float seconds),
 * checksum (a string). A wrong application is named before a malformed
 * token. */
static tmcm_auth_result read_claims(const tmcm_auth_request *rq, json_t *claims,
				    token_claims *out)
{
	json_t *version = json_object_get(claims, "version");
	json_t *appid = json_object_get(claims, "appid");
	json_t *iat = json_object_get(claims, "iat");
	json_t *sum = json_object_get(claims, "checksum");
	if (!json_is_string(version) || strcmp(json_string_value(version), "V1") != 0)
		return TMCM_AUTH_VERSION;
	if (!json_is_string(appid))
		return TMCM_AUTH_APPID;
	out->appid = xstrdup(json_string_value(appid));
	if (!json_is_number(iat) || !json_is_string(sum))
		return appid_matches(rq, out->appid) ? TMCM_AUTH_MALFORMED : TMCM_AUTH_APPID;
	out->iat = json_number_value(iat);
	out->checksum = xstrdup(json_string_value(sum));
	return TMCM_AUTH_OK;
}

/* The checks of the request against the claims, in the order a fresh token
 * meets them: the application, the token's age. */
static tmcm_auth_result check_claims(const tmcm_auth_request *rq, const token_claims *c)
{
	if (!appid_matches(rq, c->appid))
		return TMCM_AUTH_APPID;
	double age_ms = (double)rq->now_ms - c->iat * 1000.0;
	if (!isfinite(age_ms) || fabs(age_ms) > (double)rq->timeout_ms)
		return TMCM_AUTH_EXPIRED;
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

/* ---- verified tokens --------------------------------------------------------- */

/* Clients sign a token per request target and send it again for its whole
 * life (token_timeout): decoding it, verifying its HMAC and parsing its
 * claims is most of a call's cost. A token that verified with a key is
 * remembered with its claims, so the same token with the same key skips
 * straight to the checks that depend on the request and the clock. A direct
 * mapped table: a colliding token replaces the one before it. */
#define VERIFIED_SLOTS 64

typedef struct verified_token {
	char *token, *key;
	token_claims claims;
} verified_token;

static verified_token verified[VERIFIED_SLOTS];
static pthread_mutex_t verified_lock = PTHREAD_MUTEX_INITIALIZER;

static verified_token *verified_slot(const char *token)
{
	return &verified[str_hash(token) % VERIFIED_SLOTS];
}

/* The claims of a token verified before with this key, copied into *out. */
static int verified_find(const char *token, const char *key, token_claims *out)
{
	pthread_mutex_lock(&verified_lock);
	verified_token *v = verified_slot(token);
	int hit = v->token && strcmp(v->token, token) == 0 && strcmp(v->key, key) == 0;
	if (hit)
		*out = (token_claims){xstrdup(v->claims.appid), xstrdup(v->claims.checksum),
				      v->claims.iat};
	pthread_mutex_unlock(&verified_lock);
	return hit;
}

static void verified_add(const char *token, const char *key, const token_claims *c)
{
	pthread_mutex_lock(&verified_lock);
	verified_token *v = verified_slot(token);
	free(v->token);
	free(v->key);
	claims_free(&v->claims);
	*v = (verified_token){xstrdup(token), xstrdup(key),
			      {xstrdup(c->appid), xstrdup(c->checksum), c->iat}};
	pthread_mutex_unlock(&verified_lock);
}

/* Decode and verify a token not seen with this key: its claims in *c. */
static tmcm_auth_result verify_token(const tmcm_auth_request *rq, const char *token,
				     token_claims *c)
{
	/* libjwt reports alg "none" for a token decoded without a key: read the
	 * header ourselves */
	char *alg = header_alg(token);
	jwt_t *jwt = NULL;
	if (jwt_decode(&jwt, token, NULL, 0) != 0) {
		tmcm_auth_result r = alg && !alg_supported(alg) ? TMCM_AUTH_ALG : TMCM_AUTH_MALFORMED;
		free(alg);
		return r;
	}
	tmcm_auth_result r = alg_supported(alg) ? TMCM_AUTH_OK : TMCM_AUTH_ALG;
	free(alg);
	if (r == TMCM_AUTH_OK) {
		char *grants = jwt_get_grants_json(jwt, NULL);
		json_t *claims = grants ? json_loads(grants, 0, NULL) : NULL;
		r = json_is_object(claims) ? read_claims(rq, claims, c) : TMCM_AUTH_MALFORMED;
		json_decref(claims);
		free(grants);
	}
	jwt_free(jwt);
	if (r == TMCM_AUTH_OK)
		r = check_claims(rq, c);
	if (r == TMCM_AUTH_OK) {
		/* libjwt skips verification without a key: never let that happen */
		jwt_t *checked = NULL;
		const char *key = rq->api_key;
		if (!key || !key[0] ||
		    jwt_decode(&checked, token, (const unsigned char *)key, (int)strlen(key)) != 0)
			r = TMCM_AUTH_SIGNATURE;
		jwt_free(checked);
		if (r == TMCM_AUTH_OK)
			verified_add(token, key, c);
	}
	return r;
}

tmcm_auth_result tmcm_jwt_verify(const tmcm_auth_request *rq)
{
	const char *token = bearer_token(rq->authorization);
	if (!token)
		return TMCM_AUTH_NO_TOKEN;
	token_claims c = {0};
	tmcm_auth_result r;
	if (rq->api_key && rq->api_key[0] && verified_find(token, rq->api_key, &c))
		r = check_claims(rq, &c);
	else
		r = verify_token(rq, token, &c);
	if (r == TMCM_AUTH_OK && !rq->headers_only)
		r = check_checksum(rq, c.checksum);
	claims_free(&c);
	return r;
}
