#!/usr/bin/env bash
# `sluice train` end to end, 2 hosts: ShardedByS3Key gives each host a disjoint share of a prefix
# of 25 objects, the shares together are the whole prefix, byte for byte, and they are dealt
# round robin in key byte order (docs/sharding-and-shuffling.md); the same job run again (fresh
# work directory, another job name) gives the same shares, also with ShuffleConfig; a
# FullyReplicated channel gives both hosts everything; `--host algo-2` runs algo-2 alone.
# What each host saw is checked twice: in the work directory (<work>/<job>/algo-K/input/data)
# and as the job itself listed it (tests/e2e/scripts/list_channels.py, via model.tar.gz); each host
# also runs tests/e2e/scripts/check_contract.py (SM_HOSTS, SM_CURRENT_HOST, is_master, ... per host).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init sharding

# 25 objects whose names exercise the byte order (upper case before lower case, '-' '.' '/' '_').
names=(A1.rec B2.rec Z9.rec a0.rec a1.rec a10.rec a2.rec b-1.rec b.2.rec b_3.rec
       c/1.rec c/2.rec c/sub/3.rec c-d.rec d.rec e.rec "f g.rec" h.rec i.rec j.rec
       k.rec l.rec m.rec n/o.rec zz.rec)
((${#names[@]} == 25)) || fail "test setup: ${#names[@]} names"
i=0
for n in "${names[@]}"; do
  rand_file "$tmp/src/$n" $((100 + i * 37)); i=$((i + 1))
done
rand_file "$tmp/other/not-in-prefix.rec" 10
"$sluice" cp -q -r "$tmp/src" "s3://$bucket/shard" || fail "upload failed"
"$sluice" cp -q "$tmp/other/not-in-prefix.rec" "s3://$bucket/shard-other/not-in-prefix.rec"

make_job() {  # make_job NAME FILE
  cat > "$2" <<EOF
{
  "TrainingJobName": "$1",
  "RoleArn": "arn:aws:iam::123456789012:role/SluiceE2E",
  "AlgorithmSpecification": {"TrainingInputMode": "File",
                             "ContainerEntrypoint": ["sh", "-c", "python3 \"\$0\" && python3 \"\$1\"",
                                                     "$scripts/list_channels.py", "$scripts/check_contract.py"]},
  "InputDataConfig": [
    {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
      "S3Uri": "s3://$bucket/shard/", "S3DataDistributionType": "ShardedByS3Key"}}},
    {"ChannelName": "shuf", "ShuffleConfig": {"Seed": 7}, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
      "S3Uri": "s3://$bucket/shard/", "S3DataDistributionType": "ShardedByS3Key"}}},
    {"ChannelName": "all", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
      "S3Uri": "s3://$bucket/shard/", "S3DataDistributionType": "FullyReplicated"}}}
  ],
  "OutputDataConfig": {"S3OutputPath": "s3://$bucket/out/"},
  "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1},
  "StoppingCondition": {"MaxRuntimeInSeconds": 120}
}
EOF
}

job1=shard-a-$$-$RANDOM job2=shard-b-$$-$RANDOM job3=shard-c-$$-$RANDOM
make_job "$job1" "$tmp/job1.json"
make_job "$job2" "$tmp/job2.json"
make_job "$job3" "$tmp/job3.json"

train rc "$tmp/job1.json" --work-dir "$tmp/w1"
expect_rc "$rc" 0 "run 1 (2 hosts)"
# shellcheck disable=SC2015  # fail never returns
grep -q '^\[algo-1\] algo-1: ' "$tmp/train.err" && grep -q '^\[algo-2\] algo-2: ' "$tmp/train.err" \
  || { show_train_log; fail "the two hosts' output is not in the log with their prefixes"; }
"$sluice" cp -q "s3://$bucket/out/$job1/output/model.tar.gz" "$tmp/model1.tar.gz" || fail "run 1 uploaded no model.tar.gz"
mkdir "$tmp/model1" && tar -xzf "$tmp/model1.tar.gz" -C "$tmp/model1"

train rc "$tmp/job2.json" --work-dir "$tmp/w2"
expect_rc "$rc" 0 "run 2 (the same job again)"

train rc "$tmp/job3.json" --work-dir "$tmp/w3" --host algo-2
expect_rc "$rc" 0 "run 3 (--host algo-2)"
[[ -d $tmp/w3/$job3/algo-2 ]] || fail "--host algo-2 made no algo-2 directory"
[[ ! -e $tmp/w3/$job3/algo-1 ]] || fail "--host algo-2 also prepared algo-1: $(ls "$tmp/w3/$job3")"
[[ $(ls "$tmp/w3/$job3/logs") == algo-2.log ]] || fail "--host algo-2 logs: $(ls "$tmp/w3/$job3/logs")"
! grep -q '^\[algo-1\]' "$tmp/train.err" || fail "--host algo-2 ran algo-1 too"
# docs/train.md: with --host only algo-1 uploads, so that hosts on other machines do not collide.
! "$sluice" cp -q "s3://$bucket/out/$job3/output/model.tar.gz" "$tmp/model3.tar.gz" 2>/dev/null \
  || fail "--host algo-2 uploaded a model.tar.gz (only algo-1 uploads)"

python3 - "$tmp" "$job1" "$job2" "$job3" "${names[@]}" <<'PY'
import hashlib, json, os, sys
tmp, job1, job2, job3, *names = sys.argv[1:]
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)

def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
src = {n: sha(os.path.join(tmp, "src", n)) for n in names}
order = sorted(names, key=lambda n: n.encode())      # ListObjectsV2 order: UTF-8 bytes

def seen(work, job, host, ch):
    root = os.path.join(tmp, work, job, host, "input", "data", ch)
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = sha(p)
    return out

def check_bytes(files, what):
    for rel, h in files.items():
        want(rel in src, f"{what}: {rel} is not an object of the prefix")
        want(src.get(rel) == h, f"{what}: {rel} differs from the source object")

run1 = {h: {ch: seen("w1", job1, h, ch) for ch in ("train", "shuf", "all")} for h in ("algo-1", "algo-2")}
run2 = {h: {ch: seen("w2", job2, h, ch) for ch in ("train", "shuf", "all")} for h in ("algo-1", "algo-2")}
run3 = {ch: seen("w3", job3, "algo-2", ch) for ch in ("train", "shuf", "all")}

for h in run1:
    for ch in run1[h]:
        check_bytes(run1[h][ch], f"run 1 {h} {ch}")
        check_bytes(run2[h][ch], f"run 2 {h} {ch}")

for ch in ("train", "shuf"):
    a, b = set(run1["algo-1"][ch]), set(run1["algo-2"][ch])
    want(not (a & b), f"{ch}: the shares overlap: {sorted(a & b)}")
    want(a | b == set(names), f"{ch}: the shares miss {sorted(set(names) - (a | b))}")
    want(sorted([len(a), len(b)]) == [12, 13], f"{ch}: share sizes {len(a)}, {len(b)} (want 13 and 12)")
    for h in ("algo-1", "algo-2"):
        want(run2[h][ch] == run1[h][ch], f"{ch}: {h}'s share differs between two runs of the same job: "
             f"{sorted(run1[h][ch])} vs {sorted(run2[h][ch])}")
    want(run3[ch] == run1["algo-2"][ch], f"{ch}: --host algo-2 got {sorted(run3[ch])}, the full run gave algo-2 {sorted(run1['algo-2'][ch])}")
# Without ShuffleConfig: round robin over the byte-ordered keys (rank r gets r, r+N, ...).
want(set(run1["algo-1"]["train"]) == set(order[0::2]), f"train: algo-1 got {sorted(run1['algo-1']['train'])}, round robin gives {order[0::2]}")
want(set(run1["algo-2"]["train"]) == set(order[1::2]), f"train: algo-2 got {sorted(run1['algo-2']['train'])}, round robin gives {order[1::2]}")
want(set(run1["algo-1"]["shuf"]) != set(run1["algo-1"]["train"]), "shuf: ShuffleConfig changed nothing (seed 7 gives another deal)")
for h in ("algo-1", "algo-2"):
    want(run1[h]["all"] == src, f"all (FullyReplicated): {h} has {len(run1[h]['all'])} of 25 files or other bytes")
want(run3["all"] == src, "all (FullyReplicated) with --host algo-2: not every file")

# What the job saw from inside equals the work directory, and the config says who is who.
for h in ("algo-1", "algo-2"):
    p = os.path.join(tmp, "model1", f"listing-{h}.json")
    if not os.path.exists(p):
        problems.append(f"model.tar.gz has no listing-{h}.json: {os.listdir(os.path.join(tmp, 'model1'))}")
        continue
    inside = json.load(open(p))
    want(inside["host"] == h and inside["hosts"] == ["algo-1", "algo-2"], f"{h}: SM_CURRENT_HOST/SM_HOSTS {inside['host']}, {inside['hosts']}")
    want(inside["resourceconfig"]["current_host"] == h, f"{h}: resourceconfig current_host {inside['resourceconfig']['current_host']}")
    want(inside["channels"] == run1[h], f"{h}: what the job listed differs from its work directory")
inside3 = json.load(open(os.path.join(tmp, "w3", job3, "algo-2", "model", "listing-algo-2.json")))
want(inside3["host"] == "algo-2" and inside3["hosts"] == ["algo-1", "algo-2"], f"--host algo-2: SM_* {inside3['host']}, {inside3['hosts']}")
want(inside3["channels"] == run3, "--host algo-2: what the job listed differs from its work directory")

# The contract as each host saw it (check_contract.py's own checks: SM_HOSTS, SM_CURRENT_HOST,
# resourceconfig.json, is_master, ... for algo-1 and algo-2).
for h, p in (("algo-1", os.path.join(tmp, "model1", "report-algo-1.json")),
             ("algo-2", os.path.join(tmp, "model1", "report-algo-2.json")),
             ("algo-2 alone", os.path.join(tmp, "w3", job3, "algo-2", "model", "report-algo-2.json"))):
    if not os.path.exists(p):
        problems.append(f"{h}: no contract report {p}")
        continue
    rep = json.load(open(p))
    bad = [f"{c['name']}: {c['detail']}" for c in rep["checks"] if not c["ok"]]
    want(not bad and len(rep["checks"]) > 40, f"{h}: contract checks failed inside the job: {bad}")
    host = h.split()[0]
    want(rep["environ"].get("SM_CURRENT_HOST") == host and rep["environ"].get("SM_HOSTS") == '["algo-1","algo-2"]',
         f"{h}: SM_CURRENT_HOST {rep['environ'].get('SM_CURRENT_HOST')}, SM_HOSTS {rep['environ'].get('SM_HOSTS')}")
    want(rep["training_env"].get("is_master") == (host == "algo-1") and rep["training_env"].get("master_hostname") == "algo-1",
         f"{h}: is_master {rep['training_env'].get('is_master')}, master_hostname {rep['training_env'].get('master_hostname')}")
    want(rep["hostname"] == host, f"{h}: hostname {rep['hostname']}")

for work, job in (("w1", job1), ("w2", job2), ("w3", job3)):
    st = json.load(open(os.path.join(tmp, work, job, "status.json")))
    want(st["TrainingJobStatus"] == "Completed", f"{job}: {st['TrainingJobStatus']}")

if problems:
    print("\n".join("FAIL: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print("shares: algo-1 train", sorted(run1["algo-1"]["train"]))
print("shares: algo-2 train", sorted(run1["algo-2"]["train"]))
PY
echo "train_sharding: ok"
