#!/usr/bin/env bash
# A full local disk during a download (issue 7). The destination / work directory is a 20 MiB
# tmpfs mounted by the test (needs root; skipped, exit 77, where mount is not permitted):
#  1. `sluice cp -r` of 30 MiB into it: exit 7 (no space), stderr says "No space left on device"
#     and names a file; every file under a final name equals its source; no temporary file is left;
#  2. `sluice train` of a File-mode job whose channel (30 MiB) does not fit: refused before
#     downloading (exit 1, Failed), FailureReason names the channel and host, what it needs and what
#     is free; nothing was written into the channel;
#  3. a channel of 12 MiB that fits when the job checks, but the disk fills (another file takes all
#     but 1 MiB) once 2 of its 6 files are downloaded (the download is slowed by
#     tests/tools/fault_proxy.py holding every answer 0.25 s, so that the rest has not arrived
#     yet): exit 1, Failed, FailureReason names the channel and says "No space left on device";
#     every file under a final name equals its source, no temporary file is left; with the other
#     file gone, the same job resumed (--resume) completes and says how many files were already present.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init diskfull
started=$SECONDS
MiB=$((1 << 20))

small=$tmp/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=20m,mode=0755 sluice-test-tmpfs "$small" 2>"$tmp/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here ($(cat "$tmp/mount.err")); the disk-full tests need root" >&2
  exit 77
fi
bg_pid=""
proxy_pid=""
diskfull_cleanup() {
  local rc=$?
  set +e
  if [[ -n $bg_pid ]]; then kill -KILL "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; fi
  if [[ -n $proxy_pid ]]; then kill -TERM "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; fi
  umount "$small" 2>/dev/null || umount -l "$small" 2>/dev/null || echo "cleanup: cannot unmount $small" >&2
  (exit "$rc")
  e2e_cleanup
}
trap diskfull_cleanup EXIT


for i in $(seq -w 1 10); do rand_file "$tmp/big/f$i.bin" $((3 * MiB + 10#$i)); done
for i in $(seq -w 1 6); do rand_file "$tmp/fits/f$i.bin" $((2 * MiB + 10#$i)); done
"$sluice" cp -r -q "$tmp/big" "s3://$bucket/big/" || fail "upload failed"
"$sluice" cp -r -q "$tmp/fits" "s3://$bucket/fits/" || fail "upload failed"

# --- 1. sluice cp ------------------------------------------------------------------------------------
note "1. sluice cp -r of 30 MiB into a 20 MiB tmpfs"
rc=0
"$sluice" cp -r -q "s3://$bucket/big/" "$small/dst" 2>"$tmp/cp.err" || rc=$?
[[ $rc == 7 ]] || fail "sluice cp onto a full disk exited $rc, expected 7 (no space): $(cat "$tmp/cp.err")"
grep -q "No space left on device" "$tmp/cp.err" || fail "sluice cp does not say 'No space left on device': $(cat "$tmp/cp.err")"
grep -qF "$small/dst/" "$tmp/cp.err" || fail "the no-space error does not name the file: $(cat "$tmp/cp.err")"
n=$(check_tree "$small/dst" "$tmp/big") || fail "after sluice cp ran out of space (above)"
note "1. ok: exit 7, $n of 10 files complete, no temporary file; stderr: $(head -n 1 "$tmp/cp.err")"
rm -rf "$small/dst"

# --- 2. sluice train, refused up front -----------------------------------------------------------------
make_job() {  # make_job NAME PREFIX FILE
  cat >"$3" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": ["sh", "-c", "ls /opt/ml/input/data/train | wc -l"]},
  "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/$2/"}}}],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 120}
}
EOF
}
note "2. sluice train of a 30 MiB channel in a 20 MiB work directory"
job=full-$$-$RANDOM
make_job "$job" big "$tmp/j2.json"
train rc "$tmp/j2.json" --work-dir "$small/work"
expect_rc "$rc" 1 "a job whose channel does not fit"
st=$small/work/$job/status.json
[[ $(json_get "$st" 'd["TrainingJobStatus"]') == Failed ]] || fail "TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]')"
reason=$(json_get "$st" 'd.get("FailureReason", "")')
for want in "channel 'train'" "algo-1" "30.0 MiB" "free" "$small/work"; do
  [[ $reason == *"$want"* ]] || fail "FailureReason does not say '$want': $reason"
done
grep -qF "${reason#ClientError: }" "$tmp/train.err" || fail "the reason is not on stderr: $(cat "$tmp/train.err")"
[[ -z $(find "$small/work/$job/algo-1/input/data" -type f 2>/dev/null) ]] || fail "files were downloaded although the job was refused"
note "2. ok: $reason"
rm -rf "$small/work"

# --- 3. the disk fills during the download ---------------------------------------------------------------
note "3. the disk fills after the job's space check"
job=fill-$$-$RANDOM
make_job "$job" fits "$tmp/j3.json"
chan=$small/work/$job/algo-1/input/data/train
# The store is reached through tests/tools/fault_proxy.py holding every answer 0.25 s, and sluice
# fetches one object at a time: once 2 files are complete, the rest (at least 3 files, 6 MiB)
# cannot have arrived yet, and another file takes all but 1 MiB of the tmpfs.
python3 "$src/tests/tools/fault_proxy.py" --upstream "$AWS_ENDPOINT_URL" --port-file "$tmp/proxy.port" \
  --rate 1.0 --faults delay --delay-seconds 0.25 --max-lifetime 120 2>"$tmp/proxy.err" &
proxy_pid=$!
wait_for_file "$tmp/proxy.port" 10 || fail "the fault proxy did not start: $(cat "$tmp/proxy.err")"
AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$tmp/proxy.port") \
  "$sluice" --max-connections 1 train "$tmp/j3.json" --work-dir "$small/work" 2>"$tmp/train.err" >"$tmp/train.out" &
bg_pid=$!
python3 - "$chan" "$bg_pid" "$small/filler" <<'PY' || fail "could not fill the disk during the download"
import os, sys, time
chan, pid, filler = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        names = os.listdir(chan)
    except FileNotFoundError:
        names = []
    done = sum(1 for n in names if not n.startswith("."))
    if done >= 2:
        vfs = os.statvfs(os.path.dirname(filler))
        free = vfs.f_bavail * vfs.f_frsize
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, free - (1 << 20))
        print(f"filled {(free - (1 << 20)) >> 20} MiB with {done} files complete", file=sys.stderr)
        sys.exit(0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("sluice train ended before 2 files were downloaded")
    time.sleep(0.005)
sys.exit("2 files were not downloaded in 60 s")
PY
rc=0
wait "$bg_pid" || rc=$?
bg_pid=""
kill -TERM "$proxy_pid" 2>/dev/null || true
wait "$proxy_pid" 2>/dev/null || true
proxy_pid=""
expect_rc "$rc" 1 "a job whose disk filled during the download"
st=$small/work/$job/status.json
[[ $(json_get "$st" 'd["TrainingJobStatus"]') == Failed ]] || fail "TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]')"
reason=$(json_get "$st" 'd.get("FailureReason", "")')
for want in "channel 'train'" "No space left on device"; do
  [[ $reason == *"$want"* ]] || fail "FailureReason does not say '$want': $reason"
done
n=$(check_tree "$chan" "$tmp/fits") || fail "after the disk filled (above)"
((n >= 2 && n < 6)) || fail "$n files complete, expected 2..5: all 6 files were downloaded although the disk was full"
note "3. ok: exit 1, $n of 6 files complete, no temporary file; FailureReason: $reason"
rm -f "$small/filler"
SLUICE_LOG=info train rc "$tmp/j3.json" --work-dir "$small/work" --resume  # a Failed job: its complete files are kept
expect_rc "$rc" 0 "the same job with space again"
grep -qE "channel 'train': 6 files, .* \($n already present\)" "$tmp/train.err" ||
  { show_train_log; fail "the rerun does not say '$n already present'"; }
grep -q '^\[algo-1\] 6$' "$tmp/train.err" || { show_train_log; fail "the job does not see 6 files"; }
[[ $(check_tree "$chan" "$tmp/fits") == 6 ]] || fail "after the rerun the channel is not the 6 files"
note "3. the rerun completed ($n already present)"

echo "disk_full: ok ($((SECONDS - started)) s)"
