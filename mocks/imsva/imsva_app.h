/* imsva_app.h - the pieces of imsvad and what they share: the daemon's
 * configuration, the application context handed to every module, and the
 * module entry points (intake queue, processing, delivery, quarantine, logs,
 * Virtual Analyzer, Control Manager, web reputation, admin API).
 *
 * Threads: the libevent loop runs SMTP only; the group committer, the
 * processing workers, the delivery worker, the VA worker and the TMCM worker
 * are background threads (common worker); admin API handlers run on the HTTP
 * server's pool. Every network call (DDAN, TMCM, SPS, next hop) is a blocking
 * libcurl call on one of those threads, never on the loop. */
#ifndef IMSVA_APP_H
#define IMSVA_APP_H

#include <pthread.h>
#include <stdint.h>
#include <jansson.h>
#include "daemon.h"
#include "dtas.h"
#include "err.h"
#include "imsva_engine.h"
#include "store.h"
#include "worker.h"

typedef struct imsva_config {
	daemon_config base;
	/* SMTP */
	long long smtp_port;
	char *hostname;
	long long max_message_size;
	long long max_rcpts;
	long long max_line;
	long long smtp_idle_timeout;  /* ms */
	long long max_connections;
	int smtp_tls;
	/* processing */
	long long workers;
	/* admin */
	char *admin_password;
	/* delivery */
	char *next_hop;               /* host:port, "" = local mailbox */
	long long deliver_retry;      /* ms, first retry; doubled each time */
	long long deliver_max_age;    /* ms; older deferred mail bounces */
	/* Virtual Analyzer */
	char *ddan_url, *ddan_api_key;
	char *va_security_level;      /* low | medium | high */
	long long va_poll_interval;   /* ms */
	long long va_timeout;         /* ms: maximum analysis time */
	/* Control Manager */
	char *tmcm_url, *tmcm_api_key;
	long long tmcm_sync_interval;      /* ms */
	long long tmcm_heartbeat_interval; /* ms */
	/* Smart Protection Server */
	char *sps_url;
	long long wrs_cache_ttl;      /* ms */
	char *wrs_fallback;           /* pass | defer */
	long long wrs_defer_retry;    /* ms */
} imsva_config;

typedef struct imsva_queue imsva_queue;
typedef struct imsva_wrs imsva_wrs;
typedef struct imsva_tmcm imsva_tmcm;

typedef struct imsva_app {
	const imsva_config *cfg;
	imsva_locale locale;
	imsva_level va_level;
	imsva_queue *queue;
	worker *deliver;
	worker *va;
	imsva_tmcm *tmcm;
	imsva_wrs *wrs;
	dtas_client ddan;             /* ddan.base_url NULL: VA off */
} imsva_app;

/* ---- imsva_store.c ---- */
/* store_get() for imsvad's threads, with a busy handler that polls every
 * 100 us instead of SQLite's default of sleeping up to 100 ms: intake and
 * processing in one process hand the write lock back and forth quickly. */
store *imsva_store(ctd_err *err);
/* A RESTART checkpoint on st (the calling thread's connection): everything in
 * the WAL is copied into the database and synced, and the next commit writes
 * the WAL from its start again. It holds the write lock while it waits for
 * other writers and readers, so it gives up after budget_ms (SQLITE_BUSY,
 * having copied what it could). Returns the SQLite result code. */
int imsva_store_restart_wal(store *st, int budget_ms);

/* Background jobs run on common/worker.h; they return this for "next run
 * after the worker's interval". */
#define IMSVA_JOB_INTERVAL (-1)

/* ---- imsva_msgstore.c: the message table and the message lifecycle ---- */
typedef enum imsva_msg_state {
	IMSVA_MSG_NEW,          /* committed, waiting for processing */
	IMSVA_MSG_PROCESSING,   /* claimed by a processing worker */
	IMSVA_MSG_DEFER,        /* retried at next_ms */
	IMSVA_MSG_VA,           /* parked for Virtual Analyzer */
	IMSVA_MSG_DELIVERED,    /* final states: DELIVERED .. HANDOFF */
	IMSVA_MSG_QUARANTINED,
	IMSVA_MSG_DELETED,
	IMSVA_MSG_HANDOFF,
	IMSVA_MSG_ERROR,        /* processing failed too often */
	IMSVA_MSG_STATE_COUNT
} imsva_msg_state;
/* The name stored in imsva_messages.state ("unknown" out of range). */
const char *imsva_msg_state_name(imsva_msg_state s);
/* 0 and *out, or -1 for a name that is no state. */
int imsva_msg_state_parse(const char *name, imsva_msg_state *out);
/* 1 for a final state (the message's final_action). */
int imsva_msg_state_final(imsva_msg_state s);
int imsva_msg_transition_allowed(imsva_msg_state from, imsva_msg_state to);
/* Queue id shown in "250 ... queued as": derived from the message id. */
void imsva_msg_queue_id(int64_t msg_id, char out[16]);

struct smtp_envelope;
/* A committed message, state new (inside the caller's transaction). */
int imsva_msgs_insert(store *st, const struct smtp_envelope *env, int64_t *id, ctd_err *err);
/* Processing claimed before a stop goes back to new. */
int imsva_msgs_recover(store *st, ctd_err *err);
/* Deferred messages due at now_ms become new; then up to max new ones are
 * claimed (processing) into ids. Returns the number claimed, -1 on error. */
int imsva_msgs_claim(store *st, int64_t now_ms, int64_t *ids, int max, ctd_err *err);
/* A claimed message's outcome: a final state, VA, or DEFER until next_ms,
 * with the subject and Message-ID as parsed. CTD_ECONFLICT when the message
 * is not processing or `to` cannot follow it. */
int imsva_msgs_processed(store *st, int64_t id, imsva_msg_state to, int64_t next_ms,
			 const char *subject, const char *message_id, ctd_err *err);
/* A claimed message that failed: DEFER until retry_ms, ERROR after
 * max_attempts claims. */
int imsva_msgs_failed(store *st, int64_t id, int max_attempts, int64_t retry_ms, ctd_err *err);
/* A parked message's VA result is in: back to NEW (CTD_ECONFLICT unless VA). */
int imsva_msgs_va_done(store *st, int64_t id, ctd_err *err);

typedef struct imsva_stored_msg {
	int64_t id, received_ms;
	char *internal_id, *client_ip, *helo, *mail_from, *rcpts_json;
	int tls;
	char **rcpts;
	size_t nrcpts;
	char *data;
	size_t len;
} imsva_stored_msg;
int imsva_msgs_load(store *st, int64_t id, imsva_stored_msg *m, ctd_err *err);
void imsva_stored_msg_free(imsva_stored_msg *m);
/* The admin API's view of a message (CTD_ENOTFOUND when there is none). */
json_t *imsva_msgs_get_json(store *st, int64_t id, ctd_err *err);
/* Log Query's message columns on a log row being written (JSON members
 * ,"message_size":N,"final_action":"..."); nothing for a purged message. */
void imsva_msgs_log_columns(store *st, int64_t id, sbuf *row);
/* {"messages": total, "states": {name: count}} */
json_t *imsva_msgs_state_counts(store *st, ctd_err *err);

/* ---- imsva_queue.c: durable intake (group commit) and processing workers.
 * It calls the message store only; processing comes in as callbacks. ---- */
typedef struct imsva_job imsva_job; /* a claimed message, judged, not yet written */
typedef struct imsva_processor {
	/* Read and judge a claimed message, outside any transaction; NULL on failure. */
	imsva_job *(*prepare)(imsva_app *app, int64_t msg_id, ctd_err *err);
	/* Its writes, in the caller's transaction (a batch of jobs shares one). */
	int (*apply)(imsva_app *app, store *st, const imsva_job *job, ctd_err *err);
	/* After its transaction committed: wake whoever has work now. */
	void (*committed)(imsva_app *app, const imsva_job *job);
	int64_t (*msg_id)(const imsva_job *job);
	void (*free)(imsva_job *job);
} imsva_processor;
imsva_queue *imsva_queue_start(imsva_app *app, int nworkers, const imsva_processor *proc,
			       ctd_err *err);
/* The SMTP server's commit hook (smtp_commit_fn). */
typedef void (*imsva_commit_done)(void *ctx, int ok, const char *queue_id);
void imsva_queue_commit(void *app, struct smtp_envelope *env, imsva_commit_done done, void *ctx);
/* Wake the processing workers (a message became ready again). */
void imsva_queue_kick(imsva_queue *q);
/* Stop intake and processing and join their threads; kicking a stopped
 * queue is harmless. Free separately, once nothing can kick it any more. */
void imsva_queue_stop(imsva_queue *q);
void imsva_queue_free(imsva_queue *q);

/* ---- imsva_process.c: scan, evaluate, apply one message. Calls the
 * message store, the VA queue, delivery and quarantine; nothing calls back.
 * Together the imsva_processor imsvad hands to the queue. ---- */
/* Load, parse, scan and evaluate (lookups included). */
imsva_job *imsva_process_prepare(imsva_app *app, int64_t msg_id, ctd_err *err);
/* The verdict's writes and the message's new state (done, VA, deferred). */
int imsva_process_apply(imsva_app *app, store *st, const imsva_job *job, ctd_err *err);
void imsva_process_committed(imsva_app *app, const imsva_job *job);
int64_t imsva_job_msg_id(const imsva_job *job);
void imsva_job_free(imsva_job *job);
/* The current rule set and ATSE setting (*atse_on), cached per thread and
 * reloaded when imsva_rules_generation changes (valid until the next call on
 * this thread). */
const imsva_ruleset *imsva_rules_current(store *st, int *atse_on, ctd_err *err);
/* ATSE on/off (Policy > Scan Engine), kept in settings. */
int imsva_atse_enabled(store *st);
int imsva_atse_set(store *st, int on, ctd_err *err);

/* ---- imsva_logs.c: the five log types, also on the shared timeline ---- */
typedef struct imsva_log_rec {
	const char *type;        /* message_tracking | policy | quarantine | mta | system | va */
	int64_t msg_id;          /* 0 when none */
	const char *internal_id, *message_id, *sender, *recipients, *subject;
	const char *rule, *rule_type, *action, *reason, *filter, *violating;
	const char *action_code;
	json_t *detail;          /* borrowed, may be NULL */
} imsva_log_rec;
int imsva_log(store *st, const imsva_log_rec *r, ctd_err *err);
/* Shorthand for a system event (detail formatted as "message"). */
void imsva_log_system(store *st, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Where a page of the log query ended: its last row's time and id (id 0:
 * none, the query is at its end). */
typedef struct imsva_log_cursor {
	int64_t ts_ms, id;
} imsva_log_cursor;
typedef struct imsva_log_query {
	const char *type;        /* NULL: all */
	int64_t from_ms, to_ms;  /* 0: unbounded */
	const char *rule, *sender, *recipient, *subject, *message_id; /* `*` and `;` (OR) */
	int64_t msg_id;
	int limit;               /* 0: 500 */
	imsva_log_cursor after;  /* rows older than a page's last one; id 0: from the newest */
	const char *scanner;     /* the Scanner column (this appliance's host name) */
} imsva_log_query;
/* Normalise a type name ("Policy events", "policy", "ポリシーイベント"...).
 * NULL when unknown. */
const char *imsva_log_type(const char *name);
/* Newest first (time, then id): a JSON array of rows appended to out (the
 * API's page, written without a tree; *count rows) or parsed. *next (may be
 * NULL) is where the page ended when it is full, else zero. */
int imsva_log_query_write(store *st, const imsva_log_query *q, sbuf *out, size_t *count,
			  imsva_log_cursor *next, ctd_err *err);
json_t *imsva_log_query_run(store *st, const imsva_log_query *q, imsva_log_cursor *next,
			    ctd_err *err);
/* One log row (CTD_ENOTFOUND when there is none). */
json_t *imsva_log_get(store *st, int64_t id, const char *scanner, ctd_err *err);
/* The Type list: [{"type","label","label_ja"}]. */
json_t *imsva_log_types_json(void);
/* A JSON array of addresses as "a;b;c" (malloc'd). */
char *imsva_rcpts_join(const char *rcpts_json);
/* IMSVA's query syntax: `;`-separated alternatives with `*` wildcards. */
int imsva_match_list(const char *pattern, const char *text);

/* ---- imsva_deliver.c: local mailbox or next hop with deferred retries ---- */
/* Queue a message for delivery (inside the caller's transaction). With no
 * next hop and no handoff host it lands in the local mailbox at once. */
int imsva_deliver_enqueue(imsva_app *app, store *st, int64_t msg_id, const char *sender,
			  const char *const *rcpts, size_t nrcpts, const char *data, size_t len,
			  const char *host, int port, ctd_err *err);
int64_t imsva_deliver_run(void *app); /* the delivery worker's job */
json_t *imsva_mailbox_list(store *st, const char *rcpt, int limit, ctd_err *err);
json_t *imsva_mailbox_get(store *st, int64_t id, ctd_err *err);
json_t *imsva_deliver_queue_list(store *st, ctd_err *err);

/* ---- imsva_quarantine.c ---- */
int imsva_quarantine_put(store *st, int64_t msg_id, const char *area, const char *rule,
			 const char *reason, const char *sender, const char *rcpts_json,
			 const char *subject, const char *data, size_t len, ctd_err *err);
typedef struct imsva_quarantine_query {
	const char *area, *rule, *sender, *recipient, *subject, *reason;
	int64_t from_ms, to_ms;
	int include_released;
	int limit;
} imsva_quarantine_query;
json_t *imsva_quarantine_list(store *st, const imsva_quarantine_query *q, ctd_err *err);
/* One quarantined message with its raw text in "data" (view a message). */
json_t *imsva_quarantine_get(store *st, int64_t id, ctd_err *err);
json_t *imsva_quarantine_areas(store *st, ctd_err *err);
int imsva_quarantine_release(imsva_app *app, store *st, int64_t id, ctd_err *err);
int imsva_quarantine_delete(store *st, int64_t id, ctd_err *err);

/* ---- imsva_va.c: Virtual Analyzer queue and DDAN client ---- */
/* Park a message for VA: its parts to submit (inside the caller's transaction). */
int imsva_va_park(imsva_app *app, store *st, int64_t msg_id, const imsva_msg *m,
		  const imsva_verdict *v, ctd_err *err);
/* The VA state of a message (NOT_SUBMITTED when it never was parked). */
int imsva_va_state_get(store *st, int64_t msg_id, imsva_va_state *out, ctd_err *err);
int64_t imsva_va_run(void *app); /* the VA worker's job */
json_t *imsva_va_list(store *st, ctd_err *err);
int imsva_va_release(imsva_app *app, store *st, int64_t msg_id, ctd_err *err);
/* Connections > Virtual Analyzer: server, API key, status of the last call. */
json_t *imsva_va_connection(const imsva_app *app);
/* "Test connection": DTAS test_connection (CTD_ECONFLICT when VA is off). */
int imsva_va_test_connection(const imsva_app *app, ctd_err *err);

/* ---- imsva_tmcm.c: Control Manager registration, heartbeat, SO feed ---- */
imsva_tmcm *imsva_tmcm_start(imsva_app *app, ctd_err *err);
void imsva_tmcm_sync_now(imsva_tmcm *t);
json_t *imsva_tmcm_status(imsva_tmcm *t, store *st);
void imsva_tmcm_stop(imsva_tmcm *t);
/* SO table (imsva_so), keyed by a 64-bit hash of type+value. */
imsva_so_action imsva_so_lookup(store *st, const char *type, const char *value);
int64_t imsva_so_count(store *st);
/* Apply one feed record (inside the caller's transaction). */
struct so_record;
int imsva_so_apply(store *st, const struct so_record *r, ctd_err *err);

/* ---- imsva_wrs.c: SPS web reputation client with a short-lived cache ---- */
imsva_wrs *imsva_wrs_new(const char *sps_url, long long cache_ttl_ms);
void imsva_wrs_free(imsva_wrs *w);
/* 0 and *out, or -1 when SPS did not answer (or answered garbage). */
int imsva_wrs_query(imsva_wrs *w, const char *url, imsva_wrs_rating *out, ctd_err *err);
json_t *imsva_wrs_status(imsva_wrs *w);
/* "Test connection": one uncached query of IMSVA_WRS_TEST_URL; it sets the
 * status like any query. CTD_ECONFLICT when no SPS is configured. */
#define IMSVA_WRS_TEST_URL "http://wrs-test.ctdlab.invalid/"
int imsva_wrs_test(imsva_wrs *w, imsva_wrs_rating *out, ctd_err *err);
/* 1 the first time it is called during an SPS outage (one system event per
 * outage, not one per message); reset by the next good answer. */
int imsva_wrs_outage_first_report(imsva_wrs *w);

/* ---- imsva_admin.c: the admin JSON API ---- */
/* session_conf.on_login_failed: a system log entry. */
void imsva_admin_login_failed(const char *user, void *cls);
extern const http_route imsva_admin_routes[];
extern const size_t imsva_admin_nroutes;

#endif
