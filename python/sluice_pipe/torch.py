"""PyTorch adapter: ``PipeIterableDataset``, a ``torch.utils.data.IterableDataset`` over a Pipe
mode channel.

``import sluice_pipe`` never imports torch; this module imports it when
``PipeIterableDataset`` is first looked up, and raises an ``ImportError`` that names torch when
it is not installed::

    from sluice_pipe.torch import PipeIterableDataset
    ds = PipeIterableDataset("train", record_format="TFRecord", transform=parse_example)
    loader = torch.utils.data.DataLoader(ds, batch_size=32, num_workers=1)
    for epoch in range(3):
        for batch in loader:      # reads train_0, then train_1, then train_2
            ...

**DataLoader workers.** A FIFO has exactly one reader, so with ``num_workers > 1`` worker 0
opens and reads the epoch and hands records to the other workers (over Unix sockets between the
workers, see :mod:`sluice_pipe.spread`), so that ``transform`` and the batching run in every
worker. Each record reaches exactly one worker: ``num_workers=N`` gives the same records as
``num_workers=1``, though not in the same order (batches come from the workers in turn). A worker
gets records while its queue (8 MiB) has room, so a slow worker does not hold the others back.
With ``spread=False`` the other workers yield nothing and worker 0 does all the work, in the
FIFO's order.

**Epochs.** Each iteration reads the next epoch. The DataLoader re-creates its workers for every
epoch (unless ``persistent_workers=True``) from the training process's copy of the dataset, in
which the iteration never ran, so the epoch counter cannot live in the dataset object alone: it
is kept in shared memory (``multiprocessing.RawValue``) made when the dataset is created, which
worker processes inherit (fork) or receive (spawn, forkserver). Create the dataset once, before
the DataLoader. A copy made any other way (``copy.deepcopy``, ``pickle``) gets its own counter,
starting at the epoch the original was at.

Several training processes on one host (``torchrun``, DDP) must not read the same channel: each
FIFO can be read by one process only. Give each process its own channel, or read in one process.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing import context as _mp_context

from . import spread as _spread
from .channel import DEFAULT_TIMEOUT, PipeChannel
from .records import DEFAULT_CHUNK, _format_key, read_records

__all__ = ["PipeIterableDataset"]  # made on first access, by __getattr__ below

_dataset_class = None


def _require_torch():
    try:
        import torch  # noqa: F401  (the real torch: imports are absolute)
        import torch.utils.data
    except ImportError as exc:
        raise ImportError(
            "sluice_pipe.torch.PipeIterableDataset needs PyTorch, but the 'torch' module cannot "
            f"be imported ({exc}). Install torch, or use sluice_pipe.PipeModeDataset, which "
            "needs only the standard library.") from exc
    return torch


class _LocalValue:
    """Stand-in for a RawValue where shared memory cannot be had (not shared across processes)."""

    def __init__(self, value: int):
        self.value = value


class _EpochCounter:
    """The next epoch to read, shared by the processes of one DataLoader."""

    def __init__(self, start: int):
        self._lock = threading.Lock()
        self._shared = self._new(start)

    @staticmethod
    def _new(value: int):
        try:
            return multiprocessing.RawValue("q", value)
        except OSError:
            return _LocalValue(value)

    @property
    def value(self) -> int:
        return self._shared.value

    def take(self) -> int:
        # Across processes only one reader takes epochs at a time (worker 0 of one DataLoader
        # iterator, as one FIFO has one reader), so the lock only guards threads.
        with self._lock:
            epoch = self._shared.value
            self._shared.value = epoch + 1
            return epoch

    def __getstate__(self):
        if (_mp_context.get_spawning_popen() is not None
                and not isinstance(self._shared, _LocalValue)):
            return {"shared": self._shared}  # a worker process being started: share memory
        return {"value": self._shared.value}

    def __setstate__(self, state):
        self._lock = threading.Lock()
        self._shared = state["shared"] if "shared" in state else self._new(state["value"])


def _make_class():
    torch = _require_torch()
    from torch.utils.data import IterableDataset, get_worker_info

    class PipeIterableDataset(IterableDataset):
        """Records of a Pipe mode channel, the next epoch per iteration (see the module doc).

        ``record_format``: ``"RecordIO"`` (default), ``"TFRecord"`` or ``"TextLine"``; records are
        ``bytes``, passed through ``transform`` when it is given (in the worker that reads).
        ``data_dir``, ``timeout``: as for :class:`sluice_pipe.PipeChannel`. ``start_epoch``: the
        first epoch to read. ``spread``: with several DataLoader workers, worker 0 hands records
        to the others (default); False: worker 0 alone reads and transforms.
        """

        def __init__(self, channel: str, record_format: str = "RecordIO",
                     data_dir: str | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
                     check_crc: bool = True, transform=None, start_epoch: int = 0,
                     chunk_size: int = DEFAULT_CHUNK, spread: bool = True):
            super().__init__()
            _format_key(record_format)
            if start_epoch < 0:
                raise ValueError("start_epoch must be >= 0")
            self.pipe = PipeChannel(channel, data_dir, timeout)
            self.record_format = record_format
            self.check_crc = check_crc
            self.transform = transform
            self.chunk_size = chunk_size
            self._epochs = _EpochCounter(start_epoch)
            self.spread = spread
            self._token = _spread.new_token()   # copies (workers) share it: the rendezvous
            self._iterations = 0   # in this process: persistent workers iterate one copy again

        def __repr__(self):
            return (f"PipeIterableDataset({self.pipe.channel!r}, {self.record_format!r}, "
                    f"data_dir={self.pipe.data_dir!r}, next_epoch={self.next_epoch})")

        @property
        def next_epoch(self) -> int:
            """The epoch the next iteration will read."""
            return self._epochs.value

        def __iter__(self):
            info = get_worker_info()
            if info is None or info.num_workers == 1:
                return self._transformed(self._read())
            if not self.spread:
                # one reader per FIFO: only worker 0 reads
                return self._transformed(self._read()) if info.id == 0 else iter(())
            # The workers of one iteration share its base seed (seed - id); persistent workers
            # iterate again with the same seed, so each copy also counts its iterations.
            self._iterations += 1
            name = _spread.socket_name(self._token, f"{info.seed - info.id}/{self._iterations}")
            if info.id != 0:
                return self._transformed(
                    _spread.follow(name, self._token, info.id, self.pipe.timeout))
            return self._transformed(self._lead(name, info.num_workers - 1))

        def _read(self):
            epoch = self._epochs.take()
            with self.pipe.open_epoch(epoch) as stream:
                yield from read_records(stream, self.record_format, check_crc=self.check_crc,
                                        chunk_size=self.chunk_size)

        def _lead(self, name, followers):
            lead = _spread.Lead(name, self._token, followers, self.pipe.timeout)

            def reader():
                try:
                    for record in self._read():
                        lead.dispatch(record)
                except BaseException as exc:  # handed to this worker's iteration, raised there
                    lead.fail(exc)
                else:
                    lead.finish()

            threading.Thread(target=reader, name="sluice-pipe-reader", daemon=True).start()
            return lead.own()

        def _transformed(self, records):
            transform = self.transform
            if transform is None:
                yield from records
            else:
                for record in records:
                    yield transform(record)

    PipeIterableDataset.__module__ = __name__
    PipeIterableDataset.__qualname__ = "PipeIterableDataset"
    del torch
    return PipeIterableDataset


def __getattr__(name):
    global _dataset_class
    if name == "PipeIterableDataset":
        if _dataset_class is None:
            _dataset_class = _make_class()
        return _dataset_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
