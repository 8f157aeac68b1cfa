"""Unit (contract layer): ReserveFund.buyBack — the reserve buys HUSD on the registered pool below a trigger,
within an hourly USDC budget, never past the trigger, then burns or holds it."""
import math

import ape
import pytest

from sim.chain import evm
from utils.constants import HOUR, Role

TRIGGER = 0.995
BUDGET = 500_000 * 10**6  # USDC units an hour


@pytest.fixture
def buy_back(protocol, reserve, husd, usdc, husd_pool, gov, operator):
    """The buy-back configured on the seeded HUSD/USDC pool (burning), the operator holding BUYBACK_ROLE, and
    the reserve holding $2M of USDC."""
    trigger = evm.sqrt_x96_from_sim(math.sqrt(TRIGGER), husd_pool.token0.address == husd.address)
    reserve.configureBuyBack(husd, usdc, husd_pool.pool, trigger, BUDGET, True, sender=gov)
    husd.grantRole(Role.BURNER.value, reserve, sender=gov)
    reserve.grantRole(Role.BUYBACK.value, operator, sender=gov)
    usdc.mint(reserve, 2_000_000 * 10**6, sender=gov)
    return trigger


def husd_price(pool_info, husd) -> float:
    s = evm.sim_sqrt_from_x96(int(pool_info.pool.slot0()[0]), pool_info.token0.address == husd.address)
    return s * s


@pytest.fixture
def depeg(husd_pool, husd, router, mint_husd, whale):
    """Sell HUSD into the pool until it trades at about 0.99."""
    def sell(amount_usd=1_200_000):
        got = sum(mint_husd(min(amount_usd - k, 900_000), recipient=whale)  # within the Minter's per-block cap
                  for k in range(0, amount_usd, 900_000))
        husd.approve(router, evm.MAX_UINT256, sender=whale)
        router.exactInput(husd_pool.pool, husd, got, 0, whale, sender=whale)
        return husd_price(husd_pool, husd)
    return sell


def test_buy_back__below_trigger__buys_burns_and_emits_BoughtBack(buy_back, depeg, reserve, husd, usdc, husd_pool, operator):
    assert depeg() < TRIGGER
    supply, burned, usdc_before = husd.totalSupply(), husd.totalBurned(), usdc.balanceOf(reserve)
    tx = reserve.buyBack(100_000 * 10**6, 1, 0, sender=operator)
    ev = tx.decode_logs(reserve.BoughtBack)[0]
    assert ev.operator == operator.address and ev.burned and ev.usdcSpent == 100_000 * 10**6
    assert 100_000 * 10**18 < ev.husdBought < 101_500 * 10**18  # bought below par
    assert husd.totalSupply() == supply - ev.husdBought and husd.totalBurned() == burned + ev.husdBought
    assert usdc.balanceOf(reserve) == usdc_before - ev.usdcSpent and husd.balanceOf(reserve) == 0
    assert reserve.remainingBuyBack() == BUDGET - ev.usdcSpent


def test_buy_back__never_pushes_past_the_trigger__spends_only_what_the_pool_took(buy_back, depeg, reserve, husd, husd_pool, operator):
    depeg()
    tx = reserve.buyBack(BUDGET, 0, 0, sender=operator)  # more than the pool holds below the trigger
    ev = tx.decode_logs(reserve.BoughtBack)[0]
    assert ev.usdcSpent < BUDGET
    assert husd_price(husd_pool, husd) <= TRIGGER * (1 + 1e-12)
    assert husd_price(husd_pool, husd) == pytest.approx(TRIGGER, rel=1e-9)
    assert reserve.remainingBuyBack() == BUDGET - ev.usdcSpent  # charged what the pool took


def test_buy_back__at_or_above_trigger__reverts_NotBelowTrigger(buy_back, reserve, husd_pool, operator):
    with ape.reverts(reserve.NotBelowTrigger):  # the seeded pool trades at par
        reserve.buyBack(10**6, 0, 0, sender=operator)


def test_buy_back__over_the_hours_budget__reverts_until_the_next_hour(buy_back, depeg, reserve, operator, chain):
    depeg(1_800_000)
    chain.pending_timestamp = chain.pending_timestamp - chain.pending_timestamp % HOUR + HOUR + 1
    reserve.buyBack(BUDGET // 2, 0, 0, sender=operator)
    left = reserve.remainingBuyBack()
    with ape.reverts(reserve.BuyBackBudgetExceeded, requested=left + 1, remaining=left):
        reserve.buyBack(left + 1, 0, 0, sender=operator)
    chain.pending_timestamp = chain.pending_timestamp + HOUR
    assert reserve.remainingBuyBack() == BUDGET


def test_buy_back__caller_limit_nearer_than_trigger__stops_there(buy_back, depeg, reserve, husd, husd_pool, operator):
    low = depeg()
    mid = (low + TRIGGER) / 2
    limit = evm.sqrt_x96_from_sim(math.sqrt(mid), husd_pool.token0.address == husd.address)
    reserve.buyBack(BUDGET, 0, limit, sender=operator)
    assert husd_price(husd_pool, husd) == pytest.approx(mid, rel=1e-9)


def test_buy_back__min_out_above_what_it_buys__reverts_SlippageExceeded(buy_back, depeg, reserve, operator):
    depeg()
    with ape.reverts(reserve.SlippageExceeded):
        reserve.buyBack(1_000 * 10**6, 2_000 * 10**18, 0, sender=operator)


def test_buy_back_exact_out__buys_that_amount_and_holds_it_when_configured_to_hold(
        buy_back, depeg, reserve, husd, usdc, husd_pool, gov, operator):
    reserve.configureBuyBack(husd, usdc, husd_pool.pool, buy_back, BUDGET, False, sender=gov)
    depeg()
    supply = husd.totalSupply()
    tx = reserve.buyBackExactOut(50_000 * 10**18, 60_000 * 10**6, 0, sender=operator)
    ev = tx.decode_logs(reserve.BoughtBack)[0]
    assert ev.husdBought == 50_000 * 10**18 and not ev.burned and ev.usdcSpent < 50_000 * 10**6
    assert husd.balanceOf(reserve) == 50_000 * 10**18 and husd.totalSupply() == supply


def test_buy_back_exact_out__costing_more_than_max_in__reverts_SlippageExceeded(buy_back, depeg, reserve, operator):
    depeg()
    with ape.reverts(reserve.SlippageExceeded):
        reserve.buyBackExactOut(50_000 * 10**18, 40_000 * 10**6, 0, sender=operator)


def test_buy_back__without_role__reverts_AccessControlUnauthorizedAccount(buy_back, reserve, fish):
    with ape.reverts(reserve.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.BUYBACK.value):
        reserve.buyBack(1, 0, 0, sender=fish)


def test_buy_back__not_configured__reverts_BuyBackNotConfigured(reserve, gov):
    reserve.grantRole(Role.BUYBACK.value, gov, sender=gov)
    with ape.reverts(reserve.BuyBackNotConfigured):
        reserve.buyBack(1, 0, 0, sender=gov)


def test_configure_buy_back__pool_of_other_tokens__reverts_PoolMismatch(reserve, husd, usdc, hyb_pool, gov):
    with ape.reverts(reserve.PoolMismatch, pool=hyb_pool.pool.address):
        reserve.configureBuyBack(husd, usdc, hyb_pool.pool, 2**96, BUDGET, True, sender=gov)


def test_configure_buy_back__by_stranger__reverts_and_by_admin_emits(reserve, husd, usdc, husd_pool, gov, fish):
    with ape.reverts(reserve.AccessControlUnauthorizedAccount):
        reserve.configureBuyBack(husd, usdc, husd_pool.pool, 2**96, BUDGET, True, sender=fish)
    tx = reserve.configureBuyBack(husd, usdc, husd_pool.pool, 2**96, BUDGET, True, sender=gov)
    ev = tx.decode_logs(reserve.BuyBackConfigured)[0]
    assert (ev.pool, ev.triggerX96, ev.maxBuyBackPerHour, ev.burn) == (husd_pool.pool.address, 2**96, BUDGET, True)


def test_swap_callback__from_anyone_but_the_pool_in_a_buy_back__reverts_UnauthorizedCallback(buy_back, reserve, fish):
    with ape.reverts(reserve.UnauthorizedCallback, caller=fish.address):
        reserve.uniswapV3SwapCallback(1, 1, b"", sender=fish)


def test_husd_burn__needs_BURNER_ROLE_and_burns_only_the_callers_own(husd, mint_husd, whale, gov):
    got = mint_husd(1_000, recipient=whale)
    with ape.reverts(husd.AccessControlUnauthorizedAccount, account=whale.address, neededRole=Role.BURNER.value):
        husd.burn(got, sender=whale)
    husd.grantRole(Role.BURNER.value, whale, sender=gov)
    supply = husd.totalSupply()
    husd.burn(got, sender=whale)
    assert husd.balanceOf(whale) == 0 and husd.totalSupply() == supply - got
