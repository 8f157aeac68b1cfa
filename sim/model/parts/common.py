"""Small helpers shared by the policies: safe division, sleeve values, the redemption waterfall."""
from __future__ import annotations

import numpy as np

from sim.model.state import HEDGED_ASSETS, dat_count


def per_step(rate_per_hour, dt):
    """The chance (or share) of something that happens at `rate_per_hour`, over a step of dt hours."""
    return 1 - (1 - rate_per_hour) ** dt


def safe_div(a, b, default=0.0):
    ok = np.abs(b) > 1e-12
    return np.where(ok, a / np.where(ok, b, 1.0), default)


def crypto_value(s: dict, asset: str):
    """Spot held in custody plus cash margin at the perp venue (unrealised PnL is settled into it)."""
    return s[f"{asset}_units"] * s[f"{asset}_usd"] + s[f"{asset}_margin_usd"]


def backing(s: dict):
    """Backing = T-bill sleeve (incl. T+1 in transit) + crypto sleeves with hedge equity + buffer + PSM USDC."""
    total = s["tbill_units"] * s["tbill_nav"] + s["tbill_pending_usd"]
    for a in HEDGED_ASSETS:
        total = total + crypto_value(s, a)
    return total + s["buffer_usd"] + s["psm_usdc"]


def hedged_value(s: dict):
    """Every crypto sleeve's spot and margin together."""
    return sum(crypto_value(s, a) for a in HEDGED_ASSETS)


def holder_husd(s: dict):
    """HUSD held by every holder: supply always equals this (institutions and retail, queued exits
    included; the sHUSD vault; stakers who unstaked, cooling down or queued to sell; the float of
    pools, LPs, market makers and arbitrageurs; HUSD the reserve bought and holds; treasury companies)."""
    total = (s["inst_husd"] + s["retail_husd"] + s["vault_husd"] + s["float_husd"] + s["unstaking_husd"]
             + s["staker_queue_husd"] + s["reserve_husd"])
    for i in range(dat_count(s)):
        total = total + s[f"dat{i}_husd"]
    return total


def tbill_instant_available(p: dict, s: dict):
    """Instant T-bill redemption left today: none while frozen, or out of bank hours for a fund that keeps them."""
    room = np.maximum(p["tbill_instant_limit_day"] - s["tbill_instant_used_usd"], 0.0)
    closed = (s["tbill_frozen"] > 0) | ((s["bank_open"] <= 0) & p["tbill_bank_hours"])
    return np.where(closed, 0.0, np.minimum(room, s["tbill_units"] * s["tbill_nav"]))


def unwind_available(p: dict, s: dict, dt):
    """Cash the crypto sleeves can raise this step of dt hours (sell spot, close shorts); needs a working oracle."""
    gross = np.minimum(np.maximum(p["unwind_cap_per_hour"] * dt - s["unwind_used_usd"], 0.0),
                       np.maximum(hedged_value(s), 0.0))
    return np.where(s["oracle_ok"] > 0, gross * (1 - p["unwind_cost"]), 0.0)


def redeem_capacity(p: dict, s: dict, dt):
    """USD the protocol can pay out instantly: buffer, then instant T-bill redemption, then unwinds."""
    return np.maximum(s["buffer_usd"], 0.0) + tbill_instant_available(p, s) + unwind_available(p, s, dt)


def pay_out(p: dict, s: dict, amount) -> None:
    """Pay `amount` USD (<= redeem_capacity) out of backing, in waterfall order. Mutates s."""
    from_buffer = np.minimum(amount, np.maximum(s["buffer_usd"], 0.0))
    s["buffer_usd"] = s["buffer_usd"] - from_buffer
    rest = amount - from_buffer
    from_tbill = np.minimum(rest, tbill_instant_available(p, s))
    s["tbill_units"] = s["tbill_units"] - safe_div(from_tbill, s["tbill_nav"])
    s["tbill_instant_used_usd"] = s["tbill_instant_used_usd"] + from_tbill
    rest = np.maximum(rest - from_tbill, 0.0)
    # Unwind both crypto sleeves pro rata, keeping each hedged: spot, short and margin shrink together.
    gross = rest / (1 - p["unwind_cost"])
    total = hedged_value(s)
    frac = np.clip(safe_div(gross, total), 0.0, 1.0)
    for a in HEDGED_ASSETS:
        for k in (f"{a}_units", f"{a}_short_units", f"{a}_margin_usd"):
            s[k] = s[k] * (1 - frac)
    s["unwind_used_usd"] = s["unwind_used_usd"] + gross
    s["cum_costs"] = s["cum_costs"] + gross - rest
    s["cum_collateral_out"] = s["cum_collateral_out"] + amount
