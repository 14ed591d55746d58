/* imsva_store.c - imsvad's per-thread store connection with a fast busy
 * handler. SQLite's default busy timeout sleeps 1, 2, 5 ... 100 ms between
 * attempts; when the intake flush and a processing worker of the same
 * process want the write lock one after the other, a sleep of milliseconds
 * on the intake path would cap SMTP throughput. Polling every 100 us keeps
 * the hand-over in the order of one transaction. Gives up after a minute
 * (then the store's own retry and error reporting take over). The intake
 * committer's WAL restarts (imsva_store_restart_wal) poll the same way with
 * a short budget. */
#include <unistd.h>
#include "imsva_app.h"

#define BUSY_POLL_US 100
#define BUSY_GIVE_UP_POLLS (60 * 1000 * 1000 / BUSY_POLL_US)

static _Thread_local store *configured;

/* arg: the number of polls to give up after; NULL for a minute's */
static int fast_busy(void *arg, int count)
{
	if (count >= (arg ? *(const int *)arg : BUSY_GIVE_UP_POLLS))
		return 0;
	usleep(BUSY_POLL_US);
	return 1;
}

store *imsva_store(ctd_err *err)
{
	store *st = store_get(err);
	if (st && st != configured) {
		sqlite3_busy_handler(store_db(st), fast_busy, NULL);
		configured = st;
	}
	return st;
}

int imsva_store_restart_wal(store *st, int budget_ms)
{
	int polls = budget_ms * 1000 / BUSY_POLL_US;
	sqlite3_busy_handler(store_db(st), fast_busy, &polls);
	int rc = sqlite3_wal_checkpoint_v2(store_db(st), NULL, SQLITE_CHECKPOINT_RESTART, NULL,
					   NULL);
	sqlite3_busy_handler(store_db(st), fast_busy, NULL);
	return rc;
}
