"""Accrual of one step: T-bill NAV, transfers landing, the delta-neutral crypto sleeves (spot + short
perp) marked in fine steps through a shock with funding and basis, the venue's partial liquidation
of a short under maintenance, venue failure (its margin becomes a claim), custody freezes (frozen
backing becomes a claim until it resolves), claim payouts, and T+1 settlement of T-bill redemptions."""
from __future__ import annotations

import numpy as np

from sim.model.parts import claims, custody
from sim.model.parts.common import safe_div
from sim.model.state import CLAIMS, HEDGED_ASSETS, NO_SHORT, margin_vars, sleeve_vars
from sim.types import HOURS_PER_YEAR

ACCRUE_VARS = ("tbill_nav", "tbill_units", "tbill_pending_usd", "buffer_usd", "cum_yield", "cum_funding", "cum_basis",
               "cum_hedge_pnl", "cum_spot_pnl", "cum_unhedged_pnl", "cum_costs", "cum_venue_loss", "hedge_liquidations",
               "margin_ratio_low", *sleeve_vars(), *margin_vars("to_venue_usd", "from_venue_usd", "venue_down"),
               *(f"{CLAIMS}_{k}" for k in claims.FIELDS), *custody.VARS)


def substeps(p: dict, x: dict):
    """Sub-steps a step that liquidates is marked in, per run: enough that no sub-step moves a hedged
    price by more than `max_substep_move` (log), at most `max_substeps`; 1 in a quiet hour."""
    move = 0.0
    for a in HEDGED_ASSETS:
        move = np.maximum(move, np.abs(np.log(safe_div(x[f"{a}_usd"], x[f"{a}_usd_prev"], 1.0))))
    return np.clip(np.ceil(move / p["max_substep_move"]), 1.0, p["max_substeps"])


def liquidate(p: dict, short, margin, notional, fill_share):
    """The venue's liquidation engine at one (sub-)step: a short whose margin is under maintenance is
    closed far enough to bring margin back to maintenance after the penalty, at most `fill_share` of
    it (partial fills); a position with no equity left is taken over whole (the venue absorbs
    negative equity: the protocol's loss is capped at its margin). Returns (short, margin, breached)."""
    mm, pen = p["maintenance_margin"], p["liquidation_penalty"]
    breach = (short > 0) & (margin < mm * notional)
    if not np.any(breach):  # the usual hour: nothing to do (the same numbers as doing it)
        return short, margin, breach
    # close x of the short: margin - pen x N >= mm N (1 - x)  <=>  x >= (mm N - margin) / (N (mm - pen))
    need = np.clip(safe_div(mm * notional - margin, notional * (mm - pen), 1.0), 0.0, 1.0) if mm > pen else 1.0
    x = np.where(breach, np.where(margin <= 0, 1.0, np.minimum(need, fill_share)), 0.0)
    margin_after = np.where(breach, np.maximum(margin - pen * x * notional, 0.0), margin)
    return short * (1 - x), margin_after, breach


MARK_KEYS = ("short", "margin", "spot_pnl", "price_pnl", "basis", "funding", "cost", "low", "hit")


def mark(p: dict, units, short, margin, P0, P, f0, f, n, dt) -> dict:
    """Mark one hedged sleeve over a step in n sub-steps (geometric in price, linear in funding; the last
    ends exactly at the step's values): price PnL, basis and funding settle into margin, and the venue
    liquidates at every sub-step where margin is under maintenance. Returns the new short and margin,
    the step's sums (spot and price PnL, basis, funding, liquidation cost), the lowest margin / notional
    of an open short (inf: none) and whether the venue liquidated. A run with fewer sub-steps than the
    most in its batch adds exact zeros after its last; with n = 1 everywhere it is one plain pass."""
    k_prem = p["premium_per_funding"]
    fill_share = np.minimum(p["liquidation_fill_per_hour"] * dt, 1.0) / n
    steps = int(np.max(n))
    lr = np.log(safe_div(P, P0, 1.0)) if steps > 1 else 0.0
    out = dict.fromkeys(("spot_pnl", "price_pnl", "basis", "funding", "cost"), 0.0)
    low, hit = np.inf, False
    for i in range(steps):
        if steps == 1:
            Pa, Pb, fa, fb, live = P0, P, f0, f, True
        else:
            lo, hi = np.minimum(i, n) / n, np.minimum(i + 1, n) / n
            Pa, Pb = (np.where(w >= 1, P, P0 * np.exp(lr * w)) for w in (lo, hi))
            fa, fb = (np.where(w >= 1, f, f0 + (f - f0) * w) for w in (lo, hi))
            live = i < n
        spot_pnl = units * (Pb - Pa)
        price_pnl = -short * (Pb - Pa)
        # the perp trades at a premium to spot that moves with funding: its change is the basis PnL
        basis = -short * (Pb * k_prem * fb - Pa * k_prem * fa)
        funding = short * Pb * fb * dt / 8.0 / n
        if steps > 1:
            funding = np.where(live, funding, 0.0)
        margin = margin + price_pnl + basis + funding
        notional = short * Pb
        open_ = (short > 0) & live
        low = np.minimum(low, np.where(open_, margin / np.where(open_, notional, 1.0), np.inf))
        short_after, margin_after, breach = liquidate(p, short, margin, notional, fill_share)
        breach = breach & live
        if np.any(breach):
            out["cost"] = out["cost"] + np.where(breach, margin - margin_after, 0.0)
            short, margin = np.where(breach, short_after, short), np.where(breach, margin_after, margin)
            hit = hit | breach
        for k, v in (("spot_pnl", spot_pnl), ("price_pnl", price_pnl), ("basis", basis), ("funding", funding)):
            out[k] = out[k] + v
    return {**out, "short": short, "margin": margin, "low": low, "hit": hit}


def _mark_runs(p: dict, o: dict, x: dict, a: str, dt) -> dict:
    """`mark` for every run: one plain pass, then again in n sub-steps where that pass met the venue's
    liquidation engine. Within a step the price path is monotone, so a short's margin / notional is
    lowest at one end: a pass that ends above maintenance never crossed it, and only a step that
    crosses needs fine steps to liquidate at the crossing (a batch pays for them only there; each run's
    numbers are those of `mark` alone)."""
    args = [o[f"{a}_units"], o[f"{a}_short_units"], o[f"{a}_margin_usd"], x[f"{a}_usd_prev"], x[f"{a}_usd"],
            x[f"funding_rate_8h_{a}_prev"], x[f"funding_rate_8h_{a}"]]
    res = mark(p, *args, 1.0, dt)
    if not np.any(res["hit"]):
        return res
    n = substeps(p, x)
    if np.ndim(n) == 0:
        return mark(p, *args, n, dt) if n > 1 else res
    idx = np.flatnonzero((n > 1) & res["hit"])
    if idx.size:
        sub = mark(p, *(np.broadcast_to(v, n.shape)[idx] for v in args), n[idx], dt)
        for k in MARK_KEYS:
            full = np.array(np.broadcast_to(res[k], n.shape), dtype=float)
            full[idx] = sub[k]
            res[k] = full
    return res


def p_accrue(p: dict, s: dict, x: dict) -> dict:
    """Spec: T-bill NAV accrues the yield; each crypto sleeve holds spot and an equal short perp whose
    PnL, funding (shorts receive positive funding) and basis settle into cash margin at the venue.
    Margin below maintenance has the venue liquidate the short partially, with a penalty (the sleeve
    is then partly unhedged until rebalancing re-hedges); a step in which that happens is re-marked in
    sub-steps so it happens at the crossing. `margin_ratio_low` is the step's lowest margin / notional
    before the venue acts (`NO_SHORT` with no short open). Transfers in flight land when due (to a venue only while it is up). A
    venue failure closes its share of the hedge and turns that share of margin into a claim, marked at
    the expected recovery and paid out on the event's schedule. A custody freeze takes its share of the
    listed sleeves into a claim marked at the expected recovery until it resolves (`custody`).
    """
    # Parameters
    dt = x["dt_hours"]
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

    # transfers in flight land when due: top-ups at a venue that is up, sweeps in custody
    for a in HEDGED_ASSETS:
        down = x[f"venue_down_{a}"]
        o[f"{a}_venue_down"] = down
        if not (np.any(o[f"{a}_to_venue_usd"] > 0) or np.any(o[f"{a}_from_venue_usd"] > 0)):
            continue
        lands = (o[f"{a}_to_venue_usd"] > 0) & (hour >= s[f"{a}_to_venue_due_hour"]) & (down == 0)
        o[f"{a}_margin_usd"] = o[f"{a}_margin_usd"] + np.where(lands, o[f"{a}_to_venue_usd"], 0.0)
        o[f"{a}_to_venue_usd"] = np.where(lands, 0.0, o[f"{a}_to_venue_usd"])
        back = (o[f"{a}_from_venue_usd"] > 0) & (hour >= s[f"{a}_from_venue_due_hour"])
        o["buffer_usd"] = o["buffer_usd"] + np.where(back, o[f"{a}_from_venue_usd"], 0.0)
        o[f"{a}_from_venue_usd"] = np.where(back, 0.0, o[f"{a}_from_venue_usd"])

    # mark the hedge, in sub-steps through a large move
    low, liquidated = np.inf, 0.0
    for a in HEDGED_ASSETS:
        r = _mark_runs(p, o, x, a, dt)
        o[f"{a}_short_units"], o[f"{a}_margin_usd"] = r["short"], r["margin"]
        o["cum_costs"] = o["cum_costs"] + r["cost"]
        o["cum_spot_pnl"] = o["cum_spot_pnl"] + r["spot_pnl"]
        o["cum_hedge_pnl"] = o["cum_hedge_pnl"] + r["price_pnl"]
        o["cum_unhedged_pnl"] = o["cum_unhedged_pnl"] + r["spot_pnl"] + r["price_pnl"]
        o["cum_basis"] = o["cum_basis"] + r["basis"]
        o["cum_funding"] = o["cum_funding"] + r["funding"]
        low = np.minimum(low, r["low"])
        liquidated = liquidated + r["hit"]
    o["hedge_liquidations"] = o["hedge_liquidations"] + liquidated
    o["margin_ratio_low"] = np.minimum(low, NO_SHORT)

    venue_claims(o, x)
    custody.step(o, x)  # a custody freeze: after the marks, at the step's prices
    return o


def venue_claims(o: dict, x: dict) -> None:
    """Venue failure: positions there are closed, the margin there becomes a claim marked at the expected
    recovery (negative equity there is walked away from: a gain); then the claims are re-marked and paid.
    Mutates o; a step with no claim event changes nothing."""
    fail = x["venue_failure_share"]
    if not (np.any(fail > 0) or np.any(x["venue_claim_rate"] >= 0) or np.any(x["venue_claim_settle_share"] > 0)):
        return
    face, walked = 0.0, 0.0
    for a in HEDGED_ASSETS:
        m = o[f"{a}_margin_usd"]
        face = face + fail * np.maximum(m, 0.0)
        walked = walked + fail * np.minimum(m, 0.0)
        o[f"{a}_margin_usd"] = m * (1 - fail)
        o[f"{a}_short_units"] = o[f"{a}_short_units"] * (1 - fail)
    loss = claims.open_claim(o, CLAIMS, face, x["venue_claim_rate"])  # face 0 off a failure step: a re-mark at most
    o["cum_venue_loss"] = o["cum_venue_loss"] + loss + walked
    o["buffer_usd"] = o["buffer_usd"] + claims.settle(o, CLAIMS, x["venue_claim_settle_share"])

