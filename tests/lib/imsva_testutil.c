/* imsva_testutil.c - the imsvad integration tests' helpers (see imsva_testutil.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

json_t *api(imsvad *d, const char *method, const char *body, long *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path;
	if (vasprintf(&path, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *url = xasprintf("%s%s", d->api, path);
	const char *hdrs[] = {d->auth, "Content-Type: application/json", NULL};
	json_t *j = tl_http_json(method, url, d->auth ? hdrs : hdrs + 1, body, status);
	free(url);
	free(path);
	return j;
}

void imsvad_login(imsvad *d)
{
	long st = 0;
	free(d->auth);
	d->auth = NULL;
	json_t *j = api(d, "POST", "{\"username\":\"admin\",\"password\":\"" IMSVA_TEST_PASSWORD "\"}",
			&st, "/api/login");
	ck_assert_int_eq(st, 200);
	d->auth = xasprintf("Authorization: Bearer %s",
			    json_string_value(json_object_get(j, "token")));
	json_decref(j);
}

void imsvad_start(imsvad *d, const char *const *extra)
{
	if (!d->home)
		d->home = tl_tmpdir("imsva");
	/* a killed daemon leaves its ready file behind: wait for the new one */
	char *stale = xasprintf("%s/run/imsva.json", d->home);
	unlink(stale);
	free(stale);
	const char *args[48] = {"--port", "0", "--smtp_port", "0", "--admin_password",
				IMSVA_TEST_PASSWORD};
	int n = 6;
	for (; extra && *extra && n < 46; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	d->pid = tl_spawn_daemon("imsvad", d->home, args);
	json_t *ready = tl_wait_ready(d->home, "imsva", TL_START_MS);
	ck_assert_msg(ready != NULL, "imsvad did not become ready (see %s/imsvad.log)", d->home);
	const char *smtp = tl_listener(ready, "smtp");
	const char *https = tl_listener(ready, "https");
	ck_assert_ptr_nonnull(smtp);
	ck_assert_ptr_nonnull(https);
	d->smtp_port = atoi(strrchr(smtp, ':') + 1);
	free(d->api);
	d->api = xstrdup(https);
	json_decref(ready);
	imsvad_login(d);
}

void imsvad_stop(imsvad *d, int keep_home)
{
	if (d->pid > 0) {
		int rc = tl_stop(d->pid, 10000);
		d->pid = 0;
		ck_assert_msg(rc == 0, "imsvad exited with status %d: see %s/imsvad.log", rc, d->home);
	}
	if (!keep_home) {
		tl_rmrf(d->home);
		free(d->home);
		d->home = NULL;
	}
	free(d->api);
	free(d->auth);
	d->api = d->auth = NULL;
}

long imsvad_count(imsvad *d, const char *state)
{
	json_t *j = api(d, "GET", NULL, NULL, "/api/status");
	long n = j ? (long)json_integer_value(json_object_get(json_object_get(j, "states"), state))
		   : -1;
	json_decref(j);
	return n;
}

int imsvad_wait_state(imsvad *d, const char *state, long count)
{
	for (int i = 0; i < 400; i++) {
		if (imsvad_count(d, state) >= count)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

json_t *imsvad_wait_count(imsvad *d, const char *path, long n)
{
	json_t *j = NULL;
	for (int i = 0; i < 400; i++) {
		json_decref(j);
		j = api(d, "GET", NULL, NULL, "%s", path);
		if (j && json_integer_value(json_object_get(j, "count")) >= n)
			return j;
		usleep(50 * 1000);
	}
	return j;
}

int imsvad_wait_log(imsvad *d, const char *type, const char *action)
{
	for (int i = 0; i < 400; i++) {
		json_t *j = api(d, "GET", NULL, NULL, "/api/logs?type=%s", type);
		size_t k;
		json_t *r;
		int seen = 0;
		json_array_foreach(json_object_get(j, "logs"), k, r)
		{
			const char *a = json_string_value(json_object_get(r, "action"));
			seen |= a && !strcmp(a, action);
		}
		json_decref(j);
		if (seen)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}
