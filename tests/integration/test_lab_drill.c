/* test_lab_drill.c - the seed's four-step drill against a real lab: `ctdlab
 * up` on ephemeral ports, `ctdlab --json drill all`, every step and every
 * check passed with the evidence the walkthrough names (rule names in the
 * IMSVA logs, SO ids, sync times), then `ctdlab down`. DDI's live capture is
 * off, so STEP 3 takes (and must report) the capture-file path. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

/* The report: the JSON document in the output (tools may log around it). */
static json_t *report(const char *out)
{
	const char *start = strchr(out, '{');
	json_error_t e;
	json_t *j = start ? json_loads(start, JSON_DISABLE_EOF_CHECK, &e) : NULL;
	ck_assert_msg(j != NULL, "no JSON report in:\n%.2000s", out);
	return j;
}

/* The failed checks of a report, one line each, short enough for Check's
 * message limit. Caller frees. */
static char *failed_checks(json_t *r)
{
	sbuf b = {0};
	size_t i, k;
	json_t *s, *c;
	json_array_foreach(json_object_get(r, "steps"), i, s)
		json_array_foreach(json_object_get(s, "checks"), k, c)
			if (!json_is_true(json_object_get(c, "ok")))
				sbuf_printf(&b, "%s: %.600s\n", json_string_value(json_object_get(c, "id")),
					    json_string_value(json_object_get(c, "text")));
	return b.data ? sbuf_detach(&b) : xstrdup("(no failed check)");
}

static json_t *find_check(json_t *step, const char *id)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(step, "checks"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
			return c;
	ck_abort_msg("step %s has no check %s", json_string_value(json_object_get(step, "step")), id);
	return NULL;
}

static const char *evidence(json_t *check, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(check, "evidence"), a);
	return json_string_value(b ? json_object_get(v, b) : v);
}

TEST(test_drill_all)
{
	char *dir = tl_tmpdir("drill"), *out = NULL;
	tl_lab_env();
	const char *up[] = {"up", NULL};
	ck_assert_msg(tl_ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%.2000s", out);
	free(out);

	const char *drill[] = {"--json", "drill", "--timeout", "60", "all", NULL};
	int rc = tl_ctdlab(dir, drill, &out);
	json_t *r = report(out);
	char *why = failed_checks(r);
	ck_assert_msg(rc == 0 && json_is_true(json_object_get(r, "passed")), "drill failed (%d):\n%s",
		      rc, why);
	free(why);
	json_t *steps = json_object_get(r, "steps");
	ck_assert_int_eq(json_array_size(steps), 4);
	size_t i, k;
	json_t *s, *c;
	json_array_foreach(steps, i, s) {
		ck_assert_msg(json_is_true(json_object_get(s, "passed")), "step %zu failed", i + 1);
		ck_assert(json_integer_value(json_object_get(s, "ms")) >= 0);
		json_array_foreach(json_object_get(s, "checks"), k, c)
			ck_assert_msg(json_is_true(json_object_get(c, "ok")), "%s: %s",
				      json_string_value(json_object_get(c, "id")),
				      json_string_value(json_object_get(c, "text")));
	}
	json_t *s1 = json_array_get(steps, 0), *s2 = json_array_get(steps, 1);
	json_t *s3 = json_array_get(steps, 2), *s4 = json_array_get(steps, 3);

	/* STEP 1: quarantined by the drill's true-file-type rule after VA */
	ck_assert_str_eq(evidence(find_check(s1, "1-2"), "change", NULL), "created");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(find_check(s1, "1-2"), "evidence"), "order")), 2);
	json_t *c13 = find_check(s1, "1-3");
	ck_assert_str_eq(evidence(c13, "log", "rule"), "CTD drill: true file type to Virtual Analyzer");
	ck_assert_str_eq(evidence(c13, "log", "type"), "quarantine");
	const char *sha1 = evidence(c13, "sha1", NULL);
	ck_assert_int_eq(strlen(sha1), 40);

	/* STEP 2: DDAN's SO of that SHA-1, blocked in TMCM, synced, quarantined */
	ck_assert_str_eq(evidence(find_check(s2, "2-1"), "object", NULL), sha1);
	json_t *c23 = json_object_get(find_check(s2, "2-3"), "evidence");
	ck_assert(json_integer_value(json_object_get(c23, "change_id")) > 0);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(c23, "objects"), 0), "action")),
			 "block");
	ck_assert(evidence(find_check(s2, "2-4"), "last_sync", NULL) != NULL);
	/* the proof of arrival: IMSVA's change number reached TMCM's change */
	json_t *ev23 = json_object_get(find_check(s2, "2-3"), "evidence");
	json_t *ev24 = json_object_get(find_check(s2, "2-4"), "evidence");
	ck_assert(evidence(find_check(s2, "2-4"), "last_change", NULL) != NULL);
	ck_assert_int_ge(json_integer_value(json_object_get(ev24, "change_number")),
			 json_integer_value(json_object_get(ev23, "change_id")));
	ck_assert_int_gt(json_integer_value(json_object_get(ev23, "change_id")), 0);
	json_t *c25 = find_check(s2, "2-5");
	ck_assert_str_eq(evidence(c25, "log", "rule"), "TMCM_Suspicious File detection rule");
	ck_assert_str_eq(evidence(c25, "log", "action"), "quarantine");

	/* STEP 3: DDI saw the download through a capture file (live capture off) */
	json_t *c31 = find_check(s3, "3-1");
	ck_assert_str_eq(evidence(c31, "mode", NULL), "capture file");
	ck_assert(strstr(json_string_value(json_object_get(c31, "text")), "capture file") != NULL);
	/* STEP 3-2: TMCM lists DDI as the object's source (DDAN analysed it too) */
	json_t *c32 = find_check(s3, "3-2");
	ck_assert_str_eq(evidence(c32, "source", NULL), "DDI");
	ck_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(json_object_get(c32, "evidence"), "sources"), 0)),
			 "DDI");
	ck_assert_str_eq(evidence(find_check(s3, "3-5"), "log", "rule"),
			 "TMCM_Suspicious File detection rule");

	/* STEP 4: dtascli's URL SO, Block, SPS has it, the URL mail quarantined */
	const char *url = evidence(find_check(s4, "4-2"), "ddan_so", "object");
	ck_assert_msg(url && strncmp(url, "http", 4) == 0, "no URL SO in 4-2");
	json_t *c45 = find_check(s4, "4-5");
	ck_assert_str_eq(evidence(c45, "log", "rule"), "TMCM_Suspicious URL detection rule");
	ck_assert_str_eq(evidence(c45, "url", NULL), url);
	json_decref(r);
	free(out);

	const char *down[] = {"down", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, down, &out), 0);
	free(out);
	tl_rmrf(dir);
	free(dir);
}

TEST(test_drill_needs_a_lab)
{
	char *dir = tl_tmpdir("drill-nolab"), *out = NULL;
	const char *drill[] = {"drill", "step1", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, drill, &out), 1);
	ck_assert_msg(strstr(out, "ctdlab up") != NULL, "unhelpful message: %.2000s", out);
	free(out);
	const char *json[] = {"--json", "drill", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, json, &out), 1);
	json_t *r = report(out);
	ck_assert(json_is_false(json_object_get(r, "passed")));
	ck_assert(strstr(json_string_value(json_object_get(r, "error")), "ctdlab up") != NULL);
	json_decref(r);
	free(out);
	const char *bad[] = {"drill", "step9", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, bad, &out), 2);
	free(out);
	tl_rmrf(dir);
	free(dir);
}

TL_SUITE(.timeout = 300);
