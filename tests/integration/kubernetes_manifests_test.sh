#!/usr/bin/env bash
# examples/kubernetes (docs/scale-out.md) against the real Kubernetes OpenAPI schemas: every object
# validates against its model's schema and type, generated from the Kubernetes spec by the npm
# package kubernetes-models (no cluster here: the manifests are checked, never applied), and the
# Sluice checks hold (one Indexed Job, completions == parallelism == the job.json's InstanceCount,
# the headless Service, credentials only as a mounted file). Then the check itself: copies of the
# manifests broken in one way each must fail, each for its own reason.
# The checker's packages are installed by ./sluice.sh deps (npm ci in tests/kubernetes); a missing
# node or package fails this test, never skips it.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
root=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
checker=$root/tests/kubernetes/check-manifests.js
manifests=$root/examples/kubernetes

command -v node >/dev/null || fail "node is not installed (./sluice.sh deps installs it)"
[[ -d $root/tests/kubernetes/node_modules/kubernetes-models ]] ||
  fail "tests/kubernetes/node_modules is missing: run ./sluice.sh deps (npm ci in tests/kubernetes)"

node "$checker" "$manifests" || fail "examples/kubernetes does not pass the check (above)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# broken NAME EXPECTED SED-SCRIPT FILE: a copy of the manifests with FILE edited by SED-SCRIPT; the
# check of that copy must fail, saying EXPECTED. All copies are checked in one run (one parse of the
# type declarations), then each one's lines are looked at.
cases=()
broken() {
  local n=${#cases[@]}
  cp -r "$manifests" "$tmp/$n"
  sed -i "$3" "$tmp/$n/$4"
  ! cmp -s "$manifests/$4" "$tmp/$n/$4" || fail "$1: the edit changed nothing in $4"
  cases+=("$1"$'\t'"$2")
}
broken "a wrong field type (OpenAPI schema)" "must be integer" 's/^  completions: 2$/  completions: "2"/' job.yaml
broken "a value outside an enum (OpenAPI schema)" "must be equal to one of the allowed values" \
  's/restartPolicy: Never/restartPolicy: Sometimes/' job.yaml
broken "a missing required field (OpenAPI schema)" "must have required property name" \
  's/^      - name: host$/      - stdin: false/' job.yaml
broken "a misspelt field (Kubernetes types)" "'\"imagePullPolicyy\"' does not exist in type 'IContainer'" \
  '0,/imagePullPolicy:/s//imagePullPolicyy:/' job.yaml
broken "an unknown kind" "not a Kubernetes built-in kind" 's/^kind: Service$/kind: Servise/' service.yaml
broken "a Job that is not Indexed" "not Indexed" 's/completionMode: Indexed/completionMode: NonIndexed/' job.yaml
broken "completions and parallelism that are not InstanceCount" "must both be InstanceCount 2" \
  's/^  completions: 2$/  completions: 3/; s/^  parallelism: 2$/  parallelism: 3/' job.yaml
broken "an InstanceCount that is not completions" "must both be InstanceCount 3" \
  's/"InstanceCount": 2/"InstanceCount": 3/' configmap.yaml
broken "a credential in an env value" "env AWS_SECRET_ACCESS_KEY has a value in clear" \
  's|^        - name: AWS_REGION$|        - name: AWS_SECRET_ACCESS_KEY\n          value: placeholder\n        - name: AWS_REGION|' job.yaml
broken "an access key id in an env value" "env AWS_REGION's value looks like a credential" \
  's/value: us-east-1/value: AKIAIOSFODNN7EXAMPLE/' job.yaml
broken "a Service that is not headless" "not headless" 's/clusterIP: None/clusterIP: 10.0.0.10/' service.yaml
broken "a hosts file nobody writes" "no init container writes /etc/sluice/hostfile" \
  's|--hosts-file /etc/sluice/hosts|--hosts-file /etc/sluice/hostfile|' job.yaml

dirs=()
for n in "${!cases[@]}"; do dirs+=("$tmp/$n"); done
rc=0
node "$checker" "${dirs[@]}" >"$tmp/out" 2>&1 || rc=$?
[[ $rc == 1 ]] || { cat "$tmp/out" >&2; fail "the check of the broken copies exited $rc, expected 1"; }
for n in "${!cases[@]}"; do
  name=${cases[$n]%%$'\t'*} expected=${cases[$n]#*$'\t'}
  said=$(grep -F -- "FAIL $tmp/$n/" "$tmp/out" | grep -F -m1 -- "$expected") ||
    { grep -F -- "$tmp/$n/" "$tmp/out" >&2; fail "$name: the check did not fail saying '$expected'"; }
  echo "ok: $name fails: ${said//$tmp\/$n\//}"
done
echo "kubernetes_manifests_test: passed"
