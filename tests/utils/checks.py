"""Checks that mirror the protocol's accounting (used by unit and stateful tests)."""

from .constants import WAD


def mint_quote(amount_in: int, price_wad: int, decimals: int, fee_bps: int) -> tuple[int, int]:
    """Reference for Minter.mint: (husd_out, fee), EVM floor division. Only husd_out is minted; the
    fee's worth of collateral stays in custody."""
    gross = amount_in * price_wad // 10**decimals
    fee = gross * fee_bps // 10_000
    return gross - fee, fee


def redeem_quote(husd_in: int, price_wad: int, decimals: int, fee_bps: int) -> tuple[int, int]:
    """Reference for Minter.redeem: (amount_out, fee). All of husd_in is burned; the fee's worth of
    collateral stays in custody."""
    fee = husd_in * fee_bps // 10_000
    return (husd_in - fee) * 10**decimals // price_wad, fee


def check_supply_accounting(husd) -> None:
    """HUSD supply equals lifetime minted minus lifetime burned."""
    assert husd.totalSupply() == husd.totalMinted() - husd.totalBurned()


def check_backing_is_sum_of_parts(protocol, layout: tuple | None = None) -> None:
    """HedgeLedger.totalBacking == sum over sleeves of custody balance x price + hedge equity.

    `layout` = (custodians, [(token, decimals)], markets) may be passed to skip re-reading it.
    """
    ledger = protocol.ledger
    if layout is None:
        layout = backing_layout(protocol)
    custodians, assets, markets = layout
    collateral = 0
    for token, decimals in assets:
        bal = sum(token.balanceOf(c) for c in custodians)
        if bal:
            collateral += bal * protocol.oracle.price(token) // 10**decimals
    equity = 0
    for market in markets:
        h = ledger.hedges(market)
        equity += int(h.margin) + int(h.unrealizedPnl)
    parts = ledger.backingBreakdown()
    assert parts[0] == collateral
    assert parts[1] == equity
    assert ledger.totalBacking() == max(collateral + equity, 0)


def usd(amount: float) -> int:
    return int(round(amount * WAD))


def backing_layout(protocol) -> tuple:
    """(custodians, [(token, decimals)], markets) as the HedgeLedger is configured."""
    ledger = protocol.ledger
    by_address = {t.address: t for t in protocol.tokens.values()}
    # the claims market's placeholder asset has no feed and custody never holds it: no collateral to value
    others = {a for a in ledger.assets() if a not in by_address}
    assert others <= {getattr(protocol.claims_key, "address", None)}, others
    assets = [(by_address[a], int(by_address[a].decimals())) for a in ledger.assets() if a in by_address]
    return list(ledger.custodians()), assets, list(ledger.markets())
