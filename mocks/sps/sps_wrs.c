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
#include <stdio.h>
#include <string.h>
#include "log.h"
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

static json_t *so_json(const sps_so_hit *so)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", so->type, "value", so->value,
			 "action", so->action, "risk", so->risk, "source", so->source);
}

static json_t *rating_json(const char *url, const char *norm, int score, const char *category,
			   const char *source, json_t *so)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:o}", "url", url, "normalized", norm,
			 "score", score, "rating", sps_rating_for_score(score), "category",
			 category, "source", source, "so", so ? so : json_null());
}

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

json_t *sps_wrs_rate(const char *in, ctd_err *err)
{
	sps_url u;
	if (sps_url_parse(in, &u, err) != 0)
		return NULL;
	json_t *out = NULL;
	sps_list_hit lh;
	if (sps_lists_match(&u, &lh, err) != 0)
		goto done;
	if (lh.matched) {
		out = rating_json(in, u.norm, lh.block ? SCORE_BLOCKED : SCORE_APPROVED,
				  lh.block ? "Blocked URL" : "Approved URL",
				  lh.block ? "blocked_list" : "approved_list", NULL);
		json_object_set_new(out, "rule",
				    json_pack("{s:I, s:s}", "id", (json_int_t)lh.rule_id,
					      "pattern", lh.pattern));
		sps_list_hit_free(&lh);
		goto done;
	}
	sps_so_hit so;
	if (sps_so_match_url(&u, &so, err) != 0)
		goto done;
	if (so.found) {
		out = rating_json(in, u.norm, so_score(so.risk), "Suspicious Object",
				  "suspicious_object", so_json(&so));
		note_so_match(u.norm, &so);
		goto done;
	}
	const sps_testurl *t = sps_testurl_find(u.host);
	if (t)
		out = rating_json(in, u.norm, t->score, t->category, "builtin", NULL);
	else
		out = rating_json(in, u.norm, SCORE_UNRATED, "Untested", "none", NULL);
done:
	if (out)
		log_debug("wrs.query", "url=\"%s\" rating=\"%s\" source=%s", u.norm,
			  json_string_value(json_object_get(out, "rating")),
			  json_string_value(json_object_get(out, "source")));
	sps_url_free(&u);
	return out;
}

json_t *sps_wrs_rate_file(const char *sha1, ctd_err *err)
{
	char key[41];
	if (!sps_sha1_normalize(sha1, key))
		return ctd_fail(err, CTD_EINVAL, "sha1 must be 40 hex digits"), NULL;
	sps_so_hit so;
	if (sps_so_match_file(key, &so, err) != 0)
		return NULL;
	int score = so.found ? so_score(so.risk) : SCORE_UNRATED;
	return json_pack("{s:s, s:i, s:s, s:s, s:o}", "sha1", key, "score", score, "rating",
			 sps_rating_for_score(score), "source",
			 so.found ? "suspicious_object" : "none", "so",
			 so.found ? so_json(&so) : json_null());
}

/* ---- the recent-query log: a ring in memory, what the console lists ---- */

typedef struct recent_query {
	int64_t ms;
	char client[48], kind[8], query[512], rating[24], category[40], source[24], action[12];
	int score;
} recent_query;

static struct {
	pthread_mutex_t mu;
	recent_query q[RECENT_MAX];
	unsigned long n; /* queries noted so far; the newest is q[(n - 1) % RECENT_MAX] */
} recent = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void copy_field(char *dst, size_t n, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	snprintf(dst, n, "%s", v ? v : "");
}

/* Note a rating a client was given (kind "url" or "file"). */
static void note_query(const http_req *req, const char *kind, const char *query, json_t *rating)
{
	recent_query e = {.ms = time_now_ms(),
			  .score = (int)json_integer_value(json_object_get(rating, "score"))};
	http_req_client_ip(req, e.client, sizeof e.client);
	snprintf(e.kind, sizeof e.kind, "%s", kind);
	snprintf(e.query, sizeof e.query, "%s", query);
	copy_field(e.rating, sizeof e.rating, rating, "rating");
	copy_field(e.category, sizeof e.category, rating, "category");
	copy_field(e.source, sizeof e.source, rating, "source");
	copy_field(e.action, sizeof e.action, json_object_get(rating, "so"), "action");
	pthread_mutex_lock(&recent.mu);
	recent.q[recent.n++ % RECENT_MAX] = e;
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
		char t[32];
		time_iso8601(e->ms, t, sizeof t);
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}",
			"time", t, "client", e->client, "kind", e->kind, "query", e->query, "score",
			e->score, "rating", e->rating, "category", e->category, "source", e->source,
			"action", e->action));
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
	json_t *r = sps_wrs_rate(url, &err);
	if (r)
		note_query(req, "url", url, r);
	http_resp_result(resp, r, &err);
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
	json_t *results = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(urls, i, v)
	{
		ctd_err err;
		const char *url = json_string_value(v);
		json_t *r = url ? sps_wrs_rate(url, &err) : NULL;
		if (!url)
			ctd_fail(&err, CTD_EINVAL, "URL must be a string");
		if (!r && err.code != CTD_EINVAL && err.code != CTD_ETOOBIG) {
			json_decref(results);
			json_decref(body);
			http_resp_ctd_err(resp, &err);
			return;
		}
		if (r)
			note_query(req, "url", url, r);
		else
			r = json_pack("{s:O, s:{s:s, s:s}}", "url", v, "error", "code",
				      ctd_errcode_name(err.code), "message", err.msg);
		json_array_append_new(results, r);
	}
	json_decref(body);
	http_resp_json(resp, 200, json_pack("{s:o}", "results", results));
}

static void wrs_file(http_req *req, http_resp *resp)
{
	ctd_err err;
	const char *sha1 = http_req_query(req, "sha1");
	json_t *r = sps_wrs_rate_file(sha1 ? sha1 : "", &err);
	if (r)
		note_query(req, "file", json_string_value(json_object_get(r, "sha1")), r);
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
