/* evsink.c - the event sinks behind events_append: per-thread holding of
 * events written inside a transaction, a bounded queue per sink drained by
 * its worker with retry and exponential backoff, and drop counting when a
 * queue is full. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "evsink.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#define EVSINK_MAX 4
#define EVSINK_DEFAULT_QUEUE 1024
#define EVSINK_MAX_BACKOFF_MS 60000
#define EVSINK_IDLE_MS 60000

struct evsink {
	const evsink_ops *ops;
	void *state;
	char *kinds;
	int retries;
	int64_t backoff_ms;
	pthread_mutex_t mu;
	evsink_event **ring;
	size_t cap, head, depth;
	int attempt;             /* failed attempts of the event at the head */
	int64_t next_try_mono;   /* no attempt before this (backoff) */
	evsink_stats stats;
	worker *w;
};

static evsink *sinks[EVSINK_MAX];
static atomic_int nsinks;

/* --- event copies ---------------------------------------------------------- */

static evsink_event *event_copy(int64_t id, int64_t ts_ms, const char *appliance,
				const char *kind, const char *ref, json_t *detail)
{
	evsink_event *ev = xcalloc(1, sizeof *ev);
	ev->id = id;
	ev->ts_ms = ts_ms;
	ev->appliance = xstrdup(appliance);
	ev->kind = xstrdup(kind);
	ev->ref = ref ? xstrdup(ref) : NULL;
	ev->detail = detail ? json_deep_copy(detail) : NULL;
	return ev;
}

static void event_free(evsink_event *ev)
{
	if (!ev)
		return;
	free(ev->appliance);
	free(ev->kind);
	free(ev->ref);
	json_decref(ev->detail);
	free(ev);
}

/* 1 when kind matches one of the comma-separated globs (empty list: all). */
static int kinds_match(const char *kinds, const char *kind)
{
	if (!kinds || !*kinds)
		return 1;
	char *list = xstrdup(kinds), *save = NULL;
	int hit = 0;
	for (char *p = strtok_r(list, ", ", &save); p && !hit; p = strtok_r(NULL, ", ", &save))
		hit = wildcard_match(p, kind);
	free(list);
	return hit;
}

/* --- the queue and its worker ---------------------------------------------- */

static void sink_push(evsink *s, const evsink_event *ev)
{
	pthread_mutex_lock(&s->mu);
	int full = s->depth == s->cap;
	uint64_t dropped = 0;
	if (full) {
		dropped = ++s->stats.dropped_full;
	} else {
		s->ring[(s->head + s->depth++) % s->cap] =
			event_copy(ev->id, ev->ts_ms, ev->appliance, ev->kind, ev->ref, ev->detail);
		s->stats.queued++;
	}
	pthread_mutex_unlock(&s->mu);
	if (full)
		log_warn("evsink.dropped", "sink=%s kind=%s id=%lld dropped=%llu reason=\"queue full\"",
			 s->ops->name, ev->kind, (long long)ev->id, (unsigned long long)dropped);
	else
		worker_wake(s->w);
}

static evsink_event *sink_head(evsink *s)
{
	pthread_mutex_lock(&s->mu);
	evsink_event *ev = s->depth ? s->ring[s->head] : NULL;
	pthread_mutex_unlock(&s->mu);
	return ev;
}

/* Take the head off the queue, counting how it ended. */
static void sink_pop(evsink *s, int sent)
{
	pthread_mutex_lock(&s->mu);
	evsink_event *ev = s->ring[s->head];
	s->head = (s->head + 1) % s->cap;
	s->depth--;
	if (sent)
		s->stats.sent++;
	else
		s->stats.failed++;
	s->attempt = 0;
	s->next_try_mono = 0;
	pthread_mutex_unlock(&s->mu);
	event_free(ev);
}

/* After a failed attempt: when to try again (ms), or -1 when the event was
 * given up. */
static int64_t sink_backoff(evsink *s, const evsink_event *ev, const ctd_err *err)
{
	if (s->attempt >= s->retries) {
		log_warn("evsink.failed", "sink=%s kind=%s id=%lld attempts=%d error=\"%s\"",
			 s->ops->name, ev->kind, (long long)ev->id, s->attempt + 1, err->msg);
		sink_pop(s, 0);
		return -1;
	}
	int64_t wait = s->backoff_ms << (s->attempt < 20 ? s->attempt : 20);
	if (wait > EVSINK_MAX_BACKOFF_MS)
		wait = EVSINK_MAX_BACKOFF_MS;
	pthread_mutex_lock(&s->mu);
	s->attempt++;
	s->stats.retries++;
	s->next_try_mono = time_mono_ms() + wait;
	pthread_mutex_unlock(&s->mu);
	log_info("evsink.retry", "sink=%s kind=%s id=%lld attempt=%d wait_ms=%lld error=\"%s\"",
		 s->ops->name, ev->kind, (long long)ev->id, s->attempt, (long long)wait, err->msg);
	return wait;
}

/* Send what is queued, in order; a failure keeps the event at the head
 * and waits out its backoff (a wake-up during it does not cut it short). */
static int64_t sink_job(void *arg)
{
	evsink *s = arg;
	evsink_event *ev;
	while ((ev = sink_head(s))) {
		int64_t left = s->next_try_mono - time_mono_ms();
		if (s->next_try_mono && left > 0)
			return left;
		ctd_err err = {0};
		if (s->ops->deliver(s->state, ev, &err) == 0) {
			sink_pop(s, 1);
			continue;
		}
		int64_t wait = sink_backoff(s, ev, &err);
		if (wait >= 0)
			return wait;
	}
	return EVSINK_IDLE_MS;
}

evsink *evsink_add(const evsink_ops *ops, void *state, const evsink_policy *pol, ctd_err *err)
{
	if (atomic_load(&nsinks) >= EVSINK_MAX) {
		ops->free_state(state);
		ctd_fail(err, CTD_EINVAL, "evsink: at most %d outputs", EVSINK_MAX);
		return NULL;
	}
	evsink *s = xcalloc(1, sizeof *s);
	s->ops = ops;
	s->state = state;
	s->kinds = xstrdup(pol->kinds ? pol->kinds : "");
	s->retries = pol->retries;
	s->backoff_ms = pol->backoff_ms > 0 ? pol->backoff_ms : 200;
	s->cap = pol->queue_max ? pol->queue_max : EVSINK_DEFAULT_QUEUE;
	s->ring = xcalloc(s->cap, sizeof *s->ring);
	pthread_mutex_init(&s->mu, NULL);
	char name[32];
	snprintf(name, sizeof name, "out-%s", ops->name);
	s->w = worker_start(name, EVSINK_IDLE_MS, sink_job, s, err);
	if (!s->w) {
		ops->free_state(state);
		free(s->ring);
		free(s->kinds);
		free(s);
		return NULL;
	}
	sinks[atomic_load(&nsinks)] = s;
	atomic_fetch_add(&nsinks, 1);
	return s;
}

void evsink_get_stats(evsink *s, evsink_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	out->depth = s->depth;
	pthread_mutex_unlock(&s->mu);
}

json_t *evsink_stats_json(void)
{
	int n = atomic_load(&nsinks);
	json_t *all = n ? json_object() : NULL;
	for (int i = 0; i < n; i++) {
		evsink_stats st;
		evsink_get_stats(sinks[i], &st);
		json_object_set_new(all, sinks[i]->ops->name,
				    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "queued",
					      (json_int_t)st.queued, "sent", (json_int_t)st.sent,
					      "dropped_full", (json_int_t)st.dropped_full, "failed",
					      (json_int_t)st.failed, "retries", (json_int_t)st.retries,
					      "depth", (json_int_t)st.depth));
	}
	return all;
}

void evsink_stop_all(void)
{
	int n = atomic_exchange(&nsinks, 0);
	for (int i = 0; i < n; i++) {
		evsink *s = sinks[i];
		worker_stop(s->w);
		if (s->depth)
			log_info("evsink.stopped", "sink=%s unsent=%zu", s->ops->name, s->depth);
		while (s->depth) {
			event_free(s->ring[s->head]);
			s->head = (s->head + 1) % s->cap;
			s->depth--;
		}
		s->ops->free_state(s->state);
		pthread_mutex_destroy(&s->mu);
		free(s->ring);
		free(s->kinds);
		free(s);
		sinks[i] = NULL;
	}
}

/* --- offering events ------------------------------------------------------- */

/* Events of the thread's open transaction, oldest first. */
static __thread evsink_event **held;
static __thread size_t nheld, held_cap;

static void publish(const evsink_event *ev)
{
	int n = atomic_load(&nsinks);
	for (int i = 0; i < n; i++)
		if (kinds_match(sinks[i]->kinds, ev->kind))
			sink_push(sinks[i], ev);
}

static int anyone_takes(const char *kind)
{
	int n = atomic_load(&nsinks);
	for (int i = 0; i < n; i++)
		if (kinds_match(sinks[i]->kinds, kind))
			return 1;
	return 0;
}

void evsink_offer(int64_t id, int64_t ts_ms, const char *appliance, const char *kind,
		  const char *ref, json_t *detail, int in_txn)
{
	if (atomic_load(&nsinks) == 0 || !anyone_takes(kind))
		return;
	if (!in_txn) {
		evsink_event ev = {id, ts_ms, (char *)appliance, (char *)kind, (char *)ref, detail};
		publish(&ev);
		return;
	}
	if (nheld == held_cap) {
		held_cap = held_cap ? held_cap * 2 : 8;
		held = xrealloc(held, held_cap * sizeof *held);
	}
	held[nheld++] = event_copy(id, ts_ms, appliance, kind, ref, detail);
}

void evsink_txn_end(int committed)
{
	for (size_t i = 0; i < nheld; i++) {
		if (committed)
			publish(held[i]);
		event_free(held[i]);
	}
	/* freed every time: a thread-local array would outlive its thread */
	free(held);
	held = NULL;
	nheld = held_cap = 0;
}
