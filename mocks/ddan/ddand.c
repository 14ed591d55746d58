/* ddand.c - the DDAN (Deep Discovery Analyzer) daemon: the DTAS Web Service
 * API, the analysis engine and the console API on one HTTPS listener.
 * `ddand --print-rules` writes the built-in verdict rules and exits. */
#include <stdio.h>
#include <string.h>

#include "ddan.h"
#include "log.h"
#include "metrics.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--print-rules") == 0) {
		fputs(ddan_default_rules_json, stdout);
		return 0;
	}
	ddan_config cfg;
	ctd_daemon d;
	ddan_app app;
	ctd_err err = {0};

	daemon_boot(&d, "ddan", &ddan_section, &cfg, argc, argv);
	store *st = store_get(&err);
	if (!st || ddan_app_init(&app, &cfg, st, &err) != 0)
		fatal("ddan.init", "error=\"%s\"", err.msg);
	json_object_set_new(d.info, "api_key", json_string(app.api_key));
	daemon_set_login(&d, &(session_conf){.password = app.console_password,
					     .api_keys = {app.api_key}});
	json_object_set_new(d.info, "console_password", json_string(d.login_password));
	daemon_set_console(&d, "/pages/login.php", &ddan_console_files);
	size_t nroutes;
	const http_route *routes = ddan_routes(&nroutes);
	daemon_metric_sql(&daemon_metric_objects,
			  "SELECT 'ddan', type, COUNT(*) FROM ddan_so GROUP BY type");
	daemon_metric_sql(&daemon_metric_queue, "SELECT 'analysis', COUNT(*) FROM ddan_samples "
						"WHERE status IN (2, 3)");
	daemon_http_start(&d, routes, nroutes, &app, 0);
	daemon_ready(&d);
	daemon_run(&d);
	ddan_app_free(&app);
	daemon_shutdown(&d);
	cfg_free(&ddan_section, &cfg);
	return 0;
}
