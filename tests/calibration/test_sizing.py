"""Reserve sizing: the order-statistic answer on known flows, and the end-to-end answer checked by
re-running the scenario at the answer (and a dollar below it) through sim.run."""
import numpy as np
import pytest

import sim
from sim.calibration import sizing as Z


def test_needed_per_run_and_smallest_reserve_on_known_flows():
    # 4 runs: worst cumulative reserve flows 0, -10, -50, -100 (dollars)
    flows = np.array([[0, 0, 0, 0], [5, -10, -20, -100], [10, 0, -50, 20]], dtype=float)
    need = Z.needed_per_run(flows)
    np.testing.assert_allclose(need, [1.0, 11.0, 51.0, 100 / 0.99])  # max(-m / 0.99, 1 - m)
    assert Z.depletion_probability(need, 51.0) == 0.5
    assert Z.depletion_probability(need, 51.5) == 0.25
    a = Z.smallest_reserve(need, 0.25)  # one run of four may deplete
    assert 51.0 < a["reserve_usd"] <= 52.0 and a["runs_depleting_at_answer"] == 1
    assert Z.smallest_reserve(need, 0.0)["reserve_usd"] > 101.0
    # prefix horizon: only the first step counts
    np.testing.assert_allclose(Z.needed_per_run(flows, steps=1), [1.0, 11.0, 21.0, 100 / 0.99])


def test_quantile_ci_covers_the_true_quantile_about_as_often_as_it_says():
    rng = np.random.default_rng(0)
    true_q = -np.log(0.05)  # 95 % quantile of Exp(1): the smallest R with P(X >= R) <= 5 %
    hits = 0
    for _ in range(200):
        a = Z.smallest_reserve(rng.exponential(size=400), 0.05)
        hits += a["ci_low_usd"] <= true_q <= a["ci_high_usd"]
    assert hits / 200 > 0.90


def test_scale_liquidity_scales_what_grows_with_size_and_keeps_shares(root):
    sc = sim.load_scenario(root / "scenarios" / "baseline.yaml")
    big = Z.scale_liquidity(sc, 3e9)
    assert big.protocol.initial_supply_usd == 3e9
    assert big.pool.ranges[0].usd == 3 * sc.pool.ranges[0].usd
    assert big.protocol.caps.redeem_cap_usd_per_hour == 3 * sc.protocol.caps.redeem_cap_usd_per_hour
    assert big.protocol.reserve.initial_usd == 3 * sc.protocol.reserve.initial_usd
    assert big.protocol.weights == sc.protocol.weights and big.agents.retail.share_of_supply == sc.agents.retail.share_of_supply


def test_set_path_overrides_and_refuses_unknown_fields(root):
    sc = sim.load_scenario(root / "scenarios" / "baseline.yaml")
    s2 = Z.set_path(sc, ["protocol.hedge.premium_per_funding_8h=0", "protocol.reserve.initial_usd=1e6"])
    assert s2.protocol.hedge.premium_per_funding_8h == 0 and s2.protocol.reserve.initial_usd == 1e6
    with pytest.raises(ValueError, match="not a field"):
        Z.set_path(sc, ["protocol.hedge.nope=1"])


def test_size_reserve__answer_is_exact_against_sim_run(root):
    """The one-batch answer, re-run as an ordinary scenario with that reserve, depletes in at most the
    target share of runs, and a dollar less depletes one run more."""
    sc = sim.load_scenario(root / "scenarios" / "calibrated" / "pure-delta-neutral.yaml")
    out = Z.size_reserve(sc, [0.1, 0.25], horizon_days=5, runs=20, seed=4, verify=True)
    assert [a["target_prob"] for a in out["answers"]] == [0.1, 0.25]
    for a, v in zip(out["answers"], out["verified"]):
        assert v["depletion_probability_at_answer"] <= a["target_prob"]
        assert v["depletion_probability_just_below"] > a["target_prob"]
        assert a["ci_low_usd"] <= a["reserve_usd"]
        assert a["pct_of_supply"] == pytest.approx(a["reserve_usd"] / 5e9 * 100)
    assert out["answers"][0]["reserve_usd"] >= out["answers"][1]["reserve_usd"]
    # the curve is a survival function: non-increasing in the reserve
    p = np.array(out["curve"]["depletion_probability"])
    assert (np.diff(p) <= 0).all()
