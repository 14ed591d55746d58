/* metrics.c - the metrics registry behind GET /metrics (see metrics.h): one
 * mutex, families in the order they were first used, series found by their
 * label values, fixed-bucket histograms, Prometheus text out. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

#define MAX_HOOKS 16

typedef struct series {
	struct series *next;
	char *values[METRIC_MAX_LABELS];
	double value;                         /* counter, gauge */
	uint64_t counts[METRIC_MAX_BUCKETS];  /* histogram: per bucket, not cumulative */
	uint64_t count;
	double sum;
} series;

typedef struct family {
	struct family *next;
	const metric_def *def;
	int nlabels;
	series *series, **tail;
} family;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static family *families, **families_tail = &families;
static struct {
	void (*fn)(void *cls);
	void *cls;
} hooks[MAX_HOOKS];
static int nhooks;

static const metric_def sync_runs = {
	"ctdlab_sync_runs_total", "synchronisations with a peer, by result", METRIC_COUNTER,
	{"peer", "result"}};
static const metric_def sync_last_ok = {
	"ctdlab_sync_last_success_timestamp_seconds",
	"when the last successful synchronisation with a peer ended (Unix time)", METRIC_GAUGE,
	{"peer"}};
static const metric_def sync_lag = {
	"ctdlab_sync_lag_seconds", "seconds since the last successful synchronisation with a peer",
	METRIC_GAUGE, {"peer"}};

/* ---- the registry (callers hold the lock) ------------------------------ */

static family *family_get(const metric_def *def)
{
	for (family *f = families; f; f = f->next)
		if (f->def == def || strcmp(f->def->name, def->name) == 0)
			return f;
	family *f = xcalloc(1, sizeof *f);
	f->def = def;
	while (f->nlabels < METRIC_MAX_LABELS && def->labels[f->nlabels])
		f->nlabels++;
	f->tail = &f->series;
	*families_tail = f;
	families_tail = &f->next;
	return f;
}

static series *series_get(family *f, const char *const *values)
{
	for (series *s = f->series; s; s = s->next) {
		int i = 0;
		while (i < f->nlabels && strcmp(s->values[i], values[i] ? values[i] : "") == 0)
			i++;
		if (i == f->nlabels)
			return s;
	}
	series *s = xcalloc(1, sizeof *s);
	for (int i = 0; i < f->nlabels; i++)
		s->values[i] = xstrdup(values[i] ? values[i] : "");
	*f->tail = s;
	f->tail = &s->next;
	return s;
}

static void series_free_all(family *f)
{
	series *s = f->series;
	while (s) {
		series *next = s->next;
		for (int i = 0; i < f->nlabels; i++)
			free(s->values[i]);
		free(s);
		s = next;
	}
	f->series = NULL;
	f->tail = &f->series;
}

static series *locked_series(const metric_def *def, const char *const *values)
{
	pthread_mutex_lock(&lock);
	return series_get(family_get(def), values);
}

/* ---- updates ------------------------------------------------------------ */

void metric_add(const metric_def *def, double v, const char *const *values)
{
	locked_series(def, values)->value += v;
	pthread_mutex_unlock(&lock);
}

void metric_set(const metric_def *def, double v, const char *const *values)
{
	locked_series(def, values)->value = v;
	pthread_mutex_unlock(&lock);
}

void metric_observe(const metric_def *def, double v, const char *const *values)
{
	series *s = locked_series(def, values);
	int b = 0;
	while (b < def->nbuckets && b < METRIC_MAX_BUCKETS && v > def->buckets[b])
		b++;
	if (b < def->nbuckets && b < METRIC_MAX_BUCKETS)
		s->counts[b]++;
	s->count++;
	s->sum += v;
	pthread_mutex_unlock(&lock);
}

void metric_clear(const metric_def *def)
{
	pthread_mutex_lock(&lock);
	series_free_all(family_get(def));
	pthread_mutex_unlock(&lock);
}

void metric_register(const metric_def *def)
{
	pthread_mutex_lock(&lock);
	family_get(def);
	pthread_mutex_unlock(&lock);
}

void metrics_on_scrape(void (*fn)(void *cls), void *cls)
{
	pthread_mutex_lock(&lock);
	if (nhooks < MAX_HOOKS) {
		hooks[nhooks].fn = fn;
		hooks[nhooks++].cls = cls;
	}
	pthread_mutex_unlock(&lock);
}

void metrics_sync_result(const char *peer, int ok)
{
	METRIC_INC(sync_runs, peer, ok ? "ok" : "failed");
	if (ok)
		metric_set(&sync_last_ok, (double)time_now_ms() / 1000.0, METRIC_LABELS(peer));
}

/* ---- rendering ---------------------------------------------------------- */

static void put_number(sbuf *out, double v)
{
	if (isinf(v))
		sbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		sbuf_printf(out, "%lld", (long long)v);
	else
		sbuf_printf(out, "%.15g", v);
}

/* A label value, escaped as the format wants (\\, \", \n). */
static void put_label_value(sbuf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sbuf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			sbuf_puts(out, "\\n");
		else
			sbuf_append(out, v, 1);
	}
}

/* "{a="x",b="y"}" with an optional extra label (le), or nothing. */
static void put_labels(sbuf *out, const family *f, const series *s, const char *le)
{
	if (f->nlabels == 0 && !le)
		return;
	sbuf_puts(out, "{");
	for (int i = 0; i < f->nlabels; i++) {
		sbuf_printf(out, "%s%s=\"", i ? "," : "", f->def->labels[i]);
		put_label_value(out, s->values[i]);
		sbuf_puts(out, "\"");
	}
	if (le)
		sbuf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
	sbuf_puts(out, "}");
}

static void put_histogram(sbuf *out, const family *f, const series *s)
{
	const metric_def *d = f->def;
	uint64_t cumulative = 0;
	for (int b = 0; b < d->nbuckets && b < METRIC_MAX_BUCKETS; b++) {
		char le[32];
		snprintf(le, sizeof le, "%g", d->buckets[b]);
		cumulative += s->counts[b];
		sbuf_printf(out, "%s_bucket", d->name);
		put_labels(out, f, s, le);
		sbuf_printf(out, " %llu\n", (unsigned long long)cumulative);
	}
	sbuf_printf(out, "%s_bucket", d->name);
	put_labels(out, f, s, "+Inf");
	sbuf_printf(out, " %llu\n%s_sum", (unsigned long long)s->count, d->name);
	put_labels(out, f, s, NULL);
	sbuf_puts(out, " ");
	put_number(out, s->sum);
	sbuf_printf(out, "\n%s_count", d->name);
	put_labels(out, f, s, NULL);
	sbuf_printf(out, " %llu\n", (unsigned long long)s->count);
}

static const char *type_name(metric_type t)
{
	return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

static void put_family(sbuf *out, const family *f)
{
	const metric_def *d = f->def;
	sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name,
		    type_name(d->type));
	if (!f->series && f->nlabels == 0 && d->type != METRIC_HISTOGRAM)
		sbuf_printf(out, "%s 0\n", d->name);
	for (const series *s = f->series; s; s = s->next) {
		if (d->type == METRIC_HISTOGRAM) {
			put_histogram(out, f, s);
			continue;
		}
		sbuf_puts(out, d->name);
		put_labels(out, f, s, NULL);
		sbuf_puts(out, " ");
		put_number(out, s->value);
		sbuf_puts(out, "\n");
	}
}

/* Lag from the last success of each peer, as of now (lock held). */
static void update_sync_lag(void)
{
	family *ok = families;
	while (ok && ok->def != &sync_last_ok)
		ok = ok->next;
	if (!ok || !ok->series)
		return;
	double now = (double)time_now_ms() / 1000.0;
	family *lag = family_get(&sync_lag);
	for (series *s = ok->series; s; s = s->next)
		series_get(lag, (const char *const *)s->values)->value = now - s->value;
}

void metrics_render(sbuf *out)
{
	pthread_mutex_lock(&lock);
	int n = nhooks;
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < n; i++)
		hooks[i].fn(hooks[i].cls);
	pthread_mutex_lock(&lock);
	update_sync_lag();
	for (const family *f = families; f; f = f->next)
		put_family(out, f);
	pthread_mutex_unlock(&lock);
}

void metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	while (families) {
		family *next = families->next;
		series_free_all(families);
		free(families);
		families = next;
	}
	families_tail = &families;
	nhooks = 0;
	pthread_mutex_unlock(&lock);
}
