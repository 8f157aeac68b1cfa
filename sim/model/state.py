"""State variables of the protocol and its market, and the genesis state of a scenario.

Every value is a float (or an array over runs in the batched engine). Money in dollars; units
named where they are not (`btc_units`, `*_shares`, `hyb_*` token counts).
"""
from __future__ import annotations

import numpy as np

from sim.config import Scenario
from sim.model.params import make_params

HEDGED_ASSETS = ("btc", "xau")
"""The crypto sleeves: spot held in custody, hedged with a short perp of equal size at a venue."""
# Each treasury company i has these variables, named f"dat{i}_{name}".
COMPANY_VARS = ("btc_units", "husd", "hyb", "debt_usd", "mnav", "sentiment", "assets_usd", "forced_usd", "buyback_usd",
                "loss_usd")


# Holder classes that decide from what they observe, and the prefix of their state variables.
HOLDER_PREFIX = {"institutional": "inst", "retail": "retail", "stakers": "staker"}


def holder_vars(prm: dict) -> tuple[str, ...]:
    """Each holder class's alarm, cohort shares and what each cohort still keeps of its position, and
    the class's exit queue (stakers: unstaking, then queued)."""
    out = ["looper_alarm", "unstaking_husd"]
    for cls, pre in HOLDER_PREFIX.items():
        out += [f"{pre}_alarm", f"{pre}_queue_husd"]
        for k in range(prm["holders"][cls]["cohorts"]):
            out += [f"{pre}_c{k}_frac", f"{pre}_c{k}_kept"]
    return tuple(out)


def venue_vars(prm: dict) -> tuple[str, ...]:
    """Each venue's price (and sqrt price beside the reference pool's), liquidity pulled, recent swings;
    for order books, the cross-venue arbitrage inventory in transit, delivered, and its cost."""
    out = []
    for v in prm["venues"]:
        out += [v.price_key, f"depth_{v.name}", v.pull_key, f"lp_vol_{v.name}"]
        if v.kind != "reference":
            out.append(v.sqrt_key)
        if v.kind == "order_book":
            out += [f"xarb_transit_{v.name}", f"xarb_ready_{v.name}", f"xarb_cost_{v.name}"]
    return tuple(out)


def sleeve_vars() -> tuple[str, ...]:
    """Every hedged sleeve's spot units, short units and cash margin."""
    return tuple(f"{a}_{k}" for a in HEDGED_ASSETS for k in ("units", "short_units", "margin_usd"))


def margin_vars(*names: str) -> tuple[str, ...]:
    """Every hedged sleeve's margin-operation variables of these names: `to_venue_usd` and
    `from_venue_usd` (a transfer in flight, landing at `*_due_hour`), `venue_down` (1 during an outage)."""
    return tuple(f"{a}_{k}" for a in HEDGED_ASSETS for k in names)


NO_SHORT = float(np.finfo(float).max)
"""`margin_ratio_low` of a step with no short open: above any real ratio (so a minimum over steps ignores
it) and finite (outputs never hold inf)."""
CLAIMS = "venue_claim"
"""The claims ledger of failed perp venues (`sim.model.parts.claims`): venue_claim_{face,mark,recovered}_usd."""
CUSTODY = "custody_claim"
"""The claims ledger of backing frozen at a custodian (`sim.model.parts.custody`)."""


# Cumulative dollar flows: backing + reserve fund changes by exactly these (the value ledger).
LEDGER_VARS = ("cum_collateral_in", "cum_collateral_out", "cum_yield", "cum_funding", "cum_basis", "cum_hedge_pnl",
               "cum_spot_pnl", "cum_costs", "cum_venue_loss", "cum_backstop_in", "cum_custody_loss")


def genesis_state(sc: Scenario, x0: dict | None = None, prm: dict | None = None) -> dict:
    """The state at hour 0: backing equals supply, split by target weights; holders by their shares.
    `x0`: the market at hour 0 (default: the stochastic market's start); `prm`: make_params(sc)."""
    prm = make_params(sc) if prm is None else prm
    m = sc.market.stochastic
    # the market at hour 0 is the same for every run (paths start from one point)
    btc = float(x0["btc_usd"]) if x0 else m.btc_usd_start
    xau = float(x0["xau_usd"]) if x0 else m.xau_usd_start
    y = float(x0["tbill_yield"]) if x0 else m.tbill_yield_start
    f_btc = float(x0["funding_rate_8h_btc"]) if x0 else m.calm.funding_mean_8h_btc
    f_xau = float(x0["funding_rate_8h_xau"]) if x0 else m.calm.funding_mean_8h_xau
    depth = float(x0["pool_depth"]) if x0 else 1.0
    S = sc.protocol.initial_supply_usd
    psm = min(sc.protocol.psm.initial_usdc_usd, S) if sc.protocol.psm.enabled else 0.0
    rest = S - psm
    im = prm["initial_margin"]
    btc_units = prm["w_btc"] * rest / (btc * (1 + im))
    xau_units = prm["w_xau"] * rest / (xau * (1 + im))
    ag = sc.agents
    staker_husd = ag.stakers.share_of_supply * S
    looper_husd = ag.loopers.collateral_share_of_supply * S
    vault = staker_husd + looper_husd
    inst, retail = ag.institutional.share_of_supply * S, ag.retail.share_of_supply * S
    # Staker APR the market expects at the start: sleeve yields on the whole book, to stakers' share.
    book_apr = (prm["w_tbill"] * y + (prm["w_btc"] * f_btc + prm["w_xau"] * f_xau) * 3 * 365)
    staker_apr = book_apr * prm["staker_share"] * S / max(vault, 1.0)
    s = {
        "btc_usd": btc, "xau_usd": xau, "tbill_yield": y, "funding_rate_8h_btc": f_btc, "funding_rate_8h_xau": f_xau,
        "pool_depth": depth, "stress": 0.0, "oracle_ok": 1.0, "mint_paused": 0.0, "tbill_frozen": 0.0,
        # supply and collateral
        "supply": S, "minted_husd": S, "burned_husd": 0.0, "redeemed_usd": 0.0,
        "tbill_units": prm["w_tbill"] * rest, "tbill_nav": 1.0, "tbill_pending_usd": 0.0, "tbill_pending_due_hour": 0.0,
        "tbill_instant_used_usd": 0.0,
        "btc_units": btc_units, "btc_short_units": btc_units, "btc_margin_usd": im * btc_units * btc,
        "xau_units": xau_units, "xau_short_units": xau_units, "xau_margin_usd": im * xau_units * xau,
        "buffer_usd": prm["w_buffer"] * rest, "psm_usdc": psm, "psm_minted": psm,
        "reserve_fund_usd": sc.protocol.reserve.initial_usd, "reserve_drawn_usd": 0.0, "reserve_added_usd": 0.0,
        "hyb_sqrt_price": float(np.sqrt(sc.pool.hyb_price_start)), "hyb_sold": 0.0, "backstop_day_used_usd": 0.0,
        "vault_husd": vault, "vault_shares": vault, "staker_shares": staker_husd, "looper_shares": looper_husd,
        "staker_apr": staker_apr, "staker_rewards_usd": 0.0,
        "pool_sqrt_price": 1.0, "step": 0.0,
        "redeem_cap_used_usd": 0.0, "mint_cap_used_usd": 0.0, "unwind_used_usd": 0.0, "reserve_buy_used_usd": 0.0,
        # holders (HUSD); float_husd = pool + LPs + arbitrage inventory
        "inst_husd": inst, "retail_husd": retail, "looper_debt_usd": ag.loopers.initial_ltv * looper_husd,
        "float_husd": S - inst - retail - vault,
        # realised losses against par (negative = gain), per holder class
        "loss_institutional": 0.0, "loss_retail": 0.0, "loss_loopers": 0.0,
        "looper_liquidated_usd": 0.0, "hedge_liquidations": 0.0, "hours_below": 0.0,
        # derived, refreshed every step
        "peg_price": 1.0, "backing_usd": S, "backing_ratio": 1.0, "hyb_price": sc.pool.hyb_price_start,
        "share_price": 1.0, "looper_ltv": ag.loopers.initial_ltv, "borrow_apr": 0.0, "net_delta_usd": 0.0,
    }
    s.update({k: 0.0 for k in LEDGER_VARS})
    s.update({"inst_exited_husd": 0.0, "deposits_usd": 0.0, "carry_paid_mark_usd": 0.0})
    # margin operations: transfers in flight, venue outages, claims on failed venues, revenue accounts
    from sim.model.parts import claims
    from sim.model.parts.rebalance import margin_ratio

    s.update({k: 0.0 for k in margin_vars("to_venue_usd", "to_venue_due_hour", "from_venue_usd", "from_venue_due_hour",
                                          "venue_down")})
    s.update(claims.genesis(CLAIMS))
    s.update(claims.genesis(CUSTODY))
    ratio = float(margin_ratio(s))
    s.update({"margin_topup_usd": 0.0, "margin_ratio": ratio, "margin_ratio_low": ratio if ratio > 0 else NO_SHORT,
              "cum_unhedged_pnl": 0.0, "staker_carry_account_usd": 0.0, "reserve_lent_usd": 0.0,
              "reserve_repaid_usd": 0.0})
    # what holders observe and how they stand (issue 14): alarms start calm, cohorts equal, queues empty
    s.update({k: 0.0 for k in holder_vars(prm)})
    for cls, pre in HOLDER_PREFIX.items():
        K = prm["holders"][cls]["cohorts"]
        s.update({f"{pre}_c{k}_frac": 1.0 / K for k in range(K)})
        s.update({f"{pre}_c{k}_kept": 1.0 for k in range(K)})
    s.update({k: 0.0 for k in venue_vars(prm)})
    for v in prm["venues"]:
        s[v.price_key], s[f"low_price_{v.name}"], s[f"depth_{v.name}"] = 1.0, 1.0, depth
        if v.kind != "reference":
            s[v.sqrt_key] = 1.0
    s.update({"published_backing_ratio": 1.0, "exit_share_24h": 0.0, "btc_ema_24h": btc, "bank_open": 1.0,
              "cap_multiplier": 1.0, "loss_stakers": 0.0, "liquidator_queue_husd": 0.0,
              "reserve_bought_husd": 0.0, "reserve_buy_usd": 0.0, "reserve_husd": 0.0,
              "parb_husd": 0.0, "parb_cost_usd": 0.0})
    # treasury companies: holdings bought at the start prices; their HUSD comes out of the float
    for i, c in enumerate(ag.treasury_companies):
        hyb0 = sc.pool.hyb_price_start
        s.update({f"dat{i}_btc_units": c.btc_usd / btc, f"dat{i}_husd": c.husd_usd, f"dat{i}_hyb": c.hyb_usd / hyb0,
                  f"dat{i}_debt_usd": c.debt_usd, f"dat{i}_mnav": c.mnav_start, f"dat{i}_sentiment": 0.0,
                  f"dat{i}_assets_usd": c.btc_usd + c.husd_usd + c.hyb_usd,
                  f"dat{i}_forced_usd": 0.0, f"dat{i}_buyback_usd": 0.0, f"dat{i}_loss_usd": 0.0})
        s["float_husd"] -= c.husd_usd
    return s


def dat_count(state: dict) -> int:
    """How many treasury companies a state (or a recorded trajectory's columns) holds."""
    return sum(1 for k in state if k.startswith("dat") and k.endswith("_mnav"))


# What `tripod run` writes per run x timestep by default (`--all-columns` writes every variable):
# the market, the peg and backing, each sleeve, the flows and the holders.
TRAJECTORY_COLUMNS = (
    "btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth", "stress",
    "oracle_ok", "mint_paused", "tbill_frozen",
    "peg_price", "supply", "backing_usd", "backing_ratio", "reserve_fund_usd", "hyb_price", "share_price",
    "staker_apr", "net_delta_usd",
    "tbill_units", "tbill_nav", "tbill_pending_usd", "btc_units", "btc_short_units", "btc_margin_usd", "xau_units",
    "xau_short_units", "xau_margin_usd", "buffer_usd", "psm_usdc",
    "minted_husd", "burned_husd", "redeemed_usd", "reserve_drawn_usd", "cum_backstop_in", "cum_funding", "cum_costs",
    "cum_venue_loss", "hedge_liquidations", "margin_ratio", "margin_ratio_low", "margin_topup_usd", "btc_to_venue_usd", "btc_from_venue_usd",
    "xau_to_venue_usd", "xau_from_venue_usd", "venue_claim_face_usd", "venue_claim_mark_usd", "venue_claim_recovered_usd",
    "btc_venue_down", "xau_venue_down",
    "custody_claim_face_usd", "custody_claim_mark_usd", "custody_claim_recovered_usd", "cum_custody_loss",
    "inst_husd", "retail_husd", "vault_husd", "float_husd", "looper_debt_usd", "looper_ltv", "borrow_apr",
    "looper_liquidated_usd", "loss_institutional", "loss_retail", "loss_loopers", "hours_below",
    "inst_exited_husd", "deposits_usd",
    # what holders see and how far they got out (issue 14)
    "published_backing_ratio", "exit_share_24h", "inst_alarm", "retail_alarm", "staker_alarm", "looper_alarm",
    "inst_queue_husd", "retail_queue_husd", "staker_queue_husd", "unstaking_husd", "liquidator_queue_husd",
    "reserve_bought_husd", "reserve_buy_usd", "bank_open", "parb_husd",
)


def trajectory_columns(state: dict) -> tuple[str, ...]:
    """The core columns plus each venue's price (and lowest since the last recorded step), depth and liquidity
    pulled, and each treasury company's."""
    venues = tuple(k for k in state if k.startswith(("price_", "low_price_", "depth_", "lp_pull_")))
    dats = tuple(f"dat{i}_{k}" for i in range(dat_count(state)) for k in COMPANY_VARS if k != "sentiment")
    return TRAJECTORY_COLUMNS + venues + dats
