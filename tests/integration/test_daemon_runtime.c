/* test_daemon_runtime.c - the runtime every daemon shares: --help, bad
 * options refused naming the key, /healthz fields, graceful stop on SIGTERM
 * removing the pid and ready files. Uses bin/spsd as the specimen. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

TEST(test_help_and_bad_option)
{
	char *bin = tl_bin("spsd"), *out;
	const char *help[] = {bin, "--help", NULL};
	ck_assert_int_eq(tl_run(help, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "--port"));
	ck_assert_ptr_nonnull(strstr(out, "CTDLAB_SPS_PORT"));
	free(out);

	const char *bad[] = {bin, "--port", "70000", NULL};
	ck_assert_int_eq(tl_run(bad, &out), 2);
	ck_assert_msg(strstr(out, "sps.port") != NULL, "message does not name the key: %s", out);
	free(out);
	free(bin);
}

TEST(test_healthz_and_graceful_stop)
{
	char *home = tl_tmpdir("runtime");
	const char *args[] = {"--port", "0", "--wrs_port", "0", "--tls", "no", NULL};
	pid_t pid = tl_spawn_daemon("spsd", home, args);
	json_t *ready = tl_wait_ready(home, "sps", 10000);
	ck_assert(ready != NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(ready, "pid")), pid);
	const char *url = tl_listener(ready, "http");
	ck_assert_ptr_nonnull(url);

	char *health = xasprintf("%s/healthz", url);
	long status;
	json_t *h = tl_http_json("GET", health, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(h, "appliance")), "sps");
	ck_assert_str_eq(json_string_value(json_object_get(h, "store")), "ok");
	ck_assert(json_string_value(json_object_get(h, "version")) != NULL);
	ck_assert(json_is_integer(json_object_get(h, "uptime_ms")));
	ck_assert_ptr_null(json_object_get(h, "status")); /* cheap unless asked */
	json_decref(h);
	char *detail = xasprintf("%s/healthz?detail=1", url);
	h = tl_http_json("GET", detail, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(h, "status"), "so_sync"));
	json_decref(h);
	free(detail);

	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	char *pidfile = xasprintf("%s/run/sps.pid", home);
	char *readyfile = xasprintf("%s/run/sps.json", home);
	ck_assert(access(pidfile, F_OK) != 0);
	ck_assert(access(readyfile, F_OK) != 0);
	free(pidfile);
	free(readyfile);
	free(health);
	json_decref(ready);
	tl_rmrf(home);
	free(home);
}

TEST(test_advertised_host_in_ready_file)
{
	char *home = tl_tmpdir("advertise");
	const char *args[] = {"--port", "0", "--wrs_port", "0", "--advertise", "sps.lab.test", NULL};
	pid_t pid = tl_spawn_daemon("spsd", home, args);
	json_t *ready = tl_wait_ready(home, "sps", 10000);
	ck_assert(ready != NULL);
	ck_assert_msg(strncmp(tl_listener(ready, "https"), "https://sps.lab.test:", 21) == 0,
		      "https listener: %s", tl_listener(ready, "https"));
	ck_assert(strncmp(tl_listener(ready, "wrs"), "http://sps.lab.test:", 20) == 0);
	json_decref(ready);
	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	tl_rmrf(home);
	free(home);
}

TL_SUITE(.timeout = 60);
