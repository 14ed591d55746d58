/* ddand.c - the DDAN (sandbox) daemon: boots the shared runtime and serves
 * /healthz. The appliance's own protocol grows here. */
#include <stddef.h>
#include "daemon.h"

typedef struct ddan_config {
	daemon_config base;
} ddan_config;

static const cfg_opt ddan_opts[] = {
	DAEMON_CFG_OPTS(ddan_config, "8443", "yes"),
};
static const cfg_section ddan_section = {"ddan", ddan_opts, CFG_NOPTS(ddan_opts)};

int main(int argc, char **argv)
{
	ddan_config cfg;
	ctd_daemon d;

	daemon_boot(&d, "ddan", &ddan_section, &cfg, argc, argv);
	daemon_http_start(&d, NULL, 0, NULL, 0);
	daemon_ready(&d);
	daemon_run(&d);
	daemon_shutdown(&d);
	cfg_free(&ddan_section, &cfg);
	return 0;
}
