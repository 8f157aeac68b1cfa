"""Scenario files: pydantic models of the market, the protocol, the agents and scripted stress.

Every field says its unit in its name or its type. Unknown keys are refused (a typo in a risk
parameter must never be silently ignored). `load_scenario` turns a YAML file into a `Scenario`
or raises `ScenarioError` with one line per problem, each naming the field.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.types import (
    Finite,
    Frac,
    NonNegBps,
    NonNegFloat,
    NonNegHours,
    NonNegUSD,
    PosHours,
    PosPrice,
    PosUSD,
)


class ScenarioError(ValueError):
    """A scenario that cannot be run; `lines` holds one readable line per problem."""

    def __init__(self, source: str, lines: list[str]):
        self.source = source
        self.lines = lines
        super().__init__(f"{source}: " + "; ".join(lines))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Market
# ---------------------------------------------------------------------------------------------
class Regime(Strict):
    """Dynamics of one market regime. Vols and drifts are annualised (8760 h)."""

    btc_vol_annual: NonNegFloat = 0.50
    xau_vol_annual: NonNegFloat = 0.14
    btc_drift_annual: Finite = 0.0
    xau_drift_annual: Finite = 0.0
    btc_xau_correlation: Annotated[float, Field(ge=-1, le=1)] = 0.1
    btc_jump_rate_per_year: NonNegFloat = 4.0
    btc_jump_mean: Finite = -0.02
    """Mean log size of a BTC jump (negative: crashes are more common than spikes)."""
    btc_jump_std: NonNegFloat = 0.04
    xau_jump_rate_per_year: NonNegFloat = 1.0
    xau_jump_mean: Finite = 0.0
    xau_jump_std: NonNegFloat = 0.015
    funding_mean_8h_btc: Finite = 0.0001
    """Level perp funding reverts to in this regime (0.0001/8h ~ 11 % APR)."""
    funding_mean_8h_xau: Finite = 0.00003
    pool_depth_factor: Annotated[float, Field(gt=0, le=1)] = 1.0
    """Share of the pool's liquidity LPs keep in this regime (stress: they pull liquidity)."""


Rate8h = Annotated[float, Field(ge=-0.01, le=0.01, allow_inf_nan=False)]
"""A funding rate or premium per 8 h: venues cap funding well inside +-1 %/8h."""


class HotFunding(Strict):
    """A second funding regime (crowded longs: the premium high and noisy), with its own Markov chain.
    `p_enter_per_hour` 0 (the default) never enters it."""

    p_enter_per_hour: Frac = 0.0
    p_exit_per_hour: Frac = 0.01
    level_offset_8h: Rate8h = 0.0
    """Added to the market regime's funding level while hot."""
    vol_8h_per_sqrt_day: Annotated[float, Field(ge=0, le=0.01, allow_inf_nan=False)] = 0.0


class FundingProcess(Strict):
    """Perp funding: a latent premium (an OU tied to price moves) printed through the venue's clamp.

    d y = kappa (level - y) dt + vol dW + price_beta * (log return), per hour; level = the market
    regime's `funding_mean_8h_*` (+ the hot regime's offset while hot). A negative log return with a
    positive beta drives funding down: crashes turn funding negative. The venue prints y below
    `interest_8h` as is, `interest_8h` for y within `clamp_width_8h` above it, y - width beyond
    (Binance: interest 0.01 %/8h, clamp +-0.05 % -> width 0.1 %). Width 0 and no hot regime is a plain
    OU. Equations and why: `sim/markets/funding.py`.
    """

    mean_reversion_per_day: Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)] = 0.5
    vol_8h_per_sqrt_day: Annotated[float, Field(ge=0, le=0.01, allow_inf_nan=False)] = 0.00006
    price_beta_8h: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.004
    """Funding change (per 8 h) per unit log return of the underlying in the same hour."""
    floor_8h: Rate8h = -0.0075
    cap_8h: Rate8h = 0.0075
    interest_8h: Rate8h = 0.0001
    clamp_width_8h: Annotated[float, Field(ge=0, le=0.01, allow_inf_nan=False)] = 0.0
    """Width of the venue's dead zone above the interest rate (0: no clamp)."""
    hot: HotFunding = HotFunding()

    @model_validator(mode="after")
    def _bounds(self):
        if self.floor_8h >= self.cap_8h:
            raise ValueError("floor_8h must be below cap_8h")
        return self


class TbillProcess(Strict):
    long_run_yield: Annotated[float, Field(ge=-0.05, le=0.5)] = 0.045
    mean_reversion_per_year: NonNegFloat = 0.3
    vol_per_sqrt_year: NonNegFloat = 0.006


class StochasticMarket(Strict):
    btc_usd_start: PosPrice = 90_000.0
    xau_usd_start: PosPrice = 2_600.0
    tbill_yield_start: Annotated[float, Field(ge=-0.05, le=0.5)] = 0.045
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
    xau_funding_rate_8h: Finite = 0.00003
    stress_drawdown: Annotated[float, Field(gt=0, lt=1)] = 0.2
    """BTC drawdown from its 30-day high beyond which the hour counts as stress (pool depth falls)."""
    stress_pool_depth_factor: Annotated[float, Field(gt=0, le=1)] = 0.5

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

    price_lower: PosPrice
    price_upper: PosPrice
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
    initial_margin_ratio: Annotated[float, Field(gt=0, le=1)] = 0.10
    """Cash margin kept at the perp venue per dollar of short notional."""
    maintenance_margin_ratio: Annotated[float, Field(gt=0, le=1)] = 0.03
    liquidation_penalty_bps: NonNegBps = 100
    margin_sweep_ratio: Annotated[float, Field(gt=0)] = 0.15
    """Margin above this share of notional is swept back to the buffer (profits leave the venue)."""
    rehedge_per_hour: Frac = 0.25
    """Share of an open delta gap (spot minus short) closed per hour."""
    premium_per_funding_8h: NonNegFloat = 3.0
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
    """Fine steps through a shock: a step whose price moves more than this is marked (and its margin
    checked) in sub-steps of at most this move, up to `max_substeps`."""
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
    mint_fee_bps: NonNegBps = 5
    redeem_fee_bps: NonNegBps = 10


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
    from backing above supply. Stakers are paid only while backing + reserve cover supply.
    `surplus` (for comparison): all of backing above supply, marks included, less unhedged gains (their
    losses are drawn from the reserve: a ratchet on it)."""


class Reserve(Strict):
    initial_usd: NonNegUSD = 40e6
    max_draw_usd_per_hour: NonNegUSD = 10e6


class Backstop(Strict):
    enabled: bool = True
    hyb_supply: PosUSD = 200e6
    """HYB tokens outstanding (a count, not dollars)."""
    max_sale_usd_per_day: NonNegUSD = 10e6
    trigger_deficit_bps: NonNegBps = 1
    """Sell HYB only when the reserve is empty and the deficit exceeds this share of supply."""


class Psm(Strict):
    enabled: bool = True
    fee_bps: NonNegBps = 5
    ceiling_usd: NonNegUSD = 50e6
    initial_usdc_usd: NonNegUSD = 10e6


class CircuitBreaker(Strict):
    pause_mint_on_stale_oracle: bool = True
    max_oracle_deviation_bps: NonNegBps = 200


class Rebalance(Strict):
    speed_per_hour: Frac = 0.1
    cost_bps: NonNegBps = 3
    unwind_cost_bps: NonNegBps = 10
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
    gas_usd: NonNegUSD = 20.0
    min_edge_bps: NonNegBps = 2
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
    btc_leverage: NonNegFloat = 0.0
    """Retail's leverage on BTC held elsewhere: a BTC fall of x in a step makes them sell
    x * btc_leverage of their HUSD on the pool to meet margin calls (they sell core assets to keep
    levered positions). 0 = unlevered."""


class Stakers(Strict):
    share_of_supply: Frac = 0.25


class BorrowRate(Strict):
    """Utilization-kinked borrow rate of the USDC lending market (Aave/Morpho style)."""

    base_apr: NonNegFloat = 0.0
    slope_apr: NonNegFloat = 0.07
    kink: Annotated[float, Field(gt=0, lt=1)] = 0.9
    jump_slope_apr: NonNegFloat = 0.8


class Loopers(Strict):
    collateral_share_of_supply: Frac = 0.10
    initial_ltv: Frac = 0.6
    max_ltv: Frac = 0.8
    liquidation_ltv: Frac = 0.86
    liquidation_bonus_bps: NonNegBps = 500
    close_factor: Frac = 0.5
    lever_speed_per_hour: Frac = 0.02
    min_spread_apr: NonNegFloat = 0.01
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
    base_rate_per_day: Finite = 0.0
    yield_sensitivity_per_day: NonNegFloat = 0.05
    """Growth per day per unit of (staker APR - T-bill yield): 0.05 and a 10 % spread = 0.5 %/day."""
    depeg_penalty_per_day: NonNegFloat = 0.02
    """Growth lost per day after a full 48 hours below the peg threshold (scaled by hours below / 48)."""
    max_rate_per_day: Annotated[float, Field(gt=0, le=1)] = 0.02


class TreasuryCompany(Strict):
    """A listed digital-asset treasury company (DAT): holds BTC, HUSD and HYB, financed by equity and
    convertible-like debt with a maturity and an LTV covenant. Its equity trades at NAV x mNAV, and
    mNAV follows sentiment (the recent return of its NAV)."""

    name: str
    btc_usd: NonNegUSD = 0.0
    husd_usd: NonNegUSD = 0.0
    hyb_usd: NonNegUSD = 0.0
    debt_usd: NonNegUSD = 0.0
    mnav_start: PosPrice = 1.5
    mnav_sentiment_beta: NonNegFloat = 2.0
    """log mNAV target per unit of 30-day NAV log return (sentiment)."""
    mnav_adjust_per_day: NonNegFloat = 0.5
    covenant_ltv: Annotated[float, Field(gt=0, lt=1)] = 0.5
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


class ScriptedPath(Strict):
    """Piecewise-linear points (hour, value) applied to one market variable.

    mode `multiply`: the value multiplies the path (1 before the first point, the last value held
    after the last point) — "btc_usd falls 15 % over 6 hours" is [[100, 1.0], [106, 0.85]].
    mode `set`: the value replaces the path between the first and the last point.
    """

    variable: ScriptedVariable
    mode: Literal["multiply", "set"] = "multiply"
    points: list[tuple[NonNegHours, Finite]] = Field(min_length=2)

    @model_validator(mode="after")
    def _increasing(self):
        hours = [h for h, _ in self.points]
        if any(b <= a for a, b in zip(hours, hours[1:])):
            raise ValueError("points must have strictly increasing hours")
        if self.mode == "multiply" and any(v <= 0 for _, v in self.points):
            raise ValueError("multiply points must be positive")
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


class VenueOutage(Strict):
    """The perp venue of the listed assets' hedges is down: no transfer lands there or leaves, no
    trading (no re-hedge, no rebalance, no unwind of those sleeves), while positions are still marked
    and its liquidation engine still runs."""

    type: Literal["venue_outage"]
    hour: NonNegHours
    duration_hours: PosHours
    assets: Annotated[list[Literal["btc", "xau"]], Field(min_length=1, max_length=2)] = ["btc", "xau"]


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
    Union[VenueFailure, VenueOutage, OracleStale, OracleDeviation, TbillFreeze, BankRun], Field(discriminator="type")
]


# ---------------------------------------------------------------------------------------------
# Scenario
# ---------------------------------------------------------------------------------------------
class Scenario(Strict):
    name: str
    description: str = ""
    horizon_hours: Annotated[int, Field(gt=0, le=24 * 366 * 5)] = 720
    step_hours: Annotated[float, Field(gt=0, le=24)] = 1.0
    runs: Annotated[int, Field(gt=0, le=1_000_000)] = 100
    seed: Annotated[int, Field(ge=0)] = 0
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


def format_validation_error(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not a field of this block)"
        got = e.get("input")
        got_s = "" if e["type"] in ("extra_forbidden", "missing") or isinstance(got, dict) else f" (got {got!r})"
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


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> object:
    """A YAML file with its `include: [relative.yaml, ...]` files deep-merged under its own keys.

    Included files are read first (in order, later ones win), then the file's own mappings override
    them key by key. An included file's top-level `provenance` is documentation and is dropped.
    """
    if not path.exists():
        raise ScenarioError(str(path), ["no such file"] if not chain else [f"included file not found (from {chain[-1]})"])
    if path.resolve() in chain:
        raise ScenarioError(str(path), ["include cycle: " + " -> ".join(str(p) for p in (*chain, path))])
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ScenarioError(str(path), [f"not valid YAML: {str(err).splitlines()[0]}"]) from None
    if not isinstance(data, dict) or "include" not in data:
        return data
    data = dict(data)
    inc = data.pop("include")
    inc = [inc] if isinstance(inc, str) else inc
    if not isinstance(inc, list) or not all(isinstance(i, str) for i in inc):
        raise ScenarioError(str(path), ["include: must be a file name or a list of file names"])
    merged: dict = {}
    for rel in inc:
        sub = _read_yaml(path.parent / rel, (*chain, path.resolve()))
        if not isinstance(sub, dict):
            raise ScenarioError(str(path.parent / rel), ["an included file must hold a mapping"])
        sub = {k: v for k, v in sub.items() if k != "provenance"}
        merged = _deep_merge(merged, sub)
    return _deep_merge(merged, data)


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    return parse_scenario(_read_yaml(path), str(path))
