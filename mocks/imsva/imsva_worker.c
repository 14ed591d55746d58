/* imsva_worker.c - one background thread per periodic job (delivery retries,
 * Virtual Analyzer polling, Control Manager sync): it runs the job every
 * interval and at once when woken, so every periodic sync also has a
 * "sync now". Blocking network calls live here, never on the event loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "imsva_app.h"
#include "log.h"
#include "util.h"

struct imsva_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int woken, stopping;
	long long interval_ms;
	imsva_job job;
	void *arg;
	char name[32];
};

static void *worker_main(void *arg)
{
	imsva_worker *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		w->woken = 0;
		pthread_mutex_unlock(&w->lock);
		w->job(w->arg);
		pthread_mutex_lock(&w->lock);
		if (w->stopping || w->woken)
			continue;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		long long ns = until.tv_nsec + (w->interval_ms % 1000) * 1000000LL;
		until.tv_sec += w->interval_ms / 1000 + ns / 1000000000LL;
		until.tv_nsec = ns % 1000000000LL;
		while (!w->stopping && !w->woken) {
			if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

imsva_worker *imsva_worker_start(const char *name, long long interval_ms, imsva_job job, void *arg)
{
	imsva_worker *w = xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	w->job = job;
	w->arg = arg;
	snprintf(w->name, sizeof w->name, "%s", name);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		fatal("worker.start", "name=%s", name);
	return w;
}

void imsva_worker_wake(imsva_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->woken = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void imsva_worker_stop(imsva_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
}

void imsva_worker_free(imsva_worker *w)
{
	if (!w)
		return;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
