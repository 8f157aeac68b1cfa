"""Regression tests for the contract-security review (issue 16), contract layer.

Each finding has the test that failed before its fix: the Guardian re-pausing over a delisted asset
and tripping on a round a minute late; feeds without a price band; a walk of small jumps (and a
missing previous round) passing the oracle checks; stale hedge reports counted in backing; the
backing breaker reverting during an oracle outage; rewards minted to any vault in any amount;
collateral moved anywhere. The last tests pin two decisions (shared redeem caps, USDC depeg).
"""

import ape
import pytest

from scripts._protocol import WAD, market_id
from utils.constants import HOUR

VENUE = b"VENUE".ljust(32, b"\0")


@pytest.fixture(scope="session")
def asset(create_token):
    return create_token("ASSET", 18)


def refresh_feeds(protocol, gov):
    """A fresh round at the current answer on every feed (no jump, no drift)."""
    for feed in protocol.feeds.values():
        feed.setAnswer(feed.latestAnswer(), sender=gov)


# ---------------------------------------------------------------------- Guardian: delisting, grace


def test_check_oracles__after_admin_delists_asset__never_repauses(guardian_contract, minter, oracle, tokens, gov, fish, mint_husd):
    wbtc = tokens["WBTC"]
    minter.setCollateral(wbtc, False, sender=gov)
    oracle.removeFeed(wbtc, sender=gov)
    tx = guardian_contract.unwatchAsset(wbtc, sender=gov)
    assert tx.decode_logs(guardian_contract.AssetUnwatched)[0].asset == wbtc.address
    assert wbtc.address not in guardian_contract.watchedAssets()
    for _ in range(3):  # the review's repro: admin unpause, anyone re-pauses, three times
        with ape.reverts(guardian_contract.NothingToTrip):
            guardian_contract.checkOracles(sender=fish)
        assert not minter.mintPaused()
    assert mint_husd(1_000) > 0


def test_unwatch_asset__by_stranger__reverts_and_twice__reverts_NotWatched(guardian_contract, tokens, gov, fish):
    with ape.reverts(guardian_contract.AccessControlUnauthorizedAccount):
        guardian_contract.unwatchAsset(tokens["PAXG"], sender=fish)
    guardian_contract.unwatchAsset(tokens["PAXG"], sender=gov)
    with ape.reverts(guardian_contract.NotWatched):
        guardian_contract.unwatchAsset(tokens["PAXG"], sender=gov)
    with ape.reverts(guardian_contract.AlreadyWatched):
        guardian_contract.watchAsset(tokens["USDC"], sender=gov)


def test_check_oracles__round_a_minute_late__within_grace_no_trip(protocol, guardian_contract, oracle, tokens, gov, fish, chain):
    grace = int(oracle.gracePeriod())
    assert grace >= 300
    refresh_feeds(protocol, gov)
    t0 = chain.blocks.head.timestamp
    chain.mine(1, timestamp=t0 + 3_600 + 60)  # the WBTC round (1 h heartbeat) is a minute late
    assert oracle.isHealthy(tokens["WBTC"])
    with ape.reverts(guardian_contract.NothingToTrip):
        guardian_contract.checkOracles(sender=fish)
    chain.mine(1, timestamp=t0 + 3_600 + grace + 1)  # past the grace period: an outage
    assert not oracle.isHealthy(tokens["WBTC"])
    guardian_contract.checkOracles(sender=fish)


# ---------------------------------------------------------------------- oracle: bands, drift, missing rounds


@pytest.mark.parametrize("sym", ["USDC", "TBILL", "WBTC", "PAXG"])
def test_every_deployed_feed__has_a_price_band(oracle, tokens, sym):
    f = oracle.feeds(tokens[sym])
    assert 0 < f.minPrice < f.maxPrice
    assert 0 < f.maxDeviationBps <= f.maxDriftBps


def test_price__wbtc_far_below_its_band__reverts_PriceOutOfBounds(oracle, feeds, tokens, gov):
    feeds["WBTC"].setRound(feeds["WBTC"].latestRound() + 1, 5 * 10**8, ape.chain.pending_timestamp,
                           feeds["WBTC"].latestRound() + 1, sender=gov)  # $5 BTC
    with ape.reverts(oracle.PriceOutOfBounds):
        oracle.price(tokens["WBTC"])


@pytest.mark.parametrize("band", [(0, 0), (0, 10**18), (2 * 10**18, 10**18)])
def test_set_feed__without_a_band__reverts_InvalidFeedConfig(oracle, asset, create_feed, gov, band):
    with ape.reverts(oracle.InvalidFeedConfig):
        oracle.setFeed(asset, create_feed(1.0), 600, 100, 200, *band, sender=gov)


def test_price__walk_of_small_jumps__bounded_by_drift(oracle, asset, create_feed, gov):
    feed = create_feed(100.0)
    oracle.setFeed(asset, feed, 600, 1_000, 2_500, 10**18, 10_000 * 10**18, sender=gov)  # 10 %/round, 25 % drift
    answer = 100 * 10**8
    for _ in range(2):  # +9 % per round: 100 -> 109 -> 118.81, within both bounds
        answer = answer * 109 // 100
        feed.setAnswer(answer, sender=gov)
        oracle.price(asset)
    answer = answer * 109 // 100  # 129.5: within 10 % of the previous round, 29.5 % from the first
    feed.setAnswer(answer, sender=gov)
    with ape.reverts(oracle.PriceDrift):
        oracle.price(asset)


def test_price__previous_round_missing__reverts_RoundMissing(oracle, asset, create_feed, gov, chain):
    feed = create_feed(1.0)
    oracle.setFeed(asset, feed, 600, 100, 200, 10**17, 10 * 10**18, sender=gov)
    feed.setRound(5, 10**8, chain.pending_timestamp, 5, sender=gov)  # rounds 2-4 never written
    with ape.reverts(oracle.RoundMissing, roundId=4):
        oracle.price(asset)
    assert not oracle.isHealthy(asset)


def test_set_grace_period__above_max__reverts_and_by_admin__emits(oracle, gov, fish):
    with ape.reverts(oracle.InvalidGracePeriod):
        oracle.setGracePeriod(oracle.MAX_GRACE_PERIOD() + 1, sender=gov)
    with ape.reverts(oracle.AccessControlUnauthorizedAccount):
        oracle.setGracePeriod(60, sender=fish)
    assert oracle.setGracePeriod(60, sender=gov).decode_logs(oracle.GracePeriodSet)[0].gracePeriod == 60


# ---------------------------------------------------------------------- hedge reports: staleness in backing


def test_backing__stale_hedge_report__counts_its_loss_not_its_gain(protocol, ledger, operator, gov, chain):
    btc, xau = market_id("BTC-PERP"), market_id("XAU-PERP")
    ledger.report(btc, 0, 100_000 * WAD, 50_000 * WAD, VENUE, sender=operator)  # +$150k equity
    ledger.report(xau, 0, 10_000 * WAD, -30_000 * WAD, VENUE, sender=operator)  # -$20k equity
    fresh = int(ledger.totalBacking())
    chain.mine(1, timestamp=chain.blocks.head.timestamp + int(ledger.maxReportAge()) + 1)
    refresh_feeds(protocol, gov)
    assert not ledger.isFresh(btc)
    assert int(ledger.hedgeEquity()) == -20_000 * WAD
    assert int(ledger.totalBacking()) == fresh - 150_000 * WAD


def test_mint_hedged__stale_hedge_report__reverts_StaleHedgeReport(protocol, minter, ledger, tokens, fund, arb, operator, gov, chain):
    wbtc = tokens["WBTC"]
    ledger.report(market_id("BTC-PERP"), 95_000 * WAD, 10_000 * WAD, 0, VENUE, sender=operator)
    chain.mine(1, timestamp=chain.blocks.head.timestamp + int(ledger.maxReportAge()) + 1)
    refresh_feeds(protocol, gov)
    raw = fund("WBTC", arb, 1, spender=minter)
    with ape.reverts(ledger.StaleHedgeReport):
        minter.mint(wbtc, raw, 0, arb, sender=arb)


def test_set_max_report_age__zero__reverts_and_by_admin__emits(ledger, gov):
    with ape.reverts(ledger.InvalidReportAge):
        ledger.setMaxReportAge(0, sender=gov)
    assert ledger.setMaxReportAge(3_600, sender=gov).decode_logs(ledger.MaxReportAgeSet)[0].maxReportAge == 3_600


# ---------------------------------------------------------------------- backing breaker during an oracle outage


def test_report__during_btc_oracle_outage__is_recorded(protocol, ledger, oracle, tokens, operator, gov, chain):
    """Found by the forge invariant suite: the report computed the net delta at the oracle price and
    reverted during an outage, so a venue loss could not reach the backing breaker."""
    chain.mine(1, timestamp=chain.blocks.head.timestamp + 2 * HOUR)  # the BTC feed (1 h heartbeat) dies
    assert not oracle.isHealthy(tokens["WBTC"])
    tx = ledger.report(market_id("BTC-PERP"), 0, 0, -50_000 * WAD, VENUE, sender=operator)
    assert tx.decode_logs(ledger.HedgeReported)[0].netDelta == 0
    assert int(ledger.hedgeEquity()) == -50_000 * WAD


def test_check_backing__during_btc_oracle_outage__trips(protocol, guardian_contract, minter, ledger, oracle, tokens, fund, arb,
                                                         operator, fish, gov, chain):
    wbtc = tokens["WBTC"]
    refresh_feeds(protocol, gov)
    ledger.report(market_id("BTC-PERP"), 950_000 * WAD, 0, 0, VENUE, sender=operator)
    minter.mint(wbtc, fund("WBTC", arb, 10, spender=minter), 0, arb, sender=arb)  # $950k of BTC
    assert not guardian_contract.isUnderBacked()
    chain.mine(1, timestamp=chain.blocks.head.timestamp + 2 * HOUR)  # the BTC feed dies
    for sym in ("USDC", "TBILL", "PAXG"):
        protocol.feeds[sym].setAnswer(protocol.feeds[sym].latestAnswer(), sender=gov)
    with ape.reverts(oracle.StalePrice):
        ledger.totalBacking()
    backing, unpriced = ledger.backingFloor()
    assert unpriced == 1
    assert guardian_contract.isUnderBacked()  # BTC counts zero: ~$2M of ~$2.95M
    tx = guardian_contract.checkBacking(sender=fish)
    assert tx.decode_logs(guardian_contract.CircuitBreakerTripped)[0].reason.rstrip(b"\0") == b"BACKING"
    assert minter.mintPaused()


# ---------------------------------------------------------------------- rewards: registered vault, realised surplus


def test_distribute_rewards__beyond_realised_surplus__reverts_RewardsExceedSurplus(minter, ledger, husd, shusd, treasurer, mint_husd):
    assert minter.rewardVault() == shusd.address
    mint_husd(1_000_000)  # the 5 bps mint fee stays in custody: $500 of surplus
    surplus = int(ledger.realisedBacking()) - int(husd.totalSupply())
    assert surplus >= 499 * WAD
    with ape.reverts(minter.RewardsExceedSurplus, amount=surplus + 1, surplus=surplus):
        minter.distributeRewards(surplus + 1, sender=treasurer)
    tx = minter.distributeRewards(surplus, sender=treasurer)
    assert tx.decode_logs(minter.RewardsDistributed)[0].vault == shusd.address
    assert int(ledger.totalBacking()) >= int(husd.totalSupply())


def test_distribute_rewards__against_unrealised_hedge_gain__reverts(minter, ledger, husd, treasurer, operator, mint_husd):
    mint_husd(1_000)
    ledger.report(market_id("BTC-PERP"), 0, 0, 1_000_000 * WAD, VENUE, sender=operator)  # +$1M on paper
    assert int(ledger.totalBacking()) > int(husd.totalSupply()) + 900_000 * WAD
    with ape.reverts(minter.RewardsExceedSurplus):
        minter.distributeRewards(10_000 * WAD, sender=treasurer)


def test_set_reward_vault__by_stranger__reverts(minter, fish, shusd):
    with ape.reverts(minter.AccessControlUnauthorizedAccount):
        minter.setRewardVault(shusd, sender=fish)


# ---------------------------------------------------------------------- moveCollateral: registered destinations


def test_move_collateral__to_unregistered_account__reverts_UnregisteredDestination(minter, usdc, treasurer, fish, mint_husd):
    mint_husd(1_000)
    for to in (fish, treasurer, minter):
        with ape.reverts(minter.UnregisteredDestination, to=to.address):
            minter.moveCollateral(usdc, to, 10**6, sender=treasurer)


def test_move_collateral__to_custodian_or_registered_venue__keeps_backing(minter, ledger, psm, usdc, treasurer, operator, gov,
                                                                          mint_husd):
    mint_husd(1_000)
    before = int(ledger.totalBacking())
    minter.moveCollateral(usdc, psm, 100 * 10**6, sender=treasurer)  # the PSM is a registered custodian
    assert int(ledger.totalBacking()) == before
    venue = "0x000000000000000000000000000000000000bEEF"  # an exchange deposit account
    tx = minter.setDestination(venue, True, sender=gov)
    assert tx.decode_logs(minter.DestinationSet)[0].account == venue
    minter.moveCollateral(usdc, venue, 200 * 10**6, sender=treasurer)  # margin at the venue, once reported
    ledger.report(market_id("BTC-PERP"), 0, 200 * WAD, 0, VENUE, sender=operator)
    assert int(ledger.totalBacking()) == before
    minter.setDestination(venue, False, sender=gov)
    with ape.reverts(minter.UnregisteredDestination):
        minter.moveCollateral(usdc, venue, 1, sender=treasurer)


# ---------------------------------------------------------------------- decisions: shared caps, USDC depeg


def test_redeem_caps__shared_by_every_redeemer__one_hour_then_fresh(minter, husd, usdc, gov, arb, whale, mint_husd, chain):
    """Decision: the per-block and per-hour redeem caps are shared (contracts/README.md, "Decisions")."""
    minter.grantRole(minter.REDEEMER_ROLE(), whale, sender=gov)
    minter.setCaps(minter.maxMintPerBlock(), minter.maxMintPerHour(), 1_000 * WAD, 1_500 * WAD, sender=gov)
    mint_husd(2_000)
    mint_husd(1_000, recipient=whale)
    husd.approve(minter, 2**256 - 1, sender=arb)
    husd.approve(minter, 2**256 - 1, sender=whale)
    now = chain.pending_timestamp
    chain.pending_timestamp = now - now % HOUR + HOUR + 60
    minter.redeem(usdc, 1_000 * WAD, 0, arb, sender=arb)
    minter.redeem(usdc, 500 * WAD, 0, arb, sender=arb)
    with ape.reverts(minter.PerHourCapExceeded):  # one redeemer used the hour for everyone
        minter.redeem(usdc, 100 * WAD, 0, whale, sender=whale)
    chain.pending_timestamp = chain.pending_timestamp + HOUR
    minter.redeem(usdc, 900 * WAD, 0, whale, sender=whale)


def test_redeem__usdc_depegged_past_band__usdc_leg_stops_other_sleeves_and_psm_go_on(
        protocol, minter, psm, husd, oracle, tokens, feeds, gov, arb, mint_husd, fund):
    """Decision: below its band USDC cannot be priced, so the Minter's USDC redemptions stop; HUSD
    still redeems in the other sleeves and 1:1 through the PSM (contracts/README.md, "Decisions")."""
    mint_husd(10_000)
    tbill = tokens["TBILL"]
    minter.mint(tbill, fund("TBILL", arb, 10_000, spender=minter), 0, arb, sender=arb)
    husd.approve(minter, 2**256 - 1, sender=arb)
    husd.approve(psm, 2**256 - 1, sender=arb)
    for px in (0.985, 0.97, 0.955, 0.94):  # a depeg in steps the jump and drift bounds let through
        feeds["USDC"].setAnswer(protocol.feed_answer("USDC", px), sender=gov)
    with ape.reverts(oracle.PriceOutOfBounds):
        minter.redeem(tokens["USDC"], 1_000 * WAD, 0, arb, sender=arb)
    minter.redeem(tbill, 1_000 * WAD, 0, arb, sender=arb)
    psm.swapOut(1_000 * WAD, arb, sender=arb)
    tokens["USDC"].mint(arb, 1_000 * 10**6, sender=arb)
    tokens["USDC"].approve(psm, 2**256 - 1, sender=arb)
    with ape.reverts(oracle.PriceOutOfBounds):  # the PSM mints nothing at par against depegged USDC
        psm.swapIn(1_000 * 10**6, arb, sender=arb)
