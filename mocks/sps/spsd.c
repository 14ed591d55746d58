/* spsd.c - the SPS (web reputation) daemon: boots the shared runtime and serves
 * /healthz. The appliance's own protocol grows here. */
#include <stddef.h>
#include "daemon.h"

typedef struct sps_config {
	daemon_config base;
} sps_config;

static const cfg_opt sps_opts[] = {
	DAEMON_CFG_OPTS(sps_config, "4343", "yes"),
};
static const cfg_section sps_section = {"sps", sps_opts, CFG_NOPTS(sps_opts)};

int main(int argc, char **argv)
{
	sps_config cfg;
	ctd_daemon d;

	daemon_boot(&d, "sps", &sps_section, &cfg, argc, argv);
	daemon_http_start(&d, NULL, 0, NULL, 0);
	daemon_ready(&d);
	daemon_run(&d);
	daemon_shutdown(&d);
	cfg_free(&sps_section, &cfg);
	return 0;
}
