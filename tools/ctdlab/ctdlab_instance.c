/* ctdlab_instance.c - many labs on one host: `ctdlab --instance N` (or
 * $CTDLAB_INSTANCE) gives lab N its own data directory, <dir>-N, and shifts
 * every listening port of its daemons by 10*N, so labs 0..99 run side by side
 * (a trainee each, a CI job each). Instance 0 is the lab as it always was.
 * The ports reach the daemons as CTDLAB_<APPLIANCE>_<OPTION> in the
 * environment `ctdlab up` starts them with; every other command finds the
 * instance's ports in its ready files, under its directory.
 *
 * DDI's capture filter leaves IMSVA's SMTP port out (ddid's `bpf` default
 * names 2525), so the seed's mails are not carved as DDI objects; when that
 * port is moved (an instance, or the lab config) the filter moves with it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctdlab.h"
#include "config.h"
#include "util.h"

#define INSTANCE_MAX 99
#define INSTANCE_PORT_STEP 10 /* the five appliances' ports span 8443..8447 */

/* Every listening port of the five daemons and the default of its option
 * (their option tables, mocks/<x>/<x>d.c). Shifted by 10*N no two collide
 * for N < 100, within an instance or across instances. */
static const struct instance_port {
	const char *appliance, *option;
	int port;
} instance_ports[] = {
	{"ddan", "port", 8443},      {"ddi", "port", 8446},       {"ddi", "download_port", 8447},
	{"tmcm", "port", 8444},      {"sps", "port", 4343},       {"sps", "wrs_port", 5274},
	{"imsva", "port", 8445},     {"imsva", "smtp_port", 2525},
};

static int parse_instance(const char *text, int *n)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > INSTANCE_MAX) {
		fprintf(stderr, "ctdlab: --instance: a number from 0 to %d, got %s\n", INSTANCE_MAX,
			text);
		return -1;
	}
	*n = (int)v;
	return 0;
}

/* CTDLAB_<SECTION>_<OPTION>: how the environment sets a daemon's option. */
static char *option_env_name(const char *section, const char *option)
{
	char *env = xasprintf("CTDLAB_%s_%s", section, option);
	str_upper(env);
	return env;
}

/* Export the shifted port of each option the user has not set: one set in
 * the environment or the lab config stays as given. */
static void export_ports(const lab *l, int n)
{
	for (size_t i = 0; i < sizeof instance_ports / sizeof instance_ports[0]; i++) {
		const struct instance_port *p = &instance_ports[i];
		char *in_config = l->config ? cfg_ini_get(l->config, p->appliance, p->option) : NULL;
		if (!in_config) {
			char *env = option_env_name(p->appliance, p->option);
			char *port = xasprintf("%d", p->port + INSTANCE_PORT_STEP * n);
			setenv(env, port, 0);
			free(env);
			free(port);
		}
		free(in_config);
	}
}

/* The value of [section] option the daemon will get: the lab config's,
 * else the environment's (freed by the caller; NULL when neither sets it). */
static char *option_in_effect(const lab *l, const char *section, const char *option)
{
	char *v = l->config ? cfg_ini_get(l->config, section, option) : NULL;
	if (v)
		return v;
	char *env = option_env_name(section, option);
	const char *e = getenv(env);
	free(env);
	return e ? xstrdup(e) : NULL;
}

/* DDI's filter, unless set: every TCP flow but IMSVA's SMTP port in effect
 * (an ephemeral SMTP port is not known before imsvad binds it). */
static void export_ddi_filter(const lab *l)
{
	char *filter = option_in_effect(l, "ddi", "bpf");
	char *smtp = option_in_effect(l, "imsva", "smtp_port");
	if (!filter && smtp && atoi(smtp) > 0) {
		char *mine = xasprintf("tcp and not port %d", atoi(smtp));
		setenv("CTDLAB_DDI_BPF", mine, 0);
		free(mine);
	}
	free(filter);
	free(smtp);
}

int lab_instance_apply(lab *l, char **dir)
{
	int n = 0;
	if (l->instance && parse_instance(l->instance, &n) != 0)
		return -1;
	if (n == 0) {
		export_ddi_filter(l);
		return 0;
	}
	size_t len = strlen(*dir);
	while (len > 1 && (*dir)[len - 1] == '/') /* --dir lab/ is lab-N, not lab/-N */
		len--;
	char *own = xasprintf("%.*s-%d", (int)len, *dir, n);
	free(*dir);
	*dir = own;
	export_ports(l, n);
	export_ddi_filter(l);
	return 0;
}
