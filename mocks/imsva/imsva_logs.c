/* imsva_logs.c - IMSVA's logs (Logs > Log Query): message tracking, policy
 * events, quarantine events, MTA events, system events and Virtual Analyzer
 * events in table imsva_logs, each also on the shared timeline as
 * imsva/<type>[.<action>]. The query takes IMSVA's syntax: `*` wildcards and
 * `;` between alternatives ("*A*;*B*"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imsva_app.h"
#include "json_write.h"
#include "log.h"
#include "util.h"

/* The console's Type list: English and Japanese labels (the seed's words). */
static const struct {
	const char *type, *label, *label_ja;
} log_types[] = {
	{"message_tracking", "Message tracking", "メッセージ追跡"},
	{"policy", "Policy events", "ポリシーイベント"},
	{"quarantine", "Quarantine events", "隔離イベント"},
	{"mta", "MTA events", "MTAイベント"},
	{"system", "System events", "システムイベント"},
	{"va", "Virtual Analyzer events", "仮想アナライザイベント"},
};
#define NTYPES (sizeof log_types / sizeof log_types[0])

json_t *imsva_log_types_json(void)
{
	json_t *a = json_array();
	for (size_t i = 0; i < NTYPES; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "type", log_types[i].type,
						   "label", log_types[i].label, "label_ja",
						   log_types[i].label_ja));
	return a;
}

const char *imsva_log_type(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NTYPES; i++) {
		size_t n = strlen(log_types[i].type);
		if (!strcasecmp(name, log_types[i].type) || !strcasecmp(name, log_types[i].label)
		    || !strcmp(name, log_types[i].label_ja))
			return log_types[i].type;
		/* "policy_events", "quarantine-events", "Policy" ... */
		if (!strncasecmp(name, log_types[i].type, n)
		    && (name[n] == '\0' || !strcasecmp(name + n + (name[n] == ' ' || name[n] == '_'
								  || name[n] == '-'), "events")))
			return log_types[i].type;
	}
	if (!strcasecmp(name, "tracking") || !strcasecmp(name, "message tracking"))
		return "message_tracking";
	return NULL;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

int imsva_log(store *st, const imsva_log_rec *r, ctd_err *err)
{
	int64_t now = time_now_ms();
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO imsva_logs (ts_ms, type, msg_id, internal_id, message_id, sender,"
		" recipients, subject, rule, rule_type, action, action_code, reason, filter,"
		" violating, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", err);
	if (!s)
		return -1;
	char *detail = r->detail ? json_dumps(r->detail, JSON_COMPACT) : NULL;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, r->type, -1, SQLITE_STATIC);
	if (r->msg_id)
		sqlite3_bind_int64(s, 3, r->msg_id);
	const char *texts[] = {r->internal_id, r->message_id, r->sender, r->recipients,
			       r->subject, r->rule, r->rule_type, r->action, r->action_code,
			       r->reason, r->filter, r->violating};
	for (int i = 0; i < 12; i++)
		if (texts[i])
			sqlite3_bind_text(s, 4 + i, texts[i], -1, SQLITE_STATIC);
	if (detail)
		sqlite3_bind_text(s, 16, detail, -1, free);
	if (store_step_done(st, s, err) < 0)
		return -1;
	/* the shared timeline: one event per log row */
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", "type", r->type, "sender", nz(r->sender),
			       "recipients", nz(r->recipients), "subject", nz(r->subject));
	if (r->rule)
		json_object_set_new(ev, "rule", json_string(r->rule));
	if (r->action)
		json_object_set_new(ev, "action", json_string(r->action));
	if (r->reason)
		json_object_set_new(ev, "reason", json_string(r->reason));
	if (r->detail)
		json_object_set(ev, "detail", r->detail);
	char kind[64];
	if (r->action)
		snprintf(kind, sizeof kind, "%s.%s", r->type, r->action);
	else
		snprintf(kind, sizeof kind, "%s", r->type);
	int64_t id = events_append(st, "imsva", kind, r->internal_id, ev, err);
	json_decref(ev);
	return id < 0 ? -1 : 0;
}

void imsva_log_system(store *st, const char *kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_info("system_event", "kind=%s message=\"%s\"", kind, msg);
	json_t *d = json_pack("{s:s,s:s}", "event", kind, "message", msg);
	imsva_log_rec r = {.type = "system", .action = kind, .reason = msg, .detail = d};
	ctd_err err = {0};
	if (imsva_log(st, &r, &err) < 0)
		log_error("system_event.store_failed", "error=\"%s\"", err.msg);
	json_decref(d);
}

char *imsva_rcpts_join(const char *rcpts_json)
{
	json_t *a = json_loads(rcpts_json ? rcpts_json : "[]", 0, NULL);
	sbuf b = {0};
	size_t i;
	json_t *r;
	json_array_foreach(a, i, r)
	{
		if (i)
			sbuf_puts(&b, ";");
		sbuf_puts(&b, json_string_value(r) ? json_string_value(r) : "");
	}
	json_decref(a);
	return b.data ? sbuf_detach(&b) : xstrdup("");
}

int imsva_match_list(const char *pattern, const char *text)
{
	if (!pattern || !*pattern)
		return 1;
	char *copy = xstrdup(pattern), *save = NULL;
	int hit = 0;
	for (char *alt = strtok_r(copy, ";", &save); alt && !hit; alt = strtok_r(NULL, ";", &save)) {
		while (*alt == ' ')
			alt++;
		/* a pattern without wildcards matches as a substring, like the console */
		if (strchr(alt, '*') || strchr(alt, '?'))
			hit = wildcard_match(alt, text ? text : "");
		else
			hit = *alt == '\0' || (text && strcasestr(text, alt) != NULL);
	}
	free(copy);
	return hit;
}

/* One log row with the product's columns: the message's size and final
 * action come from the message store, the scanner is this appliance. */
static void row_write(store *st, sqlite3_stmt *s, const char *scanner, sbuf *out)
{
	/* each member's `,"name":` with its length (one copy a member, no
	 * strlen); the first one present opens the object: its comma becomes
	 * the brace */
#define LOG_MEMBER(name) {",\"" name "\":", sizeof(",\"" name "\":") - 1}
	static const struct {
		const char *text;
		size_t len;
	} cols[] = {LOG_MEMBER("id"), LOG_MEMBER("ts_ms"), LOG_MEMBER("type"),
		LOG_MEMBER("msg_id"), LOG_MEMBER("internal_id"), LOG_MEMBER("message_id"),
		LOG_MEMBER("sender"), LOG_MEMBER("recipients"), LOG_MEMBER("subject"),
		LOG_MEMBER("rule"), LOG_MEMBER("rule_type"), LOG_MEMBER("action"),
		LOG_MEMBER("action_code"), LOG_MEMBER("reason"), LOG_MEMBER("filter"),
		LOG_MEMBER("violating")};
#undef LOG_MEMBER
	size_t start = out->len;
	for (int i = 0; i < 16; i++) {
		/* id, ts_ms and msg_id are the INTEGER columns; a NULL is left out.
		 * The TEXT columns' NULL shows as a NULL pointer (one call less a
		 * column: each takes the connection's mutex). */
		int integer = i == 0 || i == 1 || i == 3;
		const char *text = NULL;
		if (integer ? sqlite3_column_type(s, i) == SQLITE_NULL
			    : !(text = (const char *)sqlite3_column_text(s, i)))
			continue;
		size_t at = out->len;
		sbuf_append(out, cols[i].text, cols[i].len);
		if (at == start)
			out->data[at] = '{';
		if (integer)
			sbuf_put_int(out, sqlite3_column_int64(s, i));
		else
			json_write_str(out, text, (size_t)sqlite3_column_bytes(s, i));
	}
	char ts[32];
	time_iso8601(sqlite3_column_int64(s, 1), ts, sizeof ts);
	sbuf_puts(out, ",\"time\":");
	json_write_str(out, ts, strlen(ts));
	const char *detail = (const char *)sqlite3_column_text(s, 16);
	json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
	if (d) {
		sbuf_puts(out, ",\"detail\":");
		json_write(out, d);
		json_decref(d);
	}
	if (scanner) {
		sbuf_puts(out, ",\"scanner\":");
		json_write_str(out, scanner, strlen(scanner));
	}
	if (sqlite3_column_type(s, 3) == SQLITE_INTEGER)
		imsva_msgs_log_columns(st, sqlite3_column_int64(s, 3), out);
	sbuf_puts(out, "}");
}

#define LOG_COLUMNS                                                                        \
	"SELECT id, ts_ms, type, msg_id, internal_id, message_id, sender, recipients,"     \
	" subject, rule, rule_type, action, action_code, reason, filter, violating, detail" \
	" FROM imsva_logs "

json_t *imsva_log_get(store *st, int64_t id, const char *scanner, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, LOG_COLUMNS "WHERE id = ?", err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	json_t *o = NULL;
	if (sqlite3_step(s) == SQLITE_ROW) {
		sbuf row = {0};
		row_write(st, s, scanner, &row);
		o = json_loadb(row.data, row.len, 0, NULL);
		sbuf_free(&row);
	} else {
		ctd_fail(err, CTD_ENOTFOUND, "no log entry %lld", (long long)id);
	}
	sqlite3_reset(s);
	return o;
}

/* The query's SQL: only the conditions it has, so that each variant is its
 * own cached statement and SQLite walks the index that serves it
 * (imsva_logs_ts, or imsva_logs_type_ts with a type) newest first, stopping
 * after a page instead of scanning or sorting the table. The cursor is the
 * (ts_ms, id) of the last row of the previous page: its time is the range's
 * upper bound (a second bound on ts_ms would be a filter, SQLite ranges on
 * one), its id breaks ties within that millisecond. */
static sqlite3_stmt *query_stmt(store *st, const imsva_log_query *q, ctd_err *err)
{
	sbuf sql = {0};
	sbuf_puts(&sql, LOG_COLUMNS "WHERE ts_ms >= ?2 AND ts_ms <= ?3");
	if (q->type)
		sbuf_puts(&sql, " AND type = ?1");
	if (q->msg_id)
		sbuf_puts(&sql, " AND msg_id = ?4");
	if (q->after.id)
		sbuf_puts(&sql, " AND (ts_ms < ?5 OR id < ?6)");
	sbuf_puts(&sql, " ORDER BY ts_ms DESC, id DESC");
	sqlite3_stmt *s = store_stmt(st, sql.data, err);
	sbuf_free(&sql);
	if (!s)
		return NULL;
	if (q->type)
		sqlite3_bind_text(s, 1, q->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, q->from_ms);
	int64_t upto = q->to_ms ? q->to_ms : INT64_MAX;
	if (q->after.id && q->after.ts_ms < upto)
		upto = q->after.ts_ms;
	sqlite3_bind_int64(s, 3, upto);
	sqlite3_bind_int64(s, 4, q->msg_id);
	sqlite3_bind_int64(s, 5, q->after.ts_ms);
	sqlite3_bind_int64(s, 6, q->after.id);
	return s;
}

/* The filters SQL cannot index: IMSVA's wildcard syntax on text columns. */
static int row_matches(const imsva_log_query *q, sqlite3_stmt *s)
{
	const char *sender = (const char *)sqlite3_column_text(s, 6);
	const char *rcpts = (const char *)sqlite3_column_text(s, 7);
	const char *subject = (const char *)sqlite3_column_text(s, 8);
	const char *rule = (const char *)sqlite3_column_text(s, 9);
	const char *mid = (const char *)sqlite3_column_text(s, 5);
	if (!imsva_match_list(q->sender, sender) || !imsva_match_list(q->subject, subject)
	    || !imsva_match_list(q->rule, rule) || !imsva_match_list(q->message_id, mid))
		return 0;
	if (!q->recipient || !*q->recipient)
		return 1;
	/* any one of the ';'-separated recipients */
	int hit = 0;
	char *copy = xstrdup(rcpts ? rcpts : ""), *save = NULL;
	for (char *r = strtok_r(copy, ";", &save); r && !hit; r = strtok_r(NULL, ";", &save))
		hit = imsva_match_list(q->recipient, r);
	free(copy);
	return hit;
}

int imsva_log_query_write(store *st, const imsva_log_query *q, sbuf *out, size_t *count,
			  imsva_log_cursor *next, ctd_err *err)
{
	sqlite3_stmt *s = query_stmt(st, q, err);
	if (!s)
		return -1;
	size_t limit = q->limit > 0 ? (size_t)q->limit : 500, n = 0;
	imsva_log_cursor last = {0};
	size_t start = out->len;
	int rc = SQLITE_DONE;
	sbuf_puts(out, "[");
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!row_matches(q, s))
			continue;
		if (n++)
			sbuf_puts(out, ",");
		last = (imsva_log_cursor){sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 0)};
		row_write(st, s, q->scanner, out);
	}
	sbuf_puts(out, "]");
	sqlite3_reset(s);
	/* a page cut short by a failed read is an error, not a shorter page */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		out->len = start;
		out->data[start] = '\0';
		return ctd_fail(err, CTD_ESTORE, "log query: %s", sqlite3_errstr(rc));
	}
	*count = n;
	/* a full page: there may be more after its last row */
	if (next)
		*next = n == limit ? last : (imsva_log_cursor){0};
	return 0;
}

json_t *imsva_log_query_run(store *st, const imsva_log_query *q, imsva_log_cursor *next,
			    ctd_err *err)
{
	sbuf text = {0};
	size_t n;
	json_t *rows = NULL;
	if (imsva_log_query_write(st, q, &text, &n, next, err) == 0)
		rows = json_loadb(text.data, text.len, 0, NULL);
	sbuf_free(&text);
	return rows;
}
