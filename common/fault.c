/* fault.c - the fault rule table (see fault.h): validation of JSON rules,
 * matching under one mutex, a splitmix64 generator per rule so a seeded
 * probability gives the same sequence on every run, and the timeline event
 * of every fault injected (at most FAULT_EVENTS_PER_S a second per rule; the
 * next event says how many were left out). */
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fault.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

#define FAULT_MAX_RULES 64
#define FAULT_EVENTS_PER_S 20
#define GLOB_MAX 512

typedef struct rule {
	int64_t id;
	fault_point point;
	char match[GLOB_MAX], method[16], client[GLOB_MAX];
	fault_action action;
	int status;
	long delay_ms;
	double probability;
	long count;          /* fires left; 0: unlimited */
	long fired;
	int64_t expires_ms;  /* wall clock; 0: never */
	char message[200];
	uint64_t rng;
	int64_t window_ms;   /* event rate limit: the current second */
	int window_events;
	long suppressed;
} rule;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rule rules[FAULT_MAX_RULES];
static int nrules;
static int active; /* nrules, readable without the lock (the hooks' fast path) */
static int64_t next_id = 1;
static uint64_t seed_stream;
static const char *appliance_name;

static const metric_def faults_injected = {
	"ctdlab_faults_injected_total", "faults injected on demand, by point and rule",
	METRIC_COUNTER, {"point", "rule"}};

static const char *const point_names[] = {"http", "smtp", "peer"};
static const char *const action_names[] = {"respond", "drop", "reset", "malformed"};

const char *fault_point_name(fault_point p)
{
	return point_names[p];
}

/* splitmix64: small, fast and fully determined by its state. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void fault_init(const char *appliance, uint64_t seed)
{
	pthread_mutex_lock(&lock);
	appliance_name = appliance;
	seed_stream = seed ? seed : (uint64_t)time_now_ms() ^ (uint64_t)time_mono_ms() << 20;
	pthread_mutex_unlock(&lock);
}

/* After every change of the table (lock held). */
static void publish(void)
{
	__atomic_store_n(&active, nrules, __ATOMIC_RELEASE);
}

/* ---- rules from JSON ---------------------------------------------------- */

static int name_index(const char *name, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(name, names[i]) == 0)
			return i;
	return -1;
}

static int copy_string(json_t *j, const char *field, char *out, size_t cap, ctd_err *err)
{
	json_t *v = json_object_get(j, field);
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return ctd_fail(err, CTD_EINVAL, "fault rule: %s must be a string of under %zu "
				"characters", field, cap);
	snprintf(out, cap, "%s", json_string_value(v));
	return 0;
}

static int get_enum(json_t *j, const char *field, const char *const *names, int n, int *out,
		    ctd_err *err)
{
	const char *v = json_string_value(json_object_get(j, field));
	if (!json_object_get(j, field))
		return 0;
	int i = v ? name_index(v, names, n) : -1;
	if (i < 0)
		return ctd_fail(err, CTD_EINVAL, "fault rule: %s must be one of %s|%s|%s%s%s", field,
				names[0], names[1], names[2], n > 3 ? "|" : "", n > 3 ? names[3] : "");
	*out = i;
	return 0;
}

static int get_long(json_t *j, const char *field, long min, long max, long *out, ctd_err *err)
{
	json_t *v = json_object_get(j, field);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return ctd_fail(err, CTD_EINVAL, "fault rule: %s must be an integer in [%ld, %ld]",
				field, min, max);
	*out = (long)json_integer_value(v);
	return 0;
}

/* "ttl": "30s" or milliseconds. */
static int get_ttl(json_t *j, int64_t *expires_ms, ctd_err *err)
{
	json_t *v = json_object_get(j, "ttl");
	int64_t ms = 0;
	if (!v)
		return 0;
	if (json_is_integer(v))
		ms = json_integer_value(v);
	else if (!json_is_string(v) || duration_parse(json_string_value(v), &ms, NULL) != 0)
		ms = -1;
	if (ms <= 0)
		return ctd_fail(err, CTD_EINVAL, "fault rule: ttl must be a duration (\"30s\", "
				"\"10m\") or milliseconds, over 0");
	*expires_ms = time_now_ms() + ms;
	return 0;
}

static int get_probability(json_t *j, double *out, ctd_err *err)
{
	json_t *v = json_object_get(j, "probability");
	if (!v)
		return 0;
	double p = json_number_value(v);
	if (!json_is_number(v) || p < 0 || p > 1)
		return ctd_fail(err, CTD_EINVAL, "fault rule: probability must be a number in [0, 1]");
	*out = p;
	return 0;
}

/* The status a rule may carry at its point. */
static int check_status(const rule *r, ctd_err *err)
{
	int lo = r->point == FAULT_SMTP ? 200 : 100;
	if (r->status != 0 && (r->status < lo || r->status > 599))
		return ctd_fail(err, CTD_EINVAL, "fault rule: status %d is not a%s code (%d-599)",
				r->status, r->point == FAULT_SMTP ? "n SMTP reply" : "n HTTP status",
				lo);
	if (r->action == FAULT_RESPOND && r->status == 0 && r->delay_ms == 0)
		return ctd_fail(err, CTD_EINVAL, "fault rule: give a status, a delay_ms or an action "
				"(drop, reset, malformed)");
	return 0;
}

static int rule_parse(json_t *j, rule *r, ctd_err *err)
{
	int point = FAULT_HTTP, action = FAULT_RESPOND;
	long status = 0, seed = 0;
	*r = (rule){.probability = 1.0};
	if (!json_is_object(j))
		return ctd_fail(err, CTD_EINVAL, "fault rule: a JSON object is expected");
	if (get_enum(j, "point", point_names, 3, &point, err) != 0 ||
	    get_enum(j, "action", action_names, 4, &action, err) != 0 ||
	    copy_string(j, "match", r->match, sizeof r->match, err) != 0 ||
	    copy_string(j, "method", r->method, sizeof r->method, err) != 0 ||
	    copy_string(j, "client", r->client, sizeof r->client, err) != 0 ||
	    copy_string(j, "message", r->message, sizeof r->message, err) != 0 ||
	    get_long(j, "status", 0, 999, &status, err) != 0 ||
	    get_long(j, "delay_ms", 0, FAULT_MAX_DELAY_MS, &r->delay_ms, err) != 0 ||
	    get_long(j, "count", 0, 1000000000L, &r->count, err) != 0 ||
	    get_long(j, "seed", 0, 0x7fffffffL, &seed, err) != 0 || get_ttl(j, &r->expires_ms, err) != 0 ||
	    get_probability(j, &r->probability, err) != 0)
		return -1;
	if (!*r->match)
		return ctd_fail(err, CTD_EINVAL, "fault rule: match is required (a glob: a path, "
				"route, SMTP verb or peer URL; \"*\" for all)");
	r->point = (fault_point)point;
	r->action = (fault_action)action;
	r->status = (int)status;
	if (r->action == FAULT_MALFORMED && r->status == 0)
		r->status = r->point == FAULT_SMTP ? 250 : 200;
	r->rng = seed ? (uint64_t)seed : 0;
	return check_status(r, err);
}

static json_t *rule_json(const rule *r)
{
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:i, s:I, s:f, s:I, s:I}", "id", (json_int_t)r->id,
			      "point", point_names[r->point], "match", r->match, "action",
			      action_names[r->action], "status", r->status, "delay_ms",
			      (json_int_t)r->delay_ms, "probability", r->probability, "count",
			      (json_int_t)r->count, "fired", (json_int_t)r->fired);
	if (*r->method)
		json_object_set_new(j, "method", json_string(r->method));
	if (*r->client)
		json_object_set_new(j, "client", json_string(r->client));
	if (*r->message)
		json_object_set_new(j, "message", json_string(r->message));
	if (r->expires_ms) {
		char when[32];
		time_iso8601(r->expires_ms, when, sizeof when);
		json_object_set_new(j, "expires", json_string(when));
	}
	return j;
}

int64_t fault_add(const json_t *rule_in, json_t **added, ctd_err *err)
{
	rule r;
	if (rule_parse((json_t *)rule_in, &r, err) != 0)
		return -1;
	pthread_mutex_lock(&lock);
	if (nrules == FAULT_MAX_RULES) {
		pthread_mutex_unlock(&lock);
		return ctd_fail(err, CTD_ETOOBIG, "fault rule: the table is full (%d rules)",
				FAULT_MAX_RULES);
	}
	r.id = next_id++;
	if (!r.rng)
		r.rng = rng_next(&seed_stream);
	rules[nrules++] = r;
	publish();
	if (added)
		*added = rule_json(&r);
	pthread_mutex_unlock(&lock);
	log_info("fault.added", "rule=%lld point=%s match=\"%s\" action=%s status=%d",
		 (long long)r.id, point_names[r.point], r.match, action_names[r.action], r.status);
	return r.id;
}

/* Every rule of an array, or the one object. */
static int add_all(json_t *j, ctd_err *err)
{
	if (!json_is_array(j))
		return fault_add(j, NULL, err) < 0 ? -1 : 0;
	size_t i;
	json_t *one;
	json_array_foreach(j, i, one)
		if (fault_add(one, NULL, err) < 0)
			return -1;
	return 0;
}

int fault_add_text(const char *text, const char *path, ctd_err *err)
{
	json_error_t jerr;
	json_t *j = NULL;
	if (text && *text && !(j = json_loads(text, 0, &jerr)))
		return ctd_fail(err, CTD_EINVAL, "faults: not JSON (%s)", jerr.text);
	int rc = j ? add_all(j, err) : 0;
	json_decref(j);
	if (rc != 0 || !path || !*path)
		return rc;
	if (!(j = json_load_file(path, 0, &jerr)))
		return ctd_fail(err, CTD_EINVAL, "faults_file %s: %s (line %d)", path, jerr.text,
				jerr.line);
	rc = add_all(j, err);
	json_decref(j);
	return rc;
}

/* ---- the table ---------------------------------------------------------- */

static void remove_at(int i)
{
	memmove(&rules[i], &rules[i + 1], (size_t)(nrules - i - 1) * sizeof rules[0]);
	nrules--;
	publish();
}

/* Drop expired rules (lock held). */
static void prune(int64_t now)
{
	for (int i = nrules - 1; i >= 0; i--)
		if (rules[i].expires_ms && rules[i].expires_ms <= now)
			remove_at(i);
}

json_t *fault_list(void)
{
	json_t *arr = json_array();
	pthread_mutex_lock(&lock);
	prune(time_now_ms());
	for (int i = 0; i < nrules; i++)
		json_array_append_new(arr, rule_json(&rules[i]));
	pthread_mutex_unlock(&lock);
	return arr;
}

int fault_remove(int64_t id)
{
	int rc = -1;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nrules; i++) {
		if (rules[i].id == id) {
			remove_at(i);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int fault_clear(void)
{
	pthread_mutex_lock(&lock);
	int n = nrules;
	nrules = 0;
	publish();
	pthread_mutex_unlock(&lock);
	return n;
}

/* ---- matching ----------------------------------------------------------- */

static int glob_match(const char *pattern, const char *s)
{
	return s && fnmatch(pattern, s, FNM_CASEFOLD) == 0;
}

static int client_matches(const rule *r, const fault_request *req)
{
	if (!*r->client)
		return 1;
	for (int i = 0; i < FAULT_MAX_CLIENTS && req->clients[i]; i++)
		if (glob_match(r->client, req->clients[i]))
			return 1;
	return 0;
}

static int rule_matches(const rule *r, const fault_request *req)
{
	if (r->point != req->point || !client_matches(r, req))
		return 0;
	if (*r->method && (!req->method || strcasecmp(r->method, req->method) != 0))
		return 0;
	return glob_match(r->match, req->target) || glob_match(r->match, req->route);
}

/* The probability roll, from the rule's own generator. */
static int rule_rolls(rule *r)
{
	if (r->probability >= 1.0)
		return 1;
	double u = (double)(rng_next(&r->rng) >> 11) * (1.0 / 9007199254740992.0);
	return u < r->probability;
}

/* Whether this firing goes to the timeline; *suppressed: how many were left
 * out before it (lock held). */
static int event_allowed(rule *r, int64_t now, long *suppressed)
{
	if (now - r->window_ms >= 1000) {
		r->window_ms = now;
		r->window_events = 0;
	}
	if (r->window_events >= FAULT_EVENTS_PER_S) {
		r->suppressed++;
		return 0;
	}
	r->window_events++;
	*suppressed = r->suppressed;
	r->suppressed = 0;
	return 1;
}

static void hit_fill(const rule *r, fault_hit *hit)
{
	hit->rule = r->id;
	hit->action = r->action;
	hit->status = r->status;
	hit->delay_ms = r->delay_ms;
	if (*r->message)
		snprintf(hit->message, sizeof hit->message, "%s", r->message);
	else
		snprintf(hit->message, sizeof hit->message, "fault injected by lab rule %lld",
			 (long long)r->id);
}

static void record(const fault_request *req, const fault_hit *hit, long suppressed, int log_it)
{
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)hit->rule);
	METRIC_INC(faults_injected, point_names[req->point], id);
	log_info("fault.injected", "rule=%lld point=%s target=\"%s\" action=%s status=%d "
		 "delay_ms=%ld", (long long)hit->rule, point_names[req->point], req->target,
		 action_names[hit->action], hit->status, hit->delay_ms);
	ctd_err err = {0};
	store *st = log_it && appliance_name ? store_get(&err) : NULL;
	if (!st)
		return;
	char ref[40];
	snprintf(ref, sizeof ref, "rule-%lld", (long long)hit->rule);
	json_t *detail = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s, s:i, s:I}", "rule",
				   (json_int_t)hit->rule, "point", point_names[req->point],
				   "method", req->method, "target", req->target, "client",
				   req->clients[0], "action", action_names[hit->action], "status",
				   hit->status, "delay_ms", (json_int_t)hit->delay_ms);
	if (suppressed)
		json_object_set_new(detail, "suppressed", json_integer(suppressed));
	if (events_append(st, appliance_name, "fault.injected", ref, detail, &err) < 0)
		log_warn("fault.event", "error=\"%s\"", err.msg);
	json_decref(detail);
}

int fault_armed(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE) != 0;
}

int fault_check(const fault_request *req, fault_hit *hit)
{
	if (!fault_armed())
		return 0; /* off: no lock taken on every request */
	int fired = 0, log_it = 0;
	long suppressed = 0;
	int64_t now = time_now_ms();
	pthread_mutex_lock(&lock);
	prune(now);
	for (int i = 0; i < nrules && !fired; i++) {
		rule *r = &rules[i];
		if (!rule_matches(r, req) || !rule_rolls(r))
			continue;
		fired = 1;
		r->fired++;
		hit_fill(r, hit);
		log_it = event_allowed(r, now, &suppressed);
		if (r->count && --r->count == 0)
			remove_at(i);
	}
	pthread_mutex_unlock(&lock);
	if (fired)
		record(req, hit, suppressed, log_it);
	return fired;
}

int fault_http_exempt(const char *path)
{
	static const char *const exempt[] = {"/api/lab/faults", "/api/login", "/healthz",
					     "/livez", "/readyz", "/metrics"};
	for (size_t i = 0; i < sizeof exempt / sizeof exempt[0]; i++) {
		size_t n = strlen(exempt[i]);
		if (strncmp(path, exempt[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

char *fault_error_body(const fault_hit *hit)
{
	json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", "fault_injected", "message",
			      hit->message);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

char *fault_malformed_body(const fault_hit *hit)
{
	char *whole = fault_error_body(hit);
	whole[strlen(whole) / 2] = '\0';
	return whole;
}
