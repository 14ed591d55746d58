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

/* Split `k=v k2="v 2"` into a JSON object; a token without '=' becomes
 * {"msg": token}. Values keep their text, quotes removed. */
static json_t *fields_to_json(const char *fields)
{
	json_t *obj = json_object();
	const char *p = fields;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *key = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (*p != '=') {
			if (p > key)
				json_object_set_new(obj, "msg", json_stringn(key, (size_t)(p - key)));
			continue;
		}
		char *name = xstrndup(key, (size_t)(p - key));
		const char *val = ++p;
		if (*val == '"') {
			val = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			while (*p && *p != ' ')
				p++;
		}
		json_object_set_new(obj, name, json_stringn(val, (size_t)(p - val)));
		free(name);
		if (*p == '"')
			p++;
	}
	return obj;
}

static void emit(log_level level, const char *event, const char *fields)
{
	char ts[32];
	sbuf line = {0};

	time_iso8601(time_now_ms(), ts, sizeof ts);
	if (log_json) {
		json_t *o = fields_to_json(fields);
		json_object_set_new(o, "ts", json_string(ts));
		json_object_set_new(o, "level", json_string(level_names[level]));
		json_object_set_new(o, "app", json_string(log_app));
		json_object_set_new(o, "event", json_string(event));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
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
