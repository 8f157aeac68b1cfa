"""Unit (contract layer): HedgeLedger — operator reports, drift bound, backing accounting."""

import ape

from scripts._protocol import WAD, market_id
from utils.checks import check_backing_is_sum_of_parts
from utils.constants import Role

BTC = market_id("BTC-PERP")
VENUE = b"BINANCE".ljust(32, b"\0")


def test_report__by_operator__records_position_and_emits_HedgeReported(ledger, operator, chain):
    tx = ledger.report(BTC, 1_000 * WAD, 200 * WAD, -5 * WAD, VENUE, sender=operator)
    h = ledger.hedges(BTC)
    assert (h.notional, h.margin, h.unrealizedPnl, h.venue) == (1_000 * WAD, 200 * WAD, -5 * WAD, VENUE)
    assert h.updatedAt == chain.blocks.head.timestamp
    ev = tx.decode_logs(ledger.HedgeReported)[0]
    assert ev.market == BTC and ev.notional == 1_000 * WAD and ev.unrealizedPnl == -5 * WAD
    assert ev.netDelta == -1_000 * WAD  # no BTC in custody yet: net short


def test_report__without_operator_role__reverts_AccessControlUnauthorizedAccount(ledger, fish):
    with ape.reverts(ledger.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.OPERATOR.value):
        ledger.report(BTC, 0, 0, 0, VENUE, sender=fish)


def test_report__unknown_market__reverts_UnknownMarket(ledger, operator):
    with ape.reverts(ledger.UnknownMarket, market=market_id("DOGE-PERP")):
        ledger.report(market_id("DOGE-PERP"), 0, 0, 0, VENUE, sender=operator)


def test_report__with_drift_beyond_bound__emits_DeltaDriftBreached(ledger, operator):
    tx = ledger.report(BTC, 50_000 * WAD, 0, 0, VENUE, sender=operator)  # bound is $10k with no spot
    ev = tx.decode_logs(ledger.DeltaDriftBreached)[0]
    assert ev.netDelta == -50_000 * WAD and ev.bound == 10_000 * WAD


def test_net_delta__after_price_move__stays_hedged_when_short_matches(protocol, minter, ledger, tokens, fund, arb, operator, hedge_fully, set_price):
    wbtc = tokens["WBTC"]
    ledger.report(BTC, 95_000 * WAD, 20_000 * WAD, 0, VENUE, sender=operator)
    raw = fund("WBTC", arb, 1, spender=minter)
    minter.mint(wbtc, raw, 0, arb, sender=arb)
    set_price("WBTC", 85_000)  # -10.5%, within the 15% per-round deviation
    net, bound = ledger.netDelta(wbtc)
    assert net == -10_000 * WAD  # spot fell, short notional not yet re-marked
    assert abs(net) <= bound
    hedge_fully(margin_usd=20_000, pnl_usd=10_000)
    assert ledger.netDelta(wbtc)[0] == 0
    check_backing_is_sum_of_parts(protocol)


def test_total_backing__equals_collateral_plus_hedge_equity(protocol, ledger, minter, psm, usdc, mint_husd, operator):
    mint_husd(50_000)
    ledger.report(BTC, 0, 3_000 * WAD, -1_000 * WAD, VENUE, sender=operator)
    collateral, equity = ledger.backingBreakdown()
    assert collateral == minter.collateralValue() + usdc.balanceOf(psm) * 10**12  # Minter + PSM custody
    assert equity == 2_000 * WAD
    assert ledger.totalBacking() == collateral + equity
    check_backing_is_sum_of_parts(protocol)


def test_total_backing__with_losses_beyond_collateral__floors_at_zero(ledger, operator):
    ledger.report(BTC, 0, 0, -(10**9) * WAD, VENUE, sender=operator)
    assert ledger.hedgeEquity() < 0
    assert ledger.totalBacking() == 0


def test_add_market__twice__reverts_MarketExists(ledger, tokens, gov):
    with ape.reverts(ledger.MarketExists, market=BTC):
        ledger.addMarket(BTC, tokens["WBTC"], sender=gov)


def test_set_drift_bound__by_admin__emits_DriftBoundSet(ledger, gov):
    tx = ledger.setDriftBound(100, 0, sender=gov)
    ev = tx.decode_logs(ledger.DriftBoundSet)[0]
    assert (ev.maxDriftBps, ev.driftBufferUsd) == (100, 0)


def test_net_delta__for_unhedged_sleeve__reverts_AssetNotHedged(ledger, usdc):
    assert not ledger.isHedged(usdc)
    with ape.reverts(ledger.AssetNotHedged, asset=usdc.address):
        ledger.netDelta(usdc)
