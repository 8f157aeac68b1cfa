"""Holders who read the news: an alarm from what each class can observe, cohorts with their own
thresholds, and exits that queue until they can be redeemed or sold.

What a holder can observe (`signals`): the price on the venues it trades on, the protocol's published
backing ratio, announced events (the loss share of backing they put at risk), a fall in the
collateral, others' exits (redemptions are public on chain) and the staker yield against T-bills.
Never hidden model state. A class reads the weighted sum of its signals, smoothed over its reaction
time (institutions within the hour, retail over half a day); each cohort of the class leaves once the
alarm passes its threshold. Exits are orders: what the Minter's caps, the venues' liquidity or the
class's limit price do not let through this step stays in the class's queue and is tried again next
step, so the amount that leaves does not depend on the step size.
"""
from __future__ import annotations

import numpy as np

from sim.model import venues as V
from sim.model.actions import minter_redeem, redeem_room
from sim.model.parts.common import per_step, safe_div
from sim.model.params import SIGNALS
from sim.model.state import HOLDER_PREFIX

HERD_WINDOW_HOURS = 24.0  # "others' exits": redemptions over about the last day
VOL_WINDOW_HOURS = 6.0  # LPs read a venue's swings over about six hours


def ema(prev, value, dt, horizon_hours):
    """An exponential average read over `horizon_hours`, advanced by a step of dt hours (step-size free)."""
    return prev + (1 - np.exp(-dt / horizon_hours)) * (value - prev)


def venue_price(v: V.Venue, s: dict):
    return s[v.sqrt_key] ** 2


def class_discount(p: dict, s: dict, cls: str):
    """1 - price, weighted by where the class trades (what it sees when it looks at its venues)."""
    return sum(v.flow_share.get(cls, 0.0) * np.maximum(1 - venue_price(v, s), 0.0) for v in p["venues"])


def signals(p: dict, s: dict, x: dict, discount) -> dict:
    """Every observable as a loss share, in the order of SIGNALS (`discount` is the reader's own)."""
    return {
        "discount": discount,
        "backing_gap": np.maximum(1 - s["published_backing_ratio"], 0.0),
        # what an announcement puts at risk beyond what the (public) reserve fund covers
        "news": np.maximum(x["news_loss_share"] - safe_div(s["reserve_fund_usd"], s["supply"]), 0.0),
        "collateral_drop": np.maximum(1 - s["btc_usd"] / s["btc_ema_24h"], 0.0) * p["w_btc"],
        "herd": np.maximum(s["exit_share_24h"], 0.0),
        "yield_gap": np.maximum(x["tbill_yield"] - s["staker_apr"], 0.0),
        "volatility": 0.0,
    }


def alarm(weights: tuple, sig: dict):
    """The weighted sum of the signals (zero weights cost nothing)."""
    total = 0.0
    for w, k in zip(weights, SIGNALS):
        if w:
            total = total + w * sig[k]
    return total


def update_alarms(p: dict, s: dict, x: dict) -> None:
    """Each class (and the loopers) reads its signals at the start of the step, over its reaction time."""
    dt = x["dt_hours"]
    for cls, pre in HOLDER_PREFIX.items():
        b = p["holders"][cls]
        raw = alarm(b["weights"], signals(p, s, x, class_discount(p, s, cls)))
        s[f"{pre}_alarm"] = ema(s[f"{pre}_alarm"], raw, dt, b["reaction_hours"])
    b = p["loopers_derisk"]
    raw = alarm(b["weights"], signals(p, s, x, np.maximum(1 - s["peg_price"], 0.0)))
    s["looper_alarm"] = ema(s["looper_alarm"], raw, dt, b["reaction_hours"])


def new_exits(p: dict, s: dict, x: dict, cls: str, holdings, forced_rate_per_hour=0.0):
    """What the class's cohorts put up for exit this step, out of `holdings` (not already queued).

    Cohort k wants to keep 1 - (alarm - threshold_k) / (exit_span x threshold_k) of its original
    position (all of it below its threshold, none at (1 + exit_span) x threshold) and sells toward
    that at `exit_per_hour`; an event's forced rate (a bank run) comes on top, for every cohort.
    Updates the cohorts' shares of what is left and what each keeps; returns the amount."""
    pre, b, dt = HOLDER_PREFIX[cls], p["holders"][cls], x["dt_hours"]
    rate, forced = per_step(b["exit_per_hour"], dt), per_step(forced_rate_per_hour, dt)
    a = s[f"{pre}_alarm"]
    exits = []
    for k in range(b["cohorts"]):
        thr, kept = x[f"threshold_{cls}_{k}"], s[f"{pre}_c{k}_kept"]
        target = np.clip(1 - (a - thr) / (b["exit_span"] * thr), 0.0, 1.0)
        cut = np.maximum(1 - safe_div(target, kept, 0.0), 0.0)  # share of what it holds now it wants out
        share = np.minimum(cut * rate + forced, 1.0)
        s[f"{pre}_c{k}_kept"] = kept * (1 - share)
        exits.append(s[f"{pre}_c{k}_frac"] * holdings * share)
    total = sum(exits)
    left = holdings - total
    for k, e in enumerate(exits):
        s[f"{pre}_c{k}_frac"] = safe_div(s[f"{pre}_c{k}_frac"] * holdings - e, left, s[f"{pre}_c{k}_frac"])
    return total


def sell_on_venues(p: dict, s: dict, x: dict, cls: str, amount, balance: str, loss: str, limit_price):
    """A class sells `amount` HUSD from `balance` across its venues (by flow share), none below
    `limit_price`. Records its loss against par; returns what sold."""
    sold = 0.0
    sqrt_limit = np.sqrt(limit_price) if limit_price > 0 else None
    for v in p["venues"]:
        share = v.flow_share.get(cls, 0.0)
        if share <= 0:
            continue
        out, used = V.swap(v, s, x, cls, amount * share, np.ones_like(s["supply"], dtype=bool), sqrt_limit)
        s[balance] = s[balance] - used
        s["float_husd"] = s["float_husd"] + used
        s[loss] = s[loss] + (used - out)
        sold = sold + used
    return sold


def institutions_exit(p: dict, s: dict, x: dict, extra=0.0) -> None:
    """Institutions: new exits (alarm, a bank-run event, `extra`) join their queue; the queue is redeemed
    through the Minter as far as its caps and liquidity go, then sold on venues down to their limit."""
    queue = s["inst_queue_husd"] + extra
    queue = queue + new_exits(p, s, x, "institutional", np.maximum(s["inst_husd"] - queue, 0.0),
                              x["run_rate_institutional"])
    r = np.minimum(queue, redeem_room(p, s, x["dt_hours"]))
    minter_redeem(p, s, r, holder="inst_husd")
    s["loss_institutional"] = s["loss_institutional"] + r * p["redeem_fee"]
    sold = sell_on_venues(p, s, x, "institutional", queue - r, "inst_husd", "loss_institutional",
                          p["holders"]["institutional"]["limit_price"])
    s["inst_exited_husd"] = s["inst_exited_husd"] + r + sold
    s["inst_queue_husd"] = np.maximum(queue - r - sold, 0.0)


def retail_exit(p: dict, s: dict, x: dict, extra=0.0) -> None:
    """Retail: new exits (alarm, a bank-run event, margin calls in `extra`) join their queue, sold on
    their venues at the market (or down to their limit)."""
    queue = s["retail_queue_husd"] + extra
    queue = queue + new_exits(p, s, x, "retail", np.maximum(s["retail_husd"] - queue, 0.0), x["run_rate_retail"])
    queue = np.minimum(queue, s["retail_husd"])
    sold = sell_on_venues(p, s, x, "retail", queue, "retail_husd", "loss_retail", p["holders"]["retail"]["limit_price"])
    s["retail_queue_husd"] = np.maximum(queue - sold, 0.0)


def stakers_exit(p: dict, s: dict, x: dict) -> None:
    """Stakers: cohorts past their threshold unstake; the HUSD comes out of the vault after the cooldown
    and is sold on their venues down to their limit."""
    dt = x["dt_hours"]
    sp = safe_div(s["vault_husd"], s["vault_shares"], 1.0)
    shares = new_exits(p, s, x, "stakers", s["staker_shares"])
    husd = shares * sp
    s["staker_shares"] = s["staker_shares"] - shares
    s["vault_shares"] = s["vault_shares"] - shares
    s["vault_husd"] = s["vault_husd"] - husd
    s["unstaking_husd"] = s["unstaking_husd"] + husd
    cooldown = p["staker_cooldown_hours"]
    released = s["unstaking_husd"] * (1.0 if cooldown <= 0 else 1 - np.exp(-dt / cooldown))
    s["unstaking_husd"] = s["unstaking_husd"] - released
    s["staker_queue_husd"] = s["staker_queue_husd"] + released
    sell_on_venues(p, s, x, "stakers", s["staker_queue_husd"], "staker_queue_husd", "loss_stakers",
                   p["holders"]["stakers"]["limit_price"])


def retry_queues(p: dict, s: dict, x: dict) -> None:
    """Queued exits try again within the step, after arbitrage has refilled the venues: institutions
    redeem what is left of the caps, then every class sells on its venues down to its limit."""
    q = s["inst_queue_husd"]
    r = np.minimum(q, redeem_room(p, s, x["dt_hours"]))
    minter_redeem(p, s, r, holder="inst_husd")
    s["loss_institutional"] = s["loss_institutional"] + r * p["redeem_fee"]
    sold = sell_on_venues(p, s, x, "institutional", q - r, "inst_husd", "loss_institutional",
                          p["holders"]["institutional"]["limit_price"])
    s["inst_exited_husd"] = s["inst_exited_husd"] + r + sold
    s["inst_queue_husd"] = np.maximum(q - r - sold, 0.0)
    sold = sell_on_venues(p, s, x, "retail", s["retail_queue_husd"], "retail_husd", "loss_retail",
                          p["holders"]["retail"]["limit_price"])
    s["retail_queue_husd"] = np.maximum(s["retail_queue_husd"] - sold, 0.0)
    sell_on_venues(p, s, x, "stakers", s["staker_queue_husd"], "staker_queue_husd", "loss_stakers",
                   p["holders"]["stakers"]["limit_price"])


def queued(s: dict):
    """Every exit still waiting, per run: holders' queues and the liquidators'."""
    return s["inst_queue_husd"] + s["retail_queue_husd"] + s["staker_queue_husd"] + s["liquidator_queue_husd"]


def observe_exits(p: dict, s: dict, x: dict, net_before) -> None:
    """Others' exits as the next step's holders will see them: HUSD burned net of HUSD minted this step
    (supply is public on chain; in calm, arbitrage mints and redeems about as much), per day, as a share
    of supply, averaged over about a day."""
    dt = x["dt_hours"]
    per_day = safe_div(s["burned_husd"] - s["minted_husd"] - net_before, s["supply"]) * 24.0 / dt
    s["exit_share_24h"] = ema(s["exit_share_24h"], per_day, dt, HERD_WINDOW_HOURS)


def update_liquidity(p: dict, s: dict, x: dict, prices_before: dict) -> None:
    """LPs and market makers read their venue (its swings, how far its price left par) and the holders'
    signals, and pull liquidity past their threshold (fast) or bring it back (slowly). Takes effect next step."""
    dt = x["dt_hours"]
    w = p["lp_weights"]
    for v in p["venues"]:
        price = venue_price(v, s)
        vol_key = f"lp_vol_{v.name}"
        s[vol_key] = ema(s[vol_key], np.abs(price - prices_before[v.name]) / np.sqrt(dt), dt, VOL_WINDOW_HOURS)
        sig = signals(p, s, x, np.abs(1 - price))
        sig["volatility"] = s[vol_key]
        target = np.minimum(p["lp_pull_per_alarm"] * np.maximum(alarm(w, sig) - p["lp_threshold"], 0.0), p["lp_max_pull"])
        pull = s[v.pull_key]
        s[v.pull_key] = np.where(target > pull, ema(pull, target, dt, p["lp_pull_hours"]),
                                 ema(pull, target, dt, p["lp_return_hours"]))
