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

# bench_external_store: AWS_ENDPOINT_URL is set; it must be on loopback, with keys in the environment.
bench_external_store() {
  local host=${AWS_ENDPOINT_URL#*://}
  host=${host%%/*}
  case $host in
    127.*|localhost|localhost:*|'[::1]'|'[::1]:'*) ;;
    *) die "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL is not on loopback; this benchmark only runs against a local store" ;;
  esac
  [[ -n ${AWS_ACCESS_KEY_ID:-} && -n ${AWS_SECRET_ACCESS_KEY:-} ]] ||
    die "AWS_ENDPOINT_URL is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not"
  log "using the store at $AWS_ENDPOINT_URL (from the environment)"
}

# bench_store_env: exports the store's endpoint, keys and region (after scripts/local-s3's env file
# was sourced, or from the environment); sets EP, the endpoint without a trailing slash.
bench_store_env() {
  export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_DEFAULT_REGION=$AWS_REGION
  EP=${AWS_ENDPOINT_URL%/}
}

# Mounts and their daemons. WORK is the script's temporary directory: every mount point is under
# $WORK/mnt/, every daemon's pid file under $WORK/pids/.

# Mount points of ours still in /proc/mounts (the second field, octal-escaped; ours have no blanks).
our_mounts() {
  [[ -n $WORK ]] || return 0
  awk -v w="$WORK/mnt/" 'index($2, w) == 1 { print $2 }' /proc/mounts
}

# A daemon we started, by its pid file, if it is still alive and still the process we started (its
# command line names our work directory).
our_pid() {  # $1 pid file
  local pid
  [[ -s $1 ]] || return 1
  read -r pid <"$1" || return 1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK/" || return 1
  echo "$pid"
}

force_unmount() {  # $1 mount point: every way there is, politest first
  local m=$1
  mountpoint -q -- "$m" 2>/dev/null || return 0
  fusermount3 -u -- "$m" >/dev/null 2>&1 || umount -- "$m" >/dev/null 2>&1 || umount -l -- "$m" >/dev/null 2>&1 || true
  ! mountpoint -q -- "$m" 2>/dev/null
}

stop_daemon() {  # $1 pid file: wait for it to exit after its unmount, then TERM, then KILL
  local pid i
  pid=$(our_pid "$1") || return 0
  for ((i = 0; i < 100; i++)); do our_pid "$1" >/dev/null || return 0; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do our_pid "$1" >/dev/null || return 0; sleep 0.1; done
  log "warning: daemon pid $pid did not stop after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# Unmounts every mount of ours and stops every daemon of ours; returns 1 when a mount is left.
bench_unmount_all() {
  local m f
  [[ -n $WORK && -d $WORK ]] || return 0
  while read -r m; do [[ -n $m ]] && { force_unmount "$m" || log "warning: could not unmount $m"; }; done < <(our_mounts)
  for f in "$WORK"/pids/*.pid; do [[ -e $f ]] && stop_daemon "$f"; done
  [[ -z $(our_mounts) ]]
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# bench_peer_config: credentials for s3fs (a 0600 file, S3FS_PASSWD) and an rclone remote `bench`
# from RCLONE_CONFIG_BENCH_* variables (provider Ceph). After bench_store_env.
bench_peer_config() {
  S3FS_PASSWD=$WORK/s3fs.passwd
  (umask 077; printf '%s:%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$S3FS_PASSWD")
  : >"$WORK/rclone.conf"
  export RCLONE_CONFIG=$WORK/rclone.conf RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Ceph
  export RCLONE_CONFIG_BENCH_ENDPOINT=$EP RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
  export RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY RCLONE_CONFIG_BENCH_REGION=$AWS_REGION
}

# mount_cmd TOOL MNT: sets CMD, the daemon of s3://$BUCKET/$PREFIX/ in the foreground (the caller
# backgrounds it). TOOL: sluice, sluice-direct, s3fs, rclone.
mount_cmd() {
  local tool=$1 mnt=$2
  case $tool in
    sluice) CMD=("$SLUICE_BIN" mount "s3://$BUCKET/$PREFIX/" "$mnt" --foreground) ;;
    sluice-direct) CMD=("$SLUICE_BIN" mount "s3://$BUCKET/$PREFIX/" "$mnt" --foreground --direct-io) ;;
    s3fs) CMD=(s3fs "$BUCKET:/$PREFIX" "$mnt" -f
               -o "ro,url=$EP,use_path_request_style,endpoint=$AWS_REGION,passwd_file=$S3FS_PASSWD") ;;
    rclone) CMD=(env -u AWS_CA_BUNDLE rclone mount "bench:$BUCKET/$PREFIX" "$mnt" --vfs-cache-mode off --read-only) ;;
    *) die "mount_cmd: unknown tool $tool" ;;
  esac
}

unmount() {  # $1 tool, $2 mount point: sluice unmount or fusermount3 -u, then every way there is
  local tool=$1 mnt=$2 i
  mountpoint -q -- "$mnt" 2>/dev/null || return 0
  if [[ $tool == sluice* ]]; then
    timeout 30 "$SLUICE_BIN" unmount "$mnt" >>"$WORK/logs/unmount.log" 2>&1 || true
  else
    timeout 30 fusermount3 -u -- "$mnt" >>"$WORK/logs/unmount.log" 2>&1 || true
  fi
  for ((i = 0; i < 50; i++)); do mountpoint -q -- "$mnt" 2>/dev/null || return 0; sleep 0.1; done
  force_unmount "$mnt"
}

# bench_start_local_store DIR: scripts/local-s3 in DIR (its log in $WORK/logs/local-s3.log), its
# env file sourced. Sets STORE_STARTED=1 first, so that the caller's cleanup stops whatever started.
bench_start_local_store() {
  log "starting a local store in $1"
  STORE_STARTED=1
  if ! "$ROOT/scripts/local-s3" start --dir "$1" >"$WORK/logs/local-s3.log" 2>&1; then
    cat "$WORK/logs/local-s3.log" >&2
    die "scripts/local-s3 start failed"
  fi
  # shellcheck disable=SC1091
  source "$1/env"
}
