/* tmcm_keys.c - the Automation API key, which Administration > Settings >
 * Automation API Access Settings can regenerate while handler threads check
 * JWTs with it: readers take a copy under a lock, the regenerated key is
 * stored in settings (it survives a restart) and replaces the old one in the
 * console's API keys too, so the old key stops working everywhere at once. */
#include <pthread.h>
#include <stdlib.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

char *tmcm_api_key(const tmcm_app *app)
{
	pthread_mutex_lock(&key_lock);
	char *key = xstrdup(app->api_key);
	pthread_mutex_unlock(&key_lock);
	return key;
}

char *tmcm_api_key_regenerate(tmcm_app *app, session_table *logins, ctd_err *err)
{
	if (app->cfg->api_key[0]) {
		ctd_fail(err, CTD_ECONFLICT, "the API key is pinned by the lab configuration "
			 "([tmcm] api_key): change it there");
		return NULL;
	}
	store *st = store_get(err);
	char *key = st ? store_secret_renew(st, "tmcm", "api_key", (secret_kind){SECRET_GUID, 0},
					    err)
		       : NULL;
	if (!key)
		return NULL;
	pthread_mutex_lock(&key_lock);
	char *old = app->api_key;
	app->api_key = xstrdup(key);
	session_set_key(logins, TMCM_LOGIN_KEY_SLOT, key);
	pthread_mutex_unlock(&key_lock);
	free(old);
	log_info("tmcm.api_key_regenerated", "app_id=%s", app->app_id);
	tmcm_timeline(st, "settings.api_key_regenerated", app->app_id, NULL);
	return key;
}
