/* test_session.c - common/session.c: logins (user, password, API key,
 * default user), the bounded table (least recently used session makes room),
 * expiry on a pinned clock (sliding on use), logout, constant-time secret
 * comparison semantics, cookie parsing, and over HTTP the authenticator's
 * forms: bearer and header tokens, API keys, the cookie with its CSRF rule,
 * and the login/logout handlers; failed-login lockout per account and per
 * address (429-style refusal, expiry, doubling, the failure hook bounded),
 * and wrong keys in X-Api-Key locking the address over HTTP. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_client.h"
#include "http_server.h"
#include "login_guard.h"
#include "session.h"
#include "testlib.h"
#include "util.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static session_table *table(void)
{
	fake_now = 1000000;
	return session_table_new(&(session_conf){.password = "pw", .api_keys = {"KEY"},
						   .cookie = "t_session", .ttl_ms = 60000,
						   .clock_ms = fake_clock});
}

TEST(test_login_credentials)
{
	session_table *t = table();
	session_info s;
	ctd_err err = {0};
	ck_assert_int_eq(session_login(t, "admin", "pw", &s, &err), 0);
	ck_assert_str_eq(s.user, "admin");
	ck_assert_int_eq(strlen(s.token), SESSION_TOKEN_LEN);
	ck_assert_int_eq(strlen(s.csrf), SESSION_TOKEN_LEN);
	ck_assert_str_ne(s.token, s.csrf);
	ck_assert_int_eq(s.expires_in_ms, 60000);
	/* no user name means the default user; an API key works as password */
	ck_assert_int_eq(session_login(t, NULL, "pw", &s, &err), 0);
	ck_assert_int_eq(session_login(t, NULL, "KEY", &s, &err), 0);
	ck_assert_int_eq(session_login(t, "root", "pw", &s, &err), -1);
	ck_assert_int_eq(err.code, CTD_EAUTH);
	ck_assert_int_eq(session_login(t, "admin", "pw2", &s, &err), -1);
	ck_assert_int_eq(session_login(t, "admin", "p", &s, &err), -1);
	ck_assert_int_eq(session_login(t, "admin", NULL, &s, &err), -1);
	ck_assert_int_eq(session_login(t, "admin", "", &s, &err), -1);
	ck_assert_uint_eq(session_count(t), 3);
	session_table_free(t);
}

TEST(test_no_password_means_keys_only)
{
	session_table *t = session_table_new(&(session_conf){.api_keys = {"KEY"}, .ttl_ms = 1000});
	ctd_err err;
	ck_assert_int_eq(session_login(t, NULL, "", NULL, &err), -1);
	ck_assert_int_eq(session_login(t, NULL, "KEY", NULL, &err), 0);
	session_table_free(t);
}

TEST(test_bounded_table_lru_makes_room)
{
	session_table *t = table();
	session_info first, second, s;
	ctd_err err;
	ck_assert_int_eq(session_login(t, NULL, "pw", &first, &err), 0);
	fake_now++;
	ck_assert_int_eq(session_login(t, NULL, "pw", &second, &err), 0);
	fake_now++;
	/* using the first session makes the second the least recently used */
	ck_assert_int_eq(session_lookup(t, first.token, NULL), 0);
	for (int i = 2; i < SESSION_CAPACITY; i++) {
		fake_now++;
		ck_assert_int_eq(session_login(t, NULL, "pw", &s, &err), 0);
	}
	ck_assert_uint_eq(session_count(t), SESSION_CAPACITY);
	fake_now++;
	ck_assert_int_eq(session_login(t, NULL, "pw", &s, &err), 0);
	ck_assert_uint_eq(session_count(t), SESSION_CAPACITY);
	ck_assert_int_eq(session_lookup(t, second.token, NULL), -1);
	ck_assert_int_eq(session_lookup(t, first.token, NULL), 0);
	ck_assert_int_eq(session_lookup(t, s.token, NULL), 0);
	session_table_free(t);
}

TEST(test_expiry_sliding_and_pruned)
{
	session_table *t = table();
	session_info a, b;
	ctd_err err;
	ck_assert_int_eq(session_login(t, NULL, "pw", &a, &err), 0);
	ck_assert_int_eq(session_login(t, NULL, "pw", &b, &err), 0);
	fake_now += 59999;
	ck_assert_int_eq(session_lookup(t, a.token, NULL), 0); /* a now lives until +60 s */
	fake_now += 1;
	ck_assert_int_eq(session_lookup(t, b.token, NULL), -1);
	ck_assert_uint_eq(session_count(t), 1);
	fake_now += 59999;
	ck_assert_int_eq(session_lookup(t, a.token, NULL), -1);
	ck_assert_uint_eq(session_count(t), 0);
	session_table_free(t);
}

TEST(test_logout)
{
	session_table *t = table();
	session_info a;
	ctd_err err;
	ck_assert_int_eq(session_login(t, NULL, "pw", &a, &err), 0);
	ck_assert_int_eq(session_logout(t, a.csrf), -1); /* the csrf token is no token */
	ck_assert_int_eq(session_logout(t, a.token), 0);
	ck_assert_int_eq(session_lookup(t, a.token, NULL), -1);
	ck_assert_int_eq(session_logout(t, a.token), -1);
	ck_assert_int_eq(session_logout(t, NULL), -1);
	session_table_free(t);
}

/* Timing cannot be asserted; what the constant-time comparison must still
 * get right: length, prefixes, NULL and empty secrets. */
TEST(test_secret_equal)
{
	ck_assert(session_secret_equal("abc", "abc"));
	ck_assert(!session_secret_equal("ab", "abc"));
	ck_assert(!session_secret_equal("abcd", "abc"));
	ck_assert(!session_secret_equal("abd", "abc"));
	ck_assert(!session_secret_equal(NULL, "abc"));
	ck_assert(!session_secret_equal("", ""));
	ck_assert(!session_secret_equal("abc", NULL));
	session_table *t = table();
	session_info a;
	ctd_err err;
	ck_assert_int_eq(session_login(t, NULL, "pw", &a, &err), 0);
	char prefix[SESSION_TOKEN_LEN];
	memcpy(prefix, a.token, SESSION_TOKEN_LEN - 1);
	prefix[SESSION_TOKEN_LEN - 1] = '\0';
	ck_assert_int_eq(session_lookup(t, prefix, NULL), -1);
	ck_assert_int_eq(session_lookup(t, "", NULL), -1);
	ck_assert(session_key_ok(t, "KEY"));
	ck_assert(!session_key_ok(t, "KE"));
	session_table_free(t);
}

TEST(test_cookie_parsing)
{
	char v[16];
	ck_assert_int_eq(session_cookie_value("a=1; t_session=abc; b=2", "t_session", v, sizeof v), 0);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(session_cookie_value("t_session=x", "t_session", v, sizeof v), 0);
	ck_assert_str_eq(v, "x");
	ck_assert_int_eq(session_cookie_value("xt_session=no;t_session=yes ", "t_session", v,
					      sizeof v), 0);
	ck_assert_str_eq(v, "yes");
	ck_assert_int_eq(session_cookie_value("t_session=", "t_session", v, sizeof v), -1);
	ck_assert_int_eq(session_cookie_value("t_sessio=1", "t_session", v, sizeof v), -1);
	ck_assert_int_eq(session_cookie_value(NULL, "t_session", v, sizeof v), -1);
	ck_assert_int_eq(session_cookie_value("t_session=0123456789abcdefXX", "t_session", v,
					      sizeof v), -1);
}

/* ---- over HTTP ------------------------------------------------------------ */

static void h_ok(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

static const http_route routes[] = {
	{"POST", "/api/login", session_login_handler, HTTP_PUBLIC},
	{"POST", "/api/logout", session_logout_handler},
	{"GET", "/thing", h_ok},
	{"POST", "/thing", h_ok},
	{"DELETE", "/thing", h_ok},
};

static session_table *srv_table;
static http_server *srv;

static void srv_start(void)
{
	srv_table = session_table_new(&(session_conf){.password = "pw", .api_keys = {"KEY"},
							.cookie = "t_session", .ttl_ms = 60000});
	ctd_err err;
	http_server_opts o = {.routes = routes, .nroutes = sizeof routes / sizeof routes[0],
			      .auth = &session_auth, .auth_cls = srv_table};
	srv = http_server_start(&o, &err);
	ck_assert_ptr_nonnull(srv);
}

static void srv_stop(void)
{
	http_server_stop(srv);
	session_table_free(srv_table);
}

static long call(const char *method, const char *path, const char *h1, const char *h2,
		 const char *body, http_response *r)
{
	char *url = xasprintf("http://127.0.0.1:%d%s", http_server_port(srv), path);
	const char *headers[] = {h1, h2, NULL};
	long status = tl_http(method, url, headers, body, r);
	free(url);
	return status;
}

static long status_of(const char *method, const char *path, const char *h1, const char *h2)
{
	http_response r;
	long status = call(method, path, h1, h2, NULL, &r);
	http_response_free(&r);
	return status;
}

TEST(test_http_login_forms_and_csrf)
{
	srv_start();
	http_response r;
	ck_assert_int_eq(call("POST", "/api/login", NULL, NULL, "{\"password\":\"no\"}", &r), 401);
	http_response_free(&r);
	ck_assert_int_eq(call("POST", "/api/login", NULL, NULL, "{\"username\":\"admin\","
					     "\"password\":\"pw\"}", &r), 200);
	json_t *j = json_loads(r.body.data, 0, NULL);
	char *token = xstrdup(json_string_value(json_object_get(j, "token")));
	char *csrf = xstrdup(json_string_value(json_object_get(j, "csrf")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")), "admin");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "expires_in")), 60);
	json_decref(j);
	char *want = xasprintf("t_session=%s; Path=/; HttpOnly; Secure; SameSite=Strict", token);
	ck_assert_str_eq(http_response_header(&r, "Set-Cookie"), want);
	http_response_free(&r);

	char *bearer = xasprintf("Authorization: Bearer %s", token);
	char *xsession = xasprintf("X-Session: %s", token);
	char *cookie = xasprintf("Cookie: other=1; t_session=%s", token);
	char *good_csrf = xasprintf("X-CSRF-Token: %s", csrf);
	ck_assert_int_eq(status_of("GET", "/thing", NULL, NULL), 401);
	ck_assert_int_eq(status_of("GET", "/thing", "Authorization: Bearer nope", NULL), 401);
	ck_assert_int_eq(status_of("POST", "/thing", bearer, NULL), 200); /* no CSRF for bearer */
	ck_assert_int_eq(status_of("POST", "/thing", xsession, NULL), 200);
	ck_assert_int_eq(status_of("GET", "/thing", "X-Api-Key: KEY", NULL), 200);
	ck_assert_int_eq(status_of("GET", "/thing", "Authorization: Bearer KEY", NULL), 200);
	ck_assert_int_eq(status_of("GET", "/thing?api_key=KEY", NULL, NULL), 200);
	ck_assert_int_eq(status_of("GET", "/thing", "X-Api-Key: KE", NULL), 401);
	/* the cookie: reads pass, state changes need the csrf token */
	ck_assert_int_eq(status_of("GET", "/thing", cookie, NULL), 200);
	ck_assert_int_eq(status_of("POST", "/thing", cookie, NULL), 403);
	ck_assert_int_eq(status_of("DELETE", "/thing", cookie, "X-CSRF-Token: wrong"), 403);
	ck_assert_int_eq(status_of("DELETE", "/thing", cookie, good_csrf), 200);
	ck_assert_int_eq(status_of("POST", "/thing", "Cookie: t_session=forged", good_csrf), 401);

	/* logout by cookie (with its csrf token) ends the session for every form */
	ck_assert_int_eq(status_of("POST", "/api/logout", cookie, NULL), 403);
	ck_assert_int_eq(call("POST", "/api/logout", cookie, good_csrf, "", &r), 200);
	ck_assert_ptr_nonnull(strstr(http_response_header(&r, "Set-Cookie"), "t_session=;"));
	ck_assert_ptr_nonnull(strstr(http_response_header(&r, "Set-Cookie"), "Max-Age=0"));
	http_response_free(&r);
	ck_assert_int_eq(status_of("GET", "/thing", bearer, NULL), 401);
	ck_assert_int_eq(status_of("GET", "/thing", cookie, NULL), 401);
	ck_assert_int_eq(status_of("POST", "/api/logout", bearer, NULL), 401);

	/* {"password"} alone (old DDAN/TMCM clients) logs in the default user */
	ck_assert_int_eq(call("POST", "/api/login", NULL, NULL, "{\"password\":\"pw\"}", &r), 200);
	http_response_free(&r);
	ck_assert_int_eq(call("POST", "/api/login", NULL, NULL, "{\"api_key\":\"KEY\"}", &r), 200);
	http_response_free(&r);
	ck_assert_int_eq(call("POST", "/api/login", NULL, NULL, "not json", &r), 400);
	http_response_free(&r);
	free(bearer);
	free(xsession);
	free(cookie);
	free(good_csrf);
	free(want);
	free(token);
	free(csrf);
	srv_stop();
}

TL_SUITE(.timeout = 30);

/* ---- failed-login lockout ------------------------------------------------ */

static int failed_hook_calls;

static void count_failed(const char *user, void *cls)
{
	failed_hook_calls++;
}

static session_table *guarded_table(void)
{
	fake_now = 1000000;
	failed_hook_calls = 0;
	return session_table_new(&(session_conf){.password = "pw", .ttl_ms = 60000,
						   .clock_ms = fake_clock, .max_failures = 3,
						   .lockout_ms = 10000,
						   .on_login_failed = count_failed});
}

static int login_at(session_table *t, const char *user, const char *pw, const char *addr,
		    int64_t *wait)
{
	session_info s;
	ctd_err err = {0};
	*wait = -1;
	int rc = session_login_from(t, user, pw, addr, &s, wait, &err);
	if (rc != 0 && *wait > 0)
		ck_assert_int_eq(err.code, CTD_EBUSY);
	return rc;
}

TEST(test_lockout_after_failures_then_expiry)
{
	session_table *t = guarded_table();
	int64_t wait;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(login_at(t, "admin", "guess", "10.0.0.1", &wait), -1);
		ck_assert_int_eq(wait, 0);
	}
	/* locked: even the right password is refused, unchecked and unlogged */
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.1", &wait), -1);
	ck_assert_int_eq(wait, 10000);
	ck_assert_int_eq(login_at(t, "admin", "guess", "10.0.0.1", &wait), -1);
	ck_assert_int_eq(failed_hook_calls, 3);
	fake_now += 9999;
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.1", &wait), -1);
	ck_assert_int_eq(wait, 1);
	fake_now += 1;
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.1", &wait), 0);
	session_table_free(t);
}

TEST(test_lockout_doubles_until_success)
{
	session_table *t = guarded_table();
	int64_t wait;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++)
			login_at(t, "admin", "guess", "10.0.0.1", &wait);
		ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.1", &wait), -1);
		ck_assert_int_eq(wait, 10000 << round);
		fake_now += wait;
	}
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.1", &wait), 0);
	/* a success forgets: the next lockout is the first one again */
	for (int i = 0; i < 3; i++)
		login_at(t, "admin", "guess", "10.0.0.1", &wait);
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.1", &wait), -1);
	ck_assert_int_eq(wait, 10000);
	session_table_free(t);
}

TEST(test_lockout_per_address_and_per_account)
{
	session_table *t = guarded_table();
	int64_t wait;
	/* one address trying three made-up accounts: the address is locked */
	login_at(t, "u1", "x", "10.0.0.2", &wait);
	login_at(t, "u2", "x", "10.0.0.2", &wait);
	login_at(t, "u3", "x", "10.0.0.2", &wait);
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.2", &wait), -1);
	ck_assert_int_gt(wait, 0);
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.0.3", &wait), 0);
	/* one account tried from three addresses: the account is locked */
	login_at(t, "admin", "x", "10.0.1.1", &wait);
	login_at(t, "admin", "x", "10.0.1.2", &wait);
	login_at(t, "admin", "x", "10.0.1.3", &wait);
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.0.1.4", &wait), -1);
	ck_assert_int_gt(wait, 0);
	session_table_free(t);
}

TEST(test_guard_table_bounded)
{
	session_table *t = guarded_table();
	int64_t wait;
	/* more made-up names than the table holds, each failing once */
	for (int i = 0; i < 4 * LOGIN_GUARD_CAPACITY; i++) {
		char user[32], addr[32];
		snprintf(user, sizeof user, "user%d", i);
		snprintf(addr, sizeof addr, "10.1.%d.%d", i / 250, i % 250);
		fake_now++;
		ck_assert_int_eq(login_at(t, user, "x", addr, &wait), -1);
	}
	ck_assert_int_eq(failed_hook_calls, 4 * LOGIN_GUARD_CAPACITY);
	ck_assert_int_eq(login_at(t, "admin", "pw", "10.9.9.9", &wait), 0);
	session_table_free(t);
}

/* Wrong keys in X-Api-Key are guesses too: they lock the address out of keys
 * and logins alike. */
TEST(test_http_key_guesses_lock_the_address)
{
	srv_table = session_table_new(&(session_conf){.password = "pw", .api_keys = {"KEY"},
							.cookie = "t_session", .ttl_ms = 60000,
							.max_failures = 2, .lockout_ms = 60000});
	ctd_err err;
	http_server_opts o = {.routes = routes, .nroutes = sizeof routes / sizeof routes[0],
			      .auth = &session_auth, .auth_cls = srv_table};
	srv = http_server_start(&o, &err);
	ck_assert_ptr_nonnull(srv);
	ck_assert_int_eq(status_of("GET", "/thing", "X-Api-Key: KEY", NULL), 200);
	ck_assert_int_eq(status_of("GET", "/thing", "X-Api-Key: guess1", NULL), 401);
	ck_assert_int_eq(status_of("GET", "/thing?api_key=guess2", NULL, NULL), 401);
	http_response r;
	ck_assert_int_eq(call("GET", "/thing", "X-Api-Key: KEY", NULL, NULL, &r), 429);
	ck_assert_ptr_nonnull(http_response_header(&r, "Retry-After"));
	http_response_free(&r);
	ck_assert_int_eq(call("POST", "/api/login", NULL, NULL, "{\"password\":\"pw\"}", &r), 429);
	ck_assert_int_eq(atoi(http_response_header(&r, "Retry-After")), 60);
	http_response_free(&r);
	srv_stop();
}
