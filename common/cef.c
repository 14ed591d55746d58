/* cef.c - the per-product CEF/LEEF layouts of the timeline events and the
 * CEF escaping rules. Each row maps an appliance's event kinds to an event
 * class id, a name, a severity and extension keys taken from the event; the
 * first matching row wins, the last rows are the fallbacks. Where a product
 * publishes no mapping the closest documented Trend Micro layout is used
 * (docs/syslog.md names which). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cef.h"
#include "daemon.h"
#include "util.h"

#define CEF_MAX_FIELDS 12
#define SEV_FROM_RISK -1

/* src: a member of the event's detail ("a.b" reaches into an object), or
 * "@ref", "@kind", "@tail" (the kind after its first dot), "@id",
 * "@detail" (all of it as JSON), "=text" (a constant); a "?hash:" prefix
 * keeps a value only when it is a hex digest, "?nohash:" only when not. */
typedef struct cef_field {
	const char *key, *label, *src;
} cef_field;

typedef struct cef_layout {
	const char *appliance; /* NULL: any */
	const char *kind;      /* `*` glob */
	const char *event_id;  /* ending in ':' takes the kind's tail (Apex Central "MS:<action>") */
	const char *name;
	int severity;          /* SEV_FROM_RISK: from the detail's risk */
	cef_field f[CEF_MAX_FIELDS];
} cef_layout;

typedef struct cef_product {
	const char *appliance, *product, *version;
	int leef;
} cef_product;

static const cef_product products[] = {
	{"imsva", "InterScan Messaging Security Virtual Appliance", "9.1", 0},
	{"ddan", "Deep Discovery Analyzer", "7.6", 1},
	{"ddi", "Deep Discovery Inspector", "6.7", 1},
	{"tmcm", "Control Manager", "7.0", 0},
	{"sps", "Smart Protection Server", "3.3", 0},
};

#define MAIL_FIELDS                                                                             \
	{"suser", NULL, "sender"}, {"duser", NULL, "recipients"}, {"msg", NULL, "subject"},    \
	{"cs2", "msgUuid", "@ref"}
#define SO_FIELDS                                                                               \
	{"cs1", "type", "type"}, {"fileHash", NULL, "?hash:value"},                            \
	{"request", NULL, "?nohash:value"}, {"act", NULL, "@tail"},                            \
	{"deviceExternalRiskType", NULL, "risk"}, {"cn1", "changeId", "change_id"}
#define ANALYSIS_FIELDS                                                                         \
	{"fileHash", NULL, "@ref"}, {"cs1", "malName", "virus_name"},                          \
	{"fileType", NULL, "true_type"}, {"cn2", "riskLevel", "risk"},                         \
	{"outcome", NULL, "@tail"}
#define SYNC_FIELDS                                                                             \
	{"cs1", "eventType", "@kind"}, {"cs2", "source", "source"}, {"request", NULL, "url"},  \
	{"cnt", NULL, "changes"}, {"cn1", "records", "records"}, {"outcome", NULL, "@tail"},   \
	{"msg", NULL, "error"}

static const cef_layout layouts[] = {
	/* IMSVA: no native CEF; policy events in Apex Central's "Content
	 * Security" layout, mail flow in DDEI/DDD's 100136 MESSAGE_TRACKING. */
	{"imsva", "policy.*", "MS:", "Content Security", 6,
	 {MAIL_FIELDS, {"cs1", "policy", "rule"}, {"cs3", "filterType", "reason"},
	  {"cs6", "messageAction", "@tail"}}},
	{"imsva", "quarantine*", "100136", "MESSAGE_TRACKING", 6,
	 {MAIL_FIELDS, {"cs3", "latestStatus", "@tail"}, {"cs4", "ruleName", "rule"},
	  {"reason", NULL, "reason"}}},
	{"imsva", "message_tracking*", "100136", "MESSAGE_TRACKING", 2,
	 {MAIL_FIELDS, {"cs3", "latestStatus", "@tail"}, {"cs4", "ruleName", "rule"},
	  {"src", NULL, "detail.client_ip"}, {"fsize", NULL, "detail.size"}}},
	{"imsva", "mta*", "100136", "MESSAGE_TRACKING", 2,
	 {MAIL_FIELDS, {"cs3", "latestStatus", "@tail"}, {"reason", NULL, "reason"}}},
	{"imsva", "va*", "100136", "MESSAGE_TRACKING", 4,
	 {MAIL_FIELDS, {"cs3", "latestStatus", "@tail"}, {"reason", NULL, "reason"}}},
	/* DDAN: the Virtual Analyzer mappings of its Syslog Content Mapping Guide. */
	{"ddan", "sample.done", "200128", "SUBMISSION_ANALYZED", SEV_FROM_RISK, {ANALYSIS_FIELDS}},
	{"ddan", "sample.error", "200128", "SUBMISSION_ANALYZED", 1, {ANALYSIS_FIELDS}},
	{"ddan", "sample.timeout", "200128", "SUBMISSION_ANALYZED", 1, {ANALYSIS_FIELDS}},
	{"ddan", "so.*", "200120", "DENYLIST_CHANGE", SEV_FROM_RISK,
	 {SO_FIELDS, {"pComp", NULL, "=Sandbox"}}},
	/* DDI: the threat log keys of its CEF/LEEF guide. */
	{"ddi", "detection", "100119", "SECURITY_RISK_DETECTION", SEV_FROM_RISK,
	 {{"fileHash", NULL, "sha1"}, {"fname", NULL, "file_name"}, {"request", NULL, "url"},
	  {"src", NULL, "client_ip"}, {"dst", NULL, "server_ip"}, {"malName", NULL, "threat"},
	  {"pComp", NULL, "detected_by"}, {"ptype", NULL, "=IDS"}, {"act", NULL, "=not blocked"},
	  {"cn1", "logId", "id"}}},
	{"ddi", "so.*", "200120", "DENYLIST_CHANGE", SEV_FROM_RISK,
	 {SO_FIELDS, {"pComp", NULL, "=DDI"}}},
	/* TMCM: Apex Central's header and keys, the deny-list change of the
	 * Deep Discovery guides for the SO lists (none is published for TMCM). */
	{"tmcm", "udso.*", "200120", "DENYLIST_CHANGE", 6,
	 {{"cs1", "type", "type"}, {"fileHash", NULL, "?hash:content"},
	  {"request", NULL, "?nohash:content"}, {"act", NULL, "@tail"},
	  {"cs2", "scanAction", "scan_action"}, {"cs3", "objects", "@ref"}}},
	{"tmcm", "so.*", "200120", "DENYLIST_CHANGE", 6,
	 {{"act", NULL, "@tail"}, {"cs2", "scanAction", "action"}, {"cs3", "objects", "ids"},
	  {"cs1", "type", "@ref"}, {"cn1", "changeId", "change_id"}, {"request", NULL, "value"}}},
	/* Syncs and everything else: the Deep Discovery system event. */
	{NULL, "sync.*", "300999", "SYSTEM_EVENT", 2, {SYNC_FIELDS}},
	{NULL, "*", "300999", "SYSTEM_EVENT", 2,
	 {{"cs1", "eventType", "@kind"}, {"cs2", "ref", "@ref"}, {"msg", NULL, "@detail"}}},
};
#define NLAYOUTS (sizeof layouts / sizeof layouts[0])

static const cef_product *product_of(const char *appliance)
{
	for (size_t i = 0; i < sizeof products / sizeof products[0]; i++)
		if (strcmp(products[i].appliance, appliance) == 0)
			return &products[i];
	static const cef_product other = {"", "ctdlab", CTDLAB_VERSION, 0};
	return &other;
}

int cef_has_leef(const char *appliance)
{
	return product_of(appliance)->leef;
}

static const cef_layout *layout_of(const evsink_event *ev)
{
	for (size_t i = 0; i < NLAYOUTS; i++)
		if ((!layouts[i].appliance || strcmp(layouts[i].appliance, ev->appliance) == 0) &&
		    wildcard_match(layouts[i].kind, ev->kind))
			return &layouts[i];
	return &layouts[NLAYOUTS - 1];
}

/* --- escaping -------------------------------------------------------------- */

void cef_escape_header(sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '|')
			sbuf_puts(b, "\\");
		if (*s == '\n' || *s == '\r')
			sbuf_puts(b, " ");
		else
			sbuf_append(b, s, 1);
	}
}

void cef_escape_value(sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '=')
			sbuf_append(b, "\\", 1);
		if (*s == '\n')
			sbuf_puts(b, "\\n");
		else if (*s == '\r')
			sbuf_puts(b, "\\r");
		else
			sbuf_append(b, s, 1);
	}
}

/* LEEF 1.0 has no escapes: the tab separates attributes, so tabs and line
 * breaks in a value become spaces. */
static void leef_clean_value(sbuf *b, const char *s)
{
	for (; s && *s; s++)
		sbuf_append(b, (*s == '\t' || *s == '\n' || *s == '\r') ? " " : s, 1);
}

/* --- values ---------------------------------------------------------------- */

static int is_hex_digest(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");
	return s[n] == '\0' && (n == 32 || n == 40 || n == 64);
}

static json_t *detail_path(json_t *detail, const char *path)
{
	char *copy = xstrdup(path), *save = NULL;
	json_t *v = detail;
	for (char *p = strtok_r(copy, ".", &save); p && v; p = strtok_r(NULL, ".", &save))
		v = json_object_get(v, p);
	free(copy);
	return v;
}

static char *json_text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *kind_tail(const char *kind)
{
	const char *dot = strchr(kind, '.');
	return dot ? dot + 1 : kind;
}

/* The value src names in ev (malloc'd), or NULL when the event has none. */
static char *field_value(const evsink_event *ev, const char *src)
{
	int want_hash = -1;
	if (strncmp(src, "?hash:", 6) == 0)
		want_hash = 1, src += 6;
	else if (strncmp(src, "?nohash:", 8) == 0)
		want_hash = 0, src += 8;
	char *v;
	if (src[0] == '=')
		v = xstrdup(src + 1);
	else if (strcmp(src, "@ref") == 0)
		v = ev->ref ? xstrdup(ev->ref) : NULL;
	else if (strcmp(src, "@kind") == 0)
		v = xstrdup(ev->kind);
	else if (strcmp(src, "@tail") == 0)
		v = xstrdup(kind_tail(ev->kind));
	else if (strcmp(src, "@id") == 0)
		v = xasprintf("%lld", (long long)ev->id);
	else if (strcmp(src, "@detail") == 0)
		v = json_text(ev->detail);
	else
		v = json_text(detail_path(ev->detail, src));
	if (v && want_hash >= 0 && is_hex_digest(v) != want_hash) {
		free(v);
		v = NULL;
	}
	return v;
}

/* CEF 0-10 from a risk: DDAN's 0-3, or High/Medium/Low names. */
static int severity_of(const cef_layout *l, const evsink_event *ev)
{
	if (l->severity != SEV_FROM_RISK)
		return l->severity;
	json_t *risk = json_object_get(ev->detail, "risk");
	if (json_is_integer(risk)) {
		static const int by_level[] = {2, 4, 6, 8};
		json_int_t r = json_integer_value(risk);
		return r >= 0 && r <= 3 ? by_level[r] : 1;
	}
	const char *name = json_string_value(risk);
	if (!name)
		return 2;
	return !strcasecmp(name, "High") ? 8 : !strcasecmp(name, "Medium") ? 6
	       : !strcasecmp(name, "Low") ? 4 : 2;
}

/* "Mar 09 2015 17:05:21 GMT+00:00": the Deep Discovery rt/devTime form. */
static void dd_time(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%b %d %Y %H:%M:%S GMT+00:00", &tm);
}

/* --- records --------------------------------------------------------------- */

static void put_pair(sbuf *b, int leef, const char *key, const char *value)
{
	if (b->len && b->data[b->len - 1] != '|')
		sbuf_puts(b, leef ? "\t" : " ");
	sbuf_printf(b, "%s=", key);
	if (leef)
		leef_clean_value(b, value);
	else
		cef_escape_value(b, value);
}

static void put_field(sbuf *b, int leef, const cef_field *f, const evsink_event *ev)
{
	char *v = field_value(ev, f->src);
	if (!v)
		return;
	/* LEEF names the value itself; CEF puts custom ones in csN + csNLabel */
	put_pair(b, leef, leef && f->label ? f->label : f->key, v);
	if (!leef && f->label) {
		char label_key[32];
		snprintf(label_key, sizeof label_key, "%sLabel", f->key);
		put_pair(b, 0, label_key, f->label);
	}
	free(v);
}

static void put_header(sbuf *b, int leef, const cef_product *p, const cef_layout *l,
		       const char *event_id, int sev)
{
	sbuf_puts(b, leef ? "LEEF:1.0|" : "CEF:0|");
	const char *fields[] = {"Trend Micro", p->product, p->version, leef ? l->name : event_id};
	for (size_t i = 0; i < 4; i++) {
		cef_escape_header(b, fields[i]);
		sbuf_puts(b, "|");
	}
	if (!leef) {
		cef_escape_header(b, l->name);
		sbuf_printf(b, "|%d|", sev);
	}
}

void cef_format(const evsink_event *ev, int leef, const char *host, cef_record *out)
{
	const cef_product *p = product_of(ev->appliance);
	const cef_layout *l = layout_of(ev);
	leef = leef && p->leef;
	size_t idlen = strlen(l->event_id);
	if (idlen && l->event_id[idlen - 1] == ':')
		snprintf(out->event_id, sizeof out->event_id, "%s%s", l->event_id,
			 kind_tail(ev->kind));
	else
		snprintf(out->event_id, sizeof out->event_id, "%s", l->event_id);
	out->severity = severity_of(l, ev);

	sbuf b = {0};
	put_header(&b, leef, p, l, out->event_id, out->severity);
	char when[48], id[24], sev[8];
	dd_time(ev->ts_ms, when, sizeof when);
	snprintf(id, sizeof id, "%lld", (long long)ev->id);
	snprintf(sev, sizeof sev, "%d", out->severity);
	if (leef) {
		put_pair(&b, 1, "devTimeFormat", "MMM dd yyyy HH:mm:ss z");
		put_pair(&b, 1, "devTime", when);
		put_pair(&b, 1, "sev", sev);
	} else {
		put_pair(&b, 0, "rt", when);
	}
	put_pair(&b, leef, "dvchost", host);
	put_pair(&b, leef, "deviceExternalId", ev->appliance);
	put_pair(&b, leef, "externalId", id);
	for (size_t i = 0; i < CEF_MAX_FIELDS && l->f[i].key; i++)
		put_field(&b, leef, &l->f[i], ev);
	out->text = sbuf_detach(&b);
}
