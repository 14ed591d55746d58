/* imsvad.c - the IMSVA (mail gateway) daemon: boots the shared runtime and serves
 * /healthz. The appliance's own protocol grows here. */
#include <stddef.h>
#include "daemon.h"

typedef struct imsva_config {
	daemon_config base;
} imsva_config;

static const cfg_opt imsva_opts[] = {
	DAEMON_CFG_OPTS(imsva_config, "8445", "yes"),
};
static const cfg_section imsva_section = {"imsva", imsva_opts, CFG_NOPTS(imsva_opts)};

int main(int argc, char **argv)
{
	imsva_config cfg;
	ctd_daemon d;

	daemon_boot(&d, "imsva", &imsva_section, &cfg, argc, argv);
	daemon_http_start(&d, NULL, 0, NULL, 0);
	daemon_ready(&d);
	daemon_run(&d);
	daemon_shutdown(&d);
	cfg_free(&imsva_section, &cfg);
	return 0;
}
