/* test_console_serve.c - the web console a daemon serves (common/console.c,
 * daemon_set_console): the entry page with its security headers, "/" to the
 * entry, the embedded shell and appliance files, /_console/config with the
 * lab's locale and timezone, /_console/session for a reloaded page, the
 * `password` option replacing the appliance's own, and the ready file's
 * info.console. Against a real ddand. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

#define CLASS_PW "Class-Pass-7"
#define OWN_PW "Own-Console-Pass-7"

typedef struct ddan_run {
	char *home, *url;
	json_t *ready;
	pid_t pid;
} ddan_run;

static ddan_run start(const char *const *extra)
{
	ddan_run r = {.home = tl_tmpdir("console")};
	const char *args[16] = {"--port", "0", "--console_password", OWN_PW};
	int n = 4;
	for (; extra && *extra; extra++)
		args[n++] = *extra;
	r.pid = tl_spawn_daemon("ddand", r.home, args);
	r.ready = tl_wait_ready(r.home, "ddan", TL_START_MS);
	ck_assert_msg(r.ready != NULL, "ddand did not become ready (see %s)", r.home);
	r.url = xstrdup(tl_listener(r.ready, "https"));
	return r;
}

static void stop(ddan_run *r)
{
	tl_stop(r->pid, 10000);
	json_decref(r->ready);
	tl_rmrf(r->home);
	free(r->home);
	free(r->url);
}

static long get(const ddan_run *r, const char *path, const char *header, http_response *resp)
{
	char *url = xasprintf("%s%s", r->url, path);
	const char *headers[] = {header, NULL};
	long st = tl_http("GET", url, headers, NULL, resp);
	free(url);
	return st;
}

static long get_status(const ddan_run *r, const char *path, const char *header)
{
	http_response resp;
	long st = get(r, path, header, &resp);
	http_response_free(&resp);
	return st;
}

TEST(entry_page_redirect_and_embedded_files)
{
	ddan_run r = start(NULL);
	http_response resp;
	ck_assert_int_eq(get(&r, "/", NULL, &resp), 302);
	ck_assert_str_eq(http_response_header(&resp, "Location"), "/pages/login.php");
	http_response_free(&resp);

	ck_assert_int_eq(get(&r, "/pages/login.php", NULL, &resp), 200);
	ck_assert_ptr_nonnull(strstr(resp.body.data, "/_console/shell/main.js"));
	ck_assert_ptr_nonnull(strstr(http_response_header(&resp, "Content-Type"), "text/html"));
	ck_assert_ptr_nonnull(strstr(http_response_header(&resp, "Content-Security-Policy"),
				     "default-src 'self'"));
	http_response_free(&resp);

	ck_assert_int_eq(get(&r, "/_console/shell/main.js", NULL, &resp), 200);
	ck_assert_ptr_nonnull(strstr(http_response_header(&resp, "Content-Type"), "text/javascript"));
	ck_assert_ptr_nonnull(strstr(resp.body.data, "showLogin"));
	http_response_free(&resp);

	ck_assert_int_eq(get(&r, "/_console/app/appliance.js", NULL, &resp), 200);
	ck_assert_ptr_nonnull(strstr(resp.body.data, "Deep Discovery Analyzer"));
	http_response_free(&resp);
	ck_assert_int_eq(get_status(&r, "/_console/app/pages/dashboard.js", NULL), 200);

	/* only what was embedded: no file system behind these paths */
	ck_assert_int_eq(get_status(&r, "/_console/shell/nope.js", NULL), 404);
	ck_assert_int_eq(get_status(&r, "/_console/app/%2e%2e/%2e%2e/etc/passwd", NULL), 404);
	ck_assert_int_eq(get_status(&r, "/_console/shell/", NULL), 404);
	stop(&r);
}

TEST(config_has_the_lab_locale_and_timezone)
{
	const char *extra[] = {"--locale", "ja", "--timezone", "Asia/Tokyo", NULL};
	ddan_run r = start(extra);
	char *url = xasprintf("%s/_console/config", r.url);
	long st;
	json_t *j = tl_http_json("GET", url, NULL, NULL, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "appliance")), "ddan");
	ck_assert_str_eq(json_string_value(json_object_get(j, "entry")), "/pages/login.php");
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")), "admin");
	ck_assert_str_eq(json_string_value(json_object_get(j, "locale")), "ja");
	ck_assert_str_eq(json_string_value(json_object_get(j, "timezone")), "Asia/Tokyo");
	json_decref(j);
	free(url);
	stop(&r);
}

/* Log in with body; the session cookie ("name=value") or NULL, csrf into *csrf. */
static char *log_in(const ddan_run *r, const char *password, char **csrf)
{
	char *url = xasprintf("%s/api/login", r->url);
	char *body = xasprintf("{\"username\":\"admin\",\"password\":\"%s\"}", password);
	http_response resp;
	long st = tl_http("POST", url, NULL, body, &resp);
	char *cookie = NULL;
	if (st == 200) {
		const char *set = http_response_header(&resp, "Set-Cookie");
		cookie = xstrndup(set, strcspn(set, ";"));
		json_t *j = json_loads(resp.body.data, 0, NULL);
		*csrf = xstrdup(json_string_value(json_object_get(j, "csrf")));
		json_decref(j);
	}
	http_response_free(&resp);
	free(body);
	free(url);
	return cookie;
}

TEST(class_password_replaces_the_own_one_and_session_gives_the_csrf)
{
	const char *extra[] = {"--password", CLASS_PW, NULL};
	ddan_run r = start(extra);
	json_t *info = json_object_get(r.ready, "info");
	json_t *console = json_object_get(info, "console");
	char *want_url = xasprintf("%s/pages/login.php", r.url);
	ck_assert_str_eq(json_string_value(json_object_get(console, "url")), want_url);
	ck_assert_str_eq(json_string_value(json_object_get(console, "user")), "admin");
	ck_assert_str_eq(json_string_value(json_object_get(console, "password")), CLASS_PW);
	ck_assert_str_eq(json_string_value(json_object_get(info, "console_password")), CLASS_PW);
	free(want_url);

	char *csrf = NULL;
	ck_assert_ptr_null(log_in(&r, OWN_PW, &csrf));
	char *cookie = log_in(&r, CLASS_PW, &csrf);
	ck_assert_ptr_nonnull(cookie);
	char *header = xasprintf("Cookie: %s", cookie);

	ck_assert_int_eq(get_status(&r, "/_console/session", NULL), 401);
	http_response resp;
	ck_assert_int_eq(get(&r, "/_console/session", header, &resp), 200);
	json_t *j = json_loads(resp.body.data, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "csrf")), csrf);
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")), "admin");
	json_decref(j);
	http_response_free(&resp);

	char *url = xasprintf("%s/api/logout", r.url);
	char *token = xasprintf("X-CSRF-Token: %s", csrf);
	const char *headers[] = {header, token, NULL};
	ck_assert_int_eq(tl_http("POST", url, headers, "{}", &resp), 200);
	http_response_free(&resp);
	ck_assert_int_eq(get_status(&r, "/_console/session", header), 401);

	free(url), free(token), free(header), free(cookie), free(csrf);
	stop(&r);
}

TEST(without_a_class_password_the_console_login_is_the_appliance_s_own)
{
	ddan_run r = start(NULL);
	json_t *console = json_object_get(json_object_get(r.ready, "info"), "console");
	ck_assert_str_eq(json_string_value(json_object_get(console, "password")), OWN_PW);
	char *csrf = NULL, *cookie = log_in(&r, OWN_PW, &csrf);
	ck_assert_ptr_nonnull(cookie);
	free(cookie);
	free(csrf);
	stop(&r);
}

TL_SUITE(.timeout = 60);
