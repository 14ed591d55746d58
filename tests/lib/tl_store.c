/* tl_store.c - store helpers for unit tests (tl_store.h). */
#include "tl_store.h"

#include <check.h>

store *tl_store_open(const char *path)
{
	store *st;
	ctd_err err = {0};
	ck_assert_msg(store_open(path, &st, &err) == 0, "store_open %s: %s", path, err.msg);
	return st;
}

void tl_store_exec(store *st, const char *sql)
{
	ctd_err err = {0};
	ck_assert_msg(store_exec(st, sql, &err) == 0, "%s: %s", sql, err.msg);
}

long long tl_store_int(store *st, const char *sql)
{
	ctd_err err = {0};
	sqlite3_stmt *s = store_stmt(st, sql, &err);
	ck_assert_msg(s != NULL, "%s: %s", sql, err.msg);
	ck_assert_msg(sqlite3_step(s) == SQLITE_ROW, "%s: no row", sql);
	long long v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}
