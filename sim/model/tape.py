"""The trade tape: every trade the model makes on a venue, in the order it happens.

Policies never read the tape; they only write to it when one is carried in the step inputs
(`x["tape"]`, put there by an engine asked to record one). The chain replay simulates a run with a
tape and sends each entry as its own transaction, so it never has to know how the model is written.
An entry holds the values of every run the engine advances (arrays over runs in the batched engine);
`Tape.steps(run)` gives one run's trades, step by step, as plain numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Who trades: the holder classes, the agents and the protocol's own operations.
WHO = ("retail", "institutional", "stakers", "looper", "liquidation", "arbitrage", "treasury_company", "reserve",
       "backstop")
# Where: a HUSD venue by its name (the reference Uniswap pool is `pool.name`, "uniswap" by default), or
# the HYB/USDC backstop pool.
HYB_POOL = "hyb_pool"


@dataclass
class Trade:
    """One exact-input swap. `sell` is True when the base token (HUSD, or HYB on the HYB pool) goes in.
    `venue` is a HUSD venue's name or HYB_POOL. `amount` is what was offered, `used` what the pool took (less when the price limit or the edge of
    liquidity stopped it), `out` what came back; prices are sqrt(price of the base token in USDC)."""

    step: int
    who: str
    venue: str
    sell: bool
    amount: float
    sqrt_limit: float | None
    used: float
    out: float
    sqrt_before: float
    sqrt_after: float


@dataclass
class Tape:
    """Trades recorded during a simulation, for every run the engine advances."""

    step: int = 0  # set by the engine before each step
    _rows: list[tuple] = field(default_factory=list)

    def record(self, who: str, venue: str, sell, amount, used, out, sqrt_before, sqrt_after, sqrt_limit=None) -> None:
        """Called by the model after each swap; values are scalars or arrays over runs (copied)."""
        if who not in WHO:
            raise ValueError(f"unknown trader {who!r}")
        self._rows.append((self.step, who, venue, *(np.array(v, dtype=float, copy=True)
                                                  for v in (sell, amount, used, out, sqrt_before, sqrt_after)),
                           None if sqrt_limit is None else np.array(sqrt_limit, dtype=float, copy=True)))

    def steps(self, run: int, n_steps: int) -> list[list[Trade]]:
        """Run column `run`'s trades per timestep 0..n_steps (timestep 0, genesis, has none). Trades
        that moved nothing (nothing offered, or nothing taken) are left out."""
        out: list[list[Trade]] = [[] for _ in range(n_steps + 1)]
        for step, who, venue, sell, amount, used, got, before, after, limit in self._rows:
            a, u = _at(amount, run), _at(used, run)
            if a <= 0 or u <= 0 or step > n_steps:
                continue
            lim = None if limit is None else _at(limit, run)
            out[step].append(Trade(step, who, venue, bool(_at(sell, run)), a,
                                   lim if lim is not None and 0.0 < lim < np.inf else None,
                                   u, _at(got, run), _at(before, run), _at(after, run)))
        return out


def _at(v: np.ndarray, run: int) -> float:
    return float(v.reshape(-1)[run if v.size > 1 else 0])
