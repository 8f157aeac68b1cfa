"""Unit (contract layer): StakedHUSD — ERC-4626 deposits, cooldown unstaking, vested rewards."""

import ape
import pytest

from scripts._protocol import WAD
from utils.constants import Role


@pytest.fixture(scope="session")
def stake(shusd, husd, mint_husd, staker):
    def stake(amount_usd, account=None):
        account = account or staker
        got = mint_husd(amount_usd, recipient=account)
        husd.approve(shusd, got, sender=account)
        shusd.deposit(got, account, sender=account)
        return got

    return stake


def test_deposit__with_husd__mints_shares_one_to_one_first(shusd, stake, staker):
    assets = stake(1_000)
    assert shusd.balanceOf(staker) == assets
    assert shusd.totalAssets() == assets


def test_deposit__with_zero__reverts_ZeroAmount(shusd, staker):
    with ape.reverts(shusd.ZeroAmount):
        shusd.deposit(0, staker, sender=staker)


def test_redeem__with_cooldown_on__reverts_CooldownActive(shusd, stake, staker):
    shares = stake(1_000)
    assert shusd.maxRedeem(staker) == 0
    with ape.reverts(shusd.CooldownActive):
        shusd.redeem(shares, staker, staker, sender=staker)
    with ape.reverts(shusd.CooldownActive):
        shusd.withdraw(1, staker, staker, sender=staker)


def test_cooldown_then_unstake__after_cooldown__returns_assets(shusd, husd, stake, staker, chain):
    assets = stake(1_000)
    tx = shusd.cooldownShares(assets, sender=staker)
    ev = tx.decode_logs(shusd.CooldownStarted)[0]
    assert ev.assets == assets and ev.shares == assets
    assert shusd.balanceOf(staker) == 0
    assert shusd.totalCooling() == assets
    assert shusd.totalAssets() == 0
    chain.pending_timestamp = ev.cooldownEnd
    tx = shusd.unstake(staker, sender=staker)
    assert tx.decode_logs(shusd.Unstaked)[0].assets == assets
    assert husd.balanceOf(staker) == assets
    assert shusd.totalCooling() == 0


def test_unstake__before_cooldown_end__reverts_CooldownNotFinished(shusd, stake, staker):
    assets = stake(1_000)
    end = shusd.cooldownShares(assets, sender=staker).decode_logs(shusd.CooldownStarted)[0].cooldownEnd
    with ape.reverts(shusd.CooldownNotFinished, cooldownEnd=end):
        shusd.unstake(staker, sender=staker)


def test_unstake__without_cooldown__reverts_NothingToUnstake(shusd, fish):
    with ape.reverts(shusd.NothingToUnstake):
        shusd.unstake(fish, sender=fish)


def test_redeem__with_cooldown_zero__works_as_plain_erc4626(shusd, husd, stake, staker, gov):
    assets = stake(1_000)
    shusd.setCooldownDuration(0, sender=gov)
    shusd.redeem(assets, staker, staker, sender=staker)
    assert husd.balanceOf(staker) == assets


def test_transfer_in_rewards__vests_linearly__no_instant_share_price_jump(shusd, husd, stake, mint_husd, rewarder, chain):
    stake(10_000)
    reward = mint_husd(1_000, recipient=rewarder)
    husd.approve(shusd, reward, sender=rewarder)
    price_before = shusd.convertToAssets(WAD)
    tx = shusd.transferInRewards(reward, sender=rewarder)
    assert tx.decode_logs(shusd.RewardsReceived)[0].amount == reward
    assert shusd.convertToAssets(WAD) == price_before  # a sandwich right now gains nothing
    period = shusd.vestingPeriod()
    chain.mine(1, timestamp=chain.blocks.head.timestamp + period // 2)
    half = shusd.totalAssets()
    chain.mine(1, timestamp=chain.blocks.head.timestamp + period)
    full = shusd.totalAssets()
    assert full == 10_000 * WAD * 9_995 // 10_000 + reward
    assert abs((full - half) - reward // 2) <= reward // 100


def test_transfer_in_rewards__while_vesting__reverts_StillVesting(shusd, husd, stake, mint_husd, rewarder):
    stake(1_000)
    reward = mint_husd(100, recipient=rewarder)
    husd.approve(shusd, reward, sender=rewarder)
    shusd.transferInRewards(reward // 2, sender=rewarder)
    with ape.reverts(shusd.StillVesting):
        shusd.transferInRewards(reward // 2, sender=rewarder)


def test_transfer_in_rewards__without_role__reverts_AccessControlUnauthorizedAccount(shusd, fish):
    with ape.reverts(shusd.AccessControlUnauthorizedAccount, account=fish.address, neededRole=Role.REWARDER.value):
        shusd.transferInRewards(1, sender=fish)


def test_set_cooldown_duration__above_max__reverts_InvalidCooldown(shusd, gov):
    with ape.reverts(shusd.InvalidCooldown):
        shusd.setCooldownDuration(91 * 86_400, sender=gov)
