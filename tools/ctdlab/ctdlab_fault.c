/* ctdlab_fault.c - `ctdlab fault add|list|clear`: the fault rules of the
 * lab's daemons (common/fault.h) through each one's /api/lab/faults, logged
 * in with the console password of its ready file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctdlab.h"
#include "http_client.h"
#include "util.h"

#define FAULT_API "/api/lab/faults"
#define API_TIMEOUT_MS 10000

static void usage(void)
{
	fprintf(stderr,
		"usage: ctdlab fault add APPLIANCE --match GLOB [--point http|smtp|peer]\n"
		"                 [--status CODE] [--action respond|drop|reset|malformed]\n"
		"                 [--delay MS] [--probability P] [--count N] [--ttl DURATION]\n"
		"                 [--method METHOD] [--client GLOB] [--message TEXT] [--seed N]\n"
		"       ctdlab fault list [APPLIANCE]\n"
		"       ctdlab fault clear [APPLIANCE] [--id N]\n"
		"  APPLIANCE: ddan, ddi, tmcm, sps or imsva; list and clear without one: all\n");
}

/* A daemon's fault API: its URL and a session token. */
typedef struct fault_api {
	const appliance *a;
	char *url;
	char *auth; /* "Authorization: Bearer <token>" */
} fault_api;

static const appliance *find_appliance(const char *name)
{
	for (int i = 0; i < lab_nappliances; i++)
		if (strcmp(lab_appliances[i].name, name) == 0)
			return &lab_appliances[i];
	return NULL;
}

/* method url with the JSON body (may be NULL; stolen): the status, -1 when
 * no answer came; the parsed answer in *out. */
static long call(const fault_api *api, const char *method, const char *path, json_t *body,
		 json_t **out)
{
	char *url = xasprintf("%s%s", api->url, path);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *headers[] = {"Content-Type: application/json", api->auth, NULL};
	http_client_opts opts = {.timeout_ms = API_TIMEOUT_MS};
	http_response r = {0};
	ctd_err err = {0};
	long status = -1;
	*out = NULL;
	if (http_fetch(&opts, &(http_request){.method = method, .url = url, .headers = headers,
					      .body = text, .body_len = text ? strlen(text) : 0},
		       &r, &err) == 0) {
		status = r.status;
		*out = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	} else {
		fprintf(stderr, "ctdlab fault: %s: %s\n", api->a->name, err.msg);
	}
	http_response_free(&r);
	json_decref(body);
	free(text);
	free(url);
	return status;
}

/* Log in as admin with the console password of the ready file. */
static int api_open(const lab *l, const appliance *a, fault_api *api)
{
	*api = (fault_api){.a = a};
	json_t *ready = lab_ready(l, a);
	const char *url = ready ? ready_url(ready) : NULL;
	const char *pw = json_string_value(
		json_object_get(json_object_get(json_object_get(ready, "info"), "console"), "password"));
	if (!url || !pw) {
		fprintf(stderr, "ctdlab fault: %s is not running (no ready file in %s)\n", a->name,
			l->dir);
		json_decref(ready);
		return -1;
	}
	api->url = xstrdup(url);
	json_t *answer;
	api->auth = xstrdup("Accept: application/json");
	long status = call(api, "POST", "/api/login",
			   json_pack("{s:s, s:s}", "username", "admin", "password", pw), &answer);
	json_decref(ready);
	const char *token = json_string_value(json_object_get(answer, "token"));
	free(api->auth);
	api->auth = status == 200 && token ? xasprintf("Authorization: Bearer %s", token) : NULL;
	json_decref(answer);
	if (!api->auth) {
		fprintf(stderr, "ctdlab fault: %s: login refused (HTTP %ld)\n", a->name, status);
		free(api->url);
		return -1;
	}
	return 0;
}

static void api_close(fault_api *api)
{
	free(api->url);
	free(api->auth);
}

static const char *error_message(json_t *answer)
{
	const char *m = json_string_value(json_object_get(json_object_get(answer, "error"), "message"));
	return m ? m : "no error message";
}

/* ---- add ------------------------------------------------------------------ */

/* --name value into the rule: numbers for the numeric fields. */
static int rule_option(json_t *rule, const char *opt, const char *v)
{
	static const char *const strings[] = {"match", "point", "action", "method", "client",
					      "message", "ttl"};
	static const char *const ints[] = {"status", "count", "seed"};
	char *end;
	if (strncmp(opt, "--", 2) != 0)
		return -1;
	opt += 2;
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		if (strcmp(opt, strings[i]) == 0)
			return json_object_set_new(rule, opt, json_string(v));
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		if (strcmp(opt, ints[i]) == 0) {
			long long n = strtoll(v, &end, 10);
			return *end ? -1 : json_object_set_new(rule, opt, json_integer(n));
		}
	}
	if (strcmp(opt, "delay") == 0) {
		long long n = strtoll(v, &end, 10);
		return *end ? -1 : json_object_set_new(rule, "delay_ms", json_integer(n));
	}
	if (strcmp(opt, "probability") == 0) {
		double p = strtod(v, &end);
		return *end ? -1 : json_object_set_new(rule, opt, json_real(p));
	}
	return -1;
}

static void print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	printf("%s\n", text);
	free(text);
}

static void print_rule(const char *appliance_name, json_t *r)
{
	printf("%-6s #%-3lld %-5s %-32s %-9s status=%lld delay=%lldms p=%g count=%lld fired=%lld%s%s\n",
	       appliance_name, json_integer_value(json_object_get(r, "id")),
	       json_string_value(json_object_get(r, "point")),
	       json_string_value(json_object_get(r, "match")),
	       json_string_value(json_object_get(r, "action")),
	       json_integer_value(json_object_get(r, "status")),
	       json_integer_value(json_object_get(r, "delay_ms")),
	       json_number_value(json_object_get(r, "probability")),
	       json_integer_value(json_object_get(r, "count")),
	       json_integer_value(json_object_get(r, "fired")),
	       json_object_get(r, "expires") ? " until " : "",
	       json_object_get(r, "expires") ? json_string_value(json_object_get(r, "expires")) : "");
}

static int fault_add_cmd(const lab *l, const appliance *a, int argc, char **argv)
{
	json_t *rule = json_object();
	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc || rule_option(rule, argv[i], argv[i + 1]) != 0) {
			fprintf(stderr, "ctdlab fault add: bad option %s\n", argv[i]);
			json_decref(rule);
			usage();
			return 2;
		}
	}
	fault_api api;
	if (api_open(l, a, &api) != 0) {
		json_decref(rule);
		return 1;
	}
	json_t *answer;
	long status = call(&api, "POST", FAULT_API, rule, &answer);
	int rc = status == 201 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "ctdlab fault add: %s: HTTP %ld: %s\n", a->name, status,
			error_message(answer));
	else if (l->json)
		print_json(answer);
	else
		print_rule(a->name, json_array_get(json_object_get(answer, "added"), 0));
	json_decref(answer);
	api_close(&api);
	return rc;
}

/* ---- list / clear ----------------------------------------------------------- */

/* List or clear the rules of one appliance into all[name]. */
static int one_appliance(const lab *l, const appliance *a, int clear, const char *id,
			 json_t *all)
{
	fault_api api;
	if (api_open(l, a, &api) != 0)
		return -1;
	char *path = clear && id ? xasprintf("%s/%s", FAULT_API, id) : xstrdup(FAULT_API);
	json_t *answer;
	long status = call(&api, clear ? "DELETE" : "GET", path, NULL, &answer);
	int rc = status == 200 ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "ctdlab fault: %s: HTTP %ld: %s\n", a->name, status,
			error_message(answer));
	else
		json_object_set(all, a->name, clear ? json_object_get(answer, "removed")
						    : json_object_get(answer, "faults"));
	json_decref(answer);
	free(path);
	api_close(&api);
	return rc;
}

static void print_all(const lab *l, json_t *all, int clear)
{
	if (l->json) {
		print_json(all);
		return;
	}
	const char *name;
	json_t *v;
	json_object_foreach(all, name, v) {
		if (clear) {
			printf("%-6s removed %lld\n", name, json_integer_value(v));
			continue;
		}
		size_t i;
		json_t *r;
		json_array_foreach(v, i, r)
			print_rule(name, r);
	}
}

static int fault_each(const lab *l, const appliance *a, int clear, const char *id)
{
	json_t *all = json_object();
	int failed = 0;
	for (int i = 0; i < lab_nappliances; i++) {
		const appliance *one = &lab_appliances[i];
		if ((a && a != one) || (!a && !lab_pid(l, one)))
			continue;
		failed |= one_appliance(l, one, clear, id, all) != 0;
	}
	print_all(l, all, clear);
	json_decref(all);
	return failed ? 1 : 0;
}

int cmd_fault(const lab *l, int argc, char **argv)
{
	if (argc < 1) {
		usage();
		return 2;
	}
	const char *sub = argv[0];
	const appliance *a = argc > 1 && argv[1][0] != '-' ? find_appliance(argv[1]) : NULL;
	if (argc > 1 && argv[1][0] != '-' && !a) {
		fprintf(stderr, "ctdlab fault: unknown appliance %s\n", argv[1]);
		usage();
		return 2;
	}
	int rest = a ? 2 : 1;
	if (strcmp(sub, "add") == 0 && a)
		return fault_add_cmd(l, a, argc - rest, argv + rest);
	if (strcmp(sub, "list") == 0 && argc == rest)
		return fault_each(l, a, 0, NULL);
	if (strcmp(sub, "clear") == 0 && (argc == rest || (argc == rest + 2 &&
							    strcmp(argv[rest], "--id") == 0)))
		return fault_each(l, a, 1, argc == rest + 2 ? argv[rest + 1] : NULL);
	usage();
	return 2;
}
