"""Behaviour: stress that can break the peg (issue 14). Holders who read the news, orders that persist,
venues, a reserve that buys, calendars. Each test checks a direction a risk team knows must hold,
against the same scenario without the mechanism, never a fixed number."""
import numpy as np
import pytest

import sim
from sim.runner import simulate_runs

pytestmark = pytest.mark.slow

# A quiet market (no regime switches, no jumps) so what moves is what the test scripts.
QUIET = {"stochastic": {"p_calm_to_stress_per_hour": 0.0, "calm": {"btc_jump_rate_per_year": 0.0}}}


def _scenario(**kw):
    base = {"name": "stress", "horizon_hours": 96, "runs": 8, "seed": 21, "market": QUIET}
    for k, v in kw.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return sim.parse_scenario(base)


def _per_run(sc, runs=8):
    pr, _ = simulate_runs(sc, np.arange(runs))
    return pr


def test_btc_crash_with_the_pool_at_par__institutions_still_redeem():
    """A collateral crash is news to holders who price the backing, before any discount shows."""
    crash = _scenario(scripted=[{"variable": "btc_usd", "points": [[24, 1.0], [30, 0.5]]}])
    calm = _scenario()
    r = sim.run(crash, record="all")
    d = r.trajectory.data
    exited = d["inst_exited_husd"][-1] / d["inst_husd"][0]
    assert r.metrics["lowest_price_by_venue"]["uniswap"]["p5"] > 0.99  # arbitrage held the pool near par...
    assert np.median(exited) > 0.005  # ...yet institutions redeemed
    assert np.median(exited) > 5 * np.median(sim.run(calm, record="all").trajectory.data["inst_exited_husd"][-1]
                                              / d["inst_husd"][0] + 1e-9)


def test_announced_loss__uncovered_by_the_reserve__moves_institutions__covered__does_not():
    news = [{"type": "news", "hour": 12, "duration_hours": 48, "announced_loss_share": 0.03}]
    uncovered = _per_run(_scenario(events=news, protocol={"reserve": {"initial_usd": 0}}))
    covered = _per_run(_scenario(events=news, protocol={"reserve": {"initial_usd": 60e6}}))
    assert np.median(uncovered["redeemed_share"]) > 2 * np.median(covered["redeemed_share"]) + 0.01


def test_exits_that_cannot_go_through__queue__and_leave_once_the_caps_reopen():
    """No redemption and no buyer below the institutions' limit: their exits wait in the queue; on
    Monday the caps reopen and the queue drains. The amount that left does not vanish."""
    sc = _scenario(horizon_hours=24 * 7, runs=4,
                   calendar={"cap_schedule": [{"weekdays": [0, 1], "cap_multiplier": 0.0}]},  # no redemptions Mon-Tue
                   events=[{"type": "news", "hour": 2, "duration_hours": 24, "announced_loss_share": 0.1}],
                   protocol={"reserve": {"initial_usd": 0}, "psm": {"enabled": False}})
    d = sim.run(sc, record="all").trajectory.data
    day = int(24 / sc.step_hours)
    assert np.median(d["inst_queue_husd"][day]) > 1e6  # queued on Monday
    assert np.median(d["redeem_cap_used_usd"][: 2 * day].max(axis=0)) == 0.0
    assert (d["inst_queue_husd"][-1] < d["inst_queue_husd"][day]).all()  # drained once redemptions reopened
    assert (d["inst_exited_husd"][-1] > d["inst_queue_husd"][day]).all()


def test_a_thin_order_book__prints_far_below_a_deep_pool():
    book = {"kind": "order_book", "name": "cex", "bid_depth_usd": [[20, 1e6], [100, 3e6], [1000, 6e6], [5000, 8e6]],
            "refill_per_hour": 0.05, "transfer_latency_hours": 6, "flow_share": {"retail": 0.6}}
    sc = _scenario(venues=[book], events=[{"type": "bank_run", "hour": 12, "duration_hours": 12,
                                           "share_of_holdings": 0.2, "classes": ["retail"]}],
                   agents={"arbitrageurs": {"cross_venue_capital_usd": 2e6}})
    m = sim.run(sc).metrics
    low = m["lowest_price_by_venue"]
    assert low["cex"]["p50"] < low["uniswap"]["p50"] - 0.02
    assert m["max_depeg_bps_by_venue"]["cex"]["p50"] > 200


def test_a_reserve_that_buys_below_its_trigger__makes_a_liquidity_depeg_shallower():
    """No redemption access (caps 0, no PSM): retail dumps into the pool. A reserve that buys below 0.995
    spends its budget and the depeg is shallower than with the same reserve idle."""
    dump = dict(events=[{"type": "bank_run", "hour": 6, "duration_hours": 12, "share_of_holdings": 0.3,
                         "classes": ["retail"]}],
                agents={"arbitrageurs": {"patient_capital_usd": 0}})
    shut = {"caps": {"redeem_cap_usd_per_hour": 0}, "psm": {"enabled": False}, "reserve": {"initial_usd": 100e6}}
    idle = _per_run(_scenario(protocol=shut, **dump))
    buying = _per_run(_scenario(protocol={**shut, "reserve": {"initial_usd": 100e6, "buy": {
        "enabled": True, "trigger_price": 0.995, "budget_usd_per_hour": 10e6}}}, **dump))
    assert np.median(idle["max_depeg_bps"]) > 100
    assert np.median(buying["max_depeg_bps"]) < np.median(idle["max_depeg_bps"])
    assert np.median(buying["reserve_bought_husd"]) > 0


def test_lps_pull_liquidity_when_alarmed__and_bring_it_back_slowly():
    sc = _scenario(horizon_hours=240, events=[{"type": "news", "hour": 12, "duration_hours": 24,
                                               "announced_loss_share": 0.05}],
                   protocol={"reserve": {"initial_usd": 0}})
    d = sim.run(sc, record="all").trajectory.data
    pull = np.median(d["lp_pull_uniswap"], axis=1)
    assert pull[:12].max() < 0.01 and pull[24:40].max() > 0.3
    assert pull[-1] < pull[24:40].max()  # back, slowly, after the news


def test_bank_hours__a_t_bill_fund_that_keeps_them_cannot_pay_redemptions_at_the_weekend():
    weekend = {"start": "2025-01-04T00:00:00", "tbill_redemption": "bank_hours"}  # a Saturday
    sc = _scenario(horizon_hours=36, calendar=weekend,
                   protocol={"weights": {"tbill": 0.8, "btc": 0.1, "xau": 0.05, "buffer": 0.05}})
    d = sim.run(sc, record="all").trajectory.data
    assert (d["bank_open"][1:] == 0).all() and d["tbill_instant_used_usd"].max() == 0.0  # row 0 is genesis
    always = sim.run(_scenario(horizon_hours=36, protocol={"weights": {"tbill": 0.8, "btc": 0.1, "xau": 0.05,
                                                                        "buffer": 0.05}}), record="all").trajectory.data
    assert always["tbill_instant_used_usd"].max() > 0  # the same book redeems T-bills when the fund is always open


@pytest.mark.parametrize("fine_step_hours", [0.25, 1 / 12], ids=["15min", "5min"])
def test_orders_persist__the_same_scenario_at_1_hour_and_finer_steps__gives_the_same_distributions(root, fine_step_hours):
    """Tolerances fixed before running: p50 of the largest 24-hour redemption within 25 % (floor 0.1 % of
    supply) and of the deepest discount within 25 % (floor 10 bps), over 60 runs of 10 days of bank-run.
    (Measured: 0.2043 at 1 h, 0.2038 at 15 min, 0.1961 at 5 min; the discount is at the pool's edge,
    2,000 bps, at every step size.)"""
    sc = sim.load_scenario(root / "scenarios" / "bank-run.yaml").with_overrides(horizon_hours=240, seed=2)
    coarse = _per_run(sc, 60)
    fine = _per_run(sc.with_overrides(step_hours=fine_step_hours), 60)
    for key, floor in (("redeemed_24h_max_share", 0.001), ("max_depeg_bps", 10.0)):
        a, b = np.median(coarse[key]), np.median(fine[key])
        assert abs(b - a) <= max(0.25 * abs(a), floor), (key, a, b)


def test_a_fine_window_around_the_run__gives_what_fine_steps_everywhere_give__at_a_fraction_of_the_steps(root):
    """Tolerance fixed before running: p50 of the largest 24-hour redemption within 10 % (floor 0.1 % of
    supply) of the run at 5-minute steps everywhere, over 60 runs of 10 days of bank-run (the run starts at
    hour 48; the window covers hours 36-120 at 5 minutes, the rest steps hourly)."""
    sc = sim.load_scenario(root / "scenarios" / "bank-run.yaml").with_overrides(horizon_hours=240, seed=2)
    window = sc.with_overrides(fine_steps=[{"start_hour": 36, "end_hour": 120, "step_hours": 1 / 12}])
    fine = _per_run(sc.with_overrides(step_hours=1 / 12), 60)
    windowed = _per_run(window, 60)
    a, b = np.median(fine["redeemed_24h_max_share"]), np.median(windowed["redeemed_24h_max_share"])
    assert abs(b - a) <= max(0.10 * abs(a), 0.001), (a, b)
