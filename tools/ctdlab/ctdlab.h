/* ctdlab.h - the lab CLI's shared pieces: where the lab lives and what runs
 * in it. Each command lives in its own ctdlab_<command>.c. */
#ifndef CTDLAB_H
#define CTDLAB_H

#include <sys/types.h>
#include <jansson.h>
#include "ready.h"

typedef struct lab {
	const char *dir;    /* data directory (--dir, $CTDLAB_HOME, ./var) */
	const char *config; /* lab INI passed to every daemon, or NULL */
	const char *profile; /* --profile for every daemon (fast|classroom|realistic), or NULL */
	const char *bindir; /* where the daemon binaries are */
	const char *instance; /* --instance N ($CTDLAB_INSTANCE), or NULL: lab 0 */
	int json;           /* --json output */
} lab;

typedef struct appliance {
	const char *name;   /* "ddan" */
	const char *daemon; /* "ddand" */
	const char *title;  /* "DDAN (sandbox)" */
} appliance;

/* In start order: sources first, consumers last. */
extern const appliance lab_appliances[];
extern const int lab_nappliances;
#define LAB_MAX_APPLIANCES 8

/* Which appliances a lab runs: in[i] for lab_appliances[i] (`ctdlab up
 * --without ddi` leaves some out). */
typedef struct lab_set {
	int in[LAB_MAX_APPLIANCES];
} lab_set;
/* The appliance called name, or NULL. */
const appliance *lab_appliance(const char *name);
int lab_set_has(const lab_set *set, const char *name);
/* `up`'s arguments (`--without NAME[,NAME]`, repeatable) into set: 0, or 2
 * with the message printed (an unknown name, one the lab needs). */
int lab_set_parse_up(int argc, char **argv, lab_set *set);
/* The set the last `ctdlab up` started (<dir>/run/lab.json); all five when
 * there is none. */
void lab_set_load(const lab *l, lab_set *set);
/* Keep set as the lab's (for `status`): 0, or -1 with the message printed. */
int lab_set_save(const lab *l, const lab_set *set);
/* `down`: the lab runs nothing any more. */
void lab_set_forget(const lab *l);

/* The pid of the appliance's daemon: its pid file is locked and names a live
 * process running that daemon's program; else 0 (stale or not there). */
pid_t lab_pid(const lab *l, const appliance *a);
/* The parsed ready file, or NULL. */
json_t *lab_ready(const lab *l, const appliance *a);
/* GET <url>/healthz (with the appliance's status when detail): the parsed
 * answer when 200, else NULL. */
json_t *lab_health(const char *base_url, int detail);
/* 1 when /healthz answers 200 with {"store":"ok"}. */
int lab_healthy(const char *base_url);

/* Start a's daemon in the lab (detached, output to <dir>/log/<name>.log)
 * with extra arguments (NULL-terminated, may be NULL): its pid, or -1
 * (message printed). It loads its libraries, then waits for its wiring on
 * the pipe whose write end is *wiring_fd: hand that to lab_wire. With
 * ready_fd, *ready_fd is the read end of a pipe the daemon writes to once
 * ready (EOF if it dies first; ready.h), or -1 when no pipe could be made. */
pid_t lab_spawn(const lab *l, const appliance *a, const char *const *extra, int *ready_fd,
		int *wiring_fd);
/* Wire a to its peers in set (their URLs and keys from their ready files)
 * through wiring_fd, which is closed: the daemon goes on. */
void lab_wire(const lab *l, const appliance *a, const lab_set *set, int wiring_fd);
/* 1 when a's ready file is pid's and its /healthz answers. */
int lab_started(const lab *l, const appliance *a, pid_t pid);
/* Wait until a (started as pid) wrote its ready file and answers /healthz:
 * 0, or -1 when it died or deadline (time_mono_ms) passed. Sleeps on
 * ready_fd (lab_spawn's, closed here) rather than polling, when >= 0. */
int lab_wait_healthy(const lab *l, const appliance *a, pid_t pid, int ready_fd,
		     int64_t deadline);
/* Wait until every link between the appliances of set is established
 * (ctdlab_links.c): 0, or -1 (message printed) when deadline passed. */
int lab_wait_links(const lab *l, const lab_set *set, int64_t deadline);

/* The supervisor (ctdlab_supervise.c): a process that restarts the daemons
 * of set that die, on the ports they had. Returns its pid in the caller, -1
 * when it could not start; in the supervisor itself, 0 once it was told to
 * stop (the caller then returns from main). */
pid_t lab_supervise_start(const lab *l, const lab_set *set);
/* Stop the lab's supervisor, if one runs: 0, -1 when it would not stop. */
int lab_supervise_stop(const lab *l);
/* The supervisor's pid, or 0. */
pid_t lab_supervisor_pid(const lab *l);

/* A test mail (`ctdlab send`, the drill): body, URLs appended to it, files
 * attached, sent over SMTP to server (host:port). */
#define LAB_MAIL_MAX 32
typedef struct lab_mail {
	const char *server;
	const char *from;
	const char *to[LAB_MAIL_MAX];
	int nto;
	const char *subject;
	const char *body;
	const char *urls[LAB_MAIL_MAX];
	int nurls;
	const char *attach[LAB_MAIL_MAX];
	int nattach;
} lab_mail;
/* Build and send m; the message size, or -1 with *err (malloc'd). Call
 * between g_mime_init() and g_mime_shutdown() (once per process: GMime
 * cannot be initialised again after a shutdown). */
long lab_mail_send(const lab_mail *m, char **err);
/* host:port of the lab's IMSVA SMTP listener, from its ready file (malloc'd). */
char *lab_smtp_server(const lab *l);

/* --instance N: check N; for N > 0 replace *dir (malloc'd) with <dir>-N and
 * export the instance's ports for the daemons. 0, or -1 (message printed). */
int lab_instance_apply(lab *l, char **dir);

int cmd_up(const lab *l, int argc, char **argv);
int cmd_down(const lab *l, int argc, char **argv);
int cmd_status(const lab *l, int argc, char **argv);
int cmd_reset(const lab *l, int argc, char **argv);
int cmd_events(const lab *l, int argc, char **argv);
int cmd_send(const lab *l, int argc, char **argv);
int cmd_drill(const lab *l, int argc, char **argv);
int cmd_snapshot(const lab *l, int argc, char **argv);
int cmd_fault(const lab *l, int argc, char **argv);

#endif
