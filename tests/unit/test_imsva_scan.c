/* test_imsva_scan.c - the simulated scan engines: antivirus (EICAR, lab
 * virus markers), ATSE triggers (the seed's sample marker, named markers,
 * macro documents, PDF JavaScript, RTF equation exploit), ATSE switched off,
 * and the spam score. Every trigger here is documented in docs/imsva.md. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "imsva/imsva_engine.h"
#include "hash.h"
#include "util.h"
#include "testlib.h"

#define EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#define GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

typedef struct scan_case {
	const char *what;
	const char *data;
	size_t len; /* 0: strlen */
	imsva_tft_class cls;
	const char *type;
	const char *virus; /* expected, NULL = clean */
	const char *atse;  /* expected with ATSE on, NULL = none */
} scan_case;

static const char utf16_vba[] = "\xd0\xcf\x11\xe0 ... _\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0 ...";

static const scan_case cases[] = {
	{"eicar", EICAR, 0, IMSVA_TFT_TEXT, "txt", "Eicar_test_file", NULL},
	{"eicar in a binary", "MZ.." EICAR "..", 0, IMSVA_TFT_EXECUTABLE, "exe",
	 "Eicar_test_file", NULL},
	{"virus marker, named", "xx CTDLAB-VIRUS:TROJ_LAB.A yy", 0, IMSVA_TFT_TEXT, "txt",
	 "TROJ_LAB.A", NULL},
	{"virus marker, bare", "xx CTDLAB-VIRUS yy", 0, IMSVA_TFT_TEXT, "txt",
	 "CTDLAB_TEST_VIRUS", NULL},
	{"virus wins over ATSE", "CTDLAB-VIRUS:V.B CTDLAB-RISK-HIGH", 0, IMSVA_TFT_TEXT, "txt",
	 "V.B", NULL},
	{"seed Sample SO", "Sample SO\nCTDLAB-RISK-HIGH\n", 0, IMSVA_TFT_TEXT, "txt", NULL,
	 "HEUR_CTDLAB.SAMPLE"},
	{"sample in an exe", "MZ\x90\x01 CTDLAB-RISK-HIGH", 0, IMSVA_TFT_EXECUTABLE, "exe",
	 NULL, "HEUR_CTDLAB.SAMPLE"},
	{"medium sample", "CTDLAB-RISK-MEDIUM", 0, IMSVA_TFT_TEXT, "txt", NULL,
	 "HEUR_CTDLAB.SAMPLE.M"},
	{"low sample", "CTDLAB-RISK-LOW", 0, IMSVA_TFT_TEXT, "txt", NULL, "HEUR_CTDLAB.SAMPLE.L"},
	{"ATSE marker, EXPL name", "CTDLAB-ATSE:EXPL_CVE20120158", 0, IMSVA_TFT_OTHER, "other",
	 NULL, "EXPL_CVE20120158"},
	{"ATSE marker, bare name", "CTDLAB-ATSE:DROPPER.X", 0, IMSVA_TFT_OTHER, "other", NULL,
	 "HEUR_DROPPER.X"},
	{"ATSE marker, no name", "CTDLAB-ATSE", 0, IMSVA_TFT_OTHER, "other", NULL,
	 "HEUR_CTDLAB.GENERIC"},
	{"OOXML macro", "PK..word/vbaProject.bin..", 0, IMSVA_TFT_DOCUMENT, "docx", NULL,
	 "HEUR_VBA.O"},
	{"OLE macro (UTF-16 stream name)", utf16_vba, sizeof utf16_vba - 1, IMSVA_TFT_DOCUMENT,
	 "doc", NULL, "HEUR_VBA.O"},
	{"vbaProject text in a txt", "vbaProject.bin", 0, IMSVA_TFT_TEXT, "txt", NULL, NULL},
	{"PDF auto-run JavaScript", "%PDF-1.4 /OpenAction 2 0 R /S /JavaScript /JS (x)", 0,
	 IMSVA_TFT_DOCUMENT, "pdf", NULL, "HEUR_PDFJS.STREM"},
	{"PDF JavaScript without auto-run", "%PDF-1.4 /JavaScript", 0, IMSVA_TFT_DOCUMENT, "pdf",
	 NULL, NULL},
	{"RTF equation object", "{\\rtf1{\\object\\objemb{\\*\\objclass Equation.3}\\objdata 01}}",
	 0, IMSVA_TFT_DOCUMENT, "rtf", NULL, "EXPL_CVE201711882"},
	{"RTF equation object, hex class", "{\\rtf1\\objdata 4571756174696f6e2e33}", 0,
	 IMSVA_TFT_DOCUMENT, "rtf", NULL, "EXPL_CVE201711882"},
	{"plain RTF", "{\\rtf1 hello}", 0, IMSVA_TFT_DOCUMENT, "rtf", NULL, NULL},
	{"clean", "just text", 0, IMSVA_TFT_TEXT, "txt", NULL, NULL},
	{"marker case matters", "ctdlab-risk-high", 0, IMSVA_TFT_TEXT, "txt", NULL, NULL},
};

TEST_LOOP(test_scan_table, 0, (int)(sizeof cases / sizeof cases[0]))
{
	const scan_case *c = &cases[_i];
	size_t len = c->len ? c->len : strlen(c->data);
	for (int atse_on = 0; atse_on <= 1; atse_on++) {
		char *virus, *atse;
		imsva_scan_buffer(c->data, len, "f", c->cls, c->type, atse_on, &virus, &atse);
		if (c->virus)
			ck_assert_msg(virus && !strcmp(virus, c->virus), "%s: virus %s", c->what,
				      virus ? virus : "(none)");
		else
			ck_assert_msg(!virus, "%s: unexpected virus %s", c->what, virus);
		const char *want = atse_on ? c->atse : NULL; /* ATSE off: never a detection */
		if (want)
			ck_assert_msg(atse && !strcmp(atse, want), "%s: atse %s", c->what,
				      atse ? atse : "(none)");
		else
			ck_assert_msg(!atse, "%s (atse %d): unexpected %s", c->what, atse_on, atse);
		free(virus);
		free(atse);
	}
}

static imsva_msg *parse(const char *raw)
{
	imsva_msg *m = NULL;
	ck_assert_int_eq(imsva_msg_parse(raw, strlen(raw), &m, NULL), 0);
	return m;
}

TEST(test_scan_message)
{
	char *b64 = base64_encode("Sample SO\nCTDLAB-RISK-HIGH\n", 27);
	char *raw = xasprintf("Subject: sample\r\nMIME-Version: 1.0\r\n"
			      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			      "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
			      "--b\r\nContent-Type: application/octet-stream\r\n"
			      "Content-Disposition: attachment; filename=\"Sample SO\"\r\n"
			      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
			      b64);
	imsva_msg *m = parse(raw);
	imsva_scan_opts off = {0}, on = {.atse_enabled = 1};
	ck_assert_int_eq(imsva_scan(m, &off), 0);
	ck_assert_int_eq(imsva_scan(m, &on), 1);
	ck_assert_str_eq(m->parts[1].filename, "Sample SO");
	ck_assert_str_eq(m->parts[1].atse_name, "HEUR_CTDLAB.SAMPLE");
	ck_assert_ptr_null(m->parts[0].atse_name);
	/* a rescan replaces the previous results */
	ck_assert_int_eq(imsva_scan(m, &off), 0);
	ck_assert_ptr_null(m->parts[1].atse_name);
	imsva_msg_free(m);
	free(raw);
	free(b64);
}

TEST(test_spam_score)
{
	imsva_scan_opts o = {0};
	imsva_msg *m = parse("Subject: offer\r\n\r\nBuy now " GTUBE "\r\n");
	imsva_scan(m, &o);
	ck_assert(m->spam_score == 10.0);
	imsva_msg_free(m);
	m = parse("Subject: CTDLAB-SPAM-SCORE=4.5\r\n\r\nhello\r\n");
	imsva_scan(m, &o);
	ck_assert(m->spam_score == 4.5);
	imsva_msg_free(m);
	m = parse("Subject: hi\r\n\r\nhello\r\n");
	imsva_scan(m, &o);
	ck_assert(m->spam_score == 0.0);
	imsva_msg_free(m);
}
