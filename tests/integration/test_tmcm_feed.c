/* test_tmcm_feed.c - TMCM between its SO sources and its subscribers, over
 * real HTTP: the tests' fake DDAN feed (tests/lib/fakepeer.c, checking every
 * X-DTAS-Checksum tmcmd sends) feeds a spawned tmcmd; "Sync now" fills the Virtual Analyzer Objects list; a product pulls
 * TMCM's merged feed with its own key (page size 1, so every pull pages) and
 * sees each console change as a new change ID: Block, a user-defined object
 * overriding the VA action and its removal, an exception, expiry; the next
 * sync from DDAN is incremental. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dtas.h"
#include "fakepeer.h"
#include "sofeed.h"
#include "testlib.h"
#include "util.h"

#define DDAN_KEY "0A1B2C3D-0000-1111-2222-333344445555"
#define SHA_F "3395856CE81F2B7382DEE72602F798B642F14140"
#define URL_U "http://malware.lab/payload.exe"

/* ---- the fake DDAN (tests/lib/fakepeer.c) ------------------------------------ */

static void fake_add(const char *type, const char *value, const char *risk)
{
	int64_t now = time_now_ms();
	so_record r = {.value = (char *)value, .source = "DDAN", .first_seen_ms = now,
		       .last_seen_ms = now, .expires_ms = now + 30LL * 86400000};
	snprintf(r.type, sizeof r.type, "%s", type);
	snprintf(r.risk, sizeof r.risk, "%s", risk);
	snprintf(r.related_sha1, sizeof r.related_sha1, "%s", SHA_F);
	peer_add_so(&r);
}

/* The fake DDAN, accepting only requests signed with DDAN_KEY. */
static http_server *fake_start(char *url, size_t len)
{
	http_server *srv = peer_start(url, len);
	ck_assert_msg(srv != NULL, "the fake DDAN did not start");
	pthread_mutex_lock(&peer_lock);
	snprintf(peer.key, sizeof peer.key, "%s", DDAN_KEY);
	pthread_mutex_unlock(&peer_lock);
	return srv;
}

/* ---- tmcmd and its console --------------------------------------------------- */

static char *home;
static pid_t pid;
static json_t *ready;
static const char *tmcm_url, *console_pw;

static json_t *console(const char *method, const char *path, const char *body, long want)
{
	char *hdr = xasprintf("X-Api-Key: %s", console_pw);
	json_t *j = tl_api(tmcm_url, method, path,
			   (const char *const[]){hdr, "Content-Type: application/json", NULL}, body,
			   want);
	free(hdr);
	return j;
}

/* Sync now, then wait (bounded) until the VA list holds n objects. */
static json_t *sync_until(long n)
{
	json_decref(console("POST", "/api/sync", NULL, 202));
	for (int i = 0; i < 500; i++) {
		json_t *l = console("GET", "/api/va-objects?all=1", NULL, 200);
		if (json_integer_value(json_object_get(l, "total")) == n)
			return l;
		json_decref(l);
		usleep(20000);
	}
	ck_abort_msg("the VA list never reached %ld objects", n);
	return NULL;
}

/* ---- a subscribed product ------------------------------------------------------- */

typedef struct pulled {
	int n;
	struct {
		int64_t id;
		char type[8], value[256], action[12], source[16];
		int removed;
	} r[16];
} pulled;

static int keep(const so_record *r, void *cls)
{
	pulled *p = cls;
	ck_assert_int_lt(p->n, 16);
	p->r[p->n].id = r->id;
	snprintf(p->r[p->n].type, sizeof p->r[p->n].type, "%s", r->type);
	snprintf(p->r[p->n].value, sizeof p->r[p->n].value, "%s", r->value);
	snprintf(p->r[p->n].action, sizeof p->r[p->n].action, "%s", r->action);
	snprintf(p->r[p->n].source, sizeof p->r[p->n].source, "%s", r->source);
	p->r[p->n].removed = r->removed;
	p->n++;
	return 0;
}

static dtas_client product(const char *name, const char *key_name)
{
	json_t *info = json_object_get(ready, "info");
	return (dtas_client){
		.base_url = (char *)tmcm_url,
		.api_key = (char *)json_string_value(json_object_get(info, key_name)),
		.client_uuid = "aaaaaaaa-bbbb-cccc-dddd-000000000001",
		.product_name = (char *)name,
		.hostname = "imsva.lab",
		.source_id = "103",
		.source_name = "IMSVA",
		.protocol_version = "1.5",
	};
}

static pulled pull(const dtas_client *c, int64_t *cursor)
{
	pulled p = {0};
	ctd_err err = {0};
	long n = sofeed_pull(c, cursor, keep, &p, &err);
	ck_assert_msg(n == p.n, "pull: %ld (%s)", n, err.msg);
	return p;
}

TEST(test_sync_distribute_and_change_ids)
{
	char ddan[64];
	http_server *srv = fake_start(ddan, sizeof ddan);
	fake_add("FILE", SHA_F, "High");
	fake_add("URL", URL_U, "Medium");

	home = tl_tmpdir("tmcm-feed");
	const char *args[] = {"--port", "0", "--ddan-url", ddan, "--ddan-api-key", DDAN_KEY,
			      "--sync-interval", "1h", "--feed-page-size", "1", NULL};
	pid = tl_spawn_daemon("tmcmd", home, args);
	ready = tl_wait_ready(home, "tmcm", TL_START_MS);
	ck_assert_ptr_nonnull(ready);
	tmcm_url = tl_listener(ready, "https");
	console_pw = json_string_value(json_object_get(json_object_get(ready, "info"),
						       "console_password"));

	/* STEP 2-2: the SOs arrived from DDAN, scan action Log */
	json_t *va = sync_until(2);
	size_t i;
	json_t *o2;
	json_int_t id_f = 0, id_u = 0;
	json_array_foreach(json_object_get(va, "items"), i, o2) {
		const char *v = json_string_value(json_object_get(o2, "value"));
		ck_assert_str_eq(json_string_value(json_object_get(o2, "source")), "DDAN");
		ck_assert_str_eq(json_string_value(json_object_get(o2, "action")), "log");
		if (strcmp(v, SHA_F) == 0) {
			id_f = json_integer_value(json_object_get(o2, "id"));
			ck_assert_str_eq(json_string_value(json_object_get(o2, "risk")), "High");
		} else {
			ck_assert_str_eq(v, URL_U);
			id_u = json_integer_value(json_object_get(o2, "id"));
		}
	}
	ck_assert(id_f > 0 && id_u > 0);
	json_decref(va);

	/* a product registers and takes the whole list */
	dtas_client imsva = product("IMSVA", "imsva_feed_key");
	ctd_err err = {0};
	ck_assert_msg(dtas_register(&imsva, &err) == 0, "register: %s", err.msg);
	int64_t cursor = 0;
	pulled p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 2);
	ck_assert_str_eq(p.r[0].action, "log");
	ck_assert_str_eq(p.r[1].action, "log");
	int64_t c1 = cursor;

	/* STEP 2-3: Block -> one change with a new ID */
	json_t *r = console("POST", "/api/va-objects/action",
			    "{\"values\": [\"" SHA_F "\"], \"action\": \"Block\"}", 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "updated")), 1);
	json_decref(r);
	p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.r[0].value, SHA_F);
	ck_assert_str_eq(p.r[0].action, "block");
	ck_assert_int_gt(p.r[0].id, c1);
	ck_assert_int_eq(p.r[0].removed, 0);

	/* Quarantine is for files only */
	char *body = xasprintf("{\"ids\": [%lld], \"action\": \"quarantine\"}", (long long)id_u);
	json_decref(console("POST", "/api/va-objects/action", body, 400));
	free(body);

	/* a user-defined object overrides the VA object, and its removal restores it */
	json_decref(console("POST", "/api/udso",
			    "{\"type\": \"url\", \"content\": \"" URL_U "\", \"scan_action\": \"block\"}",
			    200));
	p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.r[0].action, "block");
	ck_assert_str_eq(p.r[0].source, "UDSO");
	json_decref(console("DELETE", "/api/udso?type=url&content=" URL_U, NULL, 200));
	p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.r[0].action, "log");
	ck_assert_str_eq(p.r[0].source, "DDAN");

	/* an exception (wildcard) removes the URL; expiry removes the file */
	json_decref(console("POST", "/api/exceptions",
			    "{\"type\": \"url\", \"value\": \"http://malware.lab/*\"}", 201));
	p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.r[0].value, URL_U);
	ck_assert_int_eq(p.r[0].removed, 1);
	body = xasprintf("{\"ids\": [%lld]}", (long long)id_f);
	json_decref(console("POST", "/api/va-objects/expire", body, 200));
	free(body);
	p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.r[0].value, SHA_F);
	ck_assert_int_eq(p.r[0].removed, 1);

	/* a new subscriber starting from 0 gets nothing that was removed */
	int64_t fresh = 0;
	p = pull(&imsva, &fresh);
	ck_assert_int_eq(p.n, 0);

	/* DDAN has a new object: the next sync asks only for what follows ID 2 */
	fake_add("DOMAIN", "c2.lab.example", "High");
	va = sync_until(3);
	json_decref(va);
	pthread_mutex_lock(&peer_lock);
	ck_assert_int_eq(peer.last_cursor, 2);
	ck_assert_int_ge(peer.registers + peer.tests, 1);
	ck_assert_int_eq(peer.bad_checksums, 0);
	pthread_mutex_unlock(&peer_lock);
	p = pull(&imsva, &cursor);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.r[0].type, "DOMAIN");
	ck_assert_str_eq(p.r[0].action, "log");

	/* keys: SPS's key works for a product that names itself oddly, no key fails */
	dtas_client sps = product("SomeProduct", "sps_feed_key");
	sps.client_uuid = "aaaaaaaa-bbbb-cccc-dddd-000000000002";
	int64_t c = 0;
	ck_assert_int_eq(pull(&sps, &c).n, 1);
	/* issue 16: a key is bound to its product, both ways (403, the feed's error) */
	dtas_client imsva_with_sps_key = product("IMSVA", "sps_feed_key");
	c = 0;
	ck_assert_int_eq(sofeed_pull(&imsva_with_sps_key, &c, NULL, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "HTTP 403") && strstr(err.msg, "cannot pull the feed of imsva"),
		      "%s", err.msg);
	dtas_client sps_with_imsva_key = product("SPS", "imsva_feed_key");
	c = 0;
	ck_assert_int_eq(sofeed_pull(&sps_with_imsva_key, &c, NULL, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "HTTP 403") && strstr(err.msg, "cannot pull the feed of sps"),
		      "%s", err.msg);
	dtas_client sps_own = product("SPS", "sps_feed_key");
	sps_own.client_uuid = sps.client_uuid;
	c = 0;
	ck_assert_int_eq(pull(&sps_own, &c).n, 1);
	dtas_client bad = imsva;
	bad.api_key = "00000000-0000-0000-0000-000000000000";
	c = 0;
	ck_assert_int_eq(sofeed_pull(&bad, &c, NULL, NULL, &err), -1);
	ck_assert_int_eq(err.code, CTD_EAUTH);

	/* the distribution view: who synced, when, and is alive */
	json_t *prods = console("GET", "/api/products", NULL, 200);
	ck_assert_int_eq(json_array_size(prods), 2);
	json_t *im = json_array_get(prods, 0);
	ck_assert_str_eq(json_string_value(json_object_get(im, "product_name")), "IMSVA");
	ck_assert_str_eq(json_string_value(json_object_get(im, "subscription")), "imsva");
	ck_assert_str_eq(json_string_value(json_object_get(im, "status")), "online");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(prods, 1),
							   "subscription")), "sps");
	ck_assert(json_is_string(json_object_get(im, "last_sync")));
	json_decref(prods);
	json_t *src = console("GET", "/api/sources", NULL, 200);
	json_t *d = json_array_get(src, 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "name")), "DDAN");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "cursor")), 3);
	ck_assert(json_is_null(json_object_get(d, "last_error")));
	json_decref(src);

	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	peer_stop(srv);
	json_decref(ready);
	tl_rmrf(home);
	free(home);
}

/* Each configured DDI is a source of its own, with its own cursor. */
TEST(test_two_ddis)
{
	char url_a[64], url_b[64];
	http_server *a = fake_start(url_a, sizeof url_a), *b = peer_serve(url_b, sizeof url_b);
	ck_assert_ptr_nonnull(b);
	fake_add("IP", "192.0.2.66", "High");
	fake_add("DOMAIN", "cnc.lab.example", "Medium");
	char *urls = xasprintf("%s, %s", url_a, url_b);
	home = tl_tmpdir("tmcm-ddis");
	const char *args[] = {"--port", "0", "--ddi-url", urls, "--ddi-api-key", DDAN_KEY,
			      "--sync-interval", "1h", NULL};
	pid = tl_spawn_daemon("tmcmd", home, args);
	ready = tl_wait_ready(home, "tmcm", TL_START_MS);
	ck_assert_ptr_nonnull(ready);
	tmcm_url = tl_listener(ready, "https");
	console_pw = json_string_value(json_object_get(json_object_get(ready, "info"),
						       "console_password"));
	json_decref(sync_until(2));
	json_t *src = NULL;
	for (int i = 0; i < 500; i++) {
		src = console("GET", "/api/sources", NULL, 200);
		if (json_array_size(src) == 2 &&
		    json_integer_value(json_object_get(json_array_get(src, 0), "cursor")) == 2 &&
		    json_integer_value(json_object_get(json_array_get(src, 1), "cursor")) == 2)
			break;
		json_decref(src);
		src = NULL;
		json_decref(console("POST", "/api/sync", NULL, 202));
		usleep(20000);
	}
	ck_assert_msg(src != NULL, "both DDIs were never pulled to the end");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(src, 0), "name")), "DDI");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(src, 1), "name")), "DDI-2");
	json_decref(src);
	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	http_server_stop(b);
	peer_stop(a);
	json_decref(ready);
	tl_rmrf(home);
	free(home);
	free(urls);
}

/* A source that is down: the failure is recorded, the console keeps serving. */
TEST(test_source_down)
{
	char *ddan = xasprintf("http://127.0.0.1:%d", tl_free_port());
	home = tl_tmpdir("tmcm-down");
	const char *args[] = {"--port", "0", "--ddan-url", ddan, "--ddan-api-key", DDAN_KEY,
			      "--sync-interval", "1h", "--peer-timeout", "2s", NULL};
	pid = tl_spawn_daemon("tmcmd", home, args);
	ready = tl_wait_ready(home, "tmcm", TL_START_MS);
	ck_assert_ptr_nonnull(ready);
	tmcm_url = tl_listener(ready, "https");
	console_pw = json_string_value(json_object_get(json_object_get(ready, "info"),
						       "console_password"));
	json_decref(console("POST", "/api/sync", NULL, 202));
	json_t *d = NULL;
	for (int i = 0; i < 500; i++) {
		json_t *src = console("GET", "/api/sources", NULL, 200);
		d = json_incref(json_array_get(src, 0));
		json_decref(src);
		if (d && json_is_string(json_object_get(d, "last_error")))
			break;
		json_decref(d);
		d = NULL;
		usleep(20000);
	}
	ck_assert_msg(d != NULL, "the failed sync was never recorded");
	ck_assert(json_is_null(json_object_get(d, "last_sync")));
	ck_assert_int_eq(json_integer_value(json_object_get(d, "cursor")), 0);
	json_decref(d);
	json_t *status = console("GET", "/api/status", NULL, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(status, "va_objects")), 0);
	json_decref(status);
	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	json_decref(ready);
	tl_rmrf(home);
	free(home);
	free(ddan);
}

TL_SUITE(.timeout = 60);
