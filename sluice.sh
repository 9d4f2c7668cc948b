#!/usr/bin/env bash
# sluice.sh: the project's entry points on a Debian 12 machine (as root, or with sudo for apt).
#
#   ./sluice.sh demo    install what is missing, build (Release), start a local S3 store unless
#                       AWS_ENDPOINT_URL is set, upload a sample dataset, download it with
#                       sluice cp and run a training job on it with sluice train
#   ./sluice.sh test    install, build, start the store and run every test (ctest); ends with
#                       the line "N passed, N failed"
#   ./sluice.sh build   install and build only
#   ./sluice.sh deps    install the Debian packages only
#
# SLUICE_BUILD_DIR (default ./build) chooses the build directory.
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
  ceph-mon ceph-osd radosgw uuid-runtime curl iproute2 procps python3 bubblewrap
  libfuse3-dev fuse3 zlib1g-dev
)

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  deps
  log "building in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$JOBS"
}

run_tests() {
  build
  log "running the tests (ctest)"
  local out=$BUILD/ctest-output.txt rc=0
  # The store starts once for the run (ctest fixture local_s3) and stops at the end, also on failure.
  ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" "$@" 2>&1 | tee "$out" || rc=$?
  local total failed
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$out" | tail -1)
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$out" | tail -1)
  if [[ -z $total ]]; then
    echo "0 passed, 1 failed"
    return 1
  fi
  echo "$((total - failed)) passed, $failed failed"
  return "$rc"
}

demo() {
  build
  local sluice=$BUILD/sluice
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
    "$ROOT/scripts/local-s3" start --dir "$work/store" >/dev/null
    started_store=1
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
  local job=demo-text-classifier-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$work/fsx"
  cp -r "$work/dataset/records/validation" "$work/fsx/validation"
  printf '{"fs-0123456789abcdef0": "%s"}\n' "$work/fsx" > "$work/file-systems.json"
  sed -e "s|@JOB_NAME@|$job|g" -e "s|@BUCKET@|$bucket|g" -e "s|@EXAMPLE_DIR@|$ROOT/examples/text-classifier|g" -e "s|@REPO_DIR@|$ROOT|g" \
    "$ROOT/examples/text-classifier/job.json.in" > "$work/job.json"
  log "the main job: sluice train $work/job.json"
  "$sluice" --log-level info train "$work/job.json" --work-dir "$work/jobs" --file-systems "$work/file-systems.json"
  log "status: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["TrainingJobStatus"], d["ModelArtifacts"]["S3ModelArtifacts"])' "$work/jobs/$job/status.json")"
  "$sluice" cp -q "s3://$bucket/output/$job/output/model.tar.gz" "$work/model.tar.gz"
  log "model.tar.gz holds: $(tar -tzf "$work/model.tar.gz" | tr '\n' ' ')"
}

case ${1:-} in
  demo) demo ;;
  test) shift; run_tests "$@" ;;
  build) build ;;
  deps) deps ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
