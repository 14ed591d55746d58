/* tmcm_db.c - small helpers every TMCM module shares: binding and
 * column reads, store errors, times in JSON, and the shared timeline. */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"

int tmcm_db_fail(store *st, ctd_err *err, const char *what)
{
	return ctd_fail(err, CTD_ESTORE, "%s: %s", what, sqlite3_errmsg(store_db(st)));
}

void tmcm_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

const char *tmcm_col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? t : "";
}

void tmcm_copy_str(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0; /* cut to fit, as snprintf would */
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void tmcm_json_time(json_t *o, const char *key, int64_t ms)
{
	char buf[32];
	if (!ms) {
		json_object_set_new(o, key, json_null());
		return;
	}
	time_iso8601(ms, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

void tmcm_timeline(store *st, const char *kind, const char *ref, json_t *detail)
{
	ctd_err err = {0};
	if (!st)
		st = store_get(&err);
	if (!st || events_append(st, "tmcm", kind, ref, detail, &err) < 0)
		log_warn("events.append_failed", "kind=%s error=\"%s\"", kind, err.msg);
	json_decref(detail);
}
