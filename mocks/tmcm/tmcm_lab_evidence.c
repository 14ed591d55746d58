/* tmcm_lab_evidence.c - what the shared events timeline says about the lab as
 * a whole, for the instructor's overview: when each link between appliances
 * last carried something (or failed), and which checks of each seed STEP
 * have left their evidence. The timeline is read incrementally: each call
 * folds in only the events appended since the last one. */
#include <fnmatch.h>
#include <pthread.h>
#include <string.h>
#include "util.h"
#include "tmcm.h"

#define LAB_PAGE 1000
#define LAB_NSTEPS 4
#define LAB_MAX_CHECKS 8
#define NELEMS(a) (int)(sizeof(a) / sizeof((a)[0]))

typedef struct lab_text {
	const char *en, *ja;
} lab_text;

/* A link between two appliances: kind is submit | pull | feed | wrs. */
typedef struct lab_link {
	const char *id, *from, *to, *kind;
	lab_text label;
} lab_link;

enum lab_link_id {
	IMSVA_DDAN, DDI_DDAN, DDAN_TMCM, DDI_TMCM, TMCM_IMSVA, TMCM_SPS, SPS_IMSVA, LAB_NLINKS
};

static const lab_link lab_links[] = {
	[IMSVA_DDAN] = {"imsva-ddan", "imsva", "ddan", "submit", {"Sample submissions", "サンプル送信"}},
	[DDI_DDAN] = {"ddi-ddan", "ddi", "ddan", "submit", {"Sample submissions", "サンプル送信"}},
	[DDAN_TMCM] = {"ddan-tmcm", "ddan", "tmcm", "pull", {"Objects pulled", "オブジェクト取得"}},
	[DDI_TMCM] = {"ddi-tmcm", "ddi", "tmcm", "pull", {"Objects pulled", "オブジェクト取得"}},
	[TMCM_IMSVA] = {"tmcm-imsva", "tmcm", "imsva", "feed", {"Object feed", "オブジェクト配信"}},
	[TMCM_SPS] = {"tmcm-sps", "tmcm", "sps", "feed", {"Object feed", "オブジェクト配信"}},
	[SPS_IMSVA] = {"sps-imsva", "sps", "imsva", "wrs",
		       {"Web Reputation queries", "Webレピュテーション照会"}},
};
_Static_assert(sizeof lab_links / sizeof lab_links[0] == LAB_NLINKS, "one per link");

/* One rule: events of appliance/kind (fnmatch patterns, kind case-blind)
 * and, when ref is set, that ref tell something about a link. */
typedef enum { LAB_NONE, LAB_OK, LAB_FAIL } lab_outcome;
typedef struct link_rule {
	enum lab_link_id link;
	const char *appliance, *kind, *ref;
	lab_outcome outcome;
} link_rule;

/* First matching rule wins, so exclusions come before the broad patterns. */
static const link_rule link_rules[] = {
	{IMSVA_DDAN, "imsva", "va.queued", NULL, LAB_NONE}, /* parked locally, nothing sent yet */
	{IMSVA_DDAN, "imsva", "va.*", NULL, LAB_OK},
	{IMSVA_DDAN, "imsva", "system.ddan_unreachable", NULL, LAB_FAIL},
	{DDI_DDAN, "ddi", "sample.done", NULL, LAB_OK},
	{DDI_DDAN, "ddi", "ddan.reachable", NULL, LAB_OK},
	{DDI_DDAN, "ddi", "ddan.unreachable", NULL, LAB_FAIL},
	{DDAN_TMCM, "tmcm", "sync.done", "DDAN", LAB_OK},
	{DDAN_TMCM, "tmcm", "sync.failed", "DDAN", LAB_FAIL},
	{DDI_TMCM, "tmcm", "sync.done", "DDI*", LAB_OK},
	{DDI_TMCM, "tmcm", "sync.failed", "DDI*", LAB_FAIL},
	{TMCM_IMSVA, "imsva", "sync.done", NULL, LAB_OK},
	{TMCM_IMSVA, "imsva", "system.tmcm_sync_failed", NULL, LAB_FAIL},
	{TMCM_IMSVA, "imsva", "system.tmcm_unreachable", NULL, LAB_FAIL},
	{TMCM_SPS, "sps", "sync.done", NULL, LAB_OK},
	{TMCM_SPS, "sps", "sync.failed", NULL, LAB_FAIL},
	{SPS_IMSVA, "sps", "wrs.*", NULL, LAB_OK},
	{SPS_IMSVA, "imsva", "system.wrs_unreachable", NULL, LAB_FAIL},
};

/* ---- the folded state ---- */

typedef struct seen {
	int64_t id, ts; /* 0: not yet */
} seen;

static struct {
	pthread_mutex_t mu;
	int64_t last_id;
	seen link_ok[LAB_NLINKS], link_fail[LAB_NLINKS];
	char link_error[LAB_NLINKS][160];
	seen check[LAB_NSTEPS][LAB_MAX_CHECKS];
	/* values DDAN and DDI listed as suspicious objects so far (JSON objects
	 * used as sets), so that a later quarantine can be traced to its
	 * source; whether TMCM set anything to Block yet (a sync counts after) */
	json_t *ddan_files, *ddi_values;
	int block_seen;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- STEP checks: an event of appliance/kind, and optionally more ---- */

typedef struct lab_check {
	const char *id, *appliance, *kind;
	int (*also)(const json_t *ev); /* NULL: any event of that kind */
	lab_text text;
} lab_check;

static const char *detail_str(const json_t *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(ev, "detail"), key));
	return v ? v : "";
}

static int not_queued(const json_t *ev)
{
	return strcmp(json_string_value(json_object_get(ev, "kind")), "va.queued") != 0;
}

static int builtin_hit(const json_t *ev)
{
	json_t *d = json_object_get(json_object_get(ev, "detail"), "detail");
	const char *builtin = json_string_value(json_object_get(d, "builtin"));
	return builtin && strcmp(builtin, "yes") == 0;
}

static int by_user_rule(const json_t *ev)
{
	return !builtin_hit(ev);
}

static int is_file_so(const json_t *ev)
{
	return strcmp(detail_str(ev, "type"), "FILE") == 0;
}

static int is_url_so(const json_t *ev)
{
	return strcmp(detail_str(ev, "type"), "URL") == 0;
}

static int is_block(const json_t *ev)
{
	return strcmp(detail_str(ev, "action"), "block") == 0;
}

static int ref_is(const json_t *ev, const char *pattern)
{
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	return ref && fnmatch(pattern, ref, 0) == 0;
}

static int from_ddan(const json_t *ev)
{
	return ref_is(ev, "DDAN");
}

static int from_ddi(const json_t *ev)
{
	return ref_is(ev, "DDI*");
}

/* A sync that brought objects (IMSVA says records, SPS changes) after a Block. */
static int synced_after_block(const json_t *ev)
{
	json_t *d = json_object_get(ev, "detail");
	return S.block_seen && (json_integer_value(json_object_get(d, "records")) > 0 ||
				json_integer_value(json_object_get(d, "changes")) > 0);
}

/* The policy event names the object in its reason ("Suspicious file: <sha1> (...)"). */
static int reason_names_one_of(const json_t *ev, const json_t *set)
{
	const char *reason = detail_str(ev, "reason"), *key;
	json_t *v;
	if (!builtin_hit(ev))
		return 0;
	json_object_foreach((json_t *)set, key, v)
		if (strstr(reason, key))
			return 1;
	return 0;
}

static int blocked_ddan_file(const json_t *ev)
{
	return reason_names_one_of(ev, S.ddan_files);
}

static int blocked_ddi_object(const json_t *ev)
{
	return reason_names_one_of(ev, S.ddi_values);
}

static int blocked_url(const json_t *ev)
{
	return builtin_hit(ev) && strncmp(detail_str(ev, "reason"), "Suspicious URL", 14) == 0;
}

static const lab_check step1[] = {
	{"1-a", "imsva", "va.*", not_queued,
	 {"IMSVA received a Virtual Analyzer verdict from DDAN", "IMSVA が DDAN の仮想アナライザ判定を受信"}},
	{"1-b", "imsva", "policy.quarantine", by_user_rule,
	 {"IMSVA quarantined a message by a user rule", "IMSVA がユーザ定義ルールでメッセージを隔離"}},
};
static const lab_check step2[] = {
	{"2-a", "ddan", "so.*", is_file_so,
	 {"DDAN listed a file suspicious object", "DDAN がファイルの不審オブジェクトを登録"}},
	{"2-b", "tmcm", "sync.done", from_ddan,
	 {"TMCM synchronised DDAN's objects", "TMCM が DDAN のオブジェクトを同期"}},
	{"2-c", "tmcm", "so.action", is_block,
	 {"TMCM: an object set to Block", "TMCM でオブジェクトをブロックに設定"}},
	{"2-d", "imsva", "sync.done", synced_after_block,
	 {"IMSVA synchronised the Block from TMCM", "IMSVA が TMCM からブロックを同期"}},
	{"2-e", "imsva", "policy.quarantine", blocked_ddan_file,
	 {"IMSVA quarantined DDAN's file by the SO rule", "IMSVA が DDAN のファイルを不審オブジェクトルールで隔離"}},
};
static const lab_check step3[] = {
	{"3-a", "ddi", "detection", NULL,
	 {"DDI detected a download on its interface", "DDI がダウンロードを検出"}},
	{"3-b", "ddi", "so.*", NULL,
	 {"DDI listed a suspicious object", "DDI が不審オブジェクトを登録"}},
	{"3-c", "tmcm", "sync.done", from_ddi,
	 {"TMCM synchronised DDI's objects", "TMCM が DDI のオブジェクトを同期"}},
	{"3-d", "imsva", "policy.quarantine", blocked_ddi_object,
	 {"IMSVA quarantined DDI's object by the SO rule", "IMSVA が DDI のオブジェクトを不審オブジェクトルールで隔離"}},
};
static const lab_check step4[] = {
	{"4-a", "ddan", "so.*", is_url_so,
	 {"DDAN listed a URL suspicious object", "DDAN が URL の不審オブジェクトを登録"}},
	{"4-b", "sps", "sync.done", synced_after_block,
	 {"SPS synchronised the Block from TMCM", "SPS が TMCM からブロックを同期"}},
	{"4-c", "imsva", "policy.quarantine", blocked_url,
	 {"IMSVA quarantined a message by the SO URL rule", "IMSVA が不審 URL ルールでメッセージを隔離"}},
};

static const struct lab_step {
	const char *id;
	lab_text title;
	const lab_check *checks;
	int nchecks;
} steps[] = {
	{"1", {"Attachment → Virtual Analyzer → quarantine", "添付ファイル → 仮想アナライザ → 隔離"},
	 step1, NELEMS(step1)},
	{"2", {"DDAN's object → TMCM Block → IMSVA", "DDAN のオブジェクト → TMCM ブロック → IMSVA"},
	 step2, NELEMS(step2)},
	{"3", {"DDI detection → TMCM → IMSVA", "DDI の検出 → TMCM → IMSVA"}, step3, NELEMS(step3)},
	{"4", {"URL → DDAN → TMCM → SPS and IMSVA", "URL → DDAN → TMCM → SPS と IMSVA"}, step4,
	 NELEMS(step4)},
};
_Static_assert(sizeof steps / sizeof steps[0] == LAB_NSTEPS, "one per STEP");
_Static_assert(sizeof step2 / sizeof step2[0] <= LAB_MAX_CHECKS, "checks of the longest STEP");

static int matches(const char *pattern, const char *value)
{
	return pattern == NULL || (value && fnmatch(pattern, value, FNM_CASEFOLD) == 0);
}

static void note(seen *s, const json_t *ev)
{
	s->id = json_integer_value(json_object_get(ev, "id"));
	s->ts = json_integer_value(json_object_get(ev, "ts"));
}

static void fold_links(const json_t *ev, const char *app, const char *kind, const char *ref)
{
	for (int i = 0; i < NELEMS(link_rules); i++) {
		const link_rule *r = &link_rules[i];
		if (strcmp(r->appliance, app) != 0 || !matches(r->kind, kind) || !matches(r->ref, ref))
			continue;
		if (r->outcome == LAB_OK)
			note(&S.link_ok[r->link], ev);
		if (r->outcome == LAB_FAIL) {
			note(&S.link_fail[r->link], ev);
			const char *why = detail_str(ev, "error");
			snprintf(S.link_error[r->link], sizeof S.link_error[0], "%s",
				 *why ? why : detail_str(ev, "reason"));
		}
		return;
	}
}

static void fold_checks(const json_t *ev, const char *app, const char *kind)
{
	for (int s = 0; s < LAB_NSTEPS; s++)
		for (int c = 0; c < steps[s].nchecks; c++) {
			const lab_check *k = &steps[s].checks[c];
			if (!S.check[s][c].id && strcmp(k->appliance, app) == 0 &&
			    matches(k->kind, kind) && (!k->also || k->also(ev)))
				note(&S.check[s][c], ev);
		}
}

/* After the checks, so that a check counts only what came before it. */
static void fold_context(const json_t *ev, const char *app, const char *kind)
{
	if (strcmp(app, "tmcm") == 0 && strcmp(kind, "so.action") == 0 && is_block(ev))
		S.block_seen = 1;
	if (strncmp(kind, "so.", 3) != 0 || !strcmp(kind, "so.expired"))
		return;
	const char *value = detail_str(ev, "value");
	if (strcmp(app, "ddan") == 0 && is_file_so(ev) && *value)
		json_object_set_new(S.ddan_files, value, json_true());
	else if (strcmp(app, "ddi") == 0 && *value)
		json_object_set_new(S.ddi_values, value, json_true());
}

static void fold(const json_t *ev)
{
	const char *app = json_string_value(json_object_get(ev, "appliance"));
	const char *kind = json_string_value(json_object_get(ev, "kind"));
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	S.last_id = json_integer_value(json_object_get(ev, "id"));
	if (!app || !kind)
		return;
	fold_links(ev, app, kind, ref);
	fold_checks(ev, app, kind);
	fold_context(ev, app, kind);
}

/* Fold in the events appended since the last call. Caller holds S.mu. */
static int catch_up(store *st, ctd_err *err)
{
	if (!S.ddan_files) {
		S.ddan_files = json_object();
		S.ddi_values = json_object();
	}
	for (;;) {
		events_filter f = {.after_id = S.last_id, .limit = LAB_PAGE};
		json_t *page = events_query(st, &f, err);
		if (!page)
			return -1;
		size_t i, n = json_array_size(page);
		json_t *ev;
		json_array_foreach(page, i, ev) fold(ev);
		json_decref(page);
		if (n < LAB_PAGE)
			return 0;
	}
}

/* ---- JSON out ---- */

static json_t *text_json(const lab_text *t)
{
	return json_pack("{s:s, s:s}", "en", t->en, "ja", t->ja);
}

static void set_seen(json_t *o, const char *key, const seen *s)
{
	tmcm_json_time(o, key, s->ts);
}

static json_t *step_json(int s)
{
	json_t *checks = json_array();
	int done = 0;
	for (int c = 0; c < steps[s].nchecks; c++) {
		const lab_check *k = &steps[s].checks[c];
		json_t *o = json_pack("{s:s, s:s, s:o, s:b}", "id", k->id, "appliance", k->appliance,
				      "label", text_json(&k->text), "done", S.check[s][c].id != 0);
		set_seen(o, "at", &S.check[s][c]);
		json_object_set_new(o, "event_id", json_integer(S.check[s][c].id));
		json_array_append_new(checks, o);
		done += S.check[s][c].id != 0;
	}
	return json_pack("{s:s, s:o, s:i, s:i, s:o}", "id", steps[s].id, "title",
			 text_json(&steps[s].title), "done", done, "total", steps[s].nchecks,
			 "checks", checks);
}

/* up: both ends answer and it carried something within stale_ms; down: an
 * end does not answer, or its last attempt failed; stale otherwise. */
static const char *link_state(int i, int ends_healthy, int64_t now, int64_t stale_ms)
{
	if (!ends_healthy || S.link_fail[i].id > S.link_ok[i].id)
		return "down";
	return S.link_ok[i].id && now - S.link_ok[i].ts <= stale_ms ? "up" : "stale";
}

static json_t *link_json(int i, const json_t *healthy, int64_t now, int64_t stale_ms)
{
	const lab_link *l = &lab_links[i];
	int ends = json_is_true(json_object_get(healthy, l->from)) &&
		   json_is_true(json_object_get(healthy, l->to));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "id", l->id, "from", l->from, "to",
			      l->to, "kind", l->kind, "label", text_json(&l->label), "state",
			      link_state(i, ends, now, stale_ms));
	set_seen(o, "last_carried", &S.link_ok[i]);
	set_seen(o, "last_failed", &S.link_fail[i]);
	if (S.link_fail[i].id > S.link_ok[i].id)
		json_object_set_new(o, "error", json_string(S.link_error[i]));
	if (!ends)
		json_object_set_new(o, "error", json_string("an appliance at either end does not answer"));
	return o;
}

int tmcm_lab_evidence(store *st, const json_t *healthy, int64_t stale_ms, json_t *out,
		      ctd_err *err)
{
	pthread_mutex_lock(&S.mu);
	int rc = catch_up(st, err);
	if (rc == 0) {
		int64_t now = time_now_ms();
		json_t *links = json_array(), *steps_out = json_array();
		for (int i = 0; i < LAB_NLINKS; i++)
			json_array_append_new(links, link_json(i, healthy, now, stale_ms));
		for (int s = 0; s < LAB_NSTEPS; s++)
			json_array_append_new(steps_out, step_json(s));
		json_object_set_new(out, "links", links);
		json_object_set_new(out, "steps", steps_out);
		json_object_set_new(out, "last_event_id", json_integer(S.last_id));
	}
	pthread_mutex_unlock(&S.mu);
	return rc;
}

int64_t tmcm_lab_last_event_id(store *st, ctd_err *err)
{
	pthread_mutex_lock(&S.mu);
	int64_t id = catch_up(st, err) == 0 ? S.last_id : -1;
	pthread_mutex_unlock(&S.mu);
	return id;
}
