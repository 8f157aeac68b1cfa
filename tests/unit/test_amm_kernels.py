"""The compiled pool-maths kernels (sim/model/amm_kernels.py) against the array formulation they
replaced: bit-identical on random batches (prices in and out of every range, gaps, zero depth, limits
on either side, mixed directions, zero amounts), so the switch changed no simulated number."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.amm import Curve, amounts_to_reach, swap_exact_in

CURVES = [
    Curve.from_positions([(0.998, 1.002, 3e9), (0.98, 1.02, 1.5e9), (0.80, 1.20, 5e8)]),
    Curve.from_positions([(0.98, 0.995, 2e9), (1.005, 1.02, 2e9)]),  # an empty gap around the peg
    Curve.from_positions([(0.99, 1.01, 4e9)]),
]


def _liquid_span(curve, L):
    has = L > 0
    anyL = has.any(axis=-1)
    first = np.argmax(has, axis=-1)
    last = curve.K - 1 - np.argmax(has[..., ::-1], axis=-1)
    return np.where(anyL, curve.bounds[first], np.inf), np.where(anyL, curve.bounds[last + 1], -np.inf)


def numpy_swap(curve: Curve, s, a, z, f, lim, d):
    """The array formulation the kernel replaced (segment by segment over all runs)."""
    shape = s.shape
    b = curve.bounds
    s = s.copy()
    if np.all(d > 0):  # depth scales L but cannot empty a segment: the liquid span is the curve's own
        s_floor, s_cap = curve.liquid_span
    else:
        s_floor, s_cap = _liquid_span(curve, d[..., None] * curve.seg_L)
    no_lim = np.isnan(lim)
    # the price may not go below lo_clamp (selling) nor above hi_clamp (buying)
    lo_clamp = np.maximum(s_floor, np.where(no_lim, 0.0, lim))
    hi_clamp = np.minimum(s_cap, np.where(no_lim, np.inf, lim))

    net = a * (1.0 - f)  # only the post-fee input moves the price
    rem = net.copy()
    spent = np.zeros(shape)  # net input consumed, summed directly (net - rem would cancel)
    out = np.zeros(shape)
    # Segments are walked only where some run can still trade: from the highest (lowest) segment a
    # seller (buyer) sits in, stopping once every run is filled. A skipped segment would change
    # nothing, so the numbers equal a walk over all K (and a scalar call equals an array call).
    sell, buy = z & (rem > 0), ~z & (rem > 0)
    k_top = min(curve.K - 1, int(np.searchsorted(b, s[sell].max(), side="right")) - 1) if sell.any() else -1
    k_bot = max(0, int(np.searchsorted(b, s[buy].min(), side="right")) - 1) if buy.any() else curve.K

    with np.errstate(divide="ignore", invalid="ignore"):
        # selling HUSD: walk segments downwards from the current price
        for k in range(k_top, -1, -1):
            Lk = d * curve.seg_L[k]
            hi = np.minimum(s, b[k + 1])
            lo = np.maximum(b[k], lo_clamp)
            act = z & (rem > 0) & (hi > lo)
            cap0 = Lk * (hi - lo) / (hi * lo)  # HUSD needed to cross to lo
            full = rem >= cap0  # always true for an empty segment (gap crossed free)
            denom = Lk + rem * hi
            s_part = Lk * hi / denom  # 1/s' = 1/s + x/L
            ds_part = rem * hi * hi / denom  # s - s', computed without cancellation
            s = np.where(act, np.where(full, lo, s_part), s)
            out += np.where(act, Lk * np.where(full, hi - lo, ds_part), 0.0)
            spent += np.where(act, np.where(full, cap0, rem), 0.0)
            rem = np.where(act, np.where(full, rem - cap0, 0.0), rem)
            if not (z & (rem > 0)).any():
                break

        # buying HUSD: walk segments upwards
        for k in range(k_bot, curve.K):
            Lk = d * curve.seg_L[k]
            lo = np.maximum(s, b[k])
            hi = np.minimum(b[k + 1], hi_clamp)
            act = ~z & (rem > 0) & (hi > lo)
            cap1 = Lk * (hi - lo)  # USDC needed to cross to hi
            full = rem >= cap1
            s_part = lo + rem / Lk  # s' = s + y/L
            out0_part = rem / (lo * s_part)  # L·(1/s - 1/s') = y/(s·s')
            s = np.where(act, np.where(full, hi, s_part), s)
            out += np.where(act, np.where(full, cap1 / (hi * lo), out0_part), 0.0)
            spent += np.where(act, np.where(full, cap1, rem), 0.0)
            rem = np.where(act, np.where(full, rem - cap1, 0.0), rem)
            if not (~z & (rem > 0)).any():
                break

    filled = rem <= 0
    # full fill: fee is on the whole input; partial: Uniswap charges net·fee/(1-fee)
    fee_paid = np.where(filled, a * f, spent * f / (1.0 - f))
    amount_in_used = np.where(filled, a, spent + fee_paid)
    return out, s, fee_paid, amount_in_used


def numpy_reach(curve: Curve, s, t, f, d):
    """The array formulation of amounts_to_reach the kernel replaced."""
    b = curve.bounds
    down = t < s
    p_lo, p_hi = np.minimum(s, t), np.maximum(s, t)
    x = np.zeros(s.shape)
    y = np.zeros(s.shape)
    # only segments overlapping some run's [p_lo, p_hi] can add anything (others add exactly 0)
    moving = p_hi > p_lo
    k_first = max(0, int(np.searchsorted(b, p_lo[moving].min(), side="right")) - 1) if moving.any() else curve.K
    k_last = min(curve.K, int(np.searchsorted(b, p_hi[moving].max(), side="left"))) if moving.any() else 0
    for k in range(k_first, k_last):
        lo = np.maximum(b[k], p_lo)
        hi = np.minimum(b[k + 1], p_hi)
        w = hi > lo
        Lk = d * curve.seg_L[k]
        x += np.where(w, Lk * (hi - lo) / (hi * lo), 0.0)
        y += np.where(w, Lk * (hi - lo), 0.0)
    net_in = np.where(down, x, y)
    fee_paid = net_in * f / (1.0 - f)
    amount0 = np.where(down, x + fee_paid, -x)
    amount1 = np.where(down, -y, y + fee_paid)
    return amount0, amount1, fee_paid


@st.composite
def batches(draw):
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    curve = CURVES[draw(st.integers(0, len(CURVES) - 1))]
    s = np.sqrt(rng.choice([rng.uniform(0.75, 1.25), 1.0, 0.995, 1.02], size=n) * rng.uniform(0.97, 1.03, n))
    on_bound = rng.random(n) < 0.2  # exactly on a segment boundary: the walk's edge case
    s[on_bound] = curve.bounds[rng.integers(0, len(curve.bounds), n)][on_bound]
    a = rng.choice([0.0, 1e3, 1e6, 5e7, 1e10], size=n) * rng.uniform(0.5, 1.5, n)
    z = rng.random(n) < 0.5
    d = rng.choice([0.0, 0.3, 1.0], size=n, p=[0.1, 0.3, 0.6])
    lim = np.where(rng.random(n) < 0.4, np.nan, np.sqrt(rng.uniform(0.9, 1.1, n)))
    t = np.sqrt(rng.uniform(0.7, 1.3, n))
    return curve, s, a, z, d, lim, t


@settings(max_examples=200, deadline=None)
@given(batches(), st.sampled_from([0.0, 1e-4, 3e-3]))
def test_swap_kernel__random_batches__bit_identical_to_array_formulation(batch, fee):
    curve, s, a, z, d, lim, _t = batch
    got = swap_exact_in(s, a, z, curve, depth=d, fee=fee, sqrt_limit=lim)
    f = np.full(len(s), fee)
    with np.errstate(all="ignore"):
        want = numpy_swap(curve, s, a, z, f, lim, d)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@settings(max_examples=200, deadline=None)
@given(batches(), st.sampled_from([0.0, 1e-4, 3e-3]))
def test_reach_kernel__random_batches__bit_identical_to_array_formulation(batch, fee):
    curve, s, _a, _z, d, _lim, t = batch
    got = amounts_to_reach(s, t, curve, depth=d, fee=fee)
    want = numpy_reach(curve, s, t, np.full(len(s), fee), d)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_kernels__scalar_call__equals_the_same_run_in_a_batch():
    curve = CURVES[0]
    s, a, z = np.array([1.0, 0.999, 1.001]), np.array([2e7, 0.0, 3e6]), np.array([True, False, False])
    batch = swap_exact_in(s, a, z, curve, depth=0.7, fee=1e-4)
    for i in range(3):
        one = swap_exact_in(float(s[i]), float(a[i]), bool(z[i]), curve, depth=0.7, fee=1e-4)
        assert all(np.ndim(v) == 0 for v in one)
        assert [float(v) for v in one] == [float(v[i]) for v in batch]
