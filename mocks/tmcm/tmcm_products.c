/* tmcm_products.c - managed products registered with this TMCM over the
 * DTAS-style API (IMSVA, SPS ...): registration, heartbeat (test_connection),
 * the last feed sync of each, their "online/abnormal" status, and their
 * listing for the console and the Automation API (ProductServers/Agents). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "util.h"
#include "tmcm.h"

/* Product columns are NOT NULL: an absent header is stored as "". */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	tmcm_bind_text(s, i, v ? v : "");
}

/* One upsert serves register, heartbeat and sync: ?8..?11 say which
 * timestamps and counters to move (-1: keep). */
static int product_upsert(store *st, const tmcm_product_info *p, int unregistered,
			  int64_t heartbeat_ms, int64_t sync_ms, int64_t sync_id, long sync_count,
			  ctd_err *err)
{
	if (!p->client_uuid || !p->client_uuid[0])
		return ctd_fail(err, CTD_EINVAL, "X-DTAS-ClientUUID is required");
	sqlite3_stmt *s = store_stmt(st,
		"INSERT INTO tmcm_products (client_uuid, product_name, hostname, source_id,"
		" source_name, ip, subscription, registered_ms, unregistered, last_heartbeat_ms,"
		" last_sync_ms, last_sync_id, last_sync_count)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?12, ?8, MAX(?9, 0), MAX(?10, 0), MAX(?11, 0),"
		" MAX(?13, 0))"
		" ON CONFLICT (client_uuid) DO UPDATE SET"
		" product_name = CASE WHEN ?2 = '' THEN product_name ELSE ?2 END,"
		" hostname = CASE WHEN ?3 = '' THEN hostname ELSE ?3 END,"
		" source_id = CASE WHEN ?4 = '' THEN source_id ELSE ?4 END,"
		" source_name = CASE WHEN ?5 = '' THEN source_name ELSE ?5 END,"
		" ip = CASE WHEN ?6 = '' THEN ip ELSE ?6 END, subscription = ?7,"
		" unregistered = ?8,"
		" last_heartbeat_ms = CASE WHEN ?9 < 0 THEN last_heartbeat_ms ELSE ?9 END,"
		" last_sync_ms = CASE WHEN ?10 < 0 THEN last_sync_ms ELSE ?10 END,"
		" last_sync_id = CASE WHEN ?11 < 0 THEN last_sync_id ELSE ?11 END,"
		" last_sync_count = CASE WHEN ?13 < 0 THEN last_sync_count ELSE ?13 END", err);
	if (!s)
		return -1;
	bind_text(s, 1, p->client_uuid);
	bind_text(s, 2, p->product_name);
	bind_text(s, 3, p->hostname);
	bind_text(s, 4, p->source_id);
	bind_text(s, 5, p->source_name);
	bind_text(s, 6, p->ip);
	bind_text(s, 7, p->subscription);
	sqlite3_bind_int(s, 8, unregistered);
	sqlite3_bind_int64(s, 9, heartbeat_ms);
	sqlite3_bind_int64(s, 10, sync_ms);
	sqlite3_bind_int64(s, 11, sync_id);
	sqlite3_bind_int64(s, 12, time_now_ms());
	sqlite3_bind_int64(s, 13, sync_count);
	return store_step_done(st, s, err);
}

int tmcm_product_register(store *st, const tmcm_product_info *p, ctd_err *err)
{
	return product_upsert(st, p, 0, time_now_ms(), -1, -1, -1, err);
}

int tmcm_product_unregister(store *st, const char *client_uuid, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE tmcm_products SET unregistered = 1 WHERE client_uuid = ?1", err);
	if (!s)
		return -1;
	bind_text(s, 1, client_uuid);
	return store_step_done(st, s, err);
}

int tmcm_product_heartbeat(store *st, const tmcm_product_info *p, ctd_err *err)
{
	return product_upsert(st, p, 0, time_now_ms(), -1, -1, -1, err);
}

int tmcm_product_synced(store *st, const tmcm_product_info *p, int64_t last_id, long count,
			ctd_err *err)
{
	int64_t now = time_now_ms();
	return product_upsert(st, p, 0, now, now, last_id, count, err);
}

int tmcm_product_set_isolation(store *st, const char *client_uuid, const char *status,
			       ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"UPDATE tmcm_products SET isolation_status = ?2 WHERE client_uuid = ?1", err);
	if (!s)
		return -1;
	bind_text(s, 1, client_uuid);
	bind_text(s, 2, status);
	return store_step_done(st, s, err);
}

void tmcm_product_slf(const char *name, char *out, size_t outlen)
{
	if (strcasestr(name, "smart protection") || strcasecmp(name, "sps") == 0)
		name = "SPS";
	size_t n = (size_t)snprintf(out, outlen, "SLF_PRODUCT_%s", name);
	for (size_t i = 12; i < n && i < outlen; i++)
		out[i] = isalnum((unsigned char)out[i]) ? (char)toupper((unsigned char)out[i]) : '_';
}

static json_t *console_item(sqlite3_stmt *s, const char *slf, int64_t heartbeat_timeout)
{
	int64_t seen = sqlite3_column_int64(s, 9);
	if (sqlite3_column_int64(s, 10) > seen)
		seen = sqlite3_column_int64(s, 10);
	json_t *o = json_object();
	json_object_set_new(o, "client_uuid", json_string(tmcm_col_text(s, 0)));
	json_object_set_new(o, "product_name", json_string(tmcm_col_text(s, 1)));
	json_object_set_new(o, "product", json_string(slf));
	json_object_set_new(o, "hostname", json_string(tmcm_col_text(s, 2)));
	json_object_set_new(o, "source_id", json_string(tmcm_col_text(s, 3)));
	json_object_set_new(o, "source_name", json_string(tmcm_col_text(s, 4)));
	json_object_set_new(o, "ip", json_string(tmcm_col_text(s, 5)));
	json_object_set_new(o, "subscription", json_string(tmcm_col_text(s, 6)));
	tmcm_json_time(o, "registered", sqlite3_column_int64(s, 8));
	tmcm_json_time(o, "last_heartbeat", sqlite3_column_int64(s, 9));
	tmcm_json_time(o, "last_sync", sqlite3_column_int64(s, 10));
	json_object_set_new(o, "last_sync_id", json_integer(sqlite3_column_int64(s, 11)));
	json_object_set_new(o, "last_sync_count", json_integer(sqlite3_column_int64(s, 12)));
	json_object_set_new(o, "status",
			    json_string(time_now_ms() - seen <= heartbeat_timeout ? "online"
										  : "abnormal"));
	return o;
}

static json_t *server_item(sqlite3_stmt *s, const char *slf)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "entity_id", tmcm_col_text(s, 0),
			 "product", slf, "ad_domain", "", "ip_address_list", tmcm_col_text(s, 5),
			 "host_name", tmcm_col_text(s, 2), "capabilities", "cmd_deploy_update_sources");
}

static json_t *agent_item(sqlite3_stmt *s, const char *slf)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s,s,s]}",
			 "entity_id", tmcm_col_text(s, 0), "product", slf, "managing_server_id", "",
			 "ad_domain", "", "folder_path", "", "ip_address_list", tmcm_col_text(s, 5),
			 "mac_address_list", "", "host_name", tmcm_col_text(s, 2), "isolation_status",
			 tmcm_col_text(s, 7), "capabilities", "cmd_restore_isolated_agent",
			 "cmd_isolate_agent", "cmd_relocate_agent", "cmd_uninstall_agent");
}

static int matches(const char *want, const char *have)
{
	return !want || !want[0] || strcasecmp(want, have) == 0;
}

json_t *tmcm_product_list(store *st, const tmcm_product_filter *f, int kind,
			  int64_t heartbeat_timeout_ms, ctd_err *err)
{
	sqlite3_stmt *s = store_stmt(st,
		"SELECT client_uuid, product_name, hostname, source_id, source_name, ip,"
		" subscription, isolation_status, registered_ms, last_heartbeat_ms, last_sync_ms,"
		" last_sync_id, last_sync_count FROM tmcm_products WHERE unregistered = 0"
		" ORDER BY registered_ms, client_uuid", err);
	if (!s)
		return NULL;
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char slf[96];
		tmcm_product_slf(tmcm_col_text(s, 1), slf, sizeof(slf));
		if (f && (!matches(f->entity_id, tmcm_col_text(s, 0)) ||
			  !matches(f->ip_address, tmcm_col_text(s, 5)) ||
			  !matches(f->host_name, tmcm_col_text(s, 2)) ||
			  !(matches(f->product, slf) || matches(f->product, tmcm_col_text(s, 1)))))
			continue;
		json_array_append_new(arr, kind == 1   ? server_item(s, slf)
					   : kind == 2 ? agent_item(s, slf)
						       : console_item(s, slf, heartbeat_timeout_ms));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		ctd_fail(err, CTD_ESTORE, "list products: %s", sqlite3_errmsg(store_db(st)));
		return NULL;
	}
	return arr;
}

/* ---- Directories > Product Directory: the sources TMCM pulls and the
 * products that pull from it, one row shape for both ------------------------ */

static const char *product_title(const char *name)
{
	static const struct {
		const char *prefix, *title;
	} titles[] = {
		{"DDAN", "Deep Discovery Analyzer"},     {"DDI", "Deep Discovery Inspector"},
		{"IMSVA", "InterScan Messaging Security Virtual Appliance"},
		{"SPS", "Smart Protection Server"},
	};
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strncasecmp(name, titles[i].prefix, strlen(titles[i].prefix)) == 0)
			return titles[i].title;
	return name;
}

static json_t *directory_row(const char *name, const char *role, const char *address,
			     const char *status, json_t *heartbeat, json_t *pull,
			     json_t *change_id, json_t *last_error)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:O}", "name", name, "product",
			 product_title(name), "role", role, "address", address, "status", status,
			 "last_heartbeat", heartbeat, "last_feed_pull", pull, "change_id", change_id,
			 "last_error", last_error);
}

/* A source is online while its pulls succeed, abnormal after a failure or
 * when no pull succeeded for heartbeat_timeout, connecting before the first. */
static const char *source_status(json_t *src, int64_t heartbeat_timeout)
{
	int64_t last = json_integer_value(json_object_get(src, "last_sync_ms"));
	if (!json_is_null(json_object_get(src, "last_error")))
		return "abnormal";
	if (!last)
		return "connecting";
	return time_now_ms() - last <= heartbeat_timeout ? "online" : "abnormal";
}

static void add_sources(json_t *rows, json_t *sources, int64_t heartbeat_timeout)
{
	size_t i;
	json_t *src;
	json_array_foreach(sources, i, src) {
		json_t *last = json_object_get(src, "last_sync");
		json_array_append_new(rows, directory_row(
			json_string_value(json_object_get(src, "name")), "source",
			json_string_value(json_object_get(src, "url")),
			source_status(src, heartbeat_timeout), last, last,
			json_object_get(src, "cursor"), json_object_get(src, "last_error")));
	}
}

static void add_products(json_t *rows, json_t *products)
{
	size_t i;
	json_t *p;
	json_array_foreach(products, i, p) {
		const char *host = json_string_value(json_object_get(p, "hostname"));
		json_array_append_new(rows, directory_row(
			json_string_value(json_object_get(p, "product_name")), "subscriber",
			host && *host ? host : json_string_value(json_object_get(p, "ip")),
			json_string_value(json_object_get(p, "status")),
			json_object_get(p, "last_heartbeat"), json_object_get(p, "last_sync"),
			json_object_get(p, "last_sync_id"), json_null()));
	}
}

json_t *tmcm_directory(store *st, int64_t heartbeat_timeout_ms, ctd_err *err)
{
	json_t *sources = tmcm_sources_list(st, err);
	json_t *products = sources ? tmcm_product_list(st, NULL, 0, heartbeat_timeout_ms, err)
				   : NULL;
	if (!products) {
		json_decref(sources);
		return NULL;
	}
	json_t *rows = json_array();
	add_sources(rows, sources, heartbeat_timeout_ms);
	add_products(rows, products);
	json_decref(sources);
	json_decref(products);
	return json_pack("{s:o}", "items", rows);
}
