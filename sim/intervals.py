"""95 % intervals for the risk figures: what a probability or a quantile from N runs can claim.

- A probability (a share of runs) gets the **Clopper-Pearson** interval: exact, never below its stated
  coverage, so "the target is met with 95 % confidence" means what it says (0 events in 40 runs:
  [0, 8.8 %]). Wilson's interval is here for Newcombe's paired difference.
- A quantile gets the distribution-free **order-statistic** interval: ranks l, u of the sorted runs with
  P(X_(l) <= q-quantile <= X_(u)) >= 95 % from the binomial law of how many runs fall below it; a side
  with too few runs to bound it is None.
- A mean gets the normal (CLT) interval, mean +- 1.96 s / sqrt(n).
- A paired difference of two designs run on the same seeds (common random numbers): Newcombe's hybrid
  score interval for proportions (method 10, with the pairs' correlation); a paired bootstrap over runs
  for quantiles and means.

`with_intervals(summary, per_run)` adds `<key>_ci95` beside every figure by a rule over keys, not a
list: every `*_probability` and `*_probability_by_<thing>` (a share of the `runs`, at any depth:
per-venue dicts get per-venue intervals), every quantile built by `sim.metrics._q` (it tags its
values with their interval), every `mean` whose per-run values are `per_run[key]`. New metrics get
intervals without edits here.
"""
from __future__ import annotations

import math
import re

import numpy as np

Z95 = 1.959963984540054
CONFIDENCE = 0.95
PROBABILITY_METHOD = "Clopper-Pearson (exact binomial)"
QUANTILE_METHOD = "order statistics (distribution-free binomial ranks)"
MEAN_METHOD = "normal approximation (mean +- 1.96 standard errors)"
INTERVAL_METHODS = {"probability": PROBABILITY_METHOD, "quantile": QUANTILE_METHOD, "mean": MEAN_METHOD,
                    "confidence": CONFIDENCE}


def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))])


def binom_cdf(n: int, p: float) -> np.ndarray:
    """P(X <= k) for k = 0..n, X ~ Binomial(n, p), from log-pmfs (no overflow at large n)."""
    k = np.arange(n + 1)
    if p <= 0 or p >= 1:
        return (k >= (0 if p <= 0 else n)).astype(float)
    lf = _log_factorials(n)
    logpmf = lf[n] - lf[k] - lf[n - k] + k * math.log(p) + (n - k) * math.log1p(-p)
    cdf = np.cumsum(np.exp(logpmf - logpmf.max()))
    return cdf / cdf[-1]


def _tail_le(k: int, n: int, p: float, lf: np.ndarray) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    i = np.arange(n + 1)
    logpmf = lf[n] - lf[i] - lf[n - i] + i * math.log(p) + (n - i) * math.log1p(-p)
    w = np.exp(logpmf - logpmf.max())
    return float(w[: k + 1].sum() / w.sum())


def _bisect(increasing, target: float) -> float:
    """The p in [0, 1] where increasing(p) = target."""
    lo, hi = 0.0, 1.0
    for _ in range(55):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if increasing(mid) < target else (lo, mid)
    return (lo + hi) / 2


def clopper_pearson(k: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact interval for a binomial proportion from k events in n trials."""
    if n <= 0:
        return (0.0, 1.0)
    k = int(round(min(max(k, 0), n)))
    a = (1 - confidence) / 2
    lf = _log_factorials(n)
    # lower: P(X >= k | p) = a;  upper: P(X <= k | p) = a  (both tails monotone in p)
    low = 0.0 if k == 0 else _bisect(lambda p: 1.0 - _tail_le(k - 1, n, p, lf), a)
    high = 1.0 if k == n else _bisect(lambda p: -_tail_le(k, n, p, lf), -a)
    return (low, high)


def wilson(k: float, n: int) -> tuple[float, float]:
    """Wilson's 95 % score interval (the building block of Newcombe's paired difference)."""
    if n <= 0:
        return (0.0, 1.0)
    z, p = Z95, k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def quantile_ci(values, q: float, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Distribution-free interval for the q-quantile of the law the values were drawn from.

    With B ~ Binomial(n, q) runs below the quantile, [X_(l), X_(u)] covers it when l <= B < u; l and u
    are picked so each tail has probability <= (1 - confidence) / 2. Too few runs for a side: None."""
    x = np.sort(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (None, None)
    a = (1 - confidence) / 2
    cdf = binom_cdf(n, q)  # cdf[k] = P(B <= k)
    lo_rank = int(np.searchsorted(cdf, a, side="right"))  # P(B < l) = cdf[l-1] <= a, 1-based rank l
    hi_rank = int(np.searchsorted(cdf, 1 - a)) + 1  # P(B >= u) = 1 - cdf[u-1] <= a
    lo = float(x[lo_rank - 1]) if lo_rank >= 1 else None
    hi = float(x[hi_rank - 1]) if hi_rank <= n else None
    return (lo, hi)


def mean_ci(values) -> tuple[float | None, float | None]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (None, None)
    m = float(v.mean())
    if v.size < 2:
        return (None, None)
    half = Z95 * float(v.std(ddof=1)) / math.sqrt(v.size)
    return (m - half, m + half)


class Tagged(float):
    """A float that carries its 95 % interval (`sim.metrics._q` returns its quantiles as these).

    It survives dict merges (`_q(...) | {...}`, `{**_q(...)}`) and nesting, which is how summarize()
    composes figures; `with_intervals` reads the tags and turns the values back into plain floats."""

    ci: tuple

    def __new__(cls, value: float, ci: tuple):
        obj = super().__new__(cls, value)
        obj.ci = ci
        return obj


def tagged_quantiles(values, qs: dict[str, float]) -> dict:
    """{name: Tagged(quantile, its order-statistic interval)}; None for every name when empty."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {k: None for k in qs}
    return {k: Tagged(float(np.quantile(v, q)), quantile_ci(v, q)) for k, q in qs.items()}


def tagged_mean(values) -> "Tagged":
    """The mean carrying its normal interval (for means that have no per-run array of their own name)."""
    v = np.asarray(values, dtype=float)
    return Tagged(float(v.mean()), mean_ci(v))


_QUANTILE_KEY = re.compile(r"p\d{1,2}")
_PROBABILITY_KEY = re.compile(r".*_probability(_by_\w+)?")


def is_probability(key: str) -> bool:
    """`x_probability`, or `x_probability_by_venue` (a dict of shares, one per venue)."""
    return bool(_PROBABILITY_KEY.fullmatch(str(key)))


def _interval(key: str, value, runs: int, per_run: dict | None):
    """The interval mirroring `value` (a number or a nested dict), or None when it has none."""
    if is_probability(key):
        return _probability_interval(value, runs)
    if isinstance(value, Tagged):
        return list(value.ci)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "mean" and per_run is not None and key in per_run and isinstance(v, (int, float)):
                sub = list(mean_ci(per_run[key]))
            elif v is None and _QUANTILE_KEY.fullmatch(str(k)):  # a quantile of nothing (no episode): no bounds
                sub = [None, None]
            else:
                sub = _interval(str(k), v, runs, None)
            if sub is not None:
                out[k] = sub
        return out or None
    return None


def _probability_interval(value, runs: int):
    if isinstance(value, dict):
        out = {k: _probability_interval(v, runs) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not None}
        return out or None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and runs > 0:
        return list(clopper_pearson(value * runs, runs))
    return None


def _plain(value):
    if isinstance(value, Tagged):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def with_intervals(summary: dict, per_run: dict | None = None) -> dict:
    """`summary` with `<key>_ci95` after every figure that has an interval (see the module doc).

    A probability's interval is [low, high]; a dict's mirrors the dict ({"p50": [low, high], ...}, or
    {venue: {...}}). Probabilities are shares of `summary["runs"]` runs."""
    runs = int(summary.get("runs", 0))
    out = {}
    for key, value in summary.items():
        out[key] = _plain(value)
        if key.endswith("_ci95"):
            continue
        ci = _interval(key, value, runs, per_run)
        if ci is not None:
            out[f"{key}_ci95"] = ci
    out["intervals"] = dict(INTERVAL_METHODS)
    return out


# ---- paired differences (two designs on the same seeds) and how many runs resolve a target ----

def paired_proportion_diff(a, b) -> dict:
    """P(a) - P(b) for paired 0/1 outcomes of the same runs: Newcombe's hybrid score interval
    (method 10, Wilson margins and the pairs' phi correlation)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n = a.size
    both, only_a, only_b = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    neither = n - both - only_a - only_b
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson(both + only_a, n)
    l2, u2 = wilson(both + only_b, n)
    den = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = (both * neither - only_a * only_b) / math.sqrt(den) if den > 0 else 0.0
    d = p1 - p2
    low = d - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = d + math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return {"diff": d, "ci95": [max(-1.0, low), min(1.0, high)], "method": "Newcombe hybrid score, paired",
            "runs_only_first": only_a, "runs_only_second": only_b}


BOOTSTRAP_RESAMPLES = 2000


def paired_bootstrap_diff(a, b, stat, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> dict:
    """stat(a) - stat(b) with a percentile interval from resampling runs jointly (pairs kept)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 2:
        return {"diff": None, "ci95": [None, None], "method": "paired bootstrap (too few runs)"}
    d = float(stat(a) - stat(b))
    idx = np.random.default_rng(seed).integers(0, a.size, size=(resamples, a.size))
    boots = stat(a[idx], axis=1) - stat(b[idx], axis=1)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"diff": d, "ci95": [float(lo), float(hi)], "method": f"paired bootstrap ({resamples} resamples)"}


def resolved(p: float, low: float, high: float, target: float) -> str:
    """'met' (upper bound <= target), 'missed' (lower bound > target) or 'unresolved'."""
    if high <= target:
        return "met"
    if low > target:
        return "missed"
    return "unresolved"


def runs_to_resolve(p: float, target: float, max_runs: int = 10_000_000) -> int | None:
    """Runs per point at which a share observed at rate `p` would be resolved against `target` with
    95 % confidence (upper bound <= target if p < target, lower bound > target if p > target).
    None when p == target or more than max_runs would be needed."""
    if p == target or not 0 <= p <= 1:
        return None

    def ok(n: int) -> bool:
        lo, hi = clopper_pearson(round(p * n), n)
        return hi <= target if p < target else lo > target

    n = 1
    while not ok(n):
        n *= 2
        if n > max_runs:
            return None
    lo, hi = n // 2, n  # smallest n with ok(n), by bisection (ok is monotone at a fixed rate, up to rounding)
    while hi - lo > max(1, lo // 100):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi
