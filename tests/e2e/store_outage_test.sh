#!/usr/bin/env bash
# The store goes away during a download and comes back within the retry budget (issue 7):
# `sluice cp -r` of 24 objects (4 MiB each), two requests at a time, from a private store (its own
# RGW, started here and purged at the end, so that pausing it disturbs no other test), twice:
#  1. once 4 files are in place the gateway is frozen (SIGSTOP) for 3 s, then continued: requests
#     in flight stall and go on;
#  2. a second download: once 4 files are in place the gateway is frozen (so that the download
#     cannot end while the test looks), then killed (SIGKILL: connections reset, then refused) and
#     started again at once; it answers again after about 1-2 s, well within the default retry
#     budget (10 attempts, full-jitter backoff: 9 waits that add up to less than 3 s have a
#     probability below 1e-4): the requests are retried;
# each time sluice cp exits 0 and every file is byte-exact (sha256), no temporary file is left.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
started=$SECONDS
MiB=$((1 << 20))

priv=$(mktemp -d /tmp/sluice-e2e-outage-s3.XXXXXX)
tmp=$(mktemp -d /tmp/sluice-e2e-outage.XXXXXX)
bg_pid=""
rgw_pid=""
outage_cleanup() {
  local rc=$?
  set +e
  [[ -n $rgw_pid ]] && kill -CONT "$rgw_pid" 2>/dev/null
  if [[ -n $bg_pid ]]; then kill -KILL "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; fi
  "$src/scripts/local-s3" stop --dir "$priv" --purge >/dev/null 2>&1 || echo "cleanup: cannot stop the store in $priv" >&2
  rm -rf "$priv" "$tmp"
  exit "$rc"
}
trap outage_cleanup EXIT
"$src/scripts/local-s3" start --dir "$priv" >"$tmp/store.out" 2>&1 </dev/null ||
  fail "cannot start a private store: $(tail -n 20 "$tmp/store.out")"
# shellcheck disable=SC1091
source "$priv/env"   # from here on, sluice talks to the private store
note "private store started ($((SECONDS - started)) s)"
rgw_conf=$CEPH_CONF
rgw_pidfile=$priv/run/client.rgw.local.pid
current_rgw() {  # the pid of the private store's gateway (its command line names our ceph.conf)
  local p
  p=$(cat "$rgw_pidfile" 2>/dev/null) || return 1
  grep -qzF -- "$rgw_conf" "/proc/$p/cmdline" 2>/dev/null || return 1
  echo "$p"
}
rgw_pid=$(current_rgw) || fail "no gateway pid in $rgw_pidfile"

bucket=outage-$$-$RANDOM
"$sluice" mb "s3://$bucket" >/dev/null || fail "cannot make bucket $bucket"
for i in $(seq -w 1 24); do rand_file "$tmp/src/f$i.bin" $((4 * MiB + 10#$i * 1000)); done
"$sluice" cp -r -q "$tmp/src" "s3://$bucket/ds/" || fail "upload failed"

# files_in DIR: files under final names
files_in() { find "$1" -type f ! -name '.sluice-partial-*' 2>/dev/null | wc -l; }
wait_files() {  # wait_files DIR N: until DIR holds N files (fails when sluice ended first)
  while (($(files_in "$1") < $2)); do
    kill -0 "$bg_pid" 2>/dev/null || fail "sluice cp ended before $2 files were in place"
    sleep 0.005
  done
}

# check_download DIR: sluice cp (pid $bg_pid) exits 0 and DIR holds exactly the sources
check_download() {
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  [[ $rc == 0 ]] || fail "sluice cp exited $rc after the outage, expected 0: $(cat "$tmp/cp.err")"
  diff <(cd "$tmp/src" && sha256sum -- * | sort) <(cd "$1" && sha256sum -- * | sort) >&2 ||
    fail "the downloaded files differ from their sources"
  [[ -z $(find "$1" -name '.sluice-partial-*') ]] || fail "temporary files left"
  [[ $(find "$1" -type f | wc -l) == 24 ]] || fail "the destination does not hold exactly 24 files"
}

t0=$SECONDS
"$sluice" --max-connections 2 cp -r -q "s3://$bucket/ds/" "$tmp/dst1" 2>"$tmp/cp.err" &
bg_pid=$!
wait_files "$tmp/dst1" 4
kill -STOP "$rgw_pid"
at_freeze=$(files_in "$tmp/dst1")
note "1. gateway $rgw_pid frozen with $at_freeze of 24 files in place"
((at_freeze < 24)) || fail "the download ended before the gateway was frozen: the test proves nothing"
sleep 3
kill -CONT "$rgw_pid"
check_download "$tmp/dst1"
note "1. sluice cp completed byte-exact through the freeze in $((SECONDS - t0)) s"

t0=$SECONDS
"$sluice" --max-connections 2 cp -r -q "s3://$bucket/ds/" "$tmp/dst2" 2>"$tmp/cp.err" &
bg_pid=$!
wait_files "$tmp/dst2" 4
kill -STOP "$rgw_pid"   # frozen first: from here on no file can complete while the test looks
at_kill=$(files_in "$tmp/dst2")
((at_kill < 24)) || fail "the download ended before the gateway was killed: the test proves nothing"
kill -KILL "$rgw_pid"
killed_at=$(date +%s%N)
note "2. gateway $rgw_pid killed with $at_kill of 24 files in place"
for _ in $(seq 50); do [[ -e /proc/$rgw_pid ]] || break; sleep 0.1; done
# Started as scripts/local-s3 starts it (it daemonizes and writes its pid file).
radosgw -c "$rgw_conf" -n client.rgw.local </dev/null >>"$priv/log/client.rgw.local.out" 2>&1 ||
  fail "cannot restart the gateway"
rgw_pid=""
for _ in $(seq 100); do rgw_pid=$(current_rgw) && break; sleep 0.05; done
[[ -n $rgw_pid ]] || fail "the restarted gateway wrote no pid file"
for _ in $(seq 200); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$AWS_ENDPOINT_URL/" || true) == 000 ]] || break
  sleep 0.05
done
note "gateway restarted (pid $rgw_pid), answering $((($(date +%s%N) - killed_at) / 1000000)) ms after the kill"
check_download "$tmp/dst2"
note "2. sluice cp completed byte-exact through the kill in $((SECONDS - t0)) s"
echo "store_outage: ok ($((SECONDS - started)) s)"
