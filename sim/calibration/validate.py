"""Validation: simulate the calibrated generator over the sample length many times and put the data's
stylized facts side by side with the distribution of the same statistics on the simulated paths.

Each statistic is computed by one function on daily arrays, for the data and for every simulated
path alike. Simulated days: BTC close = the path at hours 24(d+1); daily funding = mean of the three
8-hour prints that end inside day d (hours 24d+8, 24d+16, 24d+24), which is how the aligned data
series is built (see `fit.aligned_funding`); gold is averaged over 30-day blocks like the shipped
monthly averages.

Tolerances are fixed here, before looking at any simulated figure, from what a designer would call
"the same market": a statistic passes when |median of simulated - data| <= its tolerance (or, for
the streak, the ratio is within x2). A failing statistic is reported, not hidden.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibration.funding_fit import AT_CLAMP, VENUE_INTEREST_8H
from sim.config import StochasticMarket

APR = 3 * 365
NEG_50_APR_8H = -0.5 / APR
CLAMP_8H = VENUE_INTEREST_8H  # where the venue's clamp pins funding (a day at the clamp: all three prints there)

# name -> (label, kind, tolerance); kind "abs": |sim median - data| <= tol; "ratio": max(s/d, d/s) <= tol
TOLERANCES: dict[str, tuple[str, str, float]] = {
    "btc_vol_annual": ("BTC annualized vol (daily log returns x sqrt 365)", "abs", 0.10),
    "btc_share_days_below_minus10pct": ("share of days BTC < -10 %", "abs", 0.005),
    "funding_negative_share": ("share of negative-funding days", "abs", 0.05),
    "funding_mean_apr": ("mean funding APR", "abs", 0.03),
    "funding_longest_negative_streak_days": ("longest negative-funding streak (days)", "ratio", 2.0),
    "funding_return_corr": ("corr(daily funding, BTC return)", "abs", 0.10),
    "funding_change_return_corr": ("corr(funding change, BTC return)", "abs", 0.10),
    "funding_share_below_minus50apr": ("share of days funding <= -50 % APR", "abs", 0.01),
    # added with the clamped funding process (issue 13), with the negative-share row's tolerance
    "funding_share_at_clamp": ("share of days at the 0.01 %/8h clamp", "abs", 0.05),
    "gold_btc_corr": ("gold-BTC corr (monthly averages)", "abs", 0.15),
    "gold_vol_annual": ("gold annualized vol (monthly averages x sqrt 1.5)", "abs", 0.04),
}


def longest_run(mask: np.ndarray) -> int:
    best = cur = 0
    for v in mask:
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def btc_stats(close: np.ndarray) -> dict:
    r = np.diff(np.log(close))
    return {"btc_vol_annual": float(r.std() * math.sqrt(365)),
            "btc_share_days_below_minus10pct": float((np.expm1(r) < -0.10).mean())}


def funding_stats(f: np.ndarray, r: np.ndarray) -> dict:
    """f: daily funding (8 h fraction), r: the BTC log return of the same (aligned) day."""
    neg = f < 0
    return {
        "funding_negative_share": float(neg.mean()),
        "funding_mean_apr": float(f.mean() * APR),
        "funding_longest_negative_streak_days": float(longest_run(neg)),
        "funding_return_corr": _corr(f, r),
        "funding_change_return_corr": _corr(np.diff(f), r[1:]),
        "funding_share_below_minus50apr": float((f <= NEG_50_APR_8H).mean()),
        "funding_share_at_clamp": float((np.abs(f - CLAMP_8H) < AT_CLAMP).mean()),
    }


def gold_stats(btc_avg: np.ndarray, xau_avg: np.ndarray) -> dict:
    db, dx = np.diff(np.log(btc_avg)), np.diff(np.log(xau_avg))
    return {"gold_btc_corr": _corr(db, dx), "gold_vol_annual": float(dx.std() * math.sqrt(12) * math.sqrt(1.5))}


def data_stats(start=None, end=None) -> dict:
    from sim.calibration.fit import _window, aligned_funding
    from sim.markets.historical import load_series

    btc = _window(load_series("btc_usd"), start, end).dropna()
    out = btc_stats(btc.to_numpy())
    r = np.log(btc).diff()
    fund = _window(aligned_funding(load_series("funding_rate_8h_btc")), start, end)
    df = pd.DataFrame({"f": fund, "r": r}).dropna()
    out |= funding_stats(df["f"].to_numpy(), df["r"].to_numpy())
    b_m = btc.groupby(btc.index.to_period("M")).mean()
    x = load_series("xau_usd")
    x_m = x.groupby(x.index.to_period("M")).mean()
    first, last = btc.index[0].to_period("M"), btc.index[-1].to_period("M")
    full = [p for p in b_m.index if (p != first or btc.index[0].day == 1) and (p != last or btc.index[-1].is_month_end)]
    m = pd.DataFrame({"b": b_m.reindex(full), "x": x_m.reindex(full)}).dropna()
    out |= gold_stats(m["b"].to_numpy(), m["x"].to_numpy())
    out["_sizes"] = {"btc_days": len(btc), "funding_days": len(df), "months": len(m)}
    return out


def simulate_stats(market: StochasticMarket, btc_days: int, funding_days: int, months: int, paths: int,
                   seed: int = 0, chunk: int = 20, progress: bool = False) -> dict[str, np.ndarray]:
    """The statistics on `paths` simulated paths of the generator, each as long as the data sample."""
    from sim.markets.generator import generate
    from sim.progress import bar

    days = max(btc_days, funding_days, months * 30 + 1) + 1
    steps = days * 24
    stats: dict[str, list] = {k: [] for k in TOLERANCES}
    ticks = bar(total=paths, desc="validating", unit="path", enabled=progress)
    for lo in range(0, paths, chunk):
        runs = np.arange(lo, min(paths, lo + chunk))
        g = generate(market, seed, runs, steps, 1.0)
        close = g["btc_usd"][::24]  # (days + 1, R): hour 0, 24, ...
        xau = g["xau_usd"][::24]
        f = g["funding_rate_8h_btc"]
        for j in range(len(runs)):
            c = close[:btc_days, j]
            out = btc_stats(c)
            # day d: return from hour 24d to 24(d+1); funding = mean of prints at 24d + 8, 16, 24
            r = np.diff(np.log(close[: funding_days + 1, j]))
            fd = f[8: 8 + 24 * funding_days, j].reshape(funding_days, 24)[:, [0, 8, 16]].mean(axis=1)
            out |= funding_stats(fd, r)
            ba = close[1: 30 * months + 1, j].reshape(months, 30).mean(axis=1)
            xa = xau[1: 30 * months + 1, j].reshape(months, 30).mean(axis=1)
            out |= gold_stats(ba, xa)
            for k in TOLERANCES:
                stats[k].append(out[k])
        ticks.update(len(runs))
    ticks.close()
    return {k: np.array(v) for k, v in stats.items()}


def compare(data: dict, sim: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    for k, (label, kind, tol) in TOLERANCES.items():
        d, s = data[k], sim[k]
        s = s[np.isfinite(s)]
        med = float(np.median(s)) if s.size else float("nan")
        p5, p95 = (float(np.quantile(s, q)) for q in (0.05, 0.95)) if s.size else (float("nan"),) * 2
        if kind == "abs":
            err = abs(med - d)
            ok = err <= tol
        else:
            err = max(med / d, d / med) if d > 0 and med > 0 else float("inf")
            ok = err <= tol
        rows.append({"stat": k, "label": label, "data": d, "sim_median": med, "sim_p5": p5, "sim_p95": p95,
                     "tolerance": tol, "kind": kind, "error": err, "pass": bool(ok),
                     "data_in_sim_90pct_band": bool(p5 <= d <= p95)})
    return rows


def validate(market: StochasticMarket, paths: int = 100, seed: int = 0, start=None, end=None,
             btc_days: int | None = None, progress: bool = False) -> dict:
    """Data vs simulated stylized facts. `btc_days` shortens the simulated BTC sample (tests)."""
    data = data_stats(start, end)
    n = data.pop("_sizes")
    bd = btc_days or n["btc_days"]
    fd = min(n["funding_days"], bd)
    months = min(n["months"], (bd - 1) // 30)
    sim = simulate_stats(market, bd, fd, months, paths, seed, progress=progress)
    rows = compare(data, sim)
    return {"paths": paths, "seed": seed, "sizes": {"data": n, "simulated": {"btc_days": bd, "funding_days": fd, "months": months}},
            "rows": rows, "passed": sum(r["pass"] for r in rows), "total": len(rows),
            "simulated": {k: v.tolist() for k, v in sim.items()}}
