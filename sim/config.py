"""Scenario files: pydantic models of the market, the protocol, the agents and scripted stress.

Every field says its unit in its name or its type. Unknown keys are refused (a typo in a risk
parameter must never be silently ignored). `load_scenario` turns a YAML file into a `Scenario`
or raises `ScenarioError` with one line per problem, each naming the field.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import reprlib
import stat
import types
import typing
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
    NonNegFloat,
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
    """Unknown keys refused; numbers and switches strict (`true` and `"100"` are not numbers, `1` is
    not a boolean; NaN and inf refused); no number anywhere larger in magnitude than `MAX_MAGNITUDE`
    (sim.types gives each its own range). Dates and tuples stay lax: a run's scenario.json spells them
    as text and lists. Fields added later inherit all of this."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_scalars(cls, data):
        if isinstance(data, dict):
            for name, value in data.items():
                if isinstance(name, str) and name in cls.model_fields:
                    _check_kind(value, _field_kind(cls, name), name)
        return data

    @model_validator(mode="after")
    def _bounded(self):
        for name in type(self).model_fields:
            v = getattr(self, name)
            if isinstance(v, float) and abs(v) > MAX_MAGNITUDE:
                raise ValueError(f"{name}: out of range (|value| > {MAX_MAGNITUDE:.0e})")
        return self


@functools.cache
def _field_kind(cls: type[BaseModel], name: str):
    return _kind(cls.model_fields[name].annotation)


def _kind(ann):
    """What a field's annotation lets through, reduced to what `_check_kind` checks: "number", "bool",
    ("list", kind), ("dict", kind of values), ("tuple", (kinds...)), ("any", (kinds...)) for a union,
    or None (not checked here)."""
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is Annotated:
        return _kind(args[0])
    if ann is bool:
        return "bool"
    if ann in (int, float):
        return "number"
    if origin in (Union, types.UnionType):
        kinds = tuple(k for k in (_kind(a) for a in args if a is not type(None)))
        return ("any", kinds) if all(k is not None for k in kinds) and kinds else None
    if origin is list and args:
        inner = _kind(args[0])
        return ("list", inner) if inner is not None else None
    if origin is dict and len(args) == 2:
        inner = _kind(args[1])
        return ("dict", inner) if inner is not None else None
    if origin is tuple and args and args[-1] is not Ellipsis:
        return ("tuple", tuple(_kind(a) for a in args))
    return None


def _check_kind(value, kind, where: str) -> None:
    """Refuse a boolean or text where a number is expected, and anything but true/false for a switch
    (pydantic's lax mode would read `true` as 1 and "100" as 100), inside lists, tuples and maps too.
    Raises ValueError("<field path>: ...")."""
    if kind == "number" and isinstance(value, (bool, str)):
        raise ValueError(f"{where}: must be a number, not {type(value).__name__} {short_repr(value)}")
    if kind == "bool" and value is not None and not isinstance(value, bool):
        raise ValueError(f"{where}: must be true or false, not {short_repr(value)}")
    if not isinstance(kind, tuple):
        return
    what, inner = kind
    if what == "list" and isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_kind(v, inner, f"{where}.{i}")
    elif what == "dict" and isinstance(value, dict):
        for k, v in value.items():
            _check_kind(v, inner, f"{where}.{k}")
    elif what == "tuple" and isinstance(value, (list, tuple)):
        for i, (v, k) in enumerate(zip(value, inner)):
            _check_kind(v, k, f"{where}.{i}")
    elif what == "any" and value is not None and set(inner) <= {"number", "bool"}:
        if isinstance(value, str) or isinstance(value, bool) and "bool" not in inner:
            raise ValueError(f"{where}: must be a number, not {type(value).__name__} {short_repr(value)}")


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


class HotFunding(Strict):
    """A second funding regime (crowded longs: the premium high and noisy), with its own Markov chain.
    `p_enter_per_hour` 0 (the default) never enters it."""

    p_enter_per_hour: Frac = 0.0
    p_exit_per_hour: Frac = 0.01
    level_offset_8h: Funding8h = 0.0
    """Added to the market regime's funding level while hot."""
    vol_8h_per_sqrt_day: Annotated[float, Field(ge=0, le=MAX_FUNDING_8H)] = 0.0


class FundingProcess(Strict):
    """Perp funding: a latent premium (an OU tied to price moves) printed through the venue's clamp.

    d y = kappa (level - y) dt + vol dW + price_beta * (log return), per hour; level = the market
    regime's `funding_mean_8h_*` (+ the hot regime's offset while hot). A negative log return with a
    positive beta drives funding down: crashes turn funding negative. The venue prints y below
    `interest_8h` as is, `interest_8h` for y within `clamp_width_8h` above it, y - width beyond
    (Binance: interest 0.01 %/8h, clamp +-0.05 % -> width 0.1 %). Width 0 and no hot regime is a plain
    OU. Equations and why: `sim/markets/funding.py`.
    """

    mean_reversion_per_day: RatePerDay = 0.5
    vol_8h_per_sqrt_day: Annotated[float, Field(ge=0, le=MAX_FUNDING_8H)] = 0.00006
    price_beta_8h: Annotated[float, Field(ge=0, le=1)] = 0.004
    """Funding change (per 8 h) per unit log return of the underlying in the same hour."""
    floor_8h: Funding8h = -0.0075
    cap_8h: Funding8h = 0.0075
    interest_8h: Funding8h = 0.0001
    clamp_width_8h: Annotated[float, Field(ge=0, le=MAX_FUNDING_8H)] = 0.0
    """Width of the venue's dead zone above the interest rate (0: no clamp)."""
    hot: HotFunding = HotFunding()

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

    start_date: dt.date
    end_date: dt.date
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


FlowShare = dict[Literal["institutional", "retail", "stakers"], Frac]
"""Share of each holder class's venue sales (and retail's order flow) sent to a venue."""


class Pool(Strict):
    """HUSD/USDC Uniswap v3 pool (0.01 % tier by default) and the HYB/USDC backstop pool.

    It is the reference venue: `max_depeg_bps` and `peg_price` are its price, the Minter and PSM
    arbitrage run against it, and it takes whatever share of each class's flow the other venues
    (`venues:`) leave."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")] = "uniswap"
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


class PoolVenue(Strict):
    """Another HUSD/USDC concentrated-liquidity pool (e.g. a Curve or second Uniswap pool): on chain,
    so arbitrage against the reference pool is atomic (no transfer latency, flash-loan capital)."""

    kind: Literal["pool"]
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
    fee_fraction: Annotated[float, Field(ge=0, lt=0.1)] = 0.0004
    ranges: list[LiquidityRange] = Field(min_length=1)
    flow_share: FlowShare = {}


class OrderBookVenue(Strict):
    """An off-chain order book (a centralised exchange's HUSD/USD market), described by its depth:
    `bid_depth_usd` lists [bps below par, USD of bids resting between par and that discount],
    cumulative and increasing (the asks mirror it above par). Market makers re-quote what a trade
    takes at `refill_per_hour`; they pull depth when the liquidity providers' fear rises
    (`agents.liquidity_providers`). HUSD bought here reaches the chain after `transfer_latency_hours`."""

    kind: Literal["order_book"]
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
    bid_depth_usd: list[tuple[Annotated[float, Field(gt=0, le=9_000)], PosUSD]] = Field(min_length=1, max_length=12)
    refill_per_hour: Frac = 0.3
    fee_fraction: Annotated[float, Field(ge=0, lt=0.1)] = 0.0005
    transfer_latency_hours: NonNegHours = 1.0
    flow_share: FlowShare = {}

    @model_validator(mode="after")
    def _increasing(self):
        bps, usd = [b for b, _ in self.bid_depth_usd], [u for _, u in self.bid_depth_usd]
        if any(b1 <= b0 for b0, b1 in zip(bps, bps[1:])) or any(u1 <= u0 for u0, u1 in zip(usd, usd[1:])):
            raise ValueError("bid_depth_usd: bps and cumulative USD must both increase")
        return self


Venue = Annotated[Union[PoolVenue, OrderBookVenue], Field(discriminator="kind")]


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
    margin_waterfall: Annotated[list[Literal["buffer", "tbill", "reserve"]], Field(max_length=3)] = [
        "buffer", "tbill", "reserve"]
    """Where margin top-ups come from, in order: the USDC buffer, instant T-bill redemption (within its
    daily limit), the reserve fund (within its per-hour draw limit; repaid from later surplus)."""
    transfer_latency_hours: Annotated[float, Field(ge=0, le=168, allow_inf_nan=False)] = 2.0
    """Hours a transfer between custody and a venue takes (top-ups and sweeps). One transfer per
    direction and asset is in flight at a time; money in transit is neither at the venue nor in
    custody, but still backing. 0 = lands in the same step."""
    liquidation_fill_per_hour: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    """Share of a short the venue's liquidation engine can close per hour (partial fills). A breach
    closes what brings margin back to maintenance (the whole short when equity is gone), at most this."""
    max_move_per_substep_bps: Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)] = 100
    """Fine steps through a shock: a step in which the venue liquidates is re-marked in sub-steps of at
    most this price move, up to `max_substeps`, so it liquidates at the crossing (within a step the
    path is monotone: a step that ends above maintenance never crossed it)."""
    max_substeps: Annotated[int, Field(ge=1, le=64)] = 24

    @model_validator(mode="after")
    def _margins(self):
        if self.maintenance_margin_ratio >= self.initial_margin_ratio:
            raise ValueError("maintenance_margin_ratio must be below initial_margin_ratio")
        if len(set(self.margin_waterfall)) != len(self.margin_waterfall):
            raise ValueError("margin_waterfall lists a source twice")
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
    distribute: Literal["carry", "surplus"] = "carry"
    """What is paid out each interval (`sim.model.parts.treasury.distribution`).
    `carry` (default): the realised carry C since the last payout (T-bill yield + funding, net), split
    by `staker_share` s. C > 0: s C to stakers, (1 - s) C to the reserve. C < 0: the reserve pays its
    share (1 - s)|C| into the backing at once (as far as its balance goes); the stakers' share s|C| is
    carried forward and netted against their future carry, so their yield falls to zero, never below.
    Hedge marks (price PnL, basis) and unhedged gains stay in the backing; reserve draws are repaid
    from backing above supply. Stakers are paid only out of realised backing above supply (claims on
    failed venues or frozen custody excluded), as `Minter.distributeRewards` mints: never from the reserve.
    `surplus` (for comparison): all of backing above supply, marks included, less unhedged gains (their
    losses are drawn from the reserve: a ratchet on it)."""


class ReserveBuy(Strict):
    """The reserve defends the peg itself: below `trigger_price` on a venue it buys HUSD there (up to
    `budget_usd_per_hour`, never above the trigger) and burns or holds it; with `fund_with_backstop`
    an empty reserve sells HYB to keep buying."""

    enabled: bool = False
    trigger_price: Annotated[float, Field(gt=0.5, lt=1)] = 0.995
    budget_usd_per_hour: NonNegUSD = 5e6
    venue: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")] | None = None
    """Where it buys (default: the reference pool)."""
    then: Literal["burn", "hold"] = "burn"
    fund_with_backstop: bool = False


class Reserve(Strict):
    initial_usd: NonNegUSD = 40e6
    max_draw_usd_per_hour: NonNegUSD = 10e6
    buy: ReserveBuy = ReserveBuy()


class Disclosure(Strict):
    """What holders can see of the backing: a proof of reserves (or attestation) published every
    `publish_interval_hours`, showing (backing + reserve fund) / supply at that moment (frozen claims at
    their marks)."""

    publish_interval_hours: Annotated[float, Field(gt=0, le=24 * 92)] = 24.0


class CapWindow(Strict):
    """Caps that follow a calendar: on the listed weekdays (0 = Monday, UTC), between the hours, the
    Minter's hourly caps are multiplied by `cap_multiplier`."""

    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = [5, 6]
    from_hour_utc: Annotated[float, Field(ge=0, le=24)] = 0.0
    to_hour_utc: Annotated[float, Field(ge=0, le=24)] = 24.0
    cap_multiplier: Annotated[float, Field(ge=0, le=10)] = 0.5


class Calendar(Strict):
    """Wall-clock time for a run: weekends and bank hours. The T-bill fund's instant redemption and T+1
    settlement can follow bank hours (a fund's transfer agent and Fedwire close at night and on
    weekends); caps can follow a schedule. A historical market starts at its start_date."""

    start: dt.datetime = dt.datetime(2025, 1, 6)  # a Monday, 00:00 UTC
    tbill_redemption: Literal["always", "bank_hours"] = "always"
    bank_open_hour_utc: Annotated[float, Field(ge=0, le=24)] = 13.0  # 09:00 New York (EDT)
    bank_close_hour_utc: Annotated[float, Field(ge=0, le=24)] = 21.0  # 17:00 New York (EDT)
    cap_schedule: list[CapWindow] = []


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
    disclosure: Disclosure = Disclosure()


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------
class Arbitrageurs(Strict):
    enabled: bool = True
    gas_usd: Annotated[float, Field(ge=0, le=1e6)] = 20.0
    min_edge_bps: FeeBps = 2
    """Spread beyond fees an arbitrageur needs before acting."""
    cross_venue_capital_usd: NonNegUSD = 50e6
    """Capital the cross-venue arbitrageurs can tie up in HUSD bought on an off-chain venue while it
    travels to the chain (per order-book venue). On-chain pools are arbitraged atomically."""
    patient_capital_usd: NonNegUSD = 50e6
    """Capital that buys HUSD on the reference pool below what a redemption will pay and waits in the
    redemption queue (behind the institutions already in it) when the Minter's caps are used up."""
    patient_hurdle_apr: NonNegFloat = 0.5
    """The return that capital asks for the wait: it bids value - hurdle x expected wait - edge, where
    value = min(1, published backing) x (1 - announced uncovered loss) x (1 - redeem fee) and the wait
    is the queue ahead over the hourly redemption cap."""


class SignalWeights(Strict):
    """How much each observable moves a holder's alarm. Every signal is a fraction (a loss share):
    the alarm is their weighted sum, compared with each cohort's threshold."""

    discount: NonNegFloat = 0.0
    """1 - the price on the venues the class trades on."""
    backing_gap: NonNegFloat = 0.0
    """1 - the published (backing + reserve fund) / supply, frozen claims at their marks."""
    news: NonNegFloat = 0.0
    """The loss share of backing an announced event puts at risk (venue or custodian failure, freeze,
    allegation), less what the public reserve fund covers."""
    collateral_drop: NonNegFloat = 0.0
    """BTC's fall from its 24-hour high, times the BTC share of the book."""
    herd: NonNegFloat = 0.0
    """The share of supply burned net of mints over about the last day (others' exits, public on chain)."""
    yield_gap: NonNegFloat = 0.0
    """T-bill yield minus the staker APR the market sees (APR points), when positive."""
    volatility: NonNegFloat = 0.0
    """The venue's recent price swings: mean absolute move per hour over about 6 hours (LPs)."""


class Behaviour(Strict):
    """How a holder class decides to leave, from what it can observe.

    The class reads a weighted sum of its signals (`weights`), smoothed over `reaction_hours` (fast
    for institutions, slow for retail). Its holdings are split into `cohorts` of equal size whose
    thresholds spread log-normally around `threshold` (`threshold_spread` across cohorts,
    `threshold_run_spread` a mood drawn per run for the whole class). A cohort cuts its position in
    proportion to how far the alarm passes its threshold (at threshold x (1 + exit_span) it wants out
    entirely), moving toward that target at `exit_rate_per_hour`; it does not buy back when the alarm
    falls. What cannot be redeemed or sold this step (caps, empty liquidity, the class's limit price)
    stays queued.

    Defaults follow the ordering the run literature reports — large, informed holders run first and
    faster on fundamentals, small holders later and on the price (Liu, Makarov & Schoar 2023, "Anatomy
    of a Run: The Terra Luna Crash", NBER w31160; Anadu et al. 2023, "Runs and Flights to Safety: Are
    Stablecoins the New Money Market Funds?", FRB NY Staff Report 1073), with strategic
    complementarity in exits (Diamond & Dybvig 1983). The magnitudes are judgement, not fitted: the
    validation events (scenarios/events) use them unchanged.
    """

    reaction_hours: PosHours = 1.0
    cohorts: Annotated[int, Field(ge=1, le=8)] = 4
    # bounded away from 0: a cohort's exit target divides by exit_span x its threshold, which must not
    # underflow to 0 (alarm and threshold both 0 would give NaN exits)
    threshold: Annotated[float, Field(ge=1e-6, le=1)] = 0.005
    threshold_spread: Annotated[float, Field(ge=0, le=3)] = 0.7
    threshold_run_spread: Annotated[float, Field(ge=0, le=3)] = 0.3
    exit_rate_per_hour: Frac = 0.05
    exit_span: Annotated[float, Field(ge=0.01, le=100)] = 3.0
    weights: SignalWeights = SignalWeights()
    sell_limit_discount_bps: NonNegBps = 10_000
    """Never sells on a venue below par minus this discount (10,000: sells at any price)."""


class Institutional(Strict):
    """Diversified holders with redemption access: they redeem first, and sell on venues down to their
    limit when the Minter's caps bind. They price the backing and react within the hour."""

    share_of_supply: Frac = 0.35
    behaviour: Behaviour = Behaviour(
        reaction_hours=1.0, threshold=0.008, threshold_spread=0.5, threshold_run_spread=0.25, exit_rate_per_hour=0.10,
        sell_limit_discount_bps=100,
        weights=SignalWeights(discount=1.0, backing_gap=1.0, news=1.0, collateral_drop=0.05, herd=0.04),
    )


class Retail(Strict):
    """Holders who trade only on venues: they price the peg, react late and sell at the market."""

    share_of_supply: Frac = 0.20
    behaviour: Behaviour = Behaviour(
        reaction_hours=12.0, threshold=0.02, threshold_spread=0.5, threshold_run_spread=0.25, exit_rate_per_hour=0.03,
        weights=SignalWeights(discount=1.0, backing_gap=0.3, news=0.5, herd=0.04),
    )
    noise_flow_usd_per_hour: NonNegUSD = 1.5e6
    """Std of random net pool flow per hour in calm (buys and sells by retail)."""
    btc_leverage: Sensitivity = 0.0
    """Retail's leverage on BTC held elsewhere: a BTC fall of x in a step makes them sell
    x * btc_leverage of their HUSD on the pool to meet margin calls (they sell core assets to keep
    levered positions). 0 = unlevered."""


class Stakers(Strict):
    """sHUSD holders: they compare the staker yield with T-bills and the backing, unstake (after the
    vault's cooldown) and sell on venues."""

    share_of_supply: Frac = 0.25
    cooldown_hours: NonNegHours = 168.0
    """Unstaked HUSD is released after about this long (Ethena's sUSDe: 7 days)."""
    behaviour: Behaviour = Behaviour(
        reaction_hours=72.0, threshold=0.01, threshold_spread=0.5, threshold_run_spread=0.25, exit_rate_per_hour=0.001,
        sell_limit_discount_bps=200,
        weights=SignalWeights(discount=0.3, backing_gap=1.0, news=1.0, herd=0.03, yield_gap=1.0),
    )


class LiquidityProviders(Strict):
    """LPs and market makers: they pull liquidity as the venue's price swings and its inventory
    skews, and as the same alarm that moves holders rises; they return slowly. Each venue's depth is
    its exogenous depth times 1 - pull (pull capped at `max_pull`)."""

    threshold: Frac = 0.003
    """Alarm the LPs shrug off (order-flow noise moves a venue by a few bps)."""
    pull_per_alarm: NonNegFloat = 30.0
    """Share of liquidity pulled per unit of alarm above the threshold (0.02 above it pulls 60 %)."""
    max_pull: Frac = 0.9
    pull_hours: PosHours = 4.0
    return_hours: PosHours = 72.0
    weights: SignalWeights = SignalWeights(discount=1.0, backing_gap=1.0, news=1.0, collateral_drop=0.02, herd=0.04,
                                           volatility=2.0)
    """`discount` reads |1 - price| here: an LP's inventory skews whichever way the price leaves par."""


class BorrowRate(Strict):
    """Utilization-kinked borrow rate of the USDC lending market (Aave/Morpho style)."""

    base_apr: Apr = 0.0
    slope_apr: Apr = 0.07
    kink: Annotated[float, Field(ge=0.01, le=0.99)] = 0.9
    jump_slope_apr: Apr = 0.8


class Loopers(Strict):
    collateral_share_of_supply: Frac = 0.10
    derisk: Behaviour = Behaviour(
        reaction_hours=2.0, cohorts=1, threshold=0.008, threshold_spread=0.0, threshold_run_spread=0.25,
        weights=SignalWeights(discount=0.5, backing_gap=1.0, news=1.0, collateral_drop=0.05, herd=0.04),
    )
    """Past its threshold the loop unwinds (target LTV 0) whatever the yield spread; the cohort,
    exit-rate and limit fields are not used (the unwind speed is `lever_speed_per_hour`)."""
    initial_ltv: Frac = 0.6
    max_ltv: Frac = 0.8
    liquidation_ltv: Frac = 0.86
    liquidation_bonus_bps: FeeBps = 500
    close_factor: Frac = 0.5
    """Share of an unhealthy loan a liquidation repays (Aave: 50 %)."""
    liquidations_per_hour: Annotated[float, Field(gt=0, le=60)] = 1.0
    """How often liquidators come back to an unhealthy loan: a step of dt hours repays 1 - (1 - close_factor)
    ** (liquidations_per_hour x dt) of it, whatever the step size."""
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
    liquidity_providers: LiquidityProviders = LiquidityProviders()
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
    points: list[tuple[NonNegHours, Finite]] = Field(min_length=2, max_length=5_000)

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
    """A perp venue holding `share_of_hedge` of every short fails: its positions are closed and the
    margin there becomes a claim marked at `recovery_rate` (the expected recovery; the loss is booked
    at once), paid out evenly over `recovery_payout_hours` starting `recovery_delay_hours` later, when
    the final rate is known (`final_recovery_rate`, default the expected one; the difference is booked
    then). Delay and payout 0: recovered in the same step."""

    type: Literal["venue_failure"]
    hour: NonNegHours
    share_of_hedge: Frac
    recovery_rate: Frac = 0.0
    recovery_delay_hours: Annotated[float, Field(ge=0, le=24 * 366 * 5, allow_inf_nan=False)] = 0.0
    recovery_payout_hours: Annotated[float, Field(ge=0, le=24 * 366 * 5, allow_inf_nan=False)] = 0.0
    final_recovery_rate: Frac | None = None
    announced_loss_share: Frac | None = None
    """The loss share of backing holders read in the news (default: the margin at stake, share of hedge
    x crypto weights x initial margin x (1 - recovery))."""
    news_hours: PosHours = 72.0


class VenueOutage(Strict):
    """The perp venue of the listed assets' hedges is down: no transfer lands there or leaves, no
    trading (no re-hedge, no rebalance, no unwind of those sleeves), while positions are still marked
    and its liquidation engine still runs."""

    type: Literal["venue_outage"]
    hour: NonNegHours
    duration_hours: PosHours
    assets: Annotated[list[Literal["btc", "xau"]], Field(min_length=1, max_length=2)] = ["btc", "xau"]


class CustodyFreeze(Strict):
    """A share of the backing frozen at a custodian or venue: nothing leaves it while frozen. It is carried
    at `expected_recovery` from the freeze on (the hole holders can see once the next proof of reserves is
    published, and in the news right away), and when the freeze ends `recovered_share` of it comes back;
    the difference from the mark is booked then, through the loss waterfall (reserve, then backstop)."""

    type: Literal["custody_freeze"]
    hour: NonNegHours
    duration_hours: PosHours
    share_of_backing: Frac
    """Share of each listed sleeve frozen (crypto sleeves: spot frozen, its hedge closed)."""
    sleeves: list[Literal["tbill", "btc", "xau", "buffer"]] = ["tbill", "btc", "xau", "buffer"]
    expected_recovery: Frac = 1.0
    recovered_share: Frac = 1.0


class News(Strict):
    """An announcement that puts part of the backing at risk in holders' eyes (an allegation against
    a custodian, a peer's collapse, an exposure disclosed), whether or not a loss follows."""

    type: Literal["news"]
    hour: NonNegHours
    duration_hours: PosHours
    announced_loss_share: Frac


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
    Union[VenueFailure, VenueOutage, OracleStale, OracleDeviation, TbillFreeze, BankRun, News, CustodyFreeze],
    Field(discriminator="type")
]


# ---------------------------------------------------------------------------------------------
# Validation against history (scenarios/events)
# ---------------------------------------------------------------------------------------------
class ValidationFact(Strict):
    """One public fact about a historical event and the model figure compared with it. The tolerance
    band is written before the model is run and never moved to make a row pass."""

    fact: str
    source: str
    metric: str
    """A per-run figure (see `sim.metrics.PER_RUN_METRICS`, per-venue ones as `min_price_<venue>`);
    its median over the runs is compared with the band."""
    observed: Finite
    low: Finite
    high: Finite
    mapping: str = ""
    """What the comparison assumes where the model has no exact counterpart."""

    @model_validator(mode="after")
    def _band(self):
        if not self.low <= self.high:
            raise ValueError("low must be <= high")
        return self


class FineSteps(Strict):
    """Finer steps over a window (a shock) without a fine step for the whole run: from `start_hour` to
    `end_hour` the model steps every `step_hours` (it must divide the scenario's step); results are still
    recorded at the scenario's step, so every figure and series keeps one time grid."""

    start_hour: NonNegHours
    end_hour: NonNegHours
    step_hours: StepHours

    @model_validator(mode="after")
    def _ordered(self):
        if not self.end_hour > self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self


# ---------------------------------------------------------------------------------------------
# Scenario
# ---------------------------------------------------------------------------------------------
class Scenario(Strict):
    name: Name
    description: Annotated[str, Field(max_length=10_000)] = ""
    horizon_hours: Annotated[int, Field(gt=0, le=MAX_HOURS)] = 720
    step_hours: StepHours = 1.0
    fine_steps: Annotated[list[FineSteps], Field(max_length=100)] = []
    """Windows stepped finer than `step_hours` (e.g. around a shock), in time order."""
    runs: Annotated[int, Field(gt=0, le=1_000_000)] = 100
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    depeg_threshold: Annotated[float, Field(gt=0.5, lt=1)] = 0.99
    repeg_level: Annotated[float, Field(gt=0.5, le=1)] = 0.995
    market: Market = Market()
    pool: Pool = Pool()
    protocol: Protocol = Protocol()
    agents: Agents = Agents()
    venues: Annotated[list[Venue], Field(max_length=6)] = []
    """Venues beside the reference pool, in order."""
    calendar: Calendar = Calendar()
    scripted: list[ScriptedPath] = []
    events: list[Event] = []
    validation: list[ValidationFact] = []

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
        names = [self.pool.name, *(v.name for v in self.venues)]
        if len(set(names)) != len(names):
            raise ValueError(f"venues: names must differ from each other and from pool.name (got {names})")
        for cls in ("institutional", "retail", "stakers"):
            if sum(v.flow_share.get(cls, 0.0) for v in self.venues) > 1 + 1e-9:
                raise ValueError(f"venues: the {cls} flow shares sum to more than 1 (the reference pool takes the rest)")
        buy = self.protocol.reserve.buy
        if buy.venue is not None and buy.venue not in names:
            raise ValueError(f"protocol.reserve.buy.venue: no venue named {buy.venue!r} (venues: {names})")
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

    @property
    def engine_steps(self) -> int:
        """Steps the engine takes: `steps`, plus the extra ones inside `fine_steps` windows."""
        return self.steps + sum(int(round((w.end_hour - w.start_hour) / self.step_hours))
                                * (int(round(self.step_hours / w.step_hours)) - 1) for w in self.fine_steps)

    def config_hash(self) -> str:
        """Stable hash of everything that changes a result (runs and seed excluded: they are reported apart)."""
        body = self.model_dump(mode="json", exclude={"runs", "seed", "description", "validation"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def with_overrides(self, **kw) -> "Scenario":
        """A copy with top-level fields replaced; a new `horizon_hours` goes through `with_horizon`."""
        base = self.with_horizon(kw.pop("horizon_hours")) if "horizon_hours" in kw else self
        return base.model_validate({**base.model_dump(mode="python"), **kw}) if kw else base

    def with_horizon(self, horizon_hours: int) -> "Scenario":
        """The scenario over a shorter (or longer) horizon, as a sweep's or size-reserve's horizon sets it.
        Scripted paths are cut at the new horizon (the value there interpolated, so every hour inside
        sees the path it saw before), and so are fine-step windows; a path starting after it, or an event
        after it, is refused."""
        d = self.model_dump(mode="python")
        d["horizon_hours"] = horizon_hours
        if not isinstance(horizon_hours, (int, float)) or isinstance(horizon_hours, bool):
            return self.model_validate(d)  # let validation name the bad value
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
        d["fine_steps"] = [{**w, "end_hour": min(w["end_hour"], horizon_hours)} for w in d["fine_steps"]
                           if w["start_hour"] < horizon_hours]  # finer steps only where the run still goes
        return self.model_validate(d)


def _check_time(sc: "Scenario") -> None:
    """Steps that divide the horizon; every event and scripted point inside it (never clamped to the end)."""
    steps = sc.horizon_hours / sc.step_hours
    if steps < 1 or abs(steps - round(steps)) > 1e-9 * steps:
        raise ValueError(f"step_hours: {sc.step_hours:g} must divide horizon_hours {sc.horizon_hours} into a whole "
                         f"number (>= 1) of steps (got {steps:.6g})")
    prev_end = 0.0
    for i, w in enumerate(sc.fine_steps):
        ratio = sc.step_hours / w.step_hours
        if w.step_hours >= sc.step_hours or abs(ratio - round(ratio)) > 1e-9 * ratio:
            raise ValueError(f"fine_steps.{i}.step_hours: {w.step_hours:g} must divide step_hours {sc.step_hours:g} "
                             f"into a whole number (>= 2) of steps")
        for key in ("start_hour", "end_hour"):
            h = getattr(w, key)
            k = h / sc.step_hours
            if abs(k - round(k)) > 1e-9 * max(k, 1.0) or h > sc.horizon_hours:
                raise ValueError(f"fine_steps.{i}.{key}: {h:g} must be a multiple of step_hours {sc.step_hours:g} "
                                 f"inside the horizon (0..{sc.horizon_hours})")
        if w.start_hour < prev_end:
            raise ValueError(f"fine_steps.{i}: windows must be in time order and must not overlap "
                             f"(starts at {w.start_hour:g}, the previous one ends at {prev_end:g})")
        prev_end = w.end_hour
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
    """The venues' HUSD comes out of the float (supply not held by a holder class): together they cannot
    hold more, or trades against them would drive the float below zero. The pool's depth after scripted
    multiplies stays in [MIN_POOL_DEPTH, 1] (never silently clipped)."""
    a = sc.agents
    S = sc.protocol.initial_supply_usd
    held = (a.institutional.share_of_supply + a.retail.share_of_supply + a.stakers.share_of_supply
            + a.loopers.collateral_share_of_supply) * S + sum(c.husd_usd for c in a.treasury_companies)
    float_husd = S - held
    # every venue's HUSD at the peg: pools' positions, and an order book's asks (they mirror its bids)
    venues = [("pool.ranges", sum(_husd_at_peg(r) for r in sc.pool.ranges))]
    for i, v in enumerate(getattr(sc, "venues", [])):
        venues.append((f"venues.{i}", sum(_husd_at_peg(r) for r in v.ranges) if hasattr(v, "ranges")
                       else max(usd for _, usd in v.bid_depth_usd)))
    venue_husd = sum(h for _, h in venues)
    if venue_husd > float_husd * (1 + 1e-9):
        where = max(venues, key=lambda x: x[1])[0]
        raise ValueError(
            f"{where}: the venues hold ${venue_husd:,.0f} of HUSD at the peg, more than the ${float_husd:,.0f} of "
            f"supply no holder class holds ({float_husd / S:.1%} of initial_supply_usd ${S:,.0f}); scale the venues' "
            f"liquidity with the supply (e.g. `tripod size-reserve --supply-usd`) or lower the holder shares")
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
        if e["type"] == "value_error" and re.match(r"[a-z_][\w.]*: ", msg):  # a check that names its field
            lines.append(f"{loc}.{msg}" if loc else msg)
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
