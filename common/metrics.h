/* metrics.h - the process's one metrics registry, served as GET /metrics in
 * the Prometheus text exposition format (version 0.0.4).
 *
 * A metric is declared once as a static metric_def (name, help, type, label
 * names, histogram buckets) where it is counted; the registry creates its
 * state on first use. Every call is thread-safe. Values that live in the
 * store (messages by state, SO counts, queue depths) are set by scrape hooks
 * right before each rendering, so they cost nothing between scrapes. */
#ifndef CTD_METRICS_H
#define CTD_METRICS_H

#include <stdint.h>
#include "util.h"

#define METRIC_MAX_LABELS 4
#define METRIC_MAX_BUCKETS 16

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

typedef struct metric_def {
	const char *name; /* "ctdlab_http_requests_total" */
	const char *help;
	metric_type type;
	const char *labels[METRIC_MAX_LABELS]; /* NULL-terminated when fewer */
	const double *buckets;                 /* histograms: upper bounds, ascending */
	int nbuckets;
} metric_def;

/* values: one per label of def, in order (NULL when def has no labels). */
void metric_add(const metric_def *def, double v, const char *const *values);
void metric_set(const metric_def *def, double v, const char *const *values);
void metric_observe(const metric_def *def, double v, const char *const *values);
/* Forget every series of def (a scrape hook re-setting a gauge by label
 * drops the labels that are gone). */
void metric_clear(const metric_def *def);
/* The family exists (and shows, at 0 when it has no labels) before first use. */
void metric_register(const metric_def *def);

#define METRIC_LABELS(...) ((const char *const[]){__VA_ARGS__})
#define METRIC_INC(def, ...) metric_add(&(def), 1, METRIC_LABELS(__VA_ARGS__))

/* fn runs on every scrape, before the text is made, to set gauges. */
void metrics_on_scrape(void (*fn)(void *cls), void *cls);
/* Run the scrape hooks and append the whole registry to out. */
void metrics_render(sbuf *out);
/* The exposition format's content type. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The one place a synchronisation with a peer is counted: runs by result,
 * and (at scrape) the seconds since the last successful run. */
void metrics_sync_result(const char *peer, int ok);

/* Forget everything (tests). */
void metrics_reset(void);

#endif
