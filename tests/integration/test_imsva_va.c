/* test_imsva_va.c - the Virtual Analyzer flow of imsvad against a DTAS peer:
 * an ATSE detection with "submit to Virtual Analyzer" parks the message in
 * the VA queue, imsvad registers, uploads the attachment with upload_sample
 * and polls get_brief_report; High risk → "Analyzed advanced threat (ATSE)"
 * and the rule's quarantine; no risk → released to the next rule
 * (delivered); no verdict in time, or DDAN down → "Probable advanced threat
 * (ATSE)"; an administrator's release from the VA queue → delivered. The
 * same against a real ddand, with the security-level mapping (Medium risk is
 * ignored at level Low and acted on at level Medium). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dtas.h"
#include "fakepeer.h"
#include "hash.h"
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

static imsvad d;
static http_server *srv;
static char peer_url[64];

static const char sample_high[] =
	"%PDF-1.4\n% CTDLAB-RISK-HIGH lab sample for the VA flow\n%%EOF\n";
static const char sample_medium[] =
	"%PDF-1.4\n% CTDLAB-RISK-MEDIUM lab sample for the VA flow\n%%EOF\n";
static const char *sample = sample_high;

static void start_level(const char *ddan_url, const char *key, const char *va_timeout,
			const char *level)
{
	memset(&d, 0, sizeof d);
	const char *args[] = {"--ddan_url", ddan_url, "--ddan_api_key", key, "--va_poll_interval",
			      "100ms", "--va_timeout", va_timeout, "--va_security_level", level,
			      NULL};
	imsvad_start(&d, args);
	long st = 0;
	json_t *j = api(&d, "PUT", "{\"atse_enabled\":true}", &st, "/api/scan-engine");
	json_decref(j);
	j = api(&d, "POST",
		"{\"name\":\"ATSE to Virtual Analyzer\",\"order\":2,\"type\":\"other\","
		"\"conditions\":{\"atse\":true},\"actions\":{\"intercept\":{\"action\":"
		"\"quarantine\",\"area\":\"VA\"},\"submit_va\":true}}",
		&st, "/api/policies");
	ck_assert_int_eq(st, 201);
	json_decref(j);
}

static void start_with(const char *ddan_url, const char *va_timeout)
{
	start_level(ddan_url, "k", va_timeout, "low");
}

static void setup(void)
{
	srv = peer_start(peer_url, sizeof peer_url);
	ck_assert_ptr_nonnull(srv);
}

static void teardown(void)
{
	imsvad_stop(&d, 0);
	peer_stop(srv);
}

static void send_sample(const char *rcpt)
{
	char *b64 = base64_encode(sample, strlen(sample));
	char *msg = xasprintf("From: s@example.com\r\nTo: %s\r\nSubject: VA sample\r\n"
			      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
			      "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
			      "--b1\r\nContent-Type: application/pdf\r\n"
			      "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
			      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n",
			      rcpt, b64);
	const char *rcpts[] = {rcpt, NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", d.smtp_port, "s@example.com", rcpts, msg), 250);
	free(msg);
	free(b64);
}

/* The reason of the newest policy event of the VA rule. */
static char *va_rule_reason(void)
{
	json_t *j = imsvad_wait_count(&d, "/api/logs?type=policy&rule=ATSE*", 1);
	ck_assert_int_ge(json_integer_value(json_object_get(j, "count")), 1);
	char *r = xstrdup(json_string_value(
		json_object_get(json_array_get(json_object_get(j, "logs"), 0), "reason")));
	json_decref(j);
	return r;
}

TEST(high_risk_is_analyzed_threat)
{
	start_with(peer_url, "30s");
	send_sample("va1@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *reason = va_rule_reason();
	ck_assert_prefix(reason, "Analyzed advanced threat (ATSE)");
	free(reason);
	ck_assert_int_ge(peer_get(&peer.registers), 1);
	ck_assert_int_eq(peer_get(&peer.uploads), 1);
	ck_assert_int_ge(peer_get(&peer.brief_queries), 1);
	json_t *j = api(&d, "GET", NULL, NULL, "/api/logs?type=va");
	ck_assert_int_ge(json_integer_value(json_object_get(j, "count")), 3); /* queued, submitted, done */
	json_decref(j);
	j = api(&d, "GET", NULL, NULL, "/api/quarantine?area=VA");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	json_decref(j);
	j = api(&d, "GET", NULL, NULL, "/api/va-queue");
	json_t *m = json_array_get(json_object_get(j, "messages"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "done");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "risk")), 3);
	json_decref(j);
}

TEST(no_risk_goes_to_next_rule)
{
	peer.brief_risk = 0;
	start_with(peer_url, "30s");
	send_sample("va2@example.org");
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	ck_assert_int_eq(imsvad_count(&d, "quarantined"), 0);
	ck_assert_int_eq(peer_get(&peer.uploads), 1);
}

TEST(timeout_is_probable_threat)
{
	peer.brief_status = 3; /* processing, forever */
	start_with(peer_url, "1s");
	send_sample("va3@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *reason = va_rule_reason();
	ck_assert_prefix(reason, "Probable advanced threat (ATSE)");
	free(reason);
}

TEST(ddan_down_is_probable_threat_and_system_event)
{
	char closed[64];
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d", tl_free_port());
	start_with(closed, "1s");
	send_sample("va4@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *reason = va_rule_reason();
	ck_assert_prefix(reason, "Probable advanced threat (ATSE)");
	free(reason);
	ck_assert(imsvad_wait_log(&d, "system", "ddan_unreachable"));
}

TEST(release_from_va_queue)
{
	peer.brief_status = 3;
	start_with(peer_url, "60s");
	send_sample("va5@example.org");
	json_t *q = imsvad_wait_count(&d, "/api/va-queue", 1);
	json_t *m = json_array_get(json_object_get(q, "messages"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "pending");
	/* the message's own fields come from the message store */
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(m, "recipients"), 0)),
			 "va5@example.org");
	ck_assert_int_eq(strlen(json_string_value(json_object_get(m, "internal_id"))), 36);
	ck_assert_int_gt(json_integer_value(json_object_get(m, "size")), 0);
	ck_assert(json_is_string(json_object_get(m, "sender")));
	ck_assert(json_is_string(json_object_get(m, "subject")));
	json_int_t id = json_integer_value(json_object_get(m, "msg_id"));
	json_decref(q);
	ck_assert_int_eq(imsvad_count(&d, "va"), 1);
	long st = 0;
	json_t *j = api(&d, "POST", "", &st, "/api/va-queue/%lld/release", (long long)id);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	j = api(&d, "POST", "", &st, "/api/va-queue/%lld/release", (long long)id);
	ck_assert_int_eq(st, 404);
	json_decref(j);
}

/* ---- against a real ddand ---- */

static pid_t ddan_pid;
/* Seed STEP 1 with and without 1-1: a true-file-type rule that submits to
 * the Virtual Analyzer. ATSE off: nothing reaches DDAN, no ATSE verdict; the
 * rule acts on its own condition and its policy event says why. */
static void step1_rule_atse(int atse_on)
{
	memset(&d, 0, sizeof d);
	const char *args[] = {"--ddan_url", peer_url, "--ddan_api_key", "k", "--va_poll_interval",
			      "100ms", NULL};
	imsvad_start(&d, args);
	long st = 0;
	json_t *j = api(&d, "PUT", atse_on ? "{\"atse_enabled\":true}" : "{\"atse_enabled\":false}",
			&st, "/api/scan-engine");
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "POST",
		"{\"name\":\"ATSE STEP1 true file type\",\"order\":2,\"type\":\"other\","
		"\"conditions\":{\"true_file_types\":[\"pdf\"]},\"actions\":{\"intercept\":"
		"{\"action\":\"quarantine\",\"area\":\"VA\"},\"submit_va\":true}}",
		&st, "/api/policies");
	ck_assert_int_eq(st, 201);
	json_decref(j);
	send_sample("step1@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
}

TEST(atse_off_no_va_submission)
{
	step1_rule_atse(0);
	char *reason = va_rule_reason();
	ck_assert_ptr_null(strstr(reason, "(ATSE)"));
	ck_assert_ptr_nonnull(strstr(reason, "True file type"));
	ck_assert_ptr_nonnull(strstr(reason, "Virtual Analyzer not used: Advanced Threat Scan Engine is off"));
	free(reason);
	ck_assert_int_eq(peer_get(&peer.uploads), 0);
	json_t *j = api(&d, "GET", NULL, NULL, "/api/va-queue");
	ck_assert_int_eq(json_array_size(json_object_get(j, "messages")), 0);
	json_decref(j);
}

TEST(atse_on_submits_true_file_type)
{
	step1_rule_atse(1);
	char *reason = va_rule_reason();
	ck_assert_prefix(reason, "Analyzed advanced threat (ATSE)");
	free(reason);
	ck_assert_int_eq(peer_get(&peer.uploads), 1);
}

/* Switching ATSE off takes effect on the next message (the cached policy
 * follows the setting). */
TEST(atse_switch_applies_to_next_message)
{
	step1_rule_atse(1);
	ck_assert_int_eq(peer_get(&peer.uploads), 1);
	long st = 0;
	json_t *j = api(&d, "PUT", "{\"atse_enabled\":false}", &st, "/api/scan-engine");
	ck_assert_int_eq(st, 200);
	json_decref(j);
	send_sample("step1b@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 2));
	ck_assert_int_eq(peer_get(&peer.uploads), 1);
}

static char *ddan_home;

static char *start_ddand(void)
{
	ddan_home = tl_tmpdir("ddan");
	const char *args[] = {"--port", "0", "--api_key", "LAB-DDAN-KEY", "--analysis_time",
			      "100ms", NULL};
	ddan_pid = tl_spawn_daemon("ddand", ddan_home, args);
	json_t *ready = tl_wait_ready(ddan_home, "ddan", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddand did not start (see %s)", ddan_home);
	char *url = xstrdup(tl_listener(ready, "https"));
	json_decref(ready);
	return url;
}

static void stop_ddand(void)
{
	tl_stop(ddan_pid, 10000);
	tl_rmrf(ddan_home);
	free(ddan_home);
}

TEST(real_ddand_high_risk)
{
	char *url = start_ddand();
	start_level(url, "LAB-DDAN-KEY", "30s", "low");
	send_sample("real1@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *reason = va_rule_reason();
	ck_assert_prefix(reason, "Analyzed advanced threat (ATSE)");
	free(reason);
	json_t *j = api(&d, "GET", NULL, NULL, "/api/va-queue");
	json_t *m = json_array_get(json_object_get(j, "messages"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "risk")), 3);
	json_decref(j);
	stop_ddand();
	free(url);
}

/* DDAN says Medium: below security level Low (High only) → next rule;
 * at level Medium → the rule applies. */
TEST(real_ddand_medium_risk_by_security_level)
{
	sample = sample_medium;
	char *url = start_ddand();
	start_level(url, "LAB-DDAN-KEY", "30s", "low");
	send_sample("real2@example.org");
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	ck_assert_int_eq(imsvad_count(&d, "quarantined"), 0);
	imsvad_stop(&d, 0);
	start_level(url, "LAB-DDAN-KEY", "30s", "medium");
	send_sample("real3@example.org");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *reason = va_rule_reason();
	ck_assert_prefix(reason, "Analyzed advanced threat (ATSE)");
	free(reason);
	sample = sample_high;
	stop_ddand();
	free(url);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
