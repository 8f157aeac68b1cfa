"""Property tests for sim.model.amm, including agreement with an exact integer
reference of the Uniswap v3 swap (Q64.96 sqrt price, 18-decimal HUSD, 6-decimal USDC).

The reference re-derives the semantics of SqrtPriceMath.getAmount0Delta /
getAmount1Delta / getNextSqrtPriceFromInput and SwapMath.computeSwapStep (exact input)
in Python integers with the same rounding directions, and the swap loop of
UniswapV3Pool.swap over initialized boundaries.  It is what a later on-chain check
compares against, so the float model must match it to ~1e-9 relative.
"""

from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

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

Q96 = 1 << 96
U256 = 1 << 256
DEC0, DEC1 = 18, 6
# whole-token float -> raw integer scales
L_SCALE = 10 ** ((DEC0 + DEC1) // 2)  # L_raw = L * 1e12
S_SCALE = Fraction(Q96, 10 ** ((DEC0 - DEC1) // 2))  # sqrtPriceX96 = s * 2**96 / 1e6


def mul_div(a, b, d):
    return a * b // d


def mul_div_up(a, b, d):
    return -(-(a * b) // d)


def div_up(a, b):
    return -(-a // b)


def amount0_delta(sa, sb, liq, round_up):
    """token0 (raw) between sqrt prices: liq·(sb - sa)/(sa·sb), in Q96 fixed point."""
    if sa > sb:
        sa, sb = sb, sa
    num1, num2 = liq << 96, sb - sa
    if round_up:
        return div_up(mul_div_up(num1, num2, sb), sa)
    return mul_div(num1, num2, sb) // sa


def amount1_delta(sa, sb, liq, round_up):
    """token1 (raw) between sqrt prices: liq·(sb - sa)/2**96."""
    if sa > sb:
        sa, sb = sb, sa
    return mul_div_up(liq, sb - sa, Q96) if round_up else mul_div(liq, sb - sa, Q96)


def next_sqrt_from_amount0_up(sp, liq, amount):
    """Price after adding token0: rounds up so the price never moves too far."""
    if amount == 0:
        return sp
    num1 = liq << 96
    product = amount * sp
    if product < U256 and num1 + product < U256:
        return mul_div_up(num1, sp, num1 + product)
    return div_up(num1, num1 // sp + amount)  # the contract's overflow fallback


def next_sqrt_from_amount1_down(sp, liq, amount):
    """Price after adding token1: the quotient rounds down."""
    q = (amount << 96) // liq if amount < (1 << 160) else mul_div(amount, Q96, liq)
    return sp + q


def compute_swap_step(sp, s_target, liq, remaining, fee_pips):
    """Exact-input SwapMath.computeSwapStep -> (sqrt_next, amount_in, amount_out, fee)."""
    z = sp >= s_target
    rem_less_fee = mul_div(remaining, 10**6 - fee_pips, 10**6)
    amt_in = amount0_delta(s_target, sp, liq, True) if z else amount1_delta(sp, s_target, liq, True)
    if rem_less_fee >= amt_in:
        s_next = s_target
    else:
        s_next = (
            next_sqrt_from_amount0_up(sp, liq, rem_less_fee)
            if z
            else next_sqrt_from_amount1_down(sp, liq, rem_less_fee)
        )
    reached = s_next == s_target
    if z:
        if not reached:
            amt_in = amount0_delta(s_next, sp, liq, True)
        amt_out = amount1_delta(s_next, sp, liq, False)
    else:
        if not reached:
            amt_in = amount1_delta(sp, s_next, liq, True)
        amt_out = amount0_delta(sp, s_next, liq, False)
    fee = remaining - amt_in if not reached else mul_div_up(amt_in, fee_pips, 10**6 - fee_pips)
    return s_next, amt_in, amt_out, fee


def ref_swap(sp, amount, z, bounds, seg_liq, fee_pips):
    """UniswapV3Pool.swap (exact input) over a piecewise liquidity curve, raw integers.

    bounds: sorted Q64.96 boundaries; seg_liq[k] is the liquidity on [bounds[k], bounds[k+1]).
    Like the float model, the price stops at the last liquid boundary instead of running
    to MIN/MAX tick (the amounts are the same).  Returns (out, sqrt, fee, in_used, steps).
    """
    liquid = [k for k, liq in enumerate(seg_liq) if liq > 0]
    limit = bounds[liquid[0]] if z else bounds[liquid[-1] + 1]
    if (z and limit >= sp) or (not z and limit <= sp):
        return 0, sp, 0, 0, 0
    remaining, out, fees, steps = amount, 0, 0, 0
    while remaining != 0 and sp != limit:
        if z:
            nxt = max([b for b in bounds if b < sp], default=limit)
            target = max(nxt, limit)
            # active liquidity: the segment just below the price
            k = next((i for i in range(len(seg_liq)) if bounds[i] < sp <= bounds[i + 1]), None)
        else:
            nxt = min([b for b in bounds if b > sp], default=limit)
            target = min(nxt, limit)
            k = next((i for i in range(len(seg_liq)) if bounds[i] <= sp < bounds[i + 1]), None)
        liq = 0 if k is None else seg_liq[k]
        sp, a_in, a_out, fee = compute_swap_step(sp, target, liq, remaining, fee_pips)
        remaining -= a_in + fee
        out += a_out
        fees += fee
        steps += 1
    return out, sp, fees, amount - remaining, steps


def to_x96(s):
    return round(Fraction(float(s)) * S_SCALE)


def from_x96(sx):
    return float(Fraction(sx) / S_SCALE)


def to_raw(amount, decimals):
    return int(Fraction(float(amount)) * 10**decimals)


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
    seg_liq = [int(round(L * L_SCALE)) for L in curve.seg_L]
    # the float model sees exactly the curve the integers see
    fcurve = Curve(np.array([from_x96(b) for b in bounds]), np.array(seg_liq, float) / L_SCALE)
    sx = to_x96(s)
    s = from_x96(sx)
    dec_in, dec_out = (DEC0, DEC1) if z else (DEC1, DEC0)
    a_raw = to_raw(a, dec_in)
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
