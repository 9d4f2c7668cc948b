#!/usr/bin/env bash
# `sluice train` end to end, jobs that do not complete:
#  1. the script writes /opt/ml/output/failure and exits 3: exit 1, Failed, FailureReason = the text;
#     a 3000-character failure file gives its first 1024 characters; no failure file: Sluice's reason;
#     a 2-host job where only algo-2 fails is Failed with algo-2's text;
#  2. MaxRuntimeInSeconds 2, a script that ignores SIGTERM, --stop-grace 1: SIGTERM at 2 s, SIGKILL
#     at 3 s, exit 124, Stopped/MaxRuntimeExceeded, no process of the job left, the intermediate
#     model uploaded;
#  3. an invalid spec with 4 problems: exit 2, every problem with its JSON path on stderr, nothing
#     downloaded (no job directory at all);
#  4. SIGINT to `sluice train` during training: exit 130, Stopped, no process of the job left;
#  5. a failure file of multi-byte characters: FailureReason is its first 1024 characters (valid
#     UTF-8, not 1024 bytes);
#  6. a failure file that is not UTF-8: the job is still Failed and status.json stays valid JSON.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init failure

make_job() {  # make_job NAME FILE MAX_RUNTIME ENTRYPOINT-JSON-ARRAY
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": $4},
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": $3}
}
EOF
}
status_of() { echo "$tmp/work/$1/status.json"; }

# --- 1. exit 3 with a failure file ---------------------------------------------------------------
note "1. a script that exits 3"
job=fail-$$-$RANDOM
make_job "$job" "$tmp/j1.json" 60 \
  '["sh", "-c", "printf \"ValueError: bad learning rate\\nsecond line\" > /opt/ml/output/failure; echo failing; exit 3"]'
train rc "$tmp/j1.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a job whose script exits 3"
st=$(status_of "$job")
[[ $(json_get "$st" 'd["TrainingJobStatus"]') == Failed ]] || fail "TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]')"
[[ $(json_get "$st" 'd["SecondaryStatus"]') == Failed ]] || fail "SecondaryStatus $(json_get "$st" 'd["SecondaryStatus"]')"
[[ $(json_get "$st" 'd["FailureReason"]') == $'ValueError: bad learning rate\nsecond line' ]] \
  || fail "FailureReason $(json_get "$st" 'repr(d.get("FailureReason"))'), expected the failure file's text"
[[ $(json_get "$st" '[t["Status"] for t in d["SecondaryStatusTransitions"]]') == '["Starting", "Downloading", "Training", "Failed"]' ]] \
  || fail "transitions of a failed job: $(json_get "$st" '[t["Status"] for t in d["SecondaryStatusTransitions"]]')"
grep -q '^\[algo-1\] failing$' "$tmp/train.err" || fail "the failed script's output is not in the log"
# docs/train.md: nothing is uploaded after a failed job.
! "$sluice" cp -q "s3://$bucket/out/$job/output/model.tar.gz" "$tmp/m1.tar.gz" 2>/dev/null \
  || fail "a failed job uploaded model.tar.gz"

note "1b. a 3000-character failure file"
job=fail-long-$$-$RANDOM
make_job "$job" "$tmp/j1b.json" 60 \
  '["python3", "-c", "import string,sys; t=\"\".join(string.ascii_letters[i % 52] + (\"\\n\" if i % 97 == 96 else \"\") for i in range(3000)); open(\"/opt/ml/output/failure\",\"w\").write(t); sys.exit(3)"]'
train rc "$tmp/j1b.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a job with a long failure file"
python3 - "$(status_of "$job")" "$tmp/work/$job/algo-1/output/failure" <<'PY' || fail "long FailureReason"
import json, sys
st = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert len(text) > 3000, len(text)
got = st.get("FailureReason")
if got != text[:1024]:
    print(f"FailureReason has {len(got or '')} characters, starts {got[:40]!r}; want the first 1024 of {len(text)}", file=sys.stderr)
    sys.exit(1)
PY

note "1c. exit 3 without a failure file"
job=fail-plain-$$-$RANDOM
make_job "$job" "$tmp/j1c.json" 60 '["sh", "-c", "exit 3"]'
train rc "$tmp/j1c.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a job whose script exits 3 without a failure file"
reason=$(json_get "$(status_of "$job")" 'd.get("FailureReason", "")')
[[ $reason == *3* && ${#reason} -gt 5 ]] || fail "FailureReason without a failure file: '$reason' (should give the exit code)"
[[ $(json_get "$(status_of "$job")" 'd["TrainingJobStatus"]') == Failed ]] || fail "not Failed"

note "1d. 2 hosts, only algo-2 fails"
job=fail-two-$$-$RANDOM
# shellcheck disable=SC2016  # $SM_CURRENT_HOST is expanded by the job's shell
make_job "$job" "$tmp/j1d.json" 60 \
  '["sh", "-c", "if [ \"$SM_CURRENT_HOST\" = algo-2 ]; then echo algo-2 broke > /opt/ml/output/failure; exit 3; fi"]'
sed -i 's/"InstanceCount": 1/"InstanceCount": 2/' "$tmp/j1d.json"
train rc "$tmp/j1d.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a 2-host job whose algo-2 exits 3"
[[ $(json_get "$(status_of "$job")" 'd["TrainingJobStatus"]') == Failed ]] || fail "a job with one failed host is not Failed"
[[ $(json_get "$(status_of "$job")" 'd.get("FailureReason")') == "algo-2 broke" ]] \
  || fail "FailureReason of a job whose algo-2 failed: $(json_get "$(status_of "$job")" 'repr(d.get("FailureReason"))')"

# --- 2. MaxRuntimeInSeconds with a script that ignores SIGTERM --------------------------------------
note "2. MaxRuntimeInSeconds 2, SIGTERM ignored, --stop-grace 1"
job=timeout-$$-$RANDOM
token=e2e-timeout-token-$$-$RANDOM
make_job "$job" "$tmp/j2.json" 2 "[\"python3\", \"$scripts/long_running.py\", \"stubborn\", \"$token\"]"
t0=$(date +%s%N)
"$sluice" train "$tmp/j2.json" --work-dir "$tmp/work" --stop-grace 1 2>"$tmp/train.err" &
pid=$!
seen=0
for _ in $(seq 100); do
  n=$(pids_with_token "$token" | wc -l)
  ((n >= 2)) && { seen=1; break; }
  sleep 0.1
done
set +e; wait "$pid"; rc=$?; set -e
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
note "stopped after ${elapsed_ms} ms (whole sluice train)"
((seen)) || { show_train_log; fail "never saw the script and its child running (token $token)"; }
expect_rc "$rc" 124 "a job past MaxRuntimeInSeconds"
left=$(pids_with_token "$token")
[[ -z $left ]] || fail "processes of the stopped job are still running: $left"
st=$(status_of "$job")
[[ $(json_get "$st" 'd["TrainingJobStatus"]') == Stopped ]] || fail "TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]')"
[[ $(json_get "$st" 'd["SecondaryStatus"]') == MaxRuntimeExceeded ]] || fail "SecondaryStatus $(json_get "$st" 'd["SecondaryStatus"]')"
[[ $(json_get "$st" 'd.get("FailureReason", "")') == *MaxRuntimeExceeded* ]] || fail "FailureReason $(json_get "$st" 'd.get("FailureReason")')"
python3 - "$st" <<'PY' || fail "timing of the stop"
import datetime, json, sys
st = json.load(open(sys.argv[1]))
tr = {t["Status"]: t for t in st["SecondaryStatusTransitions"]}
t = lambda s: datetime.datetime.fromisoformat(s).timestamp()
ran = t(tr["MaxRuntimeExceeded"]["StartTime"]) - t(tr["Training"]["StartTime"])
training = t(tr["Training"]["EndTime"]) - t(tr["Training"]["StartTime"])
print(f"training phase {training:.2f} s, until MaxRuntimeExceeded {ran:.2f} s")
# SIGTERM at 2 s, SIGKILL 1 s later: about 3 s; never before 2 s, and well within ~4 s.
assert 2.0 <= training <= 4.5, f"the training phase lasted {training:.2f} s (MaxRuntimeInSeconds 2, grace 1)"
PY
((elapsed_ms < 15000)) || fail "sluice train took ${elapsed_ms} ms for a 2 s job with 1 s grace"
# The script saw SIGTERM (then ignored it) and its intermediate model was uploaded (SageMaker saves it).
"$sluice" cp -q "s3://$bucket/out/$job/output/model.tar.gz" "$tmp/m2.tar.gz" || fail "no model.tar.gz after MaxRuntimeExceeded"
mkdir "$tmp/m2" && tar -xzf "$tmp/m2.tar.gz" -C "$tmp/m2"
grep -q "intermediate model of $job" "$tmp/m2/partial.txt" || fail "the intermediate model is not in model.tar.gz"
# sigterm.txt: one line "SIGTERM after X s", X counted from the script's start (which is a little,
# or on a loaded machine somewhat, after the command's start, hence the low bound).
python3 - "$tmp/m2/sigterm.txt" <<'PY' || fail "SIGTERM was not delivered once, at about 2 s"
import sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
at = float(lines[0].split()[2])
assert 0.5 <= at <= 2.6, f"SIGTERM after {at} s of the script (MaxRuntimeInSeconds 2)"
PY

# --- 3. an invalid spec: every problem, nothing downloaded ------------------------------------------
note "3. an invalid spec"
rand_file "$tmp/data/d1.bin" 1000
"$sluice" cp -q "$tmp/data/d1.bin" "s3://$bucket/data/d1.bin"
cat > "$tmp/j3.json" <<EOF
{
  "TrainingJobName": "bad_name!",
  "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": ["sh", "-c", "touch /opt/ml/model/ran"]},
  "Hyperparameters": {"epochs": "3"},
  "InputDataConfig": [
    {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/"}}},
    {"ChannelName": "val", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s4://$bucket/data/"}}}
  ],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"}
}
EOF
mkdir -p "$tmp/work3"
train rc "$tmp/j3.json" --work-dir "$tmp/work3"
expect_rc "$rc" 2 "an invalid spec"
err=$(cat "$tmp/train.err")
for path in 'TrainingJobName' 'Hyperparameters' 'RoleArn' 'InputDataConfig[1].DataSource.S3DataSource.S3Uri'; do
  grep -qF -- "$path:" "$tmp/train.err" || fail "stderr does not name '$path': $err"
done
grep -q "4 problems" "$tmp/train.err" || fail "stderr does not count the 4 problems: $err"
grep -q "HyperParameters" "$tmp/train.err" || fail "no suggestion 'HyperParameters' for the unknown field: $err"
[[ $(grep -cF 'InputDataConfig[0]' "$tmp/train.err") == 0 ]] || fail "the valid channel is reported: $err"
[[ -z $(find "$tmp/work3" -mindepth 1 -print -quit) ]] || fail "an invalid spec left files: $(find "$tmp/work3")"
note "3b. one problem only, with a valid name: still no job directory"
job=invalid-$$-$RANDOM
python3 - "$tmp/j3.json" "$tmp/j3b.json" "$job" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["TrainingJobName"] = sys.argv[3]
d["RoleArn"] = "arn:aws:iam::123456789012:role/SluiceE2E"
d["HyperParameters"] = d.pop("Hyperparameters")
json.dump(d, open(sys.argv[2], "w"))
PY
train rc "$tmp/j3b.json" --work-dir "$tmp/work3"
expect_rc "$rc" 2 "a spec whose only problem is one S3Uri"
grep -qF 'InputDataConfig[1].DataSource.S3DataSource.S3Uri:' "$tmp/train.err" || fail "the S3Uri problem is not named: $(cat "$tmp/train.err")"
[[ ! -e $tmp/work3/$job/algo-1/input/data/train/d1.bin ]] || fail "the valid channel was downloaded before the spec was refused"
[[ ! -e $tmp/work3/$job/status.json ]] || [[ $(json_get "$tmp/work3/$job/status.json" 'd["TrainingJobStatus"]') != Completed ]] \
  || fail "an invalid spec is Completed"
[[ -z $(find "$tmp/work3" -mindepth 1 -print -quit) ]] || fail "an invalid spec left files: $(find "$tmp/work3")"

# --- 4. SIGINT to sluice train ----------------------------------------------------------------------
note "4. SIGINT during training"
job=sigint-$$-$RANDOM
token=e2e-sigint-token-$$-$RANDOM
make_job "$job" "$tmp/j4.json" 300 "[\"python3\", \"$scripts/long_running.py\", \"polite\", \"$token\"]"
"$sluice" train "$tmp/j4.json" --work-dir "$tmp/work" --stop-grace 2 2>"$tmp/train.err" &
pid=$!
wait_for_file "$tmp/work/$job/algo-1/code/started" 30 || { kill -KILL "$pid"; show_train_log; fail "the job never started"; }
[[ $(pids_with_token "$token" | wc -l) -ge 2 ]] || { kill -KILL "$pid"; fail "the script and its child are not running"; }
t0=$(date +%s%N)
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
note "stopped ${elapsed_ms} ms after SIGINT"
expect_rc "$rc" 130 "sluice train interrupted with SIGINT"
left=$(pids_with_token "$token")
[[ -z $left ]] || fail "processes of the interrupted job are still running: $left"
((elapsed_ms < 10000)) || fail "the job took ${elapsed_ms} ms to stop after SIGINT (grace 2 s)"
st=$(status_of "$job")
[[ $(json_get "$st" 'd["TrainingJobStatus"]') == Stopped ]] || fail "TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]')"
[[ $(json_get "$st" 'd["SecondaryStatus"]') == Stopped ]] || fail "SecondaryStatus $(json_get "$st" 'd["SecondaryStatus"]')"

# --- 5, 6. failure files that are not plain ASCII ---------------------------------------------------
# Both cases run and report before the test fails, so that one does not hide the other.
late=()
note "5. a 3000-character failure file of 3-byte characters"
job=fail-utf8-$$-$RANDOM
make_job "$job" "$tmp/j5.json" 60 \
  '["python3", "-c", "import sys; open(\"/opt/ml/output/failure\",\"w\",encoding=\"utf-8\").write(\"\\u20ac\" * 3000); sys.exit(3)"]'
train rc "$tmp/j5.json" --work-dir "$tmp/work"
if [[ $rc != 1 ]]; then
  late+=("5: a job with a multi-byte failure file exited $rc, expected 1: $(tail -n 3 "$tmp/train.err")")
elif ! python3 - "$(status_of "$job")" <<'PY'
import json, sys
st = json.load(open(sys.argv[1], encoding="utf-8"))
assert st.get("TrainingJobStatus") == "Failed", st.get("TrainingJobStatus")
got = st.get("FailureReason", "")
assert got == "\u20ac" * 1024, f"FailureReason: {len(got)} characters {got[:10]!r}..., want 1024 x U+20AC"
PY
then
  late+=("5: FailureReason of a multi-byte failure file is not its first 1024 characters")
fi
[[ $(json_get "$(status_of "$job")" 'd["TrainingJobStatus"]') != InProgress ]] \
  || late+=("5: status.json was left InProgress")

note "6. a failure file that is not UTF-8"
job=fail-bytes-$$-$RANDOM
make_job "$job" "$tmp/j6.json" 60 \
  '["python3", "-c", "import sys; open(\"/opt/ml/output/failure\",\"wb\").write(b\"bad \\xff\\xfe bytes\"); sys.exit(3)"]'
train rc "$tmp/j6.json" --work-dir "$tmp/work"
if [[ $rc != 1 ]]; then
  late+=("6: a job with a non-UTF-8 failure file exited $rc, expected 1: $(tail -n 3 "$tmp/train.err")")
elif ! python3 - "$(status_of "$job")" <<'PY'
import json, sys
st = json.load(open(sys.argv[1], encoding="utf-8"))   # status.json must stay valid UTF-8 JSON
assert st.get("TrainingJobStatus") == "Failed", st.get("TrainingJobStatus")
got = st.get("FailureReason", "")
assert got.startswith("bad ") and got.endswith(" bytes"), f"FailureReason {got!r}"
PY
then
  late+=("6: status.json of a job with a non-UTF-8 failure file is not Failed with the readable text")
fi
[[ $(json_get "$(status_of "$job")" 'd["TrainingJobStatus"]') != InProgress ]] \
  || late+=("6: status.json was left InProgress")

if ((${#late[@]})); then
  printf 'FAIL: %s\n' "${late[@]}" >&2
  exit 1
fi
echo "train_failure: ok"
