#!/usr/bin/env bash
# Smoke test of the local store (scripts/local-s3): PUT, GET, ranged GET, LIST and DELETE round trip
# with curl's own SigV4, asserting the bytes. Needs SLUICE_LOCAL_S3_ENV (set by ctest's local_s3
# fixture) or a running store: SLUICE_LOCAL_S3_ENV=DIR/env tests/integration/local_s3_smoke.sh
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }

env_file=${SLUICE_LOCAL_S3_ENV:-}
[[ -n $env_file && -r $env_file ]] || fail "SLUICE_LOCAL_S3_ENV does not name a readable env file ('$env_file')"
# shellcheck disable=SC1090
source "$env_file"
: "${AWS_ENDPOINT_URL:?} ${AWS_ACCESS_KEY_ID:?} ${AWS_SECRET_ACCESS_KEY:?} ${AWS_REGION:?}"
ep=$AWS_ENDPOINT_URL

# curl 7.88 signs the query string as written: keep query parameters in sorted order.
s3() {
  curl -sS --max-time 60 --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
expect() {  # $1 expected HTTP status, $2 what, rest: s3 arguments (response body goes to $body)
  local want=$1 what=$2 code
  shift 2
  code=$(s3 -o "$body" -w '%{http_code}' "$@") || fail "$what: curl failed"
  [[ $code == "$want" ]] || fail "$what: HTTP $code, expected $want: $(head -c 500 "$body")"
}

tmp=$(mktemp -d)
body=$tmp/body
bucket=sluice-smoke-$(date +%s)-$$-$RANDOM
cleanup() {
  s3 -o /dev/null -X DELETE "$ep/$bucket/smoke/blob.bin" 2>/dev/null || true
  s3 -o /dev/null -X DELETE "$ep/$bucket/smoke/dir/small%20file.txt" 2>/dev/null || true
  s3 -o /dev/null -X DELETE "$ep/$bucket" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$tmp/blob.bin"
printf 'hello from sluice\n' >"$tmp/small.txt"

expect 200 "create bucket" -X PUT "$ep/$bucket"
expect 200 "PUT blob" -X PUT --data-binary "@$tmp/blob.bin" -H 'Content-Type: application/octet-stream' \
  "$ep/$bucket/smoke/blob.bin"
expect 200 "PUT small" -X PUT --data-binary "@$tmp/small.txt" -H 'x-amz-meta-origin: smoke' \
  "$ep/$bucket/smoke/dir/small%20file.txt"

expect 200 "GET blob" "$ep/$bucket/smoke/blob.bin"
cmp -s "$body" "$tmp/blob.bin" || fail "GET blob: bytes differ"
expect 200 "GET small" "$ep/$bucket/smoke/dir/small%20file.txt"
cmp -s "$body" "$tmp/small.txt" || fail "GET small: bytes differ"

expect 206 "ranged GET" -H 'Range: bytes=1048570-1048589' "$ep/$bucket/smoke/blob.bin"
cmp -s "$body" <(tail -c +1048571 "$tmp/blob.bin" | head -c 20) || fail "ranged GET: bytes differ"

expect 200 "LIST" "$ep/$bucket?list-type=2&prefix=smoke%2F"
for want in "<Key>smoke/blob.bin</Key>" "<Size>$((3 * 1024 * 1024 + 12345))</Size>" \
            "<Key>smoke/dir/small file.txt</Key>" "<KeyCount>2</KeyCount>"; do
  grep -qF "$want" "$body" || fail "LIST: no $want in $(cat "$body")"
done
expect 200 "LIST with delimiter" "$ep/$bucket?delimiter=%2F&list-type=2&prefix=smoke%2F"
grep -qF "<Prefix>smoke/dir/</Prefix>" "$body" || fail "LIST with delimiter: no common prefix in $(cat "$body")"

# The AWS CLI too, where it is installed (CI may not have it).
if command -v aws >/dev/null 2>&1; then
  aws s3api get-object --bucket "$bucket" --key smoke/blob.bin "$tmp/aws.bin" >/dev/null ||
    fail "aws s3api get-object failed"
  cmp -s "$tmp/aws.bin" "$tmp/blob.bin" || fail "aws s3api get-object: bytes differ"
fi

expect 204 "DELETE blob" -X DELETE "$ep/$bucket/smoke/blob.bin"
expect 204 "DELETE small" -X DELETE "$ep/$bucket/smoke/dir/small%20file.txt"
expect 404 "GET deleted" "$ep/$bucket/smoke/blob.bin"
expect 204 "DELETE bucket" -X DELETE "$ep/$bucket"
echo "local-s3 smoke test passed against $ep"
