#!/usr/bin/env bash
# bench_smtp.sh - SMTP intake of imsvad (default policy, durable 250:
# every acknowledged message is committed with fsync) against Postfix's
# smtp-sink (accepts and discards) under the same smtp-source load, and their
# ratio, at 1, 10 and 50 concurrent sessions. The goal is 0.8 of smtp-sink's
# rate (issue #17; SPEC §8 said half). The same load also goes to MailDev, the
# popular mock SMTP server (npm, pinned in tests/bench/package.json, default
# settings), where the goal is 25 times its rate; it is skipped with a message
# when npm cannot install it.
#
# With one session every message waits for its own fsync (there is nothing to
# group), so the bench also prints the disk's fdatasync latency: the floor
# that a durable 250 adds to every message there.
#
# Knobs (environment): BENCH_MESSAGES (default 20000), BENCH_SESSIONS
# (a list of session counts, default "1 10 50"),
# BENCH_SIZE (message bytes, 2048), BENCH_MAILDEV_PER_SESSION (messages per
# session sent to MailDev, default 60).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh

MESSAGES=${BENCH_MESSAGES:-20000}
SESSION_COUNTS=${BENCH_SESSIONS:-1 10 50}
SIZE=${BENCH_SIZE:-2048}
MAILDEV_PER_SESSION=${BENCH_MAILDEV_PER_SESSION:-60}

# Run smtp-source with $2 sessions against port $1 ($3 messages, default
# $MESSAGES); print messages per second.
measure() {
	local port=$1 sessions=$2 count=${3:-$MESSAGES} start end
	start=$(date +%s.%N)
	if ! smtp-source -s "$sessions" -m "$count" -l "$SIZE" -f bench@example.com \
		-t sink@example.org 127.0.0.1:"$port" >/dev/null 2>"$work/source.err"; then
		echo "bench: smtp-source failed against port $port: $(cat "$work/source.err")" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	python3 -c "print(f'{$count / ($end - $start):.0f}')"
}

# MailDev's command, installed from the lock file on first use; empty if npm
# cannot (no network, no npm)
maildev_command() {
	local bin=tests/bench/node_modules/.bin/maildev
	if [[ ! -x $bin ]] && command -v npm >/dev/null; then
		echo "bench: installing MailDev from npm (tests/bench/package-lock.json)" >&2
		npm ci --prefix tests/bench --no-audit --no-fund >"$work/npm.log" 2>&1 ||
			echo "bench: npm ci failed: $(tail -1 "$work/npm.log")" >&2
	fi
	[[ -x $bin ]] && echo "$bin"
}

# The disk's fdatasync latency in µs: 8 KiB rewritten in place and synced
# 200 times in the store's directory (a WAL commit after a checkpoint reset)
fsync_floor_us() {
	python3 - "$1" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"x" * 8192); os.fsync(fd)
t = time.perf_counter()
for _ in range(200):
    os.pwrite(fd, b"y" * 8192, 0); os.fdatasync(fd)
print(f"{(time.perf_counter() - t) / 200 * 1e6:.0f}")
os.close(fd); os.unlink(path)
PY
}

install_postfix_tools

bench_workdir smtp

# imsvad: fresh store, default policy, durable commits
bin/imsvad --home "$work/imsva" --port 0 --smtp_port 0 --log_level info \
	--admin_password bench >"$work/imsvad.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/imsva/run/imsva.json ]] && break; sleep 0.1; done
imsva_port=$(python3 -c "import json,sys;print(json.load(open('$work/imsva/run/imsva.json'))['listeners']['smtp'].rsplit(':',1)[1])")
imsva_api=$(python3 -c "import json;print(json.load(open('$work/imsva/run/imsva.json'))['listeners']['https'])")
imsva_token=$(curl -sk "$imsva_api/api/login" -d '{"password":"bench"}' |
	python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')

# Wait until imsvad has processed everything it took in, so that its backlog
# does not slow the next measurement (of any server: they share the cores).
wait_imsvad_idle() {
	for _ in $(seq 1200); do
		curl -sk "$imsva_api/api/status" -H "Authorization: Bearer $imsva_token" |
			python3 -c "import json,sys;s=json.load(sys.stdin)['states'];sys.exit(0 if not s.get('new') and not s.get('processing') else 1)" &&
			return 0
		sleep 0.25
	done
	echo "bench: imsvad still processing after 5 minutes" >&2
	exit 1
}

sink_port=$(free_port)
sink_user=()
[[ $(id -u) -eq 0 ]] && sink_user=(-u nobody) # smtp-sink refuses to run as root
smtp-sink "${sink_user[@]}" -c 127.0.0.1:"$sink_port" 256 >/dev/null 2>&1 &
pids+=($!)
wait_listening "$sink_port"
wait_listening "$imsva_port"

maildev_port=
if maildev=$(maildev_command); then
	maildev_port=$(free_port)
	"$maildev" --smtp "$maildev_port" --ip 127.0.0.1 --web "$(free_port)" \
		--web-ip 127.0.0.1 --silent >"$work/maildev.log" 2>&1 &
	pids+=($!)
	wait_listening "$maildev_port"
else
	echo "bench: MailDev skipped (it could not be installed from npm)"
fi

fsync_us=$(fsync_floor_us "$work/imsva")
figure smtp.fsync_floor_us "$fsync_us" us lower "disk fdatasync (durability floor)"

for n in $SESSION_COUNTS; do
	echo "bench: $MESSAGES messages of $SIZE bytes over $n sessions (smtp-source)"
	sink_rate=$(measure "$sink_port" "$n")
	figure "smtp.s$n.smtp_sink.msgs_per_s" "$sink_rate" msgs/s higher "postfix smtp-sink"
	imsva_rate=$(measure "$imsva_port" "$n")
	figure "smtp.s$n.imsvad.msgs_per_s" "$imsva_rate" msgs/s higher "imsvad (durable 250)"
	wait_imsvad_idle
	goal "smtp.s$n.ratio_vs_smtp_sink" \
		"$(python3 -c "print(f'{$imsva_rate / $sink_rate:.2f}')")" 0.8 "ratio imsvad / smtp-sink"
	if [[ $n == 1 ]]; then
		# one message in flight: each 250 waits for one fdatasync at least
		figure smtp.s1.ratio_ceiling \
			"$(python3 -c "print(f'{1 / (1 + $sink_rate * $fsync_us / 1e6):.2f}')")" ratio \
			higher "ratio ceiling with one fsync each"
	fi
	[[ -n $maildev_port ]] || continue
	# MailDev answers ~10 messages/s per session: a smaller sample, same shape
	maildev_rate=$(measure "$maildev_port" "$n" $((n * MAILDEV_PER_SESSION)))
	figure "smtp.s$n.maildev.msgs_per_s" "$maildev_rate" msgs/s higher "MailDev (defaults)"
	goal "smtp.s$n.ratio_vs_maildev" \
		"$(python3 -c "print(f'{$imsva_rate / $maildev_rate:.1f}')")" 25 "ratio imsvad / MailDev"
done
kill "${pids[0]}" && wait "${pids[0]}" 2>/dev/null || true
stats=$(grep -o 'event=intake.stats.*' "$work/imsvad.log" | sed 's/event=intake.stats //' || true)
[[ -n $stats ]] && printf '  %-34s: %s\n' "imsvad group commit" "$stats"
