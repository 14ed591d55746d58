/* pidfile.c - pid files held by an flock for the holder's life and checked
 * against the process they name (see pidfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pidfile.h"
#include "util.h"

/* A checker (pidfile_owner) holds a shared lock for an instant: a start that
 * meets one tries again for this long before it calls the holder live. */
#define TAKE_RETRY_MS 1000
#define TAKE_POLL_MS 5

static pid_t read_pid(const char *path)
{
	char *text = NULL;
	if (file_read(path, &text, NULL, NULL) != 0)
		return 0;
	long pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

/* 1 when fd is still the file at path: the holder before us may have
 * unlinked it between our open and our lock. */
static int still_linked(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int write_own_pid(int fd, const char *path, ctd_err *err)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n)
		return ctd_fail(err, CTD_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

static void sleep_poll(void)
{
	usleep(TAKE_POLL_MS * 1000);
}

int pidfile_take(const char *path, pid_t *holder, ctd_err *err)
{
	int64_t deadline = time_mono_ms() + TAKE_RETRY_MS;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return ctd_fail(err, CTD_EIO, "%s: %s", path, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			if (!still_linked(fd, path)) {
				close(fd);
				continue;
			}
			if (write_own_pid(fd, path, err) == 0)
				return fd;
			close(fd);
			return -1;
		}
		int busy = errno == EWOULDBLOCK;
		close(fd);
		if (!busy)
			return ctd_fail(err, CTD_EIO, "%s: lock: %s", path, strerror(errno));
		if (time_mono_ms() >= deadline) {
			pid_t pid = read_pid(path);
			if (holder)
				*holder = pid;
			return ctd_fail(err, CTD_EBUSY, "%s is held by pid %ld", path, (long)pid);
		}
		sleep_poll();
	}
}

void pidfile_release(int fd, const char *path)
{
	if (fd < 0)
		return;
	unlink(path);
	close(fd);
}

/* 1 when somebody holds path's lock: our shared lock is refused. */
static int lock_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd); /* drops the shared lock when we got it */
	return held;
}

int pid_runs_program(pid_t pid, const char *program)
{
	char link[64], exe[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%ld/exe", (long)pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	/* a binary rebuilt while it runs reads "/path/ddand (deleted)" */
	static const char deleted[] = " (deleted)";
	size_t len = (size_t)n, dl = sizeof deleted - 1;
	if (len > dl && strcmp(exe + len - dl, deleted) == 0)
		exe[len - dl] = '\0';
	const char *base = strrchr(exe, '/');
	return strcmp(base ? base + 1 : exe, program) == 0;
}

pid_t pidfile_owner(const char *path, const char *program)
{
	pid_t pid = read_pid(path);
	if (!pid || !lock_held(path) || !pid_alive(pid) || !pid_runs_program(pid, program))
		return 0;
	return pid;
}
