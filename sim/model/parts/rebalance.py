"""Rebalancing the book toward target weights and keeping it delta-neutral; derived observables."""
from __future__ import annotations

import numpy as np

from sim.model import amm
from sim.model.parts.common import backing, raise_cash, safe_div, sleeve_value, tbill_instant_available
from sim.model.parts.trading import borrow_apr
from sim.model.state import HEDGED_ASSETS, margin_vars, sleeve_vars
from sim.model.venues import venue_depth

REBALANCE_VARS = ("buffer_usd", "tbill_units", "tbill_pending_usd", "tbill_pending_due_hour", "tbill_instant_used_usd",
                  "cum_costs", "reserve_fund_usd", "reserve_drawn_usd", "reserve_lent_usd", "margin_topup_usd",
                  *sleeve_vars(), *margin_vars("to_venue_usd", "to_venue_due_hour", "from_venue_usd",
                                               "from_venue_due_hour"))
OBSERVE_VARS = ("peg_price", "backing_usd", "backing_ratio", "hyb_price", "share_price", "looper_ltv", "borrow_apr",
                "net_delta_usd", "published_backing_ratio", "margin_ratio")


def observe_vars(p: dict) -> tuple[str, ...]:
    return (*OBSERVE_VARS, *(v.price_key for v in p["venues"]), *(f"low_price_{v.name}" for v in p["venues"]),
            *(f"depth_{v.name}" for v in p["venues"]))


def _transfer(p: dict, o: dict, asset: str, direction: str, amount, hour) -> None:
    """Send `amount` between custody and the asset's venue; it lands after the transfer latency (at once
    when the latency is 0). Added to a transfer already in flight, it lands with it."""
    if not np.any(amount > 0):
        return
    if p["transfer_latency_hours"] <= 0:
        key = f"{asset}_margin_usd" if direction == "to_venue" else "buffer_usd"
        o[key] = o[key] + amount
        return
    flight, due = f"{asset}_{direction}_usd", f"{asset}_{direction}_due_hour"
    o[due] = np.where((o[flight] <= 0) & (amount > 0), hour + p["transfer_latency_hours"], o[due])
    o[flight] = o[flight] + amount


def p_rebalance(p: dict, s: dict, x: dict) -> dict:
    """Spec: sleeves move toward target weights (a share of the gap per hour, at a cost); shorts are
    re-opened to match spot (re-hedge after a liquidation or venue failure); margin under the initial
    ratio is topped up from the margin waterfall (buffer, instant T-bills, reserve: configurable) and
    profits above the sweep ratio are swept back to the buffer, each transfer taking the transfer
    latency, one per direction in flight at a time. Nothing moves to, from or at a venue that is down.
    The buffer is refilled from T-bills (instant within the daily limit, else T+1)."""
    # Parameters
    dt = x["dt_hours"]
    step, cost, im = min(1.0, p["rebalance_per_hour"] * dt), p["rebalance_cost"], p["initial_margin"]
    rehedge = min(1.0, p["rehedge_per_hour"] * dt)
    # State Variables
    o = {k: s[k] for k in REBALANCE_VARS}
    hour = x["hour"]
    B = backing(s) - s["psm_usdc"]  # PSM USDC is ring-fenced for the PSM
    for a in HEDGED_ASSETS:
        P = s[f"{a}_usd"]
        # `up`: the venue works (True everywhere, the usual case, skips the masks: the same numbers)
        up = True if not np.any(s[f"{a}_venue_down"]) else s[f"{a}_venue_down"] == 0
        # re-hedge toward equal short, margin back inside [initial, sweep] ratio of notional
        short = o[f"{a}_short_units"] + rehedge * (o[f"{a}_units"] - o[f"{a}_short_units"])
        short = short if up is True else np.where(up, short, o[f"{a}_short_units"])
        o[f"{a}_short_units"] = short
        notional = short * P
        # a margin call: top up to the initial ratio, one transfer in flight at a time
        want = np.where(up & (o[f"{a}_to_venue_usd"] <= 0), np.maximum(im * notional - o[f"{a}_margin_usd"], 0.0), 0.0)
        if np.any(want > 0):
            view = {**o, **{k: s[k] for k in ("tbill_nav", "tbill_frozen", "bank_open")}}  # what the waterfall reads
            top_up = raise_cash(p, view, want, dt)
            o.update({k: view[k] for k in o})
            o["margin_topup_usd"] = o["margin_topup_usd"] + top_up
            _transfer(p, o, a, "to_venue", top_up, hour)
        # profits above the sweep ratio come back to custody
        sweep = np.where(up & (o[f"{a}_from_venue_usd"] <= 0),
                         np.maximum(o[f"{a}_margin_usd"] - p["margin_sweep"] * notional, 0.0), 0.0)
        o[f"{a}_margin_usd"] = o[f"{a}_margin_usd"] - sweep
        _transfer(p, o, a, "from_venue", sweep, hour)
        # move the sleeve toward its weight: buy/sell spot (with matching short) against the buffer; the
        # short's margin travels like any transfer
        gap = p[f"w_{a}"] * B - sleeve_value({**o, f"{a}_usd": P}, a)
        trade = step * gap
        trade = np.where(trade > 0, np.minimum(trade, np.maximum(o["buffer_usd"], 0.0) / (1 + cost + im)), trade)
        trade = np.where((s["oracle_ok"] > 0) & up, trade, 0.0)  # no sleeve trades on a broken oracle or venue
        # a sale sells at most the spot held and closes at most the open short (after a liquidation the
        # sleeve is partly unhedged), releasing at most the margin there: no position goes below zero
        wanted = safe_div(trade, P * (1 + im))
        d_units = np.maximum(wanted, -o[f"{a}_units"])
        d_short = np.maximum(d_units, -o[f"{a}_short_units"])
        d_margin = np.maximum(d_short * P * im, -np.maximum(o[f"{a}_margin_usd"], 0.0))
        bound = (d_units != wanted) | (d_short != d_units) | (d_margin != d_units * P * im)
        cash = np.where(bound, d_units * P + d_margin, trade)
        o[f"{a}_units"] = o[f"{a}_units"] + d_units
        o[f"{a}_short_units"] = o[f"{a}_short_units"] + d_short
        fee = np.abs(cash) * cost
        o["buffer_usd"] = o["buffer_usd"] - d_units * P - np.maximum(d_margin, 0.0) - fee
        o[f"{a}_margin_usd"] = o[f"{a}_margin_usd"] + np.minimum(d_margin, 0.0)
        _transfer(p, o, a, "to_venue", np.maximum(d_margin, 0.0), hour)
        _transfer(p, o, a, "from_venue", np.maximum(-d_margin, 0.0), hour)
        o["cum_costs"] = o["cum_costs"] + fee
    # buffer vs T-bills
    nav = s["tbill_nav"]
    gap = p["w_buffer"] * B - o["buffer_usd"]  # > 0: buffer short of target
    buy = np.maximum(-gap, 0.0) * step
    o["tbill_units"] = o["tbill_units"] + safe_div(buy, nav)
    o["buffer_usd"] = o["buffer_usd"] - buy
    need = np.maximum(gap, 0.0)
    instant = np.minimum(need, tbill_instant_available(p, o | {"tbill_nav": nav, "tbill_frozen": s["tbill_frozen"],
                                                                "bank_open": s["bank_open"]}))
    o["tbill_units"] = o["tbill_units"] - safe_div(instant, nav)
    o["tbill_instant_used_usd"] = o["tbill_instant_used_usd"] + instant
    o["buffer_usd"] = o["buffer_usd"] + instant
    # the rest goes T+1, one lot at a time
    # (nothing leaves a frozen sleeve, not even T+1)
    slow = np.where((o["tbill_pending_usd"] > 0) | (s["tbill_frozen"] > 0), 0.0, np.minimum(need - instant, o["tbill_units"] * nav))
    o["tbill_units"] = o["tbill_units"] - safe_div(slow, nav)
    o["tbill_pending_due_hour"] = np.where(slow > 0, hour + p["tbill_settlement_hours"], o["tbill_pending_due_hour"])
    o["tbill_pending_usd"] = o["tbill_pending_usd"] + slow
    return o


def p_observe(p: dict, s: dict, x: dict) -> dict:
    """Derived observables recorded every step (no state change): the reference price, every venue's and
    its lowest since the last recorded step (below the recorded price only inside a fine-step window),
    the backing. When a proof of reserves is due, the protocol publishes (backing + reserve fund) / supply:
    what holders can check their claim against."""
    b = backing(s)
    ratio = safe_div(b, s["supply"], 1.0)
    publish = (x["hour"] % p["publish_interval_hours"]) < x["dt_hours"]
    covered = safe_div(b + s["reserve_fund_usd"], s["supply"], 1.0)
    sp = safe_div(s["vault_husd"], s["vault_shares"], 1.0)
    price = s["pool_sqrt_price"] ** 2
    prices = {v.name: s[v.sqrt_key] ** 2 for v in p["venues"]}
    coll_val = s["looper_shares"] * sp * price
    return {
        "peg_price": price,
        "backing_usd": b,
        "backing_ratio": ratio,
        "published_backing_ratio": np.where(publish, covered, s["published_backing_ratio"]),
        **{v.price_key: prices[v.name] for v in p["venues"]},
        **{f"low_price_{v.name}": np.where(x["record_start"] > 0, prices[v.name],
                                           np.minimum(s[f"low_price_{v.name}"], prices[v.name])) for v in p["venues"]},
        **{f"depth_{v.name}": venue_depth(v, s, x) for v in p["venues"]},
        "hyb_price": s["hyb_sqrt_price"] ** 2,
        "share_price": sp,
        "looper_ltv": safe_div(s["looper_debt_usd"], coll_val),
        "borrow_apr": borrow_apr(p, s["looper_debt_usd"]),
        "net_delta_usd": (s["btc_units"] - s["btc_short_units"]) * s["btc_usd"]
        + (s["xau_units"] - s["xau_short_units"]) * s["xau_usd"],
        "margin_ratio": margin_ratio(s),
    }


def margin_ratio(s: dict):
    """The lowest margin / notional over the hedges with an open short (0 when none is open)."""
    low = np.inf
    for a in HEDGED_ASSETS:
        notional = s[f"{a}_short_units"] * s[f"{a}_usd"]
        low = np.minimum(low, np.where(notional > 0, safe_div(s[f"{a}_margin_usd"], notional, np.inf), np.inf))
    return np.where(np.isfinite(low), low, 0.0)
