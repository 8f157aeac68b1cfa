"""Custody freezes with value at risk (issue 14): a share of some sleeves is frozen at a custodian, carried
at an expected recovery while frozen, and resolves to what is recovered.

At the freeze step the frozen share of each listed sleeve leaves that sleeve and becomes a claim in the
`custody_claim` ledger (`sim.model.parts.claims`), so nothing can leave it while frozen: redemptions,
margin calls and rebalancing only see what is still in the sleeves. What is frozen:
- T-bills and the buffer: that share of the fund tokens (at today's NAV) and of the USDC;
- BTC and gold: that share of the spot in custody. The matching share of the short is closed at once
  (where the venue is up; else re-hedging closes it when the venue is back), so the book stays
  delta-neutral on the spot it can still use. Margin at the venue is not at the custodian: not frozen.

The claim is in dollars at the freeze (as FTX's estate valued claims at petition-date prices; a frozen
T-bill position earns no NAV while frozen). It is marked at `expected_recovery` from the freeze on: the
write-down is booked in `cum_custody_loss`, lowers the backing the reserve's cover rule reads and the next
proof of reserves publishes. When the freeze ends the claim is re-marked at `recovered_share` (the
difference booked then: a loss, or a gain written back) and paid out in full at that mark into the
buffer, from where rebalancing takes it back to the sleeves. Any remaining deficit then goes through the
treasury's loss waterfall (reserve, backstop), as every loss of backing does.

Two freezes share one ledger, one mark and one resolution (`claims` documents the approximation).
"""
from __future__ import annotations

import numpy as np

from sim.model.parts import claims
from sim.model.state import CUSTODY, HEDGED_ASSETS

FREEZABLE = ("tbill", "btc", "xau", "buffer")
"""Sleeves a custody freeze can name; the per-step input `custody_freeze_{sleeve}` is the share frozen."""
VARS = ("cum_custody_loss", *(f"{CUSTODY}_{k}" for k in claims.FIELDS))


def frozen_now(o: dict, x: dict):
    """Take the frozen shares out of the sleeves (mutates o); returns the dollars frozen this step."""
    f = x["custody_freeze_tbill"]
    face = f * o["tbill_units"] * o["tbill_nav"]
    o["tbill_units"] = o["tbill_units"] * (1 - f)
    f = x["custody_freeze_buffer"]
    face = face + f * np.maximum(o["buffer_usd"], 0.0)
    o["buffer_usd"] = o["buffer_usd"] - f * np.maximum(o["buffer_usd"], 0.0)
    for a in HEDGED_ASSETS:
        f = x[f"custody_freeze_{a}"]
        face = face + f * o[f"{a}_units"] * x[f"{a}_usd"]
        o[f"{a}_units"] = o[f"{a}_units"] * (1 - f)
        close = np.where(o[f"{a}_venue_down"] > 0, 0.0, f)
        o[f"{a}_short_units"] = o[f"{a}_short_units"] * (1 - close)
    return face


def step(o: dict, x: dict) -> None:
    """This step's freeze, re-mark and resolution (mutates o; a step with none changes nothing)."""
    opening = any(np.any(x[f"custody_freeze_{k}"] > 0) for k in FREEZABLE)
    if not (opening or np.any(x["custody_claim_rate"] >= 0) or np.any(x["custody_claim_settle_share"] > 0)):
        return
    face = frozen_now(o, x) if opening else 0.0
    loss = claims.open_claim(o, CUSTODY, face, x["custody_claim_rate"])  # face 0 off a freeze step: a re-mark at most
    o["cum_custody_loss"] = o["cum_custody_loss"] + loss
    o["buffer_usd"] = o["buffer_usd"] + claims.settle(o, CUSTODY, x["custody_claim_settle_share"])


def schedule(hours: np.ndarray, freezes: list) -> dict[str, np.ndarray]:
    """Per-step inputs of a list of `CustodyFreeze` events (`hours`: when each step ends, hour 0 first): the
    share frozen per sleeve at the step holding each freeze's hour, and the claim's mark and resolution
    (paid in full when the freeze ends)."""
    out = {f"custody_freeze_{k}": np.zeros(len(hours)) for k in FREEZABLE}
    for ev in freezes:
        t = claims.step_holding(hours, ev.hour)
        for k in set(ev.sleeves):
            out[f"custody_freeze_{k}"][t] = 1 - (1 - out[f"custody_freeze_{k}"][t]) * (1 - ev.share_of_backing)
    sched = claims.schedule(hours, [
        {"hour": ev.hour, "rate": ev.expected_recovery, "final_rate": ev.recovered_share,
         "delay_hours": ev.duration_hours, "payout_hours": 0.0} for ev in freezes])
    out["custody_claim_rate"], out["custody_claim_settle_share"] = sched["rate"], sched["settle_share"]
    return out


def announced_hole(ev, weights, initial_margin: float) -> float:
    """The share of backing a freeze puts at risk as the news reads it: the frozen share of the listed
    sleeves at their target weights (a crypto sleeve's spot is 1 / (1 + initial margin) of it), times
    1 - expected recovery."""
    at_target = {"tbill": weights.tbill, "buffer": weights.buffer,
                 "btc": weights.btc / (1 + initial_margin), "xau": weights.xau / (1 + initial_margin)}
    return ev.share_of_backing * sum(at_target[k] for k in set(ev.sleeves)) * (1 - ev.expected_recovery)
