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

    def loader_epochs(self, **loader_kwargs):
        import torch.utils.data

        epochs, data = epoch_payloads()
        # Starting worker processes (spawn: a fresh interpreter importing torch) can be slow.
        writer = self.writer(data, deadline_s=110)
        ds = self.Dataset("train", data_dir=self.dir, timeout=100)
        loader = torch.utils.data.DataLoader(ds, batch_size=None, timeout=100, **loader_kwargs)
        # Workers are re-created for every epoch from this process's copy of the dataset: the
        # shared counter still moves on; only worker 0 reads, so no record is lost or repeated.
        got = [list(loader) for _ in range(3)]
        self.assertEqual(got, epochs)
        self.assertEqual(ds.next_epoch, 3)
        writer.finish(self)
        self.assertEqual(writer.opened, [0, 1, 2])

    def test_dataloader_two_workers_fork(self):
        self.loader_epochs(num_workers=2, multiprocessing_context="fork")

    def test_dataloader_persistent_workers(self):
        self.loader_epochs(num_workers=3, persistent_workers=True, multiprocessing_context="fork")

    def test_dataloader_spawn(self):
        # The dataset is pickled into the spawned workers: the counter travels as shared memory
        # (the training process's copy sees the epochs the worker took).
        self.loader_epochs(num_workers=2, persistent_workers=True, multiprocessing_context="spawn")


if __name__ == "__main__":
    unittest.main()
