#!/usr/bin/env bash
# bench_lab.sh - goal 5 of issue 17 (SPEC §8: small at idle, quick to start):
# lab start first and warm, each daemon's resident and private memory at
# idle (after start, and again after the drill), `ctdlab drill all` in the
# fast profile, and lab stop. Lab start and the drill are wall-clock figures:
# on a busy machine they read high.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
dir=$(mktemp -d /tmp/ctdlab-bench-XXXXXX)
trap 'bin/ctdlab --dir "$dir" down >/dev/null 2>&1; rm -rf "$dir"' EXIT
for v in DDAN_PORT DDI_PORT DDI_DOWNLOAD_PORT TMCM_PORT SPS_PORT SPS_WRS_PORT IMSVA_PORT \
	IMSVA_SMTP_PORT; do
	export "CTDLAB_$v=0"
done
WARM_RUNS=${WARM_RUNS:-5}

ms() { date +%s%3N; }
up_ms() {
	local t0 t1
	t0=$(ms)
	bin/ctdlab --dir "$dir" up >/dev/null
	t1=$(ms)
	echo $((t1 - t0))
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# Each daemon's VmRSS and private pages (smaps_rollup Private_*), in kB,
# through report (limit, or figure_no_goal), keys suffixed with when.
idle_memory() {
	local when=$1 report=$2 a pid
	for a in ddan ddi tmcm sps imsva; do
		pid=$(cat "$dir/run/$a.pid")
		$report "idle_rss_kb${when:+_$when}.${a}d" \
			"$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")" kB 10240 \
			"${a}d idle resident${when:+ ($when)}"
		$report "idle_private_kb${when:+_$when}.${a}d" \
			"$(awk '/^Private_/ {sum += $2} END {print sum}' "/proc/$pid/smaps_rollup")" kB 4096 \
			"${a}d idle private${when:+ ($when)}"
	done
}
# after the drill: shown and recorded, no goal (the goal is the idle lab)
figure_no_goal() { figure "$1" "$2" "$3" lower "$5"; }

limit lab.start_first_ms "$(up_ms)" ms 500 "lab start (first: cert, schema)"
runs=()
for ((i = 0; i < WARM_RUNS; i++)); do
	bin/ctdlab --dir "$dir" down >/dev/null
	runs+=("$(up_ms)")
done
limit lab.start_warm_ms "$(median "${runs[@]}")" ms 200 "lab start (warm, median of $WARM_RUNS)"
sleep 1
idle_memory "" limit
t0=$(ms)
drill_ok=1
bin/ctdlab --dir "$dir" drill all >"$dir/drill.out" 2>&1 || drill_ok=0
t1=$(ms)
if ((drill_ok)); then
	limit lab.drill_all_ms $((t1 - t0)) ms 5000 "ctdlab drill all (fast profile)"
fi
if ((!drill_ok || t1 - t0 > 5000)); then # where the time went, or what failed
	grep -E '^ +(ok|FAIL) |^STEP|drill:' "$dir/drill.out" | cut -c1-100 | sed 's/^/    /'
fi
((drill_ok)) || exit 1
sleep 1
idle_memory after_drill figure_no_goal
t0=$(ms)
bin/ctdlab --dir "$dir" down >/dev/null
t1=$(ms)
figure lab.stop_ms $((t1 - t0)) ms lower "lab stop"
