/* test_config.c - unit tests of the option tables: precedence (default < INI
 * < env < flag), profiles, every value type and its rejection message,
 * unknown flags and INI keys, --help, and cfg_ini_get for tools. */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "daemon.h"
#include "util.h"
#include "testlib.h"

typedef struct test_cfg {
	daemon_config base;
	long long smtp_port;
	long long interval_ms;
	char *mode;
	int verbose;
	char *api_key;
} test_cfg;

static const cfg_opt test_opts[] = {
	DAEMON_CFG_OPTS(test_cfg, "8445", "yes"),
	{"smtp_port", CFG_INT, offsetof(test_cfg, smtp_port), "2525", NULL, 0, 65535, NULL,
	 "SMTP listener port (0: ephemeral)"},
	{"interval", CFG_DURATION, offsetof(test_cfg, interval_ms), "5s", "10m", 1000, 86400000,
	 NULL, "sync interval", .def_classroom = "30s"},
	{"mode", CFG_ENUM, offsetof(test_cfg, mode), "a", NULL, 0, 0, "a|b|c", "a mode"},
	{"verbose", CFG_BOOL, offsetof(test_cfg, verbose), "no", NULL, 0, 0, NULL, "say more"},
	{"api_key", CFG_STR, offsetof(test_cfg, api_key), "", NULL, 0, 0, NULL, "pinned key"},
};
static const cfg_section test_section = {"imsva", test_opts, CFG_NOPTS(test_opts)};

static char tmpdir[64];
static char inipath[128];
static test_cfg cfg;

static const char *const env_vars[] = {
	"CTDLAB_CONFIG", "CTDLAB_SMTP_PORT", "CTDLAB_IMSVA_SMTP_PORT", "CTDLAB_PROFILE",
	"CTDLAB_IMSVA_PROFILE", "CTDLAB_IMSVA_INTERVAL", "CTDLAB_IMSVA_VERBOSE", "CTDLAB_HOME",
};

static void setup(void)
{
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	strcpy(tmpdir, "/tmp/ctd-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(inipath, sizeof inipath, "%s/lab.ini", tmpdir);
	memset(&cfg, 0, sizeof cfg);
}

static void teardown(void)
{
	cfg_free(&test_section, &cfg);
	unlink(inipath);
	rmdir(tmpdir);
}

static void write_ini(const char *text)
{
	ck_assert_int_eq(file_write_atomic(inipath, text, strlen(text), 0644, NULL), 0);
}

/* argv from a NULL-terminated list, program name first */
static int load(ctd_err *err, const char *const *args)
{
	char *argv[32] = {"imsvad"};
	int argc = 1;
	for (; args && args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	return cfg_load(&test_section, &cfg, argc, argv, err);
}

static void load_ok(const char *const *args)
{
	ctd_err err = {0};
	int rc = load(&err, args);
	ck_assert_msg(rc == 0, "cfg_load: %s", err.msg);
}

/* Load must fail with exactly this message. */
static void load_rejects(const char *const *args, const char *message)
{
	ctd_err err = {0};
	ck_assert_int_eq(load(&err, args), -1);
	ck_assert_int_eq(err.code, CTD_EINVAL);
	ck_assert_str_eq(err.msg, message);
	ck_assert_ptr_null(cfg.mode); /* strings freed on failure */
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(test_defaults)
{
	load_ok(NULL);
	ck_assert_str_eq(cfg.base.home, "./var");
	ck_assert_str_eq(cfg.base.db, "");
	ck_assert_int_eq(cfg.base.port, 8445);
	ck_assert_int_eq(cfg.base.tls, 1);
	ck_assert_str_eq(cfg.base.profile, "fast");
	ck_assert_int_eq(cfg.smtp_port, 2525);
	ck_assert_int_eq(cfg.interval_ms, 5000);
	ck_assert_str_eq(cfg.mode, "a");
	ck_assert_int_eq(cfg.verbose, 0);
	ck_assert_str_eq(cfg.api_key, "");
}

TEST(test_precedence)
{
	write_ini("[lab]\nsmtp_port = 900\nhome = /lab\n"
		  "[imsva]\nsmtp_port = 1000\n"
		  "[ddan]\nsmtp_port = 1\nunknown_to_us = 2\n");
	load_ok(ARGS("--config", inipath));
	ck_assert_int_eq(cfg.smtp_port, 1000); /* [imsva] beats [lab] */
	ck_assert_str_eq(cfg.base.home, "/lab");
	cfg_free(&test_section, &cfg);

	setenv("CTDLAB_SMTP_PORT", "1100", 1);
	load_ok(ARGS("--config", inipath));
	ck_assert_int_eq(cfg.smtp_port, 1100); /* env beats INI */
	cfg_free(&test_section, &cfg);

	setenv("CTDLAB_IMSVA_SMTP_PORT", "1200", 1);
	load_ok(ARGS("--config", inipath));
	ck_assert_int_eq(cfg.smtp_port, 1200); /* the section's env beats the generic one */
	cfg_free(&test_section, &cfg);

	load_ok(ARGS("--config", inipath, "--smtp-port", "1300"));
	ck_assert_int_eq(cfg.smtp_port, 1300); /* flag beats env */
	cfg_free(&test_section, &cfg);

	setenv("CTDLAB_CONFIG", inipath, 1);
	load_ok(ARGS("--smtp_port=1400", "--config=", "--SMTP-PORT=1500"));
	ck_assert_int_eq(cfg.smtp_port, 1500); /* last flag wins */
	ck_assert_str_eq(cfg.base.home, "./var"); /* --config= : no file at all */
}

TEST(test_config_from_env)
{
	write_ini("[imsva]\nmode = b\n");
	setenv("CTDLAB_CONFIG", inipath, 1);
	load_ok(NULL);
	ck_assert_str_eq(cfg.mode, "b");
}

TEST(test_profiles)
{
	load_ok(ARGS("--profile=realistic"));
	ck_assert_int_eq(cfg.interval_ms, 600000);
	cfg_free(&test_section, &cfg);

	setenv("CTDLAB_PROFILE", "realistic", 1);
	load_ok(NULL);
	ck_assert_int_eq(cfg.interval_ms, 600000);
	ck_assert_int_eq(cfg.smtp_port, 2525); /* no realistic default: the same */
	cfg_free(&test_section, &cfg);

	load_ok(ARGS("--interval", "30s")); /* an explicit value beats the profile */
	ck_assert_int_eq(cfg.interval_ms, 30000);
	cfg_free(&test_section, &cfg);
	unsetenv("CTDLAB_PROFILE");

	write_ini("[imsva]\nprofile = realistic\n");
	load_ok(ARGS("--config", inipath));
	ck_assert_int_eq(cfg.interval_ms, 600000);
	cfg_free(&test_section, &cfg);
	load_ok(ARGS("--config", inipath, "--profile", "fast"));
	ck_assert_int_eq(cfg.interval_ms, 5000);
	cfg_free(&test_section, &cfg);
	/* classroom: its own default; none given: the fast one */
	load_ok(ARGS("--config", inipath, "--profile", "classroom"));
	ck_assert_int_eq(cfg.interval_ms, 30000);
	ck_assert_int_eq(cfg.smtp_port, 2525);
}

TEST(test_types)
{
	load_ok(ARGS("--interval=2500ms", "--mode=c", "--verbose", "--tls", "off", "--api-key", "k"));
	ck_assert_int_eq(cfg.interval_ms, 2500);
	ck_assert_str_eq(cfg.mode, "c");
	ck_assert_int_eq(cfg.verbose, 1);
	ck_assert_int_eq(cfg.base.tls, 0);
	ck_assert_str_eq(cfg.api_key, "k");
	cfg_free(&test_section, &cfg);

	static const struct {
		const char *text;
		long long ms;
	} durations[] = {{"1500ms", 1500}, {"5s", 5000}, {"2m", 120000},
			 {"1h", 3600000}, {"1d", 86400000}, {"90", 90000}, {"1.5s", 1500}};
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		load_ok(ARGS("--interval", durations[i].text));
		ck_assert_int_eq(cfg.interval_ms, durations[i].ms);
		cfg_free(&test_section, &cfg);
	}
	static const struct {
		const char *text;
		int value;
	} bools[] = {{"yes", 1}, {"no", 0}, {"TRUE", 1}, {"false", 0}, {"on", 1}, {"off", 0},
		     {"1", 1}, {"0", 0}};
	for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
		setenv("CTDLAB_IMSVA_VERBOSE", bools[i].text, 1);
		load_ok(NULL);
		ck_assert_int_eq(cfg.verbose, bools[i].value);
		cfg_free(&test_section, &cfg);
	}

	/* a bool flag alone means yes; followed by a bool word it takes it */
	load_ok(ARGS("--verbose", "--tls", "no", "--mode", "b"));
	ck_assert_int_eq(cfg.verbose, 1);
	ck_assert_int_eq(cfg.base.tls, 0);
	ck_assert_str_eq(cfg.mode, "b");
	cfg_free(&test_section, &cfg);
	load_ok(ARGS("--log-json"));
	ck_assert_int_eq(cfg.base.log_json, 1);
	cfg_free(&test_section, &cfg);
	load_ok(ARGS("--api-key="));
	ck_assert_str_eq(cfg.api_key, "");
}

TEST(test_rejections)
{
	load_rejects(ARGS("--smtp-port=abc"),
		     "imsva.smtp_port: 'abc' is not an integer (from --smtp-port)");
	load_rejects(ARGS("--smtp-port=12x"),
		     "imsva.smtp_port: '12x' is not an integer (from --smtp-port)");
	setenv("CTDLAB_IMSVA_SMTP_PORT", "70000", 1);
	load_rejects(NULL, "imsva.smtp_port: 70000 is out of range 0..65535 "
			   "(from CTDLAB_IMSVA_SMTP_PORT)");
	unsetenv("CTDLAB_IMSVA_SMTP_PORT");
	load_rejects(ARGS("--smtp-port", "-1"),
		     "imsva.smtp_port: -1 is out of range 0..65535 (from --smtp-port)");
	load_rejects(ARGS("--verbose=maybe"),
		     "imsva.verbose: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0) "
		     "(from --verbose)");
	load_rejects(ARGS("--interval=5x"),
		     "imsva.interval: '5x' is not a duration (250ms, 5s, 2m, 1h, 30d; bare = s) "
		     "(from --interval)");
	load_rejects(ARGS("--interval=nan"),
		     "imsva.interval: 'nan' is not a duration (250ms, 5s, 2m, 1h, 30d; bare = s) "
		     "(from --interval)");
	load_rejects(ARGS("--interval=-5s"),
		     "imsva.interval: '-5s' is not a duration (250ms, 5s, 2m, 1h, 30d; bare = s) "
		     "(from --interval)");
	load_rejects(ARGS("--interval=500ms"),
		     "imsva.interval: 500ms is out of range 1s..1d (from --interval)");
	load_rejects(ARGS("--mode=d"), "imsva.mode: 'd' is not one of a|b|c (from --mode)");
	load_rejects(ARGS("--nope=1"), "imsva: unknown option --nope (see --help)");
	load_rejects(ARGS("stray"), "imsva: unexpected argument 'stray' (see --help)");
	load_rejects(ARGS("--smtp-port"), "imsva: --smtp-port needs a value");

	write_ini("[imsva]\nsmtp_port = 25\nsmtp_prot = 26\n");
	char *msg = xasprintf("imsva: unknown key 'smtp_prot' in [imsva] (from %s)", inipath);
	load_rejects(ARGS("--config", inipath), msg);
	free(msg);

	write_ini("[imsva]\nsmtp_port = big\n");
	msg = xasprintf("imsva.smtp_port: 'big' is not an integer (from %s [imsva])", inipath);
	load_rejects(ARGS("--config", inipath), msg);
	free(msg);

	write_ini("[imsva]\nthis line has no equals sign\n");
	msg = xasprintf("imsva: config file %s: syntax error on line 2", inipath);
	load_rejects(ARGS("--config", inipath), msg);
	free(msg);

	ctd_err err = {0};
	ck_assert_int_eq(load(&err, ARGS("--config", "/nonexistent/lab.ini")), -1);
	ck_assert_msg(strstr(err.msg, "cannot read config file /nonexistent/lab.ini"), "%s",
		      err.msg);
}

TEST(test_help)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cfg_print_help(&test_section, "imsvad", out);
	fclose(out);
	ck_assert_msg(strstr(text, "Usage: imsvad "), "%s", text);
	ck_assert_msg(strstr(text, "--smtp-port=<int>"), "%s", text);
	ck_assert_msg(strstr(text, "default 2525, range 0..65535"), "%s", text);
	ck_assert_msg(strstr(text, "default 5s, classroom 30s, realistic 10m, range 1s..1d"), "%s", text);
	ck_assert_msg(strstr(text, "--profile=<fast|classroom|realistic>"), "%s", text);
	ck_assert_msg(strstr(text, "SMTP listener port (0: ephemeral)"), "%s", text);
	ck_assert_msg(strstr(text, "env CTDLAB_IMSVA_SMTP_PORT"), "%s", text);
	ck_assert_msg(strstr(text, "default \"./var\""), "%s", text);
	free(text);

	/* --help wins even next to a bad value; stdout goes to a file here */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	FILE *sink = tmpfile();
	dup2(fileno(sink), STDOUT_FILENO);
	ctd_err err = {0};
	int rc = load(&err, ARGS("--smtp-port=bad", "--help"));
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ck_assert_int_eq(rc, 1);
	ck_assert_int_gt(ftell(sink), 100);
	fclose(sink);
}

TEST(test_ini_get)
{
	write_ini("; dtascli config\n[DTAS]\nHost = 127.0.0.1:8443\nApiKey=ABC-123\n"
		  "[other]\nhost = nope\n");
	char *host = cfg_ini_get(inipath, "dtas", "host");
	char *key = cfg_ini_get(inipath, "DTAS", "ApiKey");
	ck_assert_str_eq(host, "127.0.0.1:8443");
	ck_assert_str_eq(key, "ABC-123");
	ck_assert_ptr_null(cfg_ini_get(inipath, "DTAS", "Missing"));
	ck_assert_ptr_null(cfg_ini_get("/nonexistent/config.ini", "DTAS", "Host"));
	free(host);
	free(key);
}

TL_SUITE(.setup = setup, .teardown = teardown);
