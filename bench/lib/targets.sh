# Shared by bench/mysql-bench.sh and bench/pg-bench.sh: the targets of a run (direct, haproxy, proxy1,
# proxy4, and pgbouncer for pg-bench.sh), chosen with --targets, and dropping one whose set-up failed.
# Pure functions; source after defining log and die.

# Sets the array `targets` from the comma-separated list $1, in canonical order, duplicates dropped.
# $2, if given, is the space-separated canonical list of the targets the script knows.
select_targets() {
  local r t known=${2:-direct haproxy proxy1 proxy4}
  local -a requested
  targets=()
  IFS=, read -ra requested <<<"$1"
  for r in "${requested[@]}"; do
    [[ " $known " == *" $r "* ]] || die "--targets: unknown target '$r' (use ${known// /, })"
  done
  for t in $known; do
    for r in "${requested[@]}"; do
      [[ $r == "$t" ]] && { targets+=("$t"); break; }
    done
  done
  [[ ${#targets[@]} -gt 0 ]] || die "--targets: no target given"
}

has_target() {
  local t
  for t in "${targets[@]}"; do [[ $t == "$1" ]] && return 0; done
  return 1
}

skipped=()   # "target: why" for targets dropped during set-up
setup_failures=0

# Drops target $1 from this run, saying why ($2); stops its middle box (middle_pid) if one runs. Unless
# $3 is "absent" (no proxy command in this checkout yet), the run ends with exit status 1.
skip_target() {
  local target=$1 why=$2 t
  local -a rest=()
  log "SKIPPING $target: $why"
  [[ ${3:-} == absent ]] || setup_failures=$(( setup_failures + 1 ))
  skipped+=("$target: $why")
  for t in "${targets[@]}"; do [[ $t == "$target" ]] || rest+=("$t"); done
  targets=("${rest[@]}")
  if [[ -n ${middle_pid[$target]:-} ]]; then
    forget_pid "${middle_pid[$target]}"
    unset "middle_pid[$target]"
  fi
}
