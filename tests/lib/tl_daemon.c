/* tl_daemon.c - one daemon a test starts in its own temporary home and
 * stops again (see testlib.h, tl_daemon). */
#include <check.h>
#include <stdlib.h>
#include "testlib.h"
#include "util.h"

void tl_daemon_start(tl_daemon *d, const char *daemon, const char *appliance,
		     const char *const *args)
{
	d->home = tl_tmpdir(appliance);
	d->pid = tl_spawn_daemon(daemon, d->home, args);
	d->ready = tl_wait_ready(d->home, appliance, TL_START_MS);
	ck_assert_msg(d->ready != NULL, "%s did not start (see %s)", daemon, d->home);
	const char *url = tl_listener(d->ready, "https");
	d->url = xstrdup(url ? url : tl_listener(d->ready, "http"));
}

void tl_daemon_stop(tl_daemon *d)
{
	ck_assert_int_eq(tl_stop(d->pid, 10000), 0);
	json_decref(d->ready);
	tl_rmrf(d->home);
	free(d->home);
	free(d->url);
}
