# shellcheck shell=bash
# Finds the JDK and Maven Shardgate needs. Source it (do not execute it):
#   source bin/jdk.sh; shardgate_find_jdk || exit 1; shardgate_need_mvn || exit 1
# SHARDGATE_JVM_DIR overrides where JDKs are looked for (default /usr/lib/jvm).

SHARDGATE_MIN_JAVA=25

# Prints the feature version (17, 21, 25, ...) of the JDK at $1, or nothing if it has no working java.
shardgate_java_feature() {
  local home=$1 line version
  [[ -x "$home/bin/java" ]] || return 0
  line=$("$home/bin/java" -version 2>&1 | grep -m1 -E 'version "' || true)
  version=${line#*version \"}
  version=${version%%\"*}
  version=${version#1.}          # 1.8.0_x -> 8.0_x
  version=${version%%[.+-]*}     # 25.0.1 / 25-ea / 25+36 -> 25
  [[ $version =~ ^[0-9]+$ ]] && echo "$version"
  return 0
}

# Sets and exports JAVA_HOME to a JDK >= 25: $JAVA_HOME if it qualifies, else
# $SHARDGATE_JVM_DIR/temurin-25-jdk-amd64, else the newest $SHARDGATE_JVM_DIR/* of version >= 25
# that has bin/javac. Returns 1 with one clear line on stderr when there is none.
shardgate_find_jdk() {
  local dir=${SHARDGATE_JVM_DIR:-/usr/lib/jvm} candidate feature best="" best_feature=0
  if [[ -n ${JAVA_HOME:-} ]]; then
    feature=$(shardgate_java_feature "$JAVA_HOME")
    if [[ -n $feature && $feature -ge $SHARDGATE_MIN_JAVA ]]; then
      export JAVA_HOME
      return 0
    fi
  fi
  for candidate in "$dir/temurin-25-jdk-amd64" "$dir"/*; do
    [[ -d $candidate && -x $candidate/bin/javac ]] || continue
    feature=$(shardgate_java_feature "$candidate")
    [[ -n $feature && $feature -ge $SHARDGATE_MIN_JAVA ]] || continue
    if [[ $candidate == "$dir/temurin-25-jdk-amd64" ]]; then
      best=$candidate
      break
    fi
    if (( feature > best_feature )); then
      best=$candidate
      best_feature=$feature
    fi
  done
  if [[ -z $best ]]; then
    echo "shardgate: error: JDK $SHARDGATE_MIN_JAVA or newer not found (JAVA_HOME=${JAVA_HOME:-unset}, looked in $dir). Install Temurin 25 and set JAVA_HOME." >&2
    return 1
  fi
  export JAVA_HOME=$best
  return 0
}

# Returns 1 with one clear line on stderr when Maven is not on the PATH.
shardgate_need_mvn() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "shardgate: error: Maven (mvn) not found on PATH; it builds Shardgate on first run. Install Maven 3.8 or newer (e.g. apt-get install maven)." >&2
    return 1
  fi
  return 0
}
