/* tmcm_exceptions.c - the Exceptions list: objects (wildcards allowed) that
 * must not be distributed even when a Virtual Analyzer reports them. Adding
 * or removing one recomputes every VA key it covers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"

/* ---- exceptions ------------------------------------------------------------ */

json_t *tmcm_exc_list(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, type, value, notes, created_ms FROM tmcm_exceptions ORDER BY id", err);
	if (!s)
		return NULL;
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
		json_object_set_new(o, "type", json_string(tmcm_col_text(s, 1)));
		json_object_set_new(o, "value", json_string(tmcm_col_text(s, 2)));
		json_object_set_new(o, "notes", json_string(tmcm_col_text(s, 3)));
		tmcm_json_time(o, "created", sqlite3_column_int64(s, 4));
		json_array_append_new(arr, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		tmcm_db_fail(st, err, "list exceptions");
		return NULL;
	}
	return arr;
}

/* Recompute every VA key of `type` the pattern covers (one key when it has
 * no wildcard). Call inside a transaction. */
static int recompute_pattern(store *st, const char *type, const char *pattern, ctd_err *err)
{
	tmcm_exc_set exc;
	if (tmcm_exc_load(st, &exc, err) < 0)
		return -1;
	int rc = 0;
	if (!strpbrk(pattern, "*?")) {
		rc = tmcm_recompute(st, &exc, type, pattern, err);
		tmcm_exc_free(&exc);
		return rc;
	}
	sqlite3_stmt *s = store_stmt(st, "SELECT value FROM tmcm_va_objects WHERE type = ?1", err);
	char **values = NULL;
	size_t n = 0, cap = 0;
	int step = SQLITE_ERROR;
	if (s) {
		tmcm_bind_text(s, 1, type);
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			const char *v = tmcm_col_text(s, 0);
			if (!wildcard_match(pattern, v))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				values = xrealloc(values, cap * sizeof(char *));
			}
			values[n++] = xstrdup(v);
		}
		sqlite3_reset(s);
	}
	rc = step == SQLITE_DONE ? 0 : (s ? tmcm_db_fail(st, err, "pattern keys") : -1);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = tmcm_recompute(st, &exc, type, values[i], err);
		free(values[i]);
	}
	free(values);
	tmcm_exc_free(&exc);
	return rc;
}

int64_t tmcm_exc_add(store *st, const char *type_in, const char *value_in, const char *notes,
		     ctd_err *err)
{
	char type[8];
	tmcm_copy_str(type, sizeof(type), type_in);
	str_upper(type);
	if (!type_in || !tmcm_feed_type_valid(type))
		return ctd_fail(err, CTD_EINVAL, "type must be file, url, domain or ip");
	if (!value_in || !value_in[0] || strlen(value_in) > 2048)
		return ctd_fail(err, CTD_EINVAL, "value: 1 to 2048 characters required");
	char *value = xstrdup(value_in);
	tmcm_normalise_value(type, value);
	int64_t id = -1;
	if (store_begin(st, err) == 0) {
		sqlite3_stmt *s = store_stmt(st,
			"INSERT INTO tmcm_exceptions (type, value, notes, created_ms)"
			" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (type, value) DO UPDATE SET"
			" notes = excluded.notes RETURNING id", err);
		if (s) {
			tmcm_bind_text(s, 1, type);
			tmcm_bind_text(s, 2, value);
			tmcm_bind_text(s, 3, notes ? notes : "");
			sqlite3_bind_int64(s, 4, time_now_ms());
			if (sqlite3_step(s) == SQLITE_ROW)
				id = sqlite3_column_int64(s, 0);
			else
				tmcm_db_fail(st, err, "add exception");
			sqlite3_reset(s);
		}
		if (id > 0 && recompute_pattern(st, type, value, err) < 0)
			id = -1;
		if (id > 0 && store_commit(st, err) < 0)
			id = -1;
		else if (id < 0)
			store_rollback(st);
	}
	free(value);
	return id;
}

int tmcm_exc_delete(store *st, int64_t id, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
		"DELETE FROM tmcm_exceptions WHERE id = ?1 RETURNING type, value", err);
	char type[8] = "", *value = NULL;
	int rc = -1;
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		int step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			tmcm_copy_str(type, sizeof(type), tmcm_col_text(s, 0));
			value = xstrdup(tmcm_col_text(s, 1));
			rc = 0;
		} else if (step == SQLITE_DONE) {
			ctd_fail(err, CTD_ENOTFOUND, "no exception with id %lld", (long long)id);
		} else {
			tmcm_db_fail(st, err, "delete exception");
		}
		sqlite3_reset(s);
	}
	if (rc == 0)
		rc = recompute_pattern(st, type, value, err);
	free(value);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}
