/* util.h - small helpers every module needs: checked allocation, a growable
 * string buffer, time, UUIDs, wildcard matching. */
#ifndef CTD_UTIL_H
#define CTD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

/* The x*alloc functions never return NULL: out of memory, they call
 * oom_abort(), which writes a fixed line to stderr and aborts. */
void oom_abort(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer, always NUL-terminated. */
typedef struct sbuf {
	char *data;
	size_t len, cap;
} sbuf;
void sbuf_append(sbuf *b, const void *data, size_t len);
/* Room for extra more bytes (and the NUL) at data + len, for writing in place. */
void sbuf_reserve(sbuf *b, size_t extra);
void sbuf_puts(sbuf *b, const char *s);
/* n in decimal (a JSON or XML integer), without printf. */
void sbuf_put_int(sbuf *b, int64_t n);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sbuf_detach(sbuf *b); /* caller frees; buffer is reset */
/* FNV-1a of a string: a cache's slot, not a digest. */
uint64_t str_hash(const char *s);
void sbuf_free(sbuf *b);

int64_t time_now_ms(void);      /* wall clock, ms since the epoch */
int64_t time_mono_ms(void);     /* monotonic clock, for intervals */
int64_t time_mono_us(void);     /* the same in microseconds, for short timings */
void sleep_ms(long ms);         /* the whole time, signals or not */
/* "2026-11-30T04:44:44Z" (UTC) into out (at least 21 bytes). */
void time_iso8601(int64_t ms, char *out, size_t outlen);
/* Accepts ISO 8601 (date, date+time, optional Z / offset) or epoch seconds;
 * -1 with err (CTD_EINVAL) otherwise. */
int time_parse(const char *s, int64_t *ms_out, ctd_err *err);
/* "5s", "250ms", "2m", "1h", "30d" or a bare number of seconds; -1 with err
 * (CTD_EINVAL) otherwise. */
int duration_parse(const char *s, int64_t *ms_out, ctd_err *err);

/* Random v4 UUID, lower-case, 37 bytes with the NUL. */
void uuid_v4(char out[37]);
void str_upper(char *s);
void str_lower(char *s);

/* Case-insensitive glob with `*` (any run) and `?` (one char). */
int wildcard_match(const char *pattern, const char *text);

/* Read or write a whole file; write is atomic (temp file + rename). On
 * failure -1 with err (CTD_ENOTFOUND for a missing file, else CTD_EIO; the
 * message names the path and the reason). */
int file_read(const char *path, char **data, size_t *len, ctd_err *err);
int file_write_atomic(const char *path, const void *data, size_t len, int mode, ctd_err *err);
int mkdir_p(const char *path, int mode, ctd_err *err);

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid
 * (overlong, surrogate, beyond U+10FFFF, truncated or a lone ASCII byte). */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* A malloc'd copy of s that is valid UTF-8: every byte that does not start a
 * valid sequence becomes U+FFFD, so a name in any encoding (Latin-1 from a
 * Content-Disposition, CP437 from a zip) can go into JSON. NULL gives "". */
char *utf8_sanitize(const char *s);

/* 1 when process pid exists and is not a zombie. */
int pid_alive(int pid);

#endif
