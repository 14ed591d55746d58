/* imsva_quarantine.c - quarantine areas (Mail Areas & Queues > Quarantine):
 * a message quarantined by a rule is kept with its area, rule and reason;
 * the query takes area, rule, sender, recipient, subject and reason with `*`
 * wildcards and a date range; Release re-delivers the message (next hop or
 * local mailbox) and Delete drops it. Both are quarantine events. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_app.h"
#include "log.h"
#include "util.h"

int imsva_quarantine_put(store *st, int64_t msg_id, const char *area, const char *rule,
			 const char *reason, const char *sender, const char *rcpts_json,
			 const char *subject, const char *data, size_t len, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO imsva_quarantine (msg_id, ts_ms, area, rule, reason, sender, rcpts,"
		" subject, size, data) VALUES (?,?,?,?,?,?,?,?,?,?)", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_int64(s, 2, time_now_ms());
	sqlite3_bind_text(s, 3, area && *area ? area : "Default", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, rule ? rule : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, reason ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, rcpts_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, subject ? subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)len);
	sqlite3_bind_blob(s, 10, data, (int)len, SQLITE_STATIC);
	return store_step_done(st, s, err);
}

static json_t *row_json(sqlite3_stmt *s)
{
	char ts[32];
	time_iso8601(sqlite3_column_int64(s, 2), ts, sizeof ts);
	json_t *rc = json_loads((const char *)sqlite3_column_text(s, 7), 0, NULL);
	return json_pack("{s:I,s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:I,s:s}",
		"id", (json_int_t)sqlite3_column_int64(s, 0),
		"msg_id", (json_int_t)sqlite3_column_int64(s, 1), "time", ts,
		"ts_ms", (json_int_t)sqlite3_column_int64(s, 2),
		"area", (const char *)sqlite3_column_text(s, 3),
		"rule", (const char *)sqlite3_column_text(s, 4),
		"reason", (const char *)sqlite3_column_text(s, 5),
		"sender", (const char *)sqlite3_column_text(s, 6), "recipients", rc ? rc : json_array(),
		"subject", (const char *)sqlite3_column_text(s, 8),
		"size", (json_int_t)sqlite3_column_int64(s, 9),
		"state", (const char *)sqlite3_column_text(s, 10));
}

static int rcpt_match(const char *pattern, const char *rcpts_json)
{
	if (!pattern || !*pattern)
		return 1;
	json_t *a = json_loads(rcpts_json ? rcpts_json : "[]", 0, NULL);
	size_t i;
	json_t *r;
	int hit = 0;
	json_array_foreach(a, i, r) hit |= imsva_match_list(pattern, json_string_value(r));
	json_decref(a);
	return hit;
}

json_t *imsva_quarantine_list(store *st, const imsva_quarantine_query *q, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, msg_id, ts_ms, area, rule, reason, sender, rcpts, subject, size, state"
		" FROM imsva_quarantine WHERE (state = 'quarantined' OR ?1) AND ts_ms >= ?2"
		" AND ts_ms <= ?3 ORDER BY id DESC", err);
	if (!s)
		return NULL;
	sqlite3_bind_int(s, 1, q->include_released);
	sqlite3_bind_int64(s, 2, q->from_ms);
	sqlite3_bind_int64(s, 3, q->to_ms ? q->to_ms : INT64_MAX);
	int limit = q->limit > 0 ? q->limit : 500;
	json_t *out = json_array();
	while (sqlite3_step(s) == SQLITE_ROW && (int)json_array_size(out) < limit) {
		const char *col[] = {(const char *)sqlite3_column_text(s, 3),
				     (const char *)sqlite3_column_text(s, 4),
				     (const char *)sqlite3_column_text(s, 6),
				     (const char *)sqlite3_column_text(s, 8),
				     (const char *)sqlite3_column_text(s, 5)};
		const char *pat[] = {q->area, q->rule, q->sender, q->subject, q->reason};
		int ok = 1;
		for (int i = 0; i < 5 && ok; i++)
			ok = imsva_match_list(pat[i], col[i]);
		if (ok && rcpt_match(q->recipient, (const char *)sqlite3_column_text(s, 7)))
			json_array_append_new(out, row_json(s));
	}
	sqlite3_reset(s);
	return out;
}

json_t *imsva_quarantine_get(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, msg_id, ts_ms, area, rule, reason, sender, rcpts, subject, size, state,"
		" data FROM imsva_quarantine WHERE id = ?", err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	json_t *o = NULL;
	if (sqlite3_step(s) == SQLITE_ROW) {
		o = row_json(s);
		/* the raw message as stored; null once deleted (or not UTF-8) */
		const char *data = (const char *)sqlite3_column_blob(s, 11);
		json_t *text = data ? json_stringn(data, (size_t)sqlite3_column_bytes(s, 11)) : NULL;
		json_object_set_new(o, "data", text ? text : json_null());
	} else {
		ctd_fail(err, CTD_ENOTFOUND, "no quarantined message %" PRId64, id);
	}
	sqlite3_reset(s);
	return o;
}

json_t *imsva_quarantine_areas(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT area, count(*) FROM imsva_quarantine WHERE state = 'quarantined'"
		" GROUP BY area ORDER BY area", err);
	if (!s)
		return NULL;
	json_t *out = json_array();
	int have_default = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(s, 0);
		have_default |= !strcmp(a, "Default");
		json_array_append_new(out, json_pack("{s:s,s:I}", "name", a, "count",
						     (json_int_t)sqlite3_column_int64(s, 1)));
	}
	sqlite3_reset(s);
	if (!have_default) /* the default area always exists */
		json_array_insert_new(out, 0, json_pack("{s:s,s:i}", "name", "Default", "count", 0));
	return out;
}

static void quarantine_event(store *st, int64_t msg_id, const char *action, const char *area,
			     const char *rule, const char *sender, const char *rcpts,
			     const char *subject)
{
	json_t *d = json_pack("{s:s}", "area", area);
	char *rl = imsva_rcpts_join(rcpts);
	imsva_log_rec r = {.type = "quarantine", .msg_id = msg_id, .action = action, .rule = rule,
			   .sender = sender, .recipients = rl, .subject = subject, .detail = d};
	ctd_err err = {0};
	imsva_log(st, &r, &err);
	free(rl);
	json_decref(d);
}

/* Load a quarantined row for release/delete; NULL-safe strings are copied. */
typedef struct qrow {
	int64_t msg_id;
	char *area, *rule, *sender, *rcpts, *subject, *data;
	size_t len;
} qrow;

static void qrow_free(qrow *r)
{
	free(r->area);
	free(r->rule);
	free(r->sender);
	free(r->rcpts);
	free(r->subject);
	free(r->data);
}

static int qrow_load(store *st, int64_t id, qrow *r, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT msg_id, area, rule, sender, rcpts, subject, data FROM imsva_quarantine"
		" WHERE id = ? AND state = 'quarantined'", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return ctd_fail(err, CTD_ENOTFOUND, "no quarantined message %" PRId64, id);
	}
	memset(r, 0, sizeof *r);
	r->msg_id = sqlite3_column_int64(s, 0);
	r->area = xstrdup((const char *)sqlite3_column_text(s, 1));
	r->rule = xstrdup((const char *)sqlite3_column_text(s, 2));
	r->sender = xstrdup((const char *)sqlite3_column_text(s, 3));
	r->rcpts = xstrdup((const char *)sqlite3_column_text(s, 4));
	r->subject = xstrdup((const char *)sqlite3_column_text(s, 5));
	r->len = (size_t)sqlite3_column_bytes(s, 6);
	r->data = xmalloc(r->len + 1);
	if (r->len)
		memcpy(r->data, sqlite3_column_blob(s, 6), r->len);
	sqlite3_reset(s);
	return 0;
}

static int set_state(store *st, int64_t id, const char *state, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE imsva_quarantine SET state = ?, state_ms = ?,"
		" data = CASE WHEN ? = 'deleted' THEN NULL ELSE data END WHERE id = ?", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, time_now_ms());
	sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, id);
	return store_step_done(st, s, err);
}

int imsva_quarantine_release(imsva_app *app, store *st, int64_t id, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	qrow r;
	if (qrow_load(st, id, &r, err) < 0) {
		store_rollback(st);
		return -1;
	}
	json_t *rc = json_loads(r.rcpts, 0, NULL);
	size_t n = json_array_size(rc);
	const char **rv = xcalloc(n + 1, sizeof *rv);
	for (size_t i = 0; i < n; i++)
		rv[i] = json_string_value(json_array_get(rc, i));
	int rcode = imsva_deliver_enqueue(app, st, r.msg_id, r.sender, rv, n, r.data, r.len, NULL, 0,
					  err);
	if (rcode == 0)
		rcode = set_state(st, id, "released", err);
	if (rcode == 0)
		quarantine_event(st, r.msg_id, "released", r.area, r.rule, r.sender, r.rcpts,
				 r.subject);
	if (rcode == 0)
		rcode = store_commit(st, err);
	if (rcode < 0)
		store_rollback(st);
	free(rv);
	json_decref(rc);
	qrow_free(&r);
	if (rcode == 0)
		worker_wake(app->deliver);
	return rcode;
}

int imsva_quarantine_delete(store *st, int64_t id, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	qrow r;
	if (qrow_load(st, id, &r, err) < 0) {
		store_rollback(st);
		return -1;
	}
	int rcode = set_state(st, id, "deleted", err);
	if (rcode == 0)
		quarantine_event(st, r.msg_id, "deleted", r.area, r.rule, r.sender, r.rcpts,
				 r.subject);
	if (rcode == 0)
		rcode = store_commit(st, err);
	if (rcode < 0)
		store_rollback(st);
	qrow_free(&r);
	return rcode;
}
