/* test_lab_updown.c - `ctdlab up` brings five healthy daemons up on
 * ephemeral ports, `status` reports them, `down` leaves no process behind;
 * the lab directory is private (0700, every file in it 0600) even when it
 * was created open; pid files: a second daemon is refused, a stale pid file
 * naming an unrelated live process neither blocks `up` nor gets that process
 * killed by `down`; `up` returns once the links are up; `up --without`; the
 * supervisor restarts a daemon killed with -9 on its old address; a daemon
 * that dies while starting fails `up`, named, and the daemons after it never
 * run unwired; a daemon whose wiring pipe ends early exits. */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
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

/* `ctdlab status --json`, asserted to parse; rc gets its exit status. */
static json_t *status_json(const char *dir, int *rc)
{
	char *out = NULL;
	int st = ctdlab(dir, "status", "--json", &out);
	json_t *all = json_loads(out ? out : "", 0, NULL);
	ck_assert_msg(json_is_array(all), "status --json: %s", out);
	free(out);
	if (rc)
		*rc = st;
	return all;
}

/* The status object of one appliance in a status array (borrowed). */
static json_t *status_of(json_t *all, const char *name)
{
	size_t i;
	json_t *st;
	json_array_foreach(all, i, st)
		if (strcmp(json_string_value(json_object_get(st, "appliance")), name) == 0)
			return st;
	ck_abort_msg("no %s in the status", name);
	return NULL;
}

/* A member of the appliance's /healthz status at a path of up to three keys. */
static const char *link_state(json_t *all, const char *name, const char *k1, const char *k2,
			      const char *k3)
{
	json_t *v = json_object_get(json_object_get(status_of(all, name), "status"), k1);
	v = json_object_get(v, k2);
	return json_string_value(k3 ? json_object_get(v, k3) : v);
}

static pid_t spawn_sleep(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "300", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

TEST(test_stale_pid_file_naming_a_live_process)
{
	char *dir = tl_tmpdir("stale");
	char *run = xasprintf("%s/run", dir), *out = NULL;
	ck_assert_int_eq(mkdir_p(run, 0755, NULL), 0);
	pid_t sleeper = spawn_sleep();
	/* every pid file names the unrelated process, as after a reboot */
	char text[32];
	snprintf(text, sizeof text, "%ld\n", (long)sleeper);
	for (int i = 0; i < 5; i++) {
		char *pidfile = xasprintf("%s/%s.pid", run, names[i]);
		ck_assert_int_eq(file_write_atomic(pidfile, text, strlen(text), 0644, NULL), 0);
		free(pidfile);
	}
	tl_lab_env();
	ck_assert_msg(ctdlab(dir, "up", NULL, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);
	int rc;
	json_t *all = status_json(dir, &rc);
	ck_assert_int_eq(rc, 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_ne(json_integer_value(json_object_get(status_of(all, names[i]), "pid")),
				 sleeper);
	json_decref(all);
	ck_assert_int_eq(ctdlab(dir, "down", NULL, &out), 0);
	free(out);
	/* the pid files name it again, and down must still leave it alone */
	for (int i = 0; i < 5; i++) {
		char *pidfile = xasprintf("%s/%s.pid", run, names[i]);
		ck_assert_int_eq(file_write_atomic(pidfile, text, strlen(text), 0644, NULL), 0);
		free(pidfile);
	}
	ck_assert_int_eq(ctdlab(dir, "down", NULL, &out), 0);
	free(out);
	ck_assert_msg(tl_pid_alive(sleeper), "down killed an unrelated process");
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	tl_rmrf(dir);
	free(run);
	free(dir);
}

/* A lab up in a fresh directory (args: what follows `up`, may be NULL);
 * the directory. */
static char *lab_up(const char *tag, const char *const *args)
{
	char *dir = tl_tmpdir(tag), *out = NULL;
	const char *argv[8] = {"up"};
	for (int n = 1; args && *args && n < 7; args++)
		argv[n++] = *args;
	tl_lab_env();
	ck_assert_msg(tl_ctdlab(dir, argv, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);
	return dir;
}

static void lab_down(char *dir)
{
	char *out = NULL;
	ck_assert_int_eq(ctdlab(dir, "down", NULL, &out), 0);
	free(out);
	tl_rmrf(dir);
	free(dir);
}

/* Right after `up`, every link between the started appliances is up. */
TEST(test_up_returns_with_links_established)
{
	char *dir = lab_up("links", NULL);
	json_t *all = status_json(dir, NULL);
	ck_assert_str_eq(link_state(all, "imsva", "tmcm", "status", NULL), "online");
	ck_assert_str_eq(link_state(all, "sps", "so_sync", "status", NULL), "ok");
	ck_assert_str_eq(link_state(all, "tmcm", "sources", "links", "DDAN"), "online");
	ck_assert_str_eq(link_state(all, "tmcm", "sources", "links", "DDI"), "online");
	json_decref(all);
	/* leaving out what runs is refused, and the lab stays as it was, supervised */
	char *out = NULL;
	const char *without[] = {"up", "--without", "ddi", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, without, &out), 1);
	ck_assert_msg(strstr(out, "ddid runs (pid"), "%s", out);
	free(out);
	ck_assert_int_eq(ctdlab(dir, "status", NULL, &out), 0);
	ck_assert_msg(strstr(out, "5 of 5 appliances healthy, supervised (pid"), "%s", out);
	free(out);
	lab_down(dir);
}

TEST(test_up_without_ddi)
{
	const char *without[] = {"--without", "ddi", NULL};
	char *dir = lab_up("without", without), *out = NULL;
	int rc;
	json_t *all = status_json(dir, &rc);
	ck_assert_int_eq(rc, 0); /* every appliance of this lab is healthy */
	json_t *ddi = status_of(all, "ddi");
	ck_assert(json_is_false(json_object_get(ddi, "running")));
	ck_assert(json_is_true(json_object_get(ddi, "left_out")));
	ck_assert_str_eq(link_state(all, "tmcm", "sources", "links", "DDAN"), "online");
	ck_assert_ptr_null(link_state(all, "tmcm", "sources", "links", "DDI"));
	ck_assert_str_eq(link_state(all, "imsva", "tmcm", "status", NULL), "online");
	json_decref(all);
	ck_assert_int_eq(ctdlab(dir, "status", NULL, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "4 of 4 appliances healthy"));
	ck_assert_ptr_nonnull(strstr(out, "ddi    left out"));
	free(out);
	lab_down(dir);
}

/* A daemon that dies while starting (here on a bad option) closes its ready
 * pipe: `up` wakes, fails and names it. IMSVA, spawned with the others but
 * never wired (its SPS peer failed), does not start unwired. */
TEST(test_up_reports_a_daemon_that_dies_starting)
{
	char *dir = tl_tmpdir("dies"), *out = NULL;
	tl_lab_env();
	setenv("CTDLAB_SPS_SYNC_INTERVAL", "1ms", 1); /* below its minimum */
	const char *up[] = {"up", NULL};
	int rc = tl_ctdlab(dir, up, &out);
	unsetenv("CTDLAB_SPS_SYNC_INTERVAL");
	ck_assert_msg(rc == 1, "up answered %d:\n%s", rc, out);
	ck_assert_msg(strstr(out, "spsd did not become healthy"), "%s", out);
	free(out);
	char *pid_file = xasprintf("%s/run/imsva.pid", dir);
	char *log = xasprintf("%s/log/imsva.log", dir);
	ck_assert_int_ne(access(pid_file, F_OK), 0);
	char *text = NULL;
	const char *cat[] = {"/bin/cat", log, NULL};
	tl_run(cat, &text);
	ck_assert_msg(!text || !strstr(text, "daemon.ready"), "imsvad started unwired:\n%s", text);
	free(text);
	free(log);
	free(pid_file);
	lab_down(dir);
}

/* A daemon whose wiring pipe ends before its end line (whoever started it
 * went away first) exits instead of running without its peers. */
TEST(test_daemon_left_unwired_exits)
{
	char *home = tl_tmpdir("unwired");
	int p[2]; /* the write end stays ours alone: the daemon must see EOF */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFD, 0), 0);
	const char *half = "CTDLAB_DDAN_ANALYSIS_TIME=1s\n";
	ck_assert_int_eq(write(p[1], half, strlen(half)), (ssize_t)strlen(half));
	char num[16];
	snprintf(num, sizeof num, "%d", p[0]);
	setenv("CTDLAB_WIRING_FD", num, 1);
	const char *args[] = {"--port", "0", NULL};
	pid_t pid = tl_spawn_daemon("ddand", home, args);
	unsetenv("CTDLAB_WIRING_FD");
	close(p[0]);
	close(p[1]); /* the starter goes away */
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	char *log = xasprintf("%s/ddand.log", home), *text = NULL;
	const char *cat[] = {"/bin/cat", log, NULL};
	tl_run(cat, &text);
	ck_assert_msg(text && strstr(text, "went away before wiring it"), "%s", text);
	free(text);
	free(log);
	char *ready = xasprintf("%s/run/ddan.json", home);
	ck_assert_int_ne(access(ready, F_OK), 0);
	free(ready);
	tl_rmrf(home);
	free(home);
}

TEST(test_up_refuses_to_leave_out_the_hub)
{
	char *dir = tl_tmpdir("hub");
	char *out = NULL;
	const char *no_tmcm[] = {"up", "--without", "ddi,tmcm", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, no_tmcm, &out), 2);
	ck_assert_msg(strstr(out, "cannot run without tmcm: it is the hub"), "%s", out);
	free(out);
	const char *unknown[] = {"up", "--without=ddx", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, unknown, &out), 2);
	ck_assert_msg(strstr(out, "no appliance \"ddx\""), "%s", out);
	free(out);
	char *ready = xasprintf("%s/run/ddan.json", dir);
	ck_assert_msg(access(ready, F_OK) != 0, "a refused up started a daemon");
	free(ready);
	tl_rmrf(dir);
	free(dir);
}

/* A restart of name on the timeline after the given pid died. */
static int timeline_has_restart(const char *dir, const char *name, pid_t old)
{
	char *out = NULL;
	const char *args[] = {"--json", "events", "--kind", "daemon.restarted", "--appliance", name,
			      NULL};
	ck_assert_int_eq(tl_ctdlab(dir, args, &out), 0);
	char *want = xasprintf("\"previous_pid\": %ld", (long)old);
	char *compact = xasprintf("\"previous_pid\":%ld", (long)old);
	int found = strstr(out, want) || strstr(out, compact);
	free(want);
	free(compact);
	free(out);
	return found;
}

TEST(test_supervisor_restarts_a_killed_daemon)
{
	char *dir = lab_up("supervise", NULL), *out = NULL;
	json_t *before = tl_wait_ready(dir, "tmcm", 1000);
	pid_t old = (pid_t)json_integer_value(json_object_get(before, "pid"));
	ck_assert_int_eq(kill(old, SIGKILL), 0);
	json_t *after = tl_wait_restarted(dir, "tmcm", old);
	/* the same address, so its peers never need to be told */
	ck_assert_str_eq(tl_listener(after, "https"), tl_listener(before, "https"));
	/* the supervisor writes it once it saw the new daemon healthy, as we did */
	int on_timeline = 0;
	for (int64_t deadline = time_mono_ms() + TL_START_MS;
	     !(on_timeline = timeline_has_restart(dir, "tmcm", old)) && time_mono_ms() < deadline;)
		tl_sleep_ms(50);
	ck_assert_msg(on_timeline, "no daemon.restarted for tmcm (previous pid %ld)", (long)old);
	/* and a peer's call works again: IMSVA syncs from the new TMCM */
	const char *started = json_string_value(json_object_get(after, "started"));
	int synced = 0;
	for (int64_t deadline = time_mono_ms() + TL_START_MS; !synced && time_mono_ms() < deadline;
	     tl_sleep_ms(100)) {
		json_t *all = status_json(dir, NULL);
		const char *last = link_state(all, "imsva", "tmcm", "last_sync", NULL);
		synced = last && strcmp(last, started) >= 0 &&
			 strcmp(link_state(all, "imsva", "tmcm", "status", NULL), "online") == 0;
		json_decref(all);
	}
	ck_assert_msg(synced, "IMSVA did not sync from the restarted TMCM");
	json_decref(before);
	json_decref(after);

	/* a clean stop (SIGTERM) is left alone; down stops the supervisor */
	json_t *sps = tl_wait_ready(dir, "sps", 1000);
	pid_t sps_pid = (pid_t)json_integer_value(json_object_get(sps, "pid"));
	json_decref(sps);
	ck_assert_int_eq(kill(sps_pid, SIGTERM), 0);
	char *pidfile = xasprintf("%s/run/sps.pid", dir);
	for (int i = 0; i < 1000 && access(pidfile, F_OK) == 0; i++)
		tl_sleep_ms(10);
	ck_assert_int_ne(access(pidfile, F_OK), 0);
	ck_assert_int_eq(ctdlab(dir, "status", NULL, &out), 3);
	ck_assert_ptr_nonnull(strstr(out, "supervised (pid"));
	free(out);
	ck_assert_int_eq(ctdlab(dir, "down", NULL, &out), 0);
	free(out);
	ck_assert_int_ne(access(pidfile, F_OK), 0); /* not restarted behind down's back */
	char *suppid = xasprintf("%s/run/supervise.pid", dir);
	ck_assert_int_ne(access(suppid, F_OK), 0);
	free(suppid);
	free(pidfile);
	tl_rmrf(dir);
	free(dir);
}

TL_SUITE(.timeout = 240);
