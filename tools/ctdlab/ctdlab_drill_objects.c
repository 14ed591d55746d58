/* ctdlab_drill_objects.c - following a suspicious object through the lab:
 * DDAN's and DDI's lists (Virtual Analyzer / Detections > Suspicious
 * Objects), TMCM's Virtual Analyzer Objects with Sync now and Set action, and
 * SPS's subscribed list with Sync Now. Each wait is a bounded poll that asks
 * for a sync again whenever the previous one finished without the object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ctdlab_drill.h"
#include "util.h"

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
	json_t *j = drill_api_ok(d, AP_DDAN, "GET", path, NULL);
	free(path);
	if (!j)
		return -1;
	json_t *o = drill_find_by(json_object_get(j, "suspicious_objects"), "object", w->value);
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
	json_t *j = drill_api_ok(d, AP_TMCM, "GET", path, NULL);
	free(path);
	free(q);
	return j;
}

/* The TMCM source row `name` (DDAN, DDI) of GET /api/sources, or NULL. */
static json_t *tmcm_source(drill *d, const char *name, int *failed)
{
	json_t *list = drill_api_ok(d, AP_TMCM, "GET", "/api/sources", NULL);
	json_t *src = json_incref(drill_find_by(list, "name", name));
	*failed = !list;
	json_decref(list);
	return src;
}

/* 1 when TMCM's row o names source among its "sources": DDI, which watches
 * the mail on the wire too, may report a sample before DDAN's feed brings it
 * and is then the first ("source") of the two. */
static int listed_from(json_t *o, const char *source)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(o, "sources"), i, s)
		if (json_is_string(s) && strcmp(json_string_value(s), source) == 0)
			return 1;
	return 0;
}

/* Done when TMCM lists the object from `source` and pulled `source` after
 * since_ms (so the object came through that source's feed). Otherwise Sync
 * now, again once done. */
static int probe_tmcm(drill *d, void *cls)
{
	so_wait *w = cls;
	int failed = 0;
	json_t *j = tmcm_objects(d, w->type, w->value, NULL);
	if (!j)
		return -1;
	json_decref(w->found);
	w->found = json_incref(drill_find_by(json_object_get(j, "items"), "value", w->value));
	json_decref(j);
	json_t *src = tmcm_source(d, w->source, &failed);
	int64_t pulled = json_integer_value(json_object_get(src, "last_sync_ms"));
	const char *listed = json_string_value(json_object_get(w->found, "source"));
	if (w->found && listed_from(w->found, w->source) && src && pulled > w->since_ms) {
		json_object_set_new(w->found, "source_sync", src);
		return 1;
	}
	json_decref(src);
	if (failed)
		return -1;
	drill_fail(d, "%s%s; %s last pulled %lld (want after %lld)",
		   w->found ? "listed from " : "not listed", listed ? listed : "", w->source,
		   (long long)pulled, (long long)w->since_ms);
	json_t *st = drill_api_ok(d, AP_TMCM, "GET", "/api/sync", NULL);
	if (!st)
		return -1;
	int64_t done = json_integer_value(json_object_get(st, "completed"));
	json_decref(st);
	if (done >= w->seq) {
		json_t *r = drill_api_ok(d, AP_TMCM, "POST", "/api/sync", NULL);
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
	json_t *r = drill_api_ok(d, AP_TMCM, "POST", "/api/va-objects/action",
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
	json_t *st = drill_api_ok(d, AP_SPS, "POST", "/api/so/sync", NULL); /* waits for the sync */
	if (!st)
		return -1;
	json_decref(w->status);
	w->status = st;
	char *path = xasprintf("/api/so/objects?type=%s", w->type);
	json_t *list = drill_api_ok(d, AP_SPS, "GET", path, NULL);
	free(path);
	if (!list)
		return -1;
	json_t *o = drill_find_by(list, "value", w->value);
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
	json_t *j = drill_api_ok(d, AP_DDI, "GET", path, NULL);
	json_t *o = j ? json_incref(drill_find_by(json_object_get(j, key), field, value)) : NULL;
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
