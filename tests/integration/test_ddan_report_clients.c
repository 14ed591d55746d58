/* test_ddan_report_clients.c - ddand's reports read the way the public
 * clients read them, and the remaining DTAS services:
 *  - XSOAR "TrendMicroDDA": base URL with a trailing slash (so requests go to
 *    "//web_service/..."), no order header, seconds; get_report converted with
 *    CommonServerPython's xml2json convention (attributes as "@name", text
 *    beside them as "#text", an empty bare element as null), then the lookups
 *    build_report does: VirusName as an object with "#text" only for a
 *    detection, DroppedFiles["@Total"], IMAGE_TYPE.TYPE["#text"] - for a clean
 *    file, a URL and a zip with members (a list of FILE_ANALYZE_REPORT);
 *  - Siemplify: xmltodict without attributes (VirusName the name or null);
 *  - PHP DDAN_API's get_black_list_by_sha1 (X_DTAS_SHA1), the QA client's
 *    exception lists (XML PUT body in the checksum, REPORT/ID), and the PDF
 *    report checked with poppler's pdfinfo / pdftotext.
 * The lab's own DTAS client (common/dtas.c) with that slashed base URL too.
 * The two converters are written here with libxml2, independently of ddand. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "ddan_testkit.h"
#include "dtas.h"
#include "testlib.h"
#include "tl_dtas.h"
#include "util.h"

static tk_daemon dd;

/* XSOAR's DEFAULT_HEADERS order; calls other than uploads send no order header. */
static const char *const xsoar_wire[] = {"X-DTAS-ProtocolVersion", "X-DTAS-ClientUUID",
					 "X-DTAS-Time", "X-DTAS-Challenge", "X-DTAS-ProductName",
					 "X-DTAS-ClientHostname", "X-DTAS-SourceID",
					 "X-DTAS-SourceName", NULL};
static const tk_style xsoar = {.name = "xsoar", .wire = xsoar_wire, .body_in_checksum = 1,
			       .protocol = "1.5", .uuid = "6F1E0C2A-3B4D-4E5F-8A9B-0C1D2E3F4A5B"};
/* simple_upload_sample: XSOAR lists its headers in an order header */
static const tk_style xsoar_upload = {.name = "xsoar-upload", .wire = xsoar_wire,
				      .order_header = 1, .protocol = "1.5",
				      .uuid = "6F1E0C2A-3B4D-4E5F-8A9B-0C1D2E3F4A5B"};
static const char *const php_wire[] = {"X-DTAS-ProtocolVersion", "X-DTAS-ProductName",
				       "X-DTAS-ClientHostname", "X-DTAS-ClientUUID",
				       "X-DTAS-SourceID", "X-DTAS-SourceName", "X-DTAS-Time",
				       "X-DTAS-Challenge", NULL};
static const tk_style php = {.name = "php", .wire = php_wire, .order_header = 1, .nospace = 1,
			     .body_in_checksum = 1, .protocol = "1.4", .uuid = "1234567890123456"};

/* XSOAR's view of the lab: the server parameter ends in "/". */
static tk_daemon slashed;

static void setup(void)
{
	tk_start(&dd, "ddan-clients", NULL);
	slashed = dd;
	slashed.url = xasprintf("%s/", dd.url);
}

static void teardown(void)
{
	free((char *)slashed.url);
	tk_stop(&dd);
}

/* ---- the two converters --------------------------------------------------- */

/* The element's own text (its text children), NULL when only white space. */
static char *own_text(xmlNode *n)
{
	sbuf t = {0};
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			sbuf_puts(&t, (const char *)c->content);
	size_t i = 0;
	while (t.data && i < t.len && strchr(" \t\r\n", t.data[i]))
		i++;
	if (i == t.len) {
		sbuf_free(&t);
		return NULL;
	}
	return sbuf_detach(&t);
}

/* Add value under name; a repeated name becomes an array, in order. */
static void add_member(json_t *obj, const char *name, json_t *value)
{
	json_t *had = json_object_get(obj, name);
	if (!had) {
		json_object_set_new(obj, name, value);
	} else if (json_is_array(had)) {
		json_array_append_new(had, value);
	} else {
		json_t *arr = json_pack("[O, o]", had, value);
		json_object_set_new(obj, name, arr);
	}
}

/* attrs 1: xml2json (XSOAR); attrs 0: xmltodict.parse(xml_attribs=False). */
static json_t *convert(xmlNode *n, int attrs)
{
	int children = 0;
	for (xmlNode *c = n->children; c; c = c->next)
		children |= c->type == XML_ELEMENT_NODE;
	char *text = own_text(n);
	if (!children && !(attrs && n->properties)) {
		json_t *leaf = text ? json_string(text) : json_null();
		free(text);
		return leaf;
	}
	json_t *obj = json_object();
	for (xmlAttr *a = attrs ? n->properties : NULL; a; a = a->next) {
		xmlChar *v = xmlNodeGetContent((xmlNode *)a);
		char *key = xasprintf("@%s", (const char *)a->name);
		json_object_set_new(obj, key, json_string((const char *)v));
		free(key);
		xmlFree(v);
	}
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			add_member(obj, (const char *)c->name, convert(c, attrs));
	if (text)
		json_object_set_new(obj, "#text", json_string(text));
	free(text);
	return obj;
}

static json_t *to_json(const char *xml, size_t len, int attrs)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "not XML: %.200s", xml);
	xmlNode *root = xmlDocGetRootElement(doc);
	json_t *out = json_object();
	json_object_set_new(out, (const char *)root->name, convert(root, attrs));
	xmlFreeDoc(doc);
	return out;
}

/* ---- client calls ----------------------------------------------------------- */

static void submit(const tk_daemon *d, const void *data, size_t len, int type, const char *name,
		   char sha1[41])
{
	tk_sha1_upper(data, len, sha1);
	const char *params[] = {"X-DTAS-SHA1", sha1, "X-DTAS-SampleType", type ? "1" : "0", NULL};
	http_form_part part = {.name = "uploadsample", .data = data, .data_len = len,
			       .filename = name};
	http_response r;
	ck_assert_int_eq(tk_call(d, &xsoar_upload, "POST", "simple_upload_sample", params, NULL, 0,
				 NULL, &part, 1, &r),
			 200);
	http_response_free(&r);
	int risk;
	ck_assert_int_eq(tk_wait_done(d, &xsoar, sha1, &risk), 4);
}

/* get_report through the slashed base URL; the body (caller frees). */
static char *get_report(const char *sha1, size_t *len)
{
	const char *q[] = {"X-DTAS-SHA1", sha1, NULL};
	http_response r;
	ck_assert_int_eq(tk_call(&slashed, &xsoar, "GET", "get_report", q, NULL, 0, NULL, NULL, 0, &r),
			 200);
	*len = r.body.len;
	char *xml = xstrndup(r.body.data, r.body.len);
	http_response_free(&r);
	return xml;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

/* What XSOAR's build_report reads of one FILE_ANALYZE_REPORT (xml2json form):
 * the detection name, or NULL; asserts every lookup it makes would work. */
static const char *xsoar_file_report(json_t *far)
{
	json_t *virus = json_object_get(far, "VirusName");
	ck_assert_msg(json_is_object(virus), "VirusName must be an object for `\"#text\" in ...`");
	ck_assert_ptr_nonnull(str(json_object_get(far, "DroppedFiles"), "@Total"));
	const char *keys[] = {"FileSHA1", "FileSHA256", "FileMD5", "FileSize", "TrueFileType",
			      "OrigFileName", "VirusDetected", "IsDenylisted", "IsWhitelisted"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		str(far, keys[i]);
	ck_assert_ptr_nonnull(json_object_get(far, "MalwareSourceIP"));
	ck_assert_ptr_nonnull(json_object_get(far, "MalwareSourceHost"));
	json_t *name = json_object_get(virus, "#text");
	return name ? json_string_value(name) : NULL;
}

/* The xml2json REPORTS object, with its image type and risk checked. */
static json_t *xsoar_reports(json_t *doc, const char *risk)
{
	json_t *reports = json_object_get(doc, "REPORTS");
	ck_assert(json_is_object(reports));
	ck_assert_ptr_nonnull(str(json_object_get(json_object_get(reports, "IMAGE_TYPE"), "TYPE"),
				  "#text"));
	ck_assert_str_eq(str(reports, "OVERALL_RISK_LEVEL"), risk);
	return json_object_get(reports, "FILE_ANALYZE_REPORT");
}

/* ---- tests --------------------------------------------------------------------- */

/* The lab's own DTAS client (common/dtas.c, as IMSVA, TMCM and DDI use it)
 * with a base URL ending in "/": register, upload, brief report. */
TEST(lab_client_with_slashed_base_url)
{
	dtas_client c;
	tl_dtas_client(&c, slashed.url, dd.key);
	ctd_err err = {0};
	ck_assert_msg(dtas_test_connection(&c, &err) == 0, "%s", err.msg);
	const char *data = "lab client via a slashed base URL CTDLAB-RISK-LOW\n";
	char sha1[41];
	tl_ddan_upload(&c, data, strlen(data), "low.txt", sha1);
	ck_assert_int_eq(tl_ddan_wait_verdict(&c, sha1), 1);
	dtas_client_free(&c);
}

/* A clean file and a URL: one FILE_ANALYZE_REPORT each, no detection. */
TEST(xsoar_clean_file_and_url_reports)
{
	ck_assert_int_eq(tk_status(&slashed, &xsoar, "GET", "register", NULL, NULL, 0, NULL), 200);
	ck_assert_int_eq(tk_status(&slashed, &xsoar, "GET", "test_connection", NULL, NULL, 0, NULL),
			 200);
	const char *clean = "an ordinary note for XSOAR\n";
	char sha1[41];
	submit(&slashed, clean, strlen(clean), 0, "note.txt", sha1);
	size_t len;
	char *xml = get_report(sha1, &len);
	json_t *doc = to_json(xml, len, 1);
	json_t *far = xsoar_reports(doc, "0");
	ck_assert(json_is_object(far));
	ck_assert_ptr_null(xsoar_file_report(far));
	ck_assert_str_eq(str(far, "FileSHA1"), sha1);
	ck_assert_str_eq(str(json_object_get(far, "VirusName"), "@detected"), "0");
	json_decref(doc);
	/* Siemplify: no attributes, an empty VirusName is null */
	doc = to_json(xml, len, 0);
	far = json_object_get(json_object_get(doc, "REPORTS"), "FILE_ANALYZE_REPORT");
	ck_assert(json_is_null(json_object_get(far, "VirusName")));
	ck_assert_str_eq(str(far, "FileSHA1"), sha1);
	json_decref(doc);
	free(xml);

	const char *url = "http://suspicious.ctdlab.test/xsoar";
	submit(&slashed, url, strlen(url), 1, "uploadsample", sha1);
	xml = get_report(sha1, &len);
	doc = to_json(xml, len, 1);
	far = xsoar_reports(doc, "2");
	ck_assert(json_is_object(far));
	ck_assert_ptr_null(xsoar_file_report(far));
	ck_assert_str_eq(str(far, "TrueFileType"), "URL");
	ck_assert_str_eq(str(far, "OrigFileName"), url);
	ck_assert_str_eq(str(far, "MalwareSourceHost"), "suspicious.ctdlab.test");
	json_decref(doc);
	free(xml);
}

/* A zip of two files, one detected: the archive first, then its members. */
static void zip_two(sbuf *out)
{
	static const char *const names[] = {"payload.txt", "readme.txt"};
	static const char *const bodies[] = {"member CTDLAB-RISK-HIGH\n", "plain member\n"};
	char mem[8192];
	size_t used = 0;
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	ck_assert_int_eq(archive_write_open_memory(a, mem, sizeof mem, &used), ARCHIVE_OK);
	for (int i = 0; i < 2; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_size(e, (la_int64_t)strlen(bodies[i]));
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, bodies[i], strlen(bodies[i]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	sbuf_append(out, mem, used);
}

TEST(xsoar_and_siemplify_archive_report)
{
	sbuf zip = {0};
	zip_two(&zip);
	char sha1[41];
	submit(&slashed, zip.data, zip.len, 0, "bundle.zip", sha1);
	size_t len;
	char *xml = get_report(sha1, &len);
	json_t *doc = to_json(xml, len, 1);
	json_t *list = xsoar_reports(doc, "3");
	ck_assert(json_is_array(list));
	ck_assert_int_eq(json_array_size(list), 3);
	ck_assert_str_eq(str(json_array_get(list, 0), "FileSHA1"), sha1);
	int detected = 0;
	for (size_t i = 1; i < 3; i++) {
		json_t *member = json_array_get(list, i);
		ck_assert_str_eq(str(member, "ParentSHA1"), sha1);
		const char *name = xsoar_file_report(member);
		if (!strcmp(str(member, "OrigFileName"), "payload.txt")) {
			ck_assert_ptr_nonnull(name);
			ck_assert_str_eq(name, "TROJ_CTDLAB.HIGH");
			detected++;
		} else {
			ck_assert_ptr_null(name);
		}
	}
	ck_assert_int_eq(detected, 1);
	json_decref(doc);
	doc = to_json(xml, len, 0);
	list = json_object_get(json_object_get(doc, "REPORTS"), "FILE_ANALYZE_REPORT");
	ck_assert_int_eq(json_array_size(list), 3);
	size_t i;
	json_t *far;
	json_array_foreach(list, i, far) {
		json_t *v = json_object_get(far, "VirusName");
		if (!strcmp(str(far, "OrigFileName"), "payload.txt"))
			ck_assert_str_eq(json_string_value(v), "TROJ_CTDLAB.HIGH");
		else
			ck_assert(json_is_null(v));
	}
	json_decref(doc);
	free(xml);
	sbuf_free(&zip);
}

/* PHP's getBL: the get_black_lists document of one sample's objects. */
TEST(php_black_list_by_sha1)
{
	const char *risky = "php black list CTDLAB-RISK-HIGH\n", *clean = "php clean\n";
	char hit[41], miss[41];
	submit(&dd, risky, strlen(risky), 0, "risky.txt", hit);
	submit(&dd, clean, strlen(clean), 0, "clean.txt", miss);
	const char *q[] = {"X_DTAS_SHA1", hit, NULL}, *q2[] = {"X_DTAS_SHA1", miss, NULL};
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &php, "GET", "get_black_list_by_sha1", q, NULL, 0, NULL, NULL, 0,
				 &r),
			 200);
	char *want = xasprintf("<VALUE>%s</VALUE>", hit);
	ck_assert_ptr_nonnull(strstr(r.body.data, "<BLACK_LISTS"));
	ck_assert_ptr_nonnull(strstr(r.body.data, want));
	free(want);
	http_response_free(&r);
	ck_assert_int_eq(tk_call(&dd, &php, "GET", "get_black_list_by_sha1", q2, NULL, 0, NULL, NULL, 0,
				 &r),
			 200);
	ck_assert_ptr_null(strstr(r.body.data, "<REPORT>"));
	http_response_free(&r);
}

/* The QA client's exception lists: an XML PUT signed with its body. */
TEST(exception_list_upload_and_get)
{
	const char *body = "<?xml version=\"1.0\"?><EXCEPTIONS>"
			   "<REPORT><TYPE>DOMAIN</TYPE><VALUE>Intranet.Example</VALUE>"
			   "<NOTE>ours</NOTE></REPORT>"
			   "<REPORT><TYPE>IP</TYPE><VALUE>192.0.2.10</VALUE></REPORT></EXCEPTIONS>";
	http_response r;
	ck_assert_int_eq(tk_call(&dd, &php, "PUT", "upload_exception_list", NULL, body, strlen(body),
				 "text/xml", NULL, 0, &r),
			 200);
	http_response_free(&r);
	ck_assert_int_eq(tk_call(&dd, &xsoar, "GET", "get_exception_list", NULL, NULL, 0, NULL, NULL, 0,
				 &r),
			 200);
	json_t *doc = to_json(r.body.data, r.body.len, 0);
	json_t *reps = json_object_get(json_object_get(doc, "EXCEPTIONS"), "REPORT");
	ck_assert_int_eq(json_array_size(reps), 2);
	int seen = 0;
	size_t i;
	json_t *rep;
	json_array_foreach(reps, i, rep) {
		ck_assert_int_gt(atoi(str(rep, "ID")), 0);
		if (!strcmp(str(rep, "TYPE"), "DOMAIN")) {
			ck_assert_str_eq(str(rep, "VALUE"), "intranet.example");
			ck_assert_str_eq(str(rep, "NOTE"), "ours");
			seen++;
		}
	}
	ck_assert_int_eq(seen, 1);
	json_decref(doc);
	http_response_free(&r);
	/* uploading one again keeps it; a broken document or entry adds nothing */
	ck_assert_int_eq(tk_status(&dd, &php, "PUT", "upload_exception_list", NULL, body, strlen(body),
				   "text/xml"),
			 200);
	const char *bad = "<EXCEPTIONS><REPORT><TYPE>FILE</TYPE><VALUE>nope</VALUE></REPORT>";
	ck_assert_int_eq(tk_status(&dd, &php, "PUT", "upload_exception_list", NULL, bad, strlen(bad),
				   "text/xml"),
			 400);
	bad = "<EXCEPTIONS><REPORT><TYPE>IP</TYPE><VALUE>192.0.2.99</VALUE></REPORT>"
	      "<REPORT><TYPE>PORT</TYPE><VALUE>1</VALUE></REPORT></EXCEPTIONS>";
	ck_assert_int_eq(tk_status(&dd, &php, "PUT", "upload_exception_list", NULL, bad, strlen(bad),
				   "text/xml"),
			 400);
	ck_assert_int_eq(tk_call(&dd, &xsoar, "GET", "get_exception_list", NULL, NULL, 0, NULL, NULL, 0,
				 &r),
			 200);
	ck_assert_ptr_null(strstr(r.body.data, "192.0.2.99"));
	http_response_free(&r);
}

/* The PDF report opens in poppler and carries the verdict. */
TEST(pdf_report_is_a_pdf)
{
	const char *data = "pdf report sample CTDLAB-RISK-MEDIUM\n";
	char sha1[41];
	submit(&dd, data, strlen(data), 0, "medium (1).txt", sha1);
	const char *q[] = {"X-DTAS-SHA1", sha1, NULL};
	http_response r;
	ck_assert_int_eq(tk_call(&slashed, &xsoar, "GET", "get_pdf_report", q, NULL, 0, NULL, NULL, 0,
				 &r),
			 200);
	ck_assert_str_eq(http_response_header(&r, "Content-Type"), "application/pdf");
	ck_assert_int_eq(memcmp(r.body.data, "%PDF-1.4", 8), 0);
	char *path = xasprintf("%s/report.pdf", dd.home);
	ck_assert_int_eq(file_write_atomic(path, r.body.data, r.body.len, 0600, NULL), 0);
	http_response_free(&r);
	char *out = NULL;
	const char *info[] = {"/usr/bin/pdfinfo", path, NULL};
	ck_assert_msg(tl_run(info, &out) == 0, "pdfinfo: %s", out ? out : "(no output)");
	ck_assert_ptr_nonnull(strstr(out, "Pages:"));
	ck_assert_ptr_nonnull(strstr(out, sha1));
	free(out);
	const char *text[] = {"/usr/bin/pdftotext", "-layout", path, "-", NULL};
	ck_assert_int_eq(tl_run(text, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, sha1));
	ck_assert_ptr_nonnull(strstr(out, "Risk level: 2 (Medium)"));
	ck_assert_ptr_nonnull(strstr(out, "medium (1).txt"));
	free(out);
	free(path);
	/* unknown sample: 421 like every per-sample service */
	const char *unknown[] = {"X-DTAS-SHA1", "0000000000000000000000000000000000000009", NULL};
	ck_assert_int_eq(tk_status(&dd, &xsoar, "GET", "get_pdf_report", unknown, NULL, 0, NULL), 421);
}

TL_SUITE(.timeout = 120, .suite_setup = setup, .suite_teardown = teardown, .nofork = 1);
