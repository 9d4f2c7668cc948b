"""Read SageMaker Pipe mode channels, as Sluice (or SageMaker) streams them into FIFOs.

A Pipe mode channel ``<channel>`` arrives as FIFOs ``/opt/ml/input/data/<channel>_0``,
``<channel>_1``, ... (one per epoch, one reader each). This package opens them
(:class:`PipeChannel`), splits them into records (:func:`recordio_records`,
:func:`tfrecord_records`, :func:`text_lines`) and puts both together as an iterable dataset
(:class:`PipeModeDataset`; :mod:`sluice_pipe.torch` has a PyTorch ``IterableDataset``).
Standard library only. See README.md.
"""

from .channel import DEFAULT_DATA_DIR, PipeChannel, PipeModeDataset, channel_data_dir
from .crc import IMPLEMENTATION as CRC32C_IMPLEMENTATION
from .crc import crc32c, masked_crc32c
from .records import (
    RECORD_FORMATS,
    RecordError,
    read_records,
    recordio_record,
    recordio_records,
    text_lines,
    tfrecord_record,
    tfrecord_records,
)

__version__ = "0.1.0"

__all__ = [
    "CRC32C_IMPLEMENTATION",
    "DEFAULT_DATA_DIR",
    "PipeChannel",
    "PipeModeDataset",
    "RECORD_FORMATS",
    "RecordError",
    "channel_data_dir",
    "crc32c",
    "masked_crc32c",
    "read_records",
    "recordio_record",
    "recordio_records",
    "text_lines",
    "tfrecord_record",
    "tfrecord_records",
]
