"""`ProtocolSpec`: the protocol's contract parameters in human units, and the one scenario -> chain mapping.

    spec = ProtocolSpec.from_scenario(sc)       # what the model simulates, as the contracts take it
    spec = ProtocolSpec.defaults().with_overrides({"minter": {"mint_fee_bps": 3}})   # `ape run deploy`
    spec.to_dict() / ProtocolSpec.from_dict(d)  # the `params` block of a deployment file

Dollars (`_usd`), basis points (`_bps`), Uniswap fee pips (`_pips`), seconds (`_s`), whole tokens (`_hyb`,
pool seed amounts) and the window each limit counts over (`_per_block`, `_per_hour`, `_per_day`). Base
units happen once, in the deployer (`sim.chain.deploy`, through `sim.chain.evm`).

Where the model and the contracts count a limit over different windows, the mapping is a stated choice
(`CHOICES`, recorded in every deployment file), never an inline conversion. No Ape import.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sim.chain.evm import TICK_SPACING

UNBOUNDED_USD = 1e15  # a chain limit the model does not have: large enough never to bind, small enough for uint256
UNBOUNDED_HYB = 1e15
MINTER_MAX_FEE_BPS, PSM_MAX_FEE_BPS = 500, 100  # the contracts' MAX_FEE_BPS: a spec above them cannot deploy

CHOICES = {
    "minter.*_cap_usd_per_block": "the model has no per-block cap; a replay sends at most one chain hour of a step's "
    "Minter flow per block, so the per-block cap is the per-hour cap x min(step_hours, 1): it never binds before "
    "the model's own cap does, and is as tight as a faithful replay allows",
    "reserve.max_payout_usd_per_day": "the model limits reserve draws per hour, the ReserveFund per UTC day: the "
    "daily limit is 24 x the hourly one (a chain day holds 24 model hours, so the chain never refuses a draw the "
    "model made; it would allow a burst inside one day that the model spreads over hours)",
    "staking.vesting_period_s": "rewards are distributed every distribution_interval_hours; each batch vests over "
    "that interval, so it has vested when the next one arrives",
    "reserve.buy_budget_usd_per_hour": "the model's reserve spends at most budget_usd_per_hour x step_hours a step; "
    "the ReserveFund counts per clock hour. Steps of an hour or less: equal (an hour's steps share it). A longer "
    "step's buying is one chain block (its trades keep their order), so the chain's hourly budget is the model's x "
    "step_hours: it never refuses a purchase the model made",
    "reserve.buy (venue)": "the reserve buys on chain only on the reference pool; a scenario whose reserve buys on "
    "another venue (an order book, another pool) deploys no buy-back, and its spending leaves the ReserveFund as a "
    "payout, as any off-chain use of its USDC",
    "psm.ceiling_usd": "a disabled PSM is a PSM with a zero ceiling",
    "psm.fee_in_bps = fee_out_bps": "the model has one PSM fee, charged both ways",
    "unbounded": "limits the model does not have (HYB cap and emission, the backstop's HYB per day, the hedge "
    "ledger's drift bound) are set so they never bind: the chain must not refuse what the model did",
}


class SpecError(ValueError):
    """A spec the contracts cannot take, or an override naming no field. `str()` names the field."""


@dataclass(frozen=True)
class FeedSpec:
    price_usd: float  # the feed's first answer
    decimals: int = 8
    heartbeat_s: int = 86_400
    max_deviation_bps: int = 200  # max jump between two rounds
    max_drift_bps: int = 500  # max move over the last 6 rounds (a walk of small jumps)
    min_usd: float = 0.0  # hard band (every default feed has one)
    max_usd: float = 0.0


@dataclass(frozen=True)
class OracleSpec:
    grace_period_s: int = 900  # a round up to 15 min past its heartbeat is late, not an outage


@dataclass(frozen=True)
class MinterSpec:
    mint_fee_bps: int = 5
    redeem_fee_bps: int = 10
    mint_cap_usd_per_block: float = 1_000_000
    mint_cap_usd_per_hour: float = 5_000_000
    redeem_cap_usd_per_block: float = 1_000_000
    redeem_cap_usd_per_hour: float = 5_000_000


@dataclass(frozen=True)
class PsmSpec:
    fee_in_bps: int = 0
    fee_out_bps: int = 5
    ceiling_usd: float = 50_000_000


@dataclass(frozen=True)
class StakingSpec:
    cooldown_s: int = 7 * 86_400
    vesting_period_s: int = 8 * 3_600


@dataclass(frozen=True)
class HedgeSpec:
    max_drift_bps: int = 200
    drift_buffer_usd: float = 10_000
    max_report_age_s: int = 6 * 3_600  # backing counts a venue's report only while it is younger than this
    markets: dict = field(default_factory=lambda: {"BTC-PERP": "WBTC", "XAU-PERP": "PAXG"})  # market -> hedged token
    # claims on failed venues and frozen custody at their marked recovery: the operator reports them as the
    # unrealised PnL of a ledger market of their own, so backing counts them and realised backing does not
    claims_market: str = "CLAIMS"


@dataclass(frozen=True)
class ReserveSpec:
    max_payout_usd_per_day: float = 1_000_000  # funding/deficit payouts in USDC
    # buy-backs on the HUSD/USDC pool (`ReserveFund.buyBack`): below this price, this much USDC an hour, then
    # "burn" or "hold"; a zero budget deploys none
    buy_trigger_price: float = 0.995
    buy_budget_usd_per_hour: float = 0.0
    buy_then: str = "burn"


@dataclass(frozen=True)
class GuardianSpec:
    min_backing_ratio_bps: int = 9_900


@dataclass(frozen=True)
class HybSpec:
    price_usd: float = 0.5  # the HYB/USDC pool's first price
    cap_hyb: float = 1_000_000_000
    emission_hyb_per_day: float = 10_000_000
    genesis_hyb: float = 100_000_000


@dataclass(frozen=True)
class BackstopSpec:
    max_sale_hyb_per_day: float = 5_000_000
    floor_price_usd: float = 0.1  # HYB sales never push the pool below this


@dataclass(frozen=True)
class PoolSpec:
    fee_pips: int
    price_low: float  # range `ape run deploy` seeds (price of the non-USDC token in USDC)
    price_high: float
    husd: float = 0.0  # whole tokens seeded by `ape run deploy` (the replay places the model's positions itself)
    hyb: float = 0.0
    usdc: float = 0.0


def _default_feeds() -> dict:
    return {
        "USDC": FeedSpec(1.0, heartbeat_s=86_400, max_deviation_bps=200, max_drift_bps=500, min_usd=0.95, max_usd=1.05),
        "TBILL": FeedSpec(1.0, heartbeat_s=86_400, max_deviation_bps=100, max_drift_bps=300, min_usd=0.9, max_usd=2.0),
        "WBTC": FeedSpec(95_000.0, heartbeat_s=3_600, max_deviation_bps=1_500, max_drift_bps=4_000,
                         min_usd=1_000.0, max_usd=10_000_000.0),
        "PAXG": FeedSpec(2_650.0, heartbeat_s=86_400, max_deviation_bps=1_000, max_drift_bps=2_500,
                         min_usd=100.0, max_usd=100_000.0),
    }


def _default_pools() -> dict:
    return {"HUSD/USDC": PoolSpec(100, 0.99, 1.01, husd=2_000_000, usdc=2_000_000),
            "HYB/USDC": PoolSpec(3000, 0.05, 5.0, hyb=10_000_000, usdc=2_000_000)}


@dataclass(frozen=True)
class ProtocolSpec:
    """Every parameter the deployer sets, by contract. `tokens`: symbol -> decimals of the collateral."""

    tokens: dict = field(default_factory=lambda: {"USDC": 6, "TBILL": 6, "WBTC": 8, "PAXG": 18})
    feeds: dict = field(default_factory=_default_feeds)  # symbol -> FeedSpec
    oracle: OracleSpec = OracleSpec()
    minter: MinterSpec = MinterSpec()
    psm: PsmSpec = PsmSpec()
    staking: StakingSpec = StakingSpec()
    hedge: HedgeSpec = HedgeSpec()
    reserve: ReserveSpec = ReserveSpec()
    guardian: GuardianSpec = GuardianSpec()
    hyb: HybSpec = HybSpec()
    backstop: BackstopSpec = BackstopSpec()
    pools: dict = field(default_factory=_default_pools)  # "HUSD/USDC", "HYB/USDC" -> PoolSpec

    def __post_init__(self):
        self.validate()

    # -- construction

    @classmethod
    def defaults(cls) -> "ProtocolSpec":
        """The protocol's own parameters (what `ape run deploy` deploys without a scenario)."""
        return cls()

    @classmethod
    def from_scenario(cls, sc, prices: dict | None = None) -> "ProtocolSpec":
        """The contracts' parameters for scenario `sc`: the one mapping from a scenario to the chain.

        `prices`: the feeds' first answers (symbol -> USD), e.g. a run's first step; else the stochastic
        market's start prices. Every conversion that is not one-to-one is one of `CHOICES`.
        """
        from sim.model.params import hyb_liquidity

        p, pool = sc.protocol, sc.pool
        m = sc.market.stochastic
        first = {"WBTC": m.btc_usd_start, "PAXG": m.xau_usd_start, "TBILL": 1.0, "USDC": 1.0, **(prices or {})}
        base = cls()
        in_block = min(float(sc.step_hours), 1.0)
        _, hyb_sqrt_low, _ = hyb_liquidity(pool.hyb_pool_usd, pool.hyb_price_start)
        return cls(
            feeds={s: dataclasses.replace(f, price_usd=float(first[s])) for s, f in base.feeds.items()},
            minter=MinterSpec(
                mint_fee_bps=_whole_bps(p.fees.mint_fee_bps, "protocol.fees.mint_fee_bps", MINTER_MAX_FEE_BPS),
                redeem_fee_bps=_whole_bps(p.fees.redeem_fee_bps, "protocol.fees.redeem_fee_bps", MINTER_MAX_FEE_BPS),
                mint_cap_usd_per_block=p.caps.mint_cap_usd_per_hour * in_block,
                mint_cap_usd_per_hour=p.caps.mint_cap_usd_per_hour,
                redeem_cap_usd_per_block=p.caps.redeem_cap_usd_per_hour * in_block,
                redeem_cap_usd_per_hour=p.caps.redeem_cap_usd_per_hour),
            psm=PsmSpec(fee_in_bps=_whole_bps(p.psm.fee_bps, "protocol.psm.fee_bps", PSM_MAX_FEE_BPS),
                        fee_out_bps=_whole_bps(p.psm.fee_bps, "protocol.psm.fee_bps", PSM_MAX_FEE_BPS),
                        ceiling_usd=p.psm.ceiling_usd if p.psm.enabled else 0.0),
            staking=StakingSpec(vesting_period_s=int(round(p.revenue.distribution_interval_hours * 3600))),
            hedge=HedgeSpec(max_drift_bps=10_000, drift_buffer_usd=UNBOUNDED_USD),
            reserve=_reserve_spec(sc),
            hyb=HybSpec(price_usd=pool.hyb_price_start, cap_hyb=UNBOUNDED_HYB, emission_hyb_per_day=UNBOUNDED_HYB,
                        genesis_hyb=UNBOUNDED_HYB / 100),
            backstop=BackstopSpec(max_sale_hyb_per_day=UNBOUNDED_HYB, floor_price_usd=float(hyb_sqrt_low) ** 2),
            pools={"HUSD/USDC": dataclasses.replace(base.pools["HUSD/USDC"], fee_pips=_pips(pool.fee_fraction, "pool.fee_fraction")),
                   "HYB/USDC": dataclasses.replace(base.pools["HYB/USDC"],
                                                   fee_pips=_pips(pool.hyb_fee_fraction, "pool.hyb_fee_fraction"))},
        )

    def with_prices(self, prices: dict) -> "ProtocolSpec":
        """The same spec with the feeds' first answers at `prices` (symbol -> USD)."""
        feeds = {s: dataclasses.replace(f, price_usd=float(prices.get(s, f.price_usd))) for s, f in self.feeds.items()}
        return dataclasses.replace(self, feeds=feeds)

    def for_genesis(self) -> "ProtocolSpec":
        """No fees and no caps: a replay mints the model's initial supply at par, then sets this spec's
        fees and caps (`sim.chain.deploy.set_fees_and_caps`)."""
        return dataclasses.replace(
            self, minter=MinterSpec(0, 0, UNBOUNDED_USD, UNBOUNDED_USD, UNBOUNDED_USD, UNBOUNDED_USD),
            psm=dataclasses.replace(self.psm, fee_in_bps=0, fee_out_bps=0))

    # -- dict form (deployment files, overrides)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict, where: str = "params") -> "ProtocolSpec":
        """A spec from its dict form; a missing field takes the default, an unknown one is an error."""
        return cls.defaults().with_overrides(data, where)

    def with_overrides(self, over: dict, where: str = "params") -> "ProtocolSpec":
        """This spec with `over` (nested dicts in the `to_dict` layout) merged in; unknown keys raise SpecError."""
        if not isinstance(over, dict):
            raise SpecError(f"{where}: expected a mapping of spec fields")
        changes = {}
        for key, value in over.items():
            if key not in _FIELDS:
                raise SpecError(f"{where}.{key}: unknown key (fields: {', '.join(_FIELDS)})")
            changes[key] = _merge(getattr(self, key), value, f"{where}.{key}", key)
        try:
            return dataclasses.replace(self, **changes)
        except (TypeError, ValueError) as err:
            raise SpecError(f"{where}: {err}") from None

    # -- what the contracts accept

    def validate(self) -> None:
        m, s = self.minter, self.psm
        for name, v, hi in (("minter.mint_fee_bps", m.mint_fee_bps, MINTER_MAX_FEE_BPS),
                            ("minter.redeem_fee_bps", m.redeem_fee_bps, MINTER_MAX_FEE_BPS),
                            ("psm.fee_in_bps", s.fee_in_bps, PSM_MAX_FEE_BPS), ("psm.fee_out_bps", s.fee_out_bps, PSM_MAX_FEE_BPS)):
            if not (isinstance(v, int) and 0 <= v <= hi):
                raise SpecError(f"{name}: {v!r} must be a whole number of bps in [0, {hi}] (the contract's MAX_FEE_BPS)")
        for name, pool in self.pools.items():
            if pool.fee_pips not in TICK_SPACING:
                raise SpecError(f"pools.{name}.fee_pips: {pool.fee_pips!r} is not a Uniswap v3 fee tier {sorted(TICK_SPACING)}")
        for name, v in (("minter.mint_cap_usd_per_block", m.mint_cap_usd_per_block), ("minter.mint_cap_usd_per_hour", m.mint_cap_usd_per_hour),
                        ("minter.redeem_cap_usd_per_block", m.redeem_cap_usd_per_block),
                        ("minter.redeem_cap_usd_per_hour", m.redeem_cap_usd_per_hour), ("psm.ceiling_usd", s.ceiling_usd),
                        ("reserve.max_payout_usd_per_day", self.reserve.max_payout_usd_per_day),
                        ("reserve.buy_budget_usd_per_hour", self.reserve.buy_budget_usd_per_hour)):
            if not 0 <= v <= UNBOUNDED_USD:
                raise SpecError(f"{name}: {v!r} must be in [0, {UNBOUNDED_USD:g}]")
        r = self.reserve
        if r.buy_then not in ("burn", "hold"):
            raise SpecError(f"reserve.buy_then: {r.buy_then!r} must be 'burn' or 'hold'")
        if not 0.5 < r.buy_trigger_price < 1.0:
            raise SpecError(f"reserve.buy_trigger_price: {r.buy_trigger_price!r} must be in (0.5, 1) (below par)")
        missing = set(self.hedge.markets.values()) - set(self.tokens)
        if missing or set(self.feeds) != set(self.tokens):
            raise SpecError(f"tokens/feeds/hedge.markets: every token needs a feed and every hedged token a collateral "
                            f"(tokens {sorted(self.tokens)}, feeds {sorted(self.feeds)}, hedged {sorted(self.hedge.markets.values())})")


_FIELDS = [f.name for f in dataclasses.fields(ProtocolSpec)]
_ITEM = {"feeds": FeedSpec, "pools": PoolSpec}  # dict-of-dataclass blocks


def _merge(current: Any, value: Any, where: str, block: str) -> Any:
    if block in _ITEM:  # symbol/pool name -> dataclass: an existing entry merges, a new one needs every field
        if not isinstance(value, dict):
            raise SpecError(f"{where}: expected a mapping of names to {_ITEM[block].__name__} fields")
        out = dict(current)
        for name, fields in value.items():
            out[name] = _replace(current.get(name), fields, f"{where}.{name}", _ITEM[block])
        return out
    if dataclasses.is_dataclass(current):
        return _replace(current, value, where, type(current))
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise SpecError(f"{where}: expected a mapping")
        return {**current, **value}
    return value


def _replace(current, fields: Any, where: str, kind: type):
    if not isinstance(fields, dict):
        raise SpecError(f"{where}: expected a mapping of {kind.__name__} fields")
    names = {f.name for f in dataclasses.fields(kind)}
    for k in fields:
        if k not in names:
            raise SpecError(f"{where}.{k}: unknown key (fields: {', '.join(sorted(names))})")
    try:
        return dataclasses.replace(current, **fields) if current is not None else kind(**fields)
    except TypeError as err:
        raise SpecError(f"{where}: {err}") from None


def _reserve_spec(sc) -> ReserveSpec:
    r = sc.protocol.reserve
    buy = r.buy
    on_chain = buy.enabled and (buy.venue or sc.pool.name) == sc.pool.name  # the reference pool is the one on chain
    return ReserveSpec(max_payout_usd_per_day=r.max_draw_usd_per_hour * 24,
                       buy_trigger_price=float(buy.trigger_price),
                       buy_budget_usd_per_hour=buy.budget_usd_per_hour * max(float(sc.step_hours), 1.0) if on_chain else 0.0,
                       buy_then=buy.then)


def _whole_bps(v: float, where: str, hi: int) -> int:
    if abs(v - round(v)) > 1e-9:
        raise SpecError(f"{where}: {v!r} bps is not a whole number of bps, which the contracts take")
    if not 0 <= v <= hi:
        raise SpecError(f"{where}: {v!r} bps is above the contract's MAX_FEE_BPS ({hi})")
    return int(round(v))


def _pips(fraction: float, where: str) -> int:
    pips = int(round(fraction * 1_000_000))
    if pips not in TICK_SPACING or abs(fraction * 1_000_000 - pips) > 1e-6:
        raise SpecError(f"{where}: {fraction!r} is not a Uniswap v3 fee tier "
                        f"({', '.join(str(t / 1e6) for t in sorted(TICK_SPACING))})")
    return pips
