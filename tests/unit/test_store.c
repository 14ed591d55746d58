/* test_store.c - unit tests of the SQLite store: migrations (once, concurrent
 * first open by several processes, newer schema refused), pragmas, the
 * statement cache, transactions under contention, a thread's lock budget
 * (EBUSY instead of waiting, reads unaffected), the WAL bounds, settings and
 * the events timeline filters. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store.h"
#include "util.h"
#include "testlib.h"

static char tmpdir[64];
static char dbpath[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/ctd-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof dbpath, "%s/lab.db", tmpdir);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static store *open_ok(void)
{
	store *st;
	ctd_err err = {0};
	ck_assert_msg(store_open(dbpath, &st, &err) == 0, "store_open: %s", err.msg);
	return st;
}

static long long query_int(store *st, const char *sql)
{
	sqlite3_stmt *s = store_stmt(st, sql, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	long long v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

static const char *query_text(store *st, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *s = store_stmt(st, sql, NULL);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return out;
}

TEST(test_open_migrates_once)
{
	ck_assert_int_ge(schema_migrations_count, 1);
	store *st = open_ok();
	ck_assert_int_eq(store_schema_version(st, NULL), schema_migrations_count);
	char mode[16];
	ck_assert_str_eq(query_text(st, "PRAGMA journal_mode", mode, sizeof mode), "wal");
	ck_assert_int_eq(query_int(st, "PRAGMA synchronous"), 2); /* FULL */
	ck_assert_int_eq(query_int(st, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(query_int(st, "PRAGMA busy_timeout"), 5000);
	ck_assert_int_eq(store_setting_set(st, "test", "kept", "1", NULL), 0);
	store_close(st);

	/* reopening finds nothing to do and keeps the data */
	st = open_ok();
	ck_assert_int_eq(store_schema_version(st, NULL), schema_migrations_count);
	char *kept = store_setting_get(st, "test", "kept", NULL);
	ck_assert_str_eq(kept, "1");
	free(kept);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"),
			 1);
	store_close(st);
}

TEST(test_durable_switch)
{
	store_set_durable(0);
	store *st = open_ok();
	ck_assert_int_eq(query_int(st, "PRAGMA synchronous"), 1); /* NORMAL */
	store_close(st);
	store_set_durable(1);
}

/* Several processes open the same brand-new file at the same instant: every
 * one must succeed and the schema must be created exactly once. */
TEST(test_concurrent_first_open)
{
	enum { NCHILD = 8 };
	int gate[2];
	ck_assert_int_eq(pipe(gate), 0);
	char *logpath = xasprintf("%s/children.log", tmpdir);
	FILE *log = fopen(logpath, "a");
	ck_assert_ptr_nonnull(log);
	pid_t pids[NCHILD];
	for (int i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char c;
			close(gate[1]);
			dup2(fileno(log), STDERR_FILENO); /* the store logs each migration */
			if (read(gate[0], &c, 1) != 0) /* EOF when the parent opens the gate */
				_exit(3);
			store *st;
			ctd_err err = {0};
			if (store_open(dbpath, &st, &err) != 0) {
				fprintf(stderr, "child %d: %s\n", i, err.msg);
				_exit(1);
			}
			int rc = events_append(st, "test", "child.open", NULL, NULL, &err) > 0 ? 0 : 2;
			if (rc)
				fprintf(stderr, "child %d: %s\n", i, err.msg);
			store_close(st);
			_exit(rc);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int i = 0; i < NCHILD; i++) {
		int status;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed: %d", i,
			      status);
	}
	store *st = open_ok();
	ck_assert_int_eq(store_schema_version(st, NULL), schema_migrations_count);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM events WHERE kind = 'child.open'"),
			 NCHILD);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 'settings'"),
			 1);
	store_close(st);
	fclose(log);
	char *text;
	size_t len;
	ck_assert_int_eq(file_read(logpath, &text, &len, NULL), 0);
	int migrations = 0;
	for (const char *p = text; (p = strstr(p, "event=store.migrated")); p++)
		migrations++;
	ck_assert_msg(migrations == 1, "schema applied %d times:\n%s", migrations, text);
	free(text);
	free(logpath);
}

TEST(test_newer_schema_refused)
{
	store *st = open_ok();
	char *sql = xasprintf("PRAGMA user_version = %d", schema_migrations_count + 1);
	ck_assert_int_eq(store_exec(st, sql, NULL), 0);
	free(sql);
	store_close(st);

	ctd_err err = {0};
	ck_assert_int_eq(store_open(dbpath, &st, &err), -1);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(err.code, CTD_ESTORE);
	ck_assert_msg(strstr(err.msg, "newer than this build knows"), "message: %s", err.msg);
}

TEST(test_open_failure)
{
	store *st;
	ctd_err err = {0};
	ck_assert_int_eq(store_open("/nonexistent-dir/x/lab.db", &st, &err), -1);
	ck_assert_int_eq(err.code, CTD_ESTORE);
	ck_assert_msg(strstr(err.msg, "/nonexistent-dir/x/lab.db"), "message: %s", err.msg);
}

TEST(test_stmt_cache)
{
	store *st = open_ok();
	const char *sql = "SELECT ?1";
	sqlite3_stmt *a = store_stmt(st, sql, NULL);
	ck_assert_ptr_nonnull(a);
	sqlite3_bind_int(a, 1, 42);
	ck_assert_int_eq(sqlite3_step(a), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(a, 0), 42);

	/* same SQL (another buffer): same statement, reset and unbound */
	char copy[16];
	strcpy(copy, sql);
	sqlite3_stmt *b = store_stmt(st, copy, NULL);
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(sqlite3_stmt_busy(b), 0);
	ck_assert_int_eq(sqlite3_step(b), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_type(b, 0), SQLITE_NULL);
	sqlite3_reset(b);

	/* many statements: the table grows and still finds each one */
	sqlite3_stmt *many[200];
	for (int i = 0; i < 200; i++) {
		char *q = xasprintf("SELECT %d", i);
		many[i] = store_stmt(st, q, NULL);
		free(q);
		ck_assert_ptr_nonnull(many[i]);
	}
	for (int i = 0; i < 200; i++) {
		char *q = xasprintf("SELECT %d", i);
		ck_assert_ptr_eq(store_stmt(st, q, NULL), many[i]);
		free(q);
	}
	ck_assert_ptr_ne(many[0], a);

	/* one buffer, its text changed between calls: each text its own statement */
	char reused[32];
	strcpy(reused, "SELECT 'first'");
	sqlite3_stmt *first = store_stmt(st, reused, NULL);
	strcpy(reused, "SELECT 'second'");
	sqlite3_stmt *second = store_stmt(st, reused, NULL);
	ck_assert_ptr_ne(first, second);
	ck_assert_str_eq(sqlite3_sql(second), "SELECT 'second'");
	strcpy(reused, "SELECT 'first'");
	ck_assert_ptr_eq(store_stmt(st, reused, NULL), first);
	/* the literal's address, found again after the buffer took its slot's place */
	ck_assert_ptr_eq(store_stmt(st, sql, NULL), a);

	ctd_err err = {0};
	ck_assert_ptr_null(store_stmt(st, "SELEC nonsense", &err));
	ck_assert_int_eq(err.code, CTD_ESTORE);
	ck_assert_ptr_null(store_stmt(st, "SELECT 1; SELECT 2", &err));
	ck_assert_msg(strstr(err.msg, "one statement"), "message: %s", err.msg);
	store_close(st);
}

TEST(test_exec_and_errors)
{
	store *st = open_ok();
	ctd_err err = {0};
	ck_assert_int_eq(store_exec(st,
				    "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);"
				    " INSERT INTO t VALUES ('a', 1); -- comment\n"
				    " INSERT INTO t VALUES ('b', 2);",
				    &err),
			 0);
	ck_assert_int_eq(query_int(st, "SELECT sum(v) FROM t"), 3);
	ck_assert_int_eq(store_exec(st, "INSERT INTO nowhere VALUES (1)", &err), -1);
	ck_assert_int_eq(err.code, CTD_ESTORE);
	ck_assert_msg(strstr(err.msg, "nowhere"), "message: %s", err.msg);

	sqlite3_stmt *ins = store_stmt(st, "INSERT INTO t VALUES (?1, ?2)", &err);
	sqlite3_bind_text(ins, 1, "a", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 2, 5);
	ck_assert_int_eq(store_step_done(st, ins, &err), -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	ck_assert_int_eq(sqlite3_stmt_busy(ins), 0);
	store_close(st);
}

TEST(test_transactions)
{
	store *st = open_ok();
	ctd_err err = {0};
	ck_assert_int_eq(store_exec(st, "CREATE TABLE t (v INTEGER)", &err), 0);
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_exec(st, "INSERT INTO t VALUES (1)", &err), 0);
	store_rollback(st);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_exec(st, "INSERT INTO t VALUES (1)", &err), 0);
	ck_assert_int_eq(store_commit(st, &err), 0);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM t"), 1);
	store_rollback(st); /* no transaction: harmless */
	store_close(st);
}

/* --- contention ------------------------------------------------------------ */

typedef struct holder {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int holding;
	int release;
	int ok;
} holder;

/* Takes the write lock through its own per-thread connection (store_get),
 * holds it until told, then commits; its connection closes at thread exit. */
static void *hold_write_lock(void *arg)
{
	holder *h = arg;
	ctd_err err = {0};
	store *st = store_get(&err);
	h->ok = st && store_begin(st, &err) == 0 &&
		events_append(st, "test", "holder", NULL, NULL, &err) > 0;
	pthread_mutex_lock(&h->lock);
	h->holding = 1;
	pthread_cond_broadcast(&h->cond);
	while (!h->release)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	if (h->ok)
		h->ok = store_commit(st, &err) == 0;
	return NULL;
}

static void *release_later(void *arg)
{
	holder *h = arg;
	usleep(400 * 1000);
	pthread_mutex_lock(&h->lock);
	h->release = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* The lock is held well past SQLite's busy timeout (shortened to 50 ms), so
 * only the store's own retry loop gets the waiters through. */
TEST(test_busy_writer_waits)
{
	store_set_busy_timeout(50);
	store *st = open_ok(); /* creates the schema */
	ck_assert_int_eq(query_int(st, "PRAGMA busy_timeout"), 50);
	store_set_path(dbpath);
	ck_assert_str_eq(store_path(), dbpath);

	holder h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
	pthread_t holder_thread, releaser;
	ck_assert_int_eq(pthread_create(&holder_thread, NULL, hold_write_lock, &h), 0);
	pthread_mutex_lock(&h.lock);
	while (!h.holding)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	ck_assert_int_eq(pthread_create(&releaser, NULL, release_later, &h), 0);

	/* the other connection holds the write lock: we wait, then get in */
	ctd_err err = {0};
	ck_assert_msg(store_begin(st, &err) == 0, "begin: %s", err.msg);
	ck_assert_int_eq(h.release, 1);
	ck_assert_int_gt(events_append(st, "test", "waiter", NULL, NULL, &err), 0);
	ck_assert_int_eq(store_commit(st, &err), 0);
	pthread_join(releaser, NULL);
	pthread_join(holder_thread, NULL);
	ck_assert(h.ok);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM events"), 2);
	/* the holder's write committed first */
	ck_assert_int_eq(query_int(st, "SELECT id FROM events WHERE kind = 'holder'"), 1);

	/* autocommit writes wait the same way */
	h.holding = h.release = 0;
	ck_assert_int_eq(pthread_create(&holder_thread, NULL, hold_write_lock, &h), 0);
	pthread_mutex_lock(&h.lock);
	while (!h.holding)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	ck_assert_int_eq(pthread_create(&releaser, NULL, release_later, &h), 0);
	ck_assert_int_gt(events_append(st, "test", "autocommit", NULL, NULL, &err), 0);
	pthread_join(releaser, NULL);
	pthread_join(holder_thread, NULL);
	ck_assert(h.ok);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM events"), 4);
	store_close(st);
	store_close_thread(); /* no connection on this thread: a no-op */
}

/* A thread with a lock budget gives up on a writer with EBUSY (the HTTP
 * server's 503) while its reads go on; the budget also bounds SQLite's own
 * wait, and 0 brings the default back. */
TEST(test_thread_budget_answers_busy)
{
	store *first = open_ok(); /* creates the schema */
	ck_assert_int_eq(query_int(first, "PRAGMA journal_size_limit"), 64LL * 1024 * 1024);
	ck_assert_int_eq(query_int(first, "PRAGMA wal_autocheckpoint"), 1000);
	store_close(first);
	store_set_path(dbpath);
	sqlite3 *locker;
	ck_assert_int_eq(sqlite3_open(dbpath, &locker), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

	ctd_err err = {0};
	ck_assert_int_eq(store_set_thread_budget(200), 0);
	store *st = store_get(&err);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(query_int(st, "PRAGMA busy_timeout"), 100);
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM events"), 0);
	ck_assert_int_eq(store_begin(st, &err), -1);
	ck_assert_int_eq(err.code, CTD_EBUSY);
	ck_assert_int_eq(events_append(st, "test", "blocked", NULL, NULL, &err), -1);
	ck_assert_int_eq(err.code, CTD_EBUSY);

	sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(locker);
	ck_assert_int_gt(events_append(st, "test", "through", NULL, NULL, &err), 0);
	ck_assert_int_eq(store_set_thread_budget(0), 200);
	ck_assert_int_eq(query_int(st, "PRAGMA busy_timeout"), 5000);
	store_close_thread();
}

/* A statement left mid-rows pins an old snapshot; BEGIN must say so at once
 * instead of retrying for a minute. */
TEST(test_pinned_snapshot_named)
{
	store *a = open_ok(), *b = open_ok();
	ctd_err err = {0};
	for (int i = 0; i < 3; i++)
		ck_assert_int_gt(events_append(a, "test", "x", NULL, NULL, &err), 0);
	sqlite3_stmt *reader = store_stmt(a, "SELECT id FROM events ORDER BY id", &err);
	ck_assert_int_eq(sqlite3_step(reader), SQLITE_ROW);
	ck_assert_int_gt(events_append(b, "test", "y", NULL, NULL, &err), 0);
	ck_assert_int_eq(store_begin(a, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINTERNAL); /* not EBUSY after a minute of retries */
	ck_assert_msg(strstr(err.msg, "SELECT id FROM events"), "message: %s", err.msg);
	sqlite3_reset(reader);
	ck_assert_int_eq(store_begin(a, &err), 0);
	ck_assert_int_eq(store_commit(a, &err), 0);
	store_close(a);
	store_close(b);
}

TEST(test_store_get_per_thread)
{
	ctd_err err = {0};
	store_set_path(NULL);
	ck_assert_ptr_null(store_get(&err));
	ck_assert_int_eq(err.code, CTD_EINTERNAL);
	store_set_path(dbpath);
	store *st = store_get(&err);
	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_eq(store_get(&err), st);
	store_close_thread();
	store *again = store_get(&err);
	ck_assert_ptr_nonnull(again);
	store_close_thread();
	store_set_path(NULL);
}

/* --- settings and events ---------------------------------------------------- */

TEST(test_settings)
{
	store *st = open_ok();
	ctd_err err = {0};
	ck_assert_ptr_null(store_setting_get(st, "ddan", "api_key", &err));
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "ddan.api_key"));
	char *first = store_setting_init(st, "ddan", "api_key", "generated-1", &err);
	ck_assert_str_eq(first, "generated-1");
	char *later = store_setting_init(st, "ddan", "api_key", "generated-2", &err);
	ck_assert_str_eq(later, "generated-1"); /* later starts keep the first key */
	char *other_ns = store_setting_init(st, "ddi", "api_key", "ddi-key", &err);
	ck_assert_str_eq(other_ns, "ddi-key");
	ck_assert_int_eq(store_setting_set(st, "ddan", "api_key", "pinned", &err), 0);
	char *now = store_setting_get(st, "ddan", "api_key", NULL);
	ck_assert_str_eq(now, "pinned");
	ck_assert_int_eq(query_int(st, "SELECT count(*) FROM settings"), 2);
	ck_assert_int_gt(query_int(st, "SELECT min(updated) FROM settings"), 1700000000000LL);
	free(first);
	free(later);
	free(other_ns);
	free(now);
	store_close(st);
}

/* Each start of an appliance opens the store anew. */
static char *secret_on_start(const char *pinned, secret_kind kind)
{
	store *st = open_ok();
	ctd_err err = {0};
	char *v = store_secret(st, "sps", "api_key", pinned, kind, &err);
	ck_assert_msg(v != NULL, "store_secret: %s", err.msg);
	store_close(st);
	return v;
}

TEST(test_secret_unpinning_brings_back_the_generated_one)
{
	secret_kind hex = {SECRET_HEX, 0};
	char *generated = secret_on_start("", hex);
	ck_assert_uint_eq(strlen(generated), 32);
	ck_assert_uint_eq(strspn(generated, "0123456789ABCDEF"), 32);
	char *again = secret_on_start(NULL, hex);
	ck_assert_str_eq(again, generated);
	char *pinned = secret_on_start("my-pinned-key", hex);
	ck_assert_str_eq(pinned, "my-pinned-key");
	char *unpinned = secret_on_start("", hex);
	ck_assert_str_eq(unpinned, generated); /* the pin never wrote over it */
	free(generated);
	free(again);
	free(pinned);
	free(unpinned);
}

TEST(test_secret_forms)
{
	store *st = open_ok();
	ctd_err err = {0};
	char *guid = store_secret(st, "t", "guid", NULL, (secret_kind){SECRET_GUID, 0}, &err);
	char *uuid = store_secret(st, "t", "uuid", NULL, (secret_kind){SECRET_UUID, 13}, &err);
	char *hex = store_secret(st, "t", "hex", NULL, (secret_kind){SECRET_HEX, 12}, &err);
	ck_assert_uint_eq(strlen(guid), 36);
	ck_assert_uint_eq(strspn(guid, "0123456789ABCDEF-"), 36);
	ck_assert_int_eq(guid[14], '4');
	ck_assert_uint_eq(strlen(uuid), 13);
	ck_assert_uint_eq(strspn(uuid, "0123456789abcdef-"), 13);
	ck_assert_int_eq(uuid[8], '-');
	ck_assert_uint_eq(strlen(hex), 12);
	ck_assert_str_ne(guid, hex);
	free(guid);
	free(uuid);
	free(hex);
	store_close(st);
}

static int64_t append(store *st, const char *app, const char *kind, const char *ref,
		      json_t *detail)
{
	ctd_err err = {0};
	int64_t id = events_append(st, app, kind, ref, detail, &err);
	ck_assert_msg(id > 0, "events_append: %s", err.msg);
	json_decref(detail);
	return id;
}

static json_t *query(store *st, events_filter f)
{
	ctd_err err = {0};
	json_t *rows = events_query(st, &f, &err);
	ck_assert_msg(rows != NULL, "events_query: %s", err.msg);
	return rows;
}

static const char *kind_at(json_t *rows, size_t i)
{
	return json_string_value(json_object_get(json_array_get(rows, i), "kind"));
}

TEST(test_events)
{
	store *st = open_ok();
	int64_t t0 = time_now_ms();
	int64_t first = append(st, "ddan", "sample.done", "sha1-a", json_pack("{s:s}", "risk", "high"));
	append(st, "ddan", "sample.arrived", "sha1-b", NULL);
	append(st, "tmcm", "so.created", NULL, json_pack("[i,i]", 1, 2));
	append(st, "imsva", "policy.quarantine", "msg-1", NULL);
	int64_t last = append(st, "ddan", "so_created%", NULL, NULL);

	json_t *all = events_query(st, NULL, NULL);
	ck_assert_int_eq(json_array_size(all), 5);
	json_t *e = json_array_get(all, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "id")), first);
	int64_t ts = json_integer_value(json_object_get(e, "ts"));
	ck_assert_int_ge(ts, t0);
	char iso[32];
	time_iso8601(ts, iso, sizeof iso);
	ck_assert_str_eq(json_string_value(json_object_get(e, "time")), iso);
	ck_assert_str_eq(json_string_value(json_object_get(e, "appliance")), "ddan");
	ck_assert_str_eq(json_string_value(json_object_get(e, "ref")), "sha1-a");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "detail"), "risk")),
			 "high");
	e = json_array_get(all, 2);
	ck_assert(json_is_null(json_object_get(e, "ref")));
	ck_assert_int_eq(json_array_size(json_object_get(e, "detail")), 2);
	ck_assert(json_is_null(json_object_get(json_array_get(all, 1), "detail")));
	json_decref(all);

	json_t *r = query(st, (events_filter){.appliance = "ddan"});
	ck_assert_int_eq(json_array_size(r), 3);
	json_decref(r);

	r = query(st, (events_filter){.kind = "sample.*"});
	ck_assert_int_eq(json_array_size(r), 2);
	ck_assert_str_eq(kind_at(r, 0), "sample.done");
	ck_assert_str_eq(kind_at(r, 1), "sample.arrived");
	json_decref(r);

	r = query(st, (events_filter){.appliance = "ddan", .kind = "*.DONE"});
	ck_assert_int_eq(json_array_size(r), 1);
	ck_assert_str_eq(kind_at(r, 0), "sample.done");
	json_decref(r);

	/* LIKE metacharacters in the pattern are literal */
	r = query(st, (events_filter){.kind = "so_created%"});
	ck_assert_int_eq(json_array_size(r), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "id")), last);
	json_decref(r);
	r = query(st, (events_filter){.kind = "so%"});
	ck_assert_int_eq(json_array_size(r), 0);
	json_decref(r);
	r = query(st, (events_filter){.kind = "so?created"});
	ck_assert_int_eq(json_array_size(r), 1);
	ck_assert_str_eq(kind_at(r, 0), "so.created");
	json_decref(r);

	r = query(st, (events_filter){.after_id = first + 2});
	ck_assert_int_eq(json_array_size(r), 2);
	ck_assert_str_eq(kind_at(r, 0), "policy.quarantine");
	json_decref(r);

	r = query(st, (events_filter){.limit = 2});
	ck_assert_int_eq(json_array_size(r), 2);
	ck_assert_str_eq(kind_at(r, 1), "sample.arrived");
	json_decref(r);

	r = query(st, (events_filter){.from_ms = t0, .to_ms = time_now_ms()});
	ck_assert_int_eq(json_array_size(r), 5);
	json_decref(r);
	r = query(st, (events_filter){.from_ms = time_now_ms() + 60000});
	ck_assert_int_eq(json_array_size(r), 0);
	json_decref(r);
	r = query(st, (events_filter){.to_ms = t0 - 60000});
	ck_assert_int_eq(json_array_size(r), 0);
	json_decref(r);

	ctd_err err = {0};
	ck_assert_int_eq(events_append(st, NULL, "x", NULL, NULL, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	store_close(st);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
