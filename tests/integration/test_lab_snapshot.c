/* test_lab_snapshot.c - `ctdlab snapshot save|load` on a running lab: a
 * snapshot taken while mail is being sent holds one consistent state; after
 * more mail and another UDSO, loading it restarts the daemons and brings the
 * counts of messages, SOs and UDSOs back to those at save (in the store and
 * through TMCM's API); a snapshot of another schema version, or a file that
 * is no snapshot, is refused with a clear message and changes nothing. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "testlib.h"
#include "util.h"

TL_SUITE(.timeout = 300);

/* Messages, SOs (every appliance's list) and UDSOs. Not the logs: mail the
 * snapshot caught in IMSVA's queue is processed (and logged) after a load. */
static const char *const counted[] = {"imsva_messages", "tmcm_udso", "imsva_so", "ddan_so",
				      "tmcm_va_objects", "sps_objects", "ddi_sos", NULL};
#define NCOUNTED 7

static void count_rows(const char *db_path, long counts[NCOUNTED])
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	for (int i = 0; counted[i]; i++) {
		char *sql = xasprintf("SELECT count(*) FROM %s", counted[i]);
		sqlite3_stmt *s;
		ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		counts[i] = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		free(sql);
	}
	sqlite3_close(db);
}

/* Wait (bounded) until column `table` of counted[] reaches n rows. */
static void wait_count(const char *db_path, const char *table, long n)
{
	int col = 0;
	while (strcmp(counted[col], table) != 0)
		col++;
	long counts[NCOUNTED] = {0};
	for (int i = 0; i < 3000; i++) {
		count_rows(db_path, counts);
		if (counts[col] >= n)
			return;
		tl_sleep_ms(20);
	}
	ck_abort_msg("%s never reached %ld rows (%ld)", table, n, counts[col]);
}

/* --- mail sent from a thread while the snapshot is taken -------------------- */

typedef struct sender {
	char host[64];
	int port;
	atomic_int stop, sent;
	pthread_t thread;
} sender;

static void *send_loop(void *arg)
{
	sender *s = arg;
	const char *rcpts[] = {"bob@lab.test", NULL};
	while (!atomic_load(&s->stop)) {
		char *msg = xasprintf("From: alice@lab.test\r\nTo: bob@lab.test\r\n"
				      "Subject: snapshot %d\r\n\r\nbody %d\r\n",
				      atomic_load(&s->sent), atomic_load(&s->sent));
		if (tl_smtp_send(s->host, s->port, "alice@lab.test", rcpts, msg) == 250)
			atomic_fetch_add(&s->sent, 1);
		free(msg);
	}
	return NULL;
}

static void wait_sent(sender *s, int n)
{
	for (int i = 0; i < 6000 && atomic_load(&s->sent) < n; i++)
		tl_sleep_ms(10);
	ck_assert_int_ge(atomic_load(&s->sent), n);
}

static json_t *ready_of(const char *dir, const char *appliance)
{
	json_t *r = tl_wait_ready(dir, appliance, TL_START_MS);
	ck_assert_ptr_nonnull(r);
	return r;
}

static json_t *tmcm_console(const char *dir, const char *method, const char *path,
			    const char *body, long want)
{
	json_t *ready = ready_of(dir, "tmcm");
	const char *pw = json_string_value(json_object_get(
		json_object_get(json_object_get(ready, "info"), "console"), "password"));
	char *hdr = xasprintf("X-Api-Key: %s", pw);
	json_t *j = tl_api(tl_listener(ready, "https"), method, path,
			   (const char *const[]){hdr, "Content-Type: application/json", NULL}, body,
			   want);
	free(hdr);
	json_decref(ready);
	return j;
}

static void add_udso(const char *dir, const char *url)
{
	char *body = xasprintf("{\"type\": \"url\", \"content\": \"%s\", \"scan_action\": \"block\"}",
			       url);
	json_decref(tmcm_console(dir, "POST", "/api/udso", body, 200));
	free(body);
}

static size_t udso_listed(const char *dir)
{
	json_t *j = tmcm_console(dir, "GET", "/api/udso", NULL, 200);
	json_t *list = json_is_array(j) ? j : json_object_get(j, "data");
	if (!json_is_array(list))
		list = json_object_get(j, "items");
	size_t n = json_array_size(list);
	json_decref(j);
	return n;
}

static void start_sender(sender *s, const char *dir)
{
	json_t *ready = ready_of(dir, "imsva");
	const char *smtp = tl_listener(ready, "smtp");
	ck_assert_ptr_nonnull(smtp);
	ck_assert_int_eq(sscanf(smtp, "smtp://%63[^:]:%d", s->host, &s->port), 2);
	json_decref(ready);
	pthread_create(&s->thread, NULL, send_loop, s);
}

static char *run(const char *dir, const char *const *args, int want)
{
	char *out = NULL;
	int rc = tl_ctdlab(dir, args, &out);
	ck_assert_msg(rc == want, "ctdlab %s %s: exit %d, want %d:\n%.2000s", args[0],
		      args[1] ? args[1] : "", rc, want, out);
	return out;
}

TEST(test_snapshot_mid_run_restores_counts)
{
	char *dir = tl_tmpdir("snapshot");
	char *file = xasprintf("%s/mid.snap", dir), *db = xasprintf("%s/lab.db", dir);
	tl_lab_env();
	free(run(dir, (const char *[]){"up", NULL}, 0));
	add_udso(dir, "http://one.snapshot.ctdlab.test/");
	add_udso(dir, "http://two.snapshot.ctdlab.test/");

	/* IMSVA and SPS have pulled them: the lab is settled but for the mail */
	wait_count(db, "imsva_so", 2);
	wait_count(db, "sps_objects", 2);

	sender s = {0};
	start_sender(&s, dir);
	wait_sent(&s, 5);
	char *out = run(dir, (const char *[]){"snapshot", "save", file, NULL}, 0);
	ck_assert_msg(strstr(out, "saved") != NULL, "%s", out);
	free(out);
	int at_save = atomic_load(&s.sent);
	wait_sent(&s, at_save + 5); /* mail kept flowing: the save paused nothing */
	atomic_store(&s.stop, 1);
	pthread_join(s.thread, NULL);

	long saved[NCOUNTED], live[NCOUNTED];
	count_rows(file, saved);
	ck_assert_int_ge(saved[0], 5);
	ck_assert_int_eq(saved[1], 2);
	add_udso(dir, "http://three.snapshot.ctdlab.test/");
	count_rows(db, live);
	ck_assert_int_gt(live[0], saved[0]);
	ck_assert_int_eq(live[1], 3);

	out = run(dir, (const char *[]){"snapshot", "load", file, NULL}, 0);
	ck_assert_msg(strstr(out, "loaded") != NULL && strstr(out, "stopping") != NULL, "%s", out);
	free(out);
	free(run(dir, (const char *[]){"status", NULL}, 0)); /* all five healthy again */
	count_rows(db, live);
	for (int i = 0; counted[i]; i++)
		ck_assert_msg(live[i] == saved[i], "%s: %ld after load, %ld at save", counted[i],
			      live[i], saved[i]);
	ck_assert_uint_eq(udso_listed(dir), 2);

	free(run(dir, (const char *[]){"down", NULL}, 0));
	tl_rmrf(dir);
	free(dir);
	free(file);
	free(db);
}

TEST(test_snapshot_incompatible_refused)
{
	char *dir = tl_tmpdir("snapshot-bad");
	char *file = xasprintf("%s/ok.snap", dir), *bad = xasprintf("%s/bad.snap", dir);
	char *junk = xasprintf("%s/junk.snap", dir), *db = xasprintf("%s/lab.db", dir);
	tl_lab_env();
	free(run(dir, (const char *[]){"up", NULL}, 0));
	add_udso(dir, "http://kept.snapshot.ctdlab.test/");
	free(run(dir, (const char *[]){"snapshot", "save", file, NULL}, 0));
	free(run(dir, (const char *[]){"snapshot", "save", bad, NULL}, 0));
	sqlite3 *sdb;
	ck_assert_int_eq(sqlite3_open(bad, &sdb), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sdb, "UPDATE ctdlab_snapshot SET value = '999' "
					   "WHERE key = 'schema_version'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(sdb);
	add_udso(dir, "http://after.snapshot.ctdlab.test/");

	char *out = run(dir, (const char *[]){"snapshot", "load", bad, NULL}, 1);
	ck_assert_msg(strstr(out, "schema version 999") && strstr(out, "incompatible snapshot"),
		      "unclear refusal: %s", out);
	free(out);
	ck_assert_int_eq(file_write_atomic(junk, "not sqlite", 10, 0644, NULL), 0);
	out = run(dir, (const char *[]){"snapshot", "load", junk, NULL}, 1);
	free(out);
	out = run(dir, (const char *[]){"snapshot", "load", db, NULL}, 1);
	ck_assert_msg(strstr(out, "not a ctdlab snapshot") != NULL, "%s", out);
	free(out);
	out = run(dir, (const char *[]){"snapshot", "load", NULL}, 2);
	free(out);
	/* nothing changed, nothing stopped */
	long live[NCOUNTED];
	count_rows(db, live);
	ck_assert_int_eq(live[1], 2);
	free(run(dir, (const char *[]){"status", NULL}, 0));
	free(run(dir, (const char *[]){"down", NULL}, 0));
	tl_rmrf(dir);
	free(dir);
	free(file);
	free(bad);
	free(junk);
	free(db);
}
