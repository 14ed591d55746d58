/* login_guard.c - the bounded table of failed-login counters and lockouts
 * behind a console login (see login_guard.h). One mutex: logins are rare. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "login_guard.h"
#include "util.h"

#define MAX_LOCKOUT_DOUBLINGS 4

typedef struct guard_entry {
	char key[LOGIN_GUARD_KEY_MAX];
	int failures;        /* since the last lockout or success */
	int lockouts;        /* since the last success: each one lasts longer */
	int64_t last_ms;     /* last failure; 0: free entry */
	int64_t locked_until;
} guard_entry;

struct login_guard {
	int max_failures;
	int64_t lockout_ms;
	int64_t (*clock_ms)(void);
	pthread_mutex_t lock;
	guard_entry entries[LOGIN_GUARD_CAPACITY];
};

login_guard *login_guard_new(int max_failures, int64_t lockout_ms, int64_t (*clock_ms)(void))
{
	login_guard *g = xcalloc(1, sizeof *g);
	g->max_failures = max_failures;
	g->lockout_ms = lockout_ms;
	g->clock_ms = clock_ms ? clock_ms : time_mono_ms;
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

void login_guard_free(login_guard *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static guard_entry *entry_find(login_guard *g, const char *key)
{
	for (int i = 0; i < LOGIN_GUARD_CAPACITY; i++)
		if (g->entries[i].last_ms && strncmp(g->entries[i].key, key, LOGIN_GUARD_KEY_MAX - 1) == 0)
			return &g->entries[i];
	return NULL;
}

/* A free entry, else the one failed least recently that is not locked; NULL
 * when every entry is locked (the failure then goes uncounted). */
static guard_entry *entry_new(login_guard *g, const char *key, int64_t now)
{
	guard_entry *pick = NULL;
	for (int i = 0; i < LOGIN_GUARD_CAPACITY; i++) {
		guard_entry *e = &g->entries[i];
		if (e->locked_until > now)
			continue;
		if (!pick || e->last_ms < pick->last_ms)
			pick = e;
	}
	if (pick) {
		*pick = (guard_entry){0};
		snprintf(pick->key, sizeof pick->key, "%s", key);
	}
	return pick;
}

int64_t login_guard_wait(login_guard *g, const char *key)
{
	pthread_mutex_lock(&g->lock);
	int64_t now = g->clock_ms();
	guard_entry *e = entry_find(g, key);
	int64_t wait = e && e->locked_until > now ? e->locked_until - now : 0;
	pthread_mutex_unlock(&g->lock);
	return wait;
}

int64_t login_guard_failed(login_guard *g, const char *key)
{
	pthread_mutex_lock(&g->lock);
	int64_t now = g->clock_ms(), started = 0;
	guard_entry *e = entry_find(g, key);
	if (!e)
		e = entry_new(g, key, now);
	if (e) {
		e->last_ms = now > 0 ? now : 1;
		if (g->max_failures > 0 && ++e->failures >= g->max_failures) {
			int doublings = e->lockouts < MAX_LOCKOUT_DOUBLINGS ? e->lockouts
									    : MAX_LOCKOUT_DOUBLINGS;
			started = g->lockout_ms << doublings;
			e->locked_until = now + started;
			e->failures = 0;
			e->lockouts++;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return started;
}

void login_guard_succeeded(login_guard *g, const char *key)
{
	pthread_mutex_lock(&g->lock);
	guard_entry *e = entry_find(g, key);
	if (e)
		*e = (guard_entry){0};
	pthread_mutex_unlock(&g->lock);
}
