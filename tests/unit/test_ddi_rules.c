/* test_ddi_rules.c - DDI's decisions on a carved file: true file type
 * (libmagic), pre-scan, the default file submission rules, the local verdict
 * of the internal Virtual Analyzer, URL normalisation, and SO change ids. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "testlib.h"
#include "util.h"
#include "ddi/ddi_sensor.h"

static ddi_rule_result eval(const char *ruleset, const char *proto, const char *name,
			    const char *type, int known, int susp)
{
	ddi_rule_input in = {proto, name, type, 100, known, susp};
	ddi_rule_result r;
	ddi_rules_eval(ruleset, &in, &r);
	return r;
}

TEST(test_true_types)
{
	char desc[256];
	/* a DOS stub is enough for libmagic to call it an executable */
	unsigned char mz[128] = {'M', 'Z'};
	ck_assert_str_eq(ddi_true_type(mz, sizeof(mz), desc, sizeof(desc)), "WIN_EXE");
	const char *pdf = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
	ck_assert_str_eq(ddi_true_type((const unsigned char *)pdf, strlen(pdf), desc, sizeof(desc)),
			 "PDF");
	const char *txt = "just some words\n";
	ck_assert_str_eq(ddi_true_type((const unsigned char *)txt, strlen(txt), desc, sizeof(desc)),
			 "TEXT");
}

TEST(test_default_rules)
{
	ddi_rule_result r = eval("default", "HTTP", "x.exe", "WIN_EXE", 1, 0);
	ck_assert_str_eq(r.rule, "Known malware");
	ck_assert_int_eq(r.submit, 0);
	r = eval("default", "HTTP", "x.txt", "TEXT", 0, 1);
	ck_assert_str_eq(r.rule, "Highly suspicious files");
	ck_assert_int_eq(r.submit, 1);
	r = eval("default", "SMTP", "invoice.pdf.lnk", "LNK", 0, 0);
	ck_assert_str_eq(r.rule, "Executables and risky file types");
	ck_assert_int_eq(r.submit, 1);
	r = eval("default", "HTTP", "run.PS1", "TEXT", 0, 0);
	ck_assert_str_eq(r.rule, "Scripts over HTTP");
	r = eval("default", "HTTP", "page.html", "HTML", 0, 0);
	ck_assert_str_eq(r.rule, "No matching rule");
	ck_assert_int_eq(r.submit, 0);
	r = eval("default", "SMTP", "page.html", "HTML", 0, 0);
	ck_assert_str_eq(r.rule, "Scripts and web pages over SMTP");
	r = eval("default", "SMTP", "movie", "SWF", 0, 0);
	ck_assert_str_eq(r.rule, "Flash over SMTP");
	r = eval("default", "HTTP", "movie", "SWF", 0, 0);
	ck_assert_int_eq(r.submit, 0);
	r = eval("all", "HTTP", "notes.txt", "TEXT", 0, 0);
	ck_assert_str_eq(r.rule, "Submit all files");
	ck_assert_int_eq(r.submit, 1);
	r = eval("all", "HTTP", "eicar.com", "TEXT", 1, 0);
	ck_assert_int_eq(r.submit, 0);
	json_t *d = ddi_rules_describe("default");
	ck_assert_int_eq(json_array_size(d), 6);
	json_decref(d);
}

TEST(test_local_verdict)
{
	char threat[64];
	const char *eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
	ck_assert_int_eq(ddi_local_verdict((const unsigned char *)eicar, strlen(eicar), threat, 64),
			 RISK_HIGH);
	ck_assert_str_eq(threat, "Eicar_test_file");
	ck_assert_int_eq(ddi_local_verdict((const unsigned char *)"x CTDLAB-RISK-MEDIUM y", 22,
					   threat, 64),
			 RISK_MEDIUM);
	ck_assert_int_eq(ddi_local_verdict((const unsigned char *)"CTDLAB-RISK-HIGH", 16, threat, 64),
			 RISK_HIGH);
	ck_assert_int_eq(ddi_local_verdict((const unsigned char *)"CTDLAB-RISK-HIG", 15, threat, 64),
			 RISK_NONE);
	ck_assert_str_eq(ddi_risk_name(RISK_MEDIUM), "Medium");
}

TEST(test_url_normalisation)
{
	const char *cases[][2] = {
		{"HTTP://Files.Lab.TEST:80/A/b.exe?Q=1", "http://files.lab.test/A/b.exe?Q=1"},
		{"http://h:8080", "http://h:8080/"},
		{"https://X.test:443/p", "https://x.test/p"},
		{"not a url", "not a url"},
	};
	for (size_t i = 0; i < 4; i++) {
		char *n = ddi_so_normalize_url(cases[i][0]);
		ck_assert_str_eq(n, cases[i][1]);
		free(n);
	}
}

TEST(test_so_change_ids)
{
	char *dir = tl_tmpdir("ddi-so");
	char *db = xasprintf("%s/lab.db", dir);
	store *st;
	ctd_err err;
	ck_assert_int_eq(store_open(db, &st, &err), 0);
	ddi_file_ref f = {1,	   "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "a.exe", "HTTP",
			  "http://Evil.test/a.exe", "evil.test", "10.0.0.1", "10.0.0.2", 5000, 80};
	ck_assert_int_eq(ddi_so_from_file(st, &f, RISK_HIGH, "file,url,domain,ip", 1000, &err), 0);
	json_t *l = ddi_so_list(st, NULL, 0, 100, &err);
	ck_assert_int_eq(json_array_size(l), 4);
	json_decref(l);
	/* Medium: no file SO; seen again: new change id, risk never lowered */
	ck_assert_int_eq(ddi_so_from_file(st, &f, RISK_MEDIUM, "url,ip", 1000, &err), 0);
	l = ddi_so_list(st, "URL", 0, 100, &err);
	json_t *u = json_array_get(l, 0);
	ck_assert_str_eq(json_string_value(json_object_get(u, "value")), "http://evil.test/a.exe");
	ck_assert_str_eq(json_string_value(json_object_get(u, "risk")), "High");
	ck_assert_int_eq(json_integer_value(json_object_get(u, "change_id")), 5);
	json_decref(l);
	sbuf xml = {0};
	ck_assert_int_eq(ddi_so_feed_page(st, 4, 10, &xml, &err), 0);
	ck_assert_ptr_nonnull(strstr(xml.data, "http://evil.test/a.exe"));
	sbuf_free(&xml);
	/* expiry takes a new change id and marks the object removed */
	ck_assert_int_eq(ddi_so_expire_due(st, time_now_ms() + 5000, &err), 4);
	l = ddi_so_list(st, NULL, 0, 100, &err);
	ck_assert_int_eq(json_array_size(l), 0);
	json_decref(l);
	l = ddi_so_list(st, NULL, 1, 100, &err);
	ck_assert_int_eq(json_array_size(l), 4);
	json_decref(l);
	store_close(st);
	tl_rmrf(dir);
	free(db);
	free(dir);
}
