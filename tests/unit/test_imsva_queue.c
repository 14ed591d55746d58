/* test_imsva_queue.c - imsvad's processing workers with a stand-in
 * processor on a real store: a claimed batch is written in one transaction,
 * and a message whose writes fail (or that cannot be prepared) is retried
 * later without costing the rest of its batch anything: its own partial
 * writes are rolled back, the others reach their state exactly once; it is
 * judged in the idle scheduling class and written in the normal one. And
 * the intake committer keeps the WAL bounded on its own under sustained
 * intake (it restarts it every so many frames). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imsva/imsva_app.h"
#include "imsva/imsva_smtp.h"
#include "testlib.h"
#include "util.h"

#define MESSAGES 40

struct imsva_job {
	int64_t id;
	char subject[32];
};

static atomic_int committed[MESSAGES + 1];
/* bit sets of the scheduling policies prepare and apply ran under */
static atomic_int prepare_policies, apply_policies;

static void note_policy(atomic_int *seen)
{
	int policy;
	struct sched_param sp;
	ck_assert_int_eq(pthread_getschedparam(pthread_self(), &policy, &sp), 0);
	atomic_fetch_or(seen, 1 << policy);
}
static char *dir;

static imsva_job *fake_prepare(imsva_app *app, int64_t id, ctd_err *err)
{
	(void)app;
	note_policy(&prepare_policies);
	if (id % 10 == 7) { /* cannot be parsed, say */
		ctd_fail(err, CTD_EINVAL, "unpreparable %lld", (long long)id);
		return NULL;
	}
	imsva_job *job = xcalloc(1, sizeof *job);
	job->id = id;
	snprintf(job->subject, sizeof job->subject, "message %lld", (long long)id);
	return job;
}

/* Every message is written as delivered; every 10th then fails, after its
 * write, which must not survive. */
static int fake_apply(imsva_app *app, store *st, const imsva_job *job, ctd_err *err)
{
	(void)app;
	note_policy(&apply_policies);
	if (imsva_msgs_processed(st, job->id, IMSVA_MSG_DELIVERED, 0, job->subject, "", err) < 0)
		return -1;
	if (job->id % 10 == 3)
		return ctd_fail(err, CTD_ESTORE, "write failed for %lld", (long long)job->id);
	return 0;
}

static void fake_committed(imsva_app *app, const imsva_job *job)
{
	(void)app;
	atomic_fetch_add(&committed[job->id], 1);
}

static int64_t fake_msg_id(const imsva_job *job)
{
	return job->id;
}

static void fake_free(imsva_job *job)
{
	free(job);
}

static const imsva_processor fake = {fake_prepare, fake_apply, fake_committed, fake_msg_id,
				     fake_free};

static const char *state_of(store *st, int64_t id)
{
	static char buf[32];
	ctd_err err = {0};
	json_t *o = imsva_msgs_get_json(st, id, &err);
	ck_assert_ptr_nonnull(o);
	snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(o, "state")));
	json_decref(o);
	return buf;
}

static int unfinished(store *st)
{
	ctd_err err = {0};
	json_t *o = imsva_msgs_state_counts(st, &err);
	json_t *states = json_object_get(o, "states");
	int n = (int)(json_integer_value(json_object_get(states, "new")) +
		      json_integer_value(json_object_get(states, "processing")));
	json_decref(o);
	return n;
}

/* A fresh store in a new $dir; its path into *db. */
static store *fresh_store(const char *tag, char **db)
{
	dir = tl_tmpdir(tag);
	*db = xasprintf("%s/lab.db", dir);
	store_set_path(*db);
	ctd_err err = {0};
	store *st = imsva_store(&err);
	ck_assert_msg(st, "%s", err.msg);
	return st;
}

TEST(batch_with_failures)
{
	char *db;
	store *st = fresh_store("imsva-queue", &db);
	ctd_err err = {0};
	/* committed before the workers start, so the first claims are full batches */
	for (int i = 1; i <= MESSAGES; i++) {
		char *rcpts[] = {"a@example.org"};
		smtp_envelope e = {.helo = "client.test", .client_ip = "192.0.2.1",
				   .mail_from = "s@test", .rcpts = rcpts, .nrcpts = 1,
				   .received_ms = 1000};
		sbuf_printf(&e.data, "Subject: %d\r\n\r\nbody\r\n", i);
		int64_t id;
		ck_assert_int_eq(imsva_msgs_insert(st, &e, &id, &err), 0);
		ck_assert_int_eq(id, i);
		sbuf_free(&e.data);
	}
	imsva_app app;
	memset(&app, 0, sizeof app);
	ck_assert_ptr_nonnull(imsva_queue_start(&app, 2, &fake, &err));
	imsva_queue_kick(app.queue);
	for (int i = 0; i < 1000 && unfinished(st) > 0; i++)
		usleep(10000);
	imsva_queue_stop(app.queue);
	imsva_queue_free(app.queue);

	for (int id = 1; id <= MESSAGES; id++) {
		int fails = id % 10 == 3 || id % 10 == 7;
		ck_assert_msg(!strcmp(state_of(st, id), fails ? "defer" : "delivered"),
			      "message %d is %s", id, state_of(st, id));
		ck_assert_int_eq(atomic_load(&committed[id]), fails ? 0 : 1);
	}
	/* judged in SCHED_IDLE where the workers may leave it again (as this
	 * thread may raise its priority), written in the normal class always */
	int may_leave_idle = setpriority(PRIO_PROCESS, (id_t)gettid(), -1) == 0;
	setpriority(PRIO_PROCESS, (id_t)gettid(), 0);
	int judged_in = atomic_load(&prepare_policies), written_in = atomic_load(&apply_policies);
	ck_assert_int_eq(judged_in, 1 << (may_leave_idle ? SCHED_IDLE : SCHED_OTHER));
	ck_assert_int_eq(written_in, 1 << SCHED_OTHER);
	store_close_thread();
	tl_rmrf(dir);
	free(db);
	free(dir);
}

/* A processor that holds every message until released: while it does, the
 * intake committer is the only writer, and nobody else checkpoints. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static int holding, acknowledged;

static imsva_job *held_prepare(imsva_app *app, int64_t id, ctd_err *err)
{
	pthread_mutex_lock(&hold_lock);
	while (holding)
		pthread_cond_wait(&hold_cond, &hold_lock);
	pthread_mutex_unlock(&hold_lock);
	return fake_prepare(app, id, err);
}

/* (the messages of this test are counted by their acknowledgements) */
static void ignore_committed(imsva_app *app, const imsva_job *job)
{
	(void)app;
	(void)job;
}

static const imsva_processor held = {held_prepare, fake_apply, ignore_committed, fake_msg_id,
				     fake_free};

static void count_ack(void *ctx, int ok, const char *queue_id)
{
	(void)ctx;
	(void)queue_id;
	ck_assert(ok);
	pthread_mutex_lock(&hold_lock);
	acknowledged++;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_lock);
}

static smtp_envelope *bulky_envelope(void)
{
	smtp_envelope *e = xcalloc(1, sizeof *e);
	e->helo = xstrdup("client.test");
	e->client_ip = xstrdup("192.0.2.1");
	e->mail_from = xstrdup("s@test");
	e->rcpts = xcalloc(1, sizeof(char *));
	e->rcpts[e->nrcpts++] = xstrdup("a@example.org");
	sbuf_puts(&e->data, "Subject: bulk\r\n\r\n");
	for (int i = 0; i < 30; i++) /* 3 KB: a table page of its own */
		sbuf_puts(&e->data, "0123456789012345678901234567890123456789012345678901234567890123456789"
				    "0123456789012345678901234567\r\n");
	return e;
}

#define WAVES 60
#define PER_WAVE 50
/* The WAL's frames: a 4 KiB page and a 24-byte header each. It may pass the
 * committer's restart mark (1 000 frames) by a batch; without restarts it
 * holds a page for every message at least (3 000). */
#define WAL_FRAME_BYTES (4096 + 24)
#define WAL_BOUND_FRAMES 1500

TEST(intake_keeps_wal_bounded)
{
	char *db;
	fresh_store("imsva-queue-wal", &db);
	ctd_err err = {0};
	imsva_app app;
	memset(&app, 0, sizeof app);
	holding = 1;
	ck_assert_ptr_nonnull(imsva_queue_start(&app, 2, &held, &err));
	/* waves, each acknowledged before the next: sustained intake in many
	 * group commits */
	for (int wave = 1; wave <= WAVES; wave++) {
		for (int i = 0; i < PER_WAVE; i++)
			imsva_queue_commit(&app, bulky_envelope(), count_ack, NULL);
		pthread_mutex_lock(&hold_lock);
		while (acknowledged < wave * PER_WAVE)
			pthread_cond_wait(&hold_cond, &hold_lock);
		pthread_mutex_unlock(&hold_lock);
	}
	char *wal = xasprintf("%s-wal", db);
	struct stat sb;
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_msg(sb.st_size <= (off_t)WAL_BOUND_FRAMES * WAL_FRAME_BYTES,
		      "WAL of %lld bytes after %d messages", (long long)sb.st_size,
		      WAVES * PER_WAVE);
	pthread_mutex_lock(&hold_lock);
	holding = 0;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_lock);
	imsva_queue_stop(app.queue);
	imsva_queue_free(app.queue);
	store_close_thread();
	tl_rmrf(dir);
	free(wal);
	free(db);
	free(dir);
}
