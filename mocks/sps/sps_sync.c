/* sps_sync.c - the suspicious-object subscription (Smart Protection >
 * Suspicious Objects): a worker thread pulls the DTAS-style SO feed of the
 * configured source (TMCM, or a DDAN directly) on an interval and whenever
 * "Sync now" asks, applies the incremental changes (removed = delete) in short
 * transactions, and records the cursor, last sync time, the last sync that
 * brought changes (time and change number) and errors in sps_sync_state.
 * The pull itself, a full sync (cursor 0) through an index-free twin of the
 * list included, is common/so_sync.h's: lookups see the old list until the
 * pull is complete, never half of the new.
 * Network calls never run on the event loop. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "sps.h"
#include "store.h"
#include "util.h"
#include "worker.h"
#include "metrics.h"
#include "so_sync.h"

static struct {
	pthread_mutex_t mu;  /* guards reset_requested and last_duration_ms */
	worker *worker;      /* NULL: no source configured */
	int reset_requested; /* the next run starts from an empty list */
	int64_t last_duration_ms; /* of the last sync that succeeded */
	int configured;
	int registered;
	char *source, *url;
	int64_t interval_ms;
	dtas_client client;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- applying a pull ---- */

/* The cursor and the sync's figures move with the objects, in the pull's
 * last transaction; expired objects are dropped there too. */
static int state_advance(store *st, int64_t cursor, long changes, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"UPDATE sps_sync_state SET cursor = ?1, last_sync_ms = ?2,"
		" last_success_ms = ?2, last_error = '', last_changes = ?3,"
		" last_change_ms = CASE WHEN ?3 > 0 THEN ?2 ELSE last_change_ms END,"
		" change_number = CASE WHEN ?3 > 0 THEN ?1 ELSE change_number END,"
		" syncs = syncs + 1 WHERE id = 1",
		err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, cursor);
	sqlite3_bind_int64(s, 2, time_now_ms());
	sqlite3_bind_int64(s, 3, changes);
	if (store_step_done(st, s, err) != 0)
		return -1;
	s = store_stmt(st, "DELETE FROM sps_objects WHERE expires_ms != 0 AND expires_ms <= ?1",
		       err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, time_now_ms());
	return store_step_done(st, s, err);
}

static const so_sync_list sps_list = {
	.table = "sps_objects",
	.twin = SPS_SO_TWIN,
	.key = "hkey",
	.append = sps_so_load,
	.apply = sps_so_apply,
	.remove_older = sps_so_remove_older,
	.finish = state_advance,
};

static int state_cursor(store *st, int64_t *cursor, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT cursor FROM sps_sync_state WHERE id = 1", err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	*cursor = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
		       ? 0
		       : ctd_fail(err, CTD_ESTORE, "sync state: %s", sqlite3_errmsg(store_db(st)));
}

static void record_failure(store *st, const char *msg)
{
	ctd_err err;
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE sps_sync_state SET last_sync_ms = ?1, last_error = ?2"
				     " WHERE id = 1",
				     &err);
	if (!s)
		return;
	sqlite3_bind_int64(s, 1, time_now_ms());
	sqlite3_bind_text(s, 2, msg, -1, SQLITE_TRANSIENT);
	store_step_done(st, s, &err);
}

long sps_sync_once(const dtas_client *c, const char *source, const char *url, ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return -1;
	int64_t cursor, start;
	if (state_cursor(st, &cursor, err) != 0)
		return -1;
	start = cursor;
	int64_t started_ms = time_mono_ms();
	long n = so_sync_pull(&sps_list, st, c, &cursor, err);
	json_t *detail;
	/* The timeline gets a failure once per distinct error, not every interval. */
	static char last_failure[sizeof err->msg];
	metrics_sync_result(source, n >= 0);
	if (n < 0) {
		record_failure(st, err->msg);
		log_warn("sync.failed", "source=%s url=%s error=\"%s\"", source, url, err->msg);
		if (strcmp(last_failure, err->msg) == 0)
			return n;
		snprintf(last_failure, sizeof last_failure, "%s", err->msg);
		detail = json_pack("{s:s, s:s, s:s}", "source", source, "url", url, "error", err->msg);
		events_append(st, "sps", "sync.failed", url, detail, NULL);
	} else {
		pthread_mutex_lock(&S.mu);
		S.last_duration_ms = time_mono_ms() - started_ms;
		pthread_mutex_unlock(&S.mu);
		int recovered = last_failure[0] != '\0';
		last_failure[0] = '\0';
		/* quiet intervals stay off the timeline and the info log */
		if (n == 0 && !recovered) {
			log_debug("sync.done", "source=%s changes=0 cursor=%lld", source,
				  (long long)cursor);
			return n;
		}
		log_info("sync.done", "source=%s changes=%ld cursor=%lld", source, n,
			 (long long)cursor);
		detail = json_pack("{s:s, s:s, s:I, s:I, s:I}", "source", source, "url", url,
				   "changes", (json_int_t)n, "from_cursor", (json_int_t)start,
				   "cursor", (json_int_t)cursor);
		events_append(st, "sps", "sync.done", url, detail, NULL);
	}
	json_decref(detail);
	return n;
}

/* Drop the local list and start the subscription over from cursor 0. */
static int subscription_reset(store *st, const char *reason, ctd_err *err)
{
	if (store_begin(st, err) != 0)
		return -1;
	if (sps_so_clear(st, err) != 0)
		goto fail;
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE sps_sync_state SET source = ?1, url = ?2, cursor = 0,"
				     " last_sync_ms = 0, last_success_ms = 0, last_error = '',"
				     " last_changes = 0, last_change_ms = 0, change_number = 0,"
				     " syncs = 0 WHERE id = 1",
				     err);
	if (!s)
		goto fail;
	sqlite3_bind_text(s, 1, S.source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, S.url, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) != 0)
		goto fail;
	if (store_commit(st, err) != 0)
		goto fail;
	json_t *detail = json_pack("{s:s, s:s, s:s}", "source", S.source, "url", S.url, "reason",
				   reason);
	events_append(st, "sps", "sync.subscribed", S.url, detail, NULL);
	json_decref(detail);
	log_info("sync.subscribed", "source=%s url=%s reason=\"%s\"", S.source,
		 *S.url ? S.url : "(none)", reason);
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* A new source (or none) starts a new subscription: drop the old list. */
static int adopt_source(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT source, url FROM sps_sync_state WHERE id = 1", err);
	if (!s)
		return -1;
	int same = 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		same = strcmp((const char *)sqlite3_column_text(s, 0), S.source) == 0 &&
		       strcmp((const char *)sqlite3_column_text(s, 1), S.url) == 0;
	sqlite3_reset(s);
	return same ? 0 : subscription_reset(st, "new source", err);
}

/* ---- the worker ---- */

/* Register as a DTAS client (TMCM lists SPS among its products; a DDAN among
 * its submitters). Best effort: a source that does not know the call still
 * serves its feed, and a wrong key shows in the pull's error. */
static void ensure_registered(void)
{
	ctd_err err;
	if (S.registered)
		return;
	if (dtas_register(&S.client, &err) == 0) {
		S.registered = 1;
		log_info("sync.registered", "source=%s url=%s", S.source, S.url);
	} else {
		log_warn("sync.register_failed", "source=%s url=%s error=\"%s\"", S.source, S.url,
			 err.msg);
	}
}

static int64_t sync_job(void *arg)
{
	pthread_mutex_lock(&S.mu);
	int reset = S.reset_requested;
	S.reset_requested = 0;
	pthread_mutex_unlock(&S.mu);
	ctd_err err;
	store *st = reset ? store_get(&err) : NULL;
	if (reset && (!st || subscription_reset(st, "local list deleted", &err) != 0)) {
		log_warn("sync.reset_failed", "error=\"%s\"", err.msg);
		return -1;
	}
	ensure_registered();
	sps_sync_once(&S.client, S.source, S.url, &err);
	return -1;
}

int sps_sync_start(const sps_config *cfg, ctd_err *err)
{
	int ddan = strcmp(cfg->so_source, "ddan") == 0;
	const char *url = ddan ? cfg->ddan_url : cfg->tmcm_url;
	const char *key = ddan ? cfg->ddan_api_key : cfg->tmcm_api_key;
	store *st = store_get(err);
	if (!st)
		return -1;

	S.source = xstrdup(cfg->so_source);
	S.url = xstrdup(url);
	S.interval_ms = cfg->sync_interval_ms;
	S.configured = *url != '\0';
	if (adopt_source(st, err) != 0)
		return -1;
	if (!S.configured) {
		log_info("sync.off", "reason=\"no %s_url configured\"", S.source);
		return 0;
	}
	char *client_uuid = store_secret(st, "sps", "client_uuid", NULL,
					 (secret_kind){SECRET_UUID, 0}, err);
	if (!client_uuid)
		return -1;
	dtas_client_init(&S.client, &(dtas_client_spec){
		.base_url = url,
		.api_key = key,
		.client_uuid = client_uuid,
		.product_name = "SPS",
		.source_id = "1",
		.source_name = "Smart Protection Server",
		.http = {.timeout_ms = (long)cfg->sync_timeout_ms, .verify_tls = cfg->verify_tls,
			 .retries = 1},
	});
	free(client_uuid);
	S.worker = worker_start("sps sync", S.interval_ms, sync_job, NULL, err);
	return S.worker ? 0 : -1;
}

void sps_sync_stop(void)
{
	worker_stop(S.worker);
	S.worker = NULL;
	dtas_client_free(&S.client);
	free(S.source);
	free(S.url);
	S.source = S.url = NULL;
}

int sps_sync_now(int reset, long timeout_ms, ctd_err *err)
{
	if (!S.worker)
		return ctd_fail(err, CTD_ECONFLICT, "no SO source configured (set tmcm_url or ddan_url)");
	pthread_mutex_lock(&S.mu);
	S.reset_requested |= reset;
	pthread_mutex_unlock(&S.mu);
	uint64_t ticket = worker_wake(S.worker);
	return timeout_ms > 0 ? worker_wait(S.worker, ticket, timeout_ms, err) : 0;
}

static int count_record(const so_record *r, void *cls)
{
	(*(long *)cls)++;
	return 0;
}

json_t *sps_sync_test(ctd_err *err)
{
	if (!S.worker)
		return ctd_fail(err, CTD_ECONFLICT, "no SO source configured (set tmcm_url or ddan_url)"),
		       NULL;
	if (strcmp(S.source, "ddan") == 0 && dtas_register(&S.client, err) != 0)
		return NULL;
	/* Ask for one page after the current cursor: proves reachability, the API
	 * key and the feed format without changing anything. */
	store *st = store_get(err);
	int64_t cursor, last_id = 0;
	if (!st || state_cursor(st, &cursor, err) != 0)
		return NULL;
	char hdr[64];
	snprintf(hdr, sizeof hdr, "X-DTAS-LastQueryID: %lld", (long long)cursor);
	const char *extra[] = {hdr, NULL};
	http_response resp = {0};
	if (dtas_call(&S.client, "GET", "get_black_lists", extra, NULL, 0, NULL, 0, &resp, err) != 0)
		return NULL;
	json_t *out = NULL;
	long pending = 0;
	int more = 0;
	if (resp.status != 200)
		/* EIO (502), not EAUTH: the console user's credentials were fine */
		ctd_fail(err, CTD_EIO, "%s answered HTTP %ld%s", S.url, resp.status,
			 resp.status == 401 || resp.status == 403 ? " (check the API key)" : "");
	else if (sofeed_parse(resp.body.data, resp.body.len, count_record, &pending, &last_id,
			      &more, err) == 0)
		out = json_pack("{s:b, s:s, s:s, s:I, s:b}", "ok", 1, "source", S.source, "url",
				S.url, "pending", (json_int_t)pending, "more", more);
	http_response_free(&resp);
	return out;
}

/* What the console shows as the subscription's Status. */
static const char *subscription_status(json_t *status)
{
	if (!json_is_true(json_object_get(status, "subscribed")))
		return "not_configured";
	if (*json_string_value(json_object_get(status, "last_error")))
		return "error";
	return json_is_null(json_object_get(status, "last_success")) ? "waiting" : "ok";
}

json_t *sps_sync_status(ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return NULL;
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT cursor, last_sync_ms, last_success_ms, last_error,"
				     " last_changes, syncs, last_change_ms, change_number"
				     " FROM sps_sync_state WHERE id = 1",
				     err);
	if (!s)
		return NULL;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		ctd_fail(err, CTD_ESTORE, "no sync state row");
		return NULL;
	}
	int64_t last_sync = sqlite3_column_int64(s, 1), last_ok = sqlite3_column_int64(s, 2);
	int64_t last_change = sqlite3_column_int64(s, 6);
	char t1[32] = "", t2[32] = "", t3[32] = "";
	if (last_sync)
		time_iso8601(last_sync, t1, sizeof t1);
	if (last_ok)
		time_iso8601(last_ok, t2, sizeof t2);
	if (last_change)
		time_iso8601(last_change, t3, sizeof t3);
	worker_status ws = {0};
	if (S.worker)
		worker_get_status(S.worker, &ws);
	json_t *out = json_pack(
		"{s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:I, s:o, s:s, s:I, s:I}", "source",
		S.source ? S.source : "", "url", S.url ? S.url : "", "subscribed", S.configured,
		"syncing", ws.running, "interval_s", (json_int_t)(S.interval_ms / 1000), "cursor",
		(json_int_t)sqlite3_column_int64(s, 0), "last_sync",
		last_sync ? json_string(t1) : json_null(), "last_sync_ms", (json_int_t)last_sync,
		"last_success", last_ok ? json_string(t2) : json_null(), "last_error",
		(const char *)sqlite3_column_text(s, 3), "last_changes",
		(json_int_t)sqlite3_column_int64(s, 4), "syncs",
		(json_int_t)sqlite3_column_int64(s, 5));
	/* the last sync that brought changes: the proof a change arrived (the
	 * sync time moves on every poll) */
	json_object_set_new(out, "last_change", last_change ? json_string(t3) : json_null());
	json_object_set_new(out, "last_change_ms", json_integer(last_change));
	json_object_set_new(out, "change_number", json_integer(sqlite3_column_int64(s, 7)));
	sqlite3_reset(s);
	pthread_mutex_lock(&S.mu);
	json_object_set_new(out, "last_sync_duration_ms", json_integer(S.last_duration_ms));
	pthread_mutex_unlock(&S.mu);
	json_object_set_new(out, "status", json_string(subscription_status(out)));
	json_t *counts = sps_so_counts(err);
	if (!counts) {
		json_decref(out);
		return NULL;
	}
	json_object_set(out, "object_count", json_object_get(counts, "total"));
	json_object_set_new(out, "objects", counts);
	return out;
}
