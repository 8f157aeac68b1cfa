"""Behaviour: a custodian freezes part of the backing (issue 14). Holders see the hole (news at once, the
proof of reserves at its next publication) and run; a reserve that buys below its trigger makes the
depeg shallower; nothing leaves the frozen part while frozen; the loss is booked when the freeze resolves
and goes through the loss waterfall. Directions against the same scenario without the mechanism."""
import numpy as np
import pytest

import sim
from sim.runner import simulate_runs

pytestmark = pytest.mark.slow

QUIET = {"stochastic": {"p_calm_to_stress_per_hour": 0.0, "calm": {"btc_jump_rate_per_year": 0.0}}}
HOUR, DURATION = 12, 72
# 20 % of every sleeve frozen, carried at half: a visible hole of ~10 % of the backing (the crypto sleeves'
# margin at the venues is not at the custodian)
HOLE = {"type": "custody_freeze", "hour": HOUR, "duration_hours": DURATION, "share_of_backing": 0.2,
        "expected_recovery": 0.5, "recovered_share": 0.5}


def _scenario(events, **kw):
    return sim.parse_scenario({"name": "freeze", "horizon_hours": 120, "runs": 8, "seed": 21, "market": QUIET,
                               "events": events, **kw})


def _per_run(sc):
    pr, _ = simulate_runs(sc, np.arange(sc.runs))
    return pr


def test_freeze__visible_10_pct_hole__no_reserve__depegs_the_reference_pool_beyond_100_bps():
    sc = _scenario([HOLE], protocol={"reserve": {"initial_usd": 0}})
    d = sim.run(sc, record="all").trajectory.data
    t = HOUR + 24  # a proof of reserves has been published since the freeze
    assert np.median(1 - d["published_backing_ratio"][t]) > 0.08  # holders can see the hole
    pr = _per_run(sc)
    calm = _per_run(_scenario([], protocol={"reserve": {"initial_usd": 0}}))
    assert np.median(pr["max_depeg_bps"]) > 100
    assert np.median(calm["max_depeg_bps"]) < 50  # the same market without the freeze holds the band


def test_freeze__a_reserve_buying_below_0_995__depegs_less():
    none = _per_run(_scenario([HOLE], protocol={"reserve": {"initial_usd": 0}}))
    idle = _per_run(_scenario([HOLE], protocol={"reserve": {"initial_usd": 100e6}}))
    buying = _per_run(_scenario([HOLE], protocol={"reserve": {"initial_usd": 100e6, "buy": {
        "enabled": True, "trigger_price": 0.995, "budget_usd_per_hour": 10e6}}}))
    assert np.median(buying["max_depeg_bps"]) < np.median(none["max_depeg_bps"])
    assert np.median(buying["max_depeg_bps"]) <= np.median(idle["max_depeg_bps"])
    assert np.median(buying["reserve_bought_husd"]) > 0


def test_freeze__nothing_leaves_the_frozen_part__while_holders_run_on_the_rest():
    """All of the T-bill sleeve frozen while holders run: redemptions drain the buffer and the crypto
    sleeves, yet the claim keeps its face and pays nothing until the freeze ends."""
    ev = {**HOLE, "sleeves": ["tbill"], "share_of_backing": 1.0, "expected_recovery": 0.9, "recovered_share": 1.0}
    run = {"type": "bank_run", "hour": HOUR + 1, "duration_hours": 24, "share_of_holdings": 0.3}
    sc = _scenario([ev, run], protocol={"reserve": {"initial_usd": 0}})
    d = sim.run(sc, record="all").trajectory.data
    t0, t1 = HOUR, HOUR + DURATION  # hourly steps: the freeze's and the resolution's
    face = d["custody_claim_face_usd"]
    assert (face[t0] > 0.3e9).all()  # the T-bill sleeve, ~40 % of a $1B book
    assert (face[t0:t1] == face[t0]).all()  # nothing left it, not to redeem, not to rebalance
    assert (d["custody_claim_recovered_usd"][:t1] == 0).all()
    assert (d["redeemed_usd"][t1 - 1] - d["redeemed_usd"][t0] > 0.1e9).all()  # a run the rest paid for
    assert (face[t1] == 0).all() and (d["custody_claim_recovered_usd"][t1] == pytest.approx(face[t0], rel=1e-12))


def test_freeze__loss_booked_at_resolution__through_the_reserve():
    """Marked at 90 %, resolved at 50 %: 10 % of the face is written down at the freeze, the rest when it
    resolves; the reserve pays the deficit that appears then."""
    ev = {**HOLE, "expected_recovery": 0.9, "recovered_share": 0.5}
    sc = _scenario([ev], protocol={"reserve": {"initial_usd": 200e6, "max_draw_usd_per_hour": 50e6}})
    d = sim.run(sc, record="all").trajectory.data
    t0, t1 = HOUR, HOUR + DURATION
    face = d["custody_claim_face_usd"][t0]
    loss = d["cum_custody_loss"]
    np.testing.assert_allclose(loss[t0], 0.1 * face, rtol=1e-9)
    np.testing.assert_allclose(loss[t1 - 1], 0.1 * face, rtol=1e-9)  # nothing more while frozen
    np.testing.assert_allclose(loss[t1], 0.5 * face, rtol=1e-9)  # the rest when known
    np.testing.assert_allclose(d["custody_claim_recovered_usd"][t1] + loss[t1], face, rtol=1e-9)
    drawn = d["reserve_drawn_usd"]
    assert (drawn[t1 + 6] - drawn[t1 - 1] > 0.3 * face).all()  # the waterfall's first layer pays for it
