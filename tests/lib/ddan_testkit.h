/* ddan_testkit.h - helpers of the DDAN integration tests (ddan_testkit.c):
 * start/stop ddand, a DTAS request builder that reproduces each public
 * client's signing style, a raw TLS client for HTTP 102, and polling. The
 * checksum is computed independently of common/dtas.c: SHA1(key + values in
 * the chosen order + body). */
#ifndef CTD_DDAN_TESTKIT_H
#define CTD_DDAN_TESTKIT_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "http_client.h"

typedef struct tk_daemon {
	char *home;
	pid_t pid;
	json_t *ready;
	const char *url; /* https://127.0.0.1:PORT */
	const char *key;
	int port;
} tk_daemon;

/* Start ddand (analysis 100 ms) with extra args; asserts it became ready. */
void tk_start(tk_daemon *d, const char *tag, const char *const *extra);

/* Stop it with a clean exit (asserted) and keep its home; tk_resume starts
 * it again in the same home (the same lab.db). */
void tk_halt(tk_daemon *d);
void tk_resume(tk_daemon *d, const char *const *extra);

/* Stop it, assert a clean exit (else show its log), remove its home. */
void tk_stop(tk_daemon *d);

/* A client style: which headers, in which order, how signed. */
typedef struct tk_style {
	const char *name;
	const char *const *wire;   /* header names sent first, in order ("Name" or NULL-end) */
	int order_header;          /* send X-DTAS-ChecksumCalculatingOrder */
	int time_last_in_order;    /* dd-py: Time/Challenge listed last but sent first */
	int ms_time;               /* Siemplify: 13-digit X-DTAS-Time */
	int nospace;               /* PHP: "Name:value" */
	int body_in_checksum;      /* the PUT body enters the checksum */
	const char *protocol;
	const char *uuid;
	const char *challenge;     /* reused challenge (NULL: a fresh one) */
	const char *fixed_time;    /* X-DTAS-Time to send instead of now */
} tk_style;


/* One signed DTAS request in style s. params: "X-DTAS-Name", "value" pairs
 * (NULL-terminated) sent after the common headers. Returns the status. */
long tk_call(const tk_daemon *d, const tk_style *s, const char *method, const char *service,
	     const char *const *params, const void *body, size_t body_len, const char *ctype,
	     const http_form_part *form, size_t nform, http_response *resp);

/* Same, discarding the body. */
long tk_status(const tk_daemon *d, const tk_style *s, const char *method, const char *service,
	       const char *const *params, const void *body, size_t len, const char *ctype);

/* Poll get_brief_report (PUT, body in checksum) until the sample has a final
 * status; returns the STATUS and fills *risk. Bounded: 30 s. */
int tk_wait_done(const tk_daemon *d, const tk_style *s, const char *sha1, int *risk);

/* A raw HTTPS request (libcurl would wait through a 102): the status of the
 * first status line; *out gets everything read (caller frees). */
int tk_raw(const tk_daemon *d, const char *request, char **out);

/* A signed GET written by hand (order header, seconds). */
char *tk_raw_get(const tk_daemon *d, const char *service, const char *sha1);

/* dd-py's style (protocol 1.5, order header, body in the checksum). */
extern const tk_style tk_ddpy;
/* Register as dd-py, submit data as file `filename` (multipart
 * simple_upload_sample) and wait for its verdict (asserted done); its
 * SHA-1 into sha1. */
void tk_submit_wait(const tk_daemon *d, const char *data, const char *filename, char sha1[41]);

/* SHA-1 of data in upper-case hex, as DDAN lists it. */
void tk_sha1_upper(const void *data, size_t len, char out[41]);

#endif
