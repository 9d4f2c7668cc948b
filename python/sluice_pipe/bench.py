"""Throughput of the readers and of CRC-32C on this machine: ``python3 -m sluice_pipe.bench``.

Prints MB/s (10^6 bytes of stream per second) for each reader over an in-memory stream (the
parsing cost alone) and over a real FIFO fed by a writer thread, and for each CRC-32C
implementation. ``--quick`` uses less data.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import threading
import time

from . import crc
from .channel import PipeChannel
from .records import (recordio_record, recordio_records, text_lines, tfrecord_record,
                      tfrecord_records)


def _best(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _drain(records):
    n = 0
    for _ in records:
        n += 1
    return n


def _fifo_mbps(data: bytes, reader) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench_0")
        os.mkfifo(path)

        def write():
            with open(path, "wb", buffering=0) as f:
                view = memoryview(data)
                for pos in range(0, len(view), 1 << 20):
                    f.write(view[pos:pos + (1 << 20)])

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        start = time.perf_counter()
        with PipeChannel("bench", tmp, timeout=30).open_epoch(0) as stream:
            _drain(reader(stream))
        elapsed = time.perf_counter() - start
        writer.join(30)
    return len(data) / elapsed / 1e6


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="less data, fewer sizes")
    args = parser.parse_args(argv)
    total = (8 if args.quick else 32) << 20

    print(f"CRC-32C (selected implementation: {crc.IMPLEMENTATION})")
    for size in (64, 1024, 65536, 1 << 20):
        data = os.urandom(size)
        reps = max(1, (1 << 20) // size)
        row = f"  {size:>8} B:"
        impls = [("python", crc.crc32c_python)]
        if crc.IMPLEMENTATION != "python":
            impls.insert(0, (crc.IMPLEMENTATION, crc.crc32c))
        for name, fn in impls:
            t = _best(lambda: [fn(data) for _ in range(reps)])
            row += f"  {name} {size * reps / t / 1e6:8.1f} MB/s"
        bytewise = _best(lambda: crc._bytewise(0, data[:min(size, 65536)]), 1)
        row += f"  (byte loop {min(size, 65536) / bytewise / 1e6:.1f} MB/s)"
        print(row)

    print(f"Readers over an in-memory stream / a FIFO ({total >> 20} MiB per run)")
    sizes = (100, 10_000, 1_000_000) if not args.quick else (100, 100_000)
    for size in sizes:
        payload = os.urandom(size)
        count = max(1, total // size)
        rio = b"".join([recordio_record(payload)] * count)
        tfr = b"".join([tfrecord_record(payload)] * count)
        cases = [("RecordIO", rio, recordio_records), ("TFRecord", tfr, tfrecord_records),
                 ("TFRecord no CRC", tfr, lambda s: tfrecord_records(s, check_crc=False))]
        for name, data, reader in cases:
            mem = len(data) / _best(lambda: _drain(reader(io.BytesIO(data))), 2) / 1e6
            fifo = _fifo_mbps(data, reader)
            print(f"  {name:<16} {size:>9} B records: {mem:8.1f} MB/s in memory, "
                  f"{fifo:8.1f} MB/s through a FIFO")
    line = b"x" * 99 + b"\n"
    data = line * (total // len(line))
    mem = len(data) / _best(lambda: _drain(text_lines(io.BytesIO(data))), 2) / 1e6
    print(f"  {'TextLine':<16} {len(line):>9} B lines:   {mem:8.1f} MB/s in memory, "
          f"{_fifo_mbps(data, text_lines):8.1f} MB/s through a FIFO")


if __name__ == "__main__":
    main()
