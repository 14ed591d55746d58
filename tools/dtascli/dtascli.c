/* dtascli.c - the lab's DDAN manual submission tool (walkthrough STEP 4-2).
 * Reads config.ini [DTAS] (Host, ApiKey, optional Port, VerifyTLS,
 * ClientUUID, Timeout), submits files or URLs over the DTAS API with
 * upload_sample, waits for the verdicts with get_brief_report (never
 * get_report while analysing: libcurl would wait through its HTTP 102), then
 * prints SHA-1, true file type, risk and the suspicious objects. `-b` works on
 * work/indir beside config.ini and moves each finished file to work/outdir. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config.h"
#include "dtas.h"
#include "hash.h"
#include "sofeed.h"
#include "util.h"
#include "seed_samples.h"

#define DEFAULT_PORT "8443"

static const char usage[] =
	"usage: dtascli [-c config.ini] -b            submit every file in work/indir (beside\n"
	"                                             config.ini), wait, print verdicts, move the\n"
	"                                             files to work/outdir\n"
	"       dtascli [-c config.ini] -f FILE...    submit files\n"
	"       dtascli [-c config.ini] -u URL...     submit URLs\n"
	"       dtascli [-c config.ini] -t            test the connection\n"
	"       dtascli --make-samples DIR            write the lab's seed samples into DIR\n"
	"options: -w SECONDS  wait at most this long for verdicts (default: [DTAS] Timeout or 600)\n"
	"config.ini: [DTAS] Host=<host[:port] or https://host:port>, ApiKey=<Help > About>,\n"
	"            optional Port (default " DEFAULT_PORT "), VerifyTLS=yes|no (default no),\n"
	"            ClientUUID, Timeout\n";

typedef struct job {
	char *label;     /* file name or URL shown to the user */
	char *path;      /* file to move after a verdict (-b), else NULL */
	char sha1[41];
	int submitted;
	dtas_brief verdict;
} job;

static const char *const risk_names[] = {"Unsupported", "No risk", "Low", "Medium", "High"};
static const char *const status_names[] = {"", "Not found", "Arrived", "Processing", "Done",
					   "Error", "Timeout"};

static int truthy(const char *v)
{
	return v && (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
		     !strcmp(v, "1"));
}

/* A stable client UUID per host, so reruns stay one submitter. */
static char *host_uuid(const char *hostname)
{
	char h[41];
	char *seed = xasprintf("dtascli:%s", hostname);
	hash_hex(HASH_SHA1, seed, strlen(seed), h);
	free(seed);
	str_upper(h);
	return xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static int load_client(const char *cfg, dtas_client *c, long *timeout_s)
{
	char *host = cfg_ini_get(cfg, "DTAS", "Host");
	char *key = cfg_ini_get(cfg, "DTAS", "ApiKey");
	if (!host || !*host || !key || !*key) {
		fprintf(stderr, "dtascli: %s: [DTAS] needs Host and ApiKey\n", cfg);
		free(host);
		free(key);
		return -1;
	}
	char *port = cfg_ini_get(cfg, "DTAS", "Port");
	char *verify = cfg_ini_get(cfg, "DTAS", "VerifyTLS");
	char *uuid = cfg_ini_get(cfg, "DTAS", "ClientUUID");
	char *timeout = cfg_ini_get(cfg, "DTAS", "Timeout");
	size_t hl = strlen(host);
	while (hl && host[hl - 1] == '/')
		host[--hl] = 0;
	int has_scheme = strstr(host, "://") != NULL;
	const char *after = has_scheme ? strstr(host, "://") + 3 : host;
	int has_port = strchr(after, ':') != NULL;
	char *base_url = xasprintf("%s%s%s%s", has_scheme ? "" : "https://", host,
				   has_port ? "" : ":",
				   has_port ? "" : (port && *port ? port : DEFAULT_PORT));
	char hn[256] = "dtascli";
	gethostname(hn, sizeof hn - 1);
	char *client_uuid = uuid && *uuid ? xstrdup(uuid) : host_uuid(hn);
	dtas_client_init(c, &(dtas_client_spec){
		.base_url = base_url,
		.api_key = key,
		.client_uuid = client_uuid,
		.product_name = "dtascli",
		.hostname = hn,
		.source_id = "1", /* "User submission" */
		.source_name = "dtascli",
		.http = {.timeout_ms = 60000, .verify_tls = truthy(verify), .retries = 2},
	});
	if (timeout && *timeout)
		*timeout_s = atol(timeout);
	free(base_url), free(client_uuid), free(key);
	free(host), free(port), free(verify), free(uuid), free(timeout);
	return 0;
}

/* ---- results ------------------------------------------------------------ */

/* TrueFileType of the first FILE_ANALYZE_REPORT of get_report. */
static char *true_type(const dtas_client *c, const char *sha1)
{
	char *h = xasprintf("X-DTAS-SHA1: %s", sha1);
	const char *extra[] = {h, NULL};
	http_response r = {0};
	ctd_err err;
	char *type = NULL;
	if (dtas_call(c, "GET", "get_report", extra, NULL, 0, NULL, 0, &r, &err) == 0 &&
	    r.status == 200) {
		xmlDoc *doc = xmlReadMemory(r.body.data, (int)r.body.len, NULL, NULL,
					    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		for (xmlNode *n = root ? root->children : NULL; n && !type; n = n->next) {
			if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "FILE_ANALYZE_REPORT"))
				continue;
			for (xmlNode *f = n->children; f; f = f->next)
				if (f->type == XML_ELEMENT_NODE && !strcmp((const char *)f->name, "TrueFileType")) {
					xmlChar *t = xmlNodeGetContent(f);
					type = xstrdup(t ? (const char *)t : "");
					xmlFree(t);
					break;
				}
		}
		xmlFreeDoc(doc);
	}
	http_response_free(&r);
	free(h);
	return type ? type : xstrdup("?");
}

static int print_so(const so_record *r, void *cls)
{
	(void)cls;
	printf("  SO:     %-6s %s (%s)\n", r->type, r->value, r->risk);
	return 0;
}

static void print_sos(const dtas_client *c, const char *sha1)
{
	char *h = xasprintf("X-DTAS-SHA1: %s", sha1);
	const char *extra[] = {h, NULL};
	http_response r = {0};
	ctd_err err;
	if (dtas_call(c, "GET", "get_suspicious_object_by_sha1", extra, NULL, 0, NULL, 0, &r, &err) == 0 &&
	    r.status == 200) {
		if (sofeed_parse(r.body.data, r.body.len, print_so, NULL, NULL, NULL, &err) != 0)
			printf("  SO:     (unreadable answer: %s)\n", err.msg);
	} else {
		printf("  SO:     (query failed)\n");
	}
	http_response_free(&r);
	free(h);
}

static void print_verdict(const dtas_client *c, const job *j)
{
	int st = j->verdict.status, risk = j->verdict.risk_level;
	const char *slash = j->path ? strrchr(j->label, '/') : NULL;
	printf("%s\n  SHA-1:  %s\n", slash ? slash + 1 : j->label, j->sha1);
	if (st != 4) {
		printf("  Status: %s\n", st >= 1 && st <= 6 ? status_names[st] : "unknown");
		return;
	}
	char *type = true_type(c, j->sha1);
	printf("  Type:   %s\n  Risk:   %s (%d)\n", type,
	       risk >= -1 && risk <= 3 ? risk_names[risk + 1] : "Analyzer error", risk);
	free(type);
	print_sos(c, j->sha1);
}

/* ---- jobs --------------------------------------------------------------- */

static int move_to(const char *path, const char *outdir)
{
	char *copy = xstrdup(path);
	char *dst = xasprintf("%s/%s", outdir, basename(copy));
	struct stat sb;
	for (int i = 1; stat(dst, &sb) == 0 && i < 1000; i++) {
		free(dst);
		dst = xasprintf("%s/%s.%d", outdir, basename(copy), i);
	}
	int rc = rename(path, dst);
	if (rc != 0)
		fprintf(stderr, "dtascli: cannot move %s to %s: %s\n", path, dst, strerror(errno));
	free(dst);
	free(copy);
	return rc;
}

static int submit(const dtas_client *c, job *j, const void *data, size_t len, int type)
{
	ctd_err err;
	char *copy = xstrdup(j->label);
	const char *name = type ? NULL : basename(copy);
	int rc = dtas_upload_sample(c, data, len, name, type, j->sha1, &err);
	free(copy);
	if (rc != 0) {
		fprintf(stderr, "dtascli: %s: submission failed: %s\n", j->label, err.msg);
		return -1;
	}
	j->submitted = 1;
	fprintf(stderr, "submitted %s (%s)\n", j->label, j->sha1);
	return 0;
}

/* Poll the brief report until every submitted job has a final status. */
static int wait_verdicts(const dtas_client *c, job *jobs, size_t n, long timeout_s)
{
	time_t deadline = time(NULL) + timeout_s;
	for (;;) {
		const char **ask = xcalloc(n ? n : 1, sizeof *ask);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (jobs[i].submitted && jobs[i].verdict.status < 4)
				ask[k++] = jobs[i].sha1;
		if (k == 0) {
			free(ask);
			return 0;
		}
		dtas_brief *out = xcalloc(k, sizeof *out);
		ctd_err err;
		int rc = dtas_brief_report(c, ask, k, out, &err);
		if (rc == 0)
			for (size_t a = 0; a < k; a++)
				for (size_t i = 0; i < n; i++)
					if (!strcasecmp(jobs[i].sha1, out[a].sha1))
						jobs[i].verdict = out[a];
		free(out);
		free(ask);
		if (rc != 0) {
			fprintf(stderr, "dtascli: get_brief_report failed: %s\n", err.msg);
			return -1;
		}
		if (time(NULL) >= deadline) {
			fprintf(stderr, "dtascli: gave up waiting after %ld s\n", timeout_s);
			return 1;
		}
		struct timespec ts = {0, 300 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int finish(const dtas_client *c, job *jobs, size_t n, long timeout_s, const char *outdir)
{
	int rc = wait_verdicts(c, jobs, n, timeout_s);
	int failures = rc < 0;
	for (size_t i = 0; i < n; i++) {
		if (!jobs[i].submitted) {
			failures++;
			continue;
		}
		print_verdict(c, &jobs[i]);
		if (jobs[i].verdict.status >= 4 && outdir && jobs[i].path)
			failures += move_to(jobs[i].path, outdir) != 0;
		if (jobs[i].verdict.status < 4)
			failures++;
	}
	return failures ? (rc > 0 ? 2 : 1) : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of dir, sorted. */
static char **list_files(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	char **out = NULL;
	*n = 0;
	if (!d)
		return NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat sb;
		if (e->d_name[0] != '.' && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
			out = xrealloc(out, (*n + 1) * sizeof *out);
			out[(*n)++] = p;
		} else {
			free(p);
		}
	}
	closedir(d);
	if (*n)
		qsort(out, *n, sizeof *out, cmp_str);
	return out;
}

static int run_jobs(const dtas_client *c, char **items, size_t n, int urls, int move,
		    const char *outdir, long timeout_s)
{
	ctd_err err;
	if (dtas_register(c, &err) != 0) {
		fprintf(stderr, "dtascli: register failed: %s\n", err.msg);
		return 1;
	}
	job *jobs = xcalloc(n ? n : 1, sizeof *jobs);
	for (size_t i = 0; i < n; i++) {
		jobs[i].label = items[i];
		jobs[i].path = move ? items[i] : NULL;
		if (urls) {
			submit(c, &jobs[i], items[i], strlen(items[i]), 1);
			continue;
		}
		char *data;
		size_t len;
		if (file_read(items[i], &data, &len, NULL) != 0) {
			fprintf(stderr, "dtascli: cannot read %s: %s\n", items[i], strerror(errno));
			continue;
		}
		submit(c, &jobs[i], data, len, 0);
		free(data);
	}
	int rc = finish(c, jobs, n, timeout_s, outdir);
	free(jobs);
	return rc;
}

static int batch(const dtas_client *c, const char *cfg, long timeout_s)
{
	char *copy = xstrdup(cfg);
	char *work = xasprintf("%s/work", dirname(copy));
	char *indir = xasprintf("%s/indir", work), *outdir = xasprintf("%s/outdir", work);
	free(copy);
	int rc = 1;
	if (mkdir_p(indir, 0755, NULL) != 0 || mkdir_p(outdir, 0755, NULL) != 0) {
		fprintf(stderr, "dtascli: cannot create %s/{indir,outdir}\n", work);
	} else {
		size_t n;
		char **files = list_files(indir, &n);
		if (n == 0) {
			fprintf(stderr, "dtascli: no files in %s\n", indir);
			rc = 0;
		} else {
			rc = run_jobs(c, files, n, 0, 1, outdir, timeout_s);
		}
		for (size_t i = 0; i < n; i++)
			free(files[i]);
		free(files);
	}
	free(work), free(indir), free(outdir);
	return rc;
}

static int make_samples(const char *dir)
{
	if (mkdir_p(dir, 0755, NULL) != 0) {
		fprintf(stderr, "dtascli: cannot create %s\n", dir);
		return 1;
	}
	size_t n;
	const seed_sample *s = seed_samples_all(&n);
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", dir, s[i].file_name);
		char sha1[41];
		hash_hex(HASH_SHA1, s[i].data, s[i].len, sha1);
		str_upper(sha1);
		if (file_write_atomic(p, s[i].data, s[i].len, 0644, NULL) != 0) {
			fprintf(stderr, "dtascli: cannot write %s\n", p);
			free(p);
			return 1;
		}
		printf("%-14s %s  %s\n", s[i].title, sha1, p);
		free(p);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"make-samples", required_argument, NULL, 'M'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *cfg = "config.ini";
	int mode = 0, opt;
	long timeout_s = -1;
	while ((opt = getopt_long(argc, argv, "c:bfutw:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfg = optarg; break;
		case 'b': case 'f': case 'u': case 't': mode = opt; break;
		case 'w': timeout_s = atol(optarg); break;
		case 'M': return make_samples(optarg);
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!mode || ((mode == 'f' || mode == 'u') && optind >= argc)) {
		fputs(usage, stderr);
		return 2;
	}
	dtas_client c = {0};
	long cfg_timeout = 600;
	if (access(cfg, R_OK) != 0) {
		fprintf(stderr, "dtascli: cannot read %s (use -c config.ini)\n", cfg);
		return 1;
	}
	if (load_client(cfg, &c, &cfg_timeout) != 0)
		return 1;
	if (timeout_s < 0)
		timeout_s = cfg_timeout;
	int rc;
	ctd_err err;
	if (mode == 't') {
		rc = dtas_register(&c, &err) == 0 && dtas_test_connection(&c, &err) == 0 ? 0 : 1;
		printf(rc ? "connection failed: %s\n" : "connection OK (%s)\n", rc ? err.msg : c.base_url);
	} else if (mode == 'b') {
		rc = batch(&c, cfg, timeout_s);
	} else {
		rc = run_jobs(&c, argv + optind, (size_t)(argc - optind), mode == 'u', 0, NULL, timeout_s);
	}
	dtas_client_free(&c);
	xmlCleanupParser();
	return rc;
}
