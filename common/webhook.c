/* webhook.c - the webhook sink: the event as JSON, signed with HMAC-SHA256,
 * POSTed over libcurl (http_client.h); anything but a 2xx is a failure that
 * evsink retries. */
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "http_client.h"
#include "util.h"
#include "webhook.h"

#define WEBHOOK_TIMEOUT_MS 5000

typedef struct webhook {
	char *url, *secret;
} webhook;

char *webhook_body(const evsink_event *ev)
{
	char iso[32], event[96];
	time_iso8601(ev->ts_ms, iso, sizeof iso);
	snprintf(event, sizeof event, "%s.%s", ev->appliance, ev->kind);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "event", event, "appliance",
			      ev->appliance, "kind", ev->kind, "id", (json_int_t)ev->id, "ts",
			      (json_int_t)ev->ts_ms, "time", iso);
	json_object_set_new(o, "ref", ev->ref ? json_string(ev->ref) : json_null());
	json_object_set(o, "detail", ev->detail ? ev->detail : json_null());
	char *body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return body;
}

void webhook_sign(const char *secret, const char *body, char sig[72])
{
	unsigned char mac[32];
	hmac_raw(HASH_SHA256, secret, strlen(secret), body, strlen(body), mac);
	memcpy(sig, "sha256=", 7);
	hex_encode(mac, sizeof mac, sig + 7);
}

static int webhook_deliver(void *state, const evsink_event *ev, ctd_err *err)
{
	webhook *wh = state;
	char *body = webhook_body(ev), sig[72];
	webhook_sign(wh->secret, body, sig);
	char *h_sig = xasprintf("X-Ctdlab-Signature: %s", sig);
	char *h_event = xasprintf("X-Ctdlab-Event: %s.%s", ev->appliance, ev->kind);
	char *h_id = xasprintf("X-Ctdlab-Delivery: %s-%lld", ev->appliance, (long long)ev->id);
	const char *headers[] = {"Content-Type: application/json", h_sig, h_event, h_id, NULL};
	http_client_opts opts = {.timeout_ms = WEBHOOK_TIMEOUT_MS};
	http_request req = {.method = "POST", .url = wh->url, .headers = headers, .body = body,
			    .body_len = strlen(body)};
	http_response resp = {0};
	int rc = http_fetch(&opts, &req, &resp, err);
	if (rc == 0 && (resp.status < 200 || resp.status > 299))
		rc = ctd_fail(err, CTD_EIO, "webhook %s answered %ld", wh->url, resp.status);
	http_response_free(&resp);
	free(h_sig);
	free(h_event);
	free(h_id);
	free(body);
	return rc;
}

static void webhook_free(void *state)
{
	webhook *wh = state;
	free(wh->url);
	free(wh->secret);
	free(wh);
}

const evsink_ops webhook_ops = {"webhook", webhook_deliver, webhook_free};

void *webhook_new(const char *url, const char *secret)
{
	webhook *wh = xcalloc(1, sizeof *wh);
	wh->url = xstrdup(url);
	wh->secret = xstrdup(secret);
	return wh;
}
