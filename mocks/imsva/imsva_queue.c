/* imsva_queue.c - durable intake and the processing workers.
 *
 * Intake: SMTP sessions hand finished messages to one committer thread. It
 * takes everything that queued up while the previous transaction was
 * committing and writes it in ONE transaction (group commit), so many
 * sessions share one fsync; only then are their 250s released. Processing
 * (MIME, scan, policy, delivery) happens later on worker threads that claim
 * committed messages in batches, so it never slows the intake path. A message
 * claimed but not finished when the daemon died is 'processing' in the store
 * and goes back to 'new' at start-up: every acknowledged message is
 * processed exactly once to a final state.
 *
 * Dependencies: the queue calls the message store (imsva_msgstore.c) and
 * nothing else of imsvad; what processing a message means comes in as the
 * imsva_processor given to imsva_queue_start (imsva_process.c).
 * Processing and the VA queue call the queue (imsva_queue_kick), never the
 * other way round. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "imsva_app.h"
#include "imsva_smtp.h"
#include "log.h"
#include "util.h"
#include "worker.h"

/* Messages a worker claims at once: every write transaction of processing
 * waits for the intake committer's, which holds the write lock through its
 * fsync, so claiming in large batches keeps processing's share of them small
 * (16 drained a burst at half the rate of 64 on the 2-core bench host). */
#define CLAIM_BATCH 64
/* Messages whose writes share one transaction. More would take fewer
 * transactions still, but each SMTP 250 waits for the one in progress; one
 * per message made processing hand the lock over per message. */
#define APPLY_GROUP 8
/* Processing judges messages (parse, scan, libmagic: nearly all of its CPU)
 * in the SCHED_IDLE class: it takes only CPU time that the SMTP sessions, the
 * committer and the rest of the host leave unused. Its writes (claim, apply,
 * failures) run in the normal class at PROCESS_NICE: an idle-class thread
 * holding the write lock would keep the committer, and every 250 behind it,
 * waiting until a core fell idle. (Switching back needs CAP_SYS_NICE or
 * RLIMIT_NICE; without it processing stays at PROCESS_NICE.) While SMTP
 * intake is busy (a commit within INTAKE_BUSY_MS), processing pauses
 * PROCESS_YIELD_MS after each batch, so that its writes come in few large
 * transactions: without the pause, at one session each message was claimed
 * and written on its own and every 250 waited for those transactions (intake
 * 143-227 vs 335-460 msgs/s, BEGIN's wait 284-904 vs 152 us); at nice 10
 * without the pause intake lost 15-20 % at 1, 10 and 50 sessions. */
#define INTAKE_BUSY_MS 100
#define PROCESS_YIELD_MS 25
#define PROCESS_NICE 10
#define MAX_PROCESS_ATTEMPTS 5
/* The intake committer restarts the WAL itself every INTAKE_CHECKPOINT_FRAMES
 * frames (imsva_store_restart_wal), after releasing its batch's 250s. Under
 * sustained intake it is always in a transaction or its fsync, so a
 * checkpoint on any other connection (processing's auto-checkpoint, the
 * store_maint worker) never catches up with it and the WAL never restarts:
 * it grew by ~25 KB a message (100 MB after 4 000 messages at 10 sessions),
 * every commit appended to it and every page read searched a longer WAL
 * index. Restarted, the commits rewrite the WAL in place. The budget bounds
 * the stall when a long reader is in the way (then the next mark retries). */
#define INTAKE_CHECKPOINT_FRAMES 1000
#define INTAKE_CHECKPOINT_BUDGET_MS 20
/* Processing's own checkpoints only when the WAL is well past the
 * committer's mark, i.e. intake is idle: while intake runs they could not
 * finish and only added fsyncs in front of the committer's. */
#define PROCESS_CHECKPOINT_FRAMES (4 * INTAKE_CHECKPOINT_FRAMES)
/* An idle processing thread looks for deferred messages this often. */
#define IDLE_LOOK_MS 500

typedef struct pending {
	struct pending *next;
	smtp_envelope *env;
	imsva_commit_done done;
	void *ctx;
	int64_t id;
} pending;

struct imsva_queue {
	imsva_app *app;
	/* committer */
	pthread_t committer;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pending *head, **tail;
	int stopping;
	/* intake statistics (committer thread only; logged at stop) */
	long long batches, committed, commit_us, max_batch, checkpoints, checkpoint_us;
	int wal_frames;      /* in the WAL after the last commit (note_wal_frames) */
	int wal_checkpointed; /* wal_frames at the last restart attempt */
	_Atomic int64_t last_commit_ms; /* monotonic; read by the processors */
	/* processing statistics (all workers; logged at stop): the thread CPU
	 * time per message, which other load on the machine barely moves */
	_Atomic long long processed, process_cpu_us;
	/* processing workers */
	const imsva_processor *proc;
	pthread_t *workers;
	int nworkers;
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	int pstop, kicked;
};

/* ---- group commit ---- */

static int insert_batch(store *st, pending *list, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	for (pending *p = list; p; p = p->next)
		if (imsva_msgs_insert(st, p->env, &p->id, err) < 0)
			goto fail;
	if (store_commit(st, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* SQLite's WAL hook, on the committer's connection in place of the
 * auto-checkpoint: notes the WAL's length after each commit. */
static int note_wal_frames(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((imsva_queue *)arg)->wal_frames = frames;
	return SQLITE_OK;
}

static void restart_wal_if_due(imsva_queue *q, store *st)
{
	if (q->wal_frames < q->wal_checkpointed) /* it restarted */
		q->wal_checkpointed = 0;
	if (q->wal_frames - q->wal_checkpointed < INTAKE_CHECKPOINT_FRAMES)
		return;
	int64_t t0 = time_mono_us();
	int rc = imsva_store_restart_wal(st, INTAKE_CHECKPOINT_BUDGET_MS);
	q->checkpoints++;
	q->checkpoint_us += time_mono_us() - t0;
	q->wal_checkpointed = q->wal_frames;
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		log_warn("intake.checkpoint_failed", "error=\"%s\"", sqlite3_errstr(rc));
}

static void *committer_main(void *arg)
{
	imsva_queue *q = arg;
	ctd_err err0 = {0};
	store *st0 = imsva_store(&err0);
	if (st0)
		sqlite3_wal_hook(store_db(st0), note_wal_frames, q);
	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		pending *list = q->head;
		q->head = NULL;
		q->tail = &q->head;
		int stop = q->stopping;
		pthread_mutex_unlock(&q->lock);
		if (!list && stop)
			break;
		ctd_err err = {0};
		store *st = imsva_store(&err);
		int64_t t0 = time_mono_us();
		int ok = st && insert_batch(st, list, &err) == 0;
		long long n = 0;
		for (pending *p = list; p; p = p->next)
			n++;
		q->batches++;
		q->committed += ok ? n : 0;
		q->max_batch = n > q->max_batch ? n : q->max_batch;
		q->commit_us += time_mono_us() - t0;
		if (!ok)
			log_error("intake.commit_failed", "error=\"%s\"", err.msg);
		while (list) {
			pending *p = list;
			list = p->next;
			char qid[16];
			imsva_msg_queue_id(p->id, qid);
			p->done(p->ctx, ok, qid);
			smtp_envelope_free(p->env);
			free(p);
		}
		if (ok) {
			restart_wal_if_due(q, st); /* before processing is woken to write */
			atomic_store(&q->last_commit_ms, time_mono_ms());
			imsva_queue_kick(q);
		}
	}
	return NULL;
}

void imsva_queue_commit(void *appv, smtp_envelope *env, imsva_commit_done done, void *ctx)
{
	imsva_queue *q = ((imsva_app *)appv)->queue;
	pending *p = xcalloc(1, sizeof *p);
	p->env = env;
	p->done = done;
	p->ctx = ctx;
	pthread_mutex_lock(&q->lock);
	*q->tail = p;
	q->tail = &p->next;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* ---- processing ---- */

void imsva_queue_kick(imsva_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->plock);
	q->kicked = 1;
	pthread_cond_broadcast(&q->pcond);
	pthread_mutex_unlock(&q->plock);
}

/* A message that could not be processed: retry later, give up after a few
 * attempts with a system event (never silently). */
static void process_failed(store *st, int64_t id, const ctd_err *perr)
{
	log_error("processing.failed", "msg=%" PRId64 " error=\"%s\"", id, perr->msg);
	ctd_err err = {0};
	if (imsva_msgs_failed(st, id, MAX_PROCESS_ATTEMPTS, time_now_ms() + 1000, &err) < 0)
		log_error("processing.fail_state", "msg=%" PRId64 " error=\"%s\"", id, err.msg);
	imsva_log_system(st, "processing_error", "message %" PRId64 ": %s", id, perr->msg);
}

/* One job's writes in a transaction of its own. */
static void apply_alone(imsva_queue *q, store *st, imsva_job *job)
{
	ctd_err err = {0};
	int rc = store_begin(st, &err);
	if (rc == 0)
		rc = q->proc->apply(q->app, st, job, &err);
	if (rc == 0)
		rc = store_commit(st, &err);
	if (rc < 0) {
		store_rollback(st);
		process_failed(st, q->proc->msg_id(job), &err);
	} else {
		q->proc->committed(q->app, job);
	}
}

/* jobs[0..n)'s writes in one transaction; when one fails, all are rolled
 * back and each is applied on its own, so a bad message costs the others
 * nothing. */
static void apply_together(imsva_queue *q, store *st, imsva_job **jobs, int n)
{
	ctd_err err = {0};
	int rc = store_begin(st, &err);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = q->proc->apply(q->app, st, jobs[i], &err);
	if (rc == 0)
		rc = store_commit(st, &err);
	if (rc < 0)
		store_rollback(st);
	for (int i = 0; i < n; i++) {
		if (rc == 0)
			q->proc->committed(q->app, jobs[i]);
		else
			apply_alone(q, st, jobs[i]);
	}
}

/* The calling processing thread's scheduling class: SCHED_IDLE while it
 * judges, the normal class (at its nice value) while it may write. */
static void set_judging(int on)
{
	struct sched_param none = {0};
	int rc = pthread_setschedparam(pthread_self(), on ? SCHED_IDLE : SCHED_OTHER, &none);
	if (rc != 0)
		log_warn("processing.sched", "error=\"%s\"", strerror(rc));
}

/* Whether this thread may leave SCHED_IDLE again: the kernel asks the same
 * of it as of raising its priority above its nice value. */
static int may_leave_idle_class(void)
{
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), PROCESS_NICE - 1) < 0)
		return 0;
	setpriority(PRIO_PROCESS, (id_t)gettid(), PROCESS_NICE);
	return 1;
}

/* A claimed batch: each message judged outside any transaction (parsing and
 * scanning take the time; the intake committer must not wait for them), in
 * the idle class when idle_class, then their writes APPLY_GROUP messages to a
 * transaction: fewer WAL appends and write-lock hand-overs than one per
 * message, while the committer, which needs the lock for every 250, never
 * waits behind more than a few. */
static void process_batch(imsva_queue *q, store *st, const int64_t *ids, int n, int idle_class)
{
	imsva_job *jobs[CLAIM_BATCH];
	int njobs = 0;
	if (idle_class)
		set_judging(1);
	for (int i = 0; i < n; i++) {
		ctd_err err = {0};
		jobs[njobs] = q->proc->prepare(q->app, ids[i], &err);
		if (jobs[njobs]) {
			njobs++;
			continue;
		}
		if (idle_class)
			set_judging(0);
		process_failed(st, ids[i], &err);
		if (idle_class)
			set_judging(1);
	}
	if (idle_class)
		set_judging(0);
	for (int i = 0; i < njobs; i += APPLY_GROUP)
		apply_together(q, st, jobs + i, njobs - i < APPLY_GROUP ? njobs - i : APPLY_GROUP);
	for (int i = 0; i < njobs; i++)
		q->proc->free(jobs[i]);
}

static int64_t thread_cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void *processor_main(void *arg)
{
	imsva_queue *q = arg;
	int64_t ids[CLAIM_BATCH];
	ctd_err err0 = {0};
	store *st0 = imsva_store(&err0);
	/* Processing results need no fsync of their own: a transaction lost to a
	 * power cut takes all of its effects with it and the message, still
	 * 'new' or 'processing', is processed again. The intake commit (the
	 * acknowledged message) stays synchronous=FULL. This keeps processing's
	 * fsyncs from queueing behind (and in front of) the intake's. */
	if (st0) {
		store_exec(st0, "PRAGMA synchronous=NORMAL", &err0);
		sqlite3_wal_autocheckpoint(store_db(st0), PROCESS_CHECKPOINT_FRAMES);
	}
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), PROCESS_NICE) < 0)
		log_warn("processing.nice", "error=\"%s\"", strerror(errno));
	int idle_class = may_leave_idle_class();
	for (;;) {
		pthread_mutex_lock(&q->plock);
		int stop = q->pstop;
		q->kicked = 0;
		pthread_mutex_unlock(&q->plock);
		if (stop)
			break;
		ctd_err err = {0};
		store *st = imsva_store(&err);
		int n = st ? imsva_msgs_claim(st, time_now_ms(), ids, CLAIM_BATCH, &err) : -1;
		if (n < 0)
			log_error("processing.claim_failed", "error=\"%s\"", err.msg);
		if (n > 0) {
			int64_t cpu0 = thread_cpu_us();
			process_batch(q, st, ids, n, idle_class);
			atomic_fetch_add(&q->processed, n);
			atomic_fetch_add(&q->process_cpu_us, thread_cpu_us() - cpu0);
			if (time_mono_ms() - atomic_load(&q->last_commit_ms) < INTAKE_BUSY_MS)
				usleep(PROCESS_YIELD_MS * 1000);
			continue;
		}
		/* idle: wait for a kick, or look at deferred messages now and then */
		pthread_mutex_lock(&q->plock);
		if (!q->kicked && !q->pstop) {
			struct timespec until = mono_deadline(IDLE_LOOK_MS);
			pthread_cond_timedwait(&q->pcond, &q->plock, &until);
		}
		pthread_mutex_unlock(&q->plock);
	}
	return NULL;
}

imsva_queue *imsva_queue_start(imsva_app *app, int nworkers, const imsva_processor *proc,
			       ctd_err *err)
{
	store *st = imsva_store(err);
	if (!st)
		return NULL;
	/* claimed before a crash: process again */
	if (imsva_msgs_recover(st, err) < 0)
		return NULL;
	imsva_queue *q = xcalloc(1, sizeof *q);
	q->app = app;
	q->proc = proc;
	app->queue = q;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	pthread_mutex_init(&q->plock, NULL);
	mono_cond_init(&q->pcond);
	q->tail = &q->head;
	pthread_create(&q->committer, NULL, committer_main, q);
	q->nworkers = nworkers > 0 ? nworkers : 1;
	q->workers = xcalloc((size_t)q->nworkers, sizeof(pthread_t));
	for (int i = 0; i < q->nworkers; i++)
		pthread_create(&q->workers[i], NULL, processor_main, q);
	return q;
}

void imsva_queue_stop(imsva_queue *q)
{
	if (!q)
		return;
	/* the committer finishes what was handed to it (those clients get their
	 * replies only if the loop still runs; the messages are committed) */
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->committer, NULL);
	log_info("intake.stats", "messages=%lld batches=%lld avg_batch=%.1f max_batch=%lld"
		 " avg_commit_us=%lld wal_restarts=%lld avg_restart_us=%lld", q->committed,
		 q->batches, q->batches ? (double)q->committed / (double)q->batches : 0.0,
		 q->max_batch, q->batches ? q->commit_us / q->batches : 0, q->checkpoints,
		 q->checkpoints ? q->checkpoint_us / q->checkpoints : 0);
	pthread_mutex_lock(&q->plock);
	q->pstop = 1;
	pthread_cond_broadcast(&q->pcond);
	pthread_mutex_unlock(&q->plock);
	for (int i = 0; i < q->nworkers; i++)
		pthread_join(q->workers[i], NULL);
	long long done = atomic_load(&q->processed);
	log_info("processing.stats", "messages=%lld cpu_us_per_msg=%lld", done,
		 done ? atomic_load(&q->process_cpu_us) / done : 0);
}

void imsva_queue_free(imsva_queue *q)
{
	if (!q)
		return;
	free(q->workers);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->pcond);
	pthread_mutex_destroy(&q->plock);
	q->app->queue = NULL;
	free(q);
}
