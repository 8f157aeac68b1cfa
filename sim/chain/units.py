"""Float dollars <-> integer base units, in one place.

EVM rounding: contracts divide with truncation toward zero, so a conversion to base units that
stands for an amount *paid by the protocol* rounds down (`to_units`), one the protocol *receives*
rounds up (`to_units_up`). Prices: HUSD/USDC sqrtPriceX96 <-> the simulator's sqrt(USDC per HUSD).
"""
from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

Q96 = 2**96
WAD = 10**18
HUSD_DECIMALS = 18
USDC_DECIMALS = 6


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


def sqrt_x96_from_sim(sqrt_p: float, husd_is_token0: bool, dec_husd: int = HUSD_DECIMALS, dec_usdc: int = USDC_DECIMALS) -> int:
    """The simulator's sqrt(USDC per HUSD) -> the pool's sqrtPriceX96 (token1 raw per token0 raw)."""
    scale = 10 ** ((dec_usdc - dec_husd) / 2)  # sqrt of raw-unit scaling
    s_raw = sqrt_p * scale
    if not husd_is_token0:
        s_raw = 1.0 / s_raw
    return int(Decimal(s_raw) * Q96)


def sim_sqrt_from_x96(sqrt_x96: int, husd_is_token0: bool, dec_husd: int = HUSD_DECIMALS, dec_usdc: int = USDC_DECIMALS) -> float:
    s_raw = int(sqrt_x96) / Q96
    if not husd_is_token0:
        s_raw = 1.0 / s_raw
    return s_raw / 10 ** ((dec_usdc - dec_husd) / 2)


def liquidity_raw(L_whole: float, dec_husd: int = HUSD_DECIMALS, dec_usdc: int = USDC_DECIMALS) -> int:
    """Whole-token liquidity (the simulator's L) -> the pool's uint128 liquidity (rounded down)."""
    return int(Decimal(float(L_whole)) * Decimal(10) ** Decimal((dec_husd + dec_usdc) / 2))


def liquidity_whole(L_raw: int, dec_husd: int = HUSD_DECIMALS, dec_usdc: int = USDC_DECIMALS) -> float:
    return int(L_raw) / 10 ** ((dec_husd + dec_usdc) / 2)


def husd_tick_to_pool_tick(husd_tick: int, husd_is_token0: bool) -> int:
    """A tick of the simulator's convention (price of HUSD in USDC, 18/6 decimals) -> the pool's tick."""
    return int(husd_tick) if husd_is_token0 else -int(husd_tick)


def price_tick(price: float, dec_husd: int = HUSD_DECIMALS, dec_usdc: int = USDC_DECIMALS) -> float:
    """Unrounded tick of a HUSD price (USDC per HUSD) in the HUSD-is-token0 convention."""
    return math.log(price * 10 ** (dec_usdc - dec_husd)) / math.log(1.0001)
