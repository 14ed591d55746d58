/* test_tmcm_api.c - the Automation API of a real tmcmd over HTTPS, driven the
 * way the public Apex Central clients drive it (reference §7): XSOAR (float
 * iat, Python json.dumps bodies, PUT on .../UserDefinedSO/, raw query values,
 * DELETE by query), Chronicle (integer iat, urlencoded query hashed lower-case,
 * no trailing slash, ProductServers ping), the stdlib IOC script (compact JSON,
 * DELETE by body); plus the documented auth failures, FileUDSO, the /v1/ path,
 * path case, and ProductServers/ProductAgents listing a registered product;
 * XSOAR's "//WebApp/..." targets (checksum over "/WebApp/..."), 401 before 404
 * on unknown paths, the log query and the Endpoint Sensor tasks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "dtas.h"
#include "testlib.h"
#include "tl_jwt.h"
#include "util.h"

static char *home;
static pid_t pid;
static json_t *ready;
static const char *base_url, *app_id, *api_key;

static void start_tmcm(void)
{
	home = tl_tmpdir("tmcm-api");
	const char *args[] = {"--port", "0", "--tls", "yes", "--token-timeout", "60s", NULL};
	pid = tl_spawn_daemon("tmcmd", home, args);
	ready = tl_wait_ready(home, "tmcm", TL_START_MS);
	ck_assert_msg(ready != NULL, "tmcmd did not become ready");
	base_url = tl_listener(ready, "https");
	ck_assert_ptr_nonnull(base_url);
	json_t *info = json_object_get(ready, "info");
	app_id = json_string_value(json_object_get(info, "app_id"));
	api_key = json_string_value(json_object_get(info, "api_key"));
	ck_assert_ptr_nonnull(app_id);
	ck_assert_ptr_nonnull(api_key);
}

static void stop_tmcm(void)
{
	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	json_decref(ready);
	tl_rmrf(home);
	free(home);
}

static char *bearer(const tl_jwt_style *cs, const char *method, const char *hashed_target,
		    const char *body)
{
	return tl_jwt_bearer(cs, app_id, api_key, method, hashed_target, body);
}

/* One Automation API call; hashed_target NULL = the target as sent. */
static json_t *call(const tl_jwt_style *cs, const char *method, const char *target,
		    const char *hashed_target, const char *body, long *status)
{
	char *auth = bearer(cs, method, hashed_target ? hashed_target : target, body);
	const char *headers[] = {auth, "Content-Type: application/json", NULL};
	char *url = xasprintf("%s%s", base_url, target);
	json_t *j = tl_http_json(method, url, headers, body, status);
	free(url);
	free(auth);
	ck_assert_msg(j != NULL, "%s %s: no JSON answer (HTTP %ld)", method, target, *status);
	return j;
}

static json_int_t meta_code(json_t *env)
{
	json_t *code = json_object_get(json_object_get(env, "Meta"), "ErrorCode");
	ck_assert_msg(json_is_integer(code), "Meta.ErrorCode is not an integer");
	return json_integer_value(code);
}

/* The UDSO list Data array (asserted to be an array). */
static json_t *udso_list(const tl_jwt_style *cs, const char *target, const char *hashed)
{
	long status;
	json_t *env = call(cs, "GET", target, hashed, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	json_t *data = json_incref(json_object_get(env, "Data"));
	ck_assert(json_is_array(data));
	json_decref(env);
	return data;
}

static json_t *find(json_t *list, const char *type, const char *content)
{
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 &&
		    strcmp(json_string_value(json_object_get(o, "content")), content) == 0)
			return o;
	}
	return NULL;
}

#define IMSVA_UUID "11111111-2222-3333-4444-555555555555"

/* An IMSVA registers over the DTAS-style API with its feed key (host imsva.lab). */
static void register_imsva(void)
{
	json_t *info = json_object_get(ready, "info");
	dtas_client c = {
		.base_url = (char *)base_url,
		.api_key = (char *)json_string_value(json_object_get(info, "imsva_feed_key")),
		.client_uuid = IMSVA_UUID,
		.product_name = "IMSVA",
		.hostname = "imsva.lab",
		.source_id = "103",
		.source_name = "IMSVA",
		.protocol_version = "1.5",
	};
	ctd_err err = {0};
	ck_assert_msg(dtas_register(&c, &err) == 0, "register: %s", err.msg);
}

#define UDSO "/WebApp/api/SuspiciousObjects/UserDefinedSO"

TEST(test_xsoar_udso_round_trip)
{
	start_tmcm();
	long status;
	/* json.dumps separators, every key present, expiration "" */
	const char *body = "{\"param\": {\"type\": \"ip\", \"content\": \"203.0.113.7\", \"notes\": "
			   "\"Documentation\", \"scan_action\": \"Block\", \"expiration_utc_date\": \"\"}}";
	json_t *env = call(&TL_JWT_XSOAR, "PUT", UDSO "/", NULL, body, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(env, "Meta"), "Result")), 1);
	json_decref(env);

	/* a second object with an expiry in the client's Python isoformat */
	body = "{\"param\": {\"type\": \"file_sha1\", \"content\": "
	       "\"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3\", \"notes\": \"\", \"scan_action\": "
	       "\"log\", \"expiration_utc_date\": \"2031-01-01T12:00:00.123456+00:00\"}}";
	env = call(&TL_JWT_XSOAR, "PUT", UDSO "/", NULL, body, &status);
	ck_assert_int_eq(status, 200);
	json_decref(env);

	json_t *list = udso_list(&TL_JWT_XSOAR, UDSO "?type=&contentFilter=", NULL);
	json_t *ip = find(list, "ip", "203.0.113.7");
	ck_assert_ptr_nonnull(ip);
	ck_assert_str_eq(json_string_value(json_object_get(ip, "scan_action")), "block");
	ck_assert_str_eq(json_string_value(json_object_get(ip, "notes")), "Documentation");
	ck_assert(json_is_null(json_object_get(ip, "expiration_utc_date")));
	json_t *f = find(list, "file_sha1", "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(f, "expiration_utc_date")),
			 "2031-01-01T12:00:00");
	json_decref(list);

	/* DELETE by query, values unencoded, no trailing slash */
	env = call(&TL_JWT_XSOAR, "DELETE", UDSO "?type=ip&content=203.0.113.7", NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	json_decref(env);
	list = udso_list(&TL_JWT_XSOAR, UDSO "?type=ip&contentFilter=", NULL);
	ck_assert_int_eq(json_array_size(list), 0);
	json_decref(list);

	/* deleting it again: documented "Data not found" */
	env = call(&TL_JWT_XSOAR, "DELETE", UDSO "?type=ip&content=203.0.113.7", NULL, NULL, &status);
	ck_assert_int_eq(status, 500);
	ck_assert_int_eq(meta_code(env), 8);
	json_decref(env);
	stop_tmcm();
}

TEST(test_chronicle_udso_round_trip)
{
	start_tmcm();
	long status;
	/* ping: ProductServers?host_name=x answers 2xx with an empty list */
	json_t *env = call(&TL_JWT_CHRONICLE, "GET", "/WebApp/API/ServerResource/ProductServers?host_name=x",
			   NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), 1);
	ck_assert(json_is_array(json_object_get(env, "result_content")));
	ck_assert_int_eq(json_array_size(json_object_get(env, "result_content")), 0);
	json_decref(env);

	/* PUT without the trailing slash, no expiration key */
	const char *body = "{\"param\": {\"content\": \"http://bad.example/dl?id=1\", \"type\": "
			   "\"url\", \"scan_action\": \"block\", \"notes\": \"from SOAR\"}}";
	env = call(&TL_JWT_CHRONICLE, "PUT", UDSO, NULL, body, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	json_decref(env);

	/* GET with requests' params: sent encoded, hashed urlencode(...).lower() */
	const char *sent = UDSO "?type=url&contentFilter=http%3A%2F%2Fbad.example";
	char *hashed = xstrdup(sent);
	str_lower(hashed);
	json_t *list = udso_list(&TL_JWT_CHRONICLE, sent, hashed);
	free(hashed);
	ck_assert_int_eq(json_array_size(list), 1);
	ck_assert_ptr_nonnull(find(list, "url", "http://bad.example/dl?id=1"));
	json_decref(list);

	/* the /v1/ path and any path case reach the same list */
	list = udso_list(&TL_JWT_CHRONICLE, "/webapp/API/v1/suspiciousobjects/userdefinedso/?type=url", NULL);
	ck_assert_int_eq(json_array_size(list), 1);
	json_decref(list);

	/* DELETE by body, compact JSON (the stdlib IOC script) */
	body = "{\"param\":{\"type\":\"url\",\"content\":\"http://bad.example/dl?id=1\"}}";
	env = call(&TL_JWT_CHRONICLE, "DELETE", UDSO "/", NULL, body, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(env, "Meta"), "Result")), 1);
	json_decref(env);
	list = udso_list(&TL_JWT_CHRONICLE, UDSO, NULL);
	ck_assert_int_eq(json_array_size(list), 0);
	json_decref(list);
	stop_tmcm();
}

TEST(test_auth_failures)
{
	start_tmcm();
	long status;
	/* no token at all */
	char *url = xasprintf("%s%s", base_url, UDSO);
	json_t *env = tl_http_json("GET", url, NULL, NULL, &status);
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(meta_code(env), 14);
	json_decref(env);
	free(url);

	tl_jwt_style stale = {6, JWT_ALG_HS256, NULL, -3600};
	env = call(&stale, "GET", UDSO, NULL, NULL, &status);
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(meta_code(env), 18);
	json_decref(env);

	tl_jwt_style wrong_key = {0, JWT_ALG_HS256, "not-the-api-key", 0};
	env = call(&wrong_key, "GET", UDSO, NULL, NULL, &status);
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(meta_code(env), 19);
	json_decref(env);

	/* the body sent differs from the body hashed */
	char *auth = bearer(&TL_JWT_XSOAR, "PUT", UDSO "/", "{\"param\": {}}");
	const char *headers[] = {auth, "Content-Type: application/json", NULL};
	url = xasprintf("%s%s/", base_url, UDSO);
	env = tl_http_json("PUT", url, headers, "{\"param\": {\"x\": 1}}", &status);
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(meta_code(env), 20);
	json_decref(env);
	free(url);
	free(auth);

	/* result_code family: the same failure as -2 .. -9 */
	url = xasprintf("%s/WebApp/API/AgentResource/ProductAgents", base_url);
	env = tl_http_json("GET", url, NULL, NULL, &status);
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), -2);
	json_decref(env);
	free(url);
	stop_tmcm();
}

TEST(test_file_udso_and_products)
{
	start_tmcm();
	long status;
	/* "123123" base64; the list shows type file with the upper-case SHA-1 */
	const char *body = "{\"file_name\": \"VerySmallFile.txt\", \"file_content_base64_string\": "
			   "\"MTIzMTIz\", \"file_scan_action\": \"BLOCK\", \"note\": \"Small file\"}";
	json_t *env = call(&TL_JWT_XSOAR, "PUT", "/WebApp/api/SuspiciousObjectResource/FileUDSO", NULL, body,
			   &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), 1);
	json_decref(env);
	json_t *list = udso_list(&TL_JWT_XSOAR, UDSO "?type=file&contentFilter=", NULL);
	json_t *f = find(list, "file", "601F1889667EFAEBB33B8C12572835DA3F027F78");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_string_value(json_object_get(f, "scan_action")), "block");
	json_decref(list);

	register_imsva();

	env = call(&TL_JWT_CHRONICLE, "GET", "/WebApp/API/ServerResource/ProductServers?host_name=imsva.lab",
		   NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	json_t *servers = json_object_get(env, "result_content");
	ck_assert_int_eq(json_array_size(servers), 1);
	json_t *s = json_array_get(servers, 0);
	ck_assert_str_eq(json_string_value(json_object_get(s, "entity_id")), IMSVA_UUID);
	ck_assert_str_eq(json_string_value(json_object_get(s, "product")), "SLF_PRODUCT_IMSVA");
	ck_assert_str_eq(json_string_value(json_object_get(s, "ip_address_list")), "127.0.0.1");
	json_decref(env);

	/* agents: isolate it, then the listing shows it isolated */
	body = "{\"act\": \"cmd_isolate_agent\", \"allow_multiple_match\": false, \"host_name\": "
	       "\"imsva.lab\"}";
	env = call(&TL_JWT_XSOAR, "POST", "/WebApp/API/AgentResource/ProductAgents/", NULL, body, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(env, "result_content")), 1);
	json_decref(env);
	env = call(&TL_JWT_XSOAR, "GET", "/WebApp/API/AgentResource/ProductAgents?host_name=imsva.lab", NULL,
		   NULL, &status);
	json_t *a = json_array_get(json_object_get(env, "result_content"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(a, "isolation_status")), "isolated");
	json_decref(env);
	stop_tmcm();
}

/* Console credentials: a session from /api/login, or the password or the
 * Automation API key as X-Api-Key; anything else is 401. */
TEST(test_console_login)
{
	start_tmcm();
	const char *pw = json_string_value(json_object_get(json_object_get(ready, "info"),
							   "console_password"));
	char *url = xasprintf("%s/api/login", base_url);
	char *body = xasprintf("{\"password\": \"%s\"}", pw);
	long status;
	json_t *login = tl_http_json("POST", url, NULL, body, &status);
	ck_assert_int_eq(status, 200);
	char *session = xasprintf("X-Session: %s",
				  json_string_value(json_object_get(login, "token")));
	json_decref(login);
	json_decref(tl_http_json("POST", url, NULL, "{\"password\": \"wrong\"}", &status));
	ck_assert_int_eq(status, 401);
	free(body);
	free(url);

	char *with_key = xasprintf("X-Api-Key: %s", api_key);
	const char *const creds[][2] = {{session, NULL}, {with_key, NULL}, {"X-Api-Key: nope", NULL}};
	const long want[] = {200, 200, 401};
	url = xasprintf("%s/api/status", base_url);
	for (int i = 0; i < 3; i++) {
		json_t *j = tl_http_json("GET", url, creds[i], NULL, &status);
		ck_assert_msg(status == want[i], "credential %d: HTTP %ld", i, status);
		if (status == 200)
			ck_assert_str_eq(json_string_value(json_object_get(j, "appliance")), "tmcm");
		json_decref(j);
	}
	json_decref(tl_http_json("GET", url, NULL, NULL, &status));
	ck_assert_int_eq(status, 401);
	free(url);
	free(with_key);
	free(session);
	stop_tmcm();
}

/* A console call with the password as X-Api-Key. */
static json_t *console(const char *method, const char *path, const char *ctype,
		       const char *body, long want)
{
	const char *pw = json_string_value(json_object_get(json_object_get(ready, "info"),
							   "console_password"));
	char *key = xasprintf("X-Api-Key: %s", pw), *ct = xasprintf("Content-Type: %s", ctype);
	json_t *j = tl_api(base_url, method, path, (const char *const[]){key, ct, NULL}, body, want);
	free(ct);
	free(key);
	return j;
}

/* Automation API Access Settings > regenerate over HTTP: the Automation API
 * takes JWTs signed with the new key only, the console the new key only. */
TEST(test_console_regenerate_api_key)
{
	start_tmcm();
	char *old = xstrdup(api_key);
	json_t *r = console("POST", "/api/settings/api-key", "application/json", NULL, 200);
	char *fresh = xstrdup(json_string_value(json_object_get(r, "api_key")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "application_id")), app_id);
	ck_assert_str_ne(fresh, old);
	json_decref(r);
	json_t *settings = console("GET", "/api/settings", "application/json", NULL, 200);
	json_t *automation = json_object_get(settings, "automation_api");
	ck_assert_str_eq(json_string_value(json_object_get(automation, "api_key")), fresh);
	ck_assert(json_is_false(json_object_get(automation, "pinned")));
	json_decref(settings);

	long status;
	const tl_jwt_style with_old = {0, JWT_ALG_HS256, old, 0};
	const tl_jwt_style with_new = {0, JWT_ALG_HS256, fresh, 0};
	json_decref(call(&with_old, "GET", UDSO, NULL, NULL, &status));
	ck_assert_int_eq(status, 401);
	json_decref(call(&with_new, "GET", UDSO, NULL, NULL, &status));
	ck_assert_int_eq(status, 200);
	char *url = xasprintf("%s/api/status", base_url);
	char *old_hdr = xasprintf("X-Api-Key: %s", old), *new_hdr = xasprintf("X-Api-Key: %s", fresh);
	json_decref(tl_http_json("GET", url, (const char *const[]){old_hdr, NULL}, NULL, &status));
	ck_assert_int_eq(status, 401);
	json_decref(tl_http_json("GET", url, (const char *const[]){new_hdr, NULL}, NULL, &status));
	ck_assert_int_eq(status, 200);
	free(url);
	free(old_hdr);
	free(new_hdr);
	free(old);
	free(fresh);
	stop_tmcm();
}

/* The console's UDSO CSV Import (raw body) and Export, the Product Directory,
 * and Set action's expiry checked before anything changes. */
TEST(test_console_csv_directory_action)
{
	start_tmcm();
	json_t *r = console("POST", "/api/udso/import", "text/csv",
			    "Type,Object,Action,Expiration (UTC),Notes\n"
			    "domain,csv.lab,block,,imported\nip,999.1.1.1,log\n", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "imported")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
		json_object_get(r, "errors"), 0), "line")), 3);
	ck_assert_int_gt(json_integer_value(json_object_get(r, "change_id")), 0);
	json_decref(r);

	const char *pw = json_string_value(json_object_get(json_object_get(ready, "info"),
							   "console_password"));
	char *key = xasprintf("X-Api-Key: %s", pw), *url = xasprintf("%s/api/udso/export", base_url);
	http_response resp = {0};
	ck_assert_int_eq(tl_http("GET", url, (const char *const[]){key, NULL}, NULL, &resp), 200);
	ck_assert_ptr_nonnull(strstr(resp.body.data, "domain,csv.lab,block,,imported\r\n"));
	http_response_free(&resp);
	free(url);
	free(key);

	json_t *d = console("GET", "/api/directory", "application/json", NULL, 200);
	ck_assert(json_is_array(json_object_get(d, "items")));
	json_decref(d);
	json_decref(console("POST", "/api/va-objects/action", "application/json",
			    "{\"ids\":[1],\"action\":\"block\",\"expiration_utc_date\":\"soon\"}",
			    400));
	json_decref(console("POST", "/api/va-objects/action", "application/json",
			    "{\"ids\":[1],\"action\":\"block\",\"expiration_utc_date\":7}", 400));
	json_decref(console("POST", "/api/va-objects/action", "application/json",
			    "{\"ids\":[1],\"action\":\"block\",\"expiration_utc_date\":null}",
			    404));
	stop_tmcm();
}

/* Bad input gets the documented 4xx codes, never a crash. */
TEST(test_bad_input)
{
	start_tmcm();
	static const struct {
		const char *body;
		long status;
		json_int_t code;
	} cases[] = {
		{"{not json", 400, 7},
		{"{\"param\": {\"type\": \"ip\", \"content\": \"1.2.3.4\"}}", 400, 7},
		{"{\"param\": {\"type\": \"ip\", \"content\": \"300.2.3.4\", \"scan_action\": \"log\"}}",
		 400, 11},
		{"{\"param\": {\"type\": \"ip\", \"content\": \"1.2.3.4\", \"scan_action\": "
		 "\"quarantine\"}}", 400, 11},
		{"{\"param\": {\"type\": \"file_sha256\", \"content\": \"ab\", \"scan_action\": "
		 "\"log\"}}", 400, 11},
		{"{\"param\": {\"type\": \"url\", \"content\": \"http://x.lab/\", \"scan_action\": "
		 "\"log\", \"expiration_utc_date\": \"next tuesday\"}}", 400, 11},
		{"{\"param\": {\"type\": \"domain\", \"content\": \"x.lab\", \"scan_action\": "
		 "\"delete\"}}", 400, 11},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long status;
		json_t *env = call(&TL_JWT_XSOAR, "PUT", UDSO "/", NULL, cases[i].body, &status);
		ck_assert_msg(status == cases[i].status, "case %zu: HTTP %ld", i, status);
		ck_assert_msg(meta_code(env) == cases[i].code, "case %zu: code %lld", i,
			      (long long)meta_code(env));
		json_decref(env);
	}
	long status;
	json_t *env = call(&TL_JWT_XSOAR, "GET", UDSO "?type=hash", NULL, NULL, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_int_eq(meta_code(env), 7);
	json_decref(env);
	env = call(&TL_JWT_XSOAR, "PUT", "/WebApp/api/SuspiciousObjectResource/FileUDSO", NULL,
		   "{\"file_name\": \"a\", \"file_content_base64_string\": \"@@@\", "
		   "\"file_scan_action\": \"LOG\"}", &status);
	ck_assert_int_eq(status, 400);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), -21);
	json_decref(env);

	/* issue 16: U+0001 in a UDSO's content (or notes) is refused at the door,
	 * the error naming the field; nothing is stored */
	static const struct {
		const char *body, *field;
	} controls[] = {
		{"{\"param\": {\"type\": \"url\", \"content\": \"http://evil.lab/\\u0001x\", "
		 "\"scan_action\": \"block\"}}", "content: control character U+0001"},
		{"{\"param\": {\"type\": \"domain\", \"content\": \"evil\\u0001.lab\", "
		 "\"scan_action\": \"block\"}}", "content: control character U+0001"},
		{"{\"param\": {\"type\": \"domain\", \"content\": \"evil.lab\", "
		 "\"scan_action\": \"block\", \"notes\": \"a\\u0001\"}}", "notes: control character"},
	};
	for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++) {
		json_t *e = call(&TL_JWT_XSOAR, "PUT", UDSO "/", NULL, controls[i].body, &status);
		ck_assert_msg(status == 400, "control case %zu: HTTP %ld", i, status);
		ck_assert_int_eq(meta_code(e), 11);
		const char *msg = json_string_value(json_object_get(json_object_get(e, "Meta"), "ErrorMsg"));
		ck_assert_msg(msg && strstr(msg, controls[i].field), "control case %zu: %s", i, msg);
		json_decref(e);
	}
	env = call(&TL_JWT_XSOAR, "GET", UDSO, NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(env, "Data")), 0);
	json_decref(env);
	env = call(&TL_JWT_XSOAR, "PUT", "/WebApp/api/SuspiciousObjectResource/FileUDSO", NULL,
		   "{\"file_name\": \"a\\u0001.exe\", \"file_content_base64_string\": \"QUJD\", "
		   "\"file_scan_action\": \"LOG\"}", &status);
	ck_assert_int_eq(status, 400);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), -21);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(env, "result_description")),
				     "file_name: control character U+0001"));
	json_decref(env);

	/* the feed API: unsigned and malformed requests */
	char *url = xasprintf("%s/web_service/sample_upload/get_black_lists", base_url);
	http_response resp;
	ck_assert_int_eq(tl_http("GET", url, NULL, NULL, &resp), 401);
	http_response_free(&resp);
	free(url);
	stop_tmcm();
}

/* XSOAR's base URL ends in "/" (urljoin(url, '')): its UDSO and agent calls
 * go to "//WebApp/..." with the checksum over "/WebApp/...". And a wrong key
 * reads 401, not 404, on unknown paths under /WebApp. */
TEST(test_xsoar_double_slash_targets)
{
	start_tmcm();
	register_imsva();
	long status;
	json_t *env = call(&TL_JWT_XSOAR, "GET", "/" UDSO "?type=&contentFilter=", UDSO "?type=&contentFilter=",
			   NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	json_decref(env);
	const char *body = "{\"param\": {\"type\": \"domain\", \"content\": \"evil.example\", \"notes\": "
			   "\"\", \"scan_action\": \"block\", \"expiration_utc_date\": \"\"}}";
	env = call(&TL_JWT_XSOAR, "PUT", "/" UDSO "/", UDSO "/", body, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	json_decref(env);
	json_t *list = udso_list(&TL_JWT_XSOAR, "/" UDSO "?type=domain&contentFilter=",
				 UDSO "?type=domain&contentFilter=");
	ck_assert_ptr_nonnull(find(list, "domain", "evil.example"));
	json_decref(list);
	env = call(&TL_JWT_XSOAR, "DELETE", "/" UDSO "?type=domain&content=evil.example",
		   UDSO "?type=domain&content=evil.example", NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(env);

	body = "{\"act\": \"cmd_isolate_agent\", \"allow_multiple_match\": true, \"entity_id\": \"\", "
	       "\"ip_address\": \"\", \"mac_address\": \"\", \"host_name\": \"imsva.lab\", "
	       "\"product\": \"\"}";
	env = call(&TL_JWT_XSOAR, "POST", "//WebApp/API/AgentResource/ProductAgents/",
		   "/WebApp/API/AgentResource/ProductAgents/", body, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "result_code")), 1);
	json_decref(env);

	/* unknown paths: the API's own 401 for a wrong key, 404 for the right one */
	tl_jwt_style wrong_key = {6, JWT_ALG_HS256, "not-the-api-key", 0};
	env = call(&wrong_key, "GET", "//WebApp/api/NoSuchResource", "/WebApp/api/NoSuchResource", NULL,
		   &status);
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(meta_code(env), 19);
	json_decref(env);
	env = call(&TL_JWT_XSOAR, "GET", "//WebApp/api/NoSuchResource", "/WebApp/api/NoSuchResource", NULL,
		   &status);
	ck_assert_int_eq(status, 404);
	json_decref(env);
	stop_tmcm();
}

/* The log query as XSOAR's list-logs sends it (url_suffix, no double slash). */
TEST(test_logs_query)
{
	start_tmcm();
	long status;
	json_t *env = call(&TL_JWT_XSOAR, "GET",
			   "/WebApp/api/v1/logs/officescan_virus?output_format=1&page_token=0&since_time=0",
			   NULL, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(meta_code(env), 0);
	json_t *data = json_object_get(env, "Data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "SyslogName")), "Virus/Malware");
	ck_assert(json_is_array(json_object_get(data, "Logs")));
	ck_assert_int_eq(json_integer_value(json_object_get(data, "Count")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(data, "NextPage"),
							    "PageToken")), 0);
	json_decref(env);
	env = call(&TL_JWT_XSOAR, "GET", "/WebApp/api/v1/logs/no_such_log?output_format=1&page_token=0&since_time=0",
		   NULL, NULL, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_int_eq(meta_code(env), 7);
	json_decref(env);
	stop_tmcm();
}

#define ANSWERS_REUSED "ctdlab_store_answers_total{outcome=\"reused\"}"

static void udso_put(const char *type, const char *content, const char *expiry)
{
	char *body = xasprintf("{\"param\": {\"type\": \"%s\", \"content\": \"%s\", \"notes\": \"\", "
			       "\"scan_action\": \"log\", \"expiration_utc_date\": \"%s\"}}",
			       type, content, expiry);
	long status;
	json_t *env = call(&TL_JWT_XSOAR, "PUT", UDSO, NULL, body, &status);
	ck_assert_int_eq(status, 200);
	json_decref(env);
	free(body);
}

/* How many objects the list for target holds, and whether content is one. */
static size_t listed(const char *target, const char *type, const char *content, int *has)
{
	json_t *list = udso_list(&TL_JWT_XSOAR, target, NULL);
	size_t n = json_array_size(list);
	*has = content && find(list, type, content) != NULL;
	json_decref(list);
	return n;
}

/* The list is served again while the store is unchanged (each of the two
 * handler threads builds it once), and fresh after a write through the API
 * or by another process; other parameters get their own answer; an object
 * leaves the list when it expires. */
TEST(test_udso_list_reuse)
{
	start_tmcm();
	udso_put("ip", "203.0.113.9", "");
	int has;
	double reused = tl_metric(base_url, ANSWERS_REUSED);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(listed(UDSO "?type=", "ip", "203.0.113.9", &has), 1);
		ck_assert(has);
	}
	ck_assert_double_ge(tl_metric(base_url, ANSWERS_REUSED) - reused, 4);
	/* other parameters, other answers */
	ck_assert_int_eq(listed(UDSO "?type=url", NULL, NULL, &has), 0);
	ck_assert_int_eq(listed(UDSO "?contentFilter=198.51", NULL, NULL, &has), 0);
	ck_assert_int_eq(listed(UDSO "?contentFilter=203.0", "ip", "203.0.113.9", &has), 1);
	ck_assert(has);

	/* a write through the API */
	udso_put("domain", "reuse.example", "");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(listed(UDSO "?type=", "domain", "reuse.example", &has), 2);
		ck_assert(has);
	}
	/* a write by another process */
	char *db = xasprintf("%s/lab.db", home);
	const char *argv[] = {"/usr/bin/sqlite3", db, "DELETE FROM tmcm_udso WHERE content = 'reuse.example'",
			      NULL};
	char *out = NULL;
	ck_assert_msg(tl_run(argv, &out) == 0, "sqlite3: %s", out);
	free(out);
	free(db);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(listed(UDSO "?type=", "domain", "reuse.example", &has), 1);
		ck_assert(!has);
	}

	/* expiry: listed until its time, then gone (a kept list holds only until
	 * the first expiry among its objects) */
	char exp[32];
	time_iso8601(time_now_ms() + 5000, exp, sizeof exp);
	udso_put("url", "http://expiring.example/", exp);
	ck_assert_int_eq(listed(UDSO "?type=url", "url", "http://expiring.example/", &has), 1);
	ck_assert_msg(has, "an object expiring at %s is listed before then", exp);
	int64_t deadline = time_now_ms() + 20000;
	while (listed(UDSO "?type=url", "url", "http://expiring.example/", &has) && has) {
		ck_assert_msg(time_now_ms() < deadline, "expired at %s, still listed", exp);
		tl_sleep_ms(100);
	}
	stop_tmcm();
}

/* One ApiEntry call (XSOAR's json.dumps body); returns Data.Data. */
static json_t *es_call(const char *method, const char *url, const char *payload, json_t **env)
{
	char *body = xasprintf("{\"Url\": \"%s\", \"TaskType\": 4, \"Payload\": %s}", url, payload);
	long status;
	*env = call(&TL_JWT_XSOAR, method, "/WebApp/OSCE_iES/OsceIes/ApiEntry", NULL, body, &status);
	free(body);
	ck_assert_int_eq(status, 200);
	json_t *data = json_object_get(*env, "Data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "Message")), "OK");
	return json_object_get(data, "Data");
}

/* content[0].content of an ApiEntry answer. */
static json_t *es_content(json_t *inner)
{
	return json_object_get(json_array_get(json_object_get(inner, "content"), 0), "content");
}

static char *create_scan(const char *name, const char *b64)
{
	char *payload = xasprintf("{\"name\": \"%s\", \"scan_type\": 2, \"timeRange\": {\"rangeType\": "
				  "\"Default\"}, \"fileContentCriteria\": {\"base64EncodedContent\": "
				  "\"%s\", \"fileName\": \"%s.yar\"}}", name, b64, name);
	json_t *env;
	json_t *inner = es_call("POST", "V1/Task/CreateScan", payload, &env);
	const char *guid = json_string_value(json_object_get(es_content(inner), "scanSummaryGuid"));
	ck_assert_ptr_nonnull(guid);
	ck_assert_str_eq(json_string_value(json_object_get(inner, "taskId")), guid);
	char *out = xstrdup(guid);
	json_decref(env);
	free(payload);
	return out;
}

/* How many agents ShowScanListByScanSummaryGuid lists for guid and status. */
static size_t scans_by_status(const char *guid, int scan_status)
{
	char *payload = xasprintf("{\"pagination\": {\"limit\": 50, \"offset\": 0}, \"scanType\": [2], "
				  "\"scanStatus\": %d, \"scanSummaryGuid\": [\"%s\"]}", scan_status, guid);
	json_t *env;
	json_t *list = json_object_get(es_content(es_call("PUT", "V1/Task/ShowScanListByScanSummaryGuid",
							  payload, &env)), "scanEntity");
	size_t n = json_array_size(list);
	if (n)
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "agentGuid")),
				 IMSVA_UUID);
	json_decref(env);
	free(payload);
	return n;
}

/* Endpoint Sensor: the agent list, then live investigations that run at
 * once: the file that is a UDSO matches on the agent, another does not. */
TEST(test_endpoint_sensor_tasks)
{
	start_tmcm();
	register_imsva();
	json_t *env;
	json_t *inner = es_call("PUT", "V1/Task/ShowAgentList",
				"{\"pagination\": {\"limit\": 50, \"offset\": 0}}", &env);
	ck_assert(json_is_false(json_object_get(inner, "hasMore")));
	json_t *agents = json_object_get(es_content(inner), "agentEntity");
	ck_assert_int_eq(json_array_size(agents), 1);
	json_t *a = json_array_get(agents, 0);
	ck_assert_str_eq(json_string_value(json_object_get(a, "agentGuid")), IMSVA_UUID);
	ck_assert_str_eq(json_string_value(json_object_get(a, "machineName")), "imsva.lab");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "isolateStatus")), 0);
	json_decref(env);

	/* "123123" becomes a file UDSO; "456456" stays unknown */
	long status;
	env = call(&TL_JWT_XSOAR, "PUT", "/WebApp/api/SuspiciousObjectResource/FileUDSO", NULL,
		   "{\"file_name\": \"a.txt\", \"file_content_base64_string\": \"MTIzMTIz\", "
		   "\"file_scan_action\": \"BLOCK\", \"note\": \"\"}", &status);
	ck_assert_int_eq(status, 200);
	json_decref(env);
	char *hit = create_scan("Hit", "MTIzMTIz"), *miss = create_scan("Miss", "NDU2NDU2");

	inner = es_call("PUT", "V1/Task/ShowScanSummaryList",
			"{\"pagination\": {\"limit\": 50, \"offset\": 0}, \"scanType\": [2]}", &env);
	json_t *sums = json_object_get(es_content(inner), "scanSummaryEntity");
	ck_assert_int_eq(json_array_size(sums), 2);
	json_t *newest = json_array_get(sums, 0);
	ck_assert_str_eq(json_string_value(json_object_get(newest, "scanSummaryGuid")), miss);
	ck_assert_int_eq(json_integer_value(json_object_get(newest, "matchedAgentCount")), 0);
	json_t *older = json_array_get(sums, 1);
	ck_assert_str_eq(json_string_value(json_object_get(older, "name")), "Hit");
	ck_assert_int_eq(json_integer_value(json_object_get(older, "matchedAgentCount")), 1);
	ck_assert(json_is_integer(json_object_get(older, "submitTime")));
	json_decref(env);

	ck_assert_int_eq(scans_by_status(hit, 2), 1);
	ck_assert_int_eq(scans_by_status(hit, 3), 0);
	ck_assert_int_eq(scans_by_status(miss, 3), 1);
	ck_assert_int_eq(scans_by_status(miss, 1), 1);
	free(hit);
	free(miss);

	/* historical investigation and process termination: accepted with a task id */
	inner = es_call("POST", "V1/Task/CreateQuickScan",
			"{\"criteriaKvp\": \"a\", \"searchPeriod\": 1, \"criteria\": {\"operator\": \"and\"}}",
			&env);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(inner, "taskId"))), 36);
	ck_assert_str_eq(json_string_value(json_object_get(inner, "serverName")), "Apex One (ctdlab)");
	json_decref(env);
	inner = es_call("POST", "V1/Task/CreateProcessTermination",
			"{\"serverGuid\": [\"x\"], \"terminationInfoList\": [{\"name\": 101, \"value\": "
			"\"40BD001563085FC35165329EA1FF5C5ECBDBBEEF\"}]}", &env);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(inner, "taskId"))), 36);
	json_decref(env);

	/* an unknown task: refused with a Message other than OK */
	env = call(&TL_JWT_XSOAR, "PUT", "/WebApp/OSCE_iES/OsceIes/ApiEntry", NULL,
		   "{\"Url\": \"V1/Task/Nope\", \"TaskType\": 4, \"Payload\": {}}", &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_ne(json_string_value(json_object_get(json_object_get(env, "Data"), "Message")),
			 "OK");
	json_decref(env);
	stop_tmcm();
}

TL_SUITE(.timeout = 60);
