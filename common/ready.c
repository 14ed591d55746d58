/* ready.c - reading the lab's wiring: run files, ready files and /healthz
 * (see ready.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "http_client.h"
#include "ready.h"
#include "util.h"

char *run_file_path(const char *home, const char *appliance, const char *ext)
{
	return xasprintf("%s/run/%s.%s", home, appliance, ext);
}

/* Only a pipe is taken: a number inherited from elsewhere may name any file. */
int ready_fd_take(void)
{
	const char *text = getenv(READY_FD_ENV);
	char *end;
	struct stat sb;
	long fd = text ? strtol(text, &end, 10) : -1;
	unsetenv(READY_FD_ENV);
	if (fd < 3 || fd > 65535 || *end || fstat((int)fd, &sb) != 0 || !S_ISFIFO(sb.st_mode) ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	return (int)fd;
}

void ready_fd_notify(int fd)
{
	if (fd < 0)
		return;
	while (write(fd, "\n", 1) < 0 && errno == EINTR)
		;
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
