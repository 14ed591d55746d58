/* log.c - structured log lines on stderr: key=value by default, JSON on
 * request. One line per event, written with a single write so lines from
 * threads never interleave.
 *
 * Values are escaped here, not by callers: the logger walks the caller's
 * format string (`key=%s`, `key="%s"`, `key=%s:%d`), expands each value on
 * its own and escapes it for the output format, so a hostile value (a file
 * name, a header) can never start a line or forge a key. Only libc is used,
 * on fixed buffers: the out-of-memory and fatal paths go through here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "util.h"

#define LINE_CAP 4096
#define LINE_RESERVE 8 /* room for the closing quote, brace and newline */
#define VALUE_CAP 2048

static const char *log_app = "ctdlab";
static log_level log_min = LOG_LVL_INFO;
static int log_json;
static void (*fatal_hook)(void);
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *appliance, log_level level, int json)
{
	log_app = appliance;
	log_min = level;
	log_json = json;
}

void log_set_fatal_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

int log_level_parse(const char *name, log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (log_level)i;
			return 0;
		}
	}
	return -1;
}

/* ---- the line buffer ---------------------------------------------------- */

typedef struct line {
	char buf[LINE_CAP];
	size_t len;
	int full; /* something did not fit: the rest of the line is dropped */
} line;

/* Append all of s or nothing, leaving LINE_RESERVE bytes for the closers, so
 * an escape sequence is never cut in half and the line always ends well. */
static void put(line *l, const char *s, size_t n)
{
	if (l->full || l->len + n > LINE_CAP - LINE_RESERVE) {
		l->full = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put_str(line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Closers may use the reserve. */
static void put_closer(line *l, const char *s)
{
	size_t n = strlen(s);
	if (l->len + n <= LINE_CAP) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

/* The escape for byte c, or NULL when it may appear as it is. */
static const char *escape_of(unsigned char c, int json, char tmp[8])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	}
	if (c >= 0x20 && c != 0x7f)
		return NULL;
	snprintf(tmp, 8, json ? "\\u%04x" : "\\x%02x", c);
	return tmp;
}

/* Append v escaped: JSON string escaping, or the key=value one (the same,
 * with \xHH for other control bytes). Invalid UTF-8 becomes U+FFFD in JSON
 * and \xHH in key=value. */
static void put_escaped_as(line *l, const char *v, size_t n, int json)
{
	const unsigned char *s = (const unsigned char *)v;
	char tmp[8];
	for (size_t i = 0; i < n;) {
		if (s[i] >= 0x80) {
			size_t len = utf8_seq_len(s + i, n - i);
			if (len) {
				put(l, v + i, len);
			} else {
				snprintf(tmp, sizeof tmp, "\\x%02x", s[i]);
				put_str(l, json ? "\\ufffd" : tmp);
				len = 1;
			}
			i += len;
			continue;
		}
		const char *esc = escape_of(s[i], json, tmp);
		put(l, esc ? esc : v + i, esc ? strlen(esc) : 1);
		i++;
	}
}

static void put_escaped(line *l, const char *v, size_t n)
{
	put_escaped_as(l, v, n, log_json);
}

void log_escape(const char *v, char *out, size_t cap)
{
	line l = {.len = 0};
	put_escaped_as(&l, v ? v : "", v ? strlen(v) : 0, 0);
	size_t n = l.len < cap - 1 ? l.len : cap - 1;
	memcpy(out, l.buf, n);
	out[n] = '\0';
}

/* A bare key=value value must be quoted when it is empty or holds anything
 * but printable ASCII other than quote, backslash and '='. */
static int needs_quotes(const char *v, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=')
			return 1;
	}
	return 0;
}

/* One field: "key":"value" in JSON; key=value or key="value" otherwise. */
static void put_field(line *l, const char *key, size_t keylen, const char *v, size_t n,
		      int quoted)
{
	size_t start = l->len;
	quoted = log_json || quoted || needs_quotes(v, n);
	if (log_json) {
		put_str(l, start > 1 ? ",\"" : "\"");
		put_escaped(l, key, keylen);
		put_str(l, "\":\"");
	} else {
		put_str(l, start ? " " : "");
		put(l, key, keylen);
		put_str(l, quoted ? "=\"" : "=");
	}
	if (l->full) {
		l->len = start; /* no half-opened field */
		return;
	}
	put_escaped(l, v, n);
	if (quoted)
		put_closer(l, "\"");
}

/* ---- expanding one value's template ----------------------------------- */

/* A conversion parsed from the caller's format: its text with any '*'
 * replaced by the number taken from the arguments. */
typedef struct conv {
	char spec[64];
	char length[3];
	char type;
} conv;

/* Parse the conversion at *p (just after '%'); 0 on success. */
static int conv_parse(const char **p, va_list *ap, conv *c)
{
	const char *s = *p;
	size_t n = 0;
	c->spec[n++] = '%';
	while (*s && strchr("-+ #0", *s) && n < 8)
		c->spec[n++] = *s++;
	for (int part = 0; part < 2; part++) {
		if (part == 1) {
			if (*s != '.')
				break;
			c->spec[n++] = *s++;
		}
		if (*s == '*') {
			n += (size_t)snprintf(c->spec + n, 12, "%d", va_arg(*ap, int));
			s++;
		}
		while (*s >= '0' && *s <= '9' && n < 40)
			c->spec[n++] = *s++;
	}
	size_t lenlen = strspn(s, "hlzjtL");
	if (lenlen > 2 || !*s || !strchr("diouxXcsfFeEgGaApn", s[lenlen]))
		return -1;
	memcpy(c->length, s, lenlen);
	c->length[lenlen] = '\0';
	memcpy(c->spec + n, s, lenlen + 1);
	c->spec[n + lenlen + 1] = '\0';
	c->type = s[lenlen];
	*p = s + lenlen + 1;
	return 0;
}

/* fmt_integer and fmt_arg hand snprintf a format built at run time: one
 * conversion that parse_conv checked, taken from a format the compiler
 * checked at the log_* call (format attribute), with the va_arg type that
 * conversion names. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* Format one argument of an integer conversion with the type its length
 * modifier names. */
static int fmt_integer(char *out, size_t cap, const conv *c, va_list *ap)
{
	int is_signed = c->type == 'd' || c->type == 'i';
	const char *m = c->length;
	if (strcmp(m, "ll") == 0)
		return is_signed ? snprintf(out, cap, c->spec, va_arg(*ap, long long))
				 : snprintf(out, cap, c->spec, va_arg(*ap, unsigned long long));
	if (strcmp(m, "l") == 0)
		return is_signed ? snprintf(out, cap, c->spec, va_arg(*ap, long))
				 : snprintf(out, cap, c->spec, va_arg(*ap, unsigned long));
	if (strcmp(m, "z") == 0)
		return snprintf(out, cap, c->spec, va_arg(*ap, size_t));
	if (strcmp(m, "j") == 0)
		return is_signed ? snprintf(out, cap, c->spec, va_arg(*ap, intmax_t))
				 : snprintf(out, cap, c->spec, va_arg(*ap, uintmax_t));
	if (strcmp(m, "t") == 0)
		return snprintf(out, cap, c->spec, va_arg(*ap, ptrdiff_t));
	return is_signed ? snprintf(out, cap, c->spec, va_arg(*ap, int))
			 : snprintf(out, cap, c->spec, va_arg(*ap, unsigned int));
}

/* Format the next argument for c into out; returns what snprintf returns.
 * Wide characters and %n are not for logs: the argument is skipped. */
static int fmt_arg(char *out, size_t cap, const conv *c, va_list *ap)
{
	if (*c->length && (c->type == 's' || c->type == 'c')) {
		if (c->type == 's')
			(void)va_arg(*ap, void *);
		else
			(void)va_arg(*ap, int);
		return snprintf(out, cap, "?");
	}
	switch (c->type) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		return snprintf(out, cap, c->spec, s ? s : "(null)");
	}
	case 'c':
		return snprintf(out, cap, c->spec, va_arg(*ap, int));
	case 'p':
		return snprintf(out, cap, c->spec, va_arg(*ap, void *));
	case 'n':
		(void)va_arg(*ap, void *);
		return 0;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
		return *c->length == 'L' ? snprintf(out, cap, c->spec, va_arg(*ap, long double))
					 : snprintf(out, cap, c->spec, va_arg(*ap, double));
	}
	return fmt_integer(out, cap, c, ap);
}

#pragma GCC diagnostic pop

/* Expand the template [t, end) with the next arguments into out (raw,
 * unescaped, truncated to cap). Returns the length, or -1 when the format
 * has a conversion we cannot follow (the arguments are then out of step). */
static long expand(const char *t, const char *end, va_list *ap, char *out, size_t cap)
{
	size_t n = 0;
	while (t < end) {
		if (*t != '%' || t[1] == '%') {
			if (n + 1 < cap)
				out[n++] = *t;
			t += *t == '%' ? 2 : 1;
			continue;
		}
		t++;
		conv c;
		if (conv_parse(&t, ap, &c) != 0)
			return -1;
		int w = fmt_arg(out + n, cap - n, &c, ap);
		if (w > 0)
			n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
	}
	out[n] = '\0';
	return (long)n;
}

/* ---- walking the fields ----------------------------------------------- */

/* Append the fields of fmt: `key=value` tokens separated by spaces, where a
 * value is a bare run or a "quoted" run that may hold spaces. A token
 * without '=' is a field named msg. */
static void put_fields(line *l, const char *fmt, va_list *ap)
{
	static const char msg_key[] = "msg";
	char value[VALUE_CAP];
	const char *p = fmt;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			return;
		const char *key = p, *t, *end;
		p += strcspn(p, "= ");
		size_t keylen = (size_t)(p - key);
		int quoted = *p == '=' && p[1] == '"';
		if (*p != '=') {
			t = key;
			key = msg_key;
			keylen = sizeof msg_key - 1;
		} else {
			t = p + 1 + quoted;
		}
		end = t + strcspn(t, quoted ? "\"" : " ");
		p = *end == '"' ? end + 1 : end;
		long n = expand(t, end, ap, value, sizeof value);
		if (n < 0)
			return;
		put_field(l, key, keylen, value, (size_t)n, quoted);
	}
}

static void put_header(line *l, log_level level, const char *event)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (log_json)
		put_str(l, "{");
	put_field(l, "ts", 2, ts, strlen(ts), 0);
	put_field(l, "level", 5, level_names[level], strlen(level_names[level]), 0);
	put_field(l, "app", 3, log_app, strlen(log_app), 0);
	put_field(l, "event", 5, event, strlen(event), 0);
}

static void vlog(log_level level, const char *event, const char *fmt, va_list ap)
{
	line l = {.len = 0};
	va_list args;
	va_copy(args, ap);
	put_header(&l, level, event);
	put_fields(&l, fmt, &args);
	va_end(args);
	put_closer(&l, log_json ? "}\n" : "\n");
	if (write(STDERR_FILENO, l.buf, l.len) < 0) {
		/* nowhere left to report it */
	}
}

void log_event(log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;
	if (level < log_min)
		return;
	va_start(ap, fmt);
	vlog(level, event, fmt, ap);
	va_end(ap);
}

void fatal(const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, event, fmt, ap);
	va_end(ap);
	if (fatal_hook)
		fatal_hook();
	/* Not exit(): other threads (a sync worker, the committer) may still run,
	 * and exit's handlers would tear down OpenSSL, libcurl and SQLite under
	 * them (spsd crashed at a taken port with its sync thread started). */
	fflush(NULL);
	_exit(1);
}
