"""Unit aliases used in signatures and config fields, so a reader always knows what a number means.

Money in the simulator is float64 dollars (`USD`); on chain it is integer base units, converted
only in `sim.chain`.
"""
from typing import Annotated

from pydantic import Field

USD = float  # US dollars (HUSD is counted at par: 1 HUSD = 1 USD of claim)
Hours = float
Fraction = float  # 0..1
Bps = float  # basis points, 1e-4
APR = float  # simple annual rate, fraction per year
Rate8h = float  # perp funding, fraction per 8 hours (0.0001 = 0.01 %/8h)
Price = float  # USD per unit (BTC, troy oz of gold) or USDC per HUSD on the pool

# Validated field types for the scenario models: the constraint is part of the unit.
NonNegUSD = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosUSD = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PosHours = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegHours = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Frac = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegBps = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]
PosPrice = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
