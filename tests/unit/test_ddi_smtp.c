/* test_ddi_smtp.c - DDI SMTP carving: attachments of DATA messages (base64,
 * dot-stuffing, several per message, pipelined sessions), refused DATA,
 * STARTTLS, limits and garbage. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "util.h"
#include "ddi/ddi.h"
#include "testlib.h"

typedef struct carved {
	char *name, *from;
	sbuf data;
} carved;

static carved C[8];
static int nc;
static ddi_budget budget;
static ddi_limits lim;
static ddi_flow_info fi;

static void on_carve(const ddi_carved *f, void *cls)
{
	ck_assert_int_lt(nc, 8);
	carved *c = &C[nc++];
	c->name = xstrdup(f->file_name);
	c->from = xstrdup(f->mail_from ? f->mail_from : "");
	sbuf_append(&c->data, f->data, f->len);
	ck_assert_str_eq(f->proto, "SMTP");
	ck_assert_ptr_null(f->url);
	ck_assert_int_eq(f->server_port, 25);
}

static void setup(void)
{
	g_mime_init();
	nc = 0;
	memset(C, 0, sizeof(C));
	budget = (ddi_budget){0, 1 << 20, 0};
	lim = (ddi_limits){.max_flows = 4, .flow_max_bytes = 4096, .max_file_size = 1 << 16,
			   .flow_timeout_ms = 1000};
	memset(&fi, 0, sizeof(fi));
	strcpy(fi.client_ip, "10.1.1.1");
	strcpy(fi.server_ip, "10.1.1.25");
	fi.server_port = 25;
}

static void teardown(void)
{
	for (int i = 0; i < nc; i++) {
		free(C[i].name);
		free(C[i].from);
		sbuf_free(&C[i].data);
	}
	ck_assert_int_eq(budget.used, 0);
}

static ddi_smtp *session(void)
{
	ddi_parser_env env = {&fi, &lim, &budget, on_carve, NULL};
	return ddi_smtp_new(&env);
}

static int cli(ddi_smtp *s, const char *t)
{
	return ddi_smtp_data(s, DDI_TO_SERVER, (const unsigned char *)t, strlen(t), 1);
}
static int srv(ddi_smtp *s, const char *t)
{
	return ddi_smtp_data(s, DDI_TO_CLIENT, (const unsigned char *)t, strlen(t), 1);
}

/* "CTDLAB-RISK-HIGH sample\r\n.leading dot\r\n" in base64 */
static const char *message =
	"From: a@example.test\r\nTo: b@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
	"--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n..this line was dot-stuffed\r\n"
	"--XX\r\nContent-Type: application/octet-stream\r\n"
	"Content-Disposition: attachment; filename=\"so2.bin\"\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nQ1RETEFCLVJJU0stSElHSCBzYW1wbGUNCi5sZWFkaW5nIGRvdA0K\r\n"
	"--XX\r\nContent-Type: text/plain; name=\"notes.txt\"\r\n"
	"Content-Disposition: attachment; filename*=UTF-8''n%C3%B6tes.txt\r\n\r\n"
	"..dotted first line\r\n"
	"--XX--\r\n";

TEST(test_attachments_carved)
{
	ddi_smtp *s = session();
	ck_assert_int_eq(ddi_smtp_is_greeting((const unsigned char *)"220 mx ESMTP\r\n", 14), 1);
	srv(s, "220 mx ESMTP\r\n");
	cli(s, "EHLO pc\r\n");
	srv(s, "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	/* pipelined envelope */
	cli(s, "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
	srv(s, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n");
	cli(s, message);
	ck_assert_int_eq(nc, 0);
	cli(s, ".\r\n");
	srv(s, "250 queued\r\n");
	ck_assert_int_eq(cli(s, "QUIT\r\n"), 0);
	ck_assert_int_eq(nc, 2);
	ck_assert_str_eq(C[0].name, "so2.bin");
	ck_assert_str_eq(C[0].from, "<a@example.test>");
	ck_assert_str_eq(C[0].data.data, "CTDLAB-RISK-HIGH sample\r\n.leading dot\r\n");
	ck_assert_str_eq(C[1].name, "n\xc3\xb6tes.txt");
	ck_assert_str_eq(C[1].data.data, ".dotted first line");
	ddi_smtp_free(s);
}

TEST(test_two_messages_bytewise)
{
	ddi_smtp *s = session();
	srv(s, "220 mx\r\n");
	for (int round = 0; round < 2; round++) {
		cli(s, "MAIL FROM:<x@y>\r\n");
		srv(s, "250 ok\r\n");
		cli(s, "RCPT TO:<z@y>\r\n");
		srv(s, "250 ok\r\n");
		cli(s, "DATA\r\n");
		srv(s, "354 go\r\n");
		char *all = xasprintf("%s.\r\n", message);
		for (const char *p = all; *p; p++)
			ddi_smtp_data(s, DDI_TO_SERVER, (const unsigned char *)p, 1, 1);
		free(all);
		srv(s, "250 ok\r\n");
	}
	ck_assert_int_eq(nc, 4);
	ck_assert_str_eq(C[2].name, "so2.bin");
	ddi_smtp_free(s);
}

TEST(test_refused_data_not_collected)
{
	ddi_smtp *s = session();
	srv(s, "220 mx\r\n");
	cli(s, "MAIL FROM:<x@y>\r\nRCPT TO:<z@y>\r\nDATA\r\n");
	srv(s, "250 ok\r\n550 no such user\r\n554 no valid recipients\r\n");
	cli(s, "RSET\r\n");
	srv(s, "250 ok\r\n");
	cli(s, "QUIT\r\n");
	ck_assert_int_eq(nc, 0);
	ddi_smtp_free(s);
}

TEST(test_starttls_stops)
{
	ddi_smtp *s = session();
	srv(s, "220 mx\r\n");
	cli(s, "EHLO pc\r\n");
	srv(s, "250 STARTTLS\r\n");
	cli(s, "STARTTLS\r\n");
	ck_assert_int_eq(srv(s, "220 ready\r\n"), -1);
	ddi_smtp_free(s);
}

TEST(test_limits_and_garbage)
{
	/* a message bigger than max_file_size is not parsed */
	lim.max_file_size = 64;
	ddi_smtp *s = session();
	srv(s, "220 mx\r\n");
	cli(s, "DATA\r\n");
	srv(s, "354 go\r\n");
	cli(s, message);
	cli(s, ".\r\n");
	ck_assert_int_eq(nc, 0);
	ddi_smtp_free(s);

	s = session();
	ck_assert_int_eq(srv(s, "\x16\x03\x01 binary\r\n"), -1);
	ddi_smtp_free(s);

	s = session();
	char *line = xmalloc(10000);
	memset(line, 'A', 9999);
	line[9999] = '\0';
	ck_assert_int_eq(cli(s, line), -1); /* endless command line */
	free(line);
	ddi_smtp_free(s);

	s = session();
	srv(s, "220 mx\r\n");
	ck_assert_int_eq(cli(s, "BDAT 100 LAST\r\n"), -1);
	ddi_smtp_free(s);
}

TL_SUITE(.setup = setup, .teardown = teardown);
