"""Risk figures from trajectories: what a protocol designer acts on.

Figures are built in two stages so they can stream: `MetricsAccumulator` keeps per-run running
values (minimum price, hours below the threshold, open depeg episodes...) updated after every step
over an array of runs, without holding the trajectory; `per_run()` turns them into one number per
run (a sweep's rows), and `summarize()` turns per-run numbers from one or many batches into
probabilities, quantiles and means. Quantiles of an empty set (e.g. time to re-peg when nothing
depegged) are None.
"""
from __future__ import annotations

import numpy as np

from sim.intervals import tagged_mean, tagged_quantiles, with_intervals
from sim.model.parts.common import backing
from sim.model.state import NO_SHORT, dat_count
from sim.types import HOURS_PER_YEAR

MAX_APY = 1e9
"""Annualised returns are capped here (1e11 %): compounding a windfall over a short horizon to a year
overflows float64 (a 36x share price in a day is 36^365), and beyond this the figure means nothing."""


def annualised(growth, hours: float):
    """growth ** (year / hours) - 1, in log space, at most MAX_APY (a finite number, never inf)."""
    with np.errstate(divide="ignore"):
        log_apy = np.log(np.maximum(growth, 0.0)) * (HOURS_PER_YEAR / hours)
    return np.expm1(np.minimum(log_apy, np.log1p(MAX_APY)))


INSOLVENCY_TOLERANCE = 1e-4  # a backing shortfall under 1 bp of supply is rounding, not insolvency
LOSS_CLASSES = ("reserve_fund", "backstop", "stakers", "institutional", "retail", "loopers", "treasury_companies")
# One number per run: the columns of a sweep's results.parquet.
PER_RUN_METRICS = (
    "min_peg_price", "max_depeg_bps", "hours_below_threshold", "depeg_episodes", "unrecovered_depeg",
    "worst_time_to_repeg_hours", "insolvent", "min_backing_ratio", "reserve_depleted", "reserve_fund_min_usd",
    "reserve_runway_days", "redeemed_usd", "staker_apy", "staker_rewards_usd", "hyb_drawdown",
    *(f"loss_{c}_usd" for c in LOSS_CLASSES),
    "hedge_liquidated", "looper_liquidated_usd", "protocol_costs_usd", "funding_income_usd", "supply_change",
    "redeemed_share", "redeemed_24h_max_share", "venue_exhausted", "queued_exits_usd", "reserve_bought_husd",
    "backstop_hyb_sold", "min_margin_ratio", "margin_topup_usd", "staker_apy_min_30d",
)
APY_WINDOW_HOURS = 720.0  # the trailing window of `staker_apy_min_30d`
# ...and per venue, named f"{figure}_{venue}": lowest price, deepest discount, hours below the threshold,
# whether a sale reached the edge of its liquidity, its thinnest liquidity, and (pools) the HUSD share of
# the pool's value at its lowest price.
PER_VENUE_METRICS = ("min_price", "max_depeg_bps", "hours_below", "exhausted", "min_depth", "husd_share_at_low")
REDEMPTION_WINDOW_HOURS = 24.0


def venue_names(state: dict) -> list[str]:
    """The venues a state holds, the reference pool first (it has `price_<name>` and `depth_<name>`)."""
    return [k[6:] for k in state if k.startswith("price_")]


def metric_series(state: dict) -> tuple[str, ...]:
    """The time series the metrics need for this scenario's venues; everything else is read from the
    final state."""
    return (*METRIC_SERIES, *(f"{p}_{v}" for v in venue_names(state) for p in ("price", "low_price", "depth")))


class MetricsAccumulator:
    """Running per-run figures; call `update(state, t)` for t = 0..T with (R,) arrays.
    `venues` (the params' venues) adds each pool's composition at its lowest price."""

    def __init__(self, step_hours: float, threshold: float, repeg_level: float, venues=None):
        self.dt, self.threshold, self.repeg_level = step_hours, threshold, repeg_level
        self.t_last = None
        self.episodes: list[np.ndarray] = []  # completed depeg episode durations, hours
        self.venues = venues
        self.window = max(1, int(round(REDEMPTION_WINDOW_HOURS / step_hours)))

    def update(self, s: dict, t: int) -> None:
        price = np.asarray(s["peg_price"], dtype=float)
        solvency = (s["backing_usd"] + s["reserve_fund_usd"]) / s["supply"]
        if self.t_last is None:  # genesis
            R = price.shape[0]
            self.start = {k: np.array(s[k], dtype=float) for k in ("reserve_fund_usd", "hyb_price", "share_price", "supply")}
            self.start_equity = [dat_equity(s, i) for i in range(dat_count(s))]
            self.min_price = price.copy()
            self.steps_below = np.zeros(R)
            self.in_episode = np.zeros(R, dtype=bool)
            self.episode_start = np.zeros(R)
            self.worst_repeg = np.full(R, np.nan)
            self.n_episodes = np.zeros(R)
            self.min_backing_ratio = np.array(s["backing_ratio"], dtype=float)
            self.min_reserve = np.array(s["reserve_fund_usd"], dtype=float)
            self.min_hyb = np.array(s["hyb_price"], dtype=float)
            self.insolvent = np.zeros(R, dtype=bool)
            self.min_margin = np.full(R, np.inf)
            # the share price over the last 30 days, a ring of w + 1 steps, for the trailing staker APY
            self.apy_steps = max(1, int(round(APY_WINDOW_HOURS / self.dt)))
            self.share_ring = np.empty((self.apy_steps + 1, R))
            self.min_apy_30d = np.full(R, np.inf)
            self.names = venue_names(s)
            self.v_min = {v: np.array(s[f"price_{v}"], dtype=float) for v in self.names}
            self.v_below = {v: np.zeros(R) for v in self.names}
            self.v_depth = {v: np.array(s[f"depth_{v}"], dtype=float) for v in self.names}
            # the last day's (cumulative redeemed, supply), oldest first: the largest 24 h redemption
            self.recent = [(np.array(s["redeemed_usd"], dtype=float), np.array(s["supply"], dtype=float))]
            self.max_24h = np.zeros(R)
        else:
            # the lowest price includes the fine steps between two recorded ones (`low_price_<venue>`)
            self.min_price = np.minimum(self.min_price, s.get(f"low_price_{self.names[0]}", price) if self.names else price)
            self.steps_below += price < self.threshold
            self.min_backing_ratio = np.minimum(self.min_backing_ratio, s["backing_ratio"])
            self.min_reserve = np.minimum(self.min_reserve, s["reserve_fund_usd"])
            self.min_hyb = np.minimum(self.min_hyb, s["hyb_price"])
            for v in self.names:
                pv = s[f"price_{v}"]
                self.v_min[v] = np.minimum(self.v_min[v], s.get(f"low_price_{v}", pv))
                self.v_below[v] += pv < self.threshold
                self.v_depth[v] = np.minimum(self.v_depth[v], s[f"depth_{v}"])
            red0, sup0 = self.recent[0]
            self.max_24h = np.maximum(self.max_24h, (s["redeemed_usd"] - red0) / sup0)
            self.recent.append((np.array(s["redeemed_usd"], dtype=float), np.array(s["supply"], dtype=float)))
            if len(self.recent) > self.window:
                self.recent.pop(0)
        self.insolvent |= solvency < 1 - INSOLVENCY_TOLERANCE
        self.min_margin = np.minimum(self.min_margin, s["margin_ratio_low"])
        w = self.apy_steps
        self.share_ring[t % (w + 1)] = s["share_price"]
        if t >= w:
            growth = s["share_price"] / self.share_ring[(t - w) % (w + 1)]
            self.min_apy_30d = np.minimum(self.min_apy_30d, annualised(growth, w * self.dt))
        # depeg episodes: from crossing below the threshold to first reaching the re-peg level
        ends = self.in_episode & (price >= self.repeg_level)
        if ends.any():
            d = (t - self.episode_start[ends]) * self.dt
            self.episodes.append(d)
            self.worst_repeg[ends] = np.fmax(self.worst_repeg[ends], d)
        self.in_episode &= ~ends
        starts = ~self.in_episode & (price < self.threshold)
        self.episode_start = np.where(starts, t, self.episode_start)
        self.n_episodes += starts
        self.in_episode |= starts
        self.t_last = t

    def _per_venue(self) -> dict[str, np.ndarray]:
        out = {}
        by_name = {v.name: v for v in (self.venues or ())}
        for v in self.names:
            lo = self.v_min[v]
            exhausted, share = (_venue_floor_and_share(by_name[v], lo) if v in by_name
                                else (np.zeros_like(lo), np.full_like(lo, np.nan)))
            out.update({f"min_price_{v}": lo, f"max_depeg_bps_{v}": np.maximum(0.0, 1.0 - lo) * 1e4,
                        f"hours_below_{v}": self.v_below[v] * self.dt, f"exhausted_{v}": exhausted,
                        f"min_depth_{v}": self.v_depth[v], f"husd_share_at_low_{v}": share})
        return out

    def per_run(self, end: dict) -> dict[str, np.ndarray]:
        """One figure per run; `end` is the state after the last step."""
        hours = self.t_last * self.dt
        st = self.start
        reserve0 = st["reserve_fund_usd"]
        # Whoever still holds HUSD at the end holds a claim on (backing + reserve): a shortfall is theirs.
        haircut = np.maximum(0.0, 1.0 - (backing(end) + end["reserve_fund_usd"]) / end["supply"])
        # a treasury company's shareholders lose the fall in its market value, net of buybacks paid out
        company_loss = [e0 - (dat_equity(end, i) + end[f"dat{i}_buyback_usd"]) + haircut * end[f"dat{i}_husd"]
                        for i, e0 in enumerate(self.start_equity)]
        net_out_per_day = (end["reserve_drawn_usd"] - end["reserve_added_usd"]) / (hours / 24)
        with np.errstate(divide="ignore", invalid="ignore"):
            runway = np.where(net_out_per_day > 0, end["reserve_fund_usd"] / net_out_per_day, np.inf)
        staker_apy = annualised(end["share_price"] / st["share_price"], hours)
        out = {
            "min_peg_price": self.min_price,
            "max_depeg_bps": np.maximum(0.0, 1.0 - self.min_price) * 1e4,
            "hours_below_threshold": self.steps_below * self.dt,
            "depeg_episodes": self.n_episodes,
            "unrecovered_depeg": self.in_episode.astype(float),
            "worst_time_to_repeg_hours": self.worst_repeg,
            "insolvent": self.insolvent.astype(float),
            "min_backing_ratio": self.min_backing_ratio,
            "reserve_depleted": (self.min_reserve <= np.maximum(0.01 * reserve0, 1.0)).astype(float),
            "reserve_fund_min_usd": self.min_reserve,
            "reserve_runway_days": runway,
            "redeemed_usd": end["redeemed_usd"],
            "staker_apy": staker_apy,
            "staker_rewards_usd": end["staker_rewards_usd"],
            "hyb_drawdown": 1 - self.min_hyb / st["hyb_price"],
            "loss_reserve_fund_usd": end["reserve_drawn_usd"] - end["reserve_repaid_usd"],
            "loss_backstop_usd": end["cum_backstop_in"],
            "loss_stakers_usd": haircut * end["staker_shares"] * end["share_price"],
            "loss_institutional_usd": end["loss_institutional"] + haircut * end["inst_husd"],
            "loss_retail_usd": end["loss_retail"] + haircut * end["retail_husd"],
            "loss_loopers_usd": end["loss_loopers"] + haircut * end["looper_shares"] * end["share_price"],
            "loss_treasury_companies_usd": sum(company_loss, np.zeros_like(self.min_price)),
            "hedge_liquidated": (end["hedge_liquidations"] > 0).astype(float),
            "looper_liquidated_usd": end["looper_liquidated_usd"],
            "protocol_costs_usd": end["cum_costs"] + end["cum_venue_loss"] + end["cum_custody_loss"],
            "funding_income_usd": end["cum_funding"],
            "supply_change": end["supply"] / st["supply"] - 1,
            "redeemed_share": end["redeemed_usd"] / st["supply"],
            "redeemed_24h_max_share": self.max_24h,
            "venue_exhausted": np.zeros_like(self.min_price),  # filled below, over every venue
            "queued_exits_usd": (end["inst_queue_husd"] + end["retail_queue_husd"] + end["staker_queue_husd"]
                                 + end["unstaking_husd"] + end["liquidator_queue_husd"]),
            "reserve_bought_husd": end["reserve_bought_husd"],
            "backstop_hyb_sold": end["hyb_sold"],
            # lowest margin / notional of an open short (NaN: never a short), margin calls funded, and the
            # lowest trailing-30-day staker APY (over the whole run when it is shorter)
            "min_margin_ratio": np.where(self.min_margin < NO_SHORT, self.min_margin, np.nan),
            "margin_topup_usd": end["margin_topup_usd"],
            "staker_apy_min_30d": np.where(np.isfinite(self.min_apy_30d), self.min_apy_30d, staker_apy),
        }
        assert tuple(out) == PER_RUN_METRICS, "keep PER_RUN_METRICS in step with per_run()"
        out.update(self._per_venue())
        out["venue_exhausted"] = np.maximum.reduce([out[f"exhausted_{v}"] for v in self.names])
        out.update({f"loss_dat{i}_usd": v for i, v in enumerate(company_loss)})
        return {k: np.asarray(v, dtype=float) * np.ones_like(self.min_price) for k, v in out.items()}


def _venue_floor_and_share(venue, min_price):
    """Whether a venue's lowest price sat at the edge of its liquidity, and the HUSD share of its value there."""
    from sim.model import amm

    s = np.sqrt(min_price)
    x, y = amm.pool_value(s, venue.curve)
    return (s <= venue.floor_sqrt * (1 + 1e-9)).astype(float), x * min_price / np.maximum(x * min_price + y, 1e-300)


def dat_equity(s: dict, i: int):
    """Market value of company i's equity: (holdings - debt) x mNAV, holdings at pool/market prices."""
    assets = (s[f"dat{i}_btc_units"] * s["btc_usd"] + s[f"dat{i}_husd"] * s["peg_price"]
              + s[f"dat{i}_hyb"] * s["hyb_price"])
    return np.maximum(assets - s[f"dat{i}_debt_usd"], 0.0) * s[f"dat{i}_mnav"]


def _q(values, qs: dict[str, float]) -> dict:
    """Quantiles of the finite values, each carrying its 95 % interval (`sim.intervals`)."""
    return tagged_quantiles(values, qs)


def summarize(per_run: dict[str, np.ndarray], episodes: np.ndarray, horizon_hours: float, threshold: float,
              repeg_level: float) -> dict:
    """Across-run figures from per-run figures (of one batch or several concatenated), each with its
    95 % interval as `<key>_ci95` (`sim.intervals.with_intervals`: a rule over keys, not a list)."""
    r = per_run
    venues = [k[len("min_price_"):] for k in r if k.startswith("min_price_")]
    return with_intervals({
        "runs": int(r["min_peg_price"].size),
        "horizon_hours": float(horizon_hours),
        "depeg_threshold": threshold,
        "depeg_probability": float((r["min_peg_price"] < threshold).mean()),
        "max_depeg_bps": _q(r["max_depeg_bps"], {"p50": 0.5, "p95": 0.95, "p99": 0.99})
        | {"max": float(r["max_depeg_bps"].max())},
        "hours_below_threshold": {"mean": float(r["hours_below_threshold"].mean()),
                                  **_q(r["hours_below_threshold"], {"p95": 0.95})},
        "time_to_repeg_hours": _q(episodes, {"p50": 0.5, "p95": 0.95})
        | {"episodes": int(r["depeg_episodes"].sum()), "unrecovered_episodes": int(r["unrecovered_depeg"].sum()),
           "repeg_level": repeg_level},
        "insolvency_probability": float(r["insolvent"].mean()),
        "min_backing_ratio": _q(r["min_backing_ratio"], {"p5": 0.05, "p50": 0.5}),
        "reserve_depletion_probability": float(r["reserve_depleted"].mean()),
        "reserve_fund_min_usd": _q(r["reserve_fund_min_usd"], {"p5": 0.05, "p50": 0.5}),
        "reserve_runway_days": _q(r["reserve_runway_days"], {"p5": 0.05, "p50": 0.5}),
        "redeemed_usd": {"mean": float(r["redeemed_usd"].mean())},
        "staker_apy": {"mean": float(r["staker_apy"].mean()), **_q(r["staker_apy"], {"p5": 0.05, "p50": 0.5})},
        "staker_rewards_usd": {"mean": float(r["staker_rewards_usd"].mean())},
        "hyb_drawdown": _q(r["hyb_drawdown"], {"p50": 0.5, "p95": 0.95}),
        "losses_by_class_usd": {k: tagged_mean(r[f"loss_{k}_usd"]) for k in LOSS_CLASSES},
        "losses_by_company_usd": {k[5:-4]: tagged_mean(v) for k, v in r.items() if k.startswith("loss_dat")},
        "hedge_liquidation_probability": float(r["hedge_liquidated"].mean()),
        "min_margin_ratio": _q(r["min_margin_ratio"], {"p5": 0.05, "p50": 0.5}),
        "margin_topup_usd": {"mean": float(r["margin_topup_usd"].mean()), **_q(r["margin_topup_usd"], {"p95": 0.95})},
        "staker_apy_min_30d": _q(r["staker_apy_min_30d"], {"p5": 0.05, "p50": 0.5}),
        "looper_liquidated_usd": {"mean": float(r["looper_liquidated_usd"].mean())},
        "protocol_costs_usd": {"mean": float(r["protocol_costs_usd"].mean())},
        "funding_income_usd": {"mean": float(r["funding_income_usd"].mean())},
        "supply_change": {"mean": float(r["supply_change"].mean())},
        # where and how the peg broke (issue 14): every venue, the largest day of redemptions, exits left
        "max_depeg_bps_by_venue": {v: _q(r[f"max_depeg_bps_{v}"], {"p50": 0.5, "p95": 0.95, "p99": 0.99})
                                   | {"max": float(r[f"max_depeg_bps_{v}"].max())} for v in venues},
        "lowest_price_by_venue": {v: _q(r[f"min_price_{v}"], {"p50": 0.5, "p5": 0.05})
                                  | {"min": float(r[f"min_price_{v}"].min())} for v in venues},
        "pool_exhausted_probability": float(r["venue_exhausted"].mean()),
        "exhausted_probability_by_venue": {v: float(r[f"exhausted_{v}"].mean()) for v in venues},
        "redeemed_24h_max_share": _q(r["redeemed_24h_max_share"], {"p50": 0.5, "p95": 0.95}),
        "queued_exits_usd": {"mean": float(r["queued_exits_usd"].mean()), **_q(r["queued_exits_usd"], {"p95": 0.95})},
        "reserve_bought_husd": {"mean": float(r["reserve_bought_husd"].mean())},
    }, r)


def accumulate_recorded(data: dict[str, np.ndarray], step_hours: float, threshold: float, repeg_level: float,
                        genesis: dict | None = None, venues=None) -> MetricsAccumulator:
    """Feed a recorded trajectory ((T + 1, R) arrays) through an accumulator, step by step.
    `genesis` fills in what the recording left out at t = 0 (e.g. treasury companies' holdings)."""
    acc = MetricsAccumulator(step_hours, threshold, repeg_level, venues)
    keys = metric_series(data)
    first = {**(genesis or {}), **{k: v[0] for k, v in data.items()}}
    acc.update(first, 0)
    for t in range(1, data["peg_price"].shape[0]):
        acc.update({k: data[k][t] for k in keys}, t)
    return acc


def compute_metrics(data: dict[str, np.ndarray], step_hours: float, threshold: float, repeg_level: float,
                    final: dict[str, np.ndarray] | None = None, genesis: dict | None = None, venues=None) -> dict:
    """Summary metrics of a recorded trajectory (the series in `metric_series` at least) and its final state."""
    acc = accumulate_recorded(data, step_hours, threshold, repeg_level, genesis, venues)
    end = final if final is not None else {k: v[-1] for k, v in data.items()}
    episodes = np.concatenate(acc.episodes) if acc.episodes else np.array([])
    return summarize(acc.per_run(end), episodes, acc.t_last * step_hours, threshold, repeg_level)


# The time series the metrics need; everything else is read from the final state.
METRIC_SERIES = ("peg_price", "supply", "backing_usd", "backing_ratio", "reserve_fund_usd", "share_price", "hyb_price",
                 "redeemed_usd", "margin_ratio_low")
