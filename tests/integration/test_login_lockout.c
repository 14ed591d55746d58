/* test_login_lockout.c - logins like an appliance's, over a real imsvad
 * (issue 16, point 4): failed logins lock the account and the client address
 * out (429 with Retry-After, the right password refused too) until the
 * configured lockout has passed; the failed-login rows of IMSVA's system log
 * stop growing while locked; a user name with a newline is logged escaped, in
 * the daemon's log and in the log row; and the data directory is private
 * (0700, every file 0600) even when it was created open. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testlib.h"
#include "util.h"

#define PASSWORD "Lockout-Secret-1"
#define MAX_FAILURES 3

static char *home;
static char *console;
static pid_t pid;

static void start_imsva(void)
{
	home = tl_tmpdir("lockout");
	/* an open data directory, as an older version left it */
	char *run = xasprintf("%s/run", home);
	ck_assert_int_eq(mkdir(run, 0755), 0);
	ck_assert_int_eq(chmod(home, 0755), 0);
	char *db = xasprintf("%s/lab.db", home);
	ck_assert_int_eq(file_write_atomic(db, "", 0, 0644, NULL), 0);
	free(db);
	free(run);
	const char *args[] = {"--port", "0", "--smtp_port", "0", "--admin_password", PASSWORD,
			      "--login_max_failures", "3", "--login_lockout", "1s", NULL};
	pid = tl_spawn_daemon("imsvad", home, args);
	json_t *ready = tl_wait_ready(home, "imsva", TL_START_MS);
	ck_assert_msg(ready != NULL, "imsvad did not start");
	console = xstrdup(tl_listener(ready, "https"));
	json_decref(ready);
}

static void stop_imsva(void)
{
	tl_stop_all();
	tl_rmrf(home);
	free(home);
	free(console);
}

/* POST /api/login; the Retry-After header (0 when none) into *retry. */
static long login(const char *user, const char *password, long *retry)
{
	json_t *body = json_pack("{s:s, s:s}", "username", user, "password", password);
	char *text = json_dumps(body, 0);
	char *url = xasprintf("%s/api/login", console);
	http_response r;
	long status = tl_http("POST", url, NULL, text, &r);
	const char *ra = http_response_header(&r, "Retry-After");
	*retry = ra ? strtol(ra, NULL, 10) : 0;
	http_response_free(&r);
	free(url);
	free(text);
	json_decref(body);
	return status;
}

/* Poll until the right password logs in again (the lockout has passed). */
static void wait_unlocked(void)
{
	long retry;
	for (int i = 0; i < 300; i++) {
		if (login("admin", PASSWORD, &retry) == 200)
			return;
		tl_sleep_ms(100);
	}
	ck_abort_msg("still locked out after 30 s (lockout is 1 s)");
}

/* The text of IMSVA's system log rows (as the logs API returns them). */
static char *system_log(void)
{
	char *url = xasprintf("%s/api/login", console);
	json_t *session = tl_http_json("POST", url, NULL,
				       "{\"username\":\"admin\",\"password\":\"" PASSWORD "\"}", NULL);
	ck_assert_ptr_nonnull(session);
	char *auth = xasprintf("Authorization: Bearer %s",
			       json_string_value(json_object_get(session, "token")));
	json_decref(session);
	free(url);
	url = xasprintf("%s/api/logs?type=system&limit=1000", console);
	const char *headers[] = {auth, NULL};
	http_response r;
	long status = tl_http("GET", url, headers, NULL, &r);
	ck_assert_int_eq(status, 200);
	char *text = xstrdup(r.body.data);
	http_response_free(&r);
	free(auth);
	free(url);
	return text;
}

static int count_of(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Failed-login rows: each carries its message twice (reason, detail). */
static int failed_rows(const char *text)
{
	return count_of(text, "failed log on for") / 2;
}

static void assert_private(const char *rel, int dir)
{
	char *path = xasprintf("%s%s%s", home, *rel ? "/" : "", rel);
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "%s missing", path);
	ck_assert_msg((st.st_mode & 077) == 0, "%s has mode %o", path, st.st_mode & 0777);
	ck_assert_int_eq(S_ISDIR(st.st_mode) ? 1 : 0, dir);
	free(path);
}

TEST(test_lockout_then_expiry_and_bounded_rows)
{
	start_imsva();
	long retry;
	for (int i = 0; i < MAX_FAILURES; i++)
		ck_assert_int_eq(login("admin", "guess", &retry), 401);
	/* locked: the right password too, with the time to wait */
	ck_assert_int_eq(login("admin", PASSWORD, &retry), 429);
	ck_assert_int_ge(retry, 1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(login("admin", "guess", &retry), 429);
	wait_unlocked();
	char *rows = system_log();
	ck_assert_int_eq(failed_rows(rows), MAX_FAILURES);
	free(rows);

	/* one address trying made-up accounts: the address is locked */
	ck_assert_int_eq(login("u1", "x", &retry), 401);
	ck_assert_int_eq(login("u2", "x", &retry), 401);
	ck_assert_int_eq(login("u3", "x", &retry), 401);
	ck_assert_int_eq(login("admin", PASSWORD, &retry), 429);
	wait_unlocked();

	/* a name with a newline cannot forge a line, in the log or the row */
	ck_assert_int_eq(login("evil\nforged level=error event=admin.granted", "x", &retry), 401);
	rows = system_log();
	ck_assert_int_eq(failed_rows(rows), 2 * MAX_FAILURES + 1);
	ck_assert_msg(strstr(rows, "evil\\\\nforged") != NULL, "not escaped: %s", rows);
	ck_assert_ptr_null(strstr(rows, "evil\\nforged"));
	free(rows);
	char *logpath = xasprintf("%s/imsvad.log", home), *log = NULL;
	ck_assert_int_eq(file_read(logpath, &log, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(log, "evil\\nforged"));
	ck_assert_ptr_null(strstr(log, "\nforged"));
	free(log);
	free(logpath);
	stop_imsva();
}

TEST(test_data_dir_private)
{
	start_imsva();
	assert_private("", 1);
	assert_private("run", 1);
	assert_private("tls", 1);
	static const char *const files[] = {"lab.db", "lab.db-wal", "lab.db-shm", "run/imsva.pid",
					    "run/imsva.json", "tls/lab.key", "tls/lab.crt"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		assert_private(files[i], 0);
	stop_imsva();
}

TL_SUITE(.timeout = 120);
