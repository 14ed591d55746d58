/* tl_store.h - asserting helpers for unit tests that read and write a store
 * directly: open one, run SQL, read one integer. Each fails the test with
 * the SQL and SQLite's message. */
#ifndef CTD_TL_STORE_H
#define CTD_TL_STORE_H

#include "store.h"

store *tl_store_open(const char *path);
void tl_store_exec(store *st, const char *sql);
/* The first column of the first row of a query. */
long long tl_store_int(store *st, const char *sql);

#endif
