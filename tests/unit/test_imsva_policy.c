/* test_imsva_policy.c - IMSVA's policy engine: routes with wildcards, every
 * condition, accumulate vs intercept, ordering, disabled rules, the default
 * rule set (EN/JA) with the TMCM SO rules (Block / Log), web reputation
 * levels and SPS failure, the VA park/resume flow and its verdict mapping,
 * rule JSON validation naming the bad field, and the rules store. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "imsva/imsva_engine.h"
#include "hash.h"
#include "util.h"
#include "testlib.h"

#define EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#define GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
/* Shaped like DDAN's seed "Sample SO": an MZ header, text, the high-risk marker. */
static const char SAMPLE_SO[] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
				"This program cannot be run in DOS mode.\r\n"
				"ctdlab Sample SO - harmless.\r\nCTDLAB-RISK-HIGH\r\n";

/* ------------------------------------------------------------------------
 * Fixtures: messages, rules from JSON, fake lookups
 * ------------------------------------------------------------------------ */
typedef struct att {
	const char *name, *data;
	size_t len; /* 0: strlen */
} att;

/* A message with a text body and the given attachments (NULL-terminated). */
static imsva_msg *message(const char *subject, const char *body, const att *atts)
{
	sbuf b = {0};
	sbuf_printf(&b, "From: alice@example.com\r\nTo: bob@example.net\r\nSubject: %s\r\n"
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		    subject, body);
	for (size_t i = 0; atts && atts[i].name; i++) {
		size_t len = atts[i].len ? atts[i].len : strlen(atts[i].data);
		char *b64 = base64_encode(atts[i].data, len);
		sbuf_printf(&b, "--b\r\nContent-Type: application/octet-stream\r\n"
				"Content-Disposition: attachment; filename=\"%s\"\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			    atts[i].name, b64);
		free(b64);
	}
	sbuf_puts(&b, "--b--\r\n");
	imsva_msg *m = NULL;
	ck_assert_int_eq(imsva_msg_parse(b.data, b.len, &m, NULL), 0);
	imsva_scan_opts o = {.atse_enabled = 1};
	imsva_scan(m, &o);
	sbuf_free(&b);
	return m;
}

static imsva_rule *rule(const char *json)
{
	json_error_t jerr;
	json_t *j = json_loads(json, 0, &jerr);
	ck_assert_msg(j != NULL, "bad test JSON: %s: %s", jerr.text, json);
	char field[IMSVA_FIELD_MAX];
	ctd_err err = {0};
	imsva_rule *r = imsva_rule_from_json(j, field, &err);
	ck_assert_msg(r != NULL, "rule rejected: %s", err.msg);
	json_decref(j);
	return r;
}

/* A rule set from rule JSON strings (NULL-terminated); ids 1..n. */
static imsva_ruleset *rules(const char *const *jsons)
{
	imsva_ruleset *s = xcalloc(1, sizeof *s);
	for (size_t i = 0; jsons[i]; i++) {
		imsva_rule *r = rule(jsons[i]);
		r->id = (int64_t)i + 1;
		imsva_ruleset_add(s, r);
	}
	return s;
}

typedef struct fake_url {
	const char *url;
	imsva_wrs_class cls;
	imsva_so_action so;
} fake_url;

typedef struct fakes {
	const char *so_sha1;
	imsva_so_action so_sha1_action;
	const char *so_url;
	imsva_so_action so_url_action;
	const fake_url *wrs; /* NULL-terminated by url */
	int wrs_down;
	int so_file_calls, so_url_calls, wrs_calls;
} fakes;

static imsva_so_action fake_so_file(void *ctx, const char *sha1)
{
	fakes *f = ctx;
	f->so_file_calls++;
	return f->so_sha1 && !strcmp(f->so_sha1, sha1) ? f->so_sha1_action : IMSVA_SO_NONE;
}

static imsva_so_action fake_so_url(void *ctx, const char *url)
{
	fakes *f = ctx;
	f->so_url_calls++;
	return f->so_url && !strcmp(f->so_url, url) ? f->so_url_action : IMSVA_SO_NONE;
}

static int fake_wrs(void *ctx, const char *url, imsva_wrs_rating *out)
{
	fakes *f = ctx;
	f->wrs_calls++;
	if (f->wrs_down)
		return -1;
	memset(out, 0, sizeof *out);
	out->cls = IMSVA_WRS_UNRATED;
	for (size_t i = 0; f->wrs && f->wrs[i].url; i++) {
		if (!strcmp(f->wrs[i].url, url)) {
			out->cls = f->wrs[i].cls;
			out->so_action = f->wrs[i].so;
		}
	}
	return 0;
}

static const char *const one_rcpt[] = {"bob@example.net"};
static const imsva_envelope env = {"alice@example.com", one_rcpt, 1};

/* Evaluate with fakes (so_url callback only when use_so_url). */
static void eval(const imsva_ruleset *s, const imsva_msg *m, fakes *f, int use_so_url,
		 const imsva_eval_opts *o, const imsva_va_state *va, imsva_verdict *v)
{
	imsva_lookups lk = {f, fake_so_file, use_so_url ? fake_so_url : NULL, fake_wrs};
	ctd_err err = {0};
	ck_assert_msg(imsva_policy_evaluate(s, m, &env, &lk, o, va, v, &err) == 0, "%s", err.msg);
}

static void assert_final(const imsva_verdict *v, imsva_intercept want, const char *rule_name)
{
	ck_assert_int_eq(v->status, IMSVA_EVAL_DONE);
	ck_assert_msg(v->intercept == want, "intercept %s, want %s", imsva_intercept_name(v->intercept),
		      imsva_intercept_name(want));
	if (rule_name) {
		ck_assert_int_ge(v->terminal_hit, 0);
		ck_assert_str_eq(v->hits[v->terminal_hit].rule_name, rule_name);
	} else {
		ck_assert_int_eq(v->terminal_hit, -1);
	}
}

/* One-rule table runner: does `rule_json` intercept (quarantine) message m? */
static int quarantines(const char *rule_json, const imsva_msg *m, fakes *f)
{
	const char *jsons[] = {rule_json, NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_verdict v;
	eval(s, m, f, 0, NULL, NULL, &v);
	int q = v.intercept == IMSVA_INTERCEPT_QUARANTINE;
	imsva_verdict_free(&v);
	imsva_ruleset_free(s);
	return q;
}

#define Q(cond) "{\"name\":\"t\",\"conditions\":" cond ",\"actions\":{\"intercept\":{\"action\":\"quarantine\"}}}"

/* ------------------------------------------------------------------------
 * Routes
 * ------------------------------------------------------------------------ */
TEST(test_routes)
{
	static const struct {
		const char *senders, *recipients; /* JSON arrays */
		const char *from;
		const char *rcpt1, *rcpt2;
		int match;
	} cases[] = {
		{"[]", "[]", "a@x.com", "b@y.com", NULL, 1},
		{"[\"*@example.com\"]", "[]", "alice@example.com", "b@y.com", NULL, 1},
		{"[\"*@example.com\"]", "[]", "alice@evil.com", "b@y.com", NULL, 0},
		{"[\"*@EXAMPLE.com\"]", "[]", "Alice@Example.COM", "b@y.com", NULL, 1},
		{"[]", "[\"bob@*\"]", "a@x.com", "carol@y.com", "bob@z.org", 1},
		{"[]", "[\"bob@*\"]", "a@x.com", "carol@y.com", "dave@z.org", 0},
		{"[\"all users\"]", "[\"all users\"]", "", "x@y.com", NULL, 1},
		{"[\"*\"]", "[]", "", "x@y.com", NULL, 1},
		{"[\"*@*\"]", "[]", "", "x@y.com", NULL, 0},
		{"[\"a?c@x.com\"]", "[]", "abc@x.com", "x@y.com", NULL, 1},
		{"[\"*@sub.*.com\"]", "[\"*@y.com\", \"*@z.com\"]", "u@sub.corp.com", "q@z.com", NULL, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *json = xasprintf("{\"name\":\"r\",\"route\":{\"senders\":%s,\"recipients\":%s}}",
				       cases[i].senders, cases[i].recipients);
		imsva_rule *r = rule(json);
		const char *rc[] = {cases[i].rcpt1, cases[i].rcpt2};
		imsva_envelope e = {cases[i].from, rc, cases[i].rcpt2 ? 2 : 1};
		ck_assert_msg(imsva_route_match(&r->route, &e) == cases[i].match, "case %zu", i);
		imsva_rule_free(r);
		free(json);
	}
}

TEST(test_route_skips_rule)
{
	const char *jsons[] = {
		"{\"name\":\"only example.org\",\"order\":1,\"route\":{\"senders\":[\"*@example.org\"]},"
		"\"actions\":{\"intercept\":{\"action\":\"delete\"}}}",
		"{\"name\":\"everyone\",\"order\":2,\"actions\":{\"intercept\":{\"action\":\"quarantine\","
		"\"area\":\"Held\"}}}",
		NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_msg *m = message("hi", "hello", NULL);
	imsva_verdict v;
	eval(s, m, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "everyone");
	ck_assert_str_eq(v.quarantine_area, "Held");
	ck_assert_uint_eq(v.nhits, 1);
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

/* ------------------------------------------------------------------------
 * Conditions
 * ------------------------------------------------------------------------ */
TEST(test_condition_virus_atse)
{
	imsva_msg *virus = message("v", "x", (att[]){{"eicar.com", EICAR}, {0}});
	imsva_msg *sample = message("s", "x", (att[]){{"Sample SO", SAMPLE_SO, sizeof SAMPLE_SO - 1}, {0}});
	imsva_msg *clean = message("c", "x", (att[]){{"a.txt", "hello"}, {0}});
	fakes f = {0};
	ck_assert(quarantines(Q("{\"virus\":true}"), virus, &f));
	ck_assert(!quarantines(Q("{\"virus\":true}"), sample, &f));
	ck_assert(!quarantines(Q("{\"virus\":true}"), clean, &f));
	ck_assert(quarantines(Q("{\"atse\":true}"), sample, &f));
	ck_assert(!quarantines(Q("{\"atse\":true}"), virus, &f));
	ck_assert(!quarantines(Q("{\"atse\":true}"), clean, &f));

	const char *jsons[] = {Q("{\"virus\":true}"), NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_verdict v;
	eval(s, virus, &f, 0, NULL, NULL, &v);
	ck_assert_str_eq(v.hits[0].reason, "Virus: Eicar_test_file");
	ck_assert_str_eq(v.hits[0].filter, "Virus");
	ck_assert_str_eq(v.hits[0].filter_code, "1000000000000000");
	ck_assert_str_eq(v.hits[0].action_code, "01000000000000000");
	ck_assert_ptr_nonnull(strstr(v.hits[0].violating, "eicar.com"));
	imsva_verdict_free(&v);
	imsva_ruleset_free(s);
	imsva_msg_free(virus);
	imsva_msg_free(sample);
	imsva_msg_free(clean);
}

TEST(test_condition_true_file_type)
{
	imsva_msg *pdf = message("p", "x", (att[]){{"invoice.dat", "%PDF-1.4\n%%EOF\n"}, {0}});
	imsva_msg *txt = message("t", "x", (att[]){{"a.pdf", "just text"}, {0}});
	imsva_msg *body_only = message("b", "body text only", NULL);
	fakes f = {0};
	ck_assert(quarantines(Q("{\"true_file_types\":[\"document\"]}"), pdf, &f));
	ck_assert(quarantines(Q("{\"true_file_types\":[\"pdf\"]}"), pdf, &f));
	ck_assert(quarantines(Q("{\"true_file_types\":[\"executable\",\"pdf\"]}"), pdf, &f));
	ck_assert(!quarantines(Q("{\"true_file_types\":[\"docx\"]}"), pdf, &f));
	ck_assert(!quarantines(Q("{\"true_file_types\":[\"document\"]}"), txt, &f));
	ck_assert(quarantines(Q("{\"true_file_types\":[\"text\"]}"), txt, &f));
	/* body parts are not attachments */
	ck_assert(!quarantines(Q("{\"true_file_types\":[\"text\"]}"), body_only, &f));
	imsva_msg_free(pdf);
	imsva_msg_free(txt);
	imsva_msg_free(body_only);
}

TEST(test_condition_name_and_size)
{
	imsva_msg *m = message("n", "x", (att[]){{"Invoice-2026.EXE", "0123456789"}, {0}});
	fakes f = {0};
	ck_assert(quarantines(Q("{\"attachment_names\":[\"*.exe\"]}"), m, &f));
	ck_assert(quarantines(Q("{\"attachment_names\":[\"invoice-????.*\"]}"), m, &f));
	ck_assert(!quarantines(Q("{\"attachment_names\":[\"*.zip\",\"*.js\"]}"), m, &f));
	ck_assert(quarantines(Q("{\"attachment_size\":{\"min\":10}}"), m, &f));
	ck_assert(!quarantines(Q("{\"attachment_size\":{\"min\":11}}"), m, &f));
	ck_assert(quarantines(Q("{\"attachment_size\":{\"max\":10}}"), m, &f));
	ck_assert(!quarantines(Q("{\"attachment_size\":{\"max\":9}}"), m, &f));
	ck_assert(quarantines(Q("{\"attachment_size\":{\"min\":5,\"max\":20}}"), m, &f));
	imsva_msg_free(m);
}

TEST(test_condition_keywords)
{
	imsva_msg *m = message("Urgent: wire transfer", "Please PAY the invoice today.", NULL);
	fakes f = {0};
	ck_assert(quarantines(Q("{\"keywords\":{\"subject\":[\"urgent\"]}}"), m, &f));
	ck_assert(quarantines(Q("{\"keywords\":{\"body\":[\"pay the\"]}}"), m, &f));
	ck_assert(!quarantines(Q("{\"keywords\":{\"body\":[\"urgent\"]}}"), m, &f));
	ck_assert(quarantines(
		Q("{\"keywords\":{\"subject\":[\"wire\"],\"body\":[\"invoice\"],\"match\":\"all\"}}"),
		m, &f));
	ck_assert(!quarantines(
		Q("{\"keywords\":{\"subject\":[\"wire\"],\"body\":[\"bitcoin\"],\"match\":\"all\"}}"),
		m, &f));
	ck_assert(quarantines(Q("{\"keywords\":{\"body\":[\"bitcoin\"],\"match\":\"not\"}}"), m, &f));
	ck_assert(!quarantines(Q("{\"keywords\":{\"body\":[\"invoice\"],\"match\":\"not\"}}"), m, &f));
	imsva_msg_free(m);
}

/* What cond_keywords reported before the policy-wide matcher, by strcasestr:
 * NULL = no match, else the note. */
static char *keyword_note_by_strcasestr(const imsva_rule *r, const imsva_msg *m)
{
	const imsva_conditions *c = &r->cond;
	size_t found = 0;
	const char *first = NULL;
	for (size_t i = 0; i < c->kw_subject.n; i++)
		if (strcasestr(m->subject, c->kw_subject.v[i]) && ++found == 1)
			first = c->kw_subject.v[i];
	for (size_t i = 0; i < c->kw_body.n; i++)
		if (strcasestr(m->body_text, c->kw_body.v[i]) && ++found == 1)
			first = c->kw_body.v[i];
	size_t total = c->kw_subject.n + c->kw_body.n;
	int hit = c->kw_match == IMSVA_KW_ANY ? found > 0
		  : c->kw_match == IMSVA_KW_ALL ? found == total
						: found == 0;
	if (!hit)
		return NULL;
	if (first && c->kw_match != IMSVA_KW_NOT)
		return xasprintf("Keyword: %s", first);
	return xstrdup("Keywords: none of the listed");
}

/* Many keyword rules over one message (keywords shared between rules,
 * prefixes and suffixes of each other, either case, subject vs body lists,
 * any / all / not): each rule hits or not, with the same first keyword, as
 * per-rule strcasestr said, whether the set is compiled or not. */
TEST(test_keywords_many_rules_as_strcasestr)
{
	static const char *const words[] = {"wire", "WIRE transfer", "transfer", "fer", "urgent",
					    "pay", "PAY THE", "invoice", "voice", "bitcoin",
					    "\xc3\xa9t\xc3\xa9", "today.", "x"};
	const size_t nwords = sizeof words / sizeof *words;
	const char *modes[] = {"any", "all", "not"};
	imsva_msg *m = message("Urgent: wire transfer \xc3\xa9t\xc3\xa9", "Please PAY the invoice today.",
			       NULL);
	imsva_ruleset *s = xcalloc(1, sizeof *s);
	for (size_t i = 0; i < 150; i++) {
		sbuf j = {0};
		sbuf_printf(&j, "{\"name\":\"r%zu\",\"order\":%zu,\"conditions\":{\"keywords\":{"
				"\"subject\":[\"%s\",\"%s\"],\"body\":[\"%s\"],\"match\":\"%s\"}},"
				"\"actions\":{\"tag_subject\":\"[%zu]\"}}",
			    i, i + 1, words[i % nwords], words[(i / nwords) % nwords],
			    words[(i * 7 + 3) % nwords], modes[i % 3], i);
		imsva_rule *r = rule(j.data);
		r->id = (int64_t)i + 1;
		imsva_ruleset_add(s, r);
		sbuf_free(&j);
	}
	fakes f = {0};
	for (int compiled = 0; compiled < 2; compiled++) {
		if (compiled)
			imsva_ruleset_compile(s);
		imsva_verdict v;
		eval(s, m, &f, 0, NULL, NULL, &v);
		size_t h = 0;
		for (size_t i = 0; i < s->n; i++) {
			char *want = keyword_note_by_strcasestr(s->rules[i], m);
			if (want) {
				ck_assert_uint_lt(h, v.nhits);
				ck_assert_str_eq(v.hits[h].rule_name, s->rules[i]->name);
				ck_assert_str_eq(v.hits[h].reason, want);
				h++;
			}
			free(want);
		}
		ck_assert_uint_eq(h, v.nhits);
		ck_assert_uint_gt(h, 10);
		imsva_verdict_free(&v);
	}
	/* A rule added after compiling sorts first: the stale index is dropped. */
	imsva_rule *r = rule("{\"name\":\"new\",\"order\":0,\"conditions\":{\"keywords\":{"
			     "\"body\":[\"PLEASE\"]}},\"actions\":{\"tag_subject\":\"[n]\"}}");
	r->id = 1000;
	imsva_ruleset_add(s, r);
	ck_assert_ptr_null(s->kw);
	imsva_verdict v;
	eval(s, m, &f, 0, NULL, NULL, &v);
	ck_assert_str_eq(v.hits[0].rule_name, "new");
	ck_assert_str_eq(v.hits[0].reason, "Keyword: PLEASE");
	imsva_verdict_free(&v);
	imsva_ruleset_free(s);
	imsva_msg_free(m);
}

TEST(test_condition_spam)
{
	imsva_msg *gtube = message("offer", GTUBE, NULL);
	imsva_msg *mid = message("CTDLAB-SPAM-SCORE=4.0", "x", NULL);
	fakes f = {0};
	ck_assert(quarantines(Q("{\"spam\":{\"level\":\"low\"}}"), gtube, &f));
	ck_assert(!quarantines(Q("{\"spam\":{\"enabled\":false},\"virus\":true}"), gtube, &f));
	ck_assert(quarantines(Q("{\"spam\":{\"level\":\"high\"}}"), mid, &f));
	ck_assert(!quarantines(Q("{\"spam\":{\"level\":\"medium\"}}"), mid, &f));
	imsva_msg_free(gtube);
	imsva_msg_free(mid);
}

TEST(test_condition_wrs_levels)
{
	static const imsva_wrs_class classes[] = {IMSVA_WRS_UNRATED, IMSVA_WRS_SAFE,
						  IMSVA_WRS_SUSPICIOUS,
						  IMSVA_WRS_HIGHLY_SUSPICIOUS, IMSVA_WRS_DANGEROUS};
	/* blocked[level][class]: Low blocks D; Medium D+HS; High D+HS+S */
	static const int blocked[3][5] = {{0, 0, 0, 0, 1}, {0, 0, 0, 1, 1}, {0, 0, 1, 1, 1}};
	static const char *const levels[] = {"low", "medium", "high"};
	imsva_msg *m = message("url", "go to http://site.example/x now", NULL);
	for (int l = 0; l < 3; l++) {
		for (int c = 0; c < 5; c++) {
			fake_url u[] = {{"http://site.example/x", classes[c], IMSVA_SO_NONE}, {0}};
			fakes f = {.wrs = u};
			char *json = xasprintf(Q("{\"web_reputation\":{\"sensitivity\":\"%s\"}}"),
					       levels[l]);
			ck_assert_msg(quarantines(json, m, &f) == blocked[l][c], "%s/%s", levels[l],
				      imsva_wrs_class_name(classes[c]));
			ck_assert_int_eq(f.wrs_calls, 1);
			ck_assert_int_eq(imsva_wrs_blocked((imsva_level)l, classes[c]), blocked[l][c]);
			free(json);
		}
	}
	imsva_wrs_class cls;
	ck_assert_int_eq(imsva_wrs_class_parse("highly_suspicious", &cls), 0);
	ck_assert_int_eq(cls, IMSVA_WRS_HIGHLY_SUSPICIOUS);
	ck_assert_int_eq(imsva_wrs_class_parse("Dangerous", &cls), 0);
	ck_assert_int_eq(cls, IMSVA_WRS_DANGEROUS);
	ck_assert_int_eq(imsva_wrs_class_parse("evil", &cls), -1);
	imsva_msg_free(m);
}

TEST(test_wrs_unreachable)
{
	imsva_msg *m = message("url", "see http://site.example/x", NULL);
	const char *jsons[] = {Q("{\"web_reputation\":{\"sensitivity\":\"high\"}}"), NULL};
	imsva_ruleset *s = rules(jsons);
	fakes f = {.wrs_down = 1};
	imsva_verdict v;
	imsva_eval_opts pass = {0}, defer = {.wrs_defer_on_error = 1};
	eval(s, m, &f, 0, &pass, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_DELIVER, NULL);
	ck_assert_int_eq(v.lookup_error, 1);
	ck_assert_uint_eq(v.nurls, 1);
	ck_assert_int_eq(v.urls[0].error, 1);
	imsva_verdict_free(&v);
	eval(s, m, &f, 0, &defer, NULL, &v);
	ck_assert_int_eq(v.status, IMSVA_EVAL_DEFER);
	imsva_verdict_free(&v);
	imsva_ruleset_free(s);
	imsva_msg_free(m);
}

TEST(test_match_any_all)
{
	imsva_msg *m = message("Urgent", "x", (att[]){{"a.exe", "plain"}, {0}});
	fakes f = {0};
	const char *any = Q("{\"match\":\"any\",\"virus\":true,\"attachment_names\":[\"*.exe\"]}");
	const char *all = Q("{\"match\":\"all\",\"virus\":true,\"attachment_names\":[\"*.exe\"]}");
	const char *all2 = Q("{\"match\":\"all\",\"keywords\":{\"subject\":[\"urgent\"]},"
			     "\"attachment_names\":[\"*.exe\"]}");
	ck_assert(quarantines(any, m, &f));
	ck_assert(!quarantines(all, m, &f));
	ck_assert(quarantines(all2, m, &f));
	/* no conditions: the route alone decides */
	ck_assert(quarantines(Q("{}"), m, &f));
	imsva_msg_free(m);
}

/* ------------------------------------------------------------------------
 * Actions: accumulate vs intercept, ordering, disabled rules
 * ------------------------------------------------------------------------ */
TEST(test_accumulate_then_intercept)
{
	const char *jsons[] = {
		"{\"name\":\"r4 delete\",\"order\":4,\"actions\":{\"intercept\":{\"action\":\"delete\"}}}",
		"{\"name\":\"r1 tag\",\"order\":1,\"actions\":{\"tag_subject\":\"[EXT]\","
		"\"x_header\":{\"name\":\"X-Lab\",\"value\":\"one\"}}}",
		"{\"name\":\"r2 monitor\",\"order\":2,\"actions\":{\"bcc\":[\"audit@example.com\"],"
		"\"notify\":{\"to\":[\"admin@example.com\"],\"message\":\"seen\"},"
		"\"x_header\":{\"name\":\"x-lab\",\"value\":\"two\"},\"stamp\":\"Scanned.\"}}",
		"{\"name\":\"r3 quarantine\",\"order\":3,\"actions\":{\"intercept\":{\"action\":"
		"\"quarantine\",\"area\":\"Suspicious\"},\"notify\":{}}}",
		NULL};
	imsva_ruleset *s = rules(jsons);
	ck_assert_str_eq(s->rules[0]->name, "r1 tag");
	ck_assert_str_eq(s->rules[3]->name, "r4 delete");
	imsva_msg *m = message("hi", "x", NULL);
	imsva_verdict v;
	eval(s, m, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "r3 quarantine");
	ck_assert_uint_eq(v.nhits, 3);
	ck_assert_int_eq(v.terminal_hit, 2);
	ck_assert_str_eq(v.quarantine_area, "Suspicious");
	ck_assert_uint_eq(v.subject_tags.n, 1);
	ck_assert_str_eq(v.subject_tags.v[0], "[EXT]");
	ck_assert_uint_eq(v.nxheaders, 1); /* once, as configured by the last rule */
	ck_assert_str_eq(v.xheaders[0].value, "two");
	ck_assert_uint_eq(v.bcc.n, 1);
	ck_assert_uint_eq(v.nnotifies, 2);
	ck_assert_str_eq(v.notifies[0].message, "seen");
	ck_assert_uint_eq(v.notifies[1].to.n, 0);
	ck_assert_uint_eq(v.stamps.n, 1);
	ck_assert_str_eq(v.hits[0].action_code, "00100001000001000");
	ck_assert_str_eq(v.hits[0].intercept == IMSVA_INTERCEPT_DELIVER ? "deliver" : "?", "deliver");
	/* quarantined + stamped + tagged + notified + BCC + X-header; not delivered */
	ck_assert_str_eq(v.action_code, "01000101010101000");
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

TEST(test_disabled_rule_and_order)
{
	const char *jsons[] = {
		"{\"name\":\"first but disabled\",\"order\":1,\"enabled\":false,"
		"\"actions\":{\"intercept\":{\"action\":\"delete\"}}}",
		"{\"name\":\"third\",\"order\":3,\"actions\":{\"intercept\":{\"action\":\"quarantine\"}}}",
		"{\"name\":\"second\",\"order\":2,\"actions\":{\"intercept\":{\"action\":\"handoff\","
		"\"host\":\"relay.example\",\"port\":2526}}}",
		NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_msg *m = message("hi", "x", NULL);
	imsva_verdict v;
	eval(s, m, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_HANDOFF, "second");
	ck_assert_str_eq(v.handoff_host, "relay.example");
	ck_assert_int_eq(v.handoff_port, 2526);
	ck_assert_str_eq(v.action_code, "00000000000010000");
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

TEST(test_change_recipient_and_delete)
{
	const char *jsons[] = {
		"{\"name\":\"redirect\",\"actions\":{\"intercept\":{\"action\":\"change_recipient\","
		"\"recipients\":[\"sec@example.com\",\"soc@example.com\"]}}}",
		NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_msg *m = message("hi", "x", NULL);
	imsva_verdict v;
	eval(s, m, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_CHANGE_RCPT, "redirect");
	ck_assert_uint_eq(v.new_rcpts.n, 2);
	ck_assert_str_eq(v.new_rcpts.v[1], "soc@example.com");
	imsva_verdict_free(&v);
	imsva_ruleset_free(s);
	ck_assert(!quarantines("{\"name\":\"d\",\"actions\":{\"intercept\":{\"action\":\"delete\"}}}",
			       m, &(fakes){0}));
	imsva_msg_free(m);
}

/* ------------------------------------------------------------------------
 * Default rules, TMCM SO rules, seed steps
 * ------------------------------------------------------------------------ */
TEST(test_default_rules)
{
	imsva_ruleset *en = imsva_default_rules(IMSVA_LOCALE_EN);
	imsva_ruleset *ja = imsva_default_rules(IMSVA_LOCALE_JA);
	ck_assert_uint_eq(en->n, 4);
	ck_assert_str_eq(en->rules[0]->name, "TMCM_Suspicious File detection rule");
	ck_assert_str_eq(en->rules[1]->name, "TMCM_Suspicious URL detection rule");
	ck_assert_str_eq(en->rules[2]->name, "Antivirus Rule");
	ck_assert_int_eq(en->rules[2]->order, 1);
	ck_assert_int_eq(en->rules[2]->type, IMSVA_RULE_ANTIVIRUS);
	ck_assert_str_eq(ja->rules[0]->name, "TMCM_不審ファイル検出ルール");
	ck_assert_str_eq(ja->rules[1]->name, "TMCM_不審URL検出ルール");
	ck_assert_str_eq(ja->rules[2]->name, "ウイルス対策ルール");
	imsva_locale loc;
	ck_assert_int_eq(imsva_locale_parse("ja", &loc), 0);
	ck_assert_int_eq(loc, IMSVA_LOCALE_JA);
	ck_assert_int_eq(imsva_locale_parse("fr", &loc), -1);

	imsva_msg *virus = message("v", "x", (att[]){{"eicar.com", EICAR}, {0}});
	imsva_msg *spam = message("offer", GTUBE, NULL);
	imsva_msg *clean = message("hello", "x", (att[]){{"a.txt", "hello"}, {0}});
	imsva_verdict v;
	eval(en, virus, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "Antivirus Rule");
	imsva_verdict_free(&v);
	eval(en, spam, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_DELIVER, NULL);
	ck_assert_uint_eq(v.subject_tags.n, 1);
	ck_assert_str_eq(v.hits[0].filter, "Spam/Phishing");
	imsva_verdict_free(&v);
	eval(en, clean, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_DELIVER, NULL);
	ck_assert_uint_eq(v.nhits, 0);
	ck_assert_str_eq(v.action_code, "00100000000000000");
	imsva_verdict_free(&v);
	imsva_msg_free(virus);
	imsva_msg_free(spam);
	imsva_msg_free(clean);
	imsva_ruleset_free(en);
	imsva_ruleset_free(ja);
}

/* STEP 1: ATSE on, a "true file type -> quarantine" rule at order 2. */
static imsva_ruleset *seed_rules(imsva_locale loc)
{
	imsva_ruleset *s = imsva_default_rules(loc);
	imsva_rule *r = rule("{\"name\":\"STEP1 DDAN submission\",\"order\":2,"
			     "\"conditions\":{\"true_file_types\":[\"executable\","
			     "\"document\",\"compressed\"]},\"actions\":{\"intercept\":"
			     "{\"action\":\"quarantine\"},\"submit_va\":true}}");
	/* the store would shift the spam rule to 3; here: put it last by hand */
	s->rules[3]->order = 3;
	imsva_ruleset_add(s, r);
	return s;
}

TEST(test_seed_step1_and_step2)
{
	imsva_ruleset *s = seed_rules(IMSVA_LOCALE_EN);
	imsva_msg *m = message("Sample", "see attached", (att[]){{"Sample SO", SAMPLE_SO, sizeof SAMPLE_SO - 1}, {0}});
	const char *sha1 = m->parts[1].sha1;
	imsva_verdict v;
	/* STEP 1 without VA: the user's rule quarantines */
	eval(s, m, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "STEP1 DDAN submission");
	ck_assert_str_eq(v.quarantine_area, "Default");
	imsva_verdict_free(&v);

	/* STEP 2-5: the SO is Block at TMCM: the built-in rule wins */
	fakes f = {.so_sha1 = sha1, .so_sha1_action = IMSVA_SO_BLOCK};
	eval(s, m, &f, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "TMCM_Suspicious File detection rule");
	ck_assert_int_eq(v.hits[0].so_action, IMSVA_SO_BLOCK);
	ck_assert_int_eq(v.hits[0].builtin, IMSVA_BUILTIN_SO_FILE);
	ck_assert_str_eq(v.hits[0].filter, "Suspicious Object");
	ck_assert_ptr_nonnull(strstr(v.hits[0].reason, sha1));
	ck_assert_int_eq(f.so_file_calls, 1);
	imsva_verdict_free(&v);

	/* Action Log: delivered by the TMCM rule (a policy event), then the next rules */
	f = (fakes){.so_sha1 = sha1, .so_sha1_action = IMSVA_SO_LOG};
	imsva_ruleset *defaults = imsva_default_rules(IMSVA_LOCALE_EN);
	eval(defaults, m, &f, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_DELIVER, NULL);
	ck_assert_uint_eq(v.nhits, 1);
	ck_assert_str_eq(v.hits[0].rule_name, "TMCM_Suspicious File detection rule");
	ck_assert_int_eq(v.hits[0].intercept, IMSVA_INTERCEPT_DELIVER);
	ck_assert_int_eq(v.hits[0].so_action, IMSVA_SO_LOG);
	ck_assert_str_eq(v.hits[0].action_code, "00100000000000000");
	imsva_verdict_free(&v);

	/* Quarantine action quarantines too */
	f = (fakes){.so_sha1 = sha1, .so_sha1_action = IMSVA_SO_QUARANTINE};
	eval(defaults, m, &f, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "TMCM_Suspicious File detection rule");
	imsva_verdict_free(&v);
	imsva_ruleset_free(defaults);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

TEST(test_seed_step4_url_so)
{
	imsva_ruleset *s = imsva_default_rules(IMSVA_LOCALE_JA);
	imsva_rule *wrs = rule("{\"name\":\"STEP4 web reputation\",\"order\":3,\"route\":"
			       "{\"recipients\":[\"all users\"]},\"conditions\":{\"spam\":"
			       "{\"enabled\":false},\"web_reputation\":{\"sensitivity\":\"medium\"}},"
			       "\"actions\":{\"intercept\":{\"action\":\"quarantine\"}}}");
	imsva_ruleset_add(s, wrs);
	imsva_msg *m = message("link", "click <https://bad.example/dl.php?id=7> please", NULL);
	/* the SO comes back in the SPS answer (no so_url callback) */
	fake_url u[] = {{"https://bad.example/dl.php?id=7", IMSVA_WRS_DANGEROUS, IMSVA_SO_BLOCK},
			{0}};
	fakes f = {.wrs = u};
	imsva_verdict v;
	eval(s, m, &f, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "TMCM_不審URL検出ルール");
	ck_assert_str_eq(v.hits[0].filter, "Suspicious Object");
	ck_assert_uint_eq(v.nurls, 1);
	ck_assert_int_eq(v.urls[0].so_action, IMSVA_SO_BLOCK);
	ck_assert_int_eq(v.urls[0].rating.cls, IMSVA_WRS_DANGEROUS);
	ck_assert_int_eq(f.wrs_calls, 1);
	imsva_verdict_free(&v);

	/* Log: a policy event by the TMCM rule, then the WRS rule quarantines */
	u[0].so = IMSVA_SO_LOG;
	f = (fakes){.wrs = u};
	eval(s, m, &f, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "STEP4 web reputation");
	ck_assert_uint_eq(v.nhits, 2);
	ck_assert_int_eq(v.hits[0].intercept, IMSVA_INTERCEPT_DELIVER);
	ck_assert_int_eq(f.wrs_calls, 1); /* one query per URL per evaluation */
	imsva_verdict_free(&v);

	/* an so_url callback (TMCM-synced URL table) takes precedence */
	u[0].so = IMSVA_SO_NONE;
	u[0].cls = IMSVA_WRS_SAFE;
	f = (fakes){.wrs = u, .so_url = "https://bad.example/dl.php?id=7",
		    .so_url_action = IMSVA_SO_BLOCK};
	eval(s, m, &f, 1, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "TMCM_不審URL検出ルール");
	ck_assert_int_eq(f.so_url_calls, 1);
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

/* Seed 4-1 skipped: without an enabled web reputation rule covering the
 * message IMSVA does not ask SPS, so the TMCM URL rule cannot fire. */
static void assert_url_so_unchecked(const char *wrs_rule_json)
{
	imsva_ruleset *s = imsva_default_rules(IMSVA_LOCALE_EN);
	if (wrs_rule_json)
		imsva_ruleset_add(s, rule(wrs_rule_json));
	imsva_msg *m = message("link", "click <https://bad.example/dl.php?id=7> please", NULL);
	fake_url u[] = {{"https://bad.example/dl.php?id=7", IMSVA_WRS_DANGEROUS, IMSVA_SO_BLOCK},
			{0}};
	fakes f = {.wrs = u, .so_url = u[0].url, .so_url_action = IMSVA_SO_BLOCK};
	imsva_verdict v;
	for (int use_so_url = 0; use_so_url < 2; use_so_url++) {
		eval(s, m, &f, use_so_url, NULL, NULL, &v);
		assert_final(&v, IMSVA_INTERCEPT_DELIVER, NULL);
		ck_assert_uint_eq(v.nhits, 0);
		imsva_verdict_free(&v);
	}
	ck_assert_int_eq(f.wrs_calls, 0);
	ck_assert_int_eq(f.so_url_calls, 0);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

TEST(test_url_so_needs_web_reputation_rule)
{
	assert_url_so_unchecked(NULL);
	/* the STEP 4 rule disabled */
	assert_url_so_unchecked("{\"name\":\"wrs off\",\"order\":3,\"enabled\":false,"
				"\"conditions\":{\"web_reputation\":{\"sensitivity\":\"medium\"}}}");
	/* enabled, but for other recipients */
	assert_url_so_unchecked("{\"name\":\"wrs elsewhere\",\"order\":3,\"route\":"
				"{\"recipients\":[\"*@other.example\"]},"
				"\"conditions\":{\"web_reputation\":{\"sensitivity\":\"medium\"}}}");
}

/* The console ticks spam detection with "Web Reputation settings"; a rule
 * JSON that says nothing about spam gets the same, and 4-1's explicit
 * "spam off" stays off. */
TEST(test_web_reputation_ticks_spam)
{
	imsva_rule *r = rule("{\"name\":\"w\",\"conditions\":{\"web_reputation\":{}}}");
	ck_assert_int_eq(r->cond.wrs, 1);
	ck_assert_int_eq(r->cond.spam, 1);
	ck_assert_int_eq(r->cond.spam_level, IMSVA_LEVEL_MEDIUM);
	json_t *j = imsva_rule_to_json(r);
	ck_assert(json_is_true(json_object_get(json_object_get(json_object_get(j, "conditions"),
							       "spam"), "enabled")));
	json_decref(j);
	imsva_rule_free(r);
	r = rule("{\"name\":\"w\",\"conditions\":{\"web_reputation\":{},\"spam\":{\"enabled\":false}}}");
	ck_assert_int_eq(r->cond.spam, 0);
	imsva_rule_free(r);
	r = rule("{\"name\":\"w\",\"conditions\":{\"web_reputation\":{\"enabled\":false}}}");
	ck_assert_int_eq(r->cond.spam, 0);
	imsva_rule_free(r);
}

TEST(test_so_lookup_once_per_attachment)
{
	const char *jsons[] = {
		"{\"name\":\"a\",\"order\":1,\"conditions\":{\"suspicious_object\":{\"file\":true}}}",
		"{\"name\":\"b\",\"order\":2,\"conditions\":{\"suspicious_object\":{\"file\":true}}}",
		"{\"name\":\"c\",\"order\":3,\"conditions\":{\"suspicious_object\":{\"file\":true}}}",
		NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_msg *m = message("x", "y", (att[]){{"1.txt", "one"}, {"2.txt", "two"}, {0}});
	fakes f = {0};
	imsva_verdict v;
	eval(s, m, &f, 0, NULL, NULL, &v);
	ck_assert_int_eq(f.so_file_calls, 2);
	ck_assert_uint_eq(v.nhits, 0);
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

/* ------------------------------------------------------------------------
 * Virtual Analyzer
 * ------------------------------------------------------------------------ */
TEST(test_va_mapping)
{
	/* acts[level][risk 0..3]: Low: High only; Medium: High+Medium; High: all */
	static const int acts[3][4] = {{0, 0, 0, 1}, {0, 0, 1, 1}, {0, 1, 1, 1}};
	for (int l = 0; l < 3; l++) {
		for (int risk = 0; risk <= 3; risk++) {
			imsva_va_state va = {IMSVA_VA_DONE, risk};
			imsva_va_act a = imsva_va_map((imsva_level)l, &va);
			ck_assert_int_eq(a, acts[l][risk] ? IMSVA_VA_ACT_ANALYZED : IMSVA_VA_ACT_NONE);
		}
		ck_assert_int_eq(imsva_va_map((imsva_level)l, &(imsva_va_state){IMSVA_VA_TIMEOUT, 0}),
				 IMSVA_VA_ACT_PROBABLE);
		ck_assert_int_eq(imsva_va_map((imsva_level)l, &(imsva_va_state){IMSVA_VA_ERROR, 0}),
				 IMSVA_VA_ACT_PROBABLE);
		ck_assert_int_eq(imsva_va_map((imsva_level)l, &(imsva_va_state){IMSVA_VA_DONE, -1}),
				 IMSVA_VA_ACT_PROBABLE);
		ck_assert_int_eq(imsva_va_map((imsva_level)l, &(imsva_va_state){IMSVA_VA_RELEASED, 3}),
				 IMSVA_VA_ACT_NONE);
	}
	ck_assert_str_eq(imsva_va_act_reason(IMSVA_VA_ACT_ANALYZED), "Analyzed advanced threat (ATSE)");
	ck_assert_str_eq(imsva_va_act_reason(IMSVA_VA_ACT_PROBABLE), "Probable advanced threat (ATSE)");
}

TEST(test_va_park_and_resume)
{
	imsva_ruleset *s = seed_rules(IMSVA_LOCALE_EN);
	imsva_rule *later = rule("{\"name\":\"after VA\",\"order\":9,\"actions\":{\"intercept\":"
				 "{\"action\":\"delete\"}}}");
	imsva_ruleset_add(s, later);
	imsva_msg *m = message("Sample", "see attached",
			       (att[]){{"notes.txt", "hello"}, {"Sample SO", SAMPLE_SO, sizeof SAMPLE_SO - 1}, {0}});
	imsva_eval_opts o = {.va_enabled = 1, .va_level = IMSVA_LEVEL_LOW};
	imsva_verdict v;

	/* first pass: park */
	eval(s, m, &(fakes){0}, 0, &o, NULL, &v);
	ck_assert_int_eq(v.status, IMSVA_EVAL_VA_SUBMIT);
	ck_assert_str_eq(v.va_rule_name, "STEP1 DDAN submission");
	ck_assert_uint_eq(v.nva_parts, 1); /* the attachment that matched, not notes.txt */
	ck_assert_str_eq(m->parts[v.va_parts[0]].filename, "Sample SO");
	ck_assert_str_eq(m->parts[v.va_parts[0]].tft_type, "exe");
	imsva_verdict_free(&v);
	eval(s, m, &(fakes){0}, 0, &o, &(imsva_va_state){IMSVA_VA_PENDING, 0}, &v);
	ck_assert_int_eq(v.status, IMSVA_EVAL_VA_WAIT);
	imsva_verdict_free(&v);

	/* high risk: analyzed, the rule's quarantine applies */
	eval(s, m, &(fakes){0}, 0, &o, &(imsva_va_state){IMSVA_VA_DONE, 3}, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "STEP1 DDAN submission");
	ck_assert_ptr_nonnull(strstr(v.hits[v.terminal_hit].reason, IMSVA_REASON_VA_ANALYZED));
	ck_assert_str_eq(v.hits[v.terminal_hit].filter, "Advanced Threat");
	ck_assert_uint_eq(v.nva_parts, 0);
	imsva_verdict_free(&v);

	/* medium risk at level Low: no match, the next rule decides */
	eval(s, m, &(fakes){0}, 0, &o, &(imsva_va_state){IMSVA_VA_DONE, 2}, &v);
	assert_final(&v, IMSVA_INTERCEPT_DELETE, "after VA");
	imsva_verdict_free(&v);
	/* ... but at level Medium it acts */
	o.va_level = IMSVA_LEVEL_MEDIUM;
	eval(s, m, &(fakes){0}, 0, &o, &(imsva_va_state){IMSVA_VA_DONE, 2}, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "STEP1 DDAN submission");
	imsva_verdict_free(&v);

	/* timeout: probable advanced threat */
	eval(s, m, &(fakes){0}, 0, &o, &(imsva_va_state){IMSVA_VA_TIMEOUT, 0}, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "STEP1 DDAN submission");
	ck_assert_ptr_nonnull(strstr(v.hits[v.terminal_hit].reason, IMSVA_REASON_VA_PROBABLE));
	imsva_verdict_free(&v);

	/* released from the VA queue: continue with the next rule */
	eval(s, m, &(fakes){0}, 0, &o, &(imsva_va_state){IMSVA_VA_RELEASED, 0}, &v);
	assert_final(&v, IMSVA_INTERCEPT_DELETE, "after VA");
	imsva_verdict_free(&v);

	/* VA not configured: the rule applies at once */
	eval(s, m, &(fakes){0}, 0, NULL, NULL, &v);
	assert_final(&v, IMSVA_INTERCEPT_QUARANTINE, "STEP1 DDAN submission");
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

TEST(test_va_submits_archive_root)
{
	const char *jsons[] = {"{\"name\":\"atse to VA\",\"conditions\":{\"atse\":true},"
			       "\"actions\":{\"intercept\":{\"action\":\"quarantine\"},"
			       "\"submit_va\":true}}",
			       NULL};
	imsva_ruleset *s = rules(jsons);
	imsva_msg *m = message("x", "y", (att[]){{"a.txt", "CTDLAB-ATSE:HEUR_X"}, {"b.txt", "ok"},
						 {0}});
	imsva_eval_opts o = {.va_enabled = 1};
	imsva_verdict v;
	eval(s, m, &(fakes){0}, 0, &o, NULL, &v);
	ck_assert_int_eq(v.status, IMSVA_EVAL_VA_SUBMIT);
	ck_assert_uint_eq(v.nva_parts, 1); /* only the detected attachment */
	ck_assert_str_eq(m->parts[v.va_parts[0]].filename, "a.txt");
	imsva_verdict_free(&v);
	imsva_msg_free(m);
	imsva_ruleset_free(s);
}

/* ------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------ */
TEST(test_json_validation_names_field)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{"[]", ""},
		{"{}", "name"},
		{"{\"name\":\"\"}", "name"},
		{"{\"name\":7}", "name"},
		{"{\"name\":\"x\",\"colour\":1}", "colour"},
		{"{\"name\":\"x\",\"order\":-1}", "order"},
		{"{\"name\":\"x\",\"order\":\"2\"}", "order"},
		{"{\"name\":\"x\",\"enabled\":\"yes\"}", "enabled"},
		{"{\"name\":\"x\",\"type\":\"firewall\"}", "type"},
		{"{\"name\":\"x\",\"route\":[]}", "route"},
		{"{\"name\":\"x\",\"route\":{\"senders\":\"*\"}}", "route.senders"},
		{"{\"name\":\"x\",\"route\":{\"recipients\":[\"ok@x\",\"\"]}}", "route.recipients[1]"},
		{"{\"name\":\"x\",\"route\":{\"from\":[]}}", "route.from"},
		{"{\"name\":\"x\",\"conditions\":{\"true_file_types\":[\"pdf\",\"pfd\"]}}",
		 "conditions.true_file_types[1]"},
		{"{\"name\":\"x\",\"conditions\":{\"virus\":1}}", "conditions.virus"},
		{"{\"name\":\"x\",\"conditions\":{\"match\":\"some\"}}", "conditions.match"},
		{"{\"name\":\"x\",\"conditions\":{\"attachment_size\":{\"min\":-5}}}",
		 "conditions.attachment_size.min"},
		{"{\"name\":\"x\",\"conditions\":{\"attachment_size\":{\"min\":9,\"max\":3}}}",
		 "conditions.attachment_size.max"},
		{"{\"name\":\"x\",\"conditions\":{\"attachment_size\":{}}}", "conditions.attachment_size"},
		{"{\"name\":\"x\",\"conditions\":{\"keywords\":{\"subject\":[]}}}", "conditions.keywords"},
		{"{\"name\":\"x\",\"conditions\":{\"keywords\":{\"body\":[\"a\"],\"match\":\"x\"}}}",
		 "conditions.keywords.match"},
		{"{\"name\":\"x\",\"conditions\":{\"spam\":{\"level\":\"extreme\"}}}",
		 "conditions.spam.level"},
		{"{\"name\":\"x\",\"conditions\":{\"web_reputation\":{\"sensitivity\":3}}}",
		 "conditions.web_reputation.sensitivity"},
		{"{\"name\":\"x\",\"conditions\":{\"suspicious_object\":{\"sha1\":true}}}",
		 "conditions.suspicious_object.sha1"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{}}}", "actions.intercept.action"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{\"action\":\"burn\"}}}",
		 "actions.intercept.action"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{\"action\":\"change_recipient\"}}}",
		 "actions.intercept.recipients"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{\"action\":\"change_recipient\","
		 "\"recipients\":[\"not-an-address\"]}}}",
		 "actions.intercept.recipients[0]"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{\"action\":\"handoff\"}}}",
		 "actions.intercept.host"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{\"action\":\"handoff\",\"host\":\"h\","
		 "\"port\":70000}}}",
		 "actions.intercept.port"},
		{"{\"name\":\"x\",\"actions\":{\"intercept\":{\"action\":\"quarantine\",\"area\":\"\"}}}",
		 "actions.intercept.area"},
		{"{\"name\":\"x\",\"actions\":{\"x_header\":{\"name\":\"Subject\",\"value\":\"v\"}}}",
		 "actions.x_header.name"},
		{"{\"name\":\"x\",\"actions\":{\"x_header\":{\"name\":\"X-A\",\"value\":\"a\\r\\nB: c\"}}}",
		 "actions.x_header.value"},
		{"{\"name\":\"x\",\"actions\":{\"tag_subject\":[]}}", "actions.tag_subject"},
		{"{\"name\":\"x\",\"actions\":{\"bcc\":[\"a@b\",\"c\"]}}", "actions.bcc[1]"},
		{"{\"name\":\"x\",\"actions\":{\"notify\":{\"to\":[\"x\"]}}}", "actions.notify.to[0]"},
		{"{\"name\":\"x\",\"actions\":{\"submit_va\":\"yes\"}}", "actions.submit_va"},
		{"{\"name\":\"x\",\"actions\":{\"quarantine\":true}}", "actions.quarantine"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);
		ck_assert_ptr_nonnull(j);
		char field[IMSVA_FIELD_MAX] = "untouched";
		ctd_err err = {0};
		imsva_rule *r = imsva_rule_from_json(j, field, &err);
		ck_assert_msg(r == NULL, "case %zu accepted: %s", i, cases[i].json);
		ck_assert_int_eq(err.code, CTD_EINVAL);
		ck_assert_msg(!strcmp(field, cases[i].field), "case %zu: field \"%s\", want \"%s\" (%s)",
			      i, field, cases[i].field, err.msg);
		ck_assert_msg(!strncmp(err.msg, cases[i].field, strlen(cases[i].field)),
			      "case %zu: message \"%s\" does not start with the field", i, err.msg);
		json_decref(j);
	}
}

TEST(test_json_round_trip_and_patch)
{
	const char *full =
		"{\"name\":\"Full\",\"order\":5,\"enabled\":false,\"type\":\"antivirus\","
		"\"notes\":\"n\",\"route\":{\"senders\":[\"*@a.com\"],\"recipients\":[\"b@*\"]},"
		"\"conditions\":{\"match\":\"all\",\"virus\":true,\"atse\":true,"
		"\"true_file_types\":[\"exe\"],\"attachment_names\":[\"*.scr\"],"
		"\"attachment_size\":{\"min\":1,\"max\":99},\"keywords\":{\"subject\":[\"s\"],"
		"\"body\":[\"b\"],\"match\":\"not\"},\"spam\":{\"enabled\":true,\"level\":\"high\"},"
		"\"web_reputation\":{\"enabled\":true,\"sensitivity\":\"low\"},"
		"\"suspicious_object\":{\"file\":true,\"url\":true}},"
		"\"actions\":{\"intercept\":{\"action\":\"handoff\",\"host\":\"h.example\",\"port\":26},"
		"\"tag_subject\":\"[T]\",\"x_header\":{\"name\":\"X-T\",\"value\":\"v\"},"
		"\"stamp\":\"line1\\nline2\",\"notify\":{\"to\":[\"n@x.com\"],\"message\":\"m\"},"
		"\"bcc\":[\"c@x.com\"],\"submit_va\":true}}";
	imsva_rule *r = rule(full);
	json_t *j1 = imsva_rule_to_json(r);
	imsva_rule *r2 = imsva_rule_from_json(j1, NULL, NULL);
	ck_assert_ptr_nonnull(r2);
	json_t *j2 = imsva_rule_to_json(r2);
	ck_assert(json_equal(j1, j2));
	ck_assert_int_eq(r2->cond.size_max, 99);
	ck_assert_int_eq(r2->act.handoff_port, 26);
	imsva_rule *dup = imsva_rule_dup(r2);
	json_t *j3 = imsva_rule_to_json(dup);
	ck_assert(json_equal(j1, j3));

	/* patch: objects merge, the rest of the rule is kept */
	dup->id = 42;
	dup->builtin = IMSVA_BUILTIN_SO_URL;
	json_t *patch = json_loads("{\"enabled\":true,\"actions\":{\"tag_subject\":null,"
				   "\"intercept\":{\"action\":\"quarantine\",\"area\":\"Q2\"}}}",
				   0, NULL);
	imsva_rule *p = imsva_rule_patch(dup, patch, NULL, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->id, 42);
	ck_assert_int_eq(p->builtin, IMSVA_BUILTIN_SO_URL);
	ck_assert_int_eq(p->enabled, 1);
	ck_assert_ptr_null(p->act.tag_subject);
	ck_assert_int_eq(p->act.intercept, IMSVA_INTERCEPT_QUARANTINE);
	ck_assert_str_eq(p->act.quarantine_area, "Q2");
	ck_assert_str_eq(p->act.stamp, "line1\nline2");
	ck_assert_uint_eq(p->cond.kw_body.n, 1);
	json_t *bad = json_loads("{\"conditions\":{\"virus\":\"no\"}}", 0, NULL);
	char field[IMSVA_FIELD_MAX];
	ctd_err err = {0};
	ck_assert_ptr_null(imsva_rule_patch(dup, bad, field, &err));
	ck_assert_str_eq(field, "conditions.virus");
	json_t *builtin_json = imsva_rule_to_json(p);
	ck_assert_str_eq(json_string_value(json_object_get(builtin_json, "builtin")), "so_url");
	json_decref(builtin_json);
	json_decref(bad);
	json_decref(patch);
	imsva_rule_free(p);
	json_decref(j1);
	json_decref(j2);
	json_decref(j3);
	imsva_rule_free(r);
	imsva_rule_free(r2);
	imsva_rule_free(dup);
}

/* ------------------------------------------------------------------------
 * Store
 * ------------------------------------------------------------------------ */
static char tmpdir[64];
static store *st;

static void store_setup(void)
{
	strcpy(tmpdir, "/tmp/ctd-imsva-rules-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char *path = xasprintf("%s/lab.db", tmpdir);
	ctd_err err = {0};
	ck_assert_msg(store_open(path, &st, &err) == 0, "%s", err.msg);
	free(path);
}

static void store_teardown(void)
{
	store_close(st);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void assert_names(const char *const *want)
{
	imsva_ruleset *s;
	ctd_err err = {0};
	ck_assert_msg(imsva_rules_load(st, &s, &err) == 0, "%s", err.msg);
	size_t n = 0;
	while (want[n])
		n++;
	ck_assert_uint_eq(s->n, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(s->rules[i]->name, want[i]);
		if (!s->rules[i]->builtin)
			ck_assert_int_eq(s->rules[i]->order, (int)i - 1); /* after the 2 built-ins */
	}
	imsva_ruleset_free(s);
}

TEST_IN("store", test_store_seed_and_crud)
{
	ctd_err err = {0};
	int64_t g0 = imsva_rules_generation(st);
	ck_assert_int_eq(imsva_rules_seed(st, IMSVA_LOCALE_EN, &err), 4);
	ck_assert_int_eq(imsva_rules_seed(st, IMSVA_LOCALE_JA, &err), 0); /* not twice */
	ck_assert_int_gt(imsva_rules_generation(st), g0);
	const char *fresh[] = {"TMCM_Suspicious File detection rule",
			       "TMCM_Suspicious URL detection rule", "Antivirus Rule", "Spam Rule",
			       NULL};
	assert_names(fresh);

	/* STEP 1-2: a rule at order 2 pushes the spam rule to 3 */
	imsva_rule *r = rule("{\"name\":\"STEP1\",\"order\":2,\"conditions\":{\"true_file_types\":"
			     "[\"document\"]},\"actions\":{\"intercept\":{\"action\":\"quarantine\"}}}");
	int64_t g1 = imsva_rules_generation(st);
	ck_assert_msg(imsva_rules_create(st, r, &err) == 0, "%s", err.msg);
	ck_assert_int_gt(r->id, 0);
	ck_assert_int_eq(r->order, 2);
	ck_assert_int_gt(imsva_rules_generation(st), g1);
	const char *after_create[] = {"TMCM_Suspicious File detection rule",
				      "TMCM_Suspicious URL detection rule", "Antivirus Rule",
				      "STEP1", "Spam Rule", NULL};
	assert_names(after_create);

	/* order 0 = last */
	imsva_rule *last = rule("{\"name\":\"Last\",\"actions\":{\"tag_subject\":\"[L]\"}}");
	ck_assert_int_eq(imsva_rules_create(st, last, &err), 0);
	ck_assert_int_eq(last->order, 4);

	/* names are unique (case-insensitively) */
	imsva_rule *dupname = rule("{\"name\":\"step1\"}");
	ck_assert_int_eq(imsva_rules_create(st, dupname, &err), -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	imsva_rule_free(dupname);

	/* move STEP1 to order 1 */
	r->order = 1;
	ck_assert_msg(imsva_rules_update(st, r, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(r->order, 1);
	const char *after_move[] = {"TMCM_Suspicious File detection rule",
				    "TMCM_Suspicious URL detection rule", "STEP1", "Antivirus Rule",
				    "Spam Rule", "Last", NULL};
	assert_names(after_move);

	/* get round-trips the rule */
	imsva_rule *got;
	ck_assert_int_eq(imsva_rules_get(st, r->id, &got, &err), 0);
	ck_assert_str_eq(got->name, "STEP1");
	ck_assert_str_eq(got->cond.true_file_types.v[0], "document");
	imsva_rule_free(got);
	ck_assert_int_eq(imsva_rules_get(st, 9999, &got, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);

	/* delete renumbers */
	ck_assert_int_eq(imsva_rules_delete(st, r->id, &err), 0);
	const char *after_delete[] = {"TMCM_Suspicious File detection rule",
				      "TMCM_Suspicious URL detection rule", "Antivirus Rule",
				      "Spam Rule", "Last", NULL};
	assert_names(after_delete);
	ck_assert_int_eq(imsva_rules_delete(st, r->id, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);

	/* built-ins: not deletable, but can be renamed and disabled; stay built-in */
	imsva_ruleset *s;
	ck_assert_int_eq(imsva_rules_load(st, &s, &err), 0);
	int64_t so_id = s->rules[0]->id;
	ck_assert_int_eq(s->rules[0]->builtin, IMSVA_BUILTIN_SO_FILE);
	ck_assert_int_eq(imsva_rules_delete(st, so_id, &err), -1);
	ck_assert_int_eq(err.code, CTD_ECONFLICT);
	json_t *patch = json_loads("{\"name\":\"TMCM_不審ファイル検出ルール\",\"enabled\":false,"
				   "\"order\":7}",
				   0, NULL);
	imsva_rule *p = imsva_rule_patch(s->rules[0], patch, NULL, &err);
	ck_assert_ptr_nonnull(p);
	p->builtin = IMSVA_BUILTIN_NONE; /* the store keeps the stored kind */
	ck_assert_int_eq(imsva_rules_update(st, p, &err), 0);
	ck_assert_int_eq(p->builtin, IMSVA_BUILTIN_SO_FILE);
	ck_assert_int_eq(p->order, 0);
	imsva_rule *again;
	ck_assert_int_eq(imsva_rules_get(st, so_id, &again, &err), 0);
	ck_assert_str_eq(again->name, "TMCM_不審ファイル検出ルール");
	ck_assert_int_eq(again->enabled, 0);
	ck_assert_int_eq(again->builtin, IMSVA_BUILTIN_SO_FILE);
	imsva_rule_free(again);
	imsva_rule_free(p);
	json_decref(patch);
	imsva_ruleset_free(s);

	/* a locale change renames built-ins that still carry a default name */
	ck_assert_int_eq(imsva_rules_localize(st, IMSVA_LOCALE_JA, &err), 1); /* URL rule */
	ck_assert_int_eq(imsva_rules_localize(st, IMSVA_LOCALE_JA, &err), 0);
	ck_assert_int_eq(imsva_rules_localize(st, IMSVA_LOCALE_EN, &err), 2);
	ck_assert_int_eq(imsva_rules_load(st, &s, &err), 0);
	ck_assert_str_eq(s->rules[0]->name, "TMCM_Suspicious File detection rule");
	ck_assert_str_eq(s->rules[1]->name, "TMCM_Suspicious URL detection rule");
	ck_assert_int_eq(s->rules[0]->enabled, 0); /* the rest is kept */
	imsva_ruleset_free(s);
	imsva_rule *custom;
	ck_assert_int_eq(imsva_rules_get(st, so_id, &custom, &err), 0);
	free(custom->name);
	custom->name = xstrdup("My SO rule");
	ck_assert_int_eq(imsva_rules_update(st, custom, &err), 0);
	ck_assert_int_eq(imsva_rules_localize(st, IMSVA_LOCALE_JA, &err), 1);
	imsva_rule_free(custom);
	ck_assert_int_eq(imsva_rules_get(st, so_id, &custom, &err), 0);
	ck_assert_str_eq(custom->name, "My SO rule");
	imsva_rule_free(custom);

	/* update of an unknown id */
	imsva_rule *ghost = rule("{\"name\":\"ghost\"}");
	ghost->id = 12345;
	ck_assert_int_eq(imsva_rules_update(st, ghost, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	imsva_rule_free(ghost);
	imsva_rule_free(r);
	imsva_rule_free(last);
}

TL_CASE("store", .setup = store_setup, .teardown = store_teardown);
