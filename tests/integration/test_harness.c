/* test_harness.c - the build and test harness itself: TEST() registration
 * (loops, a second test case with its fixture, file order), tests/run.sh -j
 * (totals, exit status, a failing program's output kept together), make's
 * T= selection, and objects rebuilt when the compiler flags change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

static int loop_runs, fixture_ran;

TEST_LOOP(test_loop_index_in_range, 3, 5)
{
	ck_assert(_i >= 3 && _i < 5);
	loop_runs++;
}

/* One process for all tests of this file (nofork): the loop ran twice, in
 * file order before this test. */
TEST(test_registered_in_file_order)
{
	ck_assert_int_eq(loop_runs, 2);
}

static void mark_fixture(void)
{
	fixture_ran = 1;
}

TEST_IN("fixture", test_second_case_has_its_fixture)
{
	ck_assert_int_eq(fixture_ran, 1);
}

/* A fake test program: prints a Check summary, exits with rc. */
static char *fake_program(const char *dir, const char *name, const char *summary, int rc)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho 'output of %s'\necho '%s'\nexit %d\n", name, summary, rc);
	fclose(f);
	chmod(path, 0755);
	return path;
}

TEST(test_run_sh_parallel_totals)
{
	char *dir = tl_tmpdir("harness");
	char *good = fake_program(dir, "good", "100%: Checks: 2, Failures: 0, Errors: 0", 0);
	char *bad = fake_program(dir, "bad", "50%: Checks: 2, Failures: 1, Errors: 0", 1);
	const char *argv[] = {"tests/run.sh", "-j", "2", good, bad, good, NULL};
	char *out = NULL;
	int rc = tl_run(argv, &out);
	ck_assert_msg(rc != 0, "a failing program must fail the run:\n%s", out);
	ck_assert_msg(strstr(out, "5 passed, 1 failed\n"), "totals:\n%s", out);
	ck_assert_msg(strstr(out, "  FAIL  bad ") && strstr(out, "        output of bad\n"),
		      "the failing program's output follows its line:\n%s", out);
	ck_assert_msg(!strstr(out, "output of good"), "a passing program stays quiet:\n%s", out);
	free(out);
	const char *ok[] = {"tests/run.sh", "-j2", good, good, NULL};
	ck_assert_int_eq(tl_run(ok, &out), 0);
	ck_assert_msg(strstr(out, "4 passed, 0 failed\n"), "totals:\n%s", out);
	free(out);
	free(good);
	free(bad);
	tl_rmrf(dir);
	free(dir);
}

/* The make under test is not a sub-make of the one running the suite. */
static void own_make(void)
{
	unsetenv("MAKEFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("MFLAGS");
}

TEST(test_make_check_t_selects_programs)
{
	own_make();
	const char *argv[] = {"/usr/bin/env", "make", "-n", "--no-print-directory", "check", "T=test_harness test_hash",
			      NULL};
	char *out = NULL;
	tl_run(argv, &out);
	const char *run = strstr(out, "tests/run.sh -j");
	ck_assert_msg(run != NULL, "no run.sh line:\n%s", out);
	char *line = xstrndup(run, strcspn(run, "\n"));
	ck_assert_msg(strstr(line, "/test_harness") && strstr(line, "/test_hash"), "%s", line);
	ck_assert_msg(!strstr(line, "test_util") && !strstr(line, "test_lab"), "%s", line);
	free(line);
	free(out);
}

/* make BUILD=<tmp> <tmp>/common/err.o with the given OPT; the output. */
static char *build_err_o(const char *build, const char *opt)
{
	char *b = xasprintf("BUILD=%s", build), *o = xasprintf("OPT=%s", opt);
	char *target = xasprintf("%s/common/err.o", build);
	const char *argv[] = {"/usr/bin/env", "make", "--no-print-directory", b, o, target, NULL};
	char *out = NULL;
	ck_assert_int_eq(tl_run(argv, &out), 0);
	free(b);
	free(o);
	free(target);
	return out;
}

TEST(test_flag_change_rebuilds)
{
	own_make();
	char *build = tl_tmpdir("harness-build");
	char *out = build_err_o(build, "-O0");
	ck_assert_msg(strstr(out, "CC     common/err.c"), "first build:\n%s", out);
	free(out);
	out = build_err_o(build, "-O0");
	ck_assert_msg(!strstr(out, "CC"), "same flags, nothing to do:\n%s", out);
	free(out);
	out = build_err_o(build, "-O1");
	ck_assert_msg(strstr(out, "CC     common/err.c"), "new flags, rebuilt:\n%s", out);
	free(out);
	tl_rmrf(build);
	free(build);
}

/* The SANITIZE= value whose binaries this suite runs, so make finds them built. */
static const char *suite_sanitize(void)
{
	const char *bindir = getenv("CTDLAB_BINDIR");
	if (bindir && strstr(bindir, "build-tsan"))
		return "SANITIZE=thread";
	return bindir && strstr(bindir, "build-san") ? "SANITIZE=1" : "SANITIZE=0";
}

TEST(test_make_install_places_binaries_and_docs)
{
	own_make();
	char *root = tl_tmpdir("harness-install");
	char *dest = xasprintf("DESTDIR=%s", root);
	const char *argv[] = {"/usr/bin/env", "make", "--no-print-directory", "install", "PREFIX=/opt/ctdlab",
			      dest, suite_sanitize(), NULL};
	char *out = NULL;
	ck_assert_msg(tl_run(argv, &out) == 0, "make install:\n%s", out);
	const char *installed[] = {"bin/imsvad", "bin/ddand", "bin/tmcmd", "bin/spsd", "bin/ddid",
				   "bin/ctdlab", "bin/dtascli", "share/doc/ctdlab/README.md",
				   "share/doc/ctdlab/training.md"};
	for (size_t i = 0; i < sizeof installed / sizeof *installed; i++) {
		char *path = xasprintf("%s/opt/ctdlab/%s", root, installed[i]);
		ck_assert_msg(access(path, i < 7 ? X_OK : R_OK) == 0, "not installed: %s", path);
		free(path);
	}
	free(out);
	free(dest);
	tl_rmrf(root);
	free(root);
}

TL_SUITE(.timeout = 120, .nofork = 1);
TL_CASE("fixture", .setup = mark_fixture);
