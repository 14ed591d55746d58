/* webhook.h - the webhook sink of evsink.h: each chosen event POSTed as JSON
 * ({event, appliance, kind, id, time, ts, ref, detail}) with
 *   X-Ctdlab-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>
 *   X-Ctdlab-Event: <appliance>.<kind>   X-Ctdlab-Delivery: <appliance>-<id>
 * A POST without a 2xx answer is retried by evsink with exponential backoff. */
#ifndef CTD_WEBHOOK_H
#define CTD_WEBHOOK_H

#include "evsink.h"

void *webhook_new(const char *url, const char *secret);
extern const evsink_ops webhook_ops;
/* The JSON body of ev (malloc'd) and its signature header value
 * ("sha256=<hex>") into sig. */
char *webhook_body(const evsink_event *ev);
void webhook_sign(const char *secret, const char *body, char sig[72]);

#endif
