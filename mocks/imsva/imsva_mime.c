/* imsva_mime.c - IMSVA's view of a message: GMime walks the MIME tree
 * (nested multiparts, message/rfc822, base64/QP, RFC 2047/2231 names) into
 * the part list; each part gets its digests and true file type
 * (imsva_filetype.c), its URLs (imsva_mime_urls.c) and, for archives, its
 * members (imsva_mime_archive.c). Also the engine's library set-up. */
#include <libxml/parser.h>
#include <pthread.h>
#include <string.h>
#include "filetype.h"
#include "hash.h"
#include "imsva_mime_int.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int engine_ready;

int imsva_engine_init(ctd_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&init_lock);
	if (!engine_ready) {
		rc = filetype_init(err);
		if (rc == 0) {
			g_mime_init();
			xmlInitParser(); /* before threads race into htmlReadMemory */
			engine_ready = 1;
		}
	}
	pthread_mutex_unlock(&init_lock);
	return rc;
}

void imsva_engine_shutdown(void)
{
	pthread_mutex_lock(&init_lock);
	if (engine_ready) {
		g_mime_shutdown();
		engine_ready = 0;
	}
	pthread_mutex_unlock(&init_lock);
}

/* ------------------------------------------------------------------------
 * Building the part list
 * ------------------------------------------------------------------------ */
/* Append an empty part; returns its index or -1 at the limit. */
int imsva_builder_part_new(imsva_builder *b, int parent, int depth)
{
	imsva_msg *m = b->m;
	if (m->nparts >= MAX_PARTS) {
		m->truncated = 1;
		return -1;
	}
	if (m->nparts == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		m->parts = xrealloc(m->parts, b->cap * sizeof *m->parts);
	}
	imsva_part *p = &m->parts[m->nparts];
	memset(p, 0, sizeof *p);
	p->index = (int)m->nparts;
	p->parent = parent;
	p->depth = depth;
	return (int)m->nparts++;
}

void imsva_builder_part_set_content(imsva_builder *b, int idx, unsigned char *data, size_t len,
				    const char *body_type)
{
	imsva_part *p = &b->m->parts[idx];
	char mime[128];
	p->data = data;
	p->size = len;
	hash_hex(HASH_MD5, data ? (const void *)data : "", len, p->md5);
	hash_hex(HASH_SHA1, data ? (const void *)data : "", len, p->sha1);
	hash_hex(HASH_SHA256, data ? (const void *)data : "", len, p->sha256);
	if (body_type)
		imsva_body_file_type(body_type, mime, sizeof mime, &p->tft_class, &p->tft_type,
				     &p->tft_label);
	else
		imsva_true_file_type_mime(data ? (const void *)data : "", len, p->filename, mime,
					  sizeof mime, &p->tft_class, &p->tft_type, &p->tft_label);
	p->magic_mime = xstrdup(mime);
}

/* ------------------------------------------------------------------------
 * MIME walk
 * ------------------------------------------------------------------------ */
static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

static unsigned char *decode_content(GMimePart *part, size_t *len)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	*len = 0;
	if (!content)
		return xcalloc(1, 1);
	GMimeStream *mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	unsigned char *data = xmalloc(ba->len + 1);
	if (ba->len)
		memcpy(data, ba->data, ba->len);
	data[ba->len] = '\0';
	*len = ba->len;
	g_object_unref(mem);
	return data;
}

static void leaf(imsva_builder *b, GMimeObject *obj, int depth)
{
	GMimePart *part = GMIME_PART(obj);
	int idx = imsva_builder_part_new(b, -1, depth);
	if (idx < 0)
		return;
	imsva_part *p = &b->m->parts[idx];
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	p->content_type = dup_or_empty(mt);
	str_lower(p->content_type);
	g_free(mt);
	const char *fname = g_mime_part_get_filename(part);
	p->filename = fname ? xstrdup(fname) : NULL;
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	int disp_attachment = cd && g_mime_content_disposition_is_attachment(cd);
	int is_text = !strcmp(p->content_type, "text/plain");
	int is_html = !strcmp(p->content_type, "text/html");
	p->is_body = (is_text || is_html) && !fname && !disp_attachment;
	p->is_attachment = !p->is_body;

	size_t len;
	unsigned char *data = decode_content(part, &len);
	imsva_builder_part_set_content(b, idx, data, len, p->is_body ? p->content_type : NULL);
	p = &b->m->parts[idx];

	if ((is_text || is_html) && GMIME_IS_TEXT_PART(obj)) {
		char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
		size_t tlen = text ? strlen(text) : 0;
		if (is_html) {
			imsva_urls_from_html(b, text ? text : "", tlen, p->is_body);
		} else if (text) {
			imsva_urls_from_text(b, text, tlen);
			if (p->is_body) {
				sbuf_append(&b->body, text, tlen);
				sbuf_puts(&b->body, "\n");
			}
		}
		g_free(text);
	} else if (p->data && p->size <= MAX_UNDECLARED_TEXT) {
		/* an HTML or text file sent as application/octet-stream still
		 * carries URLs (e.g. the seed's URL test file as an attachment) */
		if (!strcmp(p->tft_type, "html"))
			imsva_urls_from_html(b, (const char *)p->data, p->size, 0);
		else if (!strcmp(p->tft_type, "txt"))
			imsva_urls_from_text(b, (const char *)p->data, p->size);
	}
	if (b->m->parts[idx].tft_class == IMSVA_TFT_COMPRESSED)
		imsva_archive_expand(b, idx);
}

static void walk(imsva_builder *b, GMimeObject *obj, int depth)
{
	if (!obj || depth > 64) {
		b->m->truncated = 1;
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			walk(b, g_mime_multipart_get_part(mp, i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner)
			walk(b, g_mime_message_get_mime_part(inner), depth + 1);
	} else if (GMIME_IS_PART(obj)) {
		leaf(b, obj, depth);
	}
}

GMimeMessage *imsva_gmime_parse(const char *raw, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

static char *first_address(InternetAddressList *list)
{
	if (!list)
		return xstrdup("");
	for (int i = 0; i < internet_address_list_length(list); i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return dup_or_empty(
				internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
	}
	return xstrdup("");
}

static char *address_list_string(InternetAddressList *list)
{
	if (!list || internet_address_list_length(list) == 0)
		return xstrdup("");
	char *s = internet_address_list_to_string(list, NULL, FALSE);
	char *out = dup_or_empty(s);
	g_free(s);
	return out;
}

int imsva_msg_parse(const char *raw, size_t len, imsva_msg **out, ctd_err *err)
{
	if (imsva_engine_init(err) < 0)
		return -1;
	imsva_msg *m = xcalloc(1, sizeof *m);
	imsva_builder b = {.m = m};
	m->raw_size = len;
	GMimeMessage *msg = imsva_gmime_parse(raw, len);
	if (!msg) {
		m->malformed = 1;
		m->subject = xstrdup("");
		m->from = xstrdup("");
		m->to = xstrdup("");
		m->message_id = xstrdup("");
		imsva_urls_from_text(&b, raw, len);
		sbuf_append(&b.body, raw, len);
	} else {
		m->subject = dup_or_empty(g_mime_message_get_subject(msg));
		m->from = first_address(g_mime_message_get_from(msg));
		m->to = address_list_string(g_mime_message_get_to(msg));
		m->message_id = dup_or_empty(g_mime_message_get_message_id(msg));
		GMimeObject *top = g_mime_message_get_mime_part(msg);
		if (!top)
			m->malformed = 1;
		else
			walk(&b, top, 0);
		g_object_unref(msg);
	}
	m->body_text = b.body.data ? sbuf_detach(&b.body) : xstrdup("");
	*out = m;
	return 0;
}

static void part_clear(imsva_part *p)
{
	free(p->filename);
	free(p->content_type);
	free(p->magic_mime);
	free(p->data);
	free(p->virus_name);
	free(p->atse_name);
}

void imsva_msg_free(imsva_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nparts; i++)
		part_clear(&m->parts[i]);
	free(m->parts);
	for (size_t i = 0; i < m->nurls; i++)
		free(m->urls[i]);
	free(m->urls);
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->message_id);
	free(m->body_text);
	free(m);
}

size_t imsva_msg_attachment_count(const imsva_msg *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nparts; i++)
		n += m->parts[i].is_attachment;
	return n;
}
