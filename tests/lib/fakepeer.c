/* fakepeer.c - the fake DDAN / SO feed / WRS peer of the integration tests
 * (see fakepeer.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dtas.h"
#include "fakepeer.h"
#include "util.h"

#define PEER_PAGE 1000

fake_peer peer;
pthread_mutex_t peer_lock = PTHREAD_MUTEX_INITIALIZER;

static void clear(void)
{
	for (int i = 0; i < peer.nso; i++)
		free(peer.so[i].value);
	memset(&peer, 0, sizeof peer);
	peer.brief_status = 4;
	peer.brief_risk = 3;
	snprintf(peer.wrs_rating, sizeof peer.wrs_rating, "Safe");
	peer.wrs_score = 71;
}

void peer_reset(void)
{
	pthread_mutex_lock(&peer_lock);
	clear();
	pthread_mutex_unlock(&peer_lock);
}

void peer_add_so(const so_record *r)
{
	pthread_mutex_lock(&peer_lock);
	so_record *to = &peer.so[peer.nso];
	*to = *r;
	to->id = ++peer.nso;
	to->value = xstrdup(r->value);
	pthread_mutex_unlock(&peer_lock);
}

void peer_so(const char *type, const char *value, const char *action)
{
	so_record r = {.value = (char *)value, .source = "DDAN"};
	snprintf(r.type, sizeof r.type, "%s", type);
	snprintf(r.risk, sizeof r.risk, "High");
	snprintf(r.action, sizeof r.action, "%s", action);
	peer_add_so(&r);
}

/* Clients differ on whether the body is signed: accept either. Called with
 * peer_lock held. */
static int signed_ok(const http_req *req)
{
	if (!peer.key[0])
		return 1;
	const char *keys[] = {peer.key};
	dtas_verify v = {.keys = keys, .nkeys = 1, .lenient_body = 1};
	ctd_err err = {0};
	return dtas_verify_request(req, &v, &err) == 0;
}

static int is_known(const char *sha1)
{
	for (int i = 0; i < peer.nknown; i++)
		if (!strcasecmp(peer.known[i], sha1))
			return 1;
	return 0;
}

static void know(const char *sha1)
{
	if (sha1 && *sha1 && !is_known(sha1) && peer.nknown < PEER_MAX_KNOWN)
		snprintf(peer.known[peer.nknown++], sizeof peer.known[0], "%.40s", sha1);
}

static void brief_report(http_req *req, http_resp *resp)
{
	sbuf x = {0};
	sbuf_puts(&x, "<?xml version=\"1.0\"?><REPORTS>");
	char *ids = xstrdup(req->body ? req->body : ""), *save = NULL;
	for (char *s = strtok_r(ids, ";", &save); s; s = strtok_r(NULL, ";", &save)) {
		int known = is_known(s);
		sbuf_printf(&x, "<BRIEF_REPORT><SHA1>%s</SHA1><STATUS>%d</STATUS>"
				"<RiskLevel>%d</RiskLevel></BRIEF_REPORT>",
			    s, known ? 4 : peer.brief_status, known ? 3 : peer.brief_risk);
	}
	free(ids);
	sbuf_puts(&x, "</REPORTS>");
	http_resp_text(resp, 200, "text/xml", x.data);
	sbuf_free(&x);
}

static void black_lists(http_req *req, http_resp *resp)
{
	const char *c = http_req_header(req, "X-DTAS-LastQueryID");
	long long cursor = c ? atoll(c) : 0, last = cursor;
	int page = peer.page ? peer.page : PEER_PAGE, sent = 0;
	peer.last_cursor = cursor;
	sbuf x = {0};
	sofeed_xml_begin(&x);
	for (int i = (int)cursor; i < peer.nso && sent < page; i++, sent++) {
		sofeed_xml_add(&x, &peer.so[i]);
		last = peer.so[i].id;
	}
	sofeed_xml_end(&x, last, last < peer.nso);
	http_resp_text(resp, 200, "text/xml", x.data);
	sbuf_free(&x);
}

static void dtas_service(http_req *req, http_resp *resp)
{
	const char *svc = http_req_param(req, "svc");
	pthread_mutex_lock(&peer_lock);
	if (peer.down) {
		http_resp_error(resp, 503, "busy", "fake peer is down");
	} else if (!signed_ok(req)) {
		peer.bad_checksums++;
		http_resp_error(resp, 401, "unauthorized", "bad checksum");
	} else if (!strcmp(svc, "register")) {
		peer.registers++;
		http_resp_text(resp, 200, "text/plain", "");
	} else if (!strcmp(svc, "test_connection")) {
		peer.tests++;
		http_resp_text(resp, 200, "text/plain", "");
	} else if (!strcmp(svc, "check_duplicate_sample")) {
		peer.duplicate_checks++;
		snprintf(peer.last_checked, sizeof peer.last_checked, "%.40s", req->body ? req->body : "");
		http_resp_text(resp, 200, "text/plain",
			       is_known(peer.last_checked) ? peer.last_checked : "");
	} else if (!strcmp(svc, "upload_sample")) {
		peer.uploads++;
		const char *sha1 = http_req_header(req, "X-DTAS-SHA1");
		know(sha1 ? sha1 : peer.last_checked);
		http_resp_text(resp, 200, "text/plain", "");
	} else if (!strcmp(svc, "get_brief_report")) {
		peer.brief_queries++;
		brief_report(req, resp);
	} else if (!strcmp(svc, "get_black_lists")) {
		peer.feed_pulls++;
		black_lists(req, resp);
	} else {
		http_resp_error(resp, 404, "not_found", "no service %s", svc);
	}
	pthread_mutex_unlock(&peer_lock);
}

static void wrs_query(http_req *req, http_resp *resp)
{
	const char *url = http_req_query(req, "url");
	pthread_mutex_lock(&peer_lock);
	peer.wrs_queries++;
	snprintf(peer.last_url, sizeof peer.last_url, "%s", url ? url : "");
	json_t *j = json_pack("{s:s,s:i,s:s,s:s}", "url", url ? url : "", "score", peer.wrs_score,
			      "rating", peer.wrs_rating, "category", "Lab");
	json_object_set_new(j, "so", peer.wrs_so_action[0]
				     ? json_pack("{s:s,s:s}", "type", "url", "action", peer.wrs_so_action)
				     : json_null());
	pthread_mutex_unlock(&peer_lock);
	http_resp_json(resp, 200, j);
}

static const http_route peer_routes[] = {
	{"*", DTAS_PREFIX "{svc}", dtas_service, HTTP_PUBLIC},
	{"GET", "/wrs/v1/query", wrs_query, HTTP_PUBLIC},
};

static http_server *serve_on(int port, char *url, size_t len)
{
	http_server_opts o = {.routes = peer_routes, .nroutes = 2, .threads = 2, .port = port};
	ctd_err err = {0};
	http_server *srv = http_server_start(&o, &err);
	if (srv)
		snprintf(url, len, "http://127.0.0.1:%d", http_server_port(srv));
	else
		fprintf(stderr, "fake peer: %s\n", err.msg);
	return srv;
}

http_server *peer_start_on(int port, char *url, size_t len)
{
	peer_reset();
	return serve_on(port, url, len);
}

http_server *peer_start(char *url, size_t len)
{
	return peer_start_on(0, url, len);
}

http_server *peer_serve(char *url, size_t len)
{
	return serve_on(0, url, len);
}

void peer_stop(http_server *srv)
{
	http_server_stop(srv);
	peer_reset();
}

int peer_get(const int *field)
{
	pthread_mutex_lock(&peer_lock);
	int v = *field;
	pthread_mutex_unlock(&peer_lock);
	return v;
}
