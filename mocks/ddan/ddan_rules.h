/* ddan_rules.h - DDAN's deterministic "Virtual Analyzer": a JSON rules file
 * decides each object's risk (content markers, EICAR, SHA-1 lists, true file
 * types, file names, URL patterns); archives are unpacked with libarchive and
 * URLs pulled out of text, HTML and Office XML. Pure: no store, no network. */
#ifndef DDAN_RULES_H
#define DDAN_RULES_H

#include <stddef.h>
#include <jansson.h>
#include "err.h"

typedef struct ddan_rules ddan_rules;

/* The rules compiled into the binary (docs/ddan.md lists them). */
extern const char ddan_default_rules_json[];

/* Parse and validate a rules document; NULL with err naming the problem. */
ddan_rules *ddan_rules_parse(const char *json_text, size_t len, ctd_err *err);
/* rules_file empty or NULL: the built-in rules. */
ddan_rules *ddan_rules_load(const char *rules_file, ctd_err *err);
void ddan_rules_free(ddan_rules *r);
size_t ddan_rules_count(const ddan_rules *r);

/* Analyse one sample. sample_type 0 = file (data = bytes), 1 = URL (data =
 * the URL text). password: archive password from the meta (may be NULL).
 * Returns a new JSON object (caller decrefs):
 *   {"status": 4|5|6, "risk": -1..3, "virus_name": "...", "true_type": "...",
 *    "objects": [{"sha1","sha256","md5","name","size","true_type","mime",
 *                 "risk","virus_name","rules":[names],"parent_sha1",
 *                 "relationship"}],            -- first is the sample itself
 *    "urls": [{"url","host","risk","rule"}],   -- risk -1: no URL rule matched
 *    "events": [{"event","details"}]}          -- the sandbox event log */
json_t *ddan_analyze(const ddan_rules *r, int sample_type, const void *data,
		     size_t len, const char *name, const char *password);

/* The result of an analysis that could not run (status 5, the details in the
 * event log), in ddan_analyze's shape. */
json_t *ddan_error_result(const char *details);

/* URLs found in a buffer (text scan), appended to arr as strings, de-duplicated. */
void ddan_urls_in_text(const char *data, size_t len, json_t *arr);

/* Normalise a URL (lower-case scheme and host); NULL if it is not http(s). Sets
 * host_out (malloc'd) when given. */
char *ddan_url_normalize(const char *url, char **host_out);
/* 1 if host is an IPv4/IPv6 literal. */
int ddan_host_is_ip(const char *host);

#endif
