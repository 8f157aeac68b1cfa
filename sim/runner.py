"""The Python API: `run(scenario, runs=..., seed=...) -> Result`, what `tripod run` calls."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from pydantic import ValidationError

from sim.config import Scenario, ScenarioError, format_validation_error, load_scenario
from sim.engines import ENGINES, run_engine
from sim.metrics import compute_metrics, metric_series
from sim.model import Model
from sim.model.state import trajectory_columns
from sim.results import Result, command_line, git_commit, package_versions

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = PROJECT_ROOT / "scenarios"


def resolve_scenario(ref: str | Path) -> Path:
    """A path, or the name of a shipped scenario ('baseline' -> scenarios/baseline.yaml)."""
    p = Path(ref)
    if p.exists() or p.suffix in (".yaml", ".yml"):
        return p
    shipped = SCENARIO_DIR / f"{ref}.yaml"
    return shipped if shipped.exists() else p


def shipped_scenarios() -> list[tuple[str, Scenario]]:
    return [(f.stem, load_scenario(f)) for f in sorted(SCENARIO_DIR.glob("*.yaml"))]


def simulate_runs(sc: Scenario, run_ids, engine: str = "batch") -> tuple[dict, "np.ndarray"]:
    """Per-run metrics of the given run ids, streaming (no trajectory is held). The unit of a sweep.

    Returns (per-run figures as (R,) arrays, durations of completed depeg episodes in hours).
    """
    import numpy as np

    from sim.metrics import MetricsAccumulator, accumulate_recorded

    m = Model.build(sc, np.asarray(run_ids))
    params, genesis, paths = m.params, m.genesis, m.paths
    if engine == "batch":
        from sim.engines.batch import run_batch

        acc = MetricsAccumulator(sc.step_hours, sc.depeg_threshold, sc.repeg_level, params["venues"])
        traj = run_batch(params, genesis, paths, record=(), observer=acc)
    else:
        traj = run_engine(engine, params, genesis, paths)
        acc = accumulate_recorded(traj.data, sc.step_hours, sc.depeg_threshold, sc.repeg_level, genesis, params["venues"])
    episodes = np.concatenate(acc.episodes) if acc.episodes else np.array([])
    return acc.per_run(traj.final), episodes


def run(scenario: Scenario | str | Path, runs: int | None = None, seed: int | None = None, engine: str = "batch",
        progress: bool = False, record: str = "all", stream_to: str | Path | None = None) -> Result:
    """Simulate `runs` runs of a scenario from `seed` and compute its risk figures.

    record="all" keeps every state variable's time series; "trajectory" the documented core columns
    (`trajectory_columns`, what `tripod run` writes); "metrics" only the series the metrics need.

    stream_to: a directory; the batch engine then writes the recorded columns to a Parquet file there
    while it runs (`sim.streaming`), keeping in memory only what the metrics and report need.
    `Result.write` into that directory just renames the finished file.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(resolve_scenario(scenario))
    overrides = {k: v for k, v in (("runs", runs), ("seed", seed)) if v is not None}
    if overrides:
        try:
            sc = sc.with_overrides(**overrides)
        except ValidationError as err:
            raise ScenarioError("command line", format_validation_error(err)) from None
    if engine not in ENGINES:
        raise ScenarioError("--engine", [f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}"])
    started = time.time()
    m = Model.build(sc)
    params, genesis, paths = m.params, m.genesis, m.paths
    recorded = {"all": tuple(genesis), "trajectory": trajectory_columns(genesis), "metrics": metric_series(genesis)}
    if record not in recorded:
        raise ValueError(f"record must be one of {sorted(recorded)}")
    stream = None
    if stream_to is not None and engine == "batch":
        from sim.engines.batch import run_batch
        from sim.report import REPORT_SERIES
        from sim.streaming import TrajectoryStream

        stream = TrajectoryStream(Path(stream_to) / "trajectories.parquet", recorded[record], paths.runs,
                                  paths.step_hours)
        keep = tuple(dict.fromkeys(metric_series(genesis) + REPORT_SERIES))
        try:
            traj = run_batch(params, genesis, paths, progress=progress, record=keep, observer=stream)
            stream.close()
        except BaseException:
            stream.abort()
            raise
    else:
        traj = run_engine(engine, params, genesis, paths, progress=progress, record=recorded[record])
    metrics = compute_metrics(traj.data, sc.step_hours, sc.depeg_threshold, sc.repeg_level, final=traj.final,
                              genesis=genesis, venues=params["venues"])
    manifest = {
        "scenario": sc.name,
        "seed": sc.seed,
        "runs": sc.runs,
        "steps": sc.steps,
        "step_hours": sc.step_hours,
        "engine": engine,
        "config_hash": sc.config_hash(),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "command": command_line(),
        "started_utc": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 3),
    }
    return Result(scenario=sc, trajectory=traj, metrics=metrics, manifest=manifest, stream=stream)
