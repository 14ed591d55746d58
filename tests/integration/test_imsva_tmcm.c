/* test_imsva_tmcm.c - imsvad's Control Manager connection against a TMCM
 * peer: registration and heartbeat, the SO feed pulled on "Sync now" (pages,
 * incremental cursor, removals), last sync time, object counts by type and
 * the last sync that brought changes with its change number (STEP 2-4),
 * and the built-in "TMCM_Suspicious File detection rule": Block quarantines,
 * Log delivers and logs a policy event (STEP 2-5), also in the Japanese
 * locale. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "dtas.h"
#include "fakepeer.h"
#include "hash.h"
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

static imsvad d;
static http_server *srv;
static char peer_url[64];

static const char sample[] = "MZ\x90\x00 CTDLAB sample SO for the TMCM rule\n";

static void setup(void)
{
	srv = peer_start(peer_url, sizeof peer_url);
	ck_assert_ptr_nonnull(srv);
	memset(&d, 0, sizeof d);
}

static void teardown(void)
{
	imsvad_stop(&d, 0);
	peer_stop(srv);
}

static void start(const char *locale)
{
	const char *args[] = {"--tmcm_url", peer_url, "--tmcm_api_key", "feedkey",
			      "--tmcm_sync_interval", "1h", "--tmcm_heartbeat_interval", "200ms",
			      "--locale", locale, NULL};
	imsvad_start(&d, args);
}

static void sample_sha1(char out[41])
{
	hash_hex(HASH_SHA1, sample, sizeof sample - 1, out);
	str_upper(out);
}

/* Status polls in a tight loop beside the syncs (a thread of its own): when
 * every sync brings changes or none, the change number of the last sync
 * that brought some is the cursor its objects were committed with. A sync
 * commits, then records itself: a poll in between must not pair the new
 * objects and cursor with the sync before's record. */
typedef struct status_poller {
	pthread_t thread;
	int stop;
	int polls, mismatches;
} status_poller;

static void *poll_status(void *arg)
{
	status_poller *p = arg;
	while (!__atomic_load_n(&p->stop, __ATOMIC_SEQ_CST)) {
		long st = 0;
		json_t *j = api(&d, "GET", NULL, &st, "/api/connections/tmcm");
		if (json_integer_value(json_object_get(j, "change_number")) !=
		    json_integer_value(json_object_get(j, "cursor")))
			p->mismatches++;
		p->polls++;
		json_decref(j);
	}
	return NULL;
}

static void poller_start(status_poller *p)
{
	*p = (status_poller){0};
	ck_assert_int_eq(pthread_create(&p->thread, NULL, poll_status, p), 0);
}

static void poller_end(status_poller *p)
{
	__atomic_store_n(&p->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(p->thread, NULL);
	ck_assert_int_gt(p->polls, 0);
	ck_assert_msg(p->mismatches == 0, "%d of %d status polls showed a cursor with another "
		      "sync's change number", p->mismatches, p->polls);
}

/* "Sync now", then wait until the connection shows `objects` objects and a
 * sync newer than `after_ms`. Returns the status. */
static json_t *sync_now(long objects, int64_t after_ms)
{
	long st = 0;
	json_t *j = api(&d, "POST", "", &st, "/api/connections/tmcm/sync");
	ck_assert_int_eq(st, 202);
	json_decref(j);
	for (int i = 0; i < 400; i++) {
		j = api(&d, "GET", NULL, &st, "/api/connections/tmcm");
		if (json_integer_value(json_object_get(j, "objects")) == objects &&
		    json_integer_value(json_object_get(j, "last_sync_ms")) > after_ms)
			return j;
		json_decref(j);
		usleep(50 * 1000);
	}
	ck_abort_msg("no sync to %ld objects", objects);
	return NULL;
}

static void send_sample(const char *rcpt)
{
	char *b64 = base64_encode(sample, sizeof sample - 1);
	char *msg = xasprintf("From: s@example.com\r\nSubject: Sample SO again\r\nMIME-Version: 1.0\r\n"
			      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
			      "Content-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
			      "Content-Type: application/octet-stream\r\n"
			      "Content-Disposition: attachment; filename=\"sample_so.exe\"\r\n"
			      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n", b64);
	const char *rcpts[] = {rcpt, NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", d.smtp_port, "s@example.com", rcpts, msg), 250);
	free(msg);
	free(b64);
}

/* The newest policy event: its rule and action. */
static void last_policy_event(char *rule, size_t rlen, char *action, size_t alen, long count)
{
	json_t *j = imsvad_wait_count(&d, "/api/logs?type=policy", count);
	ck_assert_int_ge(json_integer_value(json_object_get(j, "count")), count);
	json_t *r = json_array_get(json_object_get(j, "logs"), 0);
	snprintf(rule, rlen, "%s", json_string_value(json_object_get(r, "rule")));
	snprintf(action, alen, "%s", json_string_value(json_object_get(r, "action")));
	json_decref(j);
}

TEST(register_heartbeat_and_status)
{
	start("en");
	json_t *j = NULL;
	for (int i = 0; i < 200; i++) {
		json_decref(j);
		j = api(&d, "GET", NULL, NULL, "/api/connections/tmcm");
		if (!strcmp(json_string_value(json_object_get(j, "status")), "online"))
			break;
		usleep(50 * 1000);
	}
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "online");
	ck_assert(json_is_true(json_object_get(j, "registered")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "server")), peer_url);
	json_decref(j);
	ck_assert_int_ge(peer_get(&peer.registers), 1);
	ck_assert_int_ge(peer_get(&peer.tests), 1);
}

TEST(empty_feed_syncs_change_nothing_after_the_first)
{
	start("en");
	json_t *s = sync_now(0, 0);
	int64_t first = json_integer_value(json_object_get(s, "last_change_ms"));
	int64_t synced = json_integer_value(json_object_get(s, "last_sync_ms"));
	ck_assert_int_gt(first, 0); /* the first full sync empties the table: a change */
	json_decref(s);
	for (int i = 0; i < 2; i++) {
		usleep(5 * 1000); /* a new millisecond, so a change would show */
		s = sync_now(0, synced);
		synced = json_integer_value(json_object_get(s, "last_sync_ms"));
		ck_assert_int_eq(json_integer_value(json_object_get(s, "last_change_ms")), first);
		json_decref(s);
	}
}

TEST(block_quarantines_log_delivers)
{
	start("en");
	char sha1[41], rule[128], action[32];
	sample_sha1(sha1);
	/* STEP 2-3: the SO is set to Block at TMCM; 2-4: sync */
	peer_so("FILE", sha1, "block");
	json_t *s = sync_now(1, 0);
	ck_assert(json_is_string(json_object_get(s, "last_sync")));
	int64_t synced = json_integer_value(json_object_get(s, "last_sync_ms"));
	json_decref(s);
	/* 2-5: the sample again → quarantined by the TMCM rule */
	send_sample("victim@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	last_policy_event(rule, sizeof rule, action, sizeof action, 1);
	ck_assert_str_eq(rule, "TMCM_Suspicious File detection rule");
	ck_assert_str_eq(action, "quarantine");
	/* Log: deliver and log */
	peer_so("FILE", sha1, "log");
	s = sync_now(1, synced);
	json_decref(s);
	send_sample("victim2@example.org");
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	last_policy_event(rule, sizeof rule, action, sizeof action, 2);
	ck_assert_str_eq(rule, "TMCM_Suspicious File detection rule");
	ck_assert_str_eq(action, "log");
	ck_assert_int_eq(imsvad_count(&d, "quarantined"), 1);
}

TEST(paged_incremental_sync_with_removals)
{
	start("en");
	char v[41];
	for (int i = 0; i < 2500; i++) { /* three feed pages */
		snprintf(v, sizeof v, "%040X", i);
		peer_so("FILE", v, "block");
	}
	status_poller poller;
	poller_start(&poller);
	json_t *s = sync_now(2500, 0);
	int64_t t1 = json_integer_value(json_object_get(s, "last_sync_ms"));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "change_number")), 2500);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "objects_by_type"),
							    "FILE")), 2500);
	json_decref(s);
	int pulls = peer_get(&peer.feed_pulls);
	ck_assert_int_ge(pulls, 3);
	/* an incremental change: one removed, one new */
	pthread_mutex_lock(&peer_lock);
	peer.so[peer.nso] = peer.so[0];
	peer.so[peer.nso].id = peer.nso + 1;
	peer.so[peer.nso].value = xstrdup(peer.so[0].value);
	peer.so[peer.nso].removed = 1;
	peer.nso++;
	pthread_mutex_unlock(&peer_lock);
	peer_so("URL", "http://bad.example/x", "block");
	s = sync_now(2500, t1);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "last_sync_records")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "cursor")), 2502);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "change_number")), 2502);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "objects_by_type"),
							    "URL")), 1);
	int64_t t2 = json_integer_value(json_object_get(s, "last_sync_ms"));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "last_change_ms")), t2);
	json_decref(s);
	/* a sync that brings nothing: a newer sync time, the last change stays */
	s = sync_now(2500, t2);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "last_change_ms")), t2);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "change_number")), 2502);
	json_decref(s);
	poller_end(&poller);
}

/* Issue 17: a full sync loads a twin of the list; what the feed changed
 * while it was read (an object changed: listed twice; removed; removed and
 * back) ends as the feed's last word, and the list it replaced was whole
 * until then. */
TEST(full_sync_takes_the_last_word_of_the_feed)
{
	start("en");
	peer_so("FILE", "00000000000000000000000000000000000000A1", "block"); /* 1 */
	peer_so("FILE", "00000000000000000000000000000000000000A2", "block"); /* 2 */
	peer_so("FILE", "00000000000000000000000000000000000000A3", "block"); /* 3 */
	peer_so("FILE", "00000000000000000000000000000000000000A1", "quarantine"); /* 4: changed */
	so_record gone = {.type = "FILE", .value = "00000000000000000000000000000000000000A2",
			  .risk = "High", .source = "DDAN", .action = "block", .removed = 1};
	peer_add_so(&gone); /* 5: A2 removed */
	gone.value = "00000000000000000000000000000000000000A3";
	peer_add_so(&gone); /* 6: A3 removed... */
	peer_so("FILE", "00000000000000000000000000000000000000A3", "log"); /* 7: ...and back */
	json_t *s = sync_now(2, 0);
	ck_assert(json_is_true(json_object_get(s, "last_sync_full")));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "cursor")), 7);
	json_decref(s);
	char *db = xasprintf("%s/lab.db", d.home);
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT value, action, feed_id FROM imsva_so"
					       " ORDER BY value", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0),
			 "00000000000000000000000000000000000000A1");
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 1), "quarantine");
	ck_assert_int_eq(sqlite3_column_int(q, 2), 4);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 1), "log");
	ck_assert_int_eq(sqlite3_column_int(q, 2), 7);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	sqlite3_close(h);
	free(db);
}

/* STEP 2-4's evidence survives a restart: the last sync that brought
 * changes and its change number (the first sync after the restart finds
 * nothing new and must not hide them). */
TEST(last_change_survives_restart)
{
	start("en");
	peer_so("FILE", "00000000000000000000000000000000000000AA", "block");
	json_t *s = sync_now(1, 0);
	int64_t changed = json_integer_value(json_object_get(s, "last_change_ms"));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "change_number")), 1);
	json_decref(s);
	imsvad_stop(&d, 1);
	start("en");
	s = sync_now(1, changed);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "last_change_ms")), changed);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "change_number")), 1);
	json_decref(s);
}

TEST(japanese_rule_name)
{
	start("ja");
	char sha1[41], rule[128], action[32];
	sample_sha1(sha1);
	peer_so("FILE", sha1, "block");
	json_decref(sync_now(1, 0));
	send_sample("victim@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	last_policy_event(rule, sizeof rule, action, sizeof action, 1);
	ck_assert_str_eq(rule, "TMCM_不審ファイル検出ルール");
}

TEST(tmcm_down_is_a_system_event)
{
	char closed[64];
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d", tl_free_port());
	const char *args[] = {"--tmcm_url", closed, "--tmcm_sync_interval", "200ms", NULL};
	imsvad_start(&d, args);
	ck_assert(imsvad_wait_log(&d, "system", "tmcm_unreachable"));
	json_t *j = api(&d, "GET", NULL, NULL, "/api/connections/tmcm");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "offline");
	ck_assert(json_is_string(json_object_get(j, "last_error")));
	json_decref(j);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
