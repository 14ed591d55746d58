/* so_bench.c - the measuring half of tests/bench/bench_so.sh:
 *   so_bench feed URL KEY PRODUCT
 *       pull a whole get_black_lists feed (every page, signed as a product
 *       does) and print "records bytes ms": what serving the feed costs, the
 *       consumer's parse left out (the sync figures hold that)
 *   so_bench lookup LAB_DB ROUNDS
 *       time the per-message SO lookups against a lab's synchronised lists:
 *       IMSVA's attachment SHA-1 lookup (imsva_so_lookup) and SPS's URL
 *       lookup of a WRS query (sps_so_match_url), each half hits, half
 *       misses; print "imsva_ns sps_ns" per lookup (best of ROUNDS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dtas.h"
#include "imsva/imsva_app.h"
#include "sps/sps.h"
#include "store.h"
#include "util.h"

#define LOOKUPS 100000

static long long tail_number(const sbuf *body, const char *tag)
{
	size_t from = body->len > 256 ? body->len - 256 : 0;
	const char *p = memmem(body->data + from, body->len - from, tag, strlen(tag));
	return p ? strtoll(p + strlen(tag), NULL, 10) : -1;
}

static long count_records(const sbuf *body)
{
	long n = 0;
	const char *p = body->data, *end = body->data + body->len;
	while ((p = memmem(p, (size_t)(end - p), "<REPORT>", 8)) != NULL) {
		n++;
		p += 8;
	}
	return n;
}

static int feed(const char *url, const char *key, const char *product)
{
	dtas_client c;
	dtas_client_init(&c, &(dtas_client_spec){.base_url = url, .api_key = key,
		.client_uuid = "00000000-0000-4000-8000-00000000b5e0", .product_name = product,
		.source_id = "1", .source_name = "so_bench",
		.http = {.timeout_ms = 60000}});
	long long cursor = 0, records = 0, bytes = 0;
	int64_t start = time_mono_ms();
	for (;;) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "X-DTAS-LastQueryID: %lld", cursor);
		const char *extra[] = {hdr, NULL};
		http_response r = {0};
		ctd_err err = {0};
		if (dtas_call(&c, "GET", "get_black_lists", extra, NULL, 0, NULL, 0, &r, &err) < 0 ||
		    r.status != 200 || !r.body.data) {
			fprintf(stderr, "so_bench: get_black_lists: HTTP %ld %s\n", r.status, err.msg);
			http_response_free(&r);
			return 1;
		}
		long long last = tail_number(&r.body, "<LAST_QUERY_ID>");
		int more = tail_number(&r.body, "<HAS_MORE>") == 1;
		records += count_records(&r.body);
		bytes += (long long)r.body.len;
		http_response_free(&r);
		if (!more || last <= cursor)
			break;
		cursor = last;
	}
	printf("%lld %lld %lld\n", records, bytes, (long long)(time_mono_ms() - start));
	dtas_client_free(&c);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *sha1_miss(int i)
{
	return xasprintf("F%039X", i); /* the seeded SHA-1s start with zeros */
}

static char *url_miss(int i)
{
	return xasprintf("http://miss%d.example.net/x", i);
}

/* LOOKUPS queries alternating a hit (a value the query selects; cycled when
 * the list is shorter) and a miss. */
static char **queries(store *st, const char *sql, char *(*miss)(int))
{
	char **q = xcalloc(LOOKUPS, sizeof *q);
	int hits = 0;
	sqlite3_stmt *s = store_stmt(st, sql, NULL);
	sqlite3_bind_int(s, 1, LOOKUPS / 2);
	while (s && sqlite3_step(s) == SQLITE_ROW)
		q[2 * hits++] = xstrdup((const char *)sqlite3_column_text(s, 0));
	if (s)
		sqlite3_reset(s);
	for (int i = 0; i < LOOKUPS; i++)
		if (i % 2)
			q[i] = miss(i);
		else if (!q[i])
			q[i] = xstrdup(hits ? q[i % (2 * hits)] : "");
	return q;
}

static void queries_free(char **q)
{
	for (int i = 0; i < LOOKUPS; i++)
		free(q[i]);
	free(q);
}

/* ns per lookup of one round of each */
static int64_t imsva_round(store *st, char **sha1)
{
	int64_t t = now_ns();
	for (int i = 0; i < LOOKUPS; i++)
		imsva_so_lookup(st, "FILE", sha1[i]);
	return (now_ns() - t) / LOOKUPS;
}

static int64_t sps_round(char **urls)
{
	int64_t t = now_ns();
	for (int i = 0; i < LOOKUPS; i++) {
		sps_url u;
		sps_so_hit hit;
		if (sps_url_parse(urls[i], &u, NULL) == 0) {
			sps_so_match_url(&u, &hit, NULL);
			sps_url_free(&u);
		}
	}
	return (now_ns() - t) / LOOKUPS;
}

static int lookup(const char *db, int rounds)
{
	ctd_err err = {0};
	store_set_path(db);
	store *st = store_get(&err);
	if (!st) {
		fprintf(stderr, "so_bench: %s\n", err.msg);
		return 1;
	}
	/* hits spread over the table (hkey order is hash order) */
	char **sha1 = queries(st, "SELECT value FROM imsva_so WHERE type = 'FILE'"
				  " ORDER BY hkey LIMIT ?1", sha1_miss);
	char **urls = queries(st, "SELECT raw_value FROM sps_objects WHERE type = 'URL'"
				  " ORDER BY (id * 2654435761) % 4294967296 LIMIT ?1", url_miss);
	int64_t best_imsva = INT64_MAX, best_sps = INT64_MAX;
	for (int r = 0; r < rounds; r++) {
		int64_t a = imsva_round(st, sha1), b = sps_round(urls);
		best_imsva = a < best_imsva ? a : best_imsva;
		best_sps = b < best_sps ? b : best_sps;
	}
	printf("%lld %lld\n", (long long)best_imsva, (long long)best_sps);
	queries_free(sha1);
	queries_free(urls);
	store_close_thread();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "feed") == 0)
		return feed(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "lookup") == 0)
		return lookup(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: so_bench feed URL KEY PRODUCT | so_bench lookup LAB_DB ROUNDS\n");
	return 2;
}
