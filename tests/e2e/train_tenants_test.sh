#!/usr/bin/env bash
# Multi-tenant jobs (issue 6, docs/multi-tenant.md): two tenants share ONE execution role whose
# policies scope every resource to ${aws:PrincipalTag/tenant-id}; jobs run with
# `--iam-config` and `--session-tag tenant-id=...` and SessionChainingConfig, against the real
# RGW store, a real FUSE mount, a real FIFO and a bubblewrap sandbox.
#  1. tenant A reads its own prefix in File, FastFile and Pipe modes and its own file-system
#     directory, writes its model and checkpoints to its own prefixes; inside the job, ~/.aws,
#     the IAM configuration and another job's work directory cannot be read (and the same probe
#     run single-tenant CAN read them: the check can fail). A multi-tenant job sees no host path
#     named in its command (issue 12), so the probe and its expected hashes reach every job
#     through a File channel "code" of tenant A's own prefix, as a tenant's code would;
#  2. a tenant A job pointed at tenant B's prefix, at a manifest with entries in B, at an
#     augmented manifest whose -ref objects are in B, with its output path in B, with a
#     file-system channel of B, and a job with no tenant tag: each fails with AccessDenied before
#     its command starts, names the action, resource, role and tags, and nothing of B is read or
#     written;
#  3. a checkpoint prefix the role may list but not write: the job is stopped while it runs and
#     fails with a FailureReason naming the denied s3:PutObject;
#  4. a trust policy without sts:TagSession refuses a chained job; tags without --iam-config and
#     invalid tags are refused.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init tenants
# Secrets and other jobs live outside /tmp (which the sandbox replaces by an empty tmpfs anyway),
# where a single-tenant sandbox would see them.
outside=$(mktemp -d /var/tmp/sluice-e2e-tenants.XXXXXX)
# remove_outside RC: removes $outside (kept, like $tmp, on failure with SLUICE_E2E_KEEP)
remove_outside() {
  if [[ $1 != 0 && -n ${SLUICE_E2E_KEEP:-} ]]; then echo "kept $outside (SLUICE_E2E_KEEP)" >&2; else rm -rf "$outside"; fi
}
trap 'rc=$?; remove_outside $rc; (exit $rc); e2e_cleanup' EXIT  # e2e_cleanup exits with $?

role=arn:aws:iam::123456789012:role/TenantJobs
fsid=fs-0123456789abcdef0
cat > "$outside/iam.json" <<EOF
{"Roles": [
  {"Arn": "$role",
   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
      "Action": ["sts:AssumeRole", "sts:TagSession"]}]},
   "Policies": [{"Version": "2012-10-17", "Statement": [
     {"Sid": "ReadOwnInput", "Effect": "Allow", "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::$bucket/in/\${aws:PrincipalTag/tenant-id}/*"},
     {"Sid": "ListOwnInput", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::$bucket",
      "Condition": {"StringLike": {"s3:prefix": ["in/\${aws:PrincipalTag/tenant-id}/*",
                                                 "ckpt/\${aws:PrincipalTag/tenant-id}/*", "ckpt/shared/*"]}}},
     {"Sid": "WriteOwnOutput", "Effect": "Allow",
      "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      "Resource": ["arn:aws:s3:::$bucket/out/\${aws:PrincipalTag/tenant-id}/*",
                   "arn:aws:s3:::$bucket/ckpt/\${aws:PrincipalTag/tenant-id}/*"]},
     {"Sid": "MountOwnDirectory", "Effect": "Allow", "Action": "elasticfilesystem:ClientMount",
      "Resource": "arn:aws:elasticfilesystem:*:123456789012:file-system/$fsid/\${aws:PrincipalTag/tenant-id}/*"}]}]},
  {"Arn": "arn:aws:iam::123456789012:role/NoTagSession",
   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
   "Policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]}
]}
EOF

# --- data: both tenants, in the store and on the "file system" -------------------------------
for t in tenant-a tenant-b; do
  for i in 1 2 3; do rand_file "$tmp/data/$t/data/part-$i.bin" $((70000 * i)); done
  "$sluice" cp -q -r "$tmp/data/$t/data/" "s3://$bucket/in/$t/data/"
  rand_file "$outside/fsx/$t/shared.bin" 4096
done
printf '{"%s": "%s"}\n' "$fsid" "$outside/fsx" > "$outside/file-systems.json"
printf '[{"prefix": "s3://%s/in/"}, "tenant-a/data/part-1.bin", "tenant-b/data/part-1.bin"]\n' "$bucket" > "$tmp/cross.manifest"
"$sluice" cp -q "$tmp/cross.manifest" "s3://$bucket/in/tenant-a/cross.manifest"
printf '{"source-ref": "s3://%s/in/tenant-a/data/part-1.bin"}\n{"source-ref": "s3://%s/in/tenant-b/data/part-2.bin"}\n' \
  "$bucket" "$bucket" > "$tmp/cross.aug"
"$sluice" cp -q "$tmp/cross.aug" "s3://$bucket/in/tenant-a/cross.aug"
mkdir -p "$outside/home/.aws" && printf '[default]\naws_secret_access_key = CANARY\n' > "$outside/home/.aws/credentials"
# Another job's work directory, with something in it.
mkdir -p "$outside/work/other-job/algo-1/model" && printf 'other tenant model\n' > "$outside/work/other-job/algo-1/model/m.bin"

python3 - "$tmp/data/tenant-a" "$outside/expected-a.json" "$scripts/tenant_probe.py" <<'PY'
import hashlib, json, os, sys
root, out, probe = sys.argv[1], sys.argv[2], sys.argv[3]
files = {}
for name in sorted(os.listdir(f"{root}/data")):
    files[name] = hashlib.sha256(open(f"{root}/data/{name}", "rb").read()).hexdigest()
stream = b"".join(open(f"{root}/data/{n}", "rb").read() for n in sorted(files))
json.dump({"file": {"files": files}, "fast": {"files": files},
           "pipe": {"pipe": hashlib.sha256(stream).hexdigest()},
           "code": {"files": {"tenant_probe.py": hashlib.sha256(open(probe, "rb").read()).hexdigest()}}},
          open(out, "w"))
PY
forbidden=("$outside/home/.aws/credentials" "$outside/iam.json" "$outside/file-systems.json" "$outside/work/other-job/algo-1/model/m.bin")

# The probe is delivered as a tenant's code is (a multi-tenant job sees no host path named in its
# command): File channels of tenant A's own prefix, "code" with the script (whose bytes the probe
# checks like any channel's) and "expected" with the hashes it checks against.
"$sluice" cp -q "$scripts/tenant_probe.py" "s3://$bucket/in/tenant-a/code/tenant_probe.py"
"$sluice" cp -q "$outside/expected-a.json" "s3://$bucket/in/tenant-a/expected/expected.json"
probe=/opt/ml/input/data/code/tenant_probe.py
expected=/opt/ml/input/data/expected/expected.json

# make_job NAME FILE CHANNELS-JSON OUTPUT-PATH CHECKPOINT-URI PROBE-ARGS...
# Every job gets the channels "code" and "expected" (tenant A's, last) besides CHANNELS-JSON, so
# that a job that should have been refused would run the probe (and leave its report) if it were not.
make_job() {
  local name=$1 file=$2 channels=$3 output=$4 ckpt=$5; shift 5
  local args="" a
  for a in "$@"; do args+=", \"$a\""; done
  channels="${channels%]}, $(s3_channel code S3Prefix "s3://$bucket/in/tenant-a/code/" File), $(s3_channel expected S3Prefix "s3://$bucket/in/tenant-a/expected/" File)]"
  cat > "$file" <<EOF
{
  "TrainingJobName": "$name",
  "RoleArn": "$role",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
                             "ContainerEntrypoint": ["python3", "$probe"$args]},
  "InputDataConfig": $channels,
  "OutputDataConfig": {"S3OutputPath": "$output"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 120},
  "CheckpointConfig": {"S3Uri": "$ckpt"},
  "SessionChainingConfig": {"EnableSessionTagChaining": true}
}
EOF
}
s3_channel() {  # s3_channel NAME TYPE URI MODE [extra JSON members]
  printf '{"ChannelName": "%s", "InputMode": "%s", "DataSource": {"S3DataSource": {"S3DataType": "%s", "S3Uri": "%s"%s}}}' \
    "$1" "$4" "$2" "$3" "${5:-}"
}
fs_channel() {  # fs_channel NAME DIR
  printf '{"ChannelName": "%s", "DataSource": {"FileSystemDataSource": {"FileSystemId": "%s", "FileSystemAccessMode": "ro", "FileSystemType": "EFS", "DirectoryPath": "%s"}}}' \
    "$1" "$fsid" "$2"
}
mt=(--iam-config "$outside/iam.json" --file-systems "$outside/file-systems.json")
status_of() { json_get "$outside/work/$1/status.json" 'd["TrainingJobStatus"]'; }
reason_of() { json_get "$outside/work/$1/status.json" 'd.get("FailureReason", "")'; }

# --- 1. tenant A, its own data in every mode ----------------------------------------------------
note "1. tenant A reads its own data in File, FastFile and Pipe modes and writes its own outputs"
ja=tenant-a-ok-$$
own="[$(s3_channel file S3Prefix "s3://$bucket/in/tenant-a/data/" File), $(s3_channel fast S3Prefix "s3://$bucket/in/tenant-a/data/" FastFile), $(s3_channel pipe S3Prefix "s3://$bucket/in/tenant-a/data/" Pipe), $(fs_channel fsx /tenant-a)]"
# The expected hashes come in the channel "expected" (a pre-made job directory is refused).
make_job "$ja" "$tmp/ja.json" "$own" "s3://$bucket/out/tenant-a/" "s3://$bucket/ckpt/tenant-a/run/" \
  "$expected" "${forbidden[@]}"
HOME="$outside/home" train rc "$tmp/ja.json" --work-dir "$outside/work" "${mt[@]}" --session-tag tenant-id=tenant-a
expect_rc "$rc" 0 "tenant A's own job"
report=$outside/work/$ja/algo-1/model/report.json
# file, fast, pipe and the probe's own code, byte for byte.
[[ $(json_get "$report" 'all(d["channels"].values()) and len(d["channels"]) == 4') == true ]] ||
  fail "tenant A's channels are wrong: $(cat "$report")"
[[ $(json_get "$report" 'len(d["readable"])') == 0 ]] || fail "a multi-tenant job could read: $(json_get "$report" 'd["readable"]')"
"$sluice" cp -q "s3://$bucket/out/tenant-a/$ja/output/model.tar.gz" "$tmp/model-a.tar.gz" || fail "tenant A's model was not uploaded"
tar -xzf "$tmp/model-a.tar.gz" -C "$tmp" report.json || fail "model.tar.gz lacks report.json"
"$sluice" ls "s3://$bucket/ckpt/tenant-a/run/" | grep -q step-1.ckpt || fail "tenant A's checkpoint was not uploaded"
audit=$outside/work/$ja/audit.jsonl
grep -q '"decision":"Allow"' "$audit" || fail "no Allow in the audit log"
grep -q 's3:ListBucket' "$audit" && grep -q 'elasticfilesystem:ClientMount' "$audit" || fail "the audit log misses actions"
grep -q 'tenant-b' "$audit" && fail "tenant A's job touched tenant B: $(grep tenant-b "$audit" | head -3)"
grep -q "CANARY\|$AWS_SECRET_ACCESS_KEY" "$audit" "$tmp/train.err" "$outside/work/$ja/status.json" &&
  fail "a secret appears in the audit log, the log or status.json"

note "1b. the same probe single-tenant CAN read the secrets (so the check above can fail)"
js=single-tenant-probe-$$
make_job "$js" "$tmp/js.json" "[$(s3_channel file S3Prefix "s3://$bucket/in/tenant-a/data/" File)]" \
  "s3://$bucket/out/single/" "s3://$bucket/ckpt/single/" - "${forbidden[@]}"
HOME="$outside/home" SLUICE_LOG=info train rc "$tmp/js.json" --work-dir "$outside/work"
expect_rc "$rc" 0 "the single-tenant probe"
grep -q 'single-tenant: no IAM configuration' "$tmp/train.err" || fail "single-tenant mode was not logged"
[[ $(json_get "$outside/work/$js/algo-1/model/report.json" 'len(d["readable"])') -ge 3 ]] ||
  fail "the single-tenant probe could not read the planted files, so case 1 proves nothing: $(cat "$outside/work/$js/algo-1/model/report.json")"

# --- 2. cross-tenant jobs: refused before the command -----------------------------------------
# denied NAME CHANNELS OUTPUT WANT-ACTION WANT-RESOURCE [extra sluice args]
denied() {
  local name=$1 channels=$2 output=$3 action=$4 resource=$5; shift 5
  make_job "$name" "$tmp/$name.json" "$channels" "$output" "s3://$bucket/ckpt/tenant-a/$name/" - 
    HOME="$outside/home" train rc "$tmp/$name.json" --work-dir "$outside/work" "${mt[@]}" "$@"
  expect_rc "$rc" 1 "$name"
  [[ $(status_of "$name") == Failed ]] || fail "$name: status $(status_of "$name")"
  local why
  why=$(reason_of "$name")
  for want in AccessDenied "$action" "$resource" "$role"; do
    [[ $why == *"$want"* ]] || fail "$name: FailureReason lacks '$want': $why"
  done
  [[ ! -e $outside/work/$name/algo-1/model/report.json ]] || fail "$name: the training command ran"
  grep -q '"decision":"Deny"' "$outside/work/$name/audit.jsonl" || fail "$name: no Deny in the audit log"
  grep -q "$AWS_SECRET_ACCESS_KEY" "$tmp/train.err" "$outside/work/$name/status.json" && fail "$name: a secret leaked"
  echo "$why"
}
note "2a. tenant A pointed at tenant B's prefix (File, FastFile, Pipe)"
for mode in File FastFile Pipe; do
  why=$(denied "cross-prefix-${mode,,}-$$" "[$(s3_channel x S3Prefix "s3://$bucket/in/tenant-b/data/" "$mode")]" \
    "s3://$bucket/out/tenant-a/" s3:ListBucket "arn:aws:s3:::$bucket" --session-tag tenant-id=tenant-a)
  [[ $why == *"tenant-id=tenant-a"* ]] || fail "the FailureReason does not name the session tags: $why"
done
note "2b. a manifest in A whose entries point into B"
denied "cross-manifest-$$" "[$(s3_channel x ManifestFile "s3://$bucket/in/tenant-a/cross.manifest" File)]" \
  "s3://$bucket/out/tenant-a/" s3:GetObject "in/tenant-b/data/part-1.bin" --session-tag tenant-id=tenant-a >/dev/null
note "2c. an augmented manifest in A whose -ref objects are in B (Pipe)"
denied "cross-aug-$$" "[$(s3_channel x AugmentedManifestFile "s3://$bucket/in/tenant-a/cross.aug" Pipe ', "AttributeNames": ["source-ref"]')]" \
  "s3://$bucket/out/tenant-a/" s3:GetObject "in/tenant-b/data/part-2.bin" --session-tag tenant-id=tenant-a >/dev/null
note "2d. an output path in B"
denied "cross-output-$$" "[$(s3_channel x S3Prefix "s3://$bucket/in/tenant-a/data/" File)]" \
  "s3://$bucket/out/tenant-b/" s3:PutObject "out/tenant-b/" --session-tag tenant-id=tenant-a >/dev/null
note "2e. a file-system channel of B: directly, through ../ (refused by the spec check), through a symbolic link"
denied "cross-fs-$$" "[$(fs_channel fsx /tenant-b)]" "s3://$bucket/out/tenant-a/" elasticfilesystem:ClientMount \
  "file-system/$fsid/tenant-b/" --session-tag tenant-id=tenant-a >/dev/null
make_job "cross-fs-dots-$$" "$tmp/dots.json" "[$(fs_channel fsx /tenant-a/../tenant-b)]" "s3://$bucket/out/tenant-a/" \
  "s3://$bucket/ckpt/tenant-a/x/" -
HOME="$outside/home" train rc "$tmp/dots.json" --work-dir "$outside/work" "${mt[@]}" --session-tag tenant-id=tenant-a
[[ $rc == 2 ]] && grep -q "DirectoryPath: must not contain '..'" "$tmp/train.err" || { show_train_log; fail "a ../ DirectoryPath: exit $rc"; }
ln -s "$outside/fsx/tenant-b" "$outside/fsx/tenant-a/link-to-b"
denied "cross-fs-link-$$" "[$(fs_channel fsx /tenant-a/link-to-b)]" "s3://$bucket/out/tenant-a/" elasticfilesystem:ClientMount \
  "file-system/$fsid/tenant-b/" --session-tag tenant-id=tenant-a >/dev/null
rm "$outside/fsx/tenant-a/link-to-b"
note "2f. a job without the tenant tag can read nothing, not even tenant A's data"
denied "no-tag-$$" "[$(s3_channel x S3Prefix "s3://$bucket/in/tenant-a/data/" File)]" \
  "s3://$bucket/out/tenant-a/" s3:ListBucket "arn:aws:s3:::$bucket" >/dev/null
# Nothing of B was written: its output and checkpoint prefixes are empty.
[[ -z $("$sluice" ls -r "s3://$bucket/out/tenant-b/" 2>/dev/null) ]] || fail "something was written under out/tenant-b/"
for d in "$outside"/work/cross-*; do
  [[ ! -e $d/algo-1/input/data/x ]] || [[ -z $(ls -A "$d/algo-1/input/data/x") ]] || fail "$d: tenant B's data was downloaded"
done

# --- 3. denied while running --------------------------------------------------------------------
note "3. a checkpoint prefix that may be listed but not written: stopped while running"
jr=ckpt-denied-$$
make_job "$jr" "$tmp/jr.json" "[$(s3_channel file S3Prefix "s3://$bucket/in/tenant-a/data/" File)]" \
  "s3://$bucket/out/tenant-a/" "s3://$bucket/ckpt/shared/" -
HOME="$outside/home" train rc "$tmp/jr.json" --work-dir "$outside/work" "${mt[@]}" --session-tag tenant-id=tenant-a
expect_rc "$rc" 1 "a job denied its checkpoint upload"
why=$(reason_of "$jr")
[[ $why == *AccessDenied*s3:PutObject*ckpt/shared/step-1.ckpt*tenant-id=tenant-a* ]] || fail "FailureReason: $why"
[[ -z $("$sluice" ls -r "s3://$bucket/ckpt/shared/" 2>/dev/null) ]] || fail "a checkpoint was written under ckpt/shared/"

# --- 4. trust and tags --------------------------------------------------------------------------
note "4. trust policy without sts:TagSession; tags without --iam-config; invalid tags"
jt=no-tag-session-$$
make_job "$jt" "$tmp/jt.json" "[$(s3_channel file S3Prefix "s3://$bucket/in/tenant-a/data/" File)]" "s3://$bucket/out/tenant-a/" \
  "s3://$bucket/ckpt/tenant-a/x/" -
sed -i 's|role/TenantJobs|role/NoTagSession|' "$tmp/jt.json"
HOME="$outside/home" train rc "$tmp/jt.json" --work-dir "$outside/work" "${mt[@]}" --session-tag tenant-id=tenant-a
expect_rc "$rc" 1 "a role whose trust policy lacks sts:TagSession"
why=$(reason_of "$jt")
[[ $why == *sts:TagSession* && $why == *NoTagSession* ]] || fail "trust failure not explained: $why"
HOME="$outside/home" train rc "$tmp/jt.json" --work-dir "$outside/work" --session-tag tenant-id=tenant-a
[[ $rc == 2 ]] && grep -q -- '--iam-config' "$tmp/train.err" || { show_train_log; fail "tags without --iam-config: exit $rc"; }
for bad in 'aws:x=1' 'k=v*' '=v' 'Team=1 team=2'; do
  # shellcheck disable=SC2086
  args=(); for t in $bad; do args+=(--session-tag "$t"); done
    HOME="$outside/home" train rc "$tmp/ja.json" --work-dir "$outside/work2" "${mt[@]}" "${args[@]}"
  [[ $rc == 2 ]] && grep -q -- '--session-tag' "$tmp/train.err" || { show_train_log; fail "invalid tags '$bad': exit $rc"; }
done
[[ ! -e $outside/work2 ]] || fail "an invalid tag still created the job directory"

# --- 5. store-side enforcement -------------------------------------------------------------------
note "5. StoreRoleArn: the store's STS scopes the job's credentials; training code gets them, and the store refuses tenant B"
store_role=sluice-e2e-jobs-$$-$RANDOM
rgw_admin() { timeout 60 radosgw-admin -c "$SLUICE_LOCAL_S3_DIR/ceph.conf" "$@"; }
rgw_admin role create --role-name="$store_role" --assume-role-policy-doc="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam:::user/sluice\"]},\"Action\":[\"sts:AssumeRole\"]}]}" >/dev/null
trap 'rc=$?; rgw_admin role-policy delete --role-name="$store_role" --policy-name=all >/dev/null 2>&1; rgw_admin role delete --role-name="$store_role" >/dev/null 2>&1; remove_outside $rc; (exit $rc); e2e_cleanup' EXIT
rgw_admin role-policy put --role-name="$store_role" --policy-name=all \
  --policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}' >/dev/null
python3 - "$outside/iam.json" "$outside/iam-store.json" "arn:aws:iam:::role/$store_role" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["Roles"][0]["StoreRoleArn"] = sys.argv[3]
json.dump(cfg, open(sys.argv[2], "w"))
PY
jst=store-side-$$
make_job "$jst" "$tmp/jst.json" "[$(s3_channel file S3Prefix "s3://$bucket/in/tenant-a/data/" File)]" \
  "s3://$bucket/out/tenant-a/" "s3://$bucket/ckpt/tenant-a/store/" -
python3 - "$tmp/jst.json" "$bucket" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
job["Environment"] = {"PROBE_S3": f"{sys.argv[2]}/in/tenant-a/data/part-1.bin {sys.argv[2]}/in/tenant-b/data/part-1.bin"}
json.dump(job, open(sys.argv[1], "w"))
PY
HOME="$outside/home" SLUICE_LOG=info train rc "$tmp/jst.json" --work-dir "$outside/work" --iam-config "$outside/iam-store.json" \
  --file-systems "$outside/file-systems.json" --session-tag tenant-id=tenant-a
expect_rc "$rc" 0 "a job with store-side enforcement"
grep -q "store-side enforcement: the job's data access uses temporary credentials of arn:aws:iam:::role/$store_role" "$tmp/train.err" ||
  { show_train_log; fail "the job did not use the store's scoped credentials"; }
report=$outside/work/$jst/algo-1/model/report.json
[[ $(json_get "$report" 'd["s3"]["ok"]') == 200 ]] || fail "the scoped credentials cannot read tenant A's data: $(cat "$report")"
[[ $(json_get "$report" 'd["s3"]["denied"]') == 403 ]] || fail "the store let the scoped credentials read tenant B: $(cat "$report")"
key_id=$(json_get "$report" 'd["access_key_id"]')
[[ -n $key_id && $key_id != "$AWS_ACCESS_KEY_ID" ]] || fail "the training code got Sluice's own access key, not scoped credentials"
grep -q "$AWS_SECRET_ACCESS_KEY" "$tmp/train.err" "$outside/work/$jst/status.json" "$outside/work/$jst/audit.jsonl" && fail "a secret leaked"
note "5b. EnableNetworkIsolation: no credentials for the training code"
python3 - "$tmp/jst.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
job["TrainingJobName"] += "-isolated"
job["EnableNetworkIsolation"] = True
json.dump(job, open(sys.argv[1], "w"))
PY
HOME="$outside/home" train rc "$tmp/jst.json" --work-dir "$outside/work" --iam-config "$outside/iam-store.json" \
  --file-systems "$outside/file-systems.json" --session-tag tenant-id=tenant-a
expect_rc "$rc" 0 "an isolated job with store-side enforcement"
[[ -z $(json_get "$outside/work/$jst-isolated/algo-1/model/report.json" 'd["access_key_id"]') ]] ||
  fail "a job with EnableNetworkIsolation got credentials"
echo "PASS"
