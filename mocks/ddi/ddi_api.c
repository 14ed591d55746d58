/* ddi_api.c - DDI's HTTPS interfaces.
 *
 * Console JSON API (common/session.c: the API key in `X-Api-Key`,
 * `Authorization: Bearer` or ?api_key=, or a session from POST /api/login
 * as admin with the console password or the API key): status (capture state, why capture is unavailable, analysis
 * mode and DDAN health), Detections, Detections -> Suspicious Objects (STEP
 * 3-1), carved files, submission rules, capture-file upload, and the
 * downloads the STEP 3-1 download site served (and how DDI saw each).
 *
 * SO feed (STEP 3-2), DTAS style: GET /web_service/sample_upload/get_black_lists
 * with X-DTAS-LastQueryID, X-DTAS-Checksum verified with DDI's own API key,
 * answered in the common/sofeed.h XML. register / unregister /
 * test_connection let a DTAS client (TMCM) connect as it would to a DDAN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon.h"
#include "dtas.h"
#include "log.h"
#include "util.h"
#include "ddi_sensor.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 10000

static ddi_app *app_of(http_req *req)
{
	return req->app;
}

static int query_int(http_req *req, http_resp *resp, const char *name, long long def,
		     long long min, long long max, long long *out)
{
	const char *v = http_req_query(req, name);
	*out = def;
	if (!v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		http_resp_error(resp, 400, "invalid", "%s must be an integer in [%lld, %lld]", name, min,
				max);
		return -1;
	}
	*out = n;
	return 0;
}

static void reply_rows(http_resp *resp, const char *key, json_t *rows, const ctd_err *err)
{
	if (!rows) {
		http_resp_ctd_err(resp, err);
		return;
	}
	json_t *body = json_object();
	json_object_set_new(body, "total", json_integer((json_int_t)json_array_size(rows)));
	json_object_set_new(body, key, rows);
	http_resp_json(resp, 200, body);
}

/* GET /api/status: the Dashboard and Administration screens' data. */
static void api_status(http_req *req, http_resp *resp)
{
	ddi_app *a = app_of(req);
	ctd_err err;
	store *st = daemon_req_store(resp);
	json_t *totals = st ? ddi_totals(st, &err) : NULL;
	if (!totals) {
		if (st)
			http_resp_ctd_err(resp, &err);
		return;
	}
	json_t *body = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s?}", "appliance", "ddi", "version",
				 CTDLAB_VERSION, "capture", ddi_sensor_status(a->sensor), "analysis",
				 ddi_submit_status(a->submitter), "totals", totals, "download_site",
				 a->download_url);
	http_resp_json(resp, 200, body);
}

/* GET /api/detections?after_id=&limit= */
static void api_detections(http_req *req, http_resp *resp)
{
	long long after, limit;
	ctd_err err;
	if (query_int(req, resp, "after_id", 0, 0, INT64_MAX, &after) < 0 ||
	    query_int(req, resp, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &limit) < 0)
		return;
	store *st = daemon_req_store(resp);
	if (st)
		reply_rows(resp, "detections", ddi_detections_list(st, after, (int)limit, &err), &err);
}

/* GET /api/suspicious_objects?type=FILE|URL|DOMAIN|IP&include_removed=1 */
static void api_sos(http_req *req, http_resp *resp)
{
	long long limit, removed;
	ctd_err err;
	if (query_int(req, resp, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &limit) < 0 ||
	    query_int(req, resp, "include_removed", 0, 0, 1, &removed) < 0)
		return;
	const char *type = http_req_query(req, "type");
	if (type && strcasecmp(type, "FILE") && strcasecmp(type, "URL") &&
	    strcasecmp(type, "DOMAIN") && strcasecmp(type, "IP")) {
		http_resp_error(resp, 400, "invalid", "type must be FILE, URL, DOMAIN or IP");
		return;
	}
	store *st = daemon_req_store(resp);
	if (st)
		reply_rows(resp, "suspicious_objects",
			   ddi_so_list(st, type, (int)removed, (int)limit, &err), &err);
}

/* DELETE of the object the path's {id} names, by `remove`. */
static void delete_by_id(http_req *req, http_resp *resp, const char *what,
			 int (*remove)(store *, int64_t, ctd_err *))
{
	char *end;
	const char *text = http_req_param(req, "id");
	long long id = strtoll(text, &end, 10);
	if (end == text || *end) {
		http_resp_error(resp, 400, "invalid", "%s id must be a number", what);
		return;
	}
	store *st = daemon_req_store(resp);
	ctd_err err = {0};
	if (!st)
		return;
	if (remove(st, id, &err) != 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	log_info("ddi.deleted", "what=\"%s\" id=%lld", what, id);
	http_resp_json(resp, 200, json_pack("{s:I}", "deleted", (json_int_t)id));
}

/* DELETE /api/detections/{id} */
static void api_detection_delete(http_req *req, http_resp *resp)
{
	delete_by_id(req, resp, "detection", ddi_detection_delete);
}

/* DELETE /api/suspicious_objects/{id}: removed from the list and the feed */
static void api_so_delete(http_req *req, http_resp *resp)
{
	delete_by_id(req, resp, "suspicious object", ddi_so_remove);
}

/* GET /api/files?state=&limit= */
static void api_files(http_req *req, http_resp *resp)
{
	long long limit;
	ctd_err err;
	if (query_int(req, resp, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &limit) < 0)
		return;
	store *st = daemon_req_store(resp);
	if (st)
		reply_rows(resp, "files",
			   ddi_files_list(st, http_req_query(req, "state"), (int)limit, &err), &err);
}

/* GET /api/rules */
static void api_rules(http_req *req, http_resp *resp)
{
	ddi_app *a = app_of(req);
	http_resp_json(resp, 200, json_pack("{s:s, s:o}", "ruleset", a->ruleset, "rules",
					    ddi_rules_describe(a->ruleset)));
}

/* POST /api/pcaps: the body is a pcap or pcapng file, ingested at once. */
static void api_pcap_upload(http_req *req, http_resp *resp)
{
	if (req->body_len == 0) {
		http_resp_error(resp, 400, "invalid", "the request body must be a pcap or pcapng file");
		return;
	}
	ddi_app *a = app_of(req);
	char *path = xasprintf("%s/run/ddi-upload-XXXXXX", a->home);
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, req->body, req->body_len) != (ssize_t)req->body_len) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		http_resp_error(resp, 500, "internal", "cannot stage the upload");
		free(path);
		return;
	}
	close(fd);
	json_t *summary = NULL;
	ctd_err err;
	if (ddi_sensor_read_file(a->sensor, path, &summary, &err) < 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, summary);
	unlink(path);
	free(path);
}

/* GET /api/downloads: the download site's URL and what it served. */
static void api_downloads(http_req *req, http_resp *resp)
{
	ddi_app *a = app_of(req);
	if (!a->downloads) {
		http_resp_json(resp, 200, json_pack("{s:n, s:[]}", "url", "downloads"));
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:s, s:o}", "url", a->download_url, "downloads",
					    ddi_downloads_served(a->downloads)));
}

/* ---- DTAS side */

/* The SO feed's route authenticator: X-DTAS-Checksum over the headers (and
 * a PUT body) with DDI's API key. */
static int dtas_authorized(http_req *req, http_resp *resp)
{
	const char *keys[] = {app_of(req)->api_key};
	dtas_verify v = {.keys = keys, .nkeys = 1};
	ctd_err err;
	if (dtas_verify_request(req, &v, &err) == 0)
		return 0;
	char ip[64];
	const char *uuid = http_req_header(req, "X-DTAS-ClientUUID");
	http_req_client_ip(req, ip, sizeof(ip));
	log_warn("ddi.dtas.auth", "client=%s uuid=%s reason=%s", ip, uuid ? uuid : "", v.reason);
	http_resp_error(resp, 401, "unauthorized", "%s (DDI verifies with its API key)", err.msg);
	return -1;
}

static const http_auth dtas_auth = {"dtas", dtas_authorized, 1};

static void dtas_simple(http_req *req, http_resp *resp)
{
	const char *uuid = http_req_header(req, "X-DTAS-ClientUUID");
	const char *product = http_req_header(req, "X-DTAS-ProductName");
	log_info("ddi.dtas.client", "call=%s uuid=%s product=%s", req->path, uuid ? uuid : "",
		 product ? product : "");
	http_resp_text(resp, 200, "text/plain", "");
}

/* GET /web_service/sample_upload/get_black_lists */
static void dtas_black_lists(http_req *req, http_resp *resp)
{
	const char *last = http_req_header(req, "X-DTAS-LastQueryID");
	long long after = 0;
	if (last && *last) {
		char *end;
		after = strtoll(last, &end, 10);
		if (*end || after < 0) {
			http_resp_error(resp, 400, "invalid",
					"X-DTAS-LastQueryID must be a non-negative integer");
			return;
		}
	}
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	sbuf xml = {0};
	ctd_err err;
	if (ddi_so_feed_page(st, after, app_of(req)->feed_page, &xml, &err) < 0) {
		sbuf_free(&xml);
		http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_bytes(resp, 200, "text/xml; charset=utf-8", xml.data, xml.len);
	sbuf_free(&xml);
}

const http_route ddi_routes[] = {
	{"POST", "/api/login", session_login_handler, HTTP_PUBLIC},
	{"POST", "/api/logout", session_logout_handler},
	{"GET", "/api/status", api_status},
	{"GET", "/api/detections", api_detections},
	{"GET", "/api/suspicious_objects", api_sos},
	{"GET", "/api/detections/suspicious_objects", api_sos},
	{"DELETE", "/api/detections/{id}", api_detection_delete},
	{"DELETE", "/api/suspicious_objects/{id}", api_so_delete},
	{"DELETE", "/api/detections/suspicious_objects/{id}", api_so_delete},
	{"GET", "/api/files", api_files},
	{"GET", "/api/rules", api_rules},
	{"POST", "/api/pcaps", api_pcap_upload, NULL, HTTP_BODY_UPLOAD},
	{"GET", "/api/downloads", api_downloads},
	{"GET", DTAS_PREFIX "get_black_lists", dtas_black_lists, &dtas_auth},
	{"GET", DTAS_PREFIX "register", dtas_simple, &dtas_auth},
	{"GET", DTAS_PREFIX "unregister", dtas_simple, &dtas_auth},
	{"GET", DTAS_PREFIX "test_connection", dtas_simple, &dtas_auth},
};
const size_t ddi_nroutes = sizeof(ddi_routes) / sizeof(ddi_routes[0]);
