/* fuzz_imsva_policy.c - IMSVA's policy JSON (imsva_policy_json.c): a rule
 * read from JSON, written back, read again (the round trip must hold), and
 * the same document applied as a patch to the default rules. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "imsva/imsva_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static imsva_ruleset *defaults;
	if (!defaults)
		defaults = imsva_default_rules(IMSVA_LOCALE_EN);
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!doc)
		return 0;
	char field[IMSVA_FIELD_MAX];
	imsva_rule *r = imsva_rule_from_json(doc, field, NULL);
	if (r) {
		json_t *back = imsva_rule_to_json(r);
		imsva_rule *again = imsva_rule_from_json(back, field, NULL);
		if (!again)
			abort(); /* what the API writes, it reads */
		imsva_rule_free(again);
		json_decref(back);
		imsva_rule_free(r);
	}
	for (size_t i = 0; i < defaults->n; i++) {
		imsva_rule *p = imsva_rule_patch(defaults->rules[i], doc, field, NULL);
		imsva_rule_free(p);
	}
	json_decref(doc);
	return 0;
}
