"""Unit: exogenous market paths — keyed by (seed, run), scripted overlays, events, historical replay."""
import numpy as np

from sim import Scenario, parse_scenario
from sim.markets import build_market
from sim.markets.historical import load_series


def test_paths__same_seed_and_run__same_numbers_whatever_the_batch():
    sc = Scenario(name="m", horizon_hours=100)
    a = build_market(sc, np.arange(6), seed=5)
    b = build_market(sc, np.array([4, 2]), seed=5)
    np.testing.assert_array_equal(a.per_run["btc_usd"][:, 4], b.per_run["btc_usd"][:, 0])
    np.testing.assert_array_equal(a.per_run["funding_rate_8h_btc"][:, 2], b.per_run["funding_rate_8h_btc"][:, 1])
    c = build_market(sc, np.arange(6), seed=6)
    assert not np.array_equal(a.per_run["btc_usd"], c.per_run["btc_usd"])


def test_generator__funding_falls_with_price_and_turns_negative_in_stress():
    sc = Scenario(name="m", horizon_hours=24 * 60, market={"stochastic": {"start_in_stress": True,
                                                                       "p_stress_to_calm_per_hour": 0.0}})
    m = build_market(sc, 200, seed=1)
    r = np.diff(np.log(m.per_run["btc_usd"]), axis=0).ravel()
    df = np.diff(m.per_run["funding_rate_8h_btc"], axis=0).ravel()
    assert np.corrcoef(r, df)[0, 1] > 0.3  # funding moves with price: drops when BTC drops
    assert (m.per_run["funding_rate_8h_btc"][-1] < 0).mean() > 0.5
    assert m.per_run["pool_depth"][-1].max() < 0.6  # LPs pulled liquidity in stress


def test_generator__calm_vol_matches_config():
    sc = Scenario(name="m", horizon_hours=24 * 365, market={"stochastic": {"p_calm_to_stress_per_hour": 0.0, "calm": {
        "btc_vol_annual": 0.4, "btc_jump_rate_per_year": 0.0}}})
    m = build_market(sc, 50, seed=2)
    r = np.diff(np.log(m.per_run["btc_usd"]), axis=0)
    assert abs(r.std() * np.sqrt(8760) - 0.4) < 0.01


def test_scripted__multiply_falls_over_window_and_holds():
    sc = parse_scenario({"name": "s", "horizon_hours": 30, "scripted": [
        {"variable": "btc_usd", "mode": "multiply", "points": [[10, 1.0], [16, 0.85]]}],
        "market": {"stochastic": {"calm": {"btc_vol_annual": 0, "btc_jump_rate_per_year": 0, "btc_drift_annual": 0}}}})
    btc = build_market(sc, 2).per_run["btc_usd"][:, 0]
    assert btc[10] == btc[0]
    np.testing.assert_allclose(btc[13] / btc[0], 0.925)
    np.testing.assert_allclose(btc[16:] / btc[0], 0.85)


def test_scripted__set_overrides_only_inside_window():
    sc = parse_scenario({"name": "s", "horizon_hours": 30, "scripted": [
        {"variable": "funding_rate_8h_btc", "mode": "set", "points": [[5, -0.001], [10, -0.001]]}]})
    f = build_market(sc, 3).per_run["funding_rate_8h_btc"]
    assert (f[5:11] == -0.001).all()
    assert (f[4] != -0.001).all() and (f[11] != -0.001).all()


def test_events__windows_and_bank_run_rate():
    sc = parse_scenario({"name": "e", "horizon_hours": 100, "events": [
        {"type": "oracle_stale", "hour": 10, "duration_hours": 5},
        {"type": "tbill_freeze", "hour": 20, "duration_hours": 10},
        {"type": "venue_failure", "hour": 30, "share_of_hedge": 0.25, "recovery_rate": 0.5},
        {"type": "bank_run", "hour": 40, "duration_hours": 10, "share_of_holdings": 0.5}]})
    ps = build_market(sc, 1).per_step
    assert ps["oracle_stale"][10:15].all() and ps["oracle_stale"].sum() == 5
    assert ps["tbill_frozen"].sum() == 10
    assert ps["venue_failure_share"][30] == 0.25 and ps["venue_failure_share"].sum() == 0.25
    q = ps["run_rate_retail"][40:50]
    np.testing.assert_allclose(np.prod(1 - q), 0.5)


def test_historical__each_value_sits_at_the_instant_it_describes():
    """Hour 0 is 2022-05-01 00:00 UTC: the close dated 04-30 (end of that day); the funding labelled
    05-07 (prints of 05-06) at 05-06 12:00; May's gold average at the middle of May."""
    sc = parse_scenario({"name": "h", "horizon_hours": 24 * 30, "market": {
        "source": "historical", "historical": {"start_date": "2022-05-01", "end_date": "2022-06-30"}}})
    m = build_market(sc, 2)
    btc = load_series("btc_usd")
    assert m.per_run["btc_usd"][0, 0] == btc["2022-04-30"]
    assert m.per_run["btc_usd"][24 * 10, 1] == btc["2022-05-10"]  # 05-11 00:00: the close of 05-10
    assert m.per_run["funding_rate_8h_btc"][24 * 5 + 12, 0] == load_series("funding_rate_8h_btc")["2022-05-07"]
    assert m.per_run["xau_usd"][24 * 15 + 12, 0] == load_series("xau_usd")["2022-05-01"]
    assert m.per_run["stress"].max() == 1.0  # LUNA's May 2022 crash counts as stress
    assert not np.array_equal(m.per_run["flow_noise"][:, 0], m.per_run["flow_noise"][:, 1])


def test_historical__black_thursday_lands_on_2020_03_12():
    """BTC closed at 7,911 on 2020-03-11 and 4,971 on 2020-03-12 (UTC): replayed from 2020-03-01, every
    hour of the fall is inside March 12 (hours 264..288), and the day's funding is most negative then."""
    sc = parse_scenario({"name": "h", "horizon_hours": 24 * 20, "market": {
        "source": "historical", "historical": {"start_date": "2020-03-01", "end_date": "2020-03-25"}}})
    m = build_market(sc, 1)
    btc, f = m.per_run["btc_usd"][:, 0], m.per_run["funding_rate_8h_btc"][:, 0]
    assert btc[24 * 11] == 7911.43 and btc[24 * 12] == 4970.79
    day_change = btc[24:] / btc[:-24]
    assert int(np.argmin(day_change)) == 24 * 11  # the worst 24 hours are exactly March 12
    assert (np.diff(btc)[24 * 11: 24 * 12] < 0).all()
    assert int(np.argmin(f)) == 24 * 11 + 12  # the funding labelled 03-13 holds the prints of 03-12
