/* test_json_write.c - common/json_write.c writes what json_dumps(JSON_COMPACT
 * | JSON_ENCODE_ANY) writes, byte for byte (escapes, key order, numbers,
 * nesting, non-ASCII), and keeps a string with invalid UTF-8 valid JSON
 * (U+FFFD) where jansson gives up. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "json_write.h"
#include "testlib.h"

static void same_as_jansson(json_t *v)
{
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	sbuf got = {0};
	json_write(&got, v);
	ck_assert_ptr_nonnull(want);
	ck_assert_str_eq(got.data, want);
	free(want);
	sbuf_free(&got);
	json_decref(v);
}

TEST(matches_json_dumps)
{
	same_as_jansson(json_pack("{s:s, s:i, s:b, s:b, s:n, s:f, s:f, s:[], s:{}}", "b", "x",
				  "a", -42, "t", 1, "f", 0, "nil", "pi", 3.25, "whole", 2.0,
				  "empty", "obj"));
	same_as_jansson(json_pack("[s, s, s, s]", "quote\" back\\ slash/ tab\t nl\n cr\r",
				  "\b\f\x01\x1f\x7f", "日本語 ü €", "𝄞 emoji 😀"));
	same_as_jansson(json_pack("{s:[{s:[i, I]}, s]}", "deep", "k", 1,
				  (json_int_t)9007199254740993LL, "tail"));
	same_as_jansson(json_stringn("nul\0inside", 10));
	same_as_jansson(json_integer(INT64_MIN));
	same_as_jansson(json_real(1e300));
	json_t *o = json_object();
	json_object_setn_new(o, "k\0ey", 4, json_true());
	same_as_jansson(o);
}

TEST(invalid_utf8_stays_json)
{
	json_t *s = json_stringn_nocheck("a\xff" "b\xc3", 4);
	ck_assert_ptr_null(json_dumps(s, JSON_ENCODE_ANY)); /* jansson refuses it */
	sbuf b = {0};
	json_write(&b, s);
	ck_assert_str_eq(b.data, "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
	json_t *back = json_loads(b.data, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(back);
	json_decref(back);
	json_decref(s);
	sbuf_free(&b);
}

TEST(strings_and_ints_one_by_one)
{
	sbuf b = {0};
	json_write_str(&b, "say \"hi\"", 8);
	sbuf_puts(&b, ",");
	sbuf_put_int(&b, 1796661469656LL);
	ck_assert_str_eq(b.data, "\"say \\\"hi\\\"\",1796661469656");
	sbuf_free(&b);
}
