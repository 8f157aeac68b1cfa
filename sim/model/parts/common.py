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


def in_transit(s: dict, asset: str):
    """Margin moving between custody and the asset's venue: at neither, still backing."""
    return s[f"{asset}_to_venue_usd"] + s[f"{asset}_from_venue_usd"]


def sleeve_value(s: dict, asset: str):
    """A crypto sleeve's value: spot, margin at the venue and margin in transit."""
    return crypto_value(s, asset) + in_transit(s, asset)


def backing(s: dict):
    """Backing = T-bill sleeve (incl. T+1 in transit) + crypto sleeves with hedge equity and margin in
    transit + buffer + PSM USDC + claims on failed venues and frozen custody at their marked recovery."""
    total = s["tbill_units"] * s["tbill_nav"] + s["tbill_pending_usd"]
    for a in HEDGED_ASSETS:
        total = total + sleeve_value(s, a)
    return total + s["buffer_usd"] + s["psm_usdc"] + claim_marks(s)


def claim_marks(s: dict):
    """Claims on failed venues and frozen custody at their marked recovery: backing, but not cash."""
    return s["venue_claim_mark_usd"] + s["custody_claim_mark_usd"]


def hedged_value(s: dict):
    """The crypto sleeves a redemption can unwind now: spot and margin at venues that are up (a sleeve
    cannot be traded while its venue is down)."""
    return sum(np.where(s[f"{a}_venue_down"] > 0, 0.0, crypto_value(s, a)) for a in HEDGED_ASSETS)


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
    # Unwind the crypto sleeves whose venue is up pro rata, keeping each hedged: spot, short and margin
    # shrink together.
    gross = rest / (1 - p["unwind_cost"])
    frac = np.clip(safe_div(gross, hedged_value(s)), 0.0, 1.0)
    for a in HEDGED_ASSETS:
        f = np.where(s[f"{a}_venue_down"] > 0, 0.0, frac)
        for k in (f"{a}_units", f"{a}_short_units", f"{a}_margin_usd"):
            s[k] = s[k] * (1 - f)
    s["unwind_used_usd"] = s["unwind_used_usd"] + gross
    s["cum_costs"] = s["cum_costs"] + gross - rest
    s["cum_collateral_out"] = s["cum_collateral_out"] + amount


def raise_cash(p: dict, s: dict, amount, dt):
    """Take up to `amount` USD from the margin waterfall's sources in order (buffer, instant T-bill
    redemption within its daily limit, the reserve fund within its hourly draw limit over a step of dt
    hours); returns what was raised. Mutates s. A reserve draw is a loan to the backing
    (`reserve_lent_usd`), repaid from later surplus."""
    from sim.model.actions import reserve_pay

    rest = np.maximum(amount, 0.0)
    got = 0.0
    for src in p["margin_waterfall"]:
        if src == "buffer":
            take = np.minimum(rest, np.maximum(s["buffer_usd"], 0.0))
        elif src == "tbill":
            take = np.minimum(rest, tbill_instant_available(p, s))
            s["tbill_units"] = s["tbill_units"] - safe_div(take, s["tbill_nav"])
            s["tbill_instant_used_usd"] = s["tbill_instant_used_usd"] + take
            s["buffer_usd"] = s["buffer_usd"] + take
        else:
            take = reserve_pay(p, s, rest, dt)  # into the buffer
            s["reserve_lent_usd"] = s["reserve_lent_usd"] + take
        s["buffer_usd"] = s["buffer_usd"] - take  # on its way to the venue
        got = got + take
        rest = rest - take
    return got
