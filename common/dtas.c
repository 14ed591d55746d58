/* dtas.c - the DTAS ("Web Service API") wire rules both sides share: the
 * X-DTAS-Checksum, a signing client, the upload_sample archive builder and the
 * brief-report parser. Facts: shared reference ddan-web-service-api.md §1-§3, §7. */
#include "dtas.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hash.h"
#include "util.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
	xmlInitParser();
}

void dtas_xml_init(void)
{
	pthread_once(&xml_once, xml_init_once);
}

/* ---- checksum ---------------------------------------------------------- */

static int is_checksum_input(const char *name)
{
	return strncasecmp(name, "X-DTAS-", 7) == 0 && strncasecmp(name, "X-DTAS-Checksum", 15) != 0;
}

static const char *find_header(const dtas_header *hdrs, size_t n, const char *name, size_t nlen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(hdrs[i].name) == nlen && strncasecmp(hdrs[i].name, name, nlen) == 0)
			return hdrs[i].value;
	return NULL;
}

/* The next header name of an order list at *p (its length in *len, never 0),
 * or NULL at the end; blanks around the commas are ignored. */
static const char *next_order_name(const char **p, size_t *len)
{
	const char *s = *p;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s) {
			*p = s;
			return NULL;
		}
		const char *end = s;
		while (*end && *end != ',')
			end++;
		size_t n = (size_t)(end - s);
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		*p = end;
		if (n) {
			*len = n;
			return s;
		}
		s = end;
	}
}

const char *dtas_order_missing(const dtas_header *hdrs, size_t nhdrs, const char *order,
			       char *name_out, size_t name_cap)
{
	const char *p = order ? order : "", *name;
	size_t len;
	while ((name = next_order_name(&p, &len)))
		if (!find_header(hdrs, nhdrs, name, len)) {
			snprintf(name_out, name_cap, "%.*s", (int)len, name);
			return name_out;
		}
	return NULL;
}

/* Headers every client sends whatever the call; any other X-DTAS-* header
 * (X-DTAS-SHA1, X-DTAS-LastQueryID ...) is the call's own. */
static int is_common_header(const char *name, size_t len)
{
	static const char *const common[] = {"X-DTAS-ProtocolVersion", "X-DTAS-ProductName",
					     "X-DTAS-ClientHostname", "X-DTAS-SourceID",
					     "X-DTAS-SourceName", "X-DTAS-Time", "X-DTAS-Challenge",
					     "X-DTAS-ClientUUID"};
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
		if (strlen(common[i]) == len && !strncasecmp(common[i], name, len))
			return 1;
	return 0;
}

/* A header that tells one request from another: the time, the challenge, the
 * client, or the call's own parameter. */
static int identifies_request(const char *name, size_t len)
{
	if ((len == 11 && !strncasecmp(name, "X-DTAS-Time", 11)) ||
	    (len == 16 && !strncasecmp(name, "X-DTAS-Challenge", 16)) ||
	    (len == 17 && !strncasecmp(name, "X-DTAS-ClientUUID", 17)))
		return 1;
	int checksum = len >= 15 && !strncasecmp(name, "X-DTAS-Checksum", 15);
	return len > 7 && !strncasecmp(name, "X-DTAS-", 7) && !checksum && !is_common_header(name, len);
}

int dtas_order_identifies(const char *order)
{
	const char *p = order ? order : "", *name;
	size_t len;
	while ((name = next_order_name(&p, &len)))
		if (identifies_request(name, len))
			return 1;
	return 0;
}

void dtas_checksum(const char *api_key, const dtas_header *hdrs, size_t nhdrs, const char *order,
		   const void *body, size_t body_len, char out[41])
{
	hash_ctx *h = hash_begin(HASH_SHA1);
	hash_update(h, api_key, strlen(api_key));
	if (order && *order) {
		const char *p = order, *name;
		size_t len;
		while ((name = next_order_name(&p, &len))) {
			const char *v = find_header(hdrs, nhdrs, name, len);
			if (v)
				hash_update(h, v, strlen(v));
		}
	} else {
		for (size_t i = 0; i < nhdrs; i++)
			if (is_checksum_input(hdrs[i].name))
				hash_update(h, hdrs[i].value, strlen(hdrs[i].value));
	}
	if (body && body_len)
		hash_update(h, body, body_len);
	hash_end_hex(h, out);
}

/* ---- server-side verification ------------------------------------------ */

typedef struct header_vec {
	dtas_header *h;
	size_t n, cap;
} header_vec;

static void collect_header(const char *name, const char *value, void *cls)
{
	header_vec *v = cls;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 32;
		v->h = xrealloc(v->h, v->cap * sizeof *v->h);
	}
	v->h[v->n++] = (dtas_header){name, value ? value : ""};
}

/* Epoch seconds (10 digits) or milliseconds (13 digits, Siemplify). */
static int parse_time_ms(const char *v, int64_t *ms)
{
	char *end;
	long long t = strtoll(v, &end, 10);
	if (end == v || *end || t < 0)
		return -1;
	*ms = strlen(v) >= 13 ? t : t * 1000;
	return 0;
}

static int verify_fail(dtas_verify *v, const char *reason, ctd_err *err, const char *msg)
{
	v->reason = reason;
	return ctd_fail(err, CTD_EAUTH, "%s", msg);
}

static int checksum_is(const char *key, const header_vec *hv, const char *order,
		       const http_req *req, int with_body, const char *got)
{
	char want[41];
	dtas_checksum(key, hv->h, hv->n, order, with_body ? req->body : NULL,
		      with_body ? req->body_len : 0, want);
	return strcasecmp(want, got) == 0;
}

/* A PUT's raw body is part of the checksum (a multipart one is not). */
static int body_signed(const header_vec *hv, const http_req *req)
{
	const char *ctype = find_header(hv->h, hv->n, "Content-Type", 12);
	int multipart = ctype && !strncasecmp(ctype, "multipart/", 10);
	return !strcmp(req->method, "PUT") && !multipart;
}

/* The index of the key that signs the request, or -1. */
static int signing_key(const dtas_verify *v, const header_vec *hv, const http_req *req,
		       const char *got)
{
	const char *order = find_header(hv->h, hv->n, "X-DTAS-ChecksumCalculatingOrder", 31);
	int with_body = body_signed(hv, req);
	for (size_t i = 0; i < v->nkeys; i++) {
		if (!v->keys[i] || !*v->keys[i])
			continue;
		if (checksum_is(v->keys[i], hv, order, req, with_body, got) ||
		    (with_body && v->lenient_body && checksum_is(v->keys[i], hv, order, req, 0, got)))
			return (int)i;
	}
	return -1;
}

static int verify_time(dtas_verify *v, const header_vec *hv, ctd_err *err)
{
	const char *t = find_header(hv->h, hv->n, "X-DTAS-Time", 11);
	int64_t ms;
	if (!t)
		return verify_fail(v, "missing_header", err,
				   "missing header X-DTAS-Time (this server checks request times)");
	if (parse_time_ms(t, &ms) != 0)
		return verify_fail(v, "bad_time", err,
				   "X-DTAS-Time must be epoch seconds or milliseconds");
	int64_t skew = time_now_ms() - ms;
	if (skew < 0)
		skew = -skew;
	if (skew <= v->max_skew_ms)
		return 0;
	v->reason = "stale_time";
	return ctd_fail(err, CTD_EAUTH,
			"stale X-DTAS-Time: %lld s away from this server's clock (allowed %lld s)",
			(long long)(skew / 1000), (long long)(v->max_skew_ms / 1000));
}

static int verify_headers(const http_req *req, dtas_verify *v, const header_vec *hv,
			  ctd_err *err)
{
	const char *got = find_header(hv->h, hv->n, "X-DTAS-Checksum", 15);
	if (!got || !*got)
		return verify_fail(v, "missing_header", err,
				   "missing header X-DTAS-Checksum: sign the request (SHA1 of API "
				   "key + X-DTAS-* header values [+ PUT body])");
	const char *order = find_header(hv->h, hv->n, "X-DTAS-ChecksumCalculatingOrder", 31);
	char missing[96];
	if (order && *order && dtas_order_missing(hv->h, hv->n, order, missing, sizeof missing)) {
		v->reason = "missing_header";
		return ctd_fail(err, CTD_EAUTH,
				"missing header %s: X-DTAS-ChecksumCalculatingOrder lists it but "
				"the request does not carry it",
				missing);
	}
	if (order && *order && !dtas_order_identifies(order))
		return verify_fail(v, "weak_order", err,
				   "X-DTAS-ChecksumCalculatingOrder signs none of the headers that "
				   "identify a request: list X-DTAS-Time, X-DTAS-Challenge, "
				   "X-DTAS-ClientUUID or the call's own header (X-DTAS-SHA1 ...), or "
				   "send no order header to sign every X-DTAS-* header");
	/* before a signed body is read only its headers and time can be checked */
	if (req->body_pending && body_signed(hv, req))
		return v->max_skew_ms > 0 ? verify_time(v, hv, err) : 0;
	v->key_index = signing_key(v, hv, req, got);
	if (v->key_index < 0)
		return verify_fail(v, "bad_checksum", err,
				   "bad checksum: X-DTAS-Checksum does not verify with this "
				   "server's API key (unknown API key, or wrong checksum input: API "
				   "key + values of the X-DTAS-ChecksumCalculatingOrder headers, else "
				   "of every X-DTAS-* header in sent order, + the body of a PUT)");
	return v->max_skew_ms > 0 ? verify_time(v, hv, err) : 0;
}

int dtas_verify_request(const http_req *req, dtas_verify *v, ctd_err *err)
{
	v->key_index = -1;
	v->reason = NULL;
	header_vec hv = {0};
	http_req_each_header(req, collect_header, &hv);
	int rc = verify_headers(req, v, &hv, err);
	free(hv.h);
	return rc;
}

/* ---- signing client ---------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void dtas_client_init(dtas_client *c, const dtas_client_spec *spec)
{
	char host[256] = "";
	if (!spec->hostname || !*spec->hostname)
		gethostname(host, sizeof host - 1);
	*c = (dtas_client){
		.base_url = dup_or_null(spec->base_url),
		.api_key = dup_or_null(spec->api_key),
		.client_uuid = dup_or_null(spec->client_uuid),
		.product_name = dup_or_null(spec->product_name),
		.hostname = xstrdup(spec->hostname && *spec->hostname ? spec->hostname : host),
		.source_id = dup_or_null(spec->source_id),
		.source_name = dup_or_null(spec->source_name),
		.protocol_version = xstrdup(spec->protocol_version ? spec->protocol_version : "1.5"),
		.ca_file = dup_or_null(spec->http.ca_file),
		.http = spec->http,
	};
	c->http.ca_file = c->ca_file;
}

void dtas_client_free(dtas_client *c)
{
	char *owned[] = {c->base_url,    c->api_key,   c->client_uuid, c->product_name,
			 c->hostname,    c->source_id, c->source_name, c->protocol_version,
			 c->ca_file};
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		free(owned[i]);
	memset(c, 0, sizeof *c);
}

/* Headers of one outgoing call: name/value pairs owned by the builder. */
typedef struct hdr_list {
	dtas_header h[32];
	char *owned[32];
	size_t n;
} hdr_list;

static void hdr_add(hdr_list *l, const char *name, const char *value)
{
	if (!value || l->n >= 32)
		return;
	l->owned[l->n] = xasprintf("%s%c%s", name, '\0', value);
	l->h[l->n].name = l->owned[l->n];
	l->h[l->n].value = l->owned[l->n] + strlen(name) + 1;
	l->n++;
}

static void hdr_add_line(hdr_list *l, const char *line)
{
	const char *colon = strchr(line, ':');
	if (!colon)
		return;
	char *name = xstrndup(line, (size_t)(colon - line));
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	hdr_add(l, name, v);
	free(name);
}

static void hdr_free(hdr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->owned[i]);
	l->n = 0;
}

int dtas_call(const dtas_client *c, const char *method, const char *service,
	      const char *const *extra, const void *body, size_t body_len,
	      const http_form_part *form, size_t nform, http_response *resp, ctd_err *err)
{
	hdr_list l = {0};
	char now[24], challenge[37];
	snprintf(now, sizeof now, "%lld", (long long)(time_now_ms() / 1000));
	uuid_v4(challenge);

	hdr_add(&l, "X-DTAS-ProtocolVersion", c->protocol_version ? c->protocol_version : "1.5");
	hdr_add(&l, "X-DTAS-ProductName", c->product_name);
	hdr_add(&l, "X-DTAS-ClientHostname", c->hostname);
	hdr_add(&l, "X-DTAS-ClientUUID", c->client_uuid);
	hdr_add(&l, "X-DTAS-SourceID", c->source_id);
	hdr_add(&l, "X-DTAS-SourceName", c->source_name);
	hdr_add(&l, "X-DTAS-Time", now);
	hdr_add(&l, "X-DTAS-Challenge", challenge);
	int has_ctype = 0;
	for (size_t i = 0; extra && extra[i]; i++) {
		hdr_add_line(&l, extra[i]);
		if (strncasecmp(extra[i], "Content-Type:", 13) == 0)
			has_ctype = 1;
	}

	sbuf order = {0};
	for (size_t i = 0; i < l.n; i++)
		if (is_checksum_input(l.h[i].name))
			sbuf_printf(&order, "%s%s", order.len ? "," : "", l.h[i].name);
	char sum[41];
	int body_signed = body && !form;
	dtas_checksum(c->api_key ? c->api_key : "", l.h, l.n, order.data,
		      body_signed ? body : NULL, body_signed ? body_len : 0, sum);
	hdr_add(&l, "X-DTAS-ChecksumCalculatingOrder", order.data ? order.data : "");
	hdr_add(&l, "X-DTAS-Checksum", sum);
	if (body_signed && !has_ctype)
		hdr_add(&l, "Content-Type", "text/plain");
	sbuf_free(&order);

	const char *lines[36];
	char *line_mem[36];
	size_t nl = 0;
	for (size_t i = 0; i < l.n; i++) {
		line_mem[nl] = xasprintf("%s: %s", l.h[i].name, l.h[i].value);
		lines[nl] = line_mem[nl];
		nl++;
	}
	/* large PUTs: skip the 100-continue round trip */
	line_mem[nl] = xstrdup("Expect:");
	lines[nl] = line_mem[nl];
	nl++;
	lines[nl] = NULL;

	char *url = xasprintf("%s%s%s", c->base_url, DTAS_PREFIX, service);
	http_request req = {
		.method = method, .url = url, .headers = lines,
		.body = form ? NULL : body, .body_len = form ? 0 : body_len,
		.form = form, .nform = nform,
	};
	int rc = http_fetch(&c->http, &req, resp, err);
	free(url);
	for (size_t i = 0; i < nl; i++)
		free(line_mem[i]);
	hdr_free(&l);
	return rc;
}

/* A call whose only interest is a 2xx answer. */
static int expect_2xx(const char *what, const http_response *r, ctd_err *err)
{
	if (r->status >= 200 && r->status < 300)
		return 0;
	ctd_errcode code = r->status == 401 ? CTD_EAUTH : CTD_EIO;
	return ctd_fail(err, code, "%s: HTTP %ld %.160s", what, r->status,
			r->body.data ? r->body.data : "");
}

static int simple_get(const dtas_client *c, const char *service, ctd_err *err)
{
	http_response r = {0};
	if (dtas_call(c, "GET", service, NULL, NULL, 0, NULL, 0, &r, err) != 0)
		return -1;
	int rc = expect_2xx(service, &r, err);
	http_response_free(&r);
	return rc;
}

int dtas_register(const dtas_client *c, ctd_err *err)
{
	return simple_get(c, "register", err);
}

int dtas_test_connection(const dtas_client *c, ctd_err *err)
{
	return simple_get(c, "test_connection", err);
}

/* ---- upload_sample archive ------------------------------------------------ */

static la_ssize_t sbuf_writer(struct archive *a, void *cls, const void *buf, size_t n)
{
	(void)a;
	sbuf_append(cls, buf, n);
	return (la_ssize_t)n;
}

static int tar_add(struct archive *a, const char *name, const void *data, size_t len, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, mtime, 0);
	int rc = archive_write_header(a, e);
	if (rc == ARCHIVE_OK && len)
		rc = archive_write_data(a, data, len) == (la_ssize_t)len ? ARCHIVE_OK : ARCHIVE_FATAL;
	archive_entry_free(e);
	return rc == ARCHIVE_OK ? 0 : -1;
}

/* Meta values are `&`-joined key=value pairs: keep '&', '=', '%' and controls out. */
static void meta_escape(sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '&' || ch == '=' || ch == '%' || ch < 0x20 || ch == 0x7f)
			sbuf_printf(b, "%%%02X", ch);
		else
			sbuf_append(b, s, 1);
	}
}

int dtas_build_sample_tgz(const dtas_client *c, const void *data, size_t len, const char *filename,
			  int sample_type, int64_t now_ms, sbuf *out, char sha1_out[41], ctd_err *err)
{
	char lower[41];
	hash_hex(HASH_SHA1, data, len, lower);

	sbuf meta = {0};
	sbuf_printf(&meta, "SampleType=%d&ClientUUID=", sample_type ? 1 : 0);
	meta_escape(&meta, c->client_uuid ? c->client_uuid : "");
	sbuf_puts(&meta, "&SourceID=");
	meta_escape(&meta, c->source_id ? c->source_id : "");
	sbuf_printf(&meta, "&SampleFileSHA1=%s&SampleFileExist=1", lower);
	if (filename && *filename) {
		sbuf_puts(&meta, "&OrigFileName=");
		meta_escape(&meta, filename);
	}

	time_t secs = (time_t)(now_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char logline[64];
	strftime(logline, sizeof logline, "Date=%m/%d/%Y %H:%M:%S", &tm);

	char name[64];
	struct archive *a = archive_write_new();
	int rc = archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
		 archive_write_set_format_ustar(a) == ARCHIVE_OK &&
		 archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
		 archive_write_open(a, out, NULL, sbuf_writer, NULL) == ARCHIVE_OK ? 0 : -1;
	if (rc == 0) {
		snprintf(name, sizeof name, "%s.meta", lower);
		rc = tar_add(a, name, meta.data, meta.len, secs);
	}
	if (rc == 0) {
		snprintf(name, sizeof name, "%s.log", lower);
		rc = tar_add(a, name, logline, strlen(logline), secs);
	}
	if (rc == 0) {
		snprintf(name, sizeof name, "%s.dat", lower);
		rc = tar_add(a, name, data, len, secs);
	}
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	if (rc != 0)
		ctd_fail(err, CTD_EINTERNAL, "building the sample archive: %s",
			 archive_error_string(a) ? archive_error_string(a) : "libarchive failed");
	archive_write_free(a);
	sbuf_free(&meta);
	if (rc == 0 && sha1_out) {
		memcpy(sha1_out, lower, 41);
		str_upper(sha1_out);
	}
	return rc;
}

int dtas_upload_sample(const dtas_client *c, const void *data, size_t len, const char *filename,
		       int sample_type, char sha1_out[41], ctd_err *err)
{
	int64_t now = time_now_ms();
	sbuf tgz = {0};
	char sha1[41];
	if (dtas_build_sample_tgz(c, data, len, filename, sample_type, now, &tgz, sha1, err) != 0) {
		sbuf_free(&tgz);
		return -1;
	}
	char arch_sha1[41], stamp[32];
	hash_hex(HASH_SHA1, tgz.data, tgz.len, arch_sha1);
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	char *h_sha1 = xasprintf("X-DTAS-Archive-SHA1: %s", arch_sha1);
	char *h_name = xasprintf("X-DTAS-Archive-Filename: %s_%s.tgz", stamp, arch_sha1);
	const char *extra[] = {h_sha1, h_name, "Content-Type: application/x-compressed", NULL};

	http_response r = {0};
	int rc = dtas_call(c, "PUT", "upload_sample", extra, tgz.data, tgz.len, NULL, 0, &r, err);
	if (rc == 0) {
		rc = expect_2xx("upload_sample", &r, err);
		http_response_free(&r);
	}
	free(h_sha1);
	free(h_name);
	sbuf_free(&tgz);
	if (rc == 0 && sha1_out)
		memcpy(sha1_out, sha1, 41);
	return rc;
}

int dtas_is_duplicate(const dtas_client *c, const char *sha1, ctd_err *err)
{
	const char *extra[] = {"X-DTAS-LastMinute: 0", "Content-Type: text/plain", NULL};
	http_response r = {0};
	if (dtas_call(c, "PUT", "check_duplicate_sample", extra, sha1, strlen(sha1), NULL, 0, &r,
		      err) != 0)
		return -1;
	int rc = expect_2xx("check_duplicate_sample", &r, err);
	if (rc == 0)
		rc = r.body.data && strcasestr(r.body.data, sha1) ? 1 : 0;
	http_response_free(&r);
	return rc;
}

/* ---- brief report ----------------------------------------------------- */

static xmlNode *child_named(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

static int child_int(xmlNode *parent, const char *name, int def)
{
	xmlNode *n = child_named(parent, name);
	if (!n)
		return def;
	xmlChar *t = xmlNodeGetContent(n);
	int v = def;
	if (t && *t) {
		char *end;
		long l = strtol((const char *)t, &end, 10);
		if (end != (char *)t)
			v = (int)l;
	}
	xmlFree(t);
	return v;
}

int dtas_brief_parse(const char *xml, size_t len, const char *const *sha1s, size_t n,
		     dtas_brief *out, ctd_err *err)
{
	dtas_xml_init();
	for (size_t i = 0; i < n; i++) {
		snprintf(out[i].sha1, sizeof out[i].sha1, "%s", sha1s[i]);
		str_upper(out[i].sha1);
		out[i].status = 1;
		out[i].risk_level = -1;
	}
	xmlDoc *doc = xmlReadMemory(xml, (int)len, "brief.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
					    XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		xmlFreeDoc(doc);
		return ctd_fail(err, CTD_EIO, "brief report: not XML");
	}
	size_t pos = 0;
	for (xmlNode *b = root->children; b; b = b->next) {
		if (b->type != XML_ELEMENT_NODE || strcasecmp((const char *)b->name, "BRIEF_REPORT"))
			continue;
		size_t idx = pos++;
		xmlNode *s = child_named(b, "SHA1");
		if (s) {
			xmlChar *t = xmlNodeGetContent(s);
			for (size_t i = 0; t && i < n; i++)
				if (strcasecmp(out[i].sha1, (const char *)t) == 0) {
					idx = i;
					break;
				}
			xmlFree(t);
		}
		if (idx >= n)
			continue;
		out[idx].status = child_int(b, "STATUS", 1);
		out[idx].risk_level = child_int(b, "RiskLevel", -1);
	}
	xmlFreeDoc(doc);
	return 0;
}

int dtas_brief_report(const dtas_client *c, const char *const *sha1s, size_t n, dtas_brief *out,
		      ctd_err *err)
{
	sbuf body = {0};
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&body, "%s%s", i ? ";" : "", sha1s[i]);
	const char *extra[] = {"Content-Type: text/plain", NULL};
	http_response r = {0};
	int rc = dtas_call(c, "PUT", "get_brief_report", extra, body.data ? body.data : "",
			   body.len, NULL, 0, &r, err);
	sbuf_free(&body);
	if (rc != 0)
		return -1;
	rc = expect_2xx("get_brief_report", &r, err);
	if (rc == 0)
		rc = dtas_brief_parse(r.body.data ? r.body.data : "", r.body.len, sha1s, n, out, err);
	http_response_free(&r);
	return rc;
}
