/* http_req.c - what a handler reads from a request: headers (also in wire
 * order, for the DTAS checksum), query arguments, route parameters, the
 * client address, the body as JSON, and form fields of multipart/form-data or
 * urlencoded bodies (parsed once, lazily, by MHD's post processor). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "http_internal.h"
#include "http_server.h"
#include "net.h"

#define POST_BUFFER_SIZE 65536

typedef struct form_field {
	char *name, *filename, *ctype;
	sbuf data;
} form_field;

typedef struct http_form {
	form_field *fields;
	size_t n, cap;
} http_form;

const char *http_req_header(const http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_param(const http_req *req, const char *name)
{
	for (int i = 0; i < req->nparams; i++)
		if (strcmp(req->param_name[i], name) == 0)
			return req->param_value[i];
	return NULL;
}

typedef struct header_walk {
	void (*cb)(const char *name, const char *value, void *cls);
	void *cls;
} header_walk;

static enum MHD_Result header_visit(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	header_walk *w = cls;
	w->cb(key, value ? value : "", w->cls);
	return MHD_YES;
}

/* MHD keeps request headers in a list appended in arrival order. */
void http_req_each_header(const http_req *req,
			  void (*cb)(const char *name, const char *value, void *cls), void *cls)
{
	header_walk w = {cb, cls};
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, header_visit, &w);
}

const struct sockaddr *http_req_client_addr(const http_req *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci ? ci->client_addr : NULL;
}

void http_req_client_ip(const http_req *req, char *out, size_t outlen)
{
	net_addr_text(http_req_client_addr(req), out, outlen);
}

json_t *http_req_json(const http_req *req, http_resp *resp)
{
	json_error_t jerr;
	json_t *doc = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &jerr);
	if (!doc)
		http_resp_error(resp, 400, ctd_errcode_name(CTD_EINVAL),
				"invalid JSON body: %s (line %d, column %d)", jerr.text, jerr.line,
				jerr.column);
	return doc;
}

/* ---- forms ------------------------------------------------------------ */

/* MHD hands a field's value in pieces; a piece at offset 0 starts a field. */
static enum MHD_Result form_piece(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *filename, const char *content_type,
				  const char *transfer_encoding, const char *data, uint64_t off,
				  size_t size)
{
	http_form *f = cls;
	if (off == 0 || f->n == 0 || strcmp(f->fields[f->n - 1].name, key) != 0) {
		if (f->n == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 8;
			f->fields = xrealloc(f->fields, f->cap * sizeof *f->fields);
		}
		form_field *nf = &f->fields[f->n++];
		*nf = (form_field){0};
		nf->name = xstrdup(key ? key : "");
		nf->filename = filename ? xstrdup(filename) : NULL;
		nf->ctype = content_type ? xstrdup(content_type) : NULL;
	}
	if (size)
		sbuf_append(&f->fields[f->n - 1].data, data, size);
	return MHD_YES;
}

static http_form *form_parse(http_req *req)
{
	http_form *f = xcalloc(1, sizeof *f);
	struct MHD_PostProcessor *pp =
		MHD_create_post_processor(req->conn, POST_BUFFER_SIZE, form_piece, f);
	if (pp) {
		MHD_post_process(pp, req->body, req->body_len);
		MHD_destroy_post_processor(pp);
	}
	return f;
}

int http_req_form(http_req *req, const char *field, const char **data, size_t *len,
		  const char **filename, const char **ctype)
{
	if (!req->form)
		req->form = form_parse(req);
	http_form *f = req->form;
	for (size_t i = 0; i < f->n; i++) {
		form_field *ff = &f->fields[i];
		if (strcmp(ff->name, field) != 0)
			continue;
		if (data)
			*data = ff->data.data ? ff->data.data : "";
		if (len)
			*len = ff->data.len;
		if (filename)
			*filename = ff->filename;
		if (ctype)
			*ctype = ff->ctype;
		return 0;
	}
	return -1;
}

void http_form_free(void *form)
{
	http_form *f = form;
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		free(f->fields[i].filename);
		free(f->fields[i].ctype);
		sbuf_free(&f->fields[i].data);
	}
	free(f->fields);
	free(f);
}
