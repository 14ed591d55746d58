/* ddi_capture.c - where DDI's packets come from: live capture with libpcap on
 * one interface behind a BPF filter (the mirror port; loopback in the lab),
 * pcap and pcapng files given on the command line, dropped into a watched
 * folder or uploaded through the console API.
 *
 * Threads: the capture thread only copies frames into a bounded queue (a full
 * queue drops the frame and counts it, so capture never blocks); the process
 * thread owns the live engine (reassembly, parsing, carving). Capture files
 * are read by the file thread, each with an engine of its own, so a replay
 * never mixes its flows with live ones. Carved files go to the carve callback
 * (ddi_submit), which does no network I/O. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <sys/capability.h>

#include "log.h"
#include "store.h"
#include "util.h"
#include "ddi_sensor.h"

typedef struct pkt {
	struct pkt *next;
	int64_t ts_ms;
	size_t len;
	unsigned char data[];
} pkt;

struct ddi_sensor {
	ddi_sensor_opts o;
	pthread_mutex_t mu; /* queue, status and counters */
	pthread_cond_t cond;
	atomic_int stopping; /* read by every thread without the lock */

	/* live capture */
	pcap_t *pcap;
	int dlt;
	char state[16]; /* off | running | unavailable | failed */
	char *reason;
	pthread_t cap_thread, proc_thread;
	int cap_started, proc_started;
	pkt *q_head, *q_tail;
	size_t q_count, q_bytes;
	uint64_t q_dropped, received, kernel_dropped;
	ddi_engine *live;
	ddi_engine_stats live_stats;

	/* files */
	pthread_mutex_t file_mu; /* one capture file at a time */
	pthread_t file_thread;
	int file_started;
	uint64_t files_read, files_failed;
};

static void sensor_event(const char *kind, const char *ref, json_t *detail)
{
	ctd_err err;
	store *st = store_get(&err);
	if (!st || events_append(st, "ddi", kind, ref, detail, &err) < 0)
		log_warn("ddi.event", "kind=%s error=\"%s\"", kind, err.msg);
	json_decref(detail);
}

static void set_state(ddi_sensor *s, const char *state, const char *reason)
{
	pthread_mutex_lock(&s->mu);
	snprintf(s->state, sizeof(s->state), "%s", state);
	free(s->reason);
	s->reason = reason ? xstrdup(reason) : NULL;
	pthread_mutex_unlock(&s->mu);
}

/* ---- live capture */

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	ddi_sensor *s = (ddi_sensor *)user;
	pthread_mutex_lock(&s->mu);
	s->received++;
	if (s->q_count >= s->o.queue_packets || s->q_bytes + h->caplen > s->o.queue_bytes) {
		s->q_dropped++; /* counted and shown in the status: never silent */
		pthread_mutex_unlock(&s->mu);
		return;
	}
	pthread_mutex_unlock(&s->mu);
	pkt *p = xmalloc(sizeof(*p) + h->caplen);
	p->next = NULL;
	p->ts_ms = (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
	p->len = h->caplen;
	memcpy(p->data, bytes, h->caplen);
	pthread_mutex_lock(&s->mu);
	if (s->q_tail)
		s->q_tail->next = p;
	else
		s->q_head = p;
	s->q_tail = p;
	s->q_count++;
	s->q_bytes += p->len;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void *capture_main(void *arg)
{
	ddi_sensor *s = arg;
	int64_t next_stats = 0;
	while (!s->stopping) {
		int rc = pcap_dispatch(s->pcap, -1, on_frame, (u_char *)s);
		/* pcap handles are not thread-safe: statistics are read here */
		if (time_mono_ms() >= next_stats) {
			struct pcap_stat ps;
			if (pcap_stats(s->pcap, &ps) == 0) {
				pthread_mutex_lock(&s->mu);
				uint64_t before = s->kernel_dropped;
				s->kernel_dropped = ps.ps_drop;
				pthread_mutex_unlock(&s->mu);
				if (ps.ps_drop > before)
					log_warn("ddi.capture.dropped",
						 "interface=%s dropped=%llu total=%u reason=\"kernel buffer full\"",
						 s->o.interface, (unsigned long long)(ps.ps_drop - before),
						 ps.ps_drop);
			}
			next_stats = time_mono_ms() + 1000;
		}
		if (rc == PCAP_ERROR) {
			char *why = xstrdup(pcap_geterr(s->pcap));
			log_error("ddi.capture.failed", "interface=%s error=\"%s\"", s->o.interface, why);
			set_state(s, "failed", why);
			sensor_event("capture.failed", s->o.interface,
				     json_pack("{s:s, s:s}", "interface", s->o.interface, "reason", why));
			free(why);
			break;
		}
		if (rc == PCAP_ERROR_BREAK)
			break;
	}
	return NULL;
}

/* Wait on cond (mu held, cond on CLOCK_MONOTONIC) for at most ms milliseconds. */
static void cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	int64_t ns = until.tv_nsec + (ms % 1000) * 1000000L;
	until.tv_sec += (time_t)(ms / 1000 + ns / 1000000000L);
	until.tv_nsec = (long)(ns % 1000000000L);
	pthread_cond_timedwait(cond, mu, &until);
}

static void *process_main(void *arg)
{
	ddi_sensor *s = arg;
	uint64_t drops_logged = 0;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (!s->q_head && !s->stopping)
			cond_wait_ms(&s->cond, &s->mu, 200);
		pkt *batch = s->q_head;
		s->q_head = s->q_tail = NULL;
		s->q_count = s->q_bytes = 0;
		int stop = s->stopping;
		uint64_t drops = s->q_dropped;
		pthread_mutex_unlock(&s->mu);
		if (drops > drops_logged) {
			log_warn("ddi.capture.dropped", "interface=%s dropped=%llu total=%llu reason=\"queue full\"",
				 s->o.interface, (unsigned long long)(drops - drops_logged),
				 (unsigned long long)drops);
			drops_logged = drops;
		}

		while (batch) {
			pkt *p = batch;
			batch = p->next;
			ddi_engine_packet(s->live, s->dlt, p->data, p->len, p->ts_ms);
			free(p);
		}
		ddi_engine_tick(s->live, time_now_ms());
		pthread_mutex_lock(&s->mu);
		ddi_engine_get_stats(s->live, &s->live_stats);
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
	}
	ddi_engine_flush(s->live, time_now_ms());
	return NULL;
}

/* The container image gives ddid CAP_NET_RAW as a permitted-only file
 * capability (setcap cap_net_raw=p): ddid then starts as a non-root user even
 * where the runtime withholds NET_RAW (and falls back to capture files), and
 * where the runtime grants it, this makes it effective for the thread that
 * opens the interface. Without it in the permitted set, nothing changes. */
static void raise_net_raw(void)
{
	cap_t caps = cap_get_proc();
	if (!caps)
		return;
	cap_value_t raw = CAP_NET_RAW;
	cap_flag_value_t permitted = CAP_CLEAR;
	if (cap_get_flag(caps, raw, CAP_PERMITTED, &permitted) == 0 && permitted == CAP_SET &&
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &raw, CAP_SET) == 0 && cap_set_proc(caps) != 0)
		log_warn("ddi.capture.cap", "error=\"cannot raise CAP_NET_RAW: %s\"", strerror(errno));
	cap_free(caps);
}

/* Open the interface; on failure record why (no privileges, no such
 * interface, bad filter) and keep the daemon serving capture files. */
static int capture_open(ddi_sensor *s)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const char *iface = s->o.interface;
	raise_net_raw();
	pcap_t *p = pcap_create(iface, errbuf);
	if (!p) {
		set_state(s, "unavailable", errbuf);
		return -1;
	}
	pcap_set_snaplen(p, 262144);
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, 100);
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, s->o.buffer_bytes);
	int rc = pcap_activate(p);
	char *why = NULL;
	if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
		why = xasprintf("no capture privileges on %s (run as root or grant CAP_NET_RAW): %s",
				iface, pcap_geterr(p));
	else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
		why = xasprintf("no such interface %s: %s", iface, pcap_geterr(p));
	else if (rc < 0)
		why = xasprintf("cannot capture on %s: %s", iface, pcap_geterr(p));
	if (!why && *s->o.bpf) {
		struct bpf_program prog;
		if (pcap_compile(p, &prog, s->o.bpf, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
		    pcap_setfilter(p, &prog) < 0)
			why = xasprintf("bad BPF filter \"%s\": %s", s->o.bpf, pcap_geterr(p));
		else
			pcap_freecode(&prog);
	}
	if (why) {
		set_state(s, "unavailable", why);
		free(why);
		pcap_close(p);
		return -1;
	}
	s->pcap = p;
	s->dlt = pcap_datalink(p);
	set_state(s, "running", NULL);
	return 0;
}

static void live_start(ddi_sensor *s)
{
	if (capture_open(s) < 0) {
		log_error("ddi.capture.unavailable", "interface=%s bpf=\"%s\" reason=\"%s\"",
			  s->o.interface, s->o.bpf, s->reason);
		sensor_event("capture.unavailable", s->o.interface,
			     json_pack("{s:s, s:s, s:s}", "interface", s->o.interface, "bpf", s->o.bpf,
				       "reason", s->reason));
		return;
	}
	log_info("ddi.capture.started", "interface=%s bpf=\"%s\" linktype=%s", s->o.interface,
		 s->o.bpf, pcap_datalink_val_to_name(s->dlt) ? pcap_datalink_val_to_name(s->dlt) : "?");
	sensor_event("capture.started", s->o.interface,
		     json_pack("{s:s, s:s}", "interface", s->o.interface, "bpf", s->o.bpf));
	s->live = ddi_engine_new(&s->o.lim, s->o.total_max_bytes, s->o.carve, s->o.carve_cls);
	s->proc_started = pthread_create(&s->proc_thread, NULL, process_main, s) == 0;
	s->cap_started = pthread_create(&s->cap_thread, NULL, capture_main, s) == 0;
}

/* ---- capture files */

int ddi_sensor_read_file(ddi_sensor *s, const char *path, json_t **summary, ctd_err *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p)
		return ctd_fail(err, CTD_EINVAL, "not a pcap or pcapng file: %s", errbuf);
	pthread_mutex_lock(&s->file_mu);
	ddi_engine *e = ddi_engine_new(&s->o.lim, s->o.total_max_bytes, s->o.carve, s->o.carve_cls);
	int dlt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int rc = PCAP_ERROR_BREAK;
	int64_t last_ts = 0;
	while (!s->stopping && (rc = pcap_next_ex(p, &h, &bytes)) == 1) {
		last_ts = (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
		ddi_engine_packet(e, dlt, bytes, h->caplen, last_ts);
		ddi_engine_tick(e, last_ts);
	}
	/* rc -2: end of file; -1: damaged or truncated file (what was read counts) */
	char *damage = rc == PCAP_ERROR ? xstrdup(pcap_geterr(p)) : NULL;
	ddi_engine_flush(e, last_ts);
	ddi_engine_stats st;
	ddi_engine_get_stats(e, &st);
	ddi_engine_free(e);
	pthread_mutex_unlock(&s->file_mu);
	pcap_close(p);

	json_t *sum = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "file", path, "linktype",
				pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?",
				"packets", (json_int_t)st.packets, "files_carved",
				(json_int_t)st.files_carved, "flows", (json_int_t)st.tcp.flows_opened,
				"malformed", (json_int_t)st.malformed, "non_tcp",
				(json_int_t)st.non_tcp, "gaps", (json_int_t)st.tcp.gaps);
	json_object_set_new(sum, "damaged", damage ? json_string(damage) : json_null());
	pthread_mutex_lock(&s->mu);
	s->files_read++;
	if (damage)
		s->files_failed++;
	pthread_mutex_unlock(&s->mu);
	log_info("ddi.pcap.read", "file=\"%s\" packets=%llu carved=%llu damaged=\"%s\"", path,
		 (unsigned long long)st.packets, (unsigned long long)st.files_carved,
		 damage ? damage : "");
	sensor_event("pcap.read", path, json_incref(sum));
	free(damage);
	if (summary)
		*summary = sum;
	else
		json_decref(sum);
	return 0;
}

static int is_capture_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	return name[0] != '.' && dot &&
	       (!strcmp(dot, ".pcap") || !strcmp(dot, ".pcapng") || !strcmp(dot, ".cap"));
}

/* A file is read once it looks the same (size, mtime) on two scans in a
 * row, so one still being copied in is not read half-written. */
static int is_settled(json_t *seen, json_t *now_seen, const char *name, const struct stat *sb)
{
	char *sig = xasprintf("%lld:%lld.%09ld", (long long)sb->st_size, (long long)sb->st_mtim.tv_sec,
			      sb->st_mtim.tv_nsec);
	const char *before = json_string_value(json_object_get(seen, name));
	int same = before && !strcmp(before, sig);
	json_object_set_new(now_seen, name, json_string(sig));
	free(sig);
	return same;
}

/* Ingest every settled capture file in the drop folder, then move it to
 * done/ or failed/ so it is read once. */
static void scan_drop_folder(ddi_sensor *s, json_t **seen)
{
	DIR *dir = opendir(s->o.pcap_dir);
	if (!dir)
		return;
	json_t *now_seen = json_object();
	struct dirent *de;
	while (!s->stopping && (de = readdir(dir))) {
		if (!is_capture_name(de->d_name))
			continue;
		char *path = xasprintf("%s/%s", s->o.pcap_dir, de->d_name);
		struct stat sb;
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    !is_settled(*seen, now_seen, de->d_name, &sb)) {
			free(path);
			continue;
		}
		ctd_err err;
		int ok = ddi_sensor_read_file(s, path, NULL, &err) == 0;
		if (!ok) {
			log_warn("ddi.pcap.rejected", "file=\"%s\" error=\"%s\"", path, err.msg);
			sensor_event("pcap.rejected", path, json_pack("{s:s}", "error", err.msg));
		}
		char *dest = xasprintf("%s/%s/%s", s->o.pcap_dir, ok ? "done" : "failed", de->d_name);
		if (rename(path, dest) != 0) {
			log_error("ddi.pcap.move", "file=\"%s\" error=\"%s\"", path, strerror(errno));
			unlink(path); /* never read the same file twice */
		}
		json_object_del(now_seen, de->d_name);
		free(dest);
		free(path);
	}
	closedir(dir);
	json_decref(*seen);
	*seen = now_seen;
}

static void *file_main(void *arg)
{
	ddi_sensor *s = arg;
	for (size_t i = 0; i < s->o.nread && !s->stopping; i++) {
		ctd_err err;
		if (ddi_sensor_read_file(s, s->o.read_files[i], NULL, &err) < 0) {
			log_error("ddi.pcap.rejected", "file=\"%s\" error=\"%s\"", s->o.read_files[i],
				  err.msg);
			sensor_event("pcap.rejected", s->o.read_files[i],
				     json_pack("{s:s}", "error", err.msg));
		}
	}
	json_t *seen = json_object();
	while (!s->stopping && *s->o.pcap_dir) {
		scan_drop_folder(s, &seen);
		pthread_mutex_lock(&s->mu);
		if (!s->stopping)
			cond_wait_ms(&s->cond, &s->mu, s->o.poll_ms);
		pthread_mutex_unlock(&s->mu);
	}
	json_decref(seen);
	return NULL;
}

/* ---- lifecycle and status */

ddi_sensor *ddi_sensor_start(const ddi_sensor_opts *o)
{
	ddi_sensor *s = xcalloc(1, sizeof(*s));
	s->o = *o;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a clock step must not stall polling */
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->file_mu, NULL);
	snprintf(s->state, sizeof(s->state), "off");
	if (*o->pcap_dir) {
		char *done = xasprintf("%s/done", o->pcap_dir), *failed = xasprintf("%s/failed", o->pcap_dir);
		if (mkdir_p(done, 0755, NULL) != 0 || mkdir_p(failed, 0755, NULL) != 0)
			log_error("ddi.pcap_dir", "path=%s error=\"%s\"", o->pcap_dir, strerror(errno));
		free(done);
		free(failed);
	}
	if (o->live)
		live_start(s);
	else
		set_state(s, "off", "live capture disabled (capture = no)");
	if (o->nread > 0 || *o->pcap_dir)
		s->file_started = pthread_create(&s->file_thread, NULL, file_main, s) == 0;
	return s;
}

json_t *ddi_sensor_status(ddi_sensor *s)
{
	pthread_mutex_lock(&s->mu);
	ddi_engine_stats *st = &s->live_stats;
	json_t *j = json_pack(
		"{s:s, s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
		"s:{s:s, s:I, s:I}}",
		"interface", s->o.interface, "bpf", s->o.bpf, "state", s->state, "reason",
		s->reason ? json_string(s->reason) : json_null(), "live", "received",
		(json_int_t)s->received, "queue_dropped", (json_int_t)s->q_dropped,
		"kernel_dropped", (json_int_t)s->kernel_dropped, "packets", (json_int_t)st->packets,
		"malformed", (json_int_t)st->malformed, "fragments", (json_int_t)st->fragments,
		"flows_active", (json_int_t)st->tcp.flows_active, "flows_evicted",
		(json_int_t)st->tcp.flows_evicted, "flows_timed_out",
		(json_int_t)st->tcp.flows_timed_out, "gaps", (json_int_t)st->tcp.gaps,
		"files_carved", (json_int_t)st->files_carved, "buffered_bytes",
		(json_int_t)st->budget_used, "files", "pcap_dir", s->o.pcap_dir, "read",
		(json_int_t)s->files_read, "damaged", (json_int_t)s->files_failed);
	pthread_mutex_unlock(&s->mu);
	return j;
}

const char *ddi_sensor_state(ddi_sensor *s)
{
	return s->state;
}

void ddi_sensor_stop(ddi_sensor *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	if (s->pcap)
		pcap_breakloop(s->pcap);
	if (s->cap_started)
		pthread_join(s->cap_thread, NULL);
	if (s->proc_started)
		pthread_join(s->proc_thread, NULL);
	if (s->file_started)
		pthread_join(s->file_thread, NULL);
	while (s->q_head) {
		pkt *p = s->q_head;
		s->q_head = p->next;
		free(p);
	}
	ddi_engine_free(s->live);
	if (s->pcap)
		pcap_close(s->pcap);
	free(s->reason);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->file_mu);
	free(s);
}
