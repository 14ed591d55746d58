/* http_server.c - HTTP(S) listeners over libmicrohttpd: route table,
 * buffered bodies bounded per route and by a server-wide budget, 404/405/413/
 * 503 with JSON error bodies.
 *
 * Paths are matched the way IIS in front of the real appliances matches them:
 * a run of slashes counts as one and a trailing slash is optional (clients
 * that join "https://host/" and "/WebApp/..." send "//WebApp/..."). An unknown
 * path under an authenticated API is authenticated like that API's routes
 * before it gets 404, so a wrong key reads 401 whatever the path.
 *
 * MHD calls the access handler several times per request: once when the
 * headers are in (we route, authenticate from the headers, check the declared
 * length against the route's bound and reserve it in the budget, so an
 * oversized or unauthenticated body is refused before "100 Continue" is sent
 * and before a byte of it is kept), once per body chunk (we buffer it, or drop
 * it when the answer is already an error), and once at the end (we finish the
 * route's authentication, run its handler and queue its response).
 * Request accessors live in http_req.c, response builders in http_resp.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <microhttpd.h>
#include "http_internal.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "store.h"

#define DEFAULT_MAX_BODY (16u * 1024 * 1024)
#define DEFAULT_THREADS 2
#define CONNECTION_TIMEOUT_S 120
#define CONNECTION_MEMORY_LIMIT (128 * 1024)
/* Refused bodies up to this size are read and dropped before the answer. */
#define MAX_DRAIN (1LL << 30)
/* A handler's whole wait for a store lock: past it the request answers 503
 * with Retry-After (CTD_EBUSY) rather than hold the thread, and the other
 * requests it serves, behind a writer. */
#define REQUEST_STORE_BUDGET_MS 3000
/* What a 503 for a full body budget tells the client to wait (seconds). */
#define BUDGET_RETRY_AFTER "2"

struct http_server {
	struct MHD_Daemon *mhd;
	http_route *routes;
	size_t nroutes;
	size_t max_body;    /* HTTP_BODY_UPLOAD routes' bound */
	size_t body_budget; /* bytes all requests may have buffered at once */
	size_t buffered;    /* bytes reserved now (atomic) */
	int path_nocase;
	void *app;
	const http_auth *auth;
	void *auth_cls;
	int port;
	http_delays *delays; /* requests a fault rule delays */
};

const http_auth http_public = {"public", NULL};

/* Per-request state, MHD's *con_cls. */
typedef struct req_state {
	http_req req;
	sbuf body;
	const http_route *route;
	http_resp error;   /* an error decided before the body: sent after it */
	int has_error;
	size_t limit;      /* the route's body bound */
	size_t reserved;   /* bytes of the server's budget this request holds */
	int too_big;       /* body went over the route's bound while buffering */
	int over_budget;   /* a chunked body found the server's budget spent */
	int queued;        /* the answer is queued (early errors): ignore the rest */
	int interim_sent;  /* a 1xx was queued as the final answer: close now */
	int auth_done;     /* the route's authenticator has run */
	int fault_checked; /* the fault rules were asked (once: a rule's count) */
	int faulted;       /* and one fired: fault holds it */
	fault_hit fault;
	http_route unknown; /* an unknown path under an authenticated API */
	int64_t started_ms;
} req_state;

static const double latency_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
					 0.25,  0.5,   1,    2.5,   5,    10};
static const metric_def requests_total = {
	"ctdlab_http_requests_total", "HTTP requests answered, by method, route and status",
	METRIC_COUNTER, {"method", "route", "status"}};
static const metric_def request_seconds = {
	"ctdlab_http_request_duration_seconds", "HTTP request latency, by route",
	METRIC_HISTOGRAM, {"route"}, latency_buckets,
	sizeof latency_buckets / sizeof latency_buckets[0]};

/* ---- routing ---------------------------------------------------------- */

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
	return strcspn(s, "/");
}

static int seg_equal(const char *a, const char *b, size_t n, int nocase)
{
	return nocase ? strncasecmp(a, b, n) == 0 : strncmp(a, b, n) == 0;
}

/* Match path against pattern; on success fill req's params (when req is
 * not NULL). Both start with '/'. */
static int route_match(const char *pattern, const char *path, int nocase, http_req *req)
{
	const char *p = pattern, *s = path;
	int nparams = 0;
	while (*p == '/') {
		p++;
		if (strcmp(p, "*") == 0) {
			/* a trailing wildcard also matches nothing: "/a" */
			if (*s == '/')
				s++;
			if (req && nparams < HTTP_MAX_PARAMS) {
				req->param_name[nparams] = xstrdup("*");
				req->param_value[nparams++] = xstrdup(s);
			}
			goto matched;
		}
		if (*s != '/')
			return 0;
		s++;
		size_t plen = seg_len(p), slen = seg_len(s);
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0)
				return 0;
			if (req && nparams < HTTP_MAX_PARAMS) {
				req->param_name[nparams] = xstrndup(p + 1, plen - 2);
				req->param_value[nparams++] = xstrndup(s, slen);
			}
		} else if (plen != slen || !seg_equal(p, s, plen, nocase)) {
			return 0;
		}
		p += plen;
		s += slen;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
matched:
	if (req)
		req->nparams = nparams;
	return 1;
}

static void free_params(http_req *req)
{
	for (int i = 0; i < req->nparams; i++) {
		free(req->param_name[i]);
		free(req->param_value[i]);
	}
	req->nparams = 0;
}

static int method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, "*") == 0 || strcasecmp(route_method, method) == 0)
		return 1;
	/* HEAD is a GET without the body (MHD drops the body for us). */
	return strcasecmp(method, "HEAD") == 0 && strcasecmp(route_method, "GET") == 0;
}

/* The path to match: runs of slashes as one, no trailing slash ("/" stays). */
static char *match_path(const char *url)
{
	char *path = xstrdup(url);
	size_t n = 0;
	for (const char *s = url; *s; s++)
		if (*s != '/' || n == 0 || path[n - 1] != '/')
			path[n++] = *s;
	if (n > 1 && path[n - 1] == '/')
		n--;
	path[n] = '\0';
	return path;
}

/* How many leading segments path shares with pattern ({param} matches any). */
static size_t shared_segments(const char *pattern, const char *path, int nocase)
{
	size_t shared = 0;
	while (*pattern == '/' && *path == '/') {
		pattern++;
		path++;
		size_t plen = seg_len(pattern), slen = seg_len(path);
		int param = plen >= 2 && pattern[0] == '{' && pattern[plen - 1] == '}';
		if (slen == 0 || (!param && (plen != slen || !seg_equal(pattern, path, plen, nocase))))
			break;
		shared++;
		pattern += plen;
		path += slen;
	}
	return shared;
}

/* The authenticator of the API an unknown path falls under: that of the
 * routes sharing the most leading segments with it (the first one that
 * checks anything), or NULL when no route shares a segment or those routes
 * are public. */
static const http_auth *prefix_auth(const http_server *srv, const char *path)
{
	size_t best = 0;
	const http_auth *found = NULL;
	for (size_t i = 0; i < srv->nroutes; i++) {
		const http_route *r = &srv->routes[i];
		const http_auth *auth = r->auth ? r->auth : srv->auth;
		size_t n = shared_segments(r->pattern, path, srv->path_nocase);
		if (n > best) {
			best = n;
			found = auth->check ? auth : NULL;
		} else if (n == best && n > 0 && !found && auth->check) {
			found = auth;
		}
	}
	return found;
}

/* Find the route for method + path. Fills *allow (caller frees) with the
 * methods that would match when only the method is wrong. */
static const http_route *route_find(const http_server *srv, const char *method,
				    const char *path, sbuf *allow)
{
	for (size_t i = 0; i < srv->nroutes; i++) {
		const http_route *r = &srv->routes[i];
		if (!route_match(r->pattern, path, srv->path_nocase, NULL))
			continue;
		if (method_matches(r->method, method))
			return r;
		if (!allow->data || !strstr(allow->data, r->method)) {
			if (allow->len)
				sbuf_puts(allow, ", ");
			sbuf_puts(allow, r->method);
		}
	}
	return NULL;
}

/* ---- responses -------------------------------------------------------- */

static void resp_free(http_resp *resp)
{
	sbuf_free(&resp->body);
	for (int i = 0; i < resp->nheaders; i++) {
		free(resp->header_name[i]);
		free(resp->header_value[i]);
	}
	resp->nheaders = 0;
}

/* Metrics by route pattern (never the path: unmatched paths are "none"). */
static void count_request(const req_state *st, int status)
{
	const char *route = st->route ? st->route->pattern : "none";
	char code[8];
	snprintf(code, sizeof code, "%d", status);
	METRIC_INC(requests_total, st->route ? st->req.method : "other", route, code);
	metric_observe(&request_seconds, (double)(time_mono_ms() - st->started_ms) / 1000.0,
		       METRIC_LABELS(route));
}

/* Queue resp on the connection. A 1xx status is sent as the final answer
 * (DDAN's get_report says "still analysing" with a bare 102): MHD treats 1xx
 * as interim and asks for another response, so we send it with
 * "Connection: close" and end the connection on the next call. */
static enum MHD_Result resp_queue(struct MHD_Connection *conn, req_state *st, http_resp *resp)
{
	int status = resp->status;
	if (status < 100 || status > 999) {
		log_error("http.handler", "path=%s status=%d error=\"no valid status\"",
			  st->req.path, status);
		resp_free(resp);
		*resp = (http_resp){0};
		http_resp_error(resp, 500, "internal", "handler produced no response");
		status = 500;
	}
	int interim = status < 200;
	size_t len = interim ? 0 : resp->body.len;
	void *data = interim ? NULL : sbuf_detach(&resp->body);
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(len, data, free);
	if (!r) {
		free(data);
		resp_free(resp);
		return MHD_NO;
	}
	if (resp->content_type && !interim)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->header_name[i], resp->header_value[i]);
	if (interim) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
		st->interim_sent = 1;
	}
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)status, r);
	st->queued = ret == MHD_YES;
	count_request(st, status);
	log_debug("http.request", "method=%s path=%s status=%d bytes=%zu queued=%d",
		  st->req.method, st->req.path, status, len, st->queued);
	MHD_destroy_response(r);
	resp_free(resp);
	return ret;
}

static void set_error(http_resp *resp, int status, const char *code, const char *allow,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_error(http_resp *resp, int status, const char *code, const char *allow,
		      const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	http_resp_error(resp, status, code, "%s", msg);
	if (allow)
		http_resp_header(resp, "Allow", allow);
}

/* ---- the MHD access handler ------------------------------------------- */

static req_state *state_new(http_server *srv, struct MHD_Connection *conn, const char *method,
			    const char *url)
{
	req_state *st = xcalloc(1, sizeof *st);
	st->req.method = xstrdup(method);
	st->req.path = match_path(url);
	st->req.app = srv->app;
	st->req.auth_cls = srv->auth_cls;
	st->req.conn = conn;
	st->req.body = "";
	st->started_ms = time_mono_ms();
	return st;
}

static const http_auth *route_auth(const http_server *srv, const http_route *route)
{
	return route->auth ? route->auth : srv->auth;
}

/* Run the route's authenticator; 0 when the request may go on, else the
 * refusal is in resp. */
static int authenticate(const http_server *srv, req_state *st, http_resp *resp)
{
	const http_auth *auth = route_auth(srv, st->route);
	st->auth_done = 1;
	if (!auth->check || auth->check(&st->req, resp) == 0)
		return 0;
	log_debug("http.auth_refused", "method=%s path=%s auth=%s status=%d", st->req.method,
		  st->req.path, auth->name, resp->status);
	return -1;
}

/* The route is found: its parameters, and its authentication as far as the
 * headers go: all of it when the authenticator needs no body or none comes
 * (a GET is signed and checked once, not again with its empty body). */
static void route_enter(const http_server *srv, req_state *st, int body_follows)
{
	st->req.pattern = st->route->pattern;
	if (st->route != &st->unknown)
		route_match(st->route->pattern, st->req.path, srv->path_nocase, &st->req);
	int body_pending = route_auth(srv, st->route)->reads_body && body_follows;
	st->req.body_pending = body_pending;
	if (authenticate(srv, st, &st->error) == 0 && body_pending)
		st->auth_done = 0; /* the body's part comes once it is in */
	st->req.body_pending = 0;
}

static size_t route_limit(const http_server *srv, const http_route *route)
{
	if (route->max_body == HTTP_BODY_UPLOAD)
		return srv->max_body;
	size_t limit = route->max_body ? route->max_body : HTTP_DEFAULT_BODY;
	return limit < srv->max_body ? limit : srv->max_body;
}

/* Take n bytes of the server's body budget; 0 when they fit. */
static int budget_take(http_server *srv, req_state *st, size_t n)
{
	size_t now = __atomic_add_fetch(&srv->buffered, n, __ATOMIC_RELAXED);
	if (now > srv->body_budget) {
		__atomic_sub_fetch(&srv->buffered, n, __ATOMIC_RELAXED);
		return -1;
	}
	st->reserved += n;
	return 0;
}

static void budget_release(http_server *srv, req_state *st)
{
	__atomic_sub_fetch(&srv->buffered, st->reserved, __ATOMIC_RELAXED);
	st->reserved = 0;
}

static void set_busy(http_resp *resp, const char *path)
{
	set_error(resp, 503, ctd_errcode_name(CTD_EBUSY), NULL,
		  "too many request bodies in progress; try again (%s)", path);
	http_resp_header(resp, "Retry-After", BUDGET_RETRY_AFTER);
}

/* A body of declared length len passed its checks: hold its bytes in the
 * budget and allocate them once (no doubling copies). */
static void body_reserve(http_server *srv, req_state *st, long long len)
{
	if (len <= 0)
		return;
	if (budget_take(srv, st, (size_t)len) != 0) {
		log_warn("http.body_budget", "path=%s bytes=%lld budget=%zu", st->req.path, len,
			 srv->body_budget);
		set_busy(&st->error, st->req.path);
		return;
	}
	st->body.data = xmalloc((size_t)len + 1);
	st->body.data[0] = '\0';
	st->body.cap = (size_t)len + 1;
}

/* The handler of an unknown path whose API accepted the caller. */
static void not_found(http_req *req, http_resp *resp)
{
	http_resp_error(resp, 404, ctd_errcode_name(CTD_ENOTFOUND), "no such path: %s", req->path);
}

/* No route: an unknown path under an authenticated API gets a route of that
 * API answering 404, so its caller is authenticated first. NULL otherwise. */
static const http_route *unknown_route(const http_server *srv, req_state *st)
{
	const http_auth *auth = prefix_auth(srv, st->req.path);
	if (!auth)
		return NULL;
	st->unknown = (http_route){"*", st->req.path, not_found, auth};
	return &st->unknown;
}

/* The body the client declared; -1 for none, or chunked (unknown). */
static long long declared_length(struct MHD_Connection *conn, int *chunked)
{
	*chunked = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(cl, &end, 10);
	return errno || end == cl || n < 0 ? -1 : n;
}

/* Headers are in: route, and check the declared body length. An error is
 * answered now when no body follows or the client waits for "100 Continue"
 * (so it never sends the body). Otherwise the body is read and dropped
 * first: closing on unread data makes the kernel reset the connection, and
 * the client could lose the answer. */
static enum MHD_Result on_headers(http_server *srv, struct MHD_Connection *conn, req_state *st)
{
	int chunked;
	long long len = declared_length(conn, &chunked);
	sbuf allow = {0};
	store_set_thread_budget(REQUEST_STORE_BUDGET_MS); /* this thread serves requests */
	st->route = route_find(srv, st->req.method, st->req.path, &allow);
	if (!st->route && allow.len)
		set_error(&st->error, 405, "method_not_allowed", allow.data,
			  "method %s not allowed on %s", st->req.method, st->req.path);
	else if (!st->route && !(st->route = unknown_route(srv, st)))
		set_error(&st->error, 404, ctd_errcode_name(CTD_ENOTFOUND), NULL,
			  "no such path: %s", st->req.path);
	else if (len > (long long)(st->limit = route_limit(srv, st->route)))
		set_error(&st->error, 413, ctd_errcode_name(CTD_ETOOBIG), NULL,
			  "request body of %lld bytes is over the limit of %zu", len, st->limit);
	else
		route_enter(srv, st, len > 0 || chunked);
	if (st->error.status == 0)
		body_reserve(srv, st, len);
	sbuf_free(&allow);
	st->has_error = st->error.status != 0;
	if (!st->has_error)
		return MHD_YES;
	const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_EXPECT);
	int body_follows = (len > 0 || chunked) && !(expect && strcasecmp(expect,
									   "100-continue") == 0);
	if (body_follows && len <= MAX_DRAIN)
		return MHD_YES;
	return resp_queue(conn, st, &st->error);
}

static void on_body(http_server *srv, req_state *st, const char *data, size_t len)
{
	if (st->has_error || st->too_big || st->over_budget)
		return; /* drained */
	if (st->body.len + len > st->limit) {
		/* chunked upload over the limit */
		st->too_big = 1;
		sbuf_free(&st->body);
		budget_release(srv, st);
		return;
	}
	/* a chunked body (or one longer than declared) takes its budget as it grows */
	size_t need = st->body.len + len;
	if (need > st->reserved && budget_take(srv, st, need - st->reserved) != 0) {
		st->over_budget = 1;
		sbuf_free(&st->body);
		budget_release(srv, st);
		return;
	}
	sbuf_append(&st->body, data, len);
}

/* Queue the answer to a request whose body has served its purpose: its
 * bytes go back to the budget now. MHD notes the request's end only once the
 * client has the answer, and that client's next upload may come first. */
static enum MHD_Result answer(http_server *srv, struct MHD_Connection *conn, req_state *st,
			      http_resp *resp)
{
	enum MHD_Result rc = resp_queue(conn, st, resp);
	sbuf_free(&st->body);
	st->req.body = NULL;
	st->req.body_len = 0;
	budget_release(srv, st);
	return rc;
}

static enum MHD_Result on_complete(http_server *srv, struct MHD_Connection *conn,
				   req_state *st)
{
	if (st->has_error)
		return answer(srv, conn, st, &st->error);
	http_resp resp = {0};
	if (st->too_big) {
		set_error(&resp, 413, ctd_errcode_name(CTD_ETOOBIG), NULL,
			  "request body is over the limit of %zu bytes", st->limit);
		return answer(srv, conn, st, &resp);
	}
	if (st->over_budget) {
		set_busy(&resp, st->req.path);
		return answer(srv, conn, st, &resp);
	}
	st->req.body = st->body.data ? st->body.data : "";
	st->req.body_len = st->body.len;
	if (!st->auth_done && authenticate(srv, st, &resp) != 0)
		return answer(srv, conn, st, &resp);
	if (!st->fault_checked) {
		st->fault_checked = 1;
		st->faulted = http_fault_check(&st->req, &st->fault);
		int delay = st->faulted && st->fault.delay_ms > 0
				    ? http_delay_suspend(srv->delays, conn, st->fault.delay_ms)
				    : 1;
		if (delay == 0)
			return MHD_YES; /* called again once resumed */
		if (delay < 0)
			sleep_ms(st->fault.delay_ms);
	}
	int fault = st->faulted ? http_fault_act(&st->req, &resp, &st->fault) : 0;
	if (fault < 0)
		return MHD_NO;
	if (fault == 0)
		st->route->handler(&st->req, &resp);
	return answer(srv, conn, st, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	http_server *srv = cls;
	req_state *st = *con_cls;
	if (!st) {
		*con_cls = st = state_new(srv, conn, method, url);
		return on_headers(srv, conn, st);
	}
	if (st->interim_sent)
		return MHD_NO; /* the 1xx was the whole answer: close */
	if (st->queued) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		on_body(srv, st, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return on_complete(srv, conn, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	http_server *srv = cls;
	req_state *st = *con_cls;
	if (!st)
		return;
	budget_release(srv, st);
	resp_free(&st->error);
	http_form_free(st->req.form);
	free_params(&st->req);
	free((char *)st->req.method);
	free((char *)st->req.path);
	sbuf_free(&st->body);
	free(st);
	*con_cls = NULL;
}

/* MHD's own diagnostics (client protocol errors, our deliberate close after
 * a 1xx) are of interest only when debugging. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	log_debug("http.mhd", "msg=\"%s\"", msg);
}

/* ---- start / stop ------------------------------------------------------- */

/* Every route must say who may call it: its own authenticator, HTTP_PUBLIC,
 * or (NULL) the server's, which must then exist. */
static int check_route_auth(const http_server_opts *opts, ctd_err *err)
{
	if (opts->auth)
		return 0;
	for (size_t i = 0; i < opts->nroutes; i++)
		if (!opts->routes[i].auth)
			return ctd_fail(err, CTD_EINVAL,
					"route %s %s needs authentication but the server has no "
					"authenticator (declare the route HTTP_PUBLIC or set auth)",
					opts->routes[i].method, opts->routes[i].pattern);
	return 0;
}

http_server *http_server_start(const http_server_opts *opts, ctd_err *err)
{
	const char *bind = opts->bind && *opts->bind ? opts->bind : "127.0.0.1";
	struct sockaddr_storage ss;
	if (check_route_auth(opts, err) != 0 ||
	    net_resolve_bind(bind, opts->port, &ss, NULL, err) != 0)
		return NULL;
	if (opts->tls && (!opts->cert_pem || !opts->key_pem)) {
		ctd_fail(err, CTD_EINVAL, "TLS listener without certificate and key");
		return NULL;
	}

	http_server *srv = xcalloc(1, sizeof *srv);
	srv->routes = xcalloc(opts->nroutes, sizeof *srv->routes);
	if (opts->nroutes)
		memcpy(srv->routes, opts->routes, opts->nroutes * sizeof *srv->routes);
	srv->nroutes = opts->nroutes;
	srv->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	srv->body_budget = opts->body_budget ? opts->body_budget : 2 * srv->max_body;
	srv->path_nocase = opts->path_nocase;
	srv->app = opts->app;
	srv->auth = opts->auth;
	srv->auth_cls = opts->auth_cls;

	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	/* "::" listens on IPv4 too, like 0.0.0.0 for people who type it */
	if (ss.ss_family == AF_INET6)
		flags |= net_is_any6(&ss) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	if (opts->tls)
		flags |= MHD_USE_TLS;
	unsigned int threads = opts->threads > 0 ? (unsigned int)opts->threads : DEFAULT_THREADS;
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)opts->cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)opts->key_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
	srv->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY_LIMIT, MHD_OPTION_ARRAY, opts->tls ? tls_opts : no_opts,
		MHD_OPTION_END);
	if (!srv->mhd) {
		ctd_fail(err, CTD_EIO, "cannot listen on %s:%d%s", bind, opts->port,
			 opts->tls ? " (TLS)" : "");
		free(srv->routes);
		free(srv);
		return NULL;
	}
	srv->delays = http_delays_new();
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : opts->port;
	return srv;
}

int http_server_port(const http_server *srv)
{
	return srv->port;
}

void http_server_stop(http_server *srv)
{
	if (!srv)
		return;
	http_delays_stop(srv->delays);
	MHD_stop_daemon(srv->mhd);
	http_delays_free(srv->delays);
	free(srv->routes);
	free(srv);
}
