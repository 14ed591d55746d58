/* http_server.h - HTTP(S) listeners over libmicrohttpd with a route table.
 *
 * Handlers run on the server's thread pool with the whole request body
 * buffered, bounded per route (http_route.max_body: a larger body gets 413,
 * from Content-Length before it is read, or as soon as a chunked body passes
 * the bound) and by a server-wide budget of buffered bytes (a body that does
 * not fit while others are buffered gets 503 with Retry-After). Paths match
 * with runs of slashes as one and an optional trailing slash (req->path is
 * the path so reduced: "//a//b/" is "/a/b"). Unknown paths get 404 and wrong
 * methods 405, both with the uniform JSON error body
 * {"error":{"code":"...","message":"..."}}; an unknown path under an
 * authenticated API (sharing leading segments with its routes) is
 * authenticated like them first, so a stranger reads the API's 401.
 *
 * Authentication is declared per route and checked by the server before the
 * handler runs, so no handler can forget it: a route's `auth` is NULL for the
 * server's own authenticator (http_server_opts.auth, the console sessions),
 * HTTP_PUBLIC for no authentication, or a protocol's authenticator (DTAS
 * checksums, JWT). A table with a NULL route and no server authenticator does
 * not start. */
#ifndef CTD_HTTP_SERVER_H
#define CTD_HTTP_SERVER_H

#include <stddef.h>
#include <sys/socket.h>
#include <jansson.h>
#include "err.h"
#include "util.h"

struct MHD_Connection;
typedef struct http_server http_server;

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_RESP_HEADERS 16

typedef struct http_req {
	const char *method;
	const char *path;       /* decoded path, no query, slashes reduced */
	const char *body;       /* NUL-terminated copy of the body ("" if none) */
	size_t body_len;
	void *app;              /* http_server_opts.app */
	const char *pattern;    /* the matched route's pattern */
	int nparams;
	char *param_name[HTTP_MAX_PARAMS];
	char *param_value[HTTP_MAX_PARAMS];
	struct MHD_Connection *conn;
	void *form;             /* parsed multipart/urlencoded body, lazily */
	void *auth_cls;         /* http_server_opts.auth_cls (the session table) */
	const void *auth_info;  /* what the route's authenticator found, for the handler */
	int body_pending;       /* for authenticators: headers only, the body is not read yet */
} http_req;

typedef struct http_resp {
	int status;
	const char *content_type;
	sbuf body;
	int nheaders;
	char *header_name[HTTP_MAX_RESP_HEADERS];
	char *header_value[HTTP_MAX_RESP_HEADERS];
} http_resp;

/* A handler fills resp; any status is allowed. A 1xx (DDAN's "102 still
 * analysing") is sent as the whole answer: status line, "Connection: close",
 * no body, then the connection is closed (MHD takes 1xx as interim, and
 * HTTP/1.0 clients cannot get one at all: their connection just closes). */
typedef void (*http_handler)(http_req *req, http_resp *resp);

/* Who may call a route. check returns 0 to run the handler, or -1 with the
 * refusal (401/403 in the protocol's own format) in resp. It may leave what it
 * found in req->auth_info. A NULL check lets every request through. Every
 * check runs as soon as the headers are in, so a stranger's upload is refused
 * before it is read; a check that reads the body (a signature over it) runs
 * then with req->body_pending set, checking what the headers allow (the
 * signature of the headers, the key, the time), and again once the body is
 * in. */
typedef struct http_auth {
	const char *name; /* for logs: "public", "session", "dtas", "jwt" */
	int (*check)(http_req *req, http_resp *resp);
	int reads_body;   /* check reads req->body: run it once the body is in */
} http_auth;

extern const http_auth http_public;
#define HTTP_PUBLIC (&http_public)

/* A route's body bound (http_route.max_body): 0 is the server's default
 * (HTTP_DEFAULT_BODY, or max_body when smaller); HTTP_BODY_UPLOAD is the
 * server's max_body, for the routes that take files. */
#define HTTP_DEFAULT_BODY (1024u * 1024)
#define HTTP_BODY_UPLOAD ((size_t)-1)

/* pattern: "/api/samples/{sha1}" ({name} matches one segment);
 * a final segment "*" matches any rest. method "*" matches any.
 * auth NULL: the server's authenticator (http_server_opts.auth). */
typedef struct http_route {
	const char *method;
	const char *pattern;
	http_handler handler;
	const http_auth *auth;
	size_t max_body;
} http_route;

typedef struct http_server_opts {
	const char *bind;        /* address; NULL = 127.0.0.1 */
	int port;                /* 0 = ephemeral (see http_server_port) */
	int tls;                 /* serve HTTPS with cert_pem/key_pem */
	const char *cert_pem, *key_pem;
	size_t max_body;         /* upload routes' bound; 0 = 16 MiB */
	size_t body_budget;      /* bytes buffered at once, all requests; 0 = 2 x max_body */
	int threads;             /* 0 = 2 */
	int path_nocase;         /* match routes case-insensitively */
	const http_route *routes;
	size_t nroutes;
	void *app;
	const http_auth *auth;   /* for routes that declare none; NULL: every route must */
	void *auth_cls;          /* handed to handlers and checks as req->auth_cls */
} http_server_opts;

http_server *http_server_start(const http_server_opts *opts, ctd_err *err);
int http_server_port(const http_server *srv);
void http_server_stop(http_server *srv);

const char *http_req_header(const http_req *req, const char *name);
const char *http_req_query(const http_req *req, const char *name);
const char *http_req_param(const http_req *req, const char *name);
/* Every request header, in the order received on the wire. */
void http_req_each_header(const http_req *req,
			  void (*cb)(const char *name, const char *value, void *cls), void *cls);
/* Client address as text ("127.0.0.1"). */
void http_req_client_ip(const http_req *req, char *out, size_t outlen);
/* The same address as the socket gave it (IPv4 or IPv6), or NULL: for a
 * handler that keeps it and makes text of it only when asked. */
const struct sockaddr *http_req_client_addr(const http_req *req);
/* Parse the body as JSON; on failure answer 400 in resp and return NULL. */
json_t *http_req_json(const http_req *req, http_resp *resp);
/* A field of a multipart/form-data or urlencoded body. Returns 0 when found;
 * data stays valid until the request ends. filename/ctype may be NULL. */
int http_req_form(http_req *req, const char *field, const char **data, size_t *len,
		  const char **filename, const char **ctype);

void http_resp_header(http_resp *resp, const char *name, const char *value);
void http_resp_json(http_resp *resp, int status, json_t *body); /* steals body */
void http_resp_text(http_resp *resp, int status, const char *ctype, const char *text);
void http_resp_bytes(http_resp *resp, int status, const char *ctype, const void *data,
		     size_t len);
void http_resp_error(http_resp *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Map a library error to its HTTP status and error body. */
void http_resp_ctd_err(http_resp *resp, const ctd_err *err);
/* 200 with body (stolen), or the error that kept body from being made. */
void http_resp_result(http_resp *resp, json_t *body, const ctd_err *err);

/* The lab certificate under <home>/tls/, created on first use (self-signed,
 * ECDSA P-256, CN=ctdlab, SAN localhost/127.0.0.1). PEM strings are malloc'd. */
int tls_lab_cert(const char *home, char **cert_pem, char **key_pem, ctd_err *err);

#endif
