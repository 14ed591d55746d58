/* imsva_mime_int.h - what the imsva_mime*.c files and imsva_filetype.c
 * share while they build one message's part and URL lists: the builder,
 * the parser limits, and each file's entry point into the others. */
#ifndef IMSVA_MIME_INT_H
#define IMSVA_MIME_INT_H

#include <gmime/gmime.h>
#include "imsva_engine.h"
#include "util.h"

/* Parser limits: hostile input is cut short (msg->truncated), never fatal. */
#define MAX_PARTS 1000
#define MAX_URLS 1000
#define MAX_URL_LEN 2048
#define MAX_ARCHIVE_DEPTH 3
#define MAX_MEMBER_SIZE (16u << 20)
#define MAX_EXPANDED_TOTAL (64u << 20)
#define MAX_UNDECLARED_TEXT (1u << 20)

typedef struct imsva_builder {
	imsva_msg *m;
	size_t cap;
	sbuf body;
	size_t urlcap;
	size_t expanded; /* bytes extracted from archives so far */
} imsva_builder;

/* imsva_mime.c: append an empty part; returns its index or -1 at the limit. */
int imsva_builder_part_new(imsva_builder *b, int parent, int depth);
/* imsva_mime.c: content, digests and true file type of part idx (takes data);
 * a message body's type is its declared one (body_type), anything else's
 * comes from its content (body_type NULL). */
void imsva_builder_part_set_content(imsva_builder *b, int idx, unsigned char *data, size_t len,
				    const char *body_type);
/* imsva_mime.c: GMime's message of raw bytes (NULL when unparsable). */
GMimeMessage *imsva_gmime_parse(const char *raw, size_t len);

/* imsva_mime_urls.c: http(s)://, ftp:// and www. URLs in free text. */
void imsva_urls_from_text(imsva_builder *b, const char *text, size_t len);
/* imsva_mime_urls.c: HTML's URLs from link attributes and its text; the
 * text also goes into the body text when `body`. */
void imsva_urls_from_html(imsva_builder *b, const char *html, size_t len, int body);

/* imsva_mime_archive.c: archive part idx's members as child parts. */
void imsva_archive_expand(imsva_builder *b, int idx);

/* imsva_filetype.c: imsva_true_file_type with libmagic's MIME type into mime. */
void imsva_true_file_type_mime(const void *data, size_t len, const char *filename, char *mime,
			       size_t mimelen, imsva_tft_class *cls, const char **id,
			       const char **label);
/* imsva_filetype.c: the type of a message body (text/plain or text/html), from
 * its declared content type: a body is not a file, and libmagic's text
 * checks cost most of a message's processing (docs/imsva.md). */
void imsva_body_file_type(const char *content_type, char *mime, size_t mimelen,
			  imsva_tft_class *cls, const char **id, const char **label);

#endif
