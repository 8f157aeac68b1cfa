"""The market enters the state: prices, rates, pool depth, oracle health; per-step counters reset."""
from __future__ import annotations

import numpy as np

MARKET_VARS = ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "step", "pool_depth",
               "stress", "tbill_frozen", "oracle_ok", "mint_paused", "redeem_cap_used_usd", "mint_cap_used_usd",
               "unwind_used_usd", "tbill_instant_used_usd", "backstop_day_used_usd", "btc_ema_24h", "bank_open",
               "cap_multiplier", "reserve_buy_used_usd")
BTC_AVERAGE_HOURS = 24.0  # holders read a fall in BTC against its average over about a day


def p_market(p: dict, s: dict, x: dict) -> dict:
    """Copy this step's exogenous market into the state and raise the circuit breakers it implies.

    Spec: mint pauses on a stale or deviating oracle; caps (and the reserve's buy budget) are per hour (caps
    scaled by the calendar's schedule); the T-bill instant redemption limit is per day. The reference pool's depth is the
    market's depth factor less what its LPs pulled last step.
    """
    # Parameters
    dt = x["dt_hours"]
    # State Variables
    hour = x["hour"]
    # Maths
    oracle_ok = (1 - x["oracle_stale"]) * (x["oracle_deviation_bps"] <= p["max_oracle_deviation_bps"])
    paused = (1 - oracle_ok) if p["pause_on_stale"] else 0.0
    new_day = (hour % 24.0) < dt  # the first step of each UTC day
    return {
        "btc_usd": x["btc_usd"], "xau_usd": x["xau_usd"], "tbill_yield": x["tbill_yield"],
        "funding_rate_8h_btc": x["funding_rate_8h_btc"], "funding_rate_8h_xau": x["funding_rate_8h_xau"],
        "step": s["step"] + 1, "pool_depth": np.maximum(x["pool_depth"] * (1 - s[f"lp_pull_{p['venues'][0].name}"]), 1e-3),
        "stress": x["stress"], "tbill_frozen": x["tbill_frozen"],
        "btc_ema_24h": s["btc_ema_24h"] + (1 - np.exp(-dt / BTC_AVERAGE_HOURS)) * (x["btc_usd"] - s["btc_ema_24h"]),
        "bank_open": x["bank_open"], "cap_multiplier": x["cap_multiplier"],
        "oracle_ok": oracle_ok, "mint_paused": paused,
        "redeem_cap_used_usd": 0.0, "mint_cap_used_usd": 0.0,
        "unwind_used_usd": 0.0, "reserve_buy_used_usd": 0.0,
        "tbill_instant_used_usd": np.where(new_day, 0.0, s["tbill_instant_used_usd"]),
        "backstop_day_used_usd": np.where(new_day, 0.0, s["backstop_day_used_usd"]),
    }
