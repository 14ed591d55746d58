/* store_swap.h - replacing a whole table at once: a bulk load fills an empty
 * twin without indexes (appends only: a million rows in about a second),
 * then one transaction puts the twin in the table's place and builds the
 * table's indexes on it (a sort each). Readers see the old rows until that
 * commit and every new row after it, never half a load. The twin's and the
 * indexes' definitions come from the table's own (sqlite_master), so the
 * schema stays in schema/. */
#ifndef CTD_STORE_SWAP_H
#define CTD_STORE_SWAP_H

#include "store.h"

/* (Re)create twin as an empty copy of table's columns and constraints, no
 * indexes; a twin left by an interrupted load is dropped first. Call outside
 * a transaction. */
int store_twin_create(store *st, const char *table, const char *twin, ctd_err *err);
/* Inside the caller's transaction: drop table, rename twin to it and build
 * table's indexes on it. key: the columns of table's unique index; when the
 * load appended a key twice (the source changed it while it was read), the
 * last row appended is kept (a GROUP BY, only then). */
int store_twin_swap(store *st, const char *table, const char *twin, const char *key,
		    ctd_err *err);
/* Drop twin (a load given up); errors are only logged. */
void store_twin_drop(store *st, const char *twin);

#endif
