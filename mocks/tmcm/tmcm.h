/* tmcm.h - the inside of tmcmd, the Control Manager / Apex Central emulator:
 * configuration, the application context shared by the HTTP handlers and the
 * sync worker, and the interfaces between its modules:
 *   tmcm_merge     the merged list products receive, change IDs, expiry
 *   tmcm_va, tmcm_exceptions, tmcm_udso   the three lists TMCM keeps
 *   tmcm_jwt       Automation API token and request-checksum verification
 *   tmcm_automation  Automation API (/WebApp/...) handlers
 *   tmcm_console   console JSON API (/api/...)
 *   tmcm_feed      DTAS-style API products use to register and pull the feed
 *   tmcm_products  registered products (heartbeat, last sync)
 *   tmcm_sync      worker thread pulling DDAN's and DDI's SO feeds
 *   tmcm_lab, tmcm_lab_evidence  the instructor's overview of the whole lab */
#ifndef TMCM_H
#define TMCM_H

#include <stdint.h>
#include <pthread.h>
#include <jansson.h>
#include "daemon.h"
#include "err.h"
#include "http_server.h"
#include "sofeed.h"
#include "store.h"

typedef struct tmcm_config {
	daemon_config base;
	char *ddan_url, *ddan_api_key;
	char *ddi_url, *ddi_api_key;     /* comma-separated lists, one key per URL */
	char *imsva_feed_key, *sps_feed_key;
	char *app_id, *api_key;          /* Automation API application */
	char *console_password;
	char *hostname;
	long long sync_interval;         /* ms between pulls from the sources */
	long long token_timeout;         /* ms: Automation API communication time-out */
	long long heartbeat_timeout;     /* ms without heartbeat: product abnormal */
	long long feed_page_size;
	long long udso_max;
	long long peer_timeout;          /* ms: one request to a source */
	char *va_default_action;
	char *so_dist_role;
} tmcm_config;

/* A feed key products use, by subscription name. */
typedef struct tmcm_feed_key {
	const char *subscription; /* "imsva", "sps" */
	const char *key;
} tmcm_feed_key;

#define TMCM_NFEED_KEYS 2

typedef struct tmcm_syncer tmcm_syncer;

typedef struct tmcm_app {
	const tmcm_config *cfg;
	char *app_id, *api_key, *console_password, *client_uuid, *hostname;
	tmcm_feed_key feed_keys[TMCM_NFEED_KEYS];
	tmcm_syncer *syncer;
} tmcm_app;

/* ---- tmcm_db.c: shared helpers ---------------------------------------- */
int tmcm_db_fail(store *st, ctd_err *err, const char *what); /* CTD_ESTORE, returns -1 */
void tmcm_bind_text(sqlite3_stmt *s, int i, const char *v);   /* NULL binds SQL NULL */
const char *tmcm_col_text(sqlite3_stmt *s, int i);            /* never NULL */
void tmcm_copy_str(char *dst, size_t n, const char *src);
/* o[key] = ISO 8601 time, or null for 0. */
void tmcm_json_time(json_t *o, const char *key, int64_t ms);
/* Append to the shared timeline (st NULL: this thread's store); steals detail. */
void tmcm_timeline(store *st, const char *kind, const char *ref, json_t *detail);

/* ---- tmcm_merge.c, tmcm_va.c, tmcm_exceptions.c, tmcm_udso.c: the three
 * lists and the merged feed -------------------------------------------------- */

/* Exceptions loaded once for a batch of recomputations. */
typedef struct tmcm_exc_set {
	size_t n;
	char **type, **value;
} tmcm_exc_set;
int tmcm_exc_load(store *st, tmcm_exc_set *set, ctd_err *err);
void tmcm_exc_free(tmcm_exc_set *set);
int tmcm_exc_matches(const tmcm_exc_set *set, const char *type, const char *value);

/* Normalise a feed key in place: FILE upper-case, DOMAIN lower-case. Returns
 * -1 for an unknown type. */
int tmcm_feed_type_valid(const char *type);
void tmcm_normalise_value(const char *type, char *value);

/* Recompute the effective (distributed) state of one key and bump its change
 * ID when it differs. Call inside a transaction. */
int tmcm_recompute(store *st, const tmcm_exc_set *exc, const char *type, const char *value,
		   ctd_err *err);
/* Re-evaluate every key whose effective entry has expired by now. */
int tmcm_expire_due(store *st, ctd_err *err);
int64_t tmcm_last_change_id(store *st);

/* A VA record from a source: upsert (or drop, when removed) and recompute. */
int tmcm_va_apply(store *st, const tmcm_exc_set *exc, const char *source,
		  const char *default_action, const so_record *r, ctd_err *err);

typedef struct tmcm_va_filter {
	const char *type, *source, *action, *risk, *q; /* NULL: any; q substring */
	int include_inactive;                           /* expired / excepted too */
	long limit, offset;
} tmcm_va_filter;
json_t *tmcm_va_list(store *st, const tmcm_va_filter *f, ctd_err *err);
/* The ids of the VA objects with these values (any type), as a JSON array;
 * NULL with CTD_ENOTFOUND when one is unknown. */
json_t *tmcm_va_ids_for_values(store *st, const json_t *values, ctd_err *err);
/* Set the action of VA objects by id and, unless expires < 0, their expiry
 * (0: never, else the time; it sticks when the source re-reports them).
 * Returns the number changed, or -1. */
long tmcm_va_set_action(store *st, const json_t *ids, const char *action, int64_t expires,
			ctd_err *err);
/* Expire now (never_expire 0) or never expire (1). */
long tmcm_va_expire(store *st, const json_t *ids, int never_expire, ctd_err *err);

json_t *tmcm_exc_list(store *st, ctd_err *err);
int64_t tmcm_exc_add(store *st, const char *type, const char *value, const char *notes,
		     ctd_err *err);
int tmcm_exc_delete(store *st, int64_t id, ctd_err *err);

/* User-defined objects. type: ip | url | file_sha1 | domain | file. */
typedef struct tmcm_udso {
	const char *type, *content, *notes, *scan_action, *file_name;
	int64_t expires_ms; /* 0: never */
} tmcm_udso;
/* Validate and canonicalise content by the lab's content rules (so_content.h)
 * into a malloc'd copy; errors name the field ("content: ..."). */
int tmcm_udso_check(const char *type, const char *content, const char *scan_action,
		    char **canon, ctd_err *err);
#define TMCM_UDSO_NOTES_MAX 256
#define TMCM_UDSO_FILE_NAME_MAX 255
/* Insert or update; -1 with CTD_EINVAL naming the field when notes or
 * file_name break the text rules (so_content.h), CTD_ETOOBIG when udso_max
 * would be exceeded. */
int tmcm_udso_put(store *st, const tmcm_udso *u, long long max, ctd_err *err);
/* 0 deleted, -1 with CTD_ENOTFOUND when absent. */
int tmcm_udso_delete(store *st, const char *type, const char *content, ctd_err *err);
/* Automation API list items (expired ones hidden), as a JSON array appended
 * to out (the API's answer, written without a tree), or parsed. The _write
 * form lists what is unexpired at now_ms and lowers *until_ms (may be NULL)
 * to the first listed object's expiry: the list holds until then. */
int tmcm_udso_list_write(store *st, const char *type, const char *content_filter,
			 int64_t now_ms, int64_t *until_ms, sbuf *out, ctd_err *err);
json_t *tmcm_udso_list(store *st, const char *type, const char *content_filter, ctd_err *err);

/* The console's CSV Export (malloc'd text) and Import: every valid line is
 * stored; {imported, failed, errors:[{line, message}]}. */
char *tmcm_udso_csv_export(store *st, ctd_err *err);
json_t *tmcm_udso_csv_import(store *st, const char *csv, size_t len, long long max,
			     ctd_err *err);

/* One feed page after cursor (removed entries skipped on a full pull). */
int tmcm_feed_page(store *st, int64_t cursor, long page_size, sbuf *xml, long *count,
		   int64_t *last_id, ctd_err *err);
/* Counts for the console (active distributed objects). */
long tmcm_feed_active_count(store *st);

/* ---- tmcm_jwt.c: Automation API authentication ------------------------ */

/* Reasons, numbered so that Custom Intelligence ErrorCode = 13 + reason and
 * result_code = -(reason + 1) (reference §5). */
typedef enum {
	TMCM_AUTH_OK = 0,
	TMCM_AUTH_NO_TOKEN = 1,
	TMCM_AUTH_MALFORMED,
	TMCM_AUTH_VERSION,
	TMCM_AUTH_APPID,
	TMCM_AUTH_EXPIRED,
	TMCM_AUTH_SIGNATURE,
	TMCM_AUTH_CHECKSUM,
	TMCM_AUTH_ALG
} tmcm_auth_result;

const char *tmcm_auth_message(tmcm_auth_result r);

#define TMCM_URL_SPELLINGS 4
#define TMCM_MAX_RAW_URLS (2 * TMCM_URL_SPELLINGS)
typedef struct tmcm_auth_request {
	const char *authorization;  /* the Authorization header, may be NULL */
	const char *method;
	const char *raw_urls[TMCM_MAX_RAW_URLS]; /* candidate request targets */
	int nraw_urls;
	const char *api_headers;    /* Canonical-Request-Headers ("" normally) */
	const void *body;
	size_t body_len;
	const char *app_id, *api_key;
	int64_t now_ms, timeout_ms;
	int headers_only;           /* the body is not read yet: all but its hash */
} tmcm_auth_request;

tmcm_auth_result tmcm_jwt_verify(const tmcm_auth_request *rq);
/* Base64(SHA-256(UPPER(method)|lower(raw_url)|headers|body)); caller frees. */
char *tmcm_request_checksum(const char *method, const char *raw_url, const char *headers,
			    const void *body, size_t body_len);

/* The request-target spellings public clients hash: the query as sent raw,
 * form-encoded (Python urlencode) and percent-encoded (%20). names/values are
 * the decoded query arguments in wire order. Appends up to TMCM_URL_SPELLINGS
 * malloc'd strings to out (skipping ones already there); returns the new n. */
int tmcm_raw_url_candidates(const char *path, const char *const *names,
			    const char *const *values, int nargs, char **out, int n);

/* ---- tmcm_keys.c: the Automation API key ------------------------------- */
/* Where the key sits among the console's API keys (daemon_set_login). */
#define TMCM_LOGIN_KEY_SLOT 0
/* A copy of the current key (caller frees). */
char *tmcm_api_key(const tmcm_app *app);
/* A fresh key, stored and in force at once (caller frees); NULL with
 * CTD_ECONFLICT when the configuration pins the key. */
char *tmcm_api_key_regenerate(tmcm_app *app, session_table *logins, ctd_err *err);

/* ---- tmcm_automation.c ------------------------------------------------- */
extern const http_route tmcm_automation_routes[];
extern const size_t tmcm_automation_nroutes;
/* The Custom Intelligence envelope {Data, Meta, PermissionCtrl, FeatureCtrl,
 * SystemCtrl}; steals data (NULL: "") and meta. */
json_t *tmcm_ci_envelope(const tmcm_app *app, json_t *data, json_t *meta);
/* Answer in it with Meta{Result, ErrorCode (0 = success), ErrorMsg}. */
void tmcm_ci_reply(http_req *req, http_resp *resp, int status, json_t *data, int code,
		   const char *msg);
/* A successful answer whose Data is JSON text written by the caller (a long
 * list): out gets `{"Data":`, the caller's text, then tmcm_ci_text_end. */
#define TMCM_CI_TEXT_START "{\"Data\":"
void tmcm_ci_text_end(const tmcm_app *app, sbuf *out);

/* ---- tmcm_logs.c: GET /WebApp/api/v1/logs/{log_type} -------------------- */
void tmcm_logs_handler(http_req *req, http_resp *resp);

/* ---- tmcm_es.c: the Endpoint Sensor tunnel /WebApp/OSCE_iES/OsceIes/ApiEntry */
void tmcm_es_handler(http_req *req, http_resp *resp);

/* ---- tmcm_time.c ------------------------------------------------------- */
/* Expiry as the clients send it; empty/NULL = never (0). */
int tmcm_parse_utc(const char *s, int64_t *ms);
/* Zone-less "YYYY-MM-DDTHH:MM:SS" as list output shows it. */
void tmcm_format_utc(int64_t ms, char *out, size_t outlen);

/* ---- tmcm_console.c ---------------------------------------------------- */
extern const http_route tmcm_console_routes[];
extern const size_t tmcm_console_nroutes;

/* ---- tmcm_feed.c ------------------------------------------------------- */
extern const http_route tmcm_feed_routes[];
extern const size_t tmcm_feed_nroutes;

/* ---- tmcm_products.c --------------------------------------------------- */
typedef struct tmcm_product_info {
	const char *client_uuid, *product_name, *hostname, *source_id, *source_name, *ip;
	const char *subscription;
} tmcm_product_info;
int tmcm_product_register(store *st, const tmcm_product_info *p, ctd_err *err);
int tmcm_product_unregister(store *st, const char *client_uuid, ctd_err *err);
int tmcm_product_heartbeat(store *st, const tmcm_product_info *p, ctd_err *err);
int tmcm_product_synced(store *st, const tmcm_product_info *p, int64_t last_id, long count,
			ctd_err *err);
typedef struct tmcm_product_filter {
	const char *entity_id, *ip_address, *host_name, *product;
} tmcm_product_filter;
/* kind 0: console view, 1: Automation ProductServers, 2: ProductAgents. */
json_t *tmcm_product_list(store *st, const tmcm_product_filter *f, int kind,
			  int64_t heartbeat_timeout_ms, ctd_err *err);
/* Automation API agent actions: "isolated" | "normal". */
int tmcm_product_set_isolation(store *st, const char *client_uuid, const char *status,
			       ctd_err *err);
/* Directories > Product Directory: {"items":[{name, product, role (source:
 * TMCM pulls its SOs; subscriber: pulls TMCM's feed), address, status
 * (online | abnormal | connecting), last_heartbeat, last_feed_pull,
 * change_id, last_error}]}. */
json_t *tmcm_directory(store *st, int64_t heartbeat_timeout_ms, ctd_err *err);
/* "SLF_PRODUCT_..." style identifier of a product name. */
void tmcm_product_slf(const char *product_name, char *out, size_t outlen);

/* ---- tmcm_sync.c ------------------------------------------------------- */
tmcm_syncer *tmcm_sync_start(tmcm_app *app, ctd_err *err);
/* Ask for a sync now; returns the sequence number it will complete. */
int64_t tmcm_sync_request(tmcm_syncer *s);
/* {requested, completed, running, interval_ms, sources, last_run, links: {DDAN:
 * connecting|online|abnormal, ...}}: links say how each source's last pull of
 * this run went (`ctdlab up` waits for online). */
json_t *tmcm_sync_status(tmcm_syncer *s);
void tmcm_sync_stop(tmcm_syncer *s);
json_t *tmcm_sources_list(store *st, ctd_err *err);

/* ---- tmcm_lab.c, tmcm_lab_evidence.c: the lab overview (/lab) ---------- */
/* Fill out's "links", "steps" and "last_event_id" from the events timeline;
 * healthy maps appliance -> true/false. */
int tmcm_lab_evidence(store *st, const json_t *healthy, int64_t stale_ms, json_t *out,
		      ctd_err *err);
/* The newest event id (-1 with err when the store fails). */
int64_t tmcm_lab_last_event_id(store *st, ctd_err *err);
extern const http_route tmcm_lab_routes[];
extern const size_t tmcm_lab_nroutes;

#endif
