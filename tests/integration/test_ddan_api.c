/* test_ddan_api.c - ddand over HTTPS as the public DTAS clients drive it:
 * dd-py (order header listing Time/Challenge last while sending them first),
 * the PHP DDAN_API client (every header, `Name:value`, digits-only
 * ClientUUID, whole tgz PUT body in the checksum, LastMinute 0, no
 * LastQueryID) and the Siemplify manager (protocol 2.0, no order header,
 * 13-digit ms time, reused challenge, multipart file and URL); the
 * submit → report → SO cycle, HTTP 102 → XML, get_black_lists paging,
 * artefacts, authentication failures and bad input. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "ddan_testkit.h"
#include "dtas.h"
#include "hash.h"
#include "sofeed.h"
#include "testlib.h"
#include "util.h"
#include "seed_samples.h"

static tk_daemon dd;

static const char *const ddpy_wire[] = {"X-DTAS-Time", "X-DTAS-Challenge", "X-DTAS-ProtocolVersion",
					"X-DTAS-ProductName", "X-DTAS-ClientHostname",
					"X-DTAS-ClientUUID", "X-DTAS-SourceID", "X-DTAS-SourceName",
					NULL};
static const tk_style ddpy = {.name = "dd-py", .wire = ddpy_wire, .order_header = 1,
			      .time_last_in_order = 1, .protocol = "1.5",
			      .uuid = "5A3C1E2B-0000-4000-8000-00000000D0D0", .body_in_checksum = 1};

static const char *const php_wire[] = {"X-DTAS-ProtocolVersion", "X-DTAS-ProductName",
				       "X-DTAS-ClientHostname", "X-DTAS-ClientUUID",
				       "X-DTAS-SourceID", "X-DTAS-SourceName", "X-DTAS-Time",
				       "X-DTAS-Challenge", NULL};
static const tk_style php = {.name = "php", .wire = php_wire, .order_header = 1, .nospace = 1,
			     .body_in_checksum = 1, .protocol = "1.4", .uuid = "1234567890123456",
			     .challenge = "12345678-1234-1234-1234-123456789012"};

static const char *const siem_wire[] = {"X-DTAS-ProtocolVersion", "X-DTAS-ClientUUID",
					"X-DTAS-Time", "X-DTAS-Challenge", "X-DTAS-ProductName",
					"X-DTAS-ClientHostname", "X-DTAS-SourceID",
					"X-DTAS-SourceName", NULL};
static const tk_style siem = {.name = "siemplify", .wire = siem_wire, .order_header = 0,
			      .ms_time = 1, .body_in_checksum = 1, .protocol = "2.0",
			      .uuid = "9C1D7A40-5E4B-4C39-9F7E-5B1E2A000001",
			      .challenge = "0f8fad5b-d9cb-469f-a165-70867728950e"};

static void setup(void)
{
	const char *extra[] = {"--feed_page_size", "2", "--max_body", "262144", NULL};
	tk_start(&dd, "ddan-api", extra);
}

static void teardown(void)
{
	tk_stop(&dd);
}

TEST(ddpy_test_connection_minimal_headers)
{
	/* dd-py's test_connection: only ProtocolVersion, Time, Challenge */
	static const char *const wire[] = {"X-DTAS-Time", "X-DTAS-Challenge", "X-DTAS-ProtocolVersion", NULL};
	tk_style s = ddpy;
	s.wire = wire;
	ck_assert_int_eq(tk_status(&dd, &s, "GET", "test_connection", NULL, NULL, 0, NULL), 200);
	ck_assert_int_eq(tk_status(&dd, &ddpy, "GET", "register", NULL, NULL, 0, NULL), 200);
}

TEST(auth_failures_name_the_reason)
{
	http_response r;
	/* no checksum at all */
	const char *bare[] = {"X-DTAS-ProtocolVersion: 1.5", NULL};
	char *url = xasprintf("%s%stest_connection", dd.url, DTAS_PREFIX);
	ck_assert_int_eq(tl_http("GET", url, bare, NULL, &r), 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "missing header X-DTAS-Checksum"));
	http_response_free(&r);
	/* wrong key */
	tk_daemon other = dd;
	other.key = "00000000-0000-0000-0000-000000000000";
	ck_assert_int_eq(tk_call(&other, &siem, "GET", "test_connection", NULL, NULL, 0, NULL, NULL, 0, &r),
			 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "bad checksum"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "unknown API key"));
	http_response_free(&r);
	/* an order header naming a header that is not sent */
	const char *lines[] = {"X-DTAS-Time: 1700000000",
			       "X-DTAS-ChecksumCalculatingOrder: X-DTAS-Time,X-DTAS-Challenge",
			       "X-DTAS-Checksum: 0000000000000000000000000000000000000000", NULL};
	ck_assert_int_eq(tl_http("GET", url, lines, NULL, &r), 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "missing header X-DTAS-Challenge"));
	http_response_free(&r);
	free(url);
	/* a PUT signed without its body */
	tk_style nobody = siem;
	nobody.body_in_checksum = 0;
	const char *sha1 = "0000000000000000000000000000000000000001";
	ck_assert_int_eq(tk_status(&dd, &nobody, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				   "text/plain"),
			 401);
}

/* A GET to service with X-DTAS-Time and Challenge fixed, an optional
 * X-DTAS-SHA1, the order header given and a checksum: the status, r kept. */
static long signed_get(const char *service, const char *sha1, const char *order, const char *sum,
		       http_response *r)
{
	dtas_header h[] = {{"X-DTAS-ProtocolVersion", "1.5"},
			   {"X-DTAS-Time", "1700000000"},
			   {"X-DTAS-Challenge", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},
			   {"X-DTAS-SHA1", sha1 ? sha1 : ""}};
	size_t nh = sha1 ? 4 : 3;
	char own[41];
	if (!sum) {
		dtas_checksum(dd.key, h, nh, order, NULL, 0, own);
		sum = own;
	}
	char *lines[8];
	size_t n = 0;
	for (size_t i = 0; i < nh; i++)
		lines[n++] = xasprintf("%s: %s", h[i].name, h[i].value);
	lines[n++] = xasprintf("X-DTAS-ChecksumCalculatingOrder: %s", order);
	lines[n++] = xasprintf("X-DTAS-Checksum: %s", sum);
	lines[n] = NULL;
	char *url = xasprintf("%s%s%s", dd.url, DTAS_PREFIX, service);
	long status = tl_http("GET", url, (const char *const *)lines, NULL, r);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(url);
	return status;
}

/* Issue 16: an order header of "," signs nothing but the key; one that signs
 * none of Time, Challenge, ClientUUID or the call's own header is refused,
 * and a checksum seen on one call does not authorise another. */
TEST(weak_order_and_replay_refused)
{
	http_response r;
	ck_assert_int_eq(signed_get("test_connection", NULL, ",", NULL, &r), 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "signs none of the headers"));
	http_response_free(&r);
	ck_assert_int_eq(signed_get("test_connection", NULL, "X-DTAS-ProtocolVersion", NULL, &r), 401);
	http_response_free(&r);
	/* the same fixed Time and Challenge signed properly is fine (clients reuse them) */
	ck_assert_int_eq(signed_get("test_connection", NULL, "X-DTAS-Time,X-DTAS-Challenge", NULL, &r),
			 200);
	http_response_free(&r);
	/* a get_report call seen on the wire, replayed for another sample */
	const char *seen_sha1 = "1111111111111111111111111111111111111111";
	const char *order = "X-DTAS-ProtocolVersion,X-DTAS-Time,X-DTAS-Challenge,X-DTAS-SHA1";
	dtas_header h[] = {{"X-DTAS-ProtocolVersion", "1.5"},
			   {"X-DTAS-Time", "1700000000"},
			   {"X-DTAS-Challenge", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},
			   {"X-DTAS-SHA1", seen_sha1}};
	char seen[41];
	dtas_checksum(dd.key, h, 4, order, NULL, 0, seen);
	ck_assert_int_eq(signed_get("get_report", seen_sha1, order, seen, &r), 421);
	http_response_free(&r);
	ck_assert_int_eq(signed_get("get_report", "2222222222222222222222222222222222222222", order,
				    seen, &r),
			 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "bad checksum"));
	http_response_free(&r);
	/* and a test_connection checksum that signed nothing identifying is no key either */
	dtas_header t[] = {{"X-DTAS-ProtocolVersion", "1.5"}};
	char weak[41];
	dtas_checksum(dd.key, t, 1, "X-DTAS-ProtocolVersion", NULL, 0, weak);
	ck_assert_int_eq(signed_get("get_report", seen_sha1, "X-DTAS-ProtocolVersion", weak, &r), 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "signs none of the headers"));
	http_response_free(&r);
}

/* dd-py: register, multipart simple_upload_sample (body not in the checksum),
 * verdict, report, SOs. */
TEST(ddpy_submit_file_cycle)
{
	ck_assert_int_eq(tk_status(&dd, &ddpy, "GET", "register", NULL, NULL, 0, NULL), 200);
	const char *data = "dd-py sample CTDLAB-RISK-HIGH\n";
	char sha1[41];
	tk_sha1_upper(data, strlen(data), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = data, .data_len = strlen(data),
			       .filename = "ddpy.txt", .content_type = "application/octet-stream"};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &ddpy, "POST", "simple_upload_sample", params, NULL, 0, NULL,
				 &part, 1, &r),
			 200);
	http_response_free(&r);
	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 4);
	ck_assert_int_eq(risk, 3);

	const char *q[] = {"X-DTAS-SHA1", sha1, NULL};
	ck_assert_int_eq(tk_call(&dd, &ddpy, "GET", "get_report", q, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<REPORTS"));
	char *want = xasprintf("<FileSHA1>%s</FileSHA1>", sha1);
	ck_assert_ptr_nonnull(strstr(r.body.data, want));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<OrigFileName>ddpy.txt</OrigFileName>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<OVERALL_RISK_LEVEL>3</OVERALL_RISK_LEVEL>"));
	ck_assert_ptr_nonnull(strstr(http_response_header(&r, "Content-Type"), "charset=utf-8"));
	free(want);
	http_response_free(&r);

	ck_assert_int_eq(tk_call(&dd, &ddpy, "GET", "get_suspicious_object_by_sha1", q, NULL, 0, NULL,
				 NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<Return>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<TYPE>FILE</TYPE>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<RISK_LEVEL>High</RISK_LEVEL>"));
	http_response_free(&r);
}

/* PHP: every header, Name:value, digits-only UUID; check_duplicate (empty
 * when unknown), raw tgz upload_sample signed over the whole archive, then the
 * duplicate check finds it, and get_black_lists without LastQueryID. */
TEST(php_raw_tgz_upload)
{
	ck_assert_int_eq(tk_status(&dd, &php, "GET", "register", NULL, NULL, 0, NULL), 200);
	const char *data = "php sample CTDLAB-RISK-MEDIUM\n";
	char sha1[41];
	tk_sha1_upper(data, strlen(data), sha1);
	const char *dup[] = {"X-DTAS-LastMinute", "0", NULL};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &php, "PUT", "check_duplicate_sample", dup, sha1, strlen(sha1),
				 "text/plain", NULL, 0, &r),
			 200);
	ck_assert_uint_eq(r.body.len, 0); /* unknown: a completely empty body */
	http_response_free(&r);

	dtas_client c = {.client_uuid = "1234567890123456", .source_id = "10002"};
	sbuf tgz = {0};
	char got[41], asha1[41];
	ctd_err err;
	ck_assert_int_eq(dtas_build_sample_tgz(&c, data, strlen(data), "php.txt", 0, time_now_ms(), &tgz,
					       got, &err),
			 0);
	ck_assert_str_eq(got, sha1);
	hash_hex(HASH_SHA1, tgz.data, tgz.len, asha1);
	char *fname = xasprintf("20250101-000000_%s.tgz", asha1);
	const char *up[] = {"X-DTAS-Archive-SHA1", asha1, "X-DTAS-Archive-Filename", fname, NULL};
	ck_assert_int_eq(tk_status(&dd, &php, "PUT", "upload_sample", up, tgz.data, tgz.len,
				   "application/x-compressed"),
			 200);
	free(fname);
	sbuf_free(&tgz);

	ck_assert_int_eq(tk_call(&dd, &php, "PUT", "check_duplicate_sample", dup, sha1, strlen(sha1),
				 "text/plain", NULL, 0, &r),
			 200);
	ck_assert_str_eq(r.body.data, sha1);
	http_response_free(&r);

	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &php, sha1, &risk), 4);
	ck_assert_int_eq(risk, 2); /* medium: no FILE SO (File SHA-1 SOs are High only) */
	ck_assert_int_eq(tk_call(&dd, &php, "GET", "get_black_lists", NULL, NULL, 0, NULL, NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<BLACK_LISTS"));
	ck_assert_ptr_null(strstr(r.body.data, sha1));
	http_response_free(&r);
}

/* Siemplify: 2.0, no order header, ms time, one challenge for everything;
 * a multipart URL submission makes URL and DOMAIN SOs; event log and SO
 * queries keep Return non-empty. */
TEST(siemplify_url_submission)
{
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "register", NULL, NULL, 0, NULL), 200);
	const char *url = "http://malicious.ctdlab.test/siemplify";
	char sha1[41];
	tk_sha1_upper(url, strlen(url), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "1", NULL};
	/* Python requests sends a URL part with filename "uploadsample" */
	http_form_part part = {.name = "uploadsample", .data = url, .data_len = strlen(url),
			       .filename = "uploadsample"};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &siem, "POST", "simple_upload_sample", params, NULL, 0, NULL,
				 &part, 1, &r),
			 200);
	http_response_free(&r);
	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &siem, sha1, &risk), 4);
	ck_assert_int_eq(risk, 3);

	const char *q[] = {"X-DTAS-SHA1", sha1, NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_report", q, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<TrueFileType>URL</TrueFileType>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<OrigFileName>http://malicious.ctdlab.test/siemplify<"));
	http_response_free(&r);

	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_suspicious_object_by_sha1", q, NULL, 0, NULL,
				 NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<VALUE>http://malicious.ctdlab.test/siemplify</VALUE>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<VALUE>malicious.ctdlab.test</VALUE>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "<TYPE>DOMAIN</TYPE>"));
	http_response_free(&r);

	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_event_log", q, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<EventLogs>"));
	ck_assert_ptr_nonnull(strstr(r.body.data, "Accesses URL"));
	http_response_free(&r);

	/* check_duplicate with the body in the checksum, no order header */
	ck_assert_int_eq(tk_call(&dd, &siem, "PUT", "check_duplicate_sample", NULL, sha1, strlen(sha1),
				 "text/plain", NULL, 0, &r),
			 200);
	ck_assert_str_eq(r.body.data, sha1);
	http_response_free(&r);

	/* a clean, known sample: SO query answers a Return without an empty REPORTS */
	const char *clean = "nothing to see here\n";
	char csha1[41];
	tk_sha1_upper(clean, strlen(clean), csha1);
	const char *cp[] = {"X-DTAS-SHA1", csha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part cpart = {.name = "uploadsample", .data = clean, .data_len = strlen(clean),
				.filename = "clean.txt"};
	ck_assert_int_eq(tk_call(&dd, &siem, "POST", "simple_upload_sample", cp, NULL, 0, NULL, &cpart, 1,
				 &r),
			 200);
	http_response_free(&r);
	ck_assert_int_eq(tk_wait_done(&dd, &siem, csha1, &risk), 4);
	ck_assert_int_eq(risk, 0);
	const char *cq[] = {"X-DTAS-SHA1", csha1, NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_suspicious_object_by_sha1", cq, NULL, 0, NULL,
				 NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<SHA1>"));
	ck_assert_ptr_null(strstr(r.body.data, "REPORTS"));
	http_response_free(&r);
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "unregister", NULL, NULL, 0, NULL), 200);
}

TEST(unknown_sha1_is_421)
{
	const char *q[] = {"X-DTAS-SHA1", "abcdefabcdefabcdefabcdefabcdefabcdefabcd", NULL};
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "get_report", q, NULL, 0, NULL), 421);
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "get_sample", q, NULL, 0, NULL), 421);
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "get_suspicious_object_by_sha1", q, NULL, 0, NULL),
			 421);
	const char *sha1 = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &siem, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				 "text/plain", NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<STATUS>1</STATUS>"));
	http_response_free(&r);
}

/* get_report answers 102 while analysing, then the XML (seen with a raw
 * client: libcurl treats 1xx as interim). Its own daemon: a 2 s analysis. */
TEST(report_102_then_xml)
{
	tk_daemon slow;
	const char *extra[] = {"--analysis_time", "2s", NULL};
	tk_start(&slow, "ddan-102", extra);
	const char *data = "slow one CTDLAB-RISK-LOW\n";
	char sha1[41];
	tk_sha1_upper(data, strlen(data), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = data, .data_len = strlen(data),
			       .filename = "slow.txt"};
	http_response r;
	ck_assert_int_eq(tk_call(&slow, &ddpy, "POST", "simple_upload_sample", params, NULL, 0, NULL,
				 &part, 1, &r),
			 200);
	http_response_free(&r);
	char *req = tk_raw_get(&slow, "get_report", sha1);
	char *out;
	ck_assert_int_eq(tk_raw(&slow, req, &out), 102);
	free(out);
	free(req);
	int risk;
	ck_assert_int_eq(tk_wait_done(&slow, &ddpy, sha1, &risk), 4);
	ck_assert_int_eq(risk, 1);
	req = tk_raw_get(&slow, "get_report", sha1);
	ck_assert_int_eq(tk_raw(&slow, req, &out), 200);
	ck_assert_ptr_nonnull(strstr(out, "<REPORTS"));
	ck_assert_ptr_nonnull(strstr(out, sha1));
	free(out);
	free(req);
	tk_stop(&slow);
}

static void submit_text(const char *text, char sha1[41])
{
	tk_sha1_upper(text, strlen(text), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = text, .data_len = strlen(text),
			       .filename = "s.txt"};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &siem, "POST", "simple_upload_sample", params, NULL, 0, NULL, &part,
				 1, &r),
			 200);
	http_response_free(&r);
}

typedef struct collected {
	int n;
	int64_t ids[64];
} collected;

static int collect_id(const so_record *r, void *cls)
{
	collected *c = cls;
	if (c->n < 64)
		c->ids[c->n++] = r->id;
	return 0;
}

/* Page size 2: pages chain through LAST_QUERY_ID; sofeed_pull gets them all. */
TEST(black_lists_paging)
{
	char a[41], b[41];
	submit_text("page one CTDLAB-RISK-HIGH http://suspicious.ctdlab.test/one\n", a);
	submit_text("page two CTDLAB-RISK-HIGH\n", b);
	ck_assert_int_eq(tk_wait_done(&dd, &siem, a, NULL), 4);
	ck_assert_int_eq(tk_wait_done(&dd, &siem, b, NULL), 4);

	http_response r;
	const char *zero[] = {"X-DTAS-LastQueryID", "0", NULL};
	ck_assert_int_eq(tk_call(&dd, &php, "GET", "get_black_lists", zero, NULL, 0, NULL, NULL, 0, &r), 200);
	collected first = {0};
	int64_t last = 0;
	int more = 0;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(r.body.data, r.body.len, collect_id, &first, &last, &more, &err), 0);
	http_response_free(&r);
	ck_assert_int_eq(first.n, 2);
	ck_assert_int_eq(more, 1);
	ck_assert_int_eq(last, first.ids[1]);
	ck_assert_int_lt(first.ids[0], first.ids[1]);

	char cur[24];
	snprintf(cur, sizeof cur, "%lld", (long long)last);
	const char *next[] = {"X-DTAS-LastQueryID", cur, NULL};
	ck_assert_int_eq(tk_call(&dd, &php, "GET", "get_black_lists", next, NULL, 0, NULL, NULL, 0, &r), 200);
	collected second = {0};
	int64_t last2 = last;
	ck_assert_int_eq(sofeed_parse(r.body.data, r.body.len, collect_id, &second, &last2, &more, &err), 0);
	http_response_free(&r);
	ck_assert_int_ge(second.n, 1);
	ck_assert_int_gt(second.ids[0], last);

	/* the shared client pulls every page and ends on the newest id */
	dtas_client c = {.base_url = (char *)dd.url, .api_key = (char *)dd.key,
			 .client_uuid = "feed-puller", .protocol_version = "1.5"};
	collected all = {0};
	int64_t cursor = 0;
	long n = sofeed_pull(&c, &cursor, collect_id, &all, &err);
	ck_assert_msg(n >= 5, "pulled %ld: %s", n, err.msg); /* FILE a, URL, DOMAIN, FILE b + earlier */
	ck_assert_int_eq(all.n, n);
	ck_assert_int_eq(cursor, all.ids[all.n - 1]);
	/* nothing new: an incremental pull returns no records and keeps the cursor */
	int64_t before = cursor;
	ck_assert_int_eq(sofeed_pull(&c, &cursor, collect_id, &all, &err), 0);
	ck_assert_int_eq(cursor, before);
	ck_assert_int_eq(tk_status(&dd, &php, "GET", "get_black_lists",
				   (const char *[]){"X-DTAS-LastQueryID", "x", NULL}, NULL, 0, NULL),
			 400);
}

/* Archives and artefacts: get_sample as tgz and as zip encrypted with
 * "virus", screenshot PNG, pcap, OpenIOC, sample list. */
TEST(artefacts)
{
	char sha1[41];
	const char *text = "artefact sample CTDLAB-RISK-HIGH\n";
	submit_text(text, sha1);
	ck_assert_int_eq(tk_wait_done(&dd, &siem, sha1, NULL), 4);
	http_response r;
	const char *zip[] = {"X-DTAS-SHA1", sha1, "X-DTAS-ArchiveType", "zip", "X-DTAS-ArchiveEncrypted",
			     "1", NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_sample", zip, NULL, 0, NULL, NULL, 0, &r), 200);
	struct archive *a = archive_read_new();
	archive_read_support_format_zip(a);
	archive_read_add_passphrase(a, "virus");
	ck_assert_int_eq(archive_read_open_memory(a, r.body.data, r.body.len), ARCHIVE_OK);
	struct archive_entry *e;
	ck_assert_int_eq(archive_read_next_header(a, &e), ARCHIVE_OK);
	ck_assert(archive_entry_is_encrypted(e));
	char buf[256] = "";
	ck_assert_int_eq(archive_read_data(a, buf, sizeof buf - 1), (la_ssize_t)strlen(text));
	ck_assert_str_eq(buf, text);
	archive_read_free(a);
	http_response_free(&r);

	const char *tgz[] = {"X-DTAS-SHA1", sha1, NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_sample", tgz, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_int_eq((unsigned char)r.body.data[0], 0x1f);
	http_response_free(&r);
	const char *bad[] = {"X-DTAS-SHA1", sha1, "X-DTAS-ArchiveType", "tgz", "X-DTAS-ArchiveEncrypted",
			     "1", NULL};
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "get_sample", bad, NULL, 0, NULL), 400);

	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_sandbox_screenshot", tgz, NULL, 0, NULL, NULL, 0, &r),
			 200);
	ck_assert_int_eq(memcmp(r.body.data, "\x89PNG", 4), 0);
	http_response_free(&r);
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_pcap", tgz, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_int_eq((unsigned char)r.body.data[0], 0x1f);
	http_response_free(&r);
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_openioc_report", tgz, NULL, 0, NULL, NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "schemas.mandiant.com/2010/ioc"));
	ck_assert_ptr_nonnull(strstr(r.body.data, sha1));
	http_response_free(&r);

	char from[24], to[24];
	snprintf(from, sizeof from, "%lld", (long long)time(NULL) - 600);
	snprintf(to, sizeof to, "%lld", (long long)time(NULL) + 600);
	const char *list[] = {"X-DTAS-IntervalType", "0", "X-DTAS-IntervalStartingPoint", from,
			      "X-DTAS-IntervalEndPoint", to, NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "get_sample_list", list, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, sha1));
	http_response_free(&r);

	/* query_sample_info by SRID: SRIDs count from 1 */
	const char *srid[] = {"X-DTAS-SRID", "1", NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "GET", "query_sample_info", srid, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<SRID>1</SRID>"));
	http_response_free(&r);
	const char *nosrid[] = {"X-DTAS-SRID", "999999", NULL};
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "query_sample_info", nosrid, NULL, 0, NULL), 421);
}

/* Bad input: clear 4xx, the daemon stays up, nothing half-stored. */
TEST(bad_input)
{
	/* a broken archive */
	const char junk[] = "\x1f\x8b\x08\x00 this is not really gzip";
	ck_assert_int_eq(tk_status(&dd, &php, "PUT", "upload_sample", NULL, junk, sizeof junk - 1,
				   "application/x-compressed"),
			 400);
	/* meta says the file exists, the .dat is missing: 420, nothing stored */
	const char *data = "never stored CTDLAB-RISK-HIGH";
	dtas_client c = {.client_uuid = "1234567890123456", .source_id = "10002"};
	sbuf tgz = {0};
	char sha1[41];
	ctd_err err;
	ck_assert_int_eq(dtas_build_sample_tgz(&c, data, strlen(data), "x", 0, time_now_ms(), &tgz, sha1,
					       &err),
			 0);
	/* rebuild without the .dat: same meta, tar of .meta only */
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_all(in);
	archive_read_open_memory(in, tgz.data, tgz.len);
	sbuf meta = {0};
	struct archive_entry *e;
	char meta_name[64] = "";
	while (archive_read_next_header(in, &e) == ARCHIVE_OK) {
		if (strstr(archive_entry_pathname(e), ".meta")) {
			snprintf(meta_name, sizeof meta_name, "%s", archive_entry_pathname(e));
			char buf[1024];
			la_ssize_t n = archive_read_data(in, buf, sizeof buf);
			sbuf_append(&meta, buf, (size_t)n);
		}
	}
	archive_read_free(in);
	sbuf no_dat = {0};
	struct archive *out = archive_write_new();
	archive_write_add_filter_gzip(out);
	archive_write_set_format_ustar(out);
	size_t used = 0;
	char mem[8192];
	archive_write_open_memory(out, mem, sizeof mem, &used);
	e = archive_entry_new();
	archive_entry_set_pathname(e, meta_name);
	archive_entry_set_size(e, (la_int64_t)meta.len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_write_header(out, e);
	archive_write_data(out, meta.data, meta.len);
	archive_entry_free(e);
	archive_write_close(out);
	archive_write_free(out);
	sbuf_append(&no_dat, mem, used);
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &php, "PUT", "upload_sample", NULL, no_dat.data, no_dat.len,
				 "application/x-compressed", NULL, 0, &r),
			 420);
	ck_assert_ptr_nonnull(strstr(r.body.data, "SampleFileExist=1"));
	http_response_free(&r);
	ck_assert_int_eq(tk_call(&dd, &php, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				 "text/plain", NULL, 0, &r),
			 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<STATUS>1</STATUS>"));
	http_response_free(&r);
	sbuf_free(&meta);
	sbuf_free(&no_dat);
	sbuf_free(&tgz);

	/* multipart without the uploadsample field */
	http_form_part wrong = {.name = "file", .data = "x", .data_len = 1, .filename = "x"};
	const char *p0[] = {"X-DTAS-SampleType", "0", NULL};
	ck_assert_int_eq(tk_call(&dd, &siem, "POST", "simple_upload_sample", p0, NULL, 0, NULL, &wrong, 1,
				 &r),
			 400);
	ck_assert_ptr_nonnull(strstr(r.body.data, "uploadsample"));
	http_response_free(&r);
	/* a body over max_body (256 KiB here) */
	size_t big = 300 * 1024;
	char *blob = xmalloc(big);
	memset(blob, 'A', big);
	ck_assert_int_eq(tk_status(&dd, &php, "PUT", "upload_sample", NULL, blob, big,
				   "application/x-compressed"),
			 413);
	free(blob);
	/* unknown service, wrong method */
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "no_such_service", NULL, NULL, 0, NULL), 404);
	ck_assert_int_eq(tk_status(&dd, &siem, "POST", "get_report", NULL, "", 0, "text/plain"), 405);
	/* still serving */
	ck_assert_int_eq(tk_status(&dd, &siem, "GET", "test_connection", NULL, NULL, 0, NULL), 200);
	ck_assert(tl_pid_alive(dd.pid));
}

/* The walkthrough's seed samples all come out High. */
TEST(seed_samples_high)
{
	size_t n;
	const seed_sample *s = seed_samples_all(&n);
	for (size_t i = 0; i < n; i++) {
		char sha1[41];
		tk_sha1_upper(s[i].data, s[i].len, sha1);
		const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
		http_form_part part = {.name = "uploadsample", .data = s[i].data, .data_len = s[i].len,
				       .filename = s[i].file_name};
		http_response r;
		ck_assert_int_eq(tk_call(&dd, &ddpy, "POST", "simple_upload_sample", params, NULL, 0, NULL,
					 &part, 1, &r),
				 200);
		http_response_free(&r);
		int risk;
		ck_assert_int_eq(tk_wait_done(&dd, &ddpy, sha1, &risk), 4);
		ck_assert_msg(risk == 3, "%s: risk %d", s[i].title, risk);
	}
}

/* common/dtas.c, the client IMSVA, DDI, TMCM and dtascli share, against ddand. */
TEST(shared_client)
{
	dtas_client c = {.base_url = (char *)dd.url, .api_key = (char *)dd.key,
			 .client_uuid = "7E57C11E-0000-4000-8000-000000000001", .product_name = "IMSVA",
			 .hostname = "imsva.lab", .source_id = "103", .source_name = "IMSVA",
			 .protocol_version = "1.5"};
	ctd_err err;
	ck_assert_msg(dtas_test_connection(&c, &err) == 0, "%s", err.msg);
	ck_assert_msg(dtas_register(&c, &err) == 0, "%s", err.msg);
	const char *data = "shared client sample CTDLAB-RISK-HIGH\n";
	char want[41], sha1[41], usha1[41];
	tk_sha1_upper(data, strlen(data), want);
	ck_assert_int_eq(dtas_is_duplicate(&c, want, &err), 0);
	ck_assert_msg(dtas_upload_sample(&c, data, strlen(data), "mail-part.bin", 0, sha1, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(sha1, want);
	str_lower(want); /* either case */
	ck_assert_int_eq(dtas_is_duplicate(&c, want, &err), 1);
	const char *url = "http://suspicious.ctdlab.test/shared";
	ck_assert_msg(dtas_upload_sample(&c, url, strlen(url), NULL, 1, usha1, &err) == 0, "%s", err.msg);
	const char *ask[] = {sha1, usha1, "0000000000000000000000000000000000000000"};
	dtas_brief out[3];
	for (int i = 0; i < 300; i++) {
		ck_assert_msg(dtas_brief_report(&c, ask, 3, out, &err) == 0, "%s", err.msg);
		if (out[0].status == 4 && out[1].status == 4)
			break;
		tl_sleep_ms(100);
	}
	ck_assert_int_eq(out[0].status, 4);
	ck_assert_int_eq(out[0].risk_level, 3);
	ck_assert_int_eq(out[1].status, 4);
	ck_assert_int_eq(out[1].risk_level, 2);
	ck_assert_int_eq(out[2].status, 1);
	/* a wrong key is an authentication error, not a transport one */
	c.api_key = "WRONG";
	ck_assert_int_eq(dtas_register(&c, &err), -1);
	ck_assert_int_eq(err.code, CTD_EAUTH);
}

TL_SUITE(.timeout = 120, .suite_setup = setup, .suite_teardown = teardown, .nofork = 1);
