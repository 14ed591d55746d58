/* fuzz_ddi_carvers.c - DDI's HTTP and SMTP carvers (ddi_http.c, ddi_smtp.c)
 * driven directly: the first byte picks the parser, then pieces of fuzzed
 * size each go to one direction (its length byte's low bit), a gap now and
 * then, and the end of the flow. Carved files are checked for sane
 * lengths; the budget must be back to zero. */
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

#include "fuzz.h"
#include "ddi/ddi.h"

static void on_carve(const ddi_carved *f, void *cls)
{
	if (!f->file_name || (f->len && !f->data))
		abort();
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
	fuzz_in in = {data, size};
	int smtp = fuzz_byte(&in) & 1;
	ddi_budget budget = {0, 1 << 20, 0};
	ddi_limits lim = {.max_flows = 4, .flow_max_bytes = 4096, .max_file_size = 1 << 16,
			  .flow_timeout_ms = 1000};
	ddi_flow_info fi = {.family = 2, .client_ip = "192.0.2.10", .server_ip = "198.51.100.7",
			    .client_port = 50123, .server_port = smtp ? 25 : 80};
	size_t total = 0;
	ddi_parser_env env = {&fi, &lim, &budget, on_carve, &total};
	ddi_http *h = smtp ? NULL : ddi_http_new(&env);
	ddi_smtp *s = smtp ? ddi_smtp_new(&env) : NULL;
	int64_t ts = 1;
	while (in.left) {
		unsigned ctl = fuzz_byte(&in);
		int dir = ctl & 1;
		if ((ctl & 0xf0) == 0xf0) { /* a gap of lost bytes */
			if (h)
				ddi_http_gap(h, dir, ctl & 0x0f);
			else
				ddi_smtp_gap(s, dir, ctl & 0x0f);
			continue;
		}
		size_t n;
		const uint8_t *p = fuzz_chunk(&in, 512, &n);
		int rc = h ? ddi_http_data(h, dir, p, n, ts++) : ddi_smtp_data(s, dir, p, n, ts++);
		if (rc < 0)
			break;
	}
	if (h) {
		ddi_http_close(h, ts);
		ddi_http_free(h);
	} else {
		ddi_smtp_free(s);
	}
	if (budget.used != 0)
		abort(); /* every charge is given back */
	return 0;
}
