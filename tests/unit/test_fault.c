/* test_fault.c - the fault rule table (common/fault.c): validation, matching
 * by point, glob, method and client, count and expiry, a seeded probability
 * that gives the same draws on every run; then the hooks: the HTTP server
 * answering a rule's status, a malformed body, a reset and a delay-only rule
 * (then the handler), delayed requests that hold no server thread, and
 * http_fetch failing a peer call as told without
 * touching the network. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "fault.h"
#include "http_client.h"
#include "http_server.h"
#include "metrics.h"
#include "testlib.h"
#include "util.h"

static void setup(void)
{
	fault_init(NULL, 1);
	fault_clear();
}

TL_SUITE(.setup = setup);

static int64_t add(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	ck_assert_msg(j != NULL, "bad test JSON %s", json);
	ctd_err err = {0};
	int64_t id = fault_add(j, NULL, &err);
	json_decref(j);
	return id;
}

static size_t nrules(void)
{
	json_t *list = fault_list();
	size_t n = json_array_size(list);
	json_decref(list);
	return n;
}

static int fires(fault_point point, const char *method, const char *target, const char *client)
{
	fault_hit hit;
	return fault_check(&(fault_request){.point = point, .method = method, .target = target,
					    .clients = {client}},
			   &hit);
}

TEST(test_rules_validated)
{
	ck_assert_int_lt(add("{\"status\":503}"), 0);                        /* no match */
	ck_assert_int_lt(add("{\"match\":\"*\"}"), 0);                       /* nothing to do */
	ck_assert_int_lt(add("{\"match\":\"*\",\"status\":42}"), 0);         /* not HTTP */
	ck_assert_int_lt(add("{\"match\":\"*\",\"point\":\"ftp\",\"status\":500}"), 0);
	ck_assert_int_lt(add("{\"match\":\"*\",\"status\":500,\"probability\":1.5}"), 0);
	ck_assert_int_lt(add("{\"match\":\"*\",\"status\":500,\"ttl\":\"soon\"}"), 0);
	ck_assert_int_lt(add("{\"match\":\"RCPT\",\"point\":\"smtp\",\"status\":100}"), 0);
	ck_assert_int_eq(nrules(), 0);
	ck_assert(!fault_armed());
	ck_assert_int_gt(add("{\"match\":\"*\",\"action\":\"reset\"}"), 0);
	ck_assert(fault_armed());
	ck_assert_int_gt(add("{\"match\":\"RCPT\",\"point\":\"smtp\",\"status\":451}"), 0);
	json_t *list = fault_list();
	ck_assert_int_eq(json_array_size(list), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "point")), "smtp");
	json_decref(list);
	ck_assert_int_eq(fault_clear(), 2);
}

TEST(test_matching_scope)
{
	add("{\"match\":\"*/get_report\",\"method\":\"GET\",\"status\":503}");
	add("{\"match\":\"RCPT\",\"point\":\"smtp\",\"status\":451,\"client\":\"10.0.0.*\"}");
	ck_assert(fires(FAULT_HTTP, "GET", "/web_service/sample_upload/get_report", "127.0.0.1"));
	ck_assert(!fires(FAULT_HTTP, "PUT", "/web_service/sample_upload/get_report", "127.0.0.1"));
	ck_assert(!fires(FAULT_HTTP, "GET", "/web_service/sample_upload/register", "127.0.0.1"));
	ck_assert(!fires(FAULT_PEER, "GET", "/web_service/sample_upload/get_report", NULL));
	ck_assert(fires(FAULT_SMTP, NULL, "rcpt", "10.0.0.7")); /* verbs match in any case */
	ck_assert(!fires(FAULT_SMTP, NULL, "RCPT", "127.0.0.1"));
	ck_assert(!fires(FAULT_SMTP, NULL, "MAIL", "10.0.0.7"));
}

TEST(test_count_then_gone)
{
	add("{\"match\":\"/x\",\"status\":503,\"count\":2}");
	ck_assert(fires(FAULT_HTTP, "GET", "/x", NULL));
	ck_assert(fires(FAULT_HTTP, "GET", "/x", NULL));
	ck_assert(!fires(FAULT_HTTP, "GET", "/x", NULL));
	ck_assert_int_eq(nrules(), 0);
	ck_assert(!fault_armed()); /* the last one gone: hooks skip their work again */
}

TEST(test_removed_by_id)
{
	int64_t id = add("{\"match\":\"/x\",\"status\":503}");
	ck_assert_int_eq(fault_remove(id + 1), -1);
	ck_assert_int_eq(fault_remove(id), 0);
	ck_assert(!fires(FAULT_HTTP, "GET", "/x", NULL));
}

TEST(test_ttl_sets_expiry)
{
	add("{\"match\":\"/x\",\"status\":503,\"ttl\":\"1h\"}");
	json_t *list = fault_list();
	ck_assert_ptr_nonnull(json_object_get(json_array_get(list, 0), "expires"));
	json_decref(list);
	ck_assert(fires(FAULT_HTTP, "GET", "/x", NULL));
}

/* The same seed draws the same sequence; a probability of 0.5 over 200
 * requests fires some but not all (a fixed outcome for this seed). */
static int draws(char *pattern, int n)
{
	fault_clear();
	add("{\"match\":\"/p\",\"status\":500,\"probability\":0.5,\"seed\":42}");
	int fired = 0;
	for (int i = 0; i < n; i++) {
		pattern[i] = fires(FAULT_HTTP, "GET", "/p", NULL) ? '1' : '0';
		fired += pattern[i] == '1';
	}
	pattern[n] = '\0';
	return fired;
}

TEST(test_seeded_probability_is_deterministic)
{
	char a[201], b[201];
	int fa = draws(a, 200), fb = draws(b, 200);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(fa, fb);
	ck_assert_int_gt(fa, 60);
	ck_assert_int_lt(fa, 140);
}

TEST(test_exempt_paths)
{
	ck_assert(fault_http_exempt("/api/lab/faults"));
	ck_assert(fault_http_exempt("/api/lab/faults/3"));
	ck_assert(fault_http_exempt("/healthz"));
	ck_assert(fault_http_exempt("/api/login"));
	ck_assert(fault_http_exempt("/metrics"));
	ck_assert(!fault_http_exempt("/api/lab/faultsX"));
	ck_assert(!fault_http_exempt("/api/status"));
}

TEST(test_malformed_body_does_not_parse)
{
	fault_hit hit = {.rule = 1, .action = FAULT_MALFORMED, .status = 500};
	snprintf(hit.message, sizeof hit.message, "boom");
	char *good = fault_error_body(&hit), *bad = fault_malformed_body(&hit);
	json_t *j = json_loads(good, 0, NULL);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	ck_assert_ptr_null(json_loads(bad, 0, NULL));
	ck_assert(strncmp(good, bad, strlen(bad)) == 0);
	free(good);
	free(bad);
}

/* ---- the HTTP server's and the client's hooks --------------------------- */

static void h_ok(http_req *req, http_resp *resp)
{
	http_resp_text(resp, 200, "text/plain", "handled");
}

static const http_route routes[] = {{"GET", "/api/{name}", h_ok, HTTP_PUBLIC}};

static http_server *serve(char *url, size_t cap)
{
	http_server_opts o = {.port = 0, .routes = routes, .nroutes = 1};
	ctd_err err = {0};
	http_server *srv = http_server_start(&o, &err);
	ck_assert_msg(srv != NULL, "%s", err.msg);
	snprintf(url, cap, "http://127.0.0.1:%d", http_server_port(srv));
	return srv;
}

static long get(const char *url, const char *path, http_response *r, ctd_err *err)
{
	char *full = xasprintf("%s%s", url, path);
	int rc = http_fetch(NULL, &(http_request){.url = full}, r, err);
	free(full);
	return rc == 0 ? r->status : -1;
}

TEST(test_http_server_applies_rules)
{
	char url[64];
	http_server *srv = serve(url, sizeof url);
	http_response r = {0};
	ctd_err err = {0};
	add("{\"match\":\"/api/{name}\",\"status\":503,\"count\":1,\"message\":\"try later\"}");
	add("{\"match\":\"/api/bad\",\"action\":\"malformed\",\"status\":500,\"count\":1}");
	add("{\"match\":\"/api/reset\",\"action\":\"reset\",\"count\":1}");
	add("{\"match\":\"/api/slow\",\"delay_ms\":50,\"count\":1}");

	/* the route pattern matches too */
	ck_assert_int_eq(get(url, "/api/a", &r, &err), 503);
	json_t *j = json_loadb(r.body.data, r.body.len, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
			 "try later");
	json_decref(j);
	http_response_free(&r);
	ck_assert_int_eq(get(url, "/api/a", &r, &err), 200);
	http_response_free(&r);

	ck_assert_int_eq(get(url, "/api/bad", &r, &err), 500);
	ck_assert_ptr_null(json_loadb(r.body.data, r.body.len, 0, NULL));
	http_response_free(&r);

	ck_assert_int_eq(get(url, "/api/reset", &r, &err), -1);
	ck_assert_int_eq(err.code, CTD_EIO);
	ck_assert_int_eq(get(url, "/api/reset", &r, &err), 200);
	http_response_free(&r);

	ck_assert_int_eq(get(url, "/api/slow", &r, &err), 200); /* delayed, then handled */
	ck_assert_str_eq(r.body.data, "handled");
	http_response_free(&r);
	http_server_stop(srv);
}

typedef struct slow_call {
	const char *url;
	atomic_int done;
} slow_call;

static void *call_slow(void *arg)
{
	slow_call *c = arg;
	http_response r = {0};
	ctd_err err = {0};
	get(c->url, "/api/slow", &r, &err);
	http_response_free(&r);
	atomic_store(&c->done, 1);
	return NULL;
}

/* More delayed calls than the server has threads (2): the delays wait
 * outside them, so another client is answered meanwhile; stopping the
 * server ends the delayed calls instead of waiting them out. */
TEST(test_delays_hold_no_server_thread)
{
	char url[64];
	http_server *srv = serve(url, sizeof url);
	add("{\"match\":\"/api/slow\",\"delay_ms\":60000,\"count\":3}");
	slow_call calls[3] = {{url, 0}, {url, 0}, {url, 0}};
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, call_slow, &calls[i]);
	while (nrules() > 0) /* all three fired: the rule is used up */
		sleep_ms(5);

	http_response r = {0};
	ctd_err err = {0};
	ck_assert_int_eq(get(url, "/api/other", &r, &err), 200);
	ck_assert_str_eq(r.body.data, "handled");
	http_response_free(&r);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(!atomic_load(&calls[i].done), "delayed call %d ended early", i);

	http_server_stop(srv);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

TEST(test_peer_calls_fail_as_told)
{
	/* nothing listens on port 1: only the rule can answer */
	http_response r = {0};
	ctd_err err = {0};
	add("{\"point\":\"peer\",\"match\":\"*/get_black_lists*\",\"status\":503,\"count\":1}");
	add("{\"point\":\"peer\",\"match\":\"*/register*\",\"action\":\"reset\",\"count\":1}");
	ck_assert_int_eq(get("http://127.0.0.1:1", "/web_service/get_black_lists?x=1", &r, &err),
			 503);
	ck_assert_ptr_nonnull(strstr(r.body.data, "fault_injected"));
	http_response_free(&r);
	ck_assert_int_eq(get("http://127.0.0.1:1", "/web_service/register", &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "reset"));
	sbuf m = {0};
	metrics_render(&m);
	ck_assert_ptr_nonnull(strstr(m.data, "ctdlab_faults_injected_total{point=\"peer\""));
	sbuf_free(&m);
}
