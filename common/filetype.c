/* filetype.c - libmagic for every thread: a small pool of cookies (a cookie
 * is not thread-safe), each switched between description and MIME per call.
 * One cookie behind one lock made libmagic, most of a message's processing
 * in imsvad, run one worker at a time; a cookie costs about 2.5 MB private
 * memory, so the pool grows only as far as threads really use it at once. */
#include "filetype.h"

#include <pthread.h>
#include <stdio.h>
#include <magic.h>

#define MAX_COOKIES 4

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static magic_t idle[MAX_COOKIES];
static int nidle, ncookies;

static magic_t cookie_load(ctd_err *err)
{
	magic_t m = magic_open(MAGIC_NONE);
	if (!m) {
		ctd_fail(err, CTD_EINTERNAL, "libmagic: magic_open failed");
		return NULL;
	}
	if (magic_load(m, NULL) != 0) {
		ctd_fail(err, CTD_EINTERNAL, "libmagic: cannot load the magic database: %s",
			 magic_error(m) ? magic_error(m) : "unknown error");
		magic_close(m);
		return NULL;
	}
	return m;
}

/* An idle cookie, or a new one while the pool has room (loaded outside the
 * lock: loading takes milliseconds), else wait for one to come back. */
static magic_t cookie_take(ctd_err *err)
{
	pthread_mutex_lock(&pool_mu);
	while (!nidle && ncookies == MAX_COOKIES)
		pthread_cond_wait(&pool_cv, &pool_mu);
	if (nidle) {
		magic_t m = idle[--nidle];
		pthread_mutex_unlock(&pool_mu);
		return m;
	}
	ncookies++;
	pthread_mutex_unlock(&pool_mu);
	magic_t m = cookie_load(err);
	if (!m) {
		pthread_mutex_lock(&pool_mu);
		ncookies--;
		pthread_cond_signal(&pool_cv);
		pthread_mutex_unlock(&pool_mu);
	}
	return m;
}

static void cookie_give_back(magic_t m)
{
	pthread_mutex_lock(&pool_mu);
	idle[nidle++] = m;
	pthread_cond_signal(&pool_cv);
	pthread_mutex_unlock(&pool_mu);
}

int filetype_init(ctd_err *err)
{
	magic_t m = cookie_take(err);
	if (!m)
		return -1;
	cookie_give_back(m);
	return 0;
}

int filetype_of(const void *data, size_t len, filetype_view view, char *out, size_t cap,
		ctd_err *err)
{
	magic_t m = cookie_take(err);
	if (!m)
		return -1;
	int rc = 0;
	magic_setflags(m, view == FILETYPE_MIME ? MAGIC_MIME_TYPE : MAGIC_NONE);
	const char *answer = magic_buffer(m, data, len);
	if (answer)
		snprintf(out, cap, "%s", answer);
	else
		rc = ctd_fail(err, CTD_EINTERNAL, "libmagic: %s",
			      magic_error(m) ? magic_error(m) : "no answer");
	cookie_give_back(m);
	return rc;
}
