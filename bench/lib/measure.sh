# Shared by bench/mysql-bench.sh and bench/pg-bench.sh: the processes a benchmark starts and stops
# (own sessions, cleanup on exit, Ctrl-C, a closed pipe, and a watchdog for SIGKILL), free ports,
# CPU accounting around a measurement, and the medians and ratios of the report. The measurements
# go to $results, one tab-separated line each:
#   workload mode target round qps p95 queries errors middle_ticks backend_ticks client_us busy_ticks total_ticks
# Source it after defining log and die and setting keep.
# ---------------------------------------------------------------------------------------------------
# Processes and cleanup

tmp=$(mktemp -d /tmp/shardgate-bench.XXXXXX)
pids=()            # every background process started here, in start order
init_pids=()       # mariadb-install-db runs under way
declare -A pid_name=()

pid_file=$tmp/pids   # the same pids, one a line, for the watchdog

# Starts "$@" in its own session (setsid; the pid is also the process group id) with output in $2.
# Its own session keeps Ctrl-C away from the servers, so cleanup stops them in order.
# Sets $started_pid.
start_bg() {
  local name=$1 logfile=$2
  shift 2
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  started_pid=$!
  pids+=("$started_pid")
  pid_name[$started_pid]=$name
  echo "$started_pid" >>"$pid_file"
}

alive() { kill -0 "$1" 2>/dev/null; }

# Stops the process group $1 (SIGTERM, SIGKILL after 30 s) and reaps it.
stop_pid() {
  local pid=$1 deadline
  if alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$(( SECONDS + 30 ))
    while alive "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
    if alive "$pid"; then
      log "${pid_name[$pid]} (pid $pid) ignored SIGTERM for 30 s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops one process started by start_bg and forgets it.
forget_pid() {
  local pid=$1 p
  local -a rest=()
  stop_pid "$pid"
  for p in "${pids[@]}"; do [[ $p == "$pid" ]] || rest+=("$p"); done
  pids=("${rest[@]}")
}

stop_all() {
  local i
  for (( i = ${#pids[@]} - 1; i >= 0; i-- )); do
    stop_pid "${pids[i]}"
  done
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM HUP
  trap '' PIPE   # stdout/stderr may be a closed pipe (… | head): keep going, stop the servers
  for pid in "${init_pids[@]}"; do   # data dir initialisations still running
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  if [[ ${#pids[@]} -gt 0 ]]; then
    log "stopping ${#pids[@]} processes…"
    stop_all
  fi
  kill "$watchdog" 2>/dev/null || true
  if (( keep )); then
    log "kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# Watchdog: if this script dies without running cleanup (SIGKILL), stop what it started.
: >"$pid_file"
(
  trap - EXIT INT TERM HUP PIPE
  while kill -0 "$$" 2>/dev/null; do sleep 2; done
  while read -r pid; do kill -TERM -- "-$pid" 2>/dev/null || true; done <"$pid_file"
  for (( i = 0; i < 30; i++ )); do
    left=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && left=1; done <"$pid_file"
    (( left )) || break
    sleep 1
  done
  (( keep )) || rm -rf "$tmp"
) </dev/null >/dev/null 2>&1 &
watchdog=$!

used_ports=" "
# Sets the variable named $1 to a TCP port >= 20000 nothing listens on and not handed out before.
free_port() {
  local p i
  for (( i = 0; i < 500; i++ )); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    [[ $used_ports == *" $p "* ]] && continue
    if [[ -z $(ss -Htln "sport = :$p") ]]; then
      used_ports+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "no free TCP port found in 20000-59999"
}

# Waits until something accepts TCP connections on 127.0.0.1:$2. Returns 1, showing the tail of
# log $4 and setting $wait_error, when pid $3 dies first or $5 seconds pass; $1 names it.
wait_port() {
  local name=$1 port=$2 pid=$3 logfile=$4 limit=$5 deadline
  deadline=$(( SECONDS + limit ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! alive "$pid"; then
      tail -n 20 "$logfile" >&2 || true
      wait_error="$name exited before listening on port $port (log above: $logfile)"
      return 1
    fi
    if (( SECONDS >= deadline )); then
      tail -n 20 "$logfile" >&2 || true
      wait_error="$name not listening on port $port after $limit s (log above: $logfile)"
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------------
# Measurements


# Prints the utime+stime, in clock ticks, of the processes "$@" (all their threads) summed.
cpu_ticks() {
  local pid stat sum=0
  local -a f
  for pid in "$@"; do
    read -r stat <"/proc/$pid/stat" || die "process $pid (${pid_name[$pid]:-?}) is gone"
    stat=${stat##*) }          # drop "pid (comm) ": comm may hold spaces
    read -ra f <<<"$stat"
    sum=$(( sum + f[11] + f[12] ))   # fields 14 and 15 of proc(5): utime, stime
  done
  echo "$sum"
}

# Sets the variable named $1 to the CPU time, in µs, of this shell's waited-for children and their
# waited-for descendants (getrusage RUSAGE_CHILDREN, as the builtin `times` prints it): around one
# sysbench run, that run's client CPU. `times` must run in this shell, not in a $(…) subshell.
children_us() {
  times >"$tmp/times"
  printf -v "$1" '%s' "$(awk 'NR == 2 {
    us = 0
    for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); us += (a[1] * 60 + a[2]) * 1000000 }
    printf "%.0f", us }' "$tmp/times")"
}

# Prints "busy total" clock ticks of the whole machine since boot, from the first line of /proc/stat.
machine_ticks() {
  awk '/^cpu / { total = 0; for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6, total; exit }' /proc/stat
}

check_alive() {
  local pid
  for pid in "${pids[@]}"; do
    alive "$pid" || die "${pid_name[$pid]} (pid $pid) died; its log is in $tmp (use --keep to look at it)"
  done
}

# ---------------------------------------------------------------------------------------------------
# Report helpers

# Median of the numbers on stdin (empty when none).
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Median over rounds of column $4 (1-based in results.tsv: 5 qps, 6 p95) for workload $1, ps $2, target $3.
med() {
  awk -F'\t' -v w="$1" -v p="$2" -v t="$3" -v c="$4" '$1 == w && $2 == p && $3 == t { print $c }' "$results" | median
}

# Median over rounds of CPU µs per query for ticks column $4 (9 middle, 10 backend).
med_cpu() {
  awk -F'\t' -v w="$1" -v p="$2" -v t="$3" -v c="$4" -v hz="$clk_tck" \
    '$1 == w && $2 == p && $3 == t && $7 > 0 { print $c * 1000000 / hz / $7 }' "$results" | median
}

# Median over rounds of the client's (sysbench's) CPU µs per query.
med_client() {
  awk -F'\t' -v w="$1" -v p="$2" -v t="$3" '$1 == w && $2 == p && $3 == t && $7 > 0 { print $11 / $7 }' "$results" | median
}

# Per measurement, the share of the machine's CPU capacity used by processes other than sysbench,
# the middle box and the MariaDB servers (other sessions, daemons, the idle proxies and ZooKeeper).
other_load() {
  awk -F'\t' -v hz="$clk_tck" '$13 > 0 { printf "%.1f\n", 100 * ($12 - $9 - $10 - $11 * hz / 1000000) / $13 }' "$results"
}

fmt() {  # printf format $1 of $2, or "–" when $2 is empty
  # shellcheck disable=SC2059 # the format is the argument
  if [[ -n $2 ]]; then printf "$1" "$2"; else printf '–'; fi
}

ratio() {  # $1 / $2 to 2 decimals, or "–"
  if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else printf '–'; fi
}

# ---------------------------------------------------------------------------------------------------
# The measurement loop

# Runs every WORKLOAD:MODE of the array `workloads` against every target, `rounds` times, `time_s`
# seconds each, after a `warmup_s` warm-up per target and workload; the order of the targets rotates
# each round. Appends one line per measurement to $results, collects what failed in `failed`, and
# leaves out a workload on a target once it failed there. The script provides:
#   bench_run WORKLOAD MODE SECONDS TARGET LOGFILE   runs the client; fails when it fails
#   bench_parse LOGFILE            sets parsed_queries, parsed_rate, parsed_latency, parsed_errors
#   bench_backend_ticks TARGET     prints the CPU ticks of the target's database servers
#   bench_label WORKLOAD MODE      prints how the log names the workload
# and `bench_errors_fail` (1: client errors fail the measurement; 0: a warning).
# "workload:mode target" pairs a script cannot measure (a middle box without that protocol feature): left
# out of the run and named in the report by the script.
declare -gA inapplicable=()

measure_all() {
  local w t i workload mode logfile label mid mid1 back0 back1 busy0 busy1 total0 total1 client0 client1 run total_runs n_targets k
  declare -gA broken=()
  for k in "${!inapplicable[@]}"; do broken[$k]=1; done
  failed=()
  if (( warmup_s > 0 )); then
    for t in "${targets[@]}"; do
      for w in "${workloads[@]}"; do
        [[ -z ${broken["$w $t"]:-} ]] || continue
        label=$(bench_label "${w%%:*}" "${w##*:}")
        logfile=$tmp/logs/warmup-${w%%:*}-${w##*:}-$t.log
        log "warm-up: $label $t: $warmup_s s …"
        bench_run "${w%%:*}" "${w##*:}" "$warmup_s" "$t" "$logfile" || {
          tail -n 15 "$logfile" >&2 || true
          log "    warm-up failed against $t (output above); $label on $t is left out"
          broken["$w $t"]=1
          failed+=("$label $t warm-up")
        }
      done
    done
  fi
  n_targets=${#targets[@]}
  total_runs=$(( rounds * ${#workloads[@]} * n_targets ))
  run=0
  for (( round = 1; round <= rounds; round++ )); do
    for w in "${workloads[@]}"; do
      workload=${w%%:*}
      mode=${w##*:}
      label=$(bench_label "$workload" "$mode")
      # Rotate the order each round so no target always runs first or right after the same one.
      for (( i = 0; i < n_targets; i++ )); do
        t=${targets[(i + round - 1) % n_targets]}
        run=$(( run + 1 ))
        if [[ -n ${broken["$w $t"]:-} ]]; then
          log "[$run/$total_runs] $label $t round $round: skipped (${inapplicable["$w $t"]:-failed before})"
          continue
        fi
        check_alive
        logfile=$tmp/logs/$workload-$mode-$t-r$round.log
        log "[$run/$total_runs] $label $t round $round: $time_s s …"
        mid=0
        back0=$(bench_backend_ticks "$t")
        [[ -n ${middle_pid[$t]} ]] && mid=$(cpu_ticks "${middle_pid[$t]}")
        read -r busy0 total0 < <(machine_ticks)
        children_us client0
        if ! bench_run "$workload" "$mode" "$time_s" "$t" "$logfile"; then
          tail -n 15 "$logfile" >&2 || true
          log "    the client failed against $t (output above); $label on $t is left out from now on"
          broken["$w $t"]=1
          failed+=("$label $t round $round")
          continue
        fi
        children_us client1
        read -r busy1 total1 < <(machine_ticks)
        sleep 0.3   # servers that reap per-connection processes (PostgreSQL) count their CPU once they ended
        back1=$(bench_backend_ticks "$t")
        mid1=0
        [[ -n ${middle_pid[$t]} ]] && mid1=$(cpu_ticks "${middle_pid[$t]}")
        parsed_queries="" parsed_rate="" parsed_latency="" parsed_errors=""
        bench_parse "$logfile"
        if [[ -z $parsed_queries || -z $parsed_rate || -z $parsed_latency ]]; then
          tail -n 15 "$logfile" >&2 || true
          log "    could not read the count, rate and latency from the client's output (above); this measurement is left out"
          failed+=("$label $t round $round")
          continue
        fi
        if [[ ${parsed_errors:-0} != 0 ]]; then
          log "    warning: $parsed_errors client errors against $t"
          (( bench_errors_fail )) && failed+=("$label $t round $round: $parsed_errors errors")
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$mode" "$t" "$round" "$parsed_rate" \
          "$parsed_latency" "$parsed_queries" "${parsed_errors:-0}" $(( mid1 - mid )) $(( back1 - back0 )) \
          $(( client1 - client0 )) $(( busy1 - busy0 )) $(( total1 - total0 )) >>"$results"
        log "    $parsed_rate per second, latency $parsed_latency ms"
      done
    done
  done
}

# ---------------------------------------------------------------------------------------------------
# Shardgate

# Starts an embedded ZooKeeper (`bin/shardgate zookeeper`) on a free port; sets zk_port.
start_zookeeper() {
  free_port zk_port
  mkdir -p "$tmp/zookeeper"
  SHARDGATE_NO_BUILD=1 start_bg zookeeper "$tmp/zookeeper.log" "$shardgate" zookeeper --port "$zk_port" --data-dir "$tmp/zookeeper/data"
  wait_port zookeeper "$zk_port" "$started_pid" "$tmp/zookeeper.log" 60 || die "$wait_error"
  log "zookeeper on 127.0.0.1:$zk_port (pid $started_pid)"
}

# Creates cluster $2 from $tmp/$2.yaml and starts a proxy with $tmp/proxy-$2.yaml as target $1 listening
# on $3, then waits until `$4 PORT` (the script's readiness check, a SELECT 1 through the proxy)
# succeeds. Skips the target and returns 1 when a step fails.
launch_proxy() {
  local target=$1 cluster=$2 port=$3 ready=$4 deadline
  if ! SHARDGATE_NO_BUILD=1 "$shardgate" cluster init --zk "127.0.0.1:$zk_port" --cluster "$cluster" \
      --file "$tmp/$cluster.yaml" >"$tmp/init-$cluster.log" 2>&1; then
    cat "$tmp/init-$cluster.log" >&2
    skip_target "$target" "'bin/shardgate cluster init' failed for $tmp/$cluster.yaml (output above)"
    return 1
  fi
  SHARDGATE_NO_BUILD=1 start_bg "shardgate $target" "$tmp/$target.log" "$shardgate" proxy --config "$tmp/proxy-$cluster.yaml"
  middle_pid[$target]=$started_pid
  if ! wait_port "shardgate proxy ($target)" "$port" "$started_pid" "$tmp/$target.log" 120; then
    skip_target "$target" "$wait_error"
    return 1
  fi
  # Listening is not yet serving (the cluster state comes from ZooKeeper): wait for an answer.
  deadline=$(( SECONDS + 60 ))
  until "$ready" "$port" >"$tmp/$target-ready.log" 2>&1; do
    if ! alive "$started_pid" || (( SECONDS >= deadline )); then
      cat "$tmp/$target-ready.log" >&2
      skip_target "$target" "'SELECT 1' through $target still fails after 60 s (output above; log $tmp/$target.log)"
      return 1
    fi
    sleep 0.5
  done
  target_port[$target]=$port
  target_user[$target]=$proxy_user
  target_password[$target]=$proxy_password
  log "shardgate $target on 127.0.0.1:$port (pid $started_pid, cluster $cluster)"
}
