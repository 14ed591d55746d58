/* fuzz_tmcm_udso.c - the Automation API's request parsing (tmcm_automation.c
 * and what it calls): a UserDefinedSO body {"param": {type, content,
 * scan_action, notes, expiration_utc_date}} read as udso_put reads it, the
 * object checked and canonicalised (tmcm_udso_check), its expiry parsed
 * (tmcm_parse_utc). */
#include <stdlib.h>

#include "fuzz.h"
#include "tmcm/tmcm.h"

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	json_t *param = json_object_get(root, "param");
	const char *type = str_of(param, "type"), *content = str_of(param, "content");
	const char *action = str_of(param, "scan_action");
	if (type && content && action) {
		char *canon = NULL;
		if (tmcm_udso_check(type, content, action, &canon, NULL) == 0 && !canon)
			abort(); /* accepted objects have a canonical form */
		free(canon);
	}
	const char *exp = str_of(param, "expiration_utc_date");
	int64_t ms;
	if (exp)
		tmcm_parse_utc(exp, &ms);
	json_decref(root);
	return 0;
}
