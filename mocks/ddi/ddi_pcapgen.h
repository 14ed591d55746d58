/* ddi_pcapgen.h - synthetic TCP conversations written as pcap files (libpcap
 * dump API), for DDI's tests and demos. */
#ifndef DDI_PCAPGEN_H
#define DDI_PCAPGEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct ddi_pcapgen ddi_pcapgen;

/* dlt: DLT_EN10MB, DLT_LINUX_SLL or DLT_RAW. NULL when the file cannot be written. */
ddi_pcapgen *ddi_pcapgen_open(const char *path, int dlt);

typedef struct ddi_pcapgen_session {
	const char *client_ip, *server_ip; /* both IPv4 or both IPv6 */
	uint16_t client_port, server_port;
	const void *req;
	size_t req_len;
	const void *resp;
	size_t resp_len;
	size_t mss;    /* segment size (0: 1400) */
	int reorder;   /* swap adjacent segments */
	int duplicate; /* send every segment twice */
	int vlan;      /* Ethernet only: an 802.1Q tag */
} ddi_pcapgen_session;

/* Stamp the following packets from ts_us (µs since the epoch) on. */
void ddi_pcapgen_set_clock(ddi_pcapgen *g, int64_t ts_us);
int ddi_pcapgen_add(ddi_pcapgen *g, const ddi_pcapgen_session *s);
void ddi_pcapgen_close(ddi_pcapgen *g);

#endif
