#!/usr/bin/env bash
# sluice.sh: the project's entry points on a Debian 12 machine (as root, or with sudo for apt).
#
#   ./sluice.sh demo    install what is missing, build (Release), start a local S3 store unless
#                       AWS_ENDPOINT_URL is set, upload a sample dataset, download it with
#                       sluice cp and run a training job on it with sluice train
#   ./sluice.sh test    install, build, start the store and run every test (ctest) on the Release
#                       build; then the whole suite again built with AddressSanitizer + UBSan
#                       (clang, in BUILD-asan; this build also holds the libFuzzer targets, which
#                       run briefly over their corpora as part of it), then the transfer engine
#                       and FUSE tests built with ThreadSanitizer (clang, in BUILD-tsan). Ends with
#                       why each failed test failed (excerpts of its output) and one line
#                       "N passed, N failed" summing the runs. With ctest arguments
#                       (e.g. -R NAME): the Release run only; with SLUICE_TEST_SANITIZERS=0: the
#                       Release run and the fuzz targets briefly (BUILD-fuzz)
#   ./sluice.sh test-asan   only the ASan + UBSan pass (whole suite and fuzz targets)
#   ./sluice.sh test-tsan   only the ThreadSanitizer pass; a sanitizer report in any process fails
#                           the pass
#   ./sluice.sh test-fuzz   only the fuzz targets, briefly (BUILD-fuzz; scripts/fuzz runs them longer)
#   ./sluice.sh build   install and build only
#   ./sluice.sh deps    install the Debian packages and the test tools' npm packages only
#
# SLUICE_BUILD_DIR (default ./build) chooses the build directory BUILD. SLUICE_BINARY=PATH makes
# `demo` use that sluice binary: it then neither installs packages nor builds (tests/e2e/demo_test.sh
# runs the demo this way, from a copy of the tree under /tmp).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${SLUICE_BUILD_DIR:-$ROOT/build}
JOBS=$(nproc)

log() { printf '\033[1msluice.sh:\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Everything the build, the tests and the local store need, by Debian package name.
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libcurl4-openssl-dev libssl-dev libpugixml-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libarchive-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  ceph-mon ceph-osd radosgw uuid-runtime curl iproute2 procps python3 python3-torch bubblewrap
  libfuse3-dev fuse3 zlib1g-dev libseccomp-dev libsqlite3-dev libcpp-httplib-dev python3-boto3 awscli
  clang-14 libclang-rt-14-dev nodejs
  slurmctld slurmd slurm-client munge
)

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  command -v npm >/dev/null || missing+=(npm)  # a nodejs from elsewhere (NodeSource) brings its own npm
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  npm_deps
}

# The npm packages of tests/kubernetes (the check of examples/kubernetes against the Kubernetes
# OpenAPI schemas), exactly as its package-lock.json says; npm ci runs only when the lock file
# differs from the one last installed.
npm_deps() {
  local dir=$ROOT/tests/kubernetes
  cmp -s "$dir/package-lock.json" "$dir/node_modules/.sluice-installed-lock.json" && return 0
  log "installing the npm packages of tests/kubernetes (npm ci)"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  cp "$dir/package-lock.json" "$dir/node_modules/.sluice-installed-lock.json"
}

build() {
  deps
  log "building in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$JOBS"
}

# Totals over every ctest run of this command, printed once at the end.
PASSED=0
FAILED=0

# ctest_run DIR ARGS...: runs ctest in DIR and adds its counts to PASSED/FAILED; fails when a
# test failed or ctest printed no summary.
ctest_run() {
  local dir=$1 out=$1/ctest-output.txt rc=0 total failed
  shift
  # The store starts once for the run (ctest fixture local_s3) and stops at the end, also on failure.
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@" 2>&1 | tee "$out" || rc=$?
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$out" | tail -1)
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$out" | tail -1)
  if [[ -z $total ]]; then
    FAILED=$((FAILED + 1))
    return 1
  fi
  PASSED=$((PASSED + total - failed))
  FAILED=$((FAILED + failed))
  ((failed == 0)) || note_failures "$dir"
  return "$rc"
}

# The failing tests' output is printed where each one ended, among thousands of lines; a CI log is
# often kept only in part, from its end. note_failures DIR keeps, for each test that failed in
# DIR's last ctest run, the lines of its output that say why (gtest failures, sanitizer reports,
# a script's error), and print_failures prints them again just before the closing counts.
FAILURE_NOTES=$BUILD/ctest-failures.txt
reset_failures() { mkdir -p "$BUILD" && : >"$FAILURE_NOTES"; }
note_failures() {
  local dir=$1 name output why
  local tmp=$dir/Testing/Temporary
  [[ -f $tmp/LastTestsFailed.log && -f $tmp/LastTest.log ]] || return 0
  while IFS=: read -r _ name; do
    output=$(awk -v name="$name" '
      match($0, /^[0-9]+\/[0-9]+ Test: /) && substr($0, RLENGTH + 1) == name { inside = 1; next }
      inside && /^<end of output>$/ { exit }
      inside { print }' "$tmp/LastTest.log")
    why=$(grep -E -B4 -A12 'Failure$|FAILED|[Ee]rror|Sanitizer|runtime error|[Tt]imeout|fail' <<<"$output" | head -n 80) || true
    # Nothing that looks like a reason (a timeout, a crash): the end of what it printed.
    [[ -n $why ]] || why=$(tail -n 30 <<<"$output")
    printf '=== %s (%s)\n%s\n' "$name" "$dir" "$why" >>"$FAILURE_NOTES"
  done <"$tmp/LastTestsFailed.log"
}
print_failures() {
  [[ -s $FAILURE_NOTES ]] || return 0
  echo "--- why the failed tests failed (excerpts of their output, printed in full above) ---"
  cat "$FAILURE_NOTES"
  echo "---"
}

# The sanitizer passes (issue 7). Tests start `sluice` as child processes, some detached (a
# background mount's stderr is /dev/null), so reports go to files under DIR/sanitizer-logs
# (log_path) rather than to a stderr nobody reads: after ctest, any file there is one more failed
# "test" and is printed. The options reach every child through the environment (the integration
# tests' child_env passes *SAN_OPTIONS on). Built with clang (it compiles instrumented code about
# twice as fast as gcc 12, which keeps a CI run under 30 minutes); -fno-sanitize-recover=all is in
# the build (CMakeLists.txt SLUICE_SANITIZE / SLUICE_FUZZ), so a UBSan report ends the process
# (exit 66) too. The ASan + UBSan build is the fuzz build (SLUICE_FUZZ=ON: the same sanitizers,
# plus libFuzzer's coverage hooks, which do nothing outside the fuzz targets), so the fuzz
# targets are built once and run with the rest of the suite.
# Suppressions: tests/sanitizers/*.supp, used where the file exists.
TSAN_TARGETS=(sluice download_test fastfile_reader_test fastfile_disk_cache_test fastfile_namespace_test
  md5_verifier_test memory_budget_test range_stream_test epoch_stream_test integration_fastfile_mount_test
  integration_cli_cp_test)
TSAN_TESTS='^(unit[.]([A-Za-z]+/)?(Download|FastFileReader|DiskCache|FastfileNamespace|Md5Verifier[A-Za-z]*|MemoryBudget|RangeStream|EpochStream)[.]|integration[.](fastfile_mount_test|cli_cp_test|cli_mount_test|cli_mount_faults_test)$)'

sanitizer_pass() {  # asan|tsan, ctest arguments...
  local kind=$1 dir=$BUILD-$1 sanitize targets=() select=() rc=0
  shift
  local config=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14)
  case $kind in
    asan) sanitize=address,undefined; config+=(-DSLUICE_FUZZ=ON) ;;
    tsan) sanitize=thread; config+=(-DSLUICE_SANITIZE=thread); targets=(--target "${TSAN_TARGETS[@]}"); select=(-R "$TSAN_TESTS") ;;
  esac
  log "building with -fsanitize=$sanitize (clang) in $dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja "${config[@]}" >/dev/null
  cmake --build "$dir" -j "$JOBS" "${targets[@]}"
  local logs=$dir/sanitizer-logs supp=$ROOT/tests/sanitizers
  rm -rf "$logs"
  mkdir -p "$logs"
  # Exported for the ctest run only (local -x); a suppressions file is named only where it exists.
  local -x ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=66:log_path=$logs/asan"
  local -x UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=66:log_path=$logs/ubsan"
  local -x LSAN_OPTIONS="exitcode=66"
  local -x TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:log_path=$logs/tsan"
  [[ -f $supp/lsan.supp ]] && LSAN_OPTIONS+=":suppressions=$supp/lsan.supp:print_suppressions=0"
  [[ -f $supp/ubsan.supp ]] && UBSAN_OPTIONS+=":suppressions=$supp/ubsan.supp"
  [[ -f $supp/tsan.supp ]] && TSAN_OPTIONS+=":suppressions=$supp/tsan.supp"
  log "running the tests under -fsanitize=$sanitize (ctest)"
  ctest_run "$dir" "${select[@]}" "$@" || rc=$?
  local reports
  reports=$(find "$logs" -type f | sort)
  # GCC's libubsan ignores log_path next to libasan and reports on stderr: look for reports in what
  # the tests printed too (ctest keeps every test's output, passing ones included, in LastTest.log).
  local printed=$dir/Testing/Temporary/LastTest.log
  if grep -qE 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer' "$printed" 2>/dev/null; then
    grep -E -A12 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer' "$printed" >"$logs/in-test-output.txt" || true
    reports+=${reports:+$'\n'}$logs/in-test-output.txt
  fi
  if [[ -n $reports ]]; then
    log "sanitizer reports ($(wc -l <<<"$reports") processes), from $logs:"
    local f
    for f in $reports; do
      echo "=== $f" >&2
      head -n 300 "$f" >&2
      { echo "=== sanitizer report $f"; head -n 40 "$f"; } >>"$FAILURE_NOTES"
    done
    FAILED=$((FAILED + 1))
    rc=1
  fi
  return "$rc"
}

# The libFuzzer targets (tests/fuzz/README.md), built with clang in BUILD-fuzz, each run for
# SLUICE_FUZZ_SECONDS (default 10) over a copy of its seed corpus; a finding fails its test.
fuzz_pass() {
  local dir=$BUILD-fuzz
  log "building the fuzz targets with clang in $dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_COMPILER=clang-14 -DSLUICE_FUZZ=ON >/dev/null
  cmake --build "$dir" -j "$JOBS" --target fuzz
  log "running each fuzz target briefly (ctest -L fuzz)"
  ctest_run "$dir" -L fuzz
}

run_tests() {
  build
  reset_failures
  log "running the tests (ctest)"
  local rc=0
  ctest_run "$BUILD" "$@" || rc=$?
  if (($# == 0)); then
    if [[ ${SLUICE_TEST_SANITIZERS:-1} != 0 ]]; then
      sanitizer_pass asan || rc=1  # the fuzz targets run in it
      sanitizer_pass tsan || rc=1
    else
      fuzz_pass || rc=1
    fi
  fi
  print_failures
  echo "$PASSED passed, $FAILED failed"
  return "$rc"
}

run_fuzz_tests() {
  deps
  reset_failures
  local rc=0
  fuzz_pass || rc=$?
  print_failures
  echo "$PASSED passed, $FAILED failed"
  return "$rc"
}

run_sanitizer_tests() {  # asan|tsan, ctest arguments...
  deps
  reset_failures
  local rc=0
  sanitizer_pass "$@" || rc=$?
  print_failures
  echo "$PASSED passed, $FAILED failed"
  return "$rc"
}

demo() {
  local sluice
  if [[ -n ${SLUICE_BINARY:-} ]]; then
    sluice=$SLUICE_BINARY
    [[ -x $sluice ]] || die "SLUICE_BINARY=$sluice is not an executable file"
    log "using $sluice (SLUICE_BINARY): nothing installed or built"
  else
    build
    sluice=$BUILD/sluice
  fi
  # Globals: the EXIT trap runs after this function has returned.
  work=$(mktemp -d /tmp/sluice-demo.XXXXXX)
  started_store=0
  cleanup() {
    if ((started_store)); then "$ROOT/scripts/local-s3" stop --dir "$work/store" --purge >/dev/null 2>&1 || true; fi
    rm -rf "$work"
  }
  trap cleanup EXIT
  if [[ -z ${AWS_ENDPOINT_URL:-} && -z ${AWS_ENDPOINT_URL_S3:-} ]]; then
    log "no AWS_ENDPOINT_URL set: starting a local S3 store (Ceph RGW on 127.0.0.1)"
    started_store=1  # before the start: a start that fails halfway leaves daemons to stop too
    "$ROOT/scripts/local-s3" start --dir "$work/store" >/dev/null
    # shellcheck disable=SC1091
    source "$work/store/env"
  fi
  local bucket=${SLUICE_DEMO_BUCKET:-sluice-demo}
  log "making a sample dataset: 200 small records and 4 larger shards"
  python3 "$ROOT/examples/make-sample-dataset.py" "$work/dataset"
  "$sluice" mb "s3://$bucket"
  log "uploading it: sluice cp -r $work/dataset s3://$bucket/train/"
  "$sluice" cp -r "$work/dataset" "s3://$bucket/train/"
  log "listing it: sluice ls s3://$bucket/train/"
  "$sluice" ls "s3://$bucket/train/"
  log "a File mode download: sluice cp -r s3://$bucket/train/ $work/input/train"
  "$sluice" cp -r "s3://$bucket/train/" "$work/input/train"
  if diff -r "$work/dataset" "$work/input/train" >/dev/null; then
    log "every file arrived byte for byte ($(find "$work/input/train" -type f | wc -l) files)"
  else
    die "the downloaded tree differs from the source"
  fi

  # The main job: a SageMaker training script run unchanged. The train channel comes from S3 in
  # File mode; the validation channel is a "shared file system" (fs-0123456789abcdef0 mapped to
  # a local directory) bound read-only.
  local job
  job=demo-text-classifier-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$work/fsx"
  cp -r "$work/dataset/records/validation" "$work/fsx/validation"
  printf '{"fs-0123456789abcdef0": "%s"}\n' "$work/fsx" > "$work/file-systems.json"
  sed -e "s|@JOB_NAME@|$job|g" -e "s|@BUCKET@|$bucket|g" -e "s|@EXAMPLE_DIR@|$ROOT/examples/text-classifier|g" -e "s|@REPO_DIR@|$ROOT|g" \
    "$ROOT/examples/text-classifier/job.json.in" > "$work/job.json"
  log "the main job: sluice train $work/job.json"
  # From a checkout under /tmp the training script and the readers (python/, the job's PYTHONPATH)
  # stay visible although the sandbox has its own /tmp: Sluice binds the directories of the
  # command's paths and of its PATH and PYTHONPATH entries read-only (docs/sandbox.md).
  "$sluice" --log-level info train "$work/job.json" --work-dir "$work/jobs" --file-systems "$work/file-systems.json"
  log "status: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["TrainingJobStatus"], d["ModelArtifacts"]["S3ModelArtifacts"])' "$work/jobs/$job/status.json")"
  "$sluice" cp -q "s3://$bucket/output/$job/output/model.tar.gz" "$work/model.tar.gz"
  log "model.tar.gz holds: $(tar -tzf "$work/model.tar.gz" | tr '\n' ' ')"
}

case ${1:-} in
  demo) demo ;;
  test) shift; run_tests "$@" ;;
  test-asan) shift; run_sanitizer_tests asan "$@" ;;
  test-tsan) shift; run_sanitizer_tests tsan "$@" ;;
  test-fuzz) run_fuzz_tests ;;
  build) build ;;
  deps) deps ;;
  *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
