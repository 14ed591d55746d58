/* test_syslog_out.c - syslog forwarding from real daemons to a syslog server
 * in the test: the whole lab over UDP in RFC 5424 + CEF through the
 * four-step drill (every event kind the issue names parses, with values the
 * timeline holds: SHA-1s, recipients, rules, URLs); DDAN over TCP with
 * octet counting in RFC 3164 + LEEF; DDAN over TLS with newline framing. */
#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ddan_testkit.h"
#include "http_server.h"
#include "store.h"
#include "testlib.h"
#include "tl_syslog.h"
#include "util.h"

#define WAIT_MS 60000

TL_SUITE(.timeout = 600);

/* The timeline event a record's externalId names, read from the lab's store. */
static json_t *timeline_event(const char *dir, const tl_cef *c)
{
	const char *id = tl_cef_get(c, "externalId");
	ck_assert_ptr_nonnull(id);
	char *path = xasprintf("%s/lab.db", dir);
	store *st;
	ctd_err err;
	ck_assert_msg(store_open(path, &st, &err) == 0, "%s", err.msg);
	events_filter f = {.after_id = atoll(id) - 1, .limit = 1};
	json_t *rows = events_query(st, &f, &err);
	store_close(st);
	free(path);
	json_t *ev = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	ck_assert_msg(ev && json_integer_value(json_object_get(ev, "id")) == atoll(id),
		      "no timeline event %s", id);
	return ev;
}

static const char *detail_str(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, "detail"), key));
}

/* Wait for the CEF record with these header needles and parse it. */
static void wait_cef(tl_syslog *rx, const char *product, const char *event_id, const char *extra,
		     tl_cef *c)
{
	char *p = xasprintf("|%s|", product), *e = xasprintf("|%s|", event_id);
	const char *needles[] = {p, e, extra, NULL};
	char *msg = tl_syslog_wait(rx, WAIT_MS, needles);
	ck_assert_msg(msg != NULL, "no CEF %s %s %s received", product, event_id,
		      extra ? extra : "");
	ck_assert_msg(tl_cef_parse(msg, c) == 0, "unparsable CEF: %s", msg);
	ck_assert_int_eq(c->nhdr, 7);
	ck_assert_str_eq(c->hdr[0], "0");
	ck_assert_str_eq(c->hdr[1], "Trend Micro");
	ck_assert_str_eq(c->hdr[2], product);
	ck_assert(atoi(c->hdr[6]) >= 0 && atoi(c->hdr[6]) <= 10);
	free(msg);
	free(p);
	free(e);
}

/* RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID - CEF:..." */
static void assert_rfc5424(const char *msg, const char *app)
{
	char pri[8], ts[40], host[256], name[32], procid[16], msgid[48], sd[4];
	ck_assert_msg(sscanf(msg, "<%7[0-9]>1 %39s %255s %31s %15s %47s %3s", pri, ts, host, name,
			     procid, msgid, sd) == 7,
		      "not RFC 5424: %s", msg);
	ck_assert_str_eq(name, app);
	ck_assert_str_eq(sd, "-");
	ck_assert(strlen(ts) == 24 && ts[23] == 'Z');
}

static void check_all_parse(tl_syslog *rx)
{
	json_t *msgs = tl_syslog_messages(rx);
	size_t i;
	json_t *m;
	ck_assert(json_array_size(msgs) > 10);
	json_array_foreach(msgs, i, m) {
		tl_cef c;
		const char *text = json_string_value(m);
		ck_assert_msg(tl_cef_parse(text, &c) == 0 && c.nhdr == 7, "unparsable: %s", text);
		char app[32];
		ck_assert(sscanf(text, "<%*d>1 %*s %*s %31s", app) == 1);
		assert_rfc5424(text, app);
		tl_cef_free(&c);
	}
	json_decref(msgs);
}

TEST(test_lab_forwards_every_kind_over_udp_cef)
{
	tl_syslog *rx = tl_syslog_start("udp", NULL, NULL);
	char *dir = tl_tmpdir("syslog-lab"), *out = NULL;
	char *target = xasprintf("udp://127.0.0.1:%d", tl_syslog_port(rx));
	tl_lab_env();
	setenv("CTDLAB_SYSLOG_TARGET", target, 1);
	const char *up[] = {"up", NULL};
	ck_assert_msg(tl_ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%.2000s", out);
	free(out);
	const char *drill[] = {"--json", "drill", "--timeout", "60", "all", NULL};
	ck_assert_msg(tl_ctdlab(dir, drill, &out) == 0, "drill failed:\n%.3000s", out);
	free(out);
	unsetenv("CTDLAB_SYSLOG_TARGET");
	tl_cef c;
	json_t *ev;

	/* DDAN analysis result: fileHash is the analysed SHA-1 */
	wait_cef(rx, "Deep Discovery Analyzer", "200128", "cs1Label=malName", &c);
	ck_assert_str_eq(c.hdr[5], "SUBMISSION_ANALYZED");
	ev = timeline_event(dir, &c);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "kind")), "sample.done");
	ck_assert_str_eq(tl_cef_get(&c, "fileHash"), json_string_value(json_object_get(ev, "ref")));
	ck_assert_int_eq(strlen(tl_cef_get(&c, "fileHash")), 40);
	ck_assert_str_eq(tl_cef_get(&c, "deviceExternalId"), "ddan");
	json_decref(ev);
	tl_cef_free(&c);

	/* DDAN new SO: its type and value */
	wait_cef(rx, "Deep Discovery Analyzer", "200120", "act=created", &c);
	ck_assert_str_eq(c.hdr[5], "DENYLIST_CHANGE");
	ev = timeline_event(dir, &c);
	ck_assert_str_eq(tl_cef_get(&c, "cs1"), detail_str(ev, "type"));
	const char *value = tl_cef_get(&c, "fileHash") ? tl_cef_get(&c, "fileHash")
						       : tl_cef_get(&c, "request");
	ck_assert_str_eq(value, detail_str(ev, "value"));
	ck_assert_str_eq(tl_cef_get(&c, "pComp"), "Sandbox");
	json_decref(ev);
	tl_cef_free(&c);

	/* DDI detection: SHA-1, file name and the client of the download */
	wait_cef(rx, "Deep Discovery Inspector", "100119", NULL, &c);
	ck_assert_str_eq(c.hdr[5], "SECURITY_RISK_DETECTION");
	ev = timeline_event(dir, &c);
	ck_assert_str_eq(tl_cef_get(&c, "fileHash"), detail_str(ev, "sha1"));
	ck_assert_str_eq(tl_cef_get(&c, "fname"), detail_str(ev, "file_name"));
	ck_assert_str_eq(tl_cef_get(&c, "src"), detail_str(ev, "client_ip"));
	json_decref(ev);
	tl_cef_free(&c);

	/* TMCM SO change: the drill's Block */
	wait_cef(rx, "Control Manager", "200120", "block", &c);
	ev = timeline_event(dir, &c);
	const char *kind = json_string_value(json_object_get(ev, "kind"));
	ck_assert_msg(strncmp(kind, "so.", 3) == 0 || strncmp(kind, "udso.", 5) == 0, "%s", kind);
	ck_assert_str_eq(tl_cef_get(&c, "act"), strchr(kind, '.') + 1);
	json_decref(ev);
	tl_cef_free(&c);

	/* SPS sync */
	wait_cef(rx, "Smart Protection Server", "300999", "cs1=sync.done", &c);
	ev = timeline_event(dir, &c);
	ck_assert_str_eq(tl_cef_get(&c, "request"), detail_str(ev, "url"));
	ck_assert_str_eq(tl_cef_get(&c, "outcome"), "done");
	json_decref(ev);
	tl_cef_free(&c);

	/* IMSVA policy event: Apex Central's MS:<action>, rule and recipients */
	wait_cef(rx, "InterScan Messaging Security Virtual Appliance", "MS:quarantine",
		 "TMCM_Suspicious File detection rule", &c);
	ck_assert_str_eq(c.hdr[5], "Content Security");
	ev = timeline_event(dir, &c);
	ck_assert_str_eq(tl_cef_get(&c, "cs1"), "TMCM_Suspicious File detection rule");
	ck_assert_str_eq(tl_cef_get(&c, "duser"), detail_str(ev, "recipients"));
	ck_assert(strchr(tl_cef_get(&c, "duser"), '@') != NULL);
	ck_assert_str_eq(tl_cef_get(&c, "msg"), detail_str(ev, "subject"));
	json_decref(ev);
	tl_cef_free(&c);

	/* IMSVA message tracking: internal id and recipients */
	wait_cef(rx, "InterScan Messaging Security Virtual Appliance", "100136",
		 "cs3=quarantined", &c);
	ck_assert_str_eq(c.hdr[5], "MESSAGE_TRACKING");
	ev = timeline_event(dir, &c);
	ck_assert_str_eq(tl_cef_get(&c, "cs2"), json_string_value(json_object_get(ev, "ref")));
	ck_assert_str_eq(tl_cef_get(&c, "duser"), detail_str(ev, "recipients"));
	ck_assert_str_eq(tl_cef_get(&c, "suser"), detail_str(ev, "sender"));
	json_decref(ev);
	tl_cef_free(&c);

	check_all_parse(rx);
	const char *down[] = {"down", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, down, NULL), 0);
	tl_syslog_stop(rx);
	tl_rmrf(dir);
	free(dir);
	free(target);
}

TEST(test_ddan_tcp_octet_rfc3164_leef)
{
	tl_syslog *rx = tl_syslog_start("tcp", NULL, NULL);
	char *target = xasprintf("tcp://127.0.0.1:%d", tl_syslog_port(rx));
	const char *extra[] = {"--syslog-target", target, "--syslog-format", "leef",
			       "--syslog-framing", "3164", NULL};
	tk_daemon d = {0};
	tk_start(&d, "syslog-leef", extra);
	char sha1[41];
	tk_submit_wait(&d, "leef sample CTDLAB-RISK-HIGH\n", "syslog|test=1.txt", sha1);

	const char *needles[] = {"|SUBMISSION_ANALYZED|", NULL};
	char *msg = tl_syslog_wait(rx, WAIT_MS, needles);
	ck_assert_msg(msg != NULL, "no LEEF record received");
	/* RFC 3164: "<PRI>Mmm dd hh:mm:ss HOST ddan[PID]: LEEF:1.0|..." */
	char mon[4], hms[9], host[256], tag[64];
	int pri, day;
	ck_assert_msg(sscanf(msg, "<%d>%3s %d %8s %255s %63s", &pri, mon, &day, hms, host, tag) == 6,
		      "not RFC 3164: %s", msg);
	ck_assert(strncmp(tag, "ddan[", 5) == 0 && tag[strlen(tag) - 1] == ':');
	ck_assert(pri >= 128 && pri < 136); /* local0 */
	tl_cef c;
	ck_assert_msg(tl_leef_parse(msg, &c) == 0, "unparsable LEEF: %s", msg);
	ck_assert_str_eq(c.hdr[0], "1.0");
	ck_assert_str_eq(c.hdr[2], "Deep Discovery Analyzer");
	ck_assert_str_eq(c.hdr[4], "SUBMISSION_ANALYZED");
	ck_assert(strcasecmp(tl_cef_get(&c, "fileHash"), sha1) == 0);
	ck_assert_str_eq(tl_cef_get(&c, "sev"), "8");
	ck_assert_str_eq(tl_cef_get(&c, "devTimeFormat"), "MMM dd yyyy HH:mm:ss z");
	ck_assert_ptr_nonnull(tl_cef_get(&c, "malName")); /* LEEF names csN by its label */
	tl_cef_free(&c);
	free(msg);

	const char *so[] = {"|DENYLIST_CHANGE|", "act=created", NULL};
	msg = tl_syslog_wait(rx, WAIT_MS, so);
	ck_assert_msg(msg != NULL, "no LEEF deny-list change");
	ck_assert_int_eq(tl_leef_parse(msg, &c), 0);
	ck_assert_str_eq(tl_cef_get(&c, "pComp"), "Sandbox");
	tl_cef_free(&c);
	free(msg);
	tk_stop(&d);
	tl_syslog_stop(rx);
	free(target);
}

TEST(test_ddan_tls_newline_framing)
{
	char *certdir = tl_tmpdir("syslog-tls"), *cert = NULL, *key = NULL;
	ctd_err err;
	ck_assert_msg(tls_lab_cert(certdir, &cert, &key, &err) == 0, "%s", err.msg);
	tl_syslog *rx = tl_syslog_start("tls", cert, key);
	char *target = xasprintf("tls://127.0.0.1:%d", tl_syslog_port(rx));
	const char *extra[] = {"--syslog-target", target, "--syslog-tcp-framing", "lf", NULL};
	tk_daemon d = {0};
	tk_start(&d, "syslog-tls", extra);
	char sha1[41];
	tk_submit_wait(&d, "tls sample CTDLAB-RISK-HIGH\n", "syslog|test=1.txt", sha1);

	const char *needles[] = {"|200128|", NULL};
	char *msg = tl_syslog_wait(rx, WAIT_MS, needles);
	ck_assert_msg(msg != NULL, "no CEF over TLS");
	assert_rfc5424(msg, "ddan");
	tl_cef c;
	ck_assert_int_eq(tl_cef_parse(msg, &c), 0);
	ck_assert(strcasecmp(tl_cef_get(&c, "fileHash"), sha1) == 0);
	ck_assert_str_eq(c.hdr[6], "8");
	tl_cef_free(&c);
	free(msg);
	tk_stop(&d);
	tl_syslog_stop(rx);
	tl_rmrf(certdir);
	free(certdir);
	free(cert);
	free(key);
	free(target);
}
