"""Replay one simulated run as real transactions and compare the chain's state with the model's.

`replay(run_dir, run=K, network=...)` reads `RUN_DIR/trajectories.parquet` (written by
`tripod run ... --all-columns`) and `RUN_DIR/scenario.json`, deploys the protocol with the
scenario's parameters and a HUSD/USDC Uniswap v3 pool with the scenario's `pool.ranges`, then per
step:

1. advances the chain clock to the step's hour (`chain.mine(timestamp=...)`, hour-aligned);
2. pushes the oracle prices (BTC, gold, T-bill NAV; USDC twice a day for its heartbeat);
3. reports the short perps (notional = short units x price, margin) to the HedgeLedger;
4. runs the step's supply deltas as transactions: PSM `swapIn`/`swapOut` for the PSM leg, Minter
   `mint`/`redeem` with USDC (arbitrageur role) for the rest;
5. syncs the Minter's custody balances to the model's sleeves (mock-token mint/burn: the model's
   treasury operations -- hedge rebalancing, T-bill redemptions -- are not transactions yet);
6. moves the reserve fund by the model's delta (`deposit` / `payFunding`, under its daily limit);
7. scales the pool's positions to the model's `pool_depth` and moves the real pool to the model's
   price with one swap bounded by `sqrtPriceLimitX96`, comparing the swap's amounts with the
   simulator's pool maths (`sim.model.amm.amounts_to_reach`) on the chain's own (tick-snapped) curve;
8. reads supply, pool price, reserve, backing, HYB price, caps used back from the chain.

A transaction the chain refuses is recorded (step, action, reason) and the replay goes on: that is a
finding, never hidden. A node that stops answering raises `ReplayNodeError`; results are written
only at the end, atomically (temp file + rename), so a killed node leaves no half-written file.

Ape is imported inside the functions only.
"""
from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.chain import units as U
from sim.chain.node import ROOT, AnvilNode, NodeError

FIELDS = ("supply", "pool_price", "reserve_fund", "backing", "hyb_price", "psm_usdc", "mint_cap_used", "redeem_cap_used",
          "mint_paused")
DUST_USD = 1e-6  # model deltas below this are float noise, not actions
MIN_SQRT_X96, MAX_SQRT_X96 = 4295128740, 1461446703485210103287273052203988822378723970341  # Uniswap's bounds, +-1
ROUNDING_CLAMP_WAD = 10**14  # a PSM amount is trimmed to fit the chain only when the excess is base-unit rounding ($1e-4)
FORK = "fork"
# Ape's own fork provider over node A: the custom network `tripod-node-a` (ape-config.yaml) forked by
# ape-foundry, its upstream given per connection (node A runs on a free port).
APE_FORK = "ethereum:tripod-node-a-fork:foundry"
# The mainnet path: the same Ape fork provider with mainnet as upstream (TRIPOD_FORK_RPC_URL, pinned at
# TRIPOD_FORK_BLOCK), real tokens and factory; the feeds the protocol reads are the replay's own (a
# replay moves prices along the model's path, which real Chainlink aggregators cannot do), seeded by
# the real feeds listed for reference; whales to impersonate from TRIPOD_FORK_WHALES ("USDC=0x..,WBTC=0x..").
MAINNET_FORK = "ethereum:mainnet-fork:foundry"
MAINNET = {
    "tokens": {"USDC": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "WBTC": "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
               "PAXG": "0x45804880De22913dAFE09f4980848ECE6EcbAf78"},  # TBILL: a mock (no freely transferable fund token)
    "reference_feeds": {"USDC": "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6",  # Chainlink USDC / USD
                        "WBTC": "0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c",  # Chainlink BTC / USD
                        "PAXG": "0x214eD9Da11D2fbe465a6fc601a91E62EbEc1a0D6"},  # Chainlink XAU / USD
    "factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",  # Uniswap v3 (0.01 % tier enabled by governance)
}


def mainnet_base() -> dict:
    """MAINNET with the whales named in TRIPOD_FORK_WHALES (symbol=address, comma-separated)."""
    whales = {}
    for item in filter(None, os.environ.get("TRIPOD_FORK_WHALES", "").split(",")):
        sym, _, addr = item.partition("=")
        whales[sym.strip().upper()] = addr.strip()
    return {**MAINNET, "whales": whales}


def ape_fork_settings(network_name: str, upstream: str, block: int | None = None) -> dict:
    """Provider settings for ape-foundry's fork of `network_name`: upstream URI per connection, a free port."""
    fork = {"upstream_provider": upstream}
    if block is not None:
        fork["block_number"] = int(block)
    return {"host": "auto", "fork": {"ethereum": {network_name: fork}}}
STEP_GAS_LIMIT = 25_000_000  # --network value: start node A, fork it, replay on the fork


class ReplayError(RuntimeError):
    """A replay that cannot start (bad run directory, run index, network)."""


class ReplayNodeError(ReplayError):
    """The node stopped answering mid-replay."""


@dataclass
class ReplayResult:
    frame: "object"  # pandas DataFrame, one row per step
    summary: dict
    reverts: list[dict] = field(default_factory=list)
    chain: dict = field(default_factory=dict)  # handles of the deployed contracts (while connected)


# ----------------------------------------------------------------------------- inputs


NEEDED_COLUMNS = {
    "run", "hour", "btc_usd", "xau_usd", "supply", "minted_husd", "burned_husd", "psm_usdc", "psm_minted",
    "reserve_fund_usd", "pool_sqrt_price", "pool_depth", "backing_usd", "tbill_units", "tbill_nav", "btc_units",
    "xau_units", "buffer_usd", "btc_margin_usd", "xau_margin_usd", "btc_short_units", "xau_short_units",
    "hyb_price", "mint_cap_used_usd", "redeem_cap_used_usd", "tbill_pending_usd", "staker_rewards_usd",
    "hyb_sqrt_price", "hyb_sold", "cum_backstop_in", "mint_paused", "reserve_added_usd"}
# recorded columns a re-simulation must reproduce before it stands in for the run directory
_CHECKED = ("supply", "backing_usd", "reserve_fund_usd", "peg_price", "psm_usdc", "minted_husd", "burned_husd")


def load_run(run_dir: str | os.PathLike, run: int = 0, steps: int | None = None):
    """(scenario, per-step DataFrame of run `run`) from a `tripod run` directory.

    A directory written without `--all-columns` lacks state the replay needs (the PSM's debt, the pool's
    sqrt price, ...): run `run` is then simulated again from its scenario.json (same seed; randomness is
    keyed by (seed, run)) with every column, and checked against the columns that were recorded.
    """
    from sim.config import parse_scenario
    from sim.parquet import read_frame

    run_dir = Path(run_dir)
    traj, scen = run_dir / "trajectories.parquet", run_dir / "scenario.json"
    if not traj.exists() or not scen.exists():
        raise ReplayError(f"{run_dir}: not a run directory (needs trajectories.parquet and scenario.json from `tripod run`)")
    sc = parse_scenario(json.loads(scen.read_text()), str(scen))
    df = read_frame(traj)  # single-threaded: a threaded read can abort the process at exit (sim.parquet)
    runs = sorted(int(r) for r in df["run"].unique())
    if run not in runs:
        raise ReplayError(f"{traj}: no run {run} (runs {runs[0]}..{runs[-1]})")
    d = df[df["run"] == run].sort_values("hour").reset_index(drop=True)
    missing = sorted(NEEDED_COLUMNS - set(df.columns))
    if missing:
        d = _resimulate(sc, run, d, traj, missing)
    if steps is not None:
        d = d.iloc[: steps + 1].reset_index(drop=True)
    return sc, d


def _resimulate(sc, run: int, recorded, traj: Path, missing: list[str]):
    """Run `run` of `sc` with every column, after checking it reproduces the recorded columns."""
    from sim.runner import run as simulate

    full = simulate(sc, runs=run + 1, record="all").frame
    d = full[full["run"] == run].sort_values("hour").reset_index(drop=True)
    for col in _CHECKED:
        if col in recorded.columns and col in d.columns:
            a, b = recorded[col].to_numpy(float), d[col].to_numpy(float)
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True):
                raise ReplayError(f"{traj}: recorded without {missing[:3]}... and simulating run {run} again does not "
                                  f"reproduce its {col!r} (the model changed?): run the scenario with "
                                  f"`tripod run ... --all-columns`")
    d.attrs["resimulated"] = f"run {run} simulated again from scenario.json (seed {sc.seed}) for {len(missing)} missing columns"
    return d


# ----------------------------------------------------------------------------- network


@contextmanager
def connected(network: str = FORK, log_dir: str | os.PathLike | None = None, upstream: str | None = None,
              base: dict | None = None, fork: str | None = None, block: int | None = None):
    """Connect Ape to `network`; with `fork`, start node A and a fork of it, and stop both after.
    `upstream`: the URI of a node A already running (its base state deployed, `base` its addresses):
    only the fork is started. `fork`: the URI of a fork of node A already running: nothing is started.
    `block`: pin Ape's fork (APE_FORK, MAINNET_FORK) at this upstream block.

    Yields a dict with `nodes` (the AnvilNodes started, possibly empty), `network` and `base` (node A's
    base-state addresses: tokens, feeds, factory, whale; None off the fork or when unknown).
    """
    _ape_env()
    from ape import networks
    from ape.logging import logger

    logger.set_level("WARNING")
    nodes: list[AnvilNode] = []
    try:
        if network == APE_FORK:
            if upstream is None:
                node_a = AnvilNode(log_path=(Path(log_dir) / "node-a.log") if log_dir else None).start()
                nodes.append(node_a)
                base = deploy_base_state(node_a.uri)
                upstream = node_a.uri
            # ape-foundry starts (and stops) the fork itself: `anvil --fork-url <node A>` on a free port
            choice, settings = APE_FORK, ape_fork_settings("tripod-node-a", upstream, block)
        elif network == MAINNET_FORK:
            upstream = upstream or os.environ.get("TRIPOD_FORK_RPC_URL")
            if not upstream:
                raise ReplayError(f"{MAINNET_FORK} needs an RPC endpoint: set TRIPOD_FORK_RPC_URL (and TRIPOD_FORK_BLOCK)")
            if block is None and os.environ.get("TRIPOD_FORK_BLOCK"):
                block = int(os.environ["TRIPOD_FORK_BLOCK"])
            base = base or mainnet_base()
            choice, settings = MAINNET_FORK, ape_fork_settings("mainnet", upstream, block)
        elif network == FORK:
            log = Path(log_dir) if log_dir else None
            if fork is None:
                if upstream is None:
                    node_a = AnvilNode(log_path=(log / "node-a.log") if log else None).start()
                    nodes.append(node_a)
                    base = deploy_base_state(node_a.uri)
                    upstream = node_a.uri
                fork_node = AnvilNode(fork_url=upstream, log_path=(log / "fork.log") if log else None).start()
                nodes.append(fork_node)
                fork = fork_node.uri
            choice, settings = "ethereum:local:foundry", {"host": fork}
        else:
            choice, settings = network, {}
        active = networks.active_provider
        if active is not None and active.is_connected and network not in (FORK, APE_FORK, MAINNET_FORK) \
                and _choice(active) == choice:
            ctx = nullcontext(active)
        else:
            try:
                ctx = networks.parse_network_choice(choice, provider_settings=settings or None)
            except Exception as err:  # noqa: BLE001 - Ape raises several types for a bad choice
                raise ReplayError(f"network {network!r}: {str(err).splitlines()[0]}") from None
        with ctx:
            on_fork = network in (FORK, APE_FORK, MAINNET_FORK)
            where = (f"{network} over mainnet (block {block or 'latest'})" if network == MAINNET_FORK
                     else f"{network} over node A ({upstream}{', block ' + str(block) if block is not None else ''})"
                     if network == APE_FORK
                     else f"fork of node A ({upstream or 'running fork ' + fork})" if network == FORK else network)
            yield {"nodes": nodes, "network": where, "base": base if on_fork else None}
    finally:
        for n in reversed(nodes):
            n.stop()


def _choice(provider) -> str:
    return f"{provider.network.ecosystem.name}:{provider.network.name}:{provider.name}"


def _ape_env() -> None:
    os.environ.setdefault("APE_DATA_FOLDER", str(ROOT / ".ape"))
    os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if Path.cwd() != ROOT:  # Ape's `project` is the working directory's project
        os.chdir(ROOT)


# Node A's whale: an address nobody has the key of (like a mainnet holder); a fork impersonates it.
WHALE = "0x00000000000000000000000000000000000fa11e"
WHALE_HOLDINGS = {"USDC": 10**12, "TBILL": 10**12, "WBTC": 10**7, "PAXG": 10**8}  # whole tokens


def deploy_base_state(uri: str) -> dict:
    """Node A's "mainnet-like" base state: USDC, T-bill fund token, WBTC-, PAXG-like tokens (held by
    `WHALE`), USD feeds and the Uniswap v3 factory (0.01% tier enabled), deployed from the first test
    account with the project's own contract types (scripts/_protocol.py). Returns their addresses."""
    _ape_env()
    from ape import accounts, networks, project
    from ape.contracts import ContractContainer

    from scripts._protocol import DEFAULT_PARAMS, uniswap_contract_type

    with networks.parse_network_choice("ethereum:local:foundry", provider_settings={"host": uri}):
        admin = accounts.test_accounts[0]
        out = {"tokens": {}, "feeds": {}, "whale": WHALE}
        for sym, dec in DEFAULT_PARAMS["tokens"].items():
            tok = admin.deploy(project.MockERC20, f"Mock {sym}", sym, dec)
            tok.mint(WHALE, WHALE_HOLDINGS[sym] * 10**dec, sender=admin)  # the holder a fork impersonates
            out["tokens"][sym] = tok.address
        for sym, f in DEFAULT_PARAMS["feeds"].items():
            agg = admin.deploy(project.MockAggregator, f["decimals"], f"{sym} / USD", U.feed_answer(f["price_usd"], f["decimals"]))
            out["feeds"][sym] = agg.address
        factory = admin.deploy(ContractContainer(uniswap_contract_type("UniswapV3Factory")))
        factory.enableFeeAmount(100, 1, sender=admin)
        out["factory"] = factory.address
    return out


# ----------------------------------------------------------------------------- chain set-up


class _Chain:
    """The deployed protocol, the replay's actor (a ReplayStepper contract) and the bookkeeping.

    Genesis (initial supply, reserve, pool positions) runs as ordinary transactions; each simulated
    step is then ONE transaction: `ReplayStepper.step(calls)` runs the step's calls one by one and
    reports each revert (`CallFailed`) without undoing the others, then one `readWords` eth_call
    reads the state back.
    """

    def __init__(self, sc, row0, node: AnvilNode | None, base: dict | None = None):
        from ape import accounts, chain, project

        from scripts._protocol import deploy_protocol, market_id

        self.chain, self.node = chain, node
        self.reverts: list[dict] = []
        self.gas = 0
        self.step = 0
        self.calls: list[tuple[str, str, bytes]] = []
        self.admin, self.arb = accounts.test_accounts[0], accounts.test_accounts[1]
        p = sc.protocol
        self.fee_bps = dict(mint=int(round(p.fees.mint_fee_bps)), redeem=int(round(p.fees.redeem_fee_bps)),
                            psm=int(round(p.psm.fee_bps)))
        huge = 10**15
        vesting_s = int(round(float(p.revenue.distribution_interval_hours) * 3600))
        from sim.model.params import hyb_liquidity

        hyb_L, *hyb_bounds = hyb_liquidity(sc.pool.hyb_pool_usd, sc.pool.hyb_price_start)
        overrides = {
            "feeds": {"WBTC": {"price_usd": float(row0.btc_usd)}, "PAXG": {"price_usd": float(row0.xau_usd)},
                      "TBILL": {"price_usd": float(row0.tbill_nav)}},
            # genesis mints the model's initial supply at par (fees 0, caps lifted); the scenario's fees
            # and caps are set right after it
            "minter": {"mint_fee_bps": 0, "redeem_fee_bps": 0,
                       "max_mint_per_block_usd": huge, "max_mint_per_hour_usd": huge,
                       "max_redeem_per_block_usd": huge, "max_redeem_per_hour_usd": huge},
            "psm": {"fee_in_bps": 0, "fee_out_bps": 0, "ceiling_usd": float(p.psm.ceiling_usd)},
            # staker rewards every distribution interval: the previous batch must have vested by then
            "staking": {"vesting_period_s": vesting_s},
            "reserve": {"max_payout_per_day_usdc": float(p.reserve.max_draw_usd_per_hour) * 24},
            "pools": {"HUSD/USDC": {"fee": int(round(sc.pool.fee_fraction * 1e6))},
                      "HYB/USDC": {"fee": int(round(sc.pool.hyb_fee_fraction * 1e6))}},
            # HYB: enough supply for the stepper to replay the model's HYB sales (backstop, treasury companies)
            "hyb": {"price_usd": float(sc.pool.hyb_price_start), "cap": 1e15, "genesis": 1e13, "emission_per_day": 1e15},
            # the backstop sells what the model sells; the model's only floor is its HYB position's lower bound
            "backstop": {"max_hyb_per_day": 1e15, "floor_price_usd": float(hyb_bounds[0]) ** 2},
            # the chain's hedge bound must not be the binding constraint of a replay that mirrors the model
            "hedge": {"max_drift_bps": 10_000, "drift_buffer_usd": 1e12},
        }
        existing = None
        if base:  # the chain's tokens, feeds and factory (node A's, or mainnet's); feeds open at the run's first prices
            existing = {k: base[k] for k in ("tokens", "feeds", "factory") if k in base}
            for sym, px in (("WBTC", row0.btc_usd), ("PAXG", row0.xau_usd), ("TBILL", row0.tbill_nav), ("USDC", 1.0)):
                if sym in base.get("feeds", {}):
                    feed = project.MockAggregator.at(base["feeds"][sym])
                    feed.setAnswer(U.feed_answer(float(px), int(feed.decimals())), sender=self.admin)
        self.p = P = deploy_protocol(self.admin, overrides, roles={"minter": [self.arb], "redeemer": [self.arb]},
                                     seed_pools=False, existing=existing)
        self.base = base
        self.market = {"WBTC": market_id("BTC-PERP"), "PAXG": market_id("XAU-PERP")}
        self.pool_info = P.pools["HUSD/USDC"]
        self.pool = self.pool_info.pool
        self.hyb_info = P.pools["HYB/USDC"]
        self.husd0 = self.pool_info.token0.address == P.husd.address
        self.fee_fraction = float(sc.pool.fee_fraction)
        self.caps = (float(p.caps.mint_cap_usd_per_hour), float(p.caps.redeem_cap_usd_per_hour))
        self.usdc_feed_at = -1
        self.selectors = _error_selectors(project)
        self.fast = chain.provider.name == "foundry"  # anvil: the step goes out as a raw transaction

        # The stepper: the replay's arbitrageur, hedge operator, LP and funding payer.
        admin = {"sender": self.admin}
        self.stepper = S = self.admin.deploy(project.ReplayStepper)
        for c, role in ((P.minter, "MINTER_ROLE"), (P.minter, "REDEEMER_ROLE"), (P.minter, "TREASURER_ROLE"),
                        (P.ledger, "OPERATOR_ROLE"), (P.reserve, "FUNDING_PAYER_ROLE"), (P.backstop, "KEEPER_ROLE"),
                        (P.guardian, "GUARDIAN_ROLE")):
            c.grantRole(getattr(c, role)(), S, **admin)
        for tok in (P.husd, P.usdc):
            for spender in (P.minter, P.psm, P.router, P.reserve):
                S.approve(tok, spender, **admin)
        S.approve(P.hyb, P.router, **admin)
        P.minter.setDestination(S, True, **admin)  # the stepper is also the treasury desk: custody moves out to it
        # the model puts the backstop's proceeds in the liquidity buffer: on chain they go to custody
        P.backstop.setReserveFund(P.minter, **admin)
        P.hyb.transfer(S, int(P.hyb.balanceOf(self.admin)), **admin)  # HYB inventory for the model's HYB sales
        self.hyb0 = self.hyb_info.token0.address == P.hyb.address
        self.hyb_position = self._hyb_position(float(hyb_L), hyb_bounds)
        self.chain_paused = False

        # The stepper's inventory: half of node A's whale's holdings (impersonated, as on a mainnet fork),
        # or a mock faucet when the tokens are the protocol's own mocks (no base state).
        self.fund_stepper(accounts)

        # Genesis: the PSM leg through the PSM, the rest minted with USDC (caps lifted), all held by the stepper.
        psm_usdc0 = U.to_units(float(row0.psm_usdc), 6)
        rest = float(row0.supply) - float(row0.psm_minted)
        if psm_usdc0:
            self.add("psm swapIn", P.psm, "swapIn", psm_usdc0, S)
        if rest > 0:
            self.add("minter mint", P.minter, "mint", P.usdc, U.to_units(rest, 6), 0, S)
        self.report_hedges(row0)
        self.sync_custody(row0)
        if row0.reserve_fund_usd > 0:
            self.add("reserve deposit", P.reserve, "deposit", P.usdc, U.to_units(float(row0.reserve_fund_usd), 6))
        self.positions = self._positions(sc)
        self.depth = 0.0
        self.set_depth(float(row0.pool_depth))
        t_lo, t_hi, L_raw = self.hyb_position
        self.add("hyb pool add liquidity", P.router, "addLiquidity", self.hyb_info.pool, t_lo, t_hi, L_raw, S)
        self.ref_curve = self._ref_curve()
        self.flush()
        if self.reverts:
            raise ReplayError(f"genesis failed on chain: {self.reverts}")
        m, r = self.caps
        P.minter.setCaps(U.usd_wad(m), U.usd_wad(m), U.usd_wad(r), U.usd_wad(r), **admin)
        P.minter.setFees(self.fee_bps["mint"], self.fee_bps["redeem"], **admin)
        P.psm.setFees(self.fee_bps["psm"], self.fee_bps["psm"], **admin)
        self.psm_ceiling = int(P.psm.ceiling())
        self.psm_state = (int(P.usdc.balanceOf(P.psm)), int(P.psm.debt()))  # refreshed by every read
        self.clamps: list[dict] = []
        self.move_pool(float(row0.pool_sqrt_price))
        self.move_hyb_pool(float(row0.hyb_sqrt_price))
        self.flush()

    # -- helpers

    def fund_stepper(self, accounts):
        """Half of each token's whale (impersonated: anvil_impersonateAccount; ETH for gas by set_balance),
        or the mock faucet for a token the protocol deployed itself."""
        P, S = self.p, self.stepper
        base = self.base or {}
        for sym, tok in P.tokens.items():
            holder = base.get("whales", {}).get(sym) or (base.get("whale") if sym in base.get("tokens", {}) else None)
            if holder:
                whale = accounts[holder]  # impersonated: nobody has its key
                whale.balance = 10**21
                tok.transfer(S, int(tok.balanceOf(whale)) // 2, sender=whale)
            elif sym in base.get("tokens", {}):
                raise ReplayError(f"no whale to fund the replay with {sym}: name one in TRIPOD_FORK_WHALES ({sym}=0x...)")
            else:
                self.add(f"{sym} faucet", tok, "mint", S, WHALE_HOLDINGS[sym] // 2 * 10 ** int(P.params["tokens"][sym]))

    def _hyb_position(self, L: float, bounds) -> tuple[int, int, int]:
        """The model's one HYB/USDC position (`sim.model.params.hyb_liquidity`) on the pool's tick spacing."""
        from sim.model import amm

        spacing = 60 if self.hyb_info.fee == 3000 else {100: 1, 500: 10, 10000: 200}[self.hyb_info.fee]
        lo, hi = (float(amm.tick_at_price(float(b) ** 2)) for b in bounds)
        t_lo, t_hi = int(np.floor(lo / spacing)) * spacing, int(np.ceil(hi / spacing)) * spacing
        a, b = U.husd_tick_to_pool_tick(t_lo, self.hyb0), U.husd_tick_to_pool_tick(t_hi, self.hyb0)
        return min(a, b), max(a, b), U.liquidity_raw(L)

    def _positions(self, sc):
        """(tick_lower, tick_upper, L_raw at depth 1, sim ticks) per range: the sim's L on the pool's ticks."""
        from sim.model import amm

        out = []
        for r in sc.pool.ranges:  # the same L as amm.Curve.from_usd(ranges, 1.0)
            sa, sb = np.sqrt(r.price_lower), np.sqrt(r.price_upper)
            usd_per_L = (sb - 1.0) / sb + (1.0 - sa)
            L = float(r.usd) / usd_per_L
            t_lo, t_hi = int(amm.tick_at_price(r.price_lower)), int(amm.tick_at_price(r.price_upper))
            a, b = U.husd_tick_to_pool_tick(t_lo, self.husd0), U.husd_tick_to_pool_tick(t_hi, self.husd0)
            out.append((min(a, b), max(a, b), U.liquidity_raw(L), t_lo, t_hi))
        return out

    def _ref_curve(self):
        """The chain's own curve in the simulator's convention (tick-snapped bounds, L at depth 1)."""
        from sim.model import amm

        s_lo = np.array([float(amm.sqrt_price_at_tick(t_lo)) for *_, t_lo, _t in self.positions])
        s_hi = np.array([float(amm.sqrt_price_at_tick(t_hi)) for *_, t_hi in self.positions])
        L = np.array([U.liquidity_whole(L_raw) for _a, _b, L_raw, *_ in self.positions])
        return amm.Curve._from_sqrt_positions(s_lo, s_hi, L)

    def add(self, action: str, contract, method: str, *args):
        """Queue one call of the current step."""
        data = getattr(contract, method).encode_input(*args)
        self.calls.append((action, contract.address, bytes(data)))

    def flush(self):
        """Send the queued calls as one `step` transaction; record each refused call."""
        from ape.exceptions import ContractLogicError, TransactionError

        calls, self.calls = self.calls, []
        if not calls:
            return None
        try:
            if self.fast:
                receipt = self._send_raw(self.stepper.step.encode_input([(t, d) for _a, t, d in calls]))
                if receipt.status == 0:
                    self.gas += receipt.gas_used
                    self.reverts.append({"step": self.step, "action": "step", "reason": "transaction reverted (status 0)"})
                    return None
            else:
                receipt = self.stepper.step([(t, d) for _a, t, d in calls], sender=self.admin, gas_limit=STEP_GAS_LIMIT)
        except (ContractLogicError, TransactionError) as err:  # the whole step refused (out of gas, ...)
            self._check_node()
            self.reverts.append({"step": self.step, "action": "step", "reason": _reason(err)})
            return None
        except Exception as err:  # noqa: BLE001 - a dead node surfaces as many exception types
            self._check_node(err)
            raise
        self.gas += int(getattr(receipt, "gas_used", 0) or 0)
        for ev in receipt.decode_logs(self.stepper.CallFailed):
            i = int(ev.index)
            self.reverts.append({"step": self.step, "action": calls[i][0], "reason": self._decode(bytes(ev.reason))})
        self.last_receipt, self.last_calls = receipt, calls
        return receipt

    def _send_raw(self, data) -> "_RawReceipt":
        """The step transaction straight to anvil (eth_sendTransaction from an account the node holds; the
        node fills nonce and fees; automine), receipt by hash: 2 RPCs where Ape's path takes ~20 a step."""
        req = self.chain.provider.web3.provider.make_request
        tx = {"from": self.admin.address, "to": self.stepper.address, "data": "0x" + bytes(data).hex(),
              "gas": hex(STEP_GAS_LIMIT)}
        out = req("eth_sendTransaction", [tx])
        if "error" in out:
            raise RuntimeError(f"eth_sendTransaction: {out['error']}")
        for wait in (0.0, 0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0):
            time.sleep(wait)
            raw = req("eth_getTransactionReceipt", [out["result"]]).get("result")
            if raw is not None:
                return _RawReceipt(raw)
        raise RuntimeError("no receipt after 4 s (is the node automining?)")

    def _decode(self, data: bytes) -> str:
        if len(data) < 4:
            return "reverted without data"
        name = self.selectors.get(data[:4].hex())
        if name is None and data[:4].hex() == "08c379a0":
            from eth_abi import decode

            return decode(["string"], data[4:])[0]
        args = [str(int.from_bytes(data[k:k + 32], "big", signed=False)) for k in range(4, len(data), 32)][:4]
        return f"{name or '0x' + data[:4].hex()}({', '.join(args)})"

    def _check_node(self, err: Exception | None = None):
        dead = self.node is not None and not self.node.alive()
        if not dead and err is not None:
            try:
                self.chain.provider.web3.eth.chain_id  # noqa: B018
            except Exception:  # noqa: BLE001
                dead = True
        if dead:
            where = self.node.uri if self.node else "the node"
            raise ReplayNodeError(f"{where} stopped answering at step {self.step}") from err

    # -- per-step actions (queued; `flush` sends them)

    def advance(self, ts: int):
        try:
            self.chain.pending_timestamp = int(ts)  # Ape's set_timestamp (anvil: evm_setNextBlockTimestamp)
        except Exception as err:  # noqa: BLE001 - a provider without it: mine an empty block at ts instead
            self._check_node(err)
            self.chain.mine(1, timestamp=ts)

    def push_prices(self, row, hour: int):
        P, f = self.p, self.p.params["feeds"]
        for sym, price in (("WBTC", row.btc_usd), ("PAXG", row.xau_usd), ("TBILL", row.tbill_nav)):
            self.add(f"oracle {sym}", P.feeds[sym], "setAnswer", U.feed_answer(float(price), f[sym]["decimals"]))
        if self.usdc_feed_at < 0 or hour - self.usdc_feed_at >= 12:
            self.add("oracle USDC", P.feeds["USDC"], "setAnswer", U.feed_answer(1.0, f["USDC"]["decimals"]))
            self.usdc_feed_at = hour

    def report_hedges(self, row):
        for sym, units, price, margin in (("WBTC", row.btc_short_units, row.btc_usd, row.btc_margin_usd),
                                          ("PAXG", row.xau_short_units, row.xau_usd, row.xau_margin_usd)):
            self.add(f"hedge report {sym}", self.p.ledger, "report", self.market[sym], U.usd_wad(float(units) * float(price)),
                     U.usd_wad(max(float(margin), 0.0)), 0, b"replay".ljust(32, b"\0"))

    def sync_custody(self, row):
        """Minter custody := the model's sleeves, as treasury transfers: excess out by `moveCollateral`
        (TREASURER_ROLE), shortfall in from the stepper's inventory (the model's treasury ops -- hedge
        rebalancing, T-bill redemptions -- are netted into one transfer per asset and step)."""
        P = self.p
        targets = {"USDC": self._custody_usdc(row), "TBILL": float(row.tbill_units),
                   "WBTC": float(row.btc_units), "PAXG": float(row.xau_units)}
        for sym, amount in targets.items():
            want = U.to_units(max(amount, 0.0), int(P.params["tokens"][sym]))
            self.add(f"custody {sym}", self.stepper, "syncCustody", P.tokens[sym], P.minter, want)

    def supply_flows(self, prev, row):
        """The step's supply deltas, each through the contract the model used.

        PSM: the model moves `psm_usdc` only through the PSM (swapIn: +USDC in, the HUSD minted is that
        less the fee; swapOut: -USDC paid, the HUSD burned is that over (1 - fee)). Staker rewards
        (`staker_rewards_usd`) go through `staker_rewards` after the custody sync. The rest of
        the HUSD minted and burned goes through the Minter with USDC (the chain issues, resp. burns,
        the model's HUSD: the USDC in is that over (1 - fee)).
        """
        P, S = self.p, self.stepper
        fl = step_flows(prev, row, self.fee_bps)
        mint, burn = fl["minter_mint_husd"], fl["minter_burn_husd"]
        f_mint = self.fee_bps["mint"] / 1e4
        if fl["psm_in_usdc"]:
            self.add("psm swapIn", P.psm, "swapIn", self._psm_in_units(fl["psm_in_usdc"]), S)
        elif fl["psm_out_husd"]:
            self.add("psm swapOut", P.psm, "swapOut", self._psm_out_units(fl["psm_out_husd"]), S)
        if mint > DUST_USD:
            self.add("minter mint", P.minter, "mint", P.usdc, U.to_units(mint / (1 - f_mint), 6), 0, S)
        if burn > DUST_USD:
            # the model pays redemptions from buffer, T-bills or unwinds: custody must hold the USDC for it
            # (the end-of-step custody sync then sets the model's balances)
            want = U.to_units(self._custody_usdc(row) + burn, 6)
            self.add("custody USDC (redemption payout)", S, "syncCustody", P.usdc, P.minter, want)
            self.add("minter redeem", P.minter, "redeem", P.usdc, U.to_units(burn, 18), 0, S)

    def staker_rewards(self, prev, row):
        """Staker rewards (`staker_rewards_usd`) through `Minter.distributeRewards` into sHUSD's vesting.
        The chain mints them only within its realised surplus, as the model does when it distributes:
        while the reserve's share of the same surplus is still in custody. So custody USDC := the model's
        buffer plus this step's reserve share (`reserve_added_usd`), the rewards, then the buffer again."""
        rewards = step_flows(prev, row, self.fee_bps)["rewards_husd"]
        if not rewards:
            return
        P, S = self.p, self.stepper
        to_reserve = max(float(row.reserve_added_usd) - float(prev.reserve_added_usd), 0.0)
        buffer = U.to_units(self._custody_usdc(row), 6)
        if to_reserve > DUST_USD:
            self.add("custody USDC (reserve share, before rewards)", S, "syncCustody", P.usdc, P.minter,
                     buffer + U.to_units(to_reserve, 6))
        self.add("staker rewards", P.minter, "distributeRewards", U.to_units(rewards, 18))
        if to_reserve > DUST_USD:
            self.add("custody USDC (after rewards)", S, "syncCustody", P.usdc, P.minter, buffer)

    def _psm_in_units(self, usdc: float) -> int:
        """USDC units for a swapIn; trimmed (and recorded) only if base-unit rounding alone would cross the ceiling."""
        units = U.to_units(usdc, 6)
        fee = self.fee_bps["psm"]
        out = lambda u: u * 10**12 - u * 10**12 * fee // 10_000  # noqa: E731 - HUSD minted, as the PSM computes it
        room = max(self.psm_ceiling - self.psm_state[1], 0)
        if out(units) > room and out(units) - room <= ROUNDING_CLAMP_WAD:
            trimmed = units
            while trimmed > 0 and out(trimmed) > room:
                trimmed -= 1
            self.clamps.append({"step": self.step, "action": "psm swapIn", "usdc_units_trimmed": units - trimmed})
            units = trimmed
        return units

    def _psm_out_units(self, husd: float) -> int:
        """HUSD wei for a swapOut; trimmed (and recorded) only if base-unit rounding alone would overdraw the PSM's USDC."""
        wei = U.to_units(husd, 18)
        fee = self.fee_bps["psm"]
        out = lambda w: (w - w * fee // 10_000) // 10**12  # noqa: E731 - USDC paid, as the PSM computes it
        usdc = self.psm_state[0]
        excess = out(wei) - usdc
        if excess > 0 and excess * 10**12 <= ROUNDING_CLAMP_WAD:
            trimmed = wei - (excess * 10**12 * 10_000 // max(10_000 - fee, 1)) - 10**12
            while trimmed > 0 and out(trimmed) > usdc:
                trimmed -= 10**12
            self.clamps.append({"step": self.step, "action": "psm swapOut", "husd_wei_trimmed": wei - trimmed})
            wei = trimmed
        return wei

    @staticmethod
    def _custody_usdc(row) -> float:
        return max(float(row.buffer_usd) + float(row.tbill_pending_usd), 0.0)

    def reserve_flow(self, prev, row):
        P = self.p
        d = float(row.reserve_fund_usd) - float(prev.reserve_fund_usd)
        if d > DUST_USD and U.to_units(d, 6):
            self.add("reserve deposit", P.reserve, "deposit", P.usdc, U.to_units(d, 6))
        elif d < -DUST_USD and U.to_units(-d, 6):
            self.add("reserve payFunding", P.reserve, "payFunding", P.usdc, self.admin, U.to_units(-d, 6))

    def set_depth(self, depth: float):
        """Scale every position to `depth` x its depth-1 liquidity (mint more, or burn + collect)."""
        if abs(depth - self.depth) < 1e-12:
            return
        for t_lo, t_hi, L_raw, *_ in self.positions:
            cur, new = int(L_raw * self.depth), int(L_raw * depth)
            if new > cur:
                self.add("pool add liquidity", self.p.router, "addLiquidity", self.pool, t_lo, t_hi, new - cur, self.stepper)
            elif cur > new:
                self.add("pool remove liquidity", self.stepper, "removeLiquidity", self.pool, t_lo, t_hi, cur - new)
        self.depth = depth

    def move_hyb_pool(self, sqrt_target: float):
        """The HYB pool to the model's HYB price (the treasury companies' HYB sales; the backstop's went first)."""
        self.add("hyb pool swap to sim price", self.stepper, "swapToPrice", self.hyb_info.pool,
                 U.sqrt_x96_from_sim(sqrt_target, self.hyb0))

    def backstop_sale(self, prev, row):
        """The model's backstop sale (HYB minted and sold into its pool) through `Backstop.recapitalize`."""
        sold = float(row.hyb_sold) - float(prev.hyb_sold)
        if sold > DUST_USD:
            self.add("backstop recapitalize", self.p.backstop, "recapitalize", U.to_units(sold, 18), 0)

    def pool_trades(self, trades: list[dict]):
        """The model's pool trades of this step, each an exact-input swap with the model's price limit."""
        S = self.stepper
        for t in self._sendable(trades):
            zero_for_one = t["sell_husd"] == self.husd0  # HUSD in: token0 -> token1 when HUSD is token0
            # what the model's trade consumed, stopping at the price where the model's trade ended: the chain's
            # price path follows the model's trade by trade (and a trade that emptied the model's curve cannot
            # run the real pool's tick search down to Uniswap's bound)
            lim = U.sqrt_x96_from_sim(t["sqrt_after"], self.husd0)
            self.add(f"pool trade {t['label']}", S, "swapExactIn", self.pool, zero_for_one, t["units"], lim)

    @staticmethod
    def _sendable(trades: list[dict]) -> list[dict]:
        out = []
        for t in trades:
            units = U.to_units(t["used"], 18 if t["sell_husd"] else 6)
            if units and t["sqrt_after"] != t["sqrt_before"]:
                out.append({**t, "units": units})
        return out

    def trade_outcomes(self, receipt, trades: list[dict]) -> dict:
        """Each trade's proceeds on chain vs in the model (same order; refused trades are in the reverts)."""
        out = {"trades": 0, "trade_out_max_rel": 0.0, "trade_maths_max_rel": 0.0}
        if receipt is None or not trades:
            return out
        from sim.model import amm

        failed = {int(ev.index) for ev in receipt.decode_logs(self.stepper.CallFailed)}
        idx = [i for i, (a, _t, _d) in enumerate(self.last_calls) if a.startswith("pool trade ")]
        ok = [t for i, t in zip(idx, self._sendable(trades)) if i not in failed]
        evs = [ev for ev in receipt.decode_logs(self.stepper.Traded) if ev.pool.lower() == self.pool.address.lower()]
        maths, model = 0.0, 0.0
        for t, ev in zip(ok, evs):
            a0, a1 = int(ev.amount0), int(ev.amount1)
            husd_raw, usdc_raw = (a0, a1) if self.husd0 else (a1, a0)
            got = U.from_units(-usdc_raw, 6) if t["sell_husd"] else U.from_units(-husd_raw, 18)
            s0 = U.sim_sqrt_from_x96(int(ev.sqrtBefore), self.husd0)
            amount_in = U.from_units(t["units"], 18 if t["sell_husd"] else 6)
            m_out, *_ = amm.swap_exact_in(s0, amount_in, t["sell_husd"], self.ref_curve, depth=self.depth,
                                          fee=self.fee_fraction, sqrt_limit=t["sqrt_after"])
            if float(m_out) > 1.0:
                maths = max(maths, abs(got - float(m_out)) / float(m_out))
            if t["out"] > 1.0:
                model = max(model, abs(got - t["out"]) / t["out"])
        out.update(trades=len(evs), trade_out_max_rel=model, trade_maths_max_rel=maths)
        return out

    def backstop_raised(self, receipt) -> float:
        """USDC the backstop's sale raised on chain this step (its Recapitalized event)."""
        if receipt is None:
            return 0.0
        return sum(U.from_units(int(ev.usdcRaised), 6) for ev in receipt.decode_logs(self.p.backstop.Recapitalized))

    def breakers(self, row):
        """The model's mint pause (its oracle breaker): the guardian pauses; the admin unpauses (own tx)."""
        want = float(row.mint_paused) > 0
        if want and not self.chain_paused:
            self.add("guardian pauseMint", self.p.guardian, "pauseMint")
        elif not want and self.chain_paused:
            try:
                self.p.minter.setMintPaused(False, sender=self.admin)  # restarting is the admin's call
            except Exception as err:  # noqa: BLE001
                self._check_node(err)
                self.reverts.append({"step": self.step, "action": "admin unpause mint", "reason": _reason(err)})

    def move_pool(self, sqrt_target: float):
        self.add("pool swap to sim price", self.stepper, "swapToPrice", self.pool, U.sqrt_x96_from_sim(sqrt_target, self.husd0))

    def swap_amounts(self, receipt) -> dict:
        """The step's pool swap on chain vs the simulator's pool maths on the chain's own curve."""
        from sim.model import amm

        out = {"pool_husd_chain": 0.0, "pool_usdc_chain": 0.0, "pool_husd_maths": 0.0, "pool_usdc_maths": 0.0}
        if receipt is None:
            return out
        for ev in receipt.decode_logs(self.stepper.Moved):
            if ev.pool.lower() != self.pool.address.lower():
                continue  # the HYB pool's move
            a0, a1 = int(ev.amount0), int(ev.amount1)
            husd_raw, usdc_raw = (a0, a1) if self.husd0 else (a1, a0)
            s0, s1 = U.sim_sqrt_from_x96(int(ev.sqrtBefore), self.husd0), U.sim_sqrt_from_x96(int(ev.sqrtAfter), self.husd0)
            m0, m1, _fee = amm.amounts_to_reach(s0, s1, self.ref_curve, depth=self.depth, fee=self.fee_fraction)
            out.update(pool_husd_chain=U.from_units(husd_raw, 18), pool_usdc_chain=U.from_units(usdc_raw, 6),
                       pool_husd_maths=float(m0), pool_usdc_maths=float(m1))
        return out

    # -- reads

    def read(self, hour: int) -> dict:
        """Every compared chain figure in one eth_call (a reverting read, e.g. a stale oracle, is NaN)."""
        P = self.p
        reads = [("supply", P.husd, "totalSupply", ()), ("pool", self.pool, "slot0", ()),
                 ("hyb_pool", self.hyb_info.pool, "slot0", ()), ("reserve_fund", P.usdc, "balanceOf", (P.reserve,)),
                 ("backing", P.ledger, "totalBacking", ()), ("psm_usdc", P.usdc, "balanceOf", (P.psm,)), ("psm_debt", P.psm, "debt", ()),
                 ("mint_cap_used", P.minter, "mintedInHour", (hour,)), ("redeem_cap_used", P.minter, "redeemedInHour", (hour,)),
                 ("mint_paused", P.minter, "mintPaused", ())]
        data = [bytes(getattr(c, m).encode_input(*a)) for _n, c, m, a in reads]
        targets = [c.address for _n, c, _m, _a in reads]
        if self.fast:  # one raw eth_call
            from eth_abi import decode

            call = {"to": self.stepper.address, "data": "0x" + bytes(self.stepper.readWords.encode_input(targets, data)).hex()}
            out = self.chain.provider.web3.provider.make_request("eth_call", [call, "latest"])
            if "error" in out:
                raise RuntimeError(f"eth_call readWords: {out['error']}")
            words, ok = decode(["uint256[]", "bool[]"], bytes.fromhex(out["result"][2:]))
        else:
            words, ok = self.stepper.readWords(targets, data)
        w = {n: (int(v) if good else None) for (n, *_), v, good in zip(reads, words, ok)}
        self.psm_state = (w["psm_usdc"], w["psm_debt"])
        self.chain_paused = bool(w["mint_paused"])
        if w["backing"] is None:
            self.reverts.append({"step": self.step, "action": "read totalBacking", "reason": "reverted (oracle?)"})
        s = U.sim_sqrt_from_x96(w["pool"], self.husd0)
        raw = (w["hyb_pool"] / U.Q96) ** 2  # token1 raw per token0 raw
        hyb0 = self.hyb0
        nan = float("nan")
        f18 = lambda k: U.from_units(w[k], 18) if w[k] is not None else nan  # noqa: E731
        return {
            "supply": f18("supply"),
            "pool_price": s * s,
            "reserve_fund": U.from_units(w["reserve_fund"], 6),
            "backing": f18("backing"),
            "hyb_price": raw * 10**12 if hyb0 else 10**12 / raw,  # HYB 18 dp, USDC 6 dp
            "psm_usdc": U.from_units(w["psm_usdc"], 6),
            "mint_cap_used": f18("mint_cap_used"),
            "redeem_cap_used": f18("redeem_cap_used"),
            "mint_paused": float(bool(w["mint_paused"])),
        }


def step_flows(prev, row, fee_bps: dict) -> dict:
    """Attribute one step's HUSD minted and burned to the contract the model used (pure arithmetic).

    The model moves `psm_usdc` only through the PSM: swapIn adds the USDC paid (the HUSD minted is that
    less the PSM fee), swapOut removes the USDC paid out (the HUSD burned is that over 1 - fee). Staker
    rewards are `staker_rewards_usd`'s increase. What is left of `minted_husd` / `burned_husd` went
    through the Minter (arbitrage, deposits, institutional redemptions).
    """
    f_psm = fee_bps["psm"] / 1e4
    d_psm_usdc = float(row.psm_usdc) - float(prev.psm_usdc)
    psm_in_usdc = d_psm_usdc if d_psm_usdc > DUST_USD else 0.0
    psm_out_husd = -d_psm_usdc / (1 - f_psm) if d_psm_usdc < -DUST_USD else 0.0
    rewards = float(row.staker_rewards_usd) - float(prev.staker_rewards_usd)
    rewards = rewards if rewards > DUST_USD else 0.0
    return {
        "psm_in_usdc": psm_in_usdc,
        "psm_out_husd": psm_out_husd,
        "rewards_husd": rewards,
        "minter_mint_husd": float(row.minted_husd) - float(prev.minted_husd) - psm_in_usdc * (1 - f_psm) - rewards,
        "minter_burn_husd": float(row.burned_husd) - float(prev.burned_husd) - psm_out_husd,
    }


class _RawReceipt:
    """A raw eth_getTransactionReceipt with Ape's `decode_logs(contract.Event)` for the replay's events."""

    def __init__(self, raw: dict):
        self.logs = raw.get("logs", [])
        self.gas_used = int(raw.get("gasUsed", "0x0"), 16)
        self.status = int(raw.get("status", "0x1"), 16)

    def decode_logs(self, event) -> list:
        from types import SimpleNamespace

        from eth_abi import decode
        from eth_utils import keccak

        abi = event.abi
        topic0 = "0x" + keccak(text=abi.selector).hex()
        where = str(event.contract.address).lower()
        indexed = [i for i in abi.inputs if i.indexed]
        plain = [i for i in abi.inputs if not i.indexed]
        out = []
        for log in self.logs:
            topics = [t if isinstance(t, str) else "0x" + bytes(t).hex() for t in log["topics"]]
            if not topics or topics[0].lower() != topic0 or str(log["address"]).lower() != where:
                continue
            vals = {}
            for inp, t in zip(indexed, topics[1:]):
                vals[inp.name] = decode([inp.canonical_type], bytes.fromhex(t[2:]))[0]
            data = log["data"] if isinstance(log["data"], str) else "0x" + bytes(log["data"]).hex()
            for inp, v in zip(plain, decode([i.canonical_type for i in plain], bytes.fromhex(data[2:]))):
                vals[inp.name] = v
            out.append(SimpleNamespace(**vals))
        return out


def _error_selectors(project) -> dict[str, str]:
    """4-byte selector (hex) -> custom error name, over the project's contracts."""
    from eth_utils import keccak

    out = {}
    for name in ("Minter", "PegStabilityModule", "ReserveFund", "HedgeLedger", "OracleRouter", "HUSD", "ReplayStepper",
                 "PoolRouter", "Guardian", "Backstop", "HYB", "StakedHUSD"):
        try:
            ct = getattr(project, name).contract_type
        except Exception:  # noqa: BLE001
            continue
        for e in ct.errors:
            sig = f"{e.name}({','.join(i.canonical_type for i in e.inputs)})"
            out[keccak(text=sig)[:4].hex()] = e.name
    return out


def _reason(err: Exception) -> str:
    msg = str(getattr(err, "revert_message", None) or err).strip().splitlines()
    return (msg[0] if msg else type(err).__name__)[:300]


def _sim_fields(row) -> dict:
    return {
        "supply": float(row.supply), "pool_price": float(row.pool_sqrt_price) ** 2,
        "reserve_fund": float(row.reserve_fund_usd), "backing": float(row.backing_usd), "hyb_price": float(row.hyb_price),
        "psm_usdc": float(row.psm_usdc), "mint_cap_used": float(row.mint_cap_used_usd),
        "redeem_cap_used": float(row.redeem_cap_used_usd), "mint_paused": float(float(row.mint_paused) > 0),
    }


# ----------------------------------------------------------------------------- the replay


def replay(run_dir: str | os.PathLike, run: int = 0, network: str = FORK, steps: int | None = None,
           write: bool = True, progress=None, keep_connected=None, upstream: str | None = None,
           base: dict | None = None, fork: str | None = None, block: int | None = None,
           trades: bool = True) -> ReplayResult:
    """Replay run `run` of `run_dir` on `network` (`fork`: node A + a fork of it, started and stopped
    here; or an Ape network choice such as `ethereum:local:foundry`). Writes chain_replay.parquet and
    chain_replay.json into `run_dir` (atomically) unless `write=False`.

    On the fork the protocol is deployed over node A's base state (its tokens, feeds and factory; the
    stepper is funded by impersonating node A's whale). `upstream`/`base`: a node A already running and
    its base-state addresses (only the fork is started). `fork`: a fork of node A already running
    (nothing is started): the replay runs between `chain.snapshot()` and `chain.restore()`, so one fork
    serves many scenarios. `trades`: send the model's pool trades one by one (`sim.chain.trades`), the
    closing swap to the model's price then carries only rounding and the curve's tick snapping.

    `keep_connected(result)` is called while still connected, with `result.chain` holding the
    deployed contracts (the stress tests assert on chain state there).
    """
    run_dir = Path(run_dir).resolve()
    sc, d = load_run(run_dir, run, steps)
    per_trade = None
    if trades:
        from sim.chain.trades import pool_trades

        per_trade = pool_trades(sc, run, d["pool_sqrt_price"].to_numpy(float))
    if fork is not None and base is None:
        raise ReplayError("replay on a running fork needs node A's base-state addresses (base=...)")
    t0 = time.perf_counter()
    with connected(network, upstream=upstream, base=base, fork=fork, block=block) as conn:
        from ape import chain

        node = conn["nodes"][-1] if conn["nodes"] else None
        snap = chain.snapshot() if fork is not None else None
        try:
            try:
                result = _replay_connected(sc, d, node, progress, conn["base"], per_trade)
            except ReplayNodeError:
                raise
            except Exception as err:  # noqa: BLE001
                if node is not None and not node.alive():
                    raise ReplayNodeError(f"{node.uri} stopped answering") from err
                raise
            result.summary.update(network=conn["network"], run=run, run_dir=str(run_dir), scenario=sc.name,
                                  base_state=bool(conn["base"]),
                                  trajectory=d.attrs.get("resimulated", "recorded (every column)"))
            if keep_connected is not None:
                keep_connected(result)
        finally:
            if snap is not None:
                chain.restore(snap)  # the shared fork is back to node A's base state for the next scenario
    result.summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
    if write:
        write_results(run_dir, result)
    return result


def _replay_connected(sc, d, node, progress, base=None, per_trade=None) -> ReplayResult:
    import pandas as pd

    from ape import chain

    t_setup = time.perf_counter()
    rows = list(d.itertuples(index=False))
    c = _Chain(sc, rows[0], node, base)
    head = int(chain.pending_timestamp)
    t0 = (head // 3600 + 2) * 3600  # hour-aligned start, in the future of the node's clock
    step_s = 3600 * float(sc.step_hours)
    setup_s = time.perf_counter() - t_setup
    out = []
    t_loop = time.perf_counter()
    for k, row in enumerate(rows):
        c.step = k
        ts = int(t0 + k * step_s)
        gas0 = c.gas
        receipt = None
        c.advance(ts)
        if k > 0:
            c.breakers(row)
        c.push_prices(row, int(row.hour))
        if k > 0:
            prev = rows[k - 1]
            c.report_hedges(row)
            c.supply_flows(prev, row)
            c.backstop_sale(prev, row)  # its USDC lands in custody: before the custody sync
            c.move_hyb_pool(float(row.hyb_sqrt_price))
            c.sync_custody(row)
            c.staker_rewards(prev, row)
            c.reserve_flow(prev, row)
            c.set_depth(float(row.pool_depth))
            if per_trade is not None:
                c.pool_trades(per_trade[k])
            c.move_pool(float(row.pool_sqrt_price))
        receipt = c.flush()
        swap = c.swap_amounts(receipt) if k > 0 else c.swap_amounts(None)
        swap.update(c.trade_outcomes(receipt, per_trade[k] if per_trade is not None and k > 0 else []))
        swap["backstop_usdc_chain"] = c.backstop_raised(receipt) if k > 0 else 0.0
        swap["backstop_usdc_model"] = float(row.cum_backstop_in) - float(rows[k - 1].cum_backstop_in) if k > 0 else 0.0
        got = c.read(ts // 3600)
        sim = _sim_fields(row)
        rec = {"step": k, "hour": float(row.hour), "gas": c.gas - gas0,
               "reverts": sum(1 for r in c.reverts if r["step"] == k), **swap}
        for f in FIELDS:
            rec[f"sim_{f}"], rec[f"chain_{f}"] = sim[f], got[f]
        out.append(rec)
        if progress:
            progress(k, len(rows))
    loop_s = time.perf_counter() - t_loop
    frame = pd.DataFrame(out)
    summary = {
        "steps": len(rows) - 1,
        "setup_seconds": round(setup_s, 3),
        "replay_seconds": round(loop_s, 3),
        "seconds_per_step": round(loop_s / max(len(rows) - 1, 1), 4),
        "gas_used": int(c.gas),
        "divergence": divergence(frame),
        "pool_maths": pool_maths_divergence(frame),
        "backstop": backstop_divergence(frame),
        "trades": trades_summary(frame) if per_trade is not None else {"replayed": False},
        "rounding": rounding_check(frame),
        "reverts": c.reverts,
        "revert_count": len(c.reverts),
        "rounding_clamps": c.clamps,
        "husd_is_token0": c.husd0,
        "notes": [
            "custody balances are synced to the model's sleeves by treasury transfers (moveCollateral out, inventory in), netted per step",
            "replayed per step: oracle rounds, hedge reports, PSM swaps, Minter mint/redeem, staker rewards into sHUSD, "
            "backstop HYB sales (proceeds to custody), HYB pool to the model's price, reserve deposits/payouts, "
            "guardian mint pause (admin unpause), pool depth, the model's pool trades one by one (retail, institutions, "
            "loopers, liquidations, arbitrage legs, treasury companies' sales: exact-input swaps ending at the model's "
            "post-trade price), then a closing swap to the model's price (rounding)",
        ],
    }
    return ReplayResult(frame=frame, summary=summary, reverts=c.reverts, chain={"protocol": c.p, "replay": c})


# What "rounding only" means per field: |chain - sim| <= abs_per_step x (step + 1) + rel x |sim|.
# Base units are floored once per call (USDC 1e-6, so a few 1e-6 per step, accumulating in supply, reserve
# and PSM USDC); feeds answer with 8 decimals (a relative 5e-9 on each sleeve's price, hence backing);
# the pool price goes through sqrtPriceX96 (exact to ~1e-15 relative).
ROUNDING_TOLERANCE = {
    "supply": (1e-5, 1e-12),
    "pool_price": (0.0, 1e-12),
    "reserve_fund": (1e-5, 1e-12),
    "backing": (1e-2, 1e-8),
    "psm_usdc": (1e-5, 1e-12),
    "mint_cap_used": (1e-5, 1e-12),
    "redeem_cap_used": (1e-5, 1e-12),
    "hyb_price": (0.0, 1e-9),
    "mint_paused": (0.0, 0.0),
}


def rounding_check(frame, fields=None) -> dict:
    """Per field: whether every step is within rounding (ROUNDING_TOLERANCE), and the first step that
    is not, with the sim and chain values there. Steps where the chain read failed (NaN) count as beyond."""
    out = {}
    steps = frame["step"].to_numpy(float)
    for f in fields or ROUNDING_TOLERANCE:
        abs_step, rel = ROUNDING_TOLERANCE[f]
        s, ch = frame[f"sim_{f}"].to_numpy(float), frame[f"chain_{f}"].to_numpy(float)
        tol = abs_step * (steps + 1) + rel * np.abs(s)
        bad = ~(np.abs(ch - s) <= tol)
        if bad.any():
            i = int(np.argmax(bad))
            out[f] = {"ok": False, "first_step": int(steps[i]), "sim": float(s[i]), "chain": float(ch[i]),
                      "tolerance": float(tol[i]), "steps_beyond": int(bad.sum())}
        else:
            out[f] = {"ok": True}
    return out


def assert_rounding_only(result_or_frame, fields=None) -> None:
    """Raise AssertionError naming the first step and field whose sim-vs-chain gap is beyond rounding."""
    frame = getattr(result_or_frame, "frame", result_or_frame)
    bad = {f: v for f, v in rounding_check(frame, fields).items() if not v["ok"]}
    if bad:
        lines = [f"{f}: step {v['first_step']}: chain {v['chain']!r} vs sim {v['sim']!r} "
                 f"(|gap| {abs(v['chain'] - v['sim']):.6g} > rounding {v['tolerance']:.3g}; {v['steps_beyond']} steps beyond)"
                 for f, v in sorted(bad.items(), key=lambda kv: kv[1]["first_step"])]
        raise AssertionError("sim vs chain beyond rounding:\n  " + "\n  ".join(lines))


def divergence(frame) -> dict:
    """Max absolute and relative sim-vs-chain gap per field, with the step where it is largest."""
    out = {}
    for f in FIELDS:
        s, ch = frame[f"sim_{f}"].to_numpy(float), frame[f"chain_{f}"].to_numpy(float)
        a = np.abs(ch - s)
        rel = a / np.maximum(np.abs(s), 1e-12)
        i = int(np.argmax(a)) if a.size else 0
        out[f] = {"max_abs": float(a.max()) if a.size else 0.0, "max_rel": float(rel.max()) if a.size else 0.0,
                  "step": int(frame["step"].iloc[i]) if a.size else 0}
    return out


def pool_maths_divergence(frame) -> dict:
    """Chain swap amounts vs the simulator's pool maths on the same curve (should be rounding only)."""
    out = {}
    for tok in ("husd", "usdc"):
        ch, m = frame[f"pool_{tok}_chain"].to_numpy(float), frame[f"pool_{tok}_maths"].to_numpy(float)
        a = np.abs(ch - m)
        rel = a / np.maximum(np.abs(m), 1e-9)
        moved = np.abs(m) > 1.0  # ignore dust swaps for the relative figure
        out[tok] = {"max_abs": float(a.max()) if a.size else 0.0,
                    "max_rel": float(rel[moved].max()) if moved.any() else 0.0}
    return out


def trades_summary(frame) -> dict:
    """The model's pool trades sent one by one: how many, their proceeds vs the model's, and what the
    closing swap to the model's price still had to move (treasury companies' sales, rounding)."""
    return {"replayed": True, "count": int(frame["trades"].sum()),
            # vs the simulator's pool maths on the chain's own (tick-snapped) curve: rounding
            "maths_max_rel": float(frame["trade_maths_max_rel"].max()) if len(frame) else 0.0,
            # vs the trade the model recorded on its exact curve: the range bounds' snapping to ticks
            "out_max_rel": float(frame["trade_out_max_rel"].max()) if len(frame) else 0.0,
            "closing_swap_max_usdc": float(frame["pool_usdc_chain"].abs().max()) if len(frame) else 0.0}


def backstop_divergence(frame) -> dict:
    """USDC the backstop's HYB sales raised on chain vs in the model (the chain's HYB position is the
    model's on the pool's tick spacing, so a sale reaching a bound differs by the snapped sliver)."""
    ch, m = frame["backstop_usdc_chain"].to_numpy(float), frame["backstop_usdc_model"].to_numpy(float)
    sold = np.abs(m) > 1.0
    return {"sales": int(sold.sum()), "usdc_chain": float(ch.sum()), "usdc_model": float(m.sum()),
            "max_rel": float((np.abs(ch - m)[sold] / np.abs(m[sold])).max()) if sold.any() else 0.0}


def write_results(run_dir: Path, result: ReplayResult) -> tuple[Path, Path]:
    """chain_replay.parquet and chain_replay.json, each written to a temp file and renamed."""
    pq, js = run_dir / "chain_replay.parquet", run_dir / "chain_replay.json"
    tmp_pq, tmp_js = pq.with_suffix(".parquet.tmp"), js.with_suffix(".json.tmp")
    try:
        result.frame.to_parquet(tmp_pq, index=False)
        tmp_js.write_text(json.dumps(result.summary, indent=2, default=_json_default) + "\n")
        os.replace(tmp_pq, pq)
        os.replace(tmp_js, js)
    finally:
        for t in (tmp_pq, tmp_js):
            t.unlink(missing_ok=True)
    return pq, js


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (bytes, bytearray)):
        return "0x" + bytes(o).hex()
    return str(o)
