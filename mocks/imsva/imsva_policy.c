/* imsva_policy.c - IMSVA's policy rule model: the names of its enums, the
 * VA verdict mapping by security level, and rule / rule set objects (new,
 * copy, free, ordering). Its JSON form is imsva_policy_json.c, the default
 * rules imsva_policy_defaults.c, evaluation imsva_policy_eval.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_policy_int.h"
#include "util.h"


/* ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------ */
const char *const imsva_intercept_names[] = {"deliver", "delete", "quarantine",
					      "change_recipient", "handoff"};
const char *const imsva_level_names[] = {"low", "medium", "high"};
static const char *const so_action_names[] = {"none", "log", "block", "quarantine"};
static const char *const wrs_names[] = {"Unrated", "Safe", "Suspicious", "Highly Suspicious",
					"Dangerous"};
const char *const imsva_builtin_ids[] = {NULL, "so_file", "so_url"};

const char *imsva_intercept_name(imsva_intercept i)
{
	return (unsigned)i < 5 ? imsva_intercept_names[i] : "deliver";
}

const char *imsva_level_name(imsva_level l)
{
	return (unsigned)l < 3 ? imsva_level_names[l] : "low";
}

const char *imsva_so_action_name(imsva_so_action a)
{
	return (unsigned)a < 4 ? so_action_names[a] : "none";
}

const char *imsva_wrs_class_name(imsva_wrs_class c)
{
	return (unsigned)c < 5 ? wrs_names[c] : "Unrated";
}

int imsva_wrs_class_parse(const char *s, imsva_wrs_class *out)
{
	for (int i = 0; i < 5; i++) {
		const char *n = wrs_names[i];
		size_t k = 0;
		/* case-insensitive, '_' or '-' standing for the space */
		for (; n[k] && s[k]; k++) {
			char a = (char)tolower((unsigned char)n[k]), b = (char)tolower((unsigned char)s[k]);
			if (a != b && !(a == ' ' && (b == '_' || b == '-')))
				break;
		}
		if (!n[k] && !s[k]) {
			*out = (imsva_wrs_class)i;
			return 0;
		}
	}
	return -1;
}

int imsva_wrs_blocked(imsva_level sensitivity, imsva_wrs_class c)
{
	switch (sensitivity) {
	case IMSVA_LEVEL_HIGH: return c >= IMSVA_WRS_SUSPICIOUS;
	case IMSVA_LEVEL_MEDIUM: return c >= IMSVA_WRS_HIGHLY_SUSPICIOUS;
	default: return c == IMSVA_WRS_DANGEROUS;
	}
}

int imsva_locale_parse(const char *s, imsva_locale *out)
{
	if (!strcasecmp(s, "en"))
		*out = IMSVA_LOCALE_EN;
	else if (!strcasecmp(s, "ja"))
		*out = IMSVA_LOCALE_JA;
	else
		return -1;
	return 0;
}

const char *imsva_builtin_name(imsva_builtin b, imsva_locale loc)
{
	if (b == IMSVA_BUILTIN_SO_FILE)
		return loc == IMSVA_LOCALE_JA ? "TMCM_不審ファイル検出ルール"
					      : "TMCM_Suspicious File detection rule";
	if (b == IMSVA_BUILTIN_SO_URL)
		return loc == IMSVA_LOCALE_JA ? "TMCM_不審URL検出ルール"
					      : "TMCM_Suspicious URL detection rule";
	return "";
}

/* ------------------------------------------------------------------------
 * VA verdict mapping
 * ------------------------------------------------------------------------ */
imsva_va_act imsva_va_map(imsva_level level, const imsva_va_state *va)
{
	switch (va->status) {
	case IMSVA_VA_TIMEOUT:
	case IMSVA_VA_ERROR:
		return IMSVA_VA_ACT_PROBABLE;
	case IMSVA_VA_DONE:
		break;
	default:
		return IMSVA_VA_ACT_NONE;
	}
	if (va->risk < 0 || va->risk > 3)
		return IMSVA_VA_ACT_PROBABLE; /* unsupported or invalid: scanning exception */
	if (va->risk == 0)
		return IMSVA_VA_ACT_NONE;
	int lowest = level == IMSVA_LEVEL_HIGH ? 1 : level == IMSVA_LEVEL_MEDIUM ? 2 : 3;
	return va->risk >= lowest ? IMSVA_VA_ACT_ANALYZED : IMSVA_VA_ACT_NONE;
}

const char *imsva_va_act_reason(imsva_va_act a)
{
	return a == IMSVA_VA_ACT_ANALYZED ? IMSVA_REASON_VA_ANALYZED
	       : a == IMSVA_VA_ACT_PROBABLE ? IMSVA_REASON_VA_PROBABLE
					    : "";
}

/* ------------------------------------------------------------------------
 * Rule objects
 * ------------------------------------------------------------------------ */
void imsva_strv_push(imsva_strv *s, const char *v)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n++] = xstrdup(v);
}

void imsva_strv_free(imsva_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

imsva_strv imsva_strv_dup(const imsva_strv *s)
{
	imsva_strv d = {0};
	for (size_t i = 0; i < s->n; i++)
		imsva_strv_push(&d, s->v[i]);
	return d;
}

int imsva_strv_has(const imsva_strv *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return 1;
	return 0;
}

char *imsva_dup_opt(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

imsva_rule *imsva_rule_new(void)
{
	imsva_rule *r = xcalloc(1, sizeof *r);
	r->enabled = 1;
	r->type = IMSVA_RULE_OTHER;
	r->cond.size_min = r->cond.size_max = -1;
	r->cond.spam_level = IMSVA_LEVEL_MEDIUM;
	r->cond.wrs_sensitivity = IMSVA_LEVEL_MEDIUM;
	r->act.handoff_port = 25;
	return r;
}

imsva_rule *imsva_rule_dup(const imsva_rule *r)
{
	imsva_rule *d = xmalloc(sizeof *d);
	*d = *r;
	d->name = imsva_dup_opt(r->name);
	d->notes = imsva_dup_opt(r->notes);
	d->route.senders = imsva_strv_dup(&r->route.senders);
	d->route.recipients = imsva_strv_dup(&r->route.recipients);
	d->cond.true_file_types = imsva_strv_dup(&r->cond.true_file_types);
	d->cond.attachment_names = imsva_strv_dup(&r->cond.attachment_names);
	d->cond.kw_subject = imsva_strv_dup(&r->cond.kw_subject);
	d->cond.kw_body = imsva_strv_dup(&r->cond.kw_body);
	d->act.quarantine_area = imsva_dup_opt(r->act.quarantine_area);
	d->act.change_rcpts = imsva_strv_dup(&r->act.change_rcpts);
	d->act.handoff_host = imsva_dup_opt(r->act.handoff_host);
	d->act.tag_subject = imsva_dup_opt(r->act.tag_subject);
	d->act.xheader_name = imsva_dup_opt(r->act.xheader_name);
	d->act.xheader_value = imsva_dup_opt(r->act.xheader_value);
	d->act.stamp = imsva_dup_opt(r->act.stamp);
	d->act.notify_to = imsva_strv_dup(&r->act.notify_to);
	d->act.notify_message = imsva_dup_opt(r->act.notify_message);
	d->act.bcc = imsva_strv_dup(&r->act.bcc);
	return d;
}

void imsva_rule_free(imsva_rule *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->notes);
	imsva_strv_free(&r->route.senders);
	imsva_strv_free(&r->route.recipients);
	imsva_strv_free(&r->cond.true_file_types);
	imsva_strv_free(&r->cond.attachment_names);
	imsva_strv_free(&r->cond.kw_subject);
	imsva_strv_free(&r->cond.kw_body);
	free(r->act.quarantine_area);
	imsva_strv_free(&r->act.change_rcpts);
	free(r->act.handoff_host);
	free(r->act.tag_subject);
	free(r->act.xheader_name);
	free(r->act.xheader_value);
	free(r->act.stamp);
	imsva_strv_free(&r->act.notify_to);
	free(r->act.notify_message);
	imsva_strv_free(&r->act.bcc);
	free(r);
}

void imsva_ruleset_free(imsva_ruleset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		imsva_rule_free(s->rules[i]);
	free(s->rules);
	imsva_kw_index_free(s->kw);
	free(s);
}

/* Evaluation order: built-ins (file, then URL), then order number, then id. */
static int rule_cmp(const void *a, const void *b)
{
	const imsva_rule *x = *(imsva_rule *const *)a, *y = *(imsva_rule *const *)b;
	int bx = x->builtin ? (int)x->builtin : 100, by = y->builtin ? (int)y->builtin : 100;
	if (bx != by)
		return bx - by;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

void imsva_ruleset_sort(imsva_ruleset *s)
{
	imsva_kw_index_free(s->kw); /* it is indexed by rule position */
	s->kw = NULL;
	if (s->n > 1)
		qsort(s->rules, s->n, sizeof *s->rules, rule_cmp);
}

void imsva_ruleset_add(imsva_ruleset *s, imsva_rule *r)
{
	s->rules = xrealloc(s->rules, (s->n + 1) * sizeof *s->rules);
	s->rules[s->n++] = r;
	imsva_ruleset_sort(s);
}

