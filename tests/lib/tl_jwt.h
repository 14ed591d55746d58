/* tl_jwt.h - the Automation API token as the public Apex Central clients make
 * it, for the integration tests (tl_jwt.c): an HS256/384/512 JWT with appid,
 * iat (integer or float seconds), version "V1" and the request checksum
 * Base64(SHA-256(METHOD|lower(target)||body)), computed independently of
 * tmcmd. */
#ifndef CTD_TL_JWT_H
#define CTD_TL_JWT_H

#include <jwt.h>

/* How a client signs. */
typedef struct tl_jwt_style {
	int iat_decimals;    /* digits after the point of the iat claim (seconds) */
	jwt_alg_t alg;
	const char *key;     /* NULL: the API key the caller passes */
	double iat_offset;   /* seconds added to now */
} tl_jwt_style;

/* XSOAR (float iat) and Chronicle (integer iat), both HS256. */
extern const tl_jwt_style TL_JWT_XSOAR, TL_JWT_CHRONICLE;

/* "Authorization: Bearer <JWT>" for a request whose target the client
 * hashed as hashed_target (caller frees). body may be NULL. */
char *tl_jwt_bearer(const tl_jwt_style *cs, const char *app_id, const char *api_key,
		    const char *method, const char *hashed_target, const char *body);

#endif
