/* spsd.c - the Smart Protection Server emulator: the web reputation query
 * service (plain HTTP, 5274), the console API (HTTPS, 4343) and the
 * suspicious-object subscription to TMCM or a DDAN. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "daemon.h"
#include "log.h"
#include "sps.h"
#include "store.h"
#include "util.h"
#include "metrics.h"

static const cfg_opt sps_opts[] = {
	DAEMON_CFG_OPTS(sps_config, "4343", "yes"),
	{"wrs_port", CFG_INT, offsetof(sps_config, wrs_port), "5274", NULL, 0, 65535, NULL,
	 "web reputation query port, plain HTTP (0: ephemeral)"},
	{"so_source", CFG_ENUM, offsetof(sps_config, so_source), "tmcm", NULL, 0, 0, "tmcm|ddan",
	 "where suspicious objects come from: Control Manager or a Deep Discovery Analyzer"},
	{"tmcm_url", CFG_STR, offsetof(sps_config, tmcm_url), "", NULL, 0, 0, NULL,
	 "Control Manager SO feed base URL (empty: not subscribed)"},
	{"tmcm_api_key", CFG_STR, offsetof(sps_config, tmcm_api_key), "", NULL, 0, 0, NULL,
	 "API key Control Manager issued to this SPS (its sps_feed_key)"},
	{"ddan_url", CFG_STR, offsetof(sps_config, ddan_url), "", NULL, 0, 0, NULL,
	 "Deep Discovery Analyzer base URL when so_source=ddan"},
	{"ddan_api_key", CFG_STR, offsetof(sps_config, ddan_api_key), "", NULL, 0, 0, NULL,
	 "the DDAN's API key (Help > About) when so_source=ddan"},
	{"sync_interval", CFG_DURATION, offsetof(sps_config, sync_interval_ms), "10s", "5m",
	 100, 86400000LL, NULL, "how often the SO list is pulled",
	 .def_classroom = "20s"},
	{"sync_timeout", CFG_DURATION, offsetof(sps_config, sync_timeout_ms), "10s", "60s", 100,
	 3600000LL, NULL, "time limit of one feed request",
	 .def_classroom = "30s"},
	{"verify_tls", CFG_BOOL, offsetof(sps_config, verify_tls), "no", NULL, 0, 0, NULL,
	 "verify the SO source's certificate (the lab's are self-signed)"},
	{"admin_password", CFG_STR, offsetof(sps_config, admin_password), "", NULL, 0, 0, NULL,
	 "console password of user admin (empty: generated on first start)"},
	{"api_key", CFG_STR, offsetof(sps_config, api_key), "", NULL, 0, 0, NULL,
	 "console API key (empty: generated on first start)"},
};
static const cfg_section sps_section = {"sps", sps_opts, CFG_NOPTS(sps_opts)};

/* The pinned value, else the one generated on first start. */
static char *secret(store *st, const char *key, const char *pinned, size_t hex_digits)
{
	ctd_err err;
	char *v = store_secret(st, "sps", key, pinned, (secret_kind){SECRET_HEX, hex_digits}, &err);
	if (!v)
		fatal("sps.secret", "key=%s error=\"%s\"", key, err.msg);
	return v;
}

/* /healthz "status": the SO subscription. */
static json_t *health_status(void *cls)
{
	ctd_err err;
	json_t *sync = sps_sync_status(&err);
	return sync ? json_pack("{s:o}", "so_sync", sync) : NULL;
}

int main(int argc, char **argv)
{
	sps_config cfg;
	ctd_daemon d;
	ctd_err err;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	daemon_boot(&d, "sps", &sps_section, &cfg, argc, argv);
	store *st = store_get(&err);
	if (!st)
		fatal("store.open", "error=\"%s\"", err.msg);
	char *password = secret(st, "admin_password", cfg.admin_password, 12);
	char *api_key = secret(st, "api_key", cfg.api_key, 32);
	json_object_set_new(d.info, "api_key", json_string(api_key));
	json_object_set_new(d.info, "so_source", json_string(cfg.so_source));
	/* the sync state before the listeners: handlers use it from their start */
	if (sps_sync_start(&cfg, &err) != 0)
		fatal("sync.start", "error=\"%s\"", err.msg);
	daemon_set_status(&d, health_status, NULL);
	daemon_set_login(&d, &(session_conf){.password = password, .api_keys = {api_key}});
	json_object_set_new(d.info, "admin_password", json_string(d.login_password));

	http_server *wrs = sps_wrs_start(&cfg, &err);
	if (!wrs)
		fatal("http.listen", "listener=wrs port=%lld error=\"%s\"", cfg.wrs_port, err.msg);
	sps_console_init(http_server_port(wrs));
	daemon_add_http(&d, "wrs", "http", wrs);
	daemon_set_console(&d, "/", &sps_console_files);
	daemon_add_peer(&d, "tmcm", cfg.tmcm_url);
	daemon_metric_sql(&daemon_metric_objects,
			  "SELECT 'sps', type, COUNT(*) FROM sps_objects GROUP BY type");
	daemon_http_start(&d, sps_console_routes, sps_console_nroutes, NULL, 1);
	daemon_ready(&d);
	daemon_run(&d);
	sps_sync_stop();
	daemon_shutdown(&d);
	free(password);
	free(api_key);
	cfg_free(&sps_section, &cfg);
	curl_global_cleanup();
	return 0;
}
