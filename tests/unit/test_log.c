/* test_log.c - structured log lines: key=value and JSON output, levels, and
 * escaping: a hostile value can never forge a line or a field. */
#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "testlib.h"

/* Run fn with stderr captured; returns what it wrote (malloc'd). */
static char *capture(void (*fn)(void))
{
	int fds[2], saved = dup(STDERR_FILENO);
	ck_assert_int_eq(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	char *buf = calloc(1, 16384);
	ssize_t n = read(fds[0], buf, 16383);
	ck_assert(n >= 0);
	close(fds[0]);
	return buf;
}

static void write_kv(void)
{
	log_init("ddan", LOG_LVL_INFO, 0);
	log_debug("hidden", "x=%d", 1);
	log_info("sample.done", "sha1=%s risk=%d reason=\"%s\"", "ABC", 3, "lab marker");
}

static void write_json(void)
{
	log_init("imsva", LOG_LVL_WARN, 1);
	log_info("hidden", "x=%d", 1);
	log_warn("smtp.reject", "client=%s reason=\"%s\"", "127.0.0.1", "too many recipients");
}

TEST(test_key_value_line)
{
	char *out = capture(write_kv);
	ck_assert_ptr_null(strstr(out, "hidden"));
	ck_assert_ptr_nonnull(strstr(out, " level=info app=ddan event=sample.done sha1=ABC risk=3 "
					  "reason=\"lab marker\"\n"));
	ck_assert(strncmp(out, "ts=", 3) == 0);
	free(out);
}

TEST(test_json_line)
{
	char *out = capture(write_json);
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr);
	ck_assert_msg(o != NULL, "not one JSON object: %s (%s)", out, jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
	ck_assert_str_eq(json_string_value(json_object_get(o, "app")), "imsva");
	ck_assert_str_eq(json_string_value(json_object_get(o, "event")), "smtp.reject");
	ck_assert_str_eq(json_string_value(json_object_get(o, "client")), "127.0.0.1");
	ck_assert_str_eq(json_string_value(json_object_get(o, "reason")), "too many recipients");
	json_decref(o);
	free(out);
}

/* A value that tries to end the line, close its quotes and add fields. */
#define FORGED "x\" admin=\"yes\nts=0 level=error event=forged"

static void write_hostile_kv(void)
{
	log_init("ddi", LOG_LVL_INFO, 0);
	log_info("file.seen", "name=\"%s\" bare=%s ctl=%c size=%d", FORGED, "a b\\c", 1, 7);
}

static void write_hostile_json(void)
{
	log_init("ddi", LOG_LVL_INFO, 1);
	log_info("file.seen", "name=\"%s\" bare=%s ctl=%c bad=%s", FORGED, "a b", 1, "\xff\xc3");
}

static void write_conversions(void)
{
	log_init("imsva", LOG_LVL_INFO, 0);
	log_info("conv", "a=%lld b=%zu c=%.1f d=100%% e=%*d f=%" PRId64 " relay=%s:%d empty=%s",
		 -5LL, (size_t)7, 1.25, 5, 42, (int64_t)1 << 40, "mx.lab.test", 25, "");
}

/* Every printf conversion the call sites use still formats as before; a
 * value with a space (here from a width) is quoted, an empty one too. */
TEST(test_conversions)
{
	char *out = capture(write_conversions);
	ck_assert_msg(strstr(out, " event=conv a=-5 b=7 c=1.2 d=100% e=\"   42\" f=1099511627776 "
				  "relay=mx.lab.test:25 empty=\"\"\n") != NULL,
		      "got: %s", out);
	free(out);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(test_key_value_escapes_values)
{
	char *out = capture(write_hostile_kv);
	ck_assert_uint_eq(count_lines(out), 1);
	ck_assert_ptr_nonnull(strstr(out, " event=file.seen name=\"x\\\" admin=\\\"yes\\nts=0 "
					  "level=error event=forged\" bare=\"a b\\\\c\" "
					  "ctl=\"\\x01\" size=7\n"));
	ck_assert_ptr_null(strstr(out, " admin=\"yes"));
	free(out);
}

TEST(test_json_escapes_values)
{
	char *out = capture(write_hostile_json);
	ck_assert_uint_eq(count_lines(out), 1);
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr);
	ck_assert_msg(o != NULL, "not one JSON object: %s (%s)", out, jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(o, "name")), FORGED);
	ck_assert_str_eq(json_string_value(json_object_get(o, "bare")), "a b");
	ck_assert_str_eq(json_string_value(json_object_get(o, "ctl")), "\x01");
	ck_assert_str_eq(json_string_value(json_object_get(o, "bad")), "\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_str_eq(json_string_value(json_object_get(o, "event")), "file.seen");
	ck_assert_ptr_null(json_object_get(o, "admin"));
	ck_assert_uint_eq(json_object_size(o), 8);
	json_decref(o);
	free(out);
}

static void write_long_json(void)
{
	static char big[10000];
	memset(big, '"', sizeof big - 1);
	log_init("ddi", LOG_LVL_INFO, 1);
	log_info("big", "a=%s b=%s", big, big);
}

/* Over the line limit the value is cut, and the line still parses. */
TEST(test_long_values_keep_the_line_whole)
{
	char *out = capture(write_long_json);
	ck_assert_uint_eq(count_lines(out), 1);
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr);
	ck_assert_msg(o != NULL, "not one JSON object (%s)", jerr.text);
	ck_assert_uint_gt(strlen(json_string_value(json_object_get(o, "a"))), 100);
	json_decref(o);
	free(out);
}

TEST(test_level_names)
{
	log_level l;
	ck_assert_int_eq(log_level_parse("debug", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
	ck_assert_int_eq(log_level_parse("error", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_ERROR);
	ck_assert_int_eq(log_level_parse("loud", &l), -1);
}
