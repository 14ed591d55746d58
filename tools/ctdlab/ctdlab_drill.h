/* ctdlab_drill.h - the pieces of `ctdlab drill` (the seed walkthrough's four
 * steps run unattended): the drill context and its report, bounded polls,
 * the appliances' console/admin APIs as the drill uses them, the loopback
 * download watched by DDI, and the steps themselves. Everything goes through
 * public interfaces: SMTP, HTTP(S) APIs, dtascli. */
#ifndef CTDLAB_DRILL_H
#define CTDLAB_DRILL_H

#include <stdint.h>
#include <jansson.h>
#include "ctdlab.h"

enum { AP_DDAN, AP_DDI, AP_TMCM, AP_SPS, AP_IMSVA, AP_COUNT }; /* = lab_appliances order */

/* A seed sample as this run sends it: the seed file plus a line naming the
 * run, so every run analyses a fresh SHA-1 (reruns prove the whole loop
 * again instead of meeting last run's objects). */
typedef struct drill_sample {
	const char *title; /* "Sample SO" */
	char *path;        /* this run's copy under the work directory */
	char sha1[41];     /* upper case, as the appliances show it */
} drill_sample;

typedef struct drill {
	const lab *l;
	json_t *ready[AP_COUNT]; /* each appliance's ready file */
	char run[9];             /* this run's id */
	char *work;              /* <dir>/drill/<run> */
	int64_t timeout_ms;      /* bound of every wait */
	char *imsva_token;       /* admin session */
	drill_sample so, so2, url_file;
	int samples_ready;
	int step1_mailed;        /* STEP 1 already sent Sample SO in this run */
	json_t *steps;           /* the report: one object per step run */
	json_t *step;            /* the step being run */
	int64_t check_t0;        /* monotonic start of the current check */
	char err[1024];          /* why the last helper failed */
} drill;

/* ---- ctdlab_drill.c: report and waits ---- */
/* Record check `id` of the current step: ok or not, a one-line text and
 * evidence (stolen, may be NULL). Returns ok. */
int drill_check(drill *d, const char *id, int ok, json_t *evidence, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same for a failed check; returns -1. */
int drill_check_failed(drill *d, const char *id, json_t *evidence, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Set d->err; returns -1. */
int drill_fail(drill *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Call probe until it returns 1 (done) or -1 (failed, d->err says why), or
 * d->timeout_ms passes (-1, d->err names `what`). Short growing pauses
 * between calls: a bounded poll, not a fixed sleep. */
int drill_wait(drill *d, const char *what, int (*probe)(drill *d, void *cls), void *cls);
/* ISO 8601 of a wall-clock time (static buffer per call site: use at once). */
void drill_iso(int64_t ms, char out[32]);

/* ---- ctdlab_drill_api.c: calling the appliances' APIs ---- */
/* One call to appliance ap's HTTPS API with its credentials from the ready
 * file. body is stolen (may be NULL); raw/raw_len send bytes instead. Returns
 * the parsed answer (NULL when none or not JSON) and the HTTP status. */
json_t *drill_api(drill *d, int ap, const char *method, const char *path, json_t *body,
		  long *status);
json_t *drill_api_raw(drill *d, int ap, const char *method, const char *path, const void *raw,
		      size_t raw_len, const char *ctype, long *status);
/* The answer of a call that must succeed (2xx with JSON), else NULL with d->err. */
json_t *drill_api_ok(drill *d, int ap, const char *method, const char *path, json_t *body);
/* The first member of array arr whose string key equals value (any case). */
json_t *drill_find_by(json_t *arr, const char *key, const char *value);
/* The appliance's main URL / an info field of its ready file (borrowed). */
const char *drill_url(drill *d, int ap);
const char *drill_info(drill *d, int ap, const char *key);
/* URL-encode s (malloc'd). */
char *drill_escape(const char *s);

/* ---- ctdlab_drill_imsva.c ---- */
int imsva_atse_on(drill *d, json_t **evidence);
/* Create or fix the rule `name` so it equals `want` (stolen); *evidence. */
int imsva_ensure_rule(drill *d, json_t *want, json_t **evidence);
/* The display name of built-in rule "so_file" / "so_url" (malloc'd). */
char *imsva_builtin_rule(drill *d, const char *builtin);
/* Mail one sample (or a body URL) to IMSVA with a subject naming the run. */
int drill_mail(drill *d, const char *subject, const char *attach, const char *url);
/* Wait for a log row of `type` by `rule` for `subject` since from_ms. */
json_t *imsva_wait_log(drill *d, const char *type, const char *rule, const char *subject,
		       int64_t from_ms);
/* Sync now with TMCM, wait until the last sync is later than change_ms and
 * has reached TMCM's change_id. */
json_t *imsva_sync_after(drill *d, int64_t change_ms, int64_t change_id);

/* ---- ctdlab_drill_objects.c ---- */
/* DDAN: the SO of `type` whose object is `value`, waited for. */
json_t *ddan_wait_so(drill *d, const char *type, const char *value);
/* TMCM: Sync now until the VA object of value is listed and TMCM pulled
 * source's feed after since_ms (when the drill saw the object there). */
json_t *tmcm_wait_object(drill *d, const char *type, const char *value, const char *source,
			 int64_t since_ms);
/* TMCM: set the action of every VA object of value; *change_id, *change_ms. */
json_t *tmcm_set_action(drill *d, const char *value, const char *action, int64_t *change_id,
			int64_t *change_ms);
/* SPS: Sync now until the URL object is listed with the action. */
json_t *sps_wait_object(drill *d, const char *type, const char *value, const char *action);

/* DDI: its detection and FILE SO of sha1, waited for. */
json_t *ddi_wait_detection(drill *d, const char *sha1);

/* ---- ctdlab_drill_net.c: the download DDI watches ---- */
/* Serve path on a loopback HTTP server, download it with a browser-like
 * client and hand the traffic to DDI: live capture when DDI captures, else
 * a capture file uploaded to DDI. *evidence says which. */
int drill_download(drill *d, const char *path, json_t **evidence);

/* ---- ctdlab_drill_steps.c ---- */
int drill_step1(drill *d);
int drill_step2(drill *d);
int drill_step3(drill *d);
int drill_step4(drill *d);
/* Write this run's samples (dtascli --make-samples + the run line). */
int drill_samples(drill *d);

#endif
