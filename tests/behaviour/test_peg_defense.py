"""Behaviour: tests that would catch a fake model. Each runs a shipped stress scenario and checks a
direction a risk team knows must hold, not a fixed number."""
import numpy as np
import pytest

import sim

pytestmark = pytest.mark.slow


def _scenario(root, name, **protocol):
    sc = sim.load_scenario(root / "scenarios" / f"{name}.yaml")
    d = sc.model_dump()
    for block, values in protocol.items():
        d["protocol"][block].update(values)
    return sim.Scenario.model_validate(d)


def test_btc_crash__healthy_reserve__hedge_holds_backing_while_funding_turns_negative(root):
    r = sim.run(_scenario(root, "btc-crash"), runs=8, seed=11)
    d, m = r.trajectory.data, r.metrics
    assert np.median(d["btc_usd"].min(axis=0) / d["btc_usd"][0]) < 0.6  # BTC really fell by ~half
    assert m["min_backing_ratio"]["p50"] >= 0.999  # the hedge held the backing
    assert m["insolvency_probability"] == 0.0
    assert d["funding_rate_8h_btc"].min() < 0 and m["funding_income_usd"]["mean"] < 0
    assert m["reserve_fund_min_usd"]["p50"] < d["reserve_fund_usd"][0, 0]  # the reserve paid for it


def test_btc_crash__without_reserve_and_backstop__insolvency_rises(root):
    base = sim.run(_scenario(root, "btc-crash"), runs=8, seed=11).metrics
    bare = sim.run(_scenario(root, "btc-crash", reserve={"initial_usd": 0.0}, backstop={"enabled": False}),
                   runs=8, seed=11).metrics
    assert bare["insolvency_probability"] > base["insolvency_probability"]
    assert bare["min_backing_ratio"]["p50"] < base["min_backing_ratio"]["p50"]
    assert bare["losses_by_class_usd"]["stakers"] > base["losses_by_class_usd"]["stakers"]


def test_btc_crash__backstop_without_reserve__hyb_falls_first_and_holders_are_spared(root):
    bare = sim.run(_scenario(root, "btc-crash", reserve={"initial_usd": 0.0}, backstop={"enabled": False}),
                   runs=8, seed=11).metrics
    hyb = sim.run(_scenario(root, "btc-crash", reserve={"initial_usd": 0.0}), runs=8, seed=11).metrics
    assert hyb["hyb_drawdown"]["p50"] > 0.1  # HYB holders absorb the loss...
    assert hyb["losses_by_class_usd"]["backstop"] > 0
    assert hyb["min_backing_ratio"]["p50"] > bare["min_backing_ratio"]["p50"]  # ...and the backing is defended
    assert hyb["losses_by_class_usd"]["stakers"] < bare["losses_by_class_usd"]["stakers"]


def test_bank_run__higher_redemption_caps__shorter_and_shallower_depeg(root):
    def run(cap):
        return sim.run(_scenario(root, "bank-run", caps={"redeem_cap_usd_per_hour": cap}), runs=8, seed=5).metrics

    low, high = run(3e6), run(30e6)
    assert low["depeg_probability"] > 0  # the scenario bites with tight caps
    repeg = lambda m: m["time_to_repeg_hours"]["p50"] or 0.0
    assert repeg(high) < repeg(low)
    assert high["hours_below_threshold"]["mean"] < low["hours_below_threshold"]["mean"]
    assert high["max_depeg_bps"]["p50"] < low["max_depeg_bps"]["p50"]


def test_venue_failure__loss_lands_on_the_reserve(root):
    m = sim.run(_scenario(root, "venue-failure"), runs=4, seed=4).metrics
    none = sim.run(sim.load_scenario(root / "scenarios" / "venue-failure.yaml").with_overrides(events=[]), runs=4,
                   seed=4).metrics
    assert m["protocol_costs_usd"]["mean"] > none["protocol_costs_usd"]["mean"]
    assert m["losses_by_class_usd"]["reserve_fund"] >= none["losses_by_class_usd"]["reserve_fund"]
