#!/usr/bin/env bash
# `sluice policy simulate`: the decision on the first line (Allow, ExplicitDeny, ImplicitDeny),
# --explain names the deciding statements, stdin input, exit 0 for any decision and 2 with a
# clear message for invalid input (malformed JSON with its position, a bad policy with its path).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
sluice=${SLUICE_BINARY:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tenant='{"Version": "2012-10-17", "Statement": [
  {"Sid": "TenantRead", "Effect": "Allow", "Action": ["s3:GetObject"],
   "Resource": "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*"},
  {"Sid": "TenantList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::input-bucket",
   "Condition": {"StringLike": {"s3:prefix": ["${aws:PrincipalTag/tenant-id}/*"]}}},
  {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::input-bucket/*/secrets/*"}]}'

case_() {  # case_ NAME WANT REQUEST [SESSION]
  local name=$1 want=$2 request=$3 session=${4:-}
  printf '{"policies": {"identity": [%s]%s}, "request": %s}\n' "$tenant" \
    "${session:+, \"session\": [$session]}" "$request" > "$tmp/$name.json"
  local got
  got=$("$sluice" policy simulate --input "$tmp/$name.json" | head -n 1) || fail "$name: exit $?"
  [[ $got == "$want" ]] || fail "$name: got '$got', want '$want'"
}
case_ own-object Allow \
  '{"action": "s3:GetObject", "resource": "arn:aws:s3:::input-bucket/example-tenant/a.rec", "context": {"aws:PrincipalTag/tenant-id": "example-tenant"}}'
case_ other-tenant ImplicitDeny \
  '{"action": "s3:GetObject", "resource": "arn:aws:s3:::input-bucket/other-tenant/a.rec", "context": {"aws:PrincipalTag/tenant-id": "example-tenant"}}'
case_ no-tag ImplicitDeny \
  '{"action": "s3:GetObject", "resource": "arn:aws:s3:::input-bucket/example-tenant/a.rec"}'
case_ deny-wins ExplicitDeny \
  '{"action": "s3:GetObject", "resource": "arn:aws:s3:::input-bucket/example-tenant/secrets/k", "context": {"aws:PrincipalTag/tenant-id": "example-tenant"}}'
case_ list-own-prefix Allow \
  '{"action": "s3:ListBucket", "resource": "arn:aws:s3:::input-bucket", "context": {"aws:PrincipalTag/tenant-id": "example-tenant", "s3:prefix": "example-tenant/train/"}}'
case_ list-other-prefix ImplicitDeny \
  '{"action": "s3:ListBucket", "resource": "arn:aws:s3:::input-bucket", "context": {"aws:PrincipalTag/tenant-id": "example-tenant", "s3:prefix": "other/"}}'
# A session policy intersects: it allows only ListBucket, so GetObject is denied.
case_ session-intersects ImplicitDeny \
  '{"action": "s3:GetObject", "resource": "arn:aws:s3:::input-bucket/example-tenant/a.rec", "context": {"aws:PrincipalTag/tenant-id": "example-tenant"}}' \
  '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}}'

# --explain names the statement; stdin works.
out=$("$sluice" policy simulate --explain --input - < "$tmp/deny-wins.json")
[[ $(head -n 1 <<<"$out") == ExplicitDeny ]] || fail "stdin: $out"
grep -q 'Sid NoSecrets' <<<"$out" || fail "--explain does not name the deciding statement: $out"
out=$("$sluice" policy simulate --explain --input "$tmp/own-object.json")
grep -q 'Sid TenantRead' <<<"$out" || fail "--explain of an Allow: $out"

# Invalid input: exit 2 and a message naming the problem.
expect_invalid() {  # expect_invalid NAME TEXT PATTERN
  printf '%s' "$2" > "$tmp/$1.json"
  set +e
  "$sluice" policy simulate --input "$tmp/$1.json" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  set -e
  [[ $rc == 2 ]] || fail "$1: exit $rc, want 2"
  grep -qE "$3" "$tmp/err" || fail "$1: message does not match /$3/: $(cat "$tmp/err")"
  [[ ! -s $tmp/out ]] || fail "$1: printed a decision: $(cat "$tmp/out")"
}
expect_invalid malformed '{"policies": {"identity": []}, "request": {' 'malformed JSON at byte'
expect_invalid bad-effect '{"policies": {"identity": [{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}]}, "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}}' 'policies.identity\[0\].*Effect'
expect_invalid policy-text '{"policies": {"identity": ["{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\",}]}"]}, "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}}' 'policies.identity\[0\].*malformed JSON'
expect_invalid no-action '{"policies": {"identity": []}, "request": {"resource": "arn:aws:s3:::b/k"}}' 'request.action'
expect_invalid bad-context '{"policies": {"identity": []}, "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "context": {"k": {"x": 1}}}}' 'request.context.k'
[[ $("$sluice" policy simulate 2>&1; echo "rc=$?") == *"rc=2"* ]] || fail "no --input: not exit 2"
echo "policy simulate: ok"
