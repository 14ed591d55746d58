/* ctdlab_supervise.c - the lab's supervisor: a small process `ctdlab up`
 * starts and `ctdlab down` stops (pid file <dir>/run/supervise.pid, output in
 * <dir>/log/supervise.log). It watches the daemons `up` started and restarts
 * one that died - crashed or killed, so it left its pid file behind - on the
 * ports it had (read from its ready file), so its peers keep calling the
 * same URLs. A daemon that stopped cleanly (SIGTERM: it removed its run
 * files) stays stopped. While a restarted daemon fails to become healthy the
 * next try waits twice as long (up to BACKOFF_MAX_MS); once healthy, the wait
 * is back to BACKOFF_MIN_MS. Each restart is written to the shared timeline
 * (kind daemon.restarted), so `ctdlab events` shows it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ctdlab.h"
#include "pidfile.h"
#include "store.h"
#include "util.h"

#define WATCH_MS 100
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS 5000
#define SUPERVISOR "ctdlab" /* the supervisor is ctdlab itself, forked */

/* The listeners other than the main one, and the option that sets each. */
static const struct {
	const char *listener, *option;
} port_options[] = {
	{"smtp", "--smtp_port"},
	{"wrs", "--wrs_port"},
	{"downloads", "--download_port"},
};
#define MAX_PORT_ARGS (2 * (1 + sizeof port_options / sizeof port_options[0]))

typedef enum { WATCHING, WAITING, STARTING } watch_state;

typedef struct watched {
	const appliance *a;
	watch_state state;
	pid_t pid;          /* WATCHING: the daemon (0: not running); STARTING: our child */
	pid_t dead_pid;     /* the one that died */
	json_t *ready;      /* the ready file of the last daemon seen ready (ports_pid) */
	pid_t ports_pid;
	int64_t due_ms, died_ms, backoff_ms, restarts;
} watched;

typedef struct supervisor {
	const lab *l;
	const lab_set *set;
	watched w[LAB_MAX_APPLIANCES];
	store *st;
} supervisor;

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	stopping = 1;
}

static char *supervisor_pid_path(const lab *l)
{
	return run_file_path(l->dir, "supervise", "pid");
}

pid_t lab_supervisor_pid(const lab *l)
{
	char *path = supervisor_pid_path(l);
	pid_t pid = pidfile_owner(path, SUPERVISOR);
	free(path);
	return pid;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char ts[32];
	time_iso8601(time_now_ms(), ts, sizeof ts);
	printf("%s ", ts);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The port of a listener URL ("https://127.0.0.1:8443"), or NULL. */
static const char *url_port(const char *url)
{
	const char *colon = url ? strrchr(url, ':') : NULL;
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return NULL;
	return colon + 1;
}

/* argv for the ports the daemon had: "--port", "8443", "--smtp_port", ...
 * (pointing into ready, which the caller keeps). */
static void port_args(json_t *ready, const char **argv)
{
	int n = 0;
	const char *main_port = url_port(ready_url(ready));
	if (main_port) {
		argv[n++] = "--port";
		argv[n++] = main_port;
	}
	json_t *listeners = json_object_get(ready, "listeners");
	for (size_t i = 0; i < sizeof port_options / sizeof port_options[0]; i++) {
		const char *port = url_port(json_string_value(json_object_get(listeners,
									port_options[i].listener)));
		if (port) {
			argv[n++] = port_options[i].option;
			argv[n++] = port;
		}
	}
	argv[n] = NULL;
}

/* Keep daemon pid's ready file once it is there. */
static void remember_ports(supervisor *s, watched *w, pid_t pid)
{
	json_t *ready = lab_ready(s->l, w->a);
	if (ready && json_integer_value(json_object_get(ready, "pid")) == pid) {
		json_decref(w->ready);
		w->ready = ready;
		w->ports_pid = pid;
		return;
	}
	json_decref(ready);
}

/* A daemon that died without its shutdown left its pid file behind. */
static int pid_file_left(const supervisor *s, const watched *w)
{
	char *path = run_file_path(s->l->dir, w->a->name, "pid");
	int left = access(path, F_OK) == 0;
	free(path);
	return left;
}

/* A restart is due after the back-off. */
static void died(watched *w)
{
	say("%s (pid %ld) died; restart in %lld ms", w->a->daemon, (long)w->pid,
	    (long long)w->backoff_ms);
	w->dead_pid = w->pid;
	w->pid = 0;
	w->died_ms = time_now_ms();
	w->due_ms = time_mono_ms() + w->backoff_ms;
	w->state = WAITING;
}

static void watch(supervisor *s, watched *w)
{
	pid_t pid = lab_pid(s->l, w->a);
	if (pid) {
		w->pid = pid; /* ours, or one somebody else started: watched alike */
		if (w->ports_pid != pid)
			remember_ports(s, w, pid);
		return;
	}
	if (w->pid)
		waitpid(w->pid, NULL, WNOHANG); /* reap it when it was our child */
	if (!pid_file_left(s, w)) {
		if (w->pid)
			say("%s (pid %ld) stopped cleanly: left stopped", w->a->daemon, (long)w->pid);
		w->pid = 0;
		return;
	}
	died(w);
}

static void restart(supervisor *s, watched *w)
{
	const char *argv[MAX_PORT_ARGS + 1];
	port_args(w->ready, argv);
	int wiring_fd;
	w->pid = lab_spawn(s->l, w->a, argv, NULL, &wiring_fd);
	if (w->pid > 0)
		lab_wire(s->l, w->a, s->set, wiring_fd);
	w->due_ms = time_mono_ms() + START_TIMEOUT_MS;
	w->state = STARTING;
	say("%s: starting pid %ld", w->a->daemon, (long)w->pid);
}

static void record_restart(supervisor *s, watched *w)
{
	json_t *detail = json_pack("{s:I, s:I, s:I, s:I}", "pid", (json_int_t)w->pid,
				   "previous_pid", (json_int_t)w->dead_pid, "restarts",
				   (json_int_t)w->restarts, "down_ms",
				   (json_int_t)(time_now_ms() - w->died_ms));
	ctd_err err;
	if (!s->st || events_append(s->st, w->a->name, "daemon.restarted", w->a->daemon, detail,
				    &err) < 0)
		say("timeline: %s", s->st ? err.msg : "no store");
	json_decref(detail);
}

static void start_failed(watched *w, const char *why)
{
	w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
	say("%s (pid %ld) %s; next try in %lld ms", w->a->daemon, (long)w->pid, why,
	    (long long)w->backoff_ms);
	w->pid = 0;
	w->due_ms = time_mono_ms() + w->backoff_ms;
	w->state = WAITING;
}

/* Its ready file names it: it came up, whether or not we saw it healthy. */
static int came_up(supervisor *s, watched *w)
{
	json_t *ready = lab_ready(s->l, w->a);
	int up = ready && json_integer_value(json_object_get(ready, "pid")) == w->pid;
	json_decref(ready);
	return up;
}

static void restarted(supervisor *s, watched *w)
{
	w->restarts++;
	w->backoff_ms = BACKOFF_MIN_MS;
	say("%s restarted: pid %ld (restart %lld)", w->a->daemon, (long)w->pid,
	    (long long)w->restarts);
	record_restart(s, w);
}

static void check_start(supervisor *s, watched *w)
{
	if (waitpid(w->pid, NULL, WNOHANG) == w->pid) {
		if (!came_up(s, w)) {
			start_failed(w, "exited while starting");
			return;
		}
		/* up and killed again between two ticks (a client that kills it as
		 * soon as it answers): a restart that worked, then a death, so
		 * the back-off does not grow */
		restarted(s, w);
		died(w);
		return;
	}
	if (lab_started(s->l, w->a, w->pid)) {
		w->state = WATCHING;
		remember_ports(s, w, w->pid);
		restarted(s, w);
		return;
	}
	if (time_mono_ms() >= w->due_ms) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		start_failed(w, "did not become healthy");
	}
}

/* A daemon still starting when we stop may not hold its pid file yet, so
 * `down` could not find it: it is stopped here rather than left behind. */
static void abandon_start(watched *w)
{
	if (w->state != STARTING)
		return;
	kill(w->pid, SIGTERM);
	int64_t deadline = time_mono_ms() + STOP_TIMEOUT_MS;
	int reaped = 0;
	while (!(reaped = waitpid(w->pid, NULL, WNOHANG) == w->pid) && time_mono_ms() < deadline)
		sleep_ms(10);
	if (!reaped) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
	}
	say("%s (pid %ld) was starting: stopped with the supervisor", w->a->daemon, (long)w->pid);
}

static void tick(supervisor *s)
{
	for (int i = 0; i < lab_nappliances; i++) {
		watched *w = &s->w[i];
		if (!s->set->in[i])
			continue;
		if (w->state == WATCHING)
			watch(s, w);
		else if (w->state == WAITING && time_mono_ms() >= w->due_ms)
			restart(s, w);
		else if (w->state == STARTING)
			check_start(s, w);
	}
}

/* Sleep WATCH_MS, or less when SIGTERM comes (blocked outside this wait). */
static void wait_tick(const sigset_t *unblocked)
{
	struct timespec ts = {0, WATCH_MS * 1000000L};
	ppoll(NULL, 0, &ts, unblocked);
}

static void run(supervisor *s)
{
	sigset_t stop_signals, unblocked;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_signals, &unblocked);
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (int i = 0; i < lab_nappliances; i++)
		s->w[i] = (watched){.a = &lab_appliances[i], .backoff_ms = BACKOFF_MIN_MS};
	say("supervising %s (pid %ld)", s->l->dir, (long)getpid());
	while (!stopping) {
		tick(s);
		wait_tick(&unblocked);
	}
	say("stopping (daemons keep running)");
	for (int i = 0; i < lab_nappliances; i++) {
		abandon_start(&s->w[i]);
		json_decref(s->w[i].ready);
	}
}

/* In the forked child: detach, take the pid file, supervise until told to stop. */
static void supervise(const lab *l, const lab_set *set)
{
	setsid();
	char *log = xasprintf("%s/log/supervise.log", l->dir), *pid_path = supervisor_pid_path(l);
	int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	free(log);
	if (in >= 0 && out >= 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	ctd_err err;
	int fd = pidfile_take(pid_path, NULL, &err);
	if (fd < 0) {
		say("not supervising: %s", err.msg);
		free(pid_path);
		return;
	}
	supervisor s = {.l = l, .set = set};
	char *db = xasprintf("%s/lab.db", l->dir);
	if (store_open(db, &s.st, &err) != 0)
		say("timeline: %s (restarts are only logged here)", err.msg);
	free(db);
	run(&s);
	if (s.st)
		store_close(s.st);
	pidfile_release(fd, pid_path);
	free(pid_path);
}

pid_t lab_supervise_start(const lab *l, const lab_set *set)
{
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "ctdlab: cannot start the supervisor: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		supervise(l, set);
		return 0;
	}
	/* Back only once it holds its pid file, so a `down` right after finds it. */
	int64_t deadline = time_mono_ms() + START_TIMEOUT_MS;
	while (lab_supervisor_pid(l) != pid) {
		if (waitpid(pid, NULL, WNOHANG) == pid || time_mono_ms() >= deadline) {
			fprintf(stderr, "ctdlab: the supervisor did not start; see %s/log/supervise.log\n",
				l->dir);
			return -1;
		}
		sleep_ms(10);
	}
	return pid;
}

int lab_supervise_stop(const lab *l)
{
	pid_t pid = lab_supervisor_pid(l);
	if (!pid)
		return 0;
	kill(pid, SIGTERM);
	int64_t deadline = time_mono_ms() + STOP_TIMEOUT_MS;
	while (pid_alive(pid) && time_mono_ms() < deadline) {
		waitpid(pid, NULL, WNOHANG); /* our child when this `up` started it */
		sleep_ms(10);
	}
	if (!pid_alive(pid))
		return 0;
	fprintf(stderr, "ctdlab: the supervisor (pid %ld) ignored SIGTERM; killing it\n", (long)pid);
	if (pid_runs_program(pid, SUPERVISOR))
		kill(pid, SIGKILL);
	return -1;
}
