/* http_client.h - blocking HTTP(S) requests over libcurl with timeouts, TLS
 * verification on or off, and retries with exponential backoff on connection
 * failures and 502/503/504. Call from worker threads, never the event loop. */
#ifndef CTD_HTTP_CLIENT_H
#define CTD_HTTP_CLIENT_H

#include <stddef.h>
#include "err.h"
#include "util.h"

typedef struct http_client_opts {
	long timeout_ms;   /* whole request; 0 = 10 s */
	int verify_tls;    /* 0: accept the lab's self-signed certificates */
	int retries;       /* extra attempts after the first */
	long backoff_ms;   /* first backoff, doubled each retry; 0 = 200 ms */
	const char *ca_file; /* with verify_tls: trust this PEM (e.g. <home>/tls/lab.crt)
			      * instead of the system CAs; NULL = system */
	int keep_alive;    /* reuse this thread's connection to the peer (see below) */
} http_client_opts;

typedef struct http_form_part {
	const char *name;
	const void *data;   /* NULL with data_len 0: an empty part */
	size_t data_len;
	const char *filename;    /* NULL: a plain field */
	const char *content_type;
} http_form_part;

typedef struct http_request {
	const char *method;            /* NULL = GET, or POST when a body is given */
	const char *url;
	const char *const *headers;    /* "Name: value" strings, NULL-terminated, or NULL */
	const void *body;
	size_t body_len;
	const http_form_part *form;    /* multipart/form-data instead of body */
	size_t nform;
} http_request;

typedef struct http_response {
	long status;
	sbuf body;
	int nheaders;
	char **header_name, **header_value;
} http_response;

/* keep_alive: the calling thread keeps its connections between requests
 * made with it, so a poller skips a TCP and TLS handshake per call. The cost:
 * libcurl retries a request once on a new connection when a kept one fails
 * before any answer, so a peer's one-time drop or reset (a fault rule) is not
 * seen. Without it every request has its own connection.
 *
 * 0 when a response arrived (any status), -1 with err when none did.
 * A 1xx that ends the exchange (DDAN's bare 102) is returned as the status,
 * with no body; libcurl would otherwise wait for a final status, so a peer
 * that sends 102 and keeps the connection open costs the whole timeout. */
int http_fetch(const http_client_opts *opts, const http_request *req, http_response *resp,
	       ctd_err *err);
const char *http_response_header(const http_response *resp, const char *name);
void http_response_free(http_response *resp);

#endif
