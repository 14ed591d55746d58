#!/usr/bin/env bash
# bench_processing.sh - does imsvad's processing keep up with its intake
# (issue #17, goal 2)? BENCH_MESSAGES (default 20 000) mixed messages (clean
# text, URLs in text and HTML, a PDF, a zip archive, an EICAR attachment; see
# processing_load.py) over 20 sessions into imsvad with its default policy and
# local mailbox: the intake time (first MAIL to last 250), the time until the
# last message is final (delivered, quarantined, deleted), both as messages
# per second, their ratio (target <= 1.1) and the backlog peak.
#
# Then the processing cost per message (thread CPU time, which other load on
# the machine barely moves; imsvad logs it at stop) with few and many rules
# and few and many suspicious objects, to show that it does not grow with
# either: BENCH_COST_MESSAGES (2000) messages each against 10 / 1000 extra
# rules that match nothing, and 1000 / BENCH_COST_SO (100 000) SOs
# (BENCH_COST_MESSAGES=0 skips this part). BENCH_KEEP=1 keeps the work directory
# (messages, imsvad logs) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh

MESSAGES=${BENCH_MESSAGES:-20000}
SESSIONS=20
COST_MESSAGES=${BENCH_COST_MESSAGES:-2000}
COST_SO=${BENCH_COST_SO:-100000}

install_postfix_tools
bench_workdir proc

# imsvad_start NAME [OPTION...]: a fresh imsvad in $work/NAME; sets imsvad_pid,
# smtp_port, api and token
imsvad_start() {
	local home=$work/$1
	shift
	bin/imsvad --home "$home" --port 0 --smtp_port 0 --admin_password bench --log_level info \
		"$@" >"$home.log" 2>&1 &
	imsvad_pid=$!
	pids+=("$imsvad_pid")
	for _ in $(seq 100); do [[ -s $home/run/imsva.json ]] && break; sleep 0.1; done
	local ready=$home/run/imsva.json
	smtp_port=$(python3 -c "import json;print(json.load(open('$ready'))['listeners']['smtp'].rsplit(':',1)[1])")
	api=$(python3 -c "import json;print(json.load(open('$ready'))['listeners']['https'])")
	token=$(curl -sk "$api/api/login" -d '{"password":"bench"}' |
		python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
}

# imsvad_stop NAME: stop it; its processing CPU time per message into cpu_us
imsvad_stop() {
	kill "$imsvad_pid" && wait "$imsvad_pid" 2>/dev/null || true
	cpu_us=$(grep -o 'event=processing.stats.*cpu_us_per_msg=[0-9]*' "$work/$1.log" |
		sed 's/.*=//')
}

load() { python3 tests/bench/processing_load.py send "$work" "$smtp_port" "$api" "$token" "$@"; }
field() { python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }

echo "bench: $MESSAGES mixed messages over $SESSIONS sessions into imsvad (default policy)"
imsvad_start main
out=$(load "$MESSAGES" "$SESSIONS")
intake_s=$(field intake_s <<<"$out")
final_s=$(field final_s <<<"$out")
imsvad_stop main
rate() { python3 -c "print(f'{$MESSAGES / $1:.0f}')"; }
figure proc.intake.msgs_per_s "$(rate "$intake_s")" msgs/s higher "intake (first MAIL to last 250)"
figure proc.final.msgs_per_s "$(rate "$final_s")" msgs/s higher "to final state (first MAIL on)"
goal proc.final_vs_intake "$(python3 -c "print(f'{$final_s / $intake_s:.2f}')")" 1.1 \
	"ratio final / intake time" lower
figure proc.backlog_peak "$(field backlog_peak <<<"$out")" msgs lower "backlog peak (not final yet)"
figure proc.cpu_us_per_msg "$cpu_us" us lower "processing CPU per message"
printf '  %-34s: %s\n' "final states" "$(field states <<<"$out")"

# cost_run NAME RULES SOS: processing CPU time per message (µs) into cpu_us
cost_run() {
	local feed_port
	feed_port=$(free_port)
	mkdir -p "$work/$1.feed"
	python3 tests/bench/tmcm_feed.py "$feed_port" "$3" "$work/$1.feed" >/dev/null 2>&1 &
	pids+=($!)
	wait_listening "$feed_port"
	imsvad_start "$1" --tmcm_url "http://127.0.0.1:$feed_port" --tmcm_api_key k \
		--tmcm_sync_interval 1h
	python3 tests/bench/processing_load.py setup "$api" "$token" "$2" "$3"
	load "$COST_MESSAGES" 5 >/dev/null
	imsvad_stop "$1"
}

((COST_MESSAGES > 0)) || exit 0
echo "bench: processing cost per message, $COST_MESSAGES messages each"
cost_run few 10 1000
few=$cpu_us
cost_run rules 1000 1000
rules=$cpu_us
cost_run sos 10 "$COST_SO"
sos=$cpu_us
figure proc.cost.r10_so1k.cpu_us "$few" us lower "10 rules, 1000 SOs"
figure proc.cost.r1000_so1k.cpu_us "$rules" us lower "1000 rules, 1000 SOs"
figure proc.cost.r10_so$((COST_SO / 1000))k.cpu_us "$sos" us lower "10 rules, $COST_SO SOs"
figure proc.cost.rules_ratio "$(python3 -c "print(f'{$rules / $few:.2f}')")" ratio lower \
	"cost 1000 / 10 rules"
figure proc.cost.sos_ratio "$(python3 -c "print(f'{$sos / $few:.2f}')")" ratio lower \
	"cost $COST_SO / 1000 SOs"
