/* imsva_policy_defaults.c - the rule set of a fresh appliance: the two
 * built-in TMCM suspicious-object rules, the antivirus rule and the spam
 * rule, named in the appliance's locale. */
#include "imsva_policy_int.h"
#include "util.h"

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

