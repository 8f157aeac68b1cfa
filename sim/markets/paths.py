"""Assemble the exogenous inputs of a run: market source + scripted paths + events."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import (BankRun, OracleDeviation, OracleStale, Scenario, ScriptedPath, TbillFreeze, VenueFailure,
                        VenueOutage)
from sim.markets import generator, historical
from sim.model.parts import claims

PER_RUN = ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth",
           "stress", "flow_noise")
PER_STEP = ("venue_failure_share", "venue_claim_rate", "venue_claim_settle_share", "venue_down_btc", "venue_down_xau",
            "oracle_stale", "oracle_deviation_bps", "tbill_frozen", "run_rate_institutional", "run_rate_retail")


@dataclass(frozen=True)
class MarketPaths:
    """Per-run arrays of shape (steps + 1, R) and per-step event arrays of shape (steps + 1,).

    `runs` holds the run ids (0-based) whose columns these are; `inputs(t, col)` gives the values a
    policy sees at timestep t for column(s) `col` (an int for cadCAD, an index array for batches):
    the market, the events, the previous step's prices and funding, the step's end `hour` and its
    length `dt_hours`.
    """

    runs: np.ndarray
    step_hours: float
    per_run: dict[str, np.ndarray]
    per_step: dict[str, np.ndarray]

    @property
    def steps(self) -> int:
        return self.per_run["btc_usd"].shape[0] - 1

    def inputs(self, t: int, col) -> dict:
        x = {k: v[t, col] for k, v in self.per_run.items()}
        x.update({k: v[t] for k, v in self.per_step.items()})
        x["btc_usd_prev"] = self.per_run["btc_usd"][max(t - 1, 0), col]
        x["xau_usd_prev"] = self.per_run["xau_usd"][max(t - 1, 0), col]
        x["funding_rate_8h_btc_prev"] = self.per_run["funding_rate_8h_btc"][max(t - 1, 0), col]
        x["funding_rate_8h_xau_prev"] = self.per_run["funding_rate_8h_xau"][max(t - 1, 0), col]
        x["hour"] = t * self.step_hours
        x["dt_hours"] = self.step_hours
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


def build_market(sc: Scenario, runs: np.ndarray | int, seed: int | None = None) -> MarketPaths:
    """Market paths for the given run ids (or for runs 0..N-1 when given a count)."""
    run_ids = np.arange(runs) if np.isscalar(runs) else np.asarray(runs)
    seed = sc.seed if seed is None else seed
    steps, dt_h = sc.steps, sc.step_hours
    if sc.market.source == "historical":
        per_run = historical.generate(sc.market.historical, run_ids, steps, dt_h, seed)
    else:
        per_run = generator.generate(sc.market.stochastic, seed, run_ids, steps, dt_h)
    hours = np.arange(steps + 1) * dt_h
    for sp in sc.scripted:
        _apply_scripted(per_run, sp, hours)
    per_run["pool_depth"] = np.clip(per_run["pool_depth"], 1e-3, 1.0)

    ps = {k: np.zeros(steps + 1) for k in PER_STEP}
    failures = []
    for ev in sc.events:
        if isinstance(ev, VenueFailure):
            # the failure lands on the first step whose interval ((t-1)dt, t dt] contains the hour
            t = min(steps, max(1, int(np.ceil(ev.hour / dt_h))))
            ps["venue_failure_share"][t] = 1 - (1 - ps["venue_failure_share"][t]) * (1 - ev.share_of_hedge)
            failures.append({"hour": ev.hour, "rate": ev.recovery_rate, "final_rate": ev.final_recovery_rate,
                             "delay_hours": ev.recovery_delay_hours, "payout_hours": ev.recovery_payout_hours})
        elif isinstance(ev, VenueOutage):
            for a in ev.assets:
                ps[f"venue_down_{a}"][_window(hours, ev.hour, ev.duration_hours)] = 1.0
        elif isinstance(ev, OracleStale):
            ps["oracle_stale"][_window(hours, ev.hour, ev.duration_hours)] = 1.0
        elif isinstance(ev, OracleDeviation):
            w = _window(hours, ev.hour, ev.duration_hours)
            ps["oracle_deviation_bps"][w] = np.maximum(ps["oracle_deviation_bps"][w], ev.deviation_bps)
        elif isinstance(ev, TbillFreeze):
            ps["tbill_frozen"][_window(hours, ev.hour, ev.duration_hours)] = 1.0
        elif isinstance(ev, BankRun):
            # a constant hourly exit rate q that leaves (1 - share) of holdings after the duration
            q = 1.0 - (1.0 - ev.share_of_holdings) ** (1.0 / ev.duration_hours)
            w = _window(hours, ev.hour, ev.duration_hours)
            for cls in ev.classes:
                key = f"run_rate_{cls}"
                ps[key][w] = 1 - (1 - ps[key][w]) * (1 - q)
    # the failed venues' margin becomes a claim: its mark and payout schedule (sim.model.parts.claims)
    sched = claims.schedule(steps, dt_h, failures)
    ps["venue_claim_rate"], ps["venue_claim_settle_share"] = sched["rate"], sched["settle_share"]
    return MarketPaths(runs=run_ids, step_hours=dt_h, per_run=per_run, per_step=ps)
