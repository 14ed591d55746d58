/* login_guard.h - failed-login throttling of a console, like an appliance's:
 * failures are counted per key (the account "user:<name>" and the address
 * "addr:<ip>"); max_failures of them lock the key for lockout_ms, and every
 * further lockout of the same key before a success lasts twice as long (up
 * to 16x). A locked key is refused without its password being checked, so
 * guessing stops; a success clears the key.
 *
 * The table is bounded: when it is full the entry least recently failed that
 * is not locked makes room, so a flood of made-up names cannot grow memory. */
#ifndef CTD_LOGIN_GUARD_H
#define CTD_LOGIN_GUARD_H

#include <stdint.h>

#define LOGIN_GUARD_CAPACITY 256
#define LOGIN_GUARD_KEY_MAX 96

typedef struct login_guard login_guard;

/* max_failures <= 0: never lock (the guard only counts). clock_ms NULL:
 * time_mono_ms. */
login_guard *login_guard_new(int max_failures, int64_t lockout_ms, int64_t (*clock_ms)(void));
void login_guard_free(login_guard *g);

/* Milliseconds until key may try again; 0 when it may try now. */
int64_t login_guard_wait(login_guard *g, const char *key);
/* A failed attempt of key. Returns the lockout it started (ms), 0 when it
 * started none. */
int64_t login_guard_failed(login_guard *g, const char *key);
/* A successful login of key: its failures and lockouts are forgotten. */
void login_guard_succeeded(login_guard *g, const char *key);

#endif
