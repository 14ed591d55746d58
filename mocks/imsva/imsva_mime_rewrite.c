/* imsva_mime_rewrite.c - a verdict's modify actions applied to the raw
 * message with GMime: subject tags, X-headers, and stamps appended to the
 * plain (or else HTML) body. */
#include <string.h>
#include "imsva_mime_int.h"

static GMimeTextPart *find_body_part(GMimeObject *obj, const char *subtype, int depth)
{
	if (!obj || depth > 64)
		return NULL;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
			GMimeTextPart *t =
				find_body_part(g_mime_multipart_get_part(mp, i), subtype, depth + 1);
			if (t)
				return t;
		}
		return NULL;
	}
	if (!GMIME_IS_TEXT_PART(obj))
		return NULL;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	if (!ct || !g_mime_content_type_is_type(ct, "text", subtype) ||
	    g_mime_part_get_filename(GMIME_PART(obj)) ||
	    (cd && g_mime_content_disposition_is_attachment(cd)))
		return NULL;
	return GMIME_TEXT_PART(obj);
}

static char *html_escape(const char *s)
{
	sbuf b = {0};
	for (; *s; s++) {
		switch (*s) {
		case '<': sbuf_puts(&b, "&lt;"); break;
		case '>': sbuf_puts(&b, "&gt;"); break;
		case '&': sbuf_puts(&b, "&amp;"); break;
		default: sbuf_append(&b, s, 1);
		}
	}
	return b.data ? sbuf_detach(&b) : xstrdup("");
}

static void stamp_body(GMimeMessage *msg, const imsva_strv *stamps)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeTextPart *plain = find_body_part(top, "plain", 0);
	GMimeTextPart *html = plain ? NULL : find_body_part(top, "html", 0);
	GMimeTextPart *tp = plain ? plain : html;
	if (!tp)
		return;
	char *text = g_mime_text_part_get_text(tp);
	sbuf b = {0};
	sbuf_puts(&b, text ? text : "");
	g_free(text);
	for (size_t i = 0; i < stamps->n; i++) {
		if (plain) {
			sbuf_printf(&b, "\n\n%s\n", stamps->v[i]);
		} else {
			char *esc = html_escape(stamps->v[i]);
			sbuf_printf(&b, "<p>%s</p>\n", esc);
			free(esc);
		}
	}
	g_mime_text_part_set_text(tp, b.data);
	sbuf_free(&b);
}

int imsva_msg_rewrite(const char *raw, size_t len, const imsva_verdict *v, char **out,
		      size_t *outlen, ctd_err *err)
{
	if (imsva_engine_init(err) < 0)
		return -1;
	if (v->subject_tags.n == 0 && v->nxheaders == 0 && v->stamps.n == 0) {
		*out = xstrndup(raw, len);
		*outlen = len;
		return 0;
	}
	GMimeMessage *msg = imsva_gmime_parse(raw, len);
	if (!msg)
		return ctd_fail(err, CTD_EINVAL, "message cannot be parsed for rewriting");
	if (v->subject_tags.n) {
		const char *cur = g_mime_message_get_subject(msg);
		char *subject = xstrdup(cur ? cur : "");
		for (size_t i = 0; i < v->subject_tags.n; i++) {
			char *next = xasprintf("%s %s", v->subject_tags.v[i], subject);
			free(subject);
			subject = next;
		}
		g_mime_message_set_subject(msg, subject, "utf-8");
		free(subject);
	}
	for (size_t i = 0; i < v->nxheaders; i++)
		g_mime_object_set_header(GMIME_OBJECT(msg), v->xheaders[i].name,
					 v->xheaders[i].value, "utf-8");
	if (v->stamps.n)
		stamp_body(msg, &v->stamps);
	char *s = g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
	*outlen = strlen(s);
	*out = xstrndup(s, *outlen);
	g_free(s);
	g_object_unref(msg);
	return 0;
}
