/* session.h - console logins of every appliance: one bounded session table
 * per listener, user name + password login, API keys, cookie and bearer
 * forms, CSRF tokens for cookie sessions, logout, and the HTTP authenticator
 * and login/logout handlers the daemons put in their route tables.
 *
 * A request is authenticated by (first match wins):
 *   - an API key of the table: `Authorization: Bearer <key>`, `X-Api-Key`,
 *     or `?api_key=`;
 *   - a session token: `Authorization: Bearer`, `X-Session` or
 *     `X-Session-Token`;
 *   - the session cookie; then a POST/PUT/PATCH/DELETE must also carry
 *     `X-CSRF-Token` with the session's csrf token, else 403.
 * Sessions expire ttl_ms (the daemons' session_ttl option) after their
 * last use. Failed logins are throttled per account and per client address
 * (login_guard.h): max_failures of them lock that account or address out for
 * lockout_ms (the daemons' login_max_failures and login_lockout options), and
 * the login answers 429 with Retry-After until then. A wrong key in X-Api-Key
 * or ?api_key counts against the address too, and a locked-out address
 * gets 429 there as well. */
#ifndef CTD_SESSION_H
#define CTD_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "http_server.h"

#define SESSION_CAPACITY 64
#define SESSION_MAX_KEYS 2
#define SESSION_TOKEN_LEN 64 /* hex of 32 random bytes */
#define SESSION_DEFAULT_USER "admin"

typedef struct session_conf {
	const char *user;                       /* NULL or "": SESSION_DEFAULT_USER */
	const char *password;                   /* NULL or "": none (keys only) */
	const char *api_keys[SESSION_MAX_KEYS]; /* also accepted as login password */
	const char *cookie;                     /* cookie name, e.g. "ddan_session" */
	long long ttl_ms;
	int64_t (*clock_ms)(void);              /* NULL: time_now_ms (tests pin it) */
	int max_failures;                       /* 0: no lockout */
	long long lockout_ms;
	/* called on a counted failed login (IMSVA writes its system log): at most
	 * max_failures times per lockout of an account or address; may be NULL */
	void (*on_login_failed)(const char *user, void *cls);
	void *cls;
} session_conf;

typedef struct session_table session_table;

typedef struct session_info {
	char token[SESSION_TOKEN_LEN + 1];
	char csrf[SESSION_TOKEN_LEN + 1];
	const char *user;
	long long expires_in_ms;
} session_info;

/* The strings of conf are copied. */
session_table *session_table_new(const session_conf *conf);
void session_table_free(session_table *t);

/* Check user (NULL: the default user) and password (the password or an API
 * key), then open a session, making room by dropping the least recently used
 * one when the table is full. -1 with CTD_EAUTH on wrong credentials. */
int session_login(session_table *t, const char *user, const char *password, session_info *out,
		  ctd_err *err);
/* session_login from client address addr (NULL: none), throttled: while the
 * account or the address is locked out, -1 with CTD_EBUSY and *wait_ms (may
 * be NULL) the milliseconds left, the password not even checked. */
int session_login_from(session_table *t, const char *user, const char *password,
		       const char *addr, session_info *out, int64_t *wait_ms, ctd_err *err);
/* 0 and *out (may be NULL) when token names a live session; its expiry moves. */
int session_lookup(session_table *t, const char *token, session_info *out);
/* 0 when a live session was ended. */
int session_logout(session_table *t, const char *token);
/* 1 when key is one of the table's API keys. */
int session_key_ok(session_table *t, const char *key);
/* Replace API key `slot` (a regenerated key; NULL removes it). */
void session_set_key(session_table *t, int slot, const char *key);
/* Live sessions (expired ones are pruned first). */
size_t session_count(session_table *t);
/* The value of cookie `name` in a Cookie header into out; 0 when found. */
int session_cookie_value(const char *header, const char *name, char *out, size_t outlen);
/* Constant-time string equality; NULL equals nothing. */
int session_secret_equal(const char *given, const char *secret);

/* The authenticator of the session table in req->auth_cls: pass as
 * http_server_opts.auth with the table as auth_cls. */
extern const http_auth session_auth;
/* POST login: {"username"?, "password" | "api_key"} -> {token, csrf, user,
 * expires_in} and the session cookie; 429 with Retry-After while the account
 * or the client's address is locked out. Declare it HTTP_PUBLIC. */
void session_login_handler(http_req *req, http_resp *resp);
/* POST logout: ends the request's session and clears the cookie. */
void session_logout_handler(http_req *req, http_resp *resp);
/* GET: the cookie's session {user, csrf, expires_in}, or 401: how a console
 * page that was reloaded finds its csrf token again. Declare it HTTP_PUBLIC. */
void session_current_handler(http_req *req, http_resp *resp);

#endif
