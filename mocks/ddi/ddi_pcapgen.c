/* ddi_pcapgen.c - write synthetic TCP conversations as pcap files with
 * libpcap's dump API: the capture files DDI's tests (and demos) replay.
 * Each session is a handshake, the client's bytes, the server's bytes cut
 * into segments (optionally reordered and retransmitted), and both FINs. */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <pcap/pcap.h>

#include "util.h"
#include "ddi_pcapgen.h"

struct ddi_pcapgen {
	pcap_t *dead;
	pcap_dumper_t *dump;
	int dlt;
	int64_t ts_us;
};

ddi_pcapgen *ddi_pcapgen_open(const char *path, int dlt)
{
	pcap_t *dead = pcap_open_dead(dlt, 262144);
	if (!dead)
		return NULL;
	pcap_dumper_t *dump = pcap_dump_open(dead, path);
	if (!dump) {
		pcap_close(dead);
		return NULL;
	}
	ddi_pcapgen *g = xcalloc(1, sizeof(*g));
	g->dead = dead;
	g->dump = dump;
	g->dlt = dlt;
	g->ts_us = 1700000000LL * 1000000;
	return g;
}

typedef struct endpoint {
	int family;
	unsigned char addr[16];
	uint16_t port;
} endpoint;

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* One frame: link header, IP header, TCP header, payload. */
static void emit(ddi_pcapgen *g, const endpoint *src, const endpoint *dst, uint32_t seq,
		 uint32_t ack, uint8_t flags, const unsigned char *data, size_t len, int vlan)
{
	unsigned char *f = xcalloc(1, 80 + len);
	size_t off = 0;
	uint16_t ethertype = src->family == AF_INET ? 0x0800 : 0x86dd;
	if (g->dlt == DLT_EN10MB) {
		memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
		off = 12;
		if (vlan) {
			put16(f + off, 0x8100);
			put16(f + off + 2, 42);
			off += 4;
		}
		put16(f + off, ethertype);
		off += 2;
	} else if (g->dlt == DLT_LINUX_SLL) {
		put16(f, 0);      /* packet type: to us */
		put16(f + 2, 1);  /* ARPHRD_ETHER */
		put16(f + 4, 6);
		put16(f + 14, ethertype);
		off = 16;
	}
	size_t tcp_len = 20 + len;
	if (src->family == AF_INET) {
		unsigned char *ip = f + off;
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + tcp_len));
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, src->addr, 4);
		memcpy(ip + 16, dst->addr, 4);
		off += 20;
	} else {
		unsigned char *ip = f + off;
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)tcp_len);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, src->addr, 16);
		memcpy(ip + 24, dst->addr, 16);
		off += 40;
	}
	unsigned char *tcp = f + off;
	put16(tcp, src->port);
	put16(tcp + 2, dst->port);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (len)
		memcpy(tcp + 20, data, len);
	off += tcp_len;

	struct pcap_pkthdr h;
	g->ts_us += 1000;
	h.ts.tv_sec = (time_t)(g->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(g->ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)off;
	pcap_dump((u_char *)g->dump, &h, f);
	free(f);
}

static int parse_endpoint(const char *ip, uint16_t port, endpoint *e)
{
	memset(e, 0, sizeof(*e));
	e->port = port;
	if (inet_pton(AF_INET, ip, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, e->addr) == 1)
		e->family = AF_INET6;
	else
		return -1;
	return 0;
}

/* Send `len` bytes from src in segments of mss, in order, or with every
 * adjacent pair swapped (reorder) and each segment sent twice (duplicate). */
static void stream(ddi_pcapgen *g, const ddi_pcapgen_session *s, const endpoint *src,
		   const endpoint *dst, uint32_t isn, uint32_t peer_next, const unsigned char *d,
		   size_t len)
{
	size_t mss = s->mss ? s->mss : 1400;
	size_t nseg = (len + mss - 1) / mss;
	for (size_t k = 0; k < nseg; k++) {
		size_t i = k;
		if (s->reorder)
			i = (k % 2 == 0) ? (k + 1 < nseg ? k + 1 : k) : k - 1;
		size_t start = i * mss, n = len - start < mss ? len - start : mss;
		emit(g, src, dst, isn + 1 + (uint32_t)start, peer_next, TH_ACK | TH_PUSH, d + start, n,
		     s->vlan);
		if (s->duplicate)
			emit(g, src, dst, isn + 1 + (uint32_t)start, peer_next, TH_ACK | TH_PUSH,
			     d + start, n, s->vlan);
	}
}

void ddi_pcapgen_set_clock(ddi_pcapgen *g, int64_t ts_us)
{
	g->ts_us = ts_us;
}

int ddi_pcapgen_add(ddi_pcapgen *g, const ddi_pcapgen_session *s)
{
	endpoint c, sv;
	if (parse_endpoint(s->client_ip, s->client_port, &c) < 0 ||
	    parse_endpoint(s->server_ip, s->server_port, &sv) < 0 || c.family != sv.family)
		return -1;
	uint32_t cisn = 1000, sisn = 0xfffff000u; /* the server's side wraps around zero */
	uint32_t cend = cisn + 1 + (uint32_t)s->req_len, send = sisn + 1 + (uint32_t)s->resp_len;
	emit(g, &c, &sv, cisn, 0, TH_SYN, NULL, 0, s->vlan);
	emit(g, &sv, &c, sisn, cisn + 1, TH_SYN | TH_ACK, NULL, 0, s->vlan);
	emit(g, &c, &sv, cisn + 1, sisn + 1, TH_ACK, NULL, 0, s->vlan);
	stream(g, s, &c, &sv, cisn, sisn + 1, s->req, s->req_len);
	stream(g, s, &sv, &c, sisn, cend, s->resp, s->resp_len);
	emit(g, &sv, &c, send, cend, TH_FIN | TH_ACK, NULL, 0, s->vlan);
	emit(g, &c, &sv, cend, send + 1, TH_FIN | TH_ACK, NULL, 0, s->vlan);
	emit(g, &sv, &c, send + 1, cend + 1, TH_ACK, NULL, 0, s->vlan);
	return 0;
}

void ddi_pcapgen_close(ddi_pcapgen *g)
{
	if (!g)
		return;
	pcap_dump_close(g->dump);
	pcap_close(g->dead);
	free(g);
}
