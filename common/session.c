/* session.c - the console session table (fixed capacity, least recently used
 * session makes room, expired ones pruned), logins, and the HTTP
 * authenticator and login/logout handlers over it. Tokens and CSRF tokens
 * are 32 bytes from RAND_bytes; every secret is compared in constant time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "log.h"
#include "login_guard.h"
#include "session.h"
#include "util.h"

typedef struct session_slot {
	char token[SESSION_TOKEN_LEN + 1];
	char csrf[SESSION_TOKEN_LEN + 1];
	int64_t expires_ms; /* 0: free */
} session_slot;

struct session_table {
	session_conf conf; /* strings owned */
	pthread_mutex_t lock;
	pthread_rwlock_t keys_lock; /* conf.api_keys: session_set_key replaces one */
	login_guard *guard;
	session_slot slots[SESSION_CAPACITY];
};

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

session_table *session_table_new(const session_conf *conf)
{
	session_table *t = xcalloc(1, sizeof *t);
	t->conf = *conf;
	t->conf.user = xstrdup(conf->user && *conf->user ? conf->user : SESSION_DEFAULT_USER);
	t->conf.password = dup_or_null(conf->password);
	for (int i = 0; i < SESSION_MAX_KEYS; i++)
		t->conf.api_keys[i] = dup_or_null(conf->api_keys[i]);
	t->conf.cookie = xstrdup(conf->cookie && *conf->cookie ? conf->cookie : "session");
	if (!t->conf.clock_ms)
		t->conf.clock_ms = time_now_ms;
	pthread_mutex_init(&t->lock, NULL);
	pthread_rwlock_init(&t->keys_lock, NULL);
	t->guard = login_guard_new(conf->max_failures, conf->lockout_ms, conf->clock_ms);
	return t;
}

void session_table_free(session_table *t)
{
	if (!t)
		return;
	free((char *)t->conf.user);
	free((char *)t->conf.password);
	for (int i = 0; i < SESSION_MAX_KEYS; i++)
		free((char *)t->conf.api_keys[i]);
	free((char *)t->conf.cookie);
	pthread_mutex_destroy(&t->lock);
	pthread_rwlock_destroy(&t->keys_lock);
	login_guard_free(t->guard);
	OPENSSL_cleanse(t->slots, sizeof t->slots);
	free(t);
}

int session_secret_equal(const char *given, const char *secret)
{
	if (!given || !secret || !*secret)
		return 0;
	size_t n = strlen(secret);
	return strlen(given) == n && CRYPTO_memcmp(given, secret, n) == 0;
}

int session_key_ok(session_table *t, const char *key)
{
	int ok = 0;
	pthread_rwlock_rdlock(&t->keys_lock);
	for (int i = 0; i < SESSION_MAX_KEYS; i++)
		ok |= session_secret_equal(key, t->conf.api_keys[i]);
	pthread_rwlock_unlock(&t->keys_lock);
	return ok;
}

void session_set_key(session_table *t, int slot, const char *key)
{
	if (slot < 0 || slot >= SESSION_MAX_KEYS)
		return;
	char *fresh = dup_or_null(key);
	pthread_rwlock_wrlock(&t->keys_lock);
	char *old = (char *)t->conf.api_keys[slot];
	t->conf.api_keys[slot] = fresh;
	pthread_rwlock_unlock(&t->keys_lock);
	free(old);
}

static int random_hex(char out[SESSION_TOKEN_LEN + 1])
{
	unsigned char raw[SESSION_TOKEN_LEN / 2];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static void prune(session_table *t, int64_t now)
{
	for (int i = 0; i < SESSION_CAPACITY; i++)
		if (t->slots[i].expires_ms && t->slots[i].expires_ms <= now)
			t->slots[i] = (session_slot){0};
}

/* A free slot, else the least recently used session's. */
static session_slot *slot_for_new(session_table *t)
{
	session_slot *pick = &t->slots[0];
	for (int i = 0; i < SESSION_CAPACITY; i++)
		if (t->slots[i].expires_ms < pick->expires_ms)
			pick = &t->slots[i];
	return pick;
}

/* The live slot holding token; every slot is compared, in constant time. */
static session_slot *slot_find(session_table *t, const char *token)
{
	session_slot *hit = NULL;
	for (int i = 0; i < SESSION_CAPACITY; i++)
		if (t->slots[i].expires_ms && session_secret_equal(token, t->slots[i].token))
			hit = &t->slots[i];
	return hit;
}

static void fill_info(const session_table *t, const session_slot *s, int64_t now,
		      session_info *out)
{
	if (!out)
		return;
	memcpy(out->token, s->token, sizeof out->token);
	memcpy(out->csrf, s->csrf, sizeof out->csrf);
	out->user = t->conf.user;
	out->expires_in_ms = s->expires_ms - now;
}

static int credentials_ok(session_table *t, const char *user, const char *password)
{
	int user_ok = !user || !*user || strcmp(user, t->conf.user) == 0;
	int pass_ok = session_secret_equal(password, t->conf.password) |
		      session_key_ok(t, password);
	return user_ok && pass_ok;
}

/* The guard's keys of an attempt: the account, and the address (empty when
 * none is known). */
typedef struct guard_keys {
	char user[LOGIN_GUARD_KEY_MAX], addr[LOGIN_GUARD_KEY_MAX];
} guard_keys;

static void keys_of(const char *user, const char *addr, guard_keys *k)
{
	snprintf(k->user, sizeof k->user, "user:%.80s", user);
	snprintf(k->addr, sizeof k->addr, "%s%.80s", addr ? "addr:" : "", addr ? addr : "");
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* A wrong password: counted against the account and the address. */
static void login_failed(session_table *t, const char *user, const char *addr,
			 const guard_keys *k)
{
	int64_t locked = login_guard_failed(t->guard, k->user);
	if (*k->addr)
		locked = max64(locked, login_guard_failed(t->guard, k->addr));
	if (t->conf.on_login_failed)
		t->conf.on_login_failed(user, t->conf.cls);
	if (locked)
		log_warn("console.login_locked", "user=\"%.64s\" client=%s lockout_ms=%lld", user,
			 addr ? addr : "-", (long long)locked);
}

int session_login(session_table *t, const char *user, const char *password, session_info *out,
		  ctd_err *err)
{
	return session_login_from(t, user, password, NULL, out, NULL, err);
}

int session_login_from(session_table *t, const char *user, const char *password,
		       const char *addr, session_info *out, int64_t *wait_ms, ctd_err *err)
{
	const char *who = user && *user ? user : t->conf.user;
	guard_keys k;
	keys_of(who, addr, &k);
	int64_t wait = login_guard_wait(t->guard, k.user);
	if (*k.addr)
		wait = max64(wait, login_guard_wait(t->guard, k.addr));
	if (wait_ms)
		*wait_ms = wait;
	if (wait > 0)
		return ctd_fail(err, CTD_EBUSY,
				"too many failed logins: try again in %lld s",
				(long long)((wait + 999) / 1000));
	if (!credentials_ok(t, user, password)) {
		login_failed(t, who, addr, &k);
		return ctd_fail(err, CTD_EAUTH, "wrong user name or password");
	}
	login_guard_succeeded(t->guard, k.user);
	if (*k.addr)
		login_guard_succeeded(t->guard, k.addr);
	session_slot fresh = {0};
	if (random_hex(fresh.token) != 0 || random_hex(fresh.csrf) != 0)
		return ctd_fail(err, CTD_EINTERNAL, "no random bytes for a session token");
	pthread_mutex_lock(&t->lock);
	int64_t now = t->conf.clock_ms();
	prune(t, now);
	session_slot *s = slot_for_new(t);
	*s = fresh;
	s->expires_ms = now + t->conf.ttl_ms;
	fill_info(t, s, now, out);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int session_lookup(session_table *t, const char *token, session_info *out)
{
	if (!token || !*token)
		return -1;
	pthread_mutex_lock(&t->lock);
	int64_t now = t->conf.clock_ms();
	prune(t, now);
	session_slot *s = slot_find(t, token);
	if (s) {
		s->expires_ms = now + t->conf.ttl_ms;
		fill_info(t, s, now, out);
	}
	pthread_mutex_unlock(&t->lock);
	return s ? 0 : -1;
}

int session_logout(session_table *t, const char *token)
{
	if (!token || !*token)
		return -1;
	pthread_mutex_lock(&t->lock);
	prune(t, t->conf.clock_ms());
	session_slot *s = slot_find(t, token);
	if (s)
		*s = (session_slot){0};
	pthread_mutex_unlock(&t->lock);
	return s ? 0 : -1;
}

size_t session_count(session_table *t)
{
	size_t n = 0;
	pthread_mutex_lock(&t->lock);
	prune(t, t->conf.clock_ms());
	for (int i = 0; i < SESSION_CAPACITY; i++)
		n += t->slots[i].expires_ms != 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int session_cookie_value(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	for (const char *p = header; p && *p;) {
		p += strspn(p, " \t;");
		size_t len = strcspn(p, ";");
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vlen = strcspn(v, "; \t");
			if (vlen == 0 || vlen >= outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p += len;
	}
	return -1;
}

/* ---- HTTP ------------------------------------------------------------- */

static const char *bearer(const http_req *req)
{
	const char *h = http_req_header(req, "Authorization");
	return h && strncasecmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
}

/* The session token a request sends in a header (not the cookie). */
static const char *header_token(const http_req *req)
{
	const char *tok = bearer(req);
	if (!tok)
		tok = http_req_header(req, "X-Session");
	return tok ? tok : http_req_header(req, "X-Session-Token");
}

static int cookie_token(const session_table *t, const http_req *req,
			char out[SESSION_TOKEN_LEN + 1])
{
	return session_cookie_value(http_req_header(req, "Cookie"), t->conf.cookie, out,
				    SESSION_TOKEN_LEN + 1);
}

static int state_changing(const char *method)
{
	return strcasecmp(method, "GET") != 0 && strcasecmp(method, "HEAD") != 0 &&
	       strcasecmp(method, "OPTIONS") != 0;
}

static int key_sent(session_table *t, const http_req *req)
{
	return session_key_ok(t, bearer(req)) ||
	       session_key_ok(t, http_req_header(req, "X-Api-Key")) ||
	       session_key_ok(t, http_req_query(req, "api_key"));
}

static int has_keys(session_table *t)
{
	pthread_rwlock_rdlock(&t->keys_lock);
	int any = t->conf.api_keys[0] != NULL;
	pthread_rwlock_unlock(&t->keys_lock);
	return any;
}

/* 429 Too Many Requests, with the wait in whole seconds as Retry-After. */
static void refuse_locked(http_resp *resp, int64_t wait_ms, const char *msg)
{
	char secs[24];
	snprintf(secs, sizeof secs, "%lld", (long long)((wait_ms + 999) / 1000));
	http_resp_error(resp, 429, "too_many_attempts", "%s", msg);
	http_resp_header(resp, "Retry-After", secs);
}

/* A key in X-Api-Key or ?api_key is a password guess like a login (TMCM
 * takes its console password there): a wrong one counts against the
 * client's address, and a locked-out address is refused. 0: go on. */
static int key_guess_check(session_table *t, const http_req *req, http_resp *resp)
{
	const char *key = http_req_header(req, "X-Api-Key");
	if (!key)
		key = http_req_query(req, "api_key");
	if (!key)
		return 0;
	char ip[64];
	guard_keys k;
	http_req_client_ip(req, ip, sizeof ip);
	keys_of("", ip, &k);
	int64_t wait = login_guard_wait(t->guard, k.addr);
	if (wait > 0) {
		refuse_locked(resp, wait, "too many failed logins from this address: try again later");
		return -1;
	}
	if (!session_key_ok(t, key) && login_guard_failed(t->guard, k.addr))
		log_warn("console.key_locked", "client=%s", ip);
	return 0;
}

static int session_check(http_req *req, http_resp *resp)
{
	session_table *t = req->auth_cls;
	if (key_guess_check(t, req, resp) != 0)
		return -1;
	if (key_sent(t, req) || session_lookup(t, header_token(req), NULL) == 0)
		return 0;
	char token[SESSION_TOKEN_LEN + 1];
	session_info s;
	if (cookie_token(t, req, token) == 0 && session_lookup(t, token, &s) == 0) {
		if (!state_changing(req->method) ||
		    session_secret_equal(http_req_header(req, "X-CSRF-Token"), s.csrf))
			return 0;
		http_resp_error(resp, 403, ctd_errcode_name(CTD_EFORBID),
				"a cookie session must send its csrf token as X-CSRF-Token");
		return -1;
	}
	http_resp_error(resp, 401, ctd_errcode_name(CTD_EAUTH),
			"log in first (POST /api/login) and send \"Authorization: Bearer "
			"<token>\" or the session cookie%s",
			has_keys(t) ? ", or send the API key" : "");
	return -1;
}

const http_auth session_auth = {"session", session_check};

static void set_cookie(http_resp *resp, const session_table *t, const char *value,
		       const char *extra)
{
	char *c = xasprintf("%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict%s", t->conf.cookie,
			    value, extra);
	http_resp_header(resp, "Set-Cookie", c);
	free(c);
}

void session_login_handler(http_req *req, http_resp *resp)
{
	session_table *t = req->auth_cls;
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	const char *user = json_string_value(json_object_get(body, "username"));
	const char *pass = json_string_value(json_object_get(body, "password"));
	if (!pass)
		pass = json_string_value(json_object_get(body, "api_key"));
	session_info s;
	ctd_err err = {0};
	char ip[64];
	int64_t wait_ms = 0;
	http_req_client_ip(req, ip, sizeof ip);
	if (session_login_from(t, user, pass, ip, &s, &wait_ms, &err) != 0) {
		if (wait_ms > 0) {
			refuse_locked(resp, wait_ms, err.msg);
		} else {
			log_warn("console.login_failed", "client=%s user=\"%.64s\"", ip,
				 user ? user : "");
			http_resp_ctd_err(resp, &err);
		}
		json_decref(body);
		return;
	}
	json_decref(body);
	set_cookie(resp, t, s.token, "");
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:s, s:I}", "token", s.token, "csrf", s.csrf, "user",
				 s.user, "expires_in", (json_int_t)(s.expires_in_ms / 1000)));
	OPENSSL_cleanse(&s, sizeof s);
}

void session_logout_handler(http_req *req, http_resp *resp)
{
	session_table *t = req->auth_cls;
	char token[SESSION_TOKEN_LEN + 1];
	const char *sent = header_token(req);
	if (!sent && cookie_token(t, req, token) == 0)
		sent = token;
	int ended = session_logout(t, sent) == 0;
	set_cookie(resp, t, "", "; Max-Age=0");
	http_resp_json(resp, 200, json_pack("{s:b, s:b}", "ok", 1, "ended", ended));
}

void session_current_handler(http_req *req, http_resp *resp)
{
	session_table *t = req->auth_cls;
	char token[SESSION_TOKEN_LEN + 1];
	session_info s;
	if (!t || cookie_token(t, req, token) != 0 || session_lookup(t, token, &s) != 0) {
		http_resp_error(resp, 401, ctd_errcode_name(CTD_EAUTH), "no console session");
		return;
	}
	http_resp_json(resp, 200,
		       json_pack("{s:s, s:s, s:I}", "user", s.user, "csrf", s.csrf, "expires_in",
				 (json_int_t)(s.expires_in_ms / 1000)));
	OPENSSL_cleanse(&s, sizeof s);
}
