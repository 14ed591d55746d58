#!/usr/bin/env bash
# run.sh - run libFuzzer harnesses one after the other (the machine's cores
# are shared): run.sh SECONDS HARNESS... Each runs SECONDS on a scratch copy
# of its seed corpus tests/fuzz/corpus/<name>/ (new inputs stay in
# build-fuzz/corpus/, the repository's seeds are not touched); a crash leaves
# its input in build-fuzz/artifacts/<name>/ and fails the run.
set -uo pipefail
secs=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
failed=()
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	seeds=$root/tests/fuzz/corpus/$name
	work=$root/build-fuzz/corpus/$name
	art=$root/build-fuzz/artifacts/$name
	mkdir -p "$work" "$art"
	[[ -d $seeds ]] || { echo "fuzz: no seed corpus $seeds" >&2; failed+=("$name"); continue; }
	printf '  FUZZ   %-20s %ss\n' "$name" "$secs"
	if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
		-print_final_stats=0 -artifact_prefix="$art/" "$work" "$seeds" \
		>"$art/log" 2>&1; then
		echo "fuzz: $name failed; input(s) in $art/, log $art/log" >&2
		tail -40 "$art/log" >&2
		failed+=("$name")
	fi
done
((${#failed[@]} == 0)) || { echo "fuzz: failed: ${failed[*]}" >&2; exit 1; }
echo "fuzz: $# harnesses, ${secs}s each, no crash"
