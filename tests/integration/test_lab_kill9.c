/* test_lab_kill9.c - kill -9 under load, for every daemon: in a lab brought
 * up by `ctdlab up` (supervised), a client process keeps writing to one
 * appliance - mail to IMSVA over SMTP, samples to DDAN over the DTAS API,
 * user-defined objects to TMCM, URL rules to SPS, captures to DDI - while
 * the test kills that appliance's daemon with SIGKILL, CYCLES times. The
 * supervisor brings it back each time, on its address; afterwards every
 * write that was acknowledged (250, 2xx) is found, and the lab is healthy
 * with its links up again without anyone running a command. */
#include <check.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ddi/ddi_pcapgen.h"
#include "dtas.h"
#include "hash.h"
#include "http_client.h"
#include "testlib.h"
#include "tl_dtas.h"
#include "util.h"

#define CYCLES 20
#define WRITES_PER_CYCLE 2 /* acknowledged writes between two kills */

static char *dir;

/* What a writer needs of its appliance, from the lab's ready file. */
typedef struct target_ctx {
	char *url;        /* main listener */
	char *key;        /* API key or password */
	char *smtp_host;  /* IMSVA */
	int smtp_port;
	char *tmp;        /* DDI: where captures are written */
	dtas_client ddan; /* DDAN: a registered product */
} target_ctx;

typedef struct target {
	const char *appliance;
	/* One write; 1 when acknowledged, with its id (what shows it later). */
	int (*write)(target_ctx *t, int n, char *id, size_t idlen);
	/* 1 when the appliance has the write of id. */
	int (*found)(target_ctx *t, const char *id);
} target;

/* ---- HTTP with a key ---- */

static long post_json(const char *url, const char *auth, const char *body)
{
	char *hdr = xasprintf("Authorization: Bearer %s", auth);
	const char *headers[] = {hdr, "Content-Type: application/json", NULL};
	http_response resp;
	long st = tl_http("POST", url, headers, body, &resp);
	http_response_free(&resp);
	free(hdr);
	return st;
}

/* GET base+path with the key; 1 when the answer is 200 and holds text. */
static int get_contains(const char *base, const char *path, const char *auth, const char *text)
{
	char *url = xasprintf("%s%s", base, path), *hdr = xasprintf("Authorization: Bearer %s", auth);
	const char *headers[] = {hdr, NULL};
	http_response resp;
	long st = tl_http("GET", url, headers, NULL, &resp);
	int found = st == 200 && resp.body.data && strcasestr(resp.body.data, text);
	http_response_free(&resp);
	free(hdr);
	free(url);
	return found;
}

/* ---- IMSVA: mail over SMTP; the 250 names the queue id ---- */

static int imsva_write(target_ctx *t, int n, char *id, size_t idlen)
{
	tl_smtp *s = tl_smtp_connect(t->smtp_host, t->smtp_port);
	int ok = s && tl_smtp_read(s) == 220 && tl_smtp_cmd(s, "HELO kill9.test") == 250 &&
		 tl_smtp_cmd(s, "MAIL FROM:<k@kill9.test>") == 250 &&
		 tl_smtp_cmd(s, "RCPT TO:<user@lab.test>") == 250 && tl_smtp_cmd(s, "DATA") == 354;
	if (ok) {
		char *m = xasprintf("Subject: kill9 %d\r\n\r\nbody %d\r\n.\r\n", n, n);
		tl_smtp_raw(s, m, strlen(m));
		free(m);
		const char *q;
		ok = tl_smtp_read(s) == 250 && (q = strstr(tl_smtp_reply(s), "queued as ")) &&
		     snprintf(id, idlen, "%lld", strtoll(q + 10, NULL, 16)) > 0;
	}
	if (s)
		tl_smtp_close(s);
	return ok;
}

static int imsva_found(target_ctx *t, const char *id)
{
	static char *token;
	if (!token) { /* sessions live in the daemon: log in after the last restart */
		char *url = xasprintf("%s/api/login", t->url), *body = xasprintf(
			"{\"username\":\"admin\",\"password\":\"%s\"}", t->key);
		long st;
		json_t *j = tl_http_json("POST", url, NULL, body, &st);
		ck_assert_int_eq(st, 200);
		token = xstrdup(json_string_value(json_object_get(j, "token")));
		json_decref(j);
		free(body);
		free(url);
	}
	char *path = xasprintf("/api/messages/%s", id);
	int found = get_contains(t->url, path, token, "\"id\"");
	free(path);
	return found;
}

/* ---- DDAN: samples over the DTAS Web Service API ---- */

static int ddan_write(target_ctx *t, int n, char *id, size_t idlen)
{
	char *data = xasprintf("kill9 sample %d of %ld\n", n, (long)getpid());
	char sha1[41];
	ctd_err err;
	int ok = dtas_upload_sample(&t->ddan, data, strlen(data), "kill9.txt", 0, sha1, &err) == 0;
	if (ok)
		snprintf(id, idlen, "%s", sha1);
	free(data);
	return ok;
}

static int ddan_found(target_ctx *t, const char *id)
{
	ctd_err err;
	return dtas_is_duplicate(&t->ddan, id, &err) == 1;
}

/* ---- TMCM and SPS: a new named object through the console API ---- */

/* POST {fields..., "<name_field>": "k9-N-PID.lab.test"} to path; the name is the id. */
static int post_named(target_ctx *t, const char *path, const char *fields, int n, char *id,
		      size_t idlen)
{
	snprintf(id, idlen, "k9-%d-%ld.lab.test", n, (long)getpid());
	char *url = xasprintf("%s%s", t->url, path), *body = xasprintf("{%s\"%s\"}", fields, id);
	long st = post_json(url, t->key, body);
	free(body);
	free(url);
	return st / 100 == 2;
}

static int tmcm_write(target_ctx *t, int n, char *id, size_t idlen)
{
	return post_named(t, "/api/udso", "\"type\":\"domain\",\"scan_action\":\"log\",\"content\":",
			  n, id, idlen);
}

static int tmcm_found(target_ctx *t, const char *id)
{
	return get_contains(t->url, "/api/udso?type=domain", t->key, id);
}

static int sps_write(target_ctx *t, int n, char *id, size_t idlen)
{
	return post_named(t, "/api/lists", "\"type\":\"url\",\"action\":\"block\",\"pattern\":", n,
			  id, idlen);
}

static int sps_found(target_ctx *t, const char *id)
{
	return get_contains(t->url, "/api/lists", t->key, id);
}

/* ---- DDI: captures of a download, each file a new one ---- */

static char *download_pcap(const char *path, const char *body)
{
	ddi_pcapgen *g = ddi_pcapgen_open(path, DLT_EN10MB);
	if (!g)
		return NULL;
	const char *req = "GET /k9.ps1 HTTP/1.1\r\nHost: k9.lab.test\r\n\r\n";
	char *resp = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			       "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	ddi_pcapgen_session s = {"192.168.10.20", "198.51.100.9", 49152, 80, req, strlen(req),
				 resp, strlen(resp), 16, 1, 0, 0};
	int rc = ddi_pcapgen_add(g, &s);
	ddi_pcapgen_close(g);
	free(resp);
	char *data = NULL;
	return rc == 0 && file_read(path, &data, NULL, NULL) == 0 ? data : NULL;
}

static int ddi_write(target_ctx *t, int n, char *id, size_t idlen)
{
	char *body = xasprintf("Write-Host 'kill9 %d of %ld'\n", n, (long)getpid());
	char *pcap = xasprintf("%s/k9.pcap", t->tmp), *data = download_pcap(pcap, body);
	int ok = 0;
	if (data) {
		size_t len = 0;
		free(data);
		file_read(pcap, &data, &len, NULL);
		char *url = xasprintf("%s/api/pcaps", t->url), *key = xasprintf("X-Api-Key: %s", t->key);
		const char *headers[] = {key, "Content-Type: application/vnd.tcpdump.pcap", NULL};
		http_client_opts o = {.timeout_ms = 10000};
		http_request rq = {.method = "POST", .url = url, .headers = headers, .body = data,
				   .body_len = len};
		http_response resp = {0};
		ok = http_fetch(&o, &rq, &resp, NULL) == 0 && resp.status == 200;
		http_response_free(&resp);
		free(key);
		free(url);
		free(data);
	}
	if (ok) {
		unsigned char d[20];
		char hex[41];
		hash_raw(HASH_SHA1, body, strlen(body), d);
		hex_encode(d, sizeof d, hex);
		snprintf(id, idlen, "%s", hex);
	}
	free(pcap);
	free(body);
	return ok;
}

static int ddi_found(target_ctx *t, const char *id)
{
	return get_contains(t->url, "/api/files?limit=10000", t->key, id);
}

/* ---- the lab and the writer ---- */

static void setup(void)
{
	dir = tl_tmpdir("kill9");
	char *out = NULL;
	tl_lab_env();
	const char *up[] = {"up", NULL};
	ck_assert_msg(tl_ctdlab(dir, up, &out) == 0, "ctdlab up failed:\n%s", out);
	free(out);
}

static void teardown(void)
{
	const char *down[] = {"down", NULL};
	ck_assert_int_eq(tl_ctdlab(dir, down, NULL), 0);
	tl_rmrf(dir);
	free(dir);
}

static const char *info_str(json_t *ready, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ready, "info"), key));
}

static void target_init(target_ctx *t, const char *appliance)
{
	json_t *ready = tl_wait_ready(dir, appliance, TL_START_MS);
	ck_assert_ptr_nonnull(ready);
	memset(t, 0, sizeof *t);
	const char *url = tl_listener(ready, "https");
	t->url = xstrdup(url);
	const char *key = strcmp(appliance, "imsva") == 0 ? info_str(ready, "admin_password")
							 : info_str(ready, "api_key");
	ck_assert_ptr_nonnull(key);
	t->key = xstrdup(key);
	const char *smtp = tl_listener(ready, "smtp");
	if (smtp) { /* smtp://127.0.0.1:PORT */
		t->smtp_host = xstrndup(smtp + 7, (size_t)(strrchr(smtp, ':') - smtp - 7));
		t->smtp_port = atoi(strrchr(smtp, ':') + 1);
	}
	t->tmp = xasprintf("%s/kill9-%s", dir, appliance);
	ck_assert_int_eq(mkdir_p(t->tmp, 0755, NULL), 0);
	if (strcmp(appliance, "ddan") == 0)
		tl_dtas_client(&t->ddan, url, key);
	json_decref(ready);
}

static void target_free(target_ctx *t)
{
	free(t->url);
	free(t->key);
	free(t->smtp_host);
	free(t->tmp);
	if (t->ddan.base_url)
		dtas_client_free(&t->ddan);
}

/* Child: write until the stop file appears, one acknowledged id a line
 * (appended only after the acknowledgement came). */
static void writer(const target *tg, target_ctx *t, const char *acked, const char *stop)
{
	FILE *f = fopen(acked, "a");
	for (int n = 0; f && access(stop, F_OK) != 0; n++) {
		char id[128];
		if (tg->write(t, n, id, sizeof id)) {
			fprintf(f, "%s\n", id);
			fflush(f);
		} else {
			tl_sleep_ms(20); /* down for the moment: the supervisor brings it back */
		}
	}
	if (f)
		fclose(f);
	_exit(0);
}

static int count_lines(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int n = 0;
	if (file_read(path, &data, &len, NULL) == 0)
		for (size_t i = 0; i < len; i++)
			n += data[i] == '\n';
	free(data);
	return n;
}

static void wait_acked(const char *acked, int want)
{
	int64_t deadline = time_mono_ms() + TL_START_MS;
	while (count_lines(acked) < want && time_mono_ms() < deadline)
		tl_sleep_ms(10);
	ck_assert_msg(count_lines(acked) >= want, "the writer got no acknowledgement (%d of %d)",
		      count_lines(acked), want);
}

static void check_acked(const target *tg, target_ctx *t, const char *acked)
{
	char *data = NULL, *save = NULL;
	ck_assert_int_eq(file_read(acked, &data, NULL, NULL), 0);
	int n = 0;
	for (char *id = strtok_r(data, "\n", &save); id; id = strtok_r(NULL, "\n", &save), n++)
		ck_assert_msg(tg->found(t, id), "%s: acknowledged write %s lost after kill -9",
			      tg->appliance, id);
	ck_assert_int_ge(n, CYCLES * WRITES_PER_CYCLE);
	free(data);
}

/* The lab healthy again, every link up, with nobody's help. */
static void wait_lab_recovered(void)
{
	const char *status[] = {"status", NULL};
	int rc = -1;
	for (int64_t deadline = time_mono_ms() + TL_START_MS; time_mono_ms() < deadline;
	     tl_sleep_ms(100)) {
		char *out = NULL;
		rc = tl_ctdlab(dir, status, &out);
		int links = out && strstr(out, "tmcm             status=online") &&
			    strstr(out, "so_sync          status=ok");
		free(out);
		if (rc == 0 && links)
			return;
	}
	ck_abort_msg("the lab did not recover (status exit %d)", rc);
}

static void kill9_cycles(const target *tg)
{
	target_ctx t;
	target_init(&t, tg->appliance);
	char *acked = xasprintf("%s/acked", t.tmp), *stop = xasprintf("%s/stop", t.tmp);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		writer(tg, &t, acked, stop);
	for (int cycle = 0; cycle < CYCLES; cycle++) {
		wait_acked(acked, (cycle + 1) * WRITES_PER_CYCLE);
		json_t *ready = tl_wait_ready(dir, tg->appliance, TL_START_MS);
		pid_t pid = (pid_t)json_integer_value(json_object_get(ready, "pid"));
		json_decref(ready);
		ck_assert_int_eq(kill(pid, SIGKILL), 0); /* while the writer writes */
		json_decref(tl_wait_restarted(dir, tg->appliance, pid));
	}
	wait_acked(acked, (CYCLES + 1) * WRITES_PER_CYCLE);
	ck_assert_int_eq(file_write_atomic(stop, "", 0, 0644, NULL), 0);
	int status;
	waitpid(child, &status, 0);
	wait_lab_recovered();
	check_acked(tg, &t, acked);
	free(acked);
	free(stop);
	target_free(&t);
}

static const target targets[] = {
	{"imsva", imsva_write, imsva_found},
	{"ddan", ddan_write, ddan_found},
	{"tmcm", tmcm_write, tmcm_found},
	{"sps", sps_write, sps_found},
	{"ddi", ddi_write, ddi_found},
};

TEST_LOOP(test_kill9_under_load, 0, 5)
{
	kill9_cycles(&targets[_i]);
}

TL_SUITE(.timeout = 600, .setup = setup, .teardown = teardown);
