"""Assemble the exogenous inputs of a run: market source + scripted paths + events."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from sim.config import (
    BankRun,
    CustodyFreeze,
    News,
    OracleDeviation,
    OracleStale,
    Scenario,
    ScriptedPath,
    TbillFreeze,
    VenueFailure,
    VenueOutage,
)
from sim.markets import generator, grid, historical
from sim.model.parts import claims, custody

PER_RUN = ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth",
           "stress", "flow_noise")
PER_STEP = ("venue_failure_share", "venue_claim_rate", "venue_claim_settle_share", "venue_down_btc", "venue_down_xau",
            "oracle_stale", "oracle_deviation_bps", "tbill_frozen",
            "run_rate_institutional", "run_rate_retail", "news_loss_share", "bank_open", "cap_multiplier",
            *(f"custody_freeze_{k}" for k in custody.FREEZABLE), "custody_claim_rate", "custody_claim_settle_share")
HOLDER_CLASSES = ("institutional", "retail", "stakers")


@dataclass(frozen=True)
class MarketPaths:
    """Per-run arrays of shape (steps + 1, R) and per-step event arrays of shape (steps + 1,).

    `runs` holds the run ids (0-based) whose columns these are; `inputs(t, col)` gives the values a
    policy sees at timestep t for column(s) `col` (an int for cadCAD, an index array for batches):
    the market, the events, the previous step's prices and funding, the step's end `hour` and its
    length `dt_hours`.
    """

    runs: np.ndarray
    step_hours: float  # the recorded step (the scenario's)
    per_run: dict[str, np.ndarray]
    per_step: dict[str, np.ndarray]
    per_run_const: dict[str, np.ndarray] = field(default_factory=dict)  # (R,): fixed for a run (cohort thresholds)
    hours: np.ndarray | None = None  # the hour each engine step ends at (sim.markets.grid); None: every step_hours
    recorded: np.ndarray | None = None  # the engine steps results are recorded at; None: every one

    def __post_init__(self):
        if self.hours is None:
            object.__setattr__(self, "hours", np.arange(self.steps + 1) * self.step_hours)
        if self.recorded is None:
            object.__setattr__(self, "recorded", np.arange(self.steps + 1))
        starts = np.zeros(self.steps + 1)  # 1 at the first engine step of each recorded step
        starts[np.concatenate([[0], self.recorded[:-1] + 1])] = 1.0
        object.__setattr__(self, "_record_start", starts)
        rows = np.full(self.steps + 1, -1)  # engine step -> its row in the recorded results, -1 between them
        rows[self.recorded] = np.arange(len(self.recorded))
        object.__setattr__(self, "record_row", rows)

    @property
    def steps(self) -> int:
        """Engine steps (more than the recorded ones inside fine-step windows)."""
        return self.per_run["btc_usd"].shape[0] - 1

    def inputs(self, t: int, col) -> dict:
        x = {k: v[t, col] for k, v in self.per_run.items()}
        x.update({k: v[t] for k, v in self.per_step.items()})
        x.update({k: v[col] for k, v in self.per_run_const.items()})
        x["btc_usd_prev"] = self.per_run["btc_usd"][max(t - 1, 0), col]
        x["xau_usd_prev"] = self.per_run["xau_usd"][max(t - 1, 0), col]
        x["funding_rate_8h_btc_prev"] = self.per_run["funding_rate_8h_btc"][max(t - 1, 0), col]
        x["funding_rate_8h_xau_prev"] = self.per_run["funding_rate_8h_xau"][max(t - 1, 0), col]
        x["hour"] = self.hours[t]
        x["dt_hours"] = self.hours[t] - self.hours[t - 1] if t > 0 else self.step_hours
        x["record_start"] = self._record_start[t]
        return x


def _apply_scripted(paths: dict[str, np.ndarray], sp: ScriptedPath, hours: np.ndarray) -> None:
    xs = np.array([h for h, _ in sp.points])
    vs = np.array([v for _, v in sp.points])
    arr = paths[sp.variable]
    if sp.mode == "multiply":
        arr *= np.interp(hours, xs, vs, left=1.0, right=vs[-1])[:, None]
    else:
        inside = (hours >= xs[0]) & (hours <= xs[-1])
        arr[inside] = np.interp(hours[inside], xs, vs)[:, None]


def _window(hours: np.ndarray, start: float, duration: float) -> np.ndarray:
    return (hours >= start) & (hours < start + duration)


def cohort_thresholds(sc: Scenario, run_ids: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Each holder class's cohort thresholds per run: quantiles of a log-normal spread around the class's
    threshold, times one log-normal mood per run and class (drawn from its own stream, so the market's
    random numbers do not move)."""
    moods = np.array([np.random.default_rng([seed, int(r), 2]).standard_normal(len(HOLDER_CLASSES) + 1)
                      for r in run_ids]).reshape(len(run_ids), -1)
    out = {}
    behaviours = [getattr(sc.agents, c).behaviour for c in HOLDER_CLASSES] + [sc.agents.loopers.derisk]
    for j, (name, b) in enumerate(zip((*HOLDER_CLASSES, "loopers"), behaviours)):
        for k in range(b.cohorts):
            z = NormalDist().inv_cdf((k + 0.5) / b.cohorts) if b.cohorts > 1 else 0.0
            out[f"threshold_{name}_{k}"] = b.threshold * np.exp(b.threshold_spread * z + b.threshold_run_spread * moods[:, j])
    return out


def calendar_inputs(sc: Scenario, hours: np.ndarray, start: dt.datetime) -> dict[str, np.ndarray]:
    """Bank hours and scheduled cap multipliers per step, from wall-clock time."""
    cal = sc.calendar
    t = np.datetime64(start.replace(tzinfo=None), "s") + (hours * 3600).astype("timedelta64[s]")
    weekday = (t.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday: Monday = 0
    hour_of_day = (t - t.astype("datetime64[D]")).astype("timedelta64[s]").astype(float) / 3600.0
    open_ = (weekday < 5) & (hour_of_day >= cal.bank_open_hour_utc) & (hour_of_day < cal.bank_close_hour_utc)
    mult = np.ones_like(hours)
    for w in cal.cap_schedule:
        inside = np.isin(weekday, w.weekdays) & (hour_of_day >= w.from_hour_utc) & (hour_of_day < w.to_hour_utc)
        mult = np.where(inside, mult * w.cap_multiplier, mult)
    return {"bank_open": open_.astype(float), "cap_multiplier": mult}


def run_start(sc: Scenario) -> dt.datetime:
    """Wall-clock time of hour 0: a historical market's start date, else the calendar's start."""
    h = sc.market.historical
    return dt.datetime.combine(h.start_date, dt.time()) if sc.market.source == "historical" else sc.calendar.start


def event_inputs(sc: Scenario, hours: np.ndarray, start: dt.datetime | None = None) -> dict[str, np.ndarray]:
    """The per-step inputs every run shares: events, news, bank hours, scheduled caps; `hours` is when each
    step ends (hour 0 first), evenly spaced or finer in places (sim.markets.grid)."""
    steps = len(hours) - 1
    ps = {k: np.zeros(steps + 1) for k in PER_STEP}
    ps.update(calendar_inputs(sc, hours, run_start(sc) if start is None else start))
    w = sc.protocol.weights
    failures, freezes = [], []
    for ev in sc.events:
        if isinstance(ev, VenueFailure):
            t = claims.step_holding(hours, ev.hour)
            ps["venue_failure_share"][t] = 1 - (1 - ps["venue_failure_share"][t]) * (1 - ev.share_of_hedge)
            failures.append({"hour": ev.hour, "rate": ev.recovery_rate, "final_rate": ev.final_recovery_rate,
                             "delay_hours": ev.recovery_delay_hours, "payout_hours": ev.recovery_payout_hours})
            at_stake = ev.share_of_hedge * (w.btc + w.xau) * sc.protocol.hedge.initial_margin_ratio * (1 - ev.recovery_rate)
            loss = at_stake if ev.announced_loss_share is None else ev.announced_loss_share
            ps["news_loss_share"][_window(hours, ev.hour, ev.news_hours)] += loss
        elif isinstance(ev, VenueOutage):
            for a in ev.assets:
                ps[f"venue_down_{a}"][_window(hours, ev.hour, ev.duration_hours)] = 1.0
        elif isinstance(ev, CustodyFreeze):
            freezes.append(ev)  # the hole is news at once (the published backing shows it at the next proof)
            hole = custody.announced_hole(ev, w, sc.protocol.hedge.initial_margin_ratio)
            ps["news_loss_share"][_window(hours, ev.hour, ev.duration_hours)] += hole
        elif isinstance(ev, News):
            ps["news_loss_share"][_window(hours, ev.hour, ev.duration_hours)] += ev.announced_loss_share
        elif isinstance(ev, OracleStale):
            ps["oracle_stale"][_window(hours, ev.hour, ev.duration_hours)] = 1.0
        elif isinstance(ev, OracleDeviation):
            win = _window(hours, ev.hour, ev.duration_hours)
            ps["oracle_deviation_bps"][win] = np.maximum(ps["oracle_deviation_bps"][win], ev.deviation_bps)
        elif isinstance(ev, TbillFreeze):
            ps["tbill_frozen"][_window(hours, ev.hour, ev.duration_hours)] = 1.0
        elif isinstance(ev, BankRun):
            # a constant hourly exit rate q that leaves (1 - share) of holdings after the duration
            q = 1.0 - (1.0 - ev.share_of_holdings) ** (1.0 / ev.duration_hours)
            win = _window(hours, ev.hour, ev.duration_hours)
            for cls in ev.classes:
                key = f"run_rate_{cls}"
                ps[key][win] = 1 - (1 - ps[key][win]) * (1 - q)
    np.clip(ps["news_loss_share"], 0.0, 1.0, out=ps["news_loss_share"])
    # the failed venues' margin becomes a claim: its mark and payout schedule (sim.model.parts.claims)
    sched = claims.schedule(hours, failures)
    ps["venue_claim_rate"], ps["venue_claim_settle_share"] = sched["rate"], sched["settle_share"]
    ps.update(custody.schedule(hours, freezes))  # frozen backing: its claim, mark and resolution
    return ps


def build_market(sc: Scenario, runs: np.ndarray | int, seed: int | None = None) -> MarketPaths:
    """Market paths for the given run ids (or for runs 0..N-1 when given a count)."""
    run_ids = np.arange(runs) if np.isscalar(runs) else np.asarray(runs)
    seed = sc.seed if seed is None else seed
    steps, dt_h = sc.steps, sc.step_hours
    if sc.market.source == "historical":
        per_run = historical.generate(sc.market.historical, run_ids, steps, dt_h, seed)
    else:
        per_run = generator.generate(sc.market.stochastic, seed, run_ids, steps, dt_h)
    hours, recorded = grid.engine_hours(sc)
    per_run = grid.refine(per_run, hours, recorded, run_ids, seed)
    for sp in sc.scripted:
        _apply_scripted(per_run, sp, hours)
    per_run["pool_depth"] = np.clip(per_run["pool_depth"], 1e-3, 1.0)

    return MarketPaths(runs=run_ids, step_hours=dt_h, per_run=per_run, per_step=event_inputs(sc, hours),
                       per_run_const=cohort_thresholds(sc, run_ids, seed), hours=hours, recorded=recorded)
