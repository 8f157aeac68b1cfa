"""Unit: the funding process (latent premium, quiet/hot regimes, venue clamp) and its fit by simulated moments."""
import math

import numpy as np
import pytest

from sim.calibration import funding_fit as FF
from sim.config import FundingProcess, HotFunding, Regime, StochasticMarket
from sim.markets.funding import latent_paths, venue_rate
from sim.markets.generator import generate


def test_venue_rate__binance_clamp():
    """F = P + clamp(I - P, -0.05 %, 0.05 %) with y = P + 0.05 %: as is below I, I in the dead zone, y - width above."""
    I, w = 1e-4, 1e-3
    for P in (-0.002, -0.0006, -0.0004, 0.0, 0.0005, 0.0006, 0.0009, 0.003):
        binance = P + min(max(I - P, -0.0005), 0.0005)
        assert venue_rate(P + 0.0005, I, w) == pytest.approx(binance, abs=1e-15)


def test_latent_paths__without_clamp_or_hot_regime_is_the_plain_ou():
    rng = np.random.default_rng(0)
    steps, R = 500, 4
    z, br, u = rng.standard_normal((steps, R)), rng.normal(0, 1e-5, (steps, R)), rng.random((steps, R))
    st = (rng.random((steps, R)) < 0.3).astype(float)
    out = np.empty((steps + 1, R))
    latent_paths(np.full(R, 1e-4), st, 1e-4, -5e-5, 0.02, 3e-5, 9.0, 0.01, z, br, u, 0.0, 0.5, -0.0075, 0.0075,
                 1e-4, 0.0, out)
    ref = np.empty((steps + 1, R))
    ref[0] = 1e-4
    mean = np.where(st > 0, -5e-5, 1e-4)
    for t in range(steps):
        ref[t + 1] = np.clip(ref[t] + 0.02 * (mean[t] - ref[t]) + 3e-5 * z[t] + br[t], -0.0075, 0.0075)
    np.testing.assert_array_equal(out, ref)


def test_generator__clamped_funding_sits_at_the_interest_rate_and_rarely_below_zero():
    calm = Regime(btc_vol_annual=0.5, btc_jump_rate_per_year=0.0, funding_mean_8h_btc=0.0002)
    fp = FundingProcess(mean_reversion_per_day=1.0, vol_8h_per_sqrt_day=2e-4, price_beta_8h=0.0, clamp_width_8h=1e-3)
    m = StochasticMarket(calm=calm, stress=calm, funding_btc=fp)
    f = generate(m, 1, np.arange(20), 24 * 200, 1.0)["funding_rate_8h_btc"]
    assert 0.5 < (f == 1e-4).mean() < 0.99  # the dead zone holds most hours
    ou = generate(m.model_copy(update={"funding_btc": fp.model_copy(update={"clamp_width_8h": 0.0})}), 1,
                  np.arange(20), 24 * 200, 1.0)["funding_rate_8h_btc"]
    assert (f < 0).mean() < (ou < 0).mean()  # negative funding needs the premium to fall through the zone


def test_generator__hot_regime_raises_funding_for_its_spells():
    calm = Regime(btc_vol_annual=0.5, btc_jump_rate_per_year=0.0, funding_mean_8h_btc=5e-5)
    hot = HotFunding(p_enter_per_hour=1 / (24 * 30), p_exit_per_hour=1 / (24 * 10), level_offset_8h=0.002,
                     vol_8h_per_sqrt_day=1e-4)
    fp = FundingProcess(mean_reversion_per_day=2.0, vol_8h_per_sqrt_day=2e-5, price_beta_8h=0.0, clamp_width_8h=1e-3, hot=hot)
    m = StochasticMarket(calm=calm, stress=calm, funding_btc=fp)
    f = generate(m, 2, np.arange(30), 24 * 365, 1.0)["funding_rate_8h_btc"]
    high = (f > 5e-4).mean()
    assert 0.15 < high < 0.30  # ~ 10 / (30 + 10) of the time, less the hours spent getting there


def test_funding_process__validation():
    with pytest.raises(ValueError, match=r"floor_8h .* must be <= cap_8h"):
        FundingProcess(floor_8h=0.001, cap_8h=0.0)
    with pytest.raises(ValueError):
        FundingProcess(clamp_width_8h=0.5)
    with pytest.raises(ValueError):
        FundingProcess(hot={"p_enter_per_hour": 1.5})


def test_moments__on_a_hand_made_series():
    f = np.array([1e-4, 1e-4, -1e-4, -2e-4, 1e-4, 3e-4, 5e-5, -1e-5])[:, None]
    m = FF.moments(f, np.zeros_like(f))
    assert m["share_at_clamp"][0] == 3 / 8 and m["share_negative"][0] == 3 / 8 and m["share_above_clamp"][0] == 1 / 8
    assert m["negative_spell_days"][0] == 1.5  # runs of 2 and 1
    assert m["clamp_spell_days"][0] == 1.5
    assert FF.spell_mean(np.zeros((5, 1), dtype=bool))[0] == 0.0


def test_nelder_mead__finds_a_quadratic_minimum():
    x, v, _ = FF.nelder_mead(lambda x: float(((x - np.array([1.0, -2.0, 0.5])) ** 2).sum()), np.zeros(3), np.ones(3),
                             max_iter=2000, tol=1e-14)
    np.testing.assert_allclose(x, [1.0, -2.0, 0.5], atol=1e-5)


@pytest.mark.slow
def test_fit_funding_smm__recovers_a_known_process_from_its_own_paths():
    """Daily funding drawn from a known clamped two-regime process (through the real generator) is fitted
    back to within what 8 paths of that length can tell."""
    calm = Regime(btc_vol_annual=0.6, btc_jump_rate_per_year=0.0, funding_mean_8h_btc=7e-5)
    hot = HotFunding(p_enter_per_hour=1 / (24 * 150), p_exit_per_hour=1 / (24 * 40), level_offset_8h=0.0013,
                     vol_8h_per_sqrt_day=3e-4)
    true = FundingProcess(mean_reversion_per_day=0.6, vol_8h_per_sqrt_day=7e-5, price_beta_8h=0.003,
                          clamp_width_8h=1e-3, hot=hot)
    m = StochasticMarket(calm=calm, stress=calm, p_calm_to_stress_per_hour=0.0, funding_btc=true)
    days = 2000
    g = generate(m, 11, np.array([0]), (days + 1) * 24, 1.0)
    close = g["btc_usd"][::24, 0]
    r = np.diff(np.log(close[: days + 1]))
    f = g["funding_rate_8h_btc"][8: 8 + 24 * days, 0].reshape(days, 24)[:, [0, 8, 16]].mean(axis=1)
    fit = FF.fit_funding_smm(f, r, m, 0.5, 0.002, paths=8)
    p = fit.process
    assert p.mean_reversion_per_day == pytest.approx(0.6, rel=0.3)
    assert p.vol_8h_per_sqrt_day == pytest.approx(7e-5, rel=0.3)
    assert p.price_beta_8h == pytest.approx(0.003, rel=0.2)
    assert fit.level_calm_8h == pytest.approx(7e-5, abs=2e-5)
    assert p.hot.level_offset_8h == pytest.approx(0.0013, rel=0.2)
    assert p.hot.vol_8h_per_sqrt_day == pytest.approx(3e-4, rel=0.3)
    assert 1 / p.hot.p_exit_per_hour / 24 == pytest.approx(40, rel=0.5)  # hot spells, days
    assert math.isfinite(fit.objective) and len(fit.rows) == len(FF.PRECISION)
