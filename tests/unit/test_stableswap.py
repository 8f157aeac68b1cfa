"""Unit: real pools (Curve StableSwap, Solidly stable) written as v3 ranges pay out what the real pool pays
out, and the event scenarios carry exactly the ranges their `# derived:` line names."""
import re

import numpy as np
import pytest
import yaml

from sim.experiments import stableswap as ss
from sim.model import amm

POOLS = [ss.StableSwap(3e9, 2000, 3), ss.StableSwap(1.64e6, 30, 2), ss.SolidlyStable(6e6)]


@pytest.mark.parametrize("pool", POOLS, ids=["3pool", "steth", "solidly"])
def test_v3_ranges__at_every_grid_price__pay_out_what_the_pool_pays(pool):
    curve = amm.Curve.from_usd(ss.v3_ranges(pool), 1.0)
    x_par, y_par = amm.pool_value(1.0, curve)
    x0, y0 = pool.start()
    for bps in ss.GRID_BPS:
        p = 1 - bps / 1e4
        x_real, y_real = ss._balance_at_price(pool, p)
        x_v3, y_v3 = amm.pool_value(np.sqrt(p), curve)
        # quote paid out and base taken in to reach p: equal where the real curve thins monotonically
        assert y_par - y_v3 == pytest.approx(y0 - y_real, rel=0.02)
        assert x_v3 - x_par == pytest.approx(x_real - x0, rel=0.02)
    assert all(lo < 1 < hi for lo, hi, _ in ss.v3_ranges(pool))


def test_v3_ranges__3pool__holds_one_third_base_at_par():
    curve = amm.Curve.from_usd(ss.v3_ranges(ss.StableSwap(3e9, 2000, 3)), 1.0)
    x, y = amm.pool_value(1.0, curve)
    assert x / (x + y) == pytest.approx(1 / 3, rel=0.02)  # the real curve keeps a tail below the grid


def test_stableswap__price_falls_as_base_piles_up():
    pool = ss.StableSwap(1e6, 100, 2)
    prices = [pool.state(x)[0] for x in (5e5, 6e5, 8e5, 9.5e5)]
    assert prices[0] == pytest.approx(1.0, abs=1e-9) and all(a > b for a, b in zip(prices, prices[1:]))


def test_event_scenarios__ranges_match_their_derived_line(root):
    checked = 0
    for f in sorted((root / "scenarios" / "events").glob("*.yaml")):
        text = f.read_text()
        m = re.search(r"# derived: (StableSwap|SolidlyStable)\(([^)]*)\)", text)
        if not m:
            continue
        kwargs = {k.strip(): float(v) for k, v in (a.split("=") for a in m.group(2).split(","))}
        if "n_coins" in kwargs:
            kwargs["n_coins"] = int(kwargs["n_coins"])
        want = ss.v3_ranges(getattr(ss, m.group(1))(**kwargs))
        got = [(r["price_lower"], r["price_upper"], r["usd"]) for r in yaml.safe_load(text)["pool"]["ranges"]]
        assert len(got) == len(want), f.name
        for g, w in zip(got, want):
            assert g == pytest.approx(w, rel=1e-5), f.name
        checked += 1
    assert checked >= 3
