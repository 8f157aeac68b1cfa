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
    disclosure: Disclosure = Disclosure()


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------
class Arbitrageurs(Strict):
    enabled: bool = True
    gas_usd: NonNegUSD = 20.0
    min_edge_bps: NonNegBps = 2
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
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.005
    threshold_spread: Annotated[float, Field(ge=0, le=3)] = 0.7
    threshold_run_spread: Annotated[float, Field(ge=0, le=3)] = 0.3
    exit_rate_per_hour: Frac = 0.05
    exit_span: Annotated[float, Field(gt=0, le=100)] = 3.0
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
    btc_leverage: NonNegFloat = 0.0
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

    base_apr: NonNegFloat = 0.0
    slope_apr: NonNegFloat = 0.07
    kink: Annotated[float, Field(gt=0, lt=1)] = 0.9
    jump_slope_apr: NonNegFloat = 0.8


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
    liquidation_bonus_bps: NonNegBps = 500
    close_factor: Frac = 0.5
    """Share of an unhealthy loan a liquidation repays (Aave: 50 %)."""
    liquidations_per_hour: Annotated[float, Field(gt=0, le=60)] = 1.0
    """How often liquidators come back to an unhealthy loan: a step of dt hours repays 1 - (1 - close_factor)
    ** (liquidations_per_hour x dt) of it, whatever the step size."""
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
    liquidity_providers: LiquidityProviders = LiquidityProviders()
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

    def config_hash(self) -> str:
        """Stable hash of everything that changes a result (runs and seed excluded: they are reported apart)."""
        body = self.model_dump(mode="json", exclude={"runs", "seed", "description", "validation"})
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
