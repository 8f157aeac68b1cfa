"""The Python API: `run(scenario, runs=..., seed=...) -> Result`, what `tripod run` calls."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from pydantic import ValidationError

from sim.budget import check_disk, check_memory
from sim.config import Scenario, ScenarioError, format_validation_error, load_scenario
from sim.engines import ENGINES, run_engine
from sim.metrics import compute_metrics, metric_series
from sim.model import Model
from sim.model.state import genesis_state, trajectory_columns
from sim.results import Result, provenance

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    """A pip-installed package ships scenarios/ and sweeps/ as sim/scenarios, sim/sweeps (setup.py); a checkout
    has them at the top."""
    inside = Path(__file__).with_name(name)
    return inside if inside.is_dir() else PROJECT_ROOT / name


SCENARIO_DIR, SWEEP_DIR = _shipped("scenarios"), _shipped("sweeps")
# where shipped scenarios live, searched in this order for a bare name ('pure-delta-neutral')
SCENARIO_GROUPS = {"": SCENARIO_DIR, "calibrated": SCENARIO_DIR / "calibrated", "events": SCENARIO_DIR / "events"}
SHIPPED_DIRS = (SCENARIO_DIR, SWEEP_DIR, PROJECT_ROOT / "sim")


def _resolve(ref: str | Path, dirs) -> Path:
    p = Path(ref)
    if p.exists() or p.suffix in (".yaml", ".yml"):
        return p
    for d in dirs:
        for cand in (d / f"{ref}.yaml", d / f"{ref}.yml"):
            if cand.exists():
                return cand
    return p


def resolve_scenario(ref: str | Path) -> Path:
    """A path, or the name of a shipped scenario: 'baseline' -> scenarios/baseline.yaml,
    'pure-delta-neutral' or 'calibrated/pure-delta-neutral' -> scenarios/calibrated/..., event names too."""
    return _resolve(ref, [SCENARIO_DIR, *(d for k, d in SCENARIO_GROUPS.items() if k)])


def resolve_sweep(ref: str | Path) -> Path:
    """A path, or the name of a shipped sweep ('reserve-vs-mix' -> sweeps/reserve-vs-mix.yaml)."""
    return _resolve(ref, [SWEEP_DIR])


def is_shipped(path: str | Path) -> bool:
    """An existing file of the project itself (a shipped scenario, sweep or package file)."""
    p = Path(path).resolve()
    return p.exists() and any(p.is_relative_to(d.resolve()) for d in SHIPPED_DIRS)


def _is_scenario_file(f: Path) -> bool:
    """A whole scenario, not a fragment meant for `include:` (e.g. a calibrated market block)."""
    import yaml

    try:
        data = yaml.safe_load(f.read_text())
    except (OSError, yaml.YAMLError):
        return True  # let load_scenario report it
    return isinstance(data, dict) and "name" in data


def shipped_scenarios(groups: bool = False) -> list:
    """(name, Scenario) of every shipped scenario; with groups=True, (group, name, Scenario), where the
    group is '' for scenarios/, 'calibrated' or 'events'."""
    out = []
    for group, d in SCENARIO_GROUPS.items():
        for f in sorted(d.glob("*.yaml")) if d.is_dir() else []:
            if _is_scenario_file(f):
                out.append((group, f.stem, load_scenario(f)))
    return out if groups else [(name, sc) for g, name, sc in out]


def apply_overrides(sc: Scenario, assignments: list[str]) -> Scenario:
    """`key.path=value` overrides (`--set`), one clear error naming the assignment when one is wrong."""
    from sim.calibration.sizing import set_path

    try:
        return set_path(sc, list(assignments))
    except ValidationError as err:
        raise ScenarioError("--set", format_validation_error(err)) from None
    except ValueError as err:
        raise ScenarioError("--set", [str(err).splitlines()[0]]) from None


def simulate_runs(sc: Scenario, run_ids, engine: str = "batch", observer=None,
                  progress: bool = False) -> tuple[dict, "np.ndarray"]:
    """Per-run metrics of the given run ids, streaming (no trajectory is held). The unit of a sweep.

    observer: another engine observer (`update(state, t)`) fed the same steps, e.g. fan quantiles.
    Returns (per-run figures as (R,) arrays, durations of completed depeg episodes in hours).
    """
    import numpy as np

    from sim.metrics import MetricsAccumulator, accumulate_recorded

    m = Model.build(sc, np.asarray(run_ids))
    params, genesis, paths = m.params, m.genesis, m.paths
    if engine == "batch":
        from sim.engines.batch import run_batch

        acc = MetricsAccumulator(sc.step_hours, sc.depeg_threshold, sc.repeg_level, params["venues"])
        both = acc if observer is None else _Observers(acc, observer)
        traj = run_batch(params, genesis, paths, record=(), observer=both, progress=progress)
    else:
        traj = run_engine(engine, params, genesis, paths)
        acc = accumulate_recorded(traj.data, sc.step_hours, sc.depeg_threshold, sc.repeg_level, genesis, params["venues"])
    episodes = np.concatenate(acc.episodes) if acc.episodes else np.array([])
    return acc.per_run(traj.final), episodes


class _Observers:
    """Several engine observers fed the same steps."""

    def __init__(self, *observers):
        self.observers = observers

    def update(self, state: dict, t: int) -> None:
        for o in self.observers:
            o.update(state, t)


def _recorded(genesis: dict, record: str) -> tuple[str, ...]:
    return {"all": tuple(genesis), "trajectory": trajectory_columns(genesis), "metrics": metric_series(genesis)}[record]


def run(scenario: Scenario | str | Path, runs: int | None = None, seed: int | None = None, engine: str = "batch",
        progress: bool = False, record: str = "trajectory", stream_to: str | Path | None = None,
        overrides: list[str] | None = None) -> Result:
    """Simulate `runs` runs of a scenario from `seed` and compute its risk figures.

    record="trajectory" (default) keeps the documented core columns (`trajectory_columns`, what
    `tripod run` writes); "all" every state variable's time series (several GB for a year of 100
    runs: ask for it); "metrics" only the series the metrics need.
    overrides: `key.path=value` strings applied to the scenario (`tripod run --set`), recorded in
    the manifest.

    stream_to: a directory; the batch engine then writes the recorded columns to a Parquet file there
    (under a temporary name) while it runs (`sim.streaming`), keeping in memory only what the metrics
    and report need. `Result.write(out)` moves the finished file into `out`'s staging directory;
    `tripod run` streams straight into that staging directory (`sim.atomic.commit_dir`).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(resolve_scenario(scenario))
    if overrides:
        sc = apply_overrides(sc, overrides)
    counts = {k: v for k, v in (("runs", runs), ("seed", seed)) if v is not None}
    if counts:
        try:
            sc = sc.with_overrides(**counts)
        except ValidationError as err:
            raise ScenarioError("command line", format_validation_error(err)) from None
    if engine not in ENGINES:
        raise ScenarioError("--engine", [f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}"])
    if record not in ("all", "trajectory", "metrics"):
        raise ValueError("record must be one of ['all', 'metrics', 'trajectory']")
    from sim.report import report_series

    streaming = stream_to is not None and engine == "batch"
    # the memory (and disk) the run will take, before any of it is allocated
    g0 = genesis_state(sc)
    shape = _recorded(g0, record)
    keep = tuple(dict.fromkeys(metric_series(g0) + report_series(shape)))
    check_memory(f"scenario {sc.name!r}", sc.runs, sc.steps, len(keep) if streaming else len(shape), engine,
                 engine_steps=sc.engine_steps)
    if streaming:
        check_disk(f"scenario {sc.name!r}", stream_to, sc.runs, sc.steps, len(shape))
    started = time.time()
    m = Model.build(sc)
    params, genesis, paths = m.params, m.genesis, m.paths
    stream = None
    if streaming:
        from sim.engines.batch import run_batch
        from sim.streaming import TrajectoryStream

        stream = TrajectoryStream(Path(stream_to) / "trajectories.parquet", _recorded(genesis, record), paths.runs,
                                  paths.step_hours)
        keep = tuple(dict.fromkeys(metric_series(genesis) + report_series(_recorded(genesis, record))))
        try:
            traj = run_batch(params, genesis, paths, progress=progress, record=keep, observer=stream)
            stream.close()
        except BaseException:
            stream.abort()
            raise
    else:
        traj = run_engine(engine, params, genesis, paths, progress=progress, record=_recorded(genesis, record))
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
        **({"overrides": list(overrides)} if overrides else {}),
        **provenance(),
        "started_utc": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 3),
    }
    return Result(scenario=sc, trajectory=traj, metrics=metrics, manifest=manifest, stream=stream)
