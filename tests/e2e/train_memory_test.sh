#!/usr/bin/env bash
# `sluice train --max-memory`: the FastFile and Pipe channels of one job fetch ahead within ONE
# memory budget (transfer/memory_budget.hpp, docs/architecture.md), not one each.
#  1. A job with a FastFile channel (24 objects of 8 MiB) and a Pipe channel (24 objects of 8 MiB),
#     read at the same time by tests/e2e/scripts/memory_reader.py, under `--max-memory 64M`:
#     every byte arrives (sha256 of each file and of the Pipe stream, computed here from the
#     source), and the peak RSS of the `sluice train` process (VmHWM, sampled while it runs) stays
#     within the budget + 64 MiB (the process itself, libraries, FUSE and curl buffers); not
#     checked for a binary built with a sanitizer (ASan's shadow memory is not Sluice's).
#  2. The same job with the default budget (1/8 of RAM): peak RSS is reported beside it, to show
#     what the budget holds back (the test only requires that job to complete: how far read-ahead
#     runs without a limit depends on the machine).
#  3. `--max-memory` with a value that is not a size: exit 2, the message names the option and the
#     value, and no job directory is made.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init memory
t_start=$(date +%s)

command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (FUSE 3) on this machine" >&2; exit 77; }
[[ -c /dev/fuse ]] || { echo "SKIP: no /dev/fuse on this machine" >&2; exit 77; }

bg_pid=""
memory_cleanup() {
  local rc=$? m
  set +e
  [[ -n $bg_pid ]] && kill -KILL "$bg_pid" 2>/dev/null && wait "$bg_pid" 2>/dev/null
  for m in $(awk -v t="$tmp/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r); do
    fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  (exit "$rc")
  e2e_cleanup
}
trap memory_cleanup EXIT

MiB=1048576
for i in $(seq -w 0 23); do
  rand_file "$tmp/src/ff/part-$i.bin" $((8 * MiB))
  rand_file "$tmp/src/pp/part-$i.bin" $((8 * MiB))
done
"$sluice" cp -q -r "$tmp/src" "s3://$bucket/data" || fail "upload failed"

make_job() {  # make_job NAME FILE
  cat > "$2" <<JSON
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
                             "ContainerEntrypoint": ["python3", "$scripts/memory_reader.py"]},
  "InputDataConfig": [
    {"ChannelName": "ff", "InputMode": "FastFile",
     "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/ff/"}}},
    {"ChannelName": "pp", "InputMode": "Pipe",
     "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/pp/"}}}],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 300}
}
JSON
}

# run_sampled JOB ARGS...: runs `sluice train` in the background and samples its VmHWM (KiB) every
# 50 ms; sets $rc and $peak_kib.
run_sampled() {
  local job=$1 line
  shift
  "$sluice" train "$job" "$@" 2>"$tmp/train.err" >"$tmp/train.out" &
  bg_pid=$!
  peak_kib=0
  while kill -0 "$bg_pid" 2>/dev/null; do
    line=$(grep '^VmHWM:' "/proc/$bg_pid/status" 2>/dev/null || true)
    if [[ $line =~ ([0-9]+) ]] && ((BASH_REMATCH[1] > peak_kib)); then peak_kib=${BASH_REMATCH[1]}; fi
    sleep 0.05
  done
  set +e
  wait "$bg_pid"
  rc=$?
  set -e
  bg_pid=""
}

check_read() {  # check_read REPORT WHAT
  python3 - "$tmp/src" "$1" <<'PY' || fail "$2: what the job read differs from the source (above)"
import hashlib, json, os, sys
src, report = sys.argv[1:]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
rep = json.load(open(report))
want_ff = {n: sha(os.path.join(src, "ff", n)) for n in os.listdir(os.path.join(src, "ff"))}
h, n = hashlib.sha256(), 0
for name in sorted(os.listdir(os.path.join(src, "pp"))):
    b = open(os.path.join(src, "pp", name), "rb").read()
    h.update(b); n += len(b)
ok = True
if rep["fastfile"] != want_ff:
    print(f"FastFile: {len(rep['fastfile'])} files read, {len(want_ff)} in the source; differing: "
          f"{sorted(k for k in want_ff if rep['fastfile'].get(k) != want_ff[k])[:5]}", file=sys.stderr)
    ok = False
if (rep["pipe"], rep["pipe_bytes"]) != (h.hexdigest(), n):
    print(f"Pipe: {rep['pipe_bytes']} bytes read, {n} in the source; sha256 {rep['pipe']} vs {h.hexdigest()}",
          file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
}

# --- 1. --max-memory 64M --------------------------------------------------------------------------
note "1: FastFile + Pipe under --max-memory 64M"
make_job mem-64m "$tmp/job1.json"
run_sampled "$tmp/job1.json" --work-dir "$tmp/work" --max-memory 64M
expect_rc "$rc" 0 "1: job under --max-memory 64M"
check_read "$tmp/work/mem-64m/algo-1/model/read.json" "1"
limit_kib=$(((64 + 64) * 1024))
echo "1: peak RSS of sluice train under --max-memory 64M: $((peak_kib / 1024)) MiB (limit $((limit_kib / 1024)) MiB)" >&2
((peak_kib > 0)) || fail "1: VmHWM of sluice train was never read"
if [[ -n ${ASAN_OPTIONS:-}${TSAN_OPTIONS:-} ]] || LC_ALL=C grep -q -a -e __asan_init -e __tsan_init "$sluice"; then
  # A sanitizer's shadow memory and quarantine are not Sluice's: the bound means nothing there.
  note "1: $sluice is built with a sanitizer: peak RSS not checked against the budget"
elif ((peak_kib > limit_kib)); then
  show_train_log
  fail "1: peak RSS $((peak_kib / 1024)) MiB > budget + 64 MiB"
fi

# --- 2. the default budget --------------------------------------------------------------------------
note "2: the same job with the default budget"
make_job mem-default "$tmp/job2.json"
run_sampled "$tmp/job2.json" --work-dir "$tmp/work"
expect_rc "$rc" 0 "2: job with the default budget"
check_read "$tmp/work/mem-default/algo-1/model/read.json" "2"
echo "2: peak RSS of sluice train with the default budget: $((peak_kib / 1024)) MiB" >&2

# --- 3. a value that is not a size ----------------------------------------------------------------
note "3: --max-memory 64Q"
make_job mem-bad "$tmp/job3.json"
train rc "$tmp/job3.json" --work-dir "$tmp/work" --max-memory 64Q
expect_rc "$rc" 2 "3: --max-memory 64Q"
grep -q -- "--max-memory 64Q" "$tmp/train.err" || { show_train_log; fail "3: the message does not name --max-memory 64Q"; }
[[ ! -e $tmp/work/mem-bad ]] || fail "3: a job directory was made for a refused option"

echo "train_memory_test: all passed in $(($(date +%s) - t_start)) s" >&2
