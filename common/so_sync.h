/* so_sync.h - one pull of a suspicious-object feed (sofeed.h) into a
 * daemon's own list, the same for every subscriber (IMSVA's imsva_so, SPS's
 * sps_objects). An incremental pull (cursor > 0) applies the changes in
 * transactions of SO_SYNC_BATCH records between page downloads. A full pull
 * (cursor 0) appends into the list's index-free twin (store_swap.h), made at
 * the first records, each batch on the pull's loader thread (one, with its
 * own connection) while the next one is read; at the end one transaction swaps the twin in (or empties the
 * list for an empty feed), applies the removals met during the pull and lets
 * the daemon note its cursor. Readers see the old list until that commit; a
 * failed pull drops the twin and leaves list and cursor as they were. What
 * differs per daemon (its rows, keys and cursor) comes in so_sync_list. */
#ifndef CTD_SO_SYNC_H
#define CTD_SO_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include "dtas.h"
#include "sofeed.h"
#include "store.h"

/* Records per transaction: few commits for a million objects, each lock held
 * some tens of milliseconds. */
#define SO_SYNC_BATCH 20000

typedef struct so_sync_list {
	const char *table; /* the list */
	const char *twin;  /* its twin during a full pull */
	const char *key;   /* the columns of the list's unique index */
	/* Append a full pull's records (none removed) to the twin, inside the
	 * caller's transaction; called on the loader thread's own connection. */
	int (*append)(store *st, const so_record *r, size_t n, ctd_err *err);
	/* Apply one change of an incremental pull: upsert, or delete if removed. */
	int (*apply)(store *st, const so_record *r, ctd_err *err);
	/* After a full pull's swap: delete the object's state if it is older
	 * than this removal (it may have come back after it). */
	int (*remove_older)(store *st, const so_record *r, ctd_err *err);
	/* In the pull's last transaction: note the new cursor and the number
	 * of changes the pull brought. */
	int (*finish)(store *st, int64_t cursor, long changes, ctd_err *err);
} so_sync_list;

/* Pull every change after *cursor into the list through st (the calling
 * thread's connection) and advance *cursor. Returns the number of records,
 * or -1 with *cursor, the list and its cursor unchanged (an incremental
 * pull keeps the batches it committed: the next pull brings them again). */
long so_sync_pull(const so_sync_list *l, store *st, const dtas_client *c, int64_t *cursor,
		  ctd_err *err);

/* The same in steps, for a source other than a feed client: begin, hand
 * each record to so_sync_record (a sofeed_pull callback), then end with
 * the pull's outcome (cursor NULL: it failed). end frees the sync and
 * returns 0, or -1 with err filled (a failure of its own or of a record
 * callback). */
typedef struct so_sync so_sync;
so_sync *so_sync_begin(const so_sync_list *l, store *st, int full);
int so_sync_record(const so_record *r, void *sync);
int so_sync_end(so_sync *s, const int64_t *cursor, long changes, ctd_err *err);

#endif
