/* sofeed.h - the suspicious-object feed every SO source serves (DDAN, DDI,
 * TMCM) and every consumer pulls (TMCM, IMSVA, SPS), DTAS style:
 *   GET /web_service/sample_upload/get_black_lists, X-DTAS-LastQueryID: N
 * Each change to an object (new, action changed, expired, removed) gets a new
 * monotonic ID, so "everything with ID > N" is the incremental update.
 * Element names are ours; docs/so-feed.md documents them. */
#ifndef CTD_SOFEED_H
#define CTD_SOFEED_H

#include <stdint.h>
#include "err.h"
#include "util.h"
#include "dtas.h"

typedef struct so_record {
	int64_t id;             /* change sequence number (the cursor) */
	char type[8];           /* FILE | URL | DOMAIN | IP */
	char *value;            /* upper-case SHA-1, normalised URL, domain or IP */
	char risk[8];           /* High | Medium | Low */
	char *source;           /* where it came from: "DDAN", "DDI", "UDSO" ... */
	int64_t first_seen_ms, last_seen_ms;
	int64_t expires_ms;     /* 0 = never expires */
	char related_sha1[41];  /* latest related sample, may be "" */
	char action[12];        /* TMCM only: log | block | quarantine; "" elsewhere */
	int removed;            /* 1: expired, excepted or deleted: consumers drop it */
} so_record;

/* Serialise: begin, add each record, end. A record XML 1.0 cannot carry (a
 * control character or a byte that is not UTF-8 in a string, old data) is
 * logged and left out: add returns 1 when written, 0 when skipped, and the
 * page stays well-formed. */
void sofeed_xml_begin(sbuf *out);
int sofeed_xml_add(sbuf *out, const so_record *r);
/* last_id: highest ID in this page (or the cursor given); more: 1 if a further
 * page exists. */
void sofeed_xml_end(sbuf *out, int64_t last_id, int more);

/* Parse a feed page, calling cb for each record (fields valid during the call).
 * Records are checked by the content rules (so_content.h) and carry the
 * canonical value; a bad record (or one with characters XML cannot carry) is
 * logged and skipped, its ID still counting for last_id.
 * cb returns 0 to go on, -1 to abort. REPORT elements are found at any depth,
 * so get_suspicious_object_by_sha1's Return/REPORTS/REPORT parses too.
 * Records go to cb as they are read: on a page that turns out malformed
 * (-1, CTD_EINVAL) cb has seen the records before the fault. */
int sofeed_parse(const char *xml, size_t len, int (*cb)(const so_record *r, void *cls), void *cls,
		 int64_t *last_id, int *more, ctd_err *err);

/* Pull every page after *cursor from a feed, calling cb per record, and
 * advance *cursor. Returns the number of records, or -1 (records handed to
 * cb before a failure are handed again by the next pull: the cursor did not
 * move past them). While cb reads a page the next one is fetched, in a
 * thread of its own, when the page's end tells where it starts. */
long sofeed_pull(const dtas_client *c, int64_t *cursor,
		 int (*cb)(const so_record *r, void *cls), void *cls, ctd_err *err);

/* Records kept past the callback: copies owning their value and source. */
typedef struct so_record_list {
	so_record *rec;
	size_t n, cap;
} so_record_list;
void so_record_list_add(so_record_list *l, const so_record *r);
void so_record_list_clear(so_record_list *l); /* empty it, keep the array */
void so_record_list_free(so_record_list *l);

#endif
