"""Designs side by side: `tripod compare A B [C ...]` -> compare.json and compare.html.

Every side is a scenario simulated on the same run ids and seed (common random numbers: run k of A
and run k of B see the same market draws), so a difference between designs is measured run by run
and its interval is much narrower than the two sides' own intervals suggest. A run folder
contributes its scenario, runs and seed (from scenario.json and manifest.json) and is simulated
again, streaming: no trajectory is held, only per-run figures and the fan quantiles at each step;
the folder's metrics.json is checked against the re-simulation.

Paired differences (`sim.intervals`): a probability by Newcombe's paired score interval on the
runs' 0/1 outcomes, a mean or quantile by a paired bootstrap over runs. The first side is the
reference: each other side's difference is `side - first`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.config import Scenario, ScenarioError
from sim.intervals import INTERVAL_METHODS, paired_bootstrap_diff, paired_proportion_diff
from sim.report.fans import FAN_QUANTILES, FAN_SERIES, expand

QUANTILE_NAMES = {"p1": 0.01, "p5": 0.05, "p10": 0.1, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95,
                  "p99": 0.99}


@dataclass
class Side:
    name: str
    source: str  # "scenario" or "run folder"
    scenario: Scenario
    metrics: dict = field(default_factory=dict)
    per_run: dict = field(default_factory=dict)
    fans: dict = field(default_factory=dict)  # column -> (T + 1, len(FAN_QUANTILES))
    reproduced: bool | None = None


class _FanObserver:
    """Engine observer: quantiles over runs of the fan series at every step (nothing else is held)."""

    def __init__(self, steps: int):
        self.steps, self.q = steps, None

    def update(self, state: dict, t: int) -> None:
        if self.q is None:
            self.q = {c: np.empty((self.steps + 1, len(FAN_QUANTILES)), dtype=np.float32)
                      for c, _ in expand(FAN_SERIES, state)}
        for c, q in self.q.items():
            q[t] = np.quantile(state[c], FAN_QUANTILES)


def simulate_side(side: Side, progress: bool = False) -> Side:
    """Per-run figures, metrics with intervals and fan quantiles of a side, in one streaming pass."""
    from sim.metrics import summarize
    from sim.runner import simulate_runs

    sc = side.scenario
    fans = _FanObserver(sc.steps)
    side.per_run, episodes = simulate_runs(sc, np.arange(sc.runs), observer=fans, progress=progress)
    side.metrics = summarize(side.per_run, episodes, sc.steps * sc.step_hours, sc.depeg_threshold, sc.repeg_level)
    side.fans = fans.q
    return side


def load_side(target: str, runs: int | None, seed: int | None, overrides: list[str] | None) -> Side:
    """A run folder (scenario.json + manifest.json) or a scenario (file or shipped name)."""
    from sim.config import load_scenario
    from sim.runner import apply_overrides, resolve_scenario

    p = Path(target)
    if p.is_dir():
        if not (p / "scenario.json").exists():
            raise ScenarioError(target, ["a folder without scenario.json: not a run folder written by `tripod run`"])
        sc = Scenario.model_validate_json((p / "scenario.json").read_text())
        man = json.loads((p / "manifest.json").read_text()) if (p / "manifest.json").exists() else {}
        sc = sc.with_overrides(runs=int(man.get("runs", sc.runs)), seed=int(man.get("seed", sc.seed)))
        side = Side(name=p.name if p.name != sc.name else sc.name, source="run folder", scenario=sc)
        if (p / "metrics.json").exists():
            side.metrics = json.loads((p / "metrics.json").read_text())
        return side
    path = resolve_scenario(target)
    if not path.exists():
        raise ScenarioError(target, ["no such run folder, scenario file or shipped scenario (see `tripod scenarios`)"])
    sc = load_scenario(path)
    if overrides:
        sc = apply_overrides(sc, overrides)
    counts = {k: v for k, v in (("runs", runs), ("seed", seed)) if v is not None}
    return Side(name=sc.name, source="scenario", scenario=sc.with_overrides(**counts) if counts else sc)


def _unique_names(sides: list[Side]) -> None:
    seen: dict[str, int] = {}
    for s in sides:
        n = seen.get(s.name, 0)
        seen[s.name] = n + 1
        if n:
            s.name = f"{s.name} ({n + 1})"


def _indicator(key: str, side: Side):
    """The per-run 0/1 outcome behind a probability: the known ones by name, any other by finding the one
    binary per-run figure whose share equals it."""
    from sim.sweep.config import PROBABILITY_METRICS

    r = side.per_run
    col = PROBABILITY_METRICS.get(key)
    if col == "min_peg_price":
        return r[col] < side.scenario.depeg_threshold
    if col in r:
        return r[col] > 0.5
    p = side.metrics.get(key)
    if not isinstance(p, (int, float)):
        return None
    hits = [k for k, v in r.items() if np.isin(v, (0.0, 1.0)).all() and abs(v.mean() - p) < 1e-12]
    return r[hits[0]] > 0.5 if len(hits) == 1 else None


def paired_differences(ref: Side, other: Side) -> dict:
    """other - ref for every probability, mean and quantile with per-run values on both sides."""
    out = {}
    for key, v in ref.metrics.items():
        if key.endswith("_ci95") or key not in other.metrics:
            continue
        if key.endswith("_probability") and isinstance(v, (int, float)):
            a, b = _indicator(key, other), _indicator(key, ref)
            if a is not None and b is not None:
                out[key] = paired_proportion_diff(a, b)
        elif isinstance(v, dict) and key in ref.per_run and key in other.per_run:
            for stat in v:
                fn = _stat_fn(stat)
                if fn is not None:
                    out[f"{key}.{stat}"] = paired_bootstrap_diff(other.per_run[key], ref.per_run[key], fn)
    return out


def _stat_fn(stat: str):
    if stat == "mean":
        return lambda x, axis=None: np.mean(x, axis=axis)
    if stat in QUANTILE_NAMES:
        q = QUANTILE_NAMES[stat]
        return lambda x, axis=None: np.quantile(x, q, axis=axis)
    return None


def compare(targets: list[str], runs: int | None = None, seed: int | None = None, overrides: list[str] | None = None,
            progress: bool = False) -> dict:
    """Simulate every side on common seeds and return the comparison (what compare.json holds), with the
    sides attached under "_sides" for the report."""
    if len(targets) < 2:
        raise ScenarioError("compare", ["give at least two run folders or scenarios"])
    started = time.time()
    sides = [load_side(t, runs, seed, overrides) for t in targets]
    # scenarios named without --runs/--seed take the first side's, so every side shares run ids and seed
    first = sides[0].scenario
    for s in sides[1:]:
        if s.source == "scenario":
            s.scenario = s.scenario.with_overrides(runs=runs or first.runs, seed=first.seed if seed is None else seed)
    _unique_names(sides)
    from sim.progress import bar

    for s in bar(sides, desc="comparing", unit="design", enabled=progress):
        recorded = s.metrics
        simulate_side(s, progress=progress)
        if s.source == "run folder" and recorded:
            keys = [k for k in recorded if k.endswith("_probability")]
            s.reproduced = all(abs(recorded[k] - s.metrics.get(k, np.nan)) < 1e-12 for k in keys)
    paired = len({(s.scenario.seed, s.scenario.runs) for s in sides}) == 1
    diffs = []
    for s in sides[1:]:
        if paired:
            diffs.append({"first": sides[0].name, "second": s.name, "of": f"{s.name} - {sides[0].name}",
                          "paired_differences": paired_differences(sides[0], s)})
    from sim.results import provenance

    return {
        "compare": [s.name for s in sides],
        "paired": paired,
        "note": ("Every side ran the same run ids on the same seed: differences are paired run by run"
                 if paired else "The sides differ in seed or runs: no paired differences (compare their intervals)"),
        "sides": [{"name": s.name, "source": s.source, "scenario": s.scenario.name, "config_hash": s.scenario.config_hash(),
                   "seed": s.scenario.seed, "runs": s.scenario.runs, "horizon_hours": s.scenario.horizon_hours,
                   "reproduced_run_folder": s.reproduced, "metrics": s.metrics} for s in sides],
        "differences": diffs,
        "intervals": {**INTERVAL_METHODS, "paired_probability": "Newcombe hybrid score (paired, method 10)",
                      "paired_mean_or_quantile": "paired bootstrap over runs (2000 resamples, percentile)"},
        **provenance(),
        "wall_seconds": round(time.time() - started, 3),
        "_sides": sides,
    }


MARKERS = ("compare.json",)  # what shows an existing directory is a compare result


def write(result: dict, out: Path) -> Path:
    """compare.html and compare.json, committed as one directory (`sim.atomic`: locked, never mixed)."""
    from sim.atomic import commit_dir
    from sim.report.compare import render
    from sim.results import dump_json

    out = Path(out)
    body = {k: v for k, v in result.items() if not k.startswith("_")}
    with commit_dir(out, markers=MARKERS) as stage:
        (stage / "compare.html").write_text(render(result))
        (stage / "compare.json").write_text(dump_json(body))
    return out


def compare_cli(args) -> int:
    from sim.cli import _progress_wanted
    from sim.progress import stage

    res = compare(args.targets, runs=args.runs, seed=args.seed, overrides=args.set, progress=_progress_wanted())
    names = [Path(n).name for n in res["compare"]]
    out = Path(args.out) if args.out else Path("out") / ("compare-" + "-vs-".join(names))[:120]
    with stage(f"writing {out}/", _progress_wanted()):
        write(res, out)
    print(f"compared {', '.join(res['compare'])}: {res['sides'][0]['runs']} runs, seed {res['sides'][0]['seed']}, "
          f"{'paired' if res['paired'] else 'not paired'}, {res['wall_seconds']:.1f} s")
    for s in res["sides"]:
        m = s["metrics"]
        lo, hi = m.get("depeg_probability_ci95", [np.nan, np.nan])
        note = "" if s["reproduced_run_folder"] in (None, True) else "  (re-simulation differs from the folder's metrics.json)"
        print(f"  {s['name']:24s} depeg {m['depeg_probability']:.3f} [{lo:.3f}, {hi:.3f}]  insolvency "
              f"{m['insolvency_probability']:.3f}  reserve depletion {m['reserve_depletion_probability']:.3f}{note}")
    for d in res["differences"]:
        x = d["paired_differences"].get("depeg_probability")
        if x:
            print(f"  {d['of']}: depeg probability {x['diff']:+.3f} [{x['ci95'][0]:+.3f}, {x['ci95'][1]:+.3f}] (paired)")
    print(f"  wrote {out}/ (compare.html, compare.json)")
    return 0
