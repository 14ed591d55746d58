#!/usr/bin/env bash
# bench_lab.sh - start-up time of the whole lab, each daemon's resident memory
# at idle, and stop time (SPEC §8: small at idle, quick to start).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
dir=$(mktemp -d /tmp/ctdlab-bench-XXXXXX)
trap 'bin/ctdlab --dir "$dir" down >/dev/null 2>&1; rm -rf "$dir"' EXIT
for a in DDAN DDI TMCM SPS IMSVA; do export "CTDLAB_${a}_PORT=0"; done
export CTDLAB_IMSVA_SMTP_PORT=0 CTDLAB_SPS_WRS_PORT=0

ms() { date +%s%3N; }
t0=$(ms); bin/ctdlab --dir "$dir" up >/dev/null; t1=$(ms)
figure lab.start_first_ms $((t1 - t0)) ms lower "lab start (first: cert, schema)"
bin/ctdlab --dir "$dir" down >/dev/null
t0=$(ms); bin/ctdlab --dir "$dir" up >/dev/null; t1=$(ms)
figure lab.start_warm_ms $((t1 - t0)) ms lower "lab start (warm)"
sleep 1
for a in ddan ddi tmcm sps imsva; do
	pid=$(cat "$dir/run/$a.pid")
	figure "idle_rss_kb.${a}d" "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")" kB lower \
		"${a}d idle resident memory"
	figure "idle_private_kb.${a}d" \
		"$(awk '/^Private_/ {sum += $2} END {print sum}' "/proc/$pid/smaps_rollup")" kB lower \
		"${a}d idle private memory"
done
t0=$(ms); bin/ctdlab --dir "$dir" down >/dev/null; t1=$(ms)
figure lab.stop_ms $((t1 - t0)) ms lower "lab stop"
