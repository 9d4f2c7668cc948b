#!/usr/bin/env python3
"""A training script for tests/e2e/train_outputs_test.sh: checkpoints and outputs.

    checkpointer.py first|next

Both phases first record what /opt/ml/checkpoints held at start (restored checkpoints) in
/opt/ml/model/seen-at-start.json ({relative path: sha256}), and write a model
(/opt/ml/model/model.bin, /opt/ml/model/sub/extra.txt) and output data
(/opt/ml/output/data/out.txt).

"first" then works the checkpoint directory the way a training loop does:
  - writes ckpt-1.bin and sub/ckpt-2.bin, and ckpt-4.bin by writing ckpt-4.bin.tmp and renaming it;
  - writes early.bin, creates /opt/ml/code/wrote-early and waits (at most 30 s) for the test to
    create /opt/ml/code/go (the test checks meanwhile that early.bin was uploaded during training);
  - deletes early.bin and the restored stale.bin (deletions must propagate), writes ckpt-3.bin and
    deletes it at once, and rewrites ckpt-1.bin with other bytes (the final object must have them).
"next" writes ckpt-5.bin.
"""
import hashlib
import json
import os
import sys
import time

CK = "/opt/ml/checkpoints"
phase = sys.argv[1]
job = os.environ["TRAINING_JOB_NAME"]


def blob(name, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{job}/{name}/{i}".encode()).digest()
        i += 1
    return out[:n]


def write(rel, data):
    p = os.path.join(CK, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


seen = {}
for d, _, files in os.walk(CK):
    for f in files:
        p = os.path.join(d, f)
        seen[os.path.relpath(p, CK)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
with open("/opt/ml/model/seen-at-start.json", "w") as f:
    json.dump(seen, f, sort_keys=True)
print(f"checkpoints at start: {sorted(seen)}", flush=True)

os.makedirs("/opt/ml/model/sub", exist_ok=True)
with open("/opt/ml/model/model.bin", "wb") as f:
    f.write(blob("model", 50000))
with open("/opt/ml/model/sub/extra.txt", "w") as f:
    f.write(f"extra of {job}\n")
with open("/opt/ml/output/data/out.txt", "w") as f:
    f.write(f"output of {job}\n")

if phase == "first":
    write("ckpt-1.bin", blob("ckpt-1", 200000))
    write("sub/ckpt-2.bin", blob("ckpt-2", 3000))
    write("ckpt-4.bin.tmp", blob("ckpt-4", 7000))
    os.rename(os.path.join(CK, "ckpt-4.bin.tmp"), os.path.join(CK, "ckpt-4.bin"))
    write("early.bin", blob("early", 1234))
    open("/opt/ml/code/wrote-early", "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists("/opt/ml/code/go") and time.monotonic() < deadline:
        time.sleep(0.1)
    print(f"go: {os.path.exists('/opt/ml/code/go')}", flush=True)
    os.remove(os.path.join(CK, "early.bin"))
    if os.path.exists(os.path.join(CK, "stale.bin")):
        os.remove(os.path.join(CK, "stale.bin"))
    write("ckpt-3.bin", blob("ckpt-3", 100))
    os.remove(os.path.join(CK, "ckpt-3.bin"))
    write("ckpt-1.bin", blob("ckpt-1-final", 150000))
else:
    write("ckpt-5.bin", blob("ckpt-5", 999))
print("done", flush=True)
