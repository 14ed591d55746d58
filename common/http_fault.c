/* http_fault.c - faults on demand for the HTTP server (fault.h): the rule
 * that matches a request about to run its handler is applied here, as an
 * error answer in the uniform JSON error format, a body that breaks off, a
 * delay, or a connection closed or reset without an answer. */
#include <stdlib.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "fault.h"
#include "http_internal.h"
#include "http_server.h"
#include "util.h"

/* SO_LINGER 0: the close that follows sends RST instead of FIN. */
static void arm_reset(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	struct linger lg = {1, 0};
	setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void request_of(http_req *req, fault_request *fr, char *ip, size_t iplen)
{
	http_req_client_ip(req, ip, iplen);
	*fr = (fault_request){.point = FAULT_HTTP, .method = req->method, .target = req->path,
			      .route = req->pattern};
	int n = 0;
	fr->clients[n++] = ip;
	const char *ids[] = {"X-DTAS-ClientUUID", "X-DTAS-SourceID"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		const char *v = http_req_header(req, ids[i]);
		if (v)
			fr->clients[n++] = v;
	}
}

int http_fault_apply(http_req *req, http_resp *resp)
{
	if (!fault_armed() || fault_http_exempt(req->path))
		return 0;
	char ip[64];
	fault_request fr;
	fault_hit hit;
	request_of(req, &fr, ip, sizeof ip);
	if (!fault_check(&fr, &hit))
		return 0;
	if (hit.delay_ms)
		sleep_ms(hit.delay_ms);
	switch (hit.action) {
	case FAULT_RESET:
		arm_reset(req->conn);
		return -1;
	case FAULT_DROP:
		return -1;
	case FAULT_MALFORMED: {
		char *body = fault_malformed_body(&hit);
		http_resp_text(resp, hit.status, "application/json", body);
		free(body);
		return 1;
	}
	case FAULT_RESPOND:
		break;
	}
	if (!hit.status)
		return 0; /* a delay only: then serve as usual */
	http_resp_error(resp, hit.status, "fault_injected", "%s", hit.message);
	return 1;
}
