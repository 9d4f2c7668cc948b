#!/usr/bin/env bash
# `sluice train` end to end, what a job leaves behind (tests/e2e/scripts/checkpointer.py):
#  1. CheckpointConfig: an object already under the checkpoint URI is restored before the script
#     starts; a file closed during training is uploaded while the job still runs; at the end the
#     objects under the URI are exactly the files left in /opt/ml/checkpoints, with their final
#     bytes (deleted, restored-then-deleted, short-lived and rewritten files; a .tmp renamed);
#  2. a second job with the same checkpoint URI starts with the first job's checkpoints, and
#     OutputDataConfig.CompressionType NONE uploads the model and output data uncompressed under
#     <S3OutputPath>/<job>/output/model/ and .../output/data/;
#  3. file:// as S3OutputPath and as the checkpoint URI (local mode).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init outputs

make_job() {  # make_job NAME FILE PHASE OUTPUT-PATH CHECKPOINT-URI [OUTPUT-COMPRESSION]
  local compression=''
  [[ -z ${6:-} ]] || compression=", \"CompressionType\": \"$6\""
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
                             "ContainerEntrypoint": ["python3", "$scripts/checkpointer.py", "$3"]},
  "OutputDataConfig": {"S3OutputPath": "$4"$compression},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 120},
  "CheckpointConfig": {"S3Uri": "$5"}
}
EOF
}
# objects BUCKET-URI DIR: downloads every object under the prefix into DIR (empty when none)
objects() {
  mkdir -p "$2"
  "$sluice" cp -q -r "$1" "$2" 2>/dev/null || true
}
listing() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' '); }

ck=s3://$bucket/ckpt/run/
rand_file "$tmp/stale.bin" 500
"$sluice" cp -q "$tmp/stale.bin" "${ck}stale.bin"
# A neighbour that shares the prefix's bytes but not its directory: never restored, never deleted.
"$sluice" cp -q "$tmp/stale.bin" "s3://$bucket/ckpt/run-other/keep.bin"

# --- 1. job 1 ----------------------------------------------------------------------------------
note "1. checkpoints of job 1"
job1=ckpt-one-$$-$RANDOM
make_job "$job1" "$tmp/j1.json" first "s3://$bucket/out/" "$ck"
"$sluice" train "$tmp/j1.json" --work-dir "$tmp/work" 2>"$tmp/train.err" &
pid=$!
host=$tmp/work/$job1/algo-1
wait_for_file "$host/code/wrote-early" 30 || { kill -KILL "$pid"; show_train_log; fail "the job never wrote early.bin"; }
uploaded_early=0
for _ in $(seq 100); do
  if "$sluice" cp -q "${ck}early.bin" "$tmp/early.bin" 2>/dev/null; then uploaded_early=1; break; fi
  sleep 0.1
done
touch "$host/code/go"
set +e; wait "$pid"; rc=$?; set -e
expect_rc "$rc" 0 "job 1"
((uploaded_early)) || fail "early.bin was not uploaded within 10 s while the job ran"
cmp -s "$tmp/early.bin" <(python3 -c "
import hashlib; job='$job1'; out=b''; i=0
while len(out) < 1234: out += hashlib.sha256(f'{job}/early/{i}'.encode()).digest(); i += 1
import sys; sys.stdout.buffer.write(out[:1234])") || fail "the early upload has other bytes than the file"
[[ $(python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))))' "$host/model/seen-at-start.json") == "['stale.bin']" ]] \
  || fail "job 1 did not start with the existing checkpoint: $(cat "$host/model/seen-at-start.json")"
[[ $(json_get "$host/model/seen-at-start.json" 'd["stale.bin"]') == $(sha256sum < "$tmp/stale.bin" | cut -d' ' -f1) ]] \
  || fail "the restored checkpoint has other bytes"
[[ $(listing "$host/checkpoints") == "ckpt-1.bin ckpt-4.bin sub/ckpt-2.bin " ]] \
  || fail "test setup: job 1 left $(listing "$host/checkpoints")"
objects "$ck" "$tmp/ck1"
[[ $(listing "$tmp/ck1") == "ckpt-1.bin ckpt-4.bin sub/ckpt-2.bin " ]] \
  || fail "objects under the checkpoint URI after job 1: $(listing "$tmp/ck1") (want ckpt-1.bin ckpt-4.bin sub/ckpt-2.bin)"
diff -r "$host/checkpoints" "$tmp/ck1" || fail "checkpoint objects differ from the files left by job 1"
"$sluice" cp -q "s3://$bucket/ckpt/run-other/keep.bin" "$tmp/keep.bin" || fail "a neighbouring prefix lost its object"

# --- 2. job 2: resumes from job 1's checkpoints; CompressionType NONE ----------------------------
note "2. job 2 resumes; uncompressed outputs"
job2=ckpt-two-$$-$RANDOM
make_job "$job2" "$tmp/j2.json" next "s3://$bucket/out2" "$ck" NONE
train rc "$tmp/j2.json" --work-dir "$tmp/work"
expect_rc "$rc" 0 "job 2"
host2=$tmp/work/$job2/algo-1
python3 - "$host2/model/seen-at-start.json" "$host/checkpoints" <<'PY' || fail "job 2 did not start with job 1's checkpoints"
import hashlib, json, os, sys
seen = json.load(open(sys.argv[1]))
root = sys.argv[2]
want = {}
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        want[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
if seen != want:
    print(f"job 2 saw {sorted(seen)}, job 1 left {sorted(want)} (or other bytes)", file=sys.stderr)
    sys.exit(1)
PY
objects "$ck" "$tmp/ck2"
[[ $(listing "$tmp/ck2") == "ckpt-1.bin ckpt-4.bin ckpt-5.bin sub/ckpt-2.bin " ]] \
  || fail "objects under the checkpoint URI after job 2: $(listing "$tmp/ck2")"
diff -r "$host2/checkpoints" "$tmp/ck2" || fail "checkpoint objects differ from the files left by job 2"
# Uncompressed outputs.
objects "s3://$bucket/out2/$job2/output/" "$tmp/out2"
[[ $(listing "$tmp/out2") == "data/out.txt model/model.bin model/seen-at-start.json model/sub/extra.txt " ]] \
  || fail "objects under out2/$job2/output/ with CompressionType NONE: $(listing "$tmp/out2")"
diff -r "$host2/model" "$tmp/out2/model" || fail "uncompressed model objects differ from /opt/ml/model"
diff -r "$host2/output/data" "$tmp/out2/data" || fail "uncompressed output objects differ from /opt/ml/output/data"
[[ $(json_get "$host2/../status.json" 'd["ModelArtifacts"]["S3ModelArtifacts"]') == "s3://$bucket/out2/$job2/output/model/" ]] \
  || fail "S3ModelArtifacts with CompressionType NONE: $(json_get "$host2/../status.json" 'd.get("ModelArtifacts")')"
[[ $(json_get "$host2/../status.json" 'd["TrainingJobStatus"]') == Completed ]] || fail "job 2 not Completed"

# --- 3. file:// output path and checkpoint URI --------------------------------------------------
note "3. file:// outputs and checkpoints"
job3=local-out-$$-$RANDOM
mkdir -p "$tmp/localout" "$tmp/localck"
rand_file "$tmp/localck/restored.bin" 321
make_job "$job3" "$tmp/j3.json" next "file://$tmp/localout" "file://$tmp/localck/"
train rc "$tmp/j3.json" --work-dir "$tmp/work"
expect_rc "$rc" 0 "job 3 (file:// output and checkpoints)"
host3=$tmp/work/$job3/algo-1
[[ $(json_get "$host3/model/seen-at-start.json" 'sorted(d)') == '["restored.bin"]' ]] \
  || fail "file:// checkpoints were not restored: $(cat "$host3/model/seen-at-start.json")"
[[ $(listing "$tmp/localck") == "ckpt-5.bin restored.bin " ]] || fail "file:// checkpoint directory after the job: $(listing "$tmp/localck")"
cmp "$host3/checkpoints/ckpt-5.bin" "$tmp/localck/ckpt-5.bin" || fail "file:// checkpoint has other bytes"
[[ $(listing "$tmp/localout") == "$job3/output/model.tar.gz $job3/output/output.tar.gz " ]] \
  || fail "file:// output path holds: $(listing "$tmp/localout")"
mkdir "$tmp/m3" "$tmp/o3"
tar -xzf "$tmp/localout/$job3/output/model.tar.gz" -C "$tmp/m3"
tar -xzf "$tmp/localout/$job3/output/output.tar.gz" -C "$tmp/o3"
diff -r "$host3/model" "$tmp/m3" || fail "file:// model.tar.gz differs from /opt/ml/model"
diff -r "$host3/output/data" "$tmp/o3" || fail "file:// output.tar.gz differs from /opt/ml/output/data"
[[ $(json_get "$tmp/work/$job3/status.json" 'd["ModelArtifacts"]["S3ModelArtifacts"]') == "file://$tmp/localout/$job3/output/model.tar.gz" ]] \
  || fail "S3ModelArtifacts for a file:// output: $(json_get "$tmp/work/$job3/status.json" 'd.get("ModelArtifacts")')"
echo "train_outputs: ok"
