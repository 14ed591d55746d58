/* tl_syslog.h - a syslog server inside a test (UDP, TCP with octet-counting
 * or newline framing, TLS) that keeps every message it receives, and parsers
 * for the CEF and LEEF records in them, independent of common/cef.c. */
#ifndef CTD_TL_SYSLOG_H
#define CTD_TL_SYSLOG_H

#include <jansson.h>

typedef struct tl_syslog tl_syslog;

/* transport: "udp", "tcp" or "tls" (TLS with the given PEM pair). Listens on
 * 127.0.0.1, an ephemeral port. */
tl_syslog *tl_syslog_start(const char *transport, const char *cert_pem, const char *key_pem);
int tl_syslog_port(const tl_syslog *s);
/* The messages received so far (a JSON array of strings, new reference). */
json_t *tl_syslog_messages(tl_syslog *s);
/* Wait (bounded, timeout_ms) until a message containing every one of the
 * NULL-terminated needles arrived; a copy of it, or NULL. */
char *tl_syslog_wait(tl_syslog *s, int timeout_ms, const char *const *needles);
void tl_syslog_stop(tl_syslog *s);

/* A parsed record: header fields (CEF: version, vendor, product, version,
 * event class id, name, severity; LEEF: version, vendor, product, version,
 * event id) and the extension as an object of strings. */
typedef struct tl_cef {
	char *hdr[7];
	int nhdr;
	json_t *ext;
} tl_cef;
/* Parse the CEF record (from "CEF:") of a syslog message; -1 when there is
 * none or it does not parse. */
int tl_cef_parse(const char *msg, tl_cef *out);
/* The same for "LEEF:1.0|...|" with tab-separated attributes. */
int tl_leef_parse(const char *msg, tl_cef *out);
void tl_cef_free(tl_cef *c);
/* ext value or NULL */
const char *tl_cef_get(const tl_cef *c, const char *key);

#endif
