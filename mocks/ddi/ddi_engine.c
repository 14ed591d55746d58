/* ddi_engine.c - from captured frames to carved files: decode the link layer
 * (Ethernet with VLAN tags, Linux cooked v1/v2, BSD loopback, raw IP), IPv4
 * and IPv6, and TCP; feed TCP reassembly; give each flow to the HTTP or SMTP
 * parser that recognises its first bytes. Every length is checked against
 * what was captured: a bad frame is counted, never trusted. */
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <pcap/pcap.h>

#include "util.h"
#include "ddi.h"

typedef enum { PROTO_UNKNOWN, PROTO_HTTP, PROTO_SMTP, PROTO_OTHER } flow_proto;

typedef struct flow_app {
	ddi_engine *e;
	ddi_flow_info fi;
	ddi_parser_env env;
	flow_proto proto;
	ddi_http *http;
	ddi_smtp *smtp;
} flow_app;

struct ddi_engine {
	ddi_limits lim;
	ddi_budget budget;
	ddi_tcp *tcp;
	ddi_carve_fn carve;
	void *carve_cls;
	ddi_engine_stats st;
};

static void count_carve(const ddi_carved *f, void *cls)
{
	ddi_engine *e = cls;
	e->st.files_carved++;
	e->carve(f, e->carve_cls);
}

static void *app_open(const ddi_flow_info *fi, void *cls)
{
	ddi_engine *e = cls;
	flow_app *a = xcalloc(1, sizeof(*a));
	a->e = e;
	a->fi = *fi;
	a->env = (ddi_parser_env){&a->fi, &e->lim, &e->budget, count_carve, e};
	return a;
}

/* The first bytes of a flow tell which parser, if any, follows it. */
static void app_classify(flow_app *a, int dir, const unsigned char *d, size_t n)
{
	if ((dir == DDI_TO_SERVER && ddi_http_is_request(d, n)) ||
	    (dir == DDI_TO_CLIENT && n >= 7 && !memcmp(d, "HTTP/1.", 7))) {
		a->proto = PROTO_HTTP;
		a->http = ddi_http_new(&a->env);
		a->e->st.http_flows++;
	} else if ((dir == DDI_TO_CLIENT && ddi_smtp_is_greeting(d, n)) ||
		   (dir == DDI_TO_SERVER && ddi_smtp_is_command(d, n))) {
		a->proto = PROTO_SMTP;
		a->smtp = ddi_smtp_new(&a->env);
		a->e->st.smtp_flows++;
	} else {
		a->proto = PROTO_OTHER;
		a->e->st.other_flows++;
	}
}

static int app_data(void *st, int dir, const unsigned char *d, size_t n, int64_t ts)
{
	flow_app *a = st;
	if (a->proto == PROTO_UNKNOWN)
		app_classify(a, dir, d, n);
	switch (a->proto) {
	case PROTO_HTTP:
		return ddi_http_data(a->http, dir, d, n, ts);
	case PROTO_SMTP:
		return ddi_smtp_data(a->smtp, dir, d, n, ts);
	default:
		return -1;
	}
}

static void app_gap(void *st, int dir, uint32_t lost)
{
	flow_app *a = st;
	if (a->http)
		ddi_http_gap(a->http, dir, lost);
	if (a->smtp)
		ddi_smtp_gap(a->smtp, dir, lost);
}

static void app_close(void *st, int64_t ts)
{
	flow_app *a = st;
	if (a->http) {
		ddi_http_close(a->http, ts);
		ddi_http_free(a->http);
	}
	ddi_smtp_free(a->smtp);
	free(a);
}

static const ddi_stream_ops engine_ops = {app_open, app_data, app_gap, app_close};

ddi_engine *ddi_engine_new(const ddi_limits *lim, size_t total_max_bytes, ddi_carve_fn carve,
			   void *cls)
{
	ddi_engine *e = xcalloc(1, sizeof(*e));
	e->lim = *lim;
	e->budget.limit = total_max_bytes;
	e->carve = carve;
	e->carve_cls = cls;
	e->tcp = ddi_tcp_new(&e->lim, &e->budget, &engine_ops, e);
	return e;
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void tcp_packet(ddi_engine *e, int family, const unsigned char *src,
		       const unsigned char *dst, const unsigned char *p, size_t len, int64_t ts)
{
	if (len < 20 || (size_t)(p[12] >> 4) * 4 < 20 || (size_t)(p[12] >> 4) * 4 > len) {
		e->st.malformed++;
		return;
	}
	size_t hl = (size_t)(p[12] >> 4) * 4;
	ddi_tcp_seg s = {0};
	s.family = family;
	memcpy(s.src, src, family == AF_INET ? 4 : 16);
	memcpy(s.dst, dst, family == AF_INET ? 4 : 16);
	s.sport = rd16(p);
	s.dport = rd16(p + 2);
	s.seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	s.flags = p[13];
	s.payload = p + hl;
	s.len = len - hl;
	s.ts_ms = ts;
	ddi_tcp_segment(e->tcp, &s);
}

static void ipv4_packet(ddi_engine *e, const unsigned char *p, size_t len, int64_t ts)
{
	if (len < 20 || (p[0] >> 4) != 4) {
		e->st.malformed++;
		return;
	}
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t total = rd16(p + 2);
	if (ihl < 20 || total < ihl || total > len) {
		e->st.malformed++; /* includes frames cut short by the snap length */
		return;
	}
	if (rd16(p + 6) & 0x3fff) {
		e->st.fragments++; /* MF set or non-zero offset: not reassembled */
		return;
	}
	if (p[9] != IPPROTO_TCP) {
		e->st.non_tcp++;
		return;
	}
	tcp_packet(e, AF_INET, p + 12, p + 16, p + ihl, total - ihl, ts);
}

static void ipv6_packet(ddi_engine *e, const unsigned char *p, size_t len, int64_t ts)
{
	if (len < 40 || (p[0] >> 4) != 6 || (size_t)rd16(p + 4) + 40 > len) {
		e->st.malformed++;
		return;
	}
	size_t end = 40 + rd16(p + 4), off = 40;
	int next = p[6];
	for (int hops = 0; hops < 8; hops++) {
		if (next == IPPROTO_TCP) {
			tcp_packet(e, AF_INET6, p + 8, p + 24, p + off, end - off, ts);
			return;
		}
		if (next == IPPROTO_FRAGMENT) {
			e->st.fragments++;
			return;
		}
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS)
			break;
		if (off + 8 > end) {
			e->st.malformed++;
			return;
		}
		size_t ext = ((size_t)p[off + 1] + 1) * 8;
		next = p[off];
		off += ext;
		if (off > end) {
			e->st.malformed++;
			return;
		}
	}
	e->st.non_tcp++;
}

static void ip_packet(ddi_engine *e, const unsigned char *p, size_t len, int64_t ts)
{
	if (len < 1) {
		e->st.malformed++;
		return;
	}
	if ((p[0] >> 4) == 4)
		ipv4_packet(e, p, len, ts);
	else if ((p[0] >> 4) == 6)
		ipv6_packet(e, p, len, ts);
	else
		e->st.non_tcp++;
}

static void ethertype_packet(ddi_engine *e, uint16_t type, const unsigned char *p, size_t len,
			     int64_t ts)
{
	if (type == 0x0800 || type == 0x86dd)
		ip_packet(e, p, len, ts);
	else
		e->st.non_tcp++;
}

void ddi_engine_packet(ddi_engine *e, int dlt, const unsigned char *f, size_t caplen, int64_t ts)
{
	e->st.packets++;
	e->st.bytes += caplen;
	switch (dlt) {
	case DLT_EN10MB: {
		if (caplen < 14) {
			e->st.malformed++;
			return;
		}
		size_t off = 12;
		uint16_t type = rd16(f + off);
		/* up to two VLAN tags (802.1Q, QinQ) */
		for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
			if (caplen < off + 6) {
				e->st.malformed++;
				return;
			}
			off += 4;
			type = rd16(f + off);
		}
		ethertype_packet(e, type, f + off + 2, caplen - off - 2, ts);
		return;
	}
	case DLT_NULL:
	case DLT_LOOP: {
		if (caplen < 4) {
			e->st.malformed++;
			return;
		}
		/* the address family, in host order (NULL) or network order (LOOP):
		 * either way the packet's first nibble says the IP version */
		ip_packet(e, f + 4, caplen - 4, ts);
		return;
	}
	case DLT_LINUX_SLL:
		if (caplen < 16) {
			e->st.malformed++;
			return;
		}
		ethertype_packet(e, rd16(f + 14), f + 16, caplen - 16, ts);
		return;
	case DLT_LINUX_SLL2:
		if (caplen < 20) {
			e->st.malformed++;
			return;
		}
		ethertype_packet(e, rd16(f), f + 20, caplen - 20, ts);
		return;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		ip_packet(e, f, caplen, ts);
		return;
	default:
		e->st.malformed++;
		return;
	}
}

void ddi_engine_tick(ddi_engine *e, int64_t now_ms)
{
	ddi_tcp_expire(e->tcp, now_ms);
}

void ddi_engine_flush(ddi_engine *e, int64_t now_ms)
{
	ddi_tcp_flush(e->tcp, now_ms);
}

void ddi_engine_get_stats(const ddi_engine *e, ddi_engine_stats *out)
{
	*out = e->st;
	ddi_tcp_get_stats(e->tcp, &out->tcp);
	out->budget_used = e->budget.used;
	out->budget_refused = e->budget.refused;
}

void ddi_engine_free(ddi_engine *e)
{
	if (!e)
		return;
	ddi_tcp_free(e->tcp);
	free(e);
}
