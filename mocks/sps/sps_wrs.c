/* sps_wrs.c - the web reputation query service on its own plain-HTTP
 * listener (default port 5274), and the rating engine behind it. A URL is
 * rated from, in order: the Approved/Blocked URL list, the subscribed
 * suspicious objects, the built-in WRS test pages, else Unrated.
 *
 *   GET  /wrs/v1/query?url=<urlencoded>      one rating
 *   POST /wrs/v1/query {"urls":[...]}        {"results":[rating...]}
 *   GET  /wrs/v1/file?sha1=<sha1>            file reputation (FILE objects)
 * The wire format is ours (the real WRS protocol is not public); clients such
 * as imsvad depend on it, so keep it stable: docs/sps.md documents it. */
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "json_write.h"
#include "log.h"
#include "net.h"
#include "sps.h"
#include "store.h"

#define WRS_BATCH_MAX 1000
#define SCORE_BLOCKED 0
#define SCORE_APPROVED 100
#define SCORE_UNRATED 71
#define RECENT_MAX 200 /* Web Reputation > recent queries the console shows */

/* SO risk to WRS score: High -> Dangerous, Medium -> Highly Suspicious,
 * Low -> Suspicious (scores inside Trend's published bands). */
static int so_score(const char *risk)
{
	if (strcmp(risk, "Medium") == 0)
		return 60;
	if (strcmp(risk, "Low") == 0)
		return 75;
	return 30;
}

/* What decided a URL's rating, before it is written as JSON. */
typedef struct wrs_rating {
	int score;
	const char *category, *source; /* static text */
	sps_list_hit list;             /* list.matched: the rule that decided */
	sps_so_hit so;                 /* so.found: the object that decided */
} wrs_rating;

static void note_so_match(const char *url, const sps_so_hit *so)
{
	ctd_err err;
	store *st = store_get(&err);
	if (!st)
		return;
	json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "type", so->type, "value", so->value,
				   "action", so->action, "risk", so->risk);
	events_append(st, "sps", "wrs.so_match", url, detail, &err);
	json_decref(detail);
}

/* Rate the URL in u: the lists, then the objects, then the test pages. Free
 * r->list with sps_list_hit_free. */
static int rate_parsed(const sps_url *u, wrs_rating *r, ctd_err *err)
{
	memset(r, 0, sizeof *r);
	if (sps_lists_match(u, &r->list, err) != 0)
		return -1;
	if (r->list.matched) {
		r->score = r->list.block ? SCORE_BLOCKED : SCORE_APPROVED;
		r->category = r->list.block ? "Blocked URL" : "Approved URL";
		r->source = r->list.block ? "blocked_list" : "approved_list";
		return 0;
	}
	if (sps_so_match_url(u, &r->so, err) != 0)
		return -1;
	if (r->so.found) {
		r->score = so_score(r->so.risk);
		r->category = "Suspicious Object";
		r->source = "suspicious_object";
		note_so_match(u->norm, &r->so);
		return 0;
	}
	const sps_testurl *t = sps_testurl_find(u->host);
	r->score = t ? t->score : SCORE_UNRATED;
	r->category = t ? t->category : "Untested";
	r->source = t ? "builtin" : "none";
	return 0;
}

/* ,"<name>":<value as a JSON string> (name given with its quotes and colon) */
static void put_str(sbuf *b, const char *name_colon, const char *v)
{
	sbuf_puts(b, name_colon);
	json_write_str(b, v, strlen(v));
}

static void so_write(sbuf *b, const sps_so_hit *so)
{
	put_str(b, "{\"type\":", so->type);
	put_str(b, ",\"value\":", so->value);
	put_str(b, ",\"action\":", so->action);
	put_str(b, ",\"risk\":", so->risk);
	put_str(b, ",\"source\":", so->source);
	sbuf_puts(b, "}");
}

/* The rating as the answer's JSON text: {url, normalized, score, rating,
 * category, source, so (null or {type, value, action, risk, source}), and
 * for a list match rule {id, pattern}}, written without a jansson tree. */
static void rating_write(sbuf *b, const char *in, const sps_url *u, const wrs_rating *r)
{
	put_str(b, "{\"url\":", in);
	put_str(b, ",\"normalized\":", u->norm);
	sbuf_puts(b, ",\"score\":");
	sbuf_put_int(b, r->score);
	put_str(b, ",\"rating\":", sps_rating_for_score(r->score));
	put_str(b, ",\"category\":", r->category);
	put_str(b, ",\"source\":", r->source);
	sbuf_puts(b, ",\"so\":");
	if (r->so.found)
		so_write(b, &r->so);
	else
		sbuf_puts(b, "null");
	if (r->list.matched) {
		sbuf_puts(b, ",\"rule\":{\"id\":");
		sbuf_put_int(b, r->list.rule_id);
		put_str(b, ",\"pattern\":", r->list.pattern);
		sbuf_puts(b, "}");
	}
	sbuf_puts(b, "}");
}

/* The rating of one URL appended to b as JSON text; -1 with err (b as it
 * was) for bad input or a store failure. The summary is what the recent-query
 * log keeps. */
static int rate_url(const char *in, sbuf *b, wrs_rating *summary, ctd_err *err)
{
	sps_url u;
	if (sps_url_parse(in, &u, err) != 0)
		return -1;
	int rc = rate_parsed(&u, summary, err);
	if (rc == 0) {
		rating_write(b, in, &u, summary);
		log_debug("wrs.query", "url=\"%s\" rating=\"%s\" source=%s", u.norm,
			  sps_rating_for_score(summary->score), summary->source);
	}
	sps_list_hit_free(&summary->list);
	sps_url_free(&u);
	return rc;
}

json_t *sps_wrs_rate(const char *in, ctd_err *err)
{
	sbuf b = {0};
	wrs_rating r;
	json_t *out = NULL;
	if (rate_url(in, &b, &r, err) == 0)
		out = json_loadb(b.data, b.len, 0, NULL);
	sbuf_free(&b);
	return out;
}

/* The file rating of a SHA-1 (so: the object, if one matched). */
static json_t *rate_file(const char *sha1, sps_so_hit *so, ctd_err *err)
{
	char key[41];
	if (!sps_sha1_normalize(sha1, key))
		return ctd_fail(err, CTD_EINVAL, "sha1 must be 40 hex digits"), NULL;
	if (sps_so_match_file(key, so, err) != 0)
		return NULL;
	int score = so->found ? so_score(so->risk) : SCORE_UNRATED;
	return json_pack("{s:s, s:i, s:s, s:s, s:o}", "sha1", key, "score", score, "rating",
			 sps_rating_for_score(score), "source",
			 so->found ? "suspicious_object" : "none", "so",
			 so->found ? json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", so->type,
					       "value", so->value, "action", so->action, "risk",
					       so->risk, "source", so->source)
				   : json_null());
}

json_t *sps_wrs_rate_file(const char *sha1, ctd_err *err)
{
	sps_so_hit so;
	return rate_file(sha1, &so, err);
}

/* ---- the recent-query log: a ring in memory, what the console lists ---- */

/* Kept raw: the client's address and the rating's static texts are made
 * into JSON only when the console lists them. */
typedef struct recent_query {
	int64_t ms;
	union {
		struct sockaddr sa;
		struct sockaddr_in6 in6; /* the larger of the two families */
	} client;
	const char *kind, *category, *source; /* static text */
	char query[512], action[12];
	int score;
} recent_query;

static struct {
	pthread_mutex_t mu;
	recent_query q[RECENT_MAX];
	unsigned long n; /* queries noted so far; the newest is q[(n - 1) % RECENT_MAX] */
} recent = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void copy_text(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Note a rating a client was given (kind "url" or "file"); so: the object
 * that decided it, or NULL. */
static void note_query(const http_req *req, const char *kind, const char *query, int score,
		       const char *category, const char *source, const sps_so_hit *so)
{
	pthread_mutex_lock(&recent.mu);
	recent_query *e = &recent.q[recent.n++ % RECENT_MAX];
	*e = (recent_query){.ms = time_now_ms(), .kind = kind, .category = category,
			    .source = source, .score = score};
	const struct sockaddr *sa = http_req_client_addr(req);
	if (sa)
		memcpy(&e->client, sa,
		       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in));
	copy_text(e->query, sizeof e->query, query);
	copy_text(e->action, sizeof e->action, so && so->found ? so->action : "");
	pthread_mutex_unlock(&recent.mu);
}

json_t *sps_wrs_recent(int limit)
{
	json_t *items = json_array();
	pthread_mutex_lock(&recent.mu);
	unsigned long n = recent.n, kept = n < RECENT_MAX ? n : RECENT_MAX;
	if (limit > 0 && (unsigned long)limit < kept)
		kept = (unsigned long)limit;
	for (unsigned long i = 0; i < kept; i++) {
		const recent_query *e = &recent.q[(n - 1 - i) % RECENT_MAX];
		char t[32], client[INET6_ADDRSTRLEN];
		time_iso8601(e->ms, t, sizeof t);
		net_addr_text(&e->client.sa, client, sizeof client);
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}",
			"time", t, "client", client, "kind", e->kind, "query", e->query, "score",
			e->score, "rating", sps_rating_for_score(e->score), "category", e->category,
			"source", e->source, "action", e->action));
	}
	pthread_mutex_unlock(&recent.mu);
	return json_pack("{s:I, s:o}", "total", (json_int_t)n, "items", items);
}

static void wrs_query_get(http_req *req, http_resp *resp)
{
	ctd_err err;
	const char *url = http_req_query(req, "url");
	if (!url || !*url) {
		http_resp_error(resp, 400, "invalid", "missing query parameter \"url\"");
		return;
	}
	wrs_rating r;
	http_resp_bytes(resp, 200, "application/json", NULL, 0);
	if (rate_url(url, &resp->body, &r, &err) != 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	note_query(req, "url", url, r.score, r.category, r.source, &r.so);
}

/* {"urls":[...]} -> {"results":[...]}; a bad URL gets its own error entry. */
static void wrs_query_post(http_req *req, http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	json_t *urls = json_object_get(body, "urls");
	if (!json_is_array(urls)) {
		json_decref(body);
		http_resp_error(resp, 400, "invalid", "body must be {\"urls\":[...]}");
		return;
	}
	if (json_array_size(urls) > WRS_BATCH_MAX) {
		json_decref(body);
		http_resp_error(resp, 413, "too_big", "at most %d URLs per query", WRS_BATCH_MAX);
		return;
	}
	sbuf out = {0};
	sbuf_puts(&out, "{\"results\":[");
	size_t i;
	json_t *v;
	json_array_foreach(urls, i, v)
	{
		ctd_err err;
		wrs_rating r;
		const char *url = json_string_value(v);
		if (i)
			sbuf_puts(&out, ",");
		if (url && rate_url(url, &out, &r, &err) == 0) {
			note_query(req, "url", url, r.score, r.category, r.source, &r.so);
			continue;
		}
		if (!url)
			ctd_fail(&err, CTD_EINVAL, "URL must be a string");
		if (err.code != CTD_EINVAL && err.code != CTD_ETOOBIG) {
			sbuf_free(&out);
			json_decref(body);
			http_resp_ctd_err(resp, &err);
			return;
		}
		json_t *e = json_pack("{s:O, s:{s:s, s:s}}", "url", v, "error", "code",
				      ctd_errcode_name(err.code), "message", err.msg);
		json_write(&out, e);
		json_decref(e);
	}
	sbuf_puts(&out, "]}");
	json_decref(body);
	http_resp_bytes(resp, 200, "application/json", out.data, out.len);
	sbuf_free(&out);
}

static void wrs_file(http_req *req, http_resp *resp)
{
	ctd_err err;
	sps_so_hit so;
	const char *sha1 = http_req_query(req, "sha1");
	json_t *r = rate_file(sha1 ? sha1 : "", &so, &err);
	if (r)
		note_query(req, "file", json_string_value(json_object_get(r, "sha1")),
			   (int)json_integer_value(json_object_get(r, "score")), "",
			   so.found ? "suspicious_object" : "none", &so);
	http_resp_result(resp, r, &err);
}

static void wrs_healthz(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s, s:s}", "appliance", "sps", "service", "wrs"));
}

static const http_route wrs_routes[] = {
	{"GET", "/wrs/v1/query", wrs_query_get, HTTP_PUBLIC},
	{"POST", "/wrs/v1/query", wrs_query_post, HTTP_PUBLIC},
	{"GET", "/wrs/v1/file", wrs_file, HTTP_PUBLIC},
	{"GET", "/healthz", wrs_healthz, HTTP_PUBLIC},
};

http_server *sps_wrs_start(const sps_config *cfg, ctd_err *err)
{
	http_server_opts opts = {
		.bind = cfg->base.bind,
		.port = (int)cfg->wrs_port,
		.max_body = (size_t)cfg->base.max_body,
		.threads = (int)cfg->base.http_threads,
		.routes = wrs_routes,
		.nroutes = sizeof wrs_routes / sizeof wrs_routes[0],
	};
	return http_server_start(&opts, err);
}
