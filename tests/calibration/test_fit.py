"""The estimators recover known parameters from synthetic data, and the shipped fit is well formed."""
import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration import fit
from sim.config import FundingProcess, Regime, StochasticMarket


def markov_chain(T, p_up, p_down, rng):
    s = np.zeros(T, dtype=int)
    u = rng.random(T)
    for t in range(1, T):
        s[t] = (u[t] < p_up) if s[t - 1] == 0 else (u[t] >= p_down)
    return s


def test_hmm__recovers_two_regimes_from_synthetic_returns():
    rng = np.random.default_rng(5)
    s = markov_chain(6000, 0.03, 0.10, rng)
    x = np.where(s == 1, rng.normal(-0.002, 0.045, len(s)), rng.normal(0.001, 0.015, len(s)))
    h = fit.fit_hmm2(x)
    assert h.converged
    assert h.sd[0] == pytest.approx(0.015, rel=0.08) and h.sd[1] == pytest.approx(0.045, rel=0.08)
    assert h.trans[0, 1] == pytest.approx(0.03, rel=0.3) and h.trans[1, 0] == pytest.approx(0.10, rel=0.3)
    # the smoothed states label most days right
    assert ((h.posterior[:, 1] > 0.5) == (s == 1)).mean() > 0.9


def test_hourly_switching__24th_power_is_the_daily_matrix():
    A = np.array([[0.9, 0.1], [0.2, 0.8]])
    up, down = fit.hourly_switching(A)
    H = np.array([[1 - up, up], [down, 1 - down]])
    np.testing.assert_allclose(np.linalg.matrix_power(H, 24), A, atol=1e-12)


def test_jumps__threshold_estimator_recovers_rate_size_and_diffusion():
    rng = np.random.default_rng(1)
    n = 40_000
    r = rng.normal(0.001, 0.02, n)
    jumps = rng.random(n) < 0.01
    r[jumps] += rng.normal(-0.15, 0.05, jumps.sum())
    j = fit.fit_jumps(r)
    assert j.diffusion_sd_daily == pytest.approx(0.02, rel=0.03)
    assert j.jump_rate_per_year == pytest.approx(0.01 * 365, rel=0.15)
    assert j.jump_mean == pytest.approx(-0.15, abs=0.01)
    assert j.jump_std == pytest.approx(0.05, rel=0.5)  # the loosest figure of a threshold estimator


def test_truncated_sd_factor():
    z = np.random.default_rng(0).standard_normal(2_000_000)
    assert fit._truncated_sd_factor(3.0) == pytest.approx(z[np.abs(z) <= 3].std(), rel=2e-3)


def test_funding__daily_ar1_maps_back_to_the_hourly_generator_parameters():
    """Simulate the real generator's hourly OU funding, sample it as the data are sampled (mean of the
    three 8 h prints of the day, aligned with the day's return), fit, and get the hourly parameters back."""
    from sim.markets.generator import generate

    calm = Regime(btc_vol_annual=0.6, btc_jump_rate_per_year=0.0, btc_drift_annual=0.0, funding_mean_8h_btc=0.0001)
    true = FundingProcess(mean_reversion_per_day=0.3, vol_8h_per_sqrt_day=0.0001, price_beta_8h=0.002)
    m = StochasticMarket(calm=calm, stress=calm, p_calm_to_stress_per_hour=0.0, funding_btc=true)
    days, runs = 1500, 6  # runs are concatenated: 5 wrong lag pairs in 9000 do not matter
    g = generate(m, 3, np.arange(runs), days * 24 + 24, 1.0)
    close = g["btc_usd"][::24]
    r = np.diff(np.log(close), axis=0)[:days].T.ravel()
    f = g["funding_rate_8h_btc"][8: 8 + 24 * days].reshape(days, 24, runs)[:, [0, 8, 16]].mean(axis=1).T.ravel()
    ff = fit.fit_funding(f, r, np.zeros(days * runs))
    # the daily mean of prints is not a point sample: a few % of bias is the documented approximation
    assert ff.process.mean_reversion_per_day == pytest.approx(0.3, rel=0.15)
    assert ff.process.vol_8h_per_sqrt_day == pytest.approx(0.0001, rel=0.15)
    assert ff.process.price_beta_8h == pytest.approx(0.002, rel=0.15)
    assert ff.mean_8h["calm"] == pytest.approx(0.0001, abs=2e-5)


def test_vasicek__recovers_mean_reversion_and_vol():
    rng = np.random.default_rng(2)
    kappa, theta, vol, dt = 2.0, 0.03, 0.01, 1 / 252
    phi = math.exp(-kappa * dt)
    sd = vol * math.sqrt((1 - phi**2) / (2 * kappa))
    y = [0.03]
    for _ in range(20_000):
        y.append(theta + phi * (y[-1] - theta) + sd * rng.standard_normal())
    v = fit.fit_vasicek(np.array(y))
    assert not v["long_run_fixed_at_sample_mean"]
    assert v["kappa_per_year"] == pytest.approx(kappa, rel=0.2)
    assert v["long_run"] == pytest.approx(theta, abs=0.002)
    assert v["vol_per_sqrt_year"] == pytest.approx(vol, rel=0.05)


def test_vasicek__unit_root_sample_fixes_the_long_run_level_at_the_sample_mean():
    y = np.cumsum(np.random.default_rng(3).normal(0, 0.0005, 3000)) + 0.02 + np.linspace(0, 0.03, 3000)
    v = fit.fit_vasicek(y)
    assert y.min() <= v["long_run"] <= y.max()


def test_discount_to_bey():
    assert fit.discount_to_bey(np.array([0.0]))[0] == 0.0
    assert fit.discount_to_bey(np.array([4.0]))[0] == pytest.approx(365 * 0.04 / (360 - 91 * 0.04))


@pytest.fixture(scope="module")
def shipped():
    return fit.calibrate()


def test_calibrate__shipped_data_gives_a_valid_market_block_with_its_sample(shipped):
    m = shipped.market
    StochasticMarket.model_validate(m.model_dump())
    assert m.stress.btc_vol_annual > m.calm.btc_vol_annual
    assert 0 < m.p_calm_to_stress_per_hour < 0.05 and 0 < m.p_stress_to_calm_per_hour < 0.05
    assert m.btc_usd_start == pytest.approx(69069.98, rel=1e-5)  # last shipped close
    s = shipped.report["sample"]
    assert s["btc_usd"]["from"] == "2015-01-01" and s["btc_usd"]["days"] == 4062
    assert s["funding_rate_8h_btc"]["days"] > 2300
    # funding mean level near the data's ~12 % APR, positive price beta (crashes push funding down)
    lvl = m.calm.funding_mean_8h_btc * 1095
    assert 0.05 < lvl < 0.20 and m.funding_btc.price_beta_8h > 0


def test_calibrate__date_window_is_respected_and_too_short_is_refused():
    c = fit.calibrate("2021-01-01", "2022-12-31")
    assert c.report["sample"]["btc_usd"]["from"] == "2021-01-01"
    assert c.report["sample"]["btc_usd"]["to"] == "2022-12-31"
    with pytest.raises(ValueError, match="need at least 60"):
        fit.calibrate("2022-01-01", "2022-01-20")


def test_market_yaml__is_includable_and_round_trips(shipped, tmp_path):
    from sim.config import load_scenario

    (tmp_path / "m.yaml").write_text(fit.market_yaml(shipped))
    (tmp_path / "s.yaml").write_text("name: s\ninclude: [m.yaml]\nhorizon_hours: 24\n")
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.market.stochastic == shipped.market


@pytest.mark.slow
def test_calibrate__synthetic_series_recover_the_regime_vols():
    """Fit data drawn from a known market (through the same generator): vols come back."""
    from sim.markets.generator import generate

    calm = Regime(btc_vol_annual=0.4, btc_jump_rate_per_year=0.0)
    stress = Regime(btc_vol_annual=1.2, btc_jump_rate_per_year=0.0)
    m = StochasticMarket(calm=calm, stress=stress, p_calm_to_stress_per_hour=1 / (24 * 40),
                         p_stress_to_calm_per_hour=1 / (24 * 15))
    days = 3000
    g = generate(m, 9, np.array([0]), days * 24, 1.0)
    idx = pd.date_range("2010-01-01", periods=days + 1, freq="D")
    series = {"btc_usd": pd.Series(g["btc_usd"][::24, 0], index=idx),
              "funding_rate_8h_btc": pd.Series(g["funding_rate_8h_btc"][::24, 0], index=idx),
              "xau_usd": pd.Series(g["xau_usd"][::24, 0], index=idx).resample("MS").mean(),
              "tbill_yield_pct": pd.Series(g["tbill_yield"][::24, 0] * 100, index=idx)}
    c = fit.calibrate(series=series)
    assert c.market.calm.btc_vol_annual == pytest.approx(0.4, rel=0.15)
    assert c.market.stress.btc_vol_annual == pytest.approx(1.2, rel=0.2)
