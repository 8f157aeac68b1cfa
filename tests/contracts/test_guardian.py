"""Unit (contract layer): Guardian circuit breakers — oracle trouble, under-backing, guardian keys."""

import ape

from scripts._protocol import WAD, market_id
from utils.constants import Role


def test_check_oracles__with_stale_feed__pauses_mint(guardian_contract, oracle, minter, usdc, fund, arb, fish, chain):
    # the BTC feed (1 h heartbeat) is now stale, past the grace period too
    chain.mine(1, timestamp=chain.pending_timestamp + 3_601 + oracle.gracePeriod())
    tx = guardian_contract.checkOracles(sender=fish)  # anyone may trip a breaker whose condition holds
    ev = tx.decode_logs(guardian_contract.CircuitBreakerTripped)[0]
    assert ev.reason.rstrip(b"\0") == b"ORACLE"
    assert minter.mintPaused()
    raw = fund("USDC", arb, 10, spender=minter)
    with ape.reverts(minter.MintPaused):
        minter.mint(usdc, raw, 0, arb, sender=arb)


def test_check_oracles__all_healthy__reverts_NothingToTrip(guardian_contract, fish):
    assert guardian_contract.oraclesHealthy()
    with ape.reverts(guardian_contract.NothingToTrip):
        guardian_contract.checkOracles(sender=fish)


def test_check_backing__under_backed__pauses_mint(guardian_contract, minter, ledger, mint_husd, operator, fish):
    mint_husd(100_000)
    with ape.reverts(guardian_contract.NothingToTrip):
        guardian_contract.checkBacking(sender=fish)
    # A big realized loss at the venue: hedge equity -$60k against ~$2.1M of HUSD.
    ledger.report(market_id("BTC-PERP"), 0, 0, -60_000 * WAD, b"V".ljust(32, b"\0"), sender=operator)
    assert guardian_contract.isUnderBacked()
    tx = guardian_contract.checkBacking(sender=fish)
    assert tx.decode_logs(guardian_contract.CircuitBreakerTripped)[0].reason.rstrip(b"\0") == b"BACKING"
    assert minter.mintPaused()


def test_pause_psm__by_guardian__pauses_and_emits(guardian_contract, psm, guardian):
    tx = guardian_contract.pausePsm(sender=guardian)
    assert tx.decode_logs(guardian_contract.GuardianPause)[0].by == guardian.address
    assert psm.paused()


def test_pause_redeem__by_guardian__pauses(guardian_contract, minter, guardian):
    guardian_contract.pauseRedeem(sender=guardian)
    assert minter.redeemPaused()


def test_pause_mint__without_guardian_role__reverts_AccessControlUnauthorizedAccount(guardian_contract, fish):
    with ape.reverts(guardian_contract.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.GUARDIAN.value):
        guardian_contract.pauseMint(sender=fish)


def test_lower_mint_caps__by_guardian__lowers_caps(guardian_contract, minter, guardian):
    guardian_contract.lowerMintCaps(10 * WAD, 20 * WAD, sender=guardian)
    assert (minter.maxMintPerBlock(), minter.maxMintPerHour()) == (10 * WAD, 20 * WAD)


def test_lower_mint_caps__raising_through_guardian__reverts_CapNotLowered(guardian_contract, minter, guardian):
    with ape.reverts(minter.CapNotLowered):
        guardian_contract.lowerMintCaps(minter.maxMintPerBlock() + 1, minter.maxMintPerHour(), sender=guardian)


def test_unpause__by_guardian_contract__is_impossible_admin_restarts(guardian_contract, minter, guardian, gov):
    guardian_contract.pauseMint(sender=guardian)
    # The Guardian holds GUARDIAN_ROLE on the Minter, not admin: it cannot unpause, the admin can.
    assert not minter.hasRole(Role.DEFAULT_ADMIN.value, guardian_contract)
    minter.setMintPaused(False, sender=gov)
    assert not minter.mintPaused()
