"""Unit (contract layer): PegStabilityModule — 1:1 swaps with fees and a ceiling, USDC with 6 and 18 decimals."""

import ape
import pytest

from scripts._protocol import WAD
from utils.checks import check_supply_accounting

DECIMALS = [6, 18]


@pytest.mark.parametrize("decimals", DECIMALS)
def test_swap_in__with_usdc__mints_husd_one_to_one_less_fee(create_psm, husd, whale, decimals):
    psm, usdc = create_psm(decimals, fee_in_bps=10)
    amount = 1_000 * 10**decimals
    usdc.mint(whale, amount, sender=whale)
    usdc.approve(psm, amount, sender=whale)
    tx = psm.swapIn(amount, whale, sender=whale)
    gross = 1_000 * WAD
    fee = gross * 10 // 10_000
    assert husd.balanceOf(whale) == gross - fee
    assert psm.debt() == gross - fee  # the HUSD outstanding; the fee is not minted
    assert usdc.balanceOf(psm) == amount  # ... it stays here as surplus USDC
    ev = tx.decode_logs(psm.SwapIn)[0]
    assert (ev.usdcIn, ev.husdOut, ev.fee) == (amount, gross - fee, fee)
    check_supply_accounting(husd)


@pytest.mark.parametrize("decimals", DECIMALS)
def test_swap_out__with_husd__pays_usdc_less_fee_and_burns_all(create_psm, husd, whale, decimals):
    psm, usdc = create_psm(decimals, fee_in_bps=0, fee_out_bps=5)
    amount = 1_000 * 10**decimals
    usdc.mint(whale, amount, sender=whale)
    usdc.approve(psm, amount, sender=whale)
    psm.swapIn(amount, whale, sender=whale)
    husd.approve(psm, 1_000 * WAD, sender=whale)
    supply_before = husd.totalSupply()
    tx = psm.swapOut(1_000 * WAD, whale, sender=whale)
    fee = 1_000 * WAD * 5 // 10_000
    expected_out = (1_000 * WAD - fee) // (10 ** (18 - decimals))
    assert usdc.balanceOf(whale) == expected_out
    assert husd.totalSupply() == supply_before - 1_000 * WAD  # all of it burned, the fee included
    assert psm.debt() == 0
    assert usdc.balanceOf(psm) * 10 ** (18 - decimals) == 1_000 * WAD - expected_out * 10 ** (18 - decimals)  # fee kept
    ev = tx.decode_logs(psm.SwapOut)[0]
    assert (ev.husdIn, ev.usdcOut) == (1_000 * WAD, expected_out)


@pytest.mark.parametrize("decimals", DECIMALS)
def test_swap_in__over_ceiling__reverts_CeilingExceeded(create_psm, whale, decimals):
    psm, usdc = create_psm(decimals, fee_in_bps=100, ceiling=500 * WAD)
    usdc.mint(whale, 600 * 10**decimals, sender=whale)
    usdc.approve(psm, 600 * 10**decimals, sender=whale)
    with ape.reverts(psm.CeilingExceeded, requested=50_490 * WAD // 100, remaining=500 * WAD):
        psm.swapIn(510 * 10**decimals, whale, sender=whale)  # 504.9 HUSD out
    psm.swapIn(505 * 10**decimals, whale, sender=whale)  # 499.95 HUSD out: the ceiling counts HUSD issued, not gross
    assert psm.debt() == 49_995 * WAD // 100


def test_swap_out__beyond_psm_usdc__reverts_InsufficientReserves(create_psm, husd, mint_husd, arb):
    """HUSD minted elsewhere cannot drain a PSM beyond the USDC it holds."""
    psm, usdc = create_psm(6, fee_out_bps=0)
    usdc.mint(arb, 100 * 10**6, sender=arb)
    usdc.approve(psm, 100 * 10**6, sender=arb)
    psm.swapIn(100 * 10**6, arb, sender=arb)
    mint_husd(1_000)
    husd.approve(psm, 101 * WAD, sender=arb)
    with ape.reverts(psm.InsufficientReserves, requested=101 * WAD, available=100 * WAD):
        psm.swapOut(101 * WAD, arb, sender=arb)


@pytest.mark.parametrize("decimals", DECIMALS)
def test_round_trip__in_then_out__never_returns_more_usdc(create_psm, husd, whale, decimals):
    psm, usdc = create_psm(decimals, fee_in_bps=1, fee_out_bps=1)
    amount = 12_345 * 10**decimals + 7
    usdc.mint(whale, amount, sender=whale)
    usdc.approve(psm, amount, sender=whale)
    psm.swapIn(amount, whale, sender=whale)
    got = husd.balanceOf(whale)
    husd.approve(psm, got, sender=whale)
    psm.swapOut(got, whale, sender=whale)
    assert usdc.balanceOf(whale) < amount


def test_swap_in__when_paused__reverts_PsmPaused(psm, usdc, whale, gov):
    psm.setPaused(True, sender=gov)
    usdc.mint(whale, 10**6, sender=whale)
    usdc.approve(psm, 10**6, sender=whale)
    with ape.reverts(psm.PsmPaused):
        psm.swapIn(10**6, whale, sender=whale)


def test_swap_in__with_zero__reverts_ZeroAmount(psm, whale):
    with ape.reverts(psm.ZeroAmount):
        psm.swapIn(0, whale, sender=whale)


def test_swap_out__dust_below_one_usdc_unit__reverts_ZeroAmount(psm, husd, mint_husd, arb):
    mint_husd(1)
    husd.approve(psm, 10**11, sender=arb)
    with ape.reverts(psm.ZeroAmount):
        psm.swapOut(10**11, arb, sender=arb)  # 1e-7 HUSD < 1e-6 USDC


def test_set_ceiling__without_admin__reverts_AccessControlUnauthorizedAccount(psm, fish):
    with ape.reverts(psm.AccessControlUnauthorizedAccount):
        psm.setCeiling(0, sender=fish)


def test_swap_out__with_kept_fees__buys_back_husd_beyond_debt_within_usdc(create_psm, husd, mint_husd, arb):
    """The fees kept as USDC are surplus: they may pay out HUSD minted elsewhere; debt floors at zero."""
    psm, usdc = create_psm(6, fee_in_bps=100, fee_out_bps=0)
    usdc.mint(arb, 100 * 10**6, sender=arb)
    usdc.approve(psm, 100 * 10**6, sender=arb)
    psm.swapIn(100 * 10**6, arb, sender=arb)  # 99 HUSD out, 100 USDC held
    assert psm.debt() == 99 * WAD
    mint_husd(10)
    husd.approve(psm, 100 * WAD, sender=arb)
    psm.swapOut(100 * WAD, arb, sender=arb)
    assert psm.debt() == 0 and usdc.balanceOf(psm) == 0
