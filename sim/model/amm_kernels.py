"""The two hot loops of `sim.model.amm`, compiled: a swap's walk across the liquidity segments and
the amounts needed to reach a price, one run at a time.

Why compiled: a batch of a few hundred runs is dominated by the cost of calling numpy (~1.5 us per
call, ~100 calls per swap), not by arithmetic. A per-run loop does the same float operations, in the
same order, as the array formulation it replaced (kept in git history and in the tests as
`tests/unit/test_amm_kernels.py`'s reference), so the numbers are bit-identical; only the
bookkeeping of which runs are active is gone. No fastmath: IEEE results, no fused multiply-adds.

Inputs are 1-D contiguous arrays (z bool, the rest float64) of the batch's length n or of length 1,
read as one value for every run; outputs (length n) are written in place.
"""
from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _at(x, i):
    return x[0] if x.shape[0] == 1 else x[i]


@_jit
def swap_walk(bounds, seg_L, span_lo, span_hi, s, a, z, f, lim, d, out, s_new, fee_paid, used):
    """Exact-input swap per run (see `amm.swap_exact_in`); fills out, s_new, fee_paid, used."""
    K = seg_L.shape[0]
    for i in range(out.shape[0]):
        si, ai, fi, di, li = _at(s, i), _at(a, i), _at(f, i), _at(d, i), _at(lim, i)
        # a run whose depth is 0 has no liquidity at all: its span is empty
        floor, cap = (span_lo, span_hi) if di > 0 else (np.inf, -np.inf)
        no_lim = np.isnan(li)
        lo_clamp = max(floor, 0.0 if no_lim else li)
        hi_clamp = min(cap, np.inf if no_lim else li)
        rem = ai * (1.0 - fi)
        spent = 0.0
        o = 0.0
        if rem > 0 and _at(z, i):  # selling HUSD: walk segments downwards from the current price
            k = min(K - 1, np.searchsorted(bounds, si, side="right") - 1)
            while k >= 0 and rem > 0:
                Lk = di * seg_L[k]
                hi = min(si, bounds[k + 1])
                lo = max(bounds[k], lo_clamp)
                if hi > lo:
                    cap0 = Lk * (hi - lo) / (hi * lo)  # HUSD needed to cross to lo
                    if rem >= cap0:
                        si = lo
                        o += Lk * (hi - lo)
                        spent += cap0
                        rem = rem - cap0
                    else:
                        denom = Lk + rem * hi
                        si = Lk * hi / denom  # 1/s' = 1/s + x/L
                        o += Lk * (rem * hi * hi / denom)
                        spent += rem
                        rem = 0.0
                k -= 1
        elif rem > 0:  # buying HUSD: walk segments upwards
            k = max(0, np.searchsorted(bounds, si, side="right") - 1)
            while k < K and rem > 0:
                Lk = di * seg_L[k]
                lo = max(si, bounds[k])
                hi = min(bounds[k + 1], hi_clamp)
                if hi > lo:
                    cap1 = Lk * (hi - lo)  # USDC needed to cross to hi
                    if rem >= cap1:
                        si = hi
                        o += cap1 / (hi * lo)
                        spent += cap1
                        rem = rem - cap1
                    else:
                        s_part = lo + rem / Lk  # s' = s + y/L
                        o += rem / (lo * s_part)
                        si = s_part
                        spent += rem
                        rem = 0.0
                k += 1
        out[i] = o
        s_new[i] = si
        if rem <= 0:  # filled: the fee is on the whole input
            fee_paid[i] = ai * fi
            used[i] = ai
        else:  # partial: Uniswap charges net * fee / (1 - fee)
            fee_paid[i] = spent * fi / (1.0 - fi)
            used[i] = spent + fee_paid[i]


@_jit
def reach(bounds, seg_L, s, t, f, d, amount0, amount1, fee_paid):
    """The trade from s to t per run (see `amm.amounts_to_reach`); fills the three outputs."""
    K = seg_L.shape[0]
    for i in range(amount0.shape[0]):
        si, ti, fi = _at(s, i), _at(t, i), _at(f, i)
        p_lo, p_hi = min(si, ti), max(si, ti)
        x = 0.0
        y = 0.0
        if p_hi > p_lo:
            for k in range(K):
                lo = max(bounds[k], p_lo)
                hi = min(bounds[k + 1], p_hi)
                if hi > lo:
                    Lk = _at(d, i) * seg_L[k]
                    x += Lk * (hi - lo) / (hi * lo)
                    y += Lk * (hi - lo)
        down = ti < si
        fee = (x if down else y) * fi / (1.0 - fi)
        fee_paid[i] = fee
        amount0[i] = x + fee if down else -x
        amount1[i] = -y if down else y + fee
