# Shared by the benchmark scripts that run a `shardgate demo` cluster: logging, free ports, a temp
# dir and the processes to stop on exit, and starting the demo. Source it after setting `keep`
# (1 keeps the temp dir) and `tmp_prefix`.

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "missing on PATH: $tool"
  done
}

tmp=$(mktemp -d "/tmp/${tmp_prefix:-shardgate-bench}.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if (( keep )); then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(shuf -i 20000-29999 -n 200); do
    if ! ss -ltn "( sport = :$p )" | grep -q ":$p"; then echo "$p"; return; fi
  done
  die "no free port"
}

# start_demo SHARDS SPARES: builds if needed, starts the demo on free ports and waits until it serves.
# Sets port, admin_port, zk_port, shard_base, zk (the CLI's ZooKeeper flags) and defines cli.
start_demo() {
  local shards=$1 spares=$2
  port=$(free_port); admin_port=$(free_port); zk_port=$(free_port); shard_base=$(free_port)
  log "building and starting the demo ($shards shards, $spares spares) in $tmp"
  bin/shardgate --version >/dev/null
  SHARDGATE_NO_BUILD=1 bin/shardgate demo --shards "$shards" --spares "$spares" --port "$port" --admin-port "$admin_port" \
    --zk-port "$zk_port" --shard-base-port "$shard_base" --data-dir "$tmp/demo" --reset > "$tmp/demo.log" 2>&1 &
  local demo_pid=$!
  pids+=("$demo_pid")
  local _
  for _ in $(seq 1 240); do
    grep -q '^Connect:' "$tmp/demo.log" && break
    kill -0 "$demo_pid" 2>/dev/null || { cat "$tmp/demo.log" >&2; die "the demo stopped"; }
    sleep 0.5
  done
  grep -q '^Connect:' "$tmp/demo.log" || { cat "$tmp/demo.log" >&2; die "the demo did not start within 120 s"; }
  zk=(--zk "127.0.0.1:$zk_port" --cluster demo)
}

cli() { SHARDGATE_NO_BUILD=1 bin/shardgate "$@"; }
