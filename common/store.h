/* store.h - the SQLite store: lab.db in WAL mode with embedded migrations,
 * cached prepared statements, short transactions and the shared `events`
 * timeline every daemon appends to. */
#ifndef CTD_STORE_H
#define CTD_STORE_H

#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>
#include "err.h"

typedef struct store store;

/* Open (creating if needed) and migrate to the newest schema. Safe when several
 * processes open the same new file at once. A store is used by one thread at a
 * time (its connection is opened without SQLite's mutex). */
int store_open(const char *path, store **out, ctd_err *err);
void store_close(store *st);
sqlite3 *store_db(store *st);
int store_schema_version(store *st, ctd_err *err);

/* Per-thread connection to the process's store path, opened on first use and
 * closed when the thread exits. Set the path once at start-up. */
void store_set_path(const char *path);
const char *store_path(void);
store *store_get(ctd_err *err);
/* Close the calling thread's connection now (e.g. the main thread at shutdown;
 * other threads' connections close when they exit). */
void store_close_thread(void);
/* Commits are fsynced (synchronous=FULL) so acknowledged mail survives power
 * loss. 0 = synchronous=NORMAL (survives a crash, not power loss): benchmarks
 * only. Applies to connections opened afterwards. */
void store_set_durable(int full);
/* SQLite's own wait for a lock (default 5 s) before our retry loop takes
 * over; for new connections. Tests shorten it to exercise that loop. */
void store_set_busy_timeout(int ms);
/* The calling thread's whole budget for waiting on a lock (SQLite's wait and
 * our retries), ms; 0 restores the default (a minute). The HTTP server gives
 * its handler threads a short one, so a request that meets a writer holding
 * the store answers 503 with Retry-After (CTD_EBUSY) instead of hanging. */
int64_t store_set_thread_budget(int64_t ms); /* returns the budget it replaces */

/* A prepared statement cached per connection, reset with bindings cleared.
 * The SQL is the cache key: keep it constant and bind the values. A string
 * literal is found by its address (confirmed by its text, so a buffer reused
 * for other SQL gets that SQL's statement); other SQL by its text. Step the
 * statement to SQLITE_DONE or sqlite3_reset() it when done: one left mid-rows
 * pins the connection's read snapshot (store_begin then fails, naming it). */
sqlite3_stmt *store_stmt(store *st, const char *sql, ctd_err *err);
int store_exec(store *st, const char *sql, ctd_err *err);
/* Step a statement that returns no rows, then reset it. */
int store_step_done(store *st, sqlite3_stmt *stmt, ctd_err *err);
/* store_step_done for an UPDATE/DELETE of one thing: CTD_ENOTFOUND with the
 * message fmt when it changed no row. */
int store_step_changed(store *st, sqlite3_stmt *stmt, ctd_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* BEGIN IMMEDIATE (waits on the busy timeout), COMMIT, ROLLBACK. Busy is
 * retried well past the timeout; only a writer stuck for a minute gives
 * CTD_EBUSY. Constraint violations are CTD_ECONFLICT. */
int store_begin(store *st, ctd_err *err);
int store_commit(store *st, ctd_err *err);
void store_rollback(store *st);

/* Namespaced settings (API keys, passwords, toggles) in the `settings` table. */
/* malloc'd, or NULL with err set: CTD_ENOTFOUND when the setting is not there,
 * CTD_ESTORE when it could not be read. */
char *store_setting_get(store *st, const char *ns, const char *key, ctd_err *err);
int store_setting_set(store *st, const char *ns, const char *key, const char *value, ctd_err *err);
/* Return the stored value, storing `value` first when none exists (first start). */
char *store_setting_init(store *st, const char *ns, const char *key, const char *value, ctd_err *err);

/* How a generated secret looks. len: characters kept (0: all of it). */
typedef enum secret_form {
	SECRET_GUID, /* upper-case "8-4-4-4-12" (DTAS and Automation API keys) */
	SECRET_UUID, /* lower-case UUID v4 (client UUIDs, passwords when cut short) */
	SECRET_HEX   /* upper-case hex (32 characters before cutting) */
} secret_form;
typedef struct secret_kind {
	secret_form form;
	size_t len;
} secret_kind;

/* The one rule for "pinned or generated on first start" secrets (API keys,
 * passwords, feed keys, client UUIDs):
 *  - a pinned value (config, environment, flag; non-empty) is returned as is
 *    and never stored, so it never writes over the generated one;
 *  - else the secret generated once (OpenSSL RAND_bytes) and kept in
 *    settings ns.key is returned, generating and storing it on first use.
 * So un-pinning brings back the lab's own generated secret, on every
 * appliance. Returns a malloc'd string, or NULL with err filled. */
char *store_secret(store *st, const char *ns, const char *key, const char *pinned,
		   secret_kind kind, ctd_err *err);
/* "Regenerate": a fresh secret replaces the stored one (malloc'd, or NULL). */
char *store_secret_renew(store *st, const char *ns, const char *key, secret_kind kind,
			 ctd_err *err);

/* The shared timeline. detail may be NULL; it is borrowed. Returns the new id or -1. */
int64_t events_append(store *st, const char *appliance, const char *kind, const char *ref,
		      json_t *detail, ctd_err *err);

typedef struct events_filter {
	int64_t from_ms, to_ms; /* inclusive; 0: unbounded */
	const char *appliance;  /* NULL: all */
	const char *kind;       /* NULL: all; `*`/`?` wildcards, case-insensitive */
	int64_t after_id;       /* only ids greater than this (follow mode) */
	int limit;              /* 0: 1000 */
} events_filter;
/* JSON array of {id, ts, time, appliance, kind, ref, detail}, oldest first
 * (the first `limit` matches: page on with after_id = last id). */
json_t *events_query(store *st, const events_filter *f, ctd_err *err);

/* Generated from the schema directory at build time. */
typedef struct schema_migration {
	const char *name;
	const char *sql;
} schema_migration;
extern const schema_migration schema_migrations[];
extern const int schema_migrations_count;

#endif
