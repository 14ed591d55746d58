/* test_ready.c - the start pipes of common/ready.c: a daemon takes the
 * write end named in CTDLAB_READY_FD out of its environment (only a pipe,
 * close-on-exec from then on), and its notification is one byte, then EOF;
 * it reads its wiring from the pipe named in CTDLAB_WIRING_FD into its
 * environment, CTDLAB_ variables only, and only a pipe that ends with its
 * end line within the bound. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ready.h"
#include "testlib.h"

static void set_env_fd(const char *env, int fd)
{
	char num[16];
	snprintf(num, sizeof num, "%d", fd);
	setenv(env, num, 1);
}

TEST(test_pipe_taken_and_notified)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	set_env_fd(READY_FD_ENV, p[1]);
	ck_assert_int_eq(ready_fd_take(), p[1]);
	ck_assert_ptr_null(getenv(READY_FD_ENV)); /* not passed on to children */
	ck_assert_int_eq(fcntl(p[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ready_fd_notify(p[1]);
	char buf[4];
	ck_assert_int_eq(read(p[0], buf, sizeof buf), 1);
	ck_assert_int_eq(read(p[0], buf, sizeof buf), 0); /* closed: EOF */
	close(p[0]);
}

TEST(test_anything_else_refused)
{
	ck_assert_int_eq(ready_fd_take(), -1); /* not set */
	int fd = open("/dev/null", O_WRONLY);
	ck_assert_int_ge(fd, 3);
	set_env_fd(READY_FD_ENV, fd);
	ck_assert_int_eq(ready_fd_take(), -1); /* not a pipe */
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0); /* left alone */
	close(fd);
	const char *bad[] = {"", "x", "12x", "-1", "1", "99999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv(READY_FD_ENV, bad[i], 1);
		ck_assert_msg(ready_fd_take() == -1, "took \"%s\"", bad[i]);
		ck_assert_ptr_null(getenv(READY_FD_ENV));
	}
	set_env_fd(READY_FD_ENV, fd); /* closed meanwhile */
	ck_assert_int_eq(ready_fd_take(), -1);
	ready_fd_notify(-1); /* nobody waits: nothing happens */
}

TEST(test_wiring_into_environment)
{
	int p[2];
	ctd_err err;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_SPS_TMCM_URL", "https://127.0.0.1:1/"), 0);
	ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_SPS_TMCM_API_KEY", "k=ey."), 0);
	ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_SPS_X", "two\nlines"), -1);
	const char *raw = "PATH=/nowhere\nCTDLAB_lower=1\nCTDLAB_=1\nno equals sign\n";
	ck_assert_int_eq(write(p[1], raw, strlen(raw)), (ssize_t)strlen(raw));
	ready_wiring_close(p[1]);
	const char *path = getenv("PATH");
	char *path_before = strdup(path ? path : "");
	set_env_fd(WIRING_FD_ENV, p[0]);
	ck_assert_int_eq(ready_wiring_take(&err), 0);
	ck_assert_str_eq(getenv("CTDLAB_SPS_TMCM_URL"), "https://127.0.0.1:1/");
	ck_assert_str_eq(getenv("CTDLAB_SPS_TMCM_API_KEY"), "k=ey.");
	ck_assert_ptr_null(getenv("CTDLAB_SPS_X"));
	ck_assert_ptr_null(getenv("CTDLAB_lower"));
	ck_assert_ptr_null(getenv("CTDLAB_"));
	ck_assert_str_eq(getenv("PATH") ? getenv("PATH") : "", path_before);
	free(path_before);
	ck_assert_ptr_null(getenv(WIRING_FD_ENV)); /* not passed on to children */
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1); /* read to EOF and closed */
	unsetenv("CTDLAB_SPS_TMCM_URL");
	unsetenv("CTDLAB_SPS_TMCM_API_KEY");
	ck_assert_int_eq(ready_wiring_take(&err), 0); /* no pipe: nothing */
}

/* A pipe whose writer went away before the end line (ctdlab stopped in the
 * middle of a start), or that holds too much, wires nothing: -1, and the
 * daemon exits rather than run unwired. */
TEST(test_wiring_incomplete_or_too_long)
{
	int p[2];
	ctd_err err;
	const char *cut[] = {"", "CTDLAB_A_URL=x\n", "CTDLAB_A_URL=x.\n", "CTDLAB_A_URL=x\n."};
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		ck_assert_int_eq(pipe(p), 0);
		ck_assert_int_eq(write(p[1], cut[i], strlen(cut[i])), (ssize_t)strlen(cut[i]));
		close(p[1]);
		set_env_fd(WIRING_FD_ENV, p[0]);
		ck_assert_msg(ready_wiring_take(&err) == -1, "took \"%s\"", cut[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "before its end line"));
		ck_assert_ptr_null(getenv("CTDLAB_A_URL"));
	}
	ck_assert_int_eq(pipe(p), 0);
	char value[1000];
	memset(value, 'v', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	for (int i = 0; i < 20; i++) /* 20 KB: more than the pipe's bound, less than its buffer */
		ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_A_URL", value), 0);
	ready_wiring_close(p[1]);
	set_env_fd(WIRING_FD_ENV, p[0]);
	ck_assert_int_eq(ready_wiring_take(&err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "more than"));
	ck_assert_ptr_null(getenv("CTDLAB_A_URL"));
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
}

TL_SUITE(.timeout = 10);
