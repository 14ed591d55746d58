/* imsva_scan.c - the simulated scan engines of the lab IMSVA: antivirus
 * (EICAR and the lab's virus markers), ATSE (HEUR_/EXPL_ names from
 * documented triggers, the seed's sample files among them) and a spam score.
 * Deterministic by design: every trigger is listed in docs/imsva.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_engine.h"
#include "util.h"

#define EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#define GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

static const void *find(const void *data, size_t len, const char *needle)
{
	return memmem(data, len, needle, strlen(needle));
}

/* "MARKER:NAME" → NAME (letters, digits, _ . - up to 64), or NULL. */
static char *marker_name(const unsigned char *data, size_t len, const char *marker)
{
	const unsigned char *p = find(data, len, marker);
	if (!p)
		return NULL;
	size_t off = (size_t)(p - data) + strlen(marker);
	if (off >= len || data[off] != ':')
		return xstrdup("");
	size_t start = ++off;
	while (off < len && off - start < 64 &&
	       (isalnum(data[off]) || data[off] == '_' || data[off] == '.' || data[off] == '-'))
		off++;
	return xstrndup((const char *)data + start, off - start);
}

static char *antivirus(const unsigned char *data, size_t len)
{
	if (find(data, len, EICAR))
		return xstrdup("Eicar_test_file");
	char *name = marker_name(data, len, "CTDLAB-VIRUS");
	if (name && !*name) {
		free(name);
		return xstrdup("CTDLAB_TEST_VIRUS");
	}
	return name;
}

/* "_VBA_PROJECT" as an OLE stream name is UTF-16LE. */
static int has_vba_project(const unsigned char *data, size_t len)
{
	static const char utf16[] = "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";
	return find(data, len, "vbaProject.bin") || find(data, len, "_VBA_PROJECT") ||
	       memmem(data, len, utf16, sizeof utf16 - 1);
}

static char *atse(const unsigned char *data, size_t len, imsva_tft_class cls,
		  const char *tft_type)
{
	if (find(data, len, "CTDLAB-RISK-HIGH"))
		return xstrdup("HEUR_CTDLAB.SAMPLE");
	if (find(data, len, "CTDLAB-RISK-MEDIUM"))
		return xstrdup("HEUR_CTDLAB.SAMPLE.M");
	if (find(data, len, "CTDLAB-RISK-LOW"))
		return xstrdup("HEUR_CTDLAB.SAMPLE.L");
	char *name = marker_name(data, len, "CTDLAB-ATSE");
	if (name) {
		if (!*name || (strncmp(name, "HEUR_", 5) && strncmp(name, "EXPL_", 5))) {
			char *full = xasprintf("HEUR_%s", *name ? name : "CTDLAB.GENERIC");
			free(name);
			return full;
		}
		return name;
	}
	if (cls == IMSVA_TFT_DOCUMENT && strcmp(tft_type, "pdf") && strcmp(tft_type, "rtf") &&
	    has_vba_project(data, len))
		return xstrdup("HEUR_VBA.O");
	if (!strcmp(tft_type, "pdf") &&
	    (find(data, len, "/JavaScript") || find(data, len, "/JS")) &&
	    (find(data, len, "/OpenAction") || find(data, len, "/AA")))
		return xstrdup("HEUR_PDFJS.STREM");
	if (!strcmp(tft_type, "rtf") && find(data, len, "\\objdata") &&
	    (find(data, len, "Equation.3") || find(data, len, "4571756174696f6e2e33") ||
	     find(data, len, "4571756174696F6E2E33")))
		return xstrdup("EXPL_CVE201711882");
	return NULL;
}

void imsva_scan_buffer(const void *data, size_t len, const char *filename,
		       imsva_tft_class cls, const char *tft_type, int atse_enabled,
		       char **virus, char **atse_out)
{
	*virus = *atse_out = NULL;
	if (!data)
		return;
	*virus = antivirus(data, len);
	if (!*virus && atse_enabled)
		*atse_out = atse(data, len, cls, tft_type ? tft_type : "");
}

/* Spam score: GTUBE is 10.0; "CTDLAB-SPAM-SCORE=<n>" pins a score for tests. */
static double spam_score(const imsva_msg *m)
{
	const char *texts[] = {m->subject, m->body_text};
	for (size_t i = 0; i < 2; i++) {
		if (!texts[i])
			continue;
		if (strstr(texts[i], GTUBE))
			return 10.0;
		const char *p = strstr(texts[i], "CTDLAB-SPAM-SCORE=");
		if (p) {
			double s = strtod(p + 18, NULL);
			return s < 0 ? 0 : s > 10 ? 10 : s;
		}
	}
	return 0.0;
}

int imsva_scan(imsva_msg *m, const imsva_scan_opts *o)
{
	int detected = 0;
	unsigned char *expanded = xcalloc(m->nparts ? m->nparts : 1, 1);
	/* An expanded archive is judged by its members, so a stored (uncompressed)
	 * EICAR inside a zip is reported once, on the member. */
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].parent >= 0)
			expanded[m->parts[i].parent] = 1;
	for (size_t i = 0; i < m->nparts; i++) {
		imsva_part *p = &m->parts[i];
		free(p->virus_name);
		free(p->atse_name);
		p->virus_name = p->atse_name = NULL;
		if (expanded[i])
			continue;
		imsva_scan_buffer(p->data, p->size, p->filename, p->tft_class, p->tft_type,
				  o && o->atse_enabled, &p->virus_name, &p->atse_name);
		detected += p->virus_name || p->atse_name;
	}
	free(expanded);
	m->spam_score = spam_score(m);
	return detected;
}
