/* http_fault.c - faults on demand for the HTTP server (fault.h): the rule
 * that matches a request about to run its handler is applied here, as an
 * error answer in the uniform JSON error format, a body that breaks off, a
 * delay, or a connection closed or reset without an answer.
 *
 * A delay suspends the connection in libmicrohttpd and a worker resumes it
 * when it is due: a delay of up to a minute holds no server thread, so two
 * delayed calls do not stall every other client of the daemon. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "http_internal.h"
#include "http_server.h"
#include "log.h"
#include "util.h"
#include "worker.h"

typedef struct delayed {
	struct MHD_Connection *conn;
	int64_t due_ms; /* monotonic */
	struct delayed *next;
} delayed;

struct http_delays {
	pthread_mutex_t mu;
	worker *w;    /* started at the first delay */
	delayed *due; /* suspended connections, in no order */
	int stopping; /* the server is stopping: no more suspensions */
};

/* SO_LINGER 0: the close that follows sends RST instead of FIN. */
static void arm_reset(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	struct linger lg = {1, 0};
	setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void request_of(http_req *req, fault_request *fr, char *ip, size_t iplen)
{
	http_req_client_ip(req, ip, iplen);
	*fr = (fault_request){.point = FAULT_HTTP, .method = req->method, .target = req->path,
			      .route = req->pattern};
	int n = 0;
	fr->clients[n++] = ip;
	const char *ids[] = {"X-DTAS-ClientUUID", "X-DTAS-SourceID"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		const char *v = http_req_header(req, ids[i]);
		if (v)
			fr->clients[n++] = v;
	}
}

int http_fault_check(http_req *req, fault_hit *hit)
{
	if (!fault_armed() || fault_http_exempt(req->path))
		return 0;
	char ip[64];
	fault_request fr;
	request_of(req, &fr, ip, sizeof ip);
	return fault_check(&fr, hit);
}

int http_fault_act(http_req *req, http_resp *resp, const fault_hit *hit)
{
	switch (hit->action) {
	case FAULT_RESET:
		arm_reset(req->conn);
		return -1;
	case FAULT_DROP:
		return -1;
	case FAULT_MALFORMED: {
		char *body = fault_malformed_body(hit);
		http_resp_text(resp, hit->status, "application/json", body);
		free(body);
		return 1;
	}
	case FAULT_RESPOND:
		break;
	}
	if (!hit->status)
		return 0; /* a delay only: then serve as usual */
	http_resp_error(resp, hit->status, "fault_injected", "%s", hit->message);
	return 1;
}

/* The worker's run: resume every connection that is due; the time until
 * the next one is due, or the worker's interval when none waits. */
static int64_t resume_due(void *arg)
{
	http_delays *d = arg;
	int64_t now = time_mono_ms(), next = -1;
	pthread_mutex_lock(&d->mu);
	for (delayed **p = &d->due; *p;) {
		delayed *x = *p;
		if (x->due_ms <= now) {
			MHD_resume_connection(x->conn);
			*p = x->next;
			free(x);
			continue;
		}
		if (next < 0 || x->due_ms - now < next)
			next = x->due_ms - now;
		p = &x->next;
	}
	pthread_mutex_unlock(&d->mu);
	return next;
}

http_delays *http_delays_new(void)
{
	http_delays *d = xcalloc(1, sizeof *d);
	pthread_mutex_init(&d->mu, NULL);
	return d;
}

int http_delay_suspend(http_delays *d, struct MHD_Connection *conn, long ms)
{
	pthread_mutex_lock(&d->mu);
	if (d->stopping) {
		pthread_mutex_unlock(&d->mu);
		return 1;
	}
	if (!d->w) {
		ctd_err err;
		d->w = worker_start("http.delay", 60000, resume_due, d, &err);
		if (!d->w) {
			pthread_mutex_unlock(&d->mu);
			log_warn("http.delay", "error=\"%s\" (the delay holds this thread)", err.msg);
			return -1;
		}
	}
	delayed *x = xcalloc(1, sizeof *x);
	*x = (delayed){conn, time_mono_ms() + ms, d->due};
	d->due = x;
	MHD_suspend_connection(conn);
	pthread_mutex_unlock(&d->mu);
	worker_wake(d->w);
	return 0;
}

void http_delays_stop(http_delays *d)
{
	pthread_mutex_lock(&d->mu);
	d->stopping = 1;
	worker *w = d->w;
	d->w = NULL;
	pthread_mutex_unlock(&d->mu);
	worker_stop(w); /* outside the lock: a run under way takes it */
	pthread_mutex_lock(&d->mu);
	for (delayed *x = d->due, *next; x; x = next) {
		next = x->next;
		MHD_resume_connection(x->conn); /* libmicrohttpd stops only without suspended ones */
		free(x);
	}
	d->due = NULL;
	pthread_mutex_unlock(&d->mu);
}

void http_delays_free(http_delays *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->mu);
	free(d);
}
