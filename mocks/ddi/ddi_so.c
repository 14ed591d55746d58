/* ddi_so.c - DDI's detections and suspicious objects.
 *
 * A risky carved file becomes a detection and up to four SOs: its SHA-1
 * (High verdicts only: a File SHA-1 SO is always High), the download URL, the
 * domain (when the host is a name) and the server IP, at the verdict's risk.
 * Every change to an SO takes the next change id, the cursor of the DTAS-style
 * feed TMCM pulls (X-DTAS-LastQueryID). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "log.h"
#include "so_content.h"
#include "sofeed.h"
#include "util.h"
#include "ddi_sensor.h"

int ddi_detection_add(store *st, const ddi_file_ref *f, const char *detected_by, int risk,
		      const char *threat, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"INSERT INTO ddi_detections (ts_ms, file_id, detected_by, risk, threat, proto, sha1,"
		" file_name, url, host, client_ip, client_port, server_ip, server_port)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, time_now_ms());
	sqlite3_bind_int64(s, 2, f->id);
	sqlite3_bind_text(s, 3, detected_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, risk);
	sqlite3_bind_text(s, 5, threat, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, f->proto, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 7, f->sha1, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 8, f->file_name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 9, f->url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 10, f->host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 11, f->client_ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 12, f->client_port);
	sqlite3_bind_text(s, 13, f->server_ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 14, f->server_port);
	if (store_step_done(st, s, err) < 0)
		return -1;
	int64_t id = sqlite3_last_insert_rowid(store_db(st));
	log_info("ddi.detection", "id=%lld sha1=%s risk=%s threat=\"%s\" by=\"%s\" url=\"%s\"",
		 (long long)id, f->sha1, ddi_risk_name(risk), threat, detected_by,
		 f->url ? f->url : "");
	json_t *detail = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s}", "id",
				   (json_int_t)id, "sha1", f->sha1, "file_name", f->file_name, "risk",
				   ddi_risk_name(risk), "threat", threat, "detected_by", detected_by,
				   "url", f->url, "client_ip", f->client_ip, "server_ip", f->server_ip);
	events_append(st, "ddi", "detection", f->sha1, detail, NULL);
	json_decref(detail);
	return 0;
}

char *ddi_so_normalize_url(const char *url)
{
	const char *sep = strstr(url, "://");
	if (!sep)
		return xstrdup(url);
	size_t scheme_len = (size_t)(sep - url);
	const char *auth = sep + 3;
	size_t auth_len = strcspn(auth, "/?#");
	char *scheme = xstrndup(url, scheme_len), *hostport = xstrndup(auth, auth_len);
	str_lower(scheme);
	str_lower(hostport);
	size_t hl = strlen(hostport);
	const char *dflt = !strcmp(scheme, "http") ? ":80" : !strcmp(scheme, "https") ? ":443" : NULL;
	if (dflt && hl > strlen(dflt) && !strcmp(hostport + hl - strlen(dflt), dflt))
		hostport[hl - strlen(dflt)] = '\0';
	const char *rest = auth + auth_len;
	char *out = xasprintf("%s://%s%s", scheme, hostport, *rest ? rest : "/");
	free(scheme);
	free(hostport);
	return out;
}

static int is_ip_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int so_store(store *st, const char *type, const char *value, const char *risk,
		    const char *related_sha1, int64_t seen_ms, int64_t expiry_ms, ctd_err *err)
{
	int64_t now = time_now_ms();
	if (seen_ms <= 0 || seen_ms > now)
		seen_ms = now;
	int64_t expires = expiry_ms > 0 ? now + expiry_ms : 0;
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *q = store_stmt(
		st, "SELECT 1 FROM ddi_sos WHERE type = ? AND value = ? AND removed = 0", err);
	if (!q) {
		store_rollback(st);
		return -1;
	}
	sqlite3_bind_text(q, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_TRANSIENT);
	int existed = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_reset(q);
	/* Seen again: refresh last seen and expiry, never lower the risk; an
	 * expired object comes back. Either way it takes a new change id. */
	sqlite3_stmt *s = store_stmt(
		st,
		"INSERT INTO ddi_sos (type, value, risk, first_seen_ms, last_seen_ms, expires_ms,"
		" related_sha1, removed, change_id)"
		" VALUES (?1, ?2, ?3, ?7, ?4, ?5, ?6, 0,"
		"  (SELECT COALESCE(MAX(change_id), 0) + 1 FROM ddi_sos))"
		" ON CONFLICT (type, value) DO UPDATE SET"
		"  risk = CASE WHEN excluded.risk = 'High' OR removed = 1 THEN excluded.risk ELSE risk END,"
		"  last_seen_ms = excluded.last_seen_ms, expires_ms = excluded.expires_ms,"
		"  related_sha1 = excluded.related_sha1, removed = 0,"
		"  change_id = excluded.change_id",
		err);
	if (!s) {
		store_rollback(st);
		return -1;
	}
	sqlite3_bind_text(s, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, risk, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, expires);
	sqlite3_bind_text(s, 6, related_sha1 ? related_sha1 : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 7, seen_ms);
	if (store_step_done(st, s, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	log_info("ddi.so", "type=%s value=\"%s\" risk=%s sha1=%s", type, value, risk,
		 related_sha1 ? related_sha1 : "");
	json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "value", value, "risk",
				   risk, "related_sha1", related_sha1 ? related_sha1 : "");
	events_append(st, "ddi", existed ? "so.updated" : "so.created", value, detail, NULL);
	json_decref(detail);
	return 0;
}

/* The door of DDI's SO list: carved content that breaks the lab's rules
 * (so_content.h) is logged and never becomes an object. */
int ddi_so_upsert(store *st, const char *type, const char *value, const char *risk,
		  const char *related_sha1, int64_t seen_ms, int64_t expiry_ms, ctd_err *err)
{
	ctd_err why = {0};
	char *canon;
	if (so_content_normalise("value", type, value, &canon, &why) < 0) {
		log_warn("ddi.so.refused", "type=%s value=\"%s\" sha1=%s reason=\"%s\"", type,
			 value ? value : "", related_sha1 ? related_sha1 : "", why.msg);
		return 0;
	}
	int rc = so_store(st, type, canon, risk, related_sha1, seen_ms, expiry_ms, err);
	free(canon);
	return rc;
}

static int wants(const char *so_types, const char *type)
{
	size_t n = strlen(type);
	for (const char *p = so_types; p && *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == n && !strncasecmp(p, type, n))
			return 1;
		p += len;
	}
	return 0;
}

/* When DDI captured the file: its objects' "first seen" (the verdict comes
 * later, and TMCM lists an object's sources in first-seen order). 0 if
 * unknown. */
static int64_t captured_ms(store *st, int64_t file_id)
{
	ctd_err err = {0};
	sqlite3_stmt *s = store_stmt(st, "SELECT ts_ms FROM ddi_files WHERE id = ?", &err);
	if (!s)
		return 0;
	sqlite3_bind_int64(s, 1, file_id);
	int64_t ts = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return ts;
}

int ddi_so_from_file(store *st, const ddi_file_ref *f, int risk, const char *so_types,
		     int64_t expiry_ms, ctd_err *err)
{
	if (risk < RISK_MEDIUM)
		return 0;
	const char *r = ddi_risk_name(risk);
	int64_t seen = captured_ms(st, f->id);
	if (risk == RISK_HIGH && wants(so_types, "file") &&
	    ddi_so_upsert(st, "FILE", f->sha1, "High", f->sha1, seen, expiry_ms, err) < 0)
		return -1;
	if (f->url && *f->url && wants(so_types, "url")) {
		char *url = ddi_so_normalize_url(f->url);
		int rc = ddi_so_upsert(st, "URL", url, r, f->sha1, seen, expiry_ms, err);
		free(url);
		if (rc < 0)
			return -1;
	}
	if (f->host && *f->host && !is_ip_literal(f->host) && wants(so_types, "domain") &&
	    ddi_so_upsert(st, "DOMAIN", f->host, r, f->sha1, seen, expiry_ms, err) < 0)
		return -1;
	if (f->url && wants(so_types, "ip") &&
	    ddi_so_upsert(st, "IP", f->server_ip, r, f->sha1, seen, expiry_ms, err) < 0)
		return -1;
	return 0;
}

/* Mark one active object removed under the next change id, so feed
 * consumers drop it: 1 when it was, 0 when no active object has that id. */
static int mark_removed(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *u = store_stmt(
		st,
		"UPDATE ddi_sos SET removed = 1,"
		" change_id = (SELECT MAX(change_id) + 1 FROM ddi_sos) WHERE id = ? AND removed = 0",
		err);
	if (!u)
		return -1;
	sqlite3_bind_int64(u, 1, id);
	if (store_step_done(st, u, err) != 0)
		return -1;
	return sqlite3_changes(store_db(st)) > 0;
}

int ddi_so_expire_due(store *st, int64_t now_ms, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"SELECT id, type, value FROM ddi_sos"
		" WHERE removed = 0 AND expires_ms > 0 AND expires_ms <= ? LIMIT 64",
		err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	int64_t ids[64];
	char *values[64];
	int n = 0;
	while (n < 64 && sqlite3_step(s) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(s, 0);
		values[n++] = xasprintf("%s %s", sqlite3_column_text(s, 1), sqlite3_column_text(s, 2));
	}
	sqlite3_reset(s);
	int rc = n;
	for (int i = 0; i < n; i++) {
		if (rc >= 0 && mark_removed(st, ids[i], err) > 0)
			events_append(st, "ddi", "so.expired", values[i], NULL, NULL);
		else
			rc = -1;
		free(values[i]);
	}
	return rc;
}

int ddi_so_remove(store *st, int64_t id, ctd_err *err)
{
	int n = mark_removed(st, id, err);
	if (n == 0)
		return ctd_fail(err, CTD_ENOTFOUND, "no suspicious object with id %lld", (long long)id);
	if (n < 0)
		return -1;
	char ref[24];
	snprintf(ref, sizeof ref, "%lld", (long long)id);
	events_append(st, "ddi", "so.removed", ref, NULL, NULL);
	return 0;
}

int ddi_detection_delete(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM ddi_detections WHERE id = ?", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_step_done(st, s, err) != 0)
		return -1;
	if (sqlite3_changes(store_db(st)) == 0)
		return ctd_fail(err, CTD_ENOTFOUND, "no detection with id %lld", (long long)id);
	char ref[24];
	snprintf(ref, sizeof ref, "%lld", (long long)id);
	events_append(st, "ddi", "detection.deleted", ref, NULL, NULL);
	return 0;
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_NULL:
		return json_null();
	default:
		return json_string((const char *)sqlite3_column_text(s, i));
	}
}

/* Rows of a statement as a JSON array of objects keyed by column name. */
static json_t *rows_json(store *st, sqlite3_stmt *s, ctd_err *err)
{
	json_t *rows = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(s); i++)
			json_object_set_new(o, sqlite3_column_name(s, i), col_json(s, i));
		json_array_append_new(rows, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		ctd_fail(err, CTD_ESTORE, "query failed: %s", sqlite3_errmsg(store_db(st)));
		return NULL;
	}
	return rows;
}

static void iso_times(json_t *rows, const char *const *fields)
{
	size_t i;
	json_t *o;
	json_array_foreach(rows, i, o)
	{
		for (const char *const *f = fields; *f; f++) {
			json_t *v = json_object_get(o, *f);
			if (json_is_integer(v) && json_integer_value(v) > 0) {
				char iso[32];
				time_iso8601(json_integer_value(v), iso, sizeof(iso));
				char *key = xasprintf("%.*s", (int)(strlen(*f) - 3), *f);
				json_object_set_new(o, key, json_string(iso));
				free(key);
			}
		}
	}
}

json_t *ddi_so_list(store *st, const char *type, int include_removed, int limit, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"SELECT id, change_id, type, value, risk, first_seen_ms, last_seen_ms, expires_ms,"
		" related_sha1, removed FROM ddi_sos"
		" WHERE (?1 IS NULL OR type = upper(?1)) AND (?2 OR removed = 0)"
		" ORDER BY last_seen_ms DESC, id DESC LIMIT ?3",
		err);
	if (!s)
		return NULL;
	if (type)
		sqlite3_bind_text(s, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, include_removed);
	sqlite3_bind_int(s, 3, limit);
	json_t *rows = rows_json(st, s, err);
	static const char *const times[] = {"first_seen_ms", "last_seen_ms", "expires_ms", NULL};
	if (rows)
		iso_times(rows, times);
	return rows;
}

json_t *ddi_detections_list(store *st, int64_t after_id, int limit, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"SELECT id, ts_ms, file_id, detected_by, risk, threat, proto, sha1, file_name, url,"
		" host, client_ip, client_port, server_ip, server_port FROM ddi_detections"
		" WHERE id > ? ORDER BY id DESC LIMIT ?",
		err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, after_id);
	sqlite3_bind_int(s, 2, limit);
	json_t *rows = rows_json(st, s, err);
	static const char *const times[] = {"ts_ms", NULL};
	if (rows) {
		iso_times(rows, times);
		size_t i;
		json_t *o;
		json_array_foreach(rows, i, o)
		json_object_set_new(o, "risk_level",
				    json_string(ddi_risk_name((int)json_integer_value(json_object_get(o, "risk")))));
	}
	return rows;
}

json_t *ddi_totals(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"SELECT (SELECT COUNT(*) FROM ddi_detections) AS detections,"
		" (SELECT COUNT(*) FROM ddi_files) AS files,"
		" (SELECT COUNT(*) FROM ddi_sos WHERE removed = 0) AS suspicious_objects,"
		" (SELECT COUNT(*) FROM ddi_sos WHERE removed = 0 AND type = 'FILE') AS so_file,"
		" (SELECT COUNT(*) FROM ddi_sos WHERE removed = 0 AND type = 'URL') AS so_url,"
		" (SELECT COUNT(*) FROM ddi_sos WHERE removed = 0 AND type = 'DOMAIN') AS so_domain,"
		" (SELECT COUNT(*) FROM ddi_sos WHERE removed = 0 AND type = 'IP') AS so_ip",
		err);
	json_t *rows = s ? rows_json(st, s, err) : NULL;
	json_t *row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return row;
}

json_t *ddi_files_list(store *st, const char *state, int limit, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"SELECT id, ts_ms, proto, client_ip, client_port, server_ip, server_port, url, host,"
		" mail_from, file_name, size, truncated, sha1, sha256, md5, true_type, magic, rule,"
		" state, reason, risk, threat, analyzer, attempts, submitted_ms, done_ms"
		" FROM ddi_files WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
		err);
	if (!s)
		return NULL;
	if (state)
		sqlite3_bind_text(s, 1, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit);
	json_t *rows = rows_json(st, s, err);
	static const char *const times[] = {"ts_ms", "submitted_ms", "done_ms", NULL};
	if (rows)
		iso_times(rows, times);
	return rows;
}

int ddi_so_feed_page(store *st, int64_t after, int limit, sbuf *xml, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"SELECT change_id, type, value, risk, first_seen_ms, last_seen_ms, expires_ms,"
		" related_sha1, removed FROM ddi_sos WHERE change_id > ? ORDER BY change_id LIMIT ?",
		err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit + 1);
	sofeed_xml_begin(xml);
	int n = 0, more = 0, rc;
	int64_t last = after;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		so_record r;
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(s, 0);
		snprintf(r.type, sizeof(r.type), "%s", (const char *)sqlite3_column_text(s, 1));
		r.value = (char *)sqlite3_column_text(s, 2);
		snprintf(r.risk, sizeof(r.risk), "%s", (const char *)sqlite3_column_text(s, 3));
		r.source = "DDI";
		r.first_seen_ms = sqlite3_column_int64(s, 4);
		r.last_seen_ms = sqlite3_column_int64(s, 5);
		r.expires_ms = sqlite3_column_int64(s, 6);
		snprintf(r.related_sha1, sizeof(r.related_sha1), "%s",
			 (const char *)sqlite3_column_text(s, 7));
		r.removed = sqlite3_column_int(s, 8);
		sofeed_xml_add(xml, &r);
		last = r.id;
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ctd_fail(err, CTD_ESTORE, "feed query failed");
	sofeed_xml_end(xml, last, more);
	return 0;
}
