#!/usr/bin/env bash
# Runs one libFuzzer target for a short, fixed time over a copy of its seed corpus (the ctest
# "fuzz" tests; see README.md). Fails on any finding: a crash, sanitizer report, leak, uncaught
# exception, timeout (-timeout) or out-of-memory (-rss_limit_mb); the crashing input is left in
# WORK/artifacts/ and printed.
#   run_short.sh --binary FUZZER --corpus SEED_DIR --work WORK_DIR --seconds N [--dict FILE]
set -euo pipefail

binary= corpus= work= seconds=10 dict=
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --dict) dict=$2; shift 2 ;;
    *) echo "run_short.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in binary corpus work; do
  [ -n "${!v}" ] || { echo "run_short.sh: --$v is required" >&2; exit 2; }
done
[ -x "$binary" ] || { echo "run_short.sh: fuzzer '$binary' is not an executable" >&2; exit 2; }
seeds=$(find "$corpus" -maxdepth 1 -type f 2>/dev/null | wc -l)
[ "$seeds" -gt 0 ] || { echo "run_short.sh: seed corpus '$corpus' is empty or missing" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$corpus"/* "$work/corpus/"   # the fuzzer adds inputs here; the source tree is not written

args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
[ -z "$dict" ] || args+=(-dict="$dict")
echo "run_short.sh: $binary ${args[*]} $work/corpus ($seeds seeds)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
set +e
"$binary" "${args[@]}" "$work/corpus" > "$work/fuzz.log" 2>&1
rc=$?
set -e
tail -n 60 "$work/fuzz.log"
if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
  echo "run_short.sh: FINDING (exit $rc); inputs:" >&2
  ls -l "$work/artifacts" >&2
  exit 1
fi
# A run that did not fuzz (no "Done N runs") must not pass silently.
grep -q '^Done [0-9]* runs' "$work/fuzz.log" || { echo "run_short.sh: the fuzzer did not finish a run" >&2; exit 1; }
echo "run_short.sh: no finding in ${seconds}s"
