"""One model step -> the calls that make the chain do what the model did, and what the chain did back.

`ReplayChain` (built by `sim.chain.genesis.genesis`) holds the deployed protocol, the actor and the
model's pool positions. `run_step(prev, row, trades, ts)` queues and sends a step, in order:
1. the model's mint pause (guardian pause; the admin's unpause is a transaction of its own);
2. oracle rounds (BTC, gold, T-bill NAV; USDC every 12 h), hedge reports (notional, margin), the claims report;
3. supply flows by the contract the model used (`step_flows`): PSM swapIn/swapOut, the rest through
   `Minter.mint`/`redeem`. A step longer than an hour sends the Minter's flow a chain hour at a time (one
   block each), as the per-hour cap counts it;
4. the backstop's HYB sale through `Backstop.recapitalize`, then the HYB pool to the model's HYB price;
5. custody synced to the model's sleeves, the reserve moved by the model's delta (plus what its buy-backs
   will spend);
6. pool depth, the model's pool trades one by one (the reserve's through `ReserveFund.buyBack`: the model's
   USDC within the chain's budget and trigger, the HUSD leg then settled to the model's, and after them the
   reserve's USDC: the chain's tick-snapped curve prices the same trade slightly differently; reported),
   staker rewards through `Minter.distributeRewards` (within the realised surplus, so after the custody sync
   and the buy-backs' burns), then one closing swap to the model's price.
`read(hour)` reads every compared figure back in one eth_call. No figure is hidden: a call the chain
refuses is recorded by the actor, never raised.
"""
from __future__ import annotations

import math

from sim.chain import evm
from sim.chain.compare import ROUNDING_TOLERANCE
from sim.chain.deploy import market_id
from sim.chain.trades import label
from sim.model.tape import HYB_POOL

DUST_USD = 1e-6  # model deltas below this are float noise, not actions
BUY_BACK_SLIPPAGE = 0.01  # room in the reserve for a buy-back the chain's pool prices a little higher than the model's
ROUNDING_CLAMP_WAD = 10**14  # an amount is trimmed to fit the chain only when the excess is rounding: $1e-4 a call ...
USDC_FEED_EVERY_HOURS = 12  # within the USDC feed's heartbeat


def step_flows(prev, row, fee_bps: dict) -> dict:
    """Attribute one step's supply changes to the contract the model used (pure arithmetic).

    The Minter's legs are the model's cap use (`mint_cap_used_usd`, `redeem_cap_used_usd`: every Minter
    mint and redemption records it, `sim.model.actions`, and it restarts each step), exact where a difference
    of cumulative totals would carry float noise past a binding cap. The model moves `psm_usdc` only through
    the PSM: swapIn adds the USDC paid (the HUSD minted is that less the PSM fee), swapOut removes the USDC
    paid out (the HUSD burned is that over 1 - fee). Staker rewards are `staker_rewards_usd`'s increase.
    """
    f_psm = fee_bps["psm"] / evm.BPS
    d_psm_usdc = float(row.psm_usdc) - float(prev.psm_usdc)
    rewards = float(row.staker_rewards_usd) - float(prev.staker_rewards_usd)
    return {
        "psm_in_usdc": d_psm_usdc if d_psm_usdc > DUST_USD else 0.0,
        "psm_out_husd": -d_psm_usdc / (1 - f_psm) if d_psm_usdc < -DUST_USD else 0.0,
        "rewards_husd": rewards if rewards > DUST_USD else 0.0,
        "minter_mint_husd": float(row.mint_cap_used_usd),
        "minter_burn_husd": float(row.redeem_cap_used_usd),
    }


def hours_in_step(step_hours: float) -> int:
    """Chain hours (blocks) a step's Minter flow is spread over: 1, or the step's whole hours."""
    return max(1, int(round(step_hours)))


class ReplayChain:
    """The deployed protocol (`p`), the actor, and the model's positions on the real pools."""

    def __init__(self, p, actor, sc, positions, hyb_position, ref_curve):
        self.actor = actor
        self.use(p)
        self.step_hours = float(sc.step_hours)
        self.fee_fraction = float(sc.pool.fee_fraction)
        self.venue = sc.pool.name  # the model's reference pool: the one venue on chain (others are off-chain books, other pools)
        self.cap_multiplier = 1.0  # the model's calendar scales the Minter's caps; the admin follows it
        self.positions = positions  # (tick_lower, tick_upper, L_raw at depth 1) per range of the model's pool
        self.hyb_position = hyb_position  # (tick_lower, tick_upper, L_raw) of the model's HYB position
        self.ref_curve = ref_curve  # the chain's own curve in the model's convention (tick-snapped bounds)
        self.depth = 0.0
        self.usdc_feed_at = -1
        self.chain_paused = False
        self.psm_state = (0, 0)  # (USDC held, debt), refreshed by every read
        self.cap_used: dict[str, tuple[int, int]] = {}  # "mint"/"redeem" -> (chain hour, HUSD wei sent through the Minter)
        self.clamps: list[dict] = []

    def use(self, p) -> None:
        """Work with the protocol `p` (the handles of a deployment file, after genesis)."""
        self.p = p
        self.pool_info, self.hyb_info = p.pools["HUSD/USDC"], p.pools["HYB/USDC"]
        self.pool = self.pool_info.pool
        self.husd0 = self.pool_info.token0.address == p.husd.address
        self.hyb0 = self.hyb_info.token0.address == p.hyb.address

    # the actor's verbs, for the stress kit and tests
    admin = property(lambda self: self.actor.admin)
    stepper = property(lambda self: self.actor.stepper)
    reverts = property(lambda self: self.actor.reverts)
    chain = property(lambda self: self.actor.chain)

    def add(self, *a):
        self.actor.add(*a)

    def flush(self):
        return self.actor.flush()

    def advance(self, ts: int):
        self.actor.advance(ts)

    @property
    def fee_bps(self) -> dict:
        s = self.p.spec
        return {"mint": s.minter.mint_fee_bps, "redeem": s.minter.redeem_fee_bps, "psm": s.psm.fee_in_bps}

    # ------------------------------------------------------------------ one step

    def run_step(self, prev, row, trades: list | None, ts: int, prev_ts: int):
        """Queue and send the model's step from `prev` to `row`; the last transaction lands at `ts`.
        `trades`: the step's entries of the model's trade tape (None: the replay runs without them)."""
        fl = step_flows(prev, row, self.fee_bps)
        self.follow_cap_schedule(float(getattr(row, "cap_multiplier", 1.0)))
        n = hours_in_step(self.step_hours)
        for i in range(1, n):  # the earlier hours of a long step: the Minter's flow, a chain hour at a time
            self.advance(prev_ts + 3600 * i)
            self.push_prices(prev, (prev_ts + 3600 * i) // 3600)
            self.minter_flows(fl, prev, (prev_ts + 3600 * i) // 3600, share=1 / n)
            self.flush()
        self.advance(ts)
        self.breakers(row)
        self.push_prices(row, ts // 3600)
        self.report_hedges(row)
        self.report_claims(prev, row)
        self.psm_flows(fl)
        self.minter_flows(fl, row, ts // 3600, share=1 / n)
        if trades is None:  # no tape: the backstop's sale from the trajectory, then each pool to the model's price
            self.backstop_sale(prev, row)
        else:
            self.hyb_trades([t for t in trades if t.venue == HYB_POOL])  # the backstop's USDC lands in custody
        self.move_hyb_pool(float(row.hyb_sqrt_price))
        on_pool = [t for t in trades or () if t.venue == self.venue]
        self.sync_custody(row)
        buy_backs = [t for t, _u in sendable(on_pool) if t.who == "reserve"]
        # the reserve holds the model's balance plus what it spends on buy-backs (with their slippage room) ...
        self.reserve_flow(prev, row, buy_backs_usd=sum(t.used for t in buy_backs) * (1 + BUY_BACK_SLIPPAGE))
        self.set_depth(float(row.pool_depth))
        self.pool_trades(on_pool)
        if buy_backs:  # ... and after them the model's balance: the chain's pool priced the same HUSD a little differently
            self.add("reserve USDC (after buy-backs)", self.stepper, "syncReserve", self.p.usdc, self.p.reserve,
                     evm.to_units(float(row.reserve_fund_usd), 6))
        self.staker_rewards(prev, row, fl["rewards_husd"])  # within the surplus the step's buy-back burns raised
        self.move_pool(float(row.pool_sqrt_price))
        return self.flush()

    def follow_cap_schedule(self, multiplier: float):
        """The model's calendar scales the Minter's caps (e.g. weekends at half): the admin sets the scaled
        caps when the multiplier changes (a transaction of its own, as governance would)."""
        if multiplier == self.cap_multiplier:
            return
        m = self.p.spec.minter
        caps = [evm.usd_wad(v * multiplier) for v in (m.mint_cap_usd_per_block, m.mint_cap_usd_per_hour,
                                                       m.redeem_cap_usd_per_block, m.redeem_cap_usd_per_hour)]
        self.actor.transact("admin setCaps (calendar)", self.p.minter.setCaps, *caps)
        self.cap_multiplier = multiplier

    def breakers(self, row):
        """The model's mint pause (its oracle breaker): the guardian pauses; the admin unpauses (own tx)."""
        want = float(row.mint_paused) > 0
        if want and not self.chain_paused:
            self.add("guardian pauseMint", self.p.guardian, "pauseMint")
        elif not want and self.chain_paused:
            self.actor.transact("admin unpause mint", self.p.minter.setMintPaused, False)  # restarting is the admin's call

    def push_prices(self, row, hour: int):
        feeds = self.p.spec.feeds
        for sym, price in (("WBTC", row.btc_usd), ("PAXG", row.xau_usd), ("TBILL", row.tbill_nav)):
            self.add(f"oracle {sym}", self.p.feeds[sym], "setAnswer", evm.feed_answer(float(price), feeds[sym].decimals))
        if self.usdc_feed_at < 0 or hour - self.usdc_feed_at >= USDC_FEED_EVERY_HOURS:
            self.add("oracle USDC", self.p.feeds["USDC"], "setAnswer", evm.feed_answer(1.0, feeds["USDC"].decimals))
            self.usdc_feed_at = hour

    def report_hedges(self, row):
        markets = {sym: m for m, sym in self.p.spec.hedge.markets.items()}
        # margin in transit between custody and the venue (issue 13's transfer latency) is at neither, and the
        # model counts it as backing: the ledger reports it with the venue's margin, the one off-chain place
        for sym, units, price, margin in (
                ("WBTC", row.btc_short_units, row.btc_usd, _margin_and_transit(row, "btc")),
                ("PAXG", row.xau_short_units, row.xau_usd, _margin_and_transit(row, "xau"))):
            self.add(f"hedge report {sym}", self.p.ledger, "report", market_id(markets[sym]),
                     evm.usd_wad(float(units) * float(price)), evm.usd_wad(max(float(margin), 0.0)), 0, b"replay".ljust(32, b"\0"))

    def report_claims(self, prev, row):
        """Claims on failed venues and frozen custody at the model's marked recovery, as the claims market's
        unrealised PnL (backing counts it, realised backing and so staker rewards do not, as in the model);
        reported while there are claims and once more when they are gone (a fresh report outlives its step)."""
        claims, before = _claims(row), _claims(prev)
        if claims > DUST_USD or before > DUST_USD:
            self.add("claims report", self.p.ledger, "report", market_id(self.p.spec.hedge.claims_market), 0, 0,
                     evm.usd_wad(max(claims, 0.0)), b"claims".ljust(32, b"\0"))

    def psm_flows(self, fl: dict):
        P, S = self.p, self.stepper
        if fl["psm_in_usdc"]:
            self.add("psm swapIn", P.psm, "swapIn", self._psm_in_units(fl["psm_in_usdc"]), S)
        elif fl["psm_out_husd"]:
            self.add("psm swapOut", P.psm, "swapOut", self._psm_out_units(fl["psm_out_husd"]), S)

    def minter_flows(self, fl: dict, row, hour: int, share: float = 1.0):
        """`share` of the step's Minter mint and redemption in chain hour `hour` (the chain issues, resp. burns,
        the model's HUSD: the USDC in is that over 1 - fee; the model pays redemptions from buffer, T-bills or
        unwinds, so custody first holds the USDC for it, and the end-of-step custody sync sets the balances)."""
        P, S = self.p, self.stepper
        mint, burn = fl["minter_mint_husd"] * share, fl["minter_burn_husd"] * share
        if mint > DUST_USD:
            units = evm.to_units(mint / (1 - self.fee_bps["mint"] / evm.BPS), 6)
            units = self._within_cap("mint", hour, units, lambda u: evm.minter_mint_out(u, self.fee_bps["mint"]))
            self.add("minter mint", P.minter, "mint", P.usdc, units, 0, S)
        if burn > DUST_USD:
            wei = self._within_cap("redeem", hour, evm.to_units(burn, 18), lambda w: w)
            self.add("custody USDC (redemption payout)", S, "syncCustody", P.usdc, P.minter,
                     evm.to_units(self.custody_usdc(row) + burn, 6))
            self.add("minter redeem", P.minter, "redeem", P.usdc, wei, 0, S)

    def _within_cap(self, side: str, hour: int, amount: int, husd_of) -> int:
        """`amount` (base units sent: USDC for a mint, HUSD for a redemption) trimmed, and recorded, only if
        rounding alone (base units, float sums in the model) would take the HUSD it moves (`husd_of`) past the
        Minter's per-block or per-hour cap. The replay sends every Minter call, so it tracks this hour's use."""
        m, k = self.p.spec.minter, self.cap_multiplier
        block_cap = evm.usd_wad(getattr(m, f"{side}_cap_usd_per_block") * k)
        hour_cap = evm.usd_wad(getattr(m, f"{side}_cap_usd_per_hour") * k)
        last_hour, used = self.cap_used.get(side, (hour, 0))
        used = used if last_hour == hour else 0
        room = max(min(block_cap, hour_cap - used), 0)
        if room < husd_of(amount) <= room + ROUNDING_CLAMP_WAD:
            trimmed = room if husd_of(1) == 1 else amount  # HUSD in: the room itself; USDC in: a unit at a time
            while trimmed > 0 and husd_of(trimmed) > room:
                trimmed -= 1
            self.clamps.append({"step": self.actor.step, "action": f"minter {side}", "units_trimmed": amount - trimmed})
            amount = trimmed
        self.cap_used[side] = (hour, used + husd_of(amount))
        return amount

    def _psm_in_units(self, usdc: float) -> int:
        """USDC units for a swapIn; trimmed (and recorded) only if base-unit rounding alone would cross the ceiling."""
        units = evm.to_units(usdc, 6)
        fee = self.fee_bps["psm"]
        room = max(self.psm_ceiling - self.psm_state[1], 0)
        if room < evm.psm_swap_in(units, fee) <= room + self._psm_allowance():
            trimmed = units
            while trimmed > 0 and evm.psm_swap_in(trimmed, fee) > room:
                trimmed -= 1
            self.clamps.append({"step": self.actor.step, "action": "psm swapIn", "usdc_units_trimmed": units - trimmed})
            units = trimmed
        return units

    def _psm_out_units(self, husd: float) -> int:
        """HUSD wei for a swapOut; trimmed (and recorded) only if base-unit rounding alone would overdraw the PSM's USDC."""
        wei = evm.to_units(husd, 18)
        fee, usdc = self.fee_bps["psm"], self.psm_state[0]
        excess = evm.psm_swap_out(wei, fee) - usdc
        if excess > 0 and excess * 10**12 <= self._psm_allowance():
            trimmed = wei - (excess * 10**12 * evm.BPS // max(evm.BPS - fee, 1)) - 10**12
            while trimmed > 0 and evm.psm_swap_out(trimmed, fee) > usdc:
                trimmed -= 10**12
            self.clamps.append({"step": self.actor.step, "action": "psm swapOut", "husd_wei_trimmed": wei - trimmed})
            wei = trimmed
        return wei

    def _psm_allowance(self) -> int:
        """... or, for the PSM, what base-unit rounding may have accumulated between its books on chain and in
        the model by this step (the comparison's own allowance for `psm_usdc`): a PSM the model drains to zero
        holds that much less on chain."""
        per_step = ROUNDING_TOLERANCE["psm_usdc"][0]
        return max(ROUNDING_CLAMP_WAD, evm.usd_wad(per_step * (self.actor.step + 1)))

    @staticmethod
    def custody_usdc(row) -> float:
        return max(float(row.buffer_usd) + float(row.tbill_pending_usd), 0.0)

    def sync_custody(self, row):
        """Minter custody := the model's sleeves, as treasury transfers: excess out by `moveCollateral`
        (TREASURER_ROLE), shortfall in from the stepper's inventory (the model's treasury ops -- hedge
        rebalancing, T-bill redemptions -- are netted into one transfer per asset and step)."""
        P = self.p
        targets = {"USDC": self.custody_usdc(row), "TBILL": float(row.tbill_units),
                   "WBTC": float(row.btc_units), "PAXG": float(row.xau_units)}
        for sym, amount in targets.items():
            self.add(f"custody {sym}", self.stepper, "syncCustody", P.tokens[sym], P.minter, P.units(sym, max(amount, 0.0)))

    def staker_rewards(self, prev, row, rewards: float):
        """Staker rewards through `Minter.distributeRewards` into sHUSD's vesting. The chain mints them only within
        its realised surplus, as the model does when it distributes: while the reserve's share of the same surplus
        is still in custody. So custody USDC := the model's buffer plus this step's reserve share
        (`reserve_added_usd`), the rewards, then the buffer again."""
        if not rewards:
            return
        P = self.p
        to_reserve = max(float(row.reserve_added_usd) - float(prev.reserve_added_usd), 0.0)
        buffer = P.units("USDC", self.custody_usdc(row))
        if to_reserve > DUST_USD:
            self.add("custody USDC (reserve share, before rewards)", self.stepper, "syncCustody", P.usdc, P.minter,
                     buffer + evm.to_units(to_reserve, 6))
        self.add("staker rewards", P.minter, "distributeRewards", evm.to_units(rewards, 18))
        if to_reserve > DUST_USD:
            self.add("custody USDC (after rewards)", self.stepper, "syncCustody", P.usdc, P.minter, buffer)

    def reserve_flow(self, prev, row, buy_backs_usd: float = 0.0):
        """The reserve moved by the model's delta, less what it spends on this step's buy-backs on the pool
        (those go through `ReserveFund.buyBack` with the pool trades, after this)."""
        P = self.p
        d = float(row.reserve_fund_usd) - float(prev.reserve_fund_usd) + buy_backs_usd
        if d > DUST_USD and evm.to_units(d, 6):
            self.add("reserve deposit", P.reserve, "deposit", P.usdc, evm.to_units(d, 6))
        elif d < -DUST_USD and evm.to_units(-d, 6):
            self.add("reserve payFunding", P.reserve, "payFunding", P.usdc, self.admin, evm.to_units(-d, 6))

    def backstop_sale(self, prev, row):
        """Without a tape: the step's backstop sale from the trajectory (HYB sold) through `Backstop.recapitalize`."""
        sold = float(row.hyb_sold) - float(prev.hyb_sold)
        if sold > DUST_USD:
            self.add("backstop recapitalize", self.p.backstop, "recapitalize", evm.to_units(sold, 18), 0)

    def hyb_trades(self, trades: list):
        """The tape's HYB-pool trades in the model's order: the backstop's sales through `Backstop.recapitalize`
        (HYB minted and sold, USDC to custody), treasury companies' sales as exact-input swaps ending at the
        model's post-trade price."""
        for t, units in sendable(trades):
            if t.who == "backstop":
                self.add("backstop recapitalize", self.p.backstop, "recapitalize", units, 0)
            else:
                self.add(f"hyb pool trade {label(t)}", self.stepper, "swapExactIn", self.hyb_info.pool, t.sell == self.hyb0,
                         units, evm.sqrt_x96_from_sim(t.sqrt_after, self.hyb0))

    def move_hyb_pool(self, sqrt_target: float):
        """The HYB pool to the model's HYB price (the treasury companies' HYB sales; the backstop's went first)."""
        self.add("hyb pool swap to sim price", self.stepper, "swapToPrice", self.hyb_info.pool,
                 evm.sqrt_x96_from_sim(sqrt_target, self.hyb0))

    def set_depth(self, depth: float):
        """Scale every position to `depth` x its depth-1 liquidity (mint more, or burn + collect)."""
        if abs(depth - self.depth) < 1e-12:
            return
        for t_lo, t_hi, L_raw in self.positions:
            cur, new = int(L_raw * self.depth), int(L_raw * depth)
            if new > cur:
                self.add("pool add liquidity", self.p.router, "addLiquidity", self.pool, t_lo, t_hi, new - cur, self.stepper)
            elif cur > new:
                self.add("pool remove liquidity", self.stepper, "removeLiquidity", self.pool, t_lo, t_hi, cur - new)
        self.depth = depth

    def pool_trades(self, trades: list):
        """The tape's HUSD-pool trades, each an exact-input swap of what the model's trade consumed, stopping at
        the price where the model's trade ended: the chain's price path follows the model's trade by trade
        (and a trade that emptied the model's curve cannot run the pool's tick search to its bound)."""
        for t, units in sendable(trades):
            zero_for_one = t.sell == self.husd0  # HUSD in: token0 -> token1 when HUSD is token0
            lim = evm.sqrt_x96_from_sim(t.sqrt_after, self.husd0)
            if t.who == "reserve":  # the reserve's own purchase: its USDC, budget and trigger, burned or held
                self.add("reserve buyBack", self.stepper, "buyBackSettled", self.p.reserve, self.p.husd, units, lim,
                         evm.to_units(t.out, 18), self.p.spec.reserve.buy_then == "burn")
            else:
                self.add(f"pool trade {label(t)}", self.stepper, "swapExactIn", self.pool, zero_for_one, units, lim)

    def move_pool(self, sqrt_target: float):
        self.add("pool swap to sim price", self.stepper, "swapToPrice", self.pool, evm.sqrt_x96_from_sim(sqrt_target, self.husd0))

    # ------------------------------------------------------------------ what the step did on chain

    def swap_amounts(self, receipt) -> dict:
        """The step's closing pool swap on chain vs the simulator's pool maths on the chain's own curve."""
        from sim.model import amm

        out = {"pool_husd_chain": 0.0, "pool_usdc_chain": 0.0, "pool_husd_maths": 0.0, "pool_usdc_maths": 0.0}
        if receipt is None:
            return out
        for ev in receipt.decode_logs(self.stepper.Moved):
            if ev.pool.lower() != self.pool.address.lower():
                continue  # the HYB pool's move
            husd_raw, usdc_raw = self._husd_usdc(ev)
            s0, s1 = evm.sim_sqrt_from_x96(int(ev.sqrtBefore), self.husd0), evm.sim_sqrt_from_x96(int(ev.sqrtAfter), self.husd0)
            m0, m1, _fee = amm.amounts_to_reach(s0, s1, self.ref_curve, depth=self.depth, fee=self.fee_fraction)
            out.update(pool_husd_chain=evm.from_units(husd_raw, 18), pool_usdc_chain=evm.from_units(usdc_raw, 6),
                       pool_husd_maths=float(m0), pool_usdc_maths=float(m1))
        return out

    def trade_outcomes(self, receipt, trades: list | None) -> dict:
        """Each HUSD-pool trade's proceeds on chain vs the pool maths on the chain's curve and vs the model's trade."""
        out = {"trades": 0, "hyb_trades": 0, "trade_out_max_rel": 0.0, "trade_maths_max_rel": 0.0}
        if receipt is None or not trades:
            return out
        from sim.model import amm

        failed = self.actor.failed_indices(receipt)
        idx = [i for i, (a, _t, _d) in enumerate(self.actor.last_calls) if a.startswith("pool trade ")]
        mine = [t for t in trades if t.venue == self.venue and t.who != "reserve"]  # the stepper's swaps (Traded events)
        ok = [tu for i, tu in zip(idx, sendable(mine)) if i not in failed]
        evs = [ev for ev in receipt.decode_logs(self.stepper.Traded) if ev.pool.lower() == self.pool.address.lower()]
        maths, model = 0.0, 0.0
        for (t, units), ev in zip(ok, evs):
            husd_raw, usdc_raw = self._husd_usdc(ev)
            got = evm.from_units(-usdc_raw, 6) if t.sell else evm.from_units(-husd_raw, 18)
            s0 = evm.sim_sqrt_from_x96(int(ev.sqrtBefore), self.husd0)
            amount_in = evm.from_units(units, 18 if t.sell else 6)
            m_out, *_ = amm.swap_exact_in(s0, amount_in, t.sell, self.ref_curve, depth=self.depth,
                                          fee=self.fee_fraction, sqrt_limit=t.sqrt_after)
            if float(m_out) > 1.0:  # beyond the output token's base-unit rounding (two units: the pool's and ours)
                unit = 10.0 ** -(6 if t.sell else 18)
                maths = max(maths, max(abs(got - float(m_out)) - 2 * unit, 0.0) / float(m_out))
            if t.out > 1.0:
                model = max(model, abs(got - t.out) / t.out)
        hyb = sum(1 for a, _t, _d in self.actor.last_calls if a.startswith(("hyb pool trade ", "backstop recapitalize")))
        out.update(trades=len(evs), hyb_trades=hyb, trade_out_max_rel=model, trade_maths_max_rel=maths)
        return out

    def buy_backs(self, receipt, trades: list | None) -> dict:
        """The reserve's buy-backs this step: USDC spent and HUSD bought on chain (BoughtBack events) and in the
        model (its tape). Both through the same pool from the same price, so they differ only by rounding and
        where a purchase crossed a range bound the chain snaps to a tick."""
        mine = [t for t, _u in sendable([t for t in trades or () if t.venue == self.venue and t.who == "reserve"])]
        evs = receipt.decode_logs(self.p.reserve.BoughtBack) if receipt is not None and mine else []
        return {"buy_backs": len(evs),
                "buy_back_usdc_chain": sum(evm.from_units(int(e.usdcSpent), 6) for e in evs),
                "buy_back_usdc_model": sum(t.used for t in mine),
                "buy_back_husd_chain": sum(evm.from_units(int(e.husdBought), 18) for e in evs),
                "buy_back_husd_model": sum(t.out for t in mine)}

    def backstop_raised(self, receipt) -> float:
        """USDC the backstop's sale raised on chain this step (its Recapitalized event)."""
        if receipt is None:
            return 0.0
        return sum(evm.from_units(int(ev.usdcRaised), 6) for ev in receipt.decode_logs(self.p.backstop.Recapitalized))

    def _husd_usdc(self, ev) -> tuple[int, int]:
        a0, a1 = int(ev.amount0), int(ev.amount1)
        return (a0, a1) if self.husd0 else (a1, a0)

    def read(self, hour: int) -> dict:
        """Every compared chain figure in one eth_call (a reverting read, e.g. a stale oracle, is NaN)."""
        P = self.p
        names = ("supply", "pool", "hyb_pool", "reserve_fund", "backing", "psm_usdc", "psm_debt", "mint_cap_used",
                 "redeem_cap_used", "mint_paused", "reserve_husd")
        words = self.actor.read_words([
            (P.husd, "totalSupply", ()), (self.pool, "slot0", ()), (self.hyb_info.pool, "slot0", ()),
            (P.usdc, "balanceOf", (P.reserve,)), (P.ledger, "totalBacking", ()), (P.usdc, "balanceOf", (P.psm,)),
            (P.psm, "debt", ()), (P.minter, "mintedInHour", (hour,)), (P.minter, "redeemedInHour", (hour,)),
            (P.minter, "mintPaused", ()), (P.husd, "balanceOf", (P.reserve,))])
        w = dict(zip(names, words))
        self.psm_state = (w["psm_usdc"], w["psm_debt"])
        self.chain_paused = bool(w["mint_paused"])
        if w["backing"] is None:
            self.reverts.append({"step": self.actor.step, "action": "read totalBacking", "reason": "reverted (oracle?)"})
        s = evm.sim_sqrt_from_x96(w["pool"], self.husd0)
        f18 = lambda k: evm.from_units(w[k], 18) if w[k] is not None else math.nan  # noqa: E731
        return {
            "supply": f18("supply"),
            "pool_price": s * s,
            "reserve_fund": evm.from_units(w["reserve_fund"], 6),
            "backing": f18("backing"),
            "hyb_price": evm.price_from_x96(w["hyb_pool"], self.hyb0, evm.HYB_DECIMALS),
            "psm_usdc": evm.from_units(w["psm_usdc"], 6),
            "mint_cap_used": f18("mint_cap_used"),
            "redeem_cap_used": f18("redeem_cap_used"),
            "mint_paused": float(bool(w["mint_paused"])),
            "reserve_husd": f18("reserve_husd"),
        }

    @property
    def psm_ceiling(self) -> int:
        return evm.usd_wad(self.p.spec.psm.ceiling_usd)


def sendable(trades: list) -> list[tuple]:
    """(trade, base units of its input) for the tape's trades with something to send: an input of at least
    one base unit (the base token, HUSD or HYB, has 18 decimals; USDC 6) and a price that moved."""
    out = []
    for t in trades:
        units = evm.to_units(t.used, 18 if t.sell else 6)
        if units and t.sqrt_after != t.sqrt_before:
            out.append((t, units))
    return out


def _claims(row) -> float:
    """Claims on failed venues and frozen custody at their marked recovery (0 for a run recorded before claims)."""
    return sum(float(getattr(row, k, 0.0)) for k in ("venue_claim_mark_usd", "custody_claim_mark_usd"))


def _margin_and_transit(row, asset: str) -> float:
    """A sleeve's margin at the venue plus what is moving to or from it (0 for a run recorded before transfers)."""
    return sum(float(getattr(row, f"{asset}_{k}", 0.0)) for k in ("margin_usd", "to_venue_usd", "from_venue_usd"))
