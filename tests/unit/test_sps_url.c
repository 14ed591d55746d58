/* test_sps_url.c - SPS URL normalisation and Approved/Blocked rule matching:
 * equivalent spellings normalise to one form (idempotently), bad input is
 * refused, and URL / keyword rules match what the docs say they match. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../mocks/sps/sps.h"
#include "testlib.h"

static const struct {
	const char *in, *norm;
} norm_cases[] = {
	{"http://www.example.com/", "http://www.example.com/"},
	{"HTTP://WWW.Example.COM/Path", "http://www.example.com/Path"},
	{"www.example.com", "http://www.example.com/"},
	{"http://www.example.com:80/a", "http://www.example.com/a"},
	{"https://www.example.com:443/a", "https://www.example.com/a"},
	{"http://www.example.com:8080/a", "http://www.example.com:8080/a"},
	{"https://www.example.com:80/a", "https://www.example.com:80/a"},
	{"http://example.com/a/./b/../c", "http://example.com/a/c"},
	{"http://example.com/../../x", "http://example.com/x"},
	{"http://example.com/a/%2e%2e/b", "http://example.com/b"},
	{"http://example.com/%7Euser/%7e", "http://example.com/~user/~"},
	{"http://example.com/a%2fb%3a", "http://example.com/a%2Fb%3A"},
	{"http://example.com/%41%42c", "http://example.com/ABc"},
	{"http://example.com/a b", "http://example.com/a%20b"},
	{"http://example.com/caf\xc3\xa9", "http://example.com/caf%C3%A9"},
	{"http://example.com/dir/", "http://example.com/dir"},
	{"http://example.com/dir//", "http://example.com/dir"},
	{"http://example.com", "http://example.com/"},
	{"http://example.com/page#section", "http://example.com/page"},
	{"http://example.com/p?b=2&a=1#f", "http://example.com/p?b=2&a=1"},
	{"http://example.com/p?", "http://example.com/p"},
	{"http://example.com/p?q=%7e%2f", "http://example.com/p?q=~%2F"},
	{"http://user:secret@evil.example/login", "http://evil.example/login"},
	{"http://example.com./x", "http://example.com/x"},
	{"  http://example.com/x \r\n", "http://example.com/x"},
	{"http://example.com\\a\\b", "http://example.com/a/b"},
	{"http://0x7f.1/x", "http://127.0.0.1/x"},
	{"http://3232235777/", "http://192.168.1.1/"},
	{"http://[2001:DB8:0:0::1]:443/x", "http://[2001:db8::1]:443/x"},
	{"https://[::1]:443/", "https://[::1]/"},
	{"ftp://files.example.com:21/a", "ftp://files.example.com/a"},
};

TEST_LOOP(test_normalize_table, 0, sizeof norm_cases / sizeof norm_cases[0])
{
	sps_url u, again;
	ctd_err err;
	const char *in = norm_cases[_i].in, *want = norm_cases[_i].norm;
	ck_assert_msg(sps_url_parse(in, &u, &err) == 0, "%s: %s", in, err.msg);
	ck_assert_str_eq(u.norm, want);
	/* idempotent */
	ck_assert_int_eq(sps_url_parse(u.norm, &again, &err), 0);
	ck_assert_str_eq(again.norm, u.norm);
	sps_url_free(&again);
	sps_url_free(&u);
}

TEST(test_parts)
{
	sps_url u;
	ck_assert_int_eq(sps_url_parse("HTTPS://Sub.Example.COM:8443/A/b/?x=1", &u, NULL), 0);
	ck_assert_str_eq(u.scheme, "https");
	ck_assert_str_eq(u.host, "sub.example.com");
	ck_assert_int_eq(u.port, 8443);
	ck_assert_int_eq(u.host_is_ip, 0);
	ck_assert_str_eq(u.path, "/A/b");
	ck_assert_str_eq(u.query, "x=1");
	ck_assert_str_eq(u.rest, "sub.example.com:8443/A/b?x=1");
	sps_url_free(&u);

	ck_assert_int_eq(sps_url_parse("http://10.0.0.5/x", &u, NULL), 0);
	ck_assert_int_eq(u.host_is_ip, 4);
	ck_assert_str_eq(u.host, "10.0.0.5");
	sps_url_free(&u);
	ck_assert_int_eq(sps_url_parse("http://[fe80::1]/", &u, NULL), 0);
	ck_assert_int_eq(u.host_is_ip, 6);
	ck_assert_str_eq(u.host, "fe80::1");
	sps_url_free(&u);
}

TEST(test_bad_urls)
{
	const char *bad[] = {"", "   ", "http://", "http://exa mple.com/", "http://a.com:99999/",
			     "http:///path"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sps_url u;
		ctd_err err;
		ck_assert_msg(sps_url_parse(bad[i], &u, &err) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(err.code, CTD_EINVAL);
	}
	char *huge = malloc(10000);
	memset(huge, 'a', 9999);
	huge[9999] = '\0';
	sps_url u;
	ctd_err err;
	ck_assert_int_eq(sps_url_parse(huge, &u, &err), -1);
	ck_assert_int_eq(err.code, CTD_ETOOBIG);
	free(huge);
}

TEST(test_so_values)
{
	char *d = sps_domain_normalize("*.Evil.Example.");
	ck_assert_str_eq(d, "evil.example");
	free(d);
	d = sps_domain_normalize("http://Evil.Example/x");
	ck_assert_str_eq(d, "evil.example");
	free(d);
	ck_assert_ptr_null(sps_domain_normalize("bad domain"));
	ck_assert_ptr_null(sps_domain_normalize(""));

	char *ip = sps_ip_normalize("[2001:DB8::0:1]");
	ck_assert_str_eq(ip, "2001:db8::1");
	free(ip);
	ip = sps_ip_normalize("10.1.2.3");
	ck_assert_str_eq(ip, "10.1.2.3");
	free(ip);
	ck_assert_ptr_null(sps_ip_normalize("10.1.2"));

	char sha1[41];
	ck_assert(sps_sha1_normalize("3395856ce81f2b7382dee72602f798b642f14140", sha1));
	ck_assert_str_eq(sha1, "3395856CE81F2B7382DEE72602F798B642F14140");
	ck_assert(!sps_sha1_normalize("3395856ce81f2b7382dee72602f798b642f1414", sha1));
	ck_assert(!sps_sha1_normalize("zz95856ce81f2b7382dee72602f798b642f14140", sha1));
}

/* ---- rules ---- */

static const struct {
	int kind;
	const char *pattern;
	int subsites;
	const char *url;
	int match;
} rule_cases[] = {
	/* URL and its subsites: host or subdomain, path prefix at a segment */
	{SPS_RULE_URL, "http://example.com", 1, "http://example.com/", 1},
	{SPS_RULE_URL, "http://example.com", 1, "https://EXAMPLE.com/any/page?x", 1},
	{SPS_RULE_URL, "example.com", 1, "http://www.example.com/x", 1},
	{SPS_RULE_URL, "example.com", 1, "http://badexample.com/", 0},
	{SPS_RULE_URL, "example.com", 1, "http://example.com.evil.net/", 0},
	{SPS_RULE_URL, "http://example.com/shop", 1, "http://example.com/shop/cart", 1},
	{SPS_RULE_URL, "http://example.com/shop/", 1, "http://example.com/shop", 1},
	{SPS_RULE_URL, "http://example.com/shop", 1, "http://example.com/shopping", 0},
	{SPS_RULE_URL, "http://example.com:8080/", 1, "http://example.com/", 0},
	{SPS_RULE_URL, "http://example.com:8080/", 1, "http://example.com:8080/a", 1},
	/* single page: the normalised URL, scheme aside */
	{SPS_RULE_URL, "http://example.com/a/page.html", 0, "https://example.com/a/./page.html#x", 1},
	{SPS_RULE_URL, "http://example.com/a/page.html", 0, "http://example.com/a/page.html/x", 0},
	{SPS_RULE_URL, "http://example.com/p?id=1", 1, "http://example.com/p?id=1", 1},
	{SPS_RULE_URL, "http://example.com/p?id=1", 1, "http://example.com/p?id=2", 0},
	/* keyword: POSIX extended regex over the normalised URL, case-insensitive */
	{SPS_RULE_KEYWORD, "casino|poker", 0, "http://example.com/Online-POKER", 1},
	{SPS_RULE_KEYWORD, "casino|poker", 0, "http://example.com/cards", 0},
	{SPS_RULE_KEYWORD, "^https://[^/]*\\.example\\.org/", 0, "https://a.example.org/x", 1},
	{SPS_RULE_KEYWORD, "^https://[^/]*\\.example\\.org/", 0, "http://a.example.org/x", 0},
	{SPS_RULE_KEYWORD, "/login$", 0, "http://bank.example/login/", 1},
};

TEST_LOOP(test_rule_table, 0, sizeof rule_cases / sizeof rule_cases[0])
{
	ctd_err err;
	sps_rule *r = sps_rule_new(_i + 1, rule_cases[_i].kind, rule_cases[_i].pattern,
				   rule_cases[_i].subsites, 1, &err);
	ck_assert_msg(r != NULL, "%s: %s", rule_cases[_i].pattern, err.msg);
	sps_url u;
	ck_assert_int_eq(sps_url_parse(rule_cases[_i].url, &u, &err), 0);
	ck_assert_msg(sps_rule_matches(r, &u) == rule_cases[_i].match, "rule %s vs %s: want %d",
		      rule_cases[_i].pattern, rule_cases[_i].url, rule_cases[_i].match);
	ck_assert_int_eq(sps_rule_id(r), _i + 1);
	ck_assert(sps_rule_blocks(r));
	sps_url_free(&u);
	sps_rule_free(r);
}

TEST(test_bad_rules)
{
	ctd_err err;
	ck_assert_ptr_null(sps_rule_new(1, SPS_RULE_KEYWORD, "(unclosed", 0, 1, &err));
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_ptr_null(sps_rule_new(1, SPS_RULE_URL, "http://", 1, 1, &err));
	ck_assert_ptr_null(sps_rule_new(1, SPS_RULE_URL, "", 1, 1, &err));
}

TEST(test_builtin_table)
{
	ck_assert_str_eq(sps_rating_for_score(0), "Dangerous");
	ck_assert_str_eq(sps_rating_for_score(50), "Dangerous");
	ck_assert_str_eq(sps_rating_for_score(51), "Highly Suspicious");
	ck_assert_str_eq(sps_rating_for_score(65), "Highly Suspicious");
	ck_assert_str_eq(sps_rating_for_score(66), "Suspicious");
	ck_assert_str_eq(sps_rating_for_score(71), "Unrated");
	ck_assert_str_eq(sps_rating_for_score(80), "Suspicious");
	ck_assert_str_eq(sps_rating_for_score(81), "Safe");
	const sps_testurl *t = sps_testurl_find("WRS21.winshipway.com");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(sps_rating_for_score(t->score), "Dangerous");
	ck_assert_str_eq(sps_rating_for_score(sps_testurl_find("wrs65.winshipway.com")->score),
			 "Highly Suspicious");
	ck_assert_str_eq(sps_rating_for_score(sps_testurl_find("wrs70.winshipway.com")->score),
			 "Suspicious");
	ck_assert_str_eq(sps_rating_for_score(sps_testurl_find("wrs81.winshipway.com")->score),
			 "Safe");
	ck_assert_ptr_null(sps_testurl_find("winshipway.com"));
}
