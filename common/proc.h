/* proc.h - running a child program and reading its output: argv is executed
 * directly (no shell), with optional stdin bytes, stdout and stderr captured
 * up to a bound, a timeout after which the child is killed, and its exit
 * status. */
#ifndef CTD_PROC_H
#define CTD_PROC_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

typedef struct proc_opts {
	const char *dir;      /* working directory; NULL: ours */
	const void *input;    /* written to stdin; NULL: stdin is /dev/null */
	size_t input_len;
	size_t max_output;    /* bytes kept of each stream; 0: 1 MiB (the rest is read and dropped) */
	int64_t timeout_ms;   /* 0: none; when it passes the child gets SIGKILL */
	int merge_stderr;     /* stderr into `out` as well (interleaved as written) */
} proc_opts;

typedef struct proc_result {
	int status;       /* exit status; 128 + signal when killed by one */
	int timed_out;
	int truncated;    /* some output went over max_output */
	char *out, *err;  /* NUL-terminated, never NULL after a run */
	size_t out_len, err_len;
} proc_result;

/* Run argv[0] (a path: no PATH search) with argv. 0 when it ran (whatever
 * its exit status), -1 when it could not be started (CTD_EIO, with errno's
 * text) or timed out (CTD_EBUSY; r still holds what it wrote). o may be NULL. */
int proc_run(const char *const *argv, const proc_opts *o, proc_result *r, ctd_err *err);
void proc_result_free(proc_result *r);

#endif
