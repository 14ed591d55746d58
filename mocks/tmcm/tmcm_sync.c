/* tmcm_sync.c - the worker thread that keeps the Virtual Analyzer Objects list
 * current: it registers with DDAN and each configured DDI as a DTAS client and
 * pulls their SO feeds incrementally (one persisted cursor per source) every
 * sync_interval and whenever "Sync now" asks. Network calls happen only here,
 * never on an HTTP handler thread. */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "worker.h"
#include "util.h"
#include "tmcm.h"
#include "metrics.h"

#define MAX_SOURCES 8
#define APPLY_BATCH 500

typedef struct source_cfg {
	char name[16];
	dtas_client client; /* base_url and api_key: the source's */
	int link;           /* LINK_*: how the last pull of this run went */
} source_cfg;

/* A source's link since this start (read by /healthz on HTTP threads). */
enum { LINK_CONNECTING, LINK_ONLINE, LINK_ABNORMAL };

static void note_link(source_cfg *c, int ok)
{
	__atomic_store_n(&c->link, ok ? LINK_ONLINE : LINK_ABNORMAL, __ATOMIC_RELAXED);
}

struct tmcm_syncer {
	tmcm_app *app;
	worker *worker;
	int nsources;
	source_cfg src[MAX_SOURCES];
};

/* ---- configuration -------------------------------------------------------- */

/* Item i of a comma-separated list (trimmed, malloc'd), or NULL past the end. */
static char *list_item(const char *list, int i)
{
	const char *p = list;
	for (; i > 0 && p; i--) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, ",");
	while (n && p[n - 1] == ' ')
		n--;
	return n ? xstrndup(p, n) : NULL;
}

static void add_source(tmcm_syncer *s, const char *name, char *url, char *key)
{
	if (s->nsources == MAX_SOURCES) {
		log_warn("sync.too_many_sources", "ignored=%s", url);
		free(url);
		free(key);
		return;
	}
	const tmcm_app *app = s->app;
	source_cfg *c = &s->src[s->nsources++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	dtas_client_init(&c->client, &(dtas_client_spec){
		.base_url = url,
		.api_key = key ? key : "",
		.client_uuid = app->client_uuid,
		.product_name = "TMCM",
		.hostname = app->hostname,
		.source_id = "4",
		.source_name = "Control Manager",
		.http = {.timeout_ms = (long)app->cfg->peer_timeout, .verify_tls = 0, .retries = 1},
	});
	free(url);
	free(key);
}

static void configure_sources(tmcm_syncer *s, const tmcm_config *cfg)
{
	if (cfg->ddan_url[0])
		add_source(s, "DDAN", xstrdup(cfg->ddan_url), xstrdup(cfg->ddan_api_key));
	char *url, *key = NULL;
	for (int i = 0; (url = list_item(cfg->ddi_url, i)); i++) {
		char name[16], *k = list_item(cfg->ddi_api_key, i);
		if (k) {
			free(key);
			key = k;
		}
		if (i == 0)
			snprintf(name, sizeof(name), "DDI");
		else
			snprintf(name, sizeof(name), "DDI-%d", i + 1);
		add_source(s, name, url, key ? xstrdup(key) : NULL);
	}
	free(key);
}

/* ---- source rows ------------------------------------------------------------ */

/* Make the row exist for this URL; a new URL starts over (cursor 0). */
static int source_row(store *st, const source_cfg *c, int64_t *cursor, int *registered,
		      ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_sources (name, url) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE"
		" SET url = ?2, cursor = CASE WHEN url = ?2 THEN cursor ELSE 0 END,"
		" registered_ms = CASE WHEN url = ?2 THEN registered_ms ELSE 0 END"
		" RETURNING cursor, registered_ms", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, c->client.base_url, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*cursor = sqlite3_column_int64(s, 0);
		*registered = sqlite3_column_int64(s, 1) > 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return ctd_fail(err, CTD_ESTORE, "source row: %s", sqlite3_errmsg(store_db(st)));
	return 0;
}

static void source_update(store *st, const char *name, const char *sql, int64_t a, int64_t b,
			  const char *text)
{
	ctd_err err;
	sqlite3_stmt *s = store_stmt(st, sql, &err);
	if (s) {
		/* statements use a prefix of ?1..?4 (name, two numbers, a text) */
		int n = sqlite3_bind_parameter_count(s);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, a);
		if (n >= 3)
			sqlite3_bind_int64(s, 3, b);
		if (n >= 4)
			sqlite3_bind_text(s, 4, text ? text : "", -1, SQLITE_TRANSIENT);
		if (store_step_done(st, s, &err) == 0)
			return;
	}
	log_warn("sync.source_update_failed", "source=%s error=\"%s\"", name, err.msg);
}

#define SET_CURSOR "UPDATE tmcm_sources SET cursor = ?2 WHERE name = ?1"
#define SET_REGISTERED \
	"UPDATE tmcm_sources SET registered_ms = ?2, last_attempt_ms = ?3, last_error = ?4" \
	" WHERE name = ?1"
#define SET_RESULT \
	"UPDATE tmcm_sources SET last_attempt_ms = ?2, last_sync_ms = CASE WHEN ?4 = ''" \
	" THEN ?2 ELSE last_sync_ms END, last_count = CASE WHEN ?4 = '' THEN ?3 ELSE" \
	" last_count END, last_error = ?4, registered_ms = CASE WHEN ?4 = '' THEN" \
	" registered_ms ELSE 0 END WHERE name = ?1"

json_t *tmcm_sources_list(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT name, url, cursor, registered_ms, last_attempt_ms, last_sync_ms, last_count,"
		" last_error FROM tmcm_sources ORDER BY name", err);
	if (!s)
		return NULL;
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		char buf[32];
		static const char *const times[] = {"registered", "last_attempt", "last_sync"};
		json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(s, 0)));
		json_object_set_new(o, "url", json_string((const char *)sqlite3_column_text(s, 1)));
		json_object_set_new(o, "cursor", json_integer(sqlite3_column_int64(s, 2)));
		for (int i = 0; i < 3; i++) {
			int64_t ms = sqlite3_column_int64(s, 3 + i);
			time_iso8601(ms, buf, sizeof(buf));
			json_object_set_new(o, times[i], ms ? json_string(buf) : json_null());
		}
		json_object_set_new(o, "last_sync_ms", json_integer(sqlite3_column_int64(s, 5)));
		json_object_set_new(o, "last_count", json_integer(sqlite3_column_int64(s, 6)));
		const char *e = (const char *)sqlite3_column_text(s, 7);
		json_object_set_new(o, "last_error", e && *e ? json_string(e) : json_null());
		json_array_append_new(arr, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		ctd_fail(err, CTD_ESTORE, "list sources: %s", sqlite3_errmsg(store_db(st)));
		return NULL;
	}
	return arr;
}

/* ---- pulling one source ------------------------------------------------------ */

/* Records are buffered and applied APPLY_BATCH at a time, each batch in one
 * short transaction that also saves the cursor of its last record. The
 * callback runs while a page is parsed, so no transaction ever spans a wait
 * on the network (a slow source must not hold the store's write lock). */
typedef struct apply_ctx {
	store *st;
	const char *source, *default_action;
	so_record buf[APPLY_BATCH];
	int nbuf;
	long applied, rejected;
	json_t *sample; /* the first few values, for the timeline */
} apply_ctx;

#define SAMPLE_VALUES 10

static void buf_clear(apply_ctx *a)
{
	for (int i = 0; i < a->nbuf; i++) {
		free(a->buf[i].value);
		free(a->buf[i].source);
	}
	a->nbuf = 0;
}

static int apply_one(apply_ctx *a, const tmcm_exc_set *exc, const so_record *r, ctd_err *err)
{
	if (tmcm_va_apply(a->st, exc, a->source, a->default_action, r, err) == 0) {
		a->applied++;
		if (json_array_size(a->sample) < SAMPLE_VALUES)
			json_array_append_new(a->sample, json_pack("{s:s, s:s, s:b}", "type", r->type,
								   "value", r->value, "removed",
								   r->removed));
		return 0;
	}
	if (err->code != CTD_EINVAL)
		return -1;
	a->rejected++;
	log_warn("sync.record_rejected", "source=%s id=%lld error=\"%s\"", a->source,
		 (long long)r->id, err->msg);
	return 0;
}

static int flush(apply_ctx *a, ctd_err *err)
{
	if (a->nbuf == 0)
		return 0;
	tmcm_exc_set exc;
	int rc = store_begin(a->st, err);
	if (rc == 0 && (rc = tmcm_exc_load(a->st, &exc, err)) < 0)
		store_rollback(a->st);
	if (rc == 0) {
		for (int i = 0; i < a->nbuf && rc == 0; i++)
			rc = apply_one(a, &exc, &a->buf[i], err);
		tmcm_exc_free(&exc);
		if (rc == 0)
			source_update(a->st, a->source, SET_CURSOR, a->buf[a->nbuf - 1].id, 0, NULL);
		if (rc == 0)
			rc = store_commit(a->st, err);
		else
			store_rollback(a->st);
	}
	buf_clear(a);
	if (rc < 0)
		log_error("sync.apply_failed", "source=%s error=\"%s\"", a->source, err->msg);
	return rc;
}

static int buffer_record(const so_record *r, void *cls)
{
	apply_ctx *a = cls;
	so_record *c = &a->buf[a->nbuf++];
	*c = *r;
	c->value = xstrdup(r->value ? r->value : "");
	c->source = xstrdup(r->source ? r->source : "");
	ctd_err err = {0};
	return a->nbuf == APPLY_BATCH ? flush(a, &err) : 0;
}

/* A failed attempt: logged each time, on the timeline only when the reason
 * changes (a source down for an hour is one event, not a thousand). */
static void sync_failed(store *st, const source_cfg *c, const char *sql, int64_t started,
			long applied, const char *reason)
{
	ctd_err err = {0};
	int same = 0;
	sqlite3_stmt *q = store_stmt(st, "SELECT last_error FROM tmcm_sources WHERE name = ?1", &err);
	if (q) {
		sqlite3_bind_text(q, 1, c->name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW)
			same = strcmp((const char *)sqlite3_column_text(q, 0), reason) == 0;
		sqlite3_reset(q);
	}
	log_warn("sync.failed", "source=%s url=%s error=\"%s\"", c->name, c->client.base_url, reason);
	if (sql == NULL)
		source_update(st, c->name, SET_REGISTERED, 0, started, reason);
	else
		source_update(st, c->name, sql, started, applied, reason);
	if (same)
		return;
	tmcm_timeline(st, "sync.failed", c->name,
		      json_pack("{s:s, s:s}", "url", c->client.base_url, "error", reason));
}

/* Record the outcome of one pull: source row, log, timeline. */
static void sync_result(store *st, const source_cfg *c, const apply_ctx *a, long n,
			int64_t cursor, int64_t started, ctd_err *err)
{
	metrics_sync_result(c->name, n >= 0);
	if (n < 0) {
		sync_failed(st, c, SET_RESULT, started, a->applied, err->msg);
		return;
	}
	source_update(st, c->name, SET_CURSOR, cursor, 0, NULL);
	source_update(st, c->name, SET_RESULT, started, a->applied, NULL);
	if (a->applied || a->rejected) {
		log_info("sync.done", "source=%s records=%ld rejected=%ld cursor=%lld", c->name,
			 a->applied, a->rejected, (long long)cursor);
		tmcm_timeline(st, "sync.done", c->name,
			      json_pack("{s:s, s:I, s:I, s:I, s:O}", "url", c->client.base_url, "records",
					(json_int_t)a->applied, "rejected", (json_int_t)a->rejected,
					"cursor", (json_int_t)cursor, "objects", a->sample));
	}
}

static void sync_source(tmcm_syncer *s, store *st, source_cfg *c)
{
	ctd_err err = {0};
	int64_t cursor = 0, started = time_now_ms();
	int registered = 0;
	if (source_row(st, c, &cursor, &registered, &err) < 0) {
		log_error("sync.failed", "source=%s error=\"%s\"", c->name, err.msg);
		return;
	}
	if (!registered) {
		if (dtas_register(&c->client, &err) < 0) {
			sync_failed(st, c, NULL, started, 0, err.msg);
			note_link(c, 0);
			return;
		}
		log_info("sync.registered", "source=%s url=%s", c->name, c->client.base_url);
		source_update(st, c->name, SET_REGISTERED, started, started, NULL);
	}
	apply_ctx *a = xcalloc(1, sizeof(*a));
	a->st = st;
	a->source = c->name;
	a->default_action = s->app->cfg->va_default_action;
	a->sample = json_array();
	long n = sofeed_pull(&c->client, &cursor, buffer_record, a, &err);
	/* what arrived before a failure is kept (with its cursor) all the same */
	ctd_err ferr = {0};
	if (flush(a, &ferr) < 0 && n >= 0) {
		n = -1;
		err = ferr;
	}
	sync_result(st, c, a, n, cursor, started, &err);
	note_link(c, n >= 0);
	json_decref(a->sample);
	free(a);
}

static void sync_all(tmcm_syncer *s)
{
	ctd_err err = {0};
	store *st = store_get(&err);
	if (!st) {
		log_error("sync.store_failed", "error=\"%s\"", err.msg);
		return;
	}
	for (int i = 0; i < s->nsources; i++)
		sync_source(s, st, &s->src[i]);
	if (tmcm_expire_due(st, &err) < 0)
		log_warn("sync.expiry_failed", "error=\"%s\"", err.msg);
}

/* ---- the worker -------------------------------------------------------------------- */

static int64_t sync_job(void *arg)
{
	sync_all(arg);
	return -1;
}

tmcm_syncer *tmcm_sync_start(tmcm_app *app, ctd_err *err)
{
	tmcm_syncer *s = xcalloc(1, sizeof(*s));
	s->app = app;
	configure_sources(s, app->cfg);
	s->worker = worker_start("tmcm sync", app->cfg->sync_interval, sync_job, s, err);
	if (!s->worker) {
		tmcm_sync_stop(s);
		return NULL;
	}
	for (int i = 0; i < s->nsources; i++)
		log_info("sync.source", "name=%s url=%s interval_ms=%lld", s->src[i].name,
			 s->src[i].client.base_url, app->cfg->sync_interval);
	return s;
}

int64_t tmcm_sync_request(tmcm_syncer *s)
{
	return (int64_t)worker_wake(s->worker);
}

json_t *tmcm_sync_status(tmcm_syncer *s)
{
	worker_status st;
	worker_get_status(s->worker, &st);
	json_t *o = json_pack("{s:I, s:I, s:b, s:I, s:i}", "requested", (json_int_t)st.requested,
			      "completed", (json_int_t)st.completed, "running", st.running,
			      "interval_ms", (json_int_t)st.interval_ms, "sources", s->nsources);
	char buf[32];
	time_iso8601(st.last_run_ms, buf, sizeof(buf));
	json_object_set_new(o, "last_run", st.last_run_ms ? json_string(buf) : json_null());
	static const char *const link_names[] = {"connecting", "online", "abnormal"};
	json_t *links = json_object();
	for (int i = 0; i < s->nsources; i++)
		json_object_set_new(links, s->src[i].name, json_string(link_names[
			__atomic_load_n(&s->src[i].link, __ATOMIC_RELAXED)]));
	json_object_set_new(o, "links", links);
	return o;
}

void tmcm_sync_stop(tmcm_syncer *s)
{
	if (!s)
		return;
	worker_stop(s->worker);
	for (int i = 0; i < s->nsources; i++)
		dtas_client_free(&s->src[i].client);
	free(s);
}
