/* test_ready.c - the start pipes of common/ready.c: a daemon takes the
 * write end named in CTDLAB_READY_FD out of its environment (only a pipe,
 * close-on-exec from then on), and its notification is one byte, then EOF;
 * it reads its wiring from the pipe named in CTDLAB_WIRING_FD into its
 * environment, CTDLAB_ variables only, whole lines only. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ready.h"
#include "testlib.h"

static void set_env_fd(int fd)
{
	char num[16];
	snprintf(num, sizeof num, "%d", fd);
	setenv(READY_FD_ENV, num, 1);
}

TEST(test_pipe_taken_and_notified)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	set_env_fd(p[1]);
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
	set_env_fd(fd);
	ck_assert_int_eq(ready_fd_take(), -1); /* not a pipe */
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0); /* left alone */
	close(fd);
	const char *bad[] = {"", "x", "12x", "-1", "1", "99999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv(READY_FD_ENV, bad[i], 1);
		ck_assert_msg(ready_fd_take() == -1, "took \"%s\"", bad[i]);
		ck_assert_ptr_null(getenv(READY_FD_ENV));
	}
	set_env_fd(fd); /* closed meanwhile */
	ck_assert_int_eq(ready_fd_take(), -1);
	ready_fd_notify(-1); /* nobody waits: nothing happens */
}

static void set_wiring_fd(int fd)
{
	char num[16];
	snprintf(num, sizeof num, "%d", fd);
	setenv(WIRING_FD_ENV, num, 1);
}

TEST(test_wiring_into_environment)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_SPS_TMCM_URL", "https://127.0.0.1:1/"), 0);
	ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_SPS_TMCM_API_KEY", "k=ey"), 0);
	ck_assert_int_eq(ready_wiring_put(p[1], "CTDLAB_SPS_X", "two\nlines"), -1);
	const char *raw = "PATH=/nowhere\nCTDLAB_lower=1\nCTDLAB_=1\nno equals sign\n";
	ck_assert_int_eq(write(p[1], raw, strlen(raw)), (ssize_t)strlen(raw));
	close(p[1]);
	const char *path = getenv("PATH");
	char *path_before = path ? strdup(path) : NULL;
	set_wiring_fd(p[0]);
	ready_wiring_take();
	ck_assert_str_eq(getenv("CTDLAB_SPS_TMCM_URL"), "https://127.0.0.1:1/");
	ck_assert_str_eq(getenv("CTDLAB_SPS_TMCM_API_KEY"), "k=ey");
	ck_assert_ptr_null(getenv("CTDLAB_SPS_X"));
	ck_assert_ptr_null(getenv("CTDLAB_lower"));
	ck_assert_ptr_null(getenv("CTDLAB_"));
	ck_assert_str_eq(getenv("PATH") ? getenv("PATH") : "", path_before ? path_before : "");
	free(path_before);
	ck_assert_ptr_null(getenv(WIRING_FD_ENV)); /* not passed on to children */
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1); /* read to EOF and closed */
	unsetenv("CTDLAB_SPS_TMCM_URL");
	unsetenv("CTDLAB_SPS_TMCM_API_KEY");
	ready_wiring_take(); /* no pipe: nothing */
}

/* Past WIRING_MAX bytes the rest is drained, and the line the cut went
 * through is dropped, not set with half its value. */
TEST(test_wiring_bounded)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	char value[1000];
	memset(value, 'v', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	int lines = 0;
	for (size_t sent = 0; sent < WIRING_MAX + 4000; lines++) {
		char name[32];
		snprintf(name, sizeof name, "CTDLAB_W%d", lines);
		ck_assert_int_eq(ready_wiring_put(p[1], name, value), 0);
		sent += strlen(name) + 1 + strlen(value) + 1;
	}
	close(p[1]);
	set_wiring_fd(p[0]);
	ready_wiring_take();
	int set = 0;
	for (int i = 0; i < lines; i++) {
		char name[32];
		snprintf(name, sizeof name, "CTDLAB_W%d", i);
		const char *v = getenv(name);
		if (v) {
			ck_assert_str_eq(v, value);
			set++;
			unsetenv(name);
		}
	}
	ck_assert_int_gt(set, 0);
	ck_assert_int_lt(set, lines);
	ck_assert_int_eq(set, WIRING_MAX / (int)(strlen("CTDLAB_W10=") + strlen(value) + 1));
}

TL_SUITE(.timeout = 10);
