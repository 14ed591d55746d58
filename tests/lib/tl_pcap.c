/* tl_pcap.c - capture files for the DDI tests (tl_pcap.h). */
#include "tl_pcap.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "util.h"
#include "ddi/ddi_pcapgen.h"

void tl_pcap_download(const char *path, const char *host, const char *target, const char *body)
{
	ddi_pcapgen *g = ddi_pcapgen_open(path, DLT_EN10MB);
	ck_assert_ptr_nonnull(g);
	char *req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: test\r\n\r\n", target, host);
	char *resp = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			       "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	ddi_pcapgen_session s = {"192.168.10.20", "198.51.100.9", 49152, 80, req, strlen(req),
				 resp, strlen(resp), 16, 1, 0, 0};
	ck_assert_int_eq(ddi_pcapgen_add(g, &s), 0);
	ddi_pcapgen_close(g);
	free(req);
	free(resp);
}
