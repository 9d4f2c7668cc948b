# shellcheck shell=bash
# Shared by the `sluice mount` shell tests (cli_mount_*_test.sh); sourced, not run (ctest only runs
# *_test.sh). It gives each test:
#   - $sluice, $tmp (a private directory; every mount point lives under it), $bucket (a fresh bucket
#     name, made by make_bucket), fail(), t (timeout with a KILL after 5 s);
#   - start_mount MNT ARGS...: runs `sluice ARGS...` (a background mount of MNT), checks it worked,
#     records the mount process's pid in MOUNT_PID (from "(pid N; ..." on stderr, or by looking for
#     the sluice process whose arguments name MNT) and its stderr in $tmp/stderr-of-<name>;
#   - a watchdog: after WATCHDOG_S seconds (each test sets its default) the test fails, whatever it
#     is waiting for;
#   - a cleanup trap (also on failure, on the watchdog and on SIGTERM/SIGINT): unmounts every FUSE
#     mount under $tmp (`sluice unmount`, else `fusermount3 -uz`), ends every sluice process it
#     started (TERM, then KILL), deletes the bucket and $tmp.
# Requires root or a user allowed to mount FUSE, /dev/fuse and fusermount3 (the mount fails
# otherwise, and so does the test: a skipped mount test would look like a passing one).
# pipefail: a pipeline fails when any part does, so no `| head` or `| grep -q` here (they may end
# before the writer has written everything, which then dies of SIGPIPE).
set -euo pipefail
export LC_ALL=C

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# shellcheck disable=SC1090
source "${SLUICE_LOCAL_S3_ENV:?}"
sluice=${SLUICE_BINARY:?}
[[ -x $sluice ]] || fail "SLUICE_BINARY=$sluice is not an executable"
command -v fusermount3 >/dev/null || fail "fusermount3 is missing (apt-get install fuse3)"
command -v python3 >/dev/null || fail "python3 is missing"
[[ -e /dev/fuse ]] || fail "/dev/fuse is missing: FUSE mounts cannot be tested here"

# The test's own directory: a name no other process uses, so that its mounts and processes can be
# found by path.
tmp=$(mktemp -d /tmp/sluice-mount-test.XXXXXXXX)
bucket=mount-$$-$RANDOM
MOUNT_PIDS=()   # every mount process this test started (background mounts and --foreground ones)
MOUNT_PID=      # the last one
WATCHDOG_S=${WATCHDOG_S:-240}

# A sluice built with a sanitizer runs several times slower (under ThreadSanitizer, with a unit
# test beside it on 2 cores, cli_mount_test's 2,000 random reads took over 170 s in CI): every time
# limit here (the watchdog and t's) is doubled for it. Doubled, not more: the watchdog must still
# end the test before ctest's TIMEOUT (600 s) kills it without its cleanup.
SLOWDOWN=1
if LC_ALL=C grep -q -a -e __asan_init -e __tsan_init "$sluice"; then SLOWDOWN=2; fi
WATCHDOG_S=$((WATCHDOG_S * SLOWDOWN))
((WATCHDOG_S < 600)) || fail "WATCHDOG_S=$WATCHDOG_S: it must stay under ctest's TIMEOUT (600 s)"
t() {
  local limit=$1
  shift
  timeout -k 5 "$((limit * SLOWDOWN))" "$@"
}

# Mount points under $tmp that are mounted now (from mountinfo; our paths have no spaces).
mounts_under_tmp() {
  awk -v p="$tmp/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r -u
}
is_mounted() { awk -v p="$1" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo; }
# The filesystem type mounted at $1 ("fuse.sluice" for ours), empty when none.
fstype_at() {
  awk -v p="$1" '$5 == p { for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } } END { print t }' \
    /proc/self/mountinfo
}

# sluice processes whose arguments contain $1 (a path under $tmp).
sluice_pids_naming() {
  local p
  for p in $(pgrep -x sluice || true); do
    if grep -qzF -- "$1" /proc/"$p"/cmdline 2>/dev/null; then echo "$p"; fi
  done
}
alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{ print $3 }' /proc/"$1"/stat 2>/dev/null) != Z ]]; }
# Waits up to $2 seconds (default 10) for process $1 to end.
wait_gone() {
  local pid=$1 n=$((${2:-10} * 10))
  while ((n-- > 0)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  return 1
}
# start_mount MNT ARGS...: `sluice ARGS...` must exit 0 with MNT mounted and its process alive.
start_mount() {
  local mnt=$1 name rc=0 pid
  shift
  name=$(basename "$mnt")
  # (Not on a mount there: a dead one answers mkdir's stat with ENOTCONN, unless the kernel still
  # has its root's attributes cached.)
  is_mounted "$mnt" || mkdir -p "$mnt"
  t 120 "$sluice" "$@" 2>"$tmp/stderr-of-$name" || rc=$?
  pid=$(sed -n 's/.*(pid \([0-9][0-9]*\);.*/\1/p' "$tmp/stderr-of-$name" | sed -n 1p)
  [[ -n $pid ]] || pid=$(sluice_pids_naming "$mnt" | sed -n 1p)
  if [[ -n $pid ]]; then MOUNT_PIDS+=("$pid"); fi
  [[ $rc == 0 ]] || fail "sluice $* exited $rc: $(cat "$tmp/stderr-of-$name")"
  [[ -n $pid ]] || fail "no mount process found for $mnt"
  alive "$pid" || fail "the mount process $pid of $mnt is not running"
  is_mounted "$mnt" || fail "sluice $* exited 0 but $mnt is not mounted"
  [[ $(fstype_at "$mnt") == fuse.sluice ]] || fail "$mnt is a $(fstype_at "$mnt") mount, expected fuse.sluice"
  # shellcheck disable=SC2034  # read by the tests
  MOUNT_PID=$pid
}

# stop_mount MNT PID: `sluice unmount MNT` exits 0, the process ends within 5 s, MNT is unmounted.
stop_mount() {
  local rc=0
  t 30 "$sluice" unmount "$1" 2>"$tmp/unmount.err" || rc=$?
  [[ $rc == 0 ]] || fail "sluice unmount $1 exited $rc: $(cat "$tmp/unmount.err")"
  wait_gone "$2" 5 || fail "the mount process $2 still runs 5 s after sluice unmount $1"
  ! is_mounted "$1" || fail "$1 is still mounted after sluice unmount"
}

make_bucket() { t 60 "$sluice" mb "s3://$bucket" >/dev/null || fail "cannot make bucket $bucket"; }

cleanup() {
  local rc=$? mp p pids
  trap - EXIT TERM INT
  if [[ -n ${watchdog_pid:-} ]]; then   # and its sleep, which would keep ctest's output pipe open
    p=$(pgrep -P "$watchdog_pid" || true)
    kill -KILL "$watchdog_pid" 2>/dev/null || true
    [[ -z $p ]] || kill "$p" 2>/dev/null || true
  fi
  for mp in $(mounts_under_tmp); do
    t 20 "$sluice" unmount "$mp" >/dev/null 2>&1 || t 20 fusermount3 -uz "$mp" >/dev/null 2>&1 || true
  done
  pids=$({ printf '%s\n' "${MOUNT_PIDS[@]}"; sluice_pids_naming "$tmp"; } | sort -u)
  for p in $pids; do
    if alive "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  for p in $pids; do
    wait_gone "$p" 5 || { echo "cleanup: killing mount process $p" >&2; kill -KILL "$p" 2>/dev/null || true; }
  done
  for mp in $(mounts_under_tmp); do   # left behind by a killed process
    t 20 fusermount3 -uz "$mp" >/dev/null 2>&1 || umount -l "$mp" 2>/dev/null || true
  done
  t 120 "$sluice" rb --force "s3://$bucket" >/dev/null 2>&1 || true
  if [[ -n $(mounts_under_tmp) ]]; then
    echo "cleanup: still mounted, $tmp left in place: $(mounts_under_tmp | tr '\n' ' ')" >&2
  else
    rm -rf --one-file-system "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
# A command that fails outside a test (set -e) says where, instead of ending the test silently.
set -E
trap 'echo "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
trap 'exit 143' TERM
trap 'exit 130' INT

# The watchdog: fails the test after WATCHDOG_S seconds. It TERMs the script and its direct
# children (`timeout` passes the TERM on), so that the cleanup trap runs. A process blocked on a
# FUSE request of a hung mount (the script itself, when it stats or globs there) only leaves on
# SIGKILL or when the mount's process dies: if the script is still there 10 s later, the mount
# processes are killed, which fails every pending request with ENOTCONN.
(
  sleep "$WATCHDOG_S"
  echo "FAIL: watchdog: the test ran longer than $WATCHDOG_S s" >&2
  kill -TERM $$ 2>/dev/null || true
  for c in $(pgrep -P $$ || true); do
    [[ $c == "$BASHPID" ]] || kill -TERM "$c" 2>/dev/null || true
  done
  sleep 10
  kill -0 $$ 2>/dev/null || exit 0
  echo "watchdog: the test is stuck; killing its mount processes" >&2
  for p in $(sluice_pids_naming "$tmp"); do kill -KILL "$p" 2>/dev/null || true; done
) &
watchdog_pid=$!
disown "$watchdog_pid"

# drop_caches: so that a re-read reaches the mount (needs root; else the test relies on
# --direct-io alone).
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

# "N.N MiB" (as sluice prints sizes) -> bytes.
to_bytes() {
  awk -v n="$1" -v u="$2" 'BEGIN {
    m["B"] = 1; m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824; m["TiB"] = 1099511627776
    if (!(u in m)) exit 1
    printf "%.0f\n", n * m[u] }'
}
