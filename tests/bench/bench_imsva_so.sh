#!/usr/bin/env bash
# bench_imsva_so.sh - IMSVA's suspicious-object sync at scale (SPEC §8): a
# full sync of BENCH_SO objects (default 1 000 000) from a TMCM-style feed
# (served by a small Python stand-in, pages of 50 000), then an incremental
# sync of 10 changes, as imsvad reports them (Connections > Control Manager).
# The per-message SO lookup is one rowid seek by a 64-bit key, so it costs
# the same at a million objects as at ten.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
N=${BENCH_SO:-1000000}
work=$(mktemp -d /tmp/ctdlab-bench-so.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/feed.py" <<'PY'
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
PY
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 "$work/feed.py" "$port" "$N" "$work" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done

bin/imsvad --home "$work/imsva" --port 0 --smtp_port 0 --admin_password bench \
	--tmcm_url "http://127.0.0.1:$port" --tmcm_api_key k --tmcm_sync_interval 1h \
	--log_level warn >"$work/imsvad.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/imsva/run/imsva.json ]] && break; sleep 0.1; done
api=$(python3 -c "import json;print(json.load(open('$work/imsva/run/imsva.json'))['listeners']['https'])")
tok=$(curl -sk "$api/api/login" -d '{"password":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
status() { curl -sk "$api/api/connections/tmcm" -H "Authorization: Bearer $tok"; }
sync_now() { curl -sk -X POST "$api/api/connections/tmcm/sync" -H "Authorization: Bearer $tok" >/dev/null; }
# wait for a sync that reached `objects` == $1 and has a cursor >= $2
wait_sync() {
	for _ in $(seq 600); do
		if status | python3 -c "import json,sys;s=json.load(sys.stdin);sys.exit(0 if s.get('objects')==$1 and s.get('cursor',0)>=$2 else 1)"; then
			status
			return 0
		fi
		sleep 0.2
	done
	echo "bench: sync to $1 objects did not finish" >&2
	exit 1
}
field() { python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }

echo "bench: IMSVA suspicious-object sync from a TMCM feed"
full=$(wait_sync "$N" "$N") # the sync at start-up: a full one (cursor 0)
[[ $(field last_sync_full <<<"$full") == True ]] || { echo "bench: not a full sync" >&2; exit 1; }
figure so.imsva_full_sync_ms "$(field last_sync_duration_ms <<<"$full")" ms lower \
	"IMSVA full sync of $N SOs"
echo 10 >"$work/extra"
sync_now
inc=$(wait_sync $((N + 10)) $((N + 10)))
figure so.imsva_incremental_sync_ms "$(field last_sync_duration_ms <<<"$inc")" ms lower \
	"IMSVA incremental sync of 10 SOs"
