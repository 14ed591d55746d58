/* test_imsva_smtp_proto.c - SMTP conversations against IMSVA's pure ESMTP
 * state machine: the happy path, pipelining, bad sequences, limits (line,
 * recipients, size), bare LF, NUL bytes, STARTTLS bookkeeping. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "imsva/imsva_smtp.h"
#include "testlib.h"

typedef struct conv {
	smtp_proto *p;
	sbuf out;
	smtp_action act;
	smtp_envelope *env; /* taken at SMTP_ACT_COMMIT */
} conv;

static smtp_limits test_limits(void)
{
	smtp_limits l = {.hostname = "imsva.test", .max_line = 128, .max_size = 1000,
			 .max_rcpts = 3, .max_errors = 5, .tls_available = 1};
	return l;
}

static void conv_init(conv *c, const smtp_limits *l)
{
	memset(c, 0, sizeof *c);
	c->p = smtp_proto_new(l, "192.0.2.1");
	smtp_proto_greet(c->p, &c->out);
}

static void conv_free(conv *c)
{
	smtp_envelope_free(c->env);
	smtp_proto_free(c->p);
	sbuf_free(&c->out);
}

/* Feed s until consumed or an action stops; returns bytes consumed. A commit
 * is answered ok and feeding resumes (as the server does). */
static size_t feed(conv *c, const char *s)
{
	size_t len = strlen(s), pos = 0;
	c->out.len = 0;
	if (c->out.data)
		c->out.data[0] = '\0';
	while (pos < len) {
		pos += smtp_proto_feed(c->p, s + pos, len - pos, &c->out, &c->act);
		if (c->act == SMTP_ACT_COMMIT) {
			smtp_envelope_free(c->env);
			c->env = smtp_proto_take_envelope(c->p);
			smtp_proto_commit_done(c->p, 1, "Q1", &c->out);
			continue;
		}
		if (c->act != SMTP_ACT_NONE)
			break;
	}
	return pos;
}

static const char *out(conv *c)
{
	return c->out.data ? c->out.data : "";
}

TEST(greeting_and_ehlo)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	ck_assert_str_eq(out(&c), "220 imsva.test ESMTP Postfix\r\n");
	feed(&c, "EHLO client.example\r\n");
	ck_assert_str_eq(out(&c), "250-imsva.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-VRFY\r\n"
				  "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
	feed(&c, "HELO client.example\r\n");
	ck_assert_str_eq(out(&c), "250 imsva.test\r\n");
	conv_free(&c);
}

TEST(full_transaction)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	feed(&c, "EHLO a\r\n");
	feed(&c, "MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME\r\n");
	ck_assert_str_eq(out(&c), "250 2.1.0 Ok\r\n");
	feed(&c, "RCPT TO:<bob@example.org>\r\n");
	ck_assert_str_eq(out(&c), "250 2.1.5 Ok\r\n");
	feed(&c, "rcpt to: <carol@example.org>\r\n");
	ck_assert_str_eq(out(&c), "250 2.1.5 Ok\r\n");
	feed(&c, "DATA\r\n");
	ck_assert_str_eq(out(&c), "354 End data with <CR><LF>.<CR><LF>\r\n");
	feed(&c, "Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n");
	ck_assert_str_eq(out(&c), "250 2.0.0 Ok: queued as Q1\r\n");
	ck_assert_ptr_nonnull(c.env);
	ck_assert_str_eq(c.env->mail_from, "alice@example.com");
	ck_assert_int_eq(c.env->nrcpts, 2);
	ck_assert_str_eq(c.env->rcpts[1], "carol@example.org");
	ck_assert_str_eq(c.env->helo, "a");
	ck_assert_str_eq(c.env->client_ip, "192.0.2.1");
	ck_assert_str_eq(c.env->data.data, "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n");
	feed(&c, "QUIT\r\n");
	ck_assert_str_eq(out(&c), "221 2.0.0 Bye\r\n");
	ck_assert_int_eq(c.act, SMTP_ACT_CLOSE);
	conv_free(&c);
}

TEST(pipelining)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	size_t n = feed(&c, "EHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<x@y>\r\nRCPT TO:<z@y>\r\nDATA\r\n"
			   "hello\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nsecond\r\n.\r\n"
			   "QUIT\r\nNOOP\r\n");
	const char *o = out(&c);
	ck_assert_ptr_nonnull(strstr(o, "250 8BITMIME\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
					"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as Q1\r\n"
					"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data"));
	ck_assert_ptr_nonnull(strstr(o, "250 2.0.0 Ok: queued as Q1\r\n221 2.0.0 Bye\r\n"));
	ck_assert_ptr_null(strstr(o, "NOOP"));
	ck_assert_int_eq(c.act, SMTP_ACT_CLOSE);
	ck_assert_uint_eq(n, strlen("EHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<x@y>\r\nRCPT TO:<z@y>\r\nDATA\r\n"
				    "hello\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nsecond\r\n.\r\n"
				    "QUIT\r\n"));
	ck_assert_str_eq(c.env->data.data, "second\r\n");
	ck_assert_str_eq(c.env->mail_from, "a@b");
	conv_free(&c);
}

TEST(commit_pauses_input)
{
	smtp_limits l = test_limits();
	smtp_proto *p = smtp_proto_new(&l, "127.0.0.1");
	sbuf o = {0};
	smtp_action act;
	const char *in = "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\nNOOP\r\n";
	size_t n = smtp_proto_feed(p, in, strlen(in), &o, &act);
	ck_assert_int_eq(act, SMTP_ACT_COMMIT);
	ck_assert_str_eq(in + n, "NOOP\r\n");
	ck_assert_ptr_null(strstr(o.data, "queued"));
	/* nothing is consumed while the commit is outstanding */
	ck_assert_uint_eq(smtp_proto_feed(p, in + n, strlen(in + n), &o, &act), 0);
	smtp_envelope *e = smtp_proto_take_envelope(p);
	ck_assert_ptr_nonnull(e);
	smtp_envelope_free(e);
	o.len = 0;
	smtp_proto_commit_done(p, 0, NULL, &o);
	ck_assert_str_eq(o.data, "451 4.3.0 Error: queue file write error\r\n");
	o.len = 0;
	n = smtp_proto_feed(p, "NOOP\r\n", 6, &o, &act);
	ck_assert_str_eq(o.data, "250 2.0.0 Ok\r\n");
	sbuf_free(&o);
	smtp_proto_free(p);
}

TEST(bad_sequences)
{
	smtp_limits l = test_limits();
	l.max_errors = 100;
	conv c;
	conv_init(&c, &l);
	feed(&c, "MAIL FROM:<a@b>\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: send HELO/EHLO first\r\n");
	feed(&c, "EHLO a\r\n");
	feed(&c, "RCPT TO:<a@b>\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: need MAIL command\r\n");
	feed(&c, "DATA\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: need RCPT command\r\n");
	feed(&c, "MAIL FROM:<a@b>\r\n");
	feed(&c, "MAIL FROM:<a@b>\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: nested MAIL command\r\n");
	feed(&c, "DATA\r\n");
	ck_assert_str_eq(out(&c), "554 5.5.1 Error: no valid recipients\r\n");
	feed(&c, "RCPT TO:<>\r\n");
	ck_assert_str_eq(out(&c), "501 5.1.3 Bad recipient address syntax\r\n");
	feed(&c, "RCPT TO:<a b@c>\r\n");
	ck_assert_str_eq(out(&c), "501 5.1.3 Bad recipient address syntax\r\n");
	feed(&c, "RCPT bob\r\n");
	ck_assert_str_eq(out(&c), "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
	feed(&c, "RSET\r\n");
	ck_assert_str_eq(out(&c), "250 2.0.0 Ok\r\n");
	feed(&c, "RCPT TO:<a@b>\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: need MAIL command\r\n");
	feed(&c, "MAIL FROM:<a@b> FOO=1\r\n");
	ck_assert_str_eq(out(&c), "555 5.5.4 Unsupported option: FOO=1\r\n");
	feed(&c, "MAIL FROM:a@b>\r\n");
	ck_assert_str_eq(out(&c), "501 5.1.7 Bad sender address syntax\r\n");
	feed(&c, "FOO\r\n");
	ck_assert_str_eq(out(&c), "502 5.5.2 Error: command not recognized\r\n");
	feed(&c, "VRFY bob\r\n");
	ck_assert_str_eq(out(&c), "252 2.0.0 bob\r\n");
	feed(&c, "HELP\r\n");
	ck_assert_str_eq(out(&c), "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY "
				  "HELP STARTTLS\r\n");
	feed(&c, "HELO\r\n");
	ck_assert_str_eq(out(&c), "501 Syntax: HELO hostname\r\n");
	feed(&c, "DATA x\r\n");
	ck_assert_str_eq(out(&c), "501 5.5.4 Syntax: DATA\r\n");
	conv_free(&c);
}

TEST(too_many_errors_closes)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	feed(&c, "X\r\nX\r\nX\r\nX\r\nX\r\nNOOP\r\n");
	ck_assert_ptr_nonnull(strstr(out(&c), "421 4.7.0 imsva.test Error: too many errors\r\n"));
	ck_assert_ptr_null(strstr(out(&c), "250 2.0.0 Ok"));
	ck_assert_int_eq(c.act, SMTP_ACT_CLOSE);
	conv_free(&c);
}

TEST(limits)
{
	smtp_limits l = test_limits();
	l.max_errors = 100;
	conv c;
	conv_init(&c, &l);
	feed(&c, "EHLO a\r\n");
	feed(&c, "MAIL FROM:<a@b> SIZE=1001\r\n");
	ck_assert_str_eq(out(&c), "552 5.3.4 Message size exceeds fixed limit\r\n");
	feed(&c, "MAIL FROM:<a@b> SIZE=1000\r\n");
	ck_assert_str_eq(out(&c), "250 2.1.0 Ok\r\n");
	feed(&c, "RCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\nRCPT TO:<3@b>\r\n");
	feed(&c, "RCPT TO:<4@b>\r\n");
	ck_assert_str_eq(out(&c), "452 4.5.3 Error: too many recipients\r\n");
	/* a long command line */
	char big[400];
	memset(big, 'A', sizeof big);
	memcpy(big, "NOOP ", 5);
	big[sizeof big - 3] = '\r';
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	feed(&c, big);
	ck_assert_str_eq(out(&c), "500 5.5.2 Error: line too long\r\n");
	/* an oversize message is read to its end and refused */
	feed(&c, "DATA\r\n");
	for (int i = 0; i < 30; i++) {
		feed(&c, "0123456789012345678901234567890123456789012345678\r\n");
		ck_assert_str_eq(out(&c), "");
	}
	feed(&c, ".\r\n");
	ck_assert_str_eq(out(&c), "552 5.3.4 Error: message file too big\r\n");
	ck_assert_ptr_null(c.env);
	feed(&c, "RCPT TO:<a@b>\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: need MAIL command\r\n");
	conv_free(&c);
}

TEST(long_data_line_bounded)
{
	smtp_limits l = test_limits();
	l.max_size = 50000;
	conv c;
	conv_init(&c, &l);
	feed(&c, "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	char *line = malloc(20001);
	memset(line, 'x', 20000);
	line[0] = '.';
	line[20000] = '\0';
	feed(&c, line);
	feed(&c, "\r\n.\r\n");
	ck_assert_ptr_nonnull(strstr(out(&c), "250 2.0.0 Ok"));
	ck_assert_uint_eq(c.env->data.len, 19999 + 2);
	ck_assert_int_eq(c.env->data.data[0], 'x');
	free(line);
	conv_free(&c);
}

TEST(bare_lf_and_nul)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	/* bare LF ends commands */
	feed(&c, "HELO a\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nDATA\n");
	ck_assert_ptr_nonnull(strstr(out(&c), "354 "));
	/* in DATA, bare LF lines are normalised and "\n.\n" is not the end */
	feed(&c, "one\ntwo\n.\nthree\r\n");
	ck_assert_str_eq(out(&c), "");
	smtp_proto_feed(c.p, "n\0ul\r\n", 6, &c.out, &c.act); /* NUL inside data */
	feed(&c, ".\r\n");
	ck_assert_str_eq(out(&c), "250 2.0.0 Ok: queued as Q1\r\n");
	ck_assert_str_eq(c.env->data.data, "one\r\ntwo\r\n\r\nthree\r\nnul\r\n");
	/* a NUL in a command is refused */
	c.out.len = 0;
	smtp_proto_feed(c.p, "NOOP\0x\r\n", 8, &c.out, &c.act);
	ck_assert_str_eq(out(&c), "500 5.5.2 Error: NUL character in command\r\n");
	conv_free(&c);
}

TEST(dot_after_bare_lf_is_not_end)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	feed(&c, "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	/* smuggling attempt: LF . CRLF must not end the message */
	feed(&c, "a\n.\r\nMAIL FROM:<evil@x>\r\n");
	ck_assert_str_eq(out(&c), "");
	feed(&c, "\r\n.\r\n");
	ck_assert_str_eq(out(&c), "250 2.0.0 Ok: queued as Q1\r\n");
	ck_assert_str_eq(c.env->data.data, "a\r\n\r\nMAIL FROM:<evil@x>\r\n\r\n");
	conv_free(&c);
}

TEST(starttls)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	feed(&c, "EHLO a\r\nMAIL FROM:<a@b>\r\n");
	size_t n = feed(&c, "STARTTLS\r\nEHLO injected\r\n");
	ck_assert_uint_eq(n, 10);
	ck_assert_str_eq(out(&c), "220 2.0.0 Ready to start TLS\r\n");
	ck_assert_int_eq(c.act, SMTP_ACT_STARTTLS);
	smtp_proto_tls_started(c.p);
	/* the session starts over: no HELO, no transaction */
	feed(&c, "MAIL FROM:<a@b>\r\n");
	ck_assert_str_eq(out(&c), "503 5.5.1 Error: send HELO/EHLO first\r\n");
	feed(&c, "EHLO a\r\n");
	ck_assert_ptr_null(strstr(out(&c), "STARTTLS"));
	feed(&c, "STARTTLS\r\n");
	ck_assert_str_eq(out(&c), "554 5.5.1 Error: TLS already active\r\n");
	feed(&c, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n");
	ck_assert_int_eq(c.env->tls, 1);
	conv_free(&c);
}

TEST(starttls_unavailable)
{
	smtp_limits l = test_limits();
	l.tls_available = 0;
	conv c;
	conv_init(&c, &l);
	feed(&c, "EHLO a\r\n");
	ck_assert_ptr_null(strstr(out(&c), "STARTTLS"));
	feed(&c, "STARTTLS\r\n");
	ck_assert_str_eq(out(&c), "502 5.5.1 Error: command not implemented\r\n");
	conv_free(&c);
}

TEST(timeout_reply)
{
	smtp_limits l = test_limits();
	conv c;
	conv_init(&c, &l);
	c.out.len = 0;
	smtp_proto_timeout(c.p, &c.out);
	ck_assert_str_eq(out(&c), "421 4.4.2 imsva.test Error: timeout exceeded\r\n");
	conv_free(&c);
}
