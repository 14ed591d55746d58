/* pidfile.h - pid files that cannot lie: the process that writes one holds an
 * flock on it for its whole life, so a pid file whose lock nobody holds is
 * stale whatever pid it names, and before anyone signals the pid it names,
 * /proc/<pid>/exe is checked to be the expected program. A stale file naming
 * an unrelated live process neither blocks a start nor gets that process
 * signalled. */
#ifndef CTD_PIDFILE_H
#define CTD_PIDFILE_H

#include <sys/types.h>
#include "err.h"

/* Take path for the calling process: create it, lock it (exclusive, kept
 * until pidfile_release or exit) and write our pid. The open descriptor
 * (close-on-exec), or -1 with err: CTD_EBUSY when a live holder keeps the
 * lock (*holder = the pid it wrote; holder may be NULL), CTD_EIO else. */
int pidfile_take(const char *path, pid_t *holder, ctd_err *err);
/* Remove path and drop the lock (in that order: whoever takes it next makes
 * a new file). */
void pidfile_release(int fd, const char *path);
/* The pid path names when its lock is held and that process runs program
 * (the file name of its executable, e.g. "ddand"); else 0. */
pid_t pidfile_owner(const char *path, const char *program);
/* 1 when process pid runs the executable named program. */
int pid_runs_program(pid_t pid, const char *program);

#endif
