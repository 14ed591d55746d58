/* test_webhook.c - webhooks from a real ddand to a receiver inside the test
 * (libmicrohttpd): the chosen event kinds arrive as JSON POSTs whose
 * X-Ctdlab-Signature verifies (HMAC-SHA256 computed here with OpenSSL) under
 * the pinned secret, or under the generated one the ready file names; a
 * receiver that answers 500 first gets the same delivery again (retry with
 * backoff) and kinds outside the filter never arrive. */
#include <check.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ddan_testkit.h"
#include "testlib.h"
#include "util.h"

#define WAIT_MS 60000

TL_SUITE(.timeout = 300);

/* --- the receiver ------------------------------------------------------------ */

typedef struct hook_rx {
	struct MHD_Daemon *mhd;
	int fail_first; /* answer 500 to this many requests first */
	pthread_mutex_t mu;
	json_t *posts; /* [{status, signature, event, delivery, body}] */
} hook_rx;

typedef struct upload {
	sbuf body;
} upload;

static void record(hook_rx *rx, struct MHD_Connection *c, const char *body, unsigned status)
{
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Ctdlab-Signature");
	const char *ev = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Ctdlab-Event");
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Ctdlab-Delivery");
	json_array_append_new(rx->posts,
			      json_pack("{s:i, s:s?, s:s?, s:s?, s:s}", "status", (int)status,
					"signature", sig, "event", ev, "delivery", id, "body", body));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **state)
{
	hook_rx *rx = cls;
	upload *u = *state;
	if (!u) {
		*state = xcalloc(1, sizeof *u);
		return MHD_YES;
	}
	if (*data_size) {
		sbuf_append(&u->body, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&rx->mu);
	unsigned status = rx->fail_first > 0 ? 500 : 200;
	if (rx->fail_first > 0)
		rx->fail_first--;
	record(rx, c, u->body.data ? u->body.data : "", status);
	pthread_mutex_unlock(&rx->mu);
	struct MHD_Response *r = MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
		    enum MHD_RequestTerminationCode why)
{
	upload *u = *state;
	if (u)
		sbuf_free(&u->body);
	free(u);
	*state = NULL;
}

static void rx_start(hook_rx *rx, int fail_first)
{
	memset(rx, 0, sizeof *rx);
	rx->fail_first = fail_first;
	rx->posts = json_array();
	pthread_mutex_init(&rx->mu, NULL);
	rx->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, rx,
				   MHD_OPTION_NOTIFY_COMPLETED, on_done, rx, MHD_OPTION_END);
	ck_assert_ptr_nonnull(rx->mhd);
}

static char *rx_url(hook_rx *rx)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(rx->mhd, MHD_DAEMON_INFO_BIND_PORT);
	return xasprintf("http://127.0.0.1:%u/hook", (unsigned)i->port);
}

static void rx_stop(hook_rx *rx)
{
	MHD_stop_daemon(rx->mhd);
	json_decref(rx->posts);
	pthread_mutex_destroy(&rx->mu);
}

/* The POSTs of event so far with a given status (-1: any), new reference. */
static json_t *posts_of(hook_rx *rx, const char *event, int status)
{
	json_t *out = json_array();
	pthread_mutex_lock(&rx->mu);
	size_t i;
	json_t *p;
	json_array_foreach(rx->posts, i, p) {
		if (strcmp(json_string_value(json_object_get(p, "event")), event) == 0 &&
		    (status < 0 || json_integer_value(json_object_get(p, "status")) == status))
			json_array_append(out, p);
	}
	pthread_mutex_unlock(&rx->mu);
	return out;
}

static json_t *wait_post(hook_rx *rx, const char *event, int status)
{
	int64_t deadline = time_mono_ms() + WAIT_MS;
	for (;;) {
		json_t *posts = posts_of(rx, event, status);
		if (json_array_size(posts) > 0) {
			json_t *p = json_incref(json_array_get(posts, 0));
			json_decref(posts);
			return p;
		}
		json_decref(posts);
		ck_assert_msg(time_mono_ms() < deadline, "no %s POST (status %d)", event, status);
		tl_sleep_ms(20);
	}
}

/* sha256=<hex> of body under secret, computed with OpenSSL here. */
static void assert_signed(json_t *post, const char *secret)
{
	const char *body = json_string_value(json_object_get(post, "body"));
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body),
	     mac, &len);
	char want[80] = "sha256=";
	for (unsigned i = 0; i < len; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
	ck_assert_str_eq(json_string_value(json_object_get(post, "signature")), want);
}

/* --- the appliance ---------------------------------------------------------- */

TEST(test_signed_posts_retried_after_500)
{
	hook_rx rx;
	rx_start(&rx, 1);
	char *url = rx_url(&rx);
	const char *extra[] = {"--webhook-url", url, "--webhook-secret", "class-secret",
			       "--webhook-backoff", "20ms", NULL};
	tk_daemon d = {0};
	tk_start(&d, "webhook", extra);
	char sha1[41];
	tk_submit_wait(&d, "webhook sample CTDLAB-RISK-HIGH\n", "hook.txt", sha1);

	/* analysis finished, signed, with the sample's SHA-1 and risk */
	json_t *ok = wait_post(&rx, "ddan.sample.done", 200);
	assert_signed(ok, "class-secret");
	json_t *body = json_loads(json_string_value(json_object_get(ok, "body")), 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(body, "event")), "ddan.sample.done");
	ck_assert_str_eq(json_string_value(json_object_get(body, "ref")), sha1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(body, "detail"), "risk")),
			 3);
	ck_assert(json_integer_value(json_object_get(body, "id")) > 0);
	json_decref(body);
	json_decref(ok);

	/* the very first POST got 500: the same delivery came again and got 200 */
	pthread_mutex_lock(&rx.mu);
	json_t *first = json_incref(json_array_get(rx.posts, 0));
	pthread_mutex_unlock(&rx.mu);
	ck_assert_int_eq(json_integer_value(json_object_get(first, "status")), 500);
	assert_signed(first, "class-secret");
	json_t *again = wait_post(&rx, json_string_value(json_object_get(first, "event")), 200);
	ck_assert_str_eq(json_string_value(json_object_get(again, "delivery")),
			 json_string_value(json_object_get(first, "delivery")));
	ck_assert_str_eq(json_string_value(json_object_get(again, "body")),
			 json_string_value(json_object_get(first, "body")));
	json_decref(again);
	json_decref(first);

	/* SO created: signed too; kinds outside the filter never came */
	json_t *so = wait_post(&rx, "ddan.so.created", 200);
	assert_signed(so, "class-secret");
	json_decref(so);
	json_t *arrived = posts_of(&rx, "ddan.sample.arrived", -1);
	ck_assert_int_eq(json_array_size(arrived), 0);
	json_decref(arrived);

	/* the counters: /healthz?detail=1 "outputs" */
	char *health = xasprintf("%s/healthz?detail=1", d.url);
	json_t *h = tl_http_json("GET", health, NULL, NULL, NULL);
	json_t *stats = json_object_get(json_object_get(h, "outputs"), "webhook");
	ck_assert_msg(stats != NULL, "no outputs in /healthz?detail=1");
	ck_assert_int_ge(json_integer_value(json_object_get(stats, "sent")), 2);
	ck_assert_int_ge(json_integer_value(json_object_get(stats, "retries")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(stats, "dropped_full")), 0);
	json_decref(h);
	free(health);
	tk_stop(&d);
	rx_stop(&rx);
	free(url);
}

TEST(test_generated_secret_in_ready_file)
{
	hook_rx rx;
	rx_start(&rx, 0);
	char *url = rx_url(&rx);
	const char *extra[] = {"--webhook-url", url, "--webhook-events", "sample.*", NULL};
	tk_daemon d = {0};
	tk_start(&d, "webhook-gen", extra);
	json_t *hook = json_object_get(json_object_get(json_object_get(d.ready, "info"), "outputs"),
				       "webhook");
	const char *secret = json_string_value(json_object_get(hook, "secret"));
	ck_assert_msg(secret && strlen(secret) == 32, "no generated secret in the ready file");
	char sha1[41];
	tk_submit_wait(&d, "webhook generated CTDLAB-RISK-HIGH\n", "hook.txt", sha1);
	json_t *arrived = wait_post(&rx, "ddan.sample.arrived", 200);
	assert_signed(arrived, secret);
	json_decref(arrived);
	json_t *done = wait_post(&rx, "ddan.sample.done", 200);
	assert_signed(done, secret);
	json_decref(done);
	tk_stop(&d);
	rx_stop(&rx);
	free(url);
}
