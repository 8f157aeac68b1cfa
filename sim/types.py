"""Validated unit types for the scenario models: the constraint is part of the unit.

Money in the simulator is float64 dollars (HUSD counted at par); on chain it is integer base units,
converted only in `sim.chain`. Field names carry the unit (`_usd`, `_bps`, `_hours`, `_8h`).

Every numeric type has a finite range that means something for a stablecoin book, so a value the
model would overflow on (1e308, a 100,000 % fee, a 10,000 h step) is refused where it is read, with
the field named. A field added to a scenario model takes one of these types and inherits its range.
The models themselves (`sim.config.Strict`) are strict: `true` or `"100"` is not a number, NaN and
inf are refused, and no number larger than `MAX_MAGNITUDE` is accepted anywhere.
"""
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_USD = 1e13
"""$10 trillion: an order of magnitude above every stablecoin combined; sizes, caps, limits, flows."""
MAX_PRICE_USD = 1e9
"""Per unit of an asset (BTC is ~1e5)."""
MAX_HOURS = 24 * 366 * 5
"""Five years of hours: the longest horizon, hence the longest duration or point in time."""
MAX_FUNDING_8H = 0.05
"""5 % per 8 h (~5,500 % APR): far beyond any observed perp funding (the 2021 peak was ~0.3 %)."""
MAX_MAGNITUDE = 1e15
"""No number in a scenario, whatever its field, is larger than this (a guard for fields without a type)."""

# money
NonNegUSD = Annotated[float, Field(ge=0, le=MAX_USD, allow_inf_nan=False)]
PosUSD = Annotated[float, Field(ge=1, le=MAX_USD, allow_inf_nan=False)]
"""At least a dollar: a positive size smaller than that is a typo, and the model divides by some."""
TokenCount = Annotated[float, Field(ge=1, le=MAX_USD, allow_inf_nan=False)]
"""A number of tokens (not dollars), e.g. HYB outstanding."""

# prices and ratios of prices
MIN_PRICE_USD = 1e-6
PosPrice = Annotated[float, Field(ge=MIN_PRICE_USD, le=MAX_PRICE_USD, allow_inf_nan=False)]
PegPrice = Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False)]
"""A HUSD/USDC price (1 = the peg): pool range bounds."""
Multiple = Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False)]
"""A ratio such as mNAV (equity / net holdings)."""

# time
PosHours = Annotated[float, Field(ge=1 / 60, le=MAX_HOURS, allow_inf_nan=False)]
"""A duration: one minute (the shortest step) to five years."""
NonNegHours = Annotated[float, Field(ge=0, le=MAX_HOURS, allow_inf_nan=False)]
StepHours = Annotated[float, Field(ge=1 / 60, le=24, allow_inf_nan=False)]
"""A simulation step: one minute to one day."""

# shares, fees, discounts
Frac = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegBps = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]
FeeBps = Annotated[float, Field(ge=0, le=5_000, allow_inf_nan=False)]
"""A fee or cost charged on an amount: at most 50 % (the model divides by 1 - fee)."""
Correlation = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]

# market dynamics
VolAnnual = Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)]
"""Annualised volatility of a log price: at most 500 %."""
DriftAnnual = Annotated[float, Field(ge=-5, le=5, allow_inf_nan=False)]
JumpRatePerYear = Annotated[float, Field(ge=0, le=365, allow_inf_nan=False)]
"""Expected jumps per year: at most one a day."""
LogJump = Annotated[float, Field(ge=-3, le=3, allow_inf_nan=False)]
"""Mean log size of a jump (-3 = -95 %)."""
LogJumpStd = Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)]
Funding8h = Annotated[float, Field(ge=-MAX_FUNDING_8H, le=MAX_FUNDING_8H, allow_inf_nan=False)]
"""A perp funding rate per 8 h."""
Yield = Annotated[float, Field(ge=-0.05, le=0.5, allow_inf_nan=False)]
"""An annual yield, e.g. the T-bill's."""
RatePerDay = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
"""A mean-reversion or adjustment speed per day (per year for `RatePerYear`)."""
RatePerYear = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Apr = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]
"""An annual rate (borrow rates, spreads): at most 1,000 %."""
Sensitivity = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
"""A dimensionless sensitivity (funding per unit log return, leverage, premium per unit funding)."""
SignedRatePerDay = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]

# legacy names kept for fields that say their own range
NonNegFloat = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Finite = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]

MIN_POOL_DEPTH = 1e-3
"""The smallest share of its liquidity a pool keeps (LPs never pull more than 99.9 %)."""

# names that become folder names (out/<name>)
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"


def _folder_safe(v: str) -> str:
    import re

    if not re.fullmatch(NAME_PATTERN, v) or ".." in v:
        raise ValueError("a name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit, "
                         "without '..' (it names the output folder out/<name>)")
    return v


Name = Annotated[str, AfterValidator(_folder_safe)]
"""A scenario's or sweep's name: it becomes a folder name, so no '/', '..', spaces or control characters."""

HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 8760.0
"""The year rates are annualised over (365 days of hours): APRs, vols, yields."""
