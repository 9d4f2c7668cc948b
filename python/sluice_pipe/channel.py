"""Pipe mode channels: the FIFOs ``<data_dir>/<channel>_<epoch>`` and datasets over them."""

from __future__ import annotations

import io
import json
import math
import os
import select
import stat
import threading
import time
from typing import Iterator

from .records import DEFAULT_CHUNK, _format_key, read_records

__all__ = ["DEFAULT_DATA_DIR", "channel_data_dir", "PipeChannel", "PipeModeDataset"]

DEFAULT_DATA_DIR = "/opt/ml/input/data"
DEFAULT_TIMEOUT = 120.0
POLL_INTERVAL = 0.1
BUFFER_SIZE = 1 << 20


def channel_data_dir(channel: str) -> str:
    """The folder that holds ``channel``'s FIFOs.

    The parent of ``SM_CHANNEL_<CHANNEL>`` when that is set and not empty, else
    ``/opt/ml/input/data``. The variable's name is built as the SageMaker training toolkit builds
    it: ``"SM_CHANNEL_" + channel.upper()``, nothing replaced (channel ``my-data`` is
    ``SM_CHANNEL_MY-DATA``). For a Pipe channel the variable holds ``/opt/ml/input/data/<channel>``,
    a path that does not exist; the FIFOs are beside it.
    """
    value = os.environ.get("SM_CHANNEL_" + channel.upper(), "")
    if value:
        return os.path.dirname(value.rstrip("/")) or "/"
    return DEFAULT_DATA_DIR


def _check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not channel or channel in (".", "..") or "/" in channel \
            or "\0" in channel:
        raise ValueError(f"bad channel name {channel!r}")
    return channel


class PipeChannel:
    """One Pipe mode channel: opens its epochs' FIFOs in order.

    ``timeout`` (seconds, ``None`` for no limit) bounds each :meth:`open_epoch`: the wait for the
    FIFO to appear (polled every ``poll_interval`` seconds, 0.1 s by default, like the AWS
    example) and then for its writer (the first data, or the end of an empty epoch).
    """

    def __init__(self, channel: str, data_dir: str | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT, *, buffer_size: int = BUFFER_SIZE,
                 poll_interval: float = POLL_INTERVAL):
        self.channel = _check_channel(channel)
        self.data_dir = data_dir if data_dir is not None else channel_data_dir(channel)
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0 or None")
        self.timeout = timeout
        self.buffer_size = buffer_size
        self.poll_interval = poll_interval

    def __repr__(self):
        return f"PipeChannel({self.channel!r}, data_dir={self.data_dir!r}, timeout={self.timeout!r})"

    def path(self, epoch: int) -> str:
        """``<data_dir>/<channel>_<epoch>``."""
        if epoch < 0:
            raise ValueError("epoch must be >= 0")
        return os.path.join(self.data_dir, f"{self.channel}_{int(epoch)}")

    def open_epoch(self, epoch: int) -> io.BufferedReader:
        """Wait for epoch ``epoch``'s FIFO, open it for reading and return the stream.

        The stream is an :class:`io.BufferedReader` of ``buffer_size`` bytes over the FIFO's
        blocking file descriptor. Read it to the end, or close it early: the writer takes that as
        the end of the epoch. Raises :class:`TimeoutError` naming the path when the FIFO has not
        appeared, or no writer has shown up, within ``timeout`` seconds. A regular file at the
        path is opened as it is (handy for trying a script on local files).
        """
        path = self.path(epoch)
        timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                st = os.stat(path)
                break
            except FileNotFoundError:
                pass
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutError(
                    f"Pipe mode FIFO {path} did not appear within {timeout:g} s (channel "
                    f"{self.channel!r}, epoch {epoch}); is the channel in Pipe mode, and was the "
                    f"previous epoch's FIFO opened?{_mode_hint(self.channel)}")
            wait = self.poll_interval if deadline is None else min(self.poll_interval, deadline - now)
            time.sleep(max(wait, 0.0))
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(
                f"{path} is a directory, not a Pipe mode FIFO (channel {self.channel!r})")
        # O_NONBLOCK: opening a FIFO's read end this way does not wait for a writer, so the wait
        # stays bounded; the descriptor is made blocking once the writer is there.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                _wait_for_writer(fd, path, deadline, timeout)
            os.set_blocking(fd, True)
            raw = io.FileIO(fd, "rb", closefd=True)
        except BaseException:
            os.close(fd)
            raise
        try:
            raw.name = path
        except AttributeError:  # pragma: no cover - FileIO.name is writable in CPython
            pass
        return io.BufferedReader(raw, self.buffer_size)

    def epochs(self, start: int = 0, count: int | None = None) -> Iterator[io.BufferedReader]:
        """Streams of epochs ``start``, ``start + 1``, ... (``count`` of them, or until
        :meth:`open_epoch` times out). Each stream is closed when the next one is asked for or
        the generator is closed."""
        epoch = start
        while count is None or epoch < start + count:
            stream = self.open_epoch(epoch)
            try:
                yield stream
            finally:
                stream.close()
            epoch += 1


def _mode_hint(channel: str) -> str:
    """What inputdataconfig.json says about ``channel`` when that explains a missing FIFO."""
    config_dir = os.environ.get("SM_INPUT_CONFIG_DIR") or "/opt/ml/input/config"
    path = os.path.join(config_dir, "inputdataconfig.json")
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return ""
    if not isinstance(config, dict):
        return ""
    if channel not in config:
        return f" ({path} has no channel {channel!r})"
    mode = config[channel].get("TrainingInputMode") if isinstance(config[channel], dict) else None
    if isinstance(mode, str) and mode.lower() != "pipe":
        return f" ({path} gives channel {channel!r} TrainingInputMode {mode!r}, not 'Pipe')"
    return ""


def _wait_for_writer(fd: int, path: str, deadline: float | None, timeout: float | None) -> None:
    """Wait until the FIFO has data, or its writer has come and gone (an empty epoch).

    A read from a FIFO that no writer has opened yet returns end-of-file at once, which would
    look like an empty epoch; poll() instead waits for the writer (Linux reports POLLHUP only
    after a writer has opened and closed the FIFO). ml-io does the same with select().
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        if deadline is None:
            ms = None
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"Pipe mode FIFO {path} exists but no writer sent data or closed it within "
                    f"{timeout:g} s")
            ms = max(1, math.ceil(remaining * 1000))
        if poller.poll(ms):
            return


class PipeModeDataset:
    """The records of a Pipe mode channel, one epoch per iteration.

    Like SageMaker's TensorFlow ``PipeModeDataset``, the dataset keeps an epoch counter: every
    ``iter(dataset)`` reads the next epoch's FIFO, so ``for epoch in range(3): for record in
    dataset: ...`` reads ``<channel>_0``, ``<channel>_1``, ``<channel>_2``. The epoch is taken
    when the iterator starts (its first ``next()``), so an iterator that is made but never used
    takes none. With ``epochs=n`` one iteration reads the next ``n`` epochs back to back (like
    ``dataset.repeat(n)`` in TensorFlow); ``None`` means 1.

    An iterator that is left before the end closes its FIFO when it is closed or garbage
    collected (a ``for`` loop's ``break`` does this in CPython); the writer takes that as the
    end of the epoch. Finish or ``close()`` an iterator before starting the next one: the FIFOs
    are read in order, and the next epoch's data may only come once the previous FIFO is closed.

    ``record_format``: ``"RecordIO"`` (the default, as in the TensorFlow dataset),
    ``"TFRecord"`` or ``"TextLine"``. ``check_crc`` applies to TFRecord. ``start_epoch`` is the
    first epoch to read (for a process that takes over a channel).
    """

    def __init__(self, channel: str, record_format: str = "RecordIO", epochs: int | None = None,
                 data_dir: str | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
                 check_crc: bool = True, start_epoch: int = 0, chunk_size: int = DEFAULT_CHUNK):
        _format_key(record_format)  # fail now on an unknown format
        if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
            raise ValueError("epochs must be a positive integer or None")
        if start_epoch < 0:
            raise ValueError("start_epoch must be >= 0")
        self.pipe = PipeChannel(channel, data_dir, timeout)
        self.record_format = record_format
        self.epochs_per_iteration = 1 if epochs is None else epochs
        self.check_crc = check_crc
        self.chunk_size = chunk_size
        self._next_epoch = start_epoch
        self._lock = threading.Lock()

    def __repr__(self):
        return (f"PipeModeDataset({self.pipe.channel!r}, {self.record_format!r}, "
                f"data_dir={self.pipe.data_dir!r}, next_epoch={self._next_epoch})")

    @property
    def next_epoch(self) -> int:
        """The epoch the next iteration will read."""
        return self._next_epoch

    def _take_epoch(self) -> int:
        with self._lock:
            epoch = self._next_epoch
            self._next_epoch += 1
            return epoch

    def __iter__(self) -> Iterator[bytes]:
        return self._records()

    def _records(self) -> Iterator[bytes]:
        for _ in range(self.epochs_per_iteration):
            epoch = self._take_epoch()
            with self.pipe.open_epoch(epoch) as stream:
                yield from read_records(stream, self.record_format, check_crc=self.check_crc,
                                        chunk_size=self.chunk_size)

