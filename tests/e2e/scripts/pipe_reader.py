#!/usr/bin/env python3
"""A training script for the e2e Pipe mode tests: reads the FIFOs /opt/ml/input/data/<channel>_<epoch>.

    pipe_reader.py [CHANNEL:EPOCHS ...] [--partial CHANNEL:EPOCH:BYTES ...] [--threads]
                   [--no-open] [--token TOKEN]

  CHANNEL:EPOCHS          read epochs 0 .. EPOCHS-1 of CHANNEL, in order, each to EOF
  --partial C:E:N         of channel C's epoch E read only the first N bytes, then close the FIFO
  --threads               read the channels at the same time, one thread each (else one after another)
  --no-open               open no FIFO at all: record what is there and exit 0
  --token                 ignored (a marker on the command line, for finding leftover processes)

The FIFO of an epoch is waited for (it may not exist yet): polled every 0.05 s for at most 30 s.

Writes under $SM_MODEL_DIR/<host>/ (one directory per host, so that the hosts' files do not clash
in the merged model.tar.gz):
  <channel>_<epoch>   the bytes read from that FIFO
  report.json         {"host", "inputdataconfig", "channel_env": {channel: SM_CHANNEL_<NAME>},
                       "at_start": {channel: {"<channel>_0": "fifo" | "missing" | "other"}},
                       "epochs": {channel: {epoch: {"length", "sha256", "eof"}}}, "errors": [...]}
`at_start` is taken first thing, before anything else: <channel>_0 must already exist then.
A failure (a FIFO that never appears) is written to /opt/ml/output/failure and exits 1.
Standard library only.
"""
import argparse
import hashlib
import json
import os
import stat
import sys
import threading
import time

config_dir = os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")
data_dir = os.environ.get("SM_INPUT_DIR", "/opt/ml/input") + "/data"
model_dir = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
output_dir = os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output")
host = os.environ.get("SM_CURRENT_HOST", "algo-1")

ap = argparse.ArgumentParser()
ap.add_argument("reads", nargs="*")
ap.add_argument("--partial", action="append", default=[])
ap.add_argument("--threads", action="store_true")
ap.add_argument("--no-open", action="store_true")
ap.add_argument("--token")
args = ap.parse_args()
reads = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in args.reads]
partial = {}
for p in args.partial:
    c, e, n = p.rsplit(":", 2)
    partial[(c, int(e))] = int(n)


def kind(path):
    try:
        return "fifo" if stat.S_ISFIFO(os.stat(path).st_mode) else "other"
    except FileNotFoundError:
        return "missing"


# First: does <channel>_0 of every channel exist already?
config = json.load(open(os.path.join(config_dir, "inputdataconfig.json")))
at_start = {ch: {f"{ch}_0": kind(os.path.join(data_dir, f"{ch}_0"))} for ch in config}

out_dir = os.path.join(model_dir, host)
os.makedirs(out_dir, exist_ok=True)
report = {
    "host": host,
    "inputdataconfig": config,
    "channel_env": {ch: os.environ.get("SM_CHANNEL_" + ch.upper()) for ch in config},
    "at_start": at_start,
    "epochs": {},
    "errors": [],
}
lock = threading.Lock()


def read_channel(ch, epochs):
    got = {}
    for epoch in range(epochs):
        path = os.path.join(data_dir, f"{ch}_{epoch}")
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                with lock:
                    report["errors"].append(f"{path} did not appear within 30 s")
                return got
            time.sleep(0.05)
        limit = partial.get((ch, epoch))
        h = hashlib.sha256()
        length = 0
        eof = False
        with open(path, "rb", buffering=0) as f, open(os.path.join(out_dir, f"{ch}_{epoch}"), "wb") as out:
            while True:
                want = 65536 if limit is None else min(65536, limit - length)
                if want <= 0:
                    break
                b = f.read(want)
                if not b:
                    eof = True
                    break
                h.update(b)
                out.write(b)
                length += len(b)
        got[str(epoch)] = {"length": length, "sha256": h.hexdigest(), "eof": eof}
        with lock:
            report["epochs"].setdefault(ch, {})[str(epoch)] = got[str(epoch)]
    return got


if not args.no_open:
    if args.threads:
        ts = [threading.Thread(target=read_channel, args=r) for r in reads]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    else:
        for r in reads:
            read_channel(*r)

with open(os.path.join(out_dir, "report.json"), "w") as f:
    json.dump(report, f, indent=1, sort_keys=True)
if report["errors"]:
    with open(os.path.join(output_dir, "failure"), "w") as f:
        f.write("; ".join(report["errors"]))
    print("\n".join(report["errors"]), file=sys.stderr)
    sys.exit(1)
print(f"pipe_reader: {host}: " + ", ".join(f"{c}: {len(e)} epochs" for c, e in report["epochs"].items()))
