#!/usr/bin/env bash
# `sluice mount` / `sluice unmount` against the real store, when things are not simple:
#  5. keys that cannot be paths ("../", "//", "./", a key that is a file and a directory at once) are
#     not shown, and the mount names each one on stderr; the good ones are there;
#  6. an object overwritten while mounted (new ETag, same size): reads of what was not yet fetched
#     fail with EIO (never the new bytes, never old and new mixed), the log names the object, and
#     the mount stays alive;
#  7. the lifecycle: a background mount returns once the mount answers; `sluice unmount`,
#     `fusermount3 -u`, SIGTERM/SIGINT (foreground and background) end the process and leave an
#     ordinary empty directory; after kill -9 the next mount cleans the stale mount; a busy mount
#     is refused; mounting again on a mount says "already mounted (pid N)" with exit 8; bad mount points, a missing bucket or prefix, and unmounting a non-mount fail with
#     the documented exit codes and leave no mount and no process.
# What a reader sees of a healthy mount: cli_mount_test.sh.
WATCHDOG_S=${WATCHDOG_S:-180}
# shellcheck source-path=SCRIPTDIR source=cli_mount_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_mount_lib.sh"
MiB=$((1 << 20))
started=$SECONDS
make_bucket
src=$tmp/src
mkdir -p "$src"

# expect_fail RC PATTERN CMD...: CMD exits RC and its stderr contains PATTERN (fixed string).
expect_fail() {
  local want=$1 pattern=$2 rc=0
  shift 2
  t 60 "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc == "$want" ]] || fail "$* exited $rc, expected $want: $(cat "$tmp/err")"
  grep -qF -- "$pattern" "$tmp/err" || fail "$* did not say '$pattern': $(cat "$tmp/err")"
}
# no_trace MNT: nothing is mounted at MNT and no sluice process names it.
no_trace() {
  local n=50
  while ((n-- > 0)) && [[ -n $(sluice_pids_naming "$1") ]]; do sleep 0.1; done
  [[ -z $(sluice_pids_naming "$1") ]] || fail "a sluice process for $1 is still running: $(sluice_pids_naming "$1")"
  ! is_mounted "$1" || fail "$1 is mounted"
}

# ------------------------------------------------------------------------------------------------
# 5. Unsafe keys. `sluice cp FILE s3://B/KEY` uploads a single object under the key as given (the
# store keeps "..", "." and "//" in keys; the listing below checks it did).
echo good >"$src/good"
echo bad >"$src/bad"
t 30 "$sluice" cp -q "$src/good" "s3://$bucket/ds2/good1" || fail "upload failed"
t 30 "$sluice" cp -q "$src/good" "s3://$bucket/ds2/sub/good2" || fail "upload failed"
t 30 "$sluice" cp -q "$src/good" "s3://$bucket/ds2/x" || fail "upload failed"
t 30 "$sluice" cp -q "$src/bad" "s3://$bucket/ds2/x/y" || fail "upload failed"
bad_keys=("ds2/../escape" "ds2/a//b" "ds2/./dot" "ds2/sub/../../up")
for k in "${bad_keys[@]}"; do t 30 "$sluice" cp -q "$src/bad" "s3://$bucket/$k" || fail "upload of $k failed"; done
t 30 "$sluice" ls -r "s3://$bucket/ds2/" >"$tmp/listing" || fail "sluice ls failed"
for k in "${bad_keys[@]}" ds2/x/y; do
  grep -qF " $k" "$tmp/listing" || fail "the store does not list '$k' (it normalised the key?): $(cat "$tmp/listing")"
done
m=$tmp/m-unsafe
start_mount "$m" mount "s3://$bucket/ds2/" "$m"
diff <(printf '%s\n' good1 sub sub/good2 x) <(cd "$m" && t 30 find . -mindepth 1 | sed 's|^\./||' | sort) >&2 ||
  fail "the mount of ds2/ should show only good1, sub/good2 and x"
[[ $(cat "$m/good1") == good && $(cat "$m/x") == good ]] || fail "the good files read wrong"
[[ ! -e $tmp/escape && ! -e $tmp/up ]] || fail "a '..' key shows outside the mount"
for k in "${bad_keys[@]}" ds2/x/y; do
  grep -qF "'$k'" "$tmp/stderr-of-m-unsafe" || fail "the mount does not name the refused key '$k': $(cat "$tmp/stderr-of-m-unsafe")"
done
grep -q 'warning' "$tmp/stderr-of-m-unsafe" || fail "refused keys are not reported as warnings"
stop_mount "$m" "$MOUNT_PID"
# With -q the refused keys are still reported (and the mount line is not).
start_mount "$m" mount "s3://$bucket/ds2/" "$m" -q
grep -qF "'ds2/a//b'" "$tmp/stderr-of-m-unsafe" || fail "-q hides the refused keys: $(cat "$tmp/stderr-of-m-unsafe")"
! grep -q 'mounted' "$tmp/stderr-of-m-unsafe" || fail "-q still prints the mount line"
stop_mount "$m" "$MOUNT_PID"
echo "5. unsafe keys: ok ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 6. The object changes under the mount. 32 MiB, memory for 8 MiB: after reading the first half,
# most of the second half has not been fetched yet and must come with the old ETag (If-Match).
head -c $((32 * MiB)) /dev/urandom >"$src/old"
head -c $((32 * MiB)) /dev/urandom >"$src/new"
head -c $((3 * MiB)) /dev/urandom >"$src/other"
t 60 "$sluice" cp -q "$src/old" "s3://$bucket/ds3/changing.bin" || fail "upload failed"
t 60 "$sluice" cp -q "$src/other" "s3://$bucket/ds3/other.bin" || fail "upload failed"
m=$tmp/m-etag
start_mount "$m" mount "s3://$bucket/ds3/" "$m" --direct-io --max-memory 8M --log-file "$tmp/etag.log"
# One open file: half read, the object replaced, the rest read. Every byte returned must be the
# old one, and the read must stop with EIO before the end.
cat >"$tmp/etag.py" <<'EOF'
import errno, os, subprocess, sys
mnt, old, new, cmd = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read(), sys.argv[4:]
half, MiB = len(old) // 2, 1 << 20
fd = os.open(mnt, os.O_RDONLY)
first = b"".join(os.pread(fd, MiB, o) for o in range(0, half, MiB))
if first != old[:half]:
    sys.exit("the first half differs from the source before the object changed")
subprocess.run(cmd, check=True)
got, off, err = [], half, None
while off < len(old):
    try:
        b = os.pread(fd, MiB, off)
    except OSError as e:
        err = e
        break
    if not b:
        break
    got.append(b)
    off += len(b)
got = b"".join(got)
if got != old[half:half + len(got)]:
    sys.exit("after the change, the read returned %d bytes that are not the old object's (%s)"
             % (len(got), "the new object's" if got == new[half:half + len(got)] else "old and new mixed, or neither"))
if err is None:
    sys.exit("the whole rest of the object (%d bytes) was read after it changed: expected EIO" % len(got))
if err.errno != errno.EIO:
    sys.exit("the read after the change failed with %s, expected EIO" % err)
print("same open file: %d old bytes, then EIO at offset %d" % (len(got), off))
EOF
t 120 python3 "$tmp/etag.py" "$m/changing.bin" "$src/old" "$src/new" bash -c \
  "timeout 60 '$sluice' cp -q '$src/new' 's3://$bucket/ds3/changing.bin' && { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }" ||
  fail "reading an object that changed while mounted (above)"
# A fresh open of the changed file: EIO, and whatever came before it is old bytes.
drop_caches
rc=0
t 60 cat "$m/changing.bin" >"$tmp/fresh" 2>"$tmp/err" || rc=$?
[[ $rc != 0 ]] || fail "a fresh read of the changed object succeeded"
grep -q 'Input/output error' "$tmp/err" || fail "a fresh read of the changed object: $(cat "$tmp/err"), expected EIO"
cmp -s "$tmp/fresh" <(head -c "$(stat -c %s "$tmp/fresh")" "$src/old") || fail "a fresh read returned bytes that are not the old object's"
((rc != 124 && rc != 137)) || fail "a fresh read of the changed object hung"
# The log names the object and says why.
grep -F "s3://$bucket/ds3/changing.bin" "$tmp/etag.log" | grep -ciE 'etag|changed' >/dev/null ||
  fail "the --log-file does not name s3://$bucket/ds3/changing.bin with the cause: $(cat "$tmp/etag.log")"
# The mount is alive: other files read, the tree answers.
alive "$MOUNT_PID" || fail "the mount process died after the EIO"
cmp "$m/other.bin" "$src/other" || fail "other.bin no longer reads right after the EIO"
[[ $(cd "$m" && echo *) == "changing.bin other.bin" ]] || fail "the mount after the EIO shows: $(cd "$m" && echo *)"
stop_mount "$m" "$MOUNT_PID"
echo "6. object changed: ok ($((SECONDS - started)) s)"

# ------------------------------------------------------------------------------------------------
# 7. Lifecycle.
t 30 "$sluice" cp -q "$src/good" "s3://$bucket/ds4/a.txt" || fail "upload failed"
t 30 "$sluice" cp -q "$src/good" "s3://$bucket/ds4/d/b.txt" || fail "upload failed"
m=$tmp/m-life
parent_dev=$(stat -c %d "$tmp")
is_plain_empty_dir() {
  if [[ ! -d $1 ]] || is_mounted "$1"; then fail "$1 is not an ordinary directory: $(stat "$1" 2>&1)"; fi
  [[ $(stat -c %d "$1") == "$parent_dev" ]] || fail "$1 is still on another file system"
  [[ -z $(ls -A "$1") ]] || fail "$1 is not empty: $(ls -A "$1")"
}
lists_ds4() { [[ $(t 10 ls "$1" | tr '\n' ' ') == "a.txt d " ]] || fail "ls $1: $(t 10 ls "$1" 2>&1 | tr '\n' ' ')"; }

# The background mount answers as soon as `sluice mount` returns; `sluice unmount` ends it.
start_mount "$m" mount "s3://$bucket/ds4/" "$m"
lists_ds4 "$m"
grep -qE "^sluice: mounted s3://$bucket/ds4/ at $m \(2 files, .*read-only\) \(pid $MOUNT_PID; \`sluice unmount $m\` to stop\)$" \
  "$tmp/stderr-of-m-life" || fail "unexpected mount message: $(cat "$tmp/stderr-of-m-life")"
[[ $(cat "$m/d/b.txt") == good ]] || fail "d/b.txt reads wrong"
stop_mount "$m" "$MOUNT_PID"
is_plain_empty_dir "$m"

# A busy mount (a process has its cwd there) is refused with exit 8, and stays usable.
start_mount "$m" mount "s3://$bucket/ds4/" "$m"
(cd "$m/d" && exec sleep 60) &
busy=$!
n=50
while ((n-- > 0)) && [[ $(readlink "/proc/$busy/cwd") != "$m/d" ]]; do sleep 0.1; done
[[ $(readlink "/proc/$busy/cwd") == "$m/d" ]] || fail "could not start a process inside the mount"
expect_fail 8 "busy" "$sluice" unmount "$m"
lists_ds4 "$m"
kill "$busy"
wait "$busy" 2>/dev/null || true
# Mounting again where a sluice mount is: exit 8 naming the mount point and the pid serving it
# (a background and a --foreground attempt), and the first mount goes on serving.
expect_fail 8 "$m is already mounted (pid $MOUNT_PID)" "$sluice" mount "s3://$bucket/ds4/" "$m"
expect_fail 8 "$m is already mounted (pid $MOUNT_PID)" "$sluice" mount "s3://$bucket/ds4/" "$m" --foreground
[[ $(awk -v p="$m" '$5 == p' /proc/self/mountinfo | wc -l) == 1 ]] || fail "a second mount is stacked on $m"
alive "$MOUNT_PID" || fail "the first mount's process ended"
lists_ds4 "$m"
stop_mount "$m" "$MOUNT_PID"

# SIGTERM to the background mount process unmounts it.
start_mount "$m" mount "s3://$bucket/ds4/" "$m"
kill -TERM "$MOUNT_PID"
wait_gone "$MOUNT_PID" 10 || fail "the mount process survived SIGTERM"
is_plain_empty_dir "$m"

# --foreground, in the background of this script: SIGTERM and SIGINT unmount, exit 0.
for sig in TERM INT; do
  err=$tmp/foreground-$sig.err
  "$sluice" mount "s3://$bucket/ds4/" "$m" --foreground 2>"$err" &
  fg=$!
  MOUNT_PIDS+=("$fg")
  n=300   # it prints its mount line once the mount answers
  while ((n-- > 0)) && ! grep -qs "mounted s3://$bucket/ds4/ at $m" "$err"; do sleep 0.1; done
  grep -q "^sluice: mounted s3://$bucket/ds4/ at $m (2 files, .*read-only) (Ctrl-C or \`sluice unmount\` to stop)$" "$err" ||
    fail "the --foreground mount did not say it mounted in 30 s: $(cat "$err")"
  is_mounted "$m" || fail "the --foreground mount said it mounted, but $m is not mounted"
  lists_ds4 "$m"
  kill -"$sig" "$fg"
  wait_gone "$fg" 10 || fail "the --foreground mount survived SIG$sig"
  rc=0
  wait "$fg" || rc=$?
  [[ $rc == 0 ]] || fail "the --foreground mount exited $rc after SIG$sig, expected 0: $(cat "$err")"
  is_plain_empty_dir "$m"
done

# fusermount3 -u ends the process too.
start_mount "$m" mount "s3://$bucket/ds4/" "$m"
t 30 fusermount3 -u "$m" || fail "fusermount3 -u $m failed"
wait_gone "$MOUNT_PID" 10 || fail "the mount process still runs 10 s after fusermount3 -u"
is_plain_empty_dir "$m"

# Bad mount points: exit 2, the path named, nothing left behind.
expect_fail 2 "$tmp/missing" "$sluice" mount "s3://$bucket/ds4/" "$tmp/missing"
no_trace "$tmp/missing"
[[ ! -e $tmp/missing ]] || fail "mounting on a missing directory created it"
echo file >"$tmp/a-file"
expect_fail 2 "$tmp/a-file" "$sluice" mount "s3://$bucket/ds4/" "$tmp/a-file"
no_trace "$tmp/a-file"
mkdir "$tmp/full" && echo x >"$tmp/full/x"
expect_fail 2 "$tmp/full" "$sluice" mount "s3://$bucket/ds4/" "$tmp/full"
no_trace "$tmp/full"
[[ $(cat "$tmp/full/x") == x ]] || fail "the non-empty directory was changed"
# A missing bucket or an empty prefix: exit 3, no mount, no process.
expect_fail 3 "no-such-bucket-$$" "$sluice" mount "s3://no-such-bucket-$$/ds/" "$m"
no_trace "$m"
expect_fail 3 "nothing-here/" "$sluice" mount "s3://$bucket/nothing-here/" "$m"
no_trace "$m"
is_plain_empty_dir "$m"
# Unmounting what is not a mount: exit 2.
expect_fail 2 "$m" "$sluice" unmount "$m"
expect_fail 2 "$tmp/missing" "$sluice" unmount "$tmp/missing"
# kill -9 leaves a dead mount; the next mount on that directory cleans it up and works. (Last:
# while the dead mount's root attributes are still cached by the kernel, stat() of it succeeds
# and only opendir() says ENOTCONN.)
start_mount "$m" mount "s3://$bucket/ds4/" "$m"
kill -KILL "$MOUNT_PID"
wait_gone "$MOUNT_PID" 10 || fail "the mount process survived kill -9"
rc=0
t 10 ls "$m" >/dev/null 2>"$tmp/err" || rc=$?
# ENOTCONN, or ECONNABORTED when the request was in flight as the process died.
if [[ $rc == 0 ]] || ! grep -qE 'Transport endpoint is not connected|Software caused connection abort' "$tmp/err"; then
  fail "ls of a mount whose process was killed: exit $rc, $(cat "$tmp/err")"
fi
echo "7. mounting again on the dead mount left by kill -9"
start_mount "$m" mount "s3://$bucket/ds4/" "$m"
lists_ds4 "$m"
[[ $(awk -v p="$m" '$5 == p' /proc/self/mountinfo | wc -l) == 1 ]] || fail "the stale mount is still stacked under the new one"
stop_mount "$m" "$MOUNT_PID"
is_plain_empty_dir "$m"

echo "7. lifecycle: ok ($((SECONDS - started)) s)"

echo "mount faults: ok ($((SECONDS - started)) s)"
