/* ddan_report.c - the documents DDAN answers with: the brief report, the
 * REPORTS XML of get_report (shape of reference §3.2), the event log, an
 * OpenIOC document, a synthetic sandbox screenshot and pcap, and the tgz/zip
 * (optionally password "virus") packaging of get_sample / get_pcap. */
#include "ddan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <archive.h>
#include <archive_entry.h>
#include <libxml/tree.h>
#include <pcap/pcap.h>

#include "dtas.h"

/* The sandbox images the lab pretends to run (id as DDAN shows them). */
static const struct {
	const char *id, *name;
} images[] = {
	{"C7A1B2D3E4F50617", "Windows 10 x64 (ctdlab)"},
	{"638AAC3DB25A69BF", "Windows 7 x86 (ctdlab)"},
};

#define OVERALL_ERROR_RISK (-19)

static const unsigned char screenshot_png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x40,
	0x08, 0x02, 0x00, 0x00, 0x00, 0x6a, 0x56, 0xe5, 0x59, 0x00, 0x00, 0x00,
	0x7f, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0xed, 0xdb, 0x31, 0x0d, 0x00,
	0x20, 0x10, 0x04, 0xc1, 0x97, 0x83, 0x26, 0x5a, 0x8c, 0x61, 0x01, 0x5d,
	0x98, 0xa0, 0xa7, 0x80, 0x84, 0x86, 0xe4, 0x33, 0x97, 0x55, 0x30, 0xfd,
	0x45, 0xb4, 0xa1, 0x53, 0x08, 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20,
	0x40, 0x80, 0xf4, 0x0c, 0x54, 0x6a, 0x4f, 0x19, 0x20, 0x40, 0x80, 0x00,
	0x01, 0x02, 0x04, 0x08, 0xd0, 0xad, 0x99, 0x74, 0x80, 0x00, 0x01, 0x02,
	0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x00, 0x01, 0x02, 0x04, 0x08, 0x10,
	0x20, 0x40, 0x80, 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80,
	0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x00, 0x01, 0x02,
	0x04, 0x08, 0x10, 0xa0, 0xbf, 0x40, 0xce, 0x2c, 0x02, 0x04, 0x08, 0x10,
	0x20, 0x40, 0x80, 0x00, 0x01, 0xd2, 0xd6, 0x02, 0x1b, 0xc1, 0xf9, 0x97,
	0x97, 0x7c, 0x87, 0xa7, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
	0xae, 0x42, 0x60, 0x82,
};

const unsigned char *ddan_screenshot_png(size_t *len)
{
	*len = sizeof screenshot_png;
	return screenshot_png;
}

/* ---- helpers -------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void add_int(xmlNode *parent, const char *name, long long v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", v);
	xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST buf);
}

static void add_str(xmlNode *parent, const char *name, const char *v)
{
	xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST(v ? v : ""));
}

/* "2016-07-29 08:35:08" in UTC, as the appliance writes it. */
static void add_time(xmlNode *parent, const char *name, long long ms)
{
	char buf[32] = "";
	if (ms > 0) {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
	}
	add_str(parent, name, buf);
}

static char *doc_dump(xmlDoc *doc, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &n, "UTF-8", 1);
	char *out = xstrndup((const char *)mem, (size_t)n);
	xmlFree(mem);
	xmlFreeDoc(doc);
	*len = (size_t)n;
	return out;
}

static xmlNode *new_doc(const char *root_name, xmlDoc **doc)
{
	dtas_xml_init();
	*doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root = xmlNewNode(NULL, BAD_CAST root_name);
	xmlDocSetRootElement(*doc, root);
	return root;
}

/* ---- brief report ------------------------------------------------------ */

void ddan_brief_xml_begin(sbuf *out)
{
	sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REPORT version=\"1.2\">\n");
}

void ddan_brief_xml_add(sbuf *out, const char *sha1, int status, int risk)
{
	/* sha1 is validated hex: nothing to escape */
	sbuf_printf(out,
		    "  <BRIEF_REPORT><SHA1>%s</SHA1><STATUS>%d</STATUS><RiskLevel>%d</RiskLevel>"
		    "</BRIEF_REPORT>\n",
		    sha1, status, status == DDAN_DONE ? risk : -1);
}

void ddan_brief_xml_end(sbuf *out)
{
	sbuf_puts(out, "</REPORT>\n");
}

/* ---- full report ------------------------------------------------------- */

static void add_violations(xmlNode *rep, json_t *obj, json_t *events)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(obj, "rules"), i, r)
	{
		xmlNode *v = xmlNewChild(rep, NULL, BAD_CAST "AnalysisViolation", NULL);
		add_str(v, "violatedPolicyName", json_string_value(r));
		size_t j;
		json_t *ev;
		json_array_foreach(events, j, ev)
		{
			const char *d = jstr(ev, "details");
			if (strncmp(d, json_string_value(r), strlen(json_string_value(r))) != 0)
				continue;
			xmlNode *e = xmlNewChild(v, NULL, BAD_CAST "AnalysisViolatedEvent", NULL);
			add_str(e, "Event", jstr(ev, "event"));
			add_str(e, "Details", d);
		}
	}
}

/* VirusName always carries an attribute (detected, ours), so attribute-aware
 * converters (XSOAR's xml2json) give an object with "#text" only when there is
 * a detection, never a bare null; attribute-less ones (xmltodict with
 * xml_attribs=False, Siemplify) still get the name or null. */
static void add_virus_name(xmlNode *rep, const char *name)
{
	xmlNode *v = xmlNewTextChild(rep, NULL, BAD_CAST "VirusName", BAD_CAST name);
	xmlNewProp(v, BAD_CAST "detected", BAD_CAST(*name ? "1" : "0"));
}

static void add_file_report(xmlNode *root, const char *image, json_t *sample, json_t *obj,
			    json_t *res, int overall)
{
	xmlNode *rep = xmlNewChild(root, NULL, BAD_CAST "FILE_ANALYZE_REPORT", NULL);
	xmlNewProp(rep, BAD_CAST "image_type", BAD_CAST image);
	int is_child = json_object_get(obj, "parent_sha1") != NULL;
	int is_url = !strcmp(jstr(obj, "true_type"), "URL");
	if (is_child)
		add_str(rep, "ParentSHA1", jstr(obj, "parent_sha1"));
	add_str(rep, "FileSHA1", jstr(obj, "sha1"));
	add_str(rep, "TrueFileType", jstr(obj, "true_type"));
	add_int(rep, "FileSize", jint(obj, "size"));
	add_str(rep, "OrigFileName", jstr(obj, "name"));
	add_int(rep, "OverallROZRating", overall);
	add_str(rep, "FileMD5", jstr(obj, "md5"));
	add_str(rep, "FileSHA256", jstr(obj, "sha256"));
	json_t *u0 = json_array_get(json_object_get(res, "urls"), 0);
	add_str(rep, "MalwareSourceIP", is_url && ddan_host_is_ip(jstr(u0, "host")) ? jstr(u0, "host") : "");
	add_str(rep, "MalwareSourceHost", is_url ? jstr(u0, "host") : "");
	add_int(rep, "ROZRating", jint(obj, "risk"));
	add_int(rep, "GRIDIsKnownGood", -1);
	add_time(rep, "AnalyzeTime", jint(sample, "completed_ms"));
	add_int(rep, "VirusDetected", *jstr(obj, "virus_name") ? 1 : 0);
	add_str(rep, "EngineVersion", "12.000.1008");
	add_str(rep, "PatternVersion", "19.000.00");
	add_virus_name(rep, jstr(obj, "virus_name"));
	add_int(rep, "PcapReady", 1);
	add_str(rep, "ParentChildRelationship", is_child ? jstr(obj, "relationship") : "");
	add_int(rep, "CensusPrevalence", -1);
	add_str(rep, "SandcastleClientVersion", "7.0.1000");
	add_time(rep, "AnalyzeStartTime", jint(sample, "started_ms"));
	add_str(rep, "SampleFilePassword", is_child ? "" : jstr(sample, "archive_password"));
	add_int(rep, "DuplicateSHA1", 0);
	add_int(rep, "IsWhitelisted", 0);
	add_int(rep, "IsDenylisted", jint(obj, "risk") == 3 ? 1 : 0);
	xmlNode *dropped = xmlNewChild(rep, NULL, BAD_CAST "DroppedFiles", NULL);
	xmlNewProp(dropped, BAD_CAST "Total", BAD_CAST "0");
	add_violations(rep, obj, json_object_get(res, "events"));
}

char *ddan_report_xml(json_t *sample, int report_type, size_t *len)
{
	xmlDoc *doc;
	xmlNode *root = new_doc("REPORTS", &doc);
	xmlNewProp(root, BAD_CAST "version", BAD_CAST "1.1");
	json_t *res = json_object_get(sample, "result");
	int status = (int)jint(sample, "status");
	int overall = status == DDAN_DONE ? (int)jint(sample, "risk") : OVERALL_ERROR_RISK;
	size_t nimg = report_type == 1 ? 2 : 1;
	xmlNode *it = xmlNewChild(root, NULL, BAD_CAST "IMAGE_TYPE", NULL);
	for (size_t i = 0; i < nimg; i++) {
		xmlNode *t = xmlNewTextChild(it, NULL, BAD_CAST "TYPE", BAD_CAST images[i].name);
		xmlNewProp(t, BAD_CAST "id", BAD_CAST images[i].id);
	}
	for (size_t i = 0; i < nimg; i++) {
		size_t j;
		json_t *obj;
		json_array_foreach(json_object_get(res, "objects"), j, obj)
			add_file_report(root, images[i].id, sample, obj, res, overall);
	}
	add_int(root, "OVERALL_RISK_LEVEL", overall);
	return doc_dump(doc, len);
}

char *ddan_event_log_xml(json_t *sample, size_t *len)
{
	xmlDoc *doc;
	xmlNode *root = new_doc("Return", &doc);
	add_str(root, "SHA1", jstr(sample, "sha1"));
	json_t *events = json_object_get(json_object_get(sample, "result"), "events");
	/* an empty <EventLogs/> breaks xmltodict-based clients: leave it out */
	if (json_array_size(events)) {
		xmlNode *logs = xmlNewChild(root, NULL, BAD_CAST "EventLogs", NULL);
		size_t i;
		json_t *ev;
		json_array_foreach(events, i, ev)
		{
			xmlNode *e = xmlNewChild(logs, NULL, BAD_CAST "EventLog", NULL);
			add_int(e, "ID", (long long)i + 1);
			add_time(e, "Time", jint(sample, i == 0 ? "started_ms" : "completed_ms"));
			add_str(e, "Event", jstr(ev, "event"));
			add_str(e, "Details", jstr(ev, "details"));
		}
	}
	return doc_dump(doc, len);
}

char *ddan_sample_info_xml(json_t *sample, size_t *len)
{
	xmlDoc *doc;
	xmlNode *root = new_doc("Return", &doc);
	xmlNode *info = xmlNewChild(root, NULL, BAD_CAST "SAMPLE_INFO", NULL);
	int status = (int)jint(sample, "status");
	add_int(info, "SRID", jint(sample, "id"));
	add_str(info, "SHA1", jstr(sample, "sha1"));
	add_int(info, "SampleType", jint(sample, "sample_type"));
	add_str(info, "OrigFileName", jstr(sample, "orig_name"));
	add_str(info, "TrueFileType", jstr(sample, "true_type"));
	add_int(info, "FileSize", jint(sample, "size"));
	add_str(info, "SourceID", jstr(sample, "source_id"));
	add_str(info, "SourceName", jstr(sample, "source_name"));
	add_int(info, "STATUS", status);
	add_int(info, "RiskLevel", status == DDAN_DONE ? jint(sample, "risk") : -1);
	add_str(info, "VirusName", jstr(sample, "virus_name"));
	add_time(info, "SubmitTime", jint(sample, "submitted_ms"));
	add_time(info, "AnalyzeStartTime", jint(sample, "started_ms"));
	add_time(info, "AnalyzeTime", jint(sample, "completed_ms"));
	return doc_dump(doc, len);
}

static void ioc_item(xmlNode *ind, const char *document, const char *search, const char *value)
{
	char id[37];
	uuid_v4(id);
	xmlNode *it = xmlNewChild(ind, NULL, BAD_CAST "IndicatorItem", NULL);
	xmlNewProp(it, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(it, BAD_CAST "condition", BAD_CAST "is");
	xmlNode *ctx = xmlNewChild(it, NULL, BAD_CAST "Context", NULL);
	xmlNewProp(ctx, BAD_CAST "document", BAD_CAST document);
	xmlNewProp(ctx, BAD_CAST "search", BAD_CAST search);
	xmlNewProp(ctx, BAD_CAST "type", BAD_CAST "mir");
	xmlNode *c = xmlNewTextChild(it, NULL, BAD_CAST "Content", BAD_CAST value);
	xmlNewProp(c, BAD_CAST "type", BAD_CAST "string");
}

char *ddan_openioc_xml(json_t *sample, size_t *len)
{
	xmlDoc *doc;
	xmlNode *root = new_doc("ioc", &doc);
	xmlNs *ns = xmlNewNs(root, BAD_CAST "http://schemas.mandiant.com/2010/ioc", NULL);
	xmlSetNs(root, ns);
	char id[37], when[32];
	uuid_v4(id);
	time_iso8601(jint(sample, "completed_ms"), when, sizeof when);
	xmlNewProp(root, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(root, BAD_CAST "last-modified", BAD_CAST when);
	char *desc = xasprintf("Virtual Analyzer indicators of %s", jstr(sample, "sha1"));
	add_str(root, "short_description", desc);
	free(desc);
	add_str(root, "authored_by", "Deep Discovery Analyzer (ctdlab)");
	add_str(root, "authored_date", when);
	xmlNode *def = xmlNewChild(root, NULL, BAD_CAST "definition", NULL);
	xmlNode *ind = xmlNewChild(def, NULL, BAD_CAST "Indicator", NULL);
	xmlNewProp(ind, BAD_CAST "operator", BAD_CAST "OR");
	uuid_v4(id);
	xmlNewProp(ind, BAD_CAST "id", BAD_CAST id);
	json_t *res = json_object_get(sample, "result");
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(res, "objects"), i, o)
	{
		if (!strcmp(jstr(o, "true_type"), "URL"))
			continue;
		ioc_item(ind, "FileItem", "FileItem/Sha1sum", jstr(o, "sha1"));
		ioc_item(ind, "FileItem", "FileItem/Md5sum", jstr(o, "md5"));
	}
	json_array_foreach(json_object_get(res, "urls"), i, o)
	{
		ioc_item(ind, "UrlHistoryItem", "UrlHistoryItem/URL", jstr(o, "url"));
		ioc_item(ind, "Network", "Network/DNS", jstr(o, "host"));
	}
	return doc_dump(doc, len);
}

/* ---- binary artefacts ---------------------------------------------------- */

int ddan_pcap_bytes(sbuf *out, ctd_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pcap_t *p = f ? pcap_open_dead(DLT_EN10MB, 65535) : NULL;
	pcap_dumper_t *d = p ? pcap_dump_fopen(p, f) : NULL;
	if (!d) {
		if (p)
			pcap_close(p);
		if (f)
			fclose(f);
		free(buf);
		return ctd_fail(err, CTD_EINTERNAL, "cannot write the capture file");
	}
	pcap_dump_close(d); /* closes f */
	pcap_close(p);
	sbuf_append(out, buf, len);
	free(buf);
	return 0;
}

static la_ssize_t sbuf_writer(struct archive *a, void *cls, const void *buf, size_t n)
{
	(void)a;
	sbuf_append(cls, buf, n);
	return (la_ssize_t)n;
}

int ddan_pack(const char *format, const char *password, const char *member, const void *data,
	      size_t len, sbuf *out, ctd_err *err)
{
	int zip = !strcmp(format, "zip");
	if (!zip && strcmp(format, "tgz"))
		return ctd_fail(err, CTD_EINVAL, "X-DTAS-ArchiveType must be zip or tgz, not \"%.20s\"",
				format);
	if (password && !zip)
		return ctd_fail(err, CTD_EINVAL, "an encrypted archive needs X-DTAS-ArchiveType: zip");
	struct archive *a = archive_write_new();
	int ok = zip ? archive_write_set_format_zip(a) == ARCHIVE_OK
		     : archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
			       archive_write_set_format_ustar(a) == ARCHIVE_OK;
	if (ok && password)
		ok = archive_write_set_options(a, "zip:encryption=zipcrypt") == ARCHIVE_OK &&
		     archive_write_set_passphrase(a, password) == ARCHIVE_OK;
	ok = ok && archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
	     archive_write_open(a, out, NULL, sbuf_writer, NULL) == ARCHIVE_OK;
	if (ok) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, member);
		archive_entry_set_size(e, (la_int64_t)len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, time(NULL), 0);
		ok = archive_write_header(a, e) == ARCHIVE_OK &&
		     (len == 0 || archive_write_data(a, data, len) == (la_ssize_t)len);
		archive_entry_free(e);
		ok = ok && archive_write_close(a) == ARCHIVE_OK;
	}
	if (!ok)
		ctd_fail(err, CTD_EINTERNAL, "packing %s: %s", format,
			 archive_error_string(a) ? archive_error_string(a) : "libarchive failed");
	archive_write_free(a);
	return ok ? 0 : -1;
}
