/* ctdlab_drill_imsva.c - the IMSVA console actions of the walkthrough, over
 * its admin API and SMTP: Scan Engine (ATSE), the policy list (a rule made
 * to equal what a step wants), mail to the SMTP listener, Log Query
 * (Quarantine / Policy events by rule, subject and date range) and the
 * Control Manager connection's Sync now and last sync time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ctdlab_drill.h"
#include "util.h"

#define DRILL_FROM "drill@ctdlab.test"
#define DRILL_TO "user@ctdlab.test"

int imsva_atse_on(drill *d, json_t **evidence)
{
	json_t *j = drill_api_ok(d, AP_IMSVA, "PUT", "/api/scan-engine",
			   json_pack("{s:b}", "atse_enabled", 1));
	json_decref(j);
	*evidence = j ? drill_api_ok(d, AP_IMSVA, "GET", "/api/scan-engine", NULL) : NULL;
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

int imsva_ensure_rule(drill *d, json_t *want, json_t **evidence)
{
	const char *name = json_string_value(json_object_get(want, "name"));
	json_t *list = drill_api_ok(d, AP_IMSVA, "GET", "/api/policies", NULL);
	json_t *have = list ? drill_find_by(list, "name", name) : NULL, *saved = NULL;
	const char *change = "unchanged";
	if (!list) {
		json_decref(want);
		return -1;
	}
	if (!have) {
		change = "created";
		saved = drill_api_ok(d, AP_IMSVA, "POST", "/api/policies", json_incref(want));
	} else if (!json_subset(want, have)) {
		change = "updated";
		char *path = xasprintf("/api/policies/%lld",
				       (long long)json_integer_value(json_object_get(have, "id")));
		saved = drill_api_ok(d, AP_IMSVA, "PUT", path, json_incref(want));
		free(path);
	} else {
		saved = json_incref(have);
	}
	json_decref(list);
	int rc = -1;
	/* read the list back: the rule must now be there as wanted */
	list = saved ? drill_api_ok(d, AP_IMSVA, "GET", "/api/policies", NULL) : NULL;
	have = list ? drill_find_by(list, "name", name) : NULL;
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
	json_t *list = drill_api_ok(d, AP_IMSVA, "GET", "/api/policies", NULL);
	json_t *r = list ? drill_find_by(list, "builtin", builtin) : NULL;
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
	json_t *j = drill_api_ok(d, AP_IMSVA, "GET", path, NULL);
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
		json_t *j = drill_api_ok(d, AP_IMSVA, "POST", "/api/connections/tmcm/sync", NULL);
		if (!j)
			return -1;
		json_decref(j);
		w->requested_ms = time_now_ms();
	}
	json_t *st = drill_api_ok(d, AP_IMSVA, "GET", "/api/connections/tmcm", NULL);
	if (!st)
		return -1;
	/* the proof of arrival: the last sync that brought changes reached
	 * TMCM's change number (a sync time alone moves on every poll) */
	int64_t last = json_integer_value(json_object_get(st, "last_sync_ms"));
	int64_t number = json_integer_value(json_object_get(st, "change_number"));
	int64_t changed = json_integer_value(json_object_get(st, "last_change_ms"));
	if (number >= w->change_id && changed >= w->change_ms) {
		w->status = st;
		return 1;
	}
	const char *e = json_string_value(json_object_get(st, "last_error"));
	drill_fail(d, "change number %lld at %lld (want >= %lld at >= %lld), last sync %lld%s%s",
		   (long long)number, (long long)changed, (long long)w->change_id,
		   (long long)w->change_ms, (long long)last, e ? "; last error: " : "", e ? e : "");
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
