/* so_sync.c - a suspicious-object feed pulled into a daemon's list, through
 * a twin for a full pull (so_sync.h). */
#include "so_sync.h"

#include <pthread.h>
#include <stdlib.h>
#include "store_swap.h"

/* A full pull's batches appended to the twin by one thread (with its own
 * store connection) while the pulling thread reads the next one: the puller
 * hands a batch over (busy), the loader appends it and hands it back. */
typedef struct loader {
	pthread_t thread;
	int running; /* the thread was started */
	int pending; /* a batch was handed over and its outcome not yet taken */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int busy, quit; /* under mu */
	const so_sync_list *list;
	so_record_list batch;
	int rc;
	ctd_err err;
} loader;

/* Records are buffered so no transaction stays open across a network fetch
 * (the peer may share this SQLite file and need its lock to answer).
 * A removal a full pull meets (an object removed while the pull went on)
 * waits in `removed`, applied to the list after the swap. */
struct so_sync {
	const so_sync_list *list;
	store *st;
	int full;   /* cursor 0: into the twin */
	int twin;   /* the twin is made (at the first records: an empty feed,
		     * polled on an interval, changes no schema) */
	int failed; /* a record callback failed: err says why */
	so_record_list batch, removed;
	loader loader; /* full: the batch before, being appended */
	ctd_err err;
};

/* ---- the loader ---- */

/* Commits of a sync need no fsync of their own: a sync acknowledges nothing
 * to anyone, and a transaction lost to a power cut takes its cursor with it,
 * so the next sync brings the same objects again. */
static void sync_commits_relaxed(store *st)
{
	store_exec(st, "PRAGMA synchronous=NORMAL", NULL);
}

/* Append the loader's batch to the twin in one transaction on st. */
static int loader_append(loader *l, store *st)
{
	if (!st || store_begin(st, &l->err) != 0)
		return -1;
	int rc = l->list->append(st, l->batch.rec, l->batch.n, &l->err);
	if (rc == 0)
		rc = store_commit(st, &l->err);
	if (rc != 0)
		store_rollback(st);
	return rc;
}

static void *loader_run(void *arg)
{
	loader *l = arg;
	store *st = store_get(&l->err); /* this thread's: closed when it ends */
	if (st)
		sync_commits_relaxed(st);
	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->busy && !l->quit)
			pthread_cond_wait(&l->cv, &l->mu);
		if (!l->busy)
			break;
		pthread_mutex_unlock(&l->mu);
		int rc = loader_append(l, st);
		pthread_mutex_lock(&l->mu);
		l->rc = rc;
		l->busy = 0;
		pthread_cond_broadcast(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* After an append: its batch emptied; its failure becomes the sync's. */
static int loader_done(so_sync *s)
{
	so_record_list_clear(&s->loader.batch);
	if (s->loader.rc == 0)
		return 0;
	s->err = s->loader.err;
	return -1;
}

/* Wait for the batch being appended, if any. */
static int loader_wait(so_sync *s)
{
	loader *l = &s->loader;
	if (!l->pending)
		return 0;
	pthread_mutex_lock(&l->mu);
	while (l->busy)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
	l->pending = 0;
	return loader_done(s);
}

/* The end of a pull: the loader's thread told to quit and joined. */
static void loader_stop(loader *l)
{
	if (!l->running)
		return;
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	l->running = 0;
}

/* Make the twin before the first records go to it. */
static int twin_ready(so_sync *s, ctd_err *err)
{
	if (s->twin || !s->batch.n)
		return 0;
	if (store_twin_create(s->st, s->list->table, s->list->twin, err) != 0)
		return -1;
	s->twin = 1;
	return 0;
}

/* Hand the full batch to the loader (the one before it done first; its
 * thread started at the first); the loader's emptied list becomes the next
 * batch. */
static int loader_start(so_sync *s)
{
	loader *l = &s->loader;
	if (loader_wait(s) != 0 || twin_ready(s, &s->err) != 0)
		return -1;
	so_record_list spare = l->batch;
	l->batch = s->batch;
	s->batch = spare;
	if (!l->running && pthread_create(&l->thread, NULL, loader_run, l) == 0)
		l->running = 1;
	if (!l->running) { /* no thread: append here, on this thread's connection */
		l->rc = loader_append(l, s->st);
		return loader_done(s);
	}
	pthread_mutex_lock(&l->mu);
	l->busy = 1;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	l->pending = 1;
	return 0;
}

/* ---- writing ---- */

static int batch_write(so_sync *s, ctd_err *err)
{
	if (s->full)
		return s->batch.n ? s->list->append(s->st, s->batch.rec, s->batch.n, err) : 0;
	for (size_t i = 0; i < s->batch.n; i++)
		if (s->list->apply(s->st, &s->batch.rec[i], err) != 0)
			return -1;
	return 0;
}

static int list_clear(so_sync *s, ctd_err *err)
{
	char *sql = sqlite3_mprintf("DELETE FROM \"%w\"", s->list->table);
	int rc = store_exec(s->st, sql, err);
	sqlite3_free(sql);
	return rc;
}

/* The end of a pull, in the transaction of its last batch: a full pull's
 * twin in the list's place (or an empty list for an empty feed), the
 * removals it met applied, and the daemon's cursor moved with them. */
static int pull_finish(so_sync *s, int64_t cursor, long changes, ctd_err *err)
{
	const so_sync_list *l = s->list;
	if (s->full && (s->twin ? store_twin_swap(s->st, l->table, l->twin, l->key, err)
				: list_clear(s, err)) != 0)
		return -1;
	for (size_t i = 0; i < s->removed.n; i++)
		if (l->remove_older(s->st, &s->removed.rec[i], err) != 0)
			return -1;
	return l->finish(s->st, cursor, changes, err);
}

/* Write the buffered records in one transaction; with `cursor`, finish the
 * pull in it too. */
static int batch_flush(so_sync *s, const int64_t *cursor, long changes, ctd_err *err)
{
	if (s->batch.n == 0 && !cursor)
		return 0;
	int rc = -1;
	if ((!s->full || twin_ready(s, err) == 0) && store_begin(s->st, err) == 0) {
		rc = batch_write(s, err);
		if (rc == 0 && cursor)
			rc = pull_finish(s, *cursor, changes, err);
		if (rc == 0)
			rc = store_commit(s->st, err);
		if (rc != 0)
			store_rollback(s->st);
	}
	so_record_list_clear(&s->batch);
	return rc;
}

/* ---- a pull ---- */

int so_sync_record(const so_record *r, void *sync)
{
	so_sync *s = sync;
	if (s->batch.n == SO_SYNC_BATCH &&
	    (s->full ? loader_start(s) : batch_flush(s, NULL, 0, &s->err)) != 0) {
		s->failed = 1;
		return -1;
	}
	so_record_list_add(s->full && r->removed ? &s->removed : &s->batch, r);
	return 0;
}

so_sync *so_sync_begin(const so_sync_list *l, store *st, int full)
{
	so_sync *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->loader.mu, NULL);
	pthread_cond_init(&s->loader.cv, NULL);
	s->list = s->loader.list = l;
	s->st = st;
	s->full = full;
	return s;
}

int so_sync_end(so_sync *s, const int64_t *cursor, long changes, ctd_err *err)
{
	if (s->failed)
		*err = s->err, cursor = NULL;
	if (loader_wait(s) != 0 && cursor) /* the twin complete before its swap */
		*err = s->err, cursor = NULL;
	loader_stop(&s->loader);
	int rc = -1;
	if (cursor)
		rc = batch_flush(s, cursor, changes, err);
	else if (!s->full)
		batch_flush(s, NULL, 0, &s->err); /* the valid records; the cursor stays */
	if (rc != 0 && s->twin)
		store_twin_drop(s->st, s->list->twin); /* the old list stays whole */
	so_record_list_free(&s->batch);
	so_record_list_free(&s->loader.batch);
	so_record_list_free(&s->removed);
	pthread_cond_destroy(&s->loader.cv);
	pthread_mutex_destroy(&s->loader.mu);
	free(s);
	return rc;
}

long so_sync_pull(const so_sync_list *l, store *st, const dtas_client *c, int64_t *cursor,
		  ctd_err *err)
{
	sync_commits_relaxed(st);
	int64_t next = *cursor;
	so_sync *s = so_sync_begin(l, st, next == 0);
	long n = sofeed_pull(c, &next, so_sync_record, s, err);
	if (so_sync_end(s, n >= 0 ? &next : NULL, n, err) != 0)
		return -1;
	*cursor = next;
	return n;
}
