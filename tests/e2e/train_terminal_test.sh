#!/usr/bin/env bash
# What `sluice train` shows on the terminal (docs/train.md "What the terminal shows"):
#  1. on a terminal (script(1) gives it one), a line per status transition as it happens
#     (Starting, Downloading with what it downloaded, Training, Uploading, Completed), then the
#     summary: status, times, model artifact URI, log and status paths;
#  2. --json prints the DescribeTrainingJob-shaped record on stdout (and no summary);
#  3. a job that does not complete says why on the terminal: a command that does not exist, a
#     failure file, MaxRuntimeInSeconds, an output bucket that does not exist;
#  4. every line of a host's log file has a timestamp, and each run starts with a separator.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init terminal
command -v script >/dev/null || fail "script(1) (util-linux) is needed to give sluice a terminal"

printf 'hello\n' > "$tmp/a.txt"
"$sluice" cp -q "$tmp/a.txt" "s3://$bucket/data/a.txt"

make_job() {  # make_job NAME FILE ENTRYPOINT-JSON [MAX_RUNTIME] [OUTPUT]
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": $3},
  "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
      "S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/", "S3DataDistributionType": "FullyReplicated"}}}],
  "OutputDataConfig": {"S3OutputPath": "${5:-s3://$bucket/out}"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": ${4:-120}}
}
EOF
}

# --- 1 --------------------------------------------------------------------------------------------
note "1. transitions and summary on a terminal"
job=term-$$-$RANDOM
make_job "$job" "$tmp/j1.json" '["sh", "-c", "echo training; echo weights > /opt/ml/model/w.txt"]'
set +e
script -qefc "$(printf '%q ' "$sluice" train "$tmp/j1.json" --work-dir "$tmp/work")" /dev/null > "$tmp/tty.out" 2>&1
rc=$?
set -e
tr -d '\r' < "$tmp/tty.out" > "$tmp/tty.txt"
[[ $rc == 0 ]] || { cat "$tmp/tty.txt" >&2; fail "the job on a terminal: exit $rc"; }
python3 - "$tmp/tty.txt" "$job" "s3://$bucket/out/$job/output/model.tar.gz" "$tmp/work/$job" <<'PY' || { cat "$tmp/tty.txt" >&2; fail "what the terminal showed"; }
import re, sys
text, job, model, jobdir = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
order = [stamp + r"Starting - ", stamp + r"Downloading - Downloading input data",
         stamp + r"Downloading - Downloaded input data: 6\.0 B in 1 files in \d+\.\d s",
         stamp + r"Training - .*\(Downloading took \d+\.\d s\)", r"\[algo-1\] training",
         stamp + r"Uploading - ", stamp + r"Completed - Training job completed",
         rf"Training job '{re.escape(job)}': Completed after \d+\.\d s \(training \d+ s, billable \d+ s\)",
         rf"  Model artifacts: {re.escape(model)}\n", rf"  Logs: +{re.escape(jobdir)}/logs/\n",
         rf"  Status: +{re.escape(jobdir)}/status.json\n"]
at = 0
for pattern in order:
    m = re.compile(pattern).search(text, at)
    if not m:
        sys.exit(f"FAIL: not found after offset {at}: {pattern!r}")
    at = m.end()
PY
# Without a terminal: no transition lines, the summary all the same.
train rc "$tmp/j1.json" --work-dir "$tmp/work-2"
expect_rc "$rc" 0 "the job without a terminal"
! grep -q ' Downloading - ' "$tmp/train.err" || fail "transition lines without a terminal"
grep -q "^Training job '$job': Completed" "$tmp/train.err" || { show_train_log; fail "no summary without a terminal"; }

# --- 2 --------------------------------------------------------------------------------------------
note "2. --json"
train rc "$tmp/j1.json" --work-dir "$tmp/work-3" --json
expect_rc "$rc" 0 "--json"
python3 - "$tmp/train.out" "$job" <<'PY' || fail "--json output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["TrainingJobName"] == sys.argv[2] and d["TrainingJobStatus"] == "Completed", d
assert d["ModelArtifacts"]["S3ModelArtifacts"].endswith("/output/model.tar.gz"), d
assert d["TrainingTimeInSeconds"] >= 1 and d["BillableTimeInSeconds"] == d["TrainingTimeInSeconds"], d
assert [t["Status"] for t in d["SecondaryStatusTransitions"]] == ["Starting", "Downloading", "Training", "Uploading", "Completed"], d
assert d["AlgorithmSpecification"]["TrainingInputMode"] == "File", d
PY
! grep -q "^Training job" "$tmp/train.err" || fail "--json also printed the summary"

# --- 3 --------------------------------------------------------------------------------------------
note "3. why a job did not complete"
expect_reason() {  # expect_reason WHAT EXIT PATTERN (a grep -E pattern of the FailureReason line)
  expect_rc "$rc" "$2" "$1"
  grep -qE "^  FailureReason:   $3" "$tmp/train.err" || { show_train_log; fail "$1: the terminal does not say why"; }
  grep -q "^  Logs: " "$tmp/train.err" && grep -q "^  Status: " "$tmp/train.err" || fail "$1: no log or status path"
}
make_job "missing-$$" "$tmp/j3a.json" '["no-such-program-anywhere", "--flag"]'
train rc "$tmp/j3a.json" --work-dir "$tmp/work"
expect_reason "a command that does not exist" 1 "AlgorithmError: .*no-such-program-anywhere.*"
grep -q "^Training job 'missing-$$': Failed" "$tmp/train.err" || fail "no Failed summary line"
make_job "failfile-$$" "$tmp/j3b.json" '["sh", "-c", "echo \"ValueError: the learning rate is negative\" > /opt/ml/output/failure; exit 2"]'
train rc "$tmp/j3b.json" --work-dir "$tmp/work"
expect_reason "a failure file" 1 "ValueError: the learning rate is negative"
make_job "slow-$$" "$tmp/j3c.json" '["sleep", "30"]' 1
train rc "$tmp/j3c.json" --work-dir "$tmp/work" --stop-grace 1
expect_reason "MaxRuntimeInSeconds" 124 "MaxRuntimeExceeded: the job ran past MaxRuntimeInSeconds \(1 s\)"
grep -q "^Training job 'slow-$$': Stopped (MaxRuntimeExceeded)" "$tmp/train.err" || { show_train_log; fail "the summary does not say Stopped (MaxRuntimeExceeded)"; }
make_job "nobucket-$$" "$tmp/j3d.json" '["sh", "-c", "echo m > /opt/ml/model/m.txt"]' 120 "s3://no-such-bucket-$$-$RANDOM/out"
train rc "$tmp/j3d.json" --work-dir "$tmp/work"
expect_reason "an output bucket that does not exist" 1 "ClientError: .*(NoSuchBucket|does not exist).*"

# --- 4 --------------------------------------------------------------------------------------------
note "4. the log file"
log=$tmp/work/$job/logs/algo-1.log
grep -qE '^===== [0-9T:.+-]+ sluice train: first run of training job' "$log" || { cat "$log" >&2; fail "no run separator in the log"; }
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z? \[algo-1\] training$' "$log" || { cat "$log" >&2; fail "log lines have no timestamp"; }
echo "train_terminal: ok"
