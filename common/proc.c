/* proc.c - proc_run: fork + execv with pipes, one poll loop that feeds stdin
 * and drains stdout/stderr until both close, a monotonic deadline, and a
 * close-on-exec pipe that carries exec's errno back to the parent. SIGPIPE
 * from a child that stops reading is blocked and discarded, never fatal. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_MAX_OUTPUT (1u << 20)

typedef struct stream {
	int fd;
	sbuf buf;
} stream;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child: only async-signal-safe calls. */
static void child_exec(const char *const *argv, const proc_opts *o, int in, int out, int errfd,
		       int report)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(o->merge_stderr ? out : errfd, 2) < 0 ||
	    (o->dir && chdir(o->dir) != 0)) {
		int e = errno;
		(void)!write(report, &e, sizeof e);
		_exit(127);
	}
	execv(argv[0], (char *const *)argv);
	int e = errno;
	(void)!write(report, &e, sizeof e);
	_exit(127);
}

static void keep(stream *s, const char *data, size_t n, size_t max, int *truncated)
{
	size_t room = s->buf.len < max ? max - s->buf.len : 0;
	if (n > room)
		*truncated = 1;
	if (room)
		sbuf_append(&s->buf, data, n < room ? n : room);
}

/* Feed stdin and drain the outputs until both close or the deadline passes. */
static int pump(int *in, stream *out, stream *errs, const proc_opts *o, proc_result *r)
{
	size_t max = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT, fed = 0;
	int64_t deadline = o->timeout_ms > 0 ? time_mono_ms() + o->timeout_ms : 0;
	while (out->fd >= 0 || errs->fd >= 0) {
		struct pollfd p[3] = {{out->fd, POLLIN, 0}, {errs->fd, POLLIN, 0}, {*in, POLLOUT, 0}};
		int wait = -1;
		if (deadline) {
			int64_t left = deadline - time_mono_ms();
			if (left <= 0)
				return -1;
			wait = (int)(left < 1000 ? left : 1000);
		}
		if (poll(p, 3, wait) < 0 && errno != EINTR)
			return -1;
		stream *ss[2] = {out, errs};
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			char chunk[8192];
			ssize_t n = read(ss[i]->fd, chunk, sizeof chunk);
			if (n > 0)
				keep(ss[i], chunk, (size_t)n, max, &r->truncated);
			else if (n == 0 || errno != EINTR)
				close_fd(&ss[i]->fd);
		}
		if (p[2].revents) {
			ssize_t n = write(*in, (const char *)o->input + fed, o->input_len - fed);
			if (n > 0)
				fed += (size_t)n;
			if ((n < 0 && errno != EINTR && errno != EAGAIN) || fed == o->input_len)
				close_fd(in);
		}
	}
	return 0;
}

/* Open the pipes: [0] stdin, [1] stdout, [2] stderr, [3] exec report. */
static int open_pipes(int fds[4][2], const proc_opts *o, ctd_err *err)
{
	for (int i = 0; i < 4; i++)
		fds[i][0] = fds[i][1] = -1;
	for (int i = 0; i < 4; i++) {
		if (i == 0 && !o->input) {
			fds[0][0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fds[0][0] < 0)
				return ctd_fail(err, CTD_EIO, "proc: /dev/null: %s", strerror(errno));
			continue;
		}
		if (pipe2(fds[i], O_CLOEXEC) != 0)
			return ctd_fail(err, CTD_EIO, "proc: pipe: %s", strerror(errno));
	}
	if (fds[0][1] >= 0)
		fcntl(fds[0][1], F_SETFL, O_NONBLOCK);
	return 0;
}

static void close_pipes(int fds[4][2])
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			close_fd(&fds[i][j]);
}

/* Block SIGPIPE for this thread; afterwards discard one we caused. */
static void sigpipe_block(sigset_t *old)
{
	sigset_t pipe_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	sigset_t pipe_set, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	if (!sigismember(old, SIGPIPE) && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int run_child(const char *const *argv, const proc_opts *o, int fds[4][2], proc_result *r,
		     ctd_err *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return ctd_fail(err, CTD_EIO, "proc: fork: %s", strerror(errno));
	if (pid == 0)
		child_exec(argv, o, fds[0][0], fds[1][1], fds[2][1], fds[3][1]);
	close_fd(&fds[0][0]);
	close_fd(&fds[1][1]);
	close_fd(&fds[2][1]);
	close_fd(&fds[3][1]);
	int exec_errno = 0;
	ssize_t got = read(fds[3][0], &exec_errno, sizeof exec_errno);
	stream out = {fds[1][0], {0}}, errs = {fds[2][0], {0}};
	fds[1][0] = fds[2][0] = -1;
	if (got != sizeof exec_errno && pump(&fds[0][1], &out, &errs, o, r) != 0) {
		r->timed_out = 1;
		kill(pid, SIGKILL);
	}
	close_fd(&out.fd);
	close_fd(&errs.fd);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out_len = out.buf.len;
	r->err_len = errs.buf.len;
	r->out = out.buf.data ? sbuf_detach(&out.buf) : xstrdup("");
	r->err = errs.buf.data ? sbuf_detach(&errs.buf) : xstrdup("");
	if (got == sizeof exec_errno)
		return ctd_fail(err, CTD_EIO, "cannot run %s: %s", argv[0], strerror(exec_errno));
	if (r->timed_out)
		return ctd_fail(err, CTD_EBUSY, "%s still running after %lld ms: killed", argv[0],
				(long long)o->timeout_ms);
	return 0;
}

int proc_run(const char *const *argv, const proc_opts *o, proc_result *r, ctd_err *err)
{
	static const proc_opts defaults = {0};
	memset(r, 0, sizeof *r);
	if (!argv || !argv[0])
		return ctd_fail(err, CTD_EINVAL, "proc: no program to run");
	if (!o)
		o = &defaults;
	int fds[4][2];
	sigset_t old;
	sigpipe_block(&old);
	int rc = open_pipes(fds, o, err);
	if (rc == 0)
		rc = run_child(argv, o, fds, r, err);
	close_pipes(fds);
	sigpipe_restore(&old);
	return rc;
}

void proc_result_free(proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
