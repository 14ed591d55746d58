/* test_faults.c - faults on demand over real daemons: a rule set through a
 * daemon's /api/lab/faults makes the named call fail as configured and then
 * stops (DDAN get_report 503 twice, TMCM UDSO add 500 with a malformed body,
 * a reset connection the client sees, an SPS WRS query once); IMSVA rules
 * from the config file and a rules file are active at start (421 at the
 * greeting, RCPT 451, the end of a message 554, a delayed MAIL reply);
 * `ctdlab fault add|list|clear` round trip; every fault injected is on the
 * events timeline; bad rules and strangers are refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddan_testkit.h"
#include "store.h"
#include "testlib.h"
#include "tl_dtas.h"
#include "util.h"

#define SECRET "Fault-Test-Secret-1"

TL_SUITE(.timeout = 120);

/* The fault.injected events of appliance in the lab's store. */
static size_t timeline_faults(const char *home, const char *appliance)
{
	char *path = xasprintf("%s/lab.db", home);
	store *st = NULL;
	ctd_err err = {0};
	ck_assert_msg(store_open(path, &st, &err) == 0, "%s", err.msg);
	events_filter f = {.appliance = appliance, .kind = "fault.injected"};
	json_t *events = events_query(st, &f, &err);
	ck_assert_ptr_nonnull(events);
	size_t n = json_array_size(events);
	json_decref(events);
	store_close(st);
	free(path);
	return n;
}

static long get_report(const dtas_client *c)
{
	const char *extra[] = {"X-DTAS-SHA1: 0123456789ABCDEF0123456789ABCDEF01234567",
			       "X-DTAS-ReportType: 0", NULL};
	http_response r = {0};
	ctd_err err = {0};
	ck_assert_msg(dtas_call(c, "GET", "get_report", extra, NULL, 0, NULL, 0, &r, &err) == 0,
		      "%s", err.msg);
	long status = r.status;
	http_response_free(&r);
	return status;
}

TEST(test_ddan_get_report_503_twice_then_stops)
{
	tk_daemon dd;
	tk_start(&dd, "faults", NULL);
	dtas_client c;
	tl_dtas_client(&c, dd.url, dd.key);
	char *auth = xasprintf("Authorization: Bearer %s", dd.key);
	const char *dh[] = {auth, "Content-Type: application/json", NULL};
	long normal = get_report(&c);
	ck_assert_int_ne(normal, 503);

	json_t *j = tl_api(dd.url, "POST", "/api/lab/faults", dh,
			   "{\"match\":\"*/get_report\",\"status\":503,\"count\":2}", 201);
	json_t *rule = json_array_get(json_object_get(j, "added"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(rule, "count")), 2);
	json_decref(j);

	ck_assert_int_eq(get_report(&c), 503);
	ck_assert_int_eq(get_report(&c), 503);
	ck_assert_int_eq(get_report(&c), normal);
	j = tl_api(dd.url, "GET", "/api/lab/faults", dh, NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "faults")), 0);
	json_decref(j);
	ck_assert_int_eq(timeline_faults(dd.home, "ddan"), 2);

	dtas_client_free(&c);
	free(auth);
	tk_stop(&dd);
}

/* TMCM's console API, as scripts call it: the password as X-Api-Key. */
static const char *const h[] = {"X-Api-Key: " SECRET, "Content-Type: application/json", NULL};

static void start_tmcm(tl_daemon *t)
{
	const char *args[] = {"--port", "0", "--console_password", SECRET, NULL};
	tl_daemon_start(t, "tmcmd", "tmcm", args);
}

TEST(test_tmcm_udso_add_500_malformed_and_reset)
{
	tl_daemon t;
	start_tmcm(&t);
	json_decref(tl_api(t.url, "POST", "/api/lab/faults", h,
			   "[{\"match\":\"/api/udso\",\"method\":\"POST\",\"status\":500,"
			   "\"action\":\"malformed\",\"count\":1},"
			   "{\"match\":\"/api/status\",\"action\":\"reset\",\"count\":1}]",
			   201));
	const char *udso = "{\"type\":\"url\",\"content\":\"http://fault.lab.test/\","
			   "\"scan_action\":\"block\"}";
	char *add = xasprintf("%s/api/udso", t.url);
	http_response r = {0};
	ck_assert_int_eq(tl_http("POST", add, h, udso, &r), 500);
	ck_assert_ptr_null(json_loadb(r.body.data, r.body.len, 0, NULL)); /* malformed */
	http_response_free(&r);
	long again = tl_http("POST", add, h, udso, &r);
	ck_assert_int_ne(again, 500);
	json_t *j = json_loadb(r.body.data, r.body.len, 0, NULL);
	ck_assert_ptr_nonnull(j); /* the real answer again */
	json_decref(j);
	http_response_free(&r);

	/* a reset: the client gets no answer at all, then the next call is served */
	char *status = xasprintf("%s/api/status", t.url);
	ck_assert_int_eq(tl_http("GET", status, h, NULL, &r), -1);
	ck_assert_int_eq(tl_http("GET", status, h, NULL, &r), 200);
	http_response_free(&r);
	ck_assert_int_eq(timeline_faults(t.home, "tmcm"), 2);

	free(status);
	free(add);
	tl_daemon_stop(&t);
}

TEST(test_rules_refused_when_bad_or_anonymous)
{
	tl_daemon t;
	start_tmcm(&t);
	const char *anon[] = {"Content-Type: application/json", NULL};
	json_t *j = tl_api(t.url, "POST", "/api/lab/faults", h, "{\"match\":\"*\",\"status\":42}",
			   400);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
					     json_object_get(j, "error"), "message")),
				     "status"));
	json_decref(j);
	/* a batch with one bad rule adds none */
	json_decref(tl_api(t.url, "POST", "/api/lab/faults", h,
			   "[{\"match\":\"/a\",\"status\":500},{\"status\":500}]", 400));
	j = tl_api(t.url, "GET", "/api/lab/faults", h, NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "faults")), 0);
	json_decref(j);
	json_decref(tl_api(t.url, "GET", "/api/lab/faults", anon, NULL, 401));
	json_decref(tl_api(t.url, "POST", "/api/lab/faults", anon,
			   "{\"match\":\"*\",\"status\":500}", 401));
	tl_daemon_stop(&t);
}

/* host and port of an smtp:// listener URL */
static int smtp_port(json_t *ready)
{
	const char *url = tl_listener(ready, "smtp");
	ck_assert_ptr_nonnull(url);
	return atoi(strrchr(url, ':') + 1);
}

static void smtp_message(tl_smtp *s)
{
	ck_assert_int_eq(tl_smtp_cmd(s, "DATA"), 354);
	const char *msg = "Subject: fault\r\n\r\nbody\r\n.\r\n";
	tl_smtp_raw(s, msg, strlen(msg));
}

TEST(test_imsva_rules_from_config_file)
{
	tl_daemon m;
	char *dir = tl_tmpdir("faultini");
	char *ini = xasprintf("%s/lab.ini", dir), *rules = xasprintf("%s/faults.json", dir);
	FILE *f = fopen(rules, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[{\"point\":\"smtp\",\"match\":\"EOM\",\"status\":554,\"count\":1},\n"
		   " {\"point\":\"smtp\",\"match\":\"MAIL\",\"delay_ms\":100,\"count\":1},\n"
		   " {\"point\":\"smtp\",\"match\":\"CONNECT\",\"status\":421,\"count\":1}]\n");
	fclose(f);
	/* one rule inline, the others in a file */
	f = fopen(ini, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[imsva]\nfaults = {\"point\":\"smtp\",\"match\":\"RCPT\",\"status\":451,"
		   "\"count\":1}\nfaults_file = %s\n", rules);
	fclose(f);
	const char *args[] = {"--config", ini, "--port", "0", "--smtp_port", "0", "--tls", "no",
			      NULL};
	tl_daemon_start(&m, "imsvad", "imsva", args);
	/* the first connection is refused at the greeting */
	tl_smtp *s = tl_smtp_connect("127.0.0.1", smtp_port(m.ready));
	ck_assert_int_eq(tl_smtp_read(s), 421);
	tl_smtp_close(s);
	s = tl_smtp_connect("127.0.0.1", smtp_port(m.ready));
	ck_assert_int_eq(tl_smtp_read(s), 220);
	ck_assert_int_eq(tl_smtp_cmd(s, "EHLO client.lab.test"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<a@lab.test>"), 250); /* held, then sent */
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<u@lab.test>"), 451);
	ck_assert_ptr_nonnull(strstr(tl_smtp_reply(s), "4.3.0"));
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<u@lab.test>"), 250);
	smtp_message(s);
	ck_assert_int_eq(tl_smtp_read(s), 554);
	/* the rules are used up: the next message goes through */
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<a@lab.test>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<u@lab.test>"), 250);
	smtp_message(s);
	ck_assert_int_eq(tl_smtp_read(s), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "QUIT"), 221);
	tl_smtp_close(s);
	ck_assert_int_eq(timeline_faults(m.home, "imsva"), 4);
	tl_daemon_stop(&m);
	tl_rmrf(dir);
	free(dir);
	free(ini);
	free(rules);
}

TEST(test_ctdlab_fault_cli_round_trip)
{
	tl_daemon m;
	const char *args[] = {"--port", "0", "--smtp_port", "0", "--tls", "no", NULL};
	tl_daemon_start(&m, "imsvad", "imsva", args);
	char *out = NULL;
	const char *add[] = {"fault", "add", "imsva", "--point", "smtp", "--match", "RCPT",
			     "--status", "452", "--count", "1", NULL};
	ck_assert_msg(tl_ctdlab(m.home, add, &out) == 0, "fault add failed:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "RCPT"));
	free(out);
	const char *list[] = {"--json", "fault", "list", NULL};
	ck_assert_int_eq(tl_ctdlab(m.home, list, &out), 0);
	json_t *j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	json_t *rule = json_array_get(json_object_get(j, "imsva"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rule, "match")), "RCPT");
	ck_assert_int_eq(json_integer_value(json_object_get(rule, "status")), 452);
	json_decref(j);
	free(out);

	tl_smtp *s = tl_smtp_connect("127.0.0.1", smtp_port(m.ready));
	ck_assert_int_eq(tl_smtp_read(s), 220);
	ck_assert_int_eq(tl_smtp_cmd(s, "HELO client"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<a@lab.test>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<u@lab.test>"), 452);
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<u@lab.test>"), 250);
	tl_smtp_close(s);

	const char *add2[] = {"fault", "add", "imsva", "--match", "/api/*", "--status", "503", NULL};
	ck_assert_int_eq(tl_ctdlab(m.home, add2, &out), 0);
	free(out);
	const char *clear[] = {"fault", "clear", "imsva", NULL};
	ck_assert_int_eq(tl_ctdlab(m.home, clear, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "removed 1"));
	free(out);
	ck_assert_int_eq(tl_ctdlab(m.home, list, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"imsva\":[]"));
	free(out);
	const char *bad[] = {"fault", "add", "imsva", "--match", "RCPT", "--status", "4x", NULL};
	ck_assert_int_eq(tl_ctdlab(m.home, bad, &out), 2);
	free(out);
	tl_daemon_stop(&m);
}

/* A rule on SPS's web reputation port (its second listener) set through the
 * console API of the main one: the query fails once, then is answered. */
TEST(test_sps_wrs_query_fault)
{
	tl_daemon sp;
	const char *args[] = {"--port", "0", "--wrs_port", "0", "--api_key", SECRET, NULL};
	tl_daemon_start(&sp, "spsd", "sps", args);
	const char *hs[] = {"X-API-Key: " SECRET, "Content-Type: application/json", NULL};
	json_decref(tl_api(sp.url, "POST", "/api/lab/faults", hs,
			   "{\"match\":\"/wrs/*\",\"status\":503,\"count\":1}", 201));
	char *q = xasprintf("%s/wrs/v1/query?url=http%%3A%%2F%%2Fexample.com%%2F",
			    tl_listener(sp.ready, "wrs"));
	http_response r = {0};
	ck_assert_int_eq(tl_http("GET", q, NULL, NULL, &r), 503);
	http_response_free(&r);
	ck_assert_int_eq(tl_http("GET", q, NULL, NULL, &r), 200);
	http_response_free(&r);
	ck_assert_int_eq(timeline_faults(sp.home, "sps"), 1);
	free(q);
	tl_daemon_stop(&sp);
}
