"""A claims ledger: value the protocol is owed by a failed or frozen counterparty, marked at an
expected recovery, paid out over time, its losses booked when they become known.

A ledger is named (`"venue_claim"` for failed perp venues; a freeze of backing at a custodian can use
its own name) and lives in the state as three numbers per run:

    {name}_face_usd       what is still owed (face value of the open claims)
    {name}_mark_usd       what it is carried at in the backing: face x the expected recovery rate
    {name}_recovered_usd  cash recovered so far (cumulative)

The mark is the only part of a ledger in the backing (`mark_value`). What happens to it is exogenous,
drawn up front from the scenario's events as per-step arrays (`schedule`): the step a claim opens, the
recovery rate it is marked at (re-marked when the rate becomes known), and the share of the open face
settled each step. The functions below are pure numpy on scalars or arrays over runs; they mutate the
state dict they are given (like `common.pay_out`) and return the dollars the caller must book:

    genesis(name) -> dict                          zeros for the three variables
    open_claim(s, name, face, rate) -> loss        face becomes owed, marked at rate; loss = face (1 - rate)
    remark(s, name, rate) -> loss                  where rate >= 0: mark = face x rate; loss = old - new mark
    settle(s, name, share) -> cash                 `share` of the open face paid at its mark; cash to the caller
    mark_value(s, name) -> mark                    the ledger's value in the backing
    schedule(hours, opens) -> dict                 per-step arrays (rate, settle share) for a list of claims

A loss is positive when value is written off (and negative when a re-mark writes value back). The
caller books losses in its value ledger (e.g. `cum_venue_loss`) and the cash in the backing, so
backing + reserve moves only by recorded flows. Several claims in one ledger share one recovery rate
and one settlement schedule: a later claim re-marks and re-schedules the open face (documented
approximation; use two ledgers to keep them apart).
"""
from __future__ import annotations

import numpy as np

from sim.model.parts.common import safe_div

FIELDS = ("face_usd", "mark_usd", "recovered_usd")


def genesis(name: str) -> dict:
    return {f"{name}_{k}": 0.0 for k in FIELDS}


def mark_value(s: dict, name: str):
    return s[f"{name}_mark_usd"]


def open_claim(s: dict, name: str, face, rate):
    """`face` (>= 0) becomes owed, marked at `rate`; the open face is re-marked at `rate` too."""
    loss = remark(s, name, rate)
    s[f"{name}_face_usd"] = s[f"{name}_face_usd"] + face
    s[f"{name}_mark_usd"] = s[f"{name}_mark_usd"] + face * rate
    return loss + face * (1 - rate)


def remark(s: dict, name: str, rate):
    """Mark the open face at `rate` where rate >= 0 (a negative rate keeps the mark)."""
    old = s[f"{name}_mark_usd"]
    new = np.where(rate >= 0, s[f"{name}_face_usd"] * np.maximum(rate, 0.0), old)
    s[f"{name}_mark_usd"] = new
    return old - new


def settle(s: dict, name: str, share):
    """Pay out `share` of the open face at its mark; returns the cash (the caller credits it)."""
    share = np.clip(share, 0.0, 1.0)
    cash = s[f"{name}_mark_usd"] * share
    s[f"{name}_face_usd"] = s[f"{name}_face_usd"] * (1 - share)
    s[f"{name}_mark_usd"] = s[f"{name}_mark_usd"] - cash
    s[f"{name}_recovered_usd"] = s[f"{name}_recovered_usd"] + cash
    return cash


def rate_of(s: dict, name: str):
    """The recovery rate the open face is carried at (0 when nothing is owed)."""
    return safe_div(s[f"{name}_mark_usd"], s[f"{name}_face_usd"])


def step_holding(hours: np.ndarray, hour: float) -> int:
    """The step whose interval (hours[t - 1], hours[t]] holds `hour` (the first step for hour 0, the last
    for an hour past the end); `hours` is when each step ends, hour 0 first."""
    return int(min(len(hours) - 1, max(1, np.searchsorted(hours, hour - 1e-9 * max(1.0, hour)))))


def _end_hour(hours: np.ndarray, t: int) -> float:
    """When step t ends; past the last step, at the last step's length."""
    n = len(hours) - 1
    return float(hours[t]) if t <= n else float(hours[n] + (t - n) * (hours[n] - hours[n - 1]))


def _steps_spanning(hours: np.ndarray, t: int, duration: float) -> int:
    """How many steps after step t end nearest `duration` hours after it (a tie to the even count, as
    `round`); past the last step, counted at its length."""
    n, target = len(hours) - 1, hours[t] + duration
    if target >= hours[n]:
        return round((n - t) + (target - hours[n]) / (hours[n] - hours[n - 1]))
    j = max(t + 1, int(np.searchsorted(hours, target)))
    return round((j - 1 - t) + (target - hours[j - 1]) / (hours[j] - hours[j - 1]))


def schedule(hours: np.ndarray, claims: list[dict]) -> dict[str, np.ndarray]:
    """Per-step arrays of shape (len(hours),) for claims opened at known hours; `hours` is when each
    step ends (hour 0 first), evenly spaced or finer in places.

    Each claim: {"hour", "rate" (expected recovery, the mark at opening), "final_rate" (known when
    payouts start; default = rate), "delay_hours" (opening to first payout), "payout_hours" (payouts
    spread evenly over time; 0 = all at once)}. Returns "open" (1 at the step a claim opens), "rate"
    (the recovery rate to mark at this step, -1 = keep) and "settle_share" (share of the open face paid
    this step). A claim opens on the step holding its hour; payouts start on the step ending nearest
    `delay_hours` later and run to the step ending nearest `payout_hours` after that one starts.
    """
    n_steps = len(hours) - 1
    opened = np.zeros(n_steps + 1)
    rate = np.full(n_steps + 1, -1.0)
    share = np.zeros(n_steps + 1)
    for c in sorted(claims, key=lambda c: c["hour"]):
        t0 = step_holding(hours, c["hour"])
        opened[t0] = 1.0
        rate[t0] = c["rate"]
        final = c.get("final_rate")
        final = c["rate"] if final is None else final
        t1 = t0 + _steps_spanning(hours, t0, c.get("delay_hours", 0.0))
        share[t0 + 1:] = 0.0  # a later claim re-schedules the open face
        rate[t0 + 1:] = -1.0
        if t1 > n_steps:
            continue
        rate[t1] = final
        last = t1 - 1 + max(1, _steps_spanning(hours, t1 - 1, c.get("payout_hours", 0.0)))
        end = _end_hour(hours, last)
        for t in range(t1, min(last, n_steps) + 1):  # even over time: this step's length over the time left
            share[t] = (hours[t] - hours[t - 1]) / (end - hours[t - 1])
    return {"open": opened, "rate": rate, "settle_share": share}
