/* imsva_va.c - the Virtual Analyzer queue and IMSVA's DDAN client.
 *
 * A message whose rule wants Virtual Analyzer is parked (imsva_va_queue) with
 * the attachments to analyse (imsva_va_samples). The VA worker registers
 * with DDAN as a DTAS client (product IMSVA), uploads each sample with
 * upload_sample, polls get_brief_report, and when every sample has a verdict
 * (or the maximum analysis time va_timeout has passed) records the result
 * and hands the message back to processing, which evaluates the rules again
 * with that VA state (the engine maps risk by security level). DDAN
 * unreachable: a system event, the samples stay queued, and the timeout path
 * ("Probable advanced threat (ATSE)") applies once the message expires.
 *
 * Dependencies: the VA queue calls the message store (a parked message back
 * to new) and the queue (imsva_queue_kick); processing calls the VA queue
 * (park, state), never the other way round. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_app.h"
#include "log.h"
#include "util.h"

#define VA_BATCH 32

/* DDAN's connection state for the console: the outcome of the last call (the
 * VA worker's or "Test connection"). One imsvad per process. */
static struct {
	pthread_mutex_t lock;
	int64_t ok_ms, error_ms;
	char error[256];
} ddan_conn = {PTHREAD_MUTEX_INITIALIZER, 0, 0, ""};

static void ddan_note(const ctd_err *failed)
{
	pthread_mutex_lock(&ddan_conn.lock);
	if (failed) {
		ddan_conn.error_ms = time_now_ms();
		snprintf(ddan_conn.error, sizeof ddan_conn.error, "%s", failed->msg);
	} else {
		ddan_conn.ok_ms = time_now_ms();
	}
	pthread_mutex_unlock(&ddan_conn.lock);
}

json_t *imsva_va_connection(const imsva_app *app)
{
	const char *url = app->ddan.base_url;
	json_t *o = json_pack("{s:b,s:s,s:s,s:s,s:s,s:I,s:I}", "enabled", url != NULL,
		"server", url ? url : "", "api_key", url ? app->ddan.api_key : "",
		"client_uuid", app->ddan.client_uuid ? app->ddan.client_uuid : "",
		"security_level", imsva_level_name(app->va_level),
		"poll_interval_ms", (json_int_t)app->cfg->va_poll_interval,
		"max_analysis_time_ms", (json_int_t)app->cfg->va_timeout);
	pthread_mutex_lock(&ddan_conn.lock);
	const char *status = !url ? "disabled"
			     : ddan_conn.ok_ms == 0 && ddan_conn.error_ms == 0 ? "unknown"
			     : ddan_conn.ok_ms >= ddan_conn.error_ms ? "online" : "unreachable";
	json_object_set_new(o, "status", json_string(status));
	if (ddan_conn.error_ms > ddan_conn.ok_ms)
		json_object_set_new(o, "last_error", json_string(ddan_conn.error));
	pthread_mutex_unlock(&ddan_conn.lock);
	return o;
}

int imsva_va_test_connection(const imsva_app *app, ctd_err *err)
{
	if (!app->ddan.base_url)
		return ctd_fail(err, CTD_ECONFLICT, "no Virtual Analyzer configured (ddan_url)");
	int rc = dtas_test_connection(&app->ddan, err);
	ddan_note(rc < 0 ? err : NULL);
	return rc;
}

int imsva_va_park(imsva_app *app, store *st, int64_t msg_id, const imsva_msg *m,
		  const imsva_verdict *v, ctd_err *err)
{
	int64_t now = time_now_ms();
	sqlite3_stmt *q = store_stmt(st,
		"INSERT INTO imsva_va_queue (msg_id, ts_ms, rule, expires_ms) VALUES (?,?,?,?)"
		" ON CONFLICT(msg_id) DO UPDATE SET status = 'pending', risk = -1, rule = excluded.rule,"
		" expires_ms = excluded.expires_ms", err);
	if (!q)
		return -1;
	sqlite3_bind_int64(q, 1, msg_id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_text(q, 3, v->va_rule_name ? v->va_rule_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, now + app->cfg->va_timeout);
	if (store_step_done(st, q, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO imsva_va_samples (msg_id, sha1, filename, data) VALUES (?,?,?,?)"
		" ON CONFLICT(msg_id, sha1) DO NOTHING", err);
	if (!s)
		return -1;
	for (size_t i = 0; i < v->nva_parts; i++) {
		const imsva_part *p = &m->parts[v->va_parts[i]];
		if (!p->data)
			continue;
		sqlite3_bind_int64(s, 1, msg_id);
		sqlite3_bind_text(s, 2, p->sha1, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, p->filename ? p->filename : "NONAMEFL", -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 4, p->data, (int)p->size, SQLITE_STATIC);
		if (store_step_done(st, s, err) < 0)
			return -1;
	}
	json_t *d = json_pack("{s:I,s:s}", "samples", (json_int_t)v->nva_parts, "rule",
			      v->va_rule_name ? v->va_rule_name : "");
	imsva_log_rec r = {.type = "va", .msg_id = msg_id, .action = "queued", .subject = m->subject,
			   .sender = NULL, .rule = v->va_rule_name, .message_id = m->message_id,
			   .detail = d};
	int rc = imsva_log(st, &r, err);
	json_decref(d);
	return rc;
}

int imsva_va_state_get(store *st, int64_t msg_id, imsva_va_state *out, ctd_err *err)
{
	out->status = IMSVA_VA_NOT_SUBMITTED;
	out->risk = -1;
	sqlite3_stmt *s = store_stmt(st, "SELECT status, risk FROM imsva_va_queue WHERE msg_id = ?",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(s, 0);
		out->risk = sqlite3_column_int(s, 1);
		out->status = !strcmp(status, "done")	    ? IMSVA_VA_DONE
			      : !strcmp(status, "timeout")  ? IMSVA_VA_TIMEOUT
			      : !strcmp(status, "error")    ? IMSVA_VA_ERROR
			      : !strcmp(status, "released") ? IMSVA_VA_RELEASED
							    : IMSVA_VA_PENDING;
	}
	sqlite3_reset(s);
	return 0;
}

static void va_event(store *st, int64_t msg_id, const char *action, const char *reason,
		     json_t *detail)
{
	imsva_log_rec r = {.type = "va", .msg_id = msg_id, .action = action, .reason = reason,
			   .detail = detail};
	ctd_err err = {0};
	imsva_log(st, &r, &err);
}

/* Give a parked message back to processing with its VA result. */
static int va_finish(imsva_app *app, store *st, int64_t msg_id, const char *status, int risk,
		     ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *q = store_stmt(st,
		"UPDATE imsva_va_queue SET status = ?, risk = ?, done_ms = ? WHERE msg_id = ?"
		" AND status = 'pending'", err);
	int rc = q ? 0 : -1;
	if (rc == 0) {
		sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, risk);
		sqlite3_bind_int64(q, 3, time_now_ms());
		sqlite3_bind_int64(q, 4, msg_id);
		rc = store_step_done(st, q, err);
	}
	int changed = rc == 0 && sqlite3_changes(store_db(st)) > 0;
	if (changed) {
		rc = imsva_msgs_va_done(st, msg_id, err);
		if (rc == 0) {
			json_t *d = json_pack("{s:s,s:i}", "status", status, "risk", risk);
			va_event(st, msg_id, status, NULL, d);
			json_decref(d);
		}
	}
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	else if (changed)
		imsva_queue_kick(app->queue);
	return rc;
}

/* Upload samples not yet submitted. Returns -1 when DDAN failed. */
static int va_submit(imsva_app *app, store *st)
{
	ctd_err err = {0};
	for (;;) {
		sqlite3_stmt *s = store_stmt(st,
			"SELECT s.msg_id, s.sha1, s.filename, s.data FROM imsva_va_samples s"
			" JOIN imsva_va_queue q ON q.msg_id = s.msg_id"
			" WHERE s.submitted = 0 AND q.status = 'pending' LIMIT 1", &err);
		if (!s)
			return -1;
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			return 0;
		}
		int64_t msg_id = sqlite3_column_int64(s, 0);
		char sha1[41], *name = xstrdup((const char *)sqlite3_column_text(s, 2));
		snprintf(sha1, sizeof sha1, "%s", (const char *)sqlite3_column_text(s, 1));
		size_t len = (size_t)sqlite3_column_bytes(s, 3);
		char *data = xmalloc(len + 1);
		if (len)
			memcpy(data, sqlite3_column_blob(s, 3), len);
		sqlite3_reset(s);
		char got[41];
		int rc = dtas_upload_sample(&app->ddan, data, len, name, 0, got, &err);
		free(data);
		ddan_note(rc < 0 ? &err : NULL);
		if (rc < 0) {
			free(name);
			imsva_log_system(st, "ddan_unreachable", "upload_sample to %s failed: %s",
					 app->ddan.base_url, err.msg);
			return -1;
		}
		sqlite3_stmt *u = store_stmt(st,
			"UPDATE imsva_va_samples SET submitted = 1, data = NULL WHERE msg_id = ?"
			" AND sha1 = ?", &err);
		if (u) {
			sqlite3_bind_int64(u, 1, msg_id);
			sqlite3_bind_text(u, 2, sha1, -1, SQLITE_STATIC);
			store_step_done(st, u, &err);
		}
		json_t *d = json_pack("{s:s,s:s}", "sha1", sha1, "filename", name);
		va_event(st, msg_id, "submitted", NULL, d);
		json_decref(d);
		log_info("va.submitted", "msg=%" PRId64 " sha1=%s", msg_id, sha1);
		free(name);
	}
}

/* Ask DDAN about every submitted sample still without a verdict. */
static int va_poll(imsva_app *app, store *st)
{
	ctd_err err = {0};
	char *sha1s[VA_BATCH];
	int n = 0;
	sqlite3_stmt *s = store_stmt(st,
		"SELECT DISTINCT s.sha1 FROM imsva_va_samples s JOIN imsva_va_queue q"
		" ON q.msg_id = s.msg_id WHERE q.status = 'pending' AND s.submitted = 1"
		" AND s.status NOT IN (4, 5, 6) LIMIT ?", &err);
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, VA_BATCH);
	while (n < VA_BATCH && sqlite3_step(s) == SQLITE_ROW)
		sha1s[n++] = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (n == 0)
		return 0;
	dtas_brief out[VA_BATCH];
	int rc = dtas_brief_report(&app->ddan, (const char *const *)sha1s, (size_t)n, out, &err);
	ddan_note(rc < 0 ? &err : NULL);
	if (rc < 0)
		imsva_log_system(st, "ddan_unreachable", "get_brief_report from %s failed: %s",
				 app->ddan.base_url, err.msg);
	for (int i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *u = store_stmt(st,
			"UPDATE imsva_va_samples SET status = ?, risk = ? WHERE sha1 = ? COLLATE NOCASE"
			" AND submitted = 1", &err);
		if (!u)
			break;
		sqlite3_bind_int(u, 1, out[i].status);
		sqlite3_bind_int(u, 2, out[i].risk_level);
		sqlite3_bind_text(u, 3, sha1s[i], -1, SQLITE_STATIC);
		store_step_done(st, u, &err);
	}
	sqlite3_stmt *q = store_stmt(st,
		"UPDATE imsva_va_queue SET attempts = attempts + 1, query_ms = ? WHERE status = 'pending'",
		&err);
	if (q) {
		sqlite3_bind_int64(q, 1, time_now_ms());
		store_step_done(st, q, &err);
	}
	for (int i = 0; i < n; i++)
		free(sha1s[i]);
	return rc;
}

/* Settle parked messages whose samples all have verdicts, or that expired. */
static void va_settle(imsva_app *app, store *st)
{
	ctd_err err = {0};
	int64_t ids[VA_BATCH];
	char status[VA_BATCH][16];
	int risks[VA_BATCH], n = 0;
	sqlite3_stmt *s = store_stmt(st,
		"SELECT q.msg_id, q.expires_ms,"
		" sum(s.status NOT IN (4, 5, 6)), sum(s.status = 5), sum(s.status = 6),"
		" max(CASE WHEN s.status = 4 THEN s.risk ELSE -1 END), count(s.sha1)"
		" FROM imsva_va_queue q LEFT JOIN imsva_va_samples s ON s.msg_id = q.msg_id"
		" WHERE q.status = 'pending' GROUP BY q.msg_id LIMIT ?", &err);
	if (!s)
		return;
	sqlite3_bind_int(s, 1, VA_BATCH);
	int64_t now = time_now_ms();
	while (n < VA_BATCH && sqlite3_step(s) == SQLITE_ROW) {
		int64_t expires = sqlite3_column_int64(s, 1);
		int open = sqlite3_column_int(s, 2), errors = sqlite3_column_int(s, 3);
		int timeouts = sqlite3_column_int(s, 4), nsamples = sqlite3_column_int(s, 6);
		const char *st_name = NULL;
		if (nsamples == 0)
			st_name = "error"; /* nothing could be submitted */
		else if (open == 0)
			st_name = errors ? "error" : timeouts ? "timeout" : "done";
		else if (now >= expires)
			st_name = "timeout";
		if (!st_name)
			continue;
		ids[n] = sqlite3_column_int64(s, 0);
		risks[n] = sqlite3_column_int(s, 5);
		snprintf(status[n], sizeof status[n], "%s", st_name);
		n++;
	}
	sqlite3_reset(s);
	for (int i = 0; i < n; i++)
		va_finish(app, st, ids[i], status[i], risks[i], &err);
}

int64_t imsva_va_run(void *appv)
{
	imsva_app *app = appv;
	ctd_err err = {0};
	store *st = imsva_store(&err);
	if (!st)
		return IMSVA_JOB_INTERVAL;
	if (app->ddan.base_url) {
		static int registered; /* one VA worker thread */
		if (!registered) {
			int rc = dtas_register(&app->ddan, &err);
			ddan_note(rc < 0 ? &err : NULL);
			if (rc == 0) {
				registered = 1;
				imsva_log_system(st, "ddan_registered", "registered with DDAN %s as %s",
						 app->ddan.base_url, app->ddan.client_uuid);
			} else {
				imsva_log_system(st, "ddan_unreachable", "register with %s failed: %s",
						 app->ddan.base_url, err.msg);
			}
		}
		if (registered && va_submit(app, st) == 0)
			va_poll(app, st);
	}
	va_settle(app, st);
	return IMSVA_JOB_INTERVAL;
}

/* The message's fields a VA queue row shows, from the message store. */
static int add_message_fields(store *st, int64_t msg_id, json_t *row, ctd_err *err)
{
	static const char *const keys[] = {"internal_id", "sender", "recipients", "size"};
	json_t *m = imsva_msgs_get_json(st, msg_id, err);
	if (!m)
		return -1;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		json_object_set(row, keys[i], json_object_get(m, keys[i]));
	const char *subject = json_string_value(json_object_get(m, "subject"));
	json_object_set_new(row, "subject", json_string(subject ? subject : ""));
	json_decref(m);
	return 0;
}

json_t *imsva_va_list(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT q.msg_id, q.ts_ms, q.rule, q.expires_ms, q.status, q.risk, q.attempts,"
		" q.query_ms,"
		" (SELECT json_group_array(json_object('sha1', sha1, 'filename', filename,"
		"  'submitted', submitted, 'status', status, 'risk', risk))"
		"  FROM imsva_va_samples WHERE msg_id = q.msg_id)"
		" FROM imsva_va_queue q ORDER BY q.ts_ms DESC LIMIT 500", err);
	if (!s)
		return NULL;
	json_t *out = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		char ts[32], exp[32];
		int64_t msg_id = sqlite3_column_int64(s, 0);
		time_iso8601(sqlite3_column_int64(s, 1), ts, sizeof ts);
		time_iso8601(sqlite3_column_int64(s, 3), exp, sizeof exp);
		json_t *att = json_loads((const char *)sqlite3_column_text(s, 8), 0, NULL);
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:o}",
			"msg_id", (json_int_t)msg_id, "time", ts,
			"rule", (const char *)sqlite3_column_text(s, 2), "expiration", exp,
			"status", (const char *)sqlite3_column_text(s, 4), "risk", sqlite3_column_int(s, 5),
			"attempts", sqlite3_column_int(s, 6), "attachments", att ? att : json_array());
		if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
			char qt[32];
			time_iso8601(sqlite3_column_int64(s, 7), qt, sizeof qt);
			json_object_set_new(o, "query_time", json_string(qt));
		}
		ctd_err merr = {0};
		if (add_message_fields(st, msg_id, o, &merr) == 0)
			json_array_append_new(out, o);
		else
			json_decref(o);
	}
	sqlite3_reset(s);
	return out;
}

int imsva_va_release(imsva_app *app, store *st, int64_t msg_id, ctd_err *err)
{
	imsva_va_state va;
	if (imsva_va_state_get(st, msg_id, &va, err) < 0)
		return -1;
	if (va.status != IMSVA_VA_PENDING)
		return ctd_fail(err, CTD_ENOTFOUND, "message %" PRId64 " is not in the VA queue",
				msg_id);
	return va_finish(app, st, msg_id, "released", -1, err);
}
