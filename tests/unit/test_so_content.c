/* test_so_content.c - unit tests of common/so_content.c: per-type syntax and
 * canonical form of SO content, the field named in every refusal, free-text
 * rules, the XML 1.0 character test and the scrubbing of an unparsable feed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "so_content.h"
#include "testlib.h"

/* value normalises to want */
static void accepts(const char *type, const char *value, const char *want)
{
	ctd_err err = {0};
	char *out = NULL;
	ck_assert_msg(so_content_normalise("content", type, value, &out, &err) == 0, "%s %s: %s",
		      type, value, err.msg);
	ck_assert_str_eq(out, want);
	free(out);
}

/* value is refused with a message naming the field and containing why */
static void refuses(const char *type, const char *value, const char *why)
{
	ctd_err err = {0};
	char *out = (char *)"unset";
	ck_assert_int_eq(so_content_normalise("content", type, value, &out, &err), -1);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_msg(strncmp(err.msg, "content", 7) == 0, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, why) != NULL, "'%s' lacks '%s'", err.msg, why);
}

TEST(file_is_a_sha1_in_upper_case)
{
	accepts("FILE", " 3395856ce81f2b7382dee72602f798b642f14140\n",
		"3395856CE81F2B7382DEE72602F798B642F14140");
	accepts("file", "3395856CE81F2B7382DEE72602F798B642F14140",
		"3395856CE81F2B7382DEE72602F798B642F14140");
	refuses("FILE", "3395856ce81f2b7382dee72602f798b642f1414", "40 hex digits, not 39");
	refuses("FILE", "3395856ce81f2b7382dee72602f798b642f1414g", "byte 39");
}

TEST(domain_labels_and_case)
{
	accepts("DOMAIN", "Evil.CTDLAB.test.", "evil.ctdlab.test");
	accepts("DOMAIN", "*.ads_x.lab", "*.ads_x.lab");
	refuses("DOMAIN", "a..lab", "label");
	refuses("DOMAIN", "bad host.lab", "' ' is not allowed");
	char label[70];
	memset(label, 'a', 64);
	strcpy(label + 64, ".lab");
	refuses("DOMAIN", label, "1 to 63 bytes");
}

TEST(ip_is_written_canonically)
{
	accepts("IP", "10.0.0.9", "10.0.0.9");
	accepts("IP", "2001:DB8:0:0::1", "2001:db8::1");
	accepts("IP", "[::1]", "::1");
	refuses("IP", "10.0.0.300", "not an IPv4 or IPv6 address");
	refuses("IP", "evil.lab", "not an IPv4 or IPv6 address");
}

TEST(url_scheme_host_and_characters)
{
	accepts("URL", "HTTP://Evil.Lab:8080/Path?Q=A", "http://evil.lab:8080/Path?Q=A");
	accepts("URL", "https://user:Pw@Host.lab/", "https://user:Pw@host.lab/");
	accepts("URL", "http://evil.lab/r\xc3\xa9sum\xc3\xa9", "http://evil.lab/r\xc3\xa9sum\xc3\xa9");
	refuses("URL", "evil.lab/x", "scheme://");
	/* found by fuzz_tmcm_udso: a scheme-like word up to the end was read past it */
	refuses("URL", "HTTPle", "scheme://");
	refuses("URL", "a+b", "scheme://");
	refuses("URL", "http:///x", "no host");
	refuses("URL", "http://evil.lab/a b", "blank at byte 17");
	char *big = malloc(SO_URL_MAX + 16);
	strcpy(big, "http://a.lab/");
	memset(big + 13, 'x', SO_URL_MAX);
	big[SO_URL_MAX + 13] = '\0';
	refuses("URL", big, "longer than 2047 bytes");
	free(big);
}

/* the case of issue 16: U+0001 in any type, and bytes that are not UTF-8 */
TEST(control_characters_and_bad_utf8_refused)
{
	refuses("URL", "http://evil.lab/\x01x", "control character U+0001 at byte 16");
	refuses("DOMAIN", "evil\x01.lab", "control character U+0001");
	refuses("IP", "10.0.0.1\x7f", "control character U+007F");
	refuses("URL", "http://evil.lab/\xc2\x85", "control character U+0085");
	refuses("URL", "http://evil.lab/r\xe9sum\xe9", "byte 17 is not UTF-8");
	refuses("URL", "http://evil.lab/\xef\xbf\xbd", "U+FFFD");
	refuses("URL", "   ", "content is empty");
	refuses("HASH", "x", "unknown object type");
	ctd_err err = {0};
	char *out;
	ck_assert_int_eq(so_content_normalise("content", "URL", NULL, &out, &err), -1);
	ck_assert_str_eq(err.msg, "content is required");
}

TEST(free_text_rules)
{
	ctd_err err = {0};
	ck_assert_int_eq(so_text_check("notes", "two\nlines\tand tabs", 256, &err), 0);
	ck_assert_int_eq(so_text_check("notes", NULL, 256, &err), 0);
	ck_assert_int_eq(so_text_check("notes", "a\x1b[31mred", 256, &err), -1);
	ck_assert_str_eq(err.msg, "notes: control character U+001B at byte 1");
	ck_assert_int_eq(so_text_check("file_name", "abcdef", 5, &err), -1);
	ck_assert_str_eq(err.msg, "file_name: longer than 5 bytes");
}

TEST(xml_safe_characters)
{
	ck_assert(so_xml_safe("plain <&> text\twith\nlines \xc3\xa9"));
	ck_assert(so_xml_safe(""));
	ck_assert(!so_xml_safe("a\x01" "b"));
	ck_assert(!so_xml_safe("r\xe9s"));
	ck_assert(!so_xml_safe("\xef\xbf\xbf")); /* U+FFFF */
}

TEST(scrub_replaces_what_xml_cannot_parse)
{
	size_t n = 0;
	const char *fine = "<V>caf\xc3\xa9 &#233; &#x41; &amp;</V>";
	ck_assert_ptr_null(so_xml_scrub(fine, strlen(fine), &n));
	const char *bad = "<V>a\x01" "b&#1;c&#x1F;d\xe9" "e&#9;</V>";
	char *out = so_xml_scrub(bad, strlen(bad), &n);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, "<V>a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "d\xef\xbf\xbd"
			      "e&#9;</V>");
	free(out);
}

/* Issue 17: the scrub and the safety check skip plain ASCII eight bytes at
 * a time; what needs a look is found at every offset of a word, and DEL and
 * '~' (the edges of the plain range) are left alone. */
TEST(scrub_finds_a_bad_byte_at_any_offset)
{
	for (size_t at = 0; at < 20; at++) {
		char in[32], want[40];
		memset(in, 'x', 24);
		in[24] = '\0';
		memcpy(want, in, at);
		in[at] = '\x01';
		snprintf(want + at, sizeof want - at, "\xef\xbf\xbd%s", in + at + 1);
		size_t n = 0;
		char *out = so_xml_scrub(in, strlen(in), &n);
		ck_assert_ptr_nonnull(out);
		ck_assert_str_eq(out, want);
		free(out);
		ck_assert(!so_xml_safe(in));
		in[at] = '&'; /* looked at: only a bad character reference goes */
		ck_assert_ptr_null(so_xml_scrub(in, strlen(in), &n));
		in[at] = '\x7f';
		ck_assert_ptr_null(so_xml_scrub(in, strlen(in), &n));
		ck_assert(so_xml_safe(in));
		in[at] = '~';
		ck_assert_ptr_null(so_xml_scrub(in, strlen(in), &n));
	}
	const char *ref = "xxxxxxx&#1;xxxxxxxx";
	size_t n = 0;
	char *out = so_xml_scrub(ref, strlen(ref), &n);
	ck_assert_str_eq(out, "xxxxxxx\xef\xbf\xbdxxxxxxxx");
	free(out);
}

/* IMSVA's stored keys were made by this function before it moved here: a
 * change to it would leave them unfindable, so one is pinned. */
TEST(key_of_a_pair)
{
	const char *sha1 = "3395856CE81F2B7382DEE72602F798B642F14140";
	ck_assert_int_eq(so_content_key("FILE", sha1), 3545211571843691784LL);
	ck_assert_int_eq(so_content_key("file", sha1), so_content_key("FILE", sha1));
	ck_assert_int_ne(so_content_key("URL", sha1), so_content_key("FILE", sha1));
	ck_assert_int_ne(so_content_key("DOMAIN", "a.example"),
			 so_content_key("DOMAIN", "b.example"));
	ck_assert_int_ne(so_content_key("DOMAIN", "a.example"),
			 so_content_key("DOMAIN", "A.example")); /* values are canonical already */
}

TL_SUITE();
