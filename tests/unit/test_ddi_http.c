/* test_ddi_http.c - DDI HTTP/1.x carving: Content-Length, keep-alive and
 * pipelining, chunked, gzip and deflate, bodies without a length, names from
 * Content-Disposition, responses that carry no file, limits, garbage. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <gmime/gmime.h>
#include "util.h"
#include "ddi/ddi.h"
#include "testlib.h"

typedef struct carved {
	char *url, *host, *name;
	sbuf data;
	int truncated;
} carved;

static carved C[8];
static int nc;
static ddi_budget budget;
static ddi_limits lim;
static ddi_flow_info fi;

static void on_carve(const ddi_carved *f, void *cls)
{
	ck_assert_int_lt(nc, 8);
	carved *c = &C[nc++];
	c->url = xstrdup(f->url);
	c->host = xstrdup(f->host);
	c->name = xstrdup(f->file_name);
	sbuf_append(&c->data, f->data, f->len);
	c->truncated = f->truncated;
	ck_assert_str_eq(f->proto, "HTTP");
	ck_assert_str_eq(f->client_ip, "192.0.2.10");
	ck_assert_str_eq(f->server_ip, "198.51.100.7");
}

static void setup(void)
{
	g_mime_init();
	nc = 0;
	memset(C, 0, sizeof(C));
	budget = (ddi_budget){0, 1 << 20, 0};
	lim = (ddi_limits){.max_flows = 4, .flow_max_bytes = 4096, .max_file_size = 1 << 16,
			   .flow_timeout_ms = 1000};
	memset(&fi, 0, sizeof(fi));
	strcpy(fi.client_ip, "192.0.2.10");
	strcpy(fi.server_ip, "198.51.100.7");
	fi.client_port = 50123;
	fi.server_port = 80;
}

static void teardown(void)
{
	for (int i = 0; i < nc; i++) {
		free(C[i].url);
		free(C[i].host);
		free(C[i].name);
		sbuf_free(&C[i].data);
	}
	ck_assert_int_eq(budget.used, 0);
}

static ddi_http *parser(void)
{
	ddi_parser_env env = {&fi, &lim, &budget, on_carve, NULL};
	return ddi_http_new(&env);
}

static int feed(ddi_http *h, int dir, const void *d, size_t n)
{
	return ddi_http_data(h, dir, d, n, 1);
}
static int feeds(ddi_http *h, int dir, const char *s)
{
	return feed(h, dir, s, strlen(s));
}
/* Byte by byte: every state must survive any split. */
static void feed_bytewise(ddi_http *h, int dir, const void *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed(h, dir, (const char *)d + i, 1);
}

static size_t compress_buf(int gzip, int raw, const char *in, unsigned char *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	int wbits = gzip ? 16 + MAX_WBITS : raw ? -MAX_WBITS : MAX_WBITS;
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

TEST(test_content_length)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /files/sample_so2.exe?x=1 HTTP/1.1\r\nHost: Dl.Example.TEST:8080\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	ck_assert_int_eq(nc, 1);
	ck_assert_str_eq(C[0].url, "http://Dl.Example.TEST:8080/files/sample_so2.exe?x=1");
	ck_assert_str_eq(C[0].host, "dl.example.test");
	ck_assert_str_eq(C[0].name, "sample_so2.exe");
	ck_assert_str_eq(C[0].data.data, "hello");
	ck_assert_int_eq(C[0].truncated, 0);
	ddi_http_free(h);
}

TEST(test_keepalive_pipelined)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\n"
				"HEAD /b.txt HTTP/1.1\r\nHost: h\r\n\r\n"
				"GET /c.txt HTTP/1.1\r\nHost: h\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 100 Continue\r\n\r\n"
				"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAAA"
				"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"
				"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nCCC");
	ck_assert_int_eq(nc, 2);
	ck_assert_str_eq(C[0].url, "http://h/a.txt");
	ck_assert_str_eq(C[0].data.data, "AAA");
	ck_assert_str_eq(C[1].url, "http://h/c.txt");
	ck_assert_str_eq(C[1].data.data, "CCC");
	ddi_http_free(h);
}

TEST(test_chunked_bytewise)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /dl HTTP/1.1\r\nHost: h\r\n\r\n");
	const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			   "Content-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n"
			   "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
			   "X-Trailer: yes\r\n\r\n";
	feed_bytewise(h, DDI_TO_CLIENT, resp, strlen(resp));
	ck_assert_int_eq(nc, 1);
	ck_assert_str_eq(C[0].data.data, "Wikipedia in\r\n\r\nchunks.");
	ck_assert_str_eq(C[0].name, "report.pdf");
	ddi_http_free(h);
}

TEST(test_gzip_and_deflate)
{
	const char *plain = "CTDLAB sample body, compressed on the wire";
	unsigned char z[512];
	const struct {
		int gzip, raw;
		const char *enc;
	} cases[] = {{1, 0, "gzip"}, {0, 0, "deflate"}, {0, 1, "deflate"}};
	for (int i = 0; i < 3; i++) {
		ddi_http *h = parser();
		size_t zn = compress_buf(cases[i].gzip, cases[i].raw, plain, z, sizeof(z));
		feeds(h, DDI_TO_SERVER, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n");
		char *head = xasprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				       "Content-Length: %zu\r\n\r\n", cases[i].enc, zn);
		feeds(h, DDI_TO_CLIENT, head);
		feed_bytewise(h, DDI_TO_CLIENT, z, zn);
		free(head);
		ddi_http_free(h);
	}
	ck_assert_int_eq(nc, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(C[i].data.data, plain);
		ck_assert_int_eq(C[i].truncated, 0);
	}
}

TEST(test_chunked_gzip)
{
	const char *plain = "chunked and gzipped";
	unsigned char z[256];
	size_t zn = compress_buf(1, 0, plain, z, sizeof(z));
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /cz HTTP/1.1\r\nHost: h\r\n\r\n");
	char *head = xasprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			       "Content-Encoding: gzip\r\n\r\n%zx\r\n", zn / 2);
	feeds(h, DDI_TO_CLIENT, head);
	feed(h, DDI_TO_CLIENT, z, zn / 2);
	char *mid = xasprintf("\r\n%zx\r\n", zn - zn / 2);
	feeds(h, DDI_TO_CLIENT, mid);
	feed(h, DDI_TO_CLIENT, z + zn / 2, zn - zn / 2);
	feeds(h, DDI_TO_CLIENT, "\r\n0\r\n\r\n");
	free(head);
	free(mid);
	ck_assert_int_eq(nc, 1);
	ck_assert_str_eq(C[0].data.data, plain);
	ddi_http_free(h);
}

TEST(test_body_until_close)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /old HTTP/1.0\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.0 200 OK\r\n\r\nno length here");
	ck_assert_int_eq(nc, 0);
	ddi_http_close(h, 2);
	ck_assert_int_eq(nc, 1);
	/* no Host header: the server address stands in */
	ck_assert_str_eq(C[0].url, "http://198.51.100.7/old");
	ck_assert_str_eq(C[0].data.data, "no length here");
	ddi_http_free(h);
}

TEST(test_no_file_responses)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /missing HTTP/1.1\r\nHost: h\r\n\r\n"
				"GET /same HTTP/1.1\r\nHost: h\r\n\r\n"
				"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
				"GET /none HTTP/1.1\r\nHost: h\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
				"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
				"HTTP/1.1 204 No Content\r\n\r\n");
	ck_assert_int_eq(nc, 1);
	ck_assert_str_eq(C[0].url, "http://h/up");
	ck_assert_str_eq(C[0].data.data, "ok");
	ddi_http_free(h);
}

TEST(test_size_limit_truncates)
{
	lim.max_file_size = 4;
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
	ck_assert_int_eq(nc, 1);
	ck_assert_int_eq(C[0].data.len, 4);
	ck_assert_int_eq(C[0].truncated, 1);
	ddi_http_free(h);
}

TEST(test_gap_inside_body)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /g HTTP/1.1\r\nHost: h\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
	ddi_http_gap(h, DDI_TO_CLIENT, 3);
	feeds(h, DDI_TO_CLIENT, "789HTTP/1.1 200 OK\r\n");
	ck_assert_int_eq(nc, 1);
	ck_assert_int_eq(C[0].truncated, 1);
	ck_assert_str_eq(C[0].data.data, "0123789");
	ddi_http_free(h);
}

TEST(test_garbage_gives_up)
{
	ddi_http *h = parser();
	ck_assert_int_eq(ddi_http_is_request((const unsigned char *)"GET / HTTP/1.1", 14), 1);
	ck_assert_int_eq(ddi_http_is_request((const unsigned char *)"\x16\x03\x01", 3), 0);
	feeds(h, DDI_TO_SERVER, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(feeds(h, DDI_TO_CLIENT, "SSH-2.0-OpenSSH\r\n"), 0);
	ck_assert_int_eq(feeds(h, DDI_TO_SERVER, "get lower case\r\n"), -1);
	ddi_http_free(h);

	/* endless header line, absurd chunk size, conflicting lengths */
	h = parser();
	char *big = xmalloc(20000);
	memset(big, 'a', 19999);
	big[19999] = '\0';
	feeds(h, DDI_TO_SERVER, "GET / HTTP/1.1\r\nX: ");
	feeds(h, DDI_TO_SERVER, big);
	free(big);
	ddi_http_free(h);
	h = parser();
	feeds(h, DDI_TO_SERVER, "GET / HTTP/1.1\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n");
	ddi_http_free(h);
	h = parser();
	feeds(h, DDI_TO_SERVER, "GET / HTTP/1.1\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
	ddi_http_free(h);
	ck_assert_int_eq(nc, 0);
}

TEST(test_corrupt_gzip_kept_raw)
{
	ddi_http *h = parser();
	feeds(h, DDI_TO_SERVER, "GET /bad.gz HTTP/1.1\r\nHost: h\r\n\r\n");
	feeds(h, DDI_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 6\r\n\r\nnotgz!");
	ck_assert_int_eq(nc, 1);
	ck_assert_int_eq(C[0].truncated, 1);
	ck_assert_str_eq(C[0].data.data, "notgz!");
	ddi_http_free(h);
}

TL_SUITE(.setup = setup, .teardown = teardown);
