/* imsva_smtp_proto.c - the ESMTP state machine of IMSVA's intake (RFC 5321,
 * 1870 SIZE, 2920 PIPELINING, 6152 8BITMIME, 2034 ENHANCEDSTATUSCODES, 3207
 * STARTTLS). Pure: bytes in, replies out, no sockets, so every conversation
 * can be unit-tested. Replies follow Postfix's wording, since the real
 * appliance's MTA is Postfix.
 *
 * Input handling: lines end at LF; a CR before it is dropped. Command lines
 * are bounded by max_line (500 when longer). In DATA, a bare LF is normalised
 * to CRLF, but the end-of-data dot only counts as CRLF "." CRLF, so bare-LF
 * tricks cannot smuggle a second message. NUL bytes are refused in commands
 * and removed from message data.
 *
 * Faults on demand (fault.h, point "smtp") apply per step: the command verb
 * (EHLO, MAIL, RCPT, DATA, ...), CONNECT (the greeting) or EOM, the final
 * dot of a message. A rule
 * answers its code instead of the step, drops or resets the connection,
 * sends a reply that is not SMTP, or holds the step's reply for a delay. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fault.h"
#include "imsva_smtp.h"
#include "metrics.h"

/* A partial DATA line longer than this is flushed into the message: it can no
 * longer be the end-of-data dot, and memory stays bounded by max_size. */
#define DATA_LINE_CHUNK 8192
#define MAX_ADDR_LEN 320

typedef enum { ST_CMD, ST_DATA, ST_COMMIT, ST_CLOSED } proto_state;

struct smtp_proto {
	smtp_limits lim;
	proto_state state;
	char *client_ip;
	char *helo;
	int esmtp, tls, errors;
	/* the current transaction */
	int have_from;
	smtp_envelope *env;
	/* line assembly */
	sbuf line;
	int line_overflow;  /* command line over max_line: skip to LF */
	int line_partial;   /* DATA: the line's start was already flushed */
	int prev_crlf;      /* DATA: the previous line ended with CRLF */
	int oversize;       /* DATA: message over max_size, discard to the dot */
	/* a fault's delay: the step's reply waits, then after_delay applies */
	long delay_ms;
	smtp_action after_delay;
};

static const metric_def smtp_replies = {
	"ctdlab_smtp_replies_total", "SMTP replies sent, by code", METRIC_COUNTER, {"code"}};

/* Count the final line of each reply ("250 ...", not "250-..."). */
static void count_reply(const char *line, int n)
{
	if (n < 4 || line[3] != ' ' || !isdigit((unsigned char)line[0]))
		return;
	char code[4] = {line[0], line[1], line[2], '\0'};
	METRIC_INC(smtp_replies, code);
}

static void reply(sbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(sbuf *out, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 3)
		n = (int)(sizeof buf - 3);
	count_reply(buf, n);
	sbuf_append(out, buf, (size_t)n);
	sbuf_append(out, "\r\n", 2);
}

void smtp_envelope_free(smtp_envelope *e)
{
	if (!e)
		return;
	free(e->helo);
	free(e->client_ip);
	free(e->mail_from);
	for (int i = 0; i < e->nrcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	sbuf_free(&e->data);
	free(e);
}

static void reset_transaction(smtp_proto *p)
{
	smtp_envelope_free(p->env);
	p->env = NULL;
	p->have_from = 0;
	p->oversize = 0;
}

smtp_proto *smtp_proto_new(const smtp_limits *lim, const char *client_ip)
{
	smtp_proto *p = xcalloc(1, sizeof *p);
	p->lim = *lim;
	if (!p->lim.hostname)
		p->lim.hostname = "imsva.lab";
	if (p->lim.max_line < 64)
		p->lim.max_line = 64;
	if (p->lim.max_rcpts < 1)
		p->lim.max_rcpts = 1;
	if (p->lim.max_errors < 1)
		p->lim.max_errors = 20;
	p->client_ip = xstrdup(client_ip ? client_ip : "unknown");
	return p;
}

void smtp_proto_free(smtp_proto *p)
{
	if (!p)
		return;
	reset_transaction(p);
	free(p->client_ip);
	free(p->helo);
	sbuf_free(&p->line);
	free(p);
}

int smtp_proto_in_data(const smtp_proto *p)
{
	return p->state == ST_DATA;
}

smtp_envelope *smtp_proto_take_envelope(smtp_proto *p)
{
	if (p->state != ST_COMMIT)
		return NULL;
	smtp_envelope *e = p->env;
	p->env = NULL;
	return e;
}

/* A protocol error: count it; too many ends the session. Returns 1 when the
 * session must close. */
static int proto_error(smtp_proto *p, sbuf *out)
{
	if (++p->errors < p->lim.max_errors)
		return 0;
	reply(out, "421 4.7.0 %s Error: too many errors", p->lim.hostname);
	p->state = ST_CLOSED;
	return 1;
}

/* ---- address and parameter parsing ---- */

static int addr_char_ok(unsigned char c)
{
	return c > 32 && c < 127 && c != '<' && c != '>' && c != '(' && c != ')' && c != ','
	       && c != ';' && c != '\\' && c != '"';
}

/* Parse "<addr> params" (angle brackets optional). Returns the address
 * (malloc'd, may be "") and sets *params to the rest, or NULL when malformed. */
static char *parse_path(const char *s, const char **params)
{
	while (*s == ' ')
		s++;
	int angle = *s == '<';
	if (angle)
		s++;
	const char *a = s;
	while (*s && addr_char_ok((unsigned char)*s))
		s++;
	size_t alen = (size_t)(s - a);
	if (angle) {
		if (*s != '>')
			return NULL;
		s++;
	}
	if (*s && *s != ' ')
		return NULL;
	if (alen > MAX_ADDR_LEN || (!angle && alen == 0))
		return NULL;
	/* a source route "@a,@b:user@c" is not accepted by addr_char_ok (','),
	 * and an address must not start or end with '@' */
	if (alen && (a[0] == '@' || a[alen - 1] == '@'))
		return NULL;
	while (*s == ' ')
		s++;
	*params = s;
	return xstrndup(a, alen);
}

/* The argument after "FROM:" / "TO:" (case-insensitive, spaces allowed
 * before the colon's argument), or NULL. */
static const char *after_keyword(const char *arg, const char *kw)
{
	size_t n = strlen(kw);
	if (strncasecmp(arg, kw, n) != 0)
		return NULL;
	return arg + n;
}

/* MAIL parameters: SIZE=n and BODY=7BIT|8BITMIME. Returns 0, or writes the
 * error reply and returns -1. */
static int mail_params(smtp_proto *p, const char *params, sbuf *out)
{
	char *copy = xstrdup(params), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strncasecmp(tok, "SIZE=", 5) == 0) {
			char *end;
			unsigned long long n = strtoull(tok + 5, &end, 10);
			if (*end || !isdigit((unsigned char)tok[5])) {
				reply(out, "501 5.5.4 Bad message size syntax");
				rc = -1;
			} else if (p->lim.max_size && n > p->lim.max_size) {
				reply(out, "552 5.3.4 Message size exceeds fixed limit");
				rc = -1;
			}
		} else if (strncasecmp(tok, "BODY=", 5) == 0) {
			if (strcasecmp(tok + 5, "7BIT") && strcasecmp(tok + 5, "8BITMIME")) {
				reply(out, "501 5.5.4 Unsupported BODY parameter");
				rc = -1;
			}
		} else {
			reply(out, "555 5.5.4 Unsupported option: %.64s", tok);
			rc = -1;
		}
		if (rc)
			break;
	}
	free(copy);
	return rc;
}

/* ---- commands ---- */

static void cmd_helo(smtp_proto *p, const char *arg, int esmtp, sbuf *out)
{
	if (!*arg) {
		reply(out, "501 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		proto_error(p, out);
		return;
	}
	reset_transaction(p);
	free(p->helo);
	p->helo = xstrndup(arg, strnlen(arg, 255));
	p->esmtp = esmtp;
	if (!esmtp) {
		reply(out, "250 %s", p->lim.hostname);
		return;
	}
	reply(out, "250-%s", p->lim.hostname);
	reply(out, "250-PIPELINING");
	reply(out, "250-SIZE %zu", p->lim.max_size);
	reply(out, "250-VRFY");
	if (p->lim.tls_available && !p->tls)
		reply(out, "250-STARTTLS");
	reply(out, "250-ENHANCEDSTATUSCODES");
	reply(out, "250 8BITMIME");
}

static void cmd_mail(smtp_proto *p, const char *arg, sbuf *out)
{
	const char *rest, *params;
	char *addr;
	if (!p->helo) {
		reply(out, "503 5.5.1 Error: send HELO/EHLO first");
	} else if (p->have_from) {
		reply(out, "503 5.5.1 Error: nested MAIL command");
	} else if (!(rest = after_keyword(arg, "FROM:"))) {
		reply(out, "501 5.5.4 Syntax: MAIL FROM:<address>");
	} else if (!(addr = parse_path(rest, &params))) {
		reply(out, "501 5.1.7 Bad sender address syntax");
	} else if (*params && !p->esmtp) {
		free(addr);
		reply(out, "555 5.5.4 Unsupported option: %.64s", params);
	} else if (mail_params(p, params, out) < 0) {
		free(addr);
	} else {
		p->env = xcalloc(1, sizeof *p->env);
		p->env->mail_from = addr;
		p->have_from = 1;
		reply(out, "250 2.1.0 Ok");
		return;
	}
	proto_error(p, out);
}

static void cmd_rcpt(smtp_proto *p, const char *arg, sbuf *out)
{
	const char *rest, *params;
	char *addr;
	if (!p->have_from) {
		reply(out, "503 5.5.1 Error: need MAIL command");
	} else if (!(rest = after_keyword(arg, "TO:"))) {
		reply(out, "501 5.5.4 Syntax: RCPT TO:<address>");
	} else if (!(addr = parse_path(rest, &params)) || !*addr) {
		free(addr);
		reply(out, "501 5.1.3 Bad recipient address syntax");
	} else if (*params) {
		free(addr);
		reply(out, "555 5.5.4 Unsupported option: %.64s", params);
	} else if (p->env->nrcpts >= p->lim.max_rcpts) {
		free(addr);
		reply(out, "452 4.5.3 Error: too many recipients");
		return; /* a limit, not a client error */
	} else {
		smtp_envelope *e = p->env;
		e->rcpts = xrealloc(e->rcpts, sizeof(char *) * (size_t)(e->nrcpts + 1));
		e->rcpts[e->nrcpts++] = addr;
		reply(out, "250 2.1.5 Ok");
		return;
	}
	proto_error(p, out);
}

static void cmd_data(smtp_proto *p, const char *arg, sbuf *out)
{
	if (*arg) {
		reply(out, "501 5.5.4 Syntax: DATA");
	} else if (!p->have_from) {
		reply(out, "503 5.5.1 Error: need RCPT command");
	} else if (p->env->nrcpts == 0) {
		reply(out, "554 5.5.1 Error: no valid recipients");
	} else {
		p->state = ST_DATA;
		p->prev_crlf = 1;
		p->line_partial = 0;
		p->oversize = 0;
		reply(out, "354 End data with <CR><LF>.<CR><LF>");
		return;
	}
	proto_error(p, out);
}

static smtp_action cmd_starttls(smtp_proto *p, const char *arg, sbuf *out)
{
	if (*arg) {
		reply(out, "501 5.5.4 Syntax: STARTTLS");
	} else if (p->tls) {
		reply(out, "554 5.5.1 Error: TLS already active");
	} else if (!p->lim.tls_available) {
		reply(out, "502 5.5.1 Error: command not implemented");
	} else {
		reply(out, "220 2.0.0 Ready to start TLS");
		return SMTP_ACT_STARTTLS;
	}
	proto_error(p, out);
	return SMTP_ACT_NONE;
}

/* The enhanced status of a fault's reply code. */
static const char *fault_enhanced(int code)
{
	return code >= 500 ? "5.3.0" : code >= 400 ? "4.3.0" : "2.0.0";
}

/* A fault rule for step `verb` (fault.h). Returns 1 when the rule takes the
 * step: its reply is in out and *act says what follows; 0 to run the step.
 * Either way a delay may be pending: handle_line turns it into DELAY. */
static int step_fault(smtp_proto *p, const char *verb, sbuf *out, smtp_action *act)
{
	fault_hit hit;
	if (!fault_check(&(fault_request){.point = FAULT_SMTP, .target = verb,
					  .clients = {p->client_ip}},
			 &hit))
		return 0;
	p->delay_ms = hit.delay_ms;
	*act = SMTP_ACT_NONE;
	switch (hit.action) {
	case FAULT_DROP:
	case FAULT_RESET:
		*act = hit.action == FAULT_DROP ? SMTP_ACT_DROP : SMTP_ACT_RESET;
		break;
	case FAULT_MALFORMED:
		reply(out, "fault injected: %.200s", hit.message);
		break;
	case FAULT_RESPOND:
		if (!hit.status)
			return 0;
		reply(out, "%d %s Error: %.200s", hit.status, fault_enhanced(hit.status),
		      hit.message);
		break;
	}
	return 1;
}

/* act, or DELAY first when a fault's delay is pending. */
static smtp_action with_delay(smtp_proto *p, smtp_action act)
{
	if (!p->delay_ms)
		return act;
	p->after_delay = act;
	return SMTP_ACT_DELAY;
}

/* The greeting, or a fault of step CONNECT: its error reply ends the session. */
smtp_action smtp_proto_greet(smtp_proto *p, sbuf *out)
{
	smtp_action act;
	if (!step_fault(p, "CONNECT", out, &act))
		reply(out, "220 %s ESMTP Postfix", p->lim.hostname);
	else if (act == SMTP_ACT_NONE)
		act = SMTP_ACT_CLOSE;
	if (act == SMTP_ACT_CLOSE)
		p->state = ST_CLOSED;
	return with_delay(p, act);
}

long smtp_proto_delay(smtp_proto *p, smtp_action *after)
{
	long ms = p->delay_ms;
	*after = p->after_delay;
	p->delay_ms = 0;
	p->after_delay = SMTP_ACT_NONE;
	return ms;
}

/* The command's verb, upper-cased, for fault rules ("" when too long). */
static void verb_of(const char *line, size_t vlen, char *verb, size_t cap)
{
	size_t n = vlen < cap ? vlen : 0;
	for (size_t i = 0; i < n; i++)
		verb[i] = (char)toupper((unsigned char)line[i]);
	verb[n] = '\0';
}

static smtp_action run_command(smtp_proto *p, char *line, size_t len, sbuf *out)
{
	if (memchr(line, '\0', len)) {
		reply(out, "500 5.5.2 Error: NUL character in command");
		return proto_error(p, out) ? SMTP_ACT_CLOSE : SMTP_ACT_NONE;
	}
	char *arg = line;
	while (*arg && *arg != ' ')
		arg++;
	size_t vlen = (size_t)(arg - line);
	while (*arg == ' ')
		arg++;
	/* trailing spaces are not part of any argument */
	for (char *e = arg + strlen(arg); e > arg && (e[-1] == ' ' || e[-1] == '\t'); *--e = '\0')
		;
	char verb[16];
	smtp_action fact;
	verb_of(line, vlen, verb, sizeof verb);
	if (step_fault(p, verb, out, &fact))
		return fact;
#define VERB(v) (vlen == sizeof(v) - 1 && strncasecmp(line, v, vlen) == 0)
	if (VERB("EHLO"))
		cmd_helo(p, arg, 1, out);
	else if (VERB("HELO"))
		cmd_helo(p, arg, 0, out);
	else if (VERB("MAIL"))
		cmd_mail(p, arg, out);
	else if (VERB("RCPT"))
		cmd_rcpt(p, arg, out);
	else if (VERB("DATA"))
		cmd_data(p, arg, out);
	else if (VERB("RSET")) {
		reset_transaction(p);
		reply(out, "250 2.0.0 Ok");
	} else if (VERB("NOOP"))
		reply(out, "250 2.0.0 Ok");
	else if (VERB("QUIT")) {
		reply(out, "221 2.0.0 Bye");
		p->state = ST_CLOSED;
		return SMTP_ACT_CLOSE;
	} else if (VERB("VRFY")) {
		if (*arg)
			reply(out, "252 2.0.0 %.320s", arg);
		else {
			reply(out, "501 5.5.4 Syntax: VRFY address");
			proto_error(p, out);
		}
	} else if (VERB("HELP"))
		reply(out, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP%s",
		      p->lim.tls_available ? " STARTTLS" : "");
	else if (VERB("STARTTLS"))
		return cmd_starttls(p, arg, out);
	else {
		reply(out, "502 5.5.2 Error: command not recognized");
		proto_error(p, out);
	}
#undef VERB
	return p->state == ST_CLOSED ? SMTP_ACT_CLOSE : SMTP_ACT_NONE;
}

/* ---- DATA ---- */

static void data_append(smtp_proto *p, const char *s, size_t n)
{
	if (p->oversize)
		return;
	sbuf *d = &p->env->data;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\0')
			kept++;
	if (p->lim.max_size && d->len + kept > p->lim.max_size) {
		p->oversize = 1;
		sbuf_free(d);
		return;
	}
	if (kept == n) {
		sbuf_append(d, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\0')
			sbuf_append(d, s + i, 1);
}

/* One DATA line (without its line end). complete: the line ended (crlf says
 * how); otherwise this is a chunk of a long line. Returns 1 at end of data. */
static int data_line(smtp_proto *p, const char *s, size_t n, int complete, int crlf)
{
	if (!p->line_partial) {
		if (complete && crlf && p->prev_crlf && n == 1 && s[0] == '.')
			return 1;
		if (n && s[0] == '.') { /* dot-unstuffing */
			s++;
			n--;
		}
	}
	data_append(p, s, n);
	if (complete) {
		data_append(p, "\r\n", 2);
		p->prev_crlf = crlf;
		p->line_partial = 0;
	} else {
		p->line_partial = 1;
	}
	return 0;
}

static smtp_action end_of_data(smtp_proto *p, sbuf *out)
{
	if (p->oversize) {
		reply(out, "552 5.3.4 Error: message file too big");
		reset_transaction(p);
		p->state = ST_CMD;
		return SMTP_ACT_NONE;
	}
	smtp_action fact;
	if (step_fault(p, "EOM", out, &fact)) {
		reset_transaction(p);
		p->state = ST_CMD;
		return fact;
	}
	p->env->helo = xstrdup(p->helo ? p->helo : "");
	p->env->client_ip = xstrdup(p->client_ip);
	p->env->tls = p->tls;
	p->env->received_ms = time_now_ms();
	p->state = ST_COMMIT;
	return SMTP_ACT_COMMIT;
}

void smtp_proto_commit_done(smtp_proto *p, int ok, const char *queue_id, sbuf *out)
{
	if (p->state != ST_COMMIT)
		return;
	if (ok)
		reply(out, "250 2.0.0 Ok: queued as %s", queue_id ? queue_id : "?");
	else
		reply(out, "451 4.3.0 Error: queue file write error");
	reset_transaction(p);
	p->state = ST_CMD;
}

void smtp_proto_tls_started(smtp_proto *p)
{
	reset_transaction(p);
	free(p->helo);
	p->helo = NULL;
	p->esmtp = 0;
	p->tls = 1;
	sbuf_free(&p->line);
	p->line_overflow = 0;
}

void smtp_proto_timeout(smtp_proto *p, sbuf *out)
{
	reply(out, "421 4.4.2 %s Error: timeout exceeded", p->lim.hostname);
	p->state = ST_CLOSED;
}

/* ---- input ---- */

static smtp_action handle_line(smtp_proto *p, int crlf, sbuf *out)
{
	char *s = p->line.data ? p->line.data : "";
	size_t n = p->line.len;
	smtp_action act = SMTP_ACT_NONE;
	if (p->state == ST_DATA) {
		if (data_line(p, s, n, 1, crlf))
			act = end_of_data(p, out);
	} else if (p->line_overflow) {
		reply(out, "500 5.5.2 Error: line too long");
		act = proto_error(p, out) ? SMTP_ACT_CLOSE : SMTP_ACT_NONE;
	} else {
		act = run_command(p, s, n, out);
	}
	act = with_delay(p, act);
	p->line.len = 0;
	if (p->line.data)
		p->line.data[0] = '\0';
	p->line_overflow = 0;
	return act;
}

size_t smtp_proto_feed(smtp_proto *p, const char *data, size_t len, sbuf *out, smtp_action *act)
{
	size_t pos = 0;
	*act = SMTP_ACT_NONE;
	while (pos < len && *act == SMTP_ACT_NONE) {
		if (p->state == ST_COMMIT || p->state == ST_CLOSED)
			break;
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t chunk = lf ? (size_t)(lf - (data + pos)) : len - pos;
		if (p->state == ST_DATA) {
			sbuf_append(&p->line, data + pos, chunk);
		} else if (!p->line_overflow) {
			if (p->line.len + chunk + 2 > p->lim.max_line)
				p->line_overflow = 1;
			else
				sbuf_append(&p->line, data + pos, chunk);
		}
		pos += chunk;
		if (!lf) {
			/* flush a long partial DATA line, keeping a trailing CR back */
			if (p->state == ST_DATA && p->line.len > DATA_LINE_CHUNK) {
				size_t keep = p->line.data[p->line.len - 1] == '\r';
				data_line(p, p->line.data, p->line.len - keep, 0, 0);
				memmove(p->line.data, p->line.data + p->line.len - keep, keep);
				p->line.len = keep;
			}
			break;
		}
		pos++; /* the LF */
		int crlf = p->line.len && p->line.data[p->line.len - 1] == '\r';
		if (crlf)
			p->line.data[--p->line.len] = '\0';
		*act = handle_line(p, crlf, out);
	}
	if (p->state == ST_CLOSED && *act == SMTP_ACT_NONE)
		*act = SMTP_ACT_CLOSE;
	return pos;
}
