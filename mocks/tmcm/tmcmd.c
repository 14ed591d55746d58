/* tmcmd.c - main of the TMCM / Apex Central emulator: the option table, the
 * keys generated on first start (Automation API application, feed keys per
 * subscription, console password), one HTTPS listener serving the Automation
 * API, the console API and the DTAS-style SO feed, and the sync worker. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "util.h"
#include "tmcm.h"
#include "metrics.h"

static const cfg_opt tmcm_opts[] = {
	DAEMON_CFG_OPTS(tmcm_config, "8444", "yes"),
	{"ddan_url", CFG_STR, offsetof(tmcm_config, ddan_url), "", NULL, 0, 0, NULL,
	 "DDAN to pull Virtual Analyzer objects from (empty: none)"},
	{"ddan_api_key", CFG_STR, offsetof(tmcm_config, ddan_api_key), "", NULL, 0, 0, NULL,
	 "API key of that DDAN"},
	{"ddi_url", CFG_STR, offsetof(tmcm_config, ddi_url), "", NULL, 0, 0, NULL,
	 "DDI SO feed URL(s), comma-separated (empty: none)"},
	{"ddi_api_key", CFG_STR, offsetof(tmcm_config, ddi_api_key), "", NULL, 0, 0, NULL,
	 "API key(s) of those DDIs, comma-separated in the same order"},
	{"imsva_feed_key", CFG_STR, offsetof(tmcm_config, imsva_feed_key), "", NULL, 0, 0, NULL,
	 "API key IMSVA uses to pull the SO feed (empty: generated on first start)"},
	{"sps_feed_key", CFG_STR, offsetof(tmcm_config, sps_feed_key), "", NULL, 0, 0, NULL,
	 "API key SPS uses to pull the SO feed (empty: generated on first start)"},
	{"app_id", CFG_STR, offsetof(tmcm_config, app_id), "", NULL, 0, 0, NULL,
	 "Automation API Application ID (empty: generated on first start)"},
	{"api_key", CFG_STR, offsetof(tmcm_config, api_key), "", NULL, 0, 0, NULL,
	 "Automation API key (empty: generated on first start)"},
	{"console_password", CFG_STR, offsetof(tmcm_config, console_password), "", NULL, 0, 0,
	 NULL, "console API password (empty: generated on first start)"},
	{"hostname", CFG_STR, offsetof(tmcm_config, hostname), "", NULL, 0, 0, NULL,
	 "host name TMCM registers with at DDAN/DDI (empty: the system's)"},
	{"sync_interval", CFG_DURATION, offsetof(tmcm_config, sync_interval), "3s", "10m", 100,
	 86400000, NULL, "how often to pull the SO lists of DDAN and DDI",
	 .def_classroom = "20s"},
	{"token_timeout", CFG_DURATION, offsetof(tmcm_config, token_timeout), "5m", "30s", 1000,
	 86400000, NULL, "Automation API communication time-out: allowed age of a JWT's iat",
	 .def_classroom = "5m"},
	{"heartbeat_timeout", CFG_DURATION, offsetof(tmcm_config, heartbeat_timeout), "30s", "15m",
	 1000, 86400000, NULL, "a product silent this long is shown abnormal",
	 .def_classroom = "2m"},
	{"feed_page_size", CFG_INT, offsetof(tmcm_config, feed_page_size), "20000", NULL, 1,
	 1000000, NULL, "objects per get_black_lists page served to products"},
	{"udso_max", CFG_INT, offsetof(tmcm_config, udso_max), "250000", NULL, 1, 100000000, NULL,
	 "most user-defined objects the list holds"},
	{"peer_timeout", CFG_DURATION, offsetof(tmcm_config, peer_timeout), "10s", "60s", 100,
	 600000, NULL, "time-out of one request to DDAN/DDI",
	 .def_classroom = "30s"},
	{"va_default_action", CFG_ENUM, offsetof(tmcm_config, va_default_action), "log", NULL, 0,
	 0, "log|block", "scan action of a new Virtual Analyzer object"},
	{"so_dist_role", CFG_ENUM, offsetof(tmcm_config, so_dist_role), "none", NULL, 0, 0,
	 "none|hub|edge", "SystemCtrl.TmcmSoDist_Role reported by the Automation API"},
};

static const cfg_section tmcm_section = {"tmcm", tmcm_opts, CFG_NOPTS(tmcm_opts)};

/* A pinned value wins; else the one generated on first start. */
static char *secret(store *st, const char *name, const char *pinned, int upper)
{
	ctd_err err = {0};
	char *v = store_secret(st, "tmcm", name, pinned,
			       (secret_kind){upper ? SECRET_GUID : SECRET_UUID, 0}, &err);
	if (!v)
		fatal("tmcm.settings", "key=%s error=\"%s\"", name, err.msg);
	return v;
}

static void load_secrets(tmcm_app *app, const tmcm_config *cfg)
{
	ctd_err err = {0};
	store *st = store_get(&err);
	if (!st)
		fatal("tmcm.store", "error=\"%s\"", err.msg);
	app->app_id = secret(st, "app_id", cfg->app_id, 1);
	app->api_key = secret(st, "api_key", cfg->api_key, 1);
	app->console_password = secret(st, "console_password", cfg->console_password, 0);
	app->client_uuid = secret(st, "client_uuid", NULL, 0);
	app->feed_keys[0] = (tmcm_feed_key){"imsva", secret(st, "imsva_feed_key",
							    cfg->imsva_feed_key, 1)};
	app->feed_keys[1] = (tmcm_feed_key){"sps", secret(st, "sps_feed_key", cfg->sps_feed_key,
							  1)};
	char host[256] = "tmcm";
	if (!cfg->hostname[0])
		gethostname(host, sizeof(host) - 1);
	app->hostname = xstrdup(cfg->hostname[0] ? cfg->hostname : host);
}

static void publish_info(ctd_daemon *d, const tmcm_app *app)
{
	json_object_set_new(d->info, "app_id", json_string(app->app_id));
	json_object_set_new(d->info, "api_key", json_string(app->api_key));
	json_object_set_new(d->info, "console_password", json_string(app->console_password));
	json_object_set_new(d->info, "imsva_feed_key", json_string(app->feed_keys[0].key));
	json_object_set_new(d->info, "sps_feed_key", json_string(app->feed_keys[1].key));
	json_object_set_new(d->info, "client_uuid", json_string(app->client_uuid));
}

static void free_app(tmcm_app *app)
{
	free(app->app_id);
	free(app->api_key);
	free(app->console_password);
	free(app->client_uuid);
	free(app->hostname);
	for (int i = 0; i < TMCM_NFEED_KEYS; i++)
		free((char *)app->feed_keys[i].key);
}

/* /healthz "status": the pull from each SO source. */
static json_t *health_status(void *syncer)
{
	return json_pack("{s:o}", "sources", tmcm_sync_status(syncer));
}

int main(int argc, char **argv)
{
	static tmcm_config cfg;
	static tmcm_app app;
	ctd_daemon d;
	daemon_boot(&d, "tmcm", &tmcm_section, &cfg, argc, argv);
	app.cfg = &cfg;
	load_secrets(&app, &cfg);
	/* scripts send the console password itself as X-Api-Key; the Automation
	 * API key works wherever the password does */
	daemon_set_login(&d, &(session_conf){.password = app.console_password,
					     /* the first is TMCM_LOGIN_KEY_SLOT */
					     .api_keys = {app.api_key, app.console_password}});

	ctd_err err = {0};
	app.syncer = tmcm_sync_start(&app, &err);
	if (!app.syncer)
		fatal("tmcm.sync", "error=\"%s\"", err.msg);

	const struct {
		const http_route *routes;
		size_t n;
	} tables[] = {{tmcm_automation_routes, tmcm_automation_nroutes},
		      {tmcm_console_routes, tmcm_console_nroutes},
		      {tmcm_feed_routes, tmcm_feed_nroutes},
		      {tmcm_lab_routes, tmcm_lab_nroutes}};
	size_t n = 0;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		n += tables[i].n;
	http_route *routes = xcalloc(n, sizeof(*routes)), *next = routes;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		memcpy(next, tables[i].routes, tables[i].n * sizeof(*routes));
		next += tables[i].n;
	}
	daemon_set_status(&d, health_status, app.syncer);
	/* path_nocase: the Automation API is IIS-routed, clients vary the case */
	daemon_set_console(&d, "/webapp/login.aspx", &tmcm_console_files);
	daemon_add_peer(&d, "ddan", cfg.ddan_url);
	daemon_metric_sql(&daemon_metric_objects,
			  "SELECT 'udso', type, COUNT(*) FROM tmcm_udso GROUP BY type UNION ALL "
			  "SELECT 'va', type, COUNT(*) FROM tmcm_va_objects GROUP BY type");
	daemon_http_start(&d, routes, n, &app, 1);
	free(routes); /* the listener keeps its own copy */
	publish_info(&d, &app);
	/* `ctdlab status` prints it: the page the instructor projects */
	json_object_set_new(d.info, "lab_overview",
			    json_sprintf("%s/lab", json_string_value(json_object_get(
							   d.listeners, cfg.base.tls ? "https" : "http"))));
	log_info("tmcm.ready", "app_id=%s sources=%s%s%s", app.app_id, cfg.ddan_url,
		 cfg.ddi_url[0] ? "," : "", cfg.ddi_url);
	daemon_ready(&d);
	daemon_run(&d);
	tmcm_sync_stop(app.syncer);
	daemon_shutdown(&d);
	free_app(&app);
	cfg_free(&tmcm_section, &cfg);
	return 0;
}
