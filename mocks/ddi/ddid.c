/* ddid.c - the DDI (Deep Discovery Inspector) daemon: a network sensor that
 * captures traffic (libpcap on an interface, or pcap/pcapng files), carves
 * files from HTTP and SMTP, has them analysed by DDAN (or its internal
 * Virtual Analyzer), records detections, and serves its suspicious objects as
 * a DTAS-style SO feed that TMCM pulls (seed STEP 3). It also serves the
 * lab's STEP 3-1 download site (ddi_downloads.c). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gmime/gmime.h>

#include "daemon.h"
#include "filetype.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "ddi_sensor.h"
#include "metrics.h"

typedef struct ddi_config {
	daemon_config base;
	char *api_key, *console_password, *ddan_url, *ddan_api_key, *ddan_ca_file, *va_mode;
	int ddan_verify_tls, capture;
	char *interface, *bpf, *pcap_dir, *read;
	long long pcap_poll;
	long long max_flows, flow_max_bytes, total_max_bytes, max_file_size, flow_timeout;
	long long queue_packets, queue_bytes, capture_buffer;
	char *submit_rules, *so_types;
	long long submit_max_size, submit_queue;
	long long ddan_backoff, ddan_poll, va_timeout, internal_va_time, so_expiry, feed_page;
	int download_site;
	long long download_port;
} ddi_config;

#define MiB "1048576"
static const cfg_opt ddi_opts[] = {
	DAEMON_CFG_OPTS(ddi_config, "8446", "yes"),
	{"api_key", CFG_STR, offsetof(ddi_config, api_key), "", NULL, 0, 0, NULL,
	 "key of DDI's SO feed and console API (empty: generated on first start)"},
	{"console_password", CFG_STR, offsetof(ddi_config, console_password), "", NULL, 0, 0, NULL,
	 "console password of user admin (empty: generated on first start)"},
	{"ddan_url", CFG_STR, offsetof(ddi_config, ddan_url), "", NULL, 0, 0, NULL,
	 "DDAN to submit files to, e.g. https://127.0.0.1:8443 (empty: internal VA)"},
	{"ddan_api_key", CFG_STR, offsetof(ddi_config, ddan_api_key), "", NULL, 0, 0, NULL,
	 "DDAN API key (DDAN Help > About)"},
	{"ddan_verify_tls", CFG_BOOL, offsetof(ddi_config, ddan_verify_tls), "no", NULL, 0, 0, NULL,
	 "verify DDAN's certificate (the lab's is self-signed)"},
	{"ddan_ca_file", CFG_STR, offsetof(ddi_config, ddan_ca_file), "", NULL, 0, 0, NULL,
	 "with ddan_verify_tls: trust this PEM (e.g. <home>/tls/lab.crt) instead of the system CAs"},
	{"va_mode", CFG_ENUM, offsetof(ddi_config, va_mode), "auto", NULL, 0, 0,
	 "auto|ddan|internal", "analysis: DDAN, the internal Virtual Analyzer, or auto (DDAN when ddan_url is set)"},
	{"capture", CFG_BOOL, offsetof(ddi_config, capture), "yes", NULL, 0, 0, NULL,
	 "capture live traffic on `interface`"},
	{"interface", CFG_STR, offsetof(ddi_config, interface), "lo", NULL, 0, 0, NULL,
	 "interface to capture on (the mirror port; loopback in the lab)"},
	/* The seed's DDI watches the PCs' web traffic; mail to IMSVA (its SMTP
	 * port 2525) is left out so the STEP 1/2 mails do not become DDI objects. */
	{"bpf", CFG_STR, offsetof(ddi_config, bpf), "tcp and not port 2525", NULL, 0, 0, NULL,
	 "BPF capture filter (empty: everything)"},
	{"capture_buffer", CFG_INT, offsetof(ddi_config, capture_buffer), "4194304", NULL, 65536,
	 1073741824, NULL, "kernel capture buffer (bytes); a burst beyond it is dropped and counted"},
	{"pcap_dir", CFG_STR, offsetof(ddi_config, pcap_dir), "", NULL, 0, 0, NULL,
	 "drop folder for pcap/pcapng files (empty: <home>/pcap); read files move to done/ or failed/"},
	{"pcap_poll", CFG_DURATION, offsetof(ddi_config, pcap_poll), "1s", "10s", 50, 3600000, NULL,
	 "drop folder scan interval",
	 .def_classroom = "2s"},
	{"read", CFG_STR, offsetof(ddi_config, read), "", NULL, 0, 0, NULL,
	 "capture file(s) to ingest at start, comma-separated (--read FILE)"},
	{"max_flows", CFG_INT, offsetof(ddi_config, max_flows), "4096", NULL, 16, 1000000, NULL,
	 "TCP flows tracked at once (the idlest is evicted)"},
	{"flow_max_bytes", CFG_INT, offsetof(ddi_config, flow_max_bytes), MiB, NULL, 1024,
	 1073741824, NULL, "out-of-order bytes buffered per flow direction"},
	{"total_max_bytes", CFG_INT, offsetof(ddi_config, total_max_bytes), "268435456", NULL,
	 65536, 17179869184LL, NULL, "memory budget for reassembly and carving (per engine)"},
	{"max_file_size", CFG_INT, offsetof(ddi_config, max_file_size), "33554432", NULL, 1024,
	 1073741824, NULL, "largest file carved; bigger ones are cut and not submitted"},
	{"flow_timeout", CFG_DURATION, offsetof(ddi_config, flow_timeout), "30s", "5m", 100,
	 86400000, NULL, "idle TCP flows are closed after this",
	 .def_classroom = "1m"},
	{"queue_packets", CFG_INT, offsetof(ddi_config, queue_packets), "65536", NULL, 16, 10000000,
	 NULL, "packets queued between capture and processing (more are dropped and counted)"},
	{"queue_bytes", CFG_INT, offsetof(ddi_config, queue_bytes), "67108864", NULL, 65536,
	 4294967296LL, NULL, "bytes queued between capture and processing"},
	{"submit_rules", CFG_ENUM, offsetof(ddi_config, submit_rules), "default", NULL, 0, 0,
	 "default|all", "file submission rules: DDI's defaults, or submit every file"},
	{"submit_max_size", CFG_INT, offsetof(ddi_config, submit_max_size), "33554432", NULL, 1,
	 1073741824, NULL, "largest file submitted for analysis"},
	{"submit_queue", CFG_INT, offsetof(ddi_config, submit_queue), "1000", NULL, 1, 1000000, NULL,
	 "files waiting for analysis; more are recorded as dropped"},
	{"ddan_backoff", CFG_DURATION, offsetof(ddi_config, ddan_backoff), "2s", "5m", 10,
	 86400000, NULL, "pause in submissions after DDAN failed (DDI >= 5.0: 5 minutes)",
	 .def_classroom = "30s"},
	{"ddan_poll", CFG_DURATION, offsetof(ddi_config, ddan_poll), "250ms", "1m", 10, 3600000,
	 NULL, "brief-report polling interval",
	 .def_classroom = "5s"},
	{"va_timeout", CFG_DURATION, offsetof(ddi_config, va_timeout), "2m", "30m", 100, 86400000,
	 NULL, "give up waiting for a verdict after this",
	 .def_classroom = "5m"},
	{"internal_va_time", CFG_DURATION, offsetof(ddi_config, internal_va_time), "200ms", "60s", 0,
	 3600000, NULL, "analysis time of the internal Virtual Analyzer",
	 .def_classroom = "15s"},
	{"so_expiry", CFG_DURATION, offsetof(ddi_config, so_expiry), "30d", NULL, 0, 0, NULL,
	 "suspicious objects expire after this (0: never)"},
	{"so_types", CFG_STR, offsetof(ddi_config, so_types), "file,url,domain,ip", NULL, 0, 0,
	 NULL, "SO types made from a risky file: any of file,url,domain,ip"},
	{"feed_page_size", CFG_INT, offsetof(ddi_config, feed_page), "1000", NULL, 1, 100000, NULL,
	 "records per get_black_lists page"},
	{"download_site", CFG_BOOL, offsetof(ddi_config, download_site), "yes", NULL, 0, 0, NULL,
	 "serve the seed samples for STEP 3-1 over plain HTTP (listener `downloads`)"},
	{"download_port", CFG_INT, offsetof(ddi_config, download_port), "8447", NULL, 0, 65535, NULL,
	 "port of the download site (0: ephemeral)"},
};
static const cfg_section ddi_section = {"ddi", ddi_opts, CFG_NOPTS(ddi_opts)};

/* A setting pinned in config wins; else the one generated on first start. */
static char *setting(store *st, const char *key, const char *pinned, secret_kind kind)
{
	ctd_err err;
	char *v = store_secret(st, "ddi", key, pinned, kind, &err);
	if (!v)
		fatal("ddi.settings", "key=%s error=\"%s\"", key, err.msg);
	return v;
}

/* Split the comma-separated --read list (in place). */
static size_t split_files(char *list, const char **out, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(list, ","); tok && n < max; tok = strtok(NULL, ","))
		if (*tok)
			out[n++] = tok;
	return n;
}

/* The STEP 3-1 download site on the bind address, listed as `downloads`. */
static ddi_downloads *start_download_site(ctd_daemon *d, const ddi_config *cfg,
					  ddi_sensor *sensor, char **url)
{
	ctd_err err;
	char *dir = xasprintf("%s/captures", cfg->base.home);
	ddi_downloads_opts o = {cfg->base.bind, (int)cfg->download_port, sensor, dir};
	ddi_downloads *dl = ddi_downloads_start(&o, &err);
	if (!dl)
		fatal("http.listen", "listener=downloads port=%lld error=\"%s\"", cfg->download_port,
		      err.msg);
	free(dir);
	*url = daemon_listener_url(d, "http", ddi_downloads_port(dl));
	daemon_add_listener(d, "downloads", *url);
	return dl;
}

/* /healthz "status": live capture state. */
static json_t *health_status(void *sensor)
{
	return json_pack("{s:o}", "capture", ddi_sensor_status(sensor));
}

int main(int argc, char **argv)
{
	ddi_config cfg;
	ctd_daemon d;
	ctd_err err;

	daemon_boot(&d, "ddi", &ddi_section, &cfg, argc, argv);
	g_mime_init();
	store *st = store_get(&err);
	if (!st)
		fatal("store.open", "error=\"%s\"", err.msg);
	if (filetype_init(&err) != 0)
		fatal("ddi.filetype", "error=\"%s\"", err.msg);
	char *api_key = setting(st, "api_key", cfg.api_key, (secret_kind){SECRET_GUID, 0});
	/* like DDAN's: the first two groups of a UUID */
	char *password = setting(st, "console_password", cfg.console_password,
				 (secret_kind){SECRET_UUID, 13});
	char *client_uuid = setting(st, "client_uuid", "", (secret_kind){SECRET_GUID, 0});
	const char *mode = strcmp(cfg.va_mode, "auto") ? cfg.va_mode : *cfg.ddan_url ? "ddan" : "internal";
	if (!strcmp(mode, "ddan") && !*cfg.ddan_url)
		fatal("ddi.config", "reason=\"va_mode=ddan needs ddan_url\"");
	char *pcap_dir = *cfg.pcap_dir ? xstrdup(cfg.pcap_dir) : xasprintf("%s/pcap", cfg.base.home);
	char hostname[256] = "ddi";
	gethostname(hostname, sizeof(hostname) - 1);

	ddi_submit_opts so = {
		.mode = mode, .ddan_url = cfg.ddan_url, .ddan_api_key = cfg.ddan_api_key,
		.client_uuid = client_uuid, .hostname = hostname, .verify_tls = cfg.ddan_verify_tls,
		.ca_file = *cfg.ddan_ca_file ? cfg.ddan_ca_file : NULL,
		.ruleset = cfg.submit_rules, .max_size = (size_t)cfg.submit_max_size,
		.max_queued = (size_t)cfg.submit_queue, .backoff_ms = cfg.ddan_backoff,
		.poll_ms = cfg.ddan_poll, .va_timeout_ms = cfg.va_timeout,
		.internal_va_ms = cfg.internal_va_time, .so_expiry_ms = cfg.so_expiry,
		.so_types = cfg.so_types,
	};
	ddi_submitter *sb = ddi_submit_start(&so);

	const char *reads[64];
	size_t nread = split_files(cfg.read, reads, 64);
	ddi_sensor_opts co = {
		.live = cfg.capture, .interface = cfg.interface, .bpf = cfg.bpf,
		.buffer_bytes = (int)cfg.capture_buffer, .pcap_dir = pcap_dir,
		.poll_ms = cfg.pcap_poll, .read_files = reads, .nread = nread,
		.queue_packets = (size_t)cfg.queue_packets, .queue_bytes = (size_t)cfg.queue_bytes,
		.lim = {(size_t)cfg.max_flows, (size_t)cfg.flow_max_bytes, (size_t)cfg.max_file_size,
			cfg.flow_timeout},
		.total_max_bytes = (size_t)cfg.total_max_bytes, .carve = ddi_submit_carved,
		.carve_cls = sb,
	};
	ddi_sensor *sensor = ddi_sensor_start(&co);
	daemon_set_status(&d, health_status, sensor);

	char *download_url = NULL;
	ddi_downloads *downloads =
		cfg.download_site ? start_download_site(&d, &cfg, sensor, &download_url) : NULL;
	ddi_app app = {api_key, sensor, sb, cfg.base.home, cfg.submit_rules, (int)cfg.feed_page,
		       downloads, download_url};
	daemon_set_login(&d, &(session_conf){.password = password, .api_keys = {api_key}});
	daemon_set_console(&d, "/", &ddi_console_files);
	daemon_add_peer(&d, "ddan", cfg.ddan_url);
	daemon_metric_sql(&daemon_metric_objects,
			  "SELECT 'ddi', type, COUNT(*) FROM ddi_sos GROUP BY type");
	daemon_metric_sql(&daemon_metric_queue, "SELECT 'submission', COUNT(*) FROM ddi_files "
						"WHERE state IN ('queued', 'analyzing')");
	daemon_http_start(&d, ddi_routes, ddi_nroutes, &app, 0);
	json_object_set_new(d.info, "api_key", json_string(api_key));
	json_object_set_new(d.info, "console_password", json_string(d.login_password));
	json_object_set_new(d.info, "va_mode", json_string(mode));
	json_object_set_new(d.info, "capture", json_string(ddi_sensor_state(sensor)));
	json_object_set_new(d.info, "interface", json_string(cfg.interface));
	json_object_set_new(d.info, "pcap_dir", json_string(pcap_dir));
	daemon_ready(&d);
	daemon_run(&d);
	ddi_downloads_stop(downloads);
	ddi_sensor_stop(sensor);
	ddi_submit_stop(sb);
	daemon_shutdown(&d);
	free(api_key);
	free(password);
	free(client_uuid);
	free(pcap_dir);
	free(download_url);
	cfg_free(&ddi_section, &cfg);
	g_mime_shutdown();
	return 0;
}
