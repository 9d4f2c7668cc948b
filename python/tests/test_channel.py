import os
import random
import tempfile
import time
import unittest
from unittest import mock

from sluice_pipe import (DEFAULT_DATA_DIR, PipeChannel, PipeModeDataset, RecordError,
                         channel_data_dir, recordio_record, recordio_records, tfrecord_record)

from .fifo_util import FifoWriter

TIMEOUT = 20.0  # for waits that should succeed; a failing test ends by then instead of hanging


class TempDirTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="sluice-pipe-test-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.writers = []

    def writer(self, payloads, channel="train", **kwargs):
        writer = FifoWriter(self.dir, channel, payloads, **kwargs)
        self.writers.append(writer)
        writer.start()
        return writer

    def tearDown(self):
        for writer in self.writers:
            writer.join(TIMEOUT)


class DataDirTest(unittest.TestCase):
    def test_default(self):
        with mock.patch.dict(os.environ, clear=True):
            self.assertEqual(channel_data_dir("train"), "/opt/ml/input/data")
            self.assertEqual(PipeChannel("train").data_dir, DEFAULT_DATA_DIR)
            self.assertEqual(PipeChannel("train").path(3), "/opt/ml/input/data/train_3")

    def test_from_sm_channel(self):
        env = {"SM_CHANNEL_TRAIN": "/somewhere/data/train", "SM_CHANNEL_MY-DATA": "/x/y/my-data/",
               "SM_CHANNEL_EVAL": ""}
        with mock.patch.dict(os.environ, env, clear=True):
            self.assertEqual(PipeChannel("train").data_dir, "/somewhere/data")
            self.assertEqual(PipeChannel("Train").data_dir, "/somewhere/data")  # upper-cased
            # the toolkit's rule: upper-case, nothing replaced ("-" stays)
            self.assertEqual(PipeChannel("my-data").path(0), "/x/y/my-data_0")
            self.assertEqual(PipeChannel("eval").data_dir, DEFAULT_DATA_DIR)  # empty: ignored
            self.assertEqual(PipeChannel("train", data_dir="/given").data_dir, "/given")

    def test_bad_names(self):
        for name in ("", ".", "..", "a/b", "a\0b"):
            with self.subTest(name=name), self.assertRaises(ValueError):
                PipeChannel(name)
        with self.assertRaises(ValueError):
            PipeModeDataset("train", "CSV")
        with self.assertRaises(ValueError):
            PipeModeDataset("train", epochs=0)


class PipeChannelTest(TempDirTest):
    def test_reads_fifo_written_in_odd_pieces(self):
        rng = random.Random(1)
        payload = rng.randbytes(300_000)
        writer = self.writer([payload], pause_every=7)
        with PipeChannel("train", self.dir, TIMEOUT).open_epoch(0) as stream:
            self.assertEqual(stream.name, os.path.join(self.dir, "train_0"))
            self.assertEqual(stream.read(), payload)
        writer.finish(self)
        self.assertEqual(writer.broken, [])

    def test_records_through_fifo(self):
        rng = random.Random(2)
        payloads = [rng.randbytes(rng.choice((0, 3, 100, 5000, 70000))) for _ in range(200)]
        data = b"".join(recordio_record(p, max_part=4096) for p in payloads)
        writer = self.writer([data])
        with PipeChannel("train", self.dir, TIMEOUT).open_epoch(0) as stream:
            self.assertEqual(list(recordio_records(stream)), payloads)
        writer.finish(self)

    def test_fifo_appears_late(self):
        start = time.monotonic()  # before the writer starts its 0.3 s sleep
        writer = self.writer([b"late"], first_delay=0.3)
        with PipeChannel("train", self.dir, TIMEOUT).open_epoch(0) as stream:
            self.assertGreaterEqual(time.monotonic() - start, 0.29)
            self.assertEqual(stream.read(), b"late")
        writer.finish(self)

    def test_empty_epoch(self):
        writer = self.writer([b"", b"x"])
        channel = PipeChannel("train", self.dir, TIMEOUT)
        with channel.open_epoch(0) as stream:
            self.assertEqual(stream.read(), b"")
        with channel.open_epoch(1) as stream:
            self.assertEqual(stream.read(), b"x")
        writer.finish(self)

    def test_reader_closes_early(self):
        # The reader stops after a few records; the writer gets EPIPE for that epoch and goes on.
        records = [recordio_record(bytes([i % 256]) * 1000) for i in range(4000)]  # ~4 MB
        writer = self.writer([b"".join(records), recordio_record(b"next epoch")])
        channel = PipeChannel("train", self.dir, TIMEOUT)
        stream = channel.open_epoch(0)
        reader = recordio_records(stream)
        self.assertEqual([next(reader) for _ in range(10)], [bytes([i]) * 1000 for i in range(10)])
        reader.close()
        stream.close()
        with channel.open_epoch(1) as stream:
            self.assertEqual(list(recordio_records(stream)), [b"next epoch"])
        writer.finish(self)
        self.assertEqual(writer.broken, [0])
        self.assertLess(writer.written[0], len(b"".join(records)))

    def test_epochs_generator(self):
        writer = self.writer([b"zero", b"one", b"two"])
        channel = PipeChannel("train", self.dir, TIMEOUT)
        got = []
        opened = []
        for stream in channel.epochs(count=3):
            opened.append(stream)
            got.append(stream.read())
        self.assertEqual(got, [b"zero", b"one", b"two"])
        self.assertTrue(all(s.closed for s in opened))
        writer.finish(self)

    def test_timeout_when_fifo_never_appears(self):
        channel = PipeChannel("train", self.dir, timeout=0.3)
        start = time.monotonic()
        with self.assertRaises(TimeoutError) as caught:
            channel.open_epoch(4)
        elapsed = time.monotonic() - start
        self.assertIn(os.path.join(self.dir, "train_4"), str(caught.exception))
        self.assertGreaterEqual(elapsed, 0.29)
        self.assertLess(elapsed, 5.0)

    def test_timeout_names_a_channel_not_in_pipe_mode(self):
        with open(os.path.join(self.dir, "inputdataconfig.json"), "w") as f:
            f.write('{"train": {"TrainingInputMode": "File", "RecordWrapperType": "None"}}')
        with mock.patch.dict(os.environ, {"SM_INPUT_CONFIG_DIR": self.dir}):
            with self.assertRaisesRegex(TimeoutError, "TrainingInputMode 'File', not 'Pipe'"):
                PipeChannel("train", self.dir, timeout=0.1).open_epoch(0)
            with self.assertRaisesRegex(TimeoutError, "has no channel 'eval'"):
                PipeChannel("eval", self.dir, timeout=0.1).open_epoch(0)

    def test_timeout_when_no_writer_comes(self):
        path = os.path.join(self.dir, "train_0")
        os.mkfifo(path)
        start = time.monotonic()
        with self.assertRaises(TimeoutError) as caught:
            PipeChannel("train", self.dir, timeout=0.3).open_epoch(0)
        self.assertIn(path, str(caught.exception))
        self.assertIn("no writer", str(caught.exception))
        self.assertLess(time.monotonic() - start, 5.0)

    def test_regular_file_and_directory(self):
        with open(os.path.join(self.dir, "train_0"), "wb") as f:
            f.write(recordio_record(b"from a file"))
        self.assertEqual(list(PipeModeDataset("train", data_dir=self.dir, timeout=1)),
                         [b"from a file"])
        os.mkdir(os.path.join(self.dir, "dir_0"))
        with self.assertRaises(IsADirectoryError):
            PipeChannel("dir", self.dir, timeout=1).open_epoch(0)


class PipeModeDatasetTest(TempDirTest):
    def epochs_of(self, framing, count=3, size=300):
        rng = random.Random(count * 1000 + size)
        epochs = [[rng.randbytes(rng.randrange(0, size)) for _ in range(50 + 10 * n)]
                  for n in range(count)]
        return epochs, [b"".join(framing(r) for r in records) for records in epochs]

    def test_three_epochs_recordio(self):
        epochs, data = self.epochs_of(lambda r: recordio_record(r, max_part=64))
        writer = self.writer(data)
        ds = PipeModeDataset("train", data_dir=self.dir, timeout=TIMEOUT)
        for epoch in range(3):
            self.assertEqual(ds.next_epoch, epoch)
            self.assertEqual(list(ds), epochs[epoch])
        self.assertEqual(ds.next_epoch, 3)
        writer.finish(self)
        self.assertEqual(writer.opened, [0, 1, 2])

    def test_three_epochs_tfrecord(self):
        epochs, data = self.epochs_of(tfrecord_record)
        writer = self.writer(data)
        ds = PipeModeDataset("train", "TFRecord", data_dir=self.dir, timeout=TIMEOUT)
        self.assertEqual([list(ds) for _ in range(3)], epochs)
        writer.finish(self)

    def test_three_epochs_textline(self):
        epochs = [[b"a,1", b"b,2"], [b""], [b"c,3", b"d,4", b"e,5"]]
        writer = self.writer([b"a,1\nb,2\n", b"\n", b"c,3\nd,4\ne,5"])
        ds = PipeModeDataset("train", "TextLine", data_dir=self.dir, timeout=TIMEOUT)
        self.assertEqual([list(ds) for _ in range(3)], epochs)
        writer.finish(self)

    def test_several_epochs_per_iteration(self):
        writer = self.writer([recordio_record(b"%d" % n) for n in range(4)])
        ds = PipeModeDataset("train", epochs=2, data_dir=self.dir, timeout=TIMEOUT)
        self.assertEqual(list(ds), [b"0", b"1"])
        self.assertEqual(list(ds), [b"2", b"3"])
        writer.finish(self)

    def test_epoch_taken_when_iteration_starts(self):
        writer = self.writer([recordio_record(b"zero"), recordio_record(b"one")])
        ds = PipeModeDataset("train", data_dir=self.dir, timeout=TIMEOUT, start_epoch=0)
        unused = iter(ds)  # never started: takes no epoch
        self.assertEqual(ds.next_epoch, 0)
        del unused
        for record in ds:  # a break ends the epoch; the next iteration reads the next one
            self.assertEqual(record, b"zero")
            break
        self.assertEqual(list(ds), [b"one"])
        writer.finish(self)

    def test_early_break_then_next_epoch(self):
        big = b"".join(recordio_record(b"r" * 500) for _ in range(10000))  # 5 MB, more than a pipe
        writer = self.writer([big, recordio_record(b"second")])
        ds = PipeModeDataset("train", data_dir=self.dir, timeout=TIMEOUT)
        for count, _ in enumerate(ds):
            if count == 5:
                break
        self.assertEqual(list(ds), [b"second"])
        writer.finish(self)
        self.assertEqual(writer.broken, [0])

    def test_corrupt_epoch(self):
        writer = self.writer([recordio_record(b"ok") + b"garbage!"])
        ds = PipeModeDataset("train", data_dir=self.dir, timeout=TIMEOUT)
        with self.assertRaisesRegex(RecordError, "byte offset 12: bad magic"):
            list(ds)
        writer.finish(self)

    def test_timeout(self):
        ds = PipeModeDataset("train", data_dir=self.dir, timeout=0.2)
        with self.assertRaisesRegex(TimeoutError, "train_0"):
            list(ds)


if __name__ == "__main__":
    unittest.main()
