/* cef.h - timeline events in the syslog layouts SIEM parsers expect of each
 * Trend Micro product: ArcSight CEF, and LEEF 1.0 where the product has it
 * (the Deep Discovery products). The per-product tables (event class ids,
 * names, extension keys) and their sources are in docs/syslog.md. */
#ifndef CTD_CEF_H
#define CTD_CEF_H

#include "evsink.h"

/* A formatted record: the payload, its event class id (the syslog MSGID)
 * and its CEF severity (0-10). */
typedef struct cef_record {
	char *text;
	char event_id[48];
	int severity;
} cef_record;

/* Format ev in its product's layout; leef asks for LEEF, which falls back to
 * CEF for a product without one (cef_has_leef). host: dvchost. Free text. */
void cef_format(const evsink_event *ev, int leef, const char *host, cef_record *out);
int cef_has_leef(const char *appliance);

/* The escapes of the CEF spec: header fields `\` and `|`; extension values
 * `\`, `=`, and newlines as \n / \r. Appended to b. */
struct sbuf;
void cef_escape_header(struct sbuf *b, const char *s);
void cef_escape_value(struct sbuf *b, const char *s);

#endif
