/* evsink.h - forwarding the shared timeline out of the lab (OpenSMTPD-style
 * sinks behind one function-pointer interface): every event events_append
 * writes is offered to each sink whose kind filter takes it, queued in the
 * sink's bounded queue and sent by the sink's own worker (worker.h), so a slow
 * or dead target never blocks the request path. A full queue drops the event,
 * counts it and logs a line. Events written inside a transaction are held
 * per thread and offered only when it commits (a rollback discards them).
 *
 * Two sinks ship: syslog (syslog_out.h: CEF/LEEF over UDP, TCP or TLS) and
 * webhooks (webhook.h: signed JSON POSTs). Both are configured per appliance
 * by the options of EVSINK_CFG_OPTS, which every daemon has. */
#ifndef CTD_EVSINK_H
#define CTD_EVSINK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "err.h"

/* One timeline event as the sinks see it (owned by the queue). */
typedef struct evsink_event {
	int64_t id, ts_ms;
	char *appliance, *kind, *ref; /* ref may be NULL */
	json_t *detail;               /* may be NULL */
} evsink_event;

/* What a sink does. deliver: 0 when the event is out, -1 with err to be
 * retried (after the sink's backoff) until the retries are spent. */
typedef struct evsink_ops {
	const char *name; /* "syslog", "webhook": in logs */
	int (*deliver)(void *state, const evsink_event *ev, ctd_err *err);
	void (*free_state)(void *state);
} evsink_ops;

typedef struct evsink_policy {
	const char *kinds;   /* comma-separated `*` globs over kinds; NULL or "": all */
	size_t queue_max;    /* bounded queue; 0: 1024 */
	int retries;         /* attempts after the first before an event is given up */
	int64_t backoff_ms;  /* first wait before a retry, doubled each time (max 60 s) */
} evsink_policy;

typedef struct evsink evsink;

typedef struct evsink_stats {
	uint64_t queued, sent, dropped_full, failed, retries;
	size_t depth;
} evsink_stats;

/* Register a sink and start its worker (call at start-up, before events
 * flow). The sink owns state from here (free_state on stop). */
evsink *evsink_add(const evsink_ops *ops, void *state, const evsink_policy *pol, ctd_err *err);
void evsink_get_stats(evsink *s, evsink_stats *out);
/* {<sink name>: {queued, sent, dropped_full, failed, retries, depth}} of
 * every sink (GET /healthz?detail=1 shows it as "outputs"); NULL when none. */
json_t *evsink_stats_json(void);
/* Stop every sink's worker (an event being sent finishes), free them. */
void evsink_stop_all(void);

/* From events_append: offer an event (copied when a sink takes its kind).
 * in_txn: hold it until evsink_txn_end on this thread. */
void evsink_offer(int64_t id, int64_t ts_ms, const char *appliance, const char *kind,
		  const char *ref, json_t *detail, int in_txn);
/* The calling thread's transaction ended: committed offers its held events. */
void evsink_txn_end(int committed);

/* --- configuration (one table row set, in every daemon) --- */

typedef struct evsink_config {
	char *syslog_target;  /* udp://host:port | tcp://... | tls://...; "" = off */
	char *syslog_format;  /* cef | leef */
	char *syslog_framing; /* 5424 | 3164 */
	char *syslog_tcp_framing; /* octet | lf (RFC 6587) */
	char *syslog_events;  /* kind globs */
	char *syslog_ca;      /* tls: verify the target against this PEM ("" = no check) */
	char *webhook_url;    /* "" = off */
	char *webhook_events;
	char *webhook_secret; /* pinned HMAC key ("" = generated, settings <appliance>.webhook_secret) */
	long long webhook_retries;
	long long webhook_backoff; /* ms */
	long long out_queue;
} evsink_config;

#define EVSINK_DEFAULT_WEBHOOK_EVENTS                                                           \
	"quarantine.*,so.*,udso.*,sample.done,sample.error,sample.timeout"

#define EVSINK_CFG_OPTS(T, m)                                                                   \
	{"syslog_target", CFG_STR, offsetof(T, m.syslog_target), "", NULL, 0, 0, NULL,           \
	 "forward timeline events as syslog to udp://, tcp:// or tls://host:port (empty: off)"},  \
	{"syslog_format", CFG_ENUM, offsetof(T, m.syslog_format), "cef", NULL, 0, 0, "cef|leef", \
	 "syslog payload layout (leef where the product has it, else cef)"},                    \
	{"syslog_framing", CFG_ENUM, offsetof(T, m.syslog_framing), "5424", NULL, 0, 0,          \
	 "5424|3164", "syslog header: RFC 5424 or RFC 3164 (BSD)"},                              \
	{"syslog_tcp_framing", CFG_ENUM, offsetof(T, m.syslog_tcp_framing), "octet", NULL, 0, 0, \
	 "octet|lf", "tcp/tls message framing: octet counting or newline (RFC 6587)"},           \
	{"syslog_events", CFG_STR, offsetof(T, m.syslog_events), "*", NULL, 0, 0, NULL,          \
	 "event kinds forwarded to syslog (comma-separated globs)"},                             \
	{"syslog_ca", CFG_STR, offsetof(T, m.syslog_ca), "", NULL, 0, 0, NULL,                   \
	 "tls://: verify the syslog server against this CA file (empty: no verification)"},     \
	{"webhook_url", CFG_STR, offsetof(T, m.webhook_url), "", NULL, 0, 0, NULL,               \
	 "POST chosen timeline events as signed JSON to this URL (empty: off)"},                 \
	{"webhook_events", CFG_STR, offsetof(T, m.webhook_events),                               \
	 EVSINK_DEFAULT_WEBHOOK_EVENTS, NULL, 0, 0, NULL,                                        \
	 "event kinds POSTed to the webhook (comma-separated globs)"},                           \
	{"webhook_secret", CFG_STR, offsetof(T, m.webhook_secret), "", NULL, 0, 0, NULL,         \
	 "HMAC-SHA256 key of X-Ctdlab-Signature (empty: generated and kept in lab.db)"},         \
	{"webhook_retries", CFG_INT, offsetof(T, m.webhook_retries), "5", NULL, 0, 20, NULL,     \
	 "retries of a webhook POST that failed or got no 2xx"},                                 \
	{"webhook_backoff", CFG_DURATION, offsetof(T, m.webhook_backoff), "500ms", "5s", 10,     \
	 3600000, NULL, "first wait before a webhook retry, doubled each time"},                 \
	{"out_queue", CFG_INT, offsetof(T, m.out_queue), "1024", NULL, 1, 1000000, NULL,         \
	 "events each output (syslog, webhook) holds before dropping"}

/* Start the outputs cfg asks for, for appliance (outputs.c), describing
 * them in info ({syslog:{target,...}, webhook:{url, secret, events}});
 * -1 with err when an option is unusable. */
int evsink_start_outputs(const char *appliance, const evsink_config *cfg, json_t *info,
			 ctd_err *err);

#endif
