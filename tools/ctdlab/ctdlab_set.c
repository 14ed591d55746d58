/* ctdlab_set.c - which appliances a lab runs: `ctdlab up --without NAME`
 * (what may be left out and what may not, and why), kept in
 * <dir>/run/lab.json for `status` and removed by `down`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctdlab.h"
#include "util.h"

const appliance *lab_appliance(const char *name)
{
	for (int i = 0; i < lab_nappliances; i++)
		if (strcmp(lab_appliances[i].name, name) == 0)
			return &lab_appliances[i];
	return NULL;
}

int lab_set_has(const lab_set *set, const char *name)
{
	const appliance *a = lab_appliance(name);
	return a && set->in[a - lab_appliances];
}

/* What the lab cannot run without, and why (DDI is optional: the seed's
 * note 2; SPS and IMSVA are ends of the loop a class may skip). */
static const struct {
	const char *name, *why;
} required[] = {
	{"ddan", "it analyses every sample and is the source of TMCM's objects"},
	{"tmcm", "it is the hub: SPS and IMSVA get every suspicious object from it"},
};

static int leave_out(lab_set *set, const char *name)
{
	const appliance *a = lab_appliance(name);
	if (!a) {
		fprintf(stderr, "ctdlab: up: --without: no appliance \"%s\" (ddan, ddi, tmcm, sps, "
				"imsva)\n", name);
		return -1;
	}
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (strcmp(required[i].name, name) == 0) {
			fprintf(stderr, "ctdlab: up: the lab cannot run without %s: %s\n", name,
				required[i].why);
			return -1;
		}
	set->in[a - lab_appliances] = 0;
	return 0;
}

/* `--without NAME[,NAME...]`, repeatable: 0, or 2 (message printed). */
int lab_set_parse_up(int argc, char **argv, lab_set *set)
{
	for (int i = 0; i < lab_nappliances; i++)
		set->in[i] = 1;
	for (int i = 0; i < argc; i++) {
		const char *names = strncmp(argv[i], "--without=", 10) == 0 ? argv[i] + 10
				    : strcmp(argv[i], "--without") == 0 && i + 1 < argc ? argv[++i]
											  : NULL;
		if (!names) {
			fprintf(stderr, "ctdlab: up: %s %s (usage: ctdlab up [--without NAME]...)\n",
				strcmp(argv[i], "--without") == 0 ? "a name must follow" : "unknown argument",
				argv[i]);
			return 2;
		}
		char *list = xstrdup(names), *save = NULL;
		int bad = 0;
		for (char *n = strtok_r(list, ",", &save); n && !bad; n = strtok_r(NULL, ",", &save))
			bad = leave_out(set, n) != 0;
		free(list);
		if (bad)
			return 2;
	}
	return 0;
}

static char *set_path(const lab *l)
{
	return run_file_path(l->dir, "lab", "json");
}

void lab_set_load(const lab *l, lab_set *set)
{
	char *path = set_path(l);
	json_t *saved = json_load_file(path, 0, NULL), *names = json_object_get(saved, "appliances");
	free(path);
	for (int i = 0; i < lab_nappliances; i++) {
		size_t k;
		json_t *name;
		set->in[i] = !names;
		json_array_foreach(names, k, name)
			set->in[i] |= json_is_string(name) &&
				      strcmp(json_string_value(name), lab_appliances[i].name) == 0;
	}
	json_decref(saved);
}

int lab_set_save(const lab *l, const lab_set *set)
{
	json_t *names = json_array();
	for (int i = 0; i < lab_nappliances; i++)
		if (set->in[i])
			json_array_append_new(names, json_string(lab_appliances[i].name));
	json_t *o = json_pack("{s:o}", "appliances", names);
	char *text = json_dumps(o, JSON_COMPACT), *path = set_path(l);
	ctd_err err;
	int rc = file_write_atomic(path, text, strlen(text), 0644, &err);
	if (rc != 0)
		fprintf(stderr, "ctdlab: %s\n", err.msg);
	free(path);
	free(text);
	json_decref(o);
	return rc;
}

void lab_set_forget(const lab *l)
{
	char *path = set_path(l);
	unlink(path);
	free(path);
}
