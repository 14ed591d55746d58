/* ddi_smtp.c - SMTP sessions on reassembled TCP streams: follow the client's
 * commands and the server's replies (pipelining included), collect each DATA
 * message (dot-unstuffed, bounded) and carve its attachments with GMime.
 *
 * A DATA refused by the server (anything but 354) is not collected; STARTTLS
 * accepted, BDAT or lines that are not SMTP end parsing of the session. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <gmime/gmime.h>

#include "util.h"
#include "ddi.h"

#define SMTP_MAX_LINE 4096
#define SMTP_MAX_PENDING 64
#define SMTP_MAX_DEPTH 8

typedef enum { CMD_OTHER, CMD_DATA, CMD_END_OF_DATA, CMD_STARTTLS } cmd_kind;

/* Where the data-mode scanner stands relative to the end-of-data line. */
typedef enum { DOT_LINESTART, DOT_MID, DOT_DOT, DOT_DOTCR } dot_state;

struct ddi_smtp {
	ddi_parser_env env;
	sbuf line[2];
	size_t line_charged[2];
	int dead;
	int in_data;
	dot_state dot;
	sbuf msg;
	size_t msg_charged;
	int msg_full;
	char *mail_from;
	cmd_kind pending[SMTP_MAX_PENDING];
	int p_head, p_len;
};

int ddi_smtp_is_greeting(const unsigned char *d, size_t n)
{
	return n >= 4 && !memcmp(d, "220", 3) && (d[3] == ' ' || d[3] == '-');
}

int ddi_smtp_is_command(const unsigned char *d, size_t n)
{
	static const char *const verbs[] = {"EHLO ", "HELO ", "LHLO "};
	for (size_t i = 0; i < 3; i++)
		if (n >= 5 && !strncasecmp((const char *)d, verbs[i], 5))
			return 1;
	return 0;
}

ddi_smtp *ddi_smtp_new(const ddi_parser_env *env)
{
	ddi_smtp *s = xcalloc(1, sizeof(*s));
	s->env = *env;
	return s;
}

static void msg_release(ddi_smtp *s)
{
	ddi_budget_give(s->env.budget, s->msg_charged);
	s->msg_charged = 0;
	sbuf_free(&s->msg);
	s->msg_full = 0;
	s->in_data = 0;
}

static void line_release(ddi_smtp *s, int dir)
{
	ddi_budget_give(s->env.budget, s->line_charged[dir]);
	s->line_charged[dir] = 0;
	s->line[dir].len = 0;
}

static void kill_session(ddi_smtp *s)
{
	msg_release(s);
	line_release(s, 0);
	line_release(s, 1);
	s->dead = 1;
}

static void pending_push(ddi_smtp *s, cmd_kind k)
{
	if (s->p_len == SMTP_MAX_PENDING)
		return; /* a client this far ahead is not one we can follow exactly */
	s->pending[(s->p_head + s->p_len) % SMTP_MAX_PENDING] = k;
	s->p_len++;
}

static int pending_pop(ddi_smtp *s, cmd_kind *k)
{
	if (s->p_len == 0)
		return -1;
	*k = s->pending[s->p_head];
	s->p_head = (s->p_head + 1) % SMTP_MAX_PENDING;
	s->p_len--;
	return 0;
}

/* ---- carving attachments */

typedef struct walk {
	const ddi_parser_env *env;
	const char *mail_from;
	int64_t ts;
	int depth;
	int truncated;
} walk;

static void carve_part(walk *w, GMimePart *part)
{
	const char *name = g_mime_part_get_filename(part);
	if (!name && !g_mime_part_is_attachment(part))
		return; /* message text, not a file */
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	if (!content)
		return;
	GMimeStream *mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	const ddi_flow_info *fi = w->env->flow;
	ddi_carved f = {0};
	f.proto = "SMTP";
	strcpy(f.client_ip, fi->client_ip);
	strcpy(f.server_ip, fi->server_ip);
	f.client_port = fi->client_port;
	f.server_port = fi->server_port;
	f.mail_from = w->mail_from;
	f.file_name = name && *name ? name : "attachment";
	f.data = bytes->data;
	f.len = bytes->len;
	f.truncated = w->truncated;
	if (f.len > w->env->lim->max_file_size) {
		f.len = w->env->lim->max_file_size;
		f.truncated = 1;
	}
	f.ts_ms = w->ts;
	if (f.len > 0)
		w->env->carve(&f, w->env->carve_cls);
	g_object_unref(mem);
}

static void walk_message(walk *w, GMimeMessage *msg);

static void walk_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	walk *w = data;
	if (GMIME_IS_MESSAGE_PART(part)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		if (inner && w->depth < SMTP_MAX_DEPTH) {
			w->depth++;
			walk_message(w, inner);
			w->depth--;
		}
	} else if (GMIME_IS_PART(part)) {
		carve_part(w, GMIME_PART(part));
	}
}

static void walk_message(walk *w, GMimeMessage *msg)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	if (!top)
		return;
	if (GMIME_IS_MULTIPART(top))
		g_mime_multipart_foreach(GMIME_MULTIPART(top), walk_part, w);
	else
		walk_part(NULL, top, w);
}

void ddi_smtp_carve_message(const ddi_parser_env *env, const char *mail_from,
			    const unsigned char *data, size_t len, int64_t ts_ms)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	if (msg) {
		walk w = {env, mail_from, ts_ms, 0, 0};
		walk_message(&w, msg);
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
}

/* ---- the session */

static void msg_emit(ddi_smtp *s, unsigned char c)
{
	if (s->msg_full)
		return;
	if (s->msg.len >= s->env.lim->max_file_size || ddi_budget_take(s->env.budget, 1) < 0) {
		s->msg_full = 1;
		return;
	}
	s->msg_charged++;
	sbuf_append(&s->msg, &c, 1);
}

static void message_end(ddi_smtp *s, int64_t ts)
{
	if (s->msg.len > 0 && !s->msg_full)
		ddi_smtp_carve_message(&s->env, s->mail_from, (const unsigned char *)s->msg.data,
				       s->msg.len, ts);
	msg_release(s);
	pending_push(s, CMD_END_OF_DATA);
}

/* Data mode: copy message bytes, undo dot-stuffing, stop at "<CRLF>.<CRLF>".
 * Returns the bytes consumed (the rest are commands again). */
static size_t data_bytes(ddi_smtp *s, const unsigned char *d, size_t n, int64_t ts)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = d[i];
		switch (s->dot) {
		case DOT_LINESTART:
			if (c == '.') {
				s->dot = DOT_DOT;
				continue;
			}
			msg_emit(s, c);
			s->dot = c == '\n' ? DOT_LINESTART : DOT_MID;
			break;
		case DOT_MID:
			msg_emit(s, c);
			if (c == '\n')
				s->dot = DOT_LINESTART;
			break;
		case DOT_DOT:
			if (c == '\r') {
				s->dot = DOT_DOTCR;
				continue;
			}
			if (c == '\n') {
				message_end(s, ts);
				return i + 1;
			}
			msg_emit(s, c); /* a stuffed dot: dropped */
			s->dot = DOT_MID;
			break;
		case DOT_DOTCR:
			if (c == '\n') {
				message_end(s, ts);
				return i + 1;
			}
			msg_emit(s, '\r');
			msg_emit(s, c);
			s->dot = DOT_MID;
			break;
		}
	}
	return n;
}

static void client_line(ddi_smtp *s, const char *line)
{
	if (!strncasecmp(line, "MAIL FROM:", 10)) {
		const char *v = line + 10;
		while (*v == ' ')
			v++;
		size_t len = strcspn(v, " ");
		free(s->mail_from);
		s->mail_from = xstrndup(v, len);
		pending_push(s, CMD_OTHER);
	} else if (!strcasecmp(line, "DATA")) {
		pending_push(s, CMD_DATA);
		s->in_data = 1;
		s->dot = DOT_LINESTART;
	} else if (!strcasecmp(line, "STARTTLS")) {
		pending_push(s, CMD_STARTTLS);
	} else if (!strncasecmp(line, "BDAT", 4)) {
		kill_session(s); /* CHUNKING is not followed */
	} else {
		for (const char *p = line; *p; p++)
			if (!isprint((unsigned char)*p)) {
				kill_session(s);
				return;
			}
		pending_push(s, CMD_OTHER);
	}
}

static void server_line(ddi_smtp *s, const char *line)
{
	if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || (line[3] != ' ' && line[3] != '-' && line[3])) {
		kill_session(s);
		return;
	}
	if (line[3] == '-')
		return; /* continuation of a multi-line reply */
	int code = atoi(line);
	cmd_kind k;
	if (pending_pop(s, &k) < 0)
		return; /* greeting, or a reply we cannot pair */
	if (k == CMD_DATA && code != 354)
		msg_release(s);
	else if (k == CMD_STARTTLS && code == 220)
		kill_session(s); /* encrypted from here on */
}

/* Accumulate one line of dir; returns bytes consumed. */
static size_t line_bytes(ddi_smtp *s, int dir, const unsigned char *d, size_t n)
{
	const unsigned char *nl = memchr(d, '\n', n);
	size_t take = nl ? (size_t)(nl - d) + 1 : n;
	if (s->line[dir].len + take > SMTP_MAX_LINE || ddi_budget_take(s->env.budget, take) < 0) {
		kill_session(s);
		return n;
	}
	s->line_charged[dir] += take;
	sbuf_append(&s->line[dir], d, take);
	if (!nl)
		return take;
	const char *raw = s->line[dir].data;
	size_t len = s->line[dir].len - 1;
	if (len > 0 && raw[len - 1] == '\r')
		len--;
	int has_nul = memchr(raw, '\0', len) != NULL;
	char *line = xstrndup(raw, len);
	line_release(s, dir);
	if (has_nul)
		kill_session(s); /* NUL inside a command line: not SMTP */
	else if (dir == DDI_TO_SERVER)
		client_line(s, line);
	else
		server_line(s, line);
	free(line);
	return take;
}

int ddi_smtp_data(ddi_smtp *s, int dir, const unsigned char *d, size_t n, int64_t ts_ms)
{
	while (n > 0 && !s->dead) {
		size_t used = (dir == DDI_TO_SERVER && s->in_data) ? data_bytes(s, d, n, ts_ms)
								     : line_bytes(s, dir, d, n);
		d += used;
		n -= used;
	}
	return s->dead ? -1 : 0;
}

void ddi_smtp_gap(ddi_smtp *s, int dir, uint32_t lost)
{
	/* Lost bytes inside a message or a command: the session cannot be
	 * followed reliably any more. */
	kill_session(s);
}

void ddi_smtp_free(ddi_smtp *s)
{
	if (!s)
		return;
	msg_release(s);
	for (int dir = 0; dir < 2; dir++) {
		line_release(s, dir);
		sbuf_free(&s->line[dir]);
	}
	free(s->mail_from);
	free(s);
}
