/* json_write.c - compact JSON without json_dumps (see json_write.h). Most of
 * a JSON answer is string bytes that need no escape: they are copied in runs,
 * where jansson decodes and re-encodes each code point through a callback. */
#include "json_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's escapes: the short ones, else \u00XX for control bytes. */
static void write_escape(sbuf *b, unsigned char c)
{
	static const char short_esc[] = {['"'] = '"', ['\\'] = '\\', ['\b'] = 'b',
					 ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
	char seq[8];
	if (c < sizeof short_esc && short_esc[c]) {
		seq[0] = '\\';
		seq[1] = short_esc[c];
		sbuf_append(b, seq, 2);
		return;
	}
	snprintf(seq, sizeof seq, "\\u%04X", c);
	sbuf_append(b, seq, 6);
}

/* Bytes copied as they are: printable ASCII but the quote and the backslash.
 * The rest is escaped, or (0x80 and up) checked as UTF-8. */
static const unsigned char plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5B] = 1, [0x5D ... 0x7F] = 1,
};

void json_write_str(sbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end && plain[*p])
		p++;
	if (p == end) { /* most strings: copied whole between their quotes */
		sbuf_reserve(b, n + 2);
		char *o = b->data + b->len;
		o[0] = '"';
		if (n)
			memcpy(o + 1, s, n);
		o[n + 1] = '"';
		o[n + 2] = '\0';
		b->len += n + 2;
		return;
	}
	p = (const unsigned char *)s;
	sbuf_append(b, "\"", 1);
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && plain[*p])
			p++;
		while (p < end && *p >= 0x80) {
			size_t seq = utf8_seq_len(p, (size_t)(end - p));
			if (!seq)
				break;
			p += seq;
			while (p < end && plain[*p])
				p++;
		}
		sbuf_append(b, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p >= 0x80)
			sbuf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD for an invalid byte */
		else
			write_escape(b, *p);
		p++;
	}
	sbuf_append(b, "\"", 1);
}

/* A real as jansson formats it (precision, exponent, ".0"): rare enough in
 * our answers to leave to jansson. */
static void write_real(sbuf *b, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	sbuf_puts(b, text ? text : "null");
	free(text);
}

static void write_object(sbuf *b, const json_t *v)
{
	int first = 1;
	sbuf_append(b, "{", 1);
	for (void *it = json_object_iter((json_t *)v); it;
	     it = json_object_iter_next((json_t *)v, it)) {
		if (!first)
			sbuf_append(b, ",", 1);
		first = 0;
		json_write_str(b, json_object_iter_key(it), json_object_iter_key_len(it));
		sbuf_append(b, ":", 1);
		json_write(b, json_object_iter_value(it));
	}
	sbuf_append(b, "}", 1);
}

void json_write(sbuf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		write_object(b, v);
		break;
	case JSON_ARRAY:
		sbuf_append(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				sbuf_append(b, ",", 1);
			json_write(b, json_array_get(v, i));
		}
		sbuf_append(b, "]", 1);
		break;
	case JSON_STRING:
		json_write_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sbuf_put_int(b, json_integer_value(v));
		break;
	case JSON_REAL:
		write_real(b, v);
		break;
	case JSON_TRUE:
		sbuf_append(b, "true", 4);
		break;
	case JSON_FALSE:
		sbuf_append(b, "false", 5);
		break;
	case JSON_NULL:
		sbuf_append(b, "null", 4);
		break;
	}
}
