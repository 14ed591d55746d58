/* test_kwmatch.c - the multi-keyword matcher answers exactly as strcasestr
 * per keyword: overlapping keywords, prefixes and suffixes of each other,
 * ASCII case folding only, UTF-8 and other high bytes as themselves, empty
 * text and empty keyword, duplicates, and many keywords against texts built
 * from a small alphabet (where partial matches and failure links abound). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "kwmatch.h"
#include "testlib.h"

/* Every keyword's result over text equals strcasestr's. */
static void check_like_strcasestr(const char *const *kws, size_t n, const char *text)
{
	kwmatch *k = kwmatch_new();
	size_t *ids = malloc((n + 1) * sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = kwmatch_add(k, kws[i]);
	kwmatch_build(k);
	unsigned char *found = malloc(kwmatch_count(k) + 1);
	kwmatch_scan(k, text, found);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(found[ids[i]] == (strcasestr(text, kws[i]) != NULL),
			      "keyword \"%s\" in \"%s\"", kws[i], text);
	free(found);
	free(ids);
	kwmatch_free(k);
}

TEST(test_overlapping_prefix_suffix)
{
	static const char *const kws[] = {"he", "she", "his", "hers", "ushe", "s", "shers",
					  "her", "rsx", "e"};
	size_t n = sizeof kws / sizeof *kws;
	check_like_strcasestr(kws, n, "ushers");
	check_like_strcasestr(kws, n, "xhisx");
	check_like_strcasestr(kws, n, "hershe");
	check_like_strcasestr(kws, n, "zzz");
}

TEST(test_found_ids)
{
	kwmatch *k = kwmatch_new();
	size_t a = kwmatch_add(k, "abc"), bc = kwmatch_add(k, "bc"), abcd = kwmatch_add(k, "abcd");
	ck_assert_uint_eq(kwmatch_add(k, "ABC"), a); /* equal up to case: one id */
	ck_assert_uint_eq(kwmatch_count(k), 3);
	kwmatch_build(k);
	unsigned char found[3];
	kwmatch_scan(k, "xxABcx", found);
	ck_assert(found[a] && found[bc] && !found[abcd]);
	kwmatch_scan(k, "", found);
	ck_assert(!found[a] && !found[bc] && !found[abcd]);
	kwmatch_free(k);
}

TEST(test_case_folding_ascii_only)
{
	static const char *const kws[] = {"Invoice", "PAY the", "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89",
					  "[", "@", "`", "{", "\xff", "\xe3\x81\x8a\xe9\x87\x91"};
	size_t n = sizeof kws / sizeof *kws;
	check_like_strcasestr(kws, n, "your INVOICE: pay THE bill");
	check_like_strcasestr(kws, n, "\xc3\xa9T\xc3\xa9 and \xc3\x89t\xc3\x89 {}");
	check_like_strcasestr(kws, n, "\xe3\x81\x8a\xe9\x87\x91\xff`");
	check_like_strcasestr(kws, n, "{ and [ are not the same as ; and @ is not `");
}

TEST(test_empty_text_and_keyword)
{
	static const char *const kws[] = {"", "a", ""};
	check_like_strcasestr(kws, 3, "");
	check_like_strcasestr(kws, 3, "A");
	kwmatch *none = kwmatch_new();
	kwmatch_build(none);
	unsigned char found[1];
	kwmatch_scan(none, "anything", found);
	ck_assert_uint_eq(kwmatch_count(none), 0);
	kwmatch_free(none);
}

/* Deterministic pseudo-random strings over "aAbB\xc3" so keywords overlap. */
static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static char *random_word(unsigned *seed, size_t maxlen)
{
	static const char alphabet[] = "aAbB\xc3";
	size_t len = 1 + next_rand(seed) % maxlen;
	char *w = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		w[i] = alphabet[next_rand(seed) % 5];
	w[len] = '\0';
	return w;
}

TEST(test_many_keywords_agree_with_strcasestr)
{
	unsigned seed = 17;
	enum { NKW = 2000, NTEXT = 50 };
	char *kws[NKW];
	for (size_t i = 0; i < NKW; i++)
		kws[i] = random_word(&seed, 9);
	for (size_t t = 0; t < NTEXT; t++) {
		char *text = random_word(&seed, 300);
		check_like_strcasestr((const char *const *)kws, NKW, text);
		free(text);
	}
	for (size_t i = 0; i < NKW; i++)
		free(kws[i]);
}
