/* http_internal.h - what the HTTP server's files share among themselves
 * (not for daemons: use http_server.h). */
#ifndef CTD_HTTP_INTERNAL_H
#define CTD_HTTP_INTERNAL_H

#include "fault.h"

/* Free a request's parsed form (http_req.form); NULL is fine. */
void http_form_free(void *form);

/* Faults on the HTTP server (http_fault.c). http_fault_check: 1 when a rule
 * fires for the request about to run its handler (hit filled; its delay is
 * the caller's to keep), else 0. http_fault_act, after the delay: 0 run the
 * handler, 1 the answer is in resp, -1 close the connection without an
 * answer (drop, or reset: armed on the socket). */
struct http_req;
struct http_resp;
struct MHD_Connection;
int http_fault_check(struct http_req *req, fault_hit *hit);
int http_fault_act(struct http_req *req, struct http_resp *resp, const fault_hit *hit);

/* Delayed requests of one server: http_delay_suspend suspends the
 * connection and a worker (started at the first delay) resumes it once ms
 * have passed: 0. -1 when the worker cannot start (the caller then waits in
 * its own thread), 1 when the server is stopping (no delay). Stopping
 * resumes every waiting connection (libmicrohttpd stops only without
 * suspended ones) and refuses new delays; free after the daemon stopped. */
typedef struct http_delays http_delays;
http_delays *http_delays_new(void);
int http_delay_suspend(http_delays *d, struct MHD_Connection *conn, long ms);
void http_delays_stop(http_delays *d);
void http_delays_free(http_delays *d);

#endif
