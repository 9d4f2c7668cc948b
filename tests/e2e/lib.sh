# shellcheck shell=bash
# Shared helpers of the tests/e2e/*_test.sh scripts (sourced, not a test itself).
#
# After `source lib.sh`: $sluice (the CLI), $src (the source tree), $scripts (tests/e2e/scripts),
# $tmp (a fresh temporary directory), $bucket (a fresh bucket, made), and a trap that removes both.
# Training scripts must live outside /tmp: the sandbox gives the job a private, empty /tmp, so
# they are in tests/e2e/scripts (or inline, `python3 -c ...`). Work directories and file-system
# channel directories may be under /tmp: they are bound into the job explicitly.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*" >&2; }

# shellcheck disable=SC1090
source "${SLUICE_LOCAL_S3_ENV:?run through ctest (the local_s3 fixture sets SLUICE_LOCAL_S3_ENV)}"
sluice=${SLUICE_BINARY:?}
src=${SLUICE_SOURCE_DIR:?}
# shellcheck disable=SC2034  # used by the tests that source this file
scripts=$src/tests/e2e/scripts
[[ -x $sluice ]] || fail "no sluice binary at $sluice"

# The contract puts the job's directory at /opt/ml, which needs bubblewrap. Where this machine
# cannot create the namespaces at all (the same probe Sluice runs, docs/sandbox.md), the tests are
# skipped (exit 77, ctest's SKIP_RETURN_CODE) rather than failed: nothing of Sluice's is wrong.
if ! "${SLUICE_BWRAP:-bwrap}" --unshare-pid --die-with-parent --new-session --ro-bind / / --dev /dev \
     --proc /proc true 2>/dev/null; then
  echo "SKIP: bubblewrap cannot run here, so a job cannot see /opt/ml (see docs/sandbox.md)" >&2
  exit 77
fi

e2e_init() {  # e2e_init NAME: makes $tmp and the bucket $bucket (NAME-PID-RANDOM)
  tmp=$(mktemp -d "/tmp/sluice-e2e-$1.XXXXXX")
  bucket="e2e-$1-$$-$RANDOM"
  trap e2e_cleanup EXIT
  "$sluice" mb "s3://$bucket" >/dev/null || fail "cannot make bucket $bucket"
}

e2e_cleanup() {
  local rc=$?
  "$sluice" rb --force "s3://$bucket" >/dev/null 2>&1 || true
  if [[ $rc != 0 && -n ${SLUICE_E2E_KEEP:-} ]]; then
    echo "kept $tmp (SLUICE_E2E_KEEP)" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}

# rand_file PATH BYTES: random bytes (directories made)
rand_file() {
  mkdir -p "$(dirname "$1")"
  head -c "$2" /dev/urandom > "$1"
}

# train OUTVAR JOB.json ARGS...: runs `sluice train`, stores its exit code in OUTVAR; its
# stderr is kept in $tmp/train.err (and shown on failure of the caller's assertions).
train() {
  local __var=$1; shift
  local job=$1; shift
  set +e
  "$sluice" train "$job" "$@" 2>"$tmp/train.err" >"$tmp/train.out"
  local __rc=$?
  set -e
  printf -v "$__var" '%s' "$__rc"
}

show_train_log() {
  echo "--- sluice train stderr:" >&2
  tail -n 60 "$tmp/train.err" >&2 || true
}

# expect_rc GOT WANT WHAT
expect_rc() {
  [[ $1 == "$2" ]] || { show_train_log; fail "$3: exit code $1, expected $2"; }
}

# json_get FILE PYTHON-EXPR (the document is `d`): prints the value (strings raw, others as JSON)
json_get() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d})
print(v if isinstance(v, str) else json.dumps(v))
PY
}

# pids_with_token TOKEN: pids (as this machine sees them) whose command line contains TOKEN.
# The token goes through the environment so that the scanner's own command line lacks it.
pids_with_token() {
  E2E_TOKEN=$1 python3 -c '
import os
tok = os.environ["E2E_TOKEN"].encode()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            if tok in f.read():
                print(p)
    except OSError:
        pass
'
}

# wait_for_file PATH SECONDS
wait_for_file() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.1
  done
  return 1
}

# check_tree DIR SRC: every file under a final name in DIR equals the file of the same relative
# path in SRC; no ".sluice-partial-" file is left. Prints the number of complete files.
check_tree() {
  python3 - "$1" "$2" <<'PY'
import os, sys
root, src = sys.argv[1], sys.argv[2]
bad, partial, n = [], [], 0
for d, _, names in os.walk(root):
    for name in names:
        p = os.path.join(d, name)
        rel = os.path.relpath(p, root)
        if name.startswith(".sluice-partial-"):
            partial.append(rel)
            continue
        s = os.path.join(src, rel)
        if not os.path.isfile(s) or open(s, "rb").read() != open(p, "rb").read():
            bad.append(rel)
        n += 1
if bad:
    sys.exit("files under a final name that are not their source: " + " ".join(bad))
if partial:
    sys.exit("temporary files left: " + " ".join(partial))
print(n)
PY
}

# write_serve_iam FILE: the IAM configuration of the `sluice serve` tests (serve_test.sh,
# serve_slurm_test.sh): the platform's user (key $key_id, secret $secret), the job-creation role
# tenants assume ($creator: their jobs and logs, by tenant-id tag) and the execution role
# ($exec_role: in/<tenant-id>/ read, out/<tenant-id>/ written, in $bucket).
write_serve_iam() {
  acct=123456789012
  key_id=AKIASLUICEPLATFORM01
  secret=$(head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
  creator=arn:aws:iam::$acct:role/JobCreator
  exec_role=arn:aws:iam::$acct:role/TrainingExecution
  cat >"$1" <<JSON
{"Users": [
  {"Arn": "arn:aws:iam::$acct:user/platform",
   "AccessKeys": [{"AccessKeyId": "$key_id", "SecretAccessKey": "$secret"}],
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "$creator"}]}]}],
 "Roles": [
  {"Arn": "$creator",
   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$acct:user/platform"},
      "Action": ["sts:AssumeRole", "sts:TagSession"]}]},
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Sid": "CreateOwnTenantsJobs", "Effect": "Allow", "Action": "sagemaker:CreateTrainingJob", "Resource": "*",
      "Condition": {"StringEquals": {"aws:RequestTag/tenant-id": "\${aws:PrincipalTag/tenant-id}"}}},
     {"Sid": "SeeOwnTenantsJobs", "Effect": "Allow",
      "Action": ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob", "sagemaker:UpdateTrainingJob"],
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:ResourceTag/tenant-id": "\${aws:PrincipalTag/tenant-id}"}}},
     {"Effect": "Allow", "Action": ["sagemaker:ListTrainingJobs", "logs:DescribeLogStreams", "logs:GetLogEvents",
                                    "logs:FilterLogEvents"], "Resource": "*"},
     {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "$exec_role"}]}]},
  {"Arn": "$exec_role", "Tags": [{"Key": "tenant-id", "Value": "shared"}],
   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
      "Action": ["sts:AssumeRole", "sts:TagSession"]}]},
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::$bucket/in/\${aws:PrincipalTag/tenant-id}/*"},
     {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::$bucket",
      "Condition": {"StringLike": {"s3:prefix": "in/\${aws:PrincipalTag/tenant-id}/*"}}},
     {"Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
      "Resource": "arn:aws:s3:::$bucket/out/\${aws:PrincipalTag/tenant-id}/*"}]}]}
]}
JSON
  chmod 600 "$1"
}

# serve_endpoint: waits until the `sluice serve` of $server_pid says where it listens (its first
# line on $tmp/serve.out); sets $endpoint. Fails with its stderr ($tmp/serve.err) if it exits.
serve_endpoint() {
  endpoint=""
  for _ in $(seq 100); do
    endpoint=$(sed -n 's|^sluice serve: listening on \(http://[^ ]*\) .*|\1|p' "$tmp/serve.out")
    [[ -n $endpoint ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/serve.err" >&2; fail "sluice serve exited"; }
    sleep 0.1
  done
  fail "sluice serve did not say where it listens: $(cat "$tmp/serve.out" "$tmp/serve.err")"
}

# stop_server: SIGTERM to the `sluice serve` of $server_pid, which must exit 0.
stop_server() {
  kill -TERM "$server_pid"
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
  [[ $rc == 0 ]] || fail "sluice serve exited $rc on SIGTERM: $(tail -5 "$tmp/serve.err")"
}
