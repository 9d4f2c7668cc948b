#!/usr/bin/env bash
# `sluice cp` against the real store through a fault-injecting proxy (tests/tools/fault_proxy.py):
# every check is on the bytes that end up on disk or in the store, not only on exit codes.
#  1. download of a tree (small files, multi-MiB files fetched as 1 MiB ranged GETs) with 10 % of
#     the requests faulted (503, 500, resets before and in the middle of an answer, short bodies),
#     several seeds, with 10 attempts and with 2 (so that some runs fail): each run is byte-exact,
#     or fails with a clear error, and then every file under a final name is the source's bytes
#     and no .sluice-partial- file remains; a direct rerun then completes the tree byte-exact;
#  2. upload of the same tree (two files go multipart) the same way: afterwards every object in
#     the store is the source file (downloaded directly and compared) or absent, and no multipart
#     upload is left in progress (listed with a direct request), also when the proxy lost the
#     answer to a CreateMultipartUpload the store had done (sluice finds that upload and aborts it);
#  3. faults by request number: 503 on the first 3 attempts of one GET is absorbed by the retries
#     (the log shows the same range asked 4 times); the answer to a CreateMultipartUpload or to a
#     CompleteMultipartUpload the store carried out is lost: the upload completes byte-exact and
#     none is left in progress; each kind of fault on every GET
#     (AWS_MAX_ATTEMPTS=3) fails with exit 5, an error naming the object and the attempts,
#     nothing under the final name and no partial file; a reset in the middle of a body resumes
#     after the bytes received (the next Range starts later);
#  4. an object overwritten between two ranged reads of its download (single-PUT and multipart
#     objects, `cp` and `cp -r`): exit 6 and an error naming the object and saying it changed, or
#     a file that is all old or all new bytes, never a mix;
#  5. an answer held past the client's timeout (`--cli-read-timeout 2`, the proxy holds it 6 s):
#     a ranged GET and a HEAD are abandoned and retried, and the download is byte-exact; with
#     AWS_MAX_ATTEMPTS=1 the error says it timed out and nothing is left under the final name.
# Development knobs: SLUICE_FAULTS_SEEDS="S:ATTEMPTS ..." (download and upload seeds),
# SLUICE_FAULTS_KINDS (the --faults list of parts 1 and 2), SLUICE_FAULTS_RATE (default 0.1),
# SLUICE_FAULTS_PARTS (default "1 2 3 4 5"), SLUICE_FAULTS_KEEP=DIR (the proxy logs and sluice's
# stderr of every run are copied there).
set -euo pipefail
export LC_ALL=C

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# shellcheck disable=SC1090
source "${SLUICE_LOCAL_S3_ENV:?run through ctest (the local_s3 fixture sets SLUICE_LOCAL_S3_ENV)}"
sluice=${SLUICE_BINARY:?}
srcdir=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
proxy_py=$srcdir/tests/tools/fault_proxy.py
[[ -x $sluice ]] || fail "SLUICE_BINARY=$sluice is not an executable"
[[ -f $proxy_py ]] || fail "no fault proxy at $proxy_py"
command -v python3 >/dev/null || fail "python3 is missing"
command -v curl >/dev/null || fail "curl is missing"
store=${AWS_ENDPOINT_URL:?the store env sets AWS_ENDPOINT_URL}

tmp=$(mktemp -d /tmp/sluice-cp-faults.XXXXXXXX)
bucket=cpfaults-$$-$RANDOM
PROXY_PID=
PROXY_URL=
started=$SECONDS
MiB=$((1 << 20))
t() { timeout -k 5 "$@"; }

# Direct requests to the store for what sluice cannot do (list and abort multipart uploads). The
# credentials go to curl through a config on stdin, never on a command line.
s3curl() {  # s3curl METHOD PATH?QUERY [curl args]: prints the body; fails on a non-2xx
  local method=$1 target=$2
  shift 2
  printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" |
    t 30 curl -sS -f -K - --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" -X "$method" \
      -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
      "$@" "$store/$target"
}
# In-progress multipart uploads under a prefix (no characters to escape but "/"): one
# "KEY UPLOADID" line each. (curl 7.88 signs the query as given: parameters in sorted order.)
list_uploads() {
  s3curl GET "$bucket?prefix=${1//\//%2F}&uploads=" | python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
for u in root.iter():
    if u.tag.endswith("}Upload") or u.tag == "Upload":
        f = {c.tag.split("}")[-1]: c.text for c in u}
        print(f["Key"], f["UploadId"])'
}

stop_proxy() {
  if [[ -n $PROXY_PID ]]; then
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
  fi
}
cleanup() {
  local rc=$? key id p
  trap - EXIT TERM INT
  stop_proxy
  if [[ -n ${watchdog_pid:-} ]]; then   # and its sleep
    p=$(pgrep -P "$watchdog_pid" || true)
    kill "$watchdog_pid" 2>/dev/null || true
    [[ -z $p ]] || kill "$p" 2>/dev/null || true
    wait "$watchdog_pid" 2>/dev/null || true
  fi
  while read -r key id; do
    [[ -z $key ]] || s3curl DELETE "$bucket/$key?uploadId=$id" >/dev/null 2>&1 || true
  done < <(list_uploads "" 2>/dev/null || true)
  t 120 "$sluice" rb --force "s3://$bucket" >/dev/null 2>&1 || true
  if [[ -n ${SLUICE_FAULTS_KEEP:-} ]]; then
    mkdir -p "$SLUICE_FAULTS_KEEP"
    cp "$tmp"/*.log "$tmp"/*.err "$SLUICE_FAULTS_KEEP"/ 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# The watchdog: a hang anywhere fails the test (each sluice run also has its own timeout).
(
  sleep "${WATCHDOG_S:-240}" >/dev/null 2>&1 &   # not holding the test's output open
  wait $!
  echo "FAIL: watchdog: the test ran longer than ${WATCHDOG_S:-240} s" >&2
  kill -TERM $$ 2>/dev/null || true
) &
watchdog_pid=$!

# start_proxy LOG ARGS...: a proxy to the store with ARGS; sets PROXY_URL and PROXY_PID.
start_proxy() {
  local log=$1 n=100
  shift
  rm -f "$tmp/proxy.port" "$log"
  python3 "$proxy_py" --upstream "$store" --port-file "$tmp/proxy.port" --log "$log" --max-lifetime 300 "$@" \
    2>>"$tmp/proxy.err" &
  PROXY_PID=$!
  while ((n-- > 0)) && [[ ! -s $tmp/proxy.port ]]; do
    kill -0 "$PROXY_PID" 2>/dev/null || fail "the fault proxy exited: $(cat "$tmp/proxy.err")"
    sleep 0.1
  done
  [[ -s $tmp/proxy.port ]] || fail "the fault proxy did not start in 10 s"
  PROXY_URL=http://127.0.0.1:$(cat "$tmp/proxy.port")
}
# via ARGS...: sluice through the proxy (global options first); stdout/stderr to $tmp/out, $tmp/err.
RC=0
via() {
  RC=0
  t 90 "$sluice" --endpoint-url "$PROXY_URL" "$@" >"$tmp/out" 2>"$tmp/err" || RC=$?
  ((RC != 124 && RC != 137)) || fail "sluice $* hung (killed after 90 s): $(cat "$tmp/err")"
  ((RC < 128 || RC == 130)) || fail "sluice $* died of a signal (exit $RC): $(cat "$tmp/err")"
  ((RC != 70)) || fail "sluice $* hit an internal error: $(cat "$tmp/err")"
}
# A clean failure: a documented exit code and an error line that names an object of the bucket.
clean_failure() {  # clean_failure WHAT
  [[ $RC == 1 || $RC == 5 || $RC == 6 ]] || fail "$1: exit $RC, expected 0, or 1, 5 or 6 for a failure: $(cat "$tmp/err")"
  grep -q "^sluice: error: .*s3://$bucket/" "$tmp/err" || fail "$1: exit $RC without an error naming the object: $(cat "$tmp/err")"
}
# Faults the proxy injected, by kind, from its log; totals kept in FAULTED[kind].
declare -A FAULTED=()
tally() {
  local kind
  for kind in $(sed -n 's/.* fault=\([^ ]*\) .*/\1/p' "$1" | grep -v '^ok$' || true); do
    FAULTED[$kind]=$((${FAULTED[$kind]:-0} + 1))
  done
}
faults_in() { grep -vc ' fault=ok ' "$1" || true; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# no_partials DIR: no .sluice-partial- file anywhere under DIR.
no_partials() {
  local left
  left=$(find "$1" -name '.sluice-partial-*' 2>/dev/null || true)
  [[ -z $left ]] || fail "partial files were left behind: $left"
}
# check_tree DIR COMPLETE WHAT: every file under DIR is identical to the source file of the same
# relative path; with COMPLETE=1 every source file is there.
check_tree() {
  local dir=$1 complete=$2 what=$3 rel n=0
  no_partials "$dir"
  if [[ -d $dir ]]; then
    while IFS= read -r -d '' rel; do
      rel=${rel#"$dir"/}
      [[ -f $src/$rel ]] || fail "$what: $rel is not a source file"
      cmp -s "$dir/$rel" "$src/$rel" || fail "$what: $rel differs from the source ($(stat -c %s "$dir/$rel") bytes, source $(stat -c %s "$src/$rel"))"
      n=$((n + 1))
    done < <(find "$dir" -type f -print0)
  fi
  if [[ $complete == 1 ]]; then
    [[ $n == "$nfiles" ]] || fail "$what: $n files, expected $nfiles"
  fi
  FILES_OK=$n
}

# The source tree: 24 small files (one empty), and 5, 7 and 9 MiB files (plus odd bytes).
src=$tmp/src
mkdir -p "$src/a/b" "$src/c"
for i in $(seq 1 24); do
  d=$src
  ((i % 3 == 1)) && d=$src/a
  ((i % 3 == 2)) && d=$src/a/b
  head -c $(((i - 1) * 7919 % 200000)) /dev/urandom >"$d/small-$i.bin"
done
head -c $((5 * MiB + 11)) /dev/urandom >"$src/c/big5.bin"
head -c $((7 * MiB + 123)) /dev/urandom >"$src/c/big7.bin"
head -c $((9 * MiB + 4097)) /dev/urandom >"$src/big9.bin"
nfiles=$(find "$src" -type f | wc -l)
t 30 "$sluice" mb "s3://$bucket" >/dev/null || fail "cannot make bucket $bucket"
t 120 "$sluice" cp -r -q --multipart-threshold 6M --part-size 5M "$src" "s3://$bucket/tree/" ||
  fail "uploading the source tree directly failed"
echo "setup: $nfiles files ($((SECONDS - started)) s)"

rate=${SLUICE_FAULTS_RATE:-0.1}
kinds=${SLUICE_FAULTS_KINDS:-503,500,reset-before,reset-mid,short-body}
seeds=${SLUICE_FAULTS_SEEDS:-1:10 2:10 3:10 4:2 5:2 6:2}
one=$tmp/one
mkdir -p "$one"

# ------------------------------------------------------------------------------------------------
# 1. Download of the tree with faults.
part1() {
  local sa seed attempts dst exact=0 failed=0 log
  for sa in $seeds; do
    seed=${sa%:*} attempts=${sa#*:} dst=$tmp/dl-${sa%:*} log=$tmp/dl-${sa%:*}.log
    start_proxy "$log" --seed "$seed" --rate "$rate" --faults "$kinds"
    AWS_MAX_ATTEMPTS=$attempts via cp -r -q --part-size 1M "s3://$bucket/tree/" "$dst"
    stop_proxy
    tally "$log"
    cp "$tmp/err" "$tmp/dl-$seed.err"
    if [[ $RC == 0 ]]; then
      check_tree "$dst" 1 "download seed $seed"
      exact=$((exact + 1))
      echo "1. download seed $seed (attempts $attempts): byte-exact, $(faults_in "$log") faults in $(wc -l <"$log") requests"
    else
      clean_failure "download seed $seed"
      check_tree "$dst" 0 "download seed $seed (failed)"
      failed=$((failed + 1))
      echo "1. download seed $seed (attempts $attempts): failed cleanly (exit $RC, $FILES_OK of $nfiles files, all exact), $(faults_in "$log") faults in $(wc -l <"$log") requests: $(grep -m1 '^sluice: error:' "$tmp/err")"
      # A direct rerun resumes and completes the tree.
      t 120 "$sluice" cp -r -q --part-size 1M "s3://$bucket/tree/" "$dst" 2>"$tmp/err" ||
        fail "the direct rerun after a failed download failed: $(cat "$tmp/err")"
      check_tree "$dst" 1 "download seed $seed (rerun)"
    fi
    rm -rf "$dst"
  done
  echo "1. download: $exact runs byte-exact, $failed failed cleanly ($((SECONDS - started)) s)"
}

# ------------------------------------------------------------------------------------------------
# 2. Upload of the tree with faults.
part2() {
  local sa seed attempts prefix chk up_rc lost warned left note exact=0 failed=0 log rc
  for sa in $seeds; do
    seed=$((${sa%:*} + 100)) attempts=${sa#*:}
    prefix=up-$seed/ chk=$tmp/upcheck-$seed log=$tmp/up-$seed.log
    start_proxy "$log" --seed "$seed" --rate "$rate" --faults "$kinds"
    AWS_MAX_ATTEMPTS=$attempts via cp -r -q --multipart-threshold 6M --part-size 5M "$src" "s3://$bucket/$prefix"
    stop_proxy
    tally "$log"
    cp "$tmp/err" "$tmp/up-$seed.err"
    up_rc=$RC
    # What is in the store, fetched directly (no proxy). `ls` exits 1 when nothing is there.
    rc=0
    t 120 "$sluice" ls -r "s3://$bucket/$prefix" >/dev/null 2>"$tmp/err" || rc=$?
    [[ $rc == 0 || $rc == 1 ]] || fail "upload seed $seed: listing what was uploaded failed: $(cat "$tmp/err")"
    if [[ $rc == 0 ]]; then
      t 120 "$sluice" cp -r -q "s3://$bucket/$prefix" "$chk" 2>"$tmp/err" ||
        fail "upload seed $seed: downloading what was uploaded failed: $(cat "$tmp/err")"
    fi
    RC=$up_rc
    cp "$tmp/up-$seed.err" "$tmp/err"
    if [[ $RC == 0 ]]; then
      check_tree "$chk" 1 "upload seed $seed"
    else
      clean_failure "upload seed $seed"
      check_tree "$chk" 0 "upload seed $seed (failed)"
    fi
    # No multipart upload left in progress, also when the answer to a CreateMultipartUpload the
    # store did was lost (sluice then finds and aborts it), unless sluice said it could not.
    lost=$(grep -cE 'method=POST path=[^ ]*\?uploads(=| ).*fault=(reset-before|reset-mid|short-body)' "$log" || true)
    warned=$(grep -cE 'could not abort the multipart upload|may have left an incomplete upload behind' "$tmp/err" || true)
    left=$(list_uploads "$prefix" | wc -l)
    ((left <= warned)) ||
      fail "upload seed $seed: $left multipart uploads left in progress ($(list_uploads "$prefix" | cut -d' ' -f1 | tr '\n' ' ')) ($lost CreateMultipartUpload answers lost, $warned warnings)"
    note=""
    ((lost == 0)) || note=", $lost CreateMultipartUpload answer(s) lost, their uploads aborted"
    if [[ $RC == 0 ]]; then
      exact=$((exact + 1))
      echo "2. upload seed $seed (attempts $attempts): byte-exact, $(faults_in "$log") faults in $(wc -l <"$log") requests$note"
    else
      failed=$((failed + 1))
      echo "2. upload seed $seed (attempts $attempts): failed cleanly (exit $RC, $FILES_OK of $nfiles objects present, all exact), $(faults_in "$log") faults in $(wc -l <"$log") requests$note: $(grep -m1 '^sluice: error:' "$tmp/err")"
    fi
    rm -rf "$chk"
  done
  echo "2. upload: $exact runs byte-exact, $failed failed cleanly ($((SECONDS - started)) s)"
}

# ------------------------------------------------------------------------------------------------
# 3. Faults by request number.
part3() {
  local kind r1 first last resumed log
  start_proxy "$tmp/at.log" --faults 503 --at 1,2,3 --methods GET
  via cp -q "s3://$bucket/tree/small-3.bin" "$one/"
  stop_proxy
  [[ $RC == 0 ]] || fail "503 on the first 3 attempts of a GET was not absorbed: exit $RC: $(cat "$tmp/err")"
  cmp -s "$one/small-3.bin" "$src/small-3.bin" || fail "the GET retried after three 503s gave other bytes"
  no_partials "$one"
  [[ $(grep -c ' fault=503 status=503$' "$tmp/at.log") == 3 ]] || fail "expected three 503s: $(cat "$tmp/at.log")"
  grep -q '^n=4 method=GET .* fault=ok status=206$' "$tmp/at.log" || fail "the 4th GET did not succeed: $(cat "$tmp/at.log")"
  [[ $(grep 'method=GET' "$tmp/at.log" | sed 's/^n=[0-9]* //; s/ fault=.*//' | sort -u | wc -l) == 1 ]] ||
    fail "the retries did not ask for the same object and range: $(cat "$tmp/at.log")"
  echo "3. 503 on the first 3 attempts of a GET: absorbed, byte-exact"
  rm -f "$one/small-3.bin"

  # The answer to a CreateMultipartUpload or to a CompleteMultipartUpload the store carried out is
  # lost (the proxy reads it, then resets the connection): curl or sluice sends it again. The
  # upload the first create made is found and aborted; RGW answers a repeated complete with
  # success (a store that answers NoSuchUpload is covered by unit.S3StoreLostAnswers). Either way:
  # exit 0, the object byte-exact, no upload left in progress.
  local what n
  for what in create:1 complete:2; do
    n=${what#*:} what=${what%:*}
    log=$tmp/lost-$what.log
    start_proxy "$log" --faults reset-before --at "$n" --methods POST
    SLUICE_LOG=info via cp --multipart-threshold 5M --part-size 5M "$src/c/big7.bin" "s3://$bucket/lost-$what/big7.bin"
    stop_proxy
    [[ $RC == 0 ]] || fail "a lost answer to the $what of a multipart upload: exit $RC: $(cat "$tmp/err")"
    grep -q "^n=$n method=POST .* fault=reset-before " "$log" || fail "lost $what: the proxy did not reset POST $n: $(cat "$log")"
    t 60 "$sluice" cp -q "s3://$bucket/lost-$what/big7.bin" "$one/" || fail "lost $what: downloading the object failed"
    cmp -s "$one/big7.bin" "$src/c/big7.bin" || fail "lost $what: the object in the store is not the source file"
    rm -f "$one/big7.bin"
    [[ -z $(list_uploads "lost-$what/") ]] || fail "lost $what: multipart uploads left in progress: $(list_uploads "lost-$what/")"
    if [[ $what == create ]]; then
      grep -q "aborted multipart upload .* a retried CreateMultipartUpload left it behind" "$tmp/err" ||
        fail "lost create: sluice did not say it aborted the upload of the lost answer: $(cat "$tmp/err")"
    fi
    echo "3. lost answer to the $what of a multipart upload: exit 0, byte-exact, no upload left"
  done

  # Each kind of fault on every GET: exit 5, an error naming the object, nothing under the final
  # name, no partial file.
  for kind in 503 500 reset-before reset-mid short-body; do
    log=$tmp/all-$kind.log
    start_proxy "$log" --faults "$kind" --rate 1.0 --methods GET
    AWS_MAX_ATTEMPTS=3 via cp -q --part-size 1M "s3://$bucket/tree/c/big5.bin" "$one/"
    stop_proxy
    [[ $RC == 5 ]] || fail "$kind on every GET: exit $RC, expected 5: $(cat "$tmp/err")"
    grep -q "^sluice: error: .*s3://$bucket/tree/c/big5.bin.*after 3 attempts" "$tmp/err" ||
      fail "$kind on every GET: the error does not name the object and the attempts: $(cat "$tmp/err")"
    [[ -z $(ls -A "$one") ]] || fail "$kind on every GET left files: $(ls -A "$one")"
    [[ $kind != 503 ]] || grep -q 'SlowDown' "$tmp/err" || fail "the error after 503s does not say SlowDown: $(cat "$tmp/err")"
    if [[ $kind == reset-mid ]]; then
      # A retry of the first part resumes after the bytes received: at most the half the proxy
      # sent (less if the reset overtook some of it), more than none.
      r1=$(sed -n 's/^n=1 .* range=bytes=\([0-9]*\)-\([0-9]*\) .*/\1 \2/p' "$log")
      [[ -n $r1 ]] || fail "reset-mid: no ranged first GET in the log: $(cat "$log")"
      read -r first last <<<"$r1"
      resumed=$(sed -n "s/^n=[0-9]* .* range=bytes=\([0-9]*\)-$last .*/\1/p" "$log" |
        awk -v f="$first" -v h="$(((last - first + 1) / 2))" '$1 > f && $1 <= f + h { n++ } END { print n + 0 }')
      ((resumed >= 1)) || fail "reset-mid: no retry resumed after the bytes received: $(cat "$log")"
    fi
    echo "3. $kind on every GET: exit 5, $(grep -m1 '^sluice: error:' "$tmp/err")"
  done
  echo "3. faults by number: ok ($((SECONDS - started)) s)"
}

# ------------------------------------------------------------------------------------------------
# 4. The object changes between two ranged reads of its download. The proxy overwrites it (a
# direct `sluice cp`, not through the proxy) before forwarding the 2nd ranged GET; the 1st has
# been forwarded already.
# all_old_or_new FILE OLD NEW WHAT: prints old or new, fails when the file is neither.
all_old_or_new() {
  if cmp -s "$1" "$2"; then echo "old"; elif cmp -s "$1" "$3"; then echo "new"; else
    fail "$4: the file is neither the old nor the new object (stitched from both?)"
  fi
}
part4() {
  local mut=$tmp/mut case kind how old new key up at
  head -c $((6 * MiB)) /dev/urandom >"$tmp/old.bin"
  head -c $((6 * MiB)) /dev/urandom >"$tmp/new.bin"
  head -c $((11 * MiB)) /dev/urandom >"$tmp/old-mp.bin"
  head -c $((11 * MiB)) /dev/urandom >"$tmp/new-mp.bin"
  for case in single:cp multipart:cp single:cp-r multipart:cp-r; do
    kind=${case%:*} how=${case#*:}
    old=$tmp/old.bin new=$tmp/new.bin up=(cp -q)
    if [[ $kind == multipart ]]; then   # an ETag that is not an MD5: only If-Match protects it
      old=$tmp/old-mp.bin new=$tmp/new-mp.bin up=(cp -q --multipart-threshold 5M --part-size 5M)
    fi
    key=mut-$kind-$how/obj.bin
    t 60 "$sluice" "${up[@]}" "$old" "s3://$bucket/$key" || fail "uploading $key failed"
    at=2   # the 2nd ranged GET (`cp` reads the metadata with a HEAD, `cp -r` lists with a GET)
    [[ $how == cp ]] || at=3
    start_proxy "$tmp/mut-$kind-$how.log" --faults mutate --at "$at" --methods GET \
      --mutate-cmd "timeout 60 '$sluice' ${up[*]} '$new' 's3://$bucket/$key' >>'$tmp/mutate.err' 2>&1"
    rm -rf "$mut" && mkdir -p "$mut"
    if [[ $how == cp ]]; then
      via cp -q --part-size 1M "s3://$bucket/$key" "$mut/"
    else
      via cp -r -q --part-size 1M "s3://$bucket/mut-$kind-$how/" "$mut/"
    fi
    stop_proxy
    grep -q "^n=$((at - 1)) method=GET .*range=bytes=.* fault=ok status=206$" "$tmp/mut-$kind-$how.log" ||
      fail "$key: the ranged GET before the overwrite is not in the log: $(cat "$tmp/mut-$kind-$how.log")"
    grep -q "^n=$at method=GET .*range=bytes=.* fault=mutate " "$tmp/mut-$kind-$how.log" ||
      fail "$key: the proxy did not overwrite the object before the next ranged GET: $(cat "$tmp/mut-$kind-$how.log")"
    # The overwrite really happened.
    t 60 "$sluice" cp -q "s3://$bucket/$key" "$tmp/now.bin" || fail "reading $key back failed"
    cmp -s "$tmp/now.bin" "$new" || fail "$key was not overwritten by the mutate command: $(cat "$tmp/mutate.err" 2>/dev/null)"
    rm -f "$tmp/now.bin"
    no_partials "$mut"
    if [[ $RC == 0 ]]; then
      echo "4. $kind object, $how: overwritten during the download, which gave the $(all_old_or_new "$mut/obj.bin" "$old" "$new" "$key") object whole"
    else
      [[ $RC == 6 ]] || fail "$key changed during the download: exit $RC, expected 6: $(cat "$tmp/err")"
      grep -q "^sluice: error: .*s3://$bucket/$key.*changed" "$tmp/err" ||
        fail "$key changed during the download: the error does not name the object and say it changed: $(cat "$tmp/err")"
      [[ ! -e $mut/obj.bin ]] || fail "$key: exit $RC but a file is under the final name ($(all_old_or_new "$mut/obj.bin" "$old" "$new" "$key") bytes)"
      echo "4. $kind object, $how: exit 6, nothing written: $(grep -m1 '^sluice: error:' "$tmp/err")"
    fi
  done
  echo "4. object changed between ranged reads: ok ($((SECONDS - started)) s)"
}

# ------------------------------------------------------------------------------------------------
# 5. A GET held past the client's stall timeout (30 s): retried, or a clear timeout error.
part5() {
  local t0 method log
  for method in GET HEAD; do
    log=$tmp/delay-$method.log
    start_proxy "$log" --faults delay --at 1 --methods "$method" --delay-seconds 6
    t0=$SECONDS
    via --cli-read-timeout 2 cp -q "s3://$bucket/tree/c/big5.bin" "$one/"
    stop_proxy
    [[ $RC == 0 ]] || fail "a $method held 6 s with --cli-read-timeout 2: exit $RC: $(cat "$tmp/err")"
    cmp -s "$one/big5.bin" "$src/c/big5.bin" || fail "the download retried after a held $method gave other bytes"
    grep -q "^n=1 method=$method .* fault=delay status=20[06](held 6s)$" "$log" || fail "the log does not show the held $method: $(cat "$log")"
    grep -q "^n=2 method=$method .* fault=ok status=20[06]$" "$log" || fail "the log does not show the retry of the held $method: $(cat "$log")"
    ((SECONDS - t0 < 6)) || fail "the held $method was waited out ($((SECONDS - t0)) s), not abandoned after 2 s"
    echo "5. a $method held 6 s with --cli-read-timeout 2: abandoned, retried, byte-exact ($((SECONDS - t0)) s)"
    rm -f "$one/big5.bin"
  done
  # No attempt left: a clear error, nothing under the final name.
  start_proxy "$tmp/delay-once.log" --faults delay --at 1 --methods GET --delay-seconds 6
  AWS_MAX_ATTEMPTS=1 via --cli-read-timeout 2 cp -q "s3://$bucket/tree/c/big5.bin" "$one/"
  stop_proxy
  clean_failure "a GET held 6 s with one attempt"
  grep -qi 'timeout\|timed out' "$tmp/err" || fail "a GET held 6 s: the error does not say it timed out: $(cat "$tmp/err")"
  [[ -z $(ls -A "$one") ]] || fail "a failed download after a stall left files: $(ls -A "$one")"
  echo "5. a GET held 6 s, one attempt: exit $RC, $(grep -m1 '^sluice: error:' "$tmp/err")"
}

for p in ${SLUICE_FAULTS_PARTS:-1 2 3 4 5}; do
  "part$p"
  if [[ $p == 2 ]]; then
    echo "faults injected in parts 1 and 2, by kind: $(for k in "${!FAULTED[@]}"; do printf '%s=%s ' "$k" "${FAULTED[$k]}"; done)"
  fi
done
echo "cp faults: ok ($((SECONDS - started)) s)"
