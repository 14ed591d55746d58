/* sps_so.c - the suspicious objects SPS subscribes to, keyed for lookups that
 * cost the same with a million objects as with ten: a unique index on the
 * 64-bit key of (type, normalised value) (so_content_key), so a URL query is
 * a handful of index probes (the URL, the host and each parent domain, the
 * IP) in one statement, each checking type and value. A full sync loads an
 * index-free twin (SPS_SO_TWIN) that replaces the table at its end. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "so_content.h"
#include "sps.h"
#include "store.h"
#include "util.h"

/* The lookup key of a feed value, malloc'd; NULL for an unusable value. */
static char *so_key(const char *type, const char *value)
{
	if (strcmp(type, "URL") == 0) {
		sps_url u;
		if (sps_url_parse(value, &u, NULL) != 0)
			return NULL;
		char *key = xstrdup(u.norm);
		sps_url_free(&u);
		return key;
	}
	if (strcmp(type, "DOMAIN") == 0)
		return sps_domain_normalize(value);
	if (strcmp(type, "IP") == 0)
		return sps_ip_normalize(value);
	if (strcmp(type, "FILE") == 0) {
		char sha1[41];
		return sps_sha1_normalize(value, sha1) ? xstrdup(sha1) : NULL;
	}
	return NULL;
}

/* A record's enumerations in their canonical spelling: feeds may spell them
 * in any case (FILE, High, block). */
typedef struct so_fields {
	char type[8], risk[8], action[12];
} so_fields;

static void canon_fields(const so_record *r, so_fields *f)
{
	/* the record's arrays are of these sizes and terminated */
	memcpy(f->type, r->type, sizeof r->type);
	str_upper(f->type);
	memcpy(f->risk, *r->risk ? r->risk : "High", *r->risk ? sizeof r->risk : sizeof "High");
	str_lower(f->risk + 1);
	f->risk[0] = (char)toupper((unsigned char)f->risk[0]);
	memcpy(f->action, r->action, sizeof r->action);
	str_lower(f->action);
}

/* Bind ?1 type, ?2 key and ?3 their hash; both bound without a copy: keep
 * them until the statement has run. */
static void so_bind_key(sqlite3_stmt *s, const char *type, const char *key)
{
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, so_content_key(type, key));
}

/* Bind ?1..?10: type, key, hash (so_bind_key), raw value, risk, action,
 * source, feed ID, expiry, update time; f too is bound without a copy. */
static void so_bind(sqlite3_stmt *s, const so_record *r, const char *key, const so_fields *f,
		    int64_t now_ms)
{
	so_bind_key(s, f->type, key);
	sqlite3_bind_text(s, 4, r->value, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, f->risk, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, f->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->source ? r->source : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, r->id);
	sqlite3_bind_int64(s, 9, r->expires_ms);
	sqlite3_bind_int64(s, 10, now_ms);
}

/* The lookup key of a record (a normalised URL, domain, IP or SHA-1),
 * malloc'd, and its canonical fields in f; NULL, logged, when unusable. */
static char *record_key(const so_record *r, so_fields *f)
{
	canon_fields(r, f);
	char *key = so_key(f->type, r->value ? r->value : "");
	if (!key)
		log_warn("so.skipped", "type=%s value=\"%s\" reason=\"not a usable %s value\"",
			 f->type, r->value ? r->value : "", f->type);
	return key;
}

int sps_so_load(store *st, const so_record *r, size_t n, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
				     "INSERT INTO " SPS_SO_TWIN " (type, value, hkey, raw_value,"
				     " risk, action, source, feed_id, expires_ms, updated_ms)"
				     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", err);
	int rc = s ? 0 : -1;
	int64_t now_ms = time_now_ms(); /* one batch, one update time */
	for (size_t i = 0; i < n && rc == 0; i++) {
		so_fields f;
		char *key = record_key(&r[i], &f);
		if (!key)
			continue;
		so_bind(s, &r[i], key, &f, now_ms);
		rc = store_step_done(st, s, err);
		free(key);
	}
	return rc;
}

int sps_so_remove_older(store *st, const so_record *r, ctd_err *err)
{
	so_fields f;
	char *key = record_key(r, &f);
	if (!key)
		return 0;
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM sps_objects WHERE hkey = ?3 AND type = ?1"
				     " AND value = ?2 AND feed_id < ?4", err);
	if (s) {
		so_bind_key(s, f.type, key);
		sqlite3_bind_int64(s, 4, r->id);
	}
	int rc = s ? store_step_done(st, s, err) : -1;
	free(key);
	return rc;
}

int sps_so_apply(store *st, const so_record *r, ctd_err *err)
{
	so_fields f;
	char *key = record_key(r, &f);
	if (!key)
		return 0;
	sqlite3_stmt *s;
	if (r->removed) {
		s = store_stmt(st, "DELETE FROM sps_objects WHERE hkey = ?3 AND type = ?1"
			       " AND value = ?2", err);
		if (!s)
			goto fail;
		so_bind_key(s, f.type, key);
	} else {
		s = store_stmt(st,
			       "INSERT INTO sps_objects (type, value, hkey, raw_value, risk, action,"
			       " source, feed_id, expires_ms, updated_ms)"
			       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
			       " ON CONFLICT (hkey) DO UPDATE SET type = excluded.type,"
			       " value = excluded.value, raw_value = excluded.raw_value,"
			       " risk = excluded.risk, action = excluded.action,"
			       " source = excluded.source, feed_id = excluded.feed_id,"
			       " expires_ms = excluded.expires_ms, updated_ms = excluded.updated_ms",
			       err);
		if (!s)
			goto fail;
		so_bind(s, r, key, &f, time_now_ms());
	}
	int rc = store_step_done(st, s, err);
	free(key);
	return rc;
fail:
	free(key);
	return -1;
}

typedef struct so_probe_key {
	const char *type, *value;
} so_probe_key;

/* The hit from a row whose risk, action and source start at column col. */
static void so_hit_fill(sps_so_hit *hit, const so_probe_key *key, sqlite3_stmt *s, int col)
{
	hit->found = 1;
	snprintf(hit->type, sizeof hit->type, "%s", key->type);
	hit->value = key->value;
	snprintf(hit->risk, sizeof hit->risk, "%s", (const char *)sqlite3_column_text(s, col));
	snprintf(hit->action, sizeof hit->action, "%s",
		 (const char *)sqlite3_column_text(s, col + 1));
	snprintf(hit->source, sizeof hit->source, "%s",
		 (const char *)sqlite3_column_text(s, col + 2));
}

/* A URL's lookup keys, in precedence order, are probed up to SO_ARMS at a
 * time by one statement: an arm per (hash, type, key), in that order, and
 * LIMIT 1 stops at the first arm with a live object (its number is column 0).
 * One statement instead of one per key: its fixed cost (a read transaction,
 * the VM) was most of a lookup. A statement per arm count: each arm opens its
 * cursors, even one bound to nothing. */
#define SO_ARMS 8
#define SO_ARM(n, h, t, v)                                                                 \
	"SELECT " #n ", risk, action, source FROM sps_objects WHERE hkey = ?" #h           \
	" AND type = ?" #t " AND value = ?" #v " AND (expires_ms = 0 OR expires_ms > ?1)"
#define SO_ARMS_1 SO_ARM(0, 2, 3, 4)
#define SO_ARMS_2 SO_ARMS_1 " UNION ALL " SO_ARM(1, 5, 6, 7)
#define SO_ARMS_3 SO_ARMS_2 " UNION ALL " SO_ARM(2, 8, 9, 10)
#define SO_ARMS_4 SO_ARMS_3 " UNION ALL " SO_ARM(3, 11, 12, 13)
#define SO_ARMS_5 SO_ARMS_4 " UNION ALL " SO_ARM(4, 14, 15, 16)
#define SO_ARMS_6 SO_ARMS_5 " UNION ALL " SO_ARM(5, 17, 18, 19)
#define SO_ARMS_7 SO_ARMS_6 " UNION ALL " SO_ARM(6, 20, 21, 22)
#define SO_ARMS_8 SO_ARMS_7 " UNION ALL " SO_ARM(7, 23, 24, 25)
static const char *const so_probe_sql[SO_ARMS] = {
	SO_ARMS_1 " LIMIT 1", SO_ARMS_2 " LIMIT 1", SO_ARMS_3 " LIMIT 1", SO_ARMS_4 " LIMIT 1",
	SO_ARMS_5 " LIMIT 1", SO_ARMS_6 " LIMIT 1", SO_ARMS_7 " LIMIT 1", SO_ARMS_8 " LIMIT 1",
};

/* The URL, then the IP, or the host and each parent domain. Returns the
 * count: at most 2 + the host's length (a key per dot). */
static size_t url_keys(const sps_url *u, so_probe_key *keys)
{
	size_t n = 0;
	keys[n++] = (so_probe_key){"URL", u->norm};
	if (u->host_is_ip) {
		keys[n++] = (so_probe_key){"IP", u->host};
		return n;
	}
	for (const char *d = u->host; d; d = strchr(d, '.')) {
		if (*d == '.')
			d++;
		keys[n++] = (so_probe_key){"DOMAIN", d};
	}
	return n;
}

/* The first of keys[0..n) (1 <= n <= SO_ARMS) with a live object: 1 found, 0 not,
 * -1 error. */
static int so_probe(store *st, const so_probe_key *keys, size_t n, sps_so_hit *hit, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st, so_probe_sql[n - 1], err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, time_now_ms());
	for (size_t i = 0; i < n; i++) {
		const so_probe_key *k = &keys[i];
		sqlite3_bind_int64(s, (int)(2 + 3 * i), so_content_key(k->type, k->value));
		sqlite3_bind_text(s, (int)(3 + 3 * i), k->type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, (int)(4 + 3 * i), k->value, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		so_hit_fill(hit, &keys[sqlite3_column_int(s, 0)], s, 1);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ctd_fail(err, CTD_ESTORE, "SO lookup: %s", sqlite3_errmsg(store_db(st)));
	return rc == SQLITE_ROW;
}

int sps_so_match_url(const sps_url *u, sps_so_hit *hit, ctd_err *err)
{
	memset(hit, 0, sizeof *hit);
	store *st = store_get(err);
	if (!st)
		return -1;
	so_probe_key keys[2 + sizeof u->host];
	size_t n = url_keys(u, keys);
	for (size_t at = 0; at < n; at += SO_ARMS) {
		int rc = so_probe(st, keys + at, n - at < SO_ARMS ? n - at : SO_ARMS, hit, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	return 0;
}

int sps_so_match_file(const char *sha1_upper, sps_so_hit *hit, ctd_err *err)
{
	memset(hit, 0, sizeof *hit);
	store *st = store_get(err);
	if (!st)
		return -1;
	return so_probe(st, &(so_probe_key){"FILE", sha1_upper}, 1, hit, err) < 0 ? -1 : 0;
}

json_t *sps_so_counts(ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return NULL;
	sqlite3_stmt *s = store_stmt(st, "SELECT type, COUNT(*) FROM sps_objects GROUP BY type", err);
	if (!s)
		return NULL;
	json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)0, "URL",
				(json_int_t)0, "DOMAIN", (json_int_t)0, "IP", (json_int_t)0, "FILE",
				(json_int_t)0);
	json_int_t total = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_int_t n = sqlite3_column_int64(s, 1);
		json_object_set_new(out, (const char *)sqlite3_column_text(s, 0), json_integer(n));
		total += n;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		ctd_fail(err, CTD_ESTORE, "SO count: %s", sqlite3_errmsg(store_db(st)));
		return NULL;
	}
	json_object_set_new(out, "total", json_integer(total));
	return out;
}

json_t *sps_so_list(const char *type, int limit, ctd_err *err)
{
	store *st = store_get(err);
	if (!st)
		return NULL;
	sqlite3_stmt *s = store_stmt(st,
				     "SELECT type, value, raw_value, risk, action, source, feed_id,"
				     " expires_ms FROM sps_objects WHERE ?1 IS NULL OR type = ?1"
				     " ORDER BY feed_id LIMIT ?2",
				     err);
	if (!s)
		return NULL;
	if (type)
		sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : 1000);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "type",
				       sqlite3_column_text(s, 0), "value", sqlite3_column_text(s, 1),
				       "raw_value", sqlite3_column_text(s, 2), "risk",
				       sqlite3_column_text(s, 3), "action", sqlite3_column_text(s, 4),
				       "source", sqlite3_column_text(s, 5), "feed_id",
				       (json_int_t)sqlite3_column_int64(s, 6), "expires_ms",
				       (json_int_t)sqlite3_column_int64(s, 7)));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		ctd_fail(err, CTD_ESTORE, "SO list: %s", sqlite3_errmsg(store_db(st)));
		return NULL;
	}
	return arr;
}

int sps_so_clear(store *st, ctd_err *err)
{
	return store_exec(st, "DELETE FROM sps_objects", err);
}
