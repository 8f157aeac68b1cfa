"""Unit: the leverage-cycle additions — treasury companies, reflexive deposits, levered retail."""
import numpy as np
import pytest

import sim
from sim.engines import run_engine
from sim.model import Model
from sim.model.parts.common import holder_husd

CRASH = [{"variable": "btc_usd", "points": [[12, 1.0], [36, 0.45]]}]


def _scenario(companies=(), **agents):
    return sim.parse_scenario({"name": "lc", "horizon_hours": 120, "runs": 3, "seed": 2, "scripted": CRASH,
                               "agents": {"treasury_companies": list(companies), **agents}})


def _data(sc):
    return sim.run(sc, record="all").trajectory.data


LEVERED = {"name": "levered", "btc_usd": 2e9, "husd_usd": 2e7, "hyb_usd": 5e6, "debt_usd": 9e8, "covenant_ltv": 0.6}
UNLEVERED = {"name": "cash", "btc_usd": 2e9, "husd_usd": 2e7, "hyb_usd": 5e6, "debt_usd": 0.0}


def test_dat__no_debt__never_force_sells_even_in_a_crash():
    d = _data(_scenario([UNLEVERED, LEVERED]))
    assert (d["dat0_forced_usd"] == 0).all()
    assert d["dat1_forced_usd"][-1].min() > 0  # the levered one breached its covenant
    assert (d["dat1_debt_usd"][-1] < LEVERED["debt_usd"]).all()


def test_dat__below_nav__sells_hyb_first_into_its_pool():
    d = _data(_scenario([UNLEVERED]))
    below = d["dat0_mnav"] < 1
    assert below.any()
    t = np.argmax(below.any(axis=1))  # first step any run trades below NAV
    r = np.argmax(below[t])
    assert d["dat0_hyb"][t + 1, r] < d["dat0_hyb"][0, r]
    assert d["hyb_price"][t + 1, r] < d["hyb_price"][0, r]
    assert d["dat0_buyback_usd"][-1, r] > 0


def test_dat__mnav_follows_sentiment():
    d = _data(_scenario([UNLEVERED]))
    assert d["dat0_mnav"][-1].max() < d["dat0_mnav"][0, 0]  # a 55 % BTC crash sours sentiment


def test_loopers__zero_leverage__no_unwind_no_liquidation():
    d = _data(_scenario(loopers={"initial_ltv": 0.0, "max_ltv": 0.0, "liquidation_ltv": 0.05}))
    assert (d["looper_debt_usd"] == 0).all() and (d["looper_liquidated_usd"] == 0).all()
    assert (d["looper_shares"] == d["looper_shares"][0]).all()


def test_growth__yield_premium__grows_supply_through_deposits():
    sc = sim.parse_scenario({"name": "g", "horizon_hours": 96, "runs": 2, "agents": {
        "growth": {"enabled": True, "base_rate_per_day": 0.01}}})
    d = _data(sc)
    assert (d["deposits_usd"][-1] > 0).all()
    np.testing.assert_allclose(d["minted_husd"] - d["burned_husd"], d["supply"], rtol=1e-12)


def test_growth__negative_rate__institutions_redeem():
    sc = sim.parse_scenario({"name": "g", "horizon_hours": 48, "runs": 2, "agents": {
        "growth": {"enabled": True, "base_rate_per_day": -0.02, "yield_sensitivity_per_day": 0.0}}})
    d = _data(sc)
    assert (d["deposits_usd"][-1] < 0).all() and (d["inst_exited_husd"][-1] > 0).all()


def test_retail__levered_on_btc__sells_more_husd_in_a_crash():
    flat = _data(_scenario(retail={"btc_leverage": 0.0}))
    lev = _data(_scenario(retail={"btc_leverage": 3.0}))
    assert lev["retail_husd"][-1].mean() < flat["retail_husd"][-1].mean()
    assert lev["loss_retail"][-1].mean() > flat["loss_retail"][-1].mean()


def test_accounting__balances_with_companies_and_growth():
    sc = _scenario([UNLEVERED, LEVERED], growth={"enabled": True}, retail={"btc_leverage": 2.0})
    d = _data(sc)
    np.testing.assert_allclose(holder_husd(d), d["supply"], rtol=1e-9)
    m = sim.run(sc).metrics
    assert set(m["losses_by_company_usd"]) == {"dat0", "dat1"}
    assert m["losses_by_class_usd"]["treasury_companies"] == pytest.approx(sum(m["losses_by_company_usd"].values()))


@pytest.mark.slow
def test_engines__agree_with_companies_and_growth():
    sc = _scenario([UNLEVERED, LEVERED], growth={"enabled": True}, retail={"btc_leverage": 2.0}).with_overrides(
        horizon_hours=60, runs=2)
    m = Model.build(sc, sc.runs, sc.seed)
    paths, p, g = m.paths, m.params, m.genesis
    b, c = run_engine("batch", p, g, paths).data, run_engine("cadcad", p, g, paths).data
    for k in b:
        np.testing.assert_allclose(b[k], c[k], rtol=1e-9, atol=1e-9, err_msg=k)
