/* imsva_mime_urls.c - the URLs of a message as IMSVA's web reputation sees
 * them: a small scanner for http(s)://, ftp:// and www. in free text, and
 * libxml2's HTML parser for link attributes and the visible text. */
#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "imsva_mime_int.h"

static void url_add(imsva_builder *b, const char *s, size_t len)
{
	imsva_msg *m = b->m;
	if (len == 0 || len > MAX_URL_LEN)
		return;
	for (size_t i = 0; i < m->nurls; i++)
		if (strlen(m->urls[i]) == len && !memcmp(m->urls[i], s, len))
			return;
	if (m->nurls >= MAX_URLS) {
		m->truncated = 1;
		return;
	}
	if (m->nurls == b->urlcap) {
		b->urlcap = b->urlcap ? 2 * b->urlcap : 8;
		m->urls = xrealloc(m->urls, b->urlcap * sizeof *m->urls);
	}
	m->urls[m->nurls++] = xstrndup(s, len);
}

static int url_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && !strchr("<>\"'`{}|\\^", c);
}

static int has_prefix_ci(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - s) >= n && !strncasecmp(s, prefix, n);
}

/* More ')' than '(' in [s, e): the last ')' closes a sentence's parenthesis. */
static int unbalanced_paren(const char *s, const char *e)
{
	int depth = 0;
	for (; s < e; s++)
		depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
	return depth < 0;
}

/* Scan free text for http(s)://, ftp:// and www. URLs. */
void imsva_urls_from_text(imsva_builder *b, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *start = p;
		int www = 0;
		if (!(has_prefix_ci(p, end, "http://") || has_prefix_ci(p, end, "https://") ||
		      has_prefix_ci(p, end, "ftp://")) &&
		    !(www = has_prefix_ci(p, end, "www."))) {
			p++;
			continue;
		}
		/* a word boundary before the URL: not "xhttp://", not "xwww." */
		if (start > text && isalnum((unsigned char)start[-1])) {
			p++;
			continue;
		}
		const char *q = start;
		while (q < end && url_char((unsigned char)*q))
			q++;
		/* trailing punctuation belongs to the sentence, unbalanced ')' too */
		while (q > start && strchr(".,;:!?'", q[-1]))
			q--;
		while (q > start && q[-1] == ')' && unbalanced_paren(start, q))
			q--;
		/* something after "scheme://"; "www." needs a further dot */
		size_t n = (size_t)(q - start);
		const char *sep = memchr(start, ':', n);
		int ok = www ? n > 5 && memchr(start + 4, '.', n - 4)
			     : sep && (size_t)(q - sep) > 3;
		if (ok) {
			if (www) {
				char *u = xasprintf("http://%.*s", (int)(q - start), start);
				url_add(b, u, strlen(u));
				free(u);
			} else {
				url_add(b, start, (size_t)(q - start));
			}
		}
		p = q > start ? q : start + 1;
	}
}

static int url_attr(const char *name)
{
	static const char *const attrs[] = {"href", "src", "action", "background", "formaction",
					    "data", "poster", NULL};
	for (int i = 0; attrs[i]; i++)
		if (!strcasecmp(name, attrs[i]))
			return 1;
	return 0;
}

static void html_attr_url(imsva_builder *b, const char *v)
{
	while (*v && isspace((unsigned char)*v))
		v++;
	size_t n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	const char *vend = v + n;
	if (has_prefix_ci(v, vend, "http://") || has_prefix_ci(v, vend, "https://") ||
	    has_prefix_ci(v, vend, "ftp://"))
		url_add(b, v, n);
}

static void html_walk(imsva_builder *b, xmlNode *node, sbuf *text, int depth)
{
	for (xmlNode *n = node; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE) {
			const char *name = (const char *)n->name;
			for (xmlAttr *a = n->properties; a; a = a->next) {
				if (!url_attr((const char *)a->name))
					continue;
				xmlChar *v = xmlNodeGetContent((xmlNode *)a);
				if (v)
					html_attr_url(b, (const char *)v);
				xmlFree(v);
			}
			if (strcasecmp(name, "script") && strcasecmp(name, "style") && depth < 256)
				html_walk(b, n->children, text, depth + 1);
			if (!strcasecmp(name, "br") || !strcasecmp(name, "p") ||
			    !strcasecmp(name, "div") || !strcasecmp(name, "tr"))
				sbuf_puts(text, "\n");
		} else if (n->type == XML_TEXT_NODE && n->content) {
			sbuf_puts(text, (const char *)n->content);
		}
	}
}

/* HTML: URLs from link attributes and from the text; text into body. */
void imsva_urls_from_html(imsva_builder *b, const char *html, size_t len, int body)
{
	if (len > INT32_MAX)
		return;
	htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
					HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
						HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (!doc)
		return;
	sbuf text = {0};
	html_walk(b, xmlDocGetRootElement(doc), &text, 0);
	xmlFreeDoc(doc);
	if (text.len) {
		imsva_urls_from_text(b, text.data, text.len);
		if (body) {
			sbuf_append(&b->body, text.data, text.len);
			sbuf_puts(&b->body, "\n");
		}
	}
	sbuf_free(&text);
}
