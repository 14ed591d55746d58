/* ddi_tcp.c - TCP stream reassembly for the DDI sensor.
 *
 * Each flow has two halves (client->server, server->client). A half delivers
 * bytes strictly in sequence order: retransmitted bytes are dropped, segments
 * that overlap delivered data are trimmed (the first copy wins), future
 * segments wait in a sorted out-of-order list. Memory is bounded three ways:
 * a per-direction cap on buffered bytes, the engine-wide budget, and a cap on
 * the number of flows (the idlest flow is evicted). When a buffer would burst
 * the half declares a gap and jumps forward, so nothing can stall on a hole. */
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include "util.h"
#include "ddi.h"

/* A segment further ahead than this is bogus, not merely out of order. */
#define DDI_TCP_MAX_AHEAD (64u * 1024 * 1024)
/* Out-of-order segments held per direction: the sorted list stays short, so
 * a flood of tiny segments costs neither quadratic time nor unbounded
 * allocator overhead (each segment is also charged its header). */
#define DDI_TCP_MAX_OOO_SEGS 256

int ddi_budget_take(ddi_budget *b, size_t n)
{
	if (b->used + n > b->limit) {
		b->refused++;
		return -1;
	}
	b->used += n;
	return 0;
}

void ddi_budget_give(ddi_budget *b, size_t n)
{
	b->used = n > b->used ? 0 : b->used - n;
}

typedef struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq;
	size_t len;
	unsigned char data[];
} ooo_seg;

typedef struct half {
	int started, syn_seen;
	uint32_t isn, next_seq;
	int fin_seen, done;
	uint32_t fin_seq;
	ooo_seg *ooo;
	size_t ooo_bytes, ooo_count;
} half;

typedef struct flow {
	struct flow *hnext, *lru_prev, *lru_next;
	int family;
	unsigned char a[16], b[16];
	uint16_t pa, pb;
	int client_is_a;
	int ignored; /* the consumer declined it: track only */
	half h[2];   /* indexed by DDI_TO_SERVER / DDI_TO_CLIENT */
	int64_t last_ts;
	void *app;
	ddi_flow_info info;
} flow;

struct ddi_tcp {
	ddi_limits lim;
	ddi_budget *budget;
	const ddi_stream_ops *ops;
	void *cls;
	flow **buckets;
	size_t nbuckets;
	flow *lru_head, *lru_tail; /* head = idlest */
	ddi_tcp_stats stats;
};

ddi_tcp *ddi_tcp_new(const ddi_limits *lim, ddi_budget *budget, const ddi_stream_ops *ops,
		     void *cls)
{
	ddi_tcp *t = xcalloc(1, sizeof(*t));
	t->lim = *lim;
	if (t->lim.max_flows == 0)
		t->lim.max_flows = 1;
	t->budget = budget;
	t->ops = ops;
	t->cls = cls;
	t->nbuckets = 64;
	while (t->nbuckets < t->lim.max_flows * 2)
		t->nbuckets <<= 1;
	t->buckets = xcalloc(t->nbuckets, sizeof(flow *));
	return t;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* Order two endpoints so both directions of a flow share one key. */
static int endpoint_cmp(int family, const unsigned char *x, uint16_t px, const unsigned char *y,
			uint16_t py)
{
	int c = memcmp(x, y, addr_len(family));
	if (c)
		return c;
	return (int)px - (int)py;
}

static size_t flow_hash(const ddi_tcp *t, int family, const unsigned char *a, uint16_t pa,
			const unsigned char *b, uint16_t pb)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)family;
	size_t n = addr_len(family);
	for (size_t i = 0; i < n; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	h = (h ^ pa) * 1099511628211ull;
	h = (h ^ pb) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29)) & (t->nbuckets - 1);
}

static void lru_unlink(ddi_tcp *t, flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_append(ddi_tcp *t, flow *f)
{
	f->lru_prev = t->lru_tail;
	f->lru_next = NULL;
	if (t->lru_tail)
		t->lru_tail->lru_next = f;
	else
		t->lru_head = f;
	t->lru_tail = f;
}

static void half_clear(ddi_tcp *t, half *h)
{
	while (h->ooo) {
		ooo_seg *s = h->ooo;
		h->ooo = s->next;
		ddi_budget_give(t->budget, sizeof(*s) + s->len);
		free(s);
	}
	h->ooo_bytes = h->ooo_count = 0;
}

static void flow_ignore(ddi_tcp *t, flow *f)
{
	f->ignored = 1;
	half_clear(t, &f->h[0]);
	half_clear(t, &f->h[1]);
}

static void deliver(ddi_tcp *t, flow *f, int dir, const unsigned char *d, size_t n, int64_t ts)
{
	if (n == 0 || f->ignored)
		return;
	if (t->ops->data(f->app, dir, d, n, ts) < 0)
		flow_ignore(t, f);
}

/* Deliver buffered segments that are now in sequence. */
static void half_drain(ddi_tcp *t, flow *f, int dir, int64_t ts)
{
	half *h = &f->h[dir];
	while (h->ooo && !f->ignored) {
		ooo_seg *s = h->ooo;
		int32_t off = (int32_t)(s->seq - h->next_seq);
		if (off > 0)
			break;
		h->ooo = s->next;
		h->ooo_bytes -= s->len;
		h->ooo_count--;
		ddi_budget_give(t->budget, sizeof(*s) + s->len);
		size_t skip = (size_t)(-(int64_t)off);
		if (skip < s->len) {
			h->next_seq += (uint32_t)(s->len - skip);
			t->stats.retransmitted_bytes += skip;
			deliver(t, f, dir, s->data + skip, s->len - skip, ts);
		} else {
			t->stats.retransmitted_bytes += s->len;
		}
		free(s);
	}
}

/* Bytes before the first buffered segment will never come: say so and move on. */
static void half_skip_gap(ddi_tcp *t, flow *f, int dir, uint32_t to_seq, int64_t ts)
{
	half *h = &f->h[dir];
	t->stats.gaps++;
	if (!f->ignored)
		t->ops->gap(f->app, dir, to_seq - h->next_seq);
	h->next_seq = to_seq;
	half_drain(t, f, dir, ts);
}

static int ooo_insert(ddi_tcp *t, half *h, uint32_t seq, const unsigned char *d, size_t n)
{
	ooo_seg **pp = &h->ooo;
	while (*pp && (int32_t)((*pp)->seq - h->next_seq) < (int32_t)(seq - h->next_seq))
		pp = &(*pp)->next;
	if (*pp && (*pp)->seq == seq && (*pp)->len >= n) {
		t->stats.retransmitted_bytes += n;
		return 0;
	}
	if (h->ooo_count >= DDI_TCP_MAX_OOO_SEGS || h->ooo_bytes + n > t->lim.flow_max_bytes ||
	    ddi_budget_take(t->budget, sizeof(ooo_seg) + n) < 0)
		return -1;
	ooo_seg *s = xmalloc(sizeof(*s) + n);
	s->seq = seq;
	s->len = n;
	memcpy(s->data, d, n);
	s->next = *pp;
	*pp = s;
	h->ooo_bytes += n;
	h->ooo_count++;
	return 0;
}

static void half_data(ddi_tcp *t, flow *f, int dir, uint32_t seq, const unsigned char *d,
		      size_t n, int64_t ts)
{
	half *h = &f->h[dir];
	int32_t off = (int32_t)(seq - h->next_seq);
	if (off <= 0) {
		size_t skip = (size_t)(-(int64_t)off);
		if (skip >= n) {
			t->stats.retransmitted_bytes += n;
			return;
		}
		t->stats.retransmitted_bytes += skip;
		h->next_seq += (uint32_t)(n - skip);
		deliver(t, f, dir, d + skip, n - skip, ts);
		half_drain(t, f, dir, ts);
		return;
	}
	if ((uint32_t)off > DDI_TCP_MAX_AHEAD) {
		t->stats.dropped_segments++;
		return;
	}
	if (f->ignored)
		return;
	if (ooo_insert(t, h, seq, d, n) == 0)
		return;
	/* No room to wait for the hole: give it up and resume at the earliest
	 * data we hold (or this segment), then place the segment again. */
	uint32_t resume = seq;
	if (h->ooo && (int32_t)(h->ooo->seq - seq) < 0)
		resume = h->ooo->seq;
	half_skip_gap(t, f, dir, resume, ts);
	off = (int32_t)(seq - h->next_seq);
	if (off <= 0)
		half_data(t, f, dir, seq, d, n, ts);
	else if (f->ignored || ooo_insert(t, h, seq, d, n) < 0)
		t->stats.dropped_segments++;
}

static void flow_free(ddi_tcp *t, flow *f, int64_t ts)
{
	for (int dir = 0; dir < 2; dir++) {
		half *h = &f->h[dir];
		if (h->ooo && !f->ignored) {
			/* Data after a hole that never filled: deliver what follows it. */
			half_skip_gap(t, f, dir, h->ooo->seq, ts);
		}
		half_clear(t, h);
	}
	t->ops->close(f->app, ts);
	size_t b = flow_hash(t, f->family, f->a, f->pa, f->b, f->pb);
	for (flow **pp = &t->buckets[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	}
	lru_unlink(t, f);
	t->stats.flows_active--;
	t->stats.flows_closed++;
	free(f);
}

static flow *flow_find(ddi_tcp *t, const ddi_tcp_seg *s, int *src_is_a)
{
	int c = endpoint_cmp(s->family, s->src, s->sport, s->dst, s->dport);
	const unsigned char *a = c <= 0 ? s->src : s->dst, *b = c <= 0 ? s->dst : s->src;
	uint16_t pa = c <= 0 ? s->sport : s->dport, pb = c <= 0 ? s->dport : s->sport;
	*src_is_a = c <= 0;
	size_t n = addr_len(s->family);
	for (flow *f = t->buckets[flow_hash(t, s->family, a, pa, b, pb)]; f; f = f->hnext) {
		if (f->family == s->family && f->pa == pa && f->pb == pb && !memcmp(f->a, a, n) &&
		    !memcmp(f->b, b, n))
			return f;
	}
	return NULL;
}

static void fill_info(flow *f)
{
	const unsigned char *cli = f->client_is_a ? f->a : f->b, *srv = f->client_is_a ? f->b : f->a;
	f->info.family = f->family;
	inet_ntop(f->family, cli, f->info.client_ip, sizeof(f->info.client_ip));
	inet_ntop(f->family, srv, f->info.server_ip, sizeof(f->info.server_ip));
	f->info.client_port = f->client_is_a ? f->pa : f->pb;
	f->info.server_port = f->client_is_a ? f->pb : f->pa;
}

static flow *flow_create(ddi_tcp *t, const ddi_tcp_seg *s, int src_is_a)
{
	if (t->stats.flows_active >= t->lim.max_flows && t->lru_head) {
		t->stats.flows_evicted++;
		flow_free(t, t->lru_head, s->ts_ms);
	}
	flow *f = xcalloc(1, sizeof(*f));
	size_t n = addr_len(s->family);
	f->family = s->family;
	memcpy(f->a, src_is_a ? s->src : s->dst, n);
	memcpy(f->b, src_is_a ? s->dst : s->src, n);
	f->pa = src_is_a ? s->sport : s->dport;
	f->pb = src_is_a ? s->dport : s->sport;
	/* Who is the client: the SYN sender; for flows picked up mid-stream,
	 * the side talking to the lower (service) port. */
	int src_is_client;
	if ((s->flags & TH_SYN) && !(s->flags & TH_ACK))
		src_is_client = 1;
	else if ((s->flags & TH_SYN) && (s->flags & TH_ACK))
		src_is_client = 0;
	else
		src_is_client = s->dport <= s->sport;
	f->client_is_a = src_is_client ? src_is_a : !src_is_a;
	fill_info(f);
	size_t b = flow_hash(t, f->family, f->a, f->pa, f->b, f->pb);
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	lru_append(t, f);
	t->stats.flows_active++;
	t->stats.flows_opened++;
	f->app = t->ops->open(&f->info, t->cls);
	return f;
}

/* A client SYN with another initial sequence number on a known flow (port
 * reuse after a close we did not see) starts a new connection. */
static int is_new_connection(const flow *f, const ddi_tcp_seg *s, int src_is_a)
{
	if (!(s->flags & TH_SYN) || (s->flags & TH_ACK) || src_is_a != f->client_is_a)
		return 0;
	const half *h = &f->h[DDI_TO_SERVER];
	return h->started && (!h->syn_seen || h->isn != s->seq);
}

void ddi_tcp_segment(ddi_tcp *t, const ddi_tcp_seg *s)
{
	t->stats.segments++;
	if (s->family != AF_INET && s->family != AF_INET6)
		return;
	int src_is_a;
	flow *f = flow_find(t, s, &src_is_a);
	if (f && is_new_connection(f, s, src_is_a)) {
		/* the same ports again with a fresh handshake: the old flow is over */
		flow_free(t, f, s->ts_ms);
		f = NULL;
	}
	if (!f) {
		/* A stray RST or bare ACK opens nothing. */
		if ((s->flags & TH_RST) || (!(s->flags & (TH_SYN | TH_FIN)) && s->len == 0))
			return;
		f = flow_create(t, s, src_is_a);
	}
	f->last_ts = s->ts_ms;
	lru_unlink(t, f);
	lru_append(t, f);

	int dir = (src_is_a == f->client_is_a) ? DDI_TO_SERVER : DDI_TO_CLIENT;
	half *h = &f->h[dir];
	if (s->flags & TH_RST) {
		flow_free(t, f, s->ts_ms);
		return;
	}
	uint32_t seq = s->seq;
	if (s->flags & TH_SYN) {
		if (!h->started) {
			h->started = h->syn_seen = 1;
			h->isn = seq;
			h->next_seq = seq + 1;
		}
		seq++;
	} else if (!h->started) {
		h->started = 1;
		h->next_seq = seq;
	}
	if (s->len)
		half_data(t, f, dir, seq, s->payload, s->len, s->ts_ms);
	if (s->flags & TH_FIN) {
		h->fin_seen = 1;
		h->fin_seq = seq + (uint32_t)s->len;
	}
	for (int d = 0; d < 2; d++) {
		half *x = &f->h[d];
		if (x->fin_seen && !x->done && (int32_t)(x->next_seq - x->fin_seq) >= 0)
			x->done = 1;
	}
	if (f->h[0].done && f->h[1].done)
		flow_free(t, f, s->ts_ms);
}

void ddi_tcp_expire(ddi_tcp *t, int64_t now_ms)
{
	while (t->lru_head && t->lru_head->last_ts + t->lim.flow_timeout_ms < now_ms) {
		t->stats.flows_timed_out++;
		flow_free(t, t->lru_head, now_ms);
	}
}

void ddi_tcp_flush(ddi_tcp *t, int64_t now_ms)
{
	while (t->lru_head)
		flow_free(t, t->lru_head, now_ms);
}

void ddi_tcp_get_stats(const ddi_tcp *t, ddi_tcp_stats *out)
{
	*out = t->stats;
}

void ddi_tcp_free(ddi_tcp *t)
{
	if (!t)
		return;
	ddi_tcp_flush(t, 0);
	free(t->buckets);
	free(t);
}
