/* test_lab_overview.c - TMCM's lab overview API in a whole lab (ctdlab up):
 * /lab opens the console page and the API needs TMCM's login; the five
 * appliances from the ready files and their /healthz; IMSVA's real feed pull
 * brings its link up; a link goes down on a failure, up when it carries
 * something again, and down when an appliance at its end stops; STEP checks
 * follow the evidence on the shared timeline (a quarantine counts for STEP 2
 * only when DDAN listed its file first, a sync only after a Block); the
 * timeline pages on with after=<id> and refuses a bad one. Beyond the real
 * pull, events are appended to the lab's store the way the daemons append
 * them. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store.h"
#include "testlib.h"
#include "util.h"

static char *dir, *tmcm_url, *key_header;
static store *lab_store;

static void setup(void)
{
	char *out = NULL;
	dir = tl_tmpdir("lab-overview");
	tl_lab_env();
	const char *up[] = {"up", NULL};
	ck_assert_msg(tl_ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);
	json_t *ready = tl_wait_ready(dir, "tmcm", TL_START_MS);
	ck_assert_ptr_nonnull(ready);
	tmcm_url = xstrdup(tl_listener(ready, "https"));
	key_header = xasprintf("X-Api-Key: %s",
			       json_string_value(json_object_get(json_object_get(ready, "info"),
								 "console_password")));
	json_decref(ready);
	char *db = xasprintf("%s/lab.db", dir);
	ctd_err err = {0};
	ck_assert_msg(store_open(db, &lab_store, &err) == 0, "%s", err.msg);
	free(db);
}

static void teardown(void)
{
	const char *down[] = {"down", NULL};
	store_close(lab_store);
	tl_ctdlab(dir, down, NULL);
	tl_rmrf(dir);
	free(dir);
	free(tmcm_url);
	free(key_header);
}

TL_SUITE(.timeout = 120, .suite_setup = setup, .suite_teardown = teardown, .nofork = 1);

static json_t *api_get(const char *path, long want)
{
	const char *headers[] = {key_header, NULL};
	return tl_api(tmcm_url, "GET", path, headers, NULL, want);
}

/* Append an event as appliance would; detail is given as JSON text. */
static void append(const char *appliance, const char *kind, const char *ref, const char *detail)
{
	json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
	ctd_err err = {0};
	ck_assert_msg(events_append(lab_store, appliance, kind, ref, d, &err) > 0, "%s", err.msg);
	json_decref(d);
}

/* A Policy event of IMSVA's built-in SO file rule for sha1. */
static void so_rule_quarantine(const char *ref, const char *sha1)
{
	char *detail = xasprintf("{\"reason\":\"Suspicious file: %s (High)\","
				 "\"detail\":{\"builtin\":\"yes\"}}",
				 sha1);
	append("imsva", "policy.quarantine", ref, detail);
	free(detail);
}

static json_t *find(json_t *list, const char *key, const char *value)
{
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
		if (strcmp(json_string_value(json_object_get(o, key)), value) == 0)
			return o;
	ck_abort_msg("no %s %s", key, value);
	return NULL;
}

static const char *link_state(json_t *overview, const char *id)
{
	return json_string_value(json_object_get(find(json_object_get(overview, "links"), "id", id),
						 "state"));
}

static int check_done(json_t *overview, const char *step, const char *check)
{
	json_t *s = find(json_object_get(overview, "steps"), "id", step);
	return json_is_true(json_object_get(find(json_object_get(s, "checks"), "id", check), "done"));
}

TEST(test_entry_and_login)
{
	http_response resp = {0};
	char *url = xasprintf("%s/lab", tmcm_url);
	ck_assert_int_eq(tl_http("GET", url, NULL, NULL, &resp), 302);
	ck_assert_str_eq(http_response_header(&resp, "Location"), "/webapp/login.aspx#/lab-overview");
	http_response_free(&resp);
	free(url);
	json_decref(tl_api(tmcm_url, "GET", "/api/lab/overview", NULL, NULL, 401));
	json_decref(tl_api(tmcm_url, "GET", "/api/lab/events", NULL, NULL, 401));
}

TEST(test_five_appliances_healthy)
{
	json_t *o = api_get("/api/lab/overview", 200);
	json_t *apps = json_object_get(o, "appliances");
	ck_assert_int_eq(json_array_size(apps), 5);
	const char *names[] = {"imsva", "ddi", "ddan", "tmcm", "sps"};
	for (int i = 0; i < 5; i++) {
		json_t *a = json_array_get(apps, i);
		ck_assert_str_eq(json_string_value(json_object_get(a, "name")), names[i]);
		ck_assert_msg(json_is_true(json_object_get(a, "healthy")), "%s not healthy", names[i]);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(a, "console")));
	}
	ck_assert_int_eq(json_array_size(json_object_get(o, "links")), 7);
	ck_assert_int_eq(json_array_size(json_object_get(o, "steps")), 4);
	json_decref(o);
}

/* The real loop: IMSVA's first pull of TMCM's feed (a full one) puts
 * sync.done on the timeline, and the feed link comes up. */
TEST(test_real_feed_pull_brings_its_link_up)
{
	int up = 0;
	for (int i = 0; i < TL_START_MS / 20 && !up; i++) {
		json_t *o = api_get("/api/lab/overview", 200);
		up = strcmp(link_state(o, "tmcm-imsva"), "up") == 0;
		json_decref(o);
		if (!up)
			tl_sleep_ms(20);
	}
	ck_assert_msg(up, "the TMCM -> IMSVA feed never came up");
}

TEST(test_link_follows_failure_and_recovery)
{
	append("tmcm", "sync.failed", "DDAN", "{\"url\":\"https://ddan\",\"error\":\"refused\"}");
	json_t *o = api_get("/api/lab/overview", 200);
	ck_assert_str_eq(link_state(o, "ddan-tmcm"), "down");
	json_t *l = find(json_object_get(o, "links"), "id", "ddan-tmcm");
	ck_assert_str_eq(json_string_value(json_object_get(l, "error")), "refused");
	json_decref(o);

	append("tmcm", "sync.done", "DDAN", "{\"records\":1}");
	o = api_get("/api/lab/overview", 200);
	ck_assert_str_eq(link_state(o, "ddan-tmcm"), "up");
	ck_assert_ptr_nonnull(json_string_value(
		json_object_get(find(json_object_get(o, "links"), "id", "ddan-tmcm"), "last_carried")));
	/* the DDI pull is another link: a DDAN pull says nothing about it */
	ck_assert_str_ne(link_state(o, "ddi-tmcm"), "up");
	json_decref(o);
}

TEST(test_steps_follow_evidence)
{
	json_t *o = api_get("/api/lab/overview", 200);
	ck_assert(!check_done(o, "1", "1-b"));
	ck_assert(!check_done(o, "2", "2-e"));
	json_decref(o);

	append("imsva", "va.High", "IMSVA-1", "{\"type\":\"va\",\"action\":\"High\"}");
	append("imsva", "policy.quarantine", "IMSVA-1",
	       "{\"type\":\"policy\",\"rule\":\"true file type\",\"detail\":{\"builtin\":\"no\"}}");
	/* the SO rule quarantines a file DDAN never listed: not STEP 2's evidence */
	so_rule_quarantine("IMSVA-2", "1111111111111111111111111111111111111111");
	/* a sync before anything was set to Block is not STEP 2's */
	append("imsva", "sync.done", "tmcm", "{\"records\":3}");
	o = api_get("/api/lab/overview", 200);
	ck_assert(check_done(o, "1", "1-a"));
	ck_assert(check_done(o, "1", "1-b"));
	json_t *s1 = find(json_object_get(o, "steps"), "id", "1");
	ck_assert_int_eq(json_integer_value(json_object_get(s1, "done")), 2);
	ck_assert(!check_done(o, "2", "2-d"));
	ck_assert(!check_done(o, "2", "2-e"));
	ck_assert(!check_done(o, "3", "3-d"));
	json_decref(o);

	append("ddan", "so.created", "7",
	       "{\"type\":\"FILE\",\"value\":\"2222222222222222222222222222222222222222\","
	       "\"risk\":\"High\"}");
	append("tmcm", "so.action", "action", "{\"ids\":[1],\"action\":\"block\"}");
	append("imsva", "sync.done", "tmcm", "{\"records\":1}");
	so_rule_quarantine("IMSVA-3", "2222222222222222222222222222222222222222");
	o = api_get("/api/lab/overview", 200);
	ck_assert(check_done(o, "2", "2-a"));
	ck_assert(check_done(o, "2", "2-c"));
	ck_assert(check_done(o, "2", "2-d"));
	ck_assert(check_done(o, "2", "2-e"));
	ck_assert(!check_done(o, "3", "3-d")); /* DDI did not list that file */
	json_decref(o);
}

TEST(test_timeline_pages_on)
{
	json_t *first = api_get("/api/lab/events?limit=5", 200);
	ck_assert_int_le(json_array_size(json_object_get(first, "events")), 5);
	json_int_t last = json_integer_value(json_object_get(first, "last_id"));
	append("sps", "wrs.so_match", "http://malicious.ctdlab.test/x", "{\"rating\":\"dangerous\"}");
	char *path = xasprintf("/api/lab/events?after=%lld", (long long)last);
	json_t *next = api_get(path, 200);
	json_t *events = json_object_get(next, "events");
	ck_assert_int_ge(json_array_size(events), 1);
	json_t *mine = find(events, "kind", "wrs.so_match");
	ck_assert_int_gt(json_integer_value(json_object_get(mine, "id")), last);
	ck_assert_str_eq(json_string_value(json_object_get(mine, "appliance")), "sps");
	json_t *one = api_get("/api/lab/events?limit=0", 200); /* at least one, never unbounded */
	ck_assert_int_eq(json_array_size(json_object_get(one, "events")), 1);
	json_decref(one);
	json_decref(api_get("/api/lab/events?after=-3", 400));
	json_decref(api_get("/api/lab/events?after=x", 400));
	free(path);
	json_decref(first);
	json_decref(next);
}

/* Last: it stops SPS. */
TEST(test_link_down_when_an_end_stops)
{
	append("sps", "sync.done", "https://tmcm", "{\"changes\":2}");
	json_t *o = api_get("/api/lab/overview", 200);
	ck_assert_str_eq(link_state(o, "tmcm-sps"), "up");
	ck_assert(check_done(o, "4", "4-b"));
	json_decref(o);

	json_t *ready = tl_wait_ready(dir, "sps", TL_START_MS);
	pid_t pid = (pid_t)json_integer_value(json_object_get(ready, "pid"));
	json_decref(ready);
	/* ctdlab's child, not ours: stopped when its ready file is gone */
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	char *ready_path = xasprintf("%s/run/sps.json", dir);
	for (int i = 0; i < TL_START_MS / 10 && access(ready_path, F_OK) == 0; i++)
		tl_sleep_ms(10);
	ck_assert_msg(access(ready_path, F_OK) != 0, "SPS did not stop");
	free(ready_path);
	o = api_get("/api/lab/overview", 200);
	json_t *sps = find(json_object_get(o, "appliances"), "name", "sps");
	ck_assert(!json_is_true(json_object_get(sps, "healthy")));
	ck_assert_str_eq(link_state(o, "tmcm-sps"), "down");
	ck_assert_str_eq(link_state(o, "sps-imsva"), "down");
	json_decref(o);
}
