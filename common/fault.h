/* fault.h - faults on demand: a process-wide table of rules that make chosen
 * protocol steps fail, so a client's error handling can be tested.
 *
 * A rule names where it applies (point: an HTTP request the daemon serves,
 * an SMTP command IMSVA receives, or a call the daemon makes to a peer), what
 * it matches (a case-insensitive glob on the request path or route pattern,
 * the SMTP verb, or the peer URL; optionally the HTTP method and the client:
 * its address, DTAS client UUID or source id) and what happens: a status (an
 * HTTP status or an SMTP reply code) with an error body, a delay, a dropped or
 * reset connection, or a malformed body. It fires with a probability (a
 * per-rule deterministic generator, seedable) a number of times (count) or
 * until it expires (ttl), then goes away. Every fault injected is written to
 * the events timeline (kind "fault.injected") and counted in
 * ctdlab_faults_injected_total.
 *
 * The table is empty unless rules are added (the admin API
 * /api/lab/faults, `ctdlab fault`, the `faults` option at start): off by
 * default. Rules are JSON objects:
 *   {"point":"http|smtp|peer", "match":"*\/get_report", "method":"GET",
 *    "client":"127.0.0.1", "status":503, "action":"respond|drop|reset|malformed",
 *    "delay_ms":0, "probability":1.0, "count":2, "ttl":"10m", "message":"...",
 *    "seed":42}
 */
#ifndef CTD_FAULT_H
#define CTD_FAULT_H

#include <stdint.h>
#include <jansson.h>
#include "err.h"

typedef enum { FAULT_HTTP, FAULT_SMTP, FAULT_PEER } fault_point;
typedef enum {
	FAULT_RESPOND,   /* answer status (with an error body); status 0: only the delay */
	FAULT_DROP,      /* close the connection without an answer */
	FAULT_RESET,     /* reset the connection (TCP RST) */
	FAULT_MALFORMED  /* answer status with a body that does not parse */
} fault_action;

#define FAULT_MAX_CLIENTS 4
#define FAULT_MAX_DELAY_MS 60000

/* What is about to happen, as the hook sees it. */
typedef struct fault_request {
	fault_point point;
	const char *method; /* HTTP method; NULL for SMTP */
	const char *target; /* path, SMTP verb or peer URL */
	const char *route;  /* the HTTP route pattern, or NULL */
	const char *clients[FAULT_MAX_CLIENTS]; /* the caller's identities, NULL-ended */
} fault_request;

/* What to do instead. */
typedef struct fault_hit {
	int64_t rule;
	fault_action action;
	int status;
	long delay_ms;
	char message[256];
} fault_hit;

/* The appliance named in timeline events; seed 0: from the clock. */
void fault_init(const char *appliance, uint64_t seed);
/* Add one rule (validated); the rule as stored (with its id) in *added when
 * not NULL. Returns the id, or -1 with err (CTD_EINVAL naming the field). */
int64_t fault_add(const json_t *rule, json_t **added, ctd_err *err);
/* Add every rule of a JSON array (or one object) given as text (the
 * `faults` option) and in the file at path (`faults_file`); "" or NULL adds
 * none. */
int fault_add_text(const char *text, const char *path, ctd_err *err);
/* The rules, with what is left of their count and time. */
json_t *fault_list(void);
/* Remove rule id (0, or -1 when there is none); fault_clear removes all
 * and says how many there were. */
int fault_remove(int64_t id);
int fault_clear(void);

/* 1 when a rule fires for req (hit filled, count taken, event written),
 * else 0. Cheap when the table is empty. */
int fault_check(const fault_request *req, fault_hit *hit);
/* 1 when any rule is armed: a hook skips describing its request when none is
 * (the HTTP one formats the client's address). */
int fault_armed(void);
/* Paths no HTTP rule touches: the fault API itself, the console login it
 * needs, and the health, metric and readiness routes (so a rule "*" never
 * locks the lab out). */
int fault_http_exempt(const char *path);
/* The uniform JSON error body {"error":{"code":"fault_injected","message"}},
 * and one that starts like it and breaks off (FAULT_MALFORMED); malloc'd. */
char *fault_error_body(const fault_hit *hit);
char *fault_malformed_body(const fault_hit *hit);

const char *fault_point_name(fault_point p);

#endif
