/* imsva_smtp.c - IMSVA's SMTP listener: libevent bufferevents around the
 * pure state machine of imsva_smtp_proto.c, STARTTLS through
 * bufferevent_openssl with the lab certificate, the idle timeout and the
 * connection limit.
 *
 * Commits are asynchronous (the intake queue batches them; a committer may
 * even report from another thread). Completions come back through a
 * mutex-protected list and one event made active; sessions are found again
 * by id, so a client that hung up meanwhile is simply no longer there.
 *
 * A fault rule's delay (SMTP_ACT_DELAY) holds the step's reply on a timer
 * with input paused; drop and reset end the session at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include "imsva_smtp.h"
#include "log.h"
#include "metrics.h"
#include "net.h"

typedef struct session {
	struct session *next;
	uint64_t id;
	struct smtp_server *srv;
	struct bufferevent *bev;
	smtp_proto *proto;
	char ip[64];
	int closing;         /* flush the output, then free */
	int committing;      /* a commit is outstanding: input paused */
	int throttled;       /* the client does not read its replies: input paused */
	struct event *close_timer; /* TLS: waits for the socket's own buffer */
	int close_polls;
	struct event *hold_timer;  /* a fault's delay: the reply waits in held */
	sbuf held;
	smtp_action after_hold;
} session;

static const metric_def smtp_sessions = {
	"ctdlab_smtp_sessions_total", "SMTP connections accepted", METRIC_COUNTER};

typedef struct completion {
	struct completion *next;
	struct smtp_server *srv;
	uint64_t session_id;
	int ok;
	char queue_id[64];
} completion;

struct smtp_server {
	smtp_server_opts opts;
	struct event_base *base;
	struct evconnlistener *listener;
	SSL_CTX *ssl_ctx;
	session *sessions;
	int nsessions;
	uint64_t next_id;
	pthread_mutex_t lock; /* completions */
	completion *done;
	struct event *done_ev;
	int port;
};

static void session_read(struct bufferevent *bev, void *arg);
static void session_write(struct bufferevent *bev, void *arg);
static void session_event(struct bufferevent *bev, short what, void *arg);
static void session_timeouts(session *s, struct bufferevent *bev);

static void session_free(session *s)
{
	smtp_server *srv = s->srv;
	for (session **pp = &srv->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	srv->nsessions--;
	if (s->close_timer)
		event_free(s->close_timer);
	if (s->hold_timer)
		event_free(s->hold_timer);
	sbuf_free(&s->held);
	if (s->bev)
		bufferevent_free(s->bev);
	smtp_proto_free(s->proto);
	free(s);
}

static void session_send(session *s, sbuf *out)
{
	if (out->len)
		bufferevent_write(s->bev, out->data, out->len);
	out->len = 0;
}

/* Bytes not yet handed to the kernel: with TLS the filter passes its output
 * on to the socket bufferevent underneath, which drains on its own. */
static size_t pending_output(session *s)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	if (under)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

#define CLOSE_POLL_MS 5
#define CLOSE_POLL_MAX 200

static void close_poll(evutil_socket_t fd, short what, void *arg)
{
	session *s = arg;
	if (pending_output(s) == 0 || ++s->close_polls >= CLOSE_POLL_MAX) {
		session_free(s);
		return;
	}
	struct timeval tv = {0, CLOSE_POLL_MS * 1000};
	evtimer_add(s->close_timer, &tv);
}

/* Close once everything written has gone out. Returns 1 when the session
 * was freed at once (the caller must not touch it again). */
static int session_close_after_flush(session *s)
{
	s->closing = 1;
	bufferevent_disable(s->bev, EV_READ);
	if (pending_output(s) > 0) {
		if (bufferevent_get_underlying(s->bev) && !s->close_timer) {
			s->close_timer = evtimer_new(s->srv->base, close_poll, s);
			close_poll(-1, 0, s);
		}
		return 0;
	}
	session_free(s);
	return 1;
}

static int start_tls(session *s)
{
	SSL *ssl = SSL_new(s->srv->ssl_ctx);
	if (!ssl)
		return -1;
	/* RFC 3207: anything the client pipelined after STARTTLS is discarded */
	struct evbuffer *in = bufferevent_get_input(s->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	struct bufferevent *tls = bufferevent_openssl_filter_new(
		s->srv->base, s->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tls)
		return -1;
	s->bev = tls;
	bufferevent_setcb(tls, session_read, session_write, session_event, s);
	session_timeouts(s, tls);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	smtp_proto_tls_started(s->proto);
	return 0;
}

static void commit_done_cb(void *ctx, int ok, const char *queue_id)
{
	completion *c = ctx;
	c->ok = ok;
	snprintf(c->queue_id, sizeof c->queue_id, "%s", queue_id ? queue_id : "");
	smtp_server *srv = c->srv;
	pthread_mutex_lock(&srv->lock);
	c->next = srv->done;
	srv->done = c;
	pthread_mutex_unlock(&srv->lock);
	event_active(srv->done_ev, EV_READ, 0);
}

/* Feed buffered input to the state machine until it is used up, or the
 * session must wait (commit), switch to TLS or close. */
/* A client that pipelines without reading its replies is not served further
 * until they drained: our output stays bounded. */
#define MAX_PENDING_REPLIES (256 * 1024)

static void session_pump(session *s);

static void start_commit(session *s)
{
	s->committing = 1;
	bufferevent_disable(s->bev, EV_READ);
	completion *c = xcalloc(1, sizeof *c);
	c->srv = s->srv;
	c->session_id = s->id;
	s->srv->opts.commit(s->srv->opts.app, smtp_proto_take_envelope(s->proto), commit_done_cb,
			    c);
}

/* A fault's drop or reset: the session ends now, nothing more is sent. */
static void session_abort(session *s, int reset)
{
	if (reset) {
		struct bufferevent *under = bufferevent_get_underlying(s->bev);
		struct linger lg = {1, 0};
		setsockopt(bufferevent_getfd(under ? under : s->bev), SOL_SOCKET, SO_LINGER, &lg,
			   sizeof lg);
	}
	log_info("smtp.fault_closed", "client=%s reset=%d", s->ip, reset);
	session_free(s);
}

static void hold_done(evutil_socket_t fd, short what, void *arg);

/* Hold the reply in out for the fault's delay, input paused. */
static void session_hold(session *s, sbuf *out)
{
	long ms = smtp_proto_delay(s->proto, &s->after_hold);
	sbuf_append(&s->held, out->data ? out->data : "", out->len);
	out->len = 0;
	bufferevent_disable(s->bev, EV_READ);
	if (!s->hold_timer)
		s->hold_timer = evtimer_new(s->srv->base, hold_done, s);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(s->hold_timer, &tv);
}

/* Do what act asks once the replies went out. Returns 1 when pumping must
 * stop (s may be gone). */
static int session_act(session *s, smtp_action act)
{
	switch (act) {
	case SMTP_ACT_COMMIT:
		start_commit(s);
		return 0;
	case SMTP_ACT_STARTTLS:
		if (start_tls(s) < 0) {
			log_warn("smtp.tls_failed", "client=%s", s->ip);
			session_close_after_flush(s);
		}
		return 1; /* the input buffer was discarded */
	case SMTP_ACT_CLOSE:
		session_close_after_flush(s);
		return 1;
	case SMTP_ACT_DROP:
	case SMTP_ACT_RESET:
		session_abort(s, act == SMTP_ACT_RESET);
		return 1;
	default:
		return 0;
	}
}

static void hold_done(evutil_socket_t fd, short what, void *arg)
{
	session *s = arg;
	session_send(s, &s->held);
	if (session_act(s, s->after_hold))
		return;
	if (s->committing)
		return;
	bufferevent_enable(s->bev, EV_READ);
	session_pump(s);
}

static int holding(const session *s)
{
	return s->hold_timer && evtimer_pending(s->hold_timer, NULL);
}

static void session_pump(session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	sbuf out = {0};
	smtp_action act = SMTP_ACT_NONE;
	while (!s->committing && !s->closing && !holding(s) && evbuffer_get_length(in) > 0) {
		if (pending_output(s) > MAX_PENDING_REPLIES) {
			s->throttled = 1;
			bufferevent_disable(s->bev, EV_READ);
			break;
		}
		size_t n = evbuffer_get_length(in);
		const char *data = (const char *)evbuffer_pullup(in, (ssize_t)n);
		size_t used = smtp_proto_feed(s->proto, data, n, &out, &act);
		evbuffer_drain(in, used);
		if (act == SMTP_ACT_DELAY) {
			session_hold(s, &out);
			break;
		}
		session_send(s, &out);
		if (session_act(s, act))
			break; /* s may be gone */
		if (act == SMTP_ACT_NONE && used == 0)
			break;
	}
	sbuf_free(&out);
}

static void completions_run(evutil_socket_t fd, short what, void *arg)
{
	smtp_server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	completion *list = srv->done;
	srv->done = NULL;
	pthread_mutex_unlock(&srv->lock);
	while (list) {
		completion *c = list;
		list = c->next;
		session *s = srv->sessions;
		while (s && s->id != c->session_id)
			s = s->next;
		if (s && s->committing) {
			sbuf out = {0};
			smtp_proto_commit_done(s->proto, c->ok, c->queue_id, &out);
			session_send(s, &out);
			sbuf_free(&out);
			s->committing = 0;
			bufferevent_enable(s->bev, EV_READ);
			session_pump(s); /* pipelined commands already buffered */
		}
		free(c);
	}
}

static void session_read(struct bufferevent *bev, void *arg)
{
	session_pump(arg);
}

static void session_write(struct bufferevent *bev, void *arg)
{
	session *s = arg;
	if (s->closing && !s->close_timer && pending_output(s) == 0) {
		session_free(s);
	} else if (s->throttled && !s->closing) {
		s->throttled = 0;
		if (!s->committing && !holding(s))
			bufferevent_enable(s->bev, EV_READ);
		session_pump(s);
	}
}

static void session_event(struct bufferevent *bev, short what, void *arg)
{
	session *s = arg;
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !s->closing) {
		sbuf out = {0};
		smtp_proto_timeout(s->proto, &out);
		session_send(s, &out);
		sbuf_free(&out);
		log_info("smtp.timeout", "client=%s", s->ip);
		session_close_after_flush(s);
		return;
	}
	/* hung up, broken, or not reading its replies for the idle time; a
	 * commit in flight still finishes: its completion finds no session */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		session_free(s);
}

/* The idle timeout applies to reading commands and to writing replies. */
static void session_timeouts(session *s, struct bufferevent *bev)
{
	long long idle = s->srv->opts.idle_timeout_ms;
	if (idle > 0) {
		struct timeval tv = {idle / 1000, (idle % 1000) * 1000};
		bufferevent_set_timeouts(bev, &tv, &tv);
	}
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	smtp_server *srv = arg;
	session *s = xcalloc(1, sizeof *s);
	s->srv = srv;
	s->id = ++srv->next_id;
	metric_add(&smtp_sessions, 1, NULL);
	net_addr_text(sa, s->ip, sizeof s->ip);
	if (!*s->ip)
		snprintf(s->ip, sizeof s->ip, "unknown");
	s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->proto = smtp_proto_new(&srv->opts.limits, s->ip);
	s->next = srv->sessions;
	srv->sessions = s;
	srv->nsessions++;
	bufferevent_setcb(s->bev, session_read, session_write, session_event, s);
	session_timeouts(s, s->bev);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (srv->opts.max_connections > 0 && srv->nsessions > srv->opts.max_connections) {
		const char *busy = "421 4.7.0 Error: too many connections\r\n";
		bufferevent_write(s->bev, busy, strlen(busy));
		session_close_after_flush(s);
		return;
	}
	sbuf out = {0};
	smtp_action act = smtp_proto_greet(s->proto, &out);
	if (act == SMTP_ACT_DELAY) {
		session_hold(s, &out);
	} else {
		session_send(s, &out);
		session_act(s, act);
	}
	sbuf_free(&out);
}

static SSL_CTX *ssl_ctx_from_pem(const char *cert_pem, const char *key_pem)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	int ok = ctx && cert && key && SSL_CTX_use_certificate(ctx, cert) == 1
		 && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

smtp_server *smtp_server_start(struct event_base *base, const smtp_server_opts *opts,
			       ctd_err *err)
{
	metric_register(&smtp_sessions);
	smtp_server *srv = xcalloc(1, sizeof *srv);
	srv->opts = *opts;
	srv->base = base;
	pthread_mutex_init(&srv->lock, NULL);
	if (opts->cert_pem && opts->key_pem) {
		srv->ssl_ctx = ssl_ctx_from_pem(opts->cert_pem, opts->key_pem);
		if (!srv->ssl_ctx)
			log_warn("smtp.tls_unavailable", "reason=%s", "bad certificate or key");
	}
	srv->opts.limits.tls_available = srv->ssl_ctx != NULL;
	int fd = net_listen(opts->bind, opts->port, &srv->port, err);
	if (fd < 0)
		goto fail;
	/* backlog 0: net_listen has called listen() */
	srv->listener = evconnlistener_new(base, on_accept, srv, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (!srv->listener) {
		ctd_fail(err, CTD_EIO, "cannot listen on %s:%d", opts->bind, opts->port);
		close(fd);
		goto fail;
	}
	srv->done_ev = event_new(base, -1, 0, completions_run, srv);
	return srv;
fail:
	SSL_CTX_free(srv->ssl_ctx);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return NULL;
}

int smtp_server_port(const smtp_server *s)
{
	return s->port;
}

void smtp_server_stop(smtp_server *srv)
{
	if (!srv)
		return;
	evconnlistener_free(srv->listener);
	while (srv->sessions) {
		session *s = srv->sessions;
		if (!s->closing && !smtp_proto_in_data(s->proto)
		    && !bufferevent_get_underlying(s->bev)) {
			const char *bye = "421 4.3.2 Service shutting down\r\n";
			/* best effort, clear-text sessions only: the socket closes right after */
			send(bufferevent_getfd(s->bev), bye, strlen(bye), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		session_free(s);
	}
	pthread_mutex_lock(&srv->lock);
	while (srv->done) {
		completion *c = srv->done;
		srv->done = c->next;
		free(c);
	}
	pthread_mutex_unlock(&srv->lock);
	event_free(srv->done_ev);
	SSL_CTX_free(srv->ssl_ctx);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
