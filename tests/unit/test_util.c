/* test_util.c - wildcards, durations, time parsing, UUIDs, buffers, files,
 * and the out-of-memory path. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "util.h"
#include "testlib.h"

TEST(test_wildcards)
{
	ck_assert(wildcard_match("*", ""));
	ck_assert(wildcard_match("*@example.com", "Alice@EXAMPLE.com"));
	ck_assert(wildcard_match("TMCM_*rule", "TMCM_Suspicious File detection rule"));
	ck_assert(wildcard_match("a?c", "abc"));
	ck_assert(!wildcard_match("a?c", "ac"));
	ck_assert(!wildcard_match("*@example.com", "alice@example.org"));
	ck_assert(wildcard_match("*a*b*", "xxaxxbxx"));
	ck_assert(!wildcard_match("*a*b", "xxaxxbxx"));
}

TEST(test_durations)
{
	int64_t ms;
	ck_assert_int_eq(duration_parse("250ms", &ms, NULL), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(duration_parse("5s", &ms, NULL), 0);
	ck_assert_int_eq(ms, 5000);
	ck_assert_int_eq(duration_parse("2m", &ms, NULL), 0);
	ck_assert_int_eq(ms, 120000);
	ck_assert_int_eq(duration_parse("30d", &ms, NULL), 0);
	ck_assert_int_eq(ms, 30LL * 86400000);
	ck_assert_int_eq(duration_parse("1.5", &ms, NULL), 0);
	ck_assert_int_eq(ms, 1500);
	ck_assert_int_eq(duration_parse("5 minutes", &ms, NULL), -1);
	ck_assert_int_eq(duration_parse("-1s", &ms, NULL), -1);
	ctd_err err;
	ck_assert_int_eq(duration_parse("", &ms, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a duration"));
}

TEST(test_time_parse_and_format)
{
	int64_t ms;
	char out[32];
	ck_assert_int_eq(time_parse("2018-03-01T09:30:00Z", &ms, NULL), 0);
	ck_assert_int_eq(ms, 1519896600000LL);
	ck_assert_int_eq(time_parse("2018-03-01T18:30:00+09:00", &ms, NULL), 0);
	ck_assert_int_eq(ms, 1519896600000LL);
	ck_assert_int_eq(time_parse("2018-03-01", &ms, NULL), 0);
	ck_assert_int_eq(ms, 1519862400000LL);
	ck_assert_int_eq(time_parse("1700000000", &ms, NULL), 0);
	ck_assert_int_eq(ms, 1700000000000LL);
	ck_assert_int_eq(time_parse("1700000000123", &ms, NULL), 0);
	ck_assert_int_eq(ms, 1700000000123LL);
	ctd_err err;
	ck_assert_int_eq(time_parse("yesterday", &ms, &err), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "yesterday"));
	time_iso8601(1519896600000LL, out, sizeof out);
	ck_assert_str_eq(out, "2018-03-01T09:30:00Z");
}

TEST(test_uuid_shape)
{
	char a[37], b[37];
	uuid_v4(a);
	uuid_v4(b);
	ck_assert_uint_eq(strlen(a), 36);
	ck_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	ck_assert(a[14] == '4');
	ck_assert(strchr("89ab", a[19]) != NULL);
	ck_assert_str_ne(a, b);
	str_upper(a);
	ck_assert(strspn(a, "0123456789ABCDEF-") == 36);
}

TEST(test_sbuf_and_files)
{
	sbuf b = {0};
	for (int i = 0; i < 1000; i++)
		sbuf_printf(&b, "%d,", i);
	sbuf_append(&b, "\0x", 2);
	ck_assert_uint_eq(b.len, 3890 + 2);
	char path[] = "/tmp/ctdlab-util-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	ck_assert_int_eq(file_write_atomic(path, b.data, b.len, 0600, NULL), 0);
	char *back;
	size_t len;
	ck_assert_int_eq(file_read(path, &back, &len, NULL), 0);
	ck_assert_uint_eq(len, b.len);
	ck_assert(memcmp(back, b.data, len) == 0);
	free(back);
	unlink(path);
	ctd_err err;
	ck_assert_int_eq(file_read(path, &back, &len, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, path));
	ck_assert_int_eq(mkdir_p("/proc/ctdlab-no/such", 0755, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	ck_assert_int_eq(file_write_atomic("/proc/ctdlab-no/such", "x", 1, 0600, &err), -1);
	ck_assert_int_eq(err.code, CTD_ENOTFOUND);
	sbuf_free(&b);
}

TEST(test_errors_map_to_http)
{
	ctd_err err;
	ck_assert_int_eq(ctd_fail(&err, CTD_ENOTFOUND, "sample %s", "abc"), -1);
	ck_assert_str_eq(err.msg, "sample abc");
	ck_assert_int_eq(ctd_errcode_http(err.code), 404);
	ck_assert_str_eq(ctd_errcode_name(err.code), "not_found");
	ck_assert_int_eq(ctd_errcode_http(CTD_ETOOBIG), 413);
	ck_assert_int_eq(ctd_errcode_http(CTD_EAUTH), 401);
}

/* Out of memory, a child writes the fixed line (no allocation, no logger)
 * and aborts rather than recursing through the logger. */
TEST(test_oom_writes_fixed_line_and_aborts)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		oom_abort();
	}
	close(fds[1]);
	char out[256] = {0};
	size_t n = 0;
	ssize_t got;
	while (n < sizeof out - 1 && (got = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)got;
	close(fds[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	ck_assert_str_eq(out, "level=error event=oom msg=\"out of memory\"\n");
}

/* utf8_sanitize: valid UTF-8 kept as is, each bad byte (Latin-1, truncated,
 * overlong, surrogate) one U+FFFD, NULL gives "". */
TEST(utf8_sanitize_replaces_bad_bytes)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain.exe", "plain.exe"},
		{"r\xc3\xa9sum\xc3\xa9.exe", "r\xc3\xa9sum\xc3\xa9.exe"},
		{"r\xe9sum\xe9.exe", "r\xef\xbf\xbdsum\xef\xbf\xbd.exe"},
		{"\xe3\x81", "\xef\xbf\xbd\xef\xbf\xbd"},         /* truncated sequence */
		{"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},         /* overlong '/' */
		{"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
		{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = utf8_sanitize(cases[i].in);
		ck_assert_str_eq(s, cases[i].out);
		free(s);
	}
	char *s = utf8_sanitize(NULL);
	ck_assert_str_eq(s, "");
	free(s);
}
