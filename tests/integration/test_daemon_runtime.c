/* test_daemon_runtime.c - the runtime every daemon shares: --help, bad
 * options refused naming the key, /healthz fields, graceful stop on SIGTERM
 * and a fatal start-up error both removing the pid and ready files and exiting
 * with 1 while a worker thread runs (bin/spsd as the specimen), and daemon_run stopping every listener before it returns
 * (the runtime in this process). */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon.h"
#include "testlib.h"
#include "util.h"

/* Start-up bound: the first start makes the lab certificate, and a loaded
 * machine under a sanitizer is slow. */

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
	json_t *ready = tl_wait_ready(home, "sps", TL_START_MS);
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
	json_t *ready = tl_wait_ready(home, "sps", TL_START_MS);
	ck_assert(ready != NULL);
	ck_assert_msg(strncmp(tl_listener(ready, "https"), "https://sps.lab.test:", 21) == 0,
		      "https listener: %s", tl_listener(ready, "https"));
	ck_assert(strncmp(tl_listener(ready, "wrs"), "http://sps.lab.test:", 20) == 0);
	json_decref(ready);
	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	tl_rmrf(home);
	free(home);
}

/* A listening socket on 127.0.0.1 that a daemon cannot bind again. */
static int occupy_port(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* fatal() after the pid file is taken: it is removed, and so is a stale
 * ready file, so `ctdlab status` never sees a dead daemon as running. */
TEST(test_fatal_removes_pid_and_ready_files)
{
	char *home = tl_tmpdir("fatal");
	char *rundir = xasprintf("%s/run", home);
	char *pidfile = xasprintf("%s/sps.pid", rundir);
	char *readyfile = xasprintf("%s/sps.json", rundir);
	ck_assert_int_eq(mkdir_p(rundir, 0755, NULL), 0);
	ck_assert_int_eq(file_write_atomic(readyfile, "{}", 2, 0600, NULL), 0);
	int port, busy = occupy_port(&port);
	char portarg[16];
	snprintf(portarg, sizeof portarg, "%d", port);
	const char *args[] = {"--port", portarg, "--wrs_port", "0", "--tls", "no", NULL};
	pid_t pid = tl_spawn_daemon("spsd", home, args);
	siginfo_t info;
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(tl_stop(pid, 5000), 1);
	close(busy);
	ck_assert_msg(access(pidfile, F_OK) != 0, "stale pid file");
	ck_assert_msg(access(readyfile, F_OK) != 0, "stale ready file");
	char *logpath = xasprintf("%s/spsd.log", home), *log;
	ck_assert_int_eq(file_read(logpath, &log, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(log, "level=error app=sps event=http.listen"));
	free(log);
	free(logpath);
	free(pidfile);
	free(readyfile);
	free(rundir);
	tl_rmrf(home);
	free(home);
}

/* fatal() while other threads run (spsd's sync worker has started when its
 * WRS port turns out taken): the daemon exits with 1, never with a signal
 * (exit's handlers used to tear libraries down under the worker: SIGSEGV in
 * about one start in five). */
TEST(test_fatal_with_a_worker_running_exits_with_1)
{
	int port, busy = occupy_port(&port);
	char portarg[16];
	snprintf(portarg, sizeof portarg, "%d", port);
	for (int i = 0; i < 12; i++) {
		char *home = tl_tmpdir("fatal-worker");
		const char *args[] = {"--port", "0", "--wrs_port", portarg, "--tls", "no",
				      "--tmcm_url", "http://127.0.0.1:9", "--tmcm_api_key", "k",
				      NULL};
		pid_t pid = tl_spawn_daemon("spsd", home, args);
		siginfo_t info;
		ck_assert_int_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
		ck_assert_msg(info.si_code == CLD_EXITED, "start %d: spsd killed by signal %d", i,
			      info.si_status);
		ck_assert_int_eq(tl_stop(pid, 5000), 1);
		tl_rmrf(home);
		free(home);
	}
	close(busy);
}

typedef struct probe_config {
	daemon_config base;
} probe_config;
static const cfg_opt probe_opts[] = {DAEMON_CFG_OPTS(probe_config, "0", "no")};
static const cfg_section probe_section = {"probe", probe_opts, CFG_NOPTS(probe_opts)};

static void h_hello(http_req *req, http_resp *resp)
{
	http_resp_text(resp, 200, "text/plain", "hello");
}
static const http_route probe_routes[] = {{"GET", "/hello", h_hello, HTTP_PUBLIC}};

/* 1 when something accepts TCP connections on 127.0.0.1:port. */
static int listening(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* Once daemon_run returns, no handler may run: the daemon frees what they
 * use next. So every listener, the main one and those added with
 * daemon_add_http, is stopped by then. */
TEST(test_run_stops_every_listener)
{
	char *home = tl_tmpdir("daemon-run");
	char *argv[] = {"probed", "--home", home, "--config=", NULL};
	probe_config cfg;
	ctd_daemon d;
	daemon_boot(&d, "probe", &probe_section, &cfg, 4, argv);
	daemon_http_start(&d, probe_routes, 1, NULL, 0);
	ctd_err err;
	http_server_opts extra_opts = {.routes = probe_routes, .nroutes = 1};
	http_server *extra = http_server_start(&extra_opts, &err);
	ck_assert_ptr_nonnull(extra);
	daemon_add_http(&d, "extra", "http", extra);
	int main_port = http_server_port(d.http), extra_port = http_server_port(extra);
	char *extra_url = xasprintf("http://127.0.0.1:%d", extra_port);
	ck_assert_str_eq(json_string_value(json_object_get(d.listeners, "extra")), extra_url);
	ck_assert(listening(main_port) && listening(extra_port));

	raise(SIGTERM); /* caught by the runtime: its loop ends at once */
	daemon_run(&d);
	ck_assert_msg(!listening(main_port), "main listener still up after daemon_run");
	ck_assert_msg(!listening(extra_port), "extra listener still up after daemon_run");
	daemon_shutdown(&d);
	cfg_free(&probe_section, &cfg);
	free(extra_url);
	tl_rmrf(home);
	free(home);
}

TL_SUITE(.timeout = 60);
