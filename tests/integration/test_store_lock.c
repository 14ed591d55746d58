/* test_store_lock.c - the store under another process's lock, over the five
 * real daemons sharing one lab.db (issue 16, point 7): while this test holds
 * BEGIN IMMEDIATE on lab.db, every daemon's /healthz answers 200, TMCM's feed
 * (a product's heartbeat and page pull) answers, and a console write answers
 * 503 with Retry-After instead of hanging; once the lock is gone the write
 * goes through. Then the WAL: grown by many writes, it is truncated by the
 * daemons' checkpoint worker. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dtas.h"
#include "testlib.h"
#include "util.h"

#define SECRET "Lock-Test-Secret-1"
#define WAL_GROWTH (8L * 1024 * 1024)

typedef struct appliance {
	const char *daemon, *name;
	const char *args[12];
	pid_t pid;
	json_t *ready;
} appliance;

static appliance lab[] = {
	{"ddand", "ddan", {"--api_key", SECRET, NULL}},
	{"ddid", "ddi", {"--api_key", SECRET, "--interface", "ddi-none0", NULL}},
	{"imsvad", "imsva", {"--smtp_port", "0", "--admin_password", SECRET, NULL}},
	{"spsd", "sps", {"--wrs_port", "0", "--api_key", SECRET, "--tmcm_url", "", NULL}},
	{"tmcmd", "tmcm", {"--console_password", SECRET, NULL}},
};
#define NLAB (sizeof lab / sizeof lab[0])
enum { SPS = 3, TMCM = 4 };

static char *home, *db_path;

static void start_lab(void)
{
	home = tl_tmpdir("store-lock");
	db_path = xasprintf("%s/lab.db", home);
	for (size_t i = 0; i < NLAB; i++) {
		const char *args[20] = {"--port", "0", "--store_checkpoint", "200ms"};
		int n = 4;
		for (const char *const *a = lab[i].args; *a; a++)
			args[n++] = *a;
		lab[i].pid = tl_spawn_daemon(lab[i].daemon, home, args);
	}
	for (size_t i = 0; i < NLAB; i++) {
		lab[i].ready = tl_wait_ready(home, lab[i].name, TL_START_MS);
		ck_assert_msg(lab[i].ready != NULL, "%s did not start", lab[i].daemon);
	}
}

static void stop_lab(void)
{
	tl_stop_all();
	for (size_t i = 0; i < NLAB; i++)
		json_decref(lab[i].ready);
	tl_rmrf(home);
	free(home);
	free(db_path);
}

static const char *url_of(size_t i)
{
	const char *u = tl_listener(lab[i].ready, "https");
	return u ? u : tl_listener(lab[i].ready, "http");
}

/* This test's own connection to the lab's store. */
static sqlite3 *open_db(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 30000);
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

static dtas_client feed_client(void)
{
	json_t *info = json_object_get(lab[TMCM].ready, "info");
	return (dtas_client){
		.base_url = (char *)url_of(TMCM),
		.api_key = (char *)json_string_value(json_object_get(info, "imsva_feed_key")),
		.client_uuid = "aaaaaaaa-bbbb-cccc-dddd-00000000000f",
		.product_name = "IMSVA",
		.hostname = "imsva.lab",
		.source_id = "103",
		.source_name = "IMSVA",
		.protocol_version = "1.5",
	};
}

static long add_sps_rule(const char *pattern, http_response *r)
{
	const char *headers[] = {"X-API-Key: " SECRET, NULL};
	char *body = xasprintf("{\"type\":\"url\",\"pattern\":\"%s\",\"action\":\"block\"}",
			       pattern);
	char *u = xasprintf("%s/api/lists", url_of(SPS));
	long status = tl_http("POST", u, headers, body, r);
	free(u);
	free(body);
	return status;
}

TEST(test_health_and_reads_answer_while_locked)
{
	start_lab();
	dtas_client feed = feed_client();
	ctd_err err = {0};
	ck_assert_msg(dtas_register(&feed, &err) == 0, "register: %s", err.msg);

	sqlite3 *db = open_db();
	exec(db, "BEGIN IMMEDIATE");
	/* every answer below comes while this test holds the write lock */
	for (size_t i = 0; i < NLAB; i++) {
		char *u = xasprintf("%s/healthz", url_of(i));
		long status;
		json_t *h = tl_http_json("GET", u, NULL, NULL, &status);
		ck_assert_msg(status == 200, "%s /healthz: %ld under a writer", lab[i].name, status);
		ck_assert_str_eq(json_string_value(json_object_get(h, "store")), "ok");
		json_decref(h);
		free(u);
	}
	ck_assert_msg(dtas_test_connection(&feed, &err) == 0, "heartbeat: %s", err.msg);
	http_response r;
	ck_assert_int_eq(dtas_call(&feed, "GET", "get_black_lists", NULL, NULL, 0, NULL, 0, &r, &err),
			 0);
	ck_assert_int_eq(r.status, 200);
	http_response_free(&r);
	/* a write waits its budget, then 503 with Retry-After */
	ck_assert_int_eq(add_sps_rule("http://locked.example/", &r), 503);
	const char *retry = http_response_header(&r, "Retry-After");
	ck_assert_ptr_nonnull(retry);
	ck_assert_int_ge(atoi(retry), 1);
	http_response_free(&r);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 0); /* the lock was held throughout */
	exec(db, "ROLLBACK");
	sqlite3_close(db);

	long status = add_sps_rule("http://unlocked.example/", &r);
	ck_assert_msg(status == 200 || status == 201, "write after the lock: %ld", status);
	http_response_free(&r);
	stop_lab();
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

TEST(test_wal_truncated_after_many_writes)
{
	start_lab();
	sqlite3 *db = open_db();
	exec(db, "CREATE TABLE IF NOT EXISTS test_scratch (blob BLOB)");
	char *wal = xasprintf("%s-wal", db_path);
	long long largest = 0;
	for (long written = 0; written < WAL_GROWTH; written += 64 * 1024) {
		exec(db, "BEGIN IMMEDIATE; INSERT INTO test_scratch VALUES (randomblob(65536));"
			 " DELETE FROM test_scratch; COMMIT");
		long long now = file_size(wal);
		largest = now > largest ? now : largest;
	}
	sqlite3_close(db);
	ck_assert_int_ge(largest, 1024 * 1024);
	/* the daemons' checkpoint worker (every 200 ms here) truncates it */
	long long size = file_size(wal);
	for (int i = 0; i < 300 && size >= 1024 * 1024; i++) {
		tl_sleep_ms(100);
		size = file_size(wal);
	}
	ck_assert_msg(size < 1024 * 1024, "WAL still %lld bytes", size);
	free(wal);
	stop_lab();
}

TL_SUITE(.timeout = 180);
