/* test_imsva_msgstore.c - IMSVA's message lifecycle without a daemon: the
 * state names round trip (and stay the names stored by earlier labs), the
 * transition table, and the message store's functions on a real store:
 * insert, claim, outcomes, failures, VA return, restart recovery, and the
 * transitions it refuses with CTD_ECONFLICT. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "imsva/imsva_app.h"
#include "imsva/imsva_smtp.h"
#include "testlib.h"
#include "util.h"

START_TEST(state_names_round_trip)
{
	/* the names existing labs have in imsva_messages.state */
	static const char *const stored[] = {"new", "processing", "defer", "va", "delivered",
					     "quarantined", "deleted", "handoff", "error"};
	ck_assert_int_eq(sizeof stored / sizeof stored[0], IMSVA_MSG_STATE_COUNT);
	for (int i = 0; i < IMSVA_MSG_STATE_COUNT; i++) {
		imsva_msg_state s;
		ck_assert_str_eq(imsva_msg_state_name((imsva_msg_state)i), stored[i]);
		ck_assert_int_eq(imsva_msg_state_parse(stored[i], &s), 0);
		ck_assert_int_eq(s, i);
	}
	imsva_msg_state s;
	ck_assert_int_eq(imsva_msg_state_parse("bogus", &s), -1);
	ck_assert_int_eq(imsva_msg_state_parse(NULL, &s), -1);
	ck_assert_str_eq(imsva_msg_state_name(IMSVA_MSG_STATE_COUNT), "unknown");
	ck_assert(imsva_msg_state_final(IMSVA_MSG_QUARANTINED));
	ck_assert(!imsva_msg_state_final(IMSVA_MSG_VA));
	ck_assert(!imsva_msg_state_final(IMSVA_MSG_ERROR));
}
END_TEST

START_TEST(transition_table)
{
	ck_assert(imsva_msg_transition_allowed(IMSVA_MSG_NEW, IMSVA_MSG_PROCESSING));
	ck_assert(imsva_msg_transition_allowed(IMSVA_MSG_PROCESSING, IMSVA_MSG_DELIVERED));
	ck_assert(imsva_msg_transition_allowed(IMSVA_MSG_PROCESSING, IMSVA_MSG_VA));
	ck_assert(imsva_msg_transition_allowed(IMSVA_MSG_VA, IMSVA_MSG_NEW));
	ck_assert(imsva_msg_transition_allowed(IMSVA_MSG_DEFER, IMSVA_MSG_NEW));
	ck_assert(!imsva_msg_transition_allowed(IMSVA_MSG_NEW, IMSVA_MSG_DELIVERED));
	ck_assert(!imsva_msg_transition_allowed(IMSVA_MSG_DELIVERED, IMSVA_MSG_NEW));
	ck_assert(!imsva_msg_transition_allowed(IMSVA_MSG_VA, IMSVA_MSG_DELIVERED));
	ck_assert(!imsva_msg_transition_allowed(IMSVA_MSG_ERROR, IMSVA_MSG_NEW));
	ck_assert(!imsva_msg_transition_allowed(IMSVA_MSG_STATE_COUNT, IMSVA_MSG_NEW));
}
END_TEST

/* ---- the store ---- */

static char *dir, *db;
static store *st;

static void store_setup(void)
{
	ctd_err err = {0};
	dir = tl_tmpdir("imsva-msgstore");
	db = xasprintf("%s/lab.db", dir);
	ck_assert_int_eq(store_open(db, &st, &err), 0);
}

static void store_teardown(void)
{
	store_close(st);
	tl_rmrf(dir);
	free(db);
	free(dir);
}

static int64_t insert(const char *subject_line)
{
	char *rcpts[] = {"a@example.org", "b@example.org"};
	smtp_envelope e = {.helo = "client.test", .client_ip = "192.0.2.1", .mail_from = "s@test",
			   .rcpts = rcpts, .nrcpts = 2, .received_ms = 1000};
	sbuf_printf(&e.data, "Subject: %s\r\n\r\nbody\r\n", subject_line);
	ctd_err err = {0};
	int64_t id = 0;
	ck_assert_int_eq(imsva_msgs_insert(st, &e, &id, &err), 0);
	sbuf_free(&e.data);
	return id;
}

static const char *state_of(int64_t id)
{
	static char buf[32];
	ctd_err err = {0};
	json_t *o = imsva_msgs_get_json(st, id, &err);
	ck_assert_ptr_nonnull(o);
	snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(o, "state")));
	json_decref(o);
	return buf;
}

static int claim_all(int64_t now, int64_t *ids)
{
	ctd_err err = {0};
	int n = imsva_msgs_claim(st, now, ids, 16, &err);
	ck_assert_int_ge(n, 0);
	return n;
}

START_TEST(insert_load_claim_finish)
{
	int64_t id = insert("hello");
	ck_assert_str_eq(state_of(id), "new");
	ctd_err err = {0};
	imsva_stored_msg m;
	ck_assert_int_eq(imsva_msgs_load(st, id, &m, &err), 0);
	ck_assert_int_eq(m.nrcpts, 2);
	ck_assert_str_eq(m.rcpts[1], "b@example.org");
	ck_assert_str_eq(m.client_ip, "192.0.2.1");
	ck_assert_ptr_nonnull(strstr(m.data, "Subject: hello"));
	imsva_stored_msg_free(&m);

	int64_t ids[16];
	ck_assert_int_eq(claim_all(time_now_ms(), ids), 1);
	ck_assert_int_eq(ids[0], id);
	ck_assert_str_eq(state_of(id), "processing");
	ck_assert_int_eq(claim_all(time_now_ms(), ids), 0); /* claimed once */
	ck_assert_int_eq(imsva_msgs_processed(st, id, IMSVA_MSG_QUARANTINED, 0, "hello", "<x@y>",
					      &err), 0);
	json_t *o = imsva_msgs_get_json(st, id, &err);
	ck_assert_str_eq(json_string_value(json_object_get(o, "state")), "quarantined");
	ck_assert_str_eq(json_string_value(json_object_get(o, "final_action")), "quarantined");
	ck_assert_str_eq(json_string_value(json_object_get(o, "subject")), "hello");
	json_decref(o);
	o = imsva_msgs_state_counts(st, &err);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "messages")), 1);
	json_decref(o);
}
END_TEST

START_TEST(refused_transitions)
{
	int64_t id = insert("refused");
	ctd_err err = {0};
	/* not claimed: no outcome yet */
	ck_assert_int_eq(imsva_msgs_processed(st, id, IMSVA_MSG_DELIVERED, 0, NULL, NULL, &err), -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	ck_assert_str_eq(state_of(id), "new");
	/* not parked for VA */
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(imsva_msgs_va_done(st, id, &err), -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	int64_t ids[16];
	ck_assert_int_eq(claim_all(time_now_ms(), ids), 1);
	/* processing cannot "become" processing or new through an outcome */
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(imsva_msgs_processed(st, id, IMSVA_MSG_PROCESSING, 0, NULL, NULL, &err),
			 -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	ck_assert_int_eq(imsva_msgs_processed(st, id, IMSVA_MSG_DELETED, 0, NULL, NULL, &err), 0);
	/* a final state is final */
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(imsva_msgs_failed(st, id, 5, 0, &err), -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	ck_assert_str_eq(state_of(id), "deleted");
	/* no such message */
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(imsva_msgs_va_done(st, 999, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	ck_assert_ptr_null(imsva_msgs_get_json(st, 999, &err));
}
END_TEST

START_TEST(va_defer_failure_recovery)
{
	int64_t a = insert("va"), b = insert("defer"), c = insert("fails"), d = insert("crash");
	int64_t ids[16];
	ctd_err err = {0};
	ck_assert_int_eq(claim_all(time_now_ms(), ids), 4);
	ck_assert_int_eq(imsva_msgs_processed(st, a, IMSVA_MSG_VA, 0, "va", NULL, &err), 0);
	ck_assert_int_eq(imsva_msgs_processed(st, b, IMSVA_MSG_DEFER, 5000, NULL, NULL, &err), 0);
	ck_assert_int_eq(imsva_msgs_failed(st, c, 1, 5000, &err), 0); /* 1 attempt: gives up */
	ck_assert_str_eq(state_of(c), "error");
	/* the VA result is in: a is new again; b is not due before 5000 */
	ck_assert_int_eq(imsva_msgs_va_done(st, a, &err), 0);
	ck_assert_int_eq(claim_all(4999, ids), 1);
	ck_assert_int_eq(ids[0], a);
	ck_assert_int_eq(claim_all(5000, ids), 1);
	ck_assert_int_eq(ids[0], b);
	/* claimed when the daemon stopped: new again at start-up */
	ck_assert_int_eq(imsva_msgs_recover(st, &err), 0);
	ck_assert_str_eq(state_of(a), "new");
	ck_assert_str_eq(state_of(d), "new");
	ck_assert_str_eq(state_of(c), "error");
	/* a failure with attempts left defers */
	ck_assert_int_eq(claim_all(time_now_ms(), ids), 3);
	ck_assert_int_eq(imsva_msgs_failed(st, d, 5, 5000, &err), 0);
	ck_assert_str_eq(state_of(d), "defer");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("imsva_msgstore");
	TCase *names = tcase_create("names");
	tcase_add_test(names, state_names_round_trip);
	tcase_add_test(names, transition_table);
	suite_add_tcase(s, names);
	TCase *t = tcase_create("store");
	tcase_add_checked_fixture(t, store_setup, store_teardown);
	tcase_add_test(t, insert_load_claim_finish);
	tcase_add_test(t, refused_transitions);
	tcase_add_test(t, va_defer_failure_recovery);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
