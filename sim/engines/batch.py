"""The batched engine: every state variable is an array over runs; each block's policy is called
once per step for all runs. Same functions, same exogenous arrays as cadCAD."""
from __future__ import annotations

import numpy as np

from sim.engines.common import Trajectory
from sim.model.psubs import enabled_blocks


def run_batch(params: dict, genesis: dict, paths, progress: bool = False, record: tuple[str, ...] | None = None) -> Trajectory:
    R, T = len(paths.runs), paths.steps
    cols = np.arange(R)
    state = {k: np.full(R, float(v)) for k, v in genesis.items()}
    keys = list(record) if record else list(genesis.keys())
    data = {k: np.empty((T + 1, R)) for k in keys}
    for k in keys:
        data[k][0] = state[k]
    blocks = enabled_blocks()
    steps = range(1, T + 1)
    if progress:
        from tqdm import tqdm
        steps = tqdm(steps, desc="simulating", unit="step", leave=False)
    for t in steps:
        x = paths.inputs(t, cols)
        for b in blocks:
            out = b["policy"](params, state, x)
            for k, v in out.items():
                state[k] = np.broadcast_to(np.asarray(v, dtype=float), (R,))
        for k in keys:
            data[k][t] = state[k]
    return Trajectory(runs=paths.runs, step_hours=paths.step_hours, data=data, final=dict(state))
