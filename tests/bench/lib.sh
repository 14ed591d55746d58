# lib.sh - sourced by every tests/bench/bench_*.sh: one way to report a
# figure, so that `make bench` prints it and also records it in bench.json
# (tests/bench/run.sh gathers the records and sums up the goals at the end;
# tools/bench-compare compares runs).

# figure KEY VALUE UNIT BETTER LABEL
#   KEY     stable identifier, e.g. smtp.imsvad.msgs_per_s
#   BETTER  "higher" or "lower": which way is an improvement
figure() {
	printf '  %-34s: %s %s\n' "$5" "$2" "$3"
	record "$@"
}

# record KEY VALUE UNIT BETTER LABEL [TARGET]: into bench.json only; a figure
# with a TARGET is a goal (met when VALUE is on the BETTER side of TARGET)
record() {
	[[ -n ${BENCH_RECORDS:-} ]] || return 0
	python3 - "$@" >>"$BENCH_RECORDS" <<'PY'
import json, sys
key, value, unit, better, label = sys.argv[1:6]
fig = {"key": key, "value": float(value), "unit": unit, "better": better, "label": label}
if len(sys.argv) > 6:
    fig["target"] = float(sys.argv[6])
    fig["meets"] = (fig["value"] >= fig["target"] if better == "higher"
                    else fig["value"] <= fig["target"])
print(json.dumps(fig))
PY
}

# goal KEY VALUE TARGET LABEL [BETTER]: a ratio against its target; BETTER
#   "higher" (default: the target is a floor) or "lower" (a ceiling)
goal() {
	goal_figure "$1" "$2" ratio "${5:-higher}" "$3" "$4"
}

# goal_figure KEY VALUE UNIT BETTER TARGET LABEL: any figure with a target,
# e.g. goal_figure so.imsva_full_sync_ms 4100 ms lower 5000 "IMSVA full sync"
goal_figure() {
	local key=$1 value=$2 unit=$3 better=$4 target=$5 label=$6 verdict
	verdict=$(python3 -c "v, t = $value, $target; print('meets' if (v >= t if '$better' == 'higher' else v <= t) else 'MISSES')")
	printf '  %-34s: %s %s (%s the goal of %s %s)\n' "$label" "$value" "${unit/ratio/}" \
		"$verdict" "$([[ $better == higher ]] && echo '≥' || echo '≤')" "$target"
	record "$key" "$value" "$unit" "$better" "$label" "$target"
}

# limit KEY VALUE UNIT TARGET LABEL: a figure where lower is better (time,
# memory) against its ceiling
limit() {
	goal_figure "$1" "$2" "$3" lower "$4" "$5"
}

# Postfix's test tools (smtp-source, smtp-sink) from the Debian package
# postfix: when missing and we are root, installed non-interactively without
# starting (or leaving) a Postfix daemon on port 25.
PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin
install_postfix_tools() {
	command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null && return 0
	if [[ $(id -u) -ne 0 ]]; then
		echo "bench: smtp-source/smtp-sink missing (apt-get install postfix as root)" >&2
		exit 1
	fi
	echo "bench: installing postfix for smtp-source/smtp-sink (no daemon is started)"
	# policy-rc.d 101 = "do not start services" while the package installs
	local policy=/usr/sbin/policy-rc.d own_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
	fi
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix \
		>/dev/null || { apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix \
			>/dev/null; }
	((own_policy)) && rm -f "$policy"
	# belt and braces: a Postfix master that came up anyway is stopped
	if postfix status >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || true; fi
}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

wait_listening() {
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: nothing listens on port $1" >&2
	exit 1
}

# bench_workdir TAG: a fresh directory in $work and an empty $pids list; at
# exit every process in $pids is stopped and the directory removed (kept with
# BENCH_KEEP=1, for a look at the logs)
bench_workdir() {
	work=$(mktemp -d "/tmp/ctdlab-bench-$1.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ -n ${BENCH_KEEP:-} ]] || rm -rf "$work"
}
