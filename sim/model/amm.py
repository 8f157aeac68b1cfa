"""HUSD/USDC secondary-market pool with Uniswap v3 concentrated-liquidity math.

Conventions (all float64, whole-token units):

* token0 = HUSD, token1 = USDC.  Price ``P`` = USDC per HUSD, sqrt price ``s = sqrt(P)``.
* Liquidity ``L`` is in the same whole-token units, so inside a constant-L segment
  ``Δx = L·Δ(1/s)`` (HUSD) and ``Δy = L·Δs`` (USDC).  On chain (HUSD 18 decimals,
  USDC 6 decimals) ``L_raw = L·1e12`` and ``sqrtPriceX96 = s·1e-6·2**96``.
* ``zero_for_one=True``: trader sells HUSD for USDC, price falls.
  ``zero_for_one=False``: trader buys HUSD with USDC, price rises.
* Fee is a fraction (0.0001 = the 0.01% tier) taken from the *input* amount, as in
  Uniswap v3: only ``amount_in·(1-fee)`` moves the price; the fee goes to LPs and
  never changes ``L`` (it is not part of the curve's reserves, see ``pool_value``).
* Every function is pure numpy and broadcasts: pass scalars, or arrays of shape (R,)
  over simulation runs (any argument may be an array).  ``depth`` (scalar or (R,))
  scales every position's L per run (LPs withdrawing); the price is unchanged by it.
  Scalar inputs give numpy float64 scalars back.

The liquidity is a piecewise-constant curve over sorted sqrt-price boundaries
(``Curve.bounds`` shape (K+1,), ``Curve.seg_L`` shape (K,)).  Outside
``[bounds[0], bounds[-1]]`` L = 0.  As in Uniswap, a swap crosses empty gaps between
ranges for free; unlike Uniswap (which would run the price to MIN/MAX tick), when no
liquidity is left in the swap direction the price stops at the last liquid boundary
and the unspent input is returned (``amount_in - amount_in_used``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from sim.model import amm_kernels

DECIMALS0 = 18  # HUSD
DECIMALS1 = 6  # USDC
FEE_1BP = 0.0001  # Uniswap v3 0.01% tier (100 pips), the stable-pair tier
DEFAULT_FEE = FEE_1BP

# P = 1.0001**tick · 10**(DECIMALS0 - DECIMALS1): ticks live in raw-unit price space.
_TICK_BASE = 1.0001
_SQRT_DEC_SCALE = 10.0 ** ((DECIMALS0 - DECIMALS1) / 2)


# --------------------------------------------------------------------------- ticks


def sqrt_price_at_tick(tick):
    """sqrt(P) (sqrt of USDC per HUSD) at a Uniswap tick of the 18/6-decimal pool."""
    return _TICK_BASE ** (np.asarray(tick, dtype=float) / 2.0) * _SQRT_DEC_SCALE


def price_at_tick(tick):
    """P (USDC per HUSD) at a Uniswap tick of the 18/6-decimal pool."""
    return sqrt_price_at_tick(tick) ** 2


def tick_at_price(price, tick_spacing: int = 1):
    """Nearest usable tick (multiple of ``tick_spacing``) to price P (USDC per HUSD)."""
    raw = np.log(np.asarray(price, dtype=float) / _SQRT_DEC_SCALE**2) / np.log(_TICK_BASE)
    return (np.round(raw / tick_spacing) * tick_spacing).astype(np.int64)


# --------------------------------------------------------------------------- curve


@dataclass(frozen=True)
class Curve:
    """Frozen piecewise-constant liquidity curve.

    bounds: (K+1,) strictly increasing sqrt prices (sqrt(USDC/HUSD)).
    seg_L:  (K,) liquidity (whole-token units) on [bounds[k], bounds[k+1]); may be 0 (gap).
    """

    bounds: np.ndarray
    seg_L: np.ndarray

    def __post_init__(self):
        b = np.array(self.bounds, dtype=float)
        L = np.array(self.seg_L, dtype=float)
        if b.ndim != 1 or L.ndim != 1 or b.size != L.size + 1 or L.size == 0:
            raise ValueError("need bounds shape (K+1,) and seg_L shape (K,), K >= 1")
        if not (np.all(np.diff(b) > 0) and b[0] > 0 and np.all(np.isfinite(b))):
            raise ValueError("bounds must be positive, finite and strictly increasing")
        if np.any(L < 0) or not np.all(np.isfinite(L)):
            raise ValueError("seg_L must be finite and >= 0")
        b.flags.writeable = False
        L.flags.writeable = False
        object.__setattr__(self, "bounds", b)
        object.__setattr__(self, "seg_L", L)
        object.__setattr__(self, "_span", self._compute_span())

    @property
    def K(self) -> int:
        return self.seg_L.size

    @property
    def liquid_span(self) -> tuple[float, float]:
        """Lowest and highest sqrt price with liquidity (any positive depth factor keeps them)."""
        return self._span

    def _compute_span(self) -> tuple[float, float]:
        idx = np.flatnonzero(self.seg_L > 0)
        if idx.size == 0:
            return np.inf, -np.inf
        return float(self.bounds[idx[0]]), float(self.bounds[idx[-1] + 1])

    @property
    def price_bounds(self) -> np.ndarray:
        """Segment boundaries as prices (USDC per HUSD)."""
        return self.bounds**2

    @classmethod
    def from_positions(
        cls, positions: Iterable[tuple[float, float, float]], tick_spacing: int | None = None
    ) -> "Curve":
        """Curve from LP positions ``(price_lower, price_upper, L)``.

        Prices in USDC per HUSD, L in whole-token units.  With ``tick_spacing`` the
        bounds are snapped to the nearest usable Uniswap tick (as an on-chain mint would).
        """
        pos = [(float(a), float(b), float(L)) for a, b, L in positions]
        if not pos:
            raise ValueError("no positions")
        lo = np.array([p[0] for p in pos])
        hi = np.array([p[1] for p in pos])
        Ls = np.array([p[2] for p in pos])
        if tick_spacing is not None:
            s_lo = sqrt_price_at_tick(tick_at_price(lo, tick_spacing))
            s_hi = sqrt_price_at_tick(tick_at_price(hi, tick_spacing))
        else:
            s_lo, s_hi = np.sqrt(lo), np.sqrt(hi)
        return cls._from_sqrt_positions(s_lo, s_hi, Ls)

    @classmethod
    def from_usd(
        cls,
        ranges: Iterable[tuple[float, float, float]],
        price: float,
        tick_spacing: int | None = None,
    ) -> "Curve":
        """Curve from ``(price_lower, price_upper, usd_value)`` ranges at current ``price``.

        Each range gets the L whose token0+token1 holdings are worth ``usd_value`` USDC at
        ``price`` (HUSD valued at ``price``), e.g. ``[(0.99, 1.01, 40e6)]`` = "$40M between
        0.99 and 1.01".  A range entirely above (below) the price holds only HUSD (USDC).
        """
        s = np.sqrt(float(price))
        sa_l, sb_l, L_l = [], [], []
        for p_lo, p_hi, usd in ranges:
            if tick_spacing is not None:
                sa = float(sqrt_price_at_tick(tick_at_price(p_lo, tick_spacing)))
                sb = float(sqrt_price_at_tick(tick_at_price(p_hi, tick_spacing)))
            else:
                sa, sb = float(np.sqrt(p_lo)), float(np.sqrt(p_hi))
            if sb <= sa:
                raise ValueError("each range needs price_lower < price_upper")
            sc = min(max(s, sa), sb)  # price clipped into the range
            usd_per_L = (sb - sc) / (sc * sb) * price + (sc - sa)
            sa_l.append(sa)
            sb_l.append(sb)
            L_l.append(float(usd) / usd_per_L)
        # build from sqrt bounds directly (squaring and re-rooting could move a tick bound by 1 ulp)
        return cls._from_sqrt_positions(np.array(sa_l), np.array(sb_l), np.array(L_l))

    @classmethod
    def _from_sqrt_positions(cls, s_lo, s_hi, Ls) -> "Curve":
        if np.any(s_hi <= s_lo) or np.any(Ls < 0):
            raise ValueError("each position needs price_lower < price_upper and L >= 0")
        bounds = np.unique(np.concatenate([s_lo, s_hi]))
        mids = 0.5 * (bounds[:-1] + bounds[1:])
        # a position covers a segment iff the segment lies inside its range
        covers = (s_lo[:, None] <= mids[None, :]) & (s_hi[:, None] >= mids[None, :])
        seg_L = (Ls[:, None] * covers).sum(axis=0)
        return cls(bounds, seg_L)


# --------------------------------------------------------------------------- helpers


def _ret(x):
    """0-d arrays back to numpy scalars so scalar callers get scalars."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _check_fee(fee):
    fee = np.asarray(fee, dtype=float)
    bad = not 0 <= float(fee) < 1 if fee.ndim == 0 else bool(np.any(fee < 0) or np.any(fee >= 1))
    if bad:
        raise ValueError("fee must be in [0, 1)")
    return fee


def _as_runs(*arrays):
    """The arguments as 1-D contiguous arrays of length n or 1 (the kernels read a length-1 array as
    the same value for every run), and the call's broadcast shape. Cheap on the hot path, where each
    argument is a scalar or an (R,) array; anything else is broadcast in full."""
    shape = ()
    for x in arrays:
        if x.shape and x.shape != shape:
            shape = x.shape if not shape else np.broadcast_shapes(shape, x.shape)
    if len(shape) > 1 or any(x.shape and x.shape != shape for x in arrays):
        arrays = np.broadcast_arrays(*arrays)
    return [np.ascontiguousarray(x).reshape(-1) for x in arrays], shape


def _seg_liquidity(curve: Curve, d):
    """Per-run segment liquidity: depth factor d (already broadcast) times seg_L, shape d.shape+(K,)."""
    if np.any(d < 0):
        raise ValueError("depth must be >= 0")
    return d[..., None] * curve.seg_L


# --------------------------------------------------------------------------- swaps


def swap_exact_in(
    sqrt_p,
    amount_in,
    zero_for_one,
    curve: Curve,
    depth=1.0,
    fee=DEFAULT_FEE,
    sqrt_limit=None,
):
    """Exact-input swap across the liquidity curve.

    Args:
        sqrt_p: current sqrt price (sqrt(USDC/HUSD)), scalar or (R,).
        amount_in: gross input incl. fee, >= 0; HUSD if ``zero_for_one`` else USDC.
        zero_for_one: True = sell HUSD (price falls), False = buy HUSD with USDC
            (price rises); bool scalar or (R,) (mixed directions allowed).
        curve: the liquidity curve; ``depth`` (scalar or (R,)) scales its L per run.
        fee: pool fee fraction on the input.
        sqrt_limit: optional sqrt price the swap must not pass (Uniswap's
            sqrtPriceLimit); a limit on the wrong side of the price means no trade.

    Returns ``(amount_out, new_sqrt_p, fee_paid, amount_in_used)``:
        amount_out: USDC if selling HUSD, HUSD if buying (>= 0).
        new_sqrt_p: sqrt price after the swap.
        fee_paid: fee in the input token (kept by LPs, outside the curve reserves).
        amount_in_used: gross input actually consumed incl. fee; less than
            ``amount_in`` only on a partial fill (liquidity or limit exhausted), the
            unfilled remainder ``amount_in - amount_in_used`` stays with the trader.
    """
    fee = _check_fee(fee)
    lim = np.nan if sqrt_limit is None else sqrt_limit
    (s, a, z, f, lim, d), shape = _as_runs(
        np.asarray(sqrt_p, dtype=float),
        np.asarray(amount_in, dtype=float),
        np.asarray(zero_for_one, dtype=bool),
        fee,
        np.asarray(lim, dtype=float),
        np.asarray(depth, dtype=float),
    )
    if (a < 0).any():
        raise ValueError("amount_in must be >= 0")
    if (d < 0).any():
        raise ValueError("depth must be >= 0")
    n = max(len(s), len(a), len(z), len(f), len(lim), len(d))
    out, s_new, fee_paid, used = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    span_lo, span_hi = curve.liquid_span
    amm_kernels.swap_walk(curve.bounds, curve.seg_L, span_lo, span_hi, s, a, z, f, lim, d, out, s_new, fee_paid, used)
    if shape == (n,):
        return out, s_new, fee_paid, used
    return tuple(_ret(v.reshape(shape)) for v in (out, s_new, fee_paid, used))


def amounts_to_reach(sqrt_p, sqrt_target, curve: Curve, depth=1.0, fee=DEFAULT_FEE):
    """The trade that moves the price from ``sqrt_p`` to ``sqrt_target``.

    Sign convention is the pool's (as Uniswap's swap return values): positive = the
    trader pays that token into the pool, negative = the pool pays it out.
    Target below the price: ``amount0 > 0`` (HUSD in, gross incl. fee), ``amount1 < 0``.
    Target above: ``amount1 > 0`` (USDC in, gross incl. fee), ``amount0 < 0``.
    ``fee_paid`` is in the input token (already included in the positive amount).

    Feeding the positive amount to ``swap_exact_in`` lands on the target to float
    rounding.  Stretches with no liquidity cost nothing, so for a target inside an empty
    gap that swap ends at a gap edge; to land exactly, add a little input and pass
    ``sqrt_limit=sqrt_target``.  If the target lies beyond all liquidity in that
    direction the amounts only cover the liquid part (the swap stops at the last bound).

    Returns ``(amount0, amount1, fee_paid)`` in HUSD, USDC, input token.
    """
    fee = _check_fee(fee)
    (s, t, f, d), shape = _as_runs(
        np.asarray(sqrt_p, dtype=float),
        np.asarray(sqrt_target, dtype=float),
        fee,
        np.asarray(depth, dtype=float),
    )
    if (d < 0).any():
        raise ValueError("depth must be >= 0")
    n = max(len(s), len(t), len(f), len(d))
    amount0, amount1, fee_paid = np.empty(n), np.empty(n), np.empty(n)
    amm_kernels.reach(curve.bounds, curve.seg_L, s, t, f, d, amount0, amount1, fee_paid)
    if shape == (n,):
        return amount0, amount1, fee_paid
    return tuple(_ret(v.reshape(shape)) for v in (amount0, amount1, fee_paid))


# --------------------------------------------------------------------------- reserves


def reserves_in_range(sqrt_p, curve: Curve, depth=1.0, price_lower=0.0, price_upper=np.inf):
    """Real tokens held by the liquidity lying in ``[price_lower, price_upper]``.

    Liquidity above the current price is held as HUSD, below as USDC (Uniswap v3).
    Prices in USDC per HUSD, scalar or (R,).  Returns ``(amount0 HUSD, amount1 USDC)``.
    Equivalently: amount1 is the USDC a seller receives (before fees) pushing the price
    down to ``max(price_lower, ...)``, amount0 the HUSD a buyer gets pushing it up.
    """
    s, pl, pu, d = np.broadcast_arrays(
        np.asarray(sqrt_p, dtype=float),
        np.asarray(price_lower, dtype=float),
        np.asarray(price_upper, dtype=float),
        np.asarray(depth, dtype=float),
    )
    L = _seg_liquidity(curve, d)
    b = curve.bounds
    sa, sb = np.sqrt(pl), np.sqrt(pu)
    x = np.zeros(s.shape)
    y = np.zeros(s.shape)
    for k in range(curve.K):
        Lk = L[..., k]
        lo = np.maximum(b[k], sa)
        hi = np.minimum(b[k + 1], sb)
        lo0 = np.maximum(lo, s)  # part above the price -> HUSD
        x += np.where(hi > lo0, Lk * (hi - lo0) / (hi * lo0), 0.0)
        hi1 = np.minimum(hi, s)  # part below the price -> USDC
        y += np.where(hi1 > lo, Lk * (hi1 - lo), 0.0)
    return _ret(x), _ret(y)


def virtual_depth_usd(sqrt_p, curve: Curve, depth=1.0, band=0.02):
    """USD value (HUSD at the current price) of the reserves within ±band of the price.

    ``band`` is a fraction (0.02 = ±2%), scalar or (R,).  The standard "±2% depth".
    """
    s = np.asarray(sqrt_p, dtype=float)
    p = s * s
    band = np.asarray(band, dtype=float)
    x, y = reserves_in_range(s, curve, depth, p * (1.0 - band), p * (1.0 + band))
    return _ret(np.asarray(x) * p + np.asarray(y))


def pool_value(sqrt_p, curve: Curve, depth=1.0):
    """All tokens held by the positions at the current price: ``(amount0 HUSD, amount1 USDC)``.

    Excludes accrued fees (Uniswap keeps them outside the liquidity), so across a swap
    ``Δamount0 = +net input`` and ``Δamount1 = -amount_out`` (or mirrored), and the
    fee is the LPs' extra.  USD value = ``amount0 * sqrt_p**2 + amount1``.
    """
    return reserves_in_range(sqrt_p, curve, depth)
