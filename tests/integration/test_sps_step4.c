/* test_sps_step4.c - seed STEP 4-2..4-4 over real daemons, SPS side: dtascli
 * -b submits the URL test file to ddand, DDAN makes the URL SO, tmcmd syncs it
 * from DDAN and the administrator sets it to Block, spsd's Sync now pulls it
 * from TMCM's feed (registering as a product), and a WRS query for the URL -
 * spelled differently - answers Dangerous with action block. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "testlib.h"
#include "util.h"

#define DDAN_KEY "STEP4-DDAN-KEY"
#define FEED_KEY "STEP4-SPS-FEED-KEY"
#define SO_URL "http://malicious.ctdlab.test/payload"
#define POLL_MS 50
#define POLL_MAX 400 /* 20 s */

static void nap(void)
{
	struct timespec ts = {0, POLL_MS * 1000000L};
	nanosleep(&ts, NULL);
}

static json_t *start(const char *daemon, const char *appliance, const char *home,
		     const char *const *args)
{
	tl_spawn_daemon(daemon, home, args);
	json_t *ready = tl_wait_ready(home, appliance, TL_START_MS);
	ck_assert_msg(ready != NULL, "%s did not become ready", daemon);
	return ready;
}

/* The TMCM VA object with this value, or NULL (caller decrefs). */
static json_t *tmcm_va_object(const char *tmcm, const char *const *hdrs, const char *value)
{
	long status;
	char *u = xasprintf("%s/api/va-objects?type=URL", tmcm);
	json_t *list = tl_http_json("GET", u, hdrs, NULL, &status);
	free(u);
	json_t *found = NULL, *item;
	size_t i;
	json_array_foreach(json_object_get(list, "items"), i, item)
		if (strcmp(json_string_value(json_object_get(item, "value")), value) == 0)
			found = json_incref(item);
	json_decref(list);
	return found;
}

TEST(test_url_so_reaches_sps)
{
	char *home = tl_tmpdir("sps-step4");
	long status;

	/* DDAN, TMCM subscribed to it, SPS subscribed to TMCM */
	const char *dargs[] = {"--port", "0", "--api-key", DDAN_KEY, NULL};
	json_t *dready = start("ddand", "ddan", home, dargs);
	const char *ddan = tl_listener(dready, "https");
	const char *targs[] = {"--port", "0", "--ddan-url", ddan, "--ddan-api-key", DDAN_KEY,
			       "--sps-feed-key", FEED_KEY, "--console-password", "tmcm-pw", NULL};
	json_t *tready = start("tmcmd", "tmcm", home, targs);
	const char *tmcm = tl_listener(tready, "https");
	const char *sargs[] = {"--port", "0", "--wrs_port", "0", "--tmcm_url", tmcm,
			       "--tmcm_api_key", FEED_KEY, "--api_key", "SPS-KEY",
			       "--sync_interval", "1h", NULL};
	json_t *sready = start("spsd", "sps", home, sargs);
	const char *sps = tl_listener(sready, "https"), *wrs = tl_listener(sready, "wrs");

	/* 4-2: dtascli -b with config.ini [DTAS] Host/ApiKey, the URL test file in work/indir */
	char *dir = xasprintf("%s/dtascli", home);
	char *indir = xasprintf("%s/work/indir", dir);
	ck_assert_int_eq(mkdir_p(indir, 0755, NULL), 0);
	char *ini = xasprintf("%s/config.ini", dir);
	char *ini_text = xasprintf("[DTAS]\nHost = %s\nApiKey = %s\n", ddan, DDAN_KEY);
	ck_assert_int_eq(file_write_atomic(ini, ini_text, strlen(ini_text), 0644, NULL), 0);
	char *dtascli = tl_bin("dtascli");
	char *samples = xasprintf("%s/samples", home);
	const char *mk[] = {dtascli, "--make-samples", samples, NULL};
	ck_assert_int_eq(tl_run(mk, NULL), 0);
	char *src = xasprintf("%s/url_test.html", samples), *dst = xasprintf("%s/url_test.html", indir);
	ck_assert_int_eq(rename(src, dst), 0);
	char *out = NULL;
	const char *run[] = {dtascli, "-c", ini, "-b", "-w", "30", NULL};
	int rc = tl_run(run, &out);
	ck_assert_msg(rc == 0 && strstr(out, SO_URL), "dtascli -b (exit %d):\n%s", rc, out);
	free(out);

	/* 4-3: TMCM syncs the URL SO from DDAN; the administrator sets Block */
	char *login = xasprintf("%s/api/login", tmcm);
	json_t *j = tl_http_json("POST", login, NULL, "{\"password\":\"tmcm-pw\"}", &status);
	ck_assert_int_eq(status, 200);
	char *session = xasprintf("X-Session: %s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	const char *thdrs[] = {session, NULL};
	char *tsync = xasprintf("%s/api/sync", tmcm);
	json_t *so = NULL;
	for (int i = 0; i < POLL_MAX && !so; i++) {
		json_decref(tl_http_json("POST", tsync, thdrs, NULL, &status));
		if (!(so = tmcm_va_object(tmcm, thdrs, SO_URL)))
			nap();
	}
	ck_assert_msg(so != NULL, "TMCM never listed the URL SO");
	json_decref(so);
	char *act = xasprintf("%s/api/va-objects/action", tmcm);
	j = tl_http_json("POST", act, thdrs, "{\"values\":[\"" SO_URL "\"],\"action\":\"block\"}",
			 &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "updated")), 1);
	json_decref(j);

	/* 4-4: SPS Sync now; the status shows the source, sync time and count */
	const char *shdrs[] = {"X-API-Key: SPS-KEY", NULL};
	char *ssync = xasprintf("%s/api/so/sync", sps);
	j = tl_http_json("POST", ssync, shdrs, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "last_error")), "");
	ck_assert(json_is_string(json_object_get(j, "last_sync")));
	ck_assert_int_ge(json_integer_value(json_object_get(json_object_get(j, "objects"), "URL")), 1);
	json_decref(j);

	/* what IMSVA will ask: the URL, spelled another way */
	char *q = xasprintf("%s/wrs/v1/query?url=%s", wrs,
			    "HTTP%3A%2F%2FMalicious.ctdlab.test%3A80%2Fpayload%2F%23x");
	j = tl_http_json("GET", q, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "rating")), "Dangerous");
	json_t *hit = json_object_get(j, "so");
	ck_assert_str_eq(json_string_value(json_object_get(hit, "type")), "URL");
	ck_assert_str_eq(json_string_value(json_object_get(hit, "value")), SO_URL);
	ck_assert_str_eq(json_string_value(json_object_get(hit, "action")), "block");
	json_decref(j);

	/* TMCM lists SPS among its subscribed products */
	char *prod = xasprintf("%s/api/products", tmcm);
	j = tl_http_json("GET", prod, thdrs, NULL, &status);
	ck_assert_int_eq(status, 200);
	int listed = 0;
	size_t i;
	json_t *p;
	json_array_foreach(j, i, p)
		listed |= strcmp(json_string_value(json_object_get(p, "product_name")), "SPS") == 0;
	ck_assert_msg(listed, "TMCM does not list SPS as a product");
	json_decref(j);

	tl_stop_all();
	free(prod);
	free(q);
	free(ssync);
	free(act);
	free(tsync);
	free(session);
	free(login);
	free(src);
	free(dst);
	free(samples);
	free(dtascli);
	free(ini_text);
	free(ini);
	free(indir);
	free(dir);
	json_decref(sready);
	json_decref(tready);
	json_decref(dready);
	tl_rmrf(home);
	free(home);
}

TL_SUITE(.timeout = 120, .nofork = 1);
