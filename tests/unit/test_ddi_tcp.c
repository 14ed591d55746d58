/* test_ddi_tcp.c - DDI TCP reassembly: order, retransmissions, overlaps, both
 * directions, sequence wrap, gaps when buffers burst, flow limits, timeouts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include "util.h"
#include "ddi/ddi.h"
#include "testlib.h"

typedef struct rec {
	sbuf dir[2];
	int gaps[2];
	uint32_t lost[2];
	int closed;
	int opened;
	ddi_flow_info info;
} rec;

typedef struct harness {
	rec flows[8];
	int nflows;
} harness;

static void *h_open(const ddi_flow_info *fi, void *cls)
{
	harness *h = cls;
	rec *r = &h->flows[h->nflows++ % 8];
	memset(r, 0, sizeof(*r));
	r->opened = 1;
	r->info = *fi;
	return r;
}
static int h_data(void *st, int dir, const unsigned char *d, size_t n, int64_t ts)
{
	rec *r = st;
	sbuf_append(&r->dir[dir], d, n);
	return 0;
}
static void h_gap(void *st, int dir, uint32_t lost)
{
	rec *r = st;
	r->gaps[dir]++;
	r->lost[dir] += lost;
}
static void h_close(void *st, int64_t ts)
{
	((rec *)st)->closed = 1;
}
static const ddi_stream_ops ops = {h_open, h_data, h_gap, h_close};

static ddi_budget budget;
static ddi_limits lim;
static harness H;

static void setup(void)
{
	memset(&H, 0, sizeof(H));
	budget = (ddi_budget){0, 1 << 20, 0};
	lim = (ddi_limits){.max_flows = 4, .flow_max_bytes = 64, .max_file_size = 1 << 20,
			   .flow_timeout_ms = 1000};
}
static void teardown(void)
{
	for (int i = 0; i < 8; i++) {
		sbuf_free(&H.flows[i].dir[0]);
		sbuf_free(&H.flows[i].dir[1]);
	}
}

/* client 10.0.0.1:40000 <-> server 10.0.0.2:80 */
static void seg(ddi_tcp *t, int from_client, uint32_t seq, uint8_t flags, const char *data,
		int64_t ts)
{
	ddi_tcp_seg s = {0};
	s.family = AF_INET;
	unsigned char c[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};
	memcpy(s.src, from_client ? c : srv, 4);
	memcpy(s.dst, from_client ? srv : c, 4);
	s.sport = from_client ? 40000 : 80;
	s.dport = from_client ? 80 : 40000;
	s.seq = seq;
	s.flags = flags;
	s.payload = (const unsigned char *)data;
	s.len = data ? strlen(data) : 0;
	s.ts_ms = ts;
	ddi_tcp_segment(t, &s);
}

static void handshake(ddi_tcp *t, uint32_t cisn, uint32_t sisn)
{
	seg(t, 1, cisn, TH_SYN, NULL, 1);
	seg(t, 0, sisn, TH_SYN | TH_ACK, NULL, 1);
	seg(t, 1, cisn + 1, TH_ACK, NULL, 1);
}

TEST(test_in_order_both_directions)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 1000, 5000);
	seg(t, 1, 1001, TH_ACK, "GET / HTTP/1.1\r\n", 2);
	seg(t, 0, 5001, TH_ACK, "HTTP/1.1 200 OK\r\n", 3);
	seg(t, 1, 1017, TH_ACK | TH_FIN, NULL, 4);
	seg(t, 0, 5018, TH_ACK | TH_FIN, NULL, 4);
	ck_assert_int_eq(H.nflows, 1);
	rec *r = &H.flows[0];
	ck_assert_str_eq(r->info.client_ip, "10.0.0.1");
	ck_assert_str_eq(r->info.server_ip, "10.0.0.2");
	ck_assert_int_eq(r->info.server_port, 80);
	ck_assert_str_eq(r->dir[DDI_TO_SERVER].data, "GET / HTTP/1.1\r\n");
	ck_assert_str_eq(r->dir[DDI_TO_CLIENT].data, "HTTP/1.1 200 OK\r\n");
	ck_assert_int_eq(r->closed, 1);
	ddi_tcp_stats st;
	ddi_tcp_get_stats(t, &st);
	ck_assert_int_eq(st.flows_active, 0);
	ddi_tcp_free(t);
	ck_assert_int_eq(budget.used, 0);
}

TEST(test_out_of_order)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	seg(t, 0, 901 + 10, TH_ACK, "KLMNO", 2);
	seg(t, 0, 901 + 5, TH_ACK, "FGHIJ", 2);
	ck_assert_int_eq(H.flows[0].dir[1].len, 0);
	ck_assert_int_gt(budget.used, 0);
	seg(t, 0, 901, TH_ACK, "ABCDE", 3);
	ck_assert_str_eq(H.flows[0].dir[1].data, "ABCDEFGHIJKLMNO");
	ck_assert_int_eq(budget.used, 0);
	ddi_tcp_free(t);
}

TEST(test_retransmission_and_overlap)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	seg(t, 0, 901, TH_ACK, "ABCDE", 2);
	seg(t, 0, 901, TH_ACK, "ABCDE", 2);     /* plain retransmission */
	seg(t, 0, 903, TH_ACK, "xxxFG", 2);     /* overlaps delivered data: first copy wins */
	seg(t, 0, 908 + 4, TH_ACK, "MN", 2);    /* future */
	seg(t, 0, 910, TH_ACK, "yyyzz", 2);     /* future, overlapping the other future one */
	seg(t, 0, 908, TH_ACK, "IJ", 2);        /* fills the hole */
	ck_assert_str_eq(H.flows[0].dir[1].data, "ABCDEFGIJyyyzz");
	ddi_tcp_stats st;
	ddi_tcp_get_stats(t, &st);
	ck_assert_int_ge(st.retransmitted_bytes, 5 + 3 + 2);
	ddi_tcp_free(t);
	ck_assert_int_eq(budget.used, 0);
}

TEST(test_sequence_wraparound)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 0xfffffffdu, 7);
	seg(t, 1, 0xfffffffeu + 4, TH_ACK, "EF", 2); /* wraps past zero */
	seg(t, 1, 0xfffffffeu, TH_ACK, "ABCD", 2);
	ck_assert_str_eq(H.flows[0].dir[0].data, "ABCDEF");
	ddi_tcp_free(t);
}

TEST(test_midstream_pickup)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	/* no handshake seen: the side talking to port 80 is the client */
	seg(t, 0, 77, TH_ACK, "late", 2);
	ck_assert_int_eq(H.nflows, 1);
	ck_assert_str_eq(H.flows[0].info.client_ip, "10.0.0.1");
	ck_assert_str_eq(H.flows[0].dir[DDI_TO_CLIENT].data, "late");
	ddi_tcp_free(t);
}

TEST(test_gap_when_buffer_bursts)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	char big[41];
	memset(big, 'x', 40);
	big[40] = '\0';
	/* the first 10 bytes never come; 40 + 40 > flow_max_bytes (64) */
	seg(t, 0, 911, TH_ACK, big, 2);
	seg(t, 0, 951, TH_ACK, big, 2);
	rec *r = &H.flows[0];
	ck_assert_int_eq(r->gaps[1], 1);
	ck_assert_int_eq(r->lost[1], 10);
	ck_assert_int_eq(r->dir[1].len, 80);
	ck_assert_int_le(budget.used, 64);
	ddi_tcp_free(t);
	ck_assert_int_eq(budget.used, 0);
}

TEST(test_hole_at_close_is_a_gap)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	seg(t, 0, 911, TH_ACK, "tail", 2);
	seg(t, 0, 900, TH_RST, NULL, 3);
	rec *r = &H.flows[0];
	ck_assert_int_eq(r->closed, 1);
	ck_assert_int_eq(r->gaps[1], 1);
	ck_assert_str_eq(r->dir[1].data, "tail");
	ck_assert_int_eq(budget.used, 0);
	ddi_tcp_free(t);
}

TEST(test_budget_exhausted)
{
	budget.limit = 8;
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	seg(t, 0, 905, TH_ACK, "0123456789", 2); /* cannot be buffered: gap, then delivered */
	ck_assert_int_eq(H.flows[0].gaps[1], 1);
	ck_assert_str_eq(H.flows[0].dir[1].data, "0123456789");
	ck_assert_int_gt(budget.refused, 0);
	ddi_tcp_free(t);
}

TEST(test_flow_limit_and_timeout)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	for (int i = 0; i < 6; i++) {
		ddi_tcp_seg s = {0};
		s.family = AF_INET;
		unsigned char c[4] = {10, 0, 1, (unsigned char)i}, srv[4] = {10, 0, 0, 2};
		memcpy(s.src, c, 4);
		memcpy(s.dst, srv, 4);
		s.sport = 50000;
		s.dport = 80;
		s.seq = 1;
		s.flags = TH_SYN;
		s.ts_ms = 10 + i;
		ddi_tcp_segment(t, &s);
	}
	ddi_tcp_stats st;
	ddi_tcp_get_stats(t, &st);
	ck_assert_int_eq(st.flows_active, 4);
	ck_assert_int_eq(st.flows_evicted, 2);
	ck_assert_int_eq(H.flows[0].closed, 1); /* the idlest went first */
	ddi_tcp_expire(t, 1014);                /* flows last seen at 14 and 15 survive */
	ddi_tcp_get_stats(t, &st);
	ck_assert_int_eq(st.flows_active, 2);
	ck_assert_int_eq(st.flows_timed_out, 2);
	ddi_tcp_free(t);
}

TEST(test_stray_packets_open_nothing)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	seg(t, 1, 5, TH_RST, NULL, 1);
	seg(t, 1, 5, TH_ACK, NULL, 1);
	ck_assert_int_eq(H.nflows, 0);
	ddi_tcp_free(t);
}

TEST(test_port_reuse_new_handshake)
{
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	seg(t, 1, 101, TH_ACK, "first", 2);
	/* no FIN seen; the same ports open again with a new ISN */
	handshake(t, 70000, 5000);
	seg(t, 1, 70001, TH_ACK, "second", 3);
	seg(t, 1, 70000, TH_SYN, NULL, 3); /* a retransmitted SYN of the new one is not new */
	ck_assert_int_eq(H.nflows, 2);
	ck_assert_int_eq(H.flows[0].closed, 1);
	ck_assert_str_eq(H.flows[0].dir[0].data, "first");
	ck_assert_str_eq(H.flows[1].dir[0].data, "second");
	ddi_tcp_free(t);
}

/* A flood of one-byte segments after a hole: the out-of-order list is
 * capped, so the hole is given up and the bytes flow on. */
TEST(test_tiny_segment_flood)
{
	lim.flow_max_bytes = 1 << 20; /* so the segment count is what bounds */
	ddi_tcp *t = ddi_tcp_new(&lim, &budget, &ops, &H);
	handshake(t, 100, 900);
	for (uint32_t i = 1; i < 1000; i++)
		seg(t, 0, 901 + i, TH_ACK, "z", 2); /* byte 0 never comes */
	rec *r = &H.flows[0];
	ck_assert_int_eq(r->gaps[1], 1);
	ck_assert_int_eq(r->lost[1], 1);
	ck_assert_int_eq(r->dir[1].len, 999);
	ck_assert_int_eq(budget.used, 0);
	ddi_tcp_free(t);
}

TL_SUITE(.setup = setup, .teardown = teardown);
