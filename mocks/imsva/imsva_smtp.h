/* imsva_smtp.h - IMSVA's ESMTP intake: a pure protocol state machine
 * (smtp_proto_*, unit-tested without sockets) and the libevent server that
 * drives it over bufferevents with STARTTLS (smtp_server_*).
 *
 * The state machine consumes raw bytes and appends replies to an output
 * buffer. When a message is complete it stops consuming and asks for a
 * commit; the caller stores the envelope durably and then reports the result
 * with smtp_proto_commit_done(), which is when the 250 is produced. So a 250
 * after DATA always means "committed". */
#ifndef IMSVA_SMTP_H
#define IMSVA_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "util.h"

struct event_base;

typedef struct smtp_limits {
	const char *hostname;  /* greeting and EHLO name */
	size_t max_line;       /* longest command line, CRLF included */
	size_t max_size;       /* largest message (SIZE); over it: 552 */
	int max_rcpts;         /* recipients per transaction; over it: 452 */
	int max_errors;        /* protocol errors before 421 and close */
	int tls_available;     /* advertise STARTTLS */
} smtp_limits;

/* One accepted message, handed over for commit. */
typedef struct smtp_envelope {
	char *helo;
	char *client_ip;
	int tls;
	char *mail_from;       /* without <>; "" for the null sender */
	char **rcpts;
	int nrcpts;
	sbuf data;             /* the message, CRLF line ends, dot-unstuffed */
	int64_t received_ms;
} smtp_envelope;

typedef enum {
	SMTP_ACT_NONE,     /* keep reading */
	SMTP_ACT_COMMIT,   /* message complete: commit env, then smtp_proto_commit_done */
	SMTP_ACT_STARTTLS, /* reply written: flush it, then start TLS, discard buffered input */
	SMTP_ACT_CLOSE,    /* reply written: flush it, then close */
	/* faults on demand (fault.h): */
	SMTP_ACT_DELAY,    /* hold the reply written for smtp_proto_delay's ms, then act */
	SMTP_ACT_DROP,     /* close now, without a reply */
	SMTP_ACT_RESET     /* reset the connection now (TCP RST) */
} smtp_action;

typedef struct smtp_proto smtp_proto;

smtp_proto *smtp_proto_new(const smtp_limits *lim, const char *client_ip);
void smtp_proto_free(smtp_proto *p);
/* The 220 greeting; with a fault rule on step CONNECT its reply (then
 * SMTP_ACT_CLOSE), a drop or reset, or SMTP_ACT_DELAY. */
smtp_action smtp_proto_greet(smtp_proto *p, sbuf *out);
/* Consume input until it is used up or an action is due. Returns the number of
 * bytes consumed; *act says what the caller must do next. */
size_t smtp_proto_feed(smtp_proto *p, const char *data, size_t len, sbuf *out, smtp_action *act);
/* Take the envelope of the message waiting for commit (after
 * SMTP_ACT_COMMIT); the caller owns it. */
smtp_envelope *smtp_proto_take_envelope(smtp_proto *p);
/* Report the commit: ok → "250 2.0.0 Ok: queued as <queue_id>", else 451. */
void smtp_proto_commit_done(smtp_proto *p, int ok, const char *queue_id, sbuf *out);
/* TLS is now active: forget the session (RFC 3207) and remember TLS. */
void smtp_proto_tls_started(smtp_proto *p);
/* Replies for the idle timeout and for shutdown. */
void smtp_proto_timeout(smtp_proto *p, sbuf *out);
int smtp_proto_in_data(const smtp_proto *p);
/* After SMTP_ACT_DELAY: how long to hold the reply, and the action due after. */
long smtp_proto_delay(smtp_proto *p, smtp_action *after);

void smtp_envelope_free(smtp_envelope *e);

/* ---- the server ---- */

/* Durable commit of an envelope, asynchronous: the committer takes ownership
 * of env and later calls done(ctx, ok, queue_id) on ANY thread; the server
 * bounces it back to the event loop. */
typedef void (*smtp_commit_done_fn)(void *ctx, int ok, const char *queue_id);
typedef void (*smtp_commit_fn)(void *app, smtp_envelope *env, smtp_commit_done_fn done, void *ctx);

typedef struct smtp_server_opts {
	const char *bind;
	int port;                 /* 0: ephemeral */
	smtp_limits limits;
	long long idle_timeout_ms;
	int max_connections;      /* over it: 421 and close */
	const char *cert_pem, *key_pem; /* NULL: no STARTTLS */
	smtp_commit_fn commit;
	void *app;
} smtp_server_opts;

typedef struct smtp_server smtp_server;

/* Listen on opts->bind (IPv4, IPv6 or a host name) with base (which must
 * have been made thread-aware with evthread_use_pthreads before it was
 * created); NULL with err. */
smtp_server *smtp_server_start(struct event_base *base, const smtp_server_opts *opts,
			       ctd_err *err);
int smtp_server_port(const smtp_server *s);
/* Stop listening and close every session (421 to each). */
void smtp_server_stop(smtp_server *s);

#endif
