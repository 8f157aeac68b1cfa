"""From a sweep file to concrete points (validated scenarios) and chunks of work."""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from sim.config import Scenario, ScenarioError, format_validation_error, load_scenario
from sim.runner import resolve_scenario
from sim.sweep.config import SweepConfig


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
    sc = load_scenario(path)
    over = {"runs": cfg.runs_per_point, "seed": cfg.seed}
    if cfg.horizon_hours:
        over["horizon_hours"] = cfg.horizon_hours
    return sc.with_overrides(**over)


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
    base = base_scenario(cfg, sweep_file)
    values = design_values(cfg)
    scenarios = [point_scenario(base, cfg, v) for v in values]
    chunks = [Chunk(i, a, min(a + cfg.run_batch, cfg.runs_per_point))
              for i in range(len(values)) for a in range(0, cfg.runs_per_point, cfg.run_batch)]
    return base, values, scenarios, chunks
