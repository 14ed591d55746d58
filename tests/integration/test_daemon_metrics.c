/* test_daemon_metrics.c - GET /metrics, /livez and /readyz over real daemons. The
 * metrics text is read by the Prometheus client library's own parser
 * (python3-prometheus-client) and the test asserts the values after known
 * traffic: three mails through IMSVA are three SMTP sessions, twelve 250
 * replies and three messages; two API calls are two requests in the route's
 * counter and histogram. Every daemon's /metrics parses. /livez is 200 while
 * /readyz says 503 until the peers a daemon calls are configured. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

#define SECRET "Metrics-Test-Secret-1"

TL_SUITE(.timeout = 180);

/* Every sample as {"name{label=\"v\",...}": value}, labels sorted. */
static const char parse_py[] =
	"import json, sys\n"
	"from prometheus_client.parser import text_string_to_metric_families\n"
	"out = {}\n"
	"for fam in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
	"    for s in fam.samples:\n"
	"        labels = ','.join('%s=\"%s\"' % kv for kv in sorted(s.labels.items()))\n"
	"        out[s.name + ('{' + labels + '}' if labels else '')] = s.value\n"
	"print(json.dumps(out))\n";

/* GET /metrics (asserting its content type) through the Prometheus parser. */
static json_t *scrape(const tl_daemon *d)
{
	char *url = xasprintf("%s/metrics", d->url);
	http_response r = {0};
	ck_assert_int_eq(tl_http("GET", url, NULL, NULL, &r), 200);
	const char *ctype = http_response_header(&r, "Content-Type");
	ck_assert_ptr_nonnull(ctype);
	ck_assert_ptr_nonnull(strstr(ctype, "version=0.0.4"));
	char *path = xasprintf("%s/metrics.txt", d->home);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(r.body.data, 1, r.body.len, f);
	fclose(f);
	const char *argv[] = {"/usr/bin/python3", "-c", parse_py, path, NULL};
	char *out = NULL;
	int rc = tl_run(argv, &out);
	ck_assert_msg(rc == 0, "the Prometheus parser refused %s:\n%s", url, out);
	json_t *samples = json_loads(out, 0, NULL);
	ck_assert_msg(samples != NULL, "parser output: %s", out);
	free(out);
	free(path);
	http_response_free(&r);
	free(url);
	return samples;
}

static double sample(json_t *samples, const char *key)
{
	json_t *v = json_object_get(samples, key);
	ck_assert_msg(v != NULL, "no sample %s", key);
	return json_number_value(v);
}

static int smtp_port(json_t *ready)
{
	const char *url = tl_listener(ready, "smtp");
	ck_assert_ptr_nonnull(url);
	return atoi(strrchr(url, ':') + 1);
}

/* A session token of IMSVA's admin API, as an Authorization header. */
static char *imsva_login(const tl_daemon *d)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	json_t *j = tl_api(d->url, "POST", "/api/login", h,
			   "{\"username\":\"admin\",\"password\":\"" SECRET "\"}", 200);
	char *auth = xasprintf("Authorization: Bearer %s",
			       json_string_value(json_object_get(j, "token")));
	json_decref(j);
	return auth;
}

TEST(test_imsva_counts_known_traffic)
{
	tl_daemon m;
	const char *args[] = {"--port", "0", "--smtp_port", "0", "--tls", "no", "--admin_password",
			      SECRET, NULL};
	tl_daemon_start(&m, "imsvad", "imsva", args);
	const char *rcpts[] = {"user@lab.test", NULL};
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(tl_smtp_send("127.0.0.1", smtp_port(m.ready), "a@lab.test", rcpts,
					      "Subject: metrics\r\n\r\nhello\r\n"),
				 250);
	char *auth = imsva_login(&m);
	const char *h[] = {auth, NULL};
	json_decref(tl_api(m.url, "GET", "/api/status", h, NULL, 200));
	json_decref(tl_api(m.url, "GET", "/api/status", h, NULL, 200));

	json_t *s = scrape(&m);
	ck_assert_int_eq((int)sample(s, "ctdlab_smtp_sessions_total"), 3);
	/* per session: EHLO, MAIL, RCPT and the queued message */
	ck_assert_int_eq((int)sample(s, "ctdlab_smtp_replies_total{code=\"250\"}"), 12);
	ck_assert_int_eq((int)sample(s, "ctdlab_smtp_replies_total{code=\"354\"}"), 3);
	ck_assert_int_eq((int)sample(s, "ctdlab_smtp_replies_total{code=\"221\"}"), 3);
	ck_assert_int_eq((int)sample(s, "ctdlab_http_requests_total{method=\"GET\","
					"route=\"/api/status\",status=\"200\"}"),
			 2);
	ck_assert_int_eq((int)sample(s, "ctdlab_http_request_duration_seconds_count{"
					"route=\"/api/status\"}"),
			 2);
	ck_assert_int_eq((int)sample(s, "ctdlab_http_request_duration_seconds_bucket{le=\"+Inf\","
					"route=\"/api/status\"}"),
			 2);
	/* three messages, whatever state each has reached */
	double messages = 0;
	const char *key;
	json_t *v;
	json_object_foreach(s, key, v)
		if (strncmp(key, "ctdlab_imsva_messages{", 22) == 0)
			messages += json_number_value(v);
	ck_assert_int_eq((int)messages, 3);
	ck_assert_int_eq((int)sample(s, "ctdlab_info{appliance=\"imsva\",version=\"0.1.0\"}"), 1);
	ck_assert(sample(s, "ctdlab_store_busy_retries_total") >= 0);
	ck_assert(sample(s, "ctdlab_queue_depth{queue=\"intake\"}") >= 0);
	json_decref(s);
	free(auth);
	tl_daemon_stop(&m);
}

static long get_status(const char *base, const char *path, json_t **body)
{
	char *url = xasprintf("%s%s", base, path);
	long status;
	*body = tl_http_json("GET", url, NULL, NULL, &status);
	free(url);
	return status;
}

TEST(test_livez_and_readyz)
{
	tl_daemon alone, wired;
	const char *a1[] = {"--port", "0", "--smtp_port", "0", "--tls", "no", NULL};
	tl_daemon_start(&alone, "imsvad", "imsva", a1);
	json_t *b;
	ck_assert_int_eq(get_status(alone.url, "/livez", &b), 200);
	ck_assert_str_eq(json_string_value(json_object_get(b, "status")), "alive");
	json_decref(b);
	/* IMSVA calls DDAN, TMCM and SPS: not ready while they are not configured */
	ck_assert_int_eq(get_status(alone.url, "/readyz", &b), 503);
	ck_assert(json_is_false(json_object_get(b, "ready")));
	ck_assert_str_eq(json_string_value(json_object_get(b, "store")), "ok");
	ck_assert_str_eq(json_string_value(json_object_get(b, "listeners")), "up");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "peers"), "tmcm")),
			 "not configured");
	json_decref(b);
	tl_daemon_stop(&alone);

	const char *a2[] = {"--port", "0", "--smtp_port", "0", "--tls", "no", "--ddan_url",
			    "https://127.0.0.1:9", "--tmcm_url", "https://127.0.0.1:9", "--sps_url",
			    "http://127.0.0.1:9", NULL};
	tl_daemon_start(&wired, "imsvad", "imsva", a2);
	ck_assert_int_eq(get_status(wired.url, "/readyz", &b), 200);
	ck_assert(json_is_true(json_object_get(b, "ready")));
	json_decref(b);
	tl_daemon_stop(&wired);
}

TEST(test_every_daemon_serves_metrics)
{
	static const struct {
		const char *daemon, *name;
		const char *args[8];
	} all[] = {
		{"ddand", "ddan", {"--port", "0", NULL}},
		{"ddid", "ddi", {"--port", "0", "--interface", "ddi-none0", "--download_port", "0", NULL}},
		{"tmcmd", "tmcm", {"--port", "0", NULL}},
		{"spsd", "sps", {"--port", "0", "--wrs_port", "0", NULL}},
		{"imsvad", "imsva", {"--port", "0", "--smtp_port", "0", NULL}},
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		tl_daemon d;
		tl_daemon_start(&d, all[i].daemon, all[i].name, all[i].args);
		json_t *b;
		ck_assert_int_eq(get_status(d.url, "/livez", &b), 200);
		json_decref(b);
		json_t *s = scrape(&d);
		char *info = xasprintf("ctdlab_info{appliance=\"%s\",version=\"0.1.0\"}", all[i].name);
		ck_assert_int_eq((int)sample(s, info), 1);
		/* the /livez just answered is counted */
		ck_assert_int_eq((int)sample(s, "ctdlab_http_requests_total{method=\"GET\","
						"route=\"/livez\",status=\"200\"}"),
				 1);
		free(info);
		json_decref(s);
		tl_daemon_stop(&d);
	}
}
