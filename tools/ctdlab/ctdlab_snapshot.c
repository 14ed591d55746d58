/* ctdlab_snapshot.c - `ctdlab snapshot save|load FILE`: the whole lab's
 * state (lab.db) copied with SQLite's online backup API. A save reads one
 * consistent WAL snapshot while the daemons keep writing (no pause of
 * request handling); the copy carries the schema and ctdlab versions in a
 * ctdlab_snapshot table. A load refuses another schema version, stops the
 * running daemons (their in-memory caches must reload), restores the file
 * and starts them again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "ctdlab.h"
#include "daemon.h"
#include "store.h"
#include "util.h"

#define SNAPSHOT_BUSY_MS 10000

static void usage(void)
{
	fprintf(stderr, "usage: ctdlab snapshot save FILE | ctdlab snapshot load FILE\n");
}

static sqlite3 *open_db(const char *path, int flags)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		fprintf(stderr, "ctdlab: cannot open %s: %s\n", path,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, SNAPSHOT_BUSY_MS);
	return db;
}

/* Copy src into dst in one step: one read transaction, so one consistent
 * state; WAL lets the daemons write meanwhile. */
static int copy_db(sqlite3 *dst, sqlite3 *src, const char *what)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		fprintf(stderr, "ctdlab: %s: %s\n", what, sqlite3_errmsg(dst));
		return -1;
	}
	int rc;
	int64_t deadline = time_mono_ms() + SNAPSHOT_BUSY_MS;
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		if (time_mono_ms() > deadline)
			break;
		sqlite3_sleep(20);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "ctdlab: %s: %s\n", what, sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "ctdlab: %s\n", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int write_meta(sqlite3 *db, const char *source)
{
	char taken[32];
	time_iso8601(time_now_ms(), taken, sizeof taken);
	char *sql = sqlite3_mprintf(
		"CREATE TABLE ctdlab_snapshot (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
		"INSERT INTO ctdlab_snapshot VALUES ('schema_version', '%d'), "
		"('ctdlab_version', %Q), ('taken_at', %Q), ('source', %Q);"
		"PRAGMA journal_mode=DELETE;",
		schema_migrations_count, CTDLAB_VERSION, taken, source);
	int rc = exec_sql(db, sql);
	sqlite3_free(sql);
	return rc;
}

static int snapshot_save(const lab *l, const char *file)
{
	char *src_path = xasprintf("%s/lab.db", l->dir);
	char *tmp = xasprintf("%s.tmp", file);
	sqlite3 *src = NULL, *dst = NULL;
	int rc = -1;
	if (access(src_path, R_OK) != 0) {
		fprintf(stderr, "ctdlab: %s: no lab state to save (%s)\n", src_path, strerror(errno));
		goto out;
	}
	unlink(tmp);
	src = open_db(src_path, SQLITE_OPEN_READWRITE);
	dst = src ? open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : NULL;
	if (!dst || copy_db(dst, src, "snapshot save") < 0 || write_meta(dst, src_path) < 0)
		goto out;
	sqlite3_close(dst);
	dst = NULL;
	if (rename(tmp, file) != 0) {
		fprintf(stderr, "ctdlab: cannot write %s: %s\n", file, strerror(errno));
		goto out;
	}
	rc = 0;
	printf("ctdlab: saved %s to %s (schema %d, ctdlab %s)\n", l->dir, file,
	       schema_migrations_count, CTDLAB_VERSION);
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(src_path);
	return rc == 0 ? 0 : 1;
}

/* A value of the snapshot's ctdlab_snapshot table (malloc'd), or NULL. */
static char *meta_get(sqlite3 *db, const char *key)
{
	sqlite3_stmt *s = NULL;
	char *value = NULL;
	if (sqlite3_prepare_v2(db, "SELECT value FROM ctdlab_snapshot WHERE key = ?1", -1, &s,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			value = xstrdup((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	return value;
}

/* 0 when the snapshot fits this ctdlab, else the reason on stderr. */
static int check_compatible(sqlite3 *snap, const char *file)
{
	char *schema = meta_get(snap, "schema_version");
	char *version = meta_get(snap, "ctdlab_version");
	int rc = 0;
	if (!schema) {
		fprintf(stderr, "ctdlab: %s is not a ctdlab snapshot (no ctdlab_snapshot table)\n",
			file);
		rc = -1;
	} else if (atoi(schema) != schema_migrations_count) {
		fprintf(stderr,
			"ctdlab: %s has schema version %s (saved by ctdlab %s); this ctdlab %s uses "
			"schema version %d: incompatible snapshot, not loaded (load it with the "
			"ctdlab that saved it, or start over with `ctdlab reset`)\n",
			file, schema, version ? version : "?", CTDLAB_VERSION,
			schema_migrations_count);
		rc = -1;
	}
	free(schema);
	free(version);
	return rc;
}

static int restore_into(const lab *l, sqlite3 *snap)
{
	char *db_path = xasprintf("%s/lab.db", l->dir);
	mkdir_p(l->dir, 0755, NULL);
	sqlite3 *dst = open_db(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = dst && copy_db(dst, snap, "snapshot load") == 0 &&
			 exec_sql(dst, "DROP TABLE ctdlab_snapshot; PRAGMA journal_mode=WAL;") == 0
		 ? 0
		 : -1;
	sqlite3_close(dst);
	free(db_path);
	return rc;
}

static int snapshot_load(const lab *l, const char *file)
{
	sqlite3 *snap = open_db(file, SQLITE_OPEN_READONLY);
	if (!snap)
		return 1;
	if (check_compatible(snap, file) < 0) {
		sqlite3_close(snap);
		return 1;
	}
	int was_running = 0;
	for (int i = 0; i < lab_nappliances; i++)
		was_running |= lab_pid(l, &lab_appliances[i]) != 0;
	if (was_running) {
		printf("ctdlab: stopping the lab to load %s (daemons reload their caches)\n", file);
		cmd_down(l, 0, NULL);
	}
	int rc = restore_into(l, snap);
	sqlite3_close(snap);
	if (rc != 0)
		return 1;
	printf("ctdlab: loaded %s into %s\n", file, l->dir);
	return was_running ? cmd_up(l, 0, NULL) : 0;
}

int cmd_snapshot(const lab *l, int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[0], "save") != 0 && strcmp(argv[0], "load") != 0)) {
		usage();
		return 2;
	}
	return strcmp(argv[0], "save") == 0 ? snapshot_save(l, argv[1])
					    : snapshot_load(l, argv[1]);
}
