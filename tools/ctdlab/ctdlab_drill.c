/* ctdlab_drill.c - `ctdlab drill [step1|step2|step3|step4|all]`: runs the
 * seed walkthrough's steps against the running lab and reports each numbered
 * action with its evidence and timing, as text (printed as it goes) or, with
 * --json, one JSON document. Exit 0 only when every step passed. The steps
 * live in ctdlab_drill_steps.c; docs/drill.md describes the whole drill. */
#include <errno.h>
#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctdlab_drill.h"
#include "util.h"

#define DEFAULT_TIMEOUT_S 60
#define POLL_FIRST_MS 20
#define POLL_MAX_MS 250

static const struct step {
	const char *name, *label, *title;
	int (*run)(drill *d);
} steps[] = {
	{"step1", "STEP 1", "IMSVA <-> DDAN: detect and quarantine", drill_step1},
	{"step2", "STEP 2", "quarantine by an SO that DDAN created", drill_step2},
	{"step3", "STEP 3", "quarantine by an SO that DDI created", drill_step3},
	{"step4", "STEP 4", "quarantine by a URL SO through SPS", drill_step4},
};
#define NSTEPS ((int)(sizeof steps / sizeof steps[0]))

void drill_iso(int64_t ms, char out[32])
{
	time_iso8601(ms, out, 32);
}

int drill_fail(drill *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof d->err, fmt, ap);
	va_end(ap);
	return -1;
}

static void record(drill *d, const char *id, int ok, json_t *evidence, const char *fmt,
		   va_list ap)
{
	char text[1024];
	vsnprintf(text, sizeof text, fmt, ap);
	int64_t now = time_mono_ms();
	json_t *c = json_pack("{s:s, s:b, s:s, s:I}", "id", id, "ok", ok, "text", text, "ms",
			      (json_int_t)(now - d->check_t0));
	json_object_set_new(c, "evidence", evidence ? evidence : json_null());
	json_array_append_new(json_object_get(d->step, "checks"), c);
	if (!d->l->json) {
		printf("  %-4s %-4s %s  (%lld ms)\n", ok ? "ok" : "FAIL", id, text,
		       (long long)(now - d->check_t0));
		fflush(stdout);
	}
	d->check_t0 = now;
}

int drill_check(drill *d, const char *id, int ok, json_t *evidence, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(d, id, ok, evidence, fmt, ap);
	va_end(ap);
	return ok;
}

int drill_check_failed(drill *d, const char *id, json_t *evidence, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(d, id, 0, evidence, fmt, ap);
	va_end(ap);
	return -1;
}

int drill_wait(drill *d, const char *what, int (*probe)(drill *d, void *cls), void *cls)
{
	int64_t deadline = time_mono_ms() + d->timeout_ms;
	long pause = POLL_FIRST_MS;
	for (;;) {
		d->err[0] = '\0';
		int rc = probe(d, cls);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
		if (time_mono_ms() >= deadline) {
			char last[sizeof d->err];
			snprintf(last, sizeof last, "%s", d->err);
			return drill_fail(d, "timed out after %lld s waiting for %s%s%s",
					  (long long)(d->timeout_ms / 1000), what, last[0] ? ": " : "",
					  last);
		}
		struct timespec ts = {0, pause * 1000000L};
		nanosleep(&ts, NULL);
		pause = pause * 2 > POLL_MAX_MS ? POLL_MAX_MS : pause * 2;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: ctdlab drill [--timeout SECONDS] [step1|step2|step3|step4|all]...\n"
			"  runs the seed's check-out steps against the running lab (default: all)\n"
			"  --timeout  bound of every wait for asynchronous work (default %d s)\n",
		DEFAULT_TIMEOUT_S);
}

/* The ready files of the five appliances, each one answering /healthz at
 * its URL (not its pid: in containers the daemons run in other pid
 * namespaces); -1 (and a message) if one is missing. */
static int load_lab(drill *d)
{
	for (int i = 0; i < AP_COUNT; i++) {
		const char *name = lab_appliances[i].name;
		if (!(d->ready[i] = lab_ready(d->l, &lab_appliances[i])) || !ready_url(d->ready[i]))
			return drill_fail(d, "%s has no ready file in %s/run (start the lab: ctdlab up)",
					  name, d->l->dir);
		if (!lab_healthy(ready_url(d->ready[i])))
			return drill_fail(d, "%s does not answer at %s (start the lab: ctdlab up)", name,
					  ready_url(d->ready[i]));
	}
	return 0;
}

static int run_step(drill *d, const struct step *s)
{
	int64_t t0 = time_mono_ms();
	d->step = json_pack("{s:s, s:s, s:s, s:[]}", "step", s->name, "label", s->label, "title",
			    s->title, "checks");
	json_array_append_new(d->steps, d->step);
	if (!d->l->json)
		printf("\n%s  %s\n", s->label, s->title);
	d->check_t0 = t0;
	int ok = s->run(d) == 0;
	/* a step passes when it ran to its end and every check held */
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(d->step, "checks"), i, c)
		ok &= json_is_true(json_object_get(c, "ok"));
	int64_t ms = time_mono_ms() - t0;
	json_object_set_new(d->step, "passed", json_boolean(ok));
	json_object_set_new(d->step, "ms", json_integer(ms));
	if (!d->l->json)
		printf("  %s: %s in %lld ms\n", s->label, ok ? "passed" : "FAILED", (long long)ms);
	return ok;
}

/* Which steps argv asks for (flags in want[]); -1 on a bad argument. */
static int parse_args(drill *d, int argc, char **argv, int want[NSTEPS])
{
	int any = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			long s = strtol(argv[++i], NULL, 10);
			if (s <= 0)
				return -1;
			d->timeout_ms = s * 1000;
			continue;
		}
		int k = 0;
		for (; k < NSTEPS && strcmp(argv[i], steps[k].name) != 0; k++)
			;
		if (strcmp(argv[i], "all") == 0)
			for (int j = 0; j < NSTEPS; j++)
				want[j] = 1;
		else if (k < NSTEPS)
			want[k] = 1;
		else
			return -1;
		any = 1;
	}
	if (!any)
		for (int j = 0; j < NSTEPS; j++)
			want[j] = 1;
	return 0;
}

static void drill_free(drill *d)
{
	for (int i = 0; i < AP_COUNT; i++)
		json_decref(d->ready[i]);
	free(d->work);
	free(d->imsva_token);
	free(d->so.path);
	free(d->so2.path);
	free(d->url_file.path);
	json_decref(d->steps);
}

int cmd_drill(const lab *l, int argc, char **argv)
{
	drill d = {.l = l, .timeout_ms = DEFAULT_TIMEOUT_S * 1000, .steps = json_array()};
	int want[NSTEPS] = {0};
	if (parse_args(&d, argc, argv, want) != 0) {
		usage();
		drill_free(&d);
		return 2;
	}
	char uuid[37];
	uuid_v4(uuid);
	snprintf(d.run, sizeof d.run, "%.8s", uuid);
	d.work = xasprintf("%s/drill/%s", l->dir, d.run);
	if (load_lab(&d) == 0 && mkdir_p(d.work, 0755, NULL) != 0)
		drill_fail(&d, "cannot create %s: %s", d.work, strerror(errno));
	if (d.err[0]) {
		fprintf(stderr, "ctdlab drill: %s\n", d.err);
		if (l->json) {
			json_t *out = json_pack("{s:s, s:b, s:s}", "lab", l->dir, "passed", 0, "error",
						d.err);
			json_dumpf(out, stdout, JSON_INDENT(2));
			printf("\n");
			json_decref(out);
		}
		drill_free(&d);
		return 1;
	}
	char started[32];
	drill_iso(time_now_ms(), started);
	if (!l->json)
		printf("ctdlab drill: run %s on the lab in %s (work files in %s)\n", d.run, l->dir,
		       d.work);
	int64_t t0 = time_mono_ms();
	int passed = 0, ran = 0;
	g_mime_init();
	for (int i = 0; i < NSTEPS; i++)
		if (want[i]) {
			ran++;
			passed += run_step(&d, &steps[i]);
		}
	g_mime_shutdown();
	int64_t ms = time_mono_ms() - t0;
	if (l->json) {
		json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:I, s:O}", "run", d.run,
					"lab", l->dir, "work", d.work, "started", started, "passed",
					passed == ran, "steps_run", ran, "steps_passed", passed, "ms",
					(json_int_t)ms, "steps", d.steps);
		json_dumpf(out, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(out);
	} else {
		printf("\nctdlab drill: %s: %d of %d step(s) passed in %.1f s\n",
		       passed == ran ? "PASSED" : "FAILED", passed, ran, ms / 1000.0);
	}
	drill_free(&d);
	return passed == ran ? 0 : 1;
}
