"""Sweep outputs from the finished parts: results.parquet (one row per point x run), summary.csv
(per point: probabilities and quantiles, each with its 95 % interval) and report.html (interactive
risk surfaces, `sim.report.sweep`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.atomic import write_parquet
from sim.intervals import clopper_pearson, mean_ci, quantile_ci
from sim.parquet import read_frame
from sim.sweep.config import PROBABILITY_METRICS, SweepConfig

QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}


def _ci_columns(row: dict, key: str, ci) -> None:
    row[f"{key}_ci95_low"], row[f"{key}_ci95_high"] = (np.nan if v is None else float(v) for v in ci)


def per_point_summary(results: pd.DataFrame, param_cols: list[str], metric_cols: list[str],
                      thresholds: dict[int, float]) -> pd.DataFrame:
    """One row per point: its parameters, runs, every probability (`PROBABILITY_METRICS`) and the mean
    and quantiles of every kept metric; each figure with `<col>_ci95_low` / `<col>_ci95_high`."""
    rows = []
    for point, g in results.groupby("point", sort=True):
        row = {"point": point, **{c: g[c].iloc[0] for c in param_cols}, "runs": len(g)}
        for name, col in PROBABILITY_METRICS.items():
            if col in g:
                hit = g[col] < thresholds[point] if name == "depeg_probability" else g[col] > 0.5
                row[name] = float(hit.mean())
                _ci_columns(row, name, clopper_pearson(int(hit.sum()), len(g)))
        for m in metric_cols:
            v = g[m].to_numpy(float)
            v = v[np.isfinite(v)]
            row[f"{m}_mean"] = float(v.mean()) if v.size else np.nan
            _ci_columns(row, f"{m}_mean", mean_ci(v))
            for name, q in QUANTILES.items():
                row[f"{m}_{name}"] = float(np.quantile(v, q)) if v.size else np.nan
                _ci_columns(row, f"{m}_{name}", quantile_ci(v, q))
        # every probability, whoever added it: an exact interval on its share of the runs
        for k in [k for k in row if k.endswith("_probability") and f"{k}_ci95_low" not in row]:
            _ci_columns(row, k, clopper_pearson(row[k] * len(g), len(g)))
        rows.append(row)
    return pd.DataFrame(rows)


def write_outputs(stage: Path, cfg: SweepConfig, points: list[dict], scenarios, part_files: list[Path]) -> pd.DataFrame:
    """results.parquet, summary.csv and report.html into `stage` (a staging directory), from the parts
    of the planned chunks only."""
    results = pd.concat([read_frame(p) for p in part_files], ignore_index=True)
    results = results.sort_values(["point", "run"], kind="stable").reset_index(drop=True)
    write_parquet(stage / "results.parquet", results)
    param_cols = list(points[0].keys())
    metric_cols = [c for c in results.columns if c not in ("point", "run", *param_cols)]
    summary = per_point_summary(results, param_cols, metric_cols,
                                {i: sc.depeg_threshold for i, sc in enumerate(scenarios)})
    (stage / "summary.csv").write_text(summary.to_csv(index=False))
    from sim.report.sweep import render

    (stage / "report.html").write_text(render(cfg, summary, param_cols, results))
    return summary

