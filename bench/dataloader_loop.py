#!/usr/bin/python3
"""bench/dataloader_loop.py: the Python side of bench/dataloader.sh.

  dataloader_loop.py generate DIR [sizes]      the data of every shape, and what a correct read gives
  dataloader_loop.py loop --shape S --source SRC ...   one timed PyTorch training loop: one JSON line
  dataloader_loop.py job PIDFILE LOG TIMEOUT -- CMD... run CMD, poll its VmHWM: "rc wall_s peak_kib"
  dataloader_loop.py mount PIDFILE LOG MNT TIMEOUT -- CMD...   start a FUSE daemon, wait for MNT
  dataloader_loop.py report RESULTS ...        the table and the JSON

The shapes (the same sample bytes for shards and recordio):
  small     SMALL_COUNT files of SMALL_SIZE bytes, small/f000000 ...; a map-style Dataset whose
            __getitem__ opens and reads one file, in shuffled order (DataLoader(shuffle=True))
  shards    SHARD_COUNT tar files shards/shard-000000.tar ... of about SHARD_MIB MiB, members
            sample-00000000.bin of SAMPLE_SIZE bytes; an IterableDataset that streams each tar with
            tarfile (mode "r|"), the shards split among the workers
  recordio  the same samples as RecordIO records in recordio/part-000000.rec ...; read with
            sluice_pipe.read_records, split among the workers like shards, or through a Pipe
            channel with sluice_pipe.torch.PipeIterableDataset (worker 0 reads the FIFO, shares records)
Every sample is decoded the same way: torch.frombuffer, to float, normalized; its length and
zlib.crc32 travel with it, and the loop checks count, bytes and the sum of the CRCs against what
`generate` recorded, so a source that is fast but wrong fails.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

SHAPES = ("small", "shards", "recordio")
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------------
# generate

def cmd_generate(argv):
    p = argparse.ArgumentParser(prog="dataloader_loop.py generate")
    p.add_argument("dir")
    p.add_argument("--shapes", default="small,shards,recordio")
    p.add_argument("--small-count", type=int, required=True)
    p.add_argument("--small-size", type=int, required=True)
    p.add_argument("--shard-count", type=int, required=True)
    p.add_argument("--shard-mib", type=int, required=True)
    p.add_argument("--sample-size", type=int, required=True)
    a = p.parse_args(argv)
    from sluice_pipe.records import recordio_record
    shapes = a.shapes.split(",")
    expect = {}
    if "small" in shapes:
        d = os.path.join(a.dir, "small")
        os.makedirs(d)
        digest = 0
        for i in range(a.small_count):
            data = os.urandom(a.small_size)
            digest = (digest + zlib.crc32(data)) & MASK64
            with open(os.path.join(d, f"f{i:06d}"), "wb") as f:
                f.write(data)
        expect["small"] = dict(count=a.small_count, bytes=a.small_count * a.small_size, digest=digest,
                               files=sorted(os.listdir(d)))
    per_shard = max(1, a.shard_mib * 1048576 // a.sample_size)
    want = [s for s in ("shards", "recordio") if s in shapes]
    if want:
        for s in want:
            os.makedirs(os.path.join(a.dir, s))
        digest = 0
        n = 0
        for k in range(a.shard_count):
            tf = tarfile.open(os.path.join(a.dir, "shards", f"shard-{k:06d}.tar"), "w", format=tarfile.USTAR_FORMAT) \
                if "shards" in want else None
            rec = open(os.path.join(a.dir, "recordio", f"part-{k:06d}.rec"), "wb") if "recordio" in want else None
            for _ in range(per_shard):
                data = os.urandom(a.sample_size)
                digest = (digest + zlib.crc32(data)) & MASK64
                if tf is not None:
                    import io
                    info = tarfile.TarInfo(f"sample-{n:08d}.bin")
                    info.size = len(data)
                    info.mtime = 0
                    tf.addfile(info, io.BytesIO(data))
                if rec is not None:
                    rec.write(recordio_record(data))
                n += 1
            if tf is not None:
                tf.close()
            if rec is not None:
                rec.close()
        for s in want:
            expect[s] = dict(count=n, bytes=n * a.sample_size, digest=digest,
                             files=sorted(os.listdir(os.path.join(a.dir, s))))
    for s, e in expect.items():
        e["object_bytes"] = sum(os.path.getsize(os.path.join(a.dir, s, f)) for f in e["files"])
    with open(os.path.join(a.dir, "expect.json"), "w") as f:
        json.dump(expect, f)


# ---------------------------------------------------------------------------------------------------
# loop: the datasets

def _decode(data):
    """What every sample goes through: the bytes as a uint8 tensor, to float, normalized. The
    length and CRC go with it so that the main process can check what it got."""
    import torch
    x = torch.frombuffer(bytearray(data), dtype=torch.uint8).float().div_(255.0).sub_(0.5)
    return x, len(data), zlib.crc32(data)


class _S3:
    """A boto3 client per process (boto3 clients must not cross a fork)."""

    def __init__(self, bucket):
        self.bucket = bucket
        self._pid = None
        self._client = None

    def __getstate__(self):
        return {"bucket": self.bucket}

    def __setstate__(self, state):
        self.__init__(state["bucket"])

    @property
    def client(self):
        if self._pid != os.getpid():
            import boto3
            from botocore.config import Config
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                config=Config(s3={"addressing_style": "path"}, max_pool_connections=16,
                              retries={"max_attempts": 5, "mode": "standard"}))
            self._pid = os.getpid()
        return self._client

    def list(self, prefix):
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return sorted(keys)

    def open(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]


def make_dataset(shape, source, root, bucket, spread=True):
    """The dataset and whether it is map-style; the listing (os.listdir, or boto3 list_objects_v2)
    happens here, inside the timed region."""
    from torch.utils.data import Dataset, IterableDataset, get_worker_info

    s3 = _S3(bucket) if source == "boto3" else None
    if source == "boto3":
        names = s3.list(f"{root}/{shape}/")
    elif source != "pipe":
        names = sorted(os.path.join(root, shape, n) for n in os.listdir(os.path.join(root, shape)))

    if shape == "small":
        class SmallFiles(Dataset):
            def __len__(self):
                return len(names)

            def __getitem__(self, i):
                if s3 is not None:
                    body = s3.open(names[i])
                    data = body.read()
                    body.close()
                else:
                    with open(names[i], "rb") as f:
                        data = f.read()
                return _decode(data)
        return SmallFiles(), True

    if source == "pipe":
        from sluice_pipe.torch import PipeIterableDataset
        return PipeIterableDataset("train", "RecordIO", transform=_decode, spread=spread), False

    class Shards(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            mine = names if info is None else names[info.id::info.num_workers]
            for name in mine:
                stream = s3.open(name) if s3 is not None else open(name, "rb", buffering=1 << 20)
                try:
                    if shape == "shards":
                        with tarfile.open(fileobj=stream, mode="r|") as tf:
                            for m in tf:
                                if m.isfile():
                                    yield _decode(tf.extractfile(m).read())
                    else:
                        from sluice_pipe import read_records
                        for rec in read_records(stream, "RecordIO"):
                            yield _decode(rec)
                finally:
                    stream.close()
    return Shards(), False


def _hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class WorkerRss:
    """Polls the VmHWM of the DataLoader's worker processes every 50 ms (it only grows, so the
    last value read before a worker exits is its peak, to within 50 ms). Each epoch has its own
    workers; the figure is the largest sum of one epoch's peaks."""

    def __init__(self):
        self.groups = []
        self.peak = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def add(self, pids):
        self.groups = self.groups + [list(pids)]

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)

    def sample(self):
        for pid in [p for g in self.groups for p in g]:
            v = _hwm_kib(pid)
            if v is not None:
                self.peak[pid] = max(self.peak.get(pid, 0), v)

    def stop(self):
        self.sample()
        self._stop.set()
        self._t.join()
        return max((sum(self.peak.get(p, 0) for p in g) for g in self.groups), default=0)


def cmd_loop(argv):
    p = argparse.ArgumentParser(prog="dataloader_loop.py loop")
    p.add_argument("--shape", choices=SHAPES, required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--root", default="", help="the directory holding <shape>/, or the key prefix (boto3)")
    p.add_argument("--bucket", default="")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--compute-ms", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=1,
                   help="passes over the data with one dataset and DataLoader; the first is timed from the "
                        "clock's start, the later ones each from their own iter()")
    p.add_argument("--no-spread", action="store_true",
                   help="pipe: PipeIterableDataset(spread=False), worker 0 alone reads and decodes")
    p.add_argument("--expect", required=True)
    p.add_argument("--out", default="", help="also write the JSON line here")
    a = p.parse_args(argv)
    t_proc = time.time()
    import torch
    from torch.utils.data import DataLoader
    with open(a.expect) as f:
        exp = json.load(f)[a.shape]
    res = dict(shape=a.shape, source=a.source, workers=a.workers, batch=a.batch, compute_ms=a.compute_ms,
               t_process=t_proc)
    rss = WorkerRss()
    count = nbytes = batches = 0
    epoch_s = []
    ttfb = None
    try:
        t0 = time.perf_counter()
        res["t_loop"] = time.time()
        ds, mapstyle = make_dataset(a.shape, a.source, a.root, a.bucket, spread=not a.no_spread)
        kw = dict(batch_size=a.batch, num_workers=a.workers)
        if mapstyle:   # one generator: each epoch a new order, as in training
            kw.update(shuffle=True, generator=torch.Generator().manual_seed(a.seed))
        loader = DataLoader(ds, **kw)
        sleep = a.compute_ms / 1000.0
        for epoch in range(a.epochs):
            te = t0 if epoch == 0 else time.perf_counter()
            it = iter(loader)
            rss.add(w.pid for w in getattr(it, "_workers", []))   # new workers each epoch
            n = b = digest = 0
            for x, lens, crcs in it:
                if ttfb is None:
                    ttfb = time.perf_counter() - t0
                batches += 1
                n += len(lens)
                b += int(lens.sum())
                digest = (digest + sum(crcs.tolist())) & MASK64
                if sleep:
                    time.sleep(sleep)   # the training step
            del it
            epoch_s.append(time.perf_counter() - te)
            count += n
            nbytes += b
            if (n, b, digest) != (exp["count"], exp["bytes"], exp["digest"]):
                raise RuntimeError(f"wrong data in epoch {epoch + 1}: {n} samples, {b} bytes, CRC sum {digest}; "
                                   f"expected {exp['count']}, {exp['bytes']}, {exp['digest']}")
        res["loop_s"] = epoch_s[0]
        res["t_end"] = time.time()
        res["ttfb_s"] = ttfb
        res["epoch_s"] = epoch_s
        if a.epochs > 1:   # the steady state: every epoch after the first
            res["later_s"] = sum(epoch_s[1:])
            res["later_samples"] = exp["count"] * (a.epochs - 1)
    except Exception as e:  # reported as a failed run, with the reason
        res["error"] = f"{type(e).__name__}: {e}"[:500]
    res["loader_workers_rss_kib"] = rss.stop()
    res["loader_main_rss_kib"] = _hwm_kib(os.getpid())
    res["loader_rss_kib"] = res["loader_workers_rss_kib"] + (res["loader_main_rss_kib"] or 0)
    ok = "error" not in res   # samples and bytes: of one epoch; batches: of all
    res.update(samples=exp["count"] if ok else count, bytes=exp["bytes"] if ok else nbytes, batches=batches,
               epochs=a.epochs)
    if "error" not in res:
        res["samples_per_s"] = exp["count"] / res["loop_s"]
    line = json.dumps(res)
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            f.write(line + "\n")
        os.rename(a.out + ".tmp", a.out)
    print(line)
    return 0 if "error" not in res else 1


# ---------------------------------------------------------------------------------------------------
# job, mount: process helpers of the shell script

def _write_pid(pidfile, pid):
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{pid}\n")
    os.rename(pidfile + ".tmp", pidfile)


def cmd_job(argv):
    """Run CMD in its own session, poll its VmHWM every 20 ms, SIGTERM it after TIMEOUT (or on
    SIGTERM/SIGINT), SIGKILL 30 s later. Prints "rc wall_seconds peak_kib" (rc 124: timed out)."""
    pidfile, logfile, timeout, dashes, *cmd = argv
    timeout = float(timeout)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    with open(logfile, "ab") as logf:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        _write_pid(pidfile, p.pid)
        peak, timed_out, term_sent = 0, False, None
        while True:
            peak = max(peak, _hwm_kib(p.pid) or 0)
            rc = p.poll()
            if rc is not None:
                break
            now = time.perf_counter()
            if term_sent is None and (stopping or now - t0 > timeout):
                timed_out = not stopping
                p.send_signal(signal.SIGTERM)
                term_sent = now
            elif term_sent is not None and now - term_sent > 30:
                p.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        os.unlink(pidfile)
    print(f"{124 if timed_out else rc} {wall:.3f} {peak}")


def cmd_mount(argv):
    """Start a FUSE daemon (in the foreground, its own session) and wait until MNT is mounted."""
    pidfile, logfile, mnt, timeout, dashes, *cmd = argv
    timeout = float(timeout)
    logf = open(logfile, "ab")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                         start_new_session=True, close_fds=True)
    _write_pid(pidfile, p.pid)
    while not os.path.ismount(mnt):
        if p.poll() is not None:
            sys.exit(f"the daemon exited with status {p.returncode} before {mnt} was mounted")
        if time.perf_counter() - t0 > timeout:
            sys.exit(f"{mnt} was not mounted within {timeout:.0f} s")
        time.sleep(0.005)
    print(f"{(time.perf_counter() - t0) * 1e3:.1f}")


def cmd_record(argv):
    """RESULTS LOOP_JSON KEY=VALUE...: append one run to RESULTS (a JSON object a line): the loop's
    line (when LOOP_JSON holds one) and the shell's fields; numbers stay numbers."""
    results, loop_json, *kv = argv
    r = {}
    try:
        with open(loop_json) as f:
            r = json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        pass
    for item in kv:
        k, v = item.split("=", 1)
        try:
            r[k] = int(v)
        except ValueError:
            try:
                r[k] = float(v)
            except ValueError:
                r[k] = v
    if r.get("status") == "ok" and "error" in r:
        r["status"], r["note"] = "failed", r["error"]
    if r.get("status") == "ok" and "samples_per_s" not in r:
        r["status"], r["note"] = "failed", r.get("note") or "the loop printed no result"
    with open(results, "a") as f:
        f.write(json.dumps(r) + "\n")
    if r["status"] == "ok":
        tot = r.get("pre_s", 0) + r["loop_s"]
        later = (f"; epochs 2-{r['epochs']}: {r['later_samples'] / r['later_s']:.0f} samples/s"
                 if r.get("later_s") else "")
        print(f"{r['samples'] / tot:.0f} samples/s, {tot:.2f} s, first batch {r.get('pre_s', 0) + r['ttfb_s']:.2f} s"
              f"{later}")
    else:
        print(f"{r['status'].upper()}: {r.get('note', '')}")


def pipe_head_start(argv):
    """STATUS_JSON LOOP_JSON: seconds from the job's Downloading transition to the loop's start."""
    from datetime import datetime
    with open(argv[0]) as f:
        st = json.load(f)
    with open(argv[1]) as f:
        loop = json.loads(f.read().strip().splitlines()[-1])
    tr = {t["Status"]: t for t in st.get("SecondaryStatusTransitions", [])}
    print(f"{st.get('TrainingJobStatus')} {loop['t_loop'] - datetime.fromisoformat(tr['Downloading']['StartTime']).timestamp():.3f}")


# ---------------------------------------------------------------------------------------------------
# report

def cmd_report(argv):
    """RESULTS: one JSON object a line (a run: the loop's line plus the shell's fields)."""
    p = argparse.ArgumentParser(prog="dataloader_loop.py report")
    p.add_argument("results")
    p.add_argument("--shapes", required=True)
    p.add_argument("--sources", required=True)
    p.add_argument("--workers", required=True)
    p.add_argument("--stall-workers", default="")
    p.add_argument("--compute-ms", type=float, default=0)
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--describe", default="")
    p.add_argument("--environment", default="")
    p.add_argument("--versions", default="")
    p.add_argument("--json", default="")
    a = p.parse_args(argv)
    runs = []
    with open(a.results) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    shapes, sources = a.shapes.split(","), a.sources.split(",")
    workers = [int(w) for w in a.workers.split()]
    stall_workers = [int(w) for w in a.stall_workers.split()]

    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None

    def cell(shape, source, w, kind):
        rs = [r for r in runs if (r["shape"], r["source"], r["workers"], r["kind"]) == (shape, source, w, kind)]
        ok = [r for r in rs if r["status"] == "ok"]
        c = dict(runs=rs, ok_runs=len(ok))
        if not rs:
            return c
        c["applies"] = rs[0]["status"] != "n/a"
        # end to end: the download (File mode) plus the loop
        c["seconds"] = med([r.get("pre_s", 0) + r["loop_s"] for r in ok])
        c["samples_per_s"] = med([r["samples"] / (r.get("pre_s", 0) + r["loop_s"]) for r in ok])
        c["ttfb_s"] = med([r.get("pre_s", 0) + r["ttfb_s"] for r in ok])
        c["sluice_rss_mib"] = med([r["sluice_rss_kib"] / 1024 if r.get("sluice_rss_kib") else None for r in ok])
        c["daemon_rss_mib"] = med([r["daemon_rss_kib"] / 1024 if r.get("daemon_rss_kib") else None for r in ok])
        c["loader_rss_mib"] = med([r["loader_rss_kib"] / 1024 if r.get("loader_rss_kib") else None for r in ok])
        c["head_start_s"] = med([r.get("head_start_s") for r in ok])
        c["later_samples_per_s"] = med([r["later_samples"] / r["later_s"] if r.get("later_s") else None for r in ok])
        return c

    table = {}
    for shape in shapes:
        for source in sources:
            for w in workers:
                table[(shape, source, w, "rate")] = cell(shape, source, w, "rate")
            for w in stall_workers:
                table[(shape, source, w, "stall")] = cell(shape, source, w, "stall")
    for (shape, source, w, kind), c in table.items():
        loc = table.get((shape, "local", w, kind), {})
        if kind == "rate":
            c["vs_local"] = (c["samples_per_s"] / loc["samples_per_s"]
                             if c.get("samples_per_s") and loc.get("samples_per_s") else None)
            c["later_vs_local"] = (c["later_samples_per_s"] / loc["later_samples_per_s"]
                                   if c.get("later_samples_per_s") and loc.get("later_samples_per_s") else None)
        else:
            c["stall_pct"] = ((c["seconds"] / loc["seconds"] - 1) * 100 + 0.0
                              if c.get("seconds") and loc.get("seconds") else None)
            if c["stall_pct"] is not None and abs(c["stall_pct"]) < 0.5:
                c["stall_pct"] = 0.0   # no "-0 %"

    def f(x, nd=0, suffix=""):
        return "-" if x is None else f"{x:.{nd}f}{suffix}"

    def status_of(c):
        if not c.get("runs"):
            return "-"
        if not c.get("applies", True):
            return "n/a"
        if not c["ok_runs"]:
            return c["runs"][-1]["status"].upper()
        return None

    def each_row(header, kind, ws, width, body):
        """`header` over a rule, then one line per shape, source and worker count: a cell's
        status, or body(cell)."""
        print(header)
        print("-" * len(header))
        for shape in shapes:
            for source in sources:
                for w in ws:
                    c = table[(shape, source, w, kind)]
                    st = status_of(c)
                    print(f"{shape:<9} {source:<9} {w:>2} " + (f"{st:>{width}}" if st is not None else body(c)))

    def each_run(c, value):
        return " ".join(value(r) if r["status"] == "ok" else r["status"].upper() for r in c.get("runs", []))

    print()
    print(f"dataloader: {a.describe}; medians of {a.rounds} round(s)")
    cols = f"{'shape':<9} {'source':<9} {'wk':>2}"
    each_row(f"{cols} {'samples/s':>10} {'vs local':>8} {'1st batch s':>11} {'sluice MiB':>10} {'daemon MiB':>10} "
             f"{'loader MiB':>10}  runs (samples/s)", "rate", workers, 10, lambda c: (
        f"{f(c['samples_per_s']):>10} {f(c['vs_local'], 2, 'x'):>8} {f(c['ttfb_s'], 2):>11} "
        f"{f(c['sluice_rss_mib']):>10} {f(c['daemon_rss_mib']):>10} {f(c['loader_rss_mib']):>10}  "
        + each_run(c, lambda r: f(r["samples"] / (r.get("pre_s", 0) + r["loop_s"])))))
    epochs = max((r.get("epochs", 1) for r in runs if r["status"] == "ok"), default=1)
    if epochs > 1:
        print()
        print(f"later epochs: epochs 2 to {epochs} of the same loops (same dataset, DataLoader and mount; the "
              f"page cache is not dropped between epochs), samples/s")
        each_row(f"{cols} {'samples/s':>10} {'vs local':>8}  runs (samples/s)", "rate", workers, 10, lambda c: (
            f"{f(c['later_samples_per_s']):>10} {f(c['later_vs_local'], 2, 'x'):>8}  "
            + each_run(c, lambda r: f(r["later_samples"] / r["later_s"]) if r.get("later_s") else "-")))
    if stall_workers:
        print()
        print(f"data stall: the same loop with a {a.compute_ms:g} ms sleep per batch (the training step); how much "
              f"longer than local disk (0 % = no stall)")
        each_row(f"{cols} {'seconds':>9} {'stall':>8}  runs (seconds)", "stall", stall_workers, 9, lambda c: (
            f"{f(c['seconds'], 2):>9} {f(c['stall_pct'], 0, ' %'):>8}  "
            + each_run(c, lambda r: f(r.get("pre_s", 0) + r["loop_s"], 2))))
    notes = {}
    for r in runs:
        if r["status"] not in ("ok", "n/a") and r.get("note"):
            notes.setdefault((r["shape"], r["source"], r["workers"], r["kind"]), r)
    for (shape, source, w, kind), r in notes.items():
        print(f"  {shape} {source} workers {w} ({kind}) round {r['round']}: {r['status']}: {r['note']}")
    heads = [r["head_start_s"] for r in runs if r["status"] == "ok" and r.get("head_start_s") is not None]
    print()
    print("samples/s: samples / (download + loop) for file, samples / loop otherwise; the loop's clock starts")
    print("before the listing and the DataLoader, and stops after the last batch. vs local: / local disk's, same")
    print("shape and workers. 1st batch: from the clock's start (file: the download's) to the first batch.")
    print("sluice MiB: peak RSS of sluice (mount daemon, sluice cp, or sluice train for pipe); daemon MiB: of")
    print("the s3fs / rclone daemon; loader MiB: the loop's main process plus the sum of its workers' VmHWM.")
    if heads:
        print(f"pipe: sluice train was fetching for {f(med(heads), 2)} s (median) before the loop's clock started.")
    print("environment:", a.environment)
    for line in a.versions.splitlines():
        print("  " + line)
    if a.json:
        out = dict(date=time.strftime("%Y-%m-%dT%H:%M:%S%z"), data=a.describe, rounds=a.rounds,
                   compute_ms=a.compute_ms, environment=a.environment, versions=a.versions.splitlines(),
                   results=[dict(shape=k[0], source=k[1], workers=k[2], kind=k[3], **v) for k, v in table.items()])
        with open(a.json, "w") as fo:
            json.dump(out, fo, indent=2)
            fo.write("\n")
        print("JSON written to", a.json)


if __name__ == "__main__":
    cmds = {"generate": cmd_generate, "loop": cmd_loop, "job": cmd_job, "mount": cmd_mount, "record": cmd_record,
            "head-start": pipe_head_start, "report": cmd_report}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]) or 0)
