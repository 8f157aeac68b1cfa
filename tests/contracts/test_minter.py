"""Unit (contract layer): Minter — mint/redeem against each sleeve, fees, caps, roles, pause."""

import ape
import pytest

from conftest import COLLATERALS
from scripts._protocol import market_id
from utils.checks import check_supply_accounting, mint_quote, redeem_quote
from utils.constants import HOUR, Role

# Amounts small enough to stay inside the unhedged drift buffer ($10k) for BTC and gold.
MINT_AMOUNTS = {"USDC": 5_000, "TBILL": 5_000, "WBTC": 0.05, "PAXG": 2}


@pytest.mark.parametrize("symbol", COLLATERALS)
def test_mint__with_each_collateral__pays_oracle_value_less_fee(protocol, minter, husd, oracle, reserve, fund, arb, symbol):
    token = protocol.tokens[symbol]
    raw = fund(symbol, arb, MINT_AMOUNTS[symbol], spender=minter)
    price = oracle.price(token)
    expected, fee = mint_quote(raw, price, int(token.decimals()), int(minter.mintFeeBps()))

    supply_before = husd.totalSupply()
    tx = minter.mint(token, raw, expected, arb, sender=arb)

    assert husd.balanceOf(arb) == expected
    assert husd.totalSupply() == supply_before + expected  # the fee is never minted as HUSD
    assert husd.balanceOf(reserve) == 0
    assert token.balanceOf(minter) == raw  # ... its worth stays in custody as surplus collateral
    assert minter.mintedInBlock(tx.block_number) == expected  # the cap counts the HUSD issued
    event = tx.decode_logs(minter.Minted)[0]
    assert event.account == arb
    assert event.asset == token.address
    assert event.amountIn == raw
    assert event.husdOut == expected
    assert event.fee == fee
    assert event.price == price
    check_supply_accounting(husd)


@pytest.mark.parametrize("symbol", COLLATERALS)
def test_redeem__with_each_collateral__burns_husd_and_pays_collateral(protocol, minter, husd, oracle, reserve, fund, arb, symbol):
    token = protocol.tokens[symbol]
    raw = fund(symbol, arb, MINT_AMOUNTS[symbol], spender=minter)
    minted = minter.mint(token, raw, 0, arb, sender=arb).decode_logs(minter.Minted)[0].husdOut
    husd.approve(minter, minted, sender=arb)
    supply_before = husd.totalSupply()
    expected, fee = redeem_quote(minted, oracle.price(token), int(token.decimals()), int(minter.redeemFeeBps()))

    tx = minter.redeem(token, minted, expected, arb, sender=arb)

    assert token.balanceOf(arb) == expected
    assert expected <= raw  # a round trip never returns more than it took
    assert husd.balanceOf(arb) == 0
    assert husd.totalSupply() == supply_before - minted  # all of it burned, the fee included
    assert husd.balanceOf(reserve) == 0
    assert token.balanceOf(minter) == raw - expected  # the fee's worth stays in custody
    event = tx.decode_logs(minter.Redeemed)[0]
    assert (event.husdIn, event.amountOut, event.fee) == (minted, expected, fee)
    check_supply_accounting(husd)


def test_mint__with_zero_amount__reverts_ZeroAmount(minter, usdc, arb):
    with ape.reverts(minter.ZeroAmount):
        minter.mint(usdc, 0, 0, arb, sender=arb)


def test_redeem__with_dust_worth_zero_collateral__reverts_ZeroAmount(minter, husd, tokens, mint_husd, arb):
    mint_husd(10)
    husd.approve(minter, 10**18, sender=arb)
    with ape.reverts(minter.ZeroAmount):
        minter.redeem(tokens["WBTC"], 10**9, 0, arb, sender=arb)  # 1 gwei of HUSD is worth < 1 satoshi


def test_mint__without_whitelist__reverts_AccessControlUnauthorizedAccount(minter, usdc, fund, fish):
    raw = fund("USDC", fish, 100, spender=minter)
    with ape.reverts(minter.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.MINTER.value):
        minter.mint(usdc, raw, 0, fish, sender=fish)


def test_redeem__without_whitelist__reverts_AccessControlUnauthorizedAccount(minter, usdc, fish):
    with ape.reverts(minter.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.REDEEMER.value):
        minter.redeem(usdc, 10**18, 0, fish, sender=fish)


def test_mint__with_unsupported_collateral__reverts_UnsupportedCollateral(minter, create_token, arb):
    token = create_token("XYZ", 18)
    with ape.reverts(minter.UnsupportedCollateral, asset=token.address):
        minter.mint(token, 10**18, 0, arb, sender=arb)


def test_mint__when_paused__reverts_MintPaused(minter, usdc, fund, arb, gov):
    raw = fund("USDC", arb, 100, spender=minter)
    tx = minter.setMintPaused(True, sender=gov)
    assert tx.decode_logs(minter.MintPausedSet)[0].paused
    with ape.reverts(minter.MintPaused):
        minter.mint(usdc, raw, 0, arb, sender=arb)


def test_redeem__when_paused__reverts_RedeemPaused(minter, husd, usdc, mint_husd, arb, gov):
    minted = mint_husd(100)
    husd.approve(minter, minted, sender=arb)
    minter.setRedeemPaused(True, sender=gov)
    with ape.reverts(minter.RedeemPaused):
        minter.redeem(usdc, minted, 0, arb, sender=arb)


def test_set_mint_paused__unpause_by_guardian_key__reverts_AccessControlUnauthorizedAccount(minter, gov, guardian):
    minter.grantRole(Role.GUARDIAN.value, guardian, sender=gov)
    minter.setMintPaused(True, sender=guardian)
    with ape.reverts(minter.AccessControlUnauthorizedAccount):
        minter.setMintPaused(False, sender=guardian)
    minter.setMintPaused(False, sender=gov)
    assert not minter.mintPaused()


def test_mint__over_block_cap_in_one_block__reverts_PerBlockCapExceeded(minter, usdc, batcher, gov):
    """Two mints in one transaction share a block: the second one crosses the per-block cap."""
    cap = minter.maxMintPerBlock()
    minter.grantRole(Role.MINTER.value, batcher, sender=gov)
    half = cap // 10**12 // 2  # USDC (6 dp) worth half the cap
    usdc.mint(batcher, 3 * half, sender=gov)
    calls = [
        (usdc.address, usdc.approve.encode_input(minter, 3 * half)),
        (minter.address, minter.mint.encode_input(usdc, half, 0, batcher)),
        (minter.address, minter.mint.encode_input(usdc, half + 1, 0, batcher)),
    ]
    fee = int(minter.mintFeeBps())
    issued = lambda usdc_in: usdc_in * 10**12 - usdc_in * 10**12 * fee // 10_000  # noqa: E731 - HUSD issued, the cap's unit
    second = half + 1 + half * fee // 2_000  # enough that the second mint's HUSD crosses the cap
    calls[2] = (minter.address, minter.mint.encode_input(usdc, second, 0, batcher))
    assert issued(half) + issued(second) > cap >= issued(half)
    with ape.reverts(minter.PerBlockCapExceeded, requested=issued(second), remaining=cap - issued(half)):
        batcher.execute(calls, sender=gov)
    # The same two mints in two blocks go through.
    batcher.execute(calls[:2], sender=gov)
    batcher.execute(calls[1:2], sender=gov)
    assert minter.mintedInBlock(ape.chain.blocks.head.number) == issued(half)


def test_mint__over_hour_cap_across_blocks__reverts_PerHourCapExceeded_until_next_hour(minter, usdc, fund, arb, chain, gov):
    minter.setFees(0, minter.redeemFeeBps(), sender=gov)  # whole-dollar HUSD per chunk: the cap fills exactly
    per_block = minter.maxMintPerBlock()
    per_hour = minter.maxMintPerHour()
    # Start at the top of an hour so the whole sequence sits in one hour bucket.
    now = chain.pending_timestamp
    chain.pending_timestamp = now - now % HOUR + HOUR
    chunk = per_block // 10**12
    fund("USDC", arb, 2 * per_hour // 10**18, spender=minter)
    for _ in range(per_hour // per_block):
        minter.mint(usdc, chunk, 0, arb, sender=arb)
    assert minter.remainingMintInHour() == 0
    with ape.reverts(minter.PerHourCapExceeded, requested=10**18, remaining=0):
        minter.mint(usdc, 10**6, 0, arb, sender=arb)
    chain.pending_timestamp = chain.pending_timestamp + HOUR
    minter.mint(usdc, 10**6, 0, arb, sender=arb)


def test_redeem__over_block_cap__reverts_PerBlockCapExceeded(minter, husd, usdc, mint_husd, arb, gov):
    minter.setCaps(minter.maxMintPerBlock(), minter.maxMintPerHour(), 100 * 10**18, minter.maxRedeemPerHour(), sender=gov)
    minted = mint_husd(1_000)
    husd.approve(minter, minted, sender=arb)
    with ape.reverts(minter.PerBlockCapExceeded, requested=101 * 10**18, remaining=100 * 10**18):
        minter.redeem(usdc, 101 * 10**18, 0, arb, sender=arb)


def test_mint__with_stale_oracle__reverts_StalePrice(minter, oracle, tokens, fund, arb, chain):
    raw = fund("WBTC", arb, 0.01, spender=minter)
    chain.pending_timestamp = chain.pending_timestamp + 3_601 + oracle.gracePeriod()  # BTC heartbeat is one hour
    with ape.reverts(oracle.StalePrice):
        minter.mint(tokens["WBTC"], raw, 0, arb, sender=arb)


def test_mint__with_min_out_above_quote__reverts_SlippageExceeded(minter, usdc, fund, arb):
    raw = fund("USDC", arb, 100, spender=minter)
    out, _ = minter.previewMint(usdc, raw)
    with ape.reverts(minter.SlippageExceeded, amountOut=out, minAmountOut=out + 1):
        minter.mint(usdc, raw, out + 1, arb, sender=arb)


def test_mint__btc_beyond_hedge_drift__reverts_DeltaDriftExceeded_until_hedged(minter, ledger, tokens, fund, arb, operator):
    wbtc = tokens["WBTC"]
    raw = fund("WBTC", arb, 1, spender=minter)  # $95k unhedged, bound is 2% + $10k
    with ape.reverts(ledger.DeltaDriftExceeded):
        minter.mint(wbtc, raw, 0, arb, sender=arb)
    # Pre-hedge: the operator reports a short of the size about to arrive.
    ledger.report(market_id("BTC-PERP"), 95_000 * 10**18, 10_000 * 10**18, 0, b"VENUE".ljust(32, b"\0"), sender=operator)
    minter.mint(wbtc, raw, 0, arb, sender=arb)
    net, bound = ledger.netDelta(wbtc)
    assert abs(net) <= bound


def test_redeem__with_collateral_moved_out__reverts_InsufficientCollateral(minter, husd, psm, usdc, mint_husd, arb, treasurer):
    minted = mint_husd(1_000)
    tx = minter.moveCollateral(usdc, psm, usdc.balanceOf(minter), sender=treasurer)  # to the PSM's buffer
    assert tx.decode_logs(minter.CollateralMoved)[0].to == psm.address
    husd.approve(minter, minted, sender=arb)
    with ape.reverts(minter.InsufficientCollateral):
        minter.redeem(usdc, minted, 0, arb, sender=arb)


def test_lower_mint_caps__raising__reverts_CapNotLowered(minter, gov):
    current = minter.maxMintPerBlock()
    with ape.reverts(minter.CapNotLowered, current=current, requested=current + 1):
        minter.lowerMintCaps(current + 1, minter.maxMintPerHour(), sender=gov)


def test_set_fees__above_max__reverts_FeeTooHigh(minter, gov):
    with ape.reverts(minter.FeeTooHigh, feeBps=501, maxFeeBps=500):
        minter.setFees(501, 0, sender=gov)


def test_set_fees__by_admin__emits_FeesSet(minter, gov):
    tx = minter.setFees(7, 9, sender=gov)
    ev = tx.decode_logs(minter.FeesSet)[0]
    assert (ev.mintFeeBps, ev.redeemFeeBps) == (7, 9)


def test_mint__reentering_through_collateral__reverts_ReentrancyGuardReentrantCall(project, minter, oracle, gov, arb, create_feed):
    token = gov.deploy(project.ReentrantToken)
    feed = create_feed(1.0)
    oracle.setFeed(token, feed, 86_400, 100, 200, 10**17, 10 * 10**18, sender=gov)
    minter.setCollateral(token, True, sender=gov)
    minter.grantRole(Role.MINTER.value, token, sender=gov)
    token.mint(arb, 10**20, sender=gov)
    token.mint(token, 10**20, sender=gov)
    token.approve(minter, 10**20, sender=arb)
    token.arm(minter, minter.mint.encode_input(token, 10**18, 0, token), sender=gov)
    with ape.reverts(minter.ReentrancyGuardReentrantCall):
        minter.mint(token, 10**18, 0, arb, sender=arb)


def test_distribute_rewards__by_treasurer__mints_into_shusd_vesting(minter, husd, shusd, usdc, treasurer, chain):
    """Staker rewards are minted against surplus and vest in sHUSD; they do not use the mint caps."""
    usdc.mint(minter, 1_000 * 10**6, sender=treasurer)  # revenue lands in custody: $1,000 of surplus
    supply, cap_used = husd.totalSupply(), minter.mintedInHour(chain.pending_timestamp // HOUR)
    tx = minter.distributeRewards(1_000 * 10**18, sender=treasurer)
    assert husd.totalSupply() == supply + 1_000 * 10**18
    assert husd.balanceOf(shusd) >= 1_000 * 10**18 and husd.balanceOf(minter) == 0
    assert shusd.vestingAmount() == 1_000 * 10**18
    assert minter.mintedInHour(tx.timestamp // HOUR) == cap_used
    assert tx.decode_logs(minter.RewardsDistributed)[0].amount == 1_000 * 10**18


def test_distribute_rewards__without_treasurer__reverts_AccessControlUnauthorizedAccount(minter, shusd, fish):
    with ape.reverts(minter.AccessControlUnauthorizedAccount):
        minter.distributeRewards(10**18, sender=fish)
