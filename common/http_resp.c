/* http_resp.c - building a handler's response: status, content type, body
 * (JSON, text or bytes), extra headers, and the uniform JSON error body
 * {"error":{"code":"...","message":"..."}}. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_server.h"
#include "json_write.h"
#include "log.h"

/* What a 503 for a busy store tells the client to wait (seconds). */
#define BUSY_RETRY_AFTER "2"

void http_resp_header(http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders == HTTP_MAX_RESP_HEADERS) {
		log_error("http.resp", "header=%s error=\"too many response headers\"", name);
		return;
	}
	resp->header_name[resp->nheaders] = xstrdup(name);
	resp->header_value[resp->nheaders++] = xstrdup(value);
}

void http_resp_bytes(http_resp *resp, int status, const char *ctype, const void *data,
		     size_t len)
{
	resp->status = status;
	resp->content_type = ctype;
	resp->body.len = 0;
	if (len)
		sbuf_append(&resp->body, data, len);
}

void http_resp_text(http_resp *resp, int status, const char *ctype, const char *text)
{
	http_resp_bytes(resp, status, ctype ? ctype : "text/plain; charset=utf-8", text,
			strlen(text));
}

void http_resp_json(http_resp *resp, int status, json_t *body)
{
	http_resp_bytes(resp, status, "application/json", NULL, 0);
	if (body)
		json_write(&resp->body, body);
	else
		sbuf_puts(&resp->body, "null");
	json_decref(body);
}

void http_resp_error(http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *message = json_string(msg);
	if (!message) {
		/* not UTF-8 (an echoed path or header): keep the ASCII part readable */
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		message = json_string(msg);
	}
	http_resp_json(resp, status, json_pack("{s:{s:s, s:o}}", "error", "code",
					       code ? code : "error",
					       "message", message));
}

void http_resp_ctd_err(http_resp *resp, const ctd_err *err)
{
	/* busy (a writer holds the store, a budget is spent) passes: say when to retry */
	if (err->code == CTD_EBUSY)
		http_resp_header(resp, "Retry-After", BUSY_RETRY_AFTER);
	http_resp_error(resp, ctd_errcode_http(err->code), ctd_errcode_name(err->code), "%s",
			err->msg);
}

void http_resp_result(http_resp *resp, json_t *body, const ctd_err *err)
{
	if (body)
		http_resp_json(resp, 200, body);
	else
		http_resp_ctd_err(resp, err);
}
