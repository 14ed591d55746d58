/* test_worker.c - unit tests of common/worker.c: the first run at start,
 * "run now and wait" returning only after a run that began after the call,
 * wake coalescing, a job choosing its next delay, a timed-out wait, a clean
 * stop, and the monotonic timed waits other threads share. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "worker.h"
#include "testlib.h"

/* A job that blocks until the test lets it finish, counting its runs. */
typedef struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, finished, open;
	int64_t next_ms;
} gate;

static gate *gate_new(int open, int64_t next_ms)
{
	gate *g = calloc(1, sizeof *g);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->open = open;
	g->next_ms = next_ms;
	return g;
}

static void gate_free(gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static int64_t gated_job(void *arg)
{
	gate *g = arg;
	pthread_mutex_lock(&g->mu);
	g->started++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	g->finished++;
	pthread_mutex_unlock(&g->mu);
	return g->next_ms;
}

static void gate_wait_started(gate *g, int n)
{
	pthread_mutex_lock(&g->mu);
	while (g->started < n)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void gate_set(gate *g, int open)
{
	pthread_mutex_lock(&g->mu);
	g->open = open;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static int gate_finished(gate *g)
{
	pthread_mutex_lock(&g->mu);
	int n = g->finished;
	pthread_mutex_unlock(&g->mu);
	return n;
}

/* An interval no test outlives: only wakes and run-now cause runs. */
#define NEVER_MS (3600 * 1000)

static gate *g;
static worker *w;

/* A worker on the gated job, its first run under way. */
static void start(int open, int64_t next_ms)
{
	ctd_err err;
	g = gate_new(open, next_ms);
	w = worker_start("test", NEVER_MS, gated_job, g, &err);
	ck_assert_msg(w != NULL, "%s", err.msg);
	gate_wait_started(g, 1);
}

static void finish(void)
{
	gate_set(g, 1);
	worker_stop(w);
	gate_free(g);
}

TEST(test_run_now_waits_for_a_run_that_started_after_it)
{
	start(0, -1);
	ctd_err err;
	uint64_t ticket = worker_wake(w); /* issued while run 1 is held */
	gate_set(g, 1);
	ck_assert_msg(worker_wait(w, ticket, 60000, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(gate_finished(g), 2);
	worker_status st;
	worker_get_status(w, &st);
	ck_assert_uint_eq(st.runs, 2);
	ck_assert_uint_eq(st.completed, ticket);
	ck_assert_int_gt(st.last_run_ms, 0);

	ck_assert_int_eq(worker_run_now(w, 60000, &err), 0);
	ck_assert_int_eq(gate_finished(g), 3);
	finish();
}

TEST(test_wakes_during_a_run_coalesce)
{
	start(0, -1);
	ctd_err err;
	worker_wake(w);
	worker_wake(w);
	uint64_t last = worker_wake(w);
	gate_set(g, 1);
	ck_assert_int_eq(worker_wait(w, last, 60000, &err), 0);
	ck_assert_int_eq(gate_finished(g), 2); /* three wakes, one extra run */
	finish();
}

TEST(test_wait_times_out_while_a_run_is_held)
{
	start(0, -1);
	ctd_err err;
	ck_assert_int_eq(worker_run_now(w, 1, &err), -1);
	ck_assert_int_eq(err.code, CTD_EBUSY);
	finish(); /* the held run finishes, then the thread exits */
}

TEST(test_job_chooses_its_next_delay)
{
	/* With an hour's interval, only the job's own "next in 0 ms" keeps it going. */
	start(1, 0);
	gate_wait_started(g, 5);
	finish();
}

TEST(test_stop_without_runs_asked)
{
	start(1, -1);
	worker_stop(NULL);
	int finished = gate_finished(g);
	finish();
	ck_assert_int_le(finished, 1);
}

/* A wait on a mono_cond_init condition up to a far mono_deadline, until told. */
typedef struct mono_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int waiting, told, timed_out;
} mono_wait;

static void *mono_waiter(void *arg)
{
	mono_wait *m = arg;
	struct timespec until = mono_deadline(3600 * 1000);
	pthread_mutex_lock(&m->mu);
	m->waiting = 1;
	pthread_cond_broadcast(&m->cv);
	while (!m->told && !m->timed_out)
		m->timed_out = pthread_cond_timedwait(&m->cv, &m->mu, &until) == ETIMEDOUT;
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* A monotonic deadline is seconds since boot: on a condition variable timed
 * on the wall clock it lies decades in the past and every wait times out at
 * once. So the waiter is still waiting an hour ahead when told. */
TEST(test_mono_deadline_on_mono_cond_waits_until_told)
{
	mono_wait m = {.mu = PTHREAD_MUTEX_INITIALIZER};
	mono_cond_init(&m.cv);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, mono_waiter, &m), 0);
	pthread_mutex_lock(&m.mu);
	while (!m.waiting)
		pthread_cond_wait(&m.cv, &m.mu);
	m.told = 1;
	pthread_cond_broadcast(&m.cv);
	pthread_mutex_unlock(&m.mu);
	pthread_join(t, NULL);
	ck_assert_msg(!m.timed_out, "a wait an hour ahead timed out at once: not the monotonic clock");
	pthread_cond_destroy(&m.cv);
}
