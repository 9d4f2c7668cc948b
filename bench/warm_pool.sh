#!/usr/bin/env bash
# bench/warm_pool.sh: a warm-pool reuse under `sluice serve`, against a cold start on the same data.
# The time from CreateTrainingJob to the training command's first line, for a job with a File
# channel of --mib MiB: first a cold job (KeepAlivePeriodInSeconds, so its host stays), then the
# same job again, which starts on the cold job's pool. boto3 (Debian's python3-boto3) is the client.
#
#   bench/warm_pool.sh [--rounds N] [--mib N] [options]
#
# Options:
#   --rounds N          cold/warm pairs (default 3); the table shows medians
#   --mib N             size of the File channel in MiB, in 128 MiB objects (default 1024)
#   --isolation MODE    `sluice serve --isolation`: auto (default), bubblewrap or none
#   --out FILE          also write every job and the medians as JSON to FILE
#   --sluice BIN        the sluice binary (default build/sluice; when that does not exist, build it
#                       with cmake + ninja into --build-dir, incrementally)
#   --build-dir DIR     where to build sluice when build/sluice is missing (default /tmp/bench-build)
#   --workdir DIR       parent of the temporary directory holding the store, the data, the server's
#                       work directory and its state (default $TMPDIR or /tmp)
#   --run-timeout S     bound on one job (default 600 s)
#   -h, --help
#
# It starts its own store (scripts/local-s3) and its own `sluice serve` on free ports of
# 127.0.0.1, and stops both (and removes everything it wrote) on any exit, Ctrl-C included.
# See bench/README.md.
set -euo pipefail

readonly PROG=warm_pool
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
export LC_ALL=C

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

ROUNDS=3
MIB=1024
ISOLATION=auto
OUT=''
SLUICE_BIN=''
BUILD_DIR=/tmp/bench-build
WORK_PARENT=${TMPDIR:-/tmp}
RUN_TIMEOUT=600
readonly OBJECT_MIB=128


while (($#)); do
  case $1 in
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --mib) need_value "$@"; MIB=$2; shift 2 ;;
    --isolation) need_value "$@"; ISOLATION=$2; shift 2 ;;
    --out) need_value "$@"; OUT=$2; shift 2 ;;
    --sluice) need_value "$@"; SLUICE_BIN=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --workdir) need_value "$@"; WORK_PARENT=$2; shift 2 ;;
    --run-timeout) need_value "$@"; RUN_TIMEOUT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) log "unknown argument: $1"; usage 2 ;;
  esac
done

is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 20)) || die "--rounds must be between 1 and 20"
is_uint "$MIB" && ((MIB >= OBJECT_MIB && MIB <= 4096 && MIB % OBJECT_MIB == 0)) ||
  die "--mib must be a multiple of $OBJECT_MIB between $OBJECT_MIB and 4096 (the store keeps data in RAM)"
is_uint "$RUN_TIMEOUT" && ((RUN_TIMEOUT >= 10)) || die "--run-timeout must be at least 10 seconds"
case $ISOLATION in none|auto|bubblewrap) ;; *) die "--isolation must be none, auto or bubblewrap" ;; esac
if [[ -n $OUT ]]; then
  OUT=$(realpath -m -- "$OUT")
  [[ -d $(dirname "$OUT") && -w $(dirname "$OUT") ]] || die "--out: directory $(dirname "$OUT") does not exist or is not writable"
fi
[[ -d $WORK_PARENT && -w $WORK_PARENT ]] || die "--workdir $WORK_PARENT is not a writable directory"
WORK_PARENT=$(realpath -- "$WORK_PARENT")
readonly COUNT=$((MIB / OBJECT_MIB))

# Packages: the client (the store's own packages come with scripts/local-s3)
PY=/usr/bin/python3
if ! [[ -x $PY ]] || ! "$PY" -c 'import boto3' 2>/dev/null; then
  sudo=()
  if ((EUID != 0)); then command -v sudo >/dev/null || die "need root (or sudo) to install python3-boto3"; sudo=(sudo); fi
  log "installing python3-boto3"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q --no-install-recommends python3 python3-boto3 >&2 ||
    { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q --no-install-recommends python3 python3-boto3 >&2; } ||
    die "apt-get install python3-boto3 failed"
fi

# ---------------------------------------------------------------------------------------------------
# Temporary directory, cleanup

WORK=''
STORE_STARTED=0
SERVER_PID=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  # Jobs' runners outlive the server by design: end every process of our work directory.
  if [[ -n $WORK ]]; then
    local p
    for p in /proc/[0-9]*; do
      { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$WORK/jobs" && kill -KILL "${p#/proc/}" 2>/dev/null
    done
  fi
  if ((STORE_STARTED)); then
    "$ROOT/scripts/local-s3" stop --dir "$WORK/store" --purge >/dev/null 2>&1 ||
      log "warning: 'scripts/local-s3 stop --dir $WORK/store --purge' failed; its daemons may still run"
  fi
  [[ -n $WORK && -d $WORK ]] && rm -rf --one-file-system -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$WORK_PARENT/sluice-warm.XXXXXX")
WORK=$(realpath -- "$WORK")
mkdir -p "$WORK/logs" "$WORK/aws" "$WORK/jobs" "$WORK/src"
chmod 700 "$WORK"

bench_loopback_only "$WORK/aws"
unset AWS_ENDPOINT_URL

# ---------------------------------------------------------------------------------------------------
# sluice

if [[ -z $SLUICE_BIN && -x $ROOT/build/sluice ]]; then SLUICE_BIN=$ROOT/build/sluice; fi
bench_sluice "$BUILD_DIR" "$WORK/logs/build.log"
"$SLUICE_BIN" serve --help >/dev/null 2>&1 || die "$SLUICE_BIN has no 'serve' command"

# ---------------------------------------------------------------------------------------------------
# The store and the data: random bytes, uploaded with `sluice cp -r`

bench_start_local_store "$WORK/store"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
BUCKET=warm
"$SLUICE_BIN" mb "s3://$BUCKET" >"$WORK/logs/mb.log" 2>&1 || { cat "$WORK/logs/mb.log" >&2; die "could not make bucket $BUCKET"; }

log "generating and uploading $COUNT x $OBJECT_MIB MiB of random data"
for ((i = 0; i < COUNT; i++)); do
  head -c $((OBJECT_MIB * 1048576)) /dev/urandom >"$WORK/src/part-$(printf %03d "$i").bin"
done
t0=$EPOCHREALTIME
timeout 1800 "$SLUICE_BIN" cp -r --quiet "$WORK/src/" "s3://$BUCKET/data/" >"$WORK/logs/upload.log" 2>&1 ||
  { tail -n 5 "$WORK/logs/upload.log" >&2; die "the upload with 'sluice cp -r' failed"; }
log "uploaded in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
rm -rf -- "$WORK/src"
listed=$("$SLUICE_BIN" ls -r "s3://$BUCKET/data/" | awk '{ n++; s += $3 } END { print n + 0, s + 0 }')
[[ $listed == "$COUNT $((COUNT * OBJECT_MIB * 1048576))" ]] ||
  die "after the upload the store lists '$listed' (objects bytes) under s3://$BUCKET/data/"

# ---------------------------------------------------------------------------------------------------
# The server: one IAM user for the benchmark, one execution role that reads the bucket

acct=123456789012
KEY_ID=AKIASLUICEWARMBENCH1
SECRET=$(head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
EXEC_ROLE=arn:aws:iam::$acct:role/TrainingExecution
cat >"$WORK/iam.json" <<JSON
{"Users": [
  {"Arn": "arn:aws:iam::$acct:user/bench",
   "AccessKeys": [{"AccessKeyId": "$KEY_ID", "SecretAccessKey": "$SECRET"}],
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["sagemaker:*", "logs:*"], "Resource": "*"},
     {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "$EXEC_ROLE"}]}]}],
 "Roles": [
  {"Arn": "$EXEC_ROLE",
   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
      "Action": ["sts:AssumeRole", "sts:TagSession"]}]},
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::$BUCKET/data/*"},
     {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::$BUCKET"},
     {"Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": "arn:aws:s3:::$BUCKET/out/*"}]}]}
]}
JSON
chmod 600 "$WORK/iam.json"

"$SLUICE_BIN" serve --listen 127.0.0.1:0 --iam-config "$WORK/iam.json" --work-dir "$WORK/jobs" \
  --max-jobs 1 --isolation "$ISOLATION" >"$WORK/logs/serve.out" 2>"$WORK/logs/serve.err" &
SERVER_PID=$!
ENDPOINT=''
for _ in $(seq 100); do
  ENDPOINT=$(sed -n 's|^sluice serve: listening on \(http://[^ ]*\) .*|\1|p' "$WORK/logs/serve.out")
  [[ -n $ENDPOINT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -5 "$WORK/logs/serve.err" >&2; die "sluice serve exited"; }
  sleep 0.1
done
[[ -n $ENDPOINT ]] || die "sluice serve did not say where it listens"
log "sluice serve at $ENDPOINT (--isolation $ISOLATION)"

# ---------------------------------------------------------------------------------------------------
# The client: per round a cold job, then the same job again on its pool

cat >"$WORK/client.py" <<'PY'
import json, os, statistics, sys, time
import boto3, botocore

E, BUCKET, ROLE = os.environ["ENDPOINT"], os.environ["BUCKET"], os.environ["EXEC_ROLE"]
ROUNDS, COUNT, BYTES = int(os.environ["ROUNDS"]), int(os.environ["COUNT"]), int(os.environ["BYTES"])
TIMEOUT = int(os.environ["RUN_TIMEOUT"])
kw = dict(endpoint_url=E, region_name="us-east-1", aws_access_key_id=os.environ["KEY_ID"],
          aws_secret_access_key=os.environ["SECRET"],
          config=botocore.config.Config(retries={"max_attempts": 1}))
sm, logs = boto3.client("sagemaker", **kw), boto3.client("logs", **kw)
# The command: its first line is the wall-clock time it started; its second, what its channel holds.
COMMAND = ("import os, time; print('first-line %.6f' % time.time(), flush=True); "
           "d = '/opt/ml/input/data/train'; fs = [os.path.join(d, f) for f in os.listdir(d)]; "
           "print('channel %d %d' % (len(fs), sum(os.path.getsize(f) for f in fs)), flush=True)")


def die(msg):
    print("warm_pool: error: " + msg, file=sys.stderr)
    sys.exit(1)


def run(name, volume):
    t0 = time.time()
    sm.create_training_job(
        TrainingJobName=name, RoleArn=ROLE,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": "sluice/local",
                                "ContainerEntrypoint": ["python3", "-c", COMMAND]},
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/out/"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": volume,
                        "KeepAlivePeriodInSeconds": 600},
        StoppingCondition={"MaxRuntimeInSeconds": TIMEOUT})
    deadline = time.time() + TIMEOUT
    while True:
        d = sm.describe_training_job(TrainingJobName=name)
        if d["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        if time.time() > deadline:
            sm.stop_training_job(TrainingJobName=name)
            die(f"{name} did not end within {TIMEOUT} s")
        time.sleep(0.1)
    t_end = time.time()
    if d["TrainingJobStatus"] != "Completed":
        die(f"{name} is {d['TrainingJobStatus']}: {d.get('FailureReason', '')}")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                        logStreamNamePrefix=name + "/")["logStreams"]
    lines = [e["message"] for e in logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams[0]["logStreamName"],
        startFromHead=True)["events"]]
    first = [l for l in lines if l.startswith("first-line ")]
    chan = [l for l in lines if l.startswith("channel ")]
    if not first or not chan:
        die(f"{name}'s log has no first-line/channel line: {lines[-5:]}")
    if chan[0] != f"channel {COUNT} {BYTES}":
        die(f"{name}'s channel held '{chan[0]}', expected 'channel {COUNT} {BYTES}'")
    return {"job": name, "start_s": float(first[0].split()[1]) - t0, "completed_s": t_end - t0,
            "warm_pool": d.get("WarmPoolStatus", {})}


runs = []
for r in range(ROUNDS):
    tag = f"{os.getpid()}-{r}"
    volume = 10 + r   # a round's jobs never match another round's pool
    cold = run(f"cold-{tag}", volume)
    warm = run(f"warm-{tag}", volume)
    pool = sm.describe_training_job(TrainingJobName=cold["job"]).get("WarmPoolStatus", {})
    if pool.get("Status") != "Reused" or pool.get("ReusedByJob") != warm["job"]:
        die(f"{cold['job']}'s pool is {pool}, expected Reused by {warm['job']}")
    sm.update_training_job(TrainingJobName=warm["job"], ResourceConfig={"KeepAlivePeriodInSeconds": 0})
    print(f"round {r + 1}: cold {cold['start_s']:.3f} s, warm {warm['start_s']:.3f} s to the first line "
          f"(completed after {cold['completed_s']:.2f} / {warm['completed_s']:.2f} s)", file=sys.stderr, flush=True)
    runs.append({"round": r + 1, "cold": cold, "warm": warm})

med = {k: statistics.median(x[k]["start_s"] for x in runs) for k in ("cold", "warm")}
medc = {k: statistics.median(x[k]["completed_s"] for x in runs) for k in ("cold", "warm")}
print(json.dumps({"runs": runs, "median_start_s": med, "median_completed_s": medc,
                  "speedup": med["cold"] / med["warm"]}))
PY

log "$ROUNDS rounds: a cold job, then the same job on its warm pool ($COUNT x $OBJECT_MIB MiB File channel)"
env ENDPOINT="$ENDPOINT" BUCKET="$BUCKET" EXEC_ROLE="$EXEC_ROLE" KEY_ID="$KEY_ID" SECRET="$SECRET" \
  ROUNDS="$ROUNDS" COUNT="$COUNT" BYTES=$((COUNT * OBJECT_MIB * 1048576)) RUN_TIMEOUT="$RUN_TIMEOUT" \
  AWS_ACCESS_KEY_ID='' AWS_SECRET_ACCESS_KEY='' AWS_ENDPOINT_URL='' \
  "$PY" "$WORK/client.py" >"$WORK/result.json" || { tail -5 "$WORK/logs/serve.err" >&2; die "the client failed (above)"; }

"$PY" - "$WORK/result.json" "$MIB" "$ROUNDS" "$(nproc)" "$("$SLUICE_BIN" --version 2>/dev/null | head -1)" "$OUT" <<'PY'
import json, sys
path, mib, rounds, cores, version, out = sys.argv[1:]
r = json.load(open(path))
print(f"\nwarm pool: File channel of {mib} MiB, medians of {rounds} rounds ({cores} cores, {version})")
print(f"{'start':<6} {'to first line':>14} {'to Completed':>13}   runs (seconds to first line)")
for k in ("cold", "warm"):
    runs = " ".join(f"{x[k]['start_s']:.3f}" for x in r["runs"])
    print(f"{k:<6} {r['median_start_s'][k]:>12.3f} s {r['median_completed_s'][k]:>11.2f} s   {runs}")
print(f"warm is {r['speedup']:.1f}x faster to the first line")
if out:
    r.update({"mib": int(mib), "rounds": int(rounds), "cores": int(cores), "sluice": version})
    json.dump(r, open(out, "w"), indent=1)
PY
