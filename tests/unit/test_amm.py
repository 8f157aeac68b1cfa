"""Unit tests for sim.model.amm (Uniswap v3 concentrated-liquidity pool math)."""

import numpy as np
import pytest

from sim.model.amm import (
    Curve,
    amounts_to_reach,
    pool_value,
    price_at_tick,
    reserves_in_range,
    sqrt_price_at_tick,
    swap_exact_in,
    tick_at_price,
    virtual_depth_usd,
)

L0 = 4e9  # ~ $40M spread over ±1%
ONE = Curve.from_positions([(0.99, 1.01, L0)])
# two stacked ranges: deep ±0.5% core plus a thinner ±2% band
TWO = Curve.from_positions([(0.995, 1.005, 6e9), (0.98, 1.02, 1e9)])
# two disjoint ranges with an empty gap 0.995..1.005
GAP = Curve.from_positions([(0.98, 0.995, 2e9), (1.005, 1.02, 2e9)])


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


# ------------------------------------------------------------------ constant-L closed forms


def test_sell_husd_within_one_range_matches_closed_form():
    s, x, fee = 1.0, 1e6, 0.0005
    out, s_new, fee_paid, used = swap_exact_in(s, x, True, ONE, fee=fee)
    net = x * (1 - fee)
    s_exp = 1.0 / (1.0 / s + net / L0)  # Δ(1/s)·L = Δx
    assert rel(s_new, s_exp) < 1e-14
    assert rel(out, L0 * (s - s_exp)) < 1e-12  # Δs·L = Δy
    assert used == x and rel(fee_paid, x * fee) < 1e-15


def test_buy_husd_within_one_range_matches_closed_form():
    s, y, fee = 0.999, 2.5e6, 0.0001
    out, s_new, fee_paid, used = swap_exact_in(s, y, False, ONE, fee=fee)
    s_exp = s + y * (1 - fee) / L0
    assert rel(s_new, s_exp) < 1e-14
    assert rel(out, L0 * (1 / s - 1 / s_exp)) < 1e-11
    assert used == y and rel(fee_paid, y * fee) < 1e-15


def test_tiny_trade_keeps_relative_precision():
    # 1 cent into a $40M pool: output must not suffer cancellation in 1/s differences
    out, s_new, _, _ = swap_exact_in(1.0, 0.01, False, ONE, fee=0.0)
    assert rel(out, 0.01 / (1.0 * (1.0 + 0.01 / L0))) < 1e-14
    assert s_new > 1.0


# ------------------------------------------------------------------ crossing, gaps, partial fills


def test_crossing_a_boundary_sums_the_two_pieces():
    s0 = 1.0
    b_lo = np.sqrt(0.995)  # core range lower bound
    L_core, L_wide = 7e9, 1e9
    x_to_bound = L_core * (1 / b_lo - 1 / s0)
    x = x_to_bound + 3e6  # 3M HUSD beyond the boundary
    out, s_new, _, _ = swap_exact_in(s0, x, True, TWO, fee=0.0)
    s_exp = 1 / (1 / b_lo + 3e6 / L_wide)
    assert rel(s_new, s_exp) < 1e-13
    y_exp = L_core * (s0 - b_lo) + L_wide * (b_lo - s_exp)
    assert rel(out, y_exp) < 1e-12


def test_gap_is_crossed_for_free():
    s0 = np.sqrt(1.01)
    y = 8e6  # HUSD sold
    out, s_new, _, used = swap_exact_in(s0, y, True, GAP, fee=0.0)
    # first consume the upper range down to 1.005, then jump the gap, then the lower range
    x_upper = 2e9 * (1 / np.sqrt(1.005) - 1 / s0)
    assert y > x_upper
    s_exp = 1 / (1 / np.sqrt(0.995) + (y - x_upper) / 2e9)
    assert rel(s_new, s_exp) < 1e-13
    assert rel(out, 2e9 * (s0 - np.sqrt(1.005)) + 2e9 * (np.sqrt(0.995) - s_exp)) < 1e-12
    assert used == y


def test_price_in_gap_moves_to_liquidity():
    s0 = 1.0  # inside the empty gap
    out, s_new, _, _ = swap_exact_in(s0, 1e3, False, GAP, fee=0.0)
    assert s_new > np.sqrt(1.005) and out > 0


def test_out_of_range_partial_fill_reports_remainder():
    fee = 0.0001
    x0, y0 = pool_value(1.0, ONE)
    out, s_new, fee_paid, used = swap_exact_in(1.0, 1e9, True, ONE, fee=fee)
    assert s_new == ONE.bounds[0]  # stops at the last liquid boundary
    assert rel(out, y0) < 1e-12  # the pool gave away all its USDC
    net_needed = L0 * (1 / ONE.bounds[0] - 1.0)
    assert rel(used, net_needed / (1 - fee)) < 1e-12
    assert rel(fee_paid, used * fee) < 1e-12
    assert 1e9 - used > 0  # the unfilled remainder
    # nothing more can be sold
    out2, s2, fee2, used2 = swap_exact_in(s_new, 1e6, True, ONE, fee=fee)
    assert out2 == 0 and s2 == s_new and used2 == 0 and fee2 == 0


def test_price_outside_all_liquidity_moving_away_does_nothing():
    s0 = np.sqrt(0.9)
    out, s_new, fee_paid, used = swap_exact_in(s0, 1e6, True, ONE)
    assert (out, s_new, fee_paid, used) == (0.0, s0, 0.0, 0.0)


# ------------------------------------------------------------------ fees


def test_fee_is_taken_from_input_and_does_not_move_price():
    fee = 0.003
    a = 1e7
    out_f, s_f, fee_paid, used = swap_exact_in(1.0, a, False, TWO, fee=fee)
    out_0, s_0, fee0, _ = swap_exact_in(1.0, a * (1 - fee), False, TWO, fee=0.0)
    assert rel(out_f, out_0) < 1e-13 and rel(s_f, s_0) < 1e-15
    assert rel(fee_paid, a * fee) < 1e-15 and fee0 == 0
    assert used == a


def test_fee_in_usdc_when_buying_and_husd_when_selling():
    # fee_paid is in the input token; pool reserves only change by the net input
    for z in (True, False):
        x0, y0 = pool_value(1.0, TWO)
        out, s1, fee_paid, used = swap_exact_in(1.0, 1e6, z, TWO, fee=0.01)
        x1, y1 = pool_value(s1, TWO)
        d_in, d_out = (x1 - x0, y0 - y1) if z else (y1 - y0, x0 - x1)
        assert rel(d_in + fee_paid, used) < 1e-8
        assert rel(d_out, out) < 1e-8


# ------------------------------------------------------------------ amounts_to_reach


@pytest.mark.parametrize("target_p", [0.982, 0.99, 0.9975, 1.0004, 1.003, 1.015])
def test_amounts_to_reach_then_swap_lands_on_target(target_p):
    fee = 0.0001
    s0, st = 1.0, np.sqrt(target_p)
    a0, a1, fee_paid = amounts_to_reach(s0, st, TWO, fee=fee)
    down = st < s0
    amount_in = a0 if down else a1
    assert amount_in > 0 and (a1 < 0 if down else a0 < 0)
    out, s_new, fee_sw, used = swap_exact_in(s0, amount_in, down, TWO, fee=fee)
    assert rel(s_new, st) < 1e-12
    assert rel(out, -(a1 if down else a0)) < 1e-10
    assert rel(fee_sw, fee_paid) < 1e-10
    # with the target as price limit it lands exactly
    _, s_lim, _, _ = swap_exact_in(s0, amount_in * 1.001, down, TWO, fee=fee, sqrt_limit=st)
    assert s_lim == st


def test_amounts_to_reach_zero_for_same_price_and_vectorized():
    a0, a1, f = amounts_to_reach(1.0, 1.0, ONE)
    assert a0 == 0 and a1 == 0 and f == 0
    st = np.sqrt(np.array([0.995, 1.0, 1.005]))
    a0, a1, f = amounts_to_reach(1.0, st, ONE, depth=np.array([1.0, 1.0, 0.5]))
    assert a0[0] > 0 > a1[0] and a0[1] == 0 and a1[2] > 0 > a0[2]


def test_amounts_to_reach_beyond_liquidity_only_counts_liquid_part():
    a0, a1, _ = amounts_to_reach(1.0, np.sqrt(0.5), ONE, fee=0.0)
    x0, y0 = pool_value(1.0, ONE)
    assert rel(-a1, y0) < 1e-12


# ------------------------------------------------------------------ limits


def test_sqrt_limit_stops_swap_and_wrong_side_limit_is_no_trade():
    lim = np.sqrt(0.999)
    out, s_new, fee_paid, used = swap_exact_in(1.0, 1e8, True, ONE, sqrt_limit=lim)
    assert s_new == lim and used < 1e8
    a0, a1, f = amounts_to_reach(1.0, lim, ONE)
    assert rel(used, a0) < 1e-12 and rel(out, -a1) < 1e-12
    assert swap_exact_in(1.0, 1e6, True, ONE, sqrt_limit=1.001)[3] == 0


# ------------------------------------------------------------------ depth factor and vectorization


def test_depth_scales_liquidity():
    half = Curve(TWO.bounds, TWO.seg_L * 0.5)
    r1 = swap_exact_in(1.0, 3e6, True, TWO, depth=0.5)
    r2 = swap_exact_in(1.0, 3e6, True, half)
    np.testing.assert_allclose(r1, r2, rtol=1e-14)
    # depth 0: no liquidity at all, nothing trades, price unchanged
    assert swap_exact_in(1.0, 3e6, True, TWO, depth=0.0) == (0.0, 1.0, 0.0, 0.0)


def test_scalar_and_array_calls_identical():
    rng = np.random.default_rng(7)
    R = 64
    s = np.sqrt(rng.uniform(0.985, 1.015, R))
    a = 10 ** rng.uniform(0, 9, R)
    z = rng.random(R) < 0.5
    d = rng.uniform(0.0, 1.5, R)
    lim = np.where(rng.random(R) < 0.3, s * np.where(z, 0.998, 1.002), np.nan)
    vec = swap_exact_in(s, a, z, TWO, depth=d, fee=0.0001, sqrt_limit=lim)
    for i in range(R):
        li = None if np.isnan(lim[i]) else lim[i]
        one = swap_exact_in(s[i], a[i], bool(z[i]), TWO, depth=d[i], fee=0.0001, sqrt_limit=li)
        for v, o in zip(vec, one):
            assert v[i] == o and np.ndim(o) == 0
    st = np.sqrt(rng.uniform(0.97, 1.03, R))
    vec = amounts_to_reach(s, st, TWO, depth=d)
    for i in range(R):
        one = amounts_to_reach(s[i], st[i], TWO, depth=d[i])
        assert all(v[i] == o for v, o in zip(vec, one))
    vec = virtual_depth_usd(s, TWO, depth=d, band=0.01)
    assert all(vec[i] == virtual_depth_usd(s[i], TWO, depth=d[i], band=0.01) for i in range(R))


def test_depth_array_with_scalar_price_broadcasts():
    out, s_new, _, _ = swap_exact_in(1.0, 1e6, True, ONE, depth=np.array([1.0, 2.0]))
    assert out.shape == (2,) and s_new[1] > s_new[0]


# ------------------------------------------------------------------ constructors and depth metrics


def test_from_usd_values_positions_at_price():
    c = Curve.from_usd([(0.99, 1.01, 40e6)], price=1.0)
    x, y = pool_value(1.0, c)
    assert rel(x * 1.0 + y, 40e6) < 1e-12
    # stacked ranges, one entirely below the price (all USDC)
    c2 = Curve.from_usd([(0.99, 1.01, 40e6), (0.95, 0.98, 5e6)], price=1.002)
    x2, y2 = pool_value(np.sqrt(1.002), c2)
    assert rel(x2 * 1.002 + y2, 45e6) < 1e-12
    xb, yb = reserves_in_range(np.sqrt(1.002), c2, 1.0, 0.9, 0.985)
    assert xb == 0 and rel(yb, 5e6) < 1e-12


def test_from_positions_stacks_overlapping_liquidity():
    assert np.allclose(TWO.price_bounds, [0.98, 0.995, 1.005, 1.02])
    assert np.allclose(TWO.seg_L, [1e9, 7e9, 1e9])


def test_tick_snapping():
    t = tick_at_price(1.0)
    assert abs(price_at_tick(t) - 1.0) < 0.5e-4 * 1.0001
    c = Curve.from_usd([(0.99, 1.01, 1e6)], 1.0, tick_spacing=10)
    ticks = np.log(c.bounds / sqrt_price_at_tick(0)) / np.log(1.0001) * 2
    assert np.allclose(ticks, np.round(ticks / 10) * 10, atol=1e-6)


def test_virtual_depth():
    # the whole ±1% range lies within ±2%: depth = whole pool value
    x, y = pool_value(1.0, ONE)
    assert rel(virtual_depth_usd(1.0, ONE, band=0.02), x + y) < 1e-12
    # ±0.5% of a uniform-L range is about half of ±1%
    d05 = virtual_depth_usd(1.0, ONE, band=0.005)
    assert 0.45 < d05 / (x + y) < 0.55
    # depth factor scales linearly; equals the sell/buy amounts to move the price by the band
    assert rel(virtual_depth_usd(1.0, ONE, depth=0.3, band=0.005), 0.3 * d05) < 1e-12
    a0, a1, _ = amounts_to_reach(1.0, np.sqrt(1.005), ONE, fee=0.0)
    b0, b1, _ = amounts_to_reach(1.0, np.sqrt(0.995), ONE, fee=0.0)
    assert rel(d05, -a0 * 1.0 - b1) < 1e-12


def test_validation():
    with pytest.raises(ValueError):
        Curve(np.array([1.0, 0.9]), np.array([1.0]))
    with pytest.raises(ValueError):
        Curve.from_positions([(1.01, 0.99, 1.0)])
    with pytest.raises(ValueError):
        swap_exact_in(1.0, -1.0, True, ONE)
    with pytest.raises(ValueError):
        swap_exact_in(1.0, 1.0, True, ONE, fee=1.0)
    with pytest.raises(ValueError):
        swap_exact_in(1.0, 1.0, True, ONE, depth=-1.0)
    assert not ONE.bounds.flags.writeable
