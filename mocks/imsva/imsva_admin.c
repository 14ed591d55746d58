/* imsva_admin.c - IMSVA's admin JSON API (the console's actions, HTTPS on
 * 8445). Logins are common/session.c's: POST /api/login with the admin
 * password (generated on first start or pinned with admin_password) returns a
 * session token; every other call needs it as "Authorization: Bearer <token>"
 * (or X-Session-Token), else 401. A failed login goes to the system log.
 * Endpoints: dashboard, scan engine (ATSE), policy list (CRUD, copy), log
 * query and log detail, quarantine, Virtual Analyzer queue, delivered
 * mailbox, delivery queue, messages, and connections (Control Manager with
 * "sync now", SPS and DDAN with "test connection"). They are what the web
 * console (mocks/imsva/console/) shows; docs/imsva-daemon.md lists them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_server.h"
#include "imsva_app.h"
#include "json_write.h"
#include "log.h"
#include "store_answer.h"
#include "util.h"

void imsva_admin_login_failed(const char *user, void *cls)
{
	store *st = imsva_store(NULL);
	char name[80]; /* escaped: a name with a newline must not forge a log line */
	log_escape(user, name, sizeof name);
	if (st)
		imsva_log_system(st, "admin_login_failed", "failed log on for %s", name);
}

static store *req_store(http_resp *resp)
{
	ctd_err err = {0};
	store *st = imsva_store(&err);
	if (!st)
		http_resp_ctd_err(resp, &err);
	return st;
}

/* ---- helpers ---- */

static int param_id(http_req *req, http_resp *resp, int64_t *id)
{
	const char *v = http_req_param(req, "id");
	char *end;
	long long n = v ? strtoll(v, &end, 10) : 0;
	if (!v || *end || n <= 0) {
		http_resp_error(resp, 400, "invalid", "id must be a positive integer");
		return -1;
	}
	*id = n;
	return 0;
}

/* A date-range bound from the query string ("from", "to"); 0 when absent. */
static int query_time(http_req *req, http_resp *resp, const char *name, int64_t *out)
{
	const char *v = http_req_query(req, name);
	*out = 0;
	if (!v || !*v)
		return 0;
	if (time_parse(v, out, NULL) < 0) {
		http_resp_error(resp, 400, "invalid", "%s: not a date (ISO 8601 or epoch seconds)",
				name);
		return -1;
	}
	return 0;
}

static int query_limit(http_req *req)
{
	const char *v = http_req_query(req, "limit");
	int n = v ? atoi(v) : 0;
	return n > 0 && n <= 10000 ? n : 0;
}

/* 400 naming the bad field of a rule. */
static void rule_error(http_resp *resp, const char *field, const ctd_err *err)
{
	if (err->code != CTD_EINVAL) {
		http_resp_ctd_err(resp, err);
		return;
	}
	http_resp_json(resp, 400, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid",
					    "message", err->msg, "field", field));
}

static void rule_changed(store *st, const char *what, const imsva_rule *r)
{
	imsva_log_system(st, "rule_modified", "rule \"%s\" (id %" PRId64 ") %s", r->name, r->id, what);
}

/* ---- scan engine ---- */

static void h_scan_engine_get(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	http_resp_json(resp, 200, json_pack("{s:b}", "atse_enabled", imsva_atse_enabled(st)));
}

static void h_scan_engine_put(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	json_t *j = http_req_json(req, resp);
	if (!j)
		return;
	json_t *v = json_object_get(j, "atse_enabled");
	if (!v)
		v = json_object_get(j, "atse");
	if (!json_is_boolean(v)) {
		json_decref(j);
		http_resp_json(resp, 400, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid",
						    "message", "atse_enabled: expected true or false",
						    "field", "atse_enabled"));
		return;
	}
	ctd_err err = {0};
	int on = json_is_true(v);
	json_decref(j);
	if (imsva_atse_set(st, on, &err) < 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	imsva_log_system(st, "scan_engine", "Advanced Threat Scan Engine %s", on ? "enabled" : "disabled");
	http_resp_json(resp, 200, json_pack("{s:b}", "atse_enabled", on));
}

/* ---- policies ---- */

static void h_policies_list(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	imsva_ruleset *rs = NULL;
	ctd_err err = {0};
	if (imsva_rules_load(st, &rs, &err) < 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	http_resp_json(resp, 200, imsva_ruleset_to_json(rs));
	imsva_ruleset_free(rs);
}

static void h_policy_create(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	json_t *j = http_req_json(req, resp);
	if (!j)
		return;
	char field[IMSVA_FIELD_MAX] = "";
	ctd_err err = {0};
	imsva_rule *r = imsva_rule_from_json(j, field, &err);
	json_decref(j);
	if (!r) {
		rule_error(resp, field, &err);
		return;
	}
	if (imsva_rules_create(st, r, &err) < 0) {
		rule_error(resp, "", &err);
	} else {
		rule_changed(st, "created", r);
		http_resp_json(resp, 201, imsva_rule_to_json(r));
	}
	imsva_rule_free(r);
}

/* The rule that fetch (get, copy) gives for the request's {id}; NULL once
 * resp holds the error. */
static imsva_rule *rule_of_request(http_req *req, http_resp *resp, store **st,
				   int (*fetch)(store *, int64_t, imsva_rule **, ctd_err *))
{
	int64_t id;
	if (!(*st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return NULL;
	imsva_rule *r = NULL;
	ctd_err err = {0};
	if (fetch(*st, id, &r, &err) < 0) {
		http_resp_ctd_err(resp, &err);
		return NULL;
	}
	return r;
}

static void h_policy_get(http_req *req, http_resp *resp)
{
	store *st;
	imsva_rule *r = rule_of_request(req, resp, &st, imsva_rules_get);
	if (!r)
		return;
	http_resp_json(resp, 200, imsva_rule_to_json(r));
	imsva_rule_free(r);
}

/* PUT replaces the rule; PATCH merges into it. */
static void h_policy_update(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	if (!(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	json_t *j = http_req_json(req, resp);
	if (!j)
		return;
	imsva_rule *cur = NULL, *r = NULL;
	ctd_err err = {0};
	char field[IMSVA_FIELD_MAX] = "";
	if (imsva_rules_get(st, id, &cur, &err) < 0) {
		json_decref(j);
		http_resp_ctd_err(resp, &err);
		return;
	}
	if (!strcmp(req->method, "PATCH")) {
		r = imsva_rule_patch(cur, j, field, &err);
	} else {
		r = imsva_rule_from_json(j, field, &err);
		if (r)
			r->id = id;
	}
	json_decref(j);
	if (!r)
		rule_error(resp, field, &err);
	else if (imsva_rules_update(st, r, &err) < 0)
		rule_error(resp, "", &err);
	else {
		imsva_rule *saved = NULL;
		rule_changed(st, "updated", r);
		if (imsva_rules_get(st, id, &saved, &err) == 0)
			http_resp_json(resp, 200, imsva_rule_to_json(saved));
		else
			http_resp_json(resp, 200, imsva_rule_to_json(r));
		imsva_rule_free(saved);
	}
	imsva_rule_free(r);
	imsva_rule_free(cur);
}

static void h_policy_delete(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	if (!(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	imsva_rule *r = NULL;
	ctd_err err = {0};
	if (imsva_rules_get(st, id, &r, &err) < 0 || imsva_rules_delete(st, id, &err) < 0) {
		imsva_rule_free(r);
		http_resp_ctd_err(resp, &err);
		return;
	}
	rule_changed(st, "deleted", r);
	imsva_rule_free(r);
	http_resp_json(resp, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
}

static void h_file_types(http_req *req, http_resp *resp)
{
	(void)req;
	http_resp_json(resp, 200, json_pack("{s:o}", "classes", imsva_tft_tree_json()));
}

static void h_policy_copy(http_req *req, http_resp *resp)
{
	store *st;
	imsva_rule *r = rule_of_request(req, resp, &st, imsva_rules_copy);
	if (!r)
		return;
	rule_changed(st, "created (a copy)", r);
	http_resp_json(resp, 201, imsva_rule_to_json(r));
	imsva_rule_free(r);
}

/* ---- logs ---- */

/* ?cursor=: a page's next_cursor, "<ts_ms>-<id>" of its last row. */
static int query_cursor(http_req *req, http_resp *resp, imsva_log_cursor *c)
{
	const char *v = http_req_query(req, "cursor");
	long long ts, id;
	int used = 0;
	*c = (imsva_log_cursor){0};
	if (!v || !*v)
		return 0;
	if (sscanf(v, "%lld-%lld%n", &ts, &id, &used) != 2 || v[used] || id <= 0) {
		http_resp_error(resp, 400, "invalid", "cursor: the next_cursor of a previous page");
		return -1;
	}
	*c = (imsva_log_cursor){ts, id};
	return 0;
}

/* {"count":N,"logs":[...],"next_cursor":"<ts_ms>-<id>"}: a page is written
 * from its rows, never built as a tree, and kept (store_answer) until the
 * store changes: it does not depend on the clock. */
static int log_page_answer(store *st, void *arg, int64_t now_ms, sbuf *out, int64_t *until_ms,
			   ctd_err *err)
{
	imsva_log_cursor next;
	size_t count;
	sbuf rows = {0};
	if (imsva_log_query_write(st, arg, &rows, &count, &next, err) != 0) {
		sbuf_free(&rows);
		return -1;
	}
	sbuf_puts(out, "{\"count\":");
	sbuf_put_int(out, (int64_t)count);
	sbuf_puts(out, ",\"logs\":");
	sbuf_append(out, rows.data, rows.len);
	if (next.id)
		sbuf_printf(out, ",\"next_cursor\":\"%lld-%lld\"", (long long)next.ts_ms,
			    (long long)next.id);
	sbuf_puts(out, "}");
	sbuf_free(&rows);
	return 0;
}

/* Every member of the query, parsed: two requests that mean the same query
 * share an answer, no two queries do. */
static void log_query_key(const imsva_log_query *q, sbuf *key)
{
	sbuf_puts(key, "imsva.logs;");
	const char *texts[] = {q->type, q->rule, q->sender, q->recipient, q->subject,
			       q->message_id, q->scanner};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		answer_key_str(key, texts[i]);
	const int64_t ints[] = {q->from_ms, q->to_ms, q->msg_id, q->limit, q->after.ts_ms,
				q->after.id};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		answer_key_int(key, ints[i]);
}

static void h_logs(http_req *req, http_resp *resp)
{
	store *st;
	imsva_app *app = req->app;
	if (!(st = req_store(resp)))
		return;
	imsva_log_query q = {.scanner = app->cfg->hostname};
	const char *type = http_req_query(req, "type");
	if (type && *type && !(q.type = imsva_log_type(type))) {
		http_resp_json(resp, 400, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid",
			"message", "type: one of message_tracking, policy, quarantine, mta, system, va"
				   " (or their console names, English or Japanese)",
			"field", "type"));
		return;
	}
	if (query_time(req, resp, "from", &q.from_ms) < 0 || query_time(req, resp, "to", &q.to_ms) < 0)
		return;
	q.rule = http_req_query(req, "rule");
	q.sender = http_req_query(req, "sender");
	q.recipient = http_req_query(req, "recipient");
	q.subject = http_req_query(req, "subject");
	q.message_id = http_req_query(req, "message_id");
	const char *mid = http_req_query(req, "msg_id");
	q.msg_id = mid ? strtoll(mid, NULL, 10) : 0;
	q.limit = query_limit(req);
	if (query_cursor(req, resp, &q.after) < 0)
		return;
	sbuf key = {0};
	log_query_key(&q, &key);
	ctd_err err = {0};
	http_resp_bytes(resp, 200, "application/json", NULL, 0);
	if (store_answer(st, key.data, time_now_ms(), log_page_answer, &q, &resp->body, &err) < 0)
		http_resp_ctd_err(resp, &err);
	sbuf_free(&key);
}

static void h_log_get(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	imsva_app *app = req->app;
	if (!(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	ctd_err err = {0};
	json_t *row = imsva_log_get(st, id, app->cfg->hostname, &err);
	json_int_t msg_id = json_integer_value(json_object_get(row, "msg_id"));
	json_t *msg = msg_id ? imsva_msgs_get_json(st, msg_id, &(ctd_err){0}) : NULL;
	if (msg)
		json_object_set_new(row, "message", msg);
	http_resp_result(resp, row, &err);
}

static void h_log_types(http_req *req, http_resp *resp)
{
	(void)req;
	http_resp_json(resp, 200, json_pack("{s:o}", "types", imsva_log_types_json()));
}

/* ---- quarantine ---- */

/* A list of messages, or the error that kept it from being read. */
static void reply_messages(http_resp *resp, json_t *rows, const ctd_err *err)
{
	http_resp_result(resp, rows ? json_pack("{s:I,s:o}", "count",
						(json_int_t)json_array_size(rows), "messages", rows)
				    : NULL, err);
}

/* What get(st, {id}) gives, or its error. */
static void reply_by_id(http_req *req, http_resp *resp,
			json_t *(*get)(store *, int64_t, ctd_err *))
{
	store *st;
	int64_t id;
	if (!(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	ctd_err err = {0};
	json_t *found = get(st, id, &err);
	http_resp_result(resp, found, &err);
}

/* What list(st) gives, answered by reply (as is, or as a message list). */
static void reply_whole(http_resp *resp, json_t *(*list)(store *, ctd_err *),
			void (*reply)(http_resp *, json_t *, const ctd_err *))
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	ctd_err err = {0};
	json_t *rows = list(st, &err);
	reply(resp, rows, &err);
}

static void h_quarantine_list(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	imsva_quarantine_query q = {.area = http_req_query(req, "area"),
				    .rule = http_req_query(req, "rule"),
				    .sender = http_req_query(req, "sender"),
				    .recipient = http_req_query(req, "recipient"),
				    .subject = http_req_query(req, "subject"),
				    .reason = http_req_query(req, "reason"),
				    .limit = query_limit(req)};
	const char *all = http_req_query(req, "all");
	q.include_released = all && (!strcmp(all, "1") || !strcmp(all, "true"));
	if (query_time(req, resp, "from", &q.from_ms) < 0 || query_time(req, resp, "to", &q.to_ms) < 0)
		return;
	ctd_err err = {0};
	json_t *rows = imsva_quarantine_list(st, &q, &err);
	reply_messages(resp, rows, &err);
}

static void h_quarantine_get(http_req *req, http_resp *resp)
{
	reply_by_id(req, resp, imsva_quarantine_get);
}

static void h_quarantine_areas(http_req *req, http_resp *resp)
{
	reply_whole(resp, imsva_quarantine_areas, http_resp_result);
}

static void h_quarantine_release(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	imsva_app *app = req->app;
	if (!app || !(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	ctd_err err = {0};
	if (imsva_quarantine_release(app, st, id, &err) < 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:b,s:I}", "released", 1, "id", (json_int_t)id));
}

static void h_quarantine_delete(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	if (!(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	ctd_err err = {0};
	if (imsva_quarantine_delete(st, id, &err) < 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
}

/* ---- VA queue, mailbox, delivery queue, messages ---- */

static void h_va_list(http_req *req, http_resp *resp)
{
	reply_whole(resp, imsva_va_list, reply_messages);
}

static void h_va_release(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	imsva_app *app = req->app;
	if (!app || !(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	ctd_err err = {0};
	if (imsva_va_release(app, st, id, &err) < 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:b,s:I}", "released", 1, "msg_id", (json_int_t)id));
}

static void h_mailbox_list(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	ctd_err err = {0};
	json_t *rows = imsva_mailbox_list(st, http_req_query(req, "rcpt"), query_limit(req), &err);
	reply_messages(resp, rows, &err);
}

static void h_mailbox_get(http_req *req, http_resp *resp)
{
	reply_by_id(req, resp, imsva_mailbox_get);
}

static void h_delivery_queue(http_req *req, http_resp *resp)
{
	reply_whole(resp, imsva_deliver_queue_list, reply_messages);
}

static void h_message_get(http_req *req, http_resp *resp)
{
	store *st;
	int64_t id;
	if (!(st = req_store(resp)) || param_id(req, resp, &id) < 0)
		return;
	ctd_err err = {0};
	http_resp_result(resp, imsva_msgs_get_json(st, id, &err), &err);
}

/* Message counts by state: handy for waiting until processing is done. */
static void h_status(http_req *req, http_resp *resp)
{
	store *st;
	if (!(st = req_store(resp)))
		return;
	ctd_err err = {0};
	http_resp_result(resp, imsva_msgs_state_counts(st, &err), &err);
}

/* ---- connections ---- */

static void h_tmcm_get(http_req *req, http_resp *resp)
{
	store *st;
	imsva_app *app = req->app;
	if (!app || !(st = req_store(resp)))
		return;
	http_resp_json(resp, 200, imsva_tmcm_status(app->tmcm, st));
}

static void h_tmcm_sync(http_req *req, http_resp *resp)
{
	imsva_app *app = req->app;
	if (!app->cfg->tmcm_url || !*app->cfg->tmcm_url) {
		http_resp_error(resp, 409, "conflict", "no Control Manager server configured (tmcm_url)");
		return;
	}
	imsva_tmcm_sync_now(app->tmcm);
	http_resp_json(resp, 202, json_pack("{s:b}", "sync_started", 1));
}

static void h_sps_get(http_req *req, http_resp *resp)
{
	imsva_app *app = req->app;
	json_t *o = imsva_wrs_status(app->wrs);
	json_object_set_new(o, "fallback", json_string(app->cfg->wrs_fallback));
	http_resp_json(resp, 200, o);
}

static void h_sps_test(http_req *req, http_resp *resp)
{
	imsva_app *app = req->app;
	imsva_wrs_rating r;
	ctd_err err = {0};
	if (imsva_wrs_test(app->wrs, &r, &err) < 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:b,s:s,s:s}", "ok", 1, "url",
						    IMSVA_WRS_TEST_URL, "rating",
						    imsva_wrs_class_name(r.cls)));
}

static void h_ddan_get(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, imsva_va_connection(req->app));
}

static void h_ddan_test(http_req *req, http_resp *resp)
{
	ctd_err err = {0};
	if (imsva_va_test_connection(req->app, &err) < 0)
		http_resp_ctd_err(resp, &err);
	else
		http_resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- dashboard ---- */

static json_int_t count_where(json_t *rows, const char *key, const char *value)
{
	json_int_t n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *v = json_string_value(json_object_get(r, key));
		n += v && !strcmp(v, value);
	}
	return n;
}

static json_int_t sum_of(json_t *rows, const char *key)
{
	json_int_t n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) n += json_integer_value(json_object_get(r, key));
	return n;
}

/* The Dashboard: connections with their status, queue and quarantine counts. */
static void h_dashboard(http_req *req, http_resp *resp)
{
	store *st;
	imsva_app *app = req->app;
	if (!(st = req_store(resp)))
		return;
	ctd_err err = {0};
	json_t *counts = imsva_msgs_state_counts(st, &err);
	json_t *areas = counts ? imsva_quarantine_areas(st, &err) : NULL;
	json_t *outbound = areas ? imsva_deliver_queue_list(st, &err) : NULL;
	if (!outbound) {
		json_decref(counts);
		json_decref(areas);
		http_resp_ctd_err(resp, &err);
		return;
	}
	json_t *sps = imsva_wrs_status(app->wrs);
	json_t *body = json_pack("{s:{s:o,s:o,s:o},s:o,s:I,s:I,s:I}", "connections", "ddan",
		imsva_va_connection(app), "tmcm", imsva_tmcm_status(app->tmcm, st), "sps", sps,
		"messages", counts,
		"va_queue", json_integer_value(json_object_get(json_object_get(counts, "states"), "va")),
		"delivery_queue", count_where(outbound, "state", "pending"),
		"quarantined", sum_of(areas, "count"));
	json_decref(areas);
	json_decref(outbound);
	http_resp_json(resp, 200, body);
}

const http_route imsva_admin_routes[] = {
	{"POST", "/api/login", session_login_handler, HTTP_PUBLIC},
	{"POST", "/api/logout", session_logout_handler},
	{"GET", "/api/status", h_status},
	{"GET", "/api/dashboard", h_dashboard},
	{"GET", "/api/scan-engine", h_scan_engine_get},
	{"PUT", "/api/scan-engine", h_scan_engine_put},
	{"POST", "/api/scan-engine", h_scan_engine_put},
	{"GET", "/api/policies", h_policies_list},
	{"POST", "/api/policies", h_policy_create},
	{"GET", "/api/policies/{id}", h_policy_get},
	{"PUT", "/api/policies/{id}", h_policy_update},
	{"PATCH", "/api/policies/{id}", h_policy_update},
	{"DELETE", "/api/policies/{id}", h_policy_delete},
	{"POST", "/api/policies/{id}/copy", h_policy_copy},
	{"GET", "/api/file-types", h_file_types},
	{"GET", "/api/logs", h_logs},
	{"GET", "/api/logs/types", h_log_types},
	{"GET", "/api/logs/{id}", h_log_get},
	{"GET", "/api/quarantine", h_quarantine_list},
	{"GET", "/api/quarantine/areas", h_quarantine_areas},
	{"GET", "/api/quarantine/{id}", h_quarantine_get},
	{"POST", "/api/quarantine/{id}/release", h_quarantine_release},
	{"DELETE", "/api/quarantine/{id}", h_quarantine_delete},
	{"GET", "/api/va-queue", h_va_list},
	{"POST", "/api/va-queue/{id}/release", h_va_release},
	{"GET", "/api/mailbox", h_mailbox_list},
	{"GET", "/api/mailbox/{id}", h_mailbox_get},
	{"GET", "/api/delivery-queue", h_delivery_queue},
	{"GET", "/api/messages/{id}", h_message_get},
	{"GET", "/api/connections/tmcm", h_tmcm_get},
	{"POST", "/api/connections/tmcm/sync", h_tmcm_sync},
	{"GET", "/api/connections/sps", h_sps_get},
	{"POST", "/api/connections/sps/test", h_sps_test},
	{"GET", "/api/connections/ddan", h_ddan_get},
	{"POST", "/api/connections/ddan/test", h_ddan_test},
};
const size_t imsva_admin_nroutes = sizeof imsva_admin_routes / sizeof imsva_admin_routes[0];
