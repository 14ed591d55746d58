/* test_tmcm_ddan.c - seed STEP 2-1..2-3 on the TMCM side with a real ddand:
 * a risky sample submitted over the DTAS API becomes a File SHA-1 SO at
 * DDAN; tmcmd, registered with that DDAN, pulls it into the Virtual Analyzer
 * Objects list on "Sync now" (scan action Log); the administrator sets Block;
 * a subscribed product's next incremental pull of TMCM's feed carries it with
 * action block. Everything over HTTPS between real processes. On the way,
 * the Automation API log query lists the object as a Virtual Analyzer
 * detection (XSOAR's list-logs). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dtas.h"
#include "sofeed.h"
#include "testlib.h"
#include "tl_dtas.h"
#include "tl_jwt.h"
#include "util.h"

typedef struct proc {
	char *home;
	pid_t pid;
	json_t *ready;
	const char *url;
} proc;

static void start(proc *p, const char *daemon, const char *appliance, const char *const *args)
{
	p->home = tl_tmpdir(appliance);
	p->pid = tl_spawn_daemon(daemon, p->home, args);
	p->ready = tl_wait_ready(p->home, appliance, TL_START_MS);
	ck_assert_msg(p->ready != NULL, "%s did not become ready", daemon);
	p->url = tl_listener(p->ready, "https");
	ck_assert_ptr_nonnull(p->url);
}

static void stop(proc *p)
{
	ck_assert_int_eq(tl_stop(p->pid, 10000), 0);
	json_decref(p->ready);
	tl_rmrf(p->home);
	free(p->home);
}

static const char *info(const proc *p, const char *key)
{
	return json_string_value(json_object_get(json_object_get(p->ready, "info"), key));
}

static json_t *console(const proc *tmcm, const char *method, const char *path, const char *body,
		       long want)
{
	char *hdr = xasprintf("X-Api-Key: %s", info(tmcm, "console_password"));
	const char *headers[] = {hdr, "Content-Type: application/json", NULL};
	char *url = xasprintf("%s%s", tmcm->url, path);
	long status;
	json_t *j = tl_http_json(method, url, headers, body, &status);
	ck_assert_msg(status == want, "%s %s: HTTP %ld", method, path, status);
	free(url);
	free(hdr);
	return j;
}

/* XSOAR's list-logs for Virtual Analyzer Detections: Data.Logs[] (asserted
 * to be an array; caller decrefs the envelope). */
static json_t *sandbox_logs(const proc *tmcm, json_t **env)
{
	const char *target = "/WebApp/api/v1/logs/Sandbox_Detection_Log?output_format=1&"
			     "page_token=0&since_time=0";
	char *auth = tl_jwt_bearer(&TL_JWT_XSOAR, info(tmcm, "app_id"), info(tmcm, "api_key"), "GET",
				   target, NULL);
	const char *headers[] = {auth, "Content-Type: application/json;charset=utf-8", NULL};
	char *url = xasprintf("%s%s", tmcm->url, target);
	long status;
	*env = tl_http_json("GET", url, headers, NULL, &status);
	ck_assert_int_eq(status, 200);
	free(url);
	free(auth);
	json_t *logs = json_object_get(json_object_get(*env, "Data"), "Logs");
	ck_assert(json_is_array(logs));
	return logs;
}

typedef struct found {
	const char *sha1;
	int seen;
	char action[12];
	int64_t id;
} found;

static int look(const so_record *r, void *cls)
{
	found *f = cls;
	if (strcmp(r->type, "FILE") == 0 && strcmp(r->value, f->sha1) == 0) {
		f->seen++;
		snprintf(f->action, sizeof f->action, "%s", r->action);
		f->id = r->id;
	}
	return 0;
}

TEST(test_ddan_so_to_tmcm_block)
{
	proc ddan, tmcm;
	const char *dargs[] = {"--port", "0", "--analysis_time", "100ms", NULL};
	start(&ddan, "ddand", "ddan", dargs);

	/* STEP 1 in short: a submitter sends a sample the lab's rules call High */
	dtas_client sub;
	tl_dtas_client(&sub, ddan.url, info(&ddan, "api_key"));
	const char *sample = "Sample SO for the TMCM test CTDLAB-RISK-HIGH\n";
	char sha1[41];
	tl_ddan_upload(&sub, sample, strlen(sample), "sample_so.doc", sha1);

	/* STEP 2-2: tmcmd registered with DDAN pulls the SO */
	const char *targs[] = {"--port", "0", "--ddan-url", ddan.url, "--ddan-api-key",
			       info(&ddan, "api_key"), "--sync-interval", "1h", NULL};
	start(&tmcm, "tmcmd", "tmcm", targs);
	char *path = xasprintf("/api/va-objects?type=file&q=%s", sha1);
	json_t *item = NULL;
	for (int i = 0; i < 500 && !item; i++) {
		json_decref(console(&tmcm, "POST", "/api/sync", NULL, 202));
		json_t *l = console(&tmcm, "GET", path, NULL, 200);
		item = json_incref(json_array_get(json_object_get(l, "items"), 0));
		json_decref(l);
		if (!item)
			usleep(20000);
	}
	free(path);
	ck_assert_msg(item != NULL, "the DDAN SO %s never reached TMCM", sha1);
	ck_assert_str_eq(json_string_value(json_object_get(item, "value")), sha1);
	ck_assert_str_eq(json_string_value(json_object_get(item, "source")), "DDAN");
	ck_assert_str_eq(json_string_value(json_object_get(item, "risk")), "High");
	ck_assert_str_eq(json_string_value(json_object_get(item, "action")), "log");
	json_decref(item);

	/* the Automation API log query lists it as a Virtual Analyzer detection,
	 * one CEF line with the object in cs2 */
	json_t *env;
	json_t *logs = sandbox_logs(&tmcm, &env);
	ck_assert_int_eq(json_array_size(logs), 1);
	const char *line = json_string_value(json_array_get(logs, 0));
	ck_assert_ptr_nonnull(strstr(line, "CEF:0|Trend Micro|Apex Central|2019|VA:FILE|Virtual "
					   "Analyzer Detections|8|"));
	char *want = xasprintf(" cs2=%s ", sha1);
	ck_assert_ptr_nonnull(strstr(line, want));
	ck_assert_ptr_nonnull(strstr(line, " deviceFacility=DDAN "));
	free(want);
	json_decref(env);

	/* a product takes the list: the SO with action log */
	dtas_client imsva;
	tl_dtas_client(&imsva, tmcm.url, info(&tmcm, "imsva_feed_key"));
	ctd_err err = {0};
	int64_t cursor = 0;
	found f = {.sha1 = sha1};
	ck_assert_int_ge(sofeed_pull(&imsva, &cursor, look, &f, &err), 1);
	ck_assert_int_eq(f.seen, 1);
	ck_assert_str_eq(f.action, "log");

	/* STEP 2-3: Block; the next incremental pull has it, with a new ID */
	char *body = xasprintf("{\"values\": [\"%s\"], \"action\": \"block\"}", sha1);
	json_decref(console(&tmcm, "POST", "/api/va-objects/action", body, 200));
	free(body);
	found g = {.sha1 = sha1};
	ck_assert_int_eq(sofeed_pull(&imsva, &cursor, look, &g, &err), 1);
	ck_assert_int_eq(g.seen, 1);
	ck_assert_str_eq(g.action, "block");
	ck_assert_int_gt(g.id, f.id);

	dtas_client_free(&imsva);
	dtas_client_free(&sub);
	stop(&tmcm);
	stop(&ddan);
}

TL_SUITE(.timeout = 60);
