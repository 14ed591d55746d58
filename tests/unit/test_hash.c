/* test_hash.c - digests, HMAC and base64 against published test vectors
 * (FIPS 180 "abc", RFC 1321, RFC 4231 case 2, RFC 4648 §10). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "testlib.h"

static void check_hex(hash_alg alg, const char *in, const char *want)
{
	char out[129];
	hash_hex(alg, in, strlen(in), out);
	ck_assert_str_eq(out, want);
}

TEST(test_digests_abc)
{
	check_hex(HASH_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72");
	check_hex(HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_hex(HASH_SHA256, "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_hex(HASH_MD5, "", "d41d8cd98f00b204e9800998ecf8427e");
	check_hex(HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(test_streaming_matches_oneshot)
{
	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char out[SHA1_HEX_LEN];
	hash_ctx *c = hash_begin(HASH_SHA1);
	hash_update(c, msg, 10);
	hash_update(c, msg + 10, strlen(msg) - 10);
	hash_end_hex(c, out);
	ck_assert_str_eq(out, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(test_hmac_rfc4231_case2)
{
	unsigned char mac[32];
	char hex[65];
	const char *data = "what do ya want for nothing?";
	hmac_raw(HASH_SHA256, "Jefe", 4, data, strlen(data), mac);
	hex_encode(mac, sizeof mac, hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(test_base64_rfc4648)
{
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
				      "Zm9vYmFy"};
	for (int i = 0; i < 7; i++) {
		char *enc = base64_encode(plain[i], strlen(plain[i]));
		ck_assert_str_eq(enc, coded[i]);
		unsigned char *dec;
		size_t len;
		ck_assert_int_eq(base64_decode(coded[i], &dec, &len, NULL), 0);
		ck_assert_uint_eq(len, strlen(plain[i]));
		ck_assert(memcmp(dec, plain[i], len) == 0);
		free(enc);
		free(dec);
	}
	unsigned char *dec;
	size_t len;
	ctd_err err;
	ck_assert_int_eq(base64_decode("abc", &dec, &len, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
}

TEST(test_base64url_unpadded)
{
	unsigned char bytes[] = {0xfb, 0xff, 0xfe};
	char *s = base64url_encode(bytes, sizeof bytes);
	ck_assert_str_eq(s, "-__-");
	free(s);
	s = base64url_encode("f", 1);
	ck_assert_str_eq(s, "Zg");
	free(s);
}
