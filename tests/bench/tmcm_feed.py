#!/usr/bin/env python3
"""tmcm_feed.py - a TMCM-style suspicious-object feed for the benchmarks:
get_black_lists serves FILE objects 1..N (SHA-1 values %040X of the id) in
pages of 50 000 from the X-DTAS-LastQueryID cursor, plus as many more as the
file DIR/extra says (an incremental change); every other call answers 200.

Usage: tmcm_feed.py PORT N DIR
"""
import http.server, os, sys
N = int(sys.argv[2]); extra = os.path.join(sys.argv[3], "extra")
PAGE = 50000
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        svc = self.path.rsplit("/", 1)[-1]
        body = b""
        if svc == "get_black_lists":
            total = N + (int(open(extra).read()) if os.path.exists(extra) else 0)
            cur = int(self.headers.get("X-DTAS-LastQueryID", "0"))
            end = min(total, cur + PAGE)
            recs = "".join("<REPORT><ID>%d</ID><TYPE>FILE</TYPE><VALUE>%040X</VALUE>"
                           "<ACTION>block</ACTION></REPORT>" % (i, i) for i in range(cur + 1, end + 1))
            body = ("<BLACK_LISTS>%s<LAST_QUERY_ID>%d</LAST_QUERY_ID><HAS_MORE>%d</HAS_MORE>"
                    "</BLACK_LISTS>" % (recs, end, 1 if end < total else 0)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
