/* test_pidfile.c - pid files (common/pidfile.c): the holder's lock makes a
 * second taker fail with the holder's pid; a file nobody holds is stale
 * whatever live pid it names; pidfile_owner names a pid only when the file
 * is locked and the process runs the expected program. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pidfile.h"
#include "testlib.h"
#include "util.h"

static char *dir, *path;

static void setup(void)
{
	dir = tl_tmpdir("pidfile");
	path = xasprintf("%s/x.pid", dir);
}

static void teardown(void)
{
	tl_rmrf(dir);
	free(path);
	free(dir);
}

/* The name of our own executable, as pidfile_owner compares it. */
static const char *own_program(void)
{
	static char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	return strrchr(exe, '/') + 1;
}

/* A child that takes the pid file and waits; returns once it holds it. */
static pid_t holder_child(void)
{
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = pidfile_take(path, NULL, NULL);
		char c = fd >= 0 ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		pause();
		_exit(0);
	}
	char c = 0;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	close(ready[0]);
	close(ready[1]);
	return pid;
}

TEST(test_held_file_refuses_a_second_taker)
{
	pid_t child = holder_child();
	pid_t holder = 0;
	ctd_err err;
	ck_assert_int_eq(pidfile_take(path, &holder, &err), -1);
	ck_assert_int_eq(err.code, CTD_EBUSY);
	ck_assert_int_eq(holder, child);
	ck_assert_int_eq(pidfile_owner(path, own_program()), child);
	ck_assert_int_eq(pidfile_owner(path, "ddand"), 0); /* not that program */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* killed: its file is left behind, unlocked, and stale */
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(pidfile_owner(path, own_program()), 0);
	int fd = pidfile_take(path, NULL, &err);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pidfile_owner(path, own_program()), getpid());
	pidfile_release(fd, path);
	ck_assert_int_ne(access(path, F_OK), 0);
}

TEST(test_stale_file_naming_a_live_process)
{
	pid_t sleeper = fork();
	if (sleeper == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	char text[32];
	snprintf(text, sizeof text, "%ld\n", (long)sleeper);
	ck_assert_int_eq(file_write_atomic(path, text, strlen(text), 0644, NULL), 0);
	/* alive, and even the right program, but nobody holds the lock */
	ck_assert_int_eq(pidfile_owner(path, "sleep"), 0);
	ctd_err err;
	int fd = pidfile_take(path, NULL, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	char *data = NULL;
	ck_assert_int_eq(file_read(path, &data, NULL, NULL), 0);
	ck_assert_int_eq(strtol(data, NULL, 10), getpid());
	free(data);
	pidfile_release(fd, path);
	ck_assert(tl_pid_alive(sleeper));
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
}

TEST(test_program_check)
{
	ck_assert(pid_runs_program(getpid(), own_program()));
	ck_assert(!pid_runs_program(getpid(), "ddand"));
	ck_assert(!pid_runs_program(0, own_program()));
}

TL_SUITE(.timeout = 30, .setup = setup, .teardown = teardown);
