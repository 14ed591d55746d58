/* config.c - resolves a daemon's declarative option table from the built-in
 * defaults (per profile), the INI file, the environment and the command line,
 * validates every value it is given, and prints --help from the same table. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "util.h"

/* The places a value can come from, lowest precedence first. */
enum { SRC_INI_LAB, SRC_INI_SECTION, SRC_ENV_ANY, SRC_ENV_SECTION, SRC_FLAG, SRC_COUNT };

typedef struct given_value {
	char *text;
	char *origin; /* for errors: "CTDLAB_IMSVA_SMTP_PORT", "--smtp-port", "x.ini [lab]" */
} given_value;

typedef struct cfg_ctx {
	const cfg_section *sec;
	void *target;
	given_value (*given)[SRC_COUNT]; /* per option */
	const char *config_path;
	char *ini_unknown; /* first unknown key in the daemon's own INI section */
} cfg_ctx;

/* --- names ---------------------------------------------------------------- */

/* Option names match case-insensitively with `-` and `_` interchangeable. */
static int name_matches(const char *name, const char *given, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char a = name[i] == '-' ? '_' : name[i];
		char b = given[i] == '-' ? '_' : given[i];
		if (a == '\0' || tolower((unsigned char)a) != tolower((unsigned char)b))
			return 0;
	}
	return name[len] == '\0';
}

static int opt_index(const cfg_section *sec, const char *given, size_t len)
{
	for (size_t i = 0; i < sec->nopts; i++)
		if (name_matches(sec->opts[i].name, given, len))
			return (int)i;
	return -1;
}

static char *env_name(const char *section, const char *key)
{
	char *name = section ? xasprintf("CTDLAB_%s_%s", section, key) : xasprintf("CTDLAB_%s", key);
	str_upper(name);
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	return name;
}

static char *flag_name(const char *key)
{
	char *name = xasprintf("--%s", key);
	for (char *p = name; *p; p++)
		if (*p == '_')
			*p = '-';
	return name;
}

static void give(cfg_ctx *c, int idx, int src, const char *text, char *origin)
{
	given_value *g = &c->given[idx][src];
	free(g->text);
	free(g->origin);
	g->text = xstrdup(text);
	g->origin = origin;
}

/* --- value parsing -------------------------------------------------------- */

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int parse_int(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno || isspace((unsigned char)*s))
		return -1;
	*out = v;
	return 0;
}

/* duration_parse() does the units; here the text must look like one number
 * (digits, optional fraction) of sane size and a unit, so "nan", "1e99d" or
 * " 5s" never reach it. */
static int parse_duration(const char *s, long long *out)
{
	size_t digits = strspn(s, "0123456789");
	const char *p = s + digits;
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	int64_t ms;
	if (digits == 0 || digits > 12 || strspn(p, "msdh") != strlen(p)
	    || duration_parse(s, &ms, NULL) != 0)
		return -1;
	*out = ms;
	return 0;
}

static int enum_has(const char *choices, const char *s)
{
	size_t len = strlen(s);
	for (const char *p = choices; p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, s, n) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* "250ms", "5s", "2m", "1h", "30d": the largest unit that divides exactly. */
static void fmt_duration(long long ms, char *out, size_t outlen)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(out, outlen, "%lld%s", ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(out, outlen, ms == 0 ? "0s" : "%lldms", ms);
}

static int bounded(const cfg_opt *o)
{
	return o->min < o->max;
}

static int reject(const cfg_ctx *c, const cfg_opt *o, const char *origin, ctd_err *err,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int reject(const cfg_ctx *c, const cfg_opt *o, const char *origin, ctd_err *err,
		  const char *fmt, ...)
{
	char problem[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof problem, fmt, ap);
	va_end(ap);
	return ctd_fail(err, CTD_EINVAL, "%s.%s: %s (from %s)", c->sec->name, o->name, problem,
			origin);
}

static void set_string(void *field, const char *text)
{
	char **p = field;
	free(*p);
	*p = xstrdup(text);
}

/* Parse text for option o and store it; later sources overwrite earlier. */
static int apply(const cfg_ctx *c, const cfg_opt *o, const char *text, const char *origin,
		 ctd_err *err)
{
	void *field = (char *)c->target + o->offset;
	long long v;
	char a[24], b[24], given[24];

	switch (o->type) {
	case CFG_STR:
		set_string(field, text);
		return 0;
	case CFG_ENUM:
		if (!enum_has(o->choices, text))
			return reject(c, o, origin, err, "'%.40s' is not one of %s", text, o->choices);
		set_string(field, text);
		return 0;
	case CFG_BOOL:
		if (parse_bool(text, field) < 0)
			return reject(c, o, origin, err,
				      "'%.40s' is not a boolean (yes/no, true/false, on/off, 1/0)", text);
		return 0;
	case CFG_INT:
		if (parse_int(text, &v) < 0)
			return reject(c, o, origin, err, "'%.40s' is not an integer", text);
		if (bounded(o) && (v < o->min || v > o->max))
			return reject(c, o, origin, err, "%lld is out of range %lld..%lld", v, o->min,
				      o->max);
		*(long long *)field = v;
		return 0;
	case CFG_DURATION:
		if (parse_duration(text, &v) < 0)
			return reject(c, o, origin, err,
				      "'%.40s' is not a duration (250ms, 5s, 2m, 1h, 30d; bare = s)",
				      text);
		if (bounded(o) && (v < o->min || v > o->max)) {
			fmt_duration(v, given, sizeof given);
			fmt_duration(o->min, a, sizeof a);
			fmt_duration(o->max, b, sizeof b);
			return reject(c, o, origin, err, "%s is out of range %s..%s", given, a, b);
		}
		*(long long *)field = v;
		return 0;
	}
	return reject(c, o, origin, err, "unknown option type %d", (int)o->type);
}

typedef enum { PROFILE_FAST, PROFILE_CLASSROOM, PROFILE_REALISTIC } cfg_profile;

/* The option's default in a profile and how an error names it (no
 * profile's own value: the fast one). */
static const char *profile_default(const cfg_opt *o, cfg_profile p, const char **origin)
{
	if (p == PROFILE_REALISTIC && o->def_realistic) {
		*origin = "the realistic default";
		return o->def_realistic;
	}
	if (p == PROFILE_CLASSROOM && o->def_classroom) {
		*origin = "the classroom default";
		return o->def_classroom;
	}
	*origin = "the default";
	return o->def;
}

/* Default for the profile, then every value given, in precedence order. */
static int resolve(const cfg_ctx *c, size_t idx, cfg_profile profile, ctd_err *err)
{
	const cfg_opt *o = &c->sec->opts[idx];
	const char *origin;
	const char *def = profile_default(o, profile, &origin);
	if (apply(c, o, def ? def : "", origin, err) < 0)
		return -1;
	for (int src = 0; src < SRC_COUNT; src++) {
		const given_value *g = &c->given[idx][src];
		if (g->text && apply(c, o, g->text, g->origin, err) < 0)
			return -1;
	}
	return 0;
}

/* --- sources -------------------------------------------------------------- */

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* --key=value or --key value; a bool flag alone means yes. */
static int collect_flags(cfg_ctx *c, int argc, char **argv, ctd_err *err)
{
	const char *sec = c->sec->name;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
			return ctd_fail(err, CTD_EINVAL, "%s: unexpected argument '%.60s' (see --help)",
					sec, arg);
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		int is_config = name_matches("config", name, len);
		int idx = opt_index(c->sec, name, len);
		if (idx < 0 && !is_config)
			return ctd_fail(err, CTD_EINVAL, "%s: unknown option --%.*s (see --help)", sec,
					(int)(len > 60 ? 60 : len), name);
		const char *value = eq ? eq + 1 : NULL;
		int flag_bool;
		if (!value && idx >= 0 && c->sec->opts[idx].type == CFG_BOOL &&
		    (i + 1 >= argc || parse_bool(argv[i + 1], &flag_bool) < 0))
			value = "yes";
		if (!value && i + 1 >= argc)
			return ctd_fail(err, CTD_EINVAL, "%s: --%.*s needs a value", sec,
					(int)(len > 60 ? 60 : len), name);
		if (!value)
			value = argv[++i];
		if (is_config)
			c->config_path = value;
		else
			give(c, idx, SRC_FLAG, value, xasprintf("--%.*s", (int)len, name));
	}
	return 0;
}

static int ini_collect(void *user, const char *section, const char *key, const char *value)
{
	cfg_ctx *c = user;
	int own = strcasecmp(section, c->sec->name) == 0;
	if (!own && strcasecmp(section, "lab") != 0)
		return 1; /* other appliances' sections */
	int idx = opt_index(c->sec, key, strlen(key));
	if (idx >= 0)
		give(c, idx, own ? SRC_INI_SECTION : SRC_INI_LAB, value,
		     xasprintf("%s [%s]", c->config_path, section));
	else if (own && !c->ini_unknown)
		c->ini_unknown = xstrdup(key);
	return 1; /* keys in [lab] another daemon knows are fine */
}

static int collect_ini(cfg_ctx *c, ctd_err *err)
{
	if (!c->config_path) {
		const char *env = getenv("CTDLAB_CONFIG");
		c->config_path = env && *env ? env : NULL;
	}
	if (!c->config_path || !*c->config_path) /* --config= : none, whatever the env says */
		return 0;
	int rc = ini_parse(c->config_path, ini_collect, c);
	if (rc < 0)
		return ctd_fail(err, CTD_EINVAL, "%s: cannot read config file %s: %s", c->sec->name,
				c->config_path, rc == -1 ? strerror(errno) : "out of memory");
	if (rc > 0)
		return ctd_fail(err, CTD_EINVAL, "%s: config file %s: syntax error on line %d",
				c->sec->name, c->config_path, rc);
	if (c->ini_unknown)
		return ctd_fail(err, CTD_EINVAL, "%s: unknown key '%s' in [%s] (from %s)",
				c->sec->name, c->ini_unknown, c->sec->name, c->config_path);
	return 0;
}

static void collect_env(cfg_ctx *c)
{
	for (size_t i = 0; i < c->sec->nopts; i++) {
		char *any = env_name(NULL, c->sec->opts[i].name);
		char *own = env_name(c->sec->name, c->sec->opts[i].name);
		if (getenv(any))
			give(c, (int)i, SRC_ENV_ANY, getenv(any), any);
		else
			free(any);
		if (getenv(own))
			give(c, (int)i, SRC_ENV_SECTION, getenv(own), own);
		else
			free(own);
	}
}

/* --- loading -------------------------------------------------------------- */

static int resolve_all(cfg_ctx *c, ctd_err *err)
{
	cfg_profile chosen = PROFILE_FAST;
	int profile = opt_index(c->sec, "profile", strlen("profile"));
	if (profile >= 0) {
		if (resolve(c, (size_t)profile, PROFILE_FAST, err) < 0)
			return -1;
		const char *value = *(char **)((char *)c->target + c->sec->opts[profile].offset);
		chosen = strcmp(value, "realistic") == 0   ? PROFILE_REALISTIC
			 : strcmp(value, "classroom") == 0 ? PROFILE_CLASSROOM
							   : PROFILE_FAST;
	}
	for (size_t i = 0; i < c->sec->nopts; i++)
		if ((int)i != profile && resolve(c, i, chosen, err) < 0)
			return -1;
	return 0;
}

static int has_string(const cfg_opt *o)
{
	return o->type == CFG_STR || o->type == CFG_ENUM;
}

int cfg_load(const cfg_section *sec, void *target, int argc, char **argv, ctd_err *err)
{
	if (wants_help(argc, argv)) {
		const char *slash = strrchr(argv[0], '/');
		cfg_print_help(sec, slash ? slash + 1 : argv[0], stdout);
		return 1;
	}
	for (size_t i = 0; i < sec->nopts; i++)
		if (has_string(&sec->opts[i]))
			*(char **)((char *)target + sec->opts[i].offset) = NULL;

	cfg_ctx c = {.sec = sec, .target = target};
	c.given = xcalloc(sec->nopts ? sec->nopts : 1, sizeof *c.given);
	int rc = -1;
	if (collect_flags(&c, argc, argv, err) == 0 && collect_ini(&c, err) == 0) {
		collect_env(&c);
		rc = resolve_all(&c, err);
	}
	for (size_t i = 0; i < sec->nopts; i++) {
		for (int src = 0; src < SRC_COUNT; src++) {
			free(c.given[i][src].text);
			free(c.given[i][src].origin);
		}
	}
	free(c.given);
	free(c.ini_unknown);
	if (rc < 0)
		cfg_free(sec, target);
	return rc;
}

void cfg_free(const cfg_section *sec, void *target)
{
	for (size_t i = 0; i < sec->nopts; i++) {
		if (has_string(&sec->opts[i])) {
			char **p = (char **)((char *)target + sec->opts[i].offset);
			free(*p);
			*p = NULL;
		}
	}
}

/* --- help ----------------------------------------------------------------- */

static const char *type_word(const cfg_opt *o)
{
	switch (o->type) {
	case CFG_STR: return "str";
	case CFG_INT: return "int";
	case CFG_BOOL: return "bool";
	case CFG_DURATION: return "duration";
	case CFG_ENUM: return o->choices;
	}
	return "?";
}

/* "default 5s, classroom 30s, realistic 10m, range 1s..1h" */
static void describe_default(const cfg_opt *o, char *out, size_t outlen)
{
	const char *q = o->type == CFG_STR ? "\"" : "";
	int n = snprintf(out, outlen, "default %s%s%s", q, o->def ? o->def : "", q);
	if (o->def_classroom)
		n += snprintf(out + n, outlen - (size_t)n, ", classroom %s%s%s", q, o->def_classroom,
			      q);
	if (o->def_realistic && (!o->def || strcmp(o->def, o->def_realistic) != 0))
		n += snprintf(out + n, outlen - (size_t)n, ", realistic %s%s%s", q, o->def_realistic,
			      q);
	if (bounded(o) && o->type == CFG_INT)
		snprintf(out + n, outlen - (size_t)n, ", range %lld..%lld", o->min, o->max);
	if (bounded(o) && o->type == CFG_DURATION) {
		char a[24], b[24];
		fmt_duration(o->min, a, sizeof a);
		fmt_duration(o->max, b, sizeof b);
		snprintf(out + n, outlen - (size_t)n, ", range %s..%s", a, b);
	}
}

void cfg_print_help(const cfg_section *sec, const char *prog, FILE *out)
{
	char *env_any = env_name(sec->name, "<KEY>");
	fprintf(out, "Usage: %s [--key=value | --key value ...] [--config FILE]\n\n", prog);
	fprintf(out,
		"Each option is also a key in [%s] (or [lab]) of the INI config file and an\n"
		"environment variable %s (or CTDLAB_<KEY>).\n"
		"Precedence: default < INI file < environment < flag.\n\n",
		sec->name, env_any);
	free(env_any);
	fprintf(out, "  %-30s %s\n", "--config=<file>", "INI config file (default: $CTDLAB_CONFIG)");
	fprintf(out, "  %-30s %s\n\n", "--help", "show this help and exit");
	for (size_t i = 0; i < sec->nopts; i++) {
		const cfg_opt *o = &sec->opts[i];
		char *flag = flag_name(o->name);
		char *spec = xasprintf("%s=<%s>", flag, type_word(o));
		char *env = env_name(sec->name, o->name);
		char dflt[192];
		describe_default(o, dflt, sizeof dflt);
		if (strlen(spec) <= 30)
			fprintf(out, "  %-30s %s\n", spec, dflt);
		else
			fprintf(out, "  %s\n  %-30s %s\n", spec, "", dflt);
		fprintf(out, "      %s\n      ini %s, env %s\n", o->help ? o->help : "", o->name, env);
		free(flag);
		free(spec);
		free(env);
	}
}

/* --- plain INI lookups for tools ------------------------------------------ */

typedef struct ini_lookup {
	const char *section, *key;
	char *value;
} ini_lookup;

static int ini_find(void *user, const char *section, const char *key, const char *value)
{
	ini_lookup *l = user;
	if (!l->value && strcasecmp(section, l->section) == 0 && strcasecmp(key, l->key) == 0)
		l->value = xstrdup(value);
	return 1;
}

char *cfg_ini_get(const char *path, const char *section, const char *key)
{
	ini_lookup l = {section, key, NULL};
	if (ini_parse(path, ini_find, &l) < 0) {
		free(l.value);
		return NULL;
	}
	return l.value;
}
