/* tl_dtas.h - a lab product talking DTAS to a DDAN (or a TMCM/DDI feed) in
 * the integration tests: one registered client, the sample upload, and a
 * bounded wait for DDAN's verdict (tl_dtas.c). The daemons under test have
 * their own clients; this is the test's side. */
#ifndef CTD_TL_DTAS_H
#define CTD_TL_DTAS_H

#include <stddef.h>
#include "dtas.h"

/* A client with a test product's identity (product "IMSVA", source 103)
 * registered at url with key; asserts the registration. Free with
 * dtas_client_free. */
void tl_dtas_client(dtas_client *c, const char *url, const char *key);
/* Upload data as a file sample called name; its SHA-1 (upper case) into sha1. */
void tl_ddan_upload(const dtas_client *c, const void *data, size_t len, const char *name,
		    char sha1[41]);
/* Poll get_brief_report until the sample is analysed (bounded: ~30 s);
 * asserts it finished and returns its risk level. */
int tl_ddan_wait_verdict(const dtas_client *c, const char *sha1);

#endif
