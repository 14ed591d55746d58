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

#define LINK_POLL_MS 50

/* The consumer's status member at path[] must be the string want. */
static const struct link_check {
	const char *consumer, *peer;
	const char *path[3];
	const char *want;
} link_checks[] = {
	{"tmcm", "ddan", {"sources", "links", "DDAN"}, "online"},
	{"tmcm", "ddi", {"sources", "links", "DDI"}, "online"},
	{"sps", "tmcm", {"so_sync", "status", NULL}, "ok"},
	{"imsva", "tmcm", {"tmcm", "status", NULL}, "online"},
};

static const char *link_state(json_t *status, const struct link_check *c)
{
	json_t *v = status;
	for (int i = 0; i < 3 && c->path[i]; i++)
		v = json_object_get(v, c->path[i]);
	return json_string_value(v);
}

/* 1 when the link is up now; *state gets what the consumer says (for the
 * message when it never is). */
static int link_up(const lab *l, const struct link_check *c, char *state, size_t len)
{
	json_t *ready = lab_ready(l, lab_appliance(c->consumer));
	json_t *health = ready && ready_url(ready) ? lab_health(ready_url(ready), 1) : NULL;
	const char *s = link_state(json_object_get(health, "status"), c);
	snprintf(state, len, "%s", s ? s : health ? "not reported" : "no answer");
	int up = s && strcmp(s, c->want) == 0;
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
		while (!link_up(l, c, state, sizeof state)) {
			if (time_mono_ms() >= deadline) {
				fprintf(stderr, "ctdlab: %s's link to %s is not established (%s); see "
						"%s/log/%s.log\n",
					c->consumer, c->peer, state, l->dir, c->consumer);
				return -1;
			}
			lab_sleep_ms(LINK_POLL_MS);
		}
	}
	return 0;
}
