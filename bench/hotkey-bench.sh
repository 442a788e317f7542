#!/usr/bin/env bash
# Hot-key benchmark: a `shardgate demo` cluster with 4 MariaDB shards and one proxy, sysbench through
# the proxy (bench/lua/hot-key.lua, server-side prepared statements), all clients on ONE post:
#
#   1. increments   --threads clients run UPDATE post_metrics SET like_count = like_count + 1 on the post
#   2. likes        --threads clients INSERT likes of the post (unique users)
#   each first with the post whole (k = 1), then after `shardgate hotkey split --k K` (default 8):
#   writes/s split / writes/s whole is the speed-up.
#   3. reads        4 clients read the post's counter and its like count right before the split and
#                   right after it (the same rows, whole against split): mean latency of each.
#   The split reaches every shard (sub-keys sit evenly around the slot ring). With --durable the shards
#   commit with innodb_flush_log_at_trx_commit=1 (an fsync per commit, as production runs) instead
#   of the demo's 2.
#   The counter read through the proxy at the end must equal the increments sysbench acknowledged.
#
# Prints a table and writes it to bench/results/hotkey-<date>.md.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"

threads=64
time_s=20
k=8
durable=0
keep=0
out=""
command_line="bench/hotkey-bench.sh${*:+ $*}"

usage() {
  cat <<USAGE
Usage: bench/hotkey-bench.sh [--threads N] [--time S] [--k K] [--out FILE] [--keep]

  --threads N   writing clients (default $threads)
  --time S      seconds per measurement (default $time_s)
  --k K         sub-keys of the split (default $k)
  --durable     shards fsync every commit (innodb_flush_log_at_trx_commit=1)
  --out FILE    report file (default bench/results/hotkey-<date>.md)
  --keep        keep the temp dir (demo data, logs)
USAGE
}

while (( $# )); do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --time) time_s=$2; shift 2 ;;
    --k) k=$2; shift 2 ;;
    --durable) durable=1; shift ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

tmp_prefix=shardgate-hotkey-bench
# shellcheck source=bench/lib/demo.sh
source bench/lib/demo.sh
require_tools sysbench mariadbd mariadb python3 ss
start_demo 4 0
sql() { mariadb -h127.0.0.1 -P"$port" -uapp -papp shardgate -N -B -e "$1"; }
sb=(sysbench bench/lua/hot-key.lua --mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user=app --mysql-password=app
    --mysql-db=shardgate --db-ps-mode=auto)

shard_sql() { mariadb -h127.0.0.1 -P"$(( shard_base + $1 ))" -uroot -N -B -D mysql -e "$2"; }
flush=2
if (( durable )); then
  flush=1
  for i in 0 1 2 3; do shard_sql "$i" "SET GLOBAL innodb_flush_log_at_trx_commit = 1"; done
fi
hot=42
cold=$(( hot + 1 ))
sql "CREATE TABLE IF NOT EXISTS post_metrics (post_id BIGINT PRIMARY KEY, title VARCHAR(64), like_count BIGINT NOT NULL DEFAULT 0,
     view_count BIGINT NOT NULL DEFAULT 0)"
sql "CREATE TABLE IF NOT EXISTS likes (post_id BIGINT NOT NULL, user_id BIGINT NOT NULL, created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
     PRIMARY KEY (post_id, user_id))"
sql "INSERT INTO post_metrics (post_id, title) VALUES ($hot, 'viral'), ($cold, 'calm')"
for u in $(seq 1 200); do printf '(%s, %s),' "$cold" "$u"; done | sed 's/,$//' > "$tmp/cold-likes.txt"
sql "INSERT INTO likes (post_id, user_id) VALUES $(cat "$tmp/cold-likes.txt")"

cpu_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; }

# run MODE POST NAME [THREADS] [USER_BASE] -> "events_per_second mean_latency_ms events cpu_busy_percent"
run() {
  local mode=$1 post=$2 name=$3 n=${4:-$threads} base=${5:-1000000000}
  local before after
  before=$(cpu_ticks)
  "${sb[@]}" --mode="$mode" --post="$post" --user-base="$base" --threads="$n" --time="$time_s" run > "$tmp/$name.log" 2>&1 \
    || { cat "$tmp/$name.log" >&2; die "sysbench $name failed"; }
  after=$(cpu_ticks)
  python3 - "$tmp/$name.log" "$before" "$after" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
events = int(re.search(r"total number of events:\s+(\d+)", t).group(1))
eps = float(re.search(r"transactions:\s+\d+\s+\(([\d.]+) per sec", t).group(1))
avg = float(re.search(r"avg:\s+([\d.]+)", t).group(1))
b_busy, b_idle = map(int, sys.argv[2].split())
a_busy, a_idle = map(int, sys.argv[3].split())
busy = a_busy - b_busy
total = busy + a_idle - b_idle
print(round(eps, 1), avg, events, round(100 * busy / total) if total else 0)
PY
}

log "1/3 whole post: $threads clients incrementing one counter, then inserting likes of one post ($time_s s each)"
read -r inc1 inc1_lat inc1_n inc1_cpu < <(run increment "$hot" inc-k1)
read -r like1 like1_lat like1_rows like1_cpu < <(run like "$hot" like-k1 "$threads" 1000000000000)
log "  increments $inc1/s, likes $like1/s"

log "reads of the whole post $hot: 4 clients"
read -r _ rc_whole _ < <(run read-counter "$hot" read-counter-whole 4)
read -r _ rl_whole _ < <(run read-likes "$hot" read-likes-whole 4)

log "splitting post $hot over $k sub-keys in post_metrics and likes"
cli hotkey split --table post_metrics --key "$hot" --k "$k" "${zk[@]}" > "$tmp/split-metrics.log" 2>&1 \
  || { cat "$tmp/split-metrics.log" >&2; die "hotkey split post_metrics failed"; }
cli hotkey split --table likes --key "$hot" --k "$k" "${zk[@]}" > "$tmp/split-likes.log" 2>&1 \
  || { cat "$tmp/split-likes.log" >&2; die "hotkey split likes failed"; }
split_line=$(grep '^split:' "$tmp/split-metrics.log")
likes_held=$(grep '^split:' "$tmp/split-likes.log" | sed 's/.*key held //')
log "  $split_line"

log "reads of the split post $hot: 4 clients (the same rows)"
read -r _ rc_split _ < <(run read-counter "$hot" read-counter-split 4)
read -r _ rl_split _ < <(run read-likes "$hot" read-likes-split 4)

log "2/3 split post: the same loads"
read -r inc8 inc8_lat inc8_n inc8_cpu < <(run increment "$hot" inc-k"$k")
read -r like8 like8_lat _ like8_cpu < <(run like "$hot" like-k"$k" "$threads" 2000000000000)
log "  increments $inc8/s, likes $like8/s"

log "3/3 reads of an unsplit post $cold: 4 clients"
read -r _ rc_cold _ < <(run read-counter "$cold" read-counter-cold 4)

counter=$(sql "SELECT like_count FROM post_metrics WHERE post_id = $hot")
expected=$(( inc1_n + inc8_n ))
[[ $counter == "$expected" ]] || die "the counter reads $counter but sysbench acknowledged $expected increments"
log "counter $counter = acknowledged increments"

ratio() { python3 -c "print(round($1 / $2, 2) if $2 else 0)"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
report=$(cat <<REPORT
# Hot-key benchmark, $(date -u +%Y-%m-%d\ %H:%M) UTC

Command: \`$command_line\`
Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); demo cluster (embedded ZooKeeper,
4 local MariaDB $(mariadbd --version | awk '{print $3}') shards with innodb_flush_log_at_trx_commit=$flush, one proxy) and sysbench
$(sysbench --version | awk '{print $2}') share the cores. $split_line.

| load ($threads clients, one post, $time_s s) | k = 1 | k = $k | speed-up | target |
|---|---:|---:|---:|---:|
| counter increments/s | $inc1 (avg $inc1_lat ms, CPU $inc1_cpu% busy) | $inc8 (avg $inc8_lat ms, CPU $inc8_cpu% busy) | **$(ratio "$inc8" "$inc1") x** | ≥ 3 x |
| like inserts/s | $like1 (avg $like1_lat ms, CPU $like1_cpu% busy) | $like8 (avg $like8_lat ms, CPU $like8_cpu% busy) | **$(ratio "$like8" "$like1") x** | ≥ 3 x |

| read of post $hot (4 clients, mean latency) | split (k = $k) | whole (just before the split) | ratio |
|---|---:|---:|---:|
| SELECT like_count … WHERE post_id = ? | $rc_split ms | $rc_whole ms | $(ratio "$rc_split" "$rc_whole") x |
| SELECT COUNT(*) FROM likes WHERE post_id = ? ($like1_rows likes) | $rl_split ms | $rl_whole ms | $(ratio "$rl_split" "$rl_whole") x |

An unsplit post's counter read (post $cold) took $rc_cold ms.

The split of likes (moving the $like1_rows likes of the first run to their sub-keys) held the post for $likes_held.
The counter read through the proxy at the end equals the $expected increments sysbench acknowledged.
REPORT
)
mkdir -p bench/results
out=${out:-bench/results/hotkey-$(date -u +%Y-%m-%d-%H%M).md}
printf '%s\n' "$report" > "$out"
printf '%s\n\nreport: %s\n' "$report" "$out"
