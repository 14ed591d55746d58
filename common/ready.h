/* ready.h - the lab's own wiring as the daemons advertise it: the run files
 * <home>/run/<appliance>.pid and .json (the ready file daemon.h writes), the
 * main listener's URL in a ready file, and a daemon's GET /healthz. ctdlab
 * and TMCM's lab overview read a lab through these, never another daemon's
 * tables. */
#ifndef CTD_READY_H
#define CTD_READY_H

#include <jansson.h>
#include "err.h"

/* Who starts a daemon may hand it the write end of a pipe in this
 * environment variable: the daemon writes one byte once its ready file is
 * written and closes it (EOF, if it dies first), so the starter sleeps on the
 * pipe instead of polling for the file. */
#define READY_FD_ENV "CTDLAB_READY_FD"
/* The daemon's side: the pipe from the environment (taken out of it, not
 * inherited by the daemon's own children), or -1. */
int ready_fd_take(void);
/* Tell the starter: one byte, then the pipe is closed. */
void ready_fd_notify(int fd);

/* Who starts a daemon may also hand it the read end of a pipe in this
 * environment variable and write the daemon's wiring to it once its peers
 * are up: lines NAME=VALUE, each NAME a CTDLAB_ option variable (config.h),
 * then a line "." and EOF. The daemon loads its libraries meanwhile, so a
 * lab's daemons need not start one after another from the beginning. */
#define WIRING_FD_ENV "CTDLAB_WIRING_FD"
#define WIRING_MAX 16384
/* The daemon's side, before it reads its options: every line of the pipe
 * put in the environment (a line that is not a CTDLAB_ variable is skipped
 * and logged to stderr); 0, also when there is no pipe. -1 with err, and
 * nothing set, when the pipe ends before the "." (the starter went away
 * before wiring it: it must not run unwired) or holds more than WIRING_MAX
 * bytes. */
int ready_wiring_take(ctd_err *err);
/* The starter's side: one NAME=VALUE line; -1 when the value holds a line
 * break or the pipe is gone. */
int ready_wiring_put(int fd, const char *name, const char *value);
/* The starter's side: the "." line, and the pipe closed. */
void ready_wiring_close(int fd);

/* "<home>/run/<appliance>.<ext>", malloc'd. */
char *run_file_path(const char *home, const char *appliance, const char *ext);
/* The appliance's ready file, parsed; NULL when it is not there (not ready). */
json_t *ready_load(const char *home, const char *appliance);
/* The main HTTP(S) listener URL of a ready file (borrowed), or NULL. */
const char *ready_url(const json_t *ready);
/* GET <base_url>/healthz (with the appliance's status when detail), TLS
 * unverified (the lab's own certificate): the parsed answer when 200, else
 * NULL. timeout_ms bounds the whole request. */
json_t *health_get(const char *base_url, int detail, long timeout_ms);

#endif
