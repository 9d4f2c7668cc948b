#!/usr/bin/env bash
# bench/fastfile.sh: reading S3 data through a FUSE mount: `sluice mount` (with the kernel page
# cache and with --direct-io) against s3fs and rclone mount, with `sluice cp` to tmpfs as the
# ceiling, on a loopback S3 store (Ceph RGW from scripts/local-s3).
#
#   bench/fastfile.sh [--rounds N] [--tools LIST] [--workloads LIST] [options]
#
# Options:
#   --rounds N          timed runs per tool and workload (default 3); the table shows medians
#   --tools LIST        comma-separated subset of: sluice, sluice-direct, s3fs, rclone, cp
#                       (default: all five)
#   --workloads LIST    comma-separated subset of: seq, small, small16, random, ttfb (default: all)
#   --out FILE          also write every run and the medians as JSON to FILE
#   --sluice BIN        the sluice binary (default build/sluice; when that does not exist, build it
#                       with cmake + ninja into --build-dir, incrementally)
#   --build-dir DIR     where to build sluice when build/sluice is missing (default /tmp/bench-build)
#   --workdir DIR       parent of the temporary directory holding the store, the generated data
#                       and the mount points (default $TMPDIR or /tmp)
#   --cp-dir DIR        parent of cp's destination (default /dev/shm when it is a tmpfs with room)
#   --big-mib N         size of the big object in MiB (default 1024)
#   --small-count N     number of small objects (default 5000)
#   --small-kib N       size of each small object in KiB (default 16)
#   --random-reads N    4 KiB preads of the random workload (default 1000)
#   --seed N            seed of the random offsets (default 1)
#   --mount-timeout S   bound on a mount becoming live (default 30 s)
#   --run-timeout S     bound on one timed run (default 300 s); a tool that runs past it is marked
#                       "timeout" and skipped for that workload's remaining rounds
#   --keep-data         keep the store and the uploaded data (stopped, under --data-dir) when the
#                       script ends, and reuse them on the next run with --keep-data and the same
#                       sizes, instead of generating and uploading again
#   --data-dir DIR      where --keep-data keeps them (default <workdir>/sluice-fastfile-data)
#   -h, --help
#
# Runs as root (it drops the page cache and mounts FUSE file systems). Without AWS_ENDPOINT_URL it
# starts its own store and stops it (and removes everything it wrote) on any exit, Ctrl-C
# included; every mount it made is unmounted and every daemon it started is stopped. With
# AWS_ENDPOINT_URL (plus AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) it uses that store, which
# must be on loopback, in a fresh bucket that it deletes at the end. See bench/README.md.
set -euo pipefail

readonly PROG=fastfile
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
export LC_ALL=C   # EPOCHREALTIME with a '.', byte-wise sort order

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------------------------------------------
# Arguments

ROUNDS=3
TOOLS_ARG=sluice,sluice-direct,s3fs,rclone,cp
WORKLOADS_ARG=seq,small,small16,random,ttfb
OUT=''
SLUICE_BIN=''
BUILD_DIR=/tmp/bench-build
WORK_PARENT=${TMPDIR:-/tmp}
CP_PARENT=''
BIG_MIB=1024
SMALL_COUNT=5000
SMALL_KIB=16
RANDOM_READS=1000
SEED=1
MOUNT_TIMEOUT=30
RUN_TIMEOUT=300
KEEP_DATA=0
DATA_DIR=''
readonly PREFIX=ff              # everything lives under s3://BUCKET/ff/: ff/big, ff/small/f00000 ...
readonly SAMPLES=4              # small files whose sha256 is checked after every small run
readonly FILES_PER_CAT=32       # small16: files per cat process, 16 of them at a time
readonly PARALLEL_READERS=16


while (($#)); do
  case $1 in
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --tools) need_value "$@"; TOOLS_ARG=$2; shift 2 ;;
    --workloads) need_value "$@"; WORKLOADS_ARG=$2; shift 2 ;;
    --out) need_value "$@"; OUT=$2; shift 2 ;;
    --sluice) need_value "$@"; SLUICE_BIN=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --workdir) need_value "$@"; WORK_PARENT=$2; shift 2 ;;
    --cp-dir) need_value "$@"; CP_PARENT=$2; shift 2 ;;
    --big-mib) need_value "$@"; BIG_MIB=$2; shift 2 ;;
    --small-count) need_value "$@"; SMALL_COUNT=$2; shift 2 ;;
    --small-kib) need_value "$@"; SMALL_KIB=$2; shift 2 ;;
    --random-reads) need_value "$@"; RANDOM_READS=$2; shift 2 ;;
    --seed) need_value "$@"; SEED=$2; shift 2 ;;
    --mount-timeout) need_value "$@"; MOUNT_TIMEOUT=$2; shift 2 ;;
    --run-timeout) need_value "$@"; RUN_TIMEOUT=$2; shift 2 ;;
    --keep-data) KEEP_DATA=1; shift ;;
    --data-dir) need_value "$@"; DATA_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) log "unknown argument: $1"; usage 2 ;;
  esac
done

is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be between 1 and 50"
is_uint "$BIG_MIB" && ((BIG_MIB >= 1 && BIG_MIB <= 4096)) || die "--big-mib must be between 1 and 4096 (the store keeps data in RAM)"
is_uint "$SMALL_COUNT" && ((SMALL_COUNT >= 1 && SMALL_COUNT <= 99999)) || die "--small-count must be between 1 and 99999"
is_uint "$SMALL_KIB" && ((SMALL_KIB >= 1 && SMALL_KIB <= 1024)) || die "--small-kib must be between 1 and 1024"
is_uint "$RANDOM_READS" && ((RANDOM_READS >= 1 && RANDOM_READS <= 1000000)) || die "--random-reads must be between 1 and 1000000"
is_uint "$SEED" || die "--seed must be a non-negative integer"
is_uint "$MOUNT_TIMEOUT" && ((MOUNT_TIMEOUT >= 1)) || die "--mount-timeout must be a positive number of seconds"
is_uint "$RUN_TIMEOUT" && ((RUN_TIMEOUT >= 1)) || die "--run-timeout must be a positive number of seconds"
[[ -z $DATA_DIR ]] || ((KEEP_DATA)) || die "--data-dir only applies with --keep-data"

readonly BIG_SIZE=$((BIG_MIB * 1048576))
readonly SMALL_SIZE=$((SMALL_KIB * 1024))

ALL_TOOLS=(sluice sluice-direct s3fs rclone cp)
ALL_WORKLOADS=(seq small small16 random ttfb)
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"
((${#TOOLS[@]})) || die "--tools is empty"
for t in "${TOOLS[@]}"; do
  [[ " ${ALL_TOOLS[*]} " == *" $t "* ]] || die "unknown tool '$t' (${ALL_TOOLS[*]})"
done
IFS=, read -r -a WORKLOADS <<<"$WORKLOADS_ARG"
((${#WORKLOADS[@]})) || die "--workloads is empty"
for w in "${WORKLOADS[@]}"; do
  [[ " ${ALL_WORKLOADS[*]} " == *" $w "* ]] || die "unknown workload '$w' (${ALL_WORKLOADS[*]})"
done
has_tool() { [[ " ${TOOLS[*]} " == *" $1 "* ]]; }
is_mount_tool() { [[ $1 != cp ]]; }

if [[ -n $OUT ]]; then
  OUT=$(realpath -m -- "$OUT")
  [[ -d $(dirname "$OUT") && -w $(dirname "$OUT") ]] || die "--out: directory $(dirname "$OUT") does not exist or is not writable"
fi
[[ -d $WORK_PARENT && -w $WORK_PARENT ]] || die "--workdir $WORK_PARENT is not a writable directory"
WORK_PARENT=$(realpath -- "$WORK_PARENT")
[[ $WORK_PARENT != *[[:space:]]* ]] || die "--workdir must not contain white space (mount points live under it)"
((EUID == 0)) || die "run as root: it drops the page cache (/proc/sys/vm/drop_caches) and mounts FUSE file systems"
[[ -w /proc/sys/vm/drop_caches ]] || die "/proc/sys/vm/drop_caches is not writable (a container without it cannot run this benchmark)"

# ---------------------------------------------------------------------------------------------------
# Packages: the peers and what this script itself uses

ensure_packages() {
  local -A pkg_of=([python3]=python3 [timeout]=coreutils [split]=coreutils [tar]=tar [find]=findutils
                   [xargs]=findutils [flock]=util-linux [od]=coreutils [sha256sum]=coreutils)
  local missing=() c
  for c in "${!pkg_of[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${pkg_of[$c]}"); done
  [[ -x /usr/bin/time ]] || missing+=(time)
  if has_tool s3fs; then command -v s3fs >/dev/null 2>&1 || missing+=(s3fs); fi
  if has_tool rclone; then command -v rclone >/dev/null 2>&1 || missing+=(rclone); fi
  local t any_mount=0
  for t in "${TOOLS[@]}"; do is_mount_tool "$t" && any_mount=1; done
  if ((any_mount)); then command -v fusermount3 >/dev/null 2>&1 || missing+=(fuse3); fi
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
[[ -e /dev/fuse ]] || modprobe fuse 2>/dev/null || true
if has_tool sluice || has_tool sluice-direct || has_tool s3fs || has_tool rclone; then
  [[ -c /dev/fuse ]] || die "/dev/fuse is missing: this machine (or container) cannot mount FUSE file systems"
fi
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

# ---------------------------------------------------------------------------------------------------
# Temporary directory, cleanup

WORK=''
CP_ROOT=''
STORE_DIR=''
STORE_STARTED=0
EXTERNAL_STORE=0
BUCKET=''
BUCKET_CREATED=0
DATA_OK=0        # the data under --data-dir is complete (kept at exit)
CHILD=''

cleanup() {
  local rc=$? left=0
  trap - EXIT INT TERM
  set +e
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null
    wait "$CHILD" 2>/dev/null
  fi
  bench_unmount_all || left=1
  if ((EXTERNAL_STORE && BUCKET_CREATED && !(KEEP_DATA && DATA_OK))); then
    log "deleting bucket $BUCKET from $AWS_ENDPOINT_URL"
    timeout 600 "$SLUICE_BIN" rb --force "s3://$BUCKET" >/dev/null 2>&1 || log "warning: could not delete bucket $BUCKET"
  fi
  if ((STORE_STARTED)); then
    if ((KEEP_DATA && DATA_OK)); then
      log "stopping the store; its data stays in $STORE_DIR for the next --keep-data run"
      "$ROOT/scripts/local-s3" stop --dir "$STORE_DIR" >/dev/null 2>&1 ||
        log "warning: 'scripts/local-s3 stop --dir $STORE_DIR' failed; its daemons may still run"
    else
      "$ROOT/scripts/local-s3" stop --dir "$STORE_DIR" --purge >/dev/null 2>&1 ||
        log "warning: 'scripts/local-s3 stop --dir $STORE_DIR --purge' failed; its daemons may still run"
    fi
  fi
  if ((KEEP_DATA && !DATA_OK)) && [[ -n $DATA_DIR && -d $DATA_DIR ]]; then
    rm -f -- "$DATA_DIR/meta"   # incomplete: the next run starts over
  fi
  [[ -n $CP_ROOT && -d $CP_ROOT ]] && rm -rf --one-file-system -- "$CP_ROOT"
  if [[ -n $WORK && -d $WORK ]]; then
    if ((left)); then
      log "warning: a mount under $WORK/mnt is still there; leaving $WORK in place"
    else
      rm -rf --one-file-system -- "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$WORK_PARENT/sluice-fastfile.XXXXXX")
WORK=$(realpath -- "$WORK")
mkdir -p "$WORK/logs" "$WORK/mnt" "$WORK/pids" "$WORK/aws" "$WORK/out"

# cp's destination: a tmpfs, so that the ceiling measures the download and not the disk.
cp_space=$((BIG_SIZE + SMALL_COUNT * (SMALL_SIZE + 4096) + 268435456))
if [[ -z $CP_PARENT ]]; then
  if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] &&
     (($(df -P -k /dev/shm | awk 'NR == 2 { print $4 }') * 1024 > cp_space)); then
    CP_PARENT=/dev/shm
  else
    CP_PARENT=$WORK
    has_tool cp && log "note: /dev/shm is no tmpfs with room for the data; cp downloads to $WORK (disk)"
  fi
fi
[[ -d $CP_PARENT && -w $CP_PARENT ]] || die "--cp-dir $CP_PARENT is not a writable directory"
CP_ROOT=$(mktemp -d "$(realpath -- "$CP_PARENT")/sluice-fastfile-cp.XXXXXX")
CP_FS=$(stat -f -c %T "$CP_ROOT")

bench_loopback_only "$WORK/aws"

# ---------------------------------------------------------------------------------------------------
# sluice

if [[ -z $SLUICE_BIN && -x $ROOT/build/sluice ]]; then SLUICE_BIN=$ROOT/build/sluice; fi
bench_sluice "$BUILD_DIR" "$WORK/logs/build.log"

# A binary from before `sluice mount` existed cannot run the sluice rows: say so once, up front.
declare -A UNAVAILABLE
if has_tool sluice || has_tool sluice-direct; then
  if ! "$SLUICE_BIN" mount --help >/dev/null 2>&1; then
    for t in sluice sluice-direct; do
      if has_tool "$t"; then UNAVAILABLE[$t]="$SLUICE_BIN has no 'mount' command"; fi
    done
    log "warning: $SLUICE_BIN has no 'mount' command; the sluice and sluice-direct rows are skipped"
  fi
fi

# ---------------------------------------------------------------------------------------------------
# The store

if ((KEEP_DATA)); then
  [[ -n $DATA_DIR ]] || DATA_DIR=$WORK_PARENT/sluice-fastfile-data
  mkdir -p -- "$DATA_DIR"
  DATA_DIR=$(realpath -- "$DATA_DIR")
  exec 9>"$DATA_DIR/.lock"
  flock -n 9 || die "another fastfile run is using $DATA_DIR"
fi
META=${DATA_DIR:-$WORK}/meta
PARAMS="big=$BIG_SIZE small=${SMALL_COUNT}x$SMALL_SIZE random=${RANDOM_READS}@$SEED prefix=$PREFIX"

if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
  EXTERNAL_STORE=1
  bench_external_store
else
  STORE_DIR=${DATA_DIR:+$DATA_DIR/store}
  STORE_DIR=${STORE_DIR:-$WORK/store}
  if [[ -e $STORE_DIR ]] && ! grep -qsxF "params $PARAMS" "$META"; then
    log "the data kept in $DATA_DIR was made with other sizes (or is incomplete); starting over"
    "$ROOT/scripts/local-s3" stop --dir "$STORE_DIR" --purge >/dev/null 2>&1 || die "could not remove the old store in $STORE_DIR"
    rm -f -- "$META"
  fi
  bench_start_local_store "$STORE_DIR"
fi
bench_store_env

# ---------------------------------------------------------------------------------------------------
# The helper: random preads, and "start a mount daemon, wait for the mount, read the first byte"

HELPER=$WORK/fastfile_helper.py
cat >"$HELPER" <<'EOF'
import hashlib, os, random, subprocess, sys, time

def offsets(size, count, seed):
    rng = random.Random(seed)
    blocks = size // 4096
    return [rng.randrange(blocks) * 4096 for _ in range(count)]

def cmd_random(path, size, count, seed):
    """count 4 KiB preads at seeded 4 KiB-aligned offsets, the open included in the time."""
    offs = offsets(int(size), int(count), int(seed))
    bufs = []
    t0 = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    for off in offs:
        b = os.pread(fd, 4096, off)
        while 0 < len(b) < 4096:   # a short read that is not the end of the file: read the rest
            more = os.pread(fd, 4096 - len(b), off + len(b))
            if not more:
                break
            b += more
        bufs.append(b)
    os.close(fd)
    t1 = time.perf_counter()
    h = hashlib.sha256()
    for b in bufs:
        h.update(b)
    print(f"{t1 - t0:.6f} {h.hexdigest()}")

def cmd_mount(pidfile, logfile, mnt, timeout, first, expect, dashes, *cmd):
    """Start the daemon (foreground mode, in its own session), wait until mnt is a mount point,
    then (with first) read one byte of mnt/first. Prints ms to the mount and ms to the byte."""
    timeout = float(timeout)
    logf = open(logfile, "ab")
    t0 = time.perf_counter()
    p = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                         start_new_session=True, close_fds=True)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{p.pid}\n")
    os.rename(pidfile + ".tmp", pidfile)
    while not os.path.ismount(mnt):
        if p.poll() is not None:
            print(f"the daemon exited with status {p.returncode} before {mnt} was mounted", file=sys.stderr)
            sys.exit(3)
        if time.perf_counter() - t0 > timeout:
            print(f"{mnt} was not mounted within {timeout:.0f} s", file=sys.stderr)
            sys.exit(4)
        time.sleep(0.002)
    t_live = time.perf_counter()
    t_byte = t_live
    if first:
        fd = os.open(os.path.join(mnt, first), os.O_RDONLY)
        b = os.read(fd, 1)
        t_byte = time.perf_counter()
        os.close(fd)
        if b.hex() != expect:
            print(f"first byte of {first} is {b.hex() or 'nothing'}, expected {expect}", file=sys.stderr)
            sys.exit(5)
    print(f"{(t_live - t0) * 1e3:.1f} {(t_byte - t0) * 1e3:.1f}")

if __name__ == "__main__":
    {"random": cmd_random, "mount": cmd_mount}[sys.argv[1]](*sys.argv[2:])
EOF

# ---------------------------------------------------------------------------------------------------
# Data: generated once (random bytes), uploaded with `sluice cp -r`, and what a correct read gives

FIRST=f00000    # the first small file in listing order
expect_listing() {  # "key<TAB>size", sorted, of everything under ff/
  {
    printf '%s/big\t%d\n' "$PREFIX" "$BIG_SIZE"
    awk -v n="$SMALL_COUNT" -v s="$SMALL_SIZE" -v p="$PREFIX" 'BEGIN { for (i = 0; i < n; i++) printf "%s/small/f%05d\t%d\n", p, i, s }'
  } | sort
}
store_listing() {
  "$SLUICE_BIN" ls -r "s3://$BUCKET/$PREFIX/" | awk '{ print $4 "\t" $3 }' | sort
}
meta_get() { awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }' "$META"; }

generate_and_upload() {
  local src=$WORK/src/$PREFIX t0 t1 i start chunk rc=0
  log "generating $BIG_MIB MiB + $SMALL_COUNT x $SMALL_KIB KiB of random data"
  mkdir -p "$src/small"
  head -c "$BIG_SIZE" /dev/urandom >"$src/big"
  for ((start = 0; start < SMALL_COUNT; start += 1000)); do
    chunk=$((SMALL_COUNT - start < 1000 ? SMALL_COUNT - start : 1000))
    head -c $((chunk * SMALL_SIZE)) /dev/urandom | split -b "$SMALL_SIZE" -a 5 -d --numeric-suffixes="$start" - "$src/small/f"
  done
  ((i = $(find "$src/small" -type f | wc -l), i == SMALL_COUNT)) || die "generated $i small files, expected $SMALL_COUNT"
  {
    echo "params $PARAMS"
    echo "tar_bytes $(tar -cf - -C "$src/small" . | wc -c)"
    echo "random_digest $("$PY" "$HELPER" random "$src/big" "$BIG_SIZE" "$RANDOM_READS" "$SEED" | awk '{ print $2 }')"
    echo "first_byte $(head -c1 "$src/small/$FIRST" | od -An -tx1 | tr -d ' \n')"
    # sha256 of a few small files spread over the listing
    for ((i = 0; i < SAMPLES; i++)); do
      f=$(printf 'f%05d' $((i * (SMALL_COUNT - 1) / (SAMPLES > 1 ? SAMPLES - 1 : 1))))
      echo "sample $(sha256sum <"$src/small/$f" | awk '{ print $1 }')  $f"
    done
  } >"$WORK/meta.new"
  log "uploading to s3://$BUCKET/$PREFIX/ with sluice cp -r"
  t0=$EPOCHREALTIME
  timeout 1800 "$SLUICE_BIN" cp -r --quiet "$src" "s3://$BUCKET/$PREFIX/" >"$WORK/logs/upload.log" 2>&1 || rc=$?
  t1=$EPOCHREALTIME
  if ((rc != 0)); then
    tail -n 5 "$WORK/logs/upload.log" | sed 's/^/    /' >&2
    die "the upload with 'sluice cp -r' failed (exit $rc)"
  fi
  log "uploaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
  rm -rf -- "${WORK:?}/src"
  mv -f "$WORK/meta.new" "$META"
}

if ((EXTERNAL_STORE)); then
  if ((KEEP_DATA)); then BUCKET=sluice-fastfile-data; else BUCKET=sluice-fastfile-$(date +%s)-$$; fi
else
  BUCKET=fastfile
fi
"$SLUICE_BIN" mb "s3://$BUCKET" >"$WORK/logs/mb.log" 2>&1 || { cat "$WORK/logs/mb.log" >&2; die "could not make bucket $BUCKET at $EP"; }
BUCKET_CREATED=1
expect_listing >"$WORK/expect.tsv"
if ((KEEP_DATA)) && grep -qsxF "params $PARAMS" "$META" && store_listing 2>/dev/null | cmp -s - "$WORK/expect.tsv"; then
  log "reusing the data kept in $DATA_DIR"
else
  rm -f -- "$META"
  generate_and_upload
  store_listing >"$WORK/listing.tsv" || die "'sluice ls -r s3://$BUCKET/$PREFIX/' failed after the upload"
  cmp -s "$WORK/listing.tsv" "$WORK/expect.tsv" ||
    die "after the upload the store's listing of s3://$BUCKET/$PREFIX/ differs from the generated files ($(wc -l <"$WORK/listing.tsv") listed, $((SMALL_COUNT + 1)) expected)"
fi
DATA_OK=1
TAR_BYTES=$(meta_get tar_bytes)
RANDOM_DIGEST=$(meta_get random_digest)
FIRST_BYTE=$(meta_get first_byte)
awk '$1 == "sample" { sub(/^sample /, ""); print }' "$META" >"$WORK/samples.sha256"
[[ -n $TAR_BYTES && -n $RANDOM_DIGEST && -n $FIRST_BYTE && -s $WORK/samples.sha256 ]] || die "$META is incomplete"

# ---------------------------------------------------------------------------------------------------
# Tools: s3fs's credentials and rclone's remote, mount_cmd and unmount (bench/lib.sh)

bench_peer_config

# The read of each workload, given the directory holding big and small/ (a mount, or cp's copy).
# Prints what is checked afterwards: bytes read, or "seconds digest" for random.
read_script() {  # $1 workload; sets SCRIPT (bash -c, $1 = the directory)
  case $1 in
    seq) SCRIPT='dd if="$1/big" of=/dev/null bs=1M 2>&1 | awk "/bytes/ { print \$1 }"' ;;
    small) SCRIPT='tar -cf - -C "$1/small" . | wc -c' ;;
    small16) SCRIPT="cd \"\$1/small\" && find . -type f -print0 | sort -z | xargs -0 -n $FILES_PER_CAT -P $PARALLEL_READERS cat | wc -c" ;;
    random) SCRIPT="exec \"$PY\" \"$HELPER\" random \"\$1/big\" $BIG_SIZE $RANDOM_READS $SEED" ;;
    ttfb) SCRIPT="head -c1 \"\$1/small/$FIRST\" | od -An -tx1 | tr -d ' \\n'" ;;
  esac
}

# The ceiling: sluice cp of what the workload reads (to tmpfs), then the same read of the copy.
cp_args() {  # $1 workload, $2 destination; sets CMD
  local src=s3://$BUCKET/$PREFIX
  case $1 in
    seq|random) CMD=("$SLUICE_BIN" cp --quiet "$src/big" "$2/") ;;
    small|small16) CMD=("$SLUICE_BIN" cp -r --quiet "$src/small/" "$2/small") ;;
    ttfb) CMD=("$SLUICE_BIN" cp --quiet "$src/small/$FIRST" "$2/small/") ;;
  esac
}

# Runs "$@" under timeout in the background (so Ctrl-C is handled at once) and waits; sets RC.
run_bg() {  # $1 stdout file, $2 stderr file, then the command
  local o=$1 e=$2
  shift 2
  RC=0
  timeout -k 5 "$RUN_TIMEOUT" "$@" </dev/null >"$o" 2>"$e" &
  CHILD=$!
  wait "$CHILD" || RC=$?
  CHILD=''
}

# ---------------------------------------------------------------------------------------------------
# Runs

RESULTS=$WORK/results.tsv   # workload tool round status value seconds mount_ms rss_kib cpu_s note
: >"$RESULTS"
declare -A SKIP
CLK_TCK=$(getconf CLK_TCK)

tail_of() { { grep -v '^\s*$' "$@" 2>/dev/null || true; } | tail -n 3 | tr '\t\r\n' '   ' | cut -c1-400; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# Checks the output of a workload's read; sets NOTE and returns 1 when it is wrong.
check_output() {  # $1 workload, $2 output file, $3 directory that was read
  local wl=$1 got
  got=$(tr -d '\n' <"$2")
  case $wl in
    seq) [[ $got == "$BIG_SIZE" ]] || { NOTE="dd read ${got:-nothing} bytes, expected $BIG_SIZE"; return 1; } ;;
    small) [[ $got == "$TAR_BYTES" ]] || { NOTE="tar wrote ${got:-nothing} bytes, expected $TAR_BYTES"; return 1; } ;;
    small16) [[ $got == "$((SMALL_COUNT * SMALL_SIZE))" ]] || { NOTE="cat read ${got:-nothing} bytes, expected $((SMALL_COUNT * SMALL_SIZE))"; return 1; } ;;
    random) [[ ${got#* } == "$RANDOM_DIGEST" ]] || { NOTE="the bytes read at the random offsets differ from the generated ones"; return 1; } ;;
    ttfb) [[ $got == "$FIRST_BYTE" ]] || { NOTE="the first byte is '${got}', expected $FIRST_BYTE"; return 1; } ;;
  esac
  if [[ $wl == small || $wl == small16 ]] &&
     ! (cd "$3/small" && timeout 60 sha256sum -c --quiet --strict "$WORK/samples.sha256") >"$WORK/out/sha.log" 2>&1; then
    NOTE="wrong content: $(tail_of "$WORK/out/sha.log")"
    return 1
  fi
  return 0
}

run_one() {  # $1 tool, $2 workload, $3 round
  local tool=$1 wl=$2 round=$3 status=ok value='' secs='' mount_ms='' rss='' cpu='' t0 t1 rd=0
  local out=$WORK/out/read.out err=$WORK/out/read.err mnt pidf pid
  NOTE=''
  if [[ -n ${UNAVAILABLE[$tool]:-} ]]; then
    printf '%s\t%s\t%s\tskipped\t\t\t\t\t\t%s\n' "$wl" "$tool" "$round" "${UNAVAILABLE[$tool]}" >>"$RESULTS"
    return 0
  fi
  if [[ -n ${SKIP[$wl/$tool]:-} ]]; then
    printf '%s\t%s\t%s\tskipped\t\t\t\t\t\t%s\n' "$wl" "$tool" "$round" "${SKIP[$wl/$tool]}" >>"$RESULTS"
    return 0
  fi
  read_script "$wl"
  if is_mount_tool "$tool"; then
    mnt=$WORK/mnt/$tool-$wl-$round
    pidf=$WORK/pids/$tool-$wl-$round.pid
    mkdir -p "$mnt"
    mount_cmd "$tool" "$mnt"
    [[ $wl == ttfb ]] && drop_caches
    local first='' expect=''
    [[ $wl == ttfb ]] && first=small/$FIRST expect=$FIRST_BYTE
    run_bg "$WORK/out/mount.out" "$WORK/out/mount.err" \
      "$PY" "$HELPER" mount "$pidf" "$WORK/logs/$tool-$wl-$round.log" "$mnt" "$MOUNT_TIMEOUT" "$first" "$expect" -- "${CMD[@]}"
    pid=$(our_pid "$pidf") || pid=''
    if ((RC != 0)); then
      status=failed NOTE="mount: $(tail_of "$WORK/out/mount.err") $(tail_of "$WORK/logs/$tool-$wl-$round.log")"
      if [[ $wl != ttfb ]] || ! mountpoint -q -- "$mnt"; then
        SKIP[$wl/$tool]="mount failed in an earlier round"
      fi
    else
      read -r mount_ms value <"$WORK/out/mount.out"
      if [[ $wl != ttfb ]]; then
        drop_caches
        t0=$EPOCHREALTIME
        run_bg "$out" "$err" bash -c "set -o pipefail; $SCRIPT" _ "$mnt"
        t1=$EPOCHREALTIME
        rd=1
      fi
    fi
    # the daemon's high-water mark and CPU time, at the end of the workload
    if [[ -n $pid ]]; then
      rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || rss=''
      cpu=$(awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$pid/stat" 2>/dev/null) || cpu=''
    fi
  else
    local dest=$CP_ROOT/run
    rm -rf -- "$dest"
    mkdir -p "$dest"
    [[ $wl == ttfb ]] && mkdir -p "$dest/small"
    cp_args "$wl" "$dest"
    drop_caches
    t0=$EPOCHREALTIME
    run_bg "$WORK/out/cp.out" "$WORK/out/cp.err" /usr/bin/time -f '%M %U %S' -o "$WORK/out/cp.rss" "${CMD[@]}"
    t1=$EPOCHREALTIME
    if ((RC != 0)); then
      status=failed NOTE="sluice cp: exit $RC: $(tail_of "$WORK/out/cp.err")"
      ((RC == 124 || RC == 137)) && status=timeout
    else
      read -r rss cpu < <(tail -n 1 "$WORK/out/cp.rss" | awk '{ printf "%s %.2f\n", $1, $2 + $3 }')
      local cp_secs
      cp_secs=$(secs_between "$t0" "$t1")
      t0=$EPOCHREALTIME
      run_bg "$out" "$err" bash -c "set -o pipefail; $SCRIPT" _ "$dest"
      t1=$(awk -v a="$EPOCHREALTIME" -v c="$cp_secs" 'BEGIN { printf "%.6f", a + c }')   # cp + read
      rd=1
    fi
    mnt=$dest
  fi
  if ((rd)); then
    if ((RC == 124 || RC == 137)); then
      status=timeout NOTE="ran past --run-timeout ${RUN_TIMEOUT} s; skipped for the remaining rounds"
      SKIP[$wl/$tool]="timed out in an earlier round"
    elif ((RC != 0)); then
      status=failed NOTE="exit $RC: $(tail_of "$err")"
    elif ! check_output "$wl" "$out" "$mnt"; then
      status=failed
    else
      secs=$(secs_between "$t0" "$t1")
      if [[ $wl == random ]]; then   # the helper's own time: the open and the preads, no python start-up
        read -r secs _ <"$out"
        [[ $tool == cp ]] && secs=$(awk -v a="$secs" -v c="$cp_secs" 'BEGIN { printf "%.6f", a + c }')
      fi
      case $wl in
        seq) value=$(awk -v n="$BIG_SIZE" -v s="$secs" 'BEGIN { printf "%.1f", n / s / 1e6 }') ;;
        small|small16) value=$(awk -v n="$SMALL_COUNT" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') ;;
        random) value=$(awk -v n="$RANDOM_READS" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') ;;
        ttfb) value=$(awk -v s="$secs" 'BEGIN { printf "%.1f", s * 1e3 }') ;;
      esac
    fi
  elif [[ $status == ok && $wl == ttfb ]]; then
    secs=$(awk -v v="$value" 'BEGIN { printf "%.6f", v / 1e3 }')
  fi
  if is_mount_tool "$tool"; then
    unmount "$tool" "$mnt" || log "warning: could not unmount $mnt"
    stop_daemon "$pidf"
    rm -f -- "$pidf"
    rmdir -- "$mnt" 2>/dev/null || true
  else
    rm -rf -- "$CP_ROOT/run"
  fi
  [[ $status != ok ]] && value=''
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$tool" "$round" "$status" "$value" "$secs" \
    "$mount_ms" "$rss" "$cpu" "$NOTE" >>"$RESULTS"
  local unit
  case $wl in seq) unit=MB/s ;; small|small16) unit=files/s ;; random) unit=reads/s ;; ttfb) unit=ms ;; esac
  if [[ $status == ok ]]; then
    log "$(printf '[%-7s] round %d/%d %-13s %10s %-7s  RSS %6s MiB%s' "$wl" "$round" "$ROUNDS" "$tool" "$value" "$unit" \
      "$(awk -v k="$rss" 'BEGIN { if (k == "") print "-"; else printf "%.0f", k / 1024 }')" \
      "${mount_ms:+  (mounted in $mount_ms ms)}")"
  else
    log "$(printf '[%-7s] round %d/%d %-13s %s: %s' "$wl" "$round" "$ROUNDS" "$tool" "${status^^}" "$NOTE")"
  fi
}

read -r LOAD_START _ </proc/loadavg
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: the 1-minute load average is $LOAD_START on $(nproc) CPUs: other work shares the machine with the store and the clients, so absolute numbers will be low and noisy"
fi
T_START=$EPOCHREALTIME
for wl in "${WORKLOADS[@]}"; do
  for ((r = 1; r <= ROUNDS; r++)); do
    # rotate the order each round so no tool always runs first (or right after another)
    for ((i = 0; i < ${#TOOLS[@]}; i++)); do
      run_one "${TOOLS[$(((i + r - 1) % ${#TOOLS[@]}))]}" "$wl" "$r"
    done
  done
done
T_END=$EPOCHREALTIME

# ---------------------------------------------------------------------------------------------------
# Report

read -r LOAD_END _ </proc/loadavg
first_line() { "$@" 2>&1 | head -n 1 || true; }
export FF_RESULTS=$RESULTS FF_OUT=$OUT FF_ROUNDS=$ROUNDS FF_TOOLS=${TOOLS[*]} FF_WORKLOADS=${WORKLOADS[*]}
FF_SHAPE="big $BIG_MIB MiB; small $SMALL_COUNT x $SMALL_KIB KiB; random $RANDOM_READS x 4 KiB (seed $SEED)"
FF_VERSIONS=$(
  printf 'sluice\t%s\n' "$(first_line "$SLUICE_BIN" --version) ($SLUICE_BIN, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git -C "$ROOT" status --porcelain -- src CMakeLists.txt 2>/dev/null) ]] && echo ', src modified'))"
  if has_tool s3fs; then printf 's3fs\t%s\n' "$(first_line s3fs --version)"; fi
  if has_tool rclone; then printf 'rclone\t%s\n' "$(first_line rclone version)"; fi
  printf 'fuse\t%s\n' "$(first_line fusermount3 --version)"
)
FF_ENV="endpoint $EP ($( ((STORE_STARTED)) && echo 'scripts/local-s3, Ceph RGW memstore' || echo 'from AWS_ENDPOINT_URL')); $(nproc) CPUs, $(uname -sr); cp destination on $CP_FS; load average (1 min) $LOAD_START before the runs, $LOAD_END after; runs took $(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.0f", b - a }') s"
export FF_SHAPE FF_VERSIONS FF_ENV

"$PY" - <<'EOF'
import json, os, statistics, time

rows = []
with open(os.environ["FF_RESULTS"]) as f:
    for line in f:
        wl, tool, rnd, status, value, secs, mount_ms, rss, cpu, note = line.rstrip("\n").split("\t", 9)
        num = lambda s: float(s) if s else None
        rows.append(dict(workload=wl, tool=tool, round=int(rnd), status=status, value=num(value),
                         seconds=num(secs), mount_ms=num(mount_ms),
                         peak_rss_mib=(float(rss) / 1024 if rss else None), cpu_seconds=num(cpu), note=note))

tools = os.environ["FF_TOOLS"].split()
workloads = os.environ["FF_WORKLOADS"].split()
versions = dict(l.split("\t", 1) for l in os.environ["FF_VERSIONS"].splitlines() if "\t" in l)
UNIT = {"seq": "MB/s", "small": "files/s", "small16": "files/s", "random": "reads/s", "ttfb": "ms"}
LABEL = {"seq": "seq dd bs=1M", "small": "small tar", "small16": "small16 xargs -P16",
         "random": "random 4K pread", "ttfb": "ttfb mount+1 byte"}
LOWER_BETTER = {"ttfb"}
PEERS = [t for t in ("s3fs", "rclone") if t in tools]
SLUICES = [t for t in ("sluice", "sluice-direct") if t in tools]

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

table = {}
for wl in workloads:
    table[wl] = {}
    for tool in tools:
        runs = [r for r in rows if r["workload"] == wl and r["tool"] == tool]
        ok = [r for r in runs if r["status"] == "ok"]
        table[wl][tool] = {
            "runs": runs, "ok_runs": len(ok),
            "median": med([r["value"] for r in ok]),
            "median_peak_rss_mib": med([r["peak_rss_mib"] for r in ok]),
            "median_cpu_seconds": med([r["cpu_seconds"] for r in ok]),
            "median_mount_ms": med([r["mount_ms"] for r in ok]),
        }

def best_peer(wl, key="median", lower=None):
    vals = [table[wl][p][key] for p in PEERS if table[wl][p][key] is not None]
    if not vals:
        return None
    lower = (wl in LOWER_BETTER) if lower is None else lower
    return min(vals) if lower else max(vals)

def ratio(a, b):
    return a / b if a is not None and b else None

peak = {t: max([r["peak_rss_mib"] for r in rows
                if r["tool"] == t and r["status"] == "ok" and r["peak_rss_mib"] is not None], default=None)
        for t in tools}

def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"

def fr(x):
    return "-" if x is None else f"{x:.2f}x"

ratio_cols = []
for s in SLUICES:
    short = "sluice" if s == "sluice" else "direct"
    if "s3fs" in PEERS:
        ratio_cols.append((f"{short}/s3fs", s, "s3fs"))
    if PEERS:
        ratio_cols.append((f"{short}/best", s, None))

out = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rounds": int(os.environ["FF_ROUNDS"]),
       "data": os.environ["FF_SHAPE"], "environment": os.environ["FF_ENV"], "versions": versions,
       "workloads": {}, "peak_rss_mib": peak}

W = 20
print()
print(f"fastfile: {os.environ['FF_SHAPE']}; medians of {out['rounds']} rounds")
hdr = f"{'workload':<{W}} {'unit':<8}" + "".join(f"{t:>14}" for t in tools) + "".join(f"{c[0]:>14}" for c in ratio_cols)
print(hdr)
print("-" * len(hdr))

def line(label, unit, vals, lower, nd=1, key="median", wl=None):
    s = f"{label:<{W}} {unit:<8}" + "".join(f"{fmt(vals[t], nd):>14}" for t in tools)
    ratios = {}
    for name, s_tool, peer in ratio_cols:
        a = vals[s_tool]
        if peer:
            b = vals[peer]
        else:
            pv = [vals[p] for p in PEERS if vals[p] is not None]
            b = (min(pv) if lower else max(pv)) if pv else None
        ratios[name] = ratio(a, b)
        s += f"{fr(ratios[name]):>14}"
    print(s)
    return ratios

for wl in workloads:
    vals = {t: table[wl][t]["median"] for t in tools}
    ratios = line(LABEL[wl], UNIT[wl], vals, wl in LOWER_BETTER)
    out["workloads"][wl] = {"unit": UNIT[wl], "lower_is_better": wl in LOWER_BETTER, "ratios": ratios,
                            "tools": {t: {k: v for k, v in table[wl][t].items()} for t in tools}}
line("peak RSS (max)", "MiB", peak, True, nd=0)
print()
print("peak RSS (MiB) per workload: median over rounds of VmHWM of the mount daemon at the end of the")
print("workload (cp: max RSS of sluice cp); CPU seconds (user + system) of the daemon, or of sluice cp")
hdr2 = f"{'workload':<{W}}" + "".join(f"{t:>14}" for t in tools)
print(hdr2)
print("-" * len(hdr2))
for wl in workloads:
    print(f"{wl + ' RSS':<{W}}" + "".join(f"{fmt(table[wl][t]['median_peak_rss_mib'], 0):>14}" for t in tools))
for wl in workloads:
    print(f"{wl + ' CPU s':<{W}}" + "".join(f"{fmt(table[wl][t]['median_cpu_seconds'], 2):>14}" for t in tools))
print()
print("runs, in order (value, or FAILED / TIMEOUT / SKIPPED):")
for wl in workloads:
    for t in tools:
        runs = table[wl][t]["runs"]
        print(f"  {wl:<8} {t:<14} " + " ".join(fmt(r["value"]) if r["status"] == "ok" else r["status"].upper() for r in runs))
notes = set()
for r in rows:
    if r["status"] != "ok" and r["note"]:
        key = (r["tool"], r["status"], r["note"]) if r["status"] == "skipped" else (r["workload"], r["tool"], r["round"])
        if key in notes:
            continue
        notes.add(key)
        print(f"  {r['workload']} {r['tool']} round {r['round']}: {r['status']}: {r['note']}")
print()
print("MB = 10^6 bytes. Ratios: the sluice row's median divided by s3fs's, or by the best peer's (s3fs,")
print("rclone: the highest rate, the lowest ms or MiB); for ms and MiB below 1 is better. cp is the ceiling:")
print("sluice cp to tmpfs, then the same read of the copy, timed together.")
print("environment:", out["environment"])
for k, v in versions.items():
    print(f"  {k}: {v}")
if os.environ.get("FF_OUT"):
    for wl in out["workloads"].values():
        for t in wl["tools"].values():
            for r in t["runs"]:
                r.pop("workload", None)
    with open(os.environ["FF_OUT"], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("JSON written to", os.environ["FF_OUT"])
EOF

# Exit 1 when any run failed, timed out or could not run, so a wrapper notices.
if awk -F'\t' '$4 != "ok" { bad = 1 } END { exit !bad }' "$RESULTS"; then
  log "some runs failed or were skipped (see above)"
  exit 1
fi
