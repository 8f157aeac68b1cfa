"""Historical replay of the shipped daily series (sim/data, provenance in sim/data/README.md).

Daily points are placed at midnight UTC and interpolated linearly to the step. Gold is a monthly
average, placed mid-month. T-bill yields are business-day rates, forward-filled over weekends.
Every run sees the same market; runs differ only in their agents' random order flow.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.config import HistoricalMarket, ScenarioError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@lru_cache(maxsize=None)
def load_series(name: str) -> pd.Series:
    """One shipped series as a float Series indexed by date."""
    files = {
        "btc_usd": ("btc_daily.csv", "btc_usd"),
        "funding_rate_8h_btc": ("btc_funding_daily.csv", "funding_rate_8h"),
        "xau_usd": ("gold_monthly.csv", "xau_usd"),
        "tbill_yield_pct": ("tbill_3m_daily.csv", "yield_pct"),
    }
    fname, col = files[name]
    import pandas as pd  # lazily: only historical scenarios need it

    df = pd.read_csv(DATA_DIR / fname, parse_dates=["date"])
    return df.set_index("date")[col].astype(float)


def data_range(name: str) -> tuple[dt.date, dt.date]:
    s = load_series(name)
    return s.index[0].date(), s.index[-1].date()


def _on_grid(series: pd.Series, hours: np.ndarray, start: pd.Timestamp, offset_days: float = 0.0) -> np.ndarray:
    x = (series.index - start).total_seconds().to_numpy() / 3600.0 + offset_days * 24
    return np.interp(hours, x, series.to_numpy())


def generate(h: HistoricalMarket, runs: np.ndarray, steps: int, step_hours: float, seed: int) -> dict[str, np.ndarray]:
    problems = []
    for name in ("btc_usd", "funding_rate_8h_btc", "xau_usd", "tbill_yield_pct"):
        lo, hi = data_range(name)
        # gold is monthly: the last month's average covers that whole month
        hi_ok = hi + dt.timedelta(days=31) if name == "xau_usd" else hi
        if h.start_date < lo or h.end_date > hi_ok:
            problems.append(f"market.historical.start_date/end_date: {h.start_date}..{h.end_date} is outside the "
                            f"shipped {name} data ({lo}..{hi})")
    if problems:
        raise ScenarioError("market.historical", problems)

    import pandas as pd

    start = pd.Timestamp(h.start_date)
    hours = np.arange(steps + 1) * step_hours
    btc = _on_grid(load_series("btc_usd"), hours, start)
    fund = _on_grid(load_series("funding_rate_8h_btc"), hours, start)
    xau = _on_grid(load_series("xau_usd"), hours, start, offset_days=-14)  # monthly average sits mid-month
    tb = load_series("tbill_yield_pct").asfreq("D").ffill() / 100.0
    tbill = _on_grid(tb, hours, start)

    # Stress: BTC more than `stress_drawdown` below its trailing 30-day high (closes, so from the data
    # before the start too).
    closes = load_series("btc_usd")
    trailing_max = closes.rolling(30, min_periods=1).max()
    peak = _on_grid(trailing_max, hours, start)
    stress = (btc < (1 - h.stress_drawdown) * peak).astype(float)
    depth = np.where(stress > 0, h.stress_pool_depth_factor, 1.0)

    R = len(runs)
    out = {
        "btc_usd": np.repeat(btc[:, None], R, 1),
        "xau_usd": np.repeat(xau[:, None], R, 1),
        "tbill_yield": np.repeat(tbill[:, None], R, 1),
        "funding_rate_8h_btc": np.repeat(fund[:, None], R, 1),
        "funding_rate_8h_xau": np.full((steps + 1, R), h.xau_funding_rate_8h),
        "pool_depth": np.repeat(depth[:, None], R, 1),
        "stress": np.repeat(stress[:, None], R, 1),
        "flow_noise": np.empty((steps + 1, R)),
    }
    out["flow_noise"][0] = 0.0
    for j, run in enumerate(runs):
        out["flow_noise"][1:, j] = np.random.default_rng([seed, int(run), 1]).standard_normal(steps)
    return out
