/* imsvad.c - the IMSVA daemon: SMTP intake on smtp_port (default 2525) with
 * STARTTLS, the admin JSON API over HTTPS on the main port (default 8445),
 * and the background workers (processing, delivery, Virtual Analyzer,
 * Control Manager). Wiring only: each part lives in its own imsva_*.c. */
#include <event2/thread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "imsva_app.h"
#include "imsva_smtp.h"
#include "log.h"
#include "util.h"
#include "metrics.h"

/* (an option with a classroom default adds `.def_classroom = "..."`) */
#define OPT(name, type, field, def, real, min, max, choices, help, ...) \
	{name, type, offsetof(imsva_config, field), def, real, min, max, choices, help, __VA_ARGS__}
#define MS(x) (x##LL)

static const cfg_opt imsva_opts[] = {
	DAEMON_CFG_OPTS(imsva_config, "8445", "yes"),
	OPT("smtp_port", CFG_INT, smtp_port, "2525", NULL, 0, 65535, NULL,
	    "SMTP listener port (0: ephemeral)"),
	OPT("hostname", CFG_STR, hostname, "imsva.lab", NULL, 0, 0, NULL,
	    "host name in the SMTP greeting, Received headers and DTAS registration"),
	OPT("max_message_size", CFG_INT, max_message_size, "10485760", NULL, 1024, 1073741824, NULL,
	    "largest message accepted (bytes): SIZE and 552 above it"),
	OPT("max_rcpts", CFG_INT, max_rcpts, "1000", NULL, 1, 100000, NULL,
	    "recipients per message; more get 452"),
	OPT("max_line", CFG_INT, max_line, "2048", NULL, 512, 65536, NULL,
	    "longest SMTP command line (bytes); longer gets 500"),
	OPT("smtp_idle_timeout", CFG_DURATION, smtp_idle_timeout, "60s", "5m", MS(1000),
	    MS(86400000), NULL, "disconnect an idle SMTP client with 421 after this",
	    .def_classroom = "5m"),
	OPT("max_connections", CFG_INT, max_connections, "1000", NULL, 1, 100000, NULL,
	    "simultaneous SMTP connections; more get 421"),
	OPT("smtp_tls", CFG_BOOL, smtp_tls, "yes", NULL, 0, 0, NULL,
	    "offer STARTTLS with the lab certificate"),
	OPT("workers", CFG_INT, workers, "2", NULL, 1, 64, NULL, "message processing threads"),
	OPT("admin_password", CFG_STR, admin_password, "", NULL, 0, 0, NULL,
	    "admin console password (empty: generated on first start, see ready file)"),
	OPT("next_hop", CFG_STR, next_hop, "", NULL, 0, 0, NULL,
	    "deliver to this SMTP server (host:port); empty: the local delivered mailbox"),
	OPT("deliver_retry", CFG_DURATION, deliver_retry, "1s", "15m", MS(10), MS(86400000), NULL,
	    "first retry of a deferred delivery (doubled per attempt, capped at 1h)",
	    .def_classroom = "30s"),
	OPT("deliver_max_age", CFG_DURATION, deliver_max_age, "2m", "24h", MS(1000),
	    MS(2592000000), NULL, "give up (bounce) a deferred delivery after this",
	    .def_classroom = "1h"),
	OPT("ddan_url", CFG_STR, ddan_url, "", NULL, 0, 0, NULL,
	    "DDAN for Virtual Analyzer (empty: VA off)"),
	OPT("ddan_api_key", CFG_STR, ddan_api_key, "", NULL, 0, 0, NULL,
	    "DDAN API key (DDAN Help > About)"),
	OPT("va_security_level", CFG_ENUM, va_security_level, "low", NULL, 0, 0, "low|medium|high",
	    "VA risk mapping: low = High only, medium = High+Medium, high = all"),
	OPT("va_poll_interval", CFG_DURATION, va_poll_interval, "500ms", "1m", MS(50),
	    MS(3600000), NULL, "how often the VA queue submits and polls DDAN",
	    .def_classroom = "5s"),
	OPT("va_timeout", CFG_DURATION, va_timeout, "30s", "30m", MS(100), MS(86400000), NULL,
	    "maximum analysis time; then \"Probable advanced threat (ATSE)\"",
	    .def_classroom = "5m"),
	OPT("tmcm_url", CFG_STR, tmcm_url, "", NULL, 0, 0, NULL,
	    "Control Manager (empty: not managed, no SO sync)"),
	OPT("tmcm_api_key", CFG_STR, tmcm_api_key, "", NULL, 0, 0, NULL,
	    "API key of IMSVA's SO feed subscription at TMCM"),
	OPT("tmcm_sync_interval", CFG_DURATION, tmcm_sync_interval, "3s", "5m", MS(100),
	    MS(86400000), NULL, "suspicious-object sync from Control Manager",
	    .def_classroom = "20s"),
	OPT("tmcm_heartbeat_interval", CFG_DURATION, tmcm_heartbeat_interval, "5s", "5m", MS(100),
	    MS(86400000), NULL, "heartbeat (test_connection) to Control Manager",
	    .def_classroom = "20s"),
	OPT("sps_url", CFG_STR, sps_url, "", NULL, 0, 0, NULL,
	    "Smart Protection Server for web reputation (empty: WRS off)"),
	OPT("wrs_cache_ttl", CFG_DURATION, wrs_cache_ttl, "2s", "30m", MS(0), MS(86400000), NULL,
	    "how long a web reputation answer is cached",
	    .def_classroom = "10s"),
	OPT("wrs_fallback", CFG_ENUM, wrs_fallback, "pass", NULL, 0, 0, "pass|defer",
	    "SPS unreachable: pass (scan without WRS) or defer (retry the message later)"),
	OPT("wrs_defer_retry", CFG_DURATION, wrs_defer_retry, "2s", "5m", MS(100), MS(86400000),
	    NULL, "retry time of a message deferred because SPS was unreachable",
	    .def_classroom = "30s"),
};
static const cfg_section imsva_section = {"imsva", imsva_opts, CFG_NOPTS(imsva_opts)};

/* Secrets: pinned by config, else generated once and kept in settings. */
static char *admin_password(const imsva_config *cfg, store *st)
{
	ctd_err err = {0};
	/* 16 hex digits and two dashes: easy to type */
	char *pw = store_secret(st, "imsva", "admin_password", cfg->admin_password,
				(secret_kind){SECRET_UUID, 18}, &err);
	if (!pw)
		fatal("imsva.admin_password", "error=\"%s\"", err.msg);
	return pw;
}

static void ddan_client_init(imsva_app *app, store *st)
{
	const imsva_config *cfg = app->cfg;
	if (!*cfg->ddan_url)
		return;
	ctd_err err = {0};
	char *uuid = store_secret(st, "imsva", "ddan_client_uuid", NULL,
				  (secret_kind){SECRET_UUID, 0}, &err);
	if (!uuid)
		fatal("imsva.ddan_client_uuid", "error=\"%s\"", err.msg);
	dtas_client_init(&app->ddan, &(dtas_client_spec){
		.base_url = cfg->ddan_url, .api_key = cfg->ddan_api_key, .client_uuid = uuid,
		.product_name = "IMSVA", .source_id = "103", .source_name = "IMSVA",
		.hostname = cfg->hostname, .http = {.timeout_ms = 10000, .retries = 1}});
	free(uuid);
}

static worker *start_worker(const char *name, int64_t interval_ms, worker_job job, void *arg)
{
	ctd_err err = {0};
	worker *w = worker_start(name, interval_ms, job, arg, &err);
	if (!w)
		fatal("imsva.worker", "name=%s error=\"%s\"", name, err.msg);
	return w;
}

/* /healthz "status": the Control Manager and SPS connections. */
static const metric_def messages_metric = {
	"ctdlab_imsva_messages", "messages received, by processing state and final action",
	METRIC_GAUGE, {"state", "verdict"}};

/* /metrics: what the store holds, read on each scrape; the peers for /readyz. */
static void declare_metrics(ctd_daemon *d, const imsva_config *cfg)
{
	daemon_add_peer(d, "ddan", cfg->ddan_url);
	daemon_add_peer(d, "tmcm", cfg->tmcm_url);
	daemon_add_peer(d, "sps", cfg->sps_url);
	daemon_metric_sql(&messages_metric, "SELECT state, COALESCE(final_action, ''), COUNT(*) "
					    "FROM imsva_messages GROUP BY 1, 2");
	daemon_metric_sql(&daemon_metric_objects,
			  "SELECT 'imsva', type, COUNT(*) FROM imsva_so GROUP BY type");
	daemon_metric_sql(&daemon_metric_queue,
			  "SELECT 'intake', COUNT(*) FROM imsva_messages WHERE state IN ('new', "
			  "'processing') UNION ALL SELECT 'va', COUNT(*) FROM imsva_va_queue WHERE "
			  "status = 'pending' UNION ALL SELECT 'delivery', COUNT(*) FROM "
			  "imsva_outbound WHERE state = 'pending'");
}

static json_t *health_status(void *cls)
{
	imsva_app *app = cls;
	ctd_err err;
	store *st = store_get(&err);
	json_t *o = json_object();
	if (st)
		json_object_set_new(o, "tmcm", imsva_tmcm_status(app->tmcm, st));
	json_object_set_new(o, "sps", imsva_wrs_status(app->wrs));
	return o;
}

int main(int argc, char **argv)
{
	/* SMTP commits complete on the committer thread (event_active) */
	evthread_use_pthreads();
	imsva_config cfg;
	memset(&cfg, 0, sizeof cfg);
	ctd_daemon d;
	memset(&d, 0, sizeof d);
	daemon_boot(&d, "imsva", &imsva_section, &cfg, argc, argv);

	ctd_err err = {0};
	if (imsva_engine_init(&err) < 0)
		fatal("imsva.engine_init", "error=\"%s\"", err.msg);
	store *st = imsva_store(&err);
	if (!st)
		fatal("imsva.store", "error=\"%s\"", err.msg);
	imsva_app app;
	memset(&app, 0, sizeof app);
	app.cfg = &cfg;
	imsva_locale_parse(cfg.base.locale, &app.locale);
	app.va_level = !strcmp(cfg.va_security_level, "high")	  ? IMSVA_LEVEL_HIGH
		       : !strcmp(cfg.va_security_level, "medium") ? IMSVA_LEVEL_MEDIUM
								  : IMSVA_LEVEL_LOW;
	if (imsva_rules_seed(st, app.locale, &err) < 0
	    || imsva_rules_localize(st, app.locale, &err) < 0)
		fatal("imsva.rules", "error=\"%s\"", err.msg);
	char *pw = admin_password(&cfg, st);
	ddan_client_init(&app, st);
	daemon_set_login(&d, &(session_conf){.password = pw,
					     .on_login_failed = imsva_admin_login_failed});
	app.wrs = imsva_wrs_new(cfg.sps_url, cfg.wrs_cache_ttl);

	static const imsva_processor processor = {imsva_process_prepare, imsva_process_apply,
						  imsva_process_committed, imsva_job_msg_id,
						  imsva_job_free};
	if (!imsva_queue_start(&app, (int)cfg.workers, &processor, &err))
		fatal("imsva.queue", "error=\"%s\"", err.msg);
	app.deliver = start_worker("deliver", cfg.deliver_retry, imsva_deliver_run, &app);
	app.va = start_worker("va", cfg.va_poll_interval, imsva_va_run, &app);
	app.tmcm = imsva_tmcm_start(&app, &err);
	if (!app.tmcm)
		fatal("imsva.tmcm", "error=\"%s\"", err.msg);
	daemon_set_status(&d, health_status, &app);

	daemon_set_console(&d, "/console.imss", &imsva_console_files);
	declare_metrics(&d, &cfg);
	daemon_http_start(&d, imsva_admin_routes, imsva_admin_nroutes, &app, 0);
	smtp_server_opts so = {
		.bind = cfg.base.bind,
		.port = (int)cfg.smtp_port,
		.limits = {.hostname = cfg.hostname, .max_line = (size_t)cfg.max_line,
			   .max_size = (size_t)cfg.max_message_size, .max_rcpts = (int)cfg.max_rcpts,
			   .max_errors = 20},
		.idle_timeout_ms = cfg.smtp_idle_timeout,
		.max_connections = (int)cfg.max_connections,
		.cert_pem = cfg.smtp_tls ? d.cert_pem : NULL,
		.key_pem = cfg.smtp_tls ? d.key_pem : NULL,
		.commit = imsva_queue_commit,
		.app = &app,
	};
	char *cert = NULL, *key = NULL;
	if (cfg.smtp_tls && !d.cert_pem) {
		if (tls_lab_cert(cfg.base.home, &cert, &key, &err) < 0)
			fatal("imsva.tls", "error=\"%s\"", err.msg);
		so.cert_pem = cert;
		so.key_pem = key;
	}
	smtp_server *smtp = smtp_server_start(d.base, &so, &err);
	if (!smtp)
		fatal("imsva.smtp", "error=\"%s\"", err.msg);
	char *url = daemon_listener_url(&d, "smtp", smtp_server_port(smtp));
	daemon_add_listener(&d, "smtp", url);
	json_object_set_new(d.info, "admin_user", json_string("admin"));
	json_object_set_new(d.info, "admin_password", json_string(d.login_password));
	if (app.ddan.client_uuid)
		json_object_set_new(d.info, "ddan_client_uuid", json_string(app.ddan.client_uuid));
	log_info("imsva.ready", "smtp=%s atse=%d va=%s tmcm=%s sps=%s", url, imsva_atse_enabled(st),
		 *cfg.ddan_url ? cfg.ddan_url : "off", *cfg.tmcm_url ? cfg.tmcm_url : "off",
		 *cfg.sps_url ? cfg.sps_url : "off");
	free(url);
	daemon_ready(&d);
	daemon_run(&d);

	/* Who wakes whom decides the order: admin handlers wake delivery and
	 * kick the queue, processing wakes delivery and VA, VA kicks the queue.
	 * So the HTTP server goes first (daemon_run stopped it), then processing
	 * (the committer finishes before the sessions waiting on it go), then
	 * the workers it wakes, and the queue VA kicks is freed last. */
	imsva_tmcm_stop(app.tmcm);
	imsva_queue_stop(app.queue);
	smtp_server_stop(smtp);
	worker_stop(app.va);
	worker_stop(app.deliver);
	imsva_queue_free(app.queue);
	imsva_wrs_free(app.wrs);
	dtas_client_free(&app.ddan);
	free(pw);
	free(cert);
	free(key);
	imsva_engine_shutdown();
	daemon_shutdown(&d);
	cfg_free(&imsva_section, &cfg);
	return 0;
}
