/* ddan_store.c - DDAN's rows: submitters (the console's Submitters list) and
 * samples (submission, status, result). Writes are short transactions that
 * commit before the HTTP answer. */
#include "ddan.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "log.h"

/* ---- submitters --------------------------------------------------------- */

static int register_submitter(store *st, const ddan_submitter_in *in, ctd_err *err);

/* The X-DTAS header values are stored as UTF-8 (see ddan_sample_submit). */
int ddan_submitter_register(store *st, const ddan_submitter_in *raw, ctd_err *err)
{
	ddan_submitter_in in = *raw;
	char *product = utf8_sanitize(raw->product_name), *host = utf8_sanitize(raw->hostname);
	char *source = utf8_sanitize(raw->source_name);
	in.product_name = product;
	in.hostname = host;
	in.source_name = source;
	int rc = register_submitter(st, &in, err);
	free(product);
	free(host);
	free(source);
	return rc;
}

static int register_submitter(store *st, const ddan_submitter_in *in, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st,
		"INSERT INTO ddan_submitters (client_uuid, product_name, client_hostname, source_id, "
		"source_name, protocol_version, registered, first_seen_ms, last_seen_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7) ON CONFLICT (client_uuid) DO UPDATE SET "
		"product_name = excluded.product_name, client_hostname = excluded.client_hostname, "
		"source_id = excluded.source_id, source_name = excluded.source_name, "
		"protocol_version = excluded.protocol_version, registered = 1, "
		"last_seen_ms = excluded.last_seen_ms",
		err);
	if (!s)
		return -1;
	const char *v[] = {in->client_uuid, in->product_name, in->hostname, in->source_id,
			   in->source_name, in->protocol};
	for (int i = 0; i < 6; i++)
		sqlite3_bind_text(s, i + 1, v[i] ? v[i] : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, time_now_ms());
	if (store_step_done(st, s, err) != 0)
		return -1;
	json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "product", in->product_name ? in->product_name : "",
				   "hostname", in->hostname ? in->hostname : "", "source_id",
				   in->source_id ? in->source_id : "", "source_name",
				   in->source_name ? in->source_name : "");
	events_append(st, DDAN_NS, "submitter.registered", in->client_uuid, detail, NULL);
	json_decref(detail);
	return 0;
}

int ddan_submitter_unregister(store *st, const char *client_uuid, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddan_submitters SET registered = 0, last_seen_ms = ?2 "
				     "WHERE client_uuid = ?1",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, client_uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, time_now_ms());
	if (store_step_done(st, s, err) != 0)
		return -1;
	if (sqlite3_changes(store_db(st)) > 0)
		events_append(st, DDAN_NS, "submitter.unregistered", client_uuid, NULL, NULL);
	return 0;
}

/* Last-seen is refreshed at most this often: polling clients call every second. */
#define TOUCH_EVERY_MS 10000
/* ... and waits this long at most for the store (ms). */
#define TOUCH_BUDGET_MS 200

int ddan_submitter_touch(store *st, const char *client_uuid, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT registered, last_seen_ms FROM ddan_submitters "
				     "WHERE client_uuid = ?1",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, client_uuid, -1, SQLITE_STATIC);
	int registered = 0;
	int64_t last_seen = 0, now = time_now_ms();
	if (sqlite3_step(s) == SQLITE_ROW) {
		registered = sqlite3_column_int(s, 0);
		last_seen = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (!registered || now - last_seen < TOUCH_EVERY_MS)
		return registered;
	s = store_stmt(st, "UPDATE ddan_submitters SET last_seen_ms = ?2 WHERE client_uuid = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, client_uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	/* bookkeeping on every DTAS call: under a writer it waits for a later call,
	 * it never holds the request (and the HTTP thread) */
	int64_t budget = store_set_thread_budget(TOUCH_BUDGET_MS);
	int rc = store_step_done(st, s, err);
	store_set_thread_budget(budget);
	return rc == 0 || (err && err->code == CTD_EBUSY) ? 1 : -1;
}

/* ---- samples ------------------------------------------------------------ */

/* Status of an existing row inside the transaction; 0 when there is none. */
static int existing_status(store *st, const char *sha1, int *has_data, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT status, data IS NOT NULL FROM ddan_samples WHERE sha1 = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	int status = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		status = sqlite3_column_int(s, 0);
		*has_data = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	return status;
}

static void bind_sample(sqlite3_stmt *s, const ddan_sample_in *in, int64_t now)
{
	char md5[33], sha256[65];
	hash_hex(HASH_MD5, in->data ? in->data : "", in->data ? in->len : 0, md5);
	hash_hex(HASH_SHA256, in->data ? in->data : "", in->data ? in->len : 0, sha256);
	str_upper(md5);
	str_upper(sha256);
	sqlite3_bind_text(s, 1, in->sha1, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, in->sample_type);
	sqlite3_bind_text(s, 3, in->orig_name ? in->orig_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)in->len);
	sqlite3_bind_text(s, 5, md5, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, sha256, -1, SQLITE_TRANSIENT);
	if (in->data)
		sqlite3_bind_blob(s, 7, in->len ? in->data : "", (int)in->len, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, in->archive_password ? in->archive_password : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, in->meta ? in->meta : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, in->log ? in->log : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, in->client_uuid ? in->client_uuid : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 12, in->source_id ? in->source_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 13, in->source_name ? in->source_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 14, now);
}

/* A new sample, or one whose earlier analysis failed or lacked the file:
 * (re)queue it as Arrived. */
static int queue_sample(store *st, const ddan_sample_in *in, int exists, int64_t now, ctd_err *err)
{
	const char *sql =
		exists ? "UPDATE ddan_samples SET sample_type = ?2, orig_name = ?3, size = ?4, md5 = ?5, "
			 "sha256 = ?6, data = ?7, archive_password = ?8, meta = ?9, log = ?10, "
			 "client_uuid = ?11, source_id = ?12, source_name = ?13, submitted_ms = ?14, "
			 "status = 2, risk = -1, true_type = '', virus_name = '', result = NULL, "
			 "started_ms = 0, due_ms = 0, completed_ms = 0, attempted_ms = 0, "
			 "submissions = submissions + 1 "
			 "WHERE sha1 = ?1"
		       : "INSERT INTO ddan_samples (sha1, id, sample_type, orig_name, size, md5, sha256, "
			 "data, archive_password, meta, log, client_uuid, source_id, source_name, "
			 "submitted_ms, status) VALUES (?1, (SELECT COALESCE(MAX(id), 0) + 1 FROM "
			 "ddan_samples), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 2)";
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return -1;
	bind_sample(s, in, now);
	return store_step_done(st, s, err);
}

static int count_resubmission(store *st, const ddan_sample_in *in, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddan_samples SET submissions = submissions + 1 WHERE sha1 = ?1",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, in->sha1, -1, SQLITE_STATIC);
	return store_step_done(st, s, err);
}

static int count_submitter(store *st, const char *client_uuid, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddan_submitters SET submissions = submissions + 1, "
				     "last_seen_ms = ?2 WHERE client_uuid = ?1",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, client_uuid ? client_uuid : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, time_now_ms());
	return store_step_done(st, s, err);
}

static int submit_sample(store *st, const ddan_sample_in *in, ctd_err *err);

/* Names arrive in any encoding (a Latin-1 OrigFileName, a raw multipart
 * filename): stored as UTF-8, so every JSON view of the row can hold them. */
int ddan_sample_submit(store *st, const ddan_sample_in *raw, ctd_err *err)
{
	ddan_sample_in in = *raw;
	char *name = utf8_sanitize(raw->orig_name), *source = utf8_sanitize(raw->source_name);
	in.orig_name = name;
	in.source_name = source;
	int rc = submit_sample(st, &in, err);
	free(name);
	free(source);
	return rc;
}

static int submit_sample(store *st, const ddan_sample_in *in, ctd_err *err)
{
	if (store_begin(st, err) != 0)
		return -1;
	int64_t now = time_now_ms();
	int has_data = 0;
	int status = existing_status(st, in->sha1, &has_data, err);
	int requeue = status == 0 || status == DDAN_ERROR || status == DDAN_TIMEOUT ||
		      (!has_data && in->data);
	int rc = status < 0 ? -1
		 : requeue  ? queue_sample(st, in, status != 0, now, err)
			    : count_resubmission(st, in, err);
	if (rc == 0)
		rc = count_submitter(st, in->client_uuid, err);
	if (rc == 0) {
		json_t *detail = json_pack("{s:s, s:i, s:I, s:s, s:b}", "name",
					   in->orig_name ? in->orig_name : "", "sample_type",
					   in->sample_type, "size", (json_int_t)in->len, "client_uuid",
					   in->client_uuid ? in->client_uuid : "", "duplicate", !requeue);
		rc = events_append(st, DDAN_NS, requeue ? "sample.arrived" : "sample.duplicate",
				   in->sha1, detail, err) < 0 ? -1 : 0;
		json_decref(detail);
	}
	if (rc == 0 && store_commit(st, err) == 0) {
		log_info("sample.submitted", "sha1=%s type=%d size=%zu queued=%d", in->sha1,
			 in->sample_type, in->len, requeue);
		return requeue;
	}
	store_rollback(st);
	return -1;
}

int ddan_sample_status(store *st, const char *sha1, int *status, int *risk, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT status, risk FROM ddan_samples WHERE sha1 = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	*status = DDAN_NOT_FOUND;
	*risk = -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*status = sqlite3_column_int(s, 0);
		*risk = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	return 0;
}

#define SAMPLE_COLUMNS                                                                          \
	"sha1, id, sample_type, orig_name, size, md5, sha256, archive_password, client_uuid, "   \
	"source_id, source_name, status, risk, true_type, virus_name, result, submissions, "     \
	"submitted_ms, started_ms, completed_ms"

/* One row of SAMPLE_COLUMNS as a JSON object (result parsed). */
static json_t *sample_row(sqlite3_stmt *s)
{
	json_t *o = json_object();
	for (int i = 0; i < sqlite3_column_count(s); i++) {
		const char *name = sqlite3_column_name(s, i);
		if (!strcmp(name, "result")) {
			const char *text = (const char *)sqlite3_column_text(s, i);
			json_t *r = text ? json_loads(text, 0, NULL) : NULL;
			json_object_set_new(o, name, r ? r : json_null());
		} else if (sqlite3_column_type(s, i) == SQLITE_INTEGER) {
			json_object_set_new(o, name, json_integer(sqlite3_column_int64(s, i)));
		} else {
			const char *t = (const char *)sqlite3_column_text(s, i);
			json_object_set_new(o, name, json_string(t ? t : ""));
		}
	}
	return o;
}

json_t *ddan_sample_load(store *st, const char *sha1, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " SAMPLE_COLUMNS " FROM ddan_samples WHERE sha1 = ?1",
				     err);
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	json_t *o = NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		o = sample_row(s);
	else
		ctd_fail(err, CTD_ENOTFOUND, "no sample with SHA-1 %s", sha1);
	sqlite3_reset(s);
	return o;
}

int ddan_sample_stamp(store *st, const char *sha1, int64_t stamp[3], ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT status, started_ms, completed_ms FROM ddan_samples"
				     " WHERE sha1 = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < 3; i++)
			stamp[i] = sqlite3_column_int64(s, i);
		rc = 0;
	} else {
		ctd_fail(err, CTD_ENOTFOUND, "no sample with SHA-1 %s", sha1);
	}
	sqlite3_reset(s);
	return rc;
}

int ddan_sample_sha1_by_srid(store *st, long long srid, char sha1[41], ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT sha1 FROM ddan_samples WHERE id = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, srid);
	int rc = -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(sha1, 41, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	} else {
		ctd_fail(err, CTD_ENOTFOUND, "no sample with SRID %lld", srid);
	}
	sqlite3_reset(s);
	return rc;
}

int ddan_sample_data(store *st, const char *sha1, sbuf *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT data FROM ddan_samples WHERE sha1 = ?1 AND data IS NOT NULL",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(s, 0);
		sbuf_append(out, b ? b : "", (size_t)sqlite3_column_bytes(s, 0));
		rc = 0;
	} else {
		ctd_fail(err, CTD_ENOTFOUND, "no sample file stored for SHA-1 %s", sha1);
	}
	sqlite3_reset(s);
	return rc;
}

/* SHA-1s among `sha1s` that are known (submitted within the last `minutes`
 * when minutes > 0), `;`-joined into out. */
int ddan_sample_known(store *st, char **sha1s, size_t n, long minutes, sbuf *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT 1 FROM ddan_samples WHERE sha1 = ?1 AND submitted_ms >= ?2",
				     err);
	if (!s)
		return -1;
	int64_t since = minutes > 0 ? time_now_ms() - (int64_t)minutes * 60000 : 0;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, sha1s[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, since);
		if (sqlite3_step(s) == SQLITE_ROW)
			sbuf_printf(out, "%s%s", out->len ? ";" : "", sha1s[i]);
	}
	sqlite3_reset(s);
	return 0;
}

json_t *ddan_sample_list(store *st, int64_t from_ms, int64_t to_ms, int by_completion, int limit,
			 ctd_err *err)
{
	const char *sql =
		by_completion
			? "SELECT " SAMPLE_COLUMNS " FROM ddan_samples WHERE completed_ms > 0 AND "
			  "completed_ms >= ?1 AND completed_ms <= ?2 ORDER BY completed_ms, id LIMIT ?3"
			: "SELECT " SAMPLE_COLUMNS " FROM ddan_samples WHERE submitted_ms >= ?1 AND "
			  "submitted_ms <= ?2 ORDER BY submitted_ms, id LIMIT ?3";
	if (limit < 0) /* the console: newest first */
		sql = "SELECT " SAMPLE_COLUMNS " FROM ddan_samples WHERE submitted_ms >= ?1 AND "
		      "submitted_ms <= ?2 ORDER BY submitted_ms DESC, id DESC LIMIT -?3";
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, from_ms);
	sqlite3_bind_int64(s, 2, to_ms);
	sqlite3_bind_int(s, 3, limit);
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, sample_row(s));
	sqlite3_reset(s);
	return arr;
}

json_t *ddan_submitter_list(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT client_uuid, product_name, client_hostname, source_id, "
				     "source_name, protocol_version, registered, first_seen_ms, "
				     "last_seen_ms, submissions FROM ddan_submitters ORDER BY last_seen_ms DESC",
				     err);
	if (!s)
		return NULL;
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, sample_row(s));
	sqlite3_reset(s);
	return arr;
}

int ddan_sample_delete(store *st, const char *sha1, ctd_err *err)
{
	if (store_begin(st, err) != 0)
		return -1;
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM ddan_samples WHERE sha1 = ?1", err);
	int rc = s ? 0 : -1;
	if (rc == 0) {
		sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, err);
	}
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		rc = ctd_fail(err, CTD_ENOTFOUND, "no sample with SHA-1 %s", sha1);
	s = rc == 0 ? store_stmt(st, "DELETE FROM ddan_so_samples WHERE sha1 = ?1", err) : NULL;
	if (rc == 0 && !s)
		rc = -1;
	if (rc == 0) {
		sqlite3_bind_text(s, 1, sha1, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, err);
	}
	if (rc == 0)
		rc = events_append(st, DDAN_NS, "sample.deleted", sha1, NULL, err) < 0 ? -1 : 0;
	if (rc == 0 && store_commit(st, err) == 0)
		return 0;
	store_rollback(st);
	return -1;
}
