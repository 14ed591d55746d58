/* test_imsva_mime.c - IMSVA's MIME view: nested multiparts and
 * message/rfc822, base64 and quoted-printable bodies, RFC 2047 / RFC 2231
 * file names, true file types, digests, archive members, URLs from text and
 * HTML parts, malformed input, and the modify-action rewrite. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "imsva/imsva_engine.h"
#include "util.h"
#include "testlib.h"

#define EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

static imsva_msg *parse(const char *raw)
{
	imsva_msg *m = NULL;
	ctd_err err = {0};
	ck_assert_msg(imsva_msg_parse(raw, strlen(raw), &m, &err) == 0, "parse: %s", err.msg);
	return m;
}

static const imsva_part *part_named(const imsva_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].filename && !strcmp(m->parts[i].filename, name))
			return &m->parts[i];
	ck_abort_msg("no part named %s", name);
	return NULL;
}

static int has_url(const imsva_msg *m, const char *url)
{
	for (size_t i = 0; i < m->nurls; i++)
		if (!strcmp(m->urls[i], url))
			return 1;
	return 0;
}

/* A small Windows executable header: enough for libmagic. */
static unsigned char *fake_exe(size_t *len)
{
	*len = 256;
	unsigned char *d = xcalloc(1, *len);
	memcpy(d, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", 14);
	return d;
}

/* A zip holding the given (name, data, len) members, built with libarchive. */
static char *make_zip(size_t *outlen, int n, const char **names, const void **datas,
		      const size_t *lens)
{
	size_t cap = 1 << 16;
	char *buf = xmalloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	ck_assert_int_eq(archive_write_open_memory(a, buf, cap, outlen), ARCHIVE_OK);
	for (int i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_size(e, (la_int64_t)lens[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		ck_assert_int_eq(archive_write_data(a, datas[i], lens[i]), (la_ssize_t)lens[i]);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}

static char *b64_lines(const void *data, size_t len)
{
	char *flat = base64_encode(data, len);
	sbuf b = {0};
	for (size_t i = 0, n = strlen(flat); i < n; i += 76) {
		sbuf_append(&b, flat + i, n - i < 76 ? n - i : 76);
		sbuf_puts(&b, "\r\n");
	}
	free(flat);
	return sbuf_detach(&b);
}

static const char nested[] =
	"From: Alice <alice@example.com>\r\n"
	"To: Bob <bob@example.net>\r\n"
	"Subject: =?UTF-8?B?6KuL5rGC5pu4?= and more\r\n"
	"Message-ID: <nested-1@example.com>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	"\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	"\r\n"
	"--alt\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Caf=C3=A9 invoice: see https://files.example.com/a/very/long/path/that/is/=\r\n"
	"split.html and www.example.org.\r\n"
	"Again: https://files.example.com/a/very/long/path/that/is/split.html\r\n"
	"\r\n"
	"--alt\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	/* <html><body><a href="https://evil.example/login?a=1&amp;b=2">Log in</a>
	 * <img src="http://img.example/x.png"><a href="mailto:x@y">m</a>
	 * <p>Text link http://text.example/p</p><script>var u="http://script.example/";</script></body></html> */
	"%s"
	"\r\n"
	"--alt--\r\n"
	"\r\n"
	"--outer\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Disposition: attachment; filename*=UTF-8''%%E8%%AB%%8B%%E6%%B1%%82.pdf\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"%s"
	"\r\n"
	"--outer\r\n"
	"Content-Type: application/octet-stream; name=\"=?ISO-8859-1?Q?r=E9sum=E9=2Eexe?=\"\r\n"
	"Content-Disposition: attachment; filename=\"=?ISO-8859-1?Q?r=E9sum=E9=2Eexe?=\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"%s"
	"\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: inner@example.com\r\n"
	"Subject: inner\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"in\"\r\n"
	"\r\n"
	"--in\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Disposition: attachment; filename=\"hello.txt\"\r\n"
	"\r\n"
	"hello\n\r\n"
	"--in--\r\n"
	"\r\n"
	"--outer--\r\n";

static char *nested_message(void)
{
	const char *html =
		"<html><body><a href=\" https://evil.example/login?a=1&amp;b=2 \">Log in</a>"
		"<img src=\"http://img.example/x.png\"><a href=\"mailto:x@y\">m</a>"
		"<p>Text link http://text.example/p</p>"
		"<script>var u=\"http://script.example/\";</script></body></html>";
	const char *pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
	size_t exelen;
	unsigned char *exe = fake_exe(&exelen);
	char *h64 = b64_lines(html, strlen(html));
	char *p64 = b64_lines(pdf, strlen(pdf));
	char *e64 = b64_lines(exe, exelen);
	char *raw = xasprintf(nested, h64, p64, e64);
	free(h64);
	free(p64);
	free(e64);
	free(exe);
	return raw;
}

TEST(test_nested_structure)
{
	char *raw = nested_message();
	imsva_msg *m = parse(raw);
	ck_assert_int_eq(m->malformed, 0);
	ck_assert_str_eq(m->subject, "請求書 and more");
	ck_assert_str_eq(m->from, "alice@example.com");
	ck_assert_str_eq(m->message_id, "nested-1@example.com");
	ck_assert_uint_eq(m->nparts, 5);
	/* body parts: QP text and base64 HTML, both decoded */
	ck_assert(m->parts[0].is_body && !strcmp(m->parts[0].content_type, "text/plain"));
	ck_assert(m->parts[1].is_body && !strcmp(m->parts[1].content_type, "text/html"));
	ck_assert_ptr_nonnull(strstr(m->body_text, "Café invoice"));
	ck_assert_ptr_nonnull(strstr(m->body_text, "Log in"));
	ck_assert_ptr_null(strstr(m->body_text, "script.example"));
	ck_assert_uint_eq(imsva_msg_attachment_count(m), 3);

	const imsva_part *pdf = part_named(m, "請求.pdf"); /* RFC 2231 */
	ck_assert(pdf->is_attachment);
	ck_assert_int_eq(pdf->tft_class, IMSVA_TFT_DOCUMENT);
	ck_assert_str_eq(pdf->tft_type, "pdf");
	ck_assert_str_eq(pdf->magic_mime, "application/pdf");
	const imsva_part *exe = part_named(m, "résumé.exe"); /* RFC 2047 in a parameter */
	ck_assert_int_eq(exe->tft_class, IMSVA_TFT_EXECUTABLE);
	ck_assert_str_eq(exe->tft_type, "exe");
	ck_assert_uint_eq(exe->size, 256);
	const imsva_part *txt = part_named(m, "hello.txt"); /* inside message/rfc822 */
	ck_assert_int_eq(txt->tft_class, IMSVA_TFT_TEXT);
	ck_assert_int_ge(txt->depth, 2);
	ck_assert_str_eq(txt->md5, "b1946ac92492d2347c6235b4d2611184");
	ck_assert_str_eq(txt->sha1, "f572d396fae9206628714fb2ce00f72e94f2258f");
	ck_assert_str_eq(txt->sha256,
			 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	imsva_msg_free(m);
	free(raw);
}

TEST(test_urls)
{
	char *raw = nested_message();
	imsva_msg *m = parse(raw);
	/* QP soft break joined, deduplicated, www. prefixed, trailing dot dropped */
	ck_assert(has_url(m, "https://files.example.com/a/very/long/path/that/is/split.html"));
	ck_assert(has_url(m, "http://www.example.org"));
	/* HTML: href (entities decoded, trimmed), img src, text; not mailto, not script */
	ck_assert(has_url(m, "https://evil.example/login?a=1&b=2"));
	ck_assert(has_url(m, "http://img.example/x.png"));
	ck_assert(has_url(m, "http://text.example/p"));
	ck_assert(!has_url(m, "http://script.example/"));
	ck_assert_uint_eq(m->nurls, 5);
	imsva_msg_free(m);
	free(raw);
}

TEST(test_text_url_edges)
{
	imsva_msg *m = parse("Subject: u\r\n\r\n"
			     "(see https://a.example/x_(y)) and <http://b.example/q?z=1>, "
			     "ftp://c.example/f; xhttp://no.example/ http:// www.x\r\n");
	ck_assert(has_url(m, "https://a.example/x_(y)"));
	ck_assert(has_url(m, "http://b.example/q?z=1"));
	ck_assert(has_url(m, "ftp://c.example/f"));
	ck_assert(!has_url(m, "xhttp://no.example/"));
	ck_assert_uint_eq(m->nurls, 3);
	imsva_msg_free(m);
}

static char *mail_with_attachment(const char *filename, const void *data, size_t len)
{
	char *b64 = b64_lines(data, len);
	char *raw = xasprintf("From: a@example.com\r\nTo: b@example.net\r\nSubject: att\r\n"
			      "MIME-Version: 1.0\r\n"
			      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			      "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
			      "--b\r\nContent-Type: application/octet-stream\r\n"
			      "Content-Disposition: attachment; filename=\"%s\"\r\n"
			      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
			      filename, b64);
	free(b64);
	return raw;
}

TEST(test_urls_from_undeclared_html)
{
	/* the seed's URL test file, attached as application/octet-stream */
	const char *html = "<!DOCTYPE html>\n<html><body><p><a href=\"http://malicious.ctdlab.test/"
			   "payload\">link</a></p></body></html>\n";
	char *raw = mail_with_attachment("url_test.html", html, strlen(html));
	imsva_msg *m = parse(raw);
	ck_assert_str_eq(part_named(m, "url_test.html")->tft_type, "html");
	ck_assert(has_url(m, "http://malicious.ctdlab.test/payload"));
	ck_assert_ptr_null(strstr(m->body_text, "link")); /* attachments are not body text */
	imsva_msg_free(m);
	free(raw);
}

TEST(test_archive_members)
{
	size_t exelen, ziplen, innerlen;
	unsigned char *exe = fake_exe(&exelen);
	const char *inner_names[] = {"deep/eicar.com"};
	const void *inner_data[] = {EICAR};
	size_t inner_lens[] = {strlen(EICAR)};
	char *inner = make_zip(&innerlen, 1, inner_names, inner_data, inner_lens);
	const char *names[] = {"docs/readme.txt", "bin/setup.exe", "inner.zip"};
	const void *datas[] = {"hello\n", exe, inner};
	size_t lens[] = {6, exelen, innerlen};
	char *zip = make_zip(&ziplen, 3, names, datas, lens);
	char *raw = mail_with_attachment("bundle.zip", zip, ziplen);
	imsva_msg *m = parse(raw);

	const imsva_part *z = part_named(m, "bundle.zip");
	ck_assert_int_eq(z->tft_class, IMSVA_TFT_COMPRESSED);
	ck_assert_str_eq(z->tft_type, "zip");
	const imsva_part *readme = part_named(m, "docs/readme.txt");
	ck_assert_int_eq(readme->parent, z->index);
	ck_assert_str_eq(readme->sha1, "f572d396fae9206628714fb2ce00f72e94f2258f");
	const imsva_part *setup = part_named(m, "bin/setup.exe");
	ck_assert_int_eq(setup->tft_class, IMSVA_TFT_EXECUTABLE);
	ck_assert(setup->is_attachment);
	const imsva_part *in = part_named(m, "inner.zip");
	const imsva_part *eicar = part_named(m, "deep/eicar.com");
	ck_assert_int_eq(eicar->parent, in->index);
	ck_assert_uint_eq(eicar->size, strlen(EICAR));

	imsva_scan_opts so = {.atse_enabled = 1};
	ck_assert_int_eq(imsva_scan(m, &so), 1);
	ck_assert_str_eq(part_named(m, "deep/eicar.com")->virus_name, "Eicar_test_file");
	ck_assert_ptr_null(part_named(m, "bundle.zip")->virus_name);
	imsva_msg_free(m);
	free(raw);
	free(zip);
	free(inner);
	free(exe);
}

TEST(test_gzip_member)
{
	/* gzip of "hello\n" (a single compressed stream: one member) */
	static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
					   0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
					   0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};
	char *raw = mail_with_attachment("notes.txt.gz", gz, sizeof gz);
	imsva_msg *m = parse(raw);
	ck_assert_str_eq(part_named(m, "notes.txt.gz")->tft_type, "gzip");
	const imsva_part *inner = part_named(m, "notes.txt");
	ck_assert_str_eq(inner->sha1, "f572d396fae9206628714fb2ce00f72e94f2258f");
	imsva_msg_free(m);
	free(raw);
}

TEST(test_true_file_types)
{
	static const struct {
		const char *name, *data;
		size_t len;
		imsva_tft_class cls;
		const char *type;
	} cases[] = {
		{"a.pdf", "%PDF-1.4\n%%EOF\n", 15, IMSVA_TFT_DOCUMENT, "pdf"},
		{"a.rtf", "{\\rtf1\\ansi hello}", 18, IMSVA_TFT_DOCUMENT, "rtf"},
		{"a.bin", "#!/bin/sh\necho hi\n", 18, IMSVA_TFT_SCRIPT, "sh"},
		{"a.vbs", "MsgBox \"hi\"\r\n", 13, IMSVA_TFT_SCRIPT, "vbs"},
		{"a.txt", "hello\n", 6, IMSVA_TFT_TEXT, "txt"},
		{"a.dat", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14, IMSVA_TFT_IMAGE, "gif"},
		{"a.dat", "\x00\x01\x02\x03\xfe\xff\x10\x20", 8, IMSVA_TFT_OTHER, "other"},
	};
	ck_assert_int_eq(imsva_engine_init(NULL), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		imsva_tft_class cls;
		const char *type, *label;
		imsva_true_file_type(cases[i].data, cases[i].len, cases[i].name, &cls, &type, &label);
		ck_assert_msg(cls == cases[i].cls && !strcmp(type, cases[i].type),
			      "case %zu: got %s/%s", i, imsva_tft_class_name(cls), type);
		ck_assert_ptr_nonnull(label);
	}
	/* a .pdf name does not fool the true file type */
	size_t len;
	unsigned char *exe = fake_exe(&len);
	imsva_tft_class cls;
	const char *type, *label;
	imsva_true_file_type(exe, len, "fake.pdf", &cls, &type, &label);
	ck_assert_int_eq(cls, IMSVA_TFT_EXECUTABLE);
	ck_assert_str_eq(type, "exe");
	free(exe);
	ck_assert_int_eq(imsva_tft_id_valid("document"), 0);
	ck_assert_int_eq(imsva_tft_id_valid("docx"), 0);
	ck_assert_int_eq(imsva_tft_id_valid("ps1"), 0);
	ck_assert_int_eq(imsva_tft_id_valid("nonsense"), -1);
}

TEST(test_ooxml_by_members)
{
	const char *names[] = {"[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"};
	const void *datas[] = {"<Types/>", "<w:document/>", "\xd0\xcf\x11\xe0"};
	size_t lens[] = {8, 13, 4};
	size_t len;
	char *zip = make_zip(&len, 3, names, datas, lens);
	char *raw = mail_with_attachment("report.docm", zip, len);
	imsva_msg *m = parse(raw);
	const imsva_part *doc = part_named(m, "report.docm");
	ck_assert_int_eq(doc->tft_class, IMSVA_TFT_DOCUMENT);
	ck_assert_str_eq(doc->tft_type, "docx");
	/* documents are not expanded into members */
	ck_assert_uint_eq(m->nparts, 2);
	imsva_msg_free(m);
	free(raw);
	free(zip);
}

TEST(test_malformed_input)
{
	static const char *inputs[] = {
		"",
		"no headers at all, just text with http://bare.example/ in it",
		"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
		"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64"
		"\r\n--zz", /* no closing boundary, bad base64 */
		"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n",
		"\x00\x01\x02\xff\xfe",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		imsva_msg *m = NULL;
		size_t len = i == 4 ? 5 : strlen(inputs[i]);
		ck_assert_int_eq(imsva_msg_parse(inputs[i], len, &m, NULL), 0);
		ck_assert_ptr_nonnull(m->subject);
		ck_assert_ptr_nonnull(m->body_text);
		imsva_scan_opts o = {.atse_enabled = 1};
		imsva_scan(m, &o);
		imsva_msg_free(m);
	}
	imsva_msg *m = parse("no headers at all, just text with http://bare.example/ in it");
	ck_assert(has_url(m, "http://bare.example/"));
	imsva_msg_free(m);
}

TEST(test_empty_attachment)
{
	imsva_msg *m = parse("Subject: e\r\nMIME-Version: 1.0\r\n"
			     "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			     "--b\r\nContent-Type: application/octet-stream\r\n"
			     "Content-Disposition: attachment; filename=\"empty.bin\"\r\n\r\n"
			     "--b--\r\n");
	const imsva_part *p = part_named(m, "empty.bin");
	ck_assert_uint_eq(p->size, 0);
	ck_assert_int_eq(p->tft_class, IMSVA_TFT_OTHER);
	ck_assert_str_eq(p->sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	imsva_msg_free(m);
}

TEST(test_deep_nesting_is_bounded)
{
	sbuf b = {0};
	sbuf_puts(&b, "Subject: deep\r\nMIME-Version: 1.0\r\n");
	for (int i = 0; i < 200; i++)
		sbuf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	sbuf_puts(&b, "Content-Type: text/plain\r\n\r\ndeep text\r\n");
	imsva_msg *m = parse(b.data);
	ck_assert_uint_le(m->nparts, 1);
	imsva_msg_free(m);
	sbuf_free(&b);
}

TEST(test_rewrite)
{
	const char *raw = "From: a@example.com\r\nTo: b@example.net\r\nSubject: Quarterly report\r\n"
			  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
			  "Body line.\r\n";
	imsva_verdict v = {0};
	char *tags[] = {"[Spam]", "[Ext]"};
	char *stamps[] = {"Scanned by the lab IMSVA."};
	imsva_xheader xh = {"X-Lab-Scan", "done"};
	v.subject_tags = (imsva_strv){tags, 2};
	v.stamps = (imsva_strv){stamps, 1};
	v.xheaders = &xh;
	v.nxheaders = 1;
	char *out;
	size_t outlen;
	ck_assert_int_eq(imsva_msg_rewrite(raw, strlen(raw), &v, &out, &outlen, NULL), 0);
	imsva_msg *m = parse(out);
	ck_assert_str_eq(m->subject, "[Ext] [Spam] Quarterly report");
	ck_assert_ptr_nonnull(strstr(m->body_text, "Body line."));
	ck_assert_ptr_nonnull(strstr(m->body_text, "Scanned by the lab IMSVA."));
	ck_assert_ptr_nonnull(strstr(out, "X-Lab-Scan: done"));
	imsva_msg_free(m);
	free(out);

	imsva_verdict none = {0};
	ck_assert_int_eq(imsva_msg_rewrite(raw, strlen(raw), &none, &out, &outlen, NULL), 0);
	ck_assert_uint_eq(outlen, strlen(raw));
	ck_assert_str_eq(out, raw);
	free(out);
}

/* A body is typed by its declared content type (libmagic is for files): a
 * text body starting with #! is plain text, the same bytes attached a script. */
TEST(test_body_typed_as_declared)
{
	imsva_msg *m = parse("From: a@example.com\r\nTo: b@example.net\r\nSubject: s\r\n"
			     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
			     "--b\r\nContent-Type: text/plain\r\n\r\n#!/bin/sh\r\necho hi\r\n"
			     "--b\r\nContent-Type: text/html\r\n\r\n{\\rtf1\\ansi hello}\r\n"
			     "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment;"
			     " filename=run\r\n\r\n#!/bin/sh\r\necho hi\r\n--b--\r\n");
	ck_assert_uint_eq(m->nparts, 3);
	ck_assert(m->parts[0].is_body && m->parts[1].is_body);
	ck_assert_int_eq(m->parts[0].tft_class, IMSVA_TFT_TEXT);
	ck_assert_str_eq(m->parts[0].tft_type, "txt");
	ck_assert_str_eq(m->parts[0].magic_mime, "text/plain");
	ck_assert_int_eq(m->parts[1].tft_class, IMSVA_TFT_TEXT);
	ck_assert_str_eq(m->parts[1].tft_type, "html");
	const imsva_part *run = part_named(m, "run");
	ck_assert_int_eq(run->tft_class, IMSVA_TFT_SCRIPT);
	ck_assert_str_eq(run->tft_type, "sh");
	imsva_msg_free(m);
}

/* libmagic sees the first 64 KiB: a big text with a binary tail is text,
 * binary bytes within the first 64 KiB make it "other". */
TEST(test_file_type_from_a_bounded_prefix)
{
	size_t len = 200 << 10;
	char *data = xmalloc(len);
	memset(data, 'a', len);
	for (size_t i = 80; i < len; i += 81)
		data[i] = '\n';
	memset(data + (100 << 10), 0, 1024);
	imsva_tft_class cls;
	const char *type, *label;
	ck_assert_int_eq(imsva_engine_init(NULL), 0);
	imsva_true_file_type(data, len, "big.log", &cls, &type, &label);
	ck_assert_int_eq(cls, IMSVA_TFT_TEXT);
	ck_assert_str_eq(type, "txt");
	memset(data + 1024, 0, 1024);
	imsva_true_file_type(data, len, "big.log", &cls, &type, &label);
	ck_assert_int_eq(cls, IMSVA_TFT_OTHER);
	free(data);
}
