#!/usr/bin/env bash
# Multi-tenant jobs against a HOSTILE training script and a HOSTILE job spec (issue 12): two
# tenants share ONE role whose policies use ${aws:PrincipalTag/tenant-id} (as in
# train_tenants_test.sh), jobs run with --iam-config and --session-tag against the real RGW store,
# and every attack is run the way an attacker would run it: the hostile code
# (tests/e2e/scripts/attack_job.py) comes from a File channel of the tenant's own prefix, as a
# multi-tenant job's code must. The host secret is a canary file in a directory OUTSIDE /tmp
# (/var/tmp/...), world-readable, so that only Sluice's isolation keeps it from the job; tenant
# B's secret is a marker in its prefix and its file-system directory. After each section that
# could leak them and at the end, the whole bucket (tar.gz members included), the work directory
# and Sluice's logs are searched for both: neither is ever uploaded, read or written, and the
# canary and the planted victim files keep their bytes, owner and mode.
#
#  1. env: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, GCONV_PATH, GLIBC_TUNABLES, LOCPATH (and LC_ALL,
#     LANGUAGE naming a path: setpriv would read locale files from it) in the spec's
#     Environment are refused before anything is made (exit 2 naming Environment.<NAME>, no job
#     directory); a secret Environment value reaches the command but no /proc/PID/cmdline on the
#     host or in the sandbox, every bwrap process has an empty environment, and the command gets
#     none of Sluice's credentials.
#  2. host paths: an entry point at a host path is not found (Failed, "training command not
#     found", "sees only the system directories"); `python3 /host/script.py` cannot open it;
#     host paths named in ContainerArguments are not bound (the channel's code cannot read the
#     canary or list its directory) while the job's model is still uploaded; --bind with
#     --iam-config exits 2. Control: single-tenant, the same host script reads a file next to
#     the canary (so the checks can fail).
#  3. output links: links to the canary and its directory in model/, output/data/ and the
#     checkpoint directory are stored as links in model.tar.gz/output.tar.gz, skipped with a
#     warning with CompressionType NONE and for checkpoints; real files are uploaded; an
#     output/failure link to the canary does not put it into FailureReason.
#  4. planted links: the code plants links (to a host victim file and directory) where Sluice
#     writes on the job's next run, then fails (exit 1); the next run is `--resume` with the same
#     spec (the code inspects instead when its marker is in the kept checkpoint directory). The
#     resumed run's checkpoint restore replaces a link at a file's own name by the restored file
#     (or fails it) and fails a file below a directory link ("a symbolic link is in the way"),
#     never writing through either (4a, 4b); its removal of model/, code/, output/ unlinks the links
#     planted there (output/data itself a link) without following one, and its hand-over of the
#     kept checkpoint directory to the job's uid chowns the links there as links: the victims keep
#     bytes, owner and mode, and the job completes (4c). The same links and those of 4a and 4b,
#     then `--replace` with another spec: all removed without following one, the job completes
#     (4d). input/ and /opt/ml cannot be changed by the code at all (each attempt fails with
#     EACCES/EPERM); a spec whose CheckpointConfig.LocalPath is /opt/ml itself or below input/
#     (which would hand that tree to the code) is refused (exit 2) (4e).
#  5. shared job dirs: tenant B (same role; also with --replace and --resume), tenant A under
#     another role (--replace), and tenant A with an extra tag (--replace, --resume) naming tenant
#     A's TrainingJobName are refused for the ownership (exit 2, ResourceInUse, "belongs to another
#     session") and the directory is not touched; a pre-made directory is refused the same way
#     (also with --replace) and left as it was; the same session's rerun is refused without a flag
#     ("already exists (Completed"), directory untouched, and runs with --replace.
#  6. file-system bind race: while a loop flips tenant A's link between A's and B's directories,
#     8 jobs bind it: each either sees A's directory or fails with AccessDenied on B's; none ever
#     sees B's marker.
#  7. checkpoint dir swapped: the code renames a checkpoint subdirectory and then the checkpoint
#     directory itself (LocalPath /opt/ml/code/ckpt) and puts links to the canary's directory in
#     their place while the job runs: no host file is uploaded (a warning names the link); what
#     it wrote before the swap, and after it in the renamed real directory, is.
#  8. store session policy (StoreRoleArn, an RGW role made with radosgw-admin): a Deny with
#     NotAction the store would ignore, and a Deny whose NotResource holds ${*}, fail the job
#     before it starts (exit 1, FailureReason explains) instead of being dropped; a Deny with
#     NotResource the store can take reaches it: the job's own credentials read tenant A's
#     object (200) and are refused tenant B's (403), through AWS_ENDPOINT_URL from the job's own
#     network namespace.
#  9. privileges: the command runs as a per-job uid >= 0x60000000 with CapEff/CapPrm/CapBnd/CapAmb
#     0 and NoNewPrivs 1; AF_PACKET and raw sockets, setuid(0) and a new user namespace (the
#     seccomp filter) fail with EPERM; its network has
#     only lo: a TCP connect to a 127.0.0.1 listener this test runs on the host (and to the store,
#     for a role without StoreRoleArn) fails and the listener sees nothing from the job. (With
#     StoreRoleArn the store stays reachable through AWS_ENDPOINT_URL: section 8c.)
# 10. local users: while a job runs, an unprivileged host user (setpriv --reuid=65534) cannot
#     read its downloaded input, its model, its status, or list its FastFile mount; root can, and
#     the user can read a file next to the job directory (so the checks can fail).
# 11. resume: a Failed job resumed with `--resume` (same spec, input/ kept) fetches again a
#     File-mode object replaced by one of the SAME size, and a downloaded file whose bytes were
#     changed on the host with the same size; a file whose object was deleted is gone; an
#     unchanged file is kept (same inode and ctime), so the kept inputs were verified, not fetched anew.
# 12. the sandbox's /tmp and /dev/shm are tmpfs of RAM/8 each for a one-host job (all sandboxes of
#     a job together hold at most RAM/4; not the host's disk) and writable by the
#     job's uid; role Tags breaking STS rules ("aws:x" key, "a*b" value) make `sluice train` exit 2
#     naming the role, while a valid role tag (on every other job's role) works.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init attacks
started=$SECONDS
# Secrets and planted targets live outside /tmp, where a single-tenant sandbox would see them.
# 0755: in section 10 only the job's own 0700 directory may keep a local user out.
outside=$(mktemp -d /var/tmp/sluice-e2e-attacks.XXXXXX)
chmod 755 "$outside"
work=$outside/work
bg_pids=()      # sluice trains held in the background, the flipping loop, the TCP listener
store_role=""   # section 8's RGW role, deleted on exit
rgw_admin() { timeout 60 radosgw-admin -c "$SLUICE_LOCAL_S3_DIR/ceph.conf" "$@"; }

cleanup_attacks() {
  local rc=$? pid i m
  set +e
  for m in "$work"/*/algo-1/code; do [[ -d $m ]] && : >"$m/go"; done  # releases a held job
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${bg_pids[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  # A job killed while it ran may leave its FastFile mount behind.
  awk -v o="$outside/" 'index($2, o) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
  if [[ -n $store_role ]]; then
    rgw_admin role-policy delete --role-name="$store_role" --policy-name=all >/dev/null 2>&1
    rgw_admin role delete --role-name="$store_role" >/dev/null 2>&1
  fi
  if [[ $rc != 0 && -n ${SLUICE_E2E_KEEP:-} ]]; then echo "kept $outside (SLUICE_E2E_KEEP)" >&2; else rm -rf "$outside"; fi
  (exit "$rc")
  e2e_cleanup
}
trap cleanup_attacks EXIT

role=arn:aws:iam::123456789012:role/TenantJobs
role2=arn:aws:iam::123456789012:role/TenantJobsToo
fsid=fs-0123456789abcdef0
export E2E_BUCKET=$bucket E2E_ROLE=$role E2E_FSID=$fsid

# --- the secrets, the victims, the IAM configuration, both tenants' data -----------------------
mkdir -p "$outside/secret" "$outside/victim" "$outside/bin" "$outside/fsx/tenant-a/real" "$outside/fsx/tenant-b"
chmod 755 "$outside/secret" "$outside/victim"
# Secrets never appear on a command line (section 1 scans every process's): written by builtins.
printf 'SLUICE-CANARY-%s%s%s\n' "$RANDOM" "$RANDOM" "$(date +%N)" >"$outside/secret/canary.txt"
printf 'TENANT-B-MARKER-%s%s\n' "$RANDOM" "$(date +%N)" >"$outside/b-marker.txt"
printf 'a file next to the canary (read by the single-tenant control)\n' >"$outside/secret/control.txt"
printf 'victim file: must keep its bytes and owner\n' >"$outside/victim/target.txt"
chmod 644 "$outside"/secret/* "$outside/victim/target.txt" "$outside/b-marker.txt"
canary=$outside/secret/canary.txt
cp "$outside/b-marker.txt" "$outside/fsx/tenant-b/b-marker.txt"
printf "tenant A's own file\n" >"$outside/fsx/tenant-a/real/a-marker.txt"
cp "$scripts/attack_job.py" "$outside/bin/attack_job.py" && chmod 755 "$outside/bin/attack_job.py"
# fingerprint: bytes, mode, owner and mtime of the canary and the victims
fingerprint() {
  local f
  for f in "$canary" "$outside/victim/target.txt"; do sha256sum "$f"; stat -c '%n %a %u %g %Y' "$f"; done
  stat -c '%n %a %u %g %s' "$outside/secret" "$outside/victim" "$outside"/secret/* "$outside"/victim/*
}
fingerprint >"$outside/fingerprint"
intact() {  # intact WHAT: the canary and the victims are as they were
  fingerprint | diff "$outside/fingerprint" - >&2 || fail "$1: the canary or a victim file was changed (diff above)"
}

iam_role() {  # iam_role ARN: one role of the IAM configuration (both tenants' role)
  cat <<EOF
  {"Arn": "$1",
   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
      "Action": ["sts:AssumeRole", "sts:TagSession"]}]},
   "Tags": [{"Key": "team", "Value": "ml-platform"}],
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Sid": "ReadOwnInput", "Effect": "Allow", "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::$bucket/in/\${aws:PrincipalTag/tenant-id}/*"},
     {"Sid": "ListOwn", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::$bucket",
      "Condition": {"StringLike": {"s3:prefix": ["in/\${aws:PrincipalTag/tenant-id}/*",
                                                 "ckpt/\${aws:PrincipalTag/tenant-id}/*"]}}},
     {"Sid": "WriteOwnOutput", "Effect": "Allow",
      "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      "Resource": ["arn:aws:s3:::$bucket/out/\${aws:PrincipalTag/tenant-id}/*",
                   "arn:aws:s3:::$bucket/ckpt/\${aws:PrincipalTag/tenant-id}/*"]},
     {"Sid": "MountOwnDirectory", "Effect": "Allow", "Action": "elasticfilesystem:ClientMount",
      "Resource": "arn:aws:elasticfilesystem:*:123456789012:file-system/$fsid/\${aws:PrincipalTag/tenant-id}/*"}]}]}
EOF
}
printf '{"Roles": [\n%s,\n%s]}\n' "$(iam_role "$role")" "$(iam_role "$role2")" >"$outside/iam.json"
printf '{"%s": "%s"}\n' "$fsid" "$outside/fsx" >"$outside/file-systems.json"

for t in tenant-a tenant-b; do
  "$sluice" cp -q "$scripts/attack_job.py" "s3://$bucket/in/$t/code/attack_job.py"
done
rand_file "$tmp/data/part-1.bin" 70000
rand_file "$tmp/data/part-2.bin" 140000
"$sluice" cp -q -r "$tmp/data/" "s3://$bucket/in/tenant-a/data/"
"$sluice" cp -q "$outside/b-marker.txt" "s3://$bucket/in/tenant-b/data/b-secret.txt"

# mkjob FILE NAME ARGS-JSON [PYTHON]: tenant A's job running attack_job.py ARGS from its channel
# "code"; PYTHON edits the spec `j` (helpers: channel(name, uri, mode), fs_channel(name, dir), b =
# the bucket, os).
mkjob() {
  python3 - "$1" "$2" "$3" "${4:-}" <<'PY'
import json, os, sys
file, name, args, edit = sys.argv[1:5]
b = os.environ["E2E_BUCKET"]
def channel(ch, uri, mode="File"):
    return {"ChannelName": ch, "InputMode": mode,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}
def fs_channel(ch, directory):
    return {"ChannelName": ch, "DataSource": {"FileSystemDataSource": {
        "FileSystemId": os.environ["E2E_FSID"], "FileSystemAccessMode": "ro", "FileSystemType": "EFS",
        "DirectoryPath": directory}}}
j = {"TrainingJobName": name, "RoleArn": os.environ["E2E_ROLE"],
     "AlgorithmSpecification": {"TrainingInputMode": "File",
                                "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/attack_job.py"],
                                "ContainerArguments": json.loads(args)},
     "InputDataConfig": [channel("code", f"s3://{b}/in/tenant-a/code/")],
     "OutputDataConfig": {"S3OutputPath": f"s3://{b}/out/tenant-a/"},
     "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
     "StoppingCondition": {"MaxRuntimeInSeconds": 180},
     "SessionChainingConfig": {"EnableSessionTagChaining": True}}
exec(edit, {"j": j, "b": b, "channel": channel, "fs_channel": fs_channel, "os": os})
json.dump(j, open(file, "w"), indent=1)
PY
}
# mt RCVAR JOB.json TENANT [ARGS...]: `sluice train` multi-tenant as TENANT (session tag tenant-id)
mt() {
  local var=$1 job=$2 tenant=$3; shift 3
  train "$var" "$job" --work-dir "$work" --iam-config "$outside/iam.json" \
    --file-systems "$outside/file-systems.json" --session-tag "tenant-id=$tenant" "$@"
}
status_of() { json_get "$work/$1/status.json" 'd["TrainingJobStatus"]'; }
reason_of() { json_get "$work/$1/status.json" 'd.get("FailureReason", "")'; }
report_of() { json_get "$work/$1/algo-1/model/report.json" "$2"; }  # report_of JOB PYTHON-EXPR (on d)
# expect_failed JOB WANT...: exit code 1 (in $rc), status Failed, the FailureReason holds each WANT
expect_failed() {
  local name=$1 want why; shift
  expect_rc "$rc" 1 "$name"
  [[ $(status_of "$name") == Failed ]] || fail "$name: status $(status_of "$name"), expected Failed"
  why=$(reason_of "$name")
  for want in "$@"; do [[ $why == *"$want"* ]] || fail "$name: FailureReason lacks '$want': $why"; done
}
# expect_refused WHAT WANT...: exit code 2 (in $rc), stderr holds each WANT
expect_refused() {
  local what=$1 want; shift
  expect_rc "$rc" 2 "$what"
  for want in "$@"; do grep -qF -- "$want" "$tmp/train.err" || { show_train_log; fail "$what: the message lacks '$want'"; }; done
}
# model_ok JOB [PREFIX]: the job's real model.bin was uploaded (in model.tar.gz) with its bytes
model_ok() {
  local name=$1 prefix=${2:-out/tenant-a}
  rm -rf "$tmp/m" && mkdir -p "$tmp/m"
  "$sluice" cp -q "s3://$bucket/$prefix/$name/output/model.tar.gz" "$tmp/m/model.tar.gz" ||
    fail "$name: its model.tar.gz was not uploaded"
  tar -xzf "$tmp/m/model.tar.gz" -C "$tmp/m" model.bin || fail "$name: model.tar.gz lacks model.bin"
  [[ $(cat "$tmp/m/model.bin") == "model of $name" ]] || fail "$name: model.bin is not the job's: $(cat "$tmp/m/model.bin")"
}
# secrets_in PATH...: one line per file (gzip content and tar members included) holding the canary
# or tenant B's marker. The secrets are read from their files, never put on a command line.
secrets_in() {
  python3 - "$canary" "$outside/b-marker.txt" "$@" <<'PY'
import gzip, os, sys
secrets = {open(p, "rb").read().strip(): p for p in sys.argv[1:3]}
def check(name, data):
    for s, p in secrets.items():
        if s in data:
            print(f"{name} holds the secret of {p}")
    if data[:2] == b"\x1f\x8b":
        try:
            check(name + " (gunzipped)", gzip.decompress(data))
        except Exception:
            pass
for top in sys.argv[3:]:
    if os.path.isfile(top):
        check(top, open(top, "rb").read())
    for d, _, names in os.walk(top):
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                check(p, open(p, "rb").read())
PY
}
# nothing_leaked WHAT: the bucket (tenant B's own prefix aside), the work directory and the last
# `sluice train`'s output hold neither secret.
dumps=0
nothing_leaked() {
  local dump=$tmp/dump-$((++dumps)) found
  "$sluice" cp -q -r "s3://$bucket/" "$dump/" || fail "$1: cannot download the bucket to check it"
  rm -rf "$dump/in/tenant-b"
  found=$(secrets_in "$dump" "$work" "$tmp/train.err" "$tmp/train.out")
  [[ -z $found ]] || fail "$1: a secret leaked: $found"
  rm -rf "$dump"
}
# bg_train NAME JOB.json TENANT: a held multi-tenant job in the background (pid in $bg); waits
# until its command has written model/ready
bg_train() {
  "$sluice" train "$2" --work-dir "$work" --iam-config "$outside/iam.json" \
    --file-systems "$outside/file-systems.json" --session-tag "tenant-id=$3" >"$tmp/bg.out" 2>"$tmp/bg.err" &
  bg=$!
  bg_pids+=("$bg")
  wait_for_file "$work/$1/algo-1/model/ready" 60 || { cat "$tmp/bg.err" >&2; fail "$1: the held job did not start"; }
}
bg_release() {  # bg_release NAME: lets the held job end; its exit code in $rc
  : >"$work/$1/algo-1/code/go"
  set +e; wait "$bg"; rc=$?; set -e
  cp "$tmp/bg.err" "$tmp/train.err"
}

# --- 1. the spec's Environment ------------------------------------------------------------------
note "1a. loader variables in Environment are refused before anything is made"
i=0
for var in LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT GCONV_PATH GLIBC_TUNABLES LOCPATH LC_ALL LANGUAGE; do
  name=env-loader-$((++i))-$$
  printf 'not a library\n' >"$outside/secret/evil.so"
  E2E_VAR=$var mkjob "$tmp/j.json" "$name" '["read", "/etc/hostname"]' \
    "j['Environment'] = {os.environ['E2E_VAR']: '$outside/secret/evil.so'}"
  mt rc "$tmp/j.json" tenant-a
  expect_refused "Environment.$var" "Environment.$var"
  [[ ! -e $work/$name ]] || fail "Environment.$var: refused, but the job directory $work/$name was made"
done
rm "$outside/secret/evil.so"

note "1b. a secret Environment value reaches the command only: no command line, bwrap's environment empty"
name=env-token-$$
token="tenant-token-$RANDOM$RANDOM$(date +%N)"
E2E_TOKEN=$token mkjob "$tmp/j.json" "$name" '["env"]' "j['Environment'] = {'TENANT_TOKEN': os.environ['E2E_TOKEN']}"
bg_train "$name" "$tmp/j.json" tenant-a
pids=$(pids_with_token "$token")
[[ -z $pids ]] || fail "the Environment value shows in the command line of: $(for p in $pids; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
bwraps=$(E2E_ROOT=$bg python3 -c '
import os
root = os.environ["E2E_ROOT"]
def parent(p):
    with open(f"/proc/{p}/status") as f:
        return next(l.split()[1] for l in f if l.startswith("PPid:"))
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        if open(f"/proc/{p}/comm").read().strip() != "bwrap":
            continue
        q = p
        while q not in ("0", "1", root):
            q = parent(q)
        if q == root:
            print(p, len(open(f"/proc/{p}/environ", "rb").read()))
    except (OSError, StopIteration):
        pass
')
[[ -n $bwraps ]] || fail "no bwrap process found below sluice train (pid $bg)"
while read -r p size; do
  [[ $size == 0 ]] || fail "bwrap (pid $p) has an environment of $size bytes: $(tr '\0' ' ' <"/proc/$p/environ")"
done <<<"$bwraps"
bg_release "$name"
expect_rc "$rc" 0 "the job with a secret Environment value"
want=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
[[ $(report_of "$name" 'd["env"].get("TENANT_TOKEN")') == "$want" ]] || fail "TENANT_TOKEN did not reach the command"
[[ $(report_of "$name" 'd["token_in_cmdline"]') == "[]" ]] ||
  fail "inside the sandbox the value shows in the command line of pids $(report_of "$name" 'd["token_in_cmdline"]')"
own=$(printf '%s' "$AWS_SECRET_ACCESS_KEY" | sha256sum | cut -d' ' -f1)
[[ $(report_of "$name" "'$own' in d['env'].values()") == false ]] || fail "the command got Sluice's own secret key"
E2E_TOKEN=$token python3 -c '
import os, sys
tok = os.environ["E2E_TOKEN"].encode()
for p in sys.argv[1:]:
    if tok in open(p, "rb").read():
        sys.exit(f"the Environment value appears in {p}")
' "$tmp/train.err" "$work/$name/audit.jsonl" "$work/$name/logs/algo-1.log" || fail "the secret Environment value was logged"
model_ok "$name"

# --- 2. host paths in the command ---------------------------------------------------------------
note "2a. an entry point at a host path is not found in a multi-tenant job"
name=host-entry-$$
mkjob "$tmp/j.json" "$name" "[\"read\", \"$canary\"]" \
  "j['AlgorithmSpecification']['ContainerEntrypoint'] = ['$outside/bin/attack_job.py']"
mt rc "$tmp/j.json" tenant-a
expect_failed "$name" "training command not found" "sees only the system directories"
[[ ! -e $work/$name/algo-1/model/report.json ]] || fail "$name: the host script ran"
note "2b. python3 /host/path/script.py: the interpreter runs, the script is not there"
name=host-script-$$
mkjob "$tmp/j.json" "$name" "[\"read\", \"$canary\"]" \
  "j['AlgorithmSpecification']['ContainerEntrypoint'] = ['python3', '$outside/bin/attack_job.py']"
mt rc "$tmp/j.json" tenant-a
expect_failed "$name"
grep -q "can't open file '$outside/bin/attack_job.py'" "$tmp/train.err" || { show_train_log; fail "$name: python3 did not report the missing script"; }
[[ ! -e $work/$name/algo-1/model/report.json ]] || fail "$name: the host script ran"
note "2c. host paths named in ContainerArguments are not bound: the channel's code cannot read them"
name=host-args-$$
mkjob "$tmp/j.json" "$name" "[\"read\", \"$canary\", \"$outside/secret\", \"$outside/bin/attack_job.py\", \"$outside/secret/\"]"
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "$name"
[[ $(report_of "$name" 'sorted(set(d["read"].values()))') == '["ENOENT"]' ]] ||
  fail "$name: a host path named in the arguments was visible: $(report_of "$name" 'd["read"]')"
model_ok "$name"
note "2d. --bind with --iam-config"
mkjob "$tmp/j.json" "host-bind-$$" "[\"read\", \"$canary\"]"
mt rc "$tmp/j.json" tenant-a --bind "$outside/secret"
expect_refused "--bind with --iam-config" "--bind"
[[ ! -e $work/host-bind-$$/algo-1/model/report.json ]] || fail "--bind with --iam-config: refused, but the command ran"
note "2d-net. --hosts-file with --iam-config: the job's private network is never dropped unasked"
printf '127.0.0.1 algo-1\n' > "$tmp/hosts"
mt rc "$tmp/j.json" tenant-a --host algo-1 --hosts-file "$tmp/hosts"
expect_refused "--hosts-file with --iam-config" "--hosts-file" "--host-network"
train rc "$tmp/j.json" --work-dir "$work" --host-network
expect_refused "--host-network without --iam-config" "--host-network" "only multi-tenant jobs"
note "2e. control: single-tenant, the same host script reads a file next to the canary"
name=host-control-$$
mkjob "$tmp/j.json" "$name" "[\"read\", \"$outside/secret/control.txt\"]" \
  "j['AlgorithmSpecification']['ContainerEntrypoint'] = ['python3', '$outside/bin/attack_job.py']; j['OutputDataConfig']['S3OutputPath'] = 's3://$bucket/out/single/'; del j['SessionChainingConfig']"
train rc "$tmp/j.json" --work-dir "$work"
expect_rc "$rc" 0 "the single-tenant control"
[[ $(report_of "$name" "d['read']['$outside/secret/control.txt']") == read ]] ||
  fail "single-tenant, the host script could not read $outside/secret/control.txt, so 2a-2c prove nothing: $(report_of "$name" 'd["read"]')"
intact "2"
nothing_leaked "2"

# --- 3. links in the outputs and checkpoints ----------------------------------------------------
note "3a. links to host secrets in model/, output/data/, checkpoints (gzip): stored as links, never followed"
name=links-gz-$$
mkjob "$tmp/j.json" "$name" "[\"links\", \"$canary\", \"$outside/secret\"]" \
  "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/'}"
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "$name"
[[ $(report_of "$name" 'sorted(k for k, v in d["attempts"].items() if k.startswith("symlink") and v != "ok")') == "[]" ]] ||
  fail "$name: the code could not plant its links, so the case proves nothing: $(report_of "$name" 'd["attempts"]')"
model_ok "$name"
tar -tvzf "$tmp/m/model.tar.gz" >"$tmp/m/list"
grep -q "^l.* leak -> $canary\$" "$tmp/m/list" || fail "$name: model/leak is not stored as a link in model.tar.gz: $(cat "$tmp/m/list")"
grep -q "^l.* leakdir -> $outside/secret\$" "$tmp/m/list" || fail "$name: model/leakdir is not stored as a link: $(cat "$tmp/m/list")"
grep -q "^l.* sub/deep -> $canary\$" "$tmp/m/list" || fail "$name: model/sub/deep is not stored as a link: $(cat "$tmp/m/list")"
grep -q "leakdir/" "$tmp/m/list" && fail "$name: the linked host directory was archived: $(cat "$tmp/m/list")"
"$sluice" cp -q "s3://$bucket/out/tenant-a/$name/output/output.tar.gz" "$tmp/m/output.tar.gz" || fail "$name: no output.tar.gz"
tar -tvzf "$tmp/m/output.tar.gz" >"$tmp/m/olist"
grep -q "^-.* real.txt\$" "$tmp/m/olist" || fail "$name: output.tar.gz lacks real.txt: $(cat "$tmp/m/olist")"
grep -q "^l.* leak -> $canary\$" "$tmp/m/olist" || fail "$name: output/data/leak is not stored as a link: $(cat "$tmp/m/olist")"
ck=$("$sluice" ls -r "s3://$bucket/ckpt/tenant-a/$name/")
grep -q "step-1.ckpt" <<<"$ck" || fail "$name: the real checkpoint was not uploaded: $ck"
grep -q "leak" <<<"$ck" && fail "$name: a checkpoint link was uploaded: $ck"
grep -q "symbolic link" "$tmp/train.err" || { show_train_log; fail "$name: no warning about the checkpoint links"; }
nothing_leaked "3a"
note "3b. the same with CompressionType NONE: links skipped with a warning, real files uploaded"
name=links-none-$$
mkjob "$tmp/j.json" "$name" "[\"links\", \"$canary\", \"$outside/secret\"]" \
  "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/'}; j['OutputDataConfig']['CompressionType'] = 'NONE'"
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "$name"
got=$("$sluice" ls -r "s3://$bucket/out/tenant-a/$name/output/" | awk '{print $NF}' | sed "s|.*/$name/output/||" | sort | tr '\n' ' ')
[[ $got == "data/real.txt model/model.bin model/report.json " ]] ||
  fail "$name: uploaded outputs are '$got', expected only data/real.txt model/model.bin model/report.json"
grep -q "leak is a symbolic link, not followed; not uploaded" "$tmp/train.err" || { show_train_log; fail "$name: no warning about the skipped links"; }
nothing_leaked "3b"
note "3c. output/failure as a link to the canary: FailureReason does not read it"
name=links-fail-$$
mkjob "$tmp/j.json" "$name" "[\"links\", \"$canary\", \"$outside/secret\", \"fail\"]"
mt rc "$tmp/j.json" tenant-a
expect_failed "$name" "exited with code 3"
[[ -z $(secrets_in "$work/$name/status.json") ]] || fail "$name: the canary went into status.json"
intact "3"
nothing_leaked "3c"

# --- 4. links planted where the next run writes -------------------------------------------------
victim=$outside/victim
# What the resumed (or replacing) run's command inspects: every place section 4 plants a link.
planted_paths='"/opt/ml/checkpoints/step-2.ckpt", "/opt/ml/checkpoints/sub", "/opt/ml/checkpoints/own", "/opt/ml/checkpoints/owndir", "/opt/ml/model/own", "/opt/ml/model/owndir", "/opt/ml/code/own", "/opt/ml/output/data"'
# plant_and_resume NAME WHAT TARGET [S3-OBJECT]: run 1 (attack_job.py plant-then-inspect WHAT
# TARGET ...) plants, must have managed to, and fails (exit 1: a Failed job); S3-OBJECT (relative to
# the job's checkpoint prefix) is then put there for the checkpoint restore of run 2, `--resume`
# with the SAME spec, whose command (finding its marker in the kept checkpoint directory) inspects
# the planted paths; run 2's exit code is left in $rc.
plant_and_resume() {
  local name=$1 what=$2 target=$3 object=${4:-}
  mkjob "$tmp/j.json" "$name" "[\"plant-then-inspect\", \"$what\", \"$target\", $planted_paths]" \
    "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/'}"
  plant_run "$name"
  [[ -z $object ]] || "$sluice" cp -q "$tmp/data/part-1.bin" "s3://$bucket/ckpt/tenant-a/$name/$object"
  mt rc "$tmp/j.json" tenant-a --resume
  intact "$name (run 2, --resume over the planted links)"
}
# plant_run NAME: runs $tmp/j.json (plant-then-inspect) for the first time: it plants, fails, and
# every link it meant to plant is there; input/ and /opt/ml could not be changed at all.
plant_run() {
  local name=$1 a got
  mt rc "$tmp/j.json" tenant-a
  expect_failed "$name" "exited with code 1"
  [[ $(report_of "$name" 'd.get("phase")') == plant ]] || fail "$name: run 1 did not plant: $(report_of "$name" 'd')"
  for a in $(report_of "$name" '" ".join(k.replace(" ", "+") for k in d["attempts"] if k.startswith("symlink /opt/ml/") and k != "symlink /opt/ml/evil")'); do
    [[ $(report_of "$name" "d['attempts']['${a//+/ }']") == ok ]] || fail "$name: the code could not plant '${a//+/ }', so the rerun proves nothing"
  done
  for a in "write input file" "symlink in input" "rename input channel" "unlink input file" "chmod input dir" \
           "new channel dir" "symlink in /opt/ml" "rename /opt/ml/input" "rename /opt/ml/model"; do
    got=$(report_of "$name" "d['attempts']['$a']")
    [[ $got == EACCES || $got == EPERM ]] || fail "$name: the training code could '$a' (got $got): input/ or /opt/ml is writable by it"
  done
  intact "$name (run 1, planting)"
}
inspected() { report_of "$1" "d['inspect']['$2']['kind']"; }  # inspected NAME PATH: link, dir, file or an errno name
note "4a. checkpoints/step-2.ckpt -> a host file; the restore of the resumed run replaces the link (or fails), never writes through it"
plant_and_resume "plant-file-$$" ckpt-file "$victim/target.txt" step-2.ckpt
if [[ $rc == 0 ]]; then  # the downloaded file was renamed over the link: the link is gone, the target untouched
  [[ $(report_of "plant-file-$$" 'd.get("phase")') == inspect ]] || fail "plant-file-$$: the resumed run did not keep the checkpoint directory"
  [[ $(report_of "plant-file-$$" 'd["inspect"]["/opt/ml/checkpoints/step-2.ckpt"].get("sha256")') == $(sha256sum "$tmp/data/part-1.bin" | cut -d' ' -f1) ]] ||
    fail "plant-file-$$: the resumed run succeeded but step-2.ckpt is not the restored checkpoint: $(report_of "plant-file-$$" 'd["inspect"]')"
  echo "    4a: the restore replaced the link by the checkpoint" >&2
else
  expect_failed "plant-file-$$" "restoring checkpoints" "step-2.ckpt" "symbolic link"
  echo "    4a: the restore failed on the link" >&2
fi
note "4b. checkpoints/sub -> a host directory; the restore of sub/evil.ckpt by the resumed run fails, nothing lands in the directory"
plant_and_resume "plant-dir-$$" ckpt-dir "$victim" sub/evil.ckpt
expect_failed "plant-dir-$$" "restoring checkpoints" "sub/evil.ckpt" "a symbolic link is in the way"
[[ ! -e $victim/evil.ckpt ]] || fail "plant-dir-$$: the restore wrote through the planted directory link into $victim"
note "4c. links in model/, code/, output/data and the checkpoint directory, then --resume: removed (model/, code/, output/) or handed over (checkpoints) without following one"
name=plant-handover-$$
plant_and_resume "$name" handover "$victim"
expect_rc "$rc" 0 "$name (run 2, --resume)"
[[ $(report_of "$name" 'd.get("phase")') == inspect ]] || fail "$name: the resumed run did not keep the checkpoint directory (its marker)"
for p in /opt/ml/model/own /opt/ml/model/owndir /opt/ml/code/own; do
  [[ $(inspected "$name" "$p") == ENOENT ]] || fail "$name: --resume left $p: $(report_of "$name" 'd["inspect"]')"
done
[[ $(inspected "$name" /opt/ml/output/data) == dir ]] || fail "$name: output/data is not a fresh directory: $(report_of "$name" 'd["inspect"]')"
[[ -d $work/$name/algo-1/output/data && ! -L $work/$name/algo-1/output/data ]] || fail "$name: output/data on the host is not a real directory"
for p in /opt/ml/checkpoints/own /opt/ml/checkpoints/owndir; do  # kept, and handed over again as links
  [[ $(inspected "$name" "$p") == link ]] || fail "$name: --resume did not keep $p of the checkpoint directory: $(report_of "$name" 'd["inspect"]')"
done
model_ok "$name"
note "4d. the same links (and the checkpoint ones of 4a, 4b), then --replace with another spec: all removed without following one"
name=plant-replace-$$
mkjob "$tmp/j.json" "$name" "[\"plant-then-inspect\", \"all\", \"$victim\"]" \
  "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/'}"
plant_run "$name"
mkjob "$tmp/j.json" "$name" "[\"inspect\", $planted_paths]" \
  "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/'}"
mt rc "$tmp/j.json" tenant-a --replace
intact "$name (run 2, --replace over the planted links)"
expect_rc "$rc" 0 "$name (run 2, --replace)"
[[ $(report_of "$name" 'sorted(p for p, v in d["inspect"].items() if v["kind"] != "ENOENT")') == '["/opt/ml/output/data"]' ]] ||
  fail "$name: --replace left planted paths: $(report_of "$name" 'd["inspect"]')"
[[ $(inspected "$name" /opt/ml/output/data) == dir ]] || fail "$name: output/data is not a fresh directory: $(report_of "$name" 'd["inspect"]')"
model_ok "$name"
note "4e. a spec whose checkpoint directory is /opt/ml itself or below input/ (it would give the code the tree Sluice writes) is refused"
for local in /opt/ml /opt/ml/model/.. /opt/ml/input/data; do
  name=ckpt-root-$$-$RANDOM
  mkjob "$tmp/j.json" "$name" '["read", "/etc/hostname"]' \
    "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/', 'LocalPath': '$local'}"
  mt rc "$tmp/j.json" tenant-a
  expect_rc "$rc" 2 "LocalPath $local"
  grep -q "CheckpointConfig.LocalPath: must not be /opt/ml itself nor inside /opt/ml/input" "$tmp/train.err" ||
    { show_train_log; fail "LocalPath $local: not refused by name"; }
  [[ ! -e $work/$name ]] || fail "LocalPath $local: a job directory was made"
done
nothing_leaked "4"

# --- 5. a job directory belongs to one session --------------------------------------------------
note "5a. tenant A's job; tenant B, another role and other tags naming it are refused"
name=shared-$$
mkjob "$tmp/j.json" "$name" '["read", "/etc/hostname"]'
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "tenant A's job $name"
snapshot() { (cd "$work/$1" && find . -printf '%p %m %u %s %T@\n' | sort && find . -type f -exec sha256sum {} + | sort); }
snapshot "$name" >"$tmp/snap"
mkjob "$tmp/jb.json" "$name" '["read", "/etc/hostname"]' \
  "j['InputDataConfig'] = [channel('code', f's3://{b}/in/tenant-b/code/')]; j['OutputDataConfig']['S3OutputPath'] = f's3://{b}/out/tenant-b/'"
# A name used before is refused to anyone without --replace or --resume (also ResourceInUse): the
# other sessions try those too, and must be refused for the ownership itself ("belongs to another
# session"), before --replace deletes or --resume touches anything.
owned="belongs to another session"
for flag in "" --replace --resume; do
  # shellcheck disable=SC2086  # no flag: no argument
  mt rc "$tmp/jb.json" tenant-b $flag
  expect_refused "tenant B naming tenant A's job ${flag:-(no flag)}" "ResourceInUse" "$name" "$owned"
  grep -q "tenant-a" "$tmp/train.err" && fail "the refusal tells tenant B about tenant A's session: $(cat "$tmp/train.err")"
done
sed "s|role/TenantJobs\"|role/TenantJobsToo\"|" "$tmp/j.json" >"$tmp/j2.json"
mt rc "$tmp/j2.json" tenant-a --replace
expect_refused "another role naming tenant A's job (--replace)" "ResourceInUse" "$owned"
mt rc "$tmp/j.json" tenant-a --session-tag team=other --replace
expect_refused "tenant A with other tags naming its job (--replace)" "ResourceInUse" "$owned"
mt rc "$tmp/j.json" tenant-a --session-tag team=other --resume
expect_refused "tenant A with other tags naming its job (--resume)" "ResourceInUse" "$owned"
snapshot "$name" | diff "$tmp/snap" - >&2 || fail "a refused session changed the job directory $work/$name (diff above)"
[[ -z $("$sluice" ls -r "s3://$bucket/out/tenant-b/" 2>/dev/null) ]] || fail "tenant B's refused job wrote outputs"
note "5b. a job directory made by hand is refused and left alone"
mkdir -p "$work/premade-$$/algo-1/input/data/code" && printf 'planted\n' >"$work/premade-$$/algo-1/input/data/code/attack_job.py"
chmod 755 "$work/premade-$$"
snapshot "premade-$$" >"$tmp/snap2"
mkjob "$tmp/j.json" "premade-$$" '["read", "/etc/hostname"]'
for flag in "" --replace; do
  # shellcheck disable=SC2086  # no flag: no argument
  mt rc "$tmp/j.json" tenant-a $flag
  expect_refused "a pre-made job directory ${flag:-(no flag)}" "ResourceInUse" "$owned"
done
snapshot "premade-$$" | diff "$tmp/snap2" - >&2 || fail "the refused job changed the pre-made directory (diff above)"
note "5c. the same session runs its job again: refused without a flag, run anew with --replace"
mkjob "$tmp/j.json" "$name" '["read", "/etc/hostname"]'
mt rc "$tmp/j.json" tenant-a
expect_refused "tenant A's rerun of $name without --replace" "ResourceInUse" "already exists (Completed"
snapshot "$name" | diff "$tmp/snap" - >&2 || fail "the refused rerun changed the job directory $work/$name (diff above)"
mt rc "$tmp/j.json" tenant-a --replace
expect_rc "$rc" 0 "tenant A's rerun of $name with --replace"
model_ok "$name"

# --- 6. file-system channel: a link flipped between A and B while jobs bind it ------------------
note "6. 8 jobs bind tenant-a/flip while a loop flips it between A's and B's directories"
python3 - "$outside/fsx/tenant-a" <<'PY' &
import os, sys
os.chdir(sys.argv[1])
while True:
    for target in ("real", "../tenant-b"):
        os.symlink(target, "flip.new")
        os.replace("flip.new", "flip")
PY
flipper=$!
bg_pids+=("$flipper")
# The first job must find the link (the loop's python may start after it otherwise).
wait_for_file "$outside/fsx/tenant-a/flip" 10 || fail "the flipping loop did not make tenant-a/flip"
seen_a=0 denied_b=0
for n in 1 2 3 4 5 6 7 8; do
  name=race-$n-$$
  mkjob "$tmp/j.json" "$name" '["fs", "fsx"]' "j['InputDataConfig'].append(fs_channel('fsx', '/tenant-a/flip'))"
  mt rc "$tmp/j.json" tenant-a
  kill -0 "$flipper" 2>/dev/null || fail "the flipping loop died"
  if [[ $rc == 0 ]]; then
    fsview=$(report_of "$name" 'sorted(d["fs"])')
    [[ $fsview == '["a-marker.txt"]' ]] || fail "$name: the job saw $fsview in its file-system channel, not tenant A's directory"
    ((++seen_a))
  else
    expect_failed "$name" AccessDenied elasticfilesystem:ClientMount "file-system/$fsid/tenant-b/"
    [[ ! -e $work/$name/algo-1/model/report.json ]] || fail "$name: denied, but the command ran"
    ((++denied_b))
  fi
  [[ -z $(secrets_in "$work/$name") ]] || fail "$name: tenant B's marker reached the job"
done
kill "$flipper"
wait "$flipper" 2>/dev/null || true
echo "    race: $seen_a jobs bound tenant A's directory, $denied_b were denied tenant B's" >&2
nothing_leaked "6"

# --- 7. checkpoint directory swapped for a link while the job runs ------------------------------
note "7. the code swaps a checkpoint subdirectory and the checkpoint directory for links to a host directory"
name=ckpt-swap-$$
mkjob "$tmp/j.json" "$name" "[\"ckpt-swap\", \"$outside/secret\"]" \
  "j['CheckpointConfig'] = {'S3Uri': 's3://$bucket/ckpt/tenant-a/$name/', 'LocalPath': '/opt/ml/code/ckpt'}"
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "$name"
for what in "swap sub" "swap dir"; do
  [[ $(report_of "$name" "d['attempts']['$what']") == ok ]] || fail "$name: the code could not '$what', so the case proves nothing"
done
ck=$("$sluice" ls -r "s3://$bucket/ckpt/tenant-a/$name/")
grep -q "step-1.ckpt" <<<"$ck" || fail "$name: the checkpoint written before the swap was not uploaded: $ck"
grep -q "step-2.ckpt" <<<"$ck" || fail "$name: the checkpoint written after the swap (in the real directory) was not uploaded: $ck"
grep -q "checkpoint sub is a symbolic link" "$tmp/train.err" || { show_train_log; fail "$name: no warning about the swapped-in link"; }
grep -Eq "canary|control" <<<"$ck" && fail "$name: host files were uploaded as checkpoints: $ck"
intact "7"
nothing_leaked "7"

# --- 8. store-side session policy fails closed --------------------------------------------------
note "8. StoreRoleArn: Deny statements the store cannot take fail the job; one it can take reaches it"
store_role=sluice-e2e-attacks-$$-$RANDOM
rgw_admin role create --role-name="$store_role" --assume-role-policy-doc="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam:::user/sluice\"]},\"Action\":[\"sts:AssumeRole\"]}]}" >/dev/null
rgw_admin role-policy put --role-name="$store_role" --policy-name=all \
  --policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}' >/dev/null
# store_iam OUT STATEMENTS-JSON [ALLOW-ALL-INPUT]: the IAM configuration with StoreRoleArn and
# STATEMENTS added to the role's policy; ALLOW-ALL-INPUT widens ReadOwnInput to every tenant's in/.
store_iam() {
  python3 - "$outside/iam.json" "$1" "arn:aws:iam:::role/$store_role" "$2" "${3:-}" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
r = cfg["Roles"][0]
r["StoreRoleArn"] = sys.argv[3]
stmts = r["Policies"][0]["Statement"]
stmts.extend(json.loads(sys.argv[4]))
if sys.argv[5]:
    stmts[0]["Resource"] = stmts[0]["Resource"].replace("${aws:PrincipalTag/tenant-id}", "*")
json.dump(cfg, open(sys.argv[2], "w"))
PY
}
own_prefixes="\"arn:aws:s3:::$bucket/in/\${aws:PrincipalTag/tenant-id}/*\", \"arn:aws:s3:::$bucket/out/\${aws:PrincipalTag/tenant-id}/*\", \"arn:aws:s3:::$bucket/ckpt/\${aws:PrincipalTag/tenant-id}/*\""
note "8a. Deny with NotAction (the store would accept it and never apply it)"
store_iam "$outside/iam-notaction.json" \
  "[{\"Sid\": \"InputsReadOnly\", \"Effect\": \"Deny\", \"NotAction\": [\"s3:GetObject\", \"s3:ListBucket\"], \"Resource\": \"arn:aws:s3:::$bucket/in/*\"}]"
name=store-notaction-$$
mkjob "$tmp/j.json" "$name" '["read", "/etc/hostname"]'
train rc "$tmp/j.json" --work-dir "$work" --iam-config "$outside/iam-notaction.json" --session-tag tenant-id=tenant-a
expect_failed "$name" "InputsReadOnly" "NotAction" "cannot be given to the store"
[[ ! -e $work/$name/algo-1/model/report.json ]] || fail "$name: the command ran"
[[ -z $("$sluice" ls -r "s3://$bucket/out/tenant-a/$name/" 2>/dev/null) ]] || fail "$name: outputs were written"
note "8b. Deny whose NotResource holds \${*} (a literal * the store would read as a wildcard)"
store_iam "$outside/iam-notresource.json" \
  "[{\"Sid\": \"OnlyOwnPrefixes\", \"Effect\": \"Deny\", \"Action\": \"s3:GetObject\", \"NotResource\": [$own_prefixes, \"arn:aws:s3:::$bucket/shared\${*}/*\"]}]"
name=store-notresource-$$
mkjob "$tmp/j.json" "$name" '["read", "/etc/hostname"]'
train rc "$tmp/j.json" --work-dir "$work" --iam-config "$outside/iam-notresource.json" --session-tag tenant-id=tenant-a
expect_failed "$name" "OnlyOwnPrefixes" "NotResource" "cannot be given to the store"
[[ ! -e $work/$name/algo-1/model/report.json ]] || fail "$name: the command ran"
note "8c. a Deny with NotResource the store can take: the job runs, the store refuses tenant B"
store_iam "$outside/iam-deny-others.json" \
  "[{\"Sid\": \"OnlyOwnPrefixes\", \"Effect\": \"Deny\", \"Action\": \"s3:GetObject\", \"NotResource\": [$own_prefixes]}]" widen
name=store-deny-$$
mkjob "$tmp/j.json" "$name" "[\"s3get\", \"$bucket/in/tenant-a/data/part-1.bin\", \"$bucket/in/tenant-b/data/b-secret.txt\"]"
SLUICE_LOG=info train rc "$tmp/j.json" --work-dir "$work" --iam-config "$outside/iam-deny-others.json" --session-tag tenant-id=tenant-a
expect_rc "$rc" 0 "$name"
grep -q "store-side enforcement: the job's data access uses temporary credentials of arn:aws:iam:::role/$store_role" "$tmp/train.err" ||
  { show_train_log; fail "$name: the job did not use the store's scoped credentials"; }
[[ $(report_of "$name" "d['s3']['$bucket/in/tenant-a/data/part-1.bin']") == 200 ]] ||
  fail "$name: the job's credentials cannot read tenant A's object through AWS_ENDPOINT_URL: $(report_of "$name" 'd')"
[[ $(report_of "$name" "d['s3']['$bucket/in/tenant-b/data/b-secret.txt']") == 403 ]] ||
  fail "$name: the store let the job read tenant B's object (the Deny NotResource did not reach it): $(report_of "$name" 'd')"
model_ok "$name"
nothing_leaked "8"

# --- 9. uid, capabilities, raw sockets, network -------------------------------------------------
note "9. the command's uid, capabilities, AF_PACKET, and its network (a host listener on 127.0.0.1)"
python3 - "$tmp/listener" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        data = c.recv(100)
    except OSError:
        data = b"(nothing)\n"
    with open(sys.argv[1] + ".log", "ab") as f:
        f.write(data)
    c.close()
PY
bg_pids+=($!)
wait_for_file "$tmp/listener.port" 10 || fail "the TCP listener did not start"
port=$(cat "$tmp/listener.port")
printf 'host-check\n' >/dev/tcp/127.0.0.1/"$port" || fail "the listener on 127.0.0.1:$port cannot be reached from the host"
store_port=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).port)' "$AWS_ENDPOINT_URL")
name=privs-$$
mkjob "$tmp/j.json" "$name" "[\"privs\", \"$port\", \"$store_port\"]"
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "$name"
r() { report_of "$name" "$1"; }
[[ $(r 'd["uid"] >= 0x60000000 and d["euid"] == d["uid"] and d["gid"] >= 0x60000000') == true ]] ||
  fail "$name: the command runs as uid $(r 'd["uid"]') gid $(r 'd["gid"]'), not a per-job uid >= 0x60000000"
for cap in CapEff CapPrm CapBnd CapAmb CapInh; do
  [[ $(r "d['$cap']") == 0000000000000000 ]] || fail "$name: $cap is $(r "d['$cap']"), expected 0"
done
[[ $(r 'd["NoNewPrivs"]') == 1 ]] || fail "$name: NoNewPrivs is $(r 'd["NoNewPrivs"]')"
[[ $(r 'd["af_packet"]') == EPERM ]] || fail "$name: an AF_PACKET socket gave $(r 'd["af_packet"]'), expected EPERM"
[[ $(r 'd["raw_icmp"]') == EPERM ]] || fail "$name: a raw ICMP socket gave $(r 'd["raw_icmp"]'), expected EPERM"
[[ $(r 'd["attempts"]["setuid 0"]') == EPERM ]] || fail "$name: setuid(0) gave $(r 'd["attempts"]["setuid 0"]')"
[[ $(r "d['connect']['$port']") != ok ]] || fail "$name: the job connected to the host's 127.0.0.1:$port"
[[ $(r "d['connect']['$store_port']") != ok ]] || fail "$name: the job (no StoreRoleArn) connected to the store's port $store_port"
[[ $(r 'd["interfaces"]') == '["lo"]' ]] || fail "$name: the job's network has $(r 'd["interfaces"]'), expected only lo"
[[ -z $(r 'd["endpoint"]') ]] || fail "$name: a role without StoreRoleArn got AWS_ENDPOINT_URL"
sleep 0.5
[[ $(cat "$tmp/listener.log") == host-check ]] || fail "the host listener was reached by the job: $(cat "$tmp/listener.log")"
[[ $(r 'd["attempts"]["unshare user namespace"]') == EPERM ]] ||
  fail "$name: unshare(CLONE_NEWUSER) gave $(r 'd["attempts"]["unshare user namespace"]'), expected EPERM (the syscall filter)"
model_ok "$name"

# --- 10. local users ----------------------------------------------------------------------------
note "10. an unprivileged local user cannot read a running job's input, model, status or FastFile mount"
name=local-users-$$
mkjob "$tmp/j.json" "$name" '["hold"]' \
  "j['InputDataConfig'] += [channel('file', f's3://{b}/in/tenant-a/data/'), channel('fast', f's3://{b}/in/tenant-a/data/', 'FastFile')]"
printf 'public\n' >"$work/public.txt" && chmod 644 "$work/public.txt"
bg_train "$name" "$tmp/j.json" tenant-a
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody cat "$work/public.txt" >/dev/null || fail "user 65534 cannot reach $work at all, so the checks below prove nothing"
j=$work/$name/algo-1
for f in "$j/input/data/file/part-1.bin" "$j/model/model.bin" "$work/$name/status.json" "$j/input/data/fast/part-1.bin"; do
  [[ -s $f ]] || fail "$f is not there while the job runs (as root), so the check proves nothing"
  if nobody cat "$f" >/dev/null 2>&1; then fail "user 65534 can read $f of a running job"; fi
done
[[ -e $j/input/data/fast/part-2.bin ]] || fail "root cannot see the FastFile mount's files"
if nobody ls "$j/input/data/fast" >/dev/null 2>&1; then fail "user 65534 can list the FastFile mount of a running job"; fi
bg_release "$name"
expect_rc "$rc" 0 "$name"

# --- 11. a resumed run verifies the inputs it keeps ---------------------------------------------
note "11. --resume fetches again an object replaced with the same size and a local file changed in place, drops one no longer listed"
# Every run of the job hashes its channel and fails (exit 1), so that the next is a --resume with
# the same spec: it keeps input/ and must verify each file against its download record.
name=same-size-$$
head -c 4096 /dev/zero | tr '\0' 'a' >"$tmp/v1" && head -c 4096 /dev/zero | tr '\0' 'b' >"$tmp/v2"
printf 'unchanged\n' >"$tmp/u" && printf 'deleted after run 1\n' >"$tmp/w"
"$sluice" cp -q "$tmp/v1" "s3://$bucket/in/tenant-a/s11/v.bin"
"$sluice" cp -q "$tmp/u" "s3://$bucket/in/tenant-a/s11/u.bin"
"$sluice" cp -q "$tmp/w" "s3://$bucket/in/tenant-a/s11/w.bin"
mkjob "$tmp/j.json" "$name" '["hash", "data", "fail"]' "j['InputDataConfig'].append(channel('data', f's3://{b}/in/tenant-a/s11/'))"
sha() { sha256sum "$1" | cut -d' ' -f1; }
data=$work/$name/algo-1/input/data/data
mt rc "$tmp/j.json" tenant-a
expect_failed "$name" "exited with code 1"
[[ $(report_of "$name" 'sorted(d["files"])') == '["u.bin", "v.bin", "w.bin"]' ]] || fail "$name: run 1 saw $(report_of "$name" 'd["files"]')"
[[ $(report_of "$name" 'd["files"]["v.bin"]') == $(sha "$tmp/v1") ]] || fail "$name: run 1 did not see version 1"
kept=$(stat -c "%i %z" "$data/u.bin")  # a file fetched again is a new inode (maybe of the same number): a new ctime
"$sluice" cp -q "$tmp/v2" "s3://$bucket/in/tenant-a/s11/v.bin"
"$sluice" rm "s3://$bucket/in/tenant-a/s11/w.bin" >/dev/null
mt rc "$tmp/j.json" tenant-a --resume
expect_failed "$name" "exited with code 1"
[[ $(report_of "$name" 'd["files"]["v.bin"]') == $(sha "$tmp/v2") ]] ||
  fail "$name: the resumed run kept the old download of an object replaced with the same size"
[[ $(report_of "$name" 'sorted(d["files"])') == '["u.bin", "v.bin"]' ]] ||
  fail "$name: the resumed run kept a file whose object is gone (or lost one): $(report_of "$name" 'd["files"]')"
# The inputs were verified, not fetched anew: otherwise the checks above would pass for any resume.
[[ $(stat -c "%i %z" "$data/u.bin") == "$kept" ]] || fail "$name: --resume fetched an unchanged file again (input/ not kept)"
head -c 4096 /dev/zero | tr '\0' 'c' >"$data/v.bin"
mt rc "$tmp/j.json" tenant-a --resume
expect_failed "$name" "exited with code 1"
[[ $(report_of "$name" 'd["files"]["v.bin"]') == $(sha "$tmp/v2") ]] ||
  fail "$name: the resumed run kept a downloaded file whose bytes were changed on the host"

# --- 12. /tmp size; role tags -------------------------------------------------------------------
note "12a. the sandbox's /tmp and /dev/shm are tmpfs of an eighth of RAM each (one host)"
name=tmp-size-$$
mkjob "$tmp/j.json" "$name" '["tmp"]'
mt rc "$tmp/j.json" tenant-a
expect_rc "$rc" 0 "$name"
want=$(python3 -c 'import os; print(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 8)')
disk=$(python3 -c 'import os; s = os.statvfs("/var/tmp"); print(s.f_blocks * s.f_frsize)')
for d in /tmp /dev/shm; do
  got=$(report_of "$name" "d['$d']['total']")
  ((got > want * 99 / 100 && got < want * 101 / 100)) || fail "$name: $d holds $got bytes, expected about $want (RAM/8)"
  ((got != disk)) || fail "$name: $d is the host's disk ($disk bytes)"
done
[[ $(report_of "$name" 'd["tmp_writable"]') == 1048576 ]] || fail "$name: /tmp is not writable by the job's uid"
note "12b. role tags that break STS rules are refused naming the role"
for bad in '{"Key": "aws:x", "Value": "1"}' '{"Key": "k", "Value": "a*b"}'; do
  sed "s|\"Tags\": \[{\"Key\": \"team\", \"Value\": \"ml-platform\"}\]|\"Tags\": [$bad]|" "$outside/iam.json" >"$outside/iam-badtag.json"
  grep -qF "$bad" "$outside/iam-badtag.json" || fail "could not write the bad tag into the IAM configuration"
  mkjob "$tmp/j.json" "badtag-$$" '["read", "/etc/hostname"]'
  train rc "$tmp/j.json" --work-dir "$work" --iam-config "$outside/iam-badtag.json" --session-tag tenant-id=tenant-a
  expect_refused "role tag $bad" "of role $role)"
  [[ ! -e $work/badtag-$$ ]] || fail "role tag $bad: refused, but the job directory was made"
done

# --- everything ---------------------------------------------------------------------------------
intact "the end"
found=$(secrets_in "$work")
[[ -z $found ]] || fail "a secret is in the work directory: $found"
nothing_leaked "the end"
echo "PASS ($((SECONDS - started)) s)"
