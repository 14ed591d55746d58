/* ddan_testkit.c - the DDAN integration tests' helpers (see ddan_testkit.h). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "ddan_testkit.h"
#include "dtas.h"
#include "hash.h"
#include "testlib.h"
#include "util.h"

typedef struct header {
	char name[64];
	char *value;
} header;

/* Spawn ddand in d->home and wait for it. */
static void spawn(tk_daemon *d, const char *const *extra)
{
	const char *args[32] = {"--port", "0", "--analysis_time", "100ms"};
	int n = 4;
	for (; extra && *extra && n < 30; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	d->pid = tl_spawn_daemon("ddand", d->home, args);
	d->ready = tl_wait_ready(d->home, "ddan", TL_START_MS);
	ck_assert_msg(d->ready != NULL, "ddand did not become ready (see %s/ddand.log)", d->home);
	d->url = tl_listener(d->ready, "https");
	d->key = json_string_value(json_object_get(json_object_get(d->ready, "info"), "api_key"));
	ck_assert_ptr_nonnull(d->url);
	ck_assert_ptr_nonnull(d->key);
	d->port = atoi(strrchr(d->url, ':') + 1);
}

void tk_start(tk_daemon *d, const char *tag, const char *const *extra)
{
	d->home = tl_tmpdir(tag);
	spawn(d, extra);
}

void tk_halt(tk_daemon *d)
{
	int status = tl_stop(d->pid, 10000);
	if (status != 0) { /* show why: a crash or a sanitizer report */
		char *log = xasprintf("%s/ddand.log", d->home), *text = NULL;
		size_t len;
		if (file_read(log, &text, &len, NULL) == 0)
			fprintf(stderr, "ddand exited %d; its log:\n%s\n", status, text);
		free(text);
		free(log);
	}
	ck_assert_int_eq(status, 0);
	json_decref(d->ready);
	d->ready = NULL;
}

void tk_resume(tk_daemon *d, const char *const *extra)
{
	spawn(d, extra);
}

void tk_stop(tk_daemon *d)
{
	if (!d->home)
		return;
	tk_halt(d);
	tl_rmrf(d->home);
	free(d->home);
	memset(d, 0, sizeof *d);
}

static const char *common_value(const tk_style *s, const char *name, char *buf)
{
	if (!strcmp(name, "X-DTAS-ProtocolVersion"))
		return s->protocol;
	if (!strcmp(name, "X-DTAS-ClientUUID"))
		return s->uuid;
	if (!strcmp(name, "X-DTAS-ProductName"))
		return "TestProduct";
	if (!strcmp(name, "X-DTAS-ClientHostname"))
		return "test-host";
	if (!strcmp(name, "X-DTAS-SourceID"))
		return "1";
	if (!strcmp(name, "X-DTAS-SourceName"))
		return s->name;
	if (!strcmp(name, "X-DTAS-Time")) {
		if (s->fixed_time)
			return s->fixed_time;
		long long now = (long long)time(NULL);
		sprintf(buf, "%lld", s->ms_time ? now * 1000 + 123 : now);
		return buf;
	}
	if (!strcmp(name, "X-DTAS-Challenge")) {
		if (s->challenge)
			return s->challenge;
		uuid_v4(buf);
		return buf;
	}
	return "";
}

long tk_call(const tk_daemon *d, const tk_style *s, const char *method, const char *service,
	     const char *const *params, const void *body, size_t body_len, const char *ctype,
	     const http_form_part *form, size_t nform, http_response *resp)
{
	header h[40];
	size_t n = 0;
	char buf[64];
	for (size_t i = 0; s->wire[i]; i++) {
		snprintf(h[n].name, sizeof h[n].name, "%s", s->wire[i]);
		h[n].value = xstrdup(common_value(s, s->wire[i], buf));
		n++;
	}
	for (size_t i = 0; params && params[i]; i += 2) {
		snprintf(h[n].name, sizeof h[n].name, "%s", params[i]);
		h[n].value = xstrdup(params[i + 1]);
		n++;
	}
	/* the checksum order: wire order, or dd-py's (Time, Challenge moved last) */
	size_t order[40], no = 0;
	for (size_t i = 0; i < n; i++)
		if (!s->time_last_in_order ||
		    (strcmp(h[i].name, "X-DTAS-Time") && strcmp(h[i].name, "X-DTAS-Challenge")))
			order[no++] = i;
	for (size_t i = 0; s->time_last_in_order && i < n; i++)
		if (!strcmp(h[i].name, "X-DTAS-Time"))
			order[no++] = i;
	for (size_t i = 0; s->time_last_in_order && i < n; i++)
		if (!strcmp(h[i].name, "X-DTAS-Challenge"))
			order[no++] = i;
	hash_ctx *hc = hash_begin(HASH_SHA1);
	hash_update(hc, d->key, strlen(d->key));
	sbuf names = {0};
	for (size_t i = 0; i < no; i++) {
		hash_update(hc, h[order[i]].value, strlen(h[order[i]].value));
		sbuf_printf(&names, "%s%s", i ? "," : "", h[order[i]].name);
	}
	if (body && s->body_in_checksum)
		hash_update(hc, body, body_len);
	char sum[41];
	hash_end_hex(hc, sum);

	const char *lines[48];
	char *mem[48];
	size_t nl = 0;
	const char *sep = s->nospace ? ":" : ": ";
	for (size_t i = 0; i < n; i++) {
		mem[nl] = xasprintf("%s%s%s", h[i].name, sep, h[i].value);
		lines[nl] = mem[nl];
		nl++;
	}
	if (s->order_header) {
		mem[nl] = xasprintf("X-DTAS-ChecksumCalculatingOrder%s%s", sep, names.data);
		lines[nl] = mem[nl];
		nl++;
	}
	mem[nl] = xasprintf("X-DTAS-Checksum%s%s", sep, sum);
	lines[nl] = mem[nl];
	nl++;
	if (ctype) {
		mem[nl] = xasprintf("Content-Type%s%s", sep, ctype);
		lines[nl] = mem[nl];
		nl++;
	}
	lines[nl] = NULL;
	char *url = xasprintf("%s%s%s", d->url, DTAS_PREFIX, service);
	http_client_opts o = {.timeout_ms = 20000, .verify_tls = 0};
	http_request rq = {.method = method, .url = url, .headers = lines, .body = body,
			   .body_len = body_len, .form = form, .nform = nform};
	memset(resp, 0, sizeof *resp);
	ctd_err err;
	long status = http_fetch(&o, &rq, resp, &err) == 0 ? resp->status : -1;
	free(url);
	for (size_t i = 0; i < nl; i++)
		free(mem[i]);
	for (size_t i = 0; i < n; i++)
		free(h[i].value);
	sbuf_free(&names);
	return status;
}

long tk_status(const tk_daemon *d, const tk_style *s, const char *method, const char *service,
	       const char *const *params, const void *body, size_t len, const char *ctype)
{
	http_response r;
	long st = tk_call(d, s, method, service, params, body, len, ctype, NULL, 0, &r);
	http_response_free(&r);
	return st;
}

int tk_wait_done(const tk_daemon *d, const tk_style *s, const char *sha1, int *risk)
{
	dtas_brief b = {0};
	for (int i = 0; i < 300; i++) {
		http_response r;
		long st = tk_call(d, s, "PUT", "get_brief_report", NULL, sha1, strlen(sha1),
				  "text/plain", NULL, 0, &r);
		ck_assert_int_eq(st, 200);
		const char *one[] = {sha1};
		ctd_err err;
		ck_assert_int_eq(dtas_brief_parse(r.body.data, r.body.len, one, 1, &b, &err), 0);
		http_response_free(&r);
		if (b.status >= 4)
			break;
		tl_sleep_ms(100);
	}
	if (risk)
		*risk = b.risk_level;
	return b.status;
}

int tk_raw(const tk_daemon *d, const char *request, char **out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	ck_assert_int_gt(SSL_write(ssl, request, (int)strlen(request)), 0);
	sbuf b = {0};
	char chunk[4096];
	int n;
	/* a 1xx answer has no body and the server keeps the connection: stop at its end */
	while ((n = SSL_read(ssl, chunk, sizeof chunk)) > 0) {
		sbuf_append(&b, chunk, (size_t)n);
		if (b.len >= 12 && !strncmp(b.data + 9, "1", 1) && strstr(b.data, "\r\n\r\n"))
			break;
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	int status = b.len > 12 ? atoi(b.data + 9) : -1;
	if (out)
		*out = sbuf_detach(&b);
	else
		sbuf_free(&b);
	return status;
}

char *tk_raw_get(const tk_daemon *d, const char *service, const char *sha1)
{
	char now[24], chal[37], sum[41];
	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	uuid_v4(chal);
	char *in = xasprintf("%s1.5%s%s%s", d->key, now, chal, sha1);
	hash_hex(HASH_SHA1, in, strlen(in), sum);
	free(in);
	return xasprintf("GET %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-DTAS-ProtocolVersion: 1.5\r\n"
			 "X-DTAS-Time: %s\r\nX-DTAS-Challenge: %s\r\nX-DTAS-SHA1: %s\r\n"
			 "X-DTAS-ChecksumCalculatingOrder: X-DTAS-ProtocolVersion,X-DTAS-Time,"
			 "X-DTAS-Challenge,X-DTAS-SHA1\r\nX-DTAS-Checksum: %s\r\nConnection: close\r\n\r\n",
			 DTAS_PREFIX, service, now, chal, sha1, sum);
}

void tk_sha1_upper(const void *data, size_t len, char out[41])
{
	hash_hex(HASH_SHA1, data, len, out);
	str_upper(out);
}

static const char *const ddpy_wire[] = {"X-DTAS-Time", "X-DTAS-Challenge",
					"X-DTAS-ProtocolVersion", "X-DTAS-ProductName",
					"X-DTAS-ClientHostname", "X-DTAS-ClientUUID",
					"X-DTAS-SourceID", "X-DTAS-SourceName", NULL};
const tk_style tk_ddpy = {.name = "dd-py", .wire = ddpy_wire, .order_header = 1,
			  .time_last_in_order = 1, .protocol = "1.5",
			  .uuid = "5A3C1E2B-0000-4000-8000-00000000D0D0", .body_in_checksum = 1};

void tk_submit_wait(const tk_daemon *d, const char *data, const char *filename, char sha1[41])
{
	ck_assert_int_eq(tk_status(d, &tk_ddpy, "GET", "register", NULL, NULL, 0, NULL), 200);
	tk_sha1_upper(data, strlen(data), sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = data, .data_len = strlen(data),
			       .filename = filename, .content_type = "application/octet-stream"};
	http_response r;
	ck_assert_int_eq(tk_call(d, &tk_ddpy, "POST", "simple_upload_sample", params, NULL, 0,
				 NULL, &part, 1, &r),
			 200);
	http_response_free(&r);
	int risk;
	ck_assert_int_eq(tk_wait_done(d, &tk_ddpy, sha1, &risk), 4);
}
