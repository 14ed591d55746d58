/* fuzz_ddi_pcap.c - DDI's capture path end to end: the input is read as a
 * capture file by libpcap (as ddi_capture.c reads --read files and uploads)
 * and every frame goes through the engine (link/IP/TCP decode, reassembly,
 * HTTP and SMTP carving). */
#include <stdio.h>
#include <stdlib.h>
#include <gmime/gmime.h>
#include <pcap/pcap.h>

#include "fuzz.h"
#include "ddi/ddi.h"

static void on_carve(const ddi_carved *f, void *cls)
{
	size_t *total = cls;
	*total += f->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		g_mime_init();
		ready = 1;
	}
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(f, errbuf); /* owns f from here */
	if (!p) {
		fclose(f);
		return 0;
	}
	size_t total = 0;
	ddi_limits lim = {.max_flows = 16, .flow_max_bytes = 1 << 16, .max_file_size = 1 << 20,
			  .flow_timeout_ms = 60000};
	ddi_engine *e = ddi_engine_new(&lim, 8 << 20, on_carve, &total);
	struct pcap_pkthdr *h;
	const u_char *frame;
	int dlt = pcap_datalink(p);
	for (int i = 0; i < 4096 && pcap_next_ex(p, &h, &frame) == 1; i++) {
		int64_t ts = (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
		ddi_engine_packet(e, dlt, frame, h->caplen, ts);
		ddi_engine_tick(e, ts);
	}
	ddi_engine_flush(e, 0);
	ddi_engine_free(e);
	pcap_close(p);
	return 0;
}
