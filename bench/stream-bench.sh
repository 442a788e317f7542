#!/usr/bin/env bash
# Streaming benchmark of Shardgate (issue 15's streaming target): one large single-shard SELECT *,
# read with the mariadb client in --quick mode (rows printed as they arrive), directly from MariaDB
# and through a proxy started with a small heap (-Xmx256m), once with the native relay
# (backend.native: true) and once with the JDBC path (backend.native: false), in one run.
#
# With --shards N (N > 1) the proxies' cluster has N shards (databases of the same server, each
# holding the rows with id mod N = i) and the query is a scatter read of every row, merged by the
# proxy: concatenated, or with --order-by a k-way merge of "ORDER BY id". Direct is the same query
# on one database of that server holding all the rows.
#
# Per target and round it prints the time to the first row (from starting the client, connect and
# login included), the total time, rows/s and its ratio to direct, and for the proxies the growth of
# the JVM's resident set (VmRSS, sampled every 50 ms from /proc/<pid>/status) during the query over
# its value just before. A proxy that buffers the result grows with the result; one that streams
# stays flat. The table goes to bench/results/stream-<date>.md.
#
# Everything runs in a temp dir under /tmp on free ports >= 20000; every process started here is
# stopped on exit, also on Ctrl-C or error.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
shardgate=${SHARDGATE_BENCH_LAUNCHER:-bin/shardgate}

rows=5000000
rounds=2
xmx=256m
targets_arg=direct,native,jdbc
timeout_s=300
keep=0
shards=1
order_by=0
out=""
command_line="bench/stream-bench.sh${*:+ $*}"

usage() {
  cat <<EOF
Usage: bench/stream-bench.sh [options]

Times a single-shard SELECT * of N rows of about 200 bytes directly and through Shardgate (native
relay and JDBC path), and samples the proxy's RSS while it runs.

Options:
  --rows N          rows in the table (default $rows; 1000000 runs in a few minutes)
  --rounds R        measurements per target, interleaved (default $rounds)
  --xmx SIZE        the proxies' -Xmx (default $xmx)
  --targets LIST    comma-separated subset of direct,native,jdbc (default all)
  --timeout S       a measurement taking longer fails (default $timeout_s)
  --out FILE        where to write the markdown report (default bench/results/stream-<date>.md)
  --shards N        N > 1: a scatter read of all rows over N shards (databases of the one server)
  --order-by        with --shards: ORDER BY id (the proxy merges the shards' ordered rows)
  --keep            keep the temp dir (server data, configs, logs)
  -h, --help        this text

Needs mariadbd, mariadb-install-db, mariadb, mariadb-admin, and what bin/shardgate needs.
EOF
}

die() {
  echo "stream-bench: error: $*" >&2 || true
  exit 1
}
log() { echo "stream-bench: $(date +%H:%M:%S) $*" >&2 || true; }

need_int() {
  [[ $2 =~ ^[0-9]+$ ]] && (( $2 >= $3 )) || die "$1 must be an integer >= $3, was '$2'"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --rows) rows=${2:-}; shift 2 ;;
    --rounds) rounds=${2:-}; shift 2 ;;
    --xmx) xmx=${2:-}; shift 2 ;;
    --targets) targets_arg=${2:-}; shift 2 ;;
    --timeout) timeout_s=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    --keep) keep=1; shift ;;
    --shards) shards=${2:-}; shift 2 ;;
    --order-by) order_by=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
need_int --rows "$rows" 1
need_int --rounds "$rounds" 1
need_int --timeout "$timeout_s" 1
need_int --shards "$shards" 1
(( order_by == 0 || shards > 1 )) || die "--order-by needs --shards N with N > 1"
[[ $xmx =~ ^[0-9]+[kmgKMG]?$ ]] || die "--xmx must be a JVM heap size such as 256m, was '$xmx'"

targets=()
IFS=, read -ra requested <<<"$targets_arg"
for t in direct native jdbc; do
  for r in "${requested[@]}"; do [[ $r == "$t" ]] && { targets+=("$t"); break; }; done
done
for r in "${requested[@]}"; do
  case $r in direct|native|jdbc) ;; *) die "--targets: unknown target '$r' (use direct, native, jdbc)" ;; esac
done
[[ ${#targets[@]} -gt 0 ]] || die "--targets: no target given"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin ss setsid timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "missing on PATH: $tool"
done

# shellcheck source=bench/lib/measure.sh
source "$root/bench/lib/measure.sh"

declare -A target_port=() middle_pid=()
db_user=sbtest
db_password=sbtest
db_name=streamdb
proxy_user=app
proxy_password=app
# the proxies' logical database is their default shard's; direct reads a database holding every row
proxy_db=$db_name
direct_db=$db_name
if (( shards > 1 )); then
  direct_db=${db_name}_all
  sql="SELECT * FROM stream_rows"
  (( order_by )) && sql+=" ORDER BY id"
  point_sql="SELECT * FROM stream_rows WHERE id = 1"
else
  sql="SELECT * FROM stream_rows WHERE customer_id = 1"
  point_sql="$sql AND id = 1"
fi
shard_db() { (( $1 == 0 )) && echo "$db_name" || echo "${db_name}_s$1"; }

# ---------------------------------------------------------------------------------------------------
# MariaDB: one server, one table of $rows rows of customer 1 (so all on one shard), about 200 bytes each

dir=$tmp/mariadb
mkdir -p "$dir/tmp"
log "temp dir $tmp; $rows rows, targets ${targets[*]}, $rounds rounds, proxies with -Xmx$xmx"
TMPDIR=$dir/tmp mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
  --datadir="$dir/data" --user=root >"$dir/install.log" 2>&1 </dev/null ||
  { tail -n 20 "$dir/install.log" >&2; die "mariadb-install-db failed (log above)"; }
free_port db_port
start_bg mariadbd "$dir/mariadbd.log" mariadbd --no-defaults --user=root --datadir="$dir/data" --port="$db_port" \
  --bind-address=127.0.0.1 --socket="$dir/s.sock" --pid-file="$dir/mariadbd.pid" --skip-log-bin \
  --innodb-buffer-pool-size=1G --innodb-flush-log-at-trx-commit=2 --performance-schema=OFF --skip-name-resolve \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --log-error="$dir/error.log" --tmpdir="$dir/tmp"
db_pid=$started_pid
deadline=$(( SECONDS + 60 ))
until mariadb-admin --no-defaults --socket="$dir/s.sock" -uroot --connect-timeout=2 ping >/dev/null 2>&1; do
  alive "$db_pid" || { tail -n 20 "$dir/error.log" >&2; die "mariadbd exited during start-up (log above)"; }
  (( SECONDS < deadline )) || die "mariadbd did not answer ping within 60 s (log: $dir/error.log)"
  sleep 0.2
done
root_sql() { mariadb --no-defaults --socket="$dir/s.sock" -uroot "$@"; }
root_sql -e "CREATE USER '$db_user'@'127.0.0.1' IDENTIFIED BY '$db_password';
  GRANT ALL ON *.* TO '$db_user'@'127.0.0.1';
  CREATE DATABASE $direct_db;
  CREATE TABLE $direct_db.stream_rows (customer_id INT NOT NULL, id BIGINT NOT NULL, payload VARCHAR(200) NOT NULL,
    $( (( shards > 1 )) && echo "PRIMARY KEY (id), KEY (customer_id)" || echo "PRIMARY KEY (customer_id, id)"))"
log "mariadbd on 127.0.0.1:$db_port (pid $db_pid); loading $rows rows…"
load_start=$SECONDS
for (( from = 1; from <= rows; from += 500000 )); do
  to=$(( from + 499999 < rows ? from + 499999 : rows ))
  # one customer for the single-shard read; with shards, customers spread (the scatter read does not look) and the
  # rows are clustered by id, so ORDER BY id reads them in index order on every database (no filesort)
  root_sql "$direct_db" -e "INSERT INTO stream_rows SELECT $( (( shards > 1 )) && echo "seq % 1000 + 1" || echo 1), seq,
    RPAD(CONCAT('row ', seq, ' '), 185, 'abcdefghij') FROM seq_${from}_to_${to}"
done
bytes=$(root_sql -N -B -e "SELECT DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$direct_db'
  AND TABLE_NAME = 'stream_rows'")
for (( i = 0; shards > 1 && i < shards; i++ )); do
  root_sql -e "CREATE DATABASE $(shard_db "$i"); CREATE TABLE $(shard_db "$i").stream_rows LIKE $direct_db.stream_rows;
    INSERT INTO $(shard_db "$i").stream_rows SELECT * FROM $direct_db.stream_rows WHERE id % $shards = $i"
done
log "loaded in $(( SECONDS - load_start )) s ($(( bytes / 1048576 )) MiB of InnoDB data$( (( shards > 1 )) && echo ", copied to $shards shards"))"
target_port[direct]=$db_port

# ---------------------------------------------------------------------------------------------------
# Proxies: one cluster with that server as its only shard, one proxy per backend path

write_proxy_config() {  # target native
  local admin_port
  free_port "port_$1"
  free_port admin_port
  printf -v "admin_$1" '%s' "$admin_port"
  cat >"$tmp/proxy-$1.yaml" <<EOF
# Generated by bench/stream-bench.sh
cluster: stream
listen:
  host: 127.0.0.1
  mysql-port: $(eval echo "\$port_$1")
  postgres-port: 0
admin:
  host: 127.0.0.1
  port: $admin_port
zookeeper:
  connect: 127.0.0.1:$zk_port
users:
  - name: $proxy_user
    password: $proxy_password
backend:
  native: $2
EOF
}

proxies=()
for t in native jdbc; do
  for r in "${targets[@]}"; do [[ $r == "$t" ]] && proxies+=("$t"); done
done
if [[ ${#proxies[@]} -gt 0 ]]; then
  log "checking bin/shardgate (builds Shardgate on first run)…"
  "$shardgate" --version >/dev/null || die "bin/shardgate --version failed"
  start_zookeeper
  cat >"$tmp/stream.yaml" <<EOF
# Generated by bench/stream-bench.sh
dialect: mysql
slots: 4096
default-shard: s0
unknown-tables: single
shards:
$(for (( i = 0; i < shards; i++ )); do
  printf '  - name: s%d\n    url: jdbc:mysql://127.0.0.1:%s/%s\n    user: %s\n    password: %s\n    pool-size: 8\n' \
    "$i" "$db_port" "$(shard_db "$i")" "$db_user" "$db_password"
done)
tables:
  - name: stream_rows
    kind: sharded
    key: customer_id
    key-type: int
EOF
  SHARDGATE_NO_BUILD=1 "$shardgate" cluster init --zk "127.0.0.1:$zk_port" --cluster stream --file "$tmp/stream.yaml" \
    >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log" >&2; die "'bin/shardgate cluster init' failed (output above)"; }
  for t in "${proxies[@]}"; do
    native=false
    [[ $t == native ]] && native=true
    write_proxy_config "$t" "$native"
    port=$(eval echo "\$port_$t")
    SHARDGATE_NO_BUILD=1 SHARDGATE_JAVA_OPTS="-Xmx$xmx ${SHARDGATE_JAVA_OPTS:-}" start_bg "shardgate $t" "$tmp/proxy-$t.log" \
      "$shardgate" proxy --config "$tmp/proxy-$t.yaml"
    middle_pid[$t]=$started_pid
    wait_port "shardgate proxy ($t)" "$port" "$started_pid" "$tmp/proxy-$t.log" 120 || die "$wait_error"
    deadline=$(( SECONDS + 60 ))
    until mariadb --no-defaults --default-character-set=utf8mb4 --skip-ssl -h127.0.0.1 -P"$port" -u"$proxy_user" -p"$proxy_password" -N -B \
        -e "SELECT COUNT(*) FROM stream_rows WHERE customer_id = 1 AND id = 1" "$proxy_db" >"$tmp/ready-$t.log" 2>&1; do
      alive "$started_pid" && (( SECONDS < deadline )) || { cat "$tmp/ready-$t.log" >&2; die "proxy $t does not answer"; }
      sleep 0.5
    done
    target_port[$t]=$port
    log "shardgate proxy $t (backend.native: $native, -Xmx$xmx) on 127.0.0.1:$port (pid $started_pid)"
  done
fi

# ---------------------------------------------------------------------------------------------------
# Measurements

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Samples pid $1's VmRSS every 50 ms into file $2 (the highest value seen) until killed.
sample_rss() {
  local pid=$1 file=$2 max=0 kb
  while kb=$(rss_kb "$pid" 2>/dev/null); do
    (( kb > max )) && { max=$kb; echo "$max" >"$file"; }
    sleep 0.05
  done
}

# Runs the query against target $1 (user $2, password $3). Sets m_first_ms, m_total_ms, m_rows,
# m_rss_before_kb, m_rss_peak_kb (empty for direct). Fails when the client fails or the row count differs.
measure() {
  local t=$1 user=$2 password=$3 start first end n pid=${middle_pid[$1]:-} sampler="" status=0
  m_rss_before_kb="" m_rss_peak_kb=""
  if [[ -n $pid ]]; then
    m_rss_before_kb=$(rss_kb "$pid")
    echo "$m_rss_before_kb" >"$tmp/rss-peak"
    sample_rss "$pid" "$tmp/rss-peak" &
    sampler=$!
  fi
  # the same client, connect and login with a one-row query: what the first row's time owes to connecting
  start=$EPOCHREALTIME
  timeout --kill-after=10 60 mariadb --no-defaults --default-character-set=utf8mb4 --skip-ssl -N -B -h127.0.0.1 \
    -P"${target_port[$t]}" -u"$user" -p"$password" -e "$point_sql" "$(db_of "$t")" >/dev/null 2>"$tmp/client-$t.err" || { m_error="one-row query failed: $(head -c 300 "$tmp/client-$t.err")"; return 1; }
  m_point_ms=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  start=$EPOCHREALTIME
  # the first line is read by the shell byte by byte (a pipe), stamped, and the rest counted by wc
  { timeout --kill-after=10 "$timeout_s" mariadb --no-defaults --default-character-set=utf8mb4 --skip-ssl --quick -N -B -h127.0.0.1 -P"${target_port[$t]}" \
      -u"$user" -p"$password" -e "$sql" "$(db_of "$t")" 2>"$tmp/client-$t.err"; } |
    { IFS= read -r _ && first=$EPOCHREALTIME; n=$(wc -l); echo "${first:-} $(( n + 1 ))"; } >"$tmp/client-$t.out" || status=$?
  end=$EPOCHREALTIME
  if [[ -n $sampler ]]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    m_rss_peak_kb=$(cat "$tmp/rss-peak")
  fi
  read -r first n <"$tmp/client-$t.out" || true
  if (( status != 0 )) || [[ -z $first ]] || [[ -s $tmp/client-$t.err ]]; then
    m_error="client failed (status $status): $(head -c 300 "$tmp/client-$t.err" | tr '\n' ' ')"
    return 1
  fi
  if (( n != rows )); then
    m_error="$n rows instead of $rows"
    return 1
  fi
  m_first_ms=$(awk -v a="$start" -v b="$first" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  m_total_ms=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  m_rows=$n
}

db_of() { [[ $1 == direct ]] && echo "$direct_db" || echo "$proxy_db"; }
user_of() { [[ $1 == direct ]] && echo "$db_user" || echo "$proxy_user"; }
password_of() { [[ $1 == direct ]] && echo "$db_password" || echo "$proxy_password"; }

results=$tmp/results.tsv
: >"$results"
failed=()
# warm-up: the table into the buffer pool (direct), the proxies' code paths (a tenth of the rows)
if [[ -n ${target_port[direct]:-} ]]; then
  log "warm-up: direct"
  root_sql -N -B --quick -e "$sql" "$direct_db" >/dev/null
fi
for t in "${proxies[@]}"; do
  log "warm-up: $t (LIMIT $(( rows / 10 + 1 )))"
  mariadb --no-defaults --default-character-set=utf8mb4 --skip-ssl --quick -N -B -h127.0.0.1 -P"${target_port[$t]}" -u"$proxy_user" -p"$proxy_password" \
    -e "$sql LIMIT $(( rows / 10 + 1 ))" "$proxy_db" >/dev/null 2>"$tmp/warmup-$t.err" ||
    log "    warm-up through $t failed: $(head -c 300 "$tmp/warmup-$t.err")"
done
declare -A gave_up=()
for (( round = 1; round <= rounds; round++ )); do
  for t in "${targets[@]}"; do
    [[ -n ${middle_pid[$t]:-} ]] && ! alive "${middle_pid[$t]}" && { failed+=("$t round $round: the proxy is gone"); continue; }
    # a proxy that failed once is not measured again: after an OutOfMemoryError it may not answer at all
    [[ -n ${gave_up[$t]:-} ]] && { failed+=("$t round $round: not measured (failed in round ${gave_up[$t]})"); continue; }
    log "round $round: $t …"
    if measure "$t" "$(user_of "$t")" "$(password_of "$t")"; then
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$round" "$m_first_ms" "$m_total_ms" "${m_rss_before_kb:-}" "${m_rss_peak_kb:-}" \
        "$m_point_ms" >>"$results"
      log "    one-row query (connect included) $m_point_ms ms; first row after $m_first_ms ms, $m_rows rows in $m_total_ms ms${m_rss_peak_kb:+, RSS $(( m_rss_before_kb / 1024 )) → peak $(( m_rss_peak_kb / 1024 )) MiB}"
    else
      failed+=("$t round $round: $m_error")
      gave_up[$t]=$round
      log "    FAILED: $m_error"
      [[ -n ${middle_pid[$t]:-} ]] && ! alive "${middle_pid[$t]}" && log "    the proxy died (log: $tmp/proxy-$t.log)"
    fi
  done
done

# How many statements the native proxy relayed (its native pools' borrows): the relay must have served it.
relayed=""
if [[ -n ${middle_pid[native]:-} ]]; then
  relayed=$(curl -fsS "http://127.0.0.1:$admin_native/metrics" 2>/dev/null |
    awk '/^shardgate_native_pool_events_total\{/ && /event="borrowed"/ { n += $NF } END { printf "%d", n }') || relayed="?"
  log "the native proxy's pools lent $relayed connections"
fi

# ---------------------------------------------------------------------------------------------------
# Report

median_of() {  # target, column (3 first ms, 4 total ms, 7 one-row query ms)
  awk -F'\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$results" | median
}
growth_mib() {  # target: the largest growth over a round's before, in MiB
  awk -F'\t' -v t="$1" '$1 == t && $5 != "" { g = ($6 - $5) / 1024; if (!n++ || g > m) m = g } END { if (n) printf "%.0f", m }' "$results"
}
direct_total=$(median_of direct 4)
stamp=$(date +%Y-%m-%d-%H%M)
out=${out:-$root/bench/results/stream-$stamp.md}
{
  echo "# Streaming: SELECT * of $rows rows through Shardgate$( (( shards > 1 )) && echo ", a $shards-shard scatter read$( (( order_by )) && echo " with ORDER BY")"), $stamp"
  echo
  echo "Command: \`$command_line\`"
  echo
  if (( shards > 1 )); then
    echo "- Query: \`$sql\` over $shards shards (databases of the one server, rows with id mod $shards = i on shard i; direct:"
    echo "  one database of that server holding all of them; about 200 bytes a row, $(( bytes / 1048576 )) MiB of InnoDB data),"
  else
    echo "- Query: \`$sql\` (all rows on the one shard; about 200 bytes a row, $(( bytes / 1048576 )) MiB of InnoDB data),"
  fi
  echo "  read with \`mariadb --quick -N -B\` (rows printed as they arrive), the output counted by \`wc -l\`."
  echo "- Proxies: \`bin/shardgate proxy\` with -Xmx$xmx, $shards shard(s) on that same server, \`backend.native\` true (native) / false (jdbc)."
  echo "- First row: from starting the client (connect and login included) to its first output line. RSS growth: the"
  echo "  proxy JVM's highest VmRSS during the query (sampled every 50 ms) minus its VmRSS just before, largest over rounds."
  echo "  One-row query: the same client, connect and login included, reading \`… AND id = 1\` just before (what connecting costs)."
  [[ -n $relayed ]] && echo "- The native proxy's pools lent $relayed connections (each relayed statement borrows one; warm-up and one-row queries included)."
  echo "- Client: \`mariadb --default-character-set=utf8mb4\` (the relay serves utf8mb4 clients; the CLI's own default follows the locale)."
  echo "- Machine: $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg), MariaDB $(mariadbd --version | sed 's/^.*Ver //;s/ .*//')"
  echo
  echo "| target | first row (ms, median) | one-row query (ms, median) | total (s, median) | rows/s | × direct | proxy RSS growth (MiB) |"
  echo "|---|---|---|---|---|---|---|"
  for t in "${targets[@]}"; do
    total=$(median_of "$t" 4)
    first=$(median_of "$t" 3)
    if [[ -z $total ]]; then
      echo "| $t | failed | | | | | |"
      continue
    fi
    rate=$(awk -v n="$rows" -v ms="$total" 'BEGIN { printf "%.0f", n / ms * 1000 }')
    echo "| $t | $first | $(median_of "$t" 7) | $(awk -v ms="$total" 'BEGIN { printf "%.2f", ms / 1000 }') | $rate | $(ratio "$direct_total" "$total") | $(fmt %s "$(growth_mib "$t")") |"
  done
  echo
  echo "Per round (target, round, first row ms, total ms, RSS before KiB, RSS peak KiB, one-row query ms):"
  echo
  echo '```'
  cat "$results"
  echo '```'
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo
    echo "Failed:"
    for f in "${failed[@]}"; do echo "- $f"; done
  fi
} >"$out"
cat "$out"
log "report written to $out"
[[ ${#failed[@]} -eq 0 ]]
