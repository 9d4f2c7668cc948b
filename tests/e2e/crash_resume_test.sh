#!/usr/bin/env bash
# kill -9 in the middle of a download, then the same command again (issue 7, crash and resume):
#  1. `sluice cp -r` of 40 objects (2-4 MiB each, in two directories), one request at a time,
#     killed with SIGKILL once about a third of the files are in place: every file under a final
#     name equals its source (sha256) and the rest are only ".sluice-partial-" files; the rerun
#     exits 0, says (--json) that it copied exactly the files that were not complete and skipped
#     the others, the store's access log shows one GET for each of those keys and none for the
#     others, every file is byte-exact and no temporary file is left;
#  2. `sluice train` of a File-mode job on the same prefix, killed with SIGKILL during the
#     channel's download: no process of the job is left and nothing is mounted under the work
#     directory; a plain rerun is refused (exit 2, ResourceInUse, InProgress interrupted), and
#     `--resume` (same work directory, same name) completes, its log says
#     how many files were "already present" (those complete at the kill, less at most one renamed
#     but not yet recorded), the access log shows GETs only for the others, and the training script checks the sha256 of every input
#     file against a list given as a second channel (and that there is no other file);
#  3. `sluice train` killed with SIGKILL while the training command (a script that ignores SIGTERM,
#     and its child) runs: within 5 s no process of the job is left (the sandbox dies with its
#     parent) and nothing is mounted under the work directory.
# The GETs are counted in the RGW gateway's access log ($SLUICE_LOCAL_S3_DIR/log/client.rgw.local.log,
# one "beast:" line per request, written once the request ends).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init crash
started=$SECONDS
MiB=$((1 << 20))

rgw_log=${SLUICE_LOCAL_S3_DIR:?}/log/client.rgw.local.log
[[ -r $rgw_log ]] || fail "the store's access log $rgw_log is not readable"

bg_pid=""
crash_cleanup() {
  local rc=$?
  set +e
  if [[ -n $bg_pid ]]; then kill -KILL "$bg_pid" 2>/dev/null; kill -CONT "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; fi
  (exit "$rc")
  e2e_cleanup
}
trap crash_cleanup EXIT

# kill_when_files DIR N PID: SIGKILLs PID once DIR holds N files under final names (not
# ".sluice-partial-*"). PID starts stopped (see stopped); the files are counted while it is stopped
# (SIGSTOP) and it runs only 5 ms between counts, so that it cannot get far past N however fast the
# store is. Fails when PID ends first or after 60 s.
kill_when_files() {
  python3 - "$@" <<'PY'
import os, signal, sys, time
root, want, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def finals():
    n = 0
    for d, _, names in os.walk(root):
        n += sum(1 for x in names if not x.startswith(".sluice-partial-"))
    return n
def state():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        sys.exit(f"process {pid} ended before {want} files were in {root}")
    while state() not in ("T", "t", "Z", "gone"):
        time.sleep(0.0005)
    if state() in ("Z", "gone"):
        sys.exit(f"process {pid} ended before {want} files were in {root}")
    if finals() >= want:
        os.kill(pid, signal.SIGKILL)
        sys.exit(0)
    os.kill(pid, signal.SIGCONT)
    time.sleep(0.005)
os.kill(pid, signal.SIGCONT)
sys.exit(f"{root} did not get {want} files within 60 s")
PY
}

# "${stopped[@]}" CMD... &: runs CMD stopped from its start (the shell stops itself, then execs CMD,
# so $! is CMD's pid) until kill_when_files lets it go on.
# shellcheck disable=SC2016  # expanded by that shell
stopped=(sh -c 'kill -STOP $$ && exec "$@"' sh)

# check_tree_sums DIR: every file under a final name in DIR is a source file with the right bytes;
# prints the relative paths of those files (sorted) on stdout and the number of partial files on
# stderr as "partial N".
check_tree_sums() {
  python3 - "$1" "$tmp/sums" <<'PY'
import hashlib, os, sys
root, sums = sys.argv[1], {}
for line in open(sys.argv[2]):
    h, p = line.split(None, 1)
    sums[p.strip()] = h
finals, partial, bad = [], 0, []
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        if n.startswith(".sluice-partial-"):
            partial += 1
            continue
        rel = os.path.relpath(p, root)
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        if sums.get(rel) != h:
            bad.append(f"{rel} ({'not a source file' if rel not in sums else 'wrong bytes'})")
        finals.append(rel)
if bad:
    sys.exit("files under a final name that are not their source: " + ", ".join(bad))
print("\n".join(sorted(finals)))
print(f"partial {partial}", file=sys.stderr)
PY
}

# gets_since OFFSET PREFIX WANT: the keys (sorted, one per line, repeated when fetched twice) of the
# object GETs under s3://$bucket/PREFIX in the access log after byte OFFSET. The log is written by
# a thread of its own: waits (at most 15 s) until it holds at least WANT of them and then until
# the count has not changed for 0.5 s.
gets_since() {
  local last=-1 now
  for _ in $(seq 30); do
    now=$(tail -c +"$(($1 + 1))" "$rgw_log" | grep -c "\"GET /$bucket/$2" || true)
    ((now >= $3)) && [[ $now == "$last" ]] && break
    last=$now
    sleep 0.5
  done
  tail -c +"$(($1 + 1))" "$rgw_log" | sed -n "s|.*\"GET /$bucket/$2\([^ ?]*\) HTTP.*|\1|p" | sort
}

# --- the dataset: 40 objects of 2-4 MiB (odd sizes), in two directories ----------------------------
for i in $(seq -w 1 40); do
  d=$((10#$i % 2 ? 1 : 2))
  rand_file "$tmp/src/dir$d/f$i.bin" $((2 * MiB + (RANDOM * 64 + 10#$i) % (2 * MiB)))
done
(cd "$tmp/src" && find . -type f | sed 's|^\./||' | sort | while read -r f; do sha256sum "$f"; done) |
  awk '{ print $1, $2 }' >"$tmp/sums"
[[ $(wc -l <"$tmp/sums") == 40 ]] || fail "made $(wc -l <"$tmp/sums") files, expected 40"
total_bytes=$(du -cb "$tmp/src" | awk 'END { print $1 }')
"$sluice" cp -r -q "$tmp/src" "s3://$bucket/ds/" || fail "uploading the dataset failed"
note "dataset: 40 files, $((total_bytes / MiB)) MiB ($((SECONDS - started)) s)"

# --- 1. sluice cp -r, killed ------------------------------------------------------------------------
note "1. kill -9 of sluice cp -r"
"${stopped[@]}" "$sluice" --max-connections 1 cp -r -q "s3://$bucket/ds/" "$tmp/dst" 2>"$tmp/cp1.err" &
bg_pid=$!
kill_when_files "$tmp/dst" 12 "$bg_pid" || fail "could not kill sluice cp in the middle of the download"
rc=0
wait "$bg_pid" || rc=$?
bg_pid=""
[[ $rc == 137 ]] || fail "the killed sluice cp exited $rc, expected 137 (SIGKILL): $(cat "$tmp/cp1.err")"
check_tree_sums "$tmp/dst" >"$tmp/complete1" 2>"$tmp/partial1" || fail "after kill -9 of sluice cp (above)"
k=$(wc -l <"$tmp/complete1")
partial=$(awk '{ print $2 }' "$tmp/partial1")
note "killed with $k of 40 files complete, $partial partial files"
((k >= 12 && k < 40)) || fail "$k files were complete at the kill, expected 12..39"
((partial > 0)) || fail "no partial file after kill -9 in the middle of the download"

offset=$(stat -c %s "$rgw_log")
"$sluice" cp -r --json "s3://$bucket/ds/" "$tmp/dst" >"$tmp/cp2.json" 2>"$tmp/cp2.err" ||
  fail "the rerun of sluice cp failed: $(cat "$tmp/cp2.err")"
check_tree_sums "$tmp/dst" >"$tmp/complete2" 2>"$tmp/partial2" || fail "after the rerun of sluice cp (above)"
cmp -s "$tmp/complete2" <(awk '{ print $2 }' "$tmp/sums" | sort) || fail "after the rerun the files are not the 40 sources"
[[ $(cat "$tmp/partial2") == "partial 0" ]] || fail "the rerun left temporary files: $(find "$tmp/dst" -name '.sluice-partial-*')"
copied=$(json_get "$tmp/cp2.json" 'd["objects"]')
skipped=$(json_get "$tmp/cp2.json" 'd["skipped_objects"]')
[[ $copied == $((40 - k)) && $skipped == "$k" ]] ||
  fail "the rerun copied $copied and skipped $skipped objects; expected $((40 - k)) and $k: $(cat "$tmp/cp2.json")"
gets_since "$offset" ds/ $((40 - k)) >"$tmp/gets1"
comm -23 <(awk '{ print $2 }' "$tmp/sums" | sort) "$tmp/complete1" >"$tmp/missing1"
diff "$tmp/missing1" "$tmp/gets1" >&2 ||
  fail "the rerun's GETs (right) are not exactly the files that were incomplete (left)"
note "1. ok: the rerun fetched $(wc -l <"$tmp/gets1") of 40 objects (GETs in the store's log), skipped $k ($((SECONDS - started)) s)"

# --- 2. sluice train, killed during the File-mode download -------------------------------------------
note "2. kill -9 of sluice train during the download"
job=crash-$$-$RANDOM
# The training script (it checks every input file against the list) and the list come as a
# second channel, "aux".
mkdir -p "$tmp/aux"
cp "$tmp/sums" "$tmp/aux/sums.txt"
cat >"$tmp/aux/check.py" <<'PY'
import hashlib, os, sys
data, aux = os.environ["SM_CHANNEL_TRAIN"], os.environ["SM_CHANNEL_AUX"]
want = dict(reversed(l.split()) for l in open(os.path.join(aux, "sums.txt")))
got = {}
for d, _, names in os.walk(data):
    for n in names:
        p = os.path.join(d, n)
        got[os.path.relpath(p, data)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
if bad:
    open("/opt/ml/output/failure", "w").write("input files differ from their sources: " + " ".join(bad))
    sys.exit(1)
print("checked %d files" % len(got))
PY
"$sluice" cp -r -q "$tmp/aux" "s3://$bucket/aux/" || fail "uploading the checking script failed"
# shellcheck disable=SC2016  # $SM_CHANNEL_AUX is the job's
entry='["sh", "-c", "exec python3 \"$SM_CHANNEL_AUX/check.py\""]'
cat >"$tmp/job.json" <<EOF
{
  "TrainingJobName": "$job",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": $entry},
  "InputDataConfig": [
    {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/ds/"}}},
    {"ChannelName": "aux", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/aux/"}}}
  ],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 300}
}
EOF
chan=$tmp/work/$job/algo-1/input/data/train
"${stopped[@]}" "$sluice" --max-connections 1 train "$tmp/job.json" --work-dir "$tmp/work" 2>"$tmp/train1.err" >/dev/null &
bg_pid=$!
kill_when_files "$chan" 12 "$bg_pid" || { cat "$tmp/train1.err" >&2; fail "could not kill sluice train during its download"; }
rc=0
wait "$bg_pid" || rc=$?
bg_pid=""
[[ $rc == 137 ]] || fail "the killed sluice train exited $rc, expected 137"
sleep 0.2
left=$(pids_with_token "$tmp/work")
[[ -z $left ]] || fail "processes of the killed job are left: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
[[ -z $(awk -v p="$tmp/work/" 'index($5, p) == 1' /proc/self/mountinfo) ]] || fail "a mount is left under the work directory"
check_tree_sums "$chan" >"$tmp/complete3" 2>"$tmp/partial3" || fail "after kill -9 of sluice train (above)"
k=$(wc -l <"$tmp/complete3")
note "killed with $k of 40 files complete, $(awk '{ print $2 }' "$tmp/partial3") partial files"
((k >= 12 && k < 40)) || fail "$k files were complete at the kill, expected 12..39"
[[ $(json_get "$tmp/work/$job/status.json" 'd["TrainingJobStatus"]') == InProgress ]] ||
  fail "status.json of the killed job: $(json_get "$tmp/work/$job/status.json" 'd["TrainingJobStatus"]')"

offset=$(stat -c %s "$rgw_log")
# A job of that name exists (InProgress, interrupted): a plain rerun is refused (SageMaker refuses
# a duplicate TrainingJobName); --resume runs it again on the verified inputs.
train rc "$tmp/job.json" --work-dir "$tmp/work"
expect_rc "$rc" 2 "a plain rerun of the killed job"
grep -q "ResourceInUse: training job '$job' already exists (InProgress, interrupted" "$tmp/train.err" ||
  { show_train_log; fail "the refusal does not name the interrupted job"; }
SLUICE_LOG=info train rc "$tmp/job.json" --work-dir "$tmp/work" --resume
expect_rc "$rc" 0 "the --resume of the killed job"
[[ $(json_get "$tmp/work/$job/status.json" 'd["TrainingJobStatus"]') == Completed ]] || fail "the rerun is not Completed"
grep -q '^\[algo-1\] checked 40 files$' "$tmp/train.err" || { show_train_log; fail "the training script did not check 40 files"; }
# A file is recorded (key, ETag, inode, ctime) just after its rename to the final name, so a kill
# between the two leaves one complete file that is not recorded: the rerun cannot vouch for it and
# fetches it again. With one connection at most one file is in that window.
present=$(sed -nE "s/.*channel 'train': 40 files, .* \(([0-9]+) already present\)$/\1/p" "$tmp/train.err")
[[ $present == "$k" || $present == $((k - 1)) ]] ||
  { show_train_log; fail "the rerun's log says '${present:-no number} already present' for the channel; expected $k (or $((k - 1)): one file renamed but not yet recorded at the kill)"; }
gets_since "$offset" ds/ $((40 - present)) >"$tmp/gets2"
comm -23 <(awk '{ print $2 }' "$tmp/sums" | sort) "$tmp/complete3" >"$tmp/missing3"
[[ $(wc -l <"$tmp/gets2") == $((40 - present)) ]] && [[ -z $(comm -23 "$tmp/missing3" "$tmp/gets2") ]] ||
  { diff "$tmp/missing3" "$tmp/gets2" >&2; fail "the rerun's GETs (right) are not the $((40 - present)) files it did not find complete and recorded (left: incomplete at the kill)"; }
[[ -z $(find "$chan" -name '.sluice-partial-*') ]] || fail "temporary files left in the channel: $(find "$chan" -name '.sluice-partial-*')"
[[ -z $(pids_with_token "$tmp/work") ]] || fail "processes of the job are left after the rerun"
note "2. ok: the rerun fetched $(wc -l <"$tmp/gets2") of 40 objects, $present already present of $k complete ($((SECONDS - started)) s)"

# kill_while_running JOB.json JOB TOKEN [sluice train args]: starts the job, waits until its command
# (long-running, with a child; both name TOKEN) has written code/started, kills sluice train with
# SIGKILL and checks that every process with TOKEN is gone within 5 s. Sets n (processes seen).
kill_while_running() {
  local job_file=$1 name=$2 tok=$3 p left
  shift 3
  "$sluice" train "$job_file" --work-dir "$tmp/work" "$@" 2>"$job_file.err" >/dev/null &
  bg_pid=$!
  wait_for_file "$tmp/work/$name/algo-1/code/started" 30 || { cat "$job_file.err" >&2; fail "the job's command never started"; }
  n=$(pids_with_token "$tok" | wc -l)
  ((n >= 2)) || fail "the script and its child are not both running ($n processes with the token)"
  kill -KILL "$bg_pid"
  wait "$bg_pid" 2>/dev/null || true
  bg_pid=""
  for _ in $(seq 50); do
    [[ -z $(pids_with_token "$tok") ]] && break
    sleep 0.1
  done
  left=$(pids_with_token "$tok")
  if [[ -n $left ]]; then
    for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
    fail "processes of the job ($*) outlived sluice train's kill -9 by 5 s: $left"
  fi
}

# --- 3. sluice train, killed while the training command runs ----------------------------------------
note "3. kill -9 of sluice train while its command (and the command's child) runs"
job=crash-run-$$-$RANDOM
token=e2e-crash-token-$$-$RANDOM
cat >"$tmp/job3.json" <<EOF
{
  "TrainingJobName": "$job",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
                             "ContainerEntrypoint": ["python3", "$scripts/long_running.py", "stubborn", "$token"]},
  "InputDataConfig": [
    {"ChannelName": "aux", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://$bucket/aux/"}}}
  ],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 300}
}
EOF
kill_while_running "$tmp/job3.json" "$job" "$token"
[[ -z $(pids_with_token "$tmp/work") ]] || fail "processes naming the work directory are left: $(pids_with_token "$tmp/work")"
[[ -z $(awk -v p="$tmp/work/" 'index($5, p) == 1' /proc/self/mountinfo) ]] || fail "a mount is left under the work directory"
note "3. ok: the command ($n processes) ended with sluice train"

# --- 3b. the same without bubblewrap ------------------------------------------------------------
note "3b. kill -9 of sluice train --isolation none while its command (and the command's child) runs"
job=crash-run-none-$$-$RANDOM
token=e2e-crash-none-token-$$-$RANDOM
# Without bwrap there is no /opt/ml: the script works in its working directory (the host's code dir).
cat >"$tmp/job3b.json" <<EOF
{
  "TrainingJobName": "$job",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
                             "ContainerEntrypoint": ["python3", "-c", "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', sys.argv[1]]); open('started', 'w').close(); time.sleep(120)", "$token"]},
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 300}
}
EOF
kill_while_running "$tmp/job3b.json" "$job" "$token" --isolation none
note "3b. ok: the command and its child ($n processes) ended with sluice train"

echo "crash_resume: ok ($((SECONDS - started)) s)"
