"""Sweep files (YAML), validated like scenarios: unknown keys refused, the field named in errors."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from sim.config import ScenarioError, Strict, format_validation_error, read_yaml_file
from sim.types import Finite, Name

NOT_SWEPT = {"runs": "runs_per_point sets it", "seed": "every point uses the sweep's seed (common random numbers)",
             "name": "it is not a number", "description": "it is not a number"}


class SweptParameter(Strict):
    """One scenario field to vary, by its dotted path (e.g. `protocol.reserve.initial_usd`).

    Grid designs list `values`; Latin-hypercube designs give `low` and `high`. `balance` names a
    field that moves the opposite way by the same amount (e.g. grow the BTC weight out of T-bills,
    so weights still sum to 1).
    """

    path: Annotated[str, Field(min_length=1, max_length=200)]
    values: Annotated[list[Finite], Field(max_length=100_000)] | None = None
    low: Finite | None = None
    high: Finite | None = None
    balance: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _has_range(self):
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give `values` (grid) or `low` and `high` (latin hypercube)")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("`values` must not be empty")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError("`high` must be >= `low`")
        for p in (self.path, self.balance):
            if p in NOT_SWEPT:
                raise ValueError(f"{p!r} cannot be swept: {NOT_SWEPT[p]}")
        if self.balance is not None and self.balance == self.path:
            raise ValueError("`balance` must be another field than `path`")
        return self


class Target(Strict):
    """The design target drawn as a contour on the risk surfaces (e.g. depeg probability <= 1 %)."""

    metric: Annotated[str, Field(max_length=100)] = "depeg_probability"
    max: Finite = 0.01


PROBABILITY_METRICS = {"depeg_probability": "min_peg_price", "insolvency_probability": "insolvent",
                       "reserve_depletion_probability": "reserve_depleted",
                       "hedge_liquidation_probability": "hedge_liquidated"}


class SweepConfig(Strict):
    name: Name
    description: Annotated[str, Field(max_length=10_000)] = ""
    base: Annotated[str, Field(min_length=1, max_length=1000)]
    """Base scenario: a path relative to the sweep file, or a shipped scenario name."""
    design: Literal["grid", "lhs"] = "grid"
    points: Annotated[int, Field(gt=0, le=100_000)] | None = None
    """Number of points for a Latin hypercube design."""
    parameters: list[SweptParameter] = Field(min_length=1, max_length=32)
    runs_per_point: Annotated[int, Field(gt=0, le=1_000_000)] = 100
    run_batch: Annotated[int, Field(gt=0, le=100_000)] = 100
    """Runs per chunk (one Dask task, one Parquet part): memory and resume granularity."""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    horizon_hours: Annotated[int, Field(gt=0, le=24 * 366 * 5)] | None = None
    metrics: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=100)] = ["max_depeg_bps", "hours_below_threshold", "worst_time_to_repeg_hours", "insolvent",
                          "min_backing_ratio", "reserve_depleted", "reserve_fund_min_usd", "staker_apy",
                          "min_peg_price", "hyb_drawdown"]
    target: Target = Target()

    @model_validator(mode="after")
    def _design(self):
        paths = [p.path for p in self.parameters] + [p.balance for p in self.parameters if p.balance]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ValueError(f"parameters: {twice[0]!r} is swept (or balanced) twice; each field once")
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
    data = read_yaml_file(path)
    if not isinstance(data, dict):
        raise ScenarioError(str(path), ["the file must hold a mapping of sweep fields"])
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(str(path), format_validation_error(err)) from None
