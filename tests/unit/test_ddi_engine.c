/* test_ddi_engine.c - capture files the test writes with libpcap's dump API
 * (Ethernet + VLAN, Linux cooked, raw IP; IPv4 and IPv6; reordered and
 * retransmitted segments; chunked + gzip HTTP; SMTP) read back through the
 * DDI engine; then a fuzz loop over mutated and truncated capture files and
 * random frames: nothing may crash, stall or leak its memory budget. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <gmime/gmime.h>
#include <pcap/pcap.h>
#include "util.h"
#include "testlib.h"
#include "ddi/ddi.h"
#include "ddi/ddi_pcapgen.h"

typedef struct carved {
	char *url, *name, *proto, *client, *server;
	sbuf data;
} carved;

static carved C[16];
static int nc;
static char *dir;

static void on_carve(const ddi_carved *f, void *cls)
{
	if (nc >= 16)
		return;
	carved *c = &C[nc++];
	c->url = xstrdup(f->url ? f->url : "");
	c->name = xstrdup(f->file_name);
	c->proto = xstrdup(f->proto);
	c->client = xasprintf("%s:%u", f->client_ip, f->client_port);
	c->server = xasprintf("%s:%u", f->server_ip, f->server_port);
	sbuf_append(&c->data, f->data, f->len);
}

static void clear_carved(void)
{
	for (int i = 0; i < nc; i++) {
		free(C[i].url);
		free(C[i].name);
		free(C[i].proto);
		free(C[i].client);
		free(C[i].server);
		sbuf_free(&C[i].data);
	}
	nc = 0;
}

static void setup(void)
{
	g_mime_init();
	nc = 0;
	memset(C, 0, sizeof(C));
	dir = tl_tmpdir("ddi-engine");
}

static void teardown(void)
{
	clear_carved();
	tl_rmrf(dir);
	free(dir);
}

static const ddi_limits lim = {64, 1 << 20, 1 << 20, 30000};

/* Read a capture file through a fresh engine; returns packets read. */
static uint64_t replay(const char *path, ddi_engine_stats *out)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p)
		return 0;
	ddi_engine *e = ddi_engine_new(&lim, 8 << 20, on_carve, NULL);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int64_t ts = 0;
	while (pcap_next_ex(p, &h, &bytes) == 1) {
		ts = (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
		ddi_engine_packet(e, pcap_datalink(p), bytes, h->caplen, ts);
		ddi_engine_tick(e, ts);
	}
	ddi_engine_flush(e, ts);
	ddi_engine_stats st;
	ddi_engine_get_stats(e, &st);
	ck_assert_int_eq(st.budget_used, 0); /* every buffer given back */
	ddi_engine_free(e);
	pcap_close(p);
	if (out)
		*out = st;
	return st.packets;
}

static size_t gzip_buf(const char *in, unsigned char *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

static const char *sample = "Sample SO2 - CTDLAB-RISK-HIGH - harmless lab file\n";

/* An HTTP exchange with a chunked, gzip-encoded response. */
static char *http_exchange(size_t *req_len, size_t *resp_len, char **req)
{
	unsigned char z[512];
	size_t zn = gzip_buf(sample, z, sizeof(z));
	*req = xstrdup("GET /dl/sample_so2.bin HTTP/1.1\r\nHost: files.lab.test\r\n\r\n");
	*req_len = strlen(*req);
	sbuf r = {0};
	sbuf_printf(&r, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
			"Transfer-Encoding: chunked\r\n\r\n%zx\r\n", zn);
	sbuf_append(&r, z, zn);
	sbuf_puts(&r, "\r\n0\r\n\r\n");
	*resp_len = r.len;
	return sbuf_detach(&r);
}

static char *write_sample_pcap(const char *name, int dlt, const char *cip, const char *sip,
			       int vlan, int reorder)
{
	char *path = xasprintf("%s/%s", dir, name);
	ddi_pcapgen *g = ddi_pcapgen_open(path, dlt);
	ck_assert_ptr_nonnull(g);
	char *req;
	size_t req_len, resp_len;
	char *resp = http_exchange(&req_len, &resp_len, &req);
	ddi_pcapgen_session s = {cip, sip, 51000, 80, req, req_len, resp, resp_len,
				 7, reorder, reorder, vlan};
	ck_assert_int_eq(ddi_pcapgen_add(g, &s), 0);
	const char *smtp_client = "EHLO pc\r\nMAIL FROM:<a@lab.test>\r\nRCPT TO:<b@lab.test>\r\nDATA\r\n"
				  "Subject: x\r\nMIME-Version: 1.0\r\n"
				  "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
				  "Content-Type: text/plain\r\n\r\nhi\r\n--B\r\n"
				  "Content-Type: application/octet-stream; name=mailed.bin\r\n"
				  "Content-Transfer-Encoding: base64\r\n\r\nQ1RETEFCLVJJU0stTUVESVVN\r\n"
				  "--B--\r\n.\r\nQUIT\r\n";
	const char *smtp_server = "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n";
	ddi_pcapgen_session m = {cip, sip, 51001, 25, smtp_client, strlen(smtp_client),
				 smtp_server, strlen(smtp_server), 40, 0, 0, vlan};
	ck_assert_int_eq(ddi_pcapgen_add(g, &m), 0);
	ddi_pcapgen_close(g);
	free(req);
	free(resp);
	return path;
}

static void check_both_carved(const char *client, const char *server)
{
	ck_assert_int_eq(nc, 2);
	ck_assert_str_eq(C[0].proto, "HTTP");
	ck_assert_str_eq(C[0].url, "http://files.lab.test/dl/sample_so2.bin");
	ck_assert_str_eq(C[0].name, "sample_so2.bin");
	ck_assert_str_eq(C[0].data.data, sample);
	ck_assert_str_eq(C[0].client, client);
	ck_assert_str_eq(C[0].server, server);
	ck_assert_str_eq(C[1].proto, "SMTP");
	ck_assert_str_eq(C[1].name, "mailed.bin");
	ck_assert_str_eq(C[1].data.data, "CTDLAB-RISK-MEDIUM");
}

TEST(test_ethernet_vlan_ipv4_reordered)
{
	char *path = write_sample_pcap("a.pcap", DLT_EN10MB, "192.168.7.10", "203.0.113.80", 1, 1);
	ddi_engine_stats st;
	ck_assert_int_gt(replay(path, &st), 20);
	check_both_carved("192.168.7.10:51000", "203.0.113.80:80");
	ck_assert_int_gt(st.tcp.retransmitted_bytes, 0);
	ck_assert_int_eq(st.malformed, 0);
	ck_assert_int_eq(st.http_flows, 1);
	ck_assert_int_eq(st.smtp_flows, 1);
	free(path);
}

TEST(test_cooked_ipv6)
{
	char *path = write_sample_pcap("b.pcap", DLT_LINUX_SLL, "2001:db8::10", "2001:db8::80", 0, 0);
	replay(path, NULL);
	check_both_carved("2001:db8::10:51000", "2001:db8::80:80");
	free(path);
}

TEST(test_raw_ip)
{
	char *path = write_sample_pcap("c.pcap", DLT_RAW, "10.9.8.7", "10.9.8.6", 0, 1);
	replay(path, NULL);
	check_both_carved("10.9.8.7:51000", "10.9.8.6:80");
	free(path);
}

/* The same packets as a pcapng file (SHB, IDB, one EPB each): libpcap only
 * writes classic pcap, so the blocks are laid out here. */
static void put_u32(sbuf *b, uint32_t v)
{
	sbuf_append(b, &v, 4);
}

static char *to_pcapng(const char *pcap_path, const char *name)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(pcap_path, errbuf);
	ck_assert_ptr_nonnull(p);
	sbuf b = {0};
	uint32_t shb[] = {0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0xffffffff, 0xffffffff, 28};
	sbuf_append(&b, shb, sizeof(shb));
	uint32_t idb[] = {1, 20, (uint32_t)pcap_datalink(p), 262144, 20};
	sbuf_append(&b, idb, sizeof(idb));
	struct pcap_pkthdr *h;
	const u_char *bytes;
	while (pcap_next_ex(p, &h, &bytes) == 1) {
		uint32_t padded = (h->caplen + 3) & ~3u;
		uint64_t us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		put_u32(&b, 6);
		put_u32(&b, 32 + padded);
		put_u32(&b, 0);
		put_u32(&b, (uint32_t)(us >> 32));
		put_u32(&b, (uint32_t)us);
		put_u32(&b, h->caplen);
		put_u32(&b, h->len);
		sbuf_append(&b, bytes, h->caplen);
		sbuf_append(&b, "\0\0\0", padded - h->caplen);
		put_u32(&b, 32 + padded);
	}
	pcap_close(p);
	char *out = xasprintf("%s/%s", dir, name);
	ck_assert_int_eq(file_write_atomic(out, b.data, b.len, 0600, NULL), 0);
	sbuf_free(&b);
	return out;
}

TEST(test_pcapng)
{
	char *path = write_sample_pcap("d.pcap", DLT_EN10MB, "172.16.0.1", "172.16.0.2", 0, 0);
	char *ng = to_pcapng(path, "d.pcapng");
	replay(ng, NULL);
	check_both_carved("172.16.0.1:51000", "172.16.0.2:80");
	free(ng);
	free(path);
}

/* Deterministic pseudo-random numbers for the fuzz loop. */
static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

TEST(test_fuzz_mutated_captures)
{
	char *path = write_sample_pcap("seed.pcap", DLT_EN10MB, "192.168.7.10", "203.0.113.80", 0, 1);
	char *data;
	size_t len;
	ck_assert_int_eq(file_read(path, &data, &len, NULL), 0);
	char *mut = xasprintf("%s/mut.pcap", dir);
	for (int round = 0; round < 400; round++) {
		char *copy = xmalloc(len);
		memcpy(copy, data, len);
		size_t n = len;
		int flips = 1 + (int)(next_rand() % 16);
		for (int i = 0; i < flips; i++) {
			/* mostly past the global header, so libpcap accepts the file */
			size_t at = 24 + next_rand() % (len - 24);
			copy[at] = (char)next_rand();
		}
		if (round % 5 == 0)
			n = 24 + next_rand() % (len - 24); /* truncated capture */
		ck_assert_int_eq(file_write_atomic(mut, copy, n, 0600, NULL), 0);
		replay(mut, NULL);
		free(copy);
		clear_carved();
	}
	free(data);
	free(mut);
	free(path);
}

TEST(test_fuzz_random_frames)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL,
				   DLT_LOOP, DLT_IPV4, DLT_IPV6, 9999};
	ddi_engine *e = ddi_engine_new(&lim, 1 << 20, on_carve, NULL);
	unsigned char frame[256];
	for (int i = 0; i < 20000; i++) {
		size_t n = next_rand() % sizeof(frame);
		for (size_t k = 0; k < n; k++)
			frame[k] = (unsigned char)next_rand();
		/* make many frames look like IPv4/TCP so the deeper layers get hit */
		if (n > 40 && i % 2) {
			frame[0] = 0x45;
			frame[9] = IPPROTO_TCP;
			frame[2] = 0;
			frame[3] = (unsigned char)n;
			frame[6] = frame[7] = 0;
		}
		int dlt = i % 2 ? DLT_RAW : dlts[next_rand() % 9];
		ddi_engine_packet(e, dlt, frame, n, i);
	}
	ddi_engine_flush(e, 30000);
	ddi_engine_stats st;
	ddi_engine_get_stats(e, &st);
	ck_assert_int_eq(st.packets, 20000);
	ck_assert_int_gt(st.malformed, 0);
	ck_assert_int_eq(st.budget_used, 0);
	ddi_engine_free(e);
	clear_carved();
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 120);
