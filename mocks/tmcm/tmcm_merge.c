/* tmcm_merge.c - the merged list TMCM distributes (tmcm_feed): per key
 * (type, value) the effective state products receive. A live user-defined
 * object wins over a VA object; an excepted or expired VA object is removed.
 * Every change of that state takes the next change ID, so "change_id > N" is
 * exactly the incremental update since cursor N (removed keys included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"

/* ---- keys and the exception set ------------------------------------------ */

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
		set->type[set->n] = xstrdup(tmcm_col_text(s, 0));
		set->value[set->n] = xstrdup(tmcm_col_text(s, 1));
		set->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		tmcm_exc_free(set);
		return tmcm_db_fail(st, err, "load exceptions");
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
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, now);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->present = 1;
		tmcm_copy_str(out->action, sizeof(out->action), tmcm_col_text(s, 0));
		tmcm_copy_str(out->risk, sizeof(out->risk), "High");
		tmcm_copy_str(out->source, sizeof(out->source), "UDSO");
		out->expires = sqlite3_column_int64(s, 1);
		out->first_seen = sqlite3_column_int64(s, 2);
		out->last_seen = sqlite3_column_int64(s, 3);
		tmcm_copy_str(out->related, sizeof(out->related), strcmp(type, "FILE") == 0 ? value : "");
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tmcm_db_fail(st, err, "udso state");
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
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, now);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && !tmcm_exc_matches(exc, type, value)) {
		out->present = 1;
		tmcm_copy_str(out->action, sizeof(out->action), tmcm_col_text(s, 0));
		tmcm_copy_str(out->risk, sizeof(out->risk), tmcm_col_text(s, 1));
		tmcm_copy_str(out->source, sizeof(out->source), tmcm_col_text(s, 2));
		out->first_seen = sqlite3_column_int64(s, 3);
		out->last_seen = sqlite3_column_int64(s, 4);
		out->expires = sqlite3_column_int64(s, 5);
		tmcm_copy_str(out->related, sizeof(out->related), tmcm_col_text(s, 6));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tmcm_db_fail(st, err, "va state");
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
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	int rc = sqlite3_step(s);
	*exists = rc == SQLITE_ROW;
	if (*exists) {
		tmcm_copy_str(out->action, sizeof(out->action), tmcm_col_text(s, 0));
		tmcm_copy_str(out->risk, sizeof(out->risk), tmcm_col_text(s, 1));
		tmcm_copy_str(out->source, sizeof(out->source), tmcm_col_text(s, 2));
		out->expires = sqlite3_column_int64(s, 3);
		tmcm_copy_str(out->related, sizeof(out->related), tmcm_col_text(s, 4));
		out->present = !sqlite3_column_int(s, 5);
		out->first_seen = sqlite3_column_int64(s, 6);
		out->last_seen = sqlite3_column_int64(s, 7);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tmcm_db_fail(st, err, "feed state");
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
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
	sqlite3_bind_int64(s, 3, change_id);
	tmcm_bind_text(s, 4, n->action);
	tmcm_bind_text(s, 5, n->risk);
	tmcm_bind_text(s, 6, n->source);
	sqlite3_bind_int64(s, 7, n->first_seen);
	sqlite3_bind_int64(s, 8, n->last_seen);
	sqlite3_bind_int64(s, 9, n->expires);
	tmcm_bind_text(s, 10, n->related);
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
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, value);
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
		return tmcm_db_fail(st, err, "next change id");
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
		(*types)[n] = xstrdup(tmcm_col_text(s, 0));
		(*values)[n] = xstrdup(tmcm_col_text(s, 1));
		n++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : tmcm_db_fail(st, err, "due keys");
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
		tmcm_copy_str(r.type, sizeof(r.type), tmcm_col_text(s, 1));
		r.value = (char *)tmcm_col_text(s, 2);
		tmcm_copy_str(r.action, sizeof(r.action), tmcm_col_text(s, 3));
		tmcm_copy_str(r.risk, sizeof(r.risk), tmcm_col_text(s, 4));
		r.source = (char *)tmcm_col_text(s, 5);
		r.first_seen_ms = sqlite3_column_int64(s, 6);
		r.last_seen_ms = sqlite3_column_int64(s, 7);
		r.expires_ms = sqlite3_column_int64(s, 8);
		tmcm_copy_str(r.related_sha1, sizeof(r.related_sha1), tmcm_col_text(s, 9));
		r.removed = sqlite3_column_int(s, 10);
		sofeed_xml_add(xml, &r);
		*last_id = r.id;
		(*count)++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tmcm_db_fail(st, err, "feed page");
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
