/* imsva_tmcm.c - the Control Manager connection (Administration > IMSVA
 * Configuration > Connections > Control Manager Server): IMSVA registers
 * with TMCM as a DTAS client (product IMSVA), heartbeats with
 * test_connection, and pulls TMCM's suspicious-object feed incrementally
 * (X-DTAS-LastQueryID cursor) on an interval and on "Sync now" into its own
 * table imsva_so. Lookups are by a 64-bit hash of type+value, a unique index:
 * one seek whatever the table size. The pull itself is common/so_sync.h's:
 * a full sync (cursor 0) appends into an index-free twin that replaces the
 * table in one commit, so a million objects take seconds and readers never
 * see half a list; no lock is held while waiting on the network. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "imsva_app.h"
#include "log.h"
#include "sofeed.h"
#include "util.h"
#include "metrics.h"
#include "so_content.h"
#include "so_sync.h"

#define SO_TWIN "imsva_so_next"

struct imsva_tmcm {
	imsva_app *app;
	dtas_client client;
	worker *sync_worker, *heartbeat_worker;
	pthread_mutex_t lock;
	int registered, online;
	int64_t last_heartbeat_ms, last_sync_ms, last_sync_records, last_sync_ms_taken;
	int last_sync_full;
	/* the last sync that brought changes, and the change number (feed
	 * cursor) it reached: what the console's Control Manager page shows */
	int64_t last_change_ms, last_change_number;
	char last_error[256];
	/* the stored cursor the sync record above goes with (-1: none yet): a
	 * sync sets it to the cursor it starts from, then to the one it
	 * recorded; a stored cursor that differs is a sync committed but not
	 * yet recorded */
	int64_t recorded_cursor;
};

/* ---- the SO table ---- */

static imsva_so_action action_parse(const char *a)
{
	if (!a || !*a || !strcasecmp(a, "log"))
		return IMSVA_SO_LOG;
	if (!strcasecmp(a, "block"))
		return IMSVA_SO_BLOCK;
	if (!strcasecmp(a, "quarantine"))
		return IMSVA_SO_QUARANTINE;
	return IMSVA_SO_LOG;
}

imsva_so_action imsva_so_lookup(store *st, const char *type, const char *value)
{
	ctd_err err = {0};
	sqlite3_stmt *s = store_stmt(st,
		"SELECT type, value, action, expires_ms FROM imsva_so WHERE hkey = ?", &err);
	if (!s)
		return IMSVA_SO_NONE;
	sqlite3_bind_int64(s, 1, so_content_key(type, value));
	imsva_so_action a = IMSVA_SO_NONE;
	if (sqlite3_step(s) == SQLITE_ROW) {
		int64_t exp = sqlite3_column_int64(s, 3);
		if (!strcasecmp((const char *)sqlite3_column_text(s, 0), type)
		    && !strcmp((const char *)sqlite3_column_text(s, 1), value)
		    && (exp == 0 || exp > time_now_ms()))
			a = action_parse((const char *)sqlite3_column_text(s, 2));
	}
	sqlite3_reset(s);
	return a;
}

/* {"FILE": n, "URL": n, ...} */
static json_t *so_count_by_type(store *st)
{
	ctd_err err = {0};
	json_t *o = json_object();
	sqlite3_stmt *s = store_stmt(st, "SELECT type, count(*) FROM imsva_so GROUP BY type", &err);
	if (!s)
		return o;
	while (sqlite3_step(s) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(s, 0),
				    json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_reset(s);
	return o;
}

int64_t imsva_so_count(store *st)
{
	ctd_err err = {0};
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM imsva_so", &err);
	if (!s)
		return -1;
	int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return n;
}

/* Bind an object's columns as ?1..?8 (hkey, type, value, action, risk,
 * source, expires_ms, feed_id); type is the upper-case spelling. */
static void so_bind(sqlite3_stmt *s, const so_record *r, const char *type)
{
	sqlite3_bind_int64(s, 1, so_content_key(type, r->value));
	sqlite3_bind_text(s, 2, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, r->value, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, *r->action ? r->action : "log", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->risk, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->source ? r->source : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, r->expires_ms);
	sqlite3_bind_int64(s, 8, r->id);
}

static void upper_type(const so_record *r, char type[8])
{
	snprintf(type, 8, "%s", r->type);
	str_upper(type);
}

int imsva_so_apply(store *st, const so_record *r, ctd_err *err)
{
	char type[8];
	upper_type(r, type);
	sqlite3_stmt *s;
	if (r->removed) {
		s = store_stmt(st, "DELETE FROM imsva_so WHERE hkey = ?", err);
		if (!s)
			return -1;
		sqlite3_bind_int64(s, 1, so_content_key(type, r->value));
		return store_step_done(st, s, err);
	}
	s = store_stmt(st,
		"INSERT INTO imsva_so (hkey, type, value, action, risk, source, expires_ms, feed_id)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(hkey) DO UPDATE SET type = excluded.type,"
		" value = excluded.value, action = excluded.action, risk = excluded.risk,"
		" source = excluded.source, expires_ms = excluded.expires_ms, feed_id = excluded.feed_id",
		err);
	if (!s)
		return -1;
	so_bind(s, r, type);
	return store_step_done(st, s, err);
}

/* A full sync's removal of an object its twin may hold: only a state older
 * than the removal goes (the object may have come back after it). */
static int so_remove_older(store *st, const so_record *r, ctd_err *err)
{
	char type[8];
	upper_type(r, type);
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM imsva_so WHERE hkey = ?1 AND feed_id < ?2",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, so_content_key(type, r->value));
	sqlite3_bind_int64(s, 2, r->id);
	return store_step_done(st, s, err);
}

/* A full sync's objects into the twin: appends, no index to keep. */
static int so_twin_add(store *st, const so_record *r, size_t n, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO " SO_TWIN " (hkey, type, value, action, risk, source, expires_ms, feed_id)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", err);
	int rc = s ? 0 : -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char type[8];
		upper_type(&r[i], type);
		so_bind(s, &r[i], type);
		rc = store_step_done(st, s, err);
	}
	return rc;
}

/* The feed cursor moves with the objects, in the pull's last transaction. */
static int cursor_set(store *st, int64_t cursor, long changes, ctd_err *err)
{
	char v[32];
	snprintf(v, sizeof v, "%" PRId64, cursor);
	return store_setting_set(st, "imsva", "tmcm_cursor", v, err);
}

/* ---- sync ---- */

static const so_sync_list imsva_list = {
	.table = "imsva_so",
	.twin = SO_TWIN,
	.key = "hkey",
	.append = so_twin_add,
	.apply = imsva_so_apply,
	.remove_older = so_remove_older,
	.finish = cursor_set,
};

static int64_t cursor_get(store *st)
{
	ctd_err err = {0};
	char *v = store_setting_get(st, "imsva", "tmcm_cursor", &err);
	if (!v && err.code != CTD_ENOTFOUND)
		log_warn("tmcm.cursor_read_failed", "error=\"%s\"", err.msg); /* full sync */
	int64_t c = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return c;
}

/* The last sync that brought changes survives a restart: it is the
 * evidence the console's Control Manager page shows (STEP 2-4 / 3-4). */
static void last_change_save(store *st, int64_t ms, int64_t number)
{
	ctd_err err = {0};
	char a[32], b[32];
	snprintf(a, sizeof a, "%" PRId64, ms);
	snprintf(b, sizeof b, "%" PRId64, number);
	int rc = store_begin(st, &err);
	if (rc == 0)
		rc = store_setting_set(st, "imsva", "tmcm_last_change_ms", a, &err);
	if (rc == 0)
		rc = store_setting_set(st, "imsva", "tmcm_change_number", b, &err);
	if (rc == 0)
		rc = store_commit(st, &err);
	if (rc < 0) {
		store_rollback(st);
		log_warn("tmcm.last_change_save_failed", "error=\"%s\"", err.msg);
	}
}

static int64_t setting_int(store *st, const char *key)
{
	ctd_err err = {0};
	char *v = store_setting_get(st, "imsva", key, &err);
	int64_t n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

static void set_error(imsva_tmcm *t, const char *msg)
{
	pthread_mutex_lock(&t->lock);
	snprintf(t->last_error, sizeof t->last_error, "%s", msg);
	pthread_mutex_unlock(&t->lock);
}

static int ensure_registered(imsva_tmcm *t, store *st)
{
	pthread_mutex_lock(&t->lock);
	int reg = t->registered;
	pthread_mutex_unlock(&t->lock);
	if (reg)
		return 0;
	ctd_err err = {0};
	if (dtas_register(&t->client, &err) < 0) {
		set_error(t, err.msg);
		imsva_log_system(st, "tmcm_unreachable", "register with Control Manager %s failed: %s",
				 t->client.base_url, err.msg);
		return -1;
	}
	pthread_mutex_lock(&t->lock);
	t->registered = 1;
	pthread_mutex_unlock(&t->lock);
	imsva_log_system(st, "tmcm_registered", "registered with Control Manager %s as %s",
			 t->client.base_url, t->client.client_uuid);
	return 0;
}

static int64_t sync_run(void *arg)
{
	imsva_tmcm *t = arg;
	ctd_err err = {0};
	store *st = imsva_store(&err);
	if (!st || ensure_registered(t, st) < 0)
		return IMSVA_JOB_INTERVAL;
	int64_t started = time_mono_ms();
	int64_t cursor = cursor_get(st);
	int full = cursor == 0;
	pthread_mutex_lock(&t->lock);
	t->recorded_cursor = cursor;
	pthread_mutex_unlock(&t->lock);
	long n = so_sync_pull(&imsva_list, st, &t->client, &cursor, &err);
	metrics_sync_result("tmcm", n >= 0);
	if (n < 0) {
		set_error(t, err.msg);
		imsva_log_system(st, "tmcm_sync_failed", "SO sync from %s failed: %s",
				 t->client.base_url, err.msg);
		return IMSVA_JOB_INTERVAL;
	}
	int64_t took = time_mono_ms() - started;
	pthread_mutex_lock(&t->lock);
	/* An empty feed keeps the cursor at 0, so every sync is "full": only the
	 * first of a run of empty full syncs changes anything (it empties the
	 * table); the rest would flood the timeline every interval. */
	int repeat_empty = full && n == 0 && t->last_sync_ms > 0 && t->last_sync_full &&
			   t->last_sync_records == 0;
	int changed = (n > 0 || full) && !repeat_empty;
	t->last_sync_ms = time_now_ms();
	t->last_sync_records = n;
	t->last_sync_ms_taken = took;
	t->last_sync_full = full;
	if (changed) {
		t->last_change_ms = t->last_sync_ms;
		t->last_change_number = cursor;
	}
	t->last_error[0] = '\0';
	t->recorded_cursor = cursor;
	pthread_mutex_unlock(&t->lock);
	if (changed) {
		last_change_save(st, t->last_sync_ms, cursor);
		json_t *d = json_pack("{s:I,s:I,s:I,s:b}", "records", (json_int_t)n, "cursor",
				      (json_int_t)cursor, "ms", (json_int_t)took, "full", full);
		events_append(st, "imsva", "sync.done", "tmcm", d, &err);
		json_decref(d);
	}
	log_info("tmcm.sync", "records=%ld cursor=%" PRId64 " ms=%" PRId64, n, cursor, took);
	return IMSVA_JOB_INTERVAL;
}

static int64_t heartbeat_run(void *arg)
{
	imsva_tmcm *t = arg;
	ctd_err err = {0};
	store *st = imsva_store(&err);
	if (!st || ensure_registered(t, st) < 0)
		return IMSVA_JOB_INTERVAL;
	int ok = dtas_test_connection(&t->client, &err) == 0;
	pthread_mutex_lock(&t->lock);
	int was = t->online;
	t->online = ok;
	if (ok)
		t->last_heartbeat_ms = time_now_ms();
	else
		snprintf(t->last_error, sizeof t->last_error, "%s", err.msg);
	pthread_mutex_unlock(&t->lock);
	if (ok != was)
		imsva_log_system(st, ok ? "tmcm_online" : "tmcm_unreachable",
				 "Control Manager %s is %s%s%s", t->client.base_url,
				 ok ? "online" : "unreachable", ok ? "" : ": ", ok ? "" : err.msg);
	return IMSVA_JOB_INTERVAL;
}

imsva_tmcm *imsva_tmcm_start(imsva_app *app, ctd_err *err)
{
	imsva_tmcm *t = xcalloc(1, sizeof *t);
	t->app = app;
	t->recorded_cursor = -1;
	pthread_mutex_init(&t->lock, NULL);
	const imsva_config *cfg = app->cfg;
	if (!cfg->tmcm_url || !*cfg->tmcm_url)
		return t; /* integration off */
	store *st = imsva_store(err);
	if (st) {
		t->last_change_ms = setting_int(st, "tmcm_last_change_ms");
		t->last_change_number = setting_int(st, "tmcm_change_number");
	}
	char *uuid = st ? store_secret(st, "imsva", "tmcm_client_uuid", NULL,
				       (secret_kind){SECRET_UUID, 0}, err)
			: NULL;
	if (!uuid) {
		imsva_tmcm_stop(t);
		return NULL;
	}
	dtas_client_init(&t->client, &(dtas_client_spec){
		.base_url = cfg->tmcm_url, .api_key = cfg->tmcm_api_key ? cfg->tmcm_api_key : "",
		.client_uuid = uuid, .product_name = "IMSVA", .source_id = "103",
		.source_name = "IMSVA", .hostname = cfg->hostname,
		.http = {.timeout_ms = 10000, .retries = 1}});
	free(uuid);
	t->sync_worker = worker_start("tmcm-sync", cfg->tmcm_sync_interval, sync_run, t, err);
	t->heartbeat_worker = t->sync_worker ? worker_start("tmcm-heartbeat",
			cfg->tmcm_heartbeat_interval, heartbeat_run, t, err) : NULL;
	if (!t->heartbeat_worker) {
		imsva_tmcm_stop(t);
		return NULL;
	}
	return t;
}

void imsva_tmcm_sync_now(imsva_tmcm *t)
{
	if (t->sync_worker) /* integration off: nothing to sync */
		worker_wake(t->sync_worker);
}

/* The list as one read transaction sees it: its objects and the cursor
 * committed with them. */
static json_t *list_snapshot(store *st)
{
	store_exec(st, "BEGIN", NULL); /* deferred: the first read takes the snapshot */
	json_t *o = json_object();
	json_object_set_new(o, "objects", json_integer(imsva_so_count(st)));
	json_object_set_new(o, "objects_by_type", so_count_by_type(st));
	json_object_set_new(o, "cursor", json_integer(cursor_get(st)));
	store_exec(st, "COMMIT", NULL);
	return o;
}

/* Whether a snapshot's cursor goes with the sync record in memory (t->lock
 * held). A sync commits its objects and cursor, then records itself: in
 * between, the new objects would be shown with the sync before's record. */
static int goes_with_record(const imsva_tmcm *t, int64_t cursor)
{
	return t->recorded_cursor < 0 || cursor == t->recorded_cursor;
}

/* The list and the record of the sync that made it, with t->lock held; a
 * sync between its commit and its record is waited for (bounded: its
 * record follows its commit at once). */
static json_t *list_with_record_locked(imsva_tmcm *t, store *st)
{
	for (int tries = 0;; tries++) {
		json_t *list = list_snapshot(st);
		int64_t cursor = json_integer_value(json_object_get(list, "cursor"));
		pthread_mutex_lock(&t->lock);
		if (goes_with_record(t, cursor) || tries == 200)
			return list;
		pthread_mutex_unlock(&t->lock);
		json_decref(list);
		usleep(1000);
	}
}

json_t *imsva_tmcm_status(imsva_tmcm *t, store *st)
{
	json_t *o = json_object();
	int enabled = t->client.base_url != NULL;
	json_object_set_new(o, "enabled", json_boolean(enabled));
	json_object_set_new(o, "server", json_string(enabled ? t->client.base_url : ""));
	json_t *list = list_with_record_locked(t, st);
	json_object_set_new(o, "registered", json_boolean(t->registered));
	json_object_set_new(o, "status", json_string(!enabled ? "disabled"
						     : t->online ? "online" : "offline"));
	if (enabled)
		json_object_set_new(o, "client_uuid", json_string(t->client.client_uuid));
	char ts[32];
	if (t->last_sync_ms) {
		time_iso8601(t->last_sync_ms, ts, sizeof ts);
		json_object_set_new(o, "last_sync", json_string(ts));
		json_object_set_new(o, "last_sync_ms", json_integer(t->last_sync_ms));
		json_object_set_new(o, "last_sync_records", json_integer(t->last_sync_records));
		json_object_set_new(o, "last_sync_duration_ms", json_integer(t->last_sync_ms_taken));
		json_object_set_new(o, "last_sync_full", json_boolean(t->last_sync_full));
	} else {
		json_object_set_new(o, "last_sync", json_null());
	}
	if (t->last_change_ms) {
		time_iso8601(t->last_change_ms, ts, sizeof ts);
		json_object_set_new(o, "last_change", json_string(ts));
		json_object_set_new(o, "last_change_ms", json_integer(t->last_change_ms));
		json_object_set_new(o, "change_number", json_integer(t->last_change_number));
	}
	if (t->last_heartbeat_ms) {
		time_iso8601(t->last_heartbeat_ms, ts, sizeof ts);
		json_object_set_new(o, "last_heartbeat", json_string(ts));
	}
	if (t->last_error[0])
		json_object_set_new(o, "last_error", json_string(t->last_error));
	pthread_mutex_unlock(&t->lock);
	json_object_update(o, list);
	json_decref(list);
	return o;
}

void imsva_tmcm_stop(imsva_tmcm *t)
{
	if (!t)
		return;
	worker_stop(t->sync_worker);
	worker_stop(t->heartbeat_worker);
	dtas_client_free(&t->client);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
