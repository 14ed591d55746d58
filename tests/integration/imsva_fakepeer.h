/* imsva_fakepeer.h - a small in-test stand-in for IMSVA's peers, served with
 * the chassis HTTP server: the DTAS calls imsvad makes to a DDAN (register,
 * test_connection, upload_sample, get_brief_report) and to a TMCM
 * (get_black_lists, a paged SO feed), and SPS's web reputation query
 * (GET /wrs/v1/query?url=). Tests set the answers through `peer`; counters
 * show what imsvad asked. Real-daemon tests (ddand, tmcmd, spsd) live in the
 * lab drill; these keep imsvad's own tests independent and fast. */
#ifndef IMSVA_FAKEPEER_H
#define IMSVA_FAKEPEER_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "dtas.h"
#include "http_server.h"
#include "sofeed.h"
#include "util.h"

#define PEER_MAX_SO 8192
#define PEER_PAGE 1000

static pthread_mutex_t peer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	/* DDAN */
	int brief_status, brief_risk; /* answered for every SHA-1 */
	int uploads, brief_queries, registers, tests;
	/* TMCM feed: records with ids 1..nso */
	so_record so[PEER_MAX_SO];
	int nso;
	int feed_pulls;
	/* SPS */
	char wrs_rating[32], wrs_so_action[16];
	int wrs_score, wrs_queries;
	char last_url[512];
} peer;

static inline void peer_reset(void)
{
	pthread_mutex_lock(&peer_lock);
	for (int i = 0; i < peer.nso; i++)
		free(peer.so[i].value);
	memset(&peer, 0, sizeof peer);
	peer.brief_status = 4;
	peer.brief_risk = 3;
	snprintf(peer.wrs_rating, sizeof peer.wrs_rating, "Safe");
	peer.wrs_score = 71;
	pthread_mutex_unlock(&peer_lock);
}

/* Add (or change: a new change id) an SO in the TMCM feed. */
static inline void peer_so(const char *type, const char *value, const char *action)
{
	pthread_mutex_lock(&peer_lock);
	so_record *r = &peer.so[peer.nso];
	memset(r, 0, sizeof *r);
	r->id = peer.nso + 1;
	snprintf(r->type, sizeof r->type, "%s", type);
	r->value = xstrdup(value);
	snprintf(r->risk, sizeof r->risk, "High");
	snprintf(r->action, sizeof r->action, "%s", action);
	r->source = "DDAN";
	peer.nso++;
	pthread_mutex_unlock(&peer_lock);
}

static void peer_dtas(http_req *req, http_resp *resp)
{
	const char *svc = http_req_param(req, "svc");
	pthread_mutex_lock(&peer_lock);
	if (!strcmp(svc, "register")) {
		peer.registers++;
		http_resp_text(resp, 200, "text/plain", "");
	} else if (!strcmp(svc, "test_connection")) {
		peer.tests++;
		http_resp_text(resp, 200, "text/plain", "");
	} else if (!strcmp(svc, "upload_sample")) {
		peer.uploads++;
		http_resp_text(resp, 200, "text/plain", "");
	} else if (!strcmp(svc, "get_brief_report")) {
		peer.brief_queries++;
		sbuf x = {0};
		sbuf_puts(&x, "<?xml version=\"1.0\"?><REPORTS>");
		char *ids = xstrdup(req->body), *save = NULL;
		for (char *s = strtok_r(ids, ";", &save); s; s = strtok_r(NULL, ";", &save))
			sbuf_printf(&x, "<BRIEF_REPORT><SHA1>%s</SHA1><STATUS>%d</STATUS>"
					"<RiskLevel>%d</RiskLevel></BRIEF_REPORT>",
				    s, peer.brief_status, peer.brief_risk);
		free(ids);
		sbuf_puts(&x, "</REPORTS>");
		http_resp_text(resp, 200, "text/xml", x.data);
		sbuf_free(&x);
	} else if (!strcmp(svc, "get_black_lists")) {
		peer.feed_pulls++;
		const char *c = http_req_header(req, "X-DTAS-LastQueryID");
		long long cursor = c ? atoll(c) : 0;
		sbuf x = {0};
		sofeed_xml_begin(&x);
		int n = 0;
		long long last = cursor;
		for (int i = (int)cursor; i < peer.nso && n < PEER_PAGE; i++, n++) {
			sofeed_xml_add(&x, &peer.so[i]);
			last = peer.so[i].id;
		}
		sofeed_xml_end(&x, last, last < peer.nso);
		http_resp_text(resp, 200, "text/xml", x.data);
		sbuf_free(&x);
	} else {
		http_resp_error(resp, 404, "not_found", "no service %s", svc);
	}
	pthread_mutex_unlock(&peer_lock);
}

static void peer_wrs(http_req *req, http_resp *resp)
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
	{"*", "/web_service/sample_upload/{svc}", peer_dtas, HTTP_PUBLIC},
	{"GET", "/wrs/v1/query", peer_wrs, HTTP_PUBLIC},
};

/* Start the fake peer on port (0: ephemeral); its base URL goes to url. */
static inline http_server *peer_start_on(int port, char *url, size_t len)
{
	peer_reset();
	http_server_opts o = {.routes = peer_routes, .nroutes = 2, .threads = 2, .port = port};
	ctd_err err = {0};
	http_server *srv = http_server_start(&o, &err);
	if (srv)
		snprintf(url, len, "http://127.0.0.1:%d", http_server_port(srv));
	return srv;
}

static inline http_server *peer_start(char *url, size_t len)
{
	return peer_start_on(0, url, len);
}

static inline void peer_stop(http_server *srv)
{
	http_server_stop(srv);
	peer_reset();
}

static inline int peer_get(int *field)
{
	pthread_mutex_lock(&peer_lock);
	int v = *field;
	pthread_mutex_unlock(&peer_lock);
	return v;
}

#endif
