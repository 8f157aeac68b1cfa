"""Trajectories written to Parquet while the batch engine runs, instead of after it.

A year of hourly steps for a few hundred runs is over a gigabyte of float64: holding all of it, then
transposing and encoding it, cost as much as simulating it. `TrajectoryStream` is an engine observer:
it copies each step's columns into a block buffer and, every `block_steps` steps, hands the block to
a background thread that encodes it as one row group (Arrow's encoder releases the GIL, so this runs
on the second core while the engine goes on). Two buffers alternate; the engine waits only if the
encoder falls a whole block behind.

Rows are in (timestep, run) order, the order the engine produces them (`Trajectory.row_blocks` writes
in-memory trajectories the same way). The file is written under a temporary name next to its target
and only renamed by `commit()`; `abort()` removes it. `tripod run` streams into the staging directory
of its output (`sim.atomic.commit_dir`), so the output directory changes only when the whole run is
committed, and a killed run's partial file goes with its staging directory.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sim.atomic import create_temp_file

BLOCK_STEPS = 256


def row_block(runs: np.ndarray, t0: int, n: int, step_hours: float, columns: dict[str, np.ndarray]) -> dict:
    """Steps t0 .. t0 + n - 1 of every run as flat columns: `columns[k]` has shape (n, R)."""
    R = len(runs)
    steps = np.arange(t0, t0 + n)
    block = {
        "run": np.tile(np.asarray(runs, dtype=np.int64), n),
        "timestep": np.repeat(steps.astype(np.int64), R),
        "hour": np.repeat(steps * step_hours, R),
    }
    block.update({k: v.reshape(-1) for k, v in columns.items()})
    return block


class TrajectoryStream:
    """Engine observer (`update(state, t)`) writing `columns` of every step to `path` (see module doc)."""

    def __init__(self, path: str | os.PathLike, columns, runs: np.ndarray, step_hours: float,
                 block_steps: int = BLOCK_STEPS):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = create_temp_file(self.path.parent, self.path.name)  # mode 0666 & ~umask
        os.close(fd)
        self.columns = [k for k in columns if k != "step"]
        self.runs, self.step_hours, self.block_steps = np.asarray(runs), step_hours, block_steps
        R = len(self.runs)
        self._buffers = [{k: np.empty((block_steps, R)) for k in self.columns} for _ in range(2)]
        self._cur, self._row, self._t0 = 0, 0, 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._pending = None
        self._writer = None

    def update(self, state: dict, t: int) -> None:
        buf, i = self._buffers[self._cur], self._row
        for k in self.columns:
            buf[k][i] = state[k]
        self._row += 1
        if self._row == self.block_steps:
            self._flush()

    def _flush(self) -> None:
        if self._row == 0:
            return
        if self._pending is not None:
            self._pending.result()  # the other buffer is free again (and a writer error surfaces here)
        self._pending = self._pool.submit(self._write, self._cur, self._t0, self._row)
        self._t0 += self._row
        self._row = 0
        self._cur ^= 1

    def _write(self, which: int, t0: int, n: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = self._buffers[which]
        table = pa.table(row_block(self.runs, t0, n, self.step_hours, {k: buf[k][:n] for k in self.columns}))
        if self._writer is None:
            # float columns: dictionaries only cost time
            self._writer = pq.ParquetWriter(self.tmp, table.schema, use_dictionary=False)
        self._writer.write_table(table)

    def close(self) -> Path:
        """Write what is buffered and finish the file (still under its temporary name)."""
        try:
            self._flush()
            if self._pending is not None:
                self._pending.result()
        finally:
            self._pool.shutdown(wait=True)
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self._buffers = []
        return self.tmp

    def commit(self, path: str | os.PathLike | None = None) -> Path:
        """Rename the finished file to `path` (default: the path given at start); atomic on one filesystem."""
        target = Path(path) if path is not None else self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.parent.resolve() == self.tmp.parent.resolve():
            os.replace(self.tmp, target)
        else:  # another filesystem: copy next to the target first, then rename there
            import shutil

            fd, tmp = create_temp_file(target.parent, target.name)
            os.close(fd)
            shutil.copyfile(self.tmp, tmp)
            os.replace(tmp, target)
            self.tmp.unlink(missing_ok=True)
        self.path = target
        return target

    def abort(self) -> None:
        """Stop and remove the partial file."""
        try:
            self.close()
        except BaseException:  # noqa: BLE001 - the run already failed; its error is the one to report
            pass
        self.tmp.unlink(missing_ok=True)
