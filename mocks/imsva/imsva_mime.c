/* imsva_mime.c - IMSVA's view of a message: GMime walks the MIME tree
 * (nested multiparts, message/rfc822, base64/QP, RFC 2047/2231 names),
 * libmagic gives every part its true file type, libarchive lists and
 * extracts archive members, libxml2's HTML parser and a small text scanner
 * collect URLs. Also applies a verdict's modify actions (imsva_msg_rewrite). */
#include <ctype.h>
#include <magic.h>
#include <pthread.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include "hash.h"
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

/* ------------------------------------------------------------------------
 * Library state
 * ------------------------------------------------------------------------ */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_cookie;

int imsva_engine_init(ctd_err *err)
{
	int ok = 1;
	pthread_mutex_lock(&init_lock);
	if (!magic_cookie) {
		magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
		if (m && magic_load(m, NULL) == 0) {
			g_mime_init();
			xmlInitParser(); /* before threads race into htmlReadMemory */
			magic_cookie = m;
		} else {
			if (m)
				magic_close(m);
			ok = 0;
		}
	}
	pthread_mutex_unlock(&init_lock);
	if (!ok)
		return ctd_fail(err, CTD_EINTERNAL, "libmagic: cannot load the magic database");
	return 0;
}

void imsva_engine_shutdown(void)
{
	pthread_mutex_lock(&init_lock);
	if (magic_cookie) {
		magic_close(magic_cookie);
		magic_cookie = NULL;
		g_mime_shutdown();
	}
	pthread_mutex_unlock(&init_lock);
}

/* ------------------------------------------------------------------------
 * True file types
 * ------------------------------------------------------------------------ */
typedef struct tft_entry {
	const char *mime;      /* libmagic MIME type */
	imsva_tft_class cls;
	const char *id;
	const char *label;
} tft_entry;

static const tft_entry tft_table[] = {
	{"application/x-dosexec", IMSVA_TFT_EXECUTABLE, "exe", "Windows executable (EXE/DLL)"},
	{"application/vnd.microsoft.portable-executable", IMSVA_TFT_EXECUTABLE, "exe",
	 "Windows executable (EXE/DLL)"},
	{"application/x-msdownload", IMSVA_TFT_EXECUTABLE, "exe", "Windows executable (EXE/DLL)"},
	{"application/x-executable", IMSVA_TFT_EXECUTABLE, "elf", "ELF executable"},
	{"application/x-pie-executable", IMSVA_TFT_EXECUTABLE, "elf", "ELF executable"},
	{"application/x-sharedlib", IMSVA_TFT_EXECUTABLE, "elf", "ELF executable"},
	{"application/x-mach-binary", IMSVA_TFT_EXECUTABLE, "macho", "Mach-O executable"},
	{"application/x-msi", IMSVA_TFT_EXECUTABLE, "msi", "Microsoft Installer (MSI)"},
	{"application/vnd.ms-msi", IMSVA_TFT_EXECUTABLE, "msi", "Microsoft Installer (MSI)"},
	{"application/java-archive", IMSVA_TFT_EXECUTABLE, "jar", "Java archive (JAR)"},
	{"application/x-java-applet", IMSVA_TFT_EXECUTABLE, "java", "Java class"},
	{"application/msword", IMSVA_TFT_DOCUMENT, "doc", "Microsoft Word"},
	{"application/vnd.ms-excel", IMSVA_TFT_DOCUMENT, "xls", "Microsoft Excel"},
	{"application/vnd.ms-powerpoint", IMSVA_TFT_DOCUMENT, "ppt", "Microsoft PowerPoint"},
	{"application/x-ole-storage", IMSVA_TFT_DOCUMENT, "ole", "Microsoft Office (OLE)"},
	{"application/cdfv2", IMSVA_TFT_DOCUMENT, "ole", "Microsoft Office (OLE)"},
	{"application/vnd.ms-office", IMSVA_TFT_DOCUMENT, "ole", "Microsoft Office (OLE)"},
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	 IMSVA_TFT_DOCUMENT, "docx", "Microsoft Word 2007+ (DOCX)"},
	{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", IMSVA_TFT_DOCUMENT,
	 "xlsx", "Microsoft Excel 2007+ (XLSX)"},
	{"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	 IMSVA_TFT_DOCUMENT, "pptx", "Microsoft PowerPoint 2007+ (PPTX)"},
	{"application/pdf", IMSVA_TFT_DOCUMENT, "pdf", "Adobe Portable Document Format (PDF)"},
	{"text/rtf", IMSVA_TFT_DOCUMENT, "rtf", "Rich Text Format (RTF)"},
	{"application/rtf", IMSVA_TFT_DOCUMENT, "rtf", "Rich Text Format (RTF)"},
	{"application/zip", IMSVA_TFT_COMPRESSED, "zip", "ZIP"},
	{"application/x-zip-compressed", IMSVA_TFT_COMPRESSED, "zip", "ZIP"},
	{"application/gzip", IMSVA_TFT_COMPRESSED, "gzip", "GNU Zip (GZIP)"},
	{"application/x-gzip", IMSVA_TFT_COMPRESSED, "gzip", "GNU Zip (GZIP)"},
	{"application/x-rar", IMSVA_TFT_COMPRESSED, "rar", "RAR"},
	{"application/vnd.rar", IMSVA_TFT_COMPRESSED, "rar", "RAR"},
	{"application/x-7z-compressed", IMSVA_TFT_COMPRESSED, "7z", "7-Zip"},
	{"application/x-bzip2", IMSVA_TFT_COMPRESSED, "bzip2", "BZIP2"},
	{"application/x-xz", IMSVA_TFT_COMPRESSED, "xz", "XZ"},
	{"application/x-tar", IMSVA_TFT_COMPRESSED, "tar", "TAR"},
	{"application/vnd.ms-cab-compressed", IMSVA_TFT_COMPRESSED, "cab", "Microsoft Cabinet (CAB)"},
	{"application/x-lha", IMSVA_TFT_COMPRESSED, "lha", "LHA"},
	{"application/x-lharc", IMSVA_TFT_COMPRESSED, "lha", "LHA"},
	{"text/x-shellscript", IMSVA_TFT_SCRIPT, "sh", "Shell script"},
	{"text/x-msdos-batch", IMSVA_TFT_SCRIPT, "bat", "Batch file"},
	{"application/javascript", IMSVA_TFT_SCRIPT, "js", "JavaScript"},
	{"text/javascript", IMSVA_TFT_SCRIPT, "js", "JavaScript"},
	{"text/x-python", IMSVA_TFT_SCRIPT, "py", "Python script"},
	{"text/x-script.python", IMSVA_TFT_SCRIPT, "py", "Python script"},
	{"text/x-perl", IMSVA_TFT_SCRIPT, "pl", "Perl script"},
	{"text/x-php", IMSVA_TFT_SCRIPT, "php", "PHP script"},
	{"image/jpeg", IMSVA_TFT_IMAGE, "jpeg", "JPEG"},
	{"image/png", IMSVA_TFT_IMAGE, "png", "PNG"},
	{"image/gif", IMSVA_TFT_IMAGE, "gif", "GIF"},
	{"image/bmp", IMSVA_TFT_IMAGE, "bmp", "Windows bitmap (BMP)"},
	{"image/x-ms-bmp", IMSVA_TFT_IMAGE, "bmp", "Windows bitmap (BMP)"},
	{"image/tiff", IMSVA_TFT_IMAGE, "tiff", "TIFF"},
	{"video/mp4", IMSVA_TFT_MEDIA, "quicktime", "Quick Time Media"},
	{"video/quicktime", IMSVA_TFT_MEDIA, "quicktime", "Quick Time Media"},
	{"video/mpeg", IMSVA_TFT_MEDIA, "mpeg", "MPEG video"},
	{"audio/mpeg", IMSVA_TFT_MEDIA, "mp3", "MPEG audio (MP3)"},
	{"audio/x-wav", IMSVA_TFT_MEDIA, "wav", "Wave audio (WAV)"},
	{"video/x-msvideo", IMSVA_TFT_MEDIA, "avi", "AVI video"},
	{"video/x-ms-asf", IMSVA_TFT_MEDIA, "wmv", "Windows Media (ASF/WMV)"},
	{"text/plain", IMSVA_TFT_TEXT, "txt", "Plain text"},
	{"text/html", IMSVA_TFT_TEXT, "html", "HTML"},
	{"text/xml", IMSVA_TFT_TEXT, "xml", "XML"},
	{"application/xml", IMSVA_TFT_TEXT, "xml", "XML"},
	{"text/csv", IMSVA_TFT_TEXT, "csv", "CSV"},
	{"inode/x-empty", IMSVA_TFT_OTHER, "empty", "Empty file"},
};

/* Scripts are text to libmagic unless they carry a #! line; IMSVA names
 * them by extension, so do we (only for text content). */
static const struct {
	const char *ext, *id, *label;
} script_exts[] = {
	{"js", "js", "JavaScript"},      {"jse", "js", "JavaScript"},
	{"vbs", "vbs", "VBScript"},      {"vbe", "vbs", "VBScript"},
	{"ps1", "ps1", "PowerShell script"}, {"bat", "bat", "Batch file"},
	{"cmd", "bat", "Batch file"},    {"hta", "hta", "HTML application (HTA)"},
	{"wsf", "wsf", "Windows Script File"}, {"sh", "sh", "Shell script"},
	{"py", "py", "Python script"},   {"pl", "pl", "Perl script"},
};

/* Generic labels, used as type ids for types without a specific entry. */
static const char *const class_names[IMSVA_TFT_COUNT] = {
	"executable", "document", "compressed", "script", "image", "media", "text", "other",
};
static const char *const class_labels[IMSVA_TFT_COUNT] = {
	"Executable", "Document", "Compressed file", "Script", "Image", "Media", "Text",
	"Other",
};

const char *imsva_tft_class_name(imsva_tft_class c)
{
	return c < IMSVA_TFT_COUNT ? class_names[c] : "other";
}

int imsva_tft_id_valid(const char *id)
{
	for (size_t i = 0; i < IMSVA_TFT_COUNT; i++)
		if (!strcmp(id, class_names[i]))
			return 0;
	for (size_t i = 0; i < sizeof tft_table / sizeof tft_table[0]; i++)
		if (!strcmp(id, tft_table[i].id))
			return 0;
	for (size_t i = 0; i < sizeof script_exts / sizeof script_exts[0]; i++)
		if (!strcmp(id, script_exts[i].id))
			return 0;
	return -1;
}

static const char *file_ext(const char *filename)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;
	return dot && !strchr(dot, '/') ? dot + 1 : NULL;
}

/* The first libmagic MIME type for the buffer, lower case, into out. */
static void magic_mime(const void *data, size_t len, char *out, size_t outlen)
{
	const char *m = NULL;
	pthread_mutex_lock(&magic_lock);
	if (magic_cookie)
		m = magic_buffer(magic_cookie, data, len);
	snprintf(out, outlen, "%s", m ? m : "application/octet-stream");
	pthread_mutex_unlock(&magic_lock);
	str_lower(out);
}

/* OOXML and JAR are zip files; libmagic does not always see past the first
 * entry, but member names are stored in clear in the zip directory. */
static const char *zip_container_mime(const void *data, size_t len)
{
	if (memmem(data, len, "word/document", 13))
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
	if (memmem(data, len, "xl/workbook", 11))
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	if (memmem(data, len, "ppt/presentation", 16))
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
	if (memmem(data, len, "META-INF/MANIFEST.MF", 20))
		return "application/java-archive";
	return NULL;
}

static void classify_mime(const char *mime, const char *filename, imsva_tft_class *cls,
			  const char **id, const char **label)
{
	for (size_t i = 0; i < sizeof tft_table / sizeof tft_table[0]; i++) {
		if (!strcmp(mime, tft_table[i].mime)) {
			*cls = tft_table[i].cls;
			*id = tft_table[i].id;
			*label = tft_table[i].label;
			break;
		}
	}
	if (*cls == IMSVA_TFT_COUNT) {
		if (!strncmp(mime, "application/vnd.oasis.opendocument.", 35)) {
			*cls = IMSVA_TFT_DOCUMENT;
			*id = "odf";
			*label = "OpenDocument";
		} else if (!strncmp(mime, "image/", 6)) {
			*cls = IMSVA_TFT_IMAGE;
		} else if (!strncmp(mime, "audio/", 6) || !strncmp(mime, "video/", 6)) {
			*cls = IMSVA_TFT_MEDIA;
		} else if (!strncmp(mime, "text/", 5)) {
			*cls = IMSVA_TFT_TEXT;
		} else {
			*cls = IMSVA_TFT_OTHER;
		}
		if (!*id) {
			*id = class_names[*cls];
			*label = class_labels[*cls];
		}
	}
	const char *ext = file_ext(filename);
	if (*cls == IMSVA_TFT_TEXT && ext) {
		for (size_t i = 0; i < sizeof script_exts / sizeof script_exts[0]; i++) {
			if (!strcasecmp(ext, script_exts[i].ext)) {
				*cls = IMSVA_TFT_SCRIPT;
				*id = script_exts[i].id;
				*label = script_exts[i].label;
			}
		}
	}
}

static void true_file_type_mime(const void *data, size_t len, const char *filename,
				char *mime, size_t mimelen, imsva_tft_class *cls,
				const char **id, const char **label)
{
	magic_mime(data, len, mime, mimelen);
	if (!strcmp(mime, "application/zip")) {
		const char *inner = zip_container_mime(data, len);
		if (inner)
			snprintf(mime, mimelen, "%s", inner);
	}
	*cls = IMSVA_TFT_COUNT;
	*id = *label = NULL;
	classify_mime(mime, filename, cls, id, label);
}

void imsva_true_file_type(const void *data, size_t len, const char *filename,
			  imsva_tft_class *cls, const char **type_id, const char **label)
{
	char mime[128];
	true_file_type_mime(data, len, filename, mime, sizeof mime, cls, type_id, label);
}

/* ------------------------------------------------------------------------
 * Building the part list
 * ------------------------------------------------------------------------ */
typedef struct builder {
	imsva_msg *m;
	size_t cap;
	sbuf body;
	size_t urlcap;
	size_t expanded; /* bytes extracted from archives so far */
} builder;

/* Append an empty part; returns its index or -1 at the limit. */
static int part_new(builder *b, int parent, int depth)
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

/* Set content, digests and true file type of part idx (takes data). */
static void part_set_content(builder *b, int idx, unsigned char *data, size_t len)
{
	imsva_part *p = &b->m->parts[idx];
	char mime[128];
	p->data = data;
	p->size = len;
	hash_hex(HASH_MD5, data ? (const void *)data : "", len, p->md5);
	hash_hex(HASH_SHA1, data ? (const void *)data : "", len, p->sha1);
	hash_hex(HASH_SHA256, data ? (const void *)data : "", len, p->sha256);
	true_file_type_mime(data ? (const void *)data : "", len, p->filename, mime, sizeof mime,
			    &p->tft_class, &p->tft_type, &p->tft_label);
	p->magic_mime = xstrdup(mime);
}

static void url_add(builder *b, const char *s, size_t len)
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
static void urls_from_text(builder *b, const char *text, size_t len)
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

static void html_attr_url(builder *b, const char *v)
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

static void html_walk(builder *b, xmlNode *node, sbuf *text, int depth)
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
static void html_collect(builder *b, const char *html, size_t len, int body)
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
		urls_from_text(b, text.data, text.len);
		if (body) {
			sbuf_append(&b->body, text.data, text.len);
			sbuf_puts(&b->body, "\n");
		}
	}
	sbuf_free(&text);
}

/* ------------------------------------------------------------------------
 * Archives
 * ------------------------------------------------------------------------ */
static void expand_archive(builder *b, int idx);

static int single_stream_compressor(const char *type_id)
{
	return !strcmp(type_id, "gzip") || !strcmp(type_id, "bzip2") || !strcmp(type_id, "xz");
}

/* Read the current entry's data, at most MAX_MEMBER_SIZE and the message's
 * expansion budget. Returns NULL on a read error. */
static unsigned char *read_entry(builder *b, struct archive *a, size_t *len)
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

static void expand_archive(builder *b, int idx)
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
		int child = part_new(b, idx, depth);
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
			part_set_content(b, child, NULL, 0);
			continue;
		}
		size_t len = 0;
		unsigned char *data = read_entry(b, a, &len);
		if (!data) {
			p->encrypted = 1; /* unreadable: treat like encrypted (unscannable) */
			part_set_content(b, child, NULL, 0);
			break;
		}
		part_set_content(b, child, data, len);
		if (b->m->parts[child].tft_class == IMSVA_TFT_COMPRESSED)
			expand_archive(b, child);
	}
	archive_read_free(a);
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

static void leaf(builder *b, GMimeObject *obj, int depth)
{
	GMimePart *part = GMIME_PART(obj);
	int idx = part_new(b, -1, depth);
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
	part_set_content(b, idx, data, len);
	p = &b->m->parts[idx];

	if ((is_text || is_html) && GMIME_IS_TEXT_PART(obj)) {
		char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
		size_t tlen = text ? strlen(text) : 0;
		if (is_html) {
			html_collect(b, text ? text : "", tlen, p->is_body);
		} else if (text) {
			urls_from_text(b, text, tlen);
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
			html_collect(b, (const char *)p->data, p->size, 0);
		else if (!strcmp(p->tft_type, "txt"))
			urls_from_text(b, (const char *)p->data, p->size);
	}
	if (b->m->parts[idx].tft_class == IMSVA_TFT_COMPRESSED)
		expand_archive(b, idx);
}

static void walk(builder *b, GMimeObject *obj, int depth)
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

static GMimeMessage *parse_message(const char *raw, size_t len)
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
	builder b = {.m = m};
	m->raw_size = len;
	GMimeMessage *msg = parse_message(raw, len);
	if (!msg) {
		m->malformed = 1;
		m->subject = xstrdup("");
		m->from = xstrdup("");
		m->to = xstrdup("");
		m->message_id = xstrdup("");
		urls_from_text(&b, raw, len);
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

/* ------------------------------------------------------------------------
 * Rewrite (modify actions)
 * ------------------------------------------------------------------------ */
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
	GMimeMessage *msg = parse_message(raw, len);
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
