/* test_dtas.c - unit tests of common/dtas.c: the X-DTAS-Checksum rule (with
 * the reference's two worked vectors), the upload_sample archive, the brief
 * report parser, client set-up (owned copies) and server-side verification. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "dtas.h"
#include "hash.h"
#include "util.h"
#include "testlib.h"

#define KEY "00000000-1111-2222-3333-444444444444"
#define CHAL "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

TEST(vector_with_order_header)
{
	/* dd-py style: Time and Challenge sent first, but the order header rules */
	dtas_header h[] = {
		{"X-DTAS-Time", "1700000000"},
		{"X-DTAS-Challenge", CHAL},
		{"X-DTAS-ProtocolVersion", "1.5"},
		{"X-DTAS-ChecksumCalculatingOrder", "X-DTAS-ProtocolVersion,X-DTAS-Time,X-DTAS-Challenge"},
	};
	char out[41];
	dtas_checksum(KEY, h, 4, "X-DTAS-ProtocolVersion,X-DTAS-Time,X-DTAS-Challenge", NULL, 0, out);
	ck_assert_str_eq(out, "6ede481e7db5f014821942aff68f7297e2f63113");
}

TEST(vector_wire_order_with_body)
{
	const char *body = "2492A18532745251FBC5DAF7160DAA49B90DBBE1;52483514F07EB14570142F6927B77DEB7B4DA99F";
	dtas_header h[] = {
		{"Host", "127.0.0.1"},
		{"X-DTAS-ProtocolVersion", "2.0"},
		{"X-DTAS-ClientUUID", "12341234-1234-1234-1234-123412341234"},
		{"Content-Type", "text/plain"},
		{"X-DTAS-Time", "1700000000"},
		{"X-DTAS-Challenge", CHAL},
		{"X-DTAS-Checksum", "ignored"},
	};
	char out[41];
	dtas_checksum(KEY, h, 7, NULL, body, strlen(body), out);
	ck_assert_str_eq(out, "e2189206af3f07fc35787c92c4f1c9f306fc48c1");
}

TEST(names_match_case_insensitively)
{
	dtas_header h[] = {
		{"x-dtas-protocolversion", "1.5"},
		{"X-Dtas-Time", "1700000000"},
		{"x-DTAS-challenge", CHAL},
	};
	char a[41], b[41];
	dtas_checksum(KEY, h, 3, "X-DTAS-ProtocolVersion , X-DTAS-Time,X-DTAS-Challenge", NULL, 0, a);
	ck_assert_str_eq(a, "6ede481e7db5f014821942aff68f7297e2f63113");
	dtas_checksum(KEY, h, 3, NULL, NULL, 0, b); /* wire order = same order here */
	ck_assert_str_eq(b, a);
}

TEST(order_missing_names_the_header)
{
	dtas_header h[] = {{"X-DTAS-Time", "1"}};
	char name[64];
	ck_assert_ptr_null(dtas_order_missing(h, 1, "X-DTAS-Time", name, sizeof name));
	const char *m = dtas_order_missing(h, 1, "X-DTAS-Time,X-DTAS-Challenge", name, sizeof name);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m, "X-DTAS-Challenge");
}

/* Issue 16: an order must sign something that tells one request from
 * another; what the public clients send does. */
TEST(order_identifies_the_request)
{
	ck_assert_int_eq(dtas_order_identifies(","), 0);
	ck_assert_int_eq(dtas_order_identifies(""), 0);
	ck_assert_int_eq(dtas_order_identifies("X-DTAS-ProtocolVersion,X-DTAS-ProductName,"
					       "X-DTAS-ClientHostname,X-DTAS-SourceID,X-DTAS-SourceName"),
			 0);
	ck_assert_int_eq(dtas_order_identifies("X-DTAS-Checksum"), 0);
	ck_assert_int_eq(dtas_order_identifies("Content-Type"), 0);
	/* dd-py: Time and Challenge last */
	ck_assert_int_eq(dtas_order_identifies("X-DTAS-ProtocolVersion,X-DTAS-Time,X-DTAS-Challenge"), 1);
	ck_assert_int_eq(dtas_order_identifies(" x-dtas-clientuuid , "), 1);
	ck_assert_int_eq(dtas_order_identifies("X-DTAS-ProtocolVersion,X-DTAS-SHA1"), 1);
	ck_assert_int_eq(dtas_order_identifies("X-DTAS-LastQueryID"), 1);
}

/* Read every member of an in-memory archive into name -> content pairs. */
static int read_members(const void *data, size_t len, char names[4][64], char *contents[4])
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	ck_assert_int_eq(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	struct archive_entry *e;
	int n = 0;
	while (n < 4 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		snprintf(names[n], 64, "%s", archive_entry_pathname(e));
		size_t sz = (size_t)archive_entry_size(e);
		contents[n] = xcalloc(1, sz + 1);
		ck_assert_int_eq(archive_read_data(a, contents[n], sz), (la_ssize_t)sz);
		n++;
	}
	archive_read_free(a);
	return n;
}

TEST(sample_tgz_layout)
{
	dtas_client c = {.client_uuid = "C0FFEE00-0000-0000-0000-000000000001", .source_id = "103"};
	const char *data = "hello sample";
	sbuf tgz = {0};
	char sha1[41], lower[41];
	ctd_err err;
	/* 2017-02-27 17:05:31 UTC */
	ck_assert_int_eq(dtas_build_sample_tgz(&c, data, strlen(data), "a&b=c.txt", 0,
					       1488215131000LL, &tgz, sha1, &err), 0);
	hash_hex(HASH_SHA1, data, strlen(data), lower);
	char upper[41];
	memcpy(upper, lower, 41);
	str_upper(upper);
	ck_assert_str_eq(sha1, upper);
	ck_assert_uint_ge(tgz.len, 20);
	ck_assert_int_eq((unsigned char)tgz.data[0], 0x1f); /* gzip magic */

	char names[4][64], *contents[4] = {0};
	ck_assert_int_eq(read_members(tgz.data, tgz.len, names, contents), 3);
	char *meta = xasprintf("%s.meta", lower), *log = xasprintf("%s.log", lower),
	     *dat = xasprintf("%s.dat", lower);
	ck_assert_str_eq(names[0], meta);
	ck_assert_str_eq(names[1], log);
	ck_assert_str_eq(names[2], dat);
	char *want_meta = xasprintf("SampleType=0&ClientUUID=C0FFEE00-0000-0000-0000-000000000001"
				    "&SourceID=103&SampleFileSHA1=%s&SampleFileExist=1"
				    "&OrigFileName=a%%26b%%3Dc.txt", lower);
	ck_assert_str_eq(contents[0], want_meta);
	ck_assert_str_eq(contents[1], "Date=02/27/2017 17:05:31");
	ck_assert_str_eq(contents[2], data);
	for (int i = 0; i < 3; i++)
		free(contents[i]);
	free(meta), free(log), free(dat), free(want_meta);
	sbuf_free(&tgz);
}

TEST(brief_parse_by_sha1_and_missing)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<REPORT version=\"1.2\">"
			  "<BRIEF_REPORT><SHA1>BBBB000000000000000000000000000000000002</SHA1>"
			  "<STATUS>4</STATUS><RiskLevel>3</RiskLevel></BRIEF_REPORT>"
			  "<BRIEF_REPORT><SHA1>aaaa000000000000000000000000000000000001</SHA1>"
			  "<STATUS>3</STATUS><RiskLevel>-1</RiskLevel></BRIEF_REPORT>"
			  "</REPORT>";
	const char *ask[] = {"aaaa000000000000000000000000000000000001",
			     "bbbb000000000000000000000000000000000002",
			     "cccc000000000000000000000000000000000003"};
	dtas_brief out[3];
	ctd_err err;
	ck_assert_int_eq(dtas_brief_parse(xml, strlen(xml), ask, 3, out, &err), 0);
	ck_assert_str_eq(out[0].sha1, "AAAA000000000000000000000000000000000001");
	ck_assert_int_eq(out[0].status, 3);
	ck_assert_int_eq(out[0].risk_level, -1);
	ck_assert_int_eq(out[1].status, 4);
	ck_assert_int_eq(out[1].risk_level, 3);
	ck_assert_int_eq(out[2].status, 1);
	ck_assert_int_eq(out[2].risk_level, -1);
}

TEST(brief_parse_rejects_garbage)
{
	const char *ask[] = {"aaaa000000000000000000000000000000000001"};
	dtas_brief out[1];
	ctd_err err;
	ck_assert_int_eq(dtas_brief_parse("<not xml", 8, ask, 1, out, &err), -1);
	ck_assert_int_eq(out[0].status, 1);
}

/* ---- client set-up and server-side verification ---------------------- */

static int64_t verify_skew_ms;

/* Accepts "other-key" (index 0) or "KEY-1" (index 1); answers the index or
 * the reason. */
static void h_verify(http_req *req, http_resp *resp)
{
	const char *keys[] = {"", "other-key", "KEY-1"};
	dtas_verify v = {.keys = keys, .nkeys = 3, .max_skew_ms = verify_skew_ms};
	ctd_err err;
	if (dtas_verify_request(req, &v, &err) != 0) {
		ck_assert_int_eq(err.code, CTD_EAUTH);
		http_resp_error(resp, 401, v.reason, "%s", err.msg);
		return;
	}
	char which[16];
	snprintf(which, sizeof which, "key%d", v.key_index);
	http_resp_json(resp, 200, json_pack("{s:s}", "key", which));
}

static http_server *verify_server(void)
{
	static const http_route routes[] = {{"*", DTAS_PREFIX "*", h_verify, HTTP_PUBLIC}};
	http_server_opts o = {.routes = routes, .nroutes = 1};
	ctd_err err;
	http_server *srv = http_server_start(&o, &err);
	ck_assert_msg(srv != NULL, "start: %s", srv ? "" : err.msg);
	return srv;
}

/* A client whose strings all come from a buffer freed right after init. */
static void client_for(http_server *srv, const char *key, dtas_client *c)
{
	char *url = xasprintf("http://127.0.0.1:%d", http_server_port(srv));
	char *k = xstrdup(key), *ca = xstrdup("/nonexistent/ca.pem");
	dtas_client_init(c, &(dtas_client_spec){.base_url = url, .api_key = k,
						  .client_uuid = "uuid-1", .product_name = "TEST",
						  .source_id = "1", .http = {.ca_file = ca}});
	free(url);
	free(k);
	free(ca);
}

static long call_status(const dtas_client *c, const char *method, const char *body,
			char *reason, size_t cap)
{
	http_response r = {0};
	ctd_err err;
	const char *extra[] = {"Content-Type: text/plain", NULL};
	ck_assert_int_eq(dtas_call(c, method, "register", extra, body, body ? strlen(body) : 0,
				   NULL, 0, &r, &err), 0);
	long status = r.status;
	json_t *doc = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	json_t *code = json_object_get(json_object_get(doc, "error"), "code");
	if (!code)
		code = json_object_get(doc, "key");
	snprintf(reason, cap, "%s", json_string_value(code) ? json_string_value(code) : "?");
	json_decref(doc);
	http_response_free(&r);
	return status;
}

TEST(client_owns_its_strings)
{
	http_server *srv = verify_server();
	dtas_client c;
	client_for(srv, "KEY-1", &c);
	ck_assert_str_eq(c.protocol_version, "1.5");
	ck_assert_ptr_nonnull(c.hostname);
	ck_assert_str_eq(c.http.ca_file, "/nonexistent/ca.pem");
	ck_assert_ptr_eq(c.http.ca_file, c.ca_file);
	dtas_client_free(&c);
	ck_assert_ptr_null(c.api_key);
	http_server_stop(srv);
}

/* One call by a client signing with key; the status, and the key index or reason. */
static long answer_for(http_server *srv, const char *key, const char *method, const char *body,
		       char reason[64])
{
	dtas_client c;
	client_for(srv, key, &c);
	long status = call_status(&c, method, body, reason, 64);
	dtas_client_free(&c);
	return status;
}

TEST(verify_accepts_any_listed_key)
{
	http_server *srv = verify_server();
	char reason[64];
	ck_assert_int_eq(answer_for(srv, "KEY-1", "GET", NULL, reason), 200);
	ck_assert_str_eq(reason, "key2");
	ck_assert_int_eq(answer_for(srv, "KEY-1", "PUT", "signed body", reason), 200);
	ck_assert_int_eq(answer_for(srv, "other-key", "GET", NULL, reason), 200);
	ck_assert_str_eq(reason, "key1");
	http_server_stop(srv);
}

TEST(verify_rejects_wrong_and_empty_keys)
{
	http_server *srv = verify_server();
	char reason[64];
	ck_assert_int_eq(answer_for(srv, "wrong", "GET", NULL, reason), 401);
	ck_assert_str_eq(reason, "bad_checksum");
	/* the empty accepted key must not match */
	ck_assert_int_eq(answer_for(srv, "", "GET", NULL, reason), 401);

	char *url = xasprintf("http://127.0.0.1:%d%sregister", http_server_port(srv), DTAS_PREFIX);
	http_response r = {0};
	ctd_err err;
	http_client_opts o = {0};
	http_request unsigned_req = {.method = "GET", .url = url};
	ck_assert_int_eq(http_fetch(&o, &unsigned_req, &r, &err), 0);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "missing_header"));
	http_response_free(&r);
	free(url);
	http_server_stop(srv);
}

/* A GET signed with KEY-1 over X-DTAS-Time only. */
static long send_timed(http_server *srv, const char *when, http_response *r)
{
	dtas_header h[] = {{"X-DTAS-Time", when}};
	char sum[41];
	dtas_checksum("KEY-1", h, 1, NULL, NULL, 0, sum);
	char *url = xasprintf("http://127.0.0.1:%d%sregister", http_server_port(srv), DTAS_PREFIX);
	char *time_line = xasprintf("X-DTAS-Time: %s", when);
	char *sum_line = xasprintf("X-DTAS-Checksum: %s", sum);
	const char *headers[] = {time_line, sum_line, NULL};
	http_request req = {.method = "GET", .url = url, .headers = headers};
	http_client_opts o = {0};
	ctd_err err;
	ck_assert_int_eq(http_fetch(&o, &req, r, &err), 0);
	free(url);
	free(time_line);
	free(sum_line);
	return r->status;
}

TEST(verify_time_window)
{
	http_server *srv = verify_server();
	verify_skew_ms = 60000;
	char now[24];
	snprintf(now, sizeof now, "%lld", (long long)time_now_ms());
	http_response r = {0};
	ck_assert_int_eq(send_timed(srv, now, &r), 200); /* milliseconds */
	http_response_free(&r);
	ck_assert_int_eq(send_timed(srv, "1000000000", &r), 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "stale_time"));
	http_response_free(&r);
	ck_assert_int_eq(send_timed(srv, "soon", &r), 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "bad_time"));
	http_response_free(&r);
	verify_skew_ms = 0;
	ck_assert_int_eq(send_timed(srv, "1000000000", &r), 200);
	http_response_free(&r);
	http_server_stop(srv);
}
