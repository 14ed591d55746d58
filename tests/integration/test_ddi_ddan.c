/* test_ddi_ddan.c - ddid submitting carved files to a DDAN over the DTAS API.
 * The tests' fake DDAN (tests/lib/fakepeer.c) checks every X-DTAS-Checksum, answers
 * check_duplicate_sample, takes upload_sample and reports verdicts. While it
 * is down, ddid pauses (backoff) and logs one system event; once it is back
 * the queued file is uploaded and its verdict makes the detection and SOs. A
 * sample DDAN already knows is not uploaded again. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "dtas.h"
#include "fakepeer.h"
#include "hash.h"
#include "store.h"
#include "testlib.h"
#include "util.h"
#include "ddi/ddi_pcapgen.h"

#define DDI_KEY "33333333-4444-5555-6666-777777777777"
#define DDAN_KEY "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"

/* ---- the fake DDAN (tests/lib/fakepeer.c) */

static void set_down(int down)
{
	pthread_mutex_lock(&peer_lock);
	peer.down = down;
	pthread_mutex_unlock(&peer_lock);
}

/* ---- helpers */

static void write_download_pcap(const char *path, const char *file, const char *body)
{
	ddi_pcapgen *g = ddi_pcapgen_open(path, DLT_EN10MB);
	ck_assert_ptr_nonnull(g);
	char *req = xasprintf("GET %s HTTP/1.1\r\nHost: so2.lab.test\r\n\r\n", file);
	char *resp = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
	ddi_pcapgen_session s = {"10.0.0.5", "10.0.0.80", 40000, 80, req, strlen(req), resp,
				 strlen(resp), 0, 0, 0, 0};
	ck_assert_int_eq(ddi_pcapgen_add(g, &s), 0);
	ddi_pcapgen_close(g);
	free(req);
	free(resp);
}

static json_t *api(const char *url, const char *path)
{
	char *u = xasprintf("%s%s", url, path);
	const char *h[] = {"X-Api-Key: " DDI_KEY, NULL};
	long st;
	json_t *j = tl_http_json("GET", u, h, NULL, &st);
	ck_assert_int_eq(st, 200);
	free(u);
	return j;
}

/* Poll /api/status until analysis.<field> equals want (bounded). */
static void wait_status(const char *url, const char *field, json_int_t want)
{
	for (int i = 0; i < 300; i++) {
		json_t *s = api(url, "/api/status");
		json_t *v = json_object_get(json_object_get(s, "analysis"), field);
		json_int_t got = json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
		json_decref(s);
		if (got == want)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("analysis.%s never became %lld", field, (long long)want);
}

TEST(test_submit_backoff_and_duplicates)
{
	ctd_err err;
	char ddan_url[64];
	http_server *ddan = peer_start(ddan_url, sizeof ddan_url);
	ck_assert_msg(ddan != NULL, "the fake DDAN did not start");
	pthread_mutex_lock(&peer_lock);
	snprintf(peer.key, sizeof peer.key, "%s", DDAN_KEY);
	peer.brief_status = 1; /* a sample it does not have: not found */
	peer.brief_risk = -1;
	peer.down = 1;
	pthread_mutex_unlock(&peer_lock);

	char *home = tl_tmpdir("ddi-ddan");
	char *pcap = xasprintf("%s/so2.pcap", home);
	const char *so2 = "Sample SO2 for DDAN. CTDLAB-RISK-HIGH\n";
	write_download_pcap(pcap, "/so2.exe", so2);
	const char *args[] = {"--port", "0", "--api_key", DDI_KEY, "--capture", "no", "--ddan_url",
			      ddan_url, "--ddan_api_key", DDAN_KEY, "--ddan_backoff", "300ms",
			      "--ddan_poll", "50ms", "--read", pcap, NULL};
	pid_t pid = tl_spawn_daemon("ddid", home, args);
	json_t *ready = tl_wait_ready(home, "ddi", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddid did not become ready (see %s/ddid.log)", home);
	char *url = xstrdup(tl_listener(ready, "https"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ready, "info"), "va_mode")),
			 "ddan");
	json_decref(ready);

	/* DDAN down: DDI deems it down, pauses, keeps the file queued */
	wait_status(url, "ddan_down", 1);
	json_t *files = api(url, "/api/files");
	json_t *f = json_array_get(json_object_get(files, "files"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "state")), "queued");
	json_decref(files);

	/* back up: registered, uploaded once, verdict High, SOs */
	set_down(0);
	wait_status(url, "verdicts", 1);
	wait_status(url, "ddan_down", 0);
	json_t *d = api(url, "/api/detections");
	json_t *det = json_array_get(json_object_get(d, "detections"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(det, "risk_level")), "High");
	ck_assert_str_eq(json_string_value(json_object_get(det, "url")), "http://so2.lab.test/so2.exe");
	/* the fake DDAN has no get_report: the threat names the risk */
	ck_assert_str_eq(json_string_value(json_object_get(det, "threat")), "Virtual Analyzer: High risk");
	json_decref(d);
	json_t *sos = api(url, "/api/suspicious_objects?type=FILE");
	char sha1[SHA1_HEX_LEN];
	hash_hex(HASH_SHA1, so2, strlen(so2), sha1);
	str_upper(sha1);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(sos, "suspicious_objects"), 0), "value")),
			 sha1);
	json_decref(sos);
	pthread_mutex_lock(&peer_lock);
	ck_assert_int_eq(peer.uploads, 1);
	ck_assert_int_ge(peer.registers, 1);
	ck_assert_int_eq(peer.bad_checksums, 0);
	pthread_mutex_unlock(&peer_lock);

	/* a sample DDAN already analysed is not uploaded again */
	const char *other = "another lab file CTDLAB-RISK-HIGH, known to DDAN\n";
	char osha[SHA1_HEX_LEN];
	hash_hex(HASH_SHA1, other, strlen(other), osha);
	str_upper(osha);
	pthread_mutex_lock(&peer_lock);
	snprintf(peer.known[peer.nknown++], sizeof peer.known[0], "%s", osha);
	pthread_mutex_unlock(&peer_lock);
	char *pcap2 = xasprintf("%s/pcap/known.pcap", home), *tmp = xasprintf("%s/known.tmp", home);
	write_download_pcap(tmp, "/other.bin", other);
	ck_assert_int_eq(rename(tmp, pcap2), 0);
	wait_status(url, "verdicts", 2);
	wait_status(url, "duplicates", 1);
	pthread_mutex_lock(&peer_lock);
	ck_assert_int_eq(peer.uploads, 1);
	ck_assert_int_eq(peer.bad_checksums, 0);
	pthread_mutex_unlock(&peer_lock);

	/* one system event for the outage, one for the recovery */
	char *db = xasprintf("%s/lab.db", home);
	store *st;
	ck_assert_int_eq(store_open(db, &st, &err), 0);
	events_filter ef = {.appliance = "ddi", .kind = "ddan.*"};
	json_t *ev = events_query(st, &ef, &err);
	ck_assert_int_eq(json_array_size(ev), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "kind")),
			 "ddan.unreachable");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "kind")),
			 "ddan.reachable");
	json_decref(ev);
	store_close(st);

	ck_assert_int_eq(tl_stop(pid, 5000), 0);
	peer_stop(ddan);
	free(db);
	free(pcap2);
	free(tmp);
	free(pcap);
	free(url);
	tl_rmrf(home);
	free(home);
}

TL_SUITE(.timeout = 60);
