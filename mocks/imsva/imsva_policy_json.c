/* imsva_policy_json.c - the JSON form of IMSVA's policy rules: strict
 * parsing and validation (every error names the bad field), patches of an
 * existing rule, and serialisation of rules and rule sets. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "imsva_policy_int.h"
#include "util.h"

#define MAX_NAME 128
#define MAX_TEXT 1024
#define MAX_LIST 256

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
			imsva_strv_free(&s);
			if (!str)
				return jfail(c, ip, "must be a string");
			return jfail(c, ip, "%s expected, got \"%.60s\"", what, str);
		}
		imsva_strv_push(&s, str);
	}
	imsva_strv_free(out);
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
	    get_enum(c, o, p, levelkey, imsva_level_names, 3, &lv) < 0)
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
	/* The product ticks spam detection (at its default level) together with
	 * "Web Reputation settings"; the seed's 4-1 unticks it. A rule that says
	 * nothing about spam gets what the console would have ticked. */
	if (cd->wrs && !json_object_get(o, "spam"))
		cd->spam = 1;
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
	if (get_enum(c, o, P, "action", imsva_intercept_names, 5, &act) < 0 ||
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
			    r->builtin ? json_string(imsva_builtin_ids[r->builtin]) : json_null());
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

