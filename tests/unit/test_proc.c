/* test_proc.c - unit tests of common/proc.c: stdout and stderr captured
 * apart or merged, stdin fed, the exit status, the output bound, the
 * working directory, a program that cannot start, and the timeout. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "proc.h"
#include "testlib.h"

START_TEST(test_captures_output_and_status)
{
	const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	proc_result r;
	ctd_err err;
	ck_assert_int_eq(proc_run(argv, NULL, &r, &err), 0);
	ck_assert_int_eq(r.status, 3);
	ck_assert_str_eq(r.out, "out\n");
	ck_assert_str_eq(r.err, "err\n");
	proc_result_free(&r);

	proc_opts o = {.merge_stderr = 1, .dir = "/"};
	const char *pwd[] = {"/bin/sh", "-c", "pwd; echo err >&2", NULL};
	ck_assert_int_eq(proc_run(pwd, &o, &r, &err), 0);
	ck_assert_str_eq(r.out, "/\nerr\n");
	ck_assert_str_eq(r.err, "");
	proc_result_free(&r);
}
END_TEST

START_TEST(test_feeds_stdin)
{
	static char big[300000];
	memset(big, 'x', sizeof big);
	const char *argv[] = {"/usr/bin/wc", "-c", NULL};
	proc_opts o = {.input = big, .input_len = sizeof big};
	proc_result r;
	ctd_err err;
	ck_assert_int_eq(proc_run(argv, &o, &r, &err), 0);
	ck_assert_int_eq(atoi(r.out), (int)sizeof big);
	proc_result_free(&r);

	/* a child that reads nothing: no SIGPIPE kills us */
	const char *deaf[] = {"/bin/true", NULL};
	ck_assert_int_eq(proc_run(deaf, &o, &r, &err), 0);
	ck_assert_int_eq(r.status, 0);
	proc_result_free(&r);
}
END_TEST

START_TEST(test_output_is_bounded)
{
	const char *argv[] = {"/bin/sh", "-c", "head -c 100000 /dev/zero", NULL};
	proc_opts o = {.max_output = 1000};
	proc_result r;
	ctd_err err;
	ck_assert_int_eq(proc_run(argv, &o, &r, &err), 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out_len, 1000);
	ck_assert_int_eq(r.truncated, 1);
	proc_result_free(&r);
}
END_TEST

START_TEST(test_cannot_start)
{
	const char *argv[] = {"/nonexistent/tool", NULL};
	proc_result r;
	ctd_err err;
	ck_assert_int_eq(proc_run(argv, NULL, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/tool"));
	proc_result_free(&r);
	const char *none[] = {NULL};
	ck_assert_int_eq(proc_run(none, NULL, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
}
END_TEST

START_TEST(test_timeout_kills)
{
	const char *argv[] = {"/bin/sleep", "600", NULL};
	proc_opts o = {.timeout_ms = 100};
	proc_result r;
	ctd_err err;
	ck_assert_int_eq(proc_run(argv, &o, &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EBUSY);
	ck_assert(r.timed_out && r.status == 128 + 9);
	proc_result_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_captures_output_and_status);
	tcase_add_test(tc, test_feeds_stdin);
	tcase_add_test(tc, test_output_is_bounded);
	tcase_add_test(tc, test_cannot_start);
	tcase_add_test(tc, test_timeout_kills);
	suite_add_tcase(s, tc);
	return tl_run_suite(s);
}
