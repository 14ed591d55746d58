/* ddan_api.c - the DTAS "Web Service API" under /web_service/sample_upload/
 * (reference §1.2): each service with its method, X-DTAS-* parameters, body
 * and status codes (102 while analysing, 420 bad upload, 421 not found), plus
 * the console JSON routes. */
#include "ddan.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dtas.h"
#include "hash.h"
#include "log.h"
#include "sofeed.h"

#define XML_CTYPE "text/xml; charset=utf-8"
#define TEXT_CTYPE "text/plain; charset=utf-8"

static void fail_err(http_resp *resp, const ctd_err *err)
{
	log_warn("dtas.request_failed", "code=%s detail=\"%s\"", ctd_errcode_name(err->code), err->msg);
	http_resp_ctd_err(resp, err);
}

/* The X-DTAS-SHA1 parameter (get_black_list_by_sha1 spells it X_DTAS_SHA1). */
static int want_sha1(http_req *req, http_resp *resp, char sha1[41])
{
	const char *v = http_req_header(req, "X-DTAS-SHA1");
	if (!v)
		v = http_req_header(req, "X_DTAS_SHA1");
	if (!v) {
		http_resp_error(resp, 400, "missing_header", "missing header X-DTAS-SHA1");
		return -1;
	}
	if (ddan_sha1_norm(v, sha1) != 0) {
		http_resp_error(resp, 400, "invalid", "X-DTAS-SHA1 is not a SHA-1 (40 hex digits): %.60s", v);
		return -1;
	}
	return 0;
}

static int int_header(http_req *req, http_resp *resp, const char *name, long long def,
		      long long *out)
{
	const char *v = http_req_header(req, name);
	*out = def;
	if (!v || !*v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	while (*end == ' ')
		end++;
	if (end == v || *end) {
		http_resp_error(resp, 400, "invalid", "%s must be a number, not \"%.40s\"", name, v);
		return -1;
	}
	*out = n;
	return 0;
}

/* `sha1;sha1;...` (also tolerating ',' and white space) as normalised SHA-1s. */
static char **split_sha1s(const char *body, size_t *n)
{
	char **out = NULL;
	*n = 0;
	char *copy = xstrdup(body ? body : "");
	char *save = NULL;
	for (char *tok = strtok_r(copy, ";, \t\r\n", &save); tok; tok = strtok_r(NULL, ";, \t\r\n", &save)) {
		char sha1[41];
		if (ddan_sha1_norm(tok, sha1) != 0 || *n >= 10000)
			continue;
		out = xrealloc(out, (*n + 1) * sizeof *out);
		out[(*n)++] = xstrdup(sha1);
	}
	free(copy);
	return out;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* ---- registration and connectivity -------------------------------------- */

static void h_register(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ddan_submitter_in in = {
		.client_uuid = http_req_header(req, "X-DTAS-ClientUUID"),
		.product_name = http_req_header(req, "X-DTAS-ProductName"),
		.hostname = http_req_header(req, "X-DTAS-ClientHostname"),
		.source_id = http_req_header(req, "X-DTAS-SourceID"),
		.source_name = http_req_header(req, "X-DTAS-SourceName"),
		.protocol = http_req_header(req, "X-DTAS-ProtocolVersion"),
	};
	if (!in.client_uuid || !*in.client_uuid) {
		http_resp_error(resp, 400, "missing_header", "missing header X-DTAS-ClientUUID");
		return;
	}
	ctd_err err = {0};
	if (ddan_submitter_register(st, &in, &err) != 0)
		return fail_err(resp, &err);
	log_info("submitter.registered", "uuid=%s product=\"%s\"", in.client_uuid,
		 in.product_name ? in.product_name : "");
	http_resp_text(resp, 200, TEXT_CTYPE, "");
}

static void h_unregister(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *uuid = http_req_header(req, "X-DTAS-ClientUUID");
	if (!uuid || !*uuid) {
		http_resp_error(resp, 400, "missing_header", "missing header X-DTAS-ClientUUID");
		return;
	}
	ctd_err err = {0};
	if (ddan_submitter_unregister(st, uuid, &err) != 0)
		return fail_err(resp, &err);
	http_resp_text(resp, 200, TEXT_CTYPE, "");
}

static void h_test_connection(http_req *req, http_resp *resp)
{
	if (daemon_req_store(resp))
		http_resp_text(resp, 200, TEXT_CTYPE, "");
}

static void h_check_duplicate(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	long long minutes;
	if (!st || int_header(req, resp, "X-DTAS-LastMinute", 0, &minutes) != 0)
		return;
	size_t n;
	char **list = split_sha1s(req->body, &n);
	sbuf out = {0};
	ctd_err err = {0};
	int rc = ddan_sample_known(st, list, n, (long)minutes, &out, &err);
	free_list(list, n);
	if (rc != 0) {
		sbuf_free(&out);
		return fail_err(resp, &err);
	}
	/* no match: a completely empty body (Siemplify reads any text as "known") */
	http_resp_bytes(resp, 200, TEXT_CTYPE, out.data ? out.data : "", out.len);
	sbuf_free(&out);
}

/* ---- submissions ---------------------------------------------------------- */

static void submitted(http_req *req)
{
	ddan_app *app = req->app;
	ddan_engine_kick(app->engine);
}

/* A URL part: trimmed of surrounding white space. */
static char *trimmed(const char *data, size_t len)
{
	while (len && isspace((unsigned char)*data))
		data++, len--;
	while (len && isspace((unsigned char)data[len - 1]))
		len--;
	return xstrndup(data, len);
}

/* Validate one archive item against its meta before anything is stored. */
static int check_item(http_resp *resp, store *st, const ddan_upload_item *it)
{
	char *exist = ddan_meta_get(it->meta, "SampleFileExist");
	char *meta_sha1 = ddan_meta_get(it->meta, "SampleFileSHA1");
	int says_exists = !exist || strcmp(exist, "0") != 0;
	int rc = 0;
	char norm[41];
	if (meta_sha1 && *meta_sha1 && (ddan_sha1_norm(meta_sha1, norm) != 0 || strcmp(norm, it->sha1))) {
		http_resp_error(resp, 400, "invalid", "%s.meta: SampleFileSHA1=%.48s does not name this sample",
				it->sha1, meta_sha1);
		rc = -1;
	} else if (says_exists && !it->has_dat) {
		http_resp_error(resp, 420, "bad_request",
				"Bad Request: %s.meta says SampleFileExist=1 but %s.dat is not in the archive",
				it->sha1, it->sha1);
		rc = -1;
	} else if (it->has_dat) {
		char got[41];
		hash_hex(HASH_SHA1, it->dat, it->dat_len, got);
		str_upper(got);
		if (strcmp(got, it->sha1)) {
			http_resp_error(resp, 400, "invalid", "%s.dat has SHA-1 %s, not the one its name says",
					it->sha1, got);
			rc = -1;
		}
	} else {
		int status, risk;
		ctd_err err = {0};
		if (ddan_sample_status(st, it->sha1, &status, &risk, &err) != 0) {
			fail_err(resp, &err);
			rc = -1;
		} else if (status == DDAN_NOT_FOUND) {
			http_resp_error(resp, 420, "bad_request",
					"Bad Request: %s.meta says SampleFileExist=0 but this Analyzer has "
					"no sample %s: upload the .dat",
					it->sha1, it->sha1);
			rc = -1;
		}
	}
	free(exist);
	free(meta_sha1);
	return rc;
}

static int store_item(http_req *req, store *st, const ddan_upload_item *it, ctd_err *err)
{
	char *type = ddan_meta_get(it->meta, "SampleType");
	char *name = ddan_meta_get(it->meta, "OrigFileName");
	char *pass = ddan_meta_get(it->meta, "Archpassword");
	char *uuid = ddan_meta_get(it->meta, "ClientUUID");
	char *source = ddan_meta_get(it->meta, "SourceID");
	ddan_sample_in in = {
		.sample_type = type && !strcmp(type, "1"),
		.orig_name = name,
		.data = it->has_dat ? it->dat : NULL,
		.len = it->has_dat ? it->dat_len : 0,
		.archive_password = pass,
		.meta = it->meta,
		.log = it->log,
		.client_uuid = uuid && *uuid ? uuid : http_req_header(req, "X-DTAS-ClientUUID"),
		.source_id = source && *source ? source : http_req_header(req, "X-DTAS-SourceID"),
		.source_name = http_req_header(req, "X-DTAS-SourceName"),
	};
	memcpy(in.sha1, it->sha1, 41);
	char *url = NULL;
	if (in.sample_type == 1 && it->has_dat && !name) /* a URL sample is named by its URL */
		in.orig_name = url = trimmed((const char *)it->dat, it->dat_len);
	int rc = ddan_sample_submit(st, &in, err) < 0 ? -1 : 0;
	free(type), free(name), free(pass), free(uuid), free(source), free(url);
	return rc;
}

/* The archive of upload_sample: a raw PUT body (PHP, Java) or the file part of
 * a multipart body (dd-py). */
static int upload_body(http_req *req, const char **data, size_t *len)
{
	const char *ctype = http_req_header(req, "Content-Type");
	if (!ctype || strncasecmp(ctype, "multipart/", 10)) {
		*data = req->body;
		*len = req->body_len;
		return 0;
	}
	static const char *const fields[] = {"Archive.zip", "archive", "file", "uploadsample",
					     "Archive.tgz"};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (http_req_form(req, fields[i], data, len, NULL, NULL) == 0)
			return 0;
	return -1;
}

static void h_upload_sample(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *data;
	size_t len;
	if (upload_body(req, &data, &len) != 0) {
		http_resp_error(resp, 400, "invalid",
				"multipart upload_sample without an archive part (Archive.zip)");
		return;
	}
	if (len == 0) {
		http_resp_error(resp, 400, "invalid", "upload_sample needs the archive as the body");
		return;
	}
	const char *want = http_req_header(req, "X-DTAS-Archive-SHA1");
	char got[41];
	hash_hex(HASH_SHA1, data, len, got);
	if (want && *want && strcasecmp(want, got)) {
		http_resp_error(resp, 400, "invalid",
				"X-DTAS-Archive-SHA1 %.48s does not match the archive received (%s)", want, got);
		return;
	}
	ddan_upload up;
	ctd_err err = {0};
	ddan_app *app = req->app;
	if (ddan_upload_parse(data, len, (size_t)app->cfg->base.max_body, &up, &err) != 0)
		return fail_err(resp, &err);
	for (size_t i = 0; i < up.n; i++)
		if (check_item(resp, st, &up.items[i]) != 0) {
			ddan_upload_free(&up);
			return;
		}
	int rc = 0;
	for (size_t i = 0; i < up.n && rc == 0; i++)
		rc = store_item(req, st, &up.items[i], &err);
	ddan_upload_free(&up);
	if (rc != 0)
		return fail_err(resp, &err);
	submitted(req);
	http_resp_text(resp, 200, TEXT_CTYPE, "");
}

static void h_simple_upload(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	long long type;
	if (!st || int_header(req, resp, "X-DTAS-SampleType", 0, &type) != 0)
		return;
	if (type != 0 && type != 1) {
		http_resp_error(resp, 400, "invalid", "X-DTAS-SampleType must be 0 (file) or 1 (URL)");
		return;
	}
	const char *data, *filename = NULL;
	size_t len;
	if (http_req_form(req, "uploadsample", &data, &len, &filename, NULL) != 0) {
		http_resp_error(resp, 400, "invalid",
				"multipart/form-data field \"uploadsample\" is missing");
		return;
	}
	char *url = type == 1 ? trimmed(data, len) : NULL;
	char raw_sha1[41], sha1[41];
	hash_hex(HASH_SHA1, data, len, raw_sha1);
	str_upper(raw_sha1);
	if (url) {
		hash_hex(HASH_SHA1, url, strlen(url), sha1);
		str_upper(sha1);
	} else {
		memcpy(sha1, raw_sha1, 41);
	}
	const char *hdr = http_req_header(req, "X-DTAS-SHA1");
	char claimed[41];
	int use_raw = 0;
	if (hdr && *hdr) {
		if (ddan_sha1_norm(hdr, claimed) != 0 || (strcmp(claimed, sha1) && strcmp(claimed, raw_sha1))) {
			http_resp_error(resp, 400, "invalid",
					"X-DTAS-SHA1 %.48s does not match the uploaded %s (%s)", hdr,
					url ? "URL" : "file", sha1);
			free(url);
			return;
		}
		use_raw = url && !strcmp(claimed, raw_sha1) && strcmp(claimed, sha1);
	}
	if (url && !*url) {
		http_resp_error(resp, 400, "invalid", "the uploadsample part holds no URL");
		free(url);
		return;
	}
	ddan_sample_in in = {
		.sample_type = (int)type,
		.orig_name = url ? url : filename,
		.data = url && !use_raw ? url : data,
		.len = url && !use_raw ? strlen(url) : len,
		.client_uuid = http_req_header(req, "X-DTAS-ClientUUID"),
		.source_id = http_req_header(req, "X-DTAS-SourceID"),
		.source_name = http_req_header(req, "X-DTAS-SourceName"),
	};
	memcpy(in.sha1, use_raw ? raw_sha1 : sha1, 41);
	ctd_err err = {0};
	int rc = ddan_sample_submit(st, &in, &err);
	free(url);
	if (rc < 0)
		return fail_err(resp, &err);
	submitted(req);
	http_resp_text(resp, 200, TEXT_CTYPE, "");
}

/* ---- results -------------------------------------------------------------- */

static void h_brief(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	size_t n;
	char **list = split_sha1s(req->body, &n);
	if (n == 0) {
		free_list(list, n);
		http_resp_error(resp, 400, "invalid", "the body must list SHA-1s: sha1;sha1;...");
		return;
	}
	sbuf out = {0};
	ddan_brief_xml_begin(&out);
	ctd_err err = {0};
	for (size_t i = 0; i < n; i++) {
		int status, risk;
		if (ddan_sample_status(st, list[i], &status, &risk, &err) != 0) {
			free_list(list, n);
			sbuf_free(&out);
			return fail_err(resp, &err);
		}
		ddan_brief_xml_add(&out, list[i], status, risk);
	}
	ddan_brief_xml_end(&out);
	free_list(list, n);
	http_resp_bytes(resp, 200, XML_CTYPE, out.data, out.len);
	sbuf_free(&out);
}

/* The sample named by X-DTAS-SHA1, once analysed: 421 unknown, 102 still
 * analysing (no body; libcurl clients should poll the brief report). */
static json_t *finished_sample(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	char sha1[41];
	if (!st || want_sha1(req, resp, sha1) != 0)
		return NULL;
	ctd_err err = {0};
	json_t *s = ddan_sample_load(st, sha1, &err);
	if (!s) {
		if (err.code == CTD_ENOTFOUND)
			http_resp_text(resp, 421, TEXT_CTYPE, "Not Found: no sample with this SHA-1\n");
		else
			fail_err(resp, &err);
		return NULL;
	}
	int status = (int)json_integer_value(json_object_get(s, "status"));
	if (status == DDAN_ARRIVED || status == DDAN_PROCESSING) {
		json_decref(s);
		http_resp_bytes(resp, 102, NULL, "", 0);
		return NULL;
	}
	return s;
}

/* get_report's recent answers. Loading a sample (its result JSON parsed)
 * and building its REPORTS document is most of a call, and an integration
 * polls the same few reports: an answer is kept by (SHA-1, report type) and
 * served again while the sample's stamp (ddan_sample_stamp: one indexed
 * read) is unchanged. A direct mapped table of a few slots. */
#define REPORT_SLOTS 16

typedef struct kept_report {
	char sha1[41];
	long long rtype;
	int64_t stamp[3];
	char *xml;
	size_t len;
} kept_report;

static kept_report kept_reports[REPORT_SLOTS];
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static kept_report *report_slot(const char *sha1, long long rtype)
{
	unsigned h = (unsigned)rtype;
	for (const char *p = sha1; *p; p++)
		h = h * 31 + (unsigned char)*p;
	return &kept_reports[h % REPORT_SLOTS];
}

/* 1 when the kept answer is still the sample's: it is in resp. */
static int report_kept(const char *sha1, long long rtype, const int64_t stamp[3],
		       http_resp *resp)
{
	pthread_mutex_lock(&kept_lock);
	kept_report *k = report_slot(sha1, rtype);
	int hit = k->xml && k->rtype == rtype && !strcmp(k->sha1, sha1) &&
		  !memcmp(k->stamp, stamp, sizeof k->stamp);
	if (hit)
		http_resp_bytes(resp, 200, XML_CTYPE, k->xml, k->len);
	pthread_mutex_unlock(&kept_lock);
	return hit;
}

static void report_keep(const char *sha1, long long rtype, json_t *sample, const char *xml,
			size_t len)
{
	static const char *const stamp_keys[] = {"status", "started_ms", "completed_ms"};
	pthread_mutex_lock(&kept_lock);
	kept_report *k = report_slot(sha1, rtype);
	free(k->xml);
	memcpy(k->sha1, sha1, sizeof k->sha1);
	k->rtype = rtype;
	for (int i = 0; i < 3; i++)
		k->stamp[i] = json_integer_value(json_object_get(sample, stamp_keys[i]));
	k->xml = xmalloc(len);
	memcpy(k->xml, xml, len);
	k->len = len;
	pthread_mutex_unlock(&kept_lock);
}

static void h_get_report(http_req *req, http_resp *resp)
{
	long long rtype;
	char sha1[41];
	int64_t stamp[3];
	ctd_err err = {0};
	if (int_header(req, resp, "X-DTAS-ReportType", 0, &rtype) != 0)
		return;
	store *st = daemon_req_store(resp);
	if (!st || want_sha1(req, resp, sha1) != 0)
		return;
	if (ddan_sample_stamp(st, sha1, stamp, &err) == 0 && report_kept(sha1, rtype, stamp, resp))
		return;
	json_t *s = finished_sample(req, resp);
	if (!s)
		return;
	size_t len;
	char *xml = ddan_report_xml(s, (int)rtype, &len);
	report_keep(sha1, rtype, s, xml, len);
	http_resp_bytes(resp, 200, XML_CTYPE, xml, len);
	free(xml);
	json_decref(s);
}

static void h_event_log(http_req *req, http_resp *resp)
{
	json_t *s = finished_sample(req, resp);
	if (!s)
		return;
	size_t len;
	char *xml = ddan_event_log_xml(s, &len);
	http_resp_bytes(resp, 200, XML_CTYPE, xml, len);
	free(xml);
	json_decref(s);
}

static void h_openioc(http_req *req, http_resp *resp)
{
	json_t *s = finished_sample(req, resp);
	if (!s)
		return;
	size_t len;
	char *xml = ddan_openioc_xml(s, &len);
	http_resp_bytes(resp, 200, XML_CTYPE, xml, len);
	free(xml);
	json_decref(s);
}

static void h_screenshot(http_req *req, http_resp *resp)
{
	json_t *s = finished_sample(req, resp);
	if (!s)
		return;
	size_t len;
	const unsigned char *png = ddan_screenshot_png(&len);
	http_resp_bytes(resp, 200, "image/png", png, len);
	json_decref(s);
}

static const char *archive_type(http_req *req)
{
	const char *t = http_req_header(req, "X-DTAS-ArchiveType");
	return t && *t ? t : "tgz";
}

static void send_archive(http_resp *resp, const char *format, const char *password,
			 const char *member, const void *data, size_t len)
{
	sbuf out = {0};
	ctd_err err = {0};
	if (ddan_pack(format, password, member, data, len, &out, &err) != 0) {
		sbuf_free(&out);
		return fail_err(resp, &err);
	}
	http_resp_bytes(resp, 200, !strcmp(format, "zip") ? "application/zip" : "application/x-compressed",
			out.data, out.len);
	sbuf_free(&out);
}

static void h_pcap(http_req *req, http_resp *resp)
{
	json_t *s = finished_sample(req, resp);
	if (!s)
		return;
	sbuf pcap = {0};
	ctd_err err = {0};
	char member[64];
	snprintf(member, sizeof member, "%s.pcap", json_string_value(json_object_get(s, "sha1")));
	if (ddan_pcap_bytes(&pcap, &err) != 0)
		fail_err(resp, &err);
	else
		send_archive(resp, archive_type(req), NULL, member, pcap.data, pcap.len);
	sbuf_free(&pcap);
	json_decref(s);
}

static void h_get_sample(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	char sha1[41];
	long long encrypted;
	if (!st || want_sha1(req, resp, sha1) != 0 ||
	    int_header(req, resp, "X-DTAS-ArchiveEncrypted", 0, &encrypted) != 0)
		return;
	sbuf data = {0};
	ctd_err err = {0};
	if (ddan_sample_data(st, sha1, &data, &err) != 0) {
		sbuf_free(&data);
		if (err.code == CTD_ENOTFOUND)
			http_resp_text(resp, 421, TEXT_CTYPE, "Not Found: no sample with this SHA-1\n");
		else
			fail_err(resp, &err);
		return;
	}
	send_archive(resp, archive_type(req), encrypted ? "virus" : NULL, sha1, data.data ? data.data : "",
		     data.len);
	sbuf_free(&data);
}

static void h_sample_list(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	long long type, from, to;
	if (!st || int_header(req, resp, "X-DTAS-IntervalType", 0, &type) != 0 ||
	    int_header(req, resp, "X-DTAS-IntervalStartingPoint", -1, &from) != 0 ||
	    int_header(req, resp, "X-DTAS-IntervalEndPoint", -1, &to) != 0)
		return;
	if (from < 0 || to < 0) {
		http_resp_error(resp, 400, "missing_header",
				"X-DTAS-IntervalStartingPoint and X-DTAS-IntervalEndPoint (epoch seconds) "
				"are required");
		return;
	}
	/* seconds; 13-digit values are milliseconds */
	int64_t from_ms = from >= 100000000000LL ? from : from * 1000;
	int64_t to_ms = to >= 100000000000LL ? to : to * 1000 + 999;
	ctd_err err = {0};
	json_t *rows = ddan_sample_list(st, from_ms, to_ms, type == 1, 10000, &err);
	if (!rows)
		return fail_err(resp, &err);
	sbuf out = {0};
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
		sbuf_printf(&out, "%s%s", i ? ";" : "", json_string_value(json_object_get(r, "sha1")));
	json_decref(rows);
	http_resp_bytes(resp, 200, TEXT_CTYPE, out.data ? out.data : "", out.len);
	sbuf_free(&out);
}

static void h_black_lists(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	long long after;
	if (!st || int_header(req, resp, "X-DTAS-LastQueryID", 0, &after) != 0)
		return;
	if (after < 0) {
		http_resp_error(resp, 400, "invalid", "X-DTAS-LastQueryID must be 0 or more");
		return;
	}
	ddan_app *app = req->app;
	sbuf out = {0};
	ctd_err err = {0};
	if (ddan_so_feed(st, after, (long)app->cfg->feed_page_size, &out, &err) != 0) {
		sbuf_free(&out);
		return fail_err(resp, &err);
	}
	http_resp_bytes(resp, 200, XML_CTYPE, out.data, out.len);
	sbuf_free(&out);
}

static void h_so_by_sha1(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	char sha1[41];
	if (!st || want_sha1(req, resp, sha1) != 0)
		return;
	int status, risk;
	ctd_err err = {0};
	if (ddan_sample_status(st, sha1, &status, &risk, &err) != 0)
		return fail_err(resp, &err);
	if (status == DDAN_NOT_FOUND) {
		http_resp_text(resp, 421, TEXT_CTYPE, "Not Found: no sample with this SHA-1\n");
		return;
	}
	sbuf reports = {0}, out = {0};
	int n = ddan_so_for_sample(st, sha1, &reports, &err);
	if (n < 0) {
		sbuf_free(&reports);
		return fail_err(resp, &err);
	}
	sbuf_printf(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Return>\n  <SHA1>%s</SHA1>\n", sha1);
	/* an empty <REPORTS/> breaks xmltodict-based clients: leave it out */
	if (n > 0)
		sbuf_printf(&out, "  <REPORTS>\n%s  </REPORTS>\n", reports.data);
	sbuf_puts(&out, "</Return>\n");
	http_resp_bytes(resp, 200, XML_CTYPE, out.data, out.len);
	sbuf_free(&reports);
	sbuf_free(&out);
}

/* get_black_list_by_sha1 (spec §5.9; its answer is not public, PHP's getBL
 * sends X_DTAS_SHA1): the get_black_lists document holding the active
 * suspicious objects sample sha1 produced - none for an unknown or clean
 * sample. LAST_QUERY_ID 0: a lookup, not a feed page. */
static void h_black_list_by_sha1(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	char sha1[41];
	if (!st || want_sha1(req, resp, sha1) != 0)
		return;
	sbuf out = {0};
	ctd_err err = {0};
	sofeed_xml_begin(&out);
	if (ddan_so_for_sample(st, sha1, &out, &err) < 0) {
		sbuf_free(&out);
		return fail_err(resp, &err);
	}
	sofeed_xml_end(&out, 0, 0);
	http_resp_bytes(resp, 200, XML_CTYPE, out.data, out.len);
	sbuf_free(&out);
}

/* get_exception_list: the Exceptions as REPORT elements (QA reads REPORT/ID). */
static void h_exception_list(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	sbuf out = {0};
	ctd_err err = {0};
	if (ddan_exception_list_xml(st, &out, &err) != 0) {
		sbuf_free(&out);
		return fail_err(resp, &err);
	}
	http_resp_bytes(resp, 200, XML_CTYPE, out.data, out.len);
	sbuf_free(&out);
}

/* upload_exception_list: PUT text/xml of REPORT{TYPE, VALUE, NOTE?} (the
 * body is in the checksum); answers the list as it now is. */
static void h_upload_exception_list(http_req *req, http_resp *resp)
{
	ddan_app *app = req->app;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	ctd_err err = {0};
	if (ddan_exception_upload_xml(st, req->body, req->body_len, app->cfg->so_expiry, &err) != 0)
		return fail_err(resp, &err);
	h_exception_list(req, resp);
}

/* The PDF report (its service name is not public: get_pdf_report is ours). */
static void h_pdf_report(http_req *req, http_resp *resp)
{
	json_t *s = finished_sample(req, resp);
	if (!s)
		return;
	size_t len;
	char *pdf = ddan_pdf_report(s, &len);
	http_resp_bytes(resp, 200, "application/pdf", pdf, len);
	free(pdf);
	json_decref(s);
}

/* Get Report Summary Info By Sample SRID (spec §5.12; answer shape ours). */
static void h_sample_info(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	long long srid;
	if (!st || int_header(req, resp, "X-DTAS-SRID", -1, &srid) != 0)
		return;
	if (srid < 0) {
		http_resp_error(resp, 400, "missing_header", "missing header X-DTAS-SRID");
		return;
	}
	char sha1[41];
	ctd_err err = {0};
	json_t *s = ddan_sample_sha1_by_srid(st, srid, sha1, &err) == 0 ? ddan_sample_load(st, sha1, &err)
									 : NULL;
	if (!s) {
		if (err.code == CTD_ENOTFOUND)
			http_resp_text(resp, 421, TEXT_CTYPE, "Not Found: no sample with this SRID\n");
		else
			fail_err(resp, &err);
		return;
	}
	size_t len;
	char *xml = ddan_sample_info_xml(s, &len);
	http_resp_bytes(resp, 200, XML_CTYPE, xml, len);
	free(xml);
	json_decref(s);
}

/* ---- routes ------------------------------------------------------------- */

#define DTAS(m, name, h) {m, DTAS_PREFIX name, h, &ddan_dtas_auth}
#define DTAS_UPLOAD(m, name, h) {m, DTAS_PREFIX name, h, &ddan_dtas_auth, HTTP_BODY_UPLOAD}

static const http_route routes[] = {
	DTAS("GET", "register", h_register),
	DTAS("GET", "unregister", h_unregister),
	DTAS("GET", "test_connection", h_test_connection),
	DTAS("PUT", "check_duplicate_sample", h_check_duplicate),
	DTAS_UPLOAD("PUT", "upload_sample", h_upload_sample),
	DTAS_UPLOAD("POST", "simple_upload_sample", h_simple_upload),
	DTAS("PUT", "get_brief_report", h_brief),
	DTAS("GET", "get_report", h_get_report),
	DTAS("GET", "get_sample_list", h_sample_list),
	DTAS("GET", "get_sample", h_get_sample),
	DTAS("GET", "get_black_lists", h_black_lists),
	DTAS("GET", "get_suspicious_object_by_sha1", h_so_by_sha1),
	DTAS("GET", "get_event_log", h_event_log),
	DTAS("GET", "get_sandbox_screenshot", h_screenshot),
	DTAS("GET", "get_openioc_report", h_openioc),
	DTAS("GET", "get_pcap", h_pcap),
	DTAS("GET", "query_sample_info", h_sample_info),
	DTAS("GET", "get_black_list_by_sha1", h_black_list_by_sha1),
	DTAS("GET", "get_exception_list", h_exception_list),
	DTAS("PUT", "upload_exception_list", h_upload_exception_list),
	DTAS("GET", "get_pdf_report", h_pdf_report),
	{"POST", "/api/login", session_login_handler, HTTP_PUBLIC},
	{"POST", "/api/logout", session_logout_handler},
	{"GET", "/api/about", ddan_console_about},
	{"GET", "/api/samples", ddan_console_samples},
	{"GET", "/api/dashboard", ddan_console_dashboard},
	{"GET", "/api/samples/{sha1}", ddan_console_sample},
	{"GET", "/api/samples/{sha1}/report", ddan_console_report},
	{"DELETE", "/api/samples/{sha1}", ddan_console_sample_delete},
	{"GET", "/api/submitters", ddan_console_submitters},
	{"GET", "/api/suspicious_objects", ddan_console_so_list},
	{"POST", "/api/suspicious_objects/{id}/{action}", ddan_console_so_action},
	{"DELETE", "/api/suspicious_objects/{id}", ddan_console_so_delete},
	{"GET", "/api/exceptions", ddan_console_exceptions},
	{"POST", "/api/exceptions", ddan_console_exception_add},
	{"DELETE", "/api/exceptions/{id}", ddan_console_exception_delete},
};

const http_route *ddan_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
