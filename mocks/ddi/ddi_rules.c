/* ddi_rules.c - how DDI decides what to do with a carved file: its true file
 * type (libmagic), the pre-scan (known malware, highly suspicious), the file
 * submission rules, and the lab's local verdict used by the internal Virtual
 * Analyzer.
 *
 * The default rules follow DDI's documented defaults (first match wins):
 * known malware is not submitted; CHM, JAR, Java applets, LNK, Mach-O and
 * Windows executables are; scripts over HTTP and scripts and web pages over
 * SMTP are; Flash over SMTP is. Heuristic "highly suspicious" files are
 * submitted: in the lab that is a file carrying a CTDLAB-RISK marker. */
#include <string.h>
#include <strings.h>

#include "filetype.h"
#include "log.h"
#include "util.h"
#include "ddi_sensor.h"

static const char eicar_marker[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!";

int ddi_is_known_malware(const unsigned char *d, size_t n)
{
	return memmem(d, n, eicar_marker, sizeof(eicar_marker) - 1) != NULL;
}

int ddi_is_highly_suspicious(const unsigned char *d, size_t n)
{
	return memmem(d, n, "CTDLAB-RISK-HIGH", 16) || memmem(d, n, "CTDLAB-RISK-MEDIUM", 18);
}

int ddi_local_verdict(const unsigned char *d, size_t n, char *threat, size_t threatlen)
{
	if (ddi_is_known_malware(d, n)) {
		snprintf(threat, threatlen, "Eicar_test_file");
		return RISK_HIGH;
	}
	if (memmem(d, n, "CTDLAB-RISK-HIGH", 16)) {
		snprintf(threat, threatlen, "TROJ_CTDLAB.HIGH");
		return RISK_HIGH;
	}
	if (memmem(d, n, "CTDLAB-RISK-MEDIUM", 18)) {
		snprintf(threat, threatlen, "TROJ_CTDLAB.MEDIUM");
		return RISK_MEDIUM;
	}
	snprintf(threat, threatlen, "%s", "");
	return RISK_NONE;
}

const char *ddi_risk_name(int risk)
{
	static const char *const names[] = {"No risk", "Low", "Medium", "High"};
	return risk >= 0 && risk <= 3 ? names[risk] : "Unknown";
}

/* ---- true file type */

static const struct {
	const char *needle; /* in libmagic's description */
	const char *type;
} type_map[] = {
	{"PE32", "WIN_EXE"},          {"MS-DOS executable", "WIN_EXE"},
	{"HtmlHelp", "CHM"},          {"Java archive", "JAR"},
	{"compiled Java class", "JAVA_APPLET"}, {"MS Windows shortcut", "LNK"},
	{"Mach-O", "MACH_O"},         {"Macromedia Flash", "SWF"},
	{"Shockwave Flash", "SWF"},   {"PDF document", "PDF"},
	{"Microsoft Word", "MS_OFFICE"}, {"Microsoft Excel", "MS_OFFICE"},
	{"Microsoft PowerPoint", "MS_OFFICE"}, {"Microsoft OOXML", "MS_OFFICE"},
	{"Composite Document File", "MS_OFFICE"}, {"Zip archive", "ZIP"},
	{"gzip compressed", "GZIP"},  {"RAR archive", "RAR"},
	{"7-zip archive", "7Z"},      {"ELF", "ELF"},
	{"HTML document", "HTML"},    {"script", "SCRIPT"},
	{"text", "TEXT"},
};

const char *ddi_true_type(const unsigned char *d, size_t n, char *desc, size_t desclen)
{
	ctd_err err;
	if (filetype_of(d, n, FILETYPE_DESCRIPTION, desc, desclen, &err) != 0) {
		log_error("ddi.filetype", "error=\"%s\"", err.msg);
		snprintf(desc, desclen, "data");
	}
	for (size_t i = 0; i < sizeof(type_map) / sizeof(type_map[0]); i++)
		if (strcasestr(desc, type_map[i].needle))
			return type_map[i].type;
	return "OTHER";
}

/* ---- submission rules */

typedef struct rule {
	const char *name;
	const char *proto;            /* NULL: any */
	const char *const *types;     /* NULL-terminated true types, or NULL */
	const char *const *exts;      /* NULL-terminated extensions, or NULL */
	int known_malware, suspicious, any;
	int submit;
} rule;

static const char *const risky_types[] = {"CHM", "JAR", "JAVA_APPLET", "LNK", "MACH_O", "WIN_EXE",
					  NULL};
static const char *const http_exts[] = {"vbs", "vbe", "ps1", "hta", "wsf", NULL};
static const char *const smtp_exts[] = {"vbs", "vbe", "ps1", "hta", "wsf", "js", "jse", "bat",
					"cmd", "html", "htm", NULL};
static const char *const swf_type[] = {"SWF", NULL};

static const rule default_rules[] = {
	{"Known malware", NULL, NULL, NULL, 1, 0, 0, 0},
	{"Highly suspicious files", NULL, NULL, NULL, 0, 1, 0, 1},
	{"Executables and risky file types", NULL, risky_types, NULL, 0, 0, 0, 1},
	{"Scripts over HTTP", "HTTP", NULL, http_exts, 0, 0, 0, 1},
	{"Scripts and web pages over SMTP", "SMTP", NULL, smtp_exts, 0, 0, 0, 1},
	{"Flash over SMTP", "SMTP", swf_type, NULL, 0, 0, 0, 1},
	{NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};

static const rule all_rules[] = {
	{"Known malware", NULL, NULL, NULL, 1, 0, 0, 0},
	{"Submit all files", NULL, NULL, NULL, 0, 0, 1, 1},
	{NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};

static int in_list(const char *const *list, const char *v)
{
	for (; *list; list++)
		if (!strcasecmp(*list, v))
			return 1;
	return 0;
}

static int rule_matches(const rule *r, const ddi_rule_input *in)
{
	if (r->proto && strcmp(r->proto, in->proto) != 0)
		return 0;
	if (r->known_malware)
		return in->known_malware;
	if (r->suspicious)
		return in->highly_suspicious;
	if (r->any)
		return 1;
	if (r->types && in_list(r->types, in->true_type))
		return 1;
	if (r->exts) {
		const char *dot = strrchr(in->file_name, '.');
		return dot && in_list(r->exts, dot + 1);
	}
	return 0;
}

static const rule *ruleset_table(const char *ruleset)
{
	return ruleset && !strcmp(ruleset, "all") ? all_rules : default_rules;
}

void ddi_rules_eval(const char *ruleset, const ddi_rule_input *in, ddi_rule_result *out)
{
	for (const rule *r = ruleset_table(ruleset); r->name; r++) {
		if (rule_matches(r, in)) {
			out->rule = r->name;
			out->submit = r->submit;
			return;
		}
	}
	out->rule = "No matching rule";
	out->submit = 0;
}

static json_t *list_json(const char *const *list)
{
	json_t *a = json_array();
	for (; list && *list; list++)
		json_array_append_new(a, json_string(*list));
	return a;
}

json_t *ddi_rules_describe(const char *ruleset)
{
	json_t *rules = json_array();
	int priority = 1;
	for (const rule *r = ruleset_table(ruleset); r->name; r++, priority++) {
		json_t *crit = json_object();
		if (r->proto)
			json_object_set_new(crit, "protocol", json_string(r->proto));
		if (r->known_malware)
			json_object_set_new(crit, "detection", json_string("Known malware"));
		else
			json_object_set_new(crit, "detection",
					    json_string(r->suspicious ? "Highly suspicious (lab: CTDLAB-RISK marker)"
								      : "No detection"));
		if (r->types)
			json_object_set_new(crit, "true_file_types", list_json(r->types));
		if (r->exts)
			json_object_set_new(crit, "extensions", list_json(r->exts));
		json_array_append_new(rules, json_pack("{s:i, s:s, s:s, s:b, s:o}", "priority", priority,
						       "name", r->name, "action",
						       r->submit ? "Submit" : "Do not submit",
						       "enabled", 1, "criteria", crit));
	}
	return rules;
}
