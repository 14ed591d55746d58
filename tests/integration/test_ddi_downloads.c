/* test_ddi_downloads.c - DDI's STEP 3-1 download site: the seed samples
 * served over plain HTTP on the loopback become DDI detections and
 * suspicious objects, by live capture where this host allows it and by the
 * site's capture hand-off where DDI does not capture; the page and
 * GET /api/downloads say which happened. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "seed_samples.h"
#include "hash.h"
#include "testlib.h"
#include "util.h"

#define KEY "33333333-4444-5555-6666-777777777777"

typedef struct ddi {
	char *home, *api, *site;
	pid_t pid;
} ddi;

/* ddid with the internal VA; extra args appended. */
static ddi start_ddi(const char *tag, const char *const *extra)
{
	ddi d = {.home = tl_tmpdir(tag)};
	const char *args[24] = {"--port", "0", "--api_key", KEY, "--internal_va_time", "10ms"};
	int n = 6;
	for (; extra && *extra; extra++)
		args[n++] = *extra;
	d.pid = tl_spawn_daemon("ddid", d.home, args);
	json_t *ready = tl_wait_ready(d.home, "ddi", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddid did not become ready (see %s/ddid.log)", d.home);
	d.api = xstrdup(tl_listener(ready, "https"));
	const char *site = tl_listener(ready, "downloads");
	d.site = site ? xstrdup(site) : NULL;
	json_decref(ready);
	return d;
}

static void stop_ddi(ddi *d)
{
	ck_assert_int_eq(tl_stop(d->pid, 5000), 0);
	tl_rmrf(d->home);
	free(d->home);
	free(d->api);
	free(d->site);
}

static json_t *api(const ddi *d, const char *path, long *status)
{
	char *u = xasprintf("%s%s", d->api, path);
	const char *hdrs[] = {"X-Api-Key: " KEY, NULL};
	json_t *j = tl_http_json("GET", u, hdrs, NULL, status);
	free(u);
	return j;
}

static char *site_get(const ddi *d, const char *path, long *status, size_t *len)
{
	char *u = xasprintf("%s%s", d->site, path);
	http_response resp = {0};
	*status = tl_http("GET", u, NULL, NULL, &resp);
	char *body = xstrndup(resp.body.data ? resp.body.data : "", resp.body.len);
	if (len)
		*len = resp.body.len;
	http_response_free(&resp);
	free(u);
	return body;
}

static int has_file_so(json_t *list, const char *sha1)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(list, "suspicious_objects"), i, o)
	if (!strcmp(json_string_value(json_object_get(o, "type")), "FILE") &&
	    !strcmp(json_string_value(json_object_get(o, "value")), sha1))
		return 1;
	return 0;
}

/* Bounded wait (the test's timeout ends it) for the file SO of sha1. */
static void wait_file_so(const ddi *d, const char *sha1)
{
	for (;;) {
		long st;
		json_t *sos = api(d, "/api/detections/suspicious_objects?type=FILE", &st);
		int found = st == 200 && has_file_so(sos, sha1);
		json_decref(sos);
		if (found)
			return;
		tl_sleep_ms(50);
	}
}

/* Download Sample SO2 from the site and check the bytes; its SHA-1. */
static void download_so2(const ddi *d, char sha1[41])
{
	const seed_sample *s = seed_sample_get("sample_so2");
	long st;
	size_t len;
	char *body = site_get(d, "/downloads/sample_so2.exe", &st, &len);
	ck_assert_int_eq(st, 200);
	ck_assert_uint_eq(len, s->len);
	ck_assert(memcmp(body, s->data, len) == 0);
	free(body);
	hash_hex(HASH_SHA1, s->data, s->len, sha1);
	str_upper(sha1);
}

static json_t *only_download(const ddi *d)
{
	long st;
	json_t *j = api(d, "/api/downloads", &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "url")), d->site);
	json_t *list = json_object_get(j, "downloads");
	ck_assert_int_eq(json_array_size(list), 1);
	json_t *rec = json_incref(json_array_get(list, 0));
	json_decref(j);
	return rec;
}

TEST(test_handoff_without_capture)
{
	const char *extra[] = {"--capture", "no", NULL};
	ddi d = start_ddi("ddi-dl-handoff", extra);
	ck_assert_ptr_nonnull(d.site);
	ck_assert(strncmp(d.site, "http://127.0.0.1:", 17) == 0);
	long st;
	char *page = site_get(&d, "/", &st, NULL);
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(strstr(page, "href=\"/downloads/sample_so2.exe\""));
	ck_assert_ptr_nonnull(strstr(page, "href=\"/downloads/sample_so.exe\""));
	ck_assert_ptr_nonnull(strstr(page, "href=\"/downloads/url_test.html\""));
	ck_assert_ptr_nonnull(strstr(page, "class=\"note handoff\""));
	ck_assert_ptr_nonnull(strstr(page, "capture = no"));
	free(page);

	char sha1[41];
	download_so2(&d, sha1);
	wait_file_so(&d, sha1);

	json_t *rec = only_download(&d);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "mode")), "capture hand-off");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "sha1")), sha1);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "client")), "127.0.0.1");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(rec, "reason")), "capture = no"));
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "files_carved")), 1);
	const char *pcap = json_string_value(json_object_get(rec, "capture_file"));
	ck_assert_msg(pcap && access(pcap, R_OK) == 0, "hand-off capture kept: %s", pcap);

	/* the detection names the site's URL, as a mirror port would have shown */
	json_t *dets = api(&d, "/api/detections", &st);
	json_t *det = json_array_get(json_object_get(dets, "detections"), 0);
	char *url = xasprintf("%s/downloads/sample_so2.exe", d.site);
	ck_assert_str_eq(json_string_value(json_object_get(det, "url")), url);
	ck_assert_str_eq(json_string_value(json_object_get(det, "file_name")), "sample_so2.exe");
	free(url);
	json_decref(dets);

	page = site_get(&d, "/", &st, NULL);
	ck_assert_ptr_nonnull(strstr(page, "<td>Sample SO2</td><td>127.0.0.1</td><td>capture hand-off</td>"));
	free(page);
	json_decref(rec);
	stop_ddi(&d);
}

TEST(test_live_capture_sees_download)
{
	int port = tl_free_port();
	char *p = xasprintf("%d", port), *bpf = xasprintf("tcp port %d", port);
	const char *extra[] = {"--download_port", p, "--interface", "lo", "--bpf", bpf, NULL};
	ddi d = start_ddi("ddi-dl-live", extra);
	long st;
	json_t *status = api(&d, "/api/status", &st);
	json_t *cap = json_object_get(status, "capture");
	const char *state = json_string_value(json_object_get(cap, "state"));
	if (strcmp(state, "running") != 0) {
		/* Not a failure of DDI: this host does not let us capture. */
		fprintf(stderr, "SKIP test_live_capture_sees_download: live capture on lo is %s: %s\n",
			state, json_string_value(json_object_get(cap, "reason")));
	} else {
		char *page = site_get(&d, "/", &st, NULL);
		ck_assert_ptr_nonnull(strstr(page, "class=\"live\""));
		free(page);
		char sha1[41];
		download_so2(&d, sha1);
		wait_file_so(&d, sha1);
		json_t *rec = only_download(&d);
		ck_assert_str_eq(json_string_value(json_object_get(rec, "mode")), "live capture");
		ck_assert_ptr_null(json_object_get(rec, "capture_file"));
		json_decref(rec);
	}
	json_decref(status);
	stop_ddi(&d);
	free(p);
	free(bpf);
}

TEST(test_unknown_download_and_auth)
{
	const char *extra[] = {"--capture", "no", NULL};
	ddi d = start_ddi("ddi-dl-misc", extra);
	long st;
	free(site_get(&d, "/downloads/..%2f..%2fetc%2fpasswd", &st, NULL));
	ck_assert_int_eq(st, 404);
	free(site_get(&d, "/downloads/nothing.exe", &st, NULL));
	ck_assert_int_eq(st, 404);
	/* the list of downloads is part of DDI's authenticated console API */
	char *u = xasprintf("%s/api/downloads", d.api);
	json_t *j = tl_http_json("GET", u, NULL, NULL, &st);
	ck_assert_int_eq(st, 401);
	json_decref(j);
	free(u);
	json_t *rec = api(&d, "/api/downloads", &st);
	ck_assert_int_eq(json_array_size(json_object_get(rec, "downloads")), 0);
	json_decref(rec);
	stop_ddi(&d);
}

TEST(test_site_can_be_turned_off)
{
	const char *extra[] = {"--capture", "no", "--download_site", "no", NULL};
	ddi d = start_ddi("ddi-dl-off", extra);
	ck_assert_ptr_null(d.site);
	long st;
	json_t *j = api(&d, "/api/downloads", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(json_is_null(json_object_get(j, "url")));
	json_decref(j);
	stop_ddi(&d);
}

/* `ctdlab status` lists the site as DDI's `downloads` listener. */
TEST(test_lab_status_lists_site)
{
	tl_lab_env();
	char *dir = tl_tmpdir("ddi-dl-lab"), *out = NULL;
	const char *up[] = {"up", NULL}, *status[] = {"status", NULL}, *down[] = {"down", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, up, &out), 0);
	free(out);
	ck_assert_int_eq(tl_ctdlab(dir, status, &out), 0);
	char *line = strstr(out, "    downloads ");
	ck_assert_msg(line != NULL, "no downloads listener in: %s", out);
	ck_assert_ptr_nonnull(strstr(line, "http://127.0.0.1:"));
	free(out);
	tl_ctdlab(dir, down, NULL);
	tl_rmrf(dir);
	free(dir);
}

TL_SUITE(.timeout = 60);
