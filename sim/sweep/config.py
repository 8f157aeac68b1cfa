"""Sweep files (YAML), validated like scenarios: unknown keys refused, the field named in errors."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config import ScenarioError, format_validation_error


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SweptParameter(Strict):
    """One scenario field to vary, by its dotted path (e.g. `protocol.reserve.initial_usd`).

    Grid designs list `values`; Latin-hypercube designs give `low` and `high`. `balance` names a
    field that moves the opposite way by the same amount (e.g. grow the BTC weight out of T-bills,
    so weights still sum to 1).
    """

    path: str
    values: list[float] | None = None
    low: float | None = None
    high: float | None = None
    balance: str | None = None

    @model_validator(mode="after")
    def _has_range(self):
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give `values` (grid) or `low` and `high` (latin hypercube)")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("`values` must not be empty")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError("`high` must be >= `low`")
        return self


class Target(Strict):
    """The design target drawn as a contour on the risk surfaces (e.g. depeg probability <= 1 %)."""

    metric: str = "depeg_probability"
    max: float = 0.01


PROBABILITY_METRICS = {"depeg_probability": "min_peg_price", "insolvency_probability": "insolvent",
                       "reserve_depletion_probability": "reserve_depleted",
                       "hedge_liquidation_probability": "hedge_liquidated"}


class SweepConfig(Strict):
    name: str
    description: str = ""
    base: str
    """Base scenario: a path relative to the sweep file, or a shipped scenario name."""
    design: Literal["grid", "lhs"] = "grid"
    points: Annotated[int, Field(gt=0, le=100_000)] | None = None
    """Number of points for a Latin hypercube design."""
    parameters: list[SweptParameter] = Field(min_length=1)
    runs_per_point: Annotated[int, Field(gt=0, le=1_000_000)] = 100
    run_batch: Annotated[int, Field(gt=0, le=100_000)] = 100
    """Runs per chunk (one Dask task, one Parquet part): memory and resume granularity."""
    seed: Annotated[int, Field(ge=0)] = 0
    horizon_hours: Annotated[int, Field(gt=0)] | None = None
    metrics: list[str] = ["max_depeg_bps", "hours_below_threshold", "worst_time_to_repeg_hours", "insolvent",
                          "min_backing_ratio", "reserve_depleted", "reserve_fund_min_usd", "staker_apy",
                          "min_peg_price", "hyb_drawdown"]
    target: Target = Target()

    @model_validator(mode="after")
    def _design(self):
        if self.design == "lhs":
            if self.points is None:
                raise ValueError("a latin hypercube design needs `points`")
            if any(p.low is None or p.high is None for p in self.parameters):
                raise ValueError("a latin hypercube design needs `low` and `high` for every parameter")
        elif any(p.values is None for p in self.parameters):
            raise ValueError("a grid design needs `values` for every parameter")
        return self

    def config_hash(self, base_hash: str) -> str:
        body = self.model_dump(mode="json", exclude={"description"}) | {"base_config_hash": base_hash}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> SweepConfig:
    path = Path(path)
    if not path.exists():
        raise ScenarioError(str(path), ["no such file"])
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ScenarioError(str(path), [f"not valid YAML: {str(err).splitlines()[0]}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(str(path), ["the file must hold a mapping of sweep fields"])
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(str(path), format_validation_error(err)) from None
