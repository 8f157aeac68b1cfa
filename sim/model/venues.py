"""Where HUSD trades: the reference Uniswap v3 pool, other on-chain pools and off-chain order books.

Every venue is a price-impact curve in the shape of Uniswap v3 liquidity (`sim.model.amm.Curve`), so
one set of swap maths serves all of them:
- a pool's curve is its concentrated-liquidity positions;
- an order book's curve is its depth profile: the bids resting within each band below par become a
  position over that band holding exactly that many dollars, the asks mirror them above par. Trading
  walks the book band by band; the price is where the last fill happened. Market makers re-quote what
  trades took (`refill_per_hour`: the price relaxes toward par) and pull depth when alarmed.

A venue's state is its sqrt price (`pool_sqrt_price` for the reference pool, `sqrt_price_<name>` for
the others) and the share of its liquidity pulled (`lp_pull_<name>`); its depth in a step is the
market's exogenous depth factor (the regime, scripted shocks) times what was not pulled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import amm

HOLDER_CLASSES = ("institutional", "retail", "stakers")


@dataclass(frozen=True)
class Venue:
    name: str
    kind: str  # "reference", "pool" or "order_book"
    curve: amm.Curve
    fee: float
    flow_share: dict  # holder class -> share of its venue sales and order flow
    refill_per_hour: float = 0.0
    transfer_latency_hours: float = 0.0

    @property
    def sqrt_key(self) -> str:
        return "pool_sqrt_price" if self.kind == "reference" else f"sqrt_price_{self.name}"

    @property
    def pull_key(self) -> str:
        return f"lp_pull_{self.name}"

    @property
    def price_key(self) -> str:
        return f"price_{self.name}"

    @property
    def floor_sqrt(self) -> float:
        """The lowest sqrt price with liquidity: a sale that gets here has emptied the venue."""
        return float(self.curve.bounds[0])


def book_curve(bid_depth_usd: list[tuple[float, float]]) -> amm.Curve:
    """An order book's depth profile as positions: band j between (b_{j-1}, b_j] bps below par holds the
    bids' dollars D_j - D_{j-1} (all USDC at par); the mirrored band above par holds as many HUSD."""
    positions = []
    prev_bps, prev_usd = 0.0, 0.0
    for bps, usd in bid_depth_usd:
        lo, hi = 1 - bps / 1e4, 1 - prev_bps / 1e4
        positions.append((lo, hi, (usd - prev_usd) / (np.sqrt(hi) - np.sqrt(lo))))  # USDC = L (sqrt hi - sqrt lo)
        a_lo, a_hi = 1 + prev_bps / 1e4, 1 + bps / 1e4
        positions.append((a_lo, a_hi, (usd - prev_usd) / (1 / np.sqrt(a_lo) - 1 / np.sqrt(a_hi))))  # HUSD = L (1/sa - 1/sb)
        prev_bps, prev_usd = bps, usd
    return amm.Curve.from_positions(positions)


def build_venues(sc) -> tuple[Venue, ...]:
    """The scenario's venues, the reference pool first; the reference takes the flow the others leave."""
    pool = sc.pool
    others = []
    for v in sc.venues:
        if v.kind == "pool":
            curve = amm.Curve.from_usd([(r.price_lower, r.price_upper, r.usd) for r in v.ranges], 1.0)
            others.append(Venue(v.name, "pool", curve, v.fee_fraction, dict(v.flow_share)))
        else:
            others.append(Venue(v.name, "order_book", book_curve(v.bid_depth_usd), v.fee_fraction, dict(v.flow_share),
                                v.refill_per_hour, v.transfer_latency_hours))
    rest = {c: max(0.0, 1.0 - sum(v.flow_share.get(c, 0.0) for v in others)) for c in HOLDER_CLASSES}
    ref = Venue(pool.name, "reference", amm.Curve.from_usd([(r.price_lower, r.price_upper, r.usd) for r in pool.ranges],
                                                           1.0), pool.fee_fraction, rest)
    return (ref, *others)


def venue_depth(v: Venue, s: dict, x: dict):
    """The venue's liquidity this step: the reference pool's is set by the market block (`pool_depth`);
    the others follow the same exogenous factor, less what their LPs or market makers pulled."""
    if v.kind == "reference":
        return s["pool_depth"]
    return np.maximum(x["pool_depth"] * (1 - s[v.pull_key]), 1e-3)


def swap(v: Venue, s: dict, x: dict, who: str, amount, sell_husd, sqrt_limit=None):
    """Exact-input swap on venue v (sell_husd: HUSD in, USDC out; else USDC in, HUSD out). Moves the
    venue's price in `s`, puts the trade on the tape if the step carries one. Returns (out, used)."""
    key = v.sqrt_key
    if not np.any(amount > 0):  # nobody trades this step: skip the pool maths (it would return zeros)
        zero = np.zeros_like(s[key])
        return zero, zero
    before = s[key]
    out, sp, _fee, used = amm.swap_exact_in(before, np.maximum(amount, 0.0), sell_husd, v.curve, venue_depth(v, s, x),
                                            v.fee, sqrt_limit=sqrt_limit)
    s[key] = sp
    tape = x.get("tape")
    if tape is not None:
        tape.record(who, v.name, sell_husd, amount, used, out, before, sp, sqrt_limit)
    return out, used


def husd_to_reach(v: Venue, s: dict, x: dict, target_price):
    """HUSD a buyer takes out of venue v (>= 0) to lift its price to `target_price`, and the USDC it costs."""
    a0, a1, _ = amm.amounts_to_reach(s[v.sqrt_key], np.sqrt(target_price), v.curve, venue_depth(v, s, x), v.fee)
    return np.maximum(-a0, 0.0), np.maximum(a1, 0.0)


def exhausted(v: Venue, s: dict):
    """1 where a sale has taken the venue's price to the edge of its liquidity."""
    return (s[v.sqrt_key] <= v.floor_sqrt * (1 + 1e-12)).astype(float)
