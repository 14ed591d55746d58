/* sps_url.c - URL normalisation, so that equivalent spellings of a URL rate
 * the same and match the same list entries and suspicious objects.
 *
 * libcurl's URL API does the structural parse (scheme, userinfo, host, port,
 * dot segments, numeric IPv4 forms); on top of it we lower-case the host, drop
 * default ports, userinfo and the fragment, normalise percent-encoding
 * (unreserved characters decoded, other escapes upper-case, unsafe bytes
 * encoded) and drop a trailing slash. The result is idempotent. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "sps.h"
#include "util.h"

#define SPS_URL_MAX 8192

static int is_unreserved(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-encoding normal form of a path/query tail: %XX of an unreserved
 * character decoded, other escapes upper-case, bytes that may not appear in a
 * URL (controls, space, non-ASCII, a stray '%') encoded. */
static void pct_normalize(const char *s, size_t n, sbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;
		if (c == '%' && i + 2 < n &&
		    (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			int v = hi * 16 + lo;
			if (is_unreserved(v)) {
				char ch = (char)v;
				sbuf_append(out, &ch, 1);
			} else {
				char esc[3] = {'%', hex[hi], hex[lo]};
				sbuf_append(out, esc, 3);
			}
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f || c == '%' || c == '"' || c == '<' ||
			   c == '>' || c == '`' || c == '{' || c == '}' || c == '|' || c == '^') {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			sbuf_append(out, esc, 3);
		} else {
			sbuf_append(out, &s[i], 1);
		}
	}
}

/* Prepare the input for libcurl: trimmed, with a scheme, backslashes in the
 * path turned into slashes (as browsers do), fragment dropped and the
 * path/query percent-normalised (so "%2e%2e" becomes a dot segment curl
 * removes). */
static char *pre_normalize(const char *in, ctd_err *err)
{
	while (isspace((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n && isspace((unsigned char)in[n - 1]))
		n--;
	if (n == 0)
		return ctd_fail(err, CTD_EINVAL, "empty URL"), NULL;
	if (n > SPS_URL_MAX)
		return ctd_fail(err, CTD_ETOOBIG, "URL longer than %d bytes", SPS_URL_MAX), NULL;

	sbuf b = {0};
	const char *sep = memmem(in, n, "://", 3);
	size_t scheme_len = 0;
	if (sep) {
		scheme_len = (size_t)(sep - in);
		for (size_t i = 0; i < scheme_len; i++)
			if (!isalnum((unsigned char)in[i]) && in[i] != '+' && in[i] != '-' &&
			    in[i] != '.')
				scheme_len = 0, sep = NULL;
	}
	if (!sep)
		sbuf_puts(&b, "http://");
	const char *start = sep ? sep + 3 : in;
	size_t rest = n - (size_t)(start - in);
	/* authority ends at the first '/', '\\', '?' or '#' */
	size_t auth = strcspn(start, "/\\?#");
	if (auth > rest)
		auth = rest;
	if (auth == 0) {
		sbuf_free(&b);
		return ctd_fail(err, CTD_EINVAL, "URL has no host"), NULL;
	}
	sbuf_append(&b, in, (size_t)(start - in) + auth);

	const char *tail = start + auth;
	size_t tail_len = rest - auth;
	const char *hash = memchr(tail, '#', tail_len);
	if (hash)
		tail_len = (size_t)(hash - tail);
	char *t = xstrndup(tail, tail_len);
	for (char *p = t; *p && *p != '?'; p++)
		if (*p == '\\')
			*p = '/';
	pct_normalize(t, tail_len, &b);
	free(t);
	return sbuf_detach(&b);
}

static int default_port(const char *scheme)
{
	if (strcmp(scheme, "http") == 0)
		return 80;
	if (strcmp(scheme, "https") == 0)
		return 443;
	if (strcmp(scheme, "ftp") == 0)
		return 21;
	return 0;
}

static int curl_part(CURLU *h, CURLUPart part, char **out)
{
	*out = NULL;
	CURLUcode rc = curl_url_get(h, part, out, 0);
	return rc == CURLUE_OK ? 0 : -1;
}

static int fill_from_curl(CURLU *h, sps_url *u, ctd_err *err)
{
	char *scheme, *host, *port, *path, *query;
	if (curl_part(h, CURLUPART_SCHEME, &scheme) != 0 || curl_part(h, CURLUPART_HOST, &host) != 0)
		return ctd_fail(err, CTD_EINVAL, "URL has no host");
	curl_part(h, CURLUPART_PORT, &port);
	curl_part(h, CURLUPART_PATH, &path);
	curl_part(h, CURLUPART_QUERY, &query);

	int rc = 0;
	snprintf(u->scheme, sizeof u->scheme, "%s", scheme);
	str_lower(u->scheme);
	const char *hs = host;
	size_t hl = strlen(hs);
	if (hl >= 2 && hs[0] == '[' && hs[hl - 1] == ']')
		hs++, hl -= 2;
	while (hl && hs[hl - 1] == '.')
		hl--;
	if (hl == 0 || hl >= sizeof u->host) {
		rc = ctd_fail(err, CTD_EINVAL, "bad host in URL");
		goto out;
	}
	memcpy(u->host, hs, hl);
	u->host[hl] = '\0';
	str_lower(u->host);
	unsigned char addr[16];
	u->host_is_ip = inet_pton(AF_INET, u->host, addr) == 1    ? 4
			: inet_pton(AF_INET6, u->host, addr) == 1 ? 6
								  : 0;
	if (u->host_is_ip == 6) {
		char canon[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, addr, canon, sizeof canon);
		snprintf(u->host, sizeof u->host, "%s", canon);
	}
	u->port = port ? atoi(port) : 0;
	if (u->port == default_port(u->scheme))
		u->port = 0;

	size_t pl = path ? strlen(path) : 0;
	while (pl > 1 && path[pl - 1] == '/')
		pl--;
	u->path = pl ? xstrndup(path, pl) : xstrdup("/");
	u->query = query && *query ? xstrdup(query) : NULL;

	/* put, not printf: formatting was a fifth of a parse */
	sbuf b = {0};
	sbuf_puts(&b, u->scheme);
	sbuf_puts(&b, "://");
	size_t rest_off = b.len;
	sbuf_puts(&b, u->host_is_ip == 6 ? "[" : "");
	sbuf_puts(&b, u->host);
	sbuf_puts(&b, u->host_is_ip == 6 ? "]" : "");
	if (u->port) {
		sbuf_puts(&b, ":");
		sbuf_put_int(&b, u->port);
	}
	sbuf_puts(&b, u->path);
	if (u->query) {
		sbuf_puts(&b, "?");
		sbuf_puts(&b, u->query);
	}
	u->norm = sbuf_detach(&b);
	u->rest = u->norm + rest_off;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	return rc;
}

int sps_url_parse(const char *in, sps_url *u, ctd_err *err)
{
	memset(u, 0, sizeof *u);
	if (!in)
		return ctd_fail(err, CTD_EINVAL, "no URL given");
	char *pre = pre_normalize(in, err);
	if (!pre)
		return -1;
	CURLU *h = curl_url();
	if (!h) {
		free(pre);
		return ctd_fail(err, CTD_EINTERNAL, "out of memory");
	}
	CURLUcode rc = curl_url_set(h, CURLUPART_URL, pre, CURLU_NON_SUPPORT_SCHEME);
	int ret;
	if (rc != CURLUE_OK)
		ret = ctd_fail(err, CTD_EINVAL, "malformed URL: %s", curl_url_strerror(rc));
	else
		ret = fill_from_curl(h, u, err);
	curl_url_cleanup(h);
	free(pre);
	if (ret != 0)
		sps_url_free(u);
	return ret;
}

void sps_url_free(sps_url *u)
{
	free(u->path);
	free(u->query);
	free(u->norm);
	memset(u, 0, sizeof *u);
}

char *sps_domain_normalize(const char *in)
{
	if (!in)
		return NULL;
	while (isspace((unsigned char)*in))
		in++;
	const char *sep = strstr(in, "://");
	if (sep)
		in = sep + 3;
	if (strncmp(in, "*.", 2) == 0)
		in += 2;
	size_t n = strcspn(in, "/:?#");
	while (n && (in[n - 1] == '.' || isspace((unsigned char)in[n - 1])))
		n--;
	if (n == 0 || n > 253)
		return NULL;
	char *d = xstrndup(in, n);
	str_lower(d);
	for (char *p = d; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_') {
			free(d);
			return NULL;
		}
	return d;
}

char *sps_ip_normalize(const char *in)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	if (!in)
		return NULL;
	char *s = xstrdup(in);
	char *p = s;
	size_t n = strlen(p);
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']')
		p[n - 1] = '\0', p++;
	const char *out = NULL;
	if (inet_pton(AF_INET, p, addr) == 1)
		out = inet_ntop(AF_INET, addr, text, sizeof text);
	else if (inet_pton(AF_INET6, p, addr) == 1)
		out = inet_ntop(AF_INET6, addr, text, sizeof text);
	free(s);
	return out ? xstrdup(out) : NULL;
}

int sps_sha1_normalize(const char *s, char out[41])
{
	if (!s || strlen(s) != 40)
		return 0;
	for (int i = 0; i < 40; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return 0;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[40] = '\0';
	return 1;
}
