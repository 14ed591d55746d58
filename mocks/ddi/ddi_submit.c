/* ddi_submit.c - what happens to a carved file: hashes, true type, pre-scan
 * and file submission rules (ddi_rules.c), then analysis by DDAN over the DTAS
 * API or by the internal Virtual Analyzer, and the verdict turned into a
 * detection and suspicious objects (ddi_so.c).
 *
 * The carve callback only records (the ddi_files table is the queue, bounded
 * by max_queued), so capture threads never wait on the network. One worker
 * thread submits, newest first (DDI's default LIFO queue): check_duplicate_sample,
 * then upload_sample; it polls get_brief_report until the verdict is in. When
 * DDAN fails, DDI deems it down and pauses all submissions for `backoff`
 * (5 minutes on a real DDI), logging one system event per outage. */
#include <pthread.h>
#include <stdlib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "dtas.h"
#include "hash.h"
#include "log.h"
#include "util.h"
#include "worker.h"
#include "ddi_sensor.h"

#define POLL_BATCH 32

struct ddi_submitter {
	ddi_submit_opts o;
	int internal;
	dtas_client client;
	int registered;
	worker *worker;
	int64_t idle_ms, next_expiry_ms; /* the worker's */
	pthread_mutex_t mu;
	/* guarded by mu */
	int64_t backoff_until;
	int ddan_down;
	char last_error[320];
	uint64_t carved, queued, not_submitted, dropped, uploaded, duplicates, verdicts;
};

static void wake(ddi_submitter *sb)
{
	worker_wake(sb->worker);
}

/* ---- recording a carved file */

static int64_t count_pending(store *st)
{
	sqlite3_stmt *s = store_stmt(
		st, "SELECT COUNT(*) FROM ddi_files WHERE state IN ('queued', 'analyzing')", NULL);
	int64_t n = 0;
	if (s && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	if (s)
		sqlite3_reset(s);
	return n;
}

/* A verdict this sensor already has for the same content, or -1. */
static int cached_verdict(store *st, const char *sha1, char *threat, size_t threatlen)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT risk, threat FROM ddi_files WHERE sha1 = ? AND state = 'done'"
				     " ORDER BY id DESC LIMIT 1",
				     NULL);
	int risk = -1;
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, sha1, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW) {
		risk = sqlite3_column_int(s, 0);
		snprintf(threat, threatlen, "%s",
			 sqlite3_column_text(s, 1) ? (const char *)sqlite3_column_text(s, 1) : "");
	}
	sqlite3_reset(s);
	return risk;
}

typedef struct carve_row {
	const ddi_carved *f;
	char sha1[SHA1_HEX_LEN], sha256[SHA256_HEX_LEN], md5[MD5_HEX_LEN];
	char magic[256];
	const char *true_type, *rule, *state, *reason, *analyzer;
	int risk;
	char threat[128];
	int keep_data;
} carve_row;

static int64_t insert_file(store *st, const carve_row *r, ctd_err *err)
{
	const ddi_carved *f = r->f;
	sqlite3_stmt *s = store_stmt(
		st,
		"INSERT INTO ddi_files (ts_ms, proto, client_ip, client_port, server_ip, server_port,"
		" url, host, mail_from, file_name, size, truncated, sha1, sha256, md5, true_type,"
		" magic, rule, state, reason, risk, threat, analyzer, done_ms, data)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		err);
	if (!s)
		return -1;
	int i = 1;
	sqlite3_bind_int64(s, i++, f->ts_ms ? f->ts_ms : time_now_ms());
	sqlite3_bind_text(s, i++, f->proto, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, f->client_ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, i++, f->client_port);
	sqlite3_bind_text(s, i++, f->server_ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, i++, f->server_port);
	sqlite3_bind_text(s, i++, f->url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, f->host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, f->mail_from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, f->file_name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)f->len);
	sqlite3_bind_int(s, i++, f->truncated);
	sqlite3_bind_text(s, i++, r->sha1, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, r->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, r->md5, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, r->true_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->magic, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, r->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->reason, -1, SQLITE_STATIC);
	if (r->risk >= 0)
		sqlite3_bind_int(s, i++, r->risk);
	else
		sqlite3_bind_null(s, i++);
	sqlite3_bind_text(s, i++, r->risk >= 0 ? r->threat : NULL, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, r->analyzer, -1, SQLITE_STATIC);
	if (r->risk >= 0)
		sqlite3_bind_int64(s, i++, time_now_ms());
	else
		sqlite3_bind_null(s, i++);
	if (r->keep_data)
		sqlite3_bind_blob(s, i++, f->data, (int)f->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i++);
	if (store_step_done(st, s, err) < 0)
		return -1;
	return sqlite3_last_insert_rowid(store_db(st));
}

static void ref_from_carved(const ddi_carved *f, const char *sha1, int64_t id, ddi_file_ref *ref)
{
	*ref = (ddi_file_ref){id,	    sha1,	 f->file_name,	 f->proto,      f->url,
			      f->host,	    f->client_ip, f->server_ip,	 f->client_port, f->server_port};
}

/* Decide everything about one carved file and record it in one step. */
static void classify(ddi_submitter *sb, store *st, carve_row *r)
{
	const ddi_carved *f = r->f;
	r->true_type = ddi_true_type(f->data, f->len, r->magic, sizeof(r->magic));
	int known = ddi_is_known_malware(f->data, f->len);
	ddi_rule_input in = {f->proto, f->file_name, r->true_type, f->len, known,
			     ddi_is_highly_suspicious(f->data, f->len)};
	ddi_rule_result res;
	ddi_rules_eval(sb->o.ruleset, &in, &res);
	r->rule = res.rule;
	r->risk = -1;
	r->analyzer = NULL;
	if (known) {
		/* DDI's own pattern detection: a verdict without the sandbox */
		r->state = "done";
		r->reason = "known malware: not submitted";
		r->risk = ddi_local_verdict(f->data, f->len, r->threat, sizeof(r->threat));
		r->analyzer = "pattern";
	} else if (f->truncated) {
		r->state = "not_submitted";
		r->reason = "incomplete file (capture gap or size limit)";
	} else if (!res.submit) {
		r->state = "not_submitted";
		r->reason = "file submission rules: do not submit";
	} else if (f->len > sb->o.max_size) {
		r->state = "not_submitted";
		r->reason = "larger than the submission size limit";
	} else if ((r->risk = cached_verdict(st, r->sha1, r->threat, sizeof(r->threat))) >= 0) {
		r->state = "done";
		r->reason = "verdict already known";
		r->analyzer = "cache";
	} else if ((size_t)count_pending(st) >= sb->o.max_queued) {
		r->state = "dropped";
		r->reason = "analysis queue full";
	} else {
		r->state = "queued";
		r->reason = NULL;
		r->keep_data = 1;
	}
}

static void submit_carved(const ddi_carved *f, ddi_submitter *sb);

/* The one door of carved files: names and URLs from the wire may be in any
 * encoding (a Latin-1 Content-Disposition), and are carried as UTF-8 into the
 * store, the timeline, the API and DDAN. */
void ddi_submit_carved(const ddi_carved *raw, void *cls)
{
	ddi_carved f = *raw;
	char *name = utf8_sanitize(raw->file_name), *url = raw->url ? utf8_sanitize(raw->url) : NULL;
	char *host = raw->host ? utf8_sanitize(raw->host) : NULL;
	char *from = raw->mail_from ? utf8_sanitize(raw->mail_from) : NULL;
	f.file_name = name;
	f.url = url;
	f.host = host;
	f.mail_from = from;
	submit_carved(&f, cls);
	free(name);
	free(url);
	free(host);
	free(from);
}

static void submit_carved(const ddi_carved *f, ddi_submitter *sb)
{
	ctd_err err;
	store *st = store_get(&err);
	if (!st) {
		log_error("ddi.carve.store", "file=\"%s\" error=\"%s\"", f->file_name, err.msg);
		return;
	}
	carve_row r = {0};
	r.f = f;
	hash_hex(HASH_SHA1, f->data, f->len, r.sha1);
	str_upper(r.sha1);
	hash_hex(HASH_SHA256, f->data, f->len, r.sha256);
	hash_hex(HASH_MD5, f->data, f->len, r.md5);
	classify(sb, st, &r);
	int64_t id = insert_file(st, &r, &err);
	if (id < 0) {
		log_error("ddi.carve.store", "file=\"%s\" sha1=%s error=\"%s\"", f->file_name, r.sha1,
			  err.msg);
		return;
	}
	/* Files the rules pass over are only logged; what DDI acts on also goes
	 * to the shared timeline. */
	int acted = strcmp(r.state, "not_submitted") != 0;
	log_event(acted ? LOG_LVL_INFO : LOG_LVL_DEBUG, "ddi.file.carved",
		  "id=%lld proto=%s name=\"%s\" size=%zu sha1=%s type=%s rule=\"%s\" state=%s url=\"%s\"",
		  (long long)id, f->proto, f->file_name, f->len, r.sha1, r.true_type, r.rule, r.state,
		  f->url ? f->url : "");
	if (acted) {
		json_t *detail = json_pack(
			"{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s?, s:s, s:s}", "id", (json_int_t)id,
			"proto", f->proto, "file_name", f->file_name, "size", (json_int_t)f->len,
			"true_type", r.true_type, "rule", r.rule, "state", r.state, "url", f->url,
			"client_ip", f->client_ip, "server_ip", f->server_ip);
		events_append(st, "ddi", "file.carved", r.sha1, detail, NULL);
		json_decref(detail);
	}

	pthread_mutex_lock(&sb->mu);
	sb->carved++;
	if (!strcmp(r.state, "queued"))
		sb->queued++;
	else if (!strcmp(r.state, "dropped"))
		sb->dropped++;
	else if (!strcmp(r.state, "not_submitted"))
		sb->not_submitted++;
	pthread_mutex_unlock(&sb->mu);

	if (r.risk >= RISK_MEDIUM) {
		ddi_file_ref ref;
		ref_from_carved(f, r.sha1, id, &ref);
		const char *by = !strcmp(r.analyzer, "pattern") ? "Known malware" : "Virtual Analyzer";
		if (ddi_detection_add(st, &ref, by, r.risk, r.threat, &err) < 0 ||
		    ddi_so_from_file(st, &ref, r.risk, sb->o.so_types, sb->o.so_expiry_ms, &err) < 0)
			log_error("ddi.detection.store", "sha1=%s error=\"%s\"", r.sha1, err.msg);
	}
	if (!strcmp(r.state, "queued"))
		wake(sb);
}

/* ---- verdicts */

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

typedef struct owned_ref {
	ddi_file_ref ref;
	char *str[7];
} owned_ref;

static int load_ref(store *st, int64_t id, owned_ref *o, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT sha1, file_name, proto, url, host, client_ip, server_ip,"
				     " client_port, server_port FROM ddi_files WHERE id = ?",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return ctd_fail(err, CTD_ENOTFOUND, "file %lld not found", (long long)id);
	}
	for (int i = 0; i < 7; i++)
		o->str[i] = col_dup(s, i);
	o->ref = (ddi_file_ref){id,	   o->str[0], o->str[1], o->str[2], o->str[3],
				o->str[4], o->str[5], o->str[6], sqlite3_column_int(s, 7),
				sqlite3_column_int(s, 8)};
	sqlite3_reset(s);
	return 0;
}

static void free_ref(owned_ref *o)
{
	for (int i = 0; i < 7; i++)
		free(o->str[i]);
}

static void finish(ddi_submitter *sb, store *st, int64_t id, const char *state, int risk,
		   const char *threat)
{
	ctd_err err;
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddi_files SET state = ?, risk = ?, threat = ?, done_ms = ?,"
				     " data = NULL WHERE id = ?",
				     &err);
	if (!s)
		goto fail;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	if (risk >= 0)
		sqlite3_bind_int(s, 2, risk);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_text(s, 3, threat, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, time_now_ms());
	sqlite3_bind_int64(s, 5, id);
	if (store_step_done(st, s, &err) < 0)
		goto fail;
	owned_ref o = {0};
	if (load_ref(st, id, &o, &err) < 0)
		goto fail;
	log_info("ddi.file.verdict", "id=%lld sha1=%s state=%s risk=%s", (long long)id, o.ref.sha1,
		 state, ddi_risk_name(risk));
	json_t *detail = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "state", state,
				   "risk", ddi_risk_name(risk), "analyzer", sb->internal ? "internal" : "ddan");
	events_append(st, "ddi", "sample.done", o.ref.sha1, detail, NULL);
	json_decref(detail);
	int rc = 0;
	if (risk >= RISK_MEDIUM)
		rc = ddi_detection_add(st, &o.ref, "Virtual Analyzer", risk, threat, &err) < 0 ||
		     ddi_so_from_file(st, &o.ref, risk, sb->o.so_types, sb->o.so_expiry_ms, &err) < 0;
	free_ref(&o);
	pthread_mutex_lock(&sb->mu);
	sb->verdicts++;
	pthread_mutex_unlock(&sb->mu);
	if (!rc)
		return;
fail:
	log_error("ddi.verdict.store", "id=%lld error=\"%s\"", (long long)id, err.msg);
}

static int set_analyzing(store *st, int64_t id, int64_t next_ms, const char *analyzer)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddi_files SET state = 'analyzing', analyzer = ?, reason = NULL,"
				     " attempts = attempts + 1, submitted_ms = ?, next_ms = ? WHERE id = ?",
				     NULL);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, analyzer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, time_now_ms());
	sqlite3_bind_int64(s, 3, next_ms);
	sqlite3_bind_int64(s, 4, id);
	return store_step_done(st, s, NULL);
}

static void set_retry(store *st, int64_t id, const char *state, int64_t next_ms, const char *why)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE ddi_files SET state = ?, reason = ?, next_ms = ?,"
				     " attempts = attempts + 1 WHERE id = ?",
				     NULL);
	if (!s)
		return;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, why, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, next_ms);
	sqlite3_bind_int64(s, 4, id);
	store_step_done(st, s, NULL);
}

/* ---- DDAN health */

static void ddan_failed(ddi_submitter *sb, store *st, const char *what, const ctd_err *err)
{
	pthread_mutex_lock(&sb->mu);
	sb->backoff_until = time_now_ms() + sb->o.backoff_ms;
	int first = !sb->ddan_down;
	sb->ddan_down = 1;
	snprintf(sb->last_error, sizeof(sb->last_error), "%s: %s", what, err->msg);
	pthread_mutex_unlock(&sb->mu);
	sb->registered = 0; /* register again when it is back */
	log_warn("ddi.ddan.down", "call=%s error=\"%s\" pause_ms=%lld", what, err->msg,
		 (long long)sb->o.backoff_ms);
	if (first) {
		json_t *d = json_pack("{s:s, s:s, s:s, s:I}", "url", sb->o.ddan_url, "call", what,
				      "error", err->msg, "pause_ms", (json_int_t)sb->o.backoff_ms);
		events_append(st, "ddi", "ddan.unreachable", sb->o.ddan_url, d, NULL);
		json_decref(d);
	}
}

static void ddan_ok(ddi_submitter *sb, store *st)
{
	pthread_mutex_lock(&sb->mu);
	int was_down = sb->ddan_down;
	sb->ddan_down = 0;
	pthread_mutex_unlock(&sb->mu);
	if (was_down) {
		log_info("ddi.ddan.up", "url=%s", sb->o.ddan_url);
		events_append(st, "ddi", "ddan.reachable", sb->o.ddan_url, NULL, NULL);
	}
}

/* ---- the worker */

typedef struct due {
	int64_t id, submitted_ms;
	char sha1[SHA1_HEX_LEN];
	char *name;
	unsigned char *data;
	size_t len;
} due;

static void due_free(due *d)
{
	free(d->name);
	free(d->data);
}

static int fetch_due(store *st, const char *state, int want_data, int newest_first, due *out,
		     int max)
{
	int64_t now = time_now_ms();
	sqlite3_stmt *s = store_stmt(
		st,
		newest_first
			? "SELECT id, submitted_ms, sha1, file_name, data FROM ddi_files"
			  " WHERE state = ? AND next_ms <= ? ORDER BY id DESC LIMIT ?"
			: "SELECT id, submitted_ms, sha1, file_name, data FROM ddi_files"
			  " WHERE state = ? AND next_ms <= ? ORDER BY next_ms, id LIMIT ?",
		NULL);
	if (!s)
		return 0;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, max);
	int n = 0;
	while (n < max && sqlite3_step(s) == SQLITE_ROW) {
		due *d = &out[n++];
		memset(d, 0, sizeof(*d));
		d->id = sqlite3_column_int64(s, 0);
		d->submitted_ms = sqlite3_column_int64(s, 1);
		snprintf(d->sha1, sizeof(d->sha1), "%s", (const char *)sqlite3_column_text(s, 2));
		d->name = col_dup(s, 3);
		if (want_data && sqlite3_column_type(s, 4) == SQLITE_BLOB) {
			d->len = (size_t)sqlite3_column_bytes(s, 4);
			d->data = xmalloc(d->len ? d->len : 1);
			memcpy(d->data, sqlite3_column_blob(s, 4), d->len);
		}
	}
	sqlite3_reset(s);
	return n;
}

static int submit_one(ddi_submitter *sb, store *st)
{
	due d;
	if (fetch_due(st, "queued", 1, 1, &d, 1) == 0)
		return 0;
	int64_t now = time_now_ms();
	if (sb->internal) {
		set_analyzing(st, d.id, now + sb->o.internal_va_ms, "internal");
		due_free(&d);
		return 1;
	}
	ctd_err err;
	const char *call = "register";
	int dup = -1;
	if (sb->registered || dtas_register(&sb->client, &err) == 0) {
		sb->registered = 1;
		call = "check_duplicate_sample";
		dup = dtas_is_duplicate(&sb->client, d.sha1, &err);
	}
	if (dup == 0) {
		char sha1[41];
		call = "upload_sample";
		if (dtas_upload_sample(&sb->client, d.data, d.len, d.name, 0, sha1, &err) < 0)
			dup = -1;
	}
	if (dup < 0) {
		ddan_failed(sb, st, call, &err);
		set_retry(st, d.id, "queued", time_now_ms() + sb->o.backoff_ms, sb->last_error);
	} else {
		ddan_ok(sb, st);
		set_analyzing(st, d.id, now + sb->o.poll_ms, "ddan");
		pthread_mutex_lock(&sb->mu);
		if (dup == 1)
			sb->duplicates++;
		else
			sb->uploaded++;
		pthread_mutex_unlock(&sb->mu);
		log_info("ddi.file.submitted", "id=%lld sha1=%s duplicate=%d url=%s", (long long)d.id,
			 d.sha1, dup, sb->o.ddan_url);
	}
	due_free(&d);
	return 1;
}

static void poll_internal(ddi_submitter *sb, store *st, due *d)
{
	char threat[128];
	int risk = ddi_local_verdict(d->data ? d->data : (const unsigned char *)"", d->len, threat,
				     sizeof(threat));
	finish(sb, st, d->id, "done", risk, threat);
}

/* The threat name of a finished sample: VirusName of DDAN's report
 * (get_report, REPORTS/FILE_ANALYZE_REPORT), else the risk. Best effort: the
 * verdict already came from the brief report. */
static void report_threat(ddi_submitter *sb, const char *sha1, int risk, char *out, size_t outlen)
{
	snprintf(out, outlen, "Virtual Analyzer: %s risk", ddi_risk_name(risk));
	char *h_sha1 = xasprintf("X-DTAS-SHA1: %s", sha1);
	const char *extra[] = {h_sha1, "X-DTAS-ReportType: 0", NULL};
	http_response r = {0};
	ctd_err err;
	if (dtas_call(&sb->client, "GET", "get_report", extra, NULL, 0, NULL, 0, &r, &err) == 0 &&
	    r.status == 200 && r.body.len > 0) {
		dtas_xml_init();
		xmlDoc *doc = xmlReadMemory(r.body.data, (int)r.body.len, "report.xml", NULL,
					    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		for (xmlNode *rep = root ? root->children : NULL; rep; rep = rep->next) {
			if (rep->type != XML_ELEMENT_NODE ||
			    strcmp((const char *)rep->name, "FILE_ANALYZE_REPORT") != 0)
				continue;
			for (xmlNode *f = rep->children; f; f = f->next) {
				if (f->type != XML_ELEMENT_NODE || strcmp((const char *)f->name, "VirusName"))
					continue;
				xmlChar *name = xmlNodeGetContent(f);
				if (name && *name)
					snprintf(out, outlen, "%s", (const char *)name);
				xmlFree(name);
			}
			break; /* the first report is the sample itself */
		}
		xmlFreeDoc(doc);
	}
	http_response_free(&r);
	free(h_sha1);
}

static int poll_due(ddi_submitter *sb, store *st)
{
	due ds[POLL_BATCH];
	int n = fetch_due(st, "analyzing", sb->internal, 0, ds, POLL_BATCH);
	if (n == 0)
		return 0;
	if (sb->internal) {
		for (int i = 0; i < n; i++)
			poll_internal(sb, st, &ds[i]);
	} else {
		const char *sha1s[POLL_BATCH];
		dtas_brief out[POLL_BATCH];
		for (int i = 0; i < n; i++)
			sha1s[i] = ds[i].sha1;
		ctd_err err;
		if (dtas_brief_report(&sb->client, sha1s, (size_t)n, out, &err) < 0) {
			ddan_failed(sb, st, "get_brief_report", &err);
		} else {
			ddan_ok(sb, st);
			int64_t now = time_now_ms();
			for (int i = 0; i < n; i++) {
				if (out[i].status == 4) {
					char threat[128] = "";
					if (out[i].risk_level >= RISK_MEDIUM)
						report_threat(sb, ds[i].sha1, out[i].risk_level, threat,
							      sizeof(threat));
					finish(sb, st, ds[i].id, "done", out[i].risk_level, threat);
				} else if (out[i].status == 5 || out[i].status == 6)
					finish(sb, st, ds[i].id, out[i].status == 5 ? "error" : "timeout",
					       -1, "");
				else if (ds[i].submitted_ms + sb->o.va_timeout_ms < now)
					finish(sb, st, ds[i].id, "timeout", -1, "");
				else if (out[i].status <= 1) /* DDAN does not know it: send again */
					set_retry(st, ds[i].id, "queued", now, "not found on DDAN");
				else
					set_retry(st, ds[i].id, "analyzing", now + sb->o.poll_ms, NULL);
			}
		}
	}
	for (int i = 0; i < n; i++)
		due_free(&ds[i]);
	return n;
}

/* One pass; returns when to look again (a new file wakes the worker sooner). */
static int64_t submit_job(void *arg)
{
	ddi_submitter *sb = arg;
	ctd_err err;
	store *st = store_get(&err);
	if (!st) {
		log_error("ddi.submit.store", "error=\"%s\"", err.msg);
		return 1000;
	}
	int64_t now = time_now_ms();
	if (now >= sb->next_expiry_ms) {
		ddi_so_expire_due(st, now, NULL);
		sb->next_expiry_ms = now + 1000;
	}
	pthread_mutex_lock(&sb->mu);
	int64_t backoff = sb->backoff_until;
	pthread_mutex_unlock(&sb->mu);
	if (now < backoff)
		return backoff - now < 1000 ? backoff - now : 1000;
	int did = poll_due(sb, st);
	did += submit_one(sb, st);
	return did ? 0 : sb->idle_ms;
}

ddi_submitter *ddi_submit_start(const ddi_submit_opts *o)
{
	ddi_submitter *sb = xcalloc(1, sizeof(*sb));
	sb->o = *o;
	sb->internal = strcmp(o->mode, "ddan") != 0;
	pthread_mutex_init(&sb->mu, NULL);
	if (!sb->internal)
		dtas_client_init(&sb->client, &(dtas_client_spec){
			.base_url = o->ddan_url,
			.api_key = o->ddan_api_key,
			.client_uuid = o->client_uuid,
			.product_name = "DDI",
			.hostname = o->hostname,
			.source_id = "2", /* ours: no public value for DDI */
			.source_name = "Deep Discovery Inspector",
			.http = {.timeout_ms = 10000, .verify_tls = o->verify_tls, .ca_file = o->ca_file},
		});
	/* Nothing due: look again when the next verdict may be in. */
	sb->idle_ms = o->poll_ms;
	if (sb->internal && o->internal_va_ms < sb->idle_ms)
		sb->idle_ms = o->internal_va_ms > 10 ? o->internal_va_ms : 10;
	log_info("ddi.submit.started", "mode=%s ddan=%s rules=%s", sb->internal ? "internal" : "ddan",
		 sb->internal ? "" : o->ddan_url, o->ruleset);
	ctd_err err;
	sb->worker = worker_start("ddi submit", sb->idle_ms, submit_job, sb, &err);
	if (!sb->worker)
		fatal("ddi.submit.start", "error=\"%s\"", err.msg);
	return sb;
}

json_t *ddi_submit_status(ddi_submitter *sb)
{
	pthread_mutex_lock(&sb->mu);
	int64_t now = time_now_ms();
	json_t *j = json_pack(
		"{s:s, s:s, s:s, s:b, s:I, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "mode",
		sb->internal ? "internal" : "ddan", "ddan_url", sb->internal ? "" : sb->o.ddan_url,
		"rules", sb->o.ruleset, "ddan_down", sb->ddan_down, "paused_ms",
		(json_int_t)(sb->backoff_until > now ? sb->backoff_until - now : 0), "last_error",
		*sb->last_error ? sb->last_error : NULL, "carved", (json_int_t)sb->carved, "queued",
		(json_int_t)sb->queued, "not_submitted", (json_int_t)sb->not_submitted, "dropped",
		(json_int_t)sb->dropped, "uploaded", (json_int_t)sb->uploaded, "duplicates",
		(json_int_t)sb->duplicates, "verdicts", (json_int_t)sb->verdicts);
	pthread_mutex_unlock(&sb->mu);
	return j;
}

void ddi_submit_stop(ddi_submitter *sb)
{
	if (!sb)
		return;
	worker_stop(sb->worker);
	dtas_client_free(&sb->client);
	pthread_mutex_destroy(&sb->mu);
	free(sb);
}
