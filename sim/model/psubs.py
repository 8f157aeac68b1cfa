"""The partial state update blocks, in the order a step happens.

Each block has one policy that returns the new values of the variables it owns; every owned
variable is then set from that signal (`update_from_signal`). A block can be switched off with
`enabled` (a copy of the model without, say, the treasury block is a cheap experiment).
"""
from __future__ import annotations

from sim.model.parts.dats import p_dats
from sim.model.parts.hedge import p_accrue
from sim.model.parts.market import p_market
from sim.model.parts.rebalance import p_observe, p_rebalance
from sim.model.parts.trading import p_trading
from sim.model.parts.treasury import p_treasury

PSUBS = [
    {"label": "market", "policy": p_market, "enabled": True,
     "details": "exogenous prices, rates, pool depth and oracle health enter; breakers and per-step caps reset"},
    {"label": "accrue", "policy": p_accrue, "enabled": True,
     "details": "T-bill NAV, hedge PnL, funding and basis; margin liquidation; venue failure; T+1 settlement"},
    {"label": "trading", "policy": p_trading, "enabled": True,
     "details": "retail flow and panic, institutional exits, loopers, PSM and mint/redeem arbitrage on the pool"},
    {"label": "dats", "policy": p_dats, "enabled": True,
     "details": "treasury companies: mNAV from sentiment, buybacks below NAV, forced sales on covenant or maturity"},
    {"label": "treasury", "policy": p_treasury, "enabled": True,
     "details": "reserve fund covers deficits, backstop sells HYB, surplus to stakers and reserve"},
    {"label": "rebalance", "policy": p_rebalance, "enabled": True,
     "details": "sleeves toward target weights, re-hedge, margin top-up and sweep, buffer from T-bills"},
    {"label": "observe", "policy": p_observe, "enabled": True,
     "details": "derived observables: peg price, backing ratio, HYB price, share price, looper LTV"},
]


def enabled_blocks(psubs=PSUBS) -> list[dict]:
    return [b for b in psubs if b.get("enabled", True)]
