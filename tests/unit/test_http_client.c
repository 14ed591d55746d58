/* test_http_client.c - http_fetch against a real lab HTTP server and raw
 * sockets: methods and bodies, binary-safe responses, response headers in
 * order, retries with backoff on 503 and on refused connections, a bounded
 * wait on a silent peer, a 102 that never gets a final status, and a
 * thread's connection kept between its requests when asked (else a new
 * one each time). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http_client.h"
#include "http_server.h"
#include "testlib.h"

static atomic_int flaky_calls;

/* 503 for the first ?fail= calls, then 200. */
static void h_flaky(http_req *req, http_resp *resp)
{
	int n = atomic_fetch_add(&flaky_calls, 1);
	const char *fail = http_req_query(req, "fail");
	if (n < (fail ? atoi(fail) : 0))
		http_resp_error(resp, 503, "busy", "try again (%d)", n);
	else
		http_resp_text(resp, 200, NULL, "finally");
}

/* Method, two headers and the body (hex), echoed back as JSON. */
static void h_echo(http_req *req, http_resp *resp)
{
	const char *tok = http_req_header(req, "X-Token");
	const char *ct = http_req_header(req, "Content-Type");
	char hex[64] = "";
	for (size_t i = 0; i < req->body_len && i < 31; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)req->body[i]);
	http_resp_json(resp, 200, json_pack("{s:s, s:s?, s:s?, s:s}", "method", req->method,
					    "token", tok, "ctype", ct, "body", hex));
}

static void h_binary(http_req *req, http_resp *resp)
{
	unsigned char data[300];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)i;
	http_resp_bytes(resp, 200, "application/octet-stream", data, sizeof data);
	http_resp_header(resp, "X-First", "a");
	http_resp_header(resp, "Set-Cookie", "one=1");
	http_resp_header(resp, "Set-Cookie", "two=2");
	http_resp_header(resp, "X-Last", "z");
}

/* The client's source port: the same port twice is the same connection. */
static void h_port(http_req *req, http_resp *resp)
{
	const struct sockaddr_in *sa = (const struct sockaddr_in *)http_req_client_addr(req);
	char port[8];
	snprintf(port, sizeof port, "%d", ntohs(sa->sin_port));
	http_resp_text(resp, 200, NULL, port);
}

static const http_route routes[] = {
	{"GET", "/flaky", h_flaky, HTTP_PUBLIC},
	{"*", "/echo", h_echo, HTTP_PUBLIC},
	{"GET", "/binary", h_binary, HTTP_PUBLIC},
	{"GET", "/port", h_port, HTTP_PUBLIC},
};

static http_server *srv;

static void setup(void)
{
	ctd_err err;
	http_server_opts o = {.routes = routes, .nroutes = sizeof routes / sizeof routes[0]};
	srv = http_server_start(&o, &err);
	ck_assert_ptr_nonnull(srv);
	atomic_store(&flaky_calls, 0);
}

static void teardown(void)
{
	http_server_stop(srv);
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", http_server_port(srv), path);
}

/* A bare listening socket on 127.0.0.1; returns its fd, port in *port. */
static int raw_listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	socklen_t len = sizeof sa;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Peer thread: accept one connection, send `reply` (may be NULL), then hold
 * the connection open until the client goes away. */
typedef struct raw_peer {
	int lfd;
	const char *reply;
} raw_peer;

static void *raw_peer_run(void *arg)
{
	raw_peer *p = arg;
	int c = accept(p->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	char buf[4096];
	ssize_t n = recv(c, buf, sizeof buf, 0);
	if (n > 0 && p->reply)
		send(c, p->reply, strlen(p->reply), MSG_NOSIGNAL);
	while (recv(c, buf, sizeof buf, 0) > 0)
		;
	close(c);
	return NULL;
}

TEST(test_methods_headers_body)
{
	char *u = url("/echo");
	const char *headers[] = {"X-Token: s3cret", "Content-Type: text/plain", NULL};
	http_request get = {.url = u, .headers = headers};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(http_fetch(NULL, &get, &r, &err), 0);
	ck_assert_int_eq(r.status, 200);
	json_t *doc = json_loads(r.body.data, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "method")), "GET");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "token")), "s3cret");
	json_decref(doc);
	http_response_free(&r);

	/* a body without a method is a POST; the body is binary-safe */
	http_request post = {.url = u, .headers = headers, .body = "a\0b", .body_len = 3};
	ck_assert_int_eq(http_fetch(NULL, &post, &r, &err), 0);
	doc = json_loads(r.body.data, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "method")), "POST");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "body")), "610062");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "ctype")), "text/plain");
	json_decref(doc);
	http_response_free(&r);

	const char *methods[] = {"PUT", "DELETE", "PATCH"};
	for (int i = 0; i < 3; i++) {
		http_request rq = {.method = methods[i], .url = u, .body = "{}", .body_len = 2};
		ck_assert_int_eq(http_fetch(NULL, &rq, &r, &err), 0);
		doc = json_loads(r.body.data, 0, NULL);
		ck_assert_str_eq(json_string_value(json_object_get(doc, "method")), methods[i]);
		ck_assert_str_eq(json_string_value(json_object_get(doc, "body")), "7b7d");
		json_decref(doc);
		http_response_free(&r);
	}
	free(u);
}

TEST(test_binary_body_and_header_order)
{
	char *u = url("/binary");
	http_request rq = {.url = u};
	http_response r;
	ck_assert_int_eq(http_fetch(NULL, &rq, &r, NULL), 0);
	ck_assert_int_eq((int)r.body.len, 300);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq((unsigned char)r.body.data[i], i & 0xff);
	/* our headers in the order the server sent them, repeats kept */
	int at = 0;
	const char *want[][2] = {{"X-First", "a"}, {"Set-Cookie", "one=1"},
				 {"Set-Cookie", "two=2"}, {"X-Last", "z"}};
	for (int i = 0; i < r.nheaders && at < 4; i++)
		if (strcmp(r.header_name[i], want[at][0]) == 0) {
			ck_assert_str_eq(r.header_value[i], want[at][1]);
			at++;
		}
	ck_assert_int_eq(at, 4);
	ck_assert_str_eq(http_response_header(&r, "set-cookie"), "one=1");
	ck_assert_ptr_null(http_response_header(&r, "X-Missing"));
	http_response_free(&r);
	free(u);
}

TEST(test_retry_503_then_200)
{
	char *u = url("/flaky?fail=2");
	http_request rq = {.url = u};
	http_client_opts opts = {.retries = 3, .backoff_ms = 10};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(http_fetch(&opts, &rq, &r, &err), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body.data, "finally");
	ck_assert_int_eq(atomic_load(&flaky_calls), 3);
	http_response_free(&r);
	free(u);
}

TEST(test_retries_exhausted_returns_last_answer)
{
	char *u = url("/flaky?fail=10");
	http_request rq = {.url = u};
	http_client_opts opts = {.retries = 2, .backoff_ms = 5};
	http_response r;
	ck_assert_int_eq(http_fetch(&opts, &rq, &r, NULL), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(strstr(r.body.data, "\"busy\""));
	ck_assert_int_eq(atomic_load(&flaky_calls), 3);
	http_response_free(&r);
	/* no retries asked: one call */
	atomic_store(&flaky_calls, 0);
	ck_assert_int_eq(http_fetch(NULL, &rq, &r, NULL), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_int_eq(atomic_load(&flaky_calls), 1);
	http_response_free(&r);
	free(u);
}

TEST(test_connection_refused)
{
	int port;
	int lfd = raw_listener(&port);
	close(lfd); /* nobody listens there now */
	char *u = xasprintf("http://127.0.0.1:%d/", port);
	http_request rq = {.url = u};
	http_client_opts opts = {.retries = 2, .backoff_ms = 5};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(http_fetch(&opts, &rq, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, u));
	ck_assert_int_eq(r.nheaders, 0);
	ck_assert_ptr_null(r.body.data);
	http_response_free(&r);
	free(u);

	http_request nourl = {0};
	ck_assert_int_eq(http_fetch(NULL, &nourl, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
}

/* A peer that accepts and never answers: the timeout ends the wait. */
TEST(test_timeout_on_silent_peer)
{
	int port;
	raw_peer p = {raw_listener(&port), NULL};
	pthread_t t;
	pthread_create(&t, NULL, raw_peer_run, &p);
	char *u = xasprintf("http://127.0.0.1:%d/x", port);
	http_request rq = {.url = u};
	http_client_opts opts = {.timeout_ms = 300};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(http_fetch(&opts, &rq, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EIO);
	ck_assert_ptr_nonnull(strcasestr(err.msg, "timed out"));
	pthread_join(t, NULL);
	close(p.lfd);
	free(u);
}

/* A DDAN-like peer that answers 102 and keeps the connection open: libcurl
 * waits for a final status; the timeout bounds it and the 102 is returned. */
TEST(test_102_kept_open_is_bounded)
{
	int port;
	raw_peer p = {raw_listener(&port), "HTTP/1.1 102 Processing\r\n\r\n"};
	pthread_t t;
	pthread_create(&t, NULL, raw_peer_run, &p);
	char *u = xasprintf("http://127.0.0.1:%d/web_service/sample_upload/get_report", port);
	http_request rq = {.url = u};
	http_client_opts opts = {.timeout_ms = 300};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(http_fetch(&opts, &rq, &r, &err), 0);
	ck_assert_int_eq(r.status, 102);
	ck_assert_int_eq((int)r.body.len, 0);
	http_response_free(&r);
	pthread_join(t, NULL);
	close(p.lfd);
	free(u);
}

/* A 100 Continue before the final answer is not mistaken for it. */
TEST(test_100_continue_then_final)
{
	int port;
	raw_peer p = {raw_listener(&port),
		      "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
		      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Final: yes\r\n"
		      "Connection: close\r\n\r\nok"};
	pthread_t t;
	pthread_create(&t, NULL, raw_peer_run, &p);
	char *u = xasprintf("http://127.0.0.1:%d/x", port);
	http_request rq = {.url = u};
	http_client_opts opts = {.timeout_ms = 2000};
	http_response r;
	ctd_err err;
	ck_assert_msg(http_fetch(&opts, &rq, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(r.body.data, "ok");
	ck_assert_ptr_null(http_response_header(&r, "X-Interim"));
	ck_assert_str_eq(http_response_header(&r, "X-Final"), "yes");
	http_response_free(&r);
	pthread_join(t, NULL);
	close(p.lfd);
	free(u);
}

static const http_client_opts keep = {.keep_alive = 1};

static int port_seen(const char *u)
{
	http_request rq = {.url = u};
	http_response r;
	ctd_err err;
	ck_assert_msg(http_fetch(&keep, &rq, &r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r.status, 200);
	int port = atoi(r.body.data);
	http_response_free(&r);
	return port;
}

static void *port_seen_thread(void *u)
{
	return (void *)(intptr_t)port_seen(u);
}

TEST(test_connection_kept_when_asked)
{
	char *u = url("/port");
	int first = port_seen(u);
	ck_assert_int_gt(first, 0);
	/* the same thread again, after a request elsewhere on the server too */
	char *other = url("/binary");
	http_request rq = {.url = other};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(http_fetch(&keep, &rq, &r, &err), 0);
	http_response_free(&r);
	ck_assert_int_eq(port_seen(u), first);
	/* a request without keep_alive has a connection of its own */
	rq.url = u;
	ck_assert_int_eq(http_fetch(NULL, &rq, &r, &err), 0);
	ck_assert_int_ne(atoi(r.body.data), first);
	http_response_free(&r);
	/* another thread has its own connection */
	pthread_t t;
	void *theirs;
	pthread_create(&t, NULL, port_seen_thread, u);
	pthread_join(t, &theirs);
	ck_assert_int_ne((int)(intptr_t)theirs, first);
	/* the server restarted on the same port: the kept connection is dead,
	 * the next request connects afresh and succeeds */
	int port = http_server_port(srv);
	http_server_stop(srv);
	ctd_err err2;
	http_server_opts o = {.routes = routes, .nroutes = sizeof routes / sizeof routes[0],
			      .port = port};
	srv = http_server_start(&o, &err2);
	ck_assert_msg(srv != NULL, "%s", err2.msg);
	int again = port_seen(u);
	ck_assert_int_gt(again, 0);
	ck_assert_int_ne(again, first);
	free(other);
	free(u);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 30);
