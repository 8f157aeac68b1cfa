"""Risk figures from trajectories: what a protocol designer acts on.

All figures are computed per run first, then summarised across runs (probabilities, quantiles,
means). Quantiles of an empty set (e.g. time to re-peg when nothing depegged) are None.
"""
from __future__ import annotations

import numpy as np

from sim.model.parts.common import backing

HOURS_PER_YEAR = 8760.0
INSOLVENCY_TOLERANCE = 1e-4  # a backing shortfall under 1 bp of supply is rounding, not insolvency
HOLDER_CLASSES = ("institutional", "retail", "stakers", "loopers")


def _q(values, qs: dict[str, float]) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {k: None for k in qs}
    return {k: float(np.quantile(v, q)) for k, q in qs.items()}


def repeg_times(price: np.ndarray, threshold: float, repeg_level: float, step_hours: float):
    """Per depeg episode, hours from falling below `threshold` to first reaching `repeg_level`.

    Returns (durations of completed episodes, number of episodes still open at the end).
    `price` has shape (T + 1, R).
    """
    done, censored = [], 0
    below = price < threshold
    above = price >= repeg_level
    for r in range(price.shape[1]):
        b, a = below[:, r], above[:, r]
        t = 0
        idx = np.flatnonzero(b)
        while idx.size and (idx := idx[idx >= t]).size:
            start = idx[0]
            ups = np.flatnonzero(a[start:])
            if ups.size == 0:
                censored += 1
                break
            done.append(ups[0] * step_hours)
            t = start + ups[0]
    return np.array(done), censored


# The time series the metrics need; everything else is read from the final state.
METRIC_SERIES = ("peg_price", "supply", "backing_usd", "backing_ratio", "reserve_fund_usd", "share_price", "hyb_price")


def compute_metrics(d: dict[str, np.ndarray], step_hours: float, threshold: float, repeg_level: float,
                    final: dict[str, np.ndarray] | None = None) -> dict:
    """Summaries over runs. `d` maps at least METRIC_SERIES to (T + 1, R) arrays; `final` is the state
    after the last step, (R,) per variable (taken from `d` when it holds every variable)."""
    end = final if final is not None else {k: v[-1] for k, v in d.items()}
    T = d["peg_price"].shape[0] - 1
    hours = T * step_hours
    price = d["peg_price"]
    supply = d["supply"]
    min_price = price.min(axis=0)
    depeg_bps = np.maximum(0.0, 1.0 - min_price) * 1e4
    below_hours = (price[1:] < threshold).sum(axis=0) * step_hours
    repeg, open_episodes = repeg_times(price, threshold, repeg_level, step_hours)

    solvency = (d["backing_usd"] + d["reserve_fund_usd"]) / supply
    insolvent = (solvency < 1 - INSOLVENCY_TOLERANCE).any(axis=0)
    reserve0 = d["reserve_fund_usd"][0]
    depleted = (d["reserve_fund_usd"] <= np.maximum(0.01 * reserve0, 1.0)).any(axis=0)
    share_growth = d["share_price"][-1] / d["share_price"][0]
    staker_apy = share_growth ** (HOURS_PER_YEAR / hours) - 1
    hyb_dd = 1 - d["hyb_price"].min(axis=0) / d["hyb_price"][0]

    # Whoever still holds HUSD at the end holds a claim on (backing + reserve): a shortfall is theirs.
    haircut = np.maximum(0.0, 1.0 - (backing(end) + end["reserve_fund_usd"]) / end["supply"])
    staker_husd = end["staker_shares"] * end["share_price"]
    looper_equity_husd = end["looper_shares"] * end["share_price"]
    losses = {
        "reserve_fund": end["reserve_drawn_usd"],
        "backstop": end["cum_backstop_in"],
        "stakers": haircut * staker_husd,
        "institutional": end["loss_institutional"] + haircut * end["inst_husd"],
        "retail": end["loss_retail"] + haircut * end["retail_husd"],
        "loopers": end["loss_loopers"] + haircut * looper_equity_husd,
    }
    # reserve runway: end balance over the average daily net outflow (None when the reserve grew)
    net_out_per_day = (end["reserve_drawn_usd"] - end["reserve_added_usd"]) / (hours / 24)
    runway = np.where(net_out_per_day > 0, end["reserve_fund_usd"] / np.maximum(net_out_per_day, 1e-9), np.inf)

    return {
        "runs": int(price.shape[1]),
        "horizon_hours": float(hours),
        "depeg_threshold": threshold,
        "depeg_probability": float((min_price < threshold).mean()),
        "max_depeg_bps": _q(depeg_bps, {"p50": 0.5, "p95": 0.95, "p99": 0.99}) | {"max": float(depeg_bps.max())},
        "hours_below_threshold": {"mean": float(below_hours.mean()), **_q(below_hours, {"p95": 0.95})},
        "time_to_repeg_hours": _q(repeg, {"p50": 0.5, "p95": 0.95})
        | {"episodes": int(repeg.size + open_episodes), "unrecovered_episodes": int(open_episodes),
           "repeg_level": repeg_level},
        "insolvency_probability": float(insolvent.mean()),
        "min_backing_ratio": _q(d["backing_ratio"].min(axis=0), {"p5": 0.05, "p50": 0.5}),
        "reserve_depletion_probability": float(depleted.mean()),
        "reserve_fund_min_usd": _q(d["reserve_fund_usd"].min(axis=0), {"p5": 0.05, "p50": 0.5}),
        "reserve_runway_days": _q(runway, {"p5": 0.05, "p50": 0.5}),
        "redeemed_usd": {"mean": float(end["redeemed_usd"].mean())},
        "staker_apy": {"mean": float(staker_apy.mean()), **_q(staker_apy, {"p5": 0.05, "p50": 0.5})},
        "staker_rewards_usd": {"mean": float(end["staker_rewards_usd"].mean())},
        "hyb_drawdown": _q(hyb_dd, {"p50": 0.5, "p95": 0.95}),
        "losses_by_class_usd": {k: float(np.mean(v)) for k, v in losses.items()},
        "hedge_liquidation_probability": float((end["hedge_liquidations"] > 0).mean()),
        "looper_liquidated_usd": {"mean": float(end["looper_liquidated_usd"].mean())},
        "protocol_costs_usd": {"mean": float((end["cum_costs"] + end["cum_venue_loss"]).mean())},
        "funding_income_usd": {"mean": float(end["cum_funding"].mean())},
        "supply_change": {"mean": float((supply[-1] / supply[0] - 1).mean())},
    }
