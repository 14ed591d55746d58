/* test_lab_updown.c - `ctdlab up` brings five healthy daemons up on
 * ephemeral ports, `status` reports them, `down` leaves no process behind;
 * the lab directory is private (0700, every file in it 0600) even when it
 * was created open. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

static const char *names[] = {"ddan", "ddi", "tmcm", "sps", "imsva"};

static int open_paths;

static int count_open(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (st->st_mode & 077) {
		fprintf(stderr, "open to others: %s (%o)\n", path, st->st_mode & 0777);
		open_paths++;
	}
	return 0;
}

/* Every file and directory of the lab: none open to group or others. */
static void assert_lab_private(const char *dir)
{
	open_paths = 0;
	ck_assert_int_eq(nftw(dir, count_open, 16, FTW_PHYS), 0);
	ck_assert_int_eq(open_paths, 0);
	char *db = xasprintf("%s/lab.db", dir);
	ck_assert_int_eq(access(db, F_OK), 0);
	free(db);
}

static int ctdlab(const char *dir, const char *cmd, const char *flag, char **out)
{
	const char *args[] = {flag ? flag : cmd, flag ? cmd : NULL, NULL};
	return tl_ctdlab(dir, args, out);
}

TEST(test_up_status_down)
{
	char *dir = tl_tmpdir("lab");
	char *out = NULL;
	pid_t pids[5];

	tl_lab_env();
	ck_assert_int_eq(chmod(dir, 0755), 0); /* as an older version left it */
	ck_assert_msg(ctdlab(dir, "up", NULL, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);

	for (int i = 0; i < 5; i++) {
		json_t *ready = tl_wait_ready(dir, names[i], 1000);
		ck_assert_msg(ready != NULL, "%s wrote no ready file", names[i]);
		pids[i] = (pid_t)json_integer_value(json_object_get(ready, "pid"));
		const char *url = tl_listener(ready, "https");
		ck_assert_msg(url != NULL, "%s has no https listener", names[i]);
		char *health = xasprintf("%s/healthz", url);
		long status;
		json_t *h = tl_http_json("GET", health, NULL, NULL, &status);
		ck_assert_int_eq(status, 200);
		ck_assert_str_eq(json_string_value(json_object_get(h, "appliance")), names[i]);
		ck_assert_str_eq(json_string_value(json_object_get(h, "store")), "ok");
		json_decref(h);
		free(health);
		json_decref(ready);
	}

	assert_lab_private(dir);
	ck_assert_int_eq(ctdlab(dir, "status", "--json", &out), 0);
	json_t *st = json_loads(out, 0, NULL);
	ck_assert_msg(json_array_size(st) == 5, "status output: %s", out);
	for (size_t i = 0; i < 5; i++)
		ck_assert(json_is_true(json_object_get(json_array_get(st, i), "healthy")));
	json_decref(st);
	free(out);

	ck_assert_int_eq(ctdlab(dir, "down", NULL, &out), 0);
	free(out);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(!pid_alive(pids[i]), "%s (pid %d) still runs", names[i], pids[i]);
		char *pidfile = xasprintf("%s/run/%s.pid", dir, names[i]);
		ck_assert(access(pidfile, F_OK) != 0);
		free(pidfile);
	}
	ck_assert_int_eq(ctdlab(dir, "status", NULL, &out), 3);
	free(out);
	tl_rmrf(dir);
	free(dir);
}

/* `ctdlab up --profile classroom` runs every daemon in that profile (its
 * ready file and /healthz say so); a profile that does not exist is refused. */
TEST(test_up_classroom_profile)
{
	char *dir = tl_tmpdir("lab");
	char *out = NULL;
	tl_lab_env();
	const char *bogus[] = {"up", "--profile", "slow", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, bogus, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "fast, classroom or realistic"));
	free(out);
	const char *up[] = {"up", "--profile", "classroom", NULL};
	ck_assert_msg(tl_ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);
	for (int i = 0; i < 5; i++) {
		json_t *ready = tl_wait_ready(dir, names[i], 1000);
		ck_assert_msg(ready != NULL, "%s wrote no ready file", names[i]);
		ck_assert_str_eq(json_string_value(json_object_get(ready, "profile")), "classroom");
		char *health = xasprintf("%s/healthz", tl_listener(ready, "https"));
		long status;
		json_t *h = tl_http_json("GET", health, NULL, NULL, &status);
		ck_assert_int_eq(status, 200);
		ck_assert_str_eq(json_string_value(json_object_get(h, "profile")), "classroom");
		json_decref(h);
		free(health);
		json_decref(ready);
	}
	ck_assert_int_eq(ctdlab(dir, "down", NULL, &out), 0);
	free(out);
	tl_rmrf(dir);
	free(dir);
}

TEST(test_second_daemon_refused)
{
	char *dir = tl_tmpdir("pid");
	const char *args[] = {"--port", "0", NULL};
	pid_t first = tl_spawn_daemon("ddand", dir, args);
	json_t *ready = tl_wait_ready(dir, "ddan", TL_START_MS);
	ck_assert(ready != NULL);
	json_decref(ready);
	pid_t second = tl_spawn_daemon("ddand", dir, args);
	/* The second one must refuse the pid file and exit non-zero on its own. */
	int64_t deadline = time_mono_ms() + 10000;
	while (tl_pid_alive(second) && time_mono_ms() < deadline)
		usleep(10000);
	ck_assert(!tl_pid_alive(second));
	ck_assert(tl_pid_alive(first));
	ck_assert_int_eq(tl_stop(first, 5000), 0);
	tl_rmrf(dir);
	free(dir);
}

TL_SUITE(.timeout = 120);
