#!/usr/bin/env bash
# bench_so.sh - suspicious objects at scale (issue #17 goal 3), with the real
# daemons: tmcmd holding BENCH_SO objects (default 1 000 000), imsvad and
# spsd subscribed to its feed as `ctdlab up` wires them (tmcm_url + the
# subscription's feed key, one lab.db). It prints
#   - TMCM's feed of all of them served (at most 2 s): a client pulling every
#     get_black_lists page, signed as a product (so_bench feed);
#   - IMSVA's and SPS's full sync (at most 5 s each), then each one's
#     incremental sync of 10 objects added at TMCM through its console API
#     (POST /api/udso; at most 50 ms), as the daemons report them
#     (last_sync_duration_ms);
#   - the per-message SO lookup (IMSVA: attachment SHA-1; SPS: the URL of a
#     WRS query) at 1 000 and at BENCH_SO objects, and their ratio.
# Beside the wall-clock figures, the daemons' CPU time: the machine is shared.
#
# TMCM is filled by one INSERT ... SELECT over a recursive CTE into a stopped
# lab's store (user-defined objects and their feed rows, as tmcm_udso_put
# leaves them): a million through the console or Automation API, one
# transaction and recomputation each, would take longer than the whole bench.
# Knobs (environment): BENCH_SO (objects, default 1000000); BENCH_BINDIR
# (where make bench built so_bench, default build/bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
N=${BENCH_SO:-1000000}
SMALL=1000
SO_BENCH=${BENCH_BINDIR:-build/bench}/so_bench
[[ -x $SO_BENCH ]] || { echo "bench: $SO_BENCH missing: make bench builds it" >&2; exit 1; }
bench_workdir so

# value TEXT KEY: the first "KEY": value of a JSON text (a string's contents
# or a number), read in bash. These reads run beside the syncs being measured,
# on the same two cores, where a Python start costs about 0.3 s of CPU: a
# poll that started one every 50 ms took a core from the sync it waited for.
value() { [[ $1 =~ \"$2\":\ ?\"?([^\",}]*) ]] && echo "${BASH_REMATCH[1]}"; }
# ready HOME KEY NAME: KEY of daemon NAME's ready file
ready() { value "$(<"$1/run/$3.json")" "$2"; }

# start DAEMON HOME NAME ARGS...: wait for its ready file; its pid in $started
start() {
	local daemon=$1 home=$2 name=$3
	shift 3
	rm -f "$home/run/$name.json"
	bin/"$daemon" --home "$home" --port 0 --log_level warn "$@" >>"$home/$name.log" 2>&1 &
	started=$!
	pids+=("$started")
	for _ in $(seq 300); do
		[[ -s $home/run/$name.json ]] && return 0
		kill -0 "$started" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: $daemon did not start: $(tail -3 "$home/$name.log")" >&2
	exit 1
}

stop() { kill "$1" && wait "$1" 2>/dev/null || true; }

# seed HOME COUNT: COUNT user-defined objects (FILE, URL, DOMAIN, IP) with
# their feed rows, change IDs 1..COUNT
seed() {
	python3 - "$1/lab.db" "$2" <<'PY'
import sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
c = sqlite3.connect(db)
c.executescript(f"""
PRAGMA synchronous=OFF;
BEGIN;
CREATE TEMP TABLE seed AS
WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {n}),
k(n, kind) AS (SELECT n, CASE WHEN n % 10 = 0 THEN 0 WHEN n % 10 < 3 THEN 1
                         WHEN n % 10 < 6 THEN 2 ELSE 3 END FROM i)
SELECT n, CASE kind WHEN 0 THEN 'ip' WHEN 1 THEN 'domain' WHEN 2 THEN 'url'
                    ELSE 'file_sha1' END AS utype,
       CASE kind WHEN 0 THEN 'IP' WHEN 1 THEN 'DOMAIN' WHEN 2 THEN 'URL' ELSE 'FILE' END AS ftype,
       CASE kind WHEN 0 THEN printf('10.%d.%d.%d', (n >> 16) & 255, (n >> 8) & 255, n & 255)
                 WHEN 1 THEN printf('d%d.so.bench.test', n)
                 WHEN 2 THEN printf('http://u%d.so.bench.test/p', n)
                 ELSE printf('%040X', n) END AS value,
       CASE n % 3 WHEN 0 THEN 'log' WHEN 1 THEN 'block' ELSE 'quarantine' END AS action
FROM k;
INSERT INTO tmcm_udso (type, content, scan_action, feed_type, feed_value, created_ms, modified_ms)
  SELECT utype, value, action, ftype, value, {now}, {now} FROM seed ORDER BY n;
INSERT INTO tmcm_feed (type, value, change_id, action, risk, source, first_seen_ms,
                       last_seen_ms, expires_ms, related_sha1, removed)
  SELECT ftype, value, n, action, 'High', 'UDSO', {now}, {now}, 0,
         CASE ftype WHEN 'FILE' THEN value ELSE '' END, 0 FROM seed ORDER BY n;
COMMIT;
""")
c.close()
PY
}

# wait_synced URL TOKEN PATH KEY COUNT: until status PATH says KEY >= COUNT;
# prints the status. The figures are the daemons' own, so the poll's period
# does not change them.
wait_synced() {
	local st n
	for _ in $(seq 600); do
		st=$(curl -sk "$1$3" -H "Authorization: Bearer $2")
		n=$(value "$st" "$4")
		if [[ $n =~ ^[0-9]+$ ]] && ((n >= $5)); then
			# the sync's figures are noted just after its commit: read again
			sleep 0.1
			curl -sk "$1$3" -H "Authorization: Bearer $2"
			return 0
		fi
		sleep 0.2
	done
	echo "bench: $1$3 never reached $4 $5: $st" >&2
	exit 1
}

login() { value "$(curl -sk "$1/api/login" -d "{\"password\":\"$2\"}")" token; }

# CPU time a process has used (user + system), ms: wall clock is noisy on a
# shared machine, this is not
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }

# lab COUNT HOME: TMCM with COUNT objects, IMSVA and SPS synchronised from it
# (their pids in $imsva_pid, $sps_pid; URLs and tokens in globals)
lab() {
	local count=$1 home=$2
	mkdir -p "$home"
	start tmcmd "$home" tmcm --udso_max $((count + 1000)) # creates the store
	stop "$started"
	seed "$home" "$count"
	start tmcmd "$home" tmcm --udso_max $((count + 1000))
	tmcm=$(ready "$home" https tmcm)
	imsva_key=$(ready "$home" imsva_feed_key tmcm)
	sps_key=$(ready "$home" sps_feed_key tmcm)
	tmcm_password=$(ready "$home" console_password tmcm)
	if [[ $count -eq $N ]]; then
		local tmcm_cpu
		tmcm_cpu=$(cpu_ms "$started")
		read -r served bytes ms < <("$SO_BENCH" feed "$tmcm" "$imsva_key" "so_bench")
		[[ $served -eq $N ]] || { echo "bench: the feed served $served of $N" >&2; exit 1; }
		limit so.tmcm_feed_served_ms "$ms" ms 2000 "TMCM feed of $N served"
		figure so.tmcm_feed_cpu_ms $(($(cpu_ms "$started") - tmcm_cpu)) ms lower \
			"  tmcmd CPU serving it"
		record so.tmcm_feed_bytes "$bytes" bytes lower "TMCM feed size"
	fi
	start imsvad "$home" imsva --smtp_port 0 --admin_password bench --tmcm_url "$tmcm" \
		--tmcm_api_key "$imsva_key" --tmcm_sync_interval 1h
	imsva_pid=$started
	imsva=$(ready "$home" https imsva)
	imsva_tok=$(login "$imsva" bench)
	imsva_status=$(wait_synced "$imsva" "$imsva_tok" /api/connections/tmcm objects "$count")
	imsva_cpu=$(cpu_ms "$imsva_pid")
	start spsd "$home" sps --wrs_port 0 --admin_password bench --tmcm_url "$tmcm" \
		--tmcm_api_key "$sps_key" --sync_interval 1h --sync_timeout 60s
	sps_pid=$started
	sps=$(ready "$home" https sps)
	sps_tok=$(login "$sps" bench)
	sps_status=$(wait_synced "$sps" "$sps_tok" /api/so/status cursor "$count")
	sps_cpu=$(cpu_ms "$sps_pid")
}

echo "bench: suspicious objects at scale: $N in TMCM, IMSVA and SPS subscribed"
lab "$N" "$work/big"
limit so.imsva_full_sync_ms "$(value "$imsva_status" last_sync_duration_ms)" ms 5000 \
	"IMSVA full sync of $N"
figure so.imsva_full_sync_cpu_ms "$imsva_cpu" ms lower "  imsvad CPU (start + full sync)"
limit so.sps_full_sync_ms "$(value "$sps_status" last_sync_duration_ms)" ms 5000 \
	"SPS full sync of $N"
figure so.sps_full_sync_cpu_ms "$sps_cpu" ms lower "  spsd CPU (start + full sync)"

tmcm_tok=$(login "$tmcm" "$tmcm_password")
for i in $(seq 10); do
	curl -skf "$tmcm/api/udso" -H "Authorization: Bearer $tmcm_tok" \
		-d "{\"type\":\"domain\",\"content\":\"added$i.so.bench.test\",\"scan_action\":\"block\"}" \
		>/dev/null
done
curl -sk -X POST "$imsva/api/connections/tmcm/sync" -H "Authorization: Bearer $imsva_tok" >/dev/null
inc=$(wait_synced "$imsva" "$imsva_tok" /api/connections/tmcm cursor $((N + 10)))
limit so.imsva_incremental_sync_ms "$(value "$inc" last_sync_duration_ms)" ms 50 \
	"IMSVA incremental sync of 10"
curl -sk -X POST "$sps/api/so/sync" -H "Authorization: Bearer $sps_tok" >/dev/null
inc=$(wait_synced "$sps" "$sps_tok" /api/so/status cursor $((N + 10)))
limit so.sps_incremental_sync_ms "$(value "$inc" last_sync_duration_ms)" ms 50 \
	"SPS incremental sync of 10"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
read -r imsva_big sps_big < <("$SO_BENCH" lookup "$work/big/lab.db" 5)
rm -rf "$work/big"

lab "$SMALL" "$work/small"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
read -r imsva_small sps_small < <("$SO_BENCH" lookup "$work/small/lab.db" 5)
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
figure so.imsva_lookup_small_ns "$imsva_small" ns lower "IMSVA SHA-1 lookup at $SMALL"
figure so.imsva_lookup_big_ns "$imsva_big" ns lower "IMSVA SHA-1 lookup at $N"
figure so.imsva_lookup_ratio "$(ratio "$imsva_big" "$imsva_small")" ratio lower \
	"IMSVA lookup $N / $SMALL"
figure so.sps_lookup_small_ns "$sps_small" ns lower "SPS URL lookup at $SMALL"
figure so.sps_lookup_big_ns "$sps_big" ns lower "SPS URL lookup at $N"
figure so.sps_lookup_ratio "$(ratio "$sps_big" "$sps_small")" ratio lower \
	"SPS lookup $N / $SMALL"
