/* imsva_deliver.c - delivery of processed mail. With a next hop (option
 * next_hop = host:port) or a handoff rule, messages go to table
 * imsva_outbound and the delivery worker sends them with libcurl's SMTP
 * client; a failure defers the message and retries with exponential backoff
 * (deliver_retry, doubled per attempt, capped at an hour) until deliver_max_age,
 * then bounces it. Every attempt is an MTA event. With no next hop the mail
 * lands in the local "delivered" mailbox (imsva_mailbox), one row per
 * recipient, which the admin API shows. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_app.h"
#include "log.h"
#include "util.h"

#define MAX_BACKOFF_MS (3600 * 1000LL)
#define DELIVER_BATCH 32

static char *rcpts_json(const char *const *rcpts, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(rcpts[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* "host:port" (or "[v6]:port", or "host" = port 25). */
static int parse_hostport(const char *s, char *host, size_t hlen, int *port)
{
	const char *colon = strrchr(s, ':');
	*port = 25;
	if (colon && !strchr(colon, ']')) {
		*port = atoi(colon + 1);
		snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	} else {
		snprintf(host, hlen, "%s", s);
	}
	return *host && *port > 0 && *port < 65536 ? 0 : -1;
}

/* The Subject header of a raw message, for the mailbox listing. */
static char *subject_of(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	while (p < end && !(*p == '\r' || *p == '\n')) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > 8 && !strncasecmp(p, "Subject:", 8)) {
			const char *v = p + 8;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *e = eol;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			return xstrndup(v, (size_t)(e - v));
		}
		p = eol + 1;
	}
	return xstrdup("");
}

int imsva_deliver_enqueue(imsva_app *app, store *st, int64_t msg_id, const char *sender,
			  const char *const *rcpts, size_t nrcpts, const char *data, size_t len,
			  const char *host, int port, ctd_err *err)
{
	char hop[256];
	int hop_port = port;
	if (host && *host) {
		snprintf(hop, sizeof hop, "%s", host);
	} else if (app->cfg->next_hop && *app->cfg->next_hop) {
		if (parse_hostport(app->cfg->next_hop, hop, sizeof hop, &hop_port) < 0)
			return ctd_fail(err, CTD_EINVAL, "bad next_hop %s", app->cfg->next_hop);
	} else {
		/* local delivered mailbox */
		char *subject = subject_of(data, len);
		sqlite3_stmt *s = store_stmt(st,
			"INSERT INTO imsva_mailbox (msg_id, ts_ms, sender, rcpt, subject, data)"
			" VALUES (?,?,?,?,?,?)", err);
		int rc = s ? 0 : -1;
		for (size_t i = 0; i < nrcpts && rc == 0; i++) {
			sqlite3_bind_int64(s, 1, msg_id);
			sqlite3_bind_int64(s, 2, time_now_ms());
			sqlite3_bind_text(s, 3, sender, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 4, rcpts[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 5, subject, -1, SQLITE_STATIC);
			sqlite3_bind_blob(s, 6, data, (int)len, SQLITE_STATIC);
			rc = store_step_done(st, s, err);
		}
		free(subject);
		return rc;
	}
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO imsva_outbound (msg_id, created_ms, host, port, sender, rcpts, data,"
		" next_ms) VALUES (?,?,?,?,?,?,?,?)", err);
	if (!s)
		return -1;
	int64_t now = time_now_ms();
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, hop, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, hop_port > 0 ? hop_port : 25);
	sqlite3_bind_text(s, 5, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, rcpts_json(rcpts, nrcpts), -1, free);
	sqlite3_bind_blob(s, 7, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, now);
	return store_step_done(st, s, err);
}

/* ---- the delivery worker ---- */

typedef struct upload {
	const char *data;
	size_t len, pos;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	upload *u = arg;
	size_t n = size * nmemb;
	if (n > u->len - u->pos)
		n = u->len - u->pos;
	memcpy(buf, u->data + u->pos, n);
	u->pos += n;
	return n;
}

/* One SMTP transaction to host:port. Returns 0, or -1 with the reason. */
static int smtp_send(const char *host, int port, const char *sender, json_t *rcpts,
		     const void *data, size_t len, char *why, size_t whylen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(why, whylen, "curl init failed");
		return -1;
	}
	char url[320], from[340], errbuf[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, strchr(host, ':') ? "smtp://[%s]:%d" : "smtp://%s:%d", host, port);
	snprintf(from, sizeof from, "<%s>", sender);
	struct curl_slist *rl = NULL;
	size_t i;
	json_t *r;
	json_array_foreach(rcpts, i, r)
	{
		char to[340];
		snprintf(to, sizeof to, "<%s>", json_string_value(r));
		rl = curl_slist_append(rl, to);
	}
	upload u = {data, len, 0};
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rl);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		snprintf(why, whylen, "%s (%ld)", *errbuf ? errbuf : curl_easy_strerror(rc), code);
	else
		snprintf(why, whylen, "%ld", code);
	curl_slist_free_all(rl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

static void mta_event(store *st, int64_t msg_id, const char *action, const char *sender,
		      const char *rcpts, const char *host, int port, const char *reply, int attempts)
{
	json_t *d = json_pack("{s:s,s:i,s:s,s:i}", "relay", host, "port", port, "reply", reply,
			      "attempts", attempts);
	imsva_log_rec r = {.type = "mta", .msg_id = msg_id, .sender = sender, .recipients = rcpts,
			   .action = action, .reason = reply, .detail = d};
	ctd_err err = {0};
	imsva_log(st, &r, &err);
	json_decref(d);
}

static void deliver_one(imsva_app *app, store *st, sqlite3_stmt *row)
{
	int64_t id = sqlite3_column_int64(row, 0), msg_id = sqlite3_column_int64(row, 1);
	int64_t created = sqlite3_column_int64(row, 2);
	char *host = xstrdup((const char *)sqlite3_column_text(row, 3));
	int port = sqlite3_column_int(row, 4);
	char *sender = xstrdup((const char *)sqlite3_column_text(row, 5));
	json_t *rcpts = json_loads((const char *)sqlite3_column_text(row, 6), 0, NULL);
	size_t len = (size_t)sqlite3_column_bytes(row, 7);
	char *data = xmalloc(len + 1);
	memcpy(data, sqlite3_column_blob(row, 7), len);
	int attempts = sqlite3_column_int(row, 8) + 1;
	sqlite3_reset(row);

	char why[CURL_ERROR_SIZE + 32];
	int ok = rcpts && smtp_send(host, port, sender, rcpts, data, len, why, sizeof why) == 0;
	if (!rcpts)
		snprintf(why, sizeof why, "bad recipient list");
	int64_t now = time_now_ms();
	long long backoff = app->cfg->deliver_retry << (attempts - 1 < 20 ? attempts - 1 : 20);
	if (backoff > MAX_BACKOFF_MS || backoff <= 0)
		backoff = MAX_BACKOFF_MS;
	const char *state = ok ? "sent" : (now - created >= app->cfg->deliver_max_age ? "bounced"
										    : "pending");
	ctd_err err = {0};
	sqlite3_stmt *u = store_stmt(st,
		"UPDATE imsva_outbound SET state = ?, attempts = ?, next_ms = ?, last_error = ?,"
		" done_ms = CASE WHEN ? = 'pending' THEN NULL ELSE ? END WHERE id = ?", &err);
	if (u) {
		sqlite3_bind_text(u, 1, state, -1, SQLITE_STATIC);
		sqlite3_bind_int(u, 2, attempts);
		sqlite3_bind_int64(u, 3, now + backoff);
		if (!ok)
			sqlite3_bind_text(u, 4, why, -1, SQLITE_STATIC);
		sqlite3_bind_text(u, 5, state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 6, now);
		sqlite3_bind_int64(u, 7, id);
		store_step_done(st, u, &err);
	}
	char *rj = rcpts ? json_dumps(rcpts, JSON_COMPACT) : NULL;
	char *rl = imsva_rcpts_join(rj);
	free(rj);
	mta_event(st, msg_id, ok ? "sent" : (strcmp(state, "bounced") ? "deferred" : "bounced"),
		  sender, rl, host, port, why, attempts);
	log_info(ok ? "deliver.sent" : "deliver.failed", "msg=%" PRId64 " relay=%s:%d reply=\"%s\"",
		 msg_id, host, port, why);
	free(rl);
	json_decref(rcpts);
	free(data);
	free(sender);
	free(host);
}

int64_t imsva_deliver_run(void *appv)
{
	imsva_app *app = appv;
	ctd_err err = {0};
	store *st = imsva_store(&err);
	if (!st)
		return IMSVA_JOB_INTERVAL;
	for (int round = 0; round < 100; round++) {
		int64_t ids[DELIVER_BATCH];
		int n = 0;
		sqlite3_stmt *due = store_stmt(st,
			"SELECT id FROM imsva_outbound WHERE state = 'pending' AND next_ms <= ?"
			" ORDER BY next_ms LIMIT ?", &err);
		if (!due)
			return IMSVA_JOB_INTERVAL;
		sqlite3_bind_int64(due, 1, time_now_ms());
		sqlite3_bind_int(due, 2, DELIVER_BATCH);
		while (n < DELIVER_BATCH && sqlite3_step(due) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(due, 0);
		sqlite3_reset(due);
		if (n == 0)
			return IMSVA_JOB_INTERVAL;
		for (int i = 0; i < n; i++) {
			sqlite3_stmt *row = store_stmt(st,
				"SELECT id, msg_id, created_ms, host, port, sender, rcpts, data, attempts"
				" FROM imsva_outbound WHERE id = ?", &err);
			if (!row)
				return IMSVA_JOB_INTERVAL;
			sqlite3_bind_int64(row, 1, ids[i]);
			if (sqlite3_step(row) == SQLITE_ROW)
				deliver_one(app, st, row);
			else
				sqlite3_reset(row);
		}
	}
	return IMSVA_JOB_INTERVAL;
}

/* ---- queries ---- */

json_t *imsva_mailbox_list(store *st, const char *rcpt, int limit, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, msg_id, ts_ms, sender, rcpt, subject, length(data) FROM imsva_mailbox"
		" ORDER BY id DESC", err);
	if (!s)
		return NULL;
	json_t *out = json_array();
	while (sqlite3_step(s) == SQLITE_ROW && (int)json_array_size(out) < (limit > 0 ? limit : 500)) {
		const char *to = (const char *)sqlite3_column_text(s, 4);
		if (!imsva_match_list(rcpt, to))
			continue;
		char ts[32];
		time_iso8601(sqlite3_column_int64(s, 2), ts, sizeof ts);
		json_array_append_new(out, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:I}",
			"id", (json_int_t)sqlite3_column_int64(s, 0),
			"msg_id", (json_int_t)sqlite3_column_int64(s, 1), "time", ts,
			"sender", (const char *)sqlite3_column_text(s, 3), "rcpt", to,
			"subject", (const char *)sqlite3_column_text(s, 5),
			"size", (json_int_t)sqlite3_column_int64(s, 6)));
	}
	sqlite3_reset(s);
	return out;
}

json_t *imsva_mailbox_get(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, msg_id, ts_ms, sender, rcpt, subject, data FROM imsva_mailbox WHERE id = ?",
		err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		ctd_fail(err, CTD_ENOTFOUND, "no delivered message %" PRId64, id);
		return NULL;
	}
	char ts[32];
	time_iso8601(sqlite3_column_int64(s, 2), ts, sizeof ts);
	json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s%}",
		"id", (json_int_t)id, "msg_id", (json_int_t)sqlite3_column_int64(s, 1), "time", ts,
		"sender", (const char *)sqlite3_column_text(s, 3),
		"rcpt", (const char *)sqlite3_column_text(s, 4),
		"subject", (const char *)sqlite3_column_text(s, 5),
		"data", sqlite3_column_bytes(s, 6) ? (const char *)sqlite3_column_blob(s, 6) : "",
		(size_t)sqlite3_column_bytes(s, 6));
	sqlite3_reset(s);
	return o;
}

json_t *imsva_deliver_queue_list(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT id, msg_id, created_ms, host, port, sender, rcpts, state, attempts, next_ms,"
		" last_error FROM imsva_outbound ORDER BY id DESC LIMIT 500", err);
	if (!s)
		return NULL;
	json_t *out = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *rc = json_loads((const char *)sqlite3_column_text(s, 6), 0, NULL);
		const char *le = (const char *)sqlite3_column_text(s, 10);
		json_array_append_new(out, json_pack("{s:I,s:I,s:I,s:s,s:i,s:s,s:o,s:s,s:i,s:I,s:s?}",
			"id", (json_int_t)sqlite3_column_int64(s, 0),
			"msg_id", (json_int_t)sqlite3_column_int64(s, 1),
			"created_ms", (json_int_t)sqlite3_column_int64(s, 2),
			"host", (const char *)sqlite3_column_text(s, 3), "port", sqlite3_column_int(s, 4),
			"sender", (const char *)sqlite3_column_text(s, 5), "rcpts", rc ? rc : json_array(),
			"state", (const char *)sqlite3_column_text(s, 7), "attempts", sqlite3_column_int(s, 8),
			"next_ms", (json_int_t)sqlite3_column_int64(s, 9), "last_error", le));
	}
	sqlite3_reset(s);
	return out;
}
