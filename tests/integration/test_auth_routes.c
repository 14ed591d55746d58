/* test_auth_routes.c - route-level authentication on all five daemons: walk
 * each daemon's own route table (linked from lib<x>.a) and request every
 * route that is not declared public without credentials (route parameters
 * filled with dummy values): each must answer 401. Then, per daemon, the
 * console login -> an authenticated call -> logout -> the same call is 401. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddan/ddan.h"
#include "ddi/ddi_sensor.h"
#include "imsva/imsva_app.h"
#include "sps/sps.h"
#include "testlib.h"
#include "tmcm/tmcm.h"
#include "util.h"

#define SECRET "Auth-Test-Secret-1"

typedef struct route_table {
	const http_route *routes;
	size_t n;
} route_table;

typedef struct appliance {
	const char *daemon, *name;
	const char *args[16];
	route_table tables[3];
	const char *login_body; /* the documented login shape of this console */
	const char *probe;      /* a GET that needs a session */
	char *home, *url;
	pid_t pid;
} appliance;

static appliance lab[] = {
	{"ddand", "ddan", {"--api_key", SECRET, "--console_password", SECRET}, {{0}},
	 "{\"password\":\"" SECRET "\"}", "/api/about"},
	{"ddid", "ddi", {"--api_key", SECRET, "--interface", "ddi-none0"}, {{0}},
	 "{\"password\":\"" SECRET "\"}", "/api/status"},
	{"imsvad", "imsva", {"--smtp_port", "0", "--admin_password", SECRET}, {{0}},
	 "{\"username\":\"admin\",\"password\":\"" SECRET "\"}", "/api/status"},
	{"spsd", "sps", {"--wrs_port", "0", "--admin_password", SECRET, "--tmcm_url", ""}, {{0}},
	 "{\"username\":\"admin\",\"password\":\"" SECRET "\"}", "/api/about"},
	{"tmcmd", "tmcm", {"--console_password", SECRET}, {{0}},
	 "{\"password\":\"" SECRET "\"}", "/api/status"},
};
#define NLAB (sizeof lab / sizeof lab[0])

static void fill_tables(void)
{
	size_t n;
	const http_route *ddan = ddan_routes(&n);
	lab[0].tables[0] = (route_table){ddan, n};
	lab[1].tables[0] = (route_table){ddi_routes, ddi_nroutes};
	lab[2].tables[0] = (route_table){imsva_admin_routes, imsva_admin_nroutes};
	lab[3].tables[0] = (route_table){sps_console_routes, sps_console_nroutes};
	lab[4].tables[0] = (route_table){tmcm_console_routes, tmcm_console_nroutes};
	lab[4].tables[1] = (route_table){tmcm_automation_routes, tmcm_automation_nroutes};
	lab[4].tables[2] = (route_table){tmcm_feed_routes, tmcm_feed_nroutes};
}

static void start_all(void)
{
	fill_tables();
	for (size_t i = 0; i < NLAB; i++) {
		appliance *a = &lab[i];
		a->home = tl_tmpdir(a->name);
		const char *args[24] = {"--port", "0"};
		int n = 2;
		for (const char *const *p = a->args; *p; p++)
			args[n++] = *p;
		a->pid = tl_spawn_daemon(a->daemon, a->home, args);
	}
	for (size_t i = 0; i < NLAB; i++) {
		appliance *a = &lab[i];
		json_t *ready = tl_wait_ready(a->home, a->name, TL_START_MS);
		ck_assert_msg(ready != NULL, "%s did not become ready (see %s)", a->daemon, a->home);
		const char *url = tl_listener(ready, "https");
		a->url = xstrdup(url ? url : tl_listener(ready, "http"));
		json_decref(ready);
	}
}

static void stop_all(void)
{
	for (size_t i = 0; i < NLAB; i++) {
		tl_stop(lab[i].pid, 10000);
		tl_rmrf(lab[i].home);
		free(lab[i].home);
		free(lab[i].url);
	}
}

/* The pattern with {params} as "1" and a final "*" as "x". */
static char *dummy_path(const char *pattern)
{
	sbuf out = {0};
	for (const char *p = pattern; *p;) {
		if (*p == '{') {
			sbuf_puts(&out, "1");
			p += strcspn(p, "}");
			p += *p == '}';
		} else if (*p == '*') {
			sbuf_puts(&out, "x");
			p++;
		} else {
			sbuf_append(&out, p++, 1);
		}
	}
	return sbuf_detach(&out);
}

static long request(const appliance *a, const char *method, const char *path,
		    const char *header, const char *body)
{
	char *url = xasprintf("%s%s", a->url, path);
	const char *headers[] = {header, NULL};
	http_response r;
	long status = tl_http(method, url, headers, body, &r);
	http_response_free(&r);
	free(url);
	return status;
}

static void every_guarded_route_refuses_strangers(void)
{
	int checked = 0;
	for (size_t i = 0; i < NLAB; i++) {
		const appliance *a = &lab[i];
		for (int t = 0; t < 3 && a->tables[t].routes; t++) {
			for (size_t k = 0; k < a->tables[t].n; k++) {
				const http_route *r = &a->tables[t].routes[k];
				if (r->auth == HTTP_PUBLIC)
					continue;
				const char *method = strcmp(r->method, "*") ? r->method : "GET";
				char *path = dummy_path(r->pattern);
				long status = request(a, method, path, NULL,
						      strcmp(method, "GET") ? "{}" : NULL);
				ck_assert_msg(status == 401, "%s %s %s: %ld, want 401", a->name,
					      method, path, status);
				free(path);
				checked++;
			}
		}
	}
	ck_assert_int_gt(checked, 60);
}

static void login_call_logout(void)
{
	for (size_t i = 0; i < NLAB; i++) {
		const appliance *a = &lab[i];
		char *url = xasprintf("%s/api/login", a->url);
		long st;
		json_t *j = tl_http_json("POST", url, NULL, a->login_body, &st);
		free(url);
		ck_assert_msg(st == 200, "%s login: %ld", a->name, st);
		const char *token = json_string_value(json_object_get(j, "token"));
		ck_assert_ptr_nonnull(token);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "csrf")));
		char *bearer = xasprintf("Authorization: Bearer %s", token);
		json_decref(j);
		ck_assert_int_eq(request(a, "GET", a->probe, NULL, NULL), 401);
		ck_assert_msg(request(a, "GET", a->probe, bearer, NULL) == 200, "%s %s", a->name,
			      a->probe);
		ck_assert_int_eq(request(a, "POST", "/api/logout", bearer, ""), 200);
		ck_assert_int_eq(request(a, "GET", a->probe, bearer, NULL), 401);
		ck_assert_int_eq(request(a, "POST", "/api/login", NULL, "{\"password\":\"wrong\"}"),
				 401);
		ck_assert_int_eq(request(a, "GET", "/healthz", NULL, NULL), 200);
		free(bearer);
	}
}

/* One test: a forked test's exit would stop the daemons the next one needs. */
TEST(test_auth_routes)
{
	start_all();
	every_guarded_route_refuses_strangers();
	login_call_logout();
	stop_all();
}

TL_SUITE(.timeout = 120);
