"""Real pools written as the concentrated-liquidity ranges the model trades on.

The model prices every venue with Uniswap v3 maths (`sim.model.amm`). A historical event often
happened on a Curve StableSwap pool or a Solidly "stable" pool, whose invariant is not v3's. Any
constant-function pool is fixed by how much of the quote coin it pays out as the price of the other
falls (and how much of the base coin as it rises): `v3_ranges` turns those two profiles, read off the
real invariant at a grid of prices, into nested v3 ranges that pay out the same amounts at every grid
price. Between grid points the v3 curve interpolates; beyond the last point it has no liquidity.

Because both pools satisfy dy = -p dx, matching the quote-coin profile also matches the base coin
sold in, so the pool's composition at a given price matches the real pool's (3pool at 90 % USDT,
Curve's stETH pool at 81.5 % stETH) when the real pool starts unbalanced (3pool: USDT is one coin in
three) or balanced.

Scenario files carry the resulting ranges (they are data); `tests/unit/test_stableswap.py` re-derives
them from the parameters written beside them, so the two cannot drift apart.
"""
from __future__ import annotations

import numpy as np

# bps from par of the grid's bands: fine near par where trades happen, coarse far out
GRID_BPS = (5, 10, 20, 50, 100, 200, 350, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000)


def _bisect(f, lo: float, hi: float, iters: int = 200) -> float:
    """The root of an increasing function on [lo, hi]."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


class StableSwap:
    """Curve's StableSwap invariant with n coins of which one (the stablecoin under study, "base") moves
    and the n - 1 others ("quote") move together (arbitrage keeps them equal), from a balanced pool of
    `tvl` (= the invariant D)."""

    def __init__(self, tvl: float, amp: float, n_coins: int = 2):
        self.D, self.A, self.n = float(tvl), float(amp), int(n_coins)
        self.Ann = self.A * self.n**self.n

    def _quote_balance(self, x: float) -> float:
        """Each quote coin's balance y when the base coin's is x (the invariant solved for y)."""
        D, n, Ann = self.D, self.n, self.Ann

        def f(y):  # increasing in y
            return Ann * (x + (n - 1) * y) + D - Ann * D - D ** (n + 1) / (n**n * x * y ** (n - 1))

        return _bisect(f, 1e-12 * D, 10 * D)

    def state(self, x: float) -> tuple[float, float, float]:
        """(price of the base coin in quote, base balance, total quote balance) at base balance x."""
        y = self._quote_balance(x)
        K = self.D ** (self.n + 1) / (self.n**self.n * x * y ** (self.n - 1))
        price = (self.Ann + K / x) / (self.Ann + K / y)
        return price, x, (self.n - 1) * y

    def start(self) -> tuple[float, float]:
        return self.D / self.n, (self.n - 1) * self.D / self.n


class SolidlyStable:
    """Solidly's "stable" pool (x^3 y + x y^3 = k, Velodrome/Pearl sAMM) of `tvl` balanced at par."""

    def __init__(self, tvl: float):
        self.x0 = self.y0 = float(tvl) / 2
        self.k = self.x0**3 * self.y0 + self.x0 * self.y0**3

    def state(self, x: float) -> tuple[float, float, float]:
        y = _bisect(lambda y: x**3 * y + x * y**3 - self.k, 0.0, 100 * self.y0)
        price = (3 * x**2 * y + y**3) / (x**3 + 3 * x * y**2)  # -dy/dx along the invariant
        return price, x, y

    def start(self) -> tuple[float, float]:
        return self.x0, self.y0


def _balance_at_price(pool, target: float) -> tuple[float, float]:
    """(base balance, quote balance) where the pool's price is `target` (price falls as base rises)."""
    x0, _ = pool.start()
    lo, hi = (x0, x0 * 1e4) if target < 1 else (x0 * 1e-6, x0)
    x = _bisect(lambda x: target - pool.state(x)[0], lo, hi)  # target - price increases with x
    _, xb, yq = pool.state(x)
    return xb, yq


def _band_liquidity(edges_sqrt, paid_out, side: str) -> np.ndarray:
    """v3 liquidity of each band between successive sqrt prices (from par outward) that pays out `paid_out`
    (cumulative): dy = L d(sqrt p) below par, dx = L d(1/sqrt p) above. Forced non-increasing away from
    par (a unimodal curve is what ranges straddling par can express)."""
    s = np.concatenate([[1.0], edges_sqrt])
    step = s[:-1] - s[1:] if side == "bid" else 1 / s[:-1] - 1 / s[1:]
    return np.minimum.accumulate(np.diff(np.concatenate([[0.0], paid_out])) / step)


def v3_ranges(pool, grid_bps=GRID_BPS) -> list[tuple[float, float, float]]:
    """v3 ranges (price_lower, price_upper, usd at par), each straddling par, that pay out what `pool`
    pays out at each grid price: its quote coin as the base coin's price falls to 1 - bps, its base
    coin as the price rises to 1 / (1 - bps). The curve is cut into layers: each liquidity level
    present on both sides becomes one range spanning the prices where the curve is at least that deep."""
    x0, y0 = pool.start()
    lows = np.array([1 - b / 1e4 for b in grid_bps])
    highs = 1 / lows
    bid = _band_liquidity(np.sqrt(lows), [y0 - _balance_at_price(pool, p)[1] for p in lows], "bid")
    ask = _band_liquidity(np.sqrt(highs), [x0 - _balance_at_price(pool, p)[0] for p in highs], "ask")
    levels = np.unique(np.concatenate([bid, ask]))[::-1]  # deepest first
    out = []
    for k, level in enumerate(levels):
        step = level - (levels[k + 1] if k + 1 < len(levels) else 0.0)
        n_bid, n_ask = int((bid >= level).sum()), int((ask >= level).sum())
        lo = lows[n_bid - 1] if n_bid else 1 - 1e-6  # a level only one side reaches barely crosses par
        hi = highs[n_ask - 1] if n_ask else 1 + 1e-6
        sa, sb = np.sqrt(lo), np.sqrt(hi)
        out.append((float(lo), float(hi), float(step * ((sb - 1) / sb + (1 - sa)))))
    total = sum(usd for *_, usd in out)
    return [r for r in out if r[2] > 1e-6 * total]  # levels that differ by rounding hold nothing


def bid_depth(ranges, grid_bps) -> list[tuple[float, float]]:
    """[bps below par, cumulative quote coin paid out to get there] of the v3 ranges (at depth 1): the
    same liquidity written as an order book's `bid_depth_usd`."""
    from sim.model import amm

    curve = amm.Curve.from_usd(ranges, 1.0)
    y_par = amm.pool_value(1.0, curve)[1]
    return [(float(b), float(y_par - amm.pool_value(np.sqrt(1 - b / 1e4), curve)[1])) for b in grid_bps]


def as_yaml(ranges, indent: int = 4) -> str:
    """Ranges as the scenario file's `ranges:` list (rounded as the files hold them)."""
    pad = " " * indent
    return "\n".join(f"{pad}- {{price_lower: {lo:.6f}, price_upper: {hi:.6f}, usd: {usd:.6g}}}"
                     for lo, hi, usd in ranges)
