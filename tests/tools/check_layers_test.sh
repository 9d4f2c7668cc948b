#!/usr/bin/env bash
# scripts/check-layers (issue 14: CI fails on an include that runs up a layer): the real tree
# passes, and a copy of its CMakeLists.txt with one planted include that runs up (store including
# job/) or sideways (policy including transfer/) fails naming the file and line.
set -euo pipefail
src=${1:?usage: check_layers_test.sh SOURCE_DIR}
check=$src/scripts/check-layers
python3 "$check" "$src"
tmp=$(mktemp -d /tmp/sluice-check-layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$src/CMakeLists.txt" "$tmp/"
mkdir -p "$tmp/src/store" "$tmp/src/job" "$tmp/src/policy" "$tmp/src/transfer" "$tmp/src/core"
printf '#include "core/error.hpp"\n#include <vector>\n' > "$tmp/src/store/ok.cpp"
printf '#include "store/ok.hpp"\n' > "$tmp/src/job/ok.cpp"
python3 "$check" "$tmp" >/dev/null || { echo "FAIL: a tree within its layers was refused" >&2; exit 1; }
printf '// fine\n#include "job/runner.hpp"\n' > "$tmp/src/store/bad.cpp"
printf '#include "transfer/engine.hpp"\n' > "$tmp/src/policy/bad.hpp"
if python3 "$check" "$tmp" 2>"$tmp/err"; then
  echo "FAIL: includes that run up the layers were not found" >&2
  exit 1
fi
grep -q '^src/store/bad.cpp:2: store includes job/' "$tmp/err" || { cat "$tmp/err" >&2; echo "FAIL: store -> job not named" >&2; exit 1; }
grep -q '^src/policy/bad.hpp:1: policy includes transfer/' "$tmp/err" || { cat "$tmp/err" >&2; echo "FAIL: policy -> transfer not named" >&2; exit 1; }
echo "check_layers: ok"
