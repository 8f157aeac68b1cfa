"""Validated unit types for the scenario models: the constraint is part of the unit.

Money in the simulator is float64 dollars (HUSD counted at par); on chain it is integer base units,
converted only in `sim.chain`. Field names carry the unit (`_usd`, `_bps`, `_hours`, `_8h`).
"""
from typing import Annotated

from pydantic import Field

NonNegUSD = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosUSD = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PosHours = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegHours = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Frac = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegBps = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]
PosPrice = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]

HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 8760.0
"""The year rates are annualised over (365 days of hours): APRs, vols, yields."""
