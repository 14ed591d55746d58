/* tl_main.c - the main() of every test program written with TEST(): the
 * tests register themselves at load time (testlib.h); main builds one Check
 * suite from them, named after the program, and runs it. A program that
 * defines its own main never links this file. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "testlib.h"

#define MAX_TESTS 256
#define MAX_CASES 8

typedef struct registered {
	const TTest *test;
	const char *tcase;
	int from, to;
} registered;

static registered tests[MAX_TESTS];
static int ntests;
static tl_case cases[MAX_CASES];
static int ncases;

static int same_case(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static tl_case *case_named(const char *name)
{
	for (int i = 0; i < ncases; i++)
		if (same_case(cases[i].name, name))
			return &cases[i];
	if (ncases == MAX_CASES)
		abort(); /* a test file with this many cases is a mistake to catch */
	cases[ncases].name = name;
	return &cases[ncases++];
}

void tl_register(const TTest *test, const char *tcase, int from, int to)
{
	if (ntests == MAX_TESTS)
		abort();
	tests[ntests++] = (registered){test, tcase, from, to};
	case_named(tcase);
}

void tl_configure(const tl_case *options)
{
	*case_named(options->name) = *options;
}

/* Constructors may run in any order: run the tests in the order of the file. */
static int by_line(const void *a, const void *b)
{
	const registered *x = a, *y = b;
	return x->test->line - y->test->line;
}

static TCase *make_tcase(const tl_case *c, const char *default_name)
{
	TCase *tc = tcase_create(c->name ? c->name : default_name);
	if (c->timeout)
		tcase_set_timeout(tc, c->timeout);
	if (c->setup || c->teardown)
		tcase_add_checked_fixture(tc, c->setup, c->teardown);
	if (c->suite_setup || c->suite_teardown)
		tcase_add_unchecked_fixture(tc, c->suite_setup, c->suite_teardown);
	return tc;
}

int main(int argc, char **argv)
{
	char *name = basename(argv[0]);
	if (strncmp(name, "test_", 5) == 0)
		name += 5;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Every ddid a test starts (directly or through ctdlab) would take the
	 * download site's fixed port: ephemeral instead, unless a test pins it. */
	setenv("CTDLAB_DDI_DOWNLOAD_PORT", "0", 0);
	qsort(tests, ntests, sizeof tests[0], by_line);
	Suite *s = suite_create(name);
	TCase *tcases[MAX_CASES] = {0};
	int nofork = 0;
	for (int i = 0; i < ntests; i++) {
		int c = (int)(case_named(tests[i].tcase) - cases);
		if (!tcases[c]) {
			tcases[c] = make_tcase(&cases[c], name);
			suite_add_tcase(s, tcases[c]);
			nofork |= cases[c].nofork;
		}
		tcase_add_loop_test(tcases[c], tests[i].test, tests[i].from, tests[i].to);
	}
	int status = tl_run_suite_fork(s, nofork ? CK_NOFORK : CK_FORK_GETENV);
	tl_stop_all();
	curl_global_cleanup();
	return status;
}
