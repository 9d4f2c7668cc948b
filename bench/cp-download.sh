#!/usr/bin/env bash
# bench/cp-download.sh: download throughput of `sluice cp -r` against aws, rclone and curl, on a
# loopback S3 store (Ceph RGW from scripts/local-s3), for many small and for few large objects.
#
#   bench/cp-download.sh [--rounds N] [--out FILE.json] [options]
#
# Options:
#   --rounds N          timed downloads per tool and dataset (default 3); the table shows medians
#   --out FILE          also write every run and the medians as JSON to FILE
#   --sluice BIN        the sluice binary to measure (default: build it with cmake + ninja into
#                       --build-dir, incrementally)
#   --build-dir DIR     where to build sluice (default /tmp/bench-build)
#   --aws BIN           the AWS CLI to measure (default /usr/bin/aws, Debian's v2, else `aws`)
#   --workdir DIR       parent of the temporary directory holding the generated data, the store and
#                       every tool's destination (default $TMPDIR or /tmp); one disk for all tools
#   --datasets LIST     comma-separated subset of: small, large (default small,large)
#   --tools LIST        comma-separated subset of: sluice, sluice-16, aws, rclone, curl (default:
#                       these five); sluice-no-md5 (--no-verify-md5, 64 connections) may be added
#                       to see what sluice's MD5 check costs
#   --run-timeout S     bound on one download (default 180 s); a tool that runs past it is marked
#                       "timeout" and skipped for the rest of that dataset
#   --small-count N     number of 10 KiB objects (default 10000)
#   --large-count N     number of 8 MiB objects (default 128)
#   -h, --help
#
# Without AWS_ENDPOINT_URL in the environment it starts its own store in the temporary directory
# and stops it (and removes everything it wrote) on any exit. With AWS_ENDPOINT_URL (plus
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) it uses that store, which must be on loopback, in a
# fresh bucket that it deletes at the end. See bench/README.md.
set -euo pipefail

readonly PROG=cp-download
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------------------------------------------
# Arguments

ROUNDS=3
OUT=''
SLUICE_BIN=''
BUILD_DIR=/tmp/bench-build
AWS_BIN=''
WORK_PARENT=${TMPDIR:-/tmp}
DATASETS_ARG=small,large
TOOLS_ARG=sluice,sluice-16,aws,rclone,curl
RUN_TIMEOUT=180
SMALL_COUNT=10000
LARGE_COUNT=128
readonly SMALL_SIZE=10240        # 10 KiB
readonly LARGE_SIZE=8388608      # 8 MiB
readonly SMALL_PER_DIR=1000      # small objects are spread over d0/, d1/, ... like a sharded dataset
readonly PEER_CONCURRENCY=16     # aws, rclone, curl and sluice-16
readonly SAMPLES=8               # files per dataset whose sha256 is checked after every run


while (($#)); do
  case $1 in
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --out) need_value "$@"; OUT=$2; shift 2 ;;
    --sluice) need_value "$@"; SLUICE_BIN=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --aws) need_value "$@"; AWS_BIN=$2; shift 2 ;;
    --workdir) need_value "$@"; WORK_PARENT=$2; shift 2 ;;
    --datasets) need_value "$@"; DATASETS_ARG=$2; shift 2 ;;
    --tools) need_value "$@"; TOOLS_ARG=$2; shift 2 ;;
    --run-timeout) need_value "$@"; RUN_TIMEOUT=$2; shift 2 ;;
    --small-count) need_value "$@"; SMALL_COUNT=$2; shift 2 ;;
    --large-count) need_value "$@"; LARGE_COUNT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) log "unknown argument: $1"; usage 2 ;;
  esac
done

is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be between 1 and 50"
is_uint "$RUN_TIMEOUT" && ((RUN_TIMEOUT >= 1)) || die "--run-timeout must be a positive number of seconds"
is_uint "$SMALL_COUNT" && ((SMALL_COUNT >= 1 && SMALL_COUNT <= 100000)) || die "--small-count must be between 1 and 100000"
is_uint "$LARGE_COUNT" && ((LARGE_COUNT >= 1 && LARGE_COUNT <= 256)) || die "--large-count must be between 1 and 256 (the store keeps data in RAM)"

IFS=, read -r -a DATASETS <<<"$DATASETS_ARG"
for d in "${DATASETS[@]}"; do [[ $d == small || $d == large ]] || die "unknown dataset '$d' (small, large)"; done
((${#DATASETS[@]})) || die "--datasets is empty"
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"
for t in "${TOOLS[@]}"; do
  case $t in sluice|sluice-16|sluice-no-md5|aws|rclone|curl) ;;
    *) die "unknown tool '$t' (sluice, sluice-16, sluice-no-md5, aws, rclone, curl)" ;; esac
done
((${#TOOLS[@]})) || die "--tools is empty"
has_tool() { local t; for t in "${TOOLS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }

if [[ -n $OUT ]]; then
  OUT=$(realpath -m -- "$OUT")
  [[ -d $(dirname "$OUT") && -w $(dirname "$OUT") ]] || die "--out: directory $(dirname "$OUT") does not exist or is not writable"
fi
[[ -d $WORK_PARENT && -w $WORK_PARENT ]] || die "--workdir $WORK_PARENT is not a writable directory"

# ---------------------------------------------------------------------------------------------------
# Packages: the peers and what this script itself uses

ensure_packages() {
  local -A pkg_of=([rclone]=rclone [curl]=curl [python3]=python3 [sha256sum]=coreutils
                   [timeout]=coreutils [split]=coreutils)
  local missing=() c
  for c in "${!pkg_of[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${pkg_of[$c]}"); done
  if [[ -z $AWS_BIN ]] && ! [[ -x /usr/bin/aws ]] && ! command -v aws >/dev/null 2>&1; then missing+=(awscli); fi
  ((${#missing[@]})) || return 0
  # awscli rclone curl always together (as documented), plus whatever else is missing
  local pkgs=(awscli rclone curl "${missing[@]}") sudo=()
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
  log "installing ${pkgs[*]}"
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install ${pkgs[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; then
    "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 ||
      die "apt-get install ${pkgs[*]} failed"
  fi
}
ensure_packages

if [[ -z $AWS_BIN ]]; then
  if [[ -x /usr/bin/aws ]]; then AWS_BIN=/usr/bin/aws; else AWS_BIN=$(command -v aws); fi
fi
[[ -x $AWS_BIN ]] || AWS_BIN=$(command -v "$AWS_BIN" 2>/dev/null) || die "--aws: '$AWS_BIN' is not executable"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

# ---------------------------------------------------------------------------------------------------
# Temporary directory, cleanup

WORK=''
STORE_DIR=''
STORE_STARTED=0
BUCKET=''
BUCKET_CREATED=0
EXTERNAL_STORE=0
CHILD=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null
    wait "$CHILD" 2>/dev/null
  fi
  if ((EXTERNAL_STORE && BUCKET_CREATED)); then
    log "deleting bucket $BUCKET from $AWS_ENDPOINT_URL"
    timeout 300 "$AWS_BIN" --endpoint-url "$AWS_ENDPOINT_URL" s3 rb --force "s3://$BUCKET" >/dev/null 2>&1 ||
      log "warning: could not delete bucket $BUCKET"
  fi
  if ((STORE_STARTED)); then
    "$ROOT/scripts/local-s3" stop --dir "$STORE_DIR" --purge >/dev/null 2>&1 ||
      log "warning: 'scripts/local-s3 stop --dir $STORE_DIR --purge' failed; its daemons may still run"
  fi
  [[ -n $WORK && -d $WORK ]] && rm -rf -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$WORK_PARENT/sluice-bench.XXXXXX")
WORK=$(realpath -- "$WORK")
mkdir -p "$WORK/src" "$WORK/logs" "$WORK/aws"

bench_loopback_only "$WORK/aws"

# ---------------------------------------------------------------------------------------------------
# The store

if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
  EXTERNAL_STORE=1
  bench_external_store
else
  STORE_DIR=$WORK/store
  bench_start_local_store "$STORE_DIR"
fi
bench_store_env

aws_cli() { timeout 600 "$AWS_BIN" --endpoint-url "$EP" "$@"; }

# ---------------------------------------------------------------------------------------------------
# sluice

bench_sluice "$BUILD_DIR" "$WORK/logs/build.log"

# ---------------------------------------------------------------------------------------------------
# Datasets: generate, upload, record what a correct download looks like

declare -A DS_COUNT DS_SIZE
DS_COUNT[small]=$SMALL_COUNT DS_SIZE[small]=$SMALL_SIZE
DS_COUNT[large]=$LARGE_COUNT DS_SIZE[large]=$LARGE_SIZE

generate() {  # $1 dataset
  local ds=$1 dir=$WORK/src/$1 n=${DS_COUNT[$1]} size=${DS_SIZE[$1]} i start chunk
  mkdir -p "$dir"
  if [[ $ds == small ]]; then
    for ((i = 0, start = 0; start < n; i++, start += SMALL_PER_DIR)); do
      chunk=$((n - start < SMALL_PER_DIR ? n - start : SMALL_PER_DIR))
      mkdir -p "$dir/d$i"
      head -c $((chunk * size)) /dev/urandom |
        split -b "$size" -a 5 --numeric-suffixes="$start" - "$dir/d$i/f"
    done
  else
    head -c $((n * size)) /dev/urandom | split -b "$size" -a 3 -d - "$dir/f"
  fi
  # what every correct download must contain: relative path and size, sorted
  (cd "$dir" && find . -type f -printf '%P\t%s\n' | LC_ALL=C sort) >"$WORK/expect-$ds.tsv"
  local got
  got=$(wc -l <"$WORK/expect-$ds.tsv")
  ((got == n)) || die "generated $got files for $ds, expected $n"
  # sha256 of a few files spread over the dataset
  awk -F'\t' -v n="$n" -v k="$SAMPLES" 'BEGIN { step = n / k; if (step < 1) step = 1 }
    { if (NR - 1 >= next_pick) { print $1; next_pick += step } }' "$WORK/expect-$ds.tsv" |
    (cd "$dir" && xargs -d '\n' sha256sum) >"$WORK/sample-$ds.sha256"
}

# The object listing, as "relative-path<TAB>size" sorted, to check the upload and drive curl.
list_prefix() {  # $1 dataset
  aws_cli s3api list-objects-v2 --bucket "$BUCKET" --prefix "$1/" \
    --query 'Contents[].[Key, Size]' --output text |
    awk -F'\t' -v p="$1/" '$1 != "None" { print substr($1, length(p) + 1) "\t" $2 }' | LC_ALL=C sort
}

upload() {  # $1 dataset
  local ds=$1 t0 t1
  t0=$(date +%s.%N)
  local rc=0
  timeout 900 "$SLUICE_BIN" --max-connections 64 cp -r --quiet "$WORK/src/$ds" "s3://$BUCKET/$ds/" \
    >"$WORK/logs/upload-$ds.log" 2>&1 || rc=$?
  if ((rc != 0)); then
    log "warning: 'sluice cp -r' upload of $ds failed (exit $rc); uploading with aws instead:"
    tail -n 5 "$WORK/logs/upload-$ds.log" | sed 's/^/    /' >&2
    UPLOAD_NOTES+=("sluice upload of $ds failed; aws s3 cp used")
    aws_cli s3 cp --recursive --only-show-errors "$WORK/src/$ds" "s3://$BUCKET/$ds/" >&2 ||
      die "the aws upload of $ds failed too"
  fi
  t1=$(date +%s.%N)
  list_prefix "$ds" >"$WORK/listing-$ds.tsv"
  cmp -s "$WORK/listing-$ds.tsv" "$WORK/expect-$ds.tsv" ||
    die "after the upload the store's listing of s3://$BUCKET/$ds/ differs from the generated files ($(wc -l <"$WORK/listing-$ds.tsv") listed, ${DS_COUNT[$ds]} expected)"
  log "uploaded $ds: ${DS_COUNT[$ds]} objects in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
  # curl's work list, from the listing (done once, not timed): every object to its relative path
  awk -F'\t' -v ep="$EP" -v b="$BUCKET" -v p="$ds/" \
    '{ printf "url = \"%s/%s/%s%s\"\noutput = \"%s\"\n", ep, b, p, $1, $1 }' "$WORK/listing-$ds.tsv" \
    >"$WORK/curl-$ds.urls"
}

UPLOAD_NOTES=()
BUCKET=sluice-bench-$(date +%s)-$$
aws_cli s3api create-bucket --bucket "$BUCKET" >/dev/null || die "could not create bucket $BUCKET at $EP"
BUCKET_CREATED=1
for ds in "${DATASETS[@]}"; do
  log "generating $ds: ${DS_COUNT[$ds]} x ${DS_SIZE[$ds]} bytes of random data"
  generate "$ds"
  upload "$ds"
  rm -rf -- "${WORK:?}/src/$ds"   # the expected listing and the sample hashes are kept
done

# ---------------------------------------------------------------------------------------------------
# Tool configuration (all private to $WORK)

# aws: 16 concurrent requests, from a config file of our own
AWS_CFG=$WORK/aws/config
AWS_CONFIG_FILE=$AWS_CFG "$AWS_BIN" configure set default.s3.max_concurrent_requests "$PEER_CONCURRENCY"
AWS_CONFIG_FILE=$AWS_CFG "$AWS_BIN" configure set default.region "$AWS_REGION"

# curl: credentials in the config file rather than on the command line (ps shows arguments)
CURL_AUTH=$WORK/curl-auth.cfg
umask_old=$(umask); umask 077
printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$CURL_AUTH"
umask "$umask_old"

: >"$WORK/rclone.conf"

tool_cmd() {  # $1 tool, $2 dataset, $3 destination; sets CMD (run with the destination as cwd)
  local tool=$1 ds=$2 dest=$3
  case $tool in
    sluice) CMD=("$SLUICE_BIN" cp -r --quiet "s3://$BUCKET/$ds/" "$dest") ;;
    sluice-16) CMD=("$SLUICE_BIN" --max-connections "$PEER_CONCURRENCY" cp -r --quiet "s3://$BUCKET/$ds/" "$dest") ;;
    sluice-no-md5) CMD=("$SLUICE_BIN" cp -r --quiet --no-verify-md5 "s3://$BUCKET/$ds/" "$dest") ;;
    aws) CMD=(env "AWS_CONFIG_FILE=$AWS_CFG" "$AWS_BIN" --endpoint-url "$EP"
              s3 cp --recursive --only-show-errors "s3://$BUCKET/$ds/" "$dest") ;;
    rclone) CMD=(env -u AWS_CA_BUNDLE "RCLONE_CONFIG=$WORK/rclone.conf"
                 RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Ceph
                 "RCLONE_CONFIG_BENCH_ENDPOINT=$EP"
                 "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
                 "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
                 rclone copy --transfers "$PEER_CONCURRENCY" --checkers "$PEER_CONCURRENCY" -q
                 "bench:$BUCKET/$ds" "$dest") ;;
    curl) CMD=(curl --parallel --parallel-max "$PEER_CONCURRENCY" --fail -sS --no-progress-meter --create-dirs
               --aws-sigv4 "aws:amz:$AWS_REGION:s3" -K "$CURL_AUTH"
               -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -K "$WORK/curl-$ds.urls") ;;
  esac
}

# ---------------------------------------------------------------------------------------------------
# Verification of one download: every file with the right size (and nothing else), sample hashes

VERIFY_NOTE=''
verify() {  # $1 dataset, $2 destination
  local ds=$1 dest=$2 got=$WORK/got.tsv n bytes en eb
  (cd "$dest" && find . -mindepth 1 \( -type f -printf '%P\t%s\n' \) -o \( ! -type d -printf '%P\t?\n' \) |
    LC_ALL=C sort) >"$got"
  if ! cmp -s "$got" "$WORK/expect-$ds.tsv"; then
    read -r n bytes < <(awk -F'\t' '{ n++; b += ($2 == "?" ? 0 : $2) } END { printf "%d %.0f\n", n, b }' "$got")
    read -r en eb < <(awk -F'\t' '{ n++; b += $2 } END { printf "%d %.0f\n", n, b }' "$WORK/expect-$ds.tsv")
    local first
    # the first lines that differ: "<" expected, ">" what the download holds
    first=$(diff "$WORK/expect-$ds.tsv" "$got" | grep '^[<>]' | head -n 2 | tr '\t\n' ' ') || true
    VERIFY_NOTE="wrong result: $n files / $bytes bytes, expected $en / $eb (first differences: ${first% })"
    return 1
  fi
  if ! (cd "$dest" && sha256sum -c --quiet --strict "$WORK/sample-$ds.sha256") >"$WORK/sha.log" 2>&1; then
    VERIFY_NOTE="wrong content: $(head -n 1 "$WORK/sha.log")"
    return 1
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------------
# Runs

RESULTS=$WORK/results.tsv   # dataset tool round seconds cpu-seconds status note
: >"$RESULTS"
DEST=$WORK/dest
declare -A SKIP

# User + system CPU seconds of this shell's reaped children, from the output of `times`.
cpu_seconds() {
  awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.3f", t }' "$1"
}

run_one() {  # $1 dataset, $2 tool, $3 round
  local ds=$1 tool=$2 round=$3 t0 t1 rc secs cpu status note='' logf=$WORK/logs/run.log
  if [[ -n ${SKIP[$ds/$tool]:-} ]]; then
    printf '%s\t%s\t%s\t\t\tskipped\t%s\n' "$ds" "$tool" "$round" "timed out in an earlier round" >>"$RESULTS"
    return 0
  fi
  rm -rf -- "$DEST"
  mkdir -p "$DEST"
  sync   # the previous run's dirty pages are not written back while this one is timed
  tool_cmd "$tool" "$ds" "$DEST"
  times >"$WORK/times0"   # a builtin in this shell (no fork): its children's CPU time so far
  t0=$(date +%s.%N)
  (cd "$DEST" && exec timeout -k 10 "$RUN_TIMEOUT" "${CMD[@]}") </dev/null >"$logf" 2>&1 &
  CHILD=$!
  rc=0
  wait "$CHILD" || rc=$?
  t1=$(date +%s.%N)
  times >"$WORK/times1"
  CHILD=''
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  cpu=$(cpu_seconds "$WORK/times1")
  cpu=$(awk -v a="$(cpu_seconds "$WORK/times0")" -v b="$cpu" 'BEGIN { printf "%.2f", b - a }')
  if ((rc == 124 || rc == 137)); then
    status=timeout note="ran past --run-timeout ${RUN_TIMEOUT} s; skipped for the remaining rounds"
    SKIP[$ds/$tool]=1
  elif ((rc != 0)); then
    status=failed note="exit $rc: $(grep -v '^\s*$' "$logf" | tail -n 3 | tr '\t\r\n' '   ' | cut -c1-400)"
  elif ! verify "$ds" "$DEST"; then
    status=failed note=$VERIFY_NOTE
  else
    status=ok
    # a successful run that still printed something (warnings) is worth knowing about
    [[ -s $logf ]] && note="stderr: $(grep -v '^\s*$' "$logf" | tail -n 2 | tr '\t\r\n' '   ' | cut -c1-300)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ds" "$tool" "$round" "$secs" "$cpu" "$status" "$note" >>"$RESULTS"
  if [[ $status == ok ]]; then
    log "$(printf '[%s] round %d/%d %-13s %8.3f s  %8.0f objects/s  %7.1f MB/s  client CPU %6.2f s' "$ds" "$round" "$ROUNDS" "$tool" "$secs" \
      "$(awk -v n="${DS_COUNT[$ds]}" -v s="$secs" 'BEGIN { print n / s }')" \
      "$(awk -v n="${DS_COUNT[$ds]}" -v z="${DS_SIZE[$ds]}" -v s="$secs" 'BEGIN { print n * z / s / 1e6 }')" "$cpu")"
  else
    log "$(printf '[%s] round %d/%d %-13s %8.3f s  %s: %s' "$ds" "$round" "$ROUNDS" "$tool" "$secs" "${status^^}" "$note")"
  fi
  rm -rf -- "$DEST"
}

read -r LOAD_START _ </proc/loadavg
if awk -v l="$LOAD_START" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: the 1-minute load average is $LOAD_START on $(nproc) CPUs: other work shares the machine with the store and the clients, so absolute numbers will be low and noisy"
fi
for ds in "${DATASETS[@]}"; do
  for ((r = 1; r <= ROUNDS; r++)); do
    # rotate the order each round so no tool always runs first (or right after another)
    for ((i = 0; i < ${#TOOLS[@]}; i++)); do
      run_one "$ds" "${TOOLS[$(((i + r - 1) % ${#TOOLS[@]}))]}" "$r"
    done
  done
done

# ---------------------------------------------------------------------------------------------------
# Report

read -r LOAD_END _ </proc/loadavg

first_line() { "$@" 2>&1 | head -n 1 || true; }
export BENCH_RESULTS=$RESULTS BENCH_OUT=$OUT BENCH_ROUNDS=$ROUNDS
export BENCH_TOOLS=${TOOLS[*]} BENCH_DATASETS=${DATASETS[*]}
export BENCH_SMALL="$SMALL_COUNT $SMALL_SIZE" BENCH_LARGE="$LARGE_COUNT $LARGE_SIZE"
BENCH_VERSIONS=$(printf 'sluice\t%s\naws\t%s\nrclone\t%s\ncurl\t%s\n' \
  "$(first_line "$SLUICE_BIN" --version) ($SLUICE_BIN, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git -C "$ROOT" status --porcelain -- src include CMakeLists.txt 2>/dev/null) ]] && echo ', src modified'))" \
  "$(first_line "$AWS_BIN" --version)" "$(first_line rclone version)" "$(first_line curl --version)")
export BENCH_VERSIONS
BENCH_ENV="endpoint $EP ($( ((STORE_STARTED)) && echo 'scripts/local-s3, Ceph RGW memstore' || echo 'from AWS_ENDPOINT_URL')); $(nproc) CPUs, $(uname -sr); destination on $(df -P "$WORK" | awk 'NR == 2 { print $1 }'); peers at $PEER_CONCURRENCY concurrent requests; load average (1 min) $LOAD_START before the runs, $LOAD_END after"
export BENCH_ENV BENCH_NOTES
BENCH_NOTES=$(printf '%s\n' "${UPLOAD_NOTES[@]+"${UPLOAD_NOTES[@]}"}")

"$PY" - <<'EOF'
import json, os, statistics, time

results = []
with open(os.environ["BENCH_RESULTS"], newline="\n") as f:
    for line in f:
        ds, tool, rnd, secs, cpu, status, note = line.rstrip("\n").split("\t", 6)
        results.append(dict(dataset=ds, tool=tool, round=int(rnd), seconds=float(secs) if secs else None,
                            client_cpu_seconds=float(cpu) if cpu else None, status=status, note=note))

tools = os.environ["BENCH_TOOLS"].split()
datasets = os.environ["BENCH_DATASETS"].split()
shape = {"small": os.environ["BENCH_SMALL"], "large": os.environ["BENCH_LARGE"]}
versions = dict(l.split("\t", 1) for l in os.environ["BENCH_VERSIONS"].splitlines() if "\t" in l)
out = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rounds": int(os.environ["BENCH_ROUNDS"]),
       "environment": os.environ["BENCH_ENV"], "versions": versions,
       "notes": [n for n in os.environ.get("BENCH_NOTES", "").splitlines() if n], "datasets": {}}

def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"

for ds in datasets:
    count, size = map(int, shape[ds].split())
    total = count * size
    rows = {}
    for tool in tools:
        runs = [r for r in results if r["dataset"] == ds and r["tool"] == tool]
        for r in runs:
            if r["status"] == "ok":
                r["objects_per_s"] = count / r["seconds"]
                r["mb_per_s"] = total / r["seconds"] / 1e6
        ok = [r for r in runs if r["status"] == "ok"]
        rows[tool] = {
            "runs": [{k: r[k] for k in ("round", "seconds", "client_cpu_seconds", "status", "note",
                                         "objects_per_s", "mb_per_s") if k in r}
                     for r in runs],
            "ok_runs": len(ok), "failed_runs": len(runs) - len(ok),
            "median_seconds": statistics.median([r["seconds"] for r in ok]) if ok else None,
            "median_objects_per_s": statistics.median([r["objects_per_s"] for r in ok]) if ok else None,
            "median_mb_per_s": statistics.median([r["mb_per_s"] for r in ok]) if ok else None,
            "median_client_cpu_seconds": statistics.median([r["client_cpu_seconds"] for r in ok]) if ok else None,
        }
    for tool, row in rows.items():
        for peer in ("rclone", "curl"):
            p = rows.get(peer)
            row[f"ratio_to_{peer}"] = (row["median_mb_per_s"] / p["median_mb_per_s"]
                                       if p and p["median_mb_per_s"] and row["median_mb_per_s"] else None)
    out["datasets"][ds] = {"objects": count, "object_bytes": size, "total_bytes": total, "tools": rows}

    print()
    print(f"{ds}: {count} objects x {size} bytes = {total / 1e6:.1f} MB, medians of {out['rounds']} rounds")
    hdr = (f"{'tool':<13} {'objects/s':>10} {'MB/s':>8} {'vs rclone':>10} {'vs curl':>8} {'CPU s':>7}"
           f"  runs (seconds)")
    print(hdr)
    print("-" * len(hdr))
    for tool, row in rows.items():
        runs = " ".join(f"{r['seconds']:.2f}" if r["status"] == "ok" else r["status"].upper()
                        for r in row["runs"])
        ops = "-" if row["median_objects_per_s"] is None else f"{row['median_objects_per_s']:.0f}"
        mbs = "-" if row["median_mb_per_s"] is None else f"{row['median_mb_per_s']:.1f}"
        cpu = "-" if row["median_client_cpu_seconds"] is None else f"{row['median_client_cpu_seconds']:.1f}"
        print(f"{tool:<13} {ops:>10} {mbs:>8} {fmt_ratio(row['ratio_to_rclone']):>10} "
              f"{fmt_ratio(row['ratio_to_curl']):>8} {cpu:>7}  {runs}")
    for tool, row in rows.items():
        for r in row["runs"]:
            if r["status"] != "ok" or r["note"]:
                print(f"  {tool} round {r['round']}: {r['status']}: {r['note']}")

print()
print("objects/s, MB/s (10^6 bytes): medians of the successful runs; vs rclone / vs curl: ratio of median")
print("rates; CPU s: median user+system CPU seconds of the client process tree (the store is not counted)")
print("environment:", out["environment"])
for k, v in versions.items():
    print(f"  {k}: {v}")
for n in out["notes"]:
    print("note:", n)
if os.environ.get("BENCH_OUT"):
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("JSON written to", os.environ["BENCH_OUT"])
EOF

# Exit 1 when any run failed or timed out, so a wrapper notices.
if awk -F'\t' '$5 == "failed" || $5 == "timeout" { bad = 1 } END { exit !bad }' "$RESULTS"; then
  log "some runs failed (see above)"
  exit 1
fi
