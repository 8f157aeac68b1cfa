"""Checks that mirror the protocol's accounting (used by unit and stateful tests)."""

from .constants import WAD


def mint_quote(amount_in: int, price_wad: int, decimals: int, fee_bps: int) -> tuple[int, int]:
    """Reference for Minter.mint: (husd_out, fee), EVM floor division."""
    gross = amount_in * price_wad // 10**decimals
    fee = gross * fee_bps // 10_000
    return gross - fee, fee


def redeem_quote(husd_in: int, price_wad: int, decimals: int, fee_bps: int) -> tuple[int, int]:
    """Reference for Minter.redeem: (amount_out, fee)."""
    fee = husd_in * fee_bps // 10_000
    return (husd_in - fee) * 10**decimals // price_wad, fee


def check_supply_accounting(husd) -> None:
    """HUSD supply equals lifetime minted minus lifetime burned."""
    assert husd.totalSupply() == husd.totalMinted() - husd.totalBurned()


def check_backing_is_sum_of_parts(protocol) -> None:
    """HedgeLedger.totalBacking == sum over sleeves of custody balance x price + hedge equity."""
    ledger = protocol.ledger
    custodians = ledger.custodians()
    collateral = 0
    for asset in ledger.assets():
        token = next(t for t in protocol.tokens.values() if t.address == asset)
        bal = sum(token.balanceOf(c) for c in custodians)
        if bal:
            collateral += bal * protocol.oracle.price(token) // 10 ** int(token.decimals())
    equity = 0
    for market in ledger.markets():
        h = ledger.hedges(market)
        equity += int(h.margin) + int(h.unrealizedPnl)
    parts = ledger.backingBreakdown()
    assert parts[0] == collateral
    assert parts[1] == equity
    assert ledger.totalBacking() == max(collateral + equity, 0)


def usd(amount: float) -> int:
    return int(round(amount * WAD))
