/* imsva_wrs.c - IMSVA's web reputation client: asks the Smart Protection
 * Server about a URL and keeps the answer for wrs_cache_ttl. The wire format
 * lives only here so it is easy to adapt:
 *   GET <sps_url>/wrs/v1/query?url=<urlencoded>
 *   -> {"url","score","rating","category","so":{"type","action"}|null}
 * Failures are not cached: the caller applies wrs_fallback (pass | defer). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_client.h"
#include "imsva_app.h"
#include "log.h"
#include "util.h"

#define CACHE_SLOTS 4096

typedef struct cache_entry {
	char *url;
	int64_t expires_ms;
	imsva_wrs_rating rating;
} cache_entry;

struct imsva_wrs {
	char *base;
	long long ttl_ms;
	pthread_mutex_t lock;
	cache_entry slots[CACHE_SLOTS]; /* direct-mapped by URL hash */
	long long queries, hits, errors;
	int outage_reported;  /* this outage already has its system event */
	int64_t last_ok_ms, last_error_ms;
	char last_error[256];
};

static size_t slot_of(const char *url)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = url; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % CACHE_SLOTS);
}

imsva_wrs *imsva_wrs_new(const char *sps_url, long long cache_ttl_ms)
{
	if (!sps_url || !*sps_url)
		return NULL;
	imsva_wrs *w = xcalloc(1, sizeof *w);
	w->base = xstrdup(sps_url);
	size_t n = strlen(w->base);
	while (n && w->base[n - 1] == '/')
		w->base[--n] = '\0';
	w->ttl_ms = cache_ttl_ms;
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

void imsva_wrs_free(imsva_wrs *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		free(w->slots[i].url);
	pthread_mutex_destroy(&w->lock);
	free(w->base);
	free(w);
}

static int cache_get(imsva_wrs *w, const char *url, imsva_wrs_rating *out)
{
	cache_entry *e = &w->slots[slot_of(url)];
	pthread_mutex_lock(&w->lock);
	w->queries++;
	int hit = e->url && !strcmp(e->url, url) && e->expires_ms > time_mono_ms();
	if (hit) {
		*out = e->rating;
		w->hits++;
	}
	pthread_mutex_unlock(&w->lock);
	return hit;
}

static void cache_put(imsva_wrs *w, const char *url, const imsva_wrs_rating *r)
{
	cache_entry *e = &w->slots[slot_of(url)];
	pthread_mutex_lock(&w->lock);
	free(e->url);
	e->url = xstrdup(url);
	e->expires_ms = time_mono_ms() + w->ttl_ms;
	e->rating = *r;
	pthread_mutex_unlock(&w->lock);
}

static int note_error(imsva_wrs *w, ctd_err *err)
{
	pthread_mutex_lock(&w->lock);
	w->errors++;
	w->last_error_ms = time_now_ms();
	snprintf(w->last_error, sizeof w->last_error, "%s", err->msg);
	pthread_mutex_unlock(&w->lock);
	return -1;
}

/* Decode SPS's JSON answer. */
static int parse_rating(const char *body, imsva_wrs_rating *out, ctd_err *err)
{
	json_error_t je;
	json_t *j = json_loads(body, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		return ctd_fail(err, CTD_EIO, "SPS answered no JSON object");
	}
	memset(out, 0, sizeof *out);
	out->score = (int)json_integer_value(json_object_get(j, "score"));
	const char *rating = json_string_value(json_object_get(j, "rating"));
	if (!rating || imsva_wrs_class_parse(rating, &out->cls) < 0)
		out->cls = IMSVA_WRS_UNRATED;
	const char *cat = json_string_value(json_object_get(j, "category"));
	snprintf(out->category, sizeof out->category, "%s", cat ? cat : "");
	json_t *so = json_object_get(j, "so");
	out->so_action = IMSVA_SO_NONE;
	if (json_is_object(so)) {
		const char *type = json_string_value(json_object_get(so, "type"));
		const char *action = json_string_value(json_object_get(so, "action"));
		snprintf(out->so_type, sizeof out->so_type, "%s", type ? type : "");
		str_lower(out->so_type);
		if (action && !strcasecmp(action, "block"))
			out->so_action = IMSVA_SO_BLOCK;
		else if (action && !strcasecmp(action, "quarantine"))
			out->so_action = IMSVA_SO_QUARANTINE;
		else
			out->so_action = IMSVA_SO_LOG;
	}
	json_decref(j);
	return 0;
}

/* Ask SPS (no cache); the outcome sets the connection status. */
static int fetch_rating(imsva_wrs *w, const char *url, imsva_wrs_rating *out, ctd_err *err)
{
	char *enc = curl_easy_escape(NULL, url, 0);
	char *full = xasprintf("%s/wrs/v1/query?url=%s", w->base, enc ? enc : "");
	curl_free(enc);
	http_client_opts opts = {.timeout_ms = 5000, .verify_tls = 0, .retries = 1, .backoff_ms = 100};
	http_request req = {.method = "GET", .url = full};
	http_response resp = {0};
	int rc = http_fetch(&opts, &req, &resp, err);
	free(full);
	if (rc == 0 && resp.status != 200)
		rc = ctd_fail(err, CTD_EIO, "SPS answered HTTP %ld", resp.status);
	if (rc == 0)
		rc = parse_rating(resp.body.data ? resp.body.data : "", out, err);
	http_response_free(&resp);
	if (rc < 0)
		return note_error(w, err);
	pthread_mutex_lock(&w->lock);
	w->last_ok_ms = time_now_ms();
	w->outage_reported = 0;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int imsva_wrs_query(imsva_wrs *w, const char *url, imsva_wrs_rating *out, ctd_err *err)
{
	if (!w)
		return ctd_fail(err, CTD_EINVAL, "no SPS configured");
	if (cache_get(w, url, out))
		return 0;
	if (fetch_rating(w, url, out, err) < 0)
		return -1;
	cache_put(w, url, out);
	return 0;
}

int imsva_wrs_test(imsva_wrs *w, imsva_wrs_rating *out, ctd_err *err)
{
	if (!w)
		return ctd_fail(err, CTD_ECONFLICT, "no Smart Protection Server configured (sps_url)");
	return fetch_rating(w, IMSVA_WRS_TEST_URL, out, err);
}

int imsva_wrs_outage_first_report(imsva_wrs *w)
{
	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	int first = !w->outage_reported;
	w->outage_reported = 1;
	pthread_mutex_unlock(&w->lock);
	return first;
}

json_t *imsva_wrs_status(imsva_wrs *w)
{
	if (!w)
		return json_pack("{s:b,s:s}", "enabled", 0, "status", "disabled");
	pthread_mutex_lock(&w->lock);
	int ok = w->last_ok_ms >= w->last_error_ms;
	json_t *o = json_pack("{s:b,s:s,s:s,s:I,s:I,s:I,s:I}", "enabled", 1, "server", w->base,
			      "status", ok ? "online" : "unreachable", "queries",
			      (json_int_t)w->queries, "cache_hits", (json_int_t)w->hits, "errors",
			      (json_int_t)w->errors, "cache_ttl_ms", (json_int_t)w->ttl_ms);
	if (w->last_error[0])
		json_object_set_new(o, "last_error", json_string(w->last_error));
	pthread_mutex_unlock(&w->lock);
	return o;
}
