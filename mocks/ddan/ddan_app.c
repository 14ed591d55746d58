/* ddan_app.c - DDAN's option table and application state: the API key and
 * console password (generated on first start into the settings table unless
 * pinned), the verdict rules and the analysis engine. */
#include "ddan.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "filetype.h"
#include "log.h"

static const cfg_opt ddan_opts[] = {
	DAEMON_CFG_OPTS(ddan_config, "8443", "yes"),
	{"api_key", CFG_STR, offsetof(ddan_config, api_key), "", NULL, 0, 0, NULL,
	 "pin the DTAS API key (Help > About); empty: an upper-case GUID generated on first start"},
	{"console_password", CFG_STR, offsetof(ddan_config, console_password), "", NULL, 0, 0, NULL,
	 "pin the console password; empty: generated on first start"},
	{"analysis_time", CFG_DURATION, offsetof(ddan_config, analysis_time), "1s", "5m", 0,
	 86400000LL, NULL, "time a sample spends in Processing before its verdict",
	 .def_classroom = "15s"},
	{"so_expiry", CFG_DURATION, offsetof(ddan_config, so_expiry), "30d", NULL, 1000,
	 3650LL * 86400000LL, NULL, "lifetime of a generated suspicious object (Expiration)"},
	{"feed_page_size", CFG_INT, offsetof(ddan_config, feed_page_size), "1000", NULL, 1, 100000,
	 NULL, "suspicious objects per get_black_lists answer"},
	{"rules_file", CFG_STR, offsetof(ddan_config, rules_file), "", NULL, 0, 0, NULL,
	 "verdict rules (JSON, see ddand --print-rules); empty: the built-in rules"},
	{"require_registration", CFG_BOOL, offsetof(ddan_config, require_registration), "no", NULL, 0,
	 0, NULL, "refuse calls (403) from ClientUUIDs that did not register"},
	{"time_skew", CFG_DURATION, offsetof(ddan_config, time_skew), "0", NULL, 0,
	 365LL * 86400000LL, NULL, "largest accepted X-DTAS-Time difference; 0: not checked"},
	{"lenient_upload_checksum", CFG_BOOL, offsetof(ddan_config, lenient_upload_checksum), "yes",
	 NULL, 0, 0, NULL, "upload_sample: also accept a checksum computed without the archive body"},
};
const cfg_section ddan_section = {"ddan", ddan_opts, CFG_NOPTS(ddan_opts)};

int ddan_app_init(ddan_app *app, const ddan_config *cfg, store *st, ctd_err *err)
{
	memset(app, 0, sizeof *app);
	app->cfg = cfg;
	app->api_key = store_secret(st, DDAN_NS, "api_key", cfg->api_key,
				    (secret_kind){SECRET_GUID, 0}, err);
	/* the first two groups of a UUID: "1a2b3c4d-5e6f" */
	app->console_password = app->api_key ? store_secret(st, DDAN_NS, "console_password",
							    cfg->console_password,
							    (secret_kind){SECRET_UUID, 13}, err)
					     : NULL;
	if (!app->api_key || !app->console_password)
		return -1;
	app->rules = ddan_rules_load(cfg->rules_file, err);
	if (!app->rules)
		return -1;
	log_info("rules.loaded", "source=\"%s\" rules=%zu", *cfg->rules_file ? cfg->rules_file : "built-in",
		 ddan_rules_count(app->rules));
	if (filetype_init(err) != 0)
		return -1;
	app->engine = ddan_engine_start(app, err);
	return app->engine ? 0 : -1;
}

void ddan_app_free(ddan_app *app)
{
	ddan_engine_stop(app->engine);
	ddan_rules_free(app->rules);
	free(app->api_key);
	free(app->console_password);
}
