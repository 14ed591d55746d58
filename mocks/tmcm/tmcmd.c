/* tmcmd.c - the TMCM (suspicious-object hub) daemon: boots the shared runtime and serves
 * /healthz. The appliance's own protocol grows here. */
#include <stddef.h>
#include "daemon.h"

typedef struct tmcm_config {
	daemon_config base;
} tmcm_config;

static const cfg_opt tmcm_opts[] = {
	DAEMON_CFG_OPTS(tmcm_config, "8444", "yes"),
};
static const cfg_section tmcm_section = {"tmcm", tmcm_opts, CFG_NOPTS(tmcm_opts)};

int main(int argc, char **argv)
{
	tmcm_config cfg;
	ctd_daemon d;

	daemon_boot(&d, "tmcm", &tmcm_section, &cfg, argc, argv);
	daemon_http_start(&d, NULL, 0, NULL, 0);
	daemon_ready(&d);
	daemon_run(&d);
	daemon_shutdown(&d);
	cfg_free(&tmcm_section, &cfg);
	return 0;
}
