"""Unit: ProtocolSpec, the one mapping from a scenario to the contracts' parameters (no chain)."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.chain.spec import CHOICES, UNBOUNDED_USD, ProtocolSpec, SpecError
from sim.config import load_scenario
from sim.model.params import hyb_liquidity, make_params
from sim.runner import resolve_scenario


def _sc(name="baseline", **protocol):
    sc = load_scenario(resolve_scenario(name))
    data = sc.model_dump(mode="python")
    for path, value in protocol.items():
        block, key = path.split("__")
        data["protocol"][block][key] = value
    return sc.model_validate(data)


def test_from_scenario__caps_fees_psm_reserve__carry_the_scenario_values():
    sc = _sc(caps__redeem_cap_usd_per_hour=7e6, caps__mint_cap_usd_per_hour=3e6, fees__mint_fee_bps=4,
             fees__redeem_fee_bps=9, psm__fee_bps=2, psm__ceiling_usd=80e6, reserve__max_draw_usd_per_hour=2e6,
             revenue__distribution_interval_hours=6.0)
    spec = ProtocolSpec.from_scenario(sc)
    m = spec.minter
    assert (m.redeem_cap_usd_per_hour, m.mint_cap_usd_per_hour) == (7e6, 3e6)
    assert (m.mint_fee_bps, m.redeem_fee_bps) == (4, 9)
    assert (spec.psm.fee_in_bps, spec.psm.fee_out_bps, spec.psm.ceiling_usd) == (2, 2, 80e6)
    assert spec.reserve.max_payout_usd_per_day == 2e6 * 24  # a stated choice: per-hour x 24
    assert spec.staking.vesting_period_s == 6 * 3600  # each batch vests before the next
    # the same figures the model runs on
    p = make_params(sc)
    assert p["redeem_cap_per_hour"] == m.redeem_cap_usd_per_hour and p["mint_cap_per_hour"] == m.mint_cap_usd_per_hour
    assert p["mint_fee"] * 1e4 == m.mint_fee_bps and p["psm_fee"] * 1e4 == spec.psm.fee_in_bps


@pytest.mark.parametrize("step_hours, share", [(1.0, 1.0), (0.25, 0.25), (0.5, 0.5), (2.0, 1.0), (4.0, 1.0)])
def test_from_scenario__per_block_cap__is_one_chain_hour_of_a_step_at_most(step_hours, share):
    """A replay sends at most min(step_hours, 1) hours of the Minter's flow in one block."""
    sc = _sc(caps__redeem_cap_usd_per_hour=8e6, caps__mint_cap_usd_per_hour=6e6).with_overrides(step_hours=step_hours)
    m = ProtocolSpec.from_scenario(sc).minter
    assert m.redeem_cap_usd_per_block == pytest.approx(8e6 * share) and m.redeem_cap_usd_per_hour == 8e6
    assert m.mint_cap_usd_per_block == pytest.approx(6e6 * share) and m.mint_cap_usd_per_hour == 6e6
    # the model's per-step cap never exceeds what the chain lets through in the step's blocks
    model_step = make_params(sc)["redeem_cap_per_hour"] * step_hours  # a step of dt hours gets dt x the hourly cap
    blocks = max(1, round(step_hours))
    assert model_step <= m.redeem_cap_usd_per_block * blocks * (1 + 1e-12)


def test_from_scenario__pool_fees_hyb_and_backstop__follow_the_model():
    sc = load_scenario(resolve_scenario("leverage-cycle"))
    spec = ProtocolSpec.from_scenario(sc, prices={"WBTC": 80_000.0})
    assert spec.pools["HUSD/USDC"].fee_pips == round(sc.pool.fee_fraction * 1e6)
    assert spec.pools["HYB/USDC"].fee_pips == round(sc.pool.hyb_fee_fraction * 1e6)
    assert spec.hyb.price_usd == sc.pool.hyb_price_start
    _L, sa, _sb = hyb_liquidity(sc.pool.hyb_pool_usd, sc.pool.hyb_price_start)
    assert spec.backstop.floor_price_usd == pytest.approx(sa**2)  # the model's HYB position's lower bound
    assert spec.feeds["WBTC"].price_usd == 80_000.0 and spec.feeds["PAXG"].price_usd == sc.market.stochastic.xau_usd_start
    assert spec.hedge.drift_buffer_usd == UNBOUNDED_USD  # the model has no drift bound: the chain's never binds


def test_from_scenario__psm_disabled__is_a_zero_ceiling():
    assert ProtocolSpec.from_scenario(_sc(psm__enabled=False)).psm.ceiling_usd == 0.0


@pytest.mark.parametrize("override, field", [
    ({"fees__mint_fee_bps": 2.5}, "protocol.fees.mint_fee_bps"),
    ({"psm__fee_bps": 150}, "protocol.psm.fee_bps"),  # above the PSM's MAX_FEE_BPS (100)
])
def test_from_scenario__what_the_contracts_cannot_take__names_the_field(override, field):
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        ProtocolSpec.from_scenario(_sc(**override))


def test_from_scenario__pool_fee_not_a_uniswap_tier__names_the_field():
    sc = load_scenario(resolve_scenario("baseline"))
    sc = sc.model_validate({**sc.model_dump(mode="python"), "pool": {**sc.pool.model_dump(), "fee_fraction": 0.0002}})
    with pytest.raises(SpecError, match=r"pool\.fee_fraction: 0\.0002 is not a Uniswap v3 fee tier"):
        ProtocolSpec.from_scenario(sc)


def test_with_overrides__nested_blocks_merge__unknown_keys_name_their_path():
    spec = ProtocolSpec.defaults().with_overrides({"minter": {"mint_fee_bps": 3}, "pools": {"HUSD/USDC": {"husd": 5e5}}})
    assert spec.minter.mint_fee_bps == 3 and spec.minter.redeem_fee_bps == 10  # the rest keeps its defaults
    assert spec.pools["HUSD/USDC"].husd == 5e5 and spec.pools["HUSD/USDC"].fee_pips == 100
    with pytest.raises(SpecError, match=r"params\.minter\.max_mint_per_block_usd: unknown key"):
        ProtocolSpec.defaults().with_overrides({"minter": {"max_mint_per_block_usd": 1}})
    with pytest.raises(SpecError, match=r"f\.json\.nope: unknown key"):
        ProtocolSpec.defaults().with_overrides({"nope": 1}, where="f.json")


def test_for_genesis__no_fees_no_caps__everything_else_kept():
    spec = ProtocolSpec.from_scenario(_sc())
    g = spec.for_genesis()
    assert g.minter.mint_fee_bps == g.minter.redeem_fee_bps == g.psm.fee_in_bps == g.psm.fee_out_bps == 0
    assert g.minter.redeem_cap_usd_per_block == UNBOUNDED_USD and g.psm.ceiling_usd == spec.psm.ceiling_usd
    assert g.reserve == spec.reserve and g.pools == spec.pools


def test_choices__every_non_identity_mapping_is_stated():
    assert {"minter.*_cap_usd_per_block", "reserve.max_payout_usd_per_day", "staking.vesting_period_s"} <= set(CHOICES)


@settings(max_examples=60, deadline=None)
@given(cap=st.floats(0, 1e12), fee=st.integers(0, 100), ceiling=st.floats(0, 1e12), step=st.sampled_from([0.25, 0.5, 1.0, 2.0]))
def test_to_dict__json_round_trip__gives_the_same_spec(cap, fee, ceiling, step):
    """The deployment file's `params` block reads back as the spec that was deployed."""
    sc = _sc(caps__redeem_cap_usd_per_hour=cap, fees__redeem_fee_bps=fee, psm__ceiling_usd=ceiling).with_overrides(step_hours=step)
    spec = ProtocolSpec.from_scenario(sc)
    back = ProtocolSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert back == spec


@pytest.mark.parametrize("step_hours, then, venue, budget", [
    (1.0, "burn", None, 3e6), (0.25, "hold", None, 3e6), (2.0, "burn", None, 6e6), (1.0, "burn", "cex", 0.0)])
def test_from_scenario__reserve_buy__budget_trigger_and_what_it_does_with_it(step_hours, then, venue, budget):
    """The per-hour budget is the model's, x step_hours for longer steps (one chain block carries the step's
    buying); a reserve that buys on an off-chain venue deploys no buy-back (budget 0)."""
    data = _sc().model_dump(mode="python")
    data["step_hours"] = step_hours
    data["protocol"]["reserve"]["buy"] = {"enabled": True, "trigger_price": 0.993, "budget_usd_per_hour": 3e6,
                                          "then": then, "venue": venue}
    if venue:
        data["venues"] = [{"kind": "order_book", "name": venue, "bid_depth_usd": [[20, 1e6], [100, 3e6]]}]
    spec = ProtocolSpec.from_scenario(_sc().model_validate(data))
    r = spec.reserve
    assert (r.buy_budget_usd_per_hour, r.buy_trigger_price, r.buy_then) == (budget, 0.993, then)
    assert "reserve.buy_budget_usd_per_hour" in CHOICES and "reserve.buy (venue)" in CHOICES


def test_reserve_buy__a_trigger_at_or_above_par__names_the_field():
    with pytest.raises(SpecError, match="reserve.buy_trigger_price"):
        ProtocolSpec.defaults().with_overrides({"reserve": {"buy_trigger_price": 1.0}})
    with pytest.raises(SpecError, match="reserve.buy_then"):
        ProtocolSpec.defaults().with_overrides({"reserve": {"buy_then": "sell"}})
