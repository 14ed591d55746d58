/* tmcm_udso.c - user-defined suspicious objects (Automation API and
 * console): validation and canonical case per type, upsert within the
 * configured maximum, delete, and the list as the Automation API shows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "json_write.h"
#include "so_content.h"
#include "util.h"
#include "tmcm.h"

/* ---- user-defined objects ----------------------------------------------------- */

static const char *udso_feed_type(const char *type)
{
	if (strcmp(type, "ip") == 0)
		return "IP";
	if (strcmp(type, "url") == 0)
		return "URL";
	if (strcmp(type, "domain") == 0)
		return "DOMAIN";
	if (strcmp(type, "file_sha1") == 0 || strcmp(type, "file") == 0)
		return "FILE";
	return NULL;
}

/* The content rules are the lab's (so_content.h); a UDSO URL is also http(s). */
int tmcm_udso_check(const char *type, const char *content, const char *scan_action,
		    char **canon, ctd_err *err)
{
	*canon = NULL;
	const char *feed_type = type ? udso_feed_type(type) : NULL;
	if (!feed_type)
		return ctd_fail(err, CTD_EINVAL, "type must be ip, url, file_sha1 or domain");
	if (!content || !content[0])
		return ctd_fail(err, CTD_EINVAL, "content is required");
	if (scan_action && strcmp(scan_action, "log") && strcmp(scan_action, "block") &&
	    strcmp(scan_action, "quarantine"))
		return ctd_fail(err, CTD_EINVAL, "scan_action must be log or block");
	if (scan_action && strcmp(scan_action, "quarantine") == 0 && strcmp(feed_type, "FILE"))
		return ctd_fail(err, CTD_EINVAL, "quarantine is only available for file objects");
	if (so_content_normalise("content", feed_type, content, canon, err) < 0)
		return -1;
	if (strcmp(feed_type, "URL") == 0 && strncmp(*canon, "http://", 7) &&
	    strncmp(*canon, "https://", 8)) {
		free(*canon);
		*canon = NULL;
		return ctd_fail(err, CTD_EINVAL, "content: a url object is an http:// or https:// URL");
	}
	return 0;
}

static long udso_count(store *st)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT COUNT(*) FROM tmcm_udso", NULL);
	if (!s)
		return -1;
	long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return n;
}

static int udso_exists(store *st, const char *type, const char *content)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT 1 FROM tmcm_udso WHERE type = ?1 AND content = ?2", NULL);
	if (!s)
		return 0;
	tmcm_bind_text(s, 1, type);
	tmcm_bind_text(s, 2, content);
	int found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

static int udso_write(store *st, const tmcm_udso *u, const char *feed_type, ctd_err *err)
{
	int64_t now = time_now_ms();
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_udso (type, content, notes, scan_action, expires_ms, file_name,"
		" feed_type, feed_value, created_ms, modified_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?2, ?8, ?8)"
		" ON CONFLICT (type, content) DO UPDATE SET notes = excluded.notes,"
		" scan_action = excluded.scan_action, expires_ms = excluded.expires_ms,"
		" file_name = CASE WHEN excluded.file_name = '' THEN file_name"
		" ELSE excluded.file_name END, modified_ms = excluded.modified_ms", err);
	if (!s)
		return -1;
	tmcm_bind_text(s, 1, u->type);
	tmcm_bind_text(s, 2, u->content);
	tmcm_bind_text(s, 3, u->notes ? u->notes : "");
	tmcm_bind_text(s, 4, u->scan_action);
	sqlite3_bind_int64(s, 5, u->expires_ms);
	tmcm_bind_text(s, 6, u->file_name ? u->file_name : "");
	tmcm_bind_text(s, 7, feed_type);
	sqlite3_bind_int64(s, 8, now);
	return store_step_done(st, s, err);
}

int tmcm_udso_put(store *st, const tmcm_udso *u, long long max, ctd_err *err)
{
	const char *feed_type = udso_feed_type(u->type);
	if (!feed_type)
		return ctd_fail(err, CTD_EINVAL, "unknown type %s", u->type);
	if (so_text_check("notes", u->notes, TMCM_UDSO_NOTES_MAX, err) < 0 ||
	    so_text_check("file_name", u->file_name, TMCM_UDSO_FILE_NAME_MAX, err) < 0)
		return -1;
	if (store_begin(st, err) < 0)
		return -1;
	int rc = 0;
	if (max > 0 && !udso_exists(st, u->type, u->content) && udso_count(st) >= max)
		rc = ctd_fail(err, CTD_ETOOBIG, "the user-defined list already holds %lld objects",
			      max);
	if (rc == 0)
		rc = udso_write(st, u, feed_type, err);
	tmcm_exc_set exc = {0};
	if (rc == 0)
		rc = tmcm_exc_load(st, &exc, err);
	if (rc == 0)
		rc = tmcm_recompute(st, &exc, feed_type, u->content, err);
	tmcm_exc_free(&exc);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}

int tmcm_udso_delete(store *st, const char *type, const char *content, ctd_err *err)
{
	const char *feed_type = udso_feed_type(type ? type : "");
	if (!feed_type || !content || !content[0])
		return ctd_fail(err, CTD_EINVAL, "type and content are required");
	if (store_begin(st, err) < 0)
		return -1;
	/* an object stored before the content rules keeps its raw spelling:
	 * deleting it by that spelling must work */
	char *canon;
	if (so_content_normalise("content", feed_type, content, &canon, NULL) < 0)
		canon = xstrdup(content);
	int rc = -1;
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM tmcm_udso WHERE type = ?1 AND content = ?2",
				     err);
	if (s) {
		tmcm_bind_text(s, 1, type);
		tmcm_bind_text(s, 2, canon);
		rc = store_step_changed(st, s, err, "no %s object %s", type, content);
	}
	tmcm_exc_set exc = {0};
	if (rc == 0)
		rc = tmcm_exc_load(st, &exc, err);
	if (rc == 0)
		rc = tmcm_recompute(st, &exc, feed_type, canon, err);
	tmcm_exc_free(&exc);
	free(canon);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, err);
}

/* One item: {type, content, notes, scan_action, expiration_utc_date}. */
static void write_item(sbuf *out, sqlite3_stmt *s)
{
	static const char *const keys[] = {"{\"type\":", ",\"content\":", ",\"notes\":",
					   ",\"scan_action\":"};
	for (int i = 0; i < 4; i++) {
		const char *v = tmcm_col_text(s, i);
		sbuf_puts(out, keys[i]);
		json_write_str(out, v, strlen(v));
	}
	sbuf_puts(out, ",\"expiration_utc_date\":");
	int64_t exp = sqlite3_column_int64(s, 4);
	if (exp) {
		char buf[32];
		tmcm_format_utc(exp, buf, sizeof(buf));
		json_write_str(out, buf, strlen(buf));
	} else {
		sbuf_puts(out, "null");
	}
	sbuf_puts(out, "}");
}

int tmcm_udso_list_write(store *st, const char *type, const char *filter, int64_t now_ms,
			 int64_t *until_ms, sbuf *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT type, content, notes, scan_action, expires_ms FROM tmcm_udso"
		" WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR instr(lower(content), lower(?2)) > 0)"
		" AND (expires_ms = 0 OR expires_ms > ?3) ORDER BY id", err);
	if (!s)
		return -1;
	tmcm_bind_text(s, 1, type && type[0] ? type : NULL);
	tmcm_bind_text(s, 2, filter && filter[0] ? filter : NULL);
	sqlite3_bind_int64(s, 3, now_ms);
	size_t start = out->len;
	int rc, n = 0;
	sbuf_puts(out, "[");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++)
			sbuf_puts(out, ",");
		write_item(out, s);
		int64_t exp = sqlite3_column_int64(s, 4);
		if (until_ms && exp && exp < *until_ms)
			*until_ms = exp;
	}
	sbuf_puts(out, "]");
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		out->len = start;
		out->data[start] = '\0';
		return tmcm_db_fail(st, err, "list udso");
	}
	return 0;
}

json_t *tmcm_udso_list(store *st, const char *type, const char *filter, ctd_err *err)
{
	sbuf text = {0};
	json_t *arr = NULL;
	if (tmcm_udso_list_write(st, type, filter, time_now_ms(), NULL, &text, err) == 0)
		arr = json_loadb(text.data, text.len, 0, NULL);
	sbuf_free(&text);
	return arr;
}
