/* test_store_swap.c - a table replaced whole through its index-free twin
 * (common/store_swap.h): the twin copies the columns and constraints, not
 * the indexes; other connections see the old rows until the swap commits;
 * the swap rebuilds every index under its own name (partial ones too);
 * a key loaded twice keeps its last row; a twin given up is dropped. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "store_swap.h"
#include "testlib.h"
#include "tl_store.h"
#include "util.h"

static char *dir, *path;

static void setup(void)
{
	dir = tl_tmpdir("store-swap");
	path = xasprintf("%s/lab.db", dir);
}

static void teardown(void)
{
	tl_rmrf(dir);
	free(dir);
	free(path);
}

static void make_list(store *st)
{
	tl_store_exec(st, "CREATE TABLE t_list (id INTEGER PRIMARY KEY, k TEXT NOT NULL"
		    " CHECK (k <> ''), v INTEGER NOT NULL, exp INTEGER NOT NULL DEFAULT 0);"
		    "CREATE UNIQUE INDEX t_list_k ON t_list (k);"
		    "CREATE INDEX t_list_exp ON t_list (exp) WHERE exp != 0;"
		    "INSERT INTO t_list (k, v) VALUES ('old1', 1), ('old2', 2);");
}

TEST(twin_replaces_the_table_in_one_commit)
{
	store *st = tl_store_open(path), *reader = tl_store_open(path);
	ctd_err err = {0};
	make_list(st);
	ck_assert_int_eq(store_twin_create(st, "t_list", "t_list_next", &err), 0);
	/* columns and constraints, no index */
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
				       " AND tbl_name = 't_list_next'"), 0);
	ck_assert_int_eq(store_exec(st, "INSERT INTO t_list_next (k, v) VALUES ('', 0)", &err), -1);
	tl_store_exec(st, "INSERT INTO t_list_next (k, v, exp) VALUES ('a', 1, 0), ('b', 2, 5),"
		    " ('a', 3, 7)"); /* 'a' changed while the load went on */
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_twin_swap(st, "t_list", "t_list_next", "k", &err), 0);
	/* not committed: another connection still reads the old list */
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM t_list WHERE k LIKE 'old%'"), 2);
	ck_assert_int_eq(store_commit(st, &err), 0);
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM t_list"), 2);
	ck_assert_int_eq(tl_store_int(reader, "SELECT v FROM t_list WHERE k = 'a'"), 3);
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
					   " AND tbl_name = 't_list' AND name IN"
					   " ('t_list_k', 't_list_exp')"), 2);
	ck_assert_int_eq(tl_store_int(reader, "SELECT count(*) FROM sqlite_master"
					   " WHERE name = 't_list_next'"), 0);
	/* the unique index is back: an upsert by key works */
	tl_store_exec(st, "INSERT INTO t_list (k, v) VALUES ('b', 9) ON CONFLICT (k) DO UPDATE"
		    " SET v = excluded.v");
	ck_assert_int_eq(tl_store_int(st, "SELECT v FROM t_list WHERE k = 'b'"), 9);
	/* and a second load works the same (the index names are free again) */
	ck_assert_int_eq(store_twin_create(st, "t_list", "t_list_next", &err), 0);
	tl_store_exec(st, "INSERT INTO t_list_next (k, v) VALUES ('c', 4)");
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_twin_swap(st, "t_list", "t_list_next", "k", &err), 0);
	ck_assert_int_eq(store_commit(st, &err), 0);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 1);
	store_close(reader);
	store_close(st);
}

TEST(a_load_given_up_leaves_the_table)
{
	store *st = tl_store_open(path);
	ctd_err err = {0};
	make_list(st);
	ck_assert_int_eq(store_twin_create(st, "t_list", "t_list_next", &err), 0);
	tl_store_exec(st, "INSERT INTO t_list_next (k, v) VALUES ('half', 1)");
	store_twin_drop(st, "t_list_next");
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM sqlite_master"
				       " WHERE name = 't_list_next'"), 0);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list"), 2);
	/* a twin an interrupted load left behind is replaced by the next one */
	ck_assert_int_eq(store_twin_create(st, "t_list", "t_list_next", &err), 0);
	tl_store_exec(st, "INSERT INTO t_list_next (k, v) VALUES ('left', 1)");
	ck_assert_int_eq(store_twin_create(st, "t_list", "t_list_next", &err), 0);
	ck_assert_int_eq(tl_store_int(st, "SELECT count(*) FROM t_list_next"), 0);
	ck_assert_int_eq(store_twin_create(st, "no_such_table", "x_next", &err), -1);
	store_close(st);
}

TL_SUITE(.setup = setup, .teardown = teardown);
