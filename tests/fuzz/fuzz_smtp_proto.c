/* fuzz_smtp_proto.c - IMSVA's SMTP command parser (imsva_smtp_proto.c): a
 * session fed in fuzzer-sized pieces, every action taken as the server takes
 * it (commit → commit_done, STARTTLS → tls_started, close → end). */
#include <stdlib.h>

#include "fuzz.h"
#include "imsva/imsva_smtp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	smtp_limits lim = {.hostname = "fuzz.lab.test", .max_line = 512, .max_size = 1 << 16,
			   .max_rcpts = 8, .max_errors = 5, .tls_available = fuzz_byte(&in) & 1};
	smtp_proto *p = smtp_proto_new(&lim, "192.0.2.1");
	sbuf out = {0};
	smtp_proto_greet(p, &out);
	int open = 1;
	while (open && in.left) {
		size_t n;
		const char *chunk = (const char *)fuzz_chunk(&in, 200, &n);
		size_t off = 0;
		while (open && off < n) {
			smtp_action act = SMTP_ACT_NONE;
			size_t used = smtp_proto_feed(p, chunk + off, n - off, &out, &act);
			off += used;
			if (act == SMTP_ACT_COMMIT) {
				smtp_envelope_free(smtp_proto_take_envelope(p));
				smtp_proto_commit_done(p, (int)(n & 1), "Q1", &out);
			} else if (act == SMTP_ACT_STARTTLS) {
				smtp_proto_tls_started(p);
				off = n; /* buffered plaintext is discarded */
			} else if (act == SMTP_ACT_CLOSE) {
				open = 0;
			} else if (used == 0) {
				break; /* nothing consumed, nothing due: more input needed */
			}
		}
		out.len = 0;
	}
	smtp_proto_timeout(p, &out);
	sbuf_free(&out);
	smtp_proto_free(p);
	return 0;
}
