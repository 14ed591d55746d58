/* test_evsink.c - unit tests of the event outputs: CEF escaping survives a
 * round trip through an independent parser (`\`, `|`, `=`, newlines), LEEF
 * keeps its tab separation, a full queue drops and counts, a failing sink is
 * retried with backoff and then given up, events of a transaction reach the
 * sinks only when it commits, and the webhook signature is HMAC-SHA256. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "cef.h"
#include "evsink.h"
#include "store.h"
#include "testlib.h"
#include "tl_syslog.h"
#include "util.h"
#include "webhook.h"

/* --- formatting ------------------------------------------------------------ */

static evsink_event mail_event(json_t *detail)
{
	return (evsink_event){.id = 42, .ts_ms = 1700000000123LL, .appliance = "imsva",
			      .kind = "policy.quarantine", .ref = "ABCD-1234", .detail = detail};
}

TEST(test_cef_escapes_round_trip)
{
	const char *subject = "a|b=c\\d\nline2\rend";
	json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "subject", subject, "sender",
			      "eve@lab.test", "recipients", "x=y@lab.test;z@lab.test", "rule",
			      "R|1 = odd\\rule");
	evsink_event ev = mail_event(d);
	cef_record r;
	cef_format(&ev, 0, "host|a", &r);
	ck_assert_str_eq(r.event_id, "MS:quarantine");
	ck_assert_int_eq(r.severity, 6);
	ck_assert_ptr_nonnull(strstr(r.text, "msg=a|b\\=c\\\\d\\nline2\\rend"));
	ck_assert(strchr(r.text, '\n') == NULL && strchr(r.text, '\r') == NULL);
	tl_cef c;
	ck_assert_int_eq(tl_cef_parse(r.text, &c), 0);
	ck_assert_int_eq(c.nhdr, 7);
	ck_assert_str_eq(c.hdr[2], "InterScan Messaging Security Virtual Appliance");
	ck_assert_str_eq(c.hdr[4], "MS:quarantine");
	ck_assert_str_eq(c.hdr[5], "Content Security");
	ck_assert_str_eq(tl_cef_get(&c, "msg"), subject);
	ck_assert_str_eq(tl_cef_get(&c, "cs1"), "R|1 = odd\\rule");
	ck_assert_str_eq(tl_cef_get(&c, "cs1Label"), "policy");
	ck_assert_str_eq(tl_cef_get(&c, "duser"), "x=y@lab.test;z@lab.test");
	ck_assert_str_eq(tl_cef_get(&c, "dvchost"), "host|a");
	ck_assert_str_eq(tl_cef_get(&c, "externalId"), "42");
	ck_assert_str_eq(tl_cef_get(&c, "rt"), "Nov 14 2023 22:13:20 GMT+00:00");
	tl_cef_free(&c);
	free(r.text);
	json_decref(d);
}

TEST(test_cef_header_escapes)
{
	sbuf b = {0};
	cef_escape_header(&b, "a|b\\c\nd");
	ck_assert_str_eq(b.data, "a\\|b\\\\c d");
	sbuf_free(&b);
}

TEST(test_leef_tab_separated_and_fallback)
{
	json_t *d = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "id", 77, "sha1",
			      "3395856CE81F2B7382DEE72602F798B642F14140", "file_name", "a\tb.exe",
			      "risk", "High", "threat", "TROJ_X", "client_ip", "10.0.0.5",
			      "server_ip", "10.0.0.9");
	evsink_event ev = {.id = 7, .ts_ms = 1, .appliance = "ddi", .kind = "detection",
			   .ref = "x", .detail = d};
	cef_record r;
	cef_format(&ev, 1, "sensor", &r);
	tl_cef c;
	ck_assert_int_eq(tl_leef_parse(r.text, &c), 0);
	ck_assert_str_eq(c.hdr[2], "Deep Discovery Inspector");
	ck_assert_str_eq(c.hdr[4], "SECURITY_RISK_DETECTION");
	ck_assert_str_eq(tl_cef_get(&c, "fname"), "a b.exe");
	ck_assert_str_eq(tl_cef_get(&c, "sev"), "8");
	ck_assert_str_eq(tl_cef_get(&c, "logId"), "77"); /* LEEF: the label is the key */
	ck_assert_str_eq(tl_cef_get(&c, "src"), "10.0.0.5");
	tl_cef_free(&c);
	free(r.text);
	/* TMCM has no LEEF: CEF instead */
	ev.appliance = "tmcm";
	ev.kind = "udso.put";
	cef_format(&ev, 1, "hub", &r);
	ck_assert(strncmp(r.text, "CEF:0|Trend Micro|Control Manager|", 34) == 0);
	free(r.text);
	json_decref(d);
}

/* --- queue, retries, transactions ------------------------------------------- */

typedef struct test_sink {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int gate_closed;  /* deliver waits while set */
	int fail_first;   /* fail this many attempts */
	int always_fail;
	json_t *kinds;    /* delivered, in order */
} test_sink;

static int test_deliver(void *state, const evsink_event *ev, ctd_err *err)
{
	test_sink *t = state;
	pthread_mutex_lock(&t->mu);
	while (t->gate_closed)
		pthread_cond_wait(&t->cv, &t->mu);
	int fail = t->always_fail || t->fail_first-- > 0;
	if (!fail)
		json_array_append_new(t->kinds, json_string(ev->kind));
	pthread_mutex_unlock(&t->mu);
	return fail ? ctd_fail(err, CTD_EIO, "test sink refuses") : 0;
}

static void test_free(void *state)
{
	test_sink *t = state;
	json_decref(t->kinds);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static const evsink_ops test_ops = {"test", test_deliver, test_free};

static test_sink *sink_new(void)
{
	test_sink *t = xcalloc(1, sizeof *t);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->kinds = json_array();
	return t;
}

static void wait_stats(evsink *s, uint64_t sent, uint64_t failed, evsink_stats *st)
{
	for (int i = 0; i < 3000; i++) {
		evsink_get_stats(s, st);
		if (st->sent >= sent && st->failed >= failed)
			return;
		tl_sleep_ms(5);
	}
	ck_abort_msg("sink stuck: sent %llu failed %llu", (unsigned long long)st->sent,
		     (unsigned long long)st->failed);
}

TEST(test_full_queue_drops_and_counts)
{
	test_sink *t = sink_new();
	t->gate_closed = 1;
	evsink_policy pol = {.kinds = "mail.*", .queue_max = 2};
	evsink *s = evsink_add(&test_ops, t, &pol, NULL);
	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 5; i++)
		evsink_offer(i + 1, 1, "imsva", "mail.sent", NULL, NULL, 0);
	evsink_offer(9, 1, "imsva", "other.kind", NULL, NULL, 0); /* not chosen: not queued */
	evsink_stats st;
	evsink_get_stats(s, &st);
	ck_assert_uint_eq(st.queued, 2);
	ck_assert_uint_eq(st.dropped_full, 3);
	pthread_mutex_lock(&t->mu);
	t->gate_closed = 0;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	wait_stats(s, 2, 0, &st);
	ck_assert_uint_eq(st.depth, 0);
	ck_assert_int_eq(json_array_size(t->kinds), 2);
	evsink_stop_all();
}

TEST(test_retry_with_backoff_then_give_up)
{
	test_sink *ok_later = sink_new(), *never = sink_new();
	ok_later->fail_first = 2;
	never->always_fail = 1;
	evsink_policy pol = {.retries = 3, .backoff_ms = 1};
	evsink *a = evsink_add(&test_ops, ok_later, &pol, NULL);
	pol.retries = 1;
	evsink *b = evsink_add(&test_ops, never, &pol, NULL);
	evsink_offer(1, 1, "ddan", "sample.done", "SHA", NULL, 0);
	evsink_stats st;
	wait_stats(a, 1, 0, &st);
	ck_assert_uint_eq(st.retries, 2);
	ck_assert_uint_eq(st.failed, 0);
	wait_stats(b, 0, 1, &st);
	ck_assert_uint_eq(st.retries, 1);
	ck_assert_uint_eq(st.sent, 0);
	evsink_stop_all();
}

TEST(test_transaction_events_wait_for_commit)
{
	char *dir = tl_tmpdir("evsink"), *path = xasprintf("%s/lab.db", dir);
	store *db;
	ck_assert_int_eq(store_open(path, &db, NULL), 0);
	test_sink *t = sink_new();
	evsink_policy pol = {0};
	evsink *s = evsink_add(&test_ops, t, &pol, NULL);
	ck_assert_int_eq(store_begin(db, NULL), 0);
	ck_assert(events_append(db, "tmcm", "udso.put", "a", NULL, NULL) > 0);
	ck_assert(events_append(db, "tmcm", "udso.deleted", "a", NULL, NULL) > 0);
	evsink_stats st;
	evsink_get_stats(s, &st);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_int_eq(store_commit(db, NULL), 0);
	wait_stats(s, 2, 0, &st);
	ck_assert_str_eq(json_string_value(json_array_get(t->kinds, 0)), "udso.put");
	ck_assert_str_eq(json_string_value(json_array_get(t->kinds, 1)), "udso.deleted");

	ck_assert_int_eq(store_begin(db, NULL), 0);
	ck_assert(events_append(db, "tmcm", "udso.put", "b", NULL, NULL) > 0);
	store_rollback(db);
	ck_assert(events_append(db, "tmcm", "so.action", "c", NULL, NULL) > 0); /* autocommit */
	wait_stats(s, 3, 0, &st);
	ck_assert_uint_eq(st.queued, 3);
	ck_assert_str_eq(json_string_value(json_array_get(t->kinds, 2)), "so.action");
	evsink_stop_all();
	store_close(db);
	tl_rmrf(dir);
	free(dir);
	free(path);
}

TEST(test_webhook_signature)
{
	json_t *d = json_pack("{s:i}", "risk", 3);
	evsink_event ev = {.id = 5, .ts_ms = 1700000000000LL, .appliance = "ddan",
			   .kind = "sample.done", .ref = "SHA", .detail = d};
	char *body = webhook_body(&ev), sig[72];
	json_t *j = json_loads(body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "ddan.sample.done");
	ck_assert_str_eq(json_string_value(json_object_get(j, "time")), "2023-11-14T22:13:20Z");
	json_decref(j);
	webhook_sign("key", "The quick brown fox jumps over the lazy dog", sig);
	/* RFC 4231-style known answer (Wikipedia's HMAC-SHA256 example) */
	ck_assert_str_eq(sig, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
	free(body);
	json_decref(d);
}
