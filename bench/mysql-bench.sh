#!/usr/bin/env bash
# MySQL-protocol benchmark of Shardgate: sysbench against four targets on the same machine, in one
# run, interleaved, so that the ratios between them mean something even on a noisy machine.
#
#   direct    MariaDB itself
#   haproxy   a plain TCP passthrough (HAProxy, mode tcp) in front of that same MariaDB
#   proxy1    Shardgate with one shard: that same MariaDB and the same data
#   proxy4    Shardgate with four shards: four more MariaDB servers, data loaded through the proxy
#
# Workloads (each target gets the same threads, table size and duration):
#   oltp_point_select with prepared statements (--db-ps-mode=auto) and as text (disable),
#   oltp_read_only prepared (see bench/README.md for why read_only is not run as text by default).
#
# Prints, per workload and target, the median over rounds of QPS and p95 latency, the ratios
# target/direct and target/haproxy, and the CPU time the middle box (HAProxy or the Shardgate JVM)
# and the MariaDB servers spent per query, read from /proc/<pid>/stat around each measurement.
# The same table is written to bench/results/mysql-<date>.md.
#
# Everything runs in a temp dir under /tmp on free ports >= 20000 (never 3306/5432); every process
# started here is stopped on exit, also on Ctrl-C or error.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
# The launcher; SHARDGATE_BENCH_LAUNCHER replaces it only to test this script with a stand-in.
shardgate=${SHARDGATE_BENCH_LAUNCHER:-bin/shardgate}

# ---------------------------------------------------------------------------------------------------
# Options

threads=8
time_s=20
table_size=100000
rounds=2
warmup_s=5
targets_arg=direct,haproxy,proxy1,proxy4
workloads_arg=point_select:auto,point_select:disable,read_only:auto
keep=0
backend_native=""   # "": the proxy's default (native); true or false: written into its config
out=""
command_line="bench/mysql-bench.sh${*:+ $*}"

usage() {
  cat <<EOF
Usage: bench/mysql-bench.sh [options]

Runs sysbench against direct MariaDB, an HAProxy TCP passthrough, Shardgate with 1 shard and with
4 shards, interleaved, and prints QPS, p95, ratios and CPU microseconds per query.

Options:
  --threads N        sysbench client threads (default $threads)
  --time S           seconds per measurement (default $time_s)
  --table-size N     rows in sbtest1 (default $table_size)
  --rounds R         rounds; each reports the median over rounds (default $rounds)
  --warmup S         seconds of untimed warm-up per target and workload before round 1 (default $warmup_s; 0 = none)
  --targets LIST     comma-separated subset of direct,haproxy,proxy1,proxy4 (default all)
  --workloads LIST   comma-separated WORKLOAD:PSMODE, WORKLOAD one of point_select, read_only,
                     write_only (sysbench's oltp_write_only: UPDATEs, DELETE, INSERT in BEGIN … COMMIT),
                     write_only_autocommit (the same statements each in autocommit, --skip_trx=on; duplicate-key
                     errors of two threads re-inserting one id are counted as errors, not fatal),
                     optionally with sysbench's oltp_ prefix; PSMODE one of auto (prepared), disable (text)
                     (default $workloads_arg)
  --out FILE         where to write the markdown report (default bench/results/mysql-<date>.md)
  --keep             keep the temp dir (server data, configs, sysbench and server logs)
  --backend-native   run the proxies with 'backend: {native: true}' (relayed single-shard SELECTs; the default)
  --backend-jdbc     run the proxies with 'backend: {native: false}' (every statement through JDBC, the fallback)
  -h, --help         this text

Needs sysbench, mariadbd, mariadb-install-db, mariadb, mariadb-admin; haproxy for the haproxy
target; a JDK 25 and Maven (via bin/shardgate) for the proxy targets.
Environment: SHARDGATE_JAVA_OPTS is passed to the proxy JVMs.
EOF
}

die() {
  echo "mysql-bench: error: $*" >&2 || true
  exit 1
}

need_value() {
  [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
}

need_int() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || (( $2 < $3 )); then
    die "$1: expected an integer >= $3, got '$2'"
  fi
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) need_value "$@"; threads=$2; shift 2 ;;
    --time) need_value "$@"; time_s=$2; shift 2 ;;
    --table-size) need_value "$@"; table_size=$2; shift 2 ;;
    --rounds) need_value "$@"; rounds=$2; shift 2 ;;
    --warmup) need_value "$@"; warmup_s=$2; shift 2 ;;
    --targets) need_value "$@"; targets_arg=$2; shift 2 ;;
    --workloads) need_value "$@"; workloads_arg=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --backend-native) backend_native=true; shift ;;
    --backend-jdbc) backend_native=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done

need_int --threads "$threads" 1
need_int --time "$time_s" 1
need_int --table-size "$table_size" 1
need_int --rounds "$rounds" 1
need_int --warmup "$warmup_s" 0

# shellcheck source=bench/lib/targets.sh
source "$root/bench/lib/targets.sh"
select_targets "$targets_arg"

workloads=()
IFS=, read -ra requested <<<"$workloads_arg"
for w in "${requested[@]}"; do
  w=${w#oltp_}
  case $w in
    point_select:auto|point_select:disable|read_only:auto|read_only:disable) workloads+=("$w") ;;
    write_only:auto|write_only:disable|write_only_autocommit:auto|write_only_autocommit:disable) workloads+=("$w") ;;
    *) die "--workloads: '$w' is not WORKLOAD:PSMODE with WORKLOAD point_select|read_only|write_only|write_only_autocommit (an oltp_ prefix is allowed) and PSMODE auto|disable" ;;
  esac
done
[[ ${#workloads[@]} -gt 0 ]] || die "--workloads: no workload given"

declare -A target_port=() target_user=() target_password=() middle_pid=() backend_pids=()

# ---------------------------------------------------------------------------------------------------
# Tools

missing=()
for tool in sysbench mariadbd mariadb-install-db mariadb mariadb-admin ss setsid timeout getconf; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if has_target haproxy && ! command -v haproxy >/dev/null 2>&1; then
  missing+=(haproxy)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  die "missing on PATH: ${missing[*]} (Debian: apt-get install sysbench mariadb-server mariadb-client haproxy iproute2 util-linux coreutils)"
fi
clk_tck=$(getconf CLK_TCK)

log() { echo "mysql-bench: $*" >&2 || true; }

# shellcheck source=bench/lib/measure.sh
source "$root/bench/lib/measure.sh"

# ---------------------------------------------------------------------------------------------------
# MariaDB servers

declare -A db_port=() db_pid=() db_dir=()
db_user=sbtest
db_password=sbtest
db_name=sbtest

# Initialises data dirs for the servers named in "$@" (in parallel) and starts them.
start_mariadbs() {
  local name dir port i
  init_pids=()
  for name in "$@"; do
    dir=$tmp/$name
    mkdir -p "$dir/tmp"
    # Each its own TMPDIR: bootstraps running at once in a shared /tmp now and then fail with
    # "Unknown table 'mysql.tmp_user_sys'".
    TMPDIR=$dir/tmp setsid mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
      --skip-test-db --datadir="$dir/data" --user=root >"$dir/install.log" 2>&1 </dev/null &
    init_pids+=($!)
    echo "$!" >>"$pid_file"
  done
  i=0
  for name in "$@"; do
    if ! wait "${init_pids[i]}"; then
      tail -n 20 "$tmp/$name/install.log" >&2 || true
      die "mariadb-install-db failed for $name (log above: $tmp/$name/install.log)"
    fi
    i=$(( i + 1 ))
  done
  init_pids=()
  for name in "$@"; do
    dir=$tmp/$name
    free_port port
    start_bg "mariadbd $name" "$dir/mariadbd.log" mariadbd --no-defaults --user=root --datadir="$dir/data" \
      --port="$port" --bind-address=127.0.0.1 --socket="$dir/s.sock" --pid-file="$dir/mariadbd.pid" \
      --skip-log-bin --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
      --performance-schema=OFF --skip-name-resolve --max-connections=1000 --log-error="$dir/error.log" --tmpdir="$dir/tmp"
    db_port[$name]=$port
    db_pid[$name]=$started_pid
    db_dir[$name]=$dir
  done
  for name in "$@"; do
    dir=${db_dir[$name]}
    local deadline=$(( SECONDS + 60 ))
    until mariadb-admin --no-defaults --socket="$dir/s.sock" -uroot --connect-timeout=2 ping >/dev/null 2>&1; do
      if ! alive "${db_pid[$name]}"; then
        tail -n 20 "$dir/error.log" >&2 || true
        die "mariadbd $name exited during start-up (log above: $dir/error.log)"
      fi
      (( SECONDS < deadline )) || die "mariadbd $name did not answer ping within 60 s (log: $dir/error.log)"
      sleep 0.2
    done
    # The account sysbench and the proxy's pools use, over TCP from 127.0.0.1 (the same
    # authentication path for every target), and the empty database the data goes into.
    mariadb --no-defaults --socket="$dir/s.sock" -uroot -e "
      CREATE USER '$db_user'@'127.0.0.1' IDENTIFIED BY '$db_password';
      GRANT ALL ON *.* TO '$db_user'@'127.0.0.1';
      CREATE DATABASE $db_name;" ||
      die "could not create user $db_user and database $db_name on mariadbd $name"
    log "mariadbd $name on 127.0.0.1:${db_port[$name]} (pid ${db_pid[$name]})"
  done
}

# sysbench options every invocation shares. --auto_inc=off makes prepare send the ids itself
# (1..table-size), which a sharding proxy needs to route the INSERTs; the direct server gets the
# same table so the targets differ only in the path. --mysql-ssl=off: no TLS on any path.
sb_common=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-ssl=off --mysql-db="$db_name"
  --tables=1 --table-size="$table_size" --auto_inc=off)

# Loads sbtest1 through port $2 as user $3/$4, naming it $1 in messages.
sb_prepare() {
  local name=$1 port=$2 user=$3 password=$4 logfile=$tmp/prepare-$1.log start=$SECONDS
  log "loading $table_size rows into sbtest1 through $name (port $port)…"
  if ! timeout --foreground --kill-after=10 1800 sysbench oltp_read_only "${sb_common[@]}" \
      --mysql-port="$port" --mysql-user="$user" --mysql-password="$password" --threads=1 prepare >"$logfile" 2>&1; then
    tail -n 20 "$logfile" >&2 || true
    return 1
  fi
  log "loaded through $name in $(( SECONDS - start )) s"
}

# ---------------------------------------------------------------------------------------------------
# Machine

machine_line() {
  local cpu mem java="not used (no proxy target measured)" jh
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  if [[ -n ${proxy_java:-} ]]; then
    java=$proxy_java
  elif has_target proxy1 || has_target proxy4; then
    java="unknown"
    # shellcheck source=bin/jdk.sh
    jh=$( (source "$root/bin/jdk.sh" && shardgate_find_jdk 2>/dev/null && echo "$JAVA_HOME") || true)
    [[ -n $jh ]] && java=$("$jh/bin/java" -version 2>&1 | head -1)
  fi
  echo "- CPU: $(nproc) cores ($cpu), memory $mem, kernel $(uname -sr), load average at start $load_at_start"
  echo "- MariaDB: $(mariadbd --version | sed 's/^.*Ver //')"
  echo "- sysbench: $(sysbench --version)"
  if command -v haproxy >/dev/null 2>&1; then
    echo "- HAProxy: $(haproxy -v | head -1 | sed 's/ - https.*//')"
  fi
  echo "- Java (proxy): $java${SHARDGATE_JAVA_OPTS:+, SHARDGATE_JAVA_OPTS=$SHARDGATE_JAVA_OPTS}"
}
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------------
# Set-up

log "temp dir $tmp; targets ${targets[*]}; workloads ${workloads[*]}"
log "threads $threads, table-size $table_size, $time_s s per measurement, $rounds rounds, warm-up $warmup_s s"

# Proxy targets need `bin/shardgate proxy`; until it exists they are skipped, not failed.
proxy_targets=()
for t in proxy1 proxy4; do has_target "$t" && proxy_targets+=("$t"); done
if [[ ${#proxy_targets[@]} -gt 0 ]]; then
  log "checking 'bin/shardgate proxy --help' (builds Shardgate on first run; may take minutes)…"
  # picocli answers "proxy --help" with the top-level usage and exit status 0 when there is no
  # proxy command, so the proxy's own usage line is what counts.
  if ! "$shardgate" proxy --help >"$tmp/proxy-help.log" 2>&1 ||
      ! grep -q '^Usage: shardgate proxy' "$tmp/proxy-help.log"; then
    reason=$(grep -v '^[[:space:]]*$' "$tmp/proxy-help.log" | tail -n 2 | tr '\n' ' ')
    log "'bin/shardgate proxy --help' said: ${reason:0:300}"
    for t in "${proxy_targets[@]}"; do
      skip_target "$t" "\`bin/shardgate proxy --help\` did not print the proxy's usage: this checkout has no proxy command yet" absent
    done
    [[ ${#targets[@]} -gt 0 ]] || die "no target left to measure"
  else
    # shellcheck source=bin/jdk.sh
    proxy_java=$( (source "$root/bin/jdk.sh" && shardgate_find_jdk && "$JAVA_HOME/bin/java" -version 2>&1 | head -1) || echo unknown)
  fi
fi

# "direct" serves the direct and haproxy targets and is proxy1's only shard: one server, one copy
# of the data, so those three differ only in what sits between sysbench and MariaDB.
servers=()
need_direct=0
if has_target direct || has_target haproxy || has_target proxy1; then
  need_direct=1
  servers+=(direct)
fi
has_target proxy4 && servers+=(s4a s4b s4c s4d)
start_mariadbs "${servers[@]}"

if (( need_direct )); then
  sb_prepare direct "${db_port[direct]}" "$db_user" "$db_password" || die "sysbench prepare against MariaDB (direct) failed (log above)"
  for t in direct haproxy proxy1; do
    target_user[$t]=$db_user
    target_password[$t]=$db_password
    backend_pids[$t]=${db_pid[direct]}
  done
  target_port[direct]=${db_port[direct]}
  middle_pid[direct]=""
fi

if has_target haproxy; then
  free_port port
  cat >"$tmp/haproxy.cfg" <<EOF
# Plain TCP passthrough to MariaDB: no protocol awareness, one backend server.
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend mysql
  bind 127.0.0.1:$port
  default_backend direct
backend direct
  server direct 127.0.0.1:${db_port[direct]}
EOF
  # -db: stay in the foreground (no daemon, no master process), so the pid is the one to measure.
  start_bg haproxy "$tmp/haproxy.log" haproxy -db -f "$tmp/haproxy.cfg"
  wait_port haproxy "$port" "$started_pid" "$tmp/haproxy.log" 30 || die "$wait_error"
  target_port[haproxy]=$port
  middle_pid[haproxy]=$started_pid
  log "haproxy on 127.0.0.1:$port → direct (pid $started_pid)"
fi

# Pool size: at least one backend connection per client thread, so no thread waits for a pool.
pool_size=$(( threads > 16 ? threads : 16 ))
zk_port=""
proxy_user=app
proxy_password=app

# Writes the cluster definition for cluster $1 with shards "${@:2}" (server names) to $tmp/$1.yaml.
write_cluster() {
  local cluster=$1 i=0 name
  shift
  {
    echo "# Generated by bench/mysql-bench.sh"
    echo "dialect: mysql"
    echo "slots: 4096"
    echo "default-shard: s0"
    echo "unknown-tables: single"
    echo "shards:"
    for name in "$@"; do
      echo "  - name: s$i"
      echo "    url: jdbc:mysql://127.0.0.1:${db_port[$name]}/$db_name"
      echo "    user: $db_user"
      echo "    password: $db_password"
      echo "    pool-size: $pool_size"
      i=$(( i + 1 ))
    done
    echo "tables:"
    echo "  - name: sbtest1"
    echo "    kind: sharded"
    echo "    key: id"
    echo "    key-type: int"
  } >"$tmp/$cluster.yaml"
}

# Writes the proxy's bootstrap config for cluster $1 listening on $2 to $tmp/proxy-$1.yaml.
write_proxy_config() {
  local cluster=$1 port=$2 admin_port
  free_port admin_port
  cat >"$tmp/proxy-$cluster.yaml" <<EOF
# Generated by bench/mysql-bench.sh
cluster: $cluster
listen:
  host: 127.0.0.1
  mysql-port: $port
  postgres-port: 0
admin:
  host: 127.0.0.1
  port: $admin_port
zookeeper:
  connect: 127.0.0.1:$zk_port
users:
  - name: $proxy_user
    password: $proxy_password
EOF
  if [[ -n $backend_native ]]; then
    printf 'backend:\n  native: %s\n' "$backend_native" >>"$tmp/proxy-$cluster.yaml"
  fi
}

# Starts a Shardgate proxy for cluster $2 as target $1; when that fails, skips the target and
# returns 1.
start_proxy() {
  local port
  free_port port
  write_proxy_config "$2" "$port"
  launch_proxy "$1" "$2" "$port" mysql_ready
}

mysql_ready() {
  mariadb --no-defaults --skip-ssl -h127.0.0.1 -P"$1" -u"$proxy_user" -p"$proxy_password" --connect-timeout=5 -N -B \
    -e 'SELECT 1' "$db_name"
}

if has_target proxy1 || has_target proxy4; then
  start_zookeeper
fi

if has_target proxy1; then
  write_cluster bench1 direct
  start_proxy proxy1 bench1 || true
fi

# Loads sbtest1 through proxy4 and checks that every row landed on exactly one shard and every
# shard got some. Returns 1 with $load_error set when not.
load_proxy4() {
  local name n total=0
  local -a counts=()
  # The rows go in through the proxy, which must send each one to the shard owning its slot.
  if ! sb_prepare proxy4 "${target_port[proxy4]}" "$proxy_user" "$proxy_password"; then
    load_error="sysbench prepare through the 4-shard proxy failed (output above; proxy log: $tmp/proxy4.log)"
    return 1
  fi
  for name in s4a s4b s4c s4d; do
    if ! n=$(mariadb --no-defaults --socket="${db_dir[$name]}/s.sock" -uroot -N -B \
        -e "SELECT COUNT(*) FROM $db_name.sbtest1" 2>&1); then
      load_error="after loading through proxy4, counting rows on shard server $name (port ${db_port[$name]}) failed: ${n##*$'\n'} (CREATE TABLE must reach every shard)"
      return 1
    fi
    counts+=("$n")
    total=$(( total + n ))
  done
  log "proxy4 shards hold ${counts[*]} rows"
  if (( total != table_size )); then
    load_error="the 4 shards hold $total rows in total (${counts[*]}), expected $table_size: the proxy lost or duplicated rows"
    return 1
  fi
  for n in "${counts[@]}"; do
    if (( n == 0 )); then
      load_error="a shard got no rows (${counts[*]}): the proxy did not spread sbtest1"
      return 1
    fi
  done
  shard_counts="${counts[*]}"
}

if has_target proxy4; then
  write_cluster bench4 s4a s4b s4c s4d
  if start_proxy proxy4 bench4; then
    backend_pids[proxy4]="${db_pid[s4a]} ${db_pid[s4b]} ${db_pid[s4c]} ${db_pid[s4d]}"
    load_proxy4 || skip_target proxy4 "$load_error"
  fi
  if ! has_target proxy4; then   # its four servers would only idle along
    for name in s4a s4b s4c s4d; do forget_pid "${db_pid[$name]}"; done
  fi
fi
[[ ${#targets[@]} -gt 0 ]] || die "no target left to measure"

# ---------------------------------------------------------------------------------------------------
# Measurements
mkdir -p "$tmp/logs"
# One line per measurement: workload ps target round qps p95 queries errors middle_ticks
# backend_ticks client_us machine_busy_ticks machine_total_ticks
results=$tmp/results.tsv
: >"$results"

# Runs sysbench workload $1 (point_select|read_only|write_only|write_only_autocommit) with ps-mode $2
# for $3 s against target $4; writes its output to $5. Fails when sysbench fails.
sb_run() {
  local workload=$1 ps=$2 seconds=$3 target=$4 logfile=$5 extra=()
  if [[ $workload == write_only_autocommit ]]; then
    workload=write_only
    # two threads may delete and insert one id at once outside transactions: the loser's duplicate key is counted, not fatal
    extra=(--skip_trx=on --mysql-ignore-errors=1062)
  fi
  timeout --foreground --kill-after=10 $(( seconds + 120 )) sysbench "oltp_$workload" "${sb_common[@]}" "${extra[@]}" \
    --mysql-port="${target_port[$target]}" --mysql-user="${target_user[$target]}" \
    --mysql-password="${target_password[$target]}" --threads="$threads" --time="$seconds" \
    --report-interval=0 --percentile=95 --db-ps-mode="$ps" run >"$logfile" 2>&1
}

bench_run() { sb_run "$@"; }

bench_label() { echo "oltp_$1 ps=$2"; }

# shellcheck disable=SC2086 # backend_pids is a list of pids
bench_backend_ticks() { cpu_ticks ${backend_pids[$1]}; }

bench_parse() {
  parsed_queries=$(awk '/^ *queries: / {print $2; exit}' "$1")
  parsed_rate=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec\.)/\1/p' "$1" | head -1)
  parsed_latency=$(awk '/95th percentile:/ {print $3; exit}' "$1")
  parsed_errors=$(awk '/ignored errors:/ {print $3; exit}' "$1")
}

bench_errors_fail=0   # sysbench ignores some errors by design; they are reported, not failed
measure_all

# ---------------------------------------------------------------------------------------------------
# Report


describe() {
  case $1 in
    direct) echo "MariaDB" ;;
    haproxy) echo "HAProxy TCP → MariaDB" ;;
    proxy1) echo "Shardgate, 1 shard" ;;
    proxy4) echo "Shardgate, 4 shards" ;;
  esac
}

ps_name() { [[ $1 == auto ]] && echo "prepared (--db-ps-mode=auto)" || echo "text (--db-ps-mode=disable)"; }

declare -A med_qps=()
report=$tmp/report.md
{
  echo "# Shardgate MySQL benchmark, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "Command: \`$command_line\`"
  echo
  echo "Settings: $threads threads, sbtest1 with $table_size rows, $time_s s per measurement, $rounds rounds" \
    "interleaved (median shown), $warmup_s s warm-up per target and workload; proxy pools $pool_size connections per shard."
  [[ -n ${shard_counts:-} ]] && echo "4-shard cluster: rows per shard after loading through the proxy: $shard_counts."
  if [[ ${#skipped[@]} -gt 0 ]]; then
    echo
    echo "Skipped during set-up:"
    echo
    printf -- '- %s\n' "${skipped[@]}"
  fi
  other=$(other_load | median)
  if [[ -n $other ]]; then
    echo
    if awk -v o="$other" 'BEGIN { exit !(o > 10) }'; then
      echo "**Noisy run:** other work on the machine used a median $(fmt %.0f "$other") % of its CPU during the measurements" \
        "(see \"other %\" below); the ratios are still comparable, the absolute numbers less so."
    else
      echo "Other work on the machine during the measurements: median $(fmt %.1f "$other") % of its CPU."
    fi
  fi
  echo
  echo "Machine (client, middle box and MariaDB share it):"
  echo
  machine_line
  for w in "${workloads[@]}"; do
    workload=${w%%:*}
    ps=${w##*:}
    echo
    echo "## oltp_$workload, $(ps_name "$ps")"
    echo
    echo "| target | QPS | p95 ms | × direct | × haproxy | middle CPU µs/query | MariaDB CPU µs/query | client CPU µs/query |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for t in "${targets[@]}"; do med_qps[$t]=$(med "$workload" "$ps" "$t" 5); done
    for t in "${targets[@]}"; do
      q=${med_qps[$t]}
      mid_cpu=""
      [[ -n ${middle_pid[$t]} ]] && mid_cpu=$(med_cpu "$workload" "$ps" "$t" 9)
      echo "| $t ($(describe "$t")) | $(fmt %.0f "$q") | $(fmt %.2f "$(med "$workload" "$ps" "$t" 6)")" \
        "| $(ratio "$q" "${med_qps[direct]:-}") | $(ratio "$q" "${med_qps[haproxy]:-}")" \
        "| $(fmt %.1f "$mid_cpu") | $(fmt %.1f "$(med_cpu "$workload" "$ps" "$t" 10)")" \
        "| $(fmt %.1f "$(med_client "$workload" "$ps" "$t")") |"
    done
  done
  # The issue's targets, where this run has the numbers for them.
  goals=()
  for ps in auto disable; do
    for t in proxy1 proxy4; do
      q=$(med point_select "$ps" "$t" 5)
      h=$(med point_select "$ps" haproxy 5)
      [[ -n $q && -n $h ]] || continue
      r=$(ratio "$q" "$h")
      verdict=$(awk -v r="$r" 'BEGIN { print (r >= 0.9) ? "met" : "MISSED" }')
      goals+=("- point select $(ps_name "$ps"), $t/haproxy QPS = $r (target ≥ 0.90): $verdict")
      c=$(med_cpu point_select "$ps" "$t" 9)
      [[ -n $c ]] || continue
      verdict=$(awk -v c="$c" 'BEGIN { print (c <= 30) ? "met" : "MISSED" }')
      goals+=("- point select $(ps_name "$ps"), $t CPU = $(fmt %.1f "$c") µs/query (target ≤ 30): $verdict")
    done
  done
  if [[ ${#goals[@]} -gt 0 ]]; then
    echo
    echo "## Targets"
    echo
    printf '%s\n' "${goals[@]}"
  fi
  echo
  echo "## Every measurement"
  echo
  echo "Machine busy: all CPU time on the machine during the measurement, as % of its $(nproc) cores;" \
    "other: the part used by none of sysbench, the middle box and MariaDB (other work on the machine)."
  echo
  echo "| workload | ps-mode | target | round | QPS | p95 ms | queries | errors | middle CPU µs/q | MariaDB CPU µs/q | client CPU µs/q | machine busy % | other % |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' -v hz="$clk_tck" '{
    mid = ($3 == "direct") ? "–" : sprintf("%.1f", $9 * 1000000 / hz / $7)
    busy = ($13 > 0) ? 100 * $12 / $13 : 0
    other = ($13 > 0) ? 100 * ($12 - $9 - $10 - $11 * hz / 1000000) / $13 : 0
    printf "| %s | %s | %s | %s | %.0f | %.2f | %s | %s | %s | %.1f | %.1f | %.0f | %.1f |\n", $1, $2, $3, $4, $5, $6, $7, $8, mid,
      $10 * 1000000 / hz / $7, $11 / $7, busy, other
  }' "$results"
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo
    echo "Failed measurements (left out): ${failed[*]}"
  fi
} >"$report"

if [[ -z $out ]]; then
  mkdir -p "$root/bench/results"
  out=$root/bench/results/mysql-$(date +%Y-%m-%d-%H%M).md
fi
cp "$report" "$out"
cat "$report"
log "report written to $out"
if (( setup_failures > 0 )); then
  die "$setup_failures targets failed to set up: ${skipped[*]}"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  die "${#failed[@]} measurements failed: ${failed[*]}"
fi
