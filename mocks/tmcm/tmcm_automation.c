/* tmcm_automation.c - the Apex Central / Control Manager Automation API
 * (reference tmcm-automation-api.md): user-defined suspicious objects
 * (/WebApp/api[/v1]/SuspiciousObjects/UserDefinedSO, PUT/GET/DELETE), FileUDSO,
 * and ProductServers / ProductAgents listing the products registered with
 * this TMCM; the log query (tmcm_logs.c) and the Endpoint Sensor tunnel
 * (tmcm_es.c) share its authentication and envelope. Every call carries a JWT (tmcm_jwt.c). UDSO calls answer in the
 * "Custom Intelligence" envelope (Data/Meta), the others in the result_code
 * envelope, each with the documented error codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <microhttpd.h>
#include "hash.h"
#include "json_write.h"
#include "log.h"
#include "store_answer.h"
#include "util.h"
#include "tmcm.h"

/* ---- envelopes ------------------------------------------------------------------- */

/* The envelope's members after Data. */
static json_t *ci_controls(const tmcm_app *app, json_t *meta)
{
	json_t *env = json_object();
	json_object_set_new(env, "Meta", meta);
	json_object_set_new(env, "PermissionCtrl",
			    json_pack("{s:s, s:n}", "permission", "255", "elements"));
	json_object_set_new(env, "FeatureCtrl", json_pack("{s:s}", "mode", "1"));
	json_object_set_new(env, "SystemCtrl",
			    json_pack("{s:s}", "TmcmSoDist_Role", app->cfg->so_dist_role));
	return env;
}

static json_t *ci_meta(int code, const char *msg)
{
	return json_pack("{s:i, s:i, s:s}", "Result", code ? 0 : 1, "ErrorCode", code, "ErrorMsg",
			 code ? msg : "");
}

json_t *tmcm_ci_envelope(const tmcm_app *app, json_t *data, json_t *meta)
{
	json_t *env = json_pack("{s:o}", "Data", data ? data : json_string(""));
	json_t *controls = ci_controls(app, meta);
	json_object_update(env, controls);
	json_decref(controls);
	return env;
}

void tmcm_ci_reply(http_req *req, http_resp *resp, int status, json_t *data, int code,
		   const char *msg)
{
	http_resp_json(resp, status, tmcm_ci_envelope(req->app, data, ci_meta(code, msg)));
}

void tmcm_ci_text_end(const tmcm_app *app, sbuf *out)
{
	json_t *controls = ci_controls(app, ci_meta(0, ""));
	size_t start = out->len;
	json_write(out, controls); /* {"Meta":...}: its members follow Data */
	out->data[start] = ',';
	json_decref(controls);
}

/* Server and Security Agent: {result_code, result_description, result_content}. */
static void rc_reply(http_resp *resp, int status, int code, const char *desc, json_t *content)
{
	if (!content)
		content = code == 1 ? json_array() : json_string("");
	http_resp_json(resp, status,
		       json_pack("{s:i, s:s, s:o}", "result_code", code, "result_description",
				 desc, "result_content", content));
}

/* Custom Intelligence code and HTTP status for a library error. */
static void ci_error(http_req *req, http_resp *resp, json_t *empty, const ctd_err *err)
{
	int status = 500, code = 6;
	switch (err->code) {
	case CTD_EINVAL: status = 400; code = 11; break;
	case CTD_ENOTFOUND: status = 500; code = 8; break;
	case CTD_ETOOBIG: status = 413; code = 12; break;
	case CTD_ECONFLICT: status = 500; code = 13; break;
	case CTD_ESTORE: status = 500; code = 5; break;
	default: break;
	}
	tmcm_ci_reply(req, resp, status, empty, code, err->msg);
}

/* ---- authentication ---------------------------------------------------------------- */

typedef struct query_args {
	int n;
	const char *names[32], *values[32];
} query_args;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	query_args *q = cls;
	if (q->n < 32) {
		q->names[q->n] = key;
		q->values[q->n] = value;
		q->n++;
	}
	return MHD_YES;
}

static tmcm_auth_result authenticate(http_req *req)
{
	const tmcm_app *app = req->app;
	query_args q = {0};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
	char *urls[TMCM_MAX_RAW_URLS] = {0};
	char *api_key = tmcm_api_key(app);
	tmcm_auth_request rq = {
		.authorization = http_req_header(req, "Authorization"),
		.method = req->method,
		.api_headers = "",
		.body = req->body,
		.body_len = req->body_len,
		.app_id = app->app_id,
		.api_key = api_key,
		.now_ms = time_now_ms(),
		.timeout_ms = app->cfg->token_timeout,
		.headers_only = req->body_pending,
	};
	/* the listener hands us the path with runs of slashes as one and no
	 * trailing slash, as IIS routes it; the client hashed its own spelling
	 * (XSOAR hashes "/WebApp/..." and sends "//WebApp/..."): with and
	 * without the trailing slash */
	char *slashed = xasprintf("%s/", req->path);
	rq.nraw_urls = tmcm_raw_url_candidates(req->path, q.names, q.values, q.n, urls, 0);
	rq.nraw_urls = tmcm_raw_url_candidates(slashed, q.names, q.values, q.n, urls, rq.nraw_urls);
	free(slashed);
	for (int i = 0; i < rq.nraw_urls; i++)
		rq.raw_urls[i] = urls[i];
	tmcm_auth_result r = tmcm_jwt_verify(&rq);
	for (int i = 0; i < rq.nraw_urls; i++)
		free(urls[i]);
	free(api_key);
	if (r != TMCM_AUTH_OK) {
		char ip[64];
		http_req_client_ip(req, ip, sizeof(ip));
		log_warn("automation.auth_failed", "path=%s client=%s reason=\"%s\"", req->path, ip,
			 tmcm_auth_message(r));
	}
	return r;
}

/* The UDSO API's refusal: its Code/Data envelope, Data shaped by the method. */
static int ci_authenticate(http_req *req, http_resp *resp)
{
	tmcm_auth_result r = authenticate(req);
	if (r == TMCM_AUTH_OK)
		return 0;
	json_t *empty = strcmp(req->method, "GET") == 0 ? json_array() : json_string("");
	tmcm_ci_reply(req, resp, 401, empty, 13 + (int)r, tmcm_auth_message(r));
	return -1;
}

/* The Resource APIs' refusal: a negative result code. */
static int rc_authenticate(http_req *req, http_resp *resp)
{
	tmcm_auth_result r = authenticate(req);
	if (r == TMCM_AUTH_OK)
		return 0;
	rc_reply(resp, 401, -((int)r + 1), tmcm_auth_message(r), NULL);
	return -1;
}

static const http_auth jwt_ci_auth = {"jwt", ci_authenticate, 1};
static const http_auth jwt_rc_auth = {"jwt", rc_authenticate, 1};

/* ---- UserDefinedSO ------------------------------------------------------------------- */

static const char *json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The `param` object of a UDSO request body, or NULL. */
static json_t *udso_param(const http_req *req, json_t **root)
{
	*root = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	json_t *p = json_object_get(*root, "param");
	return json_is_object(p) ? p : NULL;
}

static char *lower_dup(const char *s)
{
	char *d = xstrdup(s);
	str_lower(d);
	return d;
}

static void udso_put(http_req *req, http_resp *resp, store *st)
{
	const tmcm_app *app = req->app;
	json_t *root, *param = udso_param(req, &root);
	const char *type = json_str(param, "type"), *content = json_str(param, "content");
	const char *action = json_str(param, "scan_action"), *notes = json_str(param, "notes");
	json_t *exp = json_object_get(param, "expiration_utc_date");
	if (!param || !type || !content || !action) {
		tmcm_ci_reply(req, resp, 400, NULL, 7,
			 "Incorrect parameter: param.type, param.content and param.scan_action are "
			 "required");
		json_decref(root);
		return;
	}
	ctd_err err = {0};
	int64_t expires = 0;
	char *ltype = lower_dup(type), *laction = lower_dup(action), *canon = NULL;
	int rc = tmcm_udso_check(ltype, content, laction, &canon, &err);
	if (rc == 0 && strcmp(ltype, "file") == 0)
		rc = ctd_fail(&err, CTD_EINVAL, "type file is created through FileUDSO");
	if (rc == 0 && exp && !json_is_null(exp) &&
	    (!json_is_string(exp) || tmcm_parse_utc(json_string_value(exp), &expires) < 0))
		rc = ctd_fail(&err, CTD_EINVAL, "expiration_utc_date: not an ISO 8601 time");
	tmcm_udso u = {.type = ltype, .content = canon, .notes = notes, .scan_action = laction,
		       .expires_ms = expires};
	if (rc == 0)
		rc = tmcm_udso_put(st, &u, app->cfg->udso_max, &err);
	if (rc < 0) {
		ci_error(req, resp, NULL, &err);
	} else {
		tmcm_timeline(NULL, "udso.put", canon,
			      json_pack("{s:s, s:s, s:s, s:I}", "type", ltype, "content", canon,
					"scan_action", laction, "expires_ms", (json_int_t)expires));
		tmcm_ci_reply(req, resp, 200, NULL, 0, "");
	}
	free(ltype);
	free(laction);
	free(canon);
	json_decref(root);
}

typedef struct udso_query {
	const tmcm_app *app;
	char *type; /* lower case; NULL: all */
	const char *filter;
} udso_query;

/* The list in its envelope, kept (store_answer) until the store changes or
 * the first listed object expires. */
static int udso_list_answer(store *st, void *arg, int64_t now_ms, sbuf *out, int64_t *until_ms,
			    ctd_err *err)
{
	const udso_query *q = arg;
	sbuf_puts(out, TMCM_CI_TEXT_START);
	if (tmcm_udso_list_write(st, q->type, q->filter, now_ms, until_ms, out, err) < 0)
		return -1;
	tmcm_ci_text_end(q->app, out);
	return 0;
}

static void udso_get(http_req *req, http_resp *resp, store *st)
{
	const char *type = http_req_query(req, "type");
	static const char *const types[] = {"ip", "url", "file_sha1", "domain", "file"};
	int known = !type || !type[0];
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && !known; i++)
		known = strcasecmp(type, types[i]) == 0;
	if (!known) {
		tmcm_ci_reply(req, resp, 400, json_array(), 7, "Incorrect parameter: type");
		return;
	}
	udso_query q = {req->app, type ? lower_dup(type) : NULL,
			http_req_query(req, "contentFilter")};
	sbuf key = {0};
	sbuf_puts(&key, "tmcm.udso_list;");
	answer_key_str(&key, q.type);
	answer_key_str(&key, q.filter);
	ctd_err err = {0};
	http_resp_bytes(resp, 200, "application/json", NULL, 0);
	if (store_answer(st, key.data, time_now_ms(), udso_list_answer, &q, &resp->body, &err) < 0)
		ci_error(req, resp, json_array(), &err);
	sbuf_free(&key);
	free(q.type);
}

/* DELETE selects by ?type=&content= or by a {"param":{type,content}} body. */
static void udso_delete(http_req *req, http_resp *resp, store *st)
{
	const char *type = http_req_query(req, "type"), *content = http_req_query(req, "content");
	json_t *root = NULL;
	if (!type || !type[0] || !content || !content[0]) {
		json_t *param = udso_param(req, &root);
		type = json_str(param, "type");
		content = json_str(param, "content");
	}
	if (!type || !content || !content[0]) {
		tmcm_ci_reply(req, resp, 400, NULL, 7, "Incorrect parameter: type and content are required");
		json_decref(root);
		return;
	}
	char *ltype = lower_dup(type);
	ctd_err err = {0};
	if (tmcm_udso_delete(st, ltype, content, &err) < 0) {
		if (err.code == CTD_EINVAL)
			tmcm_ci_reply(req, resp, 400, NULL, 7, err.msg);
		else
			ci_error(req, resp, NULL, &err);
	} else {
		tmcm_timeline(NULL, "udso.deleted", content,
			      json_pack("{s:s, s:s}", "type", ltype, "content", content));
		tmcm_ci_reply(req, resp, 200, NULL, 0, "");
	}
	free(ltype);
	json_decref(root);
}

static void h_udso(http_req *req, http_resp *resp)
{
	int is_get = strcmp(req->method, "GET") == 0;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	if (is_get)
		udso_get(req, resp, st);
	else if (strcmp(req->method, "PUT") == 0)
		udso_put(req, resp, st);
	else if (strcmp(req->method, "DELETE") == 0)
		udso_delete(req, resp, st);
	else
		tmcm_ci_reply(req, resp, 405, NULL, 23, "HTTP method not supported");
}

/* ---- FileUDSO --------------------------------------------------------------------------- */

static void h_file_udso(http_req *req, http_resp *resp)
{
	const tmcm_app *app = req->app;
	if (strcmp(req->method, "PUT") != 0) {
		rc_reply(resp, 405, -50, "Unsupported HTTP method", NULL);
		return;
	}
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
	const char *name = json_str(root, "file_name");
	const char *b64 = json_str(root, "file_content_base64_string");
	const char *action = json_str(root, "file_scan_action"), *note = json_str(root, "note");
	unsigned char *data = NULL;
	size_t len = 0;
	char *laction = action ? lower_dup(action) : NULL;
	if (!name || !b64 || !laction || base64_decode(b64, &data, &len, NULL) < 0 ||
	    (strcmp(laction, "log") && strcmp(laction, "block") && strcmp(laction, "quarantine"))) {
		rc_reply(resp, 400, -21, "Invalid parameters", NULL);
	} else {
		char sha1[SHA1_HEX_LEN];
		hash_hex(HASH_SHA1, data, len, sha1);
		str_upper(sha1);
		tmcm_udso u = {.type = "file", .content = sha1, .notes = note,
			       .scan_action = laction, .file_name = name};
		ctd_err err = {0};
		if (tmcm_udso_put(st, &u, app->cfg->udso_max, &err) < 0) {
			if (err.code == CTD_ETOOBIG)
				rc_reply(resp, 400, -1101, "Maximum quantity exceeded", NULL);
			else if (err.code == CTD_EINVAL)
				rc_reply(resp, 400, -21, err.msg, NULL);
			else
				rc_reply(resp, 500, -99, "Internal server error", NULL);
		} else {
			tmcm_timeline(NULL, "udso.put", sha1,
				      json_pack("{s:s, s:s, s:s, s:s}", "type", "file", "content", sha1,
						"file_name", name, "scan_action", laction));
			rc_reply(resp, 200, 1, "Operation successful", NULL);
		}
	}
	free(data);
	free(laction);
	json_decref(root);
}

/* ---- ProductServers / ProductAgents ------------------------------------------------------- */

static void list_products(http_req *req, http_resp *resp, int kind, const tmcm_product_filter *f)
{
	const tmcm_app *app = req->app;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	json_t *list = tmcm_product_list(st, f, kind, app->cfg->heartbeat_timeout, &err);
	if (!list)
		rc_reply(resp, 500, -99, "Internal server error", NULL);
	else
		rc_reply(resp, 200, 1, "Operation successful", list);
}

static void h_product_servers(http_req *req, http_resp *resp)
{
	if (strcmp(req->method, "GET") != 0) {
		rc_reply(resp, 405, -50, "Unsupported HTTP method", NULL);
		return;
	}
	tmcm_product_filter f = {http_req_query(req, "entity_id"), http_req_query(req, "ip_address"),
				 http_req_query(req, "host_name"), http_req_query(req, "product")};
	list_products(req, resp, 1, &f);
}

static const char *isolation_for(const char *act)
{
	if (strcmp(act, "cmd_isolate_agent") == 0)
		return "isolated";
	if (strcmp(act, "cmd_restore_isolated_agent") == 0)
		return "normal";
	return NULL;
}

/* POST: an agent action on the products matching the body's criteria;
 * result_content lists them as they were before the action. */
static void agent_action(http_req *req, http_resp *resp)
{
	json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
	const char *act = json_str(root, "act");
	tmcm_product_filter f = {json_str(root, "entity_id"), json_str(root, "ip_address"),
				 json_str(root, "host_name"), json_str(root, "product")};
	int any = (f.entity_id && *f.entity_id) || (f.ip_address && *f.ip_address) ||
		  (f.host_name && *f.host_name) || (f.product && *f.product);
	static const char *const acts[] = {"cmd_isolate_agent", "cmd_restore_isolated_agent",
					   "cmd_relocate_agent", "cmd_uninstall_agent"};
	int known = 0;
	for (size_t i = 0; act && i < sizeof(acts) / sizeof(acts[0]); i++)
		known |= strcmp(act, acts[i]) == 0;
	store *st = NULL;
	if (!act || !any) {
		rc_reply(resp, 400, -21, "Invalid parameters", NULL);
	} else if (!known) {
		rc_reply(resp, 400, -22, "Invalid act", NULL);
	} else if ((st = daemon_req_store(resp))) {
		const tmcm_app *app = req->app;
		ctd_err err = {0};
		json_t *list = tmcm_product_list(st, &f, 2, app->cfg->heartbeat_timeout, &err);
		if (!list) {
			rc_reply(resp, 500, -99, "Internal server error", NULL);
		} else if (json_array_size(list) > 1 &&
			   !json_is_true(json_object_get(root, "allow_multiple_match"))) {
			rc_reply(resp, 400, -102, "Multiple agents matched", NULL);
			json_decref(list);
		} else {
			size_t i;
			json_t *a;
			json_array_foreach(list, i, a) {
				const char *id = json_string_value(json_object_get(a, "entity_id"));
				const char *iso = isolation_for(act);
				if (iso && tmcm_product_set_isolation(st, id, iso, &err) < 0)
					log_warn("automation.agent_action_failed", "entity=%s error=\"%s\"",
						 id, err.msg);
				tmcm_timeline(NULL, "agent.action", id, json_pack("{s:s}", "act", act));
			}
			rc_reply(resp, 200, 1, "Operation successful", list);
		}
	}
	json_decref(root);
}

static void h_product_agents(http_req *req, http_resp *resp)
{
	if (strcmp(req->method, "POST") == 0) {
		agent_action(req, resp);
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		rc_reply(resp, 405, -50, "Unsupported HTTP method", NULL);
		return;
	}
	tmcm_product_filter f = {http_req_query(req, "entity_id"), http_req_query(req, "ip_address"),
				 http_req_query(req, "host_name"), http_req_query(req, "product")};
	list_products(req, resp, 2, &f);
}

/* Real servers are IIS: the listener matches these in any case
 * (daemon_http_start with path_nocase), with or without a trailing slash and
 * with runs of slashes as one (every ctdlab listener does). */
const http_route tmcm_automation_routes[] = {
	{"*", "/WebApp/api/SuspiciousObjects/UserDefinedSO", h_udso, &jwt_ci_auth},
	{"*", "/WebApp/api/v1/SuspiciousObjects/UserDefinedSO", h_udso, &jwt_ci_auth},
	{"*", "/WebApp/API/SuspiciousObjectResource/FileUDSO", h_file_udso, &jwt_rc_auth,
	 HTTP_BODY_UPLOAD},
	{"*", "/WebApp/API/ServerResource/ProductServers", h_product_servers, &jwt_rc_auth},
	{"*", "/WebApp/API/AgentResource/ProductAgents", h_product_agents, &jwt_rc_auth},
	{"GET", "/WebApp/api/v1/logs/{log_type}", tmcm_logs_handler, &jwt_ci_auth},
	{"*", "/WebApp/OSCE_iES/OsceIes/ApiEntry", tmcm_es_handler, &jwt_ci_auth},
};
const size_t tmcm_automation_nroutes =
	sizeof(tmcm_automation_routes) / sizeof(tmcm_automation_routes[0]);
