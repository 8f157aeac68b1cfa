"""Revenue and loss absorption: the reserve fund covers deficits, the backstop sells HYB when the
reserve is empty, and surplus is distributed to stakers (sHUSD) and the reserve."""
from __future__ import annotations

import numpy as np

from sim.model import amm
from sim.model.parts.common import backing, safe_div

HOURS_PER_YEAR = 8760.0


def hyb_sale_for_usd(p: dict, sqrt_p, usd):
    """HYB to sell into the HYB/USDC pool to raise `usd` (exact output), and the new sqrt price.

    Closed form on the single HYB position: selling HYB lowers s by Δy/L; the fee is on the HYB in.
    The sale stops at the position's lower bound (no liquidity below).
    """
    curve = p["hyb_curve"]
    L, s_lo = curve.seg_L[0], curve.bounds[0]
    dy = np.minimum(usd, np.maximum(sqrt_p - s_lo, 0.0) * L)
    s_new = sqrt_p - dy / L
    hyb_in = safe_div(L * (1 / s_new - 1 / sqrt_p), 1 - p["hyb_fee"])
    return hyb_in, s_new, dy


def p_treasury(p: dict, s: dict, x: dict) -> dict:
    """Spec: the reserve fund absorbs negative funding and losses before holders; when it is exhausted
    the backstop sells HYB into its pool to recapitalize (HYB falls first, the peg is defended with it);
    revenue is split between stakers and the reserve every distribution interval."""
    # Parameters
    dt = p["dt_hours"]
    # State Variables
    o = {k: s[k] for k in ("reserve_fund_usd", "reserve_drawn_usd", "reserve_added_usd", "buffer_usd", "hyb_sqrt_price",
                           "hyb_sold", "backstop_day_used_usd", "cum_backstop_in", "supply", "minted_husd",
                           "vault_husd", "staker_rewards_usd", "staker_apr", "carry_paid_mark_usd")}
    hour = x["hour"]
    # reserve covers a deficit, within its per-hour draw limit
    deficit = np.maximum(s["supply"] - backing(s), 0.0)
    draw = np.minimum(np.minimum(deficit, o["reserve_fund_usd"]), p["reserve_draw_step"])
    o["reserve_fund_usd"] = o["reserve_fund_usd"] - draw
    o["reserve_drawn_usd"] = o["reserve_drawn_usd"] + draw
    o["buffer_usd"] = o["buffer_usd"] + draw
    deficit = deficit - draw
    # backstop: HYB sold for USDC when the reserve is empty and the deficit is material
    if p["backstop_enabled"]:
        act = (o["reserve_fund_usd"] < 1.0) & (deficit > p["backstop_trigger"] * s["supply"])
        want = np.where(act, np.minimum(deficit, np.maximum(p["backstop_sale_day"] - o["backstop_day_used_usd"], 0.0)), 0.0)
        hyb_in, s_new, raised = hyb_sale_for_usd(p, o["hyb_sqrt_price"], want)
        o["hyb_sqrt_price"] = s_new
        o["hyb_sold"] = o["hyb_sold"] + hyb_in
        o["buffer_usd"] = o["buffer_usd"] + raised
        o["backstop_day_used_usd"] = o["backstop_day_used_usd"] + raised
        o["cum_backstop_in"] = o["cum_backstop_in"] + raised
    # distribution: surplus to stakers (minted into the vault) and to the reserve (moved out of the buffer)
    dist_now = (hour % p["distribution_interval"]) < dt
    surplus = np.where(dist_now, np.maximum(backing({**s, **o}) - o["supply"], 0.0), 0.0)
    if p["distribute_carry_only"]:
        # pay out at most the carry earned since the last payout; hedge marks stay as a cushion
        carry = s["cum_yield"] + s["cum_funding"]
        surplus = np.minimum(surplus, np.maximum(carry - o["carry_paid_mark_usd"], 0.0))
        o["carry_paid_mark_usd"] = np.where(dist_now, carry, o["carry_paid_mark_usd"])
    to_stakers = surplus * p["staker_share"]
    to_reserve = np.minimum(surplus - to_stakers, np.maximum(o["buffer_usd"], 0.0))
    o["supply"] = o["supply"] + to_stakers
    o["minted_husd"] = o["minted_husd"] + to_stakers
    o["vault_husd"] = o["vault_husd"] + to_stakers
    o["staker_rewards_usd"] = o["staker_rewards_usd"] + to_stakers
    o["buffer_usd"] = o["buffer_usd"] - to_reserve
    o["reserve_fund_usd"] = o["reserve_fund_usd"] + to_reserve
    o["reserve_added_usd"] = o["reserve_added_usd"] + to_reserve
    # the staker APR the market sees: distributions annualised, smoothed over about a week
    apr_now = safe_div(to_stakers, s["vault_husd"]) * HOURS_PER_YEAR / p["distribution_interval"]
    w = p["apr_ema_weight"] * p["distribution_interval"] / dt
    o["staker_apr"] = np.where(dist_now, o["staker_apr"] + min(w, 1.0) * (apr_now - o["staker_apr"]), o["staker_apr"])
    return o
