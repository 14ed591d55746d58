/* sps_lists.c - the Approved/Blocked URL list (Smart Protection >
 * Approved/Blocked URL List): rules of type "url" (the URL and its subsites,
 * or a single page) or "keyword" (a POSIX extended regex over the normalised
 * URL), each approving or blocking. The enabled rules are compiled once into
 * an in-memory cache that every change through the console invalidates. */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "sps.h"
#include "store.h"
#include "util.h"

struct sps_rule {
	int64_t id;
	int kind;
	int subsites;
	int block;
	char *pattern;
	sps_url url;  /* SPS_RULE_URL */
	regex_t re;   /* SPS_RULE_KEYWORD */
};

sps_rule *sps_rule_new(int64_t id, int kind, const char *pattern, int subsites, int block,
		       ctd_err *err)
{
	if (!pattern || !*pattern)
		return ctd_fail(err, CTD_EINVAL, "rule pattern is empty"), NULL;
	sps_rule *r = xcalloc(1, sizeof *r);
	r->id = id;
	r->kind = kind;
	r->subsites = subsites;
	r->block = block;
	r->pattern = xstrdup(pattern);
	if (kind == SPS_RULE_URL) {
		if (sps_url_parse(pattern, &r->url, err) != 0)
			goto bad;
		/* a URL with a query names one page */
		if (r->url.query)
			r->subsites = 0;
	} else {
		int rc = regcomp(&r->re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			char msg[128];
			regerror(rc, &r->re, msg, sizeof msg);
			ctd_fail(err, CTD_EINVAL, "bad keyword regex: %s", msg);
			goto bad;
		}
	}
	return r;
bad:
	free(r->pattern);
	free(r);
	return NULL;
}

void sps_rule_free(sps_rule *r)
{
	if (!r)
		return;
	if (r->kind == SPS_RULE_URL)
		sps_url_free(&r->url);
	else
		regfree(&r->re);
	free(r->pattern);
	free(r);
}

int64_t sps_rule_id(const sps_rule *r) { return r->id; }
int sps_rule_blocks(const sps_rule *r) { return r->block; }

/* host equals domain or is a subdomain of it */
static int host_within(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);
	if (hl == dl)
		return strcmp(host, domain) == 0;
	return hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0;
}

/* path equals prefix or continues it at a segment boundary */
static int path_within(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strcmp(prefix, "/") == 0)
		return 1;
	return strncmp(path, prefix, pl) == 0 && (path[pl] == '\0' || path[pl] == '/');
}

/* URL rules ignore the scheme: "example.com" covers http and https alike. */
int sps_rule_matches(const sps_rule *r, const sps_url *u)
{
	if (r->kind == SPS_RULE_KEYWORD)
		return regexec(&r->re, u->norm, 0, NULL, 0) == 0;
	if (!r->subsites)
		return strcmp(r->url.rest, u->rest) == 0;
	return host_within(u->host, r->url.host) && u->port == r->url.port &&
	       path_within(u->path, r->url.path);
}

/* ---- the compiled cache of enabled rules ---- */

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static sps_rule **cache;
static size_t ncache;
static int cache_valid;

static void cache_drop(void)
{
	for (size_t i = 0; i < ncache; i++)
		sps_rule_free(cache[i]);
	free(cache);
	cache = NULL;
	ncache = 0;
	cache_valid = 0;
}

static void lists_invalidate(void)
{
	pthread_rwlock_wrlock(&cache_lock);
	cache_drop();
	pthread_rwlock_unlock(&cache_lock);
}

/* Called with the write lock held. */
static int cache_load(ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return -1;
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT id, kind, pattern, scope, action FROM sps_url_rules"
				     " WHERE enabled = 1 ORDER BY id",
				     err);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ctd_err rerr;
		const char *kind = (const char *)sqlite3_column_text(s, 1);
		sps_rule *r = sps_rule_new(
			sqlite3_column_int64(s, 0),
			strcmp(kind, "keyword") == 0 ? SPS_RULE_KEYWORD : SPS_RULE_URL,
			(const char *)sqlite3_column_text(s, 2),
			strcmp((const char *)sqlite3_column_text(s, 3), "subsites") == 0,
			strcmp((const char *)sqlite3_column_text(s, 4), "block") == 0, &rerr);
		if (!r) {
			log_warn("lists.rule_skipped", "id=%lld error=\"%s\"",
				 (long long)sqlite3_column_int64(s, 0), rerr.msg);
			continue;
		}
		cache = xrealloc(cache, (ncache + 1) * sizeof *cache);
		cache[ncache++] = r;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		cache_drop();
		return ctd_fail(err, CTD_ESTORE, "loading URL rules: %s",
				sqlite3_errmsg(store_db(st)));
	}
	cache_valid = 1;
	return 0;
}

int sps_lists_match(const sps_url *u, sps_list_hit *hit, ctd_err *err)
{
	memset(hit, 0, sizeof *hit);
	pthread_rwlock_rdlock(&cache_lock);
	while (!cache_valid) {
		pthread_rwlock_unlock(&cache_lock);
		pthread_rwlock_wrlock(&cache_lock);
		if (!cache_valid && cache_load(err) != 0) {
			pthread_rwlock_unlock(&cache_lock);
			return -1;
		}
		pthread_rwlock_unlock(&cache_lock);
		pthread_rwlock_rdlock(&cache_lock);
	}
	const sps_rule *best = NULL;
	for (size_t i = 0; i < ncache; i++) {
		if (!sps_rule_matches(cache[i], u))
			continue;
		if (!best || (cache[i]->block && !best->block))
			best = cache[i];
		if (best->block)
			break;
	}
	if (best) {
		hit->matched = 1;
		hit->block = best->block;
		hit->rule_id = best->id;
		hit->pattern = xstrdup(best->pattern);
	}
	pthread_rwlock_unlock(&cache_lock);
	return 0;
}

void sps_list_hit_free(sps_list_hit *hit)
{
	free(hit->pattern);
	hit->pattern = NULL;
}

/* ---- console CRUD ---- */

static json_t *rule_row_json(sqlite3_stmt *s)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:I}", "id",
			 (json_int_t)sqlite3_column_int64(s, 0), "type", sqlite3_column_text(s, 1),
			 "pattern", sqlite3_column_text(s, 2), "scope", sqlite3_column_text(s, 3),
			 "action", sqlite3_column_text(s, 4), "enabled", sqlite3_column_int(s, 5),
			 "note", sqlite3_column_text(s, 6), "created_ms",
			 (json_int_t)sqlite3_column_int64(s, 7), "updated_ms",
			 (json_int_t)sqlite3_column_int64(s, 8));
}

#define RULE_COLS "id, kind, pattern, scope, action, enabled, note, created_ms, updated_ms"

/* id 0: all rules as an array; else the one rule (NULL + CTD_ENOTFOUND). */
static json_t *rules_query(store *st, int64_t id, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT " RULE_COLS " FROM sps_url_rules"
				     " WHERE ?1 = 0 OR id = ?1 ORDER BY id",
				     err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr, rule_row_json(s));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		ctd_fail(err, CTD_ESTORE, "URL rules: %s", sqlite3_errmsg(store_db(st)));
		return NULL;
	}
	if (id == 0)
		return arr;
	json_t *one = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	if (!one)
		ctd_fail(err, CTD_ENOTFOUND, "no URL rule %lld", (long long)id);
	return one;
}

json_t *sps_lists_all(ctd_err *err)
{
	store *st = store_get(err);
	return st ? rules_query(st, 0, err) : NULL;
}

typedef struct rule_fields {
	const char *type, *pattern, *scope, *action, *note;
	int enabled;
} rule_fields;

/* Overlay the body's fields on f and validate the result. */
static int rule_fields_read(json_t *body, rule_fields *f, ctd_err *err)
{
	if (!json_is_object(body))
		return ctd_fail(err, CTD_EINVAL, "body must be a JSON object");
	const char *keys[] = {"type", "pattern", "scope", "action", "note"};
	const char **dst[] = {&f->type, &f->pattern, &f->scope, &f->action, &f->note};
	for (size_t i = 0; i < 5; i++) {
		json_t *v = json_object_get(body, keys[i]);
		if (!v)
			continue;
		if (!json_is_string(v))
			return ctd_fail(err, CTD_EINVAL, "\"%s\" must be a string", keys[i]);
		*dst[i] = json_string_value(v);
	}
	json_t *en = json_object_get(body, "enabled");
	if (en) {
		if (!json_is_boolean(en))
			return ctd_fail(err, CTD_EINVAL, "\"enabled\" must be true or false");
		f->enabled = json_is_true(en);
	}
	if (strcmp(f->type, "url") != 0 && strcmp(f->type, "keyword") != 0)
		return ctd_fail(err, CTD_EINVAL, "\"type\" must be \"url\" or \"keyword\"");
	if (strcmp(f->scope, "subsites") != 0 && strcmp(f->scope, "page") != 0)
		return ctd_fail(err, CTD_EINVAL, "\"scope\" must be \"subsites\" or \"page\"");
	if (!f->action || (strcmp(f->action, "approve") != 0 && strcmp(f->action, "block") != 0))
		return ctd_fail(err, CTD_EINVAL, "\"action\" must be \"approve\" or \"block\"");
	sps_rule *r = sps_rule_new(0, strcmp(f->type, "keyword") == 0 ? SPS_RULE_KEYWORD : SPS_RULE_URL,
				   f->pattern, strcmp(f->scope, "subsites") == 0,
				   strcmp(f->action, "block") == 0, err);
	if (!r)
		return -1;
	sps_rule_free(r);
	return 0;
}

json_t *sps_lists_add(json_t *body, ctd_err *err)
{
	rule_fields f = {"url", NULL, "subsites", NULL, "", 1};
	if (rule_fields_read(body, &f, err) != 0)
		return NULL;
	store *st = store_get(err);
	if (!st)
		return NULL;
	sqlite3_stmt *s = store_stmt(st,
				     "INSERT INTO sps_url_rules (kind, pattern, scope, action, enabled,"
				     " note, created_ms, updated_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?7)",
				     err);
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, f.type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, f.pattern, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, f.scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, f.action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 5, f.enabled);
	sqlite3_bind_text(s, 6, f.note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 7, time_now_ms());
	if (store_step_done(st, s, err) != 0)
		return NULL;
	int64_t id = sqlite3_last_insert_rowid(store_db(st));
	lists_invalidate();
	json_t *detail = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "pattern", f.pattern,
				   "action", f.action);
	events_append(st, "sps", "list.added", f.pattern, detail, NULL);
	json_decref(detail);
	return rules_query(st, id, err);
}

json_t *sps_lists_update(int64_t id, json_t *body, ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return NULL;
	json_t *cur = rules_query(st, id, err);
	if (!cur)
		return NULL;
	rule_fields f = {json_string_value(json_object_get(cur, "type")),
			 json_string_value(json_object_get(cur, "pattern")),
			 json_string_value(json_object_get(cur, "scope")),
			 json_string_value(json_object_get(cur, "action")),
			 json_string_value(json_object_get(cur, "note")),
			 json_is_true(json_object_get(cur, "enabled"))};
	json_t *out = NULL;
	if (rule_fields_read(body, &f, err) != 0)
		goto done;
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE sps_url_rules SET kind = ?2, pattern = ?3, scope = ?4,"
				     " action = ?5, enabled = ?6, note = ?7, updated_ms = ?8"
				     " WHERE id = ?1",
				     err);
	if (!s)
		goto done;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, f.type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, f.pattern, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, f.scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, f.action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 6, f.enabled);
	sqlite3_bind_text(s, 7, f.note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 8, time_now_ms());
	if (store_step_done(st, s, err) != 0)
		goto done;
	lists_invalidate();
	out = rules_query(st, id, err);
done:
	json_decref(cur);
	return out;
}

int sps_lists_delete(int64_t id, ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return -1;
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM sps_url_rules WHERE id = ?1", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_step_changed(st, s, err, "no URL rule %lld", (long long)id) != 0)
		return -1;
	lists_invalidate();
	return 0;
}
