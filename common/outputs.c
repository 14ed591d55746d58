/* outputs.c - a daemon's event outputs from its options (EVSINK_CFG_OPTS):
 * the syslog sink when syslog_target is set, the webhook sink when
 * webhook_url is set, both fed by events_append through evsink. */
#include <stdlib.h>
#include <string.h>
#include "evsink.h"
#include "cef.h"
#include "log.h"
#include "store.h"
#include "syslog_out.h"
#include "util.h"
#include "webhook.h"

#define SYSLOG_RETRIES 3
#define SYSLOG_BACKOFF_MS 200

static int start_syslog(const char *appliance, const evsink_config *cfg, json_t *info,
			ctd_err *err)
{
	int leef = strcmp(cfg->syslog_format, "leef") == 0;
	if (leef && !cef_has_leef(appliance))
		log_warn("syslog.format", "format=leef using=cef reason=\"%s has no LEEF layout\"",
			 appliance);
	syslog_out_conf sc = {.target = cfg->syslog_target, .leef = leef,
			      .rfc3164 = strcmp(cfg->syslog_framing, "3164") == 0,
			      .lf_framing = strcmp(cfg->syslog_tcp_framing, "lf") == 0,
			      .ca_file = cfg->syslog_ca, .app_name = appliance};
	void *state = syslog_out_new(&sc, err);
	if (!state)
		return -1;
	evsink_policy pol = {.kinds = cfg->syslog_events, .queue_max = (size_t)cfg->out_queue,
			     .retries = SYSLOG_RETRIES, .backoff_ms = SYSLOG_BACKOFF_MS};
	if (!evsink_add(&syslog_out_ops, state, &pol, err))
		return -1;
	json_object_set_new(info, "syslog", json_pack("{s:s, s:s, s:s}", "target",
						      cfg->syslog_target, "format",
						      leef && cef_has_leef(appliance) ? "leef" : "cef",
						      "framing", cfg->syslog_framing));
	log_info("syslog.forwarding", "target=%s format=%s framing=%s events=\"%s\"",
		 cfg->syslog_target, leef && cef_has_leef(appliance) ? "leef" : "cef",
		 cfg->syslog_framing, cfg->syslog_events);
	return 0;
}

static int start_webhook(const char *appliance, const evsink_config *cfg, json_t *info,
			 ctd_err *err)
{
	store *st = store_get(err);
	char *secret = st ? store_secret(st, appliance, "webhook_secret", cfg->webhook_secret,
					 (secret_kind){SECRET_HEX, 0}, err)
			  : NULL;
	if (!secret)
		return -1;
	void *state = webhook_new(cfg->webhook_url, secret);
	json_object_set_new(info, "webhook", json_pack("{s:s, s:s, s:s}", "url", cfg->webhook_url,
						       "secret", secret, "events",
						       cfg->webhook_events));
	free(secret);
	evsink_policy pol = {.kinds = cfg->webhook_events, .queue_max = (size_t)cfg->out_queue,
			     .retries = (int)cfg->webhook_retries,
			     .backoff_ms = cfg->webhook_backoff};
	if (!evsink_add(&webhook_ops, state, &pol, err))
		return -1;
	log_info("webhook.posting", "url=%s events=\"%s\"", cfg->webhook_url, cfg->webhook_events);
	return 0;
}

int evsink_start_outputs(const char *appliance, const evsink_config *cfg, json_t *info,
			 ctd_err *err)
{
	if (*cfg->syslog_target && start_syslog(appliance, cfg, info, err) < 0)
		return -1;
	if (*cfg->webhook_url && start_webhook(appliance, cfg, info, err) < 0)
		return -1;
	return 0;
}
