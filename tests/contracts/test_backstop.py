"""Unit (contract layer): HYB emission caps and the Backstop selling HYB into its real Uniswap v3 pool."""

import ape

from scripts._protocol import WAD
from utils.constants import Role


def test_recapitalize__by_keeper__sells_hyb_into_pool_and_sends_usdc_to_reserve(backstop, hyb, usdc, reserve, hyb_pool, keeper):
    supply = hyb.totalSupply()
    reserve_usdc = usdc.balanceOf(reserve)
    pool_hyb = hyb.balanceOf(hyb_pool.pool)
    tx = backstop.recapitalize(100_000 * WAD, 40_000 * 10**6, sender=keeper)  # HYB at ~$0.50
    ev = tx.decode_logs(backstop.Recapitalized)[0]
    assert ev.hybSold == 100_000 * WAD
    assert 40_000 * 10**6 <= ev.usdcRaised < 50_000 * 10**6
    assert hyb.totalSupply() == supply + ev.hybSold  # minted exactly what the pool took
    assert hyb.balanceOf(hyb_pool.pool) == pool_hyb + ev.hybSold
    assert usdc.balanceOf(reserve) == reserve_usdc + ev.usdcRaised
    assert hyb.balanceOf(backstop) == 0
    assert backstop.soldOnDay(ape.chain.blocks.head.timestamp // 86_400) == ev.hybSold


def test_recapitalize__over_daily_limit__reverts_DailyLimitExceeded(backstop, keeper):
    limit = backstop.maxHybPerDay()
    with ape.reverts(backstop.DailyLimitExceeded, requested=limit + 1, remaining=limit):
        backstop.recapitalize(limit + 1, 0, sender=keeper)


def test_recapitalize__with_min_out_too_high__reverts_SlippageExceeded(backstop, keeper):
    with ape.reverts(backstop.SlippageExceeded):
        backstop.recapitalize(1_000 * WAD, 1_000 * 10**6, sender=keeper)  # 1000 HYB is not worth $1000


def test_recapitalize__at_floor_price__sells_only_down_to_the_floor(backstop, hyb, hyb_pool, keeper, gov):
    """With the floor right under the current price, a big sale stops at the floor (partial fill)."""
    sqrt_now = hyb_pool.pool.slot0()[0]
    hyb_is_0 = backstop.hybIsToken0()
    # 1% price move = ~0.5% in sqrt price; selling HYB lowers sqrt price if HYB is token0, raises it otherwise.
    limit = sqrt_now * 995 // 1000 if hyb_is_0 else sqrt_now * 1005 // 1000
    backstop.setLimits(backstop.maxHybPerDay(), limit, sender=gov)
    tx = backstop.recapitalize(4_000_000 * WAD, 0, sender=keeper)
    ev = tx.decode_logs(backstop.Recapitalized)[0]
    assert ev.hybSold < 4_000_000 * WAD
    assert ev.sqrtPriceAfterX96 == limit


def test_recapitalize__without_keeper__reverts_AccessControlUnauthorizedAccount(backstop, fish):
    with ape.reverts(backstop.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.KEEPER.value):
        backstop.recapitalize(WAD, 0, sender=fish)


def test_swap_callback__from_non_pool__reverts_UnauthorizedCallback(backstop, fish):
    with ape.reverts(backstop.UnauthorizedCallback, caller=fish.address):
        backstop.uniswapV3SwapCallback(10**24, 0, b"", sender=fish)


def test_hyb_mint__over_emission_budget__reverts_EmissionBudgetExceeded(hyb, gov):
    hyb.grantRole(Role.MINTER.value, gov, sender=gov)
    budget = hyb.remainingEmission()
    with ape.reverts(hyb.EmissionBudgetExceeded, requested=budget + 1, remaining=budget):
        hyb.mint(gov, budget + 1, sender=gov)


def test_hyb_mint__over_hard_cap__reverts_ERC20ExceededCap(hyb, gov):
    hyb.grantRole(Role.MINTER.value, gov, sender=gov)
    hyb.setEmissionPerPeriod(2 * hyb.cap(), sender=gov)
    with ape.reverts(hyb.ERC20ExceededCap):
        hyb.mint(gov, hyb.cap() - hyb.totalSupply() + 1, sender=gov)


def test_hyb_mint__without_minter_role__reverts_AccessControlUnauthorizedAccount(hyb, fish):
    with ape.reverts(hyb.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.MINTER.value):
        hyb.mint(fish, 1, sender=fish)
