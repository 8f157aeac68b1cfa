"""The batched engine: every state variable is an array over runs; each block's policy is called
once per step for all runs. Same functions, same exogenous arrays as cadCAD."""
from __future__ import annotations

import numpy as np

from sim.engines.common import Trajectory
from sim.model.psubs import check_writes, enabled_blocks


def run_batch(params: dict, genesis: dict, paths, progress: bool = False, record: tuple[str, ...] | None = None,
              observer=None, tape=None) -> Trajectory:
    """Advance all runs of `paths` together.

    record: variables whose full (T + 1, R) series is kept (None = all, () = none, for streaming).
    observer: an object with `update(state, t)`, called after genesis and after every step (e.g. a
    MetricsAccumulator), so figures can be computed without holding the trajectory.
    tape: a `sim.model.tape.Tape` the model records its trades on (carried in the step inputs).
    """
    R, T = len(paths.runs), paths.steps
    # results are kept at the scenario's steps: inside a fine-step window several engine steps make one
    row_of = paths.record_row
    cols = slice(None)  # every run: basic slicing gives views, no copies
    # a genesis value is one number for every run, or one per run (e.g. one historical window per column)
    state = {k: np.array(np.broadcast_to(np.asarray(v, dtype=float), (R,))) for k, v in genesis.items()}
    keys = list(genesis.keys()) if record is None else list(record)
    data = {k: np.empty((len(paths.recorded), R)) for k in keys}
    for k in keys:
        data[k][0] = state[k]
    if observer is not None:
        observer.update(state, 0)
    blocks = enabled_blocks()
    policies = [b["policy"] for b in blocks]
    steps = range(1, T + 1)
    if progress:
        from tqdm import tqdm
        steps = tqdm(steps, desc="simulating", unit="step", leave=False)
    for t in steps:
        x = paths.inputs(t, cols)
        if tape is not None:
            x["tape"], tape.step = tape, t
        for i, policy in enumerate(policies):
            signal = policy(params, state, x)
            if t == 1:  # once: each policy writes exactly the variables its block owns
                check_writes(blocks[i], params, signal)
            for k, v in signal.items():
                if type(v) is not np.ndarray or v.shape != (R,) or v.dtype != np.float64:
                    v = np.broadcast_to(np.asarray(v, dtype=float), (R,))
                state[k] = v
        row = row_of[t]
        if row < 0:
            continue
        for k in keys:
            data[k][row] = state[k]
        if observer is not None:
            observer.update(state, row)
    return Trajectory(runs=paths.runs, step_hours=paths.step_hours, data=data, final=dict(state))
