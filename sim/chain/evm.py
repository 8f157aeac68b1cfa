"""The one integer-maths reference: base units, X96 prices, ticks and fee rounding as the contracts do them.

Shared by the deployer, the replay and the tests (the property tests hold `sim.model.amm` to the
Uniswap v3 swap below, the fork tests hold the chain to it). Pure Python integers; no Ape, no numpy.

EVM rounding: contracts divide with truncation toward zero, so an amount *paid by the protocol* is
rounded down (`to_units`), one it *receives* is rounded up (`to_units_up`). Prices: the simulator's
`s = sqrt(USDC per HUSD)` in whole tokens; the pool's `sqrtPriceX96 = sqrt(token1 raw / token0 raw) * 2**96`.
"""
from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

Q96 = 2**96
WAD = 10**18  # the contracts' 18-decimal dollars
MAX_UINT256 = 2**256 - 1
BPS = 10_000  # fees in basis points (Minter, PSM)
PIPS = 1_000_000  # Uniswap fees in hundredths of a bip (100 = the 0.01 % tier)
HUSD_DECIMALS = HYB_DECIMALS = 18
USDC_DECIMALS = 6
MIN_TICK, MAX_TICK = -887272, 887272
MIN_SQRT_X96, MAX_SQRT_X96 = 4295128739, 1461446703485210103287273052203988822378723970342  # TickMath bounds
TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}  # fee tier (pips) -> tick spacing (UniswapV3Factory)


# ----------------------------------------------------------------------------- base units


def to_units(amount: float, decimals: int) -> int:
    """Human amount -> base units, rounded down (toward zero), exactly from the float's value."""
    return int((Decimal(float(amount)) * (Decimal(10) ** decimals)).to_integral_value(ROUND_FLOOR))


def to_units_up(amount: float, decimals: int) -> int:
    """Human amount -> base units, rounded up (what a payer must send to cover `amount`)."""
    return int((Decimal(float(amount)) * (Decimal(10) ** decimals)).to_integral_value(ROUND_CEILING))


def from_units(units: int, decimals: int) -> float:
    return float(Decimal(int(units)) / (Decimal(10) ** decimals))


def usd_wad(amount: float) -> int:
    """Dollars -> 18-decimal dollars (the contracts' accounting unit), rounded down."""
    return to_units(amount, 18)


def feed_answer(price_usd: float, decimals: int = 8) -> int:
    """Chainlink-style answer, rounded to nearest (a feed reports the nearest representable price)."""
    return int((Decimal(float(price_usd)) * (Decimal(10) ** decimals)).to_integral_value())


# ----------------------------------------------------------------------------- EVM division and fees


def mul_div(a: int, b: int, d: int) -> int:
    return a * b // d


def mul_div_up(a: int, b: int, d: int) -> int:
    return -(-(a * b) // d)


def div_up(a: int, b: int) -> int:
    return -(-a // b)


def bps_fee(amount: int, fee_bps: int) -> int:
    """`amount * feeBps / BPS`: the fee every Minter and PSM path takes (rounded down: the payer gains the dust)."""
    return amount * int(fee_bps) // BPS


def minter_mint_out(amount_in: int, fee_bps: int, decimals: int = USDC_DECIMALS, price_wad: int = WAD) -> int:
    """HUSD wei `Minter.mint` issues for `amount_in` base units of a collateral worth `price_wad` (18-decimal USD)."""
    gross = amount_in * price_wad // 10**decimals
    return gross - bps_fee(gross, fee_bps)


def psm_swap_in(usdc_units: int, fee_in_bps: int, usdc_decimals: int = USDC_DECIMALS) -> int:
    """HUSD wei `PegStabilityModule.swapIn` mints for `usdc_units` (fee kept as USDC)."""
    gross = usdc_units * 10 ** (HUSD_DECIMALS - usdc_decimals)
    return gross - bps_fee(gross, fee_in_bps)


def psm_swap_out(husd_wei: int, fee_out_bps: int, usdc_decimals: int = USDC_DECIMALS) -> int:
    """USDC units `PegStabilityModule.swapOut` pays for `husd_wei` (rounded down; fee and dust stay)."""
    return (husd_wei - bps_fee(husd_wei, fee_out_bps)) // 10 ** (HUSD_DECIMALS - usdc_decimals)


# ----------------------------------------------------------------------------- prices and ticks

_SQRT_DEC = 10 ** ((HUSD_DECIMALS - USDC_DECIMALS) // 2)  # sqrt of HUSD/USDC raw-unit scaling (1e6)


def sqrt_x96_from_sim(sqrt_p: float, husd_is_token0: bool) -> int:
    """The simulator's sqrt(USDC per HUSD) -> the HUSD/USDC pool's sqrtPriceX96 (rounded down)."""
    s = Fraction(float(sqrt_p)) / _SQRT_DEC  # sqrt(token1 raw / token0 raw) when HUSD is token0
    if not husd_is_token0:
        s = 1 / s
    return math.floor(s * Q96)


def sim_sqrt_from_x96(sqrt_x96: int, husd_is_token0: bool) -> float:
    """The HUSD/USDC pool's sqrtPriceX96 -> the simulator's sqrt(USDC per HUSD)."""
    s = Fraction(int(sqrt_x96), Q96)
    if not husd_is_token0:
        s = 1 / s
    return float(s * _SQRT_DEC)


def price_from_x96(sqrt_x96: int, base_is_token0: bool, base_decimals: int, quote_decimals: int = USDC_DECIMALS) -> float:
    """Price of the base token in the quote token (whole units) from a pool's sqrtPriceX96."""
    raw = Fraction(int(sqrt_x96), Q96) ** 2  # token1 raw per token0 raw
    if not base_is_token0:
        raw = 1 / raw
    return float(raw * Fraction(10**base_decimals, 10**quote_decimals))


def raw_price(price: float, base_is_token0: bool, base_decimals: int, quote_decimals: int = USDC_DECIMALS) -> float:
    """A base token's price in the quote token -> the pool's raw price (token1 raw per token0 raw)."""
    raw = price * 10**quote_decimals / 10**base_decimals
    return raw if base_is_token0 else 1.0 / raw


def sqrt_x96_from_raw(raw: float) -> int:
    return math.floor(Fraction(math.sqrt(raw)) * Q96)


def tick_of_raw(raw: float) -> float:
    """The unrounded tick of a raw price (log base 1.0001)."""
    return math.log(raw) / math.log(1.0001)


def usable_tick(tick: float, spacing: int, rounding: str = "floor") -> int:
    """`tick` rounded ("floor", "ceil" or "nearest") to a multiple of `spacing`, inside TickMath's range."""
    q = {"floor": math.floor, "ceil": math.ceil, "nearest": round}[rounding](tick / spacing) * spacing
    lo, hi = -(-MIN_TICK // spacing) * spacing, MAX_TICK // spacing * spacing
    return int(max(lo, min(hi, q)))


def husd_tick_to_pool_tick(husd_tick: int, husd_is_token0: bool) -> int:
    """A tick of the simulator's convention (HUSD as token0, 18/6 decimals) -> the pool's tick."""
    return int(husd_tick) if husd_is_token0 else -int(husd_tick)


# ----------------------------------------------------------------------------- liquidity

_L_SCALE = 10 ** ((HUSD_DECIMALS + USDC_DECIMALS) // 2)  # L_raw = L * 1e12 for an 18/6-decimal pair


def liquidity_raw(L_whole: float) -> int:
    """Whole-token liquidity (the simulator's L) -> the pool's uint128 liquidity (rounded down)."""
    return math.floor(Fraction(float(L_whole)) * _L_SCALE)


def liquidity_whole(L_raw: int) -> float:
    return int(L_raw) / _L_SCALE


def liquidity_for_amounts(sqrt_p: float, sqrt_a: float, sqrt_b: float, amount0: int, amount1: int) -> int:
    """Uniswap's LiquidityAmounts.getLiquidityForAmounts in floats (unscaled sqrt of raw prices), shaved
    0.1 % so the position always fits the budget."""
    if sqrt_p <= sqrt_a:
        liq = amount0 * sqrt_a * sqrt_b / (sqrt_b - sqrt_a)
    elif sqrt_p >= sqrt_b:
        liq = amount1 / (sqrt_b - sqrt_a)
    else:
        liq = min(amount0 * sqrt_p * sqrt_b / (sqrt_b - sqrt_p), amount1 / (sqrt_p - sqrt_a))
    return int(liq * 0.999)


# ----------------------------------------------------------------------------- Uniswap v3 swap (exact input)
# SqrtPriceMath.getAmount0Delta / getAmount1Delta / getNextSqrtPriceFromInput and SwapMath.computeSwapStep
# in Python integers with the contracts' rounding directions; `swap_exact_in` is UniswapV3Pool.swap's loop.

_U256 = 1 << 256


def amount0_delta(sa: int, sb: int, liq: int, round_up: bool) -> int:
    """token0 (raw) between sqrt prices: liq·(sb - sa)/(sa·sb), in Q96 fixed point."""
    if sa > sb:
        sa, sb = sb, sa
    num1, num2 = liq << 96, sb - sa
    if round_up:
        return div_up(mul_div_up(num1, num2, sb), sa)
    return mul_div(num1, num2, sb) // sa


def amount1_delta(sa: int, sb: int, liq: int, round_up: bool) -> int:
    """token1 (raw) between sqrt prices: liq·(sb - sa)/2**96."""
    if sa > sb:
        sa, sb = sb, sa
    return mul_div_up(liq, sb - sa, Q96) if round_up else mul_div(liq, sb - sa, Q96)


def next_sqrt_from_amount0_up(sp: int, liq: int, amount: int) -> int:
    """Price after adding token0: rounds up so the price never moves too far."""
    if amount == 0:
        return sp
    num1 = liq << 96
    product = amount * sp
    if product < _U256 and num1 + product < _U256:
        return mul_div_up(num1, sp, num1 + product)
    return div_up(num1, num1 // sp + amount)  # the contract's overflow fallback


def next_sqrt_from_amount1_down(sp: int, liq: int, amount: int) -> int:
    """Price after adding token1: the quotient rounds down."""
    q = (amount << 96) // liq if amount < (1 << 160) else mul_div(amount, Q96, liq)
    return sp + q


def compute_swap_step(sp: int, s_target: int, liq: int, remaining: int, fee_pips: int) -> tuple[int, int, int, int]:
    """Exact-input SwapMath.computeSwapStep -> (sqrt_next, amount_in, amount_out, fee)."""
    z = sp >= s_target
    rem_less_fee = mul_div(remaining, PIPS - fee_pips, PIPS)
    amt_in = amount0_delta(s_target, sp, liq, True) if z else amount1_delta(sp, s_target, liq, True)
    if rem_less_fee >= amt_in:
        s_next = s_target
    else:
        s_next = next_sqrt_from_amount0_up(sp, liq, rem_less_fee) if z else next_sqrt_from_amount1_down(sp, liq, rem_less_fee)
    reached = s_next == s_target
    if z:
        if not reached:
            amt_in = amount0_delta(s_next, sp, liq, True)
        amt_out = amount1_delta(s_next, sp, liq, False)
    else:
        if not reached:
            amt_in = amount1_delta(sp, s_next, liq, True)
        amt_out = amount0_delta(sp, s_next, liq, False)
    fee = remaining - amt_in if not reached else mul_div_up(amt_in, fee_pips, PIPS - fee_pips)
    return s_next, amt_in, amt_out, fee


def swap_exact_in(sp: int, amount: int, zero_for_one: bool, bounds: list[int], seg_liq: list[int],
                  fee_pips: int) -> tuple[int, int, int, int, int]:
    """UniswapV3Pool.swap (exact input) over a piecewise liquidity curve, raw integers.

    bounds: sorted Q64.96 boundaries; seg_liq[k] is the liquidity on [bounds[k], bounds[k+1]). Like
    `sim.model.amm`, the price stops at the last liquid boundary instead of running to MIN/MAX tick (the
    amounts are the same). Returns (out, sqrt_after, fee, in_used, steps).
    """
    z = zero_for_one
    liquid = [k for k, liq in enumerate(seg_liq) if liq > 0]
    limit = bounds[liquid[0]] if z else bounds[liquid[-1] + 1]
    if (z and limit >= sp) or (not z and limit <= sp):
        return 0, sp, 0, 0, 0
    remaining, out, fees, steps = amount, 0, 0, 0
    while remaining != 0 and sp != limit:
        if z:
            target = max(max([b for b in bounds if b < sp], default=limit), limit)
            k = next((i for i in range(len(seg_liq)) if bounds[i] < sp <= bounds[i + 1]), None)  # segment below
        else:
            target = min(min([b for b in bounds if b > sp], default=limit), limit)
            k = next((i for i in range(len(seg_liq)) if bounds[i] <= sp < bounds[i + 1]), None)
        liq = 0 if k is None else seg_liq[k]
        sp, a_in, a_out, fee = compute_swap_step(sp, target, liq, remaining, fee_pips)
        remaining -= a_in + fee
        out += a_out
        fees += fee
        steps += 1
    return out, sp, fees, amount - remaining, steps
