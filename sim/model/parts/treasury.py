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
    revenue is split between stakers and the reserve every distribution interval (`distribution`)."""
    # Parameters
    dt = p["dt_hours"]
    # State Variables
    o = {k: s[k] for k in ("reserve_fund_usd", "reserve_drawn_usd", "reserve_added_usd", "reserve_lent_usd",
                           "reserve_repaid_usd",
                           "buffer_usd", "hyb_sqrt_price", "hyb_sold", "backstop_day_used_usd", "cum_backstop_in",
                           "supply", "minted_husd", "vault_husd", "staker_rewards_usd", "staker_apr",
                           "carry_paid_mark_usd", "staker_carry_account_usd")}
    hour = x["hour"]
    # reserve covers a deficit, within its per-hour draw limit
    deficit = np.maximum(s["supply"] - backing(s), 0.0)
    draw = np.minimum(np.minimum(deficit, o["reserve_fund_usd"]), p["reserve_draw_step"])
    o["reserve_fund_usd"] = o["reserve_fund_usd"] - draw
    o["reserve_drawn_usd"] = o["reserve_drawn_usd"] + draw
    o["reserve_lent_usd"] = o["reserve_lent_usd"] + draw
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
    dist_now = (hour % p["distribution_interval"]) < dt
    to_stakers = distribution(p, s, o, dist_now)
    # the staker APR the market sees: distributions annualised, smoothed over about a week
    apr_now = safe_div(to_stakers, s["vault_husd"]) * HOURS_PER_YEAR / p["distribution_interval"]
    w = p["apr_ema_weight"] * p["distribution_interval"] / dt
    o["staker_apr"] = np.where(dist_now, o["staker_apr"] + min(w, 1.0) * (apr_now - o["staker_apr"]), o["staker_apr"])
    return o


def _pay_stakers(o: dict, amount) -> None:
    """Mint `amount` HUSD into the sHUSD vault: the stakers' share price rises."""
    o["supply"] = o["supply"] + amount
    o["minted_husd"] = o["minted_husd"] + amount
    o["vault_husd"] = o["vault_husd"] + amount
    o["staker_rewards_usd"] = o["staker_rewards_usd"] + amount


def _move_to_reserve(o: dict, amount) -> None:
    """Move `amount` (may be negative: the reserve pays in) between the buffer and the reserve fund."""
    amount = np.where(amount > 0, np.minimum(amount, np.maximum(o["buffer_usd"], 0.0)),
                      -np.minimum(-amount, np.maximum(o["reserve_fund_usd"], 0.0)))
    o["buffer_usd"] = o["buffer_usd"] - amount
    o["reserve_fund_usd"] = o["reserve_fund_usd"] + amount
    o["reserve_added_usd"] = o["reserve_added_usd"] + np.maximum(amount, 0.0)
    o["reserve_drawn_usd"] = o["reserve_drawn_usd"] + np.maximum(-amount, 0.0)


def distribution(p: dict, s: dict, o: dict, dist_now):
    """The revenue rule, on distribution steps (`protocol.revenue.distribute`); returns what stakers got.

    carry: the realised carry C since the last payout (T-bill yield + funding, net) is split by the
    staker share s. The reserve takes (1 - s) C, or pays (1 - s)|C| into the backing when C < 0 (as far
    as its balance goes: its loss, not a loan). The stakers' s C goes to their carry account; a positive balance is paid
    (while backing + reserve cover supply), a negative one waits to be netted against their future
    carry: their yield falls to zero, never below. Marks (price PnL, basis, unhedged gains) stay in the
    backing; backing above supply then repays what the reserve has lent the backing (deficit and margin
    draws: `reserve_lent_usd`).
    surplus: backing above supply, less the unhedged gains (backing, not yield), split by s.
    """
    bk = backing({**s, **o})
    if p["distribute_carry_only"]:
        carry = s["cum_yield"] + s["cum_funding"]
        c = np.where(dist_now, carry - o["carry_paid_mark_usd"], 0.0)
        o["carry_paid_mark_usd"] = np.where(dist_now, carry, o["carry_paid_mark_usd"])
        _move_to_reserve(o, c * (1 - p["staker_share"]))
        account = o["staker_carry_account_usd"] + c * p["staker_share"]
        room = np.maximum(bk + o["reserve_fund_usd"] - o["supply"], 0.0)
        to_stakers = np.where(dist_now, np.minimum(np.maximum(account, 0.0), room), 0.0)
        o["staker_carry_account_usd"] = account - to_stakers
        _pay_stakers(o, to_stakers)
        # marks that came back repay the reserve's draws
        repay = np.where(dist_now, np.minimum(o["reserve_lent_usd"], np.maximum(backing({**s, **o}) - o["supply"], 0.0)),
                         0.0)
        repay = np.minimum(repay, np.maximum(o["buffer_usd"], 0.0))
        o["buffer_usd"] = o["buffer_usd"] - repay
        o["reserve_fund_usd"] = o["reserve_fund_usd"] + repay
        o["reserve_lent_usd"] = o["reserve_lent_usd"] - repay
        o["reserve_repaid_usd"] = o["reserve_repaid_usd"] + repay
        return to_stakers
    surplus = np.where(dist_now, np.maximum(bk - o["supply"] - np.maximum(s["cum_unhedged_pnl"], 0.0), 0.0), 0.0)
    to_stakers = surplus * p["staker_share"]
    _pay_stakers(o, to_stakers)
    _move_to_reserve(o, surplus - to_stakers)
    return to_stakers
