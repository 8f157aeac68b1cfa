"""The engine's time grid: the scenario's steps, split finer inside its `fine_steps` windows.

Inside a window the model steps at the window's step; results are recorded at the scenario's steps
only (`recorded`), so metrics, reports and trajectories keep one time grid. The market is drawn at the
scenario's step, so a run with a window sees the same market at every recorded hour as one without,
and refined in between: BTC and gold move log-linearly and the pool's depth factor linearly between
two recorded hours (a scripted shock is applied afterwards, at the fine hours, so its shape resolves);
yield, funding and the regime keep the value of the step they fall in; random order flow is split into
random pieces that add up to the recorded step's draw (a Brownian bridge: each piece is a standard
normal, as at any step size).
"""
from __future__ import annotations

import numpy as np

INTERPOLATED_LOG = ("btc_usd", "xau_usd")
INTERPOLATED = ("pool_depth",)
SPLIT = ("flow_noise",)


def engine_hours(sc) -> tuple[np.ndarray, np.ndarray]:
    """The hour each engine step ends at (hour 0 first) and the engine steps that are the scenario's
    steps (`recorded[t]` is the engine step ending at t * step_hours)."""
    dt, steps = sc.step_hours, sc.steps
    coarse = np.arange(steps + 1) * dt
    split = np.ones(steps + 1, dtype=np.int64)  # engine steps per scenario step t, the interval ((t-1) dt, t dt]
    for w in sc.fine_steps:
        first, last = int(round(w.start_hour / dt)) + 1, int(round(w.end_hour / dt))
        split[first:last + 1] = int(round(dt / w.step_hours))
    recorded = np.concatenate([[0], np.cumsum(split[1:])])
    if recorded[-1] == steps:
        return coarse, recorded
    owner = np.repeat(np.arange(1, steps + 1), split[1:])  # the scenario step each engine step belongs to
    piece = np.arange(1, len(owner) + 1) - np.repeat(recorded[:-1], split[1:])  # 1..k within it
    hours = np.concatenate([[0.0], coarse[owner - 1] + dt * piece / split[owner]])
    hours[recorded] = coarse  # exact at the recorded hours
    return hours, recorded


def refine(per_run: dict[str, np.ndarray], hours: np.ndarray, recorded: np.ndarray, run_ids: np.ndarray,
           seed: int) -> dict[str, np.ndarray]:
    """Per-run market arrays drawn at the recorded steps, shape (steps + 1, R), on the engine grid."""
    if len(hours) == len(recorded):
        return per_run
    owner = np.searchsorted(recorded, np.arange(len(hours)))  # engine step -> the recorded step it ends within
    prev = np.maximum(owner - 1, 0)
    start, end = hours[recorded][prev], hours[recorded][owner]
    frac = np.where(end > start, (hours - start) / np.where(end > start, end - start, 1.0), 1.0)[:, None]
    out = {}
    for k, v in per_run.items():
        if k in INTERPOLATED_LOG:
            out[k] = v[prev] ** (1 - frac) * v[owner] ** frac
        elif k in INTERPOLATED:
            out[k] = v[prev] * (1 - frac) + v[owner] * frac
        elif k in SPLIT:
            out[k] = _split_noise(v, owner, recorded, run_ids, seed)
        else:
            out[k] = v[owner]
    return out


def _split_noise(z: np.ndarray, owner: np.ndarray, recorded: np.ndarray, run_ids: np.ndarray, seed: int) -> np.ndarray:
    """Standard normals per engine step whose sum over a recorded step's k pieces is sqrt(k) times its draw
    (so the flow over the step, noise x sqrt(dt), is the recorded step's), from each run's own stream."""
    k = np.diff(recorded)  # pieces per recorded step
    kk = np.concatenate([[1], k])[owner].astype(float)  # of each engine step's recorded step
    out = z[owner] / np.sqrt(kk)[:, None]
    fine = np.flatnonzero(kk > 1)
    if fine.size:
        w = np.stack([np.random.default_rng([seed, int(r), 3]).standard_normal(fine.size) for r in run_ids], axis=1)
        groups = owner[fine]
        sums = np.zeros((len(recorded), w.shape[1]))
        np.add.at(sums, groups, w)
        out[fine] += w - sums[groups] / kk[fine, None]  # the pieces' own deviations, summing to zero
    return out
