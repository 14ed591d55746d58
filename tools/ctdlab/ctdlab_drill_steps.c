/* ctdlab_drill_steps.c - the seed walkthrough's four steps, one check per
 * numbered action (1-1 ... 4-5). Each step does what earlier steps would
 * have set up when they did not run in this drill (idempotently: a rule is
 * created only when absent or different), so `ctdlab drill step3` works on
 * a fresh lab. The samples come from `dtascli --make-samples` plus a line
 * naming the run, so every run works with fresh SHA-1s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctdlab_drill.h"
#include "hash.h"
#include "proc.h"
#include "util.h"

#define RULE_TRUE_FILE_TYPE "CTD drill: true file type to Virtual Analyzer"
#define RULE_WEB_REPUTATION "CTD drill: web reputation"
#define QUARANTINE_AREA "Default"

/* Run argv in dir (NULL: here) with stdout+stderr into *out; its exit
 * status, or 127 with the reason appended to *out when it could not run or
 * hung (longer than the drill's own timeout twice over). */
static int run_tool(drill *d, const char *const *argv, const char *dir, char **out)
{
	proc_opts o = {.dir = dir, .merge_stderr = 1, .timeout_ms = 2 * d->timeout_ms};
	proc_result r;
	ctd_err err;
	int rc = proc_run(argv, &o, &r, &err);
	*out = rc == 0 ? xstrdup(r.out) : xasprintf("%s%s", r.out ? r.out : "", err.msg);
	proc_result_free(&r);
	return rc == 0 ? r.status : 127;
}

/* This run's copy of a seed sample: the seed bytes and a line naming the run,
 * between open and close (a comment of the file's format). */
static int make_sample(drill *d, drill_sample *s, const char *title, const char *seed_dir,
		       const char *file, const char *open, const char *close)
{
	char *seed = xasprintf("%s/%s", seed_dir, file), *data;
	size_t len;
	int rc = file_read(seed, &data, &len, NULL);
	free(seed);
	if (rc != 0)
		return drill_fail(d, "dtascli --make-samples wrote no %s", file);
	sbuf b = {0};
	sbuf_append(&b, data, len);
	sbuf_printf(&b, "%sctdlab drill run %s%s", open, d->run, close);
	free(data);
	s->title = title;
	s->path = xasprintf("%s/%s", d->work, file);
	hash_hex(HASH_SHA1, b.data, b.len, s->sha1);
	str_upper(s->sha1);
	rc = file_write_atomic(s->path, b.data, b.len, 0644, NULL);
	sbuf_free(&b);
	return rc == 0 ? 0 : drill_fail(d, "cannot write %s", s->path);
}

int drill_samples(drill *d)
{
	if (d->samples_ready)
		return 0;
	char *tool = xasprintf("%s/dtascli", d->l->bindir);
	char *dir = xasprintf("%s/seed", d->work), *out = NULL;
	const char *argv[] = {tool, "--make-samples", dir, NULL};
	int rc = run_tool(d, argv, NULL, &out);
	if (rc != 0)
		drill_fail(d, "%s --make-samples failed (%d): %.300s", tool, rc, out);
	else if (make_sample(d, &d->so, "Sample SO", dir, "sample_so.exe", "\r\n", "\r\n") == 0 &&
		 make_sample(d, &d->so2, "Sample SO2", dir, "sample_so2.exe", "\r\n", "\r\n") == 0 &&
		 make_sample(d, &d->url_file, "URL test file", dir, "url_test.html", "<!-- ",
			     " -->\n") == 0)
		d->samples_ready = 1;
	free(out);
	free(dir);
	free(tool);
	return d->samples_ready ? 0 : -1;
}

static char *subject(drill *d, const char *action, const drill_sample *s)
{
	return xasprintf("ctdlab drill %s STEP %s: %s", d->run, action, s->title);
}

/* A log row as one line of evidence text. */
static const char *row_text(json_t *row, char *buf, size_t n)
{
	snprintf(buf, n, "log #%lld at %s: rule \"%s\", action %s, reason \"%s\"",
		 (long long)json_integer_value(json_object_get(row, "id")),
		 json_string_value(json_object_get(row, "time")),
		 json_string_value(json_object_get(row, "rule")),
		 json_string_value(json_object_get(row, "action")),
		 json_string_value(json_object_get(row, "reason")));
	return buf;
}

/* ---- STEP 1 ---- */

static json_t *true_file_type_rule(void)
{
	return json_pack("{s:s, s:i, s:b, s:s, s:{s:[s], s:[s]}, s:{s:[s]}, s:{s:{s:s, s:s}, s:b}}",
			 "name", RULE_TRUE_FILE_TYPE, "order", 2, "enabled", 1, "type", "other",
			 "route", "senders", "*@ctdlab.test", "recipients", "*@ctdlab.test",
			 "conditions", "true_file_types", "exe", "actions", "intercept", "action",
			 "quarantine", "area", QUARANTINE_AREA, "submit_va", 1);
}

/* 1-1 and 1-2: ATSE on, the true-file-type rule at order 2. */
static int step1_setup(drill *d, const char *id_atse, const char *id_rule)
{
	json_t *ev = NULL;
	int ok = imsva_atse_on(d, &ev) == 0;
	if (!drill_check(d, id_atse, ok, ev,
			 "IMSVA Policy > Scan Engine: Advanced Threat Scan Engine %s",
			 ok ? "on" : d->err))
		return -1;
	ev = NULL;
	ok = imsva_ensure_rule(d, true_file_type_rule(), &ev) == 0;
	if (!ok)
		return drill_check_failed(d, id_rule, NULL, "policy rule: %s", d->err);
	drill_check(d, id_rule, 1, ev,
		    "rule \"%s\" (Other; true file type exe -> Virtual Analyzer; quarantine to %s) "
		    "at order %lld, id %lld, %s",
		    RULE_TRUE_FILE_TYPE, QUARANTINE_AREA,
		    (long long)json_integer_value(json_object_get(ev, "order")),
		    (long long)json_integer_value(json_object_get(ev, "id")),
		    json_string_value(json_object_get(ev, "change")));
	return 0;
}

/* 1-3: mail Sample SO; the quarantine log shows it by the rule of 1-2. */
static int step1_mail(drill *d, const char *id, const char *action)
{
	if (drill_samples(d) != 0)
		return drill_check_failed(d, id, NULL, "samples: %s", d->err);
	int64_t from = time_now_ms();
	char *subj = subject(d, action, &d->so), line[600];
	json_t *row = NULL;
	if (drill_mail(d, subj, d->so.path, NULL) == 0) {
		d->step1_mailed = 1;
		row = imsva_wait_log(d, "quarantine", RULE_TRUE_FILE_TYPE, subj, from);
	}
	char fromtext[32];
	drill_iso(from, fromtext);
	int ok = row != NULL;
	if (ok)
		drill_check(d, id, 1,
			    json_pack("{s:s, s:s, s:s, s:s, s:o}", "sample", d->so.path, "sha1",
				      d->so.sha1, "subject", subj, "from", fromtext, "log", row),
			    "Sample SO (SHA-1 %s) mailed; Quarantine events since %s: %s", d->so.sha1,
			    fromtext, row_text(row, line, sizeof line));
	else
		drill_check(d, id, 0, json_pack("{s:s, s:s}", "sha1", d->so.sha1, "subject", subj),
			    "Sample SO (SHA-1 %s): %s", d->so.sha1, d->err);
	free(subj);
	return ok ? 0 : -1;
}

int drill_step1(drill *d)
{
	if (step1_setup(d, "1-1", "1-2") != 0)
		return -1;
	return step1_mail(d, "1-3", "1-3");
}

/* ---- shared by STEP 2, 3, 4: TMCM Block, IMSVA sync, mail, policy event ---- */

static int block_in_tmcm(drill *d, const char *id, const char *value, int64_t *change_id,
			 int64_t *change_ms)
{
	json_t *ev = tmcm_set_action(d, value, "block", change_id, change_ms);
	if (!ev)
		return drill_check_failed(d, id, NULL, "TMCM Set action Block on %s: %s", value,
					  d->err);
	char when[32];
	drill_iso(*change_ms, when);
	json_object_set_new(ev, "changed_at", json_string(when));
	drill_check(d, id, 1, ev, "TMCM: Set action -> Block on %s (%lld object(s)) at %s, change %lld",
		    value, (long long)json_integer_value(json_object_get(ev, "updated")), when,
		    (long long)*change_id);
	return 0;
}

static int imsva_synced(drill *d, const char *id, int64_t change_ms, int64_t change_id)
{
	json_t *st = imsva_sync_after(d, change_ms, change_id);
	if (!st)
		return drill_check_failed(d, id, NULL, "IMSVA Control Manager sync: %s", d->err);
	drill_check(d, id, 1, st,
		    "IMSVA > Connections > Control Manager Server: last sync with changes %s, "
		    "change number %lld (TMCM's change %lld arrived), %lld object(s)",
		    json_string_value(json_object_get(st, "last_change")),
		    (long long)json_integer_value(json_object_get(st, "change_number")),
		    (long long)change_id,
		    (long long)json_integer_value(json_object_get(st, "objects")));
	return 0;
}

/* Mail (an attachment or a body URL); a Policy event by the built-in rule. */
static int quarantined_by_builtin(drill *d, const char *id, const char *builtin,
				  const drill_sample *s, const char *url)
{
	char *rule = imsva_builtin_rule(d, builtin);
	if (!rule)
		return drill_check_failed(d, id, NULL, "IMSVA policy list: %s", d->err);
	int64_t from = time_now_ms();
	char *subj = subject(d, id, s), line[600], fromtext[32];
	drill_iso(from, fromtext);
	json_t *row = NULL;
	if (drill_mail(d, subj, url ? NULL : s->path, url) == 0)
		row = imsva_wait_log(d, "policy", rule, subj, from);
	const char *action = json_string_value(json_object_get(row, "action"));
	int ok = row && action && strcmp(action, "quarantine") == 0;
	if (row && !ok)
		drill_fail(d, "policy event with action \"%s\", not quarantine",
			   action ? action : "");
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "subject", subj, "rule", rule, "from",
			       fromtext, url ? "url" : "sha1", url ? url : s->sha1);
	json_object_set_new(ev, "log", row ? row : json_null());
	if (row && ok)
		drill_check(d, id, 1, ev, "mailed %s; Policy events since %s: %s",
			    url ? url : s->title, fromtext, row_text(row, line, sizeof line));
	else
		drill_check(d, id, 0, ev, "mailed %s; no quarantine by \"%s\": %s",
			    url ? url : s->title, rule, d->err);
	free(subj);
	free(rule);
	return ok ? 0 : -1;
}

/* 2-2, 3-2, 4-3: the object reached TMCM through source's feed. */
static int tmcm_synced(drill *d, const char *id, const char *type, const char *value,
		       const char *source, int64_t since_ms)
{
	json_t *va = tmcm_wait_object(d, type, value, source, since_ms);
	if (!va)
		return drill_check_failed(d, id, NULL,
					  "TMCM Virtual Analyzer Objects: %s %s from %s: %s", type,
					  value, source, d->err);
	json_t *src = json_object_get(va, "source_sync");
	drill_check(d, id, 1, va,
		    "TMCM Virtual Analyzer Objects: %s %s synced from %s (pulled %s, cursor "
		    "%lld); id %lld, listed with source %s, action %s",
		    type, value, source, json_string_value(json_object_get(src, "last_sync")),
		    (long long)json_integer_value(json_object_get(src, "cursor")),
		    (long long)json_integer_value(json_object_get(va, "id")),
		    json_string_value(json_object_get(va, "source")),
		    json_string_value(json_object_get(va, "action")));
	return 0;
}

static const char *risk_of(json_t *o)
{
	const char *r = json_string_value(json_object_get(o, "risk"));
	return r ? r : "?";
}

/* ---- STEP 2 ---- */

int drill_step2(drill *d)
{
	int64_t change_id, change_ms;
	/* STEP 1's sample must have gone through DDAN in this run: when STEP 1
	 * did not run, its three actions run (and are reported) here */
	if (!d->step1_mailed && (step1_setup(d, "1-1", "1-2") != 0 || step1_mail(d, "1-3", "1-3") != 0))
		return -1;
	json_t *so = ddan_wait_so(d, "FILE", d->so.sha1);
	int64_t seen = time_now_ms();
	if (!drill_check(d, "2-1", so != NULL, so,
			 "DDAN Virtual Analyzer > Suspicious Objects: File %s, risk %s, id %lld%s%s",
			 d->so.sha1, risk_of(so),
			 (long long)json_integer_value(json_object_get(so, "id")), so ? "" : ": ",
			 so ? "" : d->err))
		return -1;
	if (tmcm_synced(d, "2-2", "FILE", d->so.sha1, "DDAN", seen) != 0)
		return -1;
	if (block_in_tmcm(d, "2-3", d->so.sha1, &change_id, &change_ms) != 0 ||
	    imsva_synced(d, "2-4", change_ms, change_id) != 0)
		return -1;
	return quarantined_by_builtin(d, "2-5", "so_file", &d->so, NULL);
}

/* ---- STEP 3 ---- */

int drill_step3(drill *d)
{
	int64_t change_id, change_ms;
	json_t *ev = NULL;
	if (drill_samples(d) != 0)
		return drill_check(d, "3-1", 0, NULL, "samples: %s", d->err);
	if (drill_download(d, d->so2.path, &ev) != 0)
		return drill_check_failed(d, "3-1", ev, "download of Sample SO2: %s", d->err);
	json_t *det = ddi_wait_detection(d, d->so2.sha1);
	int64_t seen = time_now_ms();
	const char *mode = json_string_value(json_object_get(ev, "mode"));
	const char *why = json_string_value(json_object_get(ev, "fallback_reason"));
	json_object_set_new(ev, "ddi", det ? det : json_null());
	char shown[sizeof d->err];
	if (det)
		snprintf(shown, sizeof shown, "Detections > Suspicious Objects: File, risk %s",
			 risk_of(json_object_get(det, "suspicious_object")));
	else
		snprintf(shown, sizeof shown, "%s", d->err);
	if (!drill_check(d, "3-1", det != NULL, ev,
			 "Sample SO2 (SHA-1 %s) downloaded over loopback, seen by DDI via %s%s%s%s; %s",
			 d->so2.sha1, mode, why ? " [fallback: " : "", why ? why : "", why ? "]" : "",
			 shown))
		return -1;
	if (tmcm_synced(d, "3-2", "FILE", d->so2.sha1, "DDI", seen) != 0)
		return -1;
	if (block_in_tmcm(d, "3-3", d->so2.sha1, &change_id, &change_ms) != 0 ||
	    imsva_synced(d, "3-4", change_ms, change_id) != 0)
		return -1;
	return quarantined_by_builtin(d, "3-5", "so_file", &d->so2, NULL);
}

/* ---- STEP 4 ---- */

static json_t *web_reputation_rule(void)
{
	return json_pack("{s:s, s:i, s:b, s:s, s:{s:[], s:[]}, s:{s:{s:b, s:s}, s:{s:b}},"
			 " s:{s:{s:s, s:s}}}",
			 "name", RULE_WEB_REPUTATION, "order", 3, "enabled", 1, "type", "other",
			 "route", "senders", "recipients", "conditions", "web_reputation",
			 "enabled", 1, "sensitivity", "medium", "spam", "enabled", 0, "actions",
			 "intercept", "action", "quarantine", "area", QUARANTINE_AREA);
}

/* The URL SO dtascli reports for the file ("  SO:     URL    <url> (High)"). */
static char *url_so_from(const char *out)
{
	for (const char *p = strstr(out, "SO:"); p; p = strstr(p + 3, "SO:")) {
		char type[8], value[2048];
		if (sscanf(p, "SO: %7s %2047s", type, value) == 2 && strcmp(type, "URL") == 0)
			return xstrdup(value);
	}
	return NULL;
}

/* 4-2: dtascli -b with config.ini [DTAS] Host/ApiKey and the file in work/indir. */
static char *dtascli_batch(drill *d, json_t **evidence)
{
	char *home = xasprintf("%s/dtascli", d->work), *indir = xasprintf("%s/work/indir", home);
	char *ini = xasprintf("%s/config.ini", home), *text = NULL, *out = NULL, *url = NULL;
	char *copy = xasprintf("%s/url_test.html", indir), *data = NULL;
	char *tool = xasprintf("%s/dtascli", d->l->bindir);
	char *wait = xasprintf("%lld", (long long)(d->timeout_ms / 1000));
	size_t len;
	int rc = mkdir_p(indir, 0755, NULL);
	if (rc == 0) {
		text = xasprintf("[DTAS]\nHost = %s\nApiKey = %s\n", drill_url(d, AP_DDAN),
				 drill_info(d, AP_DDAN, "api_key"));
		rc = file_write_atomic(ini, text, strlen(text), 0600, NULL);
	}
	if (rc == 0 && (rc = file_read(d->url_file.path, &data, &len, NULL)) == 0)
		rc = file_write_atomic(copy, data, len, 0644, NULL);
	if (rc != 0) {
		drill_fail(d, "cannot prepare %s", home);
	} else {
		const char *argv[] = {tool, "-c", ini, "-w", wait, "-b", NULL};
		rc = run_tool(d, argv, home, &out);
		url = rc == 0 ? url_so_from(out) : NULL;
		if (rc != 0)
			drill_fail(d, "dtascli -b exited with %d: %.400s", rc, out);
		else if (!url)
			drill_fail(d, "dtascli -b reported no URL suspicious object: %.400s", out);
		*evidence = json_pack("{s:s, s:s, s:s, s:i, s:s}", "config", ini, "indir", indir,
				      "sha1", d->url_file.sha1, "exit", rc, "output", out ? out : "");
	}
	free(home);
	free(indir);
	free(ini);
	free(text);
	free(out);
	free(copy);
	free(data);
	free(tool);
	free(wait);
	return url;
}

int drill_step4(drill *d)
{
	int64_t change_id, change_ms;
	json_t *ev = NULL;
	int ok = imsva_ensure_rule(d, web_reputation_rule(), &ev) == 0;
	if (!drill_check(d, "4-1", ok, ev,
			 "rule \"%s\" (Other; all users; Web Reputation on, spam detection off; "
			 "quarantine to %s) at order %lld%s%s",
			 RULE_WEB_REPUTATION, QUARANTINE_AREA,
			 (long long)json_integer_value(json_object_get(ev, "order")), ok ? "" : ": ",
			 ok ? "" : d->err))
		return -1;
	if (drill_samples(d) != 0)
		return drill_check_failed(d, "4-2", NULL, "samples: %s", d->err);
	ev = NULL;
	char *url = dtascli_batch(d, &ev);
	json_t *so = url ? ddan_wait_so(d, "URL", url) : NULL;
	int64_t seen = time_now_ms();
	if (ev)
		json_object_set_new(ev, "ddan_so", so ? so : json_null());
	if (!drill_check(d, "4-2", so != NULL, ev,
			 "dtascli -b submitted the URL test file (SHA-1 %s); DDAN Suspicious Objects: "
			 "URL %s, risk %s%s%s",
			 d->url_file.sha1, url ? url : "-", risk_of(so), so ? "" : ": ",
			 so ? "" : d->err)) {
		free(url);
		return -1;
	}
	int rc = -1;
	if (tmcm_synced(d, "4-3", "URL", url, "DDAN", seen) == 0 &&
	    block_in_tmcm(d, "4-3", url, &change_id, &change_ms) == 0) {
		json_t *sps = sps_wait_object(d, "URL", url, "block");
		json_t *st = sps ? json_object_get(sps, "sync") : NULL;
		if (drill_check(d, "4-4", sps != NULL, sps,
				"SPS Smart Protection > Suspicious Objects: Sync Now at %s, URL %s "
				"with action block%s%s",
				st ? json_string_value(json_object_get(st, "last_sync")) : "-", url,
				sps ? "" : ": ", sps ? "" : d->err) &&
		    imsva_synced(d, "4-4", change_ms, change_id) == 0)
			rc = quarantined_by_builtin(d, "4-5", "so_url", &d->url_file, url);
	}
	free(url);
	return rc;
}
