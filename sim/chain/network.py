"""Where a replay runs: node A and its base state, the fork, Ape's connection.

`connected(network)` connects Ape and yields node A's base-state addresses; `deploy_base_state(uri)`
gives a fresh node A its "mainnet-like" state. Three ways to get a fork, one replay code path:

  FORK           anvil node A (`sim.chain.node`) + `anvil --fork-url <node A>`, both started and stopped here
  APE_FORK       Ape's own fork provider: the custom network `tripod-node-a` forked by ape-foundry (needs that
                 network in the working directory's ape-config.yaml, as in this checkout's)
  MAINNET_FORK   the same provider over mainnet (TRIPOD_FORK_RPC_URL, TRIPOD_FORK_BLOCK, TRIPOD_FORK_WHALES)
Any other Ape network choice (e.g. `ethereum:local:foundry`) is used as it is.
"""
from __future__ import annotations

import os
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sim.chain import evm
from sim.chain.actor import ReplayError
from sim.chain.node import AnvilNode, off_disk_args

FORK = "fork"
APE_FORK = "ethereum:tripod-node-a-fork:foundry"
MAINNET_FORK = "ethereum:mainnet-fork:foundry"
# The mainnet path's real tokens and factory. The feeds the protocol reads are the replay's own (a replay
# moves prices along the model's path, which real Chainlink aggregators cannot do); the real ones are listed
# for reference. TBILL stays a mock (no freely transferable fund token).
MAINNET = {
    "tokens": {"USDC": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "WBTC": "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
               "PAXG": "0x45804880De22913dAFE09f4980848ECE6EcbAf78"},
    "reference_feeds": {"USDC": "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6",  # Chainlink USDC / USD
                        "WBTC": "0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c",  # Chainlink BTC / USD
                        "PAXG": "0x214eD9Da11D2fbe465a6fc601a91E62EbEc1a0D6"},  # Chainlink XAU / USD
    "factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",  # Uniswap v3 (0.01 % tier enabled by governance)
}
# Node A's whale: an address nobody has the key of (like a mainnet holder); a fork impersonates it.
WHALE = "0x00000000000000000000000000000000000fa11e"
WHALE_HOLDINGS = {"USDC": 10**12, "TBILL": 10**12, "WBTC": 10**7, "PAXG": 10**8}  # whole tokens


def mainnet_base() -> dict:
    """MAINNET with the whales named in TRIPOD_FORK_WHALES (symbol=address, comma-separated)."""
    whales = {}
    for item in filter(None, os.environ.get("TRIPOD_FORK_WHALES", "").split(",")):
        sym, _, addr = item.partition("=")
        whales[sym.strip().upper()] = addr.strip()
    return {**MAINNET, "whales": whales}


def keep_ape_anvil_off_disk() -> None:
    """Ape's foundry provider (`ethereum:local:foundry`, the fork providers) starts anvil with its own flags and
    offers no setting for more (ape-foundry 0.8.12): append `off_disk_args()` to its command, once per process,
    so the anvil it starts leaves no state files either (sim/chain/node.py says why)."""
    try:
        from ape_foundry.provider import FoundryProvider
    except ImportError:  # no ape-foundry: nothing starts anvil through Ape
        return
    build = FoundryProvider.build_command
    if getattr(build, "tripod_off_disk", False):
        return

    def build_command(self) -> list[str]:
        try:
            fork_url = getattr(self, "fork_url", None)
        except Exception:  # noqa: BLE001 - the fork provider raises its own error for a missing upstream, below
            fork_url = None
        return build(self) + off_disk_args(fork_url)

    build_command.tripod_off_disk = True
    FoundryProvider.build_command = build_command


def ape_fork_settings(network_name: str, upstream: str, block: int | None = None) -> dict:
    """Provider settings for ape-foundry's fork of `network_name`: upstream URI per connection, a free port."""
    fork = {"upstream_provider": upstream}
    if block is not None:
        fork["block_number"] = int(block)
    return {"host": "auto", "fork": {"ethereum": {network_name: fork}}}


def deploy_base_state(uri: str) -> dict:
    """Node A's "mainnet-like" base state: USDC, T-bill fund token, WBTC-, PAXG-like tokens (held by
    `WHALE`), USD feeds and the Uniswap v3 factory (0.01 % tier enabled), from the first test account with
    the package's contracts. Returns their addresses."""
    from ape import accounts, networks

    from sim.chain.artifacts import Contracts
    from sim.chain.spec import ProtocolSpec

    C, spec = Contracts.shipped(), ProtocolSpec.defaults()
    with networks.parse_network_choice("ethereum:local:foundry", provider_settings={"host": uri}):
        admin = accounts.test_accounts[0]
        out = {"tokens": {}, "feeds": {}, "whale": WHALE}
        for sym, dec in spec.tokens.items():
            tok = admin.deploy(C.MockERC20, f"Mock {sym}", sym, dec)
            tok.mint(WHALE, WHALE_HOLDINGS[sym] * 10**dec, sender=admin)  # the holder a fork impersonates
            out["tokens"][sym] = tok.address
        for sym, f in spec.feeds.items():
            agg = admin.deploy(C.MockAggregator, f.decimals, f"{sym} / USD", evm.feed_answer(f.price_usd, f.decimals))
            out["feeds"][sym] = agg.address
        factory = admin.deploy(C.UniswapV3Factory)
        factory.enableFeeAmount(100, evm.TICK_SPACING[100], sender=admin)
        out["factory"] = factory.address
    return out


@contextmanager
def connected(network: str = FORK, log_dir: str | os.PathLike | None = None, upstream: str | None = None,
              base: dict | None = None, fork: str | None = None, block: int | None = None):
    """Connect Ape to `network`; with FORK, start node A and a fork of it, and stop both after.
    `upstream`: the URI of a node A already running (its base state deployed, `base` its addresses):
    only the fork is started. `fork`: the URI of a fork of node A already running: nothing is started.
    `block`: pin Ape's fork (APE_FORK, MAINNET_FORK) at this upstream block.

    Yields a dict with `nodes` (the AnvilNodes started, possibly empty), `network` (where, in words) and
    `base` (node A's base-state addresses: tokens, feeds, factory, whale; None off the fork).
    """
    from ape import networks
    from ape.logging import logger

    logger.set_level("WARNING")
    keep_ape_anvil_off_disk()
    log = Path(log_dir) if log_dir else None
    nodes: list[AnvilNode] = []

    def node_a() -> str:
        nonlocal base
        node = AnvilNode(log_path=(log / "node-a.log") if log else None).start()
        nodes.append(node)
        base = deploy_base_state(node.uri)
        return node.uri

    try:
        if network == APE_FORK:
            upstream = upstream or node_a()  # ape-foundry starts (and stops) `anvil --fork-url <node A>` itself
            choice, settings = APE_FORK, ape_fork_settings("tripod-node-a", upstream, block)
            where = f"{network} over node A ({upstream}{', block ' + str(block) if block is not None else ''})"
        elif network == MAINNET_FORK:
            upstream = upstream or os.environ.get("TRIPOD_FORK_RPC_URL")
            if not upstream:
                raise ReplayError(f"{MAINNET_FORK} needs an RPC endpoint: set TRIPOD_FORK_RPC_URL (and TRIPOD_FORK_BLOCK)")
            if block is None and os.environ.get("TRIPOD_FORK_BLOCK"):
                block = int(os.environ["TRIPOD_FORK_BLOCK"])
            base = base or mainnet_base()
            choice, settings = MAINNET_FORK, ape_fork_settings("mainnet", upstream, block)
            where = f"{network} over mainnet (block {block or 'latest'})"
        elif network == FORK:
            if fork is None:
                upstream = upstream or node_a()
                fork_node = AnvilNode(fork_url=upstream, log_path=(log / "fork.log") if log else None).start()
                nodes.append(fork_node)
                fork = fork_node.uri
            choice, settings = "ethereum:local:foundry", {"host": fork}
            where = f"fork of node A ({upstream or 'running fork ' + fork})"
        else:
            choice, settings, where = network, {}, network
        active = networks.active_provider
        if (active is not None and active.is_connected and network not in (FORK, APE_FORK, MAINNET_FORK)
                and _choice(active) == choice):
            ctx = nullcontext(active)
        else:
            try:
                ctx = networks.parse_network_choice(choice, provider_settings=settings or None)
            except Exception as err:  # noqa: BLE001 - Ape raises several types for a bad choice
                hint = (" (Ape's fork of node A needs the `tripod-node-a` network in ape-config.yaml: see sim/chain/README.md)"
                        if network == APE_FORK else "")
                raise ReplayError(f"network {network!r}: {str(err).splitlines()[0]}{hint}") from None
        with ctx:
            yield {"nodes": nodes, "network": where, "base": base if network in (FORK, APE_FORK, MAINNET_FORK) else None}
    finally:
        for n in reversed(nodes):
            n.stop()


def _choice(provider) -> str:
    return f"{provider.network.ecosystem.name}:{provider.network.name}:{provider.name}"
