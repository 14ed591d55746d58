/* test_http_server.c - the libmicrohttpd route table and request/response
 * helpers: routing (params, wildcard, case, trailing slash, runs of slashes),
 * unknown paths authenticated by their API before 404, 404/405/413 JSON
 * errors (also with Expect: 100-continue), JSON bodies, multipart and
 * urlencoded forms, headers in wire order, a final 102 on a raw socket,
 * HTTPS with the lab certificate (verify off and on), concurrent creation
 * of that certificate, and route-level authentication (public, the server's
 * default, a route's own authenticator, one that signs the body refusing a
 * stranger at the headers, refusal to start without one), body bounds per
 * route (HTTP_BODY_UPLOAD, the default) and the server's body budget (503). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "http_client.h"
#include "http_server.h"
#include "testlib.h"

/* ---- handlers ----------------------------------------------------------- */

static void h_item(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:s}", "id", http_req_param(req, "id"),
					    "pattern", req->pattern, "method", req->method));
}

static void h_files(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s}", "rest", http_req_param(req, "*")));
}

static void h_echo(http_req *req, http_resp *resp)
{
	const char *ct = http_req_header(req, "content-type");
	http_resp_bytes(resp, 201, ct ? ct : "application/octet-stream", req->body,
			req->body_len);
}

static void h_json(http_req *req, http_resp *resp)
{
	json_t *doc = http_req_json(req, resp);
	if (doc)
		http_resp_json(resp, 200, json_pack("{s:o}", "got", doc));
}

static void h_conflict(http_req *req, http_resp *resp)
{
	ctd_err err;
	ctd_fail(&err, CTD_ECONFLICT, "sample %s is busy", "abc");
	http_resp_result(resp, NULL, &err);
}

static void h_result(http_req *req, http_resp *resp)
{
	http_resp_result(resp, json_pack("{s:i}", "done", 1), NULL);
}

/* The form field named by ?field=, its bytes as the body. */
static void h_form(http_req *req, http_resp *resp)
{
	const char *data, *filename, *ctype;
	size_t len;
	const char *field = http_req_query(req, "field");
	if (!field || http_req_form(req, field, &data, &len, &filename, &ctype) != 0) {
		http_resp_error(resp, 404, "not_found", "no field %s", field ? field : "");
		return;
	}
	http_resp_bytes(resp, 200, "application/octet-stream", data, len);
	http_resp_header(resp, "X-Filename", filename ? filename : "(none)");
	http_resp_header(resp, "X-Ctype", ctype ? ctype : "(none)");
}

static void collect_header(const char *name, const char *value, void *cls)
{
	sbuf_printf(cls, "%s=%s\n", name, value);
}

static void h_headers(http_req *req, http_resp *resp)
{
	sbuf all = {0};
	http_req_each_header(req, collect_header, &all);
	const char *sum = http_req_header(req, "x-dtas-checksum");
	http_resp_text(resp, 200, NULL, all.data ? all.data : "");
	http_resp_header(resp, "X-Lookup", sum ? sum : "(none)");
	sbuf_free(&all);
}

static void h_status(http_req *req, http_resp *resp)
{
	resp->status = atoi(http_req_param(req, "code"));
}

static void h_query(http_req *req, http_resp *resp)
{
	char ip[64];
	http_req_client_ip(req, ip, sizeof ip);
	const char *a = http_req_query(req, "a");
	http_resp_json(resp, 200, json_pack("{s:s?, s:s}", "a", a, "ip", ip));
}

static void h_order(http_req *req, http_resp *resp)
{
	http_resp_text(resp, 200, "text/plain", "ordered");
	http_resp_header(resp, "X-One", "1");
	http_resp_header(resp, "X-Two", "2");
	http_resp_header(resp, "X-Three", "3");
}

static void h_any(http_req *req, http_resp *resp)
{
	http_resp_text(resp, 200, NULL, req->method);
}

static void h_app(http_req *req, http_resp *resp)
{
	http_resp_text(resp, 200, NULL, req->app);
}

static const http_route routes[] = {
	{"GET", "/items/{id}", h_item, HTTP_PUBLIC},
	{"PUT", "/items/{id}", h_item, HTTP_PUBLIC},
	{"GET", "/items/{id}/files/{name}", h_item, HTTP_PUBLIC},
	{"GET", "/files/*", h_files, HTTP_PUBLIC},
	{"POST", "/echo", h_echo, HTTP_PUBLIC},
	{"PUT", "/echo", h_echo, HTTP_PUBLIC},
	{"POST", "/json", h_json, HTTP_PUBLIC},
	{"GET", "/conflict", h_conflict, HTTP_PUBLIC},
	{"GET", "/result", h_result, HTTP_PUBLIC},
	{"POST", "/form", h_form, HTTP_PUBLIC},
	{"PUT", "/form", h_form, HTTP_PUBLIC},
	{"GET", "/headers", h_headers, HTTP_PUBLIC},
	{"GET", "/status/{code}", h_status, HTTP_PUBLIC},
	{"GET", "/query", h_query, HTTP_PUBLIC},
	{"GET", "/order", h_order, HTTP_PUBLIC},
	{"*", "/any", h_any, HTTP_PUBLIC},
	{"GET", "/WebApp/API/SuspiciousObjects/UserDefinedSO", h_app, HTTP_PUBLIC},
};

/* ---- helpers ------------------------------------------------------------ */

static http_server *start(int nocase, size_t max_body, const char *cert, const char *key)
{
	ctd_err err;
	http_server_opts o = {
		.port = 0,
		.tls = cert != NULL,
		.cert_pem = cert,
		.key_pem = key,
		.max_body = max_body,
		.path_nocase = nocase,
		.routes = routes,
		.nroutes = sizeof routes / sizeof routes[0],
		.app = "app-pointer",
	};
	http_server *srv = http_server_start(&o, &err);
	ck_assert_msg(srv != NULL, "start: %s", srv ? "" : err.msg);
	ck_assert_int_gt(http_server_port(srv), 0);
	return srv;
}

static char *url(http_server *srv, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", http_server_port(srv), path);
}

static long fetch(http_server *srv, const char *method, const char *path,
		  const char *const *headers, const void *body, size_t len, http_response *r)
{
	ctd_err err;
	char *u = url(srv, path);
	http_request rq = {.method = method, .url = u, .headers = headers, .body = body,
			   .body_len = len};
	http_client_opts co = {.timeout_ms = 5000};
	int rc = http_fetch(&co, &rq, r, &err);
	ck_assert_msg(rc == 0, "%s %s: %s", method, path, rc ? err.msg : "");
	free(u);
	return r->status;
}

/* Parse resp as {"error":{"code":...}} and return the code (static). */
static const char *error_code(const http_response *r)
{
	static char code[64];
	json_t *doc = json_loads(r->body.data ? r->body.data : "", 0, NULL);
	ck_assert_msg(doc != NULL, "not JSON: %s", r->body.data);
	const char *c = NULL, *msg = NULL;
	ck_assert_int_eq(json_unpack(doc, "{s:{s:s, s:s}}", "error", "code", &c, "message", &msg),
			 0);
	ck_assert(strlen(msg) > 0);
	snprintf(code, sizeof code, "%s", c);
	json_decref(doc);
	ck_assert_str_eq(http_response_header(r, "Content-Type"), "application/json");
	return code;
}

static const char *json_field(const http_response *r, const char *key, char *out, size_t n)
{
	json_t *doc = json_loads(r->body.data, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	const char *v = json_string_value(json_object_get(doc, key));
	snprintf(out, n, "%s", v ? v : "(null)");
	json_decref(doc);
	return out;
}

/* Send raw bytes and read the answer: until EOF, or until one complete
 * response (headers + Content-Length body) when stop_at_response. */
static char *raw_exchange(int port, const char *data, size_t len, int stop_at_response)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	sbuf in = {0};
	char buf[4096];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
		sbuf_append(&in, buf, (size_t)n);
		const char *end = strstr(in.data, "\r\n\r\n");
		const char *cl = strcasestr(in.data, "\r\nContent-Length:");
		if (stop_at_response && end && cl && cl < end &&
		    in.len >= (size_t)(end + 4 - in.data) + strtoul(cl + 17, NULL, 10))
			break;
	}
	close(fd);
	return sbuf_detach(&in);
}

/* ---- tests -------------------------------------------------------------- */

TEST(test_routing_params_and_wildcard)
{
	http_server *srv = start(0, 0, NULL, NULL);
	http_response r;
	char v[256];
	ck_assert_int_eq(fetch(srv, "GET", "/items/abc123", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "id", v, sizeof v), "abc123");
	ck_assert_str_eq(json_field(&r, "pattern", v, sizeof v), "/items/{id}");
	http_response_free(&r);

	ck_assert_int_eq(fetch(srv, "GET", "/items/7/files/x.txt", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "pattern", v, sizeof v), "/items/{id}/files/{name}");
	http_response_free(&r);

	/* percent-encoding is decoded before matching */
	ck_assert_int_eq(fetch(srv, "GET", "/items/a%20b", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "id", v, sizeof v), "a b");
	http_response_free(&r);

	ck_assert_int_eq(fetch(srv, "GET", "/files/a/b/c.bin", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "rest", v, sizeof v), "a/b/c.bin");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "/files", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "rest", v, sizeof v), "");
	http_response_free(&r);

	/* a param matches one non-empty segment only */
	ck_assert_int_eq(fetch(srv, "GET", "/items/", NULL, NULL, 0, &r), 404);
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "/items/a/b", NULL, NULL, 0, &r), 404);
	http_response_free(&r);

	/* exact case by default; a trailing slash and runs of slashes always
	 * count as one (IIS does, and clients joining "host/" + "/path" rely on it) */
	ck_assert_int_eq(fetch(srv, "GET", "/webapp/api/suspiciousobjects/userdefinedso", NULL,
			       NULL, 0, &r), 404);
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "/WebApp/API/SuspiciousObjects/UserDefinedSO/", NULL,
			       NULL, 0, &r), 200);
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "//WebApp//API/SuspiciousObjects///UserDefinedSO//",
			       NULL, NULL, 0, &r), 200);
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "//items//a%20b/", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "id", v, sizeof v), "a b");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "//files//a//b/", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "rest", v, sizeof v), "a/b");
	http_response_free(&r);

	/* "*" method, HEAD served by the GET route */
	ck_assert_int_eq(fetch(srv, "DELETE", "/any", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(r.body.data, "DELETE");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "HEAD", "/order", NULL, NULL, 0, &r), 200);
	ck_assert_int_eq((int)r.body.len, 0);
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_routing_nocase_trailing_slash)
{
	http_server *srv = start(1, 0, NULL, NULL);
	http_response r;
	ck_assert_int_eq(fetch(srv, "GET", "/webapp/api/suspiciousobjects/userdefinedso/", NULL,
			       NULL, 0, &r), 200);
	ck_assert_str_eq(r.body.data, "app-pointer");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "/WEBAPP/Api/SuspiciousObjects/UserDefinedSO", NULL,
			       NULL, 0, &r), 200);
	http_response_free(&r);
	/* params keep the client's case */
	char v[64];
	ck_assert_int_eq(fetch(srv, "GET", "/ITEMS/AbC/", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "id", v, sizeof v), "AbC");
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_404_405_json_errors)
{
	http_server *srv = start(0, 0, NULL, NULL);
	http_response r;
	ck_assert_int_eq(fetch(srv, "GET", "/nowhere", NULL, NULL, 0, &r), 404);
	ck_assert_str_eq(error_code(&r), "not_found");
	http_response_free(&r);

	/* a path that is not UTF-8 still gets a valid JSON error */
	ck_assert_int_eq(fetch(srv, "GET", "/%ff%fe", NULL, NULL, 0, &r), 404);
	ck_assert_str_eq(error_code(&r), "not_found");
	http_response_free(&r);

	ck_assert_int_eq(fetch(srv, "DELETE", "/items/1", NULL, NULL, 0, &r), 405);
	ck_assert_str_eq(error_code(&r), "method_not_allowed");
	ck_assert_str_eq(http_response_header(&r, "Allow"), "GET, PUT");
	http_response_free(&r);

	/* a 405 with a body the server does not read */
	ck_assert_int_eq(fetch(srv, "POST", "/items/1", NULL, "xyz", 3, &r), 405);
	http_response_free(&r);

	ck_assert_int_eq(fetch(srv, "POST", "/json", NULL, "{\"a\":", 5, &r), 400);
	ck_assert_str_eq(error_code(&r), "invalid");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "POST", "/json", NULL, "{\"a\":[1,2]}", 11, &r), 200);
	ck_assert_str_eq(r.body.data, "{\"got\":{\"a\":[1,2]}}");
	http_response_free(&r);

	ck_assert_int_eq(fetch(srv, "GET", "/conflict", NULL, NULL, 0, &r), 409);
	ck_assert_str_eq(error_code(&r), "conflict");
	ck_assert_ptr_nonnull(strstr(r.body.data, "sample abc is busy"));
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "/result", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(r.body.data, "{\"done\":1}");
	http_response_free(&r);

	/* a handler that sets no status is a 500, not a hang */
	ck_assert_int_eq(fetch(srv, "GET", "/status/0", NULL, NULL, 0, &r), 500);
	ck_assert_str_eq(error_code(&r), "internal");
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_body_limit_413)
{
	http_server *srv = start(0, 64 * 1024, NULL, NULL);
	http_response r;
	size_t big = 2 * 1024 * 1024; /* libcurl sends Expect: 100-continue above 1 MiB */
	char *data = xmalloc(big);
	memset(data, 'x', big);

	ck_assert_int_eq(fetch(srv, "PUT", "/echo", NULL, data, 64 * 1024, &r), 201);
	ck_assert_int_eq((int)r.body.len, 64 * 1024);
	http_response_free(&r);

	ck_assert_int_eq(fetch(srv, "PUT", "/echo", NULL, data, big, &r), 413);
	ck_assert_str_eq(error_code(&r), "too_large");
	http_response_free(&r);

	/* no Expect: the body is sent anyway; the server drains it so the
	 * client reads the 413 (and the 404/405) instead of a reset */
	const char *no_expect[] = {"Expect:", NULL};
	ck_assert_int_eq(fetch(srv, "POST", "/echo", no_expect, data, big, &r), 413);
	ck_assert_str_eq(error_code(&r), "too_large");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "POST", "/nowhere", no_expect, data, big, &r), 404);
	ck_assert_str_eq(error_code(&r), "not_found");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "POST", "/items/1", NULL, data, big, &r), 405);
	ck_assert_str_eq(error_code(&r), "method_not_allowed");
	http_response_free(&r);

	/* chunked, no declared length: counted while buffering */
	const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
	ck_assert_int_eq(fetch(srv, "POST", "/echo", chunked, data, big, &r), 413);
	ck_assert_str_eq(error_code(&r), "too_large");
	http_response_free(&r);
	free(data);

	/* Expect: 100-continue on a raw socket: 413 straight away, no 100 */
	const char *req = "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
			  "Expect: 100-continue\r\n\r\n";
	char *out = raw_exchange(http_server_port(srv), req, strlen(req), 1);
	ck_assert_msg(strncmp(out, "HTTP/1.1 413 ", 13) == 0, "got: %s", out);
	ck_assert_ptr_null(strstr(out, "100 Continue"));
	ck_assert_ptr_nonnull(strstr(out, "\"too_large\""));
	free(out);

	/* Expect: 100-continue within the limit: 100, then the answer */
	const char *ok = "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			 "Content-Type: text/plain\r\nExpect: 100-continue\r\n\r\nhello";
	out = raw_exchange(http_server_port(srv), ok, strlen(ok), 1);
	ck_assert_msg(strncmp(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 ", 38) == 0,
		      "got: %s", out);
	ck_assert_str_eq(strstr(out, "\r\n\r\nhello") ? "found" : out, "found");
	free(out);
	http_server_stop(srv);
}

/* A multipart body with 300 KB of binary data (NUL, CR LF, a fake boundary), a
 * filename, built by libcurl the way Python requests / PHP curl send it. */
TEST(test_multipart_form)
{
	http_server *srv = start(0, 0, NULL, NULL);
	/* larger than MHD's post-processor buffer, so it arrives in pieces */
	static unsigned char bin[300000];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof bin; i++) {
		x = x * 1103515245u + 12345u;
		bin[i] = (unsigned char)(x >> 16);
	}
	memcpy(bin + 100, "\r\n--------------------------x\r\n\0\0\r\n", 36);
	http_form_part parts[] = {
		{.name = "meta", .data = "plain value", .data_len = 11},
		{.name = "uploadsample", .data = bin, .data_len = sizeof bin,
		 .filename = "sample.exe", .content_type = "application/x-msdownload"},
		{.name = "empty", .data = NULL, .data_len = 0},
	};
	const char *fields[] = {"uploadsample", "meta", "empty", "missing"};
	for (size_t i = 0; i < 4; i++) {
		char *u = xasprintf("http://127.0.0.1:%d/form?field=%s", http_server_port(srv),
				    fields[i]);
		http_request rq = {.url = u, .form = parts, .nform = 3};
		http_response r;
		ctd_err err;
		ck_assert_int_eq(http_fetch(NULL, &rq, &r, &err), 0);
		if (i == 0) {
			ck_assert_int_eq(r.status, 200);
			ck_assert_int_eq((int)r.body.len, (int)sizeof bin);
			ck_assert(memcmp(r.body.data, bin, sizeof bin) == 0);
			ck_assert_str_eq(http_response_header(&r, "X-Filename"), "sample.exe");
			ck_assert_str_eq(http_response_header(&r, "X-Ctype"),
					 "application/x-msdownload");
		} else if (i == 1) {
			ck_assert_int_eq(r.status, 200);
			ck_assert_str_eq(r.body.data, "plain value");
			ck_assert_str_eq(http_response_header(&r, "X-Filename"), "(none)");
		} else if (i == 2) {
			ck_assert_int_eq(r.status, 200);
			ck_assert_int_eq((int)r.body.len, 0);
		} else {
			ck_assert_int_eq(r.status, 404);
		}
		http_response_free(&r);
		free(u);
	}

	/* the same with a multipart PUT (dd-py's upload_sample) */
	char *u = url(srv, "/form?field=uploadsample");
	http_request rq = {.method = "PUT", .url = u, .form = parts, .nform = 3};
	http_response r;
	ck_assert_int_eq(http_fetch(NULL, &rq, &r, NULL), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(r.body.len == sizeof bin && memcmp(r.body.data, bin, sizeof bin) == 0);
	http_response_free(&r);
	free(u);
	http_server_stop(srv);
}

TEST(test_urlencoded_form)
{
	http_server *srv = start(0, 0, NULL, NULL);
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *body = "user=admin&pass=p%40ss+word&x=";
	http_response r;
	ck_assert_int_eq(fetch(srv, "POST", "/form?field=pass", h, body, strlen(body), &r), 200);
	ck_assert_str_eq(r.body.data, "p@ss word");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "POST", "/form?field=user", h, body, strlen(body), &r), 200);
	ck_assert_str_eq(r.body.data, "admin");
	http_response_free(&r);
	/* not a form at all */
	const char *j[] = {"Content-Type: application/json", NULL};
	ck_assert_int_eq(fetch(srv, "POST", "/form?field=user", j, "{}", 2, &r), 404);
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_headers_wire_order_and_lookup)
{
	http_server *srv = start(0, 0, NULL, NULL);
	const char *req = "GET /headers HTTP/1.1\r\nHost: h\r\nX-DTAS-ProtocolVersion:2.0\r\n"
			  "ClientUUID: 1234\r\nx-dtas-time: 99\r\nX-DTAS-Checksum: abcd\r\n"
			  "Accept: */*\r\nConnection: close\r\n\r\n";
	char *out = raw_exchange(http_server_port(srv), req, strlen(req), 0);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 ", 13) == 0, "got: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nHost=h\nX-DTAS-ProtocolVersion=2.0\n"
					  "ClientUUID=1234\nx-dtas-time=99\n"
					  "X-DTAS-Checksum=abcd\nAccept=*/*\nConnection=close\n"));
	ck_assert_ptr_nonnull(strstr(out, "X-Lookup: abcd\r\n"));
	free(out);

	http_response r;
	ck_assert_int_eq(fetch(srv, "GET", "/query?a=x%20y&b=2", NULL, NULL, 0, &r), 200);
	char v[64];
	ck_assert_str_eq(json_field(&r, "a", v, sizeof v), "x y");
	ck_assert_str_eq(json_field(&r, "ip", v, sizeof v), "127.0.0.1");
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "GET", "/query", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(json_field(&r, "a", v, sizeof v), "(null)");
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_status_102_raw_socket)
{
	http_server *srv = start(0, 0, NULL, NULL);
	const char *req = "GET /status/102 HTTP/1.1\r\nHost: x\r\n\r\n";
	char *out = raw_exchange(http_server_port(srv), req, strlen(req), 0);
	/* the whole exchange: one 102 status, no body, then the server closes */
	ck_assert_msg(strncmp(out, "HTTP/1.1 102 Processing\r\n", 25) == 0, "got: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "Connection: close\r\n"));
	const char *end = strstr(out, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(end, "\r\n\r\n");
	free(out);

	/* and the server still serves the next connection */
	http_response r;
	ck_assert_int_eq(fetch(srv, "GET", "/status/204", NULL, NULL, 0, &r), 204);
	http_response_free(&r);
	/* http_fetch reports the 102 instead of waiting for a final status */
	ck_assert_int_eq(fetch(srv, "GET", "/status/102", NULL, NULL, 0, &r), 102);
	ck_assert_int_eq((int)r.body.len, 0);
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_response_headers_in_order)
{
	http_server *srv = start(0, 0, NULL, NULL);
	http_response r;
	ck_assert_int_eq(fetch(srv, "GET", "/order", NULL, NULL, 0, &r), 200);
	int one = -1, two = -1, three = -1;
	for (int i = 0; i < r.nheaders; i++) {
		if (strcmp(r.header_name[i], "X-One") == 0)
			one = i;
		if (strcmp(r.header_name[i], "X-Two") == 0)
			two = i;
		if (strcmp(r.header_name[i], "X-Three") == 0)
			three = i;
	}
	ck_assert(one >= 0 && one < two && two < three);
	ck_assert_str_eq(http_response_header(&r, "x-two"), "2");
	ck_assert_str_eq(http_response_header(&r, "content-type"), "text/plain");
	http_response_free(&r);
	http_server_stop(srv);
}

TEST(test_https_lab_cert)
{
	char *home = tl_tmpdir("https");
	char *cert, *key;
	ctd_err err;
	ck_assert_msg(tls_lab_cert(home, &cert, &key, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(cert, "-----BEGIN CERTIFICATE-----"));
	ck_assert_ptr_nonnull(strstr(key, "PRIVATE KEY-----"));
	/* second call reads the same files */
	char *cert2, *key2;
	ck_assert_int_eq(tls_lab_cert(home, &cert2, &key2, &err), 0);
	ck_assert_str_eq(cert, cert2);
	ck_assert_str_eq(key, key2);
	free(cert2);
	free(key2);

	http_server *srv = start(0, 0, cert, key);
	char *u = xasprintf("https://127.0.0.1:%d/items/tls", http_server_port(srv));
	char *ca = xasprintf("%s/tls/lab.crt", home);
	http_request rq = {.url = u};
	http_response r;

	http_client_opts insecure = {.timeout_ms = 5000};
	ck_assert_msg(http_fetch(&insecure, &rq, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, 200);
	http_response_free(&r);

	http_client_opts pinned = {.timeout_ms = 5000, .verify_tls = 1, .ca_file = ca};
	ck_assert_msg(http_fetch(&pinned, &rq, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, 200);
	http_response_free(&r);

	/* the certificate names localhost too */
	char *lu = xasprintf("https://localhost:%d/items/tls", http_server_port(srv));
	http_request lrq = {.url = lu};
	ck_assert_msg(http_fetch(&pinned, &lrq, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, 200);
	http_response_free(&r);
	free(lu);

	/* the final 102 over TLS */
	char *u102 = xasprintf("https://127.0.0.1:%d/status/102", http_server_port(srv));
	http_request rq102 = {.url = u102};
	ck_assert_msg(http_fetch(&pinned, &rq102, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, 102);
	http_response_free(&r);
	free(u102);

	/* verification against the system CAs refuses the self-signed cert */
	http_client_opts system = {.timeout_ms = 5000, .verify_tls = 1};
	ck_assert_int_eq(http_fetch(&system, &rq, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EIO);

	/* plain HTTP to the TLS port gets no HTTP answer */
	char *plain = xasprintf("http://127.0.0.1:%d/items/tls", http_server_port(srv));
	http_request prq = {.url = plain};
	if (http_fetch(&insecure, &prq, &r, &err) == 0) {
		ck_assert_int_ne(r.status, 200);
		http_response_free(&r);
	}
	free(plain);
	http_server_stop(srv);
	free(u);
	free(ca);
	free(cert);
	free(key);
	tl_rmrf(home);
	free(home);
}

/* Several processes create the certificate of a fresh home at once: all end
 * up with the same, complete pair. */
TEST(test_lab_cert_concurrent_creation)
{
	char *home = tl_tmpdir("certrace");
	enum { N = 4 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char *c, *k;
			ctd_err err;
			int rc = tls_lab_cert(home, &c, &k, &err);
			char *out = xasprintf("%s/out.%d", home, i);
			if (rc == 0)
				file_write_atomic(out, c, strlen(c), 0600, NULL);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < N; i++) {
		int status;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	char *cert, *key;
	ctd_err err;
	ck_assert_int_eq(tls_lab_cert(home, &cert, &key, &err), 0);
	for (int i = 0; i < N; i++) {
		char *path = xasprintf("%s/out.%d", home, i), *got;
		ck_assert_int_eq(file_read(path, &got, NULL, NULL), 0);
		ck_assert_str_eq(got, cert);
		free(got);
		free(path);
	}
	/* the pair matches: a server starts with it */
	http_server *srv = start(0, 0, cert, key);
	http_server_stop(srv);
	free(cert);
	free(key);
	tl_rmrf(home);
	free(home);
}

TEST(test_bind_addresses)
{
	ctd_err err;
	http_server_opts o = {.bind = "256.1.1.1", .routes = routes, .nroutes = 1};
	ck_assert_ptr_null(http_server_start(&o, &err));
	/* a port already taken */
	http_server *srv = start(0, 0, NULL, NULL);
	http_server_opts o2 = {.port = http_server_port(srv), .routes = routes, .nroutes = 1};
	ck_assert_ptr_null(http_server_start(&o2, &err));
	ck_assert_int_eq(err.code, CTD_EIO);
	/* "::" serves IPv4 clients too */
	http_server_opts o4 = {.bind = "::", .routes = routes, .nroutes = 1};
	http_server *any = http_server_start(&o4, &err);
	ck_assert_msg(any != NULL, "%s", err.msg);
	http_response r;
	ck_assert_int_eq(fetch(any, "GET", "/items/v4", NULL, NULL, 0, &r), 200);
	http_response_free(&r);
	http_server_stop(any);
	/* TLS without a certificate */
	http_server_opts o3 = {.tls = 1, .routes = routes, .nroutes = 1};
	ck_assert_ptr_null(http_server_start(&o3, &err));
	http_server_stop(srv);
}

/* ---- route-level authentication ------------------------------------------ */

static int handler_runs;

static void h_guarded(http_req *req, http_resp *resp)
{
	handler_runs++;
	http_resp_json(resp, 200, json_pack("{s:s}", "who", req->auth_info ? req->auth_info : "-"));
}

/* The server's authenticator: "X-Pass: server" (its cls is "server-cls"). */
static int server_check(http_req *req, http_resp *resp)
{
	const char *p = http_req_header(req, "X-Pass");
	if (p && strcmp(p, "server") == 0 && strcmp(req->auth_cls, "server-cls") == 0) {
		req->auth_info = "server";
		return 0;
	}
	http_resp_error(resp, 401, "unauthorized", "server: no");
	return -1;
}

/* A protocol's own authenticator, answering in its own format; it signs
 * the body, so it runs at the headers (body_pending: the header only) and
 * again once the body is in. */
static int custom_calls_pending;

static int custom_check(http_req *req, http_resp *resp)
{
	const char *p = http_req_header(req, "X-Pass");
	custom_calls_pending += req->body_pending;
	if (p && strcmp(p, "custom") == 0 && (req->body_pending || strcmp(req->body, "x") == 0)) {
		req->auth_info = "custom";
		return 0;
	}
	http_resp_text(resp, 401, "text/xml", "<error>custom</error>");
	return -1;
}

static const http_auth server_auth = {"test-server", server_check};
static const http_auth custom_auth = {"test-custom", custom_check, 1};

static const http_route auth_routes[] = {
	{"GET", "/open", h_guarded, HTTP_PUBLIC},
	{"POST", "/default/{id}", h_guarded},
	{"GET", "/custom", h_guarded, &custom_auth},
	{"GET", "/custom/api/{id}", h_guarded, &custom_auth},
};

static long auth_fetch(http_server *srv, const char *method, const char *path, const char *pass,
		       http_response *r)
{
	char *h = xasprintf("X-Pass: %s", pass);
	const char *headers[] = {h, NULL};
	long status = fetch(srv, method, path, headers, "x", 1, r);
	free(h);
	return status;
}

TEST(test_route_auth)
{
	ctd_err err;
	http_server_opts o = {.routes = auth_routes, .nroutes = 4, .auth = &server_auth,
			      .auth_cls = "server-cls"};
	http_server *srv = http_server_start(&o, &err);
	ck_assert_ptr_nonnull(srv);
	http_response r;
	handler_runs = 0;
	ck_assert_int_eq(auth_fetch(srv, "GET", "/open", "none", &r), 200);
	http_response_free(&r);
	/* default: the server's authenticator, checked before the handler */
	ck_assert_int_eq(auth_fetch(srv, "POST", "/default/7", "custom", &r), 401);
	ck_assert_str_eq(error_code(&r), "unauthorized");
	http_response_free(&r);
	ck_assert_int_eq(handler_runs, 1);
	ck_assert_int_eq(auth_fetch(srv, "POST", "/default/7", "server", &r), 200);
	char who[32];
	ck_assert_str_eq(json_field(&r, "who", who, sizeof who), "server");
	http_response_free(&r);
	/* a route's own authenticator replaces the server's, format and all */
	ck_assert_int_eq(auth_fetch(srv, "GET", "/custom", "server", &r), 401);
	ck_assert_str_eq(r.body.data, "<error>custom</error>");
	http_response_free(&r);
	custom_calls_pending = 0;
	ck_assert_int_eq(auth_fetch(srv, "GET", "/custom", "custom", &r), 200);
	ck_assert_str_eq(json_field(&r, "who", who, sizeof who), "custom");
	http_response_free(&r);
	ck_assert_int_eq(custom_calls_pending, 1);
	ck_assert_int_eq(handler_runs, 3);
	/* a check that signs the body still refuses a stranger at the headers:
	 * 401 before 100 Continue, the body never read */
	const char signed_upload[] = "GET /custom HTTP/1.1\r\nHost: t\r\nX-Pass: nobody\r\n"
				     "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n";
	char *refused = raw_exchange(http_server_port(srv), signed_upload, strlen(signed_upload), 1);
	ck_assert_msg(strncmp(refused, "HTTP/1.1 401", 12) == 0, "%s", refused);
	ck_assert_ptr_nonnull(strstr(refused, "<error>custom</error>"));
	ck_assert_ptr_null(strstr(refused, "100 Continue"));
	free(refused);
	/* the server's check reads no body: a stranger's upload is refused unread */
	const char upload[] = "POST /default/7 HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n"
			      "Expect: 100-continue\r\n\r\n";
	char *raw = raw_exchange(http_server_port(srv), upload, strlen(upload), 1);
	ck_assert_msg(strncmp(raw, "HTTP/1.1 401", 12) == 0, "%s", raw);
	free(raw);
	ck_assert_int_eq(handler_runs, 3);
	http_server_stop(srv);
}

/* An unknown path under an authenticated API: the API's authenticator first
 * (its own refusal format), 404 only for a caller it accepts; paths sharing
 * no segment with any route, or only public ones, are plain 404s. */
TEST(test_unknown_path_authenticated_first)
{
	ctd_err err;
	http_server_opts o = {.routes = auth_routes, .nroutes = 4, .auth = &server_auth,
			      .auth_cls = "server-cls"};
	http_server *srv = http_server_start(&o, &err);
	ck_assert_ptr_nonnull(srv);
	http_response r;
	handler_runs = 0;
	ck_assert_int_eq(auth_fetch(srv, "GET", "/custom/api/1/nope", "server", &r), 401);
	ck_assert_str_eq(r.body.data, "<error>custom</error>");
	http_response_free(&r);
	ck_assert_int_eq(auth_fetch(srv, "GET", "//custom/other/", "custom", &r), 404);
	ck_assert_str_eq(error_code(&r), "not_found");
	http_response_free(&r);
	ck_assert_int_eq(auth_fetch(srv, "DELETE", "/default/7/x", "none", &r), 401);
	ck_assert_str_eq(error_code(&r), "unauthorized");
	http_response_free(&r);
	ck_assert_int_eq(auth_fetch(srv, "DELETE", "/default/7/x", "server", &r), 404);
	http_response_free(&r);
	ck_assert_int_eq(auth_fetch(srv, "GET", "/open/x", "none", &r), 404);
	http_response_free(&r);
	ck_assert_int_eq(auth_fetch(srv, "GET", "/elsewhere", "none", &r), 404);
	ck_assert_str_eq(error_code(&r), "not_found");
	http_response_free(&r);
	ck_assert_int_eq(handler_runs, 0);
	http_server_stop(srv);
}
TEST(test_route_auth_refuses_start_without_authenticator)
{
	ctd_err err = {0};
	http_server_opts o = {.routes = auth_routes, .nroutes = 3};
	ck_assert_ptr_null(http_server_start(&o, &err));
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "POST /default/{id}"));
	/* public and self-authenticated routes need no server authenticator */
	http_route declared[] = {auth_routes[0], auth_routes[2]};
	http_server_opts ok = {.routes = declared, .nroutes = 2};
	http_server *srv = http_server_start(&ok, &err);
	ck_assert_ptr_nonnull(srv);
	http_server_stop(srv);
}

TL_SUITE(.timeout = 60);

/* ---- body bounds per route and the server's budget ---------------------- */

static const http_route bound_routes[] = {
	{"POST", "/small", h_echo, HTTP_PUBLIC, 16},
	{"POST", "/default", h_echo, HTTP_PUBLIC},
	{"POST", "/upload", h_echo, HTTP_PUBLIC, HTTP_BODY_UPLOAD},
};

static http_server *start_bounded(size_t max_body, size_t budget)
{
	ctd_err err;
	http_server_opts o = {.routes = bound_routes, .nroutes = 3, .max_body = max_body,
			      .body_budget = budget};
	http_server *srv = http_server_start(&o, &err);
	ck_assert_msg(srv != NULL, "start: %s", srv ? "" : err.msg);
	return srv;
}

/* The headers of a POST of len bytes to path that waits for 100 Continue. */
static char *expect_post(const char *path, size_t len)
{
	return xasprintf("POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n"
			 "Expect: 100-continue\r\n\r\n", path, len);
}

TEST(test_body_bound_per_route)
{
	http_server *srv = start_bounded(8u * 1024 * 1024, 0);
	http_response r;
	ck_assert_int_eq(fetch(srv, "POST", "/small", NULL, "0123456789abcdef", 16, &r), 201);
	http_response_free(&r);
	ck_assert_int_eq(fetch(srv, "POST", "/small", NULL, "0123456789abcdefg", 17, &r), 413);
	ck_assert_str_eq(error_code(&r), "too_large");
	http_response_free(&r);
	/* undeclared: the server's default bound, from Content-Length, unread */
	char *req = expect_post("/default", HTTP_DEFAULT_BODY + 1);
	char *out = raw_exchange(http_server_port(srv), req, strlen(req), 1);
	ck_assert_msg(strncmp(out, "HTTP/1.1 413 ", 13) == 0, "got: %s", out);
	free(out);
	free(req);
	/* an upload route takes up to max_body */
	size_t big = 2 * HTTP_DEFAULT_BODY;
	char *data = xmalloc(big);
	memset(data, 'u', big);
	ck_assert_int_eq(fetch(srv, "POST", "/upload", NULL, data, big, &r), 201);
	ck_assert_int_eq((int)r.body.len, (int)big);
	http_response_free(&r);
	/* chunked over the route's bound: 413 as soon as it passes */
	const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
	ck_assert_int_eq(fetch(srv, "POST", "/default", chunked, data, big, &r), 413);
	http_response_free(&r);
	free(data);
	http_server_stop(srv);
}

TEST(test_body_budget_503)
{
	/* a budget of 4 KiB for bodies of up to 64 KiB */
	http_server *srv = start_bounded(64 * 1024, 4096);
	char *req = expect_post("/upload", 8192);
	char *out = raw_exchange(http_server_port(srv), req, strlen(req), 1);
	ck_assert_msg(strncmp(out, "HTTP/1.1 503 ", 13) == 0, "got: %s", out);
	ck_assert_ptr_nonnull(strcasestr(out, "\r\nRetry-After: "));
	ck_assert_ptr_nonnull(strstr(out, "\"busy\""));
	free(out);
	free(req);
	/* chunked: refused once what it buffered passes the budget */
	http_response r;
	size_t len = 8192;
	char *data = xmalloc(len);
	memset(data, 'c', len);
	const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
	ck_assert_int_eq(fetch(srv, "POST", "/upload", chunked, data, len, &r), 503);
	ck_assert_ptr_nonnull(http_response_header(&r, "Retry-After"));
	http_response_free(&r);
	/* the budget is given back with each answer, not when the server notices
	 * the request's end: back-to-back bodies that fit all go through */
	for (int i = 0; i < 30; i++) {
		ck_assert_msg(fetch(srv, "POST", "/upload", NULL, data, 4000, &r) == 201,
			      "upload %d: HTTP %ld", i, r.status);
		http_response_free(&r);
	}
	free(data);
	http_server_stop(srv);
}
