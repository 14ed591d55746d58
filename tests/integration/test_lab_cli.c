/* test_lab_cli.c - the lab CLI beyond up/down: `send` delivers a mail with an
 * attachment and a URL to IMSVA over SMTP, `events` shows it on the shared
 * timeline (text and JSON, filtered), `status --json` carries the last syncs,
 * `drill step4` works in a relative data directory, `reset` brings the
 * data directory back to a first start, and global options work after the
 * command (`ctdlab up --dir X`) while unknown ones fail with the usage. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

static char *dir;

static void lab_up(void)
{
	char *out = NULL;
	/* A relative data directory, as `make run` uses (./var). */
	dir = xstrdup("ctdlab-cli-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	tl_lab_env();
	const char *up[] = {"up", NULL};
	ck_assert_msg(tl_ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);
}

static void lab_down(void)
{
	const char *down[] = {"down", NULL};
	tl_ctdlab(dir, down, NULL);
	tl_rmrf(dir);
	free(dir);
}

/* Poll `ctdlab events --json` until an event of kind shows up. */
static json_t *wait_event(const char *appliance, const char *kind)
{
	const char *args[] = {"--json", "events", "--appliance", appliance, "--kind", kind, NULL};
	for (int i = 0; i < 500; i++) {
		char *out = NULL;
		ck_assert_int_eq(tl_ctdlab(dir, args, &out), 0);
		char *nl = strchr(out, '\n');
		json_t *ev = nl ? json_loadb(out, (size_t)(nl - out), 0, NULL) : NULL;
		free(out);
		if (ev)
			return ev;
		usleep(10000);
	}
	return NULL;
}

TEST(test_send_then_events)
{
	char *attachment = xasprintf("%s/report.txt", dir), *out = NULL;
	ck_assert_int_eq(file_write_atomic(attachment, "quarterly figures\n", 18, 0644, NULL), 0);
	const char *send[] = {"send", "--to", "alice@lab.test", "--subject", "cli test",
			      "--url", "http://example.ctdlab.test/page", "--attach", attachment,
			      NULL};
	ck_assert_msg(tl_ctdlab(dir, send, &out) == 0, "ctdlab send failed:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "1 attachment"));
	free(out);

	json_t *ev = wait_event("imsva", "*");
	ck_assert_msg(ev != NULL, "no IMSVA event on the timeline");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "appliance")), "imsva");
	ck_assert(json_integer_value(json_object_get(ev, "id")) > 0);
	json_decref(ev);

	const char *text[] = {"events", "--since", "10m", "--appliance", "imsva", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, text, &out), 0);
	ck_assert_msg(strstr(out, " imsva ") != NULL, "text timeline: %s", out);
	free(out);
	const char *bad[] = {"events", "--since", "whenever", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, bad, &out), 2);
	free(out);
	free(attachment);
}

TEST(test_status_shows_syncs)
{
	char *out = NULL;
	const char *status[] = {"--json", "status", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, status, &out), 0);
	json_t *all = json_loads(out, 0, NULL);
	ck_assert_msg(json_array_size(all) == 5, "status: %s", out);
	json_t *imsva = json_array_get(all, 4);
	ck_assert_str_eq(json_string_value(json_object_get(imsva, "appliance")), "imsva");
	json_t *tmcm = json_object_get(json_object_get(imsva, "status"), "tmcm");
	ck_assert_msg(tmcm != NULL, "imsva status has no tmcm connection: %s", out);
	ck_assert(json_object_get(tmcm, "last_sync") != NULL);
	ck_assert(json_string_value(json_object_get(json_object_get(imsva, "info"), "admin_password")));
	json_decref(all);
	free(out);
}

TEST(test_drill_step4_in_relative_dir)
{
	char *out = NULL;
	const char *drill[] = {"drill", "step4", NULL};
	int rc = tl_ctdlab(dir, drill, &out);
	ck_assert_msg(rc == 0, "drill step4 in %s exited %d:\n%.3000s", dir, rc, out);
	free(out);
}

TEST(test_reset_is_a_first_start)
{
	char *out = NULL;
	char *db = xasprintf("%s/lab.db", dir);
	ck_assert(access(db, F_OK) == 0);
	const char *reset[] = {"reset", NULL};
	ck_assert_msg(tl_ctdlab(dir, reset, &out) == 0, "reset: %s", out);
	free(out);
	ck_assert(access(db, F_OK) != 0);
	const char *status[] = {"status", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, status, &out), 3);
	free(out);
	free(db);
}

/* `ctdlab up` wires IMSVA to the lab's SPS unless the option is pinned: a
 * pinned value (here in the environment) is left alone. */
TEST(test_pinned_peer_is_not_rewired)
{
	char *other = tl_tmpdir("pinned"), *out = NULL;
	setenv("CTDLAB_IMSVA_SPS_URL", "http://127.0.0.1:9", 1);
	const char *up[] = {"up", NULL}, *status[] = {"--json", "status", NULL};
	ck_assert_msg(tl_ctdlab(other, up, &out) == 0, "up: %s", out);
	free(out);
	ck_assert_int_eq(tl_ctdlab(other, status, &out), 0);
	json_t *all = json_loads(out, 0, NULL);
	json_t *sps = json_object_get(json_object_get(json_array_get(all, 4), "status"), "sps");
	ck_assert_msg(sps != NULL, "status: %s", out);
	ck_assert_str_eq(json_string_value(json_object_get(sps, "server")), "http://127.0.0.1:9");
	json_decref(all);
	free(out);
	unsetenv("CTDLAB_IMSVA_SPS_URL");
	const char *down[] = {"down", NULL};
	ck_assert_int_eq(tl_ctdlab(other, down, NULL), 0);
	tl_rmrf(other);
	free(other);
}

/* Options after the command, as a handout writes them: the lab starts in
 * X, not in ./var, and status and down find it there. */
TEST_IN("options", test_options_after_the_command)
{
	char *x = tl_tmpdir("cli-options"), *out = NULL;
	tl_lab_env();
	const char *up[] = {"up", "--dir", x, NULL};
	ck_assert_msg(tl_ctdlab(NULL, up, &out) == 0, "ctdlab up --dir failed:\n%s", out);
	free(out);
	char *ready = xasprintf("%s/run/imsva.json", x);
	ck_assert_msg(access(ready, F_OK) == 0, "the lab did not start in %s", x);
	const char *status[] = {"status", "--dir", x, "--json", NULL};
	ck_assert_int_eq(tl_ctdlab(NULL, status, &out), 0);
	json_t *all = json_loads(out, 0, NULL);
	ck_assert_msg(json_array_size(all) == 5, "status --json: %s", out);
	ck_assert(json_is_true(json_object_get(json_array_get(all, 0), "healthy")));
	json_decref(all);
	free(out);
	const char *down[] = {"down", "--dir", x, NULL};
	ck_assert_int_eq(tl_ctdlab(NULL, down, NULL), 0);
	ck_assert(access(ready, F_OK) != 0);
	free(ready);
	tl_rmrf(x);
	free(x);
}

/* An unknown option, before or after the command, or an argument a command
 * does not take: exit 2 with the usage, and nothing is run. */
TEST_IN("options", test_unknown_option_fails_with_usage)
{
	char *x = tl_tmpdir("cli-bad");
	const char *const cases[][4] = {{"--bogus", "status", NULL},
					{"status", "--bogus", NULL},
					{"status", "extra", NULL},
					{"status", "--dir", NULL}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = NULL;
		ck_assert_int_eq(tl_ctdlab(x, cases[i], &out), 2);
		ck_assert_msg(strstr(out, "usage: ctdlab") != NULL, "no usage for %s %s: %s",
			      cases[i][0], cases[i][1], out);
		free(out);
	}
	char *run = xasprintf("%s/run", x);
	ck_assert_msg(access(run, F_OK) != 0, "a refused command still ran");
	free(run);
	tl_rmrf(x);
	free(x);
}

TL_SUITE(.timeout = 120, .setup = lab_up, .teardown = lab_down);
TL_CASE("options", .timeout = 120);
