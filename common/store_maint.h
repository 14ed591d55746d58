/* store_maint.h - the store's upkeep in a daemon, off every request path: a
 * worker that checkpoints lab.db's WAL every interval (TRUNCATE, so the WAL
 * file shrinks back to nothing; PASSIVE when a reader or writer is in the
 * way) and keeps the outcome, which /healthz reports without touching the
 * store. */
#ifndef CTD_STORE_MAINT_H
#define CTD_STORE_MAINT_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

typedef struct store_maint store_maint;

/* Start the worker on the process's store path (store_set_path). */
store_maint *store_maint_start(int64_t interval_ms, ctd_err *err);
/* "ok", or the last failure other than a busy store, into out. */
void store_maint_status(store_maint *m, char *out, size_t cap);
/* Stop and free; NULL is ignored. */
void store_maint_stop(store_maint *m);

#endif
