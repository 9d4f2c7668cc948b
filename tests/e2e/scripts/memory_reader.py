#!/usr/bin/env python3
"""A training script for e2e.train_memory_test: reads a FastFile channel and a Pipe channel at the
same time (one thread each, 1 MiB reads), so that both channels fetch ahead from the job's one
memory budget at once.

Writes $SM_MODEL_DIR/read.json:
  {"fastfile": {relative path: sha256}, every file of channel "ff", read to its end
   "pipe": sha256 of all the bytes of /opt/ml/input/data/pp_0, "pipe_bytes": their count}
Standard library only.
"""
import hashlib
import json
import os
import threading

data = "/opt/ml/input/data"
result = {}


def read_fastfile():
    root = os.path.join(data, "ff")
    files = {}
    for d, _, names in os.walk(root):
        for name in sorted(names):
            p = os.path.join(d, name)
            h = hashlib.sha256()
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            files[os.path.relpath(p, root)] = h.hexdigest()
    result["fastfile"] = files


def read_pipe():
    h, n = hashlib.sha256(), 0
    with open(os.path.join(data, "pp_0"), "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    result["pipe"], result["pipe_bytes"] = h.hexdigest(), n


threads = [threading.Thread(target=read_fastfile), threading.Thread(target=read_pipe)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(os.path.join(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"), "read.json"), "w") as f:
    json.dump(result, f)
