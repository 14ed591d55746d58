/* ddi.h - the DDI sensor's packet-to-file path (pure parts, unit-tested).
 *
 * Data path:  capture (libpcap: live interface, pcap/pcapng files) ddi_capture.c
 *          -> engine  (link/IP/TCP decode, flow dispatch)       ddi_engine.c
 *          -> tcp     (per-direction reassembly, bounded)        ddi_tcp.c
 *          -> http / smtp parsers carve files                    ddi_http.c ddi_smtp.c
 *          -> submit  (rules, DDAN or internal VA, verdicts)     ddi_submit.c ddi_rules.c
 *          -> so      (detections, suspicious objects, feed)     ddi_so.c
 *          -> console API and SO feed                            ddi_api.c
 * ddi_sensor.h declares the running parts. Every stage is single-threaded
 * per engine instance; the daemon runs one engine for live capture and one
 * per capture file. */
#ifndef DDI_H
#define DDI_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* ---- memory budget: one per engine, charged by every buffer that grows
 * with traffic (out-of-order segments, header and body accumulation). */
typedef struct ddi_budget {
	size_t used, limit;
	uint64_t refused; /* charges refused because the budget was exhausted */
} ddi_budget;
/* Reserve n bytes; -1 (and nothing reserved) when over the limit. */
int ddi_budget_take(ddi_budget *b, size_t n);
void ddi_budget_give(ddi_budget *b, size_t n);

typedef struct ddi_limits {
	size_t max_flows;        /* flows tracked at once; the idlest is evicted */
	size_t flow_max_bytes;   /* out-of-order bytes buffered per direction */
	size_t max_file_size;    /* largest carved file; bigger ones are truncated */
	int64_t flow_timeout_ms; /* idle flows are closed */
} ddi_limits;

/* ---- a carved file, with where it came from */
typedef struct ddi_carved {
	const char *proto; /* "HTTP" | "SMTP" */
	char client_ip[INET6_ADDRSTRLEN], server_ip[INET6_ADDRSTRLEN];
	uint16_t client_port, server_port;
	const char *url;       /* HTTP: the full request URL; NULL for SMTP */
	const char *host;      /* HTTP Host (without port); NULL for SMTP */
	const char *file_name; /* Content-Disposition, URL path or MIME filename */
	const char *mail_from; /* SMTP envelope sender; NULL for HTTP */
	const unsigned char *data;
	size_t len;
	int truncated; /* the body was cut at max_file_size or by a gap */
	int64_t ts_ms; /* capture time of the packet that completed it */
} ddi_carved;
typedef void (*ddi_carve_fn)(const ddi_carved *f, void *cls);

/* ---- TCP reassembly */
typedef struct ddi_flow_info {
	int family; /* AF_INET | AF_INET6 */
	char client_ip[INET6_ADDRSTRLEN], server_ip[INET6_ADDRSTRLEN];
	uint16_t client_port, server_port;
} ddi_flow_info;

enum { DDI_TO_SERVER = 0, DDI_TO_CLIENT = 1 };

/* What a flow's consumer sees: in-order bytes per direction, gaps (bytes that
 * will never arrive), and the end of the flow. data returns -1 when the
 * consumer wants nothing more of this flow (not a protocol it parses): the
 * flow is then only tracked, never buffered. */
typedef struct ddi_stream_ops {
	void *(*open)(const ddi_flow_info *fi, void *cls);
	int (*data)(void *st, int dir, const unsigned char *d, size_t n, int64_t ts_ms);
	void (*gap)(void *st, int dir, uint32_t lost); /* lost: bytes skipped */
	void (*close)(void *st, int64_t ts_ms);
} ddi_stream_ops;

typedef struct ddi_tcp_seg {
	int family;
	unsigned char src[16], dst[16]; /* network order; IPv4 in the first 4 */
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags; /* TH_SYN, TH_ACK, TH_FIN, TH_RST ... */
	const unsigned char *payload;
	size_t len;
	int64_t ts_ms;
} ddi_tcp_seg;

typedef struct ddi_tcp_stats {
	uint64_t segments, flows_opened, flows_closed, flows_evicted, flows_timed_out;
	uint64_t retransmitted_bytes, gaps, dropped_segments;
	size_t flows_active;
} ddi_tcp_stats;

typedef struct ddi_tcp ddi_tcp;
ddi_tcp *ddi_tcp_new(const ddi_limits *lim, ddi_budget *budget, const ddi_stream_ops *ops,
		     void *cls);
void ddi_tcp_segment(ddi_tcp *t, const ddi_tcp_seg *seg);
/* Close flows idle since before now_ms - flow_timeout_ms. */
void ddi_tcp_expire(ddi_tcp *t, int64_t now_ms);
/* Close every flow (end of a capture file, shutdown). */
void ddi_tcp_flush(ddi_tcp *t, int64_t now_ms);
void ddi_tcp_get_stats(const ddi_tcp *t, ddi_tcp_stats *out);
void ddi_tcp_free(ddi_tcp *t);

/* ---- application parsers, fed one flow each */
typedef struct ddi_parser_env {
	const ddi_flow_info *flow;
	const ddi_limits *lim;
	ddi_budget *budget;
	ddi_carve_fn carve;
	void *carve_cls;
} ddi_parser_env;

typedef struct ddi_http ddi_http;
ddi_http *ddi_http_new(const ddi_parser_env *env);
/* Returns -1 once the stream is not (or no longer) parseable HTTP. */
int ddi_http_data(ddi_http *h, int dir, const unsigned char *d, size_t n, int64_t ts_ms);
void ddi_http_gap(ddi_http *h, int dir, uint32_t lost);
/* End of flow: a response delimited by the close is complete now. */
void ddi_http_close(ddi_http *h, int64_t ts_ms);
void ddi_http_free(ddi_http *h);
/* Does this look like the start of an HTTP/1.x request? */
int ddi_http_is_request(const unsigned char *d, size_t n);

typedef struct ddi_smtp ddi_smtp;
ddi_smtp *ddi_smtp_new(const ddi_parser_env *env);
int ddi_smtp_data(ddi_smtp *s, int dir, const unsigned char *d, size_t n, int64_t ts_ms);
void ddi_smtp_gap(ddi_smtp *s, int dir, uint32_t lost);
void ddi_smtp_free(ddi_smtp *s);
/* Does this look like an SMTP greeting or client command? */
int ddi_smtp_is_greeting(const unsigned char *d, size_t n);
int ddi_smtp_is_command(const unsigned char *d, size_t n);
/* Carve every attachment of a complete RFC 5322 message (GMime). */
void ddi_smtp_carve_message(const ddi_parser_env *env, const char *mail_from,
			    const unsigned char *msg, size_t len, int64_t ts_ms);

/* Decode a gzip / x-gzip / deflate body into out (at most max bytes).
 * Returns 0, 1 when the output was cut at max, -1 on corrupt input. */
struct sbuf;
int ddi_http_decode(const char *encoding, const unsigned char *in, size_t len, size_t max,
		    struct sbuf *out);

/* ---- engine: packets in, carved files out */
typedef struct ddi_engine_stats {
	uint64_t packets, bytes, non_tcp, malformed, fragments;
	uint64_t files_carved, http_flows, smtp_flows, other_flows;
	ddi_tcp_stats tcp;
	size_t budget_used;
	uint64_t budget_refused;
} ddi_engine_stats;

typedef struct ddi_engine ddi_engine;
ddi_engine *ddi_engine_new(const ddi_limits *lim, size_t total_max_bytes, ddi_carve_fn carve,
			   void *cls);
/* One captured frame of link type dlt (DLT_*). Never fails: bad frames are counted. */
void ddi_engine_packet(ddi_engine *e, int dlt, const unsigned char *frame, size_t caplen,
		       int64_t ts_ms);
void ddi_engine_tick(ddi_engine *e, int64_t now_ms);
void ddi_engine_flush(ddi_engine *e, int64_t now_ms);
void ddi_engine_get_stats(const ddi_engine *e, ddi_engine_stats *out);
void ddi_engine_free(ddi_engine *e);

#endif
