/* tmcm_va.c - the Virtual Analyzer Objects list: objects pulled from DDAN and
 * DDI (one row per type and value, `source` = the source that saw it first;
 * every source that reported it in tmcm_va_sources), their
 * listing and filters for the console, and the administrator's actions on a
 * selection: set the scan action, expire now, never expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"

/* ---- Virtual Analyzer objects --------------------------------------------- */

enum { ADMIN_EXPIRY_NONE = 0, ADMIN_EXPIRED = 1, ADMIN_NEVER_EXPIRE = 2, ADMIN_EXPIRY_DATE = 3 };

/* The expiry to keep for a re-reported object: the admin's "never expire"
 * and a date set with "Set action" stick; "expire now" sticks until the
 * source sees the object again. */
static int va_expiry(store *st, const char *type, const char *value, const so_record *r,
		     int64_t *expires, int *admin, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT admin_expiry, expires_ms, last_seen_ms FROM tmcm_va_objects"
		" WHERE type = ?1 AND value = ?2", err);
	if (!s)
		return -1;
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	*expires = r->expires_ms;
	*admin = ADMIN_EXPIRY_NONE;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int a = sqlite3_column_int(s, 0);
		int64_t old_exp = sqlite3_column_int64(s, 1), old_seen = sqlite3_column_int64(s, 2);
		if (a == ADMIN_NEVER_EXPIRE || a == ADMIN_EXPIRY_DATE) {
			*expires = old_exp;
			*admin = a;
		} else if (a == ADMIN_EXPIRED && r->last_seen_ms <= old_seen) {
			*expires = old_exp;
			*admin = a;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tmcm_db_fail(st, err, "va expiry");
}

/* ---- the sources of an object ---------------------------------------------- */

/* Bind ?1 type, ?2 value, ?3 source and run a statement to its end. */
static int key_exec(store *st, const char *sql, const char *type, const char *value,
		    const char *source, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return -1;
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	if (source)
		tmcm_bind_text(s, 3, source);
	return store_step_done(st, s, err);
}

/* One source reported the object: keep its own first and last seen. */
static int source_seen(store *st, const char *source, const char *type, const char *value,
		       int64_t first_seen, int64_t last_seen, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_va_sources (type, value, source, first_seen_ms, last_seen_ms,"
		" added_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (type, value, source) DO UPDATE SET"
		" first_seen_ms = MIN(first_seen_ms, excluded.first_seen_ms),"
		" last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms)", err);
	if (!s)
		return -1;
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	tmcm_bind_text(s, 3, source);
	sqlite3_bind_int64(s, 4, first_seen);
	sqlite3_bind_int64(s, 5, last_seen);
	sqlite3_bind_int64(s, 6, time_now_ms());
	return store_step_done(st, s, err);
}

/* The object's source is the one that saw it first (DDI that captured a
 * file before DDAN analysed it), whoever reported it last. */
#define FIRST_SOURCE \
	"(SELECT source FROM tmcm_va_sources WHERE type = ?1 AND value = ?2" \
	" ORDER BY first_seen_ms, added_ms, source LIMIT 1)"

static int first_source_update(store *st, const char *type, const char *value, ctd_err *err)
{
	return key_exec(st, "UPDATE tmcm_va_objects SET source = " FIRST_SOURCE
			" WHERE type = ?1 AND value = ?2", type, value, NULL, err);
}

/* A source withdrew the object: it stays while another source reports it. */
static int source_removed(store *st, const char *source, const char *type, const char *value,
			  ctd_err *err)
{
	if (key_exec(st, "DELETE FROM tmcm_va_sources WHERE type = ?1 AND value = ?2"
		     " AND source = ?3", type, value, source, err) < 0 ||
	    key_exec(st, "DELETE FROM tmcm_va_objects WHERE type = ?1 AND value = ?2"
		     " AND NOT EXISTS (SELECT 1 FROM tmcm_va_sources WHERE type = ?1"
		     " AND value = ?2)", type, value, NULL, err) < 0)
		return -1;
	return first_source_update(st, type, value, err);
}

static int va_upsert(store *st, const char *source, const char *default_action,
		     const char *type, const char *value, const so_record *r, ctd_err *err)
{
	int64_t expires;
	int admin;
	if (va_expiry(st, type, value, r, &expires, &admin, err) < 0)
		return -1;
	int64_t now = time_now_ms();
	int64_t first = r->first_seen_ms ? r->first_seen_ms : now;
	int64_t last = r->last_seen_ms ? r->last_seen_ms : now;
	if (source_seen(st, source, type, value, first, last, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_va_objects (type, value, source, risk, first_seen_ms, last_seen_ms,"
		" expires_ms, related_sha1, action, admin_expiry, modified_ms)"
		" VALUES (?1, ?2, " FIRST_SOURCE ", ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (type, value) DO UPDATE SET source = excluded.source,"
		" risk = excluded.risk, first_seen_ms = MIN(first_seen_ms, excluded.first_seen_ms),"
		" last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms),"
		" expires_ms = excluded.expires_ms, related_sha1 = excluded.related_sha1,"
		" admin_expiry = excluded.admin_expiry, modified_ms = excluded.modified_ms", err);
	if (!s)
		return -1;
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	tmcm_bind_text(s, 4, r->risk[0] ? r->risk : "High");
	sqlite3_bind_int64(s, 5, first);
	sqlite3_bind_int64(s, 6, last);
	sqlite3_bind_int64(s, 7, expires);
	tmcm_bind_text(s, 8, r->related_sha1);
	tmcm_bind_text(s, 9, default_action);
	sqlite3_bind_int(s, 10, admin);
	sqlite3_bind_int64(s, 11, now);
	return store_step_done(st, s, err);
}

int tmcm_va_apply(store *st, const tmcm_exc_set *exc, const char *source,
		  const char *default_action, const so_record *r, ctd_err *err)
{
	char type[8];
	tmcm_copy_str(type, sizeof(type), r->type);
	str_upper(type);
	if (!tmcm_feed_type_valid(type) || !r->value || !r->value[0])
		return ctd_fail(err, CTD_EINVAL, "feed record %lld: bad type or value",
				(long long)r->id);
	char *value = xstrdup(r->value);
	tmcm_normalise_value(type, value);
	int rc;
	if (r->removed) {
		rc = source_removed(st, source, type, value, err);
	} else {
		rc = va_upsert(st, source, default_action, type, value, r, err);
	}
	if (rc == 0)
		rc = tmcm_recompute(st, exc, type, value, err);
	free(value);
	return rc;
}

static const char *va_status(const tmcm_exc_set *exc, const char *type, const char *value,
			     int64_t expires, int64_t now)
{
	if (expires && expires <= now)
		return "expired";
	if (tmcm_exc_matches(exc, type, value))
		return "excepted";
	return "active";
}

#define VA_WHERE \
	" WHERE (?1 IS NULL OR v.type = ?1) AND (?2 IS NULL OR EXISTS (SELECT 1" \
	" FROM tmcm_va_sources x WHERE x.type = v.type AND x.value = v.value AND x.source = ?2))" \
	" AND (?3 IS NULL OR v.action = ?3) AND (?4 IS NULL OR v.risk = ?4)" \
	" AND (?5 IS NULL OR instr(lower(v.value), lower(?5)) > 0)" \
	" AND (?6 OR v.expires_ms = 0 OR v.expires_ms > ?7)"

static void va_bind_filter(sqlite3_stmt *s, const tmcm_va_filter *f, int64_t now)
{
	tmcm_bind_text(s, 1, f->type);
	tmcm_bind_text(s, 2, f->source);
	tmcm_bind_text(s, 3, f->action);
	tmcm_bind_text(s, 4, f->risk);
	tmcm_bind_text(s, 5, f->q);
	sqlite3_bind_int(s, 6, f->include_inactive);
	sqlite3_bind_int64(s, 7, now);
}

/* "DDI,DDAN" (first seen first) as ["DDI", "DDAN"]. */
static json_t *sources_json(const char *list)
{
	json_t *a = json_array();
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static json_t *va_item(sqlite3_stmt *s, const tmcm_exc_set *exc, int64_t now)
{
	const char *type = tmcm_col_text(s, 1), *value = tmcm_col_text(s, 2);
	int64_t expires = sqlite3_column_int64(s, 7);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "value", json_string(value));
	json_object_set_new(o, "source", json_string(tmcm_col_text(s, 3)));
	json_object_set_new(o, "sources", sources_json(tmcm_col_text(s, 14)));
	json_object_set_new(o, "risk", json_string(tmcm_col_text(s, 4)));
	tmcm_json_time(o, "first_seen", sqlite3_column_int64(s, 5));
	tmcm_json_time(o, "last_seen", sqlite3_column_int64(s, 6));
	tmcm_json_time(o, "expires", expires);
	json_object_set_new(o, "related_sha1", json_string(tmcm_col_text(s, 8)));
	json_object_set_new(o, "action", json_string(tmcm_col_text(s, 9)));
	tmcm_json_time(o, "last_synced", sqlite3_column_int64(s, 13));
	json_object_set_new(o, "status", json_string(va_status(exc, type, value, expires, now)));
	/* what products receive: a user-defined object overrides the VA action */
	if (sqlite3_column_type(s, 10) != SQLITE_NULL && !sqlite3_column_int(s, 10)) {
		json_object_set_new(o, "distributed_action", json_string(tmcm_col_text(s, 11)));
		json_object_set_new(o, "udso_override",
				    json_boolean(strcmp(tmcm_col_text(s, 12), "UDSO") == 0));
	} else {
		json_object_set_new(o, "distributed_action", json_null());
		json_object_set_new(o, "udso_override", json_false());
	}
	return o;
}

json_t *tmcm_va_list(store *st, const tmcm_va_filter *f, ctd_err *err)
{
	int64_t now = time_now_ms();
	tmcm_exc_set exc;
	if (tmcm_exc_load(st, &exc, err) < 0)
		return NULL;
	json_t *items = json_array();
	long long total = 0;
	sqlite3_stmt *c = store_stmt(st, "SELECT COUNT(*) FROM tmcm_va_objects v" VA_WHERE, err);
	sqlite3_stmt *s = c ? store_stmt(st,
		"SELECT v.id, v.type, v.value, v.source, v.risk, v.first_seen_ms, v.last_seen_ms,"
		" v.expires_ms, v.related_sha1, v.action, f.removed, f.action, f.source,"
		" v.modified_ms, (SELECT group_concat(source, ',') FROM (SELECT x.source"
		" FROM tmcm_va_sources x WHERE x.type = v.type AND x.value = v.value"
		" ORDER BY x.first_seen_ms, x.added_ms, x.source))"
		" FROM tmcm_va_objects v LEFT JOIN tmcm_feed f ON f.type = v.type AND f.value = v.value"
		VA_WHERE " ORDER BY v.last_seen_ms DESC, v.id DESC LIMIT ?8 OFFSET ?9", err) : NULL;
	int rc = SQLITE_ERROR;
	if (s) {
		va_bind_filter(c, f, now);
		if (sqlite3_step(c) == SQLITE_ROW)
			total = sqlite3_column_int64(c, 0);
		sqlite3_reset(c);
		va_bind_filter(s, f, now);
		sqlite3_bind_int64(s, 8, f->limit > 0 ? f->limit : 1000);
		sqlite3_bind_int64(s, 9, f->offset > 0 ? f->offset : 0);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			json_array_append_new(items, va_item(s, &exc, now));
		sqlite3_reset(s);
	}
	tmcm_exc_free(&exc);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		if (s)
			tmcm_db_fail(st, err, "list va objects");
		return NULL;
	}
	json_t *out = json_object();
	json_object_set_new(out, "total", json_integer(total));
	json_object_set_new(out, "items", items);
	return out;
}

json_t *tmcm_va_ids_for_values(store *st, const json_t *values, ctd_err *err)
{
	if (!json_is_array(values) || json_array_size(values) == 0) {
		ctd_fail(err, CTD_EINVAL, "values: a non-empty array of object values is required");
		return NULL;
	}
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id FROM tmcm_va_objects WHERE value = ?1 OR value = upper(?1)"
		" OR value = lower(?1)", err);
	if (!s)
		return NULL;
	json_t *ids = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(values, i, v) {
		int found = 0, rc;
		tmcm_bind_text(s, 1, json_is_string(v) ? json_string_value(v) : "");
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			json_array_append_new(ids, json_integer(sqlite3_column_int64(s, 0)));
			found = 1;
		}
		sqlite3_reset(s);
		if (!found) {
			json_decref(ids);
			ctd_fail(err, CTD_ENOTFOUND, "values[%zu]: no Virtual Analyzer object %s", i,
				 json_is_string(v) ? json_string_value(v) : "(not a string)");
			return NULL;
		}
	}
	return ids;
}

/* Look up a VA object's key by id. 0, or -1 with CTD_ENOTFOUND. */
static int va_key(store *st, int64_t id, char type[8], char **value, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT type, value FROM tmcm_va_objects WHERE id = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		tmcm_copy_str(type, 8, tmcm_col_text(s, 0));
		*value = xstrdup(tmcm_col_text(s, 1));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return ctd_fail(err, CTD_ENOTFOUND, "no Virtual Analyzer object with id %lld",
				(long long)id);
	return rc == SQLITE_ROW ? 0 : tmcm_db_fail(st, err, "va key");
}

/* Apply `update` (binding ?1 = id, ?2 = arg, ?3 = arg_int) to each id and
 * recompute, all in one transaction. check(type) may veto the whole selection. */
static long va_update_ids(store *st, const json_t *ids, const char *sql, const char *arg,
			  int64_t arg_int, int (*check)(const char *type, ctd_err *err),
			  ctd_err *err)
{
	if (!json_is_array(ids) || json_array_size(ids) == 0)
		return ctd_fail(err, CTD_EINVAL, "ids: a non-empty array of object ids is required");
	tmcm_exc_set exc;
	if (store_begin(st, err) < 0)
		return -1;
	if (tmcm_exc_load(st, &exc, err) < 0) {
		store_rollback(st);
		return -1;
	}
	long n = 0;
	int rc = 0;
	size_t i;
	json_t *idj;
	json_array_foreach(ids, i, idj) {
		char type[8], *value = NULL;
		if (!json_is_integer(idj)) {
			rc = ctd_fail(err, CTD_EINVAL, "ids[%zu]: not an integer", i);
			break;
		}
		int64_t id = json_integer_value(idj);
		rc = va_key(st, id, type, &value, err);
		if (rc == 0 && check)
			rc = check(type, err);
		sqlite3_stmt *s = rc == 0 ? store_stmt(st, sql, err) : NULL;
		if (s) {
			sqlite3_bind_int64(s, 1, id);
			tmcm_bind_text(s, 2, arg);
			sqlite3_bind_int64(s, 3, arg_int);
			rc = store_step_done(st, s, err);
			if (rc == 0)
				rc = tmcm_recompute(st, &exc, type, value, err);
		} else if (rc == 0) {
			rc = -1;
		}
		free(value);
		if (rc < 0)
			break;
		n++;
	}
	tmcm_exc_free(&exc);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err) < 0 ? -1 : n;
}

static int only_files(const char *type, ctd_err *err)
{
	if (strcmp(type, "FILE") != 0)
		return ctd_fail(err, CTD_EINVAL, "Quarantine is only available for File objects "
				"(this selection holds a %s object)", type);
	return 0;
}

long tmcm_va_set_action(store *st, const json_t *ids, const char *action, int64_t expires,
			ctd_err *err)
{
	if (!action || (strcmp(action, "log") && strcmp(action, "block") &&
			strcmp(action, "quarantine")))
		return ctd_fail(err, CTD_EINVAL, "action must be log, block or quarantine");
	/* expires < 0 keeps the expiry; 0 is ADMIN_NEVER_EXPIRE, a date ADMIN_EXPIRY_DATE */
	return va_update_ids(st, ids,
			     "UPDATE tmcm_va_objects SET action = ?2,"
			     " expires_ms = CASE WHEN ?3 < 0 THEN expires_ms ELSE ?3 END,"
			     " admin_expiry = CASE WHEN ?3 < 0 THEN admin_expiry"
			     " WHEN ?3 = 0 THEN 2 ELSE 3 END WHERE id = ?1",
			     action, expires, strcmp(action, "quarantine") == 0 ? only_files : NULL, err);
}

long tmcm_va_expire(store *st, const json_t *ids, int never_expire, ctd_err *err)
{
	if (never_expire)
		return va_update_ids(st, ids,
			"UPDATE tmcm_va_objects SET expires_ms = 0, admin_expiry = ?3 WHERE id = ?1",
			NULL, ADMIN_NEVER_EXPIRE, NULL, err);
	return va_update_ids(st, ids,
		"UPDATE tmcm_va_objects SET expires_ms = ?3, admin_expiry = 1 WHERE id = ?1", NULL,
		time_now_ms(), NULL, err);
}
