"""Engines that advance the model: cadCAD (the reference) and a batched numpy engine. Both call
the same policy functions from `sim.model` and read the same exogenous arrays, so they produce the
same trajectories for the same seeds."""
from sim.engines.common import Trajectory

ENGINES = ("cadcad", "batch")


def run_engine(name: str, params: dict, genesis: dict, paths, progress: bool = False,
               record: tuple[str, ...] | None = None) -> Trajectory:
    """Advance the model over `paths`. `record` limits which variables keep a full time series
    (the batch engine then holds only those; the final state is always complete)."""
    if name == "cadcad":
        from sim.engines.cadcad_engine import run_cadcad
        traj = run_cadcad(params, genesis, paths, progress=progress)
        if record:
            traj.data = {k: traj.data[k] for k in record}
        return traj
    if name == "batch":
        from sim.engines.batch import run_batch
        return run_batch(params, genesis, paths, progress=progress, record=record)
    raise ValueError(f"unknown engine {name!r}; choose one of {ENGINES}")


__all__ = ["ENGINES", "Trajectory", "run_engine"]
