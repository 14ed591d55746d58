/* sps.h - the Smart Protection Server emulator's internal interfaces: URL
 * normalisation, the Approved/Blocked URL lists, the suspicious-object store,
 * the rating engine behind the WRS query endpoint, the SO subscription and
 * the console API. */
#ifndef SPS_H
#define SPS_H

#include <stdint.h>
#include <jansson.h>
#include "daemon.h"
#include "err.h"
#include "http_server.h"
#include "sofeed.h"
#include "store.h"

/* ---- configuration (spsd.c) ---- */
typedef struct sps_config {
	daemon_config base;
	long long wrs_port;
	char *so_source; /* tmcm | ddan */
	char *tmcm_url, *tmcm_api_key;
	char *ddan_url, *ddan_api_key;
	long long sync_interval_ms;
	long long sync_timeout_ms;
	int verify_tls;
	char *admin_password; /* "" = generate on first start */
	char *api_key;        /* console API key; "" = generate */
} sps_config;

/* ---- URL normalisation (sps_url.c) ---- */
typedef struct sps_url {
	char scheme[16];
	char host[256];   /* lower case; IPv6 without brackets; no trailing dot */
	int port;         /* explicit non-default port, else 0 */
	int host_is_ip;   /* 4, 6 or 0 */
	char *path;       /* starts with '/'; no trailing slash except the root */
	char *query;      /* NULL when absent or empty */
	char *norm;       /* scheme://host[:port]path[?query] */
	const char *rest; /* norm without "scheme://": what list rules compare */
} sps_url;

/* Parse and normalise a URL ("example.com/x" means http). */
int sps_url_parse(const char *in, sps_url *u, ctd_err *err);
void sps_url_free(sps_url *u);
/* Canonical forms of SO values: domain (lower case, no "*." or trailing dot)
 * and IP (inet_ntop text). Return malloc'd strings, NULL when invalid. */
char *sps_domain_normalize(const char *in);
char *sps_ip_normalize(const char *in);
/* 1 if s is 40 hex digits; writes the upper-case form into out. */
int sps_sha1_normalize(const char *s, char out[41]);

/* ---- Approved / Blocked URL lists (sps_lists.c) ---- */
enum { SPS_RULE_URL, SPS_RULE_KEYWORD };

typedef struct sps_rule sps_rule;
/* Build a rule from its fields (validates the URL or regex). */
sps_rule *sps_rule_new(int64_t id, int kind, const char *pattern, int subsites, int block,
		       ctd_err *err);
void sps_rule_free(sps_rule *r);
int sps_rule_matches(const sps_rule *r, const sps_url *u);
int64_t sps_rule_id(const sps_rule *r);
int sps_rule_blocks(const sps_rule *r);

typedef struct sps_list_hit {
	int matched;
	int block;
	int64_t rule_id;
	char *pattern; /* malloc'd */
} sps_list_hit;

/* Match against the enabled rules; block rules win over approve rules. */
int sps_lists_match(const sps_url *u, sps_list_hit *hit, ctd_err *err);
void sps_list_hit_free(sps_list_hit *hit);
/* Console CRUD. body: {"type":"url|keyword","pattern","action":"approve|block",
 * "scope":"subsites|page","enabled":true,"note"}. */
json_t *sps_lists_all(ctd_err *err);
json_t *sps_lists_add(json_t *body, ctd_err *err);
json_t *sps_lists_update(int64_t id, json_t *body, ctd_err *err);
int sps_lists_delete(int64_t id, ctd_err *err);

/* ---- suspicious objects (sps_so.c) ---- */
typedef struct sps_so_hit {
	int found;
	char type[8];
	const char *value; /* the matched key, borrowed from the query (URL or SHA-1) */
	char risk[8];
	char action[12];
	char source[32];
} sps_so_hit;

/* Apply one feed record inside the caller's transaction (removed = delete). */
int sps_so_apply(store *st, const so_record *r, ctd_err *err);
/* A full sync's twin of sps_objects (common/so_sync.h), and n records
 * appended to it under their lookup keys (a record without a usable one is
 * logged and left out), inside the caller's transaction. */
#define SPS_SO_TWIN "sps_objects_next"
int sps_so_load(store *st, const so_record *r, size_t n, ctd_err *err);
/* A full sync's removal, applied after the swap: only a state older than it
 * goes (the object may have come back after it). */
int sps_so_remove_older(store *st, const so_record *r, ctd_err *err);
/* URL object, then domain objects on the host or a parent, then IP objects. */
int sps_so_match_url(const sps_url *u, sps_so_hit *hit, ctd_err *err);
int sps_so_match_file(const char *sha1_upper, sps_so_hit *hit, ctd_err *err);
/* {"total":n,"URL":n,"DOMAIN":n,"IP":n,"FILE":n} */
json_t *sps_so_counts(ctd_err *err);
json_t *sps_so_list(const char *type, int limit, ctd_err *err);
int sps_so_clear(store *st, ctd_err *err);

/* ---- rating engine and WRS listener (sps_wrs.c) ---- */
/* The rating JSON of one URL / one SHA-1; NULL with err for bad input. */
json_t *sps_wrs_rate(const char *url, ctd_err *err);
json_t *sps_wrs_rate_file(const char *sha1, ctd_err *err);
http_server *sps_wrs_start(const sps_config *cfg, ctd_err *err);
/* Web Reputation > the last queries WRS clients made, newest first (up to
 * limit; 0: all kept): {total, items:[{time, client, kind (url|file), query,
 * score, rating, category, source, action}]}. Kept in memory only. */
json_t *sps_wrs_recent(int limit);

/* Built-in table of public WRS test pages (sps_testurls.c). */
typedef struct sps_testurl {
	const char *host;
	int score;
	const char *category;
} sps_testurl;
const sps_testurl *sps_testurl_find(const char *host);
/* The rating class for a WRS score (Trend's published score bands). */
const char *sps_rating_for_score(int score);

/* ---- SO subscription (sps_sync.c) ---- */
int sps_sync_start(const sps_config *cfg, ctd_err *err);
void sps_sync_stop(void);
/* Wake the worker and wait up to timeout_ms for the sync to finish. With
 * reset, the worker first deletes the local list (a full re-sync from 0). */
int sps_sync_now(int reset, long timeout_ms, ctd_err *err);
/* Test connection: one feed page fetched, nothing applied. */
json_t *sps_sync_test(ctd_err *err);
/* {source, url, subscribed, cursor, last_sync, last_success, last_error, ...} */
json_t *sps_sync_status(ctd_err *err);
/* One synchronous pull from a feed (the worker's unit of work). */
long sps_sync_once(const dtas_client *c, const char *source, const char *url, ctd_err *err);

/* ---- console API (sps_console.c) ---- */
/* The WRS listener's port as bound, for About. */
void sps_console_init(int bound_wrs_port);
extern const http_route sps_console_routes[];
extern const size_t sps_console_nroutes;

#endif
