/* ready.c - reading the lab's wiring: run files, ready files and /healthz
 * (see ready.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "http_client.h"
#include "ready.h"
#include "util.h"

char *run_file_path(const char *home, const char *appliance, const char *ext)
{
	return xasprintf("%s/run/%s.%s", home, appliance, ext);
}

/* The pipe named by the environment variable env, taken out of the
 * environment (the daemon's own children do not inherit it). Only a pipe is
 * taken: a number inherited from elsewhere may name any file. */
static int pipe_fd_take(const char *env)
{
	const char *text = getenv(env);
	char *end;
	struct stat sb;
	long fd = text ? strtol(text, &end, 10) : -1;
	unsetenv(env);
	if (fd < 3 || fd > 65535 || *end || fstat((int)fd, &sb) != 0 || !S_ISFIFO(sb.st_mode) ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	return (int)fd;
}

int ready_fd_take(void)
{
	return pipe_fd_take(READY_FD_ENV);
}

void ready_fd_notify(int fd)
{
	if (fd < 0)
		return;
	while (write(fd, "\n", 1) < 0 && errno == EINTR)
		;
	close(fd);
}

/* The pipe's whole text, NUL-terminated, up to EOF; past WIRING_MAX bytes
 * the rest is read and dropped (the starter never blocks on a full pipe)
 * and *len is WIRING_MAX + 1. */
static char *wiring_read(int fd, size_t *len)
{
	char *text = xmalloc(WIRING_MAX + 1), spill[512];
	*len = 0;
	for (;;) {
		int full = *len == WIRING_MAX;
		ssize_t n = read(fd, full ? spill : text + *len, full ? sizeof spill : WIRING_MAX - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (full)
			*len = WIRING_MAX + 1;
		else
			*len += (size_t)n;
	}
	text[*len > WIRING_MAX ? WIRING_MAX : *len] = '\0';
	return text;
}

/* NAME=VALUE with NAME a CTDLAB_ variable (upper case, digits, '_'). */
static int wiring_line_ok(const char *line)
{
	const char *eq = strchr(line, '=');
	if (!eq || strncmp(line, "CTDLAB_", 7) != 0 || eq == line + 7)
		return 0;
	for (const char *p = line + 7; p < eq; p++)
		if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return 0;
	return 1;
}

static void wiring_apply(char *text)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!wiring_line_ok(line)) {
			fprintf(stderr, "wiring: skipped a line that is not CTDLAB_NAME=VALUE\n");
			continue;
		}
		char *eq = strchr(line, '=');
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
}

int ready_wiring_take(ctd_err *err)
{
	int fd = pipe_fd_take(WIRING_FD_ENV);
	if (fd < 0)
		return 0;
	size_t len;
	char *text = wiring_read(fd, &len);
	close(fd);
	int rc = 0;
	if (len > WIRING_MAX)
		rc = ctd_fail(err, CTD_EINVAL, "wiring: more than %d bytes", WIRING_MAX);
	else if (len < 2 || strcmp(text + len - 2, ".\n") != 0 ||
		 (len > 2 && text[len - 3] != '\n'))
		rc = ctd_fail(err, CTD_EINVAL, "wiring: the pipe ended before its end line: "
			      "whoever started this daemon went away before wiring it");
	else {
		text[len - 2] = '\0';
		wiring_apply(text);
	}
	free(text);
	return rc;
}

static int write_all(int fd, const char *text)
{
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done == len ? 0 : -1;
}

int ready_wiring_put(int fd, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n"))
		return -1;
	char *line = xasprintf("%s=%s\n", name, value);
	int rc = write_all(fd, line);
	free(line);
	return rc;
}

void ready_wiring_close(int fd)
{
	write_all(fd, ".\n");
	close(fd);
}

json_t *ready_load(const char *home, const char *appliance)
{
	char *path = run_file_path(home, appliance, "json");
	json_t *ready = json_load_file(path, 0, NULL);
	free(path);
	return ready;
}

const char *ready_url(const json_t *ready)
{
	json_t *ls = json_object_get(ready, "listeners");
	const char *url = json_string_value(json_object_get(ls, "https"));
	return url ? url : json_string_value(json_object_get(ls, "http"));
}

json_t *health_get(const char *base_url, int detail, long timeout_ms)
{
	/* kept: ctdlab polls each daemon's health many times in a start, and no
	 * fault rule touches /healthz (see http_client.h) */
	http_client_opts opts = {.timeout_ms = timeout_ms, .keep_alive = 1};
	http_response resp = {0};
	char *url = xasprintf("%s/healthz%s", base_url, detail ? "?detail=1" : "");
	json_t *health = NULL;
	if (http_fetch(&opts, &(http_request){.url = url}, &resp, NULL) == 0 && resp.status == 200)
		health = json_loads(resp.body.data ? resp.body.data : "", 0, NULL);
	http_response_free(&resp);
	free(url);
	return health;
}
