/* ddan_engine.c - the Virtual Analyzer's worker: samples go Arrived →
 * Processing (for `analysis_time`) → Done | Error | Timeout; on completion the
 * verdict, the report data and the suspicious objects are committed in one
 * transaction. It also expires suspicious objects when their time comes. */
#include "ddan.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

#define SWEEP_MS 1000

struct ddan_engine {
	ddan_app *app;
	worker *worker;
	int64_t next_sweep; /* the worker's */
};

/* Arrived → Processing, due after the analysis time. */
static int start_arrived(ddan_engine *e, store *st, int64_t now, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddan_samples SET status = 3, started_ms = ?1, due_ms = ?2 "
				     "WHERE status = 2 RETURNING sha1",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, now + e->app->cfg->analysis_time);
	json_t *started = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(started, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_reset(s);
	size_t i;
	json_t *v;
	json_array_foreach(started, i, v) events_append(st, DDAN_NS, "sample.processing",
							json_string_value(v), NULL, NULL);
	json_decref(started);
	return rc == SQLITE_DONE ? 0 : ctd_fail(err, CTD_ESTORE, "start: %s", sqlite3_errmsg(store_db(st)));
}

/* The SOs one finished analysis yields (see docs/ddan.md "Suspicious objects"). */
static int record_sos(ddan_app *app, store *st, const char *sha1, int sample_type, json_t *res,
		      int64_t now, ctd_err *err)
{
	int64_t exp = app->cfg->so_expiry;
	int overall = (int)json_integer_value(json_object_get(res, "risk"));
	size_t i;
	json_t *o;
	if (sample_type == 0) {
		if (overall == 3 && ddan_so_record(st, "FILE", sha1, "High", sha1, now, exp, err) != 0)
			return -1;
		json_array_foreach(json_object_get(res, "objects"), i, o)
		{
			const char *osha1 = json_string_value(json_object_get(o, "sha1"));
			if (i > 0 && json_integer_value(json_object_get(o, "risk")) == 3 &&
			    ddan_so_record(st, "FILE", osha1, "High", sha1, now, exp, err) != 0)
				return -1;
		}
	}
	if (overall < 2)
		return 0;
	json_array_foreach(json_object_get(res, "urls"), i, o)
	{
		int ur = (int)json_integer_value(json_object_get(o, "risk"));
		if (ur == 0 || ur == 1) /* rated clean or low by a URL rule */
			continue;
		const char *risk = ur == 3 ? "High" : "Medium";
		const char *host = json_string_value(json_object_get(o, "host"));
		if (ddan_so_record(st, "URL", json_string_value(json_object_get(o, "url")), risk, sha1, now,
				   exp, err) != 0)
			return -1;
		if (host && *host &&
		    ddan_so_record(st, ddan_host_is_ip(host) ? "IP" : "DOMAIN", host, risk, sha1, now, exp,
				   err) != 0)
			return -1;
	}
	return 0;
}

static int complete(ddan_app *app, store *st, const char *sha1, int sample_type, json_t *res,
		    ctd_err *err)
{
	int64_t now = time_now_ms();
	int status = (int)json_integer_value(json_object_get(res, "status"));
	int risk = (int)json_integer_value(json_object_get(res, "risk"));
	char *text = json_dumps(res, JSON_COMPACT);
	if (store_begin(st, err) != 0) {
		free(text);
		return -1;
	}
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddan_samples SET status = ?2, risk = ?3, true_type = ?4, "
				     "virus_name = ?5, result = ?6, completed_ms = ?7 "
				     "WHERE sha1 = ?1 AND status = 3",
				     err);
	int rc = s ? 0 : -1;
	if (rc == 0) {
		sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, status);
		sqlite3_bind_int(s, 3, status == DDAN_DONE ? risk : -1);
		sqlite3_bind_text(s, 4, json_string_value(json_object_get(res, "true_type")), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, json_string_value(json_object_get(res, "virus_name")), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, now);
		rc = store_step_done(st, s, err);
	}
	int changed = rc == 0 && sqlite3_changes(store_db(st)) > 0;
	if (changed && status == DDAN_DONE)
		rc = record_sos(app, st, sha1, sample_type, res, now, err);
	if (changed && rc == 0) {
		static const char *const kinds[] = {"sample.done", "sample.error", "sample.timeout"};
		json_t *d = json_pack("{s:i, s:i, s:s, s:s}", "status", status, "risk", risk, "virus_name",
				      json_string_value(json_object_get(res, "virus_name")), "true_type",
				      json_string_value(json_object_get(res, "true_type")));
		rc = events_append(st, DDAN_NS, kinds[status - DDAN_DONE], sha1, d, err) < 0 ? -1 : 0;
		json_decref(d);
	}
	free(text);
	if (rc == 0 && store_commit(st, err) == 0) {
		if (changed)
			log_info("sample.completed", "sha1=%s status=%d risk=%d", sha1, status, risk);
		return 0;
	}
	store_rollback(st);
	return -1;
}

/* The crash-safe mark, committed before the analysis runs: 1 when this call
 * set it, 0 when an earlier analysis of the sample set it and never finished
 * (so this one must not run), -1 on a store error. */
static int mark_attempted(store *st, const char *sha1, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddan_samples SET attempted_ms = ?2 "
				     "WHERE sha1 = ?1 AND status = 3 AND attempted_ms = 0",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, time_now_ms());
	if (store_step_done(st, s, err) != 0)
		return -1;
	return sqlite3_changes(store_db(st)) > 0;
}

/* The row the analysis needs, copied out so that no read transaction stays
 * open while it runs (an open reader holds WAL checkpoints back). */
typedef struct sample_row {
	int type, has_data;
	char *name, *password;
	sbuf data;
} sample_row;

/* The sample's analysis, or the error result when it must not run. */
static json_t *analyze_row(ddan_engine *e, const char *sha1, const sample_row *r, int attempt)
{
	if (!attempt) {
		log_error("sample.analysis_failed", "sha1=%s reason=\"earlier analysis never finished\"",
			  sha1);
		return ddan_error_result("an earlier analysis of this sample stopped the sandbox "
					 "(crash or kill); it is not retried");
	}
	if (!r->has_data)
		return ddan_error_result("the sample file was never uploaded");
	return ddan_analyze(e->app->rules, r->type, r->data.data ? r->data.data : "", r->data.len,
			    r->name, r->password);
}

/* Analyse one due sample outside any transaction, then complete it. */
static int finish_one(ddan_engine *e, store *st, const char *sha1, ctd_err *err)
{
	int attempt = mark_attempted(st, sha1, err);
	if (attempt < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT sample_type, orig_name, archive_password, data "
				     "FROM ddan_samples WHERE sha1 = ?1 AND status = 3",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return 0;
	}
	sample_row r = {.type = sqlite3_column_int(s, 0),
			.has_data = sqlite3_column_type(s, 3) != SQLITE_NULL,
			.name = xstrdup((const char *)sqlite3_column_text(s, 1)),
			.password = xstrdup((const char *)sqlite3_column_text(s, 2))};
	if (r.has_data)
		sbuf_append(&r.data, sqlite3_column_blob(s, 3) ? sqlite3_column_blob(s, 3) : "",
			    (size_t)sqlite3_column_bytes(s, 3));
	sqlite3_reset(s);
	json_t *res = analyze_row(e, sha1, &r, attempt);
	int rc = complete(e->app, st, sha1, r.type, res, err);
	json_decref(res);
	sbuf_free(&r.data);
	free(r.name);
	free(r.password);
	return rc;
}

static int finish_due(ddan_engine *e, store *st, int64_t now, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT sha1 FROM ddan_samples WHERE status = 3 AND due_ms <= ?1 "
				     "ORDER BY due_ms LIMIT 64",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	json_t *due = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(due, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_reset(s);
	int rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach(due, i, v)
	{
		if (finish_one(e, st, json_string_value(v), err) != 0) {
			log_error("sample.complete_failed", "sha1=%s error=\"%s\"", json_string_value(v),
				  err->msg);
			rc = -1;
		}
	}
	json_decref(due);
	return rc;
}

/* When the next Processing sample is due (or `fallback`). */
static int64_t next_due(store *st, int64_t fallback)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT MIN(due_ms) FROM ddan_samples WHERE status = 3", NULL);
	int64_t due = fallback;
	if (s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(s, 0) < fallback)
		due = sqlite3_column_int64(s, 0);
	if (s)
		sqlite3_reset(s);
	return due;
}

/* One pass; returns when the next Processing sample is due (or the next sweep). */
static int64_t engine_run(void *arg)
{
	ddan_engine *e = arg;
	ctd_err err = {0};
	store *st = store_get(&err);
	if (!st) {
		log_error("engine.store", "error=\"%s\"", err.msg);
		return -1;
	}
	int64_t now = time_now_ms();
	if (start_arrived(e, st, now, &err) != 0)
		log_error("engine.start", "error=\"%s\"", err.msg);
	finish_due(e, st, now, &err);
	if (now >= e->next_sweep) {
		if (ddan_so_expire_due(st, now, &err) < 0)
			log_error("so.expire_failed", "error=\"%s\"", err.msg);
		e->next_sweep = now + SWEEP_MS;
	}
	int64_t wait = next_due(st, e->next_sweep) - time_now_ms();
	return wait > 0 ? wait : 0;
}

ddan_engine *ddan_engine_start(ddan_app *app, ctd_err *err)
{
	ddan_engine *e = xcalloc(1, sizeof *e);
	e->app = app;
	e->worker = worker_start("ddan engine", SWEEP_MS, engine_run, e, err);
	if (!e->worker) {
		free(e);
		return NULL;
	}
	return e;
}

void ddan_engine_kick(ddan_engine *e)
{
	if (e)
		worker_wake(e->worker);
}

void ddan_engine_stop(ddan_engine *e)
{
	if (!e)
		return;
	worker_stop(e->worker);
	free(e);
}
