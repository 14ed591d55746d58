/* imsva_policy_eval.c - evaluation of ordered policy rules against a
 * scanned message: conditions, actions, the accumulated verdict and IMSVA's
 * filter / action log codes. Evaluation does no I/O: SO tables, web
 * reputation and the VA verdict come from the caller (imsva_lookups). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_policy_int.h"
#include "kwmatch.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * Keywords: all rules' subject keywords in one matcher, all body keywords in
 * another; rule i's ids sit in subject_ids / body_ids from its first index.
 * ------------------------------------------------------------------------ */
struct imsva_kw_index {
	kwmatch *subject, *body;
	size_t *subject_ids, *body_ids;
	size_t *subject_first, *body_first;
};

static void kw_index_add(kwmatch *k, const imsva_strv *kws, size_t **ids, size_t *nids)
{
	*ids = xrealloc(*ids, (*nids + kws->n + 1) * sizeof **ids);
	for (size_t i = 0; i < kws->n; i++)
		(*ids)[(*nids)++] = kwmatch_add(k, kws->v[i]);
}

static imsva_kw_index *kw_index_build(const imsva_ruleset *s)
{
	imsva_kw_index *kw = xcalloc(1, sizeof *kw);
	kw->subject = kwmatch_new();
	kw->body = kwmatch_new();
	kw->subject_first = xmalloc((s->n + 1) * sizeof *kw->subject_first);
	kw->body_first = xmalloc((s->n + 1) * sizeof *kw->body_first);
	size_t nsubject = 0, nbody = 0;
	for (size_t i = 0; i < s->n; i++) {
		kw->subject_first[i] = nsubject;
		kw->body_first[i] = nbody;
		kw_index_add(kw->subject, &s->rules[i]->cond.kw_subject, &kw->subject_ids, &nsubject);
		kw_index_add(kw->body, &s->rules[i]->cond.kw_body, &kw->body_ids, &nbody);
	}
	kwmatch_build(kw->subject);
	kwmatch_build(kw->body);
	return kw;
}

void imsva_kw_index_free(imsva_kw_index *kw)
{
	if (!kw)
		return;
	kwmatch_free(kw->subject);
	kwmatch_free(kw->body);
	free(kw->subject_ids);
	free(kw->body_ids);
	free(kw->subject_first);
	free(kw->body_first);
	free(kw);
}

void imsva_ruleset_compile(imsva_ruleset *s)
{
	imsva_kw_index_free(s->kw);
	s->kw = kw_index_build(s);
}

/* ------------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------------ */
/* IMSVA's log codes: 16-position filter code, 17-position action code. */
enum { F_VIRUS = 0, F_SPAM = 1, F_ATTACHMENT = 2, F_CONTENT = 3, F_SIZE = 4, F_OTHERS = 5,
       F_WRS = 9 };
enum { A_DELETED = 0, A_QUARANTINED = 1, A_DELIVERED = 2, A_CHANGED_RCPT = 4, A_STAMPED = 5,
       A_TAGGED = 7, A_NOTIFIED = 9, A_BCC = 11, A_HANDOFF = 12, A_XHEADER = 13 };

static void code_init(char *code, size_t n)
{
	memset(code, '0', n);
	code[n] = '\0';
}

typedef struct eval_ctx {
	const imsva_msg *m;
	const imsva_lookups *lk;
	const imsva_eval_opts *opts;
	imsva_so_action *so_file;   /* per part; -1 = not looked up */
	imsva_url_rating *urls;     /* per URL, lazily queried */
	int *url_so;                /* per URL effective SO action; -1 = not looked up */
	int defer;                  /* a lookup failed and the fallback is defer */
	int wrs_scope;              /* an enabled web reputation rule covers the message */
	int lookup_error;
	const imsva_kw_index *kw;
	size_t rule_pos;            /* the evaluated rule's position in the set */
	unsigned char *kw_subject;  /* per subject keyword id: found; NULL = not searched yet */
	unsigned char *kw_body;
	unsigned char *rule_parts;  /* match.parts of the evaluated rule, one buffer for all */
} eval_ctx;

/* What one rule's conditions found. */
typedef struct match {
	int any;                /* a condition matched */
	int non_so;             /* a condition other than SO matched */
	const char *filter;
	char filter_code[17];
	sbuf reason, violating;
	imsva_so_action so_max;
	unsigned char *parts;   /* parts that triggered (for VA); the context's buffer */
} match;

static void match_note(match *mt, const char *filter, int fbit, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void match_note(match *mt, const char *filter, int fbit, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!mt->filter)
		mt->filter = filter;
	mt->filter_code[fbit] = '1';
	sbuf_printf(&mt->reason, "%s%s", mt->reason.len ? "; " : "", buf);
}

/* "name (label)" of a part, archive members as "outer > inner". */
static void part_label(const imsva_msg *m, const imsva_part *p, sbuf *out)
{
	if (out->len)
		sbuf_puts(out, "; ");
	if (p->parent >= 0) {
		const imsva_part *root = p;
		while (root->parent >= 0)
			root = &m->parts[root->parent];
		sbuf_printf(out, "%s > ", root->filename ? root->filename : "(unnamed)");
	}
	sbuf_printf(out, "%s (%s)", p->filename ? p->filename : "(unnamed)", p->tft_label);
}

static void mark_part(match *mt, const imsva_msg *m, size_t i)
{
	mt->parts[i] = 1;
	part_label(m, &m->parts[i], &mt->violating);
}

static int cond_virus(eval_ctx *x, match *mt, int atse)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nparts; i++) {
		const imsva_part *p = &x->m->parts[i];
		const char *name = atse ? p->atse_name : p->virus_name;
		if (!name)
			continue;
		if (atse)
			match_note(mt, "Advanced Threat", F_VIRUS, "ATSE: %s", name);
		else
			match_note(mt, "Virus", F_VIRUS, "Virus: %s", name);
		mark_part(mt, x->m, i);
		hit = 1;
	}
	return hit;
}

static int part_has_tft(const imsva_part *p, const imsva_strv *ids)
{
	return imsva_strv_has(ids, imsva_tft_class_name(p->tft_class)) || imsva_strv_has(ids, p->tft_type);
}

static int cond_tft(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nparts; i++) {
		const imsva_part *p = &x->m->parts[i];
		if (!p->is_attachment || p->encrypted || !part_has_tft(p, &c->true_file_types))
			continue;
		match_note(mt, "Attachment", F_ATTACHMENT, "True file type: %s", p->tft_label);
		mark_part(mt, x->m, i);
		hit = 1;
	}
	return hit;
}

static int name_matches(const imsva_strv *pats, const char *name)
{
	const char *base = strrchr(name, '/');
	for (size_t i = 0; i < pats->n; i++)
		if (wildcard_match(pats->v[i], name) || (base && wildcard_match(pats->v[i], base + 1)))
			return 1;
	return 0;
}

static int cond_names(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nparts; i++) {
		const imsva_part *p = &x->m->parts[i];
		if (!p->is_attachment || !p->filename || !name_matches(&c->attachment_names, p->filename))
			continue;
		match_note(mt, "Attachment", F_ATTACHMENT, "Attachment name: %s", p->filename);
		mark_part(mt, x->m, i);
		hit = 1;
	}
	return hit;
}

static int cond_size(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nparts; i++) {
		const imsva_part *p = &x->m->parts[i];
		if (!p->is_attachment || p->parent >= 0)
			continue;
		if ((c->size_min >= 0 && (int64_t)p->size < c->size_min) ||
		    (c->size_max >= 0 && (int64_t)p->size > c->size_max))
			continue;
		match_note(mt, "Size", F_SIZE, "Attachment size: %zu bytes", p->size);
		mark_part(mt, x->m, i);
		hit = 1;
	}
	return hit;
}

/* Search the subject and body for every keyword of the policy, once per
 * message, when the first rule asks. */
static void keywords_scan(eval_ctx *x)
{
	if (x->kw_subject)
		return;
	x->kw_subject = xmalloc(kwmatch_count(x->kw->subject) + 1);
	x->kw_body = xmalloc(kwmatch_count(x->kw->body) + 1);
	kwmatch_scan(x->kw->subject, x->m->subject, x->kw_subject);
	kwmatch_scan(x->kw->body, x->m->body_text, x->kw_body);
}

static int cond_keywords(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	size_t total = c->kw_subject.n + c->kw_body.n, found = 0;
	const char *first = NULL;
	const size_t *subject_ids = x->kw->subject_ids + x->kw->subject_first[x->rule_pos];
	const size_t *body_ids = x->kw->body_ids + x->kw->body_first[x->rule_pos];
	keywords_scan(x);
	for (size_t i = 0; i < c->kw_subject.n; i++)
		if (x->kw_subject[subject_ids[i]] && ++found == 1)
			first = c->kw_subject.v[i];
	for (size_t i = 0; i < c->kw_body.n; i++)
		if (x->kw_body[body_ids[i]] && ++found == 1)
			first = c->kw_body.v[i];
	int hit = c->kw_match == IMSVA_KW_ANY ? found > 0
		  : c->kw_match == IMSVA_KW_ALL ? found == total
						: found == 0;
	if (hit) {
		if (first && c->kw_match != IMSVA_KW_NOT)
			match_note(mt, "Content", F_CONTENT, "Keyword: %s", first);
		else
			match_note(mt, "Content", F_CONTENT, "Keywords: none of the listed");
	}
	return hit;
}

static double spam_threshold(imsva_level l)
{
	return l == IMSVA_LEVEL_HIGH ? 3.0 : l == IMSVA_LEVEL_MEDIUM ? 5.0 : 7.0;
}

static int cond_spam(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	if (x->m->spam_score < spam_threshold(c->spam_level))
		return 0;
	match_note(mt, "Spam/Phishing", F_SPAM, "Spam (score %.1f)", x->m->spam_score);
	return 1;
}

/* Web reputation of URL i, queried once per evaluation. NULL: unavailable. */
static const imsva_url_rating *url_rating(eval_ctx *x, size_t i)
{
	imsva_url_rating *u = &x->urls[i];
	if (!u->queried && x->lk && x->lk->wrs) {
		u->queried = 1;
		if (x->lk->wrs(x->lk->ctx, u->url, &u->rating) < 0) {
			u->error = 1;
			memset(&u->rating, 0, sizeof u->rating);
			x->lookup_error = 1;
			if (x->opts->wrs_defer_on_error)
				x->defer = 1;
		}
	}
	return u->queried && !u->error ? u : NULL;
}

static int cond_wrs(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nurls && !x->defer; i++) {
		const imsva_url_rating *u = url_rating(x, i);
		if (!u || !imsva_wrs_blocked(c->wrs_sensitivity, u->rating.cls))
			continue;
		match_note(mt, "Web Reputation", F_WRS, "Web Reputation: %s", u->url);
		sbuf_printf(&mt->violating, "%s%s (%s)", mt->violating.len ? "; " : "", u->url,
			    imsva_wrs_class_name(u->rating.cls));
		hit = 1;
	}
	return hit;
}

/* URL SOs reach IMSVA through web reputation (the seed's note 1): without a
 * web reputation rule for the message its URLs are not checked at all, so
 * the built-in URL rule has nothing to act on (docs/imsva.md). */
static imsva_so_action url_so_action(eval_ctx *x, size_t i)
{
	if (x->url_so[i] < 0) {
		if (!x->wrs_scope) {
			x->url_so[i] = IMSVA_SO_NONE;
		} else if (x->lk && x->lk->so_url) {
			x->url_so[i] = (int)x->lk->so_url(x->lk->ctx, x->m->urls[i]);
		} else {
			const imsva_url_rating *u = url_rating(x, i);
			x->url_so[i] = u ? (int)u->rating.so_action : IMSVA_SO_NONE;
		}
		x->urls[i].so_action = (imsva_so_action)x->url_so[i];
	}
	return (imsva_so_action)x->url_so[i];
}

static void so_note(match *mt, imsva_so_action a)
{
	if (a > mt->so_max)
		mt->so_max = a;
}

static int cond_so_file(eval_ctx *x, match *mt)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nparts; i++) {
		const imsva_part *p = &x->m->parts[i];
		if (!p->is_attachment || p->encrypted)
			continue;
		if ((int)x->so_file[i] < 0)
			x->so_file[i] = x->lk && x->lk->so_file ? x->lk->so_file(x->lk->ctx, p->sha1)
								: IMSVA_SO_NONE;
		if (x->so_file[i] == IMSVA_SO_NONE)
			continue;
		match_note(mt, "Suspicious Object", F_OTHERS, "Suspicious file: %s (%s)", p->sha1,
			   imsva_so_action_name(x->so_file[i]));
		mark_part(mt, x->m, i);
		so_note(mt, x->so_file[i]);
		hit = 1;
	}
	return hit;
}

static int cond_so_url(eval_ctx *x, match *mt)
{
	int hit = 0;
	for (size_t i = 0; i < x->m->nurls && !x->defer; i++) {
		imsva_so_action a = url_so_action(x, i);
		if (a == IMSVA_SO_NONE)
			continue;
		match_note(mt, "Suspicious Object", F_WRS, "Suspicious URL: %s (%s)", x->m->urls[i],
			   imsva_so_action_name(a));
		sbuf_printf(&mt->violating, "%s%s", mt->violating.len ? "; " : "", x->m->urls[i]);
		so_note(mt, a);
		hit = 1;
	}
	return hit;
}

/* Evaluate the set conditions of a rule, cheapest first; any/all decides.
 * Once the outcome is known (any: a match; all: a miss) the remaining
 * conditions are only counted, so the SO and SPS lookups, which come last,
 * are not made for nothing. Returns 1 when the rule's filter matches. */
static int conditions_match(eval_ctx *x, const imsva_rule *r, match *mt)
{
	const imsva_conditions *c = &r->cond;
	int all = c->match == IMSVA_MATCH_ALL, set = 0, matched = 0;
#define TRY(enabled, expr, is_so)                                                              \
	do {                                                                                   \
		if (!(enabled))                                                                \
			break;                                                                 \
		set++;                                                                         \
		if (!all && matched)                                                           \
			break;                                                                 \
		if (all && set - 1 > matched)                                                  \
			break;                                                                 \
		if (expr) {                                                                    \
			matched++;                                                             \
			if (!(is_so))                                                          \
				mt->non_so = 1;                                                \
		}                                                                              \
	} while (0)
	TRY(c->virus, cond_virus(x, mt, 0), 0);
	TRY(c->atse, cond_virus(x, mt, 1), 0);
	TRY(c->true_file_types.n, cond_tft(x, c, mt), 0);
	TRY(c->attachment_names.n, cond_names(x, c, mt), 0);
	TRY(c->size_min >= 0 || c->size_max >= 0, cond_size(x, c, mt), 0);
	TRY(c->kw_subject.n || c->kw_body.n, cond_keywords(x, c, mt), 0);
	TRY(c->spam, cond_spam(x, c, mt), 0);
	TRY(c->so_file, cond_so_file(x, mt), 1);
	TRY(c->so_url, cond_so_url(x, mt), 1);
	TRY(c->wrs, cond_wrs(x, c, mt), 0);
#undef TRY
	if (set == 0)
		return 1;
	return all ? matched == set : matched > 0;
}

/* Attachments to submit to VA: the triggering parts (an archive member
 * counts as its top-level attachment), else every top-level attachment. */
static void va_parts(const imsva_msg *m, const match *mt, imsva_verdict *v)
{
	unsigned char *want = xcalloc(m->nparts ? m->nparts : 1, 1);
	int any = 0;
	for (size_t i = 0; i < m->nparts; i++) {
		if (!mt->parts[i] || !m->parts[i].is_attachment)
			continue;
		size_t root = i;
		while (m->parts[root].parent >= 0)
			root = (size_t)m->parts[root].parent;
		want[root] = 1;
		any = 1;
	}
	for (size_t i = 0; i < m->nparts; i++)
		if (any ? want[i] : (m->parts[i].is_attachment && m->parts[i].parent < 0))
			want[i] = 1;
	v->nva_parts = 0;
	for (size_t i = 0; i < m->nparts; i++) {
		if (!want[i])
			continue;
		v->va_parts = xrealloc(v->va_parts, (v->nva_parts + 1) * sizeof *v->va_parts);
		v->va_parts[v->nva_parts++] = i;
	}
	free(want);
}

static void set_xheader(imsva_verdict *v, const char *name, const char *value)
{
	for (size_t i = 0; i < v->nxheaders; i++) {
		if (!strcasecmp(v->xheaders[i].name, name)) {
			free(v->xheaders[i].value);
			v->xheaders[i].value = xstrdup(value);
			return;
		}
	}
	v->xheaders = xrealloc(v->xheaders, (v->nxheaders + 1) * sizeof *v->xheaders);
	v->xheaders[v->nxheaders].name = xstrdup(name);
	v->xheaders[v->nxheaders].value = xstrdup(value);
	v->nxheaders++;
}

/* Accumulate the rule's modify and monitor actions into the verdict. */
static void accumulate(imsva_verdict *v, const imsva_rule *r, imsva_hit *h)
{
	const imsva_actions *a = &r->act;
	if (a->tag_subject) {
		imsva_strv_push(&v->subject_tags, a->tag_subject);
		h->action_code[A_TAGGED] = '1';
	}
	if (a->xheader_name) {
		set_xheader(v, a->xheader_name, a->xheader_value ? a->xheader_value : "");
		h->action_code[A_XHEADER] = '1';
	}
	if (a->stamp) {
		imsva_strv_push(&v->stamps, a->stamp);
		h->action_code[A_STAMPED] = '1';
	}
	if (a->notify) {
		v->notifies = xrealloc(v->notifies, (v->nnotifies + 1) * sizeof *v->notifies);
		imsva_notify *n = &v->notifies[v->nnotifies++];
		n->rule_name = xstrdup(r->name);
		n->to = imsva_strv_dup(&a->notify_to);
		n->message = imsva_dup_opt(a->notify_message);
		h->action_code[A_NOTIFIED] = '1';
	}
	for (size_t i = 0; i < a->bcc.n; i++) {
		imsva_strv_push(&v->bcc, a->bcc.v[i]);
		h->action_code[A_BCC] = '1';
	}
}

static void intercept_bits(char *code, imsva_intercept i)
{
	switch (i) {
	case IMSVA_INTERCEPT_DELETE: code[A_DELETED] = '1'; break;
	case IMSVA_INTERCEPT_QUARANTINE: code[A_QUARANTINED] = '1'; break;
	case IMSVA_INTERCEPT_CHANGE_RCPT:
		code[A_CHANGED_RCPT] = '1';
		code[A_DELIVERED] = '1';
		break;
	case IMSVA_INTERCEPT_HANDOFF: code[A_HANDOFF] = '1'; break;
	default: code[A_DELIVERED] = '1';
	}
}

/* Apply a matched rule: record its hit, accumulate, maybe intercept.
 * Returns 1 when evaluation ends here. */
static int apply_rule(imsva_verdict *v, const imsva_rule *r, match *mt, const char *va_reason)
{
	v->hits = xrealloc(v->hits, (v->nhits + 1) * sizeof *v->hits);
	imsva_hit *h = &v->hits[v->nhits++];
	memset(h, 0, sizeof *h);
	h->rule_id = r->id;
	h->rule_name = xstrdup(r->name ? r->name : "");
	h->rule_type = r->type;
	h->builtin = r->builtin;
	h->so_action = mt->so_max;
	memcpy(h->filter_code, mt->filter_code, sizeof h->filter_code);
	h->filter = mt->filter ? mt->filter : "Others";
	if (!mt->filter)
		h->filter_code[F_OTHERS] = '1';
	if (va_reason) {
		h->reason = mt->reason.len ? xasprintf("%s; %s", va_reason, mt->reason.data)
					   : xstrdup(va_reason);
		h->filter = "Advanced Threat";
	} else {
		h->reason = xstrdup(mt->reason.len ? mt->reason.data : "Route matched");
	}
	h->violating = xstrdup(mt->violating.len ? mt->violating.data : "");
	code_init(h->action_code, 17);

	/* An SO with action Log only logs: no intercept, no modification. */
	int log_only = mt->so_max == IMSVA_SO_LOG && !mt->non_so;
	h->intercept = log_only ? IMSVA_INTERCEPT_DELIVER : r->act.intercept;
	if (!log_only)
		accumulate(v, r, h);
	intercept_bits(h->action_code, h->intercept);
	if (h->intercept == IMSVA_INTERCEPT_DELIVER)
		return 0;
	v->intercept = h->intercept;
	v->terminal_hit = (int)v->nhits - 1;
	if (h->intercept == IMSVA_INTERCEPT_QUARANTINE)
		v->quarantine_area = xstrdup(r->act.quarantine_area ? r->act.quarantine_area
								    : "Default");
	if (h->intercept == IMSVA_INTERCEPT_CHANGE_RCPT)
		v->new_rcpts = imsva_strv_dup(&r->act.change_rcpts);
	if (h->intercept == IMSVA_INTERCEPT_HANDOFF) {
		v->handoff_host = imsva_dup_opt(r->act.handoff_host);
		v->handoff_port = r->act.handoff_port;
	}
	return 1;
}

static int route_list_match(const imsva_strv *pats, const char *addr)
{
	if (pats->n == 0)
		return 1;
	for (size_t i = 0; i < pats->n; i++)
		if (!strcasecmp(pats->v[i], "all users") || wildcard_match(pats->v[i], addr))
			return 1;
	return 0;
}

int imsva_route_match(const imsva_route *r, const imsva_envelope *env)
{
	if (!route_list_match(&r->senders, env->sender ? env->sender : ""))
		return 0;
	if (r->recipients.n == 0)
		return 1;
	for (size_t i = 0; i < env->nrcpts; i++)
		if (route_list_match(&r->recipients, env->rcpts[i]))
			return 1;
	return 0;
}

static void verdict_finish(imsva_verdict *v, eval_ctx *x)
{
	code_init(v->action_code, 17);
	for (size_t i = 0; i < v->nhits; i++)
		for (int k = 0; k < 17; k++)
			if (k != A_DELIVERED && v->hits[i].action_code[k] == '1')
				v->action_code[k] = '1';
	intercept_bits(v->action_code, v->intercept);
	for (size_t i = 0; i < x->m->nurls; i++) {
		if (!x->urls[i].queried && x->url_so[i] < 0) {
			free(x->urls[i].url);
			continue;
		}
		v->urls = xrealloc(v->urls, (v->nurls + 1) * sizeof *v->urls);
		v->urls[v->nurls++] = x->urls[i];
	}
	v->lookup_error = x->lookup_error;
}

static void match_free(match *mt)
{
	sbuf_free(&mt->reason);
	sbuf_free(&mt->violating);
}

/* One rule: 1 = evaluation ends (intercept, VA park, defer), 0 = go on. */
static int evaluate_rule(eval_ctx *x, const imsva_rule *r, const imsva_va_state *va,
			 imsva_verdict *v)
{
	match mt = {0};
	mt.parts = x->rule_parts;
	memset(mt.parts, 0, x->m->nparts);
	code_init(mt.filter_code, 16);
	int end = 0;
	int matched = conditions_match(x, r, &mt);
	if (x->defer) {
		v->status = IMSVA_EVAL_DEFER;
		end = 1;
	} else if (matched) {
		const char *va_reason = NULL;
		int skip = 0;
		int wants_va = r->act.submit_va && x->opts->va_enabled &&
			       !(mt.so_max == IMSVA_SO_LOG && !mt.non_so);
		if (wants_va && x->opts->atse_off) {
			/* the product submits through ATSE: off, the rule acts alone */
			wants_va = 0;
			v->va_skipped_atse_off = 1;
			sbuf_printf(&mt.reason, "%s" IMSVA_REASON_VA_ATSE_OFF,
				    mt.reason.len ? "; " : "");
		}
		if (wants_va) {
			va_parts(x->m, &mt, v);
			if (v->nva_parts == 0) {
				wants_va = 0; /* nothing to analyse: the rule applies as is */
			} else if (!va || va->status == IMSVA_VA_NOT_SUBMITTED ||
				   va->status == IMSVA_VA_PENDING) {
				v->status = va && va->status == IMSVA_VA_PENDING
						    ? IMSVA_EVAL_VA_WAIT
						    : IMSVA_EVAL_VA_SUBMIT;
				v->va_rule_id = r->id;
				v->va_rule_name = xstrdup(r->name ? r->name : "");
				match_free(&mt);
				return 1;
			}
			if (wants_va) {
				imsva_va_act act = imsva_va_map(x->opts->va_level, va);
				skip = act == IMSVA_VA_ACT_NONE;
				va_reason = skip ? NULL : imsva_va_act_reason(act);
			}
			free(v->va_parts);
			v->va_parts = NULL;
			v->nva_parts = 0;
		}
		if (!skip)
			end = apply_rule(v, r, &mt, va_reason);
	}
	match_free(&mt);
	return end;
}

/* Does an enabled rule with the web reputation condition apply to this
 * envelope? Only then does IMSVA ask SPS about the message's URLs. */
static int wrs_in_scope(const imsva_ruleset *rules, const imsva_envelope *env)
{
	for (size_t i = 0; i < rules->n; i++) {
		const imsva_rule *r = rules->rules[i];
		if (r->enabled && r->cond.wrs && imsva_route_match(&r->route, env))
			return 1;
	}
	return 0;
}

int imsva_policy_evaluate(const imsva_ruleset *rules, const imsva_msg *m,
			  const imsva_envelope *env, const imsva_lookups *lk,
			  const imsva_eval_opts *opts, const imsva_va_state *va,
			  imsva_verdict *out, ctd_err *err)
{
	static const imsva_eval_opts default_opts = {0};
	memset(out, 0, sizeof *out);
	out->terminal_hit = -1;
	if (!rules || !m || !env)
		return ctd_fail(err, CTD_EINVAL, "evaluate: rules, message and envelope required");
	eval_ctx x = {.m = m, .lk = lk, .opts = opts ? opts : &default_opts};
	x.so_file = xmalloc((m->nparts ? m->nparts : 1) * sizeof *x.so_file);
	x.rule_parts = xmalloc(m->nparts ? m->nparts : 1);
	for (size_t i = 0; i < m->nparts; i++)
		x.so_file[i] = (imsva_so_action)-1;
	x.urls = xcalloc(m->nurls ? m->nurls : 1, sizeof *x.urls);
	x.url_so = xmalloc((m->nurls ? m->nurls : 1) * sizeof *x.url_so);
	for (size_t i = 0; i < m->nurls; i++) {
		x.urls[i].url = xstrdup(m->urls[i]);
		x.url_so[i] = -1;
	}
	x.wrs_scope = wrs_in_scope(rules, env);
	imsva_kw_index *own_kw = rules->kw ? NULL : kw_index_build(rules);
	x.kw = rules->kw ? rules->kw : own_kw;
	for (size_t i = 0; i < rules->n; i++) {
		const imsva_rule *r = rules->rules[i];
		if (!r->enabled || !imsva_route_match(&r->route, env))
			continue;
		x.rule_pos = i;
		if (evaluate_rule(&x, r, va, out))
			break;
	}
	verdict_finish(out, &x);
	imsva_kw_index_free(own_kw);
	free(x.kw_subject);
	free(x.kw_body);
	free(x.so_file);
	free(x.rule_parts);
	free(x.urls);
	free(x.url_so);
	return 0;
}

void imsva_verdict_free(imsva_verdict *v)
{
	if (!v)
		return;
	free(v->quarantine_area);
	imsva_strv_free(&v->new_rcpts);
	free(v->handoff_host);
	imsva_strv_free(&v->subject_tags);
	for (size_t i = 0; i < v->nxheaders; i++) {
		free(v->xheaders[i].name);
		free(v->xheaders[i].value);
	}
	free(v->xheaders);
	imsva_strv_free(&v->stamps);
	for (size_t i = 0; i < v->nnotifies; i++) {
		free(v->notifies[i].rule_name);
		imsva_strv_free(&v->notifies[i].to);
		free(v->notifies[i].message);
	}
	free(v->notifies);
	imsva_strv_free(&v->bcc);
	for (size_t i = 0; i < v->nhits; i++) {
		free(v->hits[i].rule_name);
		free(v->hits[i].reason);
		free(v->hits[i].violating);
	}
	free(v->hits);
	free(v->va_rule_name);
	free(v->va_parts);
	for (size_t i = 0; i < v->nurls; i++)
		free(v->urls[i].url);
	free(v->urls);
	memset(v, 0, sizeof *v);
	v->terminal_hit = -1;
}
