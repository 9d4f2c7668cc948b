"""CRC-32C (Castagnoli) and TFRecord's masked CRC.

``crc32c(data, crc=0)`` follows :func:`zlib.crc32`'s conventions: the check value of
``b"123456789"`` is ``0xE3069283``, and ``crc32c(b, crc32c(a)) == crc32c(a + b)``.

Implementations, best first (the first that imports *and* passes a self-check is used;
``IMPLEMENTATION`` names it):

``google_crc32c``
    Google's C library wrapper (``pip install google-crc32c``), SSE4.2/ARMv8 CRC instructions:
    gigabytes per second. Used only when its own ``implementation`` is ``"c"``.
``crc32c``
    The ICRAR ``crc32c`` extension (``pip install crc32c``, Debian ``python3-crc32c``), also
    hardware-accelerated.
``python``
    Standard library only. Short inputs use the classic byte-at-a-time table loop
    (a few MB/s: every byte costs a Python bytecode round). Longer inputs are split into K
    interleaved lanes, and one table step is done for all K lanes at once with
    ``bytes.translate`` (the 256-entry table lookup, one output byte per lane) and big-integer
    XOR (the state update), both running at C speed; the K lane CRCs are then combined with a
    "shift by L zero bytes" table: about 10 times faster than the byte loop from a few KiB on.
    :func:`crc32c_many` does the same across many short payloads, one lane each, which the
    TFRecord reader uses for the records in its buffer (README.md has measurements).

The environment variable ``SLUICE_PIPE_CRC32C=python`` forces the standard-library version.
"""

from __future__ import annotations

import os

__all__ = ["crc32c", "crc32c_many", "crc32c_python", "crc32c_python_many", "masked_crc32c", "mask",
           "unmask", "IMPLEMENTATION"]

_POLY = 0x82F63B78  # Castagnoli, reflected
_M32 = 0xFFFFFFFF
_MASK_DELTA = 0xA282EAD8


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
# _TABLE split into its four bytes, as bytes.translate tables (one per byte of the 32-bit entry).
_TRANSLATE = tuple(bytes((v >> (8 * j)) & 0xFF for v in _TABLE) for j in range(4))
_INVERT = bytes(255 - b for b in range(256))

# Below this many bytes the plain byte loop wins (it has no setup cost).
_LANES_MIN = 256
# Lane work is done on segments of at most this many bytes: the strided slices that gather one
# byte per lane then stay within the CPU caches.
_SEGMENT = 128 * 1024


def _bytewise(state: int, data) -> int:
    """Raw CRC update (no pre/post inversion) of ``state`` over ``data``, one byte at a time."""
    t = _TABLE
    for b in data:
        state = t[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


_shift_cache: dict[int, tuple[list[int], list[int], list[int], list[int]]] = {}


def _shift_tables(nbytes: int):
    """Tables for the linear map "raw CRC state -> state after nbytes zero bytes", by state byte."""
    tabs = _shift_cache.get(nbytes)
    if tabs is not None:
        return tabs
    t = _TABLE
    columns = []  # image of each of the 32 basis vectors
    for bit in range(32):
        v = 1 << bit
        for _ in range(nbytes):
            v = t[v & 0xFF] ^ (v >> 8)
        columns.append(v)
    tabs = []
    for j in range(4):
        tab = [0] * 256
        for b in range(1, 256):
            low = (b & -b).bit_length() - 1  # lowest set bit
            tab[b] = tab[b & (b - 1)] ^ columns[8 * j + low]
        tabs.append(tab)
    tabs = tuple(tabs)
    _shift_cache[nbytes] = tabs
    return tabs


def _lane_width(n: int) -> int:
    """Bytes per lane for an n-byte segment: about sqrt(n)/2, a power of two in [8, 256]."""
    width = 8
    while width < 256 and width * width * 4 < n:
        width *= 2
    return width


def _lane_states(buf: bytes, width: int, lanes: int) -> tuple[bytes, bytes, bytes, bytes]:
    """Raw CRCs (starting at 0) of the ``lanes`` consecutive ``width``-byte slices of ``buf``.

    Returns byte j of every lane's CRC as one ``bytes`` per j (lane i at index i). One loop step
    advances all lanes by one byte: gather that byte of every lane (a strided slice), XOR it into
    the low state byte (big-integer XOR), look the result up in the table (``bytes.translate``,
    one per byte of the 32-bit table entry) and XOR in the shifted state.
    """
    t0, t1, t2, t3 = _TRANSLATE
    frm = int.from_bytes
    c0 = c1 = c2 = c3 = 0  # byte j of every lane's state, lane 0 in the lowest byte
    for pos in range(width):
        idx = (c0 ^ frm(buf[pos::width], "little")).to_bytes(lanes, "little")
        c0 = frm(idx.translate(t0), "little") ^ c1
        c1 = frm(idx.translate(t1), "little") ^ c2
        c2 = frm(idx.translate(t2), "little") ^ c3
        c3 = frm(idx.translate(t3), "little")
    return (c0.to_bytes(lanes, "little"), c1.to_bytes(lanes, "little"),
            c2.to_bytes(lanes, "little"), c3.to_bytes(lanes, "little"))


def _lanes(state: int, seg) -> int:
    """Raw CRC update of ``state`` over ``seg`` (len(seg) >= 4), all lanes at once.

    A raw CRC that starts at ``state`` equals one that starts at 0 over the same data with
    ``state`` XORed into its first four bytes, and leading zero bytes do not change a CRC that
    starts at 0. So the segment is left-padded with zeros to K * L bytes and cut into K lanes of L
    bytes; lane i's raw CRC is computed for every lane in parallel, one byte position per step;
    and crc = (...(lane_0 * x^8L + lane_1) * x^8L + ...) + lane_{K-1}.
    """
    n = len(seg)
    width = _lane_width(n)
    lanes = -(-n // width)
    head = (int.from_bytes(seg[:4], "little") ^ state).to_bytes(4, "little")
    buf = bytes(lanes * width - n) + head + bytes(seg[4:])
    b0, b1, b2, b3 = _lane_states(buf, width, lanes)
    s0, s1, s2, s3 = _shift_tables(width)
    crc = 0
    for x0, x1, x2, x3 in zip(b0, b1, b2, b3):
        crc = (s0[crc & 0xFF] ^ s1[(crc >> 8) & 0xFF] ^ s2[(crc >> 16) & 0xFF] ^ s3[crc >> 24]
               ^ x0 ^ (x1 << 8) ^ (x2 << 16) ^ (x3 << 24))
    return crc


def crc32c_python(data, crc: int = 0) -> int:
    """CRC-32C of ``data`` (any bytes-like object), continuing from ``crc``; standard library only."""
    mv = memoryview(data).cast("B")
    n = len(mv)
    state = (crc & _M32) ^ _M32
    if n < _LANES_MIN:
        return _bytewise(state, mv) ^ _M32
    pos = 0
    while pos < n:
        end = min(pos + _SEGMENT, n)
        if n - end < _LANES_MIN:
            end = n  # no short last segment
        state = _lanes(state, mv[pos:end])
        pos = end
    return state ^ _M32


# Batches: records of similar length (same power-of-two class) are checked together as the lanes
# of one _lane_states call, one lane per record, when there are at least this many of them and
# they are shorter than _MANY_MAX (longer ones are fast enough on their own).
_MANY_MIN = 16
_MANY_MAX = 64 * 1024


def crc32c_python_many(payloads) -> list[int]:
    """``[crc32c_python(p) for p in payloads]``, faster for many short payloads."""
    results = [0] * len(payloads)
    classes: dict[int, list[int]] = {}
    for i, payload in enumerate(payloads):
        n = len(payload)
        if 4 <= n < _MANY_MAX:
            classes.setdefault(n.bit_length(), []).append(i)
        else:
            results[i] = crc32c_python(payload)
    for members in classes.values():
        lengths = [len(payloads[i]) for i in members]
        width = max(lengths)
        count = len(members)
        if count < _MANY_MIN or count * 32 < width:  # too few for the lanes to pay off
            for i in members:
                results[i] = crc32c_python(payloads[i])
            continue
        # One lane per payload, right-aligned: zeros in front leave a CRC that starts at 0
        # unchanged. The initial all-ones state is the same as inverting the payload's first four
        # bytes (see _lanes).
        if min(lengths) == width:
            data = b"".join([payloads[i] for i in members])
            flip = (b"\xff\xff\xff\xff" + bytes(width - 4)) * count
            buf = (int.from_bytes(data, "little") ^ int.from_bytes(flip, "little")).to_bytes(
                len(data), "little")
        else:
            parts = []
            for i, n in zip(members, lengths):
                if n < width:
                    parts.append(bytes(width - n))
                parts.append(payloads[i])
            buf = bytearray(b"".join(parts))
            invert = _INVERT
            off = 0
            for n in lengths:
                head = off + width - n
                buf[head:head + 4] = buf[head:head + 4].translate(invert)
                off += width
        b0, b1, b2, b3 = _lane_states(buf, width, count)
        for lane, i in enumerate(members):
            results[i] = (b0[lane] | (b1[lane] << 8) | (b2[lane] << 16) | (b3[lane] << 24)) ^ _M32
    return results


def _select():
    check = b"123456789"
    candidates = []
    if os.environ.get("SLUICE_PIPE_CRC32C", "").lower() != "python":
        try:
            import google_crc32c  # type: ignore

            if getattr(google_crc32c, "implementation", "c") == "c":
                def _google(data, crc=0, _extend=google_crc32c.extend):
                    return _extend(crc & _M32, bytes(data) if isinstance(data, memoryview) else data)

                candidates.append(("google_crc32c", _google))
        except Exception:  # not installed or broken: fall through
            pass
        try:
            import crc32c as _ext  # type: ignore

            def _icrar(data, crc=0, _fn=_ext.crc32c):
                return _fn(data, crc & _M32)

            candidates.append(("crc32c", _icrar))
        except Exception:
            pass
    for name, fn in candidates:
        try:
            if (fn(check) == 0xE3069283 and fn(b"") == 0 and fn(b"6789", fn(b"12345")) == 0xE3069283
                    and fn(memoryview(check)) == 0xE3069283):
                return name, fn
        except Exception:
            continue
    return "python", crc32c_python


IMPLEMENTATION, crc32c = _select()


def crc32c_many(payloads) -> list[int]:
    """The CRC-32C of each payload: batched in the standard-library implementation."""
    if IMPLEMENTATION == "python":
        return crc32c_python_many(payloads)
    return [crc32c(p) for p in payloads]


def mask(crc: int) -> int:
    """TFRecord's CRC mask: rotate right by 15 bits and add 0xa282ead8 (mod 2^32)."""
    crc &= _M32
    return ((((crc >> 15) | (crc << 17)) & _M32) + _MASK_DELTA) & _M32


def unmask(masked: int) -> int:
    """Inverse of :func:`mask`."""
    rot = (masked - _MASK_DELTA) & _M32
    return ((rot >> 17) | (rot << 15)) & _M32


def masked_crc32c(data) -> int:
    """``mask(crc32c(data))``: the value TFRecord stores."""
    return mask(crc32c(data))
