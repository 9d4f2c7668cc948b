#!/usr/bin/env bash
# `sluice presign` against the real store: the URL fetches the object's bytes with no credentials,
# a tampered URL is refused, and bad arguments are refused with exit 2.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck disable=SC1090
source "${SLUICE_LOCAL_S3_ENV:?}"
sluice=${SLUICE_BINARY:?}
tmp=$(mktemp -d)
bucket=presign-$$-$RANDOM
cleanup() {
  "$sluice" rb --force "s3://$bucket" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

head -c 100000 /dev/urandom > "$tmp/src"
"$sluice" mb "s3://$bucket" >/dev/null
"$sluice" cp -q "$tmp/src" "s3://$bucket/dir/obj one"
url=$("$sluice" presign "s3://$bucket/dir/obj one" --expires-in 120)
[[ $url == *X-Amz-Signature=* && $url == *X-Amz-Expires=120* ]] || fail "not a presigned URL: $url"
[[ $url != *"$AWS_SECRET_ACCESS_KEY"* ]] || fail "the URL contains the secret"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY curl -sSf -o "$tmp/got" "$url" || fail "GET of the presigned URL failed"
cmp "$tmp/src" "$tmp/got" || fail "presigned GET returned other bytes"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url/X-Amz-Expires=120/X-Amz-Expires=121}")
[[ $code == 403 ]] || fail "a tampered URL got HTTP $code, expected 403"
set +e
"$sluice" presign "s3://$bucket/dir/obj one" --expires-in 0 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 2 ]] || fail "--expires-in 0 exited $rc, expected 2"
grep -q 'expires-in' "$tmp/err" || fail "no clear message: $(cat "$tmp/err")"
echo "presign: ok"
