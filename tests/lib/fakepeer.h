/* fakepeer.h - the one in-test stand-in for a lab peer, served with the
 * chassis HTTP server: the DTAS services a DDAN answers (register,
 * test_connection, check_duplicate_sample, upload_sample, get_brief_report),
 * a DDAN/TMCM/DDI suspicious-object feed (get_black_lists, paged), and SPS's
 * web reputation query (GET /wrs/v1/query?url=). Tests set the answers in
 * `peer` (under peer_lock once the server runs); counters show what the
 * daemon under test asked. With peer.key set, every DTAS request must carry
 * a valid X-DTAS-Checksum made with it (else 401, counted). One peer per
 * test program; several servers may share it. */
#ifndef CTD_FAKEPEER_H
#define CTD_FAKEPEER_H

#include <pthread.h>
#include <stddef.h>
#include "http_server.h"
#include "sofeed.h"

#define PEER_MAX_SO 8192
#define PEER_MAX_KNOWN 8

typedef struct fake_peer {
	char key[64];   /* "" accepts any checksum */
	int down;       /* answer every DTAS call 503 */
	int page;       /* SO feed page size (0: 1000) */
	/* DDAN: samples it has (check_duplicate says so; brief: 4, risk 3);
	 * any other sample gets brief_status / brief_risk. An upload adds its
	 * X-DTAS-SHA1, else the sample of the last check_duplicate_sample. */
	char known[PEER_MAX_KNOWN][41];
	int nknown;
	char last_checked[41];
	int brief_status, brief_risk;
	int registers, tests, duplicate_checks, uploads, brief_queries, bad_checksums;
	/* the SO feed: records with ids 1..nso */
	so_record so[PEER_MAX_SO];
	int nso;
	int feed_pulls;
	long long last_cursor;
	/* SPS */
	char wrs_rating[32], wrs_so_action[16];
	int wrs_score, wrs_queries;
	char last_url[512];
} fake_peer;

extern fake_peer peer;
extern pthread_mutex_t peer_lock;

/* Back to the defaults: no key, brief 4 / risk 3, WRS "Safe" 71, empty feed. */
void peer_reset(void);
/* Add (or change: a new change id) an SO in the feed: risk High, from DDAN. */
void peer_so(const char *type, const char *value, const char *action);
/* Add a whole record; its id is the next one, value is copied. */
void peer_add_so(const so_record *r);
/* Start the peer (reset first) on port (0: ephemeral); its base URL goes to url. */
http_server *peer_start_on(int port, char *url, size_t len);
http_server *peer_start(char *url, size_t len);
/* Another server answering from the same peer (no reset). */
http_server *peer_serve(char *url, size_t len);
void peer_stop(http_server *srv);
/* Read a counter of peer under the lock. */
int peer_get(const int *field);

#endif
