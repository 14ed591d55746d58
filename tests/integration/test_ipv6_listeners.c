/* test_ipv6_listeners.c - every listener binds IPv6 like IPv4: imsvad with
 * --bind ::1 speaks SMTP and HTTPS on ::1, every other daemon answers
 * /healthz there (also with --bind [::1]), ready files bracket the address
 * once, --bind :: takes IPv4 clients too, and a host name binds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

/* The port of a listener URL "scheme://host:port". */
static int url_port(const char *url)
{
	const char *colon = strrchr(url, ':');
	ck_assert_ptr_nonnull(colon);
	return atoi(colon + 1);
}

static void assert_healthy(const char *base)
{
	char *url = xasprintf("%s/healthz", base);
	long status;
	json_t *h = tl_http_json("GET", url, NULL, NULL, &status);
	ck_assert_msg(status == 200, "GET %s: %ld", url, status);
	ck_assert_str_eq(json_string_value(json_object_get(h, "store")), "ok");
	json_decref(h);
	free(url);
}

/* EHLO and QUIT with the SMTP listener at ip:port. */
static void assert_smtp_answers(const char *ip, int port)
{
	tl_smtp *s = tl_smtp_connect(ip, port);
	ck_assert_msg(s != NULL, "no SMTP listener on %s port %d", ip, port);
	ck_assert_int_eq(tl_smtp_read(s), 220);
	ck_assert_int_eq(tl_smtp_cmd(s, "EHLO tests.ctdlab"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "QUIT"), 221);
	tl_smtp_close(s);
}

/* Start <daemon> with --bind bind; its ready file (caller decrefs). */
static json_t *start(const char *daemon, const char *appliance, const char *bind,
		     const char *home, pid_t *pid)
{
	const char *args[] = {"--bind", bind, NULL};
	tl_lab_env();
	*pid = tl_spawn_daemon(daemon, home, args);
	json_t *ready = tl_wait_ready(home, appliance, TL_START_MS);
	ck_assert_msg(ready != NULL, "%s --bind %s never got ready (see %s/%s.log)", daemon, bind,
		      home, daemon);
	return ready;
}

/* A clean stop (exit 0), and the daemon's data directory removed. */
static void finish(pid_t pid, char *home, json_t *ready)
{
	json_decref(ready);
	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	tl_rmrf(home);
	free(home);
}

TEST(test_imsva_on_ipv6_loopback)
{
	if (!tl_ipv6_loopback())
		return;
	char *home = tl_tmpdir("ipv6-imsva");
	pid_t pid;
	json_t *ready = start("imsvad", "imsva", "::1", home, &pid);
	const char *https = tl_listener(ready, "https"), *smtp = tl_listener(ready, "smtp");
	ck_assert_msg(strncmp(https, "https://[::1]:", 14) == 0, "https listener %s", https);
	ck_assert_msg(strncmp(smtp, "smtp://[::1]:", 13) == 0, "smtp listener %s", smtp);
	assert_healthy(https);
	assert_smtp_answers("::1", url_port(smtp));
	finish(pid, home, ready);
}

TEST(test_every_daemon_on_ipv6_loopback)
{
	/* spsd gets the address as copied from a URL: "[::1]" */
	static const char *const daemons[][3] = {{"ddand", "ddan", "::1"},
						 {"ddid", "ddi", "::1"},
						 {"tmcmd", "tmcm", "::1"},
						 {"spsd", "sps", "[::1]"}};
	if (!tl_ipv6_loopback())
		return;
	for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++) {
		char *home = tl_tmpdir(daemons[i][1]);
		pid_t pid;
		json_t *ready = start(daemons[i][0], daemons[i][1], daemons[i][2], home, &pid);
		json_t *listeners = json_object_get(ready, "listeners");
		const char *name;
		json_t *url;
		json_object_foreach(listeners, name, url) {
			ck_assert_msg(strstr(json_string_value(url), "://[::1]:") != NULL,
				      "%s listener %s: %s", daemons[i][0], name,
				      json_string_value(url));
		}
		const char *main_url = tl_listener(ready, "https");
		assert_healthy(main_url ? main_url : tl_listener(ready, "http"));
		finish(pid, home, ready);
	}
}

/* "::" listens on both families, like 0.0.0.0 does on IPv4; peers are told
 * the IPv4 loopback. */
TEST(test_wildcard_bind_is_dual_stack)
{
	if (!tl_ipv6_loopback())
		return;
	char *home = tl_tmpdir("ipv6-any");
	pid_t pid;
	json_t *ready = start("imsvad", "imsva", "::", home, &pid);
	const char *https = tl_listener(ready, "https"), *smtp = tl_listener(ready, "smtp");
	ck_assert_msg(strncmp(smtp, "smtp://127.0.0.1:", 17) == 0, "smtp listener %s", smtp);
	assert_smtp_answers("127.0.0.1", url_port(smtp));
	assert_smtp_answers("::1", url_port(smtp));
	assert_healthy(https);
	char *v6 = xasprintf("https://[::1]:%d", url_port(https));
	assert_healthy(v6);
	free(v6);
	finish(pid, home, ready);
}

TEST(test_host_name_bind)
{
	char *home = tl_tmpdir("bind-name");
	pid_t pid;
	json_t *ready = start("imsvad", "imsva", "localhost", home, &pid);
	const char *smtp = tl_listener(ready, "smtp");
	ck_assert_msg(strncmp(smtp, "smtp://localhost:", 17) == 0, "smtp listener %s", smtp);
	assert_smtp_answers("127.0.0.1", url_port(smtp));
	assert_healthy(tl_listener(ready, "https"));
	finish(pid, home, ready);
}

TL_SUITE(.timeout = 120);
