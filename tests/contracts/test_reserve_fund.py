"""Unit (contract layer): ReserveFund — revenue in, funding and deficit payouts under a daily limit."""

import ape

from utils.constants import DAY, Role


def test_deposit__revenue__emits_RevenueReceived(reserve, usdc, whale):
    usdc.mint(whale, 10**9, sender=whale)
    usdc.approve(reserve, 10**9, sender=whale)
    tx = reserve.deposit(usdc, 10**9, sender=whale)
    ev = tx.decode_logs(reserve.RevenueReceived)[0]
    assert (ev.token, ev.amount) == (usdc.address, 10**9)
    assert reserve.holdings(usdc) == 10**9


def test_pay_funding__within_limit__pays_and_emits_FundingPaid(reserve, usdc, treasurer, operator):
    usdc.mint(reserve, 10**12, sender=treasurer)
    tx = reserve.payFunding(usdc, operator, 5 * 10**11, sender=treasurer)
    ev = tx.decode_logs(reserve.FundingPaid)[0]
    assert (ev.to, ev.amount, ev.by) == (operator.address, 5 * 10**11, treasurer.address)
    assert usdc.balanceOf(operator) == 5 * 10**11


def test_pay_funding__over_daily_limit__reverts_PayoutLimitExceeded_until_next_day(reserve, usdc, treasurer, operator, chain):
    limit = reserve.maxPayoutPerDay(usdc)
    usdc.mint(reserve, 3 * limit, sender=treasurer)
    chain.pending_timestamp = chain.pending_timestamp - chain.pending_timestamp % DAY + DAY + 60
    reserve.payFunding(usdc, operator, limit, sender=treasurer)
    with ape.reverts(reserve.PayoutLimitExceeded, token=usdc.address, requested=1, remaining=0):
        reserve.payFunding(usdc, operator, 1, sender=treasurer)
    chain.pending_timestamp = chain.pending_timestamp + DAY
    reserve.payFunding(usdc, operator, limit, sender=treasurer)


def test_cover_deficit__without_role__reverts_AccessControlUnauthorizedAccount(reserve, usdc, fish):
    with ape.reverts(reserve.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.COVERER.value):
        reserve.coverDeficit(usdc, fish, 1, sender=fish)


def test_cover_deficit__zero__reverts_ZeroAmount(reserve, usdc, gov):
    with ape.reverts(reserve.ZeroAmount):
        reserve.coverDeficit(usdc, gov, 0, sender=gov)
