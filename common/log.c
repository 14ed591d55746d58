/* log.c - structured log lines on stderr: key=value by default, JSON on
 * request. One line per event, written with a single write so lines from
 * threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "log.h"
#include "util.h"

static const char *log_app = "ctdlab";
static log_level log_min = LOG_LVL_INFO;
static int log_json;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *appliance, log_level level, int json)
{
	log_app = appliance;
	log_min = level;
	log_json = json;
}

int log_level_parse(const char *name, log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (log_level)i;
			return 0;
		}
	}
	return -1;
}

static void emit(log_level level, const char *event, const char *fields)
{
	char ts[32];
	sbuf line = {0};

	time_iso8601(time_now_ms(), ts, sizeof ts);
	if (log_json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ts", ts, "level",
				      level_names[level], "app", log_app, "event", event,
				      "fields", fields);
		char *s = json_dumps(o, JSON_COMPACT);
		sbuf_puts(&line, s);
		free(s);
		json_decref(o);
	} else {
		sbuf_printf(&line, "ts=%s level=%s app=%s event=%s", ts, level_names[level],
			    log_app, event);
		if (*fields)
			sbuf_printf(&line, " %s", fields);
	}
	sbuf_puts(&line, "\n");
	if (write(STDERR_FILENO, line.data, line.len) < 0) {
		/* nowhere left to report it */
	}
	sbuf_free(&line);
}

static void vlog(log_level level, const char *event, const char *fmt, va_list ap)
{
	char fields[2048];
	vsnprintf(fields, sizeof fields, fmt, ap);
	emit(level, event, fields);
}

void log_event(log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;
	if (level < log_min)
		return;
	va_start(ap, fmt);
	vlog(level, event, fmt, ap);
	va_end(ap);
}

void fatal(const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, event, fmt, ap);
	va_end(ap);
	exit(1);
}
