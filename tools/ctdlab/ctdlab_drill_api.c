/* ctdlab_drill_api.c - calling the appliances' console/admin APIs from the
 * drill: URLs and credentials from the ready files (each appliance's own
 * scheme: bearer key, X-Api-Key, IMSVA's login session) and one JSON call
 * helper. The endpoints the drill relies on are listed in docs/drill.md. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ctdlab_drill.h"
#include "http_client.h"
#include "util.h"

#define API_TIMEOUT_MS 30000

const char *drill_url(drill *d, int ap)
{
	return ready_url(d->ready[ap]);
}

const char *drill_info(drill *d, int ap, const char *key)
{
	return json_string_value(json_object_get(json_object_get(d->ready[ap], "info"), key));
}

char *drill_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out = xstrdup(e ? e : "");
	curl_free(e);
	return out;
}

static int imsva_login(drill *d);

/* The credential header of each appliance's console API. */
static char *auth_header(drill *d, int ap)
{
	switch (ap) {
	case AP_DDAN: /* Help > About API key works as a console bearer token */
		return xasprintf("Authorization: Bearer %s", drill_info(d, ap, "api_key"));
	case AP_DDI:
		return xasprintf("X-Api-Key: %s", drill_info(d, ap, "api_key"));
	case AP_TMCM:
		return xasprintf("X-Api-Key: %s", drill_info(d, ap, "console_password"));
	case AP_SPS:
		return xasprintf("Authorization: Bearer %s", drill_info(d, ap, "api_key"));
	default:
		if (!d->imsva_token && imsva_login(d) != 0)
			return NULL;
		return xasprintf("Authorization: Bearer %s", d->imsva_token);
	}
}

/* The error message of a JSON error body, or the start of the body. */
static void describe_failure(drill *d, int ap, const char *method, const char *path,
			     const http_response *r, json_t *j)
{
	const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	drill_fail(d, "%s %s %s: HTTP %ld%s%.200s", lab_appliances[ap].name, method, path, r->status,
		   msg || r->body.len ? ": " : "", msg ? msg : r->body.data ? r->body.data : "");
}

static json_t *call(drill *d, int ap, const char *method, const char *path, const char *auth,
		    const void *body, size_t body_len, const char *ctype, long *status)
{
	char *url = xasprintf("%s%s", drill_url(d, ap), path);
	char *ct = ctype ? xasprintf("Content-Type: %s", ctype) : NULL;
	const char *headers[] = {"Accept: application/json", auth ? auth : "Accept: */*",
				 ct ? ct : NULL, NULL};
	http_client_opts opts = {.timeout_ms = API_TIMEOUT_MS};
	http_response r = {0};
	ctd_err err = {0};
	json_t *j = NULL;
	*status = 0;
	if (http_fetch(&opts, &(http_request){.method = method, .url = url, .headers = headers,
					      .body = body, .body_len = body_len},
		       &r, &err) != 0) {
		drill_fail(d, "%s %s %s: %s", lab_appliances[ap].name, method, path, err.msg);
	} else {
		*status = r.status;
		j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
		if (r.status < 200 || r.status > 299)
			describe_failure(d, ap, method, path, &r, j);
	}
	http_response_free(&r);
	free(url);
	free(ct);
	return j;
}

json_t *drill_api_raw(drill *d, int ap, const char *method, const char *path, const void *raw,
		      size_t raw_len, const char *ctype, long *status)
{
	char *auth = auth_header(d, ap);
	if (!auth) {
		*status = 0;
		return NULL;
	}
	json_t *j = call(d, ap, method, path, auth, raw, raw_len, ctype, status);
	free(auth);
	return j;
}

json_t *drill_api(drill *d, int ap, const char *method, const char *path, json_t *body,
		  long *status)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	json_t *j = drill_api_raw(d, ap, method, path, text, text ? strlen(text) : 0,
				  text ? "application/json" : NULL, status);
	free(text);
	return j;
}

/* The answer of a call that must succeed (2xx with JSON), else NULL. */
json_t *drill_api_ok(drill *d, int ap, const char *method, const char *path, json_t *body)
{
	long status;
	json_t *j = drill_api(d, ap, method, path, body, &status);
	if (status >= 200 && status <= 299 && j)
		return j;
	if (status >= 200 && status <= 299)
		drill_fail(d, "%s %s %s: HTTP %ld without a JSON body", lab_appliances[ap].name,
			   method, path, status);
	json_decref(j);
	return NULL;
}

/* IMSVA's admin API wants a session: log in as admin once per drill. */
static int imsva_login(drill *d)
{
	const char *pw = drill_info(d, AP_IMSVA, "admin_password");
	if (!pw)
		return drill_fail(d, "imsva: no admin_password in its ready file");
	json_t *login = json_pack("{s:s, s:s}", "username", "admin", "password", pw);
	char *body = json_dumps(login, JSON_COMPACT);
	json_decref(login);
	long status;
	json_t *j = call(d, AP_IMSVA, "POST", "/api/login", NULL, body, strlen(body),
			 "application/json", &status);
	free(body);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (status == 200 && tok)
		d->imsva_token = xstrdup(tok);
	json_decref(j);
	return d->imsva_token ? 0 : -1;
}

json_t *drill_find_by(json_t *arr, const char *key, const char *value)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *v = json_string_value(json_object_get(o, key));
		if (v && strcasecmp(v, value) == 0)
			return o;
	}
	return NULL;
}
