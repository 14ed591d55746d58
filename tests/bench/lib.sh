# lib.sh - sourced by every tests/bench/bench_*.sh: one way to report a
# figure, so that `make bench` prints it and also records it in bench.json
# (tests/bench/run.sh gathers the records; tools/bench-compare compares runs).

# figure KEY VALUE UNIT BETTER LABEL
#   KEY     stable identifier, e.g. smtp.imsvad.msgs_per_s
#   BETTER  "higher" or "lower": which way is an improvement
figure() {
	printf '  %-34s: %s %s\n' "$5" "$2" "$3"
	record "$@"
}

# record KEY VALUE UNIT BETTER LABEL: into bench.json only
record() {
	[[ -n ${BENCH_RECORDS:-} ]] || return 0
	python3 - "$@" >>"$BENCH_RECORDS" <<'PY'
import json, sys
key, value, unit, better, label = sys.argv[1:6]
print(json.dumps({"key": key, "value": float(value), "unit": unit,
                  "better": better, "label": label}))
PY
}

# goal KEY VALUE TARGET LABEL: a ratio (higher is better) against its target
goal() {
	local key=$1 value=$2 target=$3 label=$4 verdict
	verdict=$(python3 -c "print('meets' if $value >= $target else 'BELOW')")
	printf '  %-34s: %s (%s the target of %s)\n' "$label" "$value" "$verdict" "$target"
	record "$key" "$value" ratio higher "$label"
}

# limit KEY VALUE MAX UNIT LABEL: a figure (lower is better) against the most
# it may be
limit() {
	local key=$1 value=$2 max=$3 unit=$4 label=$5 verdict
	verdict=$(python3 -c "print('meets' if $value <= $max else 'ABOVE')")
	printf '  %-34s: %s %s (%s the limit of %s %s)\n' "$label" "$value" "$unit" "$verdict" \
		"$max" "$unit"
	record "$key" "$value" "$unit" lower "$label"
}
