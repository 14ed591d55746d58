/* test_metrics.c - the metrics registry (common/metrics.c): counters by
 * label, gauges set and cleared, cumulative histogram buckets with sum and
 * count, label values escaped, scrape hooks, sync lag; and the whole text
 * accepted by the Prometheus client's own parser. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "testlib.h"
#include "util.h"

static void setup(void)
{
	metrics_reset();
}

TL_SUITE(.setup = setup);

static const metric_def requests = {"t_requests_total", "requests", METRIC_COUNTER,
				    {"route", "status"}};
static const metric_def plain = {"t_plain_total", "no labels", METRIC_COUNTER};
static const metric_def depth = {"t_depth", "queue depth", METRIC_GAUGE, {"queue"}};
static const double bounds[] = {0.1, 1, 10};
static const metric_def latency = {"t_seconds", "latency", METRIC_HISTOGRAM, {"route"}, bounds, 3};

static char *render(void)
{
	sbuf out = {0};
	metrics_render(&out);
	return sbuf_detach(&out);
}

static void has(const char *text, const char *line)
{
	ck_assert_msg(strstr(text, line) != NULL, "missing \"%s\" in:\n%s", line, text);
}

TEST(test_counters_by_label)
{
	METRIC_INC(requests, "/a", "200");
	METRIC_INC(requests, "/a", "200");
	METRIC_INC(requests, "/b", "404");
	metric_register(&plain);
	char *t = render();
	has(t, "# TYPE t_requests_total counter\n");
	has(t, "t_requests_total{route=\"/a\",status=\"200\"} 2\n");
	has(t, "t_requests_total{route=\"/b\",status=\"404\"} 1\n");
	has(t, "t_plain_total 0\n");
	free(t);
}

TEST(test_gauges_set_and_cleared)
{
	metric_set(&depth, 7, METRIC_LABELS("va"));
	metric_set(&depth, 3, METRIC_LABELS("va"));
	char *t = render();
	has(t, "t_depth{queue=\"va\"} 3\n");
	free(t);
	metric_clear(&depth);
	t = render();
	ck_assert_ptr_null(strstr(t, "queue=\"va\""));
	free(t);
}

TEST(test_histogram_cumulative)
{
	metric_observe(&latency, 0.05, METRIC_LABELS("/a"));
	metric_observe(&latency, 0.5, METRIC_LABELS("/a"));
	metric_observe(&latency, 50, METRIC_LABELS("/a"));
	char *t = render();
	has(t, "t_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n");
	has(t, "t_seconds_bucket{route=\"/a\",le=\"1\"} 2\n");
	has(t, "t_seconds_bucket{route=\"/a\",le=\"10\"} 2\n");
	has(t, "t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n");
	has(t, "t_seconds_sum{route=\"/a\"} 50.55\n");
	has(t, "t_seconds_count{route=\"/a\"} 3\n");
	free(t);
}

TEST(test_label_values_escaped)
{
	METRIC_INC(requests, "a\"b\\c\nd", "200");
	char *t = render();
	has(t, "route=\"a\\\"b\\\\c\\nd\"");
	free(t);
}

static void hook(void *cls)
{
	metric_set(&depth, *(int *)cls, METRIC_LABELS("hooked"));
}

TEST(test_scrape_hook_and_sync_lag)
{
	static int n = 5;
	metrics_on_scrape(hook, &n);
	metrics_sync_result("tmcm", 1);
	metrics_sync_result("tmcm", 0);
	char *t = render();
	has(t, "t_depth{queue=\"hooked\"} 5\n");
	has(t, "ctdlab_sync_runs_total{peer=\"tmcm\",result=\"ok\"} 1\n");
	has(t, "ctdlab_sync_runs_total{peer=\"tmcm\",result=\"failed\"} 1\n");
	has(t, "ctdlab_sync_lag_seconds{peer=\"tmcm\"} ");
	free(t);
}

/* The Prometheus client library's parser reads every sample back. */
TEST(test_prometheus_parser_accepts)
{
	METRIC_INC(requests, "/a\"q", "200");
	metric_observe(&latency, 0.5, METRIC_LABELS("/a"));
	metric_set(&depth, 2.5, METRIC_LABELS("va"));
	metric_register(&plain);
	char *t = render();
	char *dir = tl_tmpdir("metrics");
	char *path = xasprintf("%s/metrics.txt", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(t, f);
	fclose(f);
	const char *argv[] = {"/usr/bin/python3", "-c",
			      "import sys\n"
			      "from prometheus_client.parser import text_string_to_metric_families\n"
			      "n = sum(len(f.samples) for f in "
			      "text_string_to_metric_families(open(sys.argv[1]).read()))\n"
			      "print(n)\n",
			      path, NULL};
	char *out = NULL;
	ck_assert_int_eq(tl_run(argv, &out), 0);
	/* 1 counter + 6 histogram samples (4 buckets, sum, count) + 1 gauge + 1 plain */
	ck_assert_int_eq(atoi(out), 9);
	free(out);
	free(t);
	free(path);
	tl_rmrf(dir);
	free(dir);
}
