#!/usr/bin/env bash
# `sluice jobs` on a work directory (no server, no store): list, describe and logs read it, stop is
# refused, and bad input gets the exit codes of docs/cli.md. The server side is in
# tests/unit/cli_jobs_test.cpp (a real ApiServer) and tests/e2e/serve_test.sh.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
sluice=${SLUICE_BINARY:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

mkdir -p sluice-jobs/demo-1/logs sluice-jobs/other/logs
cat > sluice-jobs/demo-1/status.json <<'JSON'
{"TrainingJobName": "demo-1", "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
 "CreationTime": "2026-12-05T16:20:01.000000+00:00", "TrainingEndTime": "2026-12-05T16:22:01.000000+00:00",
 "ModelArtifacts": {"S3ModelArtifacts": "s3://out/demo-1/output/model.tar.gz"}}
JSON
printf '===== marker =====\n2026-12-05T16:20:06.000Z [algo-1] hello\n' > sluice-jobs/demo-1/logs/algo-1.log

# exit code of "$@", its stderr in $tmp/err
run() { set +e; "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; set -e; }

run "$sluice" jobs list
[[ $rc == 0 ]] || fail "list exited $rc: $(cat "$tmp/err")"
grep -q '^demo-1  Completed  Completed  2026-12-05 16:20:01  2026-12-05 16:22:01$' "$tmp/out" || fail "list: $(cat "$tmp/out")"
grep -q other "$tmp/out" && fail "a directory without status.json is listed"
run "$sluice" jobs describe demo-1 --json
[[ $rc == 0 ]] && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["TrainingJobStatus"] == "Completed"' "$tmp/out" \
  || fail "describe --json: $(cat "$tmp/out" "$tmp/err")"
run "$sluice" jobs describe demo-1
grep -q '^ModelArtifacts: *s3://out/demo-1/output/model.tar.gz$' "$tmp/out" || fail "describe: $(cat "$tmp/out")"
run "$sluice" jobs logs demo-1
[[ $rc == 0 && $(cat "$tmp/out") == "[algo-1] hello" ]] || fail "logs ($rc): $(cat "$tmp/out" "$tmp/err")"

run "$sluice" jobs stop demo-1
[[ $rc == 2 ]] && grep -q 'needs a server' "$tmp/err" || fail "stop without a server exited $rc: $(cat "$tmp/err")"
run "$sluice" jobs describe nope
[[ $rc == 3 ]] || fail "a missing job exited $rc: $(cat "$tmp/err")"
run "$sluice" jobs describe ../demo-1
[[ $rc == 2 ]] || fail "a bad name exited $rc: $(cat "$tmp/err")"
run "$sluice" jobs list --status Running
[[ $rc == 2 ]] || fail "a bad --status exited $rc"
run "$sluice" jobs list --server 127.0.0.1:8080
[[ $rc == 2 ]] && grep -q -- '--server' "$tmp/err" || fail "a bad --server exited $rc: $(cat "$tmp/err")"
run env SLUICE_SERVER=http://127.0.0.1:9 AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_PROFILE=none \
  AWS_SHARED_CREDENTIALS_FILE="$tmp/none" AWS_CONFIG_FILE="$tmp/none" "$sluice" jobs list
[[ $rc == 3 || $rc == 4 ]] || fail "SLUICE_SERVER without credentials exited $rc: $(cat "$tmp/err")"
echo "jobs: ok"
