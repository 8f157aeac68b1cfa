"""Intervals: the maths against known values and properties, and the rule that gives every figure one."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.intervals import (
    Tagged, binom_cdf, clopper_pearson, mean_ci, paired_bootstrap_diff, paired_proportion_diff, quantile_ci,
    runs_to_resolve, tagged_quantiles, wilson, with_intervals,
)


@pytest.mark.parametrize("k,n,low,high", [
    (0, 40, 0.0, 0.0881),  # the "0 failures in 40 runs: upper bound 8.8 %"
    (3, 20, 0.0321, 0.3789),
    (8, 20, 0.1912, 0.6395),
    (20, 20, 0.8316, 1.0),
    (50, 100, 0.3983, 0.6017),
])
def test_clopper_pearson__known_values(k, n, low, high):
    lo, hi = clopper_pearson(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


@given(st.integers(30, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_clopper_pearson__contains_the_estimate_and_is_near_wilson(kn):
    k, n = kn
    lo, hi = clopper_pearson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1 and lo < hi
    wl, wh = wilson(k, n)
    assert abs(lo - wl) < 0.1 and abs(hi - wh) < 0.1


def test_clopper_pearson__coverage_is_at_least_95_percent():
    rng = np.random.default_rng(0)
    n, p = 30, 0.07
    ks = rng.binomial(n, p, size=4000)
    covered = np.mean([clopper_pearson(k, n)[0] <= p <= clopper_pearson(k, n)[1] for k in ks])
    assert covered >= 0.95


def test_binom_cdf__matches_direct_sum():
    n, p = 12, 0.3
    direct = np.cumsum([math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)])
    assert np.allclose(binom_cdf(n, p), direct)


def test_quantile_ci__brackets_the_true_median_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(1000):
        lo, hi = quantile_ci(rng.standard_normal(40), 0.5)
        hits += lo <= 0.0 <= hi
    assert hits >= 940


def test_quantile_ci__too_few_runs_for_a_tail__open_side_is_none():
    lo, hi = quantile_ci(np.arange(20.0), 0.99)
    assert hi is None and lo is not None


def test_mean_ci__normal_width():
    v = np.random.default_rng(2).normal(5, 2, 400)
    lo, hi = mean_ci(v)
    assert lo < v.mean() < hi and (hi - lo) == pytest.approx(2 * 1.96 * v.std(ddof=1) / 20, rel=1e-4)


def test_with_intervals__rule_over_keys_covers_metrics_added_later():
    """New metrics (per venue, new probabilities, new quantiles) get intervals without edits."""
    rng = np.random.default_rng(3)
    per_run = {"queued_exits_usd": rng.exponential(1e6, 50)}
    summary = {
        "runs": 50,
        "pool_exhausted_probability": 0.1,
        "max_depeg_bps_by_venue": {"curve": tagged_quantiles(rng.exponential(20, 50), {"p50": 0.5, "p95": 0.95}),
                                   "book": tagged_quantiles(rng.exponential(90, 50), {"p50": 0.5})},
        "redeemed_24h_max_share": tagged_quantiles(rng.uniform(0, 0.3, 50), {"p50": 0.5, "p95": 0.95}),
        "queued_exits_usd": {"mean": float(per_run["queued_exits_usd"].mean()),
                             **tagged_quantiles(per_run["queued_exits_usd"], {"p95": 0.95})},
        "venue_halted_probability": {"curve": 0.0, "book": 0.2},
        "exhausted_probability_by_venue": {"curve": 0.04},
        "note": "text stays as it is",
    }
    out = with_intervals(summary, per_run)
    assert out["pool_exhausted_probability_ci95"] == list(clopper_pearson(5, 50))
    assert set(out["max_depeg_bps_by_venue_ci95"]) == {"curve", "book"}
    assert set(out["max_depeg_bps_by_venue_ci95"]["curve"]) == {"p50", "p95"}
    assert set(out["redeemed_24h_max_share_ci95"]) == {"p50", "p95"}
    assert set(out["queued_exits_usd_ci95"]) == {"mean", "p95"}
    assert out["venue_halted_probability_ci95"]["curve"][1] > 0
    assert out["exhausted_probability_by_venue_ci95"]["curve"] == list(clopper_pearson(2, 50))
    assert "note_ci95" not in out and "runs_ci95" not in out
    # values come back as plain floats, in place
    assert type(out["redeemed_24h_max_share"]["p50"]) is float
    assert list(out)[:3] == ["runs", "pool_exhausted_probability", "pool_exhausted_probability_ci95"]


def test_tagged__survives_the_ways_summarize_composes_dicts():
    q = tagged_quantiles(np.arange(100.0), {"p50": 0.5})
    merged = q | {"max": 99.0}
    spread = {"mean": 1.0, **q}
    assert isinstance(merged["p50"], Tagged) and isinstance(spread["p50"], Tagged)


def test_paired_proportion_diff__common_random_numbers_make_differences_sharp():
    rng = np.random.default_rng(4)
    a = rng.random(200) < 0.3
    b = a | (rng.random(200) < 0.05)  # b fails whenever a does, plus a few runs
    d = paired_proportion_diff(b, a)
    assert d["diff"] == pytest.approx(b.mean() - a.mean())
    lo, hi = d["ci95"]
    assert 0 < lo <= d["diff"] <= hi
    # unpaired intervals of the two shares overlap: only the pairing resolves the difference
    assert clopper_pearson(b.sum(), 200)[0] < clopper_pearson(a.sum(), 200)[1]


def test_paired_proportion_diff__identical__zero_inside():
    x = np.zeros(20, dtype=bool)
    d = paired_proportion_diff(x, x)
    assert d["diff"] == 0 and d["ci95"][0] < 0 < d["ci95"][1]


def test_paired_bootstrap_diff__shift_is_found():
    rng = np.random.default_rng(5)
    a = rng.normal(0, 1, 300)
    d = paired_bootstrap_diff(a + 0.5, a, lambda x, axis=None: np.quantile(x, 0.5, axis=axis))
    assert d["ci95"][0] == pytest.approx(0.5) and d["ci95"][1] == pytest.approx(0.5)


@pytest.mark.parametrize("p,target,expect", [(0.0, 0.01, 367), (0.0, 0.05, 72)])
def test_runs_to_resolve__zero_events(p, target, expect):
    n = runs_to_resolve(p, target)
    assert abs(n - expect) <= 2 and clopper_pearson(0, n)[1] <= target


def test_runs_to_resolve__on_the_target__never():
    assert runs_to_resolve(0.01, 0.01) is None


def test_run_metrics__every_probability_and_quantile_has_an_interval(small):
    import sim

    m = sim.run(small, record="metrics").metrics
    probs = [k for k in m if k.endswith("_probability")]
    assert probs and all(f"{k}_ci95" in m for k in probs)
    for k, v in m.items():
        if not k.endswith("_ci95") and isinstance(v, dict) and any(s in v for s in ("p5", "p50", "p95")):
            assert f"{k}_ci95" in m, k
