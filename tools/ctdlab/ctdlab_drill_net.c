/* ctdlab_drill_net.c - STEP 3-1's "a PC monitored by DDI downloads Sample
 * SO2 with a browser": a loopback HTTP server (common/http_server) serves the
 * file, a libcurl client downloads it while recording the exact bytes on the
 * wire, and DDI sees the traffic by live capture on loopback. Where DDI does
 * not capture live (capture off or not permitted, as its status API says),
 * the same exchange is written as a capture file (libpcap's dump API) and
 * uploaded to DDI's capture-file API instead; the report says which. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include "ctdlab_drill.h"
#include "hash.h"
#include "http_server.h"
#include "util.h"

#define LIVE_GRACE_MS 10000 /* live capture must have seen the file by then */
#define MSS 1400

typedef struct served {
	const char *name;
	char *data;
	size_t len;
} served;

static void serve_file(http_req *req, http_resp *resp)
{
	served *f = req->app;
	if (strcmp(http_req_param(req, "name"), f->name) != 0) {
		http_resp_error(resp, 404, "not_found", "no such download");
		return;
	}
	char *disp = xasprintf("attachment; filename=\"%s\"", f->name);
	http_resp_header(resp, "Content-Disposition", disp);
	free(disp);
	http_resp_bytes(resp, 200, "application/octet-stream", f->data, f->len);
}

static const http_route download_routes[] = {{"GET", "/downloads/{name}", serve_file, HTTP_PUBLIC}};

/* What went over the wire, both ways, as libcurl saw it. */
typedef struct wire {
	sbuf out, in, body;
} wire;

static int record(CURL *c, curl_infotype type, char *data, size_t len, void *cls)
{
	wire *w = cls;
	if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)
		sbuf_append(&w->out, data, len);
	else if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN)
		sbuf_append(&w->in, data, len);
	return 0;
}

static size_t keep_body(char *data, size_t size, size_t n, void *cls)
{
	sbuf_append(&((wire *)cls)->body, data, size * n);
	return size * n;
}

/* A browser-like GET of url; ports of both ends into ports[2]. */
static int download(drill *d, const char *url, wire *w, long ports[2])
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_USERAGENT,
			 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ctdlab-drill");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, record);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, w);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_LOCAL_PORT, &ports[0]);
	curl_easy_getinfo(c, CURLINFO_PRIMARY_PORT, &ports[1]);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return drill_fail(d, "download of %s failed: %s", url,
				  errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (status != 200)
		return drill_fail(d, "download of %s: HTTP %ld", url, status);
	return 0;
}

/* ---- the capture file: one TCP conversation on 127.0.0.1, Ethernet framed ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_PSH = 0x08, TH_ACK = 0x10 };

typedef struct conv {
	pcap_dumper_t *dump;
	struct timeval ts;
	uint16_t port[2]; /* client, server */
	uint32_t seq[2];  /* next sequence number of each side */
	uint16_t ip_id;
} conv;

/* One segment from side `from` (0 client, 1 server). */
static void segment(conv *cv, int from, int flags, const void *data, size_t len)
{
	uint8_t pkt[14 + 20 + 20 + MSS] = {0};
	uint8_t *ip = pkt + 14, *tcp = ip + 20;
	put16(pkt + 12, 0x0800); /* Ethernet, zero MACs: loopback has none */
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + len));
	put16(ip + 4, cv->ip_id++);
	ip[6] = 0x40; /* don't fragment */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, INADDR_LOOPBACK);
	put32(ip + 16, INADDR_LOOPBACK);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(tcp, cv->port[from]);
	put16(tcp + 2, cv->port[!from]);
	put32(tcp + 4, cv->seq[from]);
	put32(tcp + 8, flags & TH_ACK ? cv->seq[!from] : 0);
	tcp[12] = 5 << 4;
	tcp[13] = (uint8_t)flags;
	put16(tcp + 14, 65535);
	if (len)
		memcpy(tcp + 20, data, len);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, (uint16_t)(20 + len));
	put16(tcp + 16, fold(sum16(tcp, 20 + len, sum16(pseudo, 12, 0))));
	struct pcap_pkthdr h = {.ts = cv->ts, .caplen = (bpf_u_int32)(54 + len),
				.len = (bpf_u_int32)(54 + len)};
	pcap_dump((u_char *)cv->dump, &h, pkt);
	cv->seq[from] += (uint32_t)len + (flags & (TH_SYN | TH_FIN) ? 1 : 0);
	cv->ts.tv_usec += 100;
}

static void stream(conv *cv, int from, const sbuf *b)
{
	for (size_t off = 0; off < b->len; off += MSS) {
		size_t n = b->len - off < MSS ? b->len - off : MSS;
		segment(cv, from, TH_PSH | TH_ACK, b->data + off, n);
		segment(cv, !from, TH_ACK, NULL, 0);
	}
}

static int write_capture(drill *d, const char *path, const wire *w, const long ports[2])
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	conv cv = {.dump = p ? pcap_dump_open(p, path) : NULL,
		   .port = {(uint16_t)ports[0], (uint16_t)ports[1]}, .seq = {0x1000, 0x8000}};
	if (!cv.dump) {
		if (p)
			pcap_close(p);
		return drill_fail(d, "cannot write %s", path);
	}
	gettimeofday(&cv.ts, NULL);
	segment(&cv, 0, TH_SYN, NULL, 0);
	segment(&cv, 1, TH_SYN | TH_ACK, NULL, 0);
	segment(&cv, 0, TH_ACK, NULL, 0);
	stream(&cv, 0, &w->out);
	stream(&cv, 1, &w->in);
	segment(&cv, 1, TH_FIN | TH_ACK, NULL, 0);
	segment(&cv, 0, TH_FIN | TH_ACK, NULL, 0);
	segment(&cv, 1, TH_ACK, NULL, 0);
	pcap_dump_close(cv.dump);
	pcap_close(p);
	return 0;
}

/* Upload the capture file to DDI (its capture-file API); the summary. */
static json_t *upload_capture(drill *d, const char *path)
{
	char *data;
	size_t len;
	long status;
	if (file_read(path, &data, &len, NULL) != 0) {
		drill_fail(d, "cannot read %s", path);
		return NULL;
	}
	json_t *j = drill_api_raw(d, AP_DDI, "POST", "/api/pcaps", data, len,
				  "application/vnd.tcpdump.pcap", &status);
	free(data);
	if (status != 200) {
		json_decref(j);
		return NULL;
	}
	return j ? j : json_object();
}

/* DDI's capture state ("running" when it captures live) and its reason. */
static json_t *ddi_capture(drill *d)
{
	long status;
	json_t *j = drill_api(d, AP_DDI, "GET", "/api/status", NULL, &status);
	json_t *cap = status == 200 ? json_incref(json_object_get(j, "capture")) : NULL;
	json_decref(j);
	return cap;
}

typedef struct seen {
	const char *sha1;
	int64_t deadline;
} seen;

/* 1 once DDI carved a file with this SHA-1 (any state). */
static int probe_carved(drill *d, void *cls)
{
	seen *s = cls;
	long status;
	json_t *j = drill_api(d, AP_DDI, "GET", "/api/files?limit=1000", NULL, &status);
	size_t i;
	json_t *f;
	int hit = 0;
	json_array_foreach(json_object_get(j, "files"), i, f) {
		const char *sha1 = json_string_value(json_object_get(f, "sha1"));
		hit |= sha1 && strcasecmp(sha1, s->sha1) == 0;
	}
	json_decref(j);
	if (status != 200)
		return -1;
	return hit ? 1 : time_mono_ms() > s->deadline ? -1 : 0;
}

/* Serve f on loopback and download it: the wire bytes, the ports, the URL. */
static int serve_and_fetch(drill *d, served *f, wire *w, long ports[2], char **url)
{
	ctd_err err = {0};
	http_server_opts so = {.bind = "127.0.0.1", .routes = download_routes, .nroutes = 1,
			       .app = f};
	http_server *srv = http_server_start(&so, &err);
	if (!srv)
		return drill_fail(d, "loopback web server: %s", err.msg);
	*url = xasprintf("http://127.0.0.1:%d/downloads/%s", http_server_port(srv), f->name);
	int rc = download(d, *url, w, ports);
	http_server_stop(srv);
	return rc;
}

/* 1 when url's host is this machine's loopback. */
static int loopback_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int local = 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		local = !strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) ||
			!strcmp(host, "[::1]");
	curl_free(host);
	curl_url_cleanup(u);
	return local;
}

/* Why the capture file is needed ("" when live capture saw the download):
 * DDI must capture, on loopback (or every interface), on this machine. */
static void need_fallback(drill *d, json_t *cap, const char *sha1, char *why, size_t n)
{
	const char *state = json_string_value(json_object_get(cap, "state"));
	const char *reason = json_string_value(json_object_get(cap, "reason"));
	const char *iface = json_string_value(json_object_get(cap, "interface"));
	seen s = {sha1, time_mono_ms() + LIVE_GRACE_MS};
	why[0] = '\0';
	if (!state || strcmp(state, "running") != 0)
		snprintf(why, n, "DDI does not capture live (state %s%s%s)", state ? state : "unknown",
			 reason ? ": " : "", reason ? reason : "");
	else if (!loopback_host(drill_url(d, AP_DDI)))
		snprintf(why, n, "DDI runs on another host (%s): it cannot see this loopback",
			 drill_url(d, AP_DDI));
	else if (iface && strcmp(iface, "lo") != 0 && strcmp(iface, "any") != 0)
		snprintf(why, n, "DDI captures on %s, not on loopback", iface);
	else if (drill_wait(d, "DDI's live capture", probe_carved, &s) != 0)
		snprintf(why, n, "live capture saw no file in %d s", LIVE_GRACE_MS / 1000);
}

/* Write the exchange as a capture file and upload it to DDI; into ev. */
static int capture_file(drill *d, const wire *w, const long ports[2], const char *why, json_t *ev)
{
	char *pcap = xasprintf("%s/sample_so2_download.pcap", d->work);
	json_t *summary = NULL;
	int rc = write_capture(d, pcap, w, ports);
	if (rc == 0 && !(summary = upload_capture(d, pcap)))
		rc = -1;
	json_object_set_new(ev, "mode", json_string("capture file"));
	json_object_set_new(ev, "fallback_reason", json_string(why));
	json_object_set_new(ev, "capture_file", json_string(pcap));
	json_object_set_new(ev, "ddi_read", summary ? summary : json_null());
	free(pcap);
	return rc;
}

int drill_download(drill *d, const char *path, json_t **evidence)
{
	served f = {.name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path};
	if (file_read(path, &f.data, &f.len, NULL) != 0)
		return drill_fail(d, "cannot read %s", path);
	char sha1[41], got[41] = "", why[300] = "";
	hash_hex(HASH_SHA1, f.data, f.len, sha1);
	str_upper(sha1);
	json_t *cap = ddi_capture(d);
	wire w = {0};
	long ports[2] = {0, 0};
	char *url = NULL;
	int rc = serve_and_fetch(d, &f, &w, ports, &url);
	if (rc == 0) {
		hash_hex(HASH_SHA1, w.body.data, w.body.len, got);
		str_upper(got);
		if (strcmp(got, sha1) != 0)
			rc = drill_fail(d, "downloaded %zu bytes with SHA-1 %s, served %s", w.body.len,
					got, sha1);
	}
	if (rc == 0)
		need_fallback(d, cap, sha1, why, sizeof why);
	json_t *ev = json_pack("{s:s, s:s, s:I, s:o}", "url", url ? url : "", "sha1", sha1, "bytes",
			       (json_int_t)w.body.len, "ddi_capture", cap ? cap : json_null());
	if (rc == 0 && why[0])
		rc = capture_file(d, &w, ports, why, ev);
	else
		json_object_set_new(ev, "mode", json_string("live capture"));
	*evidence = ev;
	sbuf_free(&w.out);
	sbuf_free(&w.in);
	sbuf_free(&w.body);
	free(url);
	free(f.data);
	return rc;
}
