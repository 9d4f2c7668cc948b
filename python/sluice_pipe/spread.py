"""Records of one FIFO shared among the worker processes of one DataLoader iteration.

A FIFO has one reader. With several DataLoader workers, the worker that reads it (the *lead*)
hands records to the others (the *followers*) over Unix stream sockets, so that the transform and
the batching run in every worker. Only the standard library is used; torch is not needed here.

Rendezvous: the lead listens on an abstract Unix socket whose name is derived (SHA-256) from a
random token that only copies of the dataset hold and from a key common to the workers of one
iteration; the name does not reveal the token. Each side checks the other before any record
moves:

- the follower checks, with SO_PEERCRED, that the listener runs as the same user and is a sibling
  (the same parent process: the DataLoader's), then sends the token;
- the lead checks the same of the follower, and the token.

A process squatting the name, or connecting to it, gets no record and injects none.

Wire format, lead to follower: a record is ``u64le length`` and its bytes; ``END`` (2^64 - 1)
ends the epoch; ``ABORT`` (2^64 - 2) is followed by ``u32le length`` and a UTF-8 message: the
lead failed (for example a bad record), and the follower raises with that message. A connection
that closes without ``END`` is an error as well, so an epoch never ends short in silence.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import os
import secrets
import socket
import struct
import threading
import time

__all__ = ["new_token", "socket_name", "Lead", "follow", "SpreadError"]

TOKEN_BYTES = 16
END = (1 << 64) - 1
ABORT = (1 << 64) - 2
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_HELLO = struct.Struct(f"<{TOKEN_BYTES}sI")   # token, follower's worker id
_CRED = struct.Struct("3i")                    # struct ucred: pid, uid, gid
BOX_BYTES = 8 << 20   # records queued for one worker (at least two records, whatever their size)
HELLO_TIMEOUT = 10.0  # a connected follower must say hello within this
FOLLOWER_GRACE = 2.0  # the first record waits this long (from the lead's start) for every follower
LATE_FOLLOWERS = 30.0  # after the end, followers not connected yet are waited for this long at most


class SpreadError(RuntimeError):
    """The records could not be shared among the workers (the reading worker failed, or a
    connection broke)."""


def new_token() -> bytes:
    return secrets.token_bytes(TOKEN_BYTES)


def socket_name(token: bytes, key: str) -> bytes:
    """The abstract socket address for one iteration: ``\\0sluice-pipe-`` and a digest."""
    digest = hashlib.sha256(token + b"\0" + key.encode()).hexdigest()[:40]
    return b"\0sluice-pipe-" + digest.encode()


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def _check_sibling(sock: socket.socket, what: str) -> None:
    pid, uid, _ = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    if uid != os.getuid():
        raise SpreadError(f"{what} runs as uid {uid}, not {os.getuid()}")
    if _parent_of(pid) != os.getppid():
        raise SpreadError(f"{what} (pid {pid}) is not a worker of this DataLoader")


def _recv_exact(sock: socket.socket, n: int) -> bytearray | None:
    """``n`` bytes, or None at a clean end of stream before the first byte."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            if got == 0:
                return None
            raise SpreadError(f"the reading worker's connection ended inside a message ({got} of {n} bytes)")
        got += k
    return buf


class _Box:
    """A bounded queue of records for one worker, bounded in bytes (two records always fit)."""

    def __init__(self, limit: int = BOX_BYTES):
        self.limit = limit
        self.items = collections.deque()
        self.bytes = 0
        self.cond = threading.Condition()
        self.closed = False   # the consumer is gone: puts are refused

    def offer(self, item, size: int) -> bool:
        with self.cond:
            if self.closed:
                return False
            if len(self.items) >= 2 and self.bytes + size > self.limit:
                return False
            self.items.append((item, size))
            self.bytes += size
            self.cond.notify()
            return True

    def put_last(self, item) -> None:
        """An end marker: always fits."""
        with self.cond:
            self.items.append((item, 0))
            self.cond.notify()

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.wait()
            item, size = self.items.popleft()
            self.bytes -= size
            self.cond.notify_all()
            return item

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.items.clear()
            self.bytes = 0
            self.cond.notify_all()


class _Done:
    """The end of an epoch in a box: ``error`` None for a normal end."""

    def __init__(self, error: BaseException | None = None):
        self.error = error


class Lead:
    """The reading worker's side: :meth:`dispatch` each record, then :meth:`finish` (or
    :meth:`fail`); iterate :meth:`own` for the records this worker keeps.

    Records go to the worker whose queue has room, taking turns; when every queue is full the
    reader waits. Followers that connect late get what is dispatched after they connect (and the
    end marker), so no record waits on a worker that has not started.
    """

    def __init__(self, name: bytes, token: bytes, followers: int, timeout: float | None):
        self._token = token
        self._expected = followers
        self._timeout = timeout
        self._own = _Box()
        self._boxes = [self._own]
        self._lock = threading.Lock()
        self._turn = 0
        self._done: _Done | None = None
        self._broken: BaseException | None = None
        self._threads = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            self._listener.bind(name)
            self._listener.listen(max(followers, 1) + 4)
        except OSError as exc:
            self._listener.close()
            raise SpreadError(f"cannot listen for the other DataLoader workers: {exc}") from exc
        self._started = time.monotonic()
        self._waited = False
        self._listener.settimeout(0.2)
        self._accepting = True
        # Not daemon threads: when this worker's own records end, the DataLoader stops its process
        # while other workers may still have records queued here. The process's exit
        # (multiprocessing's bootstrap joins non-daemon threads) waits until each is sent, with the
        # end, or its connection broke, and until late followers got the end.
        t = threading.Thread(target=self._accept_loop, name="sluice-pipe-accept", daemon=False)
        t.start()
        self._threads.append(t)

    # --- the reading thread

    def dispatch(self, record) -> None:
        if not self._waited:   # the workers start together: give the others a moment to connect
            self._waited = True
            while (len(self._boxes) - 1 < self._expected and self._done is None
                   and time.monotonic() - self._started < FOLLOWER_GRACE):
                time.sleep(0.002)
        size = len(record)
        while True:
            if self._done is not None:
                raise SpreadError("the reading worker's iteration was closed")
            if self._broken is not None:
                raise SpreadError(f"a DataLoader worker's connection broke: {self._broken}")
            with self._lock:
                boxes = self._boxes
                start = self._turn
                self._turn += 1
            for i in range(len(boxes)):
                if boxes[(start + i) % len(boxes)].offer(record, size):
                    return
            time.sleep(0.001)   # every worker has a full queue: the reader is ahead

    def finish(self) -> None:
        self._end(_Done())

    def fail(self, error: BaseException) -> None:
        self._end(_Done(error))

    def _end(self, done: _Done) -> None:
        with self._lock:
            if self._done is not None:
                return
            self._done = done
            boxes = list(self._boxes)
        for box in boxes:
            box.put_last(done)

    def own(self):
        """This worker's records, then the epoch's end (or the reader's error, raised)."""
        try:
            while True:
                item = self._own.get()
                if isinstance(item, _Done):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop accepting; the senders finish what is queued (the end marker included)."""
        self._own.close()
        self._end(_Done(SpreadError("the reading worker stopped before the end of the epoch")))

    # --- followers

    def _accept_loop(self) -> None:
        accepted = 0
        deadline = None
        try:
            while accepted < self._expected:
                if self._done is not None and deadline is None:   # late followers: a bounded wait
                    late = LATE_FOLLOWERS if self._timeout is None else min(self._timeout, LATE_FOLLOWERS)
                    deadline = time.monotonic() + late
                if deadline is not None and time.monotonic() > deadline:
                    return
                try:
                    conn, _ = self._listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                if self._admit(conn):
                    accepted += 1
        finally:
            self._listener.close()

    def _admit(self, conn: socket.socket) -> bool:
        try:
            _check_sibling(conn, "a process connecting to the Pipe channel's worker socket")
            conn.settimeout(HELLO_TIMEOUT)
            hello = _recv_exact(conn, _HELLO.size)
            if hello is None or not hmac.compare_digest(_HELLO.unpack(hello)[0], self._token):
                raise SpreadError("wrong token")
            conn.settimeout(None)
        except (OSError, SpreadError):
            conn.close()   # not one of ours: it gets nothing
            return False
        box = _Box()
        with self._lock:
            if self._done is not None:
                box.put_last(self._done)
            self._boxes = self._boxes + [box]
        t = threading.Thread(target=self._send_loop, args=(conn, box), name="sluice-pipe-send",
                             daemon=False)
        t.start()
        self._threads.append(t)
        return True

    def _send_loop(self, conn: socket.socket, box: _Box) -> None:
        try:
            while True:
                item = box.get()
                if isinstance(item, _Done):
                    if item.error is None:
                        conn.sendall(_U64.pack(END))
                    else:
                        msg = f"{type(item.error).__name__}: {item.error}".encode()[:4096]
                        conn.sendall(_U64.pack(ABORT) + _U32.pack(len(msg)) + msg)
                    return
                conn.sendall(_U64.pack(len(item)))
                conn.sendall(item)
        except OSError as exc:
            self._broken = exc
            box.close()
        finally:
            conn.close()


def follow(name: bytes, token: bytes, worker_id: int, timeout: float | None):
    """A follower's records: connect to the lead (retrying until ``timeout``), then yield what
    it sends until the epoch's end."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.connect(name)
            break
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            if deadline is not None and time.monotonic() >= deadline:
                raise SpreadError(
                    f"DataLoader worker {worker_id}: the worker that reads the FIFO (worker 0) did not "
                    f"open its socket within {timeout:g} s") from None
            time.sleep(0.01)
        except BaseException:
            sock.close()
            raise
    with sock:
        _check_sibling(sock, "the process listening on the Pipe channel's worker socket")
        sock.sendall(_HELLO.pack(token, worker_id))
        while True:
            head = _recv_exact(sock, _U64.size)
            if head is None:
                raise SpreadError(f"DataLoader worker {worker_id}: the reading worker closed its "
                                  f"connection before the end of the epoch")
            (n,) = _U64.unpack(head)
            if n == END:
                return
            if n == ABORT:
                raw = _recv_exact(sock, _U32.size)
                msg = b"" if raw is None else (_recv_exact(sock, _U32.unpack(raw)[0]) or b"")
                raise SpreadError(f"the worker that reads the FIFO failed: "
                                  f"{bytes(msg).decode(errors='replace')}")
            data = _recv_exact(sock, n) if n else bytearray()
            if data is None:
                raise SpreadError(f"DataLoader worker {worker_id}: the connection ended inside a record")
            yield bytes(data)
