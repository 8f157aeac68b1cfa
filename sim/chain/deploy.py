"""Deploy the whole Tripod protocol (and real Uniswap v3 pools) from a `ProtocolSpec`, with Ape.

One deployer for `ape run deploy` (scripts/deploy.py), the contract tests (tests/contracts, through
scripts/_protocol.py), the replay and the stress kit. Contract types come from the package's shipped
manifest (`sim.chain.artifacts`) unless a checkout's freshly compiled project is given. Human units in
the spec become base units here, once, through `sim.chain.evm`. The pool maths below only chooses the
arguments of `initialize` and `mint`; the pools do all the AMM work.

`write_deployment` records addresses and the spec; `load_deployment` gives the same handles back from
that file: what everything after a deployment (the replay's steps and comparison) works from.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.chain import evm
from sim.chain.artifacts import Contracts
from sim.chain.spec import ProtocolSpec

CONTRACTS = ("oracle", "husd", "shusd", "minter", "ledger", "reserve", "psm", "hyb", "backstop", "guardian", "router", "factory")
KINDS = {"oracle": "OracleRouter", "husd": "HUSD", "shusd": "StakedHUSD", "minter": "Minter", "ledger": "HedgeLedger",
         "reserve": "ReserveFund", "psm": "PegStabilityModule", "hyb": "HYB", "backstop": "Backstop",
         "guardian": "Guardian", "router": "PoolRouter", "factory": "UniswapV3Factory"}
ROLES = {  # role name in `roles=` -> (contract, role constant)
    "minter": ("minter", "MINTER_ROLE"), "redeemer": ("minter", "REDEEMER_ROLE"), "treasurer": ("minter", "TREASURER_ROLE"),
    "guardian": ("guardian", "GUARDIAN_ROLE"), "operator": ("ledger", "OPERATOR_ROLE"), "keeper": ("backstop", "KEEPER_ROLE"),
    "rewarder": ("shusd", "REWARDER_ROLE"), "funding_payer": ("reserve", "FUNDING_PAYER_ROLE"), "coverer": ("reserve", "COVERER_ROLE"),
    "buyback": ("reserve", "BUYBACK_ROLE"),
}


@dataclass
class PoolInfo:
    name: str
    pool: Any
    fee: int  # pips
    token0: Any
    token1: Any
    tick_lower: int = 0
    tick_upper: int = 0
    liquidity: int = 0

    def to_json(self) -> dict:
        return {"address": self.pool.address, "fee": self.fee, "token0": self.token0.address, "token1": self.token1.address,
                "tick_lower": self.tick_lower, "tick_upper": self.tick_upper, "liquidity": str(self.liquidity)}


@dataclass
class Protocol:
    """Every deployed contract, by role, and the spec it was deployed with (`params`: its dict form)."""

    spec: ProtocolSpec
    admin: Any
    contracts: Contracts
    tokens: dict[str, Any] = field(default_factory=dict)
    feeds: dict[str, Any] = field(default_factory=dict)
    oracle: Any = None
    husd: Any = None
    shusd: Any = None
    minter: Any = None
    ledger: Any = None
    reserve: Any = None
    psm: Any = None
    hyb: Any = None
    backstop: Any = None
    guardian: Any = None
    router: Any = None
    factory: Any = None
    pools: dict[str, PoolInfo] = field(default_factory=dict)
    claims_key: Any = None  # the claims market's placeholder asset (spec.hedge.claims_market)

    @property
    def params(self) -> dict:
        return self.spec.to_dict()

    @property
    def usdc(self):
        return self.tokens["USDC"]

    def decimals(self, symbol: str) -> int:
        return 18 if symbol in ("HUSD", "HYB", "sHUSD") else int(self.spec.tokens[symbol])

    def units(self, symbol: str, amount: float) -> int:
        """Human amount -> base units of a token (rounded down)."""
        return evm.to_units(amount, self.decimals(symbol))

    def feed_answer(self, symbol: str, price_usd: float) -> int:
        """A USD price as `symbol`'s feed answers it (its decimals)."""
        return evm.feed_answer(price_usd, self.spec.feeds[symbol].decimals)

    def contracts_json(self) -> dict:
        return {n: getattr(self, n).address for n in CONTRACTS}

    def to_json(self) -> dict:
        from ape import chain

        provider = chain.provider
        return {
            "network": f"{provider.network.ecosystem.name}:{provider.network.name}:{provider.name}",
            "chain_id": chain.chain_id,
            "block": chain.blocks.head.number,
            "admin": self.admin.address,
            "contracts": self.contracts_json(),
            "tokens": {**{s: {"address": t.address, "decimals": self.decimals(s)} for s, t in self.tokens.items()},
                       **{s: {"address": getattr(self, n).address, "decimals": 18} for s, n in
                          (("HUSD", "husd"), ("sHUSD", "shusd"), ("HYB", "hyb"))}},
            "feeds": {s: f.address for s, f in self.feeds.items()},
            "pools": {n: p.to_json() for n, p in self.pools.items()},
            "roles": {name: "0x" + bytes(getattr(self.minter, name)()).hex()
                      for name in ("MINTER_ROLE", "REDEEMER_ROLE", "GUARDIAN_ROLE", "TREASURER_ROLE")},
            "params": self.params,
            "artifacts": "sim/chain/contracts.json (ethPM v3)",
        }


def market_id(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def deploy_protocol(admin, spec: ProtocolSpec | None = None, roles: dict[str, list] | None = None, seed_pools: bool = True,
                    existing: dict | None = None, contracts: Contracts | None = None) -> Protocol:
    """Deploy the protocol, its pools and (unless given) the tokens, feeds and Uniswap v3 factory; wire every role.

    `roles` maps a role (`ROLES`) to the accounts that get it; a role left out goes to `admin`.
    `existing` = {"tokens": {symbol: address}, "feeds": {symbol: address}, "factory": address} uses tokens,
    USD feeds and a factory already on the chain (node A's base state on a fork, or mainnet's) instead of
    deploying mocks; their decimals are then read from the chain (and recorded in the spec).
    `contracts`: where the contract types come from (default: the package's shipped manifest).
    """
    spec = spec or ProtocolSpec.defaults()
    C = contracts or Contracts.shipped()
    existing = existing or {}
    tx = {"sender": admin}
    p = Protocol(spec=spec, admin=admin, contracts=C)

    # Tokens and feeds: the chain's own (existing), or test doubles on a local chain.
    decimals, feed_specs = dict(spec.tokens), dict(spec.feeds)
    for sym, dec in spec.tokens.items():
        if sym in existing.get("tokens", {}):
            p.tokens[sym] = C.at("MockERC20", existing["tokens"][sym])  # only its ERC-20 functions are used
            decimals[sym] = int(p.tokens[sym].decimals())
        else:
            p.tokens[sym] = admin.deploy(C.MockERC20, f"Mock {sym}", sym, dec)
    p.oracle = admin.deploy(C.OracleRouter, admin, spec.oracle.grace_period_s)
    for sym, f in spec.feeds.items():
        if sym in existing.get("feeds", {}):
            agg = C.at("MockAggregator", existing["feeds"][sym])  # AggregatorV3Interface reads only
            feed_specs[sym] = f = dataclasses.replace(f, decimals=int(agg.decimals()))
        else:
            agg = admin.deploy(C.MockAggregator, f.decimals, f"{sym} / USD", evm.feed_answer(f.price_usd, f.decimals))
        p.feeds[sym] = agg
        p.oracle.setFeed(p.tokens[sym], agg, f.heartbeat_s, f.max_deviation_bps, f.max_drift_bps, evm.usd_wad(f.min_usd),
                         evm.usd_wad(f.max_usd), **tx)
    p.spec = spec = dataclasses.replace(spec, tokens=decimals, feeds=feed_specs)

    # Core.
    m, s, h, st, y = spec.minter, spec.psm, spec.hedge, spec.staking, spec.hyb
    p.husd = admin.deploy(C.HUSD, admin)
    p.reserve = admin.deploy(C.ReserveFund, admin)
    p.minter = admin.deploy(C.Minter, admin, p.husd, p.oracle, m.mint_fee_bps, m.redeem_fee_bps, _caps_wad(spec))
    p.psm = admin.deploy(C.PegStabilityModule, admin, p.husd, p.usdc, s.fee_in_bps, s.fee_out_bps, evm.usd_wad(s.ceiling_usd))
    p.psm.setOracle(p.oracle, **tx)  # no mint at par against USDC the router cannot price
    p.ledger = admin.deploy(C.HedgeLedger, admin, p.oracle, p.minter, h.max_drift_bps, evm.usd_wad(h.drift_buffer_usd),
                            h.max_report_age_s)
    p.shusd = admin.deploy(C.StakedHUSD, admin, p.husd, st.cooldown_s, st.vesting_period_s)
    p.hyb = admin.deploy(C.HYB, admin, evm.to_units(y.cap_hyb, 18), evm.to_units(y.emission_hyb_per_day, 18), admin,
                         evm.to_units(y.genesis_hyb, 18))

    # Wiring.
    p.husd.grantRole(p.husd.MINTER_ROLE(), p.minter, **tx)
    p.husd.grantRole(p.husd.MINTER_ROLE(), p.psm, **tx)
    p.shusd.grantRole(p.shusd.REWARDER_ROLE(), p.minter, **tx)  # Minter.distributeRewards feeds the vault
    p.minter.setRewardVault(p.shusd, **tx)
    for sym in spec.tokens:
        p.minter.setCollateral(p.tokens[sym], True, **tx)
    for market, sym in h.markets.items():
        p.ledger.addMarket(market_id(market), p.tokens[sym], **tx)
    # the claims market's token is a placeholder custody never holds (no feed needed): addMarket takes an asset
    p.claims_key = admin.deploy(C.MockERC20, "Tripod claims (accounting key)", "CLAIMS", 18)
    p.ledger.addMarket(market_id(h.claims_market), p.claims_key, **tx)
    for sym in spec.tokens:
        p.ledger.trackAsset(p.tokens[sym], **tx)
    p.minter.setHedgeLedger(p.ledger, **tx)
    p.ledger.addCustodian(p.psm, **tx)
    p.reserve.setPayoutLimit(p.usdc, p.units("USDC", spec.reserve.max_payout_usd_per_day), **tx)

    # Uniswap v3: the real factory, then pools.
    if existing.get("factory"):
        p.factory = C.at("UniswapV3Factory", existing["factory"])
    else:
        p.factory = admin.deploy(C.UniswapV3Factory)
    if int(p.factory.feeAmountTickSpacing(100)) == 0:
        # The 0.01% tier is not in the v1.0.1 factory's constructor; Uniswap governance enabled it on
        # mainnet with exactly this call (fee 100, tick spacing 1).
        p.factory.enableFeeAmount(100, evm.TICK_SPACING[100], **tx)
    p.router = admin.deploy(C.PoolRouter)
    husd_pool = create_pool(p, "HUSD/USDC", p.husd, 1.0)
    hyb_pool = create_pool(p, "HYB/USDC", p.hyb, y.price_usd)

    configure_buy_back(p, spec)
    b = spec.backstop
    limit = floor_sqrt_price_limit(hyb_pool, p.hyb, b.floor_price_usd)
    p.backstop = admin.deploy(C.Backstop, admin, p.hyb, p.usdc, hyb_pool.pool, p.reserve, evm.to_units(b.max_sale_hyb_per_day, 18), limit)
    p.hyb.grantRole(p.hyb.MINTER_ROLE(), p.backstop, **tx)
    p.guardian = admin.deploy(C.Guardian, admin, p.minter, p.psm, p.oracle, p.ledger, p.husd, spec.guardian.min_backing_ratio_bps)
    p.minter.grantRole(p.minter.GUARDIAN_ROLE(), p.guardian, **tx)
    p.psm.grantRole(p.psm.GUARDIAN_ROLE(), p.guardian, **tx)
    for sym in spec.feeds:
        p.guardian.watchAsset(p.tokens[sym], **tx)

    # Roles for people.
    for role, (name, constant) in ROLES.items():
        c = getattr(p, name)
        for acct in (roles or {}).get(role, [admin]):
            c.grantRole(getattr(c, constant)(), acct, **tx)
    for acct in (roles or {}).get("venue", []):  # exchange accounts the Minter may move collateral to (none by default)
        p.minter.setDestination(acct, True, **tx)

    if seed_pools:
        pc = spec.pools["HUSD/USDC"]
        add_liquidity(p, husd_pool, admin, {p.husd.address: p.units("HUSD", pc.husd), p.usdc.address: p.units("USDC", pc.usdc)},
                      pc.price_low, pc.price_high)
        pc = spec.pools["HYB/USDC"]
        add_liquidity(p, hyb_pool, admin, {p.hyb.address: p.units("HYB", pc.hyb), p.usdc.address: p.units("USDC", pc.usdc)},
                      pc.price_low, pc.price_high)
    return p


def configure_buy_back(p: Protocol, spec: ProtocolSpec) -> None:
    """The ReserveFund's buy-back on the HUSD/USDC pool: its trigger as the pool's sqrt price, its hourly budget in
    USDC units, and (to burn what it buys) HUSD's BURNER_ROLE. A zero budget configures nothing."""
    r = spec.reserve
    if r.buy_budget_usd_per_hour <= 0:
        return
    tx = {"sender": p.admin}
    info = p.pools["HUSD/USDC"]
    trigger = evm.sqrt_x96_from_sim(math.sqrt(r.buy_trigger_price), info.token0.address == p.husd.address)
    burn = r.buy_then == "burn"
    p.reserve.configureBuyBack(p.husd, p.usdc, info.pool, trigger, p.units("USDC", r.buy_budget_usd_per_hour), burn, **tx)
    if burn:
        p.husd.grantRole(p.husd.BURNER_ROLE(), p.reserve, **tx)


def _caps_wad(spec: ProtocolSpec) -> list[int]:
    m = spec.minter
    return [evm.usd_wad(v) for v in (m.mint_cap_usd_per_block, m.mint_cap_usd_per_hour,
                                     m.redeem_cap_usd_per_block, m.redeem_cap_usd_per_hour)]


def set_fees_and_caps(p: Protocol, spec: ProtocolSpec) -> None:
    """Set `spec`'s Minter caps and fees and PSM fees on a deployed protocol (after a replay's genesis)."""
    tx = {"sender": p.admin}
    p.minter.setCaps(*_caps_wad(spec), **tx)
    p.minter.setFees(spec.minter.mint_fee_bps, spec.minter.redeem_fee_bps, **tx)
    p.psm.setFees(spec.psm.fee_in_bps, spec.psm.fee_out_bps, **tx)
    p.spec = dataclasses.replace(p.spec, minter=spec.minter, psm=dataclasses.replace(
        p.spec.psm, fee_in_bps=spec.psm.fee_in_bps, fee_out_bps=spec.psm.fee_out_bps))


def read_back(p: Protocol) -> dict:
    """The spec's parameters as the contracts hold them, in the spec's units and names."""
    wad = lambda v: evm.from_units(int(v), 18)  # noqa: E731
    return {
        "minter": {"mint_fee_bps": int(p.minter.mintFeeBps()), "redeem_fee_bps": int(p.minter.redeemFeeBps()),
                   "mint_cap_usd_per_block": wad(p.minter.maxMintPerBlock()), "mint_cap_usd_per_hour": wad(p.minter.maxMintPerHour()),
                   "redeem_cap_usd_per_block": wad(p.minter.maxRedeemPerBlock()),
                   "redeem_cap_usd_per_hour": wad(p.minter.maxRedeemPerHour())},
        "psm": {"fee_in_bps": int(p.psm.feeInBps()), "fee_out_bps": int(p.psm.feeOutBps()), "ceiling_usd": wad(p.psm.ceiling())},
        "staking": {"cooldown_s": int(p.shusd.cooldownDuration()), "vesting_period_s": int(p.shusd.vestingPeriod())},
        "reserve": _read_back_reserve(p),
        "guardian": {"min_backing_ratio_bps": int(p.guardian.minBackingRatioBps())},
        "hedge": {"max_drift_bps": int(p.ledger.maxDriftBps()), "drift_buffer_usd": wad(p.ledger.driftBufferUsd()),
                  "max_report_age_s": int(p.ledger.maxReportAge())},
        "oracle": {"grace_period_s": int(p.oracle.gracePeriod())},
        "backstop": {"max_sale_hyb_per_day": wad(p.backstop.maxHybPerDay())},
        "pools": {n: {"fee_pips": int(i.fee)} for n, i in p.pools.items()},
    }


def _read_back_reserve(p: Protocol) -> dict:
    usdc = lambda v: evm.from_units(int(v), p.decimals("USDC"))  # noqa: E731
    out = {"max_payout_usd_per_day": usdc(p.reserve.maxPayoutPerDay(p.usdc)),
           "buy_budget_usd_per_hour": usdc(p.reserve.maxBuyBackPerHour())}
    if out["buy_budget_usd_per_hour"] > 0:  # configured: its trigger and what it does with what it buys
        s = evm.sim_sqrt_from_x96(int(p.reserve.buyBackTriggerX96()), bool(p.reserve.husdIsToken0()))
        out.update(buy_trigger_price=s * s, buy_then="burn" if p.reserve.burnBoughtBack() else "hold")
    return out


def spec_mismatches(p: Protocol) -> list[str]:
    """Where the chain's parameters differ from the spec it was deployed with beyond base-unit rounding (empty: none)."""
    want, out = p.spec.to_dict(), []
    for block, fields in read_back(p).items():
        for name, got in fields.items():
            exp = want[block][name]
            if isinstance(got, dict):  # pools: name -> {"fee_pips": ...}
                got, exp = got["fee_pips"], exp["fee_pips"]
            if isinstance(got, str) or isinstance(exp, str):
                if got != exp:
                    out.append(f"{block}.{name}: chain {got!r} vs spec {exp!r}")
                continue
            if abs(float(got) - float(exp)) > 1e-12 * abs(float(exp)) + 1e-6:
                out.append(f"{block}.{name}: chain {got!r} vs spec {exp!r}")
    return out


# ---------------------------------------------------------------------- pools


def _raw(info: PoolInfo, base, price_usd: float) -> float:
    """Raw pool price for `base` worth `price_usd` of the quote token (1 quote token = $1)."""
    base0 = info.token0.address == base.address
    quote = info.token1 if base0 else info.token0
    return evm.raw_price(price_usd, base0, int(base.decimals()), int(quote.decimals()))


def create_pool(p: Protocol, name: str, base, price_usd: float) -> PoolInfo:
    """Create and initialize `name` (base/USDC) at `price_usd` through the factory."""
    fee, quote = p.spec.pools[name].fee_pips, p.usdc
    p.factory.createPool(base, quote, fee, sender=p.admin)
    pool = p.contracts.at("UniswapV3Pool", p.factory.getPool(base, quote, fee))
    t0, t1 = (base, quote) if int(base.address, 16) < int(quote.address, 16) else (quote, base)
    info = PoolInfo(name=name, pool=pool, fee=fee, token0=t0, token1=t1)
    pool.initialize(evm.sqrt_x96_from_raw(_raw(info, base, price_usd)), sender=p.admin)
    p.pools[name] = info
    return info


def add_liquidity(p: Protocol, info: PoolInfo, provider, budget: dict[str, int], price_low: float, price_high: float) -> int:
    """Mint a position over [price_low, price_high] (price of the non-USDC token in USDC) from `budget`.

    HUSD for the HUSD/USDC pool comes through the PSM (USDC in, HUSD out), so every HUSD in the pool is
    backed; USDC and HYB come from the mock faucet / genesis allocation.
    """
    base = info.token0 if info.token1.address == p.usdc.address else info.token1
    spacing = evm.TICK_SPACING[info.fee]
    lo, hi = sorted((_raw(info, base, price_low), _raw(info, base, price_high)))
    tick_lower = evm.usable_tick(evm.tick_of_raw(lo), spacing, "floor")
    tick_upper = evm.usable_tick(evm.tick_of_raw(hi), spacing, "ceil")
    sqrt_p = int(info.pool.slot0()[0]) / evm.Q96
    liquidity = evm.liquidity_for_amounts(sqrt_p, 1.0001 ** (tick_lower / 2), 1.0001 ** (tick_upper / 2),
                                          budget[info.token0.address], budget[info.token1.address])
    if base.address == p.husd.address:
        psm_usdc = evm.div_up(budget[p.husd.address], int(p.psm.scale()))
        fee_in = int(p.psm.feeInBps())
        psm_usdc = psm_usdc * evm.BPS // (evm.BPS - fee_in) + 1 if fee_in else psm_usdc
        p.usdc.mint(provider, psm_usdc, sender=provider)
        p.usdc.approve(p.psm, psm_usdc, sender=provider)
        p.psm.swapIn(psm_usdc, provider, sender=provider)
    p.usdc.mint(provider, budget[p.usdc.address], sender=provider)
    info.token0.approve(p.router, evm.MAX_UINT256, sender=provider)
    info.token1.approve(p.router, evm.MAX_UINT256, sender=provider)
    p.router.addLiquidity(info.pool, tick_lower, tick_upper, liquidity, provider, sender=provider)
    info.tick_lower, info.tick_upper, info.liquidity = tick_lower, tick_upper, liquidity
    return liquidity


# ---------------------------------------------------------------------- the deployment file


def write_deployment(p: Protocol, path: str | os.PathLike) -> Path:
    """Addresses, decimals, pools, roles and the spec (human units), written atomically."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(p.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out)
    return out


def load_deployment(path: str | os.PathLike, admin, contracts: Contracts | None = None) -> Protocol:
    """The protocol described by a deployment file (`write_deployment`), as contract handles on the
    connected chain, with the spec recorded in it."""
    data = json.loads(Path(path).read_text())
    C = contracts or Contracts.shipped()
    p = Protocol(spec=ProtocolSpec.from_dict(data["params"], f"{path}: params"), admin=admin, contracts=C)
    for name, addr in data["contracts"].items():
        setattr(p, name, C.at(KINDS[name], addr))
    p.tokens = {s: C.at("MockERC20", data["tokens"][s]["address"]) for s in p.spec.tokens}
    p.feeds = {s: C.at("MockAggregator", a) for s, a in data["feeds"].items()}
    t = {tok.address: tok for tok in (*p.tokens.values(), p.husd, p.hyb)}  # a pool's tokens by address
    for name, info in data["pools"].items():
        p.pools[name] = PoolInfo(name=name, pool=C.at("UniswapV3Pool", info["address"]), fee=int(info["fee"]),
                                 token0=t[info["token0"]], token1=t[info["token1"]], tick_lower=int(info["tick_lower"]),
                                 tick_upper=int(info["tick_upper"]), liquidity=int(info["liquidity"]))
    return p


def floor_sqrt_price_limit(info: PoolInfo, hyb, floor_price_usd: float) -> int:
    """The sqrtPriceX96 the backstop's HYB sales may not push the pool beyond (HYB's floor price)."""
    return evm.sqrt_x96_from_raw(_raw(info, hyb, floor_price_usd))

