/* syslog_out.c - the syslog sink: target parsing (libcurl's URL parser),
 * RFC 5424 / RFC 3164 headers, RFC 6587 TCP framing, UDP/TCP sockets and
 * OpenSSL TLS; a send failure closes the connection and reports, so
 * evsink retries with its backoff on a fresh one. */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "cef.h"
#include "syslog_out.h"
#include "util.h"

#define SYSLOG_FACILITY_LOCAL0 16
#define SYSLOG_SEND_TIMEOUT_S 5

enum transport { T_UDP, T_TCP, T_TLS };

typedef struct syslog_out {
	enum transport transport;
	char *host, *port, *ca_file, *app_name;
	char hostname[256];
	int leef, rfc3164, lf_framing;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
} syslog_out;

static int parse_target(syslog_out *so, const char *target, ctd_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;
	if (curl_url_set(u, CURLUPART_URL, target, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) {
		ctd_fail(err, CTD_EINVAL, "syslog_target %s: not udp://, tcp:// or tls://host:port",
			 target);
		goto out;
	}
	if (strcmp(scheme, "udp") == 0)
		so->transport = T_UDP;
	else if (strcmp(scheme, "tcp") == 0)
		so->transport = T_TCP;
	else if (strcmp(scheme, "tls") == 0)
		so->transport = T_TLS;
	else {
		ctd_fail(err, CTD_EINVAL, "syslog_target %s: scheme must be udp, tcp or tls", target);
		goto out;
	}
	/* [::1] comes back bracketed; getaddrinfo wants it bare */
	size_t n = strlen(host);
	so->host = host[0] == '[' && n > 2 ? xstrndup(host + 1, n - 2) : xstrdup(host);
	so->port = xstrdup(port);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static void disconnect(syslog_out *so)
{
	if (so->ssl) {
		SSL_shutdown(so->ssl);
		SSL_free(so->ssl);
		so->ssl = NULL;
	}
	if (so->fd >= 0)
		close(so->fd);
	so->fd = -1;
}

static int tls_start(syslog_out *so, ctd_err *err)
{
	if (!so->ctx) {
		so->ctx = SSL_CTX_new(TLS_client_method());
		if (so->ca_file && *so->ca_file) {
			if (SSL_CTX_load_verify_locations(so->ctx, so->ca_file, NULL) != 1)
				return ctd_fail(err, CTD_EIO, "syslog: cannot load CA %s", so->ca_file);
			SSL_CTX_set_verify(so->ctx, SSL_VERIFY_PEER, NULL);
		}
	}
	so->ssl = SSL_new(so->ctx);
	SSL_set_fd(so->ssl, so->fd);
	SSL_set_tlsext_host_name(so->ssl, so->host);
	if (so->ca_file && *so->ca_file)
		SSL_set1_host(so->ssl, so->host);
	if (SSL_connect(so->ssl) != 1) {
		char why[160];
		ERR_error_string_n(ERR_get_error(), why, sizeof why);
		return ctd_fail(err, CTD_EIO, "syslog: TLS handshake with %s:%s failed: %s",
				so->host, so->port, why);
	}
	return 0;
}

static int open_socket(syslog_out *so, ctd_err *err)
{
	struct addrinfo hints = {.ai_socktype = so->transport == T_UDP ? SOCK_DGRAM : SOCK_STREAM};
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(so->host, so->port, &hints, &res);
	if (gai != 0)
		return ctd_fail(err, CTD_EIO, "syslog: %s: %s", so->host, gai_strerror(gai));
	int saved = 0;
	for (struct addrinfo *ai = res; ai && so->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		struct timeval tv = {SYSLOG_SEND_TIMEOUT_S, 0};
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		}
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			so->fd = fd;
		else if (fd >= 0) {
			saved = errno;
			close(fd);
		}
	}
	freeaddrinfo(res);
	if (so->fd < 0)
		return ctd_fail(err, CTD_EIO, "syslog: cannot connect to %s:%s: %s", so->host,
				so->port, strerror(saved));
	return 0;
}

static int ensure_connected(syslog_out *so, ctd_err *err)
{
	if (so->fd >= 0)
		return 0;
	if (open_socket(so, err) < 0)
		return -1;
	if (so->transport == T_TLS && tls_start(so, err) < 0) {
		disconnect(so);
		return -1;
	}
	return 0;
}

static int send_all(syslog_out *so, const char *data, size_t len, ctd_err *err)
{
	if (so->transport == T_UDP)
		return send(so->fd, data, len, 0) == (ssize_t)len
			       ? 0
			       : ctd_fail(err, CTD_EIO, "syslog: send: %s", strerror(errno));
	while (len) {
		ssize_t n = so->ssl ? SSL_write(so->ssl, data, (int)len)
				    : send(so->fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return ctd_fail(err, CTD_EIO, "syslog: write to %s:%s failed", so->host,
					so->port);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* PRI: local0, with a syslog severity from the CEF one. */
static int pri_of(int cef_severity)
{
	int sev = cef_severity >= 8 ? 3 : cef_severity >= 4 ? 4 : 5; /* err, warning, notice */
	return SYSLOG_FACILITY_LOCAL0 * 8 + sev;
}

static void put_header(const syslog_out *so, sbuf *b, const evsink_event *ev,
		       const cef_record *r)
{
	time_t t = (time_t)(ev->ts_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char when[40];
	if (so->rfc3164) {
		strftime(when, sizeof when, "%b %e %H:%M:%S", &tm);
		sbuf_printf(b, "<%d>%s %s %s[%ld]: ", pri_of(r->severity), when, so->hostname,
			    so->app_name, (long)getpid());
		return;
	}
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	sbuf_printf(b, "<%d>1 %s.%03dZ %s %s %ld %s - ", pri_of(r->severity), when,
		    (int)(ev->ts_ms % 1000), so->hostname, so->app_name, (long)getpid(),
		    r->event_id);
}

static char *message_of(const syslog_out *so, const evsink_event *ev, size_t *len)
{
	cef_record r;
	cef_format(ev, so->leef, so->hostname, &r);
	sbuf msg = {0};
	put_header(so, &msg, ev, &r);
	sbuf_puts(&msg, r.text);
	free(r.text);
	if (so->transport == T_UDP) {
		*len = msg.len;
		return sbuf_detach(&msg);
	}
	sbuf framed = {0};
	if (so->lf_framing) {
		sbuf_append(&framed, msg.data, msg.len);
		sbuf_puts(&framed, "\n");
	} else {
		sbuf_printf(&framed, "%zu ", msg.len);
		sbuf_append(&framed, msg.data, msg.len);
	}
	sbuf_free(&msg);
	*len = framed.len;
	return sbuf_detach(&framed);
}

static int syslog_deliver(void *state, const evsink_event *ev, ctd_err *err)
{
	syslog_out *so = state;
	if (ensure_connected(so, err) < 0)
		return -1;
	size_t len;
	char *msg = message_of(so, ev, &len);
	int rc = send_all(so, msg, len, err);
	free(msg);
	if (rc < 0)
		disconnect(so);
	return rc;
}

static void syslog_free(void *state)
{
	syslog_out *so = state;
	disconnect(so);
	SSL_CTX_free(so->ctx);
	free(so->host);
	free(so->port);
	free(so->ca_file);
	free(so->app_name);
	free(so);
}

const evsink_ops syslog_out_ops = {"syslog", syslog_deliver, syslog_free};

void *syslog_out_new(const syslog_out_conf *conf, ctd_err *err)
{
	syslog_out *so = xcalloc(1, sizeof *so);
	so->fd = -1;
	if (parse_target(so, conf->target, err) < 0) {
		syslog_free(so);
		return NULL;
	}
	so->leef = conf->leef;
	so->rfc3164 = conf->rfc3164;
	so->lf_framing = conf->lf_framing;
	so->ca_file = conf->ca_file ? xstrdup(conf->ca_file) : NULL;
	so->app_name = xstrdup(conf->app_name ? conf->app_name : "ctdlab");
	if (gethostname(so->hostname, sizeof so->hostname - 1) != 0 || !so->hostname[0])
		snprintf(so->hostname, sizeof so->hostname, "localhost");
	return so;
}
