"""Deploy the whole Tripod protocol (and the real Uniswap v3 pools) with Ape.

One deployer shared by `ape run deploy` (scripts/deploy.py) and the contract test fixtures
(tests/contracts/conftest.py), so the tests exercise exactly what gets deployed. The file name starts
with an underscore so `ape run` does not list it as a command.

Parameters are human units (dollars, bps, seconds) in `DEFAULT_PARAMS`; conversions to base units
happen here, once. Uniswap v3 Factory/Pool come from @uniswap/v3-core's compiled artifacts in
node_modules (ABI + bytecode); the pool maths below (sqrt price, ticks, liquidity) only chooses the
arguments for `initialize` and `mint`, the pool itself does all the AMM work.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import Contract, chain, project
from ape.contracts import ContractContainer
from ethpm_types import ContractType

ROOT = Path(__file__).resolve().parents[1]
UNISWAP_ARTIFACTS = ROOT / "node_modules" / "@uniswap" / "v3-core" / "artifacts" / "contracts"
Q96 = 2**96
MIN_TICK, MAX_TICK = -887272, 887272
TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
WAD = 10**18
MAX_UINT256 = 2**256 - 1

# The protocol's parameters, in human units. The simulator reads them back from the deployment file.
DEFAULT_PARAMS: dict[str, Any] = {
    "tokens": {  # symbol -> decimals of the mock tokens deployed on a local chain
        "USDC": 6,
        "TBILL": 6,  # tokenized T-bill fund token (NAV-priced)
        "WBTC": 8,
        "PAXG": 18,
    },
    # symbol -> USD feed: initial price, heartbeat (s), max jump per round (bps), max drift over the last
    # 6 rounds (bps), hard band (USD; every feed has one)
    "feeds": {
        "USDC": {"price_usd": 1.0, "decimals": 8, "heartbeat_s": 86_400, "max_deviation_bps": 200, "max_drift_bps": 500,
                 "min_usd": 0.95, "max_usd": 1.05},
        "TBILL": {"price_usd": 1.0, "decimals": 8, "heartbeat_s": 86_400, "max_deviation_bps": 100, "max_drift_bps": 300,
                  "min_usd": 0.9, "max_usd": 2.0},
        "WBTC": {"price_usd": 95_000.0, "decimals": 8, "heartbeat_s": 3_600, "max_deviation_bps": 1_500, "max_drift_bps": 4_000,
                 "min_usd": 1_000.0, "max_usd": 10_000_000.0},
        "PAXG": {"price_usd": 2_650.0, "decimals": 8, "heartbeat_s": 86_400, "max_deviation_bps": 1_000, "max_drift_bps": 2_500,
                 "min_usd": 100.0, "max_usd": 100_000.0},
    },
    "oracle": {"grace_period_s": 900},  # a round up to 15 min past its heartbeat is late, not an outage
    "minter": {
        "mint_fee_bps": 5,
        "redeem_fee_bps": 10,
        "max_mint_per_block_usd": 1_000_000,
        "max_mint_per_hour_usd": 5_000_000,
        "max_redeem_per_block_usd": 1_000_000,
        "max_redeem_per_hour_usd": 5_000_000,
    },
    "psm": {"fee_in_bps": 0, "fee_out_bps": 5, "ceiling_usd": 50_000_000},
    "staking": {"cooldown_s": 7 * 86_400, "vesting_period_s": 8 * 3_600},
    "hedge": {"max_drift_bps": 200, "drift_buffer_usd": 10_000, "max_report_age_s": 6 * 3_600,
              "markets": {"BTC-PERP": "WBTC", "XAU-PERP": "PAXG"}},
    "reserve": {"max_payout_per_day_usdc": 1_000_000},
    "guardian": {"min_backing_ratio_bps": 9_900},
    "hyb": {"cap": 1_000_000_000, "emission_per_day": 10_000_000, "genesis": 100_000_000, "price_usd": 0.5},
    "backstop": {"max_hyb_per_day": 5_000_000, "floor_price_usd": 0.1},
    "pools": {
        "HUSD/USDC": {"fee": 100, "price_low": 0.99, "price_high": 1.01, "husd": 2_000_000, "usdc": 2_000_000},
        "HYB/USDC": {"fee": 3000, "price_low": 0.05, "price_high": 5.0, "hyb": 10_000_000, "usdc": 2_000_000},
    },
}


def merged_params(overrides: dict | None = None) -> dict:
    """DEFAULT_PARAMS deep-merged with `overrides` (nested dicts merge, other values replace)."""

    def merge(base: dict, over: dict) -> dict:
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
        return out

    return merge(DEFAULT_PARAMS, overrides or {})


# ---------------------------------------------------------------------- Uniswap v3 artifacts and maths


def uniswap_contract_type(name: str) -> ContractType:
    art = json.loads((UNISWAP_ARTIFACTS / f"{name}.sol" / f"{name}.json").read_text())
    return ContractType.model_validate(
        {
            "contractName": art["contractName"],
            "sourceId": art["sourceName"],
            "abi": art["abi"],
            "deploymentBytecode": {"bytecode": art["bytecode"]},
            "runtimeBytecode": {"bytecode": art["deployedBytecode"]},
        }
    )


def raw_price(price_usd_of_token0_in_token1: float, dec0: int, dec1: int) -> float:
    """Pool price (token1 base units per token0 base unit) from a human price."""
    return price_usd_of_token0_in_token1 * 10**dec1 / 10**dec0


def sqrt_price_x96(raw: float) -> int:
    return int(math.sqrt(raw) * Q96)


def tick_at(raw: float, spacing: int, round_up: bool = False) -> int:
    t = math.log(raw) / math.log(1.0001)
    t = math.ceil(t / spacing) if round_up else math.floor(t / spacing)
    return max(MIN_TICK // spacing * spacing + spacing, min(MAX_TICK // spacing * spacing - spacing, t * spacing))


def liquidity_for_amounts(sqrt_p: float, sqrt_a: float, sqrt_b: float, amount0: int, amount1: int) -> int:
    """Uniswap's LiquidityAmounts.getLiquidityForAmounts in floats (sqrt prices unscaled), shaved 0.1%."""
    if sqrt_p <= sqrt_a:
        liq = amount0 * sqrt_a * sqrt_b / (sqrt_b - sqrt_a)
    elif sqrt_p >= sqrt_b:
        liq = amount1 / (sqrt_b - sqrt_a)
    else:
        liq = min(amount0 * sqrt_p * sqrt_b / (sqrt_b - sqrt_p), amount1 / (sqrt_p - sqrt_a))
    return int(liq * 0.999)


@dataclass
class PoolInfo:
    name: str
    pool: Any
    fee: int
    token0: Any
    token1: Any
    tick_lower: int = 0
    tick_upper: int = 0
    liquidity: int = 0

    def to_json(self) -> dict:
        return {
            "address": self.pool.address,
            "fee": self.fee,
            "token0": self.token0.address,
            "token1": self.token1.address,
            "tick_lower": self.tick_lower,
            "tick_upper": self.tick_upper,
            "liquidity": str(self.liquidity),
        }


# ---------------------------------------------------------------------- the protocol


@dataclass
class Protocol:
    """Every deployed contract, by role, plus the parameters used."""

    params: dict
    admin: Any
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

    @property
    def usdc(self):
        return self.tokens["USDC"]

    def units(self, symbol: str, amount: float) -> int:
        """Human amount -> base units of a token."""
        dec = 18 if symbol in ("HUSD", "HYB", "sHUSD") else self.params["tokens"][symbol]
        return int(round(amount * 10**dec))

    def feed_answer(self, symbol: str, price_usd: float) -> int:
        return int(round(price_usd * 10 ** self.params["feeds"][symbol]["decimals"]))

    def contracts_json(self) -> dict:
        names = ["oracle", "husd", "shusd", "minter", "ledger", "reserve", "psm", "hyb", "backstop", "guardian", "router", "factory"]
        return {n: getattr(self, n).address for n in names}

    def to_json(self) -> dict:
        provider = chain.provider
        return {
            "network": f"{provider.network.ecosystem.name}:{provider.network.name}:{provider.name}",
            "chain_id": chain.chain_id,
            "block": chain.blocks.head.number,
            "admin": self.admin.address,
            "contracts": self.contracts_json(),
            "tokens": {
                **{s: {"address": t.address, "decimals": int(t.decimals())} for s, t in self.tokens.items()},
                "HUSD": {"address": self.husd.address, "decimals": 18},
                "sHUSD": {"address": self.shusd.address, "decimals": 18},
                "HYB": {"address": self.hyb.address, "decimals": 18},
            },
            "feeds": {s: f.address for s, f in self.feeds.items()},
            "pools": {n: p.to_json() for n, p in self.pools.items()},
            "roles": {
                name: "0x" + bytes(getattr(self.minter, name)()).hex()
                for name in ("MINTER_ROLE", "REDEEMER_ROLE", "GUARDIAN_ROLE", "TREASURER_ROLE")
            },
            "params": self.params,
        }


def deploy_protocol(
    admin, params: dict | None = None, roles: dict[str, list] | None = None, seed_pools: bool = True, existing: dict | None = None
) -> Protocol:
    """Deploy the protocol, its pools and (unless given) the tokens, feeds and Uniswap v3 factory; wire every role.

    `roles` maps a role to the accounts that get it: minter, redeemer, operator, keeper, guardian,
    rewarder, treasurer, funding_payer, coverer. Without it `admin` gets every role. `venue` lists the
    exchange accounts the Minter may move collateral to (none by default).

    `existing` = {"tokens": {symbol: address}, "feeds": {symbol: address}, "factory": address} uses
    tokens, USD feeds and a Uniswap v3 factory already on the chain (node A's base state on a fork, or
    mainnet's USDC/WBTC/PAXG, Chainlink feeds and factory) instead of deploying mocks; any part left
    out is deployed. Token decimals and feed decimals are then read from the chain.
    """
    params = merged_params(params)
    existing = existing or {}
    roles = roles if roles is not None else {}
    everyone = [admin]
    get = lambda r: roles.get(r, everyone)  # noqa: E731
    tx = {"sender": admin}
    p = Protocol(params=params, admin=admin)

    # Tokens and feeds: the chain's own (existing), or test doubles on a local chain.
    for sym, dec in params["tokens"].items():
        if sym in existing.get("tokens", {}):
            p.tokens[sym] = project.MockERC20.at(existing["tokens"][sym])  # only its ERC-20 functions are used
            params["tokens"][sym] = int(p.tokens[sym].decimals())
        else:
            p.tokens[sym] = admin.deploy(project.MockERC20, f"Mock {sym}", sym, dec)
    p.oracle = admin.deploy(project.OracleRouter, admin, params["oracle"]["grace_period_s"])
    for sym, f in params["feeds"].items():
        if sym in existing.get("feeds", {}):
            agg = project.MockAggregator.at(existing["feeds"][sym])  # AggregatorV3Interface reads only
            f["decimals"] = int(agg.decimals())
        else:
            agg = admin.deploy(project.MockAggregator, f["decimals"], f"{sym} / USD", p.feed_answer(sym, f["price_usd"]))
        p.feeds[sym] = agg
        p.oracle.setFeed(
            p.tokens[sym], agg, f["heartbeat_s"], f["max_deviation_bps"], f["max_drift_bps"], int(f["min_usd"] * WAD),
            int(f["max_usd"] * WAD), **tx
        )

    # Core.
    p.husd = admin.deploy(project.HUSD, admin)
    p.reserve = admin.deploy(project.ReserveFund, admin)
    m = params["minter"]
    caps = [int(m[k] * WAD) for k in ("max_mint_per_block_usd", "max_mint_per_hour_usd", "max_redeem_per_block_usd", "max_redeem_per_hour_usd")]
    p.minter = admin.deploy(project.Minter, admin, p.husd, p.oracle, m["mint_fee_bps"], m["redeem_fee_bps"], caps)
    s = params["psm"]
    p.psm = admin.deploy(
        project.PegStabilityModule, admin, p.husd, p.usdc, s["fee_in_bps"], s["fee_out_bps"], int(s["ceiling_usd"] * WAD)
    )
    p.psm.setOracle(p.oracle, **tx)  # no mint at par against USDC the router cannot price
    h = params["hedge"]
    p.ledger = admin.deploy(
        project.HedgeLedger, admin, p.oracle, p.minter, h["max_drift_bps"], int(h["drift_buffer_usd"] * WAD), h["max_report_age_s"]
    )
    st = params["staking"]
    p.shusd = admin.deploy(project.StakedHUSD, admin, p.husd, st["cooldown_s"], st["vesting_period_s"])
    y = params["hyb"]
    p.hyb = admin.deploy(project.HYB, admin, int(y["cap"] * WAD), int(y["emission_per_day"] * WAD), admin, int(y["genesis"] * WAD))

    # Wiring.
    p.husd.grantRole(p.husd.MINTER_ROLE(), p.minter, **tx)
    p.husd.grantRole(p.husd.MINTER_ROLE(), p.psm, **tx)
    p.shusd.grantRole(p.shusd.REWARDER_ROLE(), p.minter, **tx)  # Minter.distributeRewards feeds the vault
    p.minter.setRewardVault(p.shusd, **tx)
    for sym in params["tokens"]:
        p.minter.setCollateral(p.tokens[sym], True, **tx)
    for market, sym in h["markets"].items():
        p.ledger.addMarket(market_id(market), p.tokens[sym], **tx)
    for sym in params["tokens"]:
        p.ledger.trackAsset(p.tokens[sym], **tx)
    p.minter.setHedgeLedger(p.ledger, **tx)
    p.ledger.addCustodian(p.psm, **tx)
    p.reserve.setPayoutLimit(p.usdc, p.units("USDC", params["reserve"]["max_payout_per_day_usdc"]), **tx)

    # Uniswap v3: the real factory, then pools.
    if existing.get("factory"):
        p.factory = Contract(existing["factory"], contract_type=uniswap_contract_type("UniswapV3Factory"))
    else:
        p.factory = admin.deploy(ContractContainer(uniswap_contract_type("UniswapV3Factory")))
    if int(p.factory.feeAmountTickSpacing(100)) == 0:
        # The 0.01% tier is not in the v1.0.1 factory's constructor; Uniswap governance enabled it on
        # mainnet with exactly this call (fee 100, tick spacing 1).
        p.factory.enableFeeAmount(100, 1, **tx)
    p.router = admin.deploy(project.PoolRouter)
    husd_pool = create_pool(p, "HUSD/USDC", p.husd, p.usdc, 1.0)
    hyb_pool = create_pool(p, "HYB/USDC", p.hyb, p.usdc, y["price_usd"])

    b = params["backstop"]
    limit = floor_sqrt_price_limit(hyb_pool, p.hyb, b["floor_price_usd"])
    p.backstop = admin.deploy(project.Backstop, admin, p.hyb, p.usdc, hyb_pool.pool, p.reserve, int(b["max_hyb_per_day"] * WAD), limit)
    p.hyb.grantRole(p.hyb.MINTER_ROLE(), p.backstop, **tx)
    p.guardian = admin.deploy(
        project.Guardian, admin, p.minter, p.psm, p.oracle, p.ledger, p.husd, params["guardian"]["min_backing_ratio_bps"]
    )
    p.minter.grantRole(p.minter.GUARDIAN_ROLE(), p.guardian, **tx)
    p.psm.grantRole(p.psm.GUARDIAN_ROLE(), p.guardian, **tx)
    for sym in params["feeds"]:
        p.guardian.watchAsset(p.tokens[sym], **tx)

    # Roles for people.
    for acct in get("minter"):
        p.minter.grantRole(p.minter.MINTER_ROLE(), acct, **tx)
    for acct in get("redeemer"):
        p.minter.grantRole(p.minter.REDEEMER_ROLE(), acct, **tx)
    for acct in get("treasurer"):
        p.minter.grantRole(p.minter.TREASURER_ROLE(), acct, **tx)
    for acct in get("guardian"):
        p.guardian.grantRole(p.guardian.GUARDIAN_ROLE(), acct, **tx)
    for acct in get("operator"):
        p.ledger.grantRole(p.ledger.OPERATOR_ROLE(), acct, **tx)
    for acct in get("keeper"):
        p.backstop.grantRole(p.backstop.KEEPER_ROLE(), acct, **tx)
    for acct in get("rewarder"):
        p.shusd.grantRole(p.shusd.REWARDER_ROLE(), acct, **tx)
    for acct in get("funding_payer"):
        p.reserve.grantRole(p.reserve.FUNDING_PAYER_ROLE(), acct, **tx)
    for acct in get("coverer"):
        p.reserve.grantRole(p.reserve.COVERER_ROLE(), acct, **tx)
    for acct in roles.get("venue", []):
        p.minter.setDestination(acct, True, **tx)

    if seed_pools:
        pc = params["pools"]["HUSD/USDC"]
        add_liquidity(p, husd_pool, admin, {p.husd.address: p.units("HUSD", pc["husd"]), p.usdc.address: p.units("USDC", pc["usdc"])},
                      pc["price_low"], pc["price_high"])
        pc = params["pools"]["HYB/USDC"]
        add_liquidity(p, hyb_pool, admin, {p.hyb.address: p.units("HYB", pc["hyb"]), p.usdc.address: p.units("USDC", pc["usdc"])},
                      pc["price_low"], pc["price_high"])
    return p


def market_id(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def _human_to_raw(info: PoolInfo, base_token, price_usd: float) -> float:
    """Raw pool price for `base_token` worth `price_usd` of the quote token (1 quote token = $1)."""
    d0, d1 = int(info.token0.decimals()), int(info.token1.decimals())
    if info.token0.address == base_token.address:
        return raw_price(price_usd, d0, d1)
    return raw_price(1.0 / price_usd, d0, d1)


def create_pool(p: Protocol, name: str, base, quote, price_usd: float) -> PoolInfo:
    fee = p.params["pools"][name]["fee"]
    p.factory.createPool(base, quote, fee, sender=p.admin)
    addr = p.factory.getPool(base, quote, fee)
    pool = Contract(addr, contract_type=uniswap_contract_type("UniswapV3Pool"))
    t0, t1 = (base, quote) if int(base.address, 16) < int(quote.address, 16) else (quote, base)
    info = PoolInfo(name=name, pool=pool, fee=fee, token0=t0, token1=t1)
    pool.initialize(sqrt_price_x96(_human_to_raw(info, base, price_usd)), sender=p.admin)
    p.pools[name] = info
    return info


def add_liquidity(p: Protocol, info: PoolInfo, provider, budget: dict[str, int], price_low: float, price_high: float) -> int:
    """Mint a position over [price_low, price_high] (price of the non-USDC token in USDC) from `budget`.

    HUSD for the HUSD/USDC pool comes through the PSM (USDC in, HUSD out), so every HUSD in the pool
    is backed; USDC and HYB come from the mock faucet / genesis allocation.
    """
    base = info.token0 if info.token1.address == p.usdc.address else info.token1
    spacing = TICK_SPACING[info.fee]
    lo, hi = _human_to_raw(info, base, price_low), _human_to_raw(info, base, price_high)
    lo, hi = min(lo, hi), max(lo, hi)
    tick_lower, tick_upper = tick_at(lo, spacing), tick_at(hi, spacing, round_up=True)
    sqrt_p = int(info.pool.slot0()[0]) / Q96
    liquidity = liquidity_for_amounts(
        sqrt_p, 1.0001 ** (tick_lower / 2), 1.0001 ** (tick_upper / 2), budget[info.token0.address], budget[info.token1.address]
    )
    need_usdc = budget[p.usdc.address]
    if base.address == p.husd.address:
        psm_usdc = -(-budget[p.husd.address] // p.psm.scale())
        fee_in = int(p.psm.feeInBps())
        psm_usdc = psm_usdc * 10_000 // (10_000 - fee_in) + 1 if fee_in else psm_usdc
        p.usdc.mint(provider, psm_usdc, sender=provider)
        p.usdc.approve(p.psm, psm_usdc, sender=provider)
        p.psm.swapIn(psm_usdc, provider, sender=provider)
    p.usdc.mint(provider, need_usdc, sender=provider)
    info.token0.approve(p.router, MAX_UINT256, sender=provider)
    info.token1.approve(p.router, MAX_UINT256, sender=provider)
    p.router.addLiquidity(info.pool, tick_lower, tick_upper, liquidity, provider, sender=provider)
    info.tick_lower, info.tick_upper, info.liquidity = tick_lower, tick_upper, liquidity
    return liquidity


def floor_sqrt_price_limit(info: PoolInfo, hyb, floor_price_usd: float) -> int:
    """The sqrtPriceX96 the backstop's HYB sales may not push the pool beyond (HYB's floor price)."""
    return sqrt_price_x96(_human_to_raw(info, hyb, floor_price_usd))


def write_deployment(p: Protocol, path: str | os.PathLike) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(p.to_json(), indent=2, sort_keys=True) + "\n")
    return out
