/* test_sps_sync.c - the SPS suspicious-object subscription against the
 * tests' fake DTAS feed (tests/lib/fakepeer.c), which checks each request's
 * X-DTAS checksum: Sync now, the object count and last sync time, URL /
 * domain / IP / file lookups over the WRS port, incremental updates with
 * removals, Test connection, a wrong key, a full re-sync from an emptied
 * list, and a DDAN as the source. spsd registers with either source. A
 * fault rule on the peer call (common/fault.h) fails one sync with a
 * malformed feed, then the next one goes through, as /metrics counts. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "fakepeer.h"
#include "store.h"
#include "testlib.h"
#include "util.h"

#define FEED_KEY "FEED-KEY-1"
#define PAGE 2

/* ---- the fake feed (tests/lib/fakepeer.c) ---- */

static http_server *feed_srv;
static char feed_url[64];

static void feed_add(const char *type, const char *value, const char *risk, const char *action,
		     int removed)
{
	so_record r = {.value = (char *)value, .source = "DDAN", .removed = removed};
	snprintf(r.type, sizeof r.type, "%s", type);
	snprintf(r.risk, sizeof r.risk, "%s", risk);
	snprintf(r.action, sizeof r.action, "%s", action);
	peer_add_so(&r);
}

static void set_key(const char *key)
{
	pthread_mutex_lock(&peer_lock);
	snprintf(peer.key, sizeof peer.key, "%s", key);
	pthread_mutex_unlock(&peer_lock);
}

static void feed_start(void)
{
	feed_srv = peer_start(feed_url, sizeof feed_url);
	ck_assert_msg(feed_srv != NULL, "the fake feed did not start");
	set_key(FEED_KEY);
	pthread_mutex_lock(&peer_lock);
	peer.page = PAGE;
	pthread_mutex_unlock(&peer_lock);
	feed_add("URL", "http://evil.example/payload?id=1", "High", "block", 0);
	feed_add("DOMAIN", "bad.example", "Medium", "log", 0);
	feed_add("IP", "10.9.8.7", "High", "block", 0);
	feed_add("FILE", "3395856CE81F2B7382DEE72602F798B642F14140", "High", "quarantine", 0);
	feed_add("URL", "http://remove.example/x", "High", "log", 0);
}

static void feed_stop(void)
{
	peer_stop(feed_srv);
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
	s->ready = tl_wait_ready(s->home, "sps", TL_START_MS);
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

TEST(test_tmcm_subscription)
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
	set_key("ROTATED");
	j = console_call(&s, "POST", "/api/so/test", 502);
	json_decref(j);
	st = sync_now(&s);
	ck_assert_str_ne(json_string_value(json_object_get(st, "last_error")), "");
	ck_assert_int_eq(jint(st, "object_count"), 5);
	ck_assert_int_eq(jint(st, "cursor"), 7);
	json_decref(st);
	set_key(FEED_KEY);
	st = sync_now(&s);
	ck_assert_str_eq(json_string_value(json_object_get(st, "last_error")), "");
	json_decref(st);

	/* Delete local list + full re-sync: the same objects, rebuilt from cursor 0
	 * (issue 17: into a twin of the list; a full pull lists a changed object
	 * twice and a removed one with its removal: the last word counts) */
	feed_add("DOMAIN", "bad.example", "High", "block", 0);
	st = console_call(&s, "POST", "/api/so/resync", 200);
	ck_assert_int_eq(jint(st, "object_count"), 5);
	ck_assert_int_eq(jint(st, "cursor"), 8);
	ck_assert_int_eq(jint(st, "syncs"), 1);
	ck_assert_int_eq(jint(st, "last_changes"), 8);
	ck_assert(json_is_integer(json_object_get(st, "last_sync_duration_ms")));
	json_decref(st);
	expect_no_so(&s, "http://remove.example/x");
	expect_so(&s, "http://www.bad.example/anything", "DOMAIN", "block", "Dangerous");

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

TEST(test_ddan_source)
{
	spsd s;
	int registers_before = peer_get(&peer.registers);
	spsd_start(&s, "ddan");
	json_t *st = sync_now(&s);
	ck_assert_str_eq(json_string_value(json_object_get(st, "source")), "ddan");
	ck_assert_int_eq(jint(st, "object_count"), 5);
	json_decref(st);
	ck_assert_int_gt(peer_get(&peer.registers), registers_before);
	expect_so(&s, "http://new.example/landing", "URL", "block", "Highly Suspicious");
	spsd_stop(&s);
}

/* sync.done events of SPS on the shared timeline. */
static size_t sync_events(spsd *s)
{
	char *db = xasprintf("%s/lab.db", s->home);
	store *st = NULL;
	ctd_err err = {0};
	ck_assert_msg(store_open(db, &st, &err) == 0, "%s", err.msg);
	events_filter f = {.appliance = "sps", .kind = "sync.done"};
	json_t *j = events_query(st, &f, &err);
	size_t n = json_array_size(j);
	json_decref(j);
	store_close(st);
	free(db);
	return n;
}

/* STEP 4-4's evidence: the sync time moves on every sync, the last sync
 * that brought changes (time, change number) only when something arrived;
 * the timeline records only the syncs that changed something. */
TEST(test_sync_evidence)
{
	spsd s;
	spsd_start(&s, "tmcm");
	json_t *a = sync_now(&s);
	int64_t cursor = jint(a, "cursor");
	ck_assert_int_gt(cursor, 0);
	ck_assert_int_eq(jint(a, "change_number"), cursor);
	ck_assert(json_is_string(json_object_get(a, "last_change")));
	size_t events = sync_events(&s);
	ck_assert_int_ge(events, 1);

	json_t *b = sync_now(&s); /* nothing new */
	ck_assert_int_eq(jint(b, "last_changes"), 0);
	ck_assert_int_ge(jint(b, "last_sync_ms"), jint(a, "last_sync_ms"));
	ck_assert_int_eq(jint(b, "last_change_ms"), jint(a, "last_change_ms"));
	ck_assert_int_eq(jint(b, "change_number"), cursor);
	ck_assert_uint_eq(sync_events(&s), events);

	feed_add("URL", "http://evidence.example/new", "High", "block", 0);
	json_t *c = sync_now(&s);
	ck_assert_int_eq(jint(c, "last_changes"), 1);
	ck_assert_int_eq(jint(c, "change_number"), cursor + 1);
	ck_assert_int_ge(jint(c, "last_change_ms"), jint(b, "last_sync_ms"));
	ck_assert_int_eq(jint(c, "last_change_ms"), jint(c, "last_sync_ms"));
	ck_assert_uint_eq(sync_events(&s), events + 1);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	spsd_stop(&s);
}

/* The value of the /metrics line that starts with `series ` (-1: none). */
static long metric_value(spsd *s, const char *series)
{
	http_response r = {0};
	char *u = xasprintf("%s/metrics", s->console);
	ck_assert_int_eq(tl_http("GET", u, NULL, NULL, &r), 200);
	char *want = xasprintf("\n%s ", series);
	const char *line = strstr(r.body.data, want);
	long v = line ? atol(line + strlen(want)) : -1;
	free(want);
	free(u);
	http_response_free(&r);
	return v;
}

TEST(test_peer_fault_fails_one_sync)
{
	spsd s;
	spsd_start(&s, "tmcm");
	json_decref(sync_now(&s));
	const char *h[] = {"X-API-Key: SYNCKEY", "Content-Type: application/json", NULL};
	json_decref(tl_api(s.console, "POST", "/api/lab/faults", h,
			   "{\"point\":\"peer\",\"match\":\"*/get_black_lists*\","
			   "\"action\":\"malformed\",\"count\":1}",
			   201));
	json_t *st = sync_now(&s);
	ck_assert_str_ne(json_string_value(json_object_get(st, "last_error")), "");
	json_decref(st);
	st = sync_now(&s);
	ck_assert_str_eq(json_string_value(json_object_get(st, "last_error")), "");
	json_decref(st);
	ck_assert_int_eq(metric_value(&s, "ctdlab_sync_runs_total{peer=\"tmcm\",result=\"failed\"}"),
			 1);
	ck_assert_int_ge(metric_value(&s, "ctdlab_sync_runs_total{peer=\"tmcm\",result=\"ok\"}"),
			 2);
	ck_assert_int_eq(metric_value(&s, "ctdlab_faults_injected_total{point=\"peer\",rule=\"1\"}"),
			 1);
	spsd_stop(&s);
}

TL_SUITE(.suite_setup = feed_start, .suite_teardown = feed_stop, .timeout = 90, .nofork = 1);
