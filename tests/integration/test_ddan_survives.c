/* test_ddan_survives.c - the sandbox survives its samples (issue 16): a
 * sample and an archive member named in Latin-1 are analysed and reported
 * with their names carried as UTF-8 (they used to segfault ddand); a sample
 * whose analysis never finished (the "attempted" mark left in lab.db, as a
 * crash leaves it) is marked Error on the next start, reported through
 * get_brief_report and get_report, and ddand serves on; a tgz bomb is
 * analysed within the documented caps. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddan_testkit.h"
#include "hash.h"
#include "store.h"
#include "testlib.h"
#include "util.h"

static const char *const ddpy_wire[] = {"X-DTAS-Time", "X-DTAS-Challenge", "X-DTAS-ProtocolVersion",
					"X-DTAS-ProductName", "X-DTAS-ClientHostname",
					"X-DTAS-ClientUUID", "X-DTAS-SourceID", "X-DTAS-SourceName",
					NULL};
static const tk_style ddpy = {.name = "dd-py", .wire = ddpy_wire, .order_header = 1,
			      .time_last_in_order = 1, .protocol = "1.5",
			      .uuid = "5A3C1E2B-0000-4000-8000-00000000D0D0", .body_in_checksum = 1};

static tk_daemon dd;

static void setup(void)
{
	tk_start(&dd, "ddan-survives", NULL);
}

static void teardown(void)
{
	tk_stop(&dd); /* asserts ddand exits cleanly: it did not crash */
}

static void upload(const void *data, size_t len, const char *filename, char sha1[41])
{
	tk_sha1_upper(data, len, sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = data, .data_len = len,
			       .filename = filename, .content_type = "application/octet-stream"};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &ddpy, "POST", "simple_upload_sample", params, NULL, 0, NULL,
				 &part, 1, &r),
			 200);
	http_response_free(&r);
}

static char *report(const char *sha1)
{
	const char *q[] = {"X-DTAS-SHA1", sha1, NULL};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &ddpy, "GET", "get_report", q, NULL, 0, NULL, NULL, 0, &r), 200);
	char *xml = xstrdup(r.body.data);
	http_response_free(&r);
	return xml;
}

static la_ssize_t sb_write(struct archive *a, void *cls, const void *buf, size_t n)
{
	(void)a;
	sbuf_append(cls, buf, n);
	return (la_ssize_t)n;
}

/* A tar (gzip'd when gz) of `count` members of `len` bytes of `fill` after
 * `head`, named `name`, or "<name>1", "<name>2"... when count > 1. */
static void make_tar(sbuf *out, int gz, const char *name, const char *head, char fill, size_t len,
		     int count)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_ustar(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	ck_assert_int_eq(archive_write_open(a, out, NULL, sb_write, NULL), ARCHIVE_OK);
	char *body = xmalloc(len);
	memset(body, fill, len);
	memcpy(body, head, strlen(head));
	for (int i = 1; i <= count; i++) {
		struct archive_entry *e = archive_entry_new();
		char *path = count > 1 ? xasprintf("%s%d", name, i) : xstrdup(name);
		archive_entry_set_pathname(e, path);
		archive_entry_set_size(e, (la_int64_t)len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, body, len);
		archive_entry_free(e);
		free(path);
	}
	free(body);
	archive_write_close(a);
	archive_write_free(a);
}

/* The direct upload path: a Latin-1 file name and a Latin-1 archive member. */
TEST(latin1_names_over_dtas)
{
	const char *data = "ctdlab known-bad sample\n"; /* the built-in SHA-1 rule's sample */
	char sha1[41];
	upload(data, strlen(data), "r\xe9sum\xe9.exe", sha1);
	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 4);
	ck_assert_int_eq(risk, 3);
	char *xml = report(sha1);
	ck_assert_ptr_nonnull(strstr(xml, "<OrigFileName>r\xef\xbf\xbdsum\xef\xbf\xbd.exe</OrigFileName>"));
	free(xml);

	sbuf tar = {0};
	make_tar(&tar, 0, "caf\xe9/\xe9t\xe9.txt", "payload CTDLAB-RISK-HIGH", ' ', 64, 1);
	upload(tar.data, tar.len, "\xff.tar", sha1);
	ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 4);
	ck_assert_int_eq(risk, 3);
	xml = report(sha1);
	ck_assert_ptr_nonnull(strstr(xml, "<OrigFileName>\xef\xbf\xbdt\xef\xbf\xbd.txt</OrigFileName>"));
	free(xml);
	sbuf_free(&tar);
}

/* A crash mid-analysis leaves the row Processing with the attempted mark
 * set; the next ddand marks it Error (never analysed again) and serves. */
TEST(crashed_analysis_is_marked_failed)
{
	const char *data = "would crash the analyser CTDLAB-RISK-HIGH\n";
	char sha1[41];
	tk_sha1_upper(data, strlen(data), sha1);
	tk_halt(&dd);

	char *db = xasprintf("%s/lab.db", dd.home);
	store *st;
	ctd_err err;
	ck_assert_int_eq(store_open(db, &st, &err), 0);
	sqlite3_stmt *s = store_stmt(st,
				     "INSERT INTO ddan_samples (sha1, id, orig_name, size, data, status, "
				     "submitted_ms, started_ms, due_ms, attempted_ms) "
				     "VALUES (?1, 1, 'crash.txt', ?2, ?3, 3, 1, 1, 1, 1)",
				     &err);
	ck_assert_ptr_nonnull(s);
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)strlen(data));
	sqlite3_bind_blob(s, 3, data, (int)strlen(data), SQLITE_STATIC);
	ck_assert_int_eq(store_step_done(st, s, &err), 0);
	store_close(st);
	free(db);

	tk_resume(&dd, NULL);
	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 5);
	ck_assert_int_eq(risk, -1);
	char *xml = report(sha1);
	ck_assert_ptr_nonnull(strstr(xml, "<OVERALL_RISK_LEVEL>-19</OVERALL_RISK_LEVEL>"));
	free(xml);
	ck_assert_int_eq(tk_status(&dd, &ddpy, "GET", "test_connection", NULL, NULL, 0, NULL), 200);

	/* resubmitted by hand, it is analysed once more (and here finishes) */
	upload(data, strlen(data), "crash.txt", sha1);
	ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 4);
	ck_assert_int_eq(risk, 3);
}

/* A gzip'd tar of four 30 MB members (120 MB from ~120 KB): max_expanded
 * (64 MB) stops the extraction in the third member, the fourth is not read,
 * the analysis finishes and ddand lives on. */
TEST(tgz_bomb_is_capped)
{
	sbuf tgz = {0};
	make_tar(&tgz, 1, "zeros", "CTDLAB-RISK-MEDIUM", 0, (size_t)30 << 20, 4);
	ck_assert_uint_lt(tgz.len, 200000);
	char sha1[41];
	upload(tgz.data, tgz.len, "bomb.tgz", sha1);
	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 4);
	ck_assert_int_eq(risk, 2);
	char *xml = report(sha1);
	ck_assert_ptr_nonnull(strstr(xml, "<OrigFileName>zeros3</OrigFileName>"));
	ck_assert_ptr_null(strstr(xml, "zeros4"));
	free(xml);
	sbuf_free(&tgz);
}

TL_SUITE(.timeout = 120, .setup = setup, .teardown = teardown);
