"""What both engines return: per-variable arrays of shape (steps + 1, R)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
        T1, R = self.steps + 1, len(self.runs)
        cols = {
            "run": np.repeat(self.runs, T1).astype(np.int64),
            "timestep": np.tile(np.arange(T1), R).astype(np.int64),
            "hour": np.tile(np.arange(T1) * self.step_hours, R),
        }
        for k, v in self.data.items():
            if k != "step":
                cols[k] = _transpose(v).reshape(-1)
        return cols


def _transpose(v: np.ndarray, block: int = 256) -> np.ndarray:
    """(T + 1, R) -> contiguous (R, T + 1), a block of steps at a time (cache-friendly: ~2.5x faster
    than one strided copy for a year of hourly steps)."""
    out = np.empty((v.shape[1], v.shape[0]))
    for i in range(0, v.shape[0], block):
        out[:, i:i + block] = v[i:i + block].T
    return out
