/* test_so_sync.c - the feed-to-list driver (common/so_sync.h) over a fake
 * list whose callbacks write a plain table: a full pull is swapped in whole
 * (readers see the old list until then, batches appended on the loader
 * thread included), an empty feed empties the list, a removal met during
 * the pull is applied after the swap, and a pull that fails, in a loader's
 * append (the last one too) or in the feed, keeps the old list and cursor
 * and drops the twin; one loader thread appends a pull's batches; an
 * incremental pull applies changes in place. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "so_sync.h"
#include "store.h"
#include "testlib.h"
#include "tl_store.h"
#include "util.h"

static char *dir, *path;

/* The threads (kernel ids: never reused soon) the appends ran on, and
 * whether one met the poison. */
#define MAX_APPENDS 8
static pid_t append_tids[MAX_APPENDS];
static int appends, poisoned;

static void setup(void)
{
	appends = poisoned = 0;
	dir = tl_tmpdir("so-sync");
	path = xasprintf("%s/lab.db", dir);
	store_set_path(path);
}

static void teardown(void)
{
	store_close_thread();
	store_set_path(NULL);
	tl_rmrf(dir);
	free(dir);
	free(path);
}

/* ---- the fake list: t_list (k unique, feed_id), cursor in t_cursor ---- */

/* An append meeting this value fails, as a full disk would. */
#define POISON "poison"

static int step_text_id(store *st, const char *sql, const so_record *r, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, r->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->id);
	return store_step_done(st, s, err);
}

static int fake_append(store *st, const so_record *r, size_t n, ctd_err *err)
{
	if (appends < MAX_APPENDS)
		append_tids[appends] = gettid();
	__atomic_add_fetch(&appends, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(r[i].value, POISON) == 0) {
			__atomic_store_n(&poisoned, 1, __ATOMIC_RELEASE);
			return ctd_fail(err, CTD_ESTORE, "append: poisoned");
		}
		if (step_text_id(st, "INSERT INTO t_list_next (k, feed_id) VALUES (?1, ?2)", &r[i],
				 err) != 0)
			return -1;
	}
	return 0;
}

static int fake_apply(store *st, const so_record *r, ctd_err *err)
{
	return step_text_id(st, r->removed ? "DELETE FROM t_list WHERE k = ?1 AND feed_id < ?2"
					   : "INSERT INTO t_list (k, feed_id) VALUES (?1, ?2)"
					     " ON CONFLICT (k) DO UPDATE SET feed_id = excluded.feed_id",
			    r, err);
}

static int fake_remove_older(store *st, const so_record *r, ctd_err *err)
{
	return step_text_id(st, "DELETE FROM t_list WHERE k = ?1 AND feed_id < ?2", r, err);
}

static int fake_finish(store *st, int64_t cursor, long changes, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE t_cursor SET c = ?1, changes = ?2", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, cursor);
	sqlite3_bind_int64(s, 2, changes);
	return store_step_done(st, s, err);
}

static const so_sync_list fake_list = {
	.table = "t_list",
	.twin = "t_list_next",
	.key = "k",
	.append = fake_append,
	.apply = fake_apply,
	.remove_older = fake_remove_older,
	.finish = fake_finish,
};

/* The pulling thread's connection, with the old list: old1, old2 at cursor 7. */
static store *old_list(void)
{
	ctd_err err = {0};
	store *st = store_get(&err);
	ck_assert_msg(st != NULL, "store_get: %s", err.msg);
	tl_store_exec(st, "CREATE TABLE t_list (id INTEGER PRIMARY KEY, k TEXT NOT NULL,"
		    " feed_id INTEGER NOT NULL);"
		    "CREATE UNIQUE INDEX t_list_k ON t_list (k);"
		    "CREATE TABLE t_cursor (c INTEGER NOT NULL, changes INTEGER NOT NULL);"
		    "INSERT INTO t_cursor VALUES (7, 0);"
		    "INSERT INTO t_list (k, feed_id) VALUES ('old1', 1), ('old2', 2);");
	return st;
}

static void feed(so_sync *s, int64_t id, const char *value, int removed)
{
	so_record r = {.id = id, .type = "URL", .value = (char *)value, .removed = removed};
	ck_assert_int_eq(so_sync_record(&r, s), 0);
}

/* n records k0..k<n-1> with IDs from 1 */
static void feed_many(so_sync *s, int n)
{
	for (int i = 0; i < n; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%d", i);
		feed(s, i + 1, k, 0);
	}
}

static int twin_exists(store *st)
{
	return (int)tl_store_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 't_list_next'");
}

/* After a failed full pull: old_list's list and cursor, and no twin. */
static void assert_old_list_kept(store *st)
{
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list WHERE k LIKE 'old%'"), 2);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 2);
	ck_assert_int_eq(tl_store_int(st, "SELECT c FROM t_cursor"), 7);
	ck_assert_int_eq(twin_exists(st), 0);
}

TEST(a_full_pull_replaces_the_list_in_one_commit)
{
	store *st = old_list(), *reader = tl_store_open(path);
	ctd_err err = {0};
	/* two batches for the loader thread, the rest in the last transaction */
	int n = 2 * SO_SYNC_BATCH + 5;
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	feed_many(s, n);
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM t_list WHERE k LIKE 'old%'"), 2);
	int64_t cursor = n;
	ck_assert_msg(so_sync_end(s, &cursor, n, &err) == 0, "end: %s", err.msg);
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM t_list"), n);
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM t_list WHERE k LIKE 'old%'"), 0);
	ck_assert_int_eq(tl_store_int(reader, "SELECT feed_id FROM t_list WHERE k = 'k20003'"), 20004);
	ck_assert_int_eq(tl_store_int(reader, "SELECT c FROM t_cursor"), n);
	ck_assert_int_eq(tl_store_int(reader, "SELECT changes FROM t_cursor"), n);
	ck_assert_int_eq(twin_exists(reader), 0);
	/* the unique index is back */
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM sqlite_master"
					   " WHERE name = 't_list_k'"), 1);
	store_close(reader);
}

TEST(an_empty_feed_empties_the_list_without_a_twin)
{
	store *st = old_list();
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	int64_t cursor = 0;
	ck_assert_msg(so_sync_end(s, &cursor, 0, &err) == 0, "end: %s", err.msg);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 0);
	ck_assert_int_eq(tl_store_int(st, "SELECT c FROM t_cursor"), 0);
	ck_assert_int_eq(twin_exists(st), 0);
}

TEST(a_removal_met_during_a_full_pull_is_applied_after_the_swap)
{
	store *st = old_list();
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	feed(s, 1, "a", 0);
	feed(s, 2, "b", 0);
	feed(s, 3, "a", 1);    /* a removed after it was read */
	feed(s, 4, "old1", 1); /* only in the old list */
	feed(s, 5, "c", 1);    /* c removed, then back */
	feed(s, 6, "c", 0);
	int64_t cursor = 6;
	ck_assert_msg(so_sync_end(s, &cursor, 6, &err) == 0, "end: %s", err.msg);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 2);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list WHERE k IN ('b', 'c')"), 2);
}

TEST(a_failed_append_keeps_the_old_list_and_drops_the_twin)
{
	store *st = old_list(), *reader = tl_store_open(path);
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	feed(s, 1, POISON, 0); /* the first batch fails on the loader thread */
	feed_many(s, SO_SYNC_BATCH);
	/* the pull goes on until the loader's failure shows, at the next batch */
	so_record r = {.id = 9, .type = "URL", .value = "late"};
	int rc = 0;
	for (int i = 0; i < SO_SYNC_BATCH + 1 && rc == 0; i++)
		rc = so_sync_record(&r, s);
	ck_assert_int_eq(rc, -1);
	int64_t cursor = 99;
	ck_assert_int_eq(so_sync_end(s, &cursor, 99, &err), -1);
	ck_assert_str_eq(err.msg, "append: poisoned");
	assert_old_list_kept(reader);
	store_close(reader);
}

/* The last batch handed to the loader fails, and the loader is done with
 * it before the end of the pull looks: the pull fails all the same. */
TEST(a_failed_last_append_fails_the_pull)
{
	store *st = old_list();
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	feed_many(s, SO_SYNC_BATCH); /* the first batch, fine */
	feed(s, SO_SYNC_BATCH + 1, POISON, 0);
	feed_many(s, SO_SYNC_BATCH); /* hands over the second, poisoned */
	while (!__atomic_load_n(&poisoned, __ATOMIC_ACQUIRE))
		tl_sleep_ms(1);
	tl_sleep_ms(50); /* the loader is done and idle before the end looks */
	int64_t cursor = 99;
	ck_assert_int_eq(so_sync_end(s, &cursor, 99, &err), -1);
	ck_assert_str_eq(err.msg, "append: poisoned");
	assert_old_list_kept(st);
}

/* A pull's batches are all appended by one loader thread, not a thread
 * (and a store connection) per batch, and not on the pulling thread. */
TEST(one_loader_thread_appends_every_batch_of_a_pull)
{
	store *st = old_list();
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	feed_many(s, 3 * SO_SYNC_BATCH + 1); /* three batches to the loader */
	int64_t cursor = 3 * SO_SYNC_BATCH + 1;
	ck_assert_int_eq(so_sync_end(s, &cursor, cursor, &err), 0);
	ck_assert_int_eq(appends, 4); /* the last, partial one on the pulling thread */
	ck_assert_int_ne(append_tids[0], gettid());
	ck_assert_int_eq(append_tids[1], append_tids[0]);
	ck_assert_int_eq(append_tids[2], append_tids[0]);
	ck_assert_int_eq(append_tids[3], gettid());
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 3 * SO_SYNC_BATCH + 1);
}

TEST(a_feed_failing_mid_pull_keeps_the_old_list_and_drops_the_twin)
{
	store *st = old_list();
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 1);
	feed_many(s, SO_SYNC_BATCH + 3); /* one batch appended, on the loader */
	ctd_fail(&err, CTD_EIO, "page 2: connection reset");
	ck_assert_int_eq(so_sync_end(s, NULL, -1, &err), -1);
	ck_assert_str_eq(err.msg, "page 2: connection reset");
	assert_old_list_kept(st);
}

TEST(an_incremental_pull_applies_changes_in_place)
{
	store *st = old_list();
	ctd_err err = {0};
	so_sync *s = so_sync_begin(&fake_list, st, 0);
	feed(s, 8, "new", 0);
	feed(s, 9, "old1", 1);
	feed(s, 10, "old2", 0);
	int64_t cursor = 10;
	ck_assert_msg(so_sync_end(s, &cursor, 3, &err) == 0, "end: %s", err.msg);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 2);
	ck_assert_int_eq(tl_store_int(st, "SELECT feed_id FROM t_list WHERE k = 'old2'"), 10);
	ck_assert_int_eq(tl_store_int(st, "SELECT c FROM t_cursor"), 10);
	ck_assert_int_eq(twin_exists(st), 0);
	/* a pull that fails keeps what it read but not its cursor: the next
	 * pull brings the same changes again */
	s = so_sync_begin(&fake_list, st, 0);
	feed(s, 11, "kept", 0);
	ctd_fail(&err, CTD_EIO, "page 2: connection reset");
	ck_assert_int_eq(so_sync_end(s, NULL, -1, &err), -1);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list WHERE k = 'kept'"), 1);
	ck_assert_int_eq(tl_store_int(st, "SELECT c FROM t_cursor"), 10);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
