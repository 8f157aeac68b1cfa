"""Unit: each policy on its own, from a genesis state, checked against the spec line it implements."""
import numpy as np
import pytest

from sim.model.parts.common import backing
from sim.model.parts.hedge import p_accrue
from sim.model.parts.market import p_market
from sim.model.parts.rebalance import p_observe, p_rebalance
from sim.model.parts.trading import borrow_apr, p_trading
from sim.model.parts.treasury import p_treasury

from policy_helpers import after, setup


# --- market / circuit breakers -----------------------------------------------------------------
def test_market__with_stale_oracle__pauses_mint():
    _, p, s, x = setup()
    x["oracle_stale"] = 1.0
    o = after(p_market, p, s, x)
    assert o["mint_paused"] == 1.0 and o["oracle_ok"] == 0.0


def test_market__with_deviation_over_limit__pauses_mint():
    _, p, s, x = setup()
    x["oracle_deviation_bps"] = p["max_oracle_deviation_bps"] + 1
    assert after(p_market, p, s, x)["mint_paused"] == 1.0
    x["oracle_deviation_bps"] = p["max_oracle_deviation_bps"] - 1
    assert after(p_market, p, s, x)["mint_paused"] == 0.0


def test_market__with_breaker_off__never_pauses():
    _, p, s, x = setup({"protocol": {"circuit_breaker": {"pause_mint_on_stale_oracle": False}}})
    x["oracle_stale"] = 1.0
    assert after(p_market, p, s, x)["mint_paused"] == 0.0


def test_market__new_day__resets_daily_limits():
    _, p, s, x = setup(t=24)
    s["tbill_instant_used_usd"] = 5e6
    assert after(p_market, p, s, x)["tbill_instant_used_usd"] == 0.0
    _, p, s, x = setup(t=25)
    s["tbill_instant_used_usd"] = 5e6
    assert after(p_market, p, s, x)["tbill_instant_used_usd"] == 5e6


# --- accrual and hedge -------------------------------------------------------------------------
def test_accrue__price_move__hedge_cancels_spot():
    _, p, s, x = setup()
    x["btc_usd"] = x["btc_usd_prev"] * 1.05
    x["funding_rate_8h_btc"] = x["funding_rate_8h_btc_prev"] = 0.0
    x["funding_rate_8h_xau"] = x["funding_rate_8h_xau_prev"] = 0.0
    o = after(p_accrue, p, s, x)
    assert o["cum_spot_pnl"] > 0
    assert o["cum_spot_pnl"] + o["cum_hedge_pnl"] == pytest.approx(0.0, abs=1e-6)
    s2 = {**o, "btc_usd": x["btc_usd"]}
    assert backing(s2) - backing(s) == pytest.approx(o["cum_yield"], rel=1e-9)


@pytest.mark.parametrize("rate,sign", [(0.0002, 1), (-0.0002, -1)])
def test_accrue__funding__shorts_receive_positive_and_pay_negative(rate, sign):
    _, p, s, x = setup()
    x["funding_rate_8h_btc"] = x["funding_rate_8h_btc_prev"] = rate
    o = after(p_accrue, p, s, x)
    expected = s["btc_short_units"] * x["btc_usd"] * rate / 8
    assert o["cum_funding"] - s["cum_funding"] == pytest.approx(expected + s["xau_short_units"] * x["xau_usd"]
                                                               * x["funding_rate_8h_xau"] / 8)
    assert np.sign(o["btc_margin_usd"] - s["btc_margin_usd"]) == sign


def test_accrue__spike_beyond_margin__venue_closes_part_of_the_short_with_a_penalty():
    _, p, s, x = setup()
    x["btc_usd"] = x["btc_usd_prev"] * 1.09  # 10 % initial margin, 3 % maintenance: a 9 % spike breaches
    o = after(p_accrue, p, s, x)
    assert 0 < o["btc_short_units"] < s["btc_short_units"] and o["hedge_liquidations"] == 1.0
    assert o["cum_costs"] > 0  # the penalty
    assert o["btc_margin_usd"] > 0  # fills are partial: the position shrinks as the price climbs
    assert o["margin_ratio_low"] < p["maintenance_margin"]  # the breach seen inside the step
    assert o["xau_short_units"] == s["xau_short_units"]


def test_accrue__fine_steps__liquidate_at_the_crossing_not_at_the_step_end():
    """Marked in one step, a 9 % spike leaves margin at 1 % and the venue closes most of the short; marked
    in 1 % sub-steps, it is caught near 3 % and less is closed, for a smaller penalty."""
    _, p, s, x = setup({"protocol": {"hedge": {"max_substeps": 1}}})
    x["btc_usd"] = x["btc_usd_prev"] * 1.09
    coarse = after(p_accrue, p, s, x)
    _, p, s, x = setup()
    x["btc_usd"] = x["btc_usd_prev"] * 1.09
    fine = after(p_accrue, p, s, x)
    assert fine["btc_short_units"] > coarse["btc_short_units"]
    assert fine["cum_costs"] < coarse["cum_costs"]


def test_accrue__equity_gone_in_one_gap__venue_takes_the_whole_short_and_the_margin():
    _, p, s, x = setup({"protocol": {"hedge": {"max_substeps": 1}}})
    x["btc_usd"] = x["btc_usd_prev"] * 1.15
    o = after(p_accrue, p, s, x)
    assert o["btc_short_units"] == 0.0 and o["btc_margin_usd"] == 0.0 and o["hedge_liquidations"] == 1.0


def test_accrue__partial_fills__a_slow_venue_closes_at_most_its_fill_rate():
    _, p, s, x = setup({"protocol": {"hedge": {"liquidation_fill_per_hour": 0.1, "max_substeps": 1}}})
    x["btc_usd"] = x["btc_usd_prev"] * 1.08
    o = after(p_accrue, p, s, x)
    assert o["btc_short_units"] == pytest.approx(0.9 * s["btc_short_units"])


def test_accrue__small_spike__no_liquidation():
    _, p, s, x = setup()
    x["btc_usd"] = x["btc_usd_prev"] * 1.05
    o = after(p_accrue, p, s, x)
    assert o["btc_short_units"] == s["btc_short_units"] and o["hedge_liquidations"] == 0.0


def test_accrue__venue_failure__margin_there_becomes_a_claim_at_the_expected_recovery():
    _, p, s, x = setup()
    x["venue_failure_share"], x["venue_claim_rate"] = 0.25, 0.4
    x["funding_rate_8h_btc"] = x["funding_rate_8h_btc_prev"] = 0.0
    x["funding_rate_8h_xau"] = x["funding_rate_8h_xau_prev"] = 0.0
    o = after(p_accrue, p, s, x)
    margin = s["btc_margin_usd"] + s["xau_margin_usd"]
    assert o["cum_venue_loss"] == pytest.approx(0.25 * 0.6 * margin)  # booked when known
    assert o["venue_claim_face_usd"] == pytest.approx(0.25 * margin)
    assert o["venue_claim_mark_usd"] == pytest.approx(0.25 * 0.4 * margin)
    assert o["buffer_usd"] == s["buffer_usd"]  # nothing paid yet
    assert o["btc_short_units"] == pytest.approx(0.75 * s["btc_short_units"])
    assert backing({**o, "btc_usd": x["btc_usd"]}) - backing(s) == pytest.approx(-o["cum_venue_loss"] + o["cum_yield"])
    # later: the final rate is known (0.3: a further loss is booked), then half the face is paid at it
    x2 = {**x, "venue_failure_share": 0.0, "venue_claim_rate": 0.3, "venue_claim_settle_share": 0.5}
    o2 = after(p_accrue, p, o, x2)
    assert o2["cum_venue_loss"] - o["cum_venue_loss"] == pytest.approx(0.25 * 0.1 * margin)
    assert o2["buffer_usd"] - o["buffer_usd"] == pytest.approx(0.5 * 0.25 * 0.3 * margin)
    assert o2["venue_claim_face_usd"] == pytest.approx(0.5 * 0.25 * margin)


def test_accrue__transfers__land_when_due_and_not_at_a_venue_that_is_down():
    _, p, s, x = setup(t=10)
    s["btc_to_venue_usd"], s["btc_to_venue_due_hour"] = 1e6, 10.0
    s["xau_from_venue_usd"], s["xau_from_venue_due_hour"] = 2e6, 11.0
    o = after(p_accrue, p, s, x)
    assert o["btc_to_venue_usd"] == 0.0 and o["xau_from_venue_usd"] == 2e6
    x["venue_down_btc"] = 1.0
    o = after(p_accrue, p, s, x)
    assert o["btc_to_venue_usd"] == 1e6 and o["btc_venue_down"] == 1.0


def test_accrue__tbill_nav__accrues_yield_and_t_plus_1_lands_when_due():
    _, p, s, x = setup(t=30)
    s["tbill_pending_usd"], s["tbill_pending_due_hour"] = 1e6, 30.0
    o = after(p_accrue, p, s, x)
    assert o["tbill_nav"] == pytest.approx(1 + x["tbill_yield"] / 8760)
    assert o["tbill_pending_usd"] == 0.0 and o["buffer_usd"] == s["buffer_usd"] + 1e6


# --- trading: arbitrage, PSM, holders, loopers ---------------------------------------------------
def _below_peg(price, overrides=None):
    sc, p, s, x = setup(overrides)
    s["pool_sqrt_price"] = np.sqrt(price)
    s["peg_price"] = price
    return sc, p, s, x


CALM_HOLDERS = {c: {"behaviour": {"threshold": 1.0}} for c in ("institutional", "retail", "stakers")}


def test_trading__below_peg__arbitrage_redeems_and_restores_price_within_caps():
    # holders who do not react, so the arbitrageurs have the whole redemption cap
    _, p, s, x = _below_peg(0.985, {"protocol": {"psm": {"enabled": False}}, "agents": CALM_HOLDERS})
    o = after(p_trading, p, s, x)
    assert o["supply"] < s["supply"] and o["redeemed_usd"] > 0
    assert o["redeem_cap_used_usd"] <= p["redeem_cap_per_hour"] * x["dt_hours"] + 1e-6
    assert o["pool_sqrt_price"] ** 2 == pytest.approx(1 - p["redeem_fee"] - p["arb_edge"], abs=2e-4)


def test_trading__below_peg_with_zero_cap_and_no_psm__price_stays_down():
    _, p, s, x = _below_peg(0.985, {"protocol": {"psm": {"enabled": False}, "caps": {"redeem_cap_usd_per_hour": 0}},
                                    "agents": {"loopers": {"lever_speed_per_hour": 0}}})  # loopers would buy the dip
    o = after(p_trading, p, s, x)
    assert o["redeemed_usd"] == 0.0 and o["pool_sqrt_price"] ** 2 < 0.99


def test_trading__below_peg__psm_pays_out_no_more_than_it_holds():
    _, p, s, x = _below_peg(0.95, {"protocol": {"caps": {"redeem_cap_usd_per_hour": 0},
                                                  "psm": {"initial_usdc_usd": 2e6}}})
    o = after(p_trading, p, s, x)
    assert 0 <= o["psm_usdc"] < s["psm_usdc"]
    assert s["supply"] - o["supply"] == pytest.approx((s["psm_usdc"] - o["psm_usdc"]) / (1 - p["psm_fee"]))


def test_trading__above_peg_while_paused__only_psm_mints_up_to_ceiling():
    _, p, s, x = _below_peg(1.02, {"protocol": {"psm": {"ceiling_usd": 12e6, "initial_usdc_usd": 10e6}}})
    s["mint_paused"] = 1.0
    o = after(p_trading, p, s, x)
    assert o["mint_cap_used_usd"] == 0.0
    assert o["psm_minted"] <= 12e6 + 1e-6 and o["psm_minted"] > s["psm_minted"]


def test_trading__above_peg__minter_mints_within_cap():
    _, p, s, x = _below_peg(1.01, {"protocol": {"psm": {"enabled": False}, "caps": {"mint_cap_usd_per_hour": 3e6}}})
    o = after(p_trading, p, s, x)
    assert 0 < o["mint_cap_used_usd"] <= 3e6 + 1e-6
    assert o["supply"] - s["supply"] == pytest.approx(o["mint_cap_used_usd"])


def test_trading__large_discount__institutions_exit_at_once_retail_only_once_it_lasts():
    _, p, s, x = _below_peg(0.97, {"agents": {"arbitrageurs": {"enabled": False},
                                              "retail": {"noise_flow_usd_per_hour": 0}}})
    o = after(p_trading, p, s, x)
    assert o["inst_husd"] < s["inst_husd"] and o["inst_exited_husd"] > 0  # within the hour
    assert o["retail_husd"] == s["retail_husd"]  # retail reads the price over half a day
    for _ in range(36):  # the discount lasts (the pool is held at 0.97)
        o["pool_sqrt_price"] = np.sqrt(0.97)
        o = after(p_trading, p, o, x)
    assert o["retail_husd"] < s["retail_husd"] and o["loss_retail"] > 0


def test_trading__small_discount__retail_holds():
    _, p, s, x = _below_peg(0.997, {"agents": {"arbitrageurs": {"enabled": False}}})
    o = after(p_trading, p, s, x)
    assert o["retail_husd"] == s["retail_husd"]


def test_loopers__yield_above_borrow__lever_up():
    _, p, s, x = setup()
    s["staker_apr"] = 0.2
    o = after(p_trading, p, s, x)
    assert o["looper_debt_usd"] > s["looper_debt_usd"] and o["looper_shares"] > s["looper_shares"]


def test_loopers__yield_below_borrow__unwind_into_pool():
    _, p, s, x = setup()
    s["staker_apr"] = -0.01
    o = after(p_trading, p, s, x)
    assert o["looper_debt_usd"] < s["looper_debt_usd"] and o["looper_shares"] < s["looper_shares"]


def test_loopers__ltv_above_liquidation__liquidated_with_bonus():
    _, p, s, x = _below_peg(0.9, {"agents": {"arbitrageurs": {"enabled": False}}})
    s["looper_debt_usd"] = 0.8 * s["looper_shares"]  # LTV 0.8 at par, 0.89 at a 0.9 oracle price
    s["staker_apr"] = float(borrow_apr(p, s["looper_debt_usd"]))  # spread 0: no voluntary move
    o = after(p_trading, p, s, x)
    assert o["looper_liquidated_usd"] > 0
    assert o["loss_loopers"] > 0


def test_borrow_rate__kinked_in_utilization():
    _, p, *_ = setup()
    L = p["lending_supply"]
    r = [float(borrow_apr(p, u * L)) for u in (0.0, 0.5, 0.9, 0.95)]
    assert r[0] == p["borrow_base"] and r[0] < r[1] < r[2] < r[3]
    assert (r[3] - r[2]) / 0.05 > (r[2] - r[1]) / 0.4  # steeper past the kink


def test_trading__noise_flow__is_accounted_in_holdings():
    _, p, s, x = setup()
    x["flow_noise"] = -2.0
    o = after(p_trading, p, s, x)
    total = lambda z: z["inst_husd"] + z["retail_husd"] + z["vault_husd"] + z["float_husd"]
    assert total(o) == pytest.approx(o["supply"], rel=1e-12)


# --- treasury: reserve, backstop, distribution ---------------------------------------------------
def test_treasury__deficit__reserve_covers_within_draw_limit():
    _, p, s, x = setup({"protocol": {"reserve": {"max_draw_usd_per_hour": 1e6}}})
    s["buffer_usd"] -= 3e6
    o = after(p_treasury, p, s, x)
    assert o["reserve_fund_usd"] == s["reserve_fund_usd"] - 1e6
    assert o["buffer_usd"] == s["buffer_usd"] + 1e6


def test_treasury__reserve_empty__backstop_sells_hyb_and_its_price_falls():
    _, p, s, x = setup()
    s["reserve_fund_usd"] = 0.0
    s["buffer_usd"] -= 3e6
    o = after(p_treasury, p, s, x)
    assert o["cum_backstop_in"] == pytest.approx(3e6)
    assert o["hyb_sqrt_price"] < s["hyb_sqrt_price"] and o["hyb_sold"] > 0
    assert backing({**s, **o}) == pytest.approx(s["supply"], rel=1e-12)


def test_treasury__backstop_disabled__deficit_stays():
    _, p, s, x = setup({"protocol": {"backstop": {"enabled": False}}})
    s["reserve_fund_usd"] = 0.0
    s["buffer_usd"] -= 3e6
    o = after(p_treasury, p, s, x)
    assert o["cum_backstop_in"] == 0.0 and backing({**s, **o}) < s["supply"]


def test_treasury__surplus__split_between_stakers_and_reserve():
    _, p, s, x = setup({"protocol": {"revenue": {"distribute": "surplus"}}}, t=8)
    s["buffer_usd"] += 1e6
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == pytest.approx(1e6 * p["staker_share"])
    assert o["reserve_fund_usd"] - s["reserve_fund_usd"] == pytest.approx(1e6 * (1 - p["staker_share"]))
    assert o["vault_husd"] - s["vault_husd"] == pytest.approx(o["supply"] - s["supply"])


def test_treasury__surplus__unhedged_gains_stay_in_the_backing():
    _, p, s, x = setup({"protocol": {"revenue": {"distribute": "surplus"}}}, t=8)
    s["buffer_usd"] += 1e6
    s["cum_unhedged_pnl"] = 6e5  # an unhedged rally: backing, not yield
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == pytest.approx(4e5 * p["staker_share"])


def test_treasury__off_distribution_hour__surplus_kept():
    _, p, s, x = setup(t=9)
    s["buffer_usd"] += 1e6
    assert after(p_treasury, p, s, x)["staker_rewards_usd"] == 0.0


# --- rebalance -----------------------------------------------------------------------------------
def test_rebalance__buffer_short__refilled_from_tbills_instantly():
    _, p, s, x = setup()
    s["buffer_usd"] -= 50e6
    s["tbill_units"] += 50e6
    o = after(p_rebalance, p, s, x)
    assert o["buffer_usd"] > s["buffer_usd"] and o["tbill_instant_used_usd"] > 0


def test_rebalance__tbills_frozen__nothing_leaves_the_sleeve_not_even_t_plus_1():
    _, p, s, x = setup()
    s["tbill_frozen"] = 1.0
    s["buffer_usd"] -= 50e6
    s["tbill_units"] += 50e6
    o = after(p_rebalance, p, s, x)
    assert o["tbill_instant_used_usd"] == 0.0 and o["tbill_pending_usd"] == 0.0
    assert o["tbill_units"] >= s["tbill_units"]


def test_rebalance__buffer_short__refill_goes_t_plus_1_beyond_the_instant_limit():
    _, p, s, x = setup({"protocol": {"tbill": {"instant_redemption_limit_usd_per_day": 0}}})
    s["buffer_usd"] -= 50e6
    s["tbill_units"] += 50e6
    o = after(p_rebalance, p, s, x)
    assert o["tbill_pending_usd"] > 0 and o["tbill_pending_due_hour"] == x["hour"] + p["tbill_settlement_hours"]


def test_rebalance__after_liquidation__rehedges_toward_spot():
    _, p, s, x = setup()
    s["btc_short_units"] = 0.0
    o = after(p_rebalance, p, s, x)
    assert 0 < o["btc_short_units"] <= o["btc_units"]


def test_observe__derived_values():
    _, p, s, x = setup()
    o = after(p_observe, p, s, x)
    assert o["peg_price"] == 1.0 and o["backing_ratio"] == pytest.approx(1.0)
    assert o["looper_ltv"] == pytest.approx(0.6)


def test_treasury__carry_only__pays_out_no_more_than_carry_earned():
    _, p, s, x = setup({"protocol": {"revenue": {"distribute": "carry"}}}, t=8)
    s["buffer_usd"] += 1e6  # a mark-to-market gain...
    s["cum_funding"] = 2e5  # ...of which only this much is carry
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == pytest.approx(2e5 * p["staker_share"])
    assert o["carry_paid_mark_usd"] == 2e5
    o2 = after(p_treasury, p, {**o, "buffer_usd": o["buffer_usd"]}, {**x, "hour": 16.0})
    assert o2["staker_rewards_usd"] == o["staker_rewards_usd"]  # nothing new earned since


def test_trading__reserve_buys_across_clearing_rounds__spend_no_more_than_the_hours_budget():
    """Queued sales clear in rounds within a step and the reserve defends in each: together its buys stay
    within budget_usd_per_hour x step hours (the ReserveFund's per-hour budget on chain refuses more)."""
    budget = 1e6
    _, p, s, x = _below_peg(0.97, {"protocol": {"psm": {"enabled": False}, "caps": {"redeem_cap_usd_per_hour": 0},
                                                  "reserve": {"buy": {"enabled": True, "trigger_price": 0.995,
                                                                      "budget_usd_per_hour": budget}}},
                                     "agents": {"arbitrageurs": {"patient_capital_usd": 0}}})
    s["retail_queue_husd"] = 0.5 * s["retail_husd"]  # sales waiting: the step clears them in rounds
    o = after(p_trading, p, s, x)
    spent = o["reserve_buy_usd"] - s["reserve_buy_usd"]
    assert 0 < spent <= budget * x["dt_hours"] * (1 + 1e-12)
    assert o["reserve_buy_used_usd"] == pytest.approx(spent)


def test_treasury__carry_is_the_default__negative_carry_hits_the_reserve_share_then_staker_yield():
    _, p, s, x = setup(t=8)
    s["cum_funding"] = -1e6  # a bad 8 hours: funding paid out of margin
    s["btc_margin_usd"] -= 1e6
    o = after(p_treasury, p, s, x)
    share = p["staker_share"]
    # the reserve pays its share into the backing at once, stakers get nothing and owe their share
    assert o["staker_rewards_usd"] == 0.0
    assert s["reserve_fund_usd"] - o["reserve_fund_usd"] == pytest.approx((1 - share) * 1e6 + 8e5, rel=1e-9)
    assert o["staker_carry_account_usd"] == pytest.approx(-share * 1e6)
    # next interval earns 1.5M: the stakers' share nets their deficit first, the reserve takes its share
    o["cum_funding"] = -1e6 + 1.5e6
    o["btc_margin_usd"] += 1.5e6  # funding is cash: it lands in the margin
    o2 = after(p_treasury, p, o, {**x, "hour": 16.0})
    assert o2["staker_rewards_usd"] == pytest.approx(share * 1.5e6 - share * 1e6)
    assert o2["staker_carry_account_usd"] == pytest.approx(0.0, abs=1e-6)


def test_treasury__carry__hedge_marks_stay_and_repay_what_the_reserve_lent():
    _, p, s, x = setup(t=8)
    s["reserve_fund_usd"] -= 3e6
    s["reserve_lent_usd"] = 3e6  # the reserve covered a mark loss earlier
    s["buffer_usd"] += 5e6  # the mark came back and more
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == 0.0  # marks are not carry
    assert o["reserve_fund_usd"] == pytest.approx(s["reserve_fund_usd"] + 3e6)
    assert o["reserve_lent_usd"] == 0.0 and o["reserve_repaid_usd"] == 3e6
    assert backing({**s, **o}) == pytest.approx(s["supply"] + 2e6)  # the rest stays as a cushion


def test_treasury__carry__stakers_wait_while_the_book_is_short():
    _, p, s, x = setup({"protocol": {"reserve": {"initial_usd": 0.0}, "backstop": {"enabled": False}}}, t=8)
    s["cum_yield"] = 1e6
    s["buffer_usd"] -= 2e6  # backing 2M short of supply, no reserve
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == 0.0
    assert o["staker_carry_account_usd"] == pytest.approx(1e6 * p["staker_share"])  # owed, paid when covered


def test_treasury__carry__the_reserve_never_pays_stakers_while_the_backing_is_short():
    # as Minter.distributeRewards: rewards only within backing above supply, however full the reserve
    _, p, s, x = setup({"protocol": {"reserve": {"max_draw_usd_per_hour": 1e5}}}, t=8)
    s["cum_yield"] = 1e6
    s["buffer_usd"] -= 2e6  # the reserve (tens of millions) could cover this, but draws 0.1M an hour
    o = after(p_treasury, p, s, x)
    assert o["reserve_fund_usd"] > 2e6 and backing({**s, **o}) < o["supply"]
    assert o["staker_rewards_usd"] == 0.0
    assert o["staker_carry_account_usd"] == pytest.approx(1e6 * p["staker_share"])


def test_treasury__carry__a_claim_on_a_failed_venue_is_not_cash_to_pay_stakers_with():
    _, p, s, x = setup(t=8)
    s["cum_yield"] = 1e6
    s["buffer_usd"] -= 3e6
    s["venue_claim_mark_usd"] = 4e6  # backing covers supply only through the claim's marked recovery
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == 0.0
    s["buffer_usd"] += 3.5e6  # half a million of cash above supply: the reserve's share of the carry, then stakers
    o = after(p_treasury, p, s, x)
    assert o["staker_rewards_usd"] == pytest.approx(5e5 - (1 - p["staker_share"]) * 1e6)


def test_rebalance__margin_call__funded_down_the_waterfall_and_sent_with_latency():
    _, p, s, x = setup({"protocol": {"hedge": {"transfer_latency_hours": 3}, "rebalance": {"speed_per_hour": 0}}}, t=5)
    s["buffer_usd"] = 1e6
    s["btc_margin_usd"] -= 6e6  # 6M under the initial ratio
    o = after(p_rebalance, p, s, x)
    assert o["btc_to_venue_usd"] == pytest.approx(6e6) and o["btc_to_venue_due_hour"] == 8.0
    assert o["btc_margin_usd"] == s["btc_margin_usd"]  # not there yet
    assert o["tbill_instant_used_usd"] >= 5e6 and o["margin_topup_usd"] == pytest.approx(6e6)
    # one transfer in flight at a time: a further call waits for it to land
    o2 = after(p_rebalance, p, {**o, "btc_margin_usd": o["btc_margin_usd"] - 1e6}, {**x, "hour": 6.0})
    assert o2["btc_to_venue_usd"] == pytest.approx(o["btc_to_venue_usd"]) and o2["margin_topup_usd"] == o["margin_topup_usd"]


def test_rebalance__margin_call__reserve_is_the_last_source_and_lends():
    _, p, s, x = setup({"protocol": {"hedge": {"margin_waterfall": ["buffer", "reserve"]}, "rebalance": {"speed_per_hour": 0}}})
    s["buffer_usd"] = 0.0
    s["btc_margin_usd"] -= 2e6
    o = after(p_rebalance, p, s, x)
    assert o["reserve_fund_usd"] == pytest.approx(s["reserve_fund_usd"] - 2e6) and o["reserve_lent_usd"] == pytest.approx(2e6)
    assert o["btc_to_venue_usd"] == pytest.approx(2e6)


def test_rebalance__venue_down__no_top_up_no_rehedge_no_sweep():
    _, p, s, x = setup()
    s["btc_venue_down"] = 1.0
    s["btc_short_units"] *= 0.5
    s["btc_margin_usd"] -= 5e6
    o = after(p_rebalance, p, s, x)
    for k in ("btc_short_units", "btc_margin_usd", "btc_units", "btc_to_venue_usd"):
        assert o[k] == s[k], k
    assert o["xau_units"] != s["xau_units"] or o["xau_short_units"] == s["xau_short_units"]
