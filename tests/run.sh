#!/usr/bin/env bash
# run.sh - run test programs, show each one's Check summary (and its output
# when it failed, kept together), and end with the totals: "N passed, N
# failed". Exit 1 if any test failed.
#   tests/run.sh [-j N] PROGRAM...   N programs at a time (default 1)
set -u
jobs=1
if [[ ${1:-} == -j ]]; then
	jobs=$2
	shift 2
elif [[ ${1:-} == -j* ]]; then
	jobs=${1#-j}
	shift
fi
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
# Sanitizer reports from every process a test starts (daemons and tools
# included) land in the test's own folder; a report fails the test.
work=$(mktemp -d /tmp/ctdlab-tests-XXXXXX)
trap 'rm -rf "$work"' EXIT
asan=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
ubsan=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tsan=${TSAN_OPTIONS:-second_deadlock_stack=1:history_size=4:suppressions=$PWD/tests/tsan.supp}
if [[ -f tests/lsan.supp ]]; then
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
fi

# Labs the program in $1 brought up and left running (a test its time-out
# killed runs no exit handler): stopped, and said so in its log.
stop_left_labs() {
	local lab
	[[ -f $1/labs ]] || return 0
	while read -r lab; do
		compgen -G "$lab/run/*.pid" >/dev/null || continue
		echo "run.sh: stopping the lab the test left running in $lab" >>"$1/log"
		"${CTDLAB_BINDIR:-bin}/ctdlab" --dir "$lab" down >>"$1/log" 2>&1
	done <"$1/labs"
}

# Run test program $2 as number $1; leave its report in $work/$1.out and
# "checks failures" in $work/$1.res (written last: the sign it is done).
run_one() {
	local i=$1 t=$2 dir=$work/$1 name summary checks fails rc
	name=$(basename "$t")
	mkdir -p "$dir/reports"
	ASAN_OPTIONS=$asan:log_path=$dir/reports/asan UBSAN_OPTIONS=$ubsan:log_path=$dir/reports/ubsan \
		TSAN_OPTIONS=$tsan:log_path=$dir/reports/tsan TL_LAB_LIST=$dir/labs "$t" >"$dir/log" 2>&1
	rc=$?
	stop_left_labs "$dir"
	summary=$(grep -aE '^[0-9]+%: Checks: ' "$dir/log" | tail -n 1)
	checks=$(sed -nE 's/.*Checks: ([0-9]+).*/\1/p' <<<"$summary")
	fails=$(sed -nE 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/p' <<<"$summary")
	fails=$((${fails:-0}))
	if [[ $rc -ne 0 || -z $summary ]]; then
		fails=$((fails > 0 ? fails : 1))
	fi
	if compgen -G "$dir/reports/*" >/dev/null; then
		echo "sanitizer reports:" >>"$dir/log"
		cat "$dir"/reports/* >>"$dir/log"
		rc=${rc/#0/1}
		fails=$((fails > 0 ? fails : 1))
	fi
	if [[ $rc -eq 0 && $fails -eq 0 ]]; then
		printf '  ok    %-36s %s\n' "$name" "$summary" >"$work/$i.out"
	else
		printf '  FAIL  %-36s %s (exit %d)\n' "$name" "$summary" "$rc" >"$work/$i.out"
		sed 's/^/        /' "$dir/log" | tail -n 60 >>"$work/$i.out"
	fi
	echo "${checks:-0} $fails $name" >"$work/$i.res.tmp"
	mv "$work/$i.res.tmp" "$work/$i.res"
}

passed=0 failed=0 broken=() shown=0 total=$#
# Print the finished programs' reports, in the order they finished.
show_finished() {
	local res checks fails name
	for res in "$work"/*.res; do
		[[ -e $res ]] || return 0
		read -r checks fails name <"$res"
		cat "${res%.res}.out"
		passed=$((passed + checks - (fails < checks ? fails : checks)))
		failed=$((failed + fails))
		((fails == 0)) || broken+=("$name")
		mv "$res" "$res.shown"
		shown=$((shown + 1))
	done
}

i=0
for t in "$@"; do
	while (($(jobs -rp | wc -l) >= jobs)); do
		wait -n
		show_finished
	done
	run_one "$i" "$t" &
	i=$((i + 1))
done
while ((shown < total)); do
	wait -n || true
	show_finished
	(($(jobs -rp | wc -l) == 0)) && show_finished && break
done
echo
echo "${passed} passed, ${failed} failed"
if ((${#broken[@]})); then
	echo "failed: ${broken[*]}"
	exit 1
fi
