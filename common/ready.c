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

/* The pipe's whole text (at most WIRING_MAX bytes; the rest is read and
 * dropped, so the starter never blocks on a full pipe), NUL-terminated. */
static char *wiring_read(int fd, size_t *len)
{
	char *text = xmalloc(WIRING_MAX + 1), spill[512];
	ssize_t n;
	*len = 0;
	for (;;) {
		char *at = *len < WIRING_MAX ? text + *len : spill;
		size_t room = *len < WIRING_MAX ? WIRING_MAX - *len : sizeof spill;
		n = read(fd, at, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (at != spill)
			*len += (size_t)n;
	}
	text[*len] = '\0';
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

void ready_wiring_take(void)
{
	int fd = pipe_fd_take(WIRING_FD_ENV);
	if (fd < 0)
		return;
	size_t len;
	char *text = wiring_read(fd, &len);
	close(fd);
	if (len == WIRING_MAX) { /* cut: a line the cut went through is not whole */
		char *nl = strrchr(text, '\n');
		*(nl ? nl + 1 : text) = '\0';
		fprintf(stderr, "wiring: more than %d bytes: the rest skipped\n", WIRING_MAX);
	}
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
	free(text);
}

int ready_wiring_put(int fd, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n"))
		return -1;
	char *line = xasprintf("%s=%s\n", name, value);
	size_t len = strlen(line), done = 0;
	while (done < len) {
		ssize_t n = write(fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(line);
	return done == len ? 0 : -1;
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
