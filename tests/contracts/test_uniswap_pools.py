"""Integration (contract layer): the real Uniswap v3 factory/pools from @uniswap/v3-core artifacts,
seeded by the deployer, traded through PoolRouter; gas per mint / redeem / swap recorded."""

import json
import os
from pathlib import Path

import ape
import pytest

from scripts._protocol import MAX_UINT256, ROOT, WAD, write_deployment
from utils.constants import Role

GAS: dict[str, int] = {}


def test_factory__from_v3_core_artifact__has_0_01pct_tier_and_both_pools(protocol, husd_pool, hyb_pool, husd, hyb, usdc):
    factory = protocol.factory
    assert factory.feeAmountTickSpacing(100) == 1
    assert factory.getPool(husd, usdc, 100) == husd_pool.pool.address
    assert factory.getPool(hyb, usdc, 3000) == hyb_pool.pool.address
    assert husd_pool.pool.fee() == 100 and hyb_pool.pool.fee() == 3000
    assert {husd_pool.pool.token0(), husd_pool.pool.token1()} == {husd.address, usdc.address}


@pytest.mark.parametrize("name", ["HUSD/USDC", "HYB/USDC"])
def test_seeded_pool__liquidity_in_configured_range__price_at_target(protocol, name):
    info = protocol.pools[name]
    pool = info.pool
    sqrt_p, tick = pool.slot0()[0], pool.slot0()[1]
    assert info.tick_lower <= tick < info.tick_upper
    assert pool.liquidity() == info.liquidity > 0
    # The position's range matches the configured human price band (within one tick spacing).
    cfg = protocol.params["pools"][name]
    d0, d1 = int(info.token0.decimals()), int(info.token1.decimals())
    usdc_is_1 = info.token1.address == protocol.usdc.address
    def human(t):  # noqa: E306 - price of the non-USDC token in USDC at tick t
        raw = 1.0001**t * 10**d0 / 10**d1
        return raw if usdc_is_1 else 1 / raw
    lo, hi = sorted([human(info.tick_lower), human(info.tick_upper)])
    assert abs(lo / cfg["price_low"] - 1) < 0.01 and abs(hi / cfg["price_high"] - 1) < 0.01
    price = (sqrt_p / 2**96) ** 2 * 10**d0 / 10**d1
    price = price if usdc_is_1 else 1 / price
    target = 1.0 if name == "HUSD/USDC" else protocol.params["hyb"]["price_usd"]
    assert abs(price / target - 1) < 1e-6


def test_swap__husd_for_usdc_through_pool__pays_near_par_and_moves_price(husd_pool, husd, usdc, router, mint_husd, whale):
    got = mint_husd(10_000, recipient=whale)
    husd.approve(router, MAX_UINT256, sender=whale)
    sqrt_before = husd_pool.pool.slot0()[0]
    tx = router.exactInput(husd_pool.pool, husd, got, 0, whale, sender=whale)
    out = usdc.balanceOf(whale)
    assert got * 0.998 / 10**12 < out < got / 10**12  # 1 bp fee + small price impact
    # Selling HUSD makes HUSD cheaper: sqrt price (token1 per token0) falls if HUSD is token0.
    sqrt_after = husd_pool.pool.slot0()[0]
    assert (sqrt_after < sqrt_before) if husd_pool.token0.address == husd.address else (sqrt_after > sqrt_before)
    GAS["pool_swap_10k_husd_to_usdc"] = tx.gas_used


def test_swap__with_min_out_above_quote__reverts_SlippageExceeded(husd_pool, husd, router, mint_husd, whale):
    got = mint_husd(1_000, recipient=whale)
    husd.approve(router, MAX_UINT256, sender=whale)
    with ape.reverts(router.SlippageExceeded):
        router.exactInput(husd_pool.pool, husd, got, got, whale, sender=whale)


def test_router_callback__from_non_pool__reverts_UnauthorizedCallback(router, fish):
    with ape.reverts(router.UnauthorizedCallback, caller=fish.address):
        router.uniswapV3SwapCallback(1, 0, b"", sender=fish)


def test_gas__mint_redeem_swap__recorded_and_bounded(protocol, minter, husd, usdc, tokens, fund, arb, hedge_fully, router, husd_pool, whale, chain):
    raw = fund("USDC", arb, 10_000, spender=minter)
    tx = minter.mint(usdc, raw // 2, 0, arb, sender=arb)
    GAS["mint_usdc_first_in_hour"] = tx.gas_used  # cold cap counters and balances
    tx = minter.mint(usdc, raw // 2, 0, arb, sender=arb)
    GAS["mint_usdc"] = tx.gas_used
    raw = fund("WBTC", arb, 0.05, spender=minter)
    tx = minter.mint(tokens["WBTC"], raw, 0, arb, sender=arb)
    GAS["mint_wbtc_hedged"] = tx.gas_used
    husd.approve(minter, MAX_UINT256, sender=arb)
    tx = minter.redeem(usdc, 5_000 * WAD, 0, arb, sender=arb)
    GAS["redeem_usdc"] = tx.gas_used
    husd.approve(router, MAX_UINT256, sender=arb)
    tx = router.exactInput(husd_pool.pool, husd, 1_000 * WAD, 0, arb, sender=arb)
    GAS["pool_swap_1k_husd_to_usdc"] = tx.gas_used
    for key, gas in GAS.items():
        assert 30_000 < gas < 400_000, (key, gas)
    out = Path(os.environ.get("TRIPOD_GAS_FILE", ROOT / "out" / f"gas-{chain.provider.name}.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(GAS, indent=2, sort_keys=True) + "\n")


def test_write_deployment__json_has_addresses_pools_and_params(protocol, tmp_path):
    path = write_deployment(protocol, tmp_path / "deploy.json")
    data = json.loads(path.read_text())
    assert data["contracts"]["minter"] == protocol.minter.address
    assert data["tokens"]["USDC"]["decimals"] == 6 and data["tokens"]["WBTC"]["decimals"] == 8
    assert data["pools"]["HUSD/USDC"]["fee"] == 100
    assert data["params"]["minter"]["mint_cap_usd_per_block"] == protocol.params["minter"]["mint_cap_usd_per_block"]
    assert data["roles"]["MINTER_ROLE"] == "0x" + Role.MINTER.value.hex()
