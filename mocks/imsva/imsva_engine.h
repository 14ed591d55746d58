/* imsva_engine.h - IMSVA's message-scanning and policy library.
 *
 * Pure code, no sockets: the daemon (imsvad) parses a message with
 * imsva_msg_parse(), runs the simulated scan engines with imsva_scan(), and
 * asks imsva_policy_evaluate() what to do, plugging in its SO tables, SPS
 * client and VA queue through imsva_lookups. Only imsva_rules_store.c touches
 * the store (table imsva_rules).
 *
 * Files: imsva_mime.c (GMime MIME walk, hashes), imsva_filetype.c (libmagic,
 * true file types), imsva_mime_urls.c (URLs; libxml2 for HTML),
 * imsva_mime_archive.c (libarchive members), imsva_mime_rewrite.c (modify
 * actions), imsva_scan.c (antivirus, ATSE, spam score), imsva_policy.c (rule
 * model, names, VA mapping), imsva_policy_json.c (rule JSON),
 * imsva_policy_defaults.c (a fresh appliance's rules), imsva_policy_eval.c
 * (evaluation), imsva_rules_store.c (persistence). docs/imsva.md documents the
 * true file type classes, scan triggers and the rule JSON format.
 *
 * Threading: every function is reentrant; imsva_engine_init() must have run
 * once (it is idempotent and thread-safe). Objects are not shared between
 * threads unless the caller synchronises. */
#ifndef IMSVA_ENGINE_H
#define IMSVA_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "err.h"
#include "store.h"

/* g_mime_init and libmagic, once per process. Returns -1 if libmagic has no
 * database. imsva_engine_shutdown() is optional (tests call it to be
 * leak-free). */
int imsva_engine_init(ctd_err *err);
void imsva_engine_shutdown(void);

/* ------------------------------------------------------------------------
 * Parsed message (imsva_mime.c)
 * ------------------------------------------------------------------------ */

/* IMSVA's true-file-type classes (the attachment condition's families). */
typedef enum {
	IMSVA_TFT_EXECUTABLE = 0, /* "Applications and executables": EXE/DLL, ELF, Mach-O, MSI, Java */
	IMSVA_TFT_DOCUMENT,       /* "Documents": MS Office (OLE and OOXML), PDF, RTF, OpenDocument */
	IMSVA_TFT_COMPRESSED,     /* "Compressed files": zip, gzip, rar, 7z, bzip2, xz, tar, cab, lha */
	IMSVA_TFT_SCRIPT,         /* shell, batch, JavaScript, VBScript, PowerShell, Python, Perl, HTA */
	IMSVA_TFT_IMAGE,
	IMSVA_TFT_MEDIA,          /* audio and video */
	IMSVA_TFT_TEXT,           /* plain text, HTML, XML, CSV */
	IMSVA_TFT_OTHER,
	IMSVA_TFT_COUNT
} imsva_tft_class;

/* Class id as used in rule JSON: "executable", "document", ... */
const char *imsva_tft_class_name(imsva_tft_class c);
/* 0 if `id` names a class ("document") or a specific type ("pdf", "docx",
 * "exe", "zip" ...: the table is in docs/imsva.md). */
int imsva_tft_id_valid(const char *id);
/* The file-type tree of the policy wizard: [{"id","label","types":[{"id","label"}]}]
 * by class, in class order. */
json_t *imsva_tft_tree_json(void);

typedef struct imsva_part {
	int index;            /* position in msg->parts */
	int parent;           /* archive this entry came from, -1 for MIME parts */
	int depth;            /* MIME nesting (0 = top) or archive nesting */
	char *filename;       /* decoded (RFC 2047 / RFC 2231) or archive path; may be NULL */
	char *content_type;   /* declared, lower case "type/subtype" ("" for archive members) */
	char *magic_mime;     /* libmagic's MIME type of the decoded content */
	imsva_tft_class tft_class;
	const char *tft_type;  /* specific true file type id, e.g. "pdf" (static) */
	const char *tft_label; /* display string, e.g. "Adobe Portable Document Format (PDF)" */
	int is_attachment;     /* attachment (or archive member), not a body text part */
	int is_body;           /* text/plain or text/html body part */
	int encrypted;         /* encrypted archive member: name only, no content */
	unsigned char *data;   /* decoded content (NULL for encrypted members) */
	size_t size;
	char md5[33], sha1[41], sha256[65];
	/* Filled by imsva_scan() (NULL = clean / not detected). */
	char *virus_name;     /* "Eicar_test_file", ... */
	char *atse_name;      /* "HEUR_CTDLAB.SAMPLE", "EXPL_...", ... */
} imsva_part;

typedef struct imsva_msg {
	char *subject;        /* decoded to UTF-8, "" when absent */
	char *from;           /* header From address ("" when absent) */
	char *to;             /* header To as written (decoded) */
	char *message_id;     /* without <>, "" when absent */
	size_t raw_size;
	imsva_part *parts;    /* every leaf MIME part, then archive members */
	size_t nparts;
	char **urls;          /* from text and HTML parts: decoded, deduplicated, in order */
	size_t nurls;
	char *body_text;      /* UTF-8 text of the body parts (HTML as text), for keywords */
	int malformed;        /* GMime could not parse the structure cleanly */
	int truncated;        /* a parser limit was hit (parts, members, URLs, expansion) */
	double spam_score;    /* filled by imsva_scan(); 0.0 .. 10.0 */
} imsva_msg;

/* Parse an RFC 5322 message. Never fails on bad MIME (sets malformed);
 * fails only on resource errors. Caller frees with imsva_msg_free(). */
int imsva_msg_parse(const char *raw, size_t len, imsva_msg **out, ctd_err *err);
void imsva_msg_free(imsva_msg *m);
/* The attachments (not body parts, including archive members) count. */
size_t imsva_msg_attachment_count(const imsva_msg *m);

/* True file type of a buffer (used for parts; exposed for VA submissions). */
void imsva_true_file_type(const void *data, size_t len, const char *filename,
			  imsva_tft_class *cls, const char **type_id, const char **label);

/* ------------------------------------------------------------------------
 * Scan engines (imsva_scan.c): simulated, deterministic; triggers are listed
 * in docs/imsva.md.
 * ------------------------------------------------------------------------ */
typedef struct imsva_scan_opts {
	int atse_enabled;     /* Policy > Scan Engine > Advanced Threat Scan Engine */
} imsva_scan_opts;

/* Fill part->virus_name / part->atse_name and msg->spam_score. Returns the
 * number of parts with a virus or ATSE detection. */
int imsva_scan(imsva_msg *m, const imsva_scan_opts *o);
/* The antivirus and ATSE verdicts of one buffer (caller frees both strings). */
void imsva_scan_buffer(const void *data, size_t len, const char *filename,
		       imsva_tft_class cls, const char *tft_type, int atse_enabled,
		       char **virus, char **atse);

/* ------------------------------------------------------------------------
 * Rules (imsva_policy.c, JSON form imsva_policy_json.c)
 * ------------------------------------------------------------------------ */
typedef enum { IMSVA_RULE_ANTIVIRUS = 0, IMSVA_RULE_OTHER } imsva_rule_type;

/* Built-in rules managed by the TMCM connection (evaluated before the
 * ordered list; they cannot be deleted, only disabled or renamed). */
typedef enum { IMSVA_BUILTIN_NONE = 0, IMSVA_BUILTIN_SO_FILE, IMSVA_BUILTIN_SO_URL } imsva_builtin;

typedef enum {
	IMSVA_INTERCEPT_DELIVER = 0, /* "Do not intercept": evaluation goes on */
	IMSVA_INTERCEPT_DELETE,
	IMSVA_INTERCEPT_QUARANTINE,
	IMSVA_INTERCEPT_CHANGE_RCPT,
	IMSVA_INTERCEPT_HANDOFF
} imsva_intercept;
const char *imsva_intercept_name(imsva_intercept i); /* "deliver", "delete", ... */

typedef enum { IMSVA_MATCH_ANY = 0, IMSVA_MATCH_ALL } imsva_match_mode;
typedef enum { IMSVA_KW_ANY = 0, IMSVA_KW_ALL, IMSVA_KW_NOT } imsva_kw_mode;
typedef enum { IMSVA_LEVEL_LOW = 0, IMSVA_LEVEL_MEDIUM, IMSVA_LEVEL_HIGH } imsva_level;
const char *imsva_level_name(imsva_level l); /* "low", "medium", "high" */

typedef struct imsva_strv {
	char **v;
	size_t n;
} imsva_strv;

typedef struct imsva_route {
	imsva_strv senders;    /* `*` wildcards; empty = all users */
	imsva_strv recipients; /* `*` wildcards; empty = all users */
} imsva_route;

typedef struct imsva_conditions {
	imsva_match_mode match;      /* take action when any / all set conditions match */
	int virus;                   /* an antivirus detection */
	int atse;                    /* an ATSE detection (HEUR_/EXPL_) */
	imsva_strv true_file_types;  /* class or type ids; empty = condition off */
	imsva_strv attachment_names; /* wildcards on file names; empty = off */
	int64_t size_min, size_max;  /* attachment size in bytes; -1 = no bound (both -1 = off) */
	imsva_strv kw_subject, kw_body; /* case-insensitive substrings; both empty = off */
	imsva_kw_mode kw_match;
	int spam;                    /* spam detection on for this rule */
	imsva_level spam_level;
	int wrs;                     /* web reputation on */
	imsva_level wrs_sensitivity;
	int so_file;                 /* attachment SHA-1 is a suspicious object */
	int so_url;                  /* a URL is a suspicious object */
} imsva_conditions;

typedef struct imsva_actions {
	imsva_intercept intercept;
	char *quarantine_area;       /* QUARANTINE: area name, "Default" when unset */
	imsva_strv change_rcpts;     /* CHANGE_RCPT */
	char *handoff_host;          /* HANDOFF */
	int handoff_port;
	char *tag_subject;           /* modify: prefix for the subject, NULL = off */
	char *xheader_name, *xheader_value; /* modify: insert X-header, NULL = off */
	char *stamp;                 /* modify: text appended to the body, NULL = off */
	int notify;                  /* monitor: send a notification */
	imsva_strv notify_to;        /* empty = the administrator */
	char *notify_message;
	imsva_strv bcc;              /* monitor: BCC recipients */
	int submit_va;               /* submit to Virtual Analyzer (parks the message) */
} imsva_actions;

typedef struct imsva_rule {
	int64_t id;                  /* store id; 0 until stored */
	int order;                   /* order number (1..); built-ins use 0 */
	int enabled;
	char *name;
	imsva_rule_type type;
	imsva_builtin builtin;
	char *notes;
	imsva_route route;
	imsva_conditions cond;
	imsva_actions act;
} imsva_rule;

typedef struct imsva_kw_index imsva_kw_index;

typedef struct imsva_ruleset {
	imsva_rule **rules;          /* in evaluation order (built-ins first, then by order) */
	size_t n;
	imsva_kw_index *kw;          /* every rule's keywords, one matcher; NULL = not compiled */
} imsva_ruleset;

imsva_rule *imsva_rule_new(void); /* empty rule: enabled, type Other, all users, deliver */
imsva_rule *imsva_rule_dup(const imsva_rule *r);
void imsva_rule_free(imsva_rule *r);
void imsva_ruleset_free(imsva_ruleset *s);
/* Take ownership of r; keeps evaluation order. */
void imsva_ruleset_add(imsva_ruleset *s, imsva_rule *r);
void imsva_ruleset_sort(imsva_ruleset *s);
/* Compile the keywords of all rules into one matcher, so that a message's
 * subject and body are searched once whatever the number of rules. For a
 * set that is evaluated many times; without it each evaluation compiles its
 * own. Adding a rule drops it. */
void imsva_ruleset_compile(imsva_ruleset *s);

/* Rule JSON (format in docs/imsva.md). Parsing is strict: an unknown key, a
 * wrong type or an out-of-range value fails with CTD_EINVAL; `field` (may be
 * NULL, IMSVA_FIELD_MAX bytes) receives the dotted path of the bad field, e.g.
 * "conditions.true_file_types[1]", and err->msg starts with it. "id" and
 * "builtin" are read-only: accepted on input and ignored. */
#define IMSVA_FIELD_MAX 128
imsva_rule *imsva_rule_from_json(const json_t *j, char *field, ctd_err *err);
/* Apply a partial update (JSON merge: objects merge, other values replace)
 * to a copy of `base`, validated the same way. id and builtin are kept. */
imsva_rule *imsva_rule_patch(const imsva_rule *base, const json_t *patch, char *field,
			     ctd_err *err);
json_t *imsva_rule_to_json(const imsva_rule *r);
json_t *imsva_ruleset_to_json(const imsva_ruleset *s); /* array in evaluation order */

/* Locale of the default rule names. */
typedef enum { IMSVA_LOCALE_EN = 0, IMSVA_LOCALE_JA } imsva_locale;
int imsva_locale_parse(const char *s, imsva_locale *out); /* "en", "ja" */
/* The rule set of a fresh appliance: the two built-in TMCM SO rules
 * ("TMCM_Suspicious File detection rule" / "TMCM_不審ファイル検出ルール",
 * "TMCM_Suspicious URL detection rule" / "TMCM_不審URL検出ルール"), then
 * order 1 the antivirus rule, order 2 the spam rule. */
imsva_ruleset *imsva_default_rules(imsva_locale loc);
const char *imsva_builtin_name(imsva_builtin b, imsva_locale loc);

/* ------------------------------------------------------------------------
 * Evaluation (imsva_policy_eval.c). No I/O: everything outside the message comes
 * through these callbacks (any may be NULL = "no data").
 * ------------------------------------------------------------------------ */
typedef enum {
	IMSVA_SO_NONE = 0, /* not a suspicious object */
	IMSVA_SO_LOG,      /* log a policy event, deliver */
	IMSVA_SO_BLOCK,    /* quarantine */
	IMSVA_SO_QUARANTINE
} imsva_so_action;
const char *imsva_so_action_name(imsva_so_action a); /* "none", "log", "block", "quarantine" */

typedef enum {
	IMSVA_WRS_UNRATED = 0,
	IMSVA_WRS_SAFE,
	IMSVA_WRS_SUSPICIOUS,
	IMSVA_WRS_HIGHLY_SUSPICIOUS,
	IMSVA_WRS_DANGEROUS
} imsva_wrs_class;
const char *imsva_wrs_class_name(imsva_wrs_class c); /* "Dangerous", "Highly Suspicious", ... */
/* "Dangerous" / "highly suspicious" / "highly_suspicious" ... -> class; -1 if unknown. */
int imsva_wrs_class_parse(const char *s, imsva_wrs_class *out);
/* Security level blocking: high blocks D+HS+S, medium D+HS, low D. */
int imsva_wrs_blocked(imsva_level sensitivity, imsva_wrs_class c);

typedef struct imsva_wrs_rating {
	int score;                /* SPS score (lab scale, see SPS docs) */
	imsva_wrs_class cls;
	char category[64];
	imsva_so_action so_action; /* when the URL matched a suspicious object at SPS */
	char so_type[16];          /* "url", "domain", "ip" or "" */
} imsva_wrs_rating;

typedef struct imsva_lookups {
	void *ctx;
	/* Suspicious object by attachment SHA-1 (lower-case hex). Must be O(1)-ish:
	 * the engine calls it once per distinct attachment. */
	imsva_so_action (*so_file)(void *ctx, const char *sha1);
	/* Suspicious object by URL. When NULL, the URL SO action comes from the
	 * web reputation rating's so_action (the SPS path of the seed). */
	imsva_so_action (*so_url)(void *ctx, const char *url);
	/* Web reputation of a URL. Return 0 and fill *out, or -1 when the
	 * service is unreachable (see imsva_eval_opts.wrs_defer_on_error). */
	int (*wrs)(void *ctx, const char *url, imsva_wrs_rating *out);
} imsva_lookups;

/* Virtual Analyzer state of this message, kept by the VA queue. */
typedef enum {
	IMSVA_VA_NOT_SUBMITTED = 0,
	IMSVA_VA_PENDING,  /* submitted, no verdict yet */
	IMSVA_VA_DONE,     /* `risk` holds DDAN's RiskLevel */
	IMSVA_VA_TIMEOUT,  /* the maximum analysis time expired */
	IMSVA_VA_ERROR,    /* DDAN error */
	IMSVA_VA_RELEASED  /* administrator released it from the VA queue */
} imsva_va_status;

typedef struct imsva_va_state {
	imsva_va_status status;
	int risk; /* DONE: DDAN RiskLevel 3 high, 2 medium, 1 low, 0 none, <0 error/unsupported */
} imsva_va_state;

/* VA verdict mapping for a security level (Low: High only; Medium: High and
 * Medium; High: all). Returns IMSVA_VA_ACT_ANALYZED ("Analyzed advanced
 * threat (ATSE)"), IMSVA_VA_ACT_PROBABLE (timeout, error, invalid risk:
 * "Probable advanced threat (ATSE)") or IMSVA_VA_ACT_NONE (no risk, below the
 * level, released: continue with the next rule). */
typedef enum { IMSVA_VA_ACT_NONE = 0, IMSVA_VA_ACT_ANALYZED, IMSVA_VA_ACT_PROBABLE } imsva_va_act;
imsva_va_act imsva_va_map(imsva_level security_level, const imsva_va_state *va);
const char *imsva_va_act_reason(imsva_va_act a);
#define IMSVA_REASON_VA_ANALYZED "Analyzed advanced threat (ATSE)"
#define IMSVA_REASON_VA_PROBABLE "Probable advanced threat (ATSE)"
#define IMSVA_REASON_VA_ATSE_OFF "Virtual Analyzer not used: Advanced Threat Scan Engine is off"

typedef struct imsva_eval_opts {
	int va_enabled;          /* VA submission configured (a DDAN server is set) */
	int atse_off;            /* Policy > Scan Engine > ATSE is off: no VA submission,
				  * a submit_va rule applies on its own conditions and its
				  * hit says why (docs/imsva.md, "ATSE and the Virtual Analyzer") */
	imsva_level va_level;    /* VA security level, default Low */
	int wrs_defer_on_error;  /* SPS unreachable: 1 = status DEFER, 0 = pass (not matched) */
} imsva_eval_opts;

typedef struct imsva_envelope {
	const char *sender;            /* MAIL FROM ("" for the null sender) */
	const char *const *rcpts;      /* RCPT TO addresses */
	size_t nrcpts;
} imsva_envelope;

typedef enum {
	IMSVA_EVAL_DONE = 0,  /* verdict final: apply it */
	IMSVA_EVAL_VA_SUBMIT, /* submit va_parts to VA, park, re-evaluate with the verdict */
	IMSVA_EVAL_VA_WAIT,   /* still pending (va->status PENDING): keep parked */
	IMSVA_EVAL_DEFER      /* a lookup failed and the fallback is defer: retry later */
} imsva_eval_status;

/* One matched rule = one policy event. */
typedef struct imsva_hit {
	int64_t rule_id;
	char *rule_name;
	imsva_rule_type rule_type;
	imsva_builtin builtin;
	const char *filter;      /* "Virus", "Attachment", "Size", "Content", "Spam/Phishing",
				  * "Web Reputation", "Suspicious Object", "Advanced Threat" */
	char filter_code[17];    /* IMSVA's 16-position filter code */
	char *reason;            /* e.g. "Virus: Eicar_test_file", "Analyzed advanced threat (ATSE)" */
	char *violating;         /* "name (type label); ..." or URLs; "" when none */
	imsva_intercept intercept; /* what this rule did (DELIVER when it did not intercept) */
	imsva_so_action so_action; /* the SO action that triggered it, or NONE */
	char action_code[18];    /* IMSVA's 17-position action code of this rule */
} imsva_hit;

typedef struct imsva_xheader {
	char *name, *value;
} imsva_xheader;

typedef struct imsva_notify {
	char *rule_name;
	imsva_strv to;           /* empty = administrator */
	char *message;
} imsva_notify;

typedef struct imsva_url_rating {
	char *url;
	int queried;             /* wrs callback called */
	int error;               /* wrs callback returned -1 */
	imsva_wrs_rating rating;
	imsva_so_action so_action; /* effective URL SO action */
} imsva_url_rating;

typedef struct imsva_verdict {
	imsva_eval_status status;
	/* Final disposition (DELIVER unless a rule intercepted). */
	imsva_intercept intercept;
	int terminal_hit;        /* index in hits of the intercepting rule, -1 */
	char *quarantine_area;
	imsva_strv new_rcpts;
	char *handoff_host;
	int handoff_port;
	/* Accumulated non-intercept actions, in rule order. */
	imsva_strv subject_tags;
	imsva_xheader *xheaders; /* one per name: the last rule's value wins */
	size_t nxheaders;
	imsva_strv stamps;
	imsva_notify *notifies;
	size_t nnotifies;
	imsva_strv bcc;
	imsva_hit *hits;
	size_t nhits;
	char action_code[18];    /* of the whole message (OR of the hits, Delivered if not intercepted) */
	/* IMSVA_EVAL_VA_SUBMIT / VA_WAIT: the rule that wants VA and the parts to submit. */
	int64_t va_rule_id;
	char *va_rule_name;
	size_t *va_parts;
	size_t nva_parts;
	/* Web reputation results of the URLs that were looked up (for wrsagent logs). */
	imsva_url_rating *urls;
	size_t nurls;
	int lookup_error;        /* some lookup failed (the caller logs a system event) */
	int va_skipped_atse_off; /* a submit_va rule applied without VA: ATSE is off */
} imsva_verdict;

/* Evaluate the rules in order. Rules whose route does not match are skipped;
 * a disabled rule is skipped; a matching rule's non-intercept actions
 * accumulate and the first intercepting rule ends evaluation. A matching rule
 * with submit_va (and opts->va_enabled) needs the VA verdict: with va NULL or
 * NOT_SUBMITTED the result is IMSVA_EVAL_VA_SUBMIT (nothing applied yet);
 * with PENDING, IMSVA_EVAL_VA_WAIT; otherwise imsva_va_map() decides whether
 * the rule applies (its hit reason is the VA reason) or evaluation continues
 * with the next rule. Evaluation is deterministic, so resuming a parked
 * message is "evaluate again with its VA state".
 * The message must have been scanned (imsva_scan). Returns -1 only on bad
 * arguments. Free the verdict with imsva_verdict_free(). */
int imsva_policy_evaluate(const imsva_ruleset *rules, const imsva_msg *m,
			  const imsva_envelope *env, const imsva_lookups *lk,
			  const imsva_eval_opts *opts, const imsva_va_state *va,
			  imsva_verdict *out, ctd_err *err);
void imsva_verdict_free(imsva_verdict *v);
/* Route test on its own (`*` wildcards, case-insensitive; empty = all users):
 * the sender matches and at least one recipient matches. */
int imsva_route_match(const imsva_route *r, const imsva_envelope *env);

/* Apply a verdict's modify actions to the raw message: subject tags (in
 * order), X-headers, body stamps. *out is malloc'd. */
int imsva_msg_rewrite(const char *raw, size_t len, const imsva_verdict *v, char **out,
		      size_t *outlen, ctd_err *err);

/* ------------------------------------------------------------------------
 * Persistence (imsva_rules_store.c, table imsva_rules in schema/020_imsva.sql).
 * Each call runs its own short transaction (do not call inside another one).
 * Order numbers stay unique among ordinary rules: creating or moving a rule to
 * an order that is taken shifts the rules at and after it down by one; order
 * 0 (or absent) on create means "last". Names are unique (CTD_ECONFLICT).
 * ------------------------------------------------------------------------ */
/* First start: when the table is empty, insert imsva_default_rules(loc).
 * Returns the number of rules inserted. */
int imsva_rules_seed(store *st, imsva_locale loc, ctd_err *err);
/* Locale option changed: built-in rules still carrying a default name (of
 * either locale) take loc's name; renamed rules are left alone. Returns the
 * number of rules renamed. */
int imsva_rules_localize(store *st, imsva_locale loc, ctd_err *err);
int imsva_rules_load(store *st, imsva_ruleset **out, ctd_err *err);
int imsva_rules_get(store *st, int64_t id, imsva_rule **out, ctd_err *err); /* ENOTFOUND */
/* Insert r (r->id is set; r->order may change to its final position). */
int imsva_rules_create(store *st, imsva_rule *r, ctd_err *err);
/* Policy List > Copy: a new ordinary rule, last, named "Copy of <name>". */
int imsva_rules_copy(store *st, int64_t id, imsva_rule **out, ctd_err *err);
/* Replace the stored rule r->id (ENOTFOUND); built-in kind is preserved. */
int imsva_rules_update(store *st, imsva_rule *r, ctd_err *err);
/* Delete; built-in rules give CTD_ECONFLICT. */
int imsva_rules_delete(store *st, int64_t id, ctd_err *err);
/* Bumped on every change, so a daemon can cache the loaded rule set. */
int64_t imsva_rules_generation(store *st);
/* Change the generation without touching a rule (a setting the cached
 * policy depends on changed, e.g. ATSE on/off). Inside the caller's transaction. */
int imsva_rules_touch(store *st, ctd_err *err);

#endif
