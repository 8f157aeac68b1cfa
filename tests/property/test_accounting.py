"""Property: the accounting balances on any valid scenario, whatever the market does.

Hypothesis builds valid scenarios (weights summing to 1, shares within supply, crashes and spikes,
runs on the pool, venue failures, custody freezes) and runs them on the batched engine. Invariants, at every step
and in every run:
- value ledger: backing + reserve = genesis value + every recorded inflow - every outflow;
- supply = minted - burned = sum of holder balances (institutional, retail, vault, float, companies);
- no negative balances;
- the pool price stays inside the liquidity the positions provide.
"""
import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

from sim import parse_scenario
from sim.engines import run_engine
from sim.model import Model
from sim.model.parts.common import backing, holder_husd

BALANCES = ("supply", "inst_husd", "retail_husd", "vault_husd", "vault_shares", "float_husd", "buffer_usd", "psm_usdc",
            "reserve_fund_usd", "tbill_units", "tbill_pending_usd", "btc_units", "btc_short_units", "xau_units",
            "xau_short_units", "looper_shares", "looper_debt_usd", "staker_shares", "hyb_sqrt_price", "psm_minted")


@st.composite
def companies(draw):
    # HUSD holdings stay small: the default holder classes already hold 90 % of a $1B supply
    holdings = {"btc_usd": draw(st.floats(0, 2e9)), "husd_usd": draw(st.floats(0, 3e7)), "hyb_usd": draw(st.floats(0, 2e7))}
    total = sum(holdings.values())
    return {"name": "co", **holdings, "debt_usd": draw(st.floats(0, 0.9)) * total,
            "mnav_start": draw(st.floats(0.5, 3)), "covenant_ltv": draw(st.floats(0.2, 0.8)),
            "maturity_hours": draw(st.one_of(st.none(), st.integers(0, 48)))}


@st.composite
def scenarios(draw):
    # weights: three cut points on [0, 1] give four shares that sum to 1 exactly
    cuts = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3)))
    w = dict(zip(("tbill", "btc", "xau", "buffer"), np.diff([0.0, *cuts, 1.0]).tolist()))
    w["buffer"] = max(1.0 - w["tbill"] - w["btc"] - w["xau"], 0.0)  # absorb float rounding
    crash = draw(st.floats(0.3, 1.6))  # BTC multiplier over 6 hours: crashes and spikes
    events = []
    if draw(st.booleans()):
        events.append({"type": "venue_failure", "hour": draw(st.integers(1, 40)),
                       "share_of_hedge": draw(st.floats(0, 1)), "recovery_rate": draw(st.floats(0, 1))})
    if draw(st.booleans()):
        events.append({"type": "bank_run", "hour": draw(st.integers(0, 30)), "duration_hours": draw(st.integers(1, 24)),
                       "share_of_holdings": draw(st.floats(0, 0.9))})
    if draw(st.booleans()):
        events.append({"type": "tbill_freeze", "hour": 0, "duration_hours": 48})
    if draw(st.booleans()):
        events.append({"type": "custody_freeze", "hour": draw(st.integers(0, 40)), "duration_hours": draw(st.integers(1, 60)),
                       "share_of_backing": draw(st.floats(0, 1)),
                       "sleeves": draw(st.lists(st.sampled_from(["tbill", "btc", "xau", "buffer"]), min_size=1, max_size=4)),
                       "expected_recovery": draw(st.floats(0, 1)), "recovered_share": draw(st.floats(0, 1))})
    if draw(st.booleans()):
        events.append({"type": "oracle_stale", "hour": draw(st.integers(0, 40)), "duration_hours": 5})
    return parse_scenario({
        "name": "prop", "horizon_hours": 48, "runs": 3, "seed": draw(st.integers(0, 2**31)),
        "market": {"stochastic": {"start_in_stress": draw(st.booleans())}},
        "scripted": [{"variable": "btc_usd", "points": [[10, 1.0], [16, crash]]},
                     {"variable": "funding_rate_8h_btc", "mode": "set",
                      "points": [[16, draw(st.floats(-0.003, 0.003))], [40, 0.0]]}],
        "events": events,
        "protocol": {
            "weights": w,
            "fees": {"mint_fee_bps": draw(st.floats(0, 50)), "redeem_fee_bps": draw(st.floats(0, 50))},
            "caps": {"redeem_cap_usd_per_hour": draw(st.floats(0, 100e6)), "mint_cap_usd_per_hour": draw(st.floats(0, 100e6))},
            "reserve": {"initial_usd": draw(st.floats(0, 100e6))},
            "psm": {"enabled": draw(st.booleans()), "ceiling_usd": draw(st.floats(0, 100e6))},
            "backstop": {"enabled": draw(st.booleans())},
        },
        "agents": {"retail": {"noise_flow_usd_per_hour": draw(st.floats(0, 20e6)),
                              "btc_leverage": draw(st.floats(0, 5))},
                   "loopers": {"lever_speed_per_hour": draw(st.floats(0, 0.2))},
                   "growth": {"enabled": draw(st.booleans()), "base_rate_per_day": draw(st.floats(-0.02, 0.02))},
                   "treasury_companies": draw(st.lists(companies(), max_size=2))},
    })


def _run(sc):
    m = Model.build(sc, sc.runs, sc.seed)
    paths, p, g = m.paths, m.params, m.genesis
    return p, g, run_engine("batch", p, g, paths).data


@given(scenarios())
def test_accounting_invariants_hold_at_every_step(sc):
    note(sc.model_dump_json())
    p, g, d = _run(sc)
    value = backing(d) + d["reserve_fund_usd"]
    flows = (g["backing_usd"] + g["reserve_fund_usd"] + d["cum_collateral_in"] - d["cum_collateral_out"] + d["cum_yield"]
             + d["cum_funding"] + d["cum_basis"] + d["cum_hedge_pnl"] + d["cum_spot_pnl"] - d["cum_costs"]
             - d["cum_venue_loss"] - d["cum_custody_loss"] + d["cum_backstop_in"])
    # Rounding grows with the gross flows, not with what is left: a book drained from $1B to $121 carries
    # ~1e-7 of cancellation error, so the tolerance is also absolute, a billionth of the genesis supply.
    scale = g["supply"] * 1e-9
    np.testing.assert_allclose(value, flows, rtol=1e-9, atol=scale, err_msg="value ledger")
    np.testing.assert_allclose(d["supply"], d["minted_husd"] - d["burned_husd"], rtol=1e-9, atol=scale,
                               err_msg="minted - burned")
    np.testing.assert_allclose(holder_husd(d), d["supply"], rtol=1e-9, atol=scale, err_msg="sum of balances")
    companies = [k for k in d if k.startswith("dat") and k.split("_", 1)[1] in ("btc_units", "husd", "hyb", "debt_usd")]
    for k in (*BALANCES, *companies):
        assert d[k].min() >= -scale, f"{k} went negative: {d[k].min()}"
    lo, hi = p["curve"].bounds[0] ** 2, p["curve"].bounds[-1] ** 2
    assert d["peg_price"].min() >= lo - 1e-12 and d["peg_price"].max() <= hi + 1e-12
