/* worker.c - the background worker: one thread, one mutex and one condition
 * variable on CLOCK_MONOTONIC. Tickets count "sync now" requests; a run
 * serves every ticket issued before it started. Also the monotonic timed
 * waits other threads share (mono_cond_init, mono_deadline). */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	worker_job job;
	void *arg;
	char name[32];
	worker_status st;
	int stopping;
};

void mono_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

struct timespec mono_deadline(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Sleep (mu held) until the next run is due, a ticket is waiting or stop. */
static void wait_next(worker *w, int64_t delay_ms)
{
	struct timespec due = mono_deadline(delay_ms);
	while (!w->stopping && w->st.requested == w->st.completed)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &due) == ETIMEDOUT)
			break;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		uint64_t serving = w->st.requested;
		w->st.running = 1;
		pthread_mutex_unlock(&w->mu);
		int64_t next = w->job(w->arg);
		pthread_mutex_lock(&w->mu);
		w->st.running = 0;
		w->st.completed = serving;
		w->st.runs++;
		w->st.last_run_ms = time_now_ms();
		pthread_cond_broadcast(&w->cv);
		wait_next(w, next < 0 ? w->st.interval_ms : next);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

worker *worker_start(const char *name, int64_t interval_ms, worker_job job, void *arg,
		     ctd_err *err)
{
	worker *w = xcalloc(1, sizeof *w);
	w->job = job;
	w->arg = arg;
	w->st.interval_ms = interval_ms > 0 ? interval_ms : 1000;
	snprintf(w->name, sizeof w->name, "%s", name);
	mono_cond_init(&w->cv);
	pthread_mutex_init(&w->mu, NULL);
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		ctd_fail(err, CTD_EINTERNAL, "worker %s: cannot start its thread (error %d)", name,
			 rc);
		return NULL;
	}
	return w;
}

uint64_t worker_wake(worker *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t ticket = ++w->st.requested;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return ticket;
}

int worker_wait(worker *w, uint64_t ticket, int64_t timeout_ms, ctd_err *err)
{
	struct timespec until = mono_deadline(timeout_ms > 0 ? timeout_ms : 0);
	int rc = 0;
	pthread_mutex_lock(&w->mu);
	while (w->st.completed < ticket && rc == 0) {
		if (w->stopping)
			rc = ctd_fail(err, CTD_EBUSY, "%s: stopping", w->name);
		else if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT &&
			 w->st.completed < ticket)
			rc = ctd_fail(err, CTD_EBUSY, "%s still running after %lld ms", w->name,
				      (long long)timeout_ms);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int worker_run_now(worker *w, int64_t timeout_ms, ctd_err *err)
{
	return worker_wait(w, worker_wake(w), timeout_ms, err);
}

void worker_get_status(worker *w, worker_status *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}

void worker_stop(worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
