"""Stochastic market: two-regime (calm/stress) correlated BTC and gold with jumps, OU funding tied
to price moves, Vasicek T-bill yield, pool depth that follows the regime.

Random draws are made per run from `default_rng([seed, run])`, so run k's path does not depend on
how many runs are drawn or in which batch. The time recursion is then vectorised over runs.
"""
from __future__ import annotations

import numpy as np

from sim.config import StochasticMarket

HOURS_PER_YEAR = 8760.0


def draw_shocks(seed: int, runs: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """Standard shocks of shape (steps, R); one generator per (seed, run)."""
    names = ("u_regime", "z_btc", "z_xau", "n_btc_jump", "z_btc_jump", "n_xau_jump", "z_xau_jump",
             "z_fund_btc", "z_fund_xau", "z_tbill", "z_flow")
    out = {k: np.empty((steps, len(runs))) for k in names}
    for j, run in enumerate(runs):
        rng = np.random.default_rng([seed, int(run)])
        out["u_regime"][:, j] = rng.random(steps)
        for k in names[1:]:
            if k.startswith("n_"):
                out[k][:, j] = rng.random(steps)  # turned into jump counts once rates are known
            else:
                out[k][:, j] = rng.standard_normal(steps)
    return out


def _poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Jump counts 0, 1 or 2 by inverse CDF; per-step rates are far below 1, so 3+ is negligible."""
    p0 = np.exp(-lam)
    p1 = p0 * lam
    return np.where(u < p0, 0.0, np.where(u < p0 + p1, 1.0, 2.0))


def generate(m: StochasticMarket, seed: int, runs: np.ndarray, steps: int, step_hours: float,
             shocks: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Paths of shape (steps + 1, R); row 0 is the starting point."""
    s = shocks if shocks is not None else draw_shocks(seed, runs, steps)
    R = len(runs)
    dt_y = step_hours / HOURS_PER_YEAR
    dt_d = step_hours / 24.0

    def regime_param(name: str, stress: np.ndarray) -> np.ndarray:
        return np.where(stress > 0, getattr(m.stress, name), getattr(m.calm, name))

    out = {k: np.empty((steps + 1, R)) for k in
           ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth",
            "stress", "flow_noise")}
    stress = np.full(R, 1.0 if m.start_in_stress else 0.0)
    log_btc = np.full(R, np.log(m.btc_usd_start))
    log_xau = np.full(R, np.log(m.xau_usd_start))
    f_btc = regime_param("funding_mean_8h_btc", stress) * np.ones(R)
    f_xau = regime_param("funding_mean_8h_xau", stress) * np.ones(R)
    y = np.full(R, m.tbill_yield_start)
    depth = regime_param("pool_depth_factor", stress) * np.ones(R)

    def record(t):
        out["btc_usd"][t] = np.exp(log_btc)
        out["xau_usd"][t] = np.exp(log_xau)
        out["tbill_yield"][t] = y
        out["funding_rate_8h_btc"][t] = f_btc
        out["funding_rate_8h_xau"][t] = f_xau
        out["pool_depth"][t] = depth
        out["stress"][t] = stress

    record(0)
    out["flow_noise"][0] = 0.0
    p_up = min(1.0, m.p_calm_to_stress_per_hour * step_hours)
    p_down = min(1.0, m.p_stress_to_calm_per_hour * step_hours)
    for t in range(steps):
        u = s["u_regime"][t]
        stress = np.where(stress > 0, np.where(u < p_down, 0.0, 1.0), np.where(u < p_up, 1.0, 0.0))
        vb, vx = regime_param("btc_vol_annual", stress), regime_param("xau_vol_annual", stress)
        rho = regime_param("btc_xau_correlation", stress)
        zb = s["z_btc"][t]
        zx = rho * zb + np.sqrt(1 - rho**2) * s["z_xau"][t]
        nb = _poisson_from_uniform(s["n_btc_jump"][t], regime_param("btc_jump_rate_per_year", stress) * dt_y)
        nx = _poisson_from_uniform(s["n_xau_jump"][t], regime_param("xau_jump_rate_per_year", stress) * dt_y)
        jb = nb * regime_param("btc_jump_mean", stress) + np.sqrt(nb) * regime_param("btc_jump_std", stress) * s["z_btc_jump"][t]
        jx = nx * regime_param("xau_jump_mean", stress) + np.sqrt(nx) * regime_param("xau_jump_std", stress) * s["z_xau_jump"][t]
        rb = (regime_param("btc_drift_annual", stress) - 0.5 * vb**2) * dt_y + vb * np.sqrt(dt_y) * zb + jb
        rx = (regime_param("xau_drift_annual", stress) - 0.5 * vx**2) * dt_y + vx * np.sqrt(dt_y) * zx + jx
        log_btc = log_btc + rb
        log_xau = log_xau + rx

        fb, fx = m.funding_btc, m.funding_xau
        f_btc = f_btc + min(1.0, fb.mean_reversion_per_day * dt_d) * (regime_param("funding_mean_8h_btc", stress) - f_btc) \
            + fb.vol_8h_per_sqrt_day * np.sqrt(dt_d) * s["z_fund_btc"][t] + fb.price_beta_8h * rb
        f_btc = np.clip(f_btc, fb.floor_8h, fb.cap_8h)
        f_xau = f_xau + min(1.0, fx.mean_reversion_per_day * dt_d) * (regime_param("funding_mean_8h_xau", stress) - f_xau) \
            + fx.vol_8h_per_sqrt_day * np.sqrt(dt_d) * s["z_fund_xau"][t] + fx.price_beta_8h * rx
        f_xau = np.clip(f_xau, fx.floor_8h, fx.cap_8h)

        tb = m.tbill
        y = y + tb.mean_reversion_per_year * (tb.long_run_yield - y) * dt_y + tb.vol_per_sqrt_year * np.sqrt(dt_y) * s["z_tbill"][t]
        # LPs pull or return liquidity over about half a day.
        depth = depth + min(1.0, step_hours / 12.0) * (regime_param("pool_depth_factor", stress) - depth)
        record(t + 1)
        out["flow_noise"][t + 1] = s["z_flow"][t]
    return out
