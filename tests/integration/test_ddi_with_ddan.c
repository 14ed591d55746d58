/* test_ddi_with_ddan.c - DDI and a real ddand in one lab home: ddid carves
 * Sample SO2 from a capture file, asks DDAN check_duplicate_sample, uploads
 * it with upload_sample and takes DDAN's verdict from get_brief_report; DDAN
 * then knows the sample too; the same with a download named in Latin-1
 * (Content-Disposition: filename="r\xe9sum\xe9.exe"), which used to segfault
 * ddand (issue 16): the name reaches both as UTF-8. Where bin/ddand does not serve the DTAS API yet,
 * the test says so and skips (test_ddi_ddan.c covers the protocol with a
 * fake DDAN). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "dtas.h"
#include "hash.h"
#include "testlib.h"
#include "tl_dtas.h"
#include "util.h"
#include "ddi/ddi_pcapgen.h"

#define DDI_KEY "44444444-5555-6666-7777-888888888888"
#define DDAN_KEY "0D0D0D0D-1111-2222-3333-444444444444"

/* The seed's Sample SO2 shape: an MZ header, text, and the lab's marker. */
static const char so2[] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
			  "This program cannot be run in DOS mode.\r\n"
			  "Sample SO2 for the DDI + DDAN test. CTDLAB-RISK-HIGH\r\n";

static int ddand_speaks_dtas(void)
{
	char *bin = tl_bin("ddand"), *out = NULL;
	const char *argv[] = {bin, "--help", NULL};
	int rc = tl_run(argv, &out);
	int yes = rc == 0 && out && strstr(out, "analysis-time");
	free(out);
	free(bin);
	return yes;
}

/* DDI's objects go through its console API: the detection, then every
 * suspicious object (the list no longer shows them; removed ones stay
 * listed with include_removed=1 for the feed). */
static void remove_through_api(const char *ddi_url, json_int_t detection_id)
{
	const char *h[] = {"X-Api-Key: " DDI_KEY, NULL};
	long st;
	char *u = xasprintf("%s/api/detections/%lld", ddi_url, (long long)detection_id);
	json_decref(tl_http_json("DELETE", u, h, NULL, &st));
	ck_assert_int_eq(st, 200);
	json_decref(tl_http_json("DELETE", u, h, NULL, &st));
	ck_assert_int_eq(st, 404);
	free(u);
	u = xasprintf("%s/api/detections", ddi_url);
	json_t *j = tl_http_json("GET", u, h, NULL, &st);
	ck_assert_int_eq(json_array_size(json_object_get(j, "detections")), 0);
	json_decref(j);
	free(u);

	u = xasprintf("%s/api/detections/suspicious_objects", ddi_url);
	json_t *sos = tl_http_json("GET", u, h, NULL, &st);
	ck_assert_int_gt(json_array_size(json_object_get(sos, "suspicious_objects")), 0);
	size_t i;
	json_t *so;
	json_array_foreach(json_object_get(sos, "suspicious_objects"), i, so)
	{
		char *d = xasprintf("%s/%lld", u, (long long)json_integer_value(json_object_get(so, "id")));
		json_decref(tl_http_json("DELETE", d, h, NULL, &st));
		ck_assert_int_eq(st, 200);
		free(d);
	}
	json_decref(sos);
	j = tl_http_json("GET", u, h, NULL, &st);
	ck_assert_int_eq(json_array_size(json_object_get(j, "suspicious_objects")), 0);
	json_decref(j);
	free(u);
}

/* ddid reads a capture of one download of Sample SO2 (its response carries
 * `disposition` when not NULL) and submits it to a real ddand; both must
 * name the file `want_name`. */
static void ddi_submits_to_ddand(const char *disposition, const char *want_name)
{
	char *home = tl_tmpdir("ddi-with-ddan");
	const char *dargs[] = {"--port", "0", "--api_key", DDAN_KEY, "--analysis_time", "100ms", NULL};
	pid_t ddan = tl_spawn_daemon("ddand", home, dargs);
	json_t *ready = tl_wait_ready(home, "ddan", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddand did not become ready (see %s/ddand.log)", home);
	char *ddan_url = xstrdup(tl_listener(ready, "https"));
	json_decref(ready);

	char *pcap = xasprintf("%s/so2.pcap", home);
	ddi_pcapgen *g = ddi_pcapgen_open(pcap, DLT_EN10MB);
	const char *req = "GET /downloads/sample_so2.exe HTTP/1.1\r\nHost: pc-downloads.lab.test\r\n\r\n";
	sbuf resp = {0};
	sbuf_printf(&resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n", sizeof(so2) - 1);
	if (disposition)
		sbuf_printf(&resp, "Content-Disposition: %s\r\n", disposition);
	sbuf_puts(&resp, "\r\n");
	sbuf_append(&resp, so2, sizeof(so2) - 1);
	ddi_pcapgen_session s = {"192.168.1.50", "192.168.1.1", 50500, 80, req, strlen(req),
				 resp.data, resp.len, 0, 0, 0, 0};
	ck_assert_int_eq(ddi_pcapgen_add(g, &s), 0);
	ddi_pcapgen_close(g);
	sbuf_free(&resp);

	const char *iargs[] = {"--port", "0", "--api_key", DDI_KEY, "--capture", "no", "--ddan_url",
			       ddan_url, "--ddan_api_key", DDAN_KEY, "--ddan_poll", "50ms", "--read",
			       pcap, NULL};
	pid_t ddi = tl_spawn_daemon("ddid", home, iargs);
	ready = tl_wait_ready(home, "ddi", TL_START_MS);
	ck_assert_msg(ready != NULL, "ddid did not become ready (see %s/ddid.log)", home);
	char *ddi_url = xstrdup(tl_listener(ready, "https"));
	json_decref(ready);

	char sha1[SHA1_HEX_LEN];
	hash_hex(HASH_SHA1, so2, sizeof(so2) - 1, sha1);
	str_upper(sha1);
	char *u = xasprintf("%s/api/detections", ddi_url);
	const char *h[] = {"X-Api-Key: " DDI_KEY, NULL};
	json_t *det = NULL;
	for (int i = 0; i < 300 && !det; i++) {
		long st;
		json_t *j = tl_http_json("GET", u, h, NULL, &st);
		json_t *first = json_array_get(json_object_get(j, "detections"), 0);
		if (first)
			det = json_incref(first);
		json_decref(j);
		if (!det)
			usleep(50 * 1000);
	}
	ck_assert_msg(det != NULL, "no detection (see %s/ddid.log and ddand.log)", home);
	ck_assert_str_eq(json_string_value(json_object_get(det, "sha1")), sha1);
	ck_assert_str_eq(json_string_value(json_object_get(det, "risk_level")), "High");
	ck_assert_str_eq(json_string_value(json_object_get(det, "detected_by")), "Virtual Analyzer");
	/* the threat name comes from DDAN's report (VirusName) */
	ck_assert_str_eq(json_string_value(json_object_get(det, "threat")), "TROJ_CTDLAB.HIGH");
	ck_assert_str_eq(json_string_value(json_object_get(det, "file_name")), want_name);
	remove_through_api(ddi_url, json_integer_value(json_object_get(det, "id")));
	json_decref(det);

	/* DDAN has the sample, analysed, from DDI */
	dtas_client c;
	tl_dtas_client(&c, ddan_url, DDAN_KEY);
	ck_assert_int_eq(tl_ddan_wait_verdict(&c, sha1), 3);
	char *hdr = xasprintf("X-DTAS-SHA1: %s", sha1);
	const char *extra[] = {hdr, NULL};
	http_response r;
	ctd_err err;
	ck_assert_int_eq(dtas_call(&c, "GET", "get_report", extra, NULL, 0, NULL, 0, &r, &err), 0);
	char *want = xasprintf("<OrigFileName>%s</OrigFileName>", want_name);
	ck_assert_msg(strstr(r.body.data, want), "%s not in %s", want, r.body.data);
	free(want);
	http_response_free(&r);
	free(hdr);
	dtas_client_free(&c);

	ck_assert_int_eq(tl_stop(ddi, 5000), 0);
	ck_assert_int_eq(tl_stop(ddan, 5000), 0);
	free(u);
	free(pcap);
	free(ddi_url);
	free(ddan_url);
	tl_rmrf(home);
	free(home);
}

TEST(test_ddi_submits_to_ddand)
{
	if (!ddand_speaks_dtas()) {
		fprintf(stderr, "SKIP test_ddi_submits_to_ddand: bin/ddand has no DTAS API in this "
				"build (no --analysis-time option)\n");
		return;
	}
	ddi_submits_to_ddand(NULL, "sample_so2.exe");
}

TEST(test_ddi_latin1_download_name)
{
	if (!ddand_speaks_dtas())
		return;
	ddi_submits_to_ddand("attachment; filename=\"r\xe9sum\xe9.exe\"",
			     "r\xef\xbf\xbdsum\xef\xbf\xbd.exe");
}

TL_SUITE(.timeout = 60);
