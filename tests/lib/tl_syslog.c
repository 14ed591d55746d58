/* tl_syslog.c - the test's syslog server (a receiving thread per server)
 * and CEF/LEEF parsers written from the formats' specifications. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "tl_syslog.h"
#include "testlib.h"
#include "util.h"

#define RX_POLL_MS 50

struct tl_syslog {
	int udp, fd, port;
	SSL_CTX *ctx;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t mu;
	json_t *msgs;
};

static void keep(tl_syslog *s, const char *data, size_t len)
{
	pthread_mutex_lock(&s->mu);
	json_array_append_new(s->msgs, json_stringn(data, len));
	pthread_mutex_unlock(&s->mu);
}

/* Split a TCP stream into messages: "LEN SP MSG" (octet counting) or
 * MSG LF (non-transparent framing); returns the bytes consumed. */
static size_t take_frames(tl_syslog *s, const char *buf, size_t len)
{
	size_t used = 0;
	while (used < len) {
		const char *p = buf + used;
		size_t left = len - used;
		if (p[0] >= '1' && p[0] <= '9') {
			char *end;
			unsigned long n = strtoul(p, &end, 10);
			if ((size_t)(end - p) >= left || *end != ' ')
				break;
			size_t head = (size_t)(end - p) + 1;
			if (head + n > left)
				break;
			keep(s, p + head, n);
			used += head + n;
		} else {
			const char *nl = memchr(p, '\n', left);
			if (!nl)
				break;
			keep(s, p, (size_t)(nl - p));
			used += (size_t)(nl - p) + 1;
		}
	}
	return used;
}

static int wait_readable(tl_syslog *s, int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (!atomic_load(&s->stop)) {
		int n = poll(&pfd, 1, RX_POLL_MS);
		if (n > 0)
			return 1;
	}
	return 0;
}

static void serve_stream(tl_syslog *s, int conn)
{
	SSL *ssl = NULL;
	if (s->ctx) {
		ssl = SSL_new(s->ctx);
		SSL_set_fd(ssl, conn);
		if (SSL_accept(ssl) != 1) {
			SSL_free(ssl);
			return;
		}
	}
	sbuf pending = {0};
	char chunk[8192];
	while ((ssl && SSL_pending(ssl)) || wait_readable(s, conn)) {
		int n = ssl ? SSL_read(ssl, chunk, sizeof chunk) : (int)read(conn, chunk, sizeof chunk);
		if (n <= 0)
			break;
		sbuf_append(&pending, chunk, (size_t)n);
		size_t used = take_frames(s, pending.data, pending.len);
		memmove(pending.data, pending.data + used, pending.len - used);
		pending.len -= used;
	}
	sbuf_free(&pending);
	if (ssl)
		SSL_free(ssl);
}

static void *rx_main(void *arg)
{
	tl_syslog *s = arg;
	char buf[65536];
	while (wait_readable(s, s->fd)) {
		if (s->udp) {
			ssize_t n = recv(s->fd, buf, sizeof buf, 0);
			if (n > 0)
				keep(s, buf, (size_t)n);
			continue;
		}
		int conn = accept(s->fd, NULL, NULL);
		if (conn < 0)
			continue;
		serve_stream(s, conn);
		close(conn);
	}
	return NULL;
}

static SSL_CTX *server_ctx(const char *cert_pem, const char *key_pem)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *crt = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	ck_assert(crt && key);
	ck_assert_int_eq(SSL_CTX_use_certificate(ctx, crt), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(crt);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	return ctx;
}

tl_syslog *tl_syslog_start(const char *transport, const char *cert_pem, const char *key_pem)
{
	tl_syslog *s = xcalloc(1, sizeof *s);
	s->udp = strcmp(transport, "udp") == 0;
	if (strcmp(transport, "tls") == 0)
		s->ctx = server_ctx(cert_pem, key_pem);
	s->fd = socket(AF_INET, s->udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	int one = 1, big = 4 << 20;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	if (!s->udp)
		ck_assert_int_eq(listen(s->fd, 8), 0);
	getsockname(s->fd, (struct sockaddr *)&sa, &len);
	s->port = ntohs(sa.sin_port);
	s->msgs = json_array();
	pthread_mutex_init(&s->mu, NULL);
	pthread_create(&s->thread, NULL, rx_main, s);
	return s;
}

int tl_syslog_port(const tl_syslog *s)
{
	return s->port;
}

json_t *tl_syslog_messages(tl_syslog *s)
{
	pthread_mutex_lock(&s->mu);
	json_t *copy = json_copy(s->msgs);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

static int has_all(const char *msg, const char *const *needles)
{
	for (const char *const *n = needles; *n; n++)
		if (!strstr(msg, *n))
			return 0;
	return 1;
}

char *tl_syslog_wait(tl_syslog *s, int timeout_ms, const char *const *needles)
{
	int64_t deadline = time_mono_ms() + timeout_ms;
	do {
		json_t *msgs = tl_syslog_messages(s);
		size_t i;
		json_t *m;
		char *hit = NULL;
		json_array_foreach(msgs, i, m) if (!hit && has_all(json_string_value(m), needles))
			hit = xstrdup(json_string_value(m));
		json_decref(msgs);
		if (hit)
			return hit;
		tl_sleep_ms(20);
	} while (time_mono_ms() < deadline);
	return NULL;
}

void tl_syslog_stop(tl_syslog *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
	SSL_CTX_free(s->ctx);
	json_decref(s->msgs);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* --- parsers --------------------------------------------------------------- */

/* Copy [p, end) undoing backslash escapes (\n, \r and \x -> x). */
static char *unescape(const char *p, const char *end)
{
	sbuf b = {0};
	sbuf_puts(&b, "");
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
			sbuf_append(&b, *p == 'n' ? "\n" : *p == 'r' ? "\r" : p, 1);
		} else {
			sbuf_append(&b, p, 1);
		}
	}
	return sbuf_detach(&b);
}

/* n header fields separated by unescaped '|'; returns where the rest starts. */
static const char *parse_header(const char *p, int n, tl_cef *out)
{
	for (out->nhdr = 0; out->nhdr < n; out->nhdr++) {
		const char *q = p;
		while (*q && *q != '|')
			q += (*q == '\\' && q[1]) ? 2 : 1;
		if (*q != '|')
			return NULL;
		out->hdr[out->nhdr] = unescape(p, q);
		p = q + 1;
	}
	return p;
}

/* CEF extension: key=value pairs; a value runs until the space before the
 * next unescaped '=''s key. */
static int parse_extension(const char *p, json_t *ext)
{
	while (*p) {
		const char *eq = strchr(p, '=');
		if (!eq)
			return -1;
		char *key = xstrndup(p, (size_t)(eq - p));
		const char *v = eq + 1, *q = v, *next = NULL;
		for (; *q; q++) {
			if (*q == '\\' && q[1]) {
				q++;
				continue;
			}
			if (*q == '=') {
				const char *sp = q;
				while (sp > v && sp[-1] != ' ')
					sp--;
				next = sp;
				break;
			}
		}
		const char *vend = next ? next - 1 : q;
		char *value = unescape(v, vend);
		json_object_set_new(ext, key, json_string(value));
		free(key);
		free(value);
		if (!next)
			break;
		p = next;
	}
	return 0;
}

int tl_cef_parse(const char *msg, tl_cef *out)
{
	memset(out, 0, sizeof *out);
	const char *p = strstr(msg, "CEF:");
	if (!p)
		return -1;
	const char *rest = parse_header(p + 4, 7, out);
	out->ext = json_object();
	if (!rest || parse_extension(rest, out->ext) < 0) {
		tl_cef_free(out);
		return -1;
	}
	return 0;
}

int tl_leef_parse(const char *msg, tl_cef *out)
{
	memset(out, 0, sizeof *out);
	const char *p = strstr(msg, "LEEF:");
	if (!p)
		return -1;
	const char *rest = parse_header(p + 5, 5, out);
	out->ext = json_object();
	if (!rest) {
		tl_cef_free(out);
		return -1;
	}
	char *attrs = xstrdup(rest), *save = NULL;
	for (char *a = strtok_r(attrs, "\t", &save); a; a = strtok_r(NULL, "\t", &save)) {
		char *eq = strchr(a, '=');
		if (!eq)
			continue;
		*eq = '\0';
		json_object_set_new(out->ext, a, json_string(eq + 1));
	}
	free(attrs);
	return 0;
}

void tl_cef_free(tl_cef *c)
{
	for (int i = 0; i < c->nhdr; i++)
		free(c->hdr[i]);
	json_decref(c->ext);
	memset(c, 0, sizeof *c);
}

const char *tl_cef_get(const tl_cef *c, const char *key)
{
	return json_string_value(json_object_get(c->ext, key));
}
