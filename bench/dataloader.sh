#!/usr/bin/env bash
# bench/dataloader.sh: the number users feel: a PyTorch DataLoader training loop fed through each
# input mode (local disk, Sluice File, FastFile and Pipe) and through the peers (s3fs, rclone mount,
# boto3 by hand), on a loopback S3 store (Ceph RGW from scripts/local-s3). See bench/README.md.
#
#   bench/dataloader.sh [--rounds N] [--shapes LIST] [--sources LIST] [--workers "0 2 4"] [options]
#
# Options:
#   --rounds N          timed loops per (shape, source, workers) (default 3); the table shows medians
#   --shapes LIST       comma-separated subset of: small, shards, recordio (default: all three)
#   --sources LIST      comma-separated subset of: local, file, fastfile, pipe, s3fs, rclone, boto3
#                       (default: all; pipe applies to recordio only)
#   --workers LIST      the DataLoader's num_workers, blank- or comma-separated (default "0 2 4")
#   --batch N           batch size (default 64)
#   --epochs N          passes over the data in each timed loop (default 1); with 2 or more the report
#                       adds a table of the later epochs (the steady state of a training run: caches warm)
#   --pipe-no-spread    Pipe loops with PipeIterableDataset(spread=False): with workers, worker 0 alone
#                       reads and decodes, the others yield nothing (the behaviour before records were
#                       shared among the workers); to compare the two in separate runs
#   --compute-ms MS     the data-stall loops: a sleep of MS per batch (default 15); 0: no stall loops
#   --stall-workers N   num_workers of the stall loops (default: the largest of --workers)
#   --small-count N     files of the small shape (default 20000)
#   --small-size BYTES  size of each small file (default 10240)
#   --shard-count N     tar shards (and RecordIO files) (default 8)
#   --shard-mib N       size of each shard in MiB (default 128)
#   --sample-kib N      size of each sample of shards and recordio in KiB (default 100)
#   --json FILE         also write every run, the medians and ratios as JSON to FILE
#   --keep              keep the temporary directory (data, logs, results) at the end (the store and
#                       every mount are stopped all the same); its path is printed
#   --sluice BIN        the sluice binary (default build/sluice; when that does not exist, build it
#                       with cmake + ninja into --build-dir, incrementally)
#   --build-dir DIR     where to build sluice when build/sluice is missing (default /tmp/bench-build)
#   --workdir DIR       parent of the temporary directory: the store, the data (the local disk
#                       source reads it there), File mode's downloads, the mount points
#                       (default $TMPDIR or /tmp)
#   --mount-timeout S   bound on a mount becoming live (default 30 s)
#   --run-timeout S     bound on one loop, the download included (default 900 s); a source past it
#                       is marked "timeout" and skipped for that shape's remaining loops
#   -h, --help
#
# Runs as root (it drops the page cache and mounts FUSE file systems). Without AWS_ENDPOINT_URL it
# starts its own store and stops it (and removes everything it wrote) on any exit, Ctrl-C
# included; every mount it made is unmounted, every daemon and job it started is stopped. With
# AWS_ENDPOINT_URL (plus AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) it uses that store, which
# must be on loopback, in a fresh bucket that it deletes at the end.
set -euo pipefail

readonly PROG=dataloader
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
export LC_ALL=C   # EPOCHREALTIME with a '.', byte-wise sort order

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------------------------------------------
# Arguments

ROUNDS=3
SHAPES_ARG=small,shards,recordio
SOURCES_ARG=local,file,fastfile,pipe,s3fs,rclone,boto3
WORKERS_ARG="0 2 4"
BATCH=64
EPOCHS=1
PIPE_SPREAD=1
COMPUTE_MS=15
STALL_WORKERS=''
SMALL_COUNT=20000
SMALL_SIZE=10240
SHARD_COUNT=8
SHARD_MIB=128
SAMPLE_KIB=100
JSON_OUT=''
KEEP=0
SLUICE_BIN=''
BUILD_DIR=/tmp/bench-build
WORK_PARENT=${TMPDIR:-/tmp}
MOUNT_TIMEOUT=30
RUN_TIMEOUT=900
readonly PREFIX=dl    # s3://BUCKET/dl/small/f000000, dl/shards/shard-000000.tar, dl/recordio/part-000000.rec

while (($#)); do
  case $1 in
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --shapes) need_value "$@"; SHAPES_ARG=$2; shift 2 ;;
    --sources) need_value "$@"; SOURCES_ARG=$2; shift 2 ;;
    --workers) need_value "$@"; WORKERS_ARG=$2; shift 2 ;;
    --batch) need_value "$@"; BATCH=$2; shift 2 ;;
    --epochs) need_value "$@"; EPOCHS=$2; shift 2 ;;
    --pipe-no-spread) PIPE_SPREAD=0; shift ;;
    --compute-ms) need_value "$@"; COMPUTE_MS=$2; shift 2 ;;
    --stall-workers) need_value "$@"; STALL_WORKERS=$2; shift 2 ;;
    --small-count) need_value "$@"; SMALL_COUNT=$2; shift 2 ;;
    --small-size) need_value "$@"; SMALL_SIZE=$2; shift 2 ;;
    --shard-count) need_value "$@"; SHARD_COUNT=$2; shift 2 ;;
    --shard-mib) need_value "$@"; SHARD_MIB=$2; shift 2 ;;
    --sample-kib) need_value "$@"; SAMPLE_KIB=$2; shift 2 ;;
    --json) need_value "$@"; JSON_OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --sluice) need_value "$@"; SLUICE_BIN=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --workdir) need_value "$@"; WORK_PARENT=$2; shift 2 ;;
    --mount-timeout) need_value "$@"; MOUNT_TIMEOUT=$2; shift 2 ;;
    --run-timeout) need_value "$@"; RUN_TIMEOUT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) log "unknown argument: $1"; usage 2 ;;
  esac
done

is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be between 1 and 50"
is_uint "$BATCH" && ((BATCH >= 1 && BATCH <= 100000)) || die "--batch must be between 1 and 100000"
is_uint "$EPOCHS" && ((EPOCHS >= 1 && EPOCHS <= 20)) || die "--epochs must be between 1 and 20"
is_uint "$COMPUTE_MS" && ((COMPUTE_MS <= 10000)) || die "--compute-ms must be a whole number of ms up to 10000"
is_uint "$SMALL_COUNT" && ((SMALL_COUNT >= 1 && SMALL_COUNT <= 999999)) || die "--small-count must be between 1 and 999999"
is_uint "$SMALL_SIZE" && ((SMALL_SIZE >= 1 && SMALL_SIZE <= 67108864)) || die "--small-size must be between 1 and 67108864 bytes"
is_uint "$SHARD_COUNT" && ((SHARD_COUNT >= 1 && SHARD_COUNT <= 1000)) || die "--shard-count must be between 1 and 1000"
is_uint "$SHARD_MIB" && ((SHARD_MIB >= 1 && SHARD_MIB <= 4096)) || die "--shard-mib must be between 1 and 4096"
is_uint "$SAMPLE_KIB" && ((SAMPLE_KIB >= 1 && SAMPLE_KIB <= 65536)) || die "--sample-kib must be between 1 and 65536"
((SHARD_COUNT * SHARD_MIB <= 8192)) || die "--shard-count x --shard-mib must be at most 8192 MiB (the store keeps data in RAM)"
is_uint "$MOUNT_TIMEOUT" && ((MOUNT_TIMEOUT >= 1)) || die "--mount-timeout must be a positive number of seconds"
is_uint "$RUN_TIMEOUT" && ((RUN_TIMEOUT >= 1)) || die "--run-timeout must be a positive number of seconds"

ALL_SHAPES=(small shards recordio)
ALL_SOURCES=(local file fastfile pipe s3fs rclone boto3)
IFS=, read -r -a SHAPES <<<"$SHAPES_ARG"
((${#SHAPES[@]})) || die "--shapes is empty"
for s in "${SHAPES[@]}"; do [[ " ${ALL_SHAPES[*]} " == *" $s "* ]] || die "unknown shape '$s' (${ALL_SHAPES[*]})"; done
IFS=, read -r -a SOURCES <<<"$SOURCES_ARG"
((${#SOURCES[@]})) || die "--sources is empty"
for s in "${SOURCES[@]}"; do [[ " ${ALL_SOURCES[*]} " == *" $s "* ]] || die "unknown source '$s' (${ALL_SOURCES[*]})"; done
read -r -a WORKERS <<<"${WORKERS_ARG//,/ }"
((${#WORKERS[@]})) || die "--workers is empty"
for w in "${WORKERS[@]}"; do is_uint "$w" && ((w <= 64)) || die "--workers: '$w' is not a number of workers from 0 to 64"; done
if [[ -z $STALL_WORKERS ]]; then
  STALL_WORKERS=$(printf '%s\n' "${WORKERS[@]}" | sort -n | tail -n 1)
fi
is_uint "$STALL_WORKERS" && ((STALL_WORKERS <= 64)) || die "--stall-workers must be a number of workers from 0 to 64"
((COMPUTE_MS > 0)) || STALL_WORKERS=''
has_source() { [[ " ${SOURCES[*]} " == *" $1 "* ]]; }
is_mount() { [[ $1 == fastfile || $1 == s3fs || $1 == rclone ]]; }
applies() { [[ $2 != pipe || $1 == recordio ]]; }   # $1 shape, $2 source

if [[ -n $JSON_OUT ]]; then
  JSON_OUT=$(realpath -m -- "$JSON_OUT")
  [[ -d $(dirname "$JSON_OUT") && -w $(dirname "$JSON_OUT") ]] || die "--json: directory $(dirname "$JSON_OUT") does not exist or is not writable"
fi
[[ -d $WORK_PARENT && -w $WORK_PARENT ]] || die "--workdir $WORK_PARENT is not a writable directory"
WORK_PARENT=$(realpath -- "$WORK_PARENT")
[[ $WORK_PARENT != *[[:space:]]* ]] || die "--workdir must not contain white space (mount points live under it)"
((EUID == 0)) || die "run as root: it drops the page cache (/proc/sys/vm/drop_caches) and mounts FUSE file systems"
[[ -w /proc/sys/vm/drop_caches ]] || die "/proc/sys/vm/drop_caches is not writable (a container without it cannot run this benchmark)"

# ---------------------------------------------------------------------------------------------------
# Packages: the peers, PyTorch, boto3

PY=/usr/bin/python3
ensure_packages() {
  local missing=() c
  for c in timeout flock; do command -v "$c" >/dev/null 2>&1 || missing+=(coreutils util-linux); done
  [[ -x $PY ]] || missing+=(python3)
  if has_source s3fs; then command -v s3fs >/dev/null 2>&1 || missing+=(s3fs); fi
  if has_source rclone; then command -v rclone >/dev/null 2>&1 || missing+=(rclone); fi
  if has_source fastfile || has_source s3fs || has_source rclone; then
    command -v fusermount3 >/dev/null 2>&1 || missing+=(fuse3)
  fi
  [[ -x $PY ]] && "$PY" -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  if has_source boto3; then [[ -x $PY ]] && "$PY" -c 'import boto3' 2>/dev/null || missing+=(python3-boto3); fi
  ((${#missing[@]})) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  fi
}
ensure_packages
"$PY" -c 'import torch' || die "$PY cannot import torch"
[[ -e /dev/fuse ]] || modprobe fuse 2>/dev/null || true
if has_source fastfile || has_source s3fs || has_source rclone; then
  [[ -c /dev/fuse ]] || die "/dev/fuse is missing: this machine (or container) cannot mount FUSE file systems"
fi
LOOP=$ROOT/bench/dataloader_loop.py

# ---------------------------------------------------------------------------------------------------
# Temporary directory, cleanup

WORK=''
STORE_DIR=''
STORE_STARTED=0
EXTERNAL_STORE=0
BUCKET=''
BUCKET_CREATED=0
CHILD=''

cleanup() {
  local rc=$? left=0
  trap - EXIT INT TERM
  set +e
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null   # a loop, or the job helper (it stops its sluice train / cp)
    wait "$CHILD" 2>/dev/null
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    [[ -e $WORK/job.pid ]] && { kill -TERM "$(our_pid "$WORK/job.pid")" 2>/dev/null; stop_daemon "$WORK/job.pid"; }
    bench_unmount_all || left=1
  fi
  if ((EXTERNAL_STORE && BUCKET_CREATED)); then
    log "deleting bucket $BUCKET from $AWS_ENDPOINT_URL"
    timeout 600 "$SLUICE_BIN" rb --force "s3://$BUCKET" >/dev/null 2>&1 || log "warning: could not delete bucket $BUCKET"
  fi
  if ((STORE_STARTED)); then
    "$ROOT/scripts/local-s3" stop --dir "$STORE_DIR" --purge >/dev/null 2>&1 ||
      log "warning: 'scripts/local-s3 stop --dir $STORE_DIR --purge' failed; its daemons may still run"
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    if ((left)); then
      log "warning: a mount under $WORK/mnt is still there; leaving $WORK in place"
    elif ((KEEP)); then
      rm -rf --one-file-system -- "$WORK/store" "$WORK/mnt" "$WORK/copy" "$WORK/jobs"
      log "kept $WORK (data, logs, results.jsonl)"
    else
      rm -rf --one-file-system -- "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$WORK_PARENT/sluice-dataloader.XXXXXX")
WORK=$(realpath -- "$WORK")
mkdir -p "$WORK/logs" "$WORK/mnt" "$WORK/pids" "$WORK/aws" "$WORK/out" "$WORK/copy" "$WORK/jobs" "$WORK/specs"
bench_loopback_only "$WORK/aws"

if [[ -z $SLUICE_BIN && -x $ROOT/build/sluice ]]; then SLUICE_BIN=$ROOT/build/sluice; fi
bench_sluice "$BUILD_DIR" "$WORK/logs/build.log"
declare -A UNAVAILABLE
if has_source fastfile && ! "$SLUICE_BIN" mount --help >/dev/null 2>&1; then
  UNAVAILABLE[fastfile]="$SLUICE_BIN has no 'mount' command"
fi
if has_source pipe && ! "$SLUICE_BIN" train --help 2>&1 | grep -q -- '--isolation'; then
  UNAVAILABLE[pipe]="$SLUICE_BIN has no 'train --isolation'"
fi

# ---------------------------------------------------------------------------------------------------
# The store, the data

if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
  EXTERNAL_STORE=1
  bench_external_store
  BUCKET=sluice-dataloader-$(date +%s)-$$
else
  STORE_DIR=$WORK/store
  bench_start_local_store "$STORE_DIR"
  BUCKET=dataloader
fi
bench_store_env
bench_peer_config
"$SLUICE_BIN" mb "s3://$BUCKET" >"$WORK/logs/mb.log" 2>&1 || { cat "$WORK/logs/mb.log" >&2; die "could not make bucket $BUCKET at $EP"; }
BUCKET_CREATED=1

DATA=$WORK/data
EXPECT=$DATA/expect.json
SAMPLE_SIZE=$((SAMPLE_KIB * 1024))
log "generating the data in $DATA (${SHAPES[*]})"
"$PY" "$LOOP" generate "$DATA" --shapes "$(IFS=,; echo "${SHAPES[*]}")" --small-count "$SMALL_COUNT" \
  --small-size "$SMALL_SIZE" --shard-count "$SHARD_COUNT" --shard-mib "$SHARD_MIB" --sample-size "$SAMPLE_SIZE" ||
  die "generating the data failed"
for shape in "${SHAPES[@]}"; do
  t0=$EPOCHREALTIME
  timeout 1800 "$SLUICE_BIN" cp -r --quiet "$DATA/$shape" "s3://$BUCKET/$PREFIX/$shape/" >"$WORK/logs/upload-$shape.log" 2>&1 ||
    { tail -n 5 "$WORK/logs/upload-$shape.log" >&2; die "the upload of $shape with 'sluice cp -r' failed"; }
  # the store's listing must be exactly the generated files
  "$PY" -c 'import json, sys; e = json.load(open(sys.argv[1]))[sys.argv[2]]
import os
for f in e["files"]: print(f"{sys.argv[3]}/{f}\t{os.path.getsize(os.path.join(sys.argv[4], f))}")' \
    "$EXPECT" "$shape" "$PREFIX/$shape" "$DATA/$shape" | sort >"$WORK/expect-$shape.tsv"
  "$SLUICE_BIN" ls -r "s3://$BUCKET/$PREFIX/$shape/" | awk '{ print $4 "\t" $3 }' | sort >"$WORK/listing-$shape.tsv" ||
    die "'sluice ls -r s3://$BUCKET/$PREFIX/$shape/' failed"
  cmp -s "$WORK/expect-$shape.tsv" "$WORK/listing-$shape.tsv" ||
    die "after the upload the store's listing of s3://$BUCKET/$PREFIX/$shape/ differs from the generated files"
  log "uploaded $shape ($(wc -l <"$WORK/expect-$shape.tsv") objects) in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
done

# ---------------------------------------------------------------------------------------------------
# Runs

RESULTS=$WORK/results.jsonl   # one run a line: the loop's JSON plus the shell's fields
: >"$RESULTS"
declare -A SKIP

run_bg() {  # $1 stdout, $2 stderr, then the command: under timeout, in the background, waited; sets RC
  local o=$1 e=$2
  shift 2
  RC=0
  timeout -k 5 "$RUN_TIMEOUT" "$@" </dev/null >"$o" 2>"$e" &
  CHILD=$!
  wait "$CHILD" || RC=$?
  CHILD=''
}
tail_of() { { grep -v '^\s*$' "$@" 2>/dev/null || true; } | tail -n 3 | tr '\t\r\n' '   ' | cut -c1-300; }

write_pipe_spec() {  # $1 spec, $2 job name, then the command
  local spec=$1 name=$2
  shift 2
  "$PY" - "$spec" "$name" "s3://$BUCKET/$PREFIX/recordio/" "file://$WORK/out/jobs" "$@" <<'EOF'
import json, sys
spec, name, uri, out = sys.argv[1:5]
job = {
    "TrainingJobName": name,
    "RoleArn": "arn:aws:iam::123456789012:role/service-role/SluiceBenchRole",
    "AlgorithmSpecification": {"TrainingInputMode": "Pipe", "TrainingImage": "bench:latest",
                               "ContainerEntrypoint": sys.argv[5:]},
    "InputDataConfig": [{"ChannelName": "train", "RecordWrapperType": "None", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}}}],
    "OutputDataConfig": {"S3OutputPath": out, "CompressionType": "NONE"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}
with open(spec, "w") as f:
    json.dump(job, f, indent=2)
EOF
}

# One loop: $1 shape, $2 source, $3 workers, $4 kind (rate: no compute; stall: --compute-ms), $5 round
run_one() {
  local shape=$1 src=$2 w=$3 kind=$4 round=$5 status=ok note='' extra=() ms=0 id out err mnt pidf pid
  id=$shape-$src-w$w-$kind-r$round
  out=$WORK/out/$id.json err=$WORK/logs/$id.err
  local epochs=$EPOCHS
  [[ $kind == stall ]] && ms=$COMPUTE_MS epochs=1   # the stall loops: the first epoch only
  local common=(shape="$shape" source="$src" workers="$w" kind="$kind" round="$round")
  if ! applies "$shape" "$src"; then
    "$PY" "$LOOP" record "$RESULTS" /dev/null "${common[@]}" status=n/a >/dev/null
    return 0
  fi
  local why=${UNAVAILABLE[$src]:-${SKIP[$shape/$src]:-}}
  if [[ -n $why ]]; then
    "$PY" "$LOOP" record "$RESULTS" /dev/null "${common[@]}" status=skipped note="$why" >/dev/null
    return 0
  fi
  local loop=("$PY" "$LOOP" loop --shape "$shape" --source "$src" --workers "$w" --batch "$BATCH"
              --compute-ms "$ms" --seed "$round" --epochs "$epochs" --expect "$EXPECT" --out "$out")
  ((PIPE_SPREAD)) || loop+=(--no-spread)
  rm -f -- "$out"
  drop_caches
  case $src in
    local) run_bg /dev/null "$err" "${loop[@]}" --root "$DATA" ;;
    boto3) run_bg /dev/null "$err" "${loop[@]}" --root "$PREFIX" --bucket "$BUCKET" ;;
    file)
      local rc wall peak
      rm -rf --one-file-system -- "$WORK/copy/$shape"
      run_bg "$WORK/out/job.out" "$err" "$PY" "$LOOP" job "$WORK/job.pid" "$WORK/logs/$id.cp.log" "$RUN_TIMEOUT" -- \
        "$SLUICE_BIN" cp -r --quiet "s3://$BUCKET/$PREFIX/$shape/" "$WORK/copy/$shape"
      read -r rc wall peak <"$WORK/out/job.out" || rc=$RC
      if [[ $rc == 0 ]]; then
        extra=(pre_s="$wall" sluice_rss_kib="$peak")
        run_bg /dev/null "$err" "${loop[@]}" --root "$WORK/copy"
      else
        status=failed note="sluice cp: exit $rc: $(tail_of "$WORK/logs/$id.cp.log")"
        [[ $rc == 124 ]] && status=timeout
      fi
      rm -rf --one-file-system -- "$WORK/copy/$shape" ;;
    pipe)
      local rc wall peak name=bench-$id hs
      rm -rf --one-file-system -- "${WORK:?}/jobs"/* "$WORK/out/jobs"
      write_pipe_spec "$WORK/specs/$name.json" "$name" "${loop[@]}"
      sync
      run_bg "$WORK/out/job.out" "$err" "$PY" "$LOOP" job "$WORK/job.pid" "$WORK/logs/$id.train.log" "$RUN_TIMEOUT" -- \
        "$SLUICE_BIN" train "$WORK/specs/$name.json" --work-dir "$WORK/jobs" --isolation none
      read -r rc wall peak <"$WORK/out/job.out" || rc=$RC
      if [[ $rc != 0 ]]; then
        status=failed note="sluice train: exit $rc: $(tail_of "$WORK/logs/$id.train.log")"
        [[ $rc == 124 ]] && status=timeout
      elif ! hs=$("$PY" "$LOOP" head-start "$WORK/jobs/$name/status.json" "$out" 2>>"$err") || [[ $hs != Completed\ * ]]; then
        status=failed note="job not Completed (${hs:-no status}): $(tail_of "$WORK/logs/$id.train.log" "$err")"
      else
        extra=(sluice_rss_kib="$peak" head_start_s="${hs#* }")
      fi ;;
    fastfile|s3fs|rclone)
      local tool=$src
      [[ $src == fastfile ]] && tool=sluice
      mnt=$WORK/mnt/$id pidf=$WORK/pids/$id.pid
      mkdir -p "$mnt"
      mount_cmd "$tool" "$mnt"
      run_bg "$WORK/out/mount.out" "$WORK/out/mount.err" "$PY" "$LOOP" mount "$pidf" "$WORK/logs/$id.mount.log" "$mnt" "$MOUNT_TIMEOUT" -- "${CMD[@]}"
      pid=$(our_pid "$pidf") || pid=''
      if ((RC != 0)); then
        status=failed note="mount: $(tail_of "$WORK/out/mount.err" "$WORK/logs/$id.mount.log")"
        SKIP[$shape/$src]="the mount failed in an earlier loop"
      else
        drop_caches
        run_bg /dev/null "$err" "${loop[@]}" --root "$mnt"
        local rss=''
        [[ -n $pid ]] && rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || rss=''
        if [[ $src == fastfile ]]; then extra=(sluice_rss_kib="$rss"); else extra=(daemon_rss_kib="$rss"); fi
      fi
      local lrc=$RC
      unmount "$tool" "$mnt" || log "warning: could not unmount $mnt"
      stop_daemon "$pidf"
      rm -f -- "$pidf"
      rmdir -- "$mnt" 2>/dev/null || true
      RC=$lrc ;;
  esac
  if [[ $status == ok ]] && ((RC == 124 || RC == 137)); then
    status=timeout note="ran past --run-timeout ${RUN_TIMEOUT} s; skipped for the remaining loops of $shape"
    SKIP[$shape/$src]="timed out in an earlier loop"
  elif [[ $status == ok && ! -s $out ]]; then
    status=failed note="the loop wrote no result (exit $RC): $(tail_of "$err")"
  fi
  [[ $status == ok ]] || note=${note:-exit $RC}
  local msg
  msg=$("$PY" "$LOOP" record "$RESULTS" "$out" "${common[@]}" status="$status" note="$note" "${extra[@]}")
  log "$(printf '[%-8s] round %d/%d %-8s workers %d %-5s %s' "$shape" "$round" "$ROUNDS" "$src" "$w" "$kind" "$msg")"
}

read -r LOAD_START _ </proc/loadavg
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: the 1-minute load average is $LOAD_START on $(nproc) CPUs: other work shares the machine with the store and the loops, so absolute numbers will be low and noisy"
fi
T_START=$EPOCHREALTIME
for shape in "${SHAPES[@]}"; do
  for ((r = 1; r <= ROUNDS; r++)); do
    for kind in rate stall; do
      if [[ $kind == rate ]]; then ws=("${WORKERS[@]}"); else ws=($STALL_WORKERS); fi
      for w in "${ws[@]}"; do
        # rotate the order each round so no source always runs first (or right after another)
        for ((i = 0; i < ${#SOURCES[@]}; i++)); do
          src=${SOURCES[$(((i + r - 1) % ${#SOURCES[@]}))]}
          if ((r > 1)) && ! applies "$shape" "$src"; then continue; fi
          run_one "$shape" "$src" "$w" "$kind" "$r"
        done
      done
    done
  done
done
T_END=$EPOCHREALTIME

# ---------------------------------------------------------------------------------------------------
# Report

read -r LOAD_END _ </proc/loadavg
first_line() { "$@" 2>&1 | head -n 1 || true; }
VERSIONS=$(
  printf 'sluice: %s\n' "$(first_line "$SLUICE_BIN" --version) ($SLUICE_BIN, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git -C "$ROOT" status --porcelain -- src CMakeLists.txt 2>/dev/null) ]] && echo ', src modified'))"
  printf 'torch: %s, python %s\n' "$("$PY" -c 'import torch; print(torch.__version__)')" "$("$PY" -c 'import platform; print(platform.python_version())')"
  if has_source boto3; then printf 'boto3: %s\n' "$("$PY" -c 'import boto3; print(boto3.__version__)')"; fi
  if has_source s3fs; then printf 's3fs: %s\n' "$(first_line s3fs --version)"; fi
  if has_source rclone; then printf 'rclone: %s\n' "$(first_line rclone version)"; fi
)
DESCRIBE="small $SMALL_COUNT x $SMALL_SIZE B; shards and recordio $SHARD_COUNT x $SHARD_MIB MiB of $SAMPLE_KIB KiB samples; batch $BATCH; $EPOCHS epoch(s) a loop$( ((PIPE_SPREAD)) || echo '; pipe without spread (worker 0 alone)')"
ENVIRONMENT="endpoint $EP ($( ((STORE_STARTED)) && echo 'scripts/local-s3, Ceph RGW memstore' || echo 'from AWS_ENDPOINT_URL')); local disk $(df -P "$DATA" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$DATA")); $(nproc) CPUs, $(uname -sr); load average (1 min) $LOAD_START before the runs, $LOAD_END after; runs took $(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.0f", b - a }') s"
"$PY" "$LOOP" report "$RESULTS" --shapes "$(IFS=,; echo "${SHAPES[*]}")" --sources "$(IFS=,; echo "${SOURCES[*]}")" \
  --workers "${WORKERS[*]}" --stall-workers "$STALL_WORKERS" --compute-ms "$COMPUTE_MS" --rounds "$ROUNDS" \
  --describe "$DESCRIBE" --environment "$ENVIRONMENT" --versions "$VERSIONS" ${JSON_OUT:+--json "$JSON_OUT"}

# Exit 1 when any loop failed, timed out or could not run, so a wrapper notices.
if grep -q -E '"status": "(failed|timeout|skipped)"' "$RESULTS"; then
  log "some loops failed or were skipped (see above)"
  exit 1
fi
