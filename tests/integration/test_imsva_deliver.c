/* test_imsva_deliver.c - delivery to a next-hop SMTP server with libcurl:
 * while the next hop is down the message is deferred (MTA events, attempts,
 * backoff) and nothing is lost; once it is up the message is sent (to a
 * second imsvad acting as the next hop, which shows it in its mailbox with
 * the first one's IMSVA headers); a message older than deliver_max_age
 * bounces; a handoff rule sends to its own host:port. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

static imsvad a, b;

static void setup(void)
{
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
}

static void teardown(void)
{
	imsvad_stop(&a, 0);
	if (b.home)
		imsvad_stop(&b, 0);
}

static void send_one(const char *rcpt)
{
	const char *rcpts[] = {rcpt, NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", a.smtp_port, "s@example.com", rcpts,
				      "Subject: via next hop\r\n\r\nrelayed body\r\n"),
			 250);
}

/* The first delivery-queue entry of a (waits until it has `state`). */
static json_t *outbound(const char *state)
{
	for (int i = 0; i < 400; i++) {
		json_t *j = api(&a, "GET", NULL, NULL, "/api/delivery-queue");
		json_t *m = json_array_get(json_object_get(j, "messages"), 0);
		const char *st = json_string_value(json_object_get(m, "state"));
		if (st && !strcmp(st, state)) {
			json_incref(m);
			json_decref(j);
			return m;
		}
		json_decref(j);
		usleep(50 * 1000);
	}
	ck_abort_msg("no outbound message in state %s", state);
	return NULL;
}

TEST(deferred_then_sent_to_next_hop)
{
	int port = tl_free_port();
	char hop[32], portarg[16];
	snprintf(hop, sizeof hop, "127.0.0.1:%d", port);
	snprintf(portarg, sizeof portarg, "%d", port);
	const char *aargs[] = {"--next_hop", hop, "--deliver_retry", "100ms", NULL};
	imsvad_start(&a, aargs);
	send_one("far@example.org");
	ck_assert(imsvad_wait_log(&a, "mta", "deferred"));
	json_t *m = outbound("pending");
	ck_assert_int_ge(json_integer_value(json_object_get(m, "attempts")), 1);
	ck_assert(json_is_string(json_object_get(m, "last_error")));
	json_decref(m);
	/* the next hop comes up */
	const char *bargs[] = {"--smtp_port", portarg, NULL};
	imsvad_start(&b, bargs);
	m = outbound("sent");
	json_decref(m);
	ck_assert(imsvad_wait_log(&a, "mta", "sent"));
	json_t *box = imsvad_wait_count(&b, "/api/mailbox?rcpt=far@example.org", 1);
	ck_assert_int_eq(json_integer_value(json_object_get(box, "count")), 1);
	json_int_t id = json_integer_value(
		json_object_get(json_array_get(json_object_get(box, "messages"), 0), "id"));
	json_decref(box);
	json_t *msg = api(&b, "GET", NULL, NULL, "/api/mailbox/%lld", (long long)id);
	const char *data = json_string_value(json_object_get(msg, "data"));
	ck_assert_ptr_nonnull(strstr(data, "relayed body"));
	/* two IMSVA hops: b's headers on top of a's */
	const char *first = strstr(data, "by IMSVA (Postfix)");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(first + 1, "by IMSVA (Postfix)"));
	json_decref(msg);
}

TEST(too_old_bounces)
{
	char hop[32];
	snprintf(hop, sizeof hop, "127.0.0.1:%d", tl_free_port());
	const char *aargs[] = {"--next_hop", hop, "--deliver_retry", "100ms", "--deliver_max_age",
			       "1s", NULL};
	imsvad_start(&a, aargs);
	send_one("never@example.org");
	json_t *m = outbound("bounced");
	ck_assert_int_ge(json_integer_value(json_object_get(m, "attempts")), 2);
	json_decref(m);
	ck_assert(imsvad_wait_log(&a, "mta", "bounced"));
}

TEST(handoff_rule)
{
	char body[512];
	imsvad_start(&b, NULL);
	imsvad_start(&a, NULL); /* no next hop: everything else stays local */
	snprintf(body, sizeof body,
		 "{\"name\":\"hand off\",\"order\":2,\"type\":\"other\","
		 "\"route\":{\"recipients\":[\"*@partner.example\"]},\"actions\":{\"intercept\":"
		 "{\"action\":\"handoff\",\"host\":\"127.0.0.1\",\"port\":%d}}}", b.smtp_port);
	long st = 0;
	json_t *j = api(&a, "POST", body, &st, "/api/policies");
	ck_assert_int_eq(st, 201);
	json_decref(j);
	const char *rcpts[] = {"x@partner.example", NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", a.smtp_port, "s@example.com", rcpts,
				      "Subject: handed\r\n\r\nbye\r\n"), 250);
	ck_assert(imsvad_wait_state(&a, "handoff", 1));
	json_t *box = imsvad_wait_count(&b, "/api/mailbox?rcpt=x@partner.example", 1);
	ck_assert_int_eq(json_integer_value(json_object_get(box, "count")), 1);
	json_decref(box);
	box = api(&a, "GET", NULL, &st, "/api/mailbox");
	ck_assert_int_eq(json_integer_value(json_object_get(box, "count")), 0);
	json_decref(box);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
