/* imsva_rules_store.c - IMSVA's policy list in the store (table imsva_rules):
 * first-start defaults, load in evaluation order, create/update/delete with
 * unique names and IMSVA-style order numbers (a rule put at a taken position
 * pushes the others down; numbers stay 1..n). */
#include <string.h>
#include "imsva_engine.h"
#include "util.h"

static const char *const builtin_ids[] = {NULL, "so_file", "so_url"};

static imsva_builtin builtin_parse(const char *s)
{
	if (s && !strcmp(s, "so_file"))
		return IMSVA_BUILTIN_SO_FILE;
	if (s && !strcmp(s, "so_url"))
		return IMSVA_BUILTIN_SO_URL;
	return IMSVA_BUILTIN_NONE;
}

static int bump_generation(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st, "UPDATE imsva_rules_meta SET generation = generation + 1 WHERE id = 1", err);
	return s ? store_step_done(st, s, err) : -1;
}

int imsva_rules_touch(store *st, ctd_err *err)
{
	return bump_generation(st, err);
}

int64_t imsva_rules_generation(store *st)
{
	sqlite3_stmt *s =
		store_stmt(st, "SELECT generation FROM imsva_rules_meta WHERE id = 1", NULL);
	int64_t g = -1;
	if (s && sqlite3_step(s) == SQLITE_ROW)
		g = sqlite3_column_int64(s, 0);
	if (s)
		sqlite3_reset(s);
	return g;
}

/* Rebuild a rule from its row (id, ord, builtin, rule_json). */
static imsva_rule *row_rule(sqlite3_stmt *s, ctd_err *err)
{
	int64_t id = sqlite3_column_int64(s, 0);
	json_error_t jerr;
	json_t *j = json_loads((const char *)sqlite3_column_text(s, 3), 0, &jerr);
	if (!j) {
		ctd_fail(err, CTD_ESTORE, "imsva_rules %lld: bad JSON: %s", (long long)id, jerr.text);
		return NULL;
	}
	imsva_rule *r = imsva_rule_from_json(j, NULL, err);
	json_decref(j);
	if (!r) {
		err->code = CTD_ESTORE;
		return NULL;
	}
	r->id = id;
	r->order = sqlite3_column_int(s, 1);
	r->builtin = builtin_parse((const char *)sqlite3_column_text(s, 2));
	return r;
}

int imsva_rules_load(store *st, imsva_ruleset **out, ctd_err *err)
{
	sqlite3_stmt *s =
		store_stmt(st, "SELECT id, ord, builtin, rule_json FROM imsva_rules", err);
	if (!s)
		return -1;
	imsva_ruleset *set = xcalloc(1, sizeof *set);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		imsva_rule *r = row_rule(s, err);
		if (!r) {
			sqlite3_reset(s);
			imsva_ruleset_free(set);
			return -1;
		}
		set->rules = xrealloc(set->rules, (set->n + 1) * sizeof *set->rules);
		set->rules[set->n++] = r;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		imsva_ruleset_free(set);
		return ctd_fail(err, CTD_ESTORE, "imsva_rules: %s", sqlite3_errstr(rc));
	}
	imsva_ruleset_sort(set);
	imsva_ruleset_compile(set);
	*out = set;
	return 0;
}

int imsva_rules_get(store *st, int64_t id, imsva_rule **out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st, "SELECT id, ord, builtin, rule_json FROM imsva_rules WHERE id = ?", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	imsva_rule *r = NULL;
	if (rc == SQLITE_ROW)
		r = row_rule(s, err);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return ctd_fail(err, CTD_ENOTFOUND, "rule %lld not found", (long long)id);
	if (rc != SQLITE_ROW)
		return ctd_fail(err, CTD_ESTORE, "imsva_rules: %s", sqlite3_errstr(rc));
	if (!r)
		return -1;
	*out = r;
	return 0;
}

/* A single integer from a one-row query with one optional int64 binding. */
static int query_int(store *st, const char *sql, int64_t bind, int64_t *out, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, sql, err);
	if (!s)
		return -1;
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, bind);
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ctd_fail(err, CTD_ESTORE, "imsva_rules: %s", sqlite3_errstr(rc));
	return 0;
}

static int name_taken(store *st, const char *name, int64_t except_id, int *taken, ctd_err *err)
{
	sqlite3_stmt *s =
		store_stmt(st, "SELECT count(*) FROM imsva_rules WHERE name = ? AND id != ?", err);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, except_id);
	int rc = sqlite3_step(s);
	*taken = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return ctd_fail(err, CTD_ESTORE, "imsva_rules: %s", sqlite3_errstr(rc));
	return 0;
}

/* Make room at `order` for rule `self` among the ordinary rules. */
static int shift_from(store *st, int order, int64_t self, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE imsva_rules SET ord = ord + 1 "
				     "WHERE builtin IS NULL AND ord >= ? AND id != ?",
				     err);
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, order);
	sqlite3_bind_int64(s, 2, self);
	return store_step_done(st, s, err);
}

/* Number the ordinary rules 1..n, keeping their order. */
static int renumber(store *st, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(
		st, "SELECT id FROM imsva_rules WHERE builtin IS NULL ORDER BY ord, id", err);
	if (!s)
		return -1;
	int64_t *ids = NULL;
	size_t n = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *u = store_stmt(st, "UPDATE imsva_rules SET ord = ? WHERE id = ?", err);
		if (!u) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(u, 1, (int64_t)i + 1);
		sqlite3_bind_int64(u, 2, ids[i]);
		rc = store_step_done(st, u, err);
	}
	free(ids);
	return rc;
}

/* The stored JSON carries neither id nor builtin (they are columns). */
static char *rule_json_text(const imsva_rule *r)
{
	json_t *j = imsva_rule_to_json(r);
	json_object_del(j, "id");
	json_object_del(j, "builtin");
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int insert_row(store *st, imsva_rule *r, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "INSERT INTO imsva_rules (ord, builtin, name, enabled, "
				     "rule_json, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
				     err);
	if (!s)
		return -1;
	int64_t now = time_now_ms();
	char *text = rule_json_text(r);
	sqlite3_bind_int(s, 1, r->order);
	if (r->builtin)
		sqlite3_bind_text(s, 2, builtin_ids[r->builtin], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 4, r->enabled);
	sqlite3_bind_text(s, 5, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, now);
	int rc = store_step_done(st, s, err);
	free(text);
	if (rc == 0)
		r->id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

static int update_row(store *st, const imsva_rule *r, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "UPDATE imsva_rules SET ord = ?, name = ?, enabled = ?, "
				     "rule_json = ?, updated_ms = ? WHERE id = ?",
				     err);
	if (!s)
		return -1;
	char *text = rule_json_text(r);
	sqlite3_bind_int(s, 1, r->order);
	sqlite3_bind_text(s, 2, r->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, r->enabled);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, time_now_ms());
	sqlite3_bind_int64(s, 6, r->id);
	int rc = store_step_done(st, s, err);
	free(text);
	return rc;
}

/* After a write: close the numbering, read back r's final order, bump. */
static int finish_write(store *st, imsva_rule *r, ctd_err *err)
{
	int64_t ord = 0;
	if (renumber(st, err) < 0 || bump_generation(st, err) < 0)
		return -1;
	if (r && query_int(st, "SELECT ord FROM imsva_rules WHERE id = ?", r->id, &ord, err) < 0)
		return -1;
	if (r)
		r->order = (int)ord;
	return 0;
}

/* Place an ordinary rule: order <= 0 means last. */
static int place(store *st, imsva_rule *r, int64_t self, ctd_err *err)
{
	if (r->builtin) {
		r->order = 0;
		return 0;
	}
	if (r->order <= 0) {
		int64_t max = 0;
		if (query_int(st,
			      "SELECT coalesce(max(ord), 0) FROM imsva_rules "
			      "WHERE builtin IS NULL AND id != ?",
			      self, &max, err) < 0)
			return -1;
		r->order = (int)max + 1;
		return 0;
	}
	return shift_from(st, r->order, self, err);
}

static int create_locked(store *st, imsva_rule *r, ctd_err *err)
{
	int taken;
	if (name_taken(st, r->name, 0, &taken, err) < 0)
		return -1;
	if (taken)
		return ctd_fail(err, CTD_ECONFLICT, "name: a rule named \"%s\" exists", r->name);
	if (place(st, r, 0, err) < 0 || insert_row(st, r, err) < 0)
		return -1;
	return finish_write(st, r, err);
}

int imsva_rules_create(store *st, imsva_rule *r, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	if (create_locked(st, r, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* "Copy of <name>", or "Copy (n) of <name>" when that is taken. */
static int copy_name(store *st, const char *name, char **out, ctd_err *err)
{
	for (int n = 1; n < 1000; n++) {
		char *try = n == 1 ? xasprintf("Copy of %s", name)
				   : xasprintf("Copy (%d) of %s", n, name);
		int taken;
		if (name_taken(st, try, 0, &taken, err) < 0) {
			free(try);
			return -1;
		}
		if (!taken) {
			*out = try;
			return 0;
		}
		free(try);
	}
	return ctd_fail(err, CTD_ECONFLICT, "name: too many copies of \"%s\"", name);
}

static int copy_locked(store *st, int64_t id, imsva_rule **out, ctd_err *err)
{
	imsva_rule *src;
	if (imsva_rules_get(st, id, &src, err) < 0)
		return -1;
	char *name = NULL;
	if (copy_name(st, src->name, &name, err) < 0) {
		imsva_rule_free(src);
		return -1;
	}
	imsva_rule *r = imsva_rule_dup(src);
	imsva_rule_free(src);
	free(r->name);
	r->name = name;
	r->id = 0;
	r->order = 0; /* last */
	r->builtin = IMSVA_BUILTIN_NONE; /* a copy of a built-in rule is an ordinary one */
	if (create_locked(st, r, err) < 0) {
		imsva_rule_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int imsva_rules_copy(store *st, int64_t id, imsva_rule **out, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	*out = NULL;
	if (copy_locked(st, id, out, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		imsva_rule_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int update_locked(store *st, imsva_rule *r, ctd_err *err)
{
	imsva_rule *old;
	if (imsva_rules_get(st, r->id, &old, err) < 0)
		return -1;
	r->builtin = old->builtin;
	if (r->order <= 0)
		r->order = old->order;
	imsva_rule_free(old);
	int taken;
	if (name_taken(st, r->name, r->id, &taken, err) < 0)
		return -1;
	if (taken)
		return ctd_fail(err, CTD_ECONFLICT, "name: a rule named \"%s\" exists", r->name);
	if (place(st, r, r->id, err) < 0 || update_row(st, r, err) < 0)
		return -1;
	return finish_write(st, r, err);
}

int imsva_rules_update(store *st, imsva_rule *r, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	if (update_locked(st, r, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

static int delete_locked(store *st, int64_t id, ctd_err *err)
{
	imsva_rule *old;
	if (imsva_rules_get(st, id, &old, err) < 0)
		return -1;
	int builtin = old->builtin != IMSVA_BUILTIN_NONE;
	imsva_rule_free(old);
	if (builtin)
		return ctd_fail(err, CTD_ECONFLICT,
				"rule %lld is built in: disable it instead of deleting it",
				(long long)id);
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM imsva_rules WHERE id = ?", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_step_done(st, s, err) < 0)
		return -1;
	return finish_write(st, NULL, err);
}

int imsva_rules_delete(store *st, int64_t id, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	if (delete_locked(st, id, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

static int seed_locked(store *st, imsva_locale loc, int *inserted, ctd_err *err)
{
	int64_t count;
	*inserted = 0;
	if (query_int(st, "SELECT count(*) FROM imsva_rules", 0, &count, err) < 0)
		return -1;
	if (count > 0)
		return 0;
	imsva_ruleset *defaults = imsva_default_rules(loc);
	int rc = 0;
	for (size_t i = 0; i < defaults->n && rc == 0; i++) {
		rc = insert_row(st, defaults->rules[i], err);
		*inserted += rc == 0;
	}
	imsva_ruleset_free(defaults);
	return rc < 0 ? -1 : bump_generation(st, err);
}

int imsva_rules_seed(store *st, imsva_locale loc, ctd_err *err)
{
	int inserted;
	if (store_begin(st, err) < 0)
		return -1;
	if (seed_locked(st, loc, &inserted, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return inserted;
}

static int localize_locked(store *st, imsva_locale loc, int *renamed, ctd_err *err)
{
	imsva_ruleset *set;
	*renamed = 0;
	if (imsva_rules_load(st, &set, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < set->n && rc == 0; i++) {
		imsva_rule *r = set->rules[i];
		const char *want = imsva_builtin_name(r->builtin, loc);
		if (!r->builtin || !strcmp(r->name, want) ||
		    (strcmp(r->name, imsva_builtin_name(r->builtin, IMSVA_LOCALE_EN)) &&
		     strcmp(r->name, imsva_builtin_name(r->builtin, IMSVA_LOCALE_JA))))
			continue;
		free(r->name);
		r->name = xstrdup(want);
		rc = update_row(st, r, err);
		*renamed += rc == 0;
	}
	imsva_ruleset_free(set);
	if (rc == 0 && *renamed)
		rc = bump_generation(st, err);
	return rc;
}

int imsva_rules_localize(store *st, imsva_locale loc, ctd_err *err)
{
	int renamed;
	if (store_begin(st, err) < 0)
		return -1;
	if (localize_locked(st, loc, &renamed, err) < 0 || store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	return renamed;
}
