"""Historical replay of the shipped daily series (sim/data, provenance in sim/data/README.md).

Each dated value is placed at the instant it describes (UTC), then interpolated linearly to the step:

- a BTC close dated d is the price at the end of day d (d + 24 h);
- the funding dated d is the mean of the prints over the day *before* its label (the file's date runs
  a day behind: its change moves with the previous day's return, corr 0.37, and not with the same
  day's, corr 0.00), placed at the middle of that day (d - 12 h);
- a gold value dated the 1st of a month is that month's average, placed at the middle of the month;
- a T-bill rate dated d is that business day's quote, at the end of the day (d + 24 h), forward-filled
  over weekends and holidays.

Every run sees the same market; runs differ only in their agents' random order flow.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.config import HistoricalMarket, ScenarioError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FUNDING_LAG_DAYS = 1
"""The funding file's label runs this many days behind the day its prints cover (see the docstring)."""

# name -> (file, column, what a dated value describes: "close" | "day_before" | "month")
SERIES = {
    "btc_usd": ("btc_daily.csv", "btc_usd", "close"),
    "funding_rate_8h_btc": ("btc_funding_daily.csv", "funding_rate_8h", "day_before"),
    "xau_usd": ("gold_monthly.csv", "xau_usd", "month"),
    "tbill_yield_pct": ("tbill_3m_daily.csv", "yield_pct", "close"),
}


@lru_cache(maxsize=None)
def load_series(name: str) -> pd.Series:
    """One shipped series as a float Series indexed by its file's date labels."""
    fname, col, _ = SERIES[name]
    import pandas as pd  # lazily: only historical scenarios need it

    df = pd.read_csv(DATA_DIR / fname, parse_dates=["date"])
    return df.set_index("date")[col].astype(float)


def observation_times(name: str, labels: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The instants (UTC, naive) that values with these date labels describe."""
    import pandas as pd

    kind = SERIES[name][2]
    if kind == "close":
        return labels + pd.Timedelta(hours=24)
    if kind == "day_before":
        return labels - pd.Timedelta(days=FUNDING_LAG_DAYS) + pd.Timedelta(hours=12)
    return labels + pd.to_timedelta(labels.days_in_month * 12, unit="h")  # the middle of the month


@lru_cache(maxsize=None)
def data_range(name: str) -> tuple[dt.date, dt.date]:
    """First and last date whose midnight a replay may start or end on: the span the values cover
    (a close its instant, a day's mean its day, a month's average its month)."""
    import pandas as pd

    s = load_series(name)
    first, last = s.index[0], s.index[-1]
    kind = SERIES[name][2]
    if kind == "close":
        lo, hi = first + pd.Timedelta(hours=24), last + pd.Timedelta(hours=24)
    elif kind == "day_before":
        lo, hi = first - pd.Timedelta(days=FUNDING_LAG_DAYS), last - pd.Timedelta(days=FUNDING_LAG_DAYS - 1)
    else:
        lo, hi = first, last + pd.offsets.MonthBegin(1)
    return lo.date(), hi.date()


def _on_grid(name: str, series: pd.Series, hours: np.ndarray, start: pd.Timestamp) -> np.ndarray:
    x = (observation_times(name, series.index) - start).total_seconds().to_numpy() / 3600.0
    return np.interp(hours, x, series.to_numpy())


def generate(h: HistoricalMarket, runs: np.ndarray, steps: int, step_hours: float, seed: int) -> dict[str, np.ndarray]:
    problems = []
    for name in SERIES:
        lo, hi = data_range(name)
        if h.start_date < lo or h.end_date > hi:
            problems.append(f"market.historical.start_date/end_date: {h.start_date}..{h.end_date} is outside the "
                            f"shipped {name} data ({lo}..{hi})")
    if problems:
        raise ScenarioError("market.historical", problems)

    import pandas as pd

    start = pd.Timestamp(h.start_date)
    hours = np.arange(steps + 1) * step_hours
    btc = _on_grid("btc_usd", load_series("btc_usd"), hours, start)
    fund = _on_grid("funding_rate_8h_btc", load_series("funding_rate_8h_btc"), hours, start)
    xau = _on_grid("xau_usd", load_series("xau_usd"), hours, start)
    tb = load_series("tbill_yield_pct").asfreq("D").ffill() / 100.0
    tbill = _on_grid("tbill_yield_pct", tb, hours, start)

    # Stress: BTC more than `stress_drawdown` below its trailing 30-day high (closes, so from the data
    # before the start too).
    closes = load_series("btc_usd")
    peak = _on_grid("btc_usd", closes.rolling(30, min_periods=1).max(), hours, start)
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
