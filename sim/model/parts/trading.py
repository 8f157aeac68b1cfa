"""The secondary market and the agents who trade on it, in the order they act within a step:
random retail order flow, institutional exits, retail panic, leveraged loopers (lever, unwind, get
liquidated), then arbitrageurs closing the gap through the PSM and the Minter."""
from __future__ import annotations

import numpy as np

from sim.model import amm
from sim.model.actions import (
    issue,
    mint_room,
    minter_mint,
    minter_redeem,
    psm_room_in,
    psm_room_out,
    psm_swap_in,
    psm_swap_out,
    redeem_room,
)
from sim.model.parts.common import per_step, safe_div
from sim.model.tape import HUSD_POOL

# A holder class trades from its own balance; the other side of every pool trade is `float_husd`
# (pool + LPs + arbitrage inventory), so supply always equals the sum of balances.
_BALANCE = {"retail": "retail_husd", "institutional": "inst_husd"}


def _swap(p, s, x, who: str, amount, sell_husd, sqrt_limit=None):
    """Swap on the HUSD/USDC pool; sell_husd=True sells HUSD for USDC. Returns (out, used).
    The trade goes on the tape, if the step carries one."""
    if not np.any(amount > 0):  # nobody trades this step: skip the pool maths (it would return zeros)
        zero = np.zeros_like(s["pool_sqrt_price"])
        return zero, zero
    before = s["pool_sqrt_price"]
    out, sp, _fee, used = amm.swap_exact_in(before, np.maximum(amount, 0.0), sell_husd, p["curve"],
                                            s["pool_depth"], p["pool_fee"], sqrt_limit=sqrt_limit)
    s["pool_sqrt_price"] = sp
    tape = x.get("tape")
    if tape is not None:
        tape.record(who, HUSD_POOL, sell_husd, amount, used, out, before, sp, sqrt_limit)
    return out, used


def _trade_class(p, s, x, cls: str, amount, sell_husd, sqrt_limit=None):
    """A holder class buys (USDC amount) or sells (HUSD amount) on the pool; records its loss vs par."""
    out, used = _swap(p, s, x, cls, amount, sell_husd, sqrt_limit)
    husd_delta = np.where(sell_husd, -used, out)
    s[_BALANCE[cls]] = s[_BALANCE[cls]] + husd_delta
    s["float_husd"] = s["float_husd"] - husd_delta
    s[f"loss_{cls}"] = s[f"loss_{cls}"] + (used - out)  # HUSD given minus USDC got, or USDC paid minus HUSD got


def borrow_apr(p, debt):
    """Utilization-kinked borrow rate of the USDC lending market."""
    u = np.clip(safe_div(debt, p["lending_supply"]), 0.0, 1.0)
    kink = p["borrow_kink"]
    return (p["borrow_base"] + p["borrow_slope"] * np.minimum(u, kink) / kink
            + p["borrow_jump"] * np.maximum(u - kink, 0.0) / (1 - kink))


def _institutions_redeem(p, s, x, want):
    """Institutions redeem `want` HUSD through the Minter, as far as the hourly cap and the
    protocol's instant liquidity allow. Returns what went through. Mutates s."""
    r = np.minimum(want, redeem_room(p, s, x["dt_hours"]))
    minter_redeem(p, s, r, holder="inst_husd")
    s["loss_institutional"] = s["loss_institutional"] + r * p["redeem_fee"]
    s["inst_exited_husd"] = s["inst_exited_husd"] + r
    return r


def _retail_and_institutions(p, s, x):
    dt = x["dt_hours"]
    # random retail order flow, larger in stress
    flow = p["retail_noise_per_hour"] * np.sqrt(dt) * x["flow_noise"] * (1 + x["stress"])
    sell = flow < 0
    amount = np.where(sell, np.minimum(-flow, s["retail_husd"]), flow)
    _trade_class(p, s, x, "retail", amount, sell)

    # institutions exit early, through the Minter (they have redemption access), within caps
    price = s["pool_sqrt_price"] ** 2
    run_step = 1 - (1 - x["run_rate_institutional"]) ** dt
    want = s["inst_husd"] * (np.where(1 - price > p["inst_exit_discount"], per_step(p["inst_exit_per_hour"], dt), 0.0)
                             + run_step)
    want = np.minimum(want, s["inst_husd"])
    r = _institutions_redeem(p, s, x, want)
    # what caps did not let through is sold on the pool, but not below their limit price
    lim = np.sqrt(1 - p["inst_max_pool_discount"])
    before = s["inst_husd"]
    _trade_class(p, s, x, "institutional", want - r, np.ones_like(want, dtype=bool), sqrt_limit=lim)
    s["inst_exited_husd"] = s["inst_exited_husd"] + (before - s["inst_husd"])

    # retail exits late: on a large discount, or after their patience with a depeg runs out, or in a run
    price = s["pool_sqrt_price"] ** 2
    panic = (1 - price > p["retail_panic_discount"]) | (s["hours_below"] > p["retail_patience_hours"])
    run_step = 1 - (1 - x["run_rate_retail"]) ** dt
    # levered retail sells HUSD to meet margin calls on their BTC when it falls
    margin_call = p["retail_btc_leverage"] * np.maximum(0.0, 1 - x["btc_usd"] / x["btc_usd_prev"])
    sell_amt = s["retail_husd"] * np.minimum(np.where(panic, per_step(p["retail_panic_per_hour"], dt), 0.0) + run_step + margin_call, 1.0)
    _trade_class(p, s, x, "retail", sell_amt, np.ones_like(sell_amt, dtype=bool))


def _loopers(p, s, x):
    """Leverage grows while staker yield beats the borrow rate and unwinds when it does not.

    The lending market prices sHUSD collateral with a TWAP-like oracle: the pool price at the end of
    the previous step (`peg_price`), not the intra-step price that arbitrage is about to close.
    """
    price = s["peg_price"]
    sp = safe_div(s["vault_husd"], s["vault_shares"], 1.0)
    coll = s["looper_shares"] * sp
    coll_val = coll * price
    debt = s["looper_debt_usd"]
    ltv = safe_div(debt, coll_val)
    spread = s["staker_apr"] - borrow_apr(p, debt)
    target = np.where(spread > p["loop_min_spread"], p["loop_max_ltv"], np.where(spread < 0, 0.0, ltv))
    speed = p["loop_speed_per_hour"] * x["dt_hours"]
    new_ltv = ltv + np.clip(target - ltv, -speed, speed)
    up = new_ltv > ltv
    borrow = np.minimum(np.maximum(new_ltv * coll_val - debt, 0.0) / (1 - new_ltv),
                        np.maximum(p["lending_supply"] - debt, 0.0))
    sell = np.minimum(safe_div(np.maximum(debt - new_ltv * coll_val, 0.0) / (1 - new_ltv), price), coll)
    amount = np.where(up, borrow, np.where(new_ltv < ltv, sell, 0.0))
    out, used = _swap(p, s, x, "looper", amount, ~up)
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
    repay = np.where(liq, p["loop_close_factor"] * debt, 0.0)
    seize = np.minimum(safe_div(repay * (1 + p["loop_liq_bonus"]), price), coll)
    s["looper_shares"] = s["looper_shares"] - safe_div(seize, sp)
    s["vault_shares"] = s["vault_shares"] - safe_div(seize, sp)
    s["vault_husd"] = s["vault_husd"] - seize
    s["looper_debt_usd"] = debt - repay
    s["loss_loopers"] = s["loss_loopers"] + (seize - repay)
    s["looper_liquidated_usd"] = s["looper_liquidated_usd"] + seize
    s["float_husd"] = s["float_husd"] + seize
    _swap(p, s, x, "liquidation", seize, np.ones_like(seize, dtype=bool))  # the liquidator's sale; proceeds are theirs


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
    # outflows: institutions redeem what they no longer want, within caps and liquidity
    out = _institutions_redeem(p, s, x, np.maximum(-rate, 0.0) * s["inst_husd"])
    s["deposits_usd"] = s["deposits_usd"] - out


def _buy_to(p, s, x, target_price, budget_husd):
    """Arbitrageur buys HUSD on the pool up to `target_price`, at most about `budget_husd` of it."""
    st = np.sqrt(target_price)
    if not np.any(s["pool_sqrt_price"] < st):  # no run is below the target: nothing to buy
        return np.zeros_like(s["pool_sqrt_price"])
    a0, a1, _ = amm.amounts_to_reach(s["pool_sqrt_price"], st, p["curve"], s["pool_depth"], p["pool_fee"])
    need_out, need_in = np.maximum(-a0, 0.0), np.maximum(a1, 0.0)
    usdc = np.where(need_out > budget_husd, need_in * safe_div(budget_husd, need_out), need_in)
    worth = usdc * np.maximum(target_price - s["pool_sqrt_price"] ** 2, 0.0) / 2 > p["arb_gas_usd"]
    out, _used = _swap(p, s, x, "arbitrage", np.where(worth, usdc, 0.0), np.zeros_like(usdc, dtype=bool), sqrt_limit=st)
    return np.minimum(out, budget_husd)


def _sell_to(p, s, x, target_price, budget_husd):
    """Arbitrageur sells freshly minted HUSD down to `target_price`; returns HUSD minted for it."""
    st = np.sqrt(target_price)
    if not np.any(s["pool_sqrt_price"] > st):  # no run is above the target: nothing to sell
        return np.zeros_like(s["pool_sqrt_price"])
    a0, _a1, _ = amm.amounts_to_reach(s["pool_sqrt_price"], st, p["curve"], s["pool_depth"], p["pool_fee"])
    m = np.minimum(np.maximum(a0, 0.0), budget_husd)
    worth = m * np.maximum(s["pool_sqrt_price"] ** 2 - target_price, 0.0) / 2 > p["arb_gas_usd"]
    m = np.where(worth, m, 0.0)
    _swap(p, s, x, "arbitrage", m, np.ones_like(m, dtype=bool), sqrt_limit=st)
    return m


def _arbitrage(p, s, x):
    edge, dt = p["arb_edge"], x["dt_hours"]
    if p["psm_enabled"]:
        # below the peg: buy on the pool, swap HUSD for USDC in the PSM (limited by its USDC)
        r = _buy_to(p, s, x, 1 - p["psm_fee"] - edge, psm_room_out(p, s))
        psm_swap_out(p, s, r)
    # below the peg: buy on the pool and redeem through the Minter within the hourly cap
    r = _buy_to(p, s, x, 1 - p["redeem_fee"] - edge, redeem_room(p, s, dt))
    minter_redeem(p, s, r)
    if p["psm_enabled"]:
        # above the peg: USDC into the PSM for HUSD (up to its ceiling), sold on the pool
        m = _sell_to(p, s, x, 1 + p["psm_fee"] + edge, psm_room_in(p, s))
        psm_swap_in(p, s, m)
    # above the peg: mint through the Minter (not while paused) within the cap, sell on the pool;
    # minted HUSD went into the pool (sold) or stays in arbitrage inventory: both are float
    m = _sell_to(p, s, x, 1 + p["mint_fee"] + edge, mint_room(p, s, dt))
    minter_mint(p, s, m)


TRADING_VARS = ("pool_sqrt_price", "retail_husd", "inst_husd", "float_husd", "loss_retail", "loss_institutional",
                "loss_loopers", "looper_shares", "vault_shares", "vault_husd", "looper_debt_usd",
                "looper_liquidated_usd", "supply", "burned_husd", "minted_husd", "redeemed_usd", "redeem_cap_used_usd",
                "mint_cap_used_usd", "psm_usdc", "psm_minted", "buffer_usd", "tbill_units", "tbill_instant_used_usd",
                "btc_units", "btc_short_units", "btc_margin_usd", "xau_units", "xau_short_units", "xau_margin_usd",
                "unwind_used_usd", "cum_costs", "cum_collateral_out", "cum_collateral_in", "hours_below",
                "inst_exited_husd", "deposits_usd", "staker_shares")


def p_trading(p: dict, s: dict, x: dict) -> dict:
    """Spec: retail trade only on the pool and exit late; institutions exit early at small discounts;
    loopers lever and unwind through the pool; arbitrageurs mint/redeem when the spread beats fee +
    gas, within caps; the PSM swaps 1:1 less its fee up to its ceiling."""
    o = dict(s)
    if p["growth_enabled"]:
        _growth(p, o, x)
    _retail_and_institutions(p, o, x)
    _loopers(p, o, x)
    if p["arb_enabled"]:
        _arbitrage(p, o, x)
    below = o["pool_sqrt_price"] ** 2 < p["depeg_threshold"]
    o["hours_below"] = np.where(below, s["hours_below"] + x["dt_hours"], 0.0)
    return {k: o[k] for k in TRADING_VARS}
