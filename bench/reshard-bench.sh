#!/usr/bin/env bash
# Online resharding benchmark: a `shardgate demo` cluster (embedded ZooKeeper, local MariaDB shards,
# one proxy, one migration worker) and sysbench through the proxy, in three measurements:
#
#   1. backfill   sbtest1 with N rows (default 1,000,000) on s0; every slot moves to s1; rows copied
#                 divided by the BACKFILL phase's duration (from the worker's phase start times).
#   2. stay       point updates (UPDATE sbtest1 SET k = k + 1 WHERE id = ?) on the ids whose slots do
#                 NOT move, first alone for --time seconds, then while slots 0-2047 move from s1 to s2:
#                 mean QPS during the migration / mean QPS before it.
#   3. cutover    point updates on every id while --cutovers migrations of 64 slots each run one after
#                 another; each migration's write pause on its moving slots as the worker measures it
#                 (CUTOVER_PAUSE published -> every proxy runs with the target as owner): p50 and max.
#                 sysbench stops at the first error, so a run that finishes also shows no write failed.
#
# Prints a table and writes it to bench/results/reshard-<date>.md. Everything runs in a temp dir on
# free ports; everything started here is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"

rows=1000000
threads=4
time_s=20
cutovers=10
chunk_rows=1000
stay_rate=0
keep=0
out=""
command_line="bench/reshard-bench.sh${*:+ $*}"

usage() {
  cat <<EOF
Usage: bench/reshard-bench.sh [--rows N] [--threads N] [--time S] [--cutovers N] [--chunk-rows N] [--out FILE] [--keep]

  --rows N        rows in sbtest1 (default $rows)
  --threads N     sysbench threads for the loads (default $threads)
  --time S        seconds of the "before" measurement of the stay load (default $time_s)
  --cutovers N    migrations (cutovers) measured under load (default $cutovers)
  --chunk-rows N  backfill/verify chunk size (default $chunk_rows)
  --stay-rows-per-second N
                  throttle of the migration in measurement 2 (default $stay_rate = unlimited)
  --out FILE      report file (default bench/results/reshard-<date>.md)
  --keep          keep the temp dir (demo data, logs)
EOF
}

while (( $# )); do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --time) time_s=$2; shift 2 ;;
    --cutovers) cutovers=$2; shift 2 ;;
    --chunk-rows) chunk_rows=$2; shift 2 ;;
    --stay-rows-per-second) stay_rate=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

tmp_prefix=shardgate-reshard-bench
# shellcheck source=bench/lib/demo.sh
source bench/lib/demo.sh
require_tools sysbench mariadbd mariadb python3 ss
start_demo 1 2
sb_common=(--mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user=app --mysql-password=app --mysql-db=shardgate)

log "loading $rows rows into sbtest1 through the proxy"
load_start=$(date +%s.%N)
sysbench oltp_read_write "${sb_common[@]}" --tables=1 --table-size="$rows" --auto_inc=off prepare > "$tmp/prepare.log" 2>&1 \
  || { cat "$tmp/prepare.log" >&2; die "sysbench prepare failed"; }
load_s=$(python3 -c "import time; print(round(time.time() - $load_start, 1))")
log "loaded in ${load_s} s"

# Polls 'reshard status --json --all' until every migration has ended; writes one JSON document per
# poll (with the local time) to $1.
follow() {
  local file=$1
  : > "$file"
  while true; do
    local doc
    doc=$(cli reshard status --json --all "${zk[@]}" 2>/dev/null \
      | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' 2>/dev/null || true)
    [[ -n $doc ]] && printf '%s\t%s\n' "$(date +%s%3N)" "$doc" >> "$file"
    if [[ -n $doc ]] && python3 - "$doc" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
ms = d["migrations"]
ended = {"done", "aborted", "rolled-back", "failed"}
sys.exit(0 if ms and all(m["status"] in ended for m in ms) else 1)
EOF
    then
      return 0
    fi
    sleep 0.5
  done
}

migrate() { # slots target name [rows/s] -> runs one migration to its end, following it into $tmp/follow-<name>.log
  local slots=$1 target=$2 name=$3 rate=${4:-0}
  cli reshard start --slots "$slots" --to "$target" --auto-complete --chunk-rows "$chunk_rows" --rows-per-second "$rate" \
    "${zk[@]}" > "$tmp/start-$name.log" 2>&1 \
    || { cat "$tmp/start-$name.log" >&2; die "reshard start --slots $slots --to $target failed"; }
  follow "$tmp/follow-$name.log"
  python3 - "$tmp/follow-$name.log" <<'EOF' || die "migration $name did not end DONE (see $tmp/follow-$name.log)"
import json, sys
last = open(sys.argv[1]).read().strip().splitlines()[-1].split("\t", 1)[1]
ms = json.loads(last)["migrations"]
bad = [m for m in ms if m["status"] != "done"]
if bad:
    print(bad, file=sys.stderr); sys.exit(1)
EOF
}

# ---- 1. backfill
log "1/3 backfill: moving every slot (all $rows rows) from s0 to s1"
migrate 0-4095 s1 backfill
read -r backfill_rows backfill_s backfill_rate < <(python3 - "$tmp/follow-backfill.log" <<'EOF'
import json, sys
starts = {}
copied = 0
for line in open(sys.argv[1]):
    t, doc = line.rstrip("\n").split("\t", 1)
    for m in json.loads(doc)["migrations"]:
        if m["phaseStartedAtMillis"]:
            starts.setdefault(m["status"], m["phaseStartedAtMillis"])
        copied = max(copied, sum(tp["rowsCopied"] or 0 for tp in m["tables"]))
b, v = starts.get("backfill"), starts.get("verify")
if not b or not v:
    print(0, 0, 0); sys.exit()
s = (v - b) / 1000
print(copied, round(s, 1), int(copied / s) if s > 0 else 0)
EOF
)
log "backfill: $backfill_rows rows in $backfill_s s = $backfill_rate rows/s"

# ---- 2. throughput of the slots that stay
stay=(bench/lua/slot-updates.lua "${sb_common[@]}" --table-size="$rows" --slots=4096 --slot-from=0 --slot-to=2047 --mode=stay
      --threads="$threads")
log "2/3 stay: $time_s s of updates on slots 2048-4095 alone"
sysbench "${stay[@]}" --time="$time_s" run > "$tmp/stay-before.log" 2>&1 || { cat "$tmp/stay-before.log" >&2; die "sysbench failed"; }
qps_before=$(awk '/queries:/ && /per sec/ {gsub(/[()]/, ""); print $3; exit}' "$tmp/stay-before.log")
log "  before: $qps_before QPS; now again while slots 0-2047 move from s1 to s2"
sysbench "${stay[@]}" --time=3600 --report-interval=1 run > "$tmp/stay-during.log" 2>&1 &
sb_pid=$!
pids+=("$sb_pid")
sb_start=$(date +%s%3N)
sleep 2
mig_start=$(date +%s%3N)
migrate 0-2047 s2 stay "$stay_rate"
mig_end=$(date +%s%3N)
kill -TERM "$sb_pid" 2>/dev/null || true
wait "$sb_pid" 2>/dev/null || true
qps_during=$(python3 - "$tmp/stay-during.log" "$sb_start" "$mig_start" "$mig_end" <<'EOF'
import re, sys
log, sb, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
vals = []
for line in open(log):
    m = re.match(r"\[ (\d+)s \].*qps: ([\d.]+)", line)
    if m:
        t = sb + int(m.group(1)) * 1000
        if a < t <= b:
            vals.append(float(m.group(2)))
print(round(sum(vals) / len(vals), 1) if vals else 0)
EOF
)
stay_ratio=$(python3 -c "print(round($qps_during / $qps_before, 2) if $qps_before else 0)")
log "  during: $qps_during QPS = $stay_ratio x before"

# ---- 3. cutover pauses under load
log "3/3 cutover: $cutovers migrations of 64 slots under updates on every id"
sysbench bench/lua/slot-updates.lua "${sb_common[@]}" --table-size="$rows" --mode=all --threads="$threads" --time=3600 \
  --report-interval=5 run > "$tmp/cutover-load.log" 2>&1 &
sb_pid=$!
pids+=("$sb_pid")
pauses=()
for i in $(seq 0 $(( cutovers - 1 ))); do
  from=$(( 2048 + 64 * i )); to=$(( from + 63 ))
  migrate "$from-$to" s2 "cutover-$i"
  pause=$(python3 - "$tmp/follow-cutover-$i.log" <<'EOF'
import json, sys
last = open(sys.argv[1]).read().strip().splitlines()[-1].split("\t", 1)[1]
print(json.loads(last)["migrations"][-1]["lastPauseMillis"])
EOF
)
  kill -0 "$sb_pid" 2>/dev/null || { cat "$tmp/cutover-load.log" >&2; die "the update load stopped (a write failed?) during cutover $i"; }
  log "  cutover $i (slots $from-$to): pause $pause ms"
  pauses+=("$pause")
done
kill -TERM "$sb_pid" 2>/dev/null || true
wait "$sb_pid" 2>/dev/null || true
read -r pause_p50 pause_max < <(python3 -c "
import statistics, sys
p = sorted(int(x) for x in sys.argv[1:])
print(int(statistics.median(p)), max(p))" "${pauses[@]}")
errors=$(grep -ci 'error' "$tmp/cutover-load.log" || true)

# ---- report
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
report=$(cat <<EOF
# Resharding benchmark, $(date -u +%Y-%m-%d\ %H:%M) UTC

Command: \`$command_line\`
Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); demo cluster (embedded ZooKeeper,
3 local MariaDB $(mariadbd --version | awk '{print $3}') shards, one proxy, one migration worker) and sysbench $(sysbench --version | awk '{print $2}') share the cores.

| measurement | result | target |
|---|---:|---:|
| backfill of $backfill_rows rows (chunks of $chunk_rows) | **$backfill_rate rows/s** ($backfill_s s) | ≥ 20,000 rows/s |
| cutover pause on the moving slots, $cutovers cutovers under $threads-thread update load | **p50 $pause_p50 ms, max $pause_max ms** (all: ${pauses[*]}) | max ≤ 100 ms |
| updates on slots that stay, during a migration of 2048 slots (throttle: ${stay_rate} rows/s, 0 = none) / before | **$stay_ratio** ($qps_during / $qps_before QPS) | ≥ 0.8 |

Loading $rows rows through the proxy (sysbench prepare) took $load_s s. Error lines in the cutover load's log: $errors.
EOF
)
mkdir -p bench/results
out=${out:-bench/results/reshard-$(date -u +%Y-%m-%d-%H%M).md}
printf '%s\n' "$report" > "$out"
printf '%s\n\nreport: %s\n' "$report" "$out"
