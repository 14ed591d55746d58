/* tmcm_lab.c - the lab's own page for the instructor, served by TMCM (the
 * hub every object passes through): GET /lab opens the console on the
 * "Lab overview" page; its JSON API reads the five appliances from the
 * lab's ready files (<home>/run/<appliance>.json, the lab's own wiring) and
 * their /healthz over HTTP, the links and STEP progress from the shared
 * events timeline (tmcm_lab_evidence.c), and the timeline itself. */
#include <stdlib.h>
#include <string.h>
#include "ready.h"
#include "util.h"
#include "tmcm.h"

#define LAB_STALE_MS (10 * 60 * 1000) /* a link silent this long is shown stale */
#define LAB_HEALTH_TIMEOUT_MS 1500
#define LAB_EVENTS_DEFAULT 100
#define LAB_EVENTS_MAX 500
#define LAB_OVERVIEW_PAGE "/webapp/login.aspx#/lab-overview"

/* The five appliances in the seed's order: detect → analyse → manage →
 * distribute → respond (IMSVA both detects and responds). */
static const struct lab_appliance {
	const char *name, *product, *role;
} appliances[] = {
	{"imsva", "InterScan Messaging Security Virtual Appliance", "detect, respond"},
	{"ddi", "Deep Discovery Inspector", "detect"},
	{"ddan", "Deep Discovery Analyzer", "analyse"},
	{"tmcm", "Control Manager", "manage"},
	{"sps", "Smart Protection Server", "distribute"},
};

/* TMCM answers for itself: asking its own /healthz would hold a second of
 * its few HTTP threads. */
static json_t *own_health(const tmcm_app *app)
{
	return json_pack("{s:s, s:{s:o}}", "store", "ok", "status", "sources",
			 tmcm_sync_status(app->syncer));
}

static json_t *appliance_json(const tmcm_app *app, const struct lab_appliance *a)
{
	json_t *ready = ready_load(app->cfg->base.home, a->name);
	const char *url = ready_url(ready);
	json_t *health = strcmp(a->name, "tmcm") == 0 ? own_health(app)
			 : url ? health_get(url, 1, LAB_HEALTH_TIMEOUT_MS)
			       : NULL;
	const char *store_state = json_string_value(json_object_get(health, "store"));
	json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", a->name, "product", a->product,
			      "role", a->role, "ready", ready != NULL, "healthy",
			      store_state && strcmp(store_state, "ok") == 0);
	json_object_set_new(o, "url", url ? json_string(url) : json_null());
	json_t *console = json_object_get(json_object_get(ready, "info"), "console");
	json_t *console_url = json_object_get(console, "url"), *status = json_object_get(health, "status");
	json_object_set_new(o, "console", console_url ? json_incref(console_url) : json_null());
	json_object_set_new(o, "status", status ? json_incref(status) : json_object());
	json_decref(health);
	json_decref(ready);
	return o;
}

static void h_overview(http_req *req, http_resp *resp)
{
	const tmcm_app *app = req->app;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	json_t *list = json_array(), *healthy = json_object();
	for (size_t i = 0; i < sizeof appliances / sizeof appliances[0]; i++) {
		json_t *a = appliance_json(app, &appliances[i]);
		json_object_set(healthy, appliances[i].name, json_object_get(a, "healthy"));
		json_array_append_new(list, a);
	}
	json_t *out = json_pack("{s:o, s:I}", "appliances", list, "stale_after_ms",
				(json_int_t)LAB_STALE_MS);
	tmcm_json_time(out, "now", time_now_ms());
	ctd_err err = {0};
	if (tmcm_lab_evidence(st, healthy, LAB_STALE_MS, out, &err) < 0) {
		json_decref(out);
		out = NULL;
	}
	json_decref(healthy);
	http_resp_result(resp, out, &err);
}

/* A non-negative integer query parameter (def when absent), or answer 400. */
static int query_count(http_req *req, http_resp *resp, const char *name, int64_t def,
		       int64_t *out)
{
	const char *v = http_req_query(req, name);
	char *end = NULL;
	*out = def;
	if (!v || !*v)
		return 0;
	long long n = strtoll(v, &end, 10);
	if (*end || n < 0) {
		http_resp_error(resp, 400, "bad_request", "%s must be a non-negative integer", name);
		return -1;
	}
	*out = n;
	return 0;
}

/* The timeline after event `after` (default: the last few), oldest first;
 * the page polls it with the last id it has. */
static void h_events(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	int64_t after, limit;
	if (!st || query_count(req, resp, "after", -1, &after) < 0 ||
	    query_count(req, resp, "limit", LAB_EVENTS_DEFAULT, &limit) < 0)
		return;
	if (limit < 1 || limit > LAB_EVENTS_MAX)
		limit = limit < 1 ? 1 : LAB_EVENTS_MAX;
	ctd_err err = {0};
	if (after < 0) {
		int64_t last = tmcm_lab_last_event_id(st, &err);
		if (last < 0) {
			http_resp_ctd_err(resp, &err);
			return;
		}
		after = last > limit ? last - limit : 0;
	}
	events_filter f = {.after_id = after, .limit = (int)limit};
	json_t *events = events_query(st, &f, &err);
	json_t *last = json_array_get(events, json_array_size(events) - 1);
	json_t *out = events ? json_pack("{s:o, s:I}", "events", events, "last_id",
					 last ? json_integer_value(json_object_get(last, "id"))
					      : (json_int_t)after)
			     : NULL;
	http_resp_result(resp, out, &err);
}

static void h_lab_page(http_req *req, http_resp *resp)
{
	http_resp_header(resp, "Location", LAB_OVERVIEW_PAGE);
	http_resp_text(resp, 302, "text/plain; charset=utf-8", "the lab overview is on TMCM's console\n");
}

const http_route tmcm_lab_routes[] = {
	{"GET", "/lab", h_lab_page, HTTP_PUBLIC},
	{"GET", "/api/lab/overview", h_overview},
	{"GET", "/api/lab/events", h_events},
};
const size_t tmcm_lab_nroutes = sizeof tmcm_lab_routes / sizeof tmcm_lab_routes[0];
