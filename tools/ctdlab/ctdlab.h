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

/* pid from <dir>/run/<name>.pid if that process is alive, else 0. */
pid_t lab_pid(const lab *l, const appliance *a);
/* The parsed ready file, or NULL. */
json_t *lab_ready(const lab *l, const appliance *a);
/* GET <url>/healthz (with the appliance's status when detail): the parsed
 * answer when 200, else NULL. */
json_t *lab_health(const char *base_url, int detail);
/* 1 when /healthz answers 200 with {"store":"ok"}. */
int lab_healthy(const char *base_url);

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
