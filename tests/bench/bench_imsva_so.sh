#!/usr/bin/env bash
# bench_imsva_so.sh - IMSVA's suspicious-object sync at scale (SPEC §8): a
# full sync of BENCH_SO objects (default 1 000 000) from a TMCM-style feed
# (served by tests/bench/tmcm_feed.py, pages of 50 000), then an incremental
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

port=$(free_port)
python3 tests/bench/tmcm_feed.py "$port" "$N" "$work" &
pids+=($!)
wait_listening "$port"

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
