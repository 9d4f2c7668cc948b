# bench/lib.sh: what every benchmark script shares. Sourced after PROG and ROOT are set.
# shellcheck shell=bash

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# The script's leading comment block (after the #! line), without the '# ', then exit.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }

need_value() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# bench_loopback_only DIR: no proxy may carry a request anywhere, and no tool reads the user's AWS
# configuration or credentials files (DIR/empty-config stands in for both).
bench_loopback_only() {
  unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
  export NO_PROXY=127.0.0.1,localhost,::1 no_proxy=127.0.0.1,localhost,::1
  mkdir -p "$1"
  : >"$1/empty-config"
  export AWS_CONFIG_FILE=$1/empty-config AWS_SHARED_CREDENTIALS_FILE=$1/empty-config
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
}

# bench_sluice BUILD_DIR LOG: sets SLUICE_BIN (when empty, builds sluice with cmake + ninja into
# BUILD_DIR, incrementally, its output in LOG) to an absolute path of an executable.
bench_sluice() {
  if [[ -z $SLUICE_BIN ]]; then
    command -v cmake >/dev/null && command -v ninja >/dev/null || die "cmake and ninja are needed to build sluice (or pass --sluice BIN)"
    log "building sluice in $1"
    if ! { cmake -S "$ROOT" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C "$1" sluice; } >"$2" 2>&1; then
      tail -n 40 "$2" >&2
      die "building sluice failed (full log above; or pass --sluice BIN)"
    fi
    SLUICE_BIN=$1/sluice
  fi
  [[ -x $SLUICE_BIN ]] || die "sluice binary $SLUICE_BIN is not executable"
  SLUICE_BIN=$(realpath -- "$SLUICE_BIN")
}
