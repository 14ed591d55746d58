/* store_maint.c - the WAL checkpoint worker (see store_maint.h). The worker
 * has its own store connection, with a short lock budget: a checkpoint that
 * meets a writer waits for the next run, it never queues behind one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"
#include "store.h"
#include "store_maint.h"
#include "util.h"
#include "worker.h"

#define MAINT_LOCK_BUDGET_MS 1000

struct store_maint {
	worker *w;
	pthread_mutex_t lock;
	char status[256]; /* "ok" or the last failure */
};

/* The three numbers a wal_checkpoint pragma answers. */
typedef struct ckpt_result {
	int busy, wal_pages, moved_pages;
} ckpt_result;

static int ckpt_row(void *cls, int ncols, char **vals, char **names)
{
	ckpt_result *r = cls;
	if (ncols == 3 && vals[0] && vals[1] && vals[2])
		*r = (ckpt_result){atoi(vals[0]), atoi(vals[1]), atoi(vals[2])};
	return 0;
}

static int checkpoint(sqlite3 *db, const char *mode, ckpt_result *r)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA wal_checkpoint(%s)", mode);
	*r = (ckpt_result){0};
	return sqlite3_exec(db, sql, ckpt_row, r, NULL);
}

static void set_status(store_maint *m, const char *text)
{
	pthread_mutex_lock(&m->lock);
	snprintf(m->status, sizeof m->status, "%s", text);
	pthread_mutex_unlock(&m->lock);
}

static int64_t maint_run(void *arg)
{
	store_maint *m = arg;
	ctd_err err = {0};
	store_set_thread_budget(MAINT_LOCK_BUDGET_MS);
	store *st = store_get(&err);
	if (!st) {
		set_status(m, err.code == CTD_EBUSY ? "ok" : err.msg);
		return -1;
	}
	ckpt_result r;
	int rc = checkpoint(store_db(st), "TRUNCATE", &r);
	if ((rc & 0xff) == SQLITE_BUSY || (rc == SQLITE_OK && r.busy))
		rc = checkpoint(store_db(st), "PASSIVE", &r); /* as much as it can */
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		set_status(m, "ok");
		log_debug("store.checkpoint", "wal_pages=%d moved=%d busy=%d", r.wal_pages,
			  r.moved_pages, r.busy);
		return -1;
	}
	char msg[256];
	snprintf(msg, sizeof msg, "checkpoint failed: %s", sqlite3_errmsg(store_db(st)));
	log_warn("store.checkpoint_failed", "error=\"%s\"", msg);
	set_status(m, msg);
	return -1;
}

store_maint *store_maint_start(int64_t interval_ms, ctd_err *err)
{
	store_maint *m = xcalloc(1, sizeof *m);
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->status, sizeof m->status, "ok");
	m->w = worker_start("store-maint", interval_ms, maint_run, m, err);
	if (!m->w) {
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	return m;
}

void store_maint_status(store_maint *m, char *out, size_t cap)
{
	pthread_mutex_lock(&m->lock);
	snprintf(out, cap, "%s", m->status);
	pthread_mutex_unlock(&m->lock);
}

void store_maint_stop(store_maint *m)
{
	if (!m)
		return;
	worker_stop(m->w);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
