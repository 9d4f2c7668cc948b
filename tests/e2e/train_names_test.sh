#!/usr/bin/env bash
# `sluice train` and job names (docs/train.md "Job names"): a name is a job, as in SageMaker.
#  1. a second run of a Completed job's name is refused (exit 2, ResourceInUse, naming the job and
#     its status) and changes nothing;
#  2. --replace starts from a clean directory: a spec narrowed to one object sees only that object
#     (not the three of the first run), the model directory starts empty and the uploaded
#     model.tar.gz holds nothing of the first run; the log has only the new run;
#  3. --resume of a Failed job with the same spec: its verified inputs are kept ("already present"),
#     an object deleted from the prefix since is gone from the channel, its checkpoints are there,
#     model/ and output/ start empty (the failed run's model is not uploaded), the log has a
#     separator per run;
#  4. --resume is refused for a Completed job, for another spec (naming the field), and for a
#     job that never ran (exit 3).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init names

for i in 1 2 3; do
  printf 'object %s\n' "$i" > "$tmp/o$i.txt"
  "$sluice" cp -q "$tmp/o$i.txt" "s3://$bucket/data/o$i.txt"
done

# The command records what it finds, then does what the "mode" hyperparameter says (so the spec of a
# resumed run is the same): tests/e2e/scripts/rerun_probe.py.
make_job() {  # make_job NAME FILE S3URI MODE
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": ["python3", "$scripts/rerun_probe.py"]},
  "HyperParameters": {"mode": "$4"},
  "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
      "S3DataType": "S3Prefix", "S3Uri": "$3", "S3DataDistributionType": "FullyReplicated"}}}],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "CheckpointConfig": {"S3Uri": "s3://$bucket/ckpt/$1/"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 120}
}
EOF
}
model_has() {  # model_has JOB: the names in the uploaded model.tar.gz, one per line
  "$sluice" cp -q "s3://$bucket/out/$1/output/model.tar.gz" "$tmp/m.tar.gz"
  tar -tzf "$tmp/m.tar.gz" | sed 's|^\./||' | grep -v '^$' | sort
}
seen() { json_get "$tmp/work/$1/algo-1/model/seen.json" "$2"; }

# --- 1 --------------------------------------------------------------------------------------------
note "1. a duplicate name is refused"
job=names-$$-$RANDOM
make_job "$job" "$tmp/j1.json" "s3://$bucket/data/" first
train rc "$tmp/j1.json" --work-dir "$tmp/work"
expect_rc "$rc" 0 "run 1"
[[ $(seen "$job" 'd["train"]') == '["o1.txt", "o2.txt", "o3.txt"]' ]] || fail "run 1 saw $(seen "$job" 'd["train"]')"
before=$(stat -c '%Y %s' "$tmp/work/$job/status.json")
sleep 1
train rc "$tmp/j1.json" --work-dir "$tmp/work"
expect_rc "$rc" 2 "a second run of the name"
grep -q "ResourceInUse: training job '$job' already exists (Completed, in $tmp/work/$job)" "$tmp/train.err" \
  || { show_train_log; fail "the refusal does not name the job and its status"; }
grep -q -- "--replace" "$tmp/train.err" && grep -q -- "--resume" "$tmp/train.err" || fail "the refusal does not say what to do"
[[ $(stat -c '%Y %s' "$tmp/work/$job/status.json") == "$before" ]] || fail "the refused run changed status.json"

# --- 2 --------------------------------------------------------------------------------------------
note "2. --replace starts clean"
make_job "$job" "$tmp/j2.json" "s3://$bucket/data/o2.txt" second
train rc "$tmp/j2.json" --work-dir "$tmp/work" --replace
expect_rc "$rc" 0 "--replace"
[[ $(seen "$job" 'd["train"]') == '["o2.txt"]' ]] || fail "--replace: the channel held $(seen "$job" 'd["train"]'), a stale input"
[[ $(seen "$job" 'd["model_at_start"]') == '[]' ]] || fail "--replace: the model directory started with $(seen "$job" 'd["model_at_start"]')"
[[ $(model_has "$job") == seen.json ]] || fail "--replace: model.tar.gz holds $(model_has "$job" | tr '\n' ' ')"
[[ $(grep -c '^===== .* sluice train: ' "$tmp/work/$job/logs/algo-1.log") == 1 ]] || fail "--replace kept the old log"
grep -q "new (replacing the previous) run" "$tmp/work/$job/logs/algo-1.log" || fail "the log does not say the run replaced one"

# --- 3 --------------------------------------------------------------------------------------------
note "3. --resume of a Failed job"
job=resume-$$-$RANDOM
make_job "$job" "$tmp/j3.json" "s3://$bucket/data/" fail-once
train rc "$tmp/j3.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "run 1 fails after a checkpoint"
[[ $(json_get "$tmp/work/$job/status.json" 'd["TrainingJobStatus"]') == Failed ]] || fail "run 1 is not Failed"
"$sluice" rm "s3://$bucket/data/o3.txt" >/dev/null
train rc "$tmp/j3.json" --work-dir "$tmp/work"
expect_rc "$rc" 2 "a plain rerun of a Failed job"
grep -q "already exists (Failed" "$tmp/train.err" || { show_train_log; fail "the refusal does not say Failed"; }
SLUICE_LOG=info train rc "$tmp/j3.json" --work-dir "$tmp/work" --resume
expect_rc "$rc" 0 "--resume"
[[ $(seen "$job" 'd["train"]') == '["o1.txt", "o2.txt"]' ]] || fail "--resume: the channel held $(seen "$job" 'd["train"]') (o3 was deleted)"
grep -qE "channel 'train': 2 files, .* \(2 already present\)" "$tmp/train.err" || { show_train_log; fail "--resume fetched kept inputs again"; }
grep -q "removed 1 files an earlier run left" "$tmp/train.err" || { show_train_log; fail "--resume did not say it pruned o3"; }
[[ $(seen "$job" 'd["checkpoints"]') == *ckpt-1* ]] || fail "--resume: no checkpoint ($(seen "$job" 'd["checkpoints"]'))"
[[ $(seen "$job" 'd["model_at_start"]') == '[]' ]] || fail "--resume: the model directory started with $(seen "$job" 'd["model_at_start"]')"
[[ $(model_has "$job") == seen.json ]] || fail "--resume: model.tar.gz holds $(model_has "$job" | tr '\n' ' ')"
[[ $(grep -c '^===== .* sluice train: ' "$tmp/work/$job/logs/algo-1.log") == 2 ]] || fail "the log has not one separator per run"
grep -q "resumed run" "$tmp/work/$job/logs/algo-1.log" && grep -q "failing after a checkpoint" "$tmp/work/$job/logs/algo-1.log" \
  || fail "the log of a resumed job lost the first run or does not say it resumed"

# --- 4 --------------------------------------------------------------------------------------------
note "4. what --resume refuses"
train rc "$tmp/j3.json" --work-dir "$tmp/work" --resume
expect_rc "$rc" 2 "--resume of a Completed job"
grep -q "Completed; only a Stopped or Failed job is resumed" "$tmp/train.err" || { show_train_log; fail "--resume of a Completed job: message"; }
job2=resume2-$$-$RANDOM
make_job "$job2" "$tmp/j4.json" "s3://$bucket/data/" fail-once
train rc "$tmp/j4.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "job 4 run 1"
make_job "$job2" "$tmp/j4b.json" "s3://$bucket/data/o1.txt" fail-once
train rc "$tmp/j4b.json" --work-dir "$tmp/work" --resume
expect_rc "$rc" 2 "--resume with another spec"
grep -q "the job spec differs from the one training job '$job2' ran with (in InputDataConfig)" "$tmp/train.err" \
  || { show_train_log; fail "--resume with another spec: message"; }
make_job "never-$$" "$tmp/j4c.json" "s3://$bucket/data/" first
train rc "$tmp/j4c.json" --work-dir "$tmp/work" --resume
expect_rc "$rc" 3 "--resume of a job that never ran"
train rc "$tmp/j4c.json" --work-dir "$tmp/work" --resume --replace
expect_rc "$rc" 2 "--resume with --replace"
echo "train_names: ok"
