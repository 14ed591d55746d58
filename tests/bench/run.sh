#!/usr/bin/env bash
# run.sh - `make bench`: every tests/bench/bench_*.sh in turn (SMTP intake vs
# Postfix smtp-sink, lab start-up and memory, ...). Exit 1 if one failed.
cd "$(dirname "$0")/../.."
rc=0
for b in tests/bench/bench_*.sh; do
	echo "== ${b##*/}"
	bash "$b" || rc=1
done
exit $rc
