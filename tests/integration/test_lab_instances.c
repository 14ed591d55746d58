/* test_lab_instances.c - `ctdlab --instance N`: two labs up at once on one
 * host, each in its own directory (<dir>-N) with every port shifted by 10*N,
 * both healthy, DDI's capture filter leaving out the instance's own SMTP port;
 * `down --instance` stops only its own lab; a bad N is refused.
 * The instances are high (71, 72) so their fixed ports stay clear of a lab
 * someone runs on the defaults. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

static const char *names[] = {"ddan", "ddi", "tmcm", "sps", "imsva"};
/* main listener of each appliance at instance 0, in names[] order */
static const int main_ports[] = {8443, 8446, 8444, 4343, 8445};

/* Instances pick their own ports: none pinned by the environment (tl_main
 * pins DDI's download site to an ephemeral port). */
static void instance_env(void)
{
	tl_lab_env();
	static const char *const ports[] = {"CTDLAB_DDAN_PORT", "CTDLAB_DDI_PORT", "CTDLAB_TMCM_PORT",
					    "CTDLAB_SPS_PORT", "CTDLAB_IMSVA_PORT",
					    "CTDLAB_IMSVA_SMTP_PORT", "CTDLAB_SPS_WRS_PORT",
					    "CTDLAB_DDI_DOWNLOAD_PORT", NULL};
	for (const char *const *p = ports; *p; p++)
		unsetenv(*p);
}

static int instance_cmd(const char *dir, const char *n, const char *cmd, char **out)
{
	const char *args[] = {cmd, "--instance", n, NULL};
	return tl_ctdlab(dir, args, out);
}

/* The ready file of appliance in dir names listener at want (freed). */
static void assert_listener(const char *dir, const char *appliance, const char *listener, char *want)
{
	json_t *ready = tl_wait_ready(dir, appliance, 1000);
	ck_assert_msg(ready != NULL, "%s wrote no ready file", appliance);
	ck_assert_str_eq(tl_listener(ready, listener), want);
	json_decref(ready);
	free(want);
}

/* The capture filter DDI of lab dir runs with (its console's status). */
static char *ddi_filter(const char *dir)
{
	json_t *ready = tl_wait_ready(dir, "ddi", 1000);
	ck_assert_ptr_nonnull(ready);
	const char *api = tl_listener(ready, "https");
	char *u = xasprintf("%s/api/login", api);
	json_t *creds = json_pack("{s:s, s:s}", "username", "admin", "password",
				  json_string_value(json_object_get(json_object_get(ready, "info"),
								    "console_password")));
	char *text = json_dumps(creds, 0);
	const char *json_hdr[] = {"Content-Type: application/json", NULL};
	long status;
	json_t *login = tl_http_json("POST", u, json_hdr, text, &status);
	ck_assert_int_eq(status, 200);
	char *bearer = xasprintf("Authorization: Bearer %s",
				 json_string_value(json_object_get(login, "token")));
	free(u);
	u = xasprintf("%s/api/status", api);
	const char *auth_hdr[] = {bearer, NULL};
	json_t *st = tl_http_json("GET", u, auth_hdr, NULL, &status);
	ck_assert_int_eq(status, 200);
	char *filter = xstrdup(
		json_string_value(json_object_get(json_object_get(st, "capture"), "bpf")));
	json_decref(st);
	json_decref(login);
	json_decref(creds);
	json_decref(ready);
	free(bearer);
	free(text);
	free(u);
	return filter;
}

/* Every appliance of lab <base>-<n> is healthy on its shifted main port;
 * their pids go to pids. */
static void assert_instance_up(const char *base, int n, pid_t *pids)
{
	char *dir = xasprintf("%s-%d", base, n);
	for (int i = 0; i < 5; i++) {
		json_t *ready = tl_wait_ready(dir, names[i], 1000);
		ck_assert_msg(ready != NULL, "%s of instance %d wrote no ready file", names[i], n);
		pids[i] = (pid_t)json_integer_value(json_object_get(ready, "pid"));
		char *want = xasprintf("https://127.0.0.1:%d", main_ports[i] + 10 * n);
		ck_assert_str_eq(tl_listener(ready, "https"), want);
		char *health = xasprintf("%s/healthz", want);
		long status;
		json_t *h = tl_http_json("GET", health, NULL, NULL, &status);
		ck_assert_int_eq(status, 200);
		ck_assert_str_eq(json_string_value(json_object_get(h, "appliance")), names[i]);
		json_decref(h);
		free(health);
		free(want);
		json_decref(ready);
	}
	assert_listener(dir, "imsva", "smtp", xasprintf("smtp://127.0.0.1:%d", 2525 + 10 * n));
	assert_listener(dir, "sps", "wrs", xasprintf("http://127.0.0.1:%d", 5274 + 10 * n));
	assert_listener(dir, "ddi", "downloads", xasprintf("http://127.0.0.1:%d", 8447 + 10 * n));
	char *filter = ddi_filter(dir), *want = xasprintf("tcp and not port %d", 2525 + 10 * n);
	ck_assert_str_eq(filter, want);
	free(filter);
	free(want);
	free(dir);
}

TEST(test_two_instances_side_by_side)
{
	char *base = tl_tmpdir("lab");
	char *out = NULL;
	pid_t first[5], second[5];
	instance_env();
	ck_assert_msg(instance_cmd(base, "71", "up", &out) == 0, "instance 71 up:\n%s", out);
	free(out);
	ck_assert_msg(instance_cmd(base, "72", "up", &out) == 0, "instance 72 up:\n%s", out);
	free(out);
	assert_instance_up(base, 71, first);
	assert_instance_up(base, 72, second);

	ck_assert_int_eq(instance_cmd(base, "71", "down", &out), 0);
	free(out);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(!pid_alive(first[i]), "%s of instance 71 still runs", names[i]);
		ck_assert_msg(pid_alive(second[i]), "%s of instance 72 was stopped", names[i]);
	}
	ck_assert_int_eq(instance_cmd(base, "72", "status", &out), 0);
	free(out);
	ck_assert_int_eq(instance_cmd(base, "72", "down", &out), 0);
	free(out);
	for (int i = 0; i < 5; i++)
		ck_assert(!pid_alive(second[i]));
	tl_rmrf(base);
	free(base);
}

TEST(test_bad_instance_refused)
{
	char *out = NULL;
	ck_assert_int_eq(instance_cmd("/nonexistent", "100", "status", &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "a number from 0 to 99"));
	free(out);
	ck_assert_int_eq(instance_cmd("/nonexistent", "-1", "status", &out), 2);
	free(out);
}

TL_SUITE(.timeout = 120);
