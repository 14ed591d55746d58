/* ddan_so.c - suspicious objects DDAN generates (Virtual Analyzer →
 * Suspicious Objects): File SHA-1 (always High), URL, domain and IP (High or
 * Medium) with first/last seen, expiry, never-expire and expire-now (none
 * for an object on the Exceptions list, ddan_exceptions.c). Every
 * change takes the next change id, the cursor of get_black_lists. */
#include "ddan.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "so_content.h"
#include "sofeed.h"

#define SO_COLUMNS                                                                             \
	"id, type, value, risk, first_seen_ms, last_seen_ms, expires_ms, related_sha1, "         \
	"related_count, removed, change_id"

static int64_t next_change_id(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE ddan_so_seq SET last = last + 1 WHERE one = 1 RETURNING last",
				     err);
	if (!s)
		return -1;
	int64_t id = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		ctd_fail(err, CTD_ESTORE, "SO change counter: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_reset(s);
	return id;
}

static int risk_rank(const char *risk)
{
	return !strcmp(risk, "High") ? 3 : !strcmp(risk, "Medium") ? 2 : 1;
}

static void so_event(store *st, const char *kind, int64_t id, const char *type, const char *value,
		     const char *risk, int64_t change_id)
{
	char ref[24];
	snprintf(ref, sizeof ref, "%lld", (long long)id);
	json_t *d = json_pack("{s:s, s:s, s:s, s:I}", "type", type, "value", value, "risk", risk,
			      "change_id", (json_int_t)change_id);
	events_append(st, DDAN_NS, kind, ref, d, NULL);
	json_decref(d);
	log_info(kind, "id=%lld type=%s value=\"%s\" risk=%s change_id=%lld", (long long)id, type,
		 value, risk, (long long)change_id);
}

static int link_sample(store *st, int64_t so_id, const char *sha1, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO ddan_so_samples (so_id, sha1) VALUES (?1, ?2)",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, so_id);
	sqlite3_bind_text(s, 2, sha1, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) != 0)
		return -1;
	return sqlite3_changes(store_db(st));
}

static int so_store(store *st, const char *type, const char *value, const char *risk,
		    const char *sha1, int64_t now, int64_t expiry_ms, ctd_err *err)
{
	int excepted = ddan_exception_match(st, type, value, err);
	if (excepted != 0) {
		if (excepted > 0)
			log_info("so.excepted", "type=%s value=\"%s\" sha1=%s", type, value, sha1);
		return excepted > 0 ? 0 : -1;
	}
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT id, risk, removed, expires_ms FROM ddan_so "
				     "WHERE type = ?1 AND value = ?2",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	int64_t id = 0, old_expires = 0;
	int was_removed = 0;
	char old_risk[8] = "";
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		snprintf(old_risk, sizeof old_risk, "%s", (const char *)sqlite3_column_text(s, 1));
		was_removed = sqlite3_column_int(s, 2);
		old_expires = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);

	int64_t change = next_change_id(st, err);
	if (change < 0)
		return -1;
	const char *new_risk = id && risk_rank(old_risk) > risk_rank(risk) ? old_risk : risk;
	/* a never-expiring object stays so while listed; otherwise the clock restarts */
	int64_t expires = id && !was_removed && old_expires == 0 ? 0 : now + expiry_ms;
	if (id) {
		s = store_stmt(st,
			       "UPDATE ddan_so SET risk = ?2, last_seen_ms = ?3, expires_ms = ?4, "
			       "related_sha1 = ?5, removed = 0, change_id = ?6 WHERE id = ?1",
			       err);
		if (!s)
			return -1;
		sqlite3_bind_int64(s, 1, id);
	} else {
		s = store_stmt(st,
			       "INSERT INTO ddan_so (type, value, risk, first_seen_ms, last_seen_ms, "
			       "expires_ms, related_sha1, related_count, removed, change_id) "
			       "VALUES (?7, ?8, ?2, ?3, ?3, ?4, ?5, 0, 0, ?6)",
			       err);
		if (!s)
			return -1;
		sqlite3_bind_text(s, 7, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, value, -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(s, 2, new_risk, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, expires);
	sqlite3_bind_text(s, 5, sha1, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, change);
	if (store_step_done(st, s, err) != 0)
		return -1;
	if (!id)
		id = sqlite3_last_insert_rowid(store_db(st));
	int linked = link_sample(st, id, sha1, err);
	if (linked < 0)
		return -1;
	if (linked) {
		s = store_stmt(st, "UPDATE ddan_so SET related_count = related_count + 1 WHERE id = ?1", err);
		if (!s)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		if (store_step_done(st, s, err) != 0)
			return -1;
	}
	so_event(st, !old_risk[0] ? "so.created" : was_removed ? "so.readded" : "so.updated", id, type,
		 value, new_risk, change);
	return 0;
}

/* The door of DDAN's SO list: content that breaks the lab's rules
 * (so_content.h) is logged and never becomes an object; the analysis goes on. */
int ddan_so_record(store *st, const char *type, const char *value, const char *risk,
		   const char *sha1, int64_t now, int64_t expiry_ms, ctd_err *err)
{
	ctd_err why = {0};
	char *canon;
	if (so_content_normalise("value", type, value, &canon, &why) < 0) {
		log_warn("so.refused", "type=%s value=\"%s\" sha1=%s reason=\"%s\"", type,
			 value ? value : "", sha1, why.msg);
		return 0;
	}
	int rc = so_store(st, type, canon, risk, sha1, now, expiry_ms, err);
	free(canon);
	return rc;
}

/* Run an UPDATE of one object (?1 id, ?2 its new change id, ?3 arg if used);
 * returns the change id or -1. */
static int64_t so_change(store *st, int64_t id, const char *sql, int64_t arg, ctd_err *err)
{
	int64_t change = next_change_id(st, err);
	if (change < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, change);
	if (sqlite3_bind_parameter_count(s) >= 3)
		sqlite3_bind_int64(s, 3, arg);
	return store_step_done(st, s, err) == 0 ? change : -1;
}

int ddan_so_expire_due(store *st, int64_t now, ctd_err *err)
{
	if (store_begin(st, err) != 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT id, type, value, risk FROM ddan_so WHERE removed = 0 "
				     "AND expires_ms > 0 AND expires_ms <= ?1 LIMIT 500",
				     err);
	if (!s) {
		store_rollback(st);
		return -1;
	}
	sqlite3_bind_int64(s, 1, now);
	json_t *due = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(due, json_pack("[I,s,s,s]", (json_int_t)sqlite3_column_int64(s, 0),
						     sqlite3_column_text(s, 1), sqlite3_column_text(s, 2),
						     sqlite3_column_text(s, 3)));
	sqlite3_reset(s);
	int rc = 0;
	size_t i;
	json_t *row;
	json_array_foreach(due, i, row)
	{
		int64_t id = json_integer_value(json_array_get(row, 0));
		int64_t change =
			so_change(st, id, "UPDATE ddan_so SET removed = 1, change_id = ?2 WHERE id = ?1", 0, err);
		if (change < 0) {
			rc = -1;
			break;
		}
		so_event(st, "so.expired", id, json_string_value(json_array_get(row, 1)),
			 json_string_value(json_array_get(row, 2)), json_string_value(json_array_get(row, 3)),
			 change);
	}
	int n = (int)json_array_size(due);
	json_decref(due);
	if (rc == 0 && store_commit(st, err) == 0)
		return n;
	store_rollback(st);
	return -1;
}

int ddan_so_action(store *st, int64_t id, const char *action, int64_t expiry_ms, ctd_err *err)
{
	const char *sql;
	int64_t now = time_now_ms(), arg;
	if (!strcmp(action, "expire")) {
		sql = "UPDATE ddan_so SET removed = 1, expires_ms = ?3, change_id = ?2 WHERE id = ?1";
		arg = now;
	} else if (!strcmp(action, "never_expire")) {
		sql = "UPDATE ddan_so SET removed = 0, expires_ms = ?3, change_id = ?2 WHERE id = ?1";
		arg = 0;
	} else if (!strcmp(action, "expire_normally")) {
		sql = "UPDATE ddan_so SET expires_ms = ?3, change_id = ?2 WHERE id = ?1";
		arg = now + expiry_ms;
	} else {
		return ctd_fail(err, CTD_EINVAL,
				"unknown action \"%s\": expire, never_expire or expire_normally", action);
	}
	if (store_begin(st, err) != 0)
		return -1;
	int rc = so_change(st, id, sql, arg, err) < 0 ? -1 : 0;
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		rc = ctd_fail(err, CTD_ENOTFOUND, "no suspicious object with id %lld", (long long)id);
	if (rc == 0) {
		char ref[24];
		snprintf(ref, sizeof ref, "%lld", (long long)id);
		json_t *d = json_pack("{s:s}", "action", action);
		events_append(st, DDAN_NS, "so.action", ref, d, NULL);
		json_decref(d);
	}
	if (rc == 0 && store_commit(st, err) == 0)
		return 0;
	store_rollback(st);
	return -1;
}

static void row_to_record(sqlite3_stmt *s, so_record *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(s, 10); /* the change id is the feed's ID */
	snprintf(r->type, sizeof r->type, "%s", (const char *)sqlite3_column_text(s, 1));
	r->value = (char *)sqlite3_column_text(s, 2);
	snprintf(r->risk, sizeof r->risk, "%s", (const char *)sqlite3_column_text(s, 3));
	r->source = "DDAN";
	r->first_seen_ms = sqlite3_column_int64(s, 4);
	r->last_seen_ms = sqlite3_column_int64(s, 5);
	r->expires_ms = sqlite3_column_int64(s, 6);
	snprintf(r->related_sha1, sizeof r->related_sha1, "%s", (const char *)sqlite3_column_text(s, 7));
	r->removed = sqlite3_column_int(s, 9);
}

int ddan_so_feed(store *st, int64_t after, long limit, sbuf *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT " SO_COLUMNS " FROM ddan_so WHERE change_id > ?1 "
				     "ORDER BY change_id LIMIT ?2",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, limit + 1);
	int64_t last = after;
	long n = 0;
	int more = 0;
	sofeed_xml_begin(out);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		so_record r;
		row_to_record(s, &r);
		sofeed_xml_add(out, &r);
		last = r.id;
		n++;
	}
	sqlite3_reset(s);
	sofeed_xml_end(out, last, more);
	return 0;
}

int ddan_so_for_sample(store *st, const char *sha1, sbuf *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT o.id, o.type, o.value, o.risk, o.first_seen_ms, o.last_seen_ms, "
				     "o.expires_ms, o.related_sha1, o.related_count, o.removed, o.change_id "
				     "FROM ddan_so o JOIN ddan_so_samples l ON l.so_id = o.id "
				     "WHERE l.sha1 = ?1 AND o.removed = 0 ORDER BY o.id",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	int n = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		so_record r;
		row_to_record(s, &r);
		sofeed_xml_add(out, &r);
		n++;
	}
	sqlite3_reset(s);
	return n;
}

json_t *ddan_so_list(store *st, const char *type, int include_removed, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT " SO_COLUMNS " FROM ddan_so WHERE (?1 IS NULL OR type = ?1) "
				     "AND (?2 OR removed = 0) ORDER BY last_seen_ms DESC, id DESC",
				     err);
	if (!s)
		return NULL;
	if (type)
		sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, include_removed);
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		char first[32], last[32], exp[32] = "Never";
		time_iso8601(sqlite3_column_int64(s, 4), first, sizeof first);
		time_iso8601(sqlite3_column_int64(s, 5), last, sizeof last);
		int64_t e = sqlite3_column_int64(s, 6);
		if (e)
			time_iso8601(e, exp, sizeof exp);
		json_array_append_new(
			arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:b, s:I}", "id",
				       (json_int_t)sqlite3_column_int64(s, 0), "type",
				       sqlite3_column_text(s, 1), "object", sqlite3_column_text(s, 2),
				       "risk", sqlite3_column_text(s, 3), "first_seen", first,
				       "last_detected", last, "expiration", exp, "never_expire", e == 0,
				       "latest_related_sample", sqlite3_column_text(s, 7),
				       "related_submissions", (json_int_t)sqlite3_column_int64(s, 8),
				       "expired", sqlite3_column_int(s, 9), "change_id",
				       (json_int_t)sqlite3_column_int64(s, 10)));
	}
	sqlite3_reset(s);
	return arr;
}
