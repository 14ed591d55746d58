/* test_imsva_logs.c - IMSVA's log helpers without a daemon: the query
 * syntax (`*` wildcards, `;` alternatives, substrings), log type names as
 * the console shows them, recipient lists, queue ids, a log round trip
 * through a real store (query by type, date range, rule, recipient), and
 * paging newest first with the cursor. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imsva/imsva_app.h"
#include "testlib.h"
#include "util.h"

TEST(match_list_syntax)
{
	ck_assert(imsva_match_list(NULL, "anything"));
	ck_assert(imsva_match_list("", NULL));
	ck_assert(imsva_match_list("*@example.com", "Alice@EXAMPLE.com"));
	ck_assert(!imsva_match_list("*@example.com", "alice@example.org"));
	ck_assert(imsva_match_list("*@a.test;*@b.test", "x@b.test"));
	ck_assert(imsva_match_list("*A*;*B*", "xxbxx"));
	ck_assert(imsva_match_list("Sample", "Re: sample SO"));  /* no wildcard: substring */
	ck_assert(!imsva_match_list("Sample", NULL));
	ck_assert(imsva_match_list("STEP1*", "STEP1 true file type"));
	ck_assert(!imsva_match_list("STEP1*", "My STEP1 rule"));
}

TEST(log_type_names)
{
	ck_assert_str_eq(imsva_log_type("policy"), "policy");
	ck_assert_str_eq(imsva_log_type("Policy events"), "policy");
	ck_assert_str_eq(imsva_log_type("quarantine_events"), "quarantine");
	ck_assert_str_eq(imsva_log_type("Quarantine events"), "quarantine");
	ck_assert_str_eq(imsva_log_type("Message tracking"), "message_tracking");
	ck_assert_str_eq(imsva_log_type("MTA events"), "mta");
	ck_assert_str_eq(imsva_log_type("system"), "system");
	/* the Japanese console's names (the seed's words) */
	ck_assert_str_eq(imsva_log_type("隔離イベント"), "quarantine");
	ck_assert_str_eq(imsva_log_type("ポリシーイベント"), "policy");
	ck_assert_str_eq(imsva_log_type("メッセージ追跡"), "message_tracking");
	ck_assert_str_eq(imsva_log_type("システムイベント"), "system");
	ck_assert_ptr_null(imsva_log_type("nonsense"));
	ck_assert_ptr_null(imsva_log_type(NULL));
}

TEST(rcpts_and_queue_ids)
{
	char *s = imsva_rcpts_join("[\"a@x\",\"b@y\"]");
	ck_assert_str_eq(s, "a@x;b@y");
	free(s);
	s = imsva_rcpts_join("not json");
	ck_assert_str_eq(s, "");
	free(s);
	char q[16];
	imsva_msg_queue_id(255, q);
	ck_assert_str_eq(q, "00000000FF");
	ck_assert_int_eq(strtoll(q, NULL, 16), 255);
}

TEST(log_round_trip)
{
	char *dir = tl_tmpdir("imsva-logs");
	char *db = xasprintf("%s/lab.db", dir);
	store *st = NULL;
	ctd_err err = {0};
	ck_assert_int_eq(store_open(db, &st, &err), 0);
	imsva_log_rec a = {.type = "quarantine", .msg_id = 7, .sender = "s@example.com",
			   .recipients = "v@example.org;w@example.org", .subject = "Sample SO",
			   .rule = "STEP1 rule", .action = "quarantined"};
	imsva_log_rec b = {.type = "policy", .msg_id = 8, .sender = "t@example.com",
			   .recipients = "z@example.org", .subject = "other", .rule = "Spam Rule",
			   .action = "deliver"};
	ck_assert_int_eq(imsva_log(st, &a, &err), 0);
	ck_assert_int_eq(imsva_log(st, &b, &err), 0);
	int64_t now = time_now_ms();
	imsva_log_query q = {.type = "quarantine", .from_ms = now - 60000, .to_ms = now + 60000,
			     .rule = "STEP1*", .recipient = "w@*"};
	json_t *rows = imsva_log_query_run(st, &q, NULL, &err);
	ck_assert_int_eq(json_array_size(rows), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "subject")),
			 "Sample SO");
	json_decref(rows);
	q.to_ms = now - 30000; /* a range before it */
	rows = imsva_log_query_run(st, &q, NULL, &err);
	ck_assert_int_eq(json_array_size(rows), 0);
	json_decref(rows);
	imsva_log_query all = {.sender = "*@example.com"};
	rows = imsva_log_query_run(st, &all, NULL, &err);
	ck_assert_int_eq(json_array_size(rows), 2);
	json_decref(rows);
	/* each row is on the shared timeline too */
	events_filter f = {.appliance = "imsva"};
	rows = events_query(st, &f, &err);
	ck_assert_int_eq(json_array_size(rows), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "kind")),
			 "quarantine.quarantined");
	json_decref(rows);
	store_close(st);
	free(db);
	tl_rmrf(dir);
	free(dir);
}

/* Pages of 2 over 5 rows, two of them in the same millisecond: each row
 * once, newest first, the last page without a cursor; a filter pages too. */
TEST(log_pages_by_cursor)
{
	char *dir = tl_tmpdir("imsva-log-pages");
	char *db = xasprintf("%s/lab.db", dir);
	store *st = NULL;
	ctd_err err = {0};
	ck_assert_int_eq(store_open(db, &st, &err), 0);
	static const int64_t ts[] = {1000, 2000, 2000, 3000, 4000};
	for (int i = 0; i < 5; i++) {
		char *sql = xasprintf("INSERT INTO imsva_logs (ts_ms, type, subject) VALUES"
				      " (%lld, '%s', 'm%d')", (long long)ts[i],
				      i % 2 ? "policy" : "quarantine", i);
		ck_assert_int_eq(store_exec(st, sql, &err), 0);
		free(sql);
	}
	static const char *const newest_first[] = {"m4", "m3", "m2", "m1", "m0"};
	imsva_log_query q = {.limit = 2};
	imsva_log_cursor next;
	for (int page = 0; page < 3; page++) {
		json_t *rows = imsva_log_query_run(st, &q, &next, &err);
		size_t n = json_array_size(rows);
		ck_assert_int_eq(n, page < 2 ? 2 : 1);
		for (size_t i = 0; i < n; i++)
			ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, i),
									   "subject")),
					 newest_first[2 * page + (int)i]);
		json_decref(rows);
		ck_assert(page < 2 ? next.id != 0 : next.id == 0);
		q.after = next;
	}
	imsva_log_query policy = {.type = "policy", .limit = 1};
	json_t *rows = imsva_log_query_run(st, &policy, &next, &err);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "subject")), "m3");
	json_decref(rows);
	policy.after = next;
	rows = imsva_log_query_run(st, &policy, &next, &err);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "subject")), "m1");
	json_decref(rows);
	store_close(st);
	free(db);
	tl_rmrf(dir);
	free(dir);
}
