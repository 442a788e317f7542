#!/usr/bin/env bash
# PostgreSQL-protocol benchmark of Shardgate: pgbench -S (select only) against four targets on the
# same machine, in one run, interleaved, so that the ratios between them mean something even on a
# noisy machine.
#
#   direct    PostgreSQL itself
#   haproxy   a plain TCP passthrough (HAProxy, mode tcp) in front of that same PostgreSQL
#   pgbouncer PgBouncer in transaction pooling mode in front of that same PostgreSQL (a pooler that
#             reads every message, the closest peer to Shardgate's PostgreSQL front end)
#   proxy1    Shardgate with one shard: that same PostgreSQL and the same data
#   proxy4    Shardgate with four shards: four more PostgreSQL servers, loaded with pgbench -i through the proxy
#
# Each target runs pgbench -S in each query mode (-M simple, extended, prepared) with the same
# clients, scale and duration. Prints, per mode and target, the median over rounds of transactions
# per second (one SELECT each) and mean latency, the ratios target/direct and target/haproxy, and
# the CPU time the middle box (HAProxy or the Shardgate JVM) and the PostgreSQL servers (postmaster
# and backends) spent per query, read from /proc around each measurement. The same table is written
# to bench/results/pg-<date>.md.
#
# Everything runs in a temp dir under /tmp on free ports >= 20000 (never 5432); the servers run as
# the postgres user when this runs as root; every process started here is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
shardgate=${SHARDGATE_BENCH_LAUNCHER:-bin/shardgate}

clients=8
threads=2
time_s=20
scale=2
rounds=2
warmup_s=5
targets_arg=direct,haproxy,pgbouncer,proxy1,proxy4
modes_arg=simple,extended,prepared
keep=0
backend_native=1
out=""
command_line="bench/pg-bench.sh${*:+ $*}"

usage() {
  cat <<EOF
Usage: bench/pg-bench.sh [options]

Runs pgbench -S against direct PostgreSQL, an HAProxy TCP passthrough, PgBouncer (transaction
pooling), Shardgate with 1 shard and with 4 shards, interleaved, in each -M mode, and prints TPS,
latency, ratios and CPU µs per query. PgBouncer before 1.21 cannot keep prepared statements in
transaction pooling, so -M prepared is not measured through it there (the report says so).

Options:
  --clients N        pgbench clients (-c, default $clients)
  --threads N        pgbench threads (-j, default $threads)
  --time S           seconds per measurement (default $time_s)
  --scale N          pgbench scale: N branches, N x 100,000 accounts (default $scale)
  --rounds R         rounds; each figure is the median over rounds (default $rounds)
  --warmup S         untimed warm-up per target and mode before round 1 (default $warmup_s; 0 = none)
  --targets LIST     comma-separated subset of direct,haproxy,pgbouncer,proxy1,proxy4 (default all)
  --modes LIST       comma-separated subset of simple,extended,prepared (default all)
  --out FILE         the markdown report (default bench/results/pg-<date>.md)
  --keep             keep the temp dir (data dirs, configs, pgbench output, logs)
  --backend-native   run the proxies with 'backend: {native: true}', the default (single-shard SELECTs of
                     Query messages and extended-protocol executions relayed on native PostgreSQL connections)
  --no-backend-native  run the proxies with 'backend: {native: false}' (every statement through JDBC)
  -h, --help         this text

Needs pgbench and the PostgreSQL server binaries (initdb, postgres), setpriv when run as root,
haproxy for the haproxy target, pgbouncer for the pgbouncer target, and for the proxy targets what bin/shardgate needs (JDK 25, Maven).
Environment: SHARDGATE_JAVA_OPTS is passed to the proxy JVMs.
EOF
}

log() { echo "pg-bench: $*" >&2 || true; }
die() {
  echo "pg-bench: error: $*" >&2 || true
  exit 1
}
need_value() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"; }
need_int() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || (( $2 < $3 )); then
    die "$1: expected an integer >= $3, got '$2'"
  fi
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --clients) need_value "$@"; clients=$2; shift 2 ;;
    --threads) need_value "$@"; threads=$2; shift 2 ;;
    --time) need_value "$@"; time_s=$2; shift 2 ;;
    --scale) need_value "$@"; scale=$2; shift 2 ;;
    --rounds) need_value "$@"; rounds=$2; shift 2 ;;
    --warmup) need_value "$@"; warmup_s=$2; shift 2 ;;
    --targets) need_value "$@"; targets_arg=$2; shift 2 ;;
    --modes) need_value "$@"; modes_arg=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --backend-native) backend_native=1; shift ;;
    --no-backend-native) backend_native=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
need_int --clients "$clients" 1
need_int --threads "$threads" 1
need_int --time "$time_s" 1
need_int --scale "$scale" 1
need_int --rounds "$rounds" 1
need_int --warmup "$warmup_s" 0
(( clients % threads == 0 )) || die "--clients ($clients) must be a multiple of --threads ($threads), as pgbench wants"

# shellcheck source=bench/lib/targets.sh
source "$root/bench/lib/targets.sh"
select_targets "$targets_arg" "direct haproxy pgbouncer proxy1 proxy4"
modes=()
IFS=, read -ra requested <<<"$modes_arg"
for m in "${requested[@]}"; do
  case $m in simple|extended|prepared) modes+=("$m") ;; *) die "--modes: unknown mode '$m' (use simple, extended, prepared)" ;; esac
done
[[ ${#modes[@]} -gt 0 ]] || die "--modes: no mode given"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n $pg_bin && -x $pg_bin/initdb && -x $pg_bin/postgres ]] ||
  die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)"
missing=()
for tool in pgbench psql ss setsid timeout getconf; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
has_target haproxy && ! command -v haproxy >/dev/null 2>&1 && missing+=(haproxy)
has_target pgbouncer && ! command -v pgbouncer >/dev/null 2>&1 && missing+=(pgbouncer)
[[ $(id -u) -ne 0 ]] || command -v setpriv >/dev/null 2>&1 || missing+=(setpriv)
[[ ${#missing[@]} -eq 0 ]] || die "missing on PATH: ${missing[*]} (Debian: apt-get install postgresql-client haproxy pgbouncer iproute2 util-linux coreutils)"
clk_tck=$(getconf CLK_TCK)

# shellcheck source=bench/lib/measure.sh
source "$root/bench/lib/measure.sh"

# ---------------------------------------------------------------------------------------------------
# PostgreSQL servers

db_user=bench
db_password=bench
db_name=bench
declare -A db_port=() db_pid=() db_dir=()
# PostgreSQL refuses to run as root: then initdb and the servers run as the postgres user.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  chmod 755 "$tmp"
fi

# Prints the CPU ticks of PostgreSQL server $1: the postmaster and its children alive now (backends,
# also the proxy's pooled ones, and auxiliary processes; each calls setsid, so they are found by their
# parent), plus what the postmaster reaped of children that ended.
pg_ticks() {
  # cat, not awk on the glob: a process may end between the glob and the read
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="${db_pid[$1]}" '{
      pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
      # after "pid (comm) ": f[2] ppid, f[12..15] utime stime cutime cstime
      if (pid == pm || f[2] == pm) sum += f[12] + f[13] + f[14] + f[15]
    } END { print sum + 0 }'
}

start_postgres() {
  local name dir port deadline
  for name in "$@"; do
    dir=$tmp/$name
    mkdir -p "$dir"
    [[ ${#as_pg[@]} -eq 0 ]] || chown postgres: "$dir"
    printf '%s\n' "$db_password" >"$dir/pw"
    chmod 644 "$dir/pw"
    "${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 </dev/null ||
      { tail -n 20 "$dir/initdb.log" >&2; die "initdb failed for $name (log above)"; }
    free_port port
    # synchronous_commit=off is the counterpart of MariaDB's innodb-flush-log-at-trx-commit=2 in mysql-bench.sh.
    start_bg "postgres $name" "$dir/postgres.log" "${as_pg[@]}" "$pg_bin/postgres" -D "$dir/data" -p "$port" \
      -c listen_addresses=127.0.0.1 -c unix_socket_directories="$dir" -c shared_buffers=256MB \
      -c synchronous_commit=off -c max_connections=300 -c password_encryption=scram-sha-256
    db_port[$name]=$port
    db_pid[$name]=$started_pid
    db_dir[$name]=$dir
  done
  for name in "$@"; do
    dir=${db_dir[$name]}
    deadline=$(( SECONDS + 60 ))
    until psql -h "$dir" -p "${db_port[$name]}" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; do
      alive "${db_pid[$name]}" || { tail -n 20 "$dir/postgres.log" >&2; die "postgres $name exited during start-up (log above)"; }
      (( SECONDS < deadline )) || die "postgres $name did not answer within 60 s (log: $dir/postgres.log)"
      sleep 0.2
    done
    # Password authentication over TCP for every path, the same work for each target.
    psql -h "$dir" -p "${db_port[$name]}" -U postgres -d postgres -qv ON_ERROR_STOP=1 \
      -c "CREATE USER $db_user PASSWORD '$db_password' SUPERUSER" -c "CREATE DATABASE $db_name OWNER $db_user" >/dev/null ||
      die "could not create user $db_user and database $db_name on postgres $name"
    sed -i '/^host/d' "$dir/data/pg_hba.conf"
    echo "host all all 127.0.0.1/32 scram-sha-256" >>"$dir/data/pg_hba.conf"
    psql -h "$dir" -p "${db_port[$name]}" -U postgres -d postgres -Atqc 'SELECT pg_reload_conf()' >/dev/null
    log "postgres $name on 127.0.0.1:${db_port[$name]} (pid ${db_pid[$name]})"
  done
}

# Runs pgbench -i (scale $scale) through port $2 as $3/$4, naming the path $1 in messages.
pg_load() {
  local name=$1 port=$2 user=$3 password=$4 logfile=$tmp/load-$1.log start=$SECONDS
  log "pgbench -i -s $scale through $name (port $port)…"
  if ! PGPASSWORD=$password PGSSLMODE=disable timeout --foreground --kill-after=10 1800 \
      pgbench -i -s "$scale" -h 127.0.0.1 -p "$port" -U "$user" "$db_name" >"$logfile" 2>&1; then
    tail -n 20 "$logfile" >&2 || true
    return 1
  fi
  log "loaded through $name in $(( SECONDS - start )) s"
}

# ---------------------------------------------------------------------------------------------------
# Set-up

declare -A target_port=() target_user=() target_password=() middle_pid=() backend_servers=()

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "temp dir $tmp; targets ${targets[*]}; modes ${modes[*]}"
log "$clients clients, $threads threads, scale $scale, $time_s s per measurement, $rounds rounds, warm-up $warmup_s s"

servers=()
has_target direct || has_target haproxy || has_target pgbouncer || has_target proxy1 && servers+=(direct)
has_target proxy4 && servers+=(s4a s4b s4c s4d)
start_postgres "${servers[@]}"

if [[ " ${servers[*]} " == *" direct "* ]]; then
  pg_load direct "${db_port[direct]}" "$db_user" "$db_password" || die "pgbench -i against PostgreSQL (direct) failed (log above)"
  for t in direct haproxy pgbouncer proxy1; do
    target_user[$t]=$db_user
    target_password[$t]=$db_password
    backend_servers[$t]=direct
  done
  target_port[direct]=${db_port[direct]}
  middle_pid[direct]=""
fi

if has_target haproxy; then
  free_port port
  cat >"$tmp/haproxy.cfg" <<EOF
# Plain TCP passthrough to PostgreSQL: no protocol awareness, one backend server.
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend pg
  bind 127.0.0.1:$port
  default_backend direct
backend direct
  server direct 127.0.0.1:${db_port[direct]}
EOF
  start_bg haproxy "$tmp/haproxy.log" haproxy -db -f "$tmp/haproxy.cfg"
  wait_port haproxy "$port" "$started_pid" "$tmp/haproxy.log" 30 || die "$wait_error"
  target_port[haproxy]=$port
  middle_pid[haproxy]=$started_pid
  log "haproxy on 127.0.0.1:$port → direct (pid $started_pid)"
fi

pool_size=$(( clients > 16 ? clients : 16 ))

if has_target pgbouncer; then
  free_port port
  pgbouncer_version=$(pgbouncer --version | head -1 | awk '{print $2}')
  # Plain-text password in the auth file: PgBouncer then does SCRAM both with the client and with the server.
  printf '"%s" "%s"\n' "$db_user" "$db_password" >"$tmp/pgbouncer-users.txt"
  cat >"$tmp/pgbouncer.ini" <<EOF
; Generated by bench/pg-bench.sh: PgBouncer in transaction pooling mode in front of the direct server.
[databases]
$db_name = host=127.0.0.1 port=${db_port[direct]} dbname=$db_name
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $tmp/pgbouncer-users.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
EOF
  chmod 644 "$tmp/pgbouncer.ini" "$tmp/pgbouncer-users.txt"
  # PgBouncer refuses to run as root: as root it runs as the postgres user, like the servers.
  start_bg pgbouncer "$tmp/pgbouncer.log" "${as_pg[@]}" pgbouncer "$tmp/pgbouncer.ini"
  wait_port pgbouncer "$port" "$started_pid" "$tmp/pgbouncer.log" 30 || die "$wait_error"
  target_port[pgbouncer]=$port
  middle_pid[pgbouncer]=$started_pid
  log "pgbouncer $pgbouncer_version on 127.0.0.1:$port → direct (pid $started_pid), transaction pooling"
  # Named prepared statements live on one server connection; transaction pooling hands each transaction
  # another, which PgBouncer handles from 1.21 on (max_prepared_statements).
  if [[ $(printf '%s\n' "$pgbouncer_version" 1.21 | sort -V | head -1) != 1.21 ]]; then
    inapplicable["select:prepared pgbouncer"]="PgBouncer $pgbouncer_version keeps no prepared statements in transaction pooling (1.21 and later do)"
  fi
fi
proxy_user=app
proxy_password=app
zk_port=""

# The cluster definition for cluster $1 with shards "${@:2}": pgbench's tables sharded by their ids.
write_cluster() {
  local cluster=$1 i=0 name
  shift
  {
    echo "# Generated by bench/pg-bench.sh"
    echo "dialect: postgres"
    echo "slots: 4096"
    echo "default-shard: s0"
    echo "unknown-tables: single"
    echo "shards:"
    for name in "$@"; do
      echo "  - name: s$i"
      echo "    url: jdbc:postgresql://127.0.0.1:${db_port[$name]}/$db_name"
      echo "    user: $db_user"
      echo "    password: $db_password"
      echo "    pool-size: $pool_size"
      i=$(( i + 1 ))
    done
    echo "tables:"
    echo "  - {name: pgbench_accounts, kind: sharded, key: aid, key-type: int}"
    echo "  - {name: pgbench_tellers, kind: sharded, key: tid, key-type: int}"
    echo "  - {name: pgbench_branches, kind: sharded, key: bid, key-type: int}"
    echo "  - {name: pgbench_history, kind: sharded, key: aid, key-type: int}"
  } >"$tmp/$cluster.yaml"
}

start_proxy() {
  local target=$1 cluster=$2 port admin_port
  free_port port
  free_port admin_port
  cat >"$tmp/proxy-$cluster.yaml" <<EOF
# Generated by bench/pg-bench.sh
cluster: $cluster
listen:
  host: 127.0.0.1
  mysql-port: 0
  postgres-port: $port
  postgres-auth: scram-sha-256
admin:
  host: 127.0.0.1
  port: $admin_port
zookeeper:
  connect: 127.0.0.1:$zk_port
users:
  - name: $proxy_user
    password: $proxy_password
EOF
  # written either way, so the report states the setting the proxies ran with
  printf 'backend:\n  native: %s\n' "$( (( backend_native )) && echo true || echo false)" >>"$tmp/proxy-$cluster.yaml"
  launch_proxy "$target" "$cluster" "$port" pg_ready
}

pg_ready() {
  PGPASSWORD=$proxy_password PGSSLMODE=disable psql -h 127.0.0.1 -p "$1" -U "$proxy_user" -d "$db_name" -Atqc 'SELECT 1'
}

if has_target proxy1 || has_target proxy4; then
  log "building Shardgate if needed (bin/shardgate --version)…"
  "$shardgate" --version >"$tmp/build.log" 2>&1 || { tail -n 20 "$tmp/build.log" >&2; die "bin/shardgate does not run (log above)"; }
  # shellcheck source=bin/jdk.sh
  proxy_java=$( (source "$root/bin/jdk.sh" && shardgate_find_jdk && "$JAVA_HOME/bin/java" -version 2>&1 | head -1) || echo unknown)
  start_zookeeper
fi

if has_target proxy1; then
  write_cluster bench1 direct
  start_proxy proxy1 bench1 || true
fi

# Loads the 4-shard cluster with pgbench -i through the proxy (COPY routed per key), then checks that
# every account landed on exactly one shard and every shard got some.
load_proxy4() {
  local name n total=0
  local -a counts=()
  pg_load proxy4 "${target_port[proxy4]}" "$proxy_user" "$proxy_password" ||
    { load_error="pgbench -i through the 4-shard proxy failed (output above; proxy log: $tmp/proxy4.log)"; return 1; }
  for name in s4a s4b s4c s4d; do
    n=$(psql -h "${db_dir[$name]}" -p "${db_port[$name]}" -U postgres -d "$db_name" -Atqc 'SELECT COUNT(*) FROM pgbench_accounts' 2>&1) ||
      { load_error="counting pgbench_accounts on shard server $name failed: $n"; return 1; }
    counts+=("$n")
    total=$(( total + n ))
  done
  log "proxy4 shards hold ${counts[*]} accounts"
  (( total == scale * 100000 )) ||
    { load_error="the 4 shards hold $total accounts (${counts[*]}), expected $(( scale * 100000 )): rows lost or doubled"; return 1; }
  for n in "${counts[@]}"; do
    (( n > 0 )) || { load_error="a shard got no accounts (${counts[*]})"; return 1; }
  done
  shard_counts="${counts[*]}"
}

if has_target proxy4; then
  write_cluster bench4 s4a s4b s4c s4d
  if start_proxy proxy4 bench4; then
    backend_servers[proxy4]="s4a s4b s4c s4d"
    load_proxy4 || skip_target proxy4 "$load_error"
  fi
  if ! has_target proxy4; then
    for name in s4a s4b s4c s4d; do forget_pid "${db_pid[$name]}"; done
  fi
fi
[[ ${#targets[@]} -gt 0 ]] || die "no target left to measure"

# ---------------------------------------------------------------------------------------------------
# Measurements

bench_backend_ticks() {
  local name sum=0
  for name in ${backend_servers[$1]}; do sum=$(( sum + $(pg_ticks "$name") )); done
  echo "$sum"
}

# pgbench -S in mode $2 for $3 s against target $4, output in $5 (the workload $1 is always "select").
bench_run() {
  PGPASSWORD=${target_password[$4]} PGSSLMODE=disable timeout --foreground --kill-after=10 $(( $3 + 120 )) \
    pgbench -n -S -M "$2" -c "$clients" -j "$threads" -T "$3" -h 127.0.0.1 -p "${target_port[$4]}" \
    -U "${target_user[$4]}" "$db_name" >"$5" 2>&1
}

bench_label() { echo "-S -M $2"; }

bench_parse() {
  parsed_queries=$(awk '/number of transactions actually processed:/ {print $NF; exit}' "$1")
  parsed_rate=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$1" | head -1)
  parsed_latency=$(awk '/^latency average = / {print $4; exit}' "$1")
  parsed_errors=$(awk '/number of failed transactions:/ {print $5; exit}' "$1")
}

mkdir -p "$tmp/logs"
results=$tmp/results.tsv
: >"$results"
workloads=()
for m in "${modes[@]}"; do workloads+=("select:$m"); done
bench_errors_fail=1   # pgbench -S has no reason to fail a transaction: one failed is a failed measurement
measure_all

# ---------------------------------------------------------------------------------------------------
# Report

describe() {
  case $1 in
    direct) echo "PostgreSQL" ;;
    haproxy) echo "HAProxy TCP → PostgreSQL" ;;
    pgbouncer) echo "PgBouncer, transaction pooling → PostgreSQL" ;;
    proxy1) echo "Shardgate, 1 shard" ;;
    proxy4) echo "Shardgate, 4 shards" ;;
  esac
}

declare -A med_tps=()
report=$tmp/report.md
{
  echo "# Shardgate PostgreSQL benchmark, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "Command: \`$command_line\`"
  echo
  echo "Settings: pgbench -S (one primary-key SELECT per transaction), $clients clients, $threads threads, scale $scale" \
    "($(( scale * 100000 )) accounts), $time_s s per measurement, $rounds rounds interleaved (median shown)," \
    "$warmup_s s warm-up per target and mode; proxy pools $pool_size connections per shard; every server" \
    "runs with shared_buffers=256MB, synchronous_commit=off, scram-sha-256 over TCP."
  echo
  echo "Proxy backend.native: $( (( backend_native )) && echo "on (single-shard SELECTs of Query messages and extended-protocol executions relayed on native connections)" || echo "off (every statement through JDBC)")."
  [[ -n ${shard_counts:-} ]] && echo "4-shard cluster: accounts per shard after pgbench -i through the proxy: $shard_counts."
  if [[ ${#skipped[@]} -gt 0 ]]; then
    echo
    echo "Skipped during set-up:"
    echo
    printf -- '- %s\n' "${skipped[@]}"
  fi
  other=$(other_load | median)
  if [[ -n $other ]]; then
    echo
    echo "Other work on the machine during the measurements: median $(fmt %.1f "$other") % of its CPU."
  fi
  echo
  echo "Machine (client, middle box and PostgreSQL share it):"
  echo
  echo "- CPU: $(nproc) cores ($(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)), memory" \
    "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -sr), load average at start $load_at_start"
  echo "- PostgreSQL: $("$pg_bin/postgres" --version); $(pgbench --version)"
  command -v haproxy >/dev/null 2>&1 && echo "- HAProxy: $(haproxy -v | head -1 | sed 's/ - https.*//')"
  echo "- Java (proxy): ${proxy_java:-not used}${SHARDGATE_JAVA_OPTS:+, SHARDGATE_JAVA_OPTS=$SHARDGATE_JAVA_OPTS}"
  for m in "${modes[@]}"; do
    echo
    echo "## pgbench -S -M $m"
    echo
    echo "| target | TPS | mean latency ms | × direct | × haproxy | × pgbouncer | middle CPU µs/query | PostgreSQL CPU µs/query | client CPU µs/query |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for t in "${targets[@]}"; do med_tps[$t]=$(med select "$m" "$t" 5); done
    for t in "${targets[@]}"; do
      if [[ -n ${inapplicable["select:$m $t"]:-} ]]; then
        echo "| $t ($(describe "$t")) | not measured: ${inapplicable["select:$m $t"]} | | | | | | | |"
        continue
      fi
      q=${med_tps[$t]}
      mid_cpu=""
      [[ -n ${middle_pid[$t]} ]] && mid_cpu=$(med_cpu select "$m" "$t" 9)
      echo "| $t ($(describe "$t")) | $(fmt %.0f "$q") | $(fmt %.3f "$(med select "$m" "$t" 6)")" \
        "| $(ratio "$q" "${med_tps[direct]:-}") | $(ratio "$q" "${med_tps[haproxy]:-}") | $(ratio "$q" "${med_tps[pgbouncer]:-}")" \
        "| $(fmt %.1f "$mid_cpu") | $(fmt %.1f "$(med_cpu select "$m" "$t" 10)") | $(fmt %.1f "$(med_client select "$m" "$t")") |"
    done
  done
  goals=()
  for m in "${modes[@]}"; do
    for t in proxy1 proxy4; do
      q=$(med select "$m" "$t" 5)
      h=$(med select "$m" haproxy 5)
      [[ -n $q && -n $h ]] || continue
      r=$(ratio "$q" "$h")
      goals+=("- pgbench -S -M $m, $t/haproxy TPS = $r (target ≥ 0.90): $(awk -v r="$r" 'BEGIN { print (r >= 0.9) ? "met" : "MISSED" }')")
      b=$(med select "$m" pgbouncer 5)
      [[ -z $b ]] || goals+=("  (and $t/pgbouncer TPS = $(ratio "$q" "$b"))")
    done
  done
  if [[ ${#goals[@]} -gt 0 ]]; then
    echo
    echo "## Target"
    echo
    printf '%s\n' "${goals[@]}"
  fi
  echo
  echo "## Every measurement"
  echo
  echo "| mode | target | round | TPS | mean latency ms | transactions | failed | middle CPU µs/q | PostgreSQL CPU µs/q | client CPU µs/q | machine busy % | other % |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' -v hz="$clk_tck" '{
    mid = ($3 == "direct") ? "–" : sprintf("%.1f", $9 * 1000000 / hz / $7)
    busy = ($13 > 0) ? 100 * $12 / $13 : 0
    other = ($13 > 0) ? 100 * ($12 - $9 - $10 - $11 * hz / 1000000) / $13 : 0
    printf "| %s | %s | %s | %.0f | %.3f | %s | %s | %s | %.1f | %.1f | %.0f | %.1f |\n", $2, $3, $4, $5, $6, $7, $8, mid,
      $10 * 1000000 / hz / $7, $11 / $7, busy, other
  }' "$results"
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo
    echo "Failed measurements (left out): ${failed[*]}"
  fi
} >"$report"

if [[ -z $out ]]; then
  mkdir -p "$root/bench/results"
  out=$root/bench/results/pg-$(date +%Y-%m-%d-%H%M).md
fi
cp "$report" "$out"
cat "$report"
log "report written to $out"
(( setup_failures == 0 )) || die "$setup_failures targets failed to set up: ${skipped[*]}"
[[ ${#failed[@]} -eq 0 ]] || die "${#failed[@]} measurements failed: ${failed[*]}"
