"""Record framings of a Pipe mode stream: RecordIO, TFRecord, TextLine.

Readers take any binary stream (a FIFO opened by :class:`sluice_pipe.PipeChannel`, a file
opened ``"rb"``, :class:`io.BytesIO`) and are generators of ``bytes`` records. They read in large
pieces (``read1`` where the stream has it, so a record is handed out as soon as its last byte has
arrived, never waiting for more than it needs) and cut records out of the buffer with
``struct.unpack_from`` and slicing, never a small ``read`` per header.

A stream whose framing is broken raises :class:`RecordError` naming the byte offset (from where
the reader started) of the record that is wrong, and what is wrong with it.
"""

from __future__ import annotations

import struct
from typing import Callable, Iterator

from . import crc as _crc
from .crc import crc32c, mask

__all__ = [
    "RecordError",
    "RECORDIO_MAGIC",
    "RECORDIO_MAX_LENGTH",
    "TFRECORD_MAX_LENGTH",
    "RECORD_FORMATS",
    "recordio_records",
    "tfrecord_records",
    "text_lines",
    "read_records",
    "recordio_record",
    "tfrecord_record",
]

RECORDIO_MAGIC = 0xCED7230A
RECORDIO_MAX_LENGTH = (1 << 29) - 1  # the lrecord word keeps 29 bits of length
# A TFRecord payload is a serialized protocol buffer in practice, and those stop at 2 GiB. A
# length field beyond this is taken for corruption rather than a reason to read gigabytes.
TFRECORD_MAX_LENGTH = (1 << 31) - 1

DEFAULT_CHUNK = 1 << 20  # bytes asked for per read
_BIG_READ = 64 << 20  # the largest single read() for the remainder of a big record

_RECORDIO_HEADER = struct.Struct("<II")
_TFRECORD_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

_CFLAG_NAMES = {0: "complete record", 1: "first part", 2: "middle part", 3: "last part"}


class RecordError(ValueError):
    """A record whose framing is broken.

    ``format`` is ``"RecordIO"``/``"TFRecord"``, ``offset`` the byte offset of the start of the
    record (its header) in the stream, ``problem`` what is wrong.
    """

    def __init__(self, record_format: str, offset: int, problem: str):
        self.format = record_format
        self.offset = offset
        self.problem = problem
        super().__init__(f"corrupt {record_format} stream: record at byte offset {offset}: {problem}")


class _Buffer:
    """The unread bytes of a stream: ``buf[pos:]``, where ``buf[0]`` is stream offset ``base``."""

    __slots__ = ("buf", "pos", "base", "_read", "_read1", "_chunk")

    def __init__(self, stream, chunk_size: int):
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.buf = b""
        self.pos = 0
        self.base = 0
        self._read = stream.read
        # read1 returns what is already there (at least one byte) instead of waiting for the
        # whole amount: a writer that pauses between records must not stall the records that
        # have already arrived.
        self._read1 = getattr(stream, "read1", None) or stream.read
        self._chunk = chunk_size

    def fill(self, need: int) -> int:
        """Make ``need`` bytes available at ``pos`` (fewer only at the end of the stream).

        Moves what is left to the front (``pos`` becomes 0) and returns how many bytes there are.
        """
        buf, pos = self.buf, self.pos
        have = len(buf) - pos
        parts = [memoryview(buf)[pos:]] if have else []
        self.base += pos
        missing = need - have
        chunk = self._chunk
        while missing > 0:
            if missing < chunk:
                data = self._read1(chunk)
            else:  # the rest of a big record: read it straight into one object
                data = self._read(min(missing, _BIG_READ))
            if data is None:
                raise BlockingIOError("the stream is in non-blocking mode and has no data now")
            if not data:
                break
            parts.append(data)
            missing -= len(data)
        if len(parts) == 1 and type(parts[0]) is bytes:
            self.buf = parts[0]
        else:
            self.buf = b"".join(parts)
        self.pos = 0
        return len(self.buf)


def recordio_records(stream, *, max_record_size: int = RECORDIO_MAX_LENGTH,
                     chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
    """Payloads of the MXNet/dmlc RecordIO records in ``stream``.

    Each record is ``magic:u32le lrecord:u32le payload pad`` with ``lrecord = cflag << 29 |
    length`` and zero padding to a multiple of 4 bytes. Multi-part records (cflag 1 = first part,
    2 = middle part, 3 = last part) are joined into one payload by plain concatenation, as
    SageMaker's TensorFlow PipeModeDataset does (dmlc's own reader would put the magic number
    back between the parts). The padding bytes are skipped without being checked, as dmlc does.
    """
    src = _Buffer(stream, chunk_size)
    unpack = _RECORDIO_HEADER.unpack_from
    parts = None  # payloads of an unfinished multi-part record
    parts_size = 0
    first_offset = 0  # where that record started
    while True:
        buf, pos = src.buf, src.pos
        if len(buf) - pos < 8:
            avail = src.fill(8)
            buf, pos = src.buf, 0
            if avail < 8:
                if avail == 0:
                    if parts is not None:
                        raise RecordError("RecordIO", first_offset,
                                          f"truncated multi-part record: the stream ends after "
                                          f"{len(parts)} part(s) with no last part (cflag 3)")
                    return
                raise RecordError("RecordIO", src.base,
                                  f"truncated header: the stream ends after {avail} of its 8 bytes")
        magic, lrecord = unpack(buf, pos)
        offset = src.base + pos
        if magic != RECORDIO_MAGIC:
            raise RecordError("RecordIO", offset,
                              f"bad magic 0x{magic:08x} (expected 0x{RECORDIO_MAGIC:08x})")
        cflag = lrecord >> 29
        length = lrecord & RECORDIO_MAX_LENGTH
        if cflag > 3:
            raise RecordError("RecordIO", offset, f"bad cflag {cflag} (0 to 3 are defined)")
        if parts is None:
            if cflag >= 2:
                raise RecordError("RecordIO", offset,
                                  f"bad cflag sequence: cflag {cflag} ({_CFLAG_NAMES[cflag]}) with "
                                  f"no multi-part record started (cflag 1)")
            if length > max_record_size:
                raise RecordError("RecordIO", offset,
                                  f"length {length} too large (limit {max_record_size})")
        else:
            if cflag <= 1:
                raise RecordError("RecordIO", offset,
                                  f"bad cflag sequence: cflag {cflag} ({_CFLAG_NAMES[cflag]}) "
                                  f"while the multi-part record that started at byte offset "
                                  f"{first_offset} has not had its last part (cflag 3)")
            if parts_size + length > max_record_size:
                raise RecordError("RecordIO", first_offset,
                                  f"multi-part record length {parts_size + length} too large "
                                  f"(limit {max_record_size})")
        size = 8 + ((length + 3) & ~3)
        end = pos + size
        if end > len(buf):
            avail = src.fill(size)
            buf, pos, end = src.buf, 0, size
            if avail < size:
                got = avail - 8
                if got < length:
                    raise RecordError("RecordIO", offset,
                                      f"truncated payload: the stream ends after {got} of its "
                                      f"{length} bytes")
                raise RecordError("RecordIO", offset,
                                  f"truncated padding: the stream ends after {got - length} of "
                                  f"its {size - 8 - length} bytes")
        payload = buf[pos + 8:pos + 8 + length]
        src.pos = end
        if cflag == 0:
            yield payload
        elif cflag == 1:
            parts = [payload]
            parts_size = length
            first_offset = offset
        else:
            parts.append(payload)
            parts_size += length
            if cflag == 3:
                record = b"".join(parts)
                parts = None
                yield record


def tfrecord_records(stream, check_crc: bool = True, *, max_record_size: int = TFRECORD_MAX_LENGTH,
                     chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
    """Payloads of the TFRecord records in ``stream``.

    Each record is ``length:u64le masked_crc32c(length bytes):u32le payload
    masked_crc32c(payload):u32le``. With ``check_crc`` both CRCs are checked (a mismatch is a
    :class:`RecordError`); without it they are skipped, which saves the CRC's cost (see
    ``sluice_pipe.crc``) and lets damaged payloads through.

    With the standard-library CRC, the data CRCs of the records that are already in the buffer
    are checked together (:func:`sluice_pipe.crc.crc32c_many`) before any of them is handed out;
    records still come out in order, and those before a damaged one come out before the error.
    """
    src = _Buffer(stream, chunk_size)
    unpack_header = _TFRECORD_HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    header_crcs: dict[int, int] = {}  # length -> masked CRC of its 8 bytes (lengths repeat)
    batch = check_crc and _crc.IMPLEMENTATION == "python"
    pending: list[tuple[int, bytes, int]] = []  # (offset, payload, stored CRC) not yet checked
    while True:
        buf, pos = src.buf, src.pos
        if len(buf) - pos < 12:
            if pending:  # hand out what is here before waiting for more
                yield from _checked(pending)
            avail = src.fill(12)
            buf, pos = src.buf, 0
            if avail < 12:
                if avail == 0:
                    return
                raise RecordError("TFRecord", src.base,
                                  f"truncated header: the stream ends after {avail} of its 12 bytes")
        length, stored = unpack_header(buf, pos)
        offset = src.base + pos
        if check_crc:
            expected = header_crcs.get(length)
            if expected is None:
                expected = mask(crc32c(buf[pos:pos + 8]))
                if len(header_crcs) >= 4096:
                    header_crcs.clear()
                header_crcs[length] = expected
            if expected != stored:
                yield from _checked(pending)
                raise RecordError("TFRecord", offset,
                                  f"header CRC mismatch: stored 0x{stored:08x}, computed "
                                  f"0x{expected:08x} over the length field (which reads {length})")
        if length > max_record_size:
            yield from _checked(pending)
            raise RecordError("TFRecord", offset,
                              f"length {length} too large (limit {max_record_size})")
        size = 12 + length + 4
        end = pos + size
        if end > len(buf):
            if pending:
                yield from _checked(pending)
            avail = src.fill(size)
            buf, pos, end = src.buf, 0, size
            if avail < size:
                got = avail - 12
                if got < length:
                    raise RecordError("TFRecord", offset,
                                      f"truncated payload: the stream ends after {got} of its "
                                      f"{length} bytes")
                raise RecordError("TFRecord", offset,
                                  f"truncated data CRC: the stream ends after {got - length} of "
                                  f"its 4 bytes")
        payload = buf[pos + 12:end - 4]
        src.pos = end
        if check_crc:
            (stored,) = unpack_u32(buf, end - 4)
            if batch:
                pending.append((offset, payload, stored))
                if len(pending) >= 4096:
                    yield from _checked(pending)
                continue
            computed = mask(crc32c(payload))
            if computed != stored:
                raise _data_crc_error(offset, stored, computed, length)
        yield payload


def _checked(pending: list) -> Iterator[bytes]:
    """Check the data CRCs of ``pending`` records together, hand them out in order, empty it."""
    if not pending:
        return
    records = pending[:]
    pending.clear()
    computed = _crc.crc32c_many([payload for _, payload, _ in records])
    for (offset, payload, stored), value in zip(records, computed):
        value = mask(value)
        if value != stored:
            raise _data_crc_error(offset, stored, value, len(payload))
        yield payload


def _data_crc_error(offset: int, stored: int, computed: int, length: int) -> RecordError:
    return RecordError("TFRecord", offset,
                       f"data CRC mismatch: stored 0x{stored:08x}, computed 0x{computed:08x} "
                       f"over the {length}-byte payload")


def text_lines(stream, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
    """Lines of ``stream`` split on ``b"\\n"``, without the newline.

    A last line with no newline is returned too; ``b"\\r"`` is kept (as the TensorFlow
    PipeModeDataset's TextLine reader does). An empty stream has no lines; ``b"\\n"`` is one
    empty line.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    read = getattr(stream, "read1", None) or stream.read
    pending: list[bytes] = []  # the start of a line that has not ended yet
    while True:
        data = read(chunk_size)
        if data is None:
            raise BlockingIOError("the stream is in non-blocking mode and has no data now")
        if not data:
            break
        lines = data.split(b"\n")
        if len(lines) == 1:
            pending.append(data)
            continue
        if pending:
            pending.append(lines[0])
            lines[0] = b"".join(pending)
            pending = []
        last = lines.pop()
        if last:
            pending.append(last)
        yield from lines
    if pending:
        yield b"".join(pending)


_READERS: dict[str, Callable[..., Iterator[bytes]]] = {
    "recordio": recordio_records,
    "tfrecord": tfrecord_records,
    "textline": text_lines,
}
RECORD_FORMATS = ("RecordIO", "TFRecord", "TextLine")


def read_records(stream, record_format: str = "RecordIO", *, check_crc: bool = True,
                 chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
    """Records of ``stream`` in ``record_format`` (``RecordIO``, ``TFRecord`` or ``TextLine``,
    any case); ``check_crc`` applies to TFRecord."""
    key = _format_key(record_format)
    if key == "tfrecord":
        return tfrecord_records(stream, check_crc, chunk_size=chunk_size)
    return _READERS[key](stream, chunk_size=chunk_size)


def _format_key(record_format: str) -> str:
    key = str(record_format).lower()
    if key not in _READERS:
        raise ValueError(f"unknown record_format {record_format!r}: use one of "
                         f"{', '.join(RECORD_FORMATS)}")
    return key


def recordio_record(payload, *, max_part: int | None = None) -> bytes:
    """``payload`` framed as RecordIO: ``0a 23 d7 ce``, the length, the payload, zero padding.

    A payload longer than ``max_part`` (default and at most 2^29 - 1 bytes, what the length field
    holds) is written as a multi-part record: cflag 1, 2, ..., 3, the payload cut into pieces of
    ``max_part`` bytes, nothing removed or escaped (the layout :func:`recordio_records` and the
    TensorFlow PipeModeDataset join back).
    """
    payload = bytes(payload)
    limit = RECORDIO_MAX_LENGTH & ~3 if max_part is None else max_part
    if not 1 <= limit <= RECORDIO_MAX_LENGTH:
        raise ValueError(f"max_part must be between 1 and {RECORDIO_MAX_LENGTH}")
    n = len(payload)
    if n <= limit:
        return _recordio_part(0, payload)
    out = []
    for start in range(0, n, limit):
        cflag = 1 if start == 0 else (3 if start + limit >= n else 2)
        out.append(_recordio_part(cflag, payload[start:start + limit]))
    return b"".join(out)


def _recordio_part(cflag: int, data: bytes) -> bytes:
    n = len(data)
    return b"".join((_RECORDIO_HEADER.pack(RECORDIO_MAGIC, (cflag << 29) | n), data,
                     bytes((-n) & 3)))


def tfrecord_record(payload) -> bytes:
    """``payload`` framed as TFRecord: length, masked CRC of the length, payload, masked CRC."""
    payload = bytes(payload)
    length = _U64.pack(len(payload))
    return b"".join((length, _U32.pack(mask(crc32c(length))), payload,
                     _U32.pack(mask(crc32c(payload)))))
