/* hash.h - digests, HMAC and encodings over OpenSSL. */
#ifndef CTD_HASH_H
#define CTD_HASH_H

#include <stddef.h>
#include "err.h"

typedef enum { HASH_MD5, HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512 } hash_alg;

/* Raw digest size in bytes for alg. */
size_t hash_size(hash_alg alg);
/* Raw digest into out (hash_size bytes). */
void hash_raw(hash_alg alg, const void *data, size_t len, unsigned char *out);
/* Lower-case hex digest into out (2*hash_size+1 bytes). */
void hash_hex(hash_alg alg, const void *data, size_t len, char *out);
#define MD5_HEX_LEN 33
#define SHA1_HEX_LEN 41
#define SHA256_HEX_LEN 65

/* Streaming digest for large inputs. */
typedef struct hash_ctx hash_ctx;
hash_ctx *hash_begin(hash_alg alg);
void hash_update(hash_ctx *c, const void *data, size_t len);
void hash_end_hex(hash_ctx *c, char *out); /* frees c */

/* HMAC; out must hold hash_size(alg) bytes. */
void hmac_raw(hash_alg alg, const void *key, size_t keylen, const void *data, size_t len,
	      unsigned char *out);

void hex_encode(const unsigned char *in, size_t len, char *out); /* 2*len+1 */
/* Base64 (standard alphabet, padded). Caller frees. */
char *base64_encode(const void *in, size_t len);
/* *out is malloc'd; -1 with err (CTD_EINVAL) on malformed input. */
int base64_decode(const char *in, unsigned char **out, size_t *outlen, ctd_err *err);
/* Base64url without padding (JWT). Caller frees. */
char *base64url_encode(const void *in, size_t len);

#endif
