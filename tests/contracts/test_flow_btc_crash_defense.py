"""E2E (contract layer), one story: a BTC crash, and the protocol defends the peg in order.

Arbs mint against BTC (hedged) and USDC; BTC drops 30% in two oracle rounds; the hedge keeps the
sleeve whole while the venue marks PnL; a funding shock is paid by the reserve; the pool sells off,
arbs buy HUSD cheap on Uniswap and redeem it at $1 (mint/redeem arbitrage restores the pool price);
a feed goes stale and the Guardian pauses minting; the backstop sells HYB to refill the reserve.
"""

from scripts._protocol import MAX_UINT256, WAD, market_id
from utils.checks import check_backing_is_sum_of_parts, check_supply_accounting

BTC = market_id("BTC-PERP")
VENUE = b"PERPDEX".ljust(32, b"\0")


def _husd_price_in_pool(info, husd) -> float:
    """USDC per HUSD from the pool's sqrt price."""
    sqrt_p = info.pool.slot0()[0] / 2**96
    raw = sqrt_p**2  # token1 per token0, base units
    if info.token0.address == husd.address:
        return raw * 10**12
    return 1 / (raw / 10**12)


def test_btc_crash__hedged_sleeve_arbitrage_breakers_and_backstop__peg_defended(
    protocol, minter, husd, ledger, reserve, guardian_contract, backstop, router, husd_pool, usdc, tokens,
    fund, arb, whale, operator, treasurer, keeper, fish, set_price, chain,
):
    wbtc = tokens["WBTC"]

    # 1. The operator pre-hedges 10 BTC; the arb mints against it and against USDC.
    ledger.report(BTC, 950_000 * WAD, 200_000 * WAD, 0, VENUE, sender=operator)
    raw_btc = fund("WBTC", arb, 10, spender=minter)
    minter.mint(wbtc, raw_btc, 0, arb, sender=arb)
    raw_usdc = fund("USDC", arb, 500_000, spender=minter)
    minter.mint(usdc, raw_usdc, 0, arb, sender=arb)
    assert abs(ledger.netDelta(wbtc)[0]) <= ledger.netDelta(wbtc)[1]
    backing_before = ledger.totalBacking()
    assert backing_before >= husd.totalSupply()

    # 2. BTC -15% (exactly the 15%/round jump bound: accepted), then -17.6% in one round (refused).
    set_price("WBTC", 80_750)
    set_price("WBTC", 66_500)
    assert not protocol.oracle.isHealthy(wbtc)  # a 17.6% jump in one round is refused

    # 3. Anyone trips the oracle breaker: minting pauses, redemptions keep working.
    guardian_contract.checkOracles(sender=fish)
    assert minter.mintPaused() and not minter.redeemPaused()

    # 4. A keeper pushes a confirming round; the venue re-marks the short (10 BTC at $66.5k) with its
    #    gain; spot + hedge equity is unchanged (delta-neutral).
    set_price("WBTC", 66_500)
    assert protocol.oracle.isHealthy(wbtc)
    tx = ledger.report(BTC, 665_000 * WAD, 200_000 * WAD, 285_000 * WAD, VENUE, sender=operator)
    assert tx.decode_logs(ledger.HedgeReported)[0].netDelta == 0
    backing_after = ledger.totalBacking()
    assert abs(backing_after - backing_before) <= backing_before // 10_000  # delta-neutral within 1 bp
    check_backing_is_sum_of_parts(protocol)

    # 5. Funding turns negative: the reserve pays the venue (within its daily limit).
    usdc.mint(reserve, 50_000 * 10**6, sender=treasurer)
    reserve.payFunding(usdc, operator, 20_000 * 10**6, sender=treasurer)

    # 6. Panic on the secondary market: a whale dumps HUSD into the Uniswap pool.
    dump = 1_000_000 * WAD
    husd.transfer(whale, dump, sender=arb)
    husd.approve(router, MAX_UINT256, sender=whale)
    router.exactInput(husd_pool.pool, husd, dump, 0, whale, sender=whale)
    depegged = _husd_price_in_pool(husd_pool, husd)
    assert depegged < 0.999

    # 7. The arb buys cheap HUSD on the pool and redeems it at $1 for USDC: profit, and the pool recovers.
    usdc.mint(arb, 400_000 * 10**6, sender=arb)
    usdc.approve(router, MAX_UINT256, sender=arb)
    husd_before = husd.balanceOf(arb)
    router.exactInput(husd_pool.pool, usdc, 400_000 * 10**6, 0, arb, sender=arb)
    bought = husd.balanceOf(arb) - husd_before
    assert bought > 400_000 * WAD  # bought below par
    husd.approve(minter, MAX_UINT256, sender=arb)
    usdc_before = usdc.balanceOf(arb)
    minter.redeem(usdc, bought, 0, arb, sender=arb)
    assert usdc.balanceOf(arb) - usdc_before > 400_000 * 10**6  # arbitrage paid
    assert _husd_price_in_pool(husd_pool, husd) > depegged

    # 8. The backstop refills the reserve by selling HYB into its pool; HYB's price takes the hit.
    reserve_usdc = usdc.balanceOf(reserve)
    tx = backstop.recapitalize(1_000_000 * WAD, 0, sender=keeper)
    raised = tx.decode_logs(backstop.Recapitalized)[0].usdcRaised
    assert raised > 0 and usdc.balanceOf(reserve) == reserve_usdc + raised

    # 9. The books still balance.
    check_supply_accounting(husd)
    check_backing_is_sum_of_parts(protocol)
    assert ledger.totalBacking() >= husd.totalSupply() * 99 // 100
