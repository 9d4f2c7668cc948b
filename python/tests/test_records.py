import io
import random
import struct
import unittest

import sluice_pipe
from sluice_pipe import (RecordError, read_records, recordio_record, recordio_records, text_lines,
                         tfrecord_record, tfrecord_records)
from sluice_pipe.records import RECORDIO_MAGIC

from .fifo_util import Trickle

MAGIC = struct.pack("<I", RECORDIO_MAGIC)


def part(cflag, data, pad=True):
    """A RecordIO record (or part) built by hand."""
    out = MAGIC + struct.pack("<I", (cflag << 29) | len(data)) + data
    return out + bytes((-len(data)) % 4) if pad else out


def random_payloads(rng, count=200):
    sizes = [0, 1, 2, 3, 4, 5, 7, 8, 255, 256, 4095, 4096, 4097, 70000]
    sizes += [rng.choice((rng.randrange(0, 64), rng.randrange(0, 3000))) for _ in range(count)]
    payloads = [rng.randbytes(n) for n in sizes]
    payloads.append(MAGIC * 3)  # the magic inside a payload means nothing to the framing
    rng.shuffle(payloads)
    return payloads


def streams(data):
    """The same bytes as streams of several kinds: whole, trickling raw (no read1), buffered."""
    yield "BytesIO", io.BytesIO(data), {}
    yield "raw trickle", Trickle(data), {}
    yield "buffered trickle", io.BufferedReader(Trickle(data), buffer_size=64), {}
    yield "chunk_size=5", io.BytesIO(data), {"chunk_size": 5}
    yield "chunk_size=1", io.BufferedReader(Trickle(data)), {"chunk_size": 1}


class VectorsTest(unittest.TestCase):
    def test_recordio(self):
        self.assertEqual(recordio_record(b"abc"), bytes.fromhex("0a23d7ce 03000000 61626300"))
        self.assertEqual(recordio_record(b""), bytes.fromhex("0a23d7ce 00000000"))
        self.assertEqual(list(recordio_records(io.BytesIO(bytes.fromhex("0a23d7ce030000006162630a")))),
                         [b"abc"])  # padding bytes are skipped, whatever they hold

    def test_tfrecord(self):
        self.assertEqual(tfrecord_record(b"abc"),
                         bytes.fromhex("0300000000000000 b099490e 616263 6e57f121"))
        self.assertEqual(tfrecord_record(b""),
                         bytes.fromhex("0000000000000000 29039807 d8ea82a2"))
        self.assertEqual(list(tfrecord_records(io.BytesIO(
            bytes.fromhex("0300000000000000b099490e6162636e57f121")))), [b"abc"])

    def test_crc32c(self):
        self.assertEqual(sluice_pipe.crc32c(b"123456789"), 0xE3069283)


class RoundTripTest(unittest.TestCase):
    def test_recordio(self):
        rng = random.Random(1)
        payloads = random_payloads(rng)
        data = b"".join(recordio_record(p) for p in payloads)
        for name, stream, kwargs in streams(data):
            with self.subTest(name):
                self.assertEqual(list(recordio_records(stream, **kwargs)), payloads)

    def test_tfrecord(self):
        rng = random.Random(2)
        payloads = random_payloads(rng)
        data = b"".join(tfrecord_record(p) for p in payloads)
        for name, stream, kwargs in streams(data):
            with self.subTest(name):
                self.assertEqual(list(tfrecord_records(stream, **kwargs)), payloads)
        self.assertEqual(list(tfrecord_records(io.BytesIO(data), check_crc=False)), payloads)

    def test_tfrecord_many_small(self):
        # Many short records: the standard-library CRC checks them in batches (one lane each).
        rng = random.Random(6)
        for payloads in ([rng.randbytes(100) for _ in range(300)],
                         [rng.randbytes(rng.randrange(4, 40)) for _ in range(6000)],
                         [rng.randbytes(rng.randrange(64, 128)) for _ in range(500)]):
            data = b"".join(tfrecord_record(p) for p in payloads)
            for name, stream, kwargs in list(streams(data))[:3]:
                with self.subTest(name, count=len(payloads)):
                    self.assertEqual(list(tfrecord_records(stream, **kwargs)), payloads)

    def test_text_lines(self):
        rng = random.Random(3)
        lines = [bytes(rng.choice(b"abc \r\t") for _ in range(rng.choice((0, 1, 5, 300, 3000))))
                 for _ in range(60)]
        for trailing_newline in (True, False):
            data = b"\n".join(lines) + (b"\n" if trailing_newline else b"")
            for name, stream, kwargs in streams(data):
                with self.subTest(name, trailing_newline=trailing_newline):
                    got = list(text_lines(stream, **kwargs))
                    if not trailing_newline and lines[-1] == b"":
                        self.assertEqual(got, lines[:-1])
                    else:
                        self.assertEqual(got, lines)

    def test_text_line_edges(self):
        cases = {b"": [], b"\n": [b""], b"\n\n": [b"", b""], b"a": [b"a"], b"a\n": [b"a"],
                 b"a\nb": [b"a", b"b"], b"a\nb\n": [b"a", b"b"], b"\na": [b"", b"a"],
                 b"a\r\nb": [b"a\r", b"b"]}
        for data, want in cases.items():
            for name, stream, kwargs in streams(data):
                with self.subTest(data=data, stream=name):
                    self.assertEqual(list(text_lines(stream, **kwargs)), want)

    def test_big_records(self):
        # Records much larger than a read: the remainder is read in one go.
        rng = random.Random(4)
        payloads = [rng.randbytes(3 << 20), b"x", rng.randbytes((1 << 20) + 3)]
        for framing, reader in ((recordio_record, recordio_records),
                                (tfrecord_record, tfrecord_records)):
            data = b"".join(framing(p) for p in payloads)
            with self.subTest(reader.__name__):
                self.assertEqual(list(reader(io.BufferedReader(Trickle(data, (65536, 1000, 3)),
                                                               buffer_size=1 << 20))), payloads)
                self.assertEqual(list(reader(io.BytesIO(data), chunk_size=4096)), payloads)

    def test_read_records_dispatch(self):
        self.assertEqual(list(read_records(io.BytesIO(recordio_record(b"a")))), [b"a"])
        self.assertEqual(list(read_records(io.BytesIO(tfrecord_record(b"a")), "TFRecord")), [b"a"])
        self.assertEqual(list(read_records(io.BytesIO(b"a\nb"), "textline")), [b"a", b"b"])
        with self.assertRaisesRegex(ValueError, "RecordIO, TFRecord, TextLine"):
            read_records(io.BytesIO(b""), "CSV")


class MultiPartTest(unittest.TestCase):
    def test_writer_splits_and_reader_joins(self):
        rng = random.Random(5)
        for size, max_part in ((10, 4), (10, 3), (12, 4), (13, 5), (100, 1), (5, 5), (6, 5),
                               (0, 1), (70000, 4096)):
            payload = rng.randbytes(size)
            data = recordio_record(payload, max_part=max_part)
            with self.subTest(size=size, max_part=max_part):
                flags = []
                pos = 0
                while pos < len(data):
                    magic, lrecord = struct.unpack_from("<II", data, pos)
                    self.assertEqual(magic, RECORDIO_MAGIC)
                    flags.append(lrecord >> 29)
                    length = lrecord & ((1 << 29) - 1)
                    self.assertLessEqual(length, max_part)
                    pos += 8 + length + (-length) % 4
                if size <= max_part:
                    self.assertEqual(flags, [0])
                else:
                    self.assertEqual(flags, [1] + [2] * (len(flags) - 2) + [3])
                stream = b"".join((recordio_record(b"before"), data, recordio_record(b"after")))
                self.assertEqual(list(recordio_records(Trickle(stream))),
                                 [b"before", payload, b"after"])

    def test_joined_without_magic(self):
        # Parts are concatenated as they are, as the TensorFlow PipeModeDataset does; dmlc's
        # reader would re-insert the magic between them.
        data = part(1, b"abcd") + part(2, b"efgh") + part(2, b"") + part(3, b"ij")
        self.assertEqual(list(recordio_records(io.BytesIO(data))), [b"abcdefghij"])
        self.assertEqual(list(recordio_records(io.BytesIO(part(1, b"a") + part(3, b"b")))), [b"ab"])

    def test_bad_max_part(self):
        with self.assertRaises(ValueError):
            recordio_record(b"abc", max_part=0)
        with self.assertRaises(ValueError):
            recordio_record(b"abc", max_part=1 << 29)


class CorruptionTest(unittest.TestCase):
    """Every framing error names the byte offset of the record it is in, and the problem."""

    def check(self, reader, data, offset, *phrases, **kwargs):
        for name, stream, stream_kwargs in streams(data):
            with self.subTest(stream=name):
                with self.assertRaises(RecordError) as caught:
                    list(reader(stream, **kwargs, **stream_kwargs))
                error = caught.exception
                self.assertIsInstance(error, ValueError)
                self.assertEqual(error.offset, offset)
                self.assertIn(f"byte offset {offset}:", str(error))
                for phrase in phrases:
                    self.assertIn(phrase, str(error))
        return error

    # RecordIO: "abc" takes 12 bytes, so the second record starts at offset 12.
    GOOD = recordio_record(b"abc")

    def test_recordio_bad_magic(self):
        error = self.check(recordio_records, self.GOOD + b"\x0b" + self.GOOD[1:], 12,
                           "bad magic 0xced7230b", "expected 0xced7230a")
        self.assertEqual(error.format, "RecordIO")
        self.assertIn("corrupt RecordIO stream", str(error))

    def test_recordio_truncated_header(self):
        self.check(recordio_records, self.GOOD + self.GOOD[:5], 12, "truncated header",
                   "5 of its 8 bytes")

    def test_recordio_truncated_payload(self):
        self.check(recordio_records, self.GOOD + part(0, b"0123456789")[:8 + 3], 12,
                   "truncated payload", "3 of its 10 bytes")

    def test_recordio_truncated_padding(self):
        self.check(recordio_records, self.GOOD + self.GOOD[:-1], 12, "truncated padding",
                   "0 of its 1 bytes")
        self.check(recordio_records, self.GOOD + part(0, b"a")[:-1], 12, "truncated padding",
                   "2 of its 3 bytes")

    def test_recordio_bad_cflag(self):
        self.check(recordio_records, self.GOOD + part(5, b"x"), 12, "bad cflag 5")
        self.check(recordio_records, self.GOOD + part(7, b"x"), 12, "bad cflag 7")

    def test_recordio_bad_cflag_sequence(self):
        g = self.GOOD
        self.check(recordio_records, g + part(2, b"x"), 12, "bad cflag sequence",
                   "cflag 2 (middle part)", "no multi-part record started")
        self.check(recordio_records, g + part(3, b"x"), 12, "bad cflag sequence",
                   "cflag 3 (last part)")
        # a complete record, or a new first part, inside a multi-part record: offset of that part,
        # and the message names where the unfinished record started
        self.check(recordio_records, g + part(1, b"abcd") + part(0, b"x"), 24,
                   "bad cflag sequence", "cflag 0 (complete record)", "started at byte offset 12")
        self.check(recordio_records, g + part(1, b"abcd") + part(2, b"efgh") + part(1, b"x"), 36,
                   "cflag 1 (first part)", "started at byte offset 12")
        # the stream ends in the middle of a multi-part record: the offset where it started
        self.check(recordio_records, g + part(1, b"abcd") + part(2, b"efgh"), 12,
                   "truncated multi-part record", "2 part(s)")

    def test_recordio_length_too_large(self):
        self.check(recordio_records, self.GOOD + part(0, b"0123456789"), 12, "length 10 too large",
                   "limit 5", max_record_size=5)
        self.check(recordio_records, self.GOOD + part(1, b"abcd") + part(3, b"ef"), 12,
                   "multi-part record length 6 too large", max_record_size=5)

    # TFRecord: "abc" takes 19 bytes, so the second record starts at offset 19.
    TF = tfrecord_record(b"abc")

    def test_tfrecord_truncated_header(self):
        error = self.check(tfrecord_records, self.TF + self.TF[:11], 19, "truncated header",
                           "11 of its 12 bytes")
        self.assertEqual(error.format, "TFRecord")

    def test_tfrecord_header_crc_mismatch(self):
        bad = bytearray(tfrecord_record(b"hello"))
        bad[0] = 6  # the length no longer matches its CRC
        self.check(tfrecord_records, self.TF + bytes(bad), 19, "header CRC mismatch",
                   "stored 0x", "reads 6")
        bad = bytearray(tfrecord_record(b"hello"))
        bad[9] ^= 0x40  # the CRC itself
        self.check(tfrecord_records, self.TF + bytes(bad), 19, "header CRC mismatch")

    def test_tfrecord_data_crc_mismatch(self):
        bad = bytearray(tfrecord_record(b"hello"))
        bad[13] ^= 1
        self.check(tfrecord_records, self.TF + bytes(bad), 19, "data CRC mismatch",
                   "over the 5-byte payload")
        # not checked: the damaged payload comes through
        self.assertEqual(list(tfrecord_records(io.BytesIO(self.TF + bytes(bad)), check_crc=False)),
                         [b"abc", b"hdllo"])

    def test_tfrecord_data_crc_mismatch_among_many(self):
        # Records before the damaged one come out first, whether CRCs are checked one by one or
        # in a batch; the error names the damaged record's offset (each record is 116 bytes).
        records = [tfrecord_record(bytes([i]) * 100) for i in range(100)]
        bad = bytearray(records[57])
        bad[40] ^= 0xFF
        records[57] = bytes(bad)
        data = b"".join(records)
        for name, stream, kwargs in streams(data):
            with self.subTest(name):
                got = []
                with self.assertRaises(RecordError) as caught:
                    for record in tfrecord_records(stream, **kwargs):
                        got.append(record)
                self.assertEqual(got, [bytes([i]) * 100 for i in range(57)])
                self.assertEqual(caught.exception.offset, 57 * 116)
                self.assertIn("data CRC mismatch", str(caught.exception))

    def test_tfrecord_truncated_payload(self):
        self.check(tfrecord_records, self.TF + tfrecord_record(b"hello")[:14], 19,
                   "truncated payload", "2 of its 5 bytes")

    def test_tfrecord_truncated_data_crc(self):
        self.check(tfrecord_records, self.TF + tfrecord_record(b"hello")[:-1], 19,
                   "truncated data CRC", "3 of its 4 bytes")

    def test_tfrecord_length_too_large(self):
        huge = struct.pack("<Q", 1 << 40)
        record = huge + struct.pack("<I", sluice_pipe.masked_crc32c(huge)) + b"xyz"
        self.check(tfrecord_records, self.TF + record, 19, f"length {1 << 40} too large")
        # without CRC checks a damaged length is caught by the limit, not read
        self.check(tfrecord_records, self.TF + struct.pack("<QI", 1 << 40, 0) + b"xyz", 19,
                   "too large", check_crc=False)
        self.check(tfrecord_records, self.TF + tfrecord_record(b"hello"), 19,
                   "length 5 too large (limit 4)", max_record_size=4)


if __name__ == "__main__":
    unittest.main()
