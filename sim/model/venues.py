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
    before, amount, depth = s[key], np.maximum(amount, 0.0), venue_depth(v, s, x)
    out, sp, _fee, used = amm.swap_exact_in(before, amount, sell_husd, v.curve, depth, v.fee, sqrt_limit=sqrt_limit)
    # A venue sells only HUSD it holds. Its curve can quote more (a book's market makers re-quote asks after a
    # run has taken them), so a purchase is cut to what the venues hold and the rest of the USDC stays unspent.
    room = held_husd(s)
    over = ~np.asarray(sell_husd, dtype=bool) & (out > room)
    if np.any(over):
        amount = _within_held(v, before, amount, depth, sqrt_limit, room, over)
        out, sp, _fee, used = amm.swap_exact_in(before, amount, sell_husd, v.curve, depth, v.fee, sqrt_limit=sqrt_limit)
    s[key] = sp
    tape = x.get("tape")
    if tape is not None:
        tape.record(who, v.name, sell_husd, amount, used, out, before, sp, sqrt_limit)
    return out, used


def held_husd(s: dict):
    """HUSD on the venues: the float less what arbitrageurs, patient capital and liquidators hold off them."""
    off = s["parb_husd"] + s["liquidator_queue_husd"]
    for k in s:
        if k.startswith(("xarb_transit_", "xarb_ready_")):
            off = off + s[k]
    return np.maximum(s["float_husd"] - off, 0.0)


def _within_held(v: Venue, before, amount, depth, sqrt_limit, room, over, iterations=64):
    """The largest input whose HUSD out stays within `room`, where `over`: HUSD out rises with the input,
    so bisection between 0 and the asked amount (64 halvings: to the float's precision)."""
    lim = np.nan if sqrt_limit is None else sqrt_limit
    sp0, a, d, lim, r, ov = np.broadcast_arrays(*(np.asarray(z, dtype=float) for z in (before, amount, depth, lim, room)),
                                                np.asarray(over, dtype=bool))
    i = np.flatnonzero(ov.reshape(-1))
    sp0, a, d, lim, r = (z.reshape(-1)[i] for z in (sp0, a, d, lim, r))
    lo, hi = np.zeros_like(a), a.copy()
    buy = np.zeros(len(i), dtype=bool)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        out = amm.swap_exact_in(sp0, mid, buy, v.curve, d, v.fee, sqrt_limit=lim)[0]
        fits = out <= r
        lo, hi = np.where(fits, mid, lo), np.where(fits, hi, mid)
    cut = np.array(np.broadcast_to(amount, ov.shape), dtype=float)
    cut.reshape(-1)[i] = lo
    return cut[()] if cut.ndim == 0 else cut


def husd_to_reach(v: Venue, s: dict, x: dict, target_price):
    """HUSD a buyer takes out of venue v (>= 0) to lift its price to `target_price`, and the USDC it costs."""
    a0, a1, _ = amm.amounts_to_reach(s[v.sqrt_key], np.sqrt(target_price), v.curve, venue_depth(v, s, x), v.fee)
    return np.maximum(-a0, 0.0), np.maximum(a1, 0.0)


def exhausted(v: Venue, s: dict):
    """1 where a sale has taken the venue's price to the edge of its liquidity."""
    return (s[v.sqrt_key] <= v.floor_sqrt * (1 + 1e-12)).astype(float)
