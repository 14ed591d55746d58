/* ddid.c - the DDI (network sensor) daemon: boots the shared runtime and serves
 * /healthz. The appliance's own protocol grows here. */
#include <stddef.h>
#include "daemon.h"

typedef struct ddi_config {
	daemon_config base;
} ddi_config;

static const cfg_opt ddi_opts[] = {
	DAEMON_CFG_OPTS(ddi_config, "8446", "yes"),
};
static const cfg_section ddi_section = {"ddi", ddi_opts, CFG_NOPTS(ddi_opts)};

int main(int argc, char **argv)
{
	ddi_config cfg;
	ctd_daemon d;

	daemon_boot(&d, "ddi", &ddi_section, &cfg, argc, argv);
	daemon_http_start(&d, NULL, 0, NULL, 0);
	daemon_ready(&d);
	daemon_run(&d);
	daemon_shutdown(&d);
	cfg_free(&ddi_section, &cfg);
	return 0;
}
