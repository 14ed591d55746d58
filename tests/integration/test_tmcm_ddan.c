/* test_tmcm_ddan.c - seed STEP 2-1..2-3 on the TMCM side with a real ddand:
 * a risky sample submitted over the DTAS API becomes a File SHA-1 SO at
 * DDAN; tmcmd, registered with that DDAN, pulls it into the Virtual Analyzer
 * Objects list on "Sync now" (scan action Log); the administrator sets Block;
 * a subscribed product's next incremental pull of TMCM's feed carries it with
 * action block. Everything over HTTPS between real processes. On the way,
 * the Automation API log query lists the object as a Virtual Analyzer
 * detection (XSOAR's list-logs).
 * Issue 16, one bad object never stops distribution: a DDAN URL sample and a
 * URL DDI carves with U+0001 leave TMCM's pulls working; a bad row already in
 * TMCM's store (old data) leaves its feed well-formed and SPS and IMSVA
 * syncing the other objects, page after page. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "dtas.h"
#include "hash.h"
#include "imsva_testutil.h"
#include "sofeed.h"
#include "testlib.h"
#include "tl_dtas.h"
#include "tl_jwt.h"
#include "tl_pcap.h"
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

/* A ddand analysing fast, and a submitter registered with it. */
static void start_ddan(proc *ddan, dtas_client *sub)
{
	const char *dargs[] = {"--port", "0", "--analysis_time", "100ms", NULL};
	start(ddan, "ddand", "ddan", dargs);
	tl_dtas_client(sub, ddan->url, info(ddan, "api_key"));
}

/* "Sync now" until TMCM's Virtual Analyzer Objects list has an object of
 * type matching q (bounded); returns it. */
static json_t *wait_va(const proc *tmcm, const char *type, const char *q)
{
	char *path = xasprintf("/api/va-objects?type=%s&q=%s", type, q);
	json_t *item = NULL;
	for (int i = 0; i < 500 && !item; i++) {
		json_decref(console(tmcm, "POST", "/api/sync", NULL, 202));
		json_t *l = console(tmcm, "GET", path, NULL, 200);
		item = json_incref(json_array_get(json_object_get(l, "items"), 0));
		json_decref(l);
		if (!item)
			usleep(20000);
	}
	free(path);
	ck_assert_msg(item != NULL, "no %s object %s reached TMCM", type, q);
	return item;
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
	dtas_client sub;
	start_ddan(&ddan, &sub);
	/* STEP 1 in short: a submitter sends a sample the lab's rules call High */
	const char *sample = "Sample SO for the TMCM test CTDLAB-RISK-HIGH\n";
	char sha1[41];
	tl_ddan_upload(&sub, sample, strlen(sample), "sample_so.doc", sha1);

	/* STEP 2-2: tmcmd registered with DDAN pulls the SO */
	const char *targs[] = {"--port", "0", "--ddan-url", ddan.url, "--ddan-api-key",
			       info(&ddan, "api_key"), "--sync-interval", "1h", NULL};
	start(&tmcm, "tmcmd", "tmcm", targs);
	json_t *item = wait_va(&tmcm, "file", sha1);
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

/* ---- issue 16: one bad object never stops distribution -------------------- */

/* TMCM's Virtual Analyzer Objects of a type: how many, and that none holds a
 * control character; the source's last pull had no error. */
static void expect_clean_va(const proc *tmcm, const char *type, size_t want)
{
	char *path = xasprintf("/api/va-objects?type=%s", type);
	json_t *l = console(tmcm, "GET", path, NULL, 200);
	json_t *items = json_object_get(l, "items");
	ck_assert_int_eq(json_array_size(items), want);
	size_t i;
	json_t *o;
	json_array_foreach(items, i, o) {
		const char *v = json_string_value(json_object_get(o, "value"));
		ck_assert_msg(!strchr(v, '\x01'), "a control character reached TMCM: %s", v);
	}
	json_decref(l);
	free(path);
	json_t *src = console(tmcm, "GET", "/api/sources", NULL, 200);
	json_t *first = json_is_array(src) ? json_array_get(src, 0)
					   : json_array_get(json_object_get(src, "items"), 0);
	ck_assert_msg(json_is_null(json_object_get(first, "last_error")), "source error: %s",
		      json_string_value(json_object_get(first, "last_error")));
	json_decref(src);
}

static void start_tmcm_on(proc *tmcm, const char *which, const char *url, const char *key)
{
	char *url_opt = xasprintf("--%s-url", which), *key_opt = xasprintf("--%s-api-key", which);
	const char *targs[] = {"--port", "0", url_opt, url, key_opt, key, "--sync-interval", "1h",
			       NULL};
	start(tmcm, "tmcmd", "tmcm", targs);
	free(url_opt);
	free(key_opt);
}

/* A URL sample with U+0001: DDAN refuses the URL as an object (its domain
 * is fine), so its feed stays well-formed and TMCM's pull goes on. */
TEST(test_ddan_url_sample_with_control_char)
{
	proc ddan, tmcm;
	dtas_client sub;
	start_ddan(&ddan, &sub);
	const char *url = "http://malicious.ctdlab.test/a\x01" "b";
	char sha1[41];
	ctd_err err = {0};
	ck_assert_msg(dtas_upload_sample(&sub, url, strlen(url), "url", 1, sha1, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(tl_ddan_wait_verdict(&sub, sha1), 3);

	start_tmcm_on(&tmcm, "ddan", ddan.url, info(&ddan, "api_key"));
	json_decref(wait_va(&tmcm, "domain", "malicious.ctdlab.test"));
	expect_clean_va(&tmcm, "url", 0);
	dtas_client_free(&sub);
	stop(&tmcm);
	stop(&ddan);
}

/* A download whose request line carries U+0001: DDI refuses that URL as an
 * object, its file, domain and IP still reach TMCM. */
TEST(test_ddi_carved_url_with_control_char)
{
	char *dir = tl_tmpdir("ddi-capture");
	char *pcap = xasprintf("%s/download.pcap", dir);
	const char *body = "Sample SO2 (harmless lab file) CTDLAB-RISK-HIGH\n";
	tl_pcap_download(pcap, "dl.lab.test", "/so\x01x.exe", body);
	const char *key = "11111111-2222-3333-4444-555555555555";
	const char *dargs[] = {"--port", "0", "--api_key", key, "--internal_va_time", "50ms",
			       "--pcap_poll", "100ms", "--interface", "ddi-none0", "--read", pcap,
			       NULL};
	proc ddi, tmcm;
	start(&ddi, "ddid", "ddi", dargs);
	start_tmcm_on(&tmcm, "ddi", ddi.url, key);
	char sha1[41];
	hash_hex(HASH_SHA1, body, strlen(body), sha1);
	str_upper(sha1);
	json_t *file = wait_va(&tmcm, "file", sha1);
	ck_assert_str_eq(json_string_value(json_object_get(file, "source")), "DDI");
	json_decref(file);
	json_decref(wait_va(&tmcm, "domain", "dl.lab.test"));
	expect_clean_va(&tmcm, "url", 0);
	stop(&tmcm);
	stop(&ddi);
	tl_rmrf(dir);
	free(dir);
	free(pcap);
}

static void add_udso(const proc *tmcm, const char *type, const char *content)
{
	char *body = xasprintf("{\"type\": \"%s\", \"content\": \"%s\", \"scan_action\": \"block\"}",
			       type, content);
	json_decref(console(tmcm, "POST", "/api/udso", body, 200));
	free(body);
}

/* Old data: an object stored before the content rules, written straight
 * into TMCM's tables as a U+0001 in place of its last character. */
static void corrupt_in_store(const proc *tmcm, const char *content)
{
	char *db_path = xasprintf("%s/lab.db", tmcm->home);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *sql = sqlite3_mprintf(
		"UPDATE tmcm_udso SET content = substr(content, 1, length(content) - 1) || char(1),"
		" feed_value = substr(feed_value, 1, length(feed_value) - 1) || char(1)"
		" WHERE content = %Q;"
		"UPDATE tmcm_feed SET value = substr(value, 1, length(value) - 1) || char(1)"
		" WHERE value = %Q;", content, content);
	char *msg = NULL;
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg);
	ck_assert_int_eq(sqlite3_changes(db), 1);
	sqlite3_free(sql);
	sqlite3_close(db);
	free(db_path);
}

static json_t *sps_sync(const proc *sps)
{
	const char *hdrs[] = {"X-API-Key: SYNCKEY", NULL};
	char *u = xasprintf("%s/api/so/sync", sps->url);
	long status;
	json_t *j = tl_http_json("POST", u, hdrs, NULL, &status);
	ck_assert_int_eq(status, 200);
	free(u);
	return j;
}

/* IMSVA's "Sync now", until it holds `objects` objects (bounded). */
static void imsva_sync(imsvad *d, long objects)
{
	long st = 0;
	json_decref(api(d, "POST", "", &st, "/api/connections/tmcm/sync"));
	ck_assert_int_eq(st, 202);
	for (int i = 0; i < 400; i++) {
		json_t *j = api(d, "GET", NULL, &st, "/api/connections/tmcm");
		long n = (long)json_integer_value(json_object_get(j, "objects"));
		json_decref(j);
		if (n == objects)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("IMSVA never held %ld objects", objects);
}

static int count_records(const so_record *r, void *cls)
{
	(void)r;
	(*(long *)cls)++;
	return 0;
}

TEST(test_bad_row_in_store_keeps_distribution)
{
	proc tmcm, sps;
	const char *targs[] = {"--port", "0", "--feed_page_size", "2", "--sync-interval", "1h", NULL};
	start(&tmcm, "tmcmd", "tmcm", targs);
	add_udso(&tmcm, "domain", "one.lab");
	add_udso(&tmcm, "url", "http://old.lab/x");
	add_udso(&tmcm, "domain", "two.lab");
	add_udso(&tmcm, "domain", "three.lab");
	corrupt_in_store(&tmcm, "http://old.lab/x");

	/* the feed parses, page after page, with every object but the bad one */
	dtas_client probe;
	tl_dtas_client(&probe, tmcm.url, info(&tmcm, "imsva_feed_key"));
	int64_t cursor = 0;
	long n = 0;
	ctd_err err = {0};
	ck_assert_msg(sofeed_pull(&probe, &cursor, count_records, &n, &err) == 3, "%s", err.msg);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(cursor, 4);
	dtas_client_free(&probe);

	const char *sargs[] = {"--port", "0", "--wrs_port", "0", "--api_key", "SYNCKEY",
			       "--sync_interval", "1h", "--so_source", "tmcm", "--tmcm_url", tmcm.url,
			       "--tmcm_api_key", info(&tmcm, "sps_feed_key"), NULL};
	start(&sps, "spsd", "sps", sargs);
	json_t *st = sps_sync(&sps);
	ck_assert_str_eq(json_string_value(json_object_get(st, "last_error")), "");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "object_count")), 3);
	json_decref(st);
	imsvad im = {0};
	const char *iargs[] = {"--tmcm_url", tmcm.url, "--tmcm_api_key",
			       info(&tmcm, "imsva_feed_key"), "--tmcm_sync_interval", "1h", NULL};
	imsvad_start(&im, iargs);
	imsva_sync(&im, 3);

	/* later pages keep coming; deleting the bad object (by its stored
	 * spelling) is a change like any other */
	add_udso(&tmcm, "domain", "four.lab");
	json_decref(console(&tmcm, "DELETE", "/api/udso?type=url&content=http%3A%2F%2Fold.lab%2F%01",
			    NULL, 200));
	add_udso(&tmcm, "domain", "five.lab");
	st = sps_sync(&sps);
	ck_assert_str_eq(json_string_value(json_object_get(st, "last_error")), "");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "object_count")), 5);
	json_decref(st);
	imsva_sync(&im, 5);

	imsvad_stop(&im, 0);
	stop(&sps);
	stop(&tmcm);
}

TL_SUITE(.timeout = 90);
