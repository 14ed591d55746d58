/* test_sps_sync.c - the SPS suspicious-object subscription against a small
 * DTAS-style feed served by the test itself (common/http_server.h +
 * sofeed_xml_*), which checks each request's X-DTAS checksum: Sync now, the
 * object count and last sync time, URL / domain / IP / file lookups over the
 * WRS port, incremental updates with removals, Test connection, a wrong key,
 * a full re-sync from an emptied list, and a DDAN as the source. spsd registers with either source. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "dtas.h"
#include "http_server.h"
#include "sofeed.h"
#include "testlib.h"
#include "util.h"

#define FEED_KEY "FEED-KEY-1"
#define PAGE 2

/* ---- the fake feed ---- */

static struct {
	pthread_mutex_t mu;
	so_record recs[16];
	int n;
	char key[32];
	int registers, pulls;
} feed = {.mu = PTHREAD_MUTEX_INITIALIZER, .key = FEED_KEY};

static void feed_add(const char *type, const char *value, const char *risk, const char *action,
		     int removed)
{
	pthread_mutex_lock(&feed.mu);
	so_record *r = &feed.recs[feed.n];
	memset(r, 0, sizeof *r);
	r->id = ++feed.n;
	snprintf(r->type, sizeof r->type, "%s", type);
	r->value = xstrdup(value);
	snprintf(r->risk, sizeof r->risk, "%s", risk);
	r->source = xstrdup("DDAN");
	snprintf(r->action, sizeof r->action, "%s", action);
	r->removed = removed;
	pthread_mutex_unlock(&feed.mu);
}

/* 1 when the request is signed with the feed's key; else answers 401. */
static int signed_ok(http_req *req, http_resp *resp)
{
	pthread_mutex_lock(&feed.mu);
	const char *keys[] = {feed.key};
	dtas_verify v = {.keys = keys, .nkeys = 1};
	int ok = dtas_verify_request(req, &v, NULL) == 0;
	pthread_mutex_unlock(&feed.mu);
	if (!ok)
		http_resp_error(resp, 401, "unauthorized", "bad checksum");
	return ok;
}

static void feed_register(http_req *req, http_resp *resp)
{
	if (!signed_ok(req, resp))
		return;
	pthread_mutex_lock(&feed.mu);
	feed.registers++;
	pthread_mutex_unlock(&feed.mu);
	http_resp_text(resp, 200, "text/plain", "");
}

static void feed_black_lists(http_req *req, http_resp *resp)
{
	if (!signed_ok(req, resp))
		return;
	const char *last = http_req_header(req, "X-DTAS-LastQueryID");
	int64_t after = last ? atoll(last) : 0, last_id = after;
	sbuf out = {0};
	int sent = 0, more = 0;
	sofeed_xml_begin(&out);
	pthread_mutex_lock(&feed.mu);
	feed.pulls++;
	for (int i = 0; i < feed.n; i++) {
		if (feed.recs[i].id <= after)
			continue;
		if (sent == PAGE) {
			more = 1;
			break;
		}
		sofeed_xml_add(&out, &feed.recs[i]);
		last_id = feed.recs[i].id;
		sent++;
	}
	pthread_mutex_unlock(&feed.mu);
	sofeed_xml_end(&out, last_id, more);
	http_resp_bytes(resp, 200, "text/xml", out.data, out.len);
	sbuf_free(&out);
}

static const http_route feed_routes[] = {
	{"GET", DTAS_PREFIX "register", feed_register},
	{"GET", DTAS_PREFIX "get_black_lists", feed_black_lists},
};

static http_server *feed_srv;
static char *feed_url;

static void feed_start(void)
{
	ctd_err err;
	http_server_opts o = {.routes = feed_routes, .nroutes = 2};
	feed_srv = http_server_start(&o, &err);
	ck_assert_msg(feed_srv != NULL, "feed server: %s", err.msg);
	feed_url = xasprintf("http://127.0.0.1:%d", http_server_port(feed_srv));
	feed_add("URL", "http://evil.example/payload?id=1", "High", "block", 0);
	feed_add("DOMAIN", "bad.example", "Medium", "log", 0);
	feed_add("IP", "10.9.8.7", "High", "block", 0);
	feed_add("FILE", "3395856CE81F2B7382DEE72602F798B642F14140", "High", "quarantine", 0);
	feed_add("URL", "http://remove.example/x", "High", "log", 0);
}

static void feed_stop(void)
{
	http_server_stop(feed_srv);
	for (int i = 0; i < feed.n; i++) {
		free(feed.recs[i].value);
		free(feed.recs[i].source);
	}
	free(feed_url);
}

/* ---- spsd ---- */

static const char *const auth[] = {"X-API-Key: SYNCKEY", NULL};

typedef struct spsd {
	char *home;
	pid_t pid;
	json_t *ready;
	const char *wrs, *console;
} spsd;

static void spsd_start(spsd *s, const char *source)
{
	int ddan = strcmp(source, "ddan") == 0;
	s->home = tl_tmpdir("sps-sync");
	const char *args[] = {"--port", "0", "--wrs_port", "0", "--api_key", "SYNCKEY",
			      "--sync_interval", "1h", "--so_source", source,
			      ddan ? "--ddan_url" : "--tmcm_url", feed_url,
			      ddan ? "--ddan_api_key" : "--tmcm_api_key", FEED_KEY, NULL};
	s->pid = tl_spawn_daemon("spsd", s->home, args);
	s->ready = tl_wait_ready(s->home, "sps", 10000);
	ck_assert_msg(s->ready != NULL, "spsd did not become ready");
	s->wrs = tl_listener(s->ready, "wrs");
	s->console = tl_listener(s->ready, "https");
}

static void spsd_stop(spsd *s)
{
	/* a clean exit on SIGTERM (under sanitizers: no leak report either) */
	ck_assert_int_eq(tl_stop(s->pid, 10000), 0);
	json_decref(s->ready);
	tl_rmrf(s->home);
	free(s->home);
}

static json_t *console_call(spsd *s, const char *method, const char *path, long want)
{
	long status;
	char *u = xasprintf("%s%s", s->console, path);
	json_t *j = tl_http_json(method, u, auth, NULL, &status);
	ck_assert_msg(status == want, "%s %s: HTTP %ld, want %ld", method, path, status, want);
	free(u);
	return j;
}

static json_t *sync_now(spsd *s)
{
	return console_call(s, "POST", "/api/so/sync", 200);
}

static json_t *rate(spsd *s, const char *url)
{
	long status;
	char *esc = curl_easy_escape(NULL, url, 0);
	char *q = xasprintf("%s/wrs/v1/query?url=%s", s->wrs, esc);
	json_t *j = tl_http_json("GET", q, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	curl_free(esc);
	free(q);
	return j;
}

static void expect_so(spsd *s, const char *url, const char *type, const char *action,
		      const char *rating)
{
	json_t *j = rate(s, url);
	json_t *so = json_object_get(j, "so");
	ck_assert_msg(json_is_object(so), "%s: no SO match (source %s)", url,
		      json_string_value(json_object_get(j, "source")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "suspicious_object");
	ck_assert_str_eq(json_string_value(json_object_get(so, "type")), type);
	ck_assert_str_eq(json_string_value(json_object_get(so, "action")), action);
	ck_assert_str_eq(json_string_value(json_object_get(j, "rating")), rating);
	json_decref(j);
}

static void expect_no_so(spsd *s, const char *url)
{
	json_t *j = rate(s, url);
	ck_assert_msg(json_is_null(json_object_get(j, "so")), "%s still matches an SO", url);
	ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "none");
	json_decref(j);
}

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

START_TEST(test_tmcm_subscription)
{
	spsd s;
	spsd_start(&s, "tmcm");

	/* STEP 4-4: Sync now, then source, last sync time and object count */
	json_t *st = sync_now(&s);
	ck_assert_str_eq(json_string_value(json_object_get(st, "source")), "tmcm");
	ck_assert_str_eq(json_string_value(json_object_get(st, "url")), feed_url);
	ck_assert(json_is_true(json_object_get(st, "subscribed")));
	ck_assert(json_is_string(json_object_get(st, "last_sync")));
	ck_assert_str_eq(json_string_value(json_object_get(st, "last_error")), "");
	ck_assert_int_eq(jint(st, "object_count"), 5);
	ck_assert_int_eq(jint(st, "cursor"), 5);
	json_t *objs = json_object_get(st, "objects");
	ck_assert_int_eq(jint(objs, "URL"), 2);
	ck_assert_int_eq(jint(objs, "DOMAIN"), 1);
	ck_assert_int_eq(jint(objs, "IP"), 1);
	ck_assert_int_eq(jint(objs, "FILE"), 1);
	json_decref(st);

	/* lookups through the WRS port: normalised URL, host and parent domain, IP */
	expect_so(&s, "HTTP://EVIL.example:80/payload?id=1#top", "URL", "block", "Dangerous");
	expect_no_so(&s, "http://evil.example/payload?id=2");
	expect_so(&s, "http://www.bad.example/anything", "DOMAIN", "log", "Highly Suspicious");
	expect_so(&s, "https://bad.example/", "DOMAIN", "log", "Highly Suspicious");
	expect_no_so(&s, "http://notbad.example/");
	expect_so(&s, "http://10.9.8.7:8080/x", "IP", "block", "Dangerous");
	long status;
	char *f = xasprintf("%s/wrs/v1/file?sha1=3395856ce81f2b7382dee72602f798b642f14140", s.wrs);
	json_t *j = tl_http_json("GET", f, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "so"), "action")),
			 "quarantine");
	ck_assert_str_eq(json_string_value(json_object_get(j, "rating")), "Dangerous");
	json_decref(j);
	free(f);

	/* incremental: one removal, one addition */
	feed_add("URL", "http://remove.example/x", "High", "log", 1);
	feed_add("URL", "http://new.example/landing/", "Medium", "block", 0);
	expect_so(&s, "http://remove.example/x", "URL", "log", "Dangerous");
	st = sync_now(&s);
	ck_assert_int_eq(jint(st, "object_count"), 5);
	ck_assert_int_eq(jint(st, "cursor"), 7);
	ck_assert_int_eq(jint(st, "last_changes"), 2);
	json_decref(st);
	expect_no_so(&s, "http://remove.example/x");
	expect_so(&s, "http://new.example/landing", "URL", "block", "Highly Suspicious");

	/* Test connection: reachable, signed, nothing pending */
	j = console_call(&s, "POST", "/api/so/test", 200);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_assert_int_eq(jint(j, "pending"), 0);
	json_decref(j);

	/* a key the source does not accept: the sync fails visibly, objects stay */
	pthread_mutex_lock(&feed.mu);
	strcpy(feed.key, "ROTATED");
	pthread_mutex_unlock(&feed.mu);
	j = console_call(&s, "POST", "/api/so/test", 502);
	json_decref(j);
	st = sync_now(&s);
	ck_assert_str_ne(json_string_value(json_object_get(st, "last_error")), "");
	ck_assert_int_eq(jint(st, "object_count"), 5);
	ck_assert_int_eq(jint(st, "cursor"), 7);
	json_decref(st);
	pthread_mutex_lock(&feed.mu);
	strcpy(feed.key, FEED_KEY);
	pthread_mutex_unlock(&feed.mu);
	st = sync_now(&s);
	ck_assert_str_eq(json_string_value(json_object_get(st, "last_error")), "");
	json_decref(st);

	/* Delete local list + full re-sync: the same objects, rebuilt from cursor 0 */
	st = console_call(&s, "POST", "/api/so/resync", 200);
	ck_assert_int_eq(jint(st, "object_count"), 5);
	ck_assert_int_eq(jint(st, "cursor"), 7);
	ck_assert_int_eq(jint(st, "syncs"), 1);
	ck_assert_int_eq(jint(st, "last_changes"), 7);
	json_decref(st);
	expect_no_so(&s, "http://remove.example/x");

	/* the objects list of the console */
	j = console_call(&s, "GET", "/api/so/objects?type=url", 200);
	ck_assert_int_eq(json_array_size(j), 2);
	json_decref(j);
	j = console_call(&s, "GET", "/api/so/status", 200);
	ck_assert_int_eq(jint(j, "object_count"), 5);
	json_decref(j);

	/* no credentials, no console */
	char *u = xasprintf("%s/api/so/status", s.console);
	j = tl_http_json("GET", u, NULL, NULL, &status);
	ck_assert_int_eq(status, 401);
	json_decref(j);
	free(u);
	spsd_stop(&s);
}
END_TEST

START_TEST(test_ddan_source)
{
	spsd s;
	pthread_mutex_lock(&feed.mu);
	int registers_before = feed.registers;
	pthread_mutex_unlock(&feed.mu);
	spsd_start(&s, "ddan");
	json_t *st = sync_now(&s);
	ck_assert_str_eq(json_string_value(json_object_get(st, "source")), "ddan");
	ck_assert_int_eq(jint(st, "object_count"), 5);
	json_decref(st);
	pthread_mutex_lock(&feed.mu);
	int registers = feed.registers;
	pthread_mutex_unlock(&feed.mu);
	ck_assert_int_gt(registers, registers_before);
	expect_so(&s, "http://new.example/landing", "URL", "block", "Highly Suspicious");
	spsd_stop(&s);
}
END_TEST

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *su = suite_create("sps_sync");
	TCase *tc = tcase_create("sync");
	tcase_add_unchecked_fixture(tc, feed_start, feed_stop);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_tmcm_subscription);
	tcase_add_test(tc, test_ddan_source);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
