/* ddan_rules.c - the verdict rules and the analysis of one sample: hashes,
 * true file type (libmagic), rule matching, archive children (libarchive) and
 * URL extraction from text, HTML and Office XML (libxml2). */
#include "ddan_rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <archive.h>
#include <archive_entry.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "dtas.h"
#include "filetype.h"
#include "hash.h"
#include "log.h"
#include "util.h"

#define MAX_URLS 200
#define URL_SCAN_LIMIT (16u << 20)

typedef enum { ST_DONE = 4, ST_ERROR = 5, ST_TIMEOUT = 6 } rule_status;

typedef struct rule {
	char *name, *virus_name;
	int risk;          /* -1..3; meaningful when has_risk */
	int has_risk;
	int status;        /* ST_* */
	json_t *contains, *sha1, *true_type, *file_name, *url; /* arrays or NULL */
} rule;

struct ddan_rules {
	json_t *doc;
	rule *rules;
	size_t nrules;
	int default_risk;
	json_t *ignore_urls, *true_types, *passwords;
	long max_depth, max_children;
	size_t max_child_size, max_expanded;
	int64_t max_analysis_ms;
};

/* ---- loading ------------------------------------------------------------- */

static int string_array(json_t *rule_obj, const char *key, json_t **out, const char *rname,
			ctd_err *err)
{
	json_t *a = json_object_get(rule_obj, key);
	*out = NULL;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return ctd_fail(err, CTD_EINVAL, "rule \"%s\": \"%s\" must be a non-empty array", rname,
				key);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) if (!json_is_string(v) || !json_string_length(v)) return ctd_fail(
		err, CTD_EINVAL, "rule \"%s\": \"%s\"[%zu] must be a non-empty string", rname, key, i);
	*out = a;
	return 0;
}

static int parse_rule(json_t *o, size_t idx, rule *r, ctd_err *err)
{
	if (!json_is_object(o))
		return ctd_fail(err, CTD_EINVAL, "rules[%zu] is not an object", idx);
	const char *name = json_string_value(json_object_get(o, "name"));
	if (!name || !*name)
		return ctd_fail(err, CTD_EINVAL, "rules[%zu] has no \"name\"", idx);
	r->name = xstrdup(name);
	const char *vn = json_string_value(json_object_get(o, "virus_name"));
	r->virus_name = xstrdup(vn ? vn : "");
	json_t *risk = json_object_get(o, "risk");
	if (risk) {
		if (!json_is_integer(risk) || json_integer_value(risk) < -1 || json_integer_value(risk) > 3)
			return ctd_fail(err, CTD_EINVAL, "rule \"%s\": \"risk\" must be -1..3", name);
		r->risk = (int)json_integer_value(risk);
		r->has_risk = 1;
	}
	const char *st = json_string_value(json_object_get(o, "status"));
	r->status = ST_DONE;
	if (st && !strcmp(st, "error"))
		r->status = ST_ERROR;
	else if (st && !strcmp(st, "timeout"))
		r->status = ST_TIMEOUT;
	else if (st && strcmp(st, "done"))
		return ctd_fail(err, CTD_EINVAL, "rule \"%s\": \"status\" must be done|error|timeout",
				name);
	if (!r->has_risk && r->status == ST_DONE)
		return ctd_fail(err, CTD_EINVAL, "rule \"%s\" sets neither \"risk\" nor \"status\"", name);
	if (string_array(o, "contains", &r->contains, name, err) || string_array(o, "sha1", &r->sha1, name, err) ||
	    string_array(o, "true_type", &r->true_type, name, err) ||
	    string_array(o, "file_name", &r->file_name, name, err) || string_array(o, "url", &r->url, name, err))
		return -1;
	int object_criteria = r->contains || r->sha1 || r->true_type || r->file_name;
	if (!object_criteria && !r->url)
		return ctd_fail(err, CTD_EINVAL,
				"rule \"%s\" has no criteria (contains, sha1, true_type, file_name, url)",
				name);
	if (object_criteria && r->url)
		return ctd_fail(err, CTD_EINVAL, "rule \"%s\": \"url\" cannot be mixed with file criteria",
				name);
	return 0;
}

static long opt_long(json_t *doc, const char *key, long def)
{
	json_t *v = json_object_get(doc, key);
	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

static json_t *opt_array(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);
	return json_is_array(v) ? v : NULL;
}

ddan_rules *ddan_rules_parse(const char *json_text, size_t len, ctd_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(json_text, len, 0, &jerr);
	if (!doc) {
		ctd_fail(err, CTD_EINVAL, "rules: JSON error at line %d: %s", jerr.line, jerr.text);
		return NULL;
	}
	json_t *arr = json_object_get(doc, "rules");
	if (!json_is_object(doc) || !json_is_array(arr)) {
		json_decref(doc);
		ctd_fail(err, CTD_EINVAL, "rules: expected an object with a \"rules\" array");
		return NULL;
	}
	ddan_rules *r = xcalloc(1, sizeof *r);
	r->doc = doc;
	r->nrules = json_array_size(arr);
	r->rules = xcalloc(r->nrules ? r->nrules : 1, sizeof *r->rules);
	for (size_t i = 0; i < r->nrules; i++)
		if (parse_rule(json_array_get(arr, i), i, &r->rules[i], err) != 0) {
			ddan_rules_free(r);
			return NULL;
		}
	r->default_risk = (int)opt_long(doc, "default_risk", 0);
	r->ignore_urls = opt_array(doc, "ignore_urls");
	r->true_types = opt_array(doc, "true_types");
	r->passwords = opt_array(doc, "archive_passwords");
	r->max_depth = opt_long(doc, "max_depth", 3);
	r->max_children = opt_long(doc, "max_children", 64);
	r->max_child_size = (size_t)opt_long(doc, "max_child_size", 32L << 20);
	r->max_expanded = (size_t)opt_long(doc, "max_expanded", 64L << 20);
	r->max_analysis_ms = opt_long(doc, "max_analysis_ms", 60000);
	if (r->max_depth < 0 || r->max_children < 0 || opt_long(doc, "max_child_size", 0) < 0 ||
	    opt_long(doc, "max_expanded", 0) < 0 || r->max_analysis_ms <= 0) {
		ddan_rules_free(r);
		ctd_fail(err, CTD_EINVAL, "rules: max_* limits must be positive");
		return NULL;
	}
	return r;
}

ddan_rules *ddan_rules_load(const char *rules_file, ctd_err *err)
{
	if (!rules_file || !*rules_file)
		return ddan_rules_parse(ddan_default_rules_json, strlen(ddan_default_rules_json), err);
	char *text;
	size_t len;
	if (file_read(rules_file, &text, &len, NULL) != 0) {
		ctd_fail(err, CTD_EIO, "rules_file %s: cannot read", rules_file);
		return NULL;
	}
	ctd_err perr = {0};
	ddan_rules *r = ddan_rules_parse(text, len, &perr);
	free(text);
	if (!r)
		ctd_fail(err, perr.code, "%.80s: %.160s", rules_file, perr.msg);
	return r;
}

void ddan_rules_free(ddan_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrules; i++) {
		free(r->rules[i].name);
		free(r->rules[i].virus_name);
	}
	free(r->rules);
	json_decref(r->doc);
	free(r);
}

size_t ddan_rules_count(const ddan_rules *r)
{
	return r->nrules;
}

/* libmagic's view of the bytes, or `fallback` (logged) when it has none. */
static char *file_view(const void *data, size_t len, filetype_view view, const char *fallback)
{
	char out[256];
	ctd_err err;
	if (filetype_of(data, len, view, out, sizeof out, &err) == 0)
		return xstrdup(out);
	log_error("engine.filetype", "error=\"%s\"", err.msg);
	return xstrdup(fallback);
}

/* ---- URLs ------------------------------------------------------------- */

static int url_char(unsigned char c)
{
	return isalnum(c) || strchr("-._~:/?#[]@!$&'()*+,;=%", c);
}

int ddan_host_is_ip(const char *host)
{
	unsigned char buf[16];
	char tmp[64];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof tmp) {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = 0;
		return inet_pton(AF_INET6, tmp, buf) == 1;
	}
	return inet_pton(AF_INET, host, buf) == 1;
}

char *ddan_url_normalize(const char *url, char **host_out)
{
	size_t skip;
	if (!strncasecmp(url, "http://", 7))
		skip = 7;
	else if (!strncasecmp(url, "https://", 8))
		skip = 8;
	else
		return NULL;
	const char *h = url + skip;
	size_t hl = strcspn(h, "/?#");
	/* drop userinfo; keep the port */
	const char *at = memchr(h, '@', hl);
	const char *hs = at ? at + 1 : h;
	size_t hsl = hl - (size_t)(hs - h);
	if (hsl == 0)
		return NULL;
	char *out = xasprintf("%.*s%.*s%s", (int)skip, url, (int)hsl, hs, h + hl);
	for (size_t i = 0; i < skip + hsl; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	if (!out[skip + hsl]) { /* bare host: add the root path */
		char *t = xasprintf("%s/", out);
		free(out);
		out = t;
	}
	if (host_out) {
		char *host = xstrndup(out + skip, hsl);
		char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
		if (colon)
			colon[host[0] == '[' ? 1 : 0] = 0;
		*host_out = host;
	}
	return out;
}

static void arr_add_unique(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), s)) return;
	if (json_array_size(arr) < MAX_URLS)
		json_array_append_new(arr, json_string(s));
}

void ddan_urls_in_text(const char *data, size_t len, json_t *arr)
{
	if (len > URL_SCAN_LIMIT)
		len = URL_SCAN_LIMIT;
	for (size_t i = 0; i + 7 < len; i++) {
		size_t skip = 0;
		if ((data[i] == 'h' || data[i] == 'H') && i + 8 <= len) {
			if (!strncasecmp(data + i, "http://", 7))
				skip = 7;
			else if (i + 8 < len && !strncasecmp(data + i, "https://", 8))
				skip = 8;
		}
		if (!skip)
			continue;
		size_t e = i + skip;
		while (e < len && url_char((unsigned char)data[e]))
			e++;
		/* trailing punctuation belongs to the sentence, not the URL */
		while (e > i + skip && strchr(".,;:!?)'\"]", data[e - 1]))
			e--;
		if (e > i + skip) {
			char *raw = xstrndup(data + i, e - i);
			char *norm = ddan_url_normalize(raw, NULL);
			if (norm)
				arr_add_unique(arr, norm);
			free(norm);
			free(raw);
		}
		i = e - 1;
	}
}

/* URL extraction from markup is streamed through libxml2's SAX push parsers:
 * no tree is built, so memory stays bounded by the input (a DOM costs some
 * 40 times the bytes of a tag-dense page). The text between two tags is
 * gathered (at most URL_SCAN_LIMIT bytes) so a URL split across the parser's
 * chunks is still seen whole. */
typedef struct url_sax {
	json_t *arr;
	sbuf text;
	int html; /* HTML: every attribute; Office XML: *.rels external targets */
	int rels;
} url_sax;

#define SAX_CHUNK 65536

static void sax_flush(url_sax *u)
{
	if (u->text.len)
		ddan_urls_in_text(u->text.data, u->text.len, u->arr);
	u->text.len = 0;
}

static void sax_chars(void *ctx, const xmlChar *ch, int len)
{
	url_sax *u = ctx;
	if (len > 0 && u->text.len + (size_t)len <= URL_SCAN_LIMIT)
		sbuf_append(&u->text, ch, (size_t)len);
}

static const char *sax_attr(const xmlChar **atts, const char *name)
{
	for (size_t i = 0; atts && atts[i]; i += 2)
		if (!strcasecmp((const char *)atts[i], name))
			return atts[i + 1] ? (const char *)atts[i + 1] : "";
	return NULL;
}

/* HTML: attributes (href, src, action...) plus URLs written in the text;
 * Office XML: text only (attributes carry namespace URLs), and the targets of
 * external relationships in *.rels parts. */
static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	url_sax *u = ctx;
	sax_flush(u);
	if (u->html) {
		for (size_t i = 0; atts && atts[i]; i += 2)
			if (atts[i + 1])
				ddan_urls_in_text((const char *)atts[i + 1],
						  strlen((const char *)atts[i + 1]), u->arr);
		return;
	}
	const char *mode = sax_attr(atts, "TargetMode"), *target = sax_attr(atts, "Target");
	if (u->rels && !strcmp((const char *)name, "Relationship") && mode && target &&
	    !strcasecmp(mode, "External"))
		ddan_urls_in_text(target, strlen(target), u->arr);
}

static void sax_end(void *ctx, const xmlChar *name)
{
	sax_flush(ctx);
}

static void urls_by_sax(const char *data, size_t len, url_sax *u)
{
	xmlSAXHandler sax;
	memset(&sax, 0, sizeof sax); /* SAX1 callbacks only: no tree */
	sax.startElement = sax_start;
	sax.endElement = sax_end;
	sax.characters = sax_chars;
	sax.cdataBlock = sax_chars;
	xmlParserCtxtPtr ctxt =
		u->html ? htmlCreatePushParserCtxt(&sax, u, NULL, 0, NULL, XML_CHAR_ENCODING_NONE)
			: xmlCreatePushParserCtxt(&sax, u, NULL, 0, NULL);
	if (!ctxt)
		return;
	if (u->html)
		htmlCtxtUseOptions(ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
						 HTML_PARSE_RECOVER);
	else
		xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	size_t off = 0;
	do {
		size_t n = len - off < SAX_CHUNK ? len - off : SAX_CHUNK;
		int last = off + n == len;
		int rc = u->html ? htmlParseChunk(ctxt, data + off, (int)n, last)
				 : xmlParseChunk(ctxt, data + off, (int)n, last);
		off += n;
		if (rc != 0 && !u->html)
			break; /* not well-formed: what was seen so far counts */
	} while (off < len);
	sax_flush(u);
	if (u->html)
		htmlFreeParserCtxt(ctxt);
	else
		xmlFreeParserCtxt(ctxt);
	sbuf_free(&u->text);
}

static void urls_in_html(const char *data, size_t len, json_t *arr)
{
	url_sax u = {.arr = arr, .html = 1};
	urls_by_sax(data, len, &u);
}

static void urls_in_office_part(const char *name, const char *data, size_t len, json_t *arr)
{
	size_t nl = strlen(name);
	int rels = nl > 5 && !strcasecmp(name + nl - 5, ".rels");
	if (!rels && !(nl > 4 && !strcasecmp(name + nl - 4, ".xml")))
		return;
	url_sax u = {.arr = arr, .rels = rels};
	urls_by_sax(data, len, &u);
}

/* ---- analysis ------------------------------------------------------------ */

typedef struct analysis {
	const ddan_rules *r;
	const char *password;
	json_t *objects, *urls, *events;
	long children;
	size_t expanded;  /* bytes extracted from archives so far (max_expanded) */
	int64_t deadline; /* monotonic ms: past it the analysis stops (max_analysis_ms) */
	int status;
} analysis;

static void event(analysis *a, const char *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void event(analysis *a, const char *ev, const char *fmt, ...)
{
	char details[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(details, sizeof details, fmt, ap);
	va_end(ap);
	char *safe = utf8_sanitize(details); /* names from archives, cut multibyte tails */
	json_t *e = json_pack("{s:s, s:s}", "event", ev, "details", safe);
	if (e)
		json_array_append_new(a->events, e);
	free(safe);
}

/* Out of time: the analysis ends as a Timeout, noted once. */
static int out_of_time(analysis *a)
{
	if (time_mono_ms() <= a->deadline)
		return 0;
	if (a->status != ST_TIMEOUT)
		event(a, "Analysis timeout", "the analysis took more than %lld ms",
		      (long long)a->r->max_analysis_ms);
	a->status = ST_TIMEOUT;
	return 1;
}

static int any_glob(json_t *patterns, const char *text)
{
	size_t i;
	json_t *v;
	if (!text)
		return 0;
	json_array_foreach(patterns, i, v) if (wildcard_match(json_string_value(v), text)) return 1;
	return 0;
}

static int any_contains(json_t *needles, const char *data, size_t len)
{
	size_t i;
	json_t *v;
	json_array_foreach(needles, i, v)
	{
		const char *s = json_string_value(v);
		if (memmem(data, len, s, strlen(s)))
			return 1;
	}
	return 0;
}

static int any_sha1(json_t *list, const char *sha1)
{
	size_t i;
	json_t *v;
	if (!sha1)
		return 0;
	json_array_foreach(list, i, v) if (!strcasecmp(json_string_value(v), sha1)) return 1;
	return 0;
}

static int object_rule_matches(const rule *ru, json_t *obj, const char *data, size_t len)
{
	if (ru->url)
		return 0;
	if (ru->contains && !any_contains(ru->contains, data, len))
		return 0;
	if (ru->sha1 && !any_sha1(ru->sha1, json_string_value(json_object_get(obj, "sha1"))))
		return 0;
	if (ru->true_type && !any_glob(ru->true_type, json_string_value(json_object_get(obj, "true_type"))))
		return 0;
	if (ru->file_name && !any_glob(ru->file_name, json_string_value(json_object_get(obj, "name"))))
		return 0;
	return 1;
}

/* Fold one matched rule into an object's verdict. */
static void apply_rule(analysis *a, const rule *ru, json_t *obj, int *best, const char *what)
{
	json_array_append_new(json_object_get(obj, "rules"), json_string(ru->name));
	if (ru->status != ST_DONE && a->status == ST_DONE)
		a->status = ru->status;
	if (ru->has_risk && ru->risk > *best) {
		*best = ru->risk;
		if (*ru->virus_name)
			json_object_set_new(obj, "virus_name", json_string(ru->virus_name));
	}
	event(a, "Rule matched", "%s: %s", ru->name, what);
}

static const char *map_true_type(const ddan_rules *r, const char *mime, const char *desc,
				 char *buf, size_t cap)
{
	size_t i;
	json_t *v;
	if (r->true_types)
		json_array_foreach(r->true_types, i, v)
		{
			const char *m = json_string_value(json_object_get(v, "mime"));
			const char *n = json_string_value(json_object_get(v, "name"));
			if (m && n && wildcard_match(m, mime))
				return n;
		}
	/* libmagic's description up to the first comma: "ASCII text" */
	size_t n = strcspn(desc, ",");
	snprintf(buf, cap, "%.*s", (int)n, desc);
	return buf;
}

static int is_archive_mime(const char *mime)
{
	static const char *const kinds[] = {"application/zip", "application/gzip", "application/x-tar",
					    "application/x-7z-compressed", "application/x-rar",
					    "application/x-bzip2", "application/x-xz",
					    "application/x-gzip", "application/java-archive"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(mime, kinds[i]))
			return 1;
	return 0;
}

static int is_office_xml_mime(const char *mime)
{
	return strstr(mime, "openxmlformats") || strstr(mime, "opendocument");
}

static int analyze_object(analysis *a, const void *data, size_t len, const char *name,
			  const char *parent_sha1, int depth);

/* Record each URL found in an object; returns the highest risk of the URL
 * rules that matched, or -2 when none did. */
static int add_urls(analysis *a, json_t *found, json_t *obj)
{
	int best = -2;
	size_t i;
	json_t *v;
	json_array_foreach(found, i, v)
	{
		const char *url = json_string_value(v);
		if (a->r->ignore_urls && any_glob(a->r->ignore_urls, url))
			continue;
		int seen = 0;
		size_t j;
		json_t *u;
		json_array_foreach(a->urls, j, u) if (!strcmp(json_string_value(json_object_get(u, "url")), url))
		{
			seen = 1;
			int r = (int)json_integer_value(json_object_get(u, "risk"));
			if (*json_string_value(json_object_get(u, "rule")) && r > best)
				best = r;
		}
		if (seen || json_array_size(a->urls) >= MAX_URLS)
			continue;
		char *host = NULL;
		free(ddan_url_normalize(url, &host));
		int risk = -1;
		const char *rname = "";
		for (size_t k = 0; k < a->r->nrules; k++) {
			const rule *ru = &a->r->rules[k];
			if (ru->url && any_glob(ru->url, url)) {
				apply_rule(a, ru, obj, &risk, url);
				rname = ru->name;
			}
		}
		json_array_append_new(a->urls, json_pack("{s:s, s:s, s:i, s:s}", "url", url, "host",
							 host ? host : "", "risk", risk, "rule", rname));
		event(a, "Accesses URL", "%s", url);
		if (*rname && risk > best)
			best = risk;
		free(host);
	}
	return best;
}

/* A libarchive reader over the bytes, with the sample's and the rules'
 * archive passwords. */
static struct archive *open_archive(const analysis *a, const void *data, size_t len,
				    const char *mime)
{
	struct archive *ar = archive_read_new();
	archive_read_support_filter_all(ar);
	archive_read_support_format_all(ar);
	if (strstr(mime, "gzip") || strstr(mime, "bzip2") || strstr(mime, "xz"))
		archive_read_support_format_raw(ar);
	if (a->password && *a->password)
		archive_read_add_passphrase(ar, a->password);
	size_t i;
	json_t *v;
	if (a->r->passwords)
		json_array_foreach(a->r->passwords, i, v) archive_read_add_passphrase(ar, json_string_value(v));
	if (archive_read_open_memory(ar, data, len) != ARCHIVE_OK) {
		archive_read_free(ar);
		return NULL;
	}
	return ar;
}

/* Whether the next member may be read: 1 yes, 0 skip it, -1 stop here. */
static int member_allowed(analysis *a, struct archive_entry *e, int office, const char *base)
{
	if (archive_entry_filetype(e) != AE_IFREG)
		return 0;
	if (!office && a->children >= a->r->max_children) {
		event(a, "Archive extraction limit", "more than %ld files: the rest is skipped",
		      a->r->max_children);
		return -1;
	}
	if (out_of_time(a))
		return -1;
	if (a->expanded >= a->r->max_expanded) {
		event(a, "Archive extraction limit", "more than %zu bytes extracted: the rest is skipped",
		      a->r->max_expanded);
		return -1;
	}
	la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	if (sz > (la_int64_t)a->r->max_child_size) {
		event(a, "Archive member too large", "%s", base);
		return 0;
	}
	return 1;
}

/* Read the current member into buf, whole (its hashes, type, rules and own
 * children need it) up to what the caps leave: 0, or -1 when the member is
 * unreadable (noted; *fatal when the archive cannot go on). */
static int read_member(analysis *a, struct archive *ar, const char *base, sbuf *buf, int *fatal)
{
	size_t room = a->r->max_expanded - a->expanded;
	size_t cap = a->r->max_child_size < room ? a->r->max_child_size : room;
	char chunk[65536];
	la_ssize_t n = 0;
	while (buf->len < cap && !out_of_time(a) && (n = archive_read_data(ar, chunk, sizeof chunk)) > 0)
		sbuf_append(buf, chunk, (size_t)n < cap - buf->len ? (size_t)n : cap - buf->len);
	a->expanded += buf->len;
	if (n >= 0)
		return 0;
	event(a, "Archive member unreadable", "%s: %s", base,
	      archive_error_string(ar) ? archive_error_string(ar) : "error");
	*fatal = archive_errno(ar) != 0 && n == ARCHIVE_FATAL;
	return -1;
}

/* The members of an archive become child objects; the parts of an Office
 * document only give their URLs to the document. */
static void unpack_children(analysis *a, const void *data, size_t len, const char *mime,
			    json_t *obj, int depth)
{
	int office = is_office_xml_mime(mime);
	const char *self = json_string_value(json_object_get(obj, "sha1"));
	json_t *office_urls = json_array();
	struct archive *ar = open_archive(a, data, len, mime);
	int broken = !ar, rc;
	struct archive_entry *e;
	while (!broken && (rc = archive_read_next_header(ar, &e)) != ARCHIVE_EOF) {
		if (rc < ARCHIVE_WARN) {
			broken = 1;
			break;
		}
		const char *pname = archive_entry_pathname(e);
		const char *base = pname ? strrchr(pname, '/') : NULL;
		base = base ? base + 1 : (pname && *pname ? pname : "NONAMEFL");
		int allowed = member_allowed(a, e, office, base);
		if (allowed < 0)
			break;
		sbuf buf = {0};
		if (allowed == 0 || read_member(a, ar, base, &buf, &broken) != 0) {
			sbuf_free(&buf);
			continue;
		}
		if (office) {
			urls_in_office_part(base, buf.data ? buf.data : "", buf.len, office_urls);
		} else {
			a->children++;
			analyze_object(a, buf.data ? buf.data : "", buf.len,
				       strcmp(base, "data") ? base : "NONAMEFL", self, depth + 1);
		}
		sbuf_free(&buf);
	}
	if (broken)
		event(a, "Archive extraction incomplete", "%s",
		      ar && archive_error_string(ar) ? archive_error_string(ar) : "not a readable archive");
	archive_read_free(ar);
	if (office) {
		int ur = add_urls(a, office_urls, obj);
		int cur = (int)json_integer_value(json_object_get(obj, "risk"));
		if (ur > cur)
			json_object_set_new(obj, "risk", json_integer(ur));
	}
	json_decref(office_urls);
}

/* One object of the report; its name and type may come in any encoding (a
 * Latin-1 download name, a CP437 zip member) and are carried as UTF-8. NULL
 * only when jansson cannot allocate. */
static json_t *new_object(const void *data, size_t len, const char *name, const char *ttype,
			  const char *mime)
{
	char sha1[41], sha256[65], md5[33];
	hash_hex(HASH_SHA1, data, len, sha1);
	hash_hex(HASH_SHA256, data, len, sha256);
	hash_hex(HASH_MD5, data, len, md5);
	str_upper(sha1);
	str_upper(sha256);
	str_upper(md5);
	char *safe_name = utf8_sanitize(name), *safe_type = utf8_sanitize(ttype);
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s, s:[]}", "sha1", sha1,
				"sha256", sha256, "md5", md5, "name", safe_name, "size",
				(json_int_t)len, "true_type", safe_type, "mime", mime, "risk", -1,
				"virus_name", "", "rules");
	free(safe_name);
	free(safe_type);
	return obj;
}

static int analyze_object(analysis *a, const void *data, size_t len, const char *raw_name,
			  const char *parent_sha1, int depth)
{
	char tbuf[128];
	char *mime = file_view(data, len, FILETYPE_MIME, "application/octet-stream");
	char *desc = file_view(data, len, FILETYPE_DESCRIPTION, "data");
	const char *ttype = map_true_type(a->r, mime, desc, tbuf, sizeof tbuf);
	json_t *obj = new_object(data, len, raw_name, ttype, mime);
	if (!obj) {
		event(a, "Analysis error", "cannot record the object %s", raw_name);
		a->status = ST_ERROR;
		free(mime);
		free(desc);
		return -1;
	}
	const char *name = json_string_value(json_object_get(obj, "name"));
	if (parent_sha1) {
		json_object_set_new(obj, "parent_sha1", json_string(parent_sha1));
		json_object_set_new(obj, "relationship", json_string("Extracted from archive"));
		event(a, "Extracted from archive", "%s (%s)", name, ttype);
	}
	json_array_append_new(a->objects, obj); /* the array holds obj from here on */

	int best = -2;
	for (size_t i = 0; i < a->r->nrules; i++)
		if (object_rule_matches(&a->r->rules[i], obj, data, len))
			apply_rule(a, &a->r->rules[i], obj, &best, name);

	json_t *found = json_array();
	if (!strcmp(mime, "text/html") || !strcmp(mime, "application/xhtml+xml"))
		urls_in_html(data, len, found);
	else if (!is_office_xml_mime(mime))
		ddan_urls_in_text(data, len, found);
	int url_best = add_urls(a, found, obj);
	json_decref(found);
	if (url_best > best)
		best = url_best;
	json_object_set_new(obj, "risk", json_integer(best == -2 ? a->r->default_risk : best));

	if (depth < a->r->max_depth && (is_archive_mime(mime) || is_office_xml_mime(mime)) &&
	    !out_of_time(a))
		unpack_children(a, data, len, mime, obj, depth);
	free(mime);
	free(desc);
	return (int)json_integer_value(json_object_get(obj, "risk"));
}

static json_t *finish(analysis *a)
{
	int risk = -1;
	const char *virus = "";
	size_t i;
	json_t *o;
	json_array_foreach(a->objects, i, o)
	{
		int r = (int)json_integer_value(json_object_get(o, "risk"));
		const char *vn = json_string_value(json_object_get(o, "virus_name"));
		if (r > risk)
			virus = "";
		if (r >= risk && !*virus)
			virus = vn;
		if (r > risk)
			risk = r;
	}
	json_t *root = json_array_get(a->objects, 0);
	static const char *const risk_names[] = {"unsupported", "no risk", "low", "medium", "high"};
	if (a->status == ST_DONE)
		event(a, "Analysis completed", "risk level %d (%s)", risk, risk_names[risk + 1]);
	else
		event(a, a->status == ST_ERROR ? "Analysis error" : "Analysis timeout",
		      "the lab's rules asked for this outcome");
	const char *ttype = json_string_value(json_object_get(root, "true_type"));
	json_t *res = json_pack("{s:i, s:i, s:s, s:s, s:O, s:O, s:O}", "status", a->status, "risk",
				risk, "virus_name", virus ? virus : "", "true_type", ttype ? ttype : "",
				"objects", a->objects, "urls", a->urls, "events", a->events);
	json_decref(a->objects);
	json_decref(a->urls);
	json_decref(a->events);
	return res ? res : ddan_error_result("the analysis result could not be recorded");
}

json_t *ddan_error_result(const char *details)
{
	json_t *res = json_pack("{s:i, s:i, s:s, s:s, s:[], s:[], s:[{s:s, s:s}]}", "status", ST_ERROR,
				"risk", -1, "virus_name", "", "true_type", "", "objects", "urls",
				"events", "event", "Analysis error", "details", details);
	if (!res) /* only out of memory: as the x*alloc helpers do */
		oom_abort();
	return res;
}

json_t *ddan_analyze(const ddan_rules *r, int sample_type, const void *data, size_t len,
		     const char *name, const char *password)
{
	dtas_xml_init();
	analysis a = {.r = r, .password = password, .objects = json_array(),
		      .urls = json_array(), .events = json_array(), .status = ST_DONE,
		      .deadline = time_mono_ms() + r->max_analysis_ms};
	if (sample_type == 1) {
		char *line = xstrndup(data, len);
		line[strcspn(line, "\r\n")] = 0;
		char *text = utf8_sanitize(line);
		free(line);
		json_t *obj = new_object(data, len, text, "URL", "text/x-url");
		if (!obj) {
			free(text);
			json_decref(a.objects);
			json_decref(a.urls);
			json_decref(a.events);
			return ddan_error_result("the URL could not be recorded");
		}
		json_array_append_new(a.objects, obj);
		event(&a, "Sample received", "URL %s", text);
		json_t *one = json_array();
		char *norm = ddan_url_normalize(text, NULL);
		if (norm)
			json_array_append_new(one, json_string(norm));
		else
			event(&a, "Unsupported URL", "%s is not an http(s) URL", text);
		int best = add_urls(&a, one, obj);
		int risk = !norm ? -1 : best == -2 ? r->default_risk : best;
		json_object_set_new(obj, "risk", json_integer(risk));
		json_decref(one);
		free(norm);
		free(text);
	} else {
		event(&a, "Sample received", "%s (%zu bytes)", name && *name ? name : "NONAMEFL", len);
		analyze_object(&a, data, len, name && *name ? name : "NONAMEFL", NULL, 0);
	}
	return finish(&a);
}
