/* test_sofeed.c - unit tests of common/sofeed.c: the SO feed XML written and
 * read back (escaping, times, never-expire, removal, cursor and paging;
 * records XML cannot carry left out, bad records skipped), and a pull whose
 * pages mislead the fetch-ahead. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtas.h"
#include "http_server.h"
#include "sofeed.h"
#include "util.h"
#include "testlib.h"

typedef struct collected {
	int n;
	so_record rec[4];
	char *values[4], *sources[4];
} collected;

static int collect(const so_record *r, void *cls)
{
	collected *c = cls;
	if (c->n >= 4)
		return -1;
	c->rec[c->n] = *r;
	c->values[c->n] = xstrdup(r->value);
	c->sources[c->n] = xstrdup(r->source);
	c->n++;
	return 0;
}

static void collected_free(collected *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->values[i]);
		free(c->sources[i]);
	}
}

TEST(round_trip)
{
	so_record a = {.id = 7, .type = "URL", .value = "http://evil.ctdlab.test/a?x=1&y=<2>",
		       .risk = "High", .source = "DDAN", .first_seen_ms = 1700000000123LL,
		       .last_seen_ms = 1700000005456LL, .expires_ms = 1702592000123LL,
		       .related_sha1 = "3395856CE81F2B7382DEE72602F798B642F14140"};
	so_record b = {.id = 9, .type = "FILE", .value = "3395856CE81F2B7382DEE72602F798B642F14140",
		       .risk = "High", .source = "TMCM", .first_seen_ms = 1700000000000LL,
		       .last_seen_ms = 1700000000000LL, .expires_ms = 0, .action = "block",
		       .removed = 1};
	sbuf x = {0};
	sofeed_xml_begin(&x);
	sofeed_xml_add(&x, &a);
	sofeed_xml_add(&x, &b);
	sofeed_xml_end(&x, 9, 1);
	ck_assert_ptr_nonnull(strstr(x.data, "<BLACK_LISTS"));
	ck_assert_ptr_nonnull(strstr(x.data, "&amp;y=&lt;2&gt;"));
	ck_assert_ptr_nonnull(strstr(x.data, "<EXPIRATION ms=\"0\">Never</EXPIRATION>"));

	collected c = {0};
	int64_t last = 0;
	int more = 0;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(x.data, x.len, collect, &c, &last, &more, &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(last, 9);
	ck_assert_int_eq(more, 1);
	ck_assert_int_eq(c.rec[0].id, 7);
	ck_assert_str_eq(c.rec[0].type, "URL");
	ck_assert_str_eq(c.values[0], a.value);
	ck_assert_str_eq(c.rec[0].risk, "High");
	ck_assert_str_eq(c.sources[0], "DDAN");
	ck_assert_int_eq(c.rec[0].first_seen_ms, a.first_seen_ms);
	ck_assert_int_eq(c.rec[0].last_seen_ms, a.last_seen_ms);
	ck_assert_int_eq(c.rec[0].expires_ms, a.expires_ms);
	ck_assert_str_eq(c.rec[0].related_sha1, a.related_sha1);
	ck_assert_str_eq(c.rec[0].action, "");
	ck_assert_int_eq(c.rec[0].removed, 0);
	ck_assert_str_eq(c.rec[1].type, "FILE");
	ck_assert_int_eq(c.rec[1].expires_ms, 0);
	ck_assert_str_eq(c.rec[1].action, "block");
	ck_assert_int_eq(c.rec[1].removed, 1);
	collected_free(&c);
	sbuf_free(&x);
}

TEST(empty_page_keeps_cursor)
{
	sbuf x = {0};
	sofeed_xml_begin(&x);
	sofeed_xml_end(&x, 42, 0);
	collected c = {0};
	int64_t last = 42;
	int more = 1;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(x.data, x.len, collect, &c, &last, &more, &err), 0);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(last, 42);
	ck_assert_int_eq(more, 0);
	sbuf_free(&x);
}

TEST(iso_times_without_ms_attribute)
{
	const char *xml = "<BLACK_LISTS><REPORT><ID>3</ID><TYPE>IP</TYPE><VALUE>10.0.0.9</VALUE>"
			  "<RISK_LEVEL>Medium</RISK_LEVEL><FIRST_SEEN>2023-11-14T22:13:20Z</FIRST_SEEN>"
			  "<EXPIRATION>Never</EXPIRATION><EXTRA>ignored</EXTRA></REPORT></BLACK_LISTS>";
	collected c = {0};
	int64_t last = 0;
	int more = 0;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(xml, strlen(xml), collect, &c, &last, &more, &err), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(last, 3);
	ck_assert_int_eq(c.rec[0].first_seen_ms, 1700000000000LL);
	ck_assert_int_eq(c.rec[0].expires_ms, 0);
	ck_assert_str_eq(c.sources[0], "");
	collected_free(&c);
}

TEST(nested_reports_of_so_by_sha1)
{
	const char *xml = "<Return><SHA1>AB</SHA1><REPORTS><REPORT><ID>4</ID><TYPE>DOMAIN</TYPE>"
			  "<VALUE>bad.example</VALUE></REPORT><REPORT><ID>5</ID><TYPE>FILE</TYPE>"
			  "<VALUE>3395856ce81f2b7382dee72602f798b642f14140</VALUE></REPORT></REPORTS>"
			  "</Return>";
	collected c = {0};
	int64_t last = 0;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(xml, strlen(xml), collect, &c, &last, NULL, &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.values[0], "bad.example");
	ck_assert_int_eq(last, 5);
	collected_free(&c);
}

static int abort_cb(const so_record *r, void *cls)
{
	(void)r, (void)cls;
	return -1;
}

TEST(bad_input_and_abort)
{
	ctd_err err;
	int64_t last = 0;
	int more = 0;
	ck_assert_int_eq(sofeed_parse("<BLACK_LISTS><REPORT>", 21, NULL, NULL, &last, &more, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_int_eq(sofeed_parse("", 0, NULL, NULL, &last, &more, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL); /* an empty body is no document */
	ck_assert_int_eq(sofeed_parse("<BLACK_LISTS/>junk", 18, NULL, NULL, &last, &more, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL); /* nor one with text after it */
	const char *xml = "<BLACK_LISTS><REPORT><ID>1</ID><TYPE>IP</TYPE><VALUE>10.0.0.1</VALUE>"
			  "</REPORT></BLACK_LISTS>";
	ck_assert_int_eq(sofeed_parse(xml, strlen(xml), abort_cb, NULL, &last, &more, &err), -1);
}

/* Issue 16: a record XML cannot carry (old data) is left out of the page,
 * which stays well-formed, and the cursor still passes it. */
TEST(writer_skips_what_xml_cannot_carry)
{
	so_record bad = {.id = 1, .type = "URL", .value = "http://evil.lab/\x01", .risk = "High",
			 .source = "UDSO"};
	so_record latin1 = {.id = 2, .type = "URL", .value = "http://evil.lab/r\xe9sum\xe9",
			    .risk = "High", .source = "DDI"};
	so_record good = {.id = 3, .type = "DOMAIN", .value = "evil.lab", .risk = "High",
			  .source = "UDSO"};
	sbuf x = {0};
	sofeed_xml_begin(&x);
	ck_assert_int_eq(sofeed_xml_add(&x, &bad), 0);
	ck_assert_int_eq(sofeed_xml_add(&x, &latin1), 0);
	ck_assert_int_eq(sofeed_xml_add(&x, &good), 1);
	sofeed_xml_end(&x, 3, 0);
	collected c = {0};
	int64_t last = 0;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(x.data, x.len, collect, &c, &last, NULL, &err), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_str_eq(c.values[0], "evil.lab");
	ck_assert_int_eq(last, 3);
	collected_free(&c);
	sbuf_free(&x);
}

/* Issue 16: a page from an older producer holding a raw U+0001 and a
 * reference to one still parses; the bad records are skipped, the others
 * arrive in canonical form and the cursor passes them all. */
TEST(reader_skips_bad_records_and_goes_on)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><BLACK_LISTS>"
			  "<REPORT><ID>1</ID><TYPE>URL</TYPE><VALUE>http://a.lab/\x01</VALUE></REPORT>"
			  "<REPORT><ID>2</ID><TYPE>DOMAIN</TYPE><VALUE>Good.LAB</VALUE></REPORT>"
			  "<REPORT><ID>3</ID><TYPE>URL</TYPE><VALUE>http://b.lab/&#1;</VALUE></REPORT>"
			  "<REPORT><ID>4</ID><TYPE>FILE</TYPE><VALUE>not-a-sha1</VALUE></REPORT>"
			  "<REPORT><ID>5</ID><TYPE>IP</TYPE><VALUE>10.0.0.5</VALUE></REPORT>"
			  "<LAST_QUERY_ID>5</LAST_QUERY_ID><HAS_MORE>1</HAS_MORE></BLACK_LISTS>";
	collected c = {0};
	int64_t last = 0;
	int more = 0;
	ctd_err err;
	ck_assert_int_eq(sofeed_parse(xml, strlen(xml), collect, &c, &last, &more, &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.values[0], "good.lab");
	ck_assert_str_eq(c.values[1], "10.0.0.5");
	ck_assert_int_eq(last, 5);
	ck_assert_int_eq(more, 1);
	collected_free(&c);
}

/* Pages of 2 records (IDs 1..5), each so short that all of it is the "end"
 * the fetch-ahead reads, and a comment in it names a wrong next cursor, 99
 * (even on the last page). The fetch-ahead starts from 99; the parse says 2,
 * 4, then no more: the pull fetches those and gets every record once. */
static int asked_99;

static void misleading_page(http_req *req, http_resp *resp)
{
	const char *c = http_req_header(req, "X-DTAS-LastQueryID");
	long long cursor = c ? atoll(c) : 0, last = cursor;
	if (cursor == 99)
		__atomic_add_fetch(&asked_99, 1, __ATOMIC_SEQ_CST);
	sbuf x = {0};
	sbuf_puts(&x, "<BLACK_LISTS><!-- <LAST_QUERY_ID>99</LAST_QUERY_ID><HAS_MORE>1</HAS_MORE> -->");
	for (long long id = cursor + 1; id <= 5 && id <= cursor + 2 && cursor != 99; id++) {
		sbuf_printf(&x, "<REPORT><ID>%lld</ID><TYPE>DOMAIN</TYPE><VALUE>d%lld.lab</VALUE>"
			    "</REPORT>", id, id);
		last = id;
	}
	sbuf_printf(&x, "<LAST_QUERY_ID>%lld</LAST_QUERY_ID><HAS_MORE>%d</HAS_MORE></BLACK_LISTS>",
		    last, last < 5 && cursor != 99);
	http_resp_bytes(resp, 200, "text/xml", x.data, x.len);
	sbuf_free(&x);
}

static const http_route misleading_routes[] = {
	{"GET", DTAS_PREFIX "get_black_lists", misleading_page, HTTP_PUBLIC},
};

static int sum_ids(const so_record *r, void *cls)
{
	long long *sum = cls;
	*sum += r->id;
	return 0;
}

TEST(pull_when_the_page_end_misleads_the_fetch_ahead)
{
	ctd_err err = {0};
	http_server_opts o = {.routes = misleading_routes, .nroutes = 1};
	http_server *srv = http_server_start(&o, &err);
	ck_assert_msg(srv != NULL, "%s", err.msg);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", http_server_port(srv));
	dtas_client c;
	dtas_client_init(&c, &(dtas_client_spec){.base_url = url, .api_key = "k",
		.client_uuid = "00000000-0000-4000-8000-000000000001", .product_name = "test",
		.source_id = "1", .source_name = "test"});
	int64_t cursor = 0;
	long long sum = 0;
	ck_assert_int_eq(sofeed_pull(&c, &cursor, sum_ids, &sum, &err), 5);
	ck_assert_int_eq(cursor, 5);
	ck_assert_int_eq(sum, 1 + 2 + 3 + 4 + 5);
	ck_assert_int_ge(__atomic_load_n(&asked_99, __ATOMIC_SEQ_CST), 1); /* it did fetch ahead */
	dtas_client_free(&c);
	http_server_stop(srv);
}
