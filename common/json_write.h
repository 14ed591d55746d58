/* json_write.h - compact JSON text straight into an sbuf: a jansson value
 * (what http_resp_json sends), or strings and numbers one by one for a
 * handler that writes a large answer without building a tree first (integers:
 * sbuf_put_int). The text
 * is json_dumps(JSON_COMPACT | JSON_ENCODE_ANY)'s, byte for byte, at a
 * fraction of its cost; where jansson would fail (a string holding invalid
 * UTF-8) the bad bytes become U+FFFD instead. */
#ifndef CTD_JSON_WRITE_H
#define CTD_JSON_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util.h"

void json_write(sbuf *b, const json_t *v);
/* s (n bytes) as a quoted, escaped JSON string. */
void json_write_str(sbuf *b, const char *s, size_t n);

#endif
