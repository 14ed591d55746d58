/* err.c - the error vocabulary: fill a ctd_err and map codes to names and
 * HTTP statuses. */
#include <stdarg.h>
#include <stdio.h>
#include "err.h"

static const struct {
	const char *name;
	int http;
} codes[] = {
	[CTD_OK] = {"ok", 200},
	[CTD_EINVAL] = {"invalid", 400},
	[CTD_EAUTH] = {"unauthorized", 401},
	[CTD_EFORBID] = {"forbidden", 403},
	[CTD_ENOTFOUND] = {"not_found", 404},
	[CTD_ECONFLICT] = {"conflict", 409},
	[CTD_ETOOBIG] = {"too_large", 413},
	[CTD_EBUSY] = {"busy", 503},
	[CTD_EIO] = {"io_error", 502},
	[CTD_ESTORE] = {"store_error", 500},
	[CTD_EINTERNAL] = {"internal", 500},
};

int ctd_fail(ctd_err *err, ctd_errcode code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void ctd_err_clear(ctd_err *err)
{
	if (err) {
		err->code = CTD_OK;
		err->msg[0] = '\0';
	}
}

static int valid(ctd_errcode code)
{
	return code >= CTD_OK && code <= CTD_EINTERNAL;
}

const char *ctd_errcode_name(ctd_errcode code)
{
	return valid(code) ? codes[code].name : "internal";
}

int ctd_errcode_http(ctd_errcode code)
{
	return valid(code) ? codes[code].http : 500;
}
