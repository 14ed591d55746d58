/* syslog_out.h - the syslog sink of evsink.h: each event as one CEF or LEEF
 * record (cef.h) in an RFC 5424 or RFC 3164 message, sent over UDP, TCP or
 * TLS (OpenSSL), TCP framed by octet counting or a newline (RFC 6587). The
 * connection is made on first use and again after a failure. */
#ifndef CTD_SYSLOG_OUT_H
#define CTD_SYSLOG_OUT_H

#include "evsink.h"

typedef struct syslog_out_conf {
	const char *target;  /* udp://host:port, tcp://host:port, tls://host:port */
	int leef;            /* LEEF where the product has it */
	int rfc3164;         /* BSD header instead of RFC 5424 */
	int lf_framing;      /* tcp/tls: newline instead of octet counting */
	const char *ca_file; /* tls: verify against it; NULL/"": no verification */
	const char *app_name;
} syslog_out_conf;

/* The sink's state for evsink_add with syslog_out_ops, or NULL with err
 * (a target that does not parse). */
void *syslog_out_new(const syslog_out_conf *conf, ctd_err *err);
extern const evsink_ops syslog_out_ops;

#endif
