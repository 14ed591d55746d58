/* test_ddi_step3.c - seed STEP 3 end to end with live loopback capture: the
 * whole lab up (`ctdlab up`, ephemeral ports), then `ctdlab drill step3`:
 * DDI sees the Sample SO2 download on the wire and makes its SO, TMCM syncs
 * it from DDI and sets Block, IMSVA syncs and quarantines the mailed SO2 by
 * the TMCM suspicious file rule. DDI's filter leaves out IMSVA's SMTP port,
 * as the lab default does for port 2525. Skips, saying why, where the lab has
 * no drill yet or this host cannot capture. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "util.h"

static int ctdlab(const char *dir, const char *const *args, char **out)
{
	const char *argv[16];
	int n = 0;
	char *bin = tl_bin("ctdlab");
	argv[n++] = bin;
	argv[n++] = "--dir";
	argv[n++] = dir;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	int rc = tl_run(argv, out);
	free(bin);
	return rc;
}

static json_t *find_check(json_t *report, const char *id)
{
	size_t i, k;
	json_t *step, *c;
	json_array_foreach(json_object_get(report, "steps"), i, step)
	json_array_foreach(json_object_get(step, "checks"), k, c)
	if (!strcmp(json_string_value(json_object_get(c, "id")), id))
		return c;
	return NULL;
}

/* The failed checks' texts, for a short failure message. */
static const char *failures(json_t *report, const char *out)
{
	static char buf[2048];
	size_t i, k, n = 0;
	json_t *step, *c;
	buf[0] = '\0';
	json_array_foreach(json_object_get(report, "steps"), i, step)
	json_array_foreach(json_object_get(step, "checks"), k, c)
	if (!json_is_true(json_object_get(c, "ok")) && n < sizeof(buf) - 1)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[%s] %s ",
				      json_string_value(json_object_get(c, "id")),
				      json_string_value(json_object_get(c, "text")));
	return buf[0] ? buf : out;
}

static char *dir;

/* Unchecked fixture: runs in the parent, so the lab comes down even when a
 * check fails in the forked test. */
static void lab_dir(void)
{
	dir = tl_tmpdir("ddi-step3");
}

static void lab_down(void)
{
	char *out = NULL;
	const char *down[] = {"down", NULL};
	ctdlab(dir, down, &out);
	free(out);
	tl_rmrf(dir);
	free(dir);
}

TEST(test_step3_live)
{
	char *out = NULL;
	const char *help[] = {"--help", NULL};
	ctdlab(dir, help, &out);
	int has_drill = out && strstr(out, "drill");
	free(out);
	if (!has_drill) {
		fprintf(stderr, "SKIP test_step3_live: this ctdlab has no drill command yet\n");
		return;
	}
	static const char *ports[] = {"DDAN_PORT", "DDI_PORT", "TMCM_PORT", "SPS_PORT",
				      "IMSVA_PORT", "SPS_WRS_PORT"};
	for (size_t i = 0; i < 6; i++) {
		char *var = xasprintf("CTDLAB_%s", ports[i]);
		setenv(var, "0", 1);
		free(var);
	}
	int smtp = tl_free_port();
	char *smtp_port = xasprintf("%d", smtp), *bpf = xasprintf("tcp and not port %d", smtp);
	setenv("CTDLAB_IMSVA_SMTP_PORT", smtp_port, 1);
	setenv("CTDLAB_DDI_CAPTURE", "yes", 1);
	setenv("CTDLAB_DDI_BPF", bpf, 1);
	const char *up[] = {"up", NULL};
	ck_assert_msg(ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);

	const char *drill[] = {"--json", "drill", "--timeout", "60", "step3", NULL};
	int rc = ctdlab(dir, drill, &out);
	const char *start = strchr(out, '{');
	json_t *r = start ? json_loads(start, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	json_t *c31 = r ? find_check(r, "3-1") : NULL;
	const char *summary = json_string_value(json_object_get(c31, "text"));
	if (c31 && summary && strstr(summary, "live capture") == NULL)
		fprintf(stderr, "NOTE test_step3_live: DDI did not capture live here: %s\n", summary);
	ck_assert_msg(rc == 0, "ctdlab drill step3 failed (%d): %.1500s", rc, failures(r, out));
	ck_assert_ptr_nonnull(c31);
	ck_assert(json_is_true(json_object_get(c31, "ok")));
	ck_assert(json_is_true(json_object_get(find_check(r, "3-5"), "ok")));
	json_decref(r);
	free(out);
	free(bpf);
	free(smtp_port);
}

TL_SUITE(.timeout = 300, .suite_setup = lab_dir, .suite_teardown = lab_down);
