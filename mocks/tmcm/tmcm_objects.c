/* tmcm_objects.c - TMCM's three suspicious-object lists and the merged list it
 * distributes.
 *
 * Virtual Analyzer objects (from DDAN/DDI), user-defined objects (Automation
 * API) and exceptions live in their own tables. tmcm_feed holds, per key
 * (type, value), the effective state products receive: a live user-defined
 * object wins over a VA object; an excepted or expired VA object is removed.
 * Every change of that state takes the next change ID, so "change_id > N" is
 * exactly the incremental update since cursor N (removed keys included). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"

static int db_fail(store *st, ctd_err *err, const char *what)
{
	return ctd_fail(err, CTD_ESTORE, "%s: %s", what, sqlite3_errmsg(store_db(st)));
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? t : "";
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* ---- keys and exceptions ------------------------------------------------ */

int tmcm_feed_type_valid(const char *type)
{
	static const char *const types[] = {"FILE", "URL", "DOMAIN", "IP"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (type && strcmp(type, types[i]) == 0)
			return 1;
	return 0;
}

void tmcm_normalise_value(const char *type, char *value)
{
	if (strcmp(type, "FILE") == 0)
		str_upper(value);
	else if (strcmp(type, "DOMAIN") == 0)
		str_lower(value);
}

int tmcm_exc_load(store *st, tmcm_exc_set *set, ctd_err *err)
{
	memset(set, 0, sizeof(*set));
	sqlite3_stmt *s = store_stmt(st, "SELECT type, value FROM tmcm_exceptions", err);
	if (!s)
		return -1;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (set->n == cap) {
			cap = cap ? cap * 2 : 8;
			set->type = xrealloc(set->type, cap * sizeof(char *));
			set->value = xrealloc(set->value, cap * sizeof(char *));
		}
		set->type[set->n] = xstrdup(col_text(s, 0));
		set->value[set->n] = xstrdup(col_text(s, 1));
		set->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		tmcm_exc_free(set);
		return db_fail(st, err, "load exceptions");
	}
	return 0;
}

void tmcm_exc_free(tmcm_exc_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->type[i]);
		free(set->value[i]);
	}
	free(set->type);
	free(set->value);
	memset(set, 0, sizeof(*set));
}

int tmcm_exc_matches(const tmcm_exc_set *set, const char *type, const char *value)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->type[i], type) == 0 && wildcard_match(set->value[i], value))
			return 1;
	return 0;
}

/* ---- effective state and change IDs -------------------------------------- */

typedef struct so_state {
	int present;
	char action[12], risk[8], source[64], related[41];
	int64_t first_seen, last_seen, expires;
} so_state;

int64_t tmcm_last_change_id(store *st)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT COALESCE(MAX(change_id), 0) FROM tmcm_feed", NULL);
	if (!s)
		return -1;
	int64_t id = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return id;
}

/* The live user-defined object for a key, most recently modified first. */
static int udso_state(store *st, const char *type, const char *value, int64_t now,
		      so_state *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT scan_action, expires_ms, created_ms, modified_ms FROM tmcm_udso"
		" WHERE feed_type = ?1 AND feed_value = ?2 AND (expires_ms = 0 OR expires_ms > ?3)"
		" ORDER BY modified_ms DESC, id DESC LIMIT 1", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, now);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->present = 1;
		copy_str(out->action, sizeof(out->action), col_text(s, 0));
		copy_str(out->risk, sizeof(out->risk), "High");
		copy_str(out->source, sizeof(out->source), "UDSO");
		out->expires = sqlite3_column_int64(s, 1);
		out->first_seen = sqlite3_column_int64(s, 2);
		out->last_seen = sqlite3_column_int64(s, 3);
		copy_str(out->related, sizeof(out->related), strcmp(type, "FILE") == 0 ? value : "");
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(st, err, "udso state");
}

static int va_state(store *st, const tmcm_exc_set *exc, const char *type, const char *value,
		    int64_t now, so_state *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT action, risk, source, first_seen_ms, last_seen_ms, expires_ms, related_sha1"
		" FROM tmcm_va_objects WHERE type = ?1 AND value = ?2"
		" AND (expires_ms = 0 OR expires_ms > ?3)", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, now);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && !tmcm_exc_matches(exc, type, value)) {
		out->present = 1;
		copy_str(out->action, sizeof(out->action), col_text(s, 0));
		copy_str(out->risk, sizeof(out->risk), col_text(s, 1));
		copy_str(out->source, sizeof(out->source), col_text(s, 2));
		out->first_seen = sqlite3_column_int64(s, 3);
		out->last_seen = sqlite3_column_int64(s, 4);
		out->expires = sqlite3_column_int64(s, 5);
		copy_str(out->related, sizeof(out->related), col_text(s, 6));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(st, err, "va state");
}

/* What the feed row says now; present = row exists and is not removed. */
static int feed_state(store *st, const char *type, const char *value, int *exists,
		      so_state *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT action, risk, source, expires_ms, related_sha1, removed, first_seen_ms,"
		" last_seen_ms FROM tmcm_feed WHERE type = ?1 AND value = ?2", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	int rc = sqlite3_step(s);
	*exists = rc == SQLITE_ROW;
	if (*exists) {
		copy_str(out->action, sizeof(out->action), col_text(s, 0));
		copy_str(out->risk, sizeof(out->risk), col_text(s, 1));
		copy_str(out->source, sizeof(out->source), col_text(s, 2));
		out->expires = sqlite3_column_int64(s, 3);
		copy_str(out->related, sizeof(out->related), col_text(s, 4));
		out->present = !sqlite3_column_int(s, 5);
		out->first_seen = sqlite3_column_int64(s, 6);
		out->last_seen = sqlite3_column_int64(s, 7);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(st, err, "feed state");
}

static int state_differs(const so_state *a, const so_state *b)
{
	return a->present != b->present || strcmp(a->action, b->action) || strcmp(a->risk, b->risk) ||
	       strcmp(a->source, b->source) || strcmp(a->related, b->related) ||
	       a->expires != b->expires;
}

static int feed_write(store *st, const char *type, const char *value, const so_state *n,
		      int64_t change_id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_feed (type, value, change_id, action, risk, source, first_seen_ms,"
		" last_seen_ms, expires_ms, related_sha1, removed)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (type, value) DO UPDATE SET change_id = excluded.change_id,"
		" action = excluded.action, risk = excluded.risk, source = excluded.source,"
		" first_seen_ms = excluded.first_seen_ms, last_seen_ms = excluded.last_seen_ms,"
		" expires_ms = excluded.expires_ms, related_sha1 = excluded.related_sha1,"
		" removed = excluded.removed", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, change_id);
	bind_text(s, 4, n->action);
	bind_text(s, 5, n->risk);
	bind_text(s, 6, n->source);
	sqlite3_bind_int64(s, 7, n->first_seen);
	sqlite3_bind_int64(s, 8, n->last_seen);
	sqlite3_bind_int64(s, 9, n->expires);
	bind_text(s, 10, n->related);
	sqlite3_bind_int(s, 11, !n->present);
	return store_step_done(st, s, err);
}

/* Seen times change on every re-detection; they ride along without a new ID. */
static int feed_touch(store *st, const char *type, const char *value, const so_state *n,
		      ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE tmcm_feed SET first_seen_ms = ?3, last_seen_ms = ?4"
		" WHERE type = ?1 AND value = ?2", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, n->first_seen);
	sqlite3_bind_int64(s, 4, n->last_seen);
	return store_step_done(st, s, err);
}

int tmcm_recompute(store *st, const tmcm_exc_set *exc, const char *type, const char *value,
		   ctd_err *err)
{
	int64_t now = time_now_ms();
	so_state want = {0}, have = {0};
	int exists;
	if (udso_state(st, type, value, now, &want, err) < 0)
		return -1;
	if (!want.present && va_state(st, exc, type, value, now, &want, err) < 0)
		return -1;
	if (feed_state(st, type, value, &exists, &have, err) < 0)
		return -1;
	if (!exists && !want.present)
		return 0;
	if (exists && !state_differs(&want, &have)) {
		if (want.present && (want.first_seen != have.first_seen ||
				     want.last_seen != have.last_seen))
			return feed_touch(st, type, value, &want, err);
		return 0;
	}
	if (!want.present) {
		/* keep what the product had, flagged removed */
		want = have;
		want.present = 0;
	}
	int64_t id = tmcm_last_change_id(st);
	if (id < 0)
		return db_fail(st, err, "next change id");
	return feed_write(st, type, value, &want, id + 1, err);
}

/* Keys whose distributed entry expired, a bounded batch at a time. */
static long due_keys(store *st, int64_t now, char ***types, char ***values, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT type, value FROM tmcm_feed WHERE removed = 0 AND expires_ms > 0"
		" AND expires_ms <= ?1 LIMIT 1000", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	long n = 0;
	*types = xcalloc(1000, sizeof(char *));
	*values = xcalloc(1000, sizeof(char *));
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*types)[n] = xstrdup(col_text(s, 0));
		(*values)[n] = xstrdup(col_text(s, 1));
		n++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : db_fail(st, err, "due keys");
}

static void free_keys(char **types, char **values, long n)
{
	for (long i = 0; i < n; i++) {
		free(types[i]);
		free(values[i]);
	}
	free(types);
	free(values);
}

/* Recompute a list of keys in one transaction. */
static int recompute_keys(store *st, char **types, char **values, long n, ctd_err *err)
{
	tmcm_exc_set exc;
	if (store_begin(st, err) < 0)
		return -1;
	if (tmcm_exc_load(st, &exc, err) < 0) {
		store_rollback(st);
		return -1;
	}
	int rc = 0;
	for (long i = 0; i < n && rc == 0; i++)
		rc = tmcm_recompute(st, &exc, types[i], values[i], err);
	tmcm_exc_free(&exc);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}

int tmcm_expire_due(store *st, ctd_err *err)
{
	for (int round = 0; round < 1000; round++) {
		char **types = NULL, **values = NULL;
		long n = due_keys(st, time_now_ms(), &types, &values, err);
		int rc = n > 0 ? recompute_keys(st, types, values, n, err) : 0;
		free_keys(types, values, n > 0 ? n : 0);
		if (n <= 0 || rc < 0)
			return n < 0 || rc < 0 ? -1 : 0;
		log_info("so.expired", "count=%ld", n);
	}
	return 0;
}

/* ---- Virtual Analyzer objects --------------------------------------------- */

enum { ADMIN_EXPIRY_NONE = 0, ADMIN_EXPIRED = 1, ADMIN_NEVER_EXPIRE = 2 };

/* The expiry to keep for a re-reported object: the admin's "never expire"
 * sticks; "expire now" sticks until the source sees the object again. */
static int va_expiry(store *st, const char *type, const char *value, const so_record *r,
		     int64_t *expires, int *admin, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT admin_expiry, expires_ms, last_seen_ms FROM tmcm_va_objects"
		" WHERE type = ?1 AND value = ?2", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	*expires = r->expires_ms;
	*admin = ADMIN_EXPIRY_NONE;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int a = sqlite3_column_int(s, 0);
		int64_t old_exp = sqlite3_column_int64(s, 1), old_seen = sqlite3_column_int64(s, 2);
		if (a == ADMIN_NEVER_EXPIRE) {
			*expires = 0;
			*admin = a;
		} else if (a == ADMIN_EXPIRED && r->last_seen_ms <= old_seen) {
			*expires = old_exp;
			*admin = a;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(st, err, "va expiry");
}

static int va_upsert(store *st, const char *source, const char *default_action,
		     const char *type, const char *value, const so_record *r, ctd_err *err)
{
	int64_t expires;
	int admin;
	if (va_expiry(st, type, value, r, &expires, &admin, err) < 0)
		return -1;
	int64_t now = time_now_ms();
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_va_objects (type, value, source, risk, first_seen_ms, last_seen_ms,"
		" expires_ms, related_sha1, action, admin_expiry, modified_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (type, value) DO UPDATE SET source = excluded.source,"
		" risk = excluded.risk, first_seen_ms = MIN(first_seen_ms, excluded.first_seen_ms),"
		" last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms),"
		" expires_ms = excluded.expires_ms, related_sha1 = excluded.related_sha1,"
		" admin_expiry = excluded.admin_expiry, modified_ms = excluded.modified_ms", err);
	if (!s)
		return -1;
	bind_text(s, 1, type);
	bind_text(s, 2, value);
	bind_text(s, 3, source);
	bind_text(s, 4, r->risk[0] ? r->risk : "High");
	sqlite3_bind_int64(s, 5, r->first_seen_ms ? r->first_seen_ms : now);
	sqlite3_bind_int64(s, 6, r->last_seen_ms ? r->last_seen_ms : now);
	sqlite3_bind_int64(s, 7, expires);
	bind_text(s, 8, r->related_sha1);
	bind_text(s, 9, default_action);
	sqlite3_bind_int(s, 10, admin);
	sqlite3_bind_int64(s, 11, now);
	return store_step_done(st, s, err);
}

int tmcm_va_apply(store *st, const tmcm_exc_set *exc, const char *source,
		  const char *default_action, const so_record *r, ctd_err *err)
{
	char type[8];
	copy_str(type, sizeof(type), r->type);
	str_upper(type);
	if (!tmcm_feed_type_valid(type) || !r->value || !r->value[0])
		return ctd_fail(err, CTD_EINVAL, "feed record %lld: bad type or value",
				(long long)r->id);
	char *value = xstrdup(r->value);
	tmcm_normalise_value(type, value);
	int rc;
	if (r->removed) {
		/* another source may still vouch for it: only its reporter drops it */
		sqlite3_stmt *s = store_stmt(st,
			"DELETE FROM tmcm_va_objects WHERE type = ?1 AND value = ?2 AND source = ?3",
			err);
		rc = s ? 0 : -1;
		if (s) {
			bind_text(s, 1, type);
			bind_text(s, 2, value);
			bind_text(s, 3, source);
			rc = store_step_done(st, s, err);
		}
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

static void ms_field(json_t *o, const char *key, int64_t ms)
{
	char buf[32];
	if (!ms) {
		json_object_set_new(o, key, json_null());
		return;
	}
	time_iso8601(ms, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

#define VA_WHERE \
	" WHERE (?1 IS NULL OR v.type = ?1) AND (?2 IS NULL OR v.source = ?2)" \
	" AND (?3 IS NULL OR v.action = ?3) AND (?4 IS NULL OR v.risk = ?4)" \
	" AND (?5 IS NULL OR instr(lower(v.value), lower(?5)) > 0)" \
	" AND (?6 OR v.expires_ms = 0 OR v.expires_ms > ?7)"

static void va_bind_filter(sqlite3_stmt *s, const tmcm_va_filter *f, int64_t now)
{
	bind_text(s, 1, f->type);
	bind_text(s, 2, f->source);
	bind_text(s, 3, f->action);
	bind_text(s, 4, f->risk);
	bind_text(s, 5, f->q);
	sqlite3_bind_int(s, 6, f->include_inactive);
	sqlite3_bind_int64(s, 7, now);
}

static json_t *va_item(sqlite3_stmt *s, const tmcm_exc_set *exc, int64_t now)
{
	const char *type = col_text(s, 1), *value = col_text(s, 2);
	int64_t expires = sqlite3_column_int64(s, 7);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "value", json_string(value));
	json_object_set_new(o, "source", json_string(col_text(s, 3)));
	json_object_set_new(o, "risk", json_string(col_text(s, 4)));
	ms_field(o, "first_seen", sqlite3_column_int64(s, 5));
	ms_field(o, "last_seen", sqlite3_column_int64(s, 6));
	ms_field(o, "expires", expires);
	json_object_set_new(o, "related_sha1", json_string(col_text(s, 8)));
	json_object_set_new(o, "action", json_string(col_text(s, 9)));
	json_object_set_new(o, "status", json_string(va_status(exc, type, value, expires, now)));
	/* what products receive: a user-defined object overrides the VA action */
	if (sqlite3_column_type(s, 10) != SQLITE_NULL && !sqlite3_column_int(s, 10)) {
		json_object_set_new(o, "distributed_action", json_string(col_text(s, 11)));
		json_object_set_new(o, "udso_override",
				    json_boolean(strcmp(col_text(s, 12), "UDSO") == 0));
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
		" v.expires_ms, v.related_sha1, v.action, f.removed, f.action, f.source"
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
			db_fail(st, err, "list va objects");
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
		bind_text(s, 1, json_is_string(v) ? json_string_value(v) : "");
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
		copy_str(type, 8, col_text(s, 0));
		*value = xstrdup(col_text(s, 1));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return ctd_fail(err, CTD_ENOTFOUND, "no Virtual Analyzer object with id %lld",
				(long long)id);
	return rc == SQLITE_ROW ? 0 : db_fail(st, err, "va key");
}

/* Apply `update` (binding ?1 = id, ?2 = arg) to each id and recompute, all in
 * one transaction. check(type) may veto the whole selection. */
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
			if (arg)
				bind_text(s, 2, arg);
			else
				sqlite3_bind_int64(s, 2, arg_int);
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

long tmcm_va_set_action(store *st, const json_t *ids, const char *action, ctd_err *err)
{
	if (!action || (strcmp(action, "log") && strcmp(action, "block") &&
			strcmp(action, "quarantine")))
		return ctd_fail(err, CTD_EINVAL, "action must be log, block or quarantine");
	return va_update_ids(st, ids,
			     "UPDATE tmcm_va_objects SET action = ?2 WHERE id = ?1", action, 0,
			     strcmp(action, "quarantine") == 0 ? only_files : NULL, err);
}

long tmcm_va_expire(store *st, const json_t *ids, int never_expire, ctd_err *err)
{
	if (never_expire)
		return va_update_ids(st, ids,
			"UPDATE tmcm_va_objects SET expires_ms = 0, admin_expiry = ?2 WHERE id = ?1",
			NULL, ADMIN_NEVER_EXPIRE, NULL, err);
	return va_update_ids(st, ids,
		"UPDATE tmcm_va_objects SET expires_ms = ?2, admin_expiry = 1 WHERE id = ?1", NULL,
		time_now_ms(), NULL, err);
}

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
		json_object_set_new(o, "type", json_string(col_text(s, 1)));
		json_object_set_new(o, "value", json_string(col_text(s, 2)));
		json_object_set_new(o, "notes", json_string(col_text(s, 3)));
		ms_field(o, "created", sqlite3_column_int64(s, 4));
		json_array_append_new(arr, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		db_fail(st, err, "list exceptions");
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
		bind_text(s, 1, type);
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			const char *v = col_text(s, 0);
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
	rc = step == SQLITE_DONE ? 0 : (s ? db_fail(st, err, "pattern keys") : -1);
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
	copy_str(type, sizeof(type), type_in);
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
			bind_text(s, 1, type);
			bind_text(s, 2, value);
			bind_text(s, 3, notes ? notes : "");
			sqlite3_bind_int64(s, 4, time_now_ms());
			if (sqlite3_step(s) == SQLITE_ROW)
				id = sqlite3_column_int64(s, 0);
			else
				db_fail(st, err, "add exception");
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
			copy_str(type, sizeof(type), col_text(s, 0));
			value = xstrdup(col_text(s, 1));
			rc = 0;
		} else if (step == SQLITE_DONE) {
			ctd_fail(err, CTD_ENOTFOUND, "no exception with id %lld", (long long)id);
		} else {
			db_fail(st, err, "delete exception");
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

/* ---- user-defined objects ----------------------------------------------------- */

static const char *udso_feed_type(const char *type)
{
	if (strcmp(type, "ip") == 0)
		return "IP";
	if (strcmp(type, "url") == 0)
		return "URL";
	if (strcmp(type, "domain") == 0)
		return "DOMAIN";
	if (strcmp(type, "file_sha1") == 0 || strcmp(type, "file") == 0)
		return "FILE";
	return NULL;
}

static int is_hex40(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return n == 40;
}

static int valid_domain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-._*", s[i]))
			return 0;
	return 1;
}

static int valid_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int tmcm_udso_check(const char *type, const char *content, const char *scan_action,
		    char **canon, ctd_err *err)
{
	if (!type || !udso_feed_type(type))
		return ctd_fail(err, CTD_EINVAL, "type must be ip, url, file_sha1 or domain");
	if (!content || !content[0])
		return ctd_fail(err, CTD_EINVAL, "content is required");
	if (scan_action && strcmp(scan_action, "log") && strcmp(scan_action, "block") &&
	    strcmp(scan_action, "quarantine"))
		return ctd_fail(err, CTD_EINVAL, "scan_action must be log or block");
	int file = strcmp(udso_feed_type(type), "FILE") == 0;
	if (scan_action && strcmp(scan_action, "quarantine") == 0 && !file)
		return ctd_fail(err, CTD_EINVAL, "quarantine is only available for file objects");
	int ok = 1;
	if (strcmp(type, "ip") == 0)
		ok = valid_ip(content);
	else if (strcmp(type, "url") == 0)
		ok = (strncasecmp(content, "http://", 7) == 0 ||
		      strncasecmp(content, "https://", 8) == 0) && strlen(content) <= 2047;
	else if (strcmp(type, "domain") == 0)
		ok = valid_domain(content);
	else
		ok = is_hex40(content);
	if (!ok)
		return ctd_fail(err, CTD_EINVAL, "content is not a valid %s", type);
	*canon = xstrdup(content);
	tmcm_normalise_value(udso_feed_type(type), *canon);
	return 0;
}

static long udso_count(store *st)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT COUNT(*) FROM tmcm_udso", NULL);
	if (!s)
		return -1;
	long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return n;
}

static int udso_exists(store *st, const char *type, const char *content)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT 1 FROM tmcm_udso WHERE type = ?1 AND content = ?2", NULL);
	if (!s)
		return 0;
	bind_text(s, 1, type);
	bind_text(s, 2, content);
	int found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

static int udso_write(store *st, const tmcm_udso *u, const char *feed_type, ctd_err *err)
{
	int64_t now = time_now_ms();
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_udso (type, content, notes, scan_action, expires_ms, file_name,"
		" feed_type, feed_value, created_ms, modified_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?2, ?8, ?8)"
		" ON CONFLICT (type, content) DO UPDATE SET notes = excluded.notes,"
		" scan_action = excluded.scan_action, expires_ms = excluded.expires_ms,"
		" file_name = CASE WHEN excluded.file_name = '' THEN file_name"
		" ELSE excluded.file_name END, modified_ms = excluded.modified_ms", err);
	if (!s)
		return -1;
	bind_text(s, 1, u->type);
	bind_text(s, 2, u->content);
	bind_text(s, 3, u->notes ? u->notes : "");
	bind_text(s, 4, u->scan_action);
	sqlite3_bind_int64(s, 5, u->expires_ms);
	bind_text(s, 6, u->file_name ? u->file_name : "");
	bind_text(s, 7, feed_type);
	sqlite3_bind_int64(s, 8, now);
	return store_step_done(st, s, err);
}

int tmcm_udso_put(store *st, const tmcm_udso *u, long long max, ctd_err *err)
{
	const char *feed_type = udso_feed_type(u->type);
	if (!feed_type)
		return ctd_fail(err, CTD_EINVAL, "unknown type %s", u->type);
	if (store_begin(st, err) < 0)
		return -1;
	int rc = 0;
	if (max > 0 && !udso_exists(st, u->type, u->content) && udso_count(st) >= max)
		rc = ctd_fail(err, CTD_ETOOBIG, "the user-defined list already holds %lld objects",
			      max);
	if (rc == 0)
		rc = udso_write(st, u, feed_type, err);
	tmcm_exc_set exc = {0};
	if (rc == 0)
		rc = tmcm_exc_load(st, &exc, err);
	if (rc == 0)
		rc = tmcm_recompute(st, &exc, feed_type, u->content, err);
	tmcm_exc_free(&exc);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}

int tmcm_udso_delete(store *st, const char *type, const char *content, ctd_err *err)
{
	const char *feed_type = udso_feed_type(type ? type : "");
	if (!feed_type || !content || !content[0])
		return ctd_fail(err, CTD_EINVAL, "type and content are required");
	if (store_begin(st, err) < 0)
		return -1;
	char *canon = xstrdup(content);
	tmcm_normalise_value(feed_type, canon);
	int rc = -1;
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM tmcm_udso WHERE type = ?1 AND content = ?2",
				     err);
	if (s) {
		bind_text(s, 1, type);
		bind_text(s, 2, canon);
		rc = store_step_done(st, s, err);
		if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
			rc = ctd_fail(err, CTD_ENOTFOUND, "no %s object %s", type, content);
	}
	tmcm_exc_set exc = {0};
	if (rc == 0)
		rc = tmcm_exc_load(st, &exc, err);
	if (rc == 0)
		rc = tmcm_recompute(st, &exc, feed_type, canon, err);
	tmcm_exc_free(&exc);
	free(canon);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}

json_t *tmcm_udso_list(store *st, const char *type, const char *filter, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT type, content, notes, scan_action, expires_ms FROM tmcm_udso"
		" WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR instr(lower(content), lower(?2)) > 0)"
		" AND (expires_ms = 0 OR expires_ms > ?3) ORDER BY id", err);
	if (!s)
		return NULL;
	bind_text(s, 1, type && type[0] ? type : NULL);
	bind_text(s, 2, filter && filter[0] ? filter : NULL);
	sqlite3_bind_int64(s, 3, time_now_ms());
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		int64_t exp = sqlite3_column_int64(s, 4);
		char buf[32];
		json_object_set_new(o, "type", json_string(col_text(s, 0)));
		json_object_set_new(o, "content", json_string(col_text(s, 1)));
		json_object_set_new(o, "notes", json_string(col_text(s, 2)));
		json_object_set_new(o, "scan_action", json_string(col_text(s, 3)));
		if (exp) {
			tmcm_format_utc(exp, buf, sizeof(buf));
			json_object_set_new(o, "expiration_utc_date", json_string(buf));
		} else {
			json_object_set_new(o, "expiration_utc_date", json_null());
		}
		json_array_append_new(arr, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		db_fail(st, err, "list udso");
		return NULL;
	}
	return arr;
}

/* ---- the feed ------------------------------------------------------------------ */

int tmcm_feed_page(store *st, int64_t cursor, long page_size, sbuf *xml, long *count,
		   int64_t *last_id, ctd_err *err)
{
	/* a full pull (cursor 0) has nothing to drop, so it skips removed keys */
	sqlite3_stmt *s = store_stmt(st,
		"SELECT change_id, type, value, action, risk, source, first_seen_ms, last_seen_ms,"
		" expires_ms, related_sha1, removed FROM tmcm_feed"
		" WHERE change_id > ?1 AND (?1 > 0 OR removed = 0) ORDER BY change_id LIMIT ?2", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, cursor);
	sqlite3_bind_int64(s, 2, page_size + 1);
	sofeed_xml_begin(xml);
	*count = 0;
	*last_id = cursor;
	int more = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*count == page_size) {
			more = 1;
			break;
		}
		so_record r = {0};
		r.id = sqlite3_column_int64(s, 0);
		copy_str(r.type, sizeof(r.type), col_text(s, 1));
		r.value = (char *)col_text(s, 2);
		copy_str(r.action, sizeof(r.action), col_text(s, 3));
		copy_str(r.risk, sizeof(r.risk), col_text(s, 4));
		r.source = (char *)col_text(s, 5);
		r.first_seen_ms = sqlite3_column_int64(s, 6);
		r.last_seen_ms = sqlite3_column_int64(s, 7);
		r.expires_ms = sqlite3_column_int64(s, 8);
		copy_str(r.related_sha1, sizeof(r.related_sha1), col_text(s, 9));
		r.removed = sqlite3_column_int(s, 10);
		sofeed_xml_add(xml, &r);
		*last_id = r.id;
		(*count)++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, err, "feed page");
	sofeed_xml_end(xml, *last_id, more);
	return 0;
}

long tmcm_feed_active_count(store *st)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT COUNT(*) FROM tmcm_feed WHERE removed = 0", NULL);
	if (!s)
		return -1;
	long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return n;
}
