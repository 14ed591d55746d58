/* test_store_answer.c - unit tests of the kept read answers (store_answer.c):
 * served again while nothing changed, fresh after a write by the same
 * connection, another connection, another process or a thread beside it;
 * keys that never share; the clock bound; errors and oversized answers never
 * kept. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store.h"
#include "store_answer.h"
#include "util.h"
#include "testlib.h"

static char *dir;
static char *dbpath;

static void setup(void)
{
	dir = tl_tmpdir("answer");
	dbpath = xasprintf("%s/lab.db", dir);
}

static void teardown(void)
{
	tl_rmrf(dir);
	free(dir);
	free(dbpath);
}

static store *open_ok(void)
{
	store *st;
	ctd_err err = {0};
	ck_assert_msg(store_open(dbpath, &st, &err) == 0, "store_open: %s", err.msg);
	return st;
}

static void set(store *st, const char *key, const char *value)
{
	ctd_err err = {0};
	ck_assert_msg(store_setting_set(st, "t", key, value, &err) == 0, "%s", err.msg);
}

/* What a build saw and how it ends. */
typedef struct probe {
	int builds;
	int fail;          /* the build fails (CTD_ESTORE) */
	int64_t until_ms;  /* the answer holds until then (0: always) */
	size_t pad;        /* bytes appended to the answer */
} probe;

/* The answer: the "t" settings as "k=v,...". */
static int build_settings(store *st, void *arg, int64_t now_ms, sbuf *out, int64_t *until_ms,
			  ctd_err *err)
{
	probe *p = arg;
	p->builds++;
	sbuf_puts(out, "[");
	if (p->fail)
		return ctd_fail(err, CTD_ESTORE, "probe fails");
	sqlite3_stmt *s = store_stmt(st,
		"SELECT group_concat(key || '=' || value, ',') FROM"
		" (SELECT key, value FROM settings WHERE ns = 't' ORDER BY key)", err);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	const char *text = (const char *)sqlite3_column_text(s, 0);
	sbuf_puts(out, text ? text : "");
	sqlite3_reset(s);
	for (size_t i = 0; i < p->pad; i++)
		sbuf_puts(out, ".");
	sbuf_puts(out, "]");
	if (p->until_ms)
		*until_ms = p->until_ms;
	return 0;
}

/* The answer for key at now_ms, into a fresh malloc'd string. */
static char *answer_at(store *st, const char *key, int64_t now_ms, probe *p)
{
	sbuf out = {0};
	sbuf_puts(&out, "<"); /* the answer is appended to what out holds */
	ctd_err err = {0};
	ck_assert_msg(store_answer(st, key, now_ms, build_settings, p, &out, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(out.data[0], '<');
	return sbuf_detach(&out);
}

static void expect(store *st, const char *key, probe *p, const char *want, int builds)
{
	char *got = answer_at(st, key, 1000, p);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(p->builds, builds);
	free(got);
}

TEST(test_reused_while_unchanged)
{
	store *st = open_ok();
	set(st, "a", "1");
	probe p = {0};
	expect(st, "k", &p, "<[a=1]", 1);
	expect(st, "k", &p, "<[a=1]", 1);
	expect(st, "k", &p, "<[a=1]", 1);
	store_answer_counts n = store_answer_counts_of(st);
	ck_assert_uint_eq(n.built, 1);
	ck_assert_uint_eq(n.reused, 2);
	store_close(st);
}

/* The writers of a = 2: this connection, another one in the process,
 * another process. */
static void write_own(store *st)
{
	set(st, "a", "2");
}

static void write_other_connection(store *st)
{
	store *other = open_ok();
	set(other, "a", "2");
	store_close(other);
}

static void write_other_process(store *st)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		store *child;
		_exit(store_open(dbpath, &child, NULL) == 0 &&
				      store_setting_set(child, "t", "a", "2", NULL) == 0
			      ? 0
			      : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void (*const writers[])(store *) = {write_own, write_other_connection,
					    write_other_process};

TEST_LOOP(test_any_write_makes_it_fresh, 0, 3)
{
	store *st = open_ok();
	set(st, "a", "1");
	probe p = {0};
	expect(st, "k", &p, "<[a=1]", 1);
	expect(st, "k", &p, "<[a=1]", 1);
	writers[_i](st);
	expect(st, "k", &p, "<[a=2]", 2);
	expect(st, "k", &p, "<[a=2]", 2);
	store_close(st);
}

TEST(test_keys_never_share)
{
	store *st = open_ok();
	set(st, "a", "1");
	probe p = {0};
	sbuf k1 = {0}, k2 = {0}, k3 = {0}, k4 = {0};
	answer_key_str(&k1, "ab");
	answer_key_str(&k1, "c");
	answer_key_str(&k2, "a");
	answer_key_str(&k2, "bc");
	answer_key_str(&k3, NULL);
	answer_key_str(&k4, "");
	ck_assert_str_ne(k1.data, k2.data);
	ck_assert_str_ne(k3.data, k4.data);
	sbuf i1 = {0}, i2 = {0};
	answer_key_int(&i1, 12);
	answer_key_int(&i1, 3);
	answer_key_int(&i2, 1);
	answer_key_int(&i2, 23);
	ck_assert_str_ne(i1.data, i2.data);
	/* each key its own answer: a build each, then each served again */
	expect(st, k1.data, &p, "<[a=1]", 1);
	p.pad = 1;
	expect(st, k2.data, &p, "<[a=1.]", 2);
	p.pad = 2;
	expect(st, k3.data, &p, "<[a=1..]", 3);
	expect(st, k1.data, &p, "<[a=1]", 3);
	expect(st, k2.data, &p, "<[a=1.]", 3);
	expect(st, k3.data, &p, "<[a=1..]", 3);
	sbuf_free(&k1);
	sbuf_free(&k2);
	sbuf_free(&k3);
	sbuf_free(&k4);
	sbuf_free(&i1);
	sbuf_free(&i2);
	store_close(st);
}

TEST(test_more_keys_than_slots)
{
	store *st = open_ok();
	probe p = {0};
	char key[16];
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof key, "k%d", i);
		free(answer_at(st, key, 1000, &p));
	}
	ck_assert_int_eq(p.builds, 20);
	/* the most recent is still kept, the first one gave its slot up */
	free(answer_at(st, "k19", 1000, &p));
	ck_assert_int_eq(p.builds, 20);
	free(answer_at(st, "k0", 1000, &p));
	ck_assert_int_eq(p.builds, 21);
	store_close(st);
}

TEST(test_clock_bound)
{
	store *st = open_ok();
	probe p = {.until_ms = 2000};
	free(answer_at(st, "k", 1000, &p));
	free(answer_at(st, "k", 1999, &p));
	ck_assert_int_eq(p.builds, 1);
	free(answer_at(st, "k", 2000, &p)); /* reached its bound */
	ck_assert_int_eq(p.builds, 2);
	p.until_ms = 5000;
	free(answer_at(st, "k", 2000, &p));
	ck_assert_int_eq(p.builds, 3);
	free(answer_at(st, "k", 1500, &p)); /* a clock set back: before it was built */
	ck_assert_int_eq(p.builds, 4);
	store_close(st);
}

TEST(test_errors_never_kept)
{
	store *st = open_ok();
	probe p = {.fail = 1};
	sbuf out = {0};
	sbuf_puts(&out, "<");
	ctd_err err = {0};
	ck_assert_int_eq(store_answer(st, "k", 1000, build_settings, &p, &out, &err), -1);
	ck_assert_int_eq(err.code, CTD_ESTORE);
	ck_assert_str_eq(out.data, "<"); /* nothing half-written */
	ck_assert_int_eq(store_answer(st, "k", 1000, build_settings, &p, &out, &err), -1);
	ck_assert_int_eq(p.builds, 2);
	p.fail = 0;
	sbuf_free(&out);
	expect(st, "k", &p, "<[]", 3);
	expect(st, "k", &p, "<[]", 3);
	store_close(st);
}

TEST(test_large_answers_not_kept)
{
	store *st = open_ok();
	probe p = {.pad = 600 * 1024};
	free(answer_at(st, "k", 1000, &p));
	free(answer_at(st, "k", 1000, &p));
	ck_assert_int_eq(p.builds, 2);
	store_close(st);
}

TEST(test_inside_a_transaction_builds)
{
	store *st = open_ok();
	probe p = {0};
	expect(st, "k", &p, "<[]", 1);
	ctd_err err = {0};
	ck_assert_int_eq(store_begin(st, &err), 0);
	set(st, "a", "1");
	/* the caller's uncommitted write shows: nothing kept is trusted */
	expect(st, "k", &p, "<[a=1]", 2);
	store_rollback(st);
	/* rolled back, the file is what the kept answer was built from */
	expect(st, "k", &p, "<[]", 2);
	store_close(st);
}

/* Readers on their own connections while this thread writes: each sees the
 * value only grow and, once the writer is done, its final value. */
typedef struct reader_arg {
	int done_value;
} reader_arg;

static void *reader(void *arg)
{
	reader_arg *r = arg;
	store *st = store_get(NULL);
	ck_assert_ptr_nonnull(st);
	probe p = {0};
	int last = 0;
	for (;;) {
		char *got = answer_at(st, "k", 1000, &p);
		int v = 0;
		if (strncmp(got, "<[n=", 4) == 0)
			v = atoi(got + 4);
		ck_assert_int_ge(v, last);
		last = v;
		free(got);
		if (v == r->done_value)
			break;
	}
	return NULL;
}

TEST(test_threads_see_every_commit)
{
	store_set_path(dbpath);
	store *w = open_ok();
	reader_arg r = {.done_value = 200};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &r), 0);
	char v[16];
	for (int i = 1; i <= r.done_value; i++) {
		snprintf(v, sizeof v, "%d", i);
		set(w, "n", v);
	}
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	store_close(w);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
