/* test_log.c - structured log lines: key=value and JSON output, levels. */
#include <check.h>
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
	char *buf = calloc(1, 8192);
	ssize_t n = read(fds[0], buf, 8191);
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

TEST(test_level_names)
{
	log_level l;
	ck_assert_int_eq(log_level_parse("debug", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
	ck_assert_int_eq(log_level_parse("error", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_ERROR);
	ck_assert_int_eq(log_level_parse("loud", &l), -1);
}
