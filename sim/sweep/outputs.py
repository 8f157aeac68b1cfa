"""Sweep outputs from the finished parts: results.parquet (one row per point x run), summary.csv
(per point quantiles and probabilities) and report.html with risk surfaces."""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.atomic import write_parquet
from sim.parquet import read_frame
from sim.sweep.config import SweepConfig

QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}


def per_point_summary(results: pd.DataFrame, param_cols: list[str], metric_cols: list[str],
                      thresholds: dict[int, float]) -> pd.DataFrame:
    rows = []
    for point, g in results.groupby("point", sort=True):
        row = {"point": point, **{c: g[c].iloc[0] for c in param_cols}, "runs": len(g)}
        row["depeg_probability"] = float((g["min_peg_price"] < thresholds[point]).mean())
        row["insolvency_probability"] = float(g["insolvent"].mean())
        row["reserve_depletion_probability"] = float(g["reserve_depleted"].mean())
        if "hedge_liquidated" in g:
            row["hedge_liquidation_probability"] = float(g["hedge_liquidated"].mean())
        for m in metric_cols:
            v = g[m].to_numpy(float)
            v = v[np.isfinite(v)]
            row[f"{m}_mean"] = float(v.mean()) if v.size else np.nan
            for name, q in QUANTILES.items():
                row[f"{m}_{name}"] = float(np.quantile(v, q)) if v.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _png(fig) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def risk_surface(summary: pd.DataFrame, x: str, y: str, metric: str, target: float | None) -> str:
    """Heatmap of `metric` over two swept parameters (mean over any others), with the target contour."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    grid = summary.groupby([y, x])[metric].mean().unstack(x)
    if grid.shape[0] >= 2 and grid.shape[1] >= 2 and not grid.isna().any().any():
        X, Y = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy(float))
        mesh = ax.pcolormesh(X, Y, grid.to_numpy(float), shading="nearest", cmap="RdYlGn_r")
        if target is not None and grid.to_numpy().min() < target < grid.to_numpy().max():
            cs = ax.contour(X, Y, grid.to_numpy(float), levels=[target], colors="k", linewidths=1.5)
            ax.clabel(cs, fmt={target: f"target {target:g}"}, fontsize=8)
    else:  # scattered points (latin hypercube)
        mesh = ax.scatter(summary[x], summary[y], c=summary[metric], cmap="RdYlGn_r", s=60)
        if target is not None and len(summary) >= 3 and summary[metric].min() < target < summary[metric].max():
            ax.tricontour(summary[x], summary[y], summary[metric], levels=[target], colors="k")
    fig.colorbar(mesh, ax=ax, label=metric)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{metric} over {x} x {y}")
    return _png(fig)


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
    (stage / "report.html").write_text(render(cfg, summary, param_cols))
    return summary


def render(cfg: SweepConfig, summary: pd.DataFrame, param_cols: list[str]) -> str:
    target_col = cfg.target.metric if cfg.target.metric in summary else f"{cfg.target.metric}_mean"
    figs = []
    if len(param_cols) >= 2:
        x, y = param_cols[0], param_cols[1]
        for metric in dict.fromkeys([target_col, "depeg_probability", "insolvency_probability",
                                     "reserve_depletion_probability"]):
            tgt = cfg.target.max if metric == target_col else None
            figs.append((metric, risk_surface(summary, x, y, metric, tgt)))
    elif param_cols:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6.4, 3.4))
        s = summary.sort_values(param_cols[0])
        ax.plot(s[param_cols[0]], s[target_col], marker="o")
        ax.axhline(cfg.target.max, color="k", ls="--", lw=0.8)
        ax.set_xlabel(param_cols[0])
        ax.set_ylabel(target_col)
        figs.append((target_col, _png(fig)))
    imgs = "".join(f"<h3>{html.escape(t)}</h3><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'/>"
                   for t, b in figs)
    table = summary.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Tripod sweep — {html.escape(cfg.name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;font-size:11px}}
td,th{{border:1px solid #ccc;padding:2px 4px}}img{{max-width:100%}}</style></head><body>
<h1>Sweep: {html.escape(cfg.name)}</h1><p>{html.escape(cfg.description)}</p>
<p>{len(summary)} points x {cfg.runs_per_point} runs; target: {html.escape(cfg.target.metric)} &le; {cfg.target.max:g}.</p>
<h2>Risk surfaces</h2>{imgs}<h2>Per point</h2>{table}
<h2>Sweep file</h2><pre>{html.escape(json.dumps(cfg.model_dump(mode="json"), indent=1))}</pre></body></html>"""
