/* daemon.h - the runtime every appliance daemon shares: common options, data
 * directory, pid file (locked for the daemon's life: pidfile.h), signals
 * (graceful stop on SIGTERM/SIGINT), the store, HTTP listeners with GET
 * /healthz, and the readiness file.
 *
 * Readiness: once every listener is up the daemon writes
 * <home>/run/<appliance>.json ({appliance, pid, version, listeners:{name:url},
 * started}); `ctdlab up` waits for it (woken through the pipe ready.h
 * describes) and then for /healthz. */
#ifndef CTD_DAEMON_H
#define CTD_DAEMON_H

#include <stdint.h>
#include <jansson.h>
#include "config.h"
#include "console.h"
#include "evsink.h"
#include "http_server.h"
#include "session.h"
#include "store.h"

struct event_base;
struct store_maint;

#define CTDLAB_VERSION "0.1.0"
#define DAEMON_MAX_EXTRA_HTTP 4

/* Options every daemon has; embed as the first member of its config struct. */
typedef struct daemon_config {
	char *home;      /* data directory */
	char *db;        /* store path; "" = <home>/lab.db */
	char *bind;      /* listen address */
	char *advertise; /* host name peers use to reach us ("": from bind) */
	long long port;  /* main HTTP(S) port */
	int tls;         /* HTTPS on the main port */
	char *profile;   /* fast | classroom | realistic */
	char *log_level;
	int log_json;
	long long http_threads;
	long long max_body;
	long long session_ttl; /* ms: console sessions end this long after last use */
	long long login_max_failures; /* failed logins that lock an account or address out */
	long long login_lockout;      /* ms: how long the first lockout lasts */
	long long store_checkpoint;   /* ms between WAL checkpoints (store_maint.h) */
	char *password;  /* the lab's one console password ("": the appliance's own) */
	char *locale;    /* console language: en | ja */
	char *timezone;  /* console time zone, IANA name ("": the browser's) */
	evsink_config out; /* syslog and webhook outputs of the timeline */
	char *faults;    /* fault rules active from the start (JSON, fault.h); "": none */
	char *faults_file; /* the same in a JSON file */
	long long fault_seed; /* seed of the rules' probability; 0: from the clock */
} daemon_config;

/* Table rows for daemon_config inside struct T (member `base`). */
#define DAEMON_CFG_OPTS(T, default_port, default_tls)                                          \
	{"home", CFG_STR, offsetof(T, base.home), "./var", NULL, 0, 0, NULL,                     \
	 "data directory: lab.db, certificates, pid and ready files"},                           \
	{"db", CFG_STR, offsetof(T, base.db), "", NULL, 0, 0, NULL,                              \
	 "store path (empty: <home>/lab.db); give a daemon its own file for multi-host"},       \
	{"bind", CFG_STR, offsetof(T, base.bind), "127.0.0.1", NULL, 0, 0, NULL,                 \
	 "address the listeners bind to"},                                                       \
	{"advertise", CFG_STR, offsetof(T, base.advertise), "", NULL, 0, 0, NULL,                \
	 "host name in the URLs the ready file advertises (empty: the bind address)"},           \
	{"port", CFG_INT, offsetof(T, base.port), default_port, NULL, 0, 65535, NULL,            \
	 "main HTTP(S) port (0: ephemeral)"},                                                    \
	{"tls", CFG_BOOL, offsetof(T, base.tls), default_tls, NULL, 0, 0, NULL,                  \
	 "serve HTTPS with the lab certificate on the main port"},                               \
	{"profile", CFG_ENUM, offsetof(T, base.profile), "fast", NULL, 0, 0,                     \
	 "fast|classroom|realistic",                                                             \
	 "timing profile: fast (seconds), classroom (each wait seconds to a minute)"             \
	 " or realistic (vendor defaults)"},                                                     \
	{"log_level", CFG_ENUM, offsetof(T, base.log_level), "info", NULL, 0, 0,                 \
	 "debug|info|warn|error", "lowest level logged"},                                        \
	{"log_json", CFG_BOOL, offsetof(T, base.log_json), "no", NULL, 0, 0, NULL,               \
	 "log one JSON object per line instead of key=value"},                                   \
	{"http_threads", CFG_INT, offsetof(T, base.http_threads), "2", NULL, 1, 64, NULL,        \
	 "HTTP worker threads"},                                                                 \
	{"max_body", CFG_INT, offsetof(T, base.max_body), "67108864", NULL, 1024, 1073741824,    \
	 NULL, "largest HTTP request body accepted (bytes); larger gets 413"},                    \
	{"session_ttl", CFG_DURATION, offsetof(T, base.session_ttl), "8h", NULL, 60000,          \
	 2592000000LL, NULL, "console session lifetime after its last use"},                     \
	{"login_max_failures", CFG_INT, offsetof(T, base.login_max_failures), "5", NULL, 1, 1000, \
	 NULL, "failed console logins that lock the account or the client address out"},        \
	{"login_lockout", CFG_DURATION, offsetof(T, base.login_lockout), "5m", NULL, 1000,        \
	 86400000LL, NULL, "how long a lockout lasts (each further one before a success: twice as " \
	 "long, up to 16x); meanwhile the login answers 429 with Retry-After"},                  \
	{"store_checkpoint", CFG_DURATION, offsetof(T, base.store_checkpoint), "30s", NULL, 100,  \
	 3600000LL, NULL, "how often the store's WAL is checkpointed and truncated"},            \
	{"password", CFG_STR, offsetof(T, base.password), "", NULL, 0, 0, NULL,                  \
	 "console password of user admin, pinned (one class password in [lab]; empty: the "      \
	 "appliance's own)"},                                                                    \
	{"locale", CFG_ENUM, offsetof(T, base.locale), "en", NULL, 0, 0, "en|ja",                \
	 "language of the console and of default names"},                                       \
	{"timezone", CFG_STR, offsetof(T, base.timezone), "", NULL, 0, 0, NULL,                  \
	 "time zone the console shows times in (IANA name, e.g. Asia/Tokyo; empty: the "         \
	 "browser's)"},                                                                          \
	EVSINK_CFG_OPTS(T, base.out),                                                    \
	{"faults", CFG_STR, offsetof(T, base.faults), "", NULL, 0, 0, NULL,                      \
	 "fault rules active from the start, a JSON array (README: Faults on demand; empty: "    \
	 "none)"},                                                                               \
	{"faults_file", CFG_STR, offsetof(T, base.faults_file), "", NULL, 0, 0, NULL,            \
	 "a JSON file of fault rules active from the start (for more than an INI line holds)"},  \
	{"fault_seed", CFG_INT, offsetof(T, base.fault_seed), "0", NULL, 0, 2147483647LL, NULL,  \
	 "seed of the fault rules' probability draws (0: from the clock)"}

typedef struct ctd_daemon {
	const char *appliance;
	const daemon_config *cfg;
	char *db_path;
	char *pid_path, *ready_path; /* <home>/run/<appliance>.pid, .json */
	int pid_fd;                  /* the pid file, locked while we run */
	struct event_base *base;
	int64_t started_ms;
	json_t *listeners; /* name -> URL */
	json_t *info;      /* extra fields for the ready file (keys, ...) */
	http_server *http;
	http_server *extra_http[DAEMON_MAX_EXTRA_HTTP]; /* daemon_add_http */
	size_t nextra_http;
	http_route *routes_owned;
	session_table *sessions; /* the main listener's logins (daemon_set_login) */
	char *login_password;    /* what logs in as admin, for the ready file */
	const char *console_entry; /* daemon_set_console */
	const console_files *console_files;
	char *cert_pem, *key_pem;
	json_t *(*status_fn)(void *cls);
	void *status_cls;
	struct store_maint *maint; /* WAL checkpoints; /healthz reports its state */
	json_t *peers;     /* name -> URL ("" when not configured), for /readyz */
	int serving;       /* daemon_ready ran: the listeners are up */
	int ready_fd;      /* the starter's pipe until daemon_ready (ready.h), or -1 */
} ctd_daemon;

/* Load config (exits on --help or a bad value), init logging, create the data
 * directory, take the pid file, install signal handlers, open the store. */
void daemon_boot(ctd_daemon *d, const char *appliance, const cfg_section *sec, void *cfg,
		 int argc, char **argv);
/* Who may log in to the main listener (password, API keys; user, ttl and
 * cookie name are filled in when left empty; the `password` option, when
 * set, replaces the password). Without it, every route of
 * daemon_http_start must declare its own authentication. */
void daemon_set_login(ctd_daemon *d, const session_conf *login);
/* Serve the web console (console.h) at path entry on the main listener, with
 * the appliance's embedded files; call before daemon_http_start. The ready
 * file's info.console then says {url, user, password}. */
void daemon_set_console(ctd_daemon *d, const char *entry, const console_files *files);
/* Start the main HTTP(S) listener with the daemon's routes plus GET /healthz
 * (public); routes without an authenticator use the login sessions. */
void daemon_http_start(ctd_daemon *d, const http_route *routes, size_t nroutes, void *app,
		       int path_nocase);
void daemon_add_listener(ctd_daemon *d, const char *name, const char *url);
/* A further HTTP server of the daemon (SPS's web reputation port...): listed
 * as listener `name` (<scheme>://host:port) and owned by the runtime from
 * here, so daemon_run stops it with the main listener. */
void daemon_add_http(ctd_daemon *d, const char *name, const char *scheme, http_server *srv);
/* "<scheme>://<host>:<port>" as peers reach it (advertise, else bind). */
char *daemon_listener_url(const ctd_daemon *d, const char *scheme, int port);
/* What /healthz?detail=1 reports under "status" (last syncs, capture state...): fn
 * returns a new reference and runs on an HTTP thread, so it must be
 * thread-safe. Set it, and everything handlers use, before
 * daemon_http_start: handlers run from the moment a listener starts. */
void daemon_set_status(ctd_daemon *d, json_t *(*fn)(void *cls), void *cls);
/* For a handler: the calling thread's store, or NULL with the error answer
 * already in resp. */
store *daemon_req_store(http_resp *resp);
/* A peer the daemon calls (its URL option; "" when not configured): /readyz
 * answers 503 while a declared peer is not configured. */
void daemon_add_peer(ctd_daemon *d, const char *name, const char *url);
/* GET /metrics and the /api/lab/faults routes (daemon_lab.c) into out (room
 * for DAEMON_LAB_MAX_ROUTES); the fault routes only when d has a login. */
#define DAEMON_LAB_MAX_ROUTES 5
size_t daemon_lab_routes(ctd_daemon *d, http_route *out);
/* A gauge read from the store on every scrape of /metrics: sql's columns
 * are def's labels, in order, then the value (both constant, static). */
struct metric_def;
void daemon_metric_sql(const struct metric_def *def, const char *sql);
/* The gauges every appliance has: ctdlab_suspicious_objects{list,type} and
 * ctdlab_queue_depth{queue}. */
extern const struct metric_def daemon_metric_objects, daemon_metric_queue;
/* Write the ready file: the daemon is serving. */
void daemon_ready(ctd_daemon *d);
/* Run the event loop until SIGTERM/SIGINT, then stop every HTTP listener and
 * wait for the handlers under way. When it returns no handler (nor /healthz's
 * status function) runs any more, so the daemon stops its workers and frees
 * what handlers use: daemon_run, stop workers, free the app, daemon_shutdown. */
void daemon_run(ctd_daemon *d);
/* Remove the pid and ready files, close the store, free. */
void daemon_shutdown(ctd_daemon *d);

/* Milliseconds since the daemon booted. */
int64_t daemon_uptime_ms(const ctd_daemon *d);

#endif
