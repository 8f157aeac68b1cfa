"""Stochastic market: two-regime (calm/stress) correlated BTC and gold with jumps, OU funding tied
to price moves, Vasicek T-bill yield, pool depth that follows the regime.

Random draws are made per run from `default_rng([seed, run])`, so run k's path does not depend on
how many runs are drawn or in which batch. The time recursion is then vectorised over runs.
"""
from __future__ import annotations

import numpy as np

from sim.arrays import transpose
from sim.config import StochasticMarket

HOURS_PER_YEAR = 8760.0


def draw_shocks(seed: int, runs: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """Standard shocks of shape (steps, R); one generator per (seed, run)."""
    names = ("u_regime", "z_btc", "z_xau", "n_btc_jump", "z_btc_jump", "n_xau_jump", "z_xau_jump",
             "z_fund_btc", "z_fund_xau", "z_tbill", "z_flow")
    # drawn run-major (each run's draws contiguous), then turned to (steps, R) in cache-sized blocks:
    # writing straight into columns of a (steps, R) array costs a cache miss per number
    by_run = np.empty((len(names), len(runs), steps))
    for j, run in enumerate(runs):
        rng = np.random.default_rng([seed, int(run)])
        for i, k in enumerate(names):
            if k == "u_regime" or k.startswith("n_"):
                by_run[i, j] = rng.random(steps)  # n_*: turned into jump counts once rates are known
            else:
                by_run[i, j] = rng.standard_normal(steps)
    return {k: transpose(by_run[i]) for i, k in enumerate(names)}


def _poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Jump counts 0, 1 or 2 by inverse CDF; per-step rates are far below 1, so 3+ is negligible."""
    p0 = np.exp(-lam)
    p1 = p0 * lam
    return np.where(u < p0, 0.0, np.where(u < p0 + p1, 1.0, 2.0))


def generate(m: StochasticMarket, seed: int, runs: np.ndarray, steps: int, step_hours: float,
             shocks: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Paths of shape (steps + 1, R); row 0 is the starting point.

    Only what feeds back on itself is a loop over time (the regime chain, funding clipped to its
    bounds, the T-bill yield, pool depth); everything else is one array operation over (steps, R).
    """
    s = shocks if shocks is not None else draw_shocks(seed, runs, steps)
    R = len(runs)
    dt_y = step_hours / HOURS_PER_YEAR
    dt_d = step_hours / 24.0

    def regime_param(name: str, stress: np.ndarray) -> np.ndarray:
        return np.where(stress > 0, getattr(m.stress, name), getattr(m.calm, name))

    out = {k: np.empty((steps + 1, R)) for k in
           ("btc_usd", "xau_usd", "tbill_yield", "funding_rate_8h_btc", "funding_rate_8h_xau", "pool_depth",
            "stress", "flow_noise")}

    # the calm/stress regime: a two-state Markov chain per run
    stress = out["stress"]
    stress[0] = 1.0 if m.start_in_stress else 0.0
    p_up = min(1.0, m.p_calm_to_stress_per_hour * step_hours)
    p_down = min(1.0, m.p_stress_to_calm_per_hour * step_hours)
    for t in range(steps):
        u = s["u_regime"][t]
        stress[t + 1] = np.where(stress[t] > 0, np.where(u < p_down, 0.0, 1.0), np.where(u < p_up, 1.0, 0.0))
    st = stress[1:]  # the regime each step's moves are drawn in

    # correlated log returns with jumps
    vb, vx = regime_param("btc_vol_annual", st), regime_param("xau_vol_annual", st)
    rho = regime_param("btc_xau_correlation", st)
    zb = s["z_btc"]
    zx = rho * zb + np.sqrt(1 - rho**2) * s["z_xau"]
    nb = _poisson_from_uniform(s["n_btc_jump"], regime_param("btc_jump_rate_per_year", st) * dt_y)
    nx = _poisson_from_uniform(s["n_xau_jump"], regime_param("xau_jump_rate_per_year", st) * dt_y)
    jb = nb * regime_param("btc_jump_mean", st) + np.sqrt(nb) * regime_param("btc_jump_std", st) * s["z_btc_jump"]
    jx = nx * regime_param("xau_jump_mean", st) + np.sqrt(nx) * regime_param("xau_jump_std", st) * s["z_xau_jump"]
    rb = (regime_param("btc_drift_annual", st) - 0.5 * vb**2) * dt_y + vb * np.sqrt(dt_y) * zb + jb
    rx = (regime_param("xau_drift_annual", st) - 0.5 * vx**2) * dt_y + vx * np.sqrt(dt_y) * zx + jx
    for key, start, r in (("btc_usd", m.btc_usd_start, rb), ("xau_usd", m.xau_usd_start, rx)):
        log_p = out[key]
        log_p[0] = np.log(start)
        log_p[1:] = r
        np.cumsum(log_p, axis=0, out=log_p)  # a running sum in step order: the same sums as a loop
        np.exp(log_p, out=log_p)

    # funding: mean-reverting to the regime's level, moved by price returns, clipped to its bounds
    for key, fp, mean_name, r in (("funding_rate_8h_btc", m.funding_btc, "funding_mean_8h_btc", rb),
                                  ("funding_rate_8h_xau", m.funding_xau, "funding_mean_8h_xau", rx)):
        f = out[key]
        f[0] = regime_param(mean_name, stress[0]) * np.ones(R)
        mean = regime_param(mean_name, st)
        k = min(1.0, fp.mean_reversion_per_day * dt_d)
        noise = fp.vol_8h_per_sqrt_day * np.sqrt(dt_d) * s[key.replace("funding_rate_8h", "z_fund")]
        beta_r = fp.price_beta_8h * r
        for t in range(steps):
            f[t + 1] = np.clip(f[t] + k * (mean[t] - f[t]) + noise[t] + beta_r[t], fp.floor_8h, fp.cap_8h)

    tb = m.tbill
    y = out["tbill_yield"]
    y[0] = m.tbill_yield_start
    noise = tb.vol_per_sqrt_year * np.sqrt(dt_y) * s["z_tbill"]
    for t in range(steps):
        y[t + 1] = y[t] + tb.mean_reversion_per_year * (tb.long_run_yield - y[t]) * dt_y + noise[t]

    # LPs pull or return liquidity over about half a day.
    depth = out["pool_depth"]
    depth[0] = regime_param("pool_depth_factor", stress[0]) * np.ones(R)
    target = regime_param("pool_depth_factor", st)
    k = min(1.0, step_hours / 12.0)
    for t in range(steps):
        depth[t + 1] = depth[t] + k * (target[t] - depth[t])

    out["flow_noise"][0] = 0.0
    out["flow_noise"][1:] = s["z_flow"]
    return out
