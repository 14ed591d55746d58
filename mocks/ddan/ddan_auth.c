/* ddan_auth.c - verifying a DTAS request (reference §2.2, §2.3, §7): the
 * X-DTAS-Checksum over the API key, the header values (order header, else
 * every X-DTAS-* header in wire order) and a PUT's raw body; an optional
 * X-DTAS-Time skew window (seconds or milliseconds); and optionally the
 * submitter registration. Failures answer 401 (403 unregistered) with a
 * reason a developer can act on. */
#include "ddan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dtas.h"
#include "log.h"

#define MAX_HEADERS 96

typedef struct header_list {
	dtas_header h[MAX_HEADERS];
	size_t n;
} header_list;

static void collect(const char *name, const char *value, void *cls)
{
	header_list *l = cls;
	if (l->n < MAX_HEADERS) {
		l->h[l->n].name = name;
		l->h[l->n].value = value ? value : "";
		l->n++;
	}
}

static const char *find(const header_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcasecmp(l->h[i].name, name))
			return l->h[i].value;
	return NULL;
}

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

/* Epoch seconds (10 digits) or milliseconds (13 digits, Siemplify). */
static int parse_time_ms(const char *v, int64_t *ms)
{
	char *end;
	long long t = strtoll(v, &end, 10);
	if (end == v || *end || t < 0)
		return -1;
	*ms = strlen(v) >= 13 ? t : t * 1000;
	return 0;
}

static int fail(http_resp *resp, int status, const char *code, const char *service, const char *msg)
{
	log_warn("dtas.auth_failed", "service=%s reason=%s detail=\"%s\"", service, code, msg);
	http_resp_error(resp, status, code, "%s", msg);
	return -1;
}

static int checksum_matches(const char *api_key, const header_list *l, const char *order,
			    const http_req *req, int with_body, const char *got)
{
	char want[41];
	dtas_checksum(api_key, l->h, l->n, order, with_body ? req->body : NULL,
		      with_body ? req->body_len : 0, want);
	return strcasecmp(want, got) == 0;
}

int ddan_auth_check(ddan_app *app, http_req *req, http_resp *resp, const char *service)
{
	header_list l = {0};
	http_req_each_header(req, collect, &l);
	char msg[256];

	const char *got = find(&l, "X-DTAS-Checksum");
	if (!got || !*got)
		return fail(resp, 401, "missing_header", service,
			    "missing header X-DTAS-Checksum: sign the request (SHA1 of API key + "
			    "X-DTAS-* header values [+ PUT body])");
	const char *order = find(&l, "X-DTAS-ChecksumCalculatingOrder");
	char missing[96];
	if (order && *order && dtas_order_missing(l.h, l.n, order, missing, sizeof missing)) {
		snprintf(msg, sizeof msg,
			 "missing header %s: X-DTAS-ChecksumCalculatingOrder lists it but the request "
			 "does not carry it",
			 missing);
		return fail(resp, 401, "missing_header", service, msg);
	}

	const char *ctype = find(&l, "Content-Type");
	int multipart = ctype && !strncasecmp(ctype, "multipart/", 10);
	int with_body = !strcmp(req->method, "PUT") && !multipart;
	int ok = checksum_matches(app->api_key, &l, order, req, with_body, got);
	if (!ok && with_body && app->cfg->lenient_upload_checksum && !strcmp(service, "upload_sample"))
		ok = checksum_matches(app->api_key, &l, order, req, 0, got);
	if (!ok)
		return fail(resp, 401, "bad_checksum", service,
			    "bad checksum: X-DTAS-Checksum does not verify with this DDAN's API key "
			    "(unknown API key - see Help > About - or wrong checksum input: API key + "
			    "values of the X-DTAS-ChecksumCalculatingOrder headers, else of every "
			    "X-DTAS-* header in sent order, + the body of a PUT)");

	if (app->cfg->time_skew > 0) {
		const char *t = find(&l, "X-DTAS-Time");
		int64_t ms;
		if (!t)
			return fail(resp, 401, "missing_header", service,
				    "missing header X-DTAS-Time (this DDAN checks request times)");
		if (parse_time_ms(t, &ms) != 0)
			return fail(resp, 401, "bad_time", service,
				    "X-DTAS-Time must be epoch seconds or milliseconds");
		int64_t skew = time_now_ms() - ms;
		if (skew < 0)
			skew = -skew;
		if (skew > app->cfg->time_skew) {
			snprintf(msg, sizeof msg,
				 "stale X-DTAS-Time: %lld s away from this DDAN's clock (allowed %lld s)",
				 (long long)(skew / 1000), (long long)(app->cfg->time_skew / 1000));
			return fail(resp, 401, "stale_time", service, msg);
		}
	}

	const char *uuid = find(&l, "X-DTAS-ClientUUID");
	int registered = 0;
	if (uuid && *uuid) {
		ctd_err err = {0};
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
