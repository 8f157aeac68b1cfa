"""Revenue and loss absorption: the reserve fund covers deficits, the backstop sells HYB when the
reserve is empty, and surplus is distributed to stakers (sHUSD) and the reserve."""
from __future__ import annotations

import numpy as np

from sim.model.actions import backstop_recapitalize, backstop_sale_room, distribute_rewards, reserve_deposit, reserve_pay
from sim.model.parts.common import backing, safe_div
from sim.types import HOURS_PER_YEAR

APR_SMOOTHING_HOURS = 168.0  # the staker APR the market sees is smoothed over about a week
TREASURY_VARS = ("reserve_fund_usd", "reserve_drawn_usd", "reserve_added_usd", "buffer_usd", "hyb_sqrt_price", "hyb_sold",
                 "backstop_day_used_usd", "cum_backstop_in", "supply", "minted_husd", "vault_husd",
                 "staker_rewards_usd", "staker_apr", "carry_paid_mark_usd")


def p_treasury(p: dict, s: dict, x: dict) -> dict:
    """Spec: the reserve fund absorbs negative funding and losses before holders; when it is exhausted
    the backstop sells HYB into its pool to recapitalize (HYB falls first, the peg is defended with it);
    revenue is split between stakers and the reserve every distribution interval."""
    # Parameters
    dt = x["dt_hours"]
    # State Variables
    o = {k: s[k] for k in TREASURY_VARS}
    hour = x["hour"]
    # reserve covers a deficit, within its per-hour draw limit
    deficit = np.maximum(s["supply"] - backing(s), 0.0)
    deficit = deficit - reserve_pay(p, o, deficit, dt)
    # backstop: HYB sold for USDC when the reserve is empty and the deficit is material
    if p["backstop_enabled"]:
        act = (o["reserve_fund_usd"] < 1.0) & (deficit > p["backstop_trigger"] * s["supply"])
        want = np.where(act, np.minimum(deficit, backstop_sale_room(p, o)), 0.0)
        backstop_recapitalize(p, o, want, x.get("tape"))
    # distribution: surplus to stakers (minted into the vault) and to the reserve (moved out of the buffer)
    dist_now = (hour % p["distribution_interval"]) < dt
    surplus = np.where(dist_now, np.maximum(backing({**s, **o}) - o["supply"], 0.0), 0.0)
    if p["distribute_carry_only"]:
        # pay out at most the carry earned since the last payout; hedge marks stay as a cushion
        carry = s["cum_yield"] + s["cum_funding"]
        surplus = np.minimum(surplus, np.maximum(carry - o["carry_paid_mark_usd"], 0.0))
        o["carry_paid_mark_usd"] = np.where(dist_now, carry, o["carry_paid_mark_usd"])
    to_stakers = surplus * p["staker_share"]
    distribute_rewards(o, to_stakers)
    reserve_deposit(o, surplus - to_stakers)
    # the staker APR the market sees: distributions annualised, smoothed over about a week
    apr_now = safe_div(to_stakers, s["vault_husd"]) * HOURS_PER_YEAR / p["distribution_interval"]
    w = (1 - np.exp(-dt / APR_SMOOTHING_HOURS)) * p["distribution_interval"] / dt
    o["staker_apr"] = np.where(dist_now, o["staker_apr"] + min(w, 1.0) * (apr_now - o["staker_apr"]), o["staker_apr"])
    return o
