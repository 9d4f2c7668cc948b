"""Test helpers: the writer side of Pipe mode (what Sluice does), in a thread, every wait bounded."""

from __future__ import annotations

import errno
import io
import itertools
import os
import select
import threading
import time

ODD_PIECES = (1, 3, 4093, 7, 65537, 13, 8191, 2)


class FifoWriter(threading.Thread):
    """Creates ``<data_dir>/<channel>_<n>`` for each payload and writes it in odd piece sizes.

    Like Sluice, FIFO ``_n+1`` is created only once ``_n`` has been opened by a reader. A reader
    that closes early makes the write fail with EPIPE (Python ignores SIGPIPE): that epoch is
    recorded in ``broken`` and the writer goes on with the next one. Every wait ends by
    ``deadline_s``; anything unexpected lands in ``error``.
    """

    def __init__(self, data_dir: str, channel: str, payloads, *, pieces=ODD_PIECES,
                 first_delay: float = 0.0, deadline_s: float = 30.0, pause_every: int = 0):
        super().__init__(daemon=True)
        self.data_dir = data_dir
        self.channel = channel
        self.payloads = list(payloads)
        self.pieces = pieces
        self.first_delay = first_delay
        self.deadline_s = deadline_s
        self.pause_every = pause_every  # sleep 1 ms every this many pieces (0: never)
        self.opened: list[int] = []
        self.broken: list[int] = []
        self.written: dict[int, int] = {}
        self.error: BaseException | None = None

    def path(self, epoch: int) -> str:
        return os.path.join(self.data_dir, f"{self.channel}_{epoch}")

    def run(self):
        try:
            self._run()
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def _run(self):
        deadline = time.monotonic() + self.deadline_s
        if self.first_delay:
            time.sleep(self.first_delay)
        if self.payloads:
            os.mkfifo(self.path(0))
        for epoch, payload in enumerate(self.payloads):
            fd = _open_for_write(self.path(epoch), deadline)
            self.opened.append(epoch)
            try:
                if epoch + 1 < len(self.payloads):
                    os.mkfifo(self.path(epoch + 1))
                self.written[epoch] = 0
                try:
                    self._write(fd, epoch, payload, deadline)
                except BrokenPipeError:
                    self.broken.append(epoch)
            finally:
                os.close(fd)

    def _write(self, fd: int, epoch: int, payload: bytes, deadline: float):
        view = memoryview(payload)
        pos = 0
        for count, piece in enumerate(itertools.cycle(self.pieces)):
            if pos >= len(view):
                return
            if self.pause_every and count % self.pause_every == self.pause_every - 1:
                time.sleep(0.001)
            end = min(pos + piece, len(view))
            while pos < end:
                try:
                    pos += os.write(fd, view[pos:end])
                    self.written[epoch] = pos
                except BlockingIOError:
                    _wait(fd, select.POLLOUT, deadline, "the reader to take data")

    def finish(self, test, timeout: float = 30.0):
        """Join the thread (bounded) and fail ``test`` if it is stuck or hit an error."""
        self.join(timeout)
        test.assertFalse(self.is_alive(), "writer thread still running")
        if self.error is not None:
            raise AssertionError(f"writer thread failed: {self.error!r}") from self.error


def _open_for_write(path: str, deadline: float) -> int:
    """Open a FIFO's write end once a reader has it open (ENXIO until then), non-blocking."""
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no reader opened {path}")
        time.sleep(0.005)


def _wait(fd: int, events: int, deadline: float, what: str):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError(f"timed out waiting for {what}")
    poller = select.poll()
    poller.register(fd, events)
    poller.poll(max(1, int(remaining * 1000)))


class Trickle(io.RawIOBase):
    """A raw stream over ``data`` that returns at most the next of ``pieces`` bytes per read."""

    def __init__(self, data: bytes, pieces=ODD_PIECES):
        super().__init__()
        self._data = memoryview(bytes(data))
        self._pos = 0
        self._pieces = itertools.cycle(pieces)

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), next(self._pieces), len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n
