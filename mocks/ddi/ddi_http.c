/* ddi_http.c - HTTP/1.x parsing on reassembled TCP streams, carving response
 * bodies as files.
 *
 * One parser per flow, fed both directions. Requests (method, target, Host)
 * queue up in order, so keep-alive and pipelined exchanges pair each response
 * with its request. Bodies are framed per RFC 9112 §6.3: no body for HEAD,
 * 1xx, 204 and 304; chunked; Content-Length; else until the connection
 * closes. Successful (2xx) response bodies are decoded (gzip / deflate via
 * zlib) and handed to the carve callback with URL, host and addresses.
 * Everything that grows with input is bounded (line length, header size,
 * pipelined requests, body size, the engine's memory budget); input that is
 * not HTTP makes the parser give up on the flow, never crash or stall. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <zlib.h>
#include <gmime/gmime.h>

#include "util.h"
#include "ddi.h"

#define HTTP_MAX_LINE 8192
#define HTTP_MAX_HEAD 65536
#define HTTP_MAX_PIPELINE 64

typedef struct pending_req {
	struct pending_req *next;
	char *method, *url, *host, *path;
} pending_req;

typedef enum {
	ST_START,      /* request or status line */
	ST_HEADERS,
	ST_BODY_LEN,   /* Content-Length bytes remain */
	ST_CHUNK_SIZE,
	ST_CHUNK_DATA,
	ST_CHUNK_CRLF, /* the CRLF after a chunk's data */
	ST_TRAILERS,
	ST_BODY_EOF,   /* body runs to the end of the connection */
	ST_DEAD        /* gave up on this direction */
} side_state;

typedef struct side {
	side_state state;
	sbuf line;
	size_t line_charged, head_bytes;
	uint64_t remaining;
	/* the message being parsed */
	int status, chunked, has_clen, close_after;
	uint64_t clen;
	char *encoding, *disp_name, *host, *method, *target;
	pending_req *req; /* responses: the request answered */
	/* body collection (responses only) */
	int carving, truncated, full; /* full: stop collecting (limit or budget) */
	sbuf body;
	size_t body_charged;
} side;

struct ddi_http {
	ddi_parser_env env;
	side s[2];
	pending_req *q_head, *q_tail;
	int q_len;
	int tunnel; /* CONNECT / Upgrade: the rest is not HTTP */
};

static const char *const http_methods[] = {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
					   "OPTIONS ", "PATCH ", "TRACE ", "CONNECT "};

int ddi_http_is_request(const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		size_t m = strlen(http_methods[i]);
		size_t k = n < m ? n : m;
		if (k > 0 && memcmp(d, http_methods[i], k) == 0)
			return 1;
	}
	return 0;
}

ddi_http *ddi_http_new(const ddi_parser_env *env)
{
	ddi_http *h = xcalloc(1, sizeof(*h));
	h->env = *env;
	return h;
}

static void req_free(pending_req *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	free(r->host);
	free(r->path);
	free(r);
}

static void body_release(ddi_http *h, side *s)
{
	ddi_budget_give(h->env.budget, s->body_charged);
	s->body_charged = 0;
	sbuf_free(&s->body);
	s->carving = s->truncated = s->full = 0;
}

static void line_release(ddi_http *h, side *s)
{
	ddi_budget_give(h->env.budget, s->line_charged);
	s->line_charged = 0;
	s->line.len = 0;
	if (s->line.data)
		s->line.data[0] = '\0';
}

/* Forget the current message's fields (not the line buffer). */
static void msg_reset(ddi_http *h, side *s)
{
	body_release(h, s);
	free(s->encoding);
	free(s->disp_name);
	free(s->host);
	free(s->method);
	free(s->target);
	req_free(s->req);
	s->encoding = s->disp_name = s->host = s->method = s->target = NULL;
	s->req = NULL;
	s->status = s->chunked = s->has_clen = s->close_after = 0;
	s->clen = s->remaining = 0;
	s->head_bytes = 0;
}

static void side_kill(ddi_http *h, side *s)
{
	msg_reset(h, s);
	line_release(h, s);
	s->state = ST_DEAD;
}

/* ---- carving */

/* Last segment of the URL path, without query; "" when there is none. */
static char *name_from_path(const char *path)
{
	size_t end = strcspn(path, "?#");
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return xstrndup(path + start, end - start);
}

static char *filename_from_disposition(const char *value)
{
	GMimeContentDisposition *disp = g_mime_content_disposition_parse(NULL, value);
	if (!disp)
		return NULL;
	const char *fn = g_mime_content_disposition_get_parameter(disp, "filename");
	char *out = fn && *fn ? xstrdup(fn) : NULL;
	g_object_unref(disp);
	return out;
}

int ddi_http_decode(const char *encoding, const unsigned char *in, size_t len, size_t max,
		    sbuf *out)
{
	int raw_deflate = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		/* 32+: zlib or gzip header auto-detected; -: raw deflate, which
		 * some servers send as "deflate". */
		if (inflateInit2(&z, raw_deflate ? -MAX_WBITS : 32 + MAX_WBITS) != Z_OK)
			return -1;
		z.next_in = (unsigned char *)in;
		z.avail_in = (uInt)len;
		out->len = 0;
		int rc = Z_OK, cut = 0;
		unsigned char buf[16384];
		while (rc != Z_STREAM_END || z.avail_in > 0) {
			if (rc == Z_STREAM_END) {
				/* concatenated gzip members */
				if (inflateReset(&z) != Z_OK)
					break;
			}
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			rc = inflate(&z, Z_NO_FLUSH);
			size_t got = sizeof(buf) - z.avail_out;
			if (out->len + got > max) {
				sbuf_append(out, buf, max - out->len);
				cut = 1;
				break;
			}
			sbuf_append(out, buf, got);
			if (rc == Z_BUF_ERROR && z.avail_in == 0)
				break; /* input ended early: keep what decoded */
			if (rc != Z_OK && rc != Z_STREAM_END)
				break;
		}
		inflateEnd(&z);
		if (cut)
			return 1;
		if (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR)
			return 0;
		if (attempt == 0 && out->len == 0 && !strcasecmp(encoding, "deflate")) {
			raw_deflate = 1;
			continue;
		}
		return out->len > 0 ? 0 : -1;
	}
	return -1;
}

static int is_compressed(const char *enc)
{
	return enc && (!strcasecmp(enc, "gzip") || !strcasecmp(enc, "x-gzip") ||
		       !strcasecmp(enc, "deflate"));
}

static void carve_response(ddi_http *h, side *s, int64_t ts)
{
	if (!s->carving || s->body.len == 0)
		return;
	const ddi_flow_info *fi = h->env.flow;
	ddi_carved f = {0};
	f.proto = "HTTP";
	strcpy(f.client_ip, fi->client_ip);
	strcpy(f.server_ip, fi->server_ip);
	f.client_port = fi->client_port;
	f.server_port = fi->server_port;
	f.ts_ms = ts;
	f.truncated = s->truncated;

	char *fallback_url = NULL, *name = NULL;
	if (s->req) {
		f.url = s->req->url;
		f.host = s->req->host;
		name = name_from_path(s->req->path);
	} else {
		fallback_url = xasprintf("http://%s:%u/", fi->server_ip, fi->server_port);
		f.url = fallback_url;
		f.host = fi->server_ip;
	}
	if (s->disp_name) {
		free(name);
		name = xstrdup(s->disp_name);
	}
	f.file_name = name && *name ? name : "download";

	sbuf decoded = {0};
	f.data = (const unsigned char *)s->body.data;
	f.len = s->body.len;
	if (is_compressed(s->encoding)) {
		int rc = ddi_http_decode(s->encoding, f.data, f.len, h->env.lim->max_file_size,
					 &decoded);
		if (rc >= 0) {
			f.data = (const unsigned char *)decoded.data;
			f.len = decoded.len;
			f.truncated |= rc == 1;
		} else {
			f.truncated = 1; /* corrupt encoding: keep the raw bytes */
		}
	}
	if (f.len > 0)
		h->env.carve(&f, h->env.carve_cls);
	sbuf_free(&decoded);
	free(name);
	free(fallback_url);
}

static void body_bytes(ddi_http *h, side *s, const unsigned char *d, size_t n)
{
	if (!s->carving || s->full)
		return;
	size_t room = h->env.lim->max_file_size - s->body.len;
	if (n > room) {
		n = room;
		s->truncated = s->full = 1;
	}
	if (n && ddi_budget_take(h->env.budget, n) < 0) {
		s->truncated = s->full = 1;
		return;
	}
	s->body_charged += n;
	sbuf_append(&s->body, d, n);
}

/* ---- message boundaries */

static void message_done(ddi_http *h, int dir, int64_t ts)
{
	side *s = &h->s[dir];
	if (dir == DDI_TO_CLIENT) {
		carve_response(h, s, ts);
		if (s->close_after == 2)
			h->tunnel = 1;
	}
	int tunnel = h->tunnel;
	msg_reset(h, s);
	s->state = ST_START;
	if (tunnel) {
		side_kill(h, &h->s[0]);
		side_kill(h, &h->s[1]);
	}
}

static int request_line(ddi_http *h, side *s, char *line)
{
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	for (char *p = line; p < sp1; p++)
		if (!isupper((unsigned char)*p))
			return -1;
	s->method = xstrndup(line, (size_t)(sp1 - line));
	s->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	return 0;
}

static int status_line(side *s, const char *line)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ')
		return -1;
	const char *c = line + 9;
	if (!isdigit((unsigned char)c[0]) || !isdigit((unsigned char)c[1]) ||
	    !isdigit((unsigned char)c[2]) || (c[3] != '\0' && c[3] != ' '))
		return -1;
	s->status = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
	return 0;
}

static int parse_u64(const char *v, int base, uint64_t *out)
{
	uint64_t x = 0;
	int any = 0;
	for (; *v; v++) {
		int d;
		if (isdigit((unsigned char)*v))
			d = *v - '0';
		else if (base == 16 && isxdigit((unsigned char)*v))
			d = tolower((unsigned char)*v) - 'a' + 10;
		else
			break;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		x = x * (uint64_t)base + (uint64_t)d;
		any = 1;
	}
	*out = x;
	return any ? 0 : -1;
}

static char *trim(char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	return v;
}

static int header_line(side *s, char *line)
{
	if (line[0] == ' ' || line[0] == '\t')
		return 0; /* obsolete line folding: not a header we use */
	char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return -1;
	*colon = '\0';
	char *name = line, *value = trim(colon + 1);
	if (!strcasecmp(name, "Content-Length")) {
		uint64_t v;
		if (parse_u64(value, 10, &v) < 0 || (s->has_clen && v != s->clen))
			return -1;
		s->clen = v;
		s->has_clen = 1;
	} else if (!strcasecmp(name, "Transfer-Encoding")) {
		/* chunked when it is the last coding applied */
		const char *last = strrchr(value, ',');
		last = last ? last + 1 : value;
		while (*last == ' ')
			last++;
		s->chunked = strncasecmp(last, "chunked", 7) == 0;
	} else if (!strcasecmp(name, "Content-Encoding")) {
		free(s->encoding);
		s->encoding = xstrdup(value);
	} else if (!strcasecmp(name, "Content-Disposition")) {
		free(s->disp_name);
		s->disp_name = filename_from_disposition(value);
	} else if (!strcasecmp(name, "Host")) {
		free(s->host);
		s->host = xstrdup(value);
	} else if (!strcasecmp(name, "Connection")) {
		if (strcasestr(value, "close"))
			s->close_after = s->close_after ? s->close_after : 1;
	}
	return 0;
}

/* Host without its port (IPv6 literals keep their brackets off). */
static char *host_only(const char *hostport)
{
	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		return end ? xstrndup(hostport + 1, (size_t)(end - hostport - 1)) : xstrdup(hostport);
	}
	const char *colon = strchr(hostport, ':');
	char *h = colon ? xstrndup(hostport, (size_t)(colon - hostport)) : xstrdup(hostport);
	str_lower(h);
	return h;
}

static void request_headers_done(ddi_http *h, side *s)
{
	const ddi_flow_info *fi = h->env.flow;
	pending_req *r = xcalloc(1, sizeof(*r));
	r->method = xstrdup(s->method);
	if (!strncasecmp(s->target, "http://", 7)) {
		const char *auth = s->target + 7;
		size_t alen = strcspn(auth, "/?#");
		char *hp = xstrndup(auth, alen);
		r->host = host_only(hp);
		free(hp);
		r->path = xstrdup(auth[alen] ? auth + alen : "/");
		r->url = xstrdup(s->target);
	} else {
		char *hp = s->host && *s->host ? xstrdup(s->host)
					       : (fi->server_port == 80
							  ? xstrdup(fi->server_ip)
							  : xasprintf("%s:%u", fi->server_ip, fi->server_port));
		r->host = host_only(hp);
		r->path = xstrdup(s->target);
		r->url = xasprintf("http://%s%s", hp, s->target[0] == '/' ? s->target : "/");
		free(hp);
	}
	if (h->q_len >= HTTP_MAX_PIPELINE) {
		req_free(r);
		side_kill(h, s);
		return;
	}
	if (h->q_tail)
		h->q_tail->next = r;
	else
		h->q_head = r;
	h->q_tail = r;
	h->q_len++;
}

static pending_req *queue_pop(ddi_http *h)
{
	pending_req *r = h->q_head;
	if (r) {
		h->q_head = r->next;
		if (!h->q_head)
			h->q_tail = NULL;
		h->q_len--;
		r->next = NULL;
	}
	return r;
}

/* End of the header block: decide how the body is framed. */
static void headers_done(ddi_http *h, int dir, int64_t ts)
{
	side *s = &h->s[dir];
	if (dir == DDI_TO_SERVER) {
		request_headers_done(h, s);
		if (s->state == ST_DEAD)
			return;
		if (s->chunked)
			s->state = ST_CHUNK_SIZE;
		else if (s->has_clen && s->clen > 0) {
			s->state = ST_BODY_LEN;
			s->remaining = s->clen;
		} else
			message_done(h, dir, ts);
		return;
	}
	if (s->status >= 100 && s->status < 200 && s->status != 101) {
		msg_reset(h, s); /* interim response: the real one follows */
		s->state = ST_START;
		return;
	}
	s->req = queue_pop(h);
	const char *method = s->req ? s->req->method : "";
	if (s->status == 101 || (!strcmp(method, "CONNECT") && s->status / 100 == 2)) {
		s->close_after = 2; /* protocol switch: what follows is not HTTP */
		message_done(h, dir, ts);
		return;
	}
	s->carving = s->status / 100 == 2 && s->status != 206 && strcmp(method, "HEAD") != 0;
	if (!strcmp(method, "HEAD") || s->status == 204 || s->status == 304)
		message_done(h, dir, ts);
	else if (s->chunked)
		s->state = ST_CHUNK_SIZE;
	else if (s->has_clen) {
		s->remaining = s->clen;
		if (s->clen == 0)
			message_done(h, dir, ts);
		else
			s->state = ST_BODY_LEN;
	} else
		s->state = ST_BODY_EOF;
}

/* One complete line (CRLF stripped) in a line-oriented state. */
static void handle_line(ddi_http *h, int dir, char *line, size_t raw_len, int64_t ts)
{
	side *s = &h->s[dir];
	switch (s->state) {
	case ST_START:
		if (line[0] == '\0')
			return; /* stray CRLF between messages */
		s->head_bytes = raw_len;
		if ((dir == DDI_TO_SERVER ? request_line(h, s, line) : status_line(s, line)) < 0) {
			side_kill(h, s);
			return;
		}
		s->state = ST_HEADERS;
		return;
	case ST_HEADERS:
		s->head_bytes += raw_len;
		if (s->head_bytes > HTTP_MAX_HEAD) {
			side_kill(h, s);
			return;
		}
		if (line[0] == '\0')
			headers_done(h, dir, ts);
		else if (header_line(s, line) < 0)
			side_kill(h, s);
		return;
	case ST_CHUNK_SIZE: {
		uint64_t size;
		if (parse_u64(line, 16, &size) < 0 || size > ((uint64_t)1 << 40)) {
			side_kill(h, s);
			return;
		}
		if (size == 0)
			s->state = ST_TRAILERS;
		else {
			s->remaining = size;
			s->state = ST_CHUNK_DATA;
		}
		return;
	}
	case ST_CHUNK_CRLF:
		if (line[0] != '\0')
			side_kill(h, s);
		else
			s->state = ST_CHUNK_SIZE;
		return;
	case ST_TRAILERS:
		if (line[0] == '\0')
			message_done(h, dir, ts);
		return;
	default:
		return;
	}
}

static int line_state(side_state st)
{
	return st == ST_START || st == ST_HEADERS || st == ST_CHUNK_SIZE || st == ST_CHUNK_CRLF ||
	       st == ST_TRAILERS;
}

/* Consume line bytes; returns bytes used. */
static size_t feed_line(ddi_http *h, int dir, const unsigned char *d, size_t n, int64_t ts)
{
	side *s = &h->s[dir];
	const unsigned char *nl = memchr(d, '\n', n);
	size_t take = nl ? (size_t)(nl - d) + 1 : n;
	if (s->line.len + take > HTTP_MAX_LINE || ddi_budget_take(h->env.budget, take) < 0) {
		side_kill(h, s);
		return n;
	}
	s->line_charged += take;
	sbuf_append(&s->line, d, take);
	if (!nl)
		return take;
	size_t len = s->line.len;
	char *line = s->line.data;
	line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', len)) {
		side_kill(h, s); /* NUL inside a protocol line: not HTTP */
		return n;
	}
	size_t raw = s->line.len;
	char *copy = xstrdup(line);
	line_release(h, s);
	handle_line(h, dir, copy, raw, ts);
	free(copy);
	return take;
}

static size_t feed_body(ddi_http *h, int dir, const unsigned char *d, size_t n, int64_t ts)
{
	side *s = &h->s[dir];
	if (s->state == ST_BODY_EOF) {
		body_bytes(h, s, d, n);
		return n;
	}
	size_t take = (uint64_t)n < s->remaining ? n : (size_t)s->remaining;
	body_bytes(h, s, d, take);
	s->remaining -= take;
	if (s->remaining == 0) {
		if (s->state == ST_CHUNK_DATA)
			s->state = ST_CHUNK_CRLF;
		else
			message_done(h, dir, ts);
	}
	return take;
}

int ddi_http_data(ddi_http *h, int dir, const unsigned char *d, size_t n, int64_t ts_ms)
{
	side *s = &h->s[dir];
	while (n > 0 && s->state != ST_DEAD) {
		size_t used = line_state(s->state) ? feed_line(h, dir, d, n, ts_ms)
						   : feed_body(h, dir, d, n, ts_ms);
		d += used;
		n -= used;
	}
	return h->s[0].state == ST_DEAD && h->s[1].state == ST_DEAD ? -1 : 0;
}

void ddi_http_gap(ddi_http *h, int dir, uint32_t lost)
{
	side *s = &h->s[dir];
	/* Inside a Content-Length body we still know where the message ends:
	 * the file is incomplete but the stream stays in step. */
	if (s->state == ST_BODY_LEN && lost < s->remaining) {
		s->remaining -= lost;
		s->truncated = 1;
		return;
	}
	if (s->state == ST_BODY_EOF) {
		s->truncated = 1;
		return;
	}
	side_kill(h, s);
}

void ddi_http_close(ddi_http *h, int64_t ts_ms)
{
	side *s = &h->s[DDI_TO_CLIENT];
	switch (s->state) {
	case ST_BODY_EOF:
	case ST_TRAILERS:
		message_done(h, DDI_TO_CLIENT, ts_ms);
		break;
	case ST_BODY_LEN:
	case ST_CHUNK_SIZE:
	case ST_CHUNK_DATA:
	case ST_CHUNK_CRLF:
		/* the connection ended inside a body: carve what arrived, marked */
		s->truncated = 1;
		message_done(h, DDI_TO_CLIENT, ts_ms);
		break;
	default:
		break;
	}
}

void ddi_http_free(ddi_http *h)
{
	if (!h)
		return;
	for (int dir = 0; dir < 2; dir++) {
		msg_reset(h, &h->s[dir]);
		line_release(h, &h->s[dir]);
		sbuf_free(&h->s[dir].line);
	}
	while (h->q_head)
		req_free(queue_pop(h));
	free(h);
}
