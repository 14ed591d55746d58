/* sofeed.c - the suspicious-object feed XML (get_black_lists) that DDAN, DDI
 * and TMCM serve and TMCM, IMSVA and SPS pull. The element names are ours and
 * documented in docs/so-feed.md; records are written straight into a buffer
 * and read with libxml2's SAX2 parser. */
#include "sofeed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include "log.h"
#include "so_content.h"

#define SOFEED_VERSION "1.0"

void sofeed_xml_begin(sbuf *out)
{
	sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BLACK_LISTS version=\""
		       SOFEED_VERSION "\">\n");
}

/* Records are written straight into the buffer, without printf: a full feed
 * holds a million of them and formatting was most of what serving it cost. */
#define PUT(out, literal) sbuf_append(out, literal, sizeof(literal) - 1)

/* Text escaped for element content and attributes. */
static void put_escaped(sbuf *out, const char *text)
{
	for (;;) {
		size_t run = strcspn(text, "&<>\"");
		sbuf_append(out, text, run);
		text += run;
		switch (*text++) {
		case '&': PUT(out, "&amp;"); break;
		case '<': PUT(out, "&lt;"); break;
		case '>': PUT(out, "&gt;"); break;
		case '"': PUT(out, "&quot;"); break;
		default: return; /* the terminator */
		}
	}
}

/* <NAME>escaped text</NAME>; name is a literal */
#define ADD_TEXT(out, name, text)                                                                  \
	do {                                                                                       \
		PUT(out, "<" name ">");                                                            \
		put_escaped(out, (text) ? (text) : "");                                            \
		PUT(out, "</" name ">");                                                           \
	} while (0)

/* The ISO 8601 text of a time; the records of a page share few seconds, so
 * the last one is kept per thread. */
static const char *iso_second(int64_t ms)
{
	static _Thread_local int64_t cached_second = -1;
	static _Thread_local char iso[32];
	if (ms / 1000 != cached_second) {
		time_iso8601(ms, iso, sizeof iso);
		cached_second = ms / 1000;
	}
	return iso;
}

/* A time element: ISO 8601 text for people, exact epoch ms in an attribute. */
#define ADD_TIME(out, name, ms)                                                                    \
	do {                                                                                       \
		if ((ms) <= 0) {                                                                   \
			PUT(out, "<" name " ms=\"0\">Never</" name ">");                           \
			break;                                                                     \
		}                                                                                  \
		PUT(out, "<" name " ms=\"");                                                       \
		sbuf_put_int(out, ms);                                                             \
		PUT(out, "\">");                                                                   \
		sbuf_puts(out, iso_second(ms));                                                    \
		PUT(out, "</" name ">");                                                           \
	} while (0)

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
	PUT(out, "  <REPORT><ID>");
	sbuf_put_int(out, r->id);
	PUT(out, "</ID>");
	ADD_TEXT(out, "TYPE", r->type);
	ADD_TEXT(out, "VALUE", r->value);
	ADD_TEXT(out, "RISK_LEVEL", r->risk);
	ADD_TEXT(out, "SOURCE", r->source);
	ADD_TIME(out, "FIRST_SEEN", r->first_seen_ms);
	ADD_TIME(out, "LAST_SEEN", r->last_seen_ms);
	ADD_TIME(out, "EXPIRATION", r->expires_ms);
	ADD_TEXT(out, "LATEST_SAMPLE_SHA1", r->related_sha1);
	if (r->action[0])
		ADD_TEXT(out, "ACTION", r->action);
	if (r->removed)
		PUT(out, "<REMOVED>1</REMOVED></REPORT>\n");
	else
		PUT(out, "<REMOVED>0</REMOVED></REPORT>\n");
	return 1;
}

void sofeed_xml_end(sbuf *out, int64_t last_id, int more)
{
	sbuf_printf(out, "  <LAST_QUERY_ID>%lld</LAST_QUERY_ID>\n  <HAS_MORE>%d</HAS_MORE>\n"
			 "</BLACK_LISTS>\n",
		    (long long)last_id, more ? 1 : 0);
}

/* ---- parsing ------------------------------------------------------------ */

/* Pages are read with libxml2's SAX2 interface, one record at a time: a DOM
 * of a page cost seven times more than the parse itself. The rules are those
 * of a tree walk: REPORT elements at any depth below the root (not inside
 * another REPORT), a field's text is all the text inside it, LAST_QUERY_ID
 * and HAS_MORE are children of the root. */

enum field {
	F_NONE, F_ID, F_TYPE, F_VALUE, F_RISK, F_SOURCE, F_FIRST_SEEN, F_LAST_SEEN, F_EXPIRATION,
	F_SHA1, F_ACTION, F_REMOVED, F_LAST_QUERY_ID, F_HAS_MORE
};

static const struct {
	const char *name;
	enum field field;
} fields[] = {
	{"ID", F_ID}, {"TYPE", F_TYPE}, {"VALUE", F_VALUE}, {"RISK_LEVEL", F_RISK},
	{"SOURCE", F_SOURCE}, {"FIRST_SEEN", F_FIRST_SEEN}, {"LAST_SEEN", F_LAST_SEEN},
	{"EXPIRATION", F_EXPIRATION}, {"LATEST_SAMPLE_SHA1", F_SHA1}, {"ACTION", F_ACTION},
	{"REMOVED", F_REMOVED},
};

typedef struct feed_reader {
	xmlParserCtxtPtr ctxt;
	int (*cb)(const so_record *r, void *cls);
	void *cls;
	int depth;        /* of the innermost open element; the root is 1 */
	int report_depth; /* of the open REPORT, 0 outside one */
	int field_depth;  /* of the field being read, 0 when none */
	enum field field;
	char *ms_attr;    /* a time field's ms attribute, NULL when absent */
	sbuf text;        /* the field's text so far */
	/* element names as libxml2 interns them (one pointer per name and
	 * parse) with the field each is: no string compare per element */
	const xmlChar *seen_name[16];
	enum field seen_field[16];
	int nseen;
	so_record rec;
	int64_t max_id, last_query_id;
	int more, aborted; /* the consumer stopped the parse at ID aborted_at */
	int64_t aborted_at;
} feed_reader;

static enum field report_field(feed_reader *fr, const xmlChar *localname)
{
	for (int i = 0; i < fr->nseen; i++)
		if (fr->seen_name[i] == localname)
			return fr->seen_field[i];
	enum field f = F_NONE;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (!strcasecmp((const char *)localname, fields[i].name))
			f = fields[i].field;
	if (fr->nseen < (int)(sizeof fr->seen_name / sizeof fr->seen_name[0])) {
		fr->seen_name[fr->nseen] = localname;
		fr->seen_field[fr->nseen++] = f;
	}
	return f;
}

/* snprintf(dst, cap, "%s", src) without the formatting */
static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *text_of(feed_reader *fr)
{
	return fr->text.data ? fr->text.data : "";
}

static int64_t time_of(feed_reader *fr)
{
	int64_t v = 0;
	const char *t = text_of(fr);
	if (fr->ms_attr)
		return strtoll(fr->ms_attr, NULL, 10);
	if (strcasecmp(t, "Never") != 0 && *t && time_parse(t, &v, NULL) != 0)
		v = 0;
	return v;
}

/* A field ended: into the record (or the page's cursor and HAS_MORE). */
static void field_done(feed_reader *fr)
{
	so_record *r = &fr->rec;
	const char *t = text_of(fr);
	switch (fr->field) {
	case F_ID: r->id = strtoll(t, NULL, 10); break;
	case F_TYPE: copy_text(r->type, sizeof r->type, t); break;
	case F_VALUE: if (!r->value) r->value = xstrdup(t); break;
	case F_RISK: copy_text(r->risk, sizeof r->risk, t); break;
	case F_SOURCE: if (!r->source) r->source = xstrdup(t); break;
	case F_FIRST_SEEN: r->first_seen_ms = time_of(fr); break;
	case F_LAST_SEEN: r->last_seen_ms = time_of(fr); break;
	case F_EXPIRATION: r->expires_ms = time_of(fr); break;
	case F_SHA1: copy_text(r->related_sha1, sizeof r->related_sha1, t); break;
	case F_ACTION: copy_text(r->action, sizeof r->action, t); break;
	case F_REMOVED: r->removed = strtoll(t, NULL, 10) != 0; break;
	case F_LAST_QUERY_ID: fr->last_query_id = strtoll(t, NULL, 10); break;
	case F_HAS_MORE: fr->more = strtoll(t, NULL, 10) != 0; break;
	case F_NONE: break;
	}
	fr->field = F_NONE;
	fr->field_depth = 0;
	free(fr->ms_attr);
	fr->ms_attr = NULL;
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

/* A REPORT ended: check it and hand it to the consumer. */
static void report_done(feed_reader *fr)
{
	so_record *r = &fr->rec;
	if (!r->value)
		r->value = xstrdup("");
	if (!r->source)
		r->source = xstrdup("");
	if (r->id > fr->max_id)
		fr->max_id = r->id;
	if (valid_content(r) && fr->cb && fr->cb(r, fr->cls) != 0) {
		fr->aborted = 1;
		fr->aborted_at = r->id;
		xmlStopParser(fr->ctxt);
	}
	free(r->value);
	free(r->source);
	memset(r, 0, sizeof *r);
	fr->report_depth = 0;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	feed_reader *fr = ctx;
	const char *name = (const char *)localname;
	fr->depth++;
	if (fr->field_depth)
		return; /* inside a field: its text is all that counts */
	enum field f = F_NONE;
	if (fr->report_depth && fr->depth == fr->report_depth + 1) {
		f = report_field(fr, localname);
	} else if (!fr->report_depth && fr->depth >= 2 && !strcasecmp(name, "REPORT")) {
		fr->report_depth = fr->depth;
		return;
	} else if (!fr->report_depth && fr->depth == 2) {
		f = !strcasecmp(name, "LAST_QUERY_ID") ? F_LAST_QUERY_ID
		    : !strcasecmp(name, "HAS_MORE")    ? F_HAS_MORE
						       : F_NONE;
	}
	if (f == F_NONE)
		return;
	fr->field = f;
	fr->field_depth = fr->depth;
	fr->text.len = 0;
	if (fr->text.data)
		fr->text.data[0] = '\0';
	/* attributes: (localname, prefix, URI, value, end) each */
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = attributes + 5 * i;
		if (!strcmp((const char *)a[0], "ms") && !a[1]) {
			free(fr->ms_attr);
			fr->ms_attr = xstrndup((const char *)a[3], (size_t)(a[4] - a[3]));
		}
	}
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		   const xmlChar *uri)
{
	feed_reader *fr = ctx;
	if (fr->field_depth == fr->depth)
		field_done(fr);
	else if (fr->report_depth == fr->depth)
		report_done(fr);
	fr->depth--;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
	feed_reader *fr = ctx;
	if (fr->field_depth)
		sbuf_append(&fr->text, ch, (size_t)len);
}

int sofeed_parse(const char *xml, size_t len, int (*cb)(const so_record *r, void *cls), void *cls,
		 int64_t *last_id, int *more, ctd_err *err)
{
	if (len == 0) /* the memory parser makes no context for it */
		return ctd_fail(err, CTD_EINVAL, "SO feed: not an XML document");
	dtas_xml_init();
	size_t scrubbed_len = 0;
	char *scrubbed = so_xml_scrub(xml, len, &scrubbed_len);
	if (scrubbed)
		log_warn("sofeed.scrubbed", "reason=\"characters XML 1.0 cannot carry: records "
			 "holding them are skipped\"");
	xmlSAXHandler sax = {
		.initialized = XML_SAX2_MAGIC,
		.startElementNs = on_start,
		.endElementNs = on_end,
		.characters = on_text,
		.cdataBlock = on_text,
	};
	feed_reader fr = {.cb = cb, .cls = cls, .max_id = last_id ? *last_id : 0};
	/* The page is whole in memory: libxml2's memory parser reads it with
	 * a tenth fewer instructions than its push parser given it in one
	 * chunk (callgrind, a page of 20 000 records). */
	fr.ctxt = xmlCreateMemoryParserCtxt(scrubbed ? scrubbed : xml,
					    (int)(scrubbed ? scrubbed_len : len));
	if (!fr.ctxt) {
		free(scrubbed);
		return ctd_fail(err, CTD_EINTERNAL, "SO feed: no XML parser");
	}
	xmlSAXHandlerPtr own_sax = fr.ctxt->sax; /* the context's, freed with it */
	fr.ctxt->sax = &sax;
	fr.ctxt->userData = &fr;
	xmlCtxtUseOptions(fr.ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlParseDocument(fr.ctxt);
	int well_formed = fr.ctxt->wellFormed && fr.depth == 0;
	fr.ctxt->sax = own_sax;
	xmlFreeParserCtxt(fr.ctxt);
	free(scrubbed);
	free(fr.rec.value);
	free(fr.rec.source);
	free(fr.ms_attr);
	sbuf_free(&fr.text);
	if (fr.aborted)
		return ctd_fail(err, CTD_EINTERNAL, "SO feed: consumer aborted at ID %lld",
				(long long)fr.aborted_at);
	if (!well_formed)
		return ctd_fail(err, CTD_EINVAL, "SO feed: not an XML document");
	if (fr.last_query_id > fr.max_id)
		fr.max_id = fr.last_query_id;
	if (last_id)
		*last_id = fr.max_id;
	if (more)
		*more = fr.more;
	return 0;
}

void so_record_list_add(so_record_list *l, const so_record *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->rec = xrealloc(l->rec, l->cap * sizeof *l->rec);
	}
	so_record *copy = &l->rec[l->n++];
	*copy = *r;
	copy->value = xstrdup(r->value ? r->value : "");
	copy->source = xstrdup(r->source ? r->source : "");
}

void so_record_list_clear(so_record_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->rec[i].value);
		free(l->rec[i].source);
	}
	l->n = 0;
}

void so_record_list_free(so_record_list *l)
{
	so_record_list_clear(l);
	free(l->rec);
	*l = (so_record_list){0};
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

static int fetch_page(const dtas_client *c, int64_t cursor, http_response *r, ctd_err *err)
{
	char hdr[64];
	snprintf(hdr, sizeof hdr, "X-DTAS-LastQueryID: %lld", (long long)cursor);
	const char *extra[] = {hdr, NULL};
	*r = (http_response){0};
	if (dtas_call(c, "GET", "get_black_lists", extra, NULL, 0, NULL, 0, r, err) != 0)
		return -1;
	if (r->status == 200)
		return 0;
	ctd_fail(err, r->status == 401 ? CTD_EAUTH : CTD_EIO, "get_black_lists: HTTP %ld %.160s",
		 r->status, r->body.data ? r->body.data : "");
	http_response_free(r);
	return -1;
}

/* The next page, fetched in a thread of its own while the consumer reads
 * the current one: the producer writes and sends a page while the consumer
 * parses and stores the one before, on the other core. */
typedef struct page_ahead {
	const dtas_client *c;
	int64_t cursor;
	http_response resp;
	ctd_err err;
	int rc;
	pthread_t thread;
} page_ahead;

static void *fetch_ahead(void *arg)
{
	page_ahead *a = arg;
	a->rc = fetch_page(a->c, a->cursor, &a->resp, &a->err);
	return NULL;
}

/* Where the page after this one starts, read off its end, where the lab's
 * producers write LAST_QUERY_ID and HAS_MORE; 0 when it says there is no
 * more or cannot tell. A guess to fetch ahead on: the parse decides. */
static int64_t next_cursor_guess(const sbuf *body)
{
	static const char last_tag[] = "<LAST_QUERY_ID>", more_tag[] = "<HAS_MORE>1<";
	size_t from = body->len > 256 ? body->len - 256 : 0;
	const char *tail = body->data ? body->data + from : "";
	size_t n = body->len - from;
	const char *last = memmem(tail, n, last_tag, sizeof last_tag - 1);
	if (!last || !memmem(tail, n, more_tag, sizeof more_tag - 1))
		return 0;
	return strtoll(last + sizeof last_tag - 1, NULL, 10);
}

long sofeed_pull(const dtas_client *c, int64_t *cursor,
		 int (*cb)(const so_record *r, void *cls), void *cls, ctd_err *err)
{
	pull_ctx ctx = {cb, cls, 0};
	http_response page;
	if (fetch_page(c, *cursor, &page, err) < 0)
		return -1;
	for (;;) {
		page_ahead ahead = {.c = c, .cursor = next_cursor_guess(&page.body)};
		int fetching = ahead.cursor > *cursor &&
			       pthread_create(&ahead.thread, NULL, fetch_ahead, &ahead) == 0;
		int64_t last = *cursor;
		int more = 0;
		int rc = sofeed_parse(page.body.data ? page.body.data : "", page.body.len, pull_one,
				      &ctx, &last, &more, err);
		http_response_free(&page);
		if (fetching)
			pthread_join(ahead.thread, NULL);
		/* a page that does not advance the cursor ends the pull: never loop forever */
		int advanced = last > *cursor;
		if (advanced)
			*cursor = last;
		int usable = fetching && ahead.rc == 0;
		if (rc != 0 || !more || !advanced) {
			if (usable)
				http_response_free(&ahead.resp);
			return rc != 0 ? -1 : ctx.count;
		}
		if (usable && ahead.cursor == *cursor) {
			page = ahead.resp;
			continue;
		}
		if (usable)
			http_response_free(&ahead.resp);
		if (fetch_page(c, *cursor, &page, err) < 0)
			return -1;
	}
}
