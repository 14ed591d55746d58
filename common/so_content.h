/* so_content.h - the one validator of suspicious-object content. Every door
 * an object comes in by (TMCM's Automation API, console and CSV import, DDAN's
 * analysis, DDI's carving, every SO feed a consumer reads) checks and
 * normalises it here, so one object that a feed cannot carry never enters the
 * store, and every feed writer can tell what it must leave out
 * (docs/so-feed.md "Content rules"). */
#ifndef CTD_SO_CONTENT_H
#define CTD_SO_CONTENT_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define SO_URL_MAX 2047
#define SO_DOMAIN_MAX 253
#define SO_LABEL_MAX 63
#define SO_SHA1_HEX 40

/* Check value as the content of an object of feed type `type` (FILE, URL,
 * DOMAIN or IP, any case) and return its canonical form (malloc'd) in *out.
 * Surrounding blanks are trimmed; then:
 *   FILE    40 hex digits (a SHA-1), upper case
 *   DOMAIN  at most 253 bytes of dot-separated labels (1-63 bytes of letters,
 *           digits, '-', '_' or a '*' wildcard), lower case, no trailing dot
 *   IP      an IPv4 or IPv6 address, written canonically (inet_ntop)
 *   URL     scheme://host..., at most 2047 bytes, UTF-8 without blanks or
 *           control characters; scheme and host lower case
 * On failure -1 with CTD_EINVAL and a message that starts with `field`. */
int so_content_normalise(const char *field, const char *type, const char *value, char **out,
			 ctd_err *err);

/* The 64-bit key a consumer indexes its copy of a list by (IMSVA, SPS):
 * FNV-1a over the type (any case), ':' and the value. An integer unique
 * index sorts and probes faster than one on text; a lookup by key still
 * compares type and value. Two objects sharing a key (odds about 3e-8 in
 * a million) share a row: the later one is kept. */
int64_t so_content_key(const char *type, const char *value);

/* Free text that travels with objects (notes, file names): valid UTF-8
 * without control characters other than tab, LF and CR (notes may have
 * several lines), at most max bytes; NULL passes. -1 with CTD_EINVAL and
 * a message that starts with `field`. */
int so_text_check(const char *field, const char *text, size_t max, ctd_err *err);

/* 1 when s can be written as XML 1.0 text: valid UTF-8 holding none of the
 * characters XML 1.0 forbids even as references (C0 controls other than tab,
 * LF and CR; U+FFFE, U+FFFF). */
int so_xml_safe(const char *s);

/* A copy of the n bytes of xml in which every byte sequence XML 1.0 cannot
 * parse (a forbidden control character, a reference to one, a byte that is not
 * UTF-8) is replaced by U+FFFD, which no object content accepts: a feed
 * written by an older producer then parses, and its bad records are skipped
 * one by one. NULL when nothing needed replacing; else *outlen is set. */
char *so_xml_scrub(const char *xml, size_t n, size_t *outlen);

#endif
