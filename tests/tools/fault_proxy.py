#!/usr/bin/env python3
"""fault_proxy.py: a fault-injecting HTTP/1.1 proxy for tests (Python 3 standard library only).

It sits between a client (`sluice --endpoint-url http://127.0.0.1:PORT`) and an S3 store and
forwards every request verbatim (the Host header as received, so SigV4 signatures stay valid),
with keep-alive, Content-Length and chunked bodies streamed in both directions, never buffered
whole. Chosen requests get a fault instead.

  python3 tests/tools/fault_proxy.py --upstream http://127.0.0.1:PORT --port-file FILE
      [--port 0] [--seed N] [--rate 0.1] [--faults LIST] [--at N,N,...]
      [--methods GET,HEAD,PUT,POST,DELETE] [--delay-seconds S] [--max-lifetime SECONDS]
      [--log FILE] [--mutate-cmd CMD]

  --upstream URL      the store (http only)
  --port-file FILE    written (atomically, the port and a newline) once the proxy listens
  --port N            listen on 127.0.0.1:N (default 0: a free port)
  --rate R            fault each counted request with probability R (default 0: none by chance)
  --seed N            seed of that choice (default 0): a request's fate depends only on
                      (seed, request number), so a seed replays the same faults by number
  --at N,N,...        also fault these request numbers (1-based)
  --methods LIST      only requests with these methods are counted and may be faulted
                      (default GET,HEAD,PUT,POST,DELETE); others pass through, logged with n=-
  --faults LIST       the kinds to choose from, comma separated (default: every kind except
                      delay and mutate); a faulted request gets one, chosen by (seed, number):
      503           answer 503 with an S3 SlowDown XML body (the request is not forwarded)
      500           answer 500 with an S3 InternalError XML body (not forwarded)
      reset-before  forward the request, read the store's answer, then reset the client
                    connection (RST) before any byte of it: the request may have been applied
      reset-mid     forward the status line, the headers and half of the body, then RST
      short-body    forward the headers (with the real Content-Length) and half of the body,
                    then close the connection normally (FIN)
                    (reset-mid and short-body on an answer without a body act as reset-before)
      delay         hold the store's answer --delay-seconds (default 35) before forwarding
                    it (logged when the hold begins, status=STATUS(held Ss))
      mutate        run --mutate-cmd through the shell (and wait for it) before forwarding
                    the request, which then goes on normally
  --max-lifetime S    exit after S seconds (default 600); also exits on SIGTERM/SIGINT and
                      when its parent process dies
  --log FILE          one line per request, appended and flushed:
                      `n=N method=M path=P range=R fault=F status=S` (n=- when not counted,
                      range=- without a Range header, fault=ok when none, status=- when no
                      status line reached the client). The query string is kept but the
                      values of X-Amz-* parameters are replaced by `...`; no header other than
                      Range is logged (never Authorization).
"""

import argparse
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

ALL_FAULTS = ["503", "500", "reset-before", "reset-mid", "short-body", "delay", "mutate"]
DEFAULT_FAULTS = ["503", "500", "reset-before", "reset-mid", "short-body"]
BUF = 256 * 1024
MAX_HEAD = 64 * 1024

ERROR_BODY = {
    "503": ("503 Slow Down", "SlowDown", "Please reduce your request rate."),
    "500": ("500 Internal Server Error", "InternalError",
            "We encountered an internal error. Please try again."),
}


class Closed(Exception):
    """The peer closed the connection (or sent something we cannot parse)."""


class Reader:
    """Buffered reads from a socket: lines, exact counts, and chunks."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(BUF)
        if not data:
            raise Closed("connection closed")
        self.buf += data

    def at_eof_now(self):
        """True when nothing is buffered and the peer has closed (or sent junk) already."""
        if self.buf:
            return False
        self.sock.setblocking(False)
        try:
            data = self.sock.recv(1)
            if not data:
                return True
            self.buf += data
            return False
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            self.sock.setblocking(True)

    def head(self):
        """Reads up to and including the blank line; b"" when the peer closed before a byte."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise Closed("header too large")
            try:
                self._fill()
            except Closed:
                if not self.buf:
                    return b""
                raise
        end = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:end], self.buf[end:]
        return h

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise Closed("line too long")
            self._fill()
        end = self.buf.index(b"\r\n") + 2
        l, self.buf = self.buf[:end], self.buf[end:]
        return l

    def some(self, limit):
        """Up to `limit` bytes (at least one)."""
        if not self.buf:
            self._fill()
        n = min(limit, len(self.buf))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        """Whatever arrives until the peer closes, piece by piece (a generator)."""
        if self.buf:
            out, self.buf = self.buf, b""
            yield out
        while True:
            data = self.sock.recv(BUF)
            if not data:
                return
            yield data


def parse_head(raw):
    lines = raw.decode("latin-1").split("\r\n")
    first = lines[0]
    headers = []
    for l in lines[1:]:
        if not l:
            continue
        name, _, value = l.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return first, headers


def header(headers, name):
    for n, v in headers:
        if n == name:
            return v
    return None


def body_pieces(reader, headers, until_close=False):
    """The raw bytes of a message body as they are on the wire (chunk framing included),
    piece by piece. Content-Length, chunked, or (until_close) everything up to EOF."""
    te = (header(headers, "transfer-encoding") or "").lower()
    if "chunked" in te:
        while True:
            size_line = reader.line()
            yield size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, up to the blank line
                    l = reader.line()
                    yield l
                    if l == b"\r\n":
                        return
            left = size + 2  # the data and its CRLF
            while left:
                piece = reader.some(min(left, BUF))
                left -= len(piece)
                yield piece
        return
    cl = header(headers, "content-length")
    if cl is not None:
        left = int(cl)
        while left > 0:
            piece = reader.some(min(left, BUF))
            left -= len(piece)
            yield piece
        return
    if until_close:
        yield from reader.rest()


def response_has_body(method, status):
    return not (method == "HEAD" or 100 <= status < 200 or status in (204, 304))


def reset(sock):
    """Closes with RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def redact_target(target):
    path, sep, query = target.partition("?")
    if not sep:
        return path
    parts = []
    for item in query.split("&"):
        name, eq, _ = item.partition("=")
        if name.lower().startswith("x-amz-") and eq:
            parts.append(name + "=...")
        else:
            parts.append(item)
    return path + "?" + "&".join(parts)


class Proxy:
    def __init__(self, args):
        self.args = args
        u = urllib.parse.urlsplit(args.upstream)
        if u.scheme != "http" or not u.hostname:
            sys.exit("fault_proxy: --upstream must be http://HOST:PORT, got %r" % args.upstream)
        self.upstream = (u.hostname, u.port or 80)
        self.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
        for f in self.faults:
            if f not in ALL_FAULTS:
                sys.exit("fault_proxy: unknown fault %r in --faults (known: %s)" % (f, ", ".join(ALL_FAULTS)))
        if not self.faults:
            sys.exit("fault_proxy: --faults is empty")
        if "mutate" in self.faults and not args.mutate_cmd:
            sys.exit("fault_proxy: the mutate fault needs --mutate-cmd")
        self.at = set()
        for x in (args.at or "").split(","):
            x = x.strip()
            if x:
                if not x.isdigit() or int(x) < 1:
                    sys.exit("fault_proxy: --at wants 1-based request numbers, got %r" % x)
                self.at.add(int(x))
        self.methods = {m.strip().upper() for m in args.methods.split(",") if m.strip()}
        if not 0.0 <= args.rate <= 1.0:
            sys.exit("fault_proxy: --rate must be in [0, 1], got %r" % args.rate)
        self.lock = threading.Lock()
        self.count = 0
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.mutate_lock = threading.Lock()

    def choose(self, method):
        """(number or None, fault or None) for a new request."""
        if method not in self.methods:
            return None, None
        with self.lock:
            self.count += 1
            n = self.count
        # A PRNG seeded from (seed, n) only: the same seed faults the same request numbers.
        rng = random.Random("%d:%d" % (self.args.seed, n))
        hit = rng.random() < self.args.rate
        kind = self.faults[rng.randrange(len(self.faults))]
        if hit or n in self.at:
            return n, kind
        return n, None

    def record(self, n, method, target, rng, fault, status):
        if not self.log:
            return
        line = "n=%s method=%s path=%s range=%s fault=%s status=%s\n" % (
            "-" if n is None else n, method, redact_target(target), (rng or "-").replace(" ", ""),
            fault or "ok", status)
        with self.lock:
            self.log.write(line)

    def connect_upstream(self):
        s = socket.create_connection(self.upstream, timeout=None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s, Reader(s)

    def serve(self, client):
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        creader = Reader(client)
        pending, rng, fault = [], None, None
        up = None
        ureader = None
        try:
            while True:
                raw = creader.head()
                if not raw:
                    return
                first, headers = parse_head(raw)
                parts = first.split(" ")
                if len(parts) != 3:
                    return
                method, target, _version = parts
                n, fault = self.choose(method)
                rng = header(headers, "range")
                pending = [n, method, target]  # logged once, by finish() or on an error

                def finish(f, status):
                    self.record(pending[0], pending[1], pending[2], rng, f, status)
                    pending.clear()

                keep = (header(headers, "connection") or "").lower() != "close"

                if fault in ("503", "500"):
                    for _ in body_pieces(creader, headers):
                        pass  # drain the request body: the connection stays usable
                    status_line, code, msg = ERROR_BODY[fault]
                    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                            '<RequestId>fault-proxy-%s</RequestId></Error>' % (code, msg, n)).encode()
                    resp = ("HTTP/1.1 %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                            "x-amz-request-id: fault-proxy-%s\r\n%s\r\n" % (
                                status_line, len(body), n, "" if keep else "Connection: close\r\n")).encode() + body
                    finish(fault, status_line.split(" ")[0])
                    client.sendall(resp)
                    if not keep:
                        return
                    continue

                if fault == "mutate":
                    with self.mutate_lock:
                        subprocess.run(self.args.mutate_cmd, shell=True, stdin=subprocess.DEVNULL)

                # Forward the request: head verbatim, body streamed.
                if up is None or ureader.at_eof_now():
                    if up is not None:
                        up.close()
                    up, ureader = self.connect_upstream()
                up.sendall(raw)
                for piece in body_pieces(creader, headers):
                    up.sendall(piece)

                # The answer (1xx interim answers are passed on as they are).
                while True:
                    rhead = ureader.head()
                    if not rhead:
                        raise Closed("upstream closed before answering")
                    rfirst, rheaders = parse_head(rhead)
                    status = int(rfirst.split(" ")[1])
                    if 100 <= status < 200 and status != 101:
                        if fault is None:
                            client.sendall(rhead)
                        continue
                    break
                has_body = response_has_body(method, status)
                up_close = (rheaders and (header(rheaders, "connection") or "").lower() == "close")
                framed = header(rheaders, "content-length") is not None or \
                    "chunked" in (header(rheaders, "transfer-encoding") or "").lower()
                pieces = body_pieces(ureader, rheaders, until_close=True) if has_body else iter(())
                if has_body and not framed:
                    up_close = True
                total = None
                cl = header(rheaders, "content-length")
                if has_body and cl is not None:
                    total = int(cl)

                effective = fault
                if fault in ("reset-mid", "short-body") and (not has_body or total == 0):
                    effective = "reset-before"
                if effective == "reset-before":
                    for _ in pieces:
                        pass
                    finish(fault if fault == effective else fault + "/as-reset-before", "-")
                    reset(client)
                    client = None
                    if up_close:
                        up.close()
                    return
                if effective in ("reset-mid", "short-body"):
                    # Half of the body: by Content-Length when there is one, else half of what
                    # comes (chunked), counted in wire bytes.
                    client.sendall(rhead)
                    buffered = []
                    if total is None:
                        buffered = list(pieces)
                        total = sum(len(p) for p in buffered)
                        pieces = iter(buffered)
                    budget = total // 2
                    sent = 0
                    for p in pieces:
                        if sent < budget:
                            take = p[:budget - sent]
                            client.sendall(take)
                            sent += len(take)
                        # the rest is read from the store and dropped
                    finish(effective, status)
                    if effective == "reset-mid":
                        time.sleep(0.05)  # let the client read what was sent before the RST
                        reset(client)
                    else:
                        client.shutdown(socket.SHUT_RDWR)
                        client.close()
                    client = None
                    if up_close:
                        up.close()
                    return
                if effective == "delay":
                    # Logged now: the client has usually given up (and the proxy may be stopped)
                    # before the delay ends.
                    finish(fault, "%d(held %gs)" % (status, self.args.delay_seconds))
                    time.sleep(self.args.delay_seconds)
                # Forward the answer. Its log line is written before the last bytes go out, so
                # that a client that has the whole answer finds it in the log.
                last = rhead
                for p in pieces:
                    client.sendall(last)
                    last = p
                if effective != "delay":
                    finish(fault, status)
                client.sendall(last)
                if up_close:
                    up.close()
                    up = None
                if not keep or (up_close and not framed):
                    return
        except (Closed, OSError, ValueError, IndexError) as e:
            if pending:  # a request that got no answer for another reason than a fault
                self.record(pending[0], pending[1], pending[2], rng, fault,
                            "-(%s)" % (str(e) or type(e).__name__).replace(" ", "_"))
            return
        finally:
            if client is not None:
                try:
                    client.close()
                except OSError:
                    pass
            if up is not None:
                up.close()

    def run(self):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.args.port))
        srv.listen(256)
        port = srv.getsockname()[1]
        tmp = self.args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, self.args.port_file)
        while True:
            c, _ = srv.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description="fault-injecting HTTP/1.1 proxy for tests (see the header)")
    p.add_argument("--upstream", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--faults", default=",".join(DEFAULT_FAULTS))
    p.add_argument("--at", default="")
    p.add_argument("--methods", default="GET,HEAD,PUT,POST,DELETE")
    p.add_argument("--delay-seconds", type=float, default=35.0)
    p.add_argument("--max-lifetime", type=float, default=600.0)
    p.add_argument("--log")
    p.add_argument("--mutate-cmd")
    args = p.parse_args()
    proxy = Proxy(args)

    def stop(*_):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    parent = os.getppid()
    deadline = time.monotonic() + args.max_lifetime

    def watchdog():
        while True:
            time.sleep(0.5)
            if time.monotonic() > deadline:
                sys.stderr.write("fault_proxy: --max-lifetime reached, exiting\n")
                os._exit(0)
            if os.getppid() != parent:
                os._exit(0)  # the parent died

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        proxy.run()
    except OSError as e:
        sys.exit("fault_proxy: %s" % e)


if __name__ == "__main__":
    main()
