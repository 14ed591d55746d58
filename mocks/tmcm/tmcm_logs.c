/* tmcm_logs.c - the Automation API log query (reference tmcm-automation-api.md
 * §1 #9): GET /WebApp/api/v1/logs/<log_type>?output_format=1&page_token=N
 * &since_time=<unix s>, answering CEF lines in Data.Logs[] with the paging
 * fields public clients read (XSOAR parses each line with pycef). The lab's
 * managed products send TMCM no detection logs, so "Virtual Analyzer
 * Detections" (Sandbox_Detection_Log) lists the Virtual Analyzer objects TMCM
 * received (one line each, fields ours) and the other known types answer an
 * empty page; an unknown type is a parameter error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "util.h"
#include "tmcm.h"

#define LOG_PAGE 500

/* The log types of the public clients, with the names the console shows. */
static const struct {
	const char *type, *name;
} log_types[] = {
	{"data_loss_prevention", "Data Loss Prevention"},
	{"device_access_control", "Device Control"},
	{"behaviormonitor_rule", "Behavior Monitoring"},
	{"officescan_virus", "Virus/Malware"},
	{"spyware", "Spyware/Grayware"},
	{"web_security", "Web Security"},
	{"security", "Content Violation"},
	{"ncie", "Network Content Inspection"},
	{"cncdetection", "C&C Callback"},
	{"filehashdetection", "Suspicious File Information"},
	{"Predictive_Machine_Learning", "Predictive Machine Learning"},
	{"Sandbox_Detection_Log", "Virtual Analyzer Detections"},
	{"EACV_Information", "Application Control"},
	{"Managed_Product_Logged_Information", "Managed Product User Access"},
	{"Attack_Discovery_Detections", "Attack Discovery"},
	{"pattern_updated_status", "Pattern Update Status"},
	{"engine_updated_status", "Engine Update Status"},
	{"product_auditing_events", "Product Auditing Events"},
	{"intrusion_prevention", "Intrusion Prevention"},
};

static const char *log_type_name(const char *type)
{
	for (size_t i = 0; i < sizeof log_types / sizeof log_types[0]; i++)
		if (!strcasecmp(type, log_types[i].type))
			return log_types[i].name;
	return NULL;
}

/* A CEF extension value: '\' and '=' escaped, line breaks as spaces. */
static void cef_value(sbuf *out, const char *key, const char *v)
{
	sbuf_printf(out, " %s=", key);
	for (; *v; v++) {
		if (*v == '\\' || *v == '=')
			sbuf_printf(out, "\\%c", *v);
		else
			sbuf_printf(out, "%c", *v == '\r' || *v == '\n' ? ' ' : *v);
	}
}

/* "Jun 21 2020 07:56:09" + suffix, as Apex Central writes its times. */
static void cef_time(int64_t ms, const char *suffix, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "%b %d %Y %H:%M:%S", &tm);
	snprintf(out, n, "%s%s", buf, suffix);
}

/* One VA object as a Virtual Analyzer Detections line. */
static char *va_line(sqlite3_stmt *s, const char *host)
{
	const char *risk = tmcm_col_text(s, 4);
	char now[40], rt[48], id[24];
	cef_time(time_now_ms(), "", now, sizeof now);
	cef_time(sqlite3_column_int64(s, 5), " GMT+00:00", rt, sizeof rt);
	snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(s, 0));
	sbuf l = {0};
	sbuf_printf(&l, "%s %s CEF:0|Trend Micro|Apex Central|2019|VA:%s|Virtual Analyzer "
			"Detections|%d|deviceExternalId=%s", now, host, tmcm_col_text(s, 1),
		    !strcmp(risk, "High") ? 8 : !strcmp(risk, "Medium") ? 5 : 3, id);
	cef_value(&l, "rt", rt);
	cef_value(&l, "cs1Label", "SuspiciousObjectType");
	cef_value(&l, "cs1", tmcm_col_text(s, 1));
	cef_value(&l, "cs2Label", "SuspiciousObject");
	cef_value(&l, "cs2", tmcm_col_text(s, 2));
	cef_value(&l, "cs3Label", "RiskLevel");
	cef_value(&l, "cs3", risk);
	cef_value(&l, "act", tmcm_col_text(s, 6));
	cef_value(&l, "fileHash", tmcm_col_text(s, 7));
	cef_value(&l, "deviceFacility", tmcm_col_text(s, 3));
	cef_value(&l, "dvchost", host);
	return sbuf_detach(&l);
}

/* The VA objects seen since since_s, from offset on: appended to logs. */
static int va_logs(store *st, const char *host, long long since_s, long long offset,
		   json_t *logs, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, type, value, source, risk, last_seen_ms, action, related_sha1"
		" FROM tmcm_va_objects WHERE last_seen_ms >= ?1 ORDER BY id LIMIT ?2 OFFSET ?3", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, since_s * 1000);
	sqlite3_bind_int64(s, 2, LOG_PAGE);
	sqlite3_bind_int64(s, 3, offset);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char *line = va_line(s, host);
		json_array_append_new(logs, json_string(line));
		free(line);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : tmcm_db_fail(st, err, "log query");
}

/* A non-negative integer query parameter (absent: 0); -1 when malformed. */
static long long query_count(const http_req *req, const char *name)
{
	const char *v = http_req_query(req, name);
	if (!v || !*v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}

void tmcm_logs_handler(http_req *req, http_resp *resp)
{
	const tmcm_app *app = req->app;
	const char *type = http_req_param(req, "log_type");
	const char *name = log_type_name(type);
	long long token = query_count(req, "page_token"), since = query_count(req, "since_time");
	if (!name || token < 0 || since < 0) {
		tmcm_ci_reply(req, resp, 400, json_array(), 7,
			      name ? "Incorrect parameter: page_token and since_time are integers"
				   : "Incorrect parameter: unknown log type");
		return;
	}
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	json_t *logs = json_array();
	ctd_err err = {0};
	if (!strcasecmp(type, "Sandbox_Detection_Log") &&
	    va_logs(st, app->hostname, since, token, logs, &err) != 0) {
		json_decref(logs);
		tmcm_ci_reply(req, resp, 500, json_array(), 5, err.msg);
		return;
	}
	size_t n = json_array_size(logs);
	json_t *data = json_pack("{s:s, s:s, s:s, s:{s:I, s:I}, s:{s:I, s:I}, s:n, s:i, s:o}",
				 "SyslogType", type, "SyslogName", name, "SyslogOutputFormat", "1",
				 "CurrentPage", "PageToken", (json_int_t)token, "SinceTime",
				 (json_int_t)since, "NextPage", "PageToken", (json_int_t)(token + (long long)n),
				 "SinceTime", (json_int_t)since, "Next", "Count", (int)n, "Logs", logs);
	tmcm_ci_reply(req, resp, 200, data, 0, "");
}
