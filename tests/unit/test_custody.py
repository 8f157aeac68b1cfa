"""Unit and property: custody freezes (sim.model.parts.custody). The frozen share leaves its sleeves
whole into the claim; the claim's mark, the recovery and the booked loss always add up to what was frozen;
the inputs land on the steps the event names."""
import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from sim import parse_scenario
from sim.markets.paths import event_inputs
from sim.model.parts import custody
from sim.model.parts.common import backing
from sim.model.state import HEDGED_ASSETS
from policy_helpers import setup

SLEEVES = custody.FREEZABLE
share = st.floats(0.0, 1.0)
rate = st.floats(0.0, 1.0)


def _x(prices, freeze=None, rate_=-1.0, settle=0.0):
    x = {f"custody_freeze_{k}": (freeze or {}).get(k, 0.0) for k in SLEEVES}
    x.update({f"{a}_usd": prices[a] for a in HEDGED_ASSETS}, custody_claim_rate=rate_, custody_claim_settle_share=settle)
    return x


@st.composite
def books(draw):
    """A book as the accrual block holds it: sleeves of any size (a short may differ from spot after a
    liquidation), a venue that may be down, and the step's prices."""
    money = st.floats(0.0, 1e9)
    o = {"tbill_units": draw(money), "tbill_nav": draw(st.floats(0.9, 1.2)), "buffer_usd": draw(money),
         "tbill_pending_usd": 0.0, "psm_usdc": 0.0, "venue_claim_mark_usd": 0.0, "cum_custody_loss": 0.0,
         "custody_claim_face_usd": 0.0, "custody_claim_mark_usd": 0.0, "custody_claim_recovered_usd": 0.0}
    for a in HEDGED_ASSETS:
        o.update({f"{a}_units": draw(st.floats(0.0, 1e5)), f"{a}_margin_usd": draw(st.floats(0.0, 1e8)),
                  f"{a}_to_venue_usd": 0.0, f"{a}_from_venue_usd": 0.0,
                  f"{a}_venue_down": float(draw(st.booleans()))})
        o[f"{a}_short_units"] = o[f"{a}_units"] * draw(st.floats(0.0, 1.0))
    prices = {"btc": draw(st.floats(1e3, 2e5)), "xau": draw(st.floats(500.0, 5e3))}
    return o, prices


def _value(o, prices):
    return backing({**o, **{f"{a}_usd": p for a, p in prices.items()}})


@given(books(), st.fixed_dictionaries({k: share for k in SLEEVES}), rate, rate)
def test_freeze_then_resolve__frozen_equals_mark_plus_loss__then_recovered_plus_loss(book, shares, expected, recovered):
    o, prices = book
    note(f"{o} {prices} {shares} {expected} {recovered}")
    before = dict(o)
    value0 = _value(o, prices)
    custody.step(o, _x(prices, shares, expected))
    face = o["custody_claim_face_usd"]
    # what left the sleeves is the claim's face, to the dollar: nothing else moved
    assert value0 - (_value(o, prices) - o["custody_claim_mark_usd"]) == pytest.approx(face, rel=1e-12, abs=1e-3)
    assert face == pytest.approx(shares["tbill"] * before["tbill_units"] * before["tbill_nav"]
                                 + shares["buffer"] * before["buffer_usd"]
                                 + sum(shares[a] * before[f"{a}_units"] * prices[a] for a in HEDGED_ASSETS), rel=1e-12)
    # while frozen: mark + loss = frozen at start; the backing fell by the loss
    assert o["custody_claim_mark_usd"] + o["cum_custody_loss"] == pytest.approx(face, rel=1e-12, abs=1e-3)
    assert value0 - _value(o, prices) == pytest.approx(o["cum_custody_loss"], rel=1e-9, abs=1e-3)
    for a in HEDGED_ASSETS:  # spot frozen, its share of the short closed where the venue is up
        closed = 0.0 if before[f"{a}_venue_down"] else shares[a]
        assert o[f"{a}_short_units"] == pytest.approx(before[f"{a}_short_units"] * (1 - closed), rel=1e-12)
        assert o[f"{a}_margin_usd"] == before[f"{a}_margin_usd"]  # margin at the venue is not at the custodian
    frozen_state = dict(o)
    custody.step(o, _x(prices))  # a quiet step in between changes nothing
    assert o == frozen_state
    custody.step(o, _x(prices, rate_=recovered, settle=1.0))  # resolution: re-marked and paid in full
    assert o["custody_claim_face_usd"] == 0.0 and o["custody_claim_mark_usd"] == 0.0
    assert o["custody_claim_recovered_usd"] == pytest.approx(recovered * face, rel=1e-12, abs=1e-6)
    assert o["custody_claim_recovered_usd"] + o["cum_custody_loss"] == pytest.approx(face, rel=1e-12, abs=1e-3)
    assert o["buffer_usd"] - frozen_state["buffer_usd"] == pytest.approx(recovered * face, rel=1e-12, abs=1e-6)
    assert value0 - _value(o, prices) == pytest.approx(o["cum_custody_loss"], rel=1e-9, abs=1e-3)


def test_a_step_with_no_freeze_event__leaves_the_accrual_untouched():
    sc, p, s, x = setup()
    o = {k: s[k] for k in (*custody.VARS, "tbill_units", "buffer_usd", "btc_units", "btc_short_units",
                           "xau_units", "xau_short_units", "btc_venue_down", "xau_venue_down", "tbill_nav")}
    before = dict(o)
    custody.step(o, x)
    assert o == before


def test_event_inputs__freeze_lands_on_its_step__resolves_after_its_duration__news_while_frozen():
    sc = parse_scenario({"name": "f", "horizon_hours": 48, "step_hours": 0.5, "events": [
        {"type": "custody_freeze", "hour": 10, "duration_hours": 6, "share_of_backing": 0.5, "sleeves": ["tbill", "btc"],
         "expected_recovery": 0.6, "recovered_share": 0.9}]})
    hours = np.arange(sc.steps + 1) * sc.step_hours
    ps = event_inputs(sc, hours)
    t0, t1 = 20, 32  # hour 10 and hour 16 at half-hour steps
    assert np.flatnonzero(ps["custody_freeze_tbill"]).tolist() == [t0] and ps["custody_freeze_tbill"][t0] == 0.5
    assert np.flatnonzero(ps["custody_freeze_btc"]).tolist() == [t0]
    assert not ps["custody_freeze_xau"].any() and not ps["custody_freeze_buffer"].any()
    assert ps["custody_claim_rate"][t0] == 0.6 and ps["custody_claim_rate"][t1] == 0.9
    assert np.flatnonzero(ps["custody_claim_rate"] >= 0).tolist() == [t0, t1]
    assert np.flatnonzero(ps["custody_claim_settle_share"]).tolist() == [t1] and ps["custody_claim_settle_share"][t1] == 1.0
    w, im = sc.protocol.weights, sc.protocol.hedge.initial_margin_ratio
    hole = 0.5 * (w.tbill + w.btc / (1 + im)) * (1 - 0.6)
    assert ps["news_loss_share"][(hours >= 10) & (hours < 16)] == pytest.approx(hole)
    assert not ps["news_loss_share"][(hours < 10) | (hours >= 16)].any()
