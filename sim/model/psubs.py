"""The partial state update blocks, in the order a step happens.

Each block has one policy that returns the new values of the variables it owns, and declares those
variables (`variables`: a tuple, or a function of the params when their number depends on the
scenario); every owned variable is then set from that signal (`update_from_signal`). The engines
check that each policy writes exactly what its block declares. A block can be switched off with
`enabled` (a copy of the model without, say, the treasury block is a cheap experiment).
"""
from __future__ import annotations

from sim.model.parts.dats import dats_vars, p_dats
from sim.model.parts.hedge import ACCRUE_VARS, p_accrue
from sim.model.parts.market import MARKET_VARS, p_market
from sim.model.parts.rebalance import REBALANCE_VARS, observe_vars, p_observe, p_rebalance
from sim.model.parts.trading import p_trading, trading_vars
from sim.model.parts.treasury import TREASURY_VARS, p_treasury

PSUBS = [
    {"label": "market", "policy": p_market, "variables": MARKET_VARS, "enabled": True,
     "details": "exogenous prices, rates, pool depth and oracle health enter; breakers and per-step caps reset"},
    {"label": "accrue", "policy": p_accrue, "variables": ACCRUE_VARS, "enabled": True,
     "details": "T-bill NAV, hedge PnL, funding and basis; margin liquidation; venue failure; T+1 settlement"},
    {"label": "trading", "policy": p_trading, "variables": trading_vars, "enabled": True,
     "details": "holders read their signals and exit (queues), retail flow, loopers, cross-venue and PSM/mint/redeem "
                "arbitrage, reserve purchases, LPs pull or return liquidity"},
    {"label": "dats", "policy": p_dats, "variables": dats_vars, "enabled": True,
     "details": "treasury companies: mNAV from sentiment, buybacks below NAV, forced sales on covenant or maturity"},
    {"label": "treasury", "policy": p_treasury, "variables": TREASURY_VARS, "enabled": True,
     "details": "reserve fund covers deficits, backstop sells HYB, surplus to stakers and reserve"},
    {"label": "rebalance", "policy": p_rebalance, "variables": REBALANCE_VARS, "enabled": True,
     "details": "sleeves toward target weights, re-hedge, margin top-up and sweep, buffer from T-bills"},
    {"label": "observe", "policy": p_observe, "variables": observe_vars, "enabled": True,
     "details": "derived observables: peg price, backing ratio, HYB price, share price, looper LTV"},
]


def enabled_blocks(psubs=PSUBS) -> list[dict]:
    return [b for b in psubs if b.get("enabled", True)]


def block_variables(block: dict, params: dict) -> tuple[str, ...]:
    """The state variables a block owns, for this scenario's params."""
    v = block["variables"]
    return tuple(v(params) if callable(v) else v)


def check_writes(block: dict, params: dict, written) -> None:
    """A policy must return exactly the variables its block declares: a variable written by the wrong
    block, or declared and never written, is a modelling bug the engines refuse to run with."""
    declared, got = set(block_variables(block, params)), set(written)
    if got != declared:
        raise RuntimeError(f"block {block['label']!r}: policy writes {sorted(got - declared)} it does not declare "
                           f"and misses {sorted(declared - got)} it declares")
