"""BTC funding by simulated moments: the latent premium of `sim.markets.funding` (quiet and hot
funding regimes, printed through the venue's clamp) fitted to the shipped daily funding.

Why simulated moments: the data is a clamped, print-averaged view of a latent process in hidden
regimes, whose likelihood has no closed form; simulating it is cheap (the compiled kernel the
generator runs). The estimator:

1. **Moments** (`moments`) of the daily series, the data's and each simulated path's alike: the shares
   of days negative, at exactly the interest rate (the clamp) and above it; mean and sd; the 1, 5, 25,
   50, 75, 95 and 99 % quantiles; autocorrelation at 1, 5 and 30 days; corr with the day's BTC return
   and of the change with it; the mean length of negative and of clamp spells.
2. **Simulation**: `paths` paths as long as the sample, on the BTC market just fitted (returns and
   market regimes from the real generator), funding from the generator's kernel with shocks drawn
   once (common random numbers: the objective is a deterministic function of the parameters), daily
   funding = mean of the day's three 8 h prints, as in `sim.calibration.validate`.
3. **Objective**: the sum over moments of ((median over paths - data) / PRECISION)^2, PRECISION being
   the closeness asked of each moment (fixed below, not fitted).
4. **Search**: Nelder-Mead (written out below) over the 9 parameters (levels in bps, the rest in
   logs), from two starts: regime durations from a 2-state HMM on the daily funding, and the same
   durations x4 (that HMM's "hot" state also takes the short crash days, so its spells are short);
   the better result is kept.

Not fitted: the venue's rule (interest 0.01 %/8h, clamp +-0.05 % -> width 0.1 %: Binance's published
formula; the data's source is probably Binance BTCUSDT, see sim/data/README.md), floor and cap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.config import FundingProcess, HotFunding, StochasticMarket
from sim.markets.funding import latent_paths, latent_start

VENUE_INTEREST_8H = 1e-4
VENUE_CLAMP_WIDTH_8H = 1e-3
AT_CLAMP = 1e-10  # a day's mean within this of the interest rate counts as at the clamp (float rounding)
BPS = 1e4
# How close each simulated moment (median over paths) is asked to be to the data's; funding in bps/8h.
PRECISION = {
    "share_negative": 0.01, "share_at_clamp": 0.01, "share_above_clamp": 0.01,
    "mean_bps": 0.03, "sd_bps": 0.1,  # the mean is what carry and reserve sizing read first
    "q01_bps": 0.3, "q05_bps": 0.1, "q25_bps": 0.1, "q50_bps": 0.1, "q75_bps": 0.1, "q95_bps": 0.3, "q99_bps": 0.5,
    "autocorr_1d": 0.02, "autocorr_5d": 0.03, "autocorr_30d": 0.02,
    "corr_return": 0.02, "corr_change_return": 0.02,
    "negative_spell_days": 0.2, "clamp_spell_days": 0.3,
}
PARAMS = ("level_calm_8h", "level_stress_8h", "hot_offset_8h", "vol_quiet", "vol_hot", "kappa_per_day", "price_beta_8h",
          "p_enter_hot_per_hour", "p_exit_hot_per_hour")


def spell_mean(mask: np.ndarray) -> np.ndarray:
    """Mean length of the runs of True in each column of a (days, N) mask (0 when there are none)."""
    starts = mask[0].astype(float) + (mask[1:] & ~mask[:-1]).sum(axis=0)
    return np.where(starts > 0, mask.sum(axis=0) / np.maximum(starts, 1), 0.0)


def _corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    den = a.std(axis=0) * b.std(axis=0)
    return np.where(den > 0, (a * b).mean(axis=0) / np.where(den > 0, den, 1.0), 0.0)


def moments(f: np.ndarray, r: np.ndarray, interest: float = VENUE_INTEREST_8H) -> dict[str, np.ndarray]:
    """The moments of daily funding f (days, N) (8 h fraction) with the same days' BTC log returns r."""
    bp = f * BPS
    at = np.abs(f - interest) < AT_CLAMP
    out = {"share_negative": (f < 0).mean(axis=0), "share_at_clamp": at.mean(axis=0),
           "share_above_clamp": ((f > interest) & ~at).mean(axis=0),
           "mean_bps": bp.mean(axis=0), "sd_bps": bp.std(axis=0)}
    for q in (1, 5, 25, 50, 75, 95, 99):
        out[f"q{q:02d}_bps"] = np.quantile(bp, q / 100, axis=0)
    for lag in (1, 5, 30):
        out[f"autocorr_{lag}d"] = _corr(bp[:-lag], bp[lag:]) if lag < len(bp) - 2 else np.zeros(bp.shape[1])
    out["corr_return"] = _corr(bp, r)
    out["corr_change_return"] = _corr(np.diff(bp, axis=0), r[1:])
    out["negative_spell_days"] = spell_mean(f < 0)
    out["clamp_spell_days"] = spell_mean(at)
    return out


def nelder_mead(fun, x0: np.ndarray, step: np.ndarray, max_iter: int = 600, tol: float = 1e-6):
    """Minimise fun from x0 (simplex x0, x0 + step_i e_i): reflection 1, expansion 2, contraction 1/2,
    shrink 1/2. Stops when the simplex's values agree to `tol` (relative) or after max_iter.
    Returns (x, fun(x), iterations)."""
    n = len(x0)
    pts = [np.asarray(x0, dtype=float)] + [np.asarray(x0, dtype=float) + np.eye(n)[i] * step[i] for i in range(n)]
    vals = [fun(p) for p in pts]
    it = 0
    for it in range(1, max_iter + 1):
        order = np.argsort(vals, kind="stable")
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        if abs(vals[-1] - vals[0]) <= tol * (1 + abs(vals[0])):
            break
        c = np.mean(pts[:-1], axis=0)
        xr = c + (c - pts[-1])
        fr = fun(xr)
        if fr < vals[0]:
            xe = c + 2 * (c - pts[-1])
            fe = fun(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = c + 0.5 * (pts[-1] - c) if fr >= vals[-1] else c + 0.5 * (xr - c)
            fc = fun(xc)
            if fc < min(fr, vals[-1]):
                pts[-1], vals[-1] = xc, fc
            else:
                pts = [pts[0]] + [pts[0] + 0.5 * (p - pts[0]) for p in pts[1:]]
                vals = [vals[0]] + [fun(p) for p in pts[1:]]
    i = int(np.argmin(vals))
    return pts[i], vals[i], it


@dataclass
class FundingSmm:
    process: FundingProcess
    level_calm_8h: float
    level_stress_8h: float
    objective: float
    iterations: int
    start: str
    rows: list[dict] = field(default_factory=list)  # per moment: data, fitted median, precision

    def report(self) -> dict:
        return {"method": "simulated moments (sim/calibration/funding_fit.py)", "objective": self.objective,
                "iterations": self.iterations, "start": self.start, "level_calm_8h": self.level_calm_8h,
                "level_stress_8h": self.level_stress_8h, "venue_interest_8h": VENUE_INTEREST_8H,
                "venue_clamp_width_8h": VENUE_CLAMP_WIDTH_8H, "moments": self.rows}


class _Simulator:
    """The daily funding of `paths` simulated paths for a parameter vector, on fixed shocks."""

    def __init__(self, market: StochasticMarket, days: int, paths: int, seed: int):
        from sim.markets.generator import generate

        self.days, self.steps = days, (days + 1) * 24
        g = generate(market, seed, np.arange(paths), self.steps, 1.0)
        self.r_hourly = np.diff(np.log(g["btc_usd"]), axis=0)
        self.stress = np.ascontiguousarray(g["stress"][1:])
        close = g["btc_usd"][::24]
        self.r_daily = np.diff(np.log(close[: days + 1]), axis=0)
        rng = np.random.default_rng([seed, 13])
        self.z = rng.standard_normal((self.steps, paths))
        self.u = rng.random((self.steps, paths))
        self.out = np.empty((self.steps + 1, paths))
        self.floor, self.cap = market.funding_btc.floor_8h, market.funding_btc.cap_8h

    def daily(self, th: dict) -> np.ndarray:
        N = self.z.shape[1]
        sq = math.sqrt(1 / 24)
        y0 = latent_start(np.full(N, th["level_calm_8h"]), VENUE_INTEREST_8H, VENUE_CLAMP_WIDTH_8H)
        latent_paths(y0, self.stress, th["level_calm_8h"], th["level_stress_8h"], min(1.0, th["kappa_per_day"] / 24),
                     th["vol_quiet"] * sq, th["vol_hot"] * sq, th["hot_offset_8h"], self.z,
                     th["price_beta_8h"] * self.r_hourly, self.u, min(1.0, th["p_enter_hot_per_hour"]),
                     min(1.0, th["p_exit_hot_per_hour"]), self.floor, self.cap + VENUE_CLAMP_WIDTH_8H,
                     VENUE_INTEREST_8H, VENUE_CLAMP_WIDTH_8H, self.out)
        d = self.days
        return self.out[8: 8 + 24 * d].reshape(d, 24, -1)[:, [0, 8, 16]].mean(axis=1)


def _unpack(x: np.ndarray) -> dict:
    lv = [float(np.clip(v / BPS, -0.01, 0.01)) for v in x[:3]]
    pos = [math.exp(min(v, 5.0)) for v in x[3:]]
    return dict(zip(PARAMS, lv + pos))


def _pack(th: dict) -> np.ndarray:
    return np.array([th[k] * BPS for k in PARAMS[:3]] + [math.log(max(th[k], 1e-12)) for k in PARAMS[3:]])


def fit_funding_smm(f: np.ndarray, r: np.ndarray, market: StochasticMarket, kappa_per_day: float,
                    price_beta_8h: float, paths: int = 12, seed: int = 0, max_iter: int = 600) -> FundingSmm:
    """f, r: the aligned daily funding and BTC log returns; `market` the fitted BTC market (its funding
    block is ignored); kappa and beta from the daily AR(1) (`fit.fit_funding`) as the start."""
    from sim.calibration.fit import fit_hmm2, hourly_switching

    f, r = np.asarray(f, dtype=float), np.asarray(r, dtype=float)
    data = {k: float(v[0]) for k, v in moments(f[:, None], r[:, None]).items()}
    sim = _Simulator(market, len(f), paths, seed)

    def loss(x: np.ndarray) -> float:
        th = _unpack(x)
        if th["vol_quiet"] > 0.01 or th["vol_hot"] > 0.01 or th["kappa_per_day"] > 24 or th["price_beta_8h"] > 1:
            return 1e12
        mo = moments(sim.daily(th), sim.r_daily)
        return float(sum(((np.median(mo[k]) - data[k]) / PRECISION[k]) ** 2 for k in PRECISION))

    # start: quiet = the days at or below the interest rate, hot = those above it (latent: + width)
    low, high = f[f <= VENUE_INTEREST_8H], f[f > VENUE_INTEREST_8H]
    level = float(np.median(low)) if low.size else VENUE_INTEREST_8H
    hot_level = float(np.mean(high)) + VENUE_CLAMP_WIDTH_8H if high.size else level
    hmm = fit_hmm2(f * BPS)
    p_up, p_down = hourly_switching(hmm.trans)
    base = {"level_calm_8h": level, "level_stress_8h": level, "hot_offset_8h": hot_level - level,
            "vol_quiet": max(float(np.std(low)), 1e-6) if low.size else 1e-5,
            "vol_hot": max(float(np.std(high)), 1e-6) * 3 if high.size else 1e-4,
            "kappa_per_day": min(max(kappa_per_day, 0.05), 12.0), "price_beta_8h": max(price_beta_8h, 1e-4)}
    starts = {"funding HMM durations": {**base, "p_enter_hot_per_hour": p_up, "p_exit_hot_per_hour": p_down},
              "HMM durations x4": {**base, "p_enter_hot_per_hour": p_up / 4, "p_exit_hot_per_hour": p_down / 4}}
    step = np.array([0.3, 0.3, 3.0, 0.5, 0.5, 0.5, 0.5, 0.7, 0.7])
    best = None
    for name, th0 in starts.items():
        x, val, it = nelder_mead(loss, _pack(th0), step, max_iter=max_iter)
        if best is None or val < best[1]:
            best = (x, val, it, name)
    x, val, it, name = best
    th = _unpack(x)
    mo = moments(sim.daily(th), sim.r_daily)
    rows = [{"moment": k, "data": data[k], "fitted_median": float(np.median(mo[k])), "precision": PRECISION[k]}
            for k in PRECISION]
    proc = FundingProcess(
        mean_reversion_per_day=th["kappa_per_day"], vol_8h_per_sqrt_day=th["vol_quiet"],
        price_beta_8h=th["price_beta_8h"], floor_8h=market.funding_btc.floor_8h, cap_8h=market.funding_btc.cap_8h,
        interest_8h=VENUE_INTEREST_8H, clamp_width_8h=VENUE_CLAMP_WIDTH_8H,
        hot=HotFunding(p_enter_per_hour=th["p_enter_hot_per_hour"], p_exit_per_hour=th["p_exit_hot_per_hour"],
                       level_offset_8h=th["hot_offset_8h"], vol_8h_per_sqrt_day=th["vol_hot"]))
    return FundingSmm(process=proc, level_calm_8h=th["level_calm_8h"], level_stress_8h=th["level_stress_8h"],
                      objective=val, iterations=it, start=name, rows=rows)
