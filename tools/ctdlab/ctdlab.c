/* ctdlab.c - the lab CLI: parse global options and dispatch a command.
 *
 *   ctdlab [--dir DIR] [--config FILE] [--json] up|down|status ... */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctdlab.h"
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
	const char *help;
} commands[] = {
	{"up", cmd_up, "start the five daemons and wait until every one is healthy"},
	{"down", cmd_down, "stop the lab's daemons"},
	{"status", cmd_status, "show each appliance: pid, listeners, keys, health"},
	{"reset", cmd_reset, "stop the lab and bring its data directory back to a first start"},
	{"send", cmd_send, "send a test mail (attachments, URLs) to IMSVA over SMTP"},
	{"events", cmd_events, "show the shared timeline (filters, --follow, --json)"},
	{"drill", cmd_drill, "run the seed's four-step check-out drill and report (step1..4|all)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ctdlab [--dir DIR] [--config FILE] [--json] COMMAND [ARGS]\n\n"
		     "  --dir DIR      lab data directory (default $CTDLAB_HOME or ./var)\n"
		     "  --config FILE  lab INI file given to every daemon\n"
		     "  --json         machine-readable output\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
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

int main(int argc, char **argv)
{
	lab l = {.dir = getenv("CTDLAB_HOME"), .config = getenv("CTDLAB_CONFIG")};
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			l.json = 1;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			l.dir = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			l.config = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "ctdlab: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!l.dir || !*l.dir)
		l.dir = "./var";
	/* Absolute from here on: daemons and tools the lab starts may run
	 * elsewhere (dtascli works in its own directory). */
	char *dir = absolute_path(l.dir);
	l.dir = dir;
	char *bindir = own_bindir();
	l.bindir = bindir;
	int rc = 2;
	size_t c = 0;
	for (; c < sizeof commands / sizeof commands[0]; c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			break;
	if (c < sizeof commands / sizeof commands[0])
		rc = commands[c].run(&l, argc - i - 1, argv + i + 1);
	else
		fprintf(stderr, "ctdlab: unknown command %s (see ctdlab --help)\n", argv[i]);
	free(bindir);
	free(dir);
	return rc;
}
