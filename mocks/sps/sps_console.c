/* sps_console.c - the SPS console JSON API on the main HTTPS port (4343):
 * login (admin password, or the API key as a bearer token), the Suspicious
 * Objects page (source, last sync time, object count, Sync now, Test
 * connection, the objects) and the Approved/Blocked URL list with its
 * "Test URL". */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include "log.h"
#include "sps.h"
#include "store.h"
#include "util.h"

#define SESSION_MAX 64
#define SESSION_TTL_MS (8 * 3600 * 1000LL)
#define SYNC_WAIT_MS 30000

static const sps_config *console_cfg;
static const char *console_password, *console_api_key; /* borrowed from main */

static struct {
	pthread_mutex_t mu;
	struct {
		char token[37];
		int64_t expires_ms;
	} s[SESSION_MAX];
} sessions = {.mu = PTHREAD_MUTEX_INITIALIZER};

void sps_console_init(const sps_config *cfg, const char *admin_password, const char *api_key)
{
	console_cfg = cfg;
	console_password = admin_password;
	console_api_key = api_key;
}

static int secret_equal(const char *given, const char *secret)
{
	size_t n = strlen(secret);
	return given && *secret && strlen(given) == n && CRYPTO_memcmp(given, secret, n) == 0;
}

static void session_new(char out[37])
{
	int64_t now = time_now_ms();
	uuid_v4(out);
	pthread_mutex_lock(&sessions.mu);
	int slot = 0;
	for (int i = 0; i < SESSION_MAX; i++)
		if (sessions.s[i].expires_ms < sessions.s[slot].expires_ms)
			slot = i; /* the free or oldest slot */
	memcpy(sessions.s[slot].token, out, 37);
	sessions.s[slot].expires_ms = now + SESSION_TTL_MS;
	pthread_mutex_unlock(&sessions.mu);
}

static int session_valid(const char *token, int drop)
{
	int64_t now = time_now_ms();
	int ok = 0;
	pthread_mutex_lock(&sessions.mu);
	for (int i = 0; i < SESSION_MAX && !ok; i++)
		if (sessions.s[i].expires_ms > now && secret_equal(token, sessions.s[i].token)) {
			ok = 1;
			if (drop)
				sessions.s[i].expires_ms = 0;
		}
	pthread_mutex_unlock(&sessions.mu);
	return ok;
}

static const char *bearer(const http_req *req)
{
	const char *h = http_req_header(req, "Authorization");
	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		return h + 7;
	h = http_req_header(req, "X-Session"); /* as the TMCM console takes it */
	return h ? h : http_req_header(req, "X-API-Key");
}

/* 1 when the request carries a session token or the API key; else answers 401. */
static int authorized(http_req *req, http_resp *resp)
{
	const char *tok = bearer(req);
	if (tok && (secret_equal(tok, console_api_key) || session_valid(tok, 0)))
		return 1;
	http_resp_error(resp, 401, "unauthorized",
			"log in (POST /api/login) and send \"Authorization: Bearer <token>\","
			" or send the API key");
	return 0;
}

static void api_login(http_req *req, http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	const char *user = json_string_value(json_object_get(body, "username"));
	const char *pass = json_string_value(json_object_get(body, "password"));
	if (!user || strcmp(user, "admin") != 0 || !secret_equal(pass, console_password)) {
		log_warn("console.login_failed", "user=\"%s\"", user ? user : "");
		json_decref(body);
		http_resp_error(resp, 401, "unauthorized", "wrong user name or password");
		return;
	}
	json_decref(body);
	char token[37];
	session_new(token);
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:I}", "token", token, "user", "admin", "expires_in",
				 (json_int_t)(SESSION_TTL_MS / 1000)));
}

static void api_logout(http_req *req, http_resp *resp)
{
	if (!authorized(req, resp))
		return;
	session_valid(bearer(req), 1);
	http_resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

static void api_about(http_req *req, http_resp *resp)
{
	if (!authorized(req, resp))
		return;
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:s, s:I}", "product", "Smart Protection Server",
				 "appliance", "sps", "version", CTDLAB_VERSION, "wrs_port",
				 (json_int_t)console_cfg->wrs_port));
}

static void api_so_status(http_req *req, http_resp *resp)
{
	ctd_err err;
	if (authorized(req, resp))
		http_resp_result(resp, sps_sync_status(&err), &err);
}

/* "Sync now" (and "Delete local list" + full re-sync with reset): waits for
 * the sync to finish unless ?wait=0. */
static void so_sync(http_req *req, http_resp *resp, int reset)
{
	ctd_err err;
	if (!authorized(req, resp))
		return;
	const char *wait = http_req_query(req, "wait");
	long timeout = wait && strcmp(wait, "0") == 0 ? 0 : SYNC_WAIT_MS;
	if (sps_sync_now(reset, timeout, &err) != 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	json_t *status = sps_sync_status(&err);
	if (!status) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_json(resp, timeout ? 200 : 202, status);
}

static void api_so_sync(http_req *req, http_resp *resp)
{
	so_sync(req, resp, 0);
}

static void api_so_resync(http_req *req, http_resp *resp)
{
	so_sync(req, resp, 1);
}

static void api_so_test(http_req *req, http_resp *resp)
{
	ctd_err err;
	if (authorized(req, resp))
		http_resp_result(resp, sps_sync_test(&err), &err);
}

static void api_so_objects(http_req *req, http_resp *resp)
{
	ctd_err err;
	if (!authorized(req, resp))
		return;
	const char *type = http_req_query(req, "type");
	const char *limit = http_req_query(req, "limit");
	char utype[8] = "";
	if (type) {
		if (strlen(type) >= sizeof utype) {
			http_resp_error(resp, 400, "invalid", "type is URL, DOMAIN, IP or FILE");
			return;
		}
		strcpy(utype, type);
		str_upper(utype);
	}
	http_resp_result(resp, sps_so_list(type ? utype : NULL, limit ? atoi(limit) : 0, &err), &err);
}

static void api_lists_get(http_req *req, http_resp *resp)
{
	ctd_err err;
	if (authorized(req, resp))
		http_resp_result(resp, sps_lists_all(&err), &err);
}

static void api_lists_add(http_req *req, http_resp *resp)
{
	ctd_err err;
	if (!authorized(req, resp))
		return;
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	json_t *rule = sps_lists_add(body, &err);
	json_decref(body);
	if (rule)
		http_resp_json(resp, 201, rule);
	else
		http_resp_ctd_err(resp, &err);
}

static int rule_id(http_req *req, http_resp *resp, int64_t *id)
{
	const char *s = http_req_param(req, "id");
	char *end;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || *end || v <= 0) {
		http_resp_error(resp, 404, "not_found", "no such URL rule");
		return -1;
	}
	*id = v;
	return 0;
}

static void api_lists_update(http_req *req, http_resp *resp)
{
	ctd_err err;
	int64_t id;
	if (!authorized(req, resp) || rule_id(req, resp, &id) != 0)
		return;
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	json_t *rule = sps_lists_update(id, body, &err);
	json_decref(body);
	http_resp_result(resp, rule, &err);
}

static void api_lists_delete(http_req *req, http_resp *resp)
{
	ctd_err err;
	int64_t id;
	if (!authorized(req, resp) || rule_id(req, resp, &id) != 0)
		return;
	if (sps_lists_delete(id, &err) != 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)id));
}

/* The console's "Test URL": the same rating a WRS client gets. */
static void api_test_url(http_req *req, http_resp *resp)
{
	ctd_err err;
	if (!authorized(req, resp))
		return;
	const char *url = http_req_query(req, "url");
	if (!url) {
		http_resp_error(resp, 400, "invalid", "missing query parameter \"url\"");
		return;
	}
	http_resp_result(resp, sps_wrs_rate(url, &err), &err);
}

const http_route sps_console_routes[] = {
	{"POST", "/api/login", api_login},
	{"POST", "/api/logout", api_logout},
	{"GET", "/api/about", api_about},
	{"GET", "/api/so/status", api_so_status},
	{"POST", "/api/so/sync", api_so_sync},
	{"POST", "/api/so/resync", api_so_resync},
	{"POST", "/api/so/test", api_so_test},
	{"GET", "/api/so/objects", api_so_objects},
	{"GET", "/api/lists", api_lists_get},
	{"POST", "/api/lists", api_lists_add},
	{"PUT", "/api/lists/{id}", api_lists_update},
	{"DELETE", "/api/lists/{id}", api_lists_delete},
	{"GET", "/api/test-url", api_test_url},
};
const size_t sps_console_nroutes = sizeof sps_console_routes / sizeof sps_console_routes[0];
