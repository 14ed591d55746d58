/* dtas.h - the DDAN "Web Service API" (DTAS) as both sides use it: the
 * X-DTAS-Checksum rule (docs: shared reference ddan-web-service-api.md §2.2)
 * and a signing client that IMSVA, TMCM, DDI and dtascli use to talk to a DDAN
 * (or to anything serving the DTAS-style SO feed). */
#ifndef CTD_DTAS_H
#define CTD_DTAS_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "http_client.h"
#include "http_server.h"

#define DTAS_PREFIX "/web_service/sample_upload/"

typedef struct dtas_header {
	const char *name, *value;
} dtas_header;

/* SHA-1 hex (lower case, 41 bytes with NUL) of
 *   api_key + value(h1) + ... + value(hn) + body
 * where h1..hn are the headers named by `order` (comma-separated, may be
 * NULL), else every X-DTAS-* header of hdrs except X-DTAS-Checksum*, in the
 * given (wire) order. Names match case-insensitively. body may be NULL. */
void dtas_checksum(const char *api_key, const dtas_header *hdrs, size_t nhdrs, const char *order,
		   const void *body, size_t body_len, char out[41]);

/* A client owns copies of all its strings: set it up with dtas_client_init
 * and release it with dtas_client_free, never field by field. */
typedef struct dtas_client {
	char *base_url;     /* "https://127.0.0.1:8443" */
	char *api_key;
	char *client_uuid;
	char *product_name; /* X-DTAS-ProductName, e.g. "IMSVA" */
	char *hostname;
	char *source_id;    /* e.g. "103" */
	char *source_name;
	char *protocol_version; /* "1.5" */
	char *ca_file;      /* the copy http.ca_file points to */
	http_client_opts http;
} dtas_client;

/* Who the client is and where it talks to; the strings are borrowed. */
typedef struct dtas_client_spec {
	const char *base_url, *api_key, *client_uuid, *product_name, *source_id, *source_name;
	const char *hostname;         /* NULL or "": this machine's name */
	const char *protocol_version; /* NULL: "1.5" */
	http_client_opts http;        /* its ca_file is copied too */
} dtas_client_spec;
/* Copy spec into c (NULL strings stay NULL, except the defaults above). */
void dtas_client_init(dtas_client *c, const dtas_client_spec *spec);
void dtas_client_free(dtas_client *c);

/* One signed call to DTAS_PREFIX<service>. extra: "X-DTAS-Name: value" lines,
 * NULL-terminated (may be NULL). A PUT body enters the checksum; a form does not. */
int dtas_call(const dtas_client *c, const char *method, const char *service,
	      const char *const *extra, const void *body, size_t body_len,
	      const http_form_part *form, size_t nform, http_response *resp, ctd_err *err);

int dtas_register(const dtas_client *c, ctd_err *err);
int dtas_test_connection(const dtas_client *c, ctd_err *err);
/* Build the tgz (<sha1>.dat/.meta/.log) and PUT it to upload_sample. */
int dtas_upload_sample(const dtas_client *c, const void *data, size_t len, const char *filename,
		       int sample_type /* 0 file, 1 URL */, char sha1_out[41], ctd_err *err);
/* check_duplicate_sample for one SHA-1: 1 known, 0 unknown. */
int dtas_is_duplicate(const dtas_client *c, const char *sha1, ctd_err *err);

typedef struct dtas_brief {
	char sha1[41];
	int status;     /* 0 not found? 1 not found, 2 arrived, 3 processing, 4 done, 5 error, 6 timeout */
	int risk_level; /* -1 unknown; 0 no risk; 1 low; 2 medium; 3 high */
} dtas_brief;
/* get_brief_report for n SHA-1s; out has n entries in the same order. */
int dtas_brief_report(const dtas_client *c, const char *const *sha1s, size_t n, dtas_brief *out,
		      ctd_err *err);

/* The server side: verify a request's X-DTAS-Checksum (over the API key, the
 * ChecksumCalculatingOrder headers - else every X-DTAS-* header in wire
 * order - and the body of a non-multipart PUT) against each accepted key.
 * An order header that signs none of the headers identifying the request
 * (dtas_order_identifies) is refused ("weak_order"): its checksum would
 * authorise any call. Time and Challenge may be reused (every public client
 * does), so there is no replay cache. */
typedef struct dtas_verify {
	const char *const *keys; /* accepted API keys, tried in order; empty ones never match */
	size_t nkeys;
	int64_t max_skew_ms;     /* > 0: X-DTAS-Time (epoch s or ms) must be this close */
	int lenient_body;        /* also accept a checksum computed without the PUT body */
	/* results */
	int key_index;           /* the key that verified */
	const char *reason;      /* on failure: "missing_header", "weak_order",
				  * "bad_checksum", "bad_time" or "stale_time" */
} dtas_verify;
/* 0 when the request verifies (v->key_index set), else -1 with CTD_EAUTH, a
 * message a developer can act on, and v->reason. With req->body_pending (the
 * headers-time check) a request whose body the checksum covers is only
 * checked for its checksum header and time (key_index stays -1). */
int dtas_verify_request(const http_req *req, dtas_verify *v, ctd_err *err);

/* ---- added by the DDAN module (pure helpers, also used by ddand and tests) ---- */

/* Initialise libxml2 once per process (thread-safe); the DTAS/SO feed XML
 * helpers call it themselves. */
void dtas_xml_init(void);
/* 1 when the ChecksumCalculatingOrder list names at least one header that
 * identifies a request: X-DTAS-Time, X-DTAS-Challenge, X-DTAS-ClientUUID or a
 * call's own X-DTAS-* header (any but the ones every call carries:
 * ProtocolVersion, ProductName, ClientHostname, SourceID, SourceName). */
int dtas_order_identifies(const char *order);
/* The first header named in `order` that hdrs lack (copied into name_out), or
 * NULL when all are present: a server's "missing header" reason. */
const char *dtas_order_missing(const dtas_header *hdrs, size_t nhdrs, const char *order,
			       char *name_out, size_t name_cap);
/* The upload_sample archive (tar+gzip) holding <sha1>.meta, <sha1>.log and
 * <sha1>.dat (lower-case names, as the PHP client writes), appended to out.
 * sha1_out gets the sample's SHA-1 in upper case (dtas_upload_sample too). */
int dtas_build_sample_tgz(const dtas_client *c, const void *data, size_t len, const char *filename,
			  int sample_type, int64_t now_ms, sbuf *out, char sha1_out[41], ctd_err *err);
/* Parse a get_brief_report answer (REPORT/BRIEF_REPORT/{SHA1,STATUS,RiskLevel})
 * into out[n] for the asked sha1s (matched by SHA1, else by position);
 * unanswered entries get status 1 (not found), risk -1. */
int dtas_brief_parse(const char *xml, size_t len, const char *const *sha1s, size_t n,
		     dtas_brief *out, ctd_err *err);

#endif
