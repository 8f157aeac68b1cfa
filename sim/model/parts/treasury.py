"""Revenue and loss absorption: the reserve fund covers deficits, the backstop sells HYB when the
reserve is empty, and surplus is distributed to stakers (sHUSD) and the reserve."""
from __future__ import annotations

import numpy as np

from sim.model.actions import backstop_recapitalize, backstop_sale_room, distribute_rewards, reserve_deposit, reserve_pay
from sim.model.parts.common import backing, claim_marks, safe_div
from sim.types import HOURS_PER_YEAR

APR_SMOOTHING_HOURS = 168.0  # the staker APR the market sees is smoothed over about a week
TREASURY_VARS = ("reserve_fund_usd", "reserve_drawn_usd", "reserve_added_usd", "buffer_usd", "hyb_sqrt_price", "hyb_sold",
                 "backstop_day_used_usd", "cum_backstop_in", "supply", "minted_husd", "vault_husd",
                 "staker_rewards_usd", "staker_apr", "carry_paid_mark_usd", "staker_carry_account_usd",
                 "reserve_lent_usd", "reserve_repaid_usd")


def p_treasury(p: dict, s: dict, x: dict) -> dict:
    """Spec: the reserve fund absorbs negative funding and losses before holders; when it is exhausted
    the backstop sells HYB into its pool to recapitalize (HYB falls first, the peg is defended with it);
    revenue is split between stakers and the reserve every distribution interval (`distribution`)."""
    # Parameters
    dt = x["dt_hours"]
    # State Variables
    o = {k: s[k] for k in TREASURY_VARS}
    hour = x["hour"]
    # reserve covers a deficit, within its per-hour draw limit
    deficit = np.maximum(s["supply"] - backing(s), 0.0)
    drawn = reserve_pay(p, o, deficit, dt)
    o["reserve_lent_usd"] = o["reserve_lent_usd"] + drawn  # a loan to the backing, repaid from later surplus
    deficit = deficit - drawn
    # backstop: HYB sold for USDC when the reserve is empty and the deficit is material
    if p["backstop_enabled"]:
        act = (o["reserve_fund_usd"] < 1.0) & (deficit > p["backstop_trigger"] * s["supply"])
        want = np.where(act, np.minimum(deficit, backstop_sale_room(p, o)), 0.0)
        backstop_recapitalize(p, o, want, x.get("tape"))
    dist_now = (hour % p["distribution_interval"]) < dt
    to_stakers = distribution(p, s, o, dist_now)
    # the staker APR the market sees: distributions annualised, smoothed over about a week
    apr_now = safe_div(to_stakers, s["vault_husd"]) * HOURS_PER_YEAR / p["distribution_interval"]
    w = (1 - np.exp(-dt / APR_SMOOTHING_HOURS)) * p["distribution_interval"] / dt
    o["staker_apr"] = np.where(dist_now, o["staker_apr"] + min(w, 1.0) * (apr_now - o["staker_apr"]), o["staker_apr"])
    return o


def distribution(p: dict, s: dict, o: dict, dist_now):
    """The revenue rule, on distribution steps (`protocol.revenue.distribute`); mutates o and returns
    what the stakers got.

    carry: the realised carry C since the last payout (T-bill yield + funding, net) is split by the
    staker share s. The reserve takes (1 - s) C, or pays (1 - s)|C| into the backing when C < 0 (as far
    as its balance goes: its loss, not a loan). The stakers' s C goes to their carry account; a
    positive balance is paid out of realised backing above supply (as the Minter allows), a negative
    one waits to be netted against their future carry: their yield falls to zero, never below. Marks
    (price PnL, basis, unhedged gains) stay in the backing; backing above supply then repays what the
    reserve has lent the backing (deficit and margin draws: `reserve_lent_usd`).
    surplus: backing above supply, less the unhedged gains (backing, not yield), split by s.
    """
    if not np.any(dist_now):  # the same step for every run
        return 0.0
    if not p["distribute_carry_only"]:
        surplus = np.where(dist_now, np.maximum(backing({**s, **o}) - o["supply"] - np.maximum(s["cum_unhedged_pnl"], 0.0), 0.0), 0.0)
        to_stakers = surplus * p["staker_share"]
        distribute_rewards(o, to_stakers)
        reserve_deposit(o, surplus - to_stakers)
        return to_stakers
    carry = s["cum_yield"] + s["cum_funding"]
    c = np.where(dist_now, carry - o["carry_paid_mark_usd"], 0.0)
    o["carry_paid_mark_usd"] = np.where(dist_now, carry, o["carry_paid_mark_usd"])
    reserve_part = c * (1 - p["staker_share"])
    reserve_deposit(o, np.maximum(reserve_part, 0.0))
    paid_in = np.minimum(np.maximum(-reserve_part, 0.0), np.maximum(o["reserve_fund_usd"], 0.0))
    o["reserve_fund_usd"] = o["reserve_fund_usd"] - paid_in
    o["reserve_drawn_usd"] = o["reserve_drawn_usd"] + paid_in
    o["buffer_usd"] = o["buffer_usd"] + paid_in
    account = o["staker_carry_account_usd"] + c * p["staker_share"]
    b = backing({**s, **o})  # rewards below only add supply: the backing stays this until the repayment
    # Minter.distributeRewards mints only within realised backing above supply: the reserve is the holders'
    # first-loss cover, not the stakers' yield, and a claim on a failed venue or frozen custody is not cash
    room = np.maximum(b - claim_marks(s) - o["supply"], 0.0)
    to_stakers = np.where(dist_now, np.minimum(np.maximum(account, 0.0), room), 0.0)
    o["staker_carry_account_usd"] = account - to_stakers
    distribute_rewards(o, to_stakers)
    # marks that came back repay what the reserve lent the backing
    repay = np.where(dist_now, np.minimum(o["reserve_lent_usd"], np.maximum(b - o["supply"], 0.0)), 0.0)
    repay = reserve_deposit(o, repay)
    o["reserve_lent_usd"] = o["reserve_lent_usd"] - repay
    o["reserve_repaid_usd"] = o["reserve_repaid_usd"] + repay
    return to_stakers
