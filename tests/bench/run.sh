#!/usr/bin/env bash
# run.sh - `make bench`: every tests/bench/bench_*.sh in turn (SMTP intake vs
# Postfix smtp-sink, lab start-up and memory, ...). Each figure is printed and
# recorded; the records become bench.json (BENCH_JSON, default ./bench.json),
# and the figures that have a goal are summed up, met or missed, at the end.
# With BASE=<earlier bench.json> the run ends with a comparison against it
# (tools/bench-compare). Exit 1 if a benchmark failed.
cd "$(dirname "$0")/../.."
out=${BENCH_JSON:-bench.json}
BENCH_RECORDS=$(mktemp /tmp/ctdlab-bench-records.XXXXXX)
export BENCH_RECORDS
trap 'rm -f "$BENCH_RECORDS"' EXIT
rc=0
for b in tests/bench/bench_*.sh; do
	echo "== ${b##*/}"
	bash "$b" || rc=1
done
python3 - "$BENCH_RECORDS" "$out" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, os, sys, time
records, out, commit = sys.argv[1:4]
figures = [json.loads(line) for line in open(records) if line.strip()]
doc = {"commit": commit, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "cores": os.cpu_count(), "figures": figures}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
goals = [f for f in figures if "target" in f]
if goals:
    print(f"== goals: {sum(f['meets'] for f in goals)} of {len(goals)} met")
    for f in goals:
        sign = ">=" if f["better"] == "higher" else "<="
        print(f"  {'meets ' if f['meets'] else 'MISSES'} {f['label']:34}: {f['value']:g} {f['unit']}"
              f" (goal {sign} {f['target']:g})")
print(f"bench: {len(figures)} figures written to {out}")
PY
if [[ -n ${BASE:-} ]]; then
	tools/bench-compare "$BASE" "$out" || rc=1
fi
exit $rc
