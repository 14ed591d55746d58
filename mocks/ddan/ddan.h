/* ddan.h - the DDAN daemon's shared pieces: its options, the application
 * context the HTTP handlers receive, and the module entry points (auth, API,
 * console, engine, store, suspicious objects, reports). */
#ifndef DDAN_H
#define DDAN_H

#include <pthread.h>
#include <stdint.h>
#include <jansson.h>
#include "daemon.h"
#include "http_server.h"
#include "store.h"
#include "ddan_rules.h"

#define DDAN_NS "ddan"

/* Sample status (brief report STATUS) and risk (RiskLevel). */
enum { DDAN_NOT_FOUND = 1, DDAN_ARRIVED = 2, DDAN_PROCESSING = 3, DDAN_DONE = 4, DDAN_ERROR = 5,
       DDAN_TIMEOUT = 6 };

typedef struct ddan_config {
	daemon_config base;
	char *api_key;              /* pinned API key; "" = generated on first start */
	char *console_password;     /* pinned console password; "" = generated */
	long long analysis_time;    /* ms a sample spends in Processing */
	long long so_expiry;        /* ms until a generated SO expires */
	long long feed_page_size;   /* get_black_lists records per page */
	char *rules_file;           /* "" = built-in rules */
	int require_registration;   /* refuse calls from unregistered ClientUUIDs */
	long long time_skew;        /* max |now - X-DTAS-Time| in ms; 0 = not checked */
	int lenient_upload_checksum; /* upload_sample: also accept a checksum without the body */
} ddan_config;

typedef struct ddan_engine ddan_engine;

typedef struct ddan_app {
	const ddan_config *cfg;
	char *api_key;
	char *console_password;
	ddan_rules *rules;
	ddan_engine *engine;
} ddan_app;

/* ddan_opts.c: the option table. */
extern const cfg_section ddan_section;

/* ddan_app.c: keys, rules and engine up; down frees. */
int ddan_app_init(ddan_app *app, const ddan_config *cfg, store *st, ctd_err *err);
void ddan_app_free(ddan_app *app);

/* ddan_api.c: the DTAS Web Service API and console routes. */
const http_route *ddan_routes(size_t *n);

/* ddan_auth.c: X-DTAS-* verification of one request. On failure the response
 * is filled (401/403 with the reason) and -1 returned. */
int ddan_auth_check(ddan_app *app, http_req *req, http_resp *resp, const char *service);
/* The route authenticator of the DTAS services (ddan_auth_check of the
 * service the route names). */
extern const http_auth ddan_dtas_auth;
/* Upper-case a SHA-1 into out; -1 if it is not 40 hex digits. */
int ddan_sha1_norm(const char *in, char out[41]);

/* ddan_console.c: console JSON API handlers (see ddan_routes). */
void ddan_console_about(http_req *req, http_resp *resp);
void ddan_console_samples(http_req *req, http_resp *resp);
void ddan_console_sample(http_req *req, http_resp *resp);
void ddan_console_submitters(http_req *req, http_resp *resp);
void ddan_console_so_list(http_req *req, http_resp *resp);
void ddan_console_so_action(http_req *req, http_resp *resp);
void ddan_console_so_delete(http_req *req, http_resp *resp);
void ddan_console_sample_delete(http_req *req, http_resp *resp);
void ddan_console_dashboard(http_req *req, http_resp *resp);
void ddan_console_report(http_req *req, http_resp *resp);
void ddan_console_exceptions(http_req *req, http_resp *resp);
void ddan_console_exception_add(http_req *req, http_resp *resp);
void ddan_console_exception_delete(http_req *req, http_resp *resp);

/* ddan_engine.c: the analysis worker. */
ddan_engine *ddan_engine_start(ddan_app *app, ctd_err *err);
void ddan_engine_kick(ddan_engine *e); /* a sample arrived */
void ddan_engine_stop(ddan_engine *e);

/* ddan_store.c: samples and submitters. */
typedef struct ddan_sample_in {
	char sha1[41];
	int sample_type;
	const char *orig_name;
	const void *data;
	size_t len;
	const char *archive_password;
	const char *meta, *log;
	const char *client_uuid, *source_id, *source_name;
} ddan_sample_in;

/* Store a submission (new sample, or a resubmission). Commits before return. */
int ddan_sample_submit(store *st, const ddan_sample_in *in, ctd_err *err);
/* Look up status/risk; status DDAN_NOT_FOUND when unknown. */
int ddan_sample_status(store *st, const char *sha1, int *status, int *risk, ctd_err *err);
/* The row with its result JSON as one object (caller decrefs); NULL (ENOTFOUND) if unknown. */
json_t *ddan_sample_load(store *st, const char *sha1, ctd_err *err);
/* What a sample's analysis answers depend on: status, started_ms and
 * completed_ms (a requeue or a new analysis changes them); -1 (ENOTFOUND) if
 * unknown. */
int ddan_sample_stamp(store *st, const char *sha1, int64_t stamp[3], ctd_err *err);
/* Remove a sample (its row, file, report and SO links); CTD_ENOTFOUND when
 * unknown. */
int ddan_sample_delete(store *st, const char *sha1, ctd_err *err);
/* The SHA-1 of the sample with this SRID (console id); -1 (ENOTFOUND) if none. */
int ddan_sample_sha1_by_srid(store *st, long long srid, char sha1[41], ctd_err *err);
/* The sample bytes appended to out; -1 (ENOTFOUND) if none are stored. */
int ddan_sample_data(store *st, const char *sha1, sbuf *out, ctd_err *err);
/* check_duplicate_sample: the known ones of sha1s (within `minutes` when > 0), `;`-joined. */
int ddan_sample_known(store *st, char **sha1s, size_t n, long minutes, sbuf *out, ctd_err *err);
/* Samples submitted (or completed) in [from_ms, to_ms], oldest first: JSON
 * array. A negative limit: the newest -limit submissions, newest first. */
json_t *ddan_sample_list(store *st, int64_t from_ms, int64_t to_ms, int by_completion, int limit,
			 ctd_err *err);
json_t *ddan_submitter_list(store *st, ctd_err *err);

typedef struct ddan_submitter_in {
	const char *client_uuid, *product_name, *hostname, *source_id, *source_name, *protocol;
} ddan_submitter_in;
int ddan_submitter_register(store *st, const ddan_submitter_in *in, ctd_err *err);
int ddan_submitter_unregister(store *st, const char *client_uuid, ctd_err *err);
/* 1 registered, 0 not; refreshes last seen (at most every 10 s) when registered. */
int ddan_submitter_touch(store *st, const char *client_uuid, ctd_err *err);

/* ddan_so.c: suspicious objects. */
/* Record (or refresh) one SO seen in a sample; inside the caller's
 * transaction. Content that breaks the lab's rules (so_content.h) is logged
 * and left out (0): one bad URL never fails an analysis. */
int ddan_so_record(store *st, const char *type, const char *value, const char *risk,
		   const char *sha1, int64_t now, int64_t expiry_ms, ctd_err *err);
/* Mark expired SOs removed (new change ids). Returns how many, or -1. */
int ddan_so_expire_due(store *st, int64_t now, ctd_err *err);
/* Console actions: "expire" (now) or "never_expire" / "expire_normally". */
int ddan_so_action(store *st, int64_t id, const char *action, int64_t expiry_ms, ctd_err *err);
/* One get_black_lists page after cursor. */
int ddan_so_feed(store *st, int64_t after, long limit, sbuf *out, ctd_err *err);
/* The SOs a sample produced, as REPORT elements; returns their count or -1. */
int ddan_so_for_sample(store *st, const char *sha1, sbuf *out, ctd_err *err);
/* Console list: JSON array. include_removed: also expired ones. */
json_t *ddan_so_list(store *st, const char *type, int include_removed, ctd_err *err);

/* ddan_exceptions.c: objects never made suspicious. match: 1, 0, or -1. */
int ddan_exception_match(store *st, const char *type, const char *value, ctd_err *err);
/* Add one (ECONFLICT when present) and retire the matching active SO. */
json_t *ddan_exception_add(store *st, const char *type, const char *value, const char *note,
			   int64_t expiry_ms, ctd_err *err);
int ddan_exception_delete(store *st, int64_t id, ctd_err *err);
json_t *ddan_exception_list(store *st, ctd_err *err);
/* get_exception_list: <EXCEPTIONS><REPORT><ID/><TYPE/><VALUE/><NOTE/><CREATED/>… (ours). */
int ddan_exception_list_xml(store *st, sbuf *out, ctd_err *err);
/* upload_exception_list: add each REPORT{TYPE, VALUE, NOTE} of xml (present
 * ones are kept); EINVAL for a broken document or entry, nothing added then. */
int ddan_exception_upload_xml(store *st, const char *xml, size_t len, int64_t expiry_ms,
			      ctd_err *err);

/* ddan_report.c: response documents. */
void ddan_brief_xml_begin(sbuf *out);
void ddan_brief_xml_add(sbuf *out, const char *sha1, int status, int risk);
void ddan_brief_xml_end(sbuf *out);
/* The REPORTS document of get_report for a loaded sample (ddan_sample_load). */
char *ddan_report_xml(json_t *sample, int report_type, size_t *len);
char *ddan_event_log_xml(json_t *sample, size_t *len);
char *ddan_openioc_xml(json_t *sample, size_t *len);
/* ddan_pdf.c: the PDF report of a finished sample. */
char *ddan_pdf_report(json_t *sample, size_t *len);
/* query_sample_info: the summary of one sample (by SRID). */
char *ddan_sample_info_xml(json_t *sample, size_t *len);
/* A small synthetic PNG screenshot (static bytes). */
const unsigned char *ddan_screenshot_png(size_t *len);
/* An (empty) capture file of the sandbox traffic, in a pcap. */
int ddan_pcap_bytes(sbuf *out, ctd_err *err);
/* Pack one member into a tgz or a zip (optionally encrypted with password). */
int ddan_pack(const char *format, const char *password, const char *member, const void *data,
	      size_t len, sbuf *out, ctd_err *err);

/* ddan_upload.c: the upload_sample archive. */
typedef struct ddan_upload_item {
	char sha1[41];           /* from the member names (upper case) */
	char *meta, *log;        /* texts (malloc'd; may be NULL) */
	unsigned char *dat;      /* sample bytes (malloc'd; NULL when absent) */
	size_t dat_len;
	int has_dat;
} ddan_upload_item;
typedef struct ddan_upload {
	ddan_upload_item *items;
	size_t n;
} ddan_upload;
/* Read a tgz/zip upload into items grouped by <sha1>; -1 with err (EINVAL) on
 * a broken archive or unexpected members. */
int ddan_upload_parse(const void *data, size_t len, size_t max_member, ddan_upload *out,
		      ctd_err *err);
void ddan_upload_free(ddan_upload *u);
/* One value of the meta line ("k=v&k=v", %-decoded); malloc'd or NULL. */
char *ddan_meta_get(const char *meta, const char *key);

#endif
