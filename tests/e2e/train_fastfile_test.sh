#!/usr/bin/env bash
# `sluice train` end to end, FastFile channels (mounted with FUSE at <work>/<job>/algo-K/input/data/
# <channel> while the command runs, unmounted after):
#  1. a prefix of 50 nested objects (an empty one, one of exactly 1 MiB, one of 3 MiB + 7 bytes):
#     a. TrainingInputMode FastFile, under bubblewrap: the job sees every file byte for byte at
#        /opt/ml/input/data/train (a fuse.sluice mount), inputdataconfig.json says FastFile, every
#        write into the channel fails with EROFS; exit 0, Completed, model.tar.gz uploaded;
#     b. the same with --isolation none (the channel's host path, through SM_CHANNEL_TRAIN);
#     c. job default File, the channel's InputMode FastFile, beside a File channel of the same
#        prefix (case 5): the File channel is downloaded as ordinary files, the FastFile one is
#        mounted, inputdataconfig.json says File for one and FastFile for the other;
#     after each job no mount is left under the work directory and the channel directory is an
#     ordinary empty directory;
#  2. ManifestFile in FastFile mode (a Sluice extension: SageMaker's FastFile reads S3Prefix only,
#     docs/job-spec.md): the job sees exactly the listed objects at their manifest-relative paths;
#     the same manifest through `sluice mount --manifest` shows the same;
#  3. 2 hosts, ShardedByS3Key, FastFile: the hosts' files are disjoint and together the prefix;
#  4. unmounted whatever happens: a. the command exits 1 (Failed); b. MaxRuntimeInSeconds (124);
#     c. SIGTERM to `sluice train` while the command sleeps (130; the mount answers while it runs);
#     d. kill -9 of `sluice train` leaves a stale mount, which the same job run again (same work
#        directory, same name) cleans before it completes.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init fastfile
t_start=$(date +%s)

command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (FUSE 3) on this machine" >&2; exit 77; }
[[ -c /dev/fuse ]] || { echo "SKIP: no /dev/fuse on this machine" >&2; exit 77; }

# Mount points under $tmp (as /proc/mounts spells them: octal escapes decoded).
mounts_under_tmp() {
  python3 - "$tmp" <<'PY'
import sys
root = sys.argv[1].rstrip("/") + "/"
for line in open("/proc/mounts"):
    point = line.split()[1].encode().decode("unicode_escape")
    if point.startswith(root):
        print(point)
PY
}
bg_pid=""        # a `sluice train` running in the background, if any
tokens=()        # markers on the command lines of the jobs' processes
fastfile_cleanup() {
  local rc=$? m p t
  set +e  # clean up everything, whatever fails; errexit would also end the trap at `(exit "$rc")`
  [[ -n $bg_pid ]] && kill -KILL "$bg_pid" 2>/dev/null
  for t in "${tokens[@]}"; do
    for p in $(pids_with_token "$t"); do kill -KILL "$p" 2>/dev/null; done
  done
  # Deepest first, so that nested mounts go before their parents.
  for m in $(mounts_under_tmp | sort -r); do
    fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "cleanup: cannot unmount $m" >&2
  done
  (exit "$rc")
  e2e_cleanup
}
trap fastfile_cleanup EXIT

# expect_no_mount WHAT: nothing mounted under $tmp.
expect_no_mount() {
  local left
  left=$(mounts_under_tmp)
  [[ -z $left ]] || { show_train_log; fail "$1: mounts left: $left"; }
}
# expect_plain_empty_dir DIR WHAT: DIR is an ordinary, empty directory (not a mount, stale or not).
expect_plain_empty_dir() {
  [[ -d $1 ]] || fail "$2: $1 is not a directory ($(stat "$1" 2>&1 || true))"
  ! mountpoint -q "$1" || fail "$2: $1 is still a mount point"
  [[ -z $(find "$1" -mindepth 1 -print -quit) ]] || fail "$2: $1 is not empty: $(find "$1" -mindepth 1 | head -5)"
}
status_is() {  # status_is WORK JOB STATUS [SECONDARY]
  local st=$1/$2/status.json
  [[ $(json_get "$st" 'd["TrainingJobStatus"]') == "$3" ]] || fail "$2: TrainingJobStatus $(json_get "$st" 'd["TrainingJobStatus"]'), expected $3"
  [[ -z ${4:-} || $(json_get "$st" 'd["SecondaryStatus"]') == "$4" ]] || fail "$2: SecondaryStatus $(json_get "$st" 'd["SecondaryStatus"]'), expected $4"
}

# make_job NAME FILE JOB-MODE CHANNELS-JSON ENTRYPOINT-JSON [INSTANCES] [MAX-RUNTIME]
make_job() {
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "$3", "ContainerEntrypoint": $5},
  "InputDataConfig": $4,
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": ${6:-1}, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": ${7:-120}}
}
EOF
}
prefix_channel() {  # prefix_channel NAME [EXTRA-MEMBERS] [DISTRIBUTION]
  echo "{\"ChannelName\": \"$1\"${2:+, $2}, \"DataSource\": {\"S3DataSource\": {\"S3DataType\": \"S3Prefix\",
    \"S3Uri\": \"s3://$bucket/data/\", \"S3DataDistributionType\": \"${3:-FullyReplicated}\"}}}"
}
read_cmd="[\"python3\", \"$scripts/read_channel.py\"]"

# --- the data: 50 objects, nested up to 3 levels -----------------------------------------------------
names=()
i=0
for d in d0 d1 d2 d3; do
  for s in s0 s1 s2; do
    for f in f0 f1 f2 f3; do
      names+=("$d/$s/$f.bin"); rand_file "$tmp/src/$d/$s/$f.bin" $((1 + i * 997 % 50000)); i=$((i + 1))
    done
  done
done
rand_file "$tmp/src/d1/s1/f1.bin" $((3 * 1048576 + 7))   # spans several read blocks
rand_file "$tmp/src/d2/s0/f0.bin" 1048576                # exactly one MiB
rand_file "$tmp/src/top level.bin" 4321; names+=("top level.bin")
: > "$tmp/src/empty.bin"; names+=(empty.bin)
((${#names[@]} == 50)) || fail "test setup: ${#names[@]} names"
"$sluice" cp -q -r "$tmp/src" "s3://$bucket/data" || fail "upload failed"
printf '%s\n' "${names[@]}" > "$tmp/names.txt"

# check_read REPORT.json CHANNEL MODE WHERE WANT-FILES: what read_channel.py saw in CHANNEL.
#   MODE FastFile|File; WHERE opt_ml (bubblewrap) or a host path (--isolation none);
#   WANT-FILES "all" or a file of names.
check_read() {
  python3 - "$tmp" "$@" <<'PY' || fail "$1: channel $2 as the job saw it (above)"
import hashlib, json, os, sys
tmp, report, ch, mode, where, want = sys.argv[1:]
names = open(os.path.join(tmp, "names.txt")).read().splitlines()
if want != "all":
    names = open(want).read().splitlines()
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
src = {n: sha(os.path.join(tmp, "src", n)) for n in names}
rep = json.load(open(report))
c = rep["channels"][ch]
problems = []
if c["files"] != src:
    missing = sorted(set(src) - set(c["files"]))
    extra = sorted(set(c["files"]) - set(src))
    differ = sorted(n for n in set(src) & set(c["files"]) if src[n] != c["files"][n])
    problems.append(f"{len(c['files'])} files, want {len(src)}: missing {missing[:5]}, extra {extra[:5]}, other bytes {differ[:5]}")
dirs = sorted({"/".join(n.split("/")[:k]) for n in src for k in range(1, n.count("/") + 1)})
if c["dirs"] != dirs:
    problems.append(f"directories {c['dirs']}, want {dirs}")
idc = rep["inputdataconfig"].get(ch)
# docs/container-contract.md: exactly these keys (no ContentType: none set).
want_idc = {"TrainingInputMode": mode, "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
if idc != want_idc:
    problems.append(f"inputdataconfig.json: {idc}, want {want_idc}")
if where == "opt_ml":
    if not c["opt_ml"] or c["env"] != f"/opt/ml/input/data/{ch}":
        problems.append(f"SM_CHANNEL_{ch.upper()} is {c['env']}, /opt/ml/input/data/{ch} the same directory: {c['opt_ml']}")
elif c["env"] != where:
    problems.append(f"SM_CHANNEL_{ch.upper()} is {c['env']}, want {where}")
if mode == "FastFile":
    if c["fstype"] != "fuse.sluice":
        problems.append(f"the channel is not a fuse.sluice mount inside the job: {c['fstype']}")
    bad = {k: v for k, v in c["writes"].items() if v != "EROFS"}
    if bad or len(c["writes"]) < 8:
        problems.append(f"writes into a FastFile channel that did not fail with EROFS: {bad} (all: {c['writes']})")
elif c["fstype"] is not None and c["fstype"].startswith("fuse"):
    problems.append(f"a File channel is a {c['fstype']} mount")
if problems:
    print(f"{report} {ch}:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
PY
}
# check_downloaded DIR: a File channel's directory holds every object as an ordinary file.
check_downloaded() {
  local n
  while IFS= read -r n; do
    { [[ -f $1/$n ]] && cmp -s "$1/$n" "$tmp/src/$n"; } || fail "File channel: $1/$n is missing or differs from the source"
  done < "$tmp/names.txt"
}

# --- 1a. TrainingInputMode FastFile, bubblewrap ------------------------------------------------------
note "1a. TrainingInputMode FastFile, 50 nested objects, bubblewrap"
job=ff-a-$$-$RANDOM
make_job "$job" "$tmp/j1a.json" FastFile "[$(prefix_channel train)]" "$read_cmd"
SLUICE_LOG=info train rc "$tmp/j1a.json" --work-dir "$tmp/w"
expect_rc "$rc" 0 "a FastFile job"
expect_no_mount "1a, after the job"
expect_plain_empty_dir "$tmp/w/$job/algo-1/input/data/train" "1a, after the job"
status_is "$tmp/w" "$job" Completed Completed
grep -q "channel 'train': FastFile, 50 files" "$tmp/train.err" || { show_train_log; fail "1a: the log does not say the channel was mounted"; }
"$sluice" cp -q "s3://$bucket/out/$job/output/model.tar.gz" "$tmp/m1a.tar.gz" || fail "1a: no model.tar.gz"
mkdir "$tmp/m1a" && tar -xzf "$tmp/m1a.tar.gz" -C "$tmp/m1a"
check_read "$tmp/m1a/read-algo-1.json" train FastFile opt_ml all

# --- 1b. the same with --isolation none --------------------------------------------------------------
note "1b. TrainingInputMode FastFile, --isolation none"
job=ff-b-$$-$RANDOM
make_job "$job" "$tmp/j1b.json" FastFile "[$(prefix_channel train)]" "$read_cmd"
train rc "$tmp/j1b.json" --work-dir "$tmp/w" --isolation none
expect_rc "$rc" 0 "a FastFile job with --isolation none"
expect_no_mount "1b, after the job"
expect_plain_empty_dir "$tmp/w/$job/algo-1/input/data/train" "1b, after the job"
status_is "$tmp/w" "$job" Completed Completed
check_read "$tmp/w/$job/algo-1/model/read-algo-1.json" train FastFile "$tmp/w/$job/algo-1/input/data/train" all

# --- 1c / 5. job default File, one channel FastFile, beside a File channel of the same prefix --------
note "1c. per-channel InputMode FastFile (job default File) beside a File channel of the same prefix"
job=ff-c-$$-$RANDOM
make_job "$job" "$tmp/j1c.json" File \
  "[$(prefix_channel train '"InputMode": "FastFile"'), $(prefix_channel copy)]" "$read_cmd"
train rc "$tmp/j1c.json" --work-dir "$tmp/w"
expect_rc "$rc" 0 "a File job with a FastFile channel"
expect_no_mount "1c, after the job"
expect_plain_empty_dir "$tmp/w/$job/algo-1/input/data/train" "1c, after the job"
status_is "$tmp/w" "$job" Completed Completed
check_read "$tmp/w/$job/algo-1/model/read-algo-1.json" train FastFile opt_ml all
check_read "$tmp/w/$job/algo-1/model/read-algo-1.json" copy File opt_ml all
check_downloaded "$tmp/w/$job/algo-1/input/data/copy"

# --- 2. ManifestFile ---------------------------------------------------------------------------------
note "2. ManifestFile in FastFile mode"
listed=(d0/s0/f1.bin d1/s1/f1.bin d3/s2/f3.bin "top level.bin" empty.bin)
python3 - "s3://$bucket/data/" "${listed[@]}" > "$tmp/manifest.json" <<'PY'
import json, sys
print(json.dumps([{"prefix": sys.argv[1]}] + sys.argv[2:]))
PY
"$sluice" cp -q "$tmp/manifest.json" "s3://$bucket/manifests/m.json"
job=ff-manifest-$$-$RANDOM
cat > "$tmp/j2.json" <<EOF
{
  "TrainingJobName": "$job",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "FastFile", "ContainerEntrypoint": $read_cmd},
  "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "ManifestFile",
    "S3Uri": "s3://$bucket/manifests/m.json", "S3DataDistributionType": "FullyReplicated"}}}],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 120}
}
EOF
printf '%s\n' "${listed[@]}" > "$tmp/listed.txt"
train rc "$tmp/j2.json" --work-dir "$tmp/w2"
expect_rc "$rc" 0 "a ManifestFile channel in FastFile mode"
expect_no_mount "2, after the job"
expect_plain_empty_dir "$tmp/w2/$job/algo-1/input/data/train" "2, after the job"
status_is "$tmp/w2" "$job" Completed Completed
check_read "$tmp/w2/$job/algo-1/model/read-algo-1.json" train FastFile opt_ml "$tmp/listed.txt"
# The same manifest through `sluice mount --manifest`: only the listed objects, at their paths.
mkdir "$tmp/mnt-manifest"
"$sluice" mount --manifest "s3://$bucket/manifests/m.json" "$tmp/mnt-manifest" --log-file "$tmp/mount.log" 2>"$tmp/mount.err" \
  || fail "2: sluice mount --manifest failed: $(cat "$tmp/mount.err")"
python3 - "$tmp/mnt-manifest" "$tmp/src" "$tmp/listed.txt" <<'PY' || fail "2: the manifest's mount (above)"
import filecmp, os, sys
mnt, src, listed = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().splitlines()
seen = sorted(os.path.relpath(os.path.join(d, n), mnt) for d, _, ns in os.walk(mnt) for n in ns)
assert seen == sorted(listed), f"visible {seen}, listed {sorted(listed)}"
for n in listed:
    assert filecmp.cmp(os.path.join(mnt, n), os.path.join(src, n), shallow=False), f"{n} differs from the source"
PY
"$sluice" unmount "$tmp/mnt-manifest" || fail "2: sluice unmount failed"
for _ in $(seq 50); do [[ -z $(pids_with_token "$tmp/mnt-manifest") ]] && break; sleep 0.1; done
[[ -z $(pids_with_token "$tmp/mnt-manifest") ]] || fail "2: the mount process is still running after sluice unmount"
expect_no_mount "2, after sluice unmount"

# --- 3. 2 hosts, ShardedByS3Key ----------------------------------------------------------------------
note "3. 2 hosts, ShardedByS3Key, FastFile"
job=ff-shard-$$-$RANDOM
make_job "$job" "$tmp/j3.json" FastFile "[$(prefix_channel train '' ShardedByS3Key)]" "$read_cmd" 2
train rc "$tmp/j3.json" --work-dir "$tmp/w"
expect_rc "$rc" 0 "a 2-host sharded FastFile job"
expect_no_mount "3, after the job"
expect_plain_empty_dir "$tmp/w/$job/algo-1/input/data/train" "3, after the job (algo-1)"
expect_plain_empty_dir "$tmp/w/$job/algo-2/input/data/train" "3, after the job (algo-2)"
python3 - "$tmp/w/$job" "$tmp" <<'PY' || fail "3: the hosts' shares (above)"
import hashlib, json, os, sys
job, tmp = sys.argv[1], sys.argv[2]
names = open(os.path.join(tmp, "names.txt")).read().splitlines()
src = {n: hashlib.sha256(open(os.path.join(tmp, "src", n), "rb").read()).hexdigest() for n in names}
shares = {}
for h in ("algo-1", "algo-2"):
    rep = json.load(open(os.path.join(job, h, "model", f"read-{h}.json")))
    c = rep["channels"]["train"]
    assert rep["inputdataconfig"]["train"]["TrainingInputMode"] == "FastFile", rep["inputdataconfig"]
    assert rep["inputdataconfig"]["train"]["S3DistributionType"] == "ShardedByS3Key", rep["inputdataconfig"]
    assert c["fstype"] == "fuse.sluice", f"{h}: {c['fstype']}"
    for n, s in c["files"].items():
        assert src.get(n) == s, f"{h}: {n} is not an object of the prefix, or has other bytes"
    shares[h] = set(c["files"])
a, b = shares["algo-1"], shares["algo-2"]
assert not (a & b), f"the shares overlap: {sorted(a & b)}"
assert a | b == set(names), f"the shares miss {sorted(set(names) - (a | b))}"
assert len(a) == len(b) == 25, f"share sizes {len(a)}, {len(b)}"
order = sorted(names, key=lambda n: n.encode())
assert a == set(order[0::2]) and b == set(order[1::2]), "not round robin in key byte order"
print(f"algo-1 {len(a)} files, algo-2 {len(b)} files")
PY

# --- 4a. the command fails ---------------------------------------------------------------------------
note "4a. the command exits 1"
job=ff-fail-$$-$RANDOM
make_job "$job" "$tmp/j4a.json" FastFile "[$(prefix_channel train)]" \
  "[\"sh\", \"-c\", \"python3 \\\"\$0\\\" && echo read > /opt/ml/output/failure && exit 1\", \"$scripts/read_channel.py\"]"
train rc "$tmp/j4a.json" --work-dir "$tmp/w"
expect_rc "$rc" 1 "a FastFile job whose command exits 1"
status_is "$tmp/w" "$job" Failed Failed
[[ $(json_get "$tmp/w/$job/status.json" 'd.get("FailureReason")') == read ]] || fail "4a: FailureReason $(json_get "$tmp/w/$job/status.json" 'd.get("FailureReason")')"
expect_no_mount "4a, after the failed job"
expect_plain_empty_dir "$tmp/w/$job/algo-1/input/data/train" "4a, after the failed job"
check_read "$tmp/w/$job/algo-1/model/read-algo-1.json" train FastFile opt_ml all

# --- 4b. MaxRuntimeInSeconds -------------------------------------------------------------------------
note "4b. MaxRuntimeInSeconds 2"
job=ff-timeout-$$-$RANDOM
token=e2e-ff-timeout-$$-$RANDOM; tokens+=("$token")
make_job "$job" "$tmp/j4b.json" FastFile "[$(prefix_channel train)]" \
  "[\"python3\", \"$scripts/long_running.py\", \"polite\", \"$token\"]" 1 2
train rc "$tmp/j4b.json" --work-dir "$tmp/w" --stop-grace 1
expect_rc "$rc" 124 "a FastFile job past MaxRuntimeInSeconds"
status_is "$tmp/w" "$job" Stopped MaxRuntimeExceeded
expect_no_mount "4b, after MaxRuntimeExceeded"
expect_plain_empty_dir "$tmp/w/$job/algo-1/input/data/train" "4b, after MaxRuntimeExceeded"
[[ -z $(pids_with_token "$token") ]] || fail "4b: processes of the job are still running: $(pids_with_token "$token")"

# --- 4c. SIGTERM to sluice train ---------------------------------------------------------------------
note "4c. SIGTERM to sluice train while the command sleeps"
job=ff-sigterm-$$-$RANDOM
token=e2e-ff-sigterm-$$-$RANDOM; tokens+=("$token")
sleeper="[\"sh\", \"-c\", \"python3 \\\"\$0\\\" && exec python3 \\\"\$1\\\" polite \\\"\$2\\\"\", \"$scripts/read_channel.py\", \"$scripts/long_running.py\", \"$token\"]"
make_job "$job" "$tmp/j4c.json" FastFile "[$(prefix_channel train)]" "$sleeper" 1 300
"$sluice" train "$tmp/j4c.json" --work-dir "$tmp/w" --stop-grace 2 2>"$tmp/train.err" >"$tmp/train.out" &
bg_pid=$!
wait_for_file "$tmp/w/$job/algo-1/code/started" 60 || { show_train_log; fail "4c: the job never started"; }
ch_dir=$tmp/w/$job/algo-1/input/data/train
grep -qF " $ch_dir fuse.sluice " /proc/mounts || fail "4c: the channel is not a fuse.sluice mount while the job runs: $(grep -F "$tmp" /proc/mounts)"
[[ $(find "$ch_dir" -type f | wc -l) == 50 ]] || fail "4c: the mount shows $(find "$ch_dir" -type f | wc -l) files from outside, want 50"
cmp -s "$ch_dir/d1/s1/f1.bin" "$tmp/src/d1/s1/f1.bin" || fail "4c: d1/s1/f1.bin read from outside differs"
kill -TERM "$bg_pid"
set +e; wait "$bg_pid"; rc=$?; set -e
bg_pid=""
expect_rc "$rc" 130 "sluice train stopped with SIGTERM"
status_is "$tmp/w" "$job" Stopped Stopped
expect_no_mount "4c, after SIGTERM"
expect_plain_empty_dir "$ch_dir" "4c, after SIGTERM"
[[ -z $(pids_with_token "$token") ]] || fail "4c: processes of the job are still running: $(pids_with_token "$token")"
check_read "$tmp/w/$job/algo-1/model/read-algo-1.json" train FastFile opt_ml all

# --- 4d. kill -9, then the same job again ------------------------------------------------------------
note "4d. kill -9 of sluice train, then the same job again"
job=ff-kill-$$-$RANDOM
token=e2e-ff-kill-$$-$RANDOM; tokens+=("$token")
# The first run sleeps after reading; the second (the same name, --replace, a spec that only
# reads) must first clean the stale mount the kill left.
first="[\"sh\", \"-c\", \"python3 \\\"\$0\\\" && exec python3 \\\"\$1\\\" polite \\\"\$2\\\"\", \"$scripts/read_channel.py\", \"$scripts/long_running.py\", \"$token\"]"
make_job "$job" "$tmp/j4d.json" FastFile "[$(prefix_channel train)]" "$first" 1 300
make_job "$job" "$tmp/j4d-again.json" FastFile "[$(prefix_channel train)]" "[\"python3\", \"$scripts/read_channel.py\"]" 1 300
"$sluice" train "$tmp/j4d.json" --work-dir "$tmp/w4d" 2>"$tmp/train.err" >"$tmp/train.out" &
bg_pid=$!
ch_dir=$tmp/w4d/$job/algo-1/input/data/train
wait_for_file "$tmp/w4d/$job/algo-1/code/started" 60 || { show_train_log; fail "4d: the job never started"; }
grep -qF " $ch_dir fuse.sluice " /proc/mounts || fail "4d: the channel is not mounted while the job runs"
kill -KILL "$bg_pid"
set +e; wait "$bg_pid"; set -e
bg_pid=""
# The training processes: bubblewrap's --die-with-parent should take them down; whatever is left
# is an orphan of this test, killed here.
sleep 0.5
orphans=$(pids_with_token "$token")
if [[ -n $orphans ]]; then
  note "4d: orphaned training processes after kill -9: $orphans (killed)"
  for p in $orphans; do kill -KILL "$p" 2>/dev/null || true; done
fi
stale_err=$(stat "$ch_dir" 2>&1 >/dev/null || true)
if [[ $stale_err != *"Transport endpoint is not connected"* ]] && ! grep -qF " $ch_dir fuse.sluice " /proc/mounts; then
  fail "4d: after kill -9 the mount is neither stale nor listed (stat: '$stale_err'); the test cannot check the cleanup"
fi
note "4d: stale after kill -9: ${stale_err:-still in /proc/mounts}"
SLUICE_LOG=info train rc "$tmp/j4d-again.json" --work-dir "$tmp/w4d" --replace
expect_rc "$rc" 0 "the same job again after kill -9"
grep -q "stale FUSE mount" "$tmp/train.err" || { show_train_log; fail "4d: the rerun does not say it cleaned the stale mount"; }
status_is "$tmp/w4d" "$job" Completed Completed
expect_no_mount "4d, after the rerun"
expect_plain_empty_dir "$ch_dir" "4d, after the rerun"
[[ -z $(pids_with_token "$token") ]] || fail "4d: processes of the job are still running: $(pids_with_token "$token")"
check_read "$tmp/w4d/$job/algo-1/model/read-algo-1.json" train FastFile opt_ml all

note "took $(($(date +%s) - t_start)) s"
echo "train_fastfile: ok"
