/* bare_mhd.c - the peer of bench_http.sh: a libmicrohttpd server that answers
 * every request with one fixed body, started the way common/http_server.c
 * starts the daemons' listeners (internal polling thread, MHD_USE_AUTO, a pool
 * of `threads` threads, the same connection timeout and memory limit, TLS or
 * not). Its rate is what the server library can do on this machine; a daemon's
 * authenticated read call is measured against it.
 *
 * usage: bare_mhd BODY_BYTES THREADS PORT_FILE [CERT.pem KEY.pem]
 * Listens on 127.0.0.1, an ephemeral port written to PORT_FILE; runs until
 * SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>

/* As in common/http_server.c. */
#define CONNECTION_TIMEOUT_S 120
#define CONNECTION_MEMORY_LIMIT (128 * 1024)

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	/* answered on the second call, once the request is in: MHD closes a
	 * connection whose answer came before its request was read */
	static int request_seen;
	if (!*con_cls) {
		*con_cls = &request_seen;
		return MHD_YES;
	}
	*upload_data_size = 0;
	return MHD_queue_response(conn, MHD_HTTP_OK, cls);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	if (buf && n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: bare_mhd BODY_BYTES THREADS PORT_FILE [CERT.pem KEY.pem]\n");
		return 2;
	}
	size_t len = strtoul(argv[1], NULL, 10);
	unsigned int threads = (unsigned int)strtoul(argv[2], NULL, 10);
	char *body = malloc(len + 1);
	memset(body, 'x', len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");

	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	char *cert = NULL, *key = NULL;
	if (argc == 6) {
		cert = read_file(argv[4]);
		key = read_file(argv[5]);
		if (!cert || !key) {
			fprintf(stderr, "bare_mhd: cannot read %s or %s\n", argv[4], argv[5]);
			return 1;
		}
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, answer, resp, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY_LIMIT, MHD_OPTION_ARRAY, cert ? tls_opts : no_opts,
		MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bare_mhd: cannot start the server\n");
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	FILE *pf = fopen(argv[3], "w");
	if (!pf || fprintf(pf, "%u\n", info->port) < 0 || fclose(pf) != 0) {
		fprintf(stderr, "bare_mhd: cannot write %s\n", argv[3]);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stopping)
		pause();
	MHD_stop_daemon(d);
	MHD_destroy_response(resp);
	free(body);
	free(cert);
	free(key);
	return 0;
}
