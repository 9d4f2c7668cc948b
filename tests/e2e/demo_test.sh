#!/usr/bin/env bash
# `./sluice.sh demo` from a checkout under /tmp (issue 13): the source tree's tracked and
# untracked-but-not-ignored files are copied to a fresh /tmp/sluice-demo-clone.XXXXXX and the demo
# runs there with SLUICE_BINARY (no install, no build). It must start its own store (the shared
# local_s3 fixture is not used and AWS_ENDPOINT_URL is unset for it), run the text-classifier job
# to Completed, list model.tar.gz, and stop its store on exit: no daemon of a /tmp/sluice-demo.*
# store it started may be left running. The training script and the readers (python/, the job's
# PYTHONPATH) live under /tmp here, so this also checks that the sandbox binds them by itself.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*" >&2; }

sluice=${SLUICE_BINARY:?run through ctest (SLUICE_BINARY)}
src=${SLUICE_SOURCE_DIR:?run through ctest (SLUICE_SOURCE_DIR)}
[[ -x $sluice ]] || fail "no sluice binary at $sluice"
sluice=$(realpath "$sluice")

# Pids of the daemons of demo stores (their command lines name /tmp/sluice-demo.XXXXXX/store/...).
demo_store_pids() {
  python3 - <<'PY'
import os, re
pattern = re.compile(rb"/tmp/sluice-demo\.[A-Za-z0-9]{6}/store/")
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            if pattern.search(f.read()):
                print(p)
    except OSError:
        pass
PY
}

clone=$(mktemp -d /tmp/sluice-demo-clone.XXXXXX)
out=$clone.out
demo_pid=
before=$(demo_store_pids | sort)
new_store_pids() { comm -13 <(echo "$before") <(demo_store_pids | sort); }

cleanup() {
  local rc=$?
  if [[ -n $demo_pid ]] && kill -0 "$demo_pid" 2>/dev/null; then
    # The demo runs in its own process group (setsid): stop all of it; its trap stops its store.
    kill -TERM -- "-$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  # A store the demo left behind: its daemons are stopped here, by pid (and the test fails).
  local left p
  left=$(new_store_pids)
  if [[ -n $left ]]; then
    echo "the demo left its store running: killing pids ${left//$'\n'/ }" >&2
    for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
    rc=1
  fi
  rm -rf "$clone" "$out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP  # so that cleanup runs (stopping the demo) when ctest stops the test

note "copying the source tree (tracked and untracked, not ignored) to $clone"
(
  cd "$src"
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [[ -e $f || -L $f ]] && printf '%s\0' "$f"  # a tracked file deleted in the tree is skipped
  done | tar --null -T - -cf -
) | tar -xf - -C "$clone"
[[ -x $clone/sluice.sh && -f $clone/examples/text-classifier/job.json.in && -d $clone/python ]] \
  || fail "the copy lacks sluice.sh, the example job or python/"

note "running SLUICE_BINARY=$sluice ./sluice.sh demo in the copy"
set +e
(
  cd "$clone"
  unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 SLUICE_DEMO_BUCKET
  export SLUICE_BINARY=$sluice
  exec setsid ./sluice.sh demo
) >"$out" 2>&1 &
demo_pid=$!
wait "$demo_pid"
rc=$?
demo_pid=
set -e
show() { echo "--- the demo's output:" >&2; tail -n 80 "$out" >&2; }

[[ $rc == 0 ]] || { show; fail "./sluice.sh demo exited $rc"; }
grep -q "using $sluice (SLUICE_BINARY)" "$out" || { show; fail "the demo did not use SLUICE_BINARY"; }
! grep -q "building in" "$out" || { show; fail "the demo built although SLUICE_BINARY was set"; }
grep -q "starting a local S3 store" "$out" || { show; fail "the demo did not start its own store"; }
grep -Eq "status: Completed s3://sluice-demo/output/demo-text-classifier-[0-9-]+/output/model.tar.gz" "$out" \
  || { show; fail "the demo's job did not complete"; }
grep -Eq "model.tar.gz holds: .*[^ ]" "$out" || { show; fail "no model.tar.gz listing"; }
grep -q "every file arrived byte for byte" "$out" || { show; fail "the sluice cp round trip was not checked"; }
# The demo's own work directory (with its store) is gone.
work=$(sed -n 's|.*uploading it: sluice cp -r \(/tmp/sluice-demo\.[A-Za-z0-9]*\)/dataset .*|\1|p' "$out" | head -1)
[[ -n $work ]] || { show; fail "cannot tell the demo's work directory from its output"; }
[[ ! -e $work ]] || fail "the demo left $work behind"
[[ -z $(new_store_pids) ]] || fail "the demo left its store running"
echo "demo: ok"
