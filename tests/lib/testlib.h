/* testlib.h - helpers for integration tests: temp data directories, starting
 * real daemons from bin/ on ephemeral ports, waiting on their readiness file,
 * stopping every process a test starts, and small protocol clients. Tests run
 * from the repository root. */
#ifndef CTD_TESTLIB_H
#define CTD_TESTLIB_H

#include <sys/types.h>
#include <jansson.h>
#include <check.h>
#include "http_client.h"

/* Run every test of s; the process exit status (0 when all passed). */
int tl_run_suite(Suite *s);
/* The same with a fork status (CK_NOFORK: tests share this process). */
int tl_run_suite_fork(Suite *s, enum fork_status fork);

/* Registering tests: a test file is a list of
 *
 *	TEST(name) { ...ck_assert... }
 *
 * and needs no main(): libtestlib's main runs every registered test of the
 * program, in file order, as one Check suite named after the program. Options
 * of the file's test case (all optional) go in one line:
 *
 *	TL_SUITE(.timeout = 60, .setup = setup, .teardown = teardown);
 *
 * .setup/.teardown run around each test (checked fixture), .suite_setup/
 * .suite_teardown once (unchecked fixture), .nofork runs the tests in the
 * main process (one daemon shared by the whole file). A second test case
 * with its own options: TL_CASE("store", .setup = ...) and TEST_IN("store",
 * name). TEST_LOOP(name, from, to) runs the body with _i in [from, to). */
typedef struct tl_case {
	const char *name; /* NULL: the file's default test case */
	int timeout;      /* seconds; 0 keeps Check's default */
	void (*setup)(void);
	void (*teardown)(void);
	void (*suite_setup)(void);
	void (*suite_teardown)(void);
	int nofork;
} tl_case;

void tl_register(const TTest *test, const char *tcase, int from, int to);
void tl_configure(const tl_case *options);

#define TL_TEST_(name, tcase, from, to)                                                     \
	static void name##_fn(int _i CK_ATTRIBUTE_UNUSED);                                  \
	static const TTest name##_ttest = {#name, name##_fn, __FILE__, __LINE__};           \
	__attribute__((constructor)) static void name##_register(void)                      \
	{                                                                                   \
		tl_register(&name##_ttest, tcase, from, to);                                \
	}                                                                                   \
	static void name##_fn(int _i CK_ATTRIBUTE_UNUSED)
#define TEST(name) TL_TEST_(name, NULL, 0, 1)
#define TEST_IN(tcase, name) TL_TEST_(name, tcase, 0, 1)
#define TEST_LOOP(name, from, to) TL_TEST_(name, NULL, from, to)

#define TL_CASE_(id, ...)                                                                   \
	static const tl_case tl_case_##id = {__VA_ARGS__};                                  \
	__attribute__((constructor)) static void tl_case_##id##_register(void)              \
	{                                                                                   \
		tl_configure(&tl_case_##id);                                                \
	}                                                                                   \
	struct tl_case_##id##_semicolon
#define TL_SUITE(...) TL_CASE_(default, .name = NULL, __VA_ARGS__)
#define TL_CASE_AT_(line, label, ...) TL_CASE_(line, .name = label, __VA_ARGS__)
#define TL_CASE(label, ...) TL_CASE_AT_(__LINE__, label, __VA_ARGS__)

/* A fresh directory under $TMPDIR (or /tmp); remove with tl_rmrf. */
char *tl_tmpdir(const char *tag);
void tl_rmrf(const char *dir);
/* Sleep between polls of a bounded wait (never as a test's timing). */
void tl_sleep_ms(long ms);
/* 1 when a socket can listen on ::1; tests of IPv6 listeners skip
 * (with a message naming why) when it cannot. */
int tl_ipv6_loopback(void);
/* A TCP port that was free on 127.0.0.1 a moment ago. */
int tl_free_port(void);
/* Path of <name> in $CTDLAB_BINDIR (make sets it; default bin/), malloc'd. */
char *tl_bin(const char *name);

/* Start bin/<daemon> with the NULL-terminated extra args after
 * `--home <home>`; stdout/stderr go to <home>/<daemon>.log. Returns the pid.
 * Every spawned pid is remembered and killed by tl_stop_all (also at exit). */
pid_t tl_spawn_daemon(const char *daemon, const char *home, const char *const *args);
/* Run a command (argv[0] a path) to completion; returns its exit status, -1
 * when it could not start; stdout and stderr into *out (malloc'd, may be NULL). */
int tl_run(const char *const *argv, char **out);
/* Wait until <home>/run/<appliance>.json exists and parses (timeout in ms).
 * Returns the parsed file (caller decrefs) or NULL. */
json_t *tl_wait_ready(const char *home, const char *appliance, int timeout_ms);
/* How long a daemon may take to start in a test: generous, because making the
 * lab certificate's RSA key under TSan on a loaded two-core machine takes more
 * than 10 s; a wait on readiness costs nothing when the daemon is quick. */
#define TL_START_MS 60000
/* The URL of listener `name` ("http", "https", "smtp"...) from a ready file. */
const char *tl_listener(json_t *ready, const char *name);
/* Under `ctdlab up`'s supervisor, after the appliance's daemon old was
 * killed: wait (up to TL_START_MS) until its ready file names another pid
 * whose main listener answers /healthz, and return that ready file; asserts
 * it comes. */
json_t *tl_wait_restarted(const char *home, const char *appliance, pid_t old);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the exit status, or
 * -1 if it had to be killed. */
int tl_stop(pid_t pid, int timeout_ms);
void tl_stop_all(void);
int tl_pid_alive(pid_t pid);

/* One daemon in a fresh home (tl_tmpdir): started with args after --home,
 * waited on (asserted ready), its main listener's URL (https, else http). */
typedef struct tl_daemon {
	char *home, *url;
	pid_t pid;
	json_t *ready;
} tl_daemon;
void tl_daemon_start(tl_daemon *d, const char *daemon, const char *appliance,
		     const char *const *args);
/* Stop it (asserting a clean exit) and remove its home. */
void tl_daemon_stop(tl_daemon *d);

/* Environment for a whole lab on ephemeral ports (ctdlab up inherits it);
 * DDI's live capture off so tests do not depend on capture privileges. */
void tl_lab_env(void);
/* Run bin/ctdlab --dir <dir> <args...> (dir NULL: bin/ctdlab <args...>, the
 * lab being the --dir among args); returns its exit status, output in *out
 * (malloc'd, may be NULL). A lab brought up is stopped at exit. */
int tl_ctdlab(const char *dir, const char *const *args, char **out);

/* HTTP(S) without TLS verification; returns the status, -1 when no answer.
 * body/headers may be NULL. resp must be freed with http_response_free. */
long tl_http(const char *method, const char *url, const char *const *headers, const char *body,
	     http_response *resp);
/* GET url and parse JSON; NULL on failure. */
json_t *tl_http_json(const char *method, const char *url, const char *const *headers,
		     const char *body, long *status);

/* One sample of base's GET /metrics: series is the name with its labels as
 * exposed, e.g. `ctdlab_store_answers_total{outcome="reused"}`; 0 when absent. */
double tl_metric(const char *base, const char *series);

/* method base+path; asserts the answer's status is want; the JSON or NULL. */
json_t *tl_api(const char *base, const char *method, const char *path,
	       const char *const *headers, const char *body, long want);

/* A minimal SMTP client session over a plain TCP socket (host: an IPv4 or
 * IPv6 literal). */
typedef struct tl_smtp tl_smtp;
tl_smtp *tl_smtp_connect(const char *host, int port);
/* Send one line (CRLF added) and read the full reply; returns the code. The
 * reply text (all lines) is kept until the next call: tl_smtp_reply(). */
int tl_smtp_cmd(tl_smtp *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Send raw bytes with no reply read (pipelining, DATA content). */
void tl_smtp_raw(tl_smtp *s, const char *data, size_t len);
/* Read one full reply; returns the code. */
int tl_smtp_read(tl_smtp *s);
const char *tl_smtp_reply(const tl_smtp *s);
void tl_smtp_close(tl_smtp *s);
/* Whole transaction: EHLO, MAIL, RCPT..., DATA, message, QUIT. Returns the
 * code after the final "." (250 when accepted). */
int tl_smtp_send(const char *host, int port, const char *from, const char *const *rcpts,
		 const char *message);

#endif
