#!/usr/bin/env bash
# `sluice train` end to end: the container contract as a real training script sees it.
# tests/e2e/scripts/check_contract.py runs as the job (ContainerEntrypoint) and reports from inside:
# the three config files, every SM_* variable, TRAINING_JOB_NAME/ARN, the request's Environment,
# no AWS_* variables, the sha256 of every file of every channel (S3 prefix with a multipart-size
# object and an empty one, a manifest, a file:// source, two file-system channels), EROFS on a
# read-only file-system channel, a writable read-write one, /opt/ml as the real path. The test
# then compares that report with what it uploaded and asked for, and checks model.tar.gz,
# output.tar.gz, the logs and status.json.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init contract

# --- input data ------------------------------------------------------------------------------
data=$tmp/data
rand_file "$data/train/a.csv" 1000
rand_file "$data/train/sub/b.bin" 300000
rand_file "$data/train/sub/deeper/with space.txt" 777
rand_file "$data/train/big.bin" $((9 * 1024 * 1024 + 13))   # above the 8 MiB part size: ranged parts
: > "$data/train/empty.dat"
rand_file "$data/validation/v1.csv" 5000
rand_file "$data/validation/v2.csv" 1
rand_file "$data/pool/p1.bin" 2048
rand_file "$data/pool/deep/p2.bin" 4096
rand_file "$data/pool/p3-not-listed.bin" 100
rand_file "$tmp/localsrc/l1.txt" 123
rand_file "$tmp/localsrc/nested/l2.txt" 4567
rand_file "$tmp/fsmount/ro-data/r1.bin" 10000
rand_file "$tmp/fsmount/ro-data/inner/r2.bin" 20000
rand_file "$tmp/rwdir/existing.txt" 50
"$sluice" cp -q -r "$data" "s3://$bucket/data" || fail "upload of the input data failed"
printf '[{"prefix": "s3://%s/data/pool/"}, "p1.bin", "deep/p2.bin"]\n' "$bucket" > "$tmp/manifest.json"
"$sluice" cp -q "$tmp/manifest.json" "s3://$bucket/manifests/m.json"
printf '{"fs-0123456789abcdef0": "%s/fsmount"}\n' "$tmp" > "$tmp/fsmap.json"

# --- the job ---------------------------------------------------------------------------------
job=contract-$$-$RANDOM
cat > "$tmp/job.json" <<EOF
{
  "TrainingJobName": "$job",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {
    "TrainingInputMode": "File",
    "TrainingImage": "local/python3",
    "ContainerEntrypoint": ["python3", "$scripts/check_contract.py"],
    "ContainerArguments": ["--flag", "value with space"]
  },
  "HyperParameters": {"epochs": "3", "learning-rate": "0.001", "optimizer": "\"adam\"", "layers": "[64, 32]",
                      "model-name": "resnet", "nested": "{\"b\": 1, \"a\": true}", "x": "null",
                      "sagemaker_program": "\"train.py\"", "sagemaker_mpi_enabled": "false"},
  "InputDataConfig": [
    {"ChannelName": "train", "ContentType": "text/csv",
     "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/train/",
                                     "S3DataDistributionType": "FullyReplicated"}}},
    {"ChannelName": "validation",
     "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/data/validation/"}}},
    {"ChannelName": "manifest", "InputMode": "File",
     "DataSource": {"S3DataSource": {"S3DataType": "ManifestFile", "S3Uri": "s3://$bucket/manifests/m.json"}}},
    {"ChannelName": "localsrc",
     "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "file://$tmp/localsrc/"}}},
    {"ChannelName": "fsro",
     "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-0123456789abcdef0", "FileSystemType": "FSxLustre",
                                             "FileSystemAccessMode": "ro", "DirectoryPath": "/ro-data"}}},
    {"ChannelName": "fsrw",
     "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-00000000deadbeef", "FileSystemType": "EFS",
                                             "FileSystemAccessMode": "rw", "DirectoryPath": "$tmp/rwdir"}}}
  ],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 300},
  "Environment": {"E2E_PROBE_RO": "fsro", "E2E_PROBE_RW": "fsrw", "MY_SETTING": "hello world = 1; ünï",
                  "SM_CURRENT_HOST": "overridden-by-the-toolkit", "TRAINING_JOB_NAME": "overridden-too",
                  "SM_CUSTOM_PASSTHROUGH": "kept"}
}
EOF

work=$tmp/work
start=$(date +%s)
train rc "$tmp/job.json" --work-dir "$work" --file-systems "$tmp/fsmap.json" --isolation bubblewrap
note "sluice train took $(($(date +%s) - start)) s"
expect_rc "$rc" 0 "sluice train of a job that completes"
host=$work/$job/algo-1
[[ -f $host/model/report.json ]] || { show_train_log; fail "the job wrote no report"; }
grep -q '^\[algo-1\] contract checks:' "$tmp/train.err" || fail "the job's output is not streamed with a host prefix"
grep -qE '^[0-9T:.-]+Z \[algo-1\] contract checks:' "$work/$job/logs/algo-1.log" || fail "the job's output is not in logs/algo-1.log"

# --- the model and the output, as uploaded ------------------------------------------------------
"$sluice" cp -q "s3://$bucket/out/$job/output/model.tar.gz" "$tmp/model.tar.gz" || fail "no model.tar.gz at out/$job/output/"
"$sluice" cp -q "s3://$bucket/out/$job/output/output.tar.gz" "$tmp/output.tar.gz" || fail "no output.tar.gz at out/$job/output/"
mkdir -p "$tmp/model" "$tmp/output"
tar -xzf "$tmp/model.tar.gz" -C "$tmp/model"
tar -xzf "$tmp/output.tar.gz" -C "$tmp/output"
diff -r "$host/model" "$tmp/model" || fail "model.tar.gz differs from /opt/ml/model"
diff -r "$host/output/data" "$tmp/output" || fail "output.tar.gz differs from /opt/ml/output/data"
[[ $(tar -tzf "$tmp/model.tar.gz" | sed 's|^\./||' | grep -v '/$' | sort | tr '\n' ' ') == "report.json weights/w.bin " ]] \
  || fail "model.tar.gz members: $(tar -tzf "$tmp/model.tar.gz" | tr '\n' ' ')"
grep -qx "job=$job" "$tmp/output/metrics.txt" || fail "output.tar.gz lacks the job's metrics.txt"

# --- the report, against what was asked for and uploaded -----------------------------------------
python3 - "$tmp/model/report.json" "$tmp/job.json" "$tmp" "$job" "$work/$job/status.json" "$bucket" <<'PY'
import hashlib, json, os, sys
report_path, job_path, tmp, job, status_path, bucket = sys.argv[1:]
r = json.load(open(report_path))
spec = json.load(open(job_path))
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)

# Inside checks (the script's own verdicts).
for c in r["checks"]:
    want(c["ok"], f"inside the job: {c['name']}: {c['detail']}")
want(r["ok"] == all(c["ok"] for c in r["checks"]) and len(r["checks"]) > 60, f"report has {len(r['checks'])} checks")
want(r["argv"][1:] == ["--flag", "value with space"], f"ContainerArguments: argv {r['argv']}")
want(r["realpath_opt_ml"] == "/opt/ml", f"realpath(/opt/ml) = {r['realpath_opt_ml']}")
want(r["cwd"] == "/opt/ml/code", f"working directory {r['cwd']}")

# Config files, byte for byte (docs/container-contract.md: one line of compact JSON, request order).
def line(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
cf = r["config_files"]
# hyperparameters.json: the same string -> string map (its key order is not specified), one line.
hp_doc = json.loads(cf["hyperparameters.json"])
want(hp_doc == spec["HyperParameters"] and cf["hyperparameters.json"] == line(hp_doc),
     f"hyperparameters.json: {cf['hyperparameters.json']!r}, request {spec['HyperParameters']!r}")
idc = {
    "train": {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
    "validation": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
    "manifest": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
    "localsrc": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
    "fsro": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
    "fsrw": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
}
want(cf["inputdataconfig.json"] == line(idc), f"inputdataconfig.json: {cf['inputdataconfig.json']!r} != {line(idc)!r}")
rc = {"current_host": "algo-1", "current_instance_type": "ml.m5.large", "current_group_name": "homogeneousCluster",
      "hosts": ["algo-1"],
      "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.m5.large", "hosts": ["algo-1"]}],
      "network_interface_name": "eth0"}
want(cf["resourceconfig.json"] == line(rc), f"resourceconfig.json: {cf['resourceconfig.json']!r} != {line(rc)!r}")

# Environment: exact values the test knows.
env = r["environ"]
exact = {
    "TRAINING_JOB_NAME": job,
    "TRAINING_JOB_ARN": f"arn:aws:sagemaker:{os.environ['AWS_REGION']}:123456789012:training-job/{job}",
    "MY_SETTING": "hello world = 1; ünï", "SM_CUSTOM_PASSTHROUGH": "kept", "E2E_PROBE_RO": "fsro",
    "SM_CURRENT_HOST": "algo-1", "CURRENT_HOST": "algo-1", "SM_HOSTS": '["algo-1"]',
    "SM_CHANNELS": '["fsro","fsrw","localsrc","manifest","train","validation"]',
    "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train", "SM_CHANNEL_FSRO": "/opt/ml/input/data/fsro",
    "SM_CHANNEL_FSRW": "/opt/ml/input/data/fsrw", "SM_CHANNEL_MANIFEST": "/opt/ml/input/data/manifest",
    "SM_CHANNEL_LOCALSRC": "/opt/ml/input/data/localsrc", "SM_CHANNEL_VALIDATION": "/opt/ml/input/data/validation",
    "SM_HPS": '{"epochs":3,"layers":[64,32],"learning-rate":0.001,"model-name":"resnet","nested":{"a":true,"b":1},"optimizer":"adam","x":null}',
    "SM_HP_EPOCHS": "3", "SM_HP_LEARNING-RATE": "0.001", "SM_HP_OPTIMIZER": "adam", "SM_HP_LAYERS": "[64,32]",
    "SM_HP_MODEL-NAME": "resnet", "SM_HP_NESTED": '{"a":true,"b":1}', "SM_HP_X": "",
    "SM_USER_ARGS": '["--epochs","3","--layers","[64, 32]","--learning-rate","0.001","--model-name","resnet","--nested","a=True,b=1","--optimizer","adam","-x",""]',
    "SM_FRAMEWORK_PARAMS": '{"sagemaker_mpi_enabled":false}',
    "SM_USER_ENTRY_POINT": "train.py", "SM_MODULE_NAME": "train", "SM_MODULE_DIR": "/opt/ml/code",
    "SM_MODEL_DIR": "/opt/ml/model", "SM_INPUT_DIR": "/opt/ml/input", "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
    "SM_OUTPUT_DIR": "/opt/ml/output", "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
    "SM_NUM_GPUS": "0", "SM_CURRENT_INSTANCE_TYPE": "ml.m5.large", "SM_NETWORK_INTERFACE_NAME": "eth0",
    "SM_LOG_LEVEL": "20", "SM_IS_HETERO": "false", "SM_CURRENT_INSTANCE_GROUP": "homogeneousCluster",
    "SM_RESOURCE_CONFIG": json.dumps(rc, sort_keys=True, separators=(",", ":")),
    "SM_INPUT_DATA_CONFIG": json.dumps(idc, sort_keys=True, separators=(",", ":")),
    "SAGEMAKER_REGION": os.environ["AWS_REGION"],
}
for k, v in exact.items():
    want(env.get(k) == v, f"{k} = {env.get(k)!r}, expected {v!r}")
want(env.get("SM_NUM_CPUS", "").isdigit() and int(env["SM_NUM_CPUS"]) >= 1, f"SM_NUM_CPUS {env.get('SM_NUM_CPUS')!r}")
want("SM_TRAINING_ENV" in env, "no SM_TRAINING_ENV")
te = r["training_env"]
want(te.get("job_name") == job and te.get("hyperparameters", {}).get("epochs") == 3, f"SM_TRAINING_ENV: {te!r:.300}")
leaked = sorted(k for k in env if k.startswith("AWS_") or env[k] in (os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_ACCESS_KEY_ID")))
want(not leaked, f"credentials or AWS_* variables reach the job: {leaked}")
want(all(os.environ["AWS_SECRET_ACCESS_KEY"] not in v for v in env.values()), "the secret key is in the job's environment")

# Data: every channel holds exactly the source files, byte for byte.
def source_tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = {"sha256": hashlib.sha256(open(p, "rb").read()).hexdigest(), "size": os.path.getsize(p)}
    return out
data = os.path.join(tmp, "data")
expected = {
    "train": source_tree(os.path.join(data, "train")),
    "validation": source_tree(os.path.join(data, "validation")),
    "manifest": {k: v for k, v in source_tree(os.path.join(data, "pool")).items() if k in ("p1.bin", "deep/p2.bin")},
    "localsrc": source_tree(os.path.join(tmp, "localsrc")),
    "fsro": source_tree(os.path.join(tmp, "fsmount", "ro-data")),
    "fsrw": {"existing.txt": source_tree(os.path.join(tmp, "rwdir"))["existing.txt"]},
}
want(len(expected["train"]) == 5 and len(expected["manifest"]) == 2, "test setup: source trees")
for ch, files in expected.items():
    got = r["channels"].get(ch)
    if got != files:
        missing = sorted(set(files) - set(got or {}))
        extra = sorted(set(got or {}) - set(files))
        differ = sorted(k for k in set(files) & set(got or {}) if files[k] != got[k])
        problems.append(f"channel {ch}: missing {missing}, extra {extra}, different bytes {differ}")
want(set(r["channels"]) == set(expected), f"channels seen: {sorted(r['channels'])}")

# File-system channels: ro refuses writes with EROFS (30), nothing reached the directory; rw wrote through.
want(r["probes"].get("fsro") == {"create": 30, "append": 30, "mkdir": 30}, f"ro probes {r['probes'].get('fsro')}")
want(sorted(source_tree(os.path.join(tmp, "fsmount", "ro-data"))) == ["inner/r2.bin", "r1.bin"], "the ro directory changed")
want(r["probes"].get("fsrw") == {"create": 0}, f"rw probe {r['probes'].get('fsrw')}")
rw_file = os.path.join(tmp, "rwdir", "written-by-algo-1.txt")
want(os.path.exists(rw_file) and open(rw_file).read() == "written by the job on algo-1\n",
     "the rw channel's write did not reach the host directory")

# status.json, shaped like DescribeTrainingJob.
st = json.load(open(status_path))
want(st.get("TrainingJobName") == job, f"status TrainingJobName {st.get('TrainingJobName')}")
want(st.get("TrainingJobArn") == exact["TRAINING_JOB_ARN"], f"status TrainingJobArn {st.get('TrainingJobArn')}")
want(st.get("TrainingJobStatus") == "Completed", f"TrainingJobStatus {st.get('TrainingJobStatus')}")
want(st.get("SecondaryStatus") == "Completed", f"SecondaryStatus {st.get('SecondaryStatus')}")
want("FailureReason" not in st, f"a completed job has FailureReason {st.get('FailureReason')!r}")
want(st.get("ModelArtifacts", {}).get("S3ModelArtifacts") == f"s3://{bucket}/out/{job}/output/model.tar.gz",
     f"ModelArtifacts {st.get('ModelArtifacts')}")
tr = st.get("SecondaryStatusTransitions", [])
want([t.get("Status") for t in tr] == ["Starting", "Downloading", "Training", "Uploading", "Completed"],
     f"transitions {[t.get('Status') for t in tr]}")
times = []
for t in tr:
    want("StartTime" in t and "EndTime" in t and t.get("StatusMessage"), f"transition without times/message: {t}")
    times += [t.get("StartTime", ""), t.get("EndTime", "")]
want(times == sorted(times), f"transition times out of order: {times}")
for k in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"):
    want(k in st, f"status.json has no {k}")
want(st.get("CreationTime", "") <= st.get("TrainingStartTime", "") <= st.get("TrainingEndTime", "~"), "status times out of order")
want(st.get("HyperParameters") == spec["HyperParameters"], "status.json does not echo the request's HyperParameters")

if problems:
    print("\n".join("FAIL: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print(f"contract: {len(r['checks'])} checks inside the job, all outside checks ok")
PY
echo "train_contract: ok"
