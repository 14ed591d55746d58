/* imsva_filetype.c - IMSVA's true file types: the MIME type of a buffer
 * from the common file-type owner (libmagic; zip containers looked into for
 * OOXML and JAR), mapped to IMSVA's classes, type ids and labels; scripts
 * named by extension. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "filetype.h"
#include "imsva_mime_int.h"

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

/* Add {id, label} to types unless a type of that id is there already. */
static void tree_add(json_t *types, const char *id, const char *label)
{
	size_t i;
	json_t *t;
	json_array_foreach(types, i, t)
	{
		if (!strcmp(json_string_value(json_object_get(t, "id")), id))
			return;
	}
	json_array_append_new(types, json_pack("{s:s,s:s}", "id", id, "label", label));
}

json_t *imsva_tft_tree_json(void)
{
	json_t *classes = json_array();
	for (size_t c = 0; c < IMSVA_TFT_COUNT; c++) {
		json_t *types = json_array();
		for (size_t i = 0; i < sizeof tft_table / sizeof tft_table[0]; i++)
			if (tft_table[i].cls == c)
				tree_add(types, tft_table[i].id, tft_table[i].label);
		for (size_t i = 0; c == IMSVA_TFT_SCRIPT && i < sizeof script_exts / sizeof script_exts[0];
		     i++)
			tree_add(types, script_exts[i].id, script_exts[i].label);
		json_array_append_new(classes, json_pack("{s:s,s:s,s:o}", "id", class_names[c], "label",
							 class_labels[c], "types", types));
	}
	return classes;
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

/* libmagic looks at no more than this much of a file: its text checks cost
 * about 4 000 instructions per byte, so a megabyte of text would take a
 * second; the signatures of the types IMSVA names all sit near the start. */
#define MAGIC_PREFIX (64u << 10)

/* libmagic's MIME type for the buffer, lower case, into out; a buffer it
 * cannot type is application/octet-stream. */
static void magic_mime(const void *data, size_t len, char *out, size_t outlen)
{
	ctd_err err = {0};
	if (filetype_of(data, len < MAGIC_PREFIX ? len : MAGIC_PREFIX, FILETYPE_MIME, out, outlen,
			&err) < 0)
		snprintf(out, outlen, "application/octet-stream");
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

void imsva_true_file_type_mime(const void *data, size_t len, const char *filename, char *mime,
			       size_t mimelen, imsva_tft_class *cls, const char **id,
			       const char **label)
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

void imsva_body_file_type(const char *content_type, char *mime, size_t mimelen,
			  imsva_tft_class *cls, const char **id, const char **label)
{
	snprintf(mime, mimelen, "%s", content_type);
	*cls = IMSVA_TFT_COUNT;
	*id = *label = NULL;
	classify_mime(mime, NULL, cls, id, label);
}

void imsva_true_file_type(const void *data, size_t len, const char *filename,
			  imsva_tft_class *cls, const char **type_id, const char **label)
{
	char mime[128];
	imsva_true_file_type_mime(data, len, filename, mime, sizeof mime, cls, type_id, label);
}
