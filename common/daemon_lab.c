/* daemon_lab.c - the lab's own routes every daemon serves beside its
 * protocols: GET /metrics (the metrics registry, public like /healthz) and
 * the fault rules of the process, GET/POST/DELETE /api/lab/faults (behind
 * the daemon's console login like its other lab routes). */
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

static const metric_def info_metric = {
	"ctdlab_info", "the appliance this daemon emulates and its version", METRIC_GAUGE,
	{"appliance", "version"}};
static const metric_def uptime_metric = {
	"ctdlab_uptime_seconds", "seconds since the daemon started", METRIC_GAUGE, {NULL}};

const metric_def daemon_metric_objects = {
	"ctdlab_suspicious_objects", "suspicious objects held, by list and type", METRIC_GAUGE,
	{"list", "type"}};
const metric_def daemon_metric_queue = {
	"ctdlab_queue_depth", "items waiting to be worked on, by queue", METRIC_GAUGE, {"queue"}};

static void h_metrics(http_req *req, http_resp *resp)
{
	sbuf out = {0};
	metrics_render(&out);
	http_resp_bytes(resp, 200, METRICS_CONTENT_TYPE, out.data ? out.data : "", out.len);
	sbuf_free(&out);
}

static void h_faults_list(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:o}", "faults", fault_list()));
}

/* Take back the rules of a request that failed half-way: all or none. */
static void remove_added(json_t *added)
{
	size_t i;
	json_t *rule;
	json_array_foreach(added, i, rule)
		fault_remove(json_integer_value(json_object_get(rule, "id")));
}

/* One rule, an array of rules, or {"rules":[...]}. */
static void h_faults_add(http_req *req, http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	json_t *rules = json_is_array(body) ? body : json_object_get(body, "rules");
	json_t *added = json_array();
	ctd_err err = {0};
	size_t i;
	json_t *one;
	if (!rules)
		rules = json_pack("[O]", body);
	else
		json_incref(rules);
	json_array_foreach(rules, i, one) {
		json_t *rule = NULL;
		if (fault_add(one, &rule, &err) < 0)
			break;
		json_array_append_new(added, rule);
	}
	json_decref(rules);
	json_decref(body);
	if (err.code) {
		remove_added(added);
		json_decref(added);
		http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_json(resp, 201, json_pack("{s:o}", "added", added));
}

static void h_faults_clear(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:i}", "removed", fault_clear()));
}

static void h_fault_delete(http_req *req, http_resp *resp)
{
	char *end;
	const char *id = http_req_param(req, "id");
	long long n = strtoll(id, &end, 10);
	if (*end || n <= 0) {
		http_resp_error(resp, 400, "invalid", "fault rule id must be a positive integer");
		return;
	}
	if (fault_remove(n) != 0) {
		http_resp_error(resp, 404, "not_found", "no fault rule %lld", n);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:i}", "removed", 1));
}

static void scrape_process(void *cls)
{
	const ctd_daemon *d = cls;
	metric_set(&info_metric, 1, METRIC_LABELS(d->appliance, CTDLAB_VERSION));
	metric_set(&uptime_metric, (double)daemon_uptime_ms(d) / 1000.0, NULL);
}

typedef struct sql_gauge {
	const metric_def *def;
	const char *sql;
} sql_gauge;

/* Re-set the gauge from its query: label columns first, the value last. */
static void scrape_sql(void *cls)
{
	const sql_gauge *g = cls;
	ctd_err err = {0};
	store *st = store_get(&err);
	sqlite3_stmt *stmt = st ? store_stmt(st, g->sql, &err) : NULL;
	if (!stmt) {
		log_warn("metrics.query", "metric=%s error=\"%s\"", g->def->name, err.msg);
		return;
	}
	metric_clear(g->def);
	int nlabels = sqlite3_column_count(stmt) - 1;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *values[METRIC_MAX_LABELS] = {0};
		for (int i = 0; i < nlabels && i < METRIC_MAX_LABELS; i++)
			values[i] = (const char *)sqlite3_column_text(stmt, i);
		metric_set(g->def, sqlite3_column_double(stmt, nlabels), values);
	}
	sqlite3_reset(stmt);
}

void daemon_metric_sql(const metric_def *def, const char *sql)
{
	sql_gauge *g = xcalloc(1, sizeof *g);
	g->def = def;
	g->sql = sql;
	metric_register(def);
	metrics_on_scrape(scrape_sql, g);
}

size_t daemon_lab_routes(ctd_daemon *d, http_route *out)
{
	metrics_on_scrape(scrape_process, d);
	size_t n = 0;
	out[n++] = (http_route){"GET", "/metrics", h_metrics, HTTP_PUBLIC};
	if (!d->sessions)
		return n; /* no login: no lab routes */
	out[n++] = (http_route){"GET", "/api/lab/faults", h_faults_list, NULL};
	out[n++] = (http_route){"POST", "/api/lab/faults", h_faults_add, NULL};
	out[n++] = (http_route){"DELETE", "/api/lab/faults", h_faults_clear, NULL};
	out[n++] = (http_route){"DELETE", "/api/lab/faults/{id}", h_fault_delete, NULL};
	return n;
}
