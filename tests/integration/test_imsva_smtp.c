/* test_imsva_smtp.c - imsvad's SMTP intake over real sockets: the ESMTP
 * conversation (extensions, bad sequences, limits, VRFY/HELP), pipelining,
 * oversize messages, bare LF, STARTTLS with libcurl's SMTP client, the idle
 * timeout, IMSVA's headers on delivered mail, and the crash test: kill -9
 * while a client sends, restart, and every message that got a 250 is there
 * and gets processed. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sys/wait.h>
#include "imsva_testutil.h"
#include "testlib.h"
#include "util.h"

static imsvad d;

static const char *const limits_args[] = {"--max_message_size", "4096", "--max_rcpts", "2", NULL};

static void setup(void)
{
	memset(&d, 0, sizeof d);
	imsvad_start(&d, limits_args);
}

static void teardown(void)
{
	imsvad_stop(&d, 0);
}

static tl_smtp *connect_ok(void)
{
	tl_smtp *s = tl_smtp_connect("127.0.0.1", d.smtp_port);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tl_smtp_read(s), 220);
	return s;
}

/* The raw text of the newest delivered message for rcpt. */
static char *mailbox_data(const char *rcpt)
{
	char *path = xasprintf("/api/mailbox?rcpt=%s", rcpt);
	json_t *list = imsvad_wait_count(&d, path, 1);
	free(path);
	ck_assert_int_ge(json_integer_value(json_object_get(list, "count")), 1);
	json_int_t id = json_integer_value(
		json_object_get(json_array_get(json_object_get(list, "messages"), 0), "id"));
	json_decref(list);
	json_t *m = api(&d, "GET", NULL, NULL, "/api/mailbox/%lld", (long long)id);
	ck_assert_ptr_nonnull(m);
	char *data = xstrdup(json_string_value(json_object_get(m, "data")));
	json_decref(m);
	return data;
}

TEST(conversation)
{
	tl_smtp *s = connect_ok();
	ck_assert_int_eq(tl_smtp_cmd(s, "EHLO client.test"), 250);
	const char *r = tl_smtp_reply(s);
	ck_assert_ptr_nonnull(strstr(r, "250-PIPELINING"));
	ck_assert_ptr_nonnull(strstr(r, "250-SIZE 4096"));
	ck_assert_ptr_nonnull(strstr(r, "250-STARTTLS"));
	ck_assert_ptr_nonnull(strstr(r, "250-ENHANCEDSTATUSCODES"));
	ck_assert_ptr_nonnull(strstr(r, "8BITMIME"));
	ck_assert_int_eq(tl_smtp_cmd(s, "VRFY postmaster"), 252);
	ck_assert_int_eq(tl_smtp_cmd(s, "HELP"), 214);
	ck_assert_int_eq(tl_smtp_cmd(s, "NOOP"), 250);
	/* bad sequences */
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<bob@example.org>"), 503);
	ck_assert_int_eq(tl_smtp_cmd(s, "DATA"), 503);
	ck_assert_int_eq(tl_smtp_cmd(s, "BOGUS"), 502);
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<alice@example.com>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<alice@example.com>"), 503);
	/* recipient limit */
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<bob@example.org>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<carol@example.org>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<dave@example.org>"), 452);
	ck_assert_ptr_nonnull(strstr(tl_smtp_reply(s), "4.5.3"));
	ck_assert_int_eq(tl_smtp_cmd(s, "DATA"), 354);
	/* bare LF line ends are normalised */
	const char *msg = "Subject: bare lf\nFrom: alice@example.com\n\nline one\nline two\r\n.\r\n";
	tl_smtp_raw(s, msg, strlen(msg));
	ck_assert_int_eq(tl_smtp_read(s), 250);
	ck_assert_ptr_nonnull(strstr(tl_smtp_reply(s), "2.0.0 Ok: queued as"));
	ck_assert_int_eq(tl_smtp_cmd(s, "QUIT"), 221);
	tl_smtp_close(s);

	char *data = mailbox_data("bob@example.org");
	ck_assert_ptr_nonnull(strstr(data, "\r\nline one\r\nline two\r\n"));
	ck_assert_ptr_nonnull(strstr(data, "by IMSVA (Postfix) with ESMTP id"));
	ck_assert_ptr_nonnull(strstr(data, "X-TM-AS-Product-Ver: IMSVA-"));
	ck_assert_ptr_nonnull(strstr(data, "X-TM-AS-Result: No-"));
	ck_assert_ptr_nonnull(strstr(data, "X-imss-scan-details: No-"));
	ck_assert_ptr_nonnull(strstr(data, "Subject: bare lf\r\n"));
	free(data);
}

TEST(pipelining)
{
	tl_smtp *s = connect_ok();
	const char *batch = "EHLO pipe.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<p1@example.org>\r\n"
			    "DATA\r\nSubject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<a@example.com>\r\n"
			    "RCPT TO:<p2@example.org>\r\nDATA\r\nSubject: two\r\n\r\nsecond\r\n.\r\n"
			    "QUIT\r\n";
	tl_smtp_raw(s, batch, strlen(batch));
	int expect[] = {250, 250, 250, 354, 250, 250, 250, 354, 250, 221};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		ck_assert_int_eq(tl_smtp_read(s), expect[i]);
	tl_smtp_close(s);
	char *one = mailbox_data("p1@example.org"), *two = mailbox_data("p2@example.org");
	ck_assert_ptr_nonnull(strstr(one, "\r\n\r\nfirst\r\n"));
	ck_assert_ptr_nonnull(strstr(two, "\r\n\r\nsecond\r\n"));
	free(one);
	free(two);
}

TEST(oversize_and_long_lines)
{
	tl_smtp *s = connect_ok();
	ck_assert_int_eq(tl_smtp_cmd(s, "EHLO big.test"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<a@example.com> SIZE=5000"), 552);
	ck_assert_int_eq(tl_smtp_cmd(s, "MAIL FROM:<a@example.com>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "RCPT TO:<big@example.org>"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "DATA"), 354);
	char line[101];
	memset(line, 'x', 98);
	memcpy(line + 98, "\r\n", 3);
	for (int i = 0; i < 60; i++) /* 6000 bytes > 4096 */
		tl_smtp_raw(s, line, 100);
	tl_smtp_raw(s, ".\r\n", 3);
	ck_assert_int_eq(tl_smtp_read(s), 552);
	ck_assert_ptr_nonnull(strstr(tl_smtp_reply(s), "5.3.4"));
	/* an endless command line is bounded */
	char *longcmd = xmalloc(5001);
	memset(longcmd, 'A', 5000);
	memcpy(longcmd, "NOOP ", 5);
	longcmd[5000] = '\0';
	ck_assert_int_eq(tl_smtp_cmd(s, "%s", longcmd), 500);
	free(longcmd);
	/* a NUL in a command is refused; the session goes on */
	tl_smtp_raw(s, "NOOP\0x\r\n", 8);
	ck_assert_int_eq(tl_smtp_read(s), 500);
	ck_assert_int_eq(tl_smtp_cmd(s, "RSET"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "NOOP"), 250);
	ck_assert_int_eq(tl_smtp_cmd(s, "QUIT"), 221);
	tl_smtp_close(s);
	ck_assert_int_eq(imsvad_count(&d, "delivered"), 0);
}

typedef struct upload {
	const char *data;
	size_t pos;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	upload *u = arg;
	size_t n = strlen(u->data + u->pos);
	if (n > size * nmemb)
		n = size * nmemb;
	memcpy(buf, u->data + u->pos, n);
	u->pos += n;
	return n;
}

TEST(starttls_with_curl)
{
	CURL *c = curl_easy_init();
	char *url = xasprintf("smtp://127.0.0.1:%d", d.smtp_port);
	struct curl_slist *rcpt = curl_slist_append(NULL, "<tls@example.org>");
	upload u = {"From: a@example.com\r\nSubject: over tls\r\n\r\nsecret\r\n", 0};
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<a@example.com>");
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	CURLcode rc = curl_easy_perform(c);
	ck_assert_msg(rc == CURLE_OK, "curl: %s", curl_easy_strerror(rc));
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(url);
	char *data = mailbox_data("tls@example.org");
	ck_assert_ptr_nonnull(strstr(data, "with ESMTPS id"));
	ck_assert_ptr_nonnull(strstr(data, "\r\n\r\nsecret\r\n"));
	free(data);
}

TEST(starttls_discards_pipelined_plaintext)
{
	tl_smtp *s = connect_ok();
	ck_assert_int_eq(tl_smtp_cmd(s, "EHLO a.test"), 250);
	/* the injected command after STARTTLS must not be executed */
	tl_smtp_raw(s, "STARTTLS\r\nRSET\r\n", 16);
	ck_assert_int_eq(tl_smtp_read(s), 220);
	tl_smtp_close(s);
}

/* A client that pipelines far more than it reads: the server stops reading
 * until its replies drain, and every command still gets its reply. */
TEST(flood_without_reading_is_bounded)
{
	tl_smtp *s = connect_ok();
	enum { N = 60000 };
	pid_t writer = fork();
	if (writer == 0) {
		char *flood = xmalloc(N * 6 + 7);
		for (int i = 0; i < N; i++)
			memcpy(flood + i * 6, "NOOP\r\n", 6);
		memcpy(flood + N * 6, "QUIT\r\n", 7);
		tl_smtp_raw(s, flood, N * 6 + 7);
		_exit(0);
	}
	usleep(300 * 1000); /* let the writer get ahead of us */
	int ok = 0, code;
	while ((code = tl_smtp_read(s)) == 250)
		ok++;
	int status;
	waitpid(writer, &status, 0);
	ck_assert_int_eq(code, 221);
	ck_assert_int_eq(ok, N);
	tl_smtp_close(s);
}

/* ---- the crash test ---- */

/* Child: send messages one by one forever, appending each acknowledged
 * queue id to acked (written only after the 250 arrived). */
static void sender(int port, const char *acked)
{
	FILE *f = fopen(acked, "a");
	for (int i = 0;; i++) {
		tl_smtp *s = tl_smtp_connect("127.0.0.1", port);
		if (!s || tl_smtp_read(s) != 220 || tl_smtp_cmd(s, "HELO crash.test") != 250
		    || tl_smtp_cmd(s, "MAIL FROM:<c@example.com>") != 250
		    || tl_smtp_cmd(s, "RCPT TO:<crash@example.org>") != 250
		    || tl_smtp_cmd(s, "DATA") != 354)
			break;
		char *m = xasprintf("Subject: crash %d\r\n\r\nbody %d\r\n.\r\n", i, i);
		tl_smtp_raw(s, m, strlen(m));
		free(m);
		if (tl_smtp_read(s) != 250)
			break;
		const char *q = strstr(tl_smtp_reply(s), "queued as ");
		if (q) {
			fprintf(f, "%.10s\n", q + 10);
			fflush(f);
		}
		tl_smtp_close(s);
	}
	fclose(f);
	_exit(0);
}

static int count_lines(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	if (file_read(path, &data, &len, NULL) != 0)
		return 0;
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	free(data);
	return n;
}

TEST(kill9_keeps_every_acknowledged_message)
{
	char *acked = xasprintf("%s/acked.txt", d.home);
	pid_t child = fork();
	if (child == 0)
		sender(d.smtp_port, acked);
	for (int i = 0; i < 400 && count_lines(acked) < 40; i++)
		usleep(25 * 1000);
	kill(d.pid, SIGKILL); /* while the client is sending */
	int status;
	waitpid(d.pid, &status, 0);
	waitpid(child, &status, 0);
	d.pid = 0;
	char *data = NULL;
	size_t len = 0;
	ck_assert_int_eq(file_read(acked, &data, &len, NULL), 0);
	int n = count_lines(acked);
	ck_assert_int_ge(n, 40);

	imsvad_stop(&d, 1);
	imsvad_start(&d, limits_args);
	char *save = NULL;
	for (char *q = strtok_r(data, "\n", &save); q; q = strtok_r(NULL, "\n", &save)) {
		long long id = strtoll(q, NULL, 16);
		long st = 0;
		json_t *m = api(&d, "GET", NULL, &st, "/api/messages/%lld", id);
		ck_assert_msg(st == 200, "acknowledged message %s lost after kill -9", q);
		json_decref(m);
	}
	/* and every one of them is processed after the restart */
	ck_assert(imsvad_wait_state(&d, "delivered", n));
	ck_assert_int_eq(imsvad_count(&d, "new"), 0);
	ck_assert_int_eq(imsvad_count(&d, "processing"), 0);
	free(data);
	free(acked);
}

TEST(idle_timeout)
{
	imsvad_stop(&d, 0);
	const char *args[] = {"--smtp_idle_timeout", "1s", NULL};
	imsvad_start(&d, args);
	tl_smtp *s = connect_ok();
	ck_assert_int_eq(tl_smtp_read(s), 421); /* nothing sent: the server gives up */
	ck_assert_ptr_nonnull(strstr(tl_smtp_reply(s), "4.4.2"));
	tl_smtp_close(s);
}

TEST(admin_api_needs_login)
{
	long st = 0;
	char *saved = d.auth;
	d.auth = NULL;
	json_t *j = api(&d, "GET", NULL, &st, "/api/status");
	ck_assert_int_eq(st, 401);
	json_decref(j);
	j = api(&d, "POST", "{\"username\":\"admin\",\"password\":\"wrong\"}", &st, "/api/login");
	ck_assert_int_eq(st, 401);
	json_decref(j);
	d.auth = xstrdup("Authorization: Bearer not-a-session");
	j = api(&d, "GET", NULL, &st, "/api/logs");
	ck_assert_int_eq(st, 401);
	json_decref(j);
	free(d.auth);
	d.auth = saved;
	j = api(&d, "GET", NULL, &st, "/api/status");
	ck_assert_int_eq(st, 200);
	json_decref(j);
	/* the failed log on is in the system log */
	j = api(&d, "GET", NULL, &st, "/api/logs?type=system");
	ck_assert_int_eq(st, 200);
	char *logs = json_dumps(j, 0);
	ck_assert_msg(strstr(logs, "failed log on for admin") != NULL, "%s", logs);
	free(logs);
	json_decref(j);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
