/* log.h - structured logging: one line per event on stderr.
 *
 * Lines are `ts=... level=... app=... event=... key=value ...` or, with
 * json output, one JSON object carrying the same fields. The format names
 * the fields (`key=%s`, `key="%s"`, `key=%s:%d`); the logger escapes every
 * value it substitutes, so callers pass raw values, never pre-escaped ones.
 * Depends on libc only, so it works when memory has run out. */
#ifndef CTD_LOG_H
#define CTD_LOG_H

#include <stdarg.h>

typedef enum { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR } log_level;

void log_init(const char *appliance, log_level level, int json);
/* Parse "debug|info|warn|error"; returns -1 for anything else. */
int log_level_parse(const char *name, log_level *out);
/* Run by fatal() before it exits (the daemon removes its pid and ready
 * files); NULL for none. */
void log_set_fatal_hook(void (*hook)(void));

/* fmt formats the key=value pairs that follow the event name. */
void log_event(log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define log_debug(ev, ...) log_event(LOG_LVL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_event(LOG_LVL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_event(LOG_LVL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_LVL_ERROR, ev, __VA_ARGS__)
/* v escaped as a logged value is (control bytes, quotes and invalid UTF-8 as
 * \n, \", \xHH), into out (cap > 0 bytes, cut to fit): for a value that goes
 * to a log of its own (a database log row, syslog), so it cannot forge a
 * line there either. */
void log_escape(const char *v, char *out, size_t cap);
/* Log at error level, run the fatal hook, exit(1): for start-up failures
 * only. */
void fatal(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
