"""Fit the stochastic market (`sim.config.StochasticMarket`, equations in `sim/markets/generator.py`)
to the shipped daily series. Only numpy/pandas; every estimator is written out here.

Estimators, in order (each maps a daily-data quantity onto the hourly generator exactly where it can,
and says so where it approximates):

1. **Regimes**: a two-state Gaussian hidden Markov model on daily BTC log returns, fitted by EM
   (Baum-Welch with scaling). State "stress" is the high-variance one. The daily transition matrix
   is turned into the hourly one whose 24th power it is (same stationary law, eigenvalue^(1/24)).
   Days are labelled by their smoothed stress probability (> 0.5).
2. **BTC jumps and diffusion per regime**: a threshold estimator. Within a regime's days, a return
   more than `JUMP_THRESHOLD_SD` diffusion sds from the regime's mean is a jump day; the diffusion
   sd is re-estimated on the other days (corrected for the truncation) until the labels settle.
   Jump rate = jump days per year in the regime, less the Gaussian exceedances expected among the
   diffusion days (0.27 % at 3 sd; clamped at zero); jump size mean and variance from the excess
   on jump days with those false positives' moments taken off, less one day of diffusion variance. Drift is set so the
   generator's mean daily log return on non-jump days matches the data (drift - vol^2/2 = mean).
3. **Gold**: the shipped series is a *monthly average*. Vol per regime from monthly changes of log
   averages, scaled by sqrt(3/2) (the variance of a change of consecutive window averages of a
   random walk is 2/3 of the end-to-end variance); BTC-gold correlation per regime from the same
   monthly changes of BTC's monthly averages (averaging both series leaves the correlation of a
   bivariate random walk unchanged). A month is "stress" when most of its days are. Gold jumps are
   not identifiable from monthly averages: rate 0, all variance in the diffusion.
4. **BTC funding**, in two stages. First the plain hourly OU, f' = f + a (mu_regime - f) + s z + beta r, sampled
   daily, is an AR(1) with regime intercepts and the day's return as regressor:
   f_d = c_regime + phi f_(d-1) + b r_d + e_d, fitted by OLS, where f_d is the mean of the day's three
   8 h prints (as in the data). The daily means of an hourly AR(1) rho have lag-1 autocorrelation
   rho^24 S1(rho)/S0(rho), so rho solves that for phi; kappa/day = 24 (1 - rho); mu_regime =
   c_regime / (1 - phi); beta = b / w, w the mean weight of one hour's return in its day's mean;
   the hourly noise follows from the residual variance (see `fit_funding`). Checked on the real
   generator in tests. The data's date label runs a day behind the return (see `aligned_funding`).
   That OU cannot hold the data (a quarter of days at exactly the 0.01 %/8h clamp, negative days rare
   and short), so second, the process the generator runs (`sim.markets.funding`: a latent premium in
   quiet/hot regimes printed through the venue's clamp) is fitted by simulated moments from the AR(1)'s
   speed and beta (`sim.calibration.funding_fit`). Gold funding: no data, defaults kept.
5. **T-bill**: DTB3 (discount basis) turned into bond-equivalent yield, then a Vasicek AR(1) on
   business days (dt = 1/252 y): kappa = -ln(phi) * 252, long-run = c / (1 - phi),
   vol = sd(e) * sqrt(2 kappa / (1 - phi^2)). The start yield is the last one in the window.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.config import FundingProcess, Regime, StochasticMarket, TbillProcess
from sim.markets.historical import FUNDING_LAG_DAYS, load_series

DAYS_PER_YEAR = 365.0  # the generator's year is 8760 h
JUMP_THRESHOLD_SD = 3.0
STRESS_LABEL = 0.5


# ---------------------------------------------------------------------------------------------
# Two-state Gaussian HMM by EM
# ---------------------------------------------------------------------------------------------
@dataclass
class HmmFit:
    mean: np.ndarray  # (2,) calm, stress
    sd: np.ndarray  # (2,)
    trans: np.ndarray  # (2, 2) daily transition matrix, rows from-state
    start: np.ndarray  # (2,)
    posterior: np.ndarray  # (T, 2) smoothed state probabilities
    loglik: float
    iterations: int
    converged: bool


def _normal_pdf(x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    z = (x[:, None] - mean[None, :]) / sd[None, :]
    return np.exp(-0.5 * z * z) / (sd[None, :] * math.sqrt(2 * math.pi))


def fit_hmm2(x: np.ndarray, max_iter: int = 500, tol: float = 1e-7) -> HmmFit:
    """Two-state Gaussian HMM by Baum-Welch (scaled forward-backward). State 1 is the high-variance one."""
    x = np.asarray(x, dtype=float)
    T = len(x)
    if T < 30:
        raise ValueError(f"need at least 30 observations to fit regimes (got {T})")
    v = x.var()
    mean = np.array([x.mean(), x.mean()])
    sd = np.sqrt(np.array([0.5 * v, 2.5 * v]))
    A = np.array([[0.98, 0.02], [0.05, 0.95]])
    pi = np.array([0.7, 0.3])
    prev = -np.inf
    alpha = np.empty((T, 2))
    beta = np.empty((T, 2))
    c = np.empty(T)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        B = np.maximum(_normal_pdf(x, mean, sd), 1e-300)
        a = pi * B[0]
        c[0] = a.sum()
        alpha[0] = a / c[0]
        for t in range(1, T):
            a = (alpha[t - 1] @ A) * B[t]
            c[t] = a.sum()
            alpha[t] = a / c[t]
        beta[-1] = 1.0
        for t in range(T - 2, -1, -1):
            beta[t] = A @ (B[t + 1] * beta[t + 1]) / c[t + 1]
        gamma = alpha * beta
        gamma /= gamma.sum(axis=1, keepdims=True)
        xi = (alpha[:-1, :, None] * A[None, :, :] * (B[1:] * beta[1:])[:, None, :]) / c[1:, None, None]
        ll = float(np.log(c).sum())
        # M step
        pi = gamma[0]
        A = xi.sum(axis=0)
        A /= A.sum(axis=1, keepdims=True)
        w = gamma.sum(axis=0)
        mean = (gamma * x[:, None]).sum(axis=0) / w
        sd = np.sqrt(np.maximum((gamma * (x[:, None] - mean) ** 2).sum(axis=0) / w, 1e-12))
        if abs(ll - prev) < tol * max(1.0, abs(ll)):
            converged = True
            break
        prev = ll
    if sd[0] > sd[1]:  # order: calm (low variance) first
        mean, sd, pi, gamma = mean[::-1], sd[::-1], pi[::-1], gamma[:, ::-1]
        A = A[::-1, ::-1]
    return HmmFit(mean=mean, sd=sd, trans=A, start=pi, posterior=gamma, loglik=ll, iterations=it, converged=converged)


def hourly_switching(trans_daily: np.ndarray, hours: float = 24.0) -> tuple[float, float]:
    """(p calm->stress, p stress->calm) per hour whose `hours`-th power is the daily matrix."""
    p, q = trans_daily[0, 1], trans_daily[1, 0]
    lam = 1.0 - p - q
    if lam <= 0:  # not persistent at a daily scale: fall back to matching expected durations
        return 1 - (1 - p) ** (1 / hours), 1 - (1 - q) ** (1 / hours)
    s = 1.0 - lam ** (1.0 / hours)
    return s * p / (p + q), s * q / (p + q)


# ---------------------------------------------------------------------------------------------
# Jumps within a regime (threshold estimator)
# ---------------------------------------------------------------------------------------------
def _truncated_sd_factor(k: float) -> float:
    """sd of a standard normal truncated to [-k, k]."""
    phi = math.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)
    mass = math.erf(k / math.sqrt(2))
    return math.sqrt(1.0 - 2 * k * phi / mass)


@dataclass
class JumpFit:
    diffusion_sd_daily: float
    nonjump_mean_daily: float
    jump_days: int
    days: int
    expected_false_positives: float
    jump_rate_per_year: float
    jump_mean: float
    jump_std: float


def fit_jumps(r: np.ndarray, k: float = JUMP_THRESHOLD_SD, max_iter: int = 50) -> JumpFit:
    r = np.asarray(r, dtype=float)
    r = r[np.isfinite(r)]
    corr = _truncated_sd_factor(k)
    m, s = float(np.median(r)), float(r.std())
    jump = np.zeros(len(r), dtype=bool)
    for _ in range(max_iter):
        new = np.abs(r - m) > k * s
        m = float(r[~new].mean())
        s = float(r[~new].std() / corr)
        if np.array_equal(new, jump):
            break
        jump = new
    n = int(jump.sum())
    excess = r[jump] - m
    # Gaussian diffusion days beyond the threshold are expected false positives: take them off the count
    # and off the size moments (their excess has mean 0 and second moment s^2 (1 + k phi(k) / Q(k))).
    tail = 1 - math.erf(k / math.sqrt(2))  # P(|Z| > k)
    false_pos = tail * (len(r) - n)
    true_n = n - false_pos
    if true_n > 1:
        m2_fp = s * s * (1 + k * (2 * math.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)) / tail)
        jm = float(excess.sum() / true_n)
        jv = float(((excess**2).sum() - false_pos * m2_fp) / true_n) - jm * jm - s * s
    elif n >= 1:
        jm, jv = float(excess.mean()), (float(excess.var()) - s * s if n >= 2 else 0.0)
    else:
        jm, jv = 0.0, 0.0
    rate = max(true_n, 0.0) / len(r) * DAYS_PER_YEAR
    return JumpFit(diffusion_sd_daily=s, nonjump_mean_daily=m, jump_days=n, days=len(r),
                   expected_false_positives=false_pos, jump_rate_per_year=rate, jump_mean=jm,
                   jump_std=math.sqrt(max(jv, 0.0)))


# ---------------------------------------------------------------------------------------------
# OU funding as a daily AR(1) with regime intercepts and the day's return
# ---------------------------------------------------------------------------------------------
@dataclass
class FundingFit:
    phi_daily: float
    intercept: dict  # regime -> c
    b_return: float
    resid_sd: float
    n: int
    process: FundingProcess
    mean_8h: dict  # regime -> long-run level


def ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return coef, y - X @ coef


PRINT_HOURS = (8, 16, 24)  # a day's funding = mean of the prints ending at these hours of the day


def _print_avg_moments(rho: float) -> tuple[float, float, float]:
    """For an hourly AR(1) with coefficient rho sampled as the mean of the day's three 8 h prints:
    lag-1 autocorrelation of the daily means, their variance per unit hourly stationary variance,
    and the mean weight with which one hour's impulse inside the day reaches that day's mean."""
    h = np.array(PRINT_HOURS, dtype=float)
    s0 = (rho ** np.abs(h[:, None] - h[None, :])).sum()
    s1 = (rho ** (24 + h[:, None] - h[None, :])).sum()
    w = np.mean([np.mean([rho ** (p - k - 1) if p > k else 0.0 for p in PRINT_HOURS]) for k in range(24)])
    return s1 / s0, s0 / 9.0, float(w)


def _rho_from_daily(phi: float) -> float:
    """Hourly AR coefficient whose print-averaged daily series has lag-1 autocorrelation `phi` (bisection)."""
    lo, hi = 1e-9, 1.0 - 1e-12
    if phi <= _print_avg_moments(lo)[0]:
        return lo
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if _print_avg_moments(mid)[0] < phi:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fit_funding(f: np.ndarray, r: np.ndarray, stress: np.ndarray, base: FundingProcess | None = None) -> FundingFit:
    """f, r, stress aligned daily arrays (funding of day d = mean of its three prints, BTC log return of
    day d, stress label). OLS of f_d on regime intercepts, f_(d-1) and r_d, then mapped to the hourly OU
    accounting for the print averaging: the daily means of an hourly AR(1) rho have lag-1
    autocorrelation rho^24 * S1/S0 (S over the print-hour pairs), so rho solves that for the fitted phi;
    kappa/day = 24 (1 - rho); beta = b / w with w the mean weight of an hour's return in its day's mean;
    the hourly noise comes from the residual variance through the stationary variance of the means."""
    f, r, st = (np.asarray(a, dtype=float) for a in (f, r, stress))
    y, f_prev, r_d, s_d = f[1:], f[:-1], r[1:], st[1:]
    X = np.column_stack([1 - s_d, s_d, f_prev, r_d])
    coef, e = ols(X, y)
    c_calm, c_stress, phi, b = (float(v) for v in coef)
    phi_c = min(max(phi, 1e-6), 1 - 1e-6)
    rho = _rho_from_daily(phi_c)
    _, var_ratio, w = _print_avg_moments(rho)
    kappa_day = 24.0 * (1.0 - rho)
    beta = b / w
    resid_sd = float(e.std(ddof=X.shape[1]))
    var_daily_mean = resid_sd**2 / (1 - phi_c**2)  # stationary variance of the daily means (unexplained part)
    sigma_h = math.sqrt(var_daily_mean / var_ratio * (1 - rho**2))
    vol = sigma_h * math.sqrt(24.0)  # generator: vol_8h_per_sqrt_day * sqrt(1/24) per hour
    base = base or FundingProcess()
    proc = base.model_copy(update={"mean_reversion_per_day": kappa_day, "vol_8h_per_sqrt_day": vol,
                                   "price_beta_8h": max(beta, 0.0)})
    means = {"calm": c_calm / (1 - phi_c), "stress": c_stress / (1 - phi_c)}
    return FundingFit(phi_daily=phi, intercept={"calm": c_calm, "stress": c_stress}, b_return=b, resid_sd=resid_sd,
                      n=len(y), process=proc, mean_8h=means)


# ---------------------------------------------------------------------------------------------
# T-bill (Vasicek by AR(1))
# ---------------------------------------------------------------------------------------------
def discount_to_bey(d_pct: np.ndarray, days: int = 91) -> np.ndarray:
    """3-month bill discount rate (percent) to bond-equivalent yield (fraction)."""
    d = np.asarray(d_pct, dtype=float) / 100.0
    return 365.0 * d / (360.0 - days * d)


def fit_vasicek(y: np.ndarray, periods_per_year: float = 252.0) -> dict:
    y = np.asarray(y, dtype=float)
    coef, e = ols(np.column_stack([np.ones(len(y) - 1), y[:-1]]), y[1:])
    c, phi = float(coef[0]), float(coef[1])
    sd_e = float(e.std(ddof=2))
    restricted = False
    theta = c / (1 - phi) if phi < 1 else np.inf
    if not (0 < phi < 1) or not (y.min() <= theta <= y.max()):
        # Near a unit root the free long-run level is not identified (it can land far outside the
        # sample). Then fix it at the sample mean and fit only the speed: y' - y = (1 - phi)(mean - y) + e.
        restricted = True
        theta = float(y.mean())
        xr = theta - y[:-1]
        k1 = float((xr * (y[1:] - y[:-1])).sum() / (xr * xr).sum())
        phi = min(max(1.0 - k1, 1e-9), 1.0)
        e = y[1:] - y[:-1] - k1 * xr
        sd_e = float(e.std(ddof=1))
    if phi < 1:
        kappa = -math.log(phi) * periods_per_year
        vol = sd_e * math.sqrt(2 * kappa / (1 - phi * phi))
    else:
        kappa, vol = 0.0, sd_e * math.sqrt(periods_per_year)
    return {"phi": phi, "kappa_per_year": kappa, "long_run": theta, "vol_per_sqrt_year": vol, "n": len(y),
            "long_run_fixed_at_sample_mean": restricted}


# ---------------------------------------------------------------------------------------------
# The whole calibration
# ---------------------------------------------------------------------------------------------
def aligned_funding(f: pd.Series) -> pd.Series:
    """Funding re-labelled to the day its prints cover, whose BTC return it reacts to
    (`sim.markets.historical.FUNDING_LAG_DAYS`)."""
    out = f.copy()
    out.index = out.index - pd.Timedelta(days=FUNDING_LAG_DAYS)
    return out


@dataclass
class Calibration:
    market: StochasticMarket
    report: dict = field(default_factory=dict)
    posterior_stress: pd.Series | None = None  # daily smoothed stress probability over the BTC sample


def _window(s: pd.Series, start, end) -> pd.Series:
    if start is not None:
        s = s[s.index >= pd.Timestamp(start)]
    if end is not None:
        s = s[s.index <= pd.Timestamp(end)]
    return s


def _r(x: float, sig: int = 6) -> float:
    return float(f"{x:.{sig}g}")


def _rounded(d: dict) -> dict:
    """Every float of a (nested) model dump to 6 significant digits, for a readable market file."""
    return {k: _rounded(v) if isinstance(v, dict) else _r(v) if isinstance(v, float) else v for k, v in d.items()}


def calibrate(start: dt.date | str | None = None, end: dt.date | str | None = None,
              series: dict[str, pd.Series] | None = None, funding_paths: int = 12) -> Calibration:
    """Fit the market block to the shipped data between `start` and `end` (inclusive, default: all).

    `series` may replace the shipped series (keys btc_usd, funding_rate_8h_btc, xau_usd, tbill_yield_pct),
    e.g. with synthetic data in tests. `funding_paths`: simulated paths per evaluation of the funding fit.
    """
    names = ("btc_usd", "funding_rate_8h_btc", "xau_usd", "tbill_yield_pct")
    src = {n: (series[n] if series and n in series else load_series(n)) for n in names}
    btc = _window(src["btc_usd"], start, end).dropna()
    if len(btc) < 60:
        raise ValueError(f"the window {start}..{end} holds {len(btc)} BTC days; need at least 60")
    r = np.log(btc).diff().dropna()

    # 1. regimes
    hmm = fit_hmm2(r.to_numpy())
    post = pd.Series(hmm.posterior[:, 1], index=r.index, name="p_stress")
    is_stress = post > STRESS_LABEL
    p_up, p_down = hourly_switching(hmm.trans)

    # 2. BTC per regime
    base = StochasticMarket()
    regimes = {}
    jumps = {}
    for name, mask in (("calm", ~is_stress), ("stress", is_stress)):
        jf = fit_jumps(r[mask].to_numpy())
        jumps[name] = jf
        vol = jf.diffusion_sd_daily * math.sqrt(DAYS_PER_YEAR)
        drift = jf.nonjump_mean_daily * DAYS_PER_YEAR + 0.5 * vol * vol
        regimes[name] = {"btc_vol_annual": vol, "btc_drift_annual": drift,
                         "btc_jump_rate_per_year": jf.jump_rate_per_year, "btc_jump_mean": jf.jump_mean,
                         "btc_jump_std": jf.jump_std}

    # 3. gold (monthly averages) against BTC monthly averages
    xau = _window(src["xau_usd"], btc.index[0] - pd.Timedelta(days=31), btc.index[-1]).dropna()
    btc_m = btc.groupby(btc.index.to_period("M")).mean()
    xau_m = xau.groupby(xau.index.to_period("M")).mean()
    first, last = btc.index[0].to_period("M"), btc.index[-1].to_period("M")
    # only whole months of BTC data (partial months would be averages over fewer days)
    full = [p for p in btc_m.index if (p != first or btc.index[0].day == 1) and (p != last or btc.index[-1].is_month_end)]
    months = pd.DataFrame({"btc": btc_m.reindex(full), "xau": xau_m.reindex(full)}).dropna()
    dlog = np.log(months).diff().dropna()
    month_stress = is_stress.groupby(is_stress.index.to_period("M")).mean().reindex(dlog.index) > 0.5
    avg_corr = math.sqrt(1.5)
    gold = {}
    for name, mask in (("calm", ~month_stress), ("stress", month_stress)):
        d = dlog[mask.to_numpy()]
        n = len(d)
        if n >= 6:
            vol = float(d["xau"].std() * math.sqrt(12) * avg_corr)
            rho = float(np.corrcoef(d["btc"], d["xau"])[0, 1])
        else:  # too few months to say anything: pooled figures
            vol = float(dlog["xau"].std() * math.sqrt(12) * avg_corr)
            rho = float(np.corrcoef(dlog["btc"], dlog["xau"])[0, 1])
        gold[name] = {"months": n, "xau_vol_annual": vol, "btc_xau_correlation": rho}
    xau_vol_all = float(dlog["xau"].std() * math.sqrt(12) * avg_corr)
    xau_drift = float(dlog["xau"].mean() * 12 + 0.5 * xau_vol_all**2) if len(dlog) else 0.0

    # 4. funding
    # The funding dated d moves with the BTC return dated d - 1 (data: corr(f_d - f_(d-1), r_(d-1)) ~ 0.37,
    # with r_d ~ 0): the file's label runs a day behind the close-to-close return. Funding is aligned
    # one day back before fitting (and in the validation statistics), see FUNDING_LAG_DAYS.
    fund = _window(aligned_funding(src["funding_rate_8h_btc"]), start, end).dropna()
    df = pd.DataFrame({"f": fund, "r": r, "s": is_stress.astype(float)}).dropna()
    fund_note = None
    if len(df) >= 30:
        ff = fit_funding(df["f"].to_numpy(), df["r"].to_numpy(), df["s"].to_numpy(), base.funding_btc)
        fund_proc, fund_means = ff.process, ff.mean_8h
        lag = pd.Timedelta(days=FUNDING_LAG_DAYS)  # report the file's own dates
        fund_rep = {"days": ff.n, "from": str((df.index[0] + lag).date()), "to": str((df.index[-1] + lag).date()),
                    "aligned_one_day_back": True,
                    "phi_daily": ff.phi_daily, "intercept_calm": ff.intercept["calm"],
                    "intercept_stress": ff.intercept["stress"], "b_return_daily": ff.b_return,
                    "resid_sd_daily": ff.resid_sd, "beta_clipped_at_zero": ff.b_return < 0}
    else:
        fund_proc, fund_means = base.funding_btc, {"calm": base.calm.funding_mean_8h_btc,
                                                   "stress": base.stress.funding_mean_8h_btc}
        fund_note = "fewer than 30 funding days in the window: defaults kept"
        fund_rep = {"days": len(df), "note": fund_note}

    # 5. T-bill
    tb = _window(src["tbill_yield_pct"], start, end).dropna()
    if len(tb) >= 30:
        y = discount_to_bey(tb.to_numpy())
        vas = fit_vasicek(y)
        tbill = TbillProcess(long_run_yield=float(np.clip(vas["long_run"], -0.05, 0.5)),
                             mean_reversion_per_year=vas["kappa_per_year"], vol_per_sqrt_year=vas["vol_per_sqrt_year"])
        y_start = float(np.clip(y[-1], -0.05, 0.5))
        tb_rep = {**vas, "from": str(tb.index[0].date()), "to": str(tb.index[-1].date()), "start_yield": y_start,
                  "mean_yield": float(y.mean())}
    else:
        tbill, y_start = base.tbill, base.tbill_yield_start
        tb_rep = {"n": len(tb), "note": "fewer than 30 T-bill days in the window: defaults kept"}

    def regime(name: str, template: Regime) -> Regime:
        g, b = gold[name], regimes[name]
        return template.model_copy(update={
            **{k: _r(v) for k, v in b.items()},
            "xau_vol_annual": _r(g["xau_vol_annual"]), "btc_xau_correlation": _r(float(np.clip(g["btc_xau_correlation"], -1, 1))),
            "xau_drift_annual": _r(xau_drift), "xau_jump_rate_per_year": 0.0, "xau_jump_mean": 0.0, "xau_jump_std": 0.0,
            "funding_mean_8h_btc": _r(fund_means[name]),
        })

    fp = fund_proc
    market = StochasticMarket(
        btc_usd_start=_r(float(btc.iloc[-1])),
        xau_usd_start=_r(float(xau.iloc[-1])) if len(xau) else base.xau_usd_start,
        tbill_yield_start=_r(y_start),
        calm=regime("calm", base.calm),
        stress=regime("stress", base.stress),
        p_calm_to_stress_per_hour=_r(p_up),
        p_stress_to_calm_per_hour=_r(p_down),
        start_in_stress=False,
        funding_btc=fp.model_copy(update={"mean_reversion_per_day": _r(fp.mean_reversion_per_day),
                                          "vol_8h_per_sqrt_day": _r(fp.vol_8h_per_sqrt_day),
                                          "price_beta_8h": _r(fp.price_beta_8h)}),
        funding_xau=base.funding_xau,
        tbill=TbillProcess(long_run_yield=_r(tbill.long_run_yield), mean_reversion_per_year=_r(tbill.mean_reversion_per_year),
                           vol_per_sqrt_year=_r(tbill.vol_per_sqrt_year)),
    )
    # re-validate (pydantic model_copy does not validate updates)
    market = StochasticMarket.model_validate(market.model_dump())
    if fund_note is None:
        # the printed funding: latent premium, quiet/hot regimes, venue clamp, by simulated moments on the
        # BTC market just fitted, from the AR(1)'s speed and beta
        from sim.calibration.funding_fit import fit_funding_smm

        smm = fit_funding_smm(df["f"].to_numpy(), df["r"].to_numpy(), market, fp.mean_reversion_per_day,
                              fp.price_beta_8h, paths=funding_paths)
        fund_rep["ar1_process"] = fp.model_dump(mode="json")
        fund_rep["process"] = smm.report()
        d = market.model_dump()
        d["funding_btc"] = _rounded(smm.process.model_dump())
        d["calm"]["funding_mean_8h_btc"] = _r(smm.level_calm_8h)
        d["stress"]["funding_mean_8h_btc"] = _r(smm.level_stress_8h)
        market = StochasticMarket.model_validate(d)

    report = {
        "sample": {
            "btc_usd": {"from": str(btc.index[0].date()), "to": str(btc.index[-1].date()), "days": len(btc)},
            "funding_rate_8h_btc": fund_rep,
            "xau_usd": {"months_with_btc": len(dlog), "from": str(dlog.index[0]) if len(dlog) else None,
                        "to": str(dlog.index[-1]) if len(dlog) else None},
            "tbill": tb_rep,
        },
        "regimes": {
            "method": "2-state Gaussian HMM on daily BTC log returns, EM (Baum-Welch)",
            "daily_mean": hmm.mean.tolist(), "daily_sd": hmm.sd.tolist(),
            "daily_transition": hmm.trans.tolist(), "loglik": hmm.loglik, "iterations": hmm.iterations,
            "converged": hmm.converged, "stress_share_of_days": float(is_stress.mean()),
            "expected_calm_days": 1 / hmm.trans[0, 1], "expected_stress_days": 1 / hmm.trans[1, 0],
        },
        "jumps": {k: vars(v) for k, v in jumps.items()},
        "jump_threshold_sd": JUMP_THRESHOLD_SD,
        "gold": {**gold, "drift_annual": xau_drift, "note": "monthly averages; vol x sqrt(3/2); jumps not identifiable"},
        "not_fitted": ["funding_xau (no gold perp data; defaults)", "pool_depth_factor (no pool data; defaults)",
                       "funding floor/cap (defaults)",
                       "venue clamp (Binance's rule: interest 0.01 %/8h, clamp +-0.05 % -> width 0.1 %)"],
    }
    if fund_note:
        report["not_fitted"].append(fund_note)
    return Calibration(market=market, report=report, posterior_stress=post)


def market_yaml(cal: Calibration, command: str | None = None, filename: str = "market.yaml") -> str:
    """A scenario fragment holding the calibrated market block, with the fit's sample as provenance.

    Include it from a scenario with `include: [market.yaml]` (its file name); the `provenance` key of an
    included file is documentation and is dropped before validation.
    """
    import yaml

    s = json.loads(json.dumps(cal.report["sample"], default=float))
    s.get("funding_rate_8h_btc", {}).get("process", {}).pop("moments", None)  # in calibration.json, too long here
    head = [
        "# Calibrated stochastic market (tripod calibrate). Fitted to the shipped series in sim/data/:",
        f"#   BTC daily closes {s['btc_usd']['from']}..{s['btc_usd']['to']} ({s['btc_usd']['days']} days),",
        f"#   BTC perp funding {s['funding_rate_8h_btc'].get('from')}..{s['funding_rate_8h_btc'].get('to')}"
        f" ({s['funding_rate_8h_btc'].get('days')} days),",
        f"#   gold monthly averages {s['xau_usd']['from']}..{s['xau_usd']['to']}, 3-month T-bill "
        f"{s['tbill'].get('from')}..{s['tbill'].get('to')}.",
        "# Not fitted (defaults): gold funding, pool depth per regime, funding floor/cap; the venue's clamp rule is Binance's.",
        f"# Include from a scenario in the same folder:  include: [{filename}]",
    ]
    body = {
        "provenance": json.loads(json.dumps({
            "command": command or "tripod calibrate",
            "sample": s,
            "stress_share_of_days": round(cal.report["regimes"]["stress_share_of_days"], 4),
            "expected_calm_days": round(cal.report["regimes"]["expected_calm_days"], 2),
            "expected_stress_days": round(cal.report["regimes"]["expected_stress_days"], 2),
            "btc_jump_days": {k: v["jump_days"] for k, v in cal.report["jumps"].items()},
            "gold_months": {k: cal.report["gold"][k]["months"] for k in ("calm", "stress")},
        }, default=float)),
        "market": {"source": "stochastic", "stochastic": cal.market.model_dump(mode="json")},
    }
    return "\n".join(head) + "\n" + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)
