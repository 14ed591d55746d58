/* ctdlab_drill_api.c - the appliances' console/admin APIs as the drill uses
 * them: credentials from the ready files, one JSON call helper, and the
 * console actions of the walkthrough (IMSVA scan engine, policy list, log
 * query, Control Manager sync; DDAN and DDI suspicious objects; TMCM Virtual
 * Analyzer objects, Set action, Sync now; SPS Sync now). The endpoints and
 * fields assumed here are listed in docs/drill.md. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ctdlab_drill.h"
#include "http_client.h"
#include "util.h"

#define API_TIMEOUT_MS 30000
#define DRILL_FROM "drill@ctdlab.test"
#define DRILL_TO "user@ctdlab.test"

const char *drill_url(drill *d, int ap)
{
	return lab_http_url(d->ready[ap]);
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
static json_t *api_ok(drill *d, int ap, const char *method, const char *path, json_t *body)
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

/* ---- IMSVA ---- */

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

int imsva_atse_on(drill *d, json_t **evidence)
{
	json_t *j = api_ok(d, AP_IMSVA, "PUT", "/api/scan-engine",
			   json_pack("{s:b}", "atse_enabled", 1));
	json_decref(j);
	*evidence = j ? api_ok(d, AP_IMSVA, "GET", "/api/scan-engine", NULL) : NULL;
	if (*evidence && !json_is_true(json_object_get(*evidence, "atse_enabled")))
		return drill_fail(d, "imsva: ATSE still off after saving it on");
	return *evidence ? 0 : -1;
}

/* 1 when every member of want has the same value in have (objects compared
 * member by member, so fields the appliance adds do not count). */
static int json_subset(json_t *want, json_t *have)
{
	if (!json_is_object(want))
		return json_equal(want, have);
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
		if (!json_subset(v, json_object_get(have, k)))
			return 0;
	return 1;
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
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

int imsva_ensure_rule(drill *d, json_t *want, json_t **evidence)
{
	const char *name = json_string_value(json_object_get(want, "name"));
	json_t *list = api_ok(d, AP_IMSVA, "GET", "/api/policies", NULL);
	json_t *have = list ? find_by(list, "name", name) : NULL, *saved = NULL;
	const char *change = "unchanged";
	if (!list) {
		json_decref(want);
		return -1;
	}
	if (!have) {
		change = "created";
		saved = api_ok(d, AP_IMSVA, "POST", "/api/policies", json_incref(want));
	} else if (!json_subset(want, have)) {
		change = "updated";
		char *path = xasprintf("/api/policies/%lld",
				       (long long)json_integer_value(json_object_get(have, "id")));
		saved = api_ok(d, AP_IMSVA, "PUT", path, json_incref(want));
		free(path);
	} else {
		saved = json_incref(have);
	}
	json_decref(list);
	int rc = -1;
	/* read the list back: the rule must now be there as wanted */
	list = saved ? api_ok(d, AP_IMSVA, "GET", "/api/policies", NULL) : NULL;
	have = list ? find_by(list, "name", name) : NULL;
	if (list && !have)
		drill_fail(d, "imsva: rule \"%s\" missing from the policy list after saving", name);
	else if (have && !json_subset(want, have)) {
		char *text = json_dumps(have, JSON_COMPACT);
		drill_fail(d, "imsva: rule \"%s\" saved differently: %s", name, text);
		free(text);
	}
	else if (have)
		rc = 0;
	if (rc == 0)
		*evidence = json_pack("{s:O, s:s, s:O, s:s, s:O}", "id", json_object_get(have, "id"),
				      "name", name, "order", json_object_get(have, "order"), "change",
				      change, "rule", have);
	json_decref(saved);
	json_decref(list);
	json_decref(want);
	return rc;
}

char *imsva_builtin_rule(drill *d, const char *builtin)
{
	json_t *list = api_ok(d, AP_IMSVA, "GET", "/api/policies", NULL);
	json_t *r = list ? find_by(list, "builtin", builtin) : NULL;
	char *name = r ? xstrdup(json_string_value(json_object_get(r, "name"))) : NULL;
	if (list && !name)
		drill_fail(d, "imsva: no built-in rule \"%s\" in the policy list", builtin);
	json_decref(list);
	return name;
}

int drill_mail(drill *d, const char *subject, const char *attach, const char *url)
{
	char *server = lab_smtp_server(d->l), *err = NULL;
	char *body = xasprintf("ctdlab drill run %s: %s", d->run, subject);
	lab_mail m = {.server = server, .from = DRILL_FROM, .to = {DRILL_TO}, .nto = 1,
		      .subject = subject, .body = body};
	if (attach)
		m.attach[m.nattach++] = attach;
	if (url)
		m.urls[m.nurls++] = url;
	long size = lab_mail_send(&m, &err);
	if (size < 0)
		drill_fail(d, "SMTP to IMSVA: %s", err);
	free(err);
	free(body);
	free(server);
	return size < 0 ? -1 : 0;
}

static json_t *log_query(drill *d, const char *type, const char *rule, const char *subject,
			 int64_t from_ms)
{
	char from[32], to[32];
	drill_iso(from_ms, from);
	drill_iso(time_now_ms() + 2000, to);
	char *erule = drill_escape(rule ? rule : ""), *esubj = drill_escape(subject);
	char *path = xasprintf("/api/logs?type=%s&rule=%s&subject=%s&from=%s&to=%s", type, erule,
			       esubj, from, to);
	json_t *j = api_ok(d, AP_IMSVA, "GET", path, NULL);
	free(path);
	free(erule);
	free(esubj);
	return j;
}

typedef struct log_wait {
	const char *type, *rule, *subject;
	int64_t from_ms;
	json_t *row;
} log_wait;

/* The newest row of the wanted log, or NULL; *failed on an API error. */
static json_t *wanted_row(drill *d, log_wait *w, int *failed)
{
	json_t *j = log_query(d, w->type, w->rule, w->subject, w->from_ms);
	json_t *row = json_incref(json_array_get(json_object_get(j, "logs"), 0));
	*failed = !j;
	json_decref(j);
	return row;
}

static int probe_log(drill *d, void *cls)
{
	log_wait *w = cls;
	int failed;
	if ((w->row = wanted_row(d, w, &failed)) || failed)
		return failed ? -1 : 1;
	/* The tracking row is written with the final action in the same
	 * transaction as the others: once it is there (and the wanted row
	 * still is not), the wanted row never will be. */
	json_t *j = log_query(d, "message_tracking", NULL, w->subject, w->from_ms);
	json_t *t = json_array_get(json_object_get(j, "logs"), 0);
	int rc = 0;
	if (t && ((w->row = wanted_row(d, w, &failed)) || failed)) {
		rc = failed ? -1 : 1;
	} else if (t) {
		const char *rule = json_string_value(json_object_get(t, "rule"));
		const char *reason = json_string_value(json_object_get(t, "reason"));
		rc = drill_fail(d, "the message ended as \"%s\"%s%s%s%s%s (message tracking #%lld)",
				json_string_value(json_object_get(t, "action")),
				rule ? " by rule \"" : " by no rule", rule ? rule : "", rule ? "\"" : "",
				reason ? ", reason: " : "", reason ? reason : "",
				(long long)json_integer_value(json_object_get(t, "id")));
	}
	json_decref(j);
	return rc;
}

json_t *imsva_wait_log(drill *d, const char *type, const char *rule, const char *subject,
		       int64_t from_ms)
{
	log_wait w = {type, rule, subject, from_ms, NULL};
	char *what = xasprintf("a %s log row by rule \"%s\"", type, rule);
	if (drill_wait(d, what, probe_log, &w) != 0) {
		json_decref(w.row);
		w.row = NULL;
	}
	free(what);
	return w.row;
}

typedef struct sync_wait {
	int64_t change_ms, change_id, requested_ms;
	json_t *status;
} sync_wait;

static int probe_imsva_sync(drill *d, void *cls)
{
	sync_wait *w = cls;
	if (!w->requested_ms) {
		json_t *j = api_ok(d, AP_IMSVA, "POST", "/api/connections/tmcm/sync", NULL);
		if (!j)
			return -1;
		json_decref(j);
		w->requested_ms = time_now_ms();
	}
	json_t *st = api_ok(d, AP_IMSVA, "GET", "/api/connections/tmcm", NULL);
	if (!st)
		return -1;
	int64_t last = json_integer_value(json_object_get(st, "last_sync_ms"));
	int64_t cursor = json_integer_value(json_object_get(st, "cursor"));
	if (last > w->change_ms && cursor >= w->change_id) {
		w->status = st;
		return 1;
	}
	const char *e = json_string_value(json_object_get(st, "last_error"));
	drill_fail(d, "last sync %lld, cursor %lld (want > %lld and >= %lld)%s%s", (long long)last,
		   (long long)cursor, (long long)w->change_ms, (long long)w->change_id,
		   e ? "; last error: " : "", e ? e : "");
	/* a sync that began before the change can end after it: ask again */
	if (last >= w->requested_ms)
		w->requested_ms = 0;
	json_decref(st);
	return 0;
}

json_t *imsva_sync_after(drill *d, int64_t change_ms, int64_t change_id)
{
	sync_wait w = {change_ms, change_id, 0, NULL};
	drill_wait(d, "IMSVA's Control Manager sync", probe_imsva_sync, &w);
	return w.status;
}

/* ---- DDAN ---- */

typedef struct so_wait {
	const char *type, *value, *source, *action;
	int64_t seq, since_ms;
	json_t *found, *status;
} so_wait;

static int probe_ddan(drill *d, void *cls)
{
	so_wait *w = cls;
	char *path = xasprintf("/api/suspicious_objects?type=%s", w->type);
	json_t *j = api_ok(d, AP_DDAN, "GET", path, NULL);
	free(path);
	if (!j)
		return -1;
	json_t *o = find_by(json_object_get(j, "suspicious_objects"), "object", w->value);
	w->found = json_incref(o);
	json_decref(j);
	return o ? 1 : 0;
}

json_t *ddan_wait_so(drill *d, const char *type, const char *value)
{
	so_wait w = {.type = type, .value = value};
	char *what = xasprintf("DDAN's %s suspicious object %s", type, value);
	drill_wait(d, what, probe_ddan, &w);
	free(what);
	return w.found;
}

/* ---- TMCM ---- */

static json_t *tmcm_objects(drill *d, const char *type, const char *value, const char *source)
{
	char *q = drill_escape(value);
	char *path = xasprintf("/api/va-objects?type=%s&q=%s%s%s", type, q, source ? "&source=" : "",
			       source ? source : "");
	json_t *j = api_ok(d, AP_TMCM, "GET", path, NULL);
	free(path);
	free(q);
	return j;
}

/* The TMCM source row `name` (DDAN, DDI) of GET /api/sources, or NULL. */
static json_t *tmcm_source(drill *d, const char *name, int *failed)
{
	json_t *list = api_ok(d, AP_TMCM, "GET", "/api/sources", NULL);
	json_t *src = json_incref(find_by(list, "name", name));
	*failed = !list;
	json_decref(list);
	return src;
}

/* Done when TMCM lists the object and pulled `source` after since_ms (so
 * the object came through that source's feed, whichever source TMCM shows:
 * it keeps one row per object). Otherwise Sync now, again once done. */
static int probe_tmcm(drill *d, void *cls)
{
	so_wait *w = cls;
	int failed = 0;
	json_t *j = tmcm_objects(d, w->type, w->value, NULL);
	if (!j)
		return -1;
	json_decref(w->found);
	w->found = json_incref(find_by(json_object_get(j, "items"), "value", w->value));
	json_decref(j);
	json_t *src = tmcm_source(d, w->source, &failed);
	int64_t pulled = json_integer_value(json_object_get(src, "last_sync_ms"));
	if (w->found && src && pulled > w->since_ms) {
		json_object_set_new(w->found, "source_sync", src);
		return 1;
	}
	json_decref(src);
	if (failed)
		return -1;
	drill_fail(d, "%s; %s last pulled %lld (want after %lld)",
		   w->found ? "listed" : "not listed", w->source, (long long)pulled,
		   (long long)w->since_ms);
	json_t *st = api_ok(d, AP_TMCM, "GET", "/api/sync", NULL);
	if (!st)
		return -1;
	int64_t done = json_integer_value(json_object_get(st, "completed"));
	json_decref(st);
	if (done >= w->seq) {
		json_t *r = api_ok(d, AP_TMCM, "POST", "/api/sync", NULL);
		if (!r)
			return -1;
		w->seq = json_integer_value(json_object_get(r, "request"));
		json_decref(r);
	}
	return 0;
}

json_t *tmcm_wait_object(drill *d, const char *type, const char *value, const char *source,
			 int64_t since_ms)
{
	so_wait w = {.type = type, .value = value, .source = source, .since_ms = since_ms};
	char *what = xasprintf("TMCM to sync the %s object %s from %s", type, value, source);
	if (drill_wait(d, what, probe_tmcm, &w) != 0) {
		json_decref(w.found);
		w.found = NULL;
	}
	free(what);
	return w.found;
}

json_t *tmcm_set_action(drill *d, const char *value, const char *action, int64_t *change_id,
			int64_t *change_ms)
{
	json_t *r = api_ok(d, AP_TMCM, "POST", "/api/va-objects/action",
			   json_pack("{s:[s], s:s}", "values", value, "action", action));
	if (!r)
		return NULL;
	*change_ms = time_now_ms();
	*change_id = json_integer_value(json_object_get(r, "change_id"));
	json_int_t updated = json_integer_value(json_object_get(r, "updated"));
	json_decref(r);
	/* the list now shows the action on every object of that value */
	json_t *j = tmcm_objects(d, "", value, NULL);
	json_t *items = json_object_get(j, "items"), *o, *out = NULL;
	size_t i, n = 0;
	json_array_foreach(items, i, o) {
		if (strcasecmp(json_string_value(json_object_get(o, "value")), value) != 0)
			continue;
		n++;
		if (strcasecmp(json_string_value(json_object_get(o, "action")), action) != 0) {
			drill_fail(d, "tmcm: object %lld still shows action %s",
				   (long long)json_integer_value(json_object_get(o, "id")),
				   json_string_value(json_object_get(o, "action")));
			json_decref(j);
			return NULL;
		}
	}
	if (j && n == 0)
		drill_fail(d, "tmcm: no object %s in the list after setting its action", value);
	else if (j)
		out = json_pack("{s:I, s:I, s:O}", "updated", updated, "change_id",
				(json_int_t)*change_id, "objects", items);
	json_decref(j);
	return out;
}

/* ---- SPS ---- */

static int probe_sps(drill *d, void *cls)
{
	so_wait *w = cls;
	json_t *st = api_ok(d, AP_SPS, "POST", "/api/so/sync", NULL); /* waits for the sync */
	if (!st)
		return -1;
	json_decref(w->status);
	w->status = st;
	char *path = xasprintf("/api/so/objects?type=%s", w->type);
	json_t *list = api_ok(d, AP_SPS, "GET", path, NULL);
	free(path);
	if (!list)
		return -1;
	json_t *o = find_by(list, "value", w->value);
	const char *action = o ? json_string_value(json_object_get(o, "action")) : NULL;
	if (o && action && strcasecmp(action, w->action) == 0)
		w->found = json_incref(o);
	else if (o)
		drill_fail(d, "SPS lists it with action \"%s\"", action ? action : "");
	json_decref(list);
	return w->found ? 1 : 0;
}

json_t *sps_wait_object(drill *d, const char *type, const char *value, const char *action)
{
	so_wait w = {.type = type, .value = value, .action = action};
	char *what = xasprintf("SPS to list %s with action %s", value, action);
	drill_wait(d, what, probe_sps, &w);
	free(what);
	if (w.found)
		json_object_set_new(w.found, "sync", json_incref(w.status));
	json_decref(w.status);
	return w.found;
}

/* ---- DDI ---- */

static json_t *ddi_find(drill *d, const char *path, const char *key, const char *field,
			const char *value, int *failed)
{
	json_t *j = api_ok(d, AP_DDI, "GET", path, NULL);
	json_t *o = j ? json_incref(find_by(json_object_get(j, key), field, value)) : NULL;
	*failed |= !j;
	json_decref(j);
	return o;
}

typedef struct ddi_wait {
	const char *sha1;
	json_t *detection, *so;
} ddi_wait;

static int probe_ddi(drill *d, void *cls)
{
	ddi_wait *w = cls;
	int failed = 0;
	if (!w->detection)
		w->detection = ddi_find(d, "/api/detections?limit=1000", "detections", "sha1", w->sha1,
					&failed);
	if (!w->so)
		w->so = ddi_find(d, "/api/suspicious_objects?type=FILE&limit=1000",
				 "suspicious_objects", "value", w->sha1, &failed);
	if (failed)
		return -1;
	if (w->detection && w->so)
		return 1;
	/* say where the file is, for a timeout's message */
	json_t *f = ddi_find(d, "/api/files?limit=1000", "files", "sha1", w->sha1, &failed);
	const char *reason = json_string_value(json_object_get(f, "reason"));
	if (f)
		drill_fail(d, "DDI's file is \"%s\"%s%s", json_string_value(json_object_get(f, "state")),
			   reason ? ": " : "", reason ? reason : "");
	else
		drill_fail(d, "DDI has not carved the file");
	json_decref(f);
	return 0;
}

json_t *ddi_wait_detection(drill *d, const char *sha1)
{
	ddi_wait w = {.sha1 = sha1};
	if (drill_wait(d, "DDI's detection and suspicious object", probe_ddi, &w) != 0) {
		json_decref(w.detection);
		json_decref(w.so);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "detection", w.detection, "suspicious_object", w.so);
}
