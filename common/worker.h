/* worker.h - the one background worker behind every periodic job with a
 * "sync now" (SO feed pulls, Virtual Analyzer polling, delivery retries, the
 * analysis engine): a thread that runs a job at start, then every interval
 * (timed on the monotonic clock, so a wall-clock step neither delays nor
 * bunches runs), soon when woken, and at once for "run now and wait". */
#ifndef CTD_WORKER_H
#define CTD_WORKER_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "err.h"

typedef struct worker worker;

/* One run of the job. Returns the milliseconds until the next run, or a
 * negative number for the worker's interval (a job that knows when its next
 * item is due, like the analysis engine, returns that). */
typedef int64_t (*worker_job)(void *arg);

/* Start the thread; the first run begins at once. interval_ms <= 0: 1 s. */
worker *worker_start(const char *name, int64_t interval_ms, worker_job job, void *arg,
		     ctd_err *err);
/* Ask for a run soon (runs asked for while one is under way coalesce into
 * one more run). Returns the request's ticket for worker_wait. */
uint64_t worker_wake(worker *w);
/* Wait until a run that started after ticket was issued has finished.
 * CTD_EBUSY when timeout_ms passes first or the worker is stopping. */
int worker_wait(worker *w, uint64_t ticket, int64_t timeout_ms, ctd_err *err);
/* "Run now and wait": worker_wake then worker_wait. */
int worker_run_now(worker *w, int64_t timeout_ms, ctd_err *err);

typedef struct worker_status {
	uint64_t requested, completed; /* tickets issued; the newest one served */
	uint64_t runs;                 /* runs finished */
	int running;
	int64_t last_run_ms;           /* wall-clock end of the last run; 0: none */
	int64_t interval_ms;
} worker_status;
void worker_get_status(worker *w, worker_status *out);

/* Stop (a run under way finishes first), join and free. NULL is ignored. */
void worker_stop(worker *w);

/* Timed waits of any thread on the monotonic clock: a condition variable
 * made by mono_cond_init, and pthread_cond_timedwait deadlines from
 * mono_deadline (ms from now), so a wall-clock step neither stretches nor
 * cuts a wait short. */
void mono_cond_init(pthread_cond_t *cv);
struct timespec mono_deadline(int64_t ms);

#endif
