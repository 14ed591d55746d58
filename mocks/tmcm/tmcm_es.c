/* tmcm_es.c - the Endpoint Sensor tunnel of the Automation API (reference
 * tmcm-automation-api.md §1 #10): PUT/POST /WebApp/OSCE_iES/OsceIes/ApiEntry
 * with {"Url": "V1/Task/...", "TaskType": 4, "Payload": {...}}, answered in
 * the envelope the public clients (XSOAR, Chronicle) parse:
 * Data{Code, CodeType, Message "OK", Data{taskId, hasMore, serverGuid,
 * serverName, content[{statusCode, message, content{...}}]}, TimeZone}.
 *
 * A deterministic emulation: the security agents are the products registered
 * with this TMCM, and a task runs the moment it is accepted - a live or
 * scheduled investigation is finished at once, matching on an agent exactly
 * when its file criteria is an object TMCM distributes (the merged suspicious
 * object list); registry and custom criteria match nothing (the lab's
 * products have no registry). Tasks are kept in tmcm_es_tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hash.h"
#include "log.h"
#include "util.h"
#include "tmcm.h"

#define ES_SERVER_NAME "Apex One (ctdlab)"

typedef struct es_call {
	http_req *req;
	http_resp *resp;
	store *st;
	json_t *payload;
	int64_t now;
} es_call;

/* ---- envelope ---------------------------------------------------------------- */

/* Data.Data: the task answer around content. */
static json_t *es_inner(const tmcm_app *app, const char *task_id, json_t *content, int more)
{
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:o}", "taskId", task_id, "lastContentId", "",
			 "hasMore", more, "serverGuid", app->client_uuid, "serverName",
			 ES_SERVER_NAME, "content", content);
}

/* One content item: {statusCode 0, message "Success", content}. */
static json_t *es_item(json_t *content)
{
	return json_pack("[{s:i, s:s, s:o}]", "statusCode", 0, "message", "Success", "content",
			 content);
}

/* Meta as the product spells it in this tunnel (lower case, "errorMessgae"). */
static void es_answer(es_call *c, int status, const char *message, json_t *inner)
{
	int ok = status == 200;
	json_t *data = json_pack("{s:i, s:i, s:s, s:o, s:i}", "Code", ok ? 0 : 1, "CodeType", 1,
				 "Message", message, "Data", inner ? inner : json_null(), "TimeZone", 0);
	json_t *meta = json_pack("{s:i, s:i, s:s}", "result", ok, "errorCode", ok ? 0 : 7,
				 "errorMessgae", ok ? "Success" : message);
	http_resp_json(c->resp, status, tmcm_ci_envelope(c->req->app, data, meta));
}

static void es_fail(es_call *c, int status, const char *message)
{
	log_warn("automation.es_refused", "status=%d reason=\"%s\"", status, message);
	es_answer(c, status, message, NULL);
}

/* ---- payload helpers ---------------------------------------------------------- */

static long long payload_int(json_t *o, const char *key, long long def)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return def;
}

static void pagination(json_t *payload, long long *offset, long long *limit)
{
	json_t *p = json_object_get(payload, "pagination");
	*offset = payload_int(p, "offset", 0);
	*limit = payload_int(p, "limit", 50);
	if (*offset < 0)
		*offset = 0;
	if (*limit <= 0)
		*limit = 50;
}

/* The value of the Payload filter entry of this type, or NULL. */
static json_t *filter_value(json_t *payload, int type)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(payload, "filter"), i, f)
		if (payload_int(f, "type", -1) == type)
			return json_object_get(f, "value");
	return NULL;
}

/* s contains the filter value (a string, or any string of an array). */
static int filter_hit(json_t *value, const char *s)
{
	if (!value)
		return 1;
	if (json_is_string(value))
		return strcasestr(s, json_string_value(value)) != NULL;
	size_t i;
	json_t *v;
	json_array_foreach(value, i, v)
		if (json_is_string(v) && !strcasecmp(s, json_string_value(v)))
			return 1;
	return 0;
}

/* ---- agents --------------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* A registered product as an Endpoint Sensor agent. isolateStatus is 0
 * ("Unknown"): the lab's products have no Endpoint Sensor isolation state
 * (ProductAgents' isolation_status has it). */
static json_t *agent_entity(const tmcm_app *app, json_t *p)
{
	char ip[64];
	snprintf(ip, sizeof ip, "%s", jstr(p, "ip_address_list"));
	ip[strcspn(ip, ",")] = '\0';
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:s, s:n, s:s, s:i, s:b, s:s, s:s, "
			 "s:i}",
			 "agentGuid", jstr(p, "entity_id"), "serverGuid", app->client_uuid,
			 "machineName", jstr(p, "host_name"), "isImportant", 0, "isOnline", 1, "ip",
			 ip, "machineGuid", jstr(p, "entity_id"), "machineType", "Server",
			 "machineLabels", "machineOS", "Linux (ctdlab)", "isolateStatus", 0,
			 "isEnable", 1, "userName", "", "userGuid", "", "productType", 15);
}

/* Every registered product as an agent entity (caller decrefs), or NULL. */
static json_t *all_agents(es_call *c)
{
	const tmcm_app *app = c->req->app;
	ctd_err err = {0};
	json_t *products = tmcm_product_list(c->st, NULL, 2, app->cfg->heartbeat_timeout, &err);
	if (!products) {
		es_fail(c, 500, err.msg);
		return NULL;
	}
	json_t *agents = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(products, i, p)
		json_array_append_new(agents, agent_entity(app, p));
	json_decref(products);
	return agents;
}

static json_t *page_of(json_t *all, long long offset, long long limit)
{
	json_t *page = json_array();
	for (size_t i = (size_t)offset; i < json_array_size(all) && (long long)i < offset + limit; i++)
		json_array_append(page, json_array_get(all, i));
	return page;
}

static json_t *page_info(long long offset, long long limit, size_t total)
{
	return json_pack("{s:I, s:I, s:I}", "offset", (json_int_t)offset, "limit", (json_int_t)limit,
			 "total", (json_int_t)total);
}

/* V1/Task/ShowAgentList: filter types 1 endpoint name, 4 IP address. */
static void show_agent_list(es_call *c)
{
	json_t *agents = all_agents(c);
	if (!agents)
		return;
	json_t *name = filter_value(c->payload, 1), *ip = filter_value(c->payload, 4);
	json_t *hits = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(agents, i, a)
		if (filter_hit(name, jstr(a, "machineName")) && filter_hit(ip, jstr(a, "ip")))
			json_array_append(hits, a);
	long long offset, limit;
	pagination(c->payload, &offset, &limit);
	size_t total = json_array_size(hits);
	json_t *content = json_pack("{s:o, s:o, s:{s:b, s:b}}", "agentEntity",
				    page_of(hits, offset, limit), "pagination",
				    page_info(offset, limit, total), "agentQueryStatus",
				    "hasFullRbac", 1, "hasFullAgents", 1);
	es_answer(c, 200, "OK",
		  es_inner(c->req->app, "", es_item(content), offset + limit < (long long)total));
	json_decref(hits);
	json_decref(agents);
}

/* ---- tasks -------------------------------------------------------------------------- */

/* The agents a task targets: Payload.agentGuid {server: [agent...]}, else all. */
static json_t *task_agents(es_call *c)
{
	json_t *agents = all_agents(c);
	json_t *chosen = json_object_get(c->payload, "agentGuid");
	if (!agents || !json_is_object(chosen))
		return agents;
	json_t *out = json_array();
	const char *server;
	json_t *list;
	json_object_foreach(chosen, server, list) {
		size_t i;
		json_t *a;
		json_array_foreach(agents, i, a)
			if (filter_hit(list, jstr(a, "agentGuid")))
				json_array_append(out, a);
	}
	json_decref(agents);
	return out;
}

/* The file criteria is an object TMCM distributes: 1, 0, or -1. */
static int file_is_suspicious(es_call *c, json_t *criteria, ctd_err *err)
{
	const char *b64 = jstr(criteria, "base64EncodedContent");
	unsigned char *data = NULL;
	size_t len = 0;
	if (!*b64 || base64_decode(b64, &data, &len, NULL) < 0)
		return 0;
	char sha1[SHA1_HEX_LEN];
	hash_hex(HASH_SHA1, data, len, sha1);
	free(data);
	str_upper(sha1);
	sqlite3_stmt *s = store_stmt(c->st, "SELECT 1 FROM tmcm_feed WHERE type = 'FILE' AND "
					    "value = ?1 AND removed = 0", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_TRANSIENT);
	int hit = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return hit;
}

/* The name the result lists for the task's criteria. */
static const char *criteria_name(json_t *payload)
{
	json_t *file = json_object_get(payload, "fileContentCriteria");
	if (file)
		return jstr(file, "fileName");
	json_t *reg = json_array_get(json_object_get(json_object_get(payload, "registryCriteria"),
						     "item"), 0);
	if (reg)
		return jstr(reg, "key");
	return json_object_get(payload, "retroCriteria") || json_object_get(payload, "criteria")
		       ? "Custom criteria"
		       : "";
}

/* Store a task that ran at once: its id (scanSummaryId), or -1; its guid is
 * written to guid. */
static long long task_store(es_call *c, const char *kind, json_t *agents, int matched,
			    char guid[37], ctd_err *err)
{
	const tmcm_app *app = c->req->app;
	uuid_v4(guid);
	char *ids = NULL;
	json_t *list = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(agents, i, a)
		json_array_append_new(list, json_string(jstr(a, "agentGuid")));
	ids = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	sqlite3_stmt *s = store_stmt(c->st,
		"INSERT INTO tmcm_es_tasks (guid, kind, name, scan_type, criteria, creator,"
		" submitted_ms, finished_ms, agents, matched) VALUES (?1,?2,?3,?4,?5,?6,?7,?7,?8,?9)",
		err);
	long long id = -1;
	if (s) {
		sqlite3_bind_text(s, 1, guid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, jstr(c->payload, "name"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, payload_int(c->payload, "scan_type", 0));
		sqlite3_bind_text(s, 5, criteria_name(c->payload), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 6, app->app_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 7, c->now);
		sqlite3_bind_text(s, 8, ids, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 9, matched);
		if (store_step_done(c->st, s, err) == 0)
			id = sqlite3_last_insert_rowid(store_db(c->st));
	}
	free(ids);
	if (id > 0)
		tmcm_timeline(c->st, "es.task", guid,
			      json_pack("{s:s, s:i, s:b}", "kind", kind, "agents",
					(int)json_array_size(agents), "matched", matched));
	return id;
}

/* CreateScan, CreateScanSchedule, CreateQuickScan, CreateProcessTermination. */
static void create_task(es_call *c, const char *kind)
{
	json_t *agents = task_agents(c);
	if (!agents)
		return;
	ctd_err err = {0};
	char guid[37];
	int matched = file_is_suspicious(c, json_object_get(c->payload, "fileContentCriteria"), &err);
	long long id = matched < 0 ? -1 : task_store(c, kind, agents, matched, guid, &err);
	if (id < 0) {
		es_fail(c, 500, err.msg);
	} else {
		int scan = !strcmp(kind, "scan") || !strcmp(kind, "schedule");
		json_t *content = scan ? es_item(json_pack("{s:I, s:s}", "scanSummaryId",
							   (json_int_t)id, "scanSummaryGuid", guid))
				       : json_array();
		es_answer(c, 200, "OK", es_inner(c->req->app, guid, content, 0));
	}
	json_decref(agents);
}

/* ---- results -------------------------------------------------------------------------- */

typedef struct task_row {
	long long id;
	const char *guid, *name, *criteria, *creator;
	int scan_type, matched;
	long long submitted_s, finished_s;
	json_t *agents; /* guids */
} task_row;

static void row_read(sqlite3_stmt *s, task_row *t)
{
	t->id = sqlite3_column_int64(s, 0);
	t->guid = tmcm_col_text(s, 1);
	t->name = tmcm_col_text(s, 2);
	t->scan_type = sqlite3_column_int(s, 3);
	t->criteria = tmcm_col_text(s, 4);
	t->creator = tmcm_col_text(s, 5);
	t->submitted_s = sqlite3_column_int64(s, 6) / 1000;
	t->finished_s = sqlite3_column_int64(s, 7) / 1000;
	t->agents = json_loads(tmcm_col_text(s, 8), 0, NULL);
	t->matched = sqlite3_column_int(s, 9);
}

static json_t *criteria_entity(const task_row *t)
{
	return json_pack("{s:i, s:s, s:s}", "criteriaId", 1, "criteriaName", t->criteria,
			 "criteriaContent", "");
}

static json_t *summary_entity(const tmcm_app *app, const task_row *t)
{
	int n = (int)json_array_size(t->agents), risk = t->matched ? n : 0;
	return json_pack("{s:I, s:s, s:i, s:i, s:i, s:I, s:I, s:i, s:{s:i, s:i, s:i, s:i, s:i, s:i, "
			 "s:i, s:i, s:i}, s:s, s:i, s:i, s:[s], s:s, s:o, s:s}",
			 "scanSummaryId", (json_int_t)t->id, "scanSummaryGuid", t->guid, "status", 3,
			 "statusForUI", 3, "scanType", t->scan_type, "submitTime",
			 (json_int_t)t->submitted_s, "finishTime", (json_int_t)t->finished_s,
			 "specificAgentType", 1, "progressInfo", "safeCount", n - risk, "riskCount",
			 risk, "pendingCount", 0, "timeoutCount", 0, "noneCount", 0,
			 "processingCount", 0, "errorCount", 0, "abortCount", 0,
			 "connectionFailCount", 0, "name", t->name, "agentCount", n,
			 "matchedAgentCount", risk, "serverGuidList", app->client_uuid, "creator",
			 t->creator, "scanCriteriaEntity", criteria_entity(t), "errorServers", "[]");
}

/* One agent's result. status: 2 matched, 3 no match (the scanStatus numbers). */
static json_t *scan_entity(const tmcm_app *app, const task_row *t, json_t *agent, long long row)
{
	json_t *e = json_deep_copy(agent);
	json_t *more = json_pack("{s:I, s:s, s:i, s:s, s:i, s:I, s:I, s:I, s:b, s:i, s:s, s:s, s:s, "
				 "s:s, s:i, s:s, s:o}",
				 "rowId", (json_int_t)row, "scanSummaryGuid", t->guid, "status",
				 t->matched ? 2 : 3, "name", t->name, "riskCount", t->matched ? 1 : 0,
				 "triggerTime", (json_int_t)t->submitted_s, "finishTime",
				 (json_int_t)t->finished_s, "submitTime", (json_int_t)t->submitted_s,
				 "exceedLeafModuleCountLimit", 0, "scanType", t->scan_type, "traceId",
				 "", "region", "", "serverName", ES_SERVER_NAME, "creator", t->creator,
				 "taskType", 4, "serverGuid", app->client_uuid, "scanCriteriaEntity",
				 criteria_entity(t));
	json_object_update(e, more);
	json_decref(more);
	return e;
}

/* The investigations (live and scheduled), newest first, each passed to cb. */
static int each_scan(es_call *c, void (*cb)(es_call *c, const task_row *t, void *cls), void *cls)
{
	ctd_err err = {0};
	sqlite3_stmt *s = store_stmt(c->st,
		"SELECT id, guid, name, scan_type, criteria, creator, submitted_ms, finished_ms,"
		" agents, matched FROM tmcm_es_tasks WHERE kind IN ('scan', 'schedule')"
		" ORDER BY id DESC", &err);
	if (!s) {
		es_fail(c, 500, err.msg);
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		task_row t;
		row_read(s, &t);
		cb(c, &t, cls);
		json_decref(t.agents);
	}
	sqlite3_reset(s);
	return 0;
}

static int scan_type_wanted(json_t *payload, int type)
{
	json_t *types = json_object_get(payload, "scanType");
	if (!json_array_size(types))
		return 1;
	size_t i;
	json_t *v;
	json_array_foreach(types, i, v)
		if (json_integer_value(v) == type)
			return 1;
	return 0;
}

static void add_summary(es_call *c, const task_row *t, void *cls)
{
	if (scan_type_wanted(c->payload, t->scan_type) &&
	    filter_hit(filter_value(c->payload, 10), t->name) &&
	    filter_hit(filter_value(c->payload, 14), t->criteria))
		json_array_append_new(cls, summary_entity(c->req->app, t));
}

/* V1/Task/ShowScanSummaryList: filters 10 task name, 14 criteria name. */
static void show_scan_summaries(es_call *c)
{
	json_t *all = json_array();
	if (each_scan(c, add_summary, all) == 0) {
		long long offset, limit;
		pagination(c->payload, &offset, &limit);
		json_t *content = json_pack("{s:o, s:o}", "scanSummaryEntity",
					    page_of(all, offset, limit), "pagination",
					    page_info(offset, limit, json_array_size(all)));
		es_answer(c, 200, "OK", es_inner(c->req->app, "", es_item(content), 0));
	}
	json_decref(all);
}

typedef struct by_status {
	json_t *agents, *out;
} by_status;

/* scanStatus: 1 all, 2 matched, 3 no match, 4 pending / 5 unsuccessful (none). */
static void add_scans(es_call *c, const task_row *t, void *cls)
{
	by_status *b = cls;
	json_t *guids = json_object_get(c->payload, "scanSummaryGuid");
	long long want = payload_int(c->payload, "scanStatus", 1);
	if ((json_array_size(guids) && !filter_hit(guids, t->guid)) ||
	    !scan_type_wanted(c->payload, t->scan_type) ||
	    (want != 1 && want != (t->matched ? 2 : 3)))
		return;
	size_t i;
	json_t *a;
	json_array_foreach(b->agents, i, a)
		if (filter_hit(t->agents, jstr(a, "agentGuid")) &&
		    filter_hit(filter_value(c->payload, 1), jstr(a, "machineName")))
			json_array_append_new(b->out, scan_entity(c->req->app, t, a,
								  (long long)json_array_size(b->out) + 1));
}

/* V1/Task/ShowScanListByScanSummaryGuid: each agent's result. */
static void show_scans_by_summary(es_call *c)
{
	by_status b = {all_agents(c), json_array()};
	if (b.agents && each_scan(c, add_scans, &b) == 0) {
		long long offset, limit;
		pagination(c->payload, &offset, &limit);
		json_t *content = json_pack("{s:o, s:o}", "scanEntity", page_of(b.out, offset, limit),
					    "pagination",
					    page_info(offset, limit, json_array_size(b.out)));
		es_answer(c, 200, "OK", es_inner(c->req->app, "", es_item(content), 0));
	}
	json_decref(b.agents);
	json_decref(b.out);
}

/* ---- dispatch --------------------------------------------------------------------------- */

void tmcm_es_handler(http_req *req, http_resp *resp)
{
	es_call c = {req, resp, NULL, NULL, time_now_ms()};
	json_t *root = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	const char *url = json_string_value(json_object_get(root, "Url"));
	c.payload = json_object_get(root, "Payload");
	if (strcmp(req->method, "PUT") && strcmp(req->method, "POST"))
		es_fail(&c, 405, "HTTP method not supported");
	else if (!url || payload_int(root, "TaskType", 0) != 4 || !json_is_object(c.payload))
		es_fail(&c, 400, "Incorrect parameter: Url, TaskType 4 and Payload are required");
	else if (!(c.st = daemon_req_store(resp)))
		;
	else if (!strcasecmp(url, "V1/Task/ShowAgentList"))
		show_agent_list(&c);
	else if (!strcasecmp(url, "V1/Task/CreateScan"))
		create_task(&c, "scan");
	else if (!strcasecmp(url, "V1/Task/CreateScanSchedule"))
		create_task(&c, "schedule");
	else if (!strcasecmp(url, "V1/Task/CreateQuickScan"))
		create_task(&c, "historical");
	else if (!strcasecmp(url, "V1/Task/CreateProcessTermination"))
		create_task(&c, "terminate");
	else if (!strcasecmp(url, "V1/Task/ShowScanSummaryList"))
		show_scan_summaries(&c);
	else if (!strcasecmp(url, "V1/Task/ShowScanListByScanSummaryGuid"))
		show_scans_by_summary(&c);
	else
		es_fail(&c, 400, "Incorrect parameter: unsupported Url");
	json_decref(root);
}
