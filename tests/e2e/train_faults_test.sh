#!/usr/bin/env bash
# The input modes and the model upload with a faulty store between Sluice and RGW (issue 7):
# Sluice talks to tests/tools/fault_proxy.py, which forwards to the store and answers a share of
# the requests with 503 SlowDown, 500 InternalError, a reset before the answer, a reset or a clean
# close in the middle of the body. The training script is tests/e2e/scripts/fault_check.py; the
# expected sha256 of every object is computed here and given to it as a hyperparameter (the first
# 96 bits of each, to stay within the 2500 characters of a hyperparameter).
#  1. File mode, 10% of requests faulted (2 seeds) and 30% (1 seed): every job completes and the
#     script saw every input file byte for byte. Faults the retries cannot absorb (every GET after the 8th faulted,
#     AWS_MAX_ATTEMPTS=3): exit 1, Failed, FailureReason names the channel; every file under a final
#     name equals its source and no temporary file is left.
#  2. `sluice mount` (FastFile) through the proxy: with 20% faulted, every file read returns its
#     source's bytes or EIO (never other bytes); with every request faulted, reads of what was not
#     fetched yet fail with EIO (whatever bytes came before the EIO are right); once the store
#     answers again a read succeeds with the right bytes and the mount process is alive.
#  3. Pipe mode, RecordIO, read with python/sluice_pipe: with 10% faulted the reader gets every
#     record, each the right object; with every GET after the 15th faulted the job fails (exit 1,
#     Failed, FailureReason names the channel) and every record the reader got was whole and right.
#  4. Model upload (a 20 MiB model.bin: a multipart model.tar.gz) with 10% of PUT/POST faulted, and
#     with the answer to CompleteMultipartUpload lost (reset after the store applied it): Completed,
#     and model.tar.gz read directly from the store (not through the proxy) holds the model byte
#     for byte; with every part upload after the first faulted: Failed, FailureReason about the
#     upload, no model.tar.gz. Checkpoints (CheckpointConfig; a 12 MiB one is multipart) with 10% of
#     PUT/POST faulted: every checkpoint arrives whole. In every case no multipart upload is left.
# After every job no process of it is left.
# The number of faults injected is counted in the proxy's log and printed.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init faults
started=$SECONDS
MiB=$((1 << 20))
proxy_py=$src/tests/tools/fault_proxy.py
[[ -r $proxy_py ]] || fail "no $proxy_py"
store_url=$AWS_ENDPOINT_URL

proxy_pid=""
mount_pid=""
mnt=$tmp/mnt
faults_cleanup() {
  local rc=$?
  set +e
  if [[ -n $mount_pid ]]; then
    "$sluice" unmount "$mnt" >/dev/null 2>&1 || fusermount3 -uz "$mnt" 2>/dev/null
    kill -TERM "$mount_pid" 2>/dev/null
    sleep 0.5
    kill -KILL "$mount_pid" 2>/dev/null
  fi
  grep -qF " $mnt " /proc/self/mountinfo && { fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt"; }
  [[ -n $proxy_pid ]] && kill -TERM "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  for p in $(pids_with_token "$tmp/work"); do kill -KILL "$p" 2>/dev/null; done
  (exit "$rc")
  e2e_cleanup
}
trap faults_cleanup EXIT

# start_proxy NAME [PORT] -- ARGS...: a fault proxy in front of the store, logging to $tmp/NAME.log;
# sets proxy_pid and proxy_url. With PORT, it listens there (to come back where a mount expects it).
start_proxy() {
  local name=$1 port=0
  shift
  if [[ $1 != -- ]]; then port=$1; shift; fi
  shift
  rm -f "$tmp/$name.port"
  python3 "$proxy_py" --upstream "$store_url" --port "$port" --port-file "$tmp/$name.port" \
    --log "$tmp/$name.log" --max-lifetime 300 "$@" 2>>"$tmp/proxy.err" &
  proxy_pid=$!
  wait_for_file "$tmp/$name.port" 10 || fail "the fault proxy did not start: $(cat "$tmp/proxy.err")"
  proxy_url=http://127.0.0.1:$(cat "$tmp/$name.port")
}
stop_proxy() {
  kill -TERM "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=""
}
# faults NAME: "F faults in R requests (kinds)" from the proxy's log
faults() {
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^fault=/) { f = substr($i, 7); n++; if (f != "ok") { k++; c[f]++ } } }
       END { s = ""; for (f in c) s = s " " f ":" c[f]; printf "%d faults in %d requests (%s)\n", k, n, substr(s, 2) }' "$tmp/$1.log"
}

# --- the dataset: 36 objects, 1 byte to 18 MiB (the largest is read in 3 ranged parts) --------------
sizes=(1 1000 65536 $((MiB - 3)) $((MiB + 5)) $((2 * MiB)) $((3 * MiB + 7)) 200000 $((18 * MiB + 11)) 777 $((5 * MiB)) 4096)
for i in $(seq 24); do sizes+=($((i * 37000 + 5))); done
for i in "${!sizes[@]}"; do
  rand_file "$tmp/src/d$((i % 3))/obj-$(printf %02d "$i").bin" "${sizes[$i]}"
done
"$sluice" cp -r -q "$tmp/src" "s3://$bucket/ds/" || fail "upload failed"
sums=$(cd "$tmp/src" && python3 -c '
import hashlib, json, os
paths = sorted(os.path.join(d, n)[2:] for d, _, ns in os.walk(".") for n in ns)
print(json.dumps([[p, hashlib.sha256(open(p, "rb").read()).hexdigest()[:24]] for p in paths], separators=(",", ":")))')
nobj=${#sizes[@]}

# make_job FILE NAME MODE ENTRY-ARGS-JSON [RECORDIO]: a job reading s3://$bucket/ds/ as "train"
# (MODE none: no input channel); with CHECKPOINT_URI set, a CheckpointConfig with that S3Uri
make_job() {
  python3 - "$@" <<PY
import json, sys
path, name, mode, args = sys.argv[1:5]
recordio = len(sys.argv) > 5
ch = {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/ds/"}}}
if recordio:
    ch["RecordWrapperType"] = "RecordIO"
job = {
    "TrainingJobName": name,
    "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
    "AlgorithmSpecification": {"TrainingInputMode": mode,
                               # The python/ directory is named in the command as well, so that the sandbox
                               # binds it when the checkout is under /tmp (the job's /tmp is private).
                               "ContainerEntrypoint": ["python3", "$scripts/fault_check.py"] + json.loads(args) + ["$src/python"]},
    "HyperParameters": {"sums": '''$sums''', "sluice_python": "$src/python"},
    "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 120},
}
if mode != "none":
    job["InputDataConfig"] = [ch]
else:
    job["AlgorithmSpecification"]["TrainingInputMode"] = "File"
if "${CHECKPOINT_URI:-}":
    job["CheckpointConfig"] = {"S3Uri": "${CHECKPOINT_URI:-}"}
json.dump(job, open(path, "w"), indent=1)
PY
}
status_of() { json_get "$tmp/work/$1/status.json" "$2"; }
# ftrain RCVAR JOB.json ARGS...: `train`, then no process of the job may be left
ftrain() {
  train "$@"
  local left
  left=$(pids_with_token "$tmp/work")
  [[ -z $left ]] || fail "processes of the job are left: $left"
}


# --- 1. File mode ---------------------------------------------------------------------------------------
for seed in 1 2 3; do
  job=faults-file-$seed-$$-$RANDOM
  rate=0.1
  ((seed < 3)) || rate=0.3
  make_job "$tmp/$job.json" "$job" File '["files", "train"]'
  start_proxy "file-$seed" -- --seed "$seed" --rate "$rate"
  AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
  stop_proxy
  expect_rc "$rc" 0 "File mode with rate $rate faults (seed $seed; $(faults "file-$seed"))"
  grep -q "^\[algo-1\] checked $nobj files$" "$tmp/train.err" || { show_train_log; fail "the script did not check $nobj files"; }
  note "1. File mode, rate $rate, seed $seed: Completed, $nobj files byte-exact; $(faults "file-$seed")"
done

job=faults-file-fail-$$-$RANDOM
make_job "$tmp/$job.json" "$job" File '["files", "train"]'
start_proxy file-fail -- --methods GET --at "$(seq -s, 9 600)" --faults 503,reset-mid,short-body
AWS_MAX_ATTEMPTS=3 AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
stop_proxy
expect_rc "$rc" 1 "File mode with every GET after the 8th faulted"
[[ $(status_of "$job" 'd["TrainingJobStatus"]') == Failed ]] || fail "not Failed"
reason=$(status_of "$job" 'd.get("FailureReason", "")')
[[ $reason == ClientError:*"channel 'train'"* ]] || fail "FailureReason does not name the channel: $reason"
n=$(check_tree "$tmp/work/$job/algo-1/input/data/train" "$tmp/src") || fail "after the failed download (above)"
note "1. File mode, unabsorbable: Failed, $n of $nobj files complete and right, nothing partial; $(faults file-fail)"
note "   FailureReason: $reason"

# --- 2. sluice mount ------------------------------------------------------------------------------------
# read_all DIR FILES...: reads each file (1 MiB at a time); prints per file "ok", "eio AFTER-BYTES" or
# "WRONG"; exits 1 when any read returned bytes that are not the source's.
cat >"$tmp/read.py" <<'PY'
import errno, os, sys
mnt, src = sys.argv[1], sys.argv[2]
wrong = False
for rel in sys.argv[3:]:
    want = open(os.path.join(src, rel), "rb").read()
    got, err = b"", None
    try:
        with open(os.path.join(mnt, rel), "rb", buffering=0) as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                got += b
    except OSError as e:
        err = e
    if got != want[:len(got)] or (err is None and got != want):
        print(f"{rel} WRONG ({len(got)} bytes{', then ' + str(err) if err else ''})")
        wrong = True
    elif err is not None:
        if err.errno != errno.EIO:
            print(f"{rel} WRONG (error {err}, expected EIO)")
            wrong = True
        else:
            print(f"{rel} eio {len(got)}")
    else:
        print(f"{rel} ok")
sys.exit(1 if wrong else 0)
PY
mapfile -t files < <(cd "$tmp/src" && find . -type f | sed 's|^\./||' | sort)
first=("${files[@]:0:24}") rest=("${files[@]:24}")
mkdir -p "$mnt"
start_proxy mount-a -- --seed 7 --rate 0.2
port=${proxy_url##*:}
AWS_MAX_ATTEMPTS=4 AWS_ENDPOINT_URL=$proxy_url "$sluice" mount "s3://$bucket/ds/" "$mnt" --direct-io \
  --log-file "$tmp/mount.log" 2>"$tmp/mount.err" || fail "sluice mount through the proxy failed: $(cat "$tmp/mount.err")"
mount_pid=$(sed -n 's/.*(pid \([0-9][0-9]*\);.*/\1/p' "$tmp/mount.err" | sed -n 1p)
[[ -n $mount_pid ]] || fail "no mount pid in: $(cat "$tmp/mount.err")"
python3 "$tmp/read.py" "$mnt" "$tmp/src" "${first[@]}" >"$tmp/read-a.out" || fail "wrong bytes from the mount with 20% faults: $(cat "$tmp/read-a.out")"
note "2. mount, 20% faults: $(grep -c ' ok$' "$tmp/read-a.out") files right, $(grep -c ' eio ' "$tmp/read-a.out" || true) EIO; $(faults mount-a)"
stop_proxy
start_proxy mount-b "$port" -- --rate 1.0 --faults 503,500,reset-mid,short-body,reset-before
python3 "$tmp/read.py" "$mnt" "$tmp/src" "${rest[@]}" >"$tmp/read-b.out" || fail "wrong bytes from the mount with every request faulted: $(cat "$tmp/read-b.out")"
eio=$(grep -c ' eio ' "$tmp/read-b.out" || true)
((eio > 0)) || fail "with every request faulted, no read failed: $(cat "$tmp/read-b.out")"
note "2. mount, every request faulted: $eio of ${#rest[@]} files EIO, the others right; $(faults mount-b)"
stop_proxy
kill -0 "$mount_pid" 2>/dev/null || fail "the mount process died under the faults"
start_proxy mount-c "$port" --
python3 "$tmp/read.py" "$mnt" "$tmp/src" "${rest[@]}" >"$tmp/read-c.out" || fail "wrong bytes after the faults: $(cat "$tmp/read-c.out")"
[[ $(grep -c ' ok$' "$tmp/read-c.out") == "${#rest[@]}" ]] || fail "reads after the faults ended: $(cat "$tmp/read-c.out")"
kill -0 "$mount_pid" 2>/dev/null || fail "the mount process is gone"
"$sluice" unmount "$mnt" || fail "sluice unmount failed"
for _ in $(seq 50); do kill -0 "$mount_pid" 2>/dev/null || break; sleep 0.1; done
mount_pid=""
stop_proxy
note "2. mount: after the faults every read is right again"

# --- 3. Pipe mode, RecordIO -------------------------------------------------------------------------------
job=faults-pipe-$$-$RANDOM
make_job "$tmp/$job.json" "$job" Pipe '["recordio", "train"]' recordio
start_proxy pipe -- --seed 11 --rate 0.1
AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
stop_proxy
expect_rc "$rc" 0 "Pipe mode with 10% faults ($(faults pipe))"
grep -q "^\[algo-1\] checked $nobj records$" "$tmp/train.err" || { show_train_log; fail "the script did not check $nobj records"; }
note "3. Pipe, 10% faults: Completed, $nobj records right; $(faults pipe)"

job=faults-pipe-fail-$$-$RANDOM
make_job "$tmp/$job.json" "$job" Pipe '["recordio", "train"]' recordio
start_proxy pipe-fail -- --methods GET --at "$(seq -s, 16 600)" --faults 503,reset-mid,short-body
AWS_MAX_ATTEMPTS=3 AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work" --stop-grace 5
stop_proxy
expect_rc "$rc" 1 "Pipe mode with every GET after the 15th faulted"
[[ $(status_of "$job" 'd["TrainingJobStatus"]') == Failed ]] || fail "not Failed"
reason=$(status_of "$job" 'd.get("FailureReason", "")')
[[ $reason == ClientError:*"channel 'train'"* ]] || fail "FailureReason does not name the channel: $reason"
log=$tmp/work/$job/algo-1/output/data/records.txt
[[ ! -e $tmp/work/$job/algo-1/output/failure ]] || fail "the reader saw a wrong record: $(cat "$tmp/work/$job/algo-1/output/failure")"
got=$( [[ -e $log ]] && wc -l <"$log" || echo 0)
((got < nobj)) || fail "the reader got all $nobj records although the job failed"
note "3. Pipe, unabsorbable: Failed, the reader got $got whole right records; $(faults pipe-fail)"
note "   FailureReason: $reason"

# --- 4. model upload --------------------------------------------------------------------------------------
# no_uploads: no multipart upload in progress in the bucket (ListMultipartUploads, directly).
no_uploads() {
  local out
  out=$(curl -sS --max-time 20 --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$store_url/$bucket?uploads=") || fail "ListMultipartUploads failed"
  [[ $out == *ListMultipartUploadsResult* ]] || fail "unexpected ListMultipartUploads answer: $out"
  [[ $out != *"<Upload>"* ]] || fail "multipart uploads are left: $out"
}
# model_ok JOB: model.tar.gz, read directly from the store, holds the job's model.bin
model_ok() {
  rm -rf "$tmp/model" "$tmp/model.tar.gz"
  "$sluice" cp -q "s3://$bucket/out/$1/output/model.tar.gz" "$tmp/model.tar.gz" || fail "no model.tar.gz in the store"
  mkdir -p "$tmp/model"
  tar -xzf "$tmp/model.tar.gz" -C "$tmp/model" || fail "model.tar.gz is not a complete archive"
  cmp "$tmp/model/model.bin" "$tmp/work/$1/algo-1/model/model.bin" || fail "model.bin in model.tar.gz differs from the job's"
}
job=faults-model-$$-$RANDOM
make_job "$tmp/$job.json" "$job" none '["model", "20"]'
start_proxy model -- --seed 5 --rate 0.1 --at 1,3 --methods PUT,POST
AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
stop_proxy
expect_rc "$rc" 0 "model upload with 10% faults ($(faults model))"
grep -q 'method=POST.*uploads' "$tmp/model.log" || fail "model.tar.gz was not uploaded multipart"
model_ok "$job"
no_uploads
note "4. model upload, 10% of PUT/POST faulted (and the 1st and 3rd): Completed, model.tar.gz complete; $(faults model)"

# The store completes the multipart upload, but the answer is lost (reset): the retry must not fail it.
job=faults-model-complete-$$-$RANDOM
make_job "$tmp/$job.json" "$job" none '["model", "20"]'
start_proxy model-complete -- --methods POST --at 2 --faults reset-before
AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
stop_proxy
expect_rc "$rc" 0 "model upload whose CompleteMultipartUpload answer was lost ($(faults model-complete))"
grep -q 'n=2 method=POST .*uploadId=.* fault=reset-before' "$tmp/model-complete.log" ||
  fail "the fault did not hit CompleteMultipartUpload: $(cat "$tmp/model-complete.log")"
model_ok "$job"
no_uploads
note "4. model upload, CompleteMultipartUpload applied but its answer reset: Completed, model.tar.gz complete"

# Checkpoints (uploaded while the job runs and at its end): all arrive whole, and a multipart
# upload whose CreateMultipartUpload answer was lost is found and aborted (no upload left).
job=faults-ckpt-$$-$RANDOM
CHECKPOINT_URI=s3://$bucket/ckpt/$job/ make_job "$tmp/$job.json" "$job" none '["checkpoint", "12"]'
start_proxy ckpt -- --seed 9 --rate 0.1 --at 2,4 --methods PUT,POST
AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
stop_proxy
expect_rc "$rc" 0 "checkpoint upload with 10% faults ($(faults ckpt))"
"$sluice" cp -r -q "s3://$bucket/ckpt/$job/" "$tmp/ckpt-back" || fail "cannot read the checkpoints back"
diff -r "$tmp/work/$job/algo-1/checkpoints" "$tmp/ckpt-back" >&2 || fail "the checkpoints in the store differ from the job's"
[[ $(find "$tmp/ckpt-back" -type f | wc -l) == 3 ]] || fail "expected 3 checkpoint objects: $(find "$tmp/ckpt-back" -type f)"
no_uploads
note "4. checkpoints, 10% of PUT/POST faulted (and the 2nd and 4th): 3 checkpoints complete in the store; $(faults ckpt)"

job=faults-model-fail-$$-$RANDOM
make_job "$tmp/$job.json" "$job" none '["model", "20"]'
start_proxy model-fail -- --methods PUT --at "$(seq -s, 2 300)" --faults 503,reset-mid,reset-before
AWS_MAX_ATTEMPTS=3 AWS_ENDPOINT_URL=$proxy_url ftrain rc "$tmp/$job.json" --work-dir "$tmp/work"
stop_proxy
expect_rc "$rc" 1 "model upload with every part after the first faulted"
[[ $(status_of "$job" 'd["TrainingJobStatus"]') == Failed ]] || fail "not Failed"
reason=$(status_of "$job" 'd.get("FailureReason", "")')
[[ $reason == ClientError:*model* ]] || fail "FailureReason does not say the model upload failed: $reason"
! "$sluice" ls "s3://$bucket/out/$job/output/model.tar.gz" >/dev/null 2>&1 || fail "a model.tar.gz exists after the upload failed"
no_uploads
note "4. model upload, unabsorbable: Failed, no model.tar.gz, no multipart upload left; $(faults model-fail)"
note "   FailureReason: $reason"

echo "train_faults: ok ($((SECONDS - started)) s)"
