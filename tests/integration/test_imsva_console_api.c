/* test_imsva_console_api.c - what IMSVA's web console needs from the admin
 * API beyond the seed's calls: Log Query with Japanese type names and the
 * product's columns, paged by its cursor, one log entry with its message, viewing a quarantined
 * message, Policy List copy and reorder (built-in rules cannot be deleted),
 * the wizard's true file type tree,
 * the Dashboard's counts, and "Test connection" for SPS and DDAN against a
 * peer (and without one). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fakepeer.h"
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

#define RULE_NAME "Console quarantine rule"
#define QUARANTINE_JA "%E9%9A%94%E9%9B%A2%E3%82%A4%E3%83%99%E3%83%B3%E3%83%88" /* 隔離イベント */
#define POLICY_JA "%E3%83%9D%E3%83%AA%E3%82%B7%E3%83%BC%E3%82%A4%E3%83%99%E3%83%B3%E3%83%88"

static imsvad d;
static http_server *srv;
static char peer_url[64];

static void setup(void)
{
	memset(&d, 0, sizeof d);
	srv = NULL;
}

static void teardown(void)
{
	imsvad_stop(&d, 0);
	if (srv)
		peer_stop(srv);
}

static json_int_t create_rule(const char *name, int order)
{
	long st = 0;
	char *body = xasprintf("{\"name\":\"%s\",\"order\":%d,\"conditions\":{\"keywords\":"
			       "{\"subject\":[\"quarantine me\"]}},\"actions\":{\"intercept\":"
			       "{\"action\":\"quarantine\",\"area\":\"Console\"}}}", name, order);
	json_t *r = api(&d, "POST", body, &st, "/api/policies");
	free(body);
	ck_assert_int_eq(st, 201);
	json_int_t id = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	return id;
}

static void send_mail(const char *subject)
{
	char *msg = xasprintf("From: s@example.com\r\nSubject: %s\r\n\r\nbody\r\n", subject);
	const char *rcpts[] = {"victim@example.org", NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", d.smtp_port, "s@example.com", rcpts, msg), 250);
	free(msg);
}

/* The order number of rule `id` in the policy list. */
static int order_of(json_int_t id)
{
	json_t *j = api(&d, "GET", NULL, NULL, "/api/policies/%lld", (long long)id);
	int order = (int)json_integer_value(json_object_get(j, "order"));
	json_decref(j);
	return order;
}

TEST(log_query_japanese_types_and_columns)
{
	imsvad_start(&d, NULL);
	create_rule(RULE_NAME, 2);
	send_mail("please quarantine me");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	long st = 0;
	json_t *j = api(&d, "GET", NULL, &st, "/api/logs?type=%s&rule=Console*", QUARANTINE_JA);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	json_t *row = json_array_get(json_object_get(j, "logs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "type")), "quarantine");
	json_int_t log_id = json_integer_value(json_object_get(row, "id"));
	json_decref(j);
	/* the policy event carries the product's columns */
	j = api(&d, "GET", NULL, &st, "/api/logs?type=%s", POLICY_JA);
	ck_assert_int_eq(st, 200);
	row = json_array_get(json_object_get(j, "logs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "rule")), RULE_NAME);
	ck_assert_str_eq(json_string_value(json_object_get(row, "rule_type")), "Other");
	ck_assert_str_eq(json_string_value(json_object_get(row, "final_action")), "quarantined");
	ck_assert_int_gt(json_integer_value(json_object_get(row, "message_size")), 0);
	ck_assert(json_is_string(json_object_get(row, "scanner")));
	ck_assert(json_is_string(json_object_get(row, "internal_id")));
	json_decref(j);
	/* one entry opens with its message */
	j = api(&d, "GET", NULL, &st, "/api/logs/%lld", (long long)log_id);
	ck_assert_int_eq(st, 200);
	json_t *msg = json_object_get(j, "message");
	ck_assert_str_eq(json_string_value(json_object_get(msg, "subject")), "please quarantine me");
	ck_assert_str_eq(json_string_value(json_object_get(msg, "state")), "quarantined");
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs/999999");
	ck_assert_int_eq(st, 404);
	json_decref(j);
	/* pages of one, newest first: next_cursor leads on, the last page has none */
	j = api(&d, "GET", NULL, &st, "/api/logs?limit=1");
	ck_assert_int_eq(st, 200);
	const char *cursor = json_string_value(json_object_get(j, "next_cursor"));
	ck_assert_ptr_nonnull(cursor);
	json_t *first = json_array_get(json_object_get(j, "logs"), 0);
	json_int_t newest = json_integer_value(json_object_get(first, "id"));
	json_t *next = api(&d, "GET", NULL, &st, "/api/logs?limit=1&cursor=%s", cursor);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(next, "count")), 1);
	json_t *second = json_array_get(json_object_get(next, "logs"), 0);
	ck_assert_int_lt(json_integer_value(json_object_get(second, "id")), newest);
	json_decref(next);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs?limit=10000");
	ck_assert_ptr_null(json_object_get(j, "next_cursor"));
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs?cursor=12-x");
	ck_assert_int_eq(st, 400);
	json_decref(j);
	/* the Type list, in both languages */
	j = api(&d, "GET", NULL, &st, "/api/logs/types");
	ck_assert_int_eq(st, 200);
	json_t *t = json_array_get(json_object_get(j, "types"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(t, "type")), "quarantine");
	ck_assert_str_eq(json_string_value(json_object_get(t, "label_ja")), "隔離イベント");
	json_decref(j);
}

#define ANSWERS_REUSED "ctdlab_store_answers_total{outcome=\"reused\"}"

/* A log row written by another process (the sqlite3 shell). */
static void log_row_from_outside(const char *subject)
{
	char *db = xasprintf("%s/lab.db", d.home);
	char *sql = xasprintf("INSERT INTO imsva_logs (ts_ms, type, sender, subject, action)"
			      " VALUES (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'mta',"
			      " 'reuse@lab.example', '%s', 'deliver')", subject);
	const char *argv[] = {"/usr/bin/sqlite3", db, sql, NULL};
	char *out = NULL;
	ck_assert_msg(tl_run(argv, &out) == 0, "sqlite3: %s", out);
	free(out);
	free(sql);
	free(db);
}

/* The count of a log page, and its first (newest) row's member `name`. */
static long log_page(const char *query, const char *name, char *first, size_t len)
{
	long st = 0;
	json_t *j = api(&d, "GET", NULL, &st, "/api/logs?%s", query);
	ck_assert_int_eq(st, 200);
	long n = (long)json_integer_value(json_object_get(j, "count"));
	const char *v = json_string_value(json_object_get(json_array_get(json_object_get(j, "logs"), 0), name));
	snprintf(first, len, "%s", v ? v : "");
	json_decref(j);
	return n;
}

/* A page is served again while the store is unchanged (each of the two
 * handler threads builds it once) and fresh after a write by another process
 * or through the API; another query never gets its answer. */
TEST(log_page_reuse)
{
	imsvad_start(&d, NULL);
	char first[128];
	log_row_from_outside("reuse 1");
	const char *mine = "sender=reuse@lab.example&limit=5";
	double reused = tl_metric(d.api, ANSWERS_REUSED);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(log_page(mine, "subject", first, sizeof first), 1);
		ck_assert_str_eq(first, "reuse 1");
	}
	ck_assert_double_ge(tl_metric(d.api, ANSWERS_REUSED) - reused, 4);
	ck_assert_int_eq(log_page("sender=other@lab.example&limit=5", "subject", first,
				  sizeof first), 0);
	ck_assert_int_eq(log_page("sender=reuse@lab.example&limit=5&type=policy", "subject",
				  first, sizeof first), 0);

	log_row_from_outside("reuse 2");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(log_page(mine, "subject", first, sizeof first), 2);
		ck_assert_str_eq(first, "reuse 2");
	}
	/* through the API: a new rule is a system log row */
	for (int i = 0; i < 3; i++)
		log_page("type=system&limit=1", "reason", first, sizeof first);
	create_rule("Reuse rule", 0);
	for (int i = 0; i < 3; i++) {
		log_page("type=system&limit=1", "reason", first, sizeof first);
		ck_assert_msg(strstr(first, "Reuse rule") != NULL, "newest system log: %s", first);
	}
}

TEST(view_quarantined_message_and_dashboard)
{
	imsvad_start(&d, NULL);
	create_rule(RULE_NAME, 0);
	send_mail("quarantine me now");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	json_t *q = imsvad_wait_count(&d, "/api/quarantine", 1);
	json_int_t id = json_integer_value(
		json_object_get(json_array_get(json_object_get(q, "messages"), 0), "id"));
	json_decref(q);
	long st = 0;
	json_t *j = api(&d, "GET", NULL, &st, "/api/quarantine/%lld", (long long)id);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "area")), "Console");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "data")),
				     "Subject: quarantine me now"));
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/dashboard");
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "quarantined")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "va_queue")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "delivery_queue")), 0);
	json_t *c = json_object_get(j, "connections");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "tmcm"), "status")),
			 "disabled");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "ddan"), "status")),
			 "disabled");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "sps"), "status")),
			 "disabled");
	json_decref(j);
	/* deleted: the message is gone from the view */
	json_decref(api(&d, "DELETE", NULL, &st, "/api/quarantine/%lld", (long long)id));
	j = api(&d, "GET", NULL, &st, "/api/quarantine/%lld", (long long)id);
	ck_assert(json_is_null(json_object_get(j, "data")));
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/quarantine/424242");
	ck_assert_int_eq(st, 404);
	json_decref(j);
}

TEST(policy_copy_reorder_and_builtin_delete)
{
	imsvad_start(&d, NULL);
	json_int_t id = create_rule(RULE_NAME, 0);
	int last = order_of(id);
	long st = 0;
	json_t *j = api(&d, "POST", "", &st, "/api/policies/%lld/copy", (long long)id);
	ck_assert_int_eq(st, 201);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "Copy of " RULE_NAME);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "order")), last + 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(
				 j, "actions"), "intercept"), "area")), "Console");
	json_int_t copy = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	j = api(&d, "POST", "", &st, "/api/policies/%lld/copy", (long long)id);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "Copy (2) of " RULE_NAME);
	json_decref(j);
	/* reorder: the copy moves up to 1, the others move down by one */
	j = api(&d, "PATCH", "{\"order\":1}", &st, "/api/policies/%lld", (long long)copy);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	ck_assert_int_eq(order_of(copy), 1);
	ck_assert_int_eq(order_of(id), last + 1);
	/* the built-in TMCM rules: listed, not deletable, copyable */
	j = api(&d, "GET", NULL, &st, "/api/policies");
	json_t *builtin = json_array_get(j, 0);
	ck_assert_str_eq(json_string_value(json_object_get(builtin, "builtin")), "so_file");
	json_int_t bid = json_integer_value(json_object_get(builtin, "id"));
	json_decref(j);
	j = api(&d, "DELETE", NULL, &st, "/api/policies/%lld", (long long)bid);
	ck_assert_int_eq(st, 409);
	json_decref(j);
	j = api(&d, "POST", "", &st, "/api/policies/%lld/copy", (long long)bid);
	ck_assert_int_eq(st, 201);
	ck_assert(json_is_null(json_object_get(j, "builtin")));
	json_int_t bcopy = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	j = api(&d, "DELETE", NULL, &st, "/api/policies/%lld", (long long)bcopy);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "POST", "", &st, "/api/policies/777/copy");
	ck_assert_int_eq(st, 404);
	json_decref(j);
	/* the wizard's true file type tree: classes, then their types */
	j = api(&d, "GET", NULL, &st, "/api/file-types");
	ck_assert_int_eq(st, 200);
	json_t *cls = json_array_get(json_object_get(j, "classes"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(cls, "id")), "executable");
	json_t *exe = json_array_get(json_object_get(cls, "types"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(exe, "id")), "exe");
	json_t *scripts = json_array_get(json_object_get(j, "classes"), 3);
	ck_assert_int_ge(json_array_size(json_object_get(scripts, "types")), 10);
	json_decref(j);
}

TEST(test_connection_sps_and_ddan)
{
	srv = peer_start(peer_url, sizeof peer_url);
	ck_assert_ptr_nonnull(srv);
	const char *args[] = {"--sps_url", peer_url, "--ddan_url", peer_url, "--ddan_api_key",
			      "va-key-123", NULL};
	imsvad_start(&d, args);
	long st = 0;
	json_t *j = api(&d, "POST", "", &st, "/api/connections/sps/test");
	ck_assert_int_eq(st, 200);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "rating")), "Safe");
	json_decref(j);
	ck_assert_int_ge(peer_get(&peer.wrs_queries), 1);
	j = api(&d, "POST", "", &st, "/api/connections/ddan/test");
	ck_assert_int_eq(st, 200);
	json_decref(j);
	ck_assert_int_ge(peer_get(&peer.tests), 1);
	j = api(&d, "GET", NULL, &st, "/api/connections/ddan");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "online");
	ck_assert_str_eq(json_string_value(json_object_get(j, "api_key")), "va-key-123");
	json_decref(j);
	/* the peer answers 503: the test fails with the peer's error */
	pthread_mutex_lock(&peer_lock);
	peer.down = 1;
	pthread_mutex_unlock(&peer_lock);
	j = api(&d, "POST", "", &st, "/api/connections/ddan/test");
	ck_assert_int_eq(st, 502);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/connections/ddan");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "unreachable");
	ck_assert(json_is_string(json_object_get(j, "last_error")));
	json_decref(j);
}

TEST(test_connection_without_peers)
{
	char closed[64];
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d", tl_free_port());
	const char *args[] = {"--sps_url", closed, NULL};
	imsvad_start(&d, args);
	long st = 0;
	json_t *j = api(&d, "POST", "", &st, "/api/connections/sps/test");
	ck_assert_int_eq(st, 502);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/connections/sps");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "unreachable");
	json_decref(j);
	j = api(&d, "POST", "", &st, "/api/connections/ddan/test");
	ck_assert_int_eq(st, 409);
	json_decref(j);
}

TL_SUITE(.timeout = 60, .setup = setup, .teardown = teardown);
