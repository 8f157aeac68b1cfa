"""Ape contract tests: fixtures.

Every fixture is session-scoped; Ape's isolation reverts the chain to the fixture state after each
test. The protocol is deployed once by the same deployer `ape run deploy` uses
(scripts/_protocol.py). Actors have names and roles:

  gov       admin of everything            arb       whitelisted minter/redeemer
  guardian  GUARDIAN_ROLE on the Guardian  fish      no role at all
  operator  hedge reporter                 staker    sHUSD holder
  keeper    backstop keeper                rewarder  sends staking rewards
  treasurer moves custody, pays funding    whale     big PSM / pool user
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Checks may run `ape test` without sourcing scripts/env.sh: keep solc and Ape's data in the project.
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
# `scripts._protocol` (the deployer) from the project root; `utils.*` from tests/ (a `tests` package
# in site-packages shadows `tests.utils`, so tests/ itself goes on the path).
for _p in (ROOT, ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from scripts import stage_solidity_deps  # noqa: E402

# Ape compiles against .deps/openzeppelin (ape-config.yaml): stage it before the first compile, so
# `ape test` works in a checkout whose set-up staged nothing yet (a clone sharing another's venv)
stage_solidity_deps.main(quiet=True)

from scripts._protocol import MAX_UINT256, WAD, deploy_protocol, market_id  # noqa: E402

settings.register_profile("quick", max_examples=5, stateful_step_count=10, deadline=None)
# ci: hundreds of sequences per provider (the stateful test's final assertion needs every one of them).
settings.register_profile(
    "ci", max_examples=int(os.environ.get("TRIPOD_FUZZ_EXAMPLES", "200")), stateful_step_count=10, deadline=None,
    suppress_health_check=list(HealthCheck), derandomize=False,
)
settings.register_profile(
    "nightly", max_examples=int(os.environ.get("TRIPOD_FUZZ_EXAMPLES", "500")), stateful_step_count=40, deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("TRIPOD_HYPOTHESIS_PROFILE", "ci"))

# (symbol, decimals) of the collateral sleeves, for parametrised tests.
COLLATERALS = ["USDC", "TBILL", "WBTC", "PAXG"]


@pytest.fixture(scope="session")
def gov(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def operator(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def arb(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def fish(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def staker(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def rewarder(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def treasurer(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def whale(accounts):
    return accounts[9]


@pytest.fixture(scope="session")
def protocol(gov, guardian, operator, keeper, arb, rewarder, treasurer):
    return deploy_protocol(
        gov,
        roles={
            "minter": [arb],
            "redeemer": [arb],
            "operator": [operator],
            "keeper": [keeper],
            "guardian": [guardian],
            "rewarder": [rewarder],
            "treasurer": [treasurer],
            "funding_payer": [treasurer],
            "coverer": [gov],
        },
    )


@pytest.fixture(scope="session")
def husd(protocol):
    return protocol.husd


@pytest.fixture(scope="session")
def shusd(protocol):
    return protocol.shusd


@pytest.fixture(scope="session")
def minter(protocol):
    return protocol.minter


@pytest.fixture(scope="session")
def oracle(protocol):
    return protocol.oracle


@pytest.fixture(scope="session")
def ledger(protocol):
    return protocol.ledger


@pytest.fixture(scope="session")
def reserve(protocol):
    return protocol.reserve


@pytest.fixture(scope="session")
def psm(protocol):
    return protocol.psm


@pytest.fixture(scope="session")
def hyb(protocol):
    return protocol.hyb


@pytest.fixture(scope="session")
def backstop(protocol):
    return protocol.backstop


@pytest.fixture(scope="session")
def guardian_contract(protocol):
    return protocol.guardian


@pytest.fixture(scope="session")
def usdc(protocol):
    return protocol.tokens["USDC"]


@pytest.fixture(scope="session")
def tokens(protocol):
    return protocol.tokens


@pytest.fixture(scope="session")
def feeds(protocol):
    return protocol.feeds


@pytest.fixture(scope="session")
def husd_pool(protocol):
    return protocol.pools["HUSD/USDC"]


@pytest.fixture(scope="session")
def hyb_pool(protocol):
    return protocol.pools["HYB/USDC"]


@pytest.fixture(scope="session")
def router(protocol):
    return protocol.router


@pytest.fixture(scope="session")
def batcher(project, gov):
    return gov.deploy(project.Batcher)


# ---------------------------------------------------------------------- factory fixtures


@pytest.fixture(scope="session")
def create_token(project, gov):
    def create_token(symbol="TKN", decimals=18):
        return gov.deploy(project.MockERC20, f"Mock {symbol}", symbol, decimals)

    return create_token


@pytest.fixture(scope="session")
def create_feed(project, gov):
    def create_feed(price=1.0, decimals=8, description="TEST / USD"):
        return gov.deploy(project.MockAggregator, decimals, description, int(round(price * 10**decimals)))

    return create_feed


@pytest.fixture(scope="session")
def create_psm(project, gov, husd, reserve, create_token):
    """A PSM over a fresh USDC-like token of `decimals`, with HUSD minter rights."""

    def create_psm(decimals=6, fee_in_bps=0, fee_out_bps=5, ceiling=10_000_000 * WAD):
        token = create_token("USDC", decimals)
        psm = gov.deploy(project.PegStabilityModule, gov, husd, token, fee_in_bps, fee_out_bps, ceiling)
        husd.grantRole(husd.MINTER_ROLE(), psm, sender=gov)
        return psm, token

    return create_psm


@pytest.fixture(scope="session")
def fund(tokens):
    """Mint `amount` (human units) of a collateral to `account` and approve `spender` for it."""

    def fund(symbol, account, amount, spender=None):
        token = tokens[symbol]
        raw = int(round(amount * 10 ** int(token.decimals())))
        token.mint(account, raw, sender=account)
        if spender is not None:
            token.approve(spender, MAX_UINT256, sender=account)
        return raw

    return fund


@pytest.fixture(scope="session")
def mint_husd(protocol, minter, husd, fund, arb):
    """Mint HUSD through the Minter with USDC collateral; returns HUSD received by `recipient`."""

    def mint_husd(amount_usd, recipient=None, account=None):
        account = account or arb
        raw = fund("USDC", account, amount_usd, spender=minter)
        tx = minter.mint(protocol.usdc, raw, 0, recipient or account, sender=account)
        # Not tx.return_value: on eth-tester it re-runs the call after the fact (and fails).
        return tx.decode_logs(minter.Minted)[0].husdOut

    return mint_husd


@pytest.fixture(scope="session")
def hedge_fully(protocol, ledger, operator):
    """Report shorts equal to the current spot value of every hedged sleeve."""

    def hedge_fully(margin_usd=0, pnl_usd=0):
        for market, sym in protocol.params["hedge"]["markets"].items():
            spot = ledger.spotValue(protocol.tokens[sym])
            ledger.report(market_id(market), spot, int(margin_usd * WAD), int(pnl_usd * WAD), b"TESTVENUE".ljust(32, b"\0"), sender=operator)

    return hedge_fully


@pytest.fixture(scope="session")
def set_price(protocol, feeds):
    """Push a new round on a feed (human USD price)."""

    def set_price(symbol, price_usd):
        feeds[symbol].setAnswer(protocol.feed_answer(symbol, price_usd), sender=protocol.admin)

    return set_price
