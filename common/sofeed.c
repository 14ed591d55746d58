/* sofeed.c - the suspicious-object feed XML (get_black_lists) that DDAN, DDI
 * and TMCM serve and TMCM, IMSVA and SPS pull. The element names are ours and
 * documented in docs/so-feed.md; records are built and read with libxml2. */
#include "sofeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "log.h"
#include "so_content.h"

#define SOFEED_VERSION "1.0"

void sofeed_xml_begin(sbuf *out)
{
	sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BLACK_LISTS version=\""
		       SOFEED_VERSION "\">\n");
}

/* Records are written straight into the buffer (a full feed can hold a
 * million of them, and a libxml2 tree per record costs ten times more);
 * text is escaped for element content and attributes. */
static void put_escaped(sbuf *out, const char *text)
{
	const char *run = text;
	for (const char *p = text; *p; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: continue;
		}
		sbuf_append(out, run, (size_t)(p - run));
		sbuf_puts(out, rep);
		run = p + 1;
	}
	sbuf_puts(out, run);
}

static void add_text(sbuf *out, const char *name, const char *text)
{
	sbuf_printf(out, "<%s>", name);
	put_escaped(out, text ? text : "");
	sbuf_printf(out, "</%s>", name);
}

/* A time element: ISO 8601 text for people, exact epoch ms in an attribute. */
static void add_time(sbuf *out, const char *name, int64_t ms)
{
	char iso[32];
	if (ms <= 0) {
		sbuf_printf(out, "<%s ms=\"0\">Never</%s>", name, name);
		return;
	}
	time_iso8601(ms, iso, sizeof iso);
	sbuf_printf(out, "<%s ms=\"%lld\">%s</%s>", name, (long long)ms, iso, name);
}

/* A record XML 1.0 cannot carry (a control character or a byte that is not
 * UTF-8 in one of its strings: old data, stored before the content rules). */
static int representable(const so_record *r)
{
	const char *text[] = {r->type, r->value ? r->value : "", r->risk,
			      r->source ? r->source : "", r->related_sha1, r->action};
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
		if (!so_xml_safe(text[i]))
			return 0;
	return 1;
}

int sofeed_xml_add(sbuf *out, const so_record *r)
{
	if (!representable(r)) {
		log_warn("sofeed.record_skipped", "id=%lld type=%s value=\"%s\" reason=\"not XML 1.0 "
			 "text\"", (long long)r->id, r->type, r->value ? r->value : "");
		return 0;
	}
	sbuf_printf(out, "  <REPORT><ID>%lld</ID>", (long long)r->id);
	add_text(out, "TYPE", r->type);
	add_text(out, "VALUE", r->value);
	add_text(out, "RISK_LEVEL", r->risk);
	add_text(out, "SOURCE", r->source);
	add_time(out, "FIRST_SEEN", r->first_seen_ms);
	add_time(out, "LAST_SEEN", r->last_seen_ms);
	add_time(out, "EXPIRATION", r->expires_ms);
	add_text(out, "LATEST_SAMPLE_SHA1", r->related_sha1);
	if (r->action[0])
		add_text(out, "ACTION", r->action);
	sbuf_printf(out, "<REMOVED>%d</REMOVED></REPORT>\n", r->removed ? 1 : 0);
	return 1;
}

void sofeed_xml_end(sbuf *out, int64_t last_id, int more)
{
	sbuf_printf(out, "  <LAST_QUERY_ID>%lld</LAST_QUERY_ID>\n  <HAS_MORE>%d</HAS_MORE>\n"
			 "</BLACK_LISTS>\n",
		    (long long)last_id, more ? 1 : 0);
}

/* ---- parsing ------------------------------------------------------------ */

static char *node_text(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = xstrdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

static void copy_field(char *dst, size_t cap, xmlNode *n)
{
	char *t = node_text(n);
	snprintf(dst, cap, "%s", t);
	free(t);
}

static int64_t node_int64(xmlNode *n)
{
	char *t = node_text(n);
	int64_t v = strtoll(t, NULL, 10);
	free(t);
	return v;
}

static int64_t node_time(xmlNode *n)
{
	xmlChar *ms = xmlGetProp(n, BAD_CAST "ms");
	int64_t v = 0;
	if (ms) {
		v = strtoll((const char *)ms, NULL, 10);
		xmlFree(ms);
		return v;
	}
	char *t = node_text(n);
	if (strcasecmp(t, "Never") != 0 && *t && time_parse(t, &v, NULL) != 0)
		v = 0;
	free(t);
	return v;
}

/* Fill r from one REPORT element; value and source point into owned strings. */
static void parse_report(xmlNode *rep, so_record *r)
{
	for (xmlNode *n = rep->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)n->name;
		if (!strcasecmp(name, "ID"))
			r->id = node_int64(n);
		else if (!strcasecmp(name, "TYPE"))
			copy_field(r->type, sizeof r->type, n);
		else if (!strcasecmp(name, "VALUE") && !r->value)
			r->value = node_text(n);
		else if (!strcasecmp(name, "RISK_LEVEL"))
			copy_field(r->risk, sizeof r->risk, n);
		else if (!strcasecmp(name, "SOURCE") && !r->source)
			r->source = node_text(n);
		else if (!strcasecmp(name, "FIRST_SEEN"))
			r->first_seen_ms = node_time(n);
		else if (!strcasecmp(name, "LAST_SEEN"))
			r->last_seen_ms = node_time(n);
		else if (!strcasecmp(name, "EXPIRATION"))
			r->expires_ms = node_time(n);
		else if (!strcasecmp(name, "LATEST_SAMPLE_SHA1"))
			copy_field(r->related_sha1, sizeof r->related_sha1, n);
		else if (!strcasecmp(name, "ACTION"))
			copy_field(r->action, sizeof r->action, n);
		else if (!strcasecmp(name, "REMOVED"))
			r->removed = node_int64(n) != 0;
	}
	if (!r->value)
		r->value = xstrdup("");
	if (!r->source)
		r->source = xstrdup("");
}

/* Replace r's value by its canonical form; a record whose content breaks the
 * rules (so_content.h) is logged and skipped, never the whole page. */
static int valid_content(so_record *r)
{
	ctd_err err = {0};
	char *canon;
	if (so_content_normalise("VALUE", r->type, r->value, &canon, &err) < 0) {
		log_warn("sofeed.record_skipped", "id=%lld type=%s value=\"%s\" reason=\"%s\"",
			 (long long)r->id, r->type, r->value, err.msg);
		return 0;
	}
	free(r->value);
	r->value = canon;
	return 1;
}

/* Hand every REPORT element under n (at any depth: get_black_lists has them
 * under the root, get_suspicious_object_by_sha1 under Return/REPORTS) to cb. */
static int walk_reports(xmlNode *n, int (*cb)(const so_record *r, void *cls), void *cls,
			int64_t *max_id, ctd_err *err)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcasecmp((const char *)n->name, "REPORT") != 0) {
			if (walk_reports(n->children, cb, cls, max_id, err) != 0)
				return -1;
			continue;
		}
		so_record r = {0};
		parse_report(n, &r);
		if (r.id > *max_id)
			*max_id = r.id;
		int rc = valid_content(&r) && cb ? cb(&r, cls) : 0;
		free(r.value);
		free(r.source);
		if (rc != 0)
			return ctd_fail(err, CTD_EINTERNAL, "SO feed: consumer aborted at ID %lld",
					(long long)r.id);
	}
	return 0;
}

int sofeed_parse(const char *xml, size_t len, int (*cb)(const so_record *r, void *cls), void *cls,
		 int64_t *last_id, int *more, ctd_err *err)
{
	dtas_xml_init();
	size_t scrubbed_len = 0;
	char *scrubbed = so_xml_scrub(xml, len, &scrubbed_len);
	if (scrubbed)
		log_warn("sofeed.scrubbed", "reason=\"characters XML 1.0 cannot carry: records "
			 "holding them are skipped\"");
	xmlDoc *doc = xmlReadMemory(scrubbed ? scrubbed : xml, (int)(scrubbed ? scrubbed_len : len),
				    "feed.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
					    XML_PARSE_NOWARNING);
	free(scrubbed);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		xmlFreeDoc(doc);
		return ctd_fail(err, CTD_EINVAL, "SO feed: not an XML document");
	}
	int64_t max_id = last_id ? *last_id : 0;
	int has_more = 0;
	int rc = walk_reports(root->children, cb, cls, &max_id, err);
	for (xmlNode *n = root->children; n && rc == 0; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcasecmp((const char *)n->name, "LAST_QUERY_ID")) {
			int64_t v = node_int64(n);
			if (v > max_id)
				max_id = v;
		} else if (!strcasecmp((const char *)n->name, "HAS_MORE")) {
			has_more = node_int64(n) != 0;
		}
	}
	xmlFreeDoc(doc);
	if (last_id)
		*last_id = max_id;
	if (more)
		*more = has_more;
	return rc;
}

/* Counts the records of a pull while handing them to the consumer. */
typedef struct pull_ctx {
	int (*cb)(const so_record *r, void *cls);
	void *cls;
	long count;
} pull_ctx;

static int pull_one(const so_record *r, void *cls)
{
	pull_ctx *p = cls;
	p->count++;
	return p->cb ? p->cb(r, p->cls) : 0;
}

long sofeed_pull(const dtas_client *c, int64_t *cursor,
		 int (*cb)(const so_record *r, void *cls), void *cls, ctd_err *err)
{
	pull_ctx ctx = {cb, cls, 0};
	for (;;) {
		char hdr[64];
		snprintf(hdr, sizeof hdr, "X-DTAS-LastQueryID: %lld", (long long)*cursor);
		const char *extra[] = {hdr, NULL};
		http_response r = {0};
		if (dtas_call(c, "GET", "get_black_lists", extra, NULL, 0, NULL, 0, &r, err) != 0)
			return -1;
		if (r.status != 200) {
			ctd_fail(err, r.status == 401 ? CTD_EAUTH : CTD_EIO,
				 "get_black_lists: HTTP %ld %.160s", r.status,
				 r.body.data ? r.body.data : "");
			http_response_free(&r);
			return -1;
		}
		int64_t last = *cursor;
		int more = 0;
		int rc = sofeed_parse(r.body.data ? r.body.data : "", r.body.len, pull_one, &ctx,
				      &last, &more, err);
		http_response_free(&r);
		if (rc != 0)
			return -1;
		/* a page that does not advance the cursor ends the pull: never loop forever */
		int advanced = last > *cursor;
		if (advanced)
			*cursor = last;
		if (!more || !advanced)
			return ctx.count;
	}
}
