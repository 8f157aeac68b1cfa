"""Stateful property test (contract layer): random sequences over the whole deployed protocol.

A hypothesis RuleBasedStateMachine drives mint, redeem, stake, cooldown/unstake, oracle moves,
time, hedge reports, PSM swaps, pauses and unauthorized calls against the real contracts. Each
sequence starts from `chain.snapshot()` and ends with `chain.restore()`. Every rule predicts, from a
small model that mirrors the contracts' integer maths (tests/utils/checks.py), whether the call must
succeed or revert and with which named error, then checks the outcome. Invariants after each step:

- HUSD supply == lifetime minted - lifetime burned == the model's ghost supply;
- the per-block and per-hour mint/redeem caps are never exceeded in any block or hour touched;
- no value is created: a mint never returns more HUSD than the collateral's oracle value, a
  redeem never pays more than the HUSD burned, PSM swaps never pay out more than they take in;
- roles are enforced (a stranger's privileged call always reverts with AccessControl's error);
- backing accounting == the sum of its parts; PSM USDC >= PSM debt <= ceiling; sHUSD's books balance.

Examples per run: TRIPOD_FUZZ_EXAMPLES (default 200 in the `ci` profile, 500 in `nightly`); steps
per sequence from the profile (10 in `ci`, 40 in `nightly`; TRIPOD_HYPOTHESIS_PROFILE selects it).
The counts actually run are written to out/fuzz-<provider>.json; the test fails unless every sequence ran.
"""

import ast
import json
import os
from pathlib import Path

import pytest
from eth_utils import keccak
from ape.exceptions import ContractLogicError
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from scripts._protocol import MAX_UINT256, ROOT, WAD, market_id
from utils.checks import backing_layout, mint_quote, redeem_quote
from utils.constants import HOUR

SYMBOLS = ["USDC", "TBILL", "WBTC", "PAXG"]
ORACLE_ERRORS = {"StalePrice", "PriceDeviation", "PriceDrift", "RoundMissing", "PriceOutOfBounds", "InvalidPrice",
                 "IncompleteRound", "FeedNotSet"}
RUNS = {"sequences": 0, "steps": 0, "reverts_checked": 0}


def _error_selectors(contracts) -> dict[str, str]:
    """4-byte selector -> error name over every protocol contract (errors bubble across contracts)."""
    table = {}
    for c in contracts:
        for abi in c.contract_type.errors:
            table["0x" + keccak(text=abi.selector)[:4].hex()] = abi.name
    return table


def _error_name(err: Exception, table: dict[str, str]) -> str:
    name = type(err).__name__
    if name not in ("ContractLogicError", "CustomError"):
        return name
    return table.get(_selector(getattr(err, "revert_message", None)), name)


def _selector(revert_message) -> str:
    """The 4-byte selector as "0x…" from a revert message that Ape gives as hex text, bytes, or the
    repr of bytes (it varies with how the node reported the revert, which made CI flaky)."""
    if isinstance(revert_message, str) and revert_message[:2] in ('b"', "b'"):
        revert_message = ast.literal_eval(revert_message)
    if isinstance(revert_message, (bytes, bytearray)):
        return "0x" + bytes(revert_message[:4]).hex()
    return str(revert_message or "")[:10].lower()


@pytest.mark.slow
def test_protocol_state_machine__random_sequences__invariants_hold(
    protocol, project, chain, gov, arb, fish, operator, guardian
):
    p = protocol
    lens = gov.deploy(project.ProtocolLens)

    def read(*specs):
        """Many one-word views in one eth_call: specs are (contract, method, *args)."""
        targets = [c.address for c, *_ in specs]
        data = [getattr(c, m).encode_input(*a) for c, m, *a in specs]
        return [int(x) for x in lens.readWords(targets, data)]

    husd, minter, psm, shusd, ledger, oracle = p.husd, p.minter, p.psm, p.shusd, p.ledger, p.oracle
    usdc = p.usdc
    hedged = {sym: market_id(m) for m, sym in p.params["hedge"]["markets"].items()}
    fee_mint, fee_redeem = int(minter.mintFeeBps()), int(minter.redeemFeeBps())
    caps = {
        "mint_block": int(minter.maxMintPerBlock()),
        "mint_hour": int(minter.maxMintPerHour()),
        "redeem_block": int(minter.maxRedeemPerBlock()),
        "redeem_hour": int(minter.maxRedeemPerHour()),
    }
    drift_bps, drift_buffer = int(ledger.maxDriftBps()), int(ledger.driftBufferUsd())
    scale = int(psm.scale())
    psm_fee_in, psm_fee_out = int(psm.feeInBps()), int(psm.feeOutBps())
    decimals = {s: int(p.tokens[s].decimals()) for s in SYMBOLS}
    layout = backing_layout(p)
    ERRORS = _error_selectors([husd, minter, psm, shusd, ledger, oracle, p.reserve, p.backstop, p.hyb, p.guardian])
    # Approvals once, before the snapshot (each sequence starts from this state).
    for s in SYMBOLS:
        p.tokens[s].approve(minter, MAX_UINT256, sender=arb)
    usdc.approve(psm, MAX_UINT256, sender=arb)
    husd.approve(minter, MAX_UINT256, sender=arb)
    husd.approve(psm, MAX_UINT256, sender=arb)
    husd.approve(shusd, MAX_UINT256, sender=arb)
    grace = int(oracle.gracePeriod())
    heartbeat = {s: int(oracle.feeds(p.tokens[s]).heartbeat) + grace for s in SYMBOLS}  # a price is stale after both
    max_report_age = int(ledger.maxReportAge())
    MARGIN = 60  # seconds kept between the chain clock and any hour or staleness boundary

    def align_clock():
        """Move to 10 minutes into the next hour and refresh every feed, so that neither an hour
        bucket nor a feed's heartbeat flips between a prediction and the transaction it predicts
        (anvil's clock follows the wall clock between blocks)."""
        now = chain.pending_timestamp
        chain.mine(1, timestamp=(now // HOUR + 1) * HOUR + 600)
        for s in SYMBOLS:
            p.feeds[s].setAnswer(p.feeds[s].latestAnswer(), sender=gov)

    align_clock()

    class ProtocolMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            if not 600 <= chain.pending_timestamp % HOUR <= 2_400:
                align_clock()  # the wall clock drifted during a long run (anvil)
            self.snapshot = chain.snapshot()
            RUNS["sequences"] += 1
            self.updated = {s: int(p.feeds[s].latestRoundData()[3]) for s in SYMBOLS}
            self.ghost_supply = int(husd.totalSupply())
            self.answers = {s: int(p.feeds[s].latestAnswer()) for s in SYMBOLS}
            self.touched_blocks: set[int] = set()
            self.touched_hours: set[int] = set()

        def teardown(self):
            try:
                self.check_backing()
            finally:
                chain.restore(self.snapshot)

        # ------------------------------------------------------------ helpers

        def expect(self, call, expected_error, allowed=None):
            """Run `call`; it must revert with `expected_error` (or one of `allowed`) or succeed if None."""
            RUNS["steps"] += 1
            if expected_error is None and not allowed:
                return call()
            try:
                receipt = call()
            except ContractLogicError as err:
                name = _error_name(err, ERRORS)
                ok = {expected_error} | (allowed or set())
                assert name in ok, f"reverted with {name} ({getattr(err, 'revert_message', '')!r}), expected one of {ok}"
                RUNS["reverts_checked"] += 1
                return None
            assert expected_error is None, f"did not revert, expected {expected_error}"
            return receipt

        def remaining(self, kind, amount):
            blk, hr = chain.blocks.head.number + 1, chain.pending_timestamp // HOUR
            used_b, used_h = read((minter, f"{kind}edInBlock", blk), (minter, f"{kind}edInHour", hr))
            if used_b + amount > caps[f"{kind}_block"]:
                return "PerBlockCapExceeded"
            if used_h + amount > caps[f"{kind}_hour"]:
                return "PerHourCapExceeded"
            return None

        def healthy(self, sym):
            return bool(oracle.isHealthy(p.tokens[sym]))

        def all_healthy(self):
            return all(read(*[(oracle, "isHealthy", p.tokens[s]) for s in SYMBOLS]))

        def stale_report(self, sym):
            at = int(ledger.hedges(hedged[sym]).updatedAt)
            return at != 0 and chain.pending_timestamp - at > max_report_age

        def record_block(self):
            self.touched_blocks.add(chain.blocks.head.number)
            self.touched_hours.add(chain.blocks.head.timestamp // HOUR)

        # ------------------------------------------------------------ rules

        @rule(sym=st.sampled_from(SYMBOLS), usd=st.integers(min_value=1, max_value=1_500_000))
        def mint(self, sym, usd):
            token = p.tokens[sym]
            amount = max(1, usd * 10**8 * 10 ** decimals[sym] // self.answers[sym])
            token.mint(arb, amount, sender=arb)
            expected, allowed = None, None
            paused, healthy = read((minter, "mintPaused"), (oracle, "isHealthy", token))
            if paused:
                expected = "MintPaused"
            elif not healthy:
                expected, allowed = "StalePrice", ORACLE_ERRORS
            else:
                price = int(oracle.price(token))
                out, fee = mint_quote(amount, price, decimals[sym], fee_mint)
                gross = out + fee
                assert gross * 10 ** decimals[sym] <= amount * price  # no value created
                expected = self.remaining("mint", out)  # the cap counts the HUSD issued (fee not minted)
                if expected is None and sym in hedged and self.stale_report(sym):
                    expected = "StaleHedgeReport"
                if expected is None and sym in hedged:
                    spot = (int(ledger.custodyBalance(token)) + amount) * price // 10 ** decimals[sym]
                    net = spot - int(ledger.hedges(hedged[sym]).notional)
                    if abs(net) > spot * drift_bps // 10_000 + drift_buffer:
                        expected = "DeltaDriftExceeded"
            note(f"mint {sym} {amount} -> {expected}")
            receipt = self.expect(lambda: minter.mint(token, amount, 0, arb, sender=arb), expected, allowed)
            if receipt is not None:
                ev = receipt.decode_logs(minter.Minted)[0]
                assert (ev.husdOut, ev.fee) == (out, fee)
                self.ghost_supply += out  # the fee stays in custody as collateral, never minted
                self.record_block()

        @rule(sym=st.sampled_from(SYMBOLS), frac_bps=st.integers(min_value=0, max_value=10_000))
        def redeem(self, sym, frac_bps):
            token = p.tokens[sym]
            husd_in = int(husd.balanceOf(arb)) * frac_bps // 10_000
            expected, allowed = None, None
            paused, healthy = read((minter, "redeemPaused"), (oracle, "isHealthy", token))
            if paused:
                expected = "RedeemPaused"
            elif husd_in == 0:
                expected = "ZeroAmount"
            elif not healthy:
                expected, allowed = "StalePrice", ORACLE_ERRORS
            else:
                price = int(oracle.price(token))
                out, fee = redeem_quote(husd_in, price, decimals[sym], fee_redeem)
                assert out * price <= (husd_in - fee) * 10 ** decimals[sym]  # no value created
                expected = self.remaining("redeem", husd_in)
                if expected is None and out == 0:
                    expected = "ZeroAmount"
                elif expected is None and out > int(token.balanceOf(minter)):
                    expected = "InsufficientCollateral"
            note(f"redeem {sym} {husd_in} -> {expected}")
            receipt = self.expect(lambda: minter.redeem(token, husd_in, 0, arb, sender=arb), expected, allowed)
            if receipt is not None:
                ev = receipt.decode_logs(minter.Redeemed)[0]
                assert (ev.amountOut, ev.fee) == (out, fee)
                self.ghost_supply -= husd_in  # all of it burned; the fee stays as collateral
                self.record_block()

        @rule(usd=st.integers(min_value=1, max_value=200_000))
        def round_trip_usdc(self, usd):
            """Mint with USDC and redeem everything for USDC at once: never get more USDC back."""
            if minter.mintPaused() or minter.redeemPaused() or not self.healthy("USDC"):
                return
            amount = usd * 10**6
            if self.remaining("mint", amount * 10**12) or self.remaining("redeem", amount * 10**12):
                return
            usdc.mint(arb, amount, sender=arb)
            before_usdc, before_husd = int(usdc.balanceOf(arb)), int(husd.balanceOf(arb))
            ev = minter.mint(usdc, amount, 0, arb, sender=arb).decode_logs(minter.Minted)[0]
            self.ghost_supply += ev.husdOut
            self.record_block()
            if self.remaining("redeem", ev.husdOut) or ev.husdOut == 0:
                return
            out, fee = redeem_quote(ev.husdOut, int(oracle.price(usdc)), 6, fee_redeem)
            if out == 0 or out > int(usdc.balanceOf(minter)):
                return
            minter.redeem(usdc, ev.husdOut, 0, arb, sender=arb)
            self.ghost_supply -= ev.husdOut
            self.record_block()
            assert int(usdc.balanceOf(arb)) <= before_usdc
            assert int(husd.balanceOf(arb)) == before_husd
            RUNS["steps"] += 2

        @rule(usd=st.integers(min_value=0, max_value=3_000_000))
        def psm_swap_in(self, usd):
            amount = usd * 10**6
            usdc.mint(arb, amount, sender=arb)
            gross = amount * scale
            fee = gross * psm_fee_in // 10_000
            room = max(int(psm.ceiling()) - int(psm.debt()), 0)  # the ceiling is on the HUSD outstanding
            expected = ("PsmPaused" if psm.paused() else "ZeroAmount" if gross - fee == 0
                        else "CeilingExceeded" if gross - fee > room else None)
            receipt = self.expect(lambda: psm.swapIn(amount, arb, sender=arb), expected)
            if receipt is not None:
                ev = receipt.decode_logs(psm.SwapIn)[0]
                assert ev.husdOut + ev.fee == gross and ev.fee == fee  # 1:1, fee kept as USDC
                self.ghost_supply += gross - fee

        @rule(frac_bps=st.integers(min_value=0, max_value=10_000))
        def psm_swap_out(self, frac_bps):
            husd_in = int(husd.balanceOf(arb)) * frac_bps // 10_000
            fee = husd_in * psm_fee_out // 10_000
            out = (husd_in - fee) // scale
            if psm.paused():
                expected = "PsmPaused"
            elif husd_in == 0 or out == 0:
                expected = "ZeroAmount"
            elif out > int(usdc.balanceOf(psm)):
                expected = "InsufficientReserves"
            else:
                expected = None
            receipt = self.expect(lambda: psm.swapOut(husd_in, arb, sender=arb), expected)
            if receipt is not None:
                ev = receipt.decode_logs(psm.SwapOut)[0]
                assert ev.usdcOut == out and ev.usdcOut * scale <= husd_in  # no value created
                self.ghost_supply -= husd_in  # all of it burned; the fee stays as USDC

        @rule(frac_bps=st.integers(min_value=0, max_value=10_000))
        def stake(self, frac_bps):
            assets = int(husd.balanceOf(arb)) * frac_bps // 10_000
            expected = "ZeroAmount" if assets == 0 else None
            shares = int(shusd.previewDeposit(assets)) if assets else 0
            receipt = self.expect(lambda: shusd.deposit(assets, arb, sender=arb), expected)
            if receipt is not None:
                assert receipt.decode_logs(shusd.Deposit)[0].shares == shares

        @rule(frac_bps=st.integers(min_value=0, max_value=10_000))
        def cooldown(self, frac_bps):
            shares = int(shusd.balanceOf(arb)) * frac_bps // 10_000
            assets = int(shusd.previewRedeem(shares)) if shares else 0
            expected = "ZeroAmount" if shares == 0 or assets == 0 else None
            receipt = self.expect(lambda: shusd.cooldownShares(shares, sender=arb), expected)
            if receipt is not None:
                # A round trip through the vault never returns more than was deposited at this price.
                assert receipt.decode_logs(shusd.CooldownStarted)[0].assets == assets

        @rule()
        def unstake(self):
            c = shusd.cooldowns(arb)
            if int(c.underlyingAmount) == 0:
                expected = "NothingToUnstake"
            elif chain.pending_timestamp < int(c.cooldownEnd):
                expected = "CooldownNotFinished"
            else:
                expected = None
            self.expect(lambda: shusd.unstake(arb, sender=arb), expected)

        @rule(sym=st.sampled_from(SYMBOLS), move_bps=st.integers(min_value=-2_500, max_value=2_500))
        def move_price(self, sym, move_bps):
            if sym in ("USDC", "TBILL"):
                move_bps //= 40  # stables move by a few bps, sometimes out of the USDC band
            new = max(1, self.answers[sym] * (10_000 + move_bps) // 10_000)
            p.feeds[sym].setAnswer(new, sender=gov)
            self.answers[sym] = new
            self.updated[sym] = chain.blocks.head.timestamp

        @rule()
        def refresh_feeds(self):
            """Keepers push a fresh round at the current price (clears staleness and jumps)."""
            for s in SYMBOLS:
                p.feeds[s].setAnswer(self.answers[s], sender=gov)
                self.updated[s] = chain.blocks.head.timestamp

        @rule(seconds=st.integers(min_value=1, max_value=2 * HOUR))
        def advance_time(self, seconds):
            target = chain.pending_timestamp + seconds
            # Never land just before a boundary (hour bucket, feed heartbeat): step past it instead.
            boundaries = [(target // HOUR + 1) * HOUR] + [self.updated[s] + heartbeat[s] + 1 for s in SYMBOLS]
            boundaries += [int(ledger.hedges(m).updatedAt) + max_report_age + 1 for m in hedged.values()]
            for b in boundaries:
                if b - MARGIN <= target < b:
                    target = b + 1
            chain.mine(1, timestamp=target)

        @rule(sym=st.sampled_from(sorted(hedged)), extra_usd=st.integers(min_value=-50_000, max_value=2_000_000),
              pnl_usd=st.integers(min_value=-100_000, max_value=100_000))
        def hedge_report(self, sym, extra_usd, pnl_usd):
            if not self.healthy(sym):
                return
            spot = int(ledger.spotValue(p.tokens[sym]))
            notional = max(0, spot + extra_usd * WAD)
            receipt = ledger.report(hedged[sym], notional, 50_000 * WAD, pnl_usd * WAD, b"VENUE".ljust(32, b"\0"), sender=operator)
            ev = receipt.decode_logs(ledger.HedgeReported)[0]
            assert ev.netDelta == spot - notional

        @rule(which=st.sampled_from(["mint", "redeem", "psm"]), paused=st.booleans())
        def pause(self, which, paused):
            if which == "psm":
                psm.setPaused(paused, sender=gov)
            elif which == "mint":
                minter.setMintPaused(paused, sender=gov)
            else:
                minter.setRedeemPaused(paused, sender=gov)

        @rule(action=st.sampled_from(["mint", "redeem", "report", "pause", "ceiling", "rewards", "recap", "funding", "husd_mint", "unpause"]))
        def stranger_privileged_call(self, action):
            calls = {
                "mint": lambda: minter.mint(usdc, 10**6, 0, fish, sender=fish),
                "redeem": lambda: minter.redeem(usdc, WAD, 0, fish, sender=fish),
                "report": lambda: ledger.report(hedged["WBTC"], 0, 0, 0, b"\0" * 32, sender=fish),
                "pause": lambda: minter.setMintPaused(True, sender=fish),
                "unpause": lambda: minter.setMintPaused(False, sender=guardian),  # guardian EOA has no minter role
                "ceiling": lambda: psm.setCeiling(0, sender=fish),
                "rewards": lambda: shusd.transferInRewards(1, sender=fish),
                "recap": lambda: p.backstop.recapitalize(WAD, 0, sender=fish),
                "funding": lambda: p.reserve.payFunding(usdc, fish, 1, sender=fish),
                "husd_mint": lambda: husd.mint(fish, 1, sender=fish),
            }
            self.expect(calls[action], "AccessControlUnauthorizedAccount")

        # ------------------------------------------------------------ invariants

        @invariant()
        def books_balance(self):
            """Supply == minted - burned == ghost; PSM USDC >= debt <= ceiling; sHUSD books; caps."""
            blocks, hours = sorted(self.touched_blocks), sorted(self.touched_hours)
            values = read(
                (husd, "totalSupply"), (husd, "totalMinted"), (husd, "totalBurned"),
                (usdc, "balanceOf", psm), (psm, "debt"), (psm, "ceiling"),
                (husd, "balanceOf", shusd), (shusd, "totalAssets"), (shusd, "unvestedAmount"), (shusd, "totalCooling"),
                *[(minter, m, b) for b in blocks for m in ("mintedInBlock", "redeemedInBlock")],
                *[(minter, m, h) for h in hours for m in ("mintedInHour", "redeemedInHour")],
            )
            supply, minted, burned, psm_usdc, debt, ceiling, vault_bal, assets, unvested, cooling = values[:10]
            assert supply == minted - burned
            assert supply == self.ghost_supply
            assert psm_usdc * scale >= debt  # USDC held covers the HUSD outstanding (+ kept fees)
            assert debt <= ceiling
            assert assets + unvested + cooling == vault_bal
            counters = values[10:]
            for i, _ in enumerate(blocks):
                assert counters[2 * i] <= caps["mint_block"] and counters[2 * i + 1] <= caps["redeem_block"]
            counters = counters[2 * len(blocks):]
            for i, _ in enumerate(hours):
                assert counters[2 * i] <= caps["mint_hour"] and counters[2 * i + 1] <= caps["redeem_hour"]
            # A past block's counters cannot change later, and an hour's only change with a new
            # mint/redeem (which records it again), so each is checked once.
            self.touched_blocks.clear()
            self.touched_hours.clear()

        # Backing accounting is ~a dozen calls: checked as a rule (hypothesis interleaves it) and at
        # the end of every sequence, rather than after every step, to keep CI fast.
        @rule()
        def check_backing(self):
            if not self.all_healthy():
                return
            custodians, assets, markets = layout
            values = read(
                *[(t, "balanceOf", c) for t, _ in assets for c in custodians],
                *[(oracle, "price", t) for t, _ in assets],
                (ledger, "totalBacking"),
            )
            n = len(custodians)
            collateral = 0
            for i, (t, dec) in enumerate(assets):
                bal = sum(values[i * n:(i + 1) * n])
                collateral += bal * values[len(assets) * n + i] // 10**dec
            equity = 0
            now = chain.blocks.head.timestamp
            for m in markets:
                h = ledger.hedges(m)
                e = int(h.margin) + int(h.unrealizedPnl)
                fresh = int(h.updatedAt) != 0 and now - int(h.updatedAt) <= max_report_age
                equity += e if fresh or e < 0 else 0  # a stale report counts its loss, not its gain
            assert tuple(ledger.backingBreakdown()) == (collateral, equity)
            assert values[-1] == max(collateral + equity, 0)

    run_state_machine_as_test(ProtocolMachine, settings=settings())
    out = Path(os.environ.get("TRIPOD_FUZZ_FILE", ROOT / "out" / f"fuzz-{chain.provider.name}.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**RUNS, "max_examples": settings().max_examples}, indent=2) + "\n")
    print(f"\nstateful: {RUNS['sequences']} sequences, {RUNS['steps']} checked calls, {RUNS['reverts_checked']} predicted reverts")
    assert RUNS["sequences"] >= settings().max_examples, RUNS  # every sequence the profile asks for ran
