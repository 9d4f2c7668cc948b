#!/usr/bin/env python3
"""A training script for the e2e fault tests (train_faults_test.sh): checks, from inside the job,
that every byte the job was given is its source's.

    fault_check.py files CHANNEL      every file of SM_CHANNEL_<CHANNEL> (File or FastFile mode)
    fault_check.py recordio CHANNEL   the records of the Pipe FIFO <channel>_0 (RecordWrapperType
                                      RecordIO), read with python/sluice_pipe
    fault_check.py model MIB          writes MIB MiB of random bytes to $SM_MODEL_DIR/model.bin
    fault_check.py checkpoint MIB     writes checkpoints to /opt/ml/checkpoints: ckpt-1.bin (MIB MiB),
                                      ckpt-2.bin (1 MiB) and sub/ckpt-3.bin (100 kB), random bytes

The expected contents come in the hyperparameter "sums": a JSON list of [relative path, sha256
hex digest or a prefix of it] in key order (a record i of the Pipe channel must be the object
sums[i]); "sluice_python" is the directory of the sluice_pipe package.

files: the channel's files must be exactly the listed ones with their bytes; a file that cannot be
read (EIO from FastFile) is counted, not taken for wrong bytes.
recordio: each record is checked as it arrives and "ok I PATH" appended to
$SM_OUTPUT_DATA_DIR/records.txt (flushed), so that a job stopped in the middle leaves a trace of
what it saw; a record with wrong bytes, or more records than objects, fails at once.
Any mismatch is written to /opt/ml/output/failure and exits 1. Standard library (and sluice_pipe).
"""
import errno
import hashlib
import json
import os
import sys

config_dir = os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")
output_dir = os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output")
hp = json.load(open(os.path.join(config_dir, "hyperparameters.json")))
mode, arg = sys.argv[1], sys.argv[2]  # a third argument (the python/ directory, for the sandbox) is unused


def digest(data, like):
    """The sha256 hex digest of data, as long as the expected one `like`."""
    return hashlib.sha256(data).hexdigest()[:len(like)]


def failure(text):
    with open(os.path.join(output_dir, "failure"), "w") as f:
        f.write(text)
    print(text, file=sys.stderr, flush=True)
    sys.exit(1)


if mode == "model":
    data = os.urandom(int(arg) << 20)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.bin"), "wb") as f:
        f.write(data)
    print("model %s" % hashlib.sha256(data).hexdigest(), flush=True)
    sys.exit(0)

if mode == "checkpoint":
    ck = "/opt/ml/checkpoints"
    os.makedirs(os.path.join(ck, "sub"), exist_ok=True)
    for name, size in (("ckpt-1.bin", int(arg) << 20), ("ckpt-2.bin", 1 << 20), ("sub/ckpt-3.bin", 100000)):
        with open(os.path.join(ck, name), "wb") as f:
            f.write(os.urandom(size))
    print("wrote 3 checkpoints", flush=True)
    sys.exit(0)

sums = json.loads(hp["sums"])
if mode == "files":
    root = os.environ["SM_CHANNEL_" + arg.upper()]
    want = dict(sums)
    got, eio = {}, []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            try:
                with open(p, "rb") as f:
                    got[rel] = digest(f.read(), want.get(rel, ""))
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                eio.append(rel)
    bad = sorted(k for k in set(want) | set(got) if k not in eio and want.get(k) != got.get(k))
    if bad:
        failure("wrong or missing input files: " + " ".join(bad))
    if eio:
        failure("EIO reading: " + " ".join(sorted(eio)))
    print("checked %d files" % len(got), flush=True)
elif mode == "recordio":
    sys.path.insert(0, hp["sluice_python"])
    from sluice_pipe import RecordError, recordio_records

    data_dir = os.environ.get("SM_INPUT_DIR", "/opt/ml/input") + "/data"
    log_dir = os.environ.get("SM_OUTPUT_DATA_DIR", os.path.join(output_dir, "data"))
    n = 0
    with open(os.path.join(data_dir, arg + "_0"), "rb") as fifo, open(os.path.join(log_dir, "records.txt"), "w") as log:
        try:
            for rec in recordio_records(fifo):
                if n >= len(sums):
                    failure("more records than objects: record %d" % n)
                if digest(rec, sums[n][1]) != sums[n][1]:
                    failure("record %d (%d bytes) is not %s" % (n, len(rec), sums[n][0]))
                log.write("ok %d %s\n" % (n, sums[n][0]))
                log.flush()
                n += 1
        except RecordError as e:  # a truncated or broken record: the stream was cut or corrupted
            failure("after %d good records: %s" % (n, e))
    if n != len(sums):
        failure("%d records, expected %d" % (n, len(sums)))
    print("checked %d records" % n, flush=True)
else:
    sys.exit("unknown mode " + mode)
