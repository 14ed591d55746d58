/* imsva_process.c - what happens to a committed message: parse (GMime),
 * scan (antivirus, ATSE), evaluate the policy with the daemon's lookups (SO
 * table from Control Manager, SPS web reputation, Virtual Analyzer state),
 * then apply the verdict in one transaction: policy events, modify actions
 * and IMSVA's headers, deliver / quarantine / delete / handoff / change
 * recipient, notifications and BCC, message tracking, and the message's
 * final state. A message that needs Virtual Analyzer is parked instead; a
 * failed lookup with fallback "defer" is retried later.
 *
 * The queue works in batches: every claimed message is prepared (loaded,
 * parsed, scanned, evaluated) outside any transaction, then the batch's
 * writes are applied in one transaction of the queue's.
 *
 * Dependencies: processing calls the message store (load, outcome), the VA
 * queue (park, state), delivery, quarantine and logs; the queue reaches it
 * only through the imsva_processor imsvad hands to imsva_queue_start. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "imsva_app.h"
#include "log.h"
#include "util.h"

#define IMSVA_PRODUCT_VER "IMSVA-9.1.0.2090-8.6.0.1013-26240.003"

/* ---- rules, cached per thread ---- */

/* The ATSE setting rides on the rules' generation (imsva_atse_set bumps it),
 * so a message costs one generation read, not a settings query. */
typedef struct rules_cache {
	imsva_ruleset *rules;
	int64_t gen;
	int atse_on;
} rules_cache;

static pthread_key_t rules_key;
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;

static void rules_cache_free(void *p)
{
	rules_cache *c = p;
	imsva_ruleset_free(c->rules);
	free(c);
}

static void rules_key_init(void)
{
	pthread_key_create(&rules_key, rules_cache_free);
}

const imsva_ruleset *imsva_rules_current(store *st, int *atse_on, ctd_err *err)
{
	pthread_once(&rules_once, rules_key_init);
	rules_cache *c = pthread_getspecific(rules_key);
	if (!c) {
		c = xcalloc(1, sizeof *c);
		pthread_setspecific(rules_key, c);
	}
	int64_t gen = imsva_rules_generation(st);
	if (!c->rules || gen != c->gen) {
		imsva_ruleset *fresh = NULL;
		if (imsva_rules_load(st, &fresh, err) < 0)
			return c->rules; /* keep the last good set, if any */
		imsva_ruleset_free(c->rules);
		c->rules = fresh;
		c->gen = gen;
		c->atse_on = imsva_atse_enabled(st);
	}
	*atse_on = c->atse_on;
	return c->rules;
}

int imsva_atse_enabled(store *st)
{
	ctd_err err = {0};
	char *v = store_setting_get(st, "imsva", "atse_enabled", &err);
	if (!v && err.code != CTD_ENOTFOUND)
		log_warn("atse.read_failed", "error=\"%s\"", err.msg); /* scan as if off */
	int on = v && (!strcmp(v, "1") || !strcmp(v, "true"));
	free(v);
	return on;
}

int imsva_atse_set(store *st, int on, ctd_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	int rc = store_setting_set(st, "imsva", "atse_enabled", on ? "1" : "0", err);
	if (rc == 0)
		rc = imsva_rules_touch(st, err);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

/* ---- lookups for the policy engine ---- */

typedef struct lookup_ctx {
	imsva_app *app;
	store *st;
} lookup_ctx;

static imsva_so_action lk_so_file(void *ctx, const char *sha1)
{
	lookup_ctx *c = ctx;
	char up[41];
	snprintf(up, sizeof up, "%s", sha1);
	str_upper(up);
	return imsva_so_lookup(c->st, "FILE", up);
}

static int lk_wrs(void *ctx, const char *url, imsva_wrs_rating *out)
{
	lookup_ctx *c = ctx;
	ctd_err err = {0};
	return imsva_wrs_query(c->app->wrs, url, out, &err);
}

/* ---- applying a verdict ---- */

static int set_message_state(store *st, int64_t id, imsva_msg_state to, int64_t next_ms,
			     const imsva_msg *m, ctd_err *err)
{
	return imsva_msgs_processed(st, id, to, next_ms, m ? m->subject : NULL,
				    m ? m->message_id : NULL, err);
}

/* IMSVA's trace headers, prepended to the (rewritten) message. */
static char *imsva_headers(const imsva_stored_msg *sm, const imsva_msg *m, const char *body,
			   size_t blen, size_t *outlen)
{
	char date[64], qid[16];
	time_t t = (time_t)(time_now_ms() / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	imsva_msg_queue_id(sm->id, qid);
	const char *spam = m->spam_score >= 5.0 ? "Yes" : "No";
	sbuf b = {0};
	sbuf_printf(&b,
		    "Received: from %s (unknown [%s])\r\n\tby IMSVA (Postfix) with %s id %s;\r\n\t%s\r\n"
		    "X-TM-AS-GCONF: 00\r\n"
		    "X-TM-AS-Product-Ver: %s\r\n"
		    "X-TM-AS-Result: %s-%.3f-5.0-31-10\r\n"
		    "X-imss-scan-details: %s-%.3f-5.0-31-10\r\n"
		    "X-TMASE-Version: %s\r\n"
		    "X-TMASE-Result: 10-%.6f-5.000000\r\n"
		    "X-TM-IMSVA-InternalID: %s\r\n",
		    *sm->helo ? sm->helo : "unknown", sm->client_ip, sm->tls ? "ESMTPS" : "ESMTP", qid,
		    date, IMSVA_PRODUCT_VER, spam, m->spam_score, spam, m->spam_score,
		    IMSVA_PRODUCT_VER, m->spam_score, sm->internal_id);
	sbuf_append(&b, body, blen);
	*outlen = b.len;
	return sbuf_detach(&b);
}

static imsva_msg_state final_state(imsva_intercept i)
{
	switch (i) {
	case IMSVA_INTERCEPT_DELETE:
		return IMSVA_MSG_DELETED;
	case IMSVA_INTERCEPT_QUARANTINE:
		return IMSVA_MSG_QUARANTINED;
	case IMSVA_INTERCEPT_HANDOFF:
		return IMSVA_MSG_HANDOFF;
	default:
		return IMSVA_MSG_DELIVERED;
	}
}

static int log_hits(store *st, const imsva_stored_msg *sm, const imsva_msg *m,
		    const char *rcpts, const imsva_verdict *v, ctd_err *err)
{
	for (size_t i = 0; i < v->nhits; i++) {
		const imsva_hit *h = &v->hits[i];
		const char *action = h->intercept != IMSVA_INTERCEPT_DELIVER
					     ? imsva_intercept_name(h->intercept)
					     : (h->so_action == IMSVA_SO_LOG ? "log" : "deliver");
		json_t *d = json_pack("{s:s,s:s,s:s,s:I}", "filter_code", h->filter_code,
				      "so_action", imsva_so_action_name(h->so_action), "builtin",
				      h->builtin ? "yes" : "no", "rule_id", (json_int_t)h->rule_id);
		if (h->intercept == IMSVA_INTERCEPT_QUARANTINE && v->quarantine_area)
			json_object_set_new(d, "area", json_string(v->quarantine_area));
		imsva_log_rec r = {.type = "policy", .msg_id = sm->id, .internal_id = sm->internal_id,
				   .message_id = m->message_id, .sender = sm->mail_from,
				   .recipients = rcpts, .subject = m->subject, .rule = h->rule_name,
				   .rule_type = h->rule_type == IMSVA_RULE_ANTIVIRUS ? "Antivirus"
										     : "Other",
				   .action = action, .action_code = h->action_code, .reason = h->reason,
				   .filter = h->filter, .violating = h->violating, .detail = d};
		int rc = imsva_log(st, &r, err);
		json_decref(d);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Notifications of "monitor: notify" go to the mailbox / next hop like mail. */
static int send_notifications(imsva_app *app, store *st, const imsva_stored_msg *sm,
			      const imsva_msg *m, const imsva_verdict *v, ctd_err *err)
{
	for (size_t i = 0; i < v->nnotifies; i++) {
		const imsva_notify *n = &v->notifies[i];
		char admin[300];
		snprintf(admin, sizeof admin, "admin@%s", app->cfg->hostname);
		const char *one[] = {admin};
		const char *const *to = n->to.n ? (const char *const *)n->to.v : one;
		size_t nto = n->to.n ? n->to.n : 1;
		sbuf b = {0};
		sbuf_printf(&b, "From: IMSVA <postmaster@%s>\r\nTo: %s\r\nSubject: IMSVA notification: %s"
				"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n\r\nRule: %s\r\n"
				"Sender: %s\r\nSubject: %s\r\nInternal ID: %s\r\n",
			    app->cfg->hostname, to[0], n->rule_name,
			    n->message ? n->message : "A message triggered a policy rule.",
			    n->rule_name, sm->mail_from, m->subject, sm->internal_id);
		char from[300];
		snprintf(from, sizeof from, "postmaster@%s", app->cfg->hostname);
		int rc = imsva_deliver_enqueue(app, st, sm->id, from, to, nto, b.data, b.len, NULL, 0,
					       err);
		sbuf_free(&b);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int deliver_verdict(imsva_app *app, store *st, const imsva_stored_msg *sm,
			   const imsva_verdict *v, const char *data, size_t len, ctd_err *err)
{
	/* recipients: the envelope's (or the changed ones), plus BCC */
	const char **rv = xcalloc(sm->nrcpts + v->new_rcpts.n + v->bcc.n + 1, sizeof *rv);
	size_t n = 0;
	if (v->intercept == IMSVA_INTERCEPT_CHANGE_RCPT)
		for (size_t i = 0; i < v->new_rcpts.n; i++)
			rv[n++] = v->new_rcpts.v[i];
	else
		for (size_t i = 0; i < sm->nrcpts; i++)
			rv[n++] = sm->rcpts[i];
	for (size_t i = 0; i < v->bcc.n; i++)
		rv[n++] = v->bcc.v[i];
	const char *host = v->intercept == IMSVA_INTERCEPT_HANDOFF ? v->handoff_host : NULL;
	int port = v->intercept == IMSVA_INTERCEPT_HANDOFF ? v->handoff_port : 0;
	int rc = imsva_deliver_enqueue(app, st, sm->id, sm->mail_from, rv, n, data, len, host, port,
				       err);
	free(rv);
	return rc;
}

/* The MTA event of the SMTP reception (Postfix's smtpd line), written with
 * the rest of the message's logs, off the intake path. */
static int log_received(store *st, const imsva_stored_msg *sm, const imsva_msg *m,
			const char *rcpts, ctd_err *err)
{
	char qid[16];
	imsva_msg_queue_id(sm->id, qid);
	json_t *d = json_pack("{s:s,s:s,s:s,s:b,s:I}", "queue_id", qid, "client_ip", sm->client_ip,
			      "helo", sm->helo, "tls", sm->tls, "size", (json_int_t)sm->len);
	imsva_log_rec r = {.type = "mta", .msg_id = sm->id, .internal_id = sm->internal_id,
			   .message_id = m->message_id, .sender = sm->mail_from, .recipients = rcpts,
			   .subject = m->subject, .action = "received", .detail = d};
	int rc = imsva_log(st, &r, err);
	json_decref(d);
	return rc;
}

static int apply_verdict(imsva_app *app, store *st, const imsva_stored_msg *sm,
			 const imsva_msg *m, const imsva_verdict *v, ctd_err *err)
{
	char *mod = NULL, *out = NULL;
	size_t modlen = 0, outlen = 0;
	if (imsva_msg_rewrite(sm->data, sm->len, v, &mod, &modlen, err) < 0)
		return -1;
	out = imsva_headers(sm, m, mod, modlen, &outlen);
	free(mod);
	char *rcpts = imsva_rcpts_join(sm->rcpts_json);
	const imsva_hit *term = v->terminal_hit >= 0 ? &v->hits[v->terminal_hit] : NULL;
	imsva_msg_state final = final_state(v->intercept);
	int rc = log_hits(st, sm, m, rcpts, v, err);
	if (rc == 0 && v->intercept == IMSVA_INTERCEPT_QUARANTINE) {
		rc = imsva_quarantine_put(st, sm->id, v->quarantine_area, term ? term->rule_name : "",
					  term ? term->reason : "", sm->mail_from, sm->rcpts_json,
					  m->subject, out, outlen, err);
		if (rc == 0) {
			json_t *d = json_pack("{s:s}", "area",
					      v->quarantine_area ? v->quarantine_area : "Default");
			imsva_log_rec r = {.type = "quarantine", .msg_id = sm->id,
					   .internal_id = sm->internal_id, .message_id = m->message_id,
					   .sender = sm->mail_from, .recipients = rcpts,
					   .subject = m->subject, .rule = term ? term->rule_name : NULL,
					   .action = "quarantined", .reason = term ? term->reason : NULL,
					   .violating = term ? term->violating : NULL, .detail = d};
			rc = imsva_log(st, &r, err);
			json_decref(d);
		}
	} else if (rc == 0 && v->intercept != IMSVA_INTERCEPT_DELETE) {
		rc = deliver_verdict(app, st, sm, v, out, outlen, err);
	}
	if (rc == 0)
		rc = send_notifications(app, st, sm, m, v, err);
	if (rc == 0)
		rc = log_received(st, sm, m, rcpts, err);
	if (rc == 0) {
		json_t *d = json_pack("{s:s,s:s,s:i,s:I,s:i}", "client_ip", sm->client_ip, "helo",
				      sm->helo, "tls", sm->tls, "size", (json_int_t)sm->len,
				      "attachments", (int)imsva_msg_attachment_count(m));
		imsva_log_rec r = {.type = "message_tracking", .msg_id = sm->id,
				   .internal_id = sm->internal_id, .message_id = m->message_id,
				   .sender = sm->mail_from, .recipients = rcpts, .subject = m->subject,
				   .rule = term ? term->rule_name : NULL,
				   .rule_type = term ? (term->rule_type == IMSVA_RULE_ANTIVIRUS
								? "Antivirus" : "Other") : NULL,
				   .action = imsva_msg_state_name(final),
				   .action_code = v->action_code,
				   .reason = term ? term->reason : NULL, .detail = d};
		rc = imsva_log(st, &r, err);
		json_decref(d);
	}
	if (rc == 0)
		rc = set_message_state(st, sm->id, final, 0, m, err);
	free(rcpts);
	free(out);
	return rc;
}

static int park_for_va(imsva_app *app, store *st, const imsva_stored_msg *sm,
		       const imsva_msg *m, const imsva_verdict *v, ctd_err *err)
{
	int rc = 0;
	if (v->status == IMSVA_EVAL_VA_SUBMIT)
		rc = imsva_va_park(app, st, sm->id, m, v, err);
	if (rc == 0)
		rc = set_message_state(st, sm->id, IMSVA_MSG_VA, 0, m, err);
	return rc;
}

/* ---- one claimed message: judged first, written in the queue's batch ---- */

struct imsva_job {
	imsva_stored_msg sm;
	imsva_msg *m;
	imsva_verdict v;
};

void imsva_job_free(imsva_job *job)
{
	if (!job)
		return;
	imsva_verdict_free(&job->v);
	imsva_msg_free(job->m);
	imsva_stored_msg_free(&job->sm);
	free(job);
}

/* What evaluation found that only goes to the logs (outside any batch: a
 * report of the SPS outage is made once, so it is not rolled back). */
static void report_evaluation(imsva_app *app, store *st, const imsva_job *job)
{
	const imsva_verdict *v = &job->v;
	if (v->lookup_error && imsva_wrs_outage_first_report(app->wrs))
		imsva_log_system(st, "wrs_unreachable", v->status == IMSVA_EVAL_DEFER
				 ? "SPS %s unreachable: message %s deferred (wrs_fallback=defer)"
				 : "SPS %s unreachable: message %s scanned without web reputation"
				   " (wrs_fallback=pass)", app->cfg->sps_url, job->sm.internal_id);
	if (v->va_skipped_atse_off)
		log_info("va.skipped", "message=%s reason=atse_off"
			 " detail=\"Policy > Scan Engine > Advanced Threat Scan Engine is off\"",
			 job->sm.internal_id);
}

imsva_job *imsva_process_prepare(imsva_app *app, int64_t msg_id, ctd_err *err)
{
	store *st = imsva_store(err);
	if (!st)
		return NULL;
	imsva_job *job = xcalloc(1, sizeof *job);
	if (imsva_msgs_load(st, msg_id, &job->sm, err) < 0) {
		free(job);
		return NULL;
	}
	const imsva_stored_msg *sm = &job->sm;
	int atse_on = 0;
	const imsva_ruleset *rules;
	imsva_va_state va;
	if (imsva_msg_parse(sm->data, sm->len, &job->m, err) < 0
	    || !(rules = imsva_rules_current(st, &atse_on, err))
	    || imsva_va_state_get(st, msg_id, &va, err) < 0)
		goto fail;
	imsva_scan_opts so = {.atse_enabled = atse_on};
	imsva_scan(job->m, &so);
	lookup_ctx lc = {app, st};
	imsva_lookups lk = {.ctx = &lc, .so_file = lk_so_file,
			    .wrs = app->wrs ? lk_wrs : NULL};
	imsva_eval_opts eo = {.va_enabled = app->ddan.base_url != NULL, .va_level = app->va_level,
			      .atse_off = !atse_on,
			      .wrs_defer_on_error = !strcmp(app->cfg->wrs_fallback, "defer")};
	imsva_envelope env = {.sender = sm->mail_from, .rcpts = (const char *const *)sm->rcpts,
			      .nrcpts = sm->nrcpts};
	if (imsva_policy_evaluate(rules, job->m, &env, &lk, &eo, &va, &job->v, err) < 0)
		goto fail;
	report_evaluation(app, st, job);
	return job;
fail:
	imsva_job_free(job);
	return NULL;
}

int imsva_process_apply(imsva_app *app, store *st, const imsva_job *job, ctd_err *err)
{
	const imsva_stored_msg *sm = &job->sm;
	switch (job->v.status) {
	case IMSVA_EVAL_DONE:
		return apply_verdict(app, st, sm, job->m, &job->v, err);
	case IMSVA_EVAL_VA_SUBMIT:
	case IMSVA_EVAL_VA_WAIT:
		return park_for_va(app, st, sm, job->m, &job->v, err);
	case IMSVA_EVAL_DEFER:
		return set_message_state(st, sm->id, IMSVA_MSG_DEFER,
					 time_now_ms() + app->cfg->wrs_defer_retry, job->m, err);
	}
	return ctd_fail(err, CTD_EINTERNAL, "message %" PRId64 ": unknown verdict", sm->id);
}

void imsva_process_committed(imsva_app *app, const imsva_job *job)
{
	if (job->v.status == IMSVA_EVAL_DONE)
		worker_wake(app->deliver);
	else if (job->v.status != IMSVA_EVAL_DEFER)
		worker_wake(app->va);
}

int64_t imsva_job_msg_id(const imsva_job *job)
{
	return job->sm.id;
}
