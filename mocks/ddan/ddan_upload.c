/* ddan_upload.c - reading the upload_sample archive (spec §5.5): a tgz or zip
 * holding <SHA1>.meta, <SHA1>.log and <SHA1>.dat per sample, and the meta
 * line's `&`-joined key=value pairs. */
#include "ddan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <archive.h>
#include <archive_entry.h>

#define MAX_ITEMS 32

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %XX and '+' decoding (PHP urlencode, DDPY's quoted dates). */
static char *pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = 0;
	return out;
}

char *ddan_meta_get(const char *meta, const char *key)
{
	size_t klen = strlen(key);
	const char *p = meta;
	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
			len--;
		if (len > klen && p[klen] == '=' && strncasecmp(p, key, klen) == 0)
			return pct_decode(p + klen + 1, len - klen - 1);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* "<40 hex>.<ext>" (any directory prefix): fills sha1 and returns the ext. */
static const char *member_sha1(const char *path, char sha1[41])
{
	if (!path) /* a member without a name (found by fuzzing) */
		return NULL;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot - base != 40)
		return NULL;
	char tmp[41];
	memcpy(tmp, base, 40);
	tmp[40] = 0;
	if (ddan_sha1_norm(tmp, sha1) != 0)
		return NULL;
	return dot + 1;
}

static ddan_upload_item *item_for(ddan_upload *u, const char *sha1)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->items[i].sha1, sha1))
			return &u->items[i];
	if (u->n >= MAX_ITEMS)
		return NULL;
	u->items = xrealloc(u->items, (u->n + 1) * sizeof *u->items);
	ddan_upload_item *it = &u->items[u->n++];
	memset(it, 0, sizeof *it);
	memcpy(it->sha1, sha1, 41);
	return it;
}

static int read_member(struct archive *a, size_t max, sbuf *buf, ctd_err *err)
{
	char chunk[65536];
	la_ssize_t n;
	while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
		if (buf->len + (size_t)n > max)
			return ctd_fail(err, CTD_ETOOBIG, "archive member larger than %zu bytes", max);
		sbuf_append(buf, chunk, (size_t)n);
	}
	if (n < 0)
		return ctd_fail(err, CTD_EINVAL, "broken archive: %s",
				archive_error_string(a) ? archive_error_string(a) : "read error");
	return 0;
}

int ddan_upload_parse(const void *data, size_t len, size_t max_member, ddan_upload *out,
		      ctd_err *err)
{
	memset(out, 0, sizeof *out);
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	int rc = 0;
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
		rc = ctd_fail(err, CTD_EINVAL, "broken archive: %s",
			      archive_error_string(a) ? archive_error_string(a) : "not a tgz or zip");
	struct archive_entry *e;
	while (rc == 0) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = ctd_fail(err, CTD_EINVAL, "broken archive: %s",
				      archive_error_string(a) ? archive_error_string(a) : "bad header");
			break;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		char sha1[41];
		const char *ext = member_sha1(archive_entry_pathname(e), sha1);
		if (!ext || (strcasecmp(ext, "meta") && strcasecmp(ext, "log") && strcasecmp(ext, "dat"))) {
			rc = ctd_fail(err, CTD_EINVAL,
				      "unexpected archive member \"%.80s\": want <SHA1>.meta, .log, .dat",
				      archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
			break;
		}
		ddan_upload_item *it = item_for(out, sha1);
		if (!it) {
			rc = ctd_fail(err, CTD_EINVAL, "more than %d samples in one archive", MAX_ITEMS);
			break;
		}
		sbuf buf = {0};
		if (read_member(a, max_member, &buf, err) != 0) {
			sbuf_free(&buf);
			rc = -1;
			break;
		}
		if (!strcasecmp(ext, "dat")) {
			free(it->dat);
			it->dat_len = buf.len;
			it->dat = (unsigned char *)sbuf_detach(&buf);
			it->has_dat = 1;
		} else if (!strcasecmp(ext, "meta")) {
			free(it->meta);
			it->meta = sbuf_detach(&buf);
		} else {
			free(it->log);
			it->log = sbuf_detach(&buf);
		}
	}
	archive_read_free(a);
	if (rc == 0 && out->n == 0)
		rc = ctd_fail(err, CTD_EINVAL, "archive holds no <SHA1>.meta/.dat members");
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		if (!out->items[i].meta)
			rc = ctd_fail(err, CTD_EINVAL, "%s.meta is missing", out->items[i].sha1);
	if (rc != 0)
		ddan_upload_free(out);
	return rc;
}

void ddan_upload_free(ddan_upload *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->items[i].meta);
		free(u->items[i].log);
		free(u->items[i].dat);
	}
	free(u->items);
	u->items = NULL;
	u->n = 0;
}
