"""Unit (contract layer): OracleRouter — scaling, staleness, bounds, deviation, named errors."""

import ape
import pytest

from utils.constants import Role

# Jump and drift bounds of 100 % and a band from 1 wei to $1e12: every check but the one under test passes.
LOOSE = (10_000, 10_000, 1, 10**30)


@pytest.fixture(scope="session")
def asset(create_token):
    return create_token("ASSET", 18)


@pytest.mark.parametrize("decimals", [6, 8, 18])
def test_price__with_fresh_feed__scales_answer_to_18_decimals(oracle, asset, create_feed, gov, decimals):
    feed = create_feed(1234.5678, decimals)
    tx = oracle.setFeed(asset, feed, 3_600, *LOOSE, sender=gov)
    ev = tx.decode_logs(oracle.FeedSet)[0]
    assert ev.asset == asset.address and ev.aggregator == feed.address and ev.heartbeat == 3_600
    assert oracle.price(asset) == int(round(1234.5678 * 10**decimals)) * 10 ** (18 - decimals)


def test_price__with_unset_feed__reverts_FeedNotSet(oracle, asset):
    with ape.reverts(oracle.FeedNotSet, asset=asset.address):
        oracle.price(asset)


def test_price__with_stale_round__reverts_StalePrice(oracle, asset, create_feed, gov, chain):
    feed = create_feed(1.0)
    oracle.setFeed(asset, feed, 600, *LOOSE, sender=gov)
    chain.mine(1, timestamp=chain.pending_timestamp + 601 + oracle.gracePeriod())
    with ape.reverts(oracle.StalePrice):
        oracle.price(asset)
    assert not oracle.isHealthy(asset)


@pytest.mark.parametrize("answer", [0, -1])
def test_price__with_non_positive_answer__reverts_InvalidPrice(oracle, asset, create_feed, gov, answer):
    feed = create_feed(1.0)
    oracle.setFeed(asset, feed, 600, *LOOSE, sender=gov)
    feed.setAnswer(answer, sender=gov)
    with ape.reverts(oracle.InvalidPrice, asset=asset.address, answer=answer):
        oracle.price(asset)


def test_price__with_incomplete_round__reverts_IncompleteRound(oracle, asset, create_feed, gov, chain):
    feed = create_feed(1.0)
    oracle.setFeed(asset, feed, 600, *LOOSE, sender=gov)
    feed.setRound(2, 10**8, chain.pending_timestamp, 1, sender=gov)
    with ape.reverts(oracle.IncompleteRound, asset=asset.address, roundId=2, answeredInRound=1):
        oracle.price(asset)


def test_price__with_jump_beyond_max_deviation__reverts_PriceDeviation(oracle, asset, create_feed, gov):
    feed = create_feed(100.0)
    oracle.setFeed(asset, feed, 600, 1_000, 10_000, 1, 10**30, sender=gov)  # 10% per round
    feed.setAnswer(109 * 10**8, sender=gov)
    assert oracle.price(asset) == 109 * 10**18
    feed.setAnswer(125 * 10**8, sender=gov)  # +14.7%
    with ape.reverts(oracle.PriceDeviation, price=125 * 10**18, previousPrice=109 * 10**18, maxDeviationBps=1_000):
        oracle.price(asset)


def test_price__outside_hard_band__reverts_PriceOutOfBounds(oracle, asset, create_feed, gov):
    feed = create_feed(1.0)
    oracle.setFeed(asset, feed, 600, 10_000, 10_000, 95 * 10**16, 105 * 10**16, sender=gov)
    feed.setAnswer(94 * 10**6, sender=gov)  # USDC at $0.94
    with ape.reverts(oracle.PriceOutOfBounds, price=94 * 10**16):
        oracle.price(asset)


def test_set_feed__without_role__reverts_AccessControlUnauthorizedAccount(oracle, asset, create_feed, fish):
    feed = create_feed(1.0)
    with ape.reverts(oracle.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.ORACLE_ADMIN.value):
        oracle.setFeed(asset, feed, 600, *LOOSE, sender=fish)


def test_set_feed__with_zero_heartbeat__reverts_InvalidFeedConfig(oracle, asset, create_feed, gov):
    with ape.reverts(oracle.InvalidFeedConfig):
        oracle.setFeed(asset, create_feed(1.0), 0, *LOOSE, sender=gov)


def test_remove_feed__by_admin__emits_and_unsets(oracle, tokens, gov):
    tx = oracle.removeFeed(tokens["PAXG"], sender=gov)
    assert tx.decode_logs(oracle.FeedRemoved)[0].asset == tokens["PAXG"].address
    with ape.reverts(oracle.FeedNotSet):
        oracle.price(tokens["PAXG"])
