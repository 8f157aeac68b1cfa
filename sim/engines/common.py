"""What both engines return: per-variable arrays of shape (steps + 1, R)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.arrays import transpose


@dataclass
class Trajectory:
    runs: np.ndarray  # run ids, shape (R,)
    step_hours: float
    data: dict[str, np.ndarray]  # recorded variable -> (steps + 1, R)
    final: dict[str, np.ndarray] | None = None  # every variable after the last step -> (R,)

    def __post_init__(self):
        if self.final is None:
            self.final = {k: v[-1] for k, v in self.data.items()}

    @property
    def steps(self) -> int:
        return next(iter(self.data.values())).shape[0] - 1

    def to_frame(self) -> pd.DataFrame:
        """One row per run x timestep, run-major (already in (run, timestep) order)."""
        return pd.DataFrame(self.columns())

    def columns(self) -> dict[str, np.ndarray]:
        """The frame's columns as numpy arrays (what the Parquet writer takes without a pandas copy)."""
        return next(self.column_chunks(max(1, len(self.runs))))

    def column_chunks(self, runs_per_chunk: int = 32):
        """The frame's columns a block of runs at a time, in run-major order: a streaming writer holds
        one block, not a second copy of every trajectory."""
        T1, n = self.steps + 1, runs_per_chunk
        for r0 in range(0, len(self.runs), n):
            runs = self.runs[r0:r0 + n]
            cols = {
                "run": np.repeat(runs, T1).astype(np.int64),
                "timestep": np.tile(np.arange(T1), len(runs)).astype(np.int64),
                "hour": np.tile(np.arange(T1) * self.step_hours, len(runs)),
            }
            for k, v in self.data.items():
                if k != "step":
                    cols[k] = transpose(v[:, r0:r0 + n]).reshape(-1)
            yield cols
