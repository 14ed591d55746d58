/* ddi_sensor.h - the DDI daemon's running parts: the capture sensor, the
 * submission worker (rules, DDAN or the internal Virtual Analyzer), the
 * detections / suspicious-objects store and the console + SO-feed API. */
#ifndef DDI_SENSOR_H
#define DDI_SENSOR_H

#include <pthread.h>
#include <jansson.h>
#include "err.h"
#include "http_server.h"
#include "store.h"
#include "ddi.h"

/* ---- capture (ddi_capture.c) */
typedef struct ddi_sensor_opts {
	int live;              /* capture on `interface` */
	const char *interface; /* "lo" in the lab */
	const char *bpf;       /* "" = everything */
	int buffer_bytes;      /* kernel capture buffer */
	const char *pcap_dir;  /* drop folder, "" = none */
	int64_t poll_ms;       /* drop folder scan interval */
	const char *const *read_files; /* --read: ingested once at start */
	size_t nread;
	size_t queue_packets, queue_bytes; /* capture -> process queue bounds */
	ddi_limits lim;
	size_t total_max_bytes; /* memory budget of each engine */
	ddi_carve_fn carve;
	void *carve_cls;
} ddi_sensor_opts;

typedef struct ddi_sensor ddi_sensor;
ddi_sensor *ddi_sensor_start(const ddi_sensor_opts *o);
/* Read one pcap/pcapng file now (serialised with the other file readers). */
int ddi_sensor_read_file(ddi_sensor *s, const char *path, json_t **summary, ctd_err *err);
json_t *ddi_sensor_status(ddi_sensor *s);
const char *ddi_sensor_state(ddi_sensor *s);
void ddi_sensor_stop(ddi_sensor *s);

/* ---- file submission (ddi_submit.c, ddi_rules.c) */

/* True file type classes, named like DDI's file-submission rule criteria. */
const char *ddi_true_type(const unsigned char *d, size_t n, char *desc, size_t desclen);

typedef enum { RISK_NONE = 0, RISK_LOW = 1, RISK_MEDIUM = 2, RISK_HIGH = 3 } ddi_risk;
const char *ddi_risk_name(int risk); /* "No risk", "Low", "Medium", "High" */

/* The lab's local verdict (internal Virtual Analyzer and DDI's own pattern
 * pre-scan): EICAR -> High, CTDLAB-RISK-HIGH -> High, CTDLAB-RISK-MEDIUM ->
 * Medium, else no risk. threat receives a name. */
int ddi_local_verdict(const unsigned char *d, size_t n, char *threat, size_t threatlen);
/* The pre-scan DDI runs before the submission rules: EICAR is "known
 * malware"; the lab markers are "highly suspicious" (heuristic). */
int ddi_is_known_malware(const unsigned char *d, size_t n);
int ddi_is_highly_suspicious(const unsigned char *d, size_t n);

typedef struct ddi_rule_input {
	const char *proto;     /* HTTP | SMTP */
	const char *file_name;
	const char *true_type; /* from ddi_true_type */
	size_t size;
	int known_malware, highly_suspicious;
} ddi_rule_input;
typedef struct ddi_rule_result {
	const char *rule;   /* rule name, or "No matching rule" */
	int submit;         /* 1 submit, 0 do not submit */
} ddi_rule_result;
/* ruleset: "default" (DDI's documented defaults) or "all" (submit everything). */
void ddi_rules_eval(const char *ruleset, const ddi_rule_input *in, ddi_rule_result *out);
json_t *ddi_rules_describe(const char *ruleset);

typedef struct ddi_submit_opts {
	const char *mode;         /* "ddan" | "internal" */
	const char *ddan_url, *ddan_api_key, *client_uuid, *hostname;
	int verify_tls;
	const char *ca_file;      /* NULL: system CAs */
	const char *ruleset;
	size_t max_size;          /* larger files are never submitted */
	size_t max_queued;        /* files waiting for analysis */
	int64_t backoff_ms;       /* pause after DDAN failed */
	int64_t poll_ms;          /* brief-report polling interval */
	int64_t va_timeout_ms;    /* give up waiting for a verdict */
	int64_t internal_va_ms;   /* internal VA analysis time */
	int64_t so_expiry_ms;     /* 0 = never */
	const char *so_types;     /* which SO types to create: "file,url,domain,ip" */
} ddi_submit_opts;

typedef struct ddi_submitter ddi_submitter;
ddi_submitter *ddi_submit_start(const ddi_submit_opts *o);
/* The carve callback: classify, apply the rules, record, queue. */
void ddi_submit_carved(const ddi_carved *f, void *submitter);
json_t *ddi_submit_status(ddi_submitter *sb);
void ddi_submit_stop(ddi_submitter *sb);

/* ---- detections and suspicious objects (ddi_so.c) */
typedef struct ddi_file_ref {
	int64_t id;
	const char *sha1, *file_name, *proto, *url, *host;
	const char *client_ip, *server_ip;
	int client_port, server_port;
} ddi_file_ref;

int ddi_detection_add(store *st, const ddi_file_ref *f, const char *detected_by, int risk,
		      const char *threat, ctd_err *err);
/* File SHA-1 (High verdicts only), URL, domain and IP SOs for a risky file. */
int ddi_so_from_file(store *st, const ddi_file_ref *f, int risk, const char *so_types,
		     int64_t expiry_ms, ctd_err *err);
/* Record (or refresh) one SO; content that breaks the lab's rules
 * (so_content.h) is logged and left out (0).
 * seen_ms: when DDI first saw the object (the capture; 0 = now). */
int ddi_so_upsert(store *st, const char *type, const char *value, const char *risk,
		  const char *related_sha1, int64_t seen_ms, int64_t expiry_ms, ctd_err *err);
/* Expire SOs past their expiry (a new change id each, so feeds drop them). */
int ddi_so_expire_due(store *st, int64_t now_ms, ctd_err *err);
/* Remove one active SO (feeds see it removed under a new change id) or one
 * detection; CTD_ENOTFOUND when there is none with that id. */
int ddi_so_remove(store *st, int64_t id, ctd_err *err);
int ddi_detection_delete(store *st, int64_t id, ctd_err *err);
/* Normalised SO values: upper-case SHA-1, URL with lower-case scheme/host and
 * no default port. Caller frees. */
char *ddi_so_normalize_url(const char *url);
json_t *ddi_so_list(store *st, const char *type, int include_removed, int limit, ctd_err *err);
json_t *ddi_detections_list(store *st, int64_t after_id, int limit, ctd_err *err);
json_t *ddi_files_list(store *st, const char *state, int limit, ctd_err *err);
/* The dashboard's counts: detections, files, active SOs in all and by type. */
json_t *ddi_totals(store *st, ctd_err *err);
/* One feed page (sofeed.h XML) of changes after `after`. */
int ddi_so_feed_page(store *st, int64_t after, int limit, sbuf *xml, ctd_err *err);

/* ---- the STEP 3-1 download site (ddi_downloads.c) */
typedef struct ddi_downloads_opts {
	const char *bind;        /* the lab's loopback */
	int port;                /* 0: ephemeral */
	ddi_sensor *sensor;      /* reads the hand-off captures */
	const char *capture_dir; /* where the hand-off captures are kept */
} ddi_downloads_opts;

typedef struct ddi_downloads ddi_downloads;
ddi_downloads *ddi_downloads_start(const ddi_downloads_opts *o, ctd_err *err);
int ddi_downloads_port(const ddi_downloads *dl);
/* The downloads served, newest first: file, sha1, client, mode ("live
 * capture" | "capture hand-off"), reason, capture_file. New reference. */
json_t *ddi_downloads_served(ddi_downloads *dl);
void ddi_downloads_stop(ddi_downloads *dl);

/* ---- console API and SO feed (ddi_api.c) */
typedef struct ddi_app {
	const char *api_key;
	ddi_sensor *sensor;
	ddi_submitter *submitter;
	const char *home;
	const char *ruleset;
	int feed_page;
	ddi_downloads *downloads; /* NULL: download_site = no */
	const char *download_url;
} ddi_app;
extern const http_route ddi_routes[];
extern const size_t ddi_nroutes;

#endif
