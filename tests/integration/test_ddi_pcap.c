/* test_ddi_pcap.c - ddid on capture files the test writes (libpcap dump API):
 * --read at start, the drop folder and the upload API carve files, the
 * internal Virtual Analyzer judges them, detections and suspicious objects
 * appear in the console API and in the DTAS-style SO feed (checksum with
 * DDI's key, LastQueryID cursor). Capture on an interface that does not exist
 * is reported (status, system event) and files still work. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>
#include <sys/stat.h>
#include "dtas.h"
#include "hash.h"
#include "sofeed.h"
#include "store.h"
#include "testlib.h"
#include "tl_pcap.h"
#include "util.h"

#define KEY "11111111-2222-3333-4444-555555555555"

static char *home, *url;
static pid_t pid;

static const char *so2 = "Sample SO2 (harmless lab file) CTDLAB-RISK-HIGH\n";
static const char *eicar =
	"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static void start_ddi(const char *const *extra)
{
	const char *args[40] = {"--port", "0", "--api_key", KEY, "--internal_va_time", "50ms",
				"--pcap_poll", "100ms", "--interface", "ddi-none0"};
	int n = 10;
	for (; extra && *extra && n < 38; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	pid = tl_spawn_daemon("ddid", home, args);
	json_t *ready = tl_wait_ready(home, "ddi", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddid did not become ready (see %s/ddid.log)", home);
	url = xstrdup(tl_listener(ready, "https"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ready, "info"), "api_key")),
			 KEY);
	json_decref(ready);
}

static void setup(void)
{
	home = tl_tmpdir("ddi-pcap");
	url = NULL;
	pid = 0;
}

static void teardown(void)
{
	if (pid)
		ck_assert_int_eq(tl_stop(pid, 5000), 0);
	free(url);
	tl_rmrf(home);
	free(home);
}

static json_t *api(const char *path, long *status)
{
	char *u = xasprintf("%s%s", url, path);
	const char *hdrs[] = {"X-Api-Key: " KEY, NULL};
	json_t *j = tl_http_json("GET", u, hdrs, NULL, status);
	free(u);
	return j;
}

/* Poll a list endpoint until it holds at least `want` entries (bounded). */
static json_t *wait_list(const char *path, const char *key, size_t want)
{
	for (int i = 0; i < 300; i++) {
		long st;
		json_t *j = api(path, &st);
		ck_assert_int_eq(st, 200);
		if (json_array_size(json_object_get(j, key)) >= want)
			return j;
		json_decref(j);
		usleep(50 * 1000);
	}
	ck_abort_msg("%s never reached %zu %s (see %s/ddid.log)", path, want, key, home);
	return NULL;
}

static json_t *find_so(json_t *list, const char *type)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(list, "suspicious_objects"), i, o)
	if (!strcmp(json_string_value(json_object_get(o, "type")), type))
		return o;
	return NULL;
}

TEST(test_read_file_makes_detection_and_sos)
{
	char *pcap = xasprintf("%s/download.pcap", home);
	tl_pcap_download(pcap, "Files.Lab.Test", "/dl/sample_so2.bin?x=1", so2);
	const char *extra[] = {"--read", pcap, NULL};
	start_ddi(extra);

	json_t *d = wait_list("/api/detections", "detections", 1);
	json_t *det = json_array_get(json_object_get(d, "detections"), 0);
	char sha1[SHA1_HEX_LEN];
	hash_hex(HASH_SHA1, so2, strlen(so2), sha1);
	str_upper(sha1);
	ck_assert_str_eq(json_string_value(json_object_get(det, "sha1")), sha1);
	ck_assert_str_eq(json_string_value(json_object_get(det, "risk_level")), "High");
	ck_assert_str_eq(json_string_value(json_object_get(det, "detected_by")), "Virtual Analyzer");
	ck_assert_str_eq(json_string_value(json_object_get(det, "url")),
			 "http://Files.Lab.Test/dl/sample_so2.bin?x=1");
	ck_assert_str_eq(json_string_value(json_object_get(det, "client_ip")), "192.168.10.20");
	ck_assert_str_eq(json_string_value(json_object_get(det, "server_ip")), "198.51.100.9");
	ck_assert_str_eq(json_string_value(json_object_get(det, "file_name")), "sample_so2.bin");
	json_decref(d);

	json_t *sos = wait_list("/api/suspicious_objects", "suspicious_objects", 4);
	ck_assert_str_eq(json_string_value(json_object_get(find_so(sos, "FILE"), "value")), sha1);
	ck_assert_str_eq(json_string_value(json_object_get(find_so(sos, "URL"), "value")),
			 "http://files.lab.test/dl/sample_so2.bin?x=1");
	ck_assert_str_eq(json_string_value(json_object_get(find_so(sos, "DOMAIN"), "value")),
			 "files.lab.test");
	ck_assert_str_eq(json_string_value(json_object_get(find_so(sos, "IP"), "value")),
			 "198.51.100.9");
	ck_assert_str_eq(json_string_value(json_object_get(find_so(sos, "URL"), "risk")), "High");
	json_decref(sos);

	/* the carved file, its rule and verdict */
	long st;
	json_t *files = api("/api/files", &st);
	json_t *f = json_array_get(json_object_get(files, "files"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "rule")), "Highly suspicious files");
	ck_assert_str_eq(json_string_value(json_object_get(f, "state")), "done");
	ck_assert_str_eq(json_string_value(json_object_get(f, "analyzer")), "internal");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "size")), (json_int_t)strlen(so2));
	json_decref(files);
	free(pcap);
}

static int count_record(const so_record *r, void *cls)
{
	json_t *seen = cls;
	json_array_append_new(seen, json_pack("{s:s, s:s, s:I, s:b}", "type", r->type, "value",
					      r->value, "id", (json_int_t)r->id, "removed", r->removed));
	return 0;
}

TEST(test_so_feed_for_tmcm)
{
	char *pcap = xasprintf("%s/download.pcap", home);
	tl_pcap_download(pcap, "dl.lab.test", "/so2.exe", so2);
	/* pages of 3: the 4 objects take two pages */
	const char *extra[] = {"--read", pcap, "--feed_page_size", "3", NULL};
	start_ddi(extra);
	json_decref(wait_list("/api/suspicious_objects", "suspicious_objects", 4));

	dtas_client c = {.base_url = url, .api_key = KEY, .client_uuid = "0A0B0C0D-1111-2222-3333-444455556666",
			 .product_name = "TMCM", .hostname = "tmcm-test", .source_id = "1",
			 .source_name = "test", .protocol_version = "1.5"};
	ctd_err err;
	ck_assert_int_eq(dtas_register(&c, &err), 0);
	ck_assert_int_eq(dtas_test_connection(&c, &err), 0);
	int64_t cursor = 0;
	json_t *seen = json_array();
	ck_assert_int_eq(sofeed_pull(&c, &cursor, count_record, seen, &err), 4);
	ck_assert_int_eq(json_array_size(seen), 4);
	ck_assert_int_ge(cursor, 4);
	/* incremental: nothing new after the cursor */
	int64_t again = cursor;
	ck_assert_int_eq(sofeed_pull(&c, &again, count_record, seen, &err), 0);
	ck_assert_int_eq(again, cursor);
	json_decref(seen);

	/* the checksum is made with DDI's key: another key is refused */
	dtas_client wrong = c;
	wrong.api_key = "00000000-0000-0000-0000-000000000000";
	int64_t zero = 0;
	ck_assert_int_eq(sofeed_pull(&wrong, &zero, count_record, NULL, &err), -1);
	char *feed = xasprintf("%s%sget_black_lists", url, DTAS_PREFIX);
	http_response resp;
	ck_assert_int_eq(tl_http("GET", feed, NULL, NULL, &resp), 401);
	http_response_free(&resp);
	free(feed);
	free(pcap);
}

TEST(test_capture_unavailable_still_reads_files)
{
	start_ddi(NULL);
	long st;
	json_t *s = api("/api/status", &st);
	ck_assert_int_eq(st, 200);
	json_t *cap = json_object_get(s, "capture");
	ck_assert_str_eq(json_string_value(json_object_get(cap, "state")), "unavailable");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(cap, "reason")), "ddi-none0"));
	json_decref(s);

	/* the system event on the shared timeline */
	char *db = xasprintf("%s/lab.db", home);
	store *stq;
	ctd_err err;
	ck_assert_int_eq(store_open(db, &stq, &err), 0);
	events_filter f = {.appliance = "ddi", .kind = "capture.unavailable"};
	json_t *ev = events_query(stq, &f, &err);
	ck_assert_int_eq(json_array_size(ev), 1);
	json_decref(ev);
	store_close(stq);
	free(db);

	/* drop folder: EICAR is known malware, detected without the sandbox */
	char *tmp = xasprintf("%s/eicar.tmp", home), *dest = xasprintf("%s/pcap/eicar.pcap", home);
	tl_pcap_download(tmp, "bad.lab.test", "/eicar.com", eicar);
	ck_assert_int_eq(rename(tmp, dest), 0);
	json_t *d = wait_list("/api/detections", "detections", 1);
	json_t *det = json_array_get(json_object_get(d, "detections"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(det, "detected_by")), "Known malware");
	ck_assert_str_eq(json_string_value(json_object_get(det, "threat")), "Eicar_test_file");
	json_decref(d);
	char *done = xasprintf("%s/pcap/done/eicar.pcap", home);
	for (int i = 0; i < 200 && access(done, F_OK) != 0; i++)
		usleep(20 * 1000); /* moved once the whole file is read */
	ck_assert_int_eq(access(done, F_OK), 0);
	ck_assert_int_ne(access(dest, F_OK), 0);
	free(done);
	free(tmp);
	free(dest);
}

TEST(test_upload_api_and_bad_input)
{
	start_ddi(NULL);
	char *pcap = xasprintf("%s/up.pcap", home);
	tl_pcap_download(pcap, "up.lab.test", "/report.ps1", "Write-Host 'lab script'\n");
	char *data;
	size_t len;
	ck_assert_int_eq(file_read(pcap, &data, &len, NULL), 0);

	char *u = xasprintf("%s/api/pcaps", url);
	const char *hdrs[] = {"X-Api-Key: " KEY, "Content-Type: application/vnd.tcpdump.pcap", NULL};
	http_client_opts o = {.timeout_ms = 10000};
	http_request rq = {.method = "POST", .url = u, .headers = hdrs, .body = data, .body_len = len};
	http_response resp = {0};
	ctd_err err;
	ck_assert_int_eq(http_fetch(&o, &rq, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 200);
	json_t *sum = json_loads(resp.body.data, 0, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "files_carved")), 1);
	json_decref(sum);
	http_response_free(&resp);

	/* a script over HTTP is submitted by the default rules, and has no risk */
	json_t *files = wait_list("/api/files?state=done", "files", 1);
	json_t *f = json_array_get(json_object_get(files, "files"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "rule")), "Scripts over HTTP");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "risk")), 0);
	json_decref(files);

	/* not a capture file */
	rq.body = "definitely not a pcap";
	rq.body_len = strlen(rq.body);
	ck_assert_int_eq(http_fetch(&o, &rq, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 400);
	http_response_free(&resp);

	/* a capture cut in the middle: what was read counts, the damage is reported */
	rq.body = data;
	rq.body_len = len - 30;
	ck_assert_int_eq(http_fetch(&o, &rq, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 200);
	sum = json_loads(resp.body.data, 0, NULL);
	ck_assert(json_is_string(json_object_get(sum, "damaged")));
	json_decref(sum);
	http_response_free(&resp);

	/* the browser console is served without the key (its login form asks) */
	char *root = xasprintf("%s/", url);
	ck_assert_int_eq(tl_http("GET", root, NULL, NULL, &resp), 200);
	ck_assert_ptr_nonnull(strstr(resp.body.data, "/_console/shell/main.js"));
	http_response_free(&resp);
	free(root);

	/* the API key is required; bad parameters are refused */
	long st;
	char *s = xasprintf("%s/api/status", url);
	json_t *j = tl_http_json("GET", s, NULL, NULL, &st);
	ck_assert_int_eq(st, 401);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
			 "unauthorized");
	json_decref(j);
	json_decref(api("/api/suspicious_objects?type=HASH", &st));
	ck_assert_int_eq(st, 400);
	json_decref(api("/api/detections?limit=abc", &st));
	ck_assert_int_eq(st, 400);
	free(s);
	free(u);
	free(data);
	free(pcap);
}

/* Start bin as ddid capturing on lo, as "nobody" when the test runs as root
 * (else as it is); its capture state and reason from /api/status (malloc'd). */
static char *start_as_nobody(const char *bin, char **reason)
{
	ck_assert_int_eq(chmod(home, 0777), 0);
	char *log = xasprintf("%s/ddid.log", home);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
		dup2(fd, 1);
		dup2(fd, 2);
		/* where the user cannot be changed, ddid runs as it is (the test then
		 * notes that it may capture) */
		if (getuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
			fprintf(stderr, "test: cannot drop to nobody, running as root\n");
		execl(bin, bin, "--home", home, "--port", "0", "--api_key", KEY,
		      "--interface", "lo", (char *)NULL);
		_exit(127);
	}
	free(log);
	json_t *ready = tl_wait_ready(home, "ddi", TL_START_MS);
	ck_assert_msg(ready != NULL, "unprivileged ddid did not become ready (see %s/ddid.log)", home);
	url = xstrdup(tl_listener(ready, "https"));
	json_decref(ready);
	long st;
	json_t *s = api("/api/status", &st);
	json_t *cap = json_object_get(s, "capture");
	char *state = xstrdup(json_string_value(json_object_get(cap, "state")));
	const char *why = json_string_value(json_object_get(cap, "reason"));
	*reason = xstrdup(why ? why : "");
	json_decref(s);
	return state;
}

/* ddid started without capture privileges: as root the test drops to the
 * "nobody" user first; otherwise it already lacks them (unless the binary
 * was granted CAP_NET_RAW, which the reason then shows). */
TEST(test_no_capture_privileges)
{
	char *bin = tl_bin("ddid"), *reason;
	char *state = start_as_nobody(bin, &reason);
	if (!strcmp(state, "running"))
		fprintf(stderr, "NOTE test_no_capture_privileges: this ddid may capture (CAP_NET_RAW)\n");
	else
		ck_assert_msg(strstr(reason, "no capture privileges") != NULL, "reason: %s", reason);
	free(state);
	free(reason);
	free(bin);

	/* and it still works on capture files */
	char *tmp = xasprintf("%s/p.tmp", home), *dest = xasprintf("%s/pcap/p.pcap", home);
	tl_pcap_download(tmp, "np.lab.test", "/so2.bin", so2);
	ck_assert_int_eq(rename(tmp, dest), 0);
	json_decref(wait_list("/api/detections", "detections", 1));
	free(tmp);
	free(dest);
}

/* The container image's ddid: a non-root user, CAP_NET_RAW only as a
 * permitted file capability (setcap cap_net_raw=p). ddid raises it itself and
 * captures live. Needs root (to set the capability and become nobody) and
 * setcap; skipped otherwise. */
TEST(test_capture_with_permitted_file_capability)
{
	char *bin = tl_bin("ddid"), *copy = xasprintf("%s/ddid", home);
	char *cmd = xasprintf("cp %s %s && chmod 755 %s && setcap cap_net_raw=p %s 2>/dev/null", bin,
			      copy, copy, copy);
	if (getuid() != 0 || system(cmd) != 0) {
		fprintf(stderr, "SKIP test_capture_with_permitted_file_capability: needs root and setcap\n");
	} else {
		char *reason, *state = start_as_nobody(copy, &reason);
		ck_assert_msg(!strcmp(state, "running"), "capture %s: %s", state, reason);
		free(state);
		free(reason);
	}
	free(cmd);
	free(copy);
	free(bin);
}

TL_SUITE(.setup = setup, .teardown = teardown, .timeout = 60);
