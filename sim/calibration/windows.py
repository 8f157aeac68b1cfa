"""Historical stress: replay every rolling window of the shipped data through a protocol and rank them.

All windows run in one batch: column j of the batched engine is the window starting on day j (the
historical market of `sim.markets.historical`, one column per start date). Two details make that
exact or say where it is not:
- BTC and gold are rescaled per window to start at the first window's prices. The book is sized
  in dollars at the start (units = weight x supply / start price), so every dollar flow scales with
  price / start price and the rescaling changes nothing.
- Each column's genesis state is that window's own (the stakers' expected APR at hour 0 reads the
  window's funding and T-bill yield). Every window sees the same order-flow draw and the same holder
  moods (run 0's), so windows differ only by their market.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.config import HistoricalMarket, Scenario

RECORD = ("peg_price", "reserve_fund_usd", "backing_ratio", "backing_usd", "supply")


def window_starts(days: int, stride_days: int = 1, start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
    """Start dates of every window of `days` whose end lies inside the data of every series it needs."""
    from sim.markets.historical import SERIES, data_range

    lo = max(data_range(n)[0] for n in SERIES)
    hi = min(data_range(n)[1] for n in SERIES)
    if start:
        lo = max(lo, start)
    if end:
        hi = min(hi, end)
    out, d = [], lo
    while d + dt.timedelta(days=days) <= hi:
        out.append(d)
        d += dt.timedelta(days=stride_days)
    return out


def _hist_scenario(sc: Scenario, start: dt.date, days: int) -> Scenario:
    d = sc.model_dump(mode="python")
    d["market"] = {"source": "historical",
                   "historical": {"start_date": start, "end_date": start + dt.timedelta(days=days)}}
    d["horizon_hours"] = days * 24
    d["scripted"], d["events"] = [], []
    return Scenario.model_validate(d)


def stress_windows(sc: Scenario, days: int = 90, stride_days: int = 1, start: dt.date | None = None,
                   end: dt.date | None = None, seed: int | None = None, top: int = 10, chunk: int = 800,
                   progress: bool = False) -> dict:
    from sim.engines import run_engine
    from sim.progress import bar
    from sim.markets import historical
    from sim.markets.paths import MarketPaths, cohort_thresholds, event_inputs
    from sim.model import Model
    from sim.model.state import genesis_state

    starts = window_starts(days, stride_days, start, end)
    if not starts:
        raise ValueError(f"no {days}-day window fits the data between {start} and {end}")
    seed = sc.seed if seed is None else seed
    first = _hist_scenario(sc, starts[0], days)
    steps = first.steps
    rows = []
    ref = None
    ticks = bar(total=len(starts), desc="windows", unit="window", enabled=progress)
    for lo in range(0, len(starts), chunk):
        batch = starts[lo: lo + chunk]
        cols = []
        for s0 in batch:
            h = HistoricalMarket(start_date=s0, end_date=s0 + dt.timedelta(days=days))
            cols.append(historical.generate(h, np.array([0]), steps, first.step_hours, seed))
        if ref is None:
            ref = {k: float(cols[0][k][0, 0]) for k in ("btc_usd", "xau_usd")}
        raw = {k: np.concatenate([c[k] for c in cols], axis=1) for k in cols[0]}
        per_run = dict(raw)
        for k in ("btc_usd", "xau_usd"):
            per_run[k] = raw[k] / raw[k][0] * ref[k]
        per_run["pool_depth"] = np.clip(per_run["pool_depth"], 1e-3, 1.0)
        # one calendar for the batch (the first window's): bank hours matter only with a bank-hours T-bill
        # sleeve or scheduled caps, which a window study of the base protocol does not use
        ids = np.arange(lo, lo + len(batch))
        paths = MarketPaths(runs=ids, step_hours=first.step_hours, per_run=per_run,
                            per_step=event_inputs(first, np.arange(steps + 1) * first.step_hours),
                            per_run_const=cohort_thresholds(first, np.zeros_like(ids), seed))  # run 0's moods
        m = Model.build(first, paths=paths)
        # one genesis per column: the stakers' expected APR at hour 0 reads each window's own funding and yield
        per_col = [genesis_state(first, paths.inputs(0, j), m.params) for j in range(len(batch))]
        genesis = {k: np.array([g[k] for g in per_col]) for k in per_col[0]}
        traj = run_engine("batch", m.params, genesis, m.paths, record=RECORD, progress=progress)
        ticks.update(len(batch))
        d = traj.data
        r0 = d["reserve_fund_usd"][0]
        res_min = d["reserve_fund_usd"].min(axis=0)
        depleted = (d["reserve_fund_usd"] <= np.maximum(0.01 * r0, 1.0)).any(axis=0)
        solv = ((d["backing_usd"] + d["reserve_fund_usd"]) / d["supply"]).min(axis=0)
        fund = raw["funding_rate_8h_btc"]
        btc = raw["btc_usd"]
        for j, s0 in enumerate(batch):
            b = btc[:, j]
            rows.append({
                "start": s0.isoformat(), "end": (s0 + dt.timedelta(days=days)).isoformat(),
                "max_depeg_bps": float(max(0.0, 1 - d["peg_price"][:, j].min()) * 1e4),
                "hours_below_threshold": float((d["peg_price"][1:, j] < sc.depeg_threshold).sum() * first.step_hours),
                "reserve_drawdown_usd": float(r0[j] - res_min[j]),
                "reserve_drawdown_pct": float((r0[j] - res_min[j]) / r0[j] * 100) if r0[j] > 0 else None,
                "reserve_end_usd": float(d["reserve_fund_usd"][-1, j]),
                "reserve_depleted": bool(depleted[j]),
                "min_backing_ratio": float(d["backing_ratio"][:, j].min()),
                "min_solvency_ratio": float(solv[j]),
                "btc_return_pct": float((b[-1] / b[0] - 1) * 100),
                "btc_max_drawdown_pct": float((1 - (b / np.maximum.accumulate(b)).min()) * 100),
                "funding_mean_apr_pct": float(fund[:, j].mean() * 3 * 365 * 100),
                "funding_negative_hours_share": float((fund[:, j] < 0).mean()),
            })
    df = pd.DataFrame(rows)
    return {
        "scenario": sc.name, "window_days": days, "stride_days": stride_days, "windows": len(df),
        "supply_usd": sc.protocol.initial_supply_usd, "reserve_start_usd": sc.protocol.reserve.initial_usd,
        "weights": sc.protocol.weights.model_dump(), "seed": seed,
        "first_start": df["start"].iloc[0], "last_start": df["start"].iloc[-1],
        "share_depleted": float(df["reserve_depleted"].mean()),
        "share_depegged": float((df["max_depeg_bps"] > (1 - sc.depeg_threshold) * 1e4).mean()),
        "worst_by_reserve_drawdown": worst(df, "reserve_drawdown_usd", days, top),
        "worst_by_max_depeg": worst(df, "max_depeg_bps", days, top),
        "frame": df,
    }


def worst(df: pd.DataFrame, col: str, days: int, top: int) -> list[dict]:
    """The `top` worst windows by `col` that do not overlap a worse one already listed."""
    order = df.sort_values(col, ascending=False, kind="stable")
    picked: list[dict] = []
    taken: list[pd.Timestamp] = []
    for _, row in order.iterrows():
        s = pd.Timestamp(row["start"])
        if any(abs((s - t).days) < days for t in taken):
            continue
        picked.append(row.to_dict())
        taken.append(s)
        if len(picked) >= top:
            break
    return picked
