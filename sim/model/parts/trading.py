"""The secondary market and the agents who trade on it, in the order they act within a step: market
makers re-quote, holders read their signals; deposits; random retail order flow; institutions,
retail and stakers exit (sparing what they cannot get out in their queues); leveraged loopers lever,
unwind or get liquidated; arbitrageurs carry HUSD between venues and close the reference pool's gap
through the PSM and the Minter; the reserve buys below its trigger; LPs and market makers decide how
much liquidity to leave for the next step."""
from __future__ import annotations

import numpy as np

from sim.model import amm
from sim.model import venues as V
from sim.model.actions import (
    backstop_recapitalize,
    backstop_sale_room,
    issue,
    mint_room,
    minter_mint,
    minter_redeem,
    psm_room_in,
    psm_room_out,
    psm_swap_in,
    psm_swap_out,
    redeem_room,
    reserve_deposit,
)
from sim.model.parts import holders as H
from sim.model.parts.common import safe_div
from sim.model.state import holder_vars, sleeve_vars, venue_vars
from sim.types import HOURS_PER_YEAR


def borrow_apr(p, debt):
    """Utilization-kinked borrow rate of the USDC lending market."""
    u = np.clip(safe_div(debt, p["lending_supply"]), 0.0, 1.0)
    kink = p["borrow_kink"]
    return (p["borrow_base"] + p["borrow_slope"] * np.minimum(u, kink) / kink
            + p["borrow_jump"] * np.maximum(u - kink, 0.0) / (1 - kink))


def _retail_noise(p, s, x):
    """Random retail order flow, larger in stress, spread over retail's venues (buys in USDC, sells in HUSD)."""
    flow = p["retail_noise_per_hour"] * np.sqrt(x["dt_hours"]) * x["flow_noise"] * (1 + x["stress"])
    sell = flow < 0
    amount = np.where(sell, np.minimum(-flow, np.maximum(s["retail_husd"] - s["retail_queue_husd"], 0.0)), flow)
    for v in p["venues"]:
        share = v.flow_share.get("retail", 0.0)
        if share > 0:
            out, used = V.swap(v, s, x, "retail", amount * share, sell)
            husd_delta = np.where(sell, -used, out)
            s["retail_husd"] = s["retail_husd"] + husd_delta
            s["float_husd"] = s["float_husd"] - husd_delta
            s["loss_retail"] = s["loss_retail"] + (used - out)  # HUSD given minus USDC got, or USDC paid minus HUSD got


def _loopers(p, s, x):
    """Leverage grows while staker yield beats the borrow rate and unwinds when it does not, or when
    the loopers' alarm (they read the news like institutions) passes their threshold.

    The lending market prices sHUSD collateral with a TWAP-like oracle: the pool price at the end of
    the previous step (`peg_price`), not the intra-step price that arbitrage is about to close.
    Liquidators sell what they seize on the pool; what the pool cannot take waits in their queue.
    """
    price = s["peg_price"]
    sp = safe_div(s["vault_husd"], s["vault_shares"], 1.0)
    coll = s["looper_shares"] * sp
    coll_val = coll * price
    debt = s["looper_debt_usd"]
    ltv = safe_div(debt, coll_val)
    spread = s["staker_apr"] - borrow_apr(p, debt)
    target = np.where(spread > p["loop_min_spread"], p["loop_max_ltv"], np.where(spread < 0, 0.0, ltv))
    target = np.where(s["looper_alarm"] > x["threshold_loopers_0"], 0.0, target)
    speed = p["loop_speed_per_hour"] * x["dt_hours"]
    new_ltv = ltv + np.clip(target - ltv, -speed, speed)
    up = new_ltv > ltv
    borrow = np.minimum(np.maximum(new_ltv * coll_val - debt, 0.0) / (1 - new_ltv),
                        np.maximum(p["lending_supply"] - debt, 0.0))
    sell = np.minimum(safe_div(np.maximum(debt - new_ltv * coll_val, 0.0) / (1 - new_ltv), price), coll)
    amount = np.where(up, borrow, np.where(new_ltv < ltv, sell, 0.0))
    out, used = V.swap(p["venues"][0], s, x, "looper", amount, ~up)
    husd_in = np.where(up, out, -used)  # HUSD into the loopers' vault position
    usdc = np.where(up, used, out)  # USDC borrowed and spent, or received and repaid
    s["looper_shares"] = s["looper_shares"] + safe_div(husd_in, sp)
    s["vault_shares"] = s["vault_shares"] + safe_div(husd_in, sp)
    s["vault_husd"] = s["vault_husd"] + husd_in
    s["float_husd"] = s["float_husd"] - husd_in
    s["looper_debt_usd"] = np.maximum(debt + np.where(up, usdc, -usdc), 0.0)
    s["loss_loopers"] = s["loss_loopers"] + (used - out)

    # liquidation at the oracle price; liquidators seize with a bonus and sell into the pool
    coll = s["looper_shares"] * sp
    debt = s["looper_debt_usd"]
    liq = (debt > 0) & (safe_div(debt, coll * price) > p["loop_liq_ltv"])
    rounds = p["loop_liquidations_per_hour"] * x["dt_hours"]
    repay = np.where(liq, (1 - (1 - p["loop_close_factor"]) ** rounds) * debt, 0.0)
    seize = np.minimum(safe_div(repay * (1 + p["loop_liq_bonus"]), price), coll)
    s["looper_shares"] = s["looper_shares"] - safe_div(seize, sp)
    s["vault_shares"] = s["vault_shares"] - safe_div(seize, sp)
    s["vault_husd"] = s["vault_husd"] - seize
    s["looper_debt_usd"] = debt - repay
    s["loss_loopers"] = s["loss_loopers"] + (seize - repay)
    s["looper_liquidated_usd"] = s["looper_liquidated_usd"] + seize
    s["float_husd"] = s["float_husd"] + seize
    s["liquidator_queue_husd"] = s["liquidator_queue_husd"] + seize
    _liquidator_sales(p, s, x)


def _liquidator_sales(p, s, x):
    """Liquidators sell what they seized on the pool, at the market; their proceeds are theirs."""
    q = s["liquidator_queue_husd"]
    _out, used = V.swap(p["venues"][0], s, x, "liquidation", q, np.ones_like(q, dtype=bool))
    s["liquidator_queue_husd"] = np.maximum(q - used, 0.0)


def _growth(p, s, x):
    """Reflexive deposits: supply grows while stakers out-earn T-bills and the peg has held."""
    rate_day = (p["growth_base_day"] + p["growth_yield_sens_day"] * (s["staker_apr"] - x["tbill_yield"])
                - p["growth_depeg_penalty_day"] * np.minimum(s["hours_below"], 48.0) / 48.0)
    rate = np.clip(rate_day, -p["growth_max_day"], p["growth_max_day"]) * x["dt_hours"] / 24.0
    # inflows mint at par through the Minter, within the hourly cap and not while paused
    dep = np.minimum(np.maximum(rate, 0.0) * s["supply"], mint_room(p, s, x["dt_hours"]))
    w_inst, w_retail, w_stakers = p["holder_weights"]
    sp = safe_div(s["vault_husd"], s["vault_shares"], 1.0)
    s["inst_husd"] = s["inst_husd"] + dep * w_inst
    s["retail_husd"] = s["retail_husd"] + dep * w_retail
    s["vault_husd"] = s["vault_husd"] + dep * w_stakers
    s["vault_shares"] = s["vault_shares"] + safe_div(dep * w_stakers, sp)
    s["staker_shares"] = s["staker_shares"] + safe_div(dep * w_stakers, sp)
    # new money mints at par (the Minter's fee is waived for deposits: a modelling choice, see the README)
    s["mint_cap_used_usd"] = s["mint_cap_used_usd"] + dep
    s["buffer_usd"] = s["buffer_usd"] + dep
    issue(s, dep, dep)
    s["deposits_usd"] = s["deposits_usd"] + dep
    # outflows: institutions no longer want part of what they hold: it joins their exit queue
    out = np.maximum(-rate, 0.0) * np.maximum(s["inst_husd"] - s["inst_queue_husd"], 0.0)
    s["inst_queue_husd"] = s["inst_queue_husd"] + out
    s["deposits_usd"] = s["deposits_usd"] - out


def _buy_to(p, s, x, v, target_price, budget_husd=None, budget_usd=None, who="arbitrage"):
    """Buy HUSD on venue v up to `target_price`, at most about `budget_husd` of it or `budget_usd` spent.
    Skipped where the gain would not pay the gas. Returns (HUSD bought, USDC spent)."""
    st = np.sqrt(target_price)
    if not np.any(s[v.sqrt_key] < st):  # no run is below the target: nothing to buy
        zero = np.zeros_like(s[v.sqrt_key])
        return zero, zero
    need_out, need_in = V.husd_to_reach(v, s, x, target_price)
    usdc = need_in
    if budget_husd is not None:
        usdc = np.where(need_out > budget_husd, need_in * safe_div(budget_husd, need_out), usdc)
    if budget_usd is not None:
        usdc = np.minimum(usdc, budget_usd)
    worth = usdc * np.maximum(target_price - s[v.sqrt_key] ** 2, 0.0) / 2 > p["arb_gas_usd"]
    out, used = V.swap(v, s, x, who, np.where(worth, usdc, 0.0), np.zeros_like(usdc, dtype=bool), sqrt_limit=st)
    return (out if budget_husd is None else np.minimum(out, budget_husd)), used


def _sell_to(p, s, x, v, target_price, budget_husd):
    """Sell up to `budget_husd` on venue v down to `target_price` (skipped where the gain would not pay
    the gas). Returns the HUSD put up (what the price limit left unsold stays with the seller)."""
    st = np.sqrt(target_price)
    if not np.any(s[v.sqrt_key] > st):  # no run is above the target: nothing to sell
        return np.zeros_like(s[v.sqrt_key])
    a0, _a1, _ = amm.amounts_to_reach(s[v.sqrt_key], st, v.curve, V.venue_depth(v, s, x), v.fee)
    m = np.minimum(np.maximum(a0, 0.0), budget_husd)
    worth = m * np.maximum(s[v.sqrt_key] ** 2 - target_price, 0.0) / 2 > p["arb_gas_usd"]
    m = np.where(worth, m, 0.0)
    V.swap(v, s, x, "arbitrage", m, np.ones_like(m, dtype=bool), sqrt_limit=st)
    return m


def _arbitrage(p, s, x):
    """Arbitrageurs with Minter access close the reference pool's gap through the PSM and the Minter
    when the spread beats fee + edge + gas, within caps."""
    ref, edge, dt = p["venues"][0], p["arb_edge"], x["dt_hours"]
    if p["psm_enabled"]:
        # below the peg: buy on the pool, swap HUSD for USDC in the PSM (limited by its USDC)
        r, _ = _buy_to(p, s, x, ref, 1 - p["psm_fee"] - edge, psm_room_out(p, s))
        psm_swap_out(p, s, r)
    # below the peg: buy on the pool and redeem through the Minter within the hourly cap
    r, _ = _buy_to(p, s, x, ref, 1 - p["redeem_fee"] - edge, redeem_room(p, s, dt))
    minter_redeem(p, s, r)
    if p["psm_enabled"]:
        # above the peg: USDC into the PSM for HUSD (up to its ceiling), sold on the pool
        m = _sell_to(p, s, x, ref, 1 + p["psm_fee"] + edge, psm_room_in(p, s))
        psm_swap_in(p, s, m)
    # above the peg: mint through the Minter (not while paused) within the cap, sell on the pool;
    # minted HUSD went into the pool (sold) or stays in arbitrage inventory: both are float
    m = _sell_to(p, s, x, ref, 1 + p["mint_fee"] + edge, mint_room(p, s, dt))
    minter_mint(p, s, m)


def _cross_venue(p, s, x):
    """Arbitrage between the reference pool and the other venues.

    An on-chain pool is arbitraged atomically: its price is brought to the reference pool's (within
    fees and edge) and the HUSD is traded back on the reference pool. An order book is arbitraged
    with limited capital across the bridge: HUSD bought cheap there reaches the chain after the
    venue's transfer latency, is redeemed through the Minter where its caps allow, else sold on the
    reference pool, never below what it cost. Capital comes back as the inventory is sold.
    """
    ref, edge, dt = p["venues"][0], p["arb_edge"], x["dt_hours"]
    ref_price = s[ref.sqrt_key] ** 2
    for v in p["venues"][1:]:
        if v.kind == "pool":
            sell = np.ones_like(ref_price, dtype=bool)
            cost = v.fee + ref.fee + edge
            bought, _ = _buy_to(p, s, x, v, ref_price * (1 - cost))
            V.swap(ref, s, x, "arbitrage", bought, sell)  # and sold on the reference pool
            a0, _a1, _ = amm.amounts_to_reach(s[v.sqrt_key], np.sqrt(ref_price * (1 + cost)), v.curve,
                                              V.venue_depth(v, s, x), v.fee)
            got, _ = V.swap(ref, s, x, "arbitrage", np.maximum(a0, 0.0) * ref_price, ~sell)  # bought on the reference
            V.swap(v, s, x, "arbitrage", got, sell, np.sqrt(ref_price * (1 + cost)))  # and sold here
            continue
        transit, ready, cost = f"xarb_transit_{v.name}", f"xarb_ready_{v.name}", f"xarb_cost_{v.name}"
        lat = v.transfer_latency_hours
        arrived = s[transit] * (1.0 if lat <= 0 else 1 - np.exp(-dt / lat))
        s[transit] = s[transit] - arrived
        s[ready] = s[ready] + arrived
        held = s[transit] + s[ready]
        unit_cost = safe_div(s[cost], held)
        r = np.minimum(s[ready], redeem_room(p, s, dt))
        minter_redeem(p, s, r)
        _out, sold = V.swap(ref, s, x, "arbitrage", s[ready] - r, np.ones_like(r, dtype=bool), np.sqrt(unit_cost + edge))
        s[ready] = s[ready] - r - sold
        s[cost] = np.maximum(s[cost] - unit_cost * (r + sold), 0.0)
        # buy where the book is cheaper than what HUSD fetches on chain (the pool, or a redemption with room)
        worth = np.maximum(ref_price, np.where(redeem_room(p, s, dt) > 0, 1 - p["redeem_fee"], 0.0))
        free = np.maximum(p["xarb_capital_usd"] - s[cost], 0.0)
        bought, spent = _buy_to(p, s, x, v, worth * (1 - v.fee - edge), budget_usd=free)
        s[transit] = s[transit] + bought
        s[cost] = s[cost] + spent


def _patient_redeem(p, s, x):
    """Patient capital redeems the HUSD it holds as the Minter's caps allow (queued behind institutions,
    before arbitrage that buys and redeems within the step)."""
    r = np.minimum(s["parb_husd"], redeem_room(p, s, x["dt_hours"]))
    minter_redeem(p, s, r)
    unit_cost = safe_div(s["parb_cost_usd"], s["parb_husd"])
    s["parb_husd"] = s["parb_husd"] - r
    s["parb_cost_usd"] = np.maximum(s["parb_cost_usd"] - unit_cost * r, 0.0)


def _patient_buy(p, s, x):
    """Patient capital bids for HUSD on the reference pool at what a redemption will be worth, less the
    return it wants for waiting in the queue (and its edge); it needs redemption access to value HUSD."""
    cap_per_hour = p["redeem_cap_per_hour"] * s["cap_multiplier"]
    wait_hours = safe_div(s["inst_queue_husd"] + s["parb_husd"], cap_per_hour, np.inf)
    news = np.maximum(x["news_loss_share"] - safe_div(s["reserve_fund_usd"], s["supply"]), 0.0)
    value = np.minimum(s["published_backing_ratio"], 1.0) * (1 - news) * (1 - p["redeem_fee"])
    bid = value - p["parb_hurdle_apr"] * wait_hours / HOURS_PER_YEAR - p["arb_edge"]
    free = np.maximum(p["parb_capital_usd"] - s["parb_cost_usd"], 0.0)
    bought, spent = _buy_to(p, s, x, p["venues"][0], np.maximum(bid, 1e-6), budget_usd=free)
    s["parb_husd"] = s["parb_husd"] + bought
    s["parb_cost_usd"] = s["parb_cost_usd"] + spent


def _refill_books(p, s, x):
    """Market makers re-quote what trades took: an order book's price relaxes toward par."""
    for v in p["venues"][1:]:
        if v.kind == "order_book" and v.refill_per_hour > 0:
            keep = np.exp(-v.refill_per_hour * x["dt_hours"])
            s[v.sqrt_key] = 1 + (s[v.sqrt_key] - 1) * keep


def _reserve_buys(p, s, x):
    """The reserve buys HUSD below its trigger on its venue (within its hourly budget; an empty reserve
    has the backstop sell HYB for it when allowed), then burns or holds what it bought. The budget is what
    is left of this step's hours after the step's earlier clearing rounds (`reserve_buy_used_usd`)."""
    v = p["venues"][p["reserve_buy_venue"]]
    budget = np.maximum(p["reserve_buy_per_hour"] * x["dt_hours"] - s["reserve_buy_used_usd"], 0.0)
    if p["reserve_buy_backstop"] and p["backstop_enabled"]:
        short = np.where(s[v.sqrt_key] ** 2 < p["reserve_buy_trigger"],
                         np.maximum(budget - s["reserve_fund_usd"], 0.0), 0.0)
        raised = backstop_recapitalize(p, s, np.minimum(short, backstop_sale_room(p, s)), x.get("tape"))
        reserve_deposit(s, raised)
    bought, spent = _buy_to(p, s, x, v, p["reserve_buy_trigger"], budget_usd=np.minimum(budget, s["reserve_fund_usd"]),
                            who="reserve")
    s["reserve_fund_usd"] = s["reserve_fund_usd"] - spent
    s["cum_collateral_out"] = s["cum_collateral_out"] + spent
    s["float_husd"] = s["float_husd"] - bought
    if p["reserve_buy_burns"]:
        s["supply"] = s["supply"] - bought
        s["burned_husd"] = s["burned_husd"] + bought
    else:
        s["reserve_husd"] = s["reserve_husd"] + bought
    s["reserve_bought_husd"] = s["reserve_bought_husd"] + bought
    s["reserve_buy_usd"] = s["reserve_buy_usd"] + spent
    s["reserve_buy_used_usd"] = s["reserve_buy_used_usd"] + spent


_TRADING_VARS = ("pool_sqrt_price", "retail_husd", "inst_husd", "float_husd", "loss_retail", "loss_institutional",
                 "loss_loopers", "loss_stakers", "looper_shares", "vault_shares", "vault_husd", "looper_debt_usd",
                 "looper_liquidated_usd", "liquidator_queue_husd", "supply", "burned_husd", "minted_husd",
                 "redeemed_usd", "redeem_cap_used_usd", "mint_cap_used_usd", "psm_usdc", "psm_minted", "buffer_usd",
                 "tbill_units", "tbill_instant_used_usd", *sleeve_vars(), "unwind_used_usd", "cum_costs",
                 "cum_collateral_out", "cum_collateral_in", "hours_below", "inst_exited_husd", "deposits_usd",
                 "staker_shares", "staker_queue_husd", "exit_share_24h", "reserve_fund_usd", "reserve_added_usd",
                 "reserve_bought_husd", "reserve_buy_usd", "reserve_buy_used_usd", "reserve_husd", "hyb_sqrt_price", "hyb_sold",
                 "backstop_day_used_usd", "cum_backstop_in", "parb_husd", "parb_cost_usd")


CLEARING_ROUNDS = 8  # within a step: queued sales, then arbitrage refilling the venues, this many times at most


def _defend(p, s, x):
    """What buys HUSD back toward par: arbitrage through the PSM and the Minter, patient capital, the reserve."""
    if p["arb_enabled"]:
        _arbitrage(p, s, x)
        _patient_buy(p, s, x)
    if p["reserve_buy"]:
        _reserve_buys(p, s, x)


def _clear_queues(p, s, x):
    """Within a step, queued exits and arbitrage alternate, as they do block after block: a sale empties a
    thin pool, arbitrage (within what is left of its caps and capital) refills it, the next sale goes in.
    How much clears in an hour is then set by the caps and capital, not by the step size; it stops when a
    round clears nothing more."""
    for _ in range(CLEARING_ROUNDS):
        before = H.queued(s)
        if not np.any(before > 1.0):
            return
        H.retry_queues(p, s, x)
        _liquidator_sales(p, s, x)
        _defend(p, s, x)
        if not np.any(before - H.queued(s) > 1e-6 * np.maximum(before, 1.0)):
            return


def trading_vars(p: dict) -> tuple[str, ...]:
    """What the trading block owns: the books it trades on, every holder's balance and queue, each venue."""
    return (*_TRADING_VARS, *holder_vars(p), *(k for k in venue_vars(p) if not k.startswith(("price_", "depth_"))))


def p_trading(p: dict, s: dict, x: dict) -> dict:
    """Spec: holders decide from what they observe and exit through the Minter (institutions) or on their
    venues, what cannot go through waits in their queues; loopers lever and unwind through the pool;
    arbitrageurs mint/redeem when the spread beats fee + gas, within caps, and carry HUSD between
    venues with their capital; the PSM swaps 1:1 less its fee up to its ceiling; the reserve buys
    below its trigger; LPs and market makers pull liquidity as alarm and swings rise."""
    o = dict(s)
    prices_before = {v.name: o[v.sqrt_key] ** 2 for v in p["venues"]}
    net_before = o["burned_husd"] - o["minted_husd"]
    _refill_books(p, o, x)
    H.update_alarms(p, o, x)
    if p["growth_enabled"]:
        _growth(p, o, x)
    _retail_noise(p, o, x)
    H.institutions_exit(p, o, x)
    # levered retail sells HUSD to meet margin calls on their BTC when it falls
    margin_call = p["retail_btc_leverage"] * np.maximum(0.0, 1 - x["btc_usd"] / x["btc_usd_prev"])
    H.retail_exit(p, o, x, extra=np.minimum(margin_call, 1.0) * np.maximum(o["retail_husd"] - o["retail_queue_husd"], 0.0))
    H.stakers_exit(p, o, x)
    _loopers(p, o, x)
    if p["arb_enabled"]:
        _cross_venue(p, o, x)
        _patient_redeem(p, o, x)
    _defend(p, o, x)
    _clear_queues(p, o, x)
    H.observe_exits(p, o, x, net_before)
    H.update_liquidity(p, o, x, prices_before)
    below = o["pool_sqrt_price"] ** 2 < p["depeg_threshold"]
    o["hours_below"] = np.where(below, s["hours_below"] + x["dt_hours"], 0.0)
    return {k: o[k] for k in trading_vars(p)}
