/* filetype.h - the one owner of libmagic: true file types by content. The
 * magic database is loaded into a small pool of handles (one more only when
 * every handle is busy, at most 4); threads classify in parallel, each on a
 * handle of its own. A missing database is an error, never a silent "data". */
#ifndef CTD_FILETYPE_H
#define CTD_FILETYPE_H

#include <stddef.h>
#include "err.h"

typedef enum filetype_view {
	FILETYPE_DESCRIPTION, /* "PE32 executable (GUI) Intel 80386, for MS Windows" */
	FILETYPE_MIME         /* "application/x-dosexec" */
} filetype_view;

/* Load the database now (daemons call it at start so a broken install is
 * reported there); later calls are free. */
int filetype_init(ctd_err *err);
/* libmagic's answer for the buffer, copied into out (cut at cap). */
int filetype_of(const void *data, size_t len, filetype_view view, char *out, size_t cap,
		ctd_err *err);

#endif
