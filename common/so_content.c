/* so_content.c - the one validator and normaliser of suspicious-object
 * content (so_content.h), and the XML 1.0 character rules every SO feed
 * writer and reader applies. Characters are decoded and classed with
 * libxml2's own UTF-8 and XML Char rules, the ones the feed parser uses. */
#include "so_content.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/chvalid.h>
#include <libxml/xmlstring.h>
#include "util.h"

#define REPLACEMENT_CHAR 0xFFFD
#define REPLACEMENT_UTF8 "\xEF\xBF\xBD"

/* The character s (n bytes left) starts with and its length, or -1 when s
 * does not start with a UTF-8 sequence. */
static int next_char(const char *s, size_t n, int *len)
{
	if ((unsigned char)*s < 0x80) { /* ASCII, nearly every byte of a feed: no decoding */
		*len = 1;
		return (unsigned char)*s;
	}
	int l = n > 4 ? 4 : (int)n;
	int c = xmlGetUTF8Char((const unsigned char *)s, &l);
	*len = l > 0 ? l : 1;
	return l > 0 ? c : -1;
}

/* Controls (C0, DEL, C1), characters XML cannot carry, and U+FFFD (the mark a
 * scrubbed feed leaves where a character was lost). */
static int is_control(int c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || !xmlIsCharQ(c) || c == REPLACEMENT_CHAR;
}

enum { NO_BLANKS, ONE_LINE, MULTI_LINE };

/* NO_BLANKS also refuses spaces (URLs); MULTI_LINE allows tab, LF and CR
 * (notes). */
static int text_rules(const char *field, const char *s, size_t max, int kind, ctd_err *err)
{
	size_t n = strlen(s);
	if (n > max)
		return ctd_fail(err, CTD_EINVAL, "%s: longer than %zu bytes", field, max);
	for (size_t i = 0; i < n;) {
		int len, c = next_char(s + i, n - i, &len);
		if (c < 0)
			return ctd_fail(err, CTD_EINVAL, "%s: byte %zu is not UTF-8", field, i);
		if (is_control(c) && !(kind == MULTI_LINE && (c == '\t' || c == '\n' || c == '\r')))
			return ctd_fail(err, CTD_EINVAL, "%s: control character U+%04X at byte %zu",
					field, (unsigned)c, i);
		if (kind == NO_BLANKS && c == ' ')
			return ctd_fail(err, CTD_EINVAL, "%s: blank at byte %zu", field, i);
		i += (size_t)len;
	}
	return 0;
}

int so_text_check(const char *field, const char *text, size_t max, ctd_err *err)
{
	return text ? text_rules(field, text, max, MULTI_LINE, err) : 0;
}

int so_xml_safe(const char *s)
{
	while (*s >= 0x20 && *s < 0x7f) /* printable ASCII: the common case, no decoding */
		s++;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		int len, c = next_char(s + i, n - i, &len);
		if (c < 0 || !xmlIsCharQ(c))
			return 0;
		i += (size_t)len;
	}
	return 1;
}

/* ---- per type -------------------------------------------------------------- */

static char *trimmed_dup(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static int check_sha1(const char *field, char *v, ctd_err *err)
{
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i]))
			return ctd_fail(err, CTD_EINVAL, "%s: a SHA-1 is 40 hex digits (byte %zu is not one)",
					field, i);
	if (n != SO_SHA1_HEX)
		return ctd_fail(err, CTD_EINVAL, "%s: a SHA-1 is 40 hex digits, not %zu", field, n);
	str_upper(v);
	return 0;
}

static int check_domain(const char *field, char *v, ctd_err *err)
{
	size_t n = strlen(v);
	if (n && v[n - 1] == '.')
		v[--n] = '\0';
	if (n == 0 || n > SO_DOMAIN_MAX)
		return ctd_fail(err, CTD_EINVAL, "%s: a domain is 1 to %d bytes", field, SO_DOMAIN_MAX);
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || v[i] == '.') {
			if (label == 0 || label > SO_LABEL_MAX)
				return ctd_fail(err, CTD_EINVAL, "%s: each domain label is 1 to %d bytes",
						field, SO_LABEL_MAX);
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)v[i]) && !strchr("-_*", v[i]))
			return ctd_fail(err, CTD_EINVAL, "%s: '%c' is not allowed in a domain", field, v[i]);
		label++;
	}
	str_lower(v);
	return 0;
}

/* The canonical spelling of an IPv4 or IPv6 address (brackets allowed). */
static int canon_ip(const char *field, char **v, ctd_err *err)
{
	char *s = *v, text[INET6_ADDRSTRLEN];
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	unsigned char bin[16];
	int af = inet_pton(AF_INET, s, bin) == 1 ? AF_INET : inet_pton(AF_INET6, s, bin) == 1 ? AF_INET6 : 0;
	if (!af || !inet_ntop(af, bin, text, sizeof text))
		return ctd_fail(err, CTD_EINVAL, "%s: not an IPv4 or IPv6 address", field);
	free(*v);
	*v = xstrdup(text);
	return 0;
}

/* scheme://[userinfo@]host[:port][/path?query#fragment]; the scheme and the
 * host lower case. */
static int check_url(const char *field, char *v, ctd_err *err)
{
	if (text_rules(field, v, SO_URL_MAX, NO_BLANKS, err) < 0)
		return -1;
	size_t scheme = 0;
	/* strchr finds the terminator too: stop at the end of v */
	while (isalnum((unsigned char)v[scheme]) || (scheme && v[scheme] && strchr("+.-", v[scheme])))
		scheme++;
	if (scheme == 0 || !isalpha((unsigned char)v[0]) || strncmp(v + scheme, "://", 3) != 0)
		return ctd_fail(err, CTD_EINVAL, "%s: a URL starts with scheme:// (http://...)", field);
	char *auth = v + scheme + 3;
	size_t auth_len = strcspn(auth, "/?#");
	char *at = memchr(auth, '@', auth_len);
	char *host = at ? at + 1 : auth;
	size_t host_len = auth_len - (size_t)(host - auth);
	if (host_len == 0 || host[0] == ':')
		return ctd_fail(err, CTD_EINVAL, "%s: the URL has no host", field);
	for (size_t i = 0; i < scheme; i++)
		v[i] = (char)tolower((unsigned char)v[i]);
	for (size_t i = 0; i < host_len; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	return 0;
}

static int check_type(const char *field, const char *type, char **v, ctd_err *err)
{
	if (type && !strcasecmp(type, "FILE"))
		return check_sha1(field, *v, err);
	if (type && !strcasecmp(type, "DOMAIN"))
		return check_domain(field, *v, err);
	if (type && !strcasecmp(type, "IP"))
		return canon_ip(field, v, err);
	if (type && !strcasecmp(type, "URL"))
		return check_url(field, *v, err);
	return ctd_fail(err, CTD_EINVAL, "%s: unknown object type (FILE, URL, DOMAIN or IP)", field);
}

int so_content_normalise(const char *field, const char *type, const char *value, char **out,
			 ctd_err *err)
{
	*out = NULL;
	if (!value)
		return ctd_fail(err, CTD_EINVAL, "%s is required", field);
	char *v = trimmed_dup(value);
	int rc = text_rules(field, v, SO_URL_MAX, ONE_LINE, err);
	if (rc == 0 && !v[0])
		rc = ctd_fail(err, CTD_EINVAL, "%s is empty", field);
	if (rc == 0)
		rc = check_type(field, type, &v, err);
	if (rc < 0) {
		free(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* ---- scrubbing a feed ------------------------------------------------------ */

/* The length of a character reference "&#N;" / "&#xN;" at s to a character
 * XML forbids, else 0. */
static int digit_value(char ch, int hex)
{
	unsigned char c = (unsigned char)ch;
	if (isdigit(c))
		return c - '0';
	return hex && isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

static size_t bad_reference(const char *s, size_t n)
{
	if (n < 4 || s[0] != '&' || s[1] != '#')
		return 0;
	int hex = s[2] == 'x' || s[2] == 'X';
	size_t i = hex ? 3 : 2, start = i;
	unsigned long val = 0;
	for (int d; i < n && i - start < 8 && (d = digit_value(s[i], hex)) >= 0; i++)
		val = val * (hex ? 16 : 10) + (unsigned long)d;
	if (i == start || i >= n || s[i] != ';')
		return 0;
	return val > 0x10FFFF || !xmlIsCharQ((int)val) ? i + 1 : 0;
}

/* 1 when none of the 8 bytes at p needs a look: all printable ASCII (0x20
 * to 0x7e) and none a '&' (word-at-a-time tests on the whole word). */
static int plain8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t w, amp;
	memcpy(&w, p, 8);
	amp = w ^ (ones * '&');
	uint64_t below_space = (w - ones * 0x20) & ~w;
	uint64_t from_del = (w + ones * (0x80 - 0x7f)) | w;
	uint64_t is_amp = (amp - ones) & ~amp;
	return !((below_space | from_del | is_amp) & highs);
}

char *so_xml_scrub(const char *xml, size_t n, size_t *outlen)
{
	sbuf out = {0};
	size_t clean = 0; /* start of the run not yet copied */
	int changed = 0;
	for (size_t i = 0; i < n;) {
		if (i + 8 <= n && plain8(xml + i)) { /* the common case: nothing to check */
			i += 8;
			continue;
		}
		int len, c = next_char(xml + i, n - i, &len);
		size_t bad = c < 0 || !xmlIsCharQ(c) ? (size_t)len : bad_reference(xml + i, n - i);
		if (!bad) {
			i += (size_t)len;
			continue;
		}
		sbuf_append(&out, xml + clean, i - clean);
		sbuf_puts(&out, REPLACEMENT_UTF8);
		i += bad;
		clean = i;
		changed = 1;
	}
	if (!changed)
		return NULL;
	sbuf_append(&out, xml + clean, n - clean);
	*outlen = out.len;
	return sbuf_detach(&out);
}

int64_t so_content_key(const char *type, const char *value)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
	for (const char *p = type; *p; p++)
		h = (h ^ (unsigned char)(*p | 0x20)) * 1099511628211ULL;
	h = (h ^ ':') * 1099511628211ULL;
	for (const char *p = value; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (int64_t)h;
}
