/* hash.c - digests, HMAC and base64 over OpenSSL's EVP interfaces. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "hash.h"
#include "util.h"

struct hash_ctx {
	EVP_MD_CTX *md;
	size_t size;
};

static const EVP_MD *legacy_md(hash_alg alg)
{
	switch (alg) {
	case HASH_MD5: return EVP_md5();
	case HASH_SHA1: return EVP_sha1();
	case HASH_SHA256: return EVP_sha256();
	case HASH_SHA384: return EVP_sha384();
	case HASH_SHA512: return EVP_sha512();
	}
	return EVP_sha256();
}

/* OpenSSL 3 looks a legacy EVP_sha1() up in its provider tables on every
 * digest (EVP_MD_fetch, about half of a DTAS checksum's cost): fetch each
 * algorithm once, for the life of the process. */
static EVP_MD *fetched[HASH_SHA512 + 1];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	for (int alg = 0; alg <= HASH_SHA512; alg++)
		fetched[alg] = EVP_MD_fetch(NULL, EVP_MD_get0_name(legacy_md((hash_alg)alg)), NULL);
}

static const EVP_MD *md_of(hash_alg alg)
{
	pthread_once(&fetch_once, fetch_all);
	if ((unsigned)alg <= HASH_SHA512 && fetched[alg])
		return fetched[alg];
	return legacy_md(alg); /* not in the default provider: OpenSSL's own way */
}

size_t hash_size(hash_alg alg)
{
	return (size_t)EVP_MD_get_size(md_of(alg));
}

void hash_raw(hash_alg alg, const void *data, size_t len, unsigned char *out)
{
	EVP_Digest(data, len, out, NULL, md_of(alg), NULL);
}

void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void hash_hex(hash_alg alg, const void *data, size_t len, char *out)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	hash_raw(alg, data, len, raw);
	hex_encode(raw, hash_size(alg), out);
}

hash_ctx *hash_begin(hash_alg alg)
{
	hash_ctx *c = xmalloc(sizeof *c);
	c->md = EVP_MD_CTX_new();
	if (!c->md)
		oom_abort(); /* OpenSSL's only reason to fail here */
	c->size = hash_size(alg);
	EVP_DigestInit_ex(c->md, md_of(alg), NULL);
	return c;
}

void hash_update(hash_ctx *c, const void *data, size_t len)
{
	EVP_DigestUpdate(c->md, data, len);
}

void hash_end_hex(hash_ctx *c, char *out)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	EVP_DigestFinal_ex(c->md, raw, NULL);
	hex_encode(raw, c->size, out);
	EVP_MD_CTX_free(c->md);
	free(c);
}

void hmac_raw(hash_alg alg, const void *key, size_t keylen, const void *data, size_t len,
	      unsigned char *out)
{
	HMAC(md_of(alg), key, (int)keylen, data, len, out, NULL);
}

char *base64_encode(const void *in, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

int base64_decode(const char *in, unsigned char **out, size_t *outlen, ctd_err *err)
{
	size_t len = strlen(in);
	if (len % 4 != 0)
		return ctd_fail(err, CTD_EINVAL, "base64 of %zu characters, not a multiple of 4", len);
	unsigned char *buf = xmalloc(len / 4 * 3 + 1);
	int n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0) {
		free(buf);
		return ctd_fail(err, CTD_EINVAL, "malformed base64");
	}
	/* EVP_DecodeBlock counts padding as data: take it back off. */
	for (size_t i = len; i > 0 && in[i - 1] == '='; i--)
		n--;
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

char *base64url_encode(const void *in, size_t len)
{
	char *s = base64_encode(in, len);
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (char *p = s; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	return s;
}
