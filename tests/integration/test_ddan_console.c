/* test_ddan_console.c - DDAN beyond the sample API: `dtascli -b` turning the
 * URL test file into a URL SO (walkthrough STEP 4-2), the console JSON API
 * (login, About with the API key, samples, SO list, Expire Now / Never
 * Expire seen through the feed), a pinned API key and the option refusing
 * unregistered clients. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include "ddan_testkit.h"
#include "dtas.h"
#include "hash.h"
#include "sofeed.h"
#include "testlib.h"
#include "util.h"
#include "seed_samples.h"

static tk_daemon dd;

static const char *const wire[] = {"X-DTAS-ProtocolVersion", "X-DTAS-ClientUUID", "X-DTAS-Time",
				   "X-DTAS-Challenge", NULL};
static const tk_style plain = {.name = "plain", .wire = wire, .order_header = 1,
			       .body_in_checksum = 1, .protocol = "1.5",
			       .uuid = "00000000-AAAA-4000-8000-000000000001"};

static void setup(void)
{
	tk_start(&dd, "ddan-console", NULL);
}

static void teardown(void)
{
	tk_stop(&dd);
}

static json_t *console(const char *method, const char *path, const char *token, const char *body,
		       long *status)
{
	char *url = xasprintf("%s%s", dd.url, path);
	char *auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
	const char *hdrs[] = {auth ? auth : "X-None: 1", "Content-Type: application/json", NULL};
	json_t *j = tl_http_json(method, url, hdrs, body, status);
	free(url);
	free(auth);
	return j;
}

typedef struct find {
	const char *type, *value;
	int found, removed;
	int64_t id;
} find;

static int find_so(const so_record *r, void *cls)
{
	find *f = cls;
	if (!strcmp(r->type, f->type) && !strcmp(r->value, f->value)) {
		f->found = 1;
		f->removed = r->removed;
		f->id = r->id;
	}
	return 0;
}

/* The newest feed state of one object, pulled from `cursor`. */
static find feed_lookup(const char *type, const char *value, int64_t *cursor)
{
	dtas_client c = {.base_url = (char *)dd.url, .api_key = (char *)dd.key,
			 .client_uuid = "console-test", .protocol_version = "1.5"};
	find f = {.type = type, .value = value};
	ctd_err err;
	int64_t cur = cursor ? *cursor : 0;
	ck_assert_msg(sofeed_pull(&c, &cur, find_so, &f, &err) >= 0, "%s", err.msg);
	if (cursor)
		*cursor = cur;
	return f;
}

TEST(dtascli_batch_makes_url_so)
{
	char *dir = tl_tmpdir("dtascli");
	char *cfg = xasprintf("%s/config.ini", dir);
	char *ini = xasprintf("[DTAS]\nHost = %s\nApiKey = %s\nVerifyTLS = no\nTimeout = 60\n", dd.url,
			      dd.key);
	ck_assert_int_eq(file_write_atomic(cfg, ini, strlen(ini), 0644, NULL), 0);
	char *indir = xasprintf("%s/work/indir", dir);
	char *bin = tl_bin("dtascli"), *out = NULL;
	const char *mk[] = {bin, "--make-samples", indir, NULL};
	ck_assert_int_eq(tl_run(mk, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "URL test file"));
	free(out);
	/* only the URL test file goes in for this run */
	char *so1 = xasprintf("%s/sample_so.exe", indir), *so2 = xasprintf("%s/sample_so2.exe", indir);
	unlink(so1);
	unlink(so2);

	const char *run[] = {bin, "-c", cfg, "-b", NULL};
	ck_assert_int_eq(tl_run(run, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "url_test.html"));
	ck_assert_ptr_nonnull(strstr(out, "Risk:   High (3)"));
	ck_assert_ptr_nonnull(strstr(out, "Type:   HTML"));
	char *line = xasprintf("URL    %s (High)", SEED_URL);
	ck_assert_msg(strstr(out, line) != NULL, "dtascli output lacks the URL SO:\n%s", out);
	free(line);
	free(out);

	char *moved = xasprintf("%s/work/outdir/url_test.html", dir);
	char *left = xasprintf("%s/url_test.html", indir);
	struct stat sb;
	ck_assert_int_eq(stat(moved, &sb), 0);
	ck_assert_int_ne(stat(left, &sb), 0);
	find f = feed_lookup("URL", SEED_URL, NULL);
	ck_assert(f.found);
	ck_assert_int_eq(f.removed, 0);

	/* an empty indir is fine; a missing ApiKey is a clear error */
	ck_assert_int_eq(tl_run(run, &out), 0);
	free(out);
	ck_assert_int_eq(file_write_atomic(cfg, "[DTAS]\nHost = x\n", 16, 0644, NULL), 0);
	ck_assert_int_eq(tl_run(run, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "ApiKey"));
	free(out);

	free(moved), free(left), free(so1), free(so2), free(bin), free(indir), free(ini), free(cfg);
	tl_rmrf(dir);
	free(dir);
}

/* Upload text to d with simple_upload_sample and wait for its verdict; its SHA-1. */
static void analyse(const tk_daemon *d, const char *text, char sha1[41])
{
	tk_sha1_upper(text, strlen(text), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = text, .data_len = strlen(text),
			       .filename = "t.txt"};
	http_response r;
	ck_assert_int_eq(tk_call(d, &plain, "POST", "simple_upload_sample", params, NULL, 0, NULL,
				 &part, 1, &r),
			 200);
	http_response_free(&r);
	ck_assert_int_eq(tk_wait_done(d, &plain, sha1, NULL), 4);
}

TEST(console_login_about_and_so_actions)
{
	long st;
	http_response page;
	char *purl = xasprintf("%s/pages/login.php", dd.url);
	ck_assert_int_eq(tl_http("GET", purl, NULL, NULL, &page), 200);
	ck_assert_ptr_nonnull(strstr(page.body.data, "/_console/shell/main.js"));
	http_response_free(&page);
	free(purl);
	json_t *j = console("GET", "/api/about", NULL, NULL, &st);
	ck_assert_int_eq(st, 401);
	json_decref(j);
	j = console("POST", "/api/login", NULL, "{\"password\": \"wrong\"}", &st);
	ck_assert_int_eq(st, 401);
	json_decref(j);
	const char *pw =
		json_string_value(json_object_get(json_object_get(dd.ready, "info"), "console_password"));
	char *body = xasprintf("{\"password\": \"%s\"}", pw);
	j = console("POST", "/api/login", NULL, body, &st);
	free(body);
	ck_assert_int_eq(st, 200);
	char *token = xstrdup(json_string_value(json_object_get(j, "token")));
	json_decref(j);

	j = console("GET", "/api/about", token, NULL, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "api_key")), dd.key);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "version")));
	json_decref(j);

	/* a High sample with a URL: FILE, URL, DOMAIN objects */
	char sha1[41];
	analyse(&dd, "console sample CTDLAB-RISK-HIGH http://10.9.8.7/drop\n", sha1);

	j = console("GET", "/api/samples", dd.key, NULL, &st); /* the API key works as a bearer too */
	ck_assert_int_eq(st, 200);
	json_t *first = json_array_get(json_object_get(j, "samples"), 0);
	ck_assert_ptr_nonnull(first);
	json_decref(j);
	char *path = xasprintf("/api/samples/%s", sha1);
	j = console("GET", path, token, NULL, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status_name")), "Done");
	ck_assert_str_eq(json_string_value(json_object_get(j, "risk_name")), "High");
	json_decref(j);
	free(path);

	j = console("GET", "/api/suspicious_objects?type=ip", token, NULL, &st);
	ck_assert_int_eq(st, 200);
	json_t *ip = json_array_get(json_object_get(j, "suspicious_objects"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ip, "object")), "10.9.8.7");
	ck_assert_str_eq(json_string_value(json_object_get(ip, "risk")), "Medium");
	json_int_t id = json_integer_value(json_object_get(ip, "id"));
	json_decref(j);

	int64_t cursor = 0;
	find before = feed_lookup("IP", "10.9.8.7", &cursor);
	ck_assert(before.found);

	/* Expire Now: the feed shows a newer change with REMOVED 1 */
	char *act = xasprintf("/api/suspicious_objects/%lld/expire", (long long)id);
	j = console("POST", act, token, "{}", &st);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	find expired = feed_lookup("IP", "10.9.8.7", &cursor);
	ck_assert(expired.found);
	ck_assert_int_eq(expired.removed, 1);
	ck_assert_int_gt(expired.id, before.id);
	free(act);

	/* Never Expire brings it back without an expiration */
	act = xasprintf("/api/suspicious_objects/%lld/never_expire", (long long)id);
	j = console("POST", act, token, "{}", &st);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	find back = feed_lookup("IP", "10.9.8.7", &cursor);
	ck_assert(back.found);
	ck_assert_int_eq(back.removed, 0);
	free(act);
	j = console("GET", "/api/suspicious_objects?type=IP", token, NULL, &st);
	ip = json_array_get(json_object_get(j, "suspicious_objects"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ip, "expiration")), "Never");
	json_decref(j);

	j = console("POST", "/api/suspicious_objects/999999/expire", token, "{}", &st);
	ck_assert_int_eq(st, 404);
	json_decref(j);
	act = xasprintf("/api/suspicious_objects/%lld/explode", (long long)id);
	j = console("POST", act, token, "{}", &st);
	ck_assert_int_eq(st, 400);
	json_decref(j);
	free(act);
	j = console("GET", "/api/submitters", token, NULL, &st);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	free(token);
}

/* Objects are removed through the console API: DELETE of an SO reaches the
 * feed as a removal; DELETE of a sample takes it (and its report, the kept
 * answer of get_report too) away. */
TEST(console_deletes_samples_and_objects)
{
	long st;
	char sha1[41];
	analyse(&dd, "to delete CTDLAB-RISK-HIGH http://10.9.8.6/x\n", sha1);
	json_t *j = console("GET", "/api/suspicious_objects?type=IP", dd.key, NULL, &st);
	json_t *ip = json_array_get(json_object_get(j, "suspicious_objects"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ip, "object")), "10.9.8.6");
	json_int_t id = json_integer_value(json_object_get(ip, "id"));
	json_decref(j);
	int64_t cursor = 0;
	find before = feed_lookup("IP", "10.9.8.6", &cursor);
	ck_assert(before.found && !before.removed);
	/* its report, asked twice: the second answer is the one kept */
	const char *q[] = {"X-DTAS-SHA1", sha1, NULL};
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(tk_status(&dd, &plain, "GET", "get_report", q, NULL, 0, NULL), 200);

	char *del = xasprintf("/api/suspicious_objects/%lld", (long long)id);
	json_decref(console("DELETE", del, dd.key, NULL, &st));
	ck_assert_int_eq(st, 200);
	find gone = feed_lookup("IP", "10.9.8.6", &cursor);
	ck_assert(gone.found);
	ck_assert_int_eq(gone.removed, 1);
	json_decref(console("DELETE", "/api/suspicious_objects/999999", dd.key, NULL, &st));
	ck_assert_int_eq(st, 404);
	free(del);

	del = xasprintf("/api/samples/%s", sha1);
	json_decref(console("DELETE", del, dd.key, NULL, &st));
	ck_assert_int_eq(st, 200);
	json_decref(console("GET", del, dd.key, NULL, &st));
	ck_assert_int_eq(st, 404);
	json_decref(console("DELETE", del, dd.key, NULL, &st));
	ck_assert_int_eq(st, 404);
	json_decref(console("DELETE", "/api/samples/nothex", dd.key, NULL, &st));
	ck_assert_int_eq(st, 400);
	free(del);
	/* the kept report went with its sample, and a new analysis has its own */
	ck_assert_int_eq(tk_status(&dd, &plain, "GET", "get_report", q, NULL, 0, NULL), 421);
	analyse(&dd, "to delete CTDLAB-RISK-HIGH http://10.9.8.6/x\n", sha1);
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &plain, "GET", "get_report", q, NULL, 0, NULL, NULL, 0, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, sha1));
	http_response_free(&r);
}

static json_int_t dash(const char *group, const char *key)
{
	long st;
	json_t *j = console("GET", "/api/dashboard", dd.key, NULL, &st);
	ck_assert_int_eq(st, 200);
	json_t *v = group ? json_object_get(json_object_get(j, group), key) : json_object_get(j, key);
	json_int_t n = json_integer_value(v);
	json_decref(j);
	return n;
}

TEST(console_dashboard_and_report_download)
{
	/* the daemon is shared by the file's tests: count what this one adds */
	json_int_t total = dash("samples", "total"), done = dash("samples", "done");
	json_int_t high = dash("samples", "high"), sos = dash(NULL, "suspicious_objects");
	char sha1[41];
	analyse(&dd, "report sample CTDLAB-RISK-HIGH\n", sha1);
	ck_assert_int_eq(dash("samples", "total"), total + 1);
	ck_assert_int_eq(dash("samples", "done"), done + 1);
	ck_assert_int_eq(dash("samples", "high"), high + 1);
	ck_assert_int_eq(dash(NULL, "suspicious_objects"), sos + 1);

	char *url = xasprintf("%s/api/samples/%s/report", dd.url, sha1);
	char *auth = xasprintf("Authorization: Bearer %s", dd.key);
	const char *hdrs[] = {auth, NULL};
	http_response r;
	ck_assert_int_eq(tl_http("GET", url, hdrs, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<REPORTS"));
	ck_assert_ptr_nonnull(strstr(r.body.data, sha1));
	http_response_free(&r);
	free(url);
	url = xasprintf("%s/api/samples/%040d/report", dd.url, 7);
	ck_assert_int_eq(tl_http("GET", url, hdrs, NULL, &r), 404);
	http_response_free(&r);
	free(url);
	free(auth);
}

TEST(console_exceptions)
{
	long st;
	char sha1[41];
	/* excepting an object retires its SO at once, and the feed drops it */
	analyse(&dd, "excepted sample CTDLAB-RISK-HIGH http://except.ctdlab.test/x\n", sha1);
	int64_t cursor = 0;
	ck_assert(feed_lookup("DOMAIN", "except.ctdlab.test", &cursor).found);
	json_t *j = console("POST", "/api/exceptions", dd.key,
			    "{\"type\": \"domain\", \"value\": \"EXCEPT.ctdlab.test\", \"note\": \"lab\"}",
			    &st);
	ck_assert_int_eq(st, 201);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "DOMAIN");
	ck_assert_str_eq(json_string_value(json_object_get(j, "value")), "except.ctdlab.test");
	json_int_t id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	find gone = feed_lookup("DOMAIN", "except.ctdlab.test", &cursor);
	ck_assert(gone.found);
	ck_assert_int_eq(gone.removed, 1);
	j = console("POST", "/api/exceptions", dd.key,
		    "{\"type\": \"DOMAIN\", \"value\": \"except.ctdlab.test\"}", &st);
	ck_assert_int_eq(st, 409);
	json_decref(j);

	/* a file on the list never becomes an SO */
	const char *text = "never listed CTDLAB-RISK-HIGH\n";
	char want[41];
	tk_sha1_upper(text, strlen(text), want);
	char *body = xasprintf("{\"type\": \"FILE\", \"value\": \"%s\"}", want);
	str_lower(body + 30);
	j = console("POST", "/api/exceptions", dd.key, body, &st);
	ck_assert_int_eq(st, 201);
	json_decref(j);
	free(body);
	analyse(&dd, text, sha1);
	j = console("GET", "/api/suspicious_objects?type=FILE&include_expired=1", dd.key, NULL, &st);
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(j, "suspicious_objects"), i, o)
	ck_assert_str_ne(json_string_value(json_object_get(o, "object")), want);
	json_decref(j);
	ck_assert_int_eq(dash(NULL, "exceptions"), 2);

	j = console("GET", "/api/exceptions", dd.key, NULL, &st);
	ck_assert_int_eq(json_array_size(json_object_get(j, "exceptions")), 2);
	json_decref(j);
	char *del = xasprintf("/api/exceptions/%lld", (long long)id);
	j = console("DELETE", del, dd.key, NULL, &st);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = console("DELETE", del, dd.key, NULL, &st);
	ck_assert_int_eq(st, 404);
	json_decref(j);
	free(del);

	const char *bad[] = {"{\"type\": \"EMAIL\", \"value\": \"a\"}",
			     "{\"type\": \"FILE\", \"value\": \"abc\"}",
			     "{\"type\": \"URL\", \"value\": \"\"}", "not json", NULL};
	for (const char *const *b = bad; *b; b++) {
		j = console("POST", "/api/exceptions", dd.key, *b, &st);
		ck_assert_msg(st == 400, "%s answered %ld", *b, st);
		json_decref(j);
	}
}

TEST(pinned_key_and_required_registration)
{
	tk_daemon strict;
	const char *extra[] = {"--api_key", "D1EC5252-EE89-11E6-A5DF-005056014677",
			       "--require_registration", "yes", "--time_skew", "5m", NULL};
	tk_start(&strict, "ddan-strict", extra);
	ck_assert_str_eq(strict.key, "D1EC5252-EE89-11E6-A5DF-005056014677");
	const char *sha1 = "0000000000000000000000000000000000000002";
	http_response r;
	ck_assert_int_eq(tk_call(&strict, &plain, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				 "text/plain", NULL, 0, &r),
			 403);
	ck_assert_ptr_nonnull(strstr(r.body.data, "not registered"));
	http_response_free(&r);
	ck_assert_int_eq(tk_status(&strict, &plain, "GET", "test_connection", NULL, NULL, 0, NULL), 200);
	ck_assert_int_eq(tk_status(&strict, &plain, "GET", "register", NULL, NULL, 0, NULL), 200);
	ck_assert_int_eq(tk_status(&strict, &plain, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				   "text/plain"),
			 200);
	/* the skew window: milliseconds are fine, an old time is not */
	tk_style ms = plain;
	ms.ms_time = 1;
	ck_assert_int_eq(tk_status(&strict, &ms, "GET", "test_connection", NULL, NULL, 0, NULL), 200);
	tk_style old = plain;
	old.fixed_time = "1700000000";
	ck_assert_int_eq(tk_call(&strict, &old, "GET", "test_connection", NULL, NULL, 0, NULL, NULL, 0, &r),
			 401);
	ck_assert_ptr_nonnull(strstr(r.body.data, "stale X-DTAS-Time"));
	http_response_free(&r);
	ck_assert_int_eq(tk_status(&strict, &plain, "GET", "unregister", NULL, NULL, 0, NULL), 200);
	ck_assert_int_eq(tk_status(&strict, &plain, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				   "text/plain"),
			 403);
	tk_stop(&strict);
}

/* --print-rules gives the built-in rules; a custom rules_file decides
 * verdicts; a broken one stops the daemon with a message naming it. */
TEST(custom_rules_file)
{
	char *bin = tl_bin("ddand"), *out = NULL;
	const char *print[] = {bin, "--print-rules", NULL};
	ck_assert_int_eq(tl_run(print, &out), 0);
	json_error_t jerr;
	json_t *builtin = json_loads(out, 0, &jerr);
	ck_assert_msg(builtin != NULL, "--print-rules is not JSON: %s", jerr.text);
	ck_assert(json_array_size(json_object_get(builtin, "rules")) >= 8);
	json_decref(builtin);
	free(out);

	char *dir = tl_tmpdir("ddan-rules");
	char *good = xasprintf("%s/rules.json", dir), *bad = xasprintf("%s/bad.json", dir);
	const char *rules = "{\"rules\": [{\"name\": \"Course marker\", \"risk\": 2, "
			    "\"virus_name\": \"COURSE.MARK\", \"contains\": [\"COURSE-MARK\"]}]}";
	ck_assert_int_eq(file_write_atomic(good, rules, strlen(rules), 0644, NULL), 0);
	ck_assert_int_eq(file_write_atomic(bad, "{\"rules\": [{}]}", 15, 0644, NULL), 0);

	tk_daemon custom;
	const char *extra[] = {"--rules_file", good, NULL};
	tk_start(&custom, "ddan-custom", extra);
	const char *text = "a COURSE-MARK and a CTDLAB-RISK-HIGH the custom rules ignore\n";
	char sha1[41];
	tk_sha1_upper(text, strlen(text), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = text, .data_len = strlen(text),
			       .filename = "course.txt"};
	http_response r;
	ck_assert_int_eq(tk_call(&custom, &plain, "POST", "simple_upload_sample", params, NULL, 0, NULL,
				 &part, 1, &r),
			 200);
	http_response_free(&r);
	int risk;
	ck_assert_int_eq(tk_wait_done(&custom, &plain, sha1, &risk), 4);
	ck_assert_int_eq(risk, 2);
	tk_stop(&custom);

	char *home = tl_tmpdir("ddan-badrules");
	const char *run[] = {bin, "--home", home, "--port", "0", "--rules_file", bad, NULL};
	ck_assert_int_ne(tl_run(run, &out), 0);
	ck_assert_msg(strstr(out, "bad.json") && strstr(out, "rules[0]"), "unclear error: %s", out);
	free(out);
	tl_rmrf(home);
	tl_rmrf(dir);
	free(home), free(dir), free(good), free(bad), free(bin);
}

/* A 3 MB raw tgz PUT as libcurl sends it (Expect: 100-continue), whole body
 * in the checksum like the PHP client. */
TEST(large_upload_with_expect_continue)
{
	size_t len = 3u << 20;
	char *data = xmalloc(len);
	unsigned x = 7;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (char)(x >> 16);
	}
	memcpy(data + 1000, "CTDLAB-RISK-LOW", 15);
	dtas_client c = {.client_uuid = "big", .source_id = "10002"};
	sbuf tgz = {0};
	char sha1[41], asha1[41];
	ctd_err err;
	ck_assert_int_eq(dtas_build_sample_tgz(&c, data, len, "big.bin", 0, time_now_ms(), &tgz, sha1, &err),
			 0);
	ck_assert_uint_gt(tgz.len, 2u << 20);
	hash_hex(HASH_SHA1, tgz.data, tgz.len, asha1);
	const char *up[] = {"X-DTAS-Archive-SHA1", asha1, NULL};
	ck_assert_int_eq(tk_status(&dd, &plain, "PUT", "upload_sample", up, tgz.data, tgz.len,
				   "application/x-compressed"),
			 200);
	int risk;
	ck_assert_int_eq(tk_wait_done(&dd, &plain, sha1, &risk), 4);
	ck_assert_int_eq(risk, 1);
	sbuf_free(&tgz);
	free(data);
}

/* Generated objects expire after so_expiry: the feed then carries them with
 * REMOVED 1 under a new change id. */
TEST(so_expiry_reaches_the_feed)
{
	tk_daemon quick;
	const char *extra[] = {"--so_expiry", "1s", NULL};
	tk_start(&quick, "ddan-expiry", extra);
	char sha1[41];
	analyse(&quick, "short-lived CTDLAB-RISK-HIGH\n", sha1);
	tk_daemon saved = dd;
	dd = quick; /* feed_lookup reads the suite daemon */
	find f = {0};
	for (int i = 0; i < 100; i++) {
		f = feed_lookup("FILE", sha1, NULL);
		if (f.found && f.removed)
			break;
		tl_sleep_ms(100);
	}
	dd = saved;
	ck_assert(f.found);
	ck_assert_int_eq(f.removed, 1);
	tk_stop(&quick);
}

TL_SUITE(.timeout = 120, .suite_setup = setup, .suite_teardown = teardown, .nofork = 1);
