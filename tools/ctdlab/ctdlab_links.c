/* ctdlab_links.c - `ctdlab up` returns only once the links between the
 * appliances it started are established. A link is read where `ctdlab
 * status` reads it, in the consumer's GET /healthz?detail=1 "status": IMSVA's
 * registration and heartbeat to TMCM, SPS's SO subscription to TMCM, TMCM's
 * pulls from DDAN and DDI. The other links (IMSVA and DDI submitting to
 * DDAN, IMSVA asking SPS) carry traffic only when there is a sample or a
 * URL: nothing to wait for. */
#include <stdio.h>
#include <string.h>
#include "ctdlab.h"
#include "util.h"

/* The first polls come soon (a link is often up a few ms after its
 * consumer's start), then every LINK_POLL_MS: each poll is an HTTPS request
 * the busy daemons answer. */
#define LINK_POLL_FIRST_MS 5
#define LINK_POLL_MS 50

/* The consumer's status member at path[] must be the string want; when
 * since is set, the time (ISO 8601) in that member of the same section must
 * also be no older than the consumer's start: SPS keeps its subscription's
 * state in the store, so its "ok" may be a previous run's. */
static const struct link_check {
	const char *consumer, *peer;
	const char *path[3];
	const char *want, *since;
} link_checks[] = {
	{"tmcm", "ddan", {"sources", "links", "DDAN"}, "online", NULL},
	{"tmcm", "ddi", {"sources", "links", "DDI"}, "online", NULL},
	{"sps", "tmcm", {"so_sync", "status", NULL}, "ok", "last_success"},
	{"imsva", "tmcm", {"tmcm", "status", NULL}, "online", NULL},
};

static const char *link_state(json_t *status, const struct link_check *c)
{
	json_t *v = status;
	for (int i = 0; i < 3 && c->path[i]; i++)
		v = json_object_get(v, c->path[i]);
	return json_string_value(v);
}

/* 1 when the check's time is no older than the consumer's start (its
 * /healthz uptime, counted from before any of its syncs; to the second). */
static int fresh(json_t *health, const struct link_check *c)
{
	if (!c->since)
		return 1;
	int64_t at, started = time_now_ms() - json_integer_value(json_object_get(health, "uptime_ms"));
	json_t *section = json_object_get(json_object_get(health, "status"), c->path[0]);
	const char *text = json_string_value(json_object_get(section, c->since));
	return text && time_parse(text, &at, NULL) == 0 && at >= started / 1000 * 1000;
}

/* 1 when the link is up now; *state gets what the consumer says (for the
 * message when it never is). */
static int link_up(const lab *l, const struct link_check *c, char *state, size_t len)
{
	json_t *ready = lab_ready(l, lab_appliance(c->consumer));
	json_t *health = ready && ready_url(ready) ? lab_health(ready_url(ready), 1) : NULL;
	const char *s = link_state(json_object_get(health, "status"), c);
	snprintf(state, len, "%s", s ? s : health ? "not reported" : "no answer");
	int up = s && strcmp(s, c->want) == 0 && fresh(health, c);
	json_decref(health);
	json_decref(ready);
	return up;
}

int lab_wait_links(const lab *l, const lab_set *set, int64_t deadline)
{
	for (size_t i = 0; i < sizeof link_checks / sizeof link_checks[0]; i++) {
		const struct link_check *c = &link_checks[i];
		if (!lab_set_has(set, c->consumer) || !lab_set_has(set, c->peer))
			continue;
		char state[64];
		int64_t pause = LINK_POLL_FIRST_MS;
		while (!link_up(l, c, state, sizeof state)) {
			if (time_mono_ms() >= deadline) {
				fprintf(stderr, "ctdlab: %s's link to %s is not established (%s); see "
						"%s/log/%s.log\n",
					c->consumer, c->peer, state, l->dir, c->consumer);
				return -1;
			}
			sleep_ms(pause);
			pause = pause * 2 < LINK_POLL_MS ? pause * 2 : LINK_POLL_MS;
		}
	}
	return 0;
}
