/* test_ddi_console.c - the JSON API behind DDI's console screens: the
 * console login (user admin, the generated console password), the Dashboard's
 * totals and the download site's URL in GET /api/status. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

static char *home, *api_url, *site_url, *password;
static pid_t pid;

static void start(void)
{
	home = tl_tmpdir("ddi-console");
	const char *args[] = {"--port", "0", "--capture", "no", "--internal_va_time", "10ms", NULL};
	pid = tl_spawn_daemon("ddid", home, args);
	json_t *ready = tl_wait_ready(home, "ddi", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddid did not become ready (see %s/ddid.log)", home);
	api_url = xstrdup(tl_listener(ready, "https"));
	site_url = xstrdup(tl_listener(ready, "downloads"));
	password = xstrdup(json_string_value(json_object_get(json_object_get(ready, "info"),
							     "console_password")));
	json_decref(ready);
}

static void stop(void)
{
	tl_stop(pid, 5000);
	tl_rmrf(home);
	free(home);
	free(api_url);
	free(site_url);
	free(password);
}

/* POST /api/login as admin; the bearer header for later calls. */
static char *login(const char *user, const char *pw, long *status)
{
	char *u = xasprintf("%s/api/login", api_url);
	json_t *body = json_pack("{s:s, s:s}", "username", user, "password", pw);
	char *text = json_dumps(body, 0);
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	json_t *r = tl_http_json("POST", u, hdrs, text, status);
	char *bearer = *status == 200 ? xasprintf("Authorization: Bearer %s",
						  json_string_value(json_object_get(r, "token")))
				      : NULL;
	json_decref(r);
	json_decref(body);
	free(text);
	free(u);
	return bearer;
}

static json_t *status_as(const char *bearer)
{
	char *u = xasprintf("%s/api/status", api_url);
	const char *hdrs[] = {bearer, NULL};
	long st;
	json_t *j = tl_http_json("GET", u, hdrs, NULL, &st);
	ck_assert_int_eq(st, 200);
	free(u);
	return j;
}

TEST(test_console_login_and_dashboard_totals)
{
	ck_assert(password && strlen(password) == 13);
	long st;
	char *bad = login("admin", "wrong", &st);
	ck_assert_int_eq(st, 401);
	ck_assert_ptr_null(bad);
	char *bearer = login("admin", password, &st);
	ck_assert_int_eq(st, 200);

	json_t *s = status_as(bearer);
	json_t *totals = json_object_get(s, "totals");
	ck_assert_int_eq(json_integer_value(json_object_get(totals, "detections")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(totals, "so_file")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(s, "download_site")), site_url);
	json_decref(s);

	/* a download handed off to DDI shows in the totals once analysed */
	char *u = xasprintf("%s/downloads/sample_so2.exe", site_url);
	http_response resp = {0};
	ck_assert_int_eq(tl_http("GET", u, NULL, NULL, &resp), 200);
	http_response_free(&resp);
	free(u);
	for (;;) {
		s = status_as(bearer);
		totals = json_object_get(s, "totals");
		/* The file object is written first, its URL/domain/IP objects
		 * right after it: done once both have arrived. */
		int done = json_integer_value(json_object_get(totals, "so_file")) == 1 &&
			   json_integer_value(json_object_get(totals, "suspicious_objects")) >= 2;
		if (done) {
			ck_assert_int_eq(json_integer_value(json_object_get(totals, "detections")), 1);
			ck_assert_int_eq(json_integer_value(json_object_get(totals, "files")), 1);
		}
		json_decref(s);
		if (done)
			break;
		tl_sleep_ms(50);
	}
	free(bearer);
}

TL_SUITE(.timeout = 60, .setup = start, .teardown = stop);
