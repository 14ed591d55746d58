/* test_body_limits.c - limits before buffering over real daemons (issue 16,
 * point 3): 40 MB bodies sent without credentials to IMSVA, SPS and TMCM
 * routes of every kind (the public login and web reputation query, console
 * session routes, the Automation API's JWT routes, a file upload route) are
 * refused with 401/413, and neither one such body nor eight at once grows the
 * daemon's peak resident memory (VmHWM) by anything near their size. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

#define BIG_BODY (40u * 1024 * 1024)
#define NCONCURRENT 8
/* Peak memory a daemon may gain over the whole test: far below one body. */
#define MAX_GROWTH_KB (32L * 1024)

typedef struct daemon_under_test {
	const char *daemon, *name;
	const char *args[12];
	char *home;
	pid_t pid;
	json_t *ready;
} daemon_under_test;

static daemon_under_test lab[] = {
	{"imsvad", "imsva", {"--smtp_port", "0", "--admin_password", "Secret-1", NULL}},
	{"spsd", "sps", {"--wrs_port", "0", "--admin_password", "Secret-1", "--tmcm_url", "", NULL}},
	{"tmcmd", "tmcm", {"--console_password", "Secret-1", NULL}},
};
#define NLAB (sizeof lab / sizeof lab[0])

static char *big;

/* Under ASan, freed memory waits in a 256 MB quarantine before reuse: the
 * small buffers TLS frees while a refused body is read and dropped would
 * count as growth. A small quarantine keeps the bound about our buffers. */
static void small_asan_quarantine(void)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char *opts = xasprintf("%s%squarantine_size_mb=1", asan ? asan : "",
			       asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	free(opts);
}

static void start_all(void)
{
	small_asan_quarantine();
	big = xmalloc(BIG_BODY);
	memset(big, '{', BIG_BODY);
	for (size_t i = 0; i < NLAB; i++) {
		const char *args[16] = {"--port", "0"};
		int n = 2;
		for (const char *const *a = lab[i].args; *a; a++)
			args[n++] = *a;
		lab[i].home = tl_tmpdir(lab[i].name);
		lab[i].pid = tl_spawn_daemon(lab[i].daemon, lab[i].home, args);
	}
	for (size_t i = 0; i < NLAB; i++) {
		lab[i].ready = tl_wait_ready(lab[i].home, lab[i].name, TL_START_MS);
		ck_assert_msg(lab[i].ready != NULL, "%s did not start", lab[i].daemon);
	}
}

static void stop_all(void)
{
	tl_stop_all();
	for (size_t i = 0; i < NLAB; i++) {
		json_decref(lab[i].ready);
		tl_rmrf(lab[i].home);
		free(lab[i].home);
	}
	free(big);
}

/* The daemon's peak resident set so far (kB), from /proc. */
static long peak_rss_kb(pid_t pid)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	ck_assert_int_eq(file_read(path, &text, NULL, NULL), 0);
	const char *hwm = strstr(text, "VmHWM:");
	ck_assert_ptr_nonnull(hwm);
	long kb = strtol(hwm + 6, NULL, 10);
	free(text);
	return kb;
}

static const char *base_url(const daemon_under_test *d, const char *listener)
{
	const char *u = tl_listener(d->ready, listener);
	return u ? u : tl_listener(d->ready, "http");
}

typedef struct big_post {
	char *url;
	const char *auth; /* a header, or NULL */
	long status;
} big_post;

/* POST the 40 MB body, without waiting for 100 Continue: the body is sent
 * whatever the server thinks of it, so it has to read it without keeping it. */
static void *send_big(void *arg)
{
	big_post *p = arg;
	const char *headers[] = {"Expect:", "Content-Type: application/json", p->auth, NULL};
	http_request rq = {.method = "POST", .url = p->url, .headers = headers, .body = big,
			   .body_len = BIG_BODY};
	http_client_opts co = {.timeout_ms = 120000};
	http_response r;
	p->status = http_fetch(&co, &rq, &r, NULL) == 0 ? r.status : -1;
	http_response_free(&r);
	return NULL;
}

static long post_big(const char *base, const char *path, const char *auth)
{
	big_post p = {xasprintf("%s%s", base, path), auth, 0};
	send_big(&p);
	free(p.url);
	return p.status;
}

typedef struct refused_route {
	size_t daemon;
	const char *listener, *path, *auth;
} refused_route;

static const refused_route routes[] = {
	{0, "https", "/api/login", NULL},
	{0, "https", "/api/policies", NULL},
	{0, "https", "/api/policies", "Authorization: Bearer not-a-session"},
	{1, "https", "/api/login", NULL},
	{1, "https", "/api/lists", NULL},
	{1, "wrs", "/wrs/v1/query", NULL},
	{2, "https", "/api/login", NULL},
	{2, "https", "/api/udso/import", NULL},
	{2, "https", "/WebApp/api/SuspiciousObjects/UserDefinedSO", "Authorization: Bearer a.b.c"},
	{2, "https", "/WebApp/API/SuspiciousObjectResource/FileUDSO", NULL},
};

TEST(test_big_bodies_refused_unbuffered)
{
	start_all();
	long before[NLAB];
	for (size_t i = 0; i < NLAB; i++)
		before[i] = peak_rss_kb(lab[i].pid);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const refused_route *r = &routes[i];
		long status = post_big(base_url(&lab[r->daemon], r->listener), r->path, r->auth);
		ck_assert_msg(status == 401 || status == 413, "%s %s: HTTP %ld, want 401/413",
			      lab[r->daemon].name, r->path, status);
	}
	for (size_t i = 0; i < NLAB; i++) {
		long grown = peak_rss_kb(lab[i].pid) - before[i];
		ck_assert_msg(grown < MAX_GROWTH_KB, "%s grew %ld kB for refused 40 MB bodies",
			      lab[i].name, grown);
	}

	/* eight at once to each daemon's login and TMCM's file upload route */
	const refused_route concurrent[] = {{0, "https", "/api/login", NULL},
					    {1, "https", "/api/login", NULL},
					    {2, "https", "/WebApp/API/SuspiciousObjectResource/FileUDSO",
					     "Authorization: Bearer a.b.c"}};
	for (size_t k = 0; k < sizeof concurrent / sizeof concurrent[0]; k++) {
		const refused_route *r = &concurrent[k];
		pthread_t th[NCONCURRENT];
		big_post posts[NCONCURRENT];
		for (int i = 0; i < NCONCURRENT; i++) {
			posts[i] = (big_post){xasprintf("%s%s", base_url(&lab[r->daemon], r->listener),
							 r->path),
					      r->auth, 0};
			ck_assert_int_eq(pthread_create(&th[i], NULL, send_big, &posts[i]), 0);
		}
		for (int i = 0; i < NCONCURRENT; i++) {
			pthread_join(th[i], NULL);
			ck_assert_msg(posts[i].status == 401 || posts[i].status == 413,
				      "%s %s: HTTP %ld", lab[r->daemon].name, r->path, posts[i].status);
			free(posts[i].url);
		}
	}
	for (size_t i = 0; i < NLAB; i++) {
		long grown = peak_rss_kb(lab[i].pid) - before[i];
		ck_assert_msg(grown < MAX_GROWTH_KB, "%s grew %ld kB for %d concurrent 40 MB bodies",
			      lab[i].name, grown, NCONCURRENT);
		ck_assert(tl_pid_alive(lab[i].pid));
	}
	stop_all();
}

TL_SUITE(.timeout = 600);
