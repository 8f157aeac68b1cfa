"""Unit (contract layer): PegStabilityModule — 1:1 swaps with fees and a ceiling, USDC with 6 and 18 decimals."""

import ape
import pytest

from scripts._protocol import WAD
from utils.checks import check_supply_accounting

DECIMALS = [6, 18]


@pytest.mark.parametrize("decimals", DECIMALS)
def test_swap_in__with_usdc__mints_husd_one_to_one_less_fee(create_psm, husd, reserve, whale, decimals):
    psm, usdc = create_psm(decimals, fee_in_bps=10)
    amount = 1_000 * 10**decimals
    usdc.mint(whale, amount, sender=whale)
    usdc.approve(psm, amount, sender=whale)
    tx = psm.swapIn(amount, whale, sender=whale)
    gross = 1_000 * WAD
    fee = gross * 10 // 10_000
    assert husd.balanceOf(whale) == gross - fee
    assert husd.balanceOf(reserve) == fee
    assert psm.debt() == gross
    ev = tx.decode_logs(psm.SwapIn)[0]
    assert (ev.usdcIn, ev.husdOut, ev.fee) == (amount, gross - fee, fee)
    check_supply_accounting(husd)


@pytest.mark.parametrize("decimals", DECIMALS)
def test_swap_out__with_husd__pays_usdc_less_fee_and_burns(create_psm, husd, reserve, whale, decimals):
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
    assert husd.balanceOf(reserve) == fee
    assert husd.totalSupply() == supply_before - expected_out * 10 ** (18 - decimals)
    assert psm.debt() == 1_000 * WAD - expected_out * 10 ** (18 - decimals)
    assert usdc.balanceOf(psm) * 10 ** (18 - decimals) == psm.debt()  # USDC always covers the debt
    ev = tx.decode_logs(psm.SwapOut)[0]
    assert (ev.husdIn, ev.usdcOut) == (1_000 * WAD, expected_out)


@pytest.mark.parametrize("decimals", DECIMALS)
def test_swap_in__over_ceiling__reverts_CeilingExceeded(create_psm, whale, decimals):
    psm, usdc = create_psm(decimals, ceiling=500 * WAD)
    usdc.mint(whale, 501 * 10**decimals, sender=whale)
    usdc.approve(psm, 501 * 10**decimals, sender=whale)
    with ape.reverts(psm.CeilingExceeded, requested=501 * WAD, remaining=500 * WAD):
        psm.swapIn(501 * 10**decimals, whale, sender=whale)
    psm.swapIn(500 * 10**decimals, whale, sender=whale)


def test_swap_out__beyond_psm_debt__reverts_InsufficientReserves(create_psm, husd, mint_husd, arb):
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
