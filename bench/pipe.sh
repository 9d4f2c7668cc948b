#!/usr/bin/env bash
# bench/pipe.sh: `sluice train` in Pipe input mode against File input mode on the same data, on a
# loopback S3 store (Ceph RGW from scripts/local-s3).
#
#   bench/pipe.sh [--rounds N] [--datasets LIST] [options]
#
# Options:
#   --rounds N          timed jobs per mode and dataset (default 3); the table shows medians
#   --datasets LIST     comma-separated subset of: big, small (default: both)
#   --big-mib N         size of the big dataset in MiB, in 8 MiB objects (default 1024: 128 objects)
#   --small-count N     number of objects of the small dataset (default 10000)
#   --small-kib N       size of each small object in KiB (default 100)
#   --isolation MODE    `sluice train --isolation` of every job: none (default), auto or bubblewrap
#   --reader KIND       the Pipe job's reader: c (default; compiled with cc into the temporary
#                       directory) or python (os.read of 1 MiB); c falls back to python without cc
#   --out FILE          also write every job and the medians as JSON to FILE
#   --sluice BIN        the sluice binary (default build/sluice; when that does not exist, build it
#                       with cmake + ninja into --build-dir, incrementally)
#   --build-dir DIR     where to build sluice when build/sluice is missing (default /tmp/bench-build)
#   --workdir DIR       parent of the temporary directory holding the store, the generated data
#                       and the jobs' work directories (default $TMPDIR or /tmp)
#   --run-timeout S     bound on one job (default 300 s); a job past it is stopped and marked
#                       "timeout", and that mode skips the dataset's remaining rounds
#   -h, --help
#
# Without AWS_ENDPOINT_URL it starts its own store and stops it (and removes everything it wrote)
# on any exit, Ctrl-C included; a job still running is stopped. With AWS_ENDPOINT_URL (plus
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) it uses that store, which must be on loopback, in a
# fresh bucket that it deletes at the end. See bench/README.md.
set -euo pipefail

readonly PROG=pipe
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
export LC_ALL=C   # EPOCHREALTIME with a '.', byte-wise sort order

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------------------------------------------
# Arguments

ROUNDS=3
DATASETS_ARG=big,small
BIG_MIB=1024
SMALL_COUNT=10000
SMALL_KIB=100
ISOLATION=none
READER_KIND=c
OUT=''
SLUICE_BIN=''
BUILD_DIR=/tmp/bench-build
WORK_PARENT=${TMPDIR:-/tmp}
RUN_TIMEOUT=300
readonly BIG_OBJECT=8388608     # the big dataset's objects: 8 MiB, each a single PUT


while (($#)); do
  case $1 in
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --datasets) need_value "$@"; DATASETS_ARG=$2; shift 2 ;;
    --big-mib) need_value "$@"; BIG_MIB=$2; shift 2 ;;
    --small-count) need_value "$@"; SMALL_COUNT=$2; shift 2 ;;
    --small-kib) need_value "$@"; SMALL_KIB=$2; shift 2 ;;
    --isolation) need_value "$@"; ISOLATION=$2; shift 2 ;;
    --reader) need_value "$@"; READER_KIND=$2; shift 2 ;;
    --out) need_value "$@"; OUT=$2; shift 2 ;;
    --sluice) need_value "$@"; SLUICE_BIN=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --workdir) need_value "$@"; WORK_PARENT=$2; shift 2 ;;
    --run-timeout) need_value "$@"; RUN_TIMEOUT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) log "unknown argument: $1"; usage 2 ;;
  esac
done

is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be between 1 and 50"
is_uint "$BIG_MIB" && ((BIG_MIB >= 8 && BIG_MIB <= 4096 && BIG_MIB % 8 == 0)) ||
  die "--big-mib must be a multiple of 8 between 8 and 4096 (the store keeps data in RAM)"
is_uint "$SMALL_COUNT" && ((SMALL_COUNT >= 1 && SMALL_COUNT <= 99999)) || die "--small-count must be between 1 and 99999"
is_uint "$SMALL_KIB" && ((SMALL_KIB >= 1 && SMALL_KIB <= 8192)) || die "--small-kib must be between 1 and 8192"
is_uint "$RUN_TIMEOUT" && ((RUN_TIMEOUT >= 1)) || die "--run-timeout must be a positive number of seconds"
case $ISOLATION in none|auto|bubblewrap) ;; *) die "--isolation must be none, auto or bubblewrap" ;; esac
case $READER_KIND in c|python) ;; *) die "--reader must be c or python" ;; esac

readonly BIG_SIZE=$((BIG_MIB * 1048576))
readonly BIG_COUNT=$((BIG_SIZE / BIG_OBJECT))
readonly SMALL_SIZE=$((SMALL_KIB * 1024))
declare -A DS_COUNT=([big]=$BIG_COUNT [small]=$SMALL_COUNT)
declare -A DS_SIZE=([big]=$BIG_OBJECT [small]=$SMALL_SIZE)

IFS=, read -r -a DATASETS <<<"$DATASETS_ARG"
((${#DATASETS[@]})) || die "--datasets is empty"
for d in "${DATASETS[@]}"; do [[ $d == big || $d == small ]] || die "unknown dataset '$d' (big, small)"; done

if [[ -n $OUT ]]; then
  OUT=$(realpath -m -- "$OUT")
  [[ -d $(dirname "$OUT") && -w $(dirname "$OUT") ]] || die "--out: directory $(dirname "$OUT") does not exist or is not writable"
fi
[[ -d $WORK_PARENT && -w $WORK_PARENT ]] || die "--workdir $WORK_PARENT is not a writable directory"
WORK_PARENT=$(realpath -- "$WORK_PARENT")

# ---------------------------------------------------------------------------------------------------
# Packages: what this script itself uses (the store's own packages come with scripts/local-s3)

ensure_packages() {
  local -A pkg_of=([python3]=python3 [timeout]=coreutils [split]=coreutils [find]=findutils)
  local missing=() c sudo=()
  for c in "${!pkg_of[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${pkg_of[$c]}"); done
  if [[ $ISOLATION == bubblewrap ]] && ! command -v bwrap >/dev/null 2>&1; then missing+=(bubblewrap); fi
  ((${#missing[@]})) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install ${missing[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  fi
}
ensure_packages
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

# ---------------------------------------------------------------------------------------------------
# Temporary directory, cleanup

WORK=''
STORE_DIR=''
STORE_STARTED=0
EXTERNAL_STORE=0
BUCKET=''
BUCKET_CREATED=0
CHILD=''

# The `sluice train` we started, from its pid file, if it is still alive and still ours (its
# command line names our work directory).
our_pid() {  # $1 pid file
  local pid
  [[ -s $1 ]] || return 1
  read -r pid <"$1" || return 1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK/" || return 1
  echo "$pid"
}

stop_job() {  # $1 pid file: SIGTERM (sluice stops its command and its channels), then SIGKILL
  local pid i
  pid=$(our_pid "$1") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do our_pid "$1" >/dev/null || return 0; sleep 0.1; done
  log "warning: sluice train (pid $pid) did not stop after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null   # the job helper stops its sluice train and waits for it
    wait "$CHILD" 2>/dev/null
  fi
  [[ -n $WORK && -e $WORK/job.pid ]] && stop_job "$WORK/job.pid"
  if ((EXTERNAL_STORE && BUCKET_CREATED)); then
    log "deleting bucket $BUCKET from $AWS_ENDPOINT_URL"
    timeout 600 "$SLUICE_BIN" rb --force "s3://$BUCKET" >/dev/null 2>&1 || log "warning: could not delete bucket $BUCKET"
  fi
  if ((STORE_STARTED)); then
    "$ROOT/scripts/local-s3" stop --dir "$STORE_DIR" --purge >/dev/null 2>&1 ||
      log "warning: 'scripts/local-s3 stop --dir $STORE_DIR --purge' failed; its daemons may still run"
  fi
  [[ -n $WORK && -d $WORK ]] && rm -rf --one-file-system -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$WORK_PARENT/sluice-pipe.XXXXXX")
WORK=$(realpath -- "$WORK")
mkdir -p "$WORK/logs" "$WORK/aws" "$WORK/jobs" "$WORK/specs" "$WORK/out" "$WORK/runs"

bench_loopback_only "$WORK/aws"

# ---------------------------------------------------------------------------------------------------
# sluice

if [[ -z $SLUICE_BIN && -x $ROOT/build/sluice ]]; then SLUICE_BIN=$ROOT/build/sluice; fi
bench_sluice "$BUILD_DIR" "$WORK/logs/build.log"
"$SLUICE_BIN" train --help 2>&1 | grep -q -- '--isolation' || die "$SLUICE_BIN has no 'train --isolation'"

# ---------------------------------------------------------------------------------------------------
# The store

if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
  EXTERNAL_STORE=1
  bench_external_store
  BUCKET=sluice-pipe-$(date +%s)-$$
else
  STORE_DIR=$WORK/store
  bench_start_local_store "$STORE_DIR"
  BUCKET=pipe
fi
bench_store_env

"$SLUICE_BIN" mb "s3://$BUCKET" >"$WORK/logs/mb.log" 2>&1 || { cat "$WORK/logs/mb.log" >&2; die "could not make bucket $BUCKET at $EP"; }
BUCKET_CREATED=1

# ---------------------------------------------------------------------------------------------------
# Data: random bytes, uploaded with `sluice cp -r`, the listing checked

expect_listing() {  # $1 dataset: "key<TAB>size" of every object, sorted
  local n=${DS_COUNT[$1]} s=${DS_SIZE[$1]} w=3
  [[ $1 == small ]] && w=5
  awk -v n="$n" -v s="$s" -v p="$1" -v w="$w" 'BEGIN { for (i = 0; i < n; i++) printf "%s/f%0*d\t%d\n", p, w, i, s }' | sort
}
store_listing() {  # $1 dataset
  "$SLUICE_BIN" ls -r "s3://$BUCKET/$1/" | awk '{ print $4 "\t" $3 }' | sort
}

generate_and_upload() {  # $1 dataset
  local ds=$1 src=$WORK/src/$1 n=${DS_COUNT[$1]} size=${DS_SIZE[$1]} start chunk rc=0 t0 t1 w=3
  [[ $ds == small ]] && w=5
  log "generating $ds: $n x $size bytes of random data"
  mkdir -p "$src"
  # in chunks of at most 1000 objects, so no single head/split pipe holds more than that
  for ((start = 0; start < n; start += 1000)); do
    chunk=$((n - start < 1000 ? n - start : 1000))
    head -c $((chunk * size)) /dev/urandom | split -b "$size" -a "$w" -d --numeric-suffixes="$start" - "$src/f"
  done
  t0=$EPOCHREALTIME
  timeout 1800 "$SLUICE_BIN" cp -r --quiet "$src" "s3://$BUCKET/$ds/" >"$WORK/logs/upload-$ds.log" 2>&1 || rc=$?
  t1=$EPOCHREALTIME
  if ((rc != 0)); then
    tail -n 5 "$WORK/logs/upload-$ds.log" | sed 's/^/    /' >&2
    die "the upload of $ds with 'sluice cp -r' failed (exit $rc)"
  fi
  rm -rf -- "$src"
  expect_listing "$ds" >"$WORK/expect-$ds.tsv"
  store_listing "$ds" >"$WORK/listing-$ds.tsv" || die "'sluice ls -r s3://$BUCKET/$ds/' failed after the upload"
  cmp -s "$WORK/listing-$ds.tsv" "$WORK/expect-$ds.tsv" ||
    die "after the upload the store's listing of s3://$BUCKET/$ds/ differs from the generated objects ($(wc -l <"$WORK/listing-$ds.tsv") listed, $n expected)"
  log "uploaded $ds in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}

for ds in "${DATASETS[@]}"; do generate_and_upload "$ds"; done

# ---------------------------------------------------------------------------------------------------
# The Pipe job's reader: waits for the FIFO, opens it, read()s 1 MiB at a time to EOF, discards,
# and writes {t_start, t_open, t_opened, t_first, t_eof (CLOCK_REALTIME, seconds), bytes, reads}
# to $SM_MODEL_DIR/result.json. The FIFO is $SM_INPUT_DIR/data/train_0: /opt/ml/input/data/train_0
# in a sandbox, the host path with --isolation none.

READER_SRC=$WORK/pipe_reader.c
cat >"$READER_SRC" <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  double t_start = now();
  const char* in = getenv("SM_INPUT_DIR");
  const char* model = getenv("SM_MODEL_DIR");
  if (!in || !model) { fprintf(stderr, "pipe_reader: SM_INPUT_DIR / SM_MODEL_DIR not set\n"); return 2; }
  char fifo[4096], out[4096], tmp[4096];
  snprintf(fifo, sizeof fifo, "%s/data/train_0", in);
  snprintf(out, sizeof out, "%s/result.json", model);
  snprintf(tmp, sizeof tmp, "%s/result.json.tmp", model);
  struct stat st;
  for (int i = 0; stat(fifo, &st) != 0 || !S_ISFIFO(st.st_mode); i++) {   /* wait for it: 60 s */
    if (i >= 60000) { fprintf(stderr, "pipe_reader: no FIFO at %s\n", fifo); return 3; }
    usleep(1000);
  }
  static char buf[1 << 20];
  double t_open = now();
  int fd = open(fifo, O_RDONLY);
  if (fd < 0) { fprintf(stderr, "pipe_reader: open %s: %s\n", fifo, strerror(errno)); return 4; }
  double t_opened = now(), t_first = 0;
  unsigned long long bytes = 0, reads = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "pipe_reader: read %s: %s\n", fifo, strerror(errno));
      return 5;
    }
    if (n == 0) break;
    if (bytes == 0) t_first = now();
    bytes += (unsigned long long)n;
    reads++;
  }
  double t_eof = now();
  close(fd);
  FILE* f = fopen(tmp, "w");
  if (!f) { fprintf(stderr, "pipe_reader: %s: %s\n", tmp, strerror(errno)); return 6; }
  fprintf(f, "{\"reader\": \"c\", \"t_start\": %.6f, \"t_open\": %.6f, \"t_opened\": %.6f, \"t_first\": %.6f, "
             "\"t_eof\": %.6f, \"bytes\": %llu, \"reads\": %llu}\n",
          t_start, t_open, t_opened, t_first, t_eof, bytes, reads);
  if (fclose(f) != 0 || rename(tmp, out) != 0) { fprintf(stderr, "pipe_reader: writing %s failed\n", out); return 6; }
  return 0;
}
EOF
READER_PY=$WORK/pipe_reader.py
cat >"$READER_PY" <<'EOF'
import json, os, stat, sys, time
t_start = time.time()
fifo = os.path.join(os.environ["SM_INPUT_DIR"], "data", "train_0")
deadline = t_start + 60
while True:   # wait for it
    try:
        if stat.S_ISFIFO(os.stat(fifo).st_mode):
            break
    except FileNotFoundError:
        pass
    if time.time() > deadline:
        sys.exit(f"pipe_reader: no FIFO at {fifo}")
    time.sleep(0.001)
t_open = time.time()
fd = os.open(fifo, os.O_RDONLY)
t_opened = time.time()
t_first = 0.0
nbytes = reads = 0
read = os.read
while True:
    b = read(fd, 1 << 20)
    if not b:
        break
    if not nbytes:
        t_first = time.time()
    nbytes += len(b)
    reads += 1
t_eof = time.time()
os.close(fd)
out = os.path.join(os.environ["SM_MODEL_DIR"], "result.json")
with open(out + ".tmp", "w") as f:
    json.dump(dict(reader="python", t_start=t_start, t_open=t_open, t_opened=t_opened, t_first=t_first,
                   t_eof=t_eof, bytes=nbytes, reads=reads), f)
os.rename(out + ".tmp", out)
EOF
READER_NOTE=''
if [[ $READER_KIND == c ]]; then
  CC=$(command -v cc || command -v gcc || command -v clang || true)
  if [[ -z $CC ]] || ! "$CC" -O2 -o "$WORK/pipe_reader" "$READER_SRC" >"$WORK/logs/reader-cc.log" 2>&1; then
    READER_KIND=python READER_NOTE="no C compiler (or it failed): the Python reader is used"
    log "note: $READER_NOTE"
  fi
fi
# The reader is bound into each job's sandbox at its host path (`sluice train --bind`: a sandbox
# has a private /tmp, where the temporary directory usually is); a job directory cannot be made
# before `sluice train` (it refuses a job name that exists).
if [[ $READER_KIND == c ]]; then
  READER_FILE=$WORK/pipe_reader READER_CMD=("$WORK/pipe_reader")
else
  READER_FILE=$READER_PY READER_CMD=("$PY" "$READER_PY")
fi

# ---------------------------------------------------------------------------------------------------
# The job helper: runs one `sluice train`, polls its VmHWM every 20 ms, stops it at the timeout,
# and prints "rc wall_seconds vmhwm_kib" (wall: from starting the process to its exit).

HELPER=$ROOT/bench/dataloader_loop.py   # its `job` command

# ---------------------------------------------------------------------------------------------------
# Jobs

write_spec() {  # $1 spec file, $2 job name, $3 mode (Pipe|File), $4 dataset, $5.. the command
  local spec=$1 name=$2 mode=$3 ds=$4 wrapper=''
  shift 4
  [[ $mode == Pipe ]] && wrapper='"RecordWrapperType": "None", '
  "$PY" - "$spec" "$name" "$mode" "s3://$BUCKET/$ds/" "file://$WORK/out" "$wrapper" "$@" <<'EOF'
import json, sys
spec, name, mode, uri, out, wrapper = sys.argv[1:7]
channel = {"ChannelName": "train", "DataSource": {"S3DataSource": {
    "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}}}
if wrapper:
    channel["RecordWrapperType"] = "None"
job = {
    "TrainingJobName": name,
    "RoleArn": "arn:aws:iam::123456789012:role/service-role/SluiceBenchRole",
    "AlgorithmSpecification": {"TrainingInputMode": mode, "TrainingImage": "bench:latest",
                               "ContainerEntrypoint": sys.argv[7:]},
    "InputDataConfig": [channel],
    "OutputDataConfig": {"S3OutputPath": out, "CompressionType": "NONE"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}
with open(spec, "w") as f:
    json.dump(job, f, indent=2)
EOF
}

RESULTS=$WORK/results.tsv   # dataset mode round status wall_s rss_kib run_json note
: >"$RESULTS"
declare -A SKIP

run_job() {  # $1 dataset, $2 mode (Pipe|File), $3 round
  local ds=$1 mode=$2 round=$3 name spec jobs=$WORK/jobs logf rc=0 out wall hwm status note='' run
  name=bench-${mode,,}-$ds-r$round
  spec=$WORK/specs/$name.json
  logf=$WORK/logs/$name.log
  run=$WORK/runs/$name.json
  if [[ -n ${SKIP[$ds/$mode]:-} ]]; then
    printf '%s\t%s\t%s\tskipped\t\t\t\t%s\n' "$ds" "$mode" "$round" "timed out in an earlier round" >>"$RESULTS"
    return 0
  fi
  rm -rf -- "${jobs:?}"/* "${WORK:?}/out"/*
  if [[ $mode == Pipe ]]; then
    write_spec "$spec" "$name" Pipe "$ds" "${READER_CMD[@]}"
  else
    write_spec "$spec" "$name" File "$ds" true
  fi
  sync   # the previous job's dirty pages are not written back while this one runs
  "$PY" "$HELPER" job "$WORK/job.pid" "$logf" "$RUN_TIMEOUT" -- \
    "$SLUICE_BIN" train "$spec" --work-dir "$jobs" --isolation "$ISOLATION" --bind "$(dirname -- "$READER_FILE")" >"$WORK/helper.out" 2>>"$logf" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=''
  read -r rc wall hwm <"$WORK/helper.out" || { rc=${rc:-1}; wall=''; hwm=''; }
  # everything measured from the job's own records, checked against the data
  out=$("$PY" - "$ds" "$mode" "$jobs/$name" "${DS_COUNT[$ds]}" "${DS_SIZE[$ds]}" "$run" <<'EOF'
import json, os, sys
from datetime import datetime
ds, mode, jobdir, count, size, runfile = sys.argv[1:7]
count, size = int(count), int(size)
total = count * size
r = {}
def ts(s):
    return datetime.fromisoformat(s).timestamp()
try:
    with open(os.path.join(jobdir, "status.json")) as f:
        st = json.load(f)
    r["job_status"] = st.get("TrainingJobStatus")
    tr = {t["Status"]: t for t in st.get("SecondaryStatusTransitions", [])}
    d0, t0 = ts(tr["Downloading"]["StartTime"]), ts(tr["Training"]["StartTime"])
    r["t_downloading"], r["t_training"] = d0, t0
    r["downloading_s"] = t0 - d0
    if "Training" in tr and "EndTime" in tr["Training"]:
        r["training_s"] = ts(tr["Training"]["EndTime"]) - t0
except (OSError, KeyError, ValueError) as e:
    print(f"failed\tno usable status.json: {e!r}")
    sys.exit(0)
if r["job_status"] != "Completed":
    print(f"failed\tjob {r['job_status']}: {st.get('FailureReason', '')[:300]}")
    sys.exit(0)
if mode == "Pipe":
    try:
        with open(os.path.join(jobdir, "algo-1", "model", "result.json")) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        print(f"failed\tno result.json from the reader: {e!r}")
        sys.exit(0)
    r.update(res)
    if res["bytes"] != total:
        print(f"failed\tthe reader got {res['bytes']} bytes through the FIFO, expected {total}")
        sys.exit(0)
    r["mb_per_s"] = total / (res["t_eof"] - res["t_open"]) / 1e6
    r["first_byte_ms"] = (res["t_first"] - res["t_open"]) * 1e3
    r["wait_before_open_s"] = res["t_open"] - r["t_training"]
    # end to end, comparable with File's download: from the job starting to list the channel
    # until the reader has the last byte
    r["e2e_mb_per_s"] = total / (res["t_eof"] - r["t_downloading"]) / 1e6
else:
    d = os.path.join(jobdir, "algo-1", "input", "data", "train")
    n = b = 0
    for root, _, files in os.walk(d):
        for name in files:
            n += 1
            b += os.path.getsize(os.path.join(root, name))
    if n != count or b != total:
        print(f"failed\tthe channel directory holds {n} files / {b} bytes, expected {count} / {total}")
        sys.exit(0)
    r["mb_per_s"] = total / r["downloading_s"] / 1e6
    r["e2e_mb_per_s"] = r["mb_per_s"]
with open(runfile, "w") as f:
    json.dump(r, f)
print("ok\t")
EOF
  ) || out=$'failed\tchecking the job failed'
  status=${out%%$'\t'*}
  note=${out#*$'\t'}
  if [[ $rc == 124 ]]; then
    status=timeout note="ran past --run-timeout ${RUN_TIMEOUT} s; skipped for the remaining rounds"
    SKIP[$ds/$mode]=1
  elif [[ $rc != 0 ]]; then
    status=failed note="sluice train exited $rc: $(grep -v '^\s*$' "$logf" | tail -n 3 | tr '\t\r\n' '   ' | cut -c1-400)"
  fi
  [[ $status == ok ]] || rm -f -- "$run"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ds" "$mode" "$round" "$status" "$wall" "$hwm" "$run" "$note" >>"$RESULTS"
  if [[ $status == ok ]]; then
    log "$("$PY" - "$run" "$ds" "$mode" "$round" "$ROUNDS" "$wall" "$hwm" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ds, mode, rnd, rounds, wall, hwm = sys.argv[2:8]
extra = (f"first byte {r['first_byte_ms']:7.1f} ms  end to end {r['e2e_mb_per_s']:7.1f} MB/s"
         if mode == "Pipe" else f"download {r['downloading_s']:6.2f} s")
print(f"[{ds}] round {rnd}/{rounds} {mode:<4} {r['mb_per_s']:7.1f} MB/s  {extra}  wall {float(wall):6.2f} s  "
      f"peak RSS {int(hwm) / 1024:6.0f} MiB")
EOF
)"
  else
    log "$(printf '[%s] round %d/%d %-4s %s: %s' "$ds" "$round" "$ROUNDS" "$mode" "${status^^}" "$note")"
  fi
  rm -rf -- "${jobs:?}"/* "${WORK:?}/out"/*
}

MODES=(Pipe File)
read -r LOAD_START _ </proc/loadavg
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: the 1-minute load average is $LOAD_START on $(nproc) CPUs: other work shares the machine with the store and the jobs, so absolute numbers will be low and noisy"
fi
for ds in "${DATASETS[@]}"; do
  for ((r = 1; r <= ROUNDS; r++)); do
    # alternate which mode runs first, so neither always follows the other
    for ((i = 0; i < ${#MODES[@]}; i++)); do
      run_job "$ds" "${MODES[$(((i + r - 1) % ${#MODES[@]}))]}" "$r"
    done
  done
done
read -r LOAD_END _ </proc/loadavg

# ---------------------------------------------------------------------------------------------------
# Report

first_line() { "$@" 2>&1 | head -n 1 || true; }
export BENCH_RESULTS=$RESULTS BENCH_OUT=$OUT BENCH_ROUNDS=$ROUNDS BENCH_DATASETS=${DATASETS[*]}
export BENCH_SHAPE="big $BIG_COUNT $BIG_OBJECT small $SMALL_COUNT $SMALL_SIZE"
BENCH_ENV="endpoint $EP ($( ((STORE_STARTED)) && echo 'scripts/local-s3, Ceph RGW memstore' || echo 'from AWS_ENDPOINT_URL')); $(nproc) CPUs, $(uname -sr); jobs with --isolation $ISOLATION, work directory on $(df -P "$WORK" | awk 'NR == 2 { print $1 }'); Pipe reader: $READER_KIND, 1 MiB read()s; load average (1 min) $LOAD_START before the jobs, $LOAD_END after"
BENCH_VERSION="$(first_line "$SLUICE_BIN" --version) ($SLUICE_BIN, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git -C "$ROOT" status --porcelain -- src include CMakeLists.txt 2>/dev/null) ]] && echo ', src modified' || true))"
export BENCH_ENV BENCH_VERSION BENCH_NOTE=$READER_NOTE

"$PY" - <<'EOF'
import json, os, statistics, time

rows = []
with open(os.environ["BENCH_RESULTS"]) as f:
    for line in f:
        ds, mode, rnd, status, wall, hwm, run, note = line.rstrip("\n").split("\t", 7)
        r = dict(dataset=ds, mode=mode, round=int(rnd), status=status, note=note,
                 wall_s=float(wall) if wall else None, peak_rss_mib=int(hwm) / 1024 if hwm else None)
        if status == "ok":
            with open(run) as g:
                r.update(json.load(g))
        rows.append(r)

shape = os.environ["BENCH_SHAPE"].split()
shape = {shape[i]: (int(shape[i + 1]), int(shape[i + 2])) for i in range(0, len(shape), 3)}
out = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rounds": int(os.environ["BENCH_ROUNDS"]),
       "environment": os.environ["BENCH_ENV"], "sluice": os.environ["BENCH_VERSION"], "datasets": {}}

def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None

def fmt(x, spec):
    return "-" if x is None else format(x, spec)

table = []
for ds in os.environ["BENCH_DATASETS"].split():
    count, size = shape[ds]
    d = {"objects": count, "object_bytes": size, "total_bytes": count * size, "modes": {}}
    for mode in ("Pipe", "File"):
        runs = [r for r in rows if r["dataset"] == ds and r["mode"] == mode]
        ok = [r for r in runs if r["status"] == "ok"]
        m = {"runs": runs, "ok_runs": len(ok)}
        for key in ("mb_per_s", "first_byte_ms", "e2e_mb_per_s", "wall_s", "peak_rss_mib", "downloading_s",
                    "wait_before_open_s"):
            m["median_" + key] = med(ok, key)
        m["max_peak_rss_mib"] = max((r["peak_rss_mib"] for r in ok if r["peak_rss_mib"]), default=None)
        d["modes"][mode] = m
    p, fl = d["modes"]["Pipe"], d["modes"]["File"]
    ratio = lambda a, b: a / b if a and b else None
    d["ratio_pipe_to_file"] = ratio(p["median_mb_per_s"], fl["median_mb_per_s"])
    d["ratio_e2e_pipe_to_file"] = ratio(p["median_e2e_mb_per_s"], fl["median_mb_per_s"])
    out["datasets"][ds] = d
    table.append((ds, count, size, p, fl, d))

print()
print(f"Pipe vs File, medians of {out['rounds']} rounds (MB = 10^6 bytes)")
hdr = (f"{'dataset':<26} {'Pipe MB/s':>9} {'Pipe 1st byte ms':>16} {'File MB/s':>9} {'Pipe/File':>9}"
       f" {'Pipe RSS MiB':>12} {'File RSS MiB':>12}")
print(hdr)
print("-" * len(hdr))
for ds, count, size, p, fl, d in table:
    name = f"{ds} ({count} x {size // 1024} KiB)"
    print(f"{name:<26} {fmt(p['median_mb_per_s'], '.1f'):>9} {fmt(p['median_first_byte_ms'], '.1f'):>16}"
          f" {fmt(fl['median_mb_per_s'], '.1f'):>9} {fmt(d['ratio_pipe_to_file'], '.2f'):>9}"
          f" {fmt(p['median_peak_rss_mib'], '.0f'):>12} {fmt(fl['median_peak_rss_mib'], '.0f'):>12}")
print()
hdr2 = (f"{'dataset':<8} {'Pipe e2e MB/s':>13} {'e2e Pipe/File':>13} {'Pipe wall s':>11} {'File wall s':>11}"
        f" {'File download s':>15} {'open after Training s':>21}  runs: Pipe MB/s | File MB/s")
print(hdr2)
print("-" * len(hdr2))
for ds, count, size, p, fl, d in table:
    runs = lambda m: " ".join(f"{r['mb_per_s']:.0f}" if r["status"] == "ok" else r["status"].upper() for r in m["runs"])
    print(f"{ds:<8} {fmt(p['median_e2e_mb_per_s'], '.1f'):>13} {fmt(d['ratio_e2e_pipe_to_file'], '.2f'):>13}"
          f" {fmt(p['median_wall_s'], '.2f'):>11} {fmt(fl['median_wall_s'], '.2f'):>11}"
          f" {fmt(fl['median_downloading_s'], '.2f'):>15} {fmt(p['median_wait_before_open_s'], '.3f'):>21}"
          f"  {runs(p)} | {runs(fl)}")
for ds, count, size, p, fl, d in table:
    for mode, m in (("Pipe", p), ("File", fl)):
        for r in m["runs"]:
            if r["status"] != "ok":
                print(f"  {ds} {mode} round {r['round']}: {r['status']}: {r['note']}")
print()
print("Pipe MB/s: bytes / (EOF - open) at the reader; Pipe 1st byte: first byte - open. File MB/s: bytes /")
print("(Training - Downloading StartTime in status.json): listing + download. Pipe e2e: bytes / (the reader's")
print("EOF - Downloading StartTime), the same start as File's. RSS: peak VmHWM of the sluice train process.")
print("environment:", out["environment"])
print("sluice:", out["sluice"])
if os.environ.get("BENCH_NOTE"):
    print("note:", os.environ["BENCH_NOTE"])
if os.environ.get("BENCH_OUT"):
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("JSON written to", os.environ["BENCH_OUT"])
EOF

# Exit 1 when any job failed or timed out, so a wrapper notices.
if awk -F'\t' '$4 == "failed" || $4 == "timeout" || $4 == "skipped" { bad = 1 } END { exit !bad }' "$RESULTS"; then
  log "some jobs failed (see above)"
  exit 1
fi
