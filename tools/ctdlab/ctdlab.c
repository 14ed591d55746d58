/* ctdlab.c - the lab CLI: parse global options and dispatch a command.
 *
 *   ctdlab [--dir DIR] [--instance N] [--config FILE] [--profile P] [--json] up|down|status ...
 *
 * Global options may also follow the command (`ctdlab up --dir X`, as
 * handouts write it); anything else that is not the command's own is an
 * error with the usage, never silently ignored. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctdlab.h"
#include "datadir.h"
#include "util.h"

const appliance lab_appliances[] = {
	{"ddan", "ddand", "DDAN (sandbox)"},
	{"ddi", "ddid", "DDI (network sensor)"},
	{"tmcm", "tmcmd", "TMCM (suspicious-object hub)"},
	{"sps", "spsd", "SPS (web reputation)"},
	{"imsva", "imsvad", "IMSVA (mail gateway)"},
};
const int lab_nappliances = sizeof lab_appliances / sizeof lab_appliances[0];

static const struct command {
	const char *name;
	int (*run)(const lab *l, int argc, char **argv);
	int takes_args; /* the command parses (and checks) its own arguments */
	const char *help;
} commands[] = {
	{"up", cmd_up, 1,
	 "start the daemons (--without NAME leaves one out), wait until every one is healthy\n"
	 "           and every link between them is up; a supervisor restarts any that dies"},
	{"down", cmd_down, 0, "stop the supervisor and the lab's daemons"},
	{"status", cmd_status, 0, "show each appliance: pid, listeners, keys, health"},
	{"reset", cmd_reset, 0, "stop the lab and bring its data directory back to a first start"},
	{"send", cmd_send, 1, "send a test mail (attachments, URLs) to IMSVA over SMTP"},
	{"events", cmd_events, 1, "show the shared timeline (filters, --follow, --json)"},
	{"snapshot", cmd_snapshot, 1,
	 "save or load the whole lab's state, while it runs (save|load FILE)"},
	{"drill", cmd_drill, 1,
	 "run the seed's four-step check-out drill and report (step1..4|all)"},
	{"fault", cmd_fault, 1, "faults on demand: add|list|clear a daemon's fault rules"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fprintf(out, "usage: ctdlab [--dir DIR] [--instance N] [--config FILE] [--profile P] [--json] COMMAND [ARGS]\n\n"
		     "  --dir DIR      lab data directory (default $CTDLAB_HOME or ./var)\n"
		     "  --instance N   lab N of many on this host (0-99, $CTDLAB_INSTANCE): its\n"
		     "                 directory is DIR-N and every port is shifted by 10*N\n"
		     "  --config FILE  lab INI file given to every daemon\n"
		     "  --profile P    timing profile of every daemon: fast (default), classroom\n"
		     "                 (each wait seconds to a minute) or realistic (vendor defaults)\n"
		     "  --json         machine-readable output\n"
		     "  (these may also follow the command: ctdlab up --dir DIR)\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
}

static char *own_bindir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return xstrdup("bin");
	exe[n] = '\0';
	return xstrdup(dirname(exe));
}

static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX];
	if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
		return xstrdup(path);
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	return xasprintf("%s/%s", cwd, path);
}

enum { OPT_NONE, OPT_TAKEN, OPT_HELP, OPT_BAD };

/* When argv[*i] is a global option: apply it to l and step *i past its value. */
static int global_option(lab *l, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		return OPT_HELP;
	if (strcmp(arg, "--json") == 0) {
		l->json = 1;
		return OPT_TAKEN;
	}
	const char **value = strcmp(arg, "--dir") == 0       ? &l->dir
			     : strcmp(arg, "--config") == 0  ? &l->config
			     : strcmp(arg, "--profile") == 0 ? &l->profile
			     : strcmp(arg, "--instance") == 0 ? &l->instance
							     : NULL;
	if (!value)
		return OPT_NONE;
	if (*i + 1 >= argc) {
		fprintf(stderr, "ctdlab: %s needs a value\n", arg);
		return OPT_BAD;
	}
	*value = argv[++*i];
	if (value == &l->profile && strcmp(*value, "fast") && strcmp(*value, "classroom") &&
	    strcmp(*value, "realistic")) {
		fprintf(stderr, "ctdlab: --profile: fast, classroom or realistic, got %s\n", *value);
		return OPT_BAD;
	}
	return OPT_TAKEN;
}

/* Take the global options out of argv wherever they stand; the command and
 * its own arguments stay, in order, in argv[0..*n). Returns OPT_HELP,
 * OPT_BAD (message printed) or OPT_NONE. */
static int parse_global_options(lab *l, int argc, char **argv, int *n)
{
	*n = 0;
	for (int i = 1; i < argc; i++) {
		int kind = global_option(l, argc, argv, &i);
		if (kind == OPT_HELP || kind == OPT_BAD)
			return kind;
		if (kind == OPT_TAKEN)
			continue;
		if (*n == 0 && argv[i][0] == '-') {
			fprintf(stderr, "ctdlab: unknown option %s\n", argv[i]);
			return OPT_BAD;
		}
		argv[(*n)++] = argv[i];
	}
	return OPT_NONE;
}

/* The command argv names, or NULL (message printed). */
static const struct command *find_command(int n, char **argv)
{
	if (n == 0) {
		fprintf(stderr, "ctdlab: no command given\n");
		return NULL;
	}
	for (size_t c = 0; c < NCOMMANDS; c++) {
		if (strcmp(argv[0], commands[c].name) != 0)
			continue;
		if (n > 1 && !commands[c].takes_args) {
			fprintf(stderr, argv[1][0] == '-' ? "ctdlab: %s: unknown option %s\n"
							  : "ctdlab: %s takes no argument, got %s\n",
				argv[0], argv[1]);
			return NULL;
		}
		return &commands[c];
	}
	fprintf(stderr, "ctdlab: unknown command %s\n", argv[0]);
	return NULL;
}

int main(int argc, char **argv)
{
	lab l = {.dir = getenv("CTDLAB_HOME"), .config = getenv("CTDLAB_CONFIG"),
		 .instance = getenv("CTDLAB_INSTANCE")};
	int n;
	switch (parse_global_options(&l, argc, argv, &n)) {
	case OPT_HELP:
		usage(stdout);
		return 0;
	case OPT_BAD:
		usage(stderr);
		return 2;
	}
	const struct command *cmd = find_command(n, argv);
	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!l.dir || !*l.dir)
		l.dir = "./var";
	/* Absolute from here on: daemons and tools the lab starts may run
	 * elsewhere (dtascli works in its own directory). */
	char *dir = absolute_path(l.dir);
	if (lab_instance_apply(&l, &dir) != 0) {
		free(dir);
		usage(stderr);
		return 2;
	}
	l.dir = dir;
	/* the lab's files hold its keys and passwords: private, like the daemons' */
	datadir_umask();
	char *bindir = own_bindir();
	l.bindir = bindir;
	int rc = cmd->run(&l, n - 1, argv + 1);
	free(bindir);
	free(dir);
	return rc;
}
