"""Every Parquet read of the project goes through here, single-threaded.

pyarrow 22 can abort a process at interpreter exit ("terminate called without an active exception",
exit 134) after a multithreaded read: Arrow's CPU and I/O thread pools are still being torn down
when the C++ runtime is (apache/arrow#34314, #50482). `tripod replay` met it reading a run's
trajectories. Reads here use neither pool (`use_threads=False`, `pre_buffer=False`, and pandas
conversion on this thread), always by path (pandas' file-object path is the other trigger), so no
Arrow worker thread exists at exit. Our files are read once and are at most a few GB: one thread
costs little. `tests/unit/test_parquet_exit.py` repeats each read in fresh processes.
"""
from __future__ import annotations

import os


def read_table(path: str | os.PathLike, columns: list[str] | None = None):
    import pyarrow.parquet as pq

    return pq.read_table(os.fspath(path), columns=columns, use_threads=False, pre_buffer=False, memory_map=False)


def read_frame(path: str | os.PathLike, columns: list[str] | None = None):
    """A pandas DataFrame of the file (or of `columns`)."""
    return read_table(path, columns).to_pandas(use_threads=False)


def read_metadata(path: str | os.PathLike):
    """The footer (row count, schema, row groups): raises on a truncated or non-Parquet file."""
    import pyarrow.parquet as pq

    return pq.read_metadata(os.fspath(path))
