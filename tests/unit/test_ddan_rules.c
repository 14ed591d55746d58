/* test_ddan_rules.c - unit tests of DDAN's verdict rules and analysis:
 * EICAR, lab markers, SHA-1 lists, true file types, archives with children,
 * URLs from text/HTML/Office XML, URL submissions, rule-file validation and
 * the shipped seed samples. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "../../mocks/ddan/ddan_rules.h"
#include "seed_samples.h"
#include "hash.h"
#include "util.h"
#include "testlib.h"

static ddan_rules *rules;

static void setup(void)
{
	ctd_err err;
	rules = ddan_rules_load(NULL, &err);
	ck_assert_msg(rules != NULL, "%s", err.msg);
}

static void teardown(void)
{
	ddan_rules_free(rules);
}

static json_t *analyze_str(const char *s, const char *name)
{
	return ddan_analyze(rules, 0, s, strlen(s), name, NULL);
}

static int risk_of(json_t *r)
{
	return (int)json_integer_value(json_object_get(r, "risk"));
}

TEST(eicar_is_high)
{
	json_t *r = analyze_str("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
				"eicar.com");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 4);
	ck_assert_int_eq(risk_of(r), 3);
	ck_assert_str_eq(json_string_value(json_object_get(r, "virus_name")), "Eicar_test_file");
	json_decref(r);
}

TEST(markers_per_level)
{
	static const struct {
		const char *text;
		int risk;
	} cases[] = {
		{"hello CTDLAB-RISK-HIGH", 3},
		{"hello CTDLAB-RISK-MEDIUM", 2},
		{"hello CTDLAB-RISK-LOW", 1},
		{"plain harmless text", 0},
		{"CTDLAB-RISK-LOW and CTDLAB-RISK-MEDIUM", 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *r = analyze_str(cases[i].text, "a.txt");
		ck_assert_int_eq(risk_of(r), cases[i].risk);
		json_decref(r);
	}
}

TEST(status_markers)
{
	json_t *r = analyze_str("CTDLAB-STATUS-ERROR", "e.txt");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 5);
	json_decref(r);
	r = analyze_str("CTDLAB-STATUS-TIMEOUT", "t.txt");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 6);
	json_decref(r);
}

TEST(sha1_list_and_empty)
{
	json_t *r = analyze_str("ctdlab known-bad sample\n", "x.bin");
	ck_assert_int_eq(risk_of(r), 3);
	ck_assert_str_eq(json_string_value(json_object_get(r, "virus_name")), "TROJ_CTDLAB.SHA1");
	json_decref(r);
	r = ddan_analyze(rules, 0, "", 0, "empty.txt", NULL);
	ck_assert_int_eq(risk_of(r), -1);
	json_decref(r);
}

static la_ssize_t sb_write(struct archive *a, void *cls, const void *buf, size_t n)
{
	(void)a;
	sbuf_append(cls, buf, n);
	return (la_ssize_t)n;
}

/* A zip with the given members (name, content pairs, NULL-terminated). */
static void make_zip(sbuf *out, const char *const *members)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	ck_assert_int_eq(archive_write_open(a, out, NULL, sb_write, NULL), ARCHIVE_OK);
	for (size_t i = 0; members[i]; i += 2) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, members[i]);
		archive_entry_set_size(e, (la_int64_t)strlen(members[i + 1]));
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, members[i + 1], strlen(members[i + 1]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

TEST(archive_children)
{
	const char *members[] = {"docs/readme.txt", "nothing here", "inner/bad.txt",
				 "payload CTDLAB-RISK-HIGH", NULL};
	sbuf zip = {0};
	make_zip(&zip, members);
	json_t *r = ddan_analyze(rules, 0, zip.data, zip.len, "bundle.zip", NULL);
	ck_assert_int_eq(risk_of(r), 3);
	json_t *objs = json_object_get(r, "objects");
	ck_assert_int_eq(json_array_size(objs), 3);
	json_t *root = json_array_get(objs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(root, "true_type")), "ZIP");
	ck_assert_int_eq(json_integer_value(json_object_get(root, "risk")), 0);
	json_t *bad = json_array_get(objs, 2);
	ck_assert_str_eq(json_string_value(json_object_get(bad, "name")), "bad.txt");
	ck_assert_str_eq(json_string_value(json_object_get(bad, "parent_sha1")),
			 json_string_value(json_object_get(root, "sha1")));
	ck_assert_int_eq(json_integer_value(json_object_get(bad, "risk")), 3);
	json_decref(r);
	sbuf_free(&zip);
}

/* Regression (issue 16): a name that is not UTF-8 made json_pack fail and the
 * NULL object reached the SHA-1 rule's strcasecmp. Names are carried with
 * U+FFFD in place of each bad byte, the sample's and an archive member's. */
TEST(latin1_names_are_carried)
{
	json_t *r = analyze_str("ctdlab known-bad sample\n", "r\xe9sum\xe9.exe");
	ck_assert_int_eq(risk_of(r), 3);
	json_t *root = json_array_get(json_object_get(r, "objects"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(root, "name")),
			 "r\xef\xbf\xbdsum\xef\xbf\xbd.exe");
	json_decref(r);

	const char *members[] = {"d\xe9j\xe0/caf\xe9.txt", "ctdlab known-bad sample\n", NULL};
	sbuf zip = {0};
	make_zip(&zip, members);
	r = ddan_analyze(rules, 0, zip.data, zip.len, "\xff\xfe.zip", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 4);
	ck_assert_int_eq(risk_of(r), 3);
	json_t *objs = json_object_get(r, "objects");
	ck_assert_int_eq(json_array_size(objs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 0), "name")),
			 "\xef\xbf\xbd\xef\xbf\xbd.zip");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 1), "name")),
			 "caf\xef\xbf\xbd.txt");
	json_decref(r);
	sbuf_free(&zip);

	const char *url = "http://bad.example/r\xe9sum\xe9";
	r = ddan_analyze(rules, 1, url, strlen(url), "", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "objects")), 1);
	json_decref(r);
}

/* max_expanded bounds the bytes taken out of archives, whatever the members
 * claim: the member past it is skipped and the log says why. */
TEST(expanded_bytes_are_capped)
{
	const char *doc = "{\"rules\": [{\"name\": \"m\", \"risk\": 3, \"contains\": [\"BAD\"]}], "
			  "\"max_expanded\": 1500}";
	ctd_err err = {0};
	ddan_rules *small = ddan_rules_parse(doc, strlen(doc), &err);
	ck_assert_msg(small != NULL, "%s", err.msg);
	char *a = xmalloc(1001), *b = xmalloc(1001);
	memset(a, 'a', 1000);
	memset(b, 'b', 1000);
	memcpy(b, "BAD", 3);
	a[1000] = b[1000] = 0;
	const char *members[] = {"a.txt", a, "b.txt", b, "c.txt", "BAD", NULL};
	sbuf zip = {0};
	make_zip(&zip, members);
	json_t *r = ddan_analyze(small, 0, zip.data, zip.len, "big.zip", NULL);
	/* a.txt whole, b.txt cut at the 500 bytes left, c.txt not read */
	json_t *objs = json_object_get(r, "objects");
	ck_assert_int_eq(json_array_size(objs), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(objs, 2), "size")), 500);
	int capped = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(r, "events"), i, ev) capped |=
		!strcmp(json_string_value(json_object_get(ev, "event")), "Archive extraction limit");
	ck_assert(capped);
	json_decref(r);
	sbuf_free(&zip);
	free(a);
	free(b);
	ddan_rules_free(small);
}

TEST(broken_archive_is_not_fatal)
{
	/* incompressible content, so cutting the zip in half lands inside the data */
	char *noise = xmalloc(4001);
	unsigned x = 12345;
	for (int i = 0; i < 4000; i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (char)(' ' + (x >> 16) % 90);
	}
	noise[4000] = 0;
	const char *members[] = {"a.txt", noise, NULL};
	sbuf zip = {0};
	make_zip(&zip, members);
	json_t *r = ddan_analyze(rules, 0, zip.data, zip.len / 2, "cut.zip", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 4);
	int noted = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(r, "events"), i, ev)
	{
		const char *name = json_string_value(json_object_get(ev, "event"));
		noted |= !strcmp(name, "Archive extraction incomplete") ||
			 !strcmp(name, "Archive member unreadable");
	}
	ck_assert(noted);
	json_decref(r);
	sbuf_free(&zip);
	free(noise);
}

static int has_url(json_t *r, const char *url)
{
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(r, "urls"), i, u) if (
		!strcmp(json_string_value(json_object_get(u, "url")), url)) return 1;
	return 0;
}

TEST(urls_from_text_and_html)
{
	json_t *r = analyze_str("see http://Malicious.CTDLAB.test/payload, and (https://ok.example/x).",
				"t.txt");
	ck_assert(has_url(r, "http://malicious.ctdlab.test/payload"));
	ck_assert(has_url(r, "https://ok.example/x"));
	ck_assert_int_eq(risk_of(r), 3); /* carries a malicious URL */
	json_decref(r);

	r = analyze_str("<html><body><a href=\"http://suspicious.ctdlab.test/a?x=1&amp;y=2\">x</a>"
			"<p>text http://plain.example/</p></body></html>",
			"p.html");
	ck_assert_str_eq(json_string_value(json_object_get(r, "true_type")), "HTML");
	ck_assert(has_url(r, "http://suspicious.ctdlab.test/a?x=1&y=2"));
	ck_assert(has_url(r, "http://plain.example/"));
	ck_assert_int_eq(risk_of(r), 2);
	json_decref(r);
}

TEST(urls_from_office_xml)
{
	const char *members[] = {
		"[Content_Types].xml",
		"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
		"content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/>"
		"<Override PartName=\"/word/document.xml\" ContentType=\"application/"
		"vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>",
		"word/document.xml",
		"<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/"
		"wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>visit "
		"http://in-text.example/doc</w:t></w:r></w:p></w:body></w:document>",
		"word/_rels/document.xml.rels",
		"<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/"
		"2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
		"officeDocument/2006/relationships/hyperlink\" Target=\"http://malicious.ctdlab.test/"
		"docx\" TargetMode=\"External\"/></Relationships>",
		NULL};
	sbuf zip = {0};
	make_zip(&zip, members);
	json_t *r = ddan_analyze(rules, 0, zip.data, zip.len, "doc.docx", NULL);
	ck_assert(has_url(r, "http://malicious.ctdlab.test/docx"));
	ck_assert(has_url(r, "http://in-text.example/doc"));
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(r, "urls"), i, u)
		ck_assert_ptr_null(strstr(json_string_value(json_object_get(u, "url")), "openxmlformats"));
	ck_assert_int_eq(json_array_size(json_object_get(r, "objects")), 1); /* parts are not children */
	ck_assert_int_eq(risk_of(r), 3);
	json_decref(r);
	sbuf_free(&zip);
}

TEST(url_submission)
{
	const char *url = "http://malicious.ctdlab.test/payload";
	json_t *r = ddan_analyze(rules, 1, url, strlen(url), url, NULL);
	ck_assert_int_eq(risk_of(r), 3);
	ck_assert_str_eq(json_string_value(json_object_get(r, "true_type")), "URL");
	json_t *u = json_array_get(json_object_get(r, "urls"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(u, "host")), "malicious.ctdlab.test");
	json_decref(r);
	const char *clean = "https://www.example.com/";
	r = ddan_analyze(rules, 1, clean, strlen(clean), clean, NULL);
	ck_assert_int_eq(risk_of(r), 0);
	json_decref(r);
}

TEST(url_normalize)
{
	char *host = NULL;
	char *u = ddan_url_normalize("HTTP://user@Example.COM:8080", &host);
	ck_assert_str_eq(u, "http://example.com:8080/");
	ck_assert_str_eq(host, "example.com");
	free(u), free(host);
	ck_assert_ptr_null(ddan_url_normalize("ftp://x/", NULL));
	ck_assert(ddan_host_is_ip("10.1.2.3"));
	ck_assert(ddan_host_is_ip("[::1]"));
	ck_assert(!ddan_host_is_ip("a.example"));
}

TEST(rules_validation)
{
	static const char *const bad[] = {
		"[]",
		"{\"rules\": [{\"risk\": 3, \"contains\": [\"x\"]}]}",
		"{\"rules\": [{\"name\": \"n\", \"risk\": 9, \"contains\": [\"x\"]}]}",
		"{\"rules\": [{\"name\": \"n\", \"risk\": 3}]}",
		"{\"rules\": [{\"name\": \"n\", \"risk\": 3, \"contains\": [\"x\"], \"url\": [\"*\"]}]}",
		"{\"rules\": [{\"name\": \"n\", \"contains\": [\"x\"]}]}",
		"{\"rules\": [{\"name\": \"n\", \"risk\": 1, \"contains\": []}]}",
		"{\"rules\": [{\"name\": \"n\", \"status\": \"maybe\", \"contains\": [\"x\"]}]}",
		"{not json",
		"{\"rules\": [], \"max_analysis_ms\": 0}",
		"{\"rules\": [], \"max_expanded\": -1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ctd_err err = {0};
		ddan_rules *r = ddan_rules_parse(bad[i], strlen(bad[i]), &err);
		ck_assert_msg(r == NULL, "accepted: %s", bad[i]);
		ck_assert_int_eq(err.code, CTD_EINVAL);
		ck_assert(err.msg[0]);
	}
	ck_assert_uint_ge(ddan_rules_count(rules), 8);
}

TEST(seed_samples_are_high)
{
	size_t n;
	const seed_sample *s = seed_samples_all(&n);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		json_t *r = ddan_analyze(rules, 0, s[i].data, s[i].len, s[i].file_name, NULL);
		ck_assert_msg(risk_of(r) == 3, "%s not high", s[i].file_name);
		json_decref(r);
	}
	json_t *r = ddan_analyze(rules, 0, s[0].data, s[0].len, s[0].file_name, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "true_type")), "Win32 EXE");
	json_decref(r);
	r = ddan_analyze(rules, 0, s[2].data, s[2].len, s[2].file_name, NULL);
	ck_assert(has_url(r, SEED_URL));
	json_decref(r);
}

TL_SUITE(.setup = setup, .teardown = teardown);
