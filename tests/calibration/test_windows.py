"""Rolling historical windows: all windows in one batch give what a single historical run gives."""
import datetime as dt

import numpy as np
import pytest

import sim
from sim.calibration import windows as W


def test_window_starts_fit_inside_the_data():
    s = W.window_starts(90, stride_days=7)
    assert s[0] == dt.date(2019, 9, 9)  # the first funding value (labelled 09-10) covers 2019-09-09
    assert s[-1] + dt.timedelta(days=90) <= dt.date(2026, 1, 30)  # the last T-bill quote, end of 2026-01-29
    assert all((b - a).days == 7 for a, b in zip(s, s[1:]))
    assert W.window_starts(90, start=dt.date(2022, 1, 1), end=dt.date(2022, 3, 1)) == []


@pytest.fixture(scope="module")
def few(root):
    sc = sim.load_scenario(root / "scenarios" / "baseline.yaml")
    return sc, W.stress_windows(sc, days=20, stride_days=40, start=dt.date(2022, 4, 1), end=dt.date(2022, 8, 1), top=3)


def test_stress_windows__rows_and_non_overlapping_worst(few):
    sc, res = few
    df = res["frame"]
    assert res["windows"] == len(df) == 3
    assert list(df["start"]) == ["2022-04-01", "2022-05-11", "2022-06-20"]
    worst = res["worst_by_reserve_drawdown"]
    assert worst[0]["reserve_drawdown_usd"] == df["reserve_drawdown_usd"].max()
    starts = [dt.date.fromisoformat(w["start"]) for w in worst]
    assert all(abs((a - b).days) >= 20 for i, a in enumerate(starts) for b in starts[i + 1:])


@pytest.mark.parametrize("j", [0, 1, 2])
def test_stress_windows__each_column_matches_a_direct_historical_run(few, j):
    """Column j of the batch (prices rescaled to the first window's start, its own genesis) against
    sim.run of that window alone: the same numbers (the rescaling is exact for a book sized in dollars)."""
    sc, res = few
    row = res["frame"].iloc[j]
    start = dt.date.fromisoformat(row["start"])
    one = W._hist_scenario(sc, start, 20)
    r = sim.run(one, runs=1, seed=sc.seed)
    d = r.trajectory.data
    dd = float(d["reserve_fund_usd"][0, 0] - d["reserve_fund_usd"][:, 0].min())
    depeg = float(max(0.0, 1 - d["peg_price"][:, 0].min()) * 1e4)
    assert row["reserve_drawdown_usd"] == pytest.approx(dd, rel=1e-6, abs=1.0)
    assert row["max_depeg_bps"] == pytest.approx(depeg, rel=1e-6, abs=1e-3)
