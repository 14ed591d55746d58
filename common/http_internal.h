/* http_internal.h - what the HTTP server's files share among themselves
 * (not for daemons: use http_server.h). */
#ifndef CTD_HTTP_INTERNAL_H
#define CTD_HTTP_INTERNAL_H

/* Free a request's parsed form (http_req.form); NULL is fine. */
void http_form_free(void *form);

#endif
