#!/usr/bin/env bash
# `sluice train` in script mode, as the SageMaker Python SDK starts a framework job
# (docs/train.md "Script mode"): no ContainerEntrypoint, a framework TrainingImage, and
# JSON-encoded HyperParameters with sagemaker_program and sagemaker_submit_directory.
#  1. the source is a sourcedir.tar.gz in S3: it is unpacked into /opt/ml/code, which is the
#     working directory; `python3 train.py --key value ...` runs with the user hyperparameters
#     (sagemaker_* left out, values decoded: SM_USER_ARGS) and argparse reads them; a module of the
#     source directory imports; requirements.txt is not installed;
#  2. --install-requirements: requirements.txt (a wheel shipped in the source, no index) is
#     installed before the program and imports; one pip cannot satisfy fails the job
#     (InstallRequirementsError) before the program runs;
#  3. a non-Python entry point from a local directory (file://): `/bin/sh -c "./run.sh ARGS"`,
#     arguments quoted as the toolkit quotes them;
#  4. a program the source does not have, or a sourcedir.tar.gz that is not there: the job fails
#     before training, naming it, on the terminal too;
#  5. neither a command nor sagemaker_program: exit 2 naming both ways.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init scriptmode

# The source directory, with a wheel of a tiny package its requirements.txt names (no index:
# pip finds it in wheels/).
cp -r "$scripts/sourcedir" "$tmp/source"
python3 - "$tmp/source/wheels" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
files = {
    "tinypkg/__init__.py": "X = 42\n",
    "tinypkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
    "tinypkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: sluice-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
with zipfile.ZipFile(os.path.join(out, "tinypkg-1.0-py3-none-any.whl"), "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
    z.writestr("tinypkg-1.0.dist-info/RECORD", "".join(f"{n},,\n" for n in files) + "tinypkg-1.0.dist-info/RECORD,,\n")
PY
printf -- '--no-index\n--find-links wheels\ntinypkg\n' > "$tmp/source/requirements.txt"
tar -czf "$tmp/sourcedir.tar.gz" -C "$tmp/source" .
"$sluice" cp -q "$tmp/sourcedir.tar.gz" "s3://$bucket/code/source/sourcedir.tar.gz"
for i in 1 2 3; do
  printf 'record %s\n' "$i" > "$tmp/data-$i.txt"
  "$sluice" cp -q "$tmp/data-$i.txt" "s3://$bucket/data/part-$i.txt"
done

make_job() {  # make_job NAME FILE PROGRAM SUBMIT_DIRECTORY [EXTRA-HYPERPARAMETERS]
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
    "TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0-cpu-py310"},
  "HyperParameters": {"epochs": "3", "lr": "0.01", "model-name": "\"resnet\"", "use-amp": "true",
                      "layers": "[64, 32]", "sagemaker_program": "\"$3\"",
                      "sagemaker_submit_directory": "\"$4\"", "sagemaker_container_log_level": "20",
                      "sagemaker_region": "\"us-east-1\""${5:-}},
  "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
      "S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/", "S3DataDistributionType": "FullyReplicated"}}}],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 300}
}
EOF
}

model_file() {  # model_file JOB NAME: prints NAME from the job's uploaded model.tar.gz
  rm -rf "$tmp/model" && mkdir -p "$tmp/model"
  "$sluice" cp -q "s3://$bucket/out/$1/output/model.tar.gz" "$tmp/model.tar.gz"
  tar -xzf "$tmp/model.tar.gz" -C "$tmp/model"
  cat "$tmp/model/$2"
}

# --- 1 --------------------------------------------------------------------------------------------
note "1. sourcedir.tar.gz from S3, argparse hyperparameters"
job=script-$$-$RANDOM
make_job "$job" "$tmp/j1.json" train.py "s3://$bucket/code/source/sourcedir.tar.gz"
train rc "$tmp/j1.json" --work-dir "$tmp/work"
expect_rc "$rc" 0 "a script-mode job"
grep -q '^\[algo-1\] trained resnet for 3 epochs at lr 0.01$' "$tmp/train.err" || { show_train_log; fail "the script's output is missing"; }
model_file "$job" run.json > "$tmp/run1.json"
python3 - "$tmp/run1.json" "s3://$bucket/code/source/sourcedir.tar.gz" <<'PY' || fail "script mode run 1"
import json, sys
run = json.load(open(sys.argv[1]))
def want(ok, what):
    if not ok:
        sys.exit(f"FAIL: {what}: {json.dumps(run, indent=1)}")
want(run["argv"] == ["train.py", "--epochs", "3", "--layers", "[64, 32]", "--lr", "0.01", "--model-name", "resnet",
                     "--use-amp", "True"], "argv is not the toolkit's")
a = run["args"]
want(a["epochs"] == 3 and a["lr"] == 0.01 and a["model_name"] == "resnet" and a["use_amp"] is True and a["layers"] == [64, 32],
     "argparse did not get the hyperparameters")
want(run["user_args"] == run["argv"][1:], "SM_USER_ARGS differs from argv")
want(run["cwd"] == "/opt/ml/code", "the working directory is not /opt/ml/code")
want(run["value"] == "from the source directory", "a module of the source directory")
want(run["tinypkg"] is None, "requirements.txt was installed without --install-requirements")
want(run["train_files"] == ["part-1.txt", "part-2.txt", "part-3.txt"], "the train channel")
want(run["module_dir"] == sys.argv[2] and run["entry_point"] == "train.py", "SM_MODULE_DIR / SM_USER_ENTRY_POINT")
PY
[[ -f $tmp/work/$job/algo-1/code/lib/util.py ]] || fail "the source is not in /opt/ml/code"

# --- 2 --------------------------------------------------------------------------------------------
note "2. --install-requirements"
job=script-req-$$-$RANDOM
make_job "$job" "$tmp/j2.json" train.py "s3://$bucket/code/source/sourcedir.tar.gz"
train rc "$tmp/j2.json" --work-dir "$tmp/work" --install-requirements
expect_rc "$rc" 0 "a script-mode job with --install-requirements"
model_file "$job" run.json > "$tmp/run2.json"
[[ $(json_get "$tmp/run2.json" 'd["tinypkg"]') == 42 ]] || { show_train_log; fail "tinypkg from requirements.txt did not import"; }
# A requirements.txt pip cannot satisfy fails the job before the program, saying so.
printf -- '--no-index\nno-such-package-anywhere\n' > "$tmp/source/requirements.txt"
tar -czf "$tmp/bad.tar.gz" -C "$tmp/source" .
"$sluice" cp -q "$tmp/bad.tar.gz" "s3://$bucket/code/bad/sourcedir.tar.gz"
job=script-badreq-$$-$RANDOM
make_job "$job" "$tmp/j2b.json" train.py "s3://$bucket/code/bad/sourcedir.tar.gz"
train rc "$tmp/j2b.json" --work-dir "$tmp/work" --install-requirements
expect_rc "$rc" 1 "unsatisfiable requirements"
[[ $(json_get "$tmp/work/$job/status.json" 'd["FailureReason"]') == InstallRequirementsError:* ]] \
  || fail "FailureReason $(json_get "$tmp/work/$job/status.json" 'd.get("FailureReason")')"
[[ ! -e $tmp/work/$job/algo-1/model/run.json ]] || fail "the program ran after pip failed"

# --- 3 --------------------------------------------------------------------------------------------
note "3. run.sh from a local directory"
job=script-sh-$$-$RANDOM
make_job "$job" "$tmp/j3.json" run.sh "file://$tmp/source" ', "note": "\"it'"'"'s a \\\"b\\\"\""'
train rc "$tmp/j3.json" --work-dir "$tmp/work"
expect_rc "$rc" 0 "a shell entry point"
model_file "$job" args.txt > "$tmp/args.txt"
printf -- '--epochs\n3\n--layers\n[64, 32]\n--lr\n0.01\n--model-name\nresnet\n--note\nit'"'"'s a "b"\n--use-amp\nTrue\n' > "$tmp/want.txt"
diff "$tmp/want.txt" "$tmp/args.txt" >&2 || fail "run.sh got other arguments"
[[ $(cat "$tmp/model/cwd.txt") == /opt/ml/code ]] || fail "run.sh ran in $(cat "$tmp/model/cwd.txt")"

# --- 4 --------------------------------------------------------------------------------------------
note "4. a program the source does not have; a source that is not there"
job=script-missing-$$-$RANDOM
make_job "$job" "$tmp/j4.json" nope.py "s3://$bucket/code/source/sourcedir.tar.gz"
train rc "$tmp/j4.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a missing program"
reason=$(json_get "$tmp/work/$job/status.json" 'd["FailureReason"]')
[[ $reason == *"sagemaker_program 'nope.py'"* && $reason == *sourcedir.tar.gz* ]] || fail "FailureReason: $reason"
grep -q "FailureReason:.*nope.py" "$tmp/train.err" || { show_train_log; fail "the terminal does not say why"; }
job=script-nosource-$$-$RANDOM
make_job "$job" "$tmp/j4b.json" train.py "s3://$bucket/code/none/sourcedir.tar.gz"
train rc "$tmp/j4b.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a missing sourcedir.tar.gz"
[[ $(json_get "$tmp/work/$job/status.json" 'd["FailureReason"]') == *sagemaker_submit_directory* ]] \
  || fail "FailureReason $(json_get "$tmp/work/$job/status.json" 'd.get("FailureReason")')"

# --- 5 --------------------------------------------------------------------------------------------
note "5. no command and no program"
python3 - "$tmp/j1.json" "$tmp/j5.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["HyperParameters"]["sagemaker_program"]
json.dump(d, open(sys.argv[2], "w"))
PY
train rc "$tmp/j5.json" --work-dir "$tmp/work5"
expect_rc "$rc" 2 "a spec with nothing to run"
grep -q "ContainerEntrypoint or ContainerArguments" "$tmp/train.err" && grep -q "sagemaker_program" "$tmp/train.err" \
  || { show_train_log; fail "the error does not name both ways"; }
[[ ! -e $tmp/work5 ]] || fail "an invalid spec made a work directory"
echo "train_script_mode: ok"
