#!/usr/bin/env bash
# bench_lab.sh - start-up time of the whole lab, each daemon's resident memory
# at idle, and stop time (SPEC §8: small at idle, quick to start).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d /tmp/ctdlab-bench-XXXXXX)
trap 'bin/ctdlab --dir "$dir" down >/dev/null 2>&1; rm -rf "$dir"' EXIT
for a in DDAN DDI TMCM SPS IMSVA; do export "CTDLAB_${a}_PORT=0"; done
export CTDLAB_IMSVA_SMTP_PORT=0 CTDLAB_SPS_WRS_PORT=0

ms() { date +%s%3N; }
t0=$(ms); bin/ctdlab --dir "$dir" up >/dev/null; t1=$(ms)
echo "lab start (first start: certificate, schema): $((t1 - t0)) ms"
bin/ctdlab --dir "$dir" down >/dev/null
t0=$(ms); bin/ctdlab --dir "$dir" up >/dev/null; t1=$(ms)
echo "lab start (warm): $((t1 - t0)) ms"
sleep 1
printf '%-8s %10s\n' daemon "idle RSS"
for a in ddan ddi tmcm sps imsva; do
	pid=$(cat "$dir/run/$a.pid")
	printf '%-8s %7s kB\n' "${a}d" "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
done
t0=$(ms); bin/ctdlab --dir "$dir" down >/dev/null; t1=$(ms)
echo "lab stop: $((t1 - t0)) ms"
