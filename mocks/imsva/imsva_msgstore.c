/* imsva_msgstore.c - the one owner of IMSVA's message table (imsva_messages)
 * and of a message's lifecycle:
 *
 *   new -> processing -> delivered | quarantined | deleted | handoff
 *                     -> va    (parked for Virtual Analyzer) -> new
 *                     -> defer (a lookup or processing failed) -> new
 *                     -> error (processing failed too often)
 *   processing -> new  (claimed when the daemon stopped)
 *
 * Every other transition is refused with CTD_ECONFLICT, and so is one from a
 * state the message is not in. The names stored in the table are the ones
 * of imsva_msg_state_name (existing labs keep working).
 *
 * Dependencies: this file knows nothing of the rest of imsvad; the queue
 * (intake, claiming), processing and the VA queue call it, the admin API
 * reads through it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_app.h"
#include "imsva_smtp.h"
#include "json_write.h"
#include "util.h"

static const char *const state_names[IMSVA_MSG_STATE_COUNT] = {
	[IMSVA_MSG_NEW] = "new",
	[IMSVA_MSG_PROCESSING] = "processing",
	[IMSVA_MSG_DEFER] = "defer",
	[IMSVA_MSG_VA] = "va",
	[IMSVA_MSG_DELIVERED] = "delivered",
	[IMSVA_MSG_QUARANTINED] = "quarantined",
	[IMSVA_MSG_DELETED] = "deleted",
	[IMSVA_MSG_HANDOFF] = "handoff",
	[IMSVA_MSG_ERROR] = "error",
};

/* allowed[from] is a bit set of the states `from` may move to */
#define TO(s) (1u << (s))
static const unsigned allowed[IMSVA_MSG_STATE_COUNT] = {
	[IMSVA_MSG_NEW] = TO(IMSVA_MSG_PROCESSING),
	[IMSVA_MSG_PROCESSING] = TO(IMSVA_MSG_NEW) | TO(IMSVA_MSG_DEFER) | TO(IMSVA_MSG_VA) |
				 TO(IMSVA_MSG_DELIVERED) | TO(IMSVA_MSG_QUARANTINED) |
				 TO(IMSVA_MSG_DELETED) | TO(IMSVA_MSG_HANDOFF) | TO(IMSVA_MSG_ERROR),
	[IMSVA_MSG_DEFER] = TO(IMSVA_MSG_NEW),
	[IMSVA_MSG_VA] = TO(IMSVA_MSG_NEW),
};

const char *imsva_msg_state_name(imsva_msg_state s)
{
	return (unsigned)s < IMSVA_MSG_STATE_COUNT ? state_names[s] : "unknown";
}

int imsva_msg_state_parse(const char *name, imsva_msg_state *out)
{
	for (int i = 0; name && i < IMSVA_MSG_STATE_COUNT; i++) {
		if (!strcmp(name, state_names[i])) {
			*out = (imsva_msg_state)i;
			return 0;
		}
	}
	return -1;
}

int imsva_msg_state_final(imsva_msg_state s)
{
	return s >= IMSVA_MSG_DELIVERED && s <= IMSVA_MSG_HANDOFF;
}

int imsva_msg_transition_allowed(imsva_msg_state from, imsva_msg_state to)
{
	return (unsigned)from < IMSVA_MSG_STATE_COUNT && (unsigned)to < IMSVA_MSG_STATE_COUNT &&
	       (allowed[from] & TO(to));
}

static int check_transition(imsva_msg_state from, imsva_msg_state to, ctd_err *err)
{
	if (imsva_msg_transition_allowed(from, to))
		return 0;
	return ctd_fail(err, CTD_ECONFLICT, "message state %s cannot become %s",
			imsva_msg_state_name(from), imsva_msg_state_name(to));
}

void imsva_msg_queue_id(int64_t msg_id, char out[16])
{
	snprintf(out, 16, "%010" PRIX64, (uint64_t)msg_id);
}

/* ---- intake ---- */

int imsva_msgs_insert(store *st, const smtp_envelope *e, int64_t *id, ctd_err *err)
{
	sqlite3_stmt *ins = store_stmt(st,
		"INSERT INTO imsva_messages (internal_id, received_ms, client_ip, helo, tls,"
		" mail_from, rcpts, size, data) VALUES (?,?,?,?,?,?,?,?,?)", err);
	if (!ins)
		return -1;
	char iid[37];
	uuid_v4(iid);
	str_upper(iid);
	json_t *rc = json_array();
	for (int i = 0; i < e->nrcpts; i++)
		json_array_append_new(rc, json_string(e->rcpts[i]));
	char *rcpts = json_dumps(rc, JSON_COMPACT);
	json_decref(rc);
	sqlite3_bind_text(ins, 1, iid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ins, 2, e->received_ms);
	sqlite3_bind_text(ins, 3, e->client_ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, e->helo, -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 5, e->tls);
	sqlite3_bind_text(ins, 6, e->mail_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, rcpts, -1, free);
	sqlite3_bind_int64(ins, 8, (sqlite3_int64)e->data.len);
	sqlite3_bind_blob(ins, 9, e->data.data ? e->data.data : "", (int)e->data.len,
			  SQLITE_STATIC);
	if (store_step_done(st, ins, err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

/* ---- claiming ---- */

/* Every message in state `from` moves to `to` (the caller's transaction). */
static int move_all(store *st, imsva_msg_state from, imsva_msg_state to, int64_t due_ms,
		    ctd_err *err)
{
	if (check_transition(from, to, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE imsva_messages SET state = ? WHERE state = ? AND next_ms <= ?", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, state_names[to], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, state_names[from], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, due_ms);
	return store_step_done(st, s, err);
}

int imsva_msgs_recover(store *st, ctd_err *err)
{
	return move_all(st, IMSVA_MSG_PROCESSING, IMSVA_MSG_NEW, INT64_MAX, err);
}

static int claim_new(store *st, int64_t *ids, int max, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE imsva_messages SET state = ?, attempts = attempts + 1"
		" WHERE id IN (SELECT id FROM imsva_messages WHERE state = ? ORDER BY id LIMIT ?)"
		" RETURNING id", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, state_names[IMSVA_MSG_PROCESSING], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, state_names[IMSVA_MSG_NEW], -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, max);
	int n = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < max)
		ids[n++] = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ctd_fail(err, CTD_ESTORE, "claim: %s", sqlite3_errmsg(store_db(st)));
	return n;
}

int imsva_msgs_claim(store *st, int64_t now_ms, int64_t *ids, int max, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	int n = -1;
	if (move_all(st, IMSVA_MSG_DEFER, IMSVA_MSG_NEW, now_ms, err) == 0)
		n = claim_new(st, ids, max, err);
	if (n >= 0 && store_commit(st, err) == 0)
		return n;
	store_rollback(st);
	return -1;
}

/* ---- one message ---- */

/* The message's row of `sql` (one id parameter), stepped to it; the caller
 * resets it. NULL with CTD_ENOTFOUND when there is no such message. */
static sqlite3_stmt *message_row(store *st, const char *sql, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		return s;
	sqlite3_reset(s);
	ctd_fail(err, CTD_ENOTFOUND, "no message %" PRId64, id);
	return NULL;
}

static int current_state(store *st, int64_t id, imsva_msg_state *out, ctd_err *err)
{
	sqlite3_stmt *s = message_row(st, "SELECT state FROM imsva_messages WHERE id = ?", id, err);
	if (!s)
		return -1;
	int rc = 0;
	if (imsva_msg_state_parse((const char *)sqlite3_column_text(s, 0), out) < 0)
		rc = ctd_fail(err, CTD_ESTORE, "message %" PRId64 ": unknown state", id);
	sqlite3_reset(s);
	return rc;
}

/* Refuse unless the message is in `from` and may move to `to`. */
static int check_move(store *st, int64_t id, imsva_msg_state from, imsva_msg_state to,
		      ctd_err *err)
{
	imsva_msg_state cur = IMSVA_MSG_NEW;
	if (check_transition(from, to, err) < 0 || current_state(st, id, &cur, err) < 0)
		return -1;
	if (cur != from)
		return ctd_fail(err, CTD_ECONFLICT, "message %" PRId64 " is %s, not %s", id,
				state_names[cur], state_names[from]);
	return 0;
}

int imsva_msgs_processed(store *st, int64_t id, imsva_msg_state to, int64_t next_ms,
			 const char *subject, const char *message_id, ctd_err *err)
{
	if (check_move(st, id, IMSVA_MSG_PROCESSING, to, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE imsva_messages SET state = ?, next_ms = ?, subject = ?, message_id = ?,"
		" final_action = ?, done_ms = ? WHERE id = ?", err);
	if (!s)
		return -1;
	int final = imsva_msg_state_final(to);
	sqlite3_bind_text(s, 1, state_names[to], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, next_ms);
	sqlite3_bind_text(s, 3, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, final ? state_names[to] : NULL, -1, SQLITE_STATIC);
	if (final)
		sqlite3_bind_int64(s, 6, time_now_ms());
	sqlite3_bind_int64(s, 7, id);
	return store_step_done(st, s, err);
}

int imsva_msgs_failed(store *st, int64_t id, int max_attempts, int64_t retry_ms, ctd_err *err)
{
	if (check_move(st, id, IMSVA_MSG_PROCESSING, IMSVA_MSG_DEFER, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE imsva_messages SET state = CASE WHEN attempts >= ? THEN ? ELSE ? END,"
		" next_ms = ? WHERE id = ?", err);
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, max_attempts);
	sqlite3_bind_text(s, 2, state_names[IMSVA_MSG_ERROR], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, state_names[IMSVA_MSG_DEFER], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, retry_ms);
	sqlite3_bind_int64(s, 5, id);
	return store_step_done(st, s, err);
}

int imsva_msgs_va_done(store *st, int64_t id, ctd_err *err)
{
	if (check_move(st, id, IMSVA_MSG_VA, IMSVA_MSG_NEW, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st, "UPDATE imsva_messages SET state = ? WHERE id = ?", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, state_names[IMSVA_MSG_NEW], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	return store_step_done(st, s, err);
}

/* ---- reading ---- */

static char *col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return xstrdup(t ? t : "");
}

static void rcpts_split(imsva_stored_msg *m)
{
	json_t *a = json_loads(m->rcpts_json, 0, NULL);
	m->nrcpts = json_array_size(a);
	m->rcpts = xcalloc(m->nrcpts + 1, sizeof(char *));
	for (size_t i = 0; i < m->nrcpts; i++) {
		const char *r = json_string_value(json_array_get(a, i));
		m->rcpts[i] = xstrdup(r ? r : "");
	}
	json_decref(a);
}

int imsva_msgs_load(store *st, int64_t id, imsva_stored_msg *m, ctd_err *err)
{
	sqlite3_stmt *s = message_row(st,
		"SELECT internal_id, received_ms, client_ip, helo, tls, mail_from, rcpts, data"
		" FROM imsva_messages WHERE id = ?", id, err);
	if (!s)
		return -1;
	memset(m, 0, sizeof *m);
	m->id = id;
	m->internal_id = col_dup(s, 0);
	m->received_ms = sqlite3_column_int64(s, 1);
	m->client_ip = col_dup(s, 2);
	m->helo = col_dup(s, 3);
	m->tls = sqlite3_column_int(s, 4);
	m->mail_from = col_dup(s, 5);
	m->rcpts_json = col_dup(s, 6);
	m->len = (size_t)sqlite3_column_bytes(s, 7);
	m->data = xmalloc(m->len + 1);
	if (m->len)
		memcpy(m->data, sqlite3_column_blob(s, 7), m->len);
	m->data[m->len] = '\0';
	sqlite3_reset(s);
	rcpts_split(m);
	return 0;
}

void imsva_stored_msg_free(imsva_stored_msg *m)
{
	free(m->internal_id);
	free(m->client_ip);
	free(m->helo);
	free(m->mail_from);
	free(m->rcpts_json);
	for (size_t i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->data);
}

json_t *imsva_msgs_get_json(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = message_row(st,
		"SELECT internal_id, received_ms, client_ip, mail_from, rcpts, size, state,"
		" subject, message_id, final_action FROM imsva_messages WHERE id = ?", id, err);
	if (!s)
		return NULL;
	char qid[16], ts[32];
	imsva_msg_queue_id(id, qid);
	time_iso8601(sqlite3_column_int64(s, 1), ts, sizeof ts);
	json_t *rc = json_loads((const char *)sqlite3_column_text(s, 4), 0, NULL);
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:s,s:s?,s:s?,s:s?}",
		"id", (json_int_t)id, "queue_id", qid,
		"internal_id", (const char *)sqlite3_column_text(s, 0), "received", ts,
		"client_ip", (const char *)sqlite3_column_text(s, 2),
		"sender", (const char *)sqlite3_column_text(s, 3), "recipients", rc ? rc : json_array(),
		"size", (json_int_t)sqlite3_column_int64(s, 5),
		"state", (const char *)sqlite3_column_text(s, 6),
		"subject", (const char *)sqlite3_column_text(s, 7),
		"message_id", (const char *)sqlite3_column_text(s, 8),
		"final_action", (const char *)sqlite3_column_text(s, 9));
	sqlite3_reset(s);
	return o;
}

void imsva_msgs_log_columns(store *st, int64_t id, sbuf *row)
{
	ctd_err err = {0};
	sqlite3_stmt *s = message_row(st, "SELECT size, final_action FROM imsva_messages WHERE id = ?",
				      id, &err);
	if (!s)
		return; /* a log of a message since purged: the columns stay empty */
	sbuf_puts(row, ",\"message_size\":");
	sbuf_put_int(row, sqlite3_column_int64(s, 0));
	if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
		sbuf_puts(row, ",\"final_action\":");
		json_write_str(row, (const char *)sqlite3_column_text(s, 1), (size_t)sqlite3_column_bytes(s, 1));
	}
	sqlite3_reset(s);
}

json_t *imsva_msgs_state_counts(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT state, count(*) FROM imsva_messages GROUP BY state", err);
	if (!s)
		return NULL;
	json_t *states = json_object();
	json_int_t total = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_int_t n = sqlite3_column_int64(s, 1);
		total += n;
		json_object_set_new(states, (const char *)sqlite3_column_text(s, 0), json_integer(n));
	}
	sqlite3_reset(s);
	return json_pack("{s:I,s:o}", "messages", total, "states", states);
}
