#!/usr/bin/env python3
"""A training script for tests/e2e/train_contract_test.sh: checks the SageMaker container contract
from inside the job and writes what it saw to /opt/ml/model/report.json (report-<host>.json
when the job has several hosts).

Standard library only. It assumes nothing about how it was started except the contract itself:
the paths come from /opt/ml and the SM_* variables, so it would run unchanged in a SageMaker
training container. The report has two parts:
  "checks":   [{"name", "ok", "detail"}] for what the script can judge alone (the SM_* variables
              agree with the config files and the toolkit's encoding rules, /opt/ml is the real
              path, a read-only channel refuses writes with EROFS, ...); "ok" is their conjunction.
  the raw observations (config files byte for byte, the whole environment, the sha256 of every
  file of every channel, the write probes), which the test compares with what it asked for.
Environment knobs (the request's `Environment`):
  E2E_PROBE_RO  comma-separated channels that must be read-only (a write must fail with EROFS)
  E2E_PROBE_RW  comma-separated channels that must be writable (a file is written and left there)
The script exits 0 even when a check fails, so that the report is uploaded; the test reads it.
"""
import errno
import hashlib
import json
import os
import socket
import sys

OPT_ML = "/opt/ml"
checks = []


def check(name, ok, detail=""):
    checks.append({"name": name, "ok": bool(ok), "detail": detail})
    print(f"check {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)


def compact(v):
    # The toolkit's encoding of a non-string value (mapping.to_env_vars -> _env._to_json).
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def env_value(v):
    return v if isinstance(v, str) else ("" if v is None else compact(v))


def decode_hp(v):
    try:
        return json.loads(v)
    except ValueError:
        return v


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            out[rel] = {"sha256": sha256(p), "size": os.path.getsize(p)}
    return out


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def probe_write(directory, name):
    """Tries to create a file; returns 0 on success (the file stays) or the errno."""
    try:
        with open(os.path.join(directory, name), "w") as f:
            f.write(f"written by the job on {os.environ.get('SM_CURRENT_HOST')}\n")
        return 0
    except OSError as e:
        return e.errno


report = {"argv": sys.argv}
env = dict(os.environ)
report["environ"] = env

# --- /opt/ml is the real path ---------------------------------------------------------------
report["realpath_opt_ml"] = os.path.realpath(OPT_ML)
check("/opt/ml is a real directory, not a link", os.path.isdir(OPT_ML) and not os.path.islink(OPT_ML)
      and os.path.realpath(OPT_ML) == OPT_ML, report["realpath_opt_ml"])
report["cwd"] = os.getcwd()
report["hostname"] = socket.gethostname()
for sub in ["input/config", "input/data", "model", "output", "output/data", "code"]:
    check(f"{OPT_ML}/{sub} exists", os.path.isdir(os.path.join(OPT_ML, sub)))

# --- config files -----------------------------------------------------------------------------
cfg_dir = os.path.join(OPT_ML, "input/config")
report["config_files"] = {}
cfg = {}
for name in ["hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"]:
    text = read_text(os.path.join(cfg_dir, name))
    report["config_files"][name] = text
    cfg[name] = json.loads(text)
hps_raw = cfg["hyperparameters.json"]
idc = cfg["inputdataconfig.json"]
rc = cfg["resourceconfig.json"]

# --- SM_* variables, against the config files and the toolkit's rules --------------------------
def expect_env(var, want):
    got = env.get(var)
    check(f"{var}", got == want, f"got {got!r}, want {want!r}")


channels = sorted(idc)
expect_env("SM_MODEL_DIR", "/opt/ml/model")
expect_env("SM_INPUT_DIR", "/opt/ml/input")
expect_env("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")
expect_env("SM_OUTPUT_DIR", "/opt/ml/output")
expect_env("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
expect_env("SM_OUTPUT_INTERMEDIATE_DIR", "/opt/ml/output/intermediate")
expect_env("SM_CHANNELS", compact(channels))
for ch in channels:
    expect_env(f"SM_CHANNEL_{ch.upper()}", f"/opt/ml/input/data/{ch}")
    check(f"channel dir {ch} exists", os.path.isdir(f"/opt/ml/input/data/{ch}"))
stray = sorted(k for k in env if k.startswith("SM_CHANNEL_") and k[len("SM_CHANNEL_"):].lower() not in channels)
check("no SM_CHANNEL_* for other channels", not stray, str(stray))
expect_env("SM_HOSTS", compact(rc["hosts"]))
expect_env("SM_CURRENT_HOST", rc["current_host"])
expect_env("CURRENT_HOST", rc["current_host"])
check("hostname is the current host", report["hostname"] == rc["current_host"], report["hostname"])
expect_env("SM_CURRENT_INSTANCE_TYPE", rc["current_instance_type"])
expect_env("SM_NUM_CPUS", str(os.cpu_count()))
expect_env("SM_NUM_GPUS", "0")
expect_env("SM_RESOURCE_CONFIG", compact(rc))
expect_env("SM_INPUT_DATA_CONFIG", compact(idc))
expect_env("SM_NETWORK_INTERFACE_NAME", rc["network_interface_name"])

# docs/container-contract.md: the reserved keys and every sagemaker_* key leave SM_HPS; the
# sagemaker_* keys that are not reserved form SM_FRAMEWORK_PARAMS.
reserved = {"sagemaker_program", "sagemaker_submit_directory", "sagemaker_enable_cloudwatch_metrics",
            "sagemaker_region", "sagemaker_container_log_level", "sagemaker_job_name",
            "default_user_module_name", "_tuning_objective_metric", "sagemaker_s3_output"}
user_hps = {k: decode_hp(v) for k, v in hps_raw.items() if not k.startswith("sagemaker_") and k not in reserved}
expect_env("SM_HPS", compact(user_hps))
for k, v in user_hps.items():
    expect_env(f"SM_HP_{k.upper()}", env_value(v))
framework = {k: decode_hp(v) for k, v in hps_raw.items() if k.startswith("sagemaker_") and k not in reserved}
expect_env("SM_FRAMEWORK_PARAMS", compact(framework))


def to_cmd_args(mapping):
    args = []
    for key in sorted(mapping):
        args.append(("-" if len(key) == 1 else "--") + key)
        v = mapping[key]
        if isinstance(v, dict):
            v = ",".join(f"{k}={v[k]}" for k in sorted(v))
        args.append("" if v is None else str(v))  # the toolkit's _decode
    return args


expect_env("SM_USER_ARGS", compact(to_cmd_args(user_hps)))
if "sagemaker_program" in hps_raw:
    program = decode_hp(hps_raw["sagemaker_program"])
    expect_env("SM_USER_ENTRY_POINT", program)
    expect_env("SM_MODULE_NAME", program[:-3] if program.endswith(".py") else program)

try:
    te = json.loads(env.get("SM_TRAINING_ENV", ""))
except ValueError:
    te = {}
report["training_env"] = te
check("SM_TRAINING_ENV is a JSON object", isinstance(te, dict) and te)
want_keys = ["additional_framework_parameters", "channel_input_dirs", "current_host", "current_instance_group",
             "current_instance_group_hosts", "current_instance_type", "distribution_hosts",
             "distribution_instance_groups", "framework_module", "hosts", "hyperparameters", "input_config_dir",
             "input_data_config", "input_dir", "instance_groups", "instance_groups_dict", "is_hetero", "is_master",
             "is_modelparallel_enabled", "job_name", "log_level", "master_hostname", "model_dir", "module_dir",
             "module_name", "network_interface_name", "num_cpus", "num_gpus", "num_neurons", "output_data_dir",
             "output_dir", "output_intermediate_dir", "resource_config", "user_entry_point"]
missing = [k for k in want_keys if k not in te]
check("SM_TRAINING_ENV has every toolkit key", not missing, f"missing {missing}")
for key, want in [("channel_input_dirs", {c: f"/opt/ml/input/data/{c}" for c in channels}),
                  ("current_host", rc["current_host"]), ("hosts", rc["hosts"]), ("hyperparameters", user_hps),
                  ("input_config_dir", "/opt/ml/input/config"), ("input_data_config", idc),
                  ("input_dir", "/opt/ml/input"), ("model_dir", "/opt/ml/model"), ("output_dir", "/opt/ml/output"),
                  ("output_data_dir", "/opt/ml/output/data"), ("resource_config", rc),
                  ("job_name", env.get("TRAINING_JOB_NAME")), ("num_cpus", os.cpu_count()), ("num_gpus", 0),
                  ("is_master", rc["current_host"] == rc["hosts"][0]), ("master_hostname", rc["hosts"][0]),
                  ("current_instance_type", rc["current_instance_type"])]:
    check(f"SM_TRAINING_ENV.{key}", te.get(key) == want, f"got {te.get(key)!r}, want {want!r}")

# Every variable the toolkit writes is a function of SM_TRAINING_ENV (mapping.to_env_vars).
for key, value in te.items():
    var = "SM_" + key.upper()
    if var in ("SM_HYPERPARAMETERS", "SM_CHANNEL_INPUT_DIRS", "SM_ADDITIONAL_FRAMEWORK_PARAMETERS"):
        continue  # the toolkit names these SM_HPS, SM_CHANNEL_<NAME>, SM_FRAMEWORK_PARAMS
    if var in env:
        check(f"{var} agrees with SM_TRAINING_ENV", env[var] == env_value(value),
              f"{env[var]!r} vs {env_value(value)!r}")

job = env.get("TRAINING_JOB_NAME", "")
arn = env.get("TRAINING_JOB_ARN", "")
check("TRAINING_JOB_NAME set", bool(job))
check("TRAINING_JOB_ARN ends with training-job/<name>", arn.startswith("arn:aws:sagemaker:")
      and arn.endswith(":training-job/" + job), arn)
aws = sorted(k for k in env if k.startswith("AWS_"))
check("no AWS_* variables (credentials, endpoint) reach the job", not aws, str(aws))

# --- data: every file of every channel ---------------------------------------------------------
report["channels"] = {ch: tree(f"/opt/ml/input/data/{ch}") for ch in channels}

# --- file-system channels: read-only and read-write ----------------------------------------------
report["probes"] = {}
for ch in filter(None, env.get("E2E_PROBE_RO", "").split(",")):
    d = f"/opt/ml/input/data/{ch}"
    e_new = probe_write(d, "job-write-probe.txt")
    try:
        existing = sorted(report["channels"][ch])[0]
        with open(os.path.join(d, existing), "ab"):
            pass
        e_append = 0
    except (OSError, IndexError) as e:
        e_append = getattr(e, "errno", -1)
    try:
        os.mkdir(os.path.join(d, "job-mkdir-probe"))
        e_mkdir = 0
    except OSError as e:
        e_mkdir = e.errno
    report["probes"][ch] = {"create": e_new, "append": e_append, "mkdir": e_mkdir}
    check(f"read-only channel {ch}: create fails with EROFS", e_new == errno.EROFS, errno.errorcode.get(e_new, e_new))
    check(f"read-only channel {ch}: append fails with EROFS", e_append == errno.EROFS, str(e_append))
    check(f"read-only channel {ch}: mkdir fails with EROFS", e_mkdir == errno.EROFS, str(e_mkdir))
for ch in filter(None, env.get("E2E_PROBE_RW", "").split(",")):
    e_new = probe_write(f"/opt/ml/input/data/{ch}", f"written-by-{rc['current_host']}.txt")
    report["probes"][ch] = {"create": e_new}
    check(f"read-write channel {ch}: a file can be written", e_new == 0, str(e_new))

# --- outputs --------------------------------------------------------------------------------------
os.makedirs("/opt/ml/model/weights", exist_ok=True)
with open("/opt/ml/model/weights/w.bin", "wb") as f:
    f.write(hashlib.sha256(job.encode()).digest() * 1000)
with open("/opt/ml/output/data/metrics.txt", "w") as f:
    f.write(f"job={job}\nhost={rc['current_host']}\naccuracy=0.99\n")

report["checks"] = checks
report["ok"] = all(c["ok"] for c in checks)
# One host: report.json. Several: report-<host>.json, so that the merged model.tar.gz keeps all.
name = "report.json" if len(rc["hosts"]) == 1 else f"report-{rc['current_host']}.json"
with open(f"/opt/ml/model/{name}", "w") as f:
    json.dump(report, f, indent=1, sort_keys=True)
print(f"contract checks: {sum(c['ok'] for c in checks)}/{len(checks)} passed", flush=True)
