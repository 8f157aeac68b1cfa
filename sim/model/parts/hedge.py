"""Accrual of one step: T-bill NAV, the delta-neutral crypto sleeves (spot + short perp), funding and
basis, margin liquidation on a spike, venue failure, and T+1 settlement of T-bill redemptions."""
from __future__ import annotations

import numpy as np

from sim.model.parts.common import safe_div
from sim.model.state import HEDGED_ASSETS, sleeve_vars
from sim.types import HOURS_PER_YEAR

ACCRUE_VARS = ("tbill_nav", "tbill_units", "tbill_pending_usd", "buffer_usd", "cum_yield", "cum_funding", "cum_basis",
               "cum_hedge_pnl", "cum_spot_pnl", "cum_costs", "cum_venue_loss", "hedge_liquidations", *sleeve_vars())


def p_accrue(p: dict, s: dict, x: dict) -> dict:
    """Spec: T-bill NAV accrues the yield; each crypto sleeve holds spot and an equal short perp whose
    PnL, funding (shorts receive positive funding) and basis settle into cash margin at the venue.
    Margin below maintenance gets the short liquidated with a penalty (the sleeve is then unhedged
    until rebalancing re-hedges). A venue failure loses its share of the margin, less recoveries.
    """
    # Parameters
    dt = x["dt_hours"]
    k_prem = p["premium_per_funding"]
    # State Variables
    o = {k: s[k] for k in ACCRUE_VARS}
    hour = x["hour"]
    # T-bill sleeve: NAV accrues the yield (floored at zero: the fund does not charge for negative bills).
    nav = o["tbill_nav"] * (1 + np.maximum(x["tbill_yield"], 0.0) * dt / HOURS_PER_YEAR)
    o["cum_yield"] = o["cum_yield"] + o["tbill_units"] * (nav - o["tbill_nav"])
    o["tbill_nav"] = nav
    # T+1 redemptions land in the buffer when due.
    # (a fund that keeps bank hours settles only while they are open)
    due = (o["tbill_pending_usd"] > 0) & (hour >= s["tbill_pending_due_hour"]) & ((s["bank_open"] > 0) | (not p["tbill_bank_hours"]))
    o["buffer_usd"] = o["buffer_usd"] + np.where(due, o["tbill_pending_usd"], 0.0)
    o["tbill_pending_usd"] = np.where(due, 0.0, o["tbill_pending_usd"])

    fail, recovery = x["venue_failure_share"], x["venue_recovery_rate"]
    liquidated = 0.0
    for a in HEDGED_ASSETS:
        P0, P = x[f"{a}_usd_prev"], x[f"{a}_usd"]
        f0, f = x[f"funding_rate_8h_{a}_prev"], x[f"funding_rate_8h_{a}"]
        units, short, margin = o[f"{a}_units"], o[f"{a}_short_units"], o[f"{a}_margin_usd"]
        spot_pnl = units * (P - P0)
        price_pnl = -short * (P - P0)
        # the perp trades at a premium to spot that moves with funding: its change is the basis PnL
        basis = -short * (P * k_prem * f - P0 * k_prem * f0)
        funding = short * P * f * dt / 8.0
        margin = margin + price_pnl + basis + funding
        # venue failure: positions there are closed out, the margin there is lost but for recoveries
        recovered = fail * np.maximum(margin, 0.0) * recovery
        lost = fail * margin - recovered
        margin = margin * (1 - fail)
        short = short * (1 - fail)
        o["buffer_usd"] = o["buffer_usd"] + recovered
        # liquidation on a spike: margin under maintenance closes the short; a penalty is charged and the
        # venue absorbs any negative equity (the protocol's loss is capped at its margin)
        notional = short * P
        liq = (short > 0) & (margin < p["maintenance_margin"] * notional)
        margin_after = np.where(liq, np.maximum(margin - p["liquidation_penalty"] * notional, 0.0), margin)
        o["cum_costs"] = o["cum_costs"] + (margin - margin_after)
        liquidated = liquidated + liq
        o[f"{a}_margin_usd"] = margin_after
        o[f"{a}_short_units"] = np.where(liq, 0.0, short)
        o["cum_spot_pnl"] = o["cum_spot_pnl"] + spot_pnl
        o["cum_hedge_pnl"] = o["cum_hedge_pnl"] + price_pnl
        o["cum_basis"] = o["cum_basis"] + basis
        o["cum_funding"] = o["cum_funding"] + funding
        o["cum_venue_loss"] = o["cum_venue_loss"] + lost
    o["hedge_liquidations"] = o["hedge_liquidations"] + liquidated
    return o
