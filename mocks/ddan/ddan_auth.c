/* ddan_auth.c - verifying a DTAS request (reference §2.2, §2.3, §7): the
 * X-DTAS-Checksum over the API key, the header values (order header, else
 * every X-DTAS-* header in wire order) and a PUT's raw body; an optional
 * X-DTAS-Time skew window (seconds or milliseconds); and optionally the
 * submitter registration. Failures answer 401 (403 unregistered) with a
 * reason a developer can act on. */
#include "ddan.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dtas.h"
#include "log.h"

int ddan_sha1_norm(const char *in, char out[41])
{
	size_t n = 0;
	while (in && isspace((unsigned char)*in))
		in++;
	for (; in && n < 40 && isxdigit((unsigned char)in[n]); n++)
		out[n] = (char)toupper((unsigned char)in[n]);
	if (n != 40)
		return -1;
	for (const char *p = in + 40; *p; p++)
		if (!isspace((unsigned char)*p))
			return -1;
	out[40] = 0;
	return 0;
}

static int fail(http_resp *resp, int status, const char *code, const char *service, const char *msg)
{
	log_warn("dtas.auth_failed", "service=%s reason=%s detail=\"%s\"", service, code, msg);
	http_resp_error(resp, status, code, "%s", msg);
	return -1;
}

int ddan_auth_check(ddan_app *app, http_req *req, http_resp *resp, const char *service)
{
	const char *keys[] = {app->api_key};
	dtas_verify v = {
		.keys = keys,
		.nkeys = 1,
		.max_skew_ms = app->cfg->time_skew,
		.lenient_body = app->cfg->lenient_upload_checksum && !strcmp(service, "upload_sample"),
	};
	ctd_err err = {0};
	if (dtas_verify_request(req, &v, &err) != 0)
		return fail(resp, 401, v.reason, service, err.msg);
	if (req->body_pending)
		return 0; /* the registration is checked with the whole request */

	const char *uuid = http_req_header(req, "X-DTAS-ClientUUID");
	int registered = 0;
	if (uuid && *uuid) {
		store *st = store_get(&err);
		registered = st ? ddan_submitter_touch(st, uuid, &err) : -1;
		if (registered < 0) {
			http_resp_ctd_err(resp, &err);
			return -1;
		}
	}
	int exempt = !strcmp(service, "register") || !strcmp(service, "unregister") ||
		     !strcmp(service, "test_connection");
	if (app->cfg->require_registration && !exempt && registered != 1) {
		char msg[256];
		snprintf(msg, sizeof msg,
			 "client not registered: call register with X-DTAS-ClientUUID %.64s first",
			 uuid && *uuid ? uuid : "(none sent)");
		return fail(resp, 403, "not_registered", service, msg);
	}
	return 0;
}

/* The service is the last segment of the route's pattern. */
static int dtas_route_check(http_req *req, http_resp *resp)
{
	const char *service = strrchr(req->pattern, '/');
	return ddan_auth_check(req->app, req, resp, service ? service + 1 : req->pattern);
}

const http_auth ddan_dtas_auth = {"dtas", dtas_route_check, 1};
