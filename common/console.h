/* console.h - the web console every appliance serves: the shell of
 * common/console/ (login, header, menu tree, page area, helpers) and the
 * appliance's own files of mocks/<x>/console/ (its descriptor and page
 * modules), both embedded at build time (tools/embed_console.sh), served
 * over the daemon's main listener next to its JSON API.
 *
 * Routes (all public; the pages call the daemon's authenticated JSON API):
 *   GET <entry>                 the shell's index.html ("/console.imss")
 *   GET /                       302 to <entry> (when the entry is not "/")
 *   GET /_console/shell/<file>  a file of common/console/
 *   GET /_console/app/<file>    a file of mocks/<x>/console/
 *   GET /_console/config        {appliance, entry, user, locale, timezone}
 *   GET /_console/session       the cookie's session {user, csrf} or 401 */
#ifndef CTD_CONSOLE_H
#define CTD_CONSOLE_H

#include <stddef.h>
#include "http_server.h"

typedef struct console_file {
	const char *path; /* relative to the embedded folder: "pages/dashboard.js" */
	const unsigned char *data;
	size_t len;
} console_file;

typedef struct console_files {
	const console_file *files;
	size_t count;
} console_files;

/* common/console/, embedded into libctd. */
extern const console_files console_shell_files;
/* mocks/<x>/console/ of each appliance, embedded into lib<x>. */
extern const console_files imsva_console_files, ddan_console_files, tmcm_console_files,
	sps_console_files, ddi_console_files;

typedef struct console_site {
	const char *appliance;      /* "imsva" */
	const char *entry;          /* path of the console page: "/console.imss" */
	const console_files *files; /* mocks/<x>/console/, embedded into lib<x> */
	const char *locale;         /* en | ja: the lab's default (the page may switch) */
	const char *timezone;       /* IANA name; "": the browser's */
} console_site;

#define CONSOLE_MAX_ROUTES 6

/* Fill out (CONSOLE_MAX_ROUTES entries) with the console's routes; returns
 * how many. site is copied; one console per process. */
size_t console_routes(const console_site *site, http_route *out);

/* The embedded file at path, or NULL. */
const console_file *console_file_find(const console_files *files, const char *path);
/* Content type from the file name's extension. */
const char *console_content_type(const char *path);

#endif
