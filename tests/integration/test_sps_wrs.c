/* test_sps_wrs.c - spsd's web reputation service over real HTTP: built-in
 * test pages, Unrated, URL normalisation on the wire, batches, bad input, and
 * the Approved/Blocked URL list managed through the console API (with its
 * login) taking precedence over the other sources, and the answers pinned byte
 * for byte. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "so_content.h"
#include "store.h"
#include "testlib.h"
#include "util.h"

static char *home;
static pid_t pid;
static json_t *ready;
static const char *wrs, *console;
static const char *const auth[] = {"X-API-Key: TESTKEY", NULL};

static void start_spsd(void)
{
	home = tl_tmpdir("sps-wrs");
	const char *args[] = {"--port", "0", "--wrs_port", "0", "--api_key", "TESTKEY",
			      "--admin_password", "secret", "--tmcm_url", "", NULL};
	pid = tl_spawn_daemon("spsd", home, args);
	ready = tl_wait_ready(home, "sps", TL_START_MS);
	ck_assert_msg(ready != NULL, "spsd did not become ready");
	wrs = tl_listener(ready, "wrs");
	console = tl_listener(ready, "https");
	ck_assert_ptr_nonnull(wrs);
	ck_assert_ptr_nonnull(console);
	ck_assert(strncmp(wrs, "http://", 7) == 0);
}

static void stop_spsd(void)
{
	tl_stop_all();
	json_decref(ready);
	tl_rmrf(home);
	free(home);
}

/* GET /wrs/v1/query for url (escaped here); returns the JSON, status out. */
static json_t *query(const char *url, long *status)
{
	char *esc = curl_easy_escape(NULL, url, 0);
	char *q = xasprintf("%s/wrs/v1/query?url=%s", wrs, esc);
	json_t *j = tl_http_json("GET", q, NULL, NULL, status);
	curl_free(esc);
	free(q);
	return j;
}

static void expect(const char *url, const char *rating, const char *source, long score)
{
	long status;
	json_t *j = query(url, &status);
	ck_assert_msg(status == 200, "%s: HTTP %ld", url, status);
	ck_assert_str_eq(json_string_value(json_object_get(j, "url")), url);
	ck_assert_msg(strcmp(json_string_value(json_object_get(j, "rating")), rating) == 0,
		      "%s rated %s, want %s", url, json_string_value(json_object_get(j, "rating")),
		      rating);
	ck_assert_str_eq(json_string_value(json_object_get(j, "source")), source);
	if (score >= 0)
		ck_assert_int_eq(json_integer_value(json_object_get(j, "score")), score);
	ck_assert(json_is_null(json_object_get(j, "so")));
	json_decref(j);
}

TEST(test_builtin_and_unrated)
{
	expect("http://wrs21.winshipway.com/", "Dangerous", "builtin", 21);
	expect("http://WRS49.winshipway.com:80/some/page", "Dangerous", "builtin", 49);
	expect("http://wrs65.winshipway.com", "Highly Suspicious", "builtin", 65);
	expect("wrs70.winshipway.com/", "Suspicious", "builtin", 70);
	expect("http://wrs71.winshipway.com/", "Unrated", "builtin", 71);
	expect("https://wrs81.winshipway.com/", "Safe", "builtin", 81);
	expect("http://www.example.com/", "Unrated", "none", 71);

	long status;
	json_t *j = query("HTTP://Example.COM:80/a/./b/../c/#frag", &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "normalized")),
			 "http://example.com/a/c");
	json_decref(j);
}

TEST(test_bad_input)
{
	long status;
	json_t *j = query("http://exa mple.com/", &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
			 "invalid");
	json_decref(j);

	char *u = xasprintf("%s/wrs/v1/query", wrs);
	j = tl_http_json("GET", u, NULL, NULL, &status);
	ck_assert_int_eq(status, 400);
	json_decref(j);
	j = tl_http_json("POST", u, NULL, "{not json", &status);
	ck_assert_int_eq(status, 400);
	json_decref(j);
	j = tl_http_json("POST", u, NULL, "{\"urls\":\"x\"}", &status);
	ck_assert_int_eq(status, 400);
	json_decref(j);
	free(u);

	u = xasprintf("%s/wrs/v1/file?sha1=123", wrs);
	j = tl_http_json("GET", u, NULL, NULL, &status);
	ck_assert_int_eq(status, 400);
	json_decref(j);
	free(u);
}

TEST(test_batch_and_file)
{
	long status;
	char *u = xasprintf("%s/wrs/v1/query", wrs);
	json_t *j = tl_http_json(
		"POST", u, NULL,
		"{\"urls\":[\"http://wrs21.winshipway.com/x\",\"http://bad host/\",42,"
		"\"http://ok.example/\"]}",
		&status);
	ck_assert_int_eq(status, 200);
	json_t *res = json_object_get(j, "results");
	ck_assert_int_eq(json_array_size(res), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "rating")),
			 "Dangerous");
	ck_assert_ptr_nonnull(json_object_get(json_array_get(res, 1), "error"));
	ck_assert_ptr_nonnull(json_object_get(json_array_get(res, 2), "error"));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 3), "rating")),
			 "Unrated");
	json_decref(j);
	free(u);

	u = xasprintf("%s/wrs/v1/file?sha1=3395856ce81f2b7382dee72602f798b642f14140", wrs);
	j = tl_http_json("GET", u, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "sha1")),
			 "3395856CE81F2B7382DEE72602F798B642F14140");
	ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "none");
	ck_assert(json_is_null(json_object_get(j, "so")));
	json_decref(j);
	free(u);
}

static json_int_t add_rule(const char *body, long want_status)
{
	long status;
	char *u = xasprintf("%s/api/lists", console);
	json_t *j = tl_http_json("POST", u, auth, body, &status);
	ck_assert_msg(status == want_status, "POST /api/lists %s: HTTP %ld", body, status);
	json_int_t id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(u);
	return id;
}

TEST(test_lists)
{
	long status;
	/* console auth */
	char *u = xasprintf("%s/api/lists", console);
	json_t *j = tl_http_json("GET", u, NULL, NULL, &status);
	ck_assert_int_eq(status, 401);
	json_decref(j);
	char *login = xasprintf("%s/api/login", console);
	j = tl_http_json("POST", login, NULL, "{\"username\":\"admin\",\"password\":\"nope\"}",
			 &status);
	ck_assert_int_eq(status, 401);
	json_decref(j);
	j = tl_http_json("POST", login, NULL, "{\"username\":\"admin\",\"password\":\"secret\"}",
			 &status);
	ck_assert_int_eq(status, 200);
	char *bearer = xasprintf("Authorization: Bearer %s",
				 json_string_value(json_object_get(j, "token")));
	json_decref(j);
	const char *hdrs[] = {bearer, NULL};
	j = tl_http_json("GET", u, hdrs, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);

	/* bad rules */
	add_rule("{\"type\":\"keyword\",\"pattern\":\"(open\",\"action\":\"block\"}", 400);
	add_rule("{\"type\":\"url\",\"pattern\":\"http://x.example/\",\"action\":\"maybe\"}", 400);
	add_rule("[1]", 400);

	/* approve beats the built-in table; block beats approve */
	json_int_t approve = add_rule("{\"type\":\"url\",\"pattern\":\"wrs21.winshipway.com\","
				      "\"action\":\"approve\"}",
				      201);
	expect("http://wrs21.winshipway.com/any/page", "Safe", "approved_list", 100);
	add_rule("{\"type\":\"keyword\",\"pattern\":\"casino|/evil-page\",\"action\":\"block\"}",
		 201);
	expect("http://wrs21.winshipway.com/EVIL-page", "Dangerous", "blocked_list", 0);
	expect("http://games.example/Casino", "Dangerous", "blocked_list", 0);
	json_int_t page = add_rule("{\"type\":\"url\",\"pattern\":\"http://shop.example/cart/\","
				   "\"scope\":\"page\",\"action\":\"block\"}",
				   201);
	expect("https://SHOP.example:443/cart", "Dangerous", "blocked_list", 0);
	expect("http://shop.example/cart/item", "Unrated", "none", 71);

	/* disable, re-enable through PUT; delete */
	char *one = xasprintf("%s/api/lists/%lld", console, (long long)approve);
	j = tl_http_json("PUT", one, auth, "{\"enabled\":false}", &status);
	ck_assert_int_eq(status, 200);
	ck_assert(json_is_false(json_object_get(j, "enabled")));
	json_decref(j);
	expect("http://wrs21.winshipway.com/any/page", "Dangerous", "builtin", 21);
	j = tl_http_json("PUT", one, auth, "{\"enabled\":\"yes\"}", &status);
	ck_assert_int_eq(status, 400);
	json_decref(j);
	j = tl_http_json("DELETE", one, auth, NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	j = tl_http_json("DELETE", one, auth, NULL, &status);
	ck_assert_int_eq(status, 404);
	json_decref(j);
	free(one);

	j = tl_http_json("GET", u, auth, NULL, &status);
	ck_assert_int_eq(json_array_size(j), 2);
	json_decref(j);
	ck_assert(page > 0);

	/* the console's Test URL answers like the WRS port */
	char *t = xasprintf("%s/api/test-url?url=http%%3A%%2F%%2Fgames.example%%2Fcasino", console);
	j = tl_http_json("GET", t, hdrs, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "source")), "blocked_list");
	json_decref(j);
	free(t);

	free(bearer);
	free(login);
	free(u);
}

TEST(test_status_without_source)
{
	long status;
	char *u = xasprintf("%s/api/so/status", console);
	json_t *j = tl_http_json("GET", u, auth, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert(json_is_false(json_object_get(j, "subscribed")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "not_configured");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "object_count")), 0);
	ck_assert(json_is_null(json_object_get(j, "last_sync")));
	json_decref(j);
	free(u);
	u = xasprintf("%s/api/so/sync", console);
	j = tl_http_json("POST", u, auth, NULL, &status);
	ck_assert_int_eq(status, 409);
	json_decref(j);
	free(u);
}

/* Web Reputation's log: every WRS client query (single, batch, file) with its
 * rating, newest first; the console's own Test URL is not a client query. */
TEST(test_recent_queries_log)
{
	long status;
	json_decref(query("http://wrs49.winshipway.com/log-me", &status));
	char *u = xasprintf("%s/wrs/v1/query", wrs);
	json_decref(tl_http_json("POST", u, NULL, "{\"urls\":[\"http://wrs81.winshipway.com/\"]}",
				 &status));
	free(u);
	u = xasprintf("%s/wrs/v1/file?sha1=%s", wrs, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
	json_decref(tl_http_json("GET", u, NULL, NULL, &status));
	free(u);
	u = xasprintf("%s/api/test-url?url=http://console.example/", console);
	json_decref(tl_http_json("GET", u, auth, NULL, &status));
	free(u);

	u = xasprintf("%s/api/wrs/log?limit=3", console);
	json_t *log = tl_http_json("GET", u, auth, NULL, &status);
	ck_assert_int_eq(status, 200);
	json_t *items = json_object_get(log, "items");
	ck_assert_int_eq(json_array_size(items), 3);
	json_t *file = json_array_get(items, 0), *batch = json_array_get(items, 1),
	       *one = json_array_get(items, 2);
	ck_assert_str_eq(json_string_value(json_object_get(file, "kind")), "file");
	ck_assert_str_eq(json_string_value(json_object_get(file, "query")),
			 "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3");
	ck_assert_str_eq(json_string_value(json_object_get(batch, "rating")), "Safe");
	ck_assert_str_eq(json_string_value(json_object_get(one, "query")),
			 "http://wrs49.winshipway.com/log-me");
	ck_assert_str_eq(json_string_value(json_object_get(one, "rating")), "Dangerous");
	ck_assert_str_eq(json_string_value(json_object_get(one, "source")), "builtin");
	ck_assert_int_eq(json_integer_value(json_object_get(one, "score")), 49);
	ck_assert_str_eq(json_string_value(json_object_get(one, "client")), "127.0.0.1");
	ck_assert_ptr_nonnull(json_string_value(json_object_get(one, "time")));
	json_decref(log);
	free(u);
	/* About gives the WRS port as bound, not the 0 of the option */
	u = xasprintf("%s/api/about", console);
	json_t *about = tl_http_json("GET", u, auth, NULL, &status);
	ck_assert_int_eq(json_integer_value(json_object_get(about, "wrs_port")),
			 atoi(strrchr(wrs, ':') + 1));
	json_decref(about);
	free(u);
	u = xasprintf("%s/api/wrs/log", console);
	http_response r = {0};
	ck_assert_int_eq(tl_http("GET", u, NULL, NULL, &r), 401);
	http_response_free(&r);
	free(u);
}

/* The body of a WRS query (GET for url, else POST of body), as sent. */
static char *raw_answer(const char *url, const char *body)
{
	char *esc = url ? curl_easy_escape(NULL, url, 0) : NULL;
	char *u = url ? xasprintf("%s/wrs/v1/query?url=%s", wrs, esc)
		      : xasprintf("%s/wrs/v1/query", wrs);
	http_response r = {0};
	ck_assert_int_eq(tl_http(url ? "GET" : "POST", u, NULL, body, &r), 200);
	char *text = xstrndup(r.body.data ? r.body.data : "", r.body.len);
	http_response_free(&r);
	curl_free(esc);
	free(u);
	return text;
}

static void expect_bytes(const char *url, const char *body, const char *want)
{
	char *got = raw_answer(url, body);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n got %s\nwant %s", url ? url : body, got,
		      want);
	free(got);
}

/* The answers are written as text, not dumped from a tree: pinned byte for
 * byte as jansson's json_dumps wrote them (key order, escapes, the rule of a
 * list match, the object of an SO match, a batch with error entries). */
TEST(test_answers_byte_for_byte)
{
	char *db = xasprintf("%s/lab.db", home);
	store *st;
	ctd_err err;
	ck_assert_int_eq(store_open(db, &st, &err), 0);
	char *insert = sqlite3_mprintf("INSERT INTO sps_objects (hkey, type, value, raw_value,"
				       " risk, action, source, feed_id, updated_ms) VALUES (%lld,"
				       " 'DOMAIN', 'so-bytes.example', 'so-bytes.example', 'Medium',"
				       " 'log', 'DDAN', 1, 0)",
				       (long long)so_content_key("DOMAIN", "so-bytes.example"));
	ck_assert_int_eq(store_exec(st, insert, &err), 0);
	sqlite3_free(insert);
	store_close(st);
	free(db);
	json_int_t id = add_rule("{\"type\":\"url\",\"pattern\":\"blocked-bytes.example\","
				 "\"action\":\"block\"}", 201);

	expect_bytes("http://www.example.com/index.html", NULL,
		     "{\"url\":\"http://www.example.com/index.html\",\"normalized\":"
		     "\"http://www.example.com/index.html\",\"score\":71,\"rating\":\"Unrated\","
		     "\"category\":\"Untested\",\"source\":\"none\",\"so\":null}");
	expect_bytes("HTTP://Www.Example.COM:80/a\"b\\c/\xC3\xBC?q=<1>#frag", NULL,
		     "{\"url\":\"HTTP://Www.Example.COM:80/a\\\"b\\\\c/\xC3\xBC?q=<1>#frag\","
		     "\"normalized\":\"http://www.example.com/a%22b/c/%C3%BC?q=%3C1%3E\","
		     "\"score\":71,\"rating\":\"Unrated\",\"category\":\"Untested\","
		     "\"source\":\"none\",\"so\":null}");
	expect_bytes("http://wrs49.winshipway.com/x", NULL,
		     "{\"url\":\"http://wrs49.winshipway.com/x\",\"normalized\":"
		     "\"http://wrs49.winshipway.com/x\",\"score\":49,\"rating\":\"Dangerous\","
		     "\"category\":\"WRS Test Page\",\"source\":\"builtin\",\"so\":null}");
	char *blocked = xasprintf(
		"{\"url\":\"http://www.blocked-bytes.example/p\",\"normalized\":"
		"\"http://www.blocked-bytes.example/p\",\"score\":0,\"rating\":\"Dangerous\","
		"\"category\":\"Blocked URL\",\"source\":\"blocked_list\",\"so\":null,"
		"\"rule\":{\"id\":%lld,\"pattern\":\"blocked-bytes.example\"}}",
		(long long)id);
	expect_bytes("http://www.blocked-bytes.example/p", NULL, blocked);
	free(blocked);
	expect_bytes("https://deep.so-bytes.example/x?y=1", NULL,
		     "{\"url\":\"https://deep.so-bytes.example/x?y=1\",\"normalized\":"
		     "\"https://deep.so-bytes.example/x?y=1\",\"score\":60,\"rating\":"
		     "\"Highly Suspicious\",\"category\":\"Suspicious Object\",\"source\":"
		     "\"suspicious_object\",\"so\":{\"type\":\"DOMAIN\",\"value\":"
		     "\"so-bytes.example\",\"action\":\"log\",\"risk\":\"Medium\",\"source\":"
		     "\"DDAN\"}}");
	expect_bytes(NULL,
		     "{\"urls\":[\"http://www.so-bytes.example/\",\"http://\","
		     "\"wrs65.winshipway.com\",7]}",
		     "{\"results\":[{\"url\":\"http://www.so-bytes.example/\",\"normalized\":"
		     "\"http://www.so-bytes.example/\",\"score\":60,\"rating\":"
		     "\"Highly Suspicious\",\"category\":\"Suspicious Object\",\"source\":"
		     "\"suspicious_object\",\"so\":{\"type\":\"DOMAIN\",\"value\":"
		     "\"so-bytes.example\",\"action\":\"log\",\"risk\":\"Medium\",\"source\":"
		     "\"DDAN\"}},{\"url\":\"http://\",\"error\":{\"code\":\"invalid\","
		     "\"message\":\"URL has no host\"}},{\"url\":\"wrs65.winshipway.com\","
		     "\"normalized\":\"http://wrs65.winshipway.com/\",\"score\":65,\"rating\":"
		     "\"Highly Suspicious\",\"category\":\"WRS Test Page\",\"source\":"
		     "\"builtin\",\"so\":null},{\"url\":7,\"error\":{\"code\":\"invalid\","
		     "\"message\":\"URL must be a string\"}}]}");
}

/* Last: a clean exit on SIGTERM (under sanitizers: no leak report either). */
TEST(test_clean_exit)
{
	ck_assert_int_eq(tl_stop(pid, 10000), 0);
}

TL_SUITE(.suite_setup = start_spsd, .suite_teardown = stop_spsd, .timeout = 60, .nofork = 1);
