/* filetype.c - libmagic behind one lock: a single cookie for the process,
 * switched between description and MIME per call. */
#include "filetype.h"

#include <pthread.h>
#include <stdio.h>
#include <magic.h>

static pthread_mutex_t magic_mu = PTHREAD_MUTEX_INITIALIZER;
static magic_t cookie;

/* With magic_mu held. */
static int load_locked(ctd_err *err)
{
	if (cookie)
		return 0;
	magic_t m = magic_open(MAGIC_NONE);
	if (!m)
		return ctd_fail(err, CTD_EINTERNAL, "libmagic: magic_open failed");
	if (magic_load(m, NULL) != 0) {
		ctd_fail(err, CTD_EINTERNAL, "libmagic: cannot load the magic database: %s",
			 magic_error(m) ? magic_error(m) : "unknown error");
		magic_close(m);
		return -1;
	}
	cookie = m;
	return 0;
}

int filetype_init(ctd_err *err)
{
	pthread_mutex_lock(&magic_mu);
	int rc = load_locked(err);
	pthread_mutex_unlock(&magic_mu);
	return rc;
}

int filetype_of(const void *data, size_t len, filetype_view view, char *out, size_t cap,
		ctd_err *err)
{
	pthread_mutex_lock(&magic_mu);
	int rc = load_locked(err);
	if (rc == 0) {
		magic_setflags(cookie, view == FILETYPE_MIME ? MAGIC_MIME_TYPE : MAGIC_NONE);
		const char *m = magic_buffer(cookie, data, len);
		if (m)
			snprintf(out, cap, "%s", m);
		else
			rc = ctd_fail(err, CTD_EINTERNAL, "libmagic: %s",
				      magic_error(cookie) ? magic_error(cookie) : "no answer");
	}
	pthread_mutex_unlock(&magic_mu);
	return rc;
}
