/* store.c - the SQLite store: opening lab.db (WAL, durable commits, busy
 * timeout, foreign keys), applying the embedded migrations exactly once even
 * when several processes create the file together, one connection per thread,
 * the prepared-statement cache, transactions that outlast a busy database,
 * namespaced settings and the shared events timeline. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>
#include "store.h"
#include "evsink.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* How long SQLite itself waits for a lock before reporting busy. */
#define STORE_BUSY_TIMEOUT_MS 5000
/* How long we keep retrying after that, so "database is locked" reaches no
 * user: only a writer stuck for this long makes an operation fail (EBUSY). */
#define STORE_BUSY_DEADLINE_MS 60000
#define STMT_CACHE_MIN_BUCKETS 64
/* Slots of the cache's front index by the caller's SQL address (a power of
 * two): callers pass string literals, so the address names the text. */
#define STMT_ADDR_BITS 8
#define EVENTS_DEFAULT_LIMIT 1000

typedef struct stmt_entry {
	char *sql;
	uint64_t hash;
	sqlite3_stmt *stmt;
	struct stmt_entry *next;
} stmt_entry;

/* The entry a caller's SQL address last found (see store_stmt). */
typedef struct stmt_addr_slot {
	const char *sql;
	stmt_entry *e;
} stmt_addr_slot;

struct store {
	sqlite3 *db;
	char *path;
	stmt_entry **buckets; /* statement cache keyed by SQL text */
	size_t nbuckets, nstmts;
	stmt_addr_slot by_addr[1 << STMT_ADDR_BITS];
};

/* The WAL file is cut back to this after a checkpoint resets it. */
#define STORE_JOURNAL_SIZE_LIMIT (64LL * 1024 * 1024)

static int sync_full = 1;
static int busy_timeout_ms = STORE_BUSY_TIMEOUT_MS;
/* The calling thread's whole wait for a lock (store_set_thread_budget); 0:
 * SQLite's busy timeout, then STORE_BUSY_DEADLINE_MS of retries. */
static _Thread_local int64_t thread_budget_ms;

void store_set_durable(int full)
{
	sync_full = full;
}

void store_set_busy_timeout(int ms)
{
	busy_timeout_ms = ms;
}

/* --- busy handling ------------------------------------------------------ */

static int rc_is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static const metric_def busy_retries = {
	"ctdlab_store_busy_retries_total",
	"store operations retried because another writer held the database", METRIC_COUNTER};

typedef struct busy_retry {
	int64_t deadline; /* 0 until the first busy answer */
	int attempt;
} busy_retry;

/* When rc says busy/locked and time is left, sleep a little (growing, with
 * jitter so colliding processes spread out) and return 1: try again. */
/* How long SQLite itself waits before answering busy on this thread. */
static int thread_busy_timeout(void)
{
	if (thread_budget_ms > 0 && thread_budget_ms / 2 < busy_timeout_ms)
		return (int)(thread_budget_ms / 2);
	return busy_timeout_ms;
}

/* How long we retry after SQLite's wait, on this thread. */
static int64_t thread_retry_ms(void)
{
	return thread_budget_ms > 0 ? thread_budget_ms - thread_busy_timeout()
				    : STORE_BUSY_DEADLINE_MS;
}

static int busy_retry_again(busy_retry *br, int rc)
{
	if (!rc_is_busy(rc))
		return 0;
	int64_t now = time_mono_ms();
	if (br->deadline == 0)
		br->deadline = now + thread_retry_ms();
	if (now >= br->deadline)
		return 0;
	long ms = 1L << (br->attempt < 6 ? br->attempt : 6);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms += ts.tv_nsec % (ms + 1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	br->attempt++;
	metric_add(&busy_retries, 1, NULL);
	return 1;
}

static int store_fail(store *st, int rc, const char *what, ctd_err *err)
{
	if (rc_is_busy(rc))
		return ctd_fail(err, CTD_EBUSY, "store %s busy for over %lld ms (%s); try again",
				st->path, (long long)(thread_busy_timeout() + thread_retry_ms()),
				what);
	return ctd_fail(err, (rc & 0xff) == SQLITE_CONSTRAINT ? CTD_ECONFLICT : CTD_ESTORE,
			"store: %s (%.120s)", sqlite3_errmsg(st->db), what);
}

/* sqlite3_exec for statements that are safe to repeat after a busy failure
 * (pragmas, BEGIN, COMMIT). The first column of the first row, if any, goes
 * to out. */
static int first_column(void *out, int ncols, char **vals, char **names)
{
	char *buf = out;
	if (buf && buf[0] == '\0' && ncols > 0 && vals[0])
		snprintf(buf, 64, "%s", vals[0]);
	return 0;
}

static int exec_retry(store *st, const char *sql, char out[64], ctd_err *err)
{
	busy_retry br = {0};
	for (;;) {
		if (out)
			out[0] = '\0';
		int rc = sqlite3_exec(st->db, sql, first_column, out, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (!busy_retry_again(&br, rc))
			return store_fail(st, rc, sql, err);
	}
}

/* --- opening and migrations --------------------------------------------- */

static int read_user_version(store *st, int *version, ctd_err *err)
{
	char out[64];
	if (exec_retry(st, "PRAGMA user_version", out, err) < 0)
		return -1;
	*version = atoi(out);
	return 0;
}

static int newer_schema(store *st, int version, ctd_err *err)
{
	return ctd_fail(err, CTD_ESTORE,
			"store %s: schema version %d is newer than this build knows (%d); "
			"use a newer ctdlab or another database file",
			st->path, version, schema_migrations_count);
}

static int apply_migrations(store *st, int from, ctd_err *err)
{
	for (int i = from; i < schema_migrations_count; i++) {
		char *msg = NULL;
		if (sqlite3_exec(st->db, schema_migrations[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
			ctd_fail(err, CTD_ESTORE, "store %s: migration %s failed: %s", st->path,
				 schema_migrations[i].name, msg ? msg : sqlite3_errmsg(st->db));
			sqlite3_free(msg);
			return -1;
		}
	}
	char pragma[48];
	snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", schema_migrations_count);
	return exec_retry(st, pragma, NULL, err);
}

/* Bring the schema up to date. The version is read again inside BEGIN
 * IMMEDIATE: when several processes start on a new file, the first one to
 * get the write lock migrates and the others find nothing left to do. */
static int migrate(store *st, ctd_err *err)
{
	int version;
	if (read_user_version(st, &version, err) < 0)
		return -1;
	if (version > schema_migrations_count)
		return newer_schema(st, version, err);
	if (version == schema_migrations_count)
		return 0;
	if (exec_retry(st, "BEGIN IMMEDIATE", NULL, err) < 0)
		return -1;
	if (read_user_version(st, &version, err) < 0)
		goto fail;
	if (version > schema_migrations_count) {
		newer_schema(st, version, err);
		goto fail;
	}
	if (version == schema_migrations_count) { /* another process was first */
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if (apply_migrations(st, version, err) < 0 || exec_retry(st, "COMMIT", NULL, err) < 0)
		goto fail;
	log_info("store.migrated", "path=%s from=%d to=%d", st->path, version,
		 schema_migrations_count);
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Journal mode first: switching a brand-new file to WAL needs an exclusive
 * lock and can answer busy when processes race; exec_retry waits it out. */
static int configure(store *st, ctd_err *err)
{
	char mode[64];
	if (exec_retry(st, "PRAGMA journal_mode=WAL", mode, err) < 0)
		return -1;
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
		return ctd_fail(err, CTD_ESTORE, "store %s: cannot switch to WAL (journal mode %s)",
				st->path, mode);
	char pragmas[160];
	/* the WAL is checkpointed every 1000 pages by whoever commits, truncated
	 * by the daemon's maintenance worker (store_maint.h) and cut back to the
	 * size limit whenever a checkpoint resets it */
	snprintf(pragmas, sizeof pragmas,
		 "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=1000;"
		 " PRAGMA journal_size_limit=%lld",
		 sync_full ? "FULL" : "NORMAL", STORE_JOURNAL_SIZE_LIMIT);
	return exec_retry(st, pragmas, NULL, err);
}

int store_open(const char *path, store **out, ctd_err *err)
{
	sqlite3 *db = NULL;
	*out = NULL;
	/* NOMUTEX: a connection is used by one thread at a time (store_get gives
	 * each thread its own), so SQLite's per-call locking is pure cost: an
	 * eighth of serving a large SO feed page */
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		ctd_fail(err, CTD_ESTORE, "store %s: cannot open: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	store *st = xcalloc(1, sizeof *st);
	st->db = db;
	st->path = xstrdup(path);
	sqlite3_busy_timeout(db, thread_busy_timeout());
	if (configure(st, err) < 0 || migrate(st, err) < 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void store_close(store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nbuckets; i++) {
		stmt_entry *e = st->buckets[i];
		while (e) {
			stmt_entry *next = e->next;
			sqlite3_finalize(e->stmt);
			free(e->sql);
			free(e);
			e = next;
		}
	}
	free(st->buckets);
	/* v2: statements prepared outside the cache do not keep the file open forever */
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

sqlite3 *store_db(store *st)
{
	return st->db;
}

int store_schema_version(store *st, ctd_err *err)
{
	int version;
	return read_user_version(st, &version, err) < 0 ? -1 : version;
}

/* --- one connection per thread ------------------------------------------- */

static char *process_store_path;
static pthread_key_t thread_store_key;
static pthread_once_t thread_store_once = PTHREAD_ONCE_INIT;

static void thread_store_destroy(void *st)
{
	store_close(st);
}

static void thread_store_key_init(void)
{
	pthread_key_create(&thread_store_key, thread_store_destroy);
}

void store_set_path(const char *path)
{
	free(process_store_path);
	process_store_path = path ? xstrdup(path) : NULL;
	metric_register(&busy_retries);
}

const char *store_path(void)
{
	return process_store_path;
}

store *store_get(ctd_err *err)
{
	pthread_once(&thread_store_once, thread_store_key_init);
	store *st = pthread_getspecific(thread_store_key);
	if (st)
		return st;
	if (!process_store_path) {
		ctd_fail(err, CTD_EINTERNAL, "store: no path set (store_set_path)");
		return NULL;
	}
	if (store_open(process_store_path, &st, err) < 0)
		return NULL;
	pthread_setspecific(thread_store_key, st);
	return st;
}

int64_t store_set_thread_budget(int64_t ms)
{
	int64_t before = thread_budget_ms;
	thread_budget_ms = ms;
	pthread_once(&thread_store_once, thread_store_key_init);
	store *st = pthread_getspecific(thread_store_key);
	if (st)
		sqlite3_busy_timeout(st->db, thread_busy_timeout());
	return before;
}

void store_close_thread(void)
{
	pthread_once(&thread_store_once, thread_store_key_init);
	store *st = pthread_getspecific(thread_store_key);
	pthread_setspecific(thread_store_key, NULL);
	store_close(st);
}

/* --- statement cache ----------------------------------------------------- */

static void stmt_cache_grow(store *st)
{
	size_t n = st->nbuckets ? st->nbuckets * 2 : STMT_CACHE_MIN_BUCKETS;
	stmt_entry **buckets = xcalloc(n, sizeof *buckets);
	for (size_t i = 0; i < st->nbuckets; i++) {
		stmt_entry *e = st->buckets[i];
		while (e) {
			stmt_entry *next = e->next;
			e->next = buckets[e->hash % n];
			buckets[e->hash % n] = e;
			e = next;
		}
	}
	free(st->buckets);
	st->buckets = buckets;
	st->nbuckets = n;
}

static int prepare(store *st, const char *sql, sqlite3_stmt **out, ctd_err *err)
{
	busy_retry br = {0};
	const char *tail = NULL;
	int rc;
	while ((rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, &tail)) !=
	       SQLITE_OK) {
		if (!busy_retry_again(&br, rc))
			return store_fail(st, rc, sql, err);
	}
	if (!*out)
		return ctd_fail(err, CTD_EINTERNAL, "store: empty statement");
	tail += strspn(tail, " \t\r\n;");
	if (*tail) {
		sqlite3_finalize(*out);
		*out = NULL;
		return ctd_fail(err, CTD_EINTERNAL, "store_stmt: one statement only: %.120s", sql);
	}
	return 0;
}

/* The cached entry for this SQL text, prepared and added when new. */
static stmt_entry *stmt_by_text(store *st, const char *sql, ctd_err *err)
{
	uint64_t h = str_hash(sql);
	if (st->nbuckets) {
		for (stmt_entry *e = st->buckets[h % st->nbuckets]; e; e = e->next)
			if (e->hash == h && strcmp(e->sql, sql) == 0)
				return e;
	}
	sqlite3_stmt *stmt;
	if (prepare(st, sql, &stmt, err) < 0)
		return NULL;
	if (st->nstmts + 1 > st->nbuckets * 3 / 4)
		stmt_cache_grow(st);
	stmt_entry *e = xmalloc(sizeof *e);
	e->sql = xstrdup(sql);
	e->hash = h;
	e->stmt = stmt;
	e->next = st->buckets[h % st->nbuckets];
	st->buckets[h % st->nbuckets] = e;
	st->nstmts++;
	return e;
}

static stmt_addr_slot *addr_slot(store *st, const char *sql)
{
	uint64_t mixed = (uint64_t)(uintptr_t)sql * 0x9E3779B97F4A7C15ULL; /* Fibonacci hashing */
	return &st->by_addr[mixed >> (64 - STMT_ADDR_BITS)];
}

/* The address is tried first: hashing the whole text was most of a lookup.
 * A buffer reused for other SQL has the same address, so a hit is confirmed
 * by comparing the text (a vectorised strcmp, far cheaper than the hash). */
sqlite3_stmt *store_stmt(store *st, const char *sql, ctd_err *err)
{
	stmt_addr_slot *slot = addr_slot(st, sql);
	stmt_entry *e = slot->sql == sql && strcmp(slot->e->sql, sql) == 0
				? slot->e
				: stmt_by_text(st, sql, err);
	if (!e)
		return NULL;
	slot->sql = sql;
	slot->e = e;
	sqlite3_reset(e->stmt);
	sqlite3_clear_bindings(e->stmt);
	return e->stmt;
}

/* --- running statements and transactions --------------------------------- */

/* Step until the statement is done, ignoring rows. A busy failure outside a
 * transaction changed nothing, so it is retried; inside one it is the
 * caller's to roll back. */
static int run_stmt(store *st, sqlite3_stmt *stmt, int retry_in_txn, ctd_err *err)
{
	busy_retry br = {0};
	int rc;
	for (;;) {
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			;
		if (rc == SQLITE_DONE)
			break;
		int can_retry = retry_in_txn || sqlite3_get_autocommit(st->db);
		if (!can_retry || !busy_retry_again(&br, rc)) {
			store_fail(st, rc, sqlite3_sql(stmt), err);
			break;
		}
		sqlite3_reset(stmt);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_step_done(store *st, sqlite3_stmt *stmt, ctd_err *err)
{
	return run_stmt(st, stmt, 0, err);
}

int store_step_changed(store *st, sqlite3_stmt *stmt, ctd_err *err, const char *fmt, ...)
{
	if (run_stmt(st, stmt, 0, err) != 0)
		return -1;
	if (sqlite3_changes(st->db) > 0)
		return 0;
	if (err) {
		va_list ap;
		err->code = CTD_ENOTFOUND;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int store_exec(store *st, const char *sql, ctd_err *err)
{
	while (*sql) {
		sqlite3_stmt *stmt = NULL;
		const char *tail = sql;
		busy_retry br = {0};
		int rc;
		while ((rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, &tail)) != SQLITE_OK) {
			if (!busy_retry_again(&br, rc))
				return store_fail(st, rc, sql, err);
		}
		sql = tail;
		if (!stmt) /* whitespace or comment */
			continue;
		int failed = run_stmt(st, stmt, 0, err);
		sqlite3_finalize(stmt);
		if (failed)
			return -1;
	}
	return 0;
}

/* A statement left stepped but not reset pins an old read snapshot; then
 * BEGIN IMMEDIATE answers busy forever. Name it instead of waiting. */
static const char *active_stmt(store *st, sqlite3_stmt *except)
{
	for (sqlite3_stmt *s = sqlite3_next_stmt(st->db, NULL); s; s = sqlite3_next_stmt(st->db, s))
		if (s != except && sqlite3_stmt_busy(s))
			return sqlite3_sql(s);
	return NULL;
}

int store_begin(store *st, ctd_err *err)
{
	sqlite3_stmt *begin = store_stmt(st, "BEGIN IMMEDIATE", err);
	if (!begin)
		return -1;
	busy_retry br = {0};
	int rc;
	while ((rc = sqlite3_step(begin)) != SQLITE_DONE) {
		const char *pinned = rc_is_busy(rc) ? active_stmt(st, begin) : NULL;
		if (pinned) {
			ctd_fail(err, CTD_EINTERNAL,
				 "store: BEGIN with a statement still active (reset it): %.120s",
				 pinned);
			sqlite3_reset(begin);
			return -1;
		}
		if (!busy_retry_again(&br, rc)) {
			store_fail(st, rc, "BEGIN IMMEDIATE", err);
			sqlite3_reset(begin);
			return -1;
		}
		sqlite3_reset(begin);
	}
	sqlite3_reset(begin);
	return 0;
}

int store_commit(store *st, ctd_err *err)
{
	sqlite3_stmt *commit = store_stmt(st, "COMMIT", err);
	int rc = commit ? run_stmt(st, commit, 1, err) : -1;
	if (sqlite3_get_autocommit(st->db)) /* committed, or rolled back by the failure */
		evsink_txn_end(rc == 0);
	return rc;
}

void store_rollback(store *st)
{
	evsink_txn_end(0);
	if (sqlite3_get_autocommit(st->db))
		return;
	sqlite3_stmt *rollback = store_stmt(st, "ROLLBACK", NULL);
	if (!rollback || run_stmt(st, rollback, 1, NULL) < 0)
		log_error("store.rollback", "path=%s error=\"%s\"", st->path, sqlite3_errmsg(st->db));
}

/* --- settings ------------------------------------------------------------ */

char *store_setting_get(store *st, const char *ns, const char *key, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT value FROM settings WHERE ns = ?1 AND key = ?2", err);
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	char *value = NULL;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		value = xstrdup((const char *)sqlite3_column_text(s, 0));
	else if (rc == SQLITE_DONE)
		ctd_fail(err, CTD_ENOTFOUND, "store: no setting %s.%s", ns, key);
	else
		ctd_fail(err, CTD_ESTORE, "store: reading setting %s.%s: %s", ns, key,
			 sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return value;
}

static int setting_write(store *st, const char *sql, const char *ns, const char *key,
			 const char *value, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, time_now_ms());
	return store_step_done(st, s, err);
}

int store_setting_set(store *st, const char *ns, const char *key, const char *value, ctd_err *err)
{
	return setting_write(st,
			     "INSERT INTO settings (ns, key, value, updated) VALUES (?1, ?2, ?3, ?4) "
			     "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
			     "updated = excluded.updated",
			     ns, key, value, err);
}

char *store_setting_init(store *st, const char *ns, const char *key, const char *value,
			 ctd_err *err)
{
	if (setting_write(st,
			  "INSERT OR IGNORE INTO settings (ns, key, value, updated) "
			  "VALUES (?1, ?2, ?3, ?4)",
			  ns, key, value, err) < 0)
		return NULL;
	return store_setting_get(st, ns, key, err);
}

static int secret_generate(secret_kind kind, char out[65], ctd_err *err)
{
	unsigned char raw[16];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return ctd_fail(err, CTD_EINTERNAL, "secret: RAND_bytes failed");
	if (kind.form == SECRET_HEX) {
		hex_encode(raw, sizeof raw, out);
	} else {
		raw[6] = (raw[6] & 0x0f) | 0x40; /* version 4, RFC 4122 variant */
		raw[8] = (raw[8] & 0x3f) | 0x80;
		char hex[33];
		hex_encode(raw, sizeof raw, hex);
		snprintf(out, 65, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
			 hex + 20);
	}
	if (kind.form != SECRET_UUID)
		str_upper(out);
	if (kind.len && kind.len < strlen(out))
		out[kind.len] = '\0';
	return 0;
}

char *store_secret(store *st, const char *ns, const char *key, const char *pinned,
		   secret_kind kind, ctd_err *err)
{
	if (pinned && *pinned)
		return xstrdup(pinned);
	ctd_err lookup = {0};
	char *stored = store_setting_get(st, ns, key, &lookup);
	if (stored)
		return stored;
	if (lookup.code != CTD_ENOTFOUND) {
		if (err)
			*err = lookup;
		return NULL;
	}
	char fresh[65];
	if (secret_generate(kind, fresh, err) != 0)
		return NULL;
	return store_setting_init(st, ns, key, fresh, err);
}

char *store_secret_renew(store *st, const char *ns, const char *key, secret_kind kind,
			 ctd_err *err)
{
	char fresh[65];
	if (secret_generate(kind, fresh, err) != 0 ||
	    store_setting_set(st, ns, key, fresh, err) != 0)
		return NULL;
	return xstrdup(fresh);
}

/* --- events timeline ----------------------------------------------------- */

int64_t events_append(store *st, const char *appliance, const char *kind, const char *ref,
		      json_t *detail, ctd_err *err)
{
	if (!appliance || !kind)
		return ctd_fail(err, CTD_EINVAL, "events: appliance and kind are required");
	sqlite3_stmt *s = store_stmt(st,
				     "INSERT INTO events (ts_ms, appliance, kind, ref, detail) "
				     "VALUES (?1, ?2, ?3, ?4, ?5)",
				     err);
	if (!s)
		return -1;
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	int64_t now = time_now_ms();
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, appliance, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ref, -1, SQLITE_STATIC); /* NULL binds NULL */
	sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
	int rc = store_step_done(st, s, err);
	free(text);
	if (rc < 0)
		return -1;
	int64_t id = sqlite3_last_insert_rowid(st->db);
	/* the outputs (syslog, webhooks) get it once it is committed */
	evsink_offer(id, now, appliance, kind, ref, detail, !sqlite3_get_autocommit(st->db));
	return id;
}

/* A `*`/`?` wildcard pattern as a LIKE pattern with `\` escapes, so `%` and
 * `_` in the pattern stay literal. Case-insensitive, like wildcard_match(). */
static char *wildcard_to_like(const char *pattern)
{
	sbuf b = {0};
	for (const char *p = pattern; *p; p++) {
		if (*p == '*')
			sbuf_puts(&b, "%");
		else if (*p == '?')
			sbuf_puts(&b, "_");
		else {
			if (*p == '%' || *p == '_' || *p == '\\')
				sbuf_puts(&b, "\\");
			sbuf_append(&b, p, 1);
		}
	}
	return sbuf_detach(&b);
}

static json_t *event_row(sqlite3_stmt *s)
{
	char iso[32];
	int64_t ts = sqlite3_column_int64(s, 1);
	time_iso8601(ts, iso, sizeof iso);
	const char *ref = (const char *)sqlite3_column_text(s, 4);
	const char *detail_text = (const char *)sqlite3_column_text(s, 5);
	json_t *detail = NULL;
	if (detail_text) {
		detail = json_loads(detail_text, JSON_DECODE_ANY, NULL);
		if (!detail) /* written by hand, not by events_append: keep it visible */
			detail = json_string(detail_text);
	}
	json_t *row = json_object();
	json_object_set_new(row, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(row, "ts", json_integer(ts));
	json_object_set_new(row, "time", json_string(iso));
	json_object_set_new(row, "appliance", json_string((const char *)sqlite3_column_text(s, 2)));
	json_object_set_new(row, "kind", json_string((const char *)sqlite3_column_text(s, 3)));
	json_object_set_new(row, "ref", ref ? json_string(ref) : json_null());
	json_object_set_new(row, "detail", detail ? detail : json_null());
	return row;
}

/* Only the conditions a filter uses go into the SQL (so indexes apply); the
 * few variants each get their own cached statement. */
json_t *events_query(store *st, const events_filter *f, ctd_err *err)
{
	static const events_filter all = {0};
	if (!f)
		f = &all;
	sbuf sql = {0};
	sbuf_puts(&sql, "SELECT id, ts_ms, appliance, kind, ref, detail FROM events WHERE id > ?1");
	if (f->from_ms)
		sbuf_puts(&sql, " AND ts_ms >= ?2");
	if (f->to_ms)
		sbuf_puts(&sql, " AND ts_ms <= ?3");
	if (f->appliance)
		sbuf_puts(&sql, " AND appliance = ?4");
	if (f->kind)
		sbuf_puts(&sql, " AND kind LIKE ?5 ESCAPE '\\'");
	sbuf_puts(&sql, " ORDER BY id LIMIT ?6");
	sqlite3_stmt *s = store_stmt(st, sql.data, err);
	sbuf_free(&sql);
	if (!s)
		return NULL;

	char *like = f->kind ? wildcard_to_like(f->kind) : NULL;
	sqlite3_bind_int64(s, 1, f->after_id);
	if (f->from_ms)
		sqlite3_bind_int64(s, 2, f->from_ms);
	if (f->to_ms)
		sqlite3_bind_int64(s, 3, f->to_ms);
	if (f->appliance)
		sqlite3_bind_text(s, 4, f->appliance, -1, SQLITE_STATIC);
	if (like)
		sqlite3_bind_text(s, 5, like, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, f->limit > 0 ? f->limit : EVENTS_DEFAULT_LIMIT);

	json_t *rows = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(rows, event_row(s));
	if (rc != SQLITE_DONE) {
		store_fail(st, rc, "events query", err);
		json_decref(rows);
		rows = NULL;
	}
	sqlite3_reset(s);
	free(like);
	return rows;
}
