/* tmcm_feed.c - TMCM as a suspicious-object source for managed products
 * (SPEC §5.3 "Distribution", reference §6.5): the DTAS-style web service a
 * product pointed at "Control Manager service URL + API key" uses, the same
 * protocol a DDAN speaks (common/sofeed.h):
 *   register / unregister      the product subscribes (ProductName, ClientUUID)
 *   test_connection            heartbeat
 *   get_black_lists            the merged list with actions, X-DTAS-LastQueryID
 * Each subscription (IMSVA, SPS) has its own API key, bound to its product:
 * a request naming IMSVA (SPS) must verify with that subscription's key; a
 * product of no subscription (a lab tool) may use either. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dtas.h"
#include "log.h"
#include "util.h"
#include "tmcm.h"

/* The subscription a product name belongs to, or -1 for a product of no
 * subscription (a lab tool), which any subscription key serves. */
static int subscription_of(const char *product)
{
	if (product && strcasestr(product, "IMSVA"))
		return 0;
	if (product && (strcasestr(product, "SPS") || strcasestr(product, "Smart Protection")))
		return 1;
	return -1;
}

static void refuse(http_req *req, http_resp *resp, int status, const char *code,
		   const char *reason, const char *msg)
{
	char ip[64];
	const char *product = http_req_header(req, "X-DTAS-ProductName");
	http_req_client_ip(req, ip, sizeof(ip));
	log_warn("feed.auth_failed", "client=%s product=%s reason=%s", ip, product ? product : "-",
		 reason);
	http_resp_error(resp, status, code, "%s", msg);
}

/* The route authenticator: leaves the subscription whose key signs this
 * request in req->auth_info, else answers 401; a key is bound to its
 * product, so a product that names itself IMSVA (SPS) signing with another
 * subscription's key gets 403. */
static int verify(http_req *req, http_resp *resp)
{
	const tmcm_app *app = req->app;
	const char *keys[TMCM_NFEED_KEYS];
	for (int i = 0; i < TMCM_NFEED_KEYS; i++)
		keys[i] = app->feed_keys[i].key;
	dtas_verify v = {.keys = keys, .nkeys = TMCM_NFEED_KEYS};
	ctd_err err;
	if (dtas_verify_request(req, &v, &err) < 0) {
		char *msg = xasprintf("%s (TMCM verifies with the subscription API keys)", err.msg);
		refuse(req, resp, 401, "checksum", v.reason, msg);
		free(msg);
		return -1;
	}
	if (v.key_index < 0) /* the headers-time check; the key is known once the body is in */
		return 0;
	const tmcm_feed_key *sub = &app->feed_keys[v.key_index];
	int bound = subscription_of(http_req_header(req, "X-DTAS-ProductName"));
	if (bound >= 0 && bound != v.key_index) {
		char *msg = xasprintf("the %s subscription key cannot pull the feed of %s: use the %s "
				      "subscription key", sub->subscription,
				      app->feed_keys[bound].subscription,
				      app->feed_keys[bound].subscription);
		refuse(req, resp, 403, "forbidden", "key_of_other_product", msg);
		free(msg);
		return -1;
	}
	req->auth_info = sub;
	return 0;
}

static const http_auth feed_auth = {"dtas", verify, 1};

/* Product identity from the request; ip must hold 64 bytes. */
static tmcm_product_info product_of(http_req *req, const tmcm_feed_key *sub, char *ip)
{
	http_req_client_ip(req, ip, 64);
	const char *name = http_req_header(req, "X-DTAS-ProductName");
	return (tmcm_product_info){
		.client_uuid = http_req_header(req, "X-DTAS-ClientUUID"),
		.product_name = name ? name : "",
		.hostname = http_req_header(req, "X-DTAS-ClientHostname"),
		.source_id = http_req_header(req, "X-DTAS-SourceID"),
		.source_name = http_req_header(req, "X-DTAS-SourceName"),
		.ip = ip,
		.subscription = sub->subscription,
	};
}

static void h_register(http_req *req, http_resp *resp)
{
	const tmcm_feed_key *sub = req->auth_info;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	char ip[64];
	tmcm_product_info p = product_of(req, sub, ip);
	ctd_err err = {0};
	if (tmcm_product_register(st, &p, &err) < 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	log_info("product.registered", "product=%s uuid=%s host=%s subscription=%s",
		 p.product_name, p.client_uuid, p.hostname ? p.hostname : "", sub->subscription);
	tmcm_timeline(st, "product.registered", p.client_uuid,
		      json_pack("{s:s, s:s, s:s, s:s}", "product", p.product_name, "hostname",
				p.hostname ? p.hostname : "", "ip", ip, "subscription",
				sub->subscription));
	http_resp_text(resp, 200, "text/plain", "");
}

static void h_unregister(http_req *req, http_resp *resp)
{
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	const char *uuid = http_req_header(req, "X-DTAS-ClientUUID");
	ctd_err err = {0};
	if (!uuid || tmcm_product_unregister(st, uuid, &err) < 0) {
		if (!uuid)
			ctd_fail(&err, CTD_EINVAL, "X-DTAS-ClientUUID is required");
		http_resp_ctd_err(resp, &err);
		return;
	}
	tmcm_timeline(st, "product.unregistered", uuid, NULL);
	http_resp_text(resp, 200, "text/plain", "");
}

/* The bookkeeping writes of a feed request (heartbeat, last sync, due
 * expiries) wait at most this long for the store: under a writer they are
 * skipped (the next request or the sync worker does them), so feed requests
 * never pin the HTTP threads, nor /healthz behind them. */
#define FEED_BOOKKEEPING_BUDGET_MS 200

typedef int (*bookkeeping_fn)(store *st, const tmcm_product_info *p, int64_t last_id,
			      long count, ctd_err *err);

static int heartbeat_of(store *st, const tmcm_product_info *p, int64_t last_id, long count,
			ctd_err *err)
{
	return tmcm_product_heartbeat(st, p, err);
}

/* Run a bookkeeping write on the short budget; a busy store only logs. */
static void bookkeep(store *st, bookkeeping_fn fn, const tmcm_product_info *p,
		     int64_t last_id, long count)
{
	ctd_err err = {0};
	int64_t budget = store_set_thread_budget(FEED_BOOKKEEPING_BUDGET_MS);
	if (fn(st, p, last_id, count, &err) < 0)
		log_warn("product.bookkeeping_skipped", "uuid=%s error=\"%s\"",
			 p && p->client_uuid ? p->client_uuid : "-", err.msg);
	store_set_thread_budget(budget);
}

static int expire_due(store *st, const tmcm_product_info *p, int64_t last_id, long count,
		      ctd_err *err)
{
	return tmcm_expire_due(st, err);
}

static void h_test_connection(http_req *req, http_resp *resp)
{
	const tmcm_feed_key *sub = req->auth_info;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	char ip[64];
	tmcm_product_info p = product_of(req, sub, ip);
	/* a connection test before registration is still a valid test */
	if (p.client_uuid)
		bookkeep(st, heartbeat_of, &p, 0, 0);
	http_resp_text(resp, 200, "text/plain", "");
}

static int parse_cursor(const char *s, int64_t *out)
{
	if (!s || !*s) {
		*out = 0;
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

static void h_get_black_lists(http_req *req, http_resp *resp)
{
	const tmcm_app *app = req->app;
	const tmcm_feed_key *sub = req->auth_info;
	store *st = daemon_req_store(resp);
	if (!st)
		return;
	int64_t cursor, last_id;
	if (parse_cursor(http_req_header(req, "X-DTAS-LastQueryID"), &cursor) < 0) {
		http_resp_error(resp, 400, "invalid", "X-DTAS-LastQueryID must be a decimal >= 0");
		return;
	}
	ctd_err err = {0};
	long count = 0;
	bookkeep(st, expire_due, NULL, 0, 0);
	/* the page is written straight into the response: pages are megabytes */
	if (tmcm_feed_page(st, cursor, (long)app->cfg->feed_page_size, &resp->body, &count,
			   &last_id, &err) < 0) {
		http_resp_ctd_err(resp, &err);
		return;
	}
	char ip[64];
	tmcm_product_info p = product_of(req, sub, ip);
	if (p.client_uuid)
		bookkeep(st, tmcm_product_synced, &p, last_id, count);
	if (count > 0)
		log_info("feed.served", "product=%s cursor=%lld count=%ld last_id=%lld",
			 p.product_name, (long long)cursor, count, (long long)last_id);
	resp->status = 200;
	resp->content_type = "text/xml; charset=utf-8";
}

const http_route tmcm_feed_routes[] = {
	{"GET", DTAS_PREFIX "register", h_register, &feed_auth},
	{"GET", DTAS_PREFIX "unregister", h_unregister, &feed_auth},
	{"GET", DTAS_PREFIX "test_connection", h_test_connection, &feed_auth},
	{"GET", DTAS_PREFIX "get_black_lists", h_get_black_lists, &feed_auth},
};
const size_t tmcm_feed_nroutes = sizeof(tmcm_feed_routes) / sizeof(tmcm_feed_routes[0]);
