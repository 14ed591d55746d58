/* ddan_console.c - the console's JSON API: Dashboard counts, Help → About
 * (API key, version), submissions with status, risk and the report download,
 * submitters, and Virtual Analyzer → Suspicious Objects with Expire Now /
 * Never Expire and the Exceptions list. Logins are
 * common/session.c's (ddand.c gives it the console password and API key). */
#include "ddan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dtas.h"
#include "log.h"

static const char *const status_names[] = {"", "Not found", "Arrived", "Processing", "Done",
					   "Error", "Timeout"};
static const char *const risk_names[] = {"Unsupported", "No risk", "Low", "Medium", "High"};

void ddan_console_about(http_req *req, http_resp *resp)
{
	ddan_app *app = req->app;
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "product",
				 "Deep Discovery Analyzer (ctdlab emulation)", "version", CTDLAB_VERSION,
				 "api_key", app->api_key, "service_url", DTAS_PREFIX, "rules",
				 (json_int_t)ddan_rules_count(app->rules), "analysis_time_ms",
				 (json_int_t)app->cfg->analysis_time));
}

/* Add readable status and risk names to a sample row. */
static void name_sample(json_t *s)
{
	int status = (int)json_integer_value(json_object_get(s, "status"));
	int risk = (int)json_integer_value(json_object_get(s, "risk"));
	json_object_set_new(s, "status_name",
			    json_string(status >= 1 && status <= 6 ? status_names[status] : "?"));
	json_object_set_new(s, "risk_name",
			    json_string(status != DDAN_DONE ? "" : risk >= -1 && risk <= 3 ? risk_names[risk + 1]
											     : "Error"));
}

void ddan_console_samples(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *lim = http_req_query(req, "limit");
	int limit = lim ? atoi(lim) : 500;
	ctd_err err = {0};
	json_t *rows = ddan_sample_list(st, 0, INT64_MAX, 0, -(limit > 0 ? limit : 500), &err);
	if (!rows)
		return http_resp_ctd_err(resp, &err);
	const char *want = http_req_query(req, "status");
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		json_object_del(r, "result");
		name_sample(r);
		if (!want || !strcasecmp(want, json_string_value(json_object_get(r, "status_name"))))
			json_array_append(out, r);
	}
	json_decref(rows);
	http_resp_json(resp, 200, json_pack("{s:o}", "samples", out));
}

/* The sample the path's {sha1} names; NULL when resp is filled. */
static json_t *path_sample(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	char sha1[41];
	if (!st)
		return NULL;
	if (ddan_sha1_norm(http_req_param(req, "sha1"), sha1) != 0) {
		http_resp_error(resp, 400, "invalid", "not a SHA-1");
		return NULL;
	}
	ctd_err err = {0};
	json_t *s = ddan_sample_load(st, sha1, &err);
	if (!s)
		http_resp_ctd_err(resp, &err);
	return s;
}

/* The path's {id}; -1 when resp is filled. */
static int path_id(http_req *req, http_resp *resp, const char *what, long long *id)
{
	char *end;
	const char *text = http_req_param(req, "id");
	*id = strtoll(text, &end, 10);
	if (end != text && !*end)
		return 0;
	http_resp_error(resp, 400, "invalid", "%s id must be a number", what);
	return -1;
}

void ddan_console_sample(http_req *req, http_resp *resp)
{
	json_t *s = path_sample(req, resp);
	if (!s)
		return;
	name_sample(s);
	http_resp_json(resp, 200, s);
}

void ddan_console_submitters(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	json_t *rows = ddan_submitter_list(st, &err);
	if (!rows)
		return http_resp_ctd_err(resp, &err);
	http_resp_json(resp, 200, json_pack("{s:o}", "submitters", rows));
}

void ddan_console_so_list(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *type = http_req_query(req, "type");
	const char *all = http_req_query(req, "include_expired");
	char up[8] = "";
	if (type) {
		snprintf(up, sizeof up, "%s", type);
		str_upper(up);
	}
	ctd_err err = {0};
	json_t *rows = ddan_so_list(st, type ? up : NULL, all && strcmp(all, "0"), &err);
	if (!rows)
		return http_resp_ctd_err(resp, &err);
	http_resp_json(resp, 200, json_pack("{s:o}", "suspicious_objects", rows));
}

static void so_act(http_req *req, http_resp *resp, const char *action)
{
	ddan_app *app = req->app;
	store *st = daemon_req_store(resp);
	long long id;
	if (!st || path_id(req, resp, "suspicious object", &id) != 0)
		return;
	ctd_err err = {0};
	if (ddan_so_action(st, id, action, app->cfg->so_expiry, &err) != 0)
		return http_resp_ctd_err(resp, &err);
	log_info("so.action", "id=%lld action=%s", id, action);
	http_resp_json(resp, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "action", action));
}

void ddan_console_so_action(http_req *req, http_resp *resp)
{
	so_act(req, resp, http_req_param(req, "action"));
}

/* DELETE /api/suspicious_objects/{id}: DDAN removes an object by expiring it
 * now (feeds see the removal under a new change id). */
void ddan_console_so_delete(http_req *req, http_resp *resp)
{
	so_act(req, resp, "expire");
}

/* DELETE /api/samples/{sha1}: the submission, its file and its report go;
 * the suspicious objects it produced stay (they have their own removal). */
void ddan_console_sample_delete(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	char sha1[41];
	if (!st)
		return;
	if (ddan_sha1_norm(http_req_param(req, "sha1"), sha1) != 0)
		return http_resp_error(resp, 400, "invalid", "not a SHA-1");
	ctd_err err = {0};
	if (ddan_sample_delete(st, sha1, &err) != 0)
		return http_resp_ctd_err(resp, &err);
	log_info("sample.deleted", "sha1=%s", sha1);
	http_resp_json(resp, 200, json_pack("{s:s}", "deleted", sha1));
}

/* GET /api/dashboard: sample and object counts for the Dashboard. */
void ddan_console_dashboard(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	ctd_err err = {0};
	sqlite3_stmt *s = st ? store_stmt(st,
		"SELECT (SELECT COUNT(*) FROM ddan_samples),"
		" (SELECT COUNT(*) FROM ddan_samples WHERE status IN (2, 3)),"
		" (SELECT COUNT(*) FROM ddan_samples WHERE status = 4),"
		" (SELECT COUNT(*) FROM ddan_samples WHERE status = 4 AND risk = 3),"
		" (SELECT COUNT(*) FROM ddan_samples WHERE status = 4 AND risk = 2),"
		" (SELECT COUNT(*) FROM ddan_samples WHERE status = 4 AND risk = 1),"
		" (SELECT COUNT(*) FROM ddan_samples WHERE status = 4 AND risk = 0),"
		" (SELECT COUNT(*) FROM ddan_so WHERE removed = 0),"
		" (SELECT COUNT(*) FROM ddan_so_exceptions),"
		" (SELECT COUNT(*) FROM ddan_submitters WHERE registered = 1)", &err) : NULL;
	if (!s) {
		if (st)
			http_resp_ctd_err(resp, &err);
		return;
	}
	json_int_t n[10] = {0};
	if (sqlite3_step(s) == SQLITE_ROW)
		for (int i = 0; i < 10; i++)
			n[i] = sqlite3_column_int64(s, i);
	sqlite3_reset(s);
	http_resp_json(resp, 200,
		       json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:I}", "samples",
				 "total", n[0], "in_progress", n[1], "done", n[2], "high", n[3],
				 "medium", n[4], "low", n[5], "no_risk", n[6], "suspicious_objects",
				 n[7], "exceptions", n[8], "submitters", n[9]));
}

/* GET /api/samples/{sha1}/report: the analysis report (get_report's XML) as
 * a file to save. */
void ddan_console_report(http_req *req, http_resp *resp)
{
	json_t *s = path_sample(req, resp);
	if (!s)
		return;
	const char *sha1 = json_string_value(json_object_get(s, "sha1"));
	if (json_integer_value(json_object_get(s, "status")) != DDAN_DONE) {
		http_resp_error(resp, 409, "not_ready", "the analysis of %s has not finished", sha1);
		json_decref(s);
		return;
	}
	size_t len;
	char *xml = ddan_report_xml(s, 0, &len);
	char *disp = xasprintf("attachment; filename=\"%s_report.xml\"", sha1);
	http_resp_header(resp, "Content-Disposition", disp);
	http_resp_bytes(resp, 200, "application/xml", xml, len);
	free(disp);
	free(xml);
	json_decref(s);
}

/* GET /api/exceptions */
void ddan_console_exceptions(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	ctd_err err = {0};
	json_t *rows = st ? ddan_exception_list(st, &err) : NULL;
	if (!rows) {
		if (st)
			http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:o}", "exceptions", rows));
}

/* POST /api/exceptions {"type", "value", "note"?} */
void ddan_console_exception_add(http_req *req, http_resp *resp)
{
	ddan_app *app = req->app;
	json_t *body = http_req_json(req, resp);
	store *st = body ? daemon_req_store(resp) : NULL;
	if (!st) {
		json_decref(body);
		return;
	}
	ctd_err err = {0};
	json_t *row = ddan_exception_add(st, json_string_value(json_object_get(body, "type")),
					 json_string_value(json_object_get(body, "value")),
					 json_string_value(json_object_get(body, "note")),
					 app->cfg->so_expiry, &err);
	json_decref(body);
	if (!row)
		return http_resp_ctd_err(resp, &err);
	http_resp_json(resp, 201, row);
}

/* DELETE /api/exceptions/{id} */
void ddan_console_exception_delete(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	long long id;
	ctd_err err = {0};
	if (!st || path_id(req, resp, "exception", &id) != 0)
		return;
	if (ddan_exception_delete(st, id, &err) != 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:I}", "deleted", (json_int_t)id));
}
