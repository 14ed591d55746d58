/* test_imsva_step1.c - seed STEP 1 against a real imsvad: tick ATSE in the
 * scan engine (1-1), add an "Other" rule at order 2 quarantining a true file
 * type (1-2), send the Sample SO with a real SMTP client, and find it in the
 * quarantine events by rule name and date range (1-3); a clean mail is
 * delivered. Also: policy CRUD with validation (400 naming the field),
 * quarantine query/release/delete, and log query filters with wildcards. */
#include <curl/curl.h>
#include <stdio.h>
#include "imsva_testutil.h"
#include "store.h"

#define RULE_NAME "STEP1 Sample SO to DDAN"

static imsvad d;

static void setup(void)
{
	memset(&d, 0, sizeof d);
	imsvad_start(&d, NULL);
}

static void teardown(void)
{
	imsvad_stop(&d, 0);
}

/* The lab's "Sample SO": a small PDF that the deterministic verdict rules
 * (DDAN and ATSE alike) call high risk. */
static const char sample_so_pdf[] =
	"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
	"% CTDLAB-RISK-HIGH sample SO of the CTD check-out guide\n%%EOF\n";

/* A MIME mail with one base64 attachment, sent with libcurl (a real client). */
static int send_with_attachment(const char *rcpt, const char *subject, const char *fname,
				const char *data, size_t len)
{
	CURL *c = curl_easy_init();
	curl_mime *mime = curl_mime_init(c);
	curl_mimepart *part = curl_mime_addpart(mime);
	curl_mime_data(part, "Please find the file attached.", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(mime);
	curl_mime_data(part, data, len);
	curl_mime_filename(part, fname);
	curl_mime_type(part, "application/octet-stream");
	curl_mime_encoder(part, "base64");
	char *subj = xasprintf("Subject: %s", subject);
	struct curl_slist *hdr = curl_slist_append(NULL, subj);
	hdr = curl_slist_append(hdr, "From: sender@example.com");
	struct curl_slist *rl = curl_slist_append(NULL, rcpt);
	char *url = xasprintf("smtp://127.0.0.1:%d", d.smtp_port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<sender@example.com>");
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rl);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(rl);
	curl_slist_free_all(hdr);
	curl_mime_free(mime);
	curl_easy_cleanup(c);
	free(url);
	free(subj);
	return rc == CURLE_OK ? 0 : -1;
}

static json_int_t create_step1_rule(void)
{
	long st = 0;
	json_t *r = api(&d, "POST",
			"{\"name\":\"" RULE_NAME "\",\"order\":2,\"type\":\"other\","
			"\"route\":{\"senders\":[\"*@example.com\"],\"recipients\":[\"*\"]},"
			"\"conditions\":{\"true_file_types\":[\"pdf\",\"executable\"]},"
			"\"actions\":{\"intercept\":{\"action\":\"quarantine\",\"area\":\"DDAN\"}}}",
			&st, "/api/policies");
	ck_assert_int_eq(st, 201);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "order")), 2);
	json_int_t id = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	return id;
}

START_TEST(step1_end_to_end)
{
	char from[32], to[32];
	time_iso8601(time_now_ms() - 60000, from, sizeof from);
	/* 1-1 Policy > Scan Engine: ATSE on */
	long st = 0;
	json_t *j = api(&d, "PUT", "{\"atse_enabled\":true}", &st, "/api/scan-engine");
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/scan-engine");
	ck_assert(json_is_true(json_object_get(j, "atse_enabled")));
	json_decref(j);
	/* 1-2 Policy list > Add > Other: true file type -> quarantine, order 2 */
	create_step1_rule();
	j = api(&d, "GET", NULL, &st, "/api/policies");
	int found = 0;
	size_t i;
	json_t *r;
	json_array_foreach(j, i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "name")), RULE_NAME))
			found = (int)json_integer_value(json_object_get(r, "order"));
	}
	ck_assert_int_eq(found, 2);
	json_decref(j);
	/* 1-3 send the Sample SO, and a clean mail */
	ck_assert_int_eq(send_with_attachment("<victim@example.org>", "Sample SO", "sample_so.pdf",
					      sample_so_pdf, sizeof sample_so_pdf - 1), 0);
	ck_assert_int_eq(send_with_attachment("<friend@example.org>", "Minutes", "minutes.txt",
					      "nothing to see\n", 15), 0);
	ck_assert(imsvad_wait_state(&d, "quarantined", 1));
	ck_assert(imsvad_wait_state(&d, "delivered", 1));
	/* Logs > Log Query: quarantine events, date range, rule name */
	time_iso8601(time_now_ms() + 60000, to, sizeof to);
	j = api(&d, "GET", NULL, &st, "/api/logs?type=Quarantine%%20events&from=%s&to=%s&rule=%s",
		from, to, "STEP1*DDAN");
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	json_t *row = json_array_get(json_object_get(j, "logs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(row, "rule")), RULE_NAME);
	ck_assert_str_eq(json_string_value(json_object_get(row, "subject")), "Sample SO");
	ck_assert_str_eq(json_string_value(json_object_get(row, "action")), "quarantined");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(row, "violating")),
				     "sample_so.pdf"));
	json_decref(j);
	/* a date range before the mail finds nothing */
	j = api(&d, "GET", NULL, &st, "/api/logs?type=quarantine&to=%s&rule=%s", from, "STEP1*");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 0);
	json_decref(j);
	/* the policy event names the rule; message tracking has both mails */
	j = api(&d, "GET", NULL, &st, "/api/logs?type=policy&rule=" "STEP1*" "&sender=*@example.com");
	ck_assert_int_ge(json_integer_value(json_object_get(j, "count")), 1);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs?type=message_tracking&recipient=friend@*;nobody@*");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(j, "logs"), 0), "action")),
			 "delivered");
	json_decref(j);
	/* the quarantine area holds it; the clean mail is in the mailbox */
	j = api(&d, "GET", NULL, &st, "/api/quarantine?area=DDAN&subject=Sample*");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/mailbox?rcpt=friend@example.org");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/mailbox?rcpt=victim@example.org");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 0);
	json_decref(j);
	/* one message as the admin API shows it (the Sample SO went first), and
	 * one that does not exist */
	j = api(&d, "GET", NULL, &st, "/api/messages/1");
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "queue_id")), "0000000001");
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "quarantined");
	ck_assert_str_eq(json_string_value(json_object_get(j, "final_action")), "quarantined");
	ck_assert_str_eq(json_string_value(json_object_get(j, "subject")), "Sample SO");
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/messages/999");
	ck_assert_int_eq(st, 404);
	json_decref(j);
	/* the shared timeline has the quarantine too */
	char *db = xasprintf("%s/lab.db", d.home);
	store *sdb = NULL;
	ctd_err err = {0};
	ck_assert_int_eq(store_open(db, &sdb, &err), 0);
	events_filter f = {.appliance = "imsva", .kind = "quarantine.*"};
	j = events_query(sdb, &f, &err);
	ck_assert_int_eq(json_array_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "kind")),
			 "quarantine.quarantined");
	json_decref(j);
	store_close(sdb);
	free(db);
}
END_TEST

START_TEST(quarantine_release_and_delete)
{
	create_step1_rule();
	ck_assert_int_eq(send_with_attachment("<a@example.org>", "first", "a.pdf", sample_so_pdf,
					      sizeof sample_so_pdf - 1), 0);
	ck_assert_int_eq(send_with_attachment("<b@example.org>", "second", "b.pdf", sample_so_pdf,
					      sizeof sample_so_pdf - 1), 0);
	json_t *q = imsvad_wait_count(&d, "/api/quarantine", 2);
	ck_assert_int_eq(json_integer_value(json_object_get(q, "count")), 2);
	json_int_t ids[2];
	for (int i = 0; i < 2; i++) {
		json_t *m = json_array_get(json_object_get(q, "messages"), (size_t)i);
		ck_assert_str_eq(json_string_value(json_object_get(m, "area")), "DDAN");
		ids[i] = json_integer_value(json_object_get(m, "id"));
	}
	json_decref(q);
	long st = 0;
	json_t *j = api(&d, "GET", NULL, &st, "/api/quarantine/areas");
	ck_assert_int_eq(st, 200);
	json_decref(j);
	/* release = re-delivery */
	j = api(&d, "POST", "", &st, "/api/quarantine/%lld/release", (long long)ids[0]);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "DELETE", NULL, &st, "/api/quarantine/%lld", (long long)ids[1]);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "POST", "", &st, "/api/quarantine/%lld/release", (long long)ids[1]);
	ck_assert_int_eq(st, 404);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/quarantine");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 0);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/mailbox");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs?type=quarantine");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 4);
	json_decref(j);
}
END_TEST

START_TEST(policy_crud_and_validation)
{
	long st = 0;
	json_t *j = api(&d, "POST",
			"{\"name\":\"bad\",\"conditions\":{\"true_file_types\":[\"pdf\",\"nope\"]}}",
			&st, "/api/policies");
	ck_assert_int_eq(st, 400);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "field")),
			 "conditions.true_file_types[1]");
	json_decref(j);
	j = api(&d, "POST", "{not json", &st, "/api/policies");
	ck_assert_int_eq(st, 400);
	json_decref(j);
	json_int_t id = create_step1_rule();
	j = api(&d, "PATCH", "{\"enabled\":false}", &st, "/api/policies/%lld", (long long)id);
	ck_assert_int_eq(st, 200);
	ck_assert(json_is_false(json_object_get(j, "enabled")));
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/policies/%lld", (long long)id);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "DELETE", NULL, &st, "/api/policies/%lld", (long long)id);
	ck_assert_int_eq(st, 200);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/policies/%lld", (long long)id);
	ck_assert_int_eq(st, 404);
	json_decref(j);
	/* rule changes are system events */
	j = api(&d, "GET", NULL, &st, "/api/logs?type=system&subject=&rule=");
	ck_assert_int_ge(json_integer_value(json_object_get(j, "count")), 3);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs?type=nonsense");
	ck_assert_int_eq(st, 400);
	json_decref(j);
	j = api(&d, "GET", NULL, &st, "/api/logs?from=yesterday-ish");
	ck_assert_int_eq(st, 400);
	json_decref(j);
}
END_TEST

/* Modify and monitor actions reach the delivered mail: tag subject, X-header,
 * BCC and a notification; change recipient redirects it. */
START_TEST(modify_monitor_and_change_recipient)
{
	long st = 0;
	json_t *j = api(&d, "POST",
			"{\"name\":\"tag and copy\",\"order\":2,\"type\":\"other\","
			"\"route\":{\"recipients\":[\"tagme@example.org\"]},"
			"\"actions\":{\"tag_subject\":\"[LAB]\",\"x_header\":{\"name\":\"X-Lab-Rule\","
			"\"value\":\"tagged\"},\"bcc\":[\"audit@example.org\"],"
			"\"notify\":{\"to\":[\"soc@example.org\"],\"message\":\"rule hit\"}}}",
			&st, "/api/policies");
	ck_assert_int_eq(st, 201);
	json_decref(j);
	j = api(&d, "POST",
		"{\"name\":\"redirect\",\"order\":3,\"type\":\"other\","
		"\"route\":{\"recipients\":[\"old@example.org\"]},"
		"\"actions\":{\"intercept\":{\"action\":\"change_recipient\","
		"\"recipients\":[\"new@example.org\"]}}}",
		&st, "/api/policies");
	ck_assert_int_eq(st, 201);
	json_decref(j);
	const char *r1[] = {"tagme@example.org", NULL}, *r2[] = {"old@example.org", NULL};
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", d.smtp_port, "s@example.com", r1,
				      "Subject: quarterly report\r\n\r\nnumbers\r\n"), 250);
	ck_assert_int_eq(tl_smtp_send("127.0.0.1", d.smtp_port, "s@example.com", r2,
				      "Subject: moved\r\n\r\nhello\r\n"), 250);
	json_t *box = imsvad_wait_count(&d, "/api/mailbox?rcpt=tagme@example.org", 1);
	json_int_t id = json_integer_value(
		json_object_get(json_array_get(json_object_get(box, "messages"), 0), "id"));
	json_decref(box);
	j = api(&d, "GET", NULL, &st, "/api/mailbox/%lld", (long long)id);
	const char *data = json_string_value(json_object_get(j, "data"));
	ck_assert_ptr_nonnull(strstr(data, "Subject: [LAB] quarterly report"));
	ck_assert_ptr_nonnull(strstr(data, "X-Lab-Rule: tagged"));
	json_decref(j);
	const char *paths[] = {"/api/mailbox?rcpt=audit@example.org",
			       "/api/mailbox?rcpt=soc@example.org",
			       "/api/mailbox?rcpt=new@example.org"};
	for (int i = 0; i < 3; i++) {
		box = imsvad_wait_count(&d, paths[i], 1);
		ck_assert_msg(json_integer_value(json_object_get(box, "count")) == 1, "%s", paths[i]);
		json_decref(box);
	}
	box = api(&d, "GET", NULL, &st, "/api/mailbox?rcpt=old@example.org");
	ck_assert_int_eq(json_integer_value(json_object_get(box, "count")), 0);
	json_decref(box);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("imsva_step1");
	TCase *t = tcase_create("step1");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, step1_end_to_end);
	tcase_add_test(t, quarantine_release_and_delete);
	tcase_add_test(t, policy_crud_and_validation);
	tcase_add_test(t, modify_monitor_and_change_recipient);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	tl_stop_all();
	curl_global_cleanup();
	return failed ? 1 : 0;
}
