/* tmcm_console.c - the TMCM console as a JSON API (what an administrator does
 * in Administration > Suspicious Objects, seed STEP 2-2/2-3): log in, list and
 * filter the Virtual Analyzer Objects, set the action of a selection, expire,
 * manage exceptions and user-defined objects, see the sources, the subscribed
 * products and "Sync now". Documented in docs/tmcm.md.
 *
 * Authentication is common/session.c's (tmcmd.c gives it the console password
 * and the Automation API key): POST /api/login returns a session token sent as
 * `X-Session` or `Authorization: Bearer`; scripts send the console password
 * (or the API key) as `X-Api-Key`. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hash.h"
#include "log.h"
#include "util.h"
#include "tmcm.h"

/* ---- helpers ---------------------------------------------------------------------- */


static long query_long(http_req *req, const char *name, long def)
{
	const char *v = http_req_query(req, name);
	return v && *v ? strtol(v, NULL, 10) : def;
}

static const char *query_nonempty(http_req *req, const char *name)
{
	const char *v = http_req_query(req, name);
	return v && *v ? v : NULL;
}

/* ---- Virtual Analyzer objects ------------------------------------------------------- */

static void h_va_list(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	char type[8] = "", action[12] = "";
	const char *t = query_nonempty(req, "type"), *a = query_nonempty(req, "action");
	if (t) {
		snprintf(type, sizeof(type), "%s", t);
		str_upper(type);
	}
	if (a) {
		snprintf(action, sizeof(action), "%s", a);
		str_lower(action);
	}
	const char *all = http_req_query(req, "all");
	tmcm_va_filter f = {
		.type = t ? type : NULL,
		.source = query_nonempty(req, "source"),
		.action = a ? action : NULL,
		.risk = query_nonempty(req, "risk"),
		.q = query_nonempty(req, "q"),
		.include_inactive = all && (strcmp(all, "1") == 0 || strcasecmp(all, "true") == 0),
		.limit = query_long(req, "limit", 1000),
		.offset = query_long(req, "offset", 0),
	};
	ctd_err err = {0};
	http_resp_result(resp, tmcm_va_list(st, &f, &err), &err);
}

/* The selection of a VA request body: "ids" or "values". */
static json_t *selection(store *st, json_t *body, ctd_err *err)
{
	json_t *ids = json_object_get(body, "ids");
	if (ids)
		return json_incref(ids);
	return tmcm_va_ids_for_values(st, json_object_get(body, "values"), err);
}

/* The expiry a "Set action" body asks for: absent keeps it (-1), null or ""
 * never expires (0), else an ISO 8601 time. */
static int action_expiry(json_t *body, int64_t *expires, ctd_err *err)
{
	json_t *e = json_object_get(body, "expiration_utc_date");
	*expires = -1;
	if (!e)
		return 0;
	if (!json_is_null(e) && !json_is_string(e))
		return ctd_fail(err, CTD_EINVAL, "expiration_utc_date: a string or null");
	if (tmcm_parse_utc(json_string_value(e), expires) < 0)
		return ctd_fail(err, CTD_EINVAL, "expiration_utc_date: not an ISO 8601 time");
	return 0;
}

static long va_apply(store *st, json_t *body, const char *what, const json_t *ids,
		     const char *action, ctd_err *err)
{
	int64_t expires;
	if (strcmp(what, "action") != 0)
		return tmcm_va_expire(st, ids, strcmp(what, "never_expire") == 0, err);
	if (action_expiry(body, &expires, err) < 0)
		return -1;
	return tmcm_va_set_action(st, ids, action, expires, err);
}

static void va_update(http_req *req, http_resp *resp, const char *what)
{
	store *st = daemon_req_store(resp);
	json_t *body = st ? http_req_json(req, resp) : NULL;
	if (!body)
		return;
	ctd_err err = {0};
	json_t *ids = selection(st, body, &err);
	const char *action = json_string_value(json_object_get(body, "action"));
	char laction[16] = "";
	if (action) {
		snprintf(laction, sizeof(laction), "%s", action);
		str_lower(laction);
	}
	long n = ids ? va_apply(st, body, what, ids, action ? laction : NULL, &err) : -1;
	if (n < 0) {
		http_resp_ctd_err(resp, &err);
	} else {
		int64_t change = tmcm_last_change_id(st);
		json_t *d = json_pack("{s:O, s:I}", "ids", ids, "change_id", (json_int_t)change);
		if (action)
			json_object_set_new(d, "action", json_string(laction));
		log_info("console.va_update", "what=%s count=%ld change_id=%lld", what, n,
			 (long long)change);
		tmcm_timeline(st, strcmp(what, "action") == 0 ? "so.action" : "so.expiry", what, d);
		http_resp_json(resp, 200, json_pack("{s:i, s:I}", "updated", (int)n, "change_id",
						    (json_int_t)change));
	}
	json_decref(ids);
	json_decref(body);
}

static void h_va_action(http_req *req, http_resp *resp)
{
	va_update(req, resp, "action");
}

static void h_va_expire(http_req *req, http_resp *resp)
{
	va_update(req, resp, "expire");
}

static void h_va_never_expire(http_req *req, http_resp *resp)
{
	va_update(req, resp, "never_expire");
}

/* ---- exceptions -------------------------------------------------------------------------- */

static void h_exc_list(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	http_resp_result(resp, tmcm_exc_list(st, &err), &err);
}

static void h_exc_add(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	json_t *body = st ? http_req_json(req, resp) : NULL;
	if (!body)
		return;
	const char *type = json_string_value(json_object_get(body, "type"));
	const char *value = json_string_value(json_object_get(body, "value"));
	const char *notes = json_string_value(json_object_get(body, "notes"));
	ctd_err err = {0};
	int64_t id = tmcm_exc_add(st, type, value, notes, &err);
	if (id < 0) {
		http_resp_ctd_err(resp, &err);
	} else {
		tmcm_timeline(st, "so.exception_added", value,
			      json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "type", type,
					"value", value));
		http_resp_json(resp, 201, json_pack("{s:I, s:I}", "id", (json_int_t)id, "change_id",
						    (json_int_t)tmcm_last_change_id(st)));
	}
	json_decref(body);
}

static void h_exc_delete(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	char *end;
	const char *ids = http_req_param(req, "id");
	long long id = ids ? strtoll(ids, &end, 10) : 0;
	ctd_err err = {0};
	if (!ids || *end || id <= 0) {
		http_resp_error(resp, 400, "invalid", "exception id must be a positive integer");
	} else if (tmcm_exc_delete(st, id, &err) < 0) {
		http_resp_ctd_err(resp, &err);
	} else {
		tmcm_timeline(st, "so.exception_deleted", ids, NULL);
		http_resp_json(resp, 200, json_pack("{s:b, s:I}", "deleted", 1, "change_id",
						    (json_int_t)tmcm_last_change_id(st)));
	}
}

/* ---- user-defined objects (console view) ---------------------------------------------------- */

static void h_udso_list(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	http_resp_result(resp, tmcm_udso_list(st, query_nonempty(req, "type"),
					    query_nonempty(req, "q"), &err), &err);
}

static void h_udso_add(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	store *st = daemon_req_store(resp);
	json_t *body = st ? http_req_json(req, resp) : NULL;
	if (!body)
		return;
	const char *content = json_string_value(json_object_get(body, "content"));
	const char *action = json_string_value(json_object_get(body, "scan_action"));
	const char *exp = json_string_value(json_object_get(body, "expiration_utc_date"));
	const char *type_in = json_string_value(json_object_get(body, "type"));
	char *canon = NULL, *laction = xstrdup(action ? action : "log");
	char *type = xstrdup(type_in ? type_in : "");
	str_lower(laction);
	str_lower(type);
	int64_t expires = 0;
	ctd_err err = {0};
	int rc = tmcm_udso_check(type, content, laction, &canon, &err);
	if (rc == 0 && tmcm_parse_utc(exp, &expires) < 0)
		rc = ctd_fail(&err, CTD_EINVAL, "expiration_utc_date: not an ISO 8601 time");
	tmcm_udso u = {.type = type, .content = canon, .scan_action = laction,
		       .notes = json_string_value(json_object_get(body, "notes")),
		       .expires_ms = expires};
	if (rc == 0)
		rc = tmcm_udso_put(st, &u, app->cfg->udso_max, &err);
	if (rc < 0) {
		http_resp_ctd_err(resp, &err);
	} else {
		tmcm_timeline(st, "udso.put", canon,
			      json_pack("{s:s, s:s, s:s}", "type", type, "content", canon,
					"scan_action", laction));
		http_resp_json(resp, 200, json_pack("{s:s, s:I}", "content", canon, "change_id",
						    (json_int_t)tmcm_last_change_id(st)));
	}
	free(canon);
	free(laction);
	free(type);
	json_decref(body);
}

static void h_udso_delete(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *type = http_req_query(req, "type"), *content = http_req_query(req, "content");
	ctd_err err = {0};
	if (tmcm_udso_delete(st, type, content, &err) < 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	tmcm_timeline(st, "udso.deleted", content,
		      json_pack("{s:s, s:s}", "type", type, "content", content));
	http_resp_json(resp, 200, json_pack("{s:b, s:I}", "deleted", 1, "change_id",
					    (json_int_t)tmcm_last_change_id(st)));
}

/* User-Defined Objects > Export: a CSV file Import takes back. */
static void h_udso_export(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	char *csv = tmcm_udso_csv_export(st, &err);
	if (!csv) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_header(resp, "Content-Disposition",
			 "attachment; filename=\"user_defined_objects.csv\"");
	http_resp_text(resp, 200, "text/csv; charset=utf-8", csv);
	free(csv);
}

/* User-Defined Objects > Import: the CSV as the body, or as form field "file". */
static void h_udso_import(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *csv = req->body;
	size_t len = req->body_len;
	const char *ctype = http_req_header(req, "Content-Type");
	if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0 &&
	    http_req_form(req, "file", &csv, &len, NULL, NULL) != 0) {
		http_resp_error(resp, 400, "invalid", "the form has no field \"file\"");
		return;
	}
	ctd_err err = {0};
	json_t *result = tmcm_udso_csv_import(st, csv, len, app->cfg->udso_max, &err);
	if (result) {
		json_object_set_new(result, "change_id", json_integer(tmcm_last_change_id(st)));
		tmcm_timeline(st, "udso.imported", NULL,
			      json_pack("{s:O, s:O}", "imported", json_object_get(result, "imported"),
					"failed", json_object_get(result, "failed")));
	}
	http_resp_result(resp, result, &err);
}

/* ---- sources, sync, products, settings, status ---------------------------------------------- */

static void h_sources(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	http_resp_result(resp, tmcm_sources_list(st, &err), &err);
}

static void h_sync_now(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	int64_t seq = tmcm_sync_request(app->syncer);
	json_t *o = tmcm_sync_status(app->syncer);
	json_object_set_new(o, "request", json_integer(seq));
	http_resp_json(resp, 202, o);
}

static void h_sync_status(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	http_resp_json(resp, 200, tmcm_sync_status(app->syncer));
}

static void h_products(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	http_resp_result(resp, tmcm_product_list(st, NULL, 0, app->cfg->heartbeat_timeout, &err),
		       &err);
}

/* Automation API access and distribution settings (Service URL + API keys). */
static void h_settings(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	json_t *subs = json_object();
	for (int i = 0; i < TMCM_NFEED_KEYS; i++)
		json_object_set_new(subs, app->feed_keys[i].subscription,
				    json_string(app->feed_keys[i].key));
	char *api_key = tmcm_api_key(app);
	http_resp_json(resp, 200,
		       json_pack("{s:{s:s, s:s, s:b, s:I}, s:o, s:s, s:s, s:I}", "automation_api",
				 "application_id", app->app_id, "api_key", api_key, "pinned",
				 app->cfg->api_key[0] != '\0', "communication_timeout_ms",
				 (json_int_t)app->cfg->token_timeout, "feed_keys", subs, "client_uuid",
				 app->client_uuid, "so_dist_role", app->cfg->so_dist_role,
				 "sync_interval_ms", (json_int_t)app->cfg->sync_interval));
	free(api_key);
}

/* Automation API Access Settings > regenerate: the old key stops working. */
static void h_api_key_regenerate(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	ctd_err err = {0};
	char *key = tmcm_api_key_regenerate(app, req->auth_cls, &err);
	if (!key) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:s, s:s}", "application_id", app->app_id,
					    "api_key", key));
	free(key);
}

static void h_directory(http_req *req, http_resp *resp)
{
	tmcm_app *app = req->app;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	http_resp_result(resp, tmcm_directory(st, app->cfg->heartbeat_timeout, &err), &err);
}

static long long count_rows(store *st, const char *sql)
{
	sqlite3_stmt *s = store_stmt(st, sql, NULL);
	if (!s)
		return -1;
	long long n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return n;
}

static void h_status(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "appliance", "tmcm",
				 "version", CTDLAB_VERSION, "va_objects",
				 (json_int_t)count_rows(st, "SELECT COUNT(*) FROM tmcm_va_objects"),
				 "udso", (json_int_t)count_rows(st, "SELECT COUNT(*) FROM tmcm_udso"),
				 "exceptions",
				 (json_int_t)count_rows(st, "SELECT COUNT(*) FROM tmcm_exceptions"),
				 "distributed", (json_int_t)tmcm_feed_active_count(st),
				 "last_change_id", (json_int_t)tmcm_last_change_id(st)));
}

const http_route tmcm_console_routes[] = {
	{"POST", "/api/login", session_login_handler, HTTP_PUBLIC},
	{"POST", "/api/logout", session_logout_handler},
	{"GET", "/api/status", h_status},
	{"GET", "/api/settings", h_settings},
	{"POST", "/api/settings/api-key", h_api_key_regenerate},
	{"GET", "/api/directory", h_directory},
	{"GET", "/api/va-objects", h_va_list},
	{"POST", "/api/va-objects/action", h_va_action},
	{"POST", "/api/va-objects/expire", h_va_expire},
	{"POST", "/api/va-objects/never-expire", h_va_never_expire},
	{"GET", "/api/exceptions", h_exc_list},
	{"POST", "/api/exceptions", h_exc_add},
	{"DELETE", "/api/exceptions/{id}", h_exc_delete},
	{"GET", "/api/udso", h_udso_list},
	{"POST", "/api/udso", h_udso_add},
	{"DELETE", "/api/udso", h_udso_delete},
	{"GET", "/api/udso/export", h_udso_export},
	{"POST", "/api/udso/import", h_udso_import, NULL, HTTP_BODY_UPLOAD},
	{"GET", "/api/sources", h_sources},
	{"POST", "/api/sync", h_sync_now},
	{"GET", "/api/sync", h_sync_status},
	{"GET", "/api/products", h_products},
};
const size_t tmcm_console_nroutes = sizeof(tmcm_console_routes) / sizeof(tmcm_console_routes[0]);
