/* http_internal.h - what the HTTP server's files share among themselves
 * (not for daemons: use http_server.h). */
#ifndef CTD_HTTP_INTERNAL_H
#define CTD_HTTP_INTERNAL_H

/* Free a request's parsed form (http_req.form); NULL is fine. */
void http_form_free(void *form);

/* A fault rule for the request about to run its handler (http_fault.c):
 * 0 none (run the handler), 1 the answer is in resp, -1 close the connection
 * without an answer (drop, or reset: armed on the socket). */
struct http_req;
struct http_resp;
int http_fault_apply(struct http_req *req, struct http_resp *resp);

#endif
