#!/usr/bin/env bash
# bench_smtp.sh - SMTP intake of imsvad (default policy, durable 250:
# every acknowledged message is committed with fsync) against Postfix's
# smtp-sink (accepts and discards) under the same smtp-source load, and their
# ratio, at 1, 10 and 50 concurrent sessions. The goal is 0.8 of smtp-sink's
# rate (issue #17; SPEC §8 said half).
#
# Knobs (environment): BENCH_MESSAGES (default 20000), BENCH_SESSIONS
# (a list of session counts, default "1 10 50"),
# BENCH_SIZE (message bytes, 2048).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh

MESSAGES=${BENCH_MESSAGES:-20000}
SESSION_COUNTS=${BENCH_SESSIONS:-1 10 50}
SIZE=${BENCH_SIZE:-2048}
# Run smtp-source with $2 sessions against port $1; print messages per second.
measure() {
	local port=$1 sessions=$2 start end
	start=$(date +%s.%N)
	if ! smtp-source -s "$sessions" -m "$MESSAGES" -l "$SIZE" -f bench@example.com \
		-t sink@example.org 127.0.0.1:"$port" >/dev/null 2>"$work/source.err"; then
		echo "bench: smtp-source failed against port $port: $(cat "$work/source.err")" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	python3 -c "print(f'{$MESSAGES / ($end - $start):.0f}')"
}

install_postfix_tools

work=$(mktemp -d /tmp/ctdlab-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# imsvad: fresh store, default policy, durable commits
bin/imsvad --home "$work/imsva" --port 0 --smtp_port 0 --log_level info \
	>"$work/imsvad.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/imsva/run/imsva.json ]] && break; sleep 0.1; done
imsva_port=$(python3 -c "import json,sys;print(json.load(open('$work/imsva/run/imsva.json'))['listeners']['smtp'].rsplit(':',1)[1])")

sink_port=$(free_port)
sink_user=()
[[ $(id -u) -eq 0 ]] && sink_user=(-u nobody) # smtp-sink refuses to run as root
smtp-sink "${sink_user[@]}" -c 127.0.0.1:"$sink_port" 256 >/dev/null 2>&1 &
pids+=($!)
wait_listening "$sink_port"
wait_listening "$imsva_port"

for n in $SESSION_COUNTS; do
	echo "bench: $MESSAGES messages of $SIZE bytes over $n sessions (smtp-source)"
	sink_rate=$(measure "$sink_port" "$n")
	figure "smtp.s$n.smtp_sink.msgs_per_s" "$sink_rate" msgs/s higher "postfix smtp-sink"
	imsva_rate=$(measure "$imsva_port" "$n")
	figure "smtp.s$n.imsvad.msgs_per_s" "$imsva_rate" msgs/s higher "imsvad (durable 250)"
	goal "smtp.s$n.ratio_vs_smtp_sink" \
		"$(python3 -c "print(f'{$imsva_rate / $sink_rate:.2f}')")" 0.8 "ratio imsvad / smtp-sink"
done
kill "${pids[0]}" && wait "${pids[0]}" 2>/dev/null || true
stats=$(grep -o 'event=intake.stats.*' "$work/imsvad.log" | sed 's/event=intake.stats //' || true)
[[ -n $stats ]] && printf '  %-34s: %s\n' "imsvad group commit" "$stats"
