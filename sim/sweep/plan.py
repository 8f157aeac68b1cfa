"""From a sweep file to concrete points (validated scenarios) and chunks of work."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from sim.config import Scenario, ScenarioError, format_validation_error, load_scenario
from sim.runner import resolve_scenario
from sim.sweep.config import SweepConfig

MAX_POINTS = 100_000
MAX_CHUNKS = 1_000_000


@dataclass(frozen=True)
class Chunk:
    point: int
    run_start: int
    run_stop: int

    @property
    def name(self) -> str:
        return f"point-{self.point:05d}_runs-{self.run_start:07d}-{self.run_stop:07d}"


def base_scenario(cfg: SweepConfig, sweep_file: Path) -> Scenario:
    candidate = (sweep_file.parent / cfg.base)
    path = candidate if candidate.exists() else resolve_scenario(cfg.base)
    try:
        sc = load_scenario(path)
    except ScenarioError as err:  # name the sweep file too: it is the one the user handed us
        raise ScenarioError(err.source, [*err.lines[:-1], f"{err.lines[-1]} (the base of {sweep_file})"]) from None
    try:
        over = {"horizon_hours": cfg.horizon_hours} if cfg.horizon_hours else {}  # scripted paths cut there
        return sc.with_overrides(runs=cfg.runs_per_point, seed=cfg.seed, **over)
    except ValidationError as err:
        raise ScenarioError(f"{sweep_file} (base {cfg.base} with runs_per_point, seed, horizon_hours)",
                            format_validation_error(err)) from None


def point_count(cfg: SweepConfig) -> int:
    """Points of the design, counted without building it."""
    return cfg.points if cfg.design == "lhs" else math.prod(len(p.values) for p in cfg.parameters)


def check_chunk_memory(cfg: SweepConfig, base: Scenario, workers: int | None, metrics: list[str], source: str) -> None:
    """Each worker holds one chunk (run_batch runs, the market and the streamed metrics' state)."""
    from sim.budget import check_memory

    n = workers or 2
    check_memory(source, cfg.run_batch * n, base.steps, len(metrics), engine_steps=base.engine_steps,
                 hint=f"lower run_batch (each of {n} workers holds one chunk of {cfg.run_batch} runs)")


def design_values(cfg: SweepConfig) -> list[dict[str, float]]:
    """Parameter values per point: the grid's product, or a Latin hypercube seeded by the sweep seed."""
    names = [p.path for p in cfg.parameters]
    if cfg.design == "grid":
        return [dict(zip(names, combo)) for combo in itertools.product(*[p.values for p in cfg.parameters])]
    rng = np.random.default_rng([cfg.seed, 7919])
    n = cfg.points
    cols = []
    for p in cfg.parameters:
        u = (rng.permutation(n) + rng.random(n)) / n  # one sample in each of n strata
        cols.append(p.low + u * (p.high - p.low))
    return [dict(zip(names, vals)) for vals in zip(*[c.tolist() for c in cols])]


def _get(d: dict, path: str):
    for k in path.split("."):
        d = d[k]
    return d


def _set(d: dict, path: str, value) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def point_scenario(base: Scenario, cfg: SweepConfig, values: dict[str, float]) -> Scenario:
    d = base.model_dump(mode="python")
    for p in cfg.parameters:
        v = values[p.path]
        try:
            old = _get(d, p.path)
        except (KeyError, TypeError):
            raise ScenarioError("sweep", [f"parameters: {p.path}: not a field of the base scenario"]) from None
        if isinstance(old, int) and not isinstance(old, bool):
            v = int(round(v))
        _set(d, p.path, v)
        if p.balance:
            try:
                _set(d, p.balance, _get(d, p.balance) - (v - old))
            except (KeyError, TypeError):
                raise ScenarioError("sweep", [f"parameters: {p.balance}: not a field of the base scenario"]) from None
    try:
        return Scenario.model_validate(d)
    except ValidationError as err:
        vals = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ScenarioError(f"sweep point ({vals})", format_validation_error(err)) from None


def plan(cfg: SweepConfig, sweep_file: Path) -> tuple[Scenario, list[dict], list[Scenario], list[Chunk]]:
    n = point_count(cfg)
    chunks_per_point = math.ceil(cfg.runs_per_point / cfg.run_batch)
    if n > MAX_POINTS or n * chunks_per_point > MAX_CHUNKS:
        raise ScenarioError(str(sweep_file), [
            f"parameters: the design has {n:,} points x {chunks_per_point:,} chunks each = {n * chunks_per_point:,} "
            f"chunks; at most {MAX_POINTS:,} points and {MAX_CHUNKS:,} chunks (fewer values, or a larger run_batch)"])
    base = base_scenario(cfg, sweep_file)
    values = design_values(cfg)
    try:
        scenarios = [point_scenario(base, cfg, v) for v in values]
    except ScenarioError as err:  # name the sweep file first: a point is a place in it
        where = "" if err.source == "sweep" else f"{err.source.removeprefix('sweep ')}: "
        raise ScenarioError(str(sweep_file), [f"{where}{line}" for line in err.lines]) from None
    chunks = [Chunk(i, a, min(a + cfg.run_batch, cfg.runs_per_point))
              for i in range(len(values)) for a in range(0, cfg.runs_per_point, cfg.run_batch)]
    return base, values, scenarios, chunks
