"""The leverage-cycle experiment: calm reflexive growth, then a volatility shock, over a grid of
looper leverage limits x backstop designs. It tests a story — HYB falls first, then the treasury
companies, then institutions leave, then retail takes the loss — and reports what the model finds.

Per run it times six events; per grid point it attributes losses by class and measures the peg;
across leverage it finds the critical max LTV where depeg probability jumps.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

from sim.config import Scenario
from sim.metrics import LOSS_CLASSES
from sim.atomic import commit_dir
from sim.results import dump_json, provenance

DEFAULT_LTVS = (0.0, 0.5, 0.7, 0.8, 0.9)
# Backstop designs: how the loss is absorbed once the shock hits.
DESIGNS = {
    "reserve-only": {"reserve": {"initial_usd": 25e6}, "backstop": {"enabled": False}},
    "backstop": {"reserve": {"initial_usd": 0.0}, "backstop": {"enabled": True, "max_sale_usd_per_day": 10e6}},
    "big-backstop": {"reserve": {"initial_usd": 0.0}, "backstop": {"enabled": True, "max_sale_usd_per_day": 50e6}},
}
EVENTS = ("hyb_drawdown_50", "dat_below_nav", "dat_forced_sale", "institutional_exit_25", "retail_loss_peak",
          "peg_below_099")
STORY = ("hyb_drawdown_50", "dat_below_nav", "institutional_exit_25", "retail_loss_peak")
RETAIL_LOSS_WINDOW_HOURS = 168.0


def point_scenario(base: Scenario, max_ltv: float, design: str) -> Scenario:
    d = base.model_dump(mode="python")
    d["agents"]["loopers"].update(max_ltv=max_ltv, initial_ltv=min(d["agents"]["loopers"]["initial_ltv"], max_ltv),
                                  liquidation_ltv=min(0.99, max_ltv + 0.06))
    for block, values in DESIGNS[design].items():
        d["protocol"][block].update(values)
    return Scenario.model_validate(d)


def _first(mask: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Hour of the first True per run (columns), NaN when never."""
    hit = mask.any(axis=0)
    return np.where(hit, hours[np.argmax(mask, axis=0)], np.nan)


def event_times(d: dict, step_hours: float, threshold: float = 0.99) -> dict[str, np.ndarray]:
    hours = np.arange(d["peg_price"].shape[0]) * step_hours
    n_dats = sum(1 for k in d if k.startswith("dat") and k.endswith("_mnav"))
    mnav = np.stack([d[f"dat{i}_mnav"] for i in range(n_dats)]) if n_dats else np.ones((1, *d["peg_price"].shape))
    forced = np.stack([d[f"dat{i}_forced_usd"] for i in range(n_dats)]) if n_dats else np.zeros((1, *d["peg_price"].shape))
    # retail's loss rate: what they realised over the trailing week plus the paper loss on what they
    # hold (cumulative realised loss alone always peaks at the end: everyday trading costs add up)
    lag = max(1, int(round(RETAIL_LOSS_WINDOW_HOURS / step_hours)))
    realised = d["loss_retail"]
    weekly = realised - np.concatenate([np.repeat(realised[:1], lag, axis=0), realised[:-lag]])[: len(realised)]
    loss = weekly + d["retail_husd"] * np.maximum(0.0, 1.0 - d["peg_price"])
    peak = np.where(loss.max(axis=0) > 0, hours[np.argmax(loss, axis=0)], np.nan)
    return {
        "hyb_drawdown_50": _first(d["hyb_price"] <= 0.5 * d["hyb_price"][0], hours),
        "dat_below_nav": _first((mnav < 1).any(axis=0), hours),
        "dat_forced_sale": _first((forced > 0).any(axis=0), hours),
        "institutional_exit_25": _first(d["inst_exited_husd"] >= 0.25 * d["inst_husd"][0], hours),
        "retail_loss_peak": peak,
        "peg_below_099": _first(d["peg_price"] < threshold, hours),
    }


def story_holds(times: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(all four story events happened in the story's order, the events that happened are in order)."""
    t = np.stack([times[e] for e in STORY])  # (4, R)
    happened = np.isfinite(t)
    full = happened.all(axis=0) & (np.diff(t, axis=0) >= 0).all(axis=0)
    consistent = np.ones(t.shape[1], dtype=bool)
    for a in range(len(STORY)):
        for b in range(a + 1, len(STORY)):
            both = happened[a] & happened[b]
            consistent &= ~both | (t[a] <= t[b])
    return full, consistent & (happened.sum(axis=0) >= 2)


def loss_shares(m: dict) -> dict[str, float]:
    """Shares of the stablecoin's own losses (reserve, HYB, stakers, institutions, retail, loopers).
    Treasury companies' equity losses are reported apart: a $5B company's stock falling with BTC would
    otherwise drown every other share."""
    losses = {k: max(v, 0.0) for k, v in m["losses_by_class_usd"].items() if k != "treasury_companies"}
    total = sum(losses.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in losses.items()}


def run_experiment(base: Scenario, runs: int, seed: int, ltvs=DEFAULT_LTVS, designs=tuple(DESIGNS),
                   progress: bool = False) -> dict:
    import sim

    started = time.time()
    points = []
    grid = [(ltv, des) for des in designs for ltv in ltvs]
    it = grid
    if progress:
        from tqdm import tqdm
        it = tqdm(grid, desc="leverage-cycle", unit="point")
    for ltv, des in it:
        sc = point_scenario(base, ltv, des)
        res = sim.run(sc, runs=runs, seed=seed, record="trajectory")
        m = res.metrics
        times = event_times(res.trajectory.data, sc.step_hours, sc.depeg_threshold)
        full, consistent = story_holds(times)
        points.append({
            "max_ltv": ltv, "design": des,
            "depeg_probability": m["depeg_probability"], "depeg_probability_ci95": m.get("depeg_probability_ci95"),
            "max_depeg_bps_p95": m["max_depeg_bps"]["p95"],
            "insolvency_probability": m["insolvency_probability"],
            "insolvency_probability_ci95": m.get("insolvency_probability_ci95"), "hyb_drawdown_p50": m["hyb_drawdown"]["p50"],
            "depegged_runs": [int(x) for x in np.isfinite(times["peg_below_099"])],
            "looper_liquidated_usd_mean": m["looper_liquidated_usd"]["mean"],
            "losses_by_class_usd": m["losses_by_class_usd"], "losses_by_company_usd": m["losses_by_company_usd"],
            "loss_share_by_class": loss_shares(m),
            "treasury_company_equity_loss_usd": m["losses_by_class_usd"]["treasury_companies"],
            "event_hours_median": {e: (float(np.nanmedian(v)) if np.isfinite(v).any() else None) for e, v in times.items()},
            "event_probability": {e: float(np.isfinite(v).mean()) for e, v in times.items()},
            "story_order_full_share": float(full.mean()),
            "story_order_consistent_share": float(consistent.mean()),
            "event_hours_per_run": {e: [None if not np.isfinite(x) else float(x) for x in v] for e, v in times.items()},
        })
    critical = {}
    for des in designs:
        pts = sorted((p for p in points if p["design"] == des), key=lambda p: p["max_ltv"])
        jumps = [(b["depeg_probability"] - a["depeg_probability"], b["max_ltv"], a, b) for a, b in zip(pts, pts[1:])]
        big = max(jumps, key=lambda j: j[0]) if jumps else (0.0, None, None, None)
        critical[des] = {"max_ltv": big[1] if big[0] > 0 else None, "depeg_probability_jump": big[0]}
        if big[0] > 0:  # the same seeds at every point: the jump is a paired difference of the runs' outcomes
            from sim.intervals import paired_proportion_diff

            d = paired_proportion_diff(np.array(big[3]["depegged_runs"], bool), np.array(big[2]["depegged_runs"], bool))
            critical[des] |= {"jump_ci95": d["ci95"], "jump_method": d["method"], "from_ltv": big[2]["max_ltv"],
                              "resolved": d["ci95"][0] > 0}
    return {
        "experiment": "leverage-cycle", "scenario": base.name, "config_hash": base.config_hash(), "runs": runs,
        "seed": seed, "ltvs": list(ltvs), "designs": list(designs), "points": points, "critical_leverage": critical,
        "story": list(STORY), **provenance(),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 2),
    }


def figures(result: dict) -> list:
    """Peg against leverage (with 95 % intervals), who bears the loss, the order of events."""
    import plotly.graph_objects as go

    pts, out = result["points"], []
    fig = go.Figure()
    for des in result["designs"]:
        p = sorted((q for q in pts if q["design"] == des), key=lambda q: q["max_ltv"])
        ci = [q.get("depeg_probability_ci95") or [q["depeg_probability"]] * 2 for q in p]
        fig.add_trace(go.Scatter(
            x=[q["max_ltv"] for q in p], y=[q["depeg_probability"] for q in p], mode="lines+markers", name=des,
            error_y={"type": "data", "array": [c[1] - q["depeg_probability"] for c, q in zip(ci, p)],
                     "arrayminus": [q["depeg_probability"] - c[0] for c, q in zip(ci, p)], "width": 3},
            hovertemplate=f"{des}: max LTV %{{x}}: %{{y:.0%}}<extra></extra>"))
    fig.update_layout(title={"text": "Depeg probability against looper leverage (95 % Clopper-Pearson)", "x": 0.01},
                      xaxis={"title": {"text": "looper max LTV"}}, yaxis={"tickformat": ".0%", "range": [0, 1]},
                      hovermode="closest", height=380)
    out.append(fig)
    des = result["designs"][0]
    p = sorted((q for q in pts if q["design"] == des), key=lambda q: q["max_ltv"])
    fig = go.Figure()
    for cls in (c for c in LOSS_CLASSES if c != "treasury_companies"):
        fig.add_trace(go.Bar(x=[str(q["max_ltv"]) for q in p], y=[q["loss_share_by_class"].get(cls, 0.0) for q in p],
                             name=cls.replace("_", " "), hovertemplate=f"{cls}: %{{y:.0%}}<extra></extra>"))
    fig.update_layout(barmode="stack", title={"text": f"Who bears the loss ({des})", "x": 0.01}, height=380,
                      xaxis={"title": {"text": "looper max LTV"}}, yaxis={"tickformat": ".0%"}, hovermode="x unified")
    out.append(fig)
    fig = go.Figure()
    for e in EVENTS:
        xs = [q["max_ltv"] for q in p if q["event_hours_median"][e] is not None]
        ys = [q["event_hours_median"][e] for q in p if q["event_hours_median"][e] is not None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=e.replace("_", " "), marker={"size": 9}))
    fig.update_layout(title={"text": f"Median hour of each event's first occurrence ({des})", "x": 0.01}, height=380,
                      xaxis={"title": {"text": "looper max LTV"}}, yaxis={"ticksuffix": " h"}, hovermode="closest")
    out.append(fig)
    return out


def render(result: dict) -> str:
    from sim.report.fmt import fmt, fmt_ci
    from sim.report.page import Page, esc, table

    rows = [[p["design"], f"{p['max_ltv']:g}", f"{fmt(p['depeg_probability'], 'pct')} {fmt_ci(p.get('depeg_probability_ci95'), 'pct')}",
             f"{fmt(p['insolvency_probability'], 'pct')} {fmt_ci(p.get('insolvency_probability_ci95'), 'pct')}",
             fmt(p["max_depeg_bps_p95"], "bps"), fmt(p["hyb_drawdown_p50"], "pct"),
             fmt(p["story_order_full_share"], "pct"), fmt(p["story_order_consistent_share"], "pct"),
             ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in p["loss_share_by_class"].items() if v >= 0.005)]
            for p in result["points"]]
    crit = []
    for des, c in result["critical_leverage"].items():
        if c.get("max_ltv") is None:
            crit.append(f"<li>{esc(des)}: no jump in depeg probability</li>")
            continue
        ci = c.get("jump_ci95")
        verdict = ("" if ci is None else " — resolved: the paired interval excludes zero" if c.get("resolved")
                   else " — <b>not resolved</b> at these runs: the paired interval includes zero")
        crit.append(f"<li>{esc(des)}: largest jump between max LTV {c.get('from_ltv', '?')} and {c['max_ltv']}: "
                    f"{c['depeg_probability_jump']:+.0%}" + (f" {esc(fmt_ci(ci, 'pct'))} (paired, same seeds)" if ci else "")
                    + verdict + "</li>")
    page = Page("Tripod — leverage cycle")
    page.add("<h1>Leverage-cycle experiment</h1>",
             f"<p>{result['runs']} runs per point, seed {result['seed']}, scenario {esc(result['scenario'])}, "
             f"config hash <code>{esc(result['config_hash'])}</code>. Story tested: {esc(' → '.join(result['story']))}.</p>",
             "<h2>Critical leverage</h2><ul>" + "".join(crit) + "</ul>",
             table(rows, ["design", "max LTV", "depeg probability [95 %]", "insolvency [95 %]", "max depeg p95",
                          "HYB drawdown p50", "story order (all four)", "story order (consistent)", "loss shares"], left=1),
             f'<div class="grid">{"".join(page.figure(f) for f in figures(result))}</div>')
    return page.html()


MARKERS = ("leverage_cycle.json", "manifest.json")  # what shows an existing directory is this experiment's


def write(result: dict, out: Path) -> None:
    """The experiment's directory, committed whole (`sim.atomic`)."""
    with commit_dir(out, markers=MARKERS) as stage:
        write_into(result, stage)


def write_into(result: dict, stage: Path) -> None:
    (stage / "leverage_cycle.json").write_text(dump_json(result))
    (stage / "report.html").write_text(render(result))
