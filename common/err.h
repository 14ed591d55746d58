/* err.h - the one error vocabulary of ctdlab.
 *
 * Library code returns a status (0 = ok, -1 = failed) and fills a ctd_err the
 * caller can log or turn into a protocol reply (HTTP status, SMTP code). */
#ifndef CTD_ERR_H
#define CTD_ERR_H

typedef enum {
	CTD_OK = 0,
	CTD_EINVAL,    /* malformed or out-of-range input          -> 400 */
	CTD_EAUTH,     /* missing or wrong credentials             -> 401 */
	CTD_EFORBID,   /* authenticated but not allowed            -> 403 */
	CTD_ENOTFOUND, /* unknown id, path or object               -> 404 */
	CTD_ECONFLICT, /* state does not allow the operation       -> 409 */
	CTD_ETOOBIG,   /* body, message or field over its limit    -> 413 */
	CTD_EBUSY,     /* temporarily unavailable, try again       -> 503 */
	CTD_EIO,       /* file, network or peer failure            -> 502 */
	CTD_ESTORE,    /* database failure                         -> 500 */
	CTD_EINTERNAL  /* bug or resource exhaustion               -> 500 */
} ctd_errcode;

typedef struct ctd_err {
	ctd_errcode code;
	char msg[256];
} ctd_err;

/* Fill err (may be NULL) and return -1, so callers can `return ctd_fail(...)`. */
int ctd_fail(ctd_err *err, ctd_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctd_err_clear(ctd_err *err);
/* Stable machine-readable name ("invalid", "not_found", ...). */
const char *ctd_errcode_name(ctd_errcode code);
/* The HTTP status that a daemon answers for this code. */
int ctd_errcode_http(ctd_errcode code);

#endif
