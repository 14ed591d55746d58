/* test_imsva_wrs.c - imsvad's web reputation against an SPS peer (seed STEP
 * 4): with a web reputation rule for the mail (4-1), every URL of it is
 * looked up (with a short-lived cache), without one none is; a URL
 * that is a suspicious object with Block is quarantined by the built-in
 * "TMCM_Suspicious URL detection rule"; a rule with "Web Reputation" and
 * spam off quarantines a dangerous URL (STEP 4-1); SPS unreachable gives a
 * system event and the configured fallback: pass delivers, defer keeps the
 * message and processes it once SPS is back (nothing lost). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dtas.h"
#include "fakepeer.h"
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

#define BAD_URL "http://malicious.example.net/payload/dropper.html"

static imsvad d;
static http_server *srv;
static char peer_url[64];

static void setup(void)
{
	memset(&d, 0, sizeof d);
	srv = NULL;
}

static void teardown(void)
{
	imsvad_stop(&d, 0);
	if (srv)
		peer_stop(srv);
}

static void start(const char *sps_url, const char *fallback)
{
	const char *args[] = {"--sps_url", sps_url, "--wrs_fallback", fallback, "--wrs_cache_ttl",
			      "30s", "--wrs_defer_retry", "200ms", NULL};
	imsvad_start(&d, args);
}

/* Seed STEP 4-1: Other rule, all users, Web Reputation, spam off. */
static json_int_t add_wrs_rule(int enabled)
{
	long st = 0;
	char *body = xasprintf(
		"{\"name\":\"STEP4-1 Web Reputation\",\"order\":2,\"type\":\"other\","
		"\"enabled\":%s,\"route\":{\"recipients\":[\"all users\"]},"
		"\"conditions\":{\"web_reputation\":{\"enabled\":true,\"sensitivity\":"
		"\"medium\"},\"spam\":{\"enabled\":false}},\"actions\":{\"intercept\":"
		"{\"action\":\"quarantine\",\"area\":\"WRS\"}}}",
		enabled ? "true" : "false");
	json_t *j = api(&d, "POST", body, &st, "/api/policies");
	free(body);
	ck_assert_int_eq(st, 201);
	json_int_t id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

static void send_url_mail(const char *rcpt, const char *url)
{
	char *msg = xasprintf("From: s@example.com\r\nSubject: have a look\r\n"
			      "Content-Type: text/plain\r\n\r\nPlease read %s today.\r\n", url);
	const char *rcpts[] = {rcpt, NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", d.smtp_port, "s@example.com", rcpts, msg), 250);
	free(msg);
}

static char *newest_policy_rule(void)
{
	json_t *j = imsvad_wait_count(&d, "/api/logs?type=policy", 1);
	ck_assert_int_ge(json_integer_value(json_object_get(j, "count")), 1);
	char *r = xstrdup(json_string_value(
		json_object_get(json_array_get(json_object_get(j, "logs"), 0), "rule")));
	json_decref(j);
	return r;
}

TEST(url_so_block_quarantines_by_builtin_rule)
{
	srv = peer_start(peer_url, sizeof peer_url);
	snprintf(peer.wrs_rating, sizeof peer.wrs_rating, "Dangerous");
	snprintf(peer.wrs_so_action, sizeof peer.wrs_so_action, "block");
	start(peer_url, "pass");
	add_wrs_rule(1);
	send_url_mail("u1@example.org", BAD_URL);
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *rule = newest_policy_rule();
	ck_assert_str_eq(rule, "TMCM_Suspicious URL detection rule");
	free(rule);
	pthread_mutex_lock(&peer_lock);
	ck_assert_str_eq(peer.last_url, BAD_URL);
	pthread_mutex_unlock(&peer_lock);
}

/* Seed 4-1 skipped (no web reputation rule, or the rule disabled): IMSVA
 * does not ask SPS, so the Block URL SO changes nothing and the mail is
 * delivered; enabling the rule makes the TMCM URL rule fire. */
TEST(url_so_needs_web_reputation_rule)
{
	srv = peer_start(peer_url, sizeof peer_url);
	snprintf(peer.wrs_rating, sizeof peer.wrs_rating, "Dangerous");
	snprintf(peer.wrs_so_action, sizeof peer.wrs_so_action, "block");
	start(peer_url, "pass");
	send_url_mail("n1@example.org", BAD_URL);
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	json_int_t id = add_wrs_rule(0);
	send_url_mail("n2@example.org", BAD_URL);
	ck_assert(imsvad_wait_state(&d, "delivered", 2));
	ck_assert_int_eq(peer_get(&peer.wrs_queries), 0);
	ck_assert_int_eq(imsvad_count(&d, "quarantined"), 0);
	long st = 0;
	json_t *j = api(&d, "PATCH", "{\"enabled\":true}", &st, "/api/policies/%lld",
			(long long)id);
	json_decref(j);
	ck_assert_int_eq(st, 200);
	send_url_mail("n3@example.org", BAD_URL);
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *rule = newest_policy_rule();
	ck_assert_str_eq(rule, "TMCM_Suspicious URL detection rule");
	free(rule);
	ck_assert_int_ge(peer_get(&peer.wrs_queries), 1);
}

TEST(web_reputation_rule_and_cache)
{
	srv = peer_start(peer_url, sizeof peer_url);
	start(peer_url, "pass");
	long st = 0;
	json_t *j = api(&d, "POST",
			"{\"name\":\"STEP4 web reputation\",\"order\":2,\"type\":\"other\","
			"\"route\":{\"recipients\":[\"all users\"]},\"conditions\":{\"web_reputation\":"
			"{\"enabled\":true,\"sensitivity\":\"medium\"},\"spam\":{\"enabled\":false}},"
			"\"actions\":{\"intercept\":{\"action\":\"quarantine\",\"area\":\"WRS\"}}}",
			&st, "/api/policies");
	ck_assert_int_eq(st, 201);
	json_decref(j);
	/* safe: delivered twice, asked SPS once (cache). The second mail goes
	 * after the first is done: two workers may miss the cache together. */
	send_url_mail("u2@example.org", "http://www.example.com/fine");
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	send_url_mail("u3@example.org", "http://www.example.com/fine");
	ck_assert(imsvad_wait_state(&d, "delivered", 2));
	ck_assert_int_eq(peer_get(&peer.wrs_queries), 1);
	/* dangerous: the STEP 4 rule quarantines */
	pthread_mutex_lock(&peer_lock);
	snprintf(peer.wrs_rating, sizeof peer.wrs_rating, "Dangerous");
	peer.wrs_score = 10;
	pthread_mutex_unlock(&peer_lock);
	send_url_mail("u4@example.org", BAD_URL);
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	char *rule = newest_policy_rule();
	ck_assert_str_eq(rule, "STEP4 web reputation");
	free(rule);
	j = api(&d, "GET", NULL, &st, "/api/connections/sps");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "online");
	ck_assert_int_ge(json_integer_value(json_object_get(j, "cache_hits")), 1);
	json_decref(j);
}

TEST(sps_down_pass_delivers_with_system_event)
{
	char closed[64];
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d", tl_free_port());
	start(closed, "pass");
	add_wrs_rule(1);
	send_url_mail("u5@example.org", BAD_URL);
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	ck_assert(imsvad_wait_log(&d, "system", "wrs_unreachable"));
}

TEST(sps_down_defer_keeps_message_until_back)
{
	int port = tl_free_port();
	char later[64];
	snprintf(later, sizeof later, "http://127.0.0.1:%d", port);
	start(later, "defer");
	add_wrs_rule(1);
	send_url_mail("u6@example.org", BAD_URL);
	ck_assert(imsvad_wait_log(&d, "system", "wrs_unreachable"));
	ck_assert_int_eq(imsvad_count(&d, "delivered"), 0);
	ck_assert_int_eq(imsvad_count(&d, "quarantined"), 0);
	/* SPS comes back: the deferred message is processed */
	char url[64];
	srv = peer_start_on(port, url, sizeof url);
	ck_assert_ptr_nonnull(srv);
	snprintf(peer.wrs_rating, sizeof peer.wrs_rating, "Dangerous");
	snprintf(peer.wrs_so_action, sizeof peer.wrs_so_action, "block");
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
