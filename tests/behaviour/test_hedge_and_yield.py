"""Behaviour: the hedge and the yield under stress. Each test runs the full model and checks a direction
a risk team knows must hold: margin that takes time can lose the hedge, a T-bill sleeve keeps the
staker yield up when funding is bad, unhedged gains are never paid out as yield, a failed venue's
claim is paid over time, a historical shock lands on its date."""
import numpy as np
import pytest

import sim

pytestmark = pytest.mark.slow


def _with(sc: sim.Scenario, **blocks) -> sim.Scenario:
    """`sc` with nested overrides, e.g. protocol={"hedge": {...}}."""
    d = sc.model_dump()

    def merge(a, b):
        for k, v in b.items():
            a[k] = merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
        return a

    return sim.Scenario.model_validate(merge(d, blocks))


@pytest.fixture(scope="module")
def baseline(root):
    return sim.load_scenario(root / "scenarios" / "baseline.yaml")


def test_zero_buffer_book_with_tbill_sleeve__crash_and_rebound__survives_without_an_unhedged_apy(baseline):
    """The I2 story: no buffer, BTC -40 % in 6 h then +25 % from the trough in 3 h. Margin calls are
    funded from instant T-bill redemption (then the reserve); the rebound is too fast for transfers
    that take two hours, so the venue liquidates the short, and BTC spot is unhedged until re-hedged.
    The book stays solvent and the stakers are paid carry, not the rally, under either revenue rule."""
    sc = _with(baseline, horizon_hours=720, protocol={"weights": {"tbill": 0.55, "btc": 0.30, "xau": 0.15, "buffer": 0.0}},
               scripted=[{"variable": "btc_usd", "mode": "multiply", "points": [[200, 1.0], [206, 0.6], [209, 0.75]]}])
    for rule in ("carry", "surplus"):
        r = sim.run(_with(sc, protocol={"revenue": {"distribute": rule}}), runs=8, seed=3)
        m, d = r.metrics, r.trajectory.data
        assert m["insolvency_probability"] == 0.0, rule
        assert m["staker_apy"]["mean"] < 0.30, (rule, m["staker_apy"])
        assert (d["margin_topup_usd"][209] > d["margin_topup_usd"][206]).all()  # margin calls in the rebound
    assert m["hedge_liquidation_probability"] == 1.0  # the rebound outran the transfers
    assert m["min_margin_ratio"]["p50"] < sc.protocol.hedge.maintenance_margin_ratio


def test_venue_outage_through_a_rebound__can_liquidate_the_short(baseline):
    """A +12 % rebound over 6 hours: with margin topped up every hour it never nears maintenance; with
    the venue down for those hours (no top-up, positions still marked) the short is liquidated."""
    sc = _with(baseline, horizon_hours=240, protocol={"hedge": {"transfer_latency_hours": 0.0}},
               market={"stochastic": {"calm": {"btc_vol_annual": 0.2, "btc_jump_rate_per_year": 0.0}}},
               scripted=[{"variable": "btc_usd", "mode": "multiply", "points": [[100, 1.0], [106, 1.12]]}])
    up = sim.run(sc, runs=6, seed=5).metrics
    down = sim.run(_with(sc, events=[{"type": "venue_outage", "hour": 99, "duration_hours": 10, "assets": ["btc"]}]),
                   runs=6, seed=5).metrics
    assert up["hedge_liquidation_probability"] == 0.0
    assert up["min_margin_ratio"]["p5"] > sc.protocol.hedge.maintenance_margin_ratio
    assert down["hedge_liquidation_probability"] == 1.0
    assert down["min_margin_ratio"]["p50"] < sc.protocol.hedge.maintenance_margin_ratio
    assert down["protocol_costs_usd"]["mean"] > up["protocol_costs_usd"]["mean"]  # the penalty


def test_carry_revenue__tbill_sleeve_raises_the_lowest_30_day_staker_apy_against_a_pure_btc_book(root):
    """Same calibrated market and seeds (so the same funding path), a month of funding at -3.3 % APR: the
    pure BTC book's stakers earn nothing for a while; with half the book in T-bills the T-bill yield
    keeps their 30-day yield up (carry is netted across sleeves, stakers never pay in)."""
    sc = sim.load_scenario(root / "scenarios" / "calibrated" / "pure-delta-neutral.yaml")
    sc = _with(sc, horizon_hours=24 * 120, scripted=[
        {"variable": "funding_rate_8h_btc", "mode": "set", "points": [[24 * 40, -0.00003], [24 * 70, -0.00003]]}])
    pure = sim.run(sc, runs=8, seed=2, record="metrics").metrics
    mixed = sim.run(_with(sc, protocol={"weights": {"tbill": 0.5, "btc": 0.35, "xau": 0.0, "buffer": 0.15}}),
                    runs=8, seed=2, record="metrics").metrics
    assert pure["staker_apy_min_30d"]["p50"] == pytest.approx(0.0, abs=1e-9)  # a floor at zero, never below
    assert mixed["staker_apy_min_30d"]["p50"] > pure["staker_apy_min_30d"]["p50"] + 0.01
    assert mixed["staker_apy_min_30d"]["p5"] > 0.0


def test_venue_failure__claim_marked_at_expected_recovery_then_paid_over_time(root):
    sc = sim.load_scenario(root / "scenarios" / "venue-failure.yaml")
    ev = sc.events[0]
    r = sim.run(sc, runs=2, seed=4)
    d = r.trajectory.data
    t0 = int(np.ceil(ev.hour / sc.step_hours))
    t1 = t0 + int(ev.recovery_delay_hours / sc.step_hours)
    face, mark, rec = d["venue_claim_face_usd"][:, 0], d["venue_claim_mark_usd"][:, 0], d["venue_claim_recovered_usd"][:, 0]
    assert face[t0 - 1] == 0 and face[t0] > 0
    assert mark[t0] == pytest.approx(face[t0] * ev.recovery_rate)  # marked at the expected recovery at once
    assert d["cum_venue_loss"][t0, 0] == pytest.approx(face[t0] * (1 - ev.recovery_rate), rel=1e-6)
    assert rec[t1 - 1] == 0.0 and rec[t1] > 0  # nothing paid before the payouts start
    final = ev.final_recovery_rate
    assert d["cum_venue_loss"][t1, 0] == pytest.approx(face[t0] * (1 - final), rel=1e-6)  # booked when known
    end = t1 + int(ev.recovery_payout_hours / sc.step_hours)
    assert rec[-1] == pytest.approx(face[t0] * final if end <= sc.steps else rec[-1])
    assert np.all(np.diff(rec) >= 0) and np.all(np.diff(mark[t1:]) <= 1e-6)


def test_historical_shock_lands_on_its_date(baseline):
    """Replayed from 2020-03-01, Black Thursday's fall is inside March 12 (hours 264-288) and so is the
    hedge's answer: the short's gain that offsets spot lands in those hours."""
    sc = _with(baseline, horizon_hours=24 * 20, scripted=[], events=[],
               market={"source": "historical", "historical": {"start_date": "2020-03-01", "end_date": "2020-03-25"}})
    d = sim.run(sc, runs=1, seed=1, record="all").trajectory.data
    btc = d["btc_usd"][:, 0]
    assert int(np.argmin(btc[24:] / btc[:-24])) == 24 * 11
    spot = np.diff(d["btc_units"][:, 0] * btc)
    assert int(np.argmin(spot)) // 24 == 11  # the worst hour for spot is on March 12
    assert abs(d["net_delta_usd"][24 * 11: 24 * 12, 0]).max() < 0.01 * d["supply"][0, 0]  # and it was hedged
