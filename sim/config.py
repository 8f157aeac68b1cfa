"""Scenario files: pydantic models of the market, the protocol, the agents and scripted stress.

Every field says its unit in its name or its type. Unknown keys are refused (a typo in a risk
parameter must never be silently ignored). `load_scenario` turns a YAML file into a `Scenario`
or raises `ScenarioError` with one line per problem, each naming the field.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import reprlib
import stat
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.types import (
    MAX_FUNDING_8H,
    MAX_PRICE_USD,
    MAX_HOURS,
    MAX_MAGNITUDE,
    MIN_POOL_DEPTH,
    Apr,
    Correlation,
    DriftAnnual,
    FeeBps,
    Finite,
    Frac,
    Funding8h,
    JumpRatePerYear,
    LogJump,
    LogJumpStd,
    Multiple,
    Name,
    NonNegBps,
    NonNegHours,
    NonNegUSD,
    PegPrice,
    PosHours,
    PosPrice,
    PosUSD,
    RatePerDay,
    RatePerYear,
    Sensitivity,
    SignedRatePerDay,
    StepHours,
    TokenCount,
    VolAnnual,
    Yield,
)


class ScenarioError(ValueError):
    """A scenario that cannot be run; `lines` holds one readable line per problem."""

    def __init__(self, source: str, lines: list[str]):
        self.source = source
        self.lines = lines
        super().__init__(f"{source}: " + "; ".join(lines))


class Strict(BaseModel):
    """Unknown keys refused; numbers strict (`true` and `"100"` are not numbers, NaN and inf refused);
    no number anywhere larger in magnitude than `MAX_MAGNITUDE` (sim.types gives each its own range)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self):
        for name in type(self).model_fields:
            v = getattr(self, name)
            if isinstance(v, float) and abs(v) > MAX_MAGNITUDE:
                raise ValueError(f"{name}: out of range (|value| > {MAX_MAGNITUDE:.0e})")
        return self


# ---------------------------------------------------------------------------------------------
# Market
# ---------------------------------------------------------------------------------------------
class Regime(Strict):
    """Dynamics of one market regime. Vols and drifts are annualised (8760 h)."""

    btc_vol_annual: VolAnnual = 0.50
    xau_vol_annual: VolAnnual = 0.14
    btc_drift_annual: DriftAnnual = 0.0
    xau_drift_annual: DriftAnnual = 0.0
    btc_xau_correlation: Correlation = 0.1
    btc_jump_rate_per_year: JumpRatePerYear = 4.0
    btc_jump_mean: LogJump = -0.02
    """Mean log size of a BTC jump (negative: crashes are more common than spikes)."""
    btc_jump_std: LogJumpStd = 0.04
    xau_jump_rate_per_year: JumpRatePerYear = 1.0
    xau_jump_mean: LogJump = 0.0
    xau_jump_std: LogJumpStd = 0.015
    funding_mean_8h_btc: Funding8h = 0.0001
    """Level perp funding reverts to in this regime (0.0001/8h ~ 11 % APR)."""
    funding_mean_8h_xau: Funding8h = 0.00003
    pool_depth_factor: Annotated[float, Field(ge=MIN_POOL_DEPTH, le=1)] = 1.0
    """Share of the pool's liquidity LPs keep in this regime (stress: they pull liquidity)."""


class FundingProcess(Strict):
    """Perp funding as an Ornstein-Uhlenbeck process tied to price moves.

    d f = kappa (mean_regime - f) dt + vol dW + price_beta * (log return), per hour.
    A negative log return with a positive beta drives funding down: crashes turn funding negative.
    """

    mean_reversion_per_day: RatePerDay = 0.5
    vol_8h_per_sqrt_day: Annotated[float, Field(ge=0, le=MAX_FUNDING_8H)] = 0.00006
    price_beta_8h: Annotated[float, Field(ge=0, le=1)] = 0.004
    """Funding change (per 8 h) per unit log return of the underlying in the same hour."""
    floor_8h: Funding8h = -0.0075
    cap_8h: Funding8h = 0.0075

    @model_validator(mode="after")
    def _floor_below_cap(self):
        if self.floor_8h > self.cap_8h:
            raise ValueError(f"floor_8h ({self.floor_8h:g}) must be <= cap_8h ({self.cap_8h:g})")
        return self


class TbillProcess(Strict):
    long_run_yield: Yield = 0.045
    mean_reversion_per_year: RatePerYear = 0.3
    vol_per_sqrt_year: Annotated[float, Field(ge=0, le=0.2)] = 0.006


class StochasticMarket(Strict):
    btc_usd_start: PosPrice = 90_000.0
    xau_usd_start: PosPrice = 2_600.0
    tbill_yield_start: Yield = 0.045
    calm: Regime = Regime()
    stress: Regime = Regime(
        btc_vol_annual=1.1, xau_vol_annual=0.25, btc_drift_annual=-0.5, btc_xau_correlation=0.35,
        btc_jump_rate_per_year=25.0, btc_jump_mean=-0.04, btc_jump_std=0.05,
        funding_mean_8h_btc=-0.00005, funding_mean_8h_xau=0.0, pool_depth_factor=0.5,
    )
    p_calm_to_stress_per_hour: Frac = 1 / (24 * 120)
    p_stress_to_calm_per_hour: Frac = 1 / (24 * 10)
    start_in_stress: bool = False
    funding_btc: FundingProcess = FundingProcess()
    funding_xau: FundingProcess = FundingProcess(vol_8h_per_sqrt_day=0.00002, price_beta_8h=0.002)
    tbill: TbillProcess = TbillProcess()


class HistoricalMarket(Strict):
    """Replay of the shipped daily series (sim/data), interpolated to the step.

    Gold is a monthly average and has no perp funding series: gold funding is the constant below,
    an assumption stated in the report.
    """

    start_date: Annotated[dt.date, Field(strict=False)]  # a date from YAML, or its ISO text from JSON
    end_date: Annotated[dt.date, Field(strict=False)]
    xau_funding_rate_8h: Funding8h = 0.00003
    stress_drawdown: Annotated[float, Field(ge=0.01, le=0.99)] = 0.2
    """BTC drawdown from its 30-day high beyond which the hour counts as stress (pool depth falls)."""
    stress_pool_depth_factor: Annotated[float, Field(ge=MIN_POOL_DEPTH, le=1)] = 0.5

    @model_validator(mode="after")
    def _ordered(self):
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        return self


class Market(Strict):
    source: Literal["stochastic", "historical"] = "stochastic"
    stochastic: StochasticMarket = StochasticMarket()
    historical: HistoricalMarket | None = None

    @model_validator(mode="after")
    def _source_has_data(self):
        if self.source == "historical" and self.historical is None:
            raise ValueError("source 'historical' needs a 'historical' block with start_date and end_date")
        return self


# ---------------------------------------------------------------------------------------------
# Secondary market
# ---------------------------------------------------------------------------------------------
class LiquidityRange(Strict):
    """One concentrated-liquidity position: `usd` of value deposited at price 1 between the bounds."""

    price_lower: PegPrice
    price_upper: PegPrice
    usd: PosUSD

    @model_validator(mode="after")
    def _ordered(self):
        if not self.price_lower < 1.0 < self.price_upper:
            raise ValueError("a HUSD/USDC range must straddle the peg: price_lower < 1 < price_upper")
        return self


class Pool(Strict):
    """HUSD/USDC Uniswap v3 pool (0.01 % tier by default) and the HYB/USDC backstop pool."""

    fee_fraction: Annotated[float, Field(ge=0, lt=0.1)] = 0.0001
    ranges: list[LiquidityRange] = Field(
        default_factory=lambda: [
            LiquidityRange(price_lower=0.998, price_upper=1.002, usd=30e6),
            LiquidityRange(price_lower=0.98, price_upper=1.02, usd=15e6),
            LiquidityRange(price_lower=0.80, price_upper=1.20, usd=5e6),
        ],
        min_length=1,
    )
    hyb_price_start: PosPrice = 0.50
    hyb_pool_usd: PosUSD = 20e6
    """Value in the HYB/USDC pool, spread over prices hyb_price_start/20 .. x20."""
    hyb_fee_fraction: Annotated[float, Field(ge=0, lt=0.1)] = 0.003


# ---------------------------------------------------------------------------------------------
# Protocol
# ---------------------------------------------------------------------------------------------
class Weights(Strict):
    """Target share of backing in each sleeve; must sum to 1."""

    tbill: Frac = 0.40
    btc: Frac = 0.30
    xau: Frac = 0.15
    buffer: Frac = 0.15

    @model_validator(mode="after")
    def _sum_to_one(self):
        total = self.tbill + self.btc + self.xau + self.buffer
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1 (got {total:.6g})")
        return self


class Hedge(Strict):
    initial_margin_ratio: Annotated[float, Field(ge=0.001, le=1)] = 0.10
    """Cash margin kept at the perp venue per dollar of short notional."""
    maintenance_margin_ratio: Annotated[float, Field(ge=0.0005, le=1)] = 0.03
    liquidation_penalty_bps: FeeBps = 100
    margin_sweep_ratio: Annotated[float, Field(ge=0.001, le=10)] = 0.15
    """Margin above this share of notional is swept back to the buffer (profits leave the venue)."""
    rehedge_per_hour: Frac = 0.25
    """Share of an open delta gap (spot minus short) closed per hour."""
    premium_per_funding_8h: Sensitivity = 3.0
    """Perp premium to spot per unit of 8 h funding: the basis that funding drives."""

    @model_validator(mode="after")
    def _margins(self):
        if self.maintenance_margin_ratio >= self.initial_margin_ratio:
            raise ValueError("maintenance_margin_ratio must be below initial_margin_ratio")
        return self


class Tbill(Strict):
    instant_redemption_limit_usd_per_day: NonNegUSD = 100e6
    settlement_hours: PosHours = 24.0


class Fees(Strict):
    mint_fee_bps: FeeBps = 5
    redeem_fee_bps: FeeBps = 10


class Caps(Strict):
    redeem_cap_usd_per_hour: NonNegUSD = 25e6
    mint_cap_usd_per_hour: NonNegUSD = 25e6


class Revenue(Strict):
    staker_share: Frac = 0.8
    distribution_interval_hours: PosHours = 8.0
    distribute: Literal["surplus", "carry"] = "surplus"
    """What is paid out each interval. `surplus`: all of backing above supply, including the perp
    basis marked to market (its gains leave, its losses are drawn from the reserve: a ratchet on the
    reserve). `carry`: at most the T-bill yield and funding earned since the last payout; marks stay
    in the backing as a cushion."""


class Reserve(Strict):
    initial_usd: NonNegUSD = 40e6
    max_draw_usd_per_hour: NonNegUSD = 10e6


class Backstop(Strict):
    enabled: bool = True
    hyb_supply: TokenCount = 200e6
    """HYB tokens outstanding (a count, not dollars)."""
    max_sale_usd_per_day: NonNegUSD = 10e6
    trigger_deficit_bps: NonNegBps = 1
    """Sell HYB only when the reserve is empty and the deficit exceeds this share of supply."""


class Psm(Strict):
    enabled: bool = True
    fee_bps: FeeBps = 5
    ceiling_usd: NonNegUSD = 50e6
    initial_usdc_usd: NonNegUSD = 10e6


class CircuitBreaker(Strict):
    pause_mint_on_stale_oracle: bool = True
    max_oracle_deviation_bps: NonNegBps = 200


class Rebalance(Strict):
    speed_per_hour: Frac = 0.1
    cost_bps: FeeBps = 3
    unwind_cost_bps: FeeBps = 10
    """Cost of selling spot and closing shorts to pay redemptions (slippage + fees)."""
    max_unwind_usd_per_hour: NonNegUSD = 50e6


class Protocol(Strict):
    initial_supply_usd: PosUSD = 1e9
    weights: Weights = Weights()
    hedge: Hedge = Hedge()
    tbill: Tbill = Tbill()
    fees: Fees = Fees()
    caps: Caps = Caps()
    revenue: Revenue = Revenue()
    reserve: Reserve = Reserve()
    backstop: Backstop = Backstop()
    psm: Psm = Psm()
    circuit_breaker: CircuitBreaker = CircuitBreaker()
    rebalance: Rebalance = Rebalance()


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------
class Arbitrageurs(Strict):
    enabled: bool = True
    gas_usd: Annotated[float, Field(ge=0, le=1e6)] = 20.0
    min_edge_bps: FeeBps = 2
    """Spread beyond fees an arbitrageur needs before acting."""


class Institutional(Strict):
    share_of_supply: Frac = 0.35
    exit_discount_bps: NonNegBps = 30
    """Discount at which institutions start redeeming (they exit early)."""
    exit_rate_per_hour: Frac = 0.02
    max_pool_sell_discount_bps: NonNegBps = 100
    """When caps bind they sell on the pool, but not below this discount."""


class Retail(Strict):
    share_of_supply: Frac = 0.20
    panic_discount_bps: NonNegBps = 150
    panic_rate_per_hour: Frac = 0.03
    patience_hours: NonNegHours = 48.0
    """Hours below the peg threshold after which retail starts to exit anyway (they exit late)."""
    noise_flow_usd_per_hour: NonNegUSD = 1.5e6
    """Std of random net pool flow per hour in calm (buys and sells by retail)."""
    btc_leverage: Sensitivity = 0.0
    """Retail's leverage on BTC held elsewhere: a BTC fall of x in a step makes them sell
    x * btc_leverage of their HUSD on the pool to meet margin calls (they sell core assets to keep
    levered positions). 0 = unlevered."""


class Stakers(Strict):
    share_of_supply: Frac = 0.25


class BorrowRate(Strict):
    """Utilization-kinked borrow rate of the USDC lending market (Aave/Morpho style)."""

    base_apr: Apr = 0.0
    slope_apr: Apr = 0.07
    kink: Annotated[float, Field(ge=0.01, le=0.99)] = 0.9
    jump_slope_apr: Apr = 0.8


class Loopers(Strict):
    collateral_share_of_supply: Frac = 0.10
    initial_ltv: Frac = 0.6
    max_ltv: Frac = 0.8
    liquidation_ltv: Frac = 0.86
    liquidation_bonus_bps: FeeBps = 500
    close_factor: Frac = 0.5
    lever_speed_per_hour: Frac = 0.02
    min_spread_apr: Apr = 0.01
    lending_supply_usd: PosUSD = 200e6
    borrow_rate: BorrowRate = BorrowRate()

    @model_validator(mode="after")
    def _ltvs(self):
        if not self.initial_ltv <= self.max_ltv < self.liquidation_ltv:
            raise ValueError("need initial_ltv <= max_ltv < liquidation_ltv")
        return self


class Growth(Strict):
    """Reflexive deposits: new supply follows the staker yield's premium over T-bills and the peg's
    recent record. Positive rates mint at par through the Minter (within caps, not while paused),
    split across holder classes by their shares; negative rates are institutional redemptions."""

    enabled: bool = False
    base_rate_per_day: SignedRatePerDay = 0.0
    yield_sensitivity_per_day: Sensitivity = 0.05
    """Growth per day per unit of (staker APR - T-bill yield): 0.05 and a 10 % spread = 0.5 %/day."""
    depeg_penalty_per_day: Annotated[float, Field(ge=0, le=1)] = 0.02
    """Growth lost per day after a full 48 hours below the peg threshold (scaled by hours below / 48)."""
    max_rate_per_day: Annotated[float, Field(ge=1e-6, le=1)] = 0.02


class TreasuryCompany(Strict):
    """A listed digital-asset treasury company (DAT): holds BTC, HUSD and HYB, financed by equity and
    convertible-like debt with a maturity and an LTV covenant. Its equity trades at NAV x mNAV, and
    mNAV follows sentiment (the recent return of its NAV)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    btc_usd: NonNegUSD = 0.0
    husd_usd: NonNegUSD = 0.0
    hyb_usd: NonNegUSD = 0.0
    debt_usd: NonNegUSD = 0.0
    mnav_start: Multiple = 1.5
    mnav_sentiment_beta: Sensitivity = 2.0
    """log mNAV target per unit of 30-day NAV log return (sentiment)."""
    mnav_adjust_per_day: RatePerDay = 0.5
    covenant_ltv: Annotated[float, Field(ge=0.01, le=0.99)] = 0.5
    """Debt / assets above which the lender forces sales back to 90 % of the covenant."""
    maturity_hours: NonNegHours | None = None
    """When the debt falls due; it is rolled over unless mNAV < 1, then repaid by selling."""
    sell_rate_below_nav_per_hour: Frac = 0.01
    """Share of holdings sold per hour to buy back stock while the equity trades below NAV."""

    @model_validator(mode="after")
    def _solvent(self):
        if self.debt_usd >= self.btc_usd + self.husd_usd + self.hyb_usd and self.debt_usd > 0:
            raise ValueError("debt_usd must be below the company's holdings")
        return self


class Agents(Strict):
    arbitrageurs: Arbitrageurs = Arbitrageurs()
    institutional: Institutional = Institutional()
    retail: Retail = Retail()
    stakers: Stakers = Stakers()
    loopers: Loopers = Loopers()
    growth: Growth = Growth()
    treasury_companies: Annotated[list[TreasuryCompany], Field(max_length=6)] = []


# ---------------------------------------------------------------------------------------------
# Scripted stress on top of any market source
# ---------------------------------------------------------------------------------------------
ScriptedVariable = Literal[
    "btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth"
]


# What a scripted point may set a variable to, or multiply it by: the variable's own range (a price
# above 0, funding within +-5 %/8 h, a pool keeping 0.1 %..100 % of its liquidity).
SCRIPTED_SET_RANGE = {"btc_usd": (1e-6, MAX_PRICE_USD), "xau_usd": (1e-6, MAX_PRICE_USD), "tbill_yield": (-0.05, 0.5),
                      "funding_rate_8h_btc": (-MAX_FUNDING_8H, MAX_FUNDING_8H),
                      "funding_rate_8h_xau": (-MAX_FUNDING_8H, MAX_FUNDING_8H), "pool_depth": (MIN_POOL_DEPTH, 1.0)}
SCRIPTED_MULTIPLY_RANGE = {"btc_usd": (1e-6, 1e4), "xau_usd": (1e-6, 1e4), "tbill_yield": (1e-6, 100),
                           "funding_rate_8h_btc": (1e-6, 100), "funding_rate_8h_xau": (1e-6, 100),
                           "pool_depth": (MIN_POOL_DEPTH, 1 / MIN_POOL_DEPTH)}


class ScriptedPath(Strict):
    """Piecewise-linear points (hour, value) applied to one market variable.

    mode `multiply`: the value multiplies the path (1 before the first point, the last value held
    after the last point) — "btc_usd falls 15 % over 6 hours" is [[100, 1.0], [106, 0.85]].
    mode `set`: the value replaces the path between the first and the last point.
    """

    variable: ScriptedVariable
    mode: Literal["multiply", "set"] = "multiply"
    points: list[Annotated[tuple[NonNegHours, Finite], Field(strict=False)]] = Field(min_length=2, max_length=5_000)

    @model_validator(mode="after")
    def _increasing(self):
        hours = [h for h, _ in self.points]
        if any(b <= a for a, b in zip(hours, hours[1:])):
            raise ValueError("points must have strictly increasing hours")
        if self.mode == "multiply" and any(v <= 0 for _, v in self.points):
            raise ValueError("multiply points must be positive")
        lo, hi = (SCRIPTED_SET_RANGE if self.mode == "set" else SCRIPTED_MULTIPLY_RANGE)[self.variable]
        bad = [v for _, v in self.points if not lo <= v <= hi]
        if bad:
            raise ValueError(f"{self.mode} values for {self.variable} must be within [{lo:g}, {hi:g}] (got {bad[0]:g})")
        return self


class VenueFailure(Strict):
    type: Literal["venue_failure"]
    hour: NonNegHours
    share_of_hedge: Frac
    recovery_rate: Frac = 0.0


class OracleStale(Strict):
    type: Literal["oracle_stale"]
    hour: NonNegHours
    duration_hours: PosHours


class OracleDeviation(Strict):
    type: Literal["oracle_deviation"]
    hour: NonNegHours
    duration_hours: PosHours
    deviation_bps: NonNegBps


class TbillFreeze(Strict):
    type: Literal["tbill_freeze"]
    hour: NonNegHours
    duration_hours: PosHours


class BankRun(Strict):
    """Holders decide to exit `share_of_holdings` of what they hold, spread over the duration."""

    type: Literal["bank_run"]
    hour: NonNegHours
    duration_hours: PosHours
    share_of_holdings: Frac
    classes: list[Literal["institutional", "retail"]] = ["institutional", "retail"]


Event = Annotated[
    Union[VenueFailure, OracleStale, OracleDeviation, TbillFreeze, BankRun], Field(discriminator="type")
]


# ---------------------------------------------------------------------------------------------
# Scenario
# ---------------------------------------------------------------------------------------------
class Scenario(Strict):
    name: Name
    description: Annotated[str, Field(max_length=10_000)] = ""
    horizon_hours: Annotated[int, Field(gt=0, le=MAX_HOURS)] = 720
    step_hours: StepHours = 1.0
    runs: Annotated[int, Field(gt=0, le=1_000_000)] = 100
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    depeg_threshold: Annotated[float, Field(gt=0.5, lt=1)] = 0.99
    repeg_level: Annotated[float, Field(gt=0.5, le=1)] = 0.995
    market: Market = Market()
    pool: Pool = Pool()
    protocol: Protocol = Protocol()
    agents: Agents = Agents()
    scripted: list[ScriptedPath] = []
    events: list[Event] = []

    @model_validator(mode="after")
    def _consistent(self):
        a = self.agents
        held = (a.institutional.share_of_supply + a.retail.share_of_supply + a.stakers.share_of_supply
                + a.loopers.collateral_share_of_supply
                + sum(c.husd_usd for c in a.treasury_companies) / self.protocol.initial_supply_usd)
        if held > 0.97:
            raise ValueError(
                f"agents: holder shares of supply sum to {held:.3f}; keep <= 0.97 so the pool and LPs hold the rest")
        if self.repeg_level < self.depeg_threshold:
            raise ValueError("repeg_level must be >= depeg_threshold")
        _check_time(self)
        _check_pool(self)
        if self.market.source == "historical":
            h = self.market.historical
            span_hours = (h.end_date - h.start_date).days * 24
            if self.horizon_hours > span_hours:
                raise ValueError(f"horizon_hours {self.horizon_hours} exceeds the historical range "
                                 f"({span_hours} h from start_date to end_date)")
        return self

    @property
    def steps(self) -> int:
        return int(round(self.horizon_hours / self.step_hours))

    def config_hash(self) -> str:
        """Stable hash of everything that changes a result (runs and seed excluded: they are reported apart)."""
        body = self.model_dump(mode="json", exclude={"runs", "seed", "description"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def with_overrides(self, **kw) -> "Scenario":
        return self.model_validate({**self.model_dump(mode="python"), **kw})

    def with_horizon(self, horizon_hours: int) -> "Scenario":
        """The scenario over a shorter (or longer) horizon, as a sweep's or size-reserve's horizon sets it.
        Scripted paths are cut at the new horizon (the value there interpolated, so every hour inside
        sees the path it saw before); a path starting after it, or an event after it, is refused."""
        d = self.model_dump(mode="python")
        d["horizon_hours"] = horizon_hours
        cut = []
        for sp in d["scripted"]:
            pts = [tuple(p) for p in sp["points"]]
            if pts[0][0] < horizon_hours < pts[-1][0]:
                hs, vs = [h for h, _ in pts], [v for _, v in pts]
                k = next(i for i, h in enumerate(hs) if h >= horizon_hours)
                v_end = vs[k - 1] + (vs[k] - vs[k - 1]) * (horizon_hours - hs[k - 1]) / (hs[k] - hs[k - 1])
                pts = [p for p in pts if p[0] < horizon_hours] + [(float(horizon_hours), v_end)]
            cut.append({**sp, "points": pts})
        d["scripted"] = cut
        return self.model_validate(d)


def _check_time(sc: "Scenario") -> None:
    """Steps that divide the horizon; every event and scripted point inside it (never clamped to the end)."""
    steps = sc.horizon_hours / sc.step_hours
    if steps < 1 or abs(steps - round(steps)) > 1e-9 * steps:
        raise ValueError(f"step_hours: {sc.step_hours:g} must divide horizon_hours {sc.horizon_hours} into a whole "
                         f"number (>= 1) of steps (got {steps:.6g})")
    for i, ev in enumerate(sc.events):
        if ev.hour >= sc.horizon_hours:
            raise ValueError(f"events.{i}.hour: {ev.hour:g} is not inside the horizon (0 <= hour < {sc.horizon_hours}); "
                             f"an event after the end would never happen")
    for i, sp in enumerate(sc.scripted):
        late = [h for h, _ in sp.points if h > sc.horizon_hours]
        if late:
            raise ValueError(f"scripted.{i}.points: hour {late[0]:g} is beyond horizon_hours {sc.horizon_hours}")


def _husd_at_peg(r: LiquidityRange) -> float:
    """HUSD a concentrated-liquidity position worth `r.usd` holds at price 1 (v3 maths, as sim.model.amm)."""
    sa, sb = r.price_lower ** 0.5, r.price_upper ** 0.5
    liquidity = r.usd / ((sb - 1) / sb + (1 - sa))
    return liquidity * (1 - 1 / sb)


def _check_pool(sc: "Scenario") -> None:
    """The pool's HUSD comes out of the float (supply not held by a holder class): it cannot hold more,
    or trades against it would drive the float below zero. Its depth after scripted multiplies stays
    in [MIN_POOL_DEPTH, 1] (never silently clipped)."""
    a = sc.agents
    S = sc.protocol.initial_supply_usd
    held = (a.institutional.share_of_supply + a.retail.share_of_supply + a.stakers.share_of_supply
            + a.loopers.collateral_share_of_supply) * S + sum(c.husd_usd for c in a.treasury_companies)
    float_husd = S - held
    pool_husd = sum(_husd_at_peg(r) for r in sc.pool.ranges)
    if pool_husd > float_husd * (1 + 1e-9):
        raise ValueError(
            f"pool.ranges: the pool holds ${pool_husd:,.0f} of HUSD at the peg, more than the ${float_husd:,.0f} of "
            f"supply no holder class holds ({float_husd / S:.1%} of initial_supply_usd ${S:,.0f}); scale the ranges' usd "
            f"with the supply (e.g. `tripod size-reserve --supply-usd`) or lower the holder shares")
    depths = ([sc.market.stochastic.calm.pool_depth_factor, sc.market.stochastic.stress.pool_depth_factor]
              if sc.market.source == "stochastic" else [1.0, sc.market.historical.stress_pool_depth_factor])
    for i, sp in enumerate(sc.scripted):
        if sp.variable == "pool_depth" and sp.mode == "multiply":
            lo, hi = min(depths) * min(v for _, v in sp.points), max(depths) * max(v for _, v in sp.points)
            if lo < MIN_POOL_DEPTH or hi > 1.0:
                raise ValueError(f"scripted.{i}.points: pool_depth multiplied to {lo:g}..{hi:g} of the pool's liquidity; "
                                 f"it must stay within [{MIN_POOL_DEPTH:g}, 1] (use mode: set, or smaller factors)")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 3, 3, 3, 40, 40


def short_repr(value) -> str:
    """A bounded repr for error lines: an alias-expanded input is never printed whole."""
    return _REPR.repr(value)


def format_validation_error(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not a field of this block)"
        got = e.get("input")
        got_s = "" if e["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {short_repr(got)})"
        if not loc and re.match(r"[a-z_][\w.]*: ", msg):  # a whole-scenario check that names its own field
            lines.append(f"{msg}{got_s}")
        else:
            lines.append(f"{loc or 'scenario'}: {msg}{got_s}")
    return lines


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(source, ["the file must hold a mapping of scenario fields"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(source, format_validation_error(err)) from None


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ---------------------------------------------------------------------------------------------
# Reading files: hostile input gets one line naming the file (and the field), never a traceback,
# a hang or a memory crash.
# ---------------------------------------------------------------------------------------------
MAX_FILE_BYTES = 256 << 10
"""A scenario or sweep file is a page of YAML; the largest shipped one is ~4 KB."""
MAX_TEXT_ITEMS = 20_000
"""Lines plus commas of a file: an upper bound of the values it spells out, checked before parsing
(building 400,000 YAML nodes takes PyYAML 4 s with libyaml, 30 s without; 20,000 take ~0.5 s)."""
MAX_YAML_VALUES = 100_000
"""Values after expanding aliases: a "billion laughs" file is refused before anything walks it."""
MAX_YAML_DEPTH = 32
"""Nesting levels (a scenario is 6 deep)."""
MAX_INCLUDE_DEPTH = 8


def read_text_file(path: str | os.PathLike) -> str:
    """A small regular file of UTF-8 text (a UTF-8 byte-order mark is allowed), or ScenarioError
    naming the file: missing, a folder, a device or FIFO (never read: /dev/zero has no end, a FIFO
    blocks), too large, binary, UTF-16/32 or not UTF-8."""
    src = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(src, ["no such file"]) from None
    except OSError as err:
        raise ScenarioError(src, [f"cannot read it ({err.strerror})"]) from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(src, ["is a folder, not a file"])
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(src, ["is not a regular file (a device, FIFO or socket): not read"])
    if st.st_size > MAX_FILE_BYTES:
        raise ScenarioError(src, [f"is {st.st_size:,} bytes; a scenario or sweep file is at most {MAX_FILE_BYTES:,}"])
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ScenarioError(src, [f"cannot read it ({err.strerror})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(src, [f"is over {MAX_FILE_BYTES:,} bytes; a scenario or sweep file is smaller"])
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ScenarioError(src, ["is UTF-16 or UTF-32 text; save it as UTF-8"])
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ScenarioError(src, [f"is a binary file (a NUL byte at offset {nul}), not YAML text"])
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise ScenarioError(src, [f"is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
                                  f"save it as UTF-8"]) from None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader (libyaml's parser when installed: 8x faster), reading `1e9` as a number
    as YAML 1.2 does (1.1 needs `1.0e9`)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _where(path: tuple) -> str:
    shown = [str(p) for p in path[:6]] + (["..."] if len(path) > 6 else [])
    return ".".join(shown) or "the document"


def _kids(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for kv in node.value for n in kv]
    return node.value if isinstance(node, yaml.SequenceNode) else []


def _check_nodes(root: yaml.Node, loader: _Loader) -> None:
    """Before anything is built from the parsed nodes: refuse recursive aliases, alias bombs (by the
    size the aliases expand to, counted without expanding), deep nesting, duplicate keys, keys that
    are not names, and invalid dates. Raises ValueError with the place named."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(root, False)]
    while stack:  # post-order, iterative: each distinct node once, however often it is aliased
        node, done = stack.pop()
        kids = _kids(node)
        if done:
            on_path.discard(id(node))
            size[id(node)] = 1 + sum(size[id(k)] for k in kids)
            depth[id(node)] = 1 + max((depth[id(k)] for k in kids), default=0)
            continue
        if id(node) in size:
            continue
        if id(node) in on_path:
            raise ValueError(f"an alias refers to a block containing itself (line {node.start_mark.line + 1})")
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)
    for measure, limit, what in ((size, MAX_YAML_VALUES, f"holds more than {MAX_YAML_VALUES:,} values once its "
                                                         f"aliases are expanded (an alias bomb?); refused"),
                                 (depth, MAX_YAML_DEPTH, f"is nested more than {MAX_YAML_DEPTH} levels deep")):
        if measure[id(root)] > limit:
            # name the field: follow the one mapping value that carries the excess
            node, path = root, ()
            while isinstance(node, yaml.MappingNode):
                big = [(k, v) for k, v in node.value if measure[id(v)] > limit - 1]
                if not big or not isinstance(big[0][0], yaml.ScalarNode):
                    break
                path, node = (*path, big[0][0].value), big[0][1]
            raise ValueError(f"{_where(path)}: {what} (line {node.start_mark.line + 1})")
    # the tree as the document reads it (bounded by the checks above): keys and dates, with paths
    todo = [(root, ())]
    while todo:
        node, path = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            later = []  # pushed in reverse, so the first problem in document order is the one named
            for k, v in node.value:
                if k.tag == "tag:yaml.org,2002:merge":
                    later.append((v, path))
                    continue
                if not isinstance(k, yaml.ScalarNode) or k.tag != "tag:yaml.org,2002:str":
                    what = k.value if isinstance(k, yaml.ScalarNode) else "a block"
                    raise ValueError(f"{_where(path)}: key {str(what)[:40]!r} (line {k.start_mark.line + 1}) is not a "
                                     f"field name (quote it if it is one)")
                if k.value in seen:
                    raise ValueError(f"{_where((*path, k.value))}: duplicate key (lines {seen[k.value]} and "
                                     f"{k.start_mark.line + 1}); a later block would silently replace the first")
                seen[k.value] = k.start_mark.line + 1
                later.append((v, (*path, k.value)))
            todo.extend(reversed(later))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(reversed([(v, (*path, i)) for i, v in enumerate(node.value)]))
        elif node.tag == _TIMESTAMP_TAG:
            try:
                loader.construct_yaml_timestamp(node)
            except (ValueError, OverflowError):
                raise ValueError(f"{_where(path)}: {node.value[:40]!r} is not a valid date") from None


def _flow_depth(text: str) -> int:
    """Deepest nesting of [ and { (quotes ignored: an over-estimate is harmless). Checked before
    parsing because PyYAML's scanner slows quadratically with flow depth: 5,000 levels take 4 s."""
    depth = deepest = 0
    for m in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if m.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def parse_yaml(text: str, source: str) -> object:
    """YAML text to Python data through `_check_nodes`, or ScenarioError naming `source`."""
    items = text.count("\n") + text.count(",")
    if items > MAX_TEXT_ITEMS:
        raise ScenarioError(source, [f"has {items:,} lines and commas; a scenario or sweep file spells out at most "
                                     f"{MAX_TEXT_ITEMS:,} values"])
    deep = _flow_depth(text)
    if deep > MAX_YAML_DEPTH:
        raise ScenarioError(source, [f"nested more than {MAX_YAML_DEPTH} levels deep ([ and {{ open {deep:,} deep)"])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, loader)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(source, [f"not valid YAML{where}: {err.problem or err.context}"[:300]]) from None
    except yaml.YAMLError as err:
        raise ScenarioError(source, [f"not valid YAML: {str(err).splitlines()[0][:200]}"]) from None
    except RecursionError:
        raise ScenarioError(source, [f"nested too deeply to read (more than {MAX_YAML_DEPTH} levels)"]) from None
    except ValueError as err:
        raise ScenarioError(source, [str(err)]) from None
    finally:
        getattr(loader, "dispose", lambda: None)()


def read_json_file(path: str | os.PathLike) -> object:
    """A JSON file's data (a run's scenario.json, a sweep's sweep.json), with the same limits as YAML:
    Python's JSON reader recurses in C and can crash the process on deep nesting."""
    text = read_text_file(path)
    deep = _flow_depth(text)
    if deep > MAX_YAML_DEPTH:
        raise ScenarioError(str(path), [f"nested more than {MAX_YAML_DEPTH} levels deep ([ and {{ open {deep:,} deep)"])
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ScenarioError(str(path), [f"not valid JSON ({str(err).splitlines()[0][:160]})"]) from None


def read_yaml_file(path: str | os.PathLike) -> object:
    """A YAML file's data, read as `read_text_file` and `parse_yaml` allow."""
    return parse_yaml(read_text_file(path), str(path))


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> object:
    """A YAML file with its `include: [relative.yaml, ...]` files deep-merged under its own keys.

    Included files are read first (in order, later ones win), then the file's own mappings override
    them key by key. An included file's top-level `provenance` is documentation and is dropped.
    """
    if chain and not path.exists():
        raise ScenarioError(str(path), [f"included file not found (from {chain[-1]})"])
    if path.resolve() in chain:
        raise ScenarioError(str(path), ["include cycle: " + " -> ".join(str(p) for p in (*chain, path))])
    if len(chain) >= MAX_INCLUDE_DEPTH:
        raise ScenarioError(str(path), [f"include: more than {MAX_INCLUDE_DEPTH} levels of included files"])
    data = read_yaml_file(path)
    if not isinstance(data, dict) or "include" not in data:
        return data
    data = dict(data)
    inc = data.pop("include")
    inc = [inc] if isinstance(inc, str) else inc
    if not isinstance(inc, list) or not all(isinstance(i, str) for i in inc) or len(inc) > 16:
        raise ScenarioError(str(path), ["include: must be a file name or a list of at most 16 file names"])
    merged: dict = {}
    for rel in inc:
        try:
            sub = _read_yaml(path.parent / rel, (*chain, path.resolve()))
            if not isinstance(sub, dict):
                raise ScenarioError(str(path.parent / rel), ["an included file must hold a mapping"])
        except ScenarioError as err:  # name the file the user handed us too (the top of the chain)
            if chain:
                raise
            raise ScenarioError(err.source, [*err.lines[:-1], f"{err.lines[-1]} (included from {path})"]) from None
        sub = {k: v for k, v in sub.items() if k != "provenance"}
        merged = _deep_merge(merged, sub)
    return _deep_merge(merged, data)


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    return parse_scenario(_read_yaml(path), str(path))
