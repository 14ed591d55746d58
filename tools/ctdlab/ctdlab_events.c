/* ctdlab_events.c - `ctdlab events`: the shared timeline every daemon
 * appends to, filtered, as text or JSON, optionally following new events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctdlab.h"
#include "store.h"
#include "util.h"

#define FOLLOW_POLL_MS 200

static void usage(void)
{
	fprintf(stderr, "usage: ctdlab events [--since TIME|DURATION] [--until TIME]\n"
			"                     [--appliance NAME] [--kind PATTERN] [--limit N] [--follow]\n"
			"  TIME: ISO 8601 or epoch seconds; DURATION: 10m, 2h (that long ago)\n");
}

/* "--since 10m" means ten minutes ago; anything else is a point in time. */
static int parse_since(const char *s, int64_t *ms)
{
	int64_t ago;
	if (time_parse(s, ms, NULL) == 0)
		return 0;
	if (duration_parse(s, &ago, NULL) != 0)
		return -1;
	*ms = time_now_ms() - ago;
	return 0;
}

static void print_event(json_t *ev, int as_json)
{
	if (as_json) {
		json_dumpf(ev, stdout, JSON_COMPACT);
		putchar('\n');
		return;
	}
	json_t *detail = json_object_get(ev, "detail");
	char *text = detail && !json_is_null(detail) ? json_dumps(detail, JSON_COMPACT) : NULL;
	printf("%s  %-6s %-24s %-42s %s\n", json_string_value(json_object_get(ev, "time")),
	       json_string_value(json_object_get(ev, "appliance")),
	       json_string_value(json_object_get(ev, "kind")),
	       json_string_value(json_object_get(ev, "ref")) ? json_string_value(json_object_get(ev, "ref")) : "-",
	       text ? text : "");
	free(text);
	fflush(stdout);
}

static int parse_args(int argc, char **argv, events_filter *f, int *follow)
{
	for (int i = 0; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0) {
			*follow = 1;
			continue;
		}
		if (!v)
			return -1;
		if (strcmp(argv[i], "--since") == 0) {
			if (parse_since(v, &f->from_ms) != 0)
				return -1;
		} else if (strcmp(argv[i], "--until") == 0) {
			if (time_parse(v, &f->to_ms, NULL) != 0)
				return -1;
		} else if (strcmp(argv[i], "--appliance") == 0) {
			f->appliance = v;
		} else if (strcmp(argv[i], "--kind") == 0) {
			f->kind = v;
		} else if (strcmp(argv[i], "--limit") == 0) {
			f->limit = atoi(v);
		} else {
			return -1;
		}
		i++;
	}
	return 0;
}

int cmd_events(const lab *l, int argc, char **argv)
{
	events_filter f = {0};
	int follow = 0;
	ctd_err err;
	store *st;

	if (parse_args(argc, argv, &f, &follow) != 0) {
		usage();
		return 2;
	}
	char *db = xasprintf("%s/lab.db", l->dir);
	if (store_open(db, &st, &err) != 0) {
		fprintf(stderr, "ctdlab: %s\n", err.msg);
		free(db);
		return 1;
	}
	free(db);
	int rc = 0;
	do {
		json_t *evs = events_query(st, &f, &err);
		if (!evs) {
			fprintf(stderr, "ctdlab: %s\n", err.msg);
			rc = 1;
			break;
		}
		size_t i;
		json_t *ev;
		json_array_foreach(evs, i, ev) {
			print_event(ev, l->json);
			f.after_id = json_integer_value(json_object_get(ev, "id"));
		}
		json_decref(evs);
		if (follow) {
			struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
	} while (follow);
	store_close(st);
	return rc;
}
