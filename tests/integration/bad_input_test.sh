#!/usr/bin/env bash
# The bad-input matrix (issue 7 item 4), end to end through the real `sluice` command, where a user
# meets each input:
#  A. job spec files given to `sluice train` (missing, a directory, empty, not JSON, NUL bytes,
#     invalid UTF-8, 100 000 levels of nesting, 20 MB, wrong shapes, names that would leave the
#     job directory);
#  B. `--file-systems` map files (missing, not JSON, wrong shapes, relative mount roots);
#  C. `sluice policy simulate --input` files (missing, empty, NUL, invalid UTF-8, deep nesting,
#     bad policies);
#  D. ManifestFile objects in the store (not JSON, wrong shape, no prefix, entries with `..`,
#     absolute, NUL, 2000-byte, invalid UTF-8, `a` and `a/b`, duplicates, missing objects), File
#     and Pipe modes;
#  E. AugmentedManifestFile objects (Pipe): bad lines, missing attributes, bad `-ref`s;
#  F. S3Prefix listings whose keys cannot be paths (`..`, `.`, `//`, 300-byte names, `a` vs
#     `a/b`, a NUL, invalid UTF-8) in File, FastFile and Pipe modes.
# Every case asserts: the documented exit code (docs/cli.md, docs/train.md, docs/policy.md), that
# stderr (or status.json's FailureReason) names the input and the problem, that the command ends
# within its timeout (no hang; a signal would show as exit >= 124 and fail the case), and that
# nothing was written outside the job's work directory: the scratch directory around it (which is
# also the command's working directory) is compared before and after, and no file named after an
# escaping key appears in /tmp.
# Cases that the store itself refuses (RGW rejects some keys) are printed as "store refused".
#  G. `--iam-config` files given to `sluice train` (missing, empty, not JSON, unknown members, bad
#     ARNs and policies, invalid UTF-8, deep nesting), when this build has the flag.
set -euo pipefail
export LC_ALL=C

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $* ($((SECONDS - started)) s)" >&2; }

# shellcheck disable=SC1090
source "${SLUICE_LOCAL_S3_ENV:?run through ctest (the local_s3 fixture sets SLUICE_LOCAL_S3_ENV)}"
sluice=${SLUICE_BINARY:?}
[[ -x $sluice ]] || fail "no sluice binary at $sluice"

tmp=$(mktemp -d /tmp/sluice-badin.XXXXXX)
scratch=$tmp/scratch        # the commands run here; only $scratch/work may change
work=$scratch/work
mkdir -p "$work" "$scratch/files"
bucket=badin-$$-$RANDOM
escape_tag=sluice-badin-escape-$$   # the last segment of every escaping key
started=$SECONDS
ncases=0
table=$tmp/table.md

cleanup() {
  local rc=$?
  # FastFile mounts of a failed run: unmount anything still mounted under $tmp.
  awk -v p="$tmp/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo 2>/dev/null | sort -r -u |
    while read -r m; do fusermount3 -uz "$m" 2>/dev/null || true; done
  "$sluice" rb --force "s3://$bucket" >/dev/null 2>&1 || true
  rm -f /tmp/$escape_tag* 2>/dev/null || true
  if [[ $rc != 0 && -n ${SLUICE_TEST_KEEP:-} ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"$sluice" mb "s3://$bucket" >/dev/null || fail "cannot make bucket $bucket"

# ---- helpers -------------------------------------------------------------------------------------

# A listing of everything under $scratch except the work directory, with sizes and mtimes.
snapshot() {
  (cd "$scratch" && find . -path ./work -prune -o -printf '%p %s %T@\n' | sort)
}

# run_case NAME WANT_RC TIMEOUT_S NEEDLES CMD...: runs CMD in $scratch under `timeout`, then checks
# the exit code, that stderr (plus the FailureReason of any status.json under $work) contains every
# fixed string of NEEDLES (separated by '|'), that it did not report an internal error, and that
# nothing outside $work changed. A failed check is printed and counted (the script goes on, so one
# run shows every failing case) and fails the test at the end.
failures=0
run_case() {
  local name=$1 want=$2 limit=$3 needles=$4 rc=0 t0 ms before after n text problems=() said
  shift 4
  ncases=$((ncases + 1))
  before=$(snapshot)
  t0=$(date +%s%N)
  (cd "$scratch" && timeout -k 5 "$limit" "$@") >"$tmp/out" 2>"$tmp/err" || rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  after=$(snapshot)
  text=$(cat "$tmp/err")
  if [[ -d $work ]]; then
    while IFS= read -r -d '' st; do
      text+=$'\n'"FailureReason: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("FailureReason", ""))' "$st")"
    done < <(find "$work" -name status.json -print0)
  fi
  ((rc != 124 && rc != 137)) || problems+=("still running after ${limit} s (hung)")
  [[ $rc == "$want" ]] || problems+=("exit $rc, expected $want")
  [[ $text != *"internal error"* ]] || problems+=("an internal error")
  IFS='|' read -r -a n <<<"$needles"
  for needle in "${n[@]}"; do
    [[ -z $needle || $text == *"$needle"* ]] || problems+=("the message does not say '$needle'")
  done
  [[ $before == "$after" ]] ||
    problems+=("files outside the work directory changed: $(diff <(echo "$before") <(echo "$after") || true)")
  [[ -z $(find /tmp -maxdepth 3 -name "$escape_tag*" -print -quit 2>/dev/null) ]] ||
    problems+=("a file named after an escaping key appeared: $(find /tmp -maxdepth 3 -name "$escape_tag*")")
  # The first line that says what is wrong, for the table.
  said=$(grep -m1 -A1 -E 'error|warn|refus|invalid' "$tmp/err" || head -n2 "$tmp/err" || true)
  [[ -n $said ]] || said=$(grep -m1 FailureReason <<<"$text" || true)
  printf '| %s | %s | %s ms | %s |\n' "$name" "$rc" "$ms" "$(printf '%s' "${said:0:220}" | tr '|\n' '/ ')" >>"$table"
  if ((${#problems[@]})); then
    failures=$((failures + 1))
    printf 'FAIL: %s: %s\n    output: %s\n' "$name" "$(IFS=';'; echo "${problems[*]}")" "${text:0:1500}" >&2
  else
    echo "ok: $name (exit $rc, $ms ms)"
  fi
  rm -rf "${work:?}"/* /tmp/"$escape_tag"*
}

# A job spec: make_job FILE NAME MODE CHANNELS-JSON [COMMAND-JSON]
make_job() {
  local cmd=${5:-'["true"]'}
  cat >"$1" <<EOF
{
  "TrainingJobName": "$2",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceBadInput",
  "AlgorithmSpecification": {"TrainingInputMode": "$3", "ContainerEntrypoint": $cmd},
  "InputDataConfig": $4,
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 60}
}
EOF
}
channel() {  # channel TYPE URI: one channel named train
  printf '[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "%s", "S3Uri": "%s"}}}]' "$1" "$2"
}
# A training command that reads the Pipe channel's first epoch (--isolation none: the variable holds
# the host path).
# shellcheck disable=SC2016  # expanded by the job's shell
pipe_reader='["sh", "-c", "cat ${SM_CHANNEL_TRAIN}_0 >/dev/null"]'
train() { run_case "$1" "$2" 90 "$3" "$sluice" train "${@:4}" --work-dir "$work" --isolation none; }

# Uploads bytes to a key given percent-encoded (so that a key may hold any byte), with SigV4 from
# curl. Prints nothing; returns curl's HTTP status check.
put_raw() {  # put_raw KEY_PCT FILE -> 0 when stored
  local code
  code=$(curl -s -o "$tmp/put.out" -w '%{http_code}' --path-as-is --aws-sigv4 "aws:amz:${AWS_REGION}:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    -T "$2" "$AWS_ENDPOINT_URL/$bucket/$1") || true
  [[ $code == 200 ]]
}
put() { "$sluice" cp -q "$2" "s3://$bucket/$1" >/dev/null; }  # put KEY FILE

echo hello >"$scratch/files/small"
jd=$tmp/jobs      # job specs
mf=$tmp/manifests # manifest texts before upload
mkdir -p "$jd" "$mf"
# Objects the manifests below name.
put data/a "$scratch/files/small"
put data/b "$scratch/files/small"
put data/a/b "$scratch/files/small"   # 'a' and 'a/b' both exist
# SLUICE_BADIN_SECTIONS=DF runs only sections D and F (while working on them).
section() { [[ ${SLUICE_BADIN_SECTIONS:-ABCDEFG} == *$1* ]]; }

# ==== A. job spec files ===========================================================================
if section A; then
note "A. job spec files"
mkdir -p "$jd/a-directory.json"
make_job "$jd/good.json" good-job File "$(channel S3Prefix "s3://$bucket/data/b")"
: >"$jd/empty.json"
printf '{"TrainingJobName": "x",' >"$jd/truncated.json"
printf '{"TrainingJobName": "x\000y"}' >"$jd/nul.json"
printf '{"TrainingJobName": "caf\xe9"}' >"$jd/latin1.json"
python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000)' >"$jd/deep-array.json"
python3 -c 'import sys; sys.stdout.write("{\"a\":" * 100000 + "1" + "}" * 100000)' >"$jd/deep-object.json"
python3 - "$jd/good.json" "$jd/huge.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["HyperParameters"] = {"blob": "x" * (20 << 20)}
json.dump(d, open(sys.argv[2], "w"))
PY
printf '[1, 2]' >"$jd/array.json"
edit_job() {  # edit_job OUT PYTHON-STATEMENTS (d is the good job)
  python3 - "$jd/good.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}
edit_job "$jd/name-escape.json" 'd["TrainingJobName"] = "../../'"$escape_tag"'"'
edit_job "$jd/channel-dotdot.json" 'd["InputDataConfig"][0]["ChannelName"] = "../'"$escape_tag"'"'
edit_job "$jd/channel-is-dotdot.json" 'd["InputDataConfig"][0]["ChannelName"] = ".."'   # the API's pattern allows it
edit_job "$jd/channel-is-dot.json" 'd["InputDataConfig"][0]["ChannelName"] = "."'
edit_job "$jd/checkpoint-relative.json" 'd["CheckpointConfig"] = {"S3Uri": "s3://'"$bucket"'/ck/", "LocalPath": "../../'"$escape_tag"'"}'
edit_job "$jd/fs-dotdot.json" 'd["InputDataConfig"] = [{"ChannelName": "ref", "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-0123456789abcdef0", "FileSystemType": "EFS", "FileSystemAccessMode": "ro", "DirectoryPath": "/srv/../etc"}}}]'
edit_job "$jd/wrong-types.json" 'd["ResourceConfig"]["InstanceCount"] = "two"; d["StoppingCondition"]["MaxRuntimeInSeconds"] = -1'
edit_job "$jd/s3uri-bad.json" 'd["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://'"$bucket"'/x\u0000y"'
edit_job "$jd/augmented-file-mode.json" 'd["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = "AugmentedManifestFile"; d["InputDataConfig"][0]["DataSource"]["S3DataSource"]["AttributeNames"] = ["source-ref"]'

# name | exit | what stderr must say ('|' within a cell is ';') | job file
while IFS=';' read -r name want needles file; do
  [[ -z $name || $name == \#* ]] && continue
  train "spec: $name" "$want" "${needles//,/|}" "$jd/$file"
done <<EOF
missing file;3;no-such.json;no-such.json
a directory;9;a-directory.json,directory;a-directory.json
empty file;2;empty.json;empty.json
truncated JSON;2;truncated.json,line 1;truncated.json
NUL byte in a string;2;nul.json,line 1,NUL;nul.json
invalid UTF-8 (latin-1 byte);2;latin1.json,UTF-8;latin1.json
100000 nested arrays;2;deep-array.json;deep-array.json
100000 nested objects;2;deep-object.json;deep-object.json
top level is an array;2;array.json,object;array.json
20 MB hyperparameter;2;huge.json,HyperParameters;huge.json
TrainingJobName ../../x;2;TrainingJobName;name-escape.json
ChannelName ../x;2;ChannelName;channel-dotdot.json
ChannelName ..;2;ChannelName,'..';channel-is-dotdot.json
ChannelName .;2;ChannelName,'.';channel-is-dot.json
CheckpointConfig.LocalPath relative;2;CheckpointConfig.LocalPath;checkpoint-relative.json
DirectoryPath with ..;2;DirectoryPath;fs-dotdot.json
wrong types;2;InstanceCount,MaxRuntimeInSeconds;wrong-types.json
NUL in S3Uri;2;S3Uri;s3uri-bad.json
AugmentedManifestFile in File mode;2;AugmentedManifestFile,Pipe;augmented-file-mode.json
EOF

fi

# ==== B. --file-systems map files ================================================================
if section B; then
note "B. --file-systems files"
edit_job "$jd/fs-job.json" 'd["InputDataConfig"] = [{"ChannelName": "ref", "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-0123456789abcdef0", "FileSystemType": "EFS", "FileSystemAccessMode": "ro", "DirectoryPath": "/ref"}}}]'
fsd=$tmp/fs
mkdir -p "$fsd/a-directory"
printf '{"fs-0123456789abcdef0": ' >"$fsd/truncated"
printf '["/mnt"]' >"$fsd/array"
printf '{"fs-0123456789abcdef0": 7}' >"$fsd/number"
printf '{"fs-0123456789abcdef0": "mnt/fsx"}' >"$fsd/relative"
printf '{"fs-0123456789abcdef0": "/mnt/\xff"}' >"$fsd/latin1"
: >"$fsd/empty"
while IFS=';' read -r name want needles file; do
  [[ -z $name || $name == \#* ]] && continue
  train "file-systems: $name" "$want" "${needles//,/|}" "$jd/fs-job.json" --file-systems "$fsd/$file"
done <<EOF
missing file;3;no-such-map;no-such-map
a directory;9;a-directory,directory;a-directory
empty;2;empty,malformed JSON;empty
truncated JSON;2;truncated,malformed JSON;truncated
top level array;2;array;array
value a number;2;number,must be a string;number
relative mount root;2;relative,absolute;relative
invalid UTF-8;2;latin1;latin1
EOF

fi

# ==== C. sluice policy simulate --input ===========================================================
if section C; then
note "C. policy simulate"
pd=$tmp/policies
mkdir -p "$pd/a-directory"
req='"request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}'
: >"$pd/empty"
printf '{"policies": {"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]}, %s' "$req" >"$pd/truncated"
printf '{"policies": {"identity": [{"Statement": [{"Sid": "a\000b", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]}, %s}' "$req" >"$pd/nul"
printf '{"policies": {"identity": [{"Statement": [{"Sid": "caf\xe9", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]}, %s}' "$req" >"$pd/latin1"
printf '{"policies": {"identity": [{"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}]}, %s}' "$req" >"$pd/bad-effect"
printf '{"policies": {"identity": [{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringFuzzy": {"a": "b"}}}]}]}, %s}' "$req" >"$pd/bad-operator"
printf '{"policies": {"identity": ["{\\"Statement\\": ["]}, %s}' "$req" >"$pd/string-doc-truncated"
python3 -c 'import sys; sys.stdout.write("{\"policies\": {\"identity\": [" + "[" * 100000 + "]" * 100000 + "]}, \"request\": {}}")' >"$pd/deep"
printf '{"policies": {"identity": []}}' >"$pd/no-request"
while IFS=';' read -r name want needles file; do
  [[ -z $name || $name == \#* ]] && continue
  run_case "policy: $name" "$want" 30 "${needles//,/|}" "$sluice" policy simulate --input "$pd/$file"
done <<EOF
missing file;3;no-such-policy;no-such-policy
a directory;9;a-directory,directory;a-directory
empty;2;empty;empty
truncated JSON;2;truncated;truncated
NUL in a Sid;2;nul;nul
invalid UTF-8;2;latin1;latin1
Effect Maybe;2;bad-effect,Effect;bad-effect
unknown condition operator;2;bad-operator,StringFuzzy;bad-operator
policy string that is not JSON;2;identity[0];string-doc-truncated
100000 nested arrays;2;deep,nested more than 256 deep;deep
no request;2;request;no-request
EOF

fi

# ==== D. ManifestFile objects =====================================================================
if section D; then
note "D. ManifestFile"
P="s3://$bucket/data/"
long=$(printf 'k%.0s' $(seq 2000))
# name | mode | exit | needles (',' separated) | manifest text (printf %b; @P@ is the prefix)
while IFS=';' read -r name mode want needles body; do
  [[ -z $name || $name == \#* ]] && continue
  key=manifests/$(tr -c 'a-z0-9' - <<<"$name" | head -c 40).json
  body=${body//@P@/$P}
  body=${body//@LONG@/$long}
  printf '%b' "$body" >"$mf/m"
  put "$key" "$mf/m"
  make_job "$jd/m.json" "manifest-$((ncases))" "$mode" "$(channel ManifestFile "s3://$bucket/$key")" \
    '["sh", "-c", "for f in /dev/null; do :; done"]'
  train "ManifestFile ($mode): $name" "$want" "${needles//,/|}" "$jd/m.json"
done <<EOF
not JSON;File;1;manifests/,byte;hello
an object;File;1;must be a JSON array;{"prefix": "@P@"}
no prefix element;File;1;element 0,prefix;["a", "b"]
prefix https;File;1;https://,s3://;[{"prefix": "https://example.com/x/"}, "a"]
only the prefix;File;1;lists no objects;[{"prefix": "@P@"}]
entry with ..;File;1;..;[{"prefix": "@P@"}, "b", "../$escape_tag"]
entry absolute;File;1;absolute;[{"prefix": "@P@"}, "/$escape_tag"]
entry NUL escape;File;1;NUL;[{"prefix": "@P@"}, "a\\\\u0000b"]
entry of 2000 bytes;File;1;longer than 255 bytes;[{"prefix": "@P@"}, "@LONG@"]
invalid UTF-8;File;1;invalid UTF-8;[{"prefix": "@P@"}, "caf\\xe9"]
a and a/b;File;1;a/b;[{"prefix": "@P@"}, "a", "a/b"]
duplicate entry;File;1;listed twice;[{"prefix": "@P@"}, "b", "b"]
missing object;File;1;does not exist,data/nope;[{"prefix": "@P@"}, "b", "nope"]
trailing comma;File;1;trailing comma;[{"prefix": "@P@"}, "b",]
missing object;Pipe;1;does not exist,data/nope;[{"prefix": "@P@"}, "b", "nope"]
invalid UTF-8;Pipe;1;invalid UTF-8;[{"prefix": "@P@"}, "caf\\xe9"]
EOF
note "the manifest object itself is missing"
make_job "$jd/m.json" manifest-gone File "$(channel ManifestFile "s3://$bucket/manifests/gone.json")"
train "ManifestFile (File): the manifest does not exist" 1 "manifests/gone.json" "$jd/m.json"

fi

# ==== E. AugmentedManifestFile objects (Pipe only) ================================================
if section E; then
note "E. AugmentedManifestFile"
aug_job() {  # aug_job FILE NAME KEY
  cat >"$1" <<EOF
{
  "TrainingJobName": "$2",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceBadInput",
  "AlgorithmSpecification": {"TrainingInputMode": "Pipe", "ContainerEntrypoint": $pipe_reader},
  "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "AugmentedManifestFile",
     "S3Uri": "s3://$bucket/$3", "AttributeNames": ["source-ref", "label"]}}}],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 60}
}
EOF
}
R="s3://$bucket/data/b"
deep=$(python3 -c 'print("{\"x\": " + "[" * 1000 + "]" * 1000 + "}")')
while IFS=';' read -r name want needles body; do
  [[ -z $name || $name == \#* ]] && continue
  key=augmented/$(tr -c 'a-z0-9' - <<<"$name" | head -c 40).jsonl
  body=${body//@R@/$R}
  body=${body//@DEEP@/$deep}
  printf '%b' "$body" >"$mf/a"
  put "$key" "$mf/a"
  aug_job "$jd/a.json" "augmented-$ncases" "$key"
  train "AugmentedManifestFile (Pipe): $name" "$want" "${needles//,/|}" "$jd/a.json"
done <<EOF
empty object;1;augmented/,no JSON lines;
line 2 not JSON;1;augmented/,line 2;{"source-ref": "@R@", "label": 1}\\n{oops\\n
line is an array;1;line 1,JSON object;[1, 2]\\n
attribute missing;1;line 2,label;{"source-ref": "@R@", "label": 1}\\n{"source-ref": "@R@"}\\n
-ref not a URI;1;line 1,source-ref;{"source-ref": "https://example.com/x", "label": 1}\\n
-ref to a prefix;1;line 1,names no object;{"source-ref": "s3://$bucket/data/", "label": 1}\\n
-ref a number;1;line 1,source-ref,number;{"source-ref": 5, "label": 1}\\n
invalid UTF-8;1;line 1,UTF-8;{"source-ref": "@R@", "label": "caf\\xe9"}\\n
nesting 1000 deep;1;line 1,512;@DEEP@\\n
-ref object missing;1;data/nope;{"source-ref": "s3://$bucket/data/nope", "label": 1}\\n
EOF

fi

# ==== F. S3Prefix listings with keys that cannot be paths =========================================
if section F; then
note "F. S3Prefix listings"
# Each case: keys under its own prefix, next to a good key. Keys with a '%' are sent percent-encoded
# as written (curl), so that they may hold any byte; the others are uploaded with `sluice cp`.
# name | File exit, needles | FastFile exit, needles | Pipe exit, needles | keys (',' separated).
# File and FastFile check every key of the channel before anything is downloaded or mounted and
# fail the job (exit 1) naming the key; Pipe writes no paths, so such keys are streamed (exit 0,
# and the Pipe jobs read their FIFO to the end).
seg300=$(printf 's%.0s' $(seq 300))
while IFS=';' read -r name file_rc file_n ff_rc ff_n pipe_rc pipe_n keys; do
  [[ -z $name || $name == \#* ]] && continue
  pfx=ls/$(tr -c 'a-z0-9' - <<<"$name" | head -c 30)
  put "$pfx/good" "$scratch/files/small"
  refused=
  IFS=',' read -r -a ks <<<"${keys//@SEG300@/$seg300}"
  for k in "${ks[@]}"; do
    if [[ $k != *%* ]]; then  # as a user would: sluice cp keeps the key as given
      put "$pfx/$k" "$scratch/files/small" 2>"$tmp/put.out" || refused+="$k ($(head -c 200 "$tmp/put.out")) "
    elif ! put_raw "$pfx/$k" "$scratch/files/small"; then
      refused+="$k (HTTP $(head -c 200 "$tmp/put.out" | tr -d '\n')) "
    fi
  done
  if [[ -n $refused ]]; then
    echo "store refused: $name: $refused"
    printf '| S3Prefix: %s | - | - | the store (RGW) refused the key: %s |\n' "$name" "${refused:0:150}" >>"$table"
    continue
  fi
  for m in File FastFile Pipe; do
    case $m in
      File) want=$file_rc needles=$file_n ;;
      FastFile) want=$ff_rc needles=$ff_n ;;
      Pipe) want=$pipe_rc needles=$pipe_n ;;
    esac
    cmd='["true"]'
    [[ $m != Pipe ]] || cmd=$pipe_reader
    make_job "$jd/p.json" "prefix-$ncases" "$m" "$(channel S3Prefix "s3://$bucket/$pfx/")" "$cmd"
    train "S3Prefix ($m): $name" "$want" "${needles//,/|}" "$jd/p.json"
  done
done <<EOF
.. segment;1;../$escape_tag,'..' segment;1;'..' segment;0;;../$escape_tag
.. deep;1;'..' segment;1;'..' segment;0;;x/../../../../../../$escape_tag
. segment;1;./dot,'.' segment;1;'.' segment;0;;./dot
empty segment (//);1;a//b,empty path segment;1;empty path segment;0;;a//b
300-byte name;1;longer than 255 bytes;1;longer than 255 bytes;0;;@SEG300@
a and a/b;1;collide;1;collide;0;;a,a/b
NUL;1;NUL;1;NUL;0;;a%00b
invalid UTF-8;1;UTF-8;1;UTF-8;0;;caf%E9
EOF
fi

# ==== G. --iam-config files (sluice train) ========================================================
if section G && "$sluice" train --help 2>&1 | grep -q -- --iam-config; then
  note "G. --iam-config files"
  idir=$tmp/iam
  mkdir -p "$idir/a-directory"
  trust='{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}'
  : >"$idir/empty"
  printf '{"Roles": [' >"$idir/truncated"
  printf '{"Roles": [], "Extra": 1}' >"$idir/extra"
  printf '{"Roles": [{"Arn": "arn:aws:iam::12:role/X", "AssumeRolePolicyDocument": %s}]}' "$trust" >"$idir/bad-arn"
  printf '{"Roles": [{"Arn": "arn:aws:iam::123456789012:role/X", "AssumeRolePolicyDocument": %s, "Policies": [{"Statement": {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}}]}]}' "$trust" >"$idir/bad-policy"
  printf '{"Roles": [{"Arn": "arn:aws:iam::123456789012:role/caf\xe9", "AssumeRolePolicyDocument": %s}]}' "$trust" >"$idir/latin1"
  python3 -c 'import sys; sys.stdout.write("{\"Roles\": " + "[" * 100000 + "]" * 100000 + "}")' >"$idir/deep"
  while IFS=';' read -r name want needles file; do
    [[ -z $name || $name == \#* ]] && continue
    train "iam-config: $name" "$want" "${needles//,/|}" "$jd/good.json" --iam-config "$idir/$file"
  done <<EOF
missing file;3;no-such-config;no-such-config
a directory;9;a-directory,directory;a-directory
empty;2;empty,malformed JSON;empty
truncated JSON;2;truncated,byte 11;truncated
unknown member;2;extra,Extra;extra
bad role ARN;2;bad-arn,Roles[0].Arn,12 digits;bad-arn
bad permission policy;2;bad-policy,Roles[0].Policies[0],Effect;bad-policy
invalid UTF-8;2;latin1;latin1
100000 nested arrays;2;deep,nested more than 256 deep;deep
EOF
fi

elapsed=$((SECONDS - started))
echo
echo "| input: case | exit | time | what the user sees (first line) |"
echo "|---|---|---|---|"
cat "$table"
((failures == 0)) || fail "$failures of $ncases cases failed (above)"
echo "bad_input_test: $ncases cases passed in $elapsed s"
