"""What both engines return: per-variable arrays of shape (steps + 1, R)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.arrays import transpose
from sim.streaming import BLOCK_STEPS, row_block


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

    def to_frame(self) -> "pd.DataFrame":
        """One row per run x timestep, run-major (already in (run, timestep) order)."""
        import pandas as pd  # lazily: `tripod run` never needs it, and it costs a third of a second to import

        return pd.DataFrame(self.columns())

    def columns(self) -> dict[str, np.ndarray]:
        """The frame's columns as numpy arrays, run-major (each run's steps together)."""
        T1, R = self.steps + 1, len(self.runs)
        cols = {
            "run": np.repeat(self.runs, T1).astype(np.int64),
            "timestep": np.tile(np.arange(T1), R).astype(np.int64),
            "hour": np.tile(np.arange(T1) * self.step_hours, R),
        }
        for k, v in self.data.items():
            if k != "step":
                cols[k] = transpose(v).reshape(-1)
        return cols

    def row_blocks(self, block_steps: int = BLOCK_STEPS):
        """The rows a block of steps at a time, in (timestep, run) order: the layout of
        trajectories.parquet, the same as `sim.streaming.TrajectoryStream` writes during a run.
        No copy: each block's columns are views of the recorded arrays."""
        T1 = self.steps + 1
        for t0 in range(0, T1, block_steps):
            n = min(block_steps, T1 - t0)
            yield row_block(self.runs, t0, n, self.step_hours,
                            {k: v[t0:t0 + n] for k, v in self.data.items() if k != "step"})
