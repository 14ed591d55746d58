#!/usr/bin/env bash
# run.sh - run test programs one by one, show each one's Check summary, and
# end with the totals: "N passed, N failed". Exit 1 if any test failed.
set -u
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
# Sanitizer reports from every process a test starts (daemons and tools
# included) land in one folder; a report fails the test that caused it.
reports=$(mktemp -d /tmp/ctdlab-sanitizer-XXXXXX)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}:log_path=$reports/asan
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:log_path=$reports/ubsan
if [[ -f tests/lsan.supp ]]; then
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
fi
passed=0 failed=0 broken=()
for t in "$@"; do
	name=$(basename "$t")
	log=$(mktemp)
	"$t" >"$log" 2>&1
	rc=$?
	summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
	checks=$(sed -nE 's/.*Checks: ([0-9]+).*/\1/p' <<<"$summary")
	fails=$(sed -nE 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/p' <<<"$summary")
	fails=$((${fails:-0}))
	if [[ $rc -ne 0 || -z $summary ]]; then
		fails=$((fails > 0 ? fails : 1))
	fi
	if compgen -G "$reports/*" >/dev/null; then
		echo "sanitizer reports:" >>"$log"
		cat "$reports"/* >>"$log"
		rm -f "$reports"/*
		rc=${rc/#0/1}
		fails=$((fails > 0 ? fails : 1))
	fi
	checks=${checks:-0}
	passed=$((passed + checks - (fails < checks ? fails : checks)))
	failed=$((failed + fails))
	if [[ $rc -eq 0 && $fails -eq 0 ]]; then
		printf '  ok    %-36s %s\n' "$name" "$summary"
	else
		printf '  FAIL  %-36s %s (exit %d)\n' "$name" "$summary" "$rc"
		sed 's/^/        /' "$log" | tail -n 60
		broken+=("$name")
	fi
	rm -f "$log"
done
echo
echo "${passed} passed, ${failed} failed"
if ((${#broken[@]})); then
	echo "failed: ${broken[*]}"
	exit 1
fi
