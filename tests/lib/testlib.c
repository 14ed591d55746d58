/* testlib.c - integration test helpers: temp homes, spawning daemons from
 * bin/, readiness waits, process clean-up, HTTP and SMTP clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "proc.h"
#include "testlib.h"
#include "util.h"

#define MAX_SPAWNED 64

static pid_t spawned[MAX_SPAWNED];
static int nspawned;

void tl_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int tl_run_suite(Suite *s)
{
	return tl_run_suite_fork(s, CK_FORK_GETENV);
}

int tl_run_suite_fork(Suite *s, enum fork_status fork)
{
	SRunner *sr = srunner_create(s);
	if (fork != CK_FORK_GETENV)
		srunner_set_fork_status(sr, fork);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *tl_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/ctdlab-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		abort();
	}
	return tmpl;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tl_rmrf(const char *dir)
{
	if (dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int tl_ipv6_loopback(void)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok)
		fprintf(stderr, "SKIP: no IPv6 loopback (::1) on this machine\n");
	return ok;
}

int tl_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	close(fd);
	return ntohs(sa.sin_port);
}

char *tl_bin(const char *name)
{
	const char *dir = getenv("CTDLAB_BINDIR");
	return xasprintf("%s/%s", dir && *dir ? dir : "bin", name);
}

static void remember(pid_t pid)
{
	static int registered;
	if (!registered) {
		atexit(tl_stop_all);
		registered = 1;
	}
	if (nspawned < MAX_SPAWNED)
		spawned[nspawned++] = pid;
}

pid_t tl_spawn_daemon(const char *daemon, const char *home, const char *const *args)
{
	const char *argv[64];
	int n = 0;
	char *bin = tl_bin(daemon);
	char *log = xasprintf("%s/%s.log", home, daemon);
	argv[n++] = bin;
	argv[n++] = "--home";
	argv[n++] = home;
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(bin, (char **)argv);
		_exit(127);
	}
	free(bin);
	free(log);
	remember(pid);
	return pid;
}

int tl_run(const char *const *argv, char **out)
{
	proc_opts o = {.merge_stderr = 1};
	proc_result r = {0};
	ctd_err err;
	int rc = proc_run(argv, &o, &r, &err) == 0 ? r.status : -1;
	if (out) {
		*out = r.out;
		r.out = NULL;
	}
	proc_result_free(&r);
	return rc;
}

json_t *tl_wait_ready(const char *home, const char *appliance, int timeout_ms)
{
	char *path = xasprintf("%s/run/%s.json", home, appliance);
	int64_t deadline = time_mono_ms() + timeout_ms;
	json_t *j = NULL;
	while (!(j = json_load_file(path, 0, NULL)) && time_mono_ms() < deadline)
		tl_sleep_ms(10);
	free(path);
	return j;
}

const char *tl_listener(json_t *ready, const char *name)
{
	return json_string_value(json_object_get(json_object_get(ready, "listeners"), name));
}

json_t *tl_wait_restarted(const char *home, const char *appliance, pid_t old)
{
	int64_t deadline = time_mono_ms() + TL_START_MS;
	while (time_mono_ms() < deadline) {
		json_t *ready = tl_wait_ready(home, appliance, 100);
		pid_t pid = (pid_t)json_integer_value(json_object_get(ready, "pid"));
		json_t *ls = json_object_get(ready, "listeners");
		const char *main_url = json_string_value(json_object_get(ls, "https"));
		if (!main_url)
			main_url = json_string_value(json_object_get(ls, "http"));
		char *url = pid && pid != old && main_url ? xasprintf("%s/healthz", main_url) : NULL;
		long status = 0;
		json_decref(url ? tl_http_json("GET", url, NULL, NULL, &status) : NULL);
		free(url);
		if (status == 200)
			return ready;
		json_decref(ready);
		tl_sleep_ms(50);
	}
	ck_abort_msg("%s (pid %ld) was not restarted", appliance, (long)old);
	return NULL;
}

int tl_pid_alive(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid)
		return 0;
	return pid_alive(pid);
}

static void forget(pid_t pid)
{
	for (int i = 0; i < nspawned; i++)
		if (spawned[i] == pid)
			spawned[i] = spawned[--nspawned];
}

int tl_stop(pid_t pid, int timeout_ms)
{
	int status = 0;
	int64_t deadline = time_mono_ms() + timeout_ms;
	forget(pid);
	if (kill(pid, SIGTERM) != 0 && errno == ESRCH)
		return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status)
									 : -1;
	while (time_mono_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		tl_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

void tl_stop_all(void)
{
	while (nspawned > 0)
		tl_stop(spawned[nspawned - 1], 5000);
}

void tl_lab_env(void)
{
	static const char *const vars[] = {"CTDLAB_DDAN_PORT", "CTDLAB_DDI_PORT", "CTDLAB_TMCM_PORT",
					   "CTDLAB_SPS_PORT", "CTDLAB_IMSVA_PORT",
					   "CTDLAB_IMSVA_SMTP_PORT", "CTDLAB_SPS_WRS_PORT", NULL};
	for (const char *const *v = vars; *v; v++)
		setenv(*v, "0", 1);
	setenv("CTDLAB_DDI_CAPTURE", "no", 1);
}

/* Labs a test brought up: stopped at exit even when an assertion ended the
 * test before its own `ctdlab down`, and named in $TL_LAB_LIST for the
 * runner. */
static char *labs_up[8];

static void labs_down(void)
{
	for (int i = 0; i < 8; i++) {
		if (!labs_up[i])
			continue;
		char *dir = labs_up[i];
		labs_up[i] = NULL;
		const char *down[] = {"down", NULL};
		tl_ctdlab(dir, down, NULL);
		free(dir);
	}
}

static void track_lab(const char *dir, const char *cmd)
{
	static int registered;
	int up = strcmp(cmd, "up") == 0;
	for (int i = 0; i < 8; i++) {
		if (labs_up[i] && strcmp(labs_up[i], dir) == 0) {
			if (!up) {
				free(labs_up[i]);
				labs_up[i] = NULL;
			}
			return;
		}
	}
	for (int i = 0; up && i < 8; i++) {
		if (!labs_up[i]) {
			labs_up[i] = xstrdup(dir);
			break;
		}
	}
	/* a test killed by its time-out runs no exit handler: tests/run.sh
	 * stops what this list names once the program has ended */
	const char *list = getenv("TL_LAB_LIST");
	FILE *f = up && list ? fopen(list, "a") : NULL;
	if (f) {
		fprintf(f, "%s\n", dir);
		fclose(f);
	}
	if (up && !registered) {
		atexit(labs_down);
		registered = 1;
	}
}

int tl_ctdlab(const char *dir, const char *const *args, char **out)
{
	const char *argv[24];
	int n = 0;
	char *bin = tl_bin("ctdlab");
	const char *lab_dir = dir, *lab_cmd = NULL, *instance = NULL;
	argv[n++] = bin;
	if (dir) {
		argv[n++] = "--dir";
		argv[n++] = dir;
	}
	for (; args && *args && n < 23; args++) {
		argv[n++] = *args;
		if (strcmp(*args, "--dir") == 0 && args[1])
			lab_dir = args[1];
		if (strcmp(*args, "--instance") == 0 && args[1])
			instance = args[1];
		if (strcmp(*args, "up") == 0 || strcmp(*args, "down") == 0 ||
		    strcmp(*args, "reset") == 0)
			lab_cmd = *args;
	}
	argv[n] = NULL;
	/* lab N of many lives in <dir>-N (ctdlab --instance) */
	char *instance_dir = instance && lab_dir && strcmp(instance, "0") != 0
				     ? xasprintf("%s-%s", lab_dir, instance)
				     : NULL;
	if (lab_cmd && lab_dir)
		track_lab(instance_dir ? instance_dir : lab_dir, lab_cmd);
	int rc = tl_run(argv, out);
	free(instance_dir);
	free(bin);
	return rc;
}

long tl_http(const char *method, const char *url, const char *const *headers, const char *body,
	     http_response *resp)
{
	http_client_opts opts = {.timeout_ms = 10000};
	http_request req = {.method = method, .url = url, .headers = headers, .body = body,
			    .body_len = body ? strlen(body) : 0};
	memset(resp, 0, sizeof *resp);
	if (http_fetch(&opts, &req, resp, NULL) != 0)
		return -1;
	return resp->status;
}

json_t *tl_http_json(const char *method, const char *url, const char *const *headers,
		     const char *body, long *status)
{
	http_response resp;
	long st = tl_http(method, url, headers, body, &resp);
	json_t *j = st > 0 && resp.body.data ? json_loads(resp.body.data, 0, NULL) : NULL;
	if (status)
		*status = st;
	http_response_free(&resp);
	return j;
}

double tl_metric(const char *base, const char *series)
{
	char *url = xasprintf("%s/metrics", base);
	http_response r = {0};
	ck_assert_int_eq(tl_http("GET", url, NULL, NULL, &r), 200);
	double v = 0;
	size_t len = strlen(series);
	/* a sample line: the series at a line's start, a space, the value */
	for (const char *at = r.body.data; at && *at; at = strchr(at, '\n'), at = at ? at + 1 : NULL)
		if (!strncmp(at, series, len) && at[len] == ' ') {
			v = strtod(at + len + 1, NULL);
			break;
		}
	http_response_free(&r);
	free(url);
	return v;
}

json_t *tl_api(const char *base, const char *method, const char *path,
	       const char *const *headers, const char *body, long want)
{
	char *url = xasprintf("%s%s", base, path);
	long status;
	json_t *j = tl_http_json(method, url, headers, body, &status);
	ck_assert_msg(status == want, "%s %s: HTTP %ld, want %ld", method, path, status, want);
	free(url);
	return j;
}

struct tl_smtp {
	int fd;
	sbuf in;    /* bytes read but not yet consumed */
	sbuf reply; /* the last full reply */
};

tl_smtp *tl_smtp_connect(const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	char service[16];
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0)
		return NULL;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc != 0) {
		close(fd);
		return NULL;
	}
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	tl_smtp *s = xcalloc(1, sizeof *s);
	s->fd = fd;
	return s;
}

/* Take one line (with its CRLF) from the input, reading more as needed. */
static char *read_line(tl_smtp *s)
{
	for (;;) {
		char *nl = s->in.data ? memchr(s->in.data, '\n', s->in.len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - s->in.data) + 1;
			char *line = xstrndup(s->in.data, n);
			memmove(s->in.data, nl + 1, s->in.len - n);
			s->in.len -= n;
			s->in.data[s->in.len] = '\0';
			return line;
		}
		char chunk[4096];
		ssize_t r = read(s->fd, chunk, sizeof chunk);
		if (r <= 0)
			return NULL;
		sbuf_append(&s->in, chunk, (size_t)r);
	}
}

int tl_smtp_read(tl_smtp *s)
{
	char *line;
	s->reply.len = 0;
	sbuf_puts(&s->reply, "");
	while ((line = read_line(s))) {
		sbuf_puts(&s->reply, line);
		int last = strlen(line) < 4 || line[3] != '-';
		int code = atoi(line);
		free(line);
		if (last)
			return code;
	}
	return -1;
}

int tl_smtp_cmd(tl_smtp *s, const char *fmt, ...)
{
	va_list ap;
	sbuf cmd = {0};
	va_start(ap, fmt);
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	sbuf_printf(&cmd, "%s\r\n", text);
	free(text);
	tl_smtp_raw(s, cmd.data, cmd.len);
	sbuf_free(&cmd);
	return tl_smtp_read(s);
}

void tl_smtp_raw(tl_smtp *s, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(s->fd, data, len);
		if (w <= 0)
			return;
		data += w;
		len -= (size_t)w;
	}
}

const char *tl_smtp_reply(const tl_smtp *s)
{
	return s->reply.data ? s->reply.data : "";
}

void tl_smtp_close(tl_smtp *s)
{
	if (!s)
		return;
	close(s->fd);
	sbuf_free(&s->in);
	sbuf_free(&s->reply);
	free(s);
}

int tl_smtp_send(const char *host, int port, const char *from, const char *const *rcpts,
		 const char *message)
{
	tl_smtp *s = tl_smtp_connect(host, port);
	int code = -1;
	if (!s)
		return -1;
	if (tl_smtp_read(s) != 220 || tl_smtp_cmd(s, "EHLO tests.ctdlab") != 250 ||
	    tl_smtp_cmd(s, "MAIL FROM:<%s>", from) != 250)
		goto out;
	for (; *rcpts; rcpts++)
		if (tl_smtp_cmd(s, "RCPT TO:<%s>", *rcpts) != 250)
			goto out;
	if (tl_smtp_cmd(s, "DATA") != 354)
		goto out;
	size_t len = strlen(message);
	tl_smtp_raw(s, message, len);
	if (len < 2 || strcmp(message + len - 2, "\r\n") != 0)
		tl_smtp_raw(s, "\r\n", 2);
	code = tl_smtp_cmd(s, ".");
	tl_smtp_cmd(s, "QUIT");
out:
	tl_smtp_close(s);
	return code;
}
