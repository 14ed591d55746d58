/* imsva_mime_archive.c - archive members as parts of the message: libarchive
 * lists and extracts them (nested up to MAX_ARCHIVE_DEPTH, within the
 * message's expansion budget); encrypted or unreadable members are marked
 * unscannable. */
#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include "imsva_mime_int.h"

static int single_stream_compressor(const char *type_id)
{
	return !strcmp(type_id, "gzip") || !strcmp(type_id, "bzip2") || !strcmp(type_id, "xz");
}

/* Read the current entry's data, at most MAX_MEMBER_SIZE and the message's
 * expansion budget. Returns NULL on a read error. */
static unsigned char *read_entry(imsva_builder *b, struct archive *a, size_t *len)
{
	sbuf data = {0};
	char chunk[65536];
	la_ssize_t n;
	while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
		if (data.len + (size_t)n > MAX_MEMBER_SIZE ||
		    b->expanded + data.len + (size_t)n > MAX_EXPANDED_TOTAL) {
			b->m->truncated = 1;
			break;
		}
		sbuf_append(&data, chunk, (size_t)n);
	}
	if (n < 0) {
		sbuf_free(&data);
		return NULL;
	}
	b->expanded += data.len;
	*len = data.len;
	if (!data.data)
		return xcalloc(1, 1);
	return (unsigned char *)sbuf_detach(&data);
}

static char *raw_member_name(const char *outer)
{
	if (!outer)
		return xstrdup("data");
	char *name = xstrdup(outer);
	char *dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	return name;
}

void imsva_archive_expand(imsva_builder *b, int idx)
{
	imsva_part *arc = &b->m->parts[idx];
	if (arc->depth >= MAX_ARCHIVE_DEPTH || !arc->data || arc->size == 0)
		return;
	int raw = single_stream_compressor(arc->tft_type);
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	if (raw) {
		/* a compressed stream: a tarball or a single file ("raw"); the
		 * other formats' bidders (mtree) would misread plain text */
		archive_read_support_format_tar(a);
		archive_read_support_format_cpio(a);
		archive_read_support_format_raw(a);
	} else {
		archive_read_support_format_all(a);
	}
	if (archive_read_open_memory(a, arc->data, arc->size) != ARCHIVE_OK) {
		archive_read_free(a);
		return;
	}
	struct archive_entry *e;
	int depth = arc->depth + 1;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		int child = imsva_builder_part_new(b, idx, depth);
		if (child < 0)
			break;
		imsva_part *p = &b->m->parts[child];
		const char *path = archive_entry_pathname_utf8(e);
		if (!path)
			path = archive_entry_pathname(e);
		p->filename = raw && (!path || !strcmp(path, "data"))
				      ? raw_member_name(b->m->parts[idx].filename)
				      : xstrdup(path ? path : "");
		p->content_type = xstrdup("");
		p->is_attachment = 1;
		if (archive_entry_is_encrypted(e)) {
			p->encrypted = 1;
			imsva_builder_part_set_content(b, child, NULL, 0, NULL);
			continue;
		}
		size_t len = 0;
		unsigned char *data = read_entry(b, a, &len);
		if (!data) {
			p->encrypted = 1; /* unreadable: treat like encrypted (unscannable) */
			imsva_builder_part_set_content(b, child, NULL, 0, NULL);
			break;
		}
		imsva_builder_part_set_content(b, child, data, len, NULL);
		if (b->m->parts[child].tft_class == IMSVA_TFT_COMPRESSED)
			imsva_archive_expand(b, child);
	}
	archive_read_free(a);
}
