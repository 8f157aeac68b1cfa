"""Readable stress verbs for Ape tests on a fork, on top of a replayed (or freshly set-up) chain.

    res = replay(run_dir, steps=3, keep_connected=lambda r: ...)   # inside: kit = Stress(r.chain["replay"])
    kit.move_oracle("WBTC", [90_000, 70_000, 45_000])   # one round per hour
    kit.fail_venue("BTC-PERP", share=0.5)                 # half the hedge's margin lost at the venue
    kit.bank_run(share_of_supply=0.1, hours=3)            # redemptions through the Minter, at most the cap per hour
    kit.advance(hours=2)

Each verb is a few calls queued on the replay's ReplayStepper and sent as one transaction per hour;
what the chain refuses is returned (and kept in `kit.chain.reverts`), never raised. Ape is used
through the replay objects only; amounts and prices go through `sim.chain.evm`.
"""
from __future__ import annotations

from sim.chain import evm
from sim.chain.deploy import market_id


class Stress:
    def __init__(self, chain):
        self.chain = chain  # a connected sim.chain.steps.ReplayChain
        self.p = chain.p

    # -- time

    def now(self) -> int:
        return int(self.chain.chain.blocks.head.timestamp)

    def advance(self, hours: float = 1.0) -> None:
        """Move the clock forward (the next transaction, or an empty block, lands there)."""
        self.chain.advance(self.now() + int(hours * 3600))
        self.chain.chain.mine(1)

    def _send(self, hours: float = 0.0) -> list[dict]:
        n = len(self.chain.reverts)
        if hours:
            self.chain.advance(self.now() + int(hours * 3600))
        self.chain.flush()
        return self.chain.reverts[n:]

    # -- oracle

    def move_oracle(self, symbol: str, path: list[float], hours_per_round: float = 1.0) -> list[dict]:
        """Push `path` (USD prices) to the asset's feed, one round per `hours_per_round`."""
        feed, dec = self.p.feeds[symbol], self.p.spec.feeds[symbol].decimals
        seen = []
        for price in path:
            self.chain.add(f"oracle {symbol}", feed, "setAnswer", evm.feed_answer(float(price), dec))
            seen += self._send(hours_per_round)
        return seen

    # -- hedge

    def report_hedge(self, market: str, notional_usd: float, margin_usd: float, upnl_usd: float = 0.0) -> list[dict]:
        self.chain.add(f"hedge report {market}", self.p.ledger, "report", market_id(market), evm.usd_wad(notional_usd),
                       evm.usd_wad(max(margin_usd, 0.0)), int(upnl_usd * evm.WAD), b"stress".ljust(32, b"\0"))
        return self._send()

    def hedge(self, market: str) -> dict:
        h = self.p.ledger.hedges(market_id(market))
        return {"notional": int(h.notional) / 1e18, "margin": int(h.margin) / 1e18, "upnl": int(h.unrealizedPnl) / 1e18}

    def hedge_loss(self, market: str, usd: float) -> list[dict]:
        """The short leg loses `usd` (unrealised PnL falls by that much)."""
        h = self.hedge(market)
        return self.report_hedge(market, h["notional"], h["margin"], h["upnl"] - usd)

    def fail_venue(self, market: str, share: float = 1.0) -> list[dict]:
        """The venue fails: `share` of the margin there is lost and that much of the hedge is gone."""
        h = self.hedge(market)
        return self.report_hedge(market, h["notional"] * (1 - share), h["margin"] * (1 - share), h["upnl"] * (1 - share))

    # -- sleeves and holders

    def freeze_tbill(self) -> None:
        """The T-bill fund stops instant redemptions: the Minter can no longer pay out in TBILL."""
        self.p.minter.setCollateral(self.p.tokens["TBILL"], False, sender=self.chain.admin)

    def bank_run(self, share_of_supply: float, hours: int = 1, asset: str = "USDC") -> list[dict]:
        """Holders redeem `share_of_supply` of the current supply through the Minter, evenly over
        `hours` (one transaction per hour); a chunk above the hourly cap is refused, and returned."""
        total = int(self.p.husd.totalSupply()) * share_of_supply
        chunk = int(total / hours)
        seen = []
        for _ in range(hours):
            self.chain.add("bank run redeem", self.p.minter, "redeem", self.p.tokens[asset], chunk, 0, self.chain.stepper)
            seen += self._send(1.0)
        return seen

    def sell_into_pool(self, husd: float) -> list[dict]:
        """Sell `husd` HUSD into the HUSD/USDC pool (exact input, no price limit)."""
        c = self.chain
        c.add("pool sell", self.p.router, "exactInput", c.pool, self.p.husd, evm.to_units(husd, 18), 0, c.stepper)
        return self._send()

    def pool_price(self) -> float:
        s = evm.sim_sqrt_from_x96(int(self.chain.pool.slot0()[0]), self.chain.husd0)
        return s * s

    def backing_ratio(self) -> float:
        return int(self.p.ledger.totalBacking()) / int(self.p.husd.totalSupply())
