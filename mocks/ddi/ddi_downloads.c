/* ddi_downloads.c - the lab's download site for seed STEP 3-1 ("a PC that
 * DDI monitors downloads Sample SO2 with a browser"): a plain-HTTP listener
 * of ddid on the loopback that serves the seed samples (seed_samples.h) from
 * a page a trainee opens in a browser.
 *
 * When DDI captures live on the loopback the download is seen on the wire
 * like any other. When it cannot (capture off, no privileges, another
 * interface), the site does what a mirror port would: it writes the exchange
 * it just served as a capture file (<home>/captures/) and hands it to DDI's
 * capture-file reader, so the download still becomes a detection. Each
 * download is remembered with how DDI saw it; the page and DDI's console API
 * (GET /api/downloads) show that list. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pcap/pcap.h>
#include <microhttpd.h>

#include "seed_samples.h"
#include "hash.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "ddi_pcapgen.h"
#include "ddi_sensor.h"

#define SERVED_KEPT 50 /* downloads remembered for the page and the API */

struct ddi_downloads {
	http_server *srv;
	ddi_sensor *sensor;
	char *capture_dir;
	pthread_mutex_t mu;
	json_t *served; /* newest first, at most SERVED_KEPT */
	unsigned long seq;
};

/* The two ends of the request's TCP connection, as they were on the wire. */
typedef struct conn_ends {
	char client_ip[INET6_ADDRSTRLEN], server_ip[INET6_ADDRSTRLEN];
	uint16_t client_port, server_port;
} conn_ends;

static uint16_t sockaddr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
					       : ((const struct sockaddr_in *)ss)->sin_port);
}

static int connection_ends(const http_req *req, conn_ends *e)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage peer, self;
	socklen_t plen = sizeof peer, slen = sizeof self;
	if (!ci || getpeername(ci->connect_fd, (struct sockaddr *)&peer, &plen) != 0 ||
	    getsockname(ci->connect_fd, (struct sockaddr *)&self, &slen) != 0)
		return -1;
	net_addr_text((struct sockaddr *)&peer, e->client_ip, sizeof e->client_ip);
	net_addr_text((struct sockaddr *)&self, e->server_ip, sizeof e->server_ip);
	e->client_port = sockaddr_port(&peer);
	e->server_port = sockaddr_port(&self);
	return e->client_ip[0] && e->server_ip[0] ? 0 : -1;
}

static int is_loopback(const char *ip)
{
	return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1");
}

/* Why live capture cannot see this connection; NULL when it can. */
static char *why_not_live(ddi_sensor *sensor, const conn_ends *e)
{
	json_t *cap = ddi_sensor_status(sensor);
	const char *state = json_string_value(json_object_get(cap, "state"));
	const char *reason = json_string_value(json_object_get(cap, "reason"));
	const char *iface = json_string_value(json_object_get(cap, "interface"));
	char *why = NULL;
	if (strcmp(state, "running") != 0)
		why = xasprintf("capture %s%s%s", state, reason ? ": " : "", reason ? reason : "");
	else if (strcmp(iface, "any") != 0 && !(strcmp(iface, "lo") == 0 && is_loopback(e->server_ip)))
		why = xasprintf("DDI captures on %s, which does not carry this download", iface);
	json_decref(cap);
	return why;
}

/* The request as it came over the wire: request line and headers in order. */
static void add_header(const char *name, const char *value, void *cls)
{
	sbuf_printf(cls, "%s: %s\r\n", name, value);
}

static void wire_request(const http_req *req, sbuf *out)
{
	sbuf_printf(out, "%s %s HTTP/1.1\r\n", req->method, req->path);
	http_req_each_header(req, add_header, out);
	sbuf_puts(out, "\r\n");
}

static void wire_response(const seed_sample *s, const char *ctype, sbuf *out)
{
	sbuf_printf(out,
		    "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    ctype, s->file_name, s->len);
	sbuf_append(out, s->data, s->len);
}

/* The mirror port: the exchange as a capture file, read by DDI now. */
static int hand_off(ddi_downloads *dl, const http_req *req, const conn_ends *e,
		    const seed_sample *s, const char *ctype, json_t *rec)
{
	sbuf rq = {0}, rs = {0};
	wire_request(req, &rq);
	wire_response(s, ctype, &rs);
	pthread_mutex_lock(&dl->mu);
	unsigned long n = ++dl->seq;
	pthread_mutex_unlock(&dl->mu);
	char *path = xasprintf("%s/download-%lld-%lu.pcap", dl->capture_dir,
			       (long long)time_now_ms(), n);
	ddi_pcapgen *g = ddi_pcapgen_open(path, DLT_EN10MB);
	ddi_pcapgen_session ses = {e->client_ip, e->server_ip, e->client_port, e->server_port,
				   rq.data, rq.len, rs.data, rs.len};
	int rc = -1;
	json_t *summary = NULL;
	ctd_err err = {0};
	if (g) {
		ddi_pcapgen_set_clock(g, time_now_ms() * 1000);
		rc = ddi_pcapgen_add(g, &ses);
		ddi_pcapgen_close(g);
	}
	if (rc == 0)
		rc = ddi_sensor_read_file(dl->sensor, path, &summary, &err);
	else
		ctd_fail(&err, CTD_EIO, "cannot write the capture file %s", path);
	if (rc < 0)
		log_error("ddi.downloads.handoff", "file=\"%s\" error=\"%s\"", path, err.msg);
	json_object_set_new(rec, "capture_file", json_string(path));
	json_object_set_new(rec, "files_carved",
			    json_integer(json_integer_value(json_object_get(summary, "files_carved"))));
	if (rc < 0)
		json_object_set_new(rec, "error", json_string(err.msg));
	json_decref(summary);
	sbuf_free(&rq);
	sbuf_free(&rs);
	free(path);
	return rc;
}

static void remember(ddi_downloads *dl, json_t *rec)
{
	pthread_mutex_lock(&dl->mu);
	json_array_insert_new(dl->served, 0, rec);
	while (json_array_size(dl->served) > SERVED_KEPT)
		json_array_remove(dl->served, SERVED_KEPT);
	pthread_mutex_unlock(&dl->mu);
}

static const seed_sample *sample_named(const char *file_name)
{
	size_t n;
	const seed_sample *s = seed_samples_all(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].file_name, file_name) == 0)
			return &s[i];
	return NULL;
}

static const char *content_type(const seed_sample *s)
{
	const char *dot = strrchr(s->file_name, '.');
	return dot && !strcmp(dot, ".html") ? "text/html; charset=utf-8" : "application/octet-stream";
}

/* The record of one download: what, to whom, and how DDI saw it. */
static json_t *download_record(const seed_sample *s, const conn_ends *e, const char *why)
{
	char sha1[41], ts[32];
	hash_hex(HASH_SHA1, s->data, s->len, sha1);
	str_upper(sha1);
	time_iso8601(time_now_ms(), ts, sizeof ts);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s?}", "ts", ts, "file", s->file_name,
			 "title", s->title, "sha1", sha1, "bytes", (json_int_t)s->len, "client",
			 e->client_ip, "mode", why ? "capture hand-off" : "live capture", "reason",
			 why);
}

/* GET /downloads/{name} */
static void serve_sample(http_req *req, http_resp *resp)
{
	ddi_downloads *dl = req->app;
	const seed_sample *s = sample_named(http_req_param(req, "name"));
	conn_ends e;
	if (!s) {
		http_resp_error(resp, 404, "not_found", "no such download");
		return;
	}
	if (connection_ends(req, &e) != 0) {
		http_resp_error(resp, 500, "internal", "cannot read the connection's addresses");
		return;
	}
	char *why = why_not_live(dl->sensor, &e);
	json_t *rec = download_record(s, &e, why);
	if (why)
		hand_off(dl, req, &e, s, content_type(s), rec);
	log_info("ddi.downloads.served", "file=%s client=%s:%u mode=\"%s\"", s->file_name,
		 e.client_ip, e.client_port, json_string_value(json_object_get(rec, "mode")));
	remember(dl, rec);
	free(why);
	char *disp = xasprintf("attachment; filename=\"%s\"", s->file_name);
	http_resp_header(resp, "Content-Disposition", disp);
	free(disp);
	http_resp_bytes(resp, 200, content_type(s), s->data, s->len);
}

static void html_text(sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sbuf_puts(b, "&amp;"); break;
		case '<': sbuf_puts(b, "&lt;"); break;
		case '>': sbuf_puts(b, "&gt;"); break;
		case '"': sbuf_puts(b, "&quot;"); break;
		default: sbuf_append(b, s, 1);
		}
	}
}

static const char page_head[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	"<title>ctdlab download site (STEP 3-1)</title>\n<style>\n"
	"body{font-family:sans-serif;margin:0;background:#f4f4f4}\n"
	"header{background:#444;color:#fff;padding:10px 16px;font-size:18px}\n"
	"main{padding:16px}section{background:#fff;margin:0 0 16px;padding:12px;border:1px solid #ddd}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}\n"
	"td,th{border:1px solid #ddd;padding:4px 6px;text-align:left}th{background:#eee}\n"
	".note{padding:8px;border-left:4px solid #c8102e;background:#fff4f4}\n"
	"</style></head><body>\n<header>ctdlab download site &mdash; STEP 3-1 / "
	"ダウンロードサイト</header><main>\n";

static void page_mode(sbuf *b, const char *why)
{
	if (!why) {
		sbuf_puts(b, "<p id=\"mode\" class=\"live\">DDI captures live on this network: "
			     "a download from this page is seen on the wire.</p>\n");
		return;
	}
	sbuf_puts(b, "<p id=\"mode\" class=\"note handoff\">DDI cannot capture live here (");
	html_text(b, why);
	sbuf_puts(b, "). This site hands DDI a capture of each download it serves, as a mirror "
		     "port would: the download still reaches DDI's Detections.</p>\n");
}

static void page_samples(sbuf *b)
{
	size_t n;
	const seed_sample *s = seed_samples_all(&n);
	sbuf_puts(b, "<section><h3>Seed samples</h3><table><thead><tr><th>Sample</th><th>File</th>"
		     "<th>SHA-1</th><th>Bytes</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		char sha1[41];
		hash_hex(HASH_SHA1, s[i].data, s[i].len, sha1);
		str_upper(sha1);
		sbuf_printf(b, "<tr><td>%s</td><td><a id=\"%s\" href=\"/downloads/%s\" download>%s</a>"
			       "</td><td>%s</td><td>%zu</td></tr>\n",
			    s[i].title, s[i].id, s[i].file_name, s[i].file_name, sha1, s[i].len);
	}
	sbuf_puts(b, "</tbody></table></section>\n");
}

static void page_served(sbuf *b, json_t *served)
{
	static const char *const cols[] = {"ts", "title", "client", "mode", "capture_file"};
	size_t i;
	json_t *rec;
	sbuf_puts(b, "<section><h3>Downloads served</h3><table><thead><tr><th>Time (UTC)</th>"
		     "<th>Sample</th><th>Client</th><th>How DDI saw it</th><th>Capture file</th>"
		     "</tr></thead><tbody id=\"served\">\n");
	json_array_foreach(served, i, rec) {
		sbuf_puts(b, "<tr>");
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
			sbuf_puts(b, "<td>");
			html_text(b, json_string_value(json_object_get(rec, cols[c])));
			sbuf_puts(b, "</td>");
		}
		sbuf_puts(b, "</tr>\n");
	}
	sbuf_puts(b, "</tbody></table></section>\n");
}

/* GET / */
static void serve_page(http_req *req, http_resp *resp)
{
	ddi_downloads *dl = req->app;
	conn_ends e;
	char *why = connection_ends(req, &e) == 0 ? why_not_live(dl->sensor, &e) : NULL;
	json_t *served = ddi_downloads_served(dl);
	sbuf b = {0};
	sbuf_puts(&b, page_head);
	page_mode(&b, why);
	page_samples(&b);
	page_served(&b, served);
	sbuf_puts(&b, "</main></body></html>\n");
	http_resp_bytes(resp, 200, "text/html; charset=utf-8", b.data, b.len);
	sbuf_free(&b);
	json_decref(served);
	free(why);
}

static const http_route site_routes[] = {
	{"GET", "/", serve_page, HTTP_PUBLIC},
	{"GET", "/downloads/{name}", serve_sample, HTTP_PUBLIC},
};

ddi_downloads *ddi_downloads_start(const ddi_downloads_opts *o, ctd_err *err)
{
	ddi_downloads *dl = xcalloc(1, sizeof *dl);
	dl->sensor = o->sensor;
	dl->capture_dir = xstrdup(o->capture_dir);
	dl->served = json_array();
	pthread_mutex_init(&dl->mu, NULL);
	http_server_opts so = {.bind = o->bind, .port = o->port, .routes = site_routes,
			       .nroutes = sizeof site_routes / sizeof site_routes[0], .app = dl,
			       .threads = 2};
	if (mkdir_p(dl->capture_dir, 0755, err) != 0 || !(dl->srv = http_server_start(&so, err))) {
		ddi_downloads_stop(dl);
		return NULL;
	}
	return dl;
}

int ddi_downloads_port(const ddi_downloads *dl)
{
	return http_server_port(dl->srv);
}

json_t *ddi_downloads_served(ddi_downloads *dl)
{
	pthread_mutex_lock(&dl->mu);
	json_t *copy = json_deep_copy(dl->served);
	pthread_mutex_unlock(&dl->mu);
	return copy;
}

void ddi_downloads_stop(ddi_downloads *dl)
{
	if (!dl)
		return;
	http_server_stop(dl->srv);
	json_decref(dl->served);
	pthread_mutex_destroy(&dl->mu);
	free(dl->capture_dir);
	free(dl);
}
