/* ddan_pdf.c - the PDF report of a finished sample (the appliance's "PDF
 * report"; its DTAS service name is not public, get_pdf_report is ours): one
 * A4 page of Helvetica text lines (verdict, the objects analysed, the events),
 * written as a minimal PDF 1.4 file - catalog, page tree, page, font, content
 * stream, info - with an exact cross-reference table. */
#include "ddan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_LINES 52 /* lines of 14 pt between the margins of an A4 page */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* s as a PDF literal string: parentheses and backslashes escaped, bytes the
 * standard Helvetica encoding would misprint (controls, non-ASCII) as '?'. */
static void pdf_string(sbuf *out, const char *s)
{
	sbuf_puts(out, "(");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '(' || c == ')' || c == '\\')
			sbuf_printf(out, "\\%c", c);
		else
			sbuf_printf(out, "%c", c >= 0x20 && c < 0x7f ? c : '?');
	}
	sbuf_puts(out, ")");
}

typedef struct page_text {
	sbuf ops; /* the content stream */
	int lines;
} page_text;

static void line(page_text *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line of text (cut to the page: the rest is counted, not printed). */
static void line(page_text *p, const char *fmt, ...)
{
	if (p->lines >= PAGE_LINES)
		return;
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	pdf_string(&p->ops, buf);
	sbuf_puts(&p->ops, p->lines++ ? " '\n" : " Tj\n");
}

static const char *risk_name(long long risk)
{
	static const char *const names[] = {"No risk", "Low", "Medium", "High"};
	return risk >= 0 && risk <= 3 ? names[risk] : "Unsupported / error";
}

static void stamp(long long ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void report_lines(page_text *p, json_t *sample)
{
	json_t *res = json_object_get(sample, "result");
	long long risk = json_integer_value(json_object_get(sample, "risk"));
	char done[32];
	stamp(json_integer_value(json_object_get(sample, "completed_ms")), done);
	line(p, "Deep Discovery Analyzer - Virtual Analyzer Report (ctdlab)");
	line(p, " ");
	line(p, "SHA-1: %s", jstr(sample, "sha1"));
	line(p, "Name: %.120s", jstr(sample, "orig_name"));
	line(p, "True file type: %.100s", jstr(sample, "true_type"));
	line(p, "Risk level: %lld (%s)", risk, risk_name(risk));
	line(p, "Detection: %.100s", *jstr(sample, "virus_name") ? jstr(sample, "virus_name") : "-");
	line(p, "Analysis completed: %s", done);
	line(p, " ");
	size_t i;
	json_t *o;
	line(p, "Objects analysed: %zu", json_array_size(json_object_get(res, "objects")));
	json_array_foreach(json_object_get(res, "objects"), i, o)
		line(p, "  %s  risk %lld  %.60s", jstr(o, "sha1"),
		     (long long)json_integer_value(json_object_get(o, "risk")), jstr(o, "name"));
	line(p, " ");
	line(p, "Events: %zu", json_array_size(json_object_get(res, "events")));
	json_array_foreach(json_object_get(res, "events"), i, o)
		line(p, "  %.30s: %.100s", jstr(o, "event"), jstr(o, "details"));
}

/* Object n at the current offset, recorded for the xref table. */
static void object(sbuf *pdf, size_t *offsets, int n, const char *body)
{
	offsets[n] = pdf->len;
	sbuf_printf(pdf, "%d 0 obj\n%s\nendobj\n", n, body);
}

char *ddan_pdf_report(json_t *sample, size_t *len)
{
	page_text p = {0};
	sbuf_puts(&p.ops, "BT /F1 10 Tf 14 TL 50 800 Td\n");
	report_lines(&p, sample);
	sbuf_puts(&p.ops, "ET\n");

	enum { NOBJ = 7 };
	size_t offsets[NOBJ] = {0};
	sbuf pdf = {0}, info = {0};
	/* the binary comment line marks the file as binary for transfer tools */
	sbuf_puts(&pdf, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	object(&pdf, offsets, 1, "<< /Type /Catalog /Pages 2 0 R >>");
	object(&pdf, offsets, 2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	object(&pdf, offsets, 3,
	       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
	       "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>");
	object(&pdf, offsets, 4, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
	offsets[5] = pdf.len;
	sbuf_printf(&pdf, "5 0 obj\n<< /Length %zu >>\nstream\n", p.ops.len);
	sbuf_append(&pdf, p.ops.data, p.ops.len);
	sbuf_puts(&pdf, "endstream\nendobj\n");
	char *title = xasprintf("Virtual Analyzer Report %s", jstr(sample, "sha1"));
	sbuf_puts(&info, "<< /Title ");
	pdf_string(&info, title);
	sbuf_puts(&info, " /Producer (ctdlab ddand) >>");
	object(&pdf, offsets, 6, info.data);
	size_t xref = pdf.len;
	sbuf_printf(&pdf, "xref\n0 %d\n0000000000 65535 f \n", NOBJ);
	for (int i = 1; i < NOBJ; i++)
		sbuf_printf(&pdf, "%010zu 00000 n \n", offsets[i]);
	sbuf_printf(&pdf, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		    NOBJ, xref);
	free(title);
	sbuf_free(&info);
	sbuf_free(&p.ops);
	*len = pdf.len;
	return sbuf_detach(&pdf);
}
