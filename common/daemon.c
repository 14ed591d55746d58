/* daemon.c - the runtime every appliance daemon shares: configuration,
 * logging, data directory, pid file, signals, store, the main HTTP(S)
 * listener with GET /healthz, and the readiness file `ctdlab up` waits on. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include "daemon.h"
#include "datadir.h"
#include "fault.h"
#include "log.h"
#include "pidfile.h"
#include "ready.h"
#include "store.h"
#include "store_maint.h"
#include "util.h"

/* One daemon per process: /healthz and the signal handler reach it here. */
static ctd_daemon *running;
static struct event *sig_term, *sig_int;

static char *run_path(const ctd_daemon *d, const char *ext)
{
	return run_file_path(d->cfg->home, d->appliance, ext);
}

/* Also the fatal hook: a daemon that dies at start-up leaves no stale pid or
 * ready file behind. */
static void remove_run_files(void)
{
	if (!running)
		return;
	unlink(running->ready_path);
	pidfile_release(running->pid_fd, running->pid_path);
	running->pid_fd = -1;
}

/* The pid file stays locked for the daemon's life (pidfile.h): a stale one,
 * whatever pid it names, never blocks a start. */
static void take_pid_file(ctd_daemon *d)
{
	ctd_err err;
	pid_t holder = 0;
	d->pid_path = run_path(d, "pid");
	d->ready_path = run_path(d, "json");
	d->pid_fd = pidfile_take(d->pid_path, &holder, &err);
	if (d->pid_fd < 0 && err.code == CTD_EBUSY)
		fatal("daemon.running", "pid=%ld pidfile=%s reason=\"already running\"", (long)holder,
		      d->pid_path);
	if (d->pid_fd < 0)
		fatal("daemon.pidfile", "error=\"%s\"", err.msg);
	/* The pid file is ours only from here: never remove another daemon's. */
	log_set_fatal_hook(remove_run_files);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	ctd_daemon *d = arg;
	log_info("daemon.stopping", "signal=%d", (int)sig);
	event_base_loopbreak(d->base);
}

static void open_store(ctd_daemon *d)
{
	ctd_err err;
	d->db_path = *d->cfg->db ? xstrdup(d->cfg->db) : xasprintf("%s/lab.db", d->cfg->home);
	store_set_path(d->db_path);
	if (!store_get(&err))
		fatal("store.open", "path=%s error=\"%s\"", d->db_path, err.msg);
	d->maint = store_maint_start(d->cfg->store_checkpoint, &err);
	if (!d->maint)
		fatal("store.maint", "error=\"%s\"", err.msg);
}

void daemon_boot(ctd_daemon *d, const char *appliance, const cfg_section *sec, void *cfg,
		 int argc, char **argv)
{
	ctd_err err;
	log_level level = LOG_LVL_INFO;

	memset(d, 0, sizeof *d);
	datadir_umask(); /* the store holds every key and password: 0600 */
	d->pid_fd = -1;
	d->ready_fd = ready_fd_take();
	if (ready_wiring_take(&err) != 0) { /* the lab's wiring, before the options */
		fprintf(stderr, "%s: %s\n", argv[0], err.msg);
		exit(2);
	}
	d->appliance = appliance;
	d->cfg = cfg;
	switch (cfg_load(sec, cfg, argc, argv, &err)) {
	case 1: exit(0);
	case -1:
		fprintf(stderr, "%s: %s\n", argv[0], err.msg);
		exit(2);
	}
	log_level_parse(d->cfg->log_level, &level);
	log_init(appliance, level, d->cfg->log_json);
	d->started_ms = time_mono_ms();
	running = d;

	char *rundir = xasprintf("%s/run", d->cfg->home);
	if (mkdir_p(rundir, 0700, &err) != 0)
		fatal("daemon.home", "error=\"%s\"", err.msg);
	free(rundir);
	take_pid_file(d);
	signal(SIGPIPE, SIG_IGN);
	d->base = event_base_new();
	sig_term = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	sig_int = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	event_add(sig_term, NULL);
	event_add(sig_int, NULL);
	open_store(d);
	datadir_make_private(d->cfg->home, d->db_path);
	d->listeners = json_object();
	d->info = json_object();
	json_t *outputs = json_object();
	if (evsink_start_outputs(appliance, &d->cfg->out, outputs, &err) < 0)
		fatal("daemon.outputs", "error=\"%s\"", err.msg);
	if (json_object_size(outputs))
		json_object_set(d->info, "outputs", outputs);
	json_decref(outputs);
	d->peers = json_object();
	fault_init(appliance, (uint64_t)d->cfg->fault_seed);
	if (fault_add_text(d->cfg->faults, d->cfg->faults_file, &err) != 0)
		fatal("fault.config", "error=\"%s\"", err.msg);
}

int64_t daemon_uptime_ms(const ctd_daemon *d)
{
	return time_mono_ms() - d->started_ms;
}

/* "ok", or why the store does not answer (into err). */
static const char *store_check(ctd_err *err)
{
	store *st = store_get(err);
	if (!st || store_exec(st, "SELECT 1", err) != 0)
		return err->msg;
	return "ok";
}

/* Never touches the store: a writer holding it must not make the daemon look
 * dead. The store's state is what its maintenance worker last found. */
static void healthz(http_req *req, http_resp *resp)
{
	char store_status[256];
	store_maint_status(running->maint, store_status, sizeof store_status);
	json_t *body = json_pack("{s:s, s:s, s:I, s:s, s:I, s:s?}", "appliance", running->appliance,
				 "version", CTDLAB_VERSION, "uptime_ms",
				 (json_int_t)daemon_uptime_ms(running), "store", store_status, "pid",
				 (json_int_t)getpid(), "profile", running->cfg->profile);
	/* Only on request: health checks poll often, and a status may count rows. */
	if (running->status_fn && http_req_query(req, "detail")) {
		json_t *status = running->status_fn(running->status_cls);
		if (status)
			json_object_set_new(body, "status", status);
	}
	json_t *outputs = http_req_query(req, "detail") ? evsink_stats_json() : NULL;
	if (outputs)
		json_object_set_new(body, "outputs", outputs);
	http_resp_json(resp, strcmp(store_status, "ok") == 0 ? 200 : 503, body);
}

/* The process runs: nothing else is looked at. */
static void livez(http_req *req, http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s, s:s, s:I}", "status", "alive", "appliance",
					    running->appliance, "pid", (json_int_t)getpid()));
}

/* Ready to serve: the store answers, every listener is up (the ready file is
 * written) and every peer the daemon calls is configured. */
static void readyz(http_req *req, http_resp *resp)
{
	ctd_err err;
	const char *store_status = store_check(&err);
	int serving = __atomic_load_n(&running->serving, __ATOMIC_ACQUIRE);
	int ready = strcmp(store_status, "ok") == 0 && serving;
	json_t *peers = json_object();
	const char *name;
	json_t *url;
	json_object_foreach(running->peers, name, url) {
		int set = *json_string_value(url) != '\0';
		json_object_set_new(peers, name, json_string(set ? "configured" : "not configured"));
		ready &= set;
	}
	json_t *body = json_pack("{s:b, s:s, s:s, s:s, s:o}", "ready", ready, "appliance",
				 running->appliance, "store", store_status, "listeners",
				 serving ? "up" : "starting", "peers", peers);
	http_resp_json(resp, ready ? 200 : 503, body);
}

void daemon_add_peer(ctd_daemon *d, const char *name, const char *url)
{
	json_object_set_new(d->peers, name, json_string(url ? url : ""));
}

store *daemon_req_store(http_resp *resp)
{
	ctd_err err = {0};
	store *st = store_get(&err);
	if (!st)
		http_resp_ctd_err(resp, &err);
	return st;
}

void daemon_set_status(ctd_daemon *d, json_t *(*fn)(void *cls), void *cls)
{
	d->status_fn = fn;
	d->status_cls = cls;
}

char *daemon_listener_url(const ctd_daemon *d, const char *scheme, int port)
{
	const char *host = d->cfg->advertise;
	if (!*host) {
		const char *bind = d->cfg->bind;
		int wildcard = *bind == '\0' || strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0
			       || strcmp(bind, "[::]") == 0;
		host = wildcard ? "127.0.0.1" : bind;
	}
	/* an IPv6 literal is bracketed in a URL, unless it came bracketed */
	return strchr(host, ':') && host[0] != '[' ? xasprintf("%s://[%s]:%d", scheme, host, port)
						   : xasprintf("%s://%s:%d", scheme, host, port);
}

void daemon_set_console(ctd_daemon *d, const char *entry, const console_files *files)
{
	d->console_entry = entry;
	d->console_files = files;
}

static size_t console_add_routes(const ctd_daemon *d, http_route *out)
{
	if (!d->console_entry)
		return 0;
	console_site site = {.appliance = d->appliance,
			     .entry = d->console_entry,
			     .files = d->console_files,
			     .locale = d->cfg->locale,
			     .timezone = d->cfg->timezone};
	return console_routes(&site, out);
}

void daemon_http_start(ctd_daemon *d, const http_route *routes, size_t nroutes, void *app,
		       int path_nocase)
{
	ctd_err err;
	enum { OWN = 3 }; /* /healthz, /livez, /readyz */
	http_route *all = xcalloc(nroutes + OWN + DAEMON_LAB_MAX_ROUTES + CONSOLE_MAX_ROUTES,
				  sizeof *all);
	all[0] = (http_route){"GET", "/healthz", healthz, HTTP_PUBLIC};
	all[1] = (http_route){"GET", "/livez", livez, HTTP_PUBLIC};
	all[2] = (http_route){"GET", "/readyz", readyz, HTTP_PUBLIC};
	if (nroutes)
		memcpy(all + OWN, routes, nroutes * sizeof *routes);
	nroutes += daemon_lab_routes(d, all + OWN + nroutes);
	nroutes += console_add_routes(d, all + OWN + nroutes);

	if (d->cfg->tls && tls_lab_cert(d->cfg->home, &d->cert_pem, &d->key_pem, &err) != 0)
		fatal("tls.cert", "home=%s error=\"%s\"", d->cfg->home, err.msg);
	http_server_opts opts = {
		.bind = d->cfg->bind,
		.port = (int)d->cfg->port,
		.tls = d->cfg->tls,
		.cert_pem = d->cert_pem,
		.key_pem = d->key_pem,
		.max_body = (size_t)d->cfg->max_body,
		.threads = (int)d->cfg->http_threads,
		.path_nocase = path_nocase,
		.routes = all,
		.nroutes = nroutes + OWN,
		.app = app,
		.auth = d->sessions ? &session_auth : NULL,
		.auth_cls = d->sessions,
	};
	d->http = http_server_start(&opts, &err);
	/* The server copies what it needs from the table at start. */
	d->routes_owned = all;
	if (!d->http)
		fatal("http.listen", "bind=%s port=%lld error=\"%s\"", d->cfg->bind, d->cfg->port,
		      err.msg);
	char *url = daemon_listener_url(d, d->cfg->tls ? "https" : "http", http_server_port(d->http));
	daemon_add_listener(d, d->cfg->tls ? "https" : "http", url);
	if (d->console_entry)
		json_object_set_new(d->info, "console",
				    json_pack("{s:s+, s:s, s:s?}", "url", url, d->console_entry, "user",
					      SESSION_DEFAULT_USER, "password", d->login_password));
	free(url);
}

void daemon_set_login(ctd_daemon *d, const session_conf *login)
{
	session_conf c = *login;
	char cookie[64];
	snprintf(cookie, sizeof cookie, "%s_session", d->appliance);
	if (!c.cookie)
		c.cookie = cookie;
	if (!c.ttl_ms)
		c.ttl_ms = d->cfg->session_ttl;
	if (!c.max_failures)
		c.max_failures = (int)d->cfg->login_max_failures;
	if (!c.lockout_ms)
		c.lockout_ms = d->cfg->login_lockout;
	if (*d->cfg->password)
		c.password = d->cfg->password;
	free(d->login_password);
	d->login_password = c.password && *c.password ? xstrdup(c.password)
			    : c.api_keys[0]		   ? xstrdup(c.api_keys[0])
							   : NULL;
	session_table_free(d->sessions);
	d->sessions = session_table_new(&c);
}

void daemon_add_listener(ctd_daemon *d, const char *name, const char *url)
{
	json_object_set_new(d->listeners, name, json_string(url));
	log_info("daemon.listen", "listener=%s url=%s", name, url);
}

void daemon_add_http(ctd_daemon *d, const char *name, const char *scheme, http_server *srv)
{
	if (d->nextra_http == DAEMON_MAX_EXTRA_HTTP)
		fatal("daemon.listeners", "listener=%s reason=\"more than %d extra HTTP servers\"",
		      name, DAEMON_MAX_EXTRA_HTTP);
	d->extra_http[d->nextra_http++] = srv;
	char *url = daemon_listener_url(d, scheme, http_server_port(srv));
	daemon_add_listener(d, name, url);
	free(url);
}

void daemon_ready(ctd_daemon *d)
{
	char started[32];
	time_iso8601(time_now_ms(), started, sizeof started);
	json_t *ready = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s?, s:O, s:O}", "appliance",
				  d->appliance, "pid", (json_int_t)getpid(), "version",
				  CTDLAB_VERSION, "started", started, "home", d->cfg->home, "db",
				  d->db_path, "profile", d->cfg->profile, "listeners", d->listeners,
				  "info", d->info);
	char *text = json_dumps(ready, JSON_INDENT(2));
	ctd_err err;
	if (file_write_atomic(d->ready_path, text, strlen(text), 0600, &err) != 0)
		fatal("daemon.ready", "error=\"%s\"", err.msg);
	__atomic_store_n(&d->serving, 1, __ATOMIC_RELEASE);
	ready_fd_notify(d->ready_fd);
	d->ready_fd = -1;
	log_info("daemon.ready", "pid=%ld startup_ms=%lld", (long)getpid(),
		 (long long)daemon_uptime_ms(d));
	free(text);
	json_decref(ready);
}

/* http_server_stop returns once the handlers under way have finished. */
static void stop_listeners(ctd_daemon *d)
{
	http_server_stop(d->http);
	d->http = NULL;
	for (size_t i = 0; i < d->nextra_http; i++)
		http_server_stop(d->extra_http[i]);
	d->nextra_http = 0;
}

void daemon_run(ctd_daemon *d)
{
	event_base_dispatch(d->base);
	stop_listeners(d);
}

void daemon_shutdown(ctd_daemon *d)
{
	stop_listeners(d); /* already, unless daemon_run never ran */
	remove_run_files();
	log_set_fatal_hook(NULL);
	event_free(sig_term);
	event_free(sig_int);
	event_base_free(d->base);
	store_maint_stop(d->maint);
	d->maint = NULL;
	evsink_stop_all(); /* after the daemon's workers, the last events' producers */
	store_close_thread();
	json_decref(d->listeners);
	json_decref(d->info);
	json_decref(d->peers);
	free(d->routes_owned);
	free(d->login_password);
	session_table_free(d->sessions);
	free(d->db_path);
	free(d->pid_path);
	free(d->ready_path);
	free(d->cert_pem);
	free(d->key_pem);
	log_info("daemon.stopped", "uptime_ms=%lld", (long long)daemon_uptime_ms(d));
	running = NULL;
}
