/* imsva_testutil.h - helpers of the imsvad integration tests
 * (imsva_testutil.c): start a daemon on ephemeral ports, log in to its admin
 * API, call it, and poll it with a bounded loop until asynchronous processing
 * is visible. */
#ifndef CTD_IMSVA_TESTUTIL_H
#define CTD_IMSVA_TESTUTIL_H

#include <string.h>
#include <sys/types.h>
#include <jansson.h>
#include <check.h>

#define IMSVA_TEST_PASSWORD "lab-admin-pw"

typedef struct imsvad {
	char *home;
	pid_t pid;
	int smtp_port;
	char *api;   /* https://127.0.0.1:N */
	char *auth;  /* "Authorization: Bearer ..." */
} imsvad;

/* tl_http_json with a formatted URL under the admin API. */
json_t *api(imsvad *d, const char *method, const char *body, long *status, const char *fmt,
	    ...) __attribute__((format(printf, 5, 6)));

/* Log in as admin; d->auth gets the bearer header. */
void imsvad_login(imsvad *d);

/* Start imsvad in a fresh home (or the same home again) and log in. */
void imsvad_start(imsvad *d, const char *const *extra);

/* Stop (SIGTERM) and check a clean exit: status 0, so no leak report under
 * the sanitizers. On failure the home (with imsvad.log) is kept. */
void imsvad_stop(imsvad *d, int keep_home);

/* The number of messages in a processing state, -1 on error. */
long imsvad_count(imsvad *d, const char *state);

/* Poll until `count` messages reached `state` (bounded: ~20 s). */
int imsvad_wait_state(imsvad *d, const char *state, long count);

/* Poll a GET until its "count" member reaches n; returns the last body. */
json_t *imsvad_wait_count(imsvad *d, const char *path, long n);

/* Poll the log of `type` until an entry with this action appears (~20 s). */
int imsvad_wait_log(imsvad *d, const char *type, const char *action);

/* Assert that s starts with prefix. */
#define ck_assert_prefix(s, prefix) \
	ck_assert_msg(strncmp((s), (prefix), strlen(prefix)) == 0, "\"%s\" does not start with \"%s\"", \
		      (s), (prefix))

#endif
