import importlib.util
import os
import subprocess
import sys
import unittest
from unittest import mock

from sluice_pipe import recordio_record

from .test_channel import TIMEOUT, TempDirTest

HAVE_TORCH = importlib.util.find_spec("torch") is not None
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WithoutTorchTest(unittest.TestCase):
    def test_import_error_names_torch(self):
        import sluice_pipe.torch as adapter

        with mock.patch.dict(sys.modules, {"torch": None, "torch.utils": None,
                                           "torch.utils.data": None}):
            with self.assertRaises(ImportError) as caught:
                adapter._make_class()
        self.assertIn("torch", str(caught.exception))
        self.assertIn("PipeModeDataset", str(caught.exception))

    def test_sluice_pipe_does_not_import_torch(self):
        code = "import sys, sluice_pipe, sluice_pipe.torch; print('torch' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], cwd=PYTHON_DIR, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "False")


def epoch_payloads(count=3, records=40):
    epochs = [[b"e%d-r%d" % (e, r) for r in range(records + e)] for e in range(count)]
    return epochs, [b"".join(recordio_record(r) for r in rs) for rs in epochs]


@unittest.skipUnless(HAVE_TORCH, "torch is not installed")
class TorchTest(TempDirTest):
    def setUp(self):
        super().setUp()
        from sluice_pipe.torch import PipeIterableDataset
        self.Dataset = PipeIterableDataset

    def test_is_iterable_dataset(self):
        import torch.utils.data

        ds = self.Dataset("train", data_dir=self.dir)
        self.assertIsInstance(ds, torch.utils.data.IterableDataset)
        self.assertEqual(ds.next_epoch, 0)

    def test_epochs_in_process(self):
        epochs, data = epoch_payloads()
        writer = self.writer(data)
        ds = self.Dataset("train", data_dir=self.dir, timeout=TIMEOUT, transform=bytes.upper)
        self.assertEqual([list(ds) for _ in range(3)], [[r.upper() for r in rs] for rs in epochs])
        writer.finish(self)

    def loader_epochs(self, ordered=False, spread=True, **loader_kwargs):
        import torch.utils.data

        epochs, data = epoch_payloads()
        # Starting worker processes (spawn: a fresh interpreter importing torch) can be slow.
        writer = self.writer(data, deadline_s=110)
        ds = self.Dataset("train", data_dir=self.dir, timeout=100, spread=spread)
        loader = torch.utils.data.DataLoader(ds, batch_size=None, timeout=100, **loader_kwargs)
        # Workers are re-created for every epoch from this process's copy of the dataset: the
        # shared counter still moves on; worker 0 alone reads the FIFO, and hands records to the
        # others, so none is lost or repeated (the order is the workers' turns).
        got = [list(loader) for _ in range(3)]
        if ordered:
            self.assertEqual(got, epochs)
        else:
            self.assertEqual([sorted(rs) for rs in got], [sorted(rs) for rs in epochs])
        self.assertEqual(ds.next_epoch, 3)
        writer.finish(self)
        self.assertEqual(writer.opened, [0, 1, 2])

    def test_dataloader_two_workers_fork(self):
        self.loader_epochs(num_workers=2, multiprocessing_context="fork")

    def test_dataloader_without_spread_keeps_the_fifo_order(self):
        self.loader_epochs(ordered=True, spread=False, num_workers=2, multiprocessing_context="fork")

    def test_dataloader_persistent_workers(self):
        self.loader_epochs(num_workers=3, persistent_workers=True, multiprocessing_context="fork")

    def test_dataloader_spawn(self):
        # The dataset is pickled into the spawned workers: the counter travels as shared memory
        # (the training process's copy sees the epochs the worker took).
        self.loader_epochs(num_workers=2, persistent_workers=True, multiprocessing_context="spawn")

    def test_every_worker_transforms(self):
        import torch.utils.data
        from sluice_pipe import spread

        records = [b"r%04d" % i for i in range(400)]
        writer = self.writer([b"".join(recordio_record(r) for r in records)], deadline_s=110)
        ds = self.Dataset("train", data_dir=self.dir, timeout=100, transform=_tag_with_pid)
        loader = torch.utils.data.DataLoader(ds, batch_size=None, timeout=100, num_workers=3,
                                             multiprocessing_context="fork")
        # fork: the workers see this grace, so all three are connected before the first record
        with mock.patch.object(spread, "FOLLOWER_GRACE", 60.0):
            got = list(loader)
        writer.finish(self)
        self.assertEqual(sorted(r for _, r in got), records)
        pids = {}
        for pid, _ in got:
            pids[pid] = pids.get(pid, 0) + 1
        self.assertEqual(len(pids), 3, pids)
        self.assertNotIn(os.getpid(), pids)
        self.assertTrue(all(n >= 50 for n in pids.values()), pids)   # taken in turns

    def test_a_bad_record_fails_the_epoch_in_every_worker(self):
        import torch.utils.data

        good = b"".join(recordio_record(b"x" * 100) for _ in range(50))
        writer = self.writer([good + b"\xde\xad\xbe\xef" + bytes(8)], deadline_s=110)
        ds = self.Dataset("train", data_dir=self.dir, timeout=100)
        loader = torch.utils.data.DataLoader(ds, batch_size=None, timeout=100, num_workers=2,
                                             multiprocessing_context="fork")
        with self.assertRaisesRegex(Exception, "bad magic"):
            list(loader)
        writer.finish(self)


def _tag_with_pid(record):
    return os.getpid(), record


if __name__ == "__main__":
    unittest.main()
