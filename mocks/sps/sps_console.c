/* sps_console.c - the SPS console JSON API on the main HTTPS port (4343):
 * login (common/session.c with the admin password and the API key), the Suspicious
 * Objects page (source, last sync time, object count, Sync now, Test
 * connection, the objects), the Approved/Blocked URL list with its
 * "Test URL", and Web Reputation's log of recent queries. */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "sps.h"
#include "store.h"
#include "util.h"

#define SYNC_WAIT_MS 30000

static int wrs_port; /* as bound: the option may say 0 (ephemeral) */

void sps_console_init(int bound_wrs_port)
{
	wrs_port = bound_wrs_port;
}

static void api_about(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:s, s:I}", "product", "Smart Protection Server",
				 "appliance", "sps", "version", CTDLAB_VERSION, "wrs_port",
				 (json_int_t)wrs_port));
}

static void api_so_status(http_req *req, http_resp *resp)
{
	ctd_err err;
	http_resp_result(resp, sps_sync_status(&err), &err);
}

/* "Sync now" (and "Delete local list" + full re-sync with reset): waits for
 * the sync to finish unless ?wait=0. */
static void so_sync(http_req *req, http_resp *resp, int reset)
{
	ctd_err err;
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
	http_resp_result(resp, sps_sync_test(&err), &err);
}

static void api_so_objects(http_req *req, http_resp *resp)
{
	ctd_err err;
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
	http_resp_result(resp, sps_lists_all(&err), &err);
}

static void api_lists_add(http_req *req, http_resp *resp)
{
	ctd_err err;
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
	if (rule_id(req, resp, &id) != 0)
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
	if (rule_id(req, resp, &id) != 0)
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
	const char *url = http_req_query(req, "url");
	if (!url) {
		http_resp_error(resp, 400, "invalid", "missing query parameter \"url\"");
		return;
	}
	http_resp_result(resp, sps_wrs_rate(url, &err), &err);
}

static void api_wrs_log(http_req *req, http_resp *resp)
{
	const char *limit = http_req_query(req, "limit");
	http_resp_json(resp, 200, sps_wrs_recent(limit ? atoi(limit) : 0));
}

const http_route sps_console_routes[] = {
	{"POST", "/api/login", session_login_handler, HTTP_PUBLIC},
	{"POST", "/api/logout", session_logout_handler},
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
	{"GET", "/api/wrs/log", api_wrs_log},
};
const size_t sps_console_nroutes = sizeof sps_console_routes / sizeof sps_console_routes[0];
