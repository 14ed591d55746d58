/* test_sps_so.c - the SPS stores over a real SQLite store: suspicious objects
 * applied from feed records (normalised keys, in-place updates, removals,
 * expiry, unusable values skipped) and matched by URL, parent domain, IP and
 * SHA-1 through their hashed key (type and value still compared), and the
 * migration to that key; the Approved/Blocked URL list through its CRUD
 * functions and its compiled cache (block over approve, disabled rules
 * ignored). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../mocks/sps/sps.h"
#include "so_content.h"
#include "store.h"
#include "util.h"
#include "testlib.h"

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/ctd-sps-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char *db = xasprintf("%s/lab.db", tmpdir);
	store_set_path(db);
	free(db);
	ck_assert_ptr_nonnull(store_get(NULL));
}

static void teardown(void)
{
	store_close_thread();
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void apply(int64_t id, const char *type, const char *value, const char *risk,
		  const char *action, int removed, int64_t expires_ms)
{
	so_record r = {.id = id, .removed = removed, .expires_ms = expires_ms};
	snprintf(r.type, sizeof r.type, "%s", type);
	snprintf(r.risk, sizeof r.risk, "%s", risk);
	snprintf(r.action, sizeof r.action, "%s", action);
	r.value = (char *)value;
	r.source = (char *)"DDAN";
	ctd_err err;
	store *st = store_get(&err);
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_msg(sps_so_apply(st, &r, &err) == 0, "apply %s %s: %s", type, value, err.msg);
	ck_assert_int_eq(store_commit(st, &err), 0);
}

/* The matching object's type and action for url, or "-" when none. */
static const char *match(const char *url, char *buf)
{
	sps_url u;
	sps_so_hit hit;
	ctd_err err;
	ck_assert_msg(sps_url_parse(url, &u, &err) == 0, "%s: %s", url, err.msg);
	ck_assert_int_eq(sps_so_match_url(&u, &hit, &err), 0);
	sps_url_free(&u);
	if (!hit.found)
		return "-";
	sprintf(buf, "%s/%s/%s", hit.type, hit.action, hit.risk);
	return buf;
}

static json_int_t count(const char *type)
{
	json_t *c = sps_so_counts(NULL);
	json_int_t n = json_integer_value(json_object_get(c, type));
	json_decref(c);
	return n;
}

TEST(test_objects)
{
	char b[64];
	apply(1, "URL", "HTTP://Evil.Example:80/a/../p?x=1#frag", "High", "block", 0, 0);
	apply(2, "DOMAIN", "*.Bad.Example.", "Medium", "log", 0, 0);
	apply(3, "IP", "10.1.2.3", "High", "block", 0, 0);
	apply(4, "ip", "[2001:DB8:0::5]", "low", "LOG", 0, 0);
	apply(5, "FILE", "3395856ce81f2b7382dee72602f798b642f14140", "High", "quarantine", 0, 0);
	/* unusable values are skipped, not fatal */
	apply(6, "URL", "http://", "High", "block", 0, 0);
	apply(7, "EMAIL", "a@b.example", "High", "block", 0, 0);
	ck_assert_int_eq(count("total"), 5);
	ck_assert_int_eq(count("IP"), 2);

	ck_assert_str_eq(match("http://evil.example/p?x=1", b), "URL/block/High");
	ck_assert_str_eq(match("evil.example/./p?x=1#other", b), "URL/block/High");
	ck_assert_str_eq(match("http://evil.example/p?x=2", b), "-");
	ck_assert_str_eq(match("http://evil.example/p", b), "-");
	ck_assert_str_eq(match("https://bad.example/", b), "DOMAIN/log/Medium");
	ck_assert_str_eq(match("http://a.b.BAD.example/x", b), "DOMAIN/log/Medium");
	ck_assert_str_eq(match("http://notbad.example/", b), "-");
	ck_assert_str_eq(match("http://bad.example.org/", b), "-");
	ck_assert_str_eq(match("http://10.1.2.3:8080/x", b), "IP/block/High");
	ck_assert_str_eq(match("http://0x0a.1.2.3/", b), "IP/block/High");
	ck_assert_str_eq(match("http://[2001:db8::5]/", b), "IP/log/Low");
	ck_assert_str_eq(match("http://10.1.2.4/", b), "-");

	sps_so_hit hit;
	ck_assert_int_eq(sps_so_match_file("3395856CE81F2B7382DEE72602F798B642F14140", &hit, NULL),
			 0);
	ck_assert(hit.found);
	ck_assert_str_eq(hit.action, "quarantine");

	/* the action changes in place; a removal deletes */
	apply(8, "URL", "http://evil.example/p?x=1", "High", "log", 0, 0);
	ck_assert_int_eq(count("URL"), 1);
	ck_assert_str_eq(match("http://evil.example/p?x=1", b), "URL/log/High");
	apply(9, "DOMAIN", "bad.example", "Medium", "", 1, 0);
	ck_assert_str_eq(match("http://www.bad.example/", b), "-");
	ck_assert_int_eq(count("total"), 4);
	/* removing what is not there is harmless */
	apply(10, "DOMAIN", "never.example", "Medium", "", 1, 0);
	ck_assert_int_eq(count("total"), 4);

	/* expired objects do not match */
	apply(11, "URL", "http://old.example/", "High", "block", 0, time_now_ms() - 1000);
	apply(12, "URL", "http://fresh.example/", "High", "block", 0, time_now_ms() + 3600000);
	ck_assert_str_eq(match("http://old.example/", b), "-");
	ck_assert_str_eq(match("http://fresh.example/", b), "URL/block/High");

	json_t *list = sps_so_list("URL", 10, NULL);
	ck_assert_int_eq(json_array_size(list), 3);
	json_decref(list);
}

/* The key the matching object was found under, or "-". */
static const char *matched_key(const char *url, char *buf)
{
	sps_url u;
	sps_so_hit hit;
	ck_assert_int_eq(sps_url_parse(url, &u, NULL), 0);
	ck_assert_int_eq(sps_so_match_url(&u, &hit, NULL), 0);
	sprintf(buf, "%s %s/%s", hit.found ? hit.value : "-", hit.type, hit.action);
	sps_url_free(&u);
	return buf;
}

/* One URL's keys are probed together, 8 to a statement: the URL wins over
 * the host, the host over its parents, a nearer parent over a farther one,
 * in the same statement or across two; expired objects are passed over. */
TEST(test_lookup_precedence)
{
	char b[512];
	const char *host = "a.b.c.d.e.f.g.h.i.j.example";
	apply(1, "DOMAIN", "example", "Low", "far", 0, 0);
	apply(2, "DOMAIN", "j.example", "Low", "j", 0, 0);
	/* 12 keys (the URL, the host, 10 parents): "example" is in the second statement */
	ck_assert_str_eq(matched_key("http://a.b.c.d.e.f.g.h.i.j.example/p", b), "j.example DOMAIN/j");
	ck_assert_str_eq(matched_key("http://k.l.m.n.o.p.q.r.s.t.example/", b),
			 "example DOMAIN/far");
	apply(3, "DOMAIN", "b.c.d.e.f.g.h.i.j.example", "Medium", "expired", 0, time_now_ms() - 1);
	apply(4, "DOMAIN", "c.d.e.f.g.h.i.j.example", "Medium", "near", 0, 0);
	ck_assert_str_eq(matched_key("http://a.b.c.d.e.f.g.h.i.j.example/p", b),
			 "c.d.e.f.g.h.i.j.example DOMAIN/near");
	apply(5, "DOMAIN", host, "High", "host", 0, 0);
	ck_assert_str_eq(matched_key("http://a.b.c.d.e.f.g.h.i.j.example/p", b),
			 "a.b.c.d.e.f.g.h.i.j.example DOMAIN/host");
	apply(6, "URL", "http://a.b.c.d.e.f.g.h.i.j.example/p", "High", "url", 0, 0);
	ck_assert_str_eq(matched_key("http://a.b.c.d.e.f.g.h.i.j.example/p", b),
			 "http://a.b.c.d.e.f.g.h.i.j.example/p URL/url");
	ck_assert_str_eq(matched_key("http://a.b.c.d.e.f.g.h.i.j.example/q", b),
			 "a.b.c.d.e.f.g.h.i.j.example DOMAIN/host");
	/* an IP host: the URL, then the IP; never a domain */
	apply(7, "IP", "192.0.2.7", "High", "ip", 0, 0);
	apply(8, "URL", "http://192.0.2.7/u", "High", "url", 0, 0);
	apply(9, "DOMAIN", "7", "High", "domain", 0, 0);
	ck_assert_str_eq(matched_key("http://192.0.2.7/u", b), "http://192.0.2.7/u URL/url");
	ck_assert_str_eq(matched_key("http://192.0.2.7/v", b), "192.0.2.7 IP/ip");
	/* a SHA-1 names only a FILE object */
	apply(10, "FILE", "3395856ce81f2b7382dee72602f798b642f14140", "High", "file", 0, 0);
	sps_so_hit hit;
	ck_assert_int_eq(sps_so_match_file("3395856CE81F2B7382DEE72602F798B642F14140", &hit, NULL),
			 0);
	ck_assert_str_eq(hit.action, "file");
	ck_assert_int_eq(sps_so_match_file("0000000000000000000000000000000000000000", &hit, NULL),
			 0);
	ck_assert(!hit.found);
}

/* A row found by its key is still checked for type and value: one stored
 * under another pair's key (as a pair whose hash collides would be) is no
 * hit for either, and the pair that owns the key replaces it. */
TEST(test_key_then_type_and_value)
{
	char b[64];
	ctd_err err;
	char *sql = sqlite3_mprintf(
		"INSERT INTO sps_objects (hkey, type, value, raw_value, risk, action, source,"
		" feed_id, updated_ms) VALUES (%lld, 'DOMAIN', 'y.example', 'y.example', 'High',"
		" 'block', 'DDAN', 1, 0)",
		(long long)so_content_key("DOMAIN", "x.example"));
	ck_assert_int_eq(store_exec(store_get(NULL), sql, &err), 0);
	sqlite3_free(sql);
	ck_assert_str_eq(match("http://x.example/", b), "-");
	ck_assert_str_eq(match("http://y.example/", b), "-");
	apply(2, "DOMAIN", "x.example", "Low", "log", 0, 0);
	ck_assert_int_eq(count("total"), 1);
	ck_assert_str_eq(match("http://x.example/", b), "DOMAIN/log/Low");
	apply(3, "DOMAIN", "x.example", "", "", 1, 0);
	ck_assert_int_eq(count("total"), 0);
}

static const char *migration_sql(const char *name)
{
	for (int i = 0; i < schema_migrations_count; i++)
		if (strcmp(schema_migrations[i].name, name) == 0)
			return schema_migrations[i].sql;
	ck_abort_msg("no migration %s", name);
	return NULL;
}

/* The list keyed by text (077) becomes the list keyed by hash: SQL cannot
 * compute the hash, so the objects go and the subscription's cursor goes
 * back to 0; its next sync, a full one, brings them all again. */
TEST(test_migration_starts_the_list_over)
{
	ctd_err err;
	store *st = store_get(NULL);
	ck_assert_int_eq(store_exec(st,
		"DROP TABLE sps_objects;"
		" CREATE TABLE sps_objects (id INTEGER PRIMARY KEY, type TEXT NOT NULL,"
		" value TEXT NOT NULL, raw_value TEXT NOT NULL, risk TEXT NOT NULL,"
		" action TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',"
		" feed_id INTEGER NOT NULL, expires_ms INTEGER NOT NULL DEFAULT 0,"
		" updated_ms INTEGER NOT NULL);"
		" CREATE UNIQUE INDEX sps_objects_key ON sps_objects (type, value);"
		" INSERT INTO sps_objects (type, value, raw_value, risk, feed_id, updated_ms)"
		" VALUES ('DOMAIN', 'old.example', 'old.example', 'High', 41, 0);"
		" UPDATE sps_sync_state SET cursor = 42, change_number = 42", &err), 0);
	ck_assert_int_eq(store_exec(st, migration_sql("079_sps_objects_hkey.sql"), &err), 0);
	ck_assert_int_eq(count("total"), 0);
	sqlite3_stmt *s = store_stmt(st, "SELECT cursor, change_number FROM sps_sync_state", &err);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int64(s, 0), 0);
	ck_assert_int_eq(sqlite3_column_int64(s, 1), 42); /* the last change seen stays shown */
	sqlite3_reset(s);
	char b[64];
	apply(43, "DOMAIN", "old.example", "High", "block", 0, 0);
	ck_assert_str_eq(match("http://www.old.example/", b), "DOMAIN/block/High");
}

static json_int_t add(const char *json, ctd_errcode want)
{
	ctd_err err;
	json_t *body = json_loads(json, 0, NULL);
	json_t *r = sps_lists_add(body, &err);
	json_decref(body);
	if (want != CTD_OK) {
		ck_assert_msg(r == NULL && err.code == want, "%s accepted", json);
		return 0;
	}
	ck_assert_msg(r != NULL, "%s: %s", json, err.msg);
	json_int_t id = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	return id;
}

/* "block:<id>", "approve:<id>" or "-" */
static const char *list_match(const char *url, char *buf)
{
	sps_url u;
	sps_list_hit hit;
	ck_assert_int_eq(sps_url_parse(url, &u, NULL), 0);
	ck_assert_int_eq(sps_lists_match(&u, &hit, NULL), 0);
	sps_url_free(&u);
	if (!hit.matched)
		return "-";
	sprintf(buf, "%s:%lld", hit.block ? "block" : "approve", (long long)hit.rule_id);
	sps_list_hit_free(&hit);
	return buf;
}

TEST(test_lists)
{
	char b[64];
	ck_assert_str_eq(list_match("http://a.example/", b), "-");
	add("{\"pattern\":\"x\"}", CTD_EINVAL);
	add("{\"pattern\":\"a.example\",\"action\":\"allow\"}", CTD_EINVAL);
	add("{\"type\":\"regex\",\"pattern\":\"a\",\"action\":\"block\"}", CTD_EINVAL);
	add("{\"type\":\"keyword\",\"pattern\":\"[\",\"action\":\"block\"}", CTD_EINVAL);
	add("{\"pattern\":\"a.example\",\"action\":\"block\",\"enabled\":1}", CTD_EINVAL);
	add("{\"pattern\":42,\"action\":\"block\"}", CTD_EINVAL);

	json_int_t a = add("{\"pattern\":\"a.example\",\"action\":\"approve\"}", CTD_OK);
	char want[32];
	sprintf(want, "approve:%lld", (long long)a);
	ck_assert_str_eq(list_match("https://www.a.example/x", b), want);

	json_int_t k = add("{\"type\":\"keyword\",\"pattern\":\"/admin(/|$)\",\"action\":\"block\"}",
			   CTD_OK);
	sprintf(want, "block:%lld", (long long)k);
	ck_assert_str_eq(list_match("http://www.a.example/admin", b), want);
	ck_assert_str_eq(list_match("http://other.example/admin/x", b), want);
	sprintf(want, "approve:%lld", (long long)a);
	ck_assert_str_eq(list_match("http://www.a.example/administrator", b), want);

	/* disabled rules drop out of the cache */
	ctd_err err;
	json_t *patch = json_pack("{s:b}", "enabled", 0);
	json_t *r = sps_lists_update(k, patch, &err);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	ck_assert_str_eq(list_match("http://other.example/admin/x", b), "-");
	/* an update is validated like an add */
	json_t *bad = json_pack("{s:s}", "pattern", "(");
	json_t *pk = json_pack("{s:s}", "type", "url"); /* "/admin(/|$)" is no URL */
	ck_assert_ptr_null(sps_lists_update(k, pk, &err));
	json_decref(pk);
	ck_assert_ptr_null(sps_lists_update(k, bad, &err));
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_ptr_null(sps_lists_update(999, patch, &err));
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	json_decref(bad);
	json_decref(patch);

	ck_assert_int_eq(sps_lists_delete(a, &err), 0);
	ck_assert_str_eq(list_match("https://www.a.example/x", b), "-");
	ck_assert_int_eq(sps_lists_delete(a, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);

	json_t *all = sps_lists_all(&err);
	ck_assert_int_eq(json_array_size(all), 1);
	ck_assert(json_is_false(json_object_get(json_array_get(all, 0), "enabled")));
	json_decref(all);
}

TL_SUITE(.setup = setup, .teardown = teardown);
