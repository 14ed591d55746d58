/* imsva_policy.c - IMSVA's policy rules: the rule model and its JSON form
 * (strict validation that names the bad field), the default rule set of a
 * fresh appliance with the two built-in TMCM suspicious-object rules, and
 * the evaluation of ordered rules against a scanned message. Evaluation does
 * no I/O: SO tables, web reputation and the VA verdict come from the caller. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_engine.h"
#include "util.h"

#define MAX_NAME 128
#define MAX_TEXT 1024
#define MAX_LIST 256

/* ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------ */
static const char *const intercept_names[] = {"deliver", "delete", "quarantine",
					      "change_recipient", "handoff"};
static const char *const level_names[] = {"low", "medium", "high"};
static const char *const so_action_names[] = {"none", "log", "block", "quarantine"};
static const char *const wrs_names[] = {"Unrated", "Safe", "Suspicious", "Highly Suspicious",
					"Dangerous"};
static const char *const builtin_ids[] = {NULL, "so_file", "so_url"};

const char *imsva_intercept_name(imsva_intercept i)
{
	return (unsigned)i < 5 ? intercept_names[i] : "deliver";
}

const char *imsva_level_name(imsva_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "low";
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

const char *imsva_eval_status_name(imsva_eval_status s)
{
	static const char *const names[] = {"done", "va_submit", "va_wait", "defer"};
	return (unsigned)s < 4 ? names[s] : "done";
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
static void strv_push(imsva_strv *s, const char *v)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n++] = xstrdup(v);
}

static void strv_free(imsva_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static imsva_strv strv_dup(const imsva_strv *s)
{
	imsva_strv d = {0};
	for (size_t i = 0; i < s->n; i++)
		strv_push(&d, s->v[i]);
	return d;
}

static int strv_has(const imsva_strv *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return 1;
	return 0;
}

static char *dup_opt(const char *s)
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
	d->name = dup_opt(r->name);
	d->notes = dup_opt(r->notes);
	d->route.senders = strv_dup(&r->route.senders);
	d->route.recipients = strv_dup(&r->route.recipients);
	d->cond.true_file_types = strv_dup(&r->cond.true_file_types);
	d->cond.attachment_names = strv_dup(&r->cond.attachment_names);
	d->cond.kw_subject = strv_dup(&r->cond.kw_subject);
	d->cond.kw_body = strv_dup(&r->cond.kw_body);
	d->act.quarantine_area = dup_opt(r->act.quarantine_area);
	d->act.change_rcpts = strv_dup(&r->act.change_rcpts);
	d->act.handoff_host = dup_opt(r->act.handoff_host);
	d->act.tag_subject = dup_opt(r->act.tag_subject);
	d->act.xheader_name = dup_opt(r->act.xheader_name);
	d->act.xheader_value = dup_opt(r->act.xheader_value);
	d->act.stamp = dup_opt(r->act.stamp);
	d->act.notify_to = strv_dup(&r->act.notify_to);
	d->act.notify_message = dup_opt(r->act.notify_message);
	d->act.bcc = strv_dup(&r->act.bcc);
	return d;
}

void imsva_rule_free(imsva_rule *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->notes);
	strv_free(&r->route.senders);
	strv_free(&r->route.recipients);
	strv_free(&r->cond.true_file_types);
	strv_free(&r->cond.attachment_names);
	strv_free(&r->cond.kw_subject);
	strv_free(&r->cond.kw_body);
	free(r->act.quarantine_area);
	strv_free(&r->act.change_rcpts);
	free(r->act.handoff_host);
	free(r->act.tag_subject);
	free(r->act.xheader_name);
	free(r->act.xheader_value);
	free(r->act.stamp);
	strv_free(&r->act.notify_to);
	free(r->act.notify_message);
	strv_free(&r->act.bcc);
	free(r);
}

void imsva_ruleset_free(imsva_ruleset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		imsva_rule_free(s->rules[i]);
	free(s->rules);
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
	if (s->n > 1)
		qsort(s->rules, s->n, sizeof *s->rules, rule_cmp);
}

void imsva_ruleset_add(imsva_ruleset *s, imsva_rule *r)
{
	s->rules = xrealloc(s->rules, (s->n + 1) * sizeof *s->rules);
	s->rules[s->n++] = r;
	imsva_ruleset_sort(s);
}

/* ------------------------------------------------------------------------
 * JSON in: strict, every error names its field
 * ------------------------------------------------------------------------ */
typedef struct jctx {
	char *field; /* caller's buffer or NULL */
	ctd_err *err;
} jctx;

__attribute__((format(printf, 3, 4))) static int jfail(jctx *c, const char *path,
						      const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (c->field)
		snprintf(c->field, IMSVA_FIELD_MAX, "%s", path);
	return ctd_fail(c->err, CTD_EINVAL, "%s: %s", path, why);
}

static char *subpath(char *buf, size_t len, const char *parent, const char *key)
{
	snprintf(buf, len, "%s%s%s", parent, *parent ? "." : "", key);
	return buf;
}

/* Reject keys not in `allowed` (NULL-terminated). */
static int check_keys(jctx *c, const json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok) {
			char p[IMSVA_FIELD_MAX];
			return jfail(c, subpath(p, sizeof p, path, key), "unknown field");
		}
	}
	return 0;
}

static int text_ok(const char *s, int allow_newlines)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && !(allow_newlines && (*s == '\n' || *s == '\t')))
			return 0;
	return 1;
}

/* Optional object member: absent leaves *out untouched. */
static int get_bool(jctx *c, const json_t *o, const char *path, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);
	char p[IMSVA_FIELD_MAX];
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return jfail(c, subpath(p, sizeof p, path, key), "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_int(jctx *c, const json_t *o, const char *path, const char *key, int64_t min,
		   int64_t max, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	char p[IMSVA_FIELD_MAX];
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return jfail(c, subpath(p, sizeof p, path, key), "must be an integer");
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return jfail(c, subpath(p, sizeof p, path, key), "must be between %lld and %lld",
			     (long long)min, (long long)max);
	*out = n;
	return 0;
}

/* String member; null allowed when nullable (sets NULL). */
static int get_str(jctx *c, const json_t *o, const char *path, const char *key, size_t maxlen,
		   int nullable, int multiline, char **out)
{
	json_t *v = json_object_get(o, key);
	char p[IMSVA_FIELD_MAX];
	if (!v)
		return 0;
	subpath(p, sizeof p, path, key);
	if (json_is_null(v) && nullable) {
		free(*out);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return jfail(c, p, "must be a string");
	const char *s = json_string_value(v);
	if (strlen(s) > maxlen)
		return jfail(c, p, "longer than %zu characters", maxlen);
	if (!text_ok(s, multiline))
		return jfail(c, p, "contains control characters");
	free(*out);
	*out = xstrdup(s);
	return 0;
}

typedef int (*item_check)(const char *s);

static int is_address_pattern(const char *s)
{
	return !strcasecmp(s, "all users") || (*s && !strchr(s, ' ') && text_ok(s, 0));
}

static int is_address(const char *s)
{
	return is_address_pattern(s) && strchr(s, '@') && !strchr(s, '*');
}

static int is_tft_id(const char *s)
{
	return imsva_tft_id_valid(s) == 0;
}

static int is_nonempty(const char *s)
{
	return *s && text_ok(s, 0);
}

static int get_strv(jctx *c, const json_t *o, const char *path, const char *key,
		    item_check check, const char *what, imsva_strv *out)
{
	json_t *v = json_object_get(o, key);
	char p[IMSVA_FIELD_MAX];
	if (!v)
		return 0;
	subpath(p, sizeof p, path, key);
	if (!json_is_array(v))
		return jfail(c, p, "must be an array of strings");
	if (json_array_size(v) > MAX_LIST)
		return jfail(c, p, "more than %d entries", MAX_LIST);
	imsva_strv s = {0};
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		char ip[IMSVA_FIELD_MAX + 32];
		snprintf(ip, sizeof ip, "%s[%zu]", p, i);
		const char *str = json_string_value(item);
		if (!str || strlen(str) > MAX_TEXT || !check(str)) {
			strv_free(&s);
			if (!str)
				return jfail(c, ip, "must be a string");
			return jfail(c, ip, "%s expected, got \"%.60s\"", what, str);
		}
		strv_push(&s, str);
	}
	strv_free(out);
	*out = s;
	return 0;
}

static int get_enum(jctx *c, const json_t *o, const char *path, const char *key,
		    const char *const *names, int n, int *out)
{
	json_t *v = json_object_get(o, key);
	char p[IMSVA_FIELD_MAX];
	if (!v)
		return 0;
	subpath(p, sizeof p, path, key);
	const char *s = json_string_value(v);
	for (int i = 0; s && i < n; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	sbuf allowed = {0};
	for (int i = 0; i < n; i++)
		sbuf_printf(&allowed, "%s%s", i ? ", " : "", names[i]);
	jfail(c, p, "must be one of: %s", allowed.data);
	sbuf_free(&allowed);
	return -1;
}

/* An optional sub-object; *out NULL when absent or null. */
static int get_obj(jctx *c, const json_t *o, const char *path, const char *key,
		   const char *const *allowed, const json_t **out)
{
	json_t *v = json_object_get(o, key);
	char p[IMSVA_FIELD_MAX];
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	subpath(p, sizeof p, path, key);
	if (!json_is_object(v))
		return jfail(c, p, "must be an object");
	if (check_keys(c, v, p, allowed) < 0)
		return -1;
	*out = v;
	return 0;
}

static int parse_route(jctx *c, const json_t *j, imsva_rule *r)
{
	static const char *const keys[] = {"senders", "recipients", NULL};
	const json_t *o;
	if (get_obj(c, j, "", "route", keys, &o) < 0)
		return -1;
	if (!o)
		return 0;
	if (get_strv(c, o, "route", "senders", is_address_pattern, "an address or pattern",
		     &r->route.senders) < 0 ||
	    get_strv(c, o, "route", "recipients", is_address_pattern, "an address or pattern",
		     &r->route.recipients) < 0)
		return -1;
	return 0;
}

static int parse_levelled(jctx *c, const json_t *cond, const char *key, const char *levelkey,
			  int *on, imsva_level *level)
{
	static const char *const spam_keys[] = {"enabled", "level", NULL};
	static const char *const wrs_keys[] = {"enabled", "sensitivity", NULL};
	const json_t *o;
	char p[IMSVA_FIELD_MAX];
	subpath(p, sizeof p, "conditions", key);
	if (get_obj(c, cond, "conditions", key, !strcmp(levelkey, "level") ? spam_keys : wrs_keys,
		    &o) < 0)
		return -1;
	if (!o) {
		*on = 0;
		return 0;
	}
	int lv = (int)*level;
	*on = 1;
	if (get_bool(c, o, p, "enabled", on) < 0 ||
	    get_enum(c, o, p, levelkey, level_names, 3, &lv) < 0)
		return -1;
	*level = (imsva_level)lv;
	return 0;
}

static int parse_conditions(jctx *c, const json_t *j, imsva_rule *r)
{
	static const char *const keys[] = {"match", "virus", "atse", "true_file_types",
					   "attachment_names", "attachment_size", "keywords",
					   "spam", "web_reputation", "suspicious_object", NULL};
	static const char *const size_keys[] = {"min", "max", NULL};
	static const char *const kw_keys[] = {"subject", "body", "match", NULL};
	static const char *const so_keys[] = {"file", "url", NULL};
	static const char *const match_names[] = {"any", "all"};
	static const char *const kw_names[] = {"any", "all", "not"};
	imsva_conditions *cd = &r->cond;
	const json_t *o, *sub;
	const char *P = "conditions";
	if (get_obj(c, j, "", "conditions", keys, &o) < 0)
		return -1;
	if (!o)
		return 0;
	int mode = (int)cd->match;
	if (get_enum(c, o, P, "match", match_names, 2, &mode) < 0 ||
	    get_bool(c, o, P, "virus", &cd->virus) < 0 || get_bool(c, o, P, "atse", &cd->atse) < 0 ||
	    get_strv(c, o, P, "true_file_types", is_tft_id, "a true file type id",
		     &cd->true_file_types) < 0 ||
	    get_strv(c, o, P, "attachment_names", is_nonempty, "a file name pattern",
		     &cd->attachment_names) < 0)
		return -1;
	cd->match = (imsva_match_mode)mode;
	if (get_obj(c, o, P, "attachment_size", size_keys, &sub) < 0)
		return -1;
	cd->size_min = cd->size_max = -1;
	if (sub) {
		if (get_int(c, sub, "conditions.attachment_size", "min", 0, INT64_MAX,
			    &cd->size_min) < 0 ||
		    get_int(c, sub, "conditions.attachment_size", "max", 0, INT64_MAX,
			    &cd->size_max) < 0)
			return -1;
		if (cd->size_min < 0 && cd->size_max < 0)
			return jfail(c, "conditions.attachment_size", "needs min or max");
		if (cd->size_min >= 0 && cd->size_max >= 0 && cd->size_min > cd->size_max)
			return jfail(c, "conditions.attachment_size.max", "is below min");
	}
	if (get_obj(c, o, P, "keywords", kw_keys, &sub) < 0)
		return -1;
	if (sub) {
		int kw = (int)cd->kw_match;
		if (get_strv(c, sub, "conditions.keywords", "subject", is_nonempty, "a keyword",
			     &cd->kw_subject) < 0 ||
		    get_strv(c, sub, "conditions.keywords", "body", is_nonempty, "a keyword",
			     &cd->kw_body) < 0 ||
		    get_enum(c, sub, "conditions.keywords", "match", kw_names, 3, &kw) < 0)
			return -1;
		cd->kw_match = (imsva_kw_mode)kw;
		if (!cd->kw_subject.n && !cd->kw_body.n)
			return jfail(c, "conditions.keywords", "needs subject or body keywords");
	}
	if (parse_levelled(c, o, "spam", "level", &cd->spam, &cd->spam_level) < 0 ||
	    parse_levelled(c, o, "web_reputation", "sensitivity", &cd->wrs,
			   &cd->wrs_sensitivity) < 0)
		return -1;
	if (get_obj(c, o, P, "suspicious_object", so_keys, &sub) < 0)
		return -1;
	if (sub && (get_bool(c, sub, "conditions.suspicious_object", "file", &cd->so_file) < 0 ||
		    get_bool(c, sub, "conditions.suspicious_object", "url", &cd->so_url) < 0))
		return -1;
	return 0;
}

static int is_header_name(const char *s)
{
	if (strncasecmp(s, "X-", 2) || !s[2])
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == ':')
			return 0;
	return 1;
}

static int parse_intercept(jctx *c, const json_t *acts, imsva_actions *a)
{
	static const char *const keys[] = {"action", "area", "recipients", "host", "port", NULL};
	const json_t *o;
	const char *P = "actions.intercept";
	if (get_obj(c, acts, "actions", "intercept", keys, &o) < 0)
		return -1;
	if (!o)
		return 0;
	int act = (int)a->intercept;
	int64_t port = a->handoff_port;
	if (!json_object_get(o, "action"))
		return jfail(c, "actions.intercept.action", "is required");
	if (get_enum(c, o, P, "action", intercept_names, 5, &act) < 0 ||
	    get_str(c, o, P, "area", 64, 1, 0, &a->quarantine_area) < 0 ||
	    get_strv(c, o, P, "recipients", is_address, "an e-mail address", &a->change_rcpts) < 0 ||
	    get_str(c, o, P, "host", 255, 1, 0, &a->handoff_host) < 0 ||
	    get_int(c, o, P, "port", 1, 65535, &port) < 0)
		return -1;
	a->intercept = (imsva_intercept)act;
	a->handoff_port = (int)port;
	if (a->intercept == IMSVA_INTERCEPT_QUARANTINE && a->quarantine_area &&
	    !*a->quarantine_area)
		return jfail(c, "actions.intercept.area", "must not be empty");
	if (a->intercept == IMSVA_INTERCEPT_CHANGE_RCPT && a->change_rcpts.n == 0)
		return jfail(c, "actions.intercept.recipients", "is required for change_recipient");
	if (a->intercept == IMSVA_INTERCEPT_HANDOFF &&
	    (!a->handoff_host || !*a->handoff_host || strchr(a->handoff_host, ' ')))
		return jfail(c, "actions.intercept.host", "is required for handoff");
	return 0;
}

static int parse_actions(jctx *c, const json_t *j, imsva_rule *r)
{
	static const char *const keys[] = {"intercept", "tag_subject", "x_header", "stamp",
					   "notify", "bcc", "submit_va", NULL};
	static const char *const xh_keys[] = {"name", "value", NULL};
	static const char *const notify_keys[] = {"to", "message", NULL};
	imsva_actions *a = &r->act;
	const json_t *o, *sub;
	const char *P = "actions";
	if (get_obj(c, j, "", "actions", keys, &o) < 0)
		return -1;
	if (!o)
		return 0;
	if (parse_intercept(c, o, a) < 0 ||
	    get_str(c, o, P, "tag_subject", MAX_NAME, 1, 0, &a->tag_subject) < 0 ||
	    get_str(c, o, P, "stamp", MAX_TEXT, 1, 1, &a->stamp) < 0 ||
	    get_strv(c, o, P, "bcc", is_address, "an e-mail address", &a->bcc) < 0 ||
	    get_bool(c, o, P, "submit_va", &a->submit_va) < 0)
		return -1;
	if (get_obj(c, o, P, "x_header", xh_keys, &sub) < 0)
		return -1;
	free(a->xheader_name);
	free(a->xheader_value);
	a->xheader_name = a->xheader_value = NULL;
	if (sub) {
		if (get_str(c, sub, "actions.x_header", "name", 76, 0, 0, &a->xheader_name) < 0 ||
		    get_str(c, sub, "actions.x_header", "value", MAX_TEXT, 0, 0,
			    &a->xheader_value) < 0)
			return -1;
		if (!a->xheader_name || !is_header_name(a->xheader_name))
			return jfail(c, "actions.x_header.name", "must be a header name starting X-");
		if (!a->xheader_value)
			a->xheader_value = xstrdup("");
	}
	if (get_obj(c, o, P, "notify", notify_keys, &sub) < 0)
		return -1;
	a->notify = sub != NULL;
	if (sub && (get_strv(c, sub, "actions.notify", "to", is_address, "an e-mail address",
			     &a->notify_to) < 0 ||
		    get_str(c, sub, "actions.notify", "message", MAX_TEXT, 1, 1,
			    &a->notify_message) < 0))
		return -1;
	return 0;
}

static int parse_rule(jctx *c, const json_t *j, imsva_rule *r)
{
	static const char *const keys[] = {"id", "builtin", "name", "order", "enabled", "type",
					   "notes", "route", "conditions", "actions", NULL};
	static const char *const type_names[] = {"antivirus", "other"};
	if (!json_is_object(j))
		return jfail(c, "", "a rule must be a JSON object");
	if (check_keys(c, j, "", keys) < 0)
		return -1;
	int64_t order = r->order;
	int type = (int)r->type;
	if (get_str(c, j, "", "name", MAX_NAME, 0, 0, &r->name) < 0 ||
	    get_int(c, j, "", "order", 0, 100000, &order) < 0 ||
	    get_bool(c, j, "", "enabled", &r->enabled) < 0 ||
	    get_enum(c, j, "", "type", type_names, 2, &type) < 0 ||
	    get_str(c, j, "", "notes", MAX_TEXT, 1, 1, &r->notes) < 0)
		return -1;
	if (!r->name || !*r->name)
		return jfail(c, "name", "is required");
	r->order = (int)order;
	r->type = (imsva_rule_type)type;
	return parse_route(c, j, r) < 0 || parse_conditions(c, j, r) < 0 ||
			       parse_actions(c, j, r) < 0
		       ? -1
		       : 0;
}

imsva_rule *imsva_rule_from_json(const json_t *j, char *field, ctd_err *err)
{
	jctx c = {field, err};
	imsva_rule *r = imsva_rule_new();
	if (field)
		field[0] = '\0';
	if (parse_rule(&c, j, r) < 0) {
		imsva_rule_free(r);
		return NULL;
	}
	return r;
}

imsva_rule *imsva_rule_patch(const imsva_rule *base, const json_t *patch, char *field,
			     ctd_err *err)
{
	jctx c = {field, err};
	if (field)
		field[0] = '\0';
	if (!json_is_object(patch)) {
		jfail(&c, "", "a rule update must be a JSON object");
		return NULL;
	}
	json_t *merged = imsva_rule_to_json(base);
	json_object_update_recursive(merged, (json_t *)patch);
	imsva_rule *r = imsva_rule_from_json(merged, field, err);
	json_decref(merged);
	if (r) {
		r->id = base->id;
		r->builtin = base->builtin;
	}
	return r;
}

/* ------------------------------------------------------------------------
 * JSON out
 * ------------------------------------------------------------------------ */
static json_t *strv_json(const imsva_strv *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *conditions_json(const imsva_conditions *c)
{
	json_t *o = json_pack("{s:s, s:b, s:b, s:o, s:o}", "match",
			      c->match == IMSVA_MATCH_ALL ? "all" : "any", "virus", c->virus,
			      "atse", c->atse, "true_file_types", strv_json(&c->true_file_types),
			      "attachment_names", strv_json(&c->attachment_names));
	if (c->size_min >= 0 || c->size_max >= 0) {
		json_t *sz = json_object();
		if (c->size_min >= 0)
			json_object_set_new(sz, "min", json_integer(c->size_min));
		if (c->size_max >= 0)
			json_object_set_new(sz, "max", json_integer(c->size_max));
		json_object_set_new(o, "attachment_size", sz);
	}
	if (c->kw_subject.n || c->kw_body.n) {
		static const char *const kw_names[] = {"any", "all", "not"};
		json_object_set_new(o, "keywords",
				    json_pack("{s:o, s:o, s:s}", "subject", strv_json(&c->kw_subject),
					      "body", strv_json(&c->kw_body), "match",
					      kw_names[c->kw_match]));
	}
	json_object_set_new(o, "spam",
			    json_pack("{s:b, s:s}", "enabled", c->spam, "level",
				      imsva_level_name(c->spam_level)));
	json_object_set_new(o, "web_reputation",
			    json_pack("{s:b, s:s}", "enabled", c->wrs, "sensitivity",
				      imsva_level_name(c->wrs_sensitivity)));
	json_object_set_new(o, "suspicious_object",
			    json_pack("{s:b, s:b}", "file", c->so_file, "url", c->so_url));
	return o;
}

static json_t *actions_json(const imsva_actions *a)
{
	json_t *icpt = json_pack("{s:s}", "action", imsva_intercept_name(a->intercept));
	switch (a->intercept) {
	case IMSVA_INTERCEPT_QUARANTINE:
		json_object_set_new(icpt, "area",
				    json_string(a->quarantine_area ? a->quarantine_area : "Default"));
		break;
	case IMSVA_INTERCEPT_CHANGE_RCPT:
		json_object_set_new(icpt, "recipients", strv_json(&a->change_rcpts));
		break;
	case IMSVA_INTERCEPT_HANDOFF:
		json_object_set_new(icpt, "host", str_or_null(a->handoff_host));
		json_object_set_new(icpt, "port", json_integer(a->handoff_port));
		break;
	default:
		break;
	}
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:b}", "intercept", icpt, "tag_subject",
			      str_or_null(a->tag_subject), "stamp", str_or_null(a->stamp), "bcc",
			      strv_json(&a->bcc), "submit_va", a->submit_va);
	json_object_set_new(o, "x_header",
			    a->xheader_name ? json_pack("{s:s, s:s}", "name", a->xheader_name,
							"value", a->xheader_value ? a->xheader_value : "")
					    : json_null());
	json_object_set_new(o, "notify",
			    a->notify ? json_pack("{s:o, s:o}", "to", strv_json(&a->notify_to),
						  "message", str_or_null(a->notify_message))
				      : json_null());
	return o;
}

json_t *imsva_rule_to_json(const imsva_rule *r)
{
	json_t *o = json_object();
	if (r->id)
		json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "name", json_string(r->name ? r->name : ""));
	json_object_set_new(o, "order", json_integer(r->order));
	json_object_set_new(o, "enabled", json_boolean(r->enabled));
	json_object_set_new(o, "type",
			    json_string(r->type == IMSVA_RULE_ANTIVIRUS ? "antivirus" : "other"));
	json_object_set_new(o, "builtin",
			    r->builtin ? json_string(builtin_ids[r->builtin]) : json_null());
	json_object_set_new(o, "notes", str_or_null(r->notes));
	json_object_set_new(o, "route",
			    json_pack("{s:o, s:o}", "senders", strv_json(&r->route.senders),
				      "recipients", strv_json(&r->route.recipients)));
	json_object_set_new(o, "conditions", conditions_json(&r->cond));
	json_object_set_new(o, "actions", actions_json(&r->act));
	return o;
}

json_t *imsva_ruleset_to_json(const imsva_ruleset *s)
{
	json_t *a = json_array();
	for (size_t i = 0; s && i < s->n; i++)
		json_array_append_new(a, imsva_rule_to_json(s->rules[i]));
	return a;
}

/* ------------------------------------------------------------------------
 * Default rules of a fresh appliance
 * ------------------------------------------------------------------------ */
static imsva_rule *builtin_so_rule(imsva_builtin b, imsva_locale loc)
{
	imsva_rule *r = imsva_rule_new();
	r->builtin = b;
	r->order = 0;
	r->name = xstrdup(imsva_builtin_name(b, loc));
	r->notes = xstrdup("Managed by the Control Manager connection: suspicious objects with "
			   "action Block or Quarantine are quarantined, Log only logs.");
	r->cond.so_file = b == IMSVA_BUILTIN_SO_FILE;
	r->cond.so_url = b == IMSVA_BUILTIN_SO_URL;
	r->act.intercept = IMSVA_INTERCEPT_QUARANTINE;
	r->act.quarantine_area = xstrdup("Default");
	return r;
}

imsva_ruleset *imsva_default_rules(imsva_locale loc)
{
	imsva_ruleset *s = xcalloc(1, sizeof *s);
	int ja = loc == IMSVA_LOCALE_JA;
	imsva_ruleset_add(s, builtin_so_rule(IMSVA_BUILTIN_SO_FILE, loc));
	imsva_ruleset_add(s, builtin_so_rule(IMSVA_BUILTIN_SO_URL, loc));

	imsva_rule *av = imsva_rule_new();
	av->order = 1;
	av->name = xstrdup(ja ? "ウイルス対策ルール" : "Antivirus Rule");
	av->type = IMSVA_RULE_ANTIVIRUS;
	av->cond.virus = 1;
	av->act.intercept = IMSVA_INTERCEPT_QUARANTINE;
	av->act.quarantine_area = xstrdup("Default");
	imsva_ruleset_add(s, av);

	imsva_rule *spam = imsva_rule_new();
	spam->order = 2;
	spam->name = xstrdup(ja ? "迷惑メール対策ルール" : "Spam Rule");
	spam->cond.spam = 1;
	spam->cond.spam_level = IMSVA_LEVEL_MEDIUM;
	spam->act.tag_subject = xstrdup("Spam:");
	imsva_ruleset_add(s, spam);
	return s;
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
	int lookup_error;
} eval_ctx;

/* What one rule's conditions found. */
typedef struct match {
	int any;                /* a condition matched */
	int non_so;             /* a condition other than SO matched */
	const char *filter;
	char filter_code[17];
	sbuf reason, violating;
	imsva_so_action so_max;
	unsigned char *parts;   /* parts that triggered (for VA) */
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
	return strv_has(ids, imsva_tft_class_name(p->tft_class)) || strv_has(ids, p->tft_type);
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

static int cond_keywords(eval_ctx *x, const imsva_conditions *c, match *mt)
{
	size_t total = c->kw_subject.n + c->kw_body.n, found = 0;
	const char *first = NULL;
	for (size_t i = 0; i < c->kw_subject.n; i++)
		if (strcasestr(x->m->subject, c->kw_subject.v[i]) && ++found == 1)
			first = c->kw_subject.v[i];
	for (size_t i = 0; i < c->kw_body.n; i++)
		if (strcasestr(x->m->body_text, c->kw_body.v[i]) && ++found == 1)
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

static imsva_so_action url_so_action(eval_ctx *x, size_t i)
{
	if (x->url_so[i] < 0) {
		if (x->lk && x->lk->so_url) {
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
		strv_push(&v->subject_tags, a->tag_subject);
		h->action_code[A_TAGGED] = '1';
	}
	if (a->xheader_name) {
		set_xheader(v, a->xheader_name, a->xheader_value ? a->xheader_value : "");
		h->action_code[A_XHEADER] = '1';
	}
	if (a->stamp) {
		strv_push(&v->stamps, a->stamp);
		h->action_code[A_STAMPED] = '1';
	}
	if (a->notify) {
		v->notifies = xrealloc(v->notifies, (v->nnotifies + 1) * sizeof *v->notifies);
		imsva_notify *n = &v->notifies[v->nnotifies++];
		n->rule_name = xstrdup(r->name);
		n->to = strv_dup(&a->notify_to);
		n->message = dup_opt(a->notify_message);
		h->action_code[A_NOTIFIED] = '1';
	}
	for (size_t i = 0; i < a->bcc.n; i++) {
		strv_push(&v->bcc, a->bcc.v[i]);
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
		v->new_rcpts = strv_dup(&r->act.change_rcpts);
	if (h->intercept == IMSVA_INTERCEPT_HANDOFF) {
		v->handoff_host = dup_opt(r->act.handoff_host);
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
	free(mt->parts);
}

/* One rule: 1 = evaluation ends (intercept, VA park, defer), 0 = go on. */
static int evaluate_rule(eval_ctx *x, const imsva_rule *r, const imsva_va_state *va,
			 imsva_verdict *v)
{
	match mt = {0};
	mt.parts = xcalloc(x->m->nparts ? x->m->nparts : 1, 1);
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
	for (size_t i = 0; i < m->nparts; i++)
		x.so_file[i] = (imsva_so_action)-1;
	x.urls = xcalloc(m->nurls ? m->nurls : 1, sizeof *x.urls);
	x.url_so = xmalloc((m->nurls ? m->nurls : 1) * sizeof *x.url_so);
	for (size_t i = 0; i < m->nurls; i++) {
		x.urls[i].url = xstrdup(m->urls[i]);
		x.url_so[i] = -1;
	}
	for (size_t i = 0; i < rules->n; i++) {
		const imsva_rule *r = rules->rules[i];
		if (!r->enabled || !imsva_route_match(&r->route, env))
			continue;
		if (evaluate_rule(&x, r, va, out))
			break;
	}
	verdict_finish(out, &x);
	free(x.so_file);
	free(x.urls);
	free(x.url_so);
	return 0;
}

void imsva_verdict_free(imsva_verdict *v)
{
	if (!v)
		return;
	free(v->quarantine_area);
	strv_free(&v->new_rcpts);
	free(v->handoff_host);
	strv_free(&v->subject_tags);
	for (size_t i = 0; i < v->nxheaders; i++) {
		free(v->xheaders[i].name);
		free(v->xheaders[i].value);
	}
	free(v->xheaders);
	strv_free(&v->stamps);
	for (size_t i = 0; i < v->nnotifies; i++) {
		free(v->notifies[i].rule_name);
		strv_free(&v->notifies[i].to);
		free(v->notifies[i].message);
	}
	free(v->notifies);
	strv_free(&v->bcc);
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
