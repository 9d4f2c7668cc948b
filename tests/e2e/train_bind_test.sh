#!/usr/bin/env bash
# `sluice train --bind HOST[:SANDBOX]` (single-tenant): a user's own code that lives under /tmp,
# which the sandbox's private /tmp would hide, made visible read-only, at the same path or at
# another one; a path that does not exist exits 3 naming it before any job directory is made;
# with --iam-config (multi-tenant) --bind exits 2 (tests/e2e/train_attacks_test.sh section 2).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init bind

# A "virtualenv" and a script under /tmp, the way a user's checkout in a temporary directory is.
mkdir -p "$tmp/venv/lib" "$tmp/code"
printf 'GREETING = "from the venv"\n' > "$tmp/venv/lib/greeting.py"
cat > "$tmp/code/train.py" <<'PY'
import os, sys
sys.path.insert(0, os.environ["VENV_LIB"])
import greeting
os.makedirs("/opt/ml/model", exist_ok=True)
open("/opt/ml/model/out.txt", "w").write(greeting.GREETING + "\n")
try:
    open(os.path.join(os.environ["VENV_LIB"], "new"), "w")
    print("the bound directory is writable")
except OSError:
    print("the bound directory is read-only")
PY
rand_file "$tmp/data/x.bin" 100
"$sluice" cp -q -r "$tmp/data/" "s3://$bucket/in/"

make_job() {  # make_job NAME VENV_LIB
  cat > "$tmp/$1.json" <<JSON
{"TrainingJobName": "$1", "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
 "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": ["python3", "$tmp/code/train.py"]},
 "Environment": {"VENV_LIB": "$2"},
 "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/in/"}}}],
 "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
 "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
 "StoppingCondition": {"MaxRuntimeInSeconds": 60}}
JSON
}

note "1. without --bind the venv under /tmp is not there (the script itself is: its directory is bound)"
make_job plain-$$ "$tmp/venv/lib"
train rc "$tmp/plain-$$.json" --work-dir "$tmp/work"
expect_rc "$rc" 1 "a job whose venv is hidden"
grep -q "No module named 'greeting'" "$tmp/train.err" || { show_train_log; fail "the hidden venv did not fail the import"; }

note "2. --bind HOST: the same path, read-only"
make_job same-$$ "$tmp/venv/lib"
train rc "$tmp/same-$$.json" --work-dir "$tmp/work" --bind "$tmp/venv"
expect_rc "$rc" 0 "--bind HOST"
[[ $(cat "$tmp/work/same-$$/algo-1/model/out.txt") == "from the venv" ]] || fail "--bind HOST: the venv was not used"
grep -q "the bound directory is read-only" "$tmp/train.err" || { show_train_log; fail "--bind HOST is writable"; }
[[ ! -e $tmp/venv/lib/new ]] || fail "the job wrote into the bound host directory"

note "3. --bind HOST:SANDBOX: another path inside"
make_job other-$$ /opt/venv/lib
train rc "$tmp/other-$$.json" --work-dir "$tmp/work" --bind "$tmp/venv:/opt/venv"
expect_rc "$rc" 0 "--bind HOST:SANDBOX"
[[ $(cat "$tmp/work/other-$$/algo-1/model/out.txt") == "from the venv" ]] || fail "--bind HOST:SANDBOX: the venv was not used"

note "4. a host path that does not exist"
train rc "$tmp/other-$$.json" --work-dir "$tmp/work2" --bind "$tmp/no-such-dir:/opt/venv"
expect_rc "$rc" 3 "--bind of a missing path"
grep -q -- "--bind $tmp/no-such-dir:/opt/venv" "$tmp/train.err" || { show_train_log; fail "the error does not name the --bind"; }
[[ ! -e $tmp/work2 ]] || fail "a refused --bind still made the work directory"
echo "train_bind: ok"
