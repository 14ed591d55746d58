/* test_ready.c - the readiness pipe of common/ready.c: a daemon takes the
 * write end named in CTDLAB_READY_FD out of its environment (only a pipe,
 * close-on-exec from then on), and its notification is one byte, then EOF. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

TL_SUITE(.timeout = 10);
