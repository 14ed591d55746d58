/* store_swap.c - a table replaced whole through an index-free twin
 * (store_swap.h). */
#include "store_swap.h"

#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "util.h"

/* Helper threads of an index build's sort (SQLite's PRAGMA threads). */
#define SWAP_SORT_THREADS 2

/* Run sql made by sqlite3_mprintf (freed here). */
static int exec_owned(store *st, char *sql, ctd_err *err)
{
	int rc = store_exec(st, sql, err);
	sqlite3_free(sql);
	return rc;
}

/* The CREATE statement of a table, from its column list on: "(id INTEGER ...)". */
static char *table_body(store *st, const char *table, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT sql FROM sqlite_master WHERE type = 'table'"
				     " AND name = ?1", err);
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	char *body = NULL;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *sql = strchr((const char *)sqlite3_column_text(s, 0), '(');
		body = sql ? xstrdup(sql) : NULL;
	}
	sqlite3_reset(s);
	if (!body)
		ctd_fail(err, CTD_ESTORE, "store: no table %s to copy", table);
	return body;
}

int store_twin_create(store *st, const char *table, const char *twin, ctd_err *err)
{
	char *body = table_body(st, table, err);
	if (!body || store_begin(st, err) < 0) {
		free(body);
		return -1;
	}
	int rc = exec_owned(st, sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\"; CREATE TABLE \"%w\" %s",
						twin, twin, body), err);
	free(body);
	if (rc == 0)
		return store_commit(st, err);
	store_rollback(st);
	return -1;
}

/* The CREATE INDEX statements of a table (not the automatic ones of its
 * UNIQUE and PRIMARY KEY constraints, which come with the table). */
static char **index_sql(store *st, const char *table, size_t *n, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT sql FROM sqlite_master WHERE type = 'index'"
				     " AND tbl_name = ?1 AND sql IS NOT NULL", err);
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	char **sql = NULL;
	int rc;
	for (*n = 0; (rc = sqlite3_step(s)) == SQLITE_ROW; (*n)++) {
		sql = xrealloc(sql, (*n + 1) * sizeof *sql);
		sql[*n] = xstrdup((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return sql ? sql : xcalloc(1, sizeof *sql);
	for (size_t i = 0; i < *n; i++)
		free(sql[i]);
	free(sql);
	ctd_fail(err, CTD_ESTORE, "store: indexes of %s: %s", table, sqlite3_errmsg(store_db(st)));
	return NULL;
}

/* Build one index; a unique one that meets a key twice gets the older rows
 * of that key deleted first. */
static int index_build(store *st, const char *table, const char *key, const char *sql,
		       ctd_err *err)
{
	int rc = store_exec(st, sql, err);
	if (rc == 0 || err->code != CTD_ECONFLICT)
		return rc;
	log_info("store.twin_duplicates", "table=%s key=\"%s\"", table, key);
	rc = exec_owned(st, sqlite3_mprintf("DELETE FROM \"%w\" WHERE rowid NOT IN"
					    " (SELECT max(rowid) FROM \"%w\" GROUP BY %s)",
					    table, table, key), err);
	return rc == 0 ? store_exec(st, sql, err) : rc;
}

int store_twin_swap(store *st, const char *table, const char *twin, const char *key,
		    ctd_err *err)
{
	size_t n;
	char **indexes = index_sql(st, table, &n, err);
	if (!indexes)
		return -1;
	int rc = exec_owned(st, sqlite3_mprintf("DROP TABLE \"%w\"; ALTER TABLE \"%w\" RENAME TO \"%w\"",
						table, twin, table), err);
	/* The sorts run at the end of a load, when its other threads are done:
	 * SQLite's sorter may use a second core for them. */
	int threads = sqlite3_limit(store_db(st), SQLITE_LIMIT_WORKER_THREADS, SWAP_SORT_THREADS);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = index_build(st, table, key, indexes[i], err);
		free(indexes[i]);
	}
	sqlite3_limit(store_db(st), SQLITE_LIMIT_WORKER_THREADS, threads);
	free(indexes);
	return rc;
}

void store_twin_drop(store *st, const char *twin)
{
	ctd_err err = {0};
	if (exec_owned(st, sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\"", twin), &err) < 0)
		log_warn("store.twin_drop_failed", "table=%s error=\"%s\"", twin, err.msg);
}
