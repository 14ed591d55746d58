/* ctdlab_lab.c - bringing the lab up and down and reporting its state:
 * `ctdlab up` (which appliances: ctdlab_set.c; the links it waits for:
 * ctdlab_links.c; the supervisor it leaves running: ctdlab_supervise.c),
 * `ctdlab down`, `ctdlab status`. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "datadir.h"
#include "ctdlab.h"
#include "config.h"
#include "pidfile.h"
#include "proc.h"
#include "util.h"

#define UP_TIMEOUT_MS 60000 /* a first start makes the lab certificate: slow on a busy machine */
#define DOWN_TIMEOUT_MS 5000
#define POLL_MS 10
#define HEALTH_TIMEOUT_MS 2000
/* A daemon that never writes to its ready pipe (an older build) is still
 * found by its ready file, this often. */
#define READY_PIPE_BACKSTOP_MS 250

static char *lab_file(const lab *l, const appliance *a, const char *ext)
{
	return run_file_path(l->dir, a->name, ext);
}

pid_t lab_pid(const lab *l, const appliance *a)
{
	char *path = lab_file(l, a, "pid");
	pid_t pid = pidfile_owner(path, a->daemon);
	free(path);
	return pid;
}

json_t *lab_ready(const lab *l, const appliance *a)
{
	return ready_load(l->dir, a->name);
}

json_t *lab_health(const char *base_url, int detail)
{
	return health_get(base_url, detail, HEALTH_TIMEOUT_MS);
}

int lab_healthy(const char *base_url)
{
	json_t *health = lab_health(base_url, 0);
	const char *store = json_string_value(json_object_get(health, "store"));
	int ok = store && strcmp(store, "ok") == 0;
	json_decref(health);
	return ok;
}

/* How `ctdlab up` wires the appliances together: each consumer gets its
 * peer's URL and key from the peer's ready file, unless the lab config or the
 * environment already sets that option (so a real appliance can stand in). */
static const struct wire {
	const char *appliance, *option; /* consumer and its option */
	const char *peer;               /* the appliance it talks to */
	const char *from;               /* "url" (main listener), "listener:NAME" or "info:KEY" */
} wires[] = {
	{"ddi", "ddan_url", "ddan", "url"},
	{"ddi", "ddan_api_key", "ddan", "info:api_key"},
	{"tmcm", "ddan_url", "ddan", "url"},
	{"tmcm", "ddan_api_key", "ddan", "info:api_key"},
	{"tmcm", "ddi_url", "ddi", "url"},
	{"tmcm", "ddi_api_key", "ddi", "info:api_key"},
	{"sps", "tmcm_url", "tmcm", "url"},
	{"sps", "tmcm_api_key", "tmcm", "info:sps_feed_key"},
	{"imsva", "ddan_url", "ddan", "url"},
	{"imsva", "ddan_api_key", "ddan", "info:api_key"},
	{"imsva", "tmcm_url", "tmcm", "url"},
	{"imsva", "tmcm_api_key", "tmcm", "info:imsva_feed_key"},
	{"imsva", "sps_url", "sps", "listener:wrs"},
};

static int option_pinned(const lab *l, const char *app_name, const char *option)
{
	char *env = xasprintf("CTDLAB_%s_%s", app_name, option);
	str_upper(env);
	int pinned = getenv(env) != NULL;
	free(env);
	char *value = l->config ? cfg_ini_get(l->config, app_name, option) : NULL;
	pinned |= value != NULL;
	free(value);
	return pinned;
}

static const char *wire_value(const struct wire *w, json_t *ready)
{
	if (strcmp(w->from, "url") == 0)
		return ready_url(ready);
	if (strncmp(w->from, "listener:", 9) == 0)
		return json_string_value(json_object_get(json_object_get(ready, "listeners"), w->from + 9));
	return json_string_value(json_object_get(json_object_get(ready, "info"), w->from + 5));
}

/* Write CTDLAB_<APPLIANCE>_<OPTION> for every wire into a from a peer of
 * the set (never from a left-out peer's stale ready file) to the daemon's
 * wiring pipe, then its end line: the daemon puts them in its environment,
 * where its option table hears them (ready.h); a daemon that lacks such an
 * option simply never looks. */
void lab_wire(const lab *l, const appliance *a, const lab_set *set, int wiring_fd)
{
	for (size_t i = 0; i < sizeof wires / sizeof wires[0]; i++) {
		const struct wire *w = &wires[i];
		if (strcmp(w->appliance, a->name) != 0 || !lab_set_has(set, w->peer) ||
		    option_pinned(l, w->appliance, w->option))
			continue;
		json_t *ready = lab_ready(l, lab_appliance(w->peer));
		const char *value = ready ? wire_value(w, ready) : NULL;
		char *env = xasprintf("CTDLAB_%s_%s", w->appliance, w->option);
		str_upper(env);
		if (value && ready_wiring_put(wiring_fd, env, value) != 0)
			fprintf(stderr, "ctdlab: %s: could not pass %s\n", a->daemon, env);
		free(env);
		json_decref(ready);
	}
	ready_wiring_close(wiring_fd);
}

/* In the child: a pipe end survives exec and the daemon finds it in the
 * environment variable env (ready.h). */
static void pass_fd(int fd, const char *env)
{
	char num[16];
	if (fd < 0 || fcntl(fd, F_SETFD, 0) != 0)
		return;
	snprintf(num, sizeof num, "%d", fd);
	setenv(env, num, 1);
}

pid_t lab_spawn(const lab *l, const appliance *a, const char *const *extra, int *ready_fd,
		int *wiring_fd)
{
	const char *argv[20];
	int ready_pipe[2] = {-1, -1}, wiring_pipe[2];
	int n = 0;
	if (pipe2(wiring_pipe, O_CLOEXEC) != 0) {
		fprintf(stderr, "ctdlab: cannot start %s: %s\n", a->daemon, strerror(errno));
		return -1;
	}
	char *bin = xasprintf("%s/%s", l->bindir, a->daemon);
	char *log = xasprintf("%s/log/%s.log", l->dir, a->name);
	argv[n++] = bin;
	argv[n++] = "--home";
	argv[n++] = l->dir;
	if (l->config) {
		argv[n++] = "--config";
		argv[n++] = l->config;
	}
	if (l->profile) {
		argv[n++] = "--profile";
		argv[n++] = l->profile;
	}
	for (; extra && *extra && n < 19; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	if (ready_fd && pipe2(ready_pipe, O_CLOEXEC) != 0)
		ready_pipe[0] = ready_pipe[1] = -1; /* then the wait polls */
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none; /* the supervisor blocks SIGTERM: the daemon must not */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		int in = open("/dev/null", O_RDONLY);
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (in < 0 || out < 0)
			_exit(127);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		pass_fd(ready_pipe[1], READY_FD_ENV);
		pass_fd(wiring_pipe[0], WIRING_FD_ENV);
		execv(bin, (char **)argv);
		fprintf(stderr, "ctdlab: cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	free(bin);
	free(log);
	if (ready_pipe[1] >= 0)
		close(ready_pipe[1]);
	close(wiring_pipe[0]);
	if (pid < 0) {
		fprintf(stderr, "ctdlab: cannot start %s: %s\n", a->daemon, strerror(errno));
		if (ready_pipe[0] >= 0)
			close(ready_pipe[0]);
		close(wiring_pipe[1]);
		return -1;
	}
	if (ready_fd)
		*ready_fd = ready_pipe[0];
	*wiring_fd = wiring_pipe[1];
	return pid;
}

/* a's ready file is pid's (and, with health, its /healthz answers). */
static int lab_is_up(const lab *l, const appliance *a, pid_t pid, int health)
{
	json_t *ready = lab_ready(l, a);
	int ok = ready && json_integer_value(json_object_get(ready, "pid")) == pid &&
		 ready_url(ready) && (!health || lab_healthy(ready_url(ready)));
	json_decref(ready);
	return ok;
}

int lab_started(const lab *l, const appliance *a, pid_t pid)
{
	return lab_is_up(l, a, pid, 1);
}

/* Until the daemon writes its byte or dies (EOF), for at most the backstop;
 * then the pipe is done with (*fd = -1). Without one, a short sleep. */
static void wait_ready_fd(int *fd, int64_t deadline)
{
	if (*fd < 0) {
		sleep_ms(POLL_MS);
		return;
	}
	struct pollfd p = {.fd = *fd, .events = POLLIN};
	int64_t left = deadline - time_mono_ms();
	if (left > READY_PIPE_BACKSTOP_MS)
		left = READY_PIPE_BACKSTOP_MS;
	if (left > 0 && poll(&p, 1, (int)left) == 1) {
		char byte;
		while (read(*fd, &byte, 1) < 0 && errno == EINTR)
			;
		close(*fd);
		*fd = -1;
	}
}

static int wait_up(const lab *l, const appliance *a, pid_t pid, int ready_fd, int64_t deadline,
		   int health)
{
	int rc = -1;
	while (time_mono_ms() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		if (lab_is_up(l, a, pid, health)) {
			rc = 0;
			break;
		}
		wait_ready_fd(&ready_fd, deadline);
	}
	if (ready_fd >= 0)
		close(ready_fd);
	return rc;
}

int lab_wait_healthy(const lab *l, const appliance *a, pid_t pid, int ready_fd, int64_t deadline)
{
	return wait_up(l, a, pid, ready_fd, deadline, 1);
}

static void print_listeners(const appliance *a, pid_t pid, json_t *ready)
{
	const char *name;
	json_t *url;
	printf("  %-6s pid %-7ld", a->name, (long)pid);
	json_object_foreach(json_object_get(ready, "listeners"), name, url)
		printf(" %s", json_string_value(url));
	printf("\n");
}

/* ---- up ---- */

static int make_log_dir(const lab *l)
{
	char *logdir = xasprintf("%s/log", l->dir);
	int rc = mkdir_p(logdir, 0700, NULL);
	if (rc != 0)
		fprintf(stderr, "ctdlab: cannot create %s: %s\n", logdir, strerror(errno));
	free(logdir);
	datadir_make_private(l->dir, NULL); /* a lab dir an older version left open */
	return rc;
}

/* Leaving out one that runs would leave its peers wired to it. */
static int left_out_running(const lab *l, const lab_set *set)
{
	for (int i = 0; i < lab_nappliances; i++) {
		pid_t pid = set->in[i] ? 0 : lab_pid(l, &lab_appliances[i]);
		if (pid) {
			fprintf(stderr, "ctdlab: %s runs (pid %ld) but is left out; `ctdlab down` "
					"first\n", lab_appliances[i].daemon, (long)pid);
			return 1;
		}
	}
	return 0;
}

/* A daemon of `up` on its way: spawned, then wired, then ready. */
typedef struct starting {
	pid_t pid;
	int ready_fd, wiring_fd; /* -1 once handed on */
} starting;

static int start_failed(const lab *l, const appliance *a)
{
	fprintf(stderr, "ctdlab: %s did not become healthy; see %s/log/%s.log\n", a->daemon, l->dir,
		a->name);
	return -1;
}

/* Those spawned but never wired are stopped (they would find their pipe
 * ended without its end line and exit anyway). */
static void stop_unwired(starting *s)
{
	for (int i = 0; i < lab_nappliances; i++) {
		if (s[i].pid <= 0 || s[i].wiring_fd < 0)
			continue;
		kill(s[i].pid, SIGKILL);
		close(s[i].wiring_fd);
		waitpid(s[i].pid, NULL, 0);
		if (s[i].ready_fd >= 0)
			close(s[i].ready_fd);
	}
}

/* Every daemon is spawned at once and loads its libraries, but each is
 * wired (and so goes on) only once its peers are ready, in order: consumers
 * need their peers' URLs and keys from the peers' ready files. The health
 * check of one runs while the next one starts. */
static int start_daemons(const lab *l, const lab_set *set, int64_t deadline)
{
	starting s[LAB_MAX_APPLIANCES];
	for (int i = 0; i < lab_nappliances; i++)
		s[i] = (starting){.ready_fd = -1, .wiring_fd = -1};
	for (int i = 0; i < lab_nappliances; i++) {
		const appliance *a = &lab_appliances[i];
		if (set->in[i] && !lab_pid(l, a))
			s[i].pid = lab_spawn(l, a, NULL, &s[i].ready_fd, &s[i].wiring_fd);
		if (s[i].pid < 0) {
			stop_unwired(s);
			return -1;
		}
	}
	int prev = -1;
	for (int i = 0; i < lab_nappliances; i++) {
		const appliance *a = &lab_appliances[i];
		if (s[i].pid <= 0)
			continue;
		lab_wire(l, a, set, s[i].wiring_fd);
		s[i].wiring_fd = -1;
		if (prev >= 0 && lab_wait_healthy(l, &lab_appliances[prev], s[prev].pid, -1,
						  deadline) != 0) {
			stop_unwired(s);
			return start_failed(l, &lab_appliances[prev]);
		}
		int ready_fd = s[i].ready_fd;
		s[i].ready_fd = -1;
		if (wait_up(l, a, s[i].pid, ready_fd, deadline, 0) != 0) {
			stop_unwired(s);
			return start_failed(l, a);
		}
		prev = i;
	}
	if (prev >= 0 && lab_wait_healthy(l, &lab_appliances[prev], s[prev].pid, -1, deadline) != 0)
		return start_failed(l, &lab_appliances[prev]);
	return 0;
}

static void print_lab(const lab *l, const lab_set *set, int64_t t0)
{
	printf("ctdlab: lab up in %s (%lld ms)\n", l->dir, (long long)(time_mono_ms() - t0));
	for (int i = 0; i < lab_nappliances; i++) {
		if (!set->in[i]) {
			printf("  %-6s left out\n", lab_appliances[i].name);
			continue;
		}
		json_t *ready = lab_ready(l, &lab_appliances[i]);
		print_listeners(&lab_appliances[i], lab_pid(l, &lab_appliances[i]), ready);
		json_decref(ready);
	}
}

int cmd_up(const lab *l, int argc, char **argv)
{
	lab_set set;
	int rc = lab_set_parse_up(argc, argv, &set);
	if (rc != 0)
		return rc;
	int64_t t0 = time_mono_ms();
	/* An earlier `up`'s supervisor would restart what this one leaves out;
	 * this one starts its own. */
	if (left_out_running(l, &set) || make_log_dir(l) != 0 || lab_supervise_stop(l) != 0 ||
	    start_daemons(l, &set, t0 + UP_TIMEOUT_MS) != 0 || lab_set_save(l, &set) != 0 ||
	    lab_wait_links(l, &set, t0 + UP_TIMEOUT_MS) != 0)
		return 1;
	print_lab(l, &set, t0);
	fflush(stdout); /* before the fork: the supervisor must not print it again */
	pid_t sup = lab_supervise_start(l, &set);
	if (sup == 0)
		return 0; /* we are the supervisor, and were told to stop */
	if (sup < 0)
		return 1;
	printf("  supervisor pid %ld: restarts a daemon that dies (log/supervise.log)\n", (long)sup);
	return 0;
}

static int stop_one(const lab *l, const appliance *a)
{
	pid_t pid = lab_pid(l, a);
	if (!pid)
		return 0;
	kill(pid, SIGTERM);
	int64_t deadline = time_mono_ms() + DOWN_TIMEOUT_MS;
	while (pid_alive(pid) && time_mono_ms() < deadline) {
		waitpid(pid, NULL, WNOHANG); /* reap it if it is our own child */
		sleep_ms(POLL_MS);
	}
	if (pid_alive(pid) && pid_runs_program(pid, a->daemon)) {
		fprintf(stderr, "ctdlab: %s (pid %ld) ignored SIGTERM; killing it\n", a->daemon,
			(long)pid);
		kill(pid, SIGKILL);
		return 1;
	}
	printf("ctdlab: stopped %s (pid %ld)\n", a->daemon, (long)pid);
	return 0;
}

int cmd_down(const lab *l, int argc, char **argv)
{
	/* The supervisor first, or it would restart what we stop; then the
	 * consumers, so nobody logs a vanished peer on the way down. Only the
	 * lab's own daemons are signalled (lab_pid). */
	int forced = lab_supervise_stop(l) != 0;
	for (int i = lab_nappliances - 1; i >= 0; i--)
		forced |= stop_one(l, &lab_appliances[i]);
	lab_set_forget(l);
	return forced;
}

static json_t *status_of(const lab *l, const appliance *a, int in_lab)
{
	pid_t pid = lab_pid(l, a);
	json_t *ready = pid ? lab_ready(l, a) : NULL;
	const char *url = ready ? ready_url(ready) : NULL;
	json_t *st = json_pack("{s:s, s:s, s:b, s:I, s:b}", "appliance", a->name, "daemon",
			       a->daemon, "running", pid != 0, "pid", (json_int_t)pid, "left_out",
			       !in_lab);
	json_t *health = url ? lab_health(url, 1) : NULL;
	const char *store = json_string_value(json_object_get(health, "store"));
	json_object_set_new(st, "healthy", json_boolean(store && strcmp(store, "ok") == 0));
	if (json_object_get(health, "status"))
		json_object_set(st, "status", json_object_get(health, "status"));
	json_decref(health);
	if (ready) {
		json_object_set(st, "listeners", json_object_get(ready, "listeners"));
		json_object_set(st, "info", json_object_get(ready, "info"));
		json_object_set(st, "started", json_object_get(ready, "started"));
	}
	json_decref(ready);
	return st;
}

/* The few fields of a status object a person scans for; --json has them all. */
static const char *const summary_keys[] = {"state", "status", "server", "last_sync",
					   "last_change", "change_number", "last_run", "objects",
					   "object_count", "last_error", NULL};

static void print_field(const char *key, json_t *val)
{
	sbuf line = {0};
	if (!json_is_object(val)) {
		char *text = json_is_string(val) ? xstrdup(json_string_value(val))
						 : json_dumps(val, JSON_ENCODE_ANY);
		sbuf_puts(&line, text);
		free(text);
	}
	for (const char *const *k = summary_keys; json_is_object(val) && *k; k++) {
		json_t *v = json_object_get(val, *k);
		if (json_is_string(v) && *json_string_value(v))
			sbuf_printf(&line, "%s=%s ", *k, json_string_value(v));
		else if (json_is_integer(v))
			sbuf_printf(&line, "%s=%lld ", *k, (long long)json_integer_value(v));
	}
	printf("    %-16s %s\n", key, line.data ? line.data : "");
	sbuf_free(&line);
}

static void print_status(json_t *st)
{
	const char *key;
	json_t *val;
	printf("%-6s %-8s", json_string_value(json_object_get(st, "appliance")),
	       json_is_true(json_object_get(st, "healthy"))   ? "healthy"
	       : json_is_true(json_object_get(st, "running")) ? "starting"
	       : json_is_true(json_object_get(st, "left_out")) ? "left out"
							      : "stopped");
	if (json_is_true(json_object_get(st, "running")))
		printf(" pid %lld", (long long)json_integer_value(json_object_get(st, "pid")));
	printf("\n");
	json_object_foreach(json_object_get(st, "listeners"), key, val)
		printf("    %-16s %s\n", key, json_string_value(val));
	json_t *console = json_object_get(json_object_get(st, "info"), "console");
	if (console)
		printf("    %-16s %s  (log in as %s / %s)\n", "console",
		       json_string_value(json_object_get(console, "url")),
		       json_string_value(json_object_get(console, "user")),
		       json_string_value(json_object_get(console, "password")));
	json_object_foreach(json_object_get(st, "info"), key, val)
		if (val != console)
			print_field(key, val);
	json_object_foreach(json_object_get(st, "status"), key, val)
		print_field(key, val);
}

int cmd_status(const lab *l, int argc, char **argv)
{
	json_t *all = json_array();
	lab_set set;
	lab_set_load(l, &set);
	int healthy = 0, started = 0;
	for (int i = 0; i < lab_nappliances; i++) {
		json_t *st = status_of(l, &lab_appliances[i], set.in[i]);
		healthy += set.in[i] && json_is_true(json_object_get(st, "healthy"));
		started += set.in[i];
		json_array_append_new(all, st);
	}
	if (l->json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		size_t i;
		json_t *st;
		pid_t sup = lab_supervisor_pid(l);
		printf("lab %s: %d of %d appliances healthy", l->dir, healthy, started);
		if (sup)
			printf(", supervised (pid %ld)", (long)sup);
		printf("\n");
		json_array_foreach(all, i, st)
			print_status(st);
	}
	json_decref(all);
	return healthy == started ? 0 : 3;
}

/* Everything a first start creates in the data directory. */
static const char *const first_start_files[] = {"lab.db", "lab.db-wal", "lab.db-shm", "run",
						"log", "tls", "lab.ini", "drill", "pcap", NULL};

static int remove_tree(const char *path)
{
	const char *argv[] = {"/bin/rm", "-rf", "--", path, NULL};
	proc_result r;
	ctd_err err;
	int rc = proc_run(argv, NULL, &r, &err);
	if (rc != 0)
		fprintf(stderr, "ctdlab: %s\n", err.msg);
	else
		fputs(r.err, stderr); /* rm's own complaint, if any */
	proc_result_free(&r);
	return rc == 0 && r.status == 0 ? 0 : -1;
}

int cmd_reset(const lab *l, int argc, char **argv)
{
	int rc = cmd_down(l, 0, NULL);
	for (const char *const *f = first_start_files; *f; f++) {
		char *path = xasprintf("%s/%s", l->dir, *f);
		if (remove_tree(path) != 0) {
			fprintf(stderr, "ctdlab: cannot remove %s\n", path);
			rc = 1;
		}
		free(path);
	}
	if (rc == 0)
		printf("ctdlab: %s is back to a first start (run `ctdlab up`)\n", l->dir);
	return rc;
}
