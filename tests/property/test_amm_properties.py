"""Property tests for sim.model.amm, including agreement with an exact integer
reference of the Uniswap v3 swap (Q64.96 sqrt price, 18-decimal HUSD, 6-decimal USDC).

The reference (`sim.chain.evm`, shared with the chain replay) re-derives the semantics of SqrtPriceMath.getAmount0Delta /
getAmount1Delta / getNextSqrtPriceFromInput and SwapMath.computeSwapStep (exact input)
in Python integers with the same rounding directions, and the swap loop of
UniswapV3Pool.swap over initialized boundaries.  It is what a later on-chain check
compares against, so the float model must match it to ~1e-9 relative.
"""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.chain import evm
from sim.model.amm import (
    Curve,
    amounts_to_reach,
    pool_value,
    sqrt_price_at_tick,
    swap_exact_in,
    tick_at_price,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ============================================================== exact integer reference
# The one integer-maths reference (sim.chain.evm): Uniswap v3's SqrtPriceMath/SwapMath in Python integers,
# the same functions the chain replay and the fork tests use.

DEC0, DEC1 = evm.HUSD_DECIMALS, evm.USDC_DECIMALS
ref_swap = evm.swap_exact_in


def to_x96(s):
    return evm.sqrt_x96_from_sim(s, husd_is_token0=True)


def from_x96(sx):
    return evm.sim_sqrt_from_x96(sx, husd_is_token0=True)


# ============================================================== strategies

TICK_1 = int(tick_at_price(1.0))


@st.composite
def curves(draw, max_positions=4):
    """1-4 tick-aligned positions within ±5% of $1, each $100k-$100M at price 1."""
    n = draw(st.integers(1, max_positions))
    ranges = []
    for _ in range(n):
        a = draw(st.integers(-500, 480))
        w = draw(st.integers(1, 500 - a))
        usd = draw(st.floats(1e5, 1e8))
        ranges.append((float(sqrt_price_at_tick(TICK_1 + a)) ** 2,
                       float(sqrt_price_at_tick(TICK_1 + a + w)) ** 2, usd))
    return Curve.from_usd(ranges, price=1.0, tick_spacing=1)


prices = st.floats(0.96, 1.04)
sizes = st.floats(1e-2, 1e9)  # from dust to larger than any pool here (partial fills)
realistic = st.floats(1e3, 5e7)
fees = st.sampled_from([0.0, 0.0001, 0.0005, 0.003, 0.01])


def close(a, b, rtol=1e-9, atol=1e-6):
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + atol


# ============================================================== properties


@FAST
@given(curves(), prices, sizes, st.booleans(), fees)
def test_token_conservation(curve, p, a, z, fee):
    """Pool reserves change by exactly the trader's net input and output; the fee is extra."""
    s = np.sqrt(p)
    out, s1, fee_paid, used = swap_exact_in(s, a, z, curve, fee=fee)
    x0, y0 = pool_value(s, curve)
    x1, y1 = pool_value(s1, curve)
    d_in, d_out = (x1 - x0, y0 - y1) if z else (y1 - y0, x0 - x1)
    # pool_value differences cancel: one ulp of the sqrt price is worth ~eps·s·L tokens
    scale = 1e-15 * float(curve.seg_L.max()) * max(s, 1 / s) ** 2
    assert 0 <= used <= a * (1 + 1e-15)
    assert abs(d_in + fee_paid - used) <= 1e-9 * used + scale
    assert abs(d_out - out) <= 1e-9 * out + scale
    assert fee_paid >= 0 and out >= 0
    assert fee_paid <= fee * used * (1 + 1e-12) + 1e-300  # fee = fraction of the gross input


@FAST
@given(curves(), prices, sizes, st.booleans(), fees)
def test_round_trip_never_profitable(curve, p, a, z, fee):
    s = np.sqrt(p)
    out, s1, _, used = swap_exact_in(s, a, z, curve, fee=fee)
    back, s2, _, _ = swap_exact_in(s1, out, not z, curve, fee=fee)
    # trader spent `used` and got `back` of the same token
    assert back <= used * (1 + 1e-12) + 1e-12


@FAST
@given(curves(), prices, sizes, sizes, st.booleans(), fees)
def test_price_monotone_in_direction_and_size(curve, p, a, b, z, fee):
    s = np.sqrt(p)
    a, b = min(a, b), max(a, b)
    _, sa, _, _ = swap_exact_in(s, a, z, curve, fee=fee)
    out_b, sb, _, _ = swap_exact_in(s, b, z, curve, fee=fee)
    out_a = swap_exact_in(s, a, z, curve, fee=fee)[0]
    if z:
        assert sb <= sa <= s
    else:
        assert sb >= sa >= s
    assert out_b >= out_a * (1 - 1e-15)


@FAST
@given(curves(), prices, sizes, sizes, st.booleans(), fees)
def test_path_independence(curve, p, a, b, z, fee):
    """Swapping a+b at once equals swapping a then b (fee on input does not change L)."""
    s = np.sqrt(p)
    out_ab, s_ab, fee_ab, used_ab = swap_exact_in(s, a + b, z, curve, fee=fee)
    out_a, s_a, fee_a, used_a = swap_exact_in(s, a, z, curve, fee=fee)
    out_b, s_b, fee_b, used_b = swap_exact_in(s_a, b, z, curve, fee=fee)
    tol = dict(rtol=1e-9, atol=1e-6)
    assert close(out_ab, out_a + out_b, **tol)
    assert close(used_ab, used_a + used_b, **tol)
    assert close(fee_ab, fee_a + fee_b, **tol)
    assert close(s_ab, s_b, rtol=1e-12, atol=0)


@FAST
@given(curves(), prices, prices, fees)
def test_amounts_to_reach_consistent_with_swap(curve, p, q, fee):
    s, t = np.sqrt(p), np.sqrt(q)
    lo, hi = curve.bounds[0], curve.bounds[-1]
    assume(lo <= t <= hi and lo <= s <= hi and abs(t - s) > 1e-9)
    a0, a1, f = amounts_to_reach(s, t, curve, fee=fee)
    z = t < s
    amount_in, amount_out = (a0, -a1) if z else (a1, -a0)
    assert amount_in >= 0 and amount_out >= 0
    out, s1, fee_paid, used = swap_exact_in(s, amount_in, z, curve, fee=fee)
    assert close(out, amount_out, atol=1e-9) and close(fee_paid, f, atol=1e-12)
    # lands on the target, or only empty liquidity lies between landing and target:
    # inside a gap an exact-input swap stops at the gap's edge, and float dust left after
    # the last liquid segment crosses the gap for free (Uniswap does both too)
    rest = amounts_to_reach(s1, t, curve, fee=0.0)
    assert close(s1, t, rtol=1e-12, atol=0) or abs(rest[0]) + abs(rest[1]) < 1e-9 * amount_in + 1e-6
    # a dust more input with the target as price limit lands on it exactly
    _, s2, _, _ = swap_exact_in(s, amount_in * (1 + 1e-9) + 1e-9, z, curve, fee=fee, sqrt_limit=t)
    assert s2 == t


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(curves(), prices, realistic, st.booleans(), st.sampled_from([0, 100, 500, 3000, 10000]))
def test_matches_exact_integer_uniswap_reference(curve, p, a, z, fee_pips):
    """Float model == integer Uniswap v3 math to 1e-9 relative (plus a few raw units of
    rounding per crossed boundary) at 18-decimal HUSD / 6-decimal USDC."""
    s = float(sqrt_price_at_tick(TICK_1 + round((np.log(p)) / np.log(1.0001))))
    fee = fee_pips / 1e6
    bounds = [to_x96(b) for b in curve.bounds]
    seg_liq = [evm.liquidity_raw(L) for L in curve.seg_L]
    # the float model sees exactly the curve the integers see
    fcurve = Curve(np.array([from_x96(b) for b in bounds]), np.array([evm.liquidity_whole(q) for q in seg_liq]))
    sx = to_x96(s)
    s = from_x96(sx)
    dec_in, dec_out = (DEC0, DEC1) if z else (DEC1, DEC0)
    a_raw = evm.to_units(a, dec_in)
    a = a_raw / 10**dec_in

    out, s1, fee_paid, used = swap_exact_in(s, a, z, fcurve, fee=fee)
    r_out, r_s, r_fee, r_used, steps = ref_swap(sx, a_raw, z, bounds, seg_liq, fee_pips)

    unit_in, unit_out = 10.0**-dec_in, 10.0**-dec_out
    # integer rounding: up to one raw unit per step on each side, plus the fee mulDiv
    # flooring the input (a raw input unit is worth ~1 raw unit of the other token · P)
    slack = steps + 2
    assert abs(out - r_out * unit_out) <= 1e-9 * out + slack * (unit_out + 2 * unit_in)
    assert abs(used - r_used * unit_in) <= 1e-9 * used + slack * unit_in
    # on a partial step Uniswap books the rounding dust of the input as fee (even at 0 pips),
    # so the fee is compared relative to the trade size
    assert abs(fee_paid - r_fee * unit_in) <= 1e-9 * used + slack * unit_in
    # a raw input unit moves sqrt(P) by ~unit/L in the thinnest segment; and when the
    # input runs out right at an empty gap, a few wei of dust decide whether the price
    # jumps the gap, so then only the liquidity between the two prices must be ~nil
    l_min = float(fcurve.seg_L[fcurve.seg_L > 0].min())
    r_sf = from_x96(r_s)
    if abs(s1 - r_sf) > 1e-12 * s1 + slack * unit_in / l_min:
        x_gap, y_gap, _ = amounts_to_reach(s1, r_sf, fcurve, fee=0.0)
        assert abs(x_gap) + abs(y_gap) <= slack * (unit_in + unit_out)
