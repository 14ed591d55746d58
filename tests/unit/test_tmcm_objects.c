/* test_tmcm_objects.c - TMCM's lists and merged feed on a scratch store:
 * user-defined objects win over VA objects, exceptions (with wildcards) and
 * expiry remove from distribution, every effective change takes a new change
 * ID and nothing else does, removals by another source are ignored, feed
 * pages carry the cursor and the "more" flag, and UDSO input validation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sofeed.h"
#include "store.h"
#include "testlib.h"
#include "util.h"
#include "../../mocks/tmcm/tmcm.h"

#define SHA "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"

static char *dir;
static store *st;

static void setup(void)
{
	dir = tl_tmpdir("tmcm-objects");
	char *path = xasprintf("%s/lab.db", dir);
	store_set_path(path);
	free(path);
	ctd_err err = {0};
	st = store_get(&err);
	ck_assert_msg(st != NULL, "store: %s", err.msg);
}

static void teardown(void)
{
	store_close_thread();
	tl_rmrf(dir);
	free(dir);
}

/* Apply one VA record from `source` in its own transaction. */
static void va(const char *source, const char *type, const char *value, int64_t expires,
	       int64_t seen, int removed)
{
	so_record r = {.value = (char *)value, .first_seen_ms = seen, .last_seen_ms = seen,
		       .expires_ms = expires, .removed = removed};
	snprintf(r.type, sizeof r.type, "%s", type);
	snprintf(r.risk, sizeof r.risk, "High");
	ctd_err err = {0};
	tmcm_exc_set exc;
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(tmcm_exc_load(st, &exc, &err), 0);
	ck_assert_msg(tmcm_va_apply(st, &exc, source, "log", &r, &err) == 0, "%s", err.msg);
	tmcm_exc_free(&exc);
	ck_assert_int_eq(store_commit(st, &err), 0);
}

typedef struct feed_row {
	int64_t id;
	char action[12], source[16];
	int removed, found;
} feed_row;

static feed_row feed(const char *type, const char *value)
{
	feed_row f = {0};
	sqlite3_stmt *s = store_stmt(st,
		"SELECT change_id, action, source, removed FROM tmcm_feed WHERE type = ?1 AND value = ?2",
		NULL);
	sqlite3_bind_text(s, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW) {
		f.found = 1;
		f.id = sqlite3_column_int64(s, 0);
		snprintf(f.action, sizeof f.action, "%s", sqlite3_column_text(s, 1));
		snprintf(f.source, sizeof f.source, "%s", sqlite3_column_text(s, 2));
		f.removed = sqlite3_column_int(s, 3);
	}
	sqlite3_reset(s);
	return f;
}

static int64_t va_id(const char *value)
{
	json_t *vals = json_pack("[s]", value);
	ctd_err err = {0};
	json_t *ids = tmcm_va_ids_for_values(st, vals, &err);
	ck_assert_msg(ids != NULL, "%s", err.msg);
	int64_t id = json_integer_value(json_array_get(ids, 0));
	json_decref(ids);
	json_decref(vals);
	return id;
}

TEST(test_udso_wins_over_va)
{
	int64_t now = time_now_ms();
	va("DDAN", "FILE", SHA, 0, now, 0);
	feed_row f = feed("FILE", SHA);
	ck_assert(f.found && !f.removed);
	ck_assert_str_eq(f.action, "log");
	ck_assert_str_eq(f.source, "DDAN");

	ctd_err err = {0};
	char *canon = NULL;
	ck_assert_int_eq(tmcm_udso_check("file_sha1", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
					 "quarantine", &canon, &err), 0);
	ck_assert_str_eq(canon, SHA);
	tmcm_udso u = {.type = "file_sha1", .content = canon, .scan_action = "quarantine"};
	ck_assert_int_eq(tmcm_udso_put(st, &u, 10, &err), 0);
	feed_row g = feed("FILE", SHA);
	ck_assert_int_gt(g.id, f.id);
	ck_assert_str_eq(g.action, "quarantine");
	ck_assert_str_eq(g.source, "UDSO");

	/* the VA object's own action does not leak through while the UDSO lives */
	json_t *ids = json_pack("[I]", (json_int_t)va_id(SHA));
	ck_assert_int_eq(tmcm_va_set_action(st, ids, "block", -1, &err), 1);
	ck_assert_int_eq(feed("FILE", SHA).id, g.id);

	ck_assert_int_eq(tmcm_udso_delete(st, "file_sha1", SHA, &err), 0);
	feed_row h = feed("FILE", SHA);
	ck_assert_int_gt(h.id, g.id);
	ck_assert_str_eq(h.action, "block");
	ck_assert_str_eq(h.source, "DDAN");
	ck_assert_int_eq(tmcm_udso_delete(st, "file_sha1", SHA, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	json_decref(ids);
	free(canon);
}

TEST(test_no_change_no_new_id)
{
	int64_t now = time_now_ms();
	va("DDAN", "IP", "198.51.100.1", now + 3600000, now, 0);
	int64_t id = tmcm_last_change_id(st);
	va("DDAN", "IP", "198.51.100.1", now + 3600000, now + 1000, 0);
	ck_assert_int_eq(tmcm_last_change_id(st), id);
	/* another source dropping it does not remove the reporter's object */
	va("DDI", "IP", "198.51.100.1", 0, now, 1);
	ck_assert_int_eq(feed("IP", "198.51.100.1").removed, 0);
	va("DDAN", "IP", "198.51.100.1", 0, now, 1);
	feed_row f = feed("IP", "198.51.100.1");
	ck_assert_int_eq(f.removed, 1);
	ck_assert_int_eq(f.id, id + 1);
}

/* The listed object filtered by source: its source and its sources. */
static json_t *va_by_source(const char *source, const char *value)
{
	ctd_err err = {0};
	json_t *list = tmcm_va_list(st, &(tmcm_va_filter){.source = source, .q = value}, &err);
	ck_assert_msg(list != NULL, "%s", err.msg);
	json_t *item = json_incref(json_array_get(json_object_get(list, "items"), 0));
	json_decref(list);
	return item;
}

static void assert_sources(json_t *item, const char *first, const char *second)
{
	ck_assert_ptr_nonnull(item);
	ck_assert_str_eq(json_string_value(json_object_get(item, "source")), first);
	json_t *all = json_object_get(item, "sources");
	ck_assert_uint_eq(json_array_size(all), second ? 2 : 1);
	ck_assert_str_eq(json_string_value(json_array_get(all, 0)), first);
	if (second)
		ck_assert_str_eq(json_string_value(json_array_get(all, 1)), second);
}

/* Seed STEP 3-2: DDI captured the file before DDAN analysed it; TMCM pulls
 * DDAN first, then DDI: the object is "from DDI", also reported by DDAN,
 * and found under either source. A source that withdraws it leaves the
 * other's report; the last one removes it. */
TEST(test_every_source_first_seen_first)
{
	const char *sha1 = "0123456789ABCDEF0123456789ABCDEF01234567";
	int64_t now = time_now_ms();
	va("DDAN", "FILE", sha1, 0, now - 1000, 0);
	json_t *o = va_by_source(NULL, sha1);
	assert_sources(o, "DDAN", NULL);
	json_decref(o);
	va("DDI", "FILE", sha1, 0, now - 5000, 0);
	o = va_by_source(NULL, sha1);
	assert_sources(o, "DDI", "DDAN");
	json_decref(o);
	o = va_by_source("DDAN", sha1);
	assert_sources(o, "DDI", "DDAN");
	json_decref(o);
	ck_assert_str_eq(feed("FILE", sha1).source, "DDI");
	/* DDAN reports it again later: DDI stays first */
	va("DDAN", "FILE", sha1, 0, now, 0);
	o = va_by_source("DDI", sha1);
	assert_sources(o, "DDI", "DDAN");
	json_decref(o);
	va("DDI", "FILE", sha1, 0, now, 1);
	o = va_by_source(NULL, sha1);
	assert_sources(o, "DDAN", NULL);
	json_decref(o);
	o = va_by_source("DDI", sha1);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(feed("FILE", sha1).removed, 0);
	va("DDAN", "FILE", sha1, 0, now, 1);
	ck_assert_ptr_null(va_by_source(NULL, sha1));
	ck_assert_int_eq(feed("FILE", sha1).removed, 1);
}

TEST(test_exception_wildcards)
{
	int64_t now = time_now_ms();
	va("DDAN", "URL", "http://a.lab/x", 0, now, 0);
	va("DDAN", "URL", "http://a.lab/y", 0, now, 0);
	va("DDAN", "URL", "http://b.lab/z", 0, now, 0);
	ctd_err err = {0};
	int64_t exc = tmcm_exc_add(st, "url", "http://a.lab/*", "lab", &err);
	ck_assert_msg(exc > 0, "%s", err.msg);
	ck_assert_int_eq(feed("URL", "http://a.lab/x").removed, 1);
	ck_assert_int_eq(feed("URL", "http://a.lab/y").removed, 1);
	ck_assert_int_eq(feed("URL", "http://b.lab/z").removed, 0);
	json_t *list = tmcm_exc_list(st, &err);
	ck_assert_int_eq(json_array_size(list), 1);
	json_decref(list);
	ck_assert_int_eq(tmcm_exc_delete(st, exc, &err), 0);
	ck_assert_int_eq(feed("URL", "http://a.lab/x").removed, 0);
	ck_assert_int_eq(tmcm_exc_delete(st, exc, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	ck_assert_int_eq(tmcm_exc_add(st, "hash", "x", NULL, &err), -1);
}

TEST(test_expiry)
{
	int64_t now = time_now_ms();
	ctd_err err = {0};
	/* already expired at arrival: never distributed */
	va("DDAN", "DOMAIN", "old.lab", now - 1, now - 10, 0);
	ck_assert_int_eq(feed("DOMAIN", "old.lab").found, 0);
	/* "Expire now" */
	va("DDAN", "DOMAIN", "now.lab", 0, now, 0);
	json_t *ids = json_pack("[I]", (json_int_t)va_id("now.lab"));
	ck_assert_int_eq(tmcm_va_expire(st, ids, 0, &err), 1);
	ck_assert_int_eq(feed("DOMAIN", "now.lab").removed, 1);
	/* re-reported without a new sighting: stays expired; "Never expire" revives */
	va("DDAN", "DOMAIN", "now.lab", now + 3600000, now, 0);
	ck_assert_int_eq(feed("DOMAIN", "now.lab").removed, 1);
	ck_assert_int_eq(tmcm_va_expire(st, ids, 1, &err), 1);
	ck_assert_int_eq(feed("DOMAIN", "now.lab").removed, 0);
	json_decref(ids);
	/* runs out while distributed: the sweep removes it */
	va("DDAN", "DOMAIN", "soon.lab", time_now_ms() + 30, now, 0);
	ck_assert_int_eq(feed("DOMAIN", "soon.lab").removed, 0);
	for (int i = 0; i < 200 && !feed("DOMAIN", "soon.lab").removed; i++) {
		usleep(10000);
		ck_assert_int_eq(tmcm_expire_due(st, &err), 0);
	}
	ck_assert_int_eq(feed("DOMAIN", "soon.lab").removed, 1);
}

/* The UDSO list says how long it holds: until the first listed expiry. */
static size_t udso_listed(int64_t now, int64_t *until)
{
	sbuf out = {0};
	ctd_err err = {0};
	*until = INT64_MAX;
	ck_assert_msg(tmcm_udso_list_write(st, NULL, NULL, now, until, &out, &err) == 0, "%s",
		      err.msg);
	json_t *list = json_loadb(out.data, out.len, 0, NULL);
	size_t n = json_array_size(list);
	json_decref(list);
	sbuf_free(&out);
	return n;
}

TEST(test_udso_list_until)
{
	int64_t now = time_now_ms();
	ctd_err err = {0};
	tmcm_udso u[] = {
		{.type = "domain", .content = "never.lab", .scan_action = "log"},
		{.type = "domain", .content = "later.lab", .scan_action = "log", .expires_ms = now + 10000},
		{.type = "domain", .content = "soon.lab", .scan_action = "log", .expires_ms = now + 5000},
	};
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(tmcm_udso_put(st, &u[i], 10, &err), 0);
	int64_t until;
	ck_assert_int_eq(udso_listed(now, &until), 3);
	ck_assert_int_eq(until, now + 5000);
	ck_assert_int_eq(udso_listed(now + 5000, &until), 2);
	ck_assert_int_eq(until, now + 10000);
	ck_assert_int_eq(udso_listed(now + 10000, &until), 1);
	ck_assert_int_eq(until, INT64_MAX);
}

typedef struct seen {
	int n;
	int64_t ids[16];
} seen;

static int count(const so_record *r, void *cls)
{
	seen *s = cls;
	s->ids[s->n++] = r->id;
	return 0;
}

TEST(test_feed_pages)
{
	int64_t now = time_now_ms();
	char v[32];
	for (int i = 0; i < 5; i++) {
		snprintf(v, sizeof v, "10.0.0.%d", i + 1);
		va("DDAN", "IP", v, 0, now, 0);
	}
	va("DDAN", "IP", "10.0.0.1", 0, now, 1); /* id 6 removes the first */
	ctd_err err = {0};
	sbuf xml = {0};
	long n;
	int64_t last, parsed_last = 0;
	int more;
	seen s = {0};
	/* full pull: the removed key is skipped */
	ck_assert_int_eq(tmcm_feed_page(st, 0, 2, &xml, &n, &last, &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(sofeed_parse(xml.data, xml.len, count, &s, &parsed_last, &more, &err), 0);
	ck_assert_int_eq(more, 1);
	ck_assert_int_eq(parsed_last, last);
	ck_assert_int_eq(s.ids[0], 2);
	ck_assert_int_eq(s.ids[1], 3);
	sbuf_free(&xml);
	/* incremental: the removal is there, and the last page says no more */
	s.n = 0;
	ck_assert_int_eq(tmcm_feed_page(st, 4, 10, &xml, &n, &last, &err), 0);
	ck_assert_int_eq(sofeed_parse(xml.data, xml.len, count, &s, &parsed_last, &more, &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(s.ids[1], 6);
	ck_assert_int_eq(last, 6);
	ck_assert_int_eq(more, 0);
	sbuf_free(&xml);
	/* past the end: empty page, cursor unchanged */
	ck_assert_int_eq(tmcm_feed_page(st, 6, 10, &xml, &n, &last, &err), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(last, 6);
	sbuf_free(&xml);
	ck_assert_int_eq(tmcm_feed_active_count(st), 4);
}

TEST(test_actions_and_validation)
{
	va("DDAN", "URL", "http://q.lab/", 0, time_now_ms(), 0);
	ctd_err err = {0};
	json_t *ids = json_pack("[I]", (json_int_t)va_id("http://q.lab/"));
	ck_assert_int_eq(tmcm_va_set_action(st, ids, "quarantine", -1, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_int_eq(tmcm_va_set_action(st, ids, "delete", -1, &err), -1);
	json_decref(ids);
	ids = json_pack("[i]", 999999);
	ck_assert_int_eq(tmcm_va_set_action(st, ids, "block", -1, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	json_decref(ids);

	char *c = NULL;
	ck_assert_int_eq(tmcm_udso_check("ip", "300.1.1.1", "log", &c, &err), -1);
	ck_assert_int_eq(tmcm_udso_check("url", "ftp://x", "log", &c, &err), -1);
	ck_assert_int_eq(tmcm_udso_check("file_sha1", "abc", "log", &c, &err), -1);
	ck_assert_int_eq(tmcm_udso_check("domain", "ex ample.com", "log", &c, &err), -1);
	ck_assert_int_eq(tmcm_udso_check("ip", "1.2.3.4", "quarantine", &c, &err), -1);
	ck_assert_int_eq(tmcm_udso_check("file_sha256", SHA, "log", &c, &err), -1);
	ck_assert_int_eq(tmcm_udso_check("domain", "Bad.Example", "block", &c, &err), 0);
	ck_assert_str_eq(c, "bad.example");
	free(c);

	/* the maximum counts objects, an update of one is not a new one */
	tmcm_udso u = {.type = "domain", .content = "a.lab", .scan_action = "log"};
	ck_assert_int_eq(tmcm_udso_put(st, &u, 1, &err), 0);
	ck_assert_int_eq(tmcm_udso_put(st, &u, 1, &err), 0);
	u.content = "b.lab";
	ck_assert_int_eq(tmcm_udso_put(st, &u, 1, &err), -1);
	ck_assert_int_eq(err.code, CTD_ETOOBIG);
	json_t *list = tmcm_udso_list(st, "domain", "A.L", &err);
	ck_assert_int_eq(json_array_size(list), 1);
	json_decref(list);
}

/* "Set action" with an expiry: a date or "never" replaces the source's expiry
 * and sticks when the source reports the object again; -1 keeps it. */
TEST(test_set_action_with_expiry)
{
	int64_t now = time_now_ms(), later = now + 86400000;
	va("DDAN", "URL", "http://a.lab/x", now + 1000, now, 0);
	va("DDAN", "URL", "http://b.lab/y", now + 1000, now, 0);
	ctd_err err = {0};
	json_t *a = json_pack("[I]", (json_int_t)va_id("http://a.lab/x"));
	json_t *b = json_pack("[I]", (json_int_t)va_id("http://b.lab/y"));
	ck_assert_int_eq(tmcm_va_set_action(st, a, "block", 0, &err), 1);
	ck_assert_int_eq(tmcm_va_set_action(st, b, "block", later, &err), 1);
	va("DDAN", "URL", "http://a.lab/x", now + 2000, now + 1, 0);
	va("DDAN", "URL", "http://b.lab/y", now + 2000, now + 1, 0);

	tmcm_va_filter f = {.type = "URL", .include_inactive = 1};
	json_t *list = tmcm_va_list(st, &f, &err);
	ck_assert_ptr_nonnull(list);
	json_t *items = json_object_get(list, "items");
	ck_assert_int_eq(json_array_size(items), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *o = json_array_get(items, i);
		const char *value = json_string_value(json_object_get(o, "value"));
		ck_assert_str_eq(json_string_value(json_object_get(o, "action")), "block");
		ck_assert_ptr_nonnull(json_string_value(json_object_get(o, "last_synced")));
		if (strcmp(value, "http://a.lab/x") == 0)
			ck_assert(json_is_null(json_object_get(o, "expires")));
		else
			ck_assert_ptr_nonnull(json_string_value(json_object_get(o, "expires")));
	}
	json_decref(list);
	/* -1 keeps the expiry the admin set */
	ck_assert_int_eq(tmcm_va_set_action(st, a, "log", -1, &err), 1);
	list = tmcm_va_list(st, &(tmcm_va_filter){.q = "a.lab"}, &err);
	json_t *o = json_array_get(json_object_get(list, "items"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "action")), "log");
	ck_assert(json_is_null(json_object_get(o, "expires")));
	json_decref(list);
	json_decref(a);
	json_decref(b);
}

/* Import csv (at most max objects); asserts how many lines were stored. */
static json_t *import_csv(const char *csv, long long max, long want_imported)
{
	ctd_err err = {0};
	json_t *r = tmcm_udso_csv_import(st, csv, strlen(csv), max, &err);
	ck_assert_msg(r != NULL, "%s", err.msg);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "imported")), want_imported);
	return r;
}

/* Export writes what Import reads back: quoting, header, expiry, notes. */
TEST(test_udso_csv_round_trip)
{
	ctd_err err = {0};
	const char *csv = "Type,Object,Action,Expiration (UTC),Notes\r\n"
			  "domain,Evil.LAB,Block,,\"from \"\"phish\"\", line 1\nline 2\"\r\n"
			  "\n"
			  "url , http://x.lab/a ,log,2099-01-02T03:04:05,\r\n"
			  "file_sha1,a94a8fe5ccb19ba61c4c0873d391e987982fbbd3,quarantine\n";
	json_t *r = import_csv(csv, 10, 3);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "failed")), 0);
	json_decref(r);
	ck_assert_str_eq(feed("DOMAIN", "evil.lab").action, "block");

	char *out = tmcm_udso_csv_export(st, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "Type,Object,Action,Expiration (UTC),Notes\r\n"
			      "domain,evil.lab,block,,\"from \"\"phish\"\", line 1\nline 2\"\r\n"
			      "url,http://x.lab/a,log,2099-01-02T03:04:05,\r\n"
			      "file_sha1," SHA ",quarantine,,\r\n");
	/* importing the export again changes nothing */
	json_decref(import_csv(out, 10, 3));
	char *again = tmcm_udso_csv_export(st, &err);
	ck_assert_str_eq(again, out);
	free(again);
	free(out);
}

/* Bad lines are reported by line number and the good ones kept; the
 * maximum stops the import. */
TEST(test_udso_csv_bad_lines)
{
	const char *csv = "ip,10.0.0.1,block\n"
			  "ip,not-an-ip,block\n"
			  "url,http://q.lab/,quarantine\n"
			  "domain,ok.lab,log,yesterday\n"
			  "justone\n"
			  "domain,two.lab\n"
			  "domain,three.lab\n";
	json_t *r = import_csv(csv, 2, 2);
	json_t *errors = json_object_get(r, "errors");
	ck_assert_int_eq(json_array_size(errors), 5);
	const long lines[] = {2, 3, 4, 5, 7};
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(errors, i),
								    "line")), lines[i]);
	json_decref(r);

	const char *broken = "domain,a.lab\n\"domain,b.lab\n";
	r = import_csv(broken, 0, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "failed")), 1);
	json_decref(r);
}

/* Product Directory: the sources TMCM pulls and the products that pull from
 * it, each with a status, last contact and change number. */
TEST(test_product_directory)
{
	ctd_err err = {0};
	char *sources = xasprintf(
		"INSERT INTO tmcm_sources (name, url, cursor, last_sync_ms) VALUES"
		" ('DDAN', 'https://ddan.lab', 7, %lld), ('DDI', 'https://ddi.lab', 0, 0),"
		" ('DDI-2', 'https://ddi2.lab', 3, 1)", (long long)time_now_ms());
	ck_assert_int_eq(store_exec(st, sources, &err), 0);
	free(sources);
	ck_assert_int_eq(store_exec(st, "UPDATE tmcm_sources SET last_error = 'refused'"
				    " WHERE name = 'DDI-2'", &err), 0);
	tmcm_product_info p = {.client_uuid = "u-1", .product_name = "IMSVA",
			       .hostname = "imsva.lab", .subscription = "imsva"};
	ck_assert_int_eq(tmcm_product_synced(st, &p, 42, 5, &err), 0);
	json_t *d = tmcm_directory(st, 60000, &err);
	ck_assert_msg(d != NULL, "%s", err.msg);
	json_t *items = json_object_get(d, "items");
	ck_assert_int_eq(json_array_size(items), 4);
	const char *want[][4] = {{"DDAN", "source", "online", "Deep Discovery Analyzer"},
				 {"DDI", "source", "connecting", "Deep Discovery Inspector"},
				 {"DDI-2", "source", "abnormal", "Deep Discovery Inspector"},
				 {"IMSVA", "subscriber", "online",
				  "InterScan Messaging Security Virtual Appliance"}};
	const long change[] = {7, 0, 3, 42};
	for (size_t i = 0; i < 4; i++) {
		json_t *o = json_array_get(items, i);
		ck_assert_str_eq(json_string_value(json_object_get(o, "name")), want[i][0]);
		ck_assert_str_eq(json_string_value(json_object_get(o, "role")), want[i][1]);
		ck_assert_str_eq(json_string_value(json_object_get(o, "status")), want[i][2]);
		ck_assert_str_eq(json_string_value(json_object_get(o, "product")), want[i][3]);
		ck_assert_int_eq(json_integer_value(json_object_get(o, "change_id")), change[i]);
	}
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 3), "address")),
			 "imsva.lab");
	ck_assert_ptr_nonnull(json_string_value(json_object_get(json_array_get(items, 3),
								"last_feed_pull")));
	json_decref(d);
}

/* Regenerate: the new key is stored, in force for JWTs and the console, and
 * the old one is refused; a key pinned by the configuration is not touched. */
TEST(test_api_key_regenerate)
{
	tmcm_config cfg = {.api_key = ""};
	tmcm_app app = {.cfg = &cfg, .app_id = "APP", .api_key = xstrdup("OLD-KEY")};
	session_table *logins = session_table_new(&(session_conf){.api_keys = {"OLD-KEY", "PW"}});
	ctd_err err = {0};
	char *key = tmcm_api_key_regenerate(&app, logins, &err);
	ck_assert_msg(key != NULL, "%s", err.msg);
	ck_assert_str_ne(key, "OLD-KEY");
	char *now = tmcm_api_key(&app), *stored = store_setting_get(st, "tmcm", "api_key", NULL);
	ck_assert_str_eq(now, key);
	ck_assert_str_eq(stored, key);
	ck_assert(session_key_ok(logins, key));
	ck_assert(!session_key_ok(logins, "OLD-KEY"));
	ck_assert(session_key_ok(logins, "PW"));

	cfg.api_key = "PINNED";
	ck_assert_ptr_null(tmcm_api_key_regenerate(&app, logins, &err));
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	ck_assert(session_key_ok(logins, key));
	free(now);
	free(stored);
	free(key);
	free(app.api_key);
	session_table_free(logins);
}

TL_SUITE(.setup = setup, .teardown = teardown);
